"""The language side of issue 13's element-wise part: comparisons and booleans, masks, values
as PyTorch and NumPy users write them, library readings, and the words for unknown names."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.errors import JacError, JacNameError, JacParseError, JacValueError
from jacobi_cli.lang import functions
from jacobi_cli.lang.parser import NeedsValues, parse
from jacobi_cli.tools import api

runner = CliRunner()
X = {"x": np.array([0.5, -1.0, 2.0])}


def error_of(expr, bindings=None):
    with pytest.raises(JacError) as info:
        api.evaluate(expr, bindings or X)
    return info.value


# --- unknown names ------------------------------------------------------------------------------

@pytest.mark.parametrize("expr, shown", [("np.nditer(x)", "'np.nditer'"),
                                         ("np.memmap(x)", "'np.memmap'"), ("hash_tensor(x)", "'hash_tensor'"), ("bucketize(x)", "'bucketize'")])
def test_a_name_of_pytorch_or_numpy_is_not_supported_without_a_misleading_hint(expr, shown):
    err = error_of(expr)
    assert isinstance(err, JacNameError)
    assert f"{shown} is not supported by jac" in err.message and "did you mean" not in err.message


@pytest.mark.parametrize("expr, shown", [("x.requires_grad_()", "'.requires_grad_()'"), ("x.grad", "'.grad'"),
                                         ("def f(x):\n    x.backward()\n    return x\nf(x)", "'.backward()'"),
                                         ("x.retain_grad()", "'.retain_grad()'")])
def test_what_an_autodiff_library_asks_for_is_not_needed(expr, shown):
    err = error_of(expr)
    assert isinstance(err, JacNameError)
    assert f"{shown} is not needed: jac differentiates the expression itself" in err.message
    assert "did you mean" not in err.message


@pytest.mark.parametrize("expr, hint", [("sofmax(x)", "softmax"), ("torch.sigmod(x)", "torch.sigmoid"),
                                        ("x.tanhh()", ".tanh()"), ("lgama(x)", "lgamma")])
def test_a_typo_gets_the_close_name(expr, hint):
    assert f"did you mean '{hint}'?" in error_of(expr).message


def test_no_hint_when_nothing_is_a_letter_or_two_away():
    assert "did you mean" not in error_of("zzfoo(x)").message


def test_the_named_library_decides_and_a_bare_ambiguous_name_is_refused_with_both_readings(monkeypatch):
    monkeypatch.setitem(functions.LIBRARY_FUNCTIONS, ("torch", "both"), functions.FUNCTIONS["sin"])
    monkeypatch.setitem(functions.LIBRARY_FUNCTIONS, ("numpy", "both"), functions.FUNCTIONS["cos"])
    monkeypatch.setitem(functions.READINGS, ("torch", "both"), "the sine")
    monkeypatch.setitem(functions.READINGS, ("numpy", "both"), "the cosine")
    assert parse("torch.both(x)", {"x": ()}).nodes[-1].op == "sin"
    assert parse("F.both(x)", {"x": ()}).nodes[-1].op == "sin"
    assert parse("np.both(x)", {"x": ()}).nodes[-1].op == "cos"
    for expr in ("both(x)", "x.both()"):
        with pytest.raises(JacNameError) as info:
            parse(expr, {"x": ()})
        assert "torch.both: the sine; np.both: the cosine" in info.value.message


def test_jax_gelu_is_the_tanh_approximation_as_in_jax():
    x = np.array([1.0])
    assert api.evaluate("jax.nn.gelu(x)", {"x": x}) == pytest.approx(api.evaluate("F.gelu(x, approximate='tanh')",
                                                                                  {"x": x}), rel=1e-15)
    assert api.evaluate("F.gelu(x)", {"x": x})[0] == pytest.approx(0.8413447460685429, rel=1e-15)


# --- comparisons and booleans ---------------------------------------------------------------------

def test_comparisons_are_masks_with_no_derivative():
    for expr, want in [("x > 0", [1, 0, 1]), ("x <= 0.5", [1, 1, 0]), ("x == 2", [0, 0, 1]), ("x != 2", [1, 1, 0]),
                       ("(x > 0) & (x < 1)", [1, 0, 0]), ("(x > 1) | (x < 0)", [0, 1, 1]), ("~(x > 0)", [0, 1, 0]),
                       ("(x > 0) ^ (x > 1)", [1, 0, 0]), ("torch.logical_xor(x, x > 1)", [1, 1, 0])]:
        np.testing.assert_array_equal(api.evaluate(expr, X), want, err_msg=expr)
        np.testing.assert_array_equal(api.jacobian(expr, X)["x"], np.zeros((3, 3)), err_msg=expr)


@pytest.mark.parametrize("expr, words", [("~x", "logical not of a boolean"), ("x & (x > 0)", "logical operator"),
                                         ("(x > 0) and (x < 1)", "'and'/'or'"), ("not x", "'not'"),
                                         ("0 < x < 1", "chained"), ("x is x", "'is'"),
                                         ("where(x > 0)", "tuple of 1 array: pick one by index"),  # NumPy's nonzero tuple
                                         ("x.masked_fill(x, 0.0)", "must be a boolean")])
def test_what_is_refused_says_why(expr, words):
    assert words in error_of(expr).message


def test_where_takes_any_truth_value_as_numpy():
    np.testing.assert_array_equal(api.evaluate("np.where(x - 0.5, 1.0, 2.0)", X), [2.0, 1.0, 1.0])


# --- boolean-mask indexing ------------------------------------------------------------------------

def test_mask_indexing_selects_for_the_values_of_each_call():
    expr = "sum(x[x > 0] ** 2)"
    for values in ([0.5, -1.0, 2.0], [-1.0, 3.0, 4.0], [0.5, -1.0, 2.0], [-1.0, 3.0, 4.0], [-1.0, -2.0, 5.0]):
        x = np.array(values)
        assert api.evaluate(expr, {"x": x}) == pytest.approx(np.sum(x[x > 0] ** 2))
        np.testing.assert_allclose(api.vjp(expr, {"x": x})["x"], 2 * x * (x > 0))
        np.testing.assert_allclose(api.jacobian("x[x > 0]", {"x": x})["x"], np.eye(3)[x > 0])


def test_a_mask_from_the_inputs_needs_values_so_jac_shape_refuses_it():
    with pytest.raises(NeedsValues):
        parse("x[x > 0]", {"x": (3,)})
    result = runner.invoke(app, ["shape", "--json", "x[x > 0]", "x:3"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == "value" and "depends on their values" in error["message"]


def test_a_constant_mask_and_a_mask_of_a_matrix():
    assert api.evaluate("x[[True, False, True]]", X).tolist() == [0.5, 2.0]
    A = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(api.evaluate("A[A > 2]", {"A": A}), [3.0, 4.0, 5.0])
    np.testing.assert_array_equal(api.evaluate("A[A[:, 0] > 0]", {"A": A}), [[3.0, 4.0, 5.0]])
    assert "does not match" in error_of("x[[True, False]]").message


# --- values as PyTorch and NumPy users write them -------------------------------------------------

def test_constructors_take_dtype_device_and_refuse_what_jac_cannot_honour():
    assert api.evaluate("torch.tensor([1.7, -1.7], dtype=torch.int64)").tolist() == [1.0, -1.0]
    assert api.evaluate("np.arange(3, dtype=float) + torch.eye(3, dtype=torch.float32)[0]").tolist() == [1, 1, 2]
    assert api.evaluate("torch.ones(2, device='cpu', dtype=torch.bool) * 3").tolist() == [3.0, 3.0]
    assert api.evaluate("np.array([1.5, -2.5], dtype='int32') + np.zeros(2, 'float32')").tolist() == [1.0, -2.0]
    assert api.evaluate("x", {"x": "torch.tensor([[1, 2], [3, 4]], dtype=torch.float64)"}).shape == (2, 2)
    for expr, words in [("torch.zeros(2, device='cuda')", "CPU"), ("torch.tensor([1.0], dtype=torch.complex64)",
                                                                    "complex"),
                        ("torch.tensor([1.0], requires_grad=True)", "requires_grad")]:
        assert words in error_of(expr).message


def test_tensor_of_an_expression_is_detached_and_as_tensor_is_not():
    np.testing.assert_array_equal(api.jacobian("torch.tensor(x) * 2", X)["x"], np.zeros((3, 3)))
    np.testing.assert_array_equal(api.jacobian("torch.as_tensor(x) * 2", X)["x"], 2 * np.eye(3))
    np.testing.assert_array_equal(api.jacobian("np.array(x) * 2", X)["x"], 2 * np.eye(3))


def test_like_constructors_detach_clone_float_and_item():
    np.testing.assert_array_equal(api.evaluate("torch.full_like(x, 7) + torch.zeros_like(x)", X), [7.0] * 3)
    np.testing.assert_array_equal(api.jacobian("x.clone().double().float() * x.detach()", X)["x"], np.diag(X["x"]))
    np.testing.assert_array_equal(api.jacobian("x * x[2].item()", X)["x"], 2 * np.eye(3))
    assert "one element" in error_of("x.item()").message


def test_special_functions_keep_float32():
    x = np.array([0.5, 1.5], dtype=np.float32)
    for expr in ("lgamma(x)", "digamma(x)", "torch.polygamma(2, x)", "erf(x) + erfc(x)", "F.gelu(x)"):
        assert api.evaluate(expr, {"x": x}, dtype="float32").dtype == np.float32, expr
        assert api.jacobian(expr, {"x": x}, dtype="float32")["x"].dtype == np.float32, expr


def test_rounding_follows_numpy_and_pytorch_half_to_even():
    np.testing.assert_array_equal(api.evaluate("round(x)", {"x": np.array([0.5, 1.5, 2.5, -0.5])}), [0, 2, 2, -0.0])
    np.testing.assert_array_equal(api.evaluate("torch.round(x, decimals=1)", {"x": np.array([0.25, 1.37])}),
                                  [0.2, 1.4])
    np.testing.assert_array_equal(api.evaluate("x % 2 + x // 2", {"x": np.array([-3.0, 3.0])}), [-1.0, 2.0])
    np.testing.assert_array_equal(api.evaluate("torch.fmod(x, 2)", {"x": np.array([-3.0, 3.0])}), [-1.0, 1.0])


def test_numpy_newaxis_indexes_as_none():
    np.testing.assert_array_equal(api.evaluate("x[:, np.newaxis] * x", {"x": np.array([1.0, 2.0])}),
                                  [[1.0, 2.0], [2.0, 4.0]])


def test_scipy_is_imported_only_by_the_ops_that_need_it():
    import subprocess
    import sys

    code = ("import sys, contextlib, io\n"
            "from jacobi_cli.cli.entry import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    assert main(['eval', 'F.gelu(x, approximate=\"tanh\") + (x > 0) * sinc(x)', 'x=[0, 1]']) == 0\n"
            "assert 'scipy' not in sys.modules, 'jac eval imported scipy'\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    assert main(['eval', 'lgamma(x)', 'x=[1, 2]']) == 0\n"
            "assert 'scipy.special' in sys.modules\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_equal_is_read_as_the_library_named_says():
    y = np.array([0.5, -1.0, 3.0])
    np.testing.assert_array_equal(api.evaluate("np.equal(x, y)", {**X, "y": y}), [1.0, 1.0, 0.0])
    assert api.evaluate("torch.equal(x, y)", {**X, "y": y}) == 0.0
    assert api.evaluate("x.equal(x) + torch.equal(x, x[:2])", X) == 1.0
    message = error_of("equal(x, y)", {**X, "y": y}).message
    assert "torch.equal: one boolean" in message and "np.equal: element-wise" in message


def test_math_remainder_is_not_numpys_and_inplace_is_accepted():
    assert "IEEE" in error_of("math.remainder(x, 2)").message
    np.testing.assert_array_equal(api.evaluate("F.relu(x * 1, inplace=True) + F.elu(x, inplace=False)", X),
                                  [1.0, np.expm1(-1.0), 4.0])


def test_sign_of_nan_follows_the_library_named():
    x = {"x": np.array([np.nan, -2.0, 0.0])}
    np.testing.assert_array_equal(api.evaluate("torch.sign(x) + torch.sgn(x)", x), [0.0, -2.0, 0.0])
    np.testing.assert_array_equal(api.evaluate("np.sign(x)", x), [np.nan, -1.0, 0.0])


def test_a_mask_from_the_inputs_refuses_batches():
    """Each example's mask selects its own elements: --batch would reuse example 0's selection."""
    result = runner.invoke(app, ["eval", "--json", "--batch", "x", "sum(x[x > 0])", "x=[[1, -1], [2, 3]]"])
    assert result.exit_code == 2
    assert "cannot take --batch" in json.loads(result.stdout)["error"]["message"]
