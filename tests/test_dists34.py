"""Session 34's distributions (lang/distributions.py, its session-34 section): ``torch.distributions``' LogNormal, StudentT, Cauchy,
HalfNormal, Dirichlet, Binomial, Geometric, Gumbel, Chi2, Weibull and ``scipy.stats`` / ``jax.scipy.stats``'
bernoulli, poisson, binom, geom, gamma, beta, t, cauchy, chi2, dirichlet: values against the libraries' own in
float64 (edges included), Jacobians against central differences and against PyTorch's autograd and JAX's jacrev
(parameters as inputs too), JVPs against the Jacobian, Hessians against central differences of the gradient;
PyTorch's validate_args refusals with its words, SciPy's NaN / −inf where it gives them, rsample's hint per class."""

import re

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian
from test_dists33 import _central, _torch_value
from test_jax16 import jax_process  # noqa: F401 - the fixture is used by name

TORCH = ("import torch\nfrom torch.distributions import LogNormal, StudentT, Cauchy, HalfNormal, Dirichlet, Binomial, "
         "Geometric, Gumbel, Chi2, Weibull, Independent\n")
M, S, X = np.array([0.5, -1.0, 0.3]), np.array([1.3, 0.6, 2.0]), np.array([0.7, 1.9, 0.2])
DF, U = np.array([3.5, 1.5, 7.0]), np.array([0.2, 0.7, 0.45])
C3 = np.array([1.5, 0.7, 2.5])
SIMPLEX = np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])

TORCH_TEXTS = [
    ("LogNormal(m, s).log_prob(x)", {"m": M, "s": S, "x": X}),
    ("LogNormal(m, s).cdf(x) + LogNormal(m, s).icdf(u)", {"m": M, "s": S, "x": X, "u": U}),
    ("LogNormal(m, s).entropy() + LogNormal(m, s).mean + LogNormal(m, s).variance + LogNormal(m, s).stddev",
     {"m": M, "s": S}),
    ("StudentT(df, m, s).log_prob(x)", {"df": DF, "m": M, "s": S, "x": X - 0.5}),
    ("StudentT(df).log_prob(x)", {"df": DF, "x": X - 0.5}),
    ("StudentT(df, m, s).entropy()", {"df": DF, "m": M, "s": S}),
    ("StudentT(df + 1.0, m, s).mean + StudentT(df + 1.0, m, s).variance", {"df": DF, "m": M, "s": S}),
    ("Cauchy(m, s).log_prob(x) + Cauchy(m, s).cdf(x) + Cauchy(m, s).icdf(u)", {"m": M, "s": S, "x": X, "u": U}),
    ("Cauchy(m, s).entropy()", {"m": M, "s": S}),
    ("HalfNormal(s).log_prob(x) + HalfNormal(s).cdf(x) + HalfNormal(s).icdf(u)", {"s": S, "x": X, "u": U}),
    ("HalfNormal(s).entropy() + HalfNormal(s).mean + HalfNormal(s).variance + HalfNormal(s).stddev", {"s": S}),
    ("Dirichlet(c).log_prob(v)", {"c": C3, "v": SIMPLEX}),
    ("Dirichlet(c).entropy()", {"c": C3}),
    ("Dirichlet(c).mean + Dirichlet(c).variance + Dirichlet(c).stddev", {"c": C3}),
    ("Independent(Dirichlet(c.reshape(1, 3)), 1).log_prob(v[:1])", {"c": C3, "v": SIMPLEX}),
    ("Binomial(10, probs=u).log_prob(torch.tensor([3.0, 10.0, 0.0]))", {"u": U}),
    ("Binomial(torch.tensor([5.0, 7.0, 2.0]), logits=m).log_prob(torch.tensor([3.0, 0.0, 2.0]))", {"m": M}),
    ("Binomial(10, probs=u).mean + Binomial(10, probs=u).variance + Binomial(10, probs=u).stddev", {"u": U}),
    ("Geometric(probs=u).log_prob(torch.tensor([0.0, 3.0, 1.0]))", {"u": U}),
    ("Geometric(logits=m).log_prob(torch.tensor([2.0, 0.0, 5.0]))", {"m": M}),
    ("Geometric(probs=u).entropy() + Geometric(probs=u).mean + Geometric(probs=u).variance", {"u": U}),
    ("Gumbel(m, s).log_prob(x) + Gumbel(m, s).entropy()", {"m": M, "s": S, "x": X}),
    ("Gumbel(m, s).mean + Gumbel(m, s).variance + Gumbel(m, s).stddev", {"m": M, "s": S}),
    ("Chi2(df).log_prob(x) + Chi2(df).entropy()", {"df": DF, "x": X}),
    ("Chi2(df).mean + Chi2(df).variance + Chi2(df).stddev", {"df": DF}),
    ("Weibull(s, c).log_prob(x)", {"s": S, "c": C3, "x": X}),
    ("Weibull(s, c).entropy() + Weibull(s, c).mean + Weibull(s, c).variance + Weibull(s, c).stddev",
     {"s": S, "c": C3}),
]


