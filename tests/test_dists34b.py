"""Session 34b's distributions (lang/distributions.py, its session-34b section): ``torch.distributions``'
MixtureSameFamily (of Normal, Independent(Normal) and the other classes with a batch axis of components),
OneHotCategorical, LowRankMultivariateNormal, Kumaraswamy, Pareto, VonMises; the TransformedDistributions' cdf /
icdf (Gumbel, Weibull, Pareto, Kumaraswamy) and Gamma's / Chi2's cdf; kl_divergence of the pairs PyTorch registers.
Values against PyTorch's in float64, Jacobians against central differences and PyTorch's autograd (parameters as
inputs too), JVPs and Hessians; PyTorch's validate_args refusals with its words."""

import re

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian
from test_dists33 import _central, _torch_value

TORCH = ("import torch\nfrom torch.distributions import MixtureSameFamily, Categorical, Normal, Independent, "
         "OneHotCategorical, LowRankMultivariateNormal, Kumaraswamy, Pareto, VonMises, Gumbel, Weibull, Gamma, Chi2, "
         "LogNormal, HalfNormal, Laplace, Bernoulli, Geometric, Binomial, Dirichlet, Exponential, Beta, Uniform, "
         "Poisson, Cauchy, MultivariateNormal, ContinuousBernoulli, RelaxedBernoulli, RelaxedOneHotCategorical, "
         "kl_divergence\n")
L = np.array([0.3, -0.2, 1.1])
M2 = np.array([[0.5, -1.0], [0.3, 0.2], [-0.4, 1.5]])
S2 = np.array([[1.3, 0.6], [2.0, 0.8], [0.5, 1.1]])
A, C = np.array([1.5, 0.7, 2.5]), np.array([2.0, 0.9, 3.1])
X, U, M = np.array([0.3, 0.8, 0.05]), np.array([0.2, 0.7, 0.45]), np.array([0.5, -1.0, 0.3])
D3 = np.array([0.5, 1.2, 0.9])
P3 = np.array([0.2, 0.5, 0.3])
# ContinuousBernoulli's probs on both sides of its Taylor region (0.499, 0.501] and inside it
CB_P, CB_X = np.array([0.2, 0.4995, 0.7, 0.5, 0.01]), np.array([0.3, 0.8, 0.05, 0.5, 0.999])
CB_M = np.array([0.5, -1.0, 0.3, 0.0, 2.0])
# a batch of three 2 x 2 covariances (a mixture's full-covariance components); one made indefinite
_F = np.random.default_rng(3).standard_normal((3, 2, 2))
MVN_COV = _F @ np.swapaxes(_F, -1, -2) + np.eye(2)
MVN_TRIL, MVN_M = np.linalg.cholesky(MVN_COV), np.random.default_rng(4).standard_normal((3, 2))
MVN_X = np.random.default_rng(5).standard_normal((4, 2))
MVN_BAD = MVN_COV * np.array([1.0, -1.0, 1.0])[:, None, None]

