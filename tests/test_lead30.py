"""Thirtieth session (lead): a list's other changes in place read as Python makes them (insert, pop, clear,
reverse, del), a view of a copy made by a call blamed on the copy, and the moved statistics of a batch norm built
only where a name can read them."""
from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.lang.parser import parse
from jacobi_cli.tools import api

X = np.array([1.0, 2.0, 3.0])


def _python(text: str, x: np.ndarray):
    """``text`` run by Python itself with NumPy's arrays: its last line's value."""
    env = {"np": np, "x": x}
    *statements, last = text.split("\n")
    exec("\n".join(statements), env)  # noqa: S102 - the test's own text
    return np.asarray(eval(last, env), dtype=float)  # noqa: S307


def _agrees_with_python(text: str) -> None:
    """jac's value is Python's, and its Jacobian Python's central differences (the list moves arrays only, so
    they are exact up to rounding)."""
    np.testing.assert_array_equal(api.evaluate(text, {"x": X}), _python(text, X))
    jac = api.jacobian(text, {"x": X})["x"]
    h, columns = 1e-6, []
    for j in range(X.size):
        e = np.zeros_like(X)
        e[j] = h
        columns.append((_python(text, X + e) - _python(text, X - e)) / (2 * h))
    np.testing.assert_allclose(jac, np.stack(columns, axis=-1), rtol=1e-7, atol=1e-7)


LISTS = [
    "a = [x, 2 * x]\na.insert(0, x ** 2)\nnp.stack(a)",
    "a = [x, 2 * x]\na.insert(-1, x ** 2)\nnp.stack(a)",
    "a = [x, 2 * x]\na.insert(9, x ** 2)\nnp.stack(a)",  # Python inserts past the end at the end
    "a = [x, 2 * x]\nb = a\na.insert(1, x ** 3)\nnp.stack(b)",
    "a = [x, 2 * x, 3 * x]\na.pop()\nnp.stack(a)",
    "a = [x, 2 * x, 3 * x]\nv = a.pop(0)\nv * np.stack(a)",
    "a = [x, 2 * x, 3 * x]\nv = a.pop(-2)\nnp.stack(a + [v])",
    "a = [x, 2 * x, 3 * x]\nfor i in range(2):\n    v = a.pop()\nv + a[0]",
    "a = [x, 2 * x]\nb = a\na.pop()\nlen(b) * b[0]",
    "a = [x, 2 * x]\na.clear()\na.append(x ** 2)\na[0]",
    "a = [x, x ** 2, x ** 3]\na.reverse()\nnp.stack(a)",
    "a = [x, x ** 2]\na.append(x ** 3)\nnp.stack(a + [x])",
    "a = []\na.append(x)\nnp.stack(a * 2)",
    "a = [x, 2 * x, 3 * x]\ndel a[1]\nnp.stack(a)",
    "a = [x, 2 * x, 3 * x]\nb = a\ndel a[-1]\nnp.stack(b)",
    "d = {'p': x, 'q': 2 * x}\ne = d\ndel d['p']\nlen(e) * e['q']",
    "t = x * 2\ndel t\nt = x ** 2\nt",
    "a = x\nb = 2 * x\ndel a, b\nx",
]


@pytest.mark.parametrize("text", LISTS)
def test_a_lists_other_changes_in_place_are_pythons(text):
    _agrees_with_python(text)


def test_a_change_of_a_list_another_list_holds_is_seen_through_it():  # refused before session 33 (h33d-lists)
    _agrees_with_python("a = [x]\nb = [a]\na.pop()\nlen(b[0]) + x")  # Python's b[0] is a: empty after the pop
    _agrees_with_python("a = [x]\nb = [a]\na.append(2 * x)\nb[0][1] + len(b[0])")


@pytest.mark.parametrize("text,says", [
    ("a = []\na.pop()\nx", "pop from empty list"),
    ("a = [x]\na.pop(3)\nx", "pop index out of range"),
    ("a = [x, x]\na.pop(x)\nx", "one constant integer"),
    ("a = [x]\na.insert(0)\nx", "takes 2 arguments"),
    ("t = x * 2\ndel t\nt", "'del t' deleted it"),
    ("del q\nx", "name 'q' is not defined"),
    ("a = [x]\ndel a[2]\nx", "out of range"),
    ("a = [x, x]\ndel a[0:1]\nx", "one item of a list at a time"),
    ("y = x * 1\ndel y[0]\nx", "an array's items cannot be deleted"),
    ("d = {'p': x}\ndel d['q']\nx", "has no key 'q'"),
    ("a = [x, 2 * x]\na.append(x)\na + 1", "a Python list plus a number"),
])
def test_a_lists_impossible_changes_are_refused_as_python_refuses_them(text, says):
    with pytest.raises(JacError, match=says):
        api.evaluate(text, {"x": X})


