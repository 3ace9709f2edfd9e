"""Result layouts that PyTorch's ``.view(...)`` judges (session 57, h57-layouts). Each text is a short PyTorch program
run by PyTorch 2.13 (float64 leaves) and by jac, classified as in benchmarks/raises35_probe.py (AGREE, REFUSED-AS-LIB,
JAC-ANSWERS-WHERE-LIB-RAISES, JAC-REFUSES-WHERE-LIB-ANSWERS, WRONG, CRASH):

- reductions: a reduction along a dim (``sum``, ``mean``, ``amax``, ``max(dim)``, ``std``, ``logsumexp``, ``norm``,
  ...; keepdim too) of a contiguous, computed, permuted or sliced 3-d tensor, its axes moved (``.mT``,
  ``transpose``, ``movedim``) or not, then ``.view(...)``: PyTorch's reductions give a fresh contiguous result;
- returned: ``.view(...)`` of a copy a function of the text returns (``def f(t): return t.contiguous()``).

    PYTHONPATH=. /work/venv/bin/python benchmarks/layouts57_probe.py [--part reductions|returned] [-v] [-k SUBSTRING]
        [--sample N --seed S]
"""
from __future__ import annotations

import argparse
import collections
import os
import random
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import raises35_probe as r35  # noqa: E402

r35.INPUTS.setdefault("B", (np.arange(24.0).reshape(2, 3, 4) * 0.37 % 1.9 - 0.8).tolist())

OPERANDS = ["B", "torch.sin(B)", "B.permute(2, 0, 1)", "B.transpose(0, 2)", "B[:, :, ::2]"]
REDUCTIONS = ["{o}.sum({d})", "torch.sum({o}, {d})", "{o}.sum(dim={d}, keepdim=True)", "{o}.mean({d})",
              "torch.mean({o}, dim={d}, keepdim=True)", "{o}.amax({d})", "{o}.amax(dim={d}, keepdim=True)",
              "torch.amin({o}, {d})", "{o}.max({d}).values", "torch.max({o}, {d})[0]", "{o}.min({d}, keepdim=True)[0]",
              "{o}.prod({d})", "{o}.std({d})", "{o}.var({d}, keepdim=True)", "torch.logsumexp({o}, {d})",
              "{o}.logsumexp({d})", "{o}.norm(dim={d})", "torch.norm({o}, dim={d})", "torch.linalg.vector_norm({o}, dim={d})",
              "torch.linalg.norm({o}, dim={d})", "{o}.nansum({d})", "{o}.nanmean({d})", "{o}.median({d}).values",
              "{o}.nanmedian({d}).values", "torch.std_mean({o}, {d})[0]", "torch.var_mean({o}, {d})[1]",
              "torch.aminmax({o}, dim={d}).max", "torch.special.logsumexp({o}, {d})", "{o}.sum(({d},))",
              "torch.maximum({o}, {o} * 2).sum({d})", "{o}.max({d}, True).values", "torch.max({o}, {o}.flip(0))"]
DIMS = ["0", "1", "-1"]
MOVES = ["", ".mT", ".transpose(0, 1)", ".movedim(0, -1)", ".movedim(-1, 0)"]
VIEWS = [".view(-1)", ".view(2, -1)", ".view(-1, 2)"]

FUNCTIONS = ["def f(t): return t.contiguous()", "def f(t): return t.clone()", "def f(t): return torch.clone(t)",
             "f = lambda t: t.contiguous()", "def f(t):\n    return t.contiguous().clone()",
             "def f(t):\n    u = t * 1\n    return u.contiguous()", "def f(t): return t.T.contiguous()",
             "def f(t): return t[:, :2].clone()", "def f(t): return torch.tensor(t)"]
ARGUMENTS = ["A.T", "torch.sin(A).T", "A", "A[:, :2]", "A.movedim(0, -1)", "(A * 2)[::2]"]
RETURNED_VIEWS = ["v.view(-1)", "v.T.view(-1)", "v.view(-1, 1)", "v.mT.view(-1)", "f({a}).view(-1)",
                  "f({a}).T.view(-1)"]


def reduction_cases() -> list:
    out = []
    for operand in OPERANDS:
        for reduction in REDUCTIONS:
            for d in DIMS:
                reduced = reduction.format(o=operand, d=d)
                for move in MOVES:
                    for view in VIEWS:
                        out.append(f"r = {reduced}{move}; r{view}")
    return out


def returned_cases() -> list:
    out = []
    for fn in FUNCTIONS:
        for a in ARGUMENTS:
            for view in RETURNED_VIEWS:
                out.append(f"{fn}\nv = f({a}); w = {view.format(a=a)}; w * 1 + v.sum()")
    return out


PARTS = {"reductions": reduction_cases, "returned": returned_cases}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-v", action="store_true", help="every text, not only those to look at")
    parser.add_argument("-k", default="", help="only texts containing this")
    parser.add_argument("--part", choices=sorted(PARTS), action="append")
    parser.add_argument("--sample", type=int, default=0, help="only this many texts of each part, drawn at random")
    parser.add_argument("--seed", type=int, default=5704)
    options = parser.parse_args()
    warnings.simplefilter("ignore")
    counts, parts = collections.Counter(), collections.defaultdict(collections.Counter)
    for part in options.part or PARTS:
        texts = [t for t in PARTS[part]() if options.k in t]
        if options.sample and options.sample < len(texts):
            texts = random.Random(options.seed).sample(texts, options.sample)
        for text in texts:
            status, ours, theirs = r35.classify("torch", text)
            counts[status] += 1
            parts[part][status] += 1
            if options.v or status not in ("AGREE", "REFUSED-AS-LIB"):
                print(f"{status:30s} {text!r}\n{'':32s}jac: {ours}\n{'':32s}lib: {theirs}")
    for part, found in parts.items():
        print(f"  {part}: " + ", ".join(f"{k} {found[k]}" for k in r35.STATUSES if found[k]))
    print(f"\nlayouts57 probe, {sum(counts.values())} texts: " + ", ".join(f"{k} {counts[k]}" for k in r35.STATUSES))
    return 1 if counts["JAC-ANSWERS-WHERE-LIB-RAISES"] or counts["WRONG"] or counts["CRASH"] else 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