TORCH_TEXTS = [
    ("MixtureSameFamily(Categorical(logits=l), Normal(m, s)).log_prob(x)",
     {"l": L, "m": M2[:, 0], "s": S2[:, 0], "x": np.array([[0.1], [-0.7], [2.0], [0.4]])}),
    ("MixtureSameFamily(Categorical(logits=l), Independent(Normal(m, s), 1)).log_prob(x)",
     {"l": L, "m": M2, "s": S2, "x": np.array([[0.1, -0.7], [2.0, 0.4]])}),
    ("MixtureSameFamily(Categorical(probs=p), Independent(Normal(m, s), 1)).mean",
     {"p": P3, "m": M2, "s": S2}),
    ("MixtureSameFamily(Categorical(logits=l), Independent(Normal(m, s), 1)).variance", {"l": L, "m": M2, "s": S2}),
    ("MixtureSameFamily(Categorical(logits=l), Normal(m, s)).stddev", {"l": L, "m": M2[:, 0], "s": S2[:, 0]}),
    ("MixtureSameFamily(Categorical(logits=l), Normal(m, s)).cdf(x)",
     {"l": L, "m": M2[:, 0], "s": S2[:, 0], "x": np.array([[0.1], [-0.7]])}),
    ("MixtureSameFamily(Categorical(logits=l), Normal(m, s)).log_prob(x)",  # a batch of two mixtures
     {"l": np.array([[0.3, -0.2, 1.1], [0.0, 0.5, -0.5]]), "m": M2.T, "s": S2.T, "x": np.array([0.1, -0.7])}),
    ("MixtureSameFamily(Categorical(logits=l), Gamma(a, c)).log_prob(x)", {"l": L, "a": A, "c": C, "x": X + 0.2}),
    ("OneHotCategorical(logits=l).log_prob(torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]))", {"l": L}),
    ("OneHotCategorical(probs=p).entropy() + OneHotCategorical(probs=p).mean + OneHotCategorical(probs=p).variance",
     {"p": P3}),
    ("LowRankMultivariateNormal(m, w, d).log_prob(x)",
     {"m": L, "w": M2, "d": D3, "x": np.array([[0.1, -0.7, 0.4], [2.0, 0.4, -1.0]])}),
    ("LowRankMultivariateNormal(m, w, d).entropy()", {"m": L, "w": M2, "d": D3}),
    ("LowRankMultivariateNormal(m, w, d).variance + LowRankMultivariateNormal(m, w, d).mean",
     {"m": L, "w": M2, "d": D3}),
    ("Kumaraswamy(a, c).log_prob(x)", {"a": A, "c": C, "x": X}),
    ("Kumaraswamy(a, c).entropy() + Kumaraswamy(a, c).mean + Kumaraswamy(a, c).variance", {"a": A, "c": C}),
    ("Kumaraswamy(a, c).cdf(x) + Kumaraswamy(a, c).icdf(u)", {"a": A, "c": C, "x": X, "u": U}),
    ("Pareto(s, a).log_prob(x) + Pareto(s, a).entropy()", {"s": A, "a": C, "x": np.array([1.6, 0.8, 7.0])}),
    ("Pareto(s, a).mean + Pareto(s, a).variance", {"s": A, "a": C + 1.5}),
    ("Pareto(s, a).cdf(x) + Pareto(s, a).icdf(u)", {"s": A, "a": C, "x": np.array([1.6, 0.8, 7.0]), "u": U}),
    ("VonMises(m, k).log_prob(x)", {"m": M, "k": np.array([0.5, 3.7, 8.0]), "x": np.array([0.4, -2.0, 1.0])}),
    ("VonMises(m, k).variance + VonMises(m, k).mean", {"m": M, "k": np.array([0.5, 3.7, 8.0])}),
    ("Gumbel(m, s).cdf(x) + Gumbel(m, s).icdf(u)", {"m": M, "s": A, "x": X, "u": U}),
    ("Weibull(s, c).cdf(x) + Weibull(s, c).icdf(u)", {"s": A, "c": C, "x": X, "u": U}),
    ("Gamma(a, r).cdf(x) + Chi2(a).cdf(x)", {"a": A, "r": C, "x": X}),
    ("MixtureSameFamily(Categorical(logits=l), MultivariateNormal(m, covariance_matrix=c)).log_prob(x)",
     {"l": L, "m": MVN_M, "c": MVN_COV, "x": MVN_X}),
    ("MixtureSameFamily(Categorical(logits=l), MultivariateNormal(m, scale_tril=t)).mean", {"l": L, "m": MVN_M,
                                                                                          "t": MVN_TRIL}),
    ("MixtureSameFamily(Categorical(logits=l), MultivariateNormal(m, scale_tril=t)).variance",
     {"l": L, "m": MVN_M, "t": MVN_TRIL}),
    ("MultivariateNormal(m, precision_matrix=c).log_prob(x[:, None, :])", {"m": MVN_M, "c": MVN_COV, "x": MVN_X}),
    ("MultivariateNormal(m[0], covariance_matrix=c).entropy() + MultivariateNormal(m, scale_tril=t[0]).variance"
     ".sum(-1)", {"m": MVN_M, "c": MVN_COV, "t": MVN_TRIL}),
    ("ContinuousBernoulli(probs=p).log_prob(x)", {"p": CB_P, "x": CB_X}),
    ("ContinuousBernoulli(logits=m).log_prob(x)", {"m": CB_M, "x": CB_X}),
    ("ContinuousBernoulli(probs=p).entropy() + ContinuousBernoulli(probs=p).mean + ContinuousBernoulli(probs=p)"
     ".variance + ContinuousBernoulli(probs=p).stddev", {"p": CB_P}),
    ("ContinuousBernoulli(probs=p).cdf(x) + ContinuousBernoulli(probs=p).icdf(x)", {"p": CB_P, "x": CB_X}),
    ("RelaxedBernoulli(t, probs=p).log_prob(x)", {"t": np.array(0.7), "p": CB_P, "x": CB_X * 0.95}),
    ("RelaxedBernoulli(t, logits=m).log_prob(x)", {"t": np.array([0.7, 1.2, 0.3, 2.0, 0.5]), "m": CB_M, "x": CB_X}),
    ("RelaxedOneHotCategorical(t, logits=m).log_prob(x)",
     {"t": np.array(0.7), "m": CB_M, "x": np.array([0.1, 0.2, 0.3, 0.15, 0.25])}),
    ("RelaxedOneHotCategorical(t, probs=p / p.sum()).log_prob(x)",
     {"t": np.array(1.3), "p": CB_P, "x": np.array([[0.1, 0.2, 0.3, 0.15, 0.25], [0.05, 0.05, 0.3, 0.3, 0.3]])}),
]
# gammainc has no derivative by its first argument (PyTorch raises, jac refuses): by r and x only
NOT_BY = {"Gamma(a, r).cdf(x) + Chi2(a).cdf(x)": ("a",)}


