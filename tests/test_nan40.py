"""NaN, inf and zero artefacts, round 2 (session 40, benchmarks/nan40_fuzz.py), against PyTorch 2.13 and JAX 0.10.

- ``sinc`` at 0: sinc'(0) = 0 exactly, and PyTorch's sinc_backward is a where at x = 0, so an infinite cotangent
  (``exp(xlogy(sinc(x), 1e308))``) gives 0. jac multiplied, 0 · inf = NaN in reverse mode and 0 in forward mode.
  The rule is now ``multiply_no_nan(g, sinc'(x))`` (0 where the partial is exactly 0, whatever g holds), which keeps
  the second derivative -pi^2/3 at 0 that PyTorch's where loses (its double backward: NaN, jacfwd(jacrev): 0).
- ``torch.nan_to_num``: PyTorch's derivative is ``grad * isfinite(x)`` in both modes; jac lowered it to a where, so
  ``nan_to_num(log(x))`` at 0 had derivative 0 in forward mode (PyTorch's forward NaN, jac's reverse NaN). The
  NumPy / JAX spellings stay a where, as ``jnp.nan_to_num`` is (jax.jacfwd 0, jax.jacrev NaN).
- cumprod's derivative is the exact product of the other factors (``∂c_k/∂x_i = Π_{j ≤ k, j ≠ i} x_j``): NaN
  where that product holds 0 · inf; PyTorch's backward gives 0 there (its branch for inputs holding a zero drops the
  other factors), JAX NaN everywhere. Pinned here as the convention.
- A Hessian is forward over reverse (torch.func.hessian, jax.hessian): where a 0 · inf arises, jac's NaN sits where
  theirs do, and PyTorch's torch.autograd.functional.hessian (reverse over reverse) puts it at the transposed entry.
"""

import itertools

import numpy as np
import pytest

from jacobi_cli.ir import ops
from jacobi_cli.tools import api


def _torch():
    torch = pytest.importorskip("torch")
    return torch


def _torch_fn(text):
    torch = _torch()
    import torch.nn.functional as F
    return lambda **kw: eval(text, {"torch": torch, "F": F}, kw)


def _jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


# --- sinc at 0 -------------------------------------------------------------------------------------------------

SINC = "torch.exp(torch.xlogy(torch.sinc(x), y))"
SINC_X, SINC_Y = [0.0, 1.0, 0.5, 0.0], [1e308, 2.0, 1e308, 0.5]


def test_sinc_at_zero_with_an_infinite_cotangent_is_pytorchs_zero_in_both_modes():
    torch = _torch()
    f = _torch_fn(SINC)
    xt, yt = torch.tensor(SINC_X, dtype=torch.float64), torch.tensor(SINC_Y, dtype=torch.float64)
    rev = torch.autograd.functional.jacobian(lambda a: f(x=a, y=yt), xt).numpy()
    fwd = torch.func.jacfwd(lambda a: f(x=a, y=yt))(xt).numpy()
    b = {"x": np.array(SINC_X), "y": np.array(SINC_Y)}
    for mode in ("reverse", "forward"):
        ours = api.jacobian(SINC, b, mode=mode, wrt=["x"])["x"]
        np.testing.assert_allclose(ours, rev, rtol=1e-15, atol=0)
        np.testing.assert_allclose(ours, fwd, rtol=1e-15, atol=0)
        assert ours[0, 0] == 0.0 and not np.isnan(ours).any()  # before: NaN in reverse mode
    g = api.vjp(SINC, b, v=np.ones(4), wrt=["x"])["x"]
    np.testing.assert_allclose(g, rev.sum(0), rtol=1e-15, atol=0)


def test_sinc_keeps_its_second_derivative_at_zero():
    # sinc''(0) = -pi^2/3: PyTorch's double backward gives NaN and its jacfwd(jacrev) 0 (the where's); JAX's is jac's
    h = api.hessian("torch.sum(torch.sinc(x))", {"x": np.array([0.0, 0.5, -0.0])})[("x", "x")]
    assert h[0, 0] == pytest.approx(-np.pi ** 2 / 3, rel=1e-15) and h[2, 2] == h[0, 0]
    jax = _jax()
    import jax.numpy as jnp
    theirs = np.asarray(jax.hessian(lambda v: jnp.sum(jnp.sinc(v)))(jnp.array([0.0, 0.5, -0.0])))
    np.testing.assert_allclose(h, theirs, rtol=1e-14, atol=1e-300)


