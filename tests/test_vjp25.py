"""jvp, vjp and linearize written in the text (lang/vjps.py): ``jax.jvp`` / ``torch.func.jvp`` give
``(primals_out, tangents_out)``, ``jax.vjp`` / ``torch.func.vjp`` ``(primals_out, vjp_fn)``, ``jax.linearize`` /
``torch.func.linearize`` ``(primals_out, f_jvp)``; ``vjp_fn`` and ``f_jvp`` are values of the text, called later,
passed on, called twice. Expected values with NumPy formulas; jac's Jacobian of each text (a derivative of the
derivative) against central differences of jac's own value. tests/test_parity_vjp25.py runs the same texts under
JAX and PyTorch."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.errors import JacError, JacShapeError, JacValueError
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian

runner = CliRunner()
X = np.array([0.3, -1.2, 0.7])
V = np.array([1.5, 0.4, -0.8])
W = np.array([-0.6, 0.9, 0.2])
F = "def f(t):\n    return jnp.sum(jnp.sin(t) * t ** 2)\n"


def _hessian_f(x):  # of f above: d2/dx2 (sin(x) x^2), diagonal
    return np.diag(-np.sin(x) * x ** 2 + 4 * x * np.cos(x) + 2 * np.sin(x))


def _checked(text, bindings):
    """jac's value, and its Jacobian by every input checked against central differences of the value."""
    value = api.evaluate(text, bindings)
    jacs = api.jacobian(text, bindings)
    for name in bindings:
        def f(u, name=name):
            return api.evaluate(text, {**bindings, name: u})
        np.testing.assert_allclose(jacs[name], central_jacobian(f, np.asarray(bindings[name], dtype=float)),
                                   rtol=1e-6, atol=1e-7, err_msg=name)
    return value


def test_jvp_is_the_jacobian_times_the_tangent():
    for text in ("jax.jvp(jnp.sin, (x,), (v,))[1]", "jax.jvp(jnp.sin, [x], [v])[1]",
                 "torch.func.jvp(torch.sin, (x,), (v,))[1]", "y, t = jax.jvp(lambda a: jnp.sin(a) * a, (x,), (v,))\nt"):
        value = _checked(text, {"x": X, "v": V})
        expected = np.cos(X) * V if "* a" not in text else (np.cos(X) * X + np.sin(X)) * V
        np.testing.assert_allclose(value, expected, rtol=1e-12, err_msg=text)
    np.testing.assert_allclose(api.evaluate("jax.jvp(jnp.sin, (x,), (v,))[0]", {"x": X, "v": V}), np.sin(X))


def test_jvp_of_several_primals_and_outputs_sums_each_primals_part():
    text = "out, tan = jax.jvp(lambda a, b: (a * jnp.cos(b), a + b), (x, w), (v, x))\ntan[0] * tan[1] + out[1]"
    value = _checked(text, {"x": X, "w": W, "v": V})
    t0 = V * np.cos(W) - X * np.sin(W) * X
    t1 = V + X
    np.testing.assert_allclose(value, t0 * t1 + X + W, rtol=1e-12)


def test_the_cookbooks_hvp_three_ways_is_the_hessian_times_v():
    ways = [
        "def hvp(f, primals, tangents):\n    return jax.jvp(jax.grad(f), primals, tangents)[1]\nhvp(f, (x,), (v,))",
        "def hvp(f, x, v):\n    return jax.grad(lambda x: jnp.vdot(jax.grad(f)(x), v))(x)\nhvp(f, x, v)",
        "def hvp(f, x, v):\n    return jax.grad(lambda x: jax.jvp(f, (x,), (v,))[1])(x)\nhvp(f, x, v)",
        "def hvp(f, x, v):\n    return jax.vjp(jax.grad(f), x)[1](v)[0]\nhvp(f, x, v)",
        "jax.jacfwd(jax.jacrev(f))(x) @ v",
    ]
    for way in ways:
        value = _checked(F + way, {"x": X, "v": V})
        np.testing.assert_allclose(value, _hessian_f(X) @ V, rtol=1e-12, atol=1e-14, err_msg=way)