def _wrt(code, values):
    return [k for k in values if k not in NOT_BY.get(code, ())]


def _off_the_support(code, name):
    """Whether a central difference by ``name`` steps where PyTorch raises (off a simplex, off a lower triangle)."""
    return name == "p" and "Categorical(probs" in code or name == "x" and "RelaxedOneHot" in code \
        or name == "t" and "scale_tril=t" in code


@pytest.mark.parametrize("code, values", TORCH_TEXTS, ids=[c[:60] for c, _ in TORCH_TEXTS])
def test_values_are_pytorchs_and_jacobians_the_slopes(code, values):
    theirs = _torch_value(code, values)
    np.testing.assert_allclose(api.evaluate(TORCH + code, values), theirs, rtol=1e-13, atol=1e-14)
    wrt = _wrt(code, values)
    jac = api.jacobian(TORCH + code, values, wrt=wrt)
    for name in wrt:
        if _off_the_support(code, name):
            continue  # a step leaves the simplex or the lower triangle, where PyTorch raises: its autograd below
        np.testing.assert_allclose(jac[name], _central(TORCH + code, values, name), rtol=1e-6, atol=1e-6,
                                   err_msg=name)


@pytest.mark.parametrize("code, values", TORCH_TEXTS, ids=[c[:60] for c, _ in TORCH_TEXTS])
def test_torch_gradients_are_pytorchs(code, values):
    from test_parity_dists33b import _torch_vjp
    wrt = _wrt(code, values)
    v = np.random.default_rng(342).standard_normal(np.shape(api.evaluate(TORCH + code, values)))
    theirs = _torch_vjp(code, {k: values[k] for k in wrt}, v) if len(wrt) == len(values) else None
    if theirs is None:
        pytest.skip("PyTorch's gammainc has no derivative by a")
    ours = api.vjp(TORCH + code, values, v=v)
    rtol = 1e-8 if "Kumaraswamy(a, c).entropy" in code else 1e-11  # PyTorch's trigamma, about 1e-9 relative
    for name in values:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=rtol, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("code, values", TORCH_TEXTS[::4], ids=[c[:60] for c, _ in TORCH_TEXTS[::4]])
def test_forward_mode_and_hessians(code, values):
    """jvp = J·t; the Hessian of the sum against central differences of the gradient."""
    text = TORCH + code
    wrt = _wrt(code, values)
    rng = np.random.default_rng(34)
    tangents = {k: rng.standard_normal(np.shape(values[k])) for k in wrt}
    jac = api.jacobian(text, values, wrt=wrt)
    out_shape = np.shape(api.evaluate(text, values))
    expected = sum(np.tensordot(jac[k], tangents[k], axes=np.ndim(values[k])) for k in wrt)
    np.testing.assert_allclose(api.jvp(text, values, tangents), expected.reshape(out_shape), rtol=1e-12,
                               atol=1e-12)
    total = text + ".sum()"
    hess = api.hessian(total, values, wrt=wrt)
    for a in wrt:
        for b in wrt:
            if "probs=p" in code and "p" in (a, b) or _off_the_support(code, b):
                continue
            grad_a = lambda v, b=b, a=a: api.jacobian(total, {**values, b: v}, wrt=[a])[a]  # noqa: E731
            np.testing.assert_allclose(hess[(a, b)], central_jacobian(grad_a, values[b]), rtol=1e-5, atol=1e-6,
                                       err_msg=f"{a}, {b}")


EDGES = [
    ("Kumaraswamy(a, c).log_prob(x) + Kumaraswamy(a, c).cdf(x)", {"a": A, "c": C, "x": np.array([0.0, 1.0, 1e-9])}),
    ("Pareto(s, a).log_prob(x) + Pareto(s, a).cdf(x)", {"s": A, "a": C, "x": A}),
    ("Pareto(s, a).mean + Pareto(s, a).variance", {"s": A, "a": np.array([0.5, 1.5, 2.0])}),
    ("VonMises(m, k).log_prob(x) + VonMises(m, k).variance", {"m": M, "k": np.array([3.75, 1e-3, 40.0]), "x": X}),
    ("OneHotCategorical(probs=torch.tensor([0.5, 0.0, 0.5])).log_prob(x)", {"x": np.array([[0.0, 1.0, 0.0]])}),
    ("Gumbel(m, s).cdf(x)", {"m": M, "s": A, "x": np.array([-3.0, 20.0, -1.0])}),
]


