"""Thirty-first session (probe): Python's own values (tuples, lists, ranges, ints) through the text, as Python
runs them: a tuple kept in a list, a dict, a comprehension, a conditional expression, taken out by a loop,
unpacking or an index, stays a tuple; a tuple's arithmetic and comparisons with a number are Python's (one bool,
or Python's TypeError), never NumPy's element-wise answer. ``benchmarks/pyvalues31_probe.py`` found them."""
from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

X = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])


def _python(text: str, x: np.ndarray):
    """``text`` run by Python itself with NumPy's arrays: its last line's value."""
    env = {"np": np, "x": x}
    *statements, last = text.split("\n")
    exec("\n".join(statements), env)  # noqa: S102 - the test's own text
    return np.asarray(eval(last, env), dtype=float)  # noqa: S307


def _agrees_with_python(text: str) -> None:
    """jac's value is Python's, and where it depends on x its Jacobian Python's central differences."""
    want = _python(text, X)
    np.testing.assert_array_equal(api.evaluate(text, {"x": X}), want)
    jac = np.asarray(api.jacobian(text, {"x": X})["x"])
    h, columns = 1e-6, []
    for j in range(X.size):
        e = np.zeros(X.size)
        e[j] = h
        columns.append((_python(text, X + e.reshape(X.shape)) - _python(text, X - e.reshape(X.shape))) / (2 * h))
    np.testing.assert_allclose(jac, np.stack(columns, axis=-1).reshape(want.shape + X.shape), rtol=1e-7, atol=1e-7)


# each was a silently wrong value: the tuple's mark lost on the way, so + and * were element-wise
KEPT = [
    "l = [x.shape]\ns = l[0]\nx.reshape(s + (1,))",  # was [3, 4]: reshape refused, np.array(...) silently wrong
    "l = [x.shape]\ns = l[0]\nx[0, 0] * np.array(s + (1,))",
    "t = (x.shape,)\ns = t[0]\nx[0, 0] * np.array(s * 2)",  # was [4, 6]
    "l = [0, 1]\nm = [(1, 2), (0, 1)]\nx[0, 0] * np.array(m[0] + m[1])",
    "l = [[1, 2], [3, 4]]\nx[0, 0] * np.array(l[1] + l[0])",
    "l = [x.shape, (1, 1)]\nx[0, 0] * np.array(l[:1][0] + (1,))",  # a slice of the list holds the tuples still
    "d = {'k': x.shape}\ns = d['k']\nx[0, 0] * np.array(s + (1,))",
    "d = {'k': (1, 2)}\nx[0, 0] * np.array(d['k'] * 2)",
    "d = {'k': x.shape}\nx.sum() * (d['k'] == (2, 3))",  # was [21, 21]: one bool in Python
    "s = x.shape if x.ndim == 2 else None\nx.reshape(s + (1,))",
    "s = None if x.ndim == 5 else x.shape\nx[0, 0] * np.array(s * 2)",
    "for s in [x.shape]:\n    pass\nx[0, 0] * np.array(s + (1,))",
    "for i, s in enumerate([x.shape, (1, 6)]):\n    pass\nx.reshape(s + (1,)) * i",
    "for t, s in zip([0], [x.shape]):\n    pass\nx[0, 0] * np.array(s * 2)",
    "s = [t for t in [x.shape]][0]\nx[0, 0] * np.array(s + (1,))",
    "x[0, 0] * np.array([d * 2 for d in x.shape] * 2)",  # a list comprehension is a list: * repeats it
    "l = [x[i] * 2 for i in range(2)]\nnp.stack(l + l)",  # and + concatenates (was element-wise: 2 rows)
    "a, b = [(1, 2), (0, 1)]\nx[0, 0] * np.array(a + b)",
    "def f(v, s):\n    return v.reshape(s + (1,))\nl = [x.shape]\nf(x, l[0])",
    "def make():\n    t = [x.shape]\n    def g():\n        return t[0]\n    return g\nx[0, 0] * np.array(make()() + (1,))",
    "x.sum() * (x.shape[0] == (2, 3))",  # was [21, 0]: an int is never a tuple
    "s = len(x)\nx.sum() * (s != (2, 3))",
    "x.sum() * (x.shape == 2)",
    "x[0, 0] * np.array(x.shape * True)",  # a bool is an int: repeated once
    "x[0, 0] * np.array(x.shape * np.int64(2))",  # a NumPy integer repeats too (its __index__)
    "x.sum() * (range(2) == [0, 1])",  # a range never equals a list
    "x.sum() * (range(2) == range(2))",
    "x[0, 0] * np.array(list(range(2)) * 2)",  # a list of the range repeats
    "l = [0, True]\ns = l[-1]\n(x + s) * (s + s)",  # Python's bool: True + True is 2
    "flags = [True, False]\nfor f in flags:\n    pass\nx * (f is None) + x * f + 1.0",
    "d = {'k': (1, 2)}\ne = {**d}\nx[0, 0] * np.array(e['k'] * 2)",  # a dict unpacked into another keeps it
]


