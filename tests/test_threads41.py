"""Threads and long-running processes (session 41): what a user of the API breaks by calling it from threads
with their own NumPy state, for hours, with budgets that move.

- A compiled function keeps a bounded memo: a held function's Hessian called with ever new budgets kept one
  plan per budget (3,000 budgets: 3,000 plans), and any memo key a call can vary (wrt lists) is capped.
- The default budget (and a share such as "50%") holds while the machine's free memory moves by a few pages:
  below 2 GiB it is part of the API's cache key, and a budget changing every second compiled the same call
  again every second.
- The caller's NumPy error state never changes an answer: a float64 value past float32's range given to a
  float32 call is inf in every thread (a thread that had set np.seterr(over="raise") got a FloatingPointError
  traceback from jac's own conversion, where the text binding "[1e300]" and every other thread got inf).
- Many threads of mixed calls (dtypes, budgets, structured, held functions, errors), each thread with its own
  error state and buffer size: every answer is the serial one, bit for bit, and each state is left as it was.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
import time
import warnings

import numpy as np
import pytest

import jacobi_cli
from jacobi_cli.engine import compiled as compiled_module
from jacobi_cli.engine import memory
from jacobi_cli.errors import JacError
from jacobi_cli.tools import api


def _freeze(result):
    if isinstance(result, BaseException):
        return ("error", type(result).__name__, str(result))
    if isinstance(result, (tuple, list)):
        return ("sequence", tuple(_freeze(r) for r in result))
    if isinstance(result, dict):
        return tuple((repr(k), _freeze(v)) for k, v in sorted(result.items(), key=lambda kv: repr(kv[0])))
    a = np.asarray(result)
    return ("array", str(a.dtype), a.shape, a.tobytes())


def _run(job):
    try:
        return _freeze(job())
    except Exception as err:  # noqa: BLE001 - compared with the serial answer
        return _freeze(err)


# --- bounded memory of a long-running process --------------------------------------------------------------

def test_a_held_functions_hessian_keeps_one_plan_whatever_the_budget():
    f = jacobi_cli.compile("sum(sin(A @ x) * x)", {"x": ":6", "A": ":6x6"})
    env = {"x": np.linspace(-1, 1, 6), "A": np.eye(6) + 0.1}
    want = f.hessian(env, wrt=["x"])
    for k in range(200):
        got = f.hessian(env, wrt=["x"], budget=10**6 + k)
        assert np.array_equal(got[("x", "x")], want[("x", "x")])
    assert sum(1 for key in f._memo if key[0] == "hessian") == 1


def test_a_smaller_limit_per_array_still_refuses_the_blocks():
    """The kept plan is fitted without the limit per array; a call's own limit still refuses what passes it."""
    f = jacobi_cli.compile("sum(x * x)", {"x": ":100"})
    env = {"x": np.ones(100)}
    f.hessian(env)  # a plan kept, fitted with the default limit
    with pytest.raises(JacError) as err:
        f.hessian(env, budget=40_000)  # the 80,000-byte block is over the budget and the limit per array
    assert err.value.kind == "limit"
    plan = f.hessian_plan_of(f.bind(env), budget=10**6)
    assert plan.max_bytes == 10**6 and plan.budget == 10**6


def test_the_memo_of_a_compiled_function_is_bounded(monkeypatch):
    monkeypatch.setattr(compiled_module, "MAX_MEMO", 8)
    names = "abcdef"
    f = jacobi_cli.compile(" + ".join(f"sum(sin({n}))" for n in names), {n: ":2" for n in names})
    env = {n: np.full(2, 0.5 + i) for i, n in enumerate(names)}
    want = f.jacobian(env)
    for wrt in itertools.islice(itertools.permutations(names, 3), 40):  # a new wrt list each call
        got = f.jacobian(env, wrt=list(wrt))
        assert all(np.array_equal(got[n], want[n]) for n in wrt)
        got = f.vjp(env, wrt=list(wrt))
        assert all(np.array_equal(got[n], np.cos(env[n])) for n in wrt)
    assert len(f._memo) <= 8


