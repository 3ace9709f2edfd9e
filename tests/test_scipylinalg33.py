"""scipy.linalg as people use it (session 33d, lang/scipylinalg.py): values equal to SciPy's own, Jacobians against
central differences (SciPy has no derivative: the true derivative of the function it computes, which reads one
triangle where its routine does), refusals that say why."""

import numpy as np
import pytest
import scipy.linalg as sl

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian

HEAD = "import numpy as np\nimport scipy.linalg\n"
RNG = np.random.default_rng(33)
A = RNG.standard_normal((3, 3))
K = A @ A.T + 3 * np.eye(3)  # symmetric positive definite
N = A + 0.3 * RNG.standard_normal((3, 3))  # general, not symmetric
S = N + 4 * np.eye(3)  # its upper and lower triangles' symmetric matrices are positive definite
Y = RNG.standard_normal((3, 2))
V = RNG.standard_normal(3)
ENV = {"K": K, "N": N, "S": S, "Y": Y, "v": V}

CASES = [  # (text, SciPy's function of the bound arrays)
    ("scipy.linalg.cholesky(K)", lambda e: sl.cholesky(e["K"])),
    ("scipy.linalg.cholesky(S, lower=True)", lambda e: sl.cholesky(e["S"], lower=True)),
    ("scipy.linalg.cholesky(S)", lambda e: sl.cholesky(e["S"])),
    ("scipy.linalg.cho_factor(S)[0]", lambda e: sl.cho_factor(e["S"])[0]),
    ("scipy.linalg.cho_factor(S, lower=True)[0]", lambda e: sl.cho_factor(e["S"], lower=True)[0]),
    ("scipy.linalg.cho_solve(scipy.linalg.cho_factor(S), v)", lambda e: sl.cho_solve(sl.cho_factor(e["S"]), e["v"])),
    ("c, low = scipy.linalg.cho_factor(K, lower=True, check_finite=False)\nscipy.linalg.cho_solve((c, low), Y)",
     lambda e: sl.cho_solve(sl.cho_factor(e["K"], lower=True), e["Y"])),
    ("scipy.linalg.solve(N, v)", lambda e: sl.solve(e["N"], e["v"])),
    ("scipy.linalg.solve(N, Y, transposed=True, overwrite_a=True)", lambda e: sl.solve(e["N"], e["Y"], transposed=True)),
    ("scipy.linalg.solve(S, Y, assume_a='pos')", lambda e: sl.solve(e["S"], e["Y"], assume_a="pos")),
    ("scipy.linalg.solve(S, v, assume_a='pos', lower=True)", lambda e: sl.solve(e["S"], e["v"], assume_a="pos",
                                                                               lower=True)),
    ("scipy.linalg.solve(N, Y, assume_a='sym')", lambda e: sl.solve(e["N"], e["Y"], assume_a="sym")),
    ("scipy.linalg.solve(N, Y, assume_a='her', lower=True)", lambda e: sl.solve(e["N"], e["Y"], assume_a="her",
                                                                               lower=True)),
    ("scipy.linalg.solve(S, Y, assume_a='lower triangular', transposed=True)",
     lambda e: sl.solve(e["S"], e["Y"], assume_a="lower triangular", transposed=True)),
    ("scipy.linalg.solve(S, v, assume_a='diagonal')", lambda e: sl.solve(e["S"], e["v"], assume_a="diagonal")),
    ("scipy.linalg.solve_triangular(S, v)", lambda e: sl.solve_triangular(e["S"], e["v"])),
    ("scipy.linalg.solve_triangular(S, Y, trans='T', lower=True, unit_diagonal=True)",
     lambda e: sl.solve_triangular(e["S"], e["Y"], trans="T", lower=True, unit_diagonal=True)),
    ("scipy.linalg.inv(N)", lambda e: sl.inv(e["N"])),
    ("scipy.linalg.inv(S, assume_a='pos')", lambda e: sl.inv(e["S"], assume_a="pos")),
    ("scipy.linalg.det(N)", lambda e: sl.det(e["N"])),
    ("scipy.linalg.expm(N)", lambda e: sl.expm(e["N"])),
    ("scipy.linalg.lu_factor(N)[0]", lambda e: sl.lu_factor(e["N"])[0]),
    ("scipy.linalg.lu_factor(N)[1]", lambda e: sl.lu_factor(e["N"])[1]),
    ("scipy.linalg.lu_solve(scipy.linalg.lu_factor(N), v)", lambda e: sl.lu_solve(sl.lu_factor(e["N"]), e["v"])),
    ("scipy.linalg.lu_solve(scipy.linalg.lu_factor(N), Y, trans=1)",
     lambda e: sl.lu_solve(sl.lu_factor(e["N"]), e["Y"], trans=1)),
    ("scipy.linalg.eigh(K, eigvals_only=True)", lambda e: sl.eigh(e["K"], eigvals_only=True)),
    ("scipy.linalg.eigh(N, lower=False, driver='evd')[1]", lambda e: sl.eigh(e["N"], lower=False, driver="evd")[1]),
    ("scipy.linalg.eigh(N, driver='evd')[0]", lambda e: sl.eigh(e["N"], driver="evd")[0]),
    ("scipy.linalg.eigvalsh(N)", lambda e: sl.eigvalsh(e["N"])),
    ("scipy.linalg.svd(N)[0]", lambda e: sl.svd(e["N"])[0]),
    ("scipy.linalg.svd(Y, full_matrices=False)[2]", lambda e: sl.svd(e["Y"], full_matrices=False)[2]),
    ("scipy.linalg.svd(N, compute_uv=False)", lambda e: sl.svd(e["N"], compute_uv=False)),
    ("scipy.linalg.svdvals(Y)", lambda e: sl.svdvals(e["Y"])),
    ("scipy.linalg.qr(N)[0]", lambda e: sl.qr(e["N"])[0]),
    ("scipy.linalg.qr(N, mode='r')[0]", lambda e: sl.qr(e["N"], mode="r")[0]),
    ("scipy.linalg.qr(Y, mode='economic')[1]", lambda e: sl.qr(e["Y"], mode="economic")[1]),
    ("scipy.linalg.norm(N)", lambda e: sl.norm(e["N"])),
    ("scipy.linalg.norm(N, 2)", lambda e: sl.norm(e["N"], 2)),
    ("scipy.linalg.norm(v, 1)", lambda e: sl.norm(e["v"], 1)),
    ("scipy.linalg.lstsq(Y, v)[0]", lambda e: sl.lstsq(e["Y"], e["v"])[0]),
    ("scipy.linalg.lstsq(Y, v)[1]", lambda e: sl.lstsq(e["Y"], e["v"])[1]),
    ("scipy.linalg.lstsq(Y, N)[1]", lambda e: sl.lstsq(e["Y"], e["N"])[1]),
    ("scipy.linalg.lstsq(Y, v)[2]", lambda e: sl.lstsq(e["Y"], e["v"])[2]),
    ("scipy.linalg.lstsq(Y, v)[3]", lambda e: sl.lstsq(e["Y"], e["v"])[3]),
    ("scipy.linalg.pinv(Y)", lambda e: sl.pinv(e["Y"])),
    ("scipy.linalg.block_diag(N, v, Y)", lambda e: sl.block_diag(e["N"], e["v"], e["Y"])),
    ("scipy.linalg.toeplitz(v)", lambda e: sl.toeplitz(e["v"])),
    ("scipy.linalg.toeplitz(v, Y[:, 0])", lambda e: sl.toeplitz(e["v"], e["Y"][:, 0])),
    ("scipy.linalg.toeplitz(v, np.arange(5.0))", lambda e: sl.toeplitz(e["v"], np.arange(5.0))),
    ("scipy.linalg.circulant(v)", lambda e: sl.circulant(e["v"])),
    ("scipy.linalg.hankel(v)", lambda e: sl.hankel(e["v"])),
    ("scipy.linalg.hankel(v, np.arange(5.0))", lambda e: sl.hankel(e["v"], np.arange(5.0))),
]
# the ones with a derivative (not the pivots, the rank; eigenvectors and Q by their own tests elsewhere)
CONSTANT = ("lu_factor(N)[1]", "lstsq(Y, v)[2]")


