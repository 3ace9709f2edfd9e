"""vmap and JAX's loops written in the text (lang/vmapping.py): ``jax.vmap(f, in_axes)(x)``, ``torch.func.vmap``,
``jax.lax.map / scan / fori_loop / cond / switch``, and the wrappers read as their function (``jax.jit``,
``jax.checkpoint``, ``torch.compile``, ``torch.utils.checkpoint.checkpoint``). Expected values with NumPy formulas,
Jacobians against central differences of jac's own values; tests/test_parity_vmap25.py runs the same texts under
JAX and PyTorch."""

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app

from jacobi_cli.errors import JacLimitError, JacParseError, JacShapeError, JacValueError
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian

rng = np.random.default_rng(25)
X = rng.standard_normal(3)
W = rng.standard_normal(3)
XS = rng.standard_normal((4, 3))


def _checked(text, bindings):
    """jac's value, with its Jacobian by every input checked against central differences of the value."""
    value = api.evaluate(text, bindings)
    jacobians = api.jacobian(text, bindings)
    for name, x in bindings.items():
        x = np.asarray(x, dtype=float)
        want = central_jacobian(lambda v: api.evaluate(text, {**bindings, name: v}), x)
        np.testing.assert_allclose(jacobians[name], want, rtol=1e-6, atol=1e-7, err_msg=name)
    return value


def test_per_example_gradients_with_in_axes_none_and_zero():
    text = "jax.vmap(jax.grad(lambda w, xi: jnp.sum(jnp.tanh(w * xi))), in_axes=(None, 0))(w, X)"
    value = _checked(text, {"w": W, "X": XS})
    np.testing.assert_allclose(value, XS * (1 - np.tanh(W * XS) ** 2), rtol=1e-12)
    torch_text = "torch.func.vmap(torch.func.grad(lambda w, xi: torch.tanh(w * xi).sum()), in_dims=(None, 0))(w, X)"
    np.testing.assert_array_equal(api.evaluate(torch_text, {"w": W, "X": XS}), value)
    np.testing.assert_array_equal(api.evaluate(torch_text.replace("torch.func.vmap", "torch.vmap"),
                                               {"w": W, "X": XS}), value)


def test_a_reduction_is_per_example_not_over_the_batch():
    value = _checked("jax.vmap(jnp.sum)(X)", {"X": XS})
    np.testing.assert_allclose(value, XS.sum(axis=1), rtol=1e-12)
    value = _checked("jax.vmap(lambda r: r / jnp.linalg.norm(r))(X)", {"X": XS})
    np.testing.assert_allclose(value, XS / np.linalg.norm(XS, axis=1, keepdims=True), rtol=1e-12)


def test_in_axes_one_negative_list_and_out_axes():
    value = _checked("jax.vmap(lambda c: jnp.sum(c ** 2), in_axes=1)(X)", {"X": XS})
    np.testing.assert_allclose(value, (XS ** 2).sum(axis=0), rtol=1e-12)
    value = _checked("jax.vmap(lambda c, w: c * w, in_axes=[-1, None])(X, w)", {"X": XS.T, "w": W[:1].repeat(3)[:1]})
    np.testing.assert_allclose(value, XS * W[0], rtol=1e-12)
    value = _checked("jax.vmap(lambda r: jnp.sin(r), out_axes=1)(X)", {"X": XS})
    np.testing.assert_allclose(value, np.sin(XS).T, rtol=1e-12)
    value = _checked("torch.func.vmap(lambda r: torch.exp(r), out_dims=-1)(X)", {"X": XS})
    np.testing.assert_allclose(value, np.exp(XS).T, rtol=1e-12)


def test_tuple_outputs_and_tuple_arguments():
    text = "a, b = jax.vmap(lambda r: (jnp.sum(r), r * 2), out_axes=(0, 1))(X)\nb + a"
    value = _checked(text, {"X": XS})
    np.testing.assert_allclose(value, 2 * XS.T + XS.sum(axis=1), rtol=1e-12)
    text = "jax.vmap(lambda p: p[0] * p[1], in_axes=((0, None),))((X, w))"
    value = _checked(text, {"X": XS, "w": W})
    np.testing.assert_allclose(value, XS * W, rtol=1e-12)


