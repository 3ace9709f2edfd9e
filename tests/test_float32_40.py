"""--dtype float32 at float32's edges (session 40, benchmarks/float32_40_fuzz.py): derivatives and values that were
silently wrong where a square overflowed or underflowed float32 (x² past 1.8e19, below 1e-23), and the words jac
says where float32 cannot hold an input. Each answer is compared with the exact arithmetic (float64 or mpmath on
the same float32 inputs) and, where PyTorch computes it right, with PyTorch.
"""

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

import jacobi_cli
from jacobi_cli.cli.app import app
from jacobi_cli.errors import JacValueError
from jacobi_cli.tools import api
from jacobi_cli.tools.check import check

runner = CliRunner()
F32 = np.float32


def jac32(expr, **inputs):
    return {k: np.asarray(v) for k, v in jacobi_cli.jacobian(expr, {k: np.asarray(v, F32) for k, v in inputs.items()},
                                                             dtype="float32").items()}


def close32(ours, exact, ulps=8):
    """Within a few float32 ulps of the exact answer (relative), and float32."""
    ours, exact = np.asarray(ours), np.asarray(exact, np.float64)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours.astype(np.float64), exact, rtol=ulps * 2.0 ** -23, atol=0)


# --- atan2 and hypot: x² + y² under- and overflowed --------------------------------------------------------

@pytest.mark.parametrize("scale", [1e-38, 1e-30, 1e-20, 1.0, 1e20, 1e37, 6e37])
def test_atan2_derivative_is_exact_arithmetics_at_every_scale(scale):
    x = (np.array([3.0, -5.0, 0.5, 1.0]) * scale).astype(F32)
    y = (np.array([2.0, 4.0, -1.5, 1.0]) * scale).astype(F32)
    j = jac32("torch.atan2(y, x)", x=x, y=y)  # d/dy = x / (x² + y²), d/dx = -y / (x² + y²)
    xd, yd = x.astype(np.float64), y.astype(np.float64)
    close32(np.diagonal(j["y"]), xd / (xd ** 2 + yd ** 2))
    close32(np.diagonal(j["x"]), -yd / (xd ** 2 + yd ** 2))


def test_atan2_derivative_keeps_its_answers_at_zero_and_infinity():
    x = np.array([0.0, np.inf, 1.0, np.inf], F32)
    y = np.array([0.0, 1.0, np.inf, np.inf], F32)
    j = jac32("torch.atan2(y, x)", x=x, y=y)
    assert np.diagonal(j["y"])[0] == 0 and np.diagonal(j["x"])[0] == 0  # the origin: PyTorch's 0
    assert np.diagonal(j["y"])[2] == 0 and np.diagonal(j["x"])[1] == 0  # a finite over an infinite: 0


def test_hypot_derivative_where_hypot_overflows_float32():
    x, y = np.array([3e38, -2.5e38, 1.0], F32), np.array([2e38, 3e38, 1.0], F32)
    j = jac32("torch.hypot(x, y)", x=x, y=y)
    xd, yd = x.astype(np.float64), y.astype(np.float64)
    close32(np.diagonal(j["x"]), xd / np.hypot(xd, yd))  # of order 1: it was x / inf = 0
    close32(np.diagonal(j["y"]), yd / np.hypot(xd, yd))
    assert np.isinf(jacobi_cli.evaluate("torch.hypot(x, y)", {"x": x, "y": y}, dtype="float32")[:2]).all()


# --- norms: ‖x‖ overflowed, x² overflowed -------------------------------------------------------------------

@pytest.mark.parametrize("expr, p", [("torch.norm(x)", 2), ("torch.linalg.vector_norm(x)", 2),
                                     ("torch.linalg.vector_norm(x, 3)", 3), ("np.linalg.norm(x)", 2)])
def test_norm_derivative_where_the_norm_overflows_float32(expr, p):
    x = np.array([3e38, -2e38, 1e38, 5e37], F32)
    xd = x.astype(np.float64)
    exact = np.sign(xd) * (np.abs(xd) / np.sum(np.abs(xd) ** p) ** (1 / p)) ** (p - 1)
    close32(jac32(expr, x=x)["x"], exact)


