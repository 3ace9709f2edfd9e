"""Copies, aliases and result layouts that PyTorch's autograd and jac judge differently (session 56, h56-copies).
Each text is a short PyTorch program run by PyTorch 2.13 (float64 leaves) and by jac, classified as in
benchmarks/raises35_probe.py (AGREE, REFUSED-AS-LIB, JAC-ANSWERS-WHERE-LIB-RAISES, JAC-REFUSES-WHERE-LIB-ANSWERS,
WRONG, CRASH):

- views: ``.view(...)`` of a name whose copy (``.contiguous()``, ``.clone()``) another name holds, and of the copy;
- aliases: ``nn.Identity()`` / ``nn.Dropout(0.0)`` / ``F.dropout(..., training=False)`` results written in place;
- layouts: writes into the diagonal of ``torch.flip`` / ``kron`` / ``cdist`` results, ``unfold`` / ``sort`` of an
  expanded tensor.

    PYTHONPATH=. /work/venv/bin/python benchmarks/copies56_probe.py [-v] [-k SUBSTRING]
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import raises35_probe as r35  # noqa: E402

COPIES = ["{v}.contiguous()", "{v}.clone()", "torch.clone({v})", "{v}.contiguous().clone()"]
SOURCES = ["A.T", "torch.sin(A).T", "A.movedim(0, -1)", "A[:, :2]", "(A * 2)[::2]", "A.T.T", "A"]
VIEWS = ["{w}.view(9)", "{w}.view(-1)", "{w}.T.view(-1)", "{w}.view(3, 3)", "{w}.view(-1, 1)"]
ALIASES = ["m = torch.nn.Identity(); g = m(u)", "m = torch.nn.Dropout(0.0); g = m(u)",
           "m = torch.nn.Dropout(0.5).eval(); g = m(u)", "g = torch.nn.Identity()(u)", "g = F.dropout(u, training=False)",
           "g = F.dropout(u, 0.0)", "g = torch.dropout(u, 0.3, False)", "g = torch.nn.functional.dropout(u, p=0.0)",
           "g = F.dropout(u, 1.0)", "g = F.dropout(u, 0.5, training=False)",
           "m = lambda t: F.dropout(t, training=False); g = m(u)"]
WRITES = ["{g}.mul_(2)", "{g}[0] = 5.0", "{g} += 1", "{g}.exp_()", "{g}.add_({g})"]
LAYOUTS = ["torch.flip(torch.sin(A), [0, 1])", "torch.flip(torch.sin(A), [1])", "torch.kron(torch.sin(A[:2, :2]), A[:2, :2])",
           "torch.cdist(A, A * 2)", "torch.cdist(torch.sin(A), A)", "torch.sin(x).expand(3, 3).sort(1).values",
           "torch.sin(x).expand(3, 3).unfold(1, 2, 1)", "torch.sort(torch.sin(x).expand(3, 3), 0)[0]",
           "torch.fliplr(torch.sin(A))", "torch.rot90(torch.sin(A))"]
LAYOUT_WRITES = ["g.diagonal().mul_(2)", "g.diagonal().zero_()", "g.T.diagonal().add_(1)", "g[:, 0].mul_(3)",
                 "g.view(-1)[0] = 1.0", "g.diagonal(1).mul_(2)"]


def view_cases() -> list:
    out = []
    for src in SOURCES:
        for copy in COPIES:
            for view in VIEWS:
                for viewed in ("v0", "v1"):
                    head = f"v0 = {src}; v1 = {copy.format(v='v0')}; "
                    out.append(head + f"v2 = {view.format(w=viewed)}; torch.stack([v2.sum(), v1.sum() * 2])")
                out.append(f"v0 = {src}; v2 = {view.format(w=copy.format(v='v0'))}; v2.sum() + v0.sum()")
    return out


def alias_cases() -> list:
    out = []
    for source in ("torch.sin(x) * 2", "torch.exp(x)"):  # exp saves its result: a write into it, PyTorch raises
        for module in ALIASES:
            for write in WRITES:
                for target in ("g", "u"):
                    out.append(f"u = {source}; {module}; {write.format(g=target)}; torch.cat([u, g * 3])")
    return out


def layout_cases() -> list:
    return [f"g = {src}; {write}; g * 1" for src in LAYOUTS for write in LAYOUT_WRITES]


PARTS = {"views": view_cases, "aliases": alias_cases, "layouts": layout_cases}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-v", action="store_true", help="every text, not only those to look at")
    parser.add_argument("-k", default="", help="only texts containing this")
    parser.add_argument("--part", choices=sorted(PARTS), action="append")
    options = parser.parse_args()
    warnings.simplefilter("ignore")
    counts, parts = collections.Counter(), collections.defaultdict(collections.Counter)
    for part in options.part or PARTS:
        for text in PARTS[part]():
            if options.k not in text:
                continue
            status, ours, theirs = r35.classify("torch", text)
            counts[status] += 1
            parts[part][status] += 1
            if options.v or status not in ("AGREE", "REFUSED-AS-LIB"):
                print(f"{status:30s} {text!r}\n{'':32s}jac: {ours}\n{'':32s}lib: {theirs}")
    for part, found in parts.items():
        print(f"  {part}: " + ", ".join(f"{k} {found[k]}" for k in r35.STATUSES if found[k]))
    print(f"\ncopies56 probe, {sum(counts.values())} texts: " + ", ".join(f"{k} {counts[k]}" for k in r35.STATUSES))
    return 1 if counts["JAC-ANSWERS-WHERE-LIB-RAISES"] or counts["WRONG"] or counts["CRASH"] else 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
