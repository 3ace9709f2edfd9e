"""Parity of what session 28 read of JAX (lang/attention.py, ...) and of F.scaled_dot_product_attention's
enable_gqa: each text run by JAX itself (float64, in a process of its own: test_jax16's ``jax_process``; skipped
without jax) or by PyTorch, jac's value, Jacobians and a VJP equal to the library's value and ``jax.jacrev`` /
``torch.autograd.functional.jacobian`` of the same text.

JAX's dot_product_attention rounds its logits to float32 before the softmax even for float64 inputs, so it is
compared twice: at 1e-6 with JAX's own call, and at 1e-10 with the same computation written out in float64
(``ref``: JAX's _dot_product_attention_core, the large negative number and all)."""

import numpy as np
import pytest

from jacobi_cli.tools import api
from test_jax16 import _jax, assert_agrees_with_jax, jax_process, jax_reference  # noqa: F401 - fixture by name
from test_parity_grad24 import assert_agrees_with_pytorch, torch64  # noqa: F401 - the fixture is used by name

rng = np.random.default_rng(2828)
HEAD = "import jax, jax.numpy as jnp\nfrom jax import lax\n"
Q, K, V = rng.standard_normal((2, 3, 4, 5)), rng.standard_normal((2, 6, 2, 5)), rng.standard_normal((2, 6, 2, 5))
BIAS, M = rng.standard_normal((1, 4, 3, 6)), rng.standard_normal((2, 1, 3, 6))
NEG = "-0.7 * jnp.finfo(jnp.float32).max"


def written_out(keep: str = "True", bias: str = "0.0", scale: str = "1 / jnp.sqrt(5.0)", rows: str = "1.0") -> str:
    """JAX's attention for Q, K, V above (4 query heads, 2 key heads) in float64, as _dot_product_attention_core."""
    return (HEAD + "kk, vv = jnp.repeat(k, 2, axis=2), jnp.repeat(v, 2, axis=2)\n"
            f"s = jnp.einsum('btnh,bsnh->bnts', q, kk) * {scale} + {bias}\n"
            f"w = jax.nn.softmax(jnp.where({keep}, s, {NEG}), axis=-1)\n"
            f"jnp.einsum('bnts,bsnh->btnh', w, vv) * {rows}")


CAUSAL = "jnp.tril(jnp.ones((3, 6), dtype=bool))"
LENGTHS = ("(jnp.arange(3)[None, :, None] < jnp.array([2, 0])[:, None, None])"
           "[:, None] & (jnp.arange(6)[None, None, :] < jnp.array([4, 6])[:, None, None])[:, None]")
ATTENTION = [
    ("jax.nn.dot_product_attention(q, k, v)", {}, written_out()),
    ("jax.nn.dot_product_attention(q, k, v, b, scale=0.3)", {"b": BIAS}, written_out(bias="b", scale="0.3")),
    ("jax.nn.dot_product_attention(q, k, v, mask=m > 0, is_causal=True)", {"m": M},
     written_out(keep=f"(m > 0) & {CAUSAL}")),
    ("jax.nn.dot_product_attention(q, k, v, mask=m > 5)", {"m": M}, written_out(keep="m > 5")),  # rows all masked
    ("jax.nn.dot_product_attention(q, k, v, local_window_size=(2, 0))", {},
     written_out(keep="(jnp.arange(3)[:, None] <= jnp.arange(6)[None, :] + 2) & "
                      "(jnp.arange(3)[:, None] >= jnp.arange(6)[None, :])")),
    ("jax.nn.dot_product_attention(q, k, v, query_seq_lengths=jnp.array([2, 0], dtype=jnp.int32), "
     "key_value_seq_lengths=jnp.array([4, 6], dtype=jnp.int32))", {},
     written_out(keep=LENGTHS, rows="(jnp.arange(3)[None, :] < jnp.array([2, 0])[:, None])[:, :, None, None]")),
]


@pytest.mark.parametrize("code, extra, ref", ATTENTION, ids=[t[0][28:80] for t in ATTENTION])
def test_dot_product_attention_is_jaxs_computation_in_float64(jax_process, code, extra, ref):
    inputs = {"q": Q, "k": K, "v": V, **extra}
    assert_agrees_with_jax(jax_process, HEAD + code, inputs, ref=ref)


@pytest.mark.parametrize("code, extra, ref", ATTENTION, ids=[t[0][28:80] for t in ATTENTION])
def test_dot_product_attention_is_jaxs_own_up_to_its_float32_softmax(jax_process, code, extra, ref):
    inputs = {"q": Q, "k": K, "v": V, **extra}
    theirs = jax_process.submit(jax_reference, HEAD + code, inputs).result()
    np.testing.assert_allclose(api.evaluate(HEAD + code, inputs), theirs["value"], rtol=1e-6, atol=1e-6)
    ours = api.jacobian(HEAD + code, inputs, wrt=["q", "k", "v"])
    for name in ("q", "k", "v"):
        np.testing.assert_allclose(ours[name], theirs["jacobian"][name], rtol=1e-6, atol=1e-6, err_msg=name)


