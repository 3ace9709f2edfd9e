"""jax.lax's slices, updates, pad, sorts, products and shape ops, and jax.nn's identity / log1mexp / logmeanexp
(lang/laxnames.py): values as JAX defines them (written out here), derivatives against central differences,
edge values (starts past either end, negative and interior padding, ties, NaN, halves), and the refusals."""

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from test_jax16 import assert_derivatives_are_central_differences

rng = np.random.default_rng(26)
X5 = rng.standard_normal(5)
A34 = rng.standard_normal((3, 4))


def value(code, **inputs):
    return np.asarray(api.evaluate(code, inputs))


# --- slices at constant offsets ----------------------------------------------------------------------------


@pytest.mark.parametrize("start, want", [(1, [1, 2]), (-1, [3, 4]), (-2, [3, 4]), (4, [3, 4]), (7, [3, 4]),
                                         (-9, [0, 1]), (0, [0, 1])])
def test_dynamic_slice_counts_a_negative_start_from_the_end_once_then_clamps_it(start, want):
    x = np.arange(5.0)
    np.testing.assert_array_equal(value(f"jax.lax.dynamic_slice(x, ({start},), (2,))", x=x), want)
    np.testing.assert_array_equal(value(f"jax.lax.dynamic_slice_in_dim(x, {start}, 2)", x=x), want)


def test_dynamic_slice_without_negative_indices_refuses_a_negative_start_as_jax():
    np.testing.assert_array_equal(value("jax.lax.dynamic_slice(x, (9,), (2,), allow_negative_indices=False)",
                                        x=np.arange(5.0)), [3, 4])
    with pytest.raises(JacError, match="allow_negative_indices=False"):
        value("jax.lax.dynamic_slice(x, (-1,), (2,), allow_negative_indices=False)", x=np.arange(5.0))


def test_dynamic_update_slice_writes_the_clamped_block_and_its_derivatives_are_the_blocks():
    x, u = np.arange(5.0), np.array([10.0, 20.0])
    np.testing.assert_array_equal(value("jax.lax.dynamic_update_slice(x, u, (9,))", x=x, u=u), [0, 1, 2, 10, 20])
    np.testing.assert_array_equal(value("jax.lax.dynamic_update_slice(x, u, (-1,))", x=x, u=u), [0, 1, 2, 10, 20])
    J = api.jacobian("jax.lax.dynamic_update_slice(x, u, (1,))", {"x": x, "u": u})
    np.testing.assert_array_equal(np.diag(J["x"]), [1, 0, 0, 1, 1])
    np.testing.assert_array_equal(J["u"], [[0, 0], [1, 0], [0, 1], [0, 0], [0, 0]])


@pytest.mark.parametrize("code", [
    "jax.lax.slice(x, (1, 0), (3, 4), (1, 2))",
    "jax.lax.slice_in_dim(x, -2, None, 1, 1)",
    "jax.lax.index_in_dim(x, -1, 0, False)",
    "jax.lax.dynamic_index_in_dim(x, 5, 1)",
    "jax.lax.dynamic_update_slice(x, x[:2, :2] * 3.0, (2, -1))",
    "jax.lax.dynamic_update_index_in_dim(x, x[0] ** 2, 1, 0)",
    "jax.lax.dynamic_update_slice_in_dim(x, x[:, :1] * 2.0, 7, 1)",
    "jax.lax.pad(x, 0.5, [(1, -2, 1), (-1, 2, 0)])",
    "jax.lax.rev(x, (0, 1))",
    "jax.lax.expand_dims(x, (0, -1))",
    "jax.lax.squeeze(x[None], (0,))",
    "jax.lax.broadcast(x, (2,))",
    "jax.lax.broadcast_in_dim(x[0], (3, 4, 2), (1,))",
    "jax.lax.collapse(x, 0)",
    "jax.lax.tile(x, (1, 2))",
    "jax.lax.reduce_prod(x, (1,))",
    "jax.lax.dot_general(x, x, (((1,), (1,)), ((), ())))",
    "jax.lax.dot_general(x[None], x[None] ** 2, (((2,), (2,)), ((0,), (0,))))",
    "jax.lax.sort(x, 0)",
    "jax.lax.sort((x[0], x[1] * 2.0), num_keys=1)[1]",
    "jax.lax.sort_key_val(x[0], x[2])[1]",
    "jax.lax.top_k(x, 2)[0]",
    "jax.lax.cumlogsumexp(x, 1, reverse=True)",
    "jax.lax.select_n(jnp.array([0, 2, 1, 1]), x[0], x[1], x[2])",
    "jax.lax.div(x, x[0] + 3.0)",
    "jax.lax.unstack(x, 1)[2]",
    "jax.lax.split(x, (1, 3), 1)[1]",
    "jax.nn.log1mexp(jnp.abs(x) + 0.1)",
    "jax.nn.logmeanexp(x, axis=1, keepdims=True)",
    "jax.nn.identity(x) * x",
])
def test_derivatives_are_central_differences(code):
    assert_derivatives_are_central_differences(code, {"x": A34})


