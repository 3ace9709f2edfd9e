"""The edge15 sweep: element-wise functions, reductions, norms, softmaxes and losses at extreme finite
magnitudes (±1e-300 ... ±1e300, subnormals, ±0, ±700/800, float32's own edges), value and derivative,
in float64 and float32, against PyTorch 2.13 in the same dtype. The cases and the comparison are in
``tests/edges15.py``.

    PYTHONPATH=. python benchmarks/edges15_sweep.py [-k SUBSTRING] [--dtypes float64,float32] [--verbose]

Prints one line per element that differs (``--verbose``: every case), then the tally: elements compared
and how many differ, by kind (``jac-nonfinite``: jac NaN or inf where PyTorch is finite; ``torch-nonfinite``:
the reverse; ``numbers``: two finite numbers, or inf against NaN), and the cases jac refuses or PyTorch raises on.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

import edges15  # noqa: E402


def cases(dtype: str):
    x = edges15.points(dtype)
    for expr in edges15.UNARY:
        yield "unary", expr, {"x": x}, True
    grid = np.array(edges15.BINARY_POINTS, dtype=np.float64)
    with np.errstate(over="ignore"):
        xs, ys = (a.reshape(-1).astype(dtype) for a in np.meshgrid(grid, grid, indexing="ij"))
    for expr in edges15.BINARY:
        yield "binary", expr, {"x": xs, "y": ys}, True
    for group, listed, elementwise in (("pointwise", edges15.POINTWISE, True), ("whole", edges15.WHOLE, False)):
        for expr, inputs in listed:
            with np.errstate(over="ignore"):
                yield group, expr, {n: np.asarray(v).astype(dtype) for n, v in inputs.items()}, elementwise


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", default="")
    ap.add_argument("--dtypes", default="float64,float32")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    tally, elements, kinds = Counter(), Counter(), Counter()
    for dtype in args.dtypes.split(","):
        for group, expr, inputs, elementwise in cases(dtype):
            if args.k not in expr:
                continue
            kind, detail = edges15.run_case(expr, inputs, dtype, elementwise)
            if kind != "compared":
                kinds[(group, dtype, kind)] += 1
                print(f"{kind:13} {dtype} {expr}  | {detail}", flush=True)
                continue
            found, count = detail
            elements[(group, dtype)] += count
            kinds[(group, dtype, "cases")] += 1
            kinds[(group, dtype, "cases differing")] += bool(found)
            for what, index, ours, theirs, verdict in found:
                tally[(group, dtype, verdict)] += 1
                at = {n: float(v[index]) for n, v in inputs.items()} if elementwise and index else ""
                print(f"{verdict:15} {dtype} {expr} {what}{list(index)} at {at}: jac {ours!r} torch {theirs!r}",
                      flush=True)
            if args.verbose and not found:
                print(f"agree           {dtype} {expr}")
    verdicts = ["jac-nonfinite", "torch-nonfinite", "numbers"]
    print("\n| group | dtype | cases | cases differing | elements compared | " + " | ".join(verdicts)
          + " | refused | torch raises | crash |")
    print("|---|---|---|---|---|" + "---|" * (len(verdicts) + 3))
    for group, dtype in sorted(elements, key=lambda k: (k[1] != "float64", k[0])):
        row = [kinds[(group, dtype, "cases")], kinds[(group, dtype, "cases differing")], elements[(group, dtype)]]
        row += [tally[(group, dtype, v)] for v in verdicts]
        row += [kinds[(group, dtype, k)] for k in ("refused", "torch-raises", "crash")]
        print(f"| {group} | {dtype} | " + " | ".join(str(r) for r in row) + " |")
    return 1 if any(k[2] == "crash" for k in kinds) else 0


if __name__ == "__main__":
    sys.exit(main())
