"""Session 27's NumPy / PyTorch leftovers (branch h27-odds): each text's value against a NumPy formula and its
Jacobian against central differences of jac's own value; tests/test_parity_odds27.py runs the same texts under
JAX and PyTorch."""

import json

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian

X = np.array([0.3, -1.2, 0.7])
V = np.array([1.5, 0.4, -0.8])


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


# 1. a list or tuple display of constant arrays given to jvp / vjp / linearize / grad is a pytree of its elements
F2 = "def f(p):\n    return jnp.sum(p[0] * x + p[1] ** 2)\n"
LISTS = [
    (F2 + "jax.jvp(f, ([jnp.ones(3), 2.0 * jnp.ones(3)],), ([jnp.ones(3), jnp.ones(3)],))[1]",
     lambda x: np.sum(x) + 4.0 * 3),
    (F2 + "p = [jnp.ones(3), 2.0 * jnp.ones(3)]\njax.jvp(f, (p,), (p,))[1]", lambda x: np.sum(x) + 8.0 * 3),
    (F2 + "y, g = jax.linearize(f, [jnp.ones(3), jnp.zeros(3)])\ng([jnp.ones(3), jnp.ones(3)])",
     lambda x: np.sum(x)),
    (F2 + "p = [jnp.ones(3), jnp.array([1.0, 2.0, 3.0])]\ny, g = jax.vjp(f, p)\ng(1.0)[0][1] * x",
     lambda x: 2.0 * np.array([1.0, 2.0, 3.0]) * x),
    (F2 + "jax.grad(f)([jnp.ones(3), jnp.array([1.0, 2.0, 3.0])])[1] * x",
     lambda x: 2.0 * np.array([1.0, 2.0, 3.0]) * x),
    ("def f(p):\n    return [p * x, p]\ny, g = jax.vjp(f, jnp.ones(3))\ng([jnp.ones(3), 2.0 * jnp.ones(3)])[0]",
     lambda x: x + 2.0),
    ("def f(p):\n    return (p * x, p)\ny, g = torch.func.vjp(f, torch.ones(3))\n"
     "g((torch.ones(3), 2.0 * torch.ones(3)))[0]", lambda x: x + 2.0),
]


@pytest.mark.parametrize("text,expected", LISTS, ids=[t.split("\n")[-1][-40:] for t, _ in LISTS])
def test_a_display_of_constant_arrays_is_a_pytree_of_its_elements(text, expected):
    np.testing.assert_allclose(_checked(text, {"x": X}), expected(X), rtol=1e-12)


def test_a_display_meant_as_one_array_stays_one_leaf():
    text = "y, g = jax.vjp(lambda t: t * x, jnp.array([1.0, 2.0, 3.0]))\ng(jnp.array([1.0, 1.0, 2.0]))[0]"
    np.testing.assert_allclose(_checked(text, {"x": X}), X * [1.0, 1.0, 2.0], rtol=1e-12)
    with pytest.raises(JacError, match="structures must match"):  # a list where the output is one array
        api.evaluate("y, g = jax.vjp(lambda t: t * x, jnp.ones(3))\ng([jnp.ones(3), jnp.ones(3)])[0]", {"x": X})


TREES = [  # once refused as "structure is lost" (tests/test_trees26.py), now JAX's answers
    ("p = [jnp.ones(3), 2.0 * jnp.ones(3)]\njax.tree_util.tree_map(lambda t: t.sum(), p)[1] * x", lambda x: 6.0 * x),
    ("len(jax.tree_util.tree_leaves({'a': [jnp.ones(3), jnp.zeros(3)]})) * x", lambda x: 2.0 * x),
    ("jax.grad(lambda p: jnp.sum(p[0] * x))([jnp.ones(3), jnp.zeros(3)])[0]", lambda x: x),
    ("c = (jnp.ones(3),)\njax.jvp(jnp.sin, (x,), c)[1]", np.cos),
]


@pytest.mark.parametrize("text,expected", TREES, ids=[t.split("\n")[-1][-40:] for t, _ in TREES])
def test_a_list_of_constants_once_refused_is_the_list_jax_sees(text, expected):
    np.testing.assert_allclose(_checked(text, {"x": X}), expected(X), rtol=1e-12)


