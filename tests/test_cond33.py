"""JAX's and PyTorch's control flow with a predicate, index or loop condition of the inputs' values
(``jax.lax.cond``, ``jax.lax.switch``, ``torch.cond``, ``jax.lax.while_loop``, ``torch.while_loop``): taken at
the given values, as the libraries run them (session 33; refused before). The graph then holds for those values
only, and the derivatives are the branch's or steps' taken, which every check here compares with central
differences; tests/test_parity_cond33.py compares them with JAX and PyTorch."""

import numpy as np
import pytest

from jacobi_cli.engine.compiled import Compiled
from jacobi_cli.errors import JacError, JacLimitError, JacShapeError, JacValueError
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian
from jacobi_cli.tools.report import shape_report

HEAD = "import jax, jax.numpy as jnp, torch\nfrom jax import lax\n"
UP = np.array([0.5, -0.25, 1.5])  # sum > 0
DOWN = -UP


def jacobian_is_central(text: str, x: np.ndarray) -> np.ndarray:
    """jac's Jacobian by x, checked against central differences of jac's own value (a kink-free point)."""
    found = api.jacobian(HEAD + text, {"x": x})["x"]
    numeric = central_jacobian(lambda v: np.asarray(api.evaluate(HEAD + text, {"x": v})), x)
    np.testing.assert_allclose(found, numeric, rtol=1e-6, atol=1e-8)
    return found


@pytest.mark.parametrize("text", ["lax.cond(x.sum() > 0, lambda v: v ** 2, lambda v: jnp.sin(v), x)",
                                  "torch.cond(x.sum() > 0, lambda v: v ** 2, lambda v: torch.sin(v), (x,))",
                                  "torch.cond((x.sum() > 0).reshape(1), lambda v: v ** 2, torch.sin, (x,))"])
def test_a_predicate_of_the_values_takes_the_branch_they_choose(text):
    for x, want, slope in ((UP, UP ** 2, np.diag(2 * UP)), (DOWN, np.sin(DOWN), np.diag(np.cos(DOWN)))):
        np.testing.assert_array_equal(api.evaluate(HEAD + text, {"x": x}), want)
        np.testing.assert_allclose(jacobian_is_central(text, x), slope, rtol=1e-15)


def test_a_number_as_predicate_is_true_where_nonzero_as_jax_reads_it():
    text = "lax.cond(x.sum(), lambda v: v * 2.0, lambda v: -v, x)"
    np.testing.assert_array_equal(api.evaluate(HEAD + text, {"x": DOWN}), 2 * DOWN)
    np.testing.assert_array_equal(api.evaluate(HEAD + text, {"x": DOWN - DOWN}), -(DOWN - DOWN))


def test_jax_transforms_of_a_cond_of_the_values_differentiate_the_branch_taken():
    # JAX raises for a Python if of a traced value, but not for lax.cond: grad, jacfwd and jacrev read it
    branch = "lax.cond(v.sum() > 0, lambda u: jnp.sum(u ** 3), lambda u: jnp.sum(jnp.sin(u)), v)"
    for name in ("jax.grad", "jax.jacrev", "jax.jacfwd"):
        text = f"{name}(lambda v: {branch})(x)"
        np.testing.assert_allclose(api.evaluate(HEAD + text, {"x": UP}), 3 * UP ** 2, rtol=1e-15)
        np.testing.assert_allclose(api.evaluate(HEAD + text, {"x": DOWN}), np.cos(DOWN), rtol=1e-15)
        np.testing.assert_allclose(jacobian_is_central(text, UP), np.diag(6 * UP), rtol=1e-14)


def test_vmap_of_a_cond_of_the_values_takes_each_examples_branch_and_no_nan_of_the_other():
    # JAX's batched cond computes both branches and keeps each example's own, its gradient stopped in the other:
    # sqrt'(-1) is NaN in the branch not taken, and no NaN reaches the derivative
    text = "jax.vmap(lambda v: lax.cond(v > 0, lambda u: jnp.sqrt(u), lambda u: u * 3.0, v))(x)"
    x = np.array([-1.0, 4.0, 0.25])
    np.testing.assert_array_equal(api.evaluate(HEAD + text, {"x": x}), [-3.0, 2.0, 0.5])
    np.testing.assert_allclose(jacobian_is_central(text, x), np.diag([3.0, 0.25, 1.0]), rtol=1e-15)


