#!/usr/bin/env python3
"""Cold calls: the first call of an expression, jac against autograd's and torch's calls.

Run by hand, never as a test (see benchmarks/README.md):

    /work/benchvenv/bin/python benchmarks/cold_bench.py                  # n = 10, 100, 1000, in-process
    /work/benchvenv/bin/python benchmarks/cold_bench.py --fresh          # also a fresh process per call
    /work/benchvenv/bin/python benchmarks/cold_bench.py --alone          # also each tool's calls back to back
    /work/benchvenv/bin/python benchmarks/cold_bench.py --shuffle        # also interleaved, each round reordered
    /work/benchvenv/bin/python benchmarks/cold_bench.py --tree /tmp/old  # another checkout's jacobi_cli

A jac call is cold when its expression has not been seen: it parses, plans (dry runs) and runs the
interpreter. In-process, each timed jac call follows ``jacobi_cli.tools.api._CACHE.clear()``, so it is
the first call of its expression in a warm process (NumPy and jac imported, their lazy imports done).
autograd and torch keep nothing per expression: each of their calls traces and differentiates afresh,
so any call is a first call; theirs are timed the same way, in the same rounds. ``--fresh`` times the
very first call in a new process (``jacobi_cli.tools.api`` imported, nothing else run) instead: the
one-time costs of a process (lazy imports, first use of NumPy's functions) included.
Median of ``--repeat`` rounds (one timed call for a tool whose call takes over half a second); the
tools of one (case, n) are interleaved round by round, torch on one thread (see torch_tools).
"""
from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SLOW = 0.5  # seconds: a tool whose call takes longer is timed once (autograd's n = 1000 Jacobians take seconds)


def setup_path(tree: Path) -> None:
    sys.path.insert(0, str(HERE))
    import bench  # noqa: F401 - it puts its own checkout first on sys.path: import it, then put ``tree`` first

    sys.path.insert(0, str(tree))


def jac_tools(case, x, A, v):
    import jacobi_cli
    from jacobi_cli.tools import api

    b = {"x": x, "A": A} if "A" in case.expr else {"x": x}

    def cold(call):
        def run():
            api._CACHE.clear()
            return call()
        return run
    return {"jac jacobian (cold)": cold(lambda: jacobi_cli.jacobian(case.expr, b, wrt=["x"])["x"]),
            "jac vjp (cold)": cold(lambda: jacobi_cli.vjp(case.expr, b, v, wrt=["x"])["x"])}


def autograd_tools(case, x, A, v):
    try:
        import autograd
        import autograd.numpy as anp
    except ImportError:
        return {}
    from bench import softmax_from
    from types import SimpleNamespace

    ops = SimpleNamespace(sin=anp.sin, exp=anp.exp, tanh=anp.tanh, sum=anp.sum, softmax=softmax_from(anp))
    f = lambda x: case.f(ops, x, A)  # noqa: E731
    return {"autograd.jacobian": lambda: autograd.jacobian(f)(x),
            "autograd.make_vjp": lambda: autograd.make_vjp(f)(x)[0](v)}


def torch_tools(case, x, A, v):
    try:
        import torch
    except ImportError:
        return {}
    from types import SimpleNamespace

    # one intra-op thread: torch's pool spins after each call and would take the core that the next
    # tool's call (interleaved) runs on, on a 2-core machine; at these sizes one thread is torch's best
    torch.set_num_threads(1)

    ops = SimpleNamespace(sin=torch.sin, exp=torch.exp, tanh=torch.tanh, sum=torch.sum,
                          softmax=lambda t: torch.softmax(t, dim=-1))
    tx, tA, tv = map(torch.from_numpy, (x, A, v))
    f = lambda t: case.f(ops, t, tA)  # noqa: E731
    return {"torch jacobian": lambda: torch.autograd.functional.jacobian(f, tx),
            "torch functional.vjp": lambda: torch.autograd.functional.vjp(f, tx, tv)[1]}


def problem(case, n):
    from bench import NUMPY_OPS, make_inputs

    x, A, c = make_inputs(n)
    y = np.asarray(case.f(NUMPY_OPS, x, A))
    v = c if y.shape == (n,) else np.ones(y.shape)
    return x, A, v


