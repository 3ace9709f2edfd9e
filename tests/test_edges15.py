"""Numerics at the edges (edge15), against PyTorch 2.13: the backward of the ops PyTorch writes as masks
(relu, clamp, hardtanh, maximum, ...) with cotangents holding inf and NaN, logdet at a negative determinant,
slogdet's sign of a matrix holding NaN, and values and derivatives at extreme finite magnitudes (norms of
1e±200 vectors, I1' at subnormals, log_ndtr' far left, a variance that overflows). The sweep over every
element-wise function and reduction at ±1e-300 ... ±1e300 is ``benchmarks/edges15_sweep.py`` (cases in
``tests/edges15.py``); the kernels' bits are checked as ``tests/test_kernels.py`` does."""

from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.engine import kernels, planner
from jacobi_cli.tools import api
from parity import central

torch = pytest.importorskip("torch")
F = torch.nn.functional

X = np.array([-2.0, -0.5, 0.0, 0.5, 2.0, 4.0, 7.0, -7.0])
Y = np.array([0.5, -0.5, 1.0, 0.5, 3.0, -1.0, 7.5, -8.0])

# the ops whose backward PyTorch writes as a mask (where / masked_fill / threshold_backward)
MASKED = [
    ("torch.relu(x)", lambda x: torch.relu(x)),
    ("F.relu6(x)", lambda x: F.relu6(x)),
    ("F.hardtanh(x)", lambda x: F.hardtanh(x)),
    ("F.hardtanh(x, -0.5, 2.0)", lambda x: F.hardtanh(x, -0.5, 2.0)),
    ("torch.clamp(x, -1, 1)", lambda x: torch.clamp(x, -1, 1)),
    ("torch.clamp(x, min=0.2)", lambda x: torch.clamp(x, min=0.2)),
    ("torch.clamp(x, max=0.2)", lambda x: torch.clamp(x, max=0.2)),
    ("torch.clamp(x, y, y + 1)", lambda x, y: torch.clamp(x, y, y + 1)),
    ("np.clip(x, -1, 1)", lambda x: torch.clamp(x, -1, 1)),
    ("F.hardsigmoid(x)", lambda x: F.hardsigmoid(x)),
    ("F.hardswish(x)", lambda x: F.hardswish(x)),
    ("F.softshrink(x, 1.0)", lambda x: F.softshrink(x, 1.0)),
    ("torch.maximum(x, y)", lambda x, y: torch.maximum(x, y)),
    ("torch.minimum(x, y)", lambda x, y: torch.minimum(x, y)),
    ("torch.fmax(x, y)", lambda x, y: torch.fmax(x, y)),
    ("torch.fmin(x, y)", lambda x, y: torch.fmin(x, y)),
    ("torch.max(x).reshape(1)", lambda x: torch.max(x).reshape(1)),
    ("torch.min(x).reshape(1)", lambda x: torch.min(x).reshape(1)),
    # already masks before edge15, kept so that they stay so
    ("F.threshold(x, 0.1, 20.0)", lambda x: F.threshold(x, 0.1, 20.0)),
    ("F.hardshrink(x, 1.0)", lambda x: F.hardshrink(x, 1.0)),
    ("torch.where(x > 0, x, y)", lambda x, y: torch.where(x > 0, x, y)),
    ("x.masked_fill(x > 1, 0.0)", lambda x: x.masked_fill(x > 1, 0.0)),
    ("torch.sort(x).values", lambda x: torch.sort(x).values),
    ("torch.max(x.reshape(2, 4), 1).values", lambda x: torch.max(x.reshape(2, 4), 1).values),
    ("F.max_pool1d(x.reshape(1, 1, 8), 2)", lambda x: F.max_pool1d(x.reshape(1, 1, 8), 2)),
    # products in PyTorch too (0 · inf = NaN in both)
    ("F.leaky_relu(x, 0.0)", lambda x: F.leaky_relu(x, 0.0)),
    ("torch.amax(x.reshape(2, 4), 1)", lambda x: torch.amax(x.reshape(2, 4), 1)),
    ("torch.abs(x)", lambda x: torch.abs(x)),
]


