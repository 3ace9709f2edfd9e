"""Session 39: the last refused derivatives of special functions and reductions.

- gammainc / gammaincc by a where JAX differentiates them (``scipy.special``, ``jax.scipy.special``, ``jax.lax``):
  ``igamma_grad_a`` (a differentiated series or continued fraction, ``ir/incgamma.py``) against mpmath at 50 digits
  over a in 1e-3 .. 1e3, x in 1e-6 .. 1e3, against JAX, and its refusals (by a twice, as JAX; PyTorch's spellings in
  PyTorch's words);
- betainc by a and b: refused in JAX's words (JAX raises; PyTorch has no betainc);
- NumPy's / jnp's var and std with where=: NumPy's values, JAX's gradients, central differences;
- torch.histogram: PyTorch's values, every derivative through it refused as PyTorch's backward raises.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
from scipy import special

from jacobi_cli.errors import JacError
from jacobi_cli.ir.incgamma import gammainc_da
from jacobi_cli.tools import api

mpmath.mp.dps = 50


def _mp_da(a, x):
    """∂P/∂a at 50 digits, from the side whose function is not 1 - tiny (mpmath differentiates numerically)."""
    a, x = mpmath.mpf(a), mpmath.mpf(x)
    if x > a:
        return -float(mpmath.diff(lambda t: mpmath.gammainc(t, x, mpmath.inf, regularized=True), a))
    return float(mpmath.diff(lambda t: mpmath.gammainc(t, 0, x, regularized=True), a))


def _jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


# -- gammainc by a: the numbers -----------------------------------------------------------------------------------

A_GRID = [1e-3, 0.05, 0.5, 1.0, 2.5, 9.0, 40.0, 150.0, 600.0, 1e3]
X_GRID = [1e-6, 1e-2, 0.3, 0.9, 1.0, 3.0, 10.0, 100.0, 599.0, 601.0, 999.0, 1e3]


@pytest.mark.parametrize("a", A_GRID)
def test_gammainc_by_a_is_mpmaths_to_1e12(a):
    xs = np.array(X_GRID)
    got = gammainc_da(np.full(xs.shape, a), xs)
    for x, g in zip(xs, got):
        exact = _mp_da(a, x)
        if abs(exact) < 1e-300:  # below float64's normal numbers: 0 or a subnormal
            assert abs(g) < 1e-290
            continue
        assert abs(g - exact) <= 2e-12 * abs(exact), (a, x, g, exact)


def test_gammainc_by_a_near_the_diagonal_and_far_from_it():
    """a ≈ x (where the series and the fraction meet) at large a, and random points in log scale."""
    rng = np.random.default_rng(39)
    a = np.concatenate([10 ** rng.uniform(0, 3, 20), 10 ** rng.uniform(-3, 3, 20)])
    x = np.concatenate([a[:20] * rng.uniform(0.95, 1.05, 20), 10 ** rng.uniform(-6, 3, 20)])
    got = gammainc_da(a, x)
    for ai, xi, g in zip(a, x, got):
        exact = _mp_da(ai, xi)
        if abs(exact) < 1e-300:
            continue
        assert abs(g - exact) <= 2e-12 * abs(exact), (ai, xi, g, exact)


def test_gammainc_by_a_is_jaxs():
    jax = _jax()
    from jax.scipy.special import gammainc

    rng = np.random.default_rng(7)
    a, x = 10 ** rng.uniform(-3, 3, 200), 10 ** rng.uniform(-6, 3, 200)
    theirs = np.asarray(jax.vmap(jax.grad(gammainc, 0))(a, x))
    ours = api.jacobian("jax.scipy.special.gammainc(a, x)", {"a": a, "x": x}, wrt=["a"])["a"].diagonal()
    big = np.abs(theirs) > 1e-290
    np.testing.assert_allclose(ours[big], theirs[big], rtol=1e-10)
    assert np.all(np.abs(ours[~big]) < 1e-290)


def test_the_edges_are_jaxs():
    """x = 0: 0 (P is constant in a there); a = 0 and a < 0, x < 0, NaN: NaN, as JAX. At x = inf, 0 where JAX gives
    NaN: P(a, inf) = 1 for every a > 0, so 0 is the derivative (a deliberate difference)."""
    jax = _jax()
    from jax.scipy.special import gammainc

    a = np.array([1.5, 1.5, 0.0, -1.0, 2.0, np.nan, 2.0])
    x = np.array([0.0, np.inf, 2.0, 2.0, -1.0, 2.0, np.nan])
    ours = gammainc_da(a, x)
    theirs = np.array(jax.vmap(jax.grad(gammainc, 0))(a, x))
    assert ours[1] == 0.0 and np.isnan(theirs[1])
    theirs[1] = 0.0
    np.testing.assert_array_equal(ours, theirs)


def test_a_sum_that_would_not_converge_is_refused():
    with pytest.raises(JacError, match="did not converge"):
        api.jacobian("scipy.special.gammainc(a, x)", {"a": np.array(1e10), "x": np.array(1e10)}, wrt=["a"])


# -- gammainc by a: the spellings -----------------------------------------------------------------------------------

A = np.array([[0.7, 1.5, 3.0], [12.0, 0.2, 2.2]])
X = np.array([[0.4, 2.0, 1.0], [10.0, 1.7, 0.05]])


@pytest.mark.parametrize("text,sign", [("scipy.special.gammainc(a, x)", -1.0), ("scipy.special.gammaincc(a, x)", 1.0),
                                       ("jax.scipy.special.gammainc(a, x)", -1.0),
                                       ("jax.scipy.special.gammaincc(a=a, x=x)", 1.0),
                                       ("jax.lax.igamma(a, x)", -1.0), ("jax.lax.igammac(a, x)", 1.0)])  # sign: ∂Q/∂a
def test_the_spellings_jax_and_scipy_answer(text, sign):
    upper = "incc" in text or "igammac" in text
    values = {"a": A, "x": X}
    np.testing.assert_array_equal(api.evaluate(text, values), (special.gammaincc if upper else special.gammainc)(A, X))
    jac = api.jacobian(text, values, wrt=["a"])["a"].reshape(6, 6)
    np.testing.assert_array_equal(jac.diagonal(), -sign * gammainc_da(A, X).ravel())
    assert np.count_nonzero(jac - np.diag(jac.diagonal())) == 0
    # against a Richardson extrapolation of SciPy's own function
    f = special.gammaincc if upper else special.gammainc
    h = 1e-3 * A
    d1 = (f(A + h, X) - f(A - h, X)) / (2 * h)
    d2 = (f(A + h / 2, X) - f(A - h / 2, X)) / h
    np.testing.assert_allclose(jac.diagonal(), ((4 * d2 - d1) / 3).ravel(), rtol=1e-8)


@pytest.mark.parametrize("text", ["torch.special.gammainc(a, x)", "torch.igamma(a, x)", "a.igamma(x)",
                                  "torch.special.gammaincc(a, x)", "gammainc(a, x)"])
def test_pytorchs_spellings_are_refused_in_its_words(text):
    values = {"a": A, "x": X}
    api.jacobian(text, values, wrt=["x"])  # by x: answered
    with pytest.raises(JacError) as err:
        api.jacobian(text, values, wrt=["a"])
    assert "as PyTorch has none" in err.value.message and "is not implemented" in err.value.message
    torch = pytest.importorskip("torch")
    a = torch.tensor(A, requires_grad=True)
    with pytest.raises(NotImplementedError, match="is not implemented"):
        torch.special.gammainc(a, torch.tensor(X)).sum().backward()


def test_second_derivatives_mixed_answered_by_a_twice_refused_as_jax():
    jax = _jax()
    from jax.scipy.special import gammainc

    values = {"a": np.array(1.5), "x": np.array(2.0)}
    h = api.hessian("jax.scipy.special.gammainc(a, x)", values, wrt=["x"])
    np.testing.assert_allclose(h[("x", "x")], jax.grad(jax.grad(gammainc, 1), 1)(1.5, 2.0), rtol=1e-13)
    mixed = api.jacobian("d = jax.grad(jax.scipy.special.gammainc, 1)(a, x); d", values, wrt=["a"])["a"]
    np.testing.assert_allclose(mixed, jax.grad(jax.grad(gammainc, 1), 0)(1.5, 2.0), rtol=1e-13)
    with pytest.raises(JacError, match="Differentiation rule for 'igamma_grad_a' not implemented"):
        api.hessian("jax.scipy.special.gammainc(a, x)", values, wrt=["a"])
    with pytest.raises(NotImplementedError, match="igamma_grad_a"):
        jax.grad(jax.grad(gammainc, 0), 0)(1.5, 2.0)


def test_jax_stats_gamma_cdf_by_its_shape_is_jaxs():
    jax = _jax()
    import jax.scipy.stats

    x, a = np.array([0.3, 1.2, 4.0]), np.array([0.8, 2.0, 5.5])
    ours = api.jacobian("import jax\njax.scipy.stats.gamma.cdf(x, a)", {"x": x, "a": a}, wrt=["a"])["a"].diagonal()
    theirs = np.asarray(jax.vmap(jax.grad(jax.scipy.stats.gamma.cdf, 1))(x, a))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


# -- betainc by a and b: refused as JAX refuses --------------------------------------------------------------------

@pytest.mark.parametrize("text", ["scipy.special.betainc(a, b, x)", "jax.scipy.special.betainc(a, b, x)"])
@pytest.mark.parametrize("wrt", ["a", "b"])
def test_betainc_by_a_and_b_is_refused_in_jaxs_words(text, wrt):
    values = {"a": np.array([1.5, 2.0]), "b": np.array([2.5, 0.7]), "x": np.array([0.3, 0.8])}
    api.jacobian(text, values, wrt=["x"])
    with pytest.raises(JacError, match="Betainc gradient with respect to a and b not supported"):
        api.jacobian(text, values, wrt=[wrt])
    jax = _jax()
    from jax.scipy.special import betainc

    with pytest.raises(ValueError, match="Betainc gradient with respect to a and b not supported"):
        jax.grad(betainc, 0 if wrt == "a" else 1)(1.5, 2.5, 0.3)


# -- var and std with where= ---------------------------------------------------------------------------------------

M = np.array([[1.0, -2.0, 3.0, 4.5], [2.0, 5.0, 1.0, 0.5], [0.2, -0.3, 0.9, 1.7]])
SPREADS = [("var", "", {}), ("std", "", {}), ("var", ", axis=1", {"axis": 1}), ("std", ", axis=0, ddof=1",
                                                                                  {"axis": 0, "ddof": 1}),
           ("var", ", axis=1, ddof=1, keepdims=True", {"axis": 1, "ddof": 1, "keepdims": True}),
           ("std", ", axis=(0, 1)", {"axis": (0, 1)})]


def _central(text, values, name, h=1e-6):
    x = values[name]
    out = []
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = h
        up = api.evaluate(text, {**values, name: x + e.reshape(x.shape)})
        down = api.evaluate(text, {**values, name: x - e.reshape(x.shape)})
        out.append((up - down) / (2 * h))
    return np.moveaxis(np.array(out), 0, -1).reshape(np.shape(out[0]) + x.shape)


@pytest.mark.parametrize("fname,extra,kw", SPREADS)
@pytest.mark.parametrize("lib", ["np", "jnp"])
def test_spreads_with_where_are_numpys_values_and_jaxs_gradients(fname, extra, kw, lib):
    text = f"{lib}.{fname}(x{extra}, where=x > -1.0)"
    mask = M > -1.0
    expected = getattr(np, fname)(M, where=mask, **kw)
    got = api.evaluate(text, {"x": M})
    np.testing.assert_allclose(got, expected, rtol=1e-15)
    jac = api.jacobian(text, {"x": M})["x"]
    np.testing.assert_allclose(jac, _central(text, {"x": M}, "x"), rtol=1e-6, atol=1e-8)
    jax = _jax()
    import jax.numpy as jnp

    def f(x):
        return getattr(jnp, fname)(x, where=jnp.asarray(mask), **kw)
    np.testing.assert_allclose(jac, np.asarray(jax.jacrev(f)(M)), rtol=1e-12, atol=1e-14)


def test_spreads_with_where_hessian_and_an_empty_slice():
    h = api.hessian("np.var(x, axis=1, where=x > 0.4).sum()", {"x": M}, wrt=["x"])[("x", "x")]
    jax = _jax()
    import jax.numpy as jnp

    theirs = jax.hessian(lambda x: jnp.var(x, axis=1, where=jnp.asarray(M > 0.4)).sum())(M)
    np.testing.assert_allclose(h, np.asarray(theirs), rtol=1e-12, atol=1e-14)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        expected = np.var(M, axis=1, where=M > 4.0)  # rows 0 and 2 hold no element: NaN, as NumPy
    np.testing.assert_array_equal(api.evaluate("np.var(x, axis=1, where=x > 4.0)", {"x": M}), expected)


@pytest.mark.parametrize("fname", ["var", "std"])
def test_a_slice_of_one_element_less_ddof_is_nan_and_the_others_derivatives_are_jaxs(fname):
    """Column 1 keeps one element (5.0) and ddof=1: NaN, and NaN its derivative by that element only; the masked-out
    elements' derivatives are exact zeros (a masked cotangent, not 0 · inf), as JAX's. JAX also gives NaN for the
    other columns' derivatives by that element, on which they do not depend: jac's 0 there."""
    text = f"jnp.{fname}(x, axis=0, ddof=1, where=x > 0.4)"
    jax = _jax()
    import jax.numpy as jnp

    with np.errstate(all="ignore"):
        ours = api.jacobian(text, {"x": M})["x"]
    theirs = np.array(jax.jacrev(lambda x: getattr(jnp, fname)(x, axis=0, ddof=1, where=jnp.asarray(M > 0.4)))(M))
    assert np.isnan(theirs[1, 1, 1]) and np.isnan(theirs[:, 1, 1]).all()
    theirs[[0, 2, 3], 1, 1] = 0.0
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def test_torch_var_has_no_where():
    with pytest.raises(JacError, match="no argument 'where'"):
        api.evaluate("torch.var(x, where=x > 0)", {"x": M})


# -- torch.histogram -----------------------------------------------------------------------------------------------

HIST_CASES = [("torch.histogram(x, 7)", {}), ("torch.histogram(x, bins=3, range=(0.0, 2.0))", {}),
              ("torch.histogram(x)", {}), ("torch.histogram(x, [0.0, 0.5, 0.75, 3.0])", {}),
              ("torch.histogram(x, 4, weight=w, density=True)", {"w": True}), ("x.histogram(5)", {})]


@pytest.mark.parametrize("text,extra", HIST_CASES)
def test_torch_histogram_is_pytorchs_and_refuses_its_derivative(text, extra):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.uniform(-0.5, 2.5, (5, 8))
    w = rng.uniform(0.0, 1.0, (5, 8))
    values = {"x": x, "w": w} if extra else {"x": x}
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    theirs = eval(text.replace("weight=w", "weight=tw").replace("(x", "(tx").replace("x.", "tx.")
                  .replace("[0.0, 0.5, 0.75, 3.0]", "torch.tensor([0.0, 0.5, 0.75, 3.0], dtype=torch.float64)"))
    for part in ("hist", "bin_edges"):
        ours = api.evaluate(f"{text}.{part}", values)
        expected = getattr(theirs, part).detach().numpy()
        if part == "hist" and not extra:  # counts: exact; edges and densities: to rounding (see _torch_histogram)
            np.testing.assert_array_equal(ours, expected)
        np.testing.assert_allclose(ours, expected, rtol=1e-15, atol=1e-15, err_msg=part)
        with pytest.raises(JacError, match="derivative for aten::histogram is not implemented"):
            api.jacobian(f"{text}.{part}", values)
        with pytest.raises(RuntimeError, match="derivative for aten::histogram is not implemented"):
            getattr(theirs, part).sum().backward(retain_graph=True)


def test_torch_histogram_of_a_detached_input_is_a_constant():
    x = np.array([0.1, 0.5, 0.7, 2.0])
    jac = api.jacobian("torch.histogram(x.detach(), 3).hist * x[:3]", {"x": x})["x"]
    np.testing.assert_array_equal(jac[:, :3], np.diag([3.0, 0.0, 1.0]))


def test_torch_histogram_refuses_what_pytorch_refuses():
    with pytest.raises(JacError, match="range"):
        api.evaluate("torch.histogram(x, 3)", {"x": np.array([0.1, np.nan])})
    with pytest.raises(JacError, match="bins must be > 0"):
        api.evaluate("torch.histogram(x, 0)", {"x": np.array([0.1, 0.2])})
    with pytest.raises(JacError, match="min should not exceed max"):
        api.evaluate("torch.histogram(x, 3, range=(2.0, 1.0))", {"x": np.array([0.1, 0.2])})


# -- hyp1f1 by a and b (JAX differentiates them) ---------------------------------------------------------------------

def _mp_hyp1f1_slope(a, b, x, index):
    if index == 0:
        return float(mpmath.diff(lambda t: mpmath.hyp1f1(t, b, x), a))
    return float(mpmath.diff(lambda t: mpmath.hyp1f1(a, t, x), b))


def test_hyp1f1_by_its_parameters_is_mpmaths_to_1e12():
    from jacobi_cli.ir.kummer import hyp1f1_slope

    rng = np.random.default_rng(39)
    a, b, x = rng.uniform(-5, 10, 60), rng.uniform(0.1, 12, 60), rng.uniform(-40, 40, 60)
    a[:15], x[:15] = rng.uniform(0.01, 3, 15), rng.uniform(-3, 3, 15)
    answered = 0
    for i in range(a.size):
        for index in (0, 1):
            try:
                got = float(hyp1f1_slope(np.array(a[i]), np.array(b[i]), np.array(x[i]), index))
            except JacError as err:
                assert "cancels" in err.message or "converge" in err.message
                continue
            exact = _mp_hyp1f1_slope(a[i], b[i], x[i], index)
            assert abs(got - exact) <= 1e-12 * abs(exact), (a[i], b[i], x[i], index, got, exact)
            answered += 1
    assert answered >= 110


@pytest.mark.parametrize("text", ["scipy.special.hyp1f1(a, b, x)", "jax.scipy.special.hyp1f1(a, b, x)"])
def test_hyp1f1_by_a_and_b_through_the_api_and_jax(text):
    a, b, x = np.array([0.35, 2.5, 0.5, 3.0]), np.array([0.62, 1.5, 3.0, 7.0]), np.array([0.47, 10.0, -5.0, 40.0])
    jac = api.jacobian(text, {"a": a, "b": b, "x": x})
    for index, name in enumerate("ab"):
        exact = [_mp_hyp1f1_slope(*p, index) for p in zip(a, b, x)]
        np.testing.assert_allclose(jac[name].diagonal(), exact, rtol=1e-12)
    jax = _jax()
    from jax.scipy.special import hyp1f1

    for index, name in enumerate("ab"):  # JAX's own series, where it is accurate (its 1.2, 0.4, -20 is off by 8e-6)
        theirs = np.asarray(jax.vmap(jax.grad(hyp1f1, index))(a, b, x))
        np.testing.assert_allclose(jac[name].diagonal(), theirs, rtol=1e-12)


def test_hyp1f1_refusals_say_why():
    with pytest.raises(JacError, match="pole"):
        api.jacobian("scipy.special.hyp1f1(a, b, x)", {"a": np.array(1.5), "b": np.array(-2.0), "x": np.array(0.5)},
                     wrt=["a"])
    with pytest.raises(JacError, match="through its parameters is not supported"):
        api.hessian("scipy.special.hyp1f1(a, 2.0, x)", {"a": np.array(1.5), "x": np.array(0.5)})
    h = api.hessian("scipy.special.hyp1f1(1.5, 2.0, x)", {"x": np.array(0.5)})[("x", "x")]
    exact = float(mpmath.diff(lambda t: mpmath.hyp1f1(1.5, 2.0, t), 0.5, 2))
    assert abs(h - exact) <= 1e-12 * abs(exact)