def test_nested_vmap_is_an_outer_product_and_composes_with_jacrev():
    value = _checked("jax.vmap(jax.vmap(lambda a, b: a * b, in_axes=(None, 0)), in_axes=(0, None))(x, w)",
                     {"x": X, "w": W})
    np.testing.assert_allclose(value, np.outer(X, W), rtol=1e-12)
    value = _checked("jax.jacrev(jax.vmap(lambda r: jnp.sum(jnp.sin(r) * r)))(X)", {"X": XS})
    expected = np.zeros((4, 4, 3))
    for i in range(4):
        expected[i, i] = np.cos(XS[i]) * XS[i] + np.sin(XS[i])
    np.testing.assert_allclose(value, expected, rtol=1e-12)


def test_a_named_vmap_and_a_def():
    text = "def f(r):\n    u = r * w\n    return jnp.sum(u ** 2)\ng = jax.vmap(f)\ng(X) + g(2 * X)"
    value = _checked(text, {"X": XS, "w": W})
    np.testing.assert_allclose(value, 5 * ((XS * W) ** 2).sum(axis=1), rtol=1e-12)


def test_vmap_refuses_as_the_libraries_refuse():
    with pytest.raises(JacShapeError, match="different sizes"):
        api.evaluate("jax.vmap(lambda a, b: a * b)(x, X)", {"x": X, "X": XS})
    with pytest.raises(JacValueError, match="no argument is mapped"):
        api.evaluate("jax.vmap(lambda a: a, in_axes=None)(x)", {"x": X})
    with pytest.raises(JacShapeError, match="does not have"):
        api.evaluate("jax.vmap(lambda a: a, in_axes=1)(x)", {"x": X})
    with pytest.raises(JacValueError, match="2 entries for a call with 1"):
        api.evaluate("jax.vmap(lambda a: a, in_axes=(0, 0))(x)", {"x": X})
    with pytest.raises(JacValueError, match="not a list"):
        api.evaluate("torch.func.vmap(lambda a: a, in_dims=[0])(x)", {"x": X})
    with pytest.raises(JacValueError, match="by position"):
        api.evaluate("jax.vmap(lambda a, b: a * b)(x, b=w)", {"x": X, "w": W})
    with pytest.raises(JacValueError, match="out_axes=None"):
        api.evaluate("jax.vmap(lambda a: a, out_axes=None)(x)", {"x": X})


def test_a_batch_too_large_to_write_out_points_at_batch():
    with pytest.raises(JacLimitError, match=r"batch=\[NAME\]"):
        api.evaluate("jax.vmap(jnp.sum)(X)", {"X": np.zeros((10_001, 1))})
    with pytest.raises(JacLimitError, match="10,000"):  # nested: 200 * 100 calls
        api.evaluate("jax.vmap(jax.vmap(lambda a: a * 2))(X)", {"X": np.zeros((200, 100))})
    result = CliRunner().invoke(app, ["shape", "jax.vmap(jnp.sum)(X)", "X:nx3"])
    assert result.exit_code == 2 and "symbolic size n" in result.output and "--batch" in result.output


def test_lax_map_is_f_of_each_row():
    value = _checked("jax.lax.map(jnp.sum, X)", {"X": XS})
    np.testing.assert_allclose(value, XS.sum(axis=1), rtol=1e-12)
    value = _checked("lax.map(lambda p: p[0] * p[1], (X, 2 * X))", {"X": XS})
    np.testing.assert_allclose(value, 2 * XS ** 2, rtol=1e-12)


def test_scan_forward_and_reverse():
    text = "def step(c, v):\n    return c * 0.5 + v, jnp.sin(c) * v\nc, ys = jax.lax.scan(step, 0.0, x)\nc + ys.sum()"
    value = _checked(text, {"x": X})
    c, ys = 0.0, []
    for v in X:
        ys.append(np.sin(c) * v)
        c = c * 0.5 + v
    assert value == pytest.approx(c + sum(ys), rel=1e-12)
    text = "c, ys = jax.lax.scan(lambda c, v: (c * 0.5 + v, c * v), 1.0, x, reverse=True)\nys"
    value = _checked(text, {"x": X})
    c, ys = 1.0, [0.0] * 3
    for i in (2, 1, 0):
        ys[i] = c * X[i]
        c = c * 0.5 + X[i]
    np.testing.assert_allclose(value, ys, rtol=1e-12)


