"""Session 33e's distributions (lang/distributions.py): ``torch.distributions``' Exponential, Uniform, Gamma, Beta,
Poisson and their kl_divergence pairs: values against PyTorch's in float64, Jacobians against central differences,
PyTorch's validate_args refusals with its words."""

import re

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from test_dists33 import _central, _torch_value

TORCH = ("import torch\nfrom torch.distributions import Exponential, Uniform, Gamma, Beta, Poisson, Independent, "
         "kl_divergence\n")
R, C, X = np.array([0.5, 2.0, 1.3]), np.array([2.5, 0.7, 1.4]), np.array([0.3, 1.2, 0.05])
U = np.array([0.2, 0.7, 0.4])

TORCH_TEXTS = [
    ("Exponential(r).log_prob(x)", {"r": R, "x": X}),
    ("Exponential(r).cdf(x) + Exponential(r).icdf(u)", {"r": R, "x": X, "u": U}),
    ("Exponential(r).entropy() + Exponential(r).mean + Exponential(r).variance + Exponential(r).stddev",
     {"r": R}),
    ("Exponential(2.0).log_prob(x).sum()", {"x": X}),
    ("Uniform(lo, hi).log_prob(u)", {"lo": U - 1.0, "hi": R, "u": U}),
    ("Uniform(lo, hi).cdf(u) + Uniform(lo, hi).icdf(x * 0.5)", {"lo": U - 1.0, "hi": R, "u": U, "x": X}),
    ("Uniform(lo, hi).entropy() + Uniform(lo, hi).mean + Uniform(lo, hi).variance + Uniform(lo, hi).stddev",
     {"lo": U - 1.0, "hi": R}),
    ("Gamma(c, r).log_prob(x)", {"c": C, "r": R, "x": X}),
    ("Gamma(c, r).entropy() + Gamma(c, r).mean + Gamma(c, r).variance + Gamma(c, r).stddev", {"c": C, "r": R}),
    ("Independent(Gamma(c, r), 1).log_prob(x)", {"c": C, "r": R, "x": X}),
    ("Beta(c, r).log_prob(u)", {"c": C, "r": R, "u": U}),
    ("Beta(c, 2.0).log_prob(u)", {"c": C, "u": U}),
    ("Beta(c, r).entropy() + Beta(c, r).mean + Beta(c, r).variance + Beta(c, r).stddev", {"c": C, "r": R}),
    ("Poisson(r).log_prob(torch.tensor([0.0, 3.0, 1.0]))", {"r": R}),
    ("Poisson(r).log_prob(torch.tensor([[0.0], [2.0]]))", {"r": R}),
    ("Poisson(r).mean + Poisson(r).variance + Poisson(r).stddev", {"r": R}),
    ("kl_divergence(Exponential(r), Exponential(u))", {"r": R, "u": U}),
    ("kl_divergence(Gamma(c, r), Gamma(u, 1.5))", {"c": C, "r": R, "u": U}),
    ("kl_divergence(Beta(c, r), Beta(u + 1.0, c))", {"c": C, "r": R, "u": U}),
    ("kl_divergence(Poisson(r), Poisson(u))", {"r": R, "u": U}),
    ("kl_divergence(Uniform(u - 1.0, r), Uniform(u - 1.2, r + x))", {"r": R, "u": U, "x": X}),
]


@pytest.mark.parametrize("code, values", TORCH_TEXTS, ids=[c[:60] for c, _ in TORCH_TEXTS])
def test_values_are_pytorchs_and_jacobians_the_slopes(code, values):
    theirs = _torch_value(code, values)
    np.testing.assert_allclose(api.evaluate(TORCH + code, values), theirs, rtol=1e-13, atol=1e-14)
    jac = api.jacobian(TORCH + code, values)
    for name in values:
        np.testing.assert_allclose(jac[name], _central(TORCH + code, values, name), rtol=1e-6, atol=1e-7)


