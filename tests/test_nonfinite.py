"""NaN and infinities: a warning naming the op and column that first made them; --strict makes it exit 2."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.errors import JacValueError
from jacobi_cli.tools import api

from jacobi_cli.engine import finite
from jacobi_cli.cli.app import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args))


# (command arguments, the warning's "in", op, position, words of the message)
CASES = [
    (["eval", "2 * log(x)", "x=[1, -1]"], "value", "log", 4, ["log(-1) = NaN"]),
    (["eval", "exp(x) + 1", "x=1000"], "value", "exp", 0, ["exp(1000) = inf"]),
    (["eval", "x / y", "x=1", "y=0"], "value", "div", 2, ["div(1, 0) = inf"]),
    (["eval", "sum(x)", "x=[1e308, 1e308]"], "value", "sum", 0, ["overflow"]),
    (["eval", "A @ x", "A=[[1e308, 1e308]]", "x=[10, 10]"], "value", "matmul", 2, ["overflow"]),
    (["eval", "x * 2", "x=[1, inf]"], "value", "input", None, ["input 'x' holds inf"]),
    (["eval", "x + 1e308 * 10", "x=1"], "value", "const", 10, ["constant", "inf"]),  # (10**400: refused as Python)
    (["eval", "x**y", "x=-8", "y=0.5"], "value", "pow", 1, ["pow(-8, 0.5) = NaN"]),
    (["eval", "sqrt(x)", "x=[0, 1]"], "∂y/∂x", "sqrt", 0, ["derivative of sqrt", "inf", "sqrt(0)"]),
    (["eval", "3 * arcsin(x)", "x=1"], "∂y/∂x", "arcsin", 4, ["derivative of arcsin", "arcsin(1)"]),
    (["eval", "exp(-exp(x))", "x=1000"], "∂y/∂x", "exp", 5, ["derivative of exp"]),  # the value is 0
    # 0 * inf in the reverse pass, where the 0 is a value (y[0]); sqrt(x)[1] has a structural 0 there: exact
    (["eval", "sum(sqrt(x) * y)", "x=[0, 1]", "y=[0, 1]", "--wrt", "x"], "∂z/∂x", "sqrt", 4, ["sqrt(0)"]),
    (["vjp", "sum(sqrt(x))", "x=[4, 0]"], "x.grad", "sqrt", 4, ["derivative of sqrt"]),
    (["jvp", "x**0.5", "x=0", "--tangent", "x=1"], "jvp", "pow", 1, ["derivative of pow", "pow(0, 0.5)"]),
    (["hessian", "sqrt(x)", "x=0"], "∂y/∂x", "sqrt", 0, ["derivative of sqrt"]),
    (["hessian", "x**1.5", "x=0"], "∂²y/∂x∂x", "pow", None, ["derivative of pow"]),  # value, gradient finite
]


@pytest.mark.parametrize("args, where, op, position, words", CASES, ids=[" ".join(c[0][:2]) for c in CASES])
def test_warning_names_the_op_and_column_and_exit_is_0(args, where, op, position, words):
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    first = report["warnings"][0]
    assert (first["kind"], first["in"], first["op"], first["position"]) == ("nonfinite", where, op, position)
    for word in words:
        assert word in first["message"]
    assert "jac: warning (nonfinite): " + first["message"] in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("args, where, op, position, words", CASES, ids=[" ".join(c[0][:2]) for c in CASES])
def test_strict_makes_it_exit_2_with_the_json_error(args, where, op, position, words):
    result = invoke(*args, "--json", "--strict")
    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == "value" and error["position"] == position
    assert words[0] in error["message"] and "--strict" in error["message"]
    assert "jac: error (value)" in result.stderr


def test_human_output_has_the_warning_and_a_caret_on_stderr():
    result = invoke("eval", "2 * log(x)", "x=[1, -1]")
    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    at = lines.index("jac: warning (nonfinite): log at column 4 made NaN: log(-1) = NaN")
    assert lines[at + 1:at + 3] == ["  2 * log(x)", "      ^"]
    assert "nan" in result.stdout  # the value is still printed


def test_nan_and_infinities_are_written_as_the_contract_strings():
    report = json.loads(invoke("eval", "log(x)", "x=[-1, 0, 1]", "--json").stdout)
    assert report["output"]["value"] == ["NaN", "-Infinity", 0.0]
    # log'(x) = 1/x: an element-wise Jacobian is diagonal, so its off-diagonal zeros are exact (a dense
    # reverse pass, as PyTorch's, would multiply 0 * (1/0) there and write NaN)
    assert report["jacobian"]["x"]["value"] == [[-1.0, 0.0, 0.0], [0.0, "Infinity", 0.0], [0.0, 0.0, 1.0]]


def test_finite_results_have_no_warnings_key():
    for args in (["eval", "x * 2", "x=[1, 2]"], ["vjp", "sum(x)", "x=[1, 2]"], ["hessian", "x @ x", "x=[1, 2]"],
                 ["jvp", "x", "x=1", "--tangent", "x=1"]):
        result = invoke(*args, "--json", "--strict")
        assert result.exit_code == 0, result.output
        assert "warnings" not in json.loads(result.stdout)
        assert result.stderr == ""


def test_a_nan_that_does_not_reach_the_output_is_not_reported():
    # F is NaN, but the output does not use it; sigmoid(inf) = 1 is a finite value from an infinite input.
    result = invoke("eval", "F = log(x); sigmoid(x * 1e308 * 10)", "x=-1", "--json", "--strict")
    assert result.exit_code == 0, result.output


def test_library_returns_the_diagnostics():
    problem = api.prepare("y = 1 / (x - 1); y * 2", {"x": [1.0, 2.0]})
    (warning,) = finite.value_warnings(problem.graph, problem.values)
    assert (warning.op, warning.position, warning.where) == ("div", 6, "value")
    assert warning.message == "div at column 6 made inf: div(1, 0) = inf"
    assert finite.value_warnings(api.prepare("x", {"x": [1.0]}).graph, [np.ones(1)]) == []


# --- a decomposition of a matrix holding inf or NaN: the derivative is NaN where the value is -----

INF_MATRICES = [[[np.inf, 0.0], [0.0, 1.0]], [[1.0, np.inf], [np.inf, 2.0]], [[np.nan, 0.0], [0.0, 1.0]]]


@pytest.mark.parametrize("A", INF_MATRICES)
@pytest.mark.parametrize("fn", ["eigvalsh", "svdvals"])
def test_a_nan_eigenvalue_has_a_nan_derivative_in_every_command(A, fn):
    """LAPACK gives NaN eigenvalues but the identity as eigenvectors for a matrix holding inf;
    the rules read the eigenvectors, so the Jacobian was finite (only a warning). PyTorch's is
    NaN: so is jac's, in eval, vjp, jvp, hessian and the API."""
    import jacobi_cli

    expr, env = f"{fn}(A)", {"A": A}
    if fn == "svdvals" and np.isnan(A[0][0]):  # LAPACK's SVD refuses NaN outright: a value error
        with pytest.raises(JacValueError, match="linear algebra failed"):
            jacobi_cli.jacobian(expr, env)
        return
    assert np.all(np.isnan(jacobi_cli.evaluate(expr, env)))
    assert np.all(np.isnan(jacobi_cli.jacobian(expr, env)["A"]))
    assert np.all(np.isnan(jacobi_cli.vjp(expr, env, v="ones")["A"]))
    assert np.all(np.isnan(jacobi_cli.jvp(expr, env, {"A": np.ones((2, 2))})))
    assert np.all(np.isnan(jacobi_cli.hessian(expr, env)[("A", "A")]))
    binding = "A=" + str(A).replace("inf", "inf").replace("nan", "nan")
    for args in (["eval", expr, binding], ["vjp", expr, binding, "--v", "ones"],
                 ["jvp", expr, binding, "--tangent", "A=ones"]):
        result = runner.invoke(app, [args[0], "--json", *args[1:]])
        assert result.exit_code == 0, result.output
        out = json.loads(result.stdout)
        block = out.get("jacobian", {}).get("A") or out.get("vjp", {}).get("A") or out.get("jvp")
        assert set(np.ravel(block["value"]).tolist()) == {"NaN"}, (args, block["value"])


