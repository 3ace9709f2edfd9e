"""jax.scipy.linalg as JAX users write it (session 33e, lang/scipylinalg.py's JAX section): values against the formulas
JAX computes (checked against JAX itself in tests/test_parity_jaxlinalg33.py), Jacobians against central differences
refusals that say why."""

import numpy as np
import pytest
import scipy.linalg as sl

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian

HEAD = "import jax, jax.numpy as jnp\nimport jax.scipy.linalg\n"
RNG = np.random.default_rng(33)
A = RNG.standard_normal((3, 3))
K = A @ A.T + 3 * np.eye(3)  # symmetric positive definite
N = A + 0.3 * RNG.standard_normal((3, 3))  # general, not symmetric
S = N + 4 * np.eye(3)  # its triangles' symmetric matrices are positive definite
B = RNG.standard_normal((4, 4))  # lu pivots rows
Y = RNG.standard_normal((3, 2))
V = RNG.standard_normal(3)
W = RNG.standard_normal(4)
ENV = {"K": K, "N": N, "S": S, "B": B, "Y": Y, "v": V, "w": W}


CASES = [  # (text, the value JAX computes, as a formula of the bound arrays)
    ("jax.scipy.linalg.solve(N, v)", lambda e: np.linalg.solve(e["N"], e["v"])),
    ("jax.scipy.linalg.solve(N, Y, assume_a='sym')", lambda e: np.linalg.solve(e["N"], e["Y"])),  # the whole of a
    ("jax.scipy.linalg.solve(N, v, assume_a='her', lower=True)", lambda e: np.linalg.solve(e["N"], e["v"])),
    ("jax.scipy.linalg.cho_solve((jnp.linalg.cholesky(K), True), v)", lambda e: np.linalg.solve(e["K"], e["v"])),
    ("jax.scipy.linalg.solve_triangular(S, Y, trans=1)", lambda e: sl.solve_triangular(e["S"], e["Y"], trans=1)),
    ("jax.scipy.linalg.inv(N)", lambda e: np.linalg.inv(e["N"])),
    ("jax.scipy.linalg.det(N)", lambda e: np.linalg.det(e["N"])),
    ("jax.scipy.linalg.expm(N)", lambda e: sl.expm(e["N"])),
    ("jax.scipy.linalg.eigh(N, eigvals_only=True)", lambda e: np.linalg.eigvalsh((e["N"] + e["N"].T) / 2)),
    ("jax.scipy.linalg.eigh(N)[1]", lambda e: np.linalg.eigh((e["N"] + e["N"].T) / 2)[1]),
    ("jax.scipy.linalg.eigh(K, lower=False)[0]", lambda e: np.linalg.eigvalsh(e["K"])),
    ("jax.scipy.linalg.svd(N)[0]", lambda e: np.linalg.svd(e["N"])[0]),
    ("jax.scipy.linalg.svd(Y, full_matrices=False, lapack_driver='gesvd')[2]",
     lambda e: np.linalg.svd(e["Y"], full_matrices=False)[2]),
    ("jax.scipy.linalg.svd(N, compute_uv=False)", lambda e: np.linalg.svd(e["N"], compute_uv=False)),
    ("jax.scipy.linalg.qr(N)[1]", lambda e: np.linalg.qr(e["N"], mode="complete")[1]),
    ("jax.scipy.linalg.qr(Y, mode='economic')[0]", lambda e: np.linalg.qr(e["Y"])[0]),
    ("jax.scipy.linalg.qr(N, mode='r')[0]", lambda e: np.linalg.qr(e["N"], mode="r")),
    ("jax.scipy.linalg.lu(B)[0]", lambda e: sl.lu(e["B"])[0]),
    ("jax.scipy.linalg.lu(B)[1]", lambda e: sl.lu(e["B"])[1]),
    ("jax.scipy.linalg.lu(B)[2]", lambda e: sl.lu(e["B"])[2]),
    ("jax.scipy.linalg.lu(B, permute_l=True)[0]", lambda e: sl.lu(e["B"], permute_l=True)[0]),
    ("jax.scipy.linalg.lu_factor(B)[0]", lambda e: sl.lu_factor(e["B"])[0]),
    ("jax.scipy.linalg.lu_factor(B)[1]", lambda e: sl.lu_factor(e["B"])[1]),
    ("jax.scipy.linalg.lu_solve(jax.scipy.linalg.lu_factor(B), w)", lambda e: np.linalg.solve(e["B"], e["w"])),
    ("jax.scipy.linalg.lu_solve(jax.scipy.linalg.lu_factor(N), Y, trans=1)", lambda e: np.linalg.solve(e["N"].T, e["Y"])),
    ("jax.scipy.linalg.block_diag(N, v, Y)", lambda e: sl.block_diag(e["N"], e["v"], e["Y"])),
    ("jax.scipy.linalg.toeplitz(v, Y[:, 0])", lambda e: sl.toeplitz(e["v"], e["Y"][:, 0])),
    ("jax.scipy.linalg.hankel(v)", lambda e: sl.hankel(e["v"])),
    ("jax.scipy.linalg.circulant(v)", lambda e: sl.circulant(e["v"])),
]
CONSTANT = ("lu(B)[0]", "lu_factor(B)[1]")