EDGES = [  # PyTorch's values where its formula meets the support's edge
    ("Uniform(lo, hi).log_prob(x)", {"lo": np.array([0.0, 0.0]), "hi": np.array([1.0, 1.0]),
                                     "x": np.array([0.0, 1.0])}),
    ("Uniform(lo, hi).cdf(x)", {"lo": np.array([0.0, 0.0]), "hi": np.array([1.0, 1.0]), "x": np.array([0.0, 1.0])}),
    ("Exponential(r).log_prob(x)", {"r": np.array([1.5, 2.0]), "x": np.array([0.0, 0.0])}),
    ("Gamma(c, r).log_prob(x)", {"c": np.array([1.0, 2.0, 0.5]), "r": np.array([1.5, 2.0, 1.0]),
                                 "x": np.array([0.0, 0.0, 0.0])}),
    ("Beta(c, r).log_prob(x)", {"c": np.array([1.0, 2.0, 0.5]), "r": np.array([3.0, 2.0, 1.0]),
                                "x": np.array([0.0, 1.0, 0.0])}),
    ("Poisson(r).log_prob(torch.tensor([0.0, 2.0]))", {"r": np.array([0.0, 0.0])}),
]


@pytest.mark.parametrize("code, values", EDGES, ids=[c[:60] for c, _ in EDGES])
def test_values_at_the_edges_are_pytorchs(code, values):
    np.testing.assert_allclose(api.evaluate(TORCH + code, values), _torch_value(code, values), rtol=1e-13)


REFUSED = [
    ("Exponential(r).log_prob(x)", {"r": np.array([1.0, -1.0]), "x": np.array([1.0, 1.0])},
     "expected parameter rate to satisfy the constraint GreaterThan(lower_bound=0.0)"),
    ("Exponential(r).log_prob(x)", {"r": np.array([1.0, 1.0]), "x": np.array([1.0, -0.5])},
     "support (GreaterThanEq(lower_bound=0.0)) of the distribution Exponential"),
    ("Exponential(r).cdf(x)", {"r": np.array([1.0, 1.0]), "x": np.array([1.0, -0.5])}, "Exponential.cdf"),
    ("Uniform(lo, hi).entropy()", {"lo": np.array([0.0, 1.0]), "hi": np.array([1.0, 1.0])},
     "expected parameter low to satisfy the constraint LessThan(upper_bound=high)"),
    ("Uniform(lo, hi).log_prob(x)", {"lo": np.array([0.0, 0.0]), "hi": np.array([1.0, 1.0]),
                                     "x": np.array([0.5, 1.5])}, "Interval(lower_bound=low, upper_bound=high)"),
    ("Gamma(c, r).mean", {"c": np.array([1.0, 0.0]), "r": np.array([1.0, 1.0])}, "parameter concentration"),
    ("Gamma(c, r).mean", {"c": np.array([1.0, 1.0]), "r": np.array([1.0, -2.0])}, "parameter rate"),
    ("Gamma(c, r).log_prob(x)", {"c": np.array([1.0, 1.0]), "r": np.array([1.0, 1.0]), "x": np.array([-1.0, 1.0])},
     "distribution Gamma"),
    ("Beta(c, r).entropy()", {"c": np.array([1.0, 1.0]), "r": np.array([1.0, -2.0])},
     "IndependentConstraint(GreaterThan(lower_bound=0.0), 1)"),
    ("Beta(c, r).log_prob(x)", {"c": np.array([1.0, 1.0]), "r": np.array([1.0, 2.0]), "x": np.array([0.5, 1.5])},
     "Interval(lower_bound=0.0, upper_bound=1.0)"),
    ("Poisson(r).mean", {"r": np.array([1.0, -0.5])}, "GreaterThanEq(lower_bound=0.0)"),
    ("Poisson(r).log_prob(x)", {"r": np.array([1.0, 1.0]), "x": np.array([1.0, 0.5])},
     "IntegerGreaterThan(lower_bound=0)"),
    ("Poisson(r).log_prob(x)", {"r": np.array([1.0, 1.0]), "x": np.array([1.0, -1.0])}, "IntegerGreaterThan"),
    ("Poisson(r).entropy()", {"r": np.array([1.0, 2.0])}, "NotImplementedError"),
    ("Gamma(c, r).icdf(x)", {"c": R, "r": R, "x": U}, "NotImplementedError"),
    ("Gamma(c, r).rsample()", {"c": R, "r": R}, "by the concentration implicitly"),
    ("kl_divergence(Gamma(c, r), Poisson(r))", {"c": R, "r": R}, "PyTorch raises NotImplementedError"),
]