def test_normalize_and_cosine_similarity_values_where_the_norm_overflows_float32():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x, y = np.array([3e38, -2e38, 1e38, 5e37], F32), np.array([1e38, 2e38, -1e38, 3e37], F32)
    X, Y = torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
    close32(jacobi_cli.evaluate("F.normalize(x, dim=0)", {"x": x}, dtype="float32"), F.normalize(X, dim=0).numpy())
    close32(jacobi_cli.evaluate("F.cosine_similarity(x, y, dim=0)", {"x": x, "y": y}, dtype="float32"),
            F.cosine_similarity(X, Y, dim=0).numpy())
    j = jac32("F.normalize(x, dim=0)", x=x)["x"]
    assert np.isfinite(j).all()
    np.testing.assert_allclose(j * 3e38, torch.func.jacrev(lambda v: F.normalize(v, dim=0))(X).numpy() * 3e38,
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("expr, torch_expr", [
    ("F.layer_norm(M, (4,))", None), ("F.rms_norm(M, (4,), eps=1e-6)", None),
    ("F.group_norm(M.reshape(1, 4, 2), 2)", None), ("F.instance_norm(M.reshape(1, 2, 4))", None),
    ("F.batch_norm(M.T, None, None, training=True)", None)])
@pytest.mark.parametrize("scale", [1.0, 1e20, 1e37])
def test_norm_layers_where_the_variance_overflows_float32(expr, torch_expr, scale):
    """(x - mean)² overflowed float32 past 1.8e19: the variance was inf and the output 0 (PyTorch's NaN); scaled,
    the output is the float64 answer to float32's precision, and its Jacobian too."""
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    M = (np.array([[1.0, 1.4, 0.2, -0.5], [0.3, -2.0, 1.0, 0.1]]) * scale).astype(F32)
    ref = torch.tensor(M, dtype=torch.float64)

    def f(m):
        return eval(expr, {"torch": torch, "F": F, "M": m})  # noqa: S307 - the test's own text

    value = jacobi_cli.evaluate(expr, {"M": M}, dtype="float32")
    assert value.dtype == F32
    np.testing.assert_allclose(value, f(ref).numpy(), rtol=1e-5, atol=1e-5)
    j = jac32(expr, M=M)["M"]
    exact = torch.func.jacrev(f)(ref).numpy()
    np.testing.assert_allclose(j * scale, exact * scale, rtol=1e-4, atol=1e-4 * np.abs(exact * scale).max())


def test_norm_layers_at_ordinary_values_are_the_unscaled_arithmetic():
    """The scale is exactly 1 below 2**50: every bit as the plain (x - mean) / sqrt(var + eps) gives."""
    M = np.array([[1.0, 1.4, 0.2, -0.5], [0.3, -2.0, 1.0, 0.1]], F32)
    plain = "d = M - M.mean(1, keepdim=True); d * torch.rsqrt((d * d).mean(1, keepdim=True) + 1e-5)"
    assert np.array_equal(jacobi_cli.evaluate("F.layer_norm(M, (4,))", {"M": M}, dtype="float32"),
                          jacobi_cli.evaluate(plain, {"M": M}, dtype="float32"))


# --- binary_cross_entropy_with_logits: the derivative by the target ----------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("x", [1e-6, -3e-7, 1e-37, 2.5, -40.0, 0.0])
def test_bce_with_logits_derivative_by_the_target_is_minus_x(dtype, x):
    """softplus(-x) - softplus(x), two numbers near log 2, lost every digit of x below 1e-7 in float32."""
    xs, t = np.array([x, 0.3], dtype), np.array([0.2, 0.7], dtype)
    g = jacobi_cli.jacobian("F.binary_cross_entropy_with_logits(x, t)", {"x": xs, "t": t}, dtype=dtype)["t"]
    assert g[0] == -xs[0] / 2  # exactly: the mean over 2


@pytest.mark.parametrize("pos_weight", [None, "torch.tensor([2.0, 0.5, 1.0, 3.0])"])
def test_bce_with_logits_matches_pytorch_on_both_sides_of_zero(pos_weight):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x, t = np.array([-3.0, -1e-4, 0.0, 4.0]), np.array([0.1, 0.9, 0.5, 0.3])
    kw = "" if pos_weight is None else f", pos_weight={pos_weight}"
    expr = f"F.binary_cross_entropy_with_logits(x, t{kw})"

    def f(a, b):
        return eval(expr, {"torch": torch, "F": F, "x": a, "t": b})  # noqa: S307 - the test's own text

    X, T = torch.tensor(x), torch.tensor(t)
    np.testing.assert_allclose(jacobi_cli.evaluate(expr, {"x": x, "t": t}), f(X, T).item(), rtol=1e-14)
    ours = jacobi_cli.jacobian(expr, {"x": x, "t": t})
    theirs = torch.func.jacrev(f, argnums=(0, 1))(X, T)
    for k, block in zip("xt", theirs):
        np.testing.assert_allclose(ours[k], block.numpy(), rtol=1e-13, atol=1e-15)
    h = jacobi_cli.hessian(expr, {"x": x, "t": t})
    H = torch.func.hessian(f, argnums=(0, 1))(X, T)
    for (i, a), (j, b) in [((0, "x"), (0, "x")), ((0, "x"), (1, "t")), ((1, "t"), (1, "t"))]:
        np.testing.assert_allclose(h[(a, b)], H[i][j].numpy(), rtol=1e-12, atol=1e-14)


# --- asinh, acosh, atanh --------------------------------------------------------------------------------------

@pytest.mark.parametrize("expr, xs, exact", [
    ("torch.asinh(x)", [0.5, -3.0, 1e20, -3e38, 1e-30], lambda v: 1 / (1 + v * v).sqrt()),
    ("torch.acosh(x)", [1.0001, 1.5, 1e20, 3e38], lambda v: 1 / (v * v - 1).sqrt()),
    ("torch.atanh(x)", [0.9999, -0.9999, 0.5, 1e-30], lambda v: 1 / (1 - v * v))])
def test_inverse_hyperbolic_derivatives_near_one_and_past_the_square_overflow(expr, xs, exact):
    from decimal import Decimal, getcontext

    getcontext().prec = 60
    x = np.array(xs, F32)
    close32(np.diagonal(jac32(expr, x=x)["x"]), [float(exact(Decimal(float(v)))) for v in x], ulps=4)


# --- the rules against central differences and their own other mode, at ordinary values (float64) -----------

@pytest.mark.parametrize("expr, bindings", [
    ("torch.atan2(y, x)", {"x": "[0.3, -1.2, 2.0]", "y": "[1.1, 0.4, -0.7]"}),
    ("torch.hypot(x, y)", {"x": "[0.3, -1.2, 2.0]", "y": "[1.1, 0.4, -0.7]"}),
    ("torch.norm(x) + torch.linalg.vector_norm(y, 3)", {"x": ":4", "y": ":3"}),
    ("F.normalize(X, dim=1).sum(0) @ F.cosine_similarity(X, X ** 2, dim=0)", {"X": ":3x3"}),
    ("(F.layer_norm(X, (3,)) ** 3).sum() + (F.rms_norm(X, (3,)) ** 2).sum()", {"X": ":2x3"}),
    ("F.binary_cross_entropy_with_logits(x, torch.sigmoid(y), pos_weight=torch.tensor([2.0, 1.0, 0.5]))",
     {"x": ":3", "y": ":3"}),
    ("torch.asinh(x).sum() + torch.acosh(2 + x * x).sum() + torch.atanh(x / 4).sum()", {"x": ":3"})])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_changed_rules_pass_jac_check(expr, bindings, dtype):
    for seed in range(2):
        for name, result in check(api.prepare(expr, bindings, dtype=dtype, seed=seed)).items():
            assert result.passed, (expr, dtype, seed, name, result.max_abs_error, result.max_rel_error)


@pytest.mark.parametrize("expr", ["torch.atan2(y, x)", "torch.hypot(x, y)", "torch.norm(x * y)",
                                  "F.normalize(x, dim=0) * y", "F.layer_norm(x * y, (4,))"])
def test_kernels_give_the_interpreters_bits_at_float32_edges(expr):
    """The third call of an expression runs its compiled kernel: the same bits as the first (the interpreter)."""
    bindings = {"x": np.array([3e38, -1e-38, 2e-39, 1.5], F32), "y": np.array([2e38, 3e-38, -1e-45, 0.0], F32)}
    first = [jacobi_cli.jacobian(expr, bindings, dtype="float32") for _ in range(3)]
    for later in first[1:]:
        for k in first[0]:
            assert np.asarray(later[k]).tobytes() == np.asarray(first[0][k]).tobytes(), k


# --- what jac says ------------------------------------------------------------------------------------------

def test_svd_of_a_matrix_past_float32_says_overflow_not_zero():
    with pytest.raises(JacValueError, match="singular value is inf"):
        jacobi_cli.jacobian("torch.linalg.svdvals(M)", {"M": np.array([[3e38, 2e38], [-2e38, 3e38]], F32)},
                            dtype="float32")


def test_an_input_past_float32_says_why_it_is_inf(tmp_path):
    path = tmp_path / "big.npy"
    np.save(path, np.array([0.5, 3.5e38]))
    for binding in (f"x=@{path}", "x=[0.5, 1e39]"):
        result = runner.invoke(app, ["eval", "--json", "--dtype", "float32", "x * 2", binding])
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert report["output"]["value"] == [1.0, "Infinity"]
        (warning,) = [w for w in report["warnings"] if w["op"] == "input"]
        assert "beyond ±3.4028235e+38" in warning["message"] and "held as inf" in warning["message"]
    result = runner.invoke(app, ["eval", "--json", "x * 2", "x=[0.5, inf]"])  # float64: no such words
    assert "held as inf" not in result.stdout and "holds inf" in result.stdout


@pytest.mark.parametrize("data, words", [
    (np.array([0.1, -1.7, 3.3e38]), None), (np.array([1, -2, 2 ** 24]), None), (np.array([0.1, 6e-8], np.float16), None),
    (np.array([1, 2, 3], np.int32), None), (np.array([1, 2 ** 24 + 1]), "float32 cannot hold exactly")])
def test_files_of_other_dtypes_under_float32(tmp_path, data, words):
    path = tmp_path / "a.npy"
    np.save(path, data)
    result = runner.invoke(app, ["eval", "--json", "--dtype", "float32", "x * 1", f"x=@{path}"])
    if words:
        assert result.exit_code == 2 and words in json.loads(result.stdout)["error"]["message"]
        return
    assert result.exit_code == 0, result.output
    printed = np.array(json.loads(result.stdout)["output"]["value"], np.float32)
    assert np.array_equal(printed, data.astype(F32))  # float32's nearest, printed in float32's digits


def test_out_files_are_float32(tmp_path):
    for suffix in ("npy", "npz"):
        out = tmp_path / f"j.{suffix}"
        result = runner.invoke(app, ["eval", "--dtype", "float32", "torch.atan2(y, x)", "x=[1e-38, 2.0]",
                                     "y=[3e-38, 1.0]", "--out", str(out)] + (["--wrt", "x"] if suffix == "npy" else []))
        assert result.exit_code == 0, result.output
        loaded = np.load(out)
        arrays = [loaded] if suffix == "npy" else [loaded[k] for k in loaded.files]
        assert all(a.dtype == F32 for a in arrays)
        assert math.isclose(float(arrays[0][0, 0]), -3e-38 / (1e-76 + 9e-76), rel_tol=1e-6)


def test_fuzz_cases_agree_with_pytorch_or_the_exact_answer():
    """A sample of benchmarks/float32_40_fuzz.py: no finite disagreement with PyTorch's float32 beyond the
    tolerance, no silent nonfinite."""
    pytest.importorskip("torch")
    import importlib.util
    import pathlib

    spec = importlib.util.spec_from_file_location(
        "float32_40_fuzz", pathlib.Path(__file__).parent.parent / "benchmarks" / "float32_40_fuzz.py")
    fuzz = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fuzz)
    picked = ("torch.atan2(x, y)", "torch.hypot(x, y)", "torch.norm(x)", "F.normalize(x, dim=0)",
              "F.layer_norm(M, (4,))", "F.binary_cross_entropy_with_logits(x, torch.sigmoid(y))", "torch.asinh(x)")
    for family, expr, spec_ in fuzz.CASES:
        if expr not in picked:
            continue
        for regime in fuzz.REGIMES:
            found = fuzz.run_case(expr, spec_, regime, 0)
            bad = [f for f in found if f[0] in ("value", "far-from-float64") or f[0].endswith("(silent)")]
            assert not bad, (expr, regime, bad)


@pytest.mark.parametrize("expr", ["F.normalize(x, dim=0)", "F.layer_norm(x, (3,))", "F.rms_norm(x, (3,), eps=1e-6)"])
def test_the_scaled_norms_keep_their_symbolic_derivatives(expr):
    """The scale (op square_scale) is 1 in SymPy: the formulas are those of the unscaled arithmetic, and agree
    with the numbers."""
    import sympy as sp

    d = jacobi_cli.diff(expr, {"x": ":3"})["x"].expr
    assert "Max(Abs" not in str(d) and "Piecewise" not in str(d)
    x = np.array([0.3, -1.2, 2.0])
    numeric = jacobi_cli.jacobian(expr, {"x": x})["x"]
    symbols = sorted(d.free_symbols, key=str)
    values = dict(zip(symbols, x))
    np.testing.assert_allclose(np.array(sp.Array(d).subs(values).tolist(), dtype=float), numeric, rtol=1e-12)