def _central(code, env, name):
    """The Jacobian of ``code`` by ``name`` by central differences of jac's own values (tools.numeric's steps)."""
    return central_jacobian(lambda v: np.asarray(api.evaluate(HEAD + code, {**env, name: v})), env[name])


@pytest.mark.parametrize("code, theirs", CASES, ids=[c for c, _ in CASES])
def test_the_value_is_jaxs(code, theirs):
    np.testing.assert_allclose(api.evaluate(HEAD + code, ENV), theirs(ENV), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("code", [c for c, _ in CASES if not any(k in c for k in CONSTANT)])
def test_the_jacobian_is_central_differences(code):
    names = [n for n in ENV if n in code.split("jax.scipy.linalg.", 1)[1]]
    jac = api.jacobian(HEAD + code, ENV)
    for name in names:
        np.testing.assert_allclose(jac[name], _central(code, ENV, name), rtol=1e-6, atol=1e-7, err_msg=name)


def test_expm_is_nan_past_jaxs_squarings():
    big = np.diag([-1e6, -2.0, -3.0])  # ‖A‖₁ ≥ θ₁₃·2¹⁷: JAX's scaling needs 17 squarings, more than 16
    assert np.all(np.isnan(api.evaluate(HEAD + "jax.scipy.linalg.expm(A)", {"A": big})))
    np.testing.assert_allclose(api.evaluate(HEAD + "jax.scipy.linalg.expm(A, max_squarings=20)", {"A": big}),
                               sl.expm(big), atol=1e-300)
    assert np.all(api.jacobian(HEAD + "jax.scipy.linalg.expm(A)", {"A": big})["A"] == 0)


def test_imports_as_people_write_them():
    text = "from jax.scipy.linalg import solve, lu_factor, lu_solve\nimport jax.scipy.linalg as jsl\n" \
           "solve(K, v, assume_a='sym') + lu_solve(lu_factor(K), v) + jsl.inv(K) @ v"
    np.testing.assert_allclose(api.evaluate(text, ENV), 3 * np.linalg.solve(K, V), rtol=1e-12)


@pytest.mark.parametrize("code, words", [
    ("jax.scipy.linalg.cholesky(K)", "Hessian is not symmetric"),
    ("jax.scipy.linalg.cho_factor(K, lower=True)", "jnp.linalg.cholesky"),
    ("jax.scipy.linalg.sqrtm(K)", "complex"),
    ("jax.scipy.linalg.polar(N)", "qdwh"),
    ("jax.scipy.linalg.solve(K, v, assume_a='pos')", "second derivative"),
    ("jax.scipy.linalg.solve(K, v, assume_a='banded')", "assume_a must be"),
    ("jax.scipy.linalg.expm(N, upper_triangular=True)", "upper_triangular"),
    ("jax.scipy.linalg.eigh(K, K)", "b=None"),
    ("jax.scipy.linalg.qr(N, pivoting=True)", "jax.scipy.linalg.qr(pivoting=True)"),
    ("jax.scipy.linalg.toeplitz(N)", "jax.scipy.linalg.toeplitz: jac reads a 1-d c"),
    ("jax.scipy.linalg.schur(N)", "of jax.scipy.linalg, jac reads"),
])
def test_refusals_say_why(code, words):
    with pytest.raises(JacError) as caught:
        api.evaluate(HEAD + code, ENV)
    assert words in str(caught.value), str(caught.value)