@pytest.mark.parametrize("code, values", TORCH_TEXTS, ids=[c[:60] for c, _ in TORCH_TEXTS])
def test_values_are_pytorchs_and_jacobians_the_slopes(code, values):
    theirs = _torch_value(code, values)
    np.testing.assert_allclose(api.evaluate(TORCH + code, values), theirs, rtol=1e-13, atol=1e-14)
    jac = api.jacobian(TORCH + code, values)
    for name in values:
        if "Dirichlet" in code and name == "v":  # a step leaves the simplex, where PyTorch raises: autograd's below
            continue
        np.testing.assert_allclose(jac[name], _central(TORCH + code, values, name), rtol=1e-6, atol=1e-6,
                                   err_msg=name)


@pytest.mark.parametrize("code, values", TORCH_TEXTS[::3], ids=[c[:60] for c, _ in TORCH_TEXTS[::3]])
def test_forward_mode_and_hessians(code, values):
    """jvp = J·t; the Hessian of the sum against central differences of the gradient."""
    text = TORCH + code
    rng = np.random.default_rng(34)
    tangents = {k: rng.standard_normal(np.shape(v)) for k, v in values.items()}
    jac = api.jacobian(text, values)
    out_shape = np.shape(api.evaluate(text, values))
    expected = sum(np.tensordot(jac[k], tangents[k], axes=np.ndim(values[k])) for k in values)
    np.testing.assert_allclose(api.jvp(text, values, tangents), expected.reshape(out_shape), rtol=1e-12,
                               atol=1e-12)
    total = text + ".sum()" if "\n" not in code else text
    hess = api.hessian(total, values)
    for a in values:
        for b in values:
            grad_a = lambda v, b=b, a=a: api.jacobian(total, {**values, b: v}, wrt=[a])[a]  # noqa: E731
            np.testing.assert_allclose(hess[(a, b)], central_jacobian(grad_a, values[b]), rtol=1e-5, atol=1e-6,
                                       err_msg=f"{a}, {b}")


EDGES = [
    ("HalfNormal(s).log_prob(x) + HalfNormal(s).cdf(x)", {"s": S, "x": np.zeros(3)}),
    ("LogNormal(m, s).cdf(x)", {"m": M, "s": S, "x": np.array([0.0, 1.0, 0.0])}),
    ("Dirichlet(c).log_prob(v)", {"c": np.array([1.0, 2.0, 0.5]), "v": np.array([0.0, 0.4, 0.6])}),
    ("Geometric(probs=u).log_prob(torch.tensor([0.0, 2.0]))", {"u": np.array([1.0, 1.0])}),
    ("Binomial(3, probs=u).log_prob(torch.tensor([0.0, 3.0, 1.0]))", {"u": np.array([0.0, 1.0, 0.5])}),
    ("StudentT(df).mean + StudentT(df).variance", {"df": np.array([0.5, 1.0, 1.5, 2.0, 2.5])}),
    ("Cauchy(m, s).mean + Cauchy(m, s).variance + Cauchy(m, s).stddev", {"m": M, "s": S}),
    ("Chi2(df).log_prob(x)", {"df": np.array([2.0, 1.0, 4.0]), "x": np.array([0.0, 0.0, 0.0])}),
]


@pytest.mark.parametrize("code, values", EDGES, ids=[c[:60] for c, _ in EDGES])
def test_values_at_the_edges_are_pytorchs(code, values):
    np.testing.assert_allclose(api.evaluate(TORCH + code, values), _torch_value(code, values), rtol=1e-13)


