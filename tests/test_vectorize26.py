"""np.vectorize / jnp.vectorize and torch.cond written in the text (lang/vmapping.py): f called on each element (or
each core block of a signature) of the broadcast arguments, and the branch a known predicate picks. Values against
NumPy / JAX / PyTorch themselves where they are installed, Jacobians against central differences of jac's own values
and against jax.jacrev / torch.autograd."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError, JacShapeError, JacValueError
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian
from jacobi_cli.tools.report import shape_report

rng = np.random.default_rng(26)
X, Y, A = rng.standard_normal(3), rng.standard_normal((2, 1)), rng.standard_normal((4, 3))


def _checked(text, bindings):
    value = api.evaluate(text, bindings)
    jacobians = api.jacobian(text, bindings)
    for name, x in bindings.items():
        want = central_jacobian(lambda v: api.evaluate(text, {**bindings, name: v}), np.asarray(x, dtype=float))
        np.testing.assert_allclose(jacobians[name], want, rtol=1e-6, atol=1e-7, err_msg=name)
    return value


@pytest.mark.parametrize("text, want", [
    ("np.vectorize(lambda a, b: a * np.sin(b) + b)(x, y)", lambda: X * np.sin(Y) + Y),
    ("f = np.vectorize(np.hypot)\nf(x, y)", lambda: np.hypot(X, Y)),
    ("np.vectorize(lambda a, k: a * k, excluded={1})(x, 3.0)", lambda: X * 3.0),
    ("from numpy import vectorize\nvectorize(lambda a: a ** 2, otypes=[float])(x)", lambda: X ** 2),
    ("jnp.vectorize(jnp.dot, signature='(n),(n)->()')(A, x)", lambda: A @ X),
    ("jnp.vectorize(lambda a: jnp.stack([a, 2 * a]))(x)", lambda: np.stack([X, 2 * X], axis=-1)),
    ("jnp.vectorize(lambda v: (v.sum(), v * 2), signature='(n)->(),(n)')(A)[1]", lambda: A * 2),
    ("np.vectorize(lambda r: np.linalg.norm(r), signature='(n)->()')(A)", lambda: np.linalg.norm(A, axis=1)),
])
def test_vectorize_calls_f_per_element_as_numpy_and_jax(text, want):
    bindings = {k: v for k, v in {"x": X, "y": Y, "A": A}.items() if k in text.replace("excluded", "")}
    np.testing.assert_allclose(_checked(text, bindings), want(), rtol=1e-12)


@pytest.mark.parametrize("text", [
    "np.vectorize(lambda a: a * np.sin(a))(x)",
    "jnp.vectorize(lambda a, b: jnp.tanh(a - b), signature='(n),()->(n)')(A, y[:, 0][:, None, None][0])",
])
def test_vectorize_agrees_with_jax_jacobians(text):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    bindings = {k: v for k, v in {"x": X, "y": Y, "A": A}.items() if k in text}
    fn = eval("lambda " + ", ".join(bindings) + ": " + text.replace("np.", "jnp.").replace("jjnp.", "jnp."),
              {"jnp": jnp, "jax": jax})
    want = jax.jacrev(fn, argnums=tuple(range(len(bindings))))(*bindings.values())
    got = api.jacobian(text, bindings)
    for name, w in zip(bindings, want):
        np.testing.assert_allclose(got[name], np.asarray(w), rtol=1e-12, atol=1e-14, err_msg=name)


@pytest.mark.parametrize("text, error, words", [
    ("np.vectorize(lambda a: np.stack([a, a]))(x)", JacShapeError, "one number per element"),
    ("np.vectorize(np.sin, otypes=[int])(x)", JacValueError, "float otypes only"),
    ("np.vectorize(np.sin, otypes='f')(x)", JacValueError, "rounds to float32"),
    ("np.vectorize(np.sin)(x[:0])", JacValueError, "empty array"),
    ("jnp.vectorize(lambda a: a if a > 0 else 0.0)(x)", JacValueError, "TracerBoolConversionError"),  # JAX's vmap
    ("np.vectorize(lambda a, b: a * b)(x, b=y)", JacValueError, "by position"),
    ("jnp.vectorize(jnp.dot, signature='(n),(n)->()')(A, y)", JacShapeError, "core dimension n"),
    ("jnp.vectorize(jnp.dot, signature='(n),(n)->')(A, x)", JacValueError, "not a gufunc signature"),
    ("np.vectorize(lambda a, b: a * b)(x, A.T)", JacShapeError, "do not broadcast"),
])
def test_vectorize_refusals_say_why(text, error, words):
    with pytest.raises(error, match=words):
        api.evaluate(text, {k: v for k, v in {"x": X, "y": Y, "A": A}.items() if k in text})


def test_torch_cond_calls_the_branch_pytorch_calls():
    # a Python predicate: only the chosen branch is called (PyTorch checks nothing of the other)
    np.testing.assert_allclose(_checked("torch.cond(True, lambda a: a.sin(), lambda a: a[:1], (x,))", {"x": X}),
                               np.sin(X), rtol=1e-15)
    np.testing.assert_allclose(_checked("torch.cond(2 > 3, lambda a, b: a * b, lambda a, b: a + b, [x, y])",
                                        {"x": X, "y": Y}), X + Y, rtol=1e-15)
    # a constant tensor: both traced, the chosen one's value; branches of different shapes refused
    np.testing.assert_allclose(api.evaluate("torch.cond(torch.tensor(False), torch.sin, torch.cos, (x,))",
                                            {"x": X}), np.cos(X), rtol=1e-15)
    with pytest.raises(JacShapeError, match="as PyTorch requires"):
        api.evaluate("torch.cond(torch.tensor(False), lambda a: a.sin(), lambda a: a[:1], (x,))", {"x": X})
    # a predicate of the inputs' values: the branch the values choose, as PyTorch runs it (refused before session 33)
    chosen = np.sin(X) if X.sum() > 0 else np.cos(X)
    np.testing.assert_allclose(api.evaluate("torch.cond(x.sum() > 0, torch.sin, torch.cos, (x,))", {"x": X}),
                               chosen, rtol=1e-15)
    with pytest.raises(JacValueError, match="holds for those values only"):
        shape_report("torch.cond(x.sum() > 0, torch.sin, torch.cos, (x,))", ["x:3"])
    with pytest.raises(JacError, match="tuple or list"):
        api.evaluate("torch.cond(True, torch.sin, torch.cos, x)", {"x": X})


def test_torch_cond_gradient_is_pytorchs():
    torch = pytest.importorskip("torch")
    text = "torch.cond(torch.tensor(True), lambda a: (a.sin() * a).sum(), lambda a: a.sum(), (x,))"
    x = torch.tensor(X, requires_grad=True)
    torch.cond(torch.tensor(True), lambda a: (a.sin() * a).sum(), lambda a: a.sum(), (x,)).backward()
    np.testing.assert_allclose(api.jacobian(text, {"x": X})["x"], x.grad.numpy(), rtol=1e-14)


def test_numpys_vectorize_runs_the_python_function_at_each_value():  # refused before session 32
    text = "np.vectorize(lambda a: a if a > 0 else 0.0)(x)"
    x = np.array([1.5, -2.0, 0.5])
    assert np.array_equal(api.evaluate(text, {"x": x}), np.vectorize(lambda a: a if a > 0 else 0.0)(x))
    assert np.array_equal(api.jacobian(text, {"x": x})["x"], np.diag([1.0, 0.0, 1.0]))