@pytest.mark.parametrize("code, values, words", REFUSED, ids=[c[:50] for c, _, _ in REFUSED])
def test_refused_as_pytorch_raises(code, values, words):
    with pytest.raises(JacError, match=re.escape(words)):
        api.evaluate(TORCH + code, values)
    if "NotImplementedError" in words or "–" in words or "implicitly" in words or "gammainc" in words:
        return
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError):  # PyTorch raises too
        _torch_value(code, values)
    del torch


def test_validate_args_false_answers_as_pytorch():
    values = {"r": np.array([1.0, 2.0]), "x": np.array([-1.0, 0.5])}
    code = "Exponential(r, validate_args=False).log_prob(x)"
    np.testing.assert_allclose(api.evaluate(TORCH + code, values), _torch_value(code, values), rtol=1e-13)


# --- scipy.stats and jax.scipy.stats: expon, laplace, logistic, uniform -------------------------------------------
STATS = [(d, n) for d in ("expon", "laplace", "logistic", "uniform") for n in ("logpdf", "pdf", "cdf")]
EDGE_X = np.array([-1.5, -0.2, 0.0, 0.1, 0.3, 1.0, 1.1, 2.5, 40.0, np.nan])
EDGE_LOC = np.full(10, 0.1)
EDGE_SCALE = np.array([0.7, 1.3, 2.0, 0.5, 1.0, 0.9, 1.0, -1.0, 1.1, 1.0])
SX, SLOC, SSCALE = np.array([0.3, 0.9, 1.7]), np.array([0.1, -0.2, 0.4]), np.array([0.8, 1.5, 2.0])


@pytest.mark.parametrize("dist, name", STATS)
def test_scipy_stats_values_are_scipys_at_the_edges_too(dist, name):
    import scipy.stats
    code = f"import scipy.stats\nscipy.stats.{dist}.{name}(x, loc, s)"
    ours = api.evaluate(code, {"x": EDGE_X, "loc": EDGE_LOC, "s": EDGE_SCALE})
    theirs = getattr(getattr(scipy.stats, dist), name)(EDGE_X, EDGE_LOC, EDGE_SCALE)
    np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=0)


@pytest.mark.parametrize("dist, name", STATS)
@pytest.mark.parametrize("root", ["scipy.stats", "jax.scipy.stats"])
def test_stats_jacobians_are_the_slopes(root, dist, name):
    code = f"import jax\nimport scipy.stats\n{root}.{dist}.{name}(x, loc, s)"
    values = {"x": SX, "loc": SLOC, "s": SSCALE}
    jac = api.jacobian(code, values)
    for key in values:
        np.testing.assert_allclose(jac[key], _central(code, values, key), rtol=1e-6, atol=1e-7)


def test_stats_defaults_and_imports():
    import scipy.stats
    code = "from jax.scipy.stats import expon\nimport scipy.stats as st\nexpon.logpdf(x) + st.logistic.cdf(x, 0.5)"
    np.testing.assert_allclose(api.evaluate(code, {"x": SX}), scipy.stats.expon.logpdf(SX)
                               + scipy.stats.logistic.cdf(SX, 0.5), rtol=1e-13)