def _names(fn):
    import inspect

    return list(inspect.signature(fn).parameters)


def _torch_vjp(fn, inputs, v):
    ts = {k: torch.tensor(a, requires_grad=True) for k, a in inputs.items()}
    fn(**ts).backward(torch.tensor(v))
    return {k: t.grad.numpy() for k, t in ts.items()}


def _torch_jvp(fn, inputs, tangents):
    names = list(inputs)
    _, out = torch.func.jvp(lambda *xs: fn(**dict(zip(names, xs))), tuple(torch.tensor(inputs[n]) for n in names),
                            tuple(torch.tensor(tangents[n]) for n in names))
    return out.numpy()


@pytest.mark.parametrize("fill", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("expr,fn", MASKED, ids=[e for e, _ in MASKED])
def test_a_mask_in_the_backward_passes_no_inf_or_nan_where_the_op_is_flat(expr, fn, fill):
    """The bug: relu's VJP with a cotangent of inf was NaN where x < 0 (0 · inf); PyTorch's where gives 0."""
    inputs = {n: {"x": X, "y": Y}[n] for n in _names(fn)}
    value = np.asarray(api.evaluate(expr, inputs))
    v = np.full(value.shape, fill)
    v.reshape(-1)[::3] = 1.5  # finite entries beside them
    ours, theirs = api.vjp(expr, inputs, v=v), _torch_vjp(fn, inputs, v)
    for n in inputs:  # (hardsigmoid: PyTorch's slope is float32's 1/6)
        np.testing.assert_allclose(ours[n], theirs[n], rtol=1e-7, atol=0, err_msg=f"{expr}: vjp {n}")


@pytest.mark.parametrize("expr,fn", [c for c in MASKED if c[0].startswith(("torch.relu", "torch.clamp(x, y",
                                                                            "F.hardtanh(x)", "F.relu6"))])
def test_a_mask_in_the_forward_pass_too(expr, fn):
    inputs = {n: {"x": X, "y": Y}[n] for n in _names(fn)}
    tangents = {n: np.where(np.arange(8) % 2 == 0, np.inf, 2.0) for n in inputs}
    ours = api.jvp(expr, inputs, tangents)
    np.testing.assert_array_equal(ours, _torch_jvp(fn, inputs, tangents))


def test_maximums_forward_pass_is_masked_as_its_backward():
    """PyTorch's forward mode of maximum multiplies (t_x - t_y) by the mask (NaN for an infinite tangent of
    the losing side), its backward masks; jac masks both, so J·t and vᵀJ agree."""
    t = np.where(np.arange(8) % 2 == 0, np.inf, 2.0)
    ours = api.jvp("torch.maximum(x, y)", {"x": X, "y": Y}, {"x": t})
    np.testing.assert_array_equal(ours, np.where(X > Y, t, np.where(X == Y, t / 2, 0.0)))


@pytest.mark.parametrize("expr,fn", [
    ("torch.sqrt(torch.relu(x))", lambda x: torch.sqrt(torch.relu(x))),
    ("torch.log(torch.clamp(x, min=0))", lambda x: torch.log(torch.clamp(x, min=0))),
    ("torch.sqrt(F.hardtanh(x, 0.0, 1.0))", lambda x: torch.sqrt(F.hardtanh(x, 0.0, 1.0))),
    ("1 / F.relu6(x)", lambda x: 1 / F.relu6(x)),
])
def test_an_infinite_derivative_behind_a_flat_op_gives_0_as_pytorch(expr, fn):
    """sqrt(relu(x)) is 0 for every x < 0, so its derivative there is 0: jac's Jacobian held NaN
    (sqrt'(0) = inf times relu' = 0); PyTorch's mask gives 0."""
    x = np.array([-1.0, -0.0, 0.0, 0.25, 4.0, 9.0])
    ours = np.asarray(api.jacobian(expr, {"x": x})["x"])
    theirs = torch.autograd.functional.jacobian(fn, torch.tensor(x)).numpy()
    assert not np.isnan(ours).any()  # (PyTorch's dense pass adds 0 · inf = NaN off the diagonal: documented)
    np.testing.assert_array_equal(np.diag(ours), np.diag(theirs))
    grads = api.vjp(expr, {"x": x}, v=np.ones(6))["x"]
    np.testing.assert_array_equal(grads, _torch_vjp(fn, {"x": x}, np.ones(6))["x"])


# big enough that the plan is not small: the kernel's basis is a diagonal, and the mask's where keeps it one
MASKED_BIG = ["A @ torch.relu(x)", "torch.clamp(A @ x, -1, 1)", "A @ torch.maximum(x, 0.5 * x)",
              "A @ F.hardsigmoid(x * 4)", "A @ torch.sqrt(torch.relu(x))", "torch.where(A @ x > 0, A @ x, 0.0)",
              "A @ (F.hardtanh(x) * torch.relu(x))"]


@pytest.mark.parametrize("mode", ["forward", "reverse"])
@pytest.mark.parametrize("expr", MASKED_BIG)
def test_masked_rules_compile_to_the_structured_passes_bits(expr, mode):
    rng = np.random.default_rng(15)
    n = 40
    for x in (rng.standard_normal(n), np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, -1.0] + [1.0] * (n - 6))):
        b = {"x": x, "A": rng.standard_normal((n, n)) / n}
        problem = api.prepare(expr, b, ["x"])
        plan = api.plan_of(problem, mode)
        assert not planner._small(plan, problem.graph)
        expected = api.jacobians(problem, plan)["x"]
        kernel = kernels.jacobian_kernel(problem.graph, plan, False)
        assert kernel is not None, f"{expr} did not compile"
        got = kernel(problem.env, structured=True)["x"]
        assert got.structure == expected.structure
        np.testing.assert_array_equal(_bits(got), _bits(expected))