def test_vjp_fn_is_a_value_called_twice_passed_on_and_unpacked():
    text = "y, f_vjp = jax.vjp(lambda t: jnp.sin(t) * t, x)\na, = f_vjp(v)\nb, = f_vjp(2.0 * w)\na + b * y"
    value = _checked(text, {"x": X, "v": V, "w": W})
    d = np.cos(X) * X + np.sin(X)
    np.testing.assert_allclose(value, d * V + 2 * d * W * np.sin(X) * X, rtol=1e-12)
    passed = "def apply(g, c):\n    return g(c)[0]\ny, f_vjp = torch.func.vjp(torch.tanh, x)\napply(f_vjp, v)"
    np.testing.assert_allclose(_checked(passed, {"x": X, "v": V}), (1 - np.tanh(X) ** 2) * V, rtol=1e-12)
    at_once = "jax.vjp(jnp.exp, x)[1](v)[0]"
    np.testing.assert_allclose(_checked(at_once, {"x": X, "v": V}), np.exp(X) * V, rtol=1e-12)


def test_vjp_of_tuples_primals_and_outputs():
    text = "y, f_vjp = jax.vjp(lambda a, b: (a * b, jnp.sin(a)), x, w)\nga, gb = f_vjp((v, x))\nga + gb * 2.0"
    value = _checked(text, {"x": X, "w": W, "v": V})
    np.testing.assert_allclose(value, V * W + X * np.cos(X) + 2 * V * X, rtol=1e-12)
    pytree = "y, f_vjp = jax.vjp(lambda p: p[0] * jnp.exp(p[1]), (x, w))\n(g,) = f_vjp(v)\ng[0] * g[1]"
    value = _checked(pytree, {"x": X, "w": W, "v": V})
    np.testing.assert_allclose(value, V * np.exp(W) * V * X * np.exp(W), rtol=1e-12)
    same = "jax.vjp(lambda t: (t, t * 3.0), x)[1]((v, w))[0]"  # the same input twice: cotangents add
    np.testing.assert_allclose(_checked(same, {"x": X, "v": V, "w": W}), V + 3 * W, rtol=1e-12)


def test_has_aux_returns_the_aux_last():
    for text in ("y, g, aux = jax.vjp(lambda t: (jnp.sin(t), t ** 2), x, has_aux=True)\ng(v)[0] * aux",
                 "y, tan, aux = jax.jvp(lambda t: (jnp.sin(t), t ** 2), (x,), (v,), has_aux=True)\ntan * aux",
                 "y, tan, aux = torch.func.jvp(lambda t: (torch.sin(t), t ** 2), (x,), (v,), has_aux=True)\ntan * aux",
                 "y, g, aux = torch.func.vjp(lambda t: (torch.sin(t), t ** 2), x, has_aux=True)\ng(v)[0] * aux",
                 "y, f_jvp, aux = jax.linearize(lambda t: (jnp.sin(t), t ** 2), x, has_aux=True)\nf_jvp(v) * aux"):
        np.testing.assert_allclose(_checked(text, {"x": X, "v": V}), np.cos(X) * V * X ** 2, rtol=1e-12, err_msg=text)


def test_linearize_gives_a_function_of_the_tangents():
    text = "y, f_jvp = jax.linearize(lambda a, b: jnp.sin(a) * b, x, w)\nf_jvp(v, x) + f_jvp(x, v) + y"
    value = _checked(text, {"x": X, "w": W, "v": V})
    lin = lambda ta, tb: np.cos(X) * W * ta + np.sin(X) * tb  # noqa: E731
    np.testing.assert_allclose(value, lin(V, X) + lin(X, V) + np.sin(X) * W, rtol=1e-12)
    torch_text = "y, jvp_fn = torch.func.linearize(torch.exp, x)\njvp_fn(v)"
    np.testing.assert_allclose(_checked(torch_text, {"x": X, "v": V}), np.exp(X) * V, rtol=1e-12)


def test_vjp_of_a_jvp_and_outputs_that_do_not_depend_on_the_primal():
    text = "y, f_vjp = jax.vjp(lambda t: jax.jvp(jnp.sin, (t,), (v,))[1], x)\nf_vjp(w)[0]"
    np.testing.assert_allclose(_checked(text, {"x": X, "v": V, "w": W}), -np.sin(X) * V * W, rtol=1e-12)
    np.testing.assert_array_equal(api.evaluate("jax.jvp(lambda t: jnp.ones(3), (x,), (v,))[1]", {"x": X, "v": V}),
                                  np.zeros(3))
    np.testing.assert_array_equal(api.evaluate("jax.vjp(lambda t: t, x)[1](v)[0]", {"x": X, "v": V}), V)
    np.testing.assert_array_equal(api.evaluate("jax.vjp(jnp.sum, x)[1](2.0)[0]", {"x": X}), [2.0, 2.0, 2.0])


def test_a_closure_is_not_differentiated_by_the_inner_transform():
    # d/dt (t * x) at t = x is x: the closure's x stays outside the jvp, as in JAX
    np.testing.assert_allclose(_checked("jax.jvp(lambda t: t * x, (x,), (v,))[1]", {"x": X, "v": V}), X * V)


