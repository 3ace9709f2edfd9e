"""JAX 0.10 (x64) as the reference for the readings jaxkw23_sweep.py fixed: values and VJPs of a random
cotangent through ``jax.vjp``; torch.cholesky_solve's gradient through PyTorch. Skips without JAX (or PyTorch)."""

import re

import numpy as np
import pytest

from jacobi_cli.tools import api

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")
pytest.importorskip("jax.scipy.linalg")
pytest.importorskip("jax.scipy.special")

rng = np.random.default_rng(2023)
X = rng.uniform(0.2, 0.9, 6)
Y = rng.uniform(0.2, 0.9, 6)
A = rng.uniform(0.2, 0.9, (3, 4))
C = rng.uniform(0.2, 0.9, (3, 3)) + 3 * np.eye(3)
S = (C + C.T) / 2
CB = rng.uniform(0.2, 0.9, (2, 3, 3)) + 3 * np.eye(3)
B = rng.uniform(0.2, 0.9, (3, 2))
BB = rng.uniform(0.2, 0.9, (2, 3, 2))
ENV = {"x": X, "y": Y, "a": A, "c": C, "s": S, "cb": CB, "b": B, "bb": BB, "v": B[:, 0].copy()}

CASES = [
    "jax.scipy.linalg.cho_solve((c, True), b)", "jax.scipy.linalg.cho_solve((c, False), b)",
    "jax.scipy.linalg.cho_solve((c, True), v)", "jax.scipy.linalg.cho_solve((cb, False), bb)",
    "jax.scipy.linalg.cho_solve((jnp.linalg.cholesky(s), True), b)",
    "jax.scipy.linalg.solve_triangular(c, b)", "jax.scipy.linalg.solve_triangular(c, v, lower=True)",
    "jax.scipy.linalg.solve_triangular(c, b, trans=1)", "jax.scipy.linalg.solve_triangular(cb, bb, trans='C')",
    "jax.scipy.linalg.solve_triangular(c, b, trans='T', lower=True, unit_diagonal=True)",
    "jnp.partition(x, 2)", "jnp.partition(a, 1, axis=0)", "jnp.partition(a, -1)", "jnp.argpartition(x, 2)",
    "jnp.argpartition(a, 0, axis=0)", "jnp.argpartition(a, 2)",
    "jnp.linalg.eigh(s, UPLO='U')[1]", "jnp.linalg.eigh(s, 'U')[0]", "jnp.linalg.eigh(s, UPLO=None)[1]",
    "jnp.linalg.pinv(c, hermitian=True)", "jnp.linalg.pinv(cb, None, True)",
    "jnp.linalg.svd(c, hermitian=True, compute_uv=False)",
    "jnp.linalg.matrix_rank(c, rtol=3.0)", "jnp.linalg.matrix_rank(c, 3.0)", "jnp.linalg.matrix_rank(cb)",
    "jax.nn.logsumexp(x, b=-y)", "jax.scipy.special.logsumexp(a, axis=0, b=-a)", "jax.nn.logsumexp(x, b=y)",
    "jnp.histogram(x, 3, None, y)[0]", "jnp.histogram(x, 3, None, None, True)[0]", "jnp.empty_like(x)",
    "jnp.count_nonzero(a > 0.5, axis=0)",
]


def jax_value(text, names, arrays):
    return eval(text, {"jnp": jnp, "jax": jax}, dict(zip(names, arrays)))


@pytest.mark.parametrize("text", CASES)
def test_value_and_vjp_are_jaxs(text):
    jax.config.update("jax_enable_x64", True)
    try:
        names = [k for k in ENV if re.search(rf"\b{k}\b", text)]
        bindings = {k: ENV[k] for k in names}
        out, pull = jax.vjp(lambda *arrays: jax_value(text, names, arrays), *[jnp.asarray(ENV[k]) for k in names])
        out = np.asarray(out)
        np.testing.assert_allclose(api.evaluate(text, bindings), out, rtol=1e-9, atol=1e-12, equal_nan=True)
        if out.dtype.kind != "f":
            return
        v = rng.standard_normal(out.shape)
        ref = pull(jnp.asarray(v))
        mine = api.vjp(text, bindings, v=v)
        for k, r in zip(names, ref):
            np.testing.assert_allclose(mine[k], np.asarray(r), rtol=1e-7, atol=1e-10, err_msg=k)
    finally:
        jax.config.update("jax_enable_x64", False)


def test_torch_cholesky_solve_gradient_is_pytorchs_and_jaxs_cho_solve_reads_the_triangle():
    torch = pytest.importorskip("torch")
    low = np.tril(C)
    v = rng.standard_normal(B.shape)
    lt, bt = torch.tensor(low, requires_grad=True), torch.tensor(B, requires_grad=True)
    torch.cholesky_solve(bt, lt).backward(torch.tensor(v))
    mine = api.vjp("torch.cholesky_solve(b, L)", {"b": B, "L": low}, v=v)
    np.testing.assert_allclose(mine["L"], lt.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(mine["b"], bt.grad.numpy(), rtol=1e-9, atol=1e-12)
    assert np.any(np.triu(lt.grad.numpy(), 1) != 0)
    jax.config.update("jax_enable_x64", True)
    try:
        ref = jax.vjp(lambda c: jax.scipy.linalg.cho_solve((c, True), jnp.asarray(B)), jnp.asarray(low))[1](
            jnp.asarray(v))[0]
    finally:
        jax.config.update("jax_enable_x64", False)
    ours = api.vjp("jax.scipy.linalg.cho_solve((L, True), b)", {"b": B, "L": low}, v=v)["L"]
    np.testing.assert_allclose(ours, np.asarray(ref), rtol=1e-9, atol=1e-12)
    assert np.all(np.triu(np.asarray(ref), 1) == 0)