def _bits(a):
    return np.ascontiguousarray(np.asarray(a)).view(np.uint8)


@pytest.mark.parametrize("expr", ["torch.relu(x)", "torch.sqrt(torch.relu(x))", "torch.clamp(x, -1, 1) * x",
                                  "torch.maximum(x, 0.5 * x)", "F.hardswish(x)"])
def test_repeated_calls_of_masked_rules_keep_the_interpreters_bits(expr):
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, -1.0, 2.0, 1e-310, -3.0, 0.5])
    api._CACHE.clear()
    first = [api.jacobian(expr, {"x": x})["x"], api.vjp(expr, {"x": x}, v=np.full(10, np.inf))["x"]]
    for _ in range(3):  # the second call compiles, the third runs the kernel
        again = [api.jacobian(expr, {"x": x})["x"], api.vjp(expr, {"x": x}, v=np.full(10, np.inf))["x"]]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(_bits(a), _bits(b))


def test_logdet_of_a_negative_determinant_is_nan_and_its_derivative_log_abs_det_s_as_documented():
    """Left as documented (tests/test_parity_trust12.py): PyTorch's 0 comes from a where, which jac diff's
    symbolic forms of logdet would carry as a factor; the warning names the NaN (below)."""
    A = np.array([[1.0, 2.0], [3.0, 1.0]])  # det -5
    assert np.isnan(api.evaluate("torch.logdet(A)", {"A": A}))
    np.testing.assert_allclose(api.jacobian("torch.logdet(A)", {"A": A})["A"], np.linalg.inv(A).T, rtol=1e-14)


def test_logdet_of_a_negative_determinant_names_the_log_of_the_sign():
    from jacobi_cli.engine import finite

    problem = api.prepare("torch.logdet(A)", {"A": [[1.0, 2.0], [3.0, 1.0]]})
    assert [w.message for w in finite.value_warnings(problem.graph, problem.values)] == \
        ["log at column 6 made NaN: log(-1) = NaN"]


