"""Decompositions' sign conventions against PyTorch and JAX (session 23): jac's value is the text's library's
where that library's is reproducible (NumPy's and JAX's LAPACK calls), and PyTorch's vectors, whose signs come
from its own LAPACK, are refused where the output depends on them and answered, with PyTorch's derivatives,
where it does not."""
from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacValueError
from jacobi_cli.tools import api

torch = pytest.importorskip("torch")
rng = np.random.default_rng(2323)
SHAPES = [(3, 4), (4, 3), (3, 3), (1, 4), (4, 1), (2, 3, 4), (2, 4, 3)]


def _torch_vjp(text: str, a: np.ndarray, v: np.ndarray) -> tuple:
    *statements, last = text.split(";")
    x = torch.tensor(a, requires_grad=True)
    env = {"A": x}
    for s in statements:
        exec(s.strip(), {"torch": torch}, env)
    out = eval(last.strip(), {"torch": torch}, env)
    (g,) = torch.autograd.grad(out, x, torch.tensor(v))
    return out.detach().numpy(), g.numpy()


def test_pytorchs_signs_are_not_numpys():
    """Why PyTorch's vectors are refused: its LAPACK's signs differ from NumPy's for some matrices."""
    flips = 0
    for _ in range(20):
        a = rng.standard_normal((4, 3))
        ours = np.linalg.svd(a, full_matrices=False)[0]
        theirs = torch.linalg.svd(torch.tensor(a), full_matrices=False)[0].numpy()
        flips += int(np.any(np.sum(ours * theirs, axis=0) < 0))
    if not flips:
        pytest.skip("this PyTorch build's LAPACK gave NumPy's signs for every draw")
    with pytest.raises(JacValueError, match="signs of the singular vectors"):
        api.evaluate("torch.linalg.svd(A, full_matrices=False)[0]", {"A": a})



def _agrees_with_torch(text: str, a: np.ndarray, read=lambda g: g) -> None:
    """jac's value of ``text`` at ``A = a`` is PyTorch's, and its VJP of a random cotangent too (``read`` of both:
    the part of the gradient both define)."""
    ours = np.asarray(api.evaluate(text, {"A": a}))
    v = rng.standard_normal(ours.shape)
    value, grad = _torch_vjp(text, a, v)
    np.testing.assert_allclose(ours, value, rtol=1e-10, atol=1e-12)
    found = api.vjp(text, {"A": a}, v, wrt=["A"])["A"]
    np.testing.assert_allclose(read(found), read(grad), rtol=1e-8, atol=1e-10)

@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("body", ["(U * S[..., None, :]) @ Vh", "U ** 2", "Vh ** 2", "S", "U[..., 0:1] * Vh[..., 0:1, :]",
                                  "U @ U.mT", "Vh.mT @ Vh"])
def test_sign_free_svd_expressions_match_pytorch_with_their_vjp(shape, body):
    a = rng.standard_normal(shape)
    text = f"U, S, Vh = torch.linalg.svd(A, full_matrices=False); {body}"
    _agrees_with_torch(text, a)


@pytest.mark.parametrize("text", ["torch.svd(A)[0] ** 2", "torch.svd(A)[2] ** 2", "A.svd().V ** 2",
                                  "torch.linalg.svdvals(A)", "torch.svd(A).S"])
def test_deprecated_svd_spellings_match_pytorch_where_sign_free(text):
    a = rng.standard_normal((2, 4, 3))
    _agrees_with_torch(text, a)


@pytest.mark.parametrize("text", ["torch.linalg.eigh(A)[1] ** 2", "w, V = torch.linalg.eigh(A); (V * w[..., None, :]) @ V.mT",
                                  "torch.linalg.eigh(A, UPLO='U')[1] ** 2", "torch.linalg.eigh(A)[0]",
                                  "torch.linalg.eigvalsh(A)"])
def test_sign_free_eigh_expressions_match_pytorch_with_their_vjp(text):
    x = rng.standard_normal((2, 4, 4))
    a = x @ np.swapaxes(x, -1, -2) + np.eye(4)
    _agrees_with_torch(text, a, read=lambda g: (g + np.swapaxes(g, -1, -2)) / 2)  # PyTorch's reads one triangle


@pytest.mark.parametrize("shape", [(4, 3), (3, 3), (2, 4, 3)])
@pytest.mark.parametrize("k", [0, 1])
def test_qr_is_pytorchs_value_and_vjp(shape, k):
    """QR's signs (Householder's, R's diagonal) are the same in both LAPACKs: answered, as PyTorch's."""
    a = rng.standard_normal(shape)
    text = f"torch.linalg.qr(A)[{k}]"
    _agrees_with_torch(text, a)


@pytest.mark.parametrize("shape", SHAPES)
def test_jax_svd_is_jacs_bit_for_bit_and_its_vjp(shape):
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    a = rng.standard_normal(shape)
    for k in range(3):
        text = f"jnp.linalg.svd(A, full_matrices=False)[{k}]"
        ours = np.asarray(api.evaluate(text, {"A": a}))
        out, back = jax.vjp(lambda x: jnp.linalg.svd(x, full_matrices=False)[k], jnp.asarray(a))
        np.testing.assert_allclose(ours, np.asarray(out), rtol=1e-10, atol=1e-12)
        v = rng.standard_normal(ours.shape)
        np.testing.assert_allclose(api.vjp(text, {"A": a}, v, wrt=["A"])["A"], np.asarray(back(jnp.asarray(v))[0]),
                                   rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_jax_eigh_vectors_and_vjp(uplo):
    jax = pytest.importorskip("jax")
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    x = rng.standard_normal((4, 4))
    a = x @ x.T + np.eye(4)
    text = f"jnp.linalg.eigh(A, UPLO='{uplo}')[1]"
    ours = np.asarray(api.evaluate(text, {"A": a}))
    out, back = jax.vjp(lambda m: jnp.linalg.eigh(m, UPLO=uplo)[1], jnp.asarray(a))
    np.testing.assert_allclose(ours, np.asarray(out), rtol=1e-10, atol=1e-12)
    v = rng.standard_normal(ours.shape)
    np.testing.assert_allclose(api.vjp(text, {"A": a}, v, wrt=["A"])["A"], np.asarray(back(jnp.asarray(v))[0]),
                               rtol=1e-8, atol=1e-10)
