"""The thirty-second session's lead work: Python's builtins over a list of constant arrays, and ``return``
inside a function's blocks (early returns, recursion with an end), each against Python's own answer."""
from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

X = np.array([0.5, -1.5])


def _python(text: str, x: np.ndarray):
    """``text`` run by Python itself with NumPy (its last line an expression)."""
    *body, last = text.split("\n")
    env = {"np": np, "x": x.copy()}
    exec("\n".join(body), env)
    return np.asarray(eval(last, env))


def _central(text: str, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    cols = []
    for j in range(x.size):
        up, down = x.copy(), x.copy()
        up[j] += h
        down[j] -= h
        cols.append((_python(text, up) - _python(text, down)) / (2 * h))
    return np.stack(cols, axis=-1)


def _as_python(text: str) -> None:
    """jac's value of ``text`` is Python's exactly, and its Jacobian by x central differences' of Python's."""
    want = _python(text, X)
    got = api.evaluate(text, {"x": X})
    assert got.shape == want.shape and np.array_equal(got, want), (got, want)
    np.testing.assert_allclose(api.jacobian(text, {"x": X})["x"], _central(text, X), atol=1e-8)


def _refused(text: str, words: list, bindings: dict) -> None:
    with pytest.raises(JacError) as found:
        api.evaluate(text, bindings)
    for word in words:
        assert word in found.value.message, found.value.message


BUILTINS = [
    "sum([np.ones(2) * 0.5 for i in range(3)]) + x",  # was 6 (every element's sum), Python's is 1.5 each
    "sum(np.ones(2) * i for i in range(3)) + x",
    "L = [np.ones(2), np.zeros(2) + 3]\nsum(L) + x",
    "sum((np.ones(2), np.zeros(2) + 3)) * x",
    "sum([np.ones(2), np.zeros(2)], np.ones(2)) + x",
    "a = sum([np.ones(2) * 0.5 for i2 in range(3)])\na * x",
    "sum([x, 2 * x, np.ones(2)])",
    "sum([1.0, 2.0, 3.0]) * x",  # numbers: unchanged
    "sum(x.shape) * x",
]


@pytest.mark.parametrize("text", BUILTINS)
def test_pythons_sum_of_a_list_of_constant_arrays_adds_the_arrays(text):
    _as_python(text)


@pytest.mark.parametrize("text,words", [
    ("sum([[1., 2.], [3., 4.]]) + x", ["sum() of a list of lists", "TypeError", "np.sum(np.array(...))"]),
    ("max([[1., 2.], [3., 4.]]) + x", ["max() of a list of lists", "compares the lists"]),
    ("max([np.ones(2), np.zeros(2)]) + x", ["not a list or tuple of arrays"]),  # Python: ambiguous truth value
    ("min(np.ones(2) * i for i in range(3)) + x", ["not a list or tuple of arrays"]),
    ("any([np.ones(2), np.zeros(2)]) * x", ["not a list or tuple of arrays"]),
])
def test_what_python_refuses_of_lists_is_refused(text, words):
    _refused(text, words, {"x": X})


def test_an_array_named_or_made_keeps_jacs_sum_of_every_element():
    assert api.evaluate("sum(np.ones((3, 2))) * x", {"x": X}).tolist() == [3.0, -9.0]
    assert api.evaluate("sum(A)", {"A": np.ones((3, 2))}) == 6.0


EARLY = [
    "def f(v, k):\n    if k > 1:\n        return v * k\n    else:\n        return v - k\nf(x, 2) + f(x, 0)",
    "def f(v):\n    for i in range(5):\n        if i == 2:\n            return v * i\n        v = np.sin(v)\n    return v\nf(x)",
    "def f(v):\n    for i in range(2):\n        v = v * 2\n    else:\n        return v + 1\n    return v\nf(x)",
    "def f(v, n):\n    while True:\n        n = n - 1\n        if n < 0:\n            return v * 3\n        v = np.sin(v)\nf(x, 2)",
    "def act(v, kind='relu'):\n    if kind == 'relu':\n        return np.maximum(v, 0)\n    return np.tanh(v)\n"
    "act(x) + act(x, 'tanh')",
    "def f(v, k):\n    def g(u):\n        if k > 0:\n            return u * k\n        return u\n    return g(v) + 1\nf(x, 2)",
    "def f(v, k):\n    if k == 0:\n        return v\n    return np.sin(f(v, k - 1)) * 2\nf(x, 3)",
    "def f(v):\n    if True:\n        return v, v * 2\n    return v, v\na, b = f(x)\na + b",
    "def f(v, n=3):\n    out = []\n    for i in range(n):\n        out.append(v * i)\n        if i >= 1:\n"
    "            return np.stack(out).sum(0)\n    return v\nf(x)",
    "def f(v):\n    if 1 > 2:\n        return v\n    else:\n        v = v * 3\n    return v + 1\nf(x)",
    "def f(v, s):\n    if len(s) == 1:\n        return s\n    return v.shape\nnp.zeros(f(x, x.shape)) + x",
    "def f(a):\n    return a * 2\n    a = 3\nf(x)",  # what follows a return never runs
    "def f(v):\n    if v.sum() > 0:\n        return v\n    return -v\nf(x)",  # a test of the values: at them
]


@pytest.mark.parametrize("text", EARLY, ids=[" ".join(t.split())[:60] for t in EARLY])
def test_a_return_inside_a_functions_blocks_ends_its_call_as_in_python(text):
    want = _python(text, X)
    got = api.evaluate(text, {"x": X})
    assert got.shape == want.shape and np.allclose(got, want, rtol=1e-14, atol=0), (got, want)
    np.testing.assert_allclose(api.jacobian(text, {"x": X})["x"], _central(text, X), atol=1e-7)


def test_a_return_inside_no_grad_is_detached():
    text = "import torch\ndef f(v):\n    with torch.no_grad():\n        return v * 2\nf(x) + x"
    assert api.evaluate(text, {"x": X}).tolist() == [1.5, -4.5]
    np.testing.assert_array_equal(api.jacobian(text, {"x": X})["x"], np.eye(2))


def test_a_models_forward_may_return_early():
    text = ("import torch\nclass M(torch.nn.Module):\n    def forward(self, v, flag=True):\n        if flag:\n"
            "            return torch.tanh(v)\n        return v\nm = M()\nm(x) + m(x, False)")
    np.testing.assert_allclose(api.evaluate(text, {"x": X}), np.tanh(X) + X, rtol=1e-15)


@pytest.mark.parametrize("text,words", [
    ("def f(v, k=0):\n    if k:\n        return v\nf(x)", ["f() reached its end without a 'return'", "None"]),
    ("def f(v):\n    if v.shape[0] > 1:\n        return\n    return v\nf(x)", ["'return' without a value"]),
    ("def f(v):\n    v = v * 2\nf(x)", ["value is None"]),  # Python's None (h34b-lists: such a call runs)
    ("def f(v):\n    return f(v) * 2\nf(x)", ["f() calls itself in every call"]),
    ("def f(v, k):\n    if k == 0:\n        return v\n    return f(v, k + 1)\nf(x, 1)", ["more than 32 deep"]),
    ("def f(v):\n    if v[0] > v:\n        return v\n    return -v\nf(x)", ["the truth value of an array of 2"]),
    ("return x", ["'return' statements"]),
])
def test_returns_jac_cannot_follow_are_refused(text, words):
    _refused(text, words, {"x": X})


def test_a_recursion_to_its_limit_is_written_out():
    text = "def f(v, k):\n    if k == 0:\n        return v\n    return f(v, k - 1) * 1.01\nf(x, 31)"
    np.testing.assert_allclose(api.evaluate(text, {"x": X}), X * 1.01 ** 31, rtol=1e-14)


@pytest.mark.parametrize("text,want", [
    ("a = x.copy()\nv = a\nw = a[:2]\nv[1] = 0.5\nnp.concatenate([a, w])", [1.0, 0.5, 3.0, 1.0, 0.5]),
    ("a = x * 2\nb = a.copy()\nc = b\nw = b[1:]\nc[0] = 5.0\nnp.concatenate([a + c, w])", [7.0, 8.0, 12.0, 4.0, 6.0]),
])
def test_a_write_through_an_alias_of_a_copy_is_seen_by_its_view(text, want):
    """Refused until session 39 (lang/views.py): NumPy's view w of the copy sees the write (NumPy's own values)."""
    x = np.array([1.0, 2.0, 3.0])
    scope = {"np": np, "x": x.copy()}
    exec(text.rsplit("\n", 1)[0], scope)  # noqa: S102 - NumPy itself, on the same text
    assert np.array_equal(eval(text.rsplit("\n", 1)[1], scope), want)  # noqa: S307
    assert np.array_equal(api.evaluate(text, {"x": x}), want)


@pytest.mark.parametrize("text, want", [
    ("a = x.copy()\nv = a\nv[1] = 0.5\na", [1.0, 0.5, 3.0]),  # one array, two names (session 38: both rebound)
    ("a = x * 2\nb = a.copy()\nc = b\nc[0] = 5.0\na + b", [7.0, 8.0, 12.0]),
])
def test_a_write_through_a_python_alias_changes_every_name_of_the_array_as_numpy(text, want):
    np.testing.assert_array_equal(api.evaluate(text, {"x": np.array([1.0, 2.0, 3.0])}), want)


PYTHON_STATE = [
    "s = 0\nfor i in range(3):\n    s += x * i\ns",  # a Python number's += rebinds (was: refused as a write)
    "s = 0.0\ns += x\ns",
    "a = 0.0\nb = a\nb += x\na + b",  # numbers are no shared buffers
    "s = np.float64(0)\ns += x\ns",  # NumPy's scalars are immutable too
    "k = 3\nk //= 2\nk * x",
    "def f(v):\n    total = 0\n    for w in (v, v * 2):\n        total += w\n    return total\nf(x)",
    "a = [x, x * 2]\nb = a[:]\nb[0] = x * 5\na[0] + b[0]",  # a[:] is a new list (was: 'a tuple of arrays')
    "a = [x]\na = a * 2\na[0] = x * 3\na[1]",
    "def f(v, acc=[]):\n    acc.append(v)\n    return sum(acc)\nf(x) + f(x, [x])",  # the default taken once
]


@pytest.mark.parametrize("text", PYTHON_STATE, ids=[" ".join(t.split())[:60] for t in PYTHON_STATE])
def test_pythons_numbers_and_lists_keep_pythons_state(text):
    _as_python(text)


@pytest.mark.parametrize("text,words", [
    ("def f(v, acc=[]):\n    acc.append(v)\n    return sum(acc)\nf(x) + f(x)",
     ["f() takes its default 'acc' again", "acc.append(...)", "acc = [] if acc is None else acc"]),
    ("def f(v, d={}):\n    d['k'] = d.get('k', 0) + 1\n    return v * d['k']\nf(x) + f(x)",
     ["f() takes its default 'd' again, a dict", "d = {} if d is None else d"]),
    ("def f(v, acc=[]):\n    acc += [v]\n    return sum(acc)\nf(x) * f(x)", ["takes its default 'acc' again"]),
    ("s = np.zeros(())\ns += x\ns", ["'s' has shape ()", "write the result into 's' itself"]),  # an array: in place
])
def test_what_python_shares_and_jac_cannot_follow_is_refused(text, words):
    _refused(text, words, {"x": X})


@pytest.mark.parametrize("text", [
    "acc = []\nacc += [x]\nsum(acc)",  # was: joining a list of arrays and a list of numbers
    "acc = []\nacc = acc + [x]\nacc[0] = x * 3\nsum(acc)",
    "a = [np.ones(2)] + [x]\nsum(a)",
    "def f(v, acc=[]):\n    acc = acc + [v]\n    return sum(acc)\nf(x) + f(x)",  # a new list: the default unchanged
    "[] + [1.0, 2.0] + x",
])
def test_an_empty_or_constant_list_joins_a_list_of_arrays(text):
    want = _python(text, X)
    got = api.evaluate(text, {"x": X})
    assert got.shape == want.shape and np.array_equal(got, want), (got, want)


@pytest.mark.parametrize("text", [
    "r = [x * i for i in range(3)]\nr.reverse()\nr[0]",  # a comprehension is Python's list: its methods change it
    "r = [x * i for i in range(3)]\nr.insert(0, x * 9)\nr[1]",
    "r = [x * i for i in range(1, 4)]\nr.pop()\nsum(r)",
    "r = [x * i for i in range(3)]\nr[1] = x * 7\nr[1] + r[2]",
])
def test_a_list_made_by_a_comprehension_changes_as_pythons(text):
    want = _python(text, X)
    got = api.evaluate(text, {"x": X})
    assert got.shape == want.shape and np.array_equal(got, want), (got, want)


def test_a_test_of_the_values_holds_for_those_values_only():
    text = "if x.sum() > 0:\n    y = x * 2\nelse:\n    y = -x\ny"
    assert api.evaluate(text, {"x": X}).tolist() == [-0.5, 1.5]  # the sum is -1: the else branch
    assert api.evaluate(text, {"x": -X}).tolist() == [-1.0, 3.0]  # a new call, the other branch
    with pytest.raises(JacError, match="holds for those values only.*a compiled function cannot"):
        api.compile(text, {"x": ":2"})
    assert api.evaluate(text, {"x": np.array([np.nan, 1.0])})[1] == -1.0  # nan > 0 is False, as in Python
    truthy = "if x.sum():\n    y = x * 2\nelse:\n    y = -x\ny"  # bool(nan) is True in Python and PyTorch
    assert api.evaluate(truthy, {"x": np.array([np.nan, 1.0])})[1] == 2.0


def test_a_test_of_the_values_is_refused_where_no_values_are_given_or_with_a_batch():
    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app

    text = "if x.sum() > 0:\n    y = x * 2\nelse:\n    y = -x\ny"
    runner = CliRunner()
    shape = runner.invoke(app, ["shape", text, "x:3"])
    assert shape.exit_code == 2 and "jac shape, jac diff and a compiled function cannot" in shape.output
    batch = runner.invoke(app, ["eval", text, "x=[[1, 2], [-3, 1]]", "--batch", "x"])
    assert batch.exit_code == 2 and "cannot take --batch" in batch.output
    assert "  if x.sum() > 0:\n     ^" in batch.output  # the caret under the test that reads the values


@pytest.mark.parametrize("text,words", [
    ("import jax\njax.vmap(lambda r: r * 2 if r.sum() > 0 else r)(A)", ["jax.vmap(...)", "jnp.where"]),
    ("torch.func.vmap(lambda r: r * 2 if r.sum() > 0 else r)(A)", ["data-dependent control flow"]),
    # JAX's loops and branches trace their functions with abstract values too (session 33)
    ("import jax\njax.lax.scan(lambda c, r: (c + (r if r.sum() > 0 else -r), None), x, A)[0]",
     ["jax.lax.scan(...)", "TracerBoolConversionError"]),
    ("import jax\njax.lax.cond(True, lambda v: v if v.sum() > 0 else -v, lambda v: v, x)", ["jax.lax.cond(...)"]),
    ("import jax\njax.lax.fori_loop(0, 2, lambda i, v: v * 2 if v.sum() > 0 else v, x)", ["jax.lax.fori_loop(...)"]),
    ("import jax\njax.lax.while_loop(lambda v: v.sum() < 9, lambda v: v * 2 if v[0] > 0 else v * 3, x)",
     ["jax.lax.while_loop(...)"]),
    ("torch.cond(x.sum() > 0, lambda v: v if v[0] > 0 else -v, lambda v: v, (x,))", ["fake tensors"]),
])
def test_a_transform_that_traces_abstract_values_refuses_a_test_of_them(text, words):
    _refused(text, words, {"x": np.array([1.0, 2.0]), "A": np.array([[1.0, 2.0], [-3.0, 1.0]])})


@pytest.mark.parametrize("text,want", [
    ("def f(v):\n    if v.sum() > 0:\n        return torch.sum(v ** 2)\n    return torch.sum(v)\ntorch.func.grad(f)(x)",
     [2.0, 4.0]),  # torch.func.grad runs the branch, as PyTorch's autograd
    ("import jax\ndef f(v):\n    if x.sum() > 0:\n        return jnp.sum(v ** 2)\n    return jnp.sum(v)\njax.grad(f)(x * 1)",
     [2.0, 4.0]),  # a test of a closed-over array is concrete in JAX too
    # JAX's derivative transforms trace with the concrete values and run Python's if (refused before session 33)
    ("import jax\ndef f(v):\n    if v.sum() > 0:\n        return jnp.sum(v ** 2)\n    return jnp.sum(v)\njax.grad(f)(x)",
     [2.0, 4.0]),
    ("import jax\njax.jvp(lambda v: v * 2 if v.sum() > 0 else v, (x,), (x,))[1]", [2.0, 4.0]),
    ("import jax\njax.jacrev(lambda v: v * 3 if v.sum() < 0 else v ** 2)(x).sum(0)", [2.0, 4.0]),
])
def test_a_transform_that_runs_the_branch_reads_it(text, want):
    assert api.evaluate(text, {"x": np.array([1.0, 2.0])}).tolist() == want


@pytest.mark.parametrize("text,want", [
    ("np.where((x > 0) & True, x, 0)", [0.5, 0.0]),  # was refused: "jac's numbers are floats"
    ("np.where(False | (x > 0), x, 0)", [0.5, 0.0]),
    ("np.where((x > 0) ^ True, x, 0)", [0.0, -1.5]),
])
def test_a_mask_beside_pythons_bool_is_their_logic(text, want):
    assert api.evaluate(text, {"x": X}).tolist() == want


def test_a_chained_comparison_of_a_scalar_input_is_pythons_and():
    # x < 2 < 3 is (x < 2) and (2 < 3): at x = 1 Python's True (2 < 3), at x = 5 the first, False
    assert api.evaluate("x < 2 < 3", {"x": np.array(1.0)}) == 1.0
    assert api.evaluate("x < 2 < 3", {"x": np.array(5.0)}) == 0.0