@pytest.mark.parametrize("code, values", EDGES, ids=[c[:60] for c, _ in EDGES])
def test_values_at_the_edges_are_pytorchs(code, values):
    np.testing.assert_allclose(api.evaluate(TORCH + code, values), _torch_value(code, values), rtol=1e-13)


REFUSED = [
    ("MixtureSameFamily(Categorical(logits=l), Normal(m, s)).log_prob(x)",
     {"l": L, "m": M, "s": -A, "x": X[:, None]}, "expected parameter scale"),
    ("MixtureSameFamily(Categorical(logits=l), Normal(m, s)).log_prob(x)",
     {"l": L, "m": M, "s": A, "x": np.array([[np.nan]])}, "Real()) of the distribution Normal"),
    ("MixtureSameFamily(Categorical(logits=l[:2]), Normal(m, s)).mean", {"l": L, "m": M, "s": A}, "does not equal"),
    ("MixtureSameFamily(Normal(m, s), Normal(m, s)).mean", {"m": M, "s": A}, "instance of torch.distributions.Cat"),
    ("OneHotCategorical(logits=l).log_prob(x)", {"l": L, "x": np.array([0.0, 1.0, 1.0])}, "OneHot()"),
    ("OneHotCategorical(probs=p).entropy()", {"p": np.array([0.5, -0.2, 0.7])}, "parameter probs"),
    ("LowRankMultivariateNormal(m, w, d).log_prob(x)", {"m": L, "w": M2, "d": np.array([0.5, -1e3, 0.9]), "x": L},
     "expected parameter cov_diag"),
    ("Kumaraswamy(a, c).log_prob(x)", {"a": A, "c": C, "x": X + 0.5}, "Interval(lower_bound=0.0, upper_bound=1.0)"),
    ("Kumaraswamy(a, c).mean", {"a": -A, "c": C}, "expected parameter concentration1"),
    ("Pareto(s, a).log_prob(x)", {"s": A, "a": C, "x": A - 0.1}, "GreaterThanEq(lower_bound=scale)"),
    ("Pareto(s, a).entropy()", {"s": A, "a": -C}, "expected parameter alpha"),
    ("VonMises(m, k).log_prob(x)", {"m": M, "k": -A, "x": X}, "expected parameter concentration"),
    ("Gumbel(m, s).cdf(x)", {"m": M, "s": A, "x": np.array([0.3, 80.0, 0.2])}, "of the distribution Uniform"),
    ("Weibull(s, c).cdf(x)", {"s": A, "c": C, "x": -X}, "of the distribution Exponential"),
    ("Gamma(a, r).cdf(x)", {"a": A, "r": C, "x": -X}, "of the distribution Gamma"),
    ("VonMises(m, k).cdf(x)", {"m": M, "k": A, "x": X}, "NotImplementedError"),
    ("VonMises(m, k).entropy()", {"m": M, "k": A}, "NotImplementedError"),
    ("MixtureSameFamily(Categorical(logits=l), Normal(m, s)).entropy()", {"l": L, "m": M, "s": A},
     "NotImplementedError"),
    ("MixtureSameFamily(Categorical(logits=l), MultivariateNormal(m, torch.eye(3))).mean", {"l": L, "m": M},
     "Independent(Normal(loc, scale), 1)"),
    ("MultivariateNormal(m, covariance_matrix=c).log_prob(x[:, None, :])", {"m": MVN_M, "c": MVN_BAD, "x": MVN_X},
     "expected parameter covariance_matrix"),
    ("MultivariateNormal(m, scale_tril=t).entropy()", {"m": MVN_M, "t": -MVN_TRIL}, "expected parameter scale_tril"),
    ("ContinuousBernoulli(probs=p, validate_args=True).mean", {"p": CB_P + 0.5}, "The parameter probs has invalid"),
    ("ContinuousBernoulli(probs=p).log_prob(x)", {"p": CB_P, "x": CB_X + 0.1}, "of the distribution Continuous"),
    ("RelaxedBernoulli(t, probs=p).log_prob(x)", {"t": np.array(0.5), "p": CB_P, "x": CB_X - 0.1},
     "of the distribution RelaxedBernoulli"),
    ("RelaxedBernoulli(t, probs=p).log_prob(x)", {"t": np.array(0.5), "p": CB_P + 0.5, "x": CB_X},
     "expected parameter probs"),
    ("RelaxedOneHotCategorical(t, logits=m).log_prob(x)", {"t": np.array(0.5), "m": M, "x": np.array([0.2, 0.3, 0.6])},
     "Simplex()) of the distribution RelaxedOneHotCategorical"),
]


