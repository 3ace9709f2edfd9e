"""jax.jit / jax.checkpoint / jax.remat trace their function with abstract values (session 33, h33b-jit), as JAX
does: a Python read of a value computed inside (an if / while test, int(), .item(), a boolean mask, nonzero or
unique without size=) is refused naming JAX's error (checked in JAX 0.10: TracerBoolConversionError,
ConcretizationTypeError, NonConcreteBooleanIndexError); arguments marked static (static_argnums, static_argnames)
and values computed before the call are concrete and read. torch.compile (a graph break runs the code eagerly) and
torch.utils.checkpoint (eager) read it. Values against closed forms and central differences; JAX's own answers for
the read cases are in tests/test_parity_jit33.py."""

import numpy as np
import pytest

from jacobi_cli.errors import JacValueError
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian
from jacobi_cli.tools.report import shape_report

HEAD = "import jax, jax.numpy as jnp, torch\nfrom functools import partial\n"
X = np.array([1.0, -2.0, 3.0])


def _refused(text: str, words: tuple, at: str | None = None):
    with pytest.raises(JacValueError) as info:
        api.evaluate(HEAD + text, {"x": X})
    message = str(info.value)
    for w in words:
        assert w in message, message
    if at is not None:
        assert info.value.position == len(HEAD) + text.index(at), (info.value.position, message)
    return message


REFUSED = [  # text, JAX's error, what the read is, where the caret goes
    ("jax.jit(lambda v: v * 2 if v.sum() > 0 else -v)(x)", "TracerBoolConversionError", "if / while", "v.sum() > 0"),
    ("jax.checkpoint(lambda v: v * 2 if v.sum() > 0 else -v)(x)", "TracerBoolConversionError", "if / while",
     "v.sum() > 0"),
    ("jax.remat(lambda v: v * 2 if v[0] > 0 else -v)(x)", "TracerBoolConversionError", "if / while", "v[0] > 0"),
    ("jax.jit(lambda v: v[int(v.argmax())] * 2)(x)", "ConcretizationTypeError", "int()", "int(v.argmax())"),
    ("jax.jit(lambda v: v * v.sum().item())(x)", "ConcretizationTypeError", ".item()", "item()"),
    ("jax.jit(lambda v: v[v > 0].sum())(x)", "NonConcreteBooleanIndexError", "boolean mask", "v > 0]"),
    ("jax.checkpoint(lambda v: v[v > 0].sum())(x)", "NonConcreteBooleanIndexError", "boolean mask", "v > 0]"),
    ("jax.jit(lambda v: jnp.nonzero(v > 0)[0] * 1.0)(x)", "ConcretizationTypeError", "without size=",
     "nonzero(v > 0)"),
    ("jax.jit(lambda v: jnp.unique(v))(x)", "ConcretizationTypeError", "without size=", "unique(v)"),
    # omnistaging: an operation on a closure inside jit is staged too (JAX raises; jax.vmap of it does not)
    ("jax.jit(lambda v: v * 2 if x.sum() > 0 else -v)(x)", "TracerBoolConversionError", "if / while", "x.sum() > 0"),
    ("jax.lax.fori_loop(0, 2, lambda i, v: v * 2 if x.sum() > 0 else -v, x)", "TracerBoolConversionError",
     "if / while", "x.sum() > 0"),
    # composed: JAX raises whichever transform is outside
    ("jax.grad(jax.jit(lambda v: jnp.sum(v * 2 if v.sum() > 0 else -v)))(x)", "TracerBoolConversionError",
     "if / while", "v.sum() > 0"),
    ("jax.jit(jax.grad(lambda v: jnp.sum(v * 2 if v.sum() > 0 else -v)))(x)", "TracerBoolConversionError",
     "if / while", "v.sum() > 0"),
    ("jax.vmap(jax.jit(lambda v: v * 2 if v.sum() > 0 else -v))(jnp.stack([x, x]))", "TracerBoolConversionError",
     "if / while", "v.sum() > 0"),
    ("jax.jit(lambda p: p[0] * 2 if p[1].sum() > 0 else -p[0])((x, x))", "TracerBoolConversionError", "if / while",
     "p[1].sum() > 0"),
    ("jax.jit(lambda p: p['a'] * 2 if p['b'].sum() > 0 else -p['a'])({'a': x, 'b': x})",
     "TracerBoolConversionError", "if / while", "p['b'].sum() > 0"),
    ("@jax.jit\ndef f(v):\n    return v * 2 if v.sum() > 0 else -v\nf(x)", "TracerBoolConversionError", "if / while",
     "v.sum() > 0"),
    ("@jax.jit\n@jax.grad\ndef f(v):\n    return jnp.sum(v * 2 if v.sum() > 0 else -v)\nf(x)",
     "TracerBoolConversionError", "if / while", "v.sum() > 0"),
    ("@partial(jax.jit, static_argnums=1)\ndef f(v, n):\n    return v * n if v[0] > 0 else -v\nf(x, 2)",
     "TracerBoolConversionError", "if / while", "v[0] > 0"),
    ("@jax.checkpoint\ndef f(v):\n    while v.sum() < 10:\n        v = v * 2\n    return v\nf(x)",
     "TracerBoolConversionError", "if / while", "v.sum() < 10"),
    # under jax.vmap too, a mask raises (NonConcreteBooleanIndexError)
    ("jax.vmap(lambda v: v[v > 0].sum())(jnp.stack([x, x]))", "NonConcreteBooleanIndexError", "boolean mask",
     "v > 0]"),
]


