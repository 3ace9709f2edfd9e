"""The Python API: the same semantics as the commands, NumPy arrays back."""

import doctest
import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

import jacobi_cli.tools.api
from jacobi_cli.tools.api import evaluate, hessian, jacobian, jvp, vjp
from jacobi_cli.cli.app import app
from jacobi_cli.errors import JacError, JacNameError, JacParseError, JacShapeError, JacValueError

runner = CliRunner()

# (expression, CLI bindings, the same bindings as a dict of arrays and binding strings)
PROBLEMS = [
    ("2 * torch.dot(x, y)", ["x=arange(4.0)", "y=[3, 1, 2, 5]"], {"x": np.arange(4.0), "y": "[3, 1, 2, 5]"}),
    ("A @ x", ["A=[[1, 2], [3, 4], [5, 6]]", "x=[1, -1]"], {"A": [[1, 2], [3, 4], [5, 6]], "x": np.array([1, -1])}),
    ("F = a * b; G = 2 * F; G.sum()", ["a=[10, 10]", "b=[20, 20]"], {"a": [10.0, 10.0], "b": "[20, 20]"}),
    ("softmax(X) * w", ["X:2x3", "w:3"], {"X": ":2x3", "w": ":3"}),  # seeded random, as the CLI draws it
    ("x * x + 3 * x + 1", ["x=2"], {"x": 2}),
]


def cli(*args):
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("expr, args, bindings", PROBLEMS)
def test_evaluate_and_jacobian_are_jac_eval(expr, args, bindings):
    out = cli("eval", expr, *args, "--seed", "3")
    assert np.allclose(evaluate(expr, bindings, seed=3), out["output"]["value"], rtol=0, atol=0)
    got = jacobian(expr, bindings, seed=3)
    assert list(got) == list(out["jacobian"])
    for name, block in out["jacobian"].items():
        assert got[name].shape == tuple(block["shape"]) and np.array_equal(got[name], block["value"])


def test_jacobian_numerator_layout_is_jac_eval_layout_numerator():
    out = cli("eval", "A @ x", "A:2x3", "x:3", "--layout", "numerator")
    got = jacobian("A @ x", {"A": ":2x3", "x": ":3"}, layout="numerator")
    assert got["A"].shape == (2, 3, 2) == tuple(out["jacobian"]["A"]["math_shape"])
    assert np.array_equal(got["A"], out["jacobian"]["A"]["value"])
    with pytest.raises(JacValueError):
        jacobian("x", {"x": 1}, layout="denominator")


@pytest.mark.parametrize("expr, args, bindings", PROBLEMS)
def test_vjp_is_jac_vjp(expr, args, bindings):
    out = cli("vjp", expr, *args, "--v", "ones", "--seed", "3")
    got = vjp(expr, bindings, v="ones", seed=3)
    assert list(got) == list(out["vjp"])
    for name, block in out["vjp"].items():
        assert np.array_equal(got[name], block["value"])


def test_vjp_like_backward():
    x, y = [1.0, 2.0, 3.0, 4.0], [3.0, 4.0, 5.0, 6.0]
    assert vjp("x * y", {"x": x, "y": y}, v=[2, 3, 4, 5])["x"].tolist() == [6, 12, 20, 30]
    assert vjp("(x * y).sum()", {"x": x, "y": y})["x"].tolist() == y  # a one-element output needs no v
    with pytest.raises(JacValueError, match=r"shape \(4,\).*scalar outputs"):
        vjp("x * y", {"x": x, "y": y})
    with pytest.raises(JacShapeError):
        vjp("x * y", {"x": x, "y": y}, v=[1, 2])
    assert list(vjp("3*x1*x1 + 9*x2", {"x1": 1, "x2": 2}, wrt=["x2"])) == ["x2"]