@pytest.mark.parametrize("code, values, words", REFUSED, ids=[c[:50] for c, _, _ in REFUSED])
def test_refused_as_pytorch_raises(code, values, words):
    with pytest.raises(JacError, match=re.escape(words)):
        api.evaluate(TORCH + code, values)
    if "NotImplementedError" in words:
        pytest.importorskip("torch")
        with pytest.raises(NotImplementedError):
            _torch_value(code, values)
        return
    if "Independent(" in words:
        return
    pytest.importorskip("torch")
    with pytest.raises(ValueError):  # PyTorch raises too
        _torch_value(code, values)


def test_gamma_cdf_by_the_concentration_is_refused_as_pytorch_raises():
    with pytest.raises(JacError, match="not supported"):
        api.jacobian(TORCH + "Gamma(a, r).cdf(x)", {"a": A, "r": C, "x": X}, wrt=["a"])


@pytest.mark.parametrize("dist, words", [("Pareto(c, c)", "exp(e / alpha)"), ("Kumaraswamy(c, c)", "u ** (1 / "),
                                         ("VonMises(c, c)", "NotImplementedError"),
                                         ("OneHotCategorical(probs=c)", "NotImplementedError")])
def test_rsample_says_what_applies_to_the_class(dist, words):
    with pytest.raises(JacError, match=re.escape(words)):
        api.evaluate(TORCH + dist + ".rsample()", {"c": C})


# --- kl_divergence: every pair of these classes, against PyTorch's value and autograd ------------------------------
KL_MAKE = {
    "Normal": "Normal({m}, {s})", "Laplace": "Laplace({m}, {s})", "Gumbel": "Gumbel({m}, {s})",
    "Cauchy": "Cauchy({m}, {s})", "LogNormal": "LogNormal({m}, {s})", "HalfNormal": "HalfNormal({s})",
    "Exponential": "Exponential({s})", "Gamma": "Gamma({a}, {s})", "Chi2": "Chi2({a})", "Beta": "Beta({a}, {c})",
    "Uniform": "Uniform({u}, {u} + {a})", "Pareto": "Pareto({s}, {c})", "Bernoulli": "Bernoulli(probs={u})",
    "Poisson": "Poisson({a})", "Geometric": "Geometric(probs={u})", "Binomial": "Binomial(5, probs={u})",
    "Dirichlet": "Dirichlet({a}.reshape(1, 3) + {c}.reshape(3, 1))",
    "OneHotCategorical": "OneHotCategorical(logits={m})",
    "Independent": "Independent(Normal({m}, {s}), 1)",
    "LowRankMultivariateNormal": "LowRankMultivariateNormal({m}, torch.stack([{a}, {c}], -1), {s})",
    "ContinuousBernoulli": "ContinuousBernoulli(probs={u})",
}
KL_VALUES = {"a1": A, "c1": C, "m1": M, "s1": np.array([1.3, 0.6, 2.0]), "u1": U, "a2": C[::-1].copy(), "c2": A + 0.5,
             "m2": M[::-1].copy(), "s2": np.array([1.34, 0.78, 1.9]), "u2": U * 0.5}
# PyTorch's registered pairs jac reads among these (the others PyTorch raises NotImplementedError for, and jac refuses)
KL_SAME = ("Normal", "Laplace", "Gumbel", "Cauchy", "LogNormal", "HalfNormal", "Exponential", "Gamma", "Chi2", "Beta",
           "Uniform", "Pareto", "Bernoulli", "Poisson", "Geometric", "Binomial", "Dirichlet", "OneHotCategorical",
           "Independent", "LowRankMultivariateNormal", "ContinuousBernoulli")
KL_MIXED = [("Normal", "Laplace"), ("Laplace", "Normal"), ("Normal", "Gumbel"), ("Gumbel", "Normal"),
            ("Beta", "Exponential"), ("Beta", "Gamma"), ("Beta", "Normal"), ("Beta", "Uniform"),
            ("Exponential", "Gamma"), ("Exponential", "Gumbel"), ("Exponential", "Normal"), ("Gamma", "Exponential"),
            ("Gamma", "Gumbel"), ("Gamma", "Normal"), ("Pareto", "Exponential"), ("Pareto", "Gamma"),
            ("Pareto", "Normal"), ("Uniform", "Beta"), ("Uniform", "Exponential"), ("Uniform", "Gamma"),
            ("Uniform", "Gumbel"), ("Uniform", "Normal"), ("Uniform", "Pareto"), ("Bernoulli", "Poisson"),
            ("Chi2", "Gamma"), ("Gamma", "Chi2"), ("Chi2", "Normal"), ("Chi2", "Exponential"), ("Normal", "Gamma"),
            ("Gumbel", "Beta"), ("Poisson", "Bernoulli"), ("Laplace", "Uniform"),
            ("ContinuousBernoulli", "Exponential"), ("ContinuousBernoulli", "Normal"),
            ("ContinuousBernoulli", "Uniform"),
            ("Beta", "ContinuousBernoulli"), ("Uniform", "ContinuousBernoulli"), ("Normal", "ContinuousBernoulli"),
            ("ContinuousBernoulli", "Pareto")]
