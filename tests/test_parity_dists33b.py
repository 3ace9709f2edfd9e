"""Parity of session 33e's distributions: PyTorch's log_prob / cdf / entropy / moments / kl_divergence gradients
(its autograd, by backward of a random cotangent) and JAX's ``jax.scipy.stats`` Jacobians (in a process of its own:
test_jax16's ``jax_process``)."""

import numpy as np
import pytest

from jacobi_cli.tools import api
from test_dists33b import EDGE_LOC, EDGE_SCALE, EDGE_X, EDGES, SLOC, SSCALE, STATS, SX, TORCH, \
    TORCH_TEXTS
from test_jax16 import jax_process  # noqa: F401 - the fixture is used by name


def _torch_vjp(code, values, v):
    torch = pytest.importorskip("torch")
    import torch.distributions as D
    leaves = {k: torch.tensor(x, dtype=torch.float64, requires_grad=True) for k, x in values.items()}
    scope = {"torch": torch, **{k: getattr(D, k) for k in D.__all__}, **leaves}
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        out = eval(code, scope)
    finally:
        torch.set_default_dtype(default)
    out.backward(torch.tensor(v))
    return {k: leaf.grad.numpy() if leaf.grad is not None else np.zeros_like(values[k]) for k, leaf in leaves.items()}


@pytest.mark.parametrize("code, values", TORCH_TEXTS, ids=[c[:60] for c, _ in TORCH_TEXTS])
def test_torch_gradients_are_pytorchs(code, values):
    v = np.random.default_rng(33).standard_normal(np.shape(api.evaluate(TORCH + code, values)))
    theirs = _torch_vjp(code, values, v)
    ours = api.vjp(TORCH + code, values, v=v)
    # digamma's derivative: PyTorch's trigamma is off by about 1e-9 relative, jac's is SciPy's (test_parity_elementwise)
    rtol = 1e-8 if "entropy" in code and ("Gamma" in code or "Beta" in code) or "kl_divergence(Gamma" in code \
        or "kl_divergence(Beta" in code else 1e-11
    for name in values:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=rtol, atol=1e-12, err_msg=name)


def test_trigamma_through_gamma_entropy_is_scipys():
    from scipy.special import polygamma
    from test_dists33b import C, R
    ours = api.jacobian(TORCH + "Gamma(c, r).entropy()", {"c": C, "r": R})["c"]
    # d/dc [c + lgamma(c) + (1 - c) digamma(c)] = 1 + digamma - digamma + (1 - c) trigamma
    np.testing.assert_allclose(np.diag(ours), 1.0 + (1.0 - C) * polygamma(1, C), rtol=1e-14)


INTERIOR_EDGES = [e for e in EDGES if "Uniform" in e[0] or "Exponential" in e[0]]


@pytest.mark.parametrize("code, values", INTERIOR_EDGES, ids=[c[:60] for c, _ in INTERIOR_EDGES])
def test_torch_gradients_at_the_support_edges_are_pytorchs(code, values):
    v = np.ones(np.shape(api.evaluate(TORCH + code, values)))
    theirs = _torch_vjp(code, values, v)
    ours = api.vjp(TORCH + code, values, v=v)
    for name in values:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-11, atol=1e-12, err_msg=name)


def _jax_stats(root_code: str, values: dict) -> dict:
    from test_parity_dists33 import _jax_reference
    return _jax_reference(root_code, values)


JAX_TEXTS = [(f"jax.scipy.stats.{d}.{n}(x, loc, s)", values) for d, n in STATS
             for values in ({"x": SX, "loc": SLOC, "s": SSCALE},
                            {"x": EDGE_X, "loc": EDGE_LOC, "s": np.abs(EDGE_SCALE)})]


@pytest.mark.parametrize("code, values", JAX_TEXTS, ids=[f"{c[16:40]}-{v['x'].size}" for c, v in JAX_TEXTS])
def test_jax_stats_are_jaxs(jax_process, code, values):
    theirs = jax_process.submit(_jax_stats, code, values).result()
    text = "import jax\n" + code
    np.testing.assert_allclose(api.evaluate(text, values), theirs["value"], rtol=1e-13, atol=1e-14)
    if values["x"].size > 3:  # the edges: values only (JAX's derivative of where at a kink is its own choice)
        return
    ours = api.jacobian(text, values)
    for name in values:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-11, atol=1e-12, err_msg=name)
