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


# --- jax.lax.gather and the scatters by dimension numbers (lang/gathers.py) ---------------------------------------

X45 = rng.standard_normal((4, 5))
ROWS = "dn = lax.GatherDimensionNumbers(offset_dims=(1,), collapsed_slice_dims=(0,), start_index_map=(0,))\n"
INTO_ROWS = ("dn = lax.ScatterDimensionNumbers(update_window_dims=(1,), inserted_window_dims=(0,), "
             "scatter_dims_to_operand_dims=(0,))\n")


def test_gather_of_rows_is_indexing_and_fill_gives_nan_for_a_window_out_of_bounds():
    got = api.evaluate(HEAD + ROWS + "lax.gather(x, jnp.array([[2], [0], [3]]), dn, (1, 5))", {"x": X45})
    np.testing.assert_array_equal(got, X45[[2, 0, 3]])
    got = api.evaluate(HEAD + ROWS + "lax.gather(x, jnp.array([[2], [4]]), dn, (1, 5), mode='fill')", {"x": X45})
    np.testing.assert_array_equal(got[0], X45[2])
    assert np.isnan(got[1]).all()
    got = api.evaluate(HEAD + ROWS + "lax.gather(x, jnp.array([[2], [-1]]), dn, (1, 5), "
                                     "mode=lax.GatherScatterMode.CLIP)", {"x": X45})
    np.testing.assert_array_equal(got, X45[[2, 0]])


def test_a_window_gather_by_a_permuted_index_map():
    code = ("dn = lax.GatherDimensionNumbers(offset_dims=(0, 2), collapsed_slice_dims=(), start_index_map=(1, 0))\n"
            "lax.gather(x, jnp.array([[1, 0], [2, 2]]), dn, (2, 3))")
    got = api.evaluate(HEAD + code, {"x": X45})
    assert got.shape == (2, 2, 3)
    np.testing.assert_array_equal(got[:, 0], X45[0:2, 1:4])
    np.testing.assert_array_equal(got[:, 1], X45[2:4, 2:5])


def test_scatters_add_repeats_and_drop_windows_out_of_bounds():
    u = rng.standard_normal((3, 5))
    got = api.evaluate(HEAD + INTO_ROWS + "lax.scatter_add(x, jnp.array([[2], [9], [2]]), u, dn)", {"x": X45, "u": u})
    want = X45.copy()
    want[2] += u[0] + u[2]
    np.testing.assert_allclose(got, want, rtol=1e-15)
    got = api.evaluate(HEAD + INTO_ROWS + "lax.scatter(x, jnp.array([[1], [9], [-1]]), u, dn, mode='clip')",
                       {"x": X45, "u": u})
    want = X45.copy()
    want[1], want[3], want[0] = u[0], u[1], u[2]
    np.testing.assert_array_equal(got, want)


def test_scatter_max_shares_a_tie_s_derivative_equally_as_jax():
    x, u = np.array([1.0, 2.0]), np.array([[1.0], [1.0]])
    code = ("dn = lax.ScatterDimensionNumbers(update_window_dims=(1,), inserted_window_dims=(), "
            "scatter_dims_to_operand_dims=(0,))\nlax.scatter_max(x, jnp.array([[0], [0]]), u, dn)")
    J = api.jacobian(HEAD + code, {"x": x, "u": u})
    np.testing.assert_allclose(J["x"], [[1 / 3, 0], [0, 1]])
    np.testing.assert_allclose(J["u"][0], [[1 / 3], [1 / 3]])


@pytest.mark.parametrize("code", [
    ROWS + "lax.gather(x, jnp.array([[2], [0], [2]]), dn, (1, 5)) * lax.gather(x, jnp.array([[1], [9]]), dn, (1, 5), "
           "mode='fill', fill_value=0.5).sum()",
    "dn = lax.GatherDimensionNumbers(offset_dims=(), collapsed_slice_dims=(1,), start_index_map=(1,), "
    "operand_batching_dims=(0,), start_indices_batching_dims=(0,))\nlax.gather(x, jnp.array([[2], [0], [3], [1]]), dn, "
    "(1, 1))",
    "lax.index_take(x, (jnp.array([0, 2, -1]), jnp.array([1, 7, 3])), (0, 1))",
    INTO_ROWS + "lax.scatter_mul(x, jnp.array([[2], [0], [2]]), u, dn) + lax.scatter_sub(x, jnp.array([[1], [3], [3]]),"
                " u, dn, mode='clip')",
    INTO_ROWS + "lax.scatter_min(x, jnp.array([[2], [0], [2]]), u, dn) + lax.scatter_max(x, jnp.array([[1], [3], [5]]),"
                " u, dn)",
])
def test_gather_and_scatter_derivatives_are_central_differences(code):
    assert_derivatives_are_central_differences(HEAD + code, {"x": X45, "u": rng.standard_normal((3, 5))})