REFUSED = [
    ("LogNormal(m, s).log_prob(x)", {"m": M, "s": -S, "x": X}, "expected parameter scale"),
    ("LogNormal(m, s).log_prob(x)", {"m": M, "s": S, "x": -X}, "GreaterThan(lower_bound=0.0)) of the distribution"),
    ("StudentT(df, m, s).log_prob(x)", {"df": -DF, "m": M, "s": S, "x": X}, "expected parameter df"),
    ("Cauchy(m, s).entropy()", {"m": M, "s": S * 0.0}, "expected parameter scale"),
    ("HalfNormal(s).log_prob(x)", {"s": S, "x": X - 1.0}, "GreaterThanEq(lower_bound=0.0)) of the distribution"),
    ("Dirichlet(c).log_prob(v)", {"c": C3, "v": SIMPLEX * 1.01}, "Simplex()"),
    ("Dirichlet(c).entropy()", {"c": -C3}, "expected parameter concentration"),
    ("Binomial(10, probs=u).log_prob(x)", {"u": U, "x": np.array([1.0, 11.0, 2.0])}, "IntegerInterval"),
    ("Binomial(10, probs=u).log_prob(x)", {"u": U, "x": np.array([1.0, 1.5, 2.0])}, "IntegerInterval"),
    ("Binomial(t, probs=u).mean", {"u": U, "t": np.array([1.0, 1.5, 2.0])}, "parameter total_count"),
    ("Binomial(10, probs=u).mean", {"u": U + 0.5}, "parameter probs"),
    ("Geometric(probs=u).mean", {"u": np.array([0.5, 0.0])}, "to be positive"),
    ("Geometric(probs=u).log_prob(x)", {"u": U, "x": np.array([1.0, -1.0, 2.0])}, "IntegerGreaterThan"),
    ("Gumbel(m, s).log_prob(x)", {"m": M, "s": -S, "x": X}, "expected parameter scale"),
    ("Chi2(df).log_prob(x)", {"df": DF, "x": -X}, "of the distribution Chi2"),
    ("Chi2(df).mean", {"df": -DF}, "expected parameter df"),
    ("Weibull(s, c).log_prob(x)", {"s": S, "c": -C3, "x": X}, "expected parameter concentration"),
    ("Weibull(s, c).log_prob(x)", {"s": S, "c": C3, "x": X * 0.0}, "GreaterThan(lower_bound=0.0)) of the"),
    ("StudentT(df).cdf(x)", {"df": DF, "x": X}, "NotImplementedError"),
    ("Binomial(n, probs=u).entropy()", {"n": np.array([10.0, 10.0, 10.0]), "u": U}, "0..total_count is enumerated"),
    ("Chi2(df).icdf(x)", {"df": DF, "x": U}, "NotImplementedError"),
]


@pytest.mark.parametrize("code, values, words", REFUSED, ids=[c[:50] for c, _, _ in REFUSED])
def test_refused_as_pytorch_raises(code, values, words):
    with pytest.raises(JacError, match=re.escape(words)):
        api.evaluate(TORCH + code, values)
    if "NotImplementedError" in words or "not read" in words or "enumerated" in words:
        return
    pytest.importorskip("torch")
    with pytest.raises(ValueError):  # PyTorch raises too
        _torch_value(code, values)


RSAMPLE = [("Gamma(c, 1.0)", "implicitly"), ("Beta(c, c)", "g1 / (g1 + g0)"), ("Dirichlet(c)", "g.sum(-1"),
           ("LogNormal(c, c)", "exp(loc + scale * eps)"), ("Normal(c, c)", "loc + scale * eps"),
           ("Laplace(c, c)", "log1p(-abs(u))"), ("Bernoulli(probs=c * 0.1)", "NotImplementedError"),
           ("Independent(Gumbel(c, c), 1)", "log(-log(u))"), ("StudentT(c)", "rsqrt(g / df)")]


@pytest.mark.parametrize("dist, words", RSAMPLE)
def test_rsample_says_what_applies_to_the_class(dist, words):
    code = "import torch\nimport torch.distributions as D\nD." + dist.replace("(G", "(D.G") + ".rsample()"
    with pytest.raises(JacError, match=re.escape(words)):
        api.evaluate(code, {"c": C3})
    with pytest.raises(JacError, match="bind the draw as an input"):
        api.evaluate(code.replace(".rsample()", ".sample()"), {"c": C3})