# 2. a text ending with an unpacking (q, r = torch.linalg.qr(A)): its outputs are the names, as 'q, r' after it
A32 = "[[0.5, -1.0], [2.0, 0.3], [-0.7, 1.1]]"


def _json(capsys, args):
    from jacobi_cli.cli import entry

    assert entry.main(args) == 0
    report = json.loads(capsys.readouterr().out)
    report.pop("expression")
    return report


@pytest.mark.parametrize("text", ["q, r = torch.linalg.qr(A)", "[q, r] = torch.linalg.qr(A)",
                                  "u = A * 2.0\nq, r = np.linalg.qr(u)"])
def test_an_unpacking_last_is_its_names_as_outputs(capsys, text):
    listed = text + "\nq, r"
    for command in (["eval"], ["vjp", "--v", "q=ones"], ["vjp", "--v", "r=[[1, 2], [0, 3]]", "--v", "q=ones"]):
        ours = _json(capsys, [command[0], text, f"A={A32}", "--json", *command[1:]])
        assert [o["name"] for o in ours["outputs"]] == ["q", "r"]
        assert ours == _json(capsys, [command[0], listed, f"A={A32}", "--json", *command[1:]]), command
    q, r = np.linalg.qr(np.array(json.loads(A32)) * (2.0 if "u =" in text else 1.0))
    out = _json(capsys, ["eval", text, f"A={A32}", "--json"])["outputs"]
    np.testing.assert_allclose(np.abs(out[0]["value"]), np.abs(q), rtol=1e-12)  # signs are LAPACK's, as PyTorch's
    np.testing.assert_allclose(np.abs(out[1]["value"]), np.abs(r), rtol=1e-12)


def test_the_symbolic_derivative_of_an_unpacking_last_names_each_output(capsys):
    text = "u = x ** 2\nq, s = torch.sin(u), x ** 3"
    ours = _json(capsys, ["diff", text, "x:2", "--json"])
    assert [o["name"] for o in ours["outputs"]] == ["q", "s"]
    assert ours["derivatives"] == _json(capsys, ["diff", text + "\nq, s", "x:2", "--json"])["derivatives"]


def test_an_unpacking_last_that_names_no_outputs_is_refused():
    with pytest.raises(JacError, match="the last statement is the function jax.vjp returns: call it"):
        api.evaluate("y, g = jax.vjp(jnp.sin, x)", {"x": X})
    with pytest.raises(JacError, match="two outputs are named 'q'"):
        api.evaluate("q, q = torch.linalg.qr(A)", {"A": np.ones((3, 2))})
    with pytest.raises(JacError, match="list the outputs you want"):  # *r is a list (session 30 reads it)
        api.evaluate("q, *r = torch.linalg.qr(A)", {"A": np.ones((3, 2))})


# 3. a decorated def as the last statement: a plain function is called with the inputs (as an undecorated one);
# a transform or grad mode of it is refused, saying to end with the call
@pytest.mark.parametrize("decorator", ["@jax.grad", "@jax.vmap", "@torch.no_grad()", "@torch.inference_mode()",
                                       "@functools.partial(jax.vmap, in_axes=0)", "@torch.enable_grad()"])
def test_a_decorated_definition_last_says_to_call_it(decorator):
    text = f"import jax\nimport functools\n{decorator}\ndef f(x, s=2.0):\n    return jnp.sum(jnp.sin(x) * s)"
    with pytest.raises(JacError) as info:
        api.evaluate(text, {"x": X})
    message = str(info.value)
    assert "the text ends with the definition of f" in message and "end the text with f(x)" in message, message
    assert info.value.position == text.index("def f")


@pytest.mark.parametrize("decorator", ["@jax.jit", "@torch.compile", "@functools.partial(jax.jit, static_argnums=1)"])
def test_a_compiled_definition_last_is_called_with_the_inputs(decorator):
    text = f"import jax\nimport functools\n{decorator}\ndef f(x, s=2.0):\n    return jnp.sin(x) * s"
    np.testing.assert_allclose(_checked(text, {"x": X}), np.sin(X) * 2.0, rtol=1e-12)