def test_sinc_with_an_infinite_cotangent_keeps_the_hessians_infinity():
    # d²/dx² exp(L sinc(x)) at 0 = e^L (L sinc''(0) + L² sinc'(0)²) = 1e308 · 709.2 · (-3.29): -inf, as jax.hessian
    s = "torch.sum(torch.exp(torch.xlogy(torch.sinc(x), y)))"
    b = {"x": np.array([0.0, 1.0]), "y": np.array([1e308, 2.0])}
    h = api.hessian(s, b, wrt=["x"])[("x", "x")]
    assert h[0, 0] == -np.inf and h[0, 1] == 0.0 and h[1, 0] == 0.0
    jax = _jax()
    import jax.numpy as jnp
    theirs = jax.hessian(lambda v: jnp.exp(jnp.sinc(v) * jnp.log(1e308)))(0.0)
    assert float(theirs) == -np.inf


def test_sinc_away_from_zero_is_unchanged_against_central_differences():
    x = np.array([0.3, -1.7, 0.05, 2.5])
    j = np.diag(api.jacobian("torch.sinc(x)", {"x": x})["x"])
    eps = 1e-6
    np.testing.assert_allclose(j, (np.sinc(x + eps) - np.sinc(x - eps)) / (2 * eps), rtol=1e-7)
    torch = _torch()
    t = torch.tensor(x, requires_grad=True)
    torch.sinc(t).sum().backward()
    np.testing.assert_allclose(j, t.grad.numpy(), rtol=1e-13)


def test_sinc_keeps_a_diagonal_jacobian_and_the_kernels_bits():
    values = {"x": np.array(SINC_X), "y": np.array(SINC_Y)}
    j = api.jacobian(SINC, values, wrt=["x"], structured=True)["x"]
    assert j.structure == "diagonal"
    np.testing.assert_array_equal(j.diagonal(), np.diag(api.jacobian(SINC, values, wrt=["x"])["x"]))
    f = api.compile(f"{SINC} * x", values)
    runs = []
    for _ in range(4):  # the first calls interpreted, then the planned / kernel path
        jac = f.jacobian(values)
        g = f.vjp(values, np.ones(4))
        t = f.jvp(values, {"x": np.ones(4), "y": np.zeros(4)})
        runs.append([jac[n].tobytes() for n in sorted(jac)] + [g[n].tobytes() for n in sorted(g)]
                    + [np.asarray(t).tobytes()])
    assert all(r == runs[0] for r in runs)
    assert not np.isnan(np.frombuffer(runs[0][0])).any()


def test_multiply_no_nan_is_the_product_except_where_the_partial_is_exactly_zero():
    x = np.array([np.inf, -np.inf, np.nan, 2.0, np.inf, 0.0, -3.0, 5e-324])
    y = np.array([0.0, -0.0, 0.0, -0.0, 1.0, np.nan, 1e308, 0.5])
    out = ops.P.multiply_no_nan(x, y)
    with np.errstate(invalid="ignore", over="ignore"):
        product = x * y
    keep = ~((y == 0) & ~np.isfinite(x))
    np.testing.assert_array_equal(out[keep], product[keep])  # the product's bits, NaN and signs included
    assert (out[~keep] == 0).all() and keep.sum() == 5
    assert ops.OPS["multiply_no_nan"].spellings == ()  # not a name users call


# --- torch.nan_to_num: PyTorch's product with isfinite(x) --------------------------------------------------------

def test_torch_nan_to_num_of_log_at_zero_has_pytorchs_nan_in_both_modes():
    torch = _torch()
    text = "torch.nan_to_num(torch.log(x))"
    x = np.array([0.0, 1.0, 2.0])
    xt = torch.tensor(x)
    f = _torch_fn(text)
    rev = torch.autograd.functional.jacobian(lambda a: f(x=a), xt).numpy()
    fwd = torch.func.jacfwd(lambda a: f(x=a))(xt).numpy()
    for mode in ("reverse", "forward"):
        ours = api.jacobian(text, {"x": x}, mode=mode)["x"]
        assert np.isnan(ours[0, 0]) and np.isnan(rev[0, 0]) and np.isnan(fwd[0, 0])  # before: 0 in forward mode
        off = ~np.eye(3, dtype=bool)
        assert (ours[off] == 0).all()  # jac's Jacobian is diagonal: PyTorch's dense passes spread the NaN
        np.testing.assert_array_equal(np.diag(ours)[1:], np.diag(rev)[1:])
    jv = api.jvp(text, {"x": x}, {"x": np.array([1.0, 0.0, 0.0])})
    assert np.isnan(jv[0]) and (jv[1:] == 0).all()


