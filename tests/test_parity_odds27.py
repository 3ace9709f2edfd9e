"""Parity for session 27's NumPy / PyTorch leftovers (branch h27-odds): each text run by JAX itself (float64, in a
process of its own: test_jax16's ``jax_process``) or by PyTorch itself, and jac's value and Jacobian compared with
the library's."""

import numpy as np
import pytest

from test_jax16 import assert_agrees_with_jax, jax_process  # noqa: F401 - the fixture is used by name
from test_parity_grad24 import assert_agrees_with_pytorch, torch64  # noqa: F401 - the fixture is used by name

rng = np.random.default_rng(2727)
X3, V3 = rng.standard_normal(3), rng.standard_normal(3)
F2 = "def f(p):\n    return jnp.sum(p[0] * x + jnp.sin(p[1]) ** 2)\n"

# 1. a list display of constant arrays is a list of leaves to JAX and torch.func, not one stacked array
JAX_TEXTS = [
    (F2 + "jax.jvp(f, ([jnp.ones(3), 2.0 * jnp.ones(3)],), ([v, jnp.ones(3)],))[1]", {"x": X3, "v": V3}),
    (F2 + "p = [jnp.ones(3), jnp.array([1.0, 2.0, 3.0])]\njax.jvp(f, (p,), (p,))[1] * x", {"x": X3}),
    (F2 + "y, g = jax.linearize(f, [jnp.ones(3), jnp.zeros(3)])\ng([v, jnp.ones(3)])", {"x": X3, "v": V3}),
    (F2 + "p = [jnp.ones(3), jnp.array([1.0, 2.0, 3.0])]\ny, g = jax.vjp(f, p)\ng(1.0)[0][1] * x", {"x": X3}),
    (F2 + "jax.grad(f)([jnp.ones(3), jnp.array([1.0, 2.0, 3.0])])[1] * x", {"x": X3}),
    ("y, g = jax.vjp(lambda p: [p * x, jnp.sin(p)], jnp.ones(3))\ng([jnp.ones(3), 2.0 * jnp.ones(3)])[0]",
     {"x": X3}),
    ("y, g = jax.vjp(lambda p: {'a': p * x, 'b': [p, p ** 2]}, v)\n"
     "g({'a': jnp.ones(3), 'b': [jnp.ones(3), jnp.array([1.0, 2.0, 3.0])]})[0]", {"x": X3, "v": V3}),
    ("p = [jnp.ones(3), 2.0 * jnp.ones(3)]\njax.tree_util.tree_map(lambda t: t.sum(), p)[1] * x", {"x": X3}),
    ("c = (jnp.ones(3),)\njax.jvp(jnp.sin, (x,), c)[1]", {"x": X3}),
    # 4. is_leaf predicates of the structure
    ("p = {'a': (x, 2.0 * x), 'b': x}\njax.tree_util.tree_leaves(p, is_leaf=lambda n: isinstance(n, tuple))[0][1]",
     {"x": X3}),
    ("p = {'a': (x, x), 'b': None}\nlen(jax.tree_util.tree_leaves(p, is_leaf=lambda n: n is None)) * x", {"x": X3}),
    ("p = {'a': (x, x), 'b': None}\n"
     "jax.tree_util.tree_map(lambda n: 0.0 if n is None else n * 2, p, is_leaf=lambda n: n is None)['a'][1]",
     {"x": X3}),
    ("p = {'a': (x, [x, 2.0 * x]), 'b': x}\njax.tree_util.tree_leaves(p, is_leaf=lambda n: isinstance(n, list))[1][1]",
     {"x": X3}),
    ("jax.tree_util.tree_map(lambda t: t[0] * t[1], {'a': (x, jnp.sin(x)), 'b': (x, x)}, "
     "is_leaf=lambda n: isinstance(n, tuple))['a']", {"x": X3}),
    ("jax.tree_util.tree_leaves([{'a': x}, (x, x)], is_leaf=lambda n: isinstance(n, dict))[0]['a'] * 2.0", {"x": X3}),
]


@pytest.mark.parametrize("code,inputs", JAX_TEXTS, ids=[" ".join(c.split())[-40:] for c, _ in JAX_TEXTS])
def test_jax_runs_the_same_text(jax_process, code, inputs):  # noqa: F811 - the fixture
    assert_agrees_with_jax(jax_process, code, inputs)


TORCH_TEXTS = [
    ("def f(p):\n    return (p[0] * x + torch.sin(p[1]) ** 2).sum()\n"
     "torch.func.jvp(f, ([torch.ones(3), 2.0 * torch.ones(3)],), ([v, torch.ones(3)],))[1]", {"x": X3, "v": V3}),
    ("y, g = torch.func.vjp(lambda p: [p * x, torch.sin(p)], torch.ones(3))\n"
     "g([torch.ones(3), 2.0 * torch.ones(3)])[0]", {"x": X3}),
    ("def f(p):\n    return (p[0] * x + torch.sin(p[1]) ** 2).sum()\n"
     "torch.func.grad(f)([torch.ones(3), torch.tensor([1.0, 2.0, 3.0])])[1] * x", {"x": X3}),
]


