"""What session 28 read of JAX (lang/attention.py, ...): values as JAX defines them (written out here), derivatives
against central differences, and the refusals, each saying why and what to write."""

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from test_jax16 import assert_derivatives_are_central_differences

rng = np.random.default_rng(28)
HEAD = "import jax, jax.numpy as jnp\nfrom jax import lax\n"
runner = CliRunner()


def refusal(code, **inputs) -> str:
    with pytest.raises(JacError) as err:
        api.jacobian(HEAD + code, inputs)
    return str(err.value)


def softmax(s):
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# --- jax.nn.dot_product_attention (lang/attention.py) -------------------------------------------------------------

Q, K, V = rng.standard_normal((2, 3, 4, 2)), rng.standard_normal((2, 4, 2, 2)), rng.standard_normal((2, 4, 2, 2))


def attention(q, k, v, keep=True, bias=0.0, scale=None):
    """JAX's formula in NumPy: query head n reads key head n // G; excluded logits are -0.7 × float32's largest."""
    g = q.shape[2] // k.shape[2]
    k, v = np.repeat(k, g, axis=2), np.repeat(v, g, axis=2)
    s = np.einsum("btnh,bsnh->bnts", q, k) * (scale or 1 / np.sqrt(q.shape[-1])) + bias
    w = softmax(np.where(keep, s, -0.7 * np.finfo(np.float32).max))
    return np.einsum("bnts,bsnh->btnh", w, v)


def test_dot_product_attention_is_softmax_of_the_scaled_logits_per_head_with_grouped_heads():
    got = api.evaluate(HEAD + "jax.nn.dot_product_attention(q, k, v)", {"q": Q, "k": K, "v": V})
    np.testing.assert_allclose(got, attention(Q, K, V), rtol=1e-12)
    got = api.evaluate(HEAD + "jax.nn.dot_product_attention(q, k, v, scale=0.5, is_causal=True)",
                       {"q": Q, "k": K, "v": V})
    np.testing.assert_allclose(got, attention(Q, K, V, keep=np.tril(np.ones((3, 4), bool)), scale=0.5), rtol=1e-12)


def test_a_row_masked_entirely_averages_the_values_as_jaxs_large_negative_number_does():
    keep = np.ones((1, 1, 3, 4), bool)
    keep[..., 1, :] = False
    got = api.evaluate(HEAD + "jax.nn.dot_product_attention(q, k, v, mask=m > 0.5)",
                       {"q": Q, "k": K, "v": V, "m": keep.astype(float)})
    np.testing.assert_allclose(got, attention(Q, K, V, keep=keep), rtol=1e-12)
    np.testing.assert_allclose(got[:, 1], np.repeat(V, 2, axis=2).mean(axis=1), rtol=1e-12)


def test_query_rows_past_their_length_are_zero():
    got = api.evaluate(HEAD + "jax.nn.dot_product_attention(q, k, v, query_seq_lengths=jnp.array([1, 3]))",
                       {"q": Q, "k": K, "v": V})
    assert np.all(got[0, 1:] == 0) and np.all(got[1] != 0)


@pytest.mark.parametrize("code", [
    "jax.nn.dot_product_attention(q, k, v, bias, m > 0, scale=0.7)",
    "jax.nn.dot_product_attention(q, k, v, is_causal=True, local_window_size=1)",
    "jax.nn.dot_product_attention(q, k, v, key_value_seq_lengths=jnp.array([2, 4]))",
    "jax.nn.dot_product_attention(q[0], k[0], v[0], return_residual=True)[0]",  # [1]: stop_gradient, as JAX
])
def test_dot_product_attention_derivatives_are_central_differences(code):
    assert_derivatives_are_central_differences(HEAD + code, {"q": Q, "k": K, "v": V,
                                                             "bias": rng.standard_normal((2, 1, 3, 4)),
                                                             "m": rng.standard_normal((1, 4, 3, 1))})


@pytest.mark.parametrize("code, words", [
    ("jax.nn.dot_product_attention(q, k, v, mask=q[:, :1, :1, :1] * 0 + 1)", "mask must be boolean"),
    ("jax.nn.dot_product_attention(q, k[:, :3], v)", "share their shape"),
    ("jax.nn.dot_product_attention(q[:, :, :3], k, v)", "multiple of key / value heads"),
    ("jax.nn.dot_product_attention(q, k, v, jnp.ones((2, 3, 3, 4)))", "does not broadcast"),
    ("jax.nn.dot_product_attention(q, k, v, implementation='cudnn')", "GPUs"),
    ("jax.nn.dot_product_attention(q, k, v, None, None, 0.5)", "5 positional"),
    ("jax.nn.dot_product_attention(q, k, v, query_seq_lengths=jnp.array([1]))", "one per batch row"),
    ("jax.nn.dot_product_attention(q, k, v, local_window_size=(1, 2, 3))", "local_window_size"),
])
def test_dot_product_attention_refuses_what_jax_refuses(code, words):
    assert words in refusal(code, q=Q, k=K, v=V)


def test_dot_product_attention_on_the_command_line():
    result = runner.invoke(app, ["eval", HEAD + "jax.nn.dot_product_attention(q, q, q).sum()", "q:1,2,1,3", "--json"])
    assert result.exit_code == 0, result.output