def test_pad_cuts_the_interior_padded_array_and_pads_with_the_value():
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(value("jax.lax.pad(x, 0.0, [(-1, 2, 1)])", x=x), [0, 2, 0, 3, 0, 0])
    np.testing.assert_array_equal(value("jax.lax.pad(x, -jnp.inf, ((2, -3, 2),))", x=x),
                                  [-np.inf, -np.inf, 1, -np.inf, -np.inf, 2])
    J = api.jacobian("jax.lax.pad(x, 9.0, [(1, 1, 1)])", {"x": x})["x"]
    np.testing.assert_array_equal(J.argmax(axis=1)[J.any(axis=1)], [0, 1, 2])


def test_slices_refuse_what_jax_refuses():
    with pytest.raises(JacError, match="0 <= start <= limit <= size"):
        value("jax.lax.slice(x, (1,), (7,))", x=X5)
    with pytest.raises(JacError, match="size 1"):
        value("jax.lax.squeeze(x, (0,))", x=X5)
    with pytest.raises(JacError, match="cuts more than"):
        value("jax.lax.pad(x, 0.0, [(-4, -2, 0)])", x=X5)
    with pytest.raises(JacError, match="a constant"):
        value("jax.lax.dynamic_slice(x, (i,), (2,))", x=X5, i=np.array(1.0))
    with pytest.raises(JacError, match="a constant"):
        value("jax.lax.pad(x, p, [(1, 1, 0)])", x=X5, p=np.array(0.5))


# --- element-wise ---------------------------------------------------------------------------------------------


def test_lax_round_rounds_halves_away_from_zero_or_to_even_and_exactly_below_a_half():
    h = np.array([-2.5, -0.5, 0.5, 1.5, 2.5, 0.49999999999999994, -0.49999999999999994, np.inf, np.nan])
    np.testing.assert_array_equal(value("jax.lax.round(h)", h=h), [-3, -1, 1, 2, 3, 0, 0, np.inf, np.nan])
    np.testing.assert_array_equal(value("jax.lax.round(h, 1)", h=h), [-2, -0, 0, 2, 2, 0, 0, np.inf, np.nan])
    with pytest.raises(JacError, match="rounding_method"):
        value("jax.lax.round(h, 2)", h=h)


def test_lax_div_of_integers_rounds_toward_zero_and_of_floats_divides():
    np.testing.assert_array_equal(value("jax.lax.div(jnp.array([-7, 7, -6]), jnp.array([2, 2, 4])) * x",
                                        x=np.ones(3)), [-3, 3, -1])
    np.testing.assert_allclose(value("jax.lax.div(x, 2.0)", x=np.array([-7.0, 7.0])), [-3.5, 3.5])