# 4. jax.tree_util's is_leaf written with isinstance(n, tuple / list / dict) or n is None, as JAX reads them
IS_LEAF = [
    ("p = {'a': (x, 2.0 * x), 'b': x}\njax.tree_util.tree_leaves(p, is_leaf=lambda n: isinstance(n, tuple))[0][1]",
     lambda x: 2.0 * x),
    ("p = {'a': (x, x), 'b': None}\nlen(jax.tree_util.tree_leaves(p, is_leaf=lambda n: n is None)) * x",
     lambda x: 3.0 * x),
    ("p = {'a': (x, x), 'b': None}\n"
     "jax.tree_util.tree_map(lambda n: 0.0 if n is None else n * 2, p, is_leaf=lambda n: n is None)['a'][1]",
     lambda x: 2.0 * x),
    ("p = {'a': (x, [x, 2.0 * x]), 'b': x}\njax.tree_util.tree_leaves(p, is_leaf=lambda n: isinstance(n, list))[1][1]",
     lambda x: 2.0 * x),
    ("jax.tree_util.tree_map(lambda t: t[0] * t[1], {'a': (x, jnp.sin(x)), 'b': (x, x)}, "
     "is_leaf=lambda n: isinstance(n, tuple))['a']", lambda x: x * np.sin(x)),
    ("jax.tree_util.tree_leaves([{'a': x}, (x, x)], is_leaf=lambda n: isinstance(n, dict))[0]['a'] * 2.0",
     lambda x: 2.0 * x),
    ("p = {'a': (x, 2.0 * x), 'b': x}\n"
     "len(jax.tree_util.tree_leaves(p, is_leaf=lambda n: n is not None and isinstance(n, (tuple, list)))) * x",
     lambda x: 2.0 * x),
]


@pytest.mark.parametrize("text,expected", IS_LEAF, ids=[t.split("\n")[-1][-40:] for t, _ in IS_LEAF])
def test_is_leaf_predicates_of_the_structure_are_read(text, expected):
    np.testing.assert_allclose(_checked(text, {"x": X}), expected(X), rtol=1e-12)


def test_isinstance_of_a_sequence_jac_did_not_see_written_is_refused_unless_both_are_asked():
    text = "p = {'a': (x, torch.split(x, 1)), 'b': x}\njax.tree_util.tree_leaves(p, is_leaf=lambda n: isinstance(n, "
    with pytest.raises(JacError, match=r"write isinstance\(n, \(tuple, list\)\)"):
        api.evaluate(text + "list))[1][1]", {"x": X})
    np.testing.assert_allclose(api.evaluate(text + "(tuple, list)))[1][1]", {"x": X}), X[1:2])


# 7. an @torch.inference_mode() result saved for backward is refused where PyTorch raises (parity in
# tests/test_parity_odds27.py); @torch.no_grad()'s is a constant of the derivative, as before
INFERENCE = "@torch.inference_mode()\ndef f(t):\n    return torch.sin(t)\n"


@pytest.mark.parametrize("use", ["f(x) * x", "y = f(x)\nz = y.reshape(3, 1)\n(z.t() @ x[:, None]).sum()",
                                 "torch.dot(f(x), x)", "F.mse_loss(f(x), x)"])
def test_an_inference_result_saved_for_backward_is_refused_where_it_is_used(use):
    text = INFERENCE + use
    with pytest.raises(JacError, match="Inference tensors cannot be saved for backward") as info:
        api.evaluate(text, {"x": X})
    assert text[info.value.position:].startswith(("*", "@", "dot", "mse_loss")), text[info.value.position:]


@pytest.mark.parametrize("use,expected", [
    ("f(x) + x", lambda x: np.sin(x) + x), ("x - f(x) * 2.0", lambda x: x - 2.0 * np.sin(x)),
    ("f(x).clone() * x", lambda x: np.sin(x) * x), ("torch.cat([f(x), x])", lambda x: np.concatenate([np.sin(x), x])),
    ("torch.where(f(x) > 0, f(x), x)", lambda x: np.where(np.sin(x) > 0, np.sin(x), x)),
    ("f(x).exp() * x", lambda x: np.exp(np.sin(x)) * x)])