def test_the_default_budget_holds_while_free_memory_moves(monkeypatch):
    pages = itertools.count()
    monkeypatch.setattr(memory, "available_bytes", lambda: 3 * 2**30 + next(pages) * 37 * 4096)  # a 3 GiB machine
    api.clear_cache()
    x = np.linspace(0.5, 1.5, 5)
    try:
        for _ in range(10):  # ten seconds
            memory.budget_in_second.cache_clear()
            for _ in range(3):
                J = jacobi_cli.jacobian("sin(x) * x", {"x": x})["x"]
                jacobi_cli.jacobian("sin(x) * x", {"x": x}, max_memory="50%")
        assert len(api._CACHE) == 1  # was one compiled function per second
        assert np.array_equal(J, np.diag(np.cos(x) * x + np.sin(x)))
        (found,) = api._CACHE._entries.values()
        assert found.kernels()  # the repeated call reached its kernel
    finally:
        memory.budget_in_second.cache_clear()
        api.clear_cache()


def test_a_steady_budget_is_at_most_a_64th_below_the_reading():
    for n in (1, 100, 127, 128, 129, 10**6, 3 * 2**30 + 12345, 10195656704):
        s = memory.steady(n)
        assert n - n / 64 <= s <= n and memory.steady(s) == s
    assert memory.steady(3 * 2**30 + 4096) == memory.steady(3 * 2**30 + 37 * 4096)


# --- the caller's NumPy state ------------------------------------------------------------------------------

OVERFLOWING = [
    ("array", lambda: jacobi_cli.evaluate("x * 2", {"x": np.array([1e300, 1.0])}, dtype="float32")),
    ("list", lambda: jacobi_cli.jacobian("x * 2", {"x": [1e300, 1.0]}, dtype="float32")["x"]),
    ("text", lambda: jacobi_cli.evaluate("x * 2", {"x": "[1e300, 1.0]"}, dtype="float32")),
    ("held", lambda: jacobi_cli.compile("x * 2", {"x": ":2"}, dtype="float32").value({"x": np.array([1e300, 1.0])})),
    ("v", lambda: jacobi_cli.vjp("x * 2", {"x": np.ones(2, np.float32)}, np.array([1e300, 1.0]),
                                 dtype="float32")["x"]),
    ("v list", lambda: jacobi_cli.vjp("x * 2", {"x": np.ones(2, np.float32)}, [1e300, 1.0], dtype="float32")["x"]),
    ("tangent", lambda: jacobi_cli.jvp("x * 2", {"x": np.ones(2, np.float32)}, {"x": np.array([1e300, 1.0])},
                                       dtype="float32")),
    ("batch", lambda: jacobi_cli.jacobian("x * 2", {"x": np.array([[1e300], [1.0]])}, dtype="float32",
                                          batch=["x"])["x"]),
]


@pytest.mark.parametrize("label, call", OVERFLOWING, ids=[label for label, _ in OVERFLOWING])
@pytest.mark.parametrize("state", ["raise", "warn", "ignore"])
def test_the_callers_error_state_never_changes_the_answer(label, call, state, recwarn):
    with np.errstate(all="ignore"):
        want = _run(call)
    assert want[0] != "error"
    with np.errstate(all=state):
        for _ in range(3):  # the interpreter, then a kernel
            assert _run(call) == want
            assert np.geterr() == {k: state for k in ("divide", "over", "under", "invalid")}
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]  # NumPy's cast warning, into jac's source


# --- threads ---------------------------------------------------------------------------------------------