def _central(code, env, name):
    """The Jacobian of ``code`` by ``name`` by central differences of jac's own values (tools.numeric's steps)."""
    return central_jacobian(lambda v: np.asarray(api.evaluate(HEAD + code, {**env, name: v})), env[name])


@pytest.mark.parametrize("code, theirs", CASES, ids=[c for c, _ in CASES])
def test_the_value_is_scipys(code, theirs):
    np.testing.assert_allclose(api.evaluate(HEAD + code, ENV), theirs(ENV), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("code", [c for c, _ in CASES if not any(k in c for k in CONSTANT)])
def test_the_jacobian_is_central_differences(code):
    names = [n for n in ("K", "N", "S", "Y", "v") if n in code.split("scipy.linalg.", 1)[1]]
    jac = api.jacobian(HEAD + code, ENV)
    for name in names:
        # SciPy's own function, differenced: the derivative of what it computes (one triangle where it reads one)
        np.testing.assert_allclose(jac[name], _central(code, ENV, name), rtol=1e-6, atol=1e-7, err_msg=name)


def test_cho_factor_keeps_the_other_triangle_and_cho_solve_never_reads_it():
    text = "scipy.linalg.cho_factor(S)[0]"
    jac = api.jacobian(HEAD + text, ENV)["S"]  # c[i, j] for i > j is S[i, j] itself: derivative 1
    assert jac[2, 0, 2, 0] == 1.0 and jac[2, 0, 0, 2] == 0.0
    solve = api.jacobian(HEAD + "scipy.linalg.cho_solve(scipy.linalg.cho_factor(S), v)", ENV)["S"]
    assert np.all(solve[:, 1, 0] == 0) and np.all(solve[:, 2, 0] == 0)  # the lower triangle changes nothing
    garbage = np.tril(RNG.standard_normal((3, 3)), -1)  # SciPy's value does not move either
    np.testing.assert_allclose(api.evaluate(HEAD + "scipy.linalg.cho_solve((c, False), v)",
                                            {"c": sl.cho_factor(S)[0] + garbage, "v": V}),
                               sl.cho_solve((sl.cho_factor(S)[0] + garbage, False), V), rtol=1e-12)


def test_imports_as_people_write_them():
    text = "from scipy.linalg import cho_factor, cho_solve\nimport scipy.linalg as sla\n" \
           "cho_solve(cho_factor(K), v) + sla.solve(K, v, assume_a='pos')"
    want = 2 * sl.cho_solve(sl.cho_factor(K), V)
    np.testing.assert_allclose(api.evaluate(text, ENV), want, rtol=1e-12)


@pytest.mark.parametrize("code, words", [
    ("scipy.linalg.sqrtm(K)", "no matrix square root"),
    ("scipy.linalg.logm(K)", "no matrix logarithm"),
    ("scipy.linalg.kron(N, N)", "np.kron"),
    ("scipy.linalg.eigh(K)", "driver='evd'"),
    ("scipy.linalg.eigh(K, K)", "generalized"),
    ("scipy.linalg.eigh(K, subset_by_index=[0, 1])", "subset_by_index"),
    ("scipy.linalg.solve(K, v, assume_a='banded')", "assume_a='banded'"),
    ("scipy.linalg.solve(N, v, assume_a='pos')", "not positive definite"),
    ("scipy.linalg.qr(N, pivoting=True)", "pivoting"),
    ("scipy.linalg.qr(N, mode='raw')", "mode='raw'"),
    ("scipy.linalg.svd(N, lapack_driver='gesvd')", "gesvd"),
    ("scipy.linalg.lstsq(Y, v, lapack_driver='gelsy')", "gelsy"),
    ("scipy.linalg.cho_solve(K, v)", "pair (c, lower)"),
    ("scipy.linalg.signm(K)", "of scipy.linalg, jac reads"),
    ("scipy.linalg.cholesky(K, overwrite_b=True)", "overwrite_b"),
])
def test_refusals_say_why(code, words):
    with pytest.raises(JacError) as caught:
        api.evaluate(HEAD + code, ENV)
    assert words in str(caught.value), str(caught.value)