@pytest.mark.parametrize("spelling", ["np.nan_to_num", "jnp.nan_to_num"])
def test_numpy_and_jax_nan_to_num_stay_jaxs_where(spelling):
    jax = _jax()
    import jax.numpy as jnp
    text = f"{spelling}({'jnp' if spelling[0] == 'j' else 'np'}.log(x))"
    x = np.array([0.0, 1.0, 2.0])
    fwd = np.asarray(jax.jacfwd(lambda v: jnp.nan_to_num(jnp.log(v)))(x))
    rev = np.asarray(jax.jacrev(lambda v: jnp.nan_to_num(jnp.log(v)))(x))
    ours_f = api.jacobian(text, {"x": x}, mode="forward")["x"]
    ours_r = api.jacobian(text, {"x": x}, mode="reverse")["x"]
    np.testing.assert_array_equal(ours_f, fwd)  # 0 at x = 0: the where's
    assert np.isnan(ours_r[0, 0]) and np.isnan(rev[0, 0])
    np.testing.assert_array_equal(np.diag(ours_r)[1:], np.diag(rev)[1:])


@pytest.mark.parametrize("args", ["", ", 1.5", ", 1.5, 2.0, -3.0", ", posinf=7.0", ", neginf=-2.0, nan=None"])
def test_torch_nan_to_num_values_and_derivatives_are_pytorchs(args):
    torch = _torch()
    text = f"torch.nan_to_num(x * y{args})"
    x = np.array([np.nan, np.inf, -np.inf, 1.5, 1e308, -2.0])
    y = np.array([1.0, 2.0, 1.0, -0.5, 10.0, np.inf])
    f = _torch_fn(text)
    xt, yt = torch.tensor(x), torch.tensor(y)
    value = f(x=xt, y=yt).numpy()
    np.testing.assert_array_equal(api.evaluate(text, {"x": x, "y": y}), value)
    rev = torch.autograd.functional.jacobian(lambda a, c: f(x=a, y=c), (xt, yt))
    # one argument at a time: with both, PyTorch's forward pass meets NaN · 0 (x * y's other tangent, a zero tensor)
    fwd = (torch.func.jacfwd(lambda a: f(x=a, y=yt))(xt), torch.func.jacfwd(lambda c: f(x=xt, y=c))(yt))
    for mode in ("reverse", "forward"):
        ours = api.jacobian(text, {"x": x, "y": y}, mode=mode)
        for k, name in enumerate("xy"):
            d = np.diag(ours[name])
            np.testing.assert_array_equal(d, np.diag(rev[k].numpy()))
            np.testing.assert_array_equal(d, np.diag(fwd[k].numpy()))


def test_torch_nan_to_num_in_float32_fills_float32s_largest():
    torch = _torch()
    x = np.array([np.inf, -np.inf, 1.0], dtype=np.float32)
    ours = api.evaluate("torch.nan_to_num(x)", {"x": x}, dtype="float32")
    theirs = torch.nan_to_num(torch.tensor(x)).numpy()
    assert ours.dtype == np.float32
    np.testing.assert_array_equal(ours, theirs)


def test_torch_nan_to_num_keeps_the_diagonal_structure_and_kernel_bits():
    text = "torch.nan_to_num(torch.log(x)) * x"
    values = {"x": np.array([0.0, 1.0, 2.0, -1.0, np.inf])}
    j = api.jacobian(text, values, structured=True)["x"]
    assert j.structure == "diagonal"
    f = api.compile(text, values)
    runs = []
    for _ in range(4):
        jac = f.jacobian(values)["x"]
        runs.append((jac.tobytes(), f.vjp(values, np.ones(5))["x"].tobytes(),
                     np.asarray(f.jvp(values, {"x": np.ones(5)})).tobytes()))
    assert all(r == runs[0] for r in runs)


def test_torch_nan_to_num_second_order_where_smooth():
    text = "torch.sum(torch.nan_to_num(x) ** 3 * w)"
    x, w = np.array([0.3, -1.2, 2.0]), np.array([0.7, -1.3, 0.4])
    h = api.hessian(text, {"x": x, "w": w}, wrt=["x"])[("x", "x")]
    np.testing.assert_allclose(h, np.diag(6 * x * w), rtol=1e-15)


# --- cumprod: the exact products of the other factors ---------------------------------------------------------

def _cumprod_jacobian(x):
    n = len(x)
    out = np.zeros((n, n))
    with np.errstate(invalid="ignore", over="ignore"):
        for k, i in itertools.product(range(n), range(n)):
            if i <= k:
                out[k, i] = np.prod([x[j] for j in range(k + 1) if j != i])
    return out


