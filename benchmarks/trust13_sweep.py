"""The htrust13 parity sweep: the cases of ``tests/test_parity_trust13.py`` (training-code compositions,
attention, torch.linalg, views, reductions, ties, element-wise kinks) at random inputs and at special points,
through jac's Python API and PyTorch (float64), classified.

    PYTHONPATH=. python benchmarks/trust13_sweep.py [-k SUBSTRING] [--points random,zeros,...] [--verbose]

Points: ``random`` (the test's pool), ``zeros`` (every input 0), ``ties`` (every input rounded to a multiple
of 0.5: ties, zeros and repeated eigenvalues), ``inf`` / ``-inf`` / ``nan`` (the first element of every input).
Each (case, point) is one of

- ``agree``: value, every Jacobian and (one-element output) the Hessian agree (rtol 1e-9, NaN equal to NaN);
- ``both-raise``: jac refuses and PyTorch raises;
- ``torch-raises``: PyTorch raises, jac answers (listed: is the answer right?);
- ``refused``: jac refuses (a JacError), PyTorch answers;
- ``crash``: jac raises anything else;
- ``differ``: both answer and something differs, named by what (value, d/dX, hessian) and how: ``numbers``
  (two finite numbers differ; ``numbers+nan``: also NaN or inf entries), ``torch-nan`` (PyTorch NaN or inf
  where jac is finite), ``jac-nan`` (jac NaN or inf where PyTorch is finite), ``nan-places`` (both non-finite,
  of another kind), ``shape``.

Prints one line per (case, point) that does not agree and the tally per group and point.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections import Counter, defaultdict

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tests"))

import test_parity_trust13 as cases  # noqa: E402
from parity import torch_results  # noqa: E402

from jacobi_cli.errors import JacError  # noqa: E402
from jacobi_cli.tools import api  # noqa: E402


def _first(v, value):
    v = np.array(v, dtype=np.float64)
    v.reshape(-1)[0] = value
    return v


POINTS = {
    "random": lambda v: v,
    "zeros": np.zeros_like,
    "ties": lambda v: np.round(np.asarray(v) * 2) / 2,
    "inf": lambda v: _first(v, np.inf),
    "-inf": lambda v: _first(v, -np.inf),
    "nan": lambda v: _first(v, np.nan),
}
GROUPS = ["MLP", "ATTENTION", "LINALG", "VIEWS", "REDUCTIONS", "ELEMENTWISE"]


def how(ours, theirs) -> str | None:
    """None when equal (rtol 1e-9, NaN equal to NaN), else how they differ."""
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    if ours.shape != theirs.shape:
        return f"shape {ours.shape} vs {theirs.shape}"
    scale = max(1.0, float(np.nanmax(np.abs(theirs[np.isfinite(theirs)]), initial=0.0)))
    with np.errstate(invalid="ignore"):
        close = np.isclose(ours, theirs, rtol=1e-9, atol=1e-11 * scale, equal_nan=True)
    if close.all():
        return None
    bad = ~close
    fo, ft = np.isfinite(ours[bad]), np.isfinite(theirs[bad])
    if (fo & ft).any():  # the one that matters: two finite numbers that differ
        return "numbers" if (fo & ft).all() else "numbers+nan"
    if (fo & ~ft).all():
        return "torch-nan"
    if (~fo & ft).all():
        return "jac-nan"
    return "nan-places"  # both hold NaN or inf among these entries, at different places or of another kind


def classify(expr: str, fn, point: str):
    inputs = {n: POINTS[point](v) for n, v in cases.inputs_of(fn).items()}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = torch_results(fn, inputs)
        terr = None
    except Exception as err:  # noqa: BLE001 - PyTorch's refusals, whatever they are
        theirs, terr = None, f"{type(err).__name__}: {str(err).splitlines()[0][:90]}"
    try:
        value = np.asarray(api.evaluate(expr, inputs))
        jac = api.jacobian(expr, inputs)
        hess = api.hessian(expr, inputs) if theirs is not None and "hessian" in theirs else None
    except JacError as err:
        return ("both-raise" if terr else "refused"), f"{err.kind}: {err.message[:110]}"
    except Exception as err:  # noqa: BLE001
        return "crash", f"{type(err).__name__}: {err}"[:140]
    if terr:
        return "torch-raises", terr
    found = []
    what = how(value, theirs["value"])
    if what:
        found.append(f"value {what}")
    for name in inputs:
        what = how(jac[name], theirs["jacobian"][name])
        if what:
            found.append(f"d/d{name} {what}")
    if hess is not None:
        for key, block in theirs["hessian"].items():
            what = how(hess[key], block)
            if what:
                found.append(f"hessian {what}")
                break
    return ("differ", "; ".join(found)) if found else ("agree", "")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("-k", default="")
    ap.add_argument("--points", default=",".join(POINTS))
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    points = args.points.split(",")
    tally = defaultdict(Counter)
    total = Counter()
    for group in GROUPS:
        for expr, fn in getattr(cases, group):
            if args.k not in expr:
                continue
            for point in points:
                kind, detail = classify(expr, fn, point)
                tally[(group, point)][kind] += 1
                total[kind] += 1
                if kind != "agree" or args.verbose:
                    print(f"{kind:12} {point:6} {expr[:100]}  | {detail}", flush=True)
    kinds = ["agree", "differ", "refused", "both-raise", "torch-raises", "crash"]
    print("\n| group | point | " + " | ".join(kinds) + " |")
    print("|---|---|" + "---|" * len(kinds))
    for (group, point), c in tally.items():
        print(f"| {group} | {point} | " + " | ".join(str(c[k]) for k in kinds) + " |")
    print("total:", dict(total), "cases:", sum(len(getattr(cases, g)) for g in GROUPS))
    return 1 if total["crash"] else 0


if __name__ == "__main__":
    sys.exit(main())