@pytest.mark.parametrize("text, error, what, at", REFUSED, ids=[t[0][:60] for t in REFUSED])
def test_a_read_of_a_traced_value_is_refused_as_jax_raises(text, error, what, at):
    message = _refused(text, (error, what))
    wrapper = "jax.vmap" if text.startswith("jax.vmap(lambda") else "jax.lax.fori_loop" if "fori" in text else \
        "jax.checkpoint" if "checkpoint" in text else "jax.remat" if "remat" in text else "jax.jit"
    assert f"{wrapper}(...)" in message, message
    with pytest.raises(JacValueError) as info:
        api.evaluate(HEAD + text, {"x": X})
    assert info.value.position == len(HEAD) + text.index(at)


def test_without_the_values_the_refusal_is_jaxs_not_a_request_for_values():
    # jac shape has no values: the read is refused as JAX raises, not "known only for given values"
    with pytest.raises(JacValueError, match="TracerBoolConversionError"):
        shape_report(HEAD + "jax.jit(lambda v: v * 2 if v.sum() > 0 else -v)(x)", ["x:3"])


def _padded(index, size):  # JAX's size= with fill_value 0
    return np.concatenate([index, np.zeros(size, dtype=int)])[:size]


STATIC = [  # a static argument's test is read; values computed before the call are concrete
    ("jax.jit(lambda v, n: v * 2 if n > 0 else -v, static_argnums=1)(x, 3)", lambda x: 2 * x),
    ("jax.jit(lambda v, n: v * 2 if n > 0 else -v, static_argnums=1)(x, -3)", lambda x: -x),
    ("jax.jit(lambda v, n: v * 2 if n > 0 else -v, static_argnums=-1)(x, 3)", lambda x: 2 * x),
    ("jax.jit(lambda v, n: v * 2 if n > 0 else -v, static_argnames='n')(x, n=3)", lambda x: 2 * x),
    ("jax.jit(lambda v, n: v * 2 if n > 0 else -v, static_argnames='n')(x, 3)", lambda x: 2 * x),  # by name: both
    ("jax.jit(lambda v, n: v * 2 if n > 0 else -v, static_argnums=1)(x, n=-3)", lambda x: -x),
    ("jax.jit(lambda v, k: v * 2 if k == 'a' else v, static_argnums=1)(x, 'a')", lambda x: 2 * x),
    ("jax.jit(lambda v, n: v * n[1], static_argnums=1)(x, (1.5, 2.5))", lambda x: 2.5 * x),
    ("jax.checkpoint(lambda v, n: v ** n if n > 1 else v, static_argnums=(1,))(x, 3)", lambda x: x ** 3),
    ("@partial(jax.jit, static_argnames='n')\ndef f(v, n=2):\n    return v ** n if n > 1 else -v\nf(x)",
     lambda x: x ** 2),
    ("@jax.jit(static_argnums=1)\ndef f(v, n):\n    return jnp.sin(v) * n if n > 0 else v\nf(x, 2)",
     lambda x: 2 * np.sin(x)),
    ("s = x.sum() > 0\njax.jit(lambda v: v * 2 if s else -v)(x)", lambda x: 2 * x if x.sum() > 0 else -x),
    ("k = int(x.argmax())\njax.jit(lambda v: v * v[k])(x)", lambda x: x * x[int(x.argmax())]),
    ("jax.jit(lambda v: v * 2 if v.shape[0] > 2 else -v)(x)", lambda x: 2 * x),
    ("jax.jit(lambda v: jnp.where(v > 0, v ** 2, -v))(x)", lambda x: np.where(x > 0, x ** 2, -x)),
    ("jax.jit(lambda v: jnp.sum(v[jnp.nonzero(v > 0, size=2)[0]] ** 2))(x)",
     lambda x: np.sum(x[_padded(np.nonzero(x > 0)[0], 2)] ** 2)),
    ("jax.grad(jax.jit(lambda v: jnp.sum(jnp.sin(v) * v)))(x)", lambda x: np.cos(x) * x + np.sin(x)),
    ("jax.jit(jax.grad(lambda v: jnp.sum(jnp.sin(v) * v)))(x)", lambda x: np.cos(x) * x + np.sin(x)),
    ("jax.vmap(jax.jit(lambda v: jnp.sin(v) * v[0]))(jnp.stack([x, 2 * x])).ravel()",
     lambda x: np.concatenate([np.sin(x) * x[0], np.sin(2 * x) * 2 * x[0]])),
    ("jax.jit(lambda p: p['a'] * 2 + jnp.cos(p['b']))({'a': x, 'b': x})", lambda x: 2 * x + np.cos(x)),
    ("@jax.jit\n@jax.grad\ndef f(v):\n    return jnp.sum(jnp.sin(v))\nf(x)", np.cos),
    # PyTorch: torch.compile breaks its graph at a test of the values and runs it eagerly; checkpoint is eager
    ("torch.compile(lambda v: v * 2 if v.sum() > 0 else -v)(x)", lambda x: 2 * x if x.sum() > 0 else -x),
    ("torch.utils.checkpoint.checkpoint(lambda v: v * 2 if v.sum() > 0 else -v, x, use_reentrant=False)",
     lambda x: 2 * x if x.sum() > 0 else -x),
]