REFUSALS = [
    ("y, f = jax.vjp(jnp.sin, x)\nf(jnp.ones(2))", JacShapeError, "cotangent has shape (2,)", "must match"),
    ("y, f = torch.func.vjp(torch.sum, x)\nf(torch.ones(1))", JacShapeError, "has shape (1,)", "()"),
    ("y, f = jax.vjp(jnp.sin, x)\nf(jnp.ones(3, dtype=jnp.int32))", JacValueError, "integers or booleans"),
    ("y, f = jax.vjp(jnp.sin, x)\nf(v, v)", JacValueError, "takes one cotangent", "2 positional"),
    ("y, f = jax.vjp(lambda t: (t, t), x)\nf(v)", JacValueError, "is one array and the function's output the pytree (*, *)"),
    ("y, f = jax.vjp(jnp.sin, x)\nf((v, v))", JacValueError, "is the pytree (*, *) and the function's output one array"),
    ("jax.jvp(jnp.sin, x, v)", JacValueError, "primals is a tuple or list", "primals=(x,)"),
    ("torch.func.jvp(torch.sin, [x], [v])", JacValueError, "primals is a tuple", "as PyTorch requires"),
    ("jax.jvp(jnp.sin, (x,), (v, v))", JacValueError, "1 primals and 2 tangents"),
    ("jax.jvp(jnp.sin, (x,), (jnp.ones(2),))", JacShapeError, "leaf 0 has shape (2,)", "must match"),
    ("jax.jvp(jnp.sin, (2,), (1.0,))", JacValueError, "integers or booleans"),
    ("jax.vjp(jnp.sin)", JacValueError, "needs at least one primal"),
    ("jax.vjp(jnp.sin, x, reduce_axes=(0,))", JacValueError, "jac reads reduce_axes=()"),
    ("torch.func.jvp(torch.sin, (x,), (v,), strict=True)", JacValueError, "jac reads strict=False"),
    ("torch.func.linearize(torch.sin, x, has_aux=True)", JacValueError, "has no argument 'has_aux'"),
    ("y, f = jax.linearize(jnp.sin, x)\nf(v, v)", JacValueError, "one tangent per primal (1)"),
    ("y, f = jax.linearize(jnp.sin, x)\nf(jnp.ones(2))", JacShapeError, "has shape (2,) and its primal (3,)"),
    ("jax.vjp(lambda t: t, x, has_aux=True)", JacValueError, "returns a pair (output, aux)"),
    ("jax.vjp(jnp.sin, x)", JacValueError, "the last statement is a tuple holding the function", "call it"),
    ("y, f = jax.vjp(jnp.sin, x)\nf", JacValueError, "the last statement is the function jax.vjp returns"),
    ("jax.vjp(lambda t: [t, (t, t)], x)[0]", JacValueError, "the last statement is a tuple of 2 arrays"),
]


@pytest.mark.parametrize("case", REFUSALS, ids=[" ".join(r[0].split())[-40:] for r in REFUSALS])
def test_what_the_libraries_refuse_is_refused_saying_what_and_where(case):
    text, kind, *words = case
    with pytest.raises(kind) as info:
        api.evaluate(text, {"x": X, "v": V})
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_the_command_line_refuses_in_one_line_and_reads_the_briefs_texts():
    result = runner.invoke(app, ["eval", "y, f_vjp = jax.vjp(jnp.sin, x); f_vjp(jnp.ones(2))[0]", "x:3", "--json"])
    assert result.exit_code == 2 and "must match" in json.loads(result.stdout)["error"]["message"]
    for text in ("jax.jvp(jnp.sin, (x,), (jnp.ones(3),))[1]", "y, f_vjp = jax.vjp(jnp.sin, x); f_vjp(jnp.ones(3))[0]",
                 "y, vjp_fn = torch.func.vjp(torch.sin, x); vjp_fn(torch.ones(3))[0]",
                 "torch.func.jvp(torch.sin, (x,), (torch.ones(3),))[1]"):
        result = runner.invoke(app, ["eval", text, "x=[0.5, 1, 2]", "--json"])
        assert result.exit_code == 0, result.stdout
        report = json.loads(result.stdout)
        np.testing.assert_allclose(report["output"]["value"], np.cos([0.5, 1, 2]), rtol=1e-12)
        np.testing.assert_allclose(report["jacobian"]["x"]["value"], np.diag(-np.sin([0.5, 1, 2])), rtol=1e-12)


