"""Decompositions' sign conventions against the text's own library (session 23), NumPy and SciPy as reference.

- np.linalg.svd / jnp.linalg.svd of a wide matrix was its transpose's SVD: LAPACK's signs of another matrix, so
  U and Vh came out with columns negated. Now gesdd on the matrix itself, as NumPy, SciPy and JAX: bit for bit.
- np.linalg.eigh(A, UPLO='U') read the lower triangle's signs; now the triangle it names.
- PyTorch's svd and eigh vectors carry MKL's signs, which jac cannot reproduce: an output that depends on them is
  refused, one that does not is answered (its derivatives unchanged).
"""
from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.errors import JacError, JacValueError
from jacobi_cli.tools import api

rng = np.random.default_rng(23)
SHAPES = [(3, 4), (4, 3), (3, 3), (1, 4), (4, 1), (2, 3, 4), (2, 4, 3), (2, 3, 5)]
SIGNS = "signs of the singular vectors"


def central(text: str, a: np.ndarray, v: np.ndarray, symmetric: bool = False, h: float = 1e-6) -> np.ndarray:
    """d<v, f(A)>/dA by central differences of jac's own value (a symmetric direction for a symmetric reader)."""
    g = np.zeros_like(a)
    for i in np.ndindex(a.shape):
        d = np.zeros_like(a)
        d[i] = 1.0
        if symmetric:
            d = (d + np.swapaxes(d, -1, -2)) / 2
        up, down = (np.asarray(api.evaluate(text, {"A": a + s * h * d})) for s in (1, -1))
        g[i] = np.sum(v * (up - down)) / (2 * h)
    return g


@pytest.mark.parametrize("shape", SHAPES)
def test_svd_of_any_shape_is_numpys_bit_for_bit(shape):
    a = rng.standard_normal(shape)
    want = np.linalg.svd(a, full_matrices=False)
    for k in range(3):
        for spelling in ("np.linalg.svd(A, full_matrices=False)", "jnp.linalg.svd(A, full_matrices=False)"):
            np.testing.assert_array_equal(api.evaluate(f"{spelling}[{k}]", {"A": a}), want[k])
    np.testing.assert_array_equal(api.evaluate("np.linalg.svd(A, compute_uv=False)", {"A": a}), want[1])