@pytest.mark.parametrize("code,inputs", TORCH_TEXTS, ids=[" ".join(c.split())[-40:] for c, _ in TORCH_TEXTS])
def test_pytorch_runs_the_same_text(torch64, code, inputs):  # noqa: F811 - the fixture
    assert_agrees_with_pytorch(torch64, code, inputs)


# 7. @torch.inference_mode(): PyTorch raises where an inference tensor would be saved for backward, jac refuses there
INFERENCE = "@torch.inference_mode()\ndef f(t):\n    return torch.sin(t)\na = f(x)\n"
INFERENCE_USES = ["a * x", "x * a", "a + x", "x - a", "x / a", "a / x", "a @ W", "W @ a", "torch.where(a > 0, a, x)",
                  "torch.cat([a, x])", "torch.stack([a, x])", "torch.maximum(a, x)", "a ** x", "x ** a", "a[0] * x",
                  "(a * 2) * x", "a.sum() * x", "F.mse_loss(a, x)", "torch.dot(a, x)", "a * a", "torch.sin(a)",
                  "a.clone() * x", "a.view(3) * x", "a.detach() * x", "x + a * 2", "torch.addcmul(x, a, x)",
                  "torch.atan2(x, a)", "a.reshape(1, 3) @ W", "x.sum() * a", "a * x.sum()", "a.exp() * x",
                  "x * a.unsqueeze(0)", "a.reshape(3, 1).t() * x", "torch.clamp(x, min=a)", "F.linear(a, W)",
                  "a[[0, 1]] * x[:2]", "torch.add(a, x, alpha=2.0)", "torch.sub(x, a)", "a.clone().detach() * x"]
JAC_ALONE_REFUSES = {"torch.lerp(x, a, 0.5)"}  # saves nothing with a Python weight; jac refuses lerp, to be safe


@pytest.mark.parametrize("use", INFERENCE_USES + sorted(JAC_ALONE_REFUSES))
def test_an_inference_tensor_is_refused_where_pytorch_raises(torch64, use):  # noqa: F811 - the fixture
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api
    from test_parity_grad24 import _torch_function

    torch = torch64
    inputs = {"x": X3, "W": rng.standard_normal((3, 3))}
    f = _torch_function(torch, INFERENCE + use, list(inputs))
    try:
        out = f(*(torch.tensor(v, requires_grad=True) for v in inputs.values()))
        if out.requires_grad:
            out.sum().backward()
        raises = False
    except RuntimeError as error:
        assert "Inference tensors cannot be saved for backward" in str(error)
        raises = True
    if raises or use in JAC_ALONE_REFUSES:
        with pytest.raises(JacError, match="PyTorch saves it for backward"):
            api.evaluate(INFERENCE + use, inputs)
    else:
        assert_agrees_with_pytorch(torch, INFERENCE + use, inputs)


# 5. x.at[idx] with an index out of bounds, by mode=, as JAX reads it
I = "jnp.array([0, 5, -1, -4])"
AT_TEXTS = [f"x.at[{I}].get(mode='fill', fill_value=9.0)", f"x.at[{I}].get(mode='fill')",
            f"x.at[{I}].get(mode='clip')", f"x.at[{I}].get(mode='drop')", f"x.at[{I}].set(v, mode='drop')",
            f"x.at[{I}].set(v)", f"x.at[{I}].add(v)", f"x.at[{I}].add(v, mode='clip')",
            "x.at[5].get(mode='fill', fill_value=2.0) * x", "x.at[5].add(3.0) * v[:3]",
            "x.at[7].set(v[0], mode='clip')",
            "A.at[jnp.array([0, 3]), 1].get(mode='fill', fill_value=-1.0)",
            "A.at[1, jnp.array([0, 3])].set(v[:2], mode='drop')", "A.at[3, 1:].get(mode='fill', fill_value=-1.0)",
            "A.at[jnp.array([[0, 2], [1, 5]]), :].get(mode='fill', fill_value=0.5)",
            "A.at[jnp.array([0, 2]), jnp.array([1, 7])].add(x[:2] * 2.0, mode='drop')",
            "A.at[-3, 0].get(mode='fill', fill_value=4.0) * x"]


@pytest.mark.parametrize("code", AT_TEXTS)
def test_an_index_out_of_bounds_is_read_by_mode_as_jax_reads_it(jax_process, code):  # noqa: F811 - the fixture
    assert_agrees_with_jax(jax_process, code, {"x": X3, "v": rng.standard_normal(4), "A": rng.standard_normal((2, 3))})