def _jobs():
    jobs = []
    for text in ("sin(x) * x**2 + exp(-x)", "tanh(A @ x)", "softmax(x)", "a = x * 2; a, sum(x)", "x / (x - x)",
                 "exp(x) * 1e30"):
        for n in (3, 8):
            for dtype in ("float64", "float32"):
                rng = np.random.default_rng(n)
                b = {"x": rng.uniform(-2, 2, n).astype(dtype)}
                if "A" in text:
                    b["A"] = (rng.standard_normal((n, n)) / n).astype(dtype)
                jobs += [lambda t=text, b=b, d=dtype: jacobi_cli.jacobian(t, b, dtype=d),
                         lambda t=text, b=b, d=dtype: jacobi_cli.jacobian(t, b, dtype=d, wrt="x", structured=True),
                         lambda t=text, b=b, d=dtype: jacobi_cli.jacobian(t, b, dtype=d, wrt="x", max_memory=1500),
                         lambda t=text, b=b, d=dtype, n=n: jacobi_cli.jvp(t, b, {"x": np.ones(n)}, dtype=d),
                         lambda t=text, b=b, d=dtype: jacobi_cli.evaluate(t, b, dtype=d)]
    jobs += [lambda: jacobi_cli.jacobian("tanh(A @ x)", {"x": ":4", "A": ":4x4"}, seed=s) for s in (0, 3)]
    jobs += [lambda: jacobi_cli.vjp("x * 2", {"x": np.ones(3)}),  # errors, each to its own call
             lambda: jacobi_cli.jacobian("x + y", {"x": np.ones(3)}),
             lambda: jacobi_cli.evaluate("cholesky(A)", {"A": -np.eye(3)})]
    jobs += [call for _, call in OVERFLOWING]
    return jobs


def test_threads_of_their_own_numpy_state_get_the_serial_answers():
    api.clear_cache()
    jobs = _jobs()
    with np.errstate(all="ignore"):
        serial = [_run(job) for job in jobs]
    api.clear_cache()
    states = [dict(all="raise"), dict(all="warn"), dict(all="ignore"), dict(over="raise", invalid="ignore")]
    wrong, moved = [], []

    def worker(t):
        np.seterr(**states[t % len(states)])
        np.setbufsize(8192 * (1 + t % 3))
        mine = (np.geterr(), np.getbufsize())
        for i in np.random.default_rng(t).permutation(len(jobs)):
            found = _run(jobs[i])
            if found != serial[i]:
                wrong.append((i, states[t % len(states)], found[:3]))
        if (np.geterr(), np.getbufsize()) != mine:
            moved.append(t)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        pool = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert not wrong, wrong[:5]
    assert not moved


# --- process-wide settings and forks -------------------------------------------------------------------------

def test_deep_stack_threads_leave_the_stack_size_and_start_on_their_own_stack(monkeypatch):
    from jacobi_cli.lang import deep

    sizes, original = [], threading.Thread.start

    def start(self):
        if self.name == deep.THREAD_NAME:
            sizes.append(threading.stack_size())
        return original(self)

    monkeypatch.setattr(threading.Thread, "start", start)
    before = threading.stack_size()
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        for _ in range(20):
            pool = [threading.Thread(target=lambda: [deep.with_deep_stack(lambda: time.sleep(0.001)) for _ in range(4)])
                    for _ in range(4)]
            for t in pool:
                t.start()
            for t in pool:
                t.join()
            assert threading.stack_size() == before  # was left at 512 MiB: every later thread reserved it
    finally:
        sys.setswitchinterval(old)
    assert sizes and set(sizes) == {deep.DEEP_STACK}  # never the default stack under a raised recursion limit


def _lock_and_use():
    from jacobi_cli.lang import deep, parser

    return [  # (what, the lock, work in the child that takes it, its answer)
        ("parse", parser._AST_LOCK, lambda: float(jacobi_cli.evaluate("y = x * 41\ny", {"x": 2.0})), 82.0),
        ("cache", api._CACHE._lock, lambda: float(jacobi_cli.evaluate("x + 41", {"x": 2.0})), 43.0),
        ("recursion limit", deep._LIMIT._lock, lambda: deep.with_deep_stack(lambda: 41), 41),
        ("stack size", deep._STACK, lambda: deep.with_deep_stack(lambda: 42), 42),
    ]