def test_the_wide_matrix_of_the_defect_and_scipys_svd():
    a = np.array([[1.0, 2.0, 3.0, 0.5], [4.0, 5.0, 7.0, -1.0], [0.3, -2.0, 1.0, 2.0]])  # 3 × 4
    u, s, vh = scipy.linalg.svd(a, full_matrices=False)  # SciPy's gesdd on the matrix itself, as NumPy's
    np.testing.assert_allclose(api.evaluate("np.linalg.svd(A, False)[0]", {"A": a}), u, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(api.evaluate("np.linalg.svd(A, False)[2]", {"A": a}), vh, rtol=1e-12, atol=1e-14)
    # what jac answered before: the transpose's vectors, another sign in some column
    old = np.linalg.svd(a.T, full_matrices=False)[2].T
    assert not np.allclose(old, u)


@pytest.mark.parametrize("shape", [(3, 4), (1, 4), (2, 3, 5), (4, 3), (3, 3)])
@pytest.mark.parametrize("k", [0, 1, 2])
def test_svd_vjp_and_jvp_of_the_value_shown(shape, k):
    a = rng.standard_normal(shape)
    text = f"np.linalg.svd(A, full_matrices=False)[{k}]"
    out = np.asarray(api.evaluate(text, {"A": a}))
    v = rng.standard_normal(out.shape)
    g = api.vjp(text, {"A": a}, v, wrt=["A"])["A"]
    np.testing.assert_allclose(g, central(text, a, v), rtol=1e-6, atol=1e-7)
    t = rng.standard_normal(shape)
    jt = np.asarray(api.jvp(text, {"A": a}, {"A": t}))
    np.testing.assert_allclose(np.sum(v * jt), np.sum(g * t), rtol=1e-10, atol=1e-12)


def test_wide_svd_hessian_against_differences_of_its_vjp():
    a = rng.standard_normal((2, 3))
    text = "np.linalg.svd(A, full_matrices=False)[2][0, 1] ** 2"  # reads a sign-free square of Vh
    h = np.asarray(api.hessian(text, {"A": a})[("A", "A")]).reshape(a.size, a.size)
    col = np.zeros((a.size, a.size))
    for j in range(a.size):
        d = np.zeros(a.size)
        d[j] = 1e-5
        up = api.vjp(text, {"A": a + d.reshape(a.shape)}, 1.0, wrt=["A"])["A"].ravel()
        down = api.vjp(text, {"A": a - d.reshape(a.shape)}, 1.0, wrt=["A"])["A"].ravel()
        col[:, j] = (up - down) / 2e-5
    np.testing.assert_allclose(h, col, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h, h.T, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_reads_the_triangle_it_names(uplo):
    x = rng.standard_normal((2, 4, 4))
    a = x @ np.swapaxes(x, -1, -2) + np.eye(4)
    w, v = np.linalg.eigh(a, UPLO=uplo)
    np.testing.assert_array_equal(api.evaluate(f"np.linalg.eigh(A, UPLO='{uplo}')[1]", {"A": a}), v)
    np.testing.assert_allclose(api.evaluate(f"np.linalg.eigvalsh(A, UPLO='{uplo}')", {"A": a}), w, rtol=1e-14)
    text = f"np.linalg.eigh(A, UPLO='{uplo}')[1]"
    g = rng.standard_normal(v.shape)
    found = api.vjp(text, {"A": a}, g, wrt=["A"])["A"]
    found = (found + np.swapaxes(found, -1, -2)) / 2
    np.testing.assert_allclose(found, central(text, a, g, symmetric=True), rtol=1e-6, atol=1e-7)


def test_numpys_upper_and_lower_readings_differ_in_signs():
    """Why UPLO is carried to LAPACK: a case where the two readings' eigenvectors differ in sign."""
    for _ in range(50):
        x = rng.standard_normal((4, 4))
        a = x @ x.T
        lo, up = np.linalg.eigh(a, UPLO="L")[1], np.linalg.eigh(a, UPLO="U")[1]
        if not np.allclose(lo, up):
            np.testing.assert_array_equal(api.evaluate("np.linalg.eigh(A, UPLO='U')[1]", {"A": a}), up)
            return
    pytest.skip("LAPACK gave the same signs for every draw")


@pytest.mark.parametrize("text", ["torch.linalg.svd(A, full_matrices=False)[0]", "torch.linalg.svd(A, False)[2]",
                                  "torch.svd(A)[0]", "torch.svd(A)[2]", "A.svd()[0]", "A.svd().V",
                                  "U, S, Vh = torch.linalg.svd(A, full_matrices=False); U[0, 0] > 0",
                                  "U, S, Vh = torch.linalg.svd(A, full_matrices=False); S, U",
                                  "U, S, Vh = torch.linalg.svd(A, full_matrices=False); U[:, 0] @ A"])
def test_pytorchs_singular_vectors_are_refused_where_the_output_depends_on_their_signs(text):
    a = rng.standard_normal((4, 3))
    with pytest.raises(JacValueError, match=SIGNS):
        api.evaluate(text, {"A": a})
    result = CliRunner().invoke(app, ["eval", text, "A=[[1, 2, 3], [4, 5, 7], [0, 1, 1], [2, 0, 1]]"])
    assert result.exit_code == 2 and SIGNS in " ".join(result.output.split())


@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (3, 3), (2, 3, 4)])
def test_expressions_that_do_not_depend_on_the_signs_are_answered_with_the_numpy_spellings_derivatives(shape):
    a = rng.standard_normal(shape)
    for body in ["(U * S[..., None, :]) @ Vh", "U ** 2", "U[..., 0:1] * Vh[..., 0:1, :]", "S", "abs(Vh)",
                 "U @ U.mT"]:
        ours = f"U, S, Vh = torch.linalg.svd(A, full_matrices=False); {body}"
        numpy = f"U, S, Vh = np.linalg.svd(A, full_matrices=False); {body}".replace(".mT", ".swapaxes(-1, -2)")
        value = np.asarray(api.evaluate(ours, {"A": a}))
        np.testing.assert_array_equal(value, api.evaluate(numpy, {"A": a}))
        v = rng.standard_normal(value.shape)
        np.testing.assert_array_equal(api.vjp(ours, {"A": a}, v, wrt=["A"])["A"],
                                      api.vjp(numpy, {"A": a}, v, wrt=["A"])["A"])
    np.testing.assert_allclose(api.evaluate("U, S, Vh = torch.linalg.svd(A, full_matrices=False); "
                                            "(U * S[..., None, :]) @ Vh", {"A": a}), a, rtol=1e-12, atol=1e-13)