def _jax_value(code: str, inputs: dict):
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    return np.asarray(eval(code, {"jnp": jnp, **{k: jnp.asarray(v) for k, v in inputs.items()}}))  # noqa: S307


def _jax_gradient_of_first(code: str, inputs: dict):
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def f(t):
        return jnp.sum(eval(code, {"jnp": jnp, "x": t}))  # noqa: S307 - the test's own text

    return np.asarray(jax.grad(f)(jnp.asarray(inputs["x"])))


def test_jaxs_default_get_out_of_bounds_clamps_the_value_and_drops_the_derivative(jax_process):  # noqa: F811
    """Why jac refuses .get() of an index out of bounds without mode=: JAX's value is x clamped, its gradient 0
    there, which is no derivative of that value."""
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api

    code, inputs = f"x.at[{I}].get()", {"x": X3}
    np.testing.assert_array_equal(jax_process.submit(_jax_value, code, inputs).result(), X3[[0, 2, 2, 0]])
    np.testing.assert_array_equal(jax_process.submit(_jax_gradient_of_first, code, inputs).result(), [1.0, 0.0, 1.0])
    with pytest.raises(JacError, match="write mode='clip'"):
        api.evaluate(code, inputs)


@pytest.mark.parametrize("code", ["x.at[5].get()", "x.at[-5].get() * x", "x.at[jnp.array(4)].get()",
                                  "x.at[1:, 7].get()", "x.at[5, :2].get()"])
def test_jaxs_default_get_of_integers_out_of_bounds_clamps_with_the_derivative(jax_process, code):  # noqa: F811
    """Of integers and slices alone JAX slices dynamically: clamped, with the derivative (session 29: jac read it)."""
    from jacobi_cli.tools import api

    inputs = {"x": X3 if "1:" not in code and ", :2" not in code else np.arange(6.0).reshape(2, 3)}
    np.testing.assert_allclose(api.evaluate(code, inputs), jax_process.submit(_jax_value, code, inputs).result(),
                               rtol=1e-15)
    np.testing.assert_allclose(api.jacobian("(" + code + ").sum()", inputs)["x"],
                               jax_process.submit(_jax_gradient_of_first, code, inputs).result(), rtol=1e-15)


# 6. jnp.apply_along_axis / jnp.apply_over_axes, run by JAX
ALONG_TEXTS = ["jnp.apply_along_axis(lambda r: r * r.sum(), 1, A)", "jnp.apply_along_axis(jnp.sum, 0, A)",
               "jnp.apply_along_axis(lambda r: jnp.outer(r, jnp.sin(r)), 0, A)",
               "jnp.apply_over_axes(jnp.sum, A, [0, 2])", "jnp.apply_over_axes(jnp.max, A, [1])"]


@pytest.mark.parametrize("code", ALONG_TEXTS)
def test_apply_along_and_over_axes_are_jaxs(jax_process, code):  # noqa: F811 - the fixture
    assert_agrees_with_jax(jax_process, code, {"A": rng.standard_normal((2, 3, 4))})


UNIQUE_TEXTS = ["v, i = torch.unique_consecutive(x.detach(), return_inverse=True)\nx * v[i]",
                "v, i, c = torch.unique_consecutive(x.detach(), return_inverse=True, return_counts=True)\n"
                "x * c[i] + v[i]"]


@pytest.mark.parametrize("code", UNIQUE_TEXTS)
def test_unique_consecutive_is_pytorchs(torch64, code):  # noqa: F811 - the fixture
    assert_agrees_with_pytorch(torch64, code, {"x": np.array([[2.0, 2.0, 1.0, 1.0], [1.0, 3.0, 2.0, 2.0]])})


# 6. torch.native_layer_norm, aten's spelling: (output, mean, rstd), the last two without a derivative
NATIVE_TEXTS = ["o, m, r = torch.native_layer_norm(x, [4], None, None, 1e-5)\no * r + m",
                "o, m, r = torch.native_layer_norm(x, [3, 4], w, b, 1e-3)\no * 2.0 + r.sum() * m",
                "torch.native_layer_norm(x, (4,), w[0], None, 1e-5)[0]"]


@pytest.mark.parametrize("code", NATIVE_TEXTS)
def test_native_layer_norm_is_pytorchs(torch64, code):  # noqa: F811 - the fixture
    inputs = {"x": rng.standard_normal((2, 3, 4))}
    if "w" in code:
        inputs |= {"w": rng.standard_normal((3, 4)), "b": rng.standard_normal((3, 4))}
    assert_agrees_with_pytorch(torch64, code, inputs)