@pytest.mark.parametrize("A", [[[np.nan, 2.0], [3.0, 1.0]], [[1.0, 2.0], [3.0, np.nan]], [[np.nan] * 2] * 2])
def test_the_sign_of_a_matrix_holding_nan_is_pytorchs_0_or_nan(A):
    A = np.array(A)
    torch_sign = float(torch.linalg.slogdet(torch.tensor(A)).sign)
    assert torch_sign == 0.0
    for expr in ("torch.linalg.slogdet(A)[0]", "torch.slogdet(A).sign", "A.slogdet()[0]"):
        assert api.evaluate(expr, {"A": A}) == torch_sign, expr
    for expr in ("np.linalg.slogdet(A)[0]", "slogdet(A)[0]", "jnp.linalg.slogdet(A).sign"):  # as JAX's
        assert np.isnan(api.evaluate(expr, {"A": A})), expr
    for expr in ("torch.linalg.slogdet(A)[1]", "np.linalg.slogdet(A)[1]"):
        assert np.isnan(api.evaluate(expr, {"A": A}))
    assert api.evaluate("np.linalg.slogdet(A)[0]", {"A": [[1.0, 2.0], [3.0, 1.0]]}) == -1.0


@pytest.mark.parametrize("scale", [1e-200, 1e200, 1e-160, 1e160, 5e-324])
@pytest.mark.parametrize("expr", ["torch.linalg.norm(x)", "np.linalg.norm(x)", "torch.linalg.vector_norm(x, 3)",
                                  "torch.linalg.vector_norm(x, 1.5)"])
def test_a_norm_neither_overflows_nor_underflows_in_its_squares(expr, scale):
    """The norm of [1e200, 2e200, -3e200] was inf (NumPy and PyTorch square: 1e400), of 1e-200's 0 (PyTorch:
    0 and a gradient of 0, silently); it is 3.74e200, 3.74e-200, with the gradient of the norm of [1, 2, -3]."""
    unit = np.array([1.0, 2.0, -3.0, 0.0])
    x = unit * scale
    p = 2.0 if "norm(x)" in expr else float(expr.rsplit(", ", 1)[1][:-1])
    want = np.sum(np.abs(unit) ** p) ** (1 / p)
    value = api.evaluate(expr, {"x": x})
    grad = api.jacobian(expr, {"x": x})["x"]
    if scale < 1e-300:  # the norm itself is a subnormal: 3.74 · 5e-324 is 4 · 5e-324
        assert abs(value - want * scale) <= scale and np.isfinite(grad).all() and grad[2] < 0 < grad[1]
        return
    np.testing.assert_allclose(value / scale, want, rtol=1e-12)
    expected = np.sign(unit) * (np.abs(unit) / want) ** (p - 1)
    np.testing.assert_allclose(grad, expected, rtol=1e-12, atol=1e-15)


def test_a_norm_of_ordinary_numbers_keeps_its_bits():
    rng = np.random.default_rng(0)
    for x in (rng.standard_normal(7), rng.standard_normal((3, 4)) * 1e5, np.array([0.0, 0.0]), np.zeros(0)):
        assert np.array_equal(api.evaluate("np.linalg.norm(x)", {"x": x}), np.sqrt(np.sum(np.square(x))))
    assert np.isnan(api.evaluate("np.linalg.norm(x)", {"x": [np.nan, 1e200]}))
    assert api.evaluate("np.linalg.norm(x)", {"x": [np.inf, 1e-200]}) == np.inf


def test_norms_by_rows_are_scaled_per_row_and_float32_too():
    A = np.array([[1e200, 3e200], [1.0, 2.0], [0.0, 0.0], [1e-200, 1e-200]])
    got = api.evaluate("torch.linalg.norm(A, dim=1)", {"A": A})
    np.testing.assert_allclose(got, [np.sqrt(10) * 1e200, np.sqrt(5), 0.0, np.sqrt(2) * 1e-200], rtol=1e-15)
    got = api.evaluate("torch.linalg.norm(x)", {"x": np.array([1e20, 3e20])}, dtype="float32")
    assert got.dtype == np.float32 and abs(got / np.float32(np.sqrt(10) * 1e20) - 1) < 1e-6