def test_switch_of_an_index_of_the_values_takes_the_branch_jax_takes():
    text = ("lax.switch(jnp.argmax(x), [lambda v: jnp.sum(v), lambda v: jnp.sum(v ** 2), "
            "lambda v: jnp.sum(v ** 3)], x)")
    x = np.array([1.0, 3.0, 2.0])
    assert api.evaluate(HEAD + text, {"x": x}) == np.sum(x ** 2)
    np.testing.assert_allclose(jacobian_is_central(text, x), 2 * x, rtol=1e-15)
    # clamped into the branches, as JAX clamps it
    clamped = "lax.switch(jnp.argmax(x) + 5, [lambda v: jnp.sum(v), lambda v: jnp.sum(v * 7.0)], x)"
    assert api.evaluate(HEAD + clamped, {"x": x}) == np.sum(x * 7.0)


@pytest.mark.parametrize("text, words", [
    ("lax.switch(x.sum(), [jnp.sin, jnp.cos], x)", "must be an integer"),  # JAX's TypeError
    ("lax.switch(x.sum() > 0, [jnp.sin, jnp.cos], x)", "got a bool"),
    ("lax.switch(jnp.array(1.0), [jnp.sin, jnp.cos], x)", "got a float"),
    ("lax.cond(x > 0, jnp.sin, jnp.cos, x)", "must be a scalar"),
    ("torch.cond(x > 0, torch.sin, torch.cos, (x,))", "one element"),
])
def test_what_the_libraries_refuse_of_a_predicate_or_index_jac_refuses(text, words):
    with pytest.raises(JacValueError, match=words):
        api.evaluate(HEAD + text, {"x": UP})


def test_branches_of_different_shapes_are_refused_with_a_predicate_of_the_values_too():
    with pytest.raises(JacShapeError, match="branch 1"):
        api.evaluate(HEAD + "lax.cond(x.sum() > 0, lambda v: v, lambda v: v[:2], x)", {"x": UP})


@pytest.mark.parametrize("text", [
    "lax.while_loop(lambda v: jnp.sum(v) < 20.0, lambda v: v * 1.5, x)",
    "torch.while_loop(lambda v: v.sum() < 20.0, lambda v: (v * 1.5,), (x,))[0]",
    "jax.jacfwd(lambda t: lax.while_loop(lambda v: jnp.sum(v) < 20.0, lambda v: v * 1.5, t))(x).sum(0)",
])
def test_a_loop_condition_of_the_values_runs_the_steps_they_take(text):
    x = np.array([1.0, 2.0, 0.5])
    expected, steps = x.copy(), 0
    while expected.sum() < 20.0:
        expected, steps = expected * 1.5, steps + 1
    assert steps == 5
    found = api.evaluate(HEAD + text, {"x": x})
    if "jacfwd" in text:  # the loop's Jacobian, summed over its rows
        np.testing.assert_allclose(found, np.full(3, 1.5 ** steps), rtol=1e-15)
        return
    np.testing.assert_array_equal(found, expected)
    np.testing.assert_allclose(jacobian_is_central(text, x), np.eye(3) * 1.5 ** steps, rtol=1e-14)


def test_vmap_of_a_loop_of_the_values_runs_each_examples_own_steps():
    text = "jax.vmap(lambda t: lax.while_loop(lambda v: jnp.sum(v) < 20.0, lambda v: v * 1.5, t))(x.reshape(2, 2))"
    x = np.array([1.0, 2.0, 9.0, 9.5])
    np.testing.assert_array_equal(api.evaluate(HEAD + text, {"x": x}), [[1.5 ** 5, 2 * 1.5 ** 5], [13.5, 14.25]])
    np.testing.assert_allclose(jacobian_is_central(text, x)[0, 0], [1.5 ** 5, 0, 0, 0], rtol=1e-15)


def test_reverse_mode_of_jax_over_a_while_loop_stays_refused_as_jax_refuses_it():
    with pytest.raises(JacValueError, match="Reverse-mode differentiation does not work"):
        api.evaluate(HEAD + "jax.grad(lambda t: jnp.sum(lax.while_loop(lambda v: jnp.sum(v) < 20.0, "
                            "lambda v: v * 1.5, t)))(x)", {"x": UP})


