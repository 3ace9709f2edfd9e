"""Parity of session 33's distributions: PyTorch's log_prob / entropy / kl_divergence gradients (its autograd, by
backward of a random cotangent) and JAX's ``jax.scipy.stats`` Jacobians (in a process of its own: test_jax16's
``jax_process``)."""

import numpy as np
import pytest

from jacobi_cli.tools import api
from test_dists33 import COV, MU, P, SIGMA, TORCH, TORCH_TEXTS, X, XS
from test_jax16 import _jax, jax_process  # noqa: F401 - the fixture is used by name


@pytest.mark.parametrize("code, values", TORCH_TEXTS, ids=[c[:60] for c, _ in TORCH_TEXTS])
def test_torch_gradients_are_pytorchs(code, values):
    torch = pytest.importorskip("torch")
    import torch.distributions as D
    leaves = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in values.items()}
    scope = {"torch": torch, **{k: getattr(D, k) for k in D.__all__}, **leaves}
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        *lines, last = code.replace("torch.distributions.", "").split("\n")
        for line in lines:
            exec(line, scope)
        out = eval(last, scope)
    finally:
        torch.set_default_dtype(default)
    if not out.requires_grad:
        pytest.skip("PyTorch's result does not depend on the inputs")
    v = np.random.default_rng(33).standard_normal(tuple(out.shape))
    out.backward(torch.tensor(v))
    ours = api.vjp(TORCH + code, values, v=v)
    for name, leaf in leaves.items():
        theirs = leaf.grad.numpy() if leaf.grad is not None else np.zeros_like(values[name])
        np.testing.assert_allclose(ours[name], theirs, rtol=1e-11, atol=1e-12, err_msg=name)


def _jax_reference(code: str, values: dict) -> dict:
    jax = _jax()
    jnp = jax.numpy
    names = sorted(values)

    def f(*args):
        scope = {"jax": jax, "jnp": jnp, **dict(zip(names, args))}
        return jnp.asarray(eval(code, scope), dtype=jnp.float64)

    args = [jnp.asarray(values[k], dtype=jnp.float64) for k in names]
    import jax.scipy.stats  # noqa: F401 - jax.scipy.stats reached as an attribute
    jacs = jax.jacrev(f, argnums=tuple(range(len(names))))(*args)
    return {"value": np.asarray(f(*args)), **{k: np.asarray(j) for k, j in zip(names, jacs)}}


JAX_TEXTS = [(f"jax.scipy.stats.norm.{name}(x, mu, sigma)", {"x": P if name in ("ppf", "isf") else X, "mu": MU,
                                                             "sigma": SIGMA})
             for name in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf")] + [
    ("jax.scipy.stats.multivariate_normal.logpdf(x, mu, C)", {"x": X, "mu": MU, "C": COV}),
    ("jax.scipy.stats.multivariate_normal.logpdf(x, mu, C)", {"x": XS, "mu": MU, "C": COV}),
]


@pytest.mark.parametrize("code, values", JAX_TEXTS, ids=[f"{c[:60]}-{v['x'].ndim}" for c, v in JAX_TEXTS])
def test_jax_stats_are_jaxs(jax_process, code, values):
    theirs = jax_process.submit(_jax_reference, code, values).result()
    text = "import jax\n" + code
    np.testing.assert_allclose(api.evaluate(text, values), theirs["value"], rtol=1e-13, atol=1e-14)
    ours = api.jacobian(text, values)
    for name in values:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-11, atol=1e-12, err_msg=name)