KL_PAIRS = [(c, c) for c in KL_SAME] + KL_MIXED


def _kl_text(p, q):
    def make(cls, k):
        return KL_MAKE[cls].format(**{x: x + k for x in "acmsu"})
    return f"kl_divergence({make(p, '1')}, {make(q, '2')})"


def _kl_inputs(code):
    return {k: v for k, v in KL_VALUES.items() if re.search(rf"\b{k}\b", code)}


@pytest.mark.parametrize("p, q", KL_PAIRS, ids=[f"{p}-{q}" for p, q in KL_PAIRS])
def test_kl_values_and_gradients_are_pytorchs(p, q):
    from test_parity_dists33b import _torch_vjp
    code = _kl_text(p, q)
    values = _kl_inputs(code)
    ours = api.evaluate(TORCH + code, values)
    theirs = _torch_value(code, values)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-13)
    assert np.shape(ours) == np.shape(theirs)
    if not np.isfinite(theirs).all():
        return
    v = np.random.default_rng(343).standard_normal(np.shape(ours))
    mine = api.vjp(TORCH + code, values, v=v)
    torch_grads = _torch_vjp(code, values, v)
    digamma = any(c in (p, q) for c in ("Gamma", "Chi2", "Beta", "Dirichlet"))  # PyTorch's trigamma, ~1e-9
    for name in values:
        np.testing.assert_allclose(mine[name], torch_grads[name], rtol=1e-8 if digamma else 1e-11,
                                   atol=1e-9 if digamma else 1e-12,
                                   err_msg=name)


@pytest.mark.parametrize("p, q", [("Normal", "Exponential"), ("Gumbel", "Laplace"), ("Cauchy", "Normal"),
                                  ("Bernoulli", "Binomial"), ("Dirichlet", "Normal")])
def test_kl_pairs_pytorch_does_not_register_are_refused(p, q):
    code = _kl_text(p, q)
    values = _kl_inputs(code)
    if (p, q) == ("Normal", "Exponential"):  # registered as inf
        assert np.isinf(api.evaluate(TORCH + code, values)).all()
        return
    with pytest.raises(JacError, match="PyTorch raises NotImplementedError"):
        api.evaluate(TORCH + code, values)
    pytest.importorskip("torch")
    with pytest.raises(NotImplementedError):
        _torch_value(code, values)


def test_kl_binomial_with_more_trials_in_q_is_refused_as_pytorch_raises():
    code = "kl_divergence(Binomial(n, probs=u), Binomial(5, probs=u * 0.5))"
    values = {"n": np.array([5.0, 4.0, 6.0]), "u": U}
    with pytest.raises(JacError, match="q.total_count > p.total_count"):
        api.evaluate(TORCH + code, values)
    values["n"] = np.array([5.0, 7.0, 6.0])  # more in p: inf there, as PyTorch
    np.testing.assert_allclose(api.evaluate(TORCH + code, values), _torch_value(code, values), rtol=1e-13)


@pytest.mark.parametrize("p, q", KL_PAIRS[::3], ids=[f"{p}-{q}" for p, q in KL_PAIRS[::3]])
def test_kl_jacobians_are_the_slopes(p, q):
    code = TORCH + _kl_text(p, q)
    values = _kl_inputs(code)
    if not np.isfinite(api.evaluate(code, values)).all():
        return
    jac = api.jacobian(code, values)
    for name in values:
        np.testing.assert_allclose(jac[name], _central(code, values, name), rtol=1e-6, atol=1e-7, err_msg=name)


@pytest.mark.parametrize("code", ["kl_divergence(ContinuousBernoulli(probs=p), Uniform(lo - 1.0, hi + 1.0))",
                                  "kl_divergence(Uniform(lo, hi), ContinuousBernoulli(probs=p))",
                                  "kl_divergence(ContinuousBernoulli(probs=p), "
                                  "ContinuousBernoulli(probs=p * 0.5 + 0.3))"])
