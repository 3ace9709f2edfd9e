#!/usr/bin/env python3
"""Instructions per cold call, counted by valgrind (timings on a shared machine are noise).

Run by hand, never as a test (see benchmarks/README.md). One case and one call kind per run:

    PYTHONHASHSEED=0 valgrind --tool=callgrind --dump-before=getppid --callgrind-out-file=cg.out \\
        /work/venv/bin/python benchmarks/cold_instructions.py --tree . --case E1 --call jacobian
    grep '^summary:' cg.out.2      # the instructions of --calls calls: divide by --calls

A call is cold as in ``cold_bench.py``: it follows ``jacobi_cli.tools.api._CACHE.clear()``. After five
warm-up calls the garbage collector is stopped (a collection falling in or out of the counted window
moves the count by ±20 k per call) and ``os.getppid()`` marks the window's two ends: callgrind's
``--dump-before=getppid`` writes the window to ``cg.out.2``. The clock the API reads the budget's
once-a-second re-read by is pinned (``api.monotonic_ns``, as ``warm_instructions.py`` pins it): under
valgrind a second passes every few calls, and each re-read added ~150 k to its call. Run it with
``OPENBLAS_NUM_THREADS=1`` (idle OpenBLAS threads spin, which moves the count).
"""
from __future__ import annotations

import argparse
import gc
import itertools
import os
import sys
from pathlib import Path

import numpy as np

EXPRESSIONS = {"E1": "sin(x) * x**2 + exp(-x)", "E2": "x @ A @ x", "E3": "tanh(A @ x)", "E4": "sum(x * x)",
               "E5": "softmax(x)", "E6": "sum(tanh(A @ tanh(A @ x)))"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tree", default=".", help="the checkout whose jacobi_cli is counted")
    ap.add_argument("--case", choices=sorted(EXPRESSIONS), default="E1")
    ap.add_argument("--call", choices=["jacobian", "vjp"], default="jacobian")
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--calls", type=int, default=20)
    args = ap.parse_args()
    counted(cold_call(args), args.calls, warmups=5)


def cold_call(args):
    """The cold call of ``args.case`` and ``args.call`` at ``args.n`` from the tree ``args.tree``,
    with the API's clock pinned (see above); shared with ``cold_phases.py``."""
    sys.path.insert(0, os.path.abspath(args.tree))
    import jacobi_cli
    from jacobi_cli.tools import api

    expr = EXPRESSIONS[args.case]
    rng = np.random.default_rng(0)
    x, A = rng.standard_normal(args.n), rng.standard_normal((args.n, args.n)) / 3
    b = {"x": x, "A": A} if "A" in expr else {"x": x}
    v = np.ones(np.shape(jacobi_cli.evaluate(expr, b)))
    # the budget read once, as within one second: the API reads monotonic_ns (a C callable in its place)
    api.monotonic_ns = itertools.repeat(10**15).__next__

    def call():
        api._CACHE.clear()
        if args.call == "jacobian":
            return jacobi_cli.jacobian(expr, b, wrt=["x"])
        return jacobi_cli.vjp(expr, b, v, wrt=["x"])
    return call


def counted(call, calls: int, warmups: int) -> None:
    """``call`` ``calls`` times between two ``os.getppid()`` (the window callgrind's
    ``--dump-before=getppid`` cuts out), after ``warmups`` uncounted calls, the collector stopped."""
    for _ in range(warmups):
        call()
    gc.collect()
    gc.disable()
    os.getppid()  # the window starts
    for _ in range(calls):
        call()
    os.getppid()  # and ends
    gc.enable()


def dump_total(path) -> int:
    """The instructions of one callgrind dump (its ``summary:`` or ``totals:`` line; 0 without one)."""
    for line in Path(path).read_text().splitlines():
        if line.startswith("summary:") or line.startswith("totals:"):
            return int(line.split()[1])
    return 0


if __name__ == "__main__":
    main()