def test_an_inference_result_is_answered_where_pytorch_saves_nothing_of_it(use, expected):
    # the values only: f(x) is a constant of the derivative, which central differences of the value do not see
    # (tests/test_parity_odds27.py checks the Jacobians against PyTorch's)
    np.testing.assert_allclose(api.evaluate(INFERENCE + use, {"x": X}), expected(X), rtol=1e-12)


def test_a_no_grad_result_is_a_constant_of_the_derivative_as_before():
    text = "@torch.no_grad()\ndef f(t):\n    return torch.sin(t)\nf(x) * x"
    np.testing.assert_allclose(api.jacobian(text, {"x": X})["x"], np.diag(np.sin(X)), rtol=1e-12)


# 5. x.at[idx] with an index out of bounds: JAX's mode= (tests/test_parity_odds27.py runs them by JAX)
I = "jnp.array([0, 5, -1, -4])"
W4 = np.array([10.0, 20.0, 30.0, 40.0])
AT = [
    (f"x.at[{I}].get(mode='fill', fill_value=9.0) * x[0]", lambda x, w: np.array([x[0], 9.0, x[2], 9.0]) * x[0]),
    (f"x.at[{I}].get(mode='clip') * w", lambda x, w: x[[0, 2, 2, 0]] * w),
    (f"x.at[{I}].set(w, mode='drop')", lambda x, w: np.array([w[0], x[1], w[2]])),
    (f"x.at[{I}].add(w * x[1])", lambda x, w: x + np.array([w[0], 0.0, w[2]]) * x[1]),
    (f"x.at[{I}].add(w, mode='clip')", lambda x, w: x + np.array([w[0] + w[3], 0.0, w[1] + w[2]])),
    (f"x.at[{I}].multiply(w, mode='fill')", lambda x, w: x * np.array([w[0], 1.0, w[2]])),
    ("x.at[7].set(w[0], mode='clip')", lambda x, w: np.array([x[0], x[1], w[0]])),
    ("x.at[5].max(w[0], mode='drop') * w[1]", lambda x, w: x * w[1]),
]


@pytest.mark.parametrize("text,expected", AT, ids=[t for t, _ in AT])
def test_an_index_out_of_bounds_is_read_by_jaxs_mode(text, expected):
    np.testing.assert_allclose(_checked("import jax.numpy as jnp\n" + text, {"x": X, "w": W4}), expected(X, W4),
                               rtol=1e-12)


@pytest.mark.parametrize("text,words", [
    (f"x.at[{I}].get()", "write mode='clip'"), ("x.at[jnp.array([5])].get() * x", "gives it no derivative"),
    (f"x.at[{I}].get(mode='promise_in_bounds')", "promises JAX in-bounds indices"),
    (f"x.at[{I}].add(w, mode='promise_in_bounds')", "promises JAX in-bounds indices"),
    (f"x.at[{I}].set(w, mode='clip')", "JAX leaves which one wins undefined"),
    (f"x.at[{I}].get(mode='fill', fill_value=x[0])", "fill_value"),
    (f"x.at[{I}].get(mode='wrap')", "mode must be one of JAX's"),
    ("x[jnp.array([5])]", "out of bounds"),
])
def test_what_jax_leaves_undefined_out_of_bounds_is_refused(text, words):
    with pytest.raises(JacError, match=words.replace("(", r"\(").replace(")", r"\)")):
        api.evaluate("import jax.numpy as jnp\n" + text, {"x": X, "w": W4})


# 6. np.apply_along_axis / np.apply_over_axes: the function written out per slice / per axis, as NumPy's loops
A234 = np.random.default_rng(27).standard_normal((2, 3, 4))
ALONG = [
    ("np.apply_along_axis(lambda r: r * r.sum(), 1, A)", lambda A: np.apply_along_axis(lambda r: r * r.sum(), 1, A)),
    ("np.apply_along_axis(np.sum, 0, A)", lambda A: np.sum(A, axis=0)),
    ("np.apply_along_axis(np.sort, -1, A)", lambda A: np.sort(A, axis=-1)),
    ("np.apply_along_axis(lambda r: np.outer(r, r), 0, A)",
     lambda A: np.apply_along_axis(lambda r: np.outer(r, r), 0, A)),
    ("def f(r, s):\n    return r[:2] * s\nnp.apply_along_axis(f, 2, A, 3.0)", lambda A: A[:, :, :2] * 3.0),
    ("np.apply_over_axes(np.sum, A, [0, 2])", lambda A: A.sum(axis=(0, 2), keepdims=True)),
    ("np.apply_over_axes(np.max, A, 1)", lambda A: A.max(axis=1, keepdims=True)),
    ("np.apply_over_axes(lambda a, k: np.cumsum(a, axis=k), A, (0, 1))", lambda A: A.cumsum(0).cumsum(1)),
]


