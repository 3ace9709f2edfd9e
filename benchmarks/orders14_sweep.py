"""The horder14 parity sweep: higher orders, batches and several outputs through ``jac ... --json`` against
``torch.func`` (PyTorch 2.13, float64 and a float32 subset), at random inputs and at special points. The cases
are ``tests/test_parity_orders14.py``'s, the harness ``tests/orders14.py``.

    PYTHONPATH=. python benchmarks/orders14_sweep.py [-k SUBSTRING] [--points random,zeros,...]
                                                     [--groups hessian,derivative,...] [--verbose]

Points: ``random`` (the pool), ``zeros`` (every input 0), ``ties`` (every input rounded to a multiple of 0.5:
ties, zeros, kinks, repeated values), ``inf`` / ``-inf`` / ``nan`` (the first element of every input: with a
batch along axis 0, the first example only, so the others must stay as at random points).
Groups: ``hessian`` (every block), ``derivative`` (K = 1..4), ``batch`` (eval, vjp, jvp with a shared
tangent of its own shape and one per example, hessian, derivative K = 2, 3), ``several`` (eval, vjp with one
``--v`` left out and all given, jvp, hessian, derivative; and each with ``--batch``), ``float32``.
Each (case, command, point) is a pair compared, one of: ``agree``; ``differ`` (what, and how: ``numbers``,
``torch-nan``, ``jac-nan``, ``nan-places``, ``shape``); ``refused`` (jac exit 2, PyTorch answers);
``both-raise``; ``torch-raises`` (jac answers); ``torch-func`` (jac differs from ``torch.func`` and agrees
with PyTorch's create_graph autograd run example by example: ``orders14.autograd_reference``); ``contract``
(the JSON, exit code or message is not what CONTRACT.md says); ``crash`` (a traceback or an exit code other
than 0 and 2).
Prints one line per pair that does not agree, then the tally per group and point.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter, defaultdict

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

import test_parity_orders14 as cases  # noqa: E402
from orders14 import batch_pairs, compare, inputs_of, several_pairs  # noqa: E402


def _first(v, value):
    v = np.array(v, dtype=np.float64)
    if v.size:
        v.reshape(-1)[0] = value
    return v


POINTS = {
    "random": lambda v: np.asarray(v, dtype=np.float64),
    "zeros": np.zeros_like,
    "ties": lambda v: np.round(np.asarray(v) * 2) / 2,
    "inf": lambda v: _first(v, np.inf),
    "-inf": lambda v: _first(v, -np.inf),
    "nan": lambda v: _first(v, np.nan),
}


def at(point: str, inputs: dict) -> dict:
    return {n: POINTS[point](v) for n, v in inputs.items()}


def pairs(groups: list, points: list, k: str):
    """(group, point, label, command, expr, inputs, options) of every pair the sweep compares."""
    rng = np.random.default_rng(141414)
    for point in points:
        if "hessian" in groups:
            for expr in cases.HESSIAN:
                if k in expr:
                    yield "hessian", point, expr, "hessian", expr, at(point, inputs_of(expr)), {}
        if "derivative" in groups:
            for expr, name in cases.DERIVATIVE:
                if k in expr:
                    for order in range(1, cases.ORDERS.get(expr, 4) + 1):
                        yield ("derivative", point, f"{expr} K={order}", "derivative", expr,
                               at(point, inputs_of(expr)), dict(order=order, wrt=[name]))
        if "batch" in groups:
            for expr, batch, values in cases.BATCH:
                if k in expr:
                    inputs = at(point, {**inputs_of(expr), **values})
                    yield from batch_pairs("batch", point, expr, inputs, batch, rng)
        if "several" in groups:
            for expr in cases.SEVERAL:
                if k in expr:
                    yield from several_pairs(point, expr, at(point, inputs_of(expr)), rng)
        if "float32" in groups:
            for expr in cases.FLOAT32:
                if k in expr:
                    yield "float32", point, expr, "hessian", expr, at(point, inputs_of(expr)), dict(dtype="float32")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", default="")
    ap.add_argument("--points", default=",".join(POINTS))
    ap.add_argument("--groups", default="hessian,derivative,batch,several,float32")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    tally = defaultdict(Counter)
    total = Counter()
    start = time.perf_counter()
    for group, point, label, command, expr, inputs, options in pairs(args.groups.split(","),
                                                                     args.points.split(","), args.k):
        kind, detail = compare(command, expr, inputs, **options)
        tally[(group, point)][kind] += 1
        total[kind] += 1
        if kind != "agree" or args.verbose:
            print(f"{kind:12} {group:13} {point:6} {command:10} {label[:90]}  | {detail[:220]}", flush=True)
    kinds = ["agree", "torch-func", "differ", "refused", "both-raise", "torch-raises", "contract", "crash"]
    print("\n| group | point | " + " | ".join(kinds) + " |")
    print("|---|---|" + "---|" * len(kinds))
    for (group, point), c in tally.items():
        print(f"| {group} | {point} | " + " | ".join(str(c[k]) for k in kinds) + " |")
    print(f"pairs: {sum(total.values())} {dict(total)}; {time.perf_counter() - start:.0f} s")
    return 1 if total["crash"] or total["contract"] else 0


if __name__ == "__main__":
    sys.exit(main())