def test_the_nan_derivative_of_eigvalsh_against_pytorch():
    """PyTorch: NaN values and a NaN Jacobian for inf off the diagonal, as jac; for inf on the
    diagonal its Jacobian is the identity matrix's (1s), a derivative of no matrix near A:
    jac says NaN there, consistently (docs/robustness.md)."""
    torch = pytest.importorskip("torch")
    import jacobi_cli

    for A, torch_nan in ((INF_MATRICES[1], True), (INF_MATRICES[0], False)):
        a = torch.tensor(A, dtype=torch.float64)
        assert torch.isnan(torch.linalg.eigvalsh(a)).all()
        expected = torch.autograd.functional.jacobian(torch.linalg.eigvalsh, a).numpy()
        got = jacobi_cli.jacobian("torch.linalg.eigvalsh(A)", {"A": A})["A"]
        assert np.isnan(expected).all() == torch_nan
        assert np.isnan(got).all()


def test_one_bad_matrix_in_a_batch_leaves_the_others_alone():
    import jacobi_cli

    B = np.array([[[np.inf, 0.0], [0.0, 1.0]], [[2.0, 0.5], [0.5, 1.0]]])
    J = jacobi_cli.jacobian("eigvalsh(B)", {"B": B})["B"]
    assert np.all(np.isnan(J[0, :, 0])) and np.all(np.isfinite(J[1, :, 1]))
    np.testing.assert_allclose(J[1, :, 1], jacobi_cli.jacobian("eigvalsh(B)", {"B": B[1]})["B"])