def test_a_write_through_a_detached_view_of_a_copy_changes_the_copy_not_its_derivative():
    """Refused until session 39 (h39-views2): as in PyTorch, v = y.detach() shares y's memory, so v += 1 changes
    y's values, and autograd does not see the write: y's derivative stays the clone's."""
    text = "y = x.clone()\nv = y.detach()\nv += 1\ny"
    np.testing.assert_array_equal(api.evaluate(text, {"x": X}), X + 1)
    np.testing.assert_array_equal(api.jacobian(text, {"x": X})["x"], np.eye(3))


@pytest.mark.parametrize("view", ["y.reshape(3, 1)", "y.view(3, 1)", "torch.reshape(y, (3, 1))", "y.unsqueeze(0)",
                                  "y.reshape(3, 1).T", "np.transpose(y)", "y.flatten()"])
def test_a_write_through_a_view_of_a_copy_changes_the_copy(view):
    """Refused until session 39 (lang/views.py): the view's write is the copy's, as in PyTorch."""
    text = f"y = x.clone()\nv = {view}\nv += 1\ny"
    np.testing.assert_array_equal(api.evaluate(text, {"x": X}), X + 1)
    np.testing.assert_array_equal(api.jacobian(text, {"x": X})["x"], np.eye(X.size))


def test_a_view_of_an_input_made_by_a_call_still_names_the_input():
    with pytest.raises(JacError, match="is the input 'x' or a view of it"):
        api.evaluate("y = x.reshape(3, 1)\nv = y.T\nv += 1\ny", {"x": X})


def _ops(text: str, **bindings) -> list:
    return [n.op for n in parse(text, {k: np.shape(v) for k, v in bindings.items()}).nodes]


def test_moved_statistics_are_built_only_where_a_name_can_read_them():
    x = np.arange(6.0).reshape(2, 3)
    temporary = _ops("F.batch_norm(x, torch.zeros(3), torch.ones(3), training=True)", x=x)
    without = _ops("F.batch_norm(x, None, None, training=True)", x=x)
    assert [op for op in temporary if op != "const"] == [op for op in without if op != "const"]
    named = "rm = torch.zeros(3)\nrv = torch.ones(3)\ny = F.batch_norm(x, rm, rv, training=True)\ny"
    assert "detach" in _ops(named, x=x)  # rm and rv hold the moved statistics (of the detached batch's)
    read = "rm = torch.zeros(3)\nrv = torch.ones(3)\ny = F.batch_norm(x, rm, rv, training=True, momentum=0.5)\nrm"
    np.testing.assert_allclose(api.evaluate(read, {"x": x}), 0.5 * x.mean(axis=0))


@pytest.mark.parametrize("text", [
    "n = int(x.shape[0] / 2)\nx * n ** -1",  # Python's int to a negative power is a float (NumPy's int64 refuses)
    "n = int(2.7)\nx * n ** -2",
    "n = int(-2.7)\nx * n",
    "n = int(x.shape[0]) * 2 ** 62\nx * n",  # Python's int does not wrap (int64 made this -2**63 * x[0] / 3)
    "n = int(2 ** 60 + 1) - 2 ** 60\nx * n",  # exact, not through a float
    "n = int(True)\nx * n",
])
def test_pythons_int_of_a_constant_is_pythons_int(text):
    _agrees_with_python(text)


def test_pythons_int_of_nan_is_refused_as_python_refuses_it():
    with pytest.raises(JacError, match="cannot convert NaN"):
        api.evaluate("int(float('nan')) * x", {"x": X})


@pytest.mark.parametrize("text", [
    "round(2.5) * x", "round(3.5) * x", "round(-2.5) * x", "round(2.67, 1) * x", "round(0.125, 2) * x",
    "round(1234, -2) * x", "round(x.shape[0] / 2) ** -1 * x",  # Python's int, to a negative power
    "(3 > 2 > 1) * x", "(1 < 2 > 3) * x", "(x.shape[0] == 3 == len(x)) * x", "(1 < 2 < 3 < 2) * x",
    "y = x * 2 if 0 < x.ndim < 3 else x\ny",
])
def test_pythons_round_and_chained_comparisons_of_numbers_are_pythons(text):
    _agrees_with_python(text)


