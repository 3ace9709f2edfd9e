"""The worked examples of the seed documents, through the Python API and the CLI."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.tools import api
from jacobi_cli.cli.app import app

runner = CliRunner()


def jac_json(*args):
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_two_dot():
    out = jac_json("eval", "2 * torch.dot(x, y)", "x=arange(4.0)", "y=[3.0, 1.0, 2.0, 5.0]")
    assert out["output"]["value"] == 40.0
    assert out["jacobian"]["x"]["value"] == [6.0, 2.0, 4.0, 10.0]
    assert out["jacobian"]["y"]["value"] == [0.0, 2.0, 4.0, 6.0]
    assert out["jacobian"]["x"]["math_shape"] == [1, 4]


def test_sum_gives_ones():
    out = jac_json("eval", "y.sum()", "y=[1, 2, 3]")
    assert out["jacobian"]["y"]["value"] == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("v,expected", [("ones", [3, 4, 5, 6]), ("[1, 1, 1, 1]", [3, 4, 5, 6]),
                                        ("[2, 3, 4, 5]", [6, 12, 20, 30])])
def test_backward_with_gradient(v, expected):
    out = jac_json("vjp", "x * y", "x=[1, 2, 3, 4]", "y=[3, 4, 5, 6]", "--v", v)
    assert out["vjp"]["x"]["value"] == expected


def test_backward_of_sum_needs_no_v():
    out = jac_json("vjp", "(x * y).sum()", "x=[1, 2, 3, 4]", "y=[3, 4, 5, 6]")
    assert out["vjp"]["x"]["value"] == [3, 4, 5, 6]


def test_backward_of_vector_without_v_is_exit_2():
    result = runner.invoke(app, ["vjp", "x * y", "x=[1, 2, 3, 4]", "y=[3, 4, 5, 6]", "--json"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == "value"
    assert "(4,)" in error["message"] and "--v" in error["message"]
    assert "grad can be implicitly created only for scalar outputs" in error["message"]


def test_named_intermediate():
    out = jac_json("vjp", "F = a * b", "a=[10, 10]", "b=[20, 20]", "--v", "[1, 1]")
    assert out["vjp"]["a"]["value"] == [20, 20]
    assert out["vjp"]["b"]["value"] == [10, 10]


def test_chained_intermediates():
    out = jac_json("vjp", "F = a * b; G = 2 * F; G.sum()", "a=[10, 10]", "b=[20, 20]")
    assert out["vjp"]["a"]["value"] == [40, 40]
    assert out["output"]["value"] == 800


def test_square_is_diagonal():
    out = jac_json("eval", "y = x**2", "x=[2, 3]")
    assert out["jacobian"]["x"]["value"] == [[4, 0], [0, 6]]


def test_scalar_polynomial():
    out = jac_json("eval", "x*x + 3*x + 1", "x=2")
    assert out["output"]["value"] == 11
    assert out["jacobian"]["x"]["value"] == 7
    assert out["jacobian"]["x"]["shape"] == []
    assert out["jacobian"]["x"]["math_shape"] == [1]


def test_two_dot_x_x_is_4x():
    x = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(api.jacobian("2 * dot(x, x)", {"x": x})["x"], 4 * x)


def test_wrt_picks_inputs():
    out = jac_json("eval", "3*x1*x1 + 9*x2", "x1=1.5", "x2=2", "--wrt", "x2")
    assert list(out["jacobian"]) == ["x2"]
    assert out["jacobian"]["x2"]["value"] == 9
    assert out["inputs"]["x1"]["requires_grad"] is False
    assert out["inputs"]["x2"]["requires_grad"] is True


def test_mm():
    out = jac_json("vjp", "torch.mm(mat1, mat2)", "mat1=[[1, 2, 3]]", "mat2=[[1], [2], [3]]")
    assert out["output"]["value"] == [[14]]
    assert out["vjp"]["mat1"]["value"] == [[1, 2, 3]]
    assert out["vjp"]["mat2"]["value"] == [[1], [2], [3]]


def test_dot_with_w_is_x_transposed():
    out = jac_json("eval", "dot(x, w)", "x=[1, 2, 3]", "w=[4, 5, 6]", "--wrt", "w")
    assert out["jacobian"]["w"]["value"] == [1, 2, 3]
    assert out["jacobian"]["w"]["math_shape"] == [1, 3]
    num = jac_json("eval", "dot(x, w)", "x=[1, 2, 3]", "w=[4, 5, 6]", "--wrt", "w", "--layout", "numerator")
    assert num["jacobian"]["w"]["value"] == [[1, 2, 3]]


def test_matrix_vector_product_is_the_matrix():
    X = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    out = jac_json("eval", "X @ w", f"X={X}", "w=[1, 1]", "--wrt", "w")
    assert out["jacobian"]["w"]["value"] == X


def test_sum_over_matrix():
    out = jac_json("eval", "sum(X)", "X:3x2")
    assert out["jacobian"]["X"]["shape"] == [3, 2]
    assert out["jacobian"]["X"]["math_shape"] == [2, 3]
    assert out["jacobian"]["X"]["value"] == [[1, 1]] * 3


# All nine cells of the table: (expression, bindings, array shape, math_shape)
CELLS = [
    ("x * 2", ["x=1"], [], [1]),
    ("sum(x)", ["x:4"], [4], [1, 4]),
    ("sum(X)", ["X:3x2"], [3, 2], [2, 3]),
    ("x * v", ["x=2", "v:5"], [5], [5, 1]),
    ("A @ x", ["A:5x4", "x:4"], [5, 4], [5, 4]),
    ("X @ w", ["X:5x3", "w:3"], [5, 5, 3], [5, 3, 5]),
    ("x * M", ["x=2", "M:2x3"], [2, 3], [2, 3]),
    ("outer(a, x)", ["a:2", "x:3"], [2, 3, 3], [2, 3, 3]),
    ("X @ B", ["X:2x3", "B:3x4"], [2, 4, 2, 3], [2, 4, 3, 2]),
]


@pytest.mark.parametrize("expr,bindings,shape,math", CELLS)
def test_every_cell_of_the_shape_table(expr, bindings, shape, math):
    name = {"x * 2": "x", "sum(x)": "x", "sum(X)": "X", "x * v": "x", "A @ x": "x", "X @ w": "X",
            "x * M": "x", "outer(a, x)": "x", "X @ B": "X"}[expr]
    out = jac_json("eval", expr, *bindings, "--wrt", name)
    block = out["jacobian"][name]
    assert block["shape"] == shape
    assert block["math_shape"] == math
    assert np.shape(block["value"]) == tuple(shape)
    numerator = jac_json("eval", expr, *bindings, "--wrt", name, "--layout", "numerator")["jacobian"][name]
    assert np.shape(numerator["value"]) == tuple(math)
    shapes = jac_json("shape", expr, *[b.replace("=2", ":()").replace("=1", ":()") for b in bindings],
                      "--wrt", name)
    assert shapes["derivatives"][name]["shape"] == shape
    assert shapes["derivatives"][name]["math_shape"] == math


def test_numerator_layout_swaps_the_matrix_axes():
    rng = np.random.default_rng(0)
    X, B = rng.normal(size=(2, 3)), rng.normal(size=(3, 4))
    problem = api.prepare("X @ B", {"X": X, "B": B})
    J = api.jacobians(problem)["X"]
    array, numerator = J.to_array("array"), J.to_array("numerator")
    for i, j, k, l in np.ndindex(*array.shape):  # J[i, j, l, k] = ∂Y[i, j] / ∂X[k, l]
        assert numerator[i, j, l, k] == array[i, j, k, l]
