"""Session 54's vocabulary against PyTorch and JAX: torch.clamp's bounds of two kinds and torch.lu's keywords
refused as PyTorch refuses them, jax.image.resize's every method against JAX's value and jax.jacrev, precision= of
JAX's matrix products, and dtype= of jnp's joins, cov and trace (skipped without the libraries)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

A = np.array([[0.31, 0.47, 0.73], [0.89, 0.17, 0.29], [0.61, 0.53, 0.11]])
B = np.array([[0.93, -0.23, 0.41], [0.13, 1.37, -0.53], [0.71, 0.29, 1.17]])
TORCH = "import torch\n"
JAX = "import jax\nimport jax.numpy as jnp\nfrom jax import lax\n"


def _jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.image  # noqa: F401
    import jax.numpy as jnp
    return jax, jnp


# PyTorch raises TypeError at each (its overloads take (Tensor min, Tensor max) or (Number, Number); torch.lu's
# **kwargs reach torch.functional._lu_impl(A, pivot, get_infos, out)); jac answered each before
TORCH_REFUSED = [
    ("torch.clamp(A, B, max=0.75)", "min and max must both be tensors or both be numbers"),
    ("torch.clip(A, B, max=0.75)", "clamp by one bound, then the other (torch.clamp(x, min=B).clamp(max=0.75))"),
    ("A.clamp(B, max=0.75)", "not a tensor min beside a number max"),
    ("A.clip(max=B, min=0.2)", "not a number min beside a tensor max"),
    ("torch.clamp(A, 0.1, max=B)", "PyTorch raises TypeError"),
    ("torch.lu(input=A)", "PyTorch's torch.lu takes A, pivot, get_infos, out (it raises TypeError): write A="),
    ("torch.lu(x=A)", "has no argument 'x'"),
    ("torch.lu(a=A)", "has no argument 'a'"),
]


@pytest.mark.parametrize("text,words", TORCH_REFUSED, ids=[t for t, _ in TORCH_REFUSED])
def test_refused_where_pytorch_raises(text, words):
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings(), pytest.raises(TypeError):
        warnings.simplefilter("ignore")
        eval(text, {"torch": torch, "A": torch.tensor(A), "B": torch.tensor(B)})  # noqa: S307
    with pytest.raises(JacError) as err:
        api.evaluate(TORCH + text, {"A": A, "B": B})
    assert words in err.value.message


@pytest.mark.parametrize("text", ["torch.clamp(A, 0.1, 0.75)", "torch.clamp(A, B, B + 1.0)",
                                  "torch.clamp(A, A.min().item(), 0.75)", "A.clamp(max=B)", "torch.clamp(A, None, B)"])
def test_clamp_of_bounds_of_one_kind_still_answers(text):
    torch = pytest.importorskip("torch")
    theirs = eval(text, {"torch": torch, "A": torch.tensor(A), "B": torch.tensor(B)})  # noqa: S307
    np.testing.assert_allclose(api.evaluate(TORCH + text, {"A": A, "B": B}), theirs.numpy(), rtol=1e-15)


def test_lu_by_its_own_keyword_answers_as_pytorch():
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lu, _ = torch.lu(A=torch.tensor(A))
    ours = api.evaluate(TORCH + "torch.lu(A=A)[0]", {"A": A})
    np.testing.assert_allclose(ours, lu.numpy(), rtol=1e-12, atol=1e-15)


V = np.array([0.43, -0.71, 1.13, 0.27, -0.38])
M = np.array([[0.31, -0.47, 0.73, 0.12], [0.89, 0.17, -0.29, 0.55], [0.61, 0.53, 0.11, -0.94]])
X = (np.arange(24.0).reshape(1, 3, 4, 2) * 0.37) % 1.9 - 0.8
SHAPES = (("V", [(10,), (3,), (7,), (1,)]), ("M", [(6, 12), (2, 9), (1, 1), (3, 8)]),
          ("X", [(1, 6, 8, 2), (1, 5, 3, 2)]))
RESIZED = [(name, shape) for name, shapes in SHAPES for shape in shapes]
METHODS = ["nearest", "linear", "bilinear", "cubic", "lanczos3", "lanczos5", "area", "cubic-pytorch"]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("antialias", [True, False])
def test_resize_is_jax_value_and_jacobian(method, antialias):
    jax, jnp = _jax()
    values = {"V": V, "M": M, "X": X}
    for name, shape in RESIZED:
        text = f"jax.image.resize({name}, {shape}, '{method}', antialias={antialias})"

        def f(x):
            return jax.image.resize(x, shape, method, antialias=antialias)

        given = jnp.asarray(values[name])
        theirs, jac_theirs = np.asarray(f(given)), np.asarray(jax.jacrev(f)(given))
        ours = api.evaluate(JAX + text, {name: values[name]})
        found = api.jacobian(JAX + text, {name: values[name]}, wrt=[name])[name]
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-13, err_msg=text)
        np.testing.assert_allclose(found, jac_theirs, rtol=1e-12, atol=1e-13, err_msg=text)


@pytest.mark.parametrize("text,words", [
    ("jax.image.resize(M, (6,), 'linear')", "shape must have length equal to the number of dimensions of x"),
    ("jax.image.resize(M, (6, 8), 'bogus')", 'Unknown resize method "bogus"'),
    ("jnp.matmul(M, M.T, precision=3)", "precision= must be None, a jax.lax.Precision"),
    ("jnp.matmul(M, M.T, precision='HIGHEST')", "one of JAX's names"),
    ("jnp.matmul(M, M.T, precision=lax.Precision.ULTRA)", "jax.lax.Precision has no member 'ULTRA'"),
])
def test_refused_as_jax_refuses(text, words):
    jax, jnp = _jax()
    from jax import lax
    with pytest.raises((ValueError, AttributeError)):
        eval(text, {"jax": jax, "jnp": jnp, "lax": lax, "M": jnp.asarray(M)})  # noqa: S307
    with pytest.raises(JacError) as err:
        api.evaluate(JAX + text, {"M": M})
    assert words in err.value.message


@pytest.mark.parametrize("text", [
    "jnp.einsum('ij,kj->ik', M, M, precision=lax.Precision.HIGHEST)", "jnp.dot(M, M.T, precision='highest')",
    "jnp.matmul(M, M.T, precision=(lax.Precision.HIGHEST, lax.Precision.DEFAULT))",
    "jnp.matmul(M, M.T, precision=('float32', 'fastest'))", "jnp.dot(M, M.T, precision=None)",
    "jax.image.resize(M, (6, 8), 'bilinear', precision=lax.Precision.HIGHEST)",
    "jnp.concatenate([M, 2.0 * M], dtype=jnp.float64)", "jnp.stack([M, M * M], axis=1, dtype=jnp.float64)",
    "jnp.cov(M, dtype=jnp.float64)", "jnp.corrcoef(M, dtype=jnp.float64)", "jnp.trace(M, 1, dtype=jnp.float64)",
    "jnp.nancumsum(M, axis=1, dtype=jnp.float64)", "jnp.dstack([M, M], dtype=jnp.float64)",
])
def test_answered_as_jax_answers(text):
    jax, jnp = _jax()
    from jax import lax

    def f(m):
        return eval(text, {"jax": jax, "jnp": jnp, "lax": lax, "M": m})  # noqa: S307

    theirs, jac_theirs = np.asarray(f(jnp.asarray(M))), np.asarray(jax.jacrev(f)(jnp.asarray(M)))
    np.testing.assert_allclose(api.evaluate(JAX + text, {"M": M}), theirs, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(api.jacobian(JAX + text, {"M": M}, wrt=["M"])["M"], jac_theirs, rtol=1e-10,
                               atol=1e-12)


def test_jnp_dtype_of_an_integer_is_refused_saying_jax_truncates():
    with pytest.raises(JacError) as err:
        api.evaluate(JAX + "jnp.concatenate([M, M], dtype=jnp.int32)", {"M": M})
    assert "JAX's result would be truncated; jac refuses an integer or bool dtype here" in err.value.message
