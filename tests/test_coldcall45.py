"""Session 45 (h45-coldcall): the first call's shortcuts give what the paths they skip give.

Each test compares a shortcut with the path it skips; each was checked failing with its shortcut broken
on purpose (see the comments)."""
from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.engine import autodiff
from jacobi_cli.engine.compiled import Compiled, _inputs_of
from jacobi_cli.errors import JacError
from jacobi_cli.lang.bindings import given_array, numeric, numeric_value

VALUES = [
    np.array([1.0, 2.0]), np.array([1.0, 2.0], np.float32), np.array(3.0), np.array([1, 2]), np.array([True, False]),
    np.array([1j]), np.array(["a"]), np.array([1, "a"], dtype=object), np.array(None, dtype=object),
    np.array([np.longdouble(1) / 3]), np.ma.array([1.0, 2.0], mask=[False, True]), np.ma.array([1.0, 2.0]),
    np.array([[1.0, 2.0]]).T,  # not contiguous
]


def _skipped_path(value, dtype):
    """numeric_value as it was before the shortcut: every value through given_array."""
    from jacobi_cli.ir.dtypes import held_in
    array = numeric("v", given_array("v", value, "v"), value)
    return array if array.dtype.type is dtype else held_in(array, dtype)


def _outcome(f, *args):
    try:
        out = f(*args)
    except JacError as err:
        return ("refused", type(err).__name__, err.message)
    return ("answered", type(out), out.dtype, out.shape, out.tobytes())


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("k", range(len(VALUES)))
def test_numeric_value_of_an_ndarray_is_given_arrays(k, dtype):
    # broken on purpose (isinstance(value, np.ndarray) for the shortcut's test): the masked array with a masked
    # element is taken, not refused, and this fails
    value = VALUES[k]
    assert _outcome(numeric_value, "v", value, dtype) == _outcome(_skipped_path, value, dtype)


def test_numeric_value_gives_the_array_itself_in_its_dtype():
    v = np.array([1.0, 2.0])
    assert numeric_value("v", v, np.float64) is v


@pytest.mark.parametrize("expr, env_names", [("sin(x)", ("x",)), ("x * y", ("x", "y")), ("x * y", ("y", "x")),
                                              ("x * y", ("x", "y", "z")), ("sin(x)", ("x", "y"))])
def test_inputs_of_is_the_graphs_inputs_in_order(expr, env_names):
    # broken on purpose (env itself whenever the lengths agree): ("y", "x") keeps the caller's order, and this fails
    graph = Compiled(expr, {n: (2,) for n in ("x", "y") if n in expr}, checked=False).graph
    env = {n: np.arange(2.0) + i for i, n in enumerate(env_names)}
    got = _inputs_of(env, graph.inputs)
    assert list(got) == list(graph.inputs)
    assert all(got[n] is env[n] for n in got)
    assert (got is env) == (list(env) == list(graph.inputs))


def test_bind_reads_the_values_by_name_whatever_the_order():
    c = Compiled("x - 2 * y", {"x": (2,), "y": (2,)}, checked=False)
    x, y = np.array([1.0, 2.0]), np.array([10.0, 20.0])
    for env in ({"x": x, "y": y}, {"y": y, "x": x}):
        problem = c.bind(env)
        assert list(problem.env) == ["x", "y"]
        np.testing.assert_array_equal(problem.output, x - 2 * y)


def _state():
    return np.geterr(), np.getbufsize(), np.geterrcall()


@pytest.mark.parametrize("caller", [{}, {"all": "raise"}, {"all": "ignore"}, {"divide": "warn", "invalid": "raise"}])
def test_passes_ignore_floating_point_errors_and_restore_the_callers_state(caller):
    # broken on purpose (evaluate's or vjp's inline reset left out): the state after the pass is not the
    # caller's, and this fails
    c = Compiled("log(x) * x / x", {"x": (2,)}, checked=False)
    env = {"x": np.array([0.0, 1.0])}
    with np.errstate(**caller):
        before = _state()
        problem = c.bind(env)  # evaluate: log(0), 0 / 0
        assert _state() == before
        grads = autodiff.vjp(problem.graph, problem.values, np.ones((1, 2)))  # its rules: 1 / 0
        assert _state() == before
    assert np.isnan(problem.output[0]) and problem.output[1] == 0.0
    assert grads["x"].shape == (1, 2)


def test_a_callers_setbufsize_goes_through_errstate():
    c = Compiled("log(x)", {"x": (2,)}, checked=False)
    old = np.getbufsize()
    try:
        np.setbufsize(16384)
        with np.errstate(all="raise"):
            before = _state()
            c.bind({"x": np.array([0.0, 1.0])})
            assert _state() == before
    finally:
        np.setbufsize(old)


def test_unaliased_arrays_copies_the_views_of_inputs_as_the_comprehension_did():
    # broken on purpose (found returned as it is): the view of A is kept, and this fails
    from jacobi_cli.engine.compiled import _PAIRWISE, _in_inputs, _unaliased_arrays
    A, x = np.arange(6.0).reshape(2, 3), np.arange(3.0)
    for env in ({"A": A, "x": x}, {f"w{i}": np.zeros(2) for i in range(_PAIRWISE + 1)} | {"A": A, "x": x}):
        found = {"x": A, "y": A[:, 1], "z": np.ones(3), "t": A.T}
        expected = {n: (a.copy() if _in_inputs(a, env) else a) for n, a in found.items()}
        kept = dict(found)
        got = _unaliased_arrays(dict(found), env)
        assert list(got) == list(expected)
        for n, a in got.items():
            np.testing.assert_array_equal(a, expected[n])
            assert not any(np.may_share_memory(a, v) for v in env.values()), n
            assert (a is kept[n]) == (not _in_inputs(kept[n], env)), n



def test_the_cache_counts_each_kept_function_once_and_drops_its_bytes_with_it():
    # broken on purpose (the bytes counted whether or not the key was new): the second put of key 0 counts fs[0]'s
    # bytes twice (its total passes the sum of the kept functions'), and this fails
    from jacobi_cli.tools import api
    fs = [Compiled("x * 2", {"x": (n + 1,)}) for n in range(5)]
    each = [f.held_bytes() for f in fs]
    cache = api.CompiledCache(size=3)
    for n in range(3):
        assert cache.put(n, fs[n]) is fs[n]
    assert cache.put(0, fs[4]) is fs[0] and cache.put(0, fs[0]) is fs[0]  # kept first wins, counted once
    assert cache.held_bytes() == sum(each[:3]) and len(cache) == 3
    cache.get(0)
    cache.put(3, fs[3])  # 1, the least recently used, dropped with its bytes
    assert cache.get(1) is None and cache.held_bytes() == each[0] + each[2] + each[3]
    assert set(cache._held) == {fs[0], fs[2], fs[3]}
    small = api.CompiledCache(size=10, max_bytes=max(each) + 1)
    for n in range(3):
        small.put(n, fs[n])
    assert len(small) == 1 and small.get(2) is fs[2] and small.held_bytes() == each[2]
