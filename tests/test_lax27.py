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


def test_a_while_loop_of_the_inputs_values_is_refused_saying_why_and_what_to_write():
    message = refusal("lax.while_loop(lambda v: jnp.sum(v) < 10.0, lambda v: v * 2.0, x)", x=X5)
    assert "condition of the inputs' values" in message and "counter in the carry" in message
    assert "fori_loop" in message


@pytest.mark.parametrize("cond, words", [("lambda c: 1", "boolean scalar"), ("lambda c: c[1] < 3", "values"),
                                         ("lambda c: jnp.zeros(2) < 1", "boolean scalar")])
def test_a_while_loops_condition_must_be_a_boolean_scalar_known_without_the_values(cond, words):
    assert words in refusal(f"lax.while_loop({cond}, lambda c: (c[0] + 1, c[1]), (0, x))[1]", x=X5)


def test_an_endless_while_loop_stops_at_the_limit_with_a_message():
    assert "endless loop" in refusal("lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] - 1, c[1]), (0, x))[1]",
                                     x=X5)


@pytest.mark.parametrize("transform", ["jax.grad(lambda t: jnp.sum({}))", "jax.jacrev(lambda t: {})",
                                       "jax.hessian(lambda t: jnp.sum({}))", "jax.value_and_grad(lambda t: jnp.sum({}))"])
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
