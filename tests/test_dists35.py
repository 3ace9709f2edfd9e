"""Session 35's distributions (lang/distributions.py): scipy.stats' discrete ppf / isf against SciPy at many q (the
cdf's jumps, 0, 1, NaN, invalid shapes) with derivative 0 by q and the shapes; scipy.stats' derivatives NaN where its
value is NaN (jax.scipy.stats' stay JAX's); LowRankMultivariateNormal with batch shapes and its KL pairs with
MultivariateNormal against PyTorch; Laplace's cdf / icdf and the classes' mode against PyTorch. Jacobians against
central differences. Parity parts skip without SciPy / PyTorch / JAX."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from test_dists33 import _central, _torch_value

DISCRETE = {"bernoulli": ("p",), "poisson": ("mu",), "binom": ("n", "p"), "geom": ("p",), "nbinom": ("n", "p"),
            "betabinom": ("n", "a", "b")}
GOOD = {"p": 0.35, "mu": 2.5, "n": 6.0, "a": 1.5, "b": 2.5}
BAD = {"p": 1.5, "mu": -1.0, "n": 2.5, "a": -1.0, "b": 0.0}


def _quantile_text(dist, name):
    return f"import scipy.stats\nscipy.stats.{dist}.{name}(q, {', '.join(DISCRETE[dist])}, loc)"


@pytest.mark.parametrize("name", ["ppf", "isf"])
@pytest.mark.parametrize("dist", sorted(DISCRETE))
def test_discrete_quantiles_are_scipys_at_every_q(dist, name):
    st = pytest.importorskip("scipy.stats")
    gen, shapes = getattr(st, dist), DISCRETE[dist]
    ks = np.arange(-1, 16)
    jumps = np.concatenate([gen.cdf(ks, *[GOOD[k] for k in shapes]), gen.sf(ks, *[GOOD[k] for k in shapes])])
    q = np.concatenate([np.linspace(0, 1, 41), jumps, [np.nan, -0.1, 1.1, np.nextafter(1, 0), 5e-324]])
    for bad in [None, *shapes]:  # valid shapes, then each invalid in turn (NaN at every q, 0 and 1 included)
        values = {"q": q, **{k: np.full(q.shape, BAD[k] if k == bad else GOOD[k]) for k in shapes},
                  "loc": np.full(q.shape, 0.5)}
        theirs = getattr(gen, name)(q, *[values[k] for k in shapes], loc=0.5)
        np.testing.assert_array_equal(api.evaluate(_quantile_text(dist, name), values), theirs, err_msg=str(bad))


@pytest.mark.parametrize("name", ["ppf", "isf"])
@pytest.mark.parametrize("dist", sorted(DISCRETE))
def test_discrete_quantiles_are_counts_their_slopes_zero_and_one_by_loc(dist, name):
    shapes = DISCRETE[dist]
    values = {"q": np.array([0.13, 0.41, 0.77]), **{k: np.full(3, GOOD[k]) for k in shapes}, "loc": np.full(3, 0.5)}
    code = _quantile_text(dist, name)
    value = api.evaluate(code, values)
    assert np.array_equal(value - 0.5, np.floor(value - 0.5))  # counts
    wrt = [k for k in values if k != "n"]
    jac = api.jacobian(code, values, wrt=wrt)
    for k in wrt:
        expect = np.eye(3) if k == "loc" else np.zeros((3, 3))
        np.testing.assert_array_equal(jac[k], expect, err_msg=k)
        np.testing.assert_allclose(_central(code, values, k), expect, atol=1e-9, err_msg=k)


def test_binom_quantile_at_one_is_n_plus_loc_with_its_slope_by_n():
    values = {"q": np.array([1.0, 0.0, 0.5]), "n": np.array(5.0), "p": np.array(0.4), "loc": np.array(0.5)}
    code = _quantile_text("binom", "ppf")
    np.testing.assert_array_equal(api.evaluate(code, values), [5.5, -0.5, 2.5])
    np.testing.assert_array_equal(api.jacobian(code, values, wrt=["n"])["n"], [1.0, 0.0, 0.0])


def test_jax_has_no_discrete_quantile_but_bernoulli_ppf():
    with pytest.raises(JacError, match="poisson has no such name"):
        api.evaluate("import jax\njax.scipy.stats.poisson.ppf(q, mu)", {"q": np.array(0.3), "mu": np.array(2.0)})


# --- SciPy's NaN: its derivative NaN -------------------------------------------------------------------------------
NAN_CASES = [
    ("norm.logpdf(x, loc, s)", {"s": [1.0, -1.0]}), ("norm.cdf(x, loc, s)", {"s": [1.0, -1.0]}),
    ("expon.logpdf(x, loc, s)", {"s": [1.0, -1.0]}), ("logistic.sf(x, loc, s)", {"s": [1.0, 0.0]}),
    ("gamma.logpdf(x, a, loc, s)", {"a": [2.0, -1.0]}), ("beta.logpdf(x, a, a, loc, s)", {"a": [2.0, -1.0]}),
    ("t.logpdf(x, a, loc, s)", {"a": [3.0, -1.0]}), ("poisson.logpmf(k, a, loc)", {"a": [2.0, -1.0]}),
    ("binom.logpmf(k, 5.0, p, loc)", {"p": [0.3, 1.5]}), ("geom.cdf(k, p, loc)", {"p": [0.3, 1.5]}),
    ("norm.ppf(p, loc, s)", {"p": [0.3, 1.5]}), ("poisson.ppf(p, a, loc)", {"p": [0.3, 1.5]}),
]
BASE = {"x": [0.5, 0.5], "k": [1.0, 1.0], "loc": [0.1, 0.1], "s": [1.2, 1.2], "a": [2.0, 2.0], "p": [0.3, 0.3]}


@pytest.mark.parametrize("text, given", NAN_CASES, ids=[t for t, _ in NAN_CASES])
def test_scipys_derivative_is_nan_where_its_value_is(text, given):
    code = "import scipy.stats\nscipy.stats." + text
    names = [k for k in BASE if k in text.split("(")[1].replace(")", "").replace(" ", "").split(",")]
    values = {k: np.array(given.get(k, BASE[k])) for k in names}
    wrt = [k for k in names if k != "k"]
    value, jac = api.evaluate(code, values), api.jacobian(code, values, wrt=wrt)
    assert np.isnan(value[1]) and not np.isnan(value[0])
    for k in wrt:  # NaN at the NaN value, by every input; the valid element's derivative untouched
        assert np.isnan(jac[k][1, 1]) and jac[k][0, 1] == 0.0 and jac[k][1, 0] == 0.0, k
        valid = {kk: v[:1] for kk, v in values.items()}
        np.testing.assert_allclose(jac[k][0, 0], api.jacobian(code, valid, wrt=[k])[k][0, 0], rtol=1e-15)


def test_jax_spelling_keeps_jaxs_derivative_at_invalid_scale():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.scipy.stats as js
    values = {"x": np.array([0.5, 0.5]), "loc": np.array([0.0, 0.0]), "s": np.array([1.0, -1.0])}
    for dist in ("norm", "expon", "laplace", "logistic", "cauchy"):
        code = f"import jax\njax.scipy.stats.{dist}.logpdf(x, loc, s)"
        theirs = jax.jacrev(lambda s: getattr(js, dist).logpdf(values["x"], values["loc"], s))(values["s"])
        ours = api.jacobian(code, values, wrt=["s"])["s"]
        np.testing.assert_allclose(np.diagonal(ours), np.diagonal(np.asarray(theirs)), equal_nan=True, err_msg=dist)


# --- LowRankMultivariateNormal with batches, its KL pairs ----------------------------------------------------------
HEAD = ("import torch\nfrom torch.distributions import LowRankMultivariateNormal, MultivariateNormal, "
        "kl_divergence\n")
N, R = 3, 2
BATCHES = [((2, N), (N, R), (N,)), ((N,), (2, N, R), (N,)), ((N,), (N, R), (2, N)), ((2, N), (2, N, R), (2, N)),
           ((4, 1, N), (2, N, R), (1, N)), ((2, 1, N), (1, 3, N, R), (3, N))]
LR = "LowRankMultivariateNormal(m, w, d)"
LR_TEXTS = [f"{LR}.log_prob(x)", f"{LR}.entropy()", f"{LR}.mean", f"{LR}.variance", f"{LR}.stddev",
            f"{LR}.covariance_matrix", f"{LR}.precision_matrix", f"{LR}.scale_tril", f"{LR}.cov_factor",
            f"kl_divergence({LR}, LowRankMultivariateNormal(m2, w2, d2))",
            f"kl_divergence({LR}, MultivariateNormal(m2, covariance_matrix=c))",
            f"kl_divergence(MultivariateNormal(m2, covariance_matrix=c), {LR})"]


def _lowrank_values(shapes, seed=35):
    rng = np.random.default_rng(seed)
    ls, ws, ds = shapes
    a = rng.normal(size=ws[:-2] + (N, N))
    return {"m": rng.normal(size=ls), "w": rng.normal(size=ws), "d": rng.uniform(0.5, 2, size=ds),
            "x": rng.normal(size=(N,)), "m2": rng.normal(size=ls), "w2": rng.normal(size=ws),
            "d2": rng.uniform(0.5, 2, size=ds), "c": a @ np.swapaxes(a, -1, -2) + N * np.eye(N)}


@pytest.mark.parametrize("shapes", BATCHES, ids=[str(s) for s in BATCHES])
@pytest.mark.parametrize("text", LR_TEXTS)
def test_lowrank_with_batches_is_pytorchs(text, shapes):
    values = _lowrank_values(shapes)
    try:
        theirs = _torch_value(text, values)
    except RuntimeError:  # PyTorch cannot expand (LowRank-MVN with cov_diag's batch beyond the others'): refused
        with pytest.raises(JacError):
            api.evaluate(HEAD + text, values)
        return
    ours = api.evaluate(HEAD + text, values)
    assert np.shape(ours) == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("text", [t for t in LR_TEXTS if "log_prob" in t or "kl" in t or "precision" in t])
def test_lowrank_batched_jacobians_are_the_slopes(text):
    values = _lowrank_values(((2, N), (2, N, R), (N,)), seed=7)
    code = HEAD + text
    jac = api.jacobian(code, values, wrt=["m", "w", "d"])
    for k in ("m", "w", "d"):
        np.testing.assert_allclose(jac[k], _central(code, values, k), rtol=1e-6, atol=1e-7, err_msg=k)


def test_lowrank_batch_shapes_that_do_not_broadcast_are_refused_with_pytorchs_words():
    values = {"m": np.zeros((2, N)), "w": np.ones((3, N, R)), "d": np.ones(N)}
    with pytest.raises(JacError, match="Incompatible batch shapes"):
        api.evaluate(HEAD + f"{LR}.entropy()", values)


# --- Laplace's cdf / icdf, mode -----------------------------------------------------------------------------------
TORCH = ("import torch\nfrom torch.distributions import Laplace, Normal, Cauchy, StudentT, Gumbel, VonMises, "
         "HalfNormal, Exponential, Geometric, LogNormal, Gamma, Chi2, Weibull, Pareto, Poisson, Binomial, Bernoulli, "
         "Uniform, Categorical, OneHotCategorical, Independent, Beta\n")
M, S = np.array([0.5, -1.0, 0.3]), np.array([1.3, 0.6, 2.0])
A, U = np.array([1.5, 0.7, 2.5]), np.array([0.2, 0.5, 0.7])
TEXTS = [
    ("Laplace(m, s).cdf(x)", {"m": M, "s": S, "x": np.array([0.1, -1.0, 2.5])}),
    ("Laplace(m, s).icdf(u)", {"m": M, "s": S, "u": np.array([0.2, 0.5, 0.9])}),
    ("Normal(m, s).mode + Cauchy(m, s).mode + Gumbel(m, s).mode + StudentT(a, m, s).mode", {"m": M, "s": S, "a": A}),
    ("HalfNormal(s).mode + Exponential(s).mode + Geometric(probs=u).mode", {"s": S, "u": U}),
    ("LogNormal(m, s).mode", {"m": M, "s": S}), ("Gamma(a, s).mode + Chi2(a).mode", {"a": A, "s": S}),
    ("Weibull(s, a).mode", {"a": A, "s": S}), ("Pareto(s, a).mode", {"a": A, "s": S}),
    ("Poisson(a).mode", {"a": A}), ("Binomial(5, probs=u).mode", {"u": np.array([0.2, 0.45, 0.7])}),
    ("Binomial(torch.tensor([3.0, 5.0, 7.0]), probs=u).mode", {"u": np.array([0.2, 0.99, 0.7])}),
    ("Bernoulli(probs=u).mode", {"u": U}), ("Uniform(m, m + s).mode", {"m": M, "s": S}),
    ("Categorical(logits=m).mode", {"m": M}), ("OneHotCategorical(logits=m).mode", {"m": M}),
    ("Independent(Normal(m, s), 1).mode", {"m": M, "s": S}), ("VonMises(m, a).mode", {"m": M, "a": A}),
]


@pytest.mark.parametrize("text, values", TEXTS, ids=[t for t, _ in TEXTS])
def test_laplace_cdf_and_modes_are_pytorchs_and_their_slopes(text, values):
    theirs = _torch_value(text, values)
    ours = api.evaluate(TORCH + text, values)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14, equal_nan=True)
    wrt = [k for k in values if not np.isnan(ours).any()]
    if not wrt:
        return
    jac = api.jacobian(TORCH + text, values, wrt=wrt)
    for k in wrt:
        np.testing.assert_allclose(jac[k], _central(TORCH + text, values, k), rtol=1e-6, atol=1e-7, err_msg=k)


def test_a_mode_jac_does_not_read_is_refused_naming_those_it_reads():
    # session 36: every class whose mode PyTorch has is read (Kumaraswamy's refused: PyTorch's is NaN); the others
    # are PyTorch's NotImplementedError
    with pytest.raises(JacError, match="ContinuousBernoulli.mode: PyTorch raises NotImplementedError.*jac reads the "
                                       "mode of Normal"):
        api.evaluate(TORCH + "torch.distributions.ContinuousBernoulli(probs=a / 4.0).mode", {"a": A})