def test_kl_continuous_bernoulli_inside_the_supports(code):
    """The finite branches of the Uniform pairs (the probe's Uniforms cross [0, 1], where PyTorch gives inf)."""
    from test_parity_dists33b import _torch_vjp
    values = {"p": CB_P, "lo": np.array([0.1, 0.2, 0.3, 0.05, 0.4]), "hi": np.array([0.5, 0.9, 0.35, 0.6, 0.8])}
    values = {k: v for k, v in values.items() if re.search(rf"\b{k}\b", code)}
    ours = api.evaluate(TORCH + code, values)
    np.testing.assert_allclose(ours, _torch_value(code, values), rtol=1e-12)
    assert np.isfinite(ours).all()
    v = np.random.default_rng(5).standard_normal(ours.shape)
    mine, theirs = api.vjp(TORCH + code, values, v=v), _torch_vjp(code, values, v)
    for name in values:
        np.testing.assert_allclose(mine[name], theirs[name], rtol=1e-10, atol=1e-12, err_msg=name)


# --- scipy.stats / jax.scipy.stats: tails, inverses, discrete cdfs, nbinom, betabinom ---------------------------------
from jacobi_cli.lang.distributions import JAX_TAIL, SCIPY_TAIL  # noqa: E402
from test_jax16 import jax_process  # noqa: E402, F401 - the fixture is used by name

ST_SHAPES = {"expon": (), "logistic": (), "uniform": (), "gamma": ("a",), "beta": ("a", "b"), "chi2": ("df",),
             "cauchy": (), "bernoulli": ("p",), "poisson": ("mu",), "binom": ("n", "p"), "geom": ("p",),
             "nbinom": ("n", "p"), "betabinom": ("n", "a", "b")}
ST_DISCRETE = ("bernoulli", "poisson", "binom", "geom", "nbinom", "betabinom")
ST_GOOD = {"a": [2.5, 0.7, 1.4, 1.0], "b": [1.5, 3.0, 0.8, 2.0], "df": [3.5, 1.5, 7.0, 2.0],
           "p": [0.3, 0.8, 0.55, 0.1], "mu": [2.5, 0.7, 4.0, 1.0], "n": [5.0, 3.0, 8.0, 1.0]}
ST_BAD = {"a": [2.5, -0.7, 1.4, 1.0], "b": [1.5, 3.0, 0.0, 2.0], "df": [3.5, -1.5, 7.0, 2.0],
          "p": [0.3, 1.8, 0.0, 0.1], "mu": [2.5, -0.7, 4.0, 1.0], "n": [5.0, 3.5, 8.0, -1.0]}
PMFS = {"nbinom": ("logpmf", "pmf"), "betabinom": ("logpmf", "pmf")}
SCIPY_NEW = [(d, n) for table in (SCIPY_TAIL, PMFS) for d, ns in table.items() for n in ns]
JAX_NEW = [(d, n) for table in (JAX_TAIL, PMFS) for d, ns in table.items() for n in ns]


def _st_first(dist, name):
    return "k" if dist in ST_DISCRETE else "q" if name in ("ppf", "isf") else "x"


def _st_text(root, dist, name):
    args = [_st_first(dist, name), *ST_SHAPES[dist], "loc"] + ([] if dist in ST_DISCRETE else ["s"])
    return f"import jax\nimport scipy.stats\n{root}.{dist}.{name}({', '.join(args)})"


def _st_cases(dist, name):
    """Interior values first, then edges: outside the support and at its ends, q = 0 and 1, NaN, infinities, a
    scale <= 0, invalid shapes."""
    first, shapes = _st_first(dist, name), ST_SHAPES[dist]
    good = {k: np.array(ST_GOOD[k]) for k in shapes}
    if first == "k":
        inner = {"k": np.array([1.0, 2.0, 3.0, 1.0]), "loc": np.zeros(4)}
        edges = [{"k": np.array([-1.0, 1.5, 9.0, np.nan]), "loc": np.zeros(4)},
                 {"k": np.array([-np.inf, np.inf, 0.0, 1.0]), "loc": np.array([0.0, 0.0, 0.0, 0.5])}]
    else:
        point = np.array([0.2, 0.5, 0.9, 0.05]) if first == "q" else np.array([0.45, 0.9, 0.2, 0.35])
        inner = {first: point, "loc": np.array([0.1, -0.2, 0.05, 0.0]), "s": np.array([0.8, 1.5, 0.6, 1.1])}
        ends = [0.0, 1.0, 1.5, np.nan] if first == "q" else [-2.0, 0.0, 1.0, np.nan]
        edges = [{first: np.array(ends), "loc": np.zeros(4), "s": np.ones(4)},
                 {first: np.array([0.0, 1.0, 0.5, 0.5]) if first == "q" else np.array([3.0, 0.5, 0.5, 0.5]),
                  "loc": np.zeros(4), "s": np.array([1.0, 1.0, -1.0, 0.0])}]
    cases = [{**inner, **good}] + [{**e, **good} for e in edges]
    if shapes:
        cases.append({**inner, **{k: np.array(ST_BAD[k]) for k in shapes}})
    return cases


