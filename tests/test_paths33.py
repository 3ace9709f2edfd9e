"""Session 33 (h33b-paths): every result path gives the interpreter's answer, as a fresh array of the caller's own.

Found by benchmarks/paths33_fuzz.py: the interpreter's first calls handed back a graph's constant (a write into
the result changed every later answer), the caller's input (``B.T``), v (a vjp of ``x + 1``) or a tangent (a jvp
of ``flip(x)``) where the kernels of the third call copy; and a kernel gave a one-element value as a NumPy scalar
where the interpreter gives a 0-d array."""

from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.tools import api

CALLS = 5  # the first two interpreted, the third compiles a kernel, the rest run it


@pytest.fixture(autouse=True)
def _fresh_cache():
    api.clear_cache()
    yield
    api.clear_cache()


def _overwritten(result):
    for a in result.values() if isinstance(result, dict) else [result]:
        a[...] = 1e300


def test_a_constant_value_written_into_by_the_caller_leaves_later_calls_alone():
    for _ in range(CALLS):
        y = api.evaluate("np.ones(3) * 2")
        assert y.tolist() == [2.0, 2.0, 2.0]
        _overwritten(y)
    f = api.compile("np.arange(3.0)[::-1]")
    for _ in range(CALLS):
        y = f.value({})
        assert y.tolist() == [2.0, 1.0, 0.0]
        _overwritten(y)


@pytest.mark.parametrize("expr", ["B", "B.T", "np.flip(B, 0)", "B[1]", "B.reshape(16)"])
def test_a_value_is_never_the_callers_array(expr):
    B = np.arange(16.0).reshape(4, 4)
    keep = B.copy()
    want = eval(expr, {"np": np, "B": keep}).copy()
    for _ in range(CALLS):
        y = api.evaluate(expr, {"B": B})
        assert not np.shares_memory(y, B)
        assert np.array_equal(y, want)
        _overwritten(y)
        assert np.array_equal(B, keep)


@pytest.mark.parametrize("expr", ["np.sum(x)", "x @ x", "np.linalg.norm(x) * s", "s // s"])
def test_a_one_element_value_is_a_0d_array_on_every_path(expr):
    env = {"x": np.array([1.0, 2.0, 3.0]), "s": np.array(0.5)}
    env = {n: a for n, a in env.items() if n in expr}
    found = [api.evaluate(expr, env) for _ in range(CALLS)]
    assert all(type(y) is np.ndarray and y.shape == () for y in found), [type(y) for y in found]
    assert len({y.tobytes() for y in found}) == 1


@pytest.mark.parametrize("expr, grad", [("x + 1", lambda v: v), ("x", lambda v: v), ("np.flip(x)", np.flip),
                                        ("x.reshape(2, 2).T", lambda v: v.T.reshape(4))])
def test_a_vjp_is_never_v_itself(expr, grad):
    x = np.arange(4.0)
    v = np.array([1.0, -2.0, 3.0, 0.5]).reshape(np.shape(eval(expr, {"np": np, "x": x})))
    keep_v, keep_x = v.copy(), x.copy()
    for _ in range(CALLS):
        g = api.vjp(expr, {"x": x}, v=v)
        assert not np.shares_memory(g["x"], v)
        assert np.array_equal(g["x"], grad(keep_v))
        _overwritten(g)
        assert np.array_equal(v, keep_v) and np.array_equal(x, keep_x)


@pytest.mark.parametrize("expr, push", [("x + 1", lambda t: t), ("np.flip(x)", np.flip), ("x[::2] * 1", lambda t: t[::2])])
def test_a_jvp_is_never_the_tangent_itself(expr, push):
    x, t = np.arange(4.0), np.array([1.0, -2.0, 3.0, 0.5])
    keep = t.copy()
    for _ in range(CALLS):
        out = api.jvp(expr, {"x": x}, {"x": t})
        assert not np.shares_memory(out, t)
        assert np.array_equal(out, push(keep))
        _overwritten(out)
        assert np.array_equal(t, keep)