def test_symbolic_sizes_are_refused():
    result = runner.invoke(app, ["shape", "jax.jvp(jnp.sin, (x,), (x,))[1]", "x:n", "--json"])
    assert result.exit_code == 2 and "numeric sizes" in json.loads(result.stdout)["error"]["message"]
    result = runner.invoke(app, ["shape", "y, f = jax.vjp(jnp.sin, x)\nf(x)[0]", "x:n", "--json"])
    assert result.exit_code == 2 and "numeric sizes" in json.loads(result.stdout)["error"]["message"]


def test_a_parse_error_never_escapes_as_a_traceback():
    for text in ("jax.jvp()", "jax.jvp(jnp.sin)", "jax.vjp(*x)", "jax.jvp(jnp.sin, (x,), (v,), foo=1)",
                 "jax.vjp(3, x)", "jax.vjp(jnp.sin, x)[1]()", "jax.vjp(jnp.sin, x)[1](v, foo=1)",
                 "jax.linearize(jnp.sin, x)[1](v=v)", "jax.jvp(lambda t: 'a', (x,), (v,))",
                 "jax.vjp(jnp.sin, x, has_aux=y)", "torch.func.vjp(lambda t: t, x)[1](v, retain_graph=True)[0][0]"):
        try:
            api.evaluate(text, {"x": X, "v": V})
        except JacError:
            pass


def test_one_list_of_what_jac_reads():
    from jacobi_cli.lang import derivatives, vjps

    assert set(vjps.SPELLINGS) == set(derivatives.LINEAR)
    listed = derivatives.READ.split(" are ", 1)[1].split("; or write", 1)[0]
    named = set()
    for group in listed.split("; "):  # "torch.func.grad, grad_and_value": the module named on the first
        first, *rest = group.split(", ")
        module = first.rsplit(".", 1)[0]
        named |= {first} | {f"{module}.{name}" for name in rest}
    assert named == set(derivatives.SPELLINGS)  # the message every refusal quotes lists what jac reads, no more


def test_the_interpreter_and_the_batch_kernels_agree_bit_for_bit():
    for text in ("y, f = jax.vjp(lambda t: jnp.tanh(t) * t.sum(), x); f(v)[0]",
                 "jax.jvp(jax.grad(lambda t: jnp.sum(jnp.sin(t) * t)), (x,), (v,))[1]"):
        xs = np.random.default_rng(25).uniform(-1, 1, (3, 3))
        result = runner.invoke(app, ["eval", text, "x=" + json.dumps(xs.tolist()), "v=[0.5, -1, 2]", "--batch", "x",
                                     "--json"])
        assert result.exit_code == 0, result.stdout
        report = json.loads(result.stdout)
        for i, x in enumerate(xs):
            inputs = {"x": x, "v": np.array([0.5, -1, 2])}
            np.testing.assert_array_equal(report["output"]["value"][i], api.evaluate(text, inputs))
            np.testing.assert_array_equal(report["jacobian"]["x"]["value"][i], api.jacobian(text, inputs)["x"])


def test_a_vjp_fn_differentiated_by_its_cotangent_is_the_transposed_jacobian():
    a = np.arange(6.0).reshape(3, 2)
    text = "y, f = jax.vjp(lambda t: A @ jnp.sin(t), x)\njax.jacrev(lambda c: f(c)[0])(v)"
    value = api.evaluate(text, {"x": X[:2], "v": V, "A": a})
    np.testing.assert_allclose(value, (a * np.cos(X[:2])).T, rtol=1e-12)


def test_functional_call_is_the_models_call_with_the_dicts_parameters():
    """torch.func.functional_call (session 26, lang/trees.py; refused before, naming the model's call): with the
    model's own parameters it is the model's call; with others, the call with those (restored after)."""
    call = "model = nn.Linear(3, 1)\n"
    ours = api.evaluate(call + "torch.func.functional_call(model, dict(model.named_parameters()), (x,))", {"x": X})
    np.testing.assert_allclose(ours, api.evaluate(call + "model(x)", {"x": X}))
    text = (call + "from torch.func import functional_call\np = {'weight': torch.ones(1, 3), 'bias': torch.zeros(1)}\n"
            "functional_call(model, p, x) + model(x) - model(x)")
    np.testing.assert_allclose(api.evaluate(text, {"x": X}), [X.sum()])
    result = runner.invoke(app, ["eval", call + "torch.func.functional_call(model, {'w': x}, (x,))", "x:3", "--json"])
    assert result.exit_code == 2, result.stdout
    assert "'w' is not a parameter of the model (its parameters: weight, bias)" in \
        json.loads(result.stdout)["error"]["message"]