@pytest.mark.skipif(not hasattr(os, "register_at_fork"), reason="no fork")
@pytest.mark.parametrize("which", range(4), ids=["parse", "cache", "recursion limit", "stack size"])
def test_a_fork_while_another_thread_holds_a_lock_of_jacs_leaves_the_child_free(which):
    """jac diff's bounded child (tools/bounded.call) forked while another thread of the program parsed or
    compiled: the child's copy of the lock stayed held, and the child waited to its time limit."""
    from jacobi_cli.tools import bounded

    label, lock, use, want = _lock_and_use()[which]
    held, done = threading.Event(), threading.Event()

    def holder():
        with lock:
            held.set()
            time.sleep(0.3)
        done.set()

    t = threading.Thread(target=holder)
    t.start()
    held.wait()
    try:
        got = bounded.call(use, 10.0, f"the {label} test")  # was a JacLimitError after 10 s
    finally:
        t.join()
    assert got == want


# --- warnings of other threads -------------------------------------------------------------------------------

def test_warnings_another_thread_raises_while_jac_parses_all_arrive(monkeypatch):
    """The parse swapped the process's warning filters for "ignore" (warnings.catch_warnings, which is not
    thread-safe): a thread's warnings raised meanwhile were dropped (95 % of them, parsing all the time)."""
    from jacobi_cli.lang import parser

    seen = []
    monkeypatch.setattr(warnings, "filters", [])  # restored by monkeypatch, whatever the parses do
    monkeypatch.setattr(warnings, "showwarning", lambda message, *args, **kwargs: seen.append(str(message)))
    warnings.simplefilter("always")
    stop = threading.Event()

    def parse():
        while not stop.is_set():
            parser._parse_quietly("y = sin(x) * 2.5e-3 + x @ W1\ny.sum()\n" * 20)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    t = threading.Thread(target=parse)
    t.start()
    raised = 0
    try:
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            warnings.warn(f"warning {raised}", UserWarning)
            raised += 1
    finally:
        stop.set()
        t.join()
        sys.setswitchinterval(old)
    assert len(seen) == raised


TRICKY = [r'"\d"', "1if x else 2", "0x1for", "1_000", r"b'\d'", "1in x", "1or 2", "0b1and 1", "1e5if x else 2",
          "1e-3*x", "0x1f + x", "1j*x", "x1if", ".5if x else 1", "1.if x else 2", "0o17or 1", "x.4if x else 1",
          "1_0e1_0j", "0e0e", "x if 1else 2", "1Jor 2", "einsum('ij,jk->ik', A, B)", "x.T @ A"]


def test_a_text_parsed_without_catching_warnings_raises_none():
    """parser._MAY_WARN: a text it passes parses without a warning (so without touching the filters)."""
    import ast
    import random

    from jacobi_cli.lang.parser import _MAY_WARN

    rng = random.Random(41)
    alphabet = "0123456789abexjo._ +*()ifnrsJXEB'\\"
    texts = TRICKY + ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 10))) for _ in range(20_000)]
    missed = []
    for text in texts:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                ast.parse(text)
            except SyntaxError:
                pass
        if caught and _MAY_WARN.search(text) is None:
            missed.append(text)
    assert not missed
    assert not any(_MAY_WARN.search(t) for t in ("sin(x) * 2.5e-3 + x**2", "x @ W1 + b2", "0x1f + 1j * x"))


def test_a_text_that_warns_still_parses_quietly(recwarn):
    warnings.simplefilter("always")
    assert float(jacobi_cli.evaluate("x * 3 if 1else x", {"x": 2.0})) == 6.0  # 1else: "invalid decimal literal"
    assert not [w for w in recwarn if "literal" in str(w.message)]
