"""Parity of session 33c's readings against the libraries: names bound by imports (lang/imports.py) and lstsq's
whole tuple, as the realistic snippets of benchmarks/snippets33_probe.py write them; JAX in a process of its own
(test_jax16's ``jax_process``), PyTorch in float64 eager autograd."""

import numpy as np
import pytest

from jacobi_cli.tools import api
from test_jax16 import assert_agrees_with_jax, jax_process  # noqa: F401 - the fixture is used by name

rng = np.random.default_rng(333)

JAX_TEXTS = [
    ("""import jax.numpy as jnp
from jax.scipy.special import gammaln
def poisson_nll(beta, X, y):
    log_rate = X @ beta
    return -jnp.sum(y * log_rate - jnp.exp(log_rate) - gammaln(y + 1))
poisson_nll(beta, X, y)""", {"beta": rng.standard_normal(3), "X": rng.standard_normal((6, 3)) / 2,
                             "y": np.array([0.0, 1, 3, 2, 0, 5])}),
    ("""import jax.numpy as jnp
from jax.scipy.special import logsumexp, gammaln
import jax.scipy.linalg as jsl
from jax.nn import log_softmax
L = jnp.linalg.cholesky(A @ A.T + jnp.eye(3))
z = jsl.solve_triangular(L, x, lower=True)
logsumexp(log_softmax(z)) + gammaln(jnp.exp(x)).sum()""", {"A": rng.standard_normal((3, 3)), "x": rng.standard_normal(3)}),
    ("""import jax.numpy as jnp
coef, resid, rank, sv = jnp.linalg.lstsq(A, b)
coef.sum() + resid.sum() + sv.max()""", {"A": rng.standard_normal((6, 3)), "b": rng.standard_normal(6)}),
    ("""import jax.numpy as jnp
coef, resid, rank, sv = jnp.linalg.lstsq(A, b)
jnp.concatenate([coef.ravel(), resid, sv])""", {"A": rng.standard_normal((5, 3)), "b": rng.standard_normal((5, 2))}),
]


@pytest.mark.parametrize("code, inputs", JAX_TEXTS, ids=[c.splitlines()[1][:40] for c, _ in JAX_TEXTS])
def test_followed_imports_and_lstsq_are_jaxs(jax_process, code, inputs):
    assert_agrees_with_jax(jax_process, code, inputs)


TORCH_TEXTS = [
    ("""import torch
from torch.nn.functional import softplus, log_softmax
import torch.nn.functional as nnf
from torch import lgamma
-(log_softmax(x, dim=0) * softplus(x)).sum() + nnf.gelu(x).sum() + lgamma(x.exp()).sum()""",
     {"x": rng.standard_normal(4)}),
    ("""import torch
solution, residuals, rank, singular_values = torch.linalg.lstsq(A, B)
solution.sum() * rank + residuals.sum() + singular_values.sum()""",
     {"A": rng.standard_normal((6, 3)), "B": rng.standard_normal((6, 2))}),
]


@pytest.mark.parametrize("code, inputs", TORCH_TEXTS, ids=[c.splitlines()[1][:40] for c, _ in TORCH_TEXTS])
def test_followed_imports_and_lstsq_are_pytorchs(code, inputs):
    torch = pytest.importorskip("torch")
    names = list(inputs)

    def f(*xs):
        scope = dict(zip(names, xs))
        body, last = code.rsplit("\n", 1)
        exec(body, scope)  # noqa: S102 - the test's own text, under PyTorch
        return eval(last, scope)  # noqa: S307

    args = tuple(torch.tensor(inputs[k], dtype=torch.float64) for k in names)
    jacobians = torch.autograd.functional.jacobian(f, args)
    np.testing.assert_allclose(api.evaluate(code, inputs), f(*args).detach().numpy(), rtol=1e-12, atol=1e-13)
    ours = api.jacobian(code, inputs)
    for k, J in zip(names, jacobians):
        np.testing.assert_allclose(ours[k], J.numpy(), rtol=1e-11, atol=1e-12, err_msg=k)