def in_process(cases, sizes, repeat: int, alone: bool = False, shuffle: bool = False) -> list:
    """Medians of ``repeat`` timed calls of each tool. Interleaved (the default): each round calls every
    tool once, so a jac call follows torch's and autograd's, with what they left in the CPU's caches and
    the garbage collector's count. In the same order every round the first tool of a round pays the refill
    of the caches after the last one's call (session 44: jac's Jacobian, first, 165-173 us for E1 and its
    VJP, after it, 112; in the other order the VJP took 147 and the Jacobian 114): ``shuffle`` orders each
    round anew (seeded), so each tool follows each other one in turn. ``alone``: each tool's calls back
    to back, as a ``jac run`` suite or a loop of first calls makes them."""
    rows = []
    for case in cases:
        for n in sizes:
            x, A, v = problem(case, n)
            tools = {**jac_tools(case, x, A, v), **autograd_tools(case, x, A, v), **torch_tools(case, x, A, v)}
            slow = set()
            for name, run in tools.items():  # one untimed call each: imports and one-time set-up
                start = time.perf_counter()
                run()
                if time.perf_counter() - start > SLOW:
                    slow.add(name)
            times = {name: [] for name in tools}
            rng = random.Random(0)
            order = [(r, name) for name in tools for r in range(repeat)] if alone else \
                [(r, name) for r in range(repeat)
                 for name in (rng.sample(list(tools), len(tools)) if shuffle else tools)]
            for r, name in order:
                if name in slow and r >= 1:  # a call of over SLOW seconds is timed once
                    continue
                run = tools[name]
                start = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - start)
            suffix = " alone" if alone else " shuffled" if shuffle else ""
            rows += [(case.name, n, name + suffix, statistics.median(t)) for name, t in times.items()]
    return rows


FRESH = """
import sys, time
sys.path.insert(0, {tree!r}); sys.path.insert(1, {here!r})
import numpy as np
import jacobi_cli
import jacobi_cli.tools.api  # the import is start-up, not the call (jacobi_cli imports it on first use)
from bench import CASES
from cold_bench import problem
case = next(c for c in CASES if c.name == {case!r})
x, A, v = problem(case, {n})
b = {{"x": x, "A": A}} if "A" in case.expr else {{"x": x}}
start = time.perf_counter()
jacobi_cli.{fn}
print(time.perf_counter() - start)
"""


def fresh(cases, sizes, repeat: int, tree: Path) -> list:
    rows = []
    calls = {"jac jacobian (fresh process)": 'jacobian(case.expr, b, wrt=["x"])',
             "jac vjp (fresh process)": 'vjp(case.expr, b, v, wrt=["x"])'}
    for case in cases:
        for n in sizes:
            times = {name: [] for name in calls}
            for _ in range(repeat):
                for name, fn in calls.items():
                    code = FRESH.format(tree=str(tree), here=str(HERE), case=case.name, n=n, fn=fn)
                    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
                    times[name].append(float(out.stdout))
            rows += [(case.name, n, name, statistics.median(t)) for name, t in times.items()]
    return rows


def fmt_time(seconds: float) -> str:
    return f"{seconds * 1e6:.0f} us" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", default="10,100,1000")
    ap.add_argument("--cases", default="E1,E2,E3,E4,E5,E6")
    ap.add_argument("--repeat", type=int, default=21)
    ap.add_argument("--alone", action="store_true",
                    help="also each tool's calls back to back (not interleaved with the other tools' calls)")
    ap.add_argument("--shuffle", action="store_true",
                    help="also interleaved in an order drawn anew each round (each tool follows each other in turn)")
    ap.add_argument("--fresh", action="store_true", help="also the first call in a fresh process (slow)")
    ap.add_argument("--fresh-repeat", type=int, default=5)
    ap.add_argument("--tree", default=str(HERE.parent), help="the checkout whose jacobi_cli is timed")
    args = ap.parse_args(argv)
    tree = Path(args.tree).resolve()
    setup_path(tree)
    from bench import CASES

    wanted = args.cases.split(",")
    cases = [c for c in CASES if c.name in wanted]
    sizes = [int(s) for s in args.n.split(",")]
    import jacobi_cli

    print(f"jacobi_cli from {Path(jacobi_cli.__file__).parent}; load {open('/proc/loadavg').read().split()[:3]}")
    rows = in_process(cases, sizes, args.repeat)
    if args.shuffle:
        rows += in_process(cases, sizes, args.repeat, shuffle=True)
    if args.alone:
        rows += in_process(cases, sizes, args.repeat, alone=True)
    if args.fresh:
        rows += fresh(cases, sizes, args.fresh_repeat, tree)
    print(f"{'case':5} {'n':>5}  {'tool':32} {'median':>10}")
    for name, n, tool, t in sorted(rows, key=lambda r: (r[0], r[1])):
        print(f"{name:5} {n:>5}  {tool:32} {fmt_time(t):>10}")
    print(f"load {open('/proc/loadavg').read().split()[:3]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