@pytest.mark.parametrize("text, want", STATIC, ids=[t[0][:60] for t in STATIC])
@pytest.mark.parametrize("x", [X, -X], ids=["x", "-x"])
def test_static_arguments_and_values_computed_before_the_call_are_read(text, want, x):
    code = HEAD + text
    np.testing.assert_allclose(api.evaluate(code, {"x": x}), want(x), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(api.jacobian(code, {"x": x})["x"], central_jacobian(want, x), rtol=1e-6, atol=1e-7)


def test_a_definition_decorated_jit_last_is_called_and_traced():
    text = HEAD + "@jax.jit\ndef f(x, s=2.0):\n    return jnp.sin(x) * s"
    np.testing.assert_allclose(api.evaluate(text, {"x": X}), np.sin(X) * 2.0, rtol=1e-14)
    with pytest.raises(JacValueError, match="TracerBoolConversionError"):
        api.evaluate(HEAD + "@jax.jit\ndef f(x):\n    return x if x.sum() > 0 else -x", {"x": X})


@pytest.mark.parametrize("text, words", [
    ("jax.jit(lambda v, n: v * 2 if n.sum() > 0 else -v, static_argnums=1)(x, x)", ("Non-hashable", "static")),
    ("jax.jit(lambda v: v * 2, static_argnums=3)(x)", ("static_argnums", "takes 1 positional")),
    ("jax.jit(lambda v, k: v * 2 if k == 'a' else v)(x, 'a')", ("TypeError", "static_argnums")),
    ("jax.jit(lambda v: v, static_argnums='a')(x)", ("an int or a tuple of ints",)),
])
def test_the_static_arguments_are_refused_where_jax_refuses_them(text, words):
    _refused(text, words)


def test_a_test_of_a_static_argument_decides_the_graph_and_the_values_stay_free():
    # the branch taken is the static argument's: the graph holds for any x (no by-value reading)
    code = HEAD + "jax.jit(lambda v, n: v * 2 if n > 0 else -v, static_argnums=1)(x, 3)"
    assert shape_report(code, ["x:3"]) is not None