@pytest.mark.parametrize("text,expected", ALONG, ids=[t.split("\n")[-1] for t, _ in ALONG])
def test_apply_along_and_over_axes_are_numpys_loops(text, expected):
    ours = _checked(text, {"A": A234})
    assert ours.shape == expected(A234).shape
    np.testing.assert_allclose(ours, expected(A234), rtol=1e-13)


@pytest.mark.parametrize("text,words", [
    ("np.apply_along_axis(np.sum, 3, A)", "axis 3 is out of bounds"),
    ("np.apply_along_axis(lambda r: (r, r), 0, A)", "returns one array"),
    ("np.apply_over_axes(lambda a, k: a.reshape(-1), A, 0)", "of a's rank or one fewer"),
    ("np.apply_over_axes(np.sum, A, k)", "axes is an int or a tuple of ints written in the text"),
    ("jnp.apply_over_axes(jnp.sum, A, 1)", "JAX iterates it"),
])
def test_apply_along_and_over_axes_refuse_what_numpy_refuses(text, words):
    with pytest.raises(JacError, match=words):
        api.evaluate("k = 1\n" + text, {"A": A234})


# 6. torch.unique_consecutive: constants read off the values, as torch.unique (PyTorch's answers checked in
# tests/test_parity_odds27.py)
X24 = np.array([2.0, 2.0, 1.0, 1.0, 1.0, 3.0, 2.0, 2.0]).reshape(2, 4)


@pytest.mark.parametrize("text,expected", [
    ("torch.unique_consecutive(x.detach())", [2.0, 1.0, 3.0, 2.0]),
    ("torch.unique_consecutive(x.detach(), return_counts=True)[1] * 1.0", [2.0, 3.0, 1.0, 2.0]),
    ("torch.unique_consecutive(x.detach(), return_inverse=True, return_counts=True)[1] * 1.0",
     [[0.0, 0.0, 1.0, 1.0], [1.0, 2.0, 3.0, 3.0]]),
    ("v, i = torch.unique_consecutive(x.detach(), return_inverse=True)\nx * v[i]", (X24 * X24).tolist()),
    ("torch.unique_consecutive(torch.tensor([1.0, 1.0, float('nan'), float('nan'), -0.0, 0.0, 2.0, 1.0]))",
     [1.0, np.nan, np.nan, -0.0, 2.0, 1.0]),
])
def test_unique_consecutive_is_pytorchs(text, expected):
    ours = api.evaluate(text, {"x": X24})
    np.testing.assert_array_equal(ours, expected)
    assert np.signbit(ours).tolist() == np.signbit(np.asarray(expected)).tolist()


def test_unique_consecutive_of_a_differentiated_input_is_refused_as_unique_is():
    with pytest.raises(JacError, match="unique_consecutive of an array that depends on the input 'x'"):
        api.evaluate("torch.unique_consecutive(x)", {"x": X24})


def test_native_layer_norm_is_layer_norm_with_its_statistics_detached():
    x = np.random.default_rng(5).standard_normal((2, 4))
    text = "o, m, r = torch.native_layer_norm(x, [4], None, None, 1e-5)\n"
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    np.testing.assert_allclose(api.evaluate(text + "o", {"x": x}), (x - mean) / np.sqrt(var + 1e-5), rtol=1e-12)
    np.testing.assert_allclose(api.evaluate(text + "m", {"x": x}), mean, rtol=1e-12)
    np.testing.assert_allclose(api.evaluate(text + "r", {"x": x}), 1 / np.sqrt(var + 1e-5), rtol=1e-12)
    np.testing.assert_array_equal(api.jacobian(text + "r * 1.0", {"x": x})["x"], 0.0)