def test_jvp_is_jac_jvp():
    out = cli("jvp", "sin(x) * y", "x=[0, 1]", "y=[2, 3]", "--tangent", "x=[1, 0]", "--tangent", "y=ones")
    got = jvp("sin(x) * y", {"x": [0, 1], "y": [2, 3]}, {"x": [1, 0], "y": "ones"})
    assert np.array_equal(got, out["jvp"]["value"])
    with pytest.raises(JacNameError):
        jvp("x", {"x": 1}, {"z": 1})


def test_jvp_and_vjp_agree():
    bindings = {"A": ":3x4", "x": ":4"}
    u, t = np.array([1.0, -2.0, 0.5]), np.linspace(-1, 1, 4)
    lhs = u @ jvp("tanh(A @ x)", bindings, {"x": t})
    rhs = vjp("tanh(A @ x)", bindings, v=u)["x"] @ t
    assert np.isclose(lhs, rhs, rtol=1e-12)


def test_hessian_is_jac_hessian():
    args = ["x=[1, 2]", "A=[[1, 2], [3, 4]]"]
    out = cli("hessian", "x @ A @ x", *args)
    got = hessian("x @ A @ x", {"x": [1, 2], "A": [[1, 2], [3, 4]]})
    assert sorted(got) == sorted(tuple(k.split(",")) for k in out["hessian"])
    for key, block in out["hessian"].items():
        assert np.array_equal(got[tuple(key.split(","))], block["value"])
    assert got[("x", "x")].tolist() == [[2, 5], [5, 8]]
    # any output (issue 14): blocks y.shape + x.shape + x.shape, as jacfwd(jacrev(f))
    assert hessian("x * 2", {"x": [1, 2]})[("x", "x")].shape == (2, 2, 2)


def test_dtype_seed_and_binding_forms():
    assert evaluate("x", {"x": [1, 2]}, dtype="float32").dtype == np.float32
    assert jacobian("x * 2", {"x": [1, 2]}, dtype="float32")["x"].dtype == np.float32
    assert np.array_equal(evaluate("x", {"x": ":3"}, seed=5), evaluate("x", ["x:3"], seed=5))
    assert not np.array_equal(evaluate("x", {"x": ":3"}, seed=5), evaluate("x", {"x": ":3"}, seed=6))
    assert evaluate("x", {"x": "linspace(0, 1, 3)"}).tolist() == [0, 0.5, 1]


def test_errors_are_jac_errors_with_positions():
    with pytest.raises(JacParseError) as info:
        evaluate("x +* 2", {"x": 1})
    assert isinstance(info.value, JacError) and info.value.position is not None
    with pytest.raises(JacNameError, match=r"wrt=\['z'\]"):  # the API's words (h40-newcomer)
        jacobian("x", {"x": 1}, wrt=["z"])
    with pytest.raises(JacParseError, match="in the value of 'x'"):
        evaluate("x", {"x": "arange(4"})


@pytest.mark.parametrize("function", [evaluate, jacobian, vjp, jvp, hessian])
def test_docstring_examples(function):
    # diff's example is left to the symbolic tests: importing SymPy under doctest's captured stdout would
    # switch SymPy's pretty printer to ASCII for the rest of the session
    tests = doctest.DocTestFinder().find(function, globs=vars(jacobi_cli.tools.api))
    runner = doctest.DocTestRunner()
    for test in tests:
        runner.run(test)
    assert runner.summarize(verbose=False).attempted >= 1 and runner.failures == 0


def test_package_level_imports_in_a_fresh_interpreter():
    code = ("from jacobi_cli import evaluate, jacobian, vjp, jvp, hessian; "
            "print(jacobian('x**2', {'x': [2.0, 3.0]})['x'].tolist(), evaluate('x + 1', {'x': 1}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[[4.0, 0.0], [0.0, 6.0]] 2.0"


def test_a_binding_name_that_is_not_a_string_is_a_usage_error():
    """{"x": ..., 3: ...} raised a TypeError from the planner; a name is the input's name as a string."""
    with pytest.raises(JacError, match="binding's name") as err:
        jacobi_cli.jacobian("sum(x)", {"x": np.ones(3), 3: np.ones(2)})
    assert err.value.kind == "usage"