def test_scan_of_a_tuple_carry_rows_and_no_xs():
    text = ("def step(carry, r):\n    h, s = carry\n    h = jnp.tanh(W @ h + r)\n    return (h, s + h.sum()), h\n"
            "(h, s), hs = lax.scan(step, (h0, 0.0), X)\ns + hs.sum()")
    value = _checked(text, {"W": np.eye(3) * 0.5 + 0.1, "X": XS, "h0": W})
    h, s, total = W, 0.0, 0.0
    for r in XS:
        h = np.tanh((np.eye(3) * 0.5 + 0.1) @ h + r)
        s, total = s + h.sum(), total + h.sum()
    assert value == pytest.approx(s + total, rel=1e-12)
    value = _checked("c, _ = jax.lax.scan(lambda c, _: (jnp.sin(c), None), x, None, length=3)\nc", {"x": X})
    np.testing.assert_allclose(value, np.sin(np.sin(np.sin(X))), rtol=1e-12)


def test_scan_and_fori_loop_refuse_a_carry_that_changes_shape():
    with pytest.raises(JacShapeError, match="keep its shape"):
        api.evaluate("jax.lax.scan(lambda c, v: (c * v, v), 0.0, X)[1]", {"X": XS})
    with pytest.raises(JacShapeError, match="keep its shape"):
        api.evaluate("jax.lax.fori_loop(0, 2, lambda i, v: jnp.stack([v, v]), x)", {"x": X})
    with pytest.raises(JacShapeError, match="differ"):
        api.evaluate("jax.lax.scan(lambda c, v: (c, v), 0.0, x, length=5)[1]", {"x": X})


def test_fori_loop_passes_the_index():
    value = _checked("jax.lax.fori_loop(0, 3, lambda i, v: jnp.sin(v), x).sum()", {"x": X})
    assert value == pytest.approx(np.sin(np.sin(np.sin(X))).sum(), rel=1e-12)
    value = _checked("jax.lax.fori_loop(1, 4, lambda i, v: v * i + x, x)", {"x": X})
    v = X.copy()
    for i in range(1, 4):
        v = v * i + X
    np.testing.assert_allclose(value, v, rtol=1e-12)
    np.testing.assert_array_equal(api.evaluate("jax.lax.fori_loop(3, 0, lambda i, v: v * 2, x)", {"x": X}), X)
    with pytest.raises(JacValueError, match="constant"):
        api.evaluate("jax.lax.fori_loop(0, x.sum(), lambda i, v: v, x)", {"x": X})


def test_cond_and_switch_known_at_parse_time():
    value = _checked("jax.lax.cond(True, lambda v: v ** 2, lambda v: v, x)", {"x": X})
    np.testing.assert_allclose(value, X ** 2)
    value = _checked("jax.lax.cond(x.ndim == 2, lambda v: v ** 2, lambda v: jnp.sin(v), x)", {"x": X})
    np.testing.assert_allclose(value, np.sin(X))
    value = _checked("jax.lax.switch(5, [lambda v: v, lambda v: v * 3], x)", {"x": X})  # clamped, as JAX
    np.testing.assert_allclose(value, 3 * X)
    value = _checked("jax.lax.switch(-1, [jnp.sin, jnp.cos], x)", {"x": X})
    np.testing.assert_allclose(value, np.sin(X))


def test_cond_on_values_takes_the_branch_the_values_choose():  # refused before session 33 (tests/test_cond33.py)
    value = _checked("jax.lax.cond(x.sum() > 0, lambda v: v ** 2, lambda v: v, x)", {"x": X})
    np.testing.assert_allclose(value, X ** 2 if X.sum() > 0 else X, rtol=1e-15)
    with pytest.raises(JacShapeError, match="branch 1"):  # JAX traces both branches and compares them
        api.evaluate("jax.lax.cond(True, lambda v: v, lambda v: v.sum(), x)", {"x": X})
    with pytest.raises(JacShapeError, match="branch 1"):  # with a predicate of the values too
        api.evaluate("jax.lax.cond(x.sum() > 0, lambda v: v, lambda v: v.sum(), x)", {"x": X})


def test_identity_wrappers_are_the_function():
    want = api.evaluate("jnp.sin(x) * w", {"x": X, "w": W})
    for text in ("jax.jit(lambda v: jnp.sin(v) * w)(x)", "jax.jit(lambda v: jnp.sin(v) * w, static_argnums=())(x)",
                 "jax.checkpoint(lambda v: jnp.sin(v) * w)(x)", "jax.remat(lambda v: jnp.sin(v) * w)(x)",
                 "jax.jit(jnp.sin)(x) * w", "torch.compile(torch.sin)(x) * w",
                 "torch.utils.checkpoint.checkpoint(lambda a, b: torch.sin(a) * b, x, w, use_reentrant=False)",
                 "f = jax.jit(lambda v: jnp.sin(v))\nf(x) * w"):
        np.testing.assert_array_equal(_checked(text, {"x": X, "w": W}), want, err_msg=text)