POINTS = [[2.0, np.inf, 3.0, 0.5], [np.inf, 2.0, 3.0, -1.0], [2.0, 0.0, np.inf, 1.0], [0.0, 2.0, 1.0, -np.inf],
          [1e308, -np.inf, 0.0, -3.0], [0.0, 0.0, 2.0, np.inf], [1e308, 1e308, 0.5, 2.0], [5e-324, 1e308, 0.0, 2.0]]


@pytest.mark.parametrize("x", POINTS)
def test_cumprods_derivative_is_the_product_of_the_other_factors(x):
    x = np.array(x)
    want = _cumprod_jacobian(x)
    for mode in ("reverse", "forward"):
        ours = api.jacobian("torch.cumprod(x, 0)", {"x": x}, mode=mode)["x"]
        np.testing.assert_array_equal(ours, want)


def test_cumprod_where_pytorchs_zero_branch_drops_an_infinite_factor():
    # 1 / cumprod(y) at y = [0, 2, 1, -inf]: cumprod = [0, 0, 0, NaN]; every row's derivative by y_1.. meets
    # -1 / 0² = -inf times a product holding 0, or a NaN value. PyTorch: 0 (its backward for inputs holding a zero
    # counts every factor after the first zero as 0); JAX: NaN. jac: NaN, and the warning says where; above the
    # diagonal (y_i does not depend on y_j, j > i: cumprod's pattern) an exact 0, as a chunked plan gives it
    # (the dense pass's 0 · NaN there was NaN before session 49; docs/batches-outputs-orders.md)
    torch = _torch()
    y = np.array([0.0, 2.0, 1.0, -np.inf])
    theirs = torch.autograd.functional.jacobian(lambda v: torch.reciprocal(torch.cumprod(v, 0)), torch.tensor(y))
    assert (theirs.numpy()[:, 1:] == 0).all()
    ours = api.jacobian("torch.reciprocal(torch.cumprod(y, 0))", {"y": y})["y"]
    below = np.tril(np.ones((4, 4), dtype=bool))
    assert np.isnan(ours[:, 1:][below[:, 1:]]).all()
    assert (ours[~below] == 0).all()
    chunked = api.jacobian("torch.reciprocal(torch.cumprod(y, 0))", {"y": y}, max_memory="1K")["y"]
    # NaN where the one pass has NaN and every other entry's bits (-inf, the exact 0s): since session 57 a budget that
    # cannot hold the dense pass beside the structured passes its NaN calls for runs the structured passes alone
    # (planner.Plan.dense_passes), whose NaN may carry the other sign bit (0 · -inf's default NaN)
    assert (np.isnan(ours) == np.isnan(chunked)).all()
    assert ours[~np.isnan(ours)].tobytes() == chunked[~np.isnan(chunked)].tobytes()


# --- Hessians: forward over reverse, as torch.func.hessian and jax.hessian ---------------------------------------

HESSIAN_CASES = [
    ("torch.logsumexp(torch.log(torch.relu(x)), 0)", "jax.nn.logsumexp(jnp.log(jax.nn.relu(x)))", [1.0, 0.0, 2.0]),
    ("torch.logsumexp(torch.log(torch.relu(x)), 0)", "jax.nn.logsumexp(jnp.log(jax.nn.relu(x)))",
     [0.0, 3.0, 0.5, 1.0]),
]


@pytest.mark.parametrize("text, jax_text, x", HESSIAN_CASES)
def test_a_hessians_nan_sits_where_forward_over_reverses_does(text, jax_text, x):
    torch = _torch()
    f = _torch_fn(text)
    xt = torch.tensor(x, dtype=torch.float64)
    fwd_rev = torch.func.hessian(lambda a: f(x=a))(xt).numpy()
    rev_rev = torch.autograd.functional.hessian(lambda a: f(x=a), xt).numpy()
    ours = api.hessian(text, {"x": np.array(x)})[("x", "x")]
    both = np.isfinite(ours) & np.isfinite(fwd_rev)
    np.testing.assert_allclose(ours[both], fwd_rev[both], rtol=1e-14)
    assert set(zip(*np.where(np.isnan(ours)))) <= set(zip(*np.where(np.isnan(fwd_rev))))
    assert np.isnan(ours).any()
    # reverse over reverse puts a NaN at an entry whose transpose jac and torch.func.hessian hold as a number
    assert any(np.isnan(rev_rev[i, j]) and np.isfinite(ours[i, j]) for i, j in zip(*np.where(np.isnan(ours.T))))
    jax = _jax()
    import jax.numpy as jnp
    theirs = np.asarray(jax.hessian(lambda v: eval(jax_text, {"jax": jax, "jnp": jnp}, {"x": v}))(jnp.array(x)))
    np.testing.assert_array_equal(np.isnan(theirs), np.isnan(fwd_rev))