def test_normalize_and_cosine_similarity_of_huge_vectors():
    """F.normalize of [1e200, 2e200, -3e200] was 0 (PyTorch's too: its norm is inf), cosine_similarity NaN
    (inf - inf in the eps clamp); they are the unit vector and the cosine of the directions."""
    x, y = np.array([1e200, 2e200, 3e200]), np.array([3e200, 1e200, 2e200])
    np.testing.assert_allclose(api.evaluate("F.normalize(x, dim=0)", {"x": x}), x / 1e200 / np.sqrt(14), rtol=1e-15)
    np.testing.assert_allclose(api.evaluate("F.cosine_similarity(x, y, dim=0)", {"x": x, "y": y}), 11 / 14,
                               rtol=1e-15)
    # tiny vectors: PyTorch's eps clamp of each norm, as before (the value is ~1e-384: 0)
    assert api.evaluate("F.cosine_similarity(x, y, dim=0)", {"x": x * 1e-400, "y": y * 1e-400}) == \
        float(F.cosine_similarity(torch.tensor(x * 1e-400), torch.tensor(y * 1e-400), dim=0))


def test_gaussian_nll_of_a_variance_that_overflows_is_inf_as_pytorch():
    x = np.array([1e300, 0.5, -1e200])
    expr = "F.gaussian_nll_loss(0 * x, 0 * x + 1, x * x + 1, reduction='none')"
    fn = lambda x: F.gaussian_nll_loss(0 * x, 0 * x + 1, x * x + 1, reduction='none')  # noqa: E731
    np.testing.assert_array_equal(api.evaluate(expr, {"x": x}), fn(torch.tensor(x)).numpy())
    np.testing.assert_array_equal(api.vjp(expr, {"x": x}, v=np.ones(3))["x"], _torch_vjp(fn, {"x": x}, np.ones(3))["x"])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("expr", ["torch.special.i1(x)", "torch.special.i1e(x)"])
def test_the_bessel_i1_derivative_is_one_half_at_tiny_x(expr, dtype):
    """I1'(5e-324) was 0 and (e^-|x| I1)' -inf: I1(x)/x of a subnormal I1(x) = x/2; PyTorch's 1/2."""
    x = np.array([5e-324, -5e-324, 1e-310, 1e-40, 1e-30, 1e-20, 0.0, 0.5])
    ours = api.vjp(expr, {"x": x}, v=np.ones(8), dtype=dtype)["x"]
    theirs = _torch_vjp(lambda x: eval(expr), {"x": x.astype(dtype)}, np.ones(8, dtype=dtype))["x"]
    np.testing.assert_allclose(ours, theirs, rtol=1e-6 if dtype == "float32" else 1e-14)
    np.testing.assert_allclose(ours[:7], 0.5, rtol=1e-15)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_log_ndtr_derivative_far_left_is_about_minus_x(dtype):
    """d/dx log Φ(x) = φ(x)/Φ(x) ≈ -x - 1/x far left: 1.0 at x = -1e10 in float32 and inf in float64 (two
    numbers near x²/2 subtracted), 697 at -700 in float32 (PyTorch: 688); now √(2/π) / erfcx(-x/√2)."""
    import mpmath

    x = np.array([-1e10, -800.0, -700.0, -100.0, -30.0])
    ours = api.vjp("torch.special.log_ndtr(x)", {"x": x}, v=np.ones(5), dtype=dtype)["x"]
    with mpmath.workdps(60):
        exact = [float(mpmath.npdf(mpmath.mpf(v)) / mpmath.ncdf(mpmath.mpf(v))) for v in x]
    np.testing.assert_allclose(ours, exact, rtol=1e-6 if dtype == "float32" else 1e-12)
    y = np.array([-3.0, -1.0, 0.0, 1.0, 5.0, 30.0])  # the middle, against PyTorch and central differences
    ours = api.vjp("torch.special.log_ndtr(x)", {"x": y}, v=np.ones(6))["x"]
    theirs = _torch_vjp(lambda x: torch.special.log_ndtr(x), {"x": y}, np.ones(6))["x"]
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    from scipy import special

    np.testing.assert_allclose(ours[:5], np.diag(central(special.log_ndtr, y[:5])), rtol=1e-7)


def test_clamp_excess_at_infinity_is_0():
    from jacobi_cli.ir.ops import OPS

    got = OPS["clamp_excess"].impl(np.array([np.inf, -np.inf, 1e-9, 2.0, np.nan]), 1e-6)
    np.testing.assert_array_equal(got, [0.0, np.inf, 1e-6 - 1e-9, 0.0, 0.0])
