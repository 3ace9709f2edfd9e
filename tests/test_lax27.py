"""What session 27 read of jax.lax (lang/whiles.py, lang/scans.py, lang/laxnames.py's session-27 block): values as
JAX defines them (written out here), derivatives against central differences, repeated calls (the kernels) equal
to the first, and the refusals, each saying why and what to write."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from test_jax16 import assert_derivatives_are_central_differences

rng = np.random.default_rng(27)
X5 = rng.standard_normal(5)
A34 = rng.standard_normal((3, 4))
HEAD = "import jax, jax.numpy as jnp\nfrom jax import lax\n"
runner = CliRunner()


def value(code, **inputs):
    return np.asarray(api.evaluate(HEAD + code, inputs))


def refusal(code, **inputs) -> str:
    with pytest.raises(JacError) as err:
        api.jacobian(HEAD + code, inputs)
    return str(err.value)


def assert_kernels_agree(code, inputs):
    """The second and third calls (a plan, then its kernel) and a --batch run equal the first, bit for bit."""
    first = api.jacobian(HEAD + code, inputs)
    for _ in range(2):
        again = api.jacobian(HEAD + code, inputs)
        for k in first:
            np.testing.assert_array_equal(again[k], first[k])
    name = next(iter(inputs))
    xs = np.stack([inputs[name], inputs[name] * 0.5 + 0.25])
    others = [f"{k}={json.dumps(np.asarray(v).tolist())}" for k, v in inputs.items() if k != name]
    result = runner.invoke(app, ["eval", HEAD + code, f"{name}={json.dumps(xs.tolist())}", *others, "--batch", name,
                                 "--json"])
    assert result.exit_code == 0, result.stdout
    report = json.loads(result.stdout)
    for i, x in enumerate(xs):
        one = {**inputs, name: x}
        np.testing.assert_array_equal(report["output"]["value"][i], api.evaluate(HEAD + code, one))
        np.testing.assert_array_equal(report["jacobian"][name]["value"][i], api.jacobian(HEAD + code, one)[name])


# --- while_loop -----------------------------------------------------------------------------------------------

WHILE = "lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, jnp.sin(c[1]) * 2.0), (0, x))[1]"


def test_a_while_loop_with_a_counter_runs_its_steps_and_is_differentiated_through_them():
    np.testing.assert_allclose(value(WHILE, x=X5), np.sin(np.sin(np.sin(X5) * 2) * 2) * 2, rtol=1e-14)
    assert_derivatives_are_central_differences(HEAD + WHILE, {"x": X5})
    assert_kernels_agree(WHILE, {"x": X5})


def test_a_while_loop_whose_condition_is_false_at_once_is_its_initial_value():
    np.testing.assert_array_equal(value("lax.while_loop(lambda c: c[0] > 9, lambda c: (c[0] + 1, c[1] * 2.0), "
                                        "(jnp.int32(0), x))[1]", x=X5), X5)


def test_a_while_loop_of_the_inputs_values_runs_the_steps_they_take():  # refused before session 33
    text = "lax.while_loop(lambda v: jnp.sum(v) < 10.0, lambda v: v * 2.0, x)"
    expected, steps = X5.copy(), 0
    while expected.sum() < 10.0:
        expected, steps = expected * 2.0, steps + 1
    assert steps >= 2
    np.testing.assert_array_equal(value(text, x=X5), expected)
    np.testing.assert_array_equal(api.jacobian(HEAD + text, {"x": X5})["x"], np.eye(5) * 2.0 ** steps)
    result = runner.invoke(app, ["shape", HEAD + text, "x:5", "--json"])  # no values to take
    message = json.loads(result.output.splitlines()[0])["error"]["message"]
    assert result.exit_code == 2 and "condition of the inputs' values" in message and "counter in the carry" in message
    assert "fori_loop" in message and "holds for those values only" in message


@pytest.mark.parametrize("cond, words", [("lambda c: 1", "boolean scalar"), ("lambda c: c[1] < 3", "boolean scalar"),
                                         ("lambda c: jnp.zeros(2) < 1", "boolean scalar")])
def test_a_while_loops_condition_must_be_a_boolean_scalar_known_without_the_values(cond, words):
    assert words in refusal(f"lax.while_loop({cond}, lambda c: (c[0] + 1, c[1]), (0, x))[1]", x=X5)


def test_an_endless_while_loop_stops_at_the_limit_with_a_message():
    assert "endless loop" in refusal("lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] - 1, c[1]), (0, x))[1]",
                                     x=X5)


@pytest.mark.parametrize("transform", ["jax.grad(lambda t: jnp.sum({}))", "jax.jacrev(lambda t: {})",
                                       "jax.hessian(lambda t: jnp.sum({}))",
                                       "jax.value_and_grad(lambda t: jnp.sum({}))"])
def test_a_reverse_transform_of_a_while_loop_is_refused_as_jax_refuses_it(transform):
    loop = WHILE.replace("x))", "t))")
    message = refusal(transform.format(loop) + "(x)", x=X5)
    assert "Reverse-mode differentiation does not work for lax.while_loop" in message and "jacfwd" in message
    vjp = refusal(f"y, f = jax.vjp(lambda t: {loop}, x)\nf(x)[0]", x=X5)
    assert "jax.vjp(...) of a function with a jax.lax.while_loop" in vjp


def test_forward_transforms_of_a_while_loop_are_read_as_jax_reads_them():
    loop = WHILE.replace("x))", "t))")
    np.testing.assert_allclose(value(f"jax.jacfwd(lambda t: {loop})(x)", x=X5),
                               api.jacobian(HEAD + WHILE, {"x": X5})["x"], rtol=1e-14)
    np.testing.assert_allclose(value(f"jax.jvp(lambda t: {loop}, (x,), (jnp.ones(5),))[1]", x=X5),
                               api.jacobian(HEAD + WHILE, {"x": X5})["x"].sum(axis=1), rtol=1e-14)


# --- associative_scan -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fn, reference", [("jnp.add", np.cumsum), ("lambda a, b: b * a", np.cumprod),
                                           ("lax.max", np.maximum.accumulate), ("jnp.minimum", np.minimum.accumulate),
                                           ("jnp.logaddexp", np.logaddexp.accumulate)])
def test_associative_scan_is_the_running_fold_for_the_five_functions(fn, reference):
    np.testing.assert_allclose(value(f"lax.associative_scan({fn}, x)", x=X5), reference(X5), rtol=1e-14)
    np.testing.assert_allclose(value(f"lax.associative_scan({fn}, x, reverse=True, axis=1)", x=A34),
                               reference(A34[:, ::-1], axis=1)[:, ::-1], rtol=1e-14)
    assert_derivatives_are_central_differences(HEAD + f"lax.associative_scan({fn}, x, axis=-1)", {"x": A34})


def test_associative_scan_kernels_agree_with_the_first_call():
    assert_kernels_agree("lax.associative_scan(jnp.multiply, x)", {"x": np.array([0.5, 0.0, -2.0, 0.0, 3.0])})
    assert_kernels_agree("lax.associative_scan(jnp.maximum, x, reverse=True)", {"x": X5})


@pytest.mark.parametrize("fn", ["lambda a, b: a - b", "jnp.subtract", "lambda a, b: a + 2 * b", "jnp.sin",
                                "lambda a, b: jnp.add(a, a)"])
def test_associative_scan_of_another_function_is_refused(fn):
    assert "JAX combines the elements in a tree" in refusal(f"lax.associative_scan({fn}, x)", x=X5)


@pytest.mark.parametrize("fn, x", [("jnp.maximum", [1.0, 2.0, 2.0, 0.0]), ("lax.min", [3.0, np.nan, 1.0]),
                                   ("jnp.multiply", [1.0, np.inf, 0.0]), ("jnp.logaddexp", [-np.inf, 0.0, 1.0])])
def test_associative_scan_where_jaxs_tree_splits_or_spreads_otherwise_is_refused_at_evaluation(fn, x):
    message = refusal(f"lax.associative_scan({fn}, x)", x=np.array(x))
    assert "jax.lax.associative_scan" in message and ("equal elements" in message or "infinite" in message)
    np.testing.assert_allclose(value(f"lax.associative_scan({fn}, x)", x=np.array([1.0, 2.0, 3.0])),
                               {"jnp.maximum": [1, 2, 3], "lax.min": [1, 1, 1], "jnp.multiply": [1, 2, 6],
                                "jnp.logaddexp": np.logaddexp.accumulate([1.0, 2.0, 3.0])}[fn], rtol=1e-14)


# --- jax.scipy.special: boxcox, boxcox1p, comb, poch, bernoulli ---------------------------------------------------

SPECIAL = [
    ("jax.scipy.special.boxcox(x, l)", {"x": np.array([0.5, 1.0, 2.0, 3.0, 0.1]),
                                        "l": np.array([0.3, 0.5, -1.0, 1.2, 2.0])}),
    ("jax.scipy.special.boxcox1p(x, l)", {"x": np.array([0.5, 0.2, 2.0, -0.5, 0.1]),
                                          "l": np.array([0.3, 0.5, -1.0, 1.2, 2.0])}),
    ("jax.scipy.special.comb(n, k)", {"n": np.array([5.0, 4.5, 7.0, 9.0, 10.0]),
                                      "k": np.array([2.0, 1.5, 4.0, 0.5, 3.0])}),
    ("jax.scipy.special.comb(n, k, repetition=True)", {"n": np.array([5.0, 4.5, 3.0, 2.5, 10.0]),
                                                       "k": np.array([2.0, 1.5, 4.0, 0.5, 3.0])}),
    ("jax.scipy.special.poch(z, m)", {"z": np.array([0.5, 1.5, -0.5, 3.0, 2.2]),
                                      "m": np.array([0.3, 1.5, 2.0, 0.7, -0.7])}),
]


@pytest.mark.parametrize("code, inputs", SPECIAL, ids=[t[0] for t in SPECIAL])
def test_the_special_functions_derivatives_are_central_differences(code, inputs):
    assert_derivatives_are_central_differences(code, inputs)
    first = api.jacobian(code, inputs)
    for _ in range(2):
        again = api.jacobian(code, inputs)
        for k in first:
            np.testing.assert_array_equal(again[k], first[k])


def test_the_special_functions_values_are_scipys():
    special = pytest.importorskip("scipy.special")
    x, l = np.array([0.5, 1.0, 2.0, 3.0]), np.array([0.0, 0.5, -1.0, 0.0])
    np.testing.assert_allclose(value("jax.scipy.special.boxcox(x, l)", x=x, l=l), special.boxcox(x, l), rtol=1e-14)
    np.testing.assert_allclose(value("jax.scipy.special.boxcox1p(x, l)", x=x, l=l), special.boxcox1p(x, l),
                               rtol=1e-14)
    n, k = np.array([5.0, 4.0, 3.0, -1.0, 10.0]), np.array([2.0, 4.0, 4.0, 0.0, -1.0])
    np.testing.assert_allclose(value("jax.scipy.special.comb(n, k)", n=n, k=k), special.comb(n, k), rtol=1e-12)
    n, k = np.abs(n), np.abs(k)  # (SciPy's NaN at N < 0 with repetition is JAX's 0: test_parity_lax27)
    np.testing.assert_allclose(value("jax.scipy.special.comb(n, k, repetition=True)", n=n, k=k),
                               special.comb(n, k, repetition=True), rtol=1e-12)
    z, m = np.array([0.5, 1.5, -0.5, 3.0]), np.array([0.0, 1.5, 2.0, -0.7])
    np.testing.assert_allclose(value("jax.scipy.special.poch(z, m)", z=z, m=m), special.poch(z, m), rtol=1e-13)
    # JAX's bernoulli sums 48 terms of a series: B_4 is off by 2.5e-6 (relative) there, and jac computes JAX's
    ours = value("jax.scipy.special.bernoulli(10) * 1.0")
    np.testing.assert_allclose(ours, special.bernoulli(10), rtol=3e-6)
    np.testing.assert_allclose(ours[4], -0.03333324870879498, rtol=1e-12)


def test_poch_at_a_pole_is_refused_and_its_derivative_by_m_at_zero_is_digamma():
    assert "pole" in refusal("jax.scipy.special.poch(z, m)", z=np.array([-1.0, 2.0]), m=np.array([0.0, 1.0]))
    J = api.jacobian(HEAD + "jax.scipy.special.poch(z, m)", {"z": np.array([2.5]), "m": np.array([0.0])})
    np.testing.assert_allclose(J["m"], [[0.7031566406452432]], rtol=1e-12)  # ψ(2.5): JAX's rule at m = 0
    np.testing.assert_allclose(J["z"], [[0.0]], atol=1e-15)


# --- jax.lax's bitwise ops, RoundingMethod, nextafter -------------------------------------------------------------

I32 = "jnp.array({}, dtype=jnp.int32)"


@pytest.mark.parametrize("code, want", [
    ("lax.bitwise_and(jnp.array([5, 6, -3]), 3)", [1, 2, 1]),
    (f"lax.bitwise_or({I32.format([5, 6, -3])}, jnp.int32(8))", [13, 14, -3]),
    (f"lax.bitwise_xor({I32.format([5, 6, -3])}, {I32.format([1, 1, 1])})", [4, 7, -4]),
    (f"lax.bitwise_not({I32.format([0, 1, -2])})", [-1, -2, 1]),
    (f"lax.shift_left({I32.format([1, -1, 3])}, {I32.format([2, 31, 40])})", [4, -2 ** 31, 0]),
    (f"lax.shift_right_logical({I32.format([-8, 8, 1])}, jnp.int32(1))", [2 ** 31 - 4, 4, 0]),
    (f"lax.shift_right_arithmetic({I32.format([-8, 8, -1])}, {I32.format([1, 40, -1])})", [-4, 0, -1]),
    (f"lax.population_count({I32.format([-1, 7, 0])})", [32, 3, 0]),
    (f"lax.clz({I32.format([-1, 7, 0])})", [0, 29, 32]),
])
def test_lax_bitwise_ops_of_integer_constants_are_computed_as_jax_does(code, want):
    np.testing.assert_array_equal(value(code + " * x", x=np.ones(3)), want)


def test_lax_bitwise_ops_refuse_floats_as_jax_does_and_read_masks_as_logic():
    assert "JAX raises TypeError" in refusal("lax.bitwise_and(x, 3)", x=X5)
    assert "same dtype" in refusal(f"lax.bitwise_and({I32.format([1, 2])}, 3) * x", x=X5[:2])  # as JAX with x64
    assert "same dtype" in refusal(f"lax.bitwise_xor({I32.format([1, 2])}, jnp.array([1, 2], dtype=jnp.int64)) * x",
                                   x=X5[:2])
    np.testing.assert_array_equal(value("jnp.where(lax.bitwise_or(x > 0, x < -1), x, 0.0)", x=X5),
                                  np.where((X5 > 0) | (X5 < -1), X5, 0.0))


def test_rounding_method_members_are_jaxs_enum_values():
    h = np.array([0.5, 1.5, 2.5, -0.5, -2.5])
    np.testing.assert_array_equal(value("lax.round(h, lax.RoundingMethod.TO_NEAREST_EVEN)", h=h), [0, 2, 2, -0, -2])
    np.testing.assert_array_equal(value("jax.lax.round(h, rounding_method=jax.lax.RoundingMethod.AWAY_FROM_ZERO)",
                                        h=h), [1, 2, 3, -1, -3])
    assert "AWAY_FROM_ZERO and TO_NEAREST_EVEN" in refusal("lax.round(h, lax.RoundingMethod.UP)", h=h)


def test_lax_nextafter_is_jnp_nextafter_and_its_derivative_is_refused_as_jax_has_none():
    np.testing.assert_array_equal(value("lax.nextafter(jnp.array([1.0, -2.0]), 3.0) * 1.0"),
                                  np.nextafter([1.0, -2.0], 3.0))
    assert "no derivative" in refusal("lax.nextafter(x, 3.0)", x=X5)


# --- lax.reduce and lax.reduce_window ---------------------------------------------------------------------------

def test_reduce_window_is_the_windows_reduced_with_their_padding():
    x = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(value("lax.reduce_window(x, 0., lax.add, (2, 2), (1, 1), 'VALID')", x=x),
                                  x[:-1, :-1] + x[1:, :-1] + x[:-1, 1:] + x[1:, 1:])
    same = value("lax.reduce_window(x, -jnp.inf, lax.max, (2, 2), (2, 2), 'SAME')", x=x)
    np.testing.assert_array_equal(same, [[5, 7], [9, 11]])
    np.testing.assert_array_equal(value("lax.reduce_window(x, jnp.inf, lax.min, (3,), (1,), ((1, 1),))",
                                        x=np.array([3.0, 1.0, 2.0])), [1, 1, 1])


@pytest.mark.parametrize("code", ["lax.reduce_window(x, -jnp.inf, lax.max, (2, 2), (1, 1), 'SAME')",
                                  "lax.reduce_window(x, 0., lax.add, (2, 3), (2, 1), ((1, 0), (-1, 2)), (1, 2), "
                                  "(1, 1))",
                                  "lax.reduce_window(x, jnp.inf, lax.min, (3, 1), (1, 1), 'SAME_LOWER')",
                                  "lax.reduce(x, 1.0, lax.mul, (1,))", "lax.reduce(x, 2.5, lax.add, (0, 1))",
                                  "lax.reduce(x, -jnp.inf, jnp.maximum, (0,))"])
def test_reductions_derivatives_are_central_differences_and_kernels_agree(code):
    assert_derivatives_are_central_differences(HEAD + code, {"x": A34})
    assert_kernels_agree(code, {"x": A34})


def test_reduce_window_max_at_ties_gives_the_derivative_to_the_first_element_as_jax():
    J = api.jacobian(HEAD + "lax.reduce_window(x, -jnp.inf, lax.max, (3,), (1,), 'VALID')", {"x": np.ones(3)})["x"]
    np.testing.assert_array_equal(J, [[1, 0, 0]])


@pytest.mark.parametrize("code, words", [
    ("lax.reduce_window(x, 0., jnp.add, (2, 2), (1, 1), 'VALID')", "only with computation lax.add"),
    ("lax.reduce_window(x, 1., lax.mul, (2, 2), (1, 1), 'VALID')", "only with computation lax.add"),
    ("lax.reduce_window(x, 0., lax.max, (2, 2), (1, 1), 'VALID')", "identity as init_value"),
    ("lax.reduce_window(x, -jnp.inf, lax.max, (2, 2), (1, 1), 'VALID', window_dilation=(2, 1))",
     "NotImplementedError"),
    ("lax.reduce_window(x, 0., lax.add, (2, 2), (1, 1), 'FULL')", "'VALID', 'SAME'"),
    ("lax.reduce_window(x, 0., lax.add, (5, 2), (1, 1), 'VALID')", "empty"),
    ("lax.reduce_window(x * jnp.nan, -jnp.inf, lax.max, (2, 2), (1, 1), 'VALID')", "NaN"),
    ("lax.reduce(x, 0.0, lambda a, b: a - b, (1,))", "computation returning a - b"),
    ("lax.reduce(x, 0.0, lax.max, (1,))", "identity"),
    ("lax.reduce(x, -2.0, jnp.multiply, (1,))", "drops the init's factor"),
    ("lax.reduce(x, 0.0, lax.add, (2,))", "not distinct axes"),
])
def test_reductions_jax_cannot_differentiate_or_jac_cannot_read_are_refused(code, words):
    assert words in refusal(code, x=A34)


# --- jax.lax's convolutions -----------------------------------------------------------------------------------------

CONV = "lax.conv_general_dilated(x, w, (2, 1), ((1, 0), (-1, 2)), (1, 2), (2, 1), ('NHWC', 'HWIO', 'NHWC'))"
CONV_INPUTS = {"x": rng.standard_normal((1, 4, 3, 2)), "w": rng.standard_normal((2, 2, 2, 2))}


def test_lax_conv_is_f_conv2d_of_the_same_layout():
    x, w = rng.standard_normal((1, 2, 5, 4)), rng.standard_normal((3, 2, 2, 3))
    np.testing.assert_allclose(value("lax.conv(x, w, (1, 2), 'VALID')", x=x, w=w),
                               api.evaluate("F.conv2d(x, w, stride=(1, 2))", {"x": x, "w": w}), rtol=1e-14)


def test_lax_conv_general_dilated_derivatives_are_central_differences_and_kernels_agree():
    assert_derivatives_are_central_differences(HEAD + CONV, CONV_INPUTS)
    assert_kernels_agree(CONV, CONV_INPUTS)


@pytest.mark.parametrize("code, words", [
    ("lax.conv_general_dilated(x, w, (1, 1), 'SAME', (2, 1))", "string padding with lhs_dilation"),
    ("lax.conv_general_dilated(x, w, (1, 1), 'VALID', dimension_numbers=((0, 3, 1, 2), (3, 2, 0, 1), (0, 3, 1, 2)))",
     "must be strings"),
    ("lax.conv_general_dilated(x, w, (1, 1), 'VALID', dimension_numbers=('NHWC', 'HWIO', 'NHWX'))",
     "names every one"),
    ("lax.conv_general_dilated(x, w, (1, 1), 'VALID', batch_group_count=2)", "batch_group_count"),
    ("lax.conv(x, w, (1,), 'VALID')", "one positive integer per spatial axis"),
    ("lax.conv(x, w, (1, 1), 'FULL')", "'VALID', 'SAME'"),
])
def test_lax_convolutions_jac_cannot_read_are_refused(code, words):
    assert words in refusal(code, **CONV_INPUTS)


def test_reduce_precision_is_x_where_exact_and_refused_where_it_rounds():
    np.testing.assert_array_equal(value("lax.reduce_precision(x, 11, 52)", x=X5), X5)
    assert "narrower format" in refusal("lax.reduce_precision(x, 8, 7)", x=X5)
    with pytest.raises(JacError, match="narrower format"):
        api.evaluate(HEAD + "lax.reduce_precision(x, 5, 10)", {"x": X5}, dtype="float32")
    np.testing.assert_array_equal(api.evaluate(HEAD + "lax.reduce_precision(x, 8, 23)", {"x": X5}, dtype="float32"),
                                  X5.astype(np.float32))


@pytest.mark.parametrize("name", ["scatter_apply"])  # gather and the other scatters: read in session 28
def test_lax_gather_and_scatter_by_dimension_numbers_are_refused_saying_what_to_write(name):
    with pytest.raises(JacError, match=r"x.at\[idx\].set"):
        api.evaluate(HEAD + f"lax.{name}(x, i, u, dn)", {"x": X5})
