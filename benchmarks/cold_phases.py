#!/usr/bin/env python3
"""Where a cold call's instructions go, phase by phase, counted by valgrind.

Run by hand, never as a test (see benchmarks/README.md):

    PYTHONHASHSEED=0 valgrind --tool=callgrind --dump-before=getppid --callgrind-out-file=/tmp/ph/cg.out \\
        /work/venv/bin/python benchmarks/cold_phases.py --tree . --case E1 --call jacobian --log /tmp/ph/log
    /work/venv/bin/python benchmarks/cold_phases.py --read /tmp/ph --calls 10

The cold call of ``cold_instructions.py`` (``api._CACHE.clear()`` then ``jacobi_cli.jacobian`` or
``jacobi_cli.vjp``), with the functions of each phase wrapped so that each of their entries and
exits calls ``os.getppid()``: callgrind's ``--dump-before=getppid`` then writes one file per stretch
between two such marks, and ``--read`` adds each stretch to the innermost phase running in it (a
phase's count excludes the phases nested in it; ``call`` is what no wrapped function covers: the API
functions, the cache, ``Compiled.jacobian``'s own lines). Each mark costs a few hundred instructions
(the wrapper and the system call): the phases add to a little more than ``cold_instructions.py``'s count.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import re
import sys
from collections import defaultdict
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parent))
from cold_instructions import EXPRESSIONS, cold_call, dump_total  # noqa: E402

# (module, attribute, phase): each wrapped where its callers look it up
WRAPPED = [
    ("jacobi_cli.tools.api", "_compiled", "api: bindings, cache"),
    ("jacobi_cli.engine.compiled", "parse", "parse and lowering"),
    ("jacobi_cli.engine.compiled", "Compiled.bind", "bind: wrt, budget"),
    ("jacobi_cli.engine.autodiff", "evaluate", "forward evaluate"),
    ("jacobi_cli.engine.compiled", "unplanned", "jacobian: checks and assembly"),
    ("jacobi_cli.engine.planner", "_dense_passes", "derivative pass: seed, set-up"),
    ("jacobi_cli.engine.autodiff", "vjp", "derivative pass: rules"),
    ("jacobi_cli.engine.autodiff", "jvp", "derivative pass: rules"),
    ("jacobi_cli.engine.compiled", "vjp_of", "derivative pass: seed, set-up"),
    ("jacobi_cli.engine.compiled", "cotangent", "vjp: cotangent"),
    ("jacobi_cli.engine.compiled", "_in_arrays", "result: dense arrays"),
    ("jacobi_cli.engine.compiled", "_unaliased", "result: dense arrays"),
]
FINE = [  # --fine: the phases' parts
    ("jacobi_cli.lang.parser", "may_be_short", "parse: text check"),
    ("jacobi_cli.lang.parser", "split_chain", "parse: chain test"),
    ("jacobi_cli.lang.parser", "_check_text", "parse: text check"),
    ("jacobi_cli.lang.parser", "_Lowering.__init__", "parse: scope, inputs"),
    ("jacobi_cli.lang.parser", "_Lowering.lookup", "parse: function lookup"),
    ("jacobi_cli.ir.graph", "Builder.__init__", "parse: builder"),
    ("jacobi_cli.ir.graph", "Builder._apply", "parse: builder apply"),
    ("jacobi_cli.ir.graph", "Builder.graph", "parse: graph"),
    ("jacobi_cli.ir.graph", "Graph.with_wrt", "bind: with_wrt"),
    ("jacobi_cli.engine.compiled", "check_wrt", "bind: check_wrt"),
    ("jacobi_cli.engine.memory", "forward_bytes", "bind: forward_bytes"),
    ("jacobi_cli.engine.compiled", "pass_bound", "pass_bound"),
    ("jacobi_cli.engine.planner", "pass_bound", "pass_bound"),
    ("jacobi_cli.engine.planner", "threads_for", "threads_for, graph_work"),
    ("jacobi_cli.engine.compiled", "threads_for", "threads_for, graph_work"),
    ("jacobi_cli.engine.planner", "graph_work", "threads_for, graph_work"),
    ("jacobi_cli.engine.compiled", "graph_work", "threads_for, graph_work"),
    ("jacobi_cli.engine.planner", "elementwise_diagonal", "jacobian: elementwise_diagonal"),
    ("jacobi_cli.engine.planner", "JacobianBuilder", "jacobian: JacobianBuilder"),
    ("jacobi_cli.engine.planner", "SparseJacobian", "jacobian: SparseJacobian"),
    ("jacobi_cli.engine.planner", "reverse_graph", "derivative pass: reverse_graph"),
    ("jacobi_cli.engine.autodiff", "basis", "derivative pass: basis"),
    ("jacobi_cli.engine.autodiff", "last_uses", "derivative pass: last_uses"),
    ("jacobi_cli.engine.compiled", "Compiled.__init__", "Compiled.__init__"),
    ("jacobi_cli.engine.compiled", "Compiled._counted", "Compiled._counted, _due"),
    ("jacobi_cli.engine.compiled", "Compiled._due", "Compiled._counted, _due"),
    ("jacobi_cli.engine.compiled", "Compiled._learn", "Compiled._learn"),
    ("jacobi_cli.engine.compiled", "Compiled.graph_for", "bind: graph_for"),
    ("jacobi_cli.tools.api", "CompiledCache.put", "api: cache put"),
    ("jacobi_cli.tools.api", "check_seed", "api: check_seed"),
]


def wrap(log: list, fine: bool) -> None:
    import importlib

    mark = os.getppid
    for module, attr, phase in WRAPPED + (FINE if fine else []):
        owner = importlib.import_module(module)
        *path, last = attr.split(".")
        for part in path:
            owner = getattr(owner, part)
        if not hasattr(owner, last):
            continue
        inner = getattr(owner, last)

        def wrapped(*args, _inner=inner, _phase=phase, **kwargs):
            log.append(("enter", _phase))
            mark()
            try:
                return _inner(*args, **kwargs)
            finally:
                log.append(("exit", _phase))
                mark()
        setattr(owner, last, wrapped)


def run(args) -> None:
    call = cold_call(args)  # the tree on sys.path, the clock pinned: as cold_instructions.py counts it

    for _ in range(5):
        call()
    log: list = []
    wrap(log, args.fine)
    for _ in range(2):
        call()
    gc.collect()
    gc.disable()
    del log[:]
    for _ in range(args.calls):
        log.append(("enter", "call"))
        os.getppid()
        call()
        log.append(("exit", "call"))
        os.getppid()
    gc.enable()
    Path(args.log).write_text(json.dumps(log))


def read(args) -> None:
    """Add each dump (one stretch between two marks) to the phase innermost at its start."""
    folder = Path(args.read)
    log = json.loads((folder / "log").read_text())
    dumps = sorted((p for p in folder.iterdir() if re.fullmatch(r"cg\.out\.\d+", p.name)),
                   key=lambda p: int(p.name.rsplit(".", 1)[1]))
    first = len(dumps) - len(log)  # dumps[first + k]: at mark k (the final dump, cg.out, has no number)
    stack, totals = [], defaultdict(int)
    for k, (kind, phase) in enumerate(log):
        stack.append(phase) if kind == "enter" else stack.pop()
        if k + 1 == len(log):
            break
        if not stack:  # between two calls: the loop's own lines
            continue
        cost = dump_total(dumps[first + k + 1])  # the stretch from mark k to mark k + 1
        totals[stack[-1]] += cost
    all_ = sum(totals.values())
    for phase, cost in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"| {phase} | {cost / args.calls / 1000:,.0f} k | {100 * cost / all_:.0f} % |")
    print(f"| total | {all_ / args.calls / 1000:,.0f} k | |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tree", default=".")
    ap.add_argument("--case", choices=sorted(EXPRESSIONS), default="E1")
    ap.add_argument("--call", choices=["jacobian", "vjp"], default="jacobian")
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--calls", type=int, default=10)
    ap.add_argument("--log", default="log")
    ap.add_argument("--fine", action="store_true", help="also the parts of the phases")
    ap.add_argument("--read", help="a folder of dumps and the log: print the phases")
    args = ap.parse_args()
    read(args) if args.read else run(args)


if __name__ == "__main__":
    main()