def test_each_matrix_of_a_batch_flips_alone():
    a = rng.standard_normal((2, 4, 3))
    with pytest.raises(JacValueError, match=SIGNS):  # the product of two matrices' signs: a flip of one shows
        api.evaluate("U = torch.linalg.svd(A, full_matrices=False)[0]; U[0, :, 0] * U[1, :, 0]", {"A": a})
    np.testing.assert_allclose(
        api.evaluate("U = torch.linalg.svd(A, full_matrices=False)[0]; U[0, :, 0] * U[0, :, 0]", {"A": a}),
        np.linalg.svd(a[0], full_matrices=False)[0][:, 0] ** 2, rtol=1e-12)


def test_two_calls_on_one_matrix_share_their_signs():
    a = rng.standard_normal((4, 3))
    text = "torch.linalg.svd(A, full_matrices=False)[0] @ torch.linalg.svd(A, full_matrices=False)[0].mT"
    u = np.linalg.svd(a, full_matrices=False)[0]
    np.testing.assert_allclose(api.evaluate(text, {"A": a}), u @ u.T, rtol=1e-12, atol=1e-14)


def test_pytorchs_eigenvectors_are_refused_alone_and_answered_in_sign_free_forms():
    x = rng.standard_normal((3, 3))
    a = x @ x.T + np.eye(3)
    with pytest.raises(JacValueError, match="signs of the eigenvectors"):
        api.evaluate("torch.linalg.eigh(A)[1]", {"A": a})
    with pytest.raises(JacValueError, match="signs of the eigenvectors"):
        api.evaluate("torch.linalg.eigh(A).eigenvectors[:, 0].sum()", {"A": a})
    np.testing.assert_allclose(api.evaluate("w, V = torch.linalg.eigh(A); (V * w) @ V.mT", {"A": a}), a, rtol=1e-12)
    np.testing.assert_array_equal(api.evaluate("torch.linalg.eigh(A)[1] ** 2", {"A": a}), np.linalg.eigh(a)[1] ** 2)
    np.testing.assert_array_equal(api.evaluate("torch.linalg.eigh(A)[0]", {"A": a}), np.linalg.eigh(a)[0])


def test_a_constant_matrix_is_refused_when_its_vectors_are_used():
    with pytest.raises(JacValueError, match="constant"):
        api.evaluate("torch.linalg.svd(torch.tensor([[1.0, 2.0], [3.0, 4.0], [0.0, 1.0]]), False)[0] ** 2")
    np.testing.assert_allclose(api.evaluate("torch.linalg.svd(torch.tensor([[3.0, 0.0], [0.0, 1.0]]))[1]"), [3, 1])


def test_shapes_of_pytorchs_vectors_are_still_given():
    result = CliRunner().invoke(app, ["shape", "torch.linalg.svd(A, full_matrices=False)[0]", "A:4x3"])
    assert result.exit_code == 0 and "(4, 3)" in result.output


def test_torch_linalg_svd_takes_pytorchs_arguments_only():
    with pytest.raises(JacError, match="compute_uv"):
        api.evaluate("torch.linalg.svd(A, compute_uv=False)", {"A": np.eye(2)})
    with pytest.raises(JacError, match="driver"):
        api.evaluate("np.linalg.svd(A, driver='gesvd')", {"A": np.eye(2)})


def test_lu_factor_of_a_singular_matrix_is_refused_as_pytorch_raises():
    with pytest.raises(JacValueError, match="exact zero on its diagonal"):
        api.evaluate("torch.linalg.lu_factor(A)[0]", {"A": np.array([[1.0, 2.0], [2.0, 4.0]])})
    with pytest.raises(JacValueError, match="exact zero on its diagonal"):
        api.evaluate("torch.linalg.lu_factor(A)[0]", {"A": np.zeros((2, 3))})
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    lu, piv, _ = scipy.linalg.lapack.dgetrf(a)
    np.testing.assert_allclose(api.evaluate("torch.linalg.lu_factor(A)[0]", {"A": a}), lu, rtol=1e-14)