@pytest.mark.parametrize("args, op, words", [
    (["derivative", "sqrt(x)", "x=0", "--order", "2"], "sqrt", ["∂²y/∂x²", "derivative of sqrt"]),
    (["derivative", "x**1.5", "x=0", "--order", "2"], "", ["∂²y/∂x²", "inf"]),  # the first derivative is 0
    (["derivative", "sqrt(x)", "x=[1, 0]", "--order", "1"], "sqrt", ["∂y/∂x", "derivative of sqrt"]),
    (["derivative", "sqrt(x)", "x=[1, 0]", "--batch", "x", "--order", "3"], "sqrt", ["example 1", "∂³y/∂x³"]),
])
def test_a_non_finite_derivative_of_any_order_warns_and_strict_refuses_it(args, op, words):
    # jac derivative warned only about the value: -inf in the derivative passed --strict with exit 0
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout)["warnings"][0]
    assert first["kind"] == "nonfinite" and first["op"] == op
    for word in words:
        assert word in first["message"], first
    strict = invoke(*args, "--json", "--strict")
    assert strict.exit_code == 2 and "--strict" in json.loads(strict.stdout)["error"]["message"]


@pytest.mark.parametrize("args, op", [
    (["vjp", "sqrt(x)", "x=[[1, 0], [1, 1]]", "--batch", "x", "--v", "ones"], "sqrt"),
    (["vjp", "a = sqrt(x); a, x * 2", "x=[1, 0]", "--v", "ones"], "sqrt"),
    (["jvp", "sqrt(x)", "x=[[1, 0], [1, 1]]", "--batch", "x", "--tangent", "x=ones"], "sqrt"),
    (["jvp", "a = sqrt(x); a, x * 2", "x=[1, 0]", "--tangent", "x=ones"], "sqrt"),
    (["hessian", "sqrt(x)", "x=[[1, 0], [1, 1]]", "--batch", "x"], "sqrt"),
    (["hessian", "a = sqrt(x); a, x * 2", "x=[1, 0]"], "sqrt"),
    (["hessian", "a = x**1.5; a, x * 2", "x=[1, 0]"], ""),  # the first derivative is finite
])
def test_several_outputs_and_batches_warn_about_derivatives_too(args, op):
    # with several outputs or --batch only the values were scanned: x.grad = inf passed --strict
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout)["warnings"][0]
    assert first["in"] != "value" and first["op"] == op, first
    assert invoke(*args, "--json", "--strict").exit_code == 2


@pytest.mark.parametrize("args", [["x*2", "x=1", "y=3"], ["a = x*2; b = x + 1; a, b", "x=1", "y=3"],
                                  ["x*2", "x=[1, 2]", "y=[3, 4]", "--batch", "x", "--batch", "y"],
                                  ["sin(x)", "sin=1", "x=2"]])
def test_eval_warns_of_an_input_the_expression_never_reads(args):
    """An input no output depends on (a leftover binding, a misspelt name; ``sin=1`` beside the function
    ``sin(x)``) gets a zero Jacobian and a warning of kind ``unused`` naming it, on stderr and in JSON."""
    unused = "sin" if "sin=1" in args else "y"
    result = invoke("eval", *args)
    assert result.exit_code == 0
    assert f"jac: warning (unused): the input '{unused}' is not used by the expression" in result.stderr
    report = json.loads(invoke("eval", *args, "--json").stdout)
    assert [w for w in report["warnings"] if w["kind"] == "unused"] == [
        {"kind": "unused", "in": unused, "op": "input", "position": None,
         "message": f"the input '{unused}' is not used by the expression: its derivatives are zero"}]
    assert "warnings" not in json.loads(invoke("eval", "x*2 + y", "x=1", "y=3", "--json").stdout)


def test_an_unused_input_outside_wrt_is_not_said_to_have_derivatives():
    """With --wrt x, the unused y is not differentiated at all: the warning says so, not "its derivatives are
    zero"."""
    result = invoke("eval", "x*2", "x=1", "y=3", "--wrt", "x")
    assert result.exit_code == 0
    assert "the input 'y' is not used by the expression (nor in --wrt: no derivatives are taken)" in result.stderr
    assert "derivatives are zero" not in result.stderr