def test_select_n_by_halves_and_its_refusals():
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(value("jax.lax.select_n(jnp.array([2, 0, 1]), x, 10 * x, 100 * x)", x=x),
                                  [100, 2, 30])
    np.testing.assert_array_equal(value("jax.lax.select_n(x > 1.5, x, -x)", x=x), [1, -2, -3])
    with pytest.raises(JacError, match="from 0 to 2"):
        value("jax.lax.select_n(jnp.array([3, 0, 1]), x, x, x)", x=x)
    with pytest.raises(JacError, match="astype"):
        value("jax.lax.select_n(x, x, x)", x=x)


# --- sorting --------------------------------------------------------------------------------------------------


def test_top_k_takes_equal_elements_in_order_and_nan_first():
    x = np.array([1.0, np.nan, 3.0, 3.0, -np.inf])
    np.testing.assert_array_equal(value("jax.lax.top_k(x, 3)[0]", x=x), [np.nan, 3, 3])
    np.testing.assert_array_equal(value("jax.lax.top_k(x, 3)[1] * 1.0", x=x), [1, 2, 3])
    J = api.jacobian("jax.lax.top_k(x, 2)[0]", {"x": np.array([2.0, 5.0, 5.0])})["x"]
    np.testing.assert_array_equal(J, [[0, 1, 0], [0, 0, 1]])


def test_sort_by_several_keys_along_any_axis():
    k1 = np.array([[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]])
    k2 = np.array([[3.0, 2.0], [5.0, 1.0], [0.0, 4.0]])
    out = value("jax.lax.sort((a, b, c), 0, num_keys=2)[2]", a=k1, b=k2, c=np.arange(6.0).reshape(3, 2))
    np.testing.assert_array_equal(out, [[2, 3], [4, 1], [0, 5]])
    with pytest.raises(JacError, match="num_keys"):
        value("jax.lax.sort((a, b), num_keys=3)[0]", a=X5, b=X5)
    with pytest.raises(JacError, match="is_stable=True"):
        value("jax.lax.sort_key_val(a, b, is_stable=False)[1]", a=X5, b=X5)


def test_argmax_takes_the_first_of_equal_elements_and_an_integer_index_dtype():
    x = np.array([1.0, 3.0, 3.0])
    assert value("jax.lax.argmax(x, 0, jnp.int32) * 1.0", x=x) == 1
    assert value("jax.lax.argmin(x, 0, jnp.int32) * 1.0", x=x) == 0
    with pytest.raises(JacError, match="index_dtype"):
        value("jax.lax.argmax(x, 0, jnp.float32)", x=x)


# --- jax.nn ---------------------------------------------------------------------------------------------------


def test_log1mexp_is_log_of_one_minus_exp_of_minus_x_with_no_nan_from_the_branch_not_taken():
    x = np.array([1e-10, 0.5, np.log(2.0), 3.0, 40.0])
    want = np.where(x < np.log(2.0), np.log(-np.expm1(-x)), np.log1p(-np.exp(-x)))  # log1p: -4.2e-18 at 40, not 0
    np.testing.assert_allclose(value("jax.nn.log1mexp(x)", x=x), want, rtol=1e-14)
    J = api.jacobian("jax.nn.log1mexp(x)", {"x": np.array([0.0, 1.0])})["x"]
    assert J[0, 0] == np.inf and J[0, 1] == 0 and J[1, 0] == 0


def test_logmeanexp_is_logsumexp_less_log_n():
    np.testing.assert_allclose(value("jax.nn.logmeanexp(x, axis=0)", x=A34),
                               np.log(np.mean(np.exp(A34), axis=0)), rtol=1e-14)
    with pytest.raises(JacError, match="where"):
        value("jax.nn.logmeanexp(x, where=x > 0)", x=A34)


# --- jax.scipy.special's gamma family ---------------------------------------------------------------------------

