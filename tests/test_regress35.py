"""Texts that worked before session 35's merges and were refused after them (h35-regress): the rerun of the earlier
probes, and the texts near each new refusal (benchmarks/regress35_probe.py), found these.

A JAX array made inside jax.jit is a tracer there (h35-jaxtrace refuses Python's reads of it), but its shape is
not: ``jnp.ones(3).shape[0]``, ``a.ndim``, ``a.size``, ``len(a)``, ``jnp.shape(a)`` are Python ints under every
trace, and an ``if`` or ``int()`` of one traces (JAX answers). Session 35 marked them JAX arrays and refused
``if a.shape[0] > 2:`` inside jax.jit. JAX's answers (0.10, x64, at x = [1, -2, 3]) are hard-coded here and checked
against JAX itself in a process of its own (skipped without jax)."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError, JacValueError
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian
from test_jax16 import jax_process  # noqa: F401 - the fixture is used by name
from test_parity_jit34 import _jax_verdict

HEAD = "import jax, jax.numpy as jnp, numpy as np\n"
X = np.array([1.0, -2.0, 3.0])

SHAPES = [  # text (x the input), JAX's value
    ("@jax.jit\ndef f(v):\n    a = jnp.ones(3)\n    if a.shape[0] > 2:\n        return (v * 2).sum()\n    return v.sum()\n"
     "f(x)", 4.0),
    ("@jax.jit\ndef f(v):\n    a = jnp.ones(3)\n    n = a.shape[0]\n    if n > 2:\n        return (v * n).sum()\n"
     "    return v.sum()\nf(x)", 6.0),
    ("@jax.jit\ndef f(v):\n    c = jnp.array([1., 2.])\n    n = int(c.shape[0])\n    return v[:n].sum()\nf(x)", -1.0),
    ("jax.jit(lambda v: (v * 2 if jnp.ones(3).shape[0] > 2 else v).sum())(x)", 4.0),
    ("jax.jit(lambda v: v.sum() * (2 if jnp.ones((2, 2)).ndim == 2 else 3))(x)", 4.0),
    ("jax.jit(lambda v: v.sum() * (2 if jnp.ones((2, 2)).size == 4 else 3))(x)", 4.0),
    ("jax.jit(lambda v: v.sum() * (2 if len(jnp.ones(3)) == 3 else 3))(x)", 4.0),
    ("jax.jit(lambda v: v.sum() * (2 if jnp.shape(jnp.ones(3))[0] == 3 else 3))(x)", 4.0),
    ("jax.jit(lambda v: v.sum() * int(jnp.ones((2, 3)).T.shape[0]))(x)", 6.0),
    ("def step(c, xi):\n    a = jnp.ones(2)\n    return (c + xi if a.shape[0] == 2 else c), c\n"
     "jax.lax.scan(step, 0.0, x)[0]", 2.0),
]

STILL_REFUSED = [  # JAX raises: the value read, not its shape
    "jax.jit(lambda v: v.sum() * (2 if jnp.ones(3)[0] > 0 else 3))(x)",
    "jax.jit(lambda v: v.sum() * int(jnp.ones(3).sum()))(x)",
    "jax.jit(lambda v: v.sum() * float(jnp.array(2.0)))(x)",
]


@pytest.mark.parametrize("text, value", SHAPES, ids=[t[:50] for t, _ in SHAPES])
def test_a_shape_of_a_jax_array_made_inside_the_trace_is_read(text, value):
    code = HEAD + text
    assert float(api.evaluate(code, {"x": X})) == value
    jac = api.jacobian(code, {"x": X})["x"]
    np.testing.assert_allclose(jac, central_jacobian(lambda v: api.evaluate(code, {"x": v}), X), atol=1e-7)


@pytest.mark.parametrize("text", STILL_REFUSED, ids=[t[:50] for t in STILL_REFUSED])
def test_a_value_of_a_jax_array_made_inside_jit_is_still_refused(text):
    with pytest.raises(JacValueError, match="JAX raises there"):
        api.evaluate(HEAD + text, {"x": X})


@pytest.mark.parametrize("text, value", SHAPES, ids=[t[:50] for t, _ in SHAPES])
def test_jax_answers_what_the_table_says(jax_process, text, value):
    verdict = jax_process.submit(_jax_verdict, HEAD + text, X).result()
    assert verdict[0] == "value" and verdict[1] == value
    np.testing.assert_allclose(verdict[2], api.jacobian(HEAD + text, {"x": X})["x"], rtol=1e-12)


@pytest.mark.parametrize("text", STILL_REFUSED, ids=[t[:50] for t in STILL_REFUSED])
def test_jax_raises_at_the_refused_ones(jax_process, text):
    assert jax_process.submit(_jax_verdict, HEAD + text, X).result()[0] == "error"


# h35-vocab's "did you mean" counts one edit for a short name, so Python's own builtins read as typos of jac's
# functions: map(f, x) got "did you mean 'max'?", str "'std'", set "'det'", iter "'item'", id "'i0'" (session 34 said
# "unknown function 'map'"). A builtin is no typo: no suggestion, and map / filter name the comprehension jac reads.
BUILTINS = {"map": "comprehension, [f(v) for v in x]", "filter": "comprehension, [v for v in x if", "str": None,
            "set": None, "iter": None, "id": None, "bin": None, "dir": None, "vars": None, "exit": None}


# Session 36 reads iter (h36-classes: an instance's __iter__, iter(seq)) and map (h36-itertools): still no typo,
# and each said as what Python makes of it, an iterator, which is no output.
READ_SINCE = {"iter": "the last statement is an iterator, iter(...)", "map": "map(...) is an iterator",
              "filter": "filter(...) is an iterator"}  # filter: read since session 37 (h37-builtins)


@pytest.mark.parametrize("name", READ_SINCE)
def test_a_builtin_read_since_is_no_typo_either(name):
    with pytest.raises(JacError) as err:
        api.evaluate(f"{name}(x)", {"x": X})
    assert str(err.value).startswith(READ_SINCE[name]) and "did you mean" not in str(err.value)


@pytest.mark.parametrize("name", [n for n in BUILTINS if n not in READ_SINCE])
def test_a_python_builtin_jac_lacks_is_no_typo(name):
    with pytest.raises(JacError) as err:
        api.evaluate(f"{name}(x)", {"x": X})
    assert str(err.value).startswith(f"unknown function '{name}'") and "did you mean" not in str(err.value)
    if BUILTINS[name]:
        assert f"Python's builtin {name} is not read" in str(err.value) and BUILTINS[name] in str(err.value)


def test_a_typo_still_gets_its_suggestion():
    for typo, meant in (("sofmax", "softmax"), ("mx", "max"), ("nrom", "norm")):
        with pytest.raises(JacError, match=f"did you mean '{meant}'"):
            api.evaluate(f"{typo}(x)", {"x": X})


def test_map_through_a_comprehension_is_read():
    assert api.evaluate("sum([sin(v) for v in x])", {"x": X}) == pytest.approx(np.sin(X).sum(), rel=1e-15)