# --- the command line --------------------------------------------------------------------------------------------

def test_the_cli_warns_of_nan_to_nums_forward_nan():
    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app
    result = CliRunner().invoke(app, ["jvp", "torch.nan_to_num(torch.log(x))", "x=[0,1,2]", "--tangent", "x=[1,0,0]",
                                      "--json"])
    assert result.exit_code == 0
    import json
    out = json.loads(result.stdout)
    assert out["jvp"]["value"] == ["NaN", 0.0, 0.0]
    err = result.stderr if hasattr(result, "stderr") else result.output
    assert "log(0)" in err


# --- amax / amin forward mode: PyTorch's where ----------------------------------------------------------------

@pytest.mark.parametrize("text", ["torch.amax(torch.sqrt(torch.relu(x)))",
                                  "torch.amax(torch.sqrt(torch.relu(x)).reshape(2, 2), 1)",
                                  "torch.amin(-torch.sqrt(torch.relu(x)))", "jnp.max(jnp.sqrt(jax.nn.relu(x)))"])
def test_an_extremes_forward_mode_gives_no_nan_off_the_extreme(text):
    # PyTorch's amaxamin_jvp is where(mask, t, 0).sum() / count: x = 0 (sqrt' = inf) is not the max, so its tangent
    # is dropped, as both reverse modes drop its cotangent. jac's forward mode multiplied by the mask: NaN
    x = np.array([0.0, 1.0, 3.0, 1.0])
    rev = api.jacobian(text, {"x": x}, mode="reverse")["x"]
    fwd = api.jacobian(text, {"x": x}, mode="forward")["x"]
    np.testing.assert_array_equal(fwd, rev)
    assert not np.isnan(fwd).any()
    if text.startswith("torch"):
        torch = _torch()
        f = _torch_fn(text)
        theirs = torch.func.jacfwd(lambda a: f(x=a))(torch.tensor(x)).numpy()
        np.testing.assert_allclose(fwd, theirs, rtol=1e-15, atol=0)


def test_an_extreme_that_is_nan_keeps_nan_in_both_modes():
    x = np.array([np.nan, 1.0, 3.0, 1.0])
    for mode in ("reverse", "forward"):
        assert np.isnan(api.jacobian("torch.amax(x)", {"x": x}, mode=mode)["x"]).all()
    ties = api.jacobian("torch.amax(x)", {"x": np.array([3.0, 1.0, 3.0, 1.0])}, mode="forward")["x"]
    np.testing.assert_array_equal(ties, [0.5, 0.0, 0.5, 0.0])


# --- poisson_nll_loss(full=True): Stirling's term masked in value and derivative -------------------------------

@pytest.mark.parametrize("target", [[2.0, 1.0, 5e-324, 3.0], [2.0, 0.0, 0.5, 3.0], [2.0, 1.0, 1e-308, 1.0]])
def test_poisson_nll_full_has_no_nan_from_the_masked_stirling_term(target):
    torch = _torch()
    import torch.nn.functional as F
    x = np.array([0.5, -1.0, 2.0, 1.5])
    text = "F.poisson_nll_loss(x, t, full=True)"
    b = {"x": x, "t": np.array(target)}
    xt, tt = torch.tensor(x), torch.tensor(target, dtype=torch.float64)
    assert api.evaluate(text, b) == pytest.approx(F.poisson_nll_loss(xt, tt, full=True).item(), rel=1e-15)
    jt = torch.autograd.functional.jacobian(lambda a, c: F.poisson_nll_loss(a, c, full=True), (xt, tt))
    for mode in ("reverse", "forward"):
        ours = api.jacobian(text, b, mode=mode)
        np.testing.assert_allclose(ours["x"], jt[0].numpy(), rtol=1e-14)
        small = np.array(target) <= 1
        assert not np.isnan(ours["t"]).any()  # before: NaN at a target of 0 or a subnormal (0 · inf)
        big = ~small
        np.testing.assert_allclose(ours["t"][big], jt[1].numpy()[big], rtol=1e-14)
        # the term is 0 around a target <= 1: the derivative by it there is the log-input loss's alone, -x / n
        np.testing.assert_allclose(ours["t"][small], -x[small] / 4, rtol=1e-15)
