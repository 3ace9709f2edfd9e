"""Parity of jax.scipy.linalg (session 33e) with JAX itself: value and ``jax.jacrev`` by every input, in a process of
its own (test_jax16's ``jax_process``), x64. eigh of a matrix that is not symmetric (JAX reads its symmetric
part), lu's pivoting rows."""

import numpy as np
import pytest

from jacobi_cli.tools import api
from test_jax16 import jax_process, jax_reference  # noqa: F401 - the fixture by name

HEAD = "import jax, jax.numpy as jnp\nimport jax.scipy.linalg\n"
RNG = np.random.default_rng(331)
A = RNG.standard_normal((3, 3))
N = A + 0.3 * RNG.standard_normal((3, 3))
S = N + 4 * np.eye(3)
K = A @ A.T + 3 * np.eye(3)
B = RNG.standard_normal((4, 4))
Y = RNG.standard_normal((3, 2))
V = RNG.standard_normal(3)

TEXTS = [  # (text, inputs)
    ("jax.scipy.linalg.solve(N, Y)", {"N": N, "Y": Y}),
    ("jax.scipy.linalg.solve(N, v, assume_a='sym')", {"N": N, "v": V}),
    ("jax.scipy.linalg.cho_solve((jnp.linalg.cholesky(K), True), Y)", {"K": K, "Y": Y}),
    ("jax.scipy.linalg.solve_triangular(S, v, lower=True, trans='T')", {"S": S, "v": V}),
    ("jax.scipy.linalg.inv(N)", {"N": N}),
    ("jax.scipy.linalg.det(N)", {"N": N}),
    ("jax.scipy.linalg.expm(N)", {"N": N}),
    ("jax.scipy.linalg.expm(N / 20.0)", {"N": N}),
    ("jax.scipy.linalg.eigh(N)[0]", {"N": N}),
    ("jax.scipy.linalg.eigh(N)[1]", {"N": N}),
    ("jax.scipy.linalg.eigh(K, lower=False)[1]", {"K": K}),
    ("jax.scipy.linalg.eigh(K, eigvals_only=True)", {"K": K}),
    ("jax.scipy.linalg.svd(N)[0]", {"N": N}),
    ("jax.scipy.linalg.svd(Y, full_matrices=False)[2]", {"Y": Y}),
    ("jax.scipy.linalg.svd(N, compute_uv=False)", {"N": N}),
    ("jax.scipy.linalg.qr(N)[0]", {"N": N}),
    ("jax.scipy.linalg.qr(Y, mode='economic')[1]", {"Y": Y}),
    ("jax.scipy.linalg.qr(N, mode='r')[0]", {"N": N}),
    ("jax.scipy.linalg.lu(B)[1]", {"B": B}),
    ("jax.scipy.linalg.lu(B)[2]", {"B": B}),
    ("jax.scipy.linalg.lu(B, permute_l=True)[0]", {"B": B}),
    ("jax.scipy.linalg.lu(B)[0] @ B", {"B": B}),
    ("jax.scipy.linalg.lu_factor(B)[0]", {"B": B}),
    ("jax.scipy.linalg.lu_solve(jax.scipy.linalg.lu_factor(N), v)", {"N": N, "v": V}),
    ("jax.scipy.linalg.lu_solve(jax.scipy.linalg.lu_factor(N), Y, trans=1)", {"N": N, "Y": Y}),
    ("jax.scipy.linalg.block_diag(N, v, Y)", {"N": N, "v": V, "Y": Y}),
    ("jax.scipy.linalg.toeplitz(v, Y[:, 0])", {"v": V, "Y": Y}),
    ("jax.scipy.linalg.toeplitz(v)", {"v": V}),
    ("jax.scipy.linalg.hankel(v, Y[:, 1])", {"v": V, "Y": Y}),
    ("jax.scipy.linalg.circulant(v)", {"v": V}),
]


def _with_linalg(fn, *args):
    """``fn`` in JAX's process, with jax.scipy.linalg imported (jax.scipy.linalg.NAME in the text)."""
    import jax.scipy.linalg  # noqa: F401
    return fn(*args)


@pytest.mark.parametrize("code, inputs", TEXTS, ids=[c for c, _ in TEXTS])
def test_value_and_jacobian_are_jaxs(jax_process, code, inputs):
    theirs = jax_process.submit(_with_linalg, jax_reference, HEAD + code, inputs).result()
    np.testing.assert_allclose(api.evaluate(HEAD + code, inputs), theirs["value"], rtol=1e-10, atol=1e-12)
    ours = api.jacobian(HEAD + code, inputs, wrt=list(theirs["jacobian"]))
    for k, j in theirs["jacobian"].items():
        np.testing.assert_allclose(ours[k], j, rtol=1e-9, atol=1e-11, err_msg=k)


HESSIANS = [
    "jax.hessian(lambda a: jnp.sum(jax.scipy.linalg.solve(a, v) ** 2))(N)",
    "jax.hessian(lambda a: jnp.sum(jnp.sin(jax.scipy.linalg.eigh(a)[0])))(N)",
]


@pytest.mark.parametrize("code", HESSIANS)
def test_second_derivatives_are_jaxs(jax_process, code):
    inputs = {"S": S, "N": N, "v": V}
    theirs = jax_process.submit(_with_linalg, jax_reference, HEAD + code, inputs).result()
    np.testing.assert_allclose(api.evaluate(HEAD + code, inputs), theirs["value"], rtol=1e-9, atol=1e-11)
