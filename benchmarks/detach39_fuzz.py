"""PyTorch in-place writes through views, round 2 (h39-views2): random short programs mixing named views that
autograd sees (``t[0]``, ``t.T``), views it does not (``t.detach()``), broadcast views (``t[0].expand(3, 3)``), calls
that are their operand itself (``t.double()``, ``t.contiguous()``), split parts, and writes through any of them, each
run by PyTorch and by jac and classified as ``views39_probe.py`` classifies a text (AGREE, CLOSE, REFUSED-AS-LIB,
JAC-ANSWERS-WHERE-LIB-RAISES, JAC-REFUSES-WHERE-LIB-ANSWERS, WRONG, CRASH).

    PYTHONPATH=. /work/venv/bin/python benchmarks/detach39_fuzz.py [-n 600] [--seed 0] [-v]

Prints the texts that are silent answers, wrong or crashes (all others with -v), then the counts. About a minute
per 600 programs. Exit 1 where a silent answer, a wrong answer or a crash was found.
"""
from __future__ import annotations

import argparse
import collections
import os
import random
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import views39_probe as probe  # noqa: E402 - the probe's runners and classes

BASES = ["t = torch.sin(A)", "t = A * 1", "t = (A * 0.5).exp()", "t = torch.sin(A).double()"]  # exp of 1.5 three
# times is finite: an inf would make PyTorch's one-hot VJP 0 * inf = NaN where jac gives the entry, no view's doing
VIEWS = ["t.detach()", "t[0]", "t.T", "t[1:]", "t.detach()[0]", "t[0].detach()", "t.detach().T", "t.double()",
         "t.contiguous()", "t[0].expand(3, 3)", "t.diagonal()", "t.to(torch.float64)"]
WRITES = ["{v}.mul_(2)", "{v}.add_(x[0])", "{v}.zero_()", "{v}[0] = x[1]", "{v}.sub_(A[2, 2])", "{v} *= {v}",
          "{v}.copy_({v} * 3)", "{v}.clamp_(min=0.0)", "{v}.exp_()", "{v}.detach().mul_(2)"]
READS = ["torch.cat([t.reshape(-1), {u}.reshape(-1)])", "t.sin()", "{u} * x[0]", "({u} * {u}).sum()", "t"]


def program(rng: random.Random) -> str:
    lines = [rng.choice(BASES)]
    names = ["t"]
    for k in range(rng.randint(1, 3)):
        view = rng.choice(VIEWS)
        base = rng.choice(names)
        lines.append(f"v{k} = {view.replace('t', base, 1) if base != 't' and view.startswith('t') else view}")
        names.append(f"v{k}")
    for _ in range(rng.randint(1, 2)):
        lines.append(rng.choice(WRITES).format(v=rng.choice(names)))
    lines.append(rng.choice(READS).format(u=rng.choice(names)))
    return "; ".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=600)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-v", action="store_true")
    options = parser.parse_args()
    warnings.simplefilter("ignore")
    rng = random.Random(options.seed)
    counts = collections.Counter()
    seen = set()
    while len(seen) < options.n:
        text = program(rng)
        if text in seen:
            continue
        seen.add(text)
        status, ours, theirs = probe.classify(text)
        counts[status] += 1
        if options.v or status in ("JAC-ANSWERS-WHERE-LIB-RAISES", "WRONG", "CRASH"):
            print(f"{status:30s} {text!r}\n{'':32s}jac: {ours}\n{'':32s}torch: {theirs}")
    print(f"\ndetach39 fuzz, {len(seen)} programs (seed {options.seed}): "
          + ", ".join(f"{k} {counts[k]}" for k in probe.STATUSES))
    return 1 if counts["JAC-ANSWERS-WHERE-LIB-RAISES"] or counts["WRONG"] or counts["CRASH"] else 0


if __name__ == "__main__":
    sys.exit(main())
