"""The memory plan's predicted peak against the measured one, `jac eval`'s Jacobians only, tight (session 56).

``--max-memory`` is a promise: the plan's predicted peak (``Plan.peak_bytes``, what ``--explain`` prints) must not be
below what the Jacobians' run holds. memory40/41_probe.py allow 5 % + 256 KiB for Python's objects; that margin hid
NumPy's iteration buffers (128 KiB beside a (B, n) product of a lifted tangent: ``x * sum(y)`` forward held 1.18x
its prediction). Here the sizes make arrays of a few MiB at most and the margin is 2 % + 32 KiB.

Each text runs in forward and reverse mode, without a budget and under one (``BUDGETED``: the one-pass peak times
the values and Jacobians plus 0.6 of the rest of the one-pass peak, which chunks where the plan can and refuses
where it cannot: a refusal allocates nothing, counted apart), and is
measured as memory40_probe measures it (``measure``, ``inputs_for``: its first-call machinery, imported, not
copied): tracemalloc around the Jacobians' run, plus the values the preparation made.

- UNDER: measured > predicted · 1.02 + 32 KiB: a budget between the two would be broken (the bug class).
- the worst over-predictions (predicted / measured), printed at the end: safe, but they chunk more than needed.

    PYTHONPATH=. python benchmarks/memory56_probe.py [--only SUBSTRING] [-v] [--part K/N] [--worst K] [--nan]
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuzzkit  # noqa: E402  (--part)
from memory40_probe import inputs_for, measure  # noqa: E402  (the first-call measure)

MARGIN = (0.02, 32 * 2**10)
BUDGETED = 0.6  # the budgeted runs: the values, the Jacobians and this share of the rest of the one-pass peak

N = 300  # a vector: its Jacobian by itself is 703 KiB
M = 30  # a matrix's side: its Jacobian by a matrix 6.2 MiB
V = {"x": (N,), "y": (N,)}
S = {"A": (M, M)}
SB = {"A": (M, M), "B": (M, M)}
MV = {"A": (M, M), "x": (M,)}
CASES = [
    # element-wise
    ("sin(x) * exp(y)", V), ("tanh(x) * y + x", V), ("maximum(x, y) ** 2", V), ("where(x > 1, x, y)", V),
    ("exp(A) * B", SB), ("sqrt(A * A + B * B)", SB),
    # a reduction broadcast against a vector (the cases of session 56)
    ("x * sum(y)", V), ("x * sum(x)", V), ("x * y + sum(x)", V), ("where(x > 1, x, 0.0) * sum(y)", V),
    ("sin(x) * sum(y * y)", V), ("x / sum(exp(y))", V), ("x * y - x * sum(x)", V), ("(x - mean(x)) * y", V),
    ("x * prod(y / y.mean())", V),
    # reductions along an axis
    ("sum(A, axis=1) * sum(A)", S), ("sum(A, axis=0)", S), ("A.mean(axis=1)[:, None] - A", S),
    ("np.max(A, axis=1)", S), ("logsumexp(A, axis=1)", S), ("np.linalg.norm(A, axis=0) * sum(B)", SB),
    # matmul and einsum
    ("A @ B", SB), ("A @ x", MV), ("tanh(A @ x) * sum(x)", MV), ("x @ A @ x", MV), ("(A @ x)[:, None] * A", MV),
    ("np.einsum('ij,jk->ik', A, B)", SB), ("np.einsum('i,j->i', x, y) * sum(y)", V),
    ("np.einsum('ij,ij->i', A, B) * sum(A)", SB), ("np.outer(x, y)", V),
    # softmax and friends
    ("softmax(x) * y", V), ("softmax(A, axis=1)", S), ("log_softmax(A, axis=0) * B", SB),
    ("sum(softmax(x) * y)", V),
    # indexing and concatenation
    ("x[::-1] * y", V), ("x[arange(0, 300, 3)] * sum(y)", V), ("A[:, 3] * A[5]", S), ("A.T[::2] * B[1::2]", SB),
    ("np.concatenate([x, y]) * 2", V), ("np.concatenate([x * sum(y), y])", V), ("np.stack([A, B]).sum(0)", SB),
    ("np.roll(x, 3) * y", V), ("np.tile(x[:10], 30) * y", V),
    # broadcasting
    ("x[:, None] * y[None, :10]", V), ("A * x", MV), ("A + x[:, None]", MV), ("sum(A * x, axis=0)", MV),
    ("x[:30, None] * A * x[None, :30]", MV),
    # several inputs, several outputs
    ("x * y * sum(x * y)", V), ("(x * sum(y), y * sum(x))", V), ("(A @ B, sum(A) * B)", SB),
]
COMMANDS = [("forward", False), ("reverse", False), ("forward", True), ("reverse", True)]


def run_one(expr: str, shapes: dict, mode: str, budgeted: bool, nan: bool = False) -> list:
    """``[(output, predicted, measured or "refused")]``, one per output of the text (each output's Jacobians are
    planned and run apart, as the report runs them; "refused": the plan refused the budget before allocating).
    ``nan`` (session 57): each input's first element NaN, so that a small plan's dense pass holds one and reads it
    again from the structured passes beside it (``planner.nan_read_structured``)."""
    b = inputs_for(shapes, False)
    if nan:
        for a in b.values():
            a.reshape(-1)[0] = np.nan
    out = []
    for index, (name, problem) in enumerate(api.output_problems(api.prepare(expr, b, several=True))):
        budget = None
        if budgeted:  # the values and Jacobians, and this share of the one pass's own bytes: chunks where it can
            whole = api.plan_of(problem, mode, None)
            held = whole.values_bytes + whole.result_bytes
            budget = held + int((whole.peak_bytes - held) * BUDGETED)
        plan = api.plan_of(problem, mode, budget)
        if plan.refusal:
            out.append((name, plan.peak_bytes, "refused"))
            continue

        def jacobians(index=index, budget=budget):  # as jac eval computes them: the plan's Jacobian objects
            problem = api.output_problems(api.prepare(expr, b, several=True))[index][1]
            planned = api.plan_of(problem, mode, budget)
            return lambda: api.jacobians(problem, planned), planned.values_bytes

        out.append((name, plan.peak_bytes, measure(jacobians, 0)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="")
    parser.add_argument("--worst", type=int, default=10, help="how many of the worst over-predictions to print")
    parser.add_argument("--nan", action="store_true", help="a NaN in each input (the dense passes' NaN path)")
    fuzzkit.add_part_flags(parser)
    args = parser.parse_args()
    chosen = fuzzkit.part_of([(expr, shapes, mode, budgeted) for expr, shapes in CASES if args.only in expr
                              for mode, budgeted in COMMANDS], args.part)
    counts = {"cases": 0, "answered": 0, "refused": 0, "errors": 0, "UNDER": 0}
    ratios = []
    for expr, shapes, mode, budgeted in chosen:
        counts["cases"] += 1
        label = f"{mode:7} {'budget' if budgeted else '      '} {expr[:56]:56}"
        try:
            outs = run_one(expr, shapes, mode, budgeted, args.nan)
        except (JacError, ValueError, TypeError) as err:  # a text jac refuses in that mode: counted, not measured
            counts["errors"] += 1
            print(f"ERROR {label} {type(err).__name__}: {str(err)[:90]}", flush=True)
            continue
        for name, predicted, measured in outs:
            where = label if name is None else f"{label} [{name}]"
            if measured == "refused":
                counts["refused"] += 1
                if args.v:
                    print(f"refused {where}", flush=True)
                continue
            counts["answered"] += 1
            under = measured > predicted * (1 + MARGIN[0]) + MARGIN[1]
            counts["UNDER"] += int(under)
            ratios.append((predicted / max(measured, 1), where, predicted, measured))
            if under or args.v:
                print(f"{'UNDER' if under else 'ok   '} {where} predicted {predicted / 2**20:7.3f} MiB  measured "
                      f"{measured / 2**20:7.3f} MiB  ({measured / max(predicted, 1):5.2f}x)", flush=True)
    print("counts:", counts)
    print(f"worst over-predictions (predicted / measured), of {len(ratios)}:")
    for ratio, label, predicted, measured in sorted(ratios, reverse=True)[:args.worst]:
        print(f"  {ratio:5.2f}x {label} predicted {predicted / 2**20:7.3f} MiB  measured {measured / 2**20:7.3f} MiB")


if __name__ == "__main__":
    main()