def test_rsample_of_gamma_no_longer_says_loc_plus_scale():
    with pytest.raises(JacError) as err:
        api.evaluate("import torch\ntorch.distributions.Gamma(c, 1.0).rsample()", {"c": C3})
    assert "loc + scale" not in str(err.value)


@pytest.mark.parametrize("module, ending", [("torch.distributions", "torch's functions"),
                                            ("scipy.stats.norm", "NumPy's and scipy.special's functions"),
                                            ("jax.scipy.stats.norm", "jnp's and jax.scipy.special's functions"),
                                            ("jax.nn", "jnp's functions")])
def test_not_supported_message_names_the_librarys_own_functions(module, ending):
    with pytest.raises(JacError, match=re.escape(ending)):
        api.evaluate(f"import torch\nimport scipy.stats\nimport jax\n{module}.nosuchname(x)", {"x": X})


# --- scipy.stats and jax.scipy.stats -------------------------------------------------------------------------
CONT = {"gamma": ("a",), "beta": ("a", "b"), "t": ("df",), "cauchy": (), "chi2": ("df",)}
DISC = {"bernoulli": ("p",), "poisson": ("mu",), "binom": ("n", "p"), "geom": ("p",)}
SHAPE_VALUES = {"a": np.array([2.5, 0.7, 1.4, 1.0]), "b": np.array([1.5, 3.0, 0.8, 2.0]),
                "df": np.array([3.5, 1.5, 7.0, 2.0]), "p": np.array([0.3, 0.8, 0.55, 0.1]),
                "mu": np.array([2.5, 0.7, 4.0, 1.0]), "n": np.array([5.0, 3.0, 8.0, 1.0])}
XC, LOC, SC = np.array([0.45, 0.9, 0.2, 0.35]), np.array([0.1, -0.2, 0.05, 0.0]), np.array([0.8, 1.5, 0.6, 1.1])
KD = np.array([1.0, 3.0, 0.0, 1.0])
SCIPY_CASES = [(d, n) for d in CONT for n in ("logpdf", "pdf", "cdf")] + [(d, n) for d in DISC
                                                                          for n in ("logpmf", "pmf")]


def _stats_text(root, dist, name):
    shapes = (CONT | DISC)[dist]
    first = "k" if dist in DISC else "x"
    tail = "loc" if dist in DISC else "loc, s"
    return f"import jax\nimport scipy.stats\n{root}.{dist}.{name}({first}, {', '.join(shapes + (tail,))})"


def _stats_values(dist, edges=False):
    shapes = (CONT | DISC)[dist]
    values = {k: SHAPE_VALUES[k] for k in shapes}
    if dist in DISC:
        values.update(k=np.minimum(KD, 1.0) if dist == "bernoulli" else KD + (1.0 if dist == "geom" else 0.0),
                      loc=np.zeros(4))
        if edges:
            values["k"] = np.array([-1.0, 1.5, 9.0, np.nan])
            values[shapes[-1]] = values[shapes[-1]] * np.array([1.0, 1.0, -1.0, 1.0])
    else:
        values.update(x=XC, loc=LOC, s=SC)
        if edges:  # below / at / past the support, a negative scale, a negative shape
            values.update(x=np.array([-2.0, 0.1, 3.0, np.nan]), loc=np.array([0.0, 0.1, 0.0, 0.0]),
                          s=np.array([1.0, 1.0, 1.0, 1.0]))
            if shapes:
                values[shapes[0]] = values[shapes[0]] * np.array([1.0, 1.0, 1.0, -1.0])
    return values


def _scipy_value(dist, name, values):
    import scipy.stats
    shapes = (CONT | DISC)[dist]
    args = [values["k" if dist in DISC else "x"]] + [values[k] for k in shapes] + [values["loc"]]
    if dist not in DISC:
        args.append(values["s"])
    return getattr(getattr(scipy.stats, dist), name)(*args)


@pytest.mark.parametrize("dist, name", SCIPY_CASES)
@pytest.mark.parametrize("edges", [False, True])
def test_scipy_values_are_scipys(dist, name, edges):
    values = _stats_values(dist, edges)
    ours = api.evaluate(_stats_text("scipy.stats", dist, name), values)
    np.testing.assert_allclose(ours, _scipy_value(dist, name, values), rtol=2e-13, atol=0)