def test_dot_product_attention_without_the_batch_axis_and_its_residual(jax_process):
    inputs = {"q": Q[0], "k": K[0], "v": V[0]}
    for code in ("jax.nn.dot_product_attention(q, k, v, is_causal=True)",
                 "jax.nn.dot_product_attention(q, k, v, return_residual=True)[1]"):
        theirs = jax_process.submit(jax_reference, HEAD + code, inputs).result()
        np.testing.assert_allclose(api.evaluate(HEAD + code, inputs), theirs["value"], rtol=1e-6, atol=1e-6)
        ours = api.jacobian(HEAD + code, inputs)
        for name in inputs:
            np.testing.assert_allclose(ours[name], theirs["jacobian"][name], rtol=1e-6, atol=1e-6, err_msg=name)


TQ, TK, TV = rng.standard_normal((2, 4, 3, 5)), rng.standard_normal((2, 2, 6, 5)), rng.standard_normal((2, 1, 6, 7))
SDPA = "import torch\nimport torch.nn.functional as F\n"
GQA = [
    "F.scaled_dot_product_attention(q, k, v, enable_gqa=True)",
    "F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.4, enable_gqa=True)",
    "F.scaled_dot_product_attention(q, k, v, attn_mask=m > 0, enable_gqa=True)",
    "F.scaled_dot_product_attention(q, k, v, attn_mask=m, enable_gqa=True)",
    "F.scaled_dot_product_attention(q[0], k[0], v[0], enable_gqa=True)",
    "F.scaled_dot_product_attention(q[:1], k, v, enable_gqa=True)",
]


@pytest.mark.parametrize("code", GQA)
def test_scaled_dot_product_attention_with_grouped_heads_agrees_with_pytorch(torch64, code):
    assert_agrees_with_pytorch(torch64, SDPA + code, {"q": TQ, "k": TK, "v": TV, "m": rng.standard_normal((3, 6))})


X45, U35 = rng.standard_normal((4, 5)), rng.standard_normal((3, 5))
ROWS = "dn = lax.GatherDimensionNumbers(offset_dims=(1,), collapsed_slice_dims=(0,), start_index_map=(0,))\n"
INTO_ROWS = ("dn = lax.ScatterDimensionNumbers(update_window_dims=(1,), inserted_window_dims=(0,), "
             "scatter_dims_to_operand_dims=(0,))\n")
INTO = "dn = lax.ScatterDimensionNumbers(update_window_dims=(1,), inserted_window_dims=(), " \
       "scatter_dims_to_operand_dims=(0,))\n"
GATHERS = [
    (ROWS + "lax.gather(x, jnp.array([[2], [0], [2]]), dn, (1, 5))", {"x": X45}),
    (ROWS + "lax.gather(x, jnp.array([[2], [7], [-1]]), dn, (1, 5), mode='fill', fill_value=0.5)", {"x": X45}),
    (ROWS + "lax.gather(x, jnp.array([[2], [7], [-1]]), dn, (1, 5), mode=lax.GatherScatterMode.CLIP)", {"x": X45}),
    ("dn = lax.GatherDimensionNumbers(offset_dims=(0, 2), collapsed_slice_dims=(), start_index_map=(1, 0))\n"
     "lax.gather(x, jnp.array([[1, 0], [2, 2], [0, 1]]), dn, (2, 3))", {"x": X45}),
    ("dn = lax.GatherDimensionNumbers(offset_dims=(1,), collapsed_slice_dims=(1,), start_index_map=(1,), "
     "operand_batching_dims=(0,), start_indices_batching_dims=(0,))\n"
     "lax.gather(x, jnp.array([[2], [0], [3]]), dn, (1, 1, 4))", {"x": rng.standard_normal((3, 5, 4))}),
    ("lax.index_take(x, (jnp.array([0, 2, -1, 5]), jnp.array([1, 7, 3, 0])), (0, 2))",
     {"x": rng.standard_normal((3, 2, 4))}),
    (INTO_ROWS + "lax.scatter(x, jnp.array([[2], [0], [9]]), u, dn)", {"x": X45, "u": U35}),
    (INTO_ROWS + "lax.scatter(x, jnp.array([[2], [9], [-1]]), u, dn, mode='clip')", {"x": X45, "u": U35}),
    (INTO_ROWS + "lax.scatter_add(x, jnp.array([[2], [0], [2]]), u, dn)", {"x": X45, "u": U35}),
    (INTO_ROWS + "lax.scatter_sub(x, jnp.array([[2], [0], [2]]), u, dn, mode='drop')", {"x": X45, "u": U35}),
    (INTO_ROWS + "lax.scatter_mul(x, jnp.array([[2], [0], [3]]), u, dn, unique_indices=True)", {"x": X45, "u": U35}),
    (INTO_ROWS + "lax.scatter_max(x, jnp.array([[2], [0], [2]]), u, dn)", {"x": X45, "u": U35}),
    (INTO_ROWS + "lax.scatter_min(x, jnp.array([[2], [0], [2]]), u, dn)", {"x": np.round(X45), "u": np.round(U35)}),
    (INTO + "lax.scatter_max(x, jnp.array([[0], [0], [1]]), u, dn)",  # ties: the derivative shared equally
     {"x": np.array([1.0, 2.0, 0.5, 1.0]), "u": np.array([[1.0, 2.0], [1.0, 0.0], [2.0, 0.5]])}),
    (INTO + "lax.scatter_add(x, jnp.array([[3], [-1], [1]]), u, dn)", {"x": X45[0], "u": U35[:, :2]}),
]


