#!/usr/bin/env python3
"""Instructions per repeated (warm) API call, counted by valgrind (timings on a shared machine are noise).

Run by hand, never as a test (see benchmarks/README.md). One case and one call kind per run:

    PYTHONHASHSEED=0 OPENBLAS_NUM_THREADS=1 valgrind --tool=callgrind --dump-before=getppid \\
        --callgrind-out-file=cg.out /work/venv/bin/python benchmarks/warm_instructions.py --case E6 --call vjp
    grep '^summary:' cg.out.2      # the instructions of --calls calls: divide by --calls

``--stage compiled`` counts from the held ``Compiled``'s ``jacobian``/``vjp`` (the budget passed as the API
passes it), ``--stage kernel`` the kernel alone: the API's own share is ``api`` minus ``compiled``.

The calls are bench.py's (the same inputs, ``wrt=["x"]``, its cotangent). After ten warm-up calls (the
kernel is made at the second) the garbage collector is stopped, the clock the API reads the budget's
once-a-second re-read by is pinned (``api.monotonic_ns``, a C callable in its place: under valgrind a second
passes every few calls), and ``os.getppid()`` marks the window's two ends: callgrind's
``--dump-before=getppid`` writes the window to ``cg.out.2``. ``OPENBLAS_NUM_THREADS=1``: OpenBLAS's idle
worker threads spin, which moves the count by thousands per call.
"""
from __future__ import annotations

import argparse
import itertools
import os
import sys


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tree", default=".", help="the checkout whose jacobi_cli is counted")
    ap.add_argument("--case", default="E1", help="a case of bench.py (E1-E6)")
    ap.add_argument("--call", choices=["jacobian", "vjp"], default="jacobian")
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--stage", choices=["api", "compiled", "kernel"], default="api",
                    help="count from the public call (api), from Compiled.jacobian/vjp (compiled), or the kernel alone")
    args = ap.parse_args()
    tree = os.path.abspath(args.tree)
    sys.path[:0] = [tree, os.path.join(tree, "benchmarks")]
    import bench
    import jacobi_cli
    from jacobi_cli.tools import api

    case = {c.name: c for c in bench.CASES}[args.case]
    p = bench.make_problem(case, args.n, args.call, bench.make_inputs(args.n))
    expr, b, v = case.expr, p.bindings, p.v
    jacobian, vjp = jacobi_cli.jacobian, jacobi_cli.vjp
    api.monotonic_ns = itertools.repeat(10**15).__next__  # the budget read once, as within one second

    if args.call == "jacobian":
        def call():
            return jacobian(expr, b, wrt=["x"])["x"]
    else:
        def call():
            return vjp(expr, b, v, wrt=["x"])["x"]
    if args.stage != "api":  # the stages below the public call: what a held Compiled pays, then the kernel
        for _ in range(3):
            call()
        limit = api.memory.default_budget()
        compiled = api._CACHE.get(api._cache_key(expr, bench.np.float64, 0, min(limit, api.DEFAULT_MAX_BYTES),
                                                 {n: a.shape for n, a in b.items()}))
        if args.stage == "compiled":  # the budget as the API passes it
            call = (lambda: compiled.jacobian(b, ["x"], "auto", limit)["x"]) if args.call == "jacobian" else \
                (lambda: compiled.vjp(b, v, ["x"], limit)["x"])
        else:
            kernel = compiled._ready[("jacobian", ("x",), "auto")].dense if args.call == "jacobian" else \
                compiled._ready[("vjp", ("x",), v.shape)]
            fn = kernel.fn
            call = (lambda: fn(b)) if args.call == "jacobian" else (lambda: fn(b, v))

    from cold_instructions import counted  # the same counted window as the cold calls

    counted(call, args.calls, warmups=10)


if __name__ == "__main__":
    main()
