"""Threads and long-running processes (session 41): break jac the way a user of the API would.

    PYTHONPATH=. python benchmarks/threads41_probe.py [threads|state|long|signals|all] [--calls N]

- ``threads``: 12 threads call evaluate / jacobian / vjp / jvp / hessian and held compiled functions at
  once, on a mix of expressions, shapes (the same text at several shapes racing to compile and build
  kernels), dtypes, budgets, seeds, ``structured=``, batches, several outputs and bad inputs; every
  answer (or error message) must be the serial one, bit for bit. Prints the counts.
- ``state``: NumPy's error state, buffer size, print options and BLAS thread count, read before and
  after each call (ok, raising, kernel, interpreter; main thread and others; under threadpoolctl); and
  the warnings another thread raises while jac parses (none may be lost).
- ``long``: many distinct expressions and ~10^5 calls: RSS and tracemalloc per block (must plateau), and
  arrays / constants created and dropped so ids are reused (no cached answer may be another's).
- ``signals``: what needs the main thread (``--timeout``'s SIGALRM) from another thread, and the API
  called from a thread while the main thread holds a time limit.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import threading
import time
import tracemalloc
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import jacobi_cli
from jacobi_cli.errors import JacError
from jacobi_cli.tools import api


# --- 1. threads --------------------------------------------------------------------------------------------

TEXTS = [
    "sin(x) * x**2 + exp(-x)",
    "tanh(A @ x)",
    "softmax(x)",
    "x @ A @ x",
    "sum(x * x)",
    "log1p(x**2) * 3 + cumsum(x)",
    "a = x * 2; a, sum(x)",  # several outputs
    "sum(tanh(A @ tanh(A @ x)))",
    "exp(x) * 1e30",  # overflows in float32
    "x / (x - x)",  # NaN and inf everywhere
    "sort(x)[::-1] * x",
]


def _bindings(text: str, n: int, dtype, k: int) -> dict:
    rng = np.random.default_rng(k)
    b = {"x": rng.uniform(-2, 2, n).astype(dtype)}
    if "A" in text:
        b["A"] = (rng.standard_normal((n, n)) / n).astype(dtype)
    return b


def _freeze(result):
    """A result as comparable bytes: arrays by dtype, shape and bits; dicts key by key; errors by class and text."""
    if isinstance(result, BaseException):
        return ("error", type(result).__name__, str(result))
    if isinstance(result, (tuple, list)):
        return ("sequence", tuple(_freeze(r) for r in result))
    if isinstance(result, dict):
        return tuple((repr(k), _freeze(v)) for k, v in sorted(result.items(), key=lambda kv: repr(kv[0])))
    if hasattr(result, "structure") and hasattr(result, "to_array"):
        return ("jacobian", result.structure, _freeze(np.asarray(result.to_array())))
    a = np.asarray(result)
    return ("array", str(a.dtype), a.shape, a.tobytes())


def thread_jobs(seed: int = 0) -> list:
    """(label, callable) pairs: every API entry point over the mix above."""
    jobs = []
    rng = np.random.default_rng(seed)
    for t, text in enumerate(TEXTS):
        for n in (3, 4, 7, 40):  # one text at several shapes: racing to compile and build kernels
            for dtype in (np.float64, np.float32):
                b = _bindings(text, n, dtype, t * 100 + n)
                name = "float64" if dtype is np.float64 else "float32"
                several = text.startswith("a =")
                scalar = text.startswith(("sum", "x @"))
                v = None if scalar else ({"a": np.ones(n), "y1": 1.0} if several else rng.standard_normal(n))
                jobs.append((f"jacobian {text} {n} {name}", lambda text=text, b=b, name=name:
                             jacobi_cli.jacobian(text, b, dtype=name)))
                jobs.append((f"jacobian structured {text} {n} {name}", lambda text=text, b=b, name=name:
                             jacobi_cli.jacobian(text, b, dtype=name, structured=True, wrt=["x"])))
                jobs.append((f"jacobian budget {text} {n}", lambda text=text, b=b, name=name:
                             jacobi_cli.jacobian(text, b, dtype=name, max_memory=1500, wrt="x")))
                jobs.append((f"vjp {text} {n} {name}", lambda text=text, b=b, name=name, v=v:
                             jacobi_cli.vjp(text, b, v, dtype=name)))
                jobs.append((f"jvp {text} {n} {name}", lambda text=text, b=b, name=name, n=n:
                             jacobi_cli.jvp(text, b, {"x": np.ones(n)}, dtype=name)))
                jobs.append((f"evaluate {text} {n} {name}", lambda text=text, b=b, name=name:
                             jacobi_cli.evaluate(text, b, dtype=name)))
                if n <= 7 and not several:
                    jobs.append((f"hessian {text} {n} {name}", lambda text=text, b=b, name=name:
                                 jacobi_cli.hessian(text, b, dtype=name, wrt=["x"], max_memory="64M")))
        # seeds: inputs drawn by jac
        for seed_ in (0, 1, 7):
            drawn = {"x": ":5"} if "A" not in text else {"x": ":5", "A": ":5x5"}
            jobs.append((f"seeded {text} {seed_}", lambda text=text, drawn=drawn, s=seed_:
                         jacobi_cli.jacobian(text, drawn, seed=s)))
    # batches
    for n in (2, 3):
        xb = np.linspace(-1, 1, 4 * n).reshape(4, n)
        jobs.append((f"batch {n}", lambda xb=xb: jacobi_cli.jacobian("sin(x) * sum(x)", {"x": xb}, batch=["x"])))
        jobs.append((f"batch w {n}", lambda xb=xb: jacobi_cli.jacobian("w * x", {"x": xb, "w": 2.0}, batch=["x"])))
    # bad inputs: each must raise its own message in its own call
    jobs += [
        ("bad shape", lambda: jacobi_cli.jacobian("x @ A", {"x": np.ones(3), "A": np.ones((4, 4))})),
        ("bad name", lambda: jacobi_cli.jacobian("x + y", {"x": np.ones(3)})),
        ("bad wrt", lambda: jacobi_cli.jacobian("x * 2", {"x": np.ones(3)}, wrt=["z"])),
        ("bad v", lambda: jacobi_cli.vjp("x * 2", {"x": np.ones(3)})),
        ("bad budget", lambda: jacobi_cli.jacobian("x[:, None] * x", {"x": np.ones(300)}, max_memory=1000)),
        ("bad value", lambda: jacobi_cli.evaluate("cholesky(A)", {"A": -np.eye(3)})),
        ("bad parse", lambda: jacobi_cli.evaluate("x +* 2", {"x": 1.0})),
        # values past float32's range given in float64: held as inf, whatever the calling thread's error state
        ("float32 overflow x", lambda: jacobi_cli.evaluate("x * 2", {"x": np.array([1e300, 1.0])}, dtype="float32")),
        ("float32 overflow list", lambda: jacobi_cli.jacobian("x * 2", {"x": [1e300, 1.0]}, dtype="float32")),
        ("float32 overflow v", lambda: jacobi_cli.vjp("x * 2", {"x": np.ones(2, np.float32)}, np.array([1e300, 1.0]),
                                                      dtype="float32")),
        ("float32 overflow t", lambda: jacobi_cli.jvp("x * 2", {"x": np.ones(2, np.float32)},
                                                      {"x": np.array([1.0, 1e300])}, dtype="float32")),
    ]
    return jobs


def held_jobs() -> list:
    """Held compiled functions, one per (text, shape), each shared by every thread."""
    jobs = []
    for text in ("sin(x) * y", "tanh(A @ x)", "softmax(x) * y"):
        for n in (3, 6):
            shapes = {"x": f":{n}", "y": f":{n}"} if "y" in text else {"x": f":{n}", "A": f":{n}x{n}"}
            f = jacobi_cli.compile(text, shapes)
            for k in range(3):
                rng = np.random.default_rng(k + 10 * n)
                env = {"x": rng.standard_normal(n)}
                env.update({"y": rng.standard_normal(n)} if "y" in text else {"A": rng.standard_normal((n, n))})
                jobs.append((f"held jacobian {text} {n} {k}", lambda f=f, env=env: f.jacobian(env, wrt=["x"])))
                jobs.append((f"held vjp {text} {n} {k}", lambda f=f, env=env, n=n: f.vjp(env, np.ones(n))))
                jobs.append((f"held value {text} {n} {k}", lambda f=f, env=env: f.value(env)))
                jobs.append((f"held jvp {text} {n} {k}", lambda f=f, env=env, n=n: f.jvp(env, {"x": np.ones(n)})))
    return jobs


def _run(job):
    try:
        return _freeze(job())
    except Exception as err:  # noqa: BLE001 - compared with the serial error below
        return _freeze(err)


def probe_threads(threads: int = 12, rounds: int = 3) -> dict:
    jobs = thread_jobs() + held_jobs()
    api.clear_cache()
    serial = [_run(job) for _, job in jobs]
    serial_again = [[_run(job) for _, job in jobs] for _ in range(2)][-1]  # the kernels' answers (repeated calls)
    unstable = [jobs[i][0] for i in range(len(jobs)) if serial[i] != serial_again[i]]
    api.clear_cache()
    jobs = thread_jobs() + held_jobs()  # new held functions: cold, their kernels built while threads race
    order = list(range(len(jobs))) * rounds
    np.random.default_rng(1).shuffle(order)
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(threads) as pool:
            got = list(pool.map(lambda i: (i, _run(jobs[i][1])), order))
    finally:
        sys.setswitchinterval(old)
    wrong = [(jobs[i][0], found[:3] if found[0] == "error" else "differs") for i, found in got
             if found != serial_again[i] and found != serial[i]]
    errors = sum(1 for s in serial if s[0] == "error")
    print(f"threads: {len(jobs)} distinct calls ({errors} raising), {len(got)} made by {threads} threads; "
          f"serial first vs repeated differ: {len(unstable)}; threaded answers differing from serial: {len(wrong)}")
    for w in unstable[:5]:
        print("  first call differs from a repeated one:", w)
    for w in wrong[:10]:
        print("  wrong:", w)
    return {"calls": len(got), "wrong": len(wrong), "unstable": len(unstable)}


def probe_caller_state(threads: int = 8) -> dict:
    """The same calls from threads that each set their own NumPy error state (raise, warn, ignore, call) and
    buffer size: every answer (or error) is the one a thread of NumPy's defaults gets, and each thread's state
    is its own afterwards."""
    jobs = thread_jobs(2) + held_jobs()
    api.clear_cache()
    serial = [_run(job) for _, job in jobs]
    api.clear_cache()
    jobs = thread_jobs(2) + held_jobs()
    states = [dict(all="raise"), dict(all="warn"), dict(all="ignore"), dict(over="raise", invalid="ignore")]
    wrong, left = [], []

    def worker(t):
        np.seterr(**states[t % len(states)])
        np.setbufsize(8192 * (1 + t % 3))
        mine = (np.geterr(), np.getbufsize())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "warn": NumPy's own warnings of the caller's state, if any
            for i in np.random.default_rng(t).permutation(len(jobs)):
                found = _run(jobs[i][1])
                if found != serial[i]:
                    wrong.append((jobs[i][0], states[t % len(states)], found[:3] if found[0] == "error" else "differs"))
        if (np.geterr(), np.getbufsize()) != mine:
            left.append(t)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
    finally:
        sys.setswitchinterval(old)
    print(f"caller state: {len(jobs) * threads} calls from {threads} threads of their own error state and buffer "
          f"size; answers differing from a default thread's: {len(wrong)}; threads whose state changed: {len(left)}")
    for w in wrong[:8]:
        print("  wrong:", w)
    return {"wrong": len(wrong), "left": len(left)}


# --- 2. process state ---------------------------------------------------------------------------------------

def _state():
    from threadpoolctl import threadpool_info

    blas = tuple(sorted((i["internal_api"], i["num_threads"]) for i in threadpool_info()))
    return (tuple(sorted(np.geterr().items())), np.getbufsize(), np.geterrcall(),
            tuple(sorted((k, str(v)) for k, v in np.get_printoptions().items())), blas)


STATE_CALLS = [
    ("ok", lambda: jacobi_cli.jacobian("tanh(A @ x)", {"A": np.ones((300, 300)) / 300, "x": np.ones(300)},
                                       wrt=["x"])),
    ("ok small", lambda: jacobi_cli.vjp("sin(x) * x", {"x": np.ones(5)}, "ones")),
    ("nan", lambda: jacobi_cli.jacobian("x / (x - x)", {"x": np.ones(5)})),
    ("raises parse", lambda: jacobi_cli.evaluate("x +* 2", {"x": 1.0})),
    ("raises value", lambda: jacobi_cli.evaluate("cholesky(A)", {"A": -np.eye(3)})),
    ("raises limit", lambda: jacobi_cli.jacobian("x[:, None] * x", {"x": np.ones(300)}, max_memory=1000)),
    ("hessian", lambda: jacobi_cli.hessian("sum(exp(x) / x)", {"x": np.zeros(4)})),
]


def probe_state() -> dict:
    from threadpoolctl import threadpool_limits

    changed = []

    def check(where: str):
        for label, call in STATE_CALLS:
            for _ in range(3):  # interpreter, then kernel
                before = _state()
                try:
                    call()
                except JacError:
                    pass
                after = _state()
                if after != before:
                    changed.append((where, label, before, after))

    def caller_state(fn, where):
        old_err, old_buf = np.seterr(all="raise"), np.getbufsize()
        np.setbufsize(8192 * 2)
        try:
            with np.printoptions(precision=3, threshold=5):
                fn(where)
        finally:
            np.seterr(**old_err)
            np.setbufsize(old_buf)

    check("main")
    caller_state(check, "main, seterr raise + bufsize")
    with threadpool_limits(1):
        check("main, threadpool_limits(1)")
    with threadpool_limits(3):
        check("main, threadpool_limits(3)")
    t = threading.Thread(target=lambda: (check("thread"), caller_state(check, "thread, seterr raise")))
    t.start()
    t.join()
    # threads at once, on a machine taken for busy (one BLAS thread for middle-sized products: OneThread, through
    # OpenBLAS on the main thread and threadpoolctl elsewhere): the count is back where it was when all are done
    from jacobi_cli.engine import blas

    real = blas.machine_busy
    blas.machine_busy = lambda: True
    blas.busy_in_second.cache_clear()
    try:
        for limit in (None, 2):
            ctx = threadpool_limits(limit) if limit else threading.Lock()
            with ctx:
                before = _state()
                pool = [threading.Thread(target=lambda: [c() for _ in range(20) for label, c in STATE_CALLS[:3]])
                        for _ in range(6)]
                for t in pool:
                    t.start()
                for _ in range(20):
                    STATE_CALLS[0][1]()  # the main thread too
                for t in pool:
                    t.join()
                if _state() != before:
                    changed.append((f"6 threads, threadpool_limits({limit})", "all", before, _state()))
    finally:
        blas.machine_busy = real
        blas.busy_in_second.cache_clear()
    print(f"state: {len(STATE_CALLS) * 3 * 6} calls with the state read before and after, and 2 x 7 threads at "
          f"once on a busy machine; changed: {len(changed)}")
    for c in changed[:6]:
        print("  changed:", c[:2], "\n    before", c[2], "\n    after ", c[3])
    lost = probe_warnings()
    return {"changed": len(changed), "lost_warnings": lost}


def probe_warnings(seconds: float = 3.0) -> int:
    """Warnings the main thread raises (filters "always", shown through ``warnings.showwarning``) while another
    thread parses texts all the time: each must be shown. (With its own ``catch_warnings`` around each warning, as
    a first version of this probe had it, none is lost: its filter goes in front of the parse's "ignore".)"""
    from jacobi_cli.lang import parser

    seen = []
    saved = warnings.filters[:], warnings.showwarning
    warnings.showwarning = lambda message, *args, **kwargs: seen.append(str(message))
    warnings.simplefilter("always")
    stop = threading.Event()
    parses = [0]

    def parse():
        while not stop.is_set():
            parser._parse_quietly("y = x * 2\n" * 50)
            parses[0] += 1

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    t = threading.Thread(target=parse)
    t.start()
    raised = 0
    try:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            warnings.warn(f"user warning {raised}", UserWarning)
            raised += 1
    finally:
        stop.set()
        t.join()
        sys.setswitchinterval(old)
        warnings.filters[:], warnings.showwarning = saved
    lost = raised - len(seen)
    print(f"warnings: {raised} raised by the main thread while another parsed {parses[0]} texts; lost: {lost}")
    return lost


# --- 3. a long-running process ------------------------------------------------------------------------------

def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def probe_long(calls: int = 100_000, block: int = 10_000, traced: bool = False) -> dict:
    """``calls`` API calls over ever new texts (a new constant each 20 calls: parsed, planned, compiled into a
    kernel at the second call, evicted from the cache later), a held function's Hessian and Jacobian at ever new
    budgets, and a default budget moving with the machine: RSS (and with ``traced``, tracemalloc) per block."""
    from jacobi_cli.engine import memory

    if traced:
        tracemalloc.start()
    rows = []
    n_calls, k = 0, 0
    t0 = time.time()
    wrong = 0
    held = jacobi_cli.compile("sum(sin(A @ x) * x)", {"x": ":8", "A": ":8x8"})
    env = {"x": np.linspace(-1, 1, 8), "A": np.eye(8) + 0.1}
    real = memory.available_bytes
    pages = iter(range(10**9))
    memory.available_bytes = lambda: 3 * 2**30 + next(pages) * 37 * 4096  # a 3 GiB machine, its free memory moving
    try:
        while n_calls < calls:
            for _ in range(block // 20):
                k += 1
                memory.budget_in_second.cache_clear()  # a new second
                c = float(k % 4999)
                text = f"sin(x) * {c} + x ** 2" if k % 2 else f"tanh(x * {c}) @ x"
                x = np.linspace(-1, 1, 3 + k % 5)
                for j in range(18):
                    kind = j % 4
                    if kind == 0:
                        got = jacobi_cli.evaluate(text, {"x": x})
                        want = (np.sin(x) * c + x ** 2) if k % 2 else np.tanh(x * c) @ x
                        wrong += not np.allclose(got, want)
                    elif kind == 1:
                        jacobi_cli.jacobian(text, {"x": x})
                    elif kind == 2:
                        jacobi_cli.vjp(text, {"x": x}, np.ones(()) if k % 2 == 0 else np.ones(x.size))
                    else:
                        jacobi_cli.jvp(text, {"x": x}, {"x": np.ones(x.size)})
                held.hessian(env, wrt=["x"], budget=10**6 + k)
                held.jacobian(env, budget=10**6 + k)
                n_calls += 20
            gc.collect()
            current = tracemalloc.get_traced_memory()[0] if traced else 0
            rows.append((n_calls, _rss(), current, len(api._CACHE), len(held._memo)))
            print(f"  {n_calls:7d} calls {time.time() - t0:6.1f} s  rss {rows[-1][1] / 2**20:7.1f} MiB  traced "
                  f"{current / 2**20:7.2f} MiB  cache {rows[-1][3]} entries  held memo {rows[-1][4]}", flush=True)
    finally:
        memory.available_bytes = real
        memory.budget_in_second.cache_clear()
        if traced:
            tracemalloc.stop()
    half = rows[len(rows) // 2]
    growth = ((rows[-1][2] if traced else rows[-1][1]) - (half[2] if traced else half[1])) / 2**20
    print(f"long: {n_calls} calls over {k} distinct texts; wrong values {wrong}; growth over the second half "
          f"{growth:.2f} MiB ({'traced' if traced else 'rss'}); rss {half[1] / 2**20:.1f} -> {rows[-1][1] / 2**20:.1f} "
          f"MiB; held function's memo {rows[-1][4]} entries")
    reused = probe_id_reuse()
    return {"calls": n_calls, "growth_mib": growth, "wrong": wrong, "id_reuse_wrong": reused}


def probe_id_reuse(rounds: int = 3000) -> int:
    """Arrays and texts made and dropped at once, so CPython hands their ids (and their buffers' addresses) to
    the next ones: a cache keyed by an id or an address would answer for the dead object."""
    wrong = 0
    rng = np.random.default_rng(3)
    for i in range(rounds):
        x = rng.standard_normal(4)
        A = rng.standard_normal((4, 4))
        want = np.tanh(A @ x)
        got = jacobi_cli.evaluate("tanh(A @ x)", {"A": A, "x": x})
        wrong += not np.array_equal(got, want)
        J = jacobi_cli.jacobian("tanh(A @ x)", {"A": A, "x": x}, wrt=["x"])["x"]
        wrong += not np.allclose(J, (1 - want ** 2)[:, None] * A)
        c = rng.standard_normal(4)  # a constant of the text as a list: a new text each round
        text = f"x * {list(c)!r}"
        wrong += not np.array_equal(jacobi_cli.evaluate(text, {"x": x}), x * c)
        f = jacobi_cli.compile("x * c", {"x": x, "c": c})
        wrong += not np.array_equal(f.value({"x": x, "c": c}), x * c)
        del x, A, c, f
    print(f"id reuse: {rounds} rounds of arrays, texts and compiled functions made and dropped; wrong: {wrong}")
    return wrong


# --- 4. signals ---------------------------------------------------------------------------------------------

def probe_signals() -> dict:
    from jacobi_cli.tools import bounded

    found = {}

    def in_thread(fn):
        out = []
        t = threading.Thread(target=lambda: out.append(_catch(fn)))
        t.start()
        t.join()
        return out[0]

    def timed():
        with bounded.time_limit(1.0):
            return jacobi_cli.evaluate("sin(x)", {"x": 1.0})

    found["time_limit in a thread"] = in_thread(timed)
    # the main thread under a limit while another thread computes: the other thread is not stopped, nor refused
    with bounded.time_limit(5.0):
        found["api in a thread under main's limit"] = in_thread(
            lambda: jacobi_cli.jacobian("A @ x", {"A": np.ones((2000, 2000)), "x": np.ones(2000)}, wrt="x")["x"].shape)
    found["main after"] = _catch(lambda: jacobi_cli.evaluate("sin(x)", {"x": 1.0}))
    # a fork (jac diff's bounded child) while another thread holds one of jac's process-wide locks
    from jacobi_cli.lang import deep, parser

    for label, lock, work in [("parse", parser._AST_LOCK, lambda: float(jacobi_cli.evaluate("y = x * 41\ny", {"x": 2.0}))),
                              ("cache", api._CACHE._lock, lambda: float(jacobi_cli.evaluate("x + 41", {"x": 2.0}))),
                              ("recursion limit", deep._LIMIT._lock, lambda: deep.with_deep_stack(lambda: 41))]:
        held = threading.Event()

        def holder(lock=lock):
            with lock:
                held.set()
                time.sleep(0.3)

        t = threading.Thread(target=holder)
        t.start()
        held.wait()
        t0 = time.monotonic()
        found[f"fork while another thread holds the {label} lock"] = (
            _catch(lambda: bounded.call(work, 5.0, "the forked work")), f"{time.monotonic() - t0:.2f} s")
        t.join()
    # deep-stack threads (long texts, SymPy) from several threads at once: the process's thread stack size after
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    left = set()
    try:
        for _ in range(30):
            pool = [threading.Thread(target=lambda: [deep.with_deep_stack(lambda: time.sleep(0.001)) for _ in range(4)])
                    for _ in range(4)]
            for t in pool:
                t.start()
            for t in pool:
                t.join()
            left.add(threading.stack_size())
    finally:
        sys.setswitchinterval(old)
    found["thread stack sizes left after 30 rounds of 4 threads of deep-stack calls"] = sorted(left)
    for k, v in found.items():
        print(f"signals: {k}: {v}")
    return found


def _catch(fn):
    try:
        return ("ok", repr(fn())[:60])
    except BaseException as err:  # noqa: BLE001
        return ("error", type(err).__name__, str(err)[:160])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", nargs="?", default="all", choices=["threads", "state", "long", "signals", "all"])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--traced", action="store_true", help="tracemalloc too (3-5 times slower)")
    args = parser.parse_args()
    if args.what in ("threads", "all"):
        probe_threads()
        probe_caller_state()
    if args.what in ("state", "all"):
        probe_state()
    if args.what in ("signals", "all"):
        probe_signals()
    if args.what in ("long", "all"):
        probe_long(args.calls, traced=args.traced)


if __name__ == "__main__":
    main()