@pytest.mark.parametrize("code, words", [
    (ROWS + "lax.gather(x, jnp.array([[4]]), dn, (1, 5))", "no derivative"),
    (ROWS + "lax.gather(x, jnp.array([[4]]), dn, (1, 5), mode='promise_in_bounds')", "promises JAX"),
    (ROWS + "lax.gather(x, jnp.array([[1]]), dn, (2, 5))", "slice_sizes must be 1"),
    (ROWS + "lax.gather(x, jnp.array([[1]]), dn, (1, 5), mode='one_hot')", "mode must be"),
    (ROWS + "lax.gather(x, jnp.array([[1]]), dn, (1, 5), mode=lax.GatherScatterMode.ONE_HOT)", "ONE_HOT"),
    (ROWS + "lax.gather(x, jnp.array([[1, 2]]), dn, (1, 5))", "index vector"),
    ("lax.gather(x, jnp.array([[1]]), (1,), (1, 5))", "GatherDimensionNumbers"),
    (INTO_ROWS + "lax.scatter(x, jnp.array([[1], [1]]), x[:2], dn)", "more than once"),
    (INTO_ROWS + "lax.scatter_add(x, jnp.array([[1], [1]]), x[:3], dn)", "do not fit"),
    (INTO_ROWS + "lax.scatter_add(x, jnp.array([[1], [1]]), x[:2], dn, unique_indices=True)", "unique_indices"),
    ("lax.scatter_apply(x, jnp.array([[1]]), jnp.sin, dn)", "x.at[idx]"),
])
def test_gather_and_scatter_refusals_say_why(code, words):
    assert words in refusal(code, x=X45)


# --- jax.lax.conv_transpose, conv_general_dilated_patches and the shape helpers (lang/convhelpers.py) --------------

XC, WC = rng.standard_normal((1, 3, 4, 2)), rng.standard_normal((2, 3, 2, 3))  # NHWC, HWIO


def test_conv_transpose_with_stride_1_is_the_correlation_with_full_padding():
    """conv_transpose(x, w, (1, 1), 'VALID') pads by k - 1 on each side: a 'full' correlation."""
    got = api.evaluate(HEAD + "lax.conv_transpose(x, w, (1, 1), 'VALID')", {"x": XC, "w": WC})
    assert got.shape == (1, 4, 6, 3)
    padded = np.pad(XC[0], ((1, 1), (2, 2), (0, 0)))
    want = np.zeros((4, 6, 3))
    for i in range(4):
        for j in range(6):
            want[i, j] = np.einsum("hwi,hwio->o", padded[i:i + 2, j:j + 3], WC)
    np.testing.assert_allclose(got[0], want, rtol=1e-12)


def test_the_shape_helpers_are_jaxs_numbers():
    assert api.evaluate(HEAD + "lax.padtype_to_pads((5, 5), (3, 2), (2, 1), 'same')", {}).tolist() == [[1, 1], [0, 1]]
    assert api.evaluate(HEAD + "lax.conv_transpose_shape_tuple((2, 5, 4, 3), (2, 2, 3, 6), (2, 1), 'SAME', "
                               "('NHWC', 'HWIO', 'NHWC'))", {}).tolist() == [2, 10, 4, 6]
    assert api.evaluate(HEAD + "lax.broadcast_shapes((2, 1), (3,))", {}).tolist() == [2, 3]


@pytest.mark.parametrize("code", [
    "lax.conv_transpose(x, w, (2, 1), 'SAME')",
    "lax.conv_transpose(x, w, (2, 2), ((1, 0), (0, 1)), rhs_dilation=(1, 2), use_consistent_padding=True)",
    "lax.conv_transpose(x, w[:, :, :, :2], (1, 2), 'VALID', transpose_kernel=True)",
    "lax.conv_general_dilated_patches(x, (2, 2), (1, 1), 'SAME', dimension_numbers=('NHWC', 'HWIO', 'NHWC'))",
])
def test_conv_transpose_and_patches_derivatives_are_central_differences(code):
    assert_derivatives_are_central_differences(HEAD + code, {"x": XC, "w": WC})


@pytest.mark.parametrize("code, words", [
    ("lax.conv_transpose(x, w, (2,), 'SAME')", "one positive integer per spatial axis"),
    ("lax.conv_transpose(x, w, (1, 1), 'SAME', preferred_element_type=jnp.float32)", "preferred_element_type"),
    ("lax.conv_transpose(x, w, (1, 1), ((1, 1),), use_consistent_padding=True)", "one (low, high) pair"),
    ("lax.conv_transpose(x[0, 0], w[0, 0], (), 'SAME')", "lhs of rank 3, 4 or 5"),
    ("lax.conv_general_permutations('NHWC')", "three strings"),
])
def test_conv_transpose_refusals_say_why(code, words):
    assert words in refusal(code, x=XC, w=WC)


# --- jax.scipy.special / scipy.special expi, exp1, dawsn (lang/specials28.py, their ops in ir/ops.py) -------------

@pytest.mark.parametrize("name", ["expi", "exp1", "dawsn"])
def test_expi_exp1_dawsn_are_scipys_with_derivatives_as_central_differences(name):
    special = pytest.importorskip("scipy.special")
    x = np.array([0.3, 1.2, 2.5, 7.0])
    np.testing.assert_allclose(api.evaluate(f"import jax\njax.scipy.special.{name}(x)", {"x": x}),
                               getattr(special, name)(x), rtol=1e-15)
    assert_derivatives_are_central_differences(f"import scipy.special\nscipy.special.{name}(x)", {"x": x})


def test_jax_expi_is_nan_at_0_where_scipys_is_minus_infinity_and_exp1_nan_below_0():
    x = np.array([0.0, -1.0])
    assert np.isnan(api.evaluate("import jax\njax.scipy.special.expi(x)", {"x": x})[0])
    assert api.evaluate("import scipy.special\nscipy.special.expi(x)", {"x": x})[0] == -np.inf
    J = api.jacobian("import jax\njax.scipy.special.exp1(x)", {"x": x})["x"]
    assert J[0, 0] == -np.inf and np.isnan(J[1, 1])  # JAX's: -e⁻ˣ/x at 0, NaN where the value is NaN