def _st_wrt(dist, name, values):
    """The inputs to differentiate by: not the point of a discrete distribution, n, loc of a discrete one, nor the
    shapes of gammainc / betainc / chdtr (no derivative by them in SciPy, refused by jac)."""
    skip = {"n", _st_first(dist, name) if dist in ST_DISCRETE else "", "loc" if dist in ST_DISCRETE else ""}
    if dist in ("gamma", "beta", "chi2"):
        skip |= set(ST_SHAPES[dist])
    return [k for k in values if k not in skip]


@pytest.mark.parametrize("dist, name", SCIPY_NEW)
def test_scipy_tails_are_scipys_and_their_slopes(dist, name):
    import scipy.stats
    code = _st_text("scipy.stats", dist, name)
    args = [_st_first(dist, name), *ST_SHAPES[dist], "loc"] + ([] if dist in ST_DISCRETE else ["s"])
    for i, values in enumerate(_st_cases(dist, name)):
        theirs = getattr(getattr(scipy.stats, dist), name)(*[values[k] for k in args])
        np.testing.assert_allclose(api.evaluate(code, values), theirs, rtol=1e-12, atol=1e-300, err_msg=str(i))
    values = _st_cases(dist, name)[0]
    wrt = _st_wrt(dist, name, values)
    jac = api.jacobian(code, values, wrt=wrt)
    for key in wrt:
        np.testing.assert_allclose(jac[key], _central(code, values, key), rtol=1e-6, atol=1e-7, err_msg=key)


def test_scipy_tail_by_a_shape_of_gammainc_is_answered():
    """Refused until session 39, which answers gammainc / gammaincc by a where JAX differentiates them
    (ir/incgamma.py): the tail by the shape agrees with central differences."""
    code, values = _st_text("scipy.stats", "gamma", "sf"), _st_cases("gamma", "sf")[0]
    jac = api.jacobian(code, values, wrt=["a"])
    np.testing.assert_allclose(jac["a"], _central(code, values, "a"), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("dist, name", JAX_NEW)
def test_jax_tails_are_jaxs(jax_process, dist, name):
    from test_dists34 import _jax_run
    code = _st_text("jax.scipy.stats", dist, name)
    for i, values in enumerate(_st_cases(dist, name)):
        wrt = _st_wrt(dist, name, values) if i == 0 else []
        theirs = jax_process.submit(_jax_run, code, values, wrt).result()
        np.testing.assert_allclose(api.evaluate(code, values), theirs["value"], rtol=1e-12, atol=1e-300,
                                   err_msg=str(i))
        if wrt:
            ours = api.jacobian(code, values, wrt=wrt)
            for key in wrt:
                np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-10, atol=1e-12, err_msg=key)


def test_jax_poisson_entropy_is_jaxs(jax_process):
    """Its three branches (sums of 35 and 250 terms, the asymptotic form) at and around their bounds, 0 at mu = 0."""
    from test_dists34 import _jax_run
    code = "import jax\njax.scipy.stats.poisson.entropy(mu)"
    values = {"mu": np.array([0.5, 2.0, 9.99, 10.0, 50.0, 99.9, 100.0, 150.0])}
    theirs = jax_process.submit(_jax_run, code, values, ["mu"]).result()
    np.testing.assert_allclose(api.evaluate(code, values), theirs["value"], rtol=1e-13)
    np.testing.assert_allclose(api.jacobian(code, values)["mu"], theirs["mu"], rtol=1e-12, atol=1e-14)
    zero = {"mu": np.array([0.0, 3.0]).reshape(2, 1)}
    theirs = jax_process.submit(_jax_run, code, zero, ["mu"]).result()
    np.testing.assert_allclose(api.evaluate(code, zero), theirs["value"], rtol=1e-13)
    ours = api.jacobian(code, zero)["mu"].reshape(2, 2)
    # at mu = 0 the slope is NaN in both (JAX's entr); JAX's NaN also leaks into d entropy[1] / d mu[0], which is 0:
    # the elements do not depend on each other, and jac says so
    np.testing.assert_allclose(np.diag(ours), np.diag(theirs["mu"].reshape(2, 2)), rtol=1e-12, equal_nan=True)
    assert ours[0, 1] == 0.0 and ours[1, 0] == 0.0