@pytest.mark.parametrize("text", ["lax.cond(x.sum() > 0, lambda v: v ** 2, jnp.sin, x)",
                                  "lax.switch(jnp.argmax(x), [jnp.sin, jnp.cos, jnp.tanh], x)",
                                  "torch.cond(x.sum() > 0, torch.sin, torch.cos, (x,))",
                                  "lax.while_loop(lambda v: jnp.sum(v) < 20.0, lambda v: v * 1.5, x)"])
def test_shapes_alone_cannot_choose_and_a_compiled_graph_refuses_other_values(text):
    with pytest.raises(JacValueError, match="holds for those values only"):
        shape_report(HEAD + text, ["x:3"])
    x = np.array([1.0, 2.0, 0.5])
    compiled = Compiled(HEAD + text, {"x": (3,)}, values={"x": x})
    np.testing.assert_array_equal(compiled.value({"x": x}), api.evaluate(HEAD + text, {"x": x}))
    with pytest.raises(JacError, match="values"):
        compiled.value({"x": -x})


def test_the_values_a_long_loop_reads_are_kept_within_the_limit_per_array():
    # each step's carry is read once: the oldest are dropped past max_bytes (the 8 steps' carries, 800 bytes
    # each, would hold 6,400), and computed again if asked; the value is the loop's all the same
    text = "lax.while_loop(lambda v: jnp.sum(v) < 100.0, lambda v: v * 2.0, x)"
    x = np.full(100, 0.01)
    compiled = Compiled(HEAD + text, {"x": (100,)}, values={"x": x}, max_bytes=2000)
    np.testing.assert_array_equal(compiled.value({"x": x}), x * 2.0 ** 7)
    # values a single test reads at once past the limit are refused, not allocated
    wide = "a = x * 2.0; b = x * 3.0; c = x * 4.0\nlax.cond(jnp.sum(a + b + c) > 0, jnp.sin, jnp.cos, x)"
    with pytest.raises(JacLimitError, match="--max-memory"):
        Compiled(HEAD + wide, {"x": (100,)}, values={"x": x}, max_bytes=2000)


def test_an_integer_read_off_the_values_is_refused_where_the_library_traces_abstract_values():
    # jax.grad runs int(v.argmax()) at the concrete values; jax.vmap raises (ConcretizationTypeError)
    a = np.array([[1.0, 3.0, 2.0], [4.0, 1.0, 1.0]])
    np.testing.assert_array_equal(api.evaluate(HEAD + "jax.grad(lambda v: v[int(v.argmax())] * 2)(x[0])", {"x": a}),
                                  [0.0, 2.0, 0.0])
    with pytest.raises(JacValueError, match="TracerBoolConversionError|abstract values"):
        api.evaluate(HEAD + "jax.vmap(lambda v: v[int(v.argmax())] * 2)(x)", {"x": a})


def test_a_result_built_at_the_values_says_so_where_it_reads_them():
    import json

    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app

    runner = CliRunner()
    text = "def clip(v, m=5.0):\n    if v.norm() > m:\n        return v * (m / v.norm())\n    return v\nclip(x)"
    for command in (["eval"], ["vjp", "--v", "ones"], ["jvp", "--tangent", "x=[1, 0, 0]"], ["hessian"]):
        result = runner.invoke(app, [command[0], text, "x=[3, 4, 5]", *command[1:], "--json"])
        assert result.exit_code == 0, result.output
        report = json.loads(result.output.splitlines()[0])
        assert report["warnings"][0]["kind"] == "by_value", command
        assert report["warnings"][0]["position"] == text.index("v.norm() > m")
    shown = runner.invoke(app, ["eval", "x[x > 0].sum()", "x=[1, -2, 3]"])
    assert shown.exit_code == 0 and "warning (by_value): the result holds at these values only" in shown.output
    loop = runner.invoke(app, ["eval", "y = x\nwhile y.sum() > 1:\n    y = y / 2\ny[y > 0.1]", "x=[3, 4]", "--json"])
    assert "and at 1 more place" in json.loads(loop.output.splitlines()[0])["warnings"][0]["message"]
    plain = runner.invoke(app, ["eval", "x * 2", "x=[1, 2]", "--json"])
    assert "warnings" not in json.loads(plain.output)  # a graph for any values says nothing