def test_scipy_support_edges_and_bad_scales():
    import scipy.stats
    x, a = np.array([0.0, 1.0, -0.5, 0.5]), np.array([0.5, 2.0, 1.0, 1.0])
    s = np.array([1.0, 1.0, 1.0, -1.0])
    code = "import scipy.stats\nscipy.stats.gamma.logpdf(x, a, 0.0, s) + scipy.stats.beta.logpdf(x, a, a, 0.0, s)"
    np.testing.assert_allclose(api.evaluate(code, {"x": x, "a": a, "s": s}),
                               scipy.stats.gamma.logpdf(x, a, 0.0, s) + scipy.stats.beta.logpdf(x, a, a, 0.0, s),
                               rtol=1e-13)
    # outside the support -inf, whose derivative is 0 (the value is constant there); where SciPy's value is NaN
    # (scale < 0) the derivative is NaN since session 35 (tests/test_dists35.py), not a 0 read as "no dependence"
    jac = api.jacobian(code, {"x": x, "a": a, "s": s})
    assert jac["x"][2, 2] == 0.0 and np.isnan(jac["s"][3, 3])


@pytest.mark.parametrize("dist, name", SCIPY_CASES)
@pytest.mark.parametrize("root", ["scipy.stats", "jax.scipy.stats"])
def test_stats_jacobians_are_the_slopes(root, dist, name):
    if root.startswith("jax") and name == "cdf" and dist == "t":
        pytest.skip("jax.scipy.stats.t has no cdf")
    values = _stats_values(dist)
    code = _stats_text(root, dist, name)
    wrt = [k for k in values if k not in ("k", "n", "loc" if dist in DISC else "") and not (
        name == "cdf" and k in ("a", "b", "df"))]
    jac = api.jacobian(code, values, wrt=wrt)
    for key in wrt:
        np.testing.assert_allclose(jac[key], _central(code, values, key), rtol=1e-6, atol=1e-7, err_msg=key)


def test_cdf_by_a_shape_is_answered_as_the_special_function():
    """gamma's cdf by its shape a: scipy.special.gammainc by a, answered since session 39 (JAX differentiates it);
    beta's by a and b stays refused (JAX refuses betainc's)."""
    code, values = _stats_text("scipy.stats", "gamma", "cdf"), _stats_values("gamma")
    got = api.jacobian(code, values, wrt=["a"])["a"]
    np.testing.assert_allclose(got, _central(code, values, "a"), rtol=1e-6, atol=1e-9)
    with pytest.raises(JacError, match="by a or b is not supported"):
        api.jacobian(_stats_text("scipy.stats", "beta", "cdf"), _stats_values("beta"), wrt=["a"])


def test_stats_hessian_and_jvp():
    code = _stats_text("scipy.stats", "t", "logpdf") + ".sum()"
    values = _stats_values("t")
    hess = api.hessian(code, values, wrt=["x", "df"])
    grad = lambda v: api.jacobian(code, {**values, "df": v}, wrt=["x"])["x"]  # noqa: E731
    np.testing.assert_allclose(hess[("x", "df")], central_jacobian(grad, values["df"]), rtol=1e-6, atol=1e-7)


def _dirichlet_values():
    return {"x": np.array([0.2, 0.5, 0.3]), "alpha": np.array([1.5, 0.7, 2.5])}


@pytest.mark.parametrize("name", ["logpdf", "pdf"])
def test_scipy_dirichlet(name):
    import scipy.stats
    for x in (np.array([0.2, 0.5, 0.3]), np.array([0.2, 0.5]), np.array([[0.2, 0.1], [0.5, 0.3], [0.3, 0.6]])):
        values = {"x": x, "alpha": np.array([1.5, 0.7, 2.5])}
        code = f"import scipy.stats\nscipy.stats.dirichlet.{name}(x, alpha)"
        np.testing.assert_allclose(api.evaluate(code, values), getattr(scipy.stats.dirichlet, name)(**values),
                                   rtol=1e-13)
        jac = api.jacobian(code, values)
        for key in values:  # x of every component: a step leaves the simplex, where SciPy raises
            if key == "alpha" or x.shape[0] == 2:
                np.testing.assert_allclose(jac[key], _central(code, values, key), rtol=1e-6, atol=1e-7)
    with pytest.raises(JacError, match="must lie within the normal simplex"):
        api.evaluate("import scipy.stats\nscipy.stats.dirichlet.logpdf(x, alpha)",
                     {"x": np.array([0.2, 0.5, 0.4]), "alpha": np.ones(3)})