@pytest.mark.parametrize("code, inputs", GATHERS, ids=[t[0].splitlines()[-1][:70] for t in GATHERS])
def test_gather_and_scatter_agree_with_jax(jax_process, code, inputs):
    assert_agrees_with_jax(jax_process, HEAD + code, inputs)


@pytest.mark.parametrize("code", ["x.at[jnp.array([0, 0, 1])].max(u)", "x.at[jnp.array([0, 0, 1])].min(u)",
                                  "x.at[jnp.array([[0, 2], [0, 2]])].max(u[:2])"])
def test_at_max_and_min_share_a_three_way_tie_equally_as_jax(jax_process, code):
    """x.at[idx].max(v) was computed by rounds of maximum, whose tie rule split a three-way tie 1/4, 1/4, 1/2
    where JAX shares it 1/3 each: a silent wrong derivative until session 28."""
    assert_agrees_with_jax(jax_process, HEAD + code, {"x": np.array([1.0, 2.0, 0.5]), "u": np.array([1.0, 1.0, 2.0])})


XC, WC = rng.standard_normal((2, 3, 4, 2)), rng.standard_normal((2, 3, 2, 3))
CONVS = [
    ("lax.conv_transpose(x, w, (2, 1), 'SAME')", {"x": XC, "w": WC}),
    ("lax.conv_transpose(x, w, (2, 3), 'VALID', rhs_dilation=(2, 1))", {"x": XC, "w": WC}),
    ("lax.conv_transpose(x, w, (1, 2), ((2, 0), (1, 3)))", {"x": XC, "w": WC}),
    ("lax.conv_transpose(x, w, (2, 2), ((1, 0), (0, 1)), use_consistent_padding=True)", {"x": XC, "w": WC}),
    ("lax.conv_transpose(x, w, (2, 1), 'SAME', transpose_kernel=True)", {"x": XC, "w": WC[:, :, :, :2]}),
    ("lax.conv_transpose(x, w, (3,), 'SAME', dimension_numbers=('NCH', 'OIH', 'NCH'))",
     {"x": rng.standard_normal((2, 3, 4)), "w": rng.standard_normal((2, 3, 2))}),
    ("lax.conv_transpose(x, w, (1, 2, 1), 'VALID')",
     {"x": rng.standard_normal((1, 2, 3, 2, 2)), "w": rng.standard_normal((2, 1, 2, 2, 1))}),
    ("lax.conv_general_dilated_patches(x, (2, 3), (1, 2), 'SAME')", {"x": rng.standard_normal((2, 3, 5, 4))}),
    ("lax.conv_general_dilated_patches(x, (2, 2), (1, 1), ((1, 0), (0, 1)), rhs_dilation=(1, 2), "
     "dimension_numbers=('NHWC', 'OIWH', 'NCHW'))", {"x": rng.standard_normal((2, 5, 4, 3))}),
    ("jnp.asarray(lax.conv_general_shape_tuple((2, 5, 4, 3), (2, 2, 3, 6), (2, 1), ((1, 0), (0, 2)), "
     "('NHWC', 'HWIO', 'NHWC')), dtype=float) * s", {"s": np.array(1.5)}),
    ("jnp.asarray(lax.conv_shape_tuple((2, 3, 5, 4), (6, 3, 2, 2), (2, 1), 'SAME_LOWER'), dtype=float) * s",
     {"s": np.array(1.5)}),
    ("jnp.asarray(lax.reduce_window_shape_tuple((5, 4), (2, 2), (1, 2), ((1, 0), (0, 1)), (2, 1), (1, 2)), "
     "dtype=float) * s", {"s": np.array(1.5)}),
    ("jnp.asarray(lax.conv_general_permutations(('NHWC', 'HWIO', 'NHWC')), dtype=float) * s", {"s": np.array(1.5)}),
]


@pytest.mark.parametrize("code, inputs", CONVS, ids=[t[0][:70] for t in CONVS])
def test_conv_transpose_patches_and_shape_helpers_agree_with_jax(jax_process, code, inputs):
    assert_agrees_with_jax(jax_process, HEAD + code, inputs)


@pytest.mark.parametrize("name", ["expi", "exp1", "dawsn"])
def test_expi_exp1_dawsn_agree_with_jax(jax_process, name):
    assert_agrees_with_jax(jax_process, HEAD + f"jax.scipy.special.{name}(x)",
                           {"x": np.array([0.3, 1.2, 2.5, 7.0, 30.0, 1e-6])})