def test_a_tuple_of_numbers_per_example_is_refused_not_laid_out_as_an_array():
    # JAX stacks each number of r.shape into an array of its own (a tuple of arrays); jac holds a shape as an
    # array, which stacked would be (4, 1): read as JAX's tuple it was a silently different layout
    for text in ("jax.lax.map(jnp.shape, X)", "jax.vmap(lambda r: r.shape)(X)", "jax.vmap(lambda r: (r, r.shape))(X)",
                 "c, ys = jax.lax.scan(lambda c, r: (c + r.sum(), r.shape), 0.0, X)\nys"):
        with pytest.raises(JacValueError, match="tuple of numbers"):
            api.evaluate(text, {"X": XS})
    np.testing.assert_array_equal(api.evaluate("jax.vmap(lambda r: jnp.array(r.shape))(X)", {"X": XS}), [[3]] * 4)


def test_identity_wrappers_as_decorators():
    want = api.evaluate("torch.sin(x) * 2", {"x": X})
    for decorator in ("@torch.compile", "@torch.compile(mode='max-autotune')", "@jax.checkpoint", "@jax.remat"):
        text = f"import torch\n{decorator}\ndef f(v):\n    return torch.sin(v) * 2\nf(x)"
        np.testing.assert_array_equal(api.evaluate(text, {"x": X}), want, err_msg=decorator)
    # @jax.vmap changes what f computes: f = jax.vmap(f), as Python applies it (lang/decorators.py, test_deco26.py)
    np.testing.assert_array_equal(api.evaluate("import jax\n@jax.vmap\ndef f(v):\n    return jnp.sum(v)\nf(X)",
                                               {"X": XS}), XS.sum(axis=1))


def test_random_draws_inside_vmap_follow_torchs_randomness():
    with pytest.raises(JacValueError, match="randomness='different'"):  # PyTorch's default 'error' refuses them
        api.evaluate("torch.func.vmap(lambda r: r + torch.randn_like(r))(X)", {"X": XS})
    with pytest.raises(JacValueError, match="draws random values"):  # 'same': one draw for all, which jac does not
        api.evaluate("torch.func.vmap(lambda r: r + torch.randn(3), randomness='same')(X)", {"X": XS})
    value = api.evaluate("torch.func.vmap(lambda r: r * 0 + torch.randn(3), randomness='different')(X)", {"X": XS})
    assert value.shape == (4, 3) and len({tuple(row) for row in value}) == 4  # each example its own draw


def test_names_imported_from_their_modules():
    want = api.evaluate("jax.vmap(jax.grad(lambda w, xi: jnp.sum(w * xi) ** 2), in_axes=(None, 0))(w, X)",
                        {"w": W, "X": XS})
    for text in ("from torch.func import vmap, grad\nvmap(grad(lambda w, xi: (w * xi).sum() ** 2), in_dims=(None, 0))(w, X)",
                 "from jax import vmap, grad, jit\njit(vmap(grad(lambda w, xi: jnp.sum(w * xi) ** 2), in_axes=(None, 0)))(w, X)",
                 "from jax import vmap as v, grad as g\nv(g(lambda w, xi: jnp.sum(w * xi) ** 2), in_axes=(None, 0))(w, X)"):
        np.testing.assert_array_equal(_checked(text, {"w": W, "X": XS}), want, err_msg=text)
    value = _checked("from jax.lax import scan\nc, ys = scan(lambda c, v: (c * v, c), 1.0, x)\nys", {"x": X})
    np.testing.assert_allclose(value, [1.0, X[0], X[0] * X[1]], rtol=1e-15)
    with pytest.raises(JacParseError, match="from jax import vmap"):  # never imported: not JAX's vmap
        api.evaluate("vmap(jnp.sin)(x)", {"x": X})


@pytest.mark.parametrize("text", ["jax.vmap(lambda a: a)(x)", "torch.vmap(torch.sin)(x)", "jax.lax.map(jnp.sin, x)",
                                  "jax.lax.scan(lambda c, v: (c + v, c), 0.0, x)[1]"])
def test_a_mapped_axis_of_size_0_is_refused(text):
    # JAX traces f abstractly and stacks nothing into shape (0, ...); jac writes each call out and has none:
    # it was an IndexError (an internal error)
    with pytest.raises(JacShapeError, match="the mapped axis has size 0"):
        api.evaluate(text, {"x": np.zeros(0)})
    assert api.evaluate("jax.lax.fori_loop(0, 0, lambda i, v: v * 2, x)", {"x": np.ones(2)}).tolist() == [1.0, 1.0]