# --- parity with JAX (its own process) --------------------------------------------------------------------------
JAX_CASES = [(d, n) for d in CONT for n in ("logpdf", "pdf", "cdf", "sf", "logcdf")
             if not (d == "t" and n not in ("logpdf", "pdf"))] + [(d, n) for d in DISC for n in ("logpmf", "pmf")] \
    + [("cauchy", "ppf"), ("cauchy", "isf")]


def _jax_run(code, values, wrt=()):
    """JAX's value and its jacrev by the inputs ``wrt`` only (its betainc has no derivative by a and b)."""
    from test_jax16 import _jax
    jax = _jax()
    jnp = jax.numpy
    import jax.scipy.stats  # noqa: F401
    last = code.split("\n")[-1]
    wrt = list(wrt)

    def f(*xs):
        scope = {"jax": jax, **{k: jnp.asarray(v) for k, v in values.items()}, **dict(zip(wrt, xs))}
        return jnp.asarray(eval(last, scope), dtype=jnp.float64)
    args = [jnp.asarray(values[k], dtype=jnp.float64) for k in wrt]
    out = {"value": np.asarray(f(*args))}
    if wrt:
        out.update(zip(wrt, map(np.asarray, jax.jacrev(f, argnums=tuple(range(len(wrt))))(*args))))
    return out


@pytest.mark.parametrize("dist, name", JAX_CASES)
@pytest.mark.parametrize("edges", [False, True])
def test_jax_stats_are_jaxs(jax_process, dist, name, edges):
    values = _stats_values(dist, edges)
    code = _stats_text("jax.scipy.stats", dist, name)
    if name in ("ppf", "isf"):
        values["x"] = np.array([0.2, 0.5, 0.9, 0.05])
    wrt = [] if edges else [k for k in values if k != "n" and not (name in ("cdf", "sf", "logcdf")
                                                                      and k in ("a", "b", "df"))]
    theirs = jax_process.submit(_jax_run, code, values, wrt).result()
    np.testing.assert_allclose(api.evaluate(code, values), theirs["value"], rtol=1e-13, atol=1e-300)
    if edges:
        return
    ours = api.jacobian(code, values, wrt=wrt)
    for key in wrt:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-11, atol=1e-12, err_msg=key)


def test_jax_dirichlet(jax_process):
    for x in (np.array([0.2, 0.5, 0.3]), np.array([0.2, 0.5]), np.array([[0.2, 0.1], [0.5, 0.3], [0.3, 0.6]]),
              np.array([0.2, 0.5, 0.4])):
        values = {"x": x, "alpha": np.array([1.5, 0.7, 2.5])}
        code = "import jax\njax.scipy.stats.dirichlet.logpdf(x, alpha)"
        theirs = jax_process.submit(_jax_run, code, values, list(values)).result()
        np.testing.assert_allclose(api.evaluate(code, values), theirs["value"], rtol=1e-13)
        if np.isfinite(theirs["value"]).all():
            ours = api.jacobian(code, values)
            for key in values:
                np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-11, atol=1e-12, err_msg=key)


# --- parity with PyTorch's autograd -----------------------------------------------------------------------------

@pytest.mark.parametrize("code, values", TORCH_TEXTS, ids=[c[:60] for c, _ in TORCH_TEXTS])
def test_torch_gradients_are_pytorchs(code, values):
    from test_parity_dists33b import _torch_vjp
    v = np.random.default_rng(34).standard_normal(np.shape(api.evaluate(TORCH + code, values)))
    theirs = _torch_vjp(code, values, v)
    ours = api.vjp(TORCH + code, values, v=v)
    # digamma's derivative: PyTorch's trigamma is off by about 1e-9 relative (test_parity_dists33b)
    rtol = 1e-8 if "entropy" in code and any(c in code for c in ("StudentT", "Dirichlet", "Chi2")) else 1e-11
    for name in values:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=rtol, atol=1e-12, err_msg=name)
