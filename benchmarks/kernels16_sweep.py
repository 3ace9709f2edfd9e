"""The kern16 sweep: compiled kernels against the interpreter at values other than the ones they were
compiled at. The cases and the comparison are in ``tests/kernels16.py`` (read its docstring).

    PYTHONPATH=. python benchmarks/kernels16_sweep.py [--fuzz N] [--rounds R] [--seed S] [-k SUBSTRING]
                                                      [--no-ops] [--no-expressions] [--show N]

Every hand-listed expression (E1-E6, compositions, matrix ops, reductions, linear algebra), ``--fuzz``
expressions of the fuzz grammar, and every op of ir/ops.py on its own: kernels made at ordinary values,
then ``--rounds`` value sets of each kind (random, special, mixed, ties, kinks, huge, tiny) for the
inputs, the cotangent and the tangents. Prints the differences (the first ``--show``) and the tally:
cases, kernels built, calls compared, calls the interpreter refused, differences, crashes (an error that is
no JacError, on either path), nan-bits (calls equal but for a NaN's sign or payload, which NumPy's loops do
not keep: see ``kernels16.same``), unlaid (an op's kernel called on inputs in another layout than it was traced
for, which raises ``kernels.Unlaid``: ``Compiled`` then hands the call to the interpreter). Exit 1 if any differ.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

import kernels16  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fuzz", type=int, default=300, help="expressions of the fuzz grammar")
    ap.add_argument("--rounds", type=int, default=2, help="value sets of each kind per case")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-k", default="", help="only cases whose text holds this")
    ap.add_argument("--no-ops", action="store_true")
    ap.add_argument("--no-expressions", action="store_true")
    ap.add_argument("--show", type=int, default=20)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    start = time.time()
    parts = {}
    if not args.no_expressions:
        listed = [c for c in kernels16.EXPRESSIONS if args.k in c[0]]
        fuzzed = [c for c in kernels16.fuzzed(args.fuzz, args.seed) if args.k in c[0]]
        for label, cases in (("expressions", listed), ("fuzzed", fuzzed)):
            tally = kernels16.Tally()
            for k, (expr, shapes) in enumerate(cases):
                try:
                    tally.add(kernels16.check_expression(expr, shapes, args.seed + k, args.rounds))
                except Exception as err:  # noqa: BLE001  # refused at ordinary values: not a kernel's case
                    tally.cases += 1
                    tally.refused += 1
                    print(f"  (refused at ordinary values) {expr}: {err}")
            parts[label] = tally
    if not args.no_ops:
        tally = kernels16.Tally()
        for k, (name, case) in enumerate(kernels16.op_cases()):
            if args.k in name:
                with np.errstate(all="ignore"):
                    tally.add(kernels16.check_op(name, case, args.seed + k, args.rounds))
        parts["ops"] = tally
    total = kernels16.Tally()
    for label, tally in parts.items():
        total.add(tally)
        print(f"{label:12s} cases {tally.cases:5d}  kernels {tally.kernels:5d}  calls {tally.calls:7d}  "
              f"refused {tally.refused:6d}  differences {len(tally.differences)}  crashes {len(tally.crashes)}  "
              f"nan-bits {tally.nan_bits}  unlaid {tally.handed}")
    for line in total.differences[:args.show]:
        print("DIFF", line[:400])
    for line in total.crashes[:args.show]:
        print("CRASH", line[:400])
    print(f"total        cases {total.cases:5d}  kernels {total.kernels:5d}  calls {total.calls:7d}  "
          f"refused {total.refused:6d}  differences {len(total.differences)}  crashes {len(total.crashes)}  "
          f"nan-bits {total.nan_bits}  unlaid {total.handed}  "
          f"({time.time() - start:.0f} s)")
    return 1 if total.differences else 0


if __name__ == "__main__":
    sys.exit(main())
