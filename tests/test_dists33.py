"""Session 33's probability distributions (lang/distributions.py): ``torch.distributions``' objects and
``kl_divergence``, ``jax.scipy.stats`` / ``scipy.stats``' ``norm`` and ``multivariate_normal``: values against the
libraries' own in float64, Jacobians against central differences, PyTorch's validate_args refusals with its words."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

TORCH = ("import torch\nfrom torch.distributions import Normal, Laplace, Bernoulli, Categorical, MultivariateNormal, "
         "Independent, kl_divergence\n")
MU, SIGMA, X = np.array([0.5, -1.0, 2.0]), np.array([2.0, 0.5, 1.5]), np.array([1.0, 0.2, -0.3])
COV = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 1.5]])
P = np.array([0.2, 0.5, 0.3])
XS = np.array([[1.0, 0.2, -0.3], [0.4, -0.5, 1.1]])

TORCH_TEXTS = [
    ("Normal(mu, sigma).log_prob(x)", {"mu": MU, "sigma": SIGMA, "x": X}),
    ("Normal(mu, sigma).entropy()", {"mu": MU, "sigma": SIGMA}),
    ("Normal(mu, sigma).cdf(x)", {"mu": MU, "sigma": SIGMA, "x": X}),
    ("Normal(mu, sigma).icdf(p)", {"mu": MU, "sigma": SIGMA, "p": P}),
    ("Normal(mu, sigma).variance + Normal(mu, sigma).stddev + Normal(mu, sigma).mean", {"mu": MU, "sigma": SIGMA}),
    ("Normal(0.0, sigma).log_prob(x).sum()", {"sigma": SIGMA, "x": X}),
    ("torch.distributions.Normal(mu, sigma).log_prob(x)", {"mu": MU, "sigma": SIGMA, "x": X}),
    ("Laplace(mu, sigma).log_prob(x)", {"mu": MU, "sigma": SIGMA, "x": X}),
    ("Laplace(mu, sigma).entropy() + Laplace(mu, sigma).variance", {"mu": MU, "sigma": SIGMA}),
    ("Independent(Normal(mu, sigma), 1).log_prob(x)", {"mu": MU, "sigma": SIGMA, "x": X}),
    ("Independent(Normal(mu, sigma), 1).entropy()", {"mu": MU, "sigma": SIGMA}),
    ("Bernoulli(probs=p).log_prob(torch.tensor([1.0, 0.0, 1.0]))", {"p": P}),
    ("Bernoulli(logits=x).log_prob(torch.tensor([1.0, 0.0, 1.0]))", {"x": X}),
    ("Bernoulli(probs=p).entropy() + Bernoulli(probs=p).variance", {"p": P}),
    ("Bernoulli(logits=x).entropy() + Bernoulli(logits=x).mean", {"x": X}),
    ("Categorical(probs=p).log_prob(torch.tensor([0, 2, 1, 2]))", {"p": P}),
    ("Categorical(logits=x).log_prob(torch.tensor([0, 2, 1]))", {"x": X}),
    ("Categorical(logits=x).entropy()", {"x": X}),
    ("Categorical(probs=p).entropy()", {"p": P}),
    ("MultivariateNormal(mu, covariance_matrix=C).log_prob(x)", {"mu": MU, "C": COV, "x": X}),
    ("MultivariateNormal(mu, covariance_matrix=C).log_prob(xs)", {"mu": MU, "C": COV, "xs": XS}),
    ("MultivariateNormal(mu, scale_tril=torch.linalg.cholesky(C)).log_prob(x)", {"mu": MU, "C": COV, "x": X}),
    ("MultivariateNormal(mu, precision_matrix=C).log_prob(x)", {"mu": MU, "C": COV, "x": X}),
    ("MultivariateNormal(mu, covariance_matrix=C).entropy()", {"mu": MU, "C": COV}),
    ("MultivariateNormal(mu, covariance_matrix=C).variance", {"mu": MU, "C": COV}),
    ("kl_divergence(Normal(mu, sigma), Normal(x, 1.5))", {"mu": MU, "sigma": SIGMA, "x": X}),
    ("torch.distributions.kl_divergence(Categorical(probs=p), Categorical(logits=x))", {"p": P, "x": X}),
    ("kl_divergence(MultivariateNormal(mu, covariance_matrix=C), MultivariateNormal(x, scale_tril=torch.eye(3) "
     "* 1.5))", {"mu": MU, "C": COV, "x": X}),
    ("p = Normal(mu, sigma)\nq = Normal(0.0, 1.0)\n(p.log_prob(x) - q.log_prob(x)).sum()",
     {"mu": MU, "sigma": SIGMA, "x": X}),
]


def _torch_value(code, values):
    torch = pytest.importorskip("torch")
    import torch.distributions as D
    scope = {"torch": torch, **{k: getattr(D, k) for k in D.__all__}}
    scope.update({k: torch.tensor(v, dtype=torch.float64) for k, v in values.items()})
    *lines, last = code.split("\n")
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # torch.tensor([1.0, 0.0]) of the text: float64, as jac's --dtype
    try:
        for line in lines:
            exec(line, scope)
        return eval(last, scope).detach().numpy()
    finally:
        torch.set_default_dtype(default)


def _central(code, values, name, h=1e-6):
    base = values[name]
    out = []
    for i in range(base.size):
        up, down = base.copy().ravel(), base.copy().ravel()
        up[i] += h
        down[i] -= h
        f = [np.asarray(api.evaluate(code, {**values, name: v.reshape(base.shape)})) for v in (up, down)]
        out.append((f[0] - f[1]) / (2 * h))
    return np.stack(out, axis=-1).reshape(np.shape(f[0]) + base.shape)


@pytest.mark.parametrize("code, values", TORCH_TEXTS, ids=[c[:60] for c, _ in TORCH_TEXTS])
def test_torch_distributions_values_are_pytorchs_and_jacobians_the_slopes(code, values):
    theirs = _torch_value(code.replace("torch.distributions.", ""), values)
    np.testing.assert_allclose(api.evaluate(TORCH + code, values), theirs, rtol=1e-13, atol=1e-14)
    jac = api.jacobian(TORCH + code, values)
    for name in set(values) - {"C"}:  # a matrix's derivative: PyTorch's symmetric one (test_parity_dists33.py)
        np.testing.assert_allclose(jac[name], _central(TORCH + code, values, name), rtol=1e-6, atol=1e-7)


NORM_NAMES = ["logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"]


@pytest.mark.parametrize("name", NORM_NAMES + ["ppf", "isf"])
@pytest.mark.parametrize("root", ["scipy.stats", "jax.scipy.stats"])
def test_norm_is_the_librarys(root, name):
    import scipy.stats
    first = P if name in ("ppf", "isf") else X
    code = f"import jax\nimport scipy.stats\n{root}.norm.{name}(x, loc=mu, scale=sigma)"
    values = {"x": first, "mu": MU, "sigma": SIGMA}
    ours = api.evaluate(code, values)
    np.testing.assert_allclose(ours, getattr(scipy.stats.norm, name)(first, loc=MU, scale=SIGMA), rtol=1e-12)
    jac = api.jacobian(code, values)
    for key in values:
        np.testing.assert_allclose(jac[key], _central(code, values, key), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("root", ["scipy.stats", "jax.scipy.stats"])
@pytest.mark.parametrize("x", [X, XS], ids=["one", "batch"])
def test_multivariate_normal_is_the_librarys(root, x):
    import scipy.stats
    code = f"import jax\nimport scipy.stats\n{root}.multivariate_normal.logpdf(x, mu, C)"
    values = {"x": x, "mu": MU, "C": COV}
    np.testing.assert_allclose(api.evaluate(code, values), scipy.stats.multivariate_normal.logpdf(x, MU, COV),
                               rtol=1e-12)
    jac = api.jacobian(code, values)
    for key in ("x", "mu"):
        np.testing.assert_allclose(jac[key], _central(code, values, key), rtol=1e-6, atol=1e-7)


def test_imports_of_the_stats_modules_are_followed():
    code = "from jax.scipy.stats import norm\nimport scipy.stats as st\nnorm.logpdf(x) + st.norm.logcdf(x)"
    import scipy.stats
    np.testing.assert_allclose(api.evaluate(code, {"x": X}), scipy.stats.norm.logpdf(X) + scipy.stats.norm.logcdf(X),
                               rtol=1e-12)


def test_scipy_returns_nan_where_scale_is_not_positive():
    out = api.evaluate("import scipy.stats\nscipy.stats.norm.logpdf(x, 0.0, s)", {"x": X, "s": np.array([1.0, -1.0, 0.0])})
    assert np.isfinite(out[0]) and np.isnan(out[1:]).all()


REFUSED = [
    ("Normal(mu, s).log_prob(x)", {"mu": MU, "s": np.array([1.0, -1.0, 2.0]), "x": X},
     "expected parameter scale to satisfy the constraint GreaterThan(lower_bound=0.0)"),
    ("Normal(mu, s).mean", {"mu": MU, "s": np.array([1.0, 0.0, 2.0])}, "GreaterThan(lower_bound=0.0)"),
    ("Bernoulli(probs=p).log_prob(x)", {"p": P, "x": np.array([1.0, 0.5, 0.0])}, "support (Boolean())"),
    ("Bernoulli(probs=p).log_prob(torch.tensor(1.0))", {"p": np.array([0.2, 1.3])},
     "Interval(lower_bound=0.0, upper_bound=1.0)"),
    ("Categorical(probs=p).log_prob(torch.tensor(3))", {"p": P}, "IntegerInterval(lower_bound=0, upper_bound=2)"),
    ("Categorical(probs=p).log_prob(torch.tensor(0.5))", {"p": P}, "IntegerInterval"),
    ("Categorical(probs=p).entropy()", {"p": np.array([0.5, -0.2, 0.7])}, "Simplex()"),
    ("MultivariateNormal(mu, covariance_matrix=C).log_prob(x)",
     {"mu": MU, "C": np.diag([1.0, -1.0, 2.0]), "x": X}, "PositiveDefinite()"),
    ("Normal(mu, 1.0).rsample()", {"mu": MU}, "loc + scale * eps"),
    ("Normal(mu, 1.0).sample()", {"mu": MU}, "bind the draw as an input"),
    ("Bernoulli(probs=p, logits=p).mean", {"p": P}, "Either `probs` or `logits`"),
    ("kl_divergence(Normal(mu, 1.0), Bernoulli(probs=mu * 0.1))", {"mu": MU}, "PyTorch raises NotImplementedError"),
]


@pytest.mark.parametrize("code, values, words", REFUSED, ids=[c[:50] for c, _, _ in REFUSED])
def test_refused_as_pytorch_raises(code, values, words):
    with pytest.raises(JacError, match=words.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")
                       .replace("+", r"\+")):
        api.evaluate(TORCH + code, values)


def test_validate_args_false_answers_as_pytorch():
    torch = pytest.importorskip("torch")
    s = np.array([1.0, -1.0, 2.0])
    theirs = torch.distributions.Normal(torch.tensor(MU), torch.tensor(s), validate_args=False).log_prob(
        torch.tensor(X)).numpy()
    np.testing.assert_allclose(api.evaluate(TORCH + "Normal(mu, s, validate_args=False).log_prob(x)",
                                            {"mu": MU, "s": s, "x": X}), theirs, rtol=1e-13)


def test_unread_stats_distribution_is_refused_naming_what_is_read():
    with pytest.raises(JacError, match="norm, multivariate_normal, expon") as refused:
        api.evaluate("import jax\njax.scipy.stats.pareto.logpdf(x)", {"x": X})
    assert "with jax.scipy.special:" in str(refused.value)  # JAX's own special functions, not SciPy's