@pytest.mark.parametrize("text", KEPT)
def test_a_python_value_through_the_text_is_what_python_makes_of_it(text):
    _agrees_with_python(text)


# Python raises on each; jac answered NumPy's element-wise arithmetic
REFUSED = [
    ("s = x.shape\nx[0, 0] * np.array(s // 2)", "a Python tuple '//' a number is an error in Python"),
    ("x[0, 0] * np.array(x.shape % 4)", "a Python tuple '%' a number"),
    ("x[0, 0] * np.array(x.shape ** 2)", "a Python tuple '\\*\\*' a number"),
    ("x[0, 0] * np.array(x.shape / 2)", "a Python tuple '/' a number"),
    ("x[0, 0] * np.array(x.shape + True)", "a Python tuple plus a number"),
    ("x[0, 0] * np.array(x.shape - x.shape)", "'-' of two Python lists or tuples"),
    ("x[0, 0] * np.array(-x.shape)", "'-' of a Python tuple"),
    ("x.sum() * (x.shape < 3)", "'<' between a Python tuple and a number"),
    ("x[0, 0] * np.array([0, 1] + (1,))", 'can only concatenate list \\(not "tuple"\\) to list'),
    ("def g(s):\n    return s // 2\nx[0, 0] * np.array(g(x.shape))", "'//' a number"),
    ("l = [x.shape]\nx[0, 0] * np.array(l[0] // 2)", "'//' a number"),
    ("s = x.shape[0]\nx[0, 0] * max(s)", "max\\(\\) of one number is an error in Python"),
    ("x[0, 0] * sum(len(x))", "sum\\(\\) of one number"),
    ("x[0, 0] * min(x.ndim)", "min\\(\\) of one number"),
    ("for s in [True]:\n    pass\nx[0, 0] * sum(s)", "sum\\(\\) of one number"),  # a bool is a number too
    ("x[0, 0] * np.array(range(2) * 2)", "of a Python range is an error in Python"),
    ("x[0, 0] * np.array(2 * range(2))", "of a Python range"),
    ("s = range(2)\nx[0, 0] * np.array(s + (1,))", "of a Python range"),
    ("def f():\n    return range(2)\nx[0, 0] * np.array(f() * 2)", "of a Python range"),
    ("x.sum() * (range(2) < range(3))", "of a Python range"),
]


@pytest.mark.parametrize("text,says", REFUSED)
def test_what_python_refuses_of_its_own_values_is_refused(text, says):
    with pytest.raises(Exception):
        _python(text, X)
    with pytest.raises(JacError, match=says):
        api.evaluate(text, {"x": X})


# unchanged: arrays keep NumPy's arithmetic beside the tuples
ARRAYS = [
    "x + x.shape[::-1][1:]",  # an array plus a tuple: element-wise, as NumPy
    "x[0, 0] == (1, 2)",  # an array compared with a tuple: element by element
    "np.array(x.shape) // 2 * x[0, 0]",
    "x.sum() * len([d for d in x.shape])",
    "s = x.shape\nfor s in x:\n    pass\ns * 2",  # the loop rebinds s to a row: no tuple any more
    "sum([x[i] for i in range(2)])",
    "x[:, list(range(2)) * 1]",
    # an array made of the tuple may be the same constant node: it is an array all the same
    "s = x.shape\nd = {'k': s}\na = np.asarray(s)\ne = {'k': a}\nx[0, 0] * (e['k'] * 2)",
    "l = [x.shape]\nm = np.asarray(l)\nfor r in m:\n    pass\nx[0, 0] * (r * 2)",
    "l = [x.shape]\nm = np.asarray(l)\na, = m\nx[0, 0] * (a * 2)",
    "l = [x.shape]\nm = np.asarray(l)\nx[0, 0] * (m[0] * 2)",
]


@pytest.mark.parametrize("text", ARRAYS)
def test_arrays_beside_python_values_keep_numpys_arithmetic(text):
    _agrees_with_python(text)


@pytest.mark.parametrize("text", ["l = [0, True]\nx[l[1]]", "for s in [True]:\n    pass\nx[0, s]",
                                  "t, s = 0, True\nx[s]"])
def test_a_bool_from_a_list_is_no_index_one(text):
    """Python's bool as an index is NumPy's mask of one (x[True] adds an axis): refused as x[True] is; it was the
    row 1.0, x[1]."""
    assert _python(text, X).shape != np.shape(X[1])
    with pytest.raises(JacError, match="indices must be integer constants"):
        api.evaluate(text, {"x": X})