EDGES = np.array([-2.5, -2.0, -1.5, -0.0, 0.0, 0.5, 3.0, 172.0, np.inf, -np.inf, np.nan])


def test_gamma_and_its_sign_at_the_poles_and_the_ends_are_jaxs():
    np.testing.assert_array_equal(value("jax.scipy.special.gammasgn(x)", x=EDGES),
                                  [-1, np.nan, 1, -1, 1, 1, 1, 1, 1, np.nan, np.nan])
    g = value("jax.scipy.special.gamma(x)", x=EDGES)
    np.testing.assert_array_equal(g[[1, 3, 4, 7, 8, 9, 10]], [np.nan, -np.inf, np.inf, np.inf, np.inf, np.nan, np.nan])
    np.testing.assert_allclose(g[[0, 2, 5, 6]], [-0.9453087205, 2.3632718012, np.sqrt(np.pi), 2.0], rtol=1e-9)
    np.testing.assert_array_equal(value("jax.scipy.special.loggamma(x)", x=EDGES)[:5], [np.nan] * 5)
    np.testing.assert_array_equal(value("jax.scipy.special.factorial(x)", x=EDGES)[[0, 1, 3, 4, 9]], [0, 0, 1, 1, 0])


def test_the_gamma_family_s_derivatives_are_central_differences():
    x = np.array([-2.5, -0.3, 0.4, 2.5, 9.0])
    for f in ("gamma", "loggamma", "factorial"):
        assert_derivatives_are_central_differences(f"jax.scipy.special.{f}(x)", {"x": np.abs(x) if f == "loggamma"
                                                                                  else x})
    a, b = np.array([0.5, 2.0, 9.0, 3.0, 40.0]), np.array([1.5, 8.5, 9.5, 20.0, 2.0])  # not across b = 8
    assert_derivatives_are_central_differences("jax.scipy.special.beta(a, b)", {"a": a, "b": b})
    assert_derivatives_are_central_differences("jax.scipy.special.betaln(a, b)", {"a": a, "b": b * 50})


def test_factorial_exact_is_refused_as_jax_refuses_it():
    with pytest.raises(JacError, match="exact=True"):
        value("jax.scipy.special.factorial(x, exact=True)", x=X5)


# --- torch.range -------------------------------------------------------------------------------------------------


def test_torch_range_includes_the_end_and_refuses_what_pytorch_refuses():
    np.testing.assert_allclose(value("torch.range(1, 2, 0.25) * x", x=np.array(1.0)), [1, 1.25, 1.5, 1.75, 2])
    for call, words in [("torch.range(0, 3, -1)", "inconsistent with step sign"), ("torch.range(0, 3, 0)", "nonzero"),
                        ("torch.range(3)", "missing its argument 'end'"), ("torch.range(0, 3, dtype=torch.int64)",
                                                                           "torch.arange")]:
        with pytest.raises(JacError, match=words):
            value(call + " * x", x=np.array(1.0))


# --- refused by category, on the command line ----------------------------------------------------------------


@pytest.mark.parametrize("code, words", [
    ("jax.lax.psum(x, 'i')", ["no devices or named axes", "jnp.sum(x)"]),
    ("lax.all_gather(x, 'i')", ["no devices or named axes"]),
    ("jax.lax.with_sharding_constraint(x, s)", ["no sharding"]),
    ("jax.lax.rng_uniform(0.0, 1.0, (3,))", ["--seed"]),
    ("jax.lax.cummax(x * 0)", ["equal elements", "jax.lax.cummax"]),  # read since session 29: ties refused
    ("jax.lax.create_token()", ["no tokens"]),
])
def test_what_makes_no_sense_without_devices_is_refused_saying_why(code, words):
    result = CliRunner().invoke(app, ["eval", code, "x=[1.0, 2.0]"])
    assert result.exit_code == 2
    for word in words:
        assert word in result.output, result.output
    assert "Traceback" not in result.output