@pytest.mark.parametrize("text,says", [
    # Python's round(2.675, 2) is 2.67 (its exact binary value), NumPy's scalar's 2.68: jac cannot tell them apart
    ("round(2.675, 2) * x", "Python's round of a float gives 2.67, NumPy's of a NumPy scalar 2.68"),
    ("round(float('inf')) * x", "cannot convert inf"),
    ("(0 < x < 3) * x", r"write \(0 < x\) & \(x < 3\)"),  # Python's and of arrays: NumPy refuses it
])
def test_what_python_and_numpy_disagree_on_or_refuse_is_refused(text, says):
    with pytest.raises(JacError, match=says):
        api.evaluate(text, {"x": X})


@pytest.mark.parametrize("text", [
    "a, *b = [x, 2 * x, 3 * x]\nnp.stack(b)",
    "*a, b = [x, 2 * x, 3 * x]\nnp.stack(a) * b",
    "a, *b, c = [x, 2 * x]\nlen(b) * a + c",  # the starred name takes an empty list
    "B, *rest = x.reshape(3, 1).shape\nx.reshape(B, *rest) * 2",
    "*lead, n = x.reshape(1, 3).shape\nx * n * len(lead)",
    "a, *b = x\nnp.stack(b) * a",  # an array's rows
    "(a, *b), c = [x, 2 * x, 3 * x], 4 * x\nb[1] + c",
    "a, *b = [x, 2 * x]\nb.append(x)\nnp.stack(b)",
])
def test_starred_assignment_is_pythons(text):
    _agrees_with_python(text)


def test_starred_assignment_with_too_few_values_is_refused_as_python_refuses_it():
    with pytest.raises(JacError, match=r"not enough values to unpack \(expected at least 2, got 1\)"):
        api.evaluate("a, *b, c = [x]\na", {"x": X})


CLOSURES = [
    "def make(w):\n    def f(v):\n        return w * v\n    return f\nmake(2 * x)(x)",
    "def make(w):\n    return lambda v: w * v ** 2\ng = make(x)\ng(x) + g(2 * x)",
    "a = 1\ndef f(v):\n    return a * v\na = a + 2\nf(x)",  # Python looks a up when f runs: 3 * x
    "def make(s):\n    def f(v):\n        return v.reshape(s + (1,))\n    return f\nmake(x.shape)(x)",
    "def outer(a):\n    def mid(b):\n        def inner(v):\n            return a * b * v\n        return inner\n    return mid\nouter(x)(2)(x)",
    "def f(v):\n    return k * v\nk = 7\nf(x)",  # a global defined after the function, before the call
    "def compose(f, g):\n    return lambda v: f(g(v))\ncompose(lambda v: v ** 2, lambda v: np.sin(v))(x)",
    "def make(w):\n    def f(v):\n        return w * v\n    w = w + 1\n    return f\nmake(x)(x)",  # late binding inside
]


@pytest.mark.parametrize("text", CLOSURES)
def test_closures_see_the_names_of_the_function_that_made_them_as_python_does(text):
    _agrees_with_python(text)


def test_calling_an_array_as_a_function_is_refused():
    with pytest.raises(JacError, match="is an array, not a function"):
        api.evaluate("def f(v):\n    return v * 2\nf(x)(3)", {"x": X})


SEQUENCE_ARGUMENTS = [
    "def f(v, s):\n    return v.reshape(s + (1,))\nf(x, x.shape)",  # was an elementwise 3 + 1: reshape to (4,)
    "def f(v, s):\n    return s + (1,)\nnp.array(f(x, x.shape)) * x[0]",  # was [0.], Python's [0., 0.]
    "def f(s):\n    return s\nx.reshape(f(x.shape) + (1,)) + f(x) + (1,)",  # one function, a tuple then an array
    "f = lambda s: s + (1,)\nx.reshape(f(x.shape))",
    "def f(v, s=(3,)):\n    return v.reshape(s + (1,))\nf(x)",
    "def f(v, s=(3,)):\n    return v.reshape(s + (1,))\nf(x, s=(1, 3))",
    "def f(v, *, s):\n    return v.reshape(s + (1,))\nf(x, s=x.shape)",
    "def f(s):\n    return s * 2\nx.reshape(f(x.shape)[:1] + (1,))",
    "def f(v, s):\n    return v[s]\nf(x, [0, 2])",
]


@pytest.mark.parametrize("text", SEQUENCE_ARGUMENTS)
def test_a_tuple_given_to_or_returned_by_a_function_stays_a_tuple(text):
    _agrees_with_python(text)
