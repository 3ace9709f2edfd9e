"""PyTorch writes through views, round 40 (h40-views): random short programs that chain views of one tensor (basic
indices, transposes, permute, movedim, reshape / view / flatten, unsqueeze / squeeze, expand, diagonal, narrow, select,
unbind / split / chunk parts, unflatten, detach, as_strided) with copies among them (clone, flip, contiguous of a
transpose, an index list), take values autograd saves (``z = v.exp()``, ``z = v * x[0]``), write in place through any
name (``mul_``, ``add_`` of an input, ``copy_``, ``exp_``, ``v[0] = ...``, ``masked_fill_``, ``+=``), and read one
name, a saved value or the base. Each program is run by PyTorch 2.13 and by jac and classified as
``views39_probe.py`` classifies a text (value and every Jacobian block compared bit for bit; PyTorch's raise, e.g.
"modified by an inplace operation", against jac's refusal):

- JAC-ANSWERS-WHERE-LIB-RAISES: a silent answer where PyTorch raises (the worst defect);
- WRONG: both answer, differently; CRASH: jac raised something that is not a JacError;
- JAC-REFUSES-WHERE-LIB-ANSWERS: a false refusal (grouped by jac's message with --groups).

Shapes are drawn by running each view on a tensor of the name's shape, so every view fits. Inputs: A (3×4), x (4).

    PYTHONPATH=. /work/venv/bin/python benchmarks/views40_fuzz.py [-n 2000] [--seed 0] [-v] [--groups]

About 10 s per 1,000 programs; run it under ``ulimit -v 6000000``. Exit 1 where a silent answer, a wrong answer or a
crash was found.
"""
from __future__ import annotations

import argparse
import collections
import os
import random
import re
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import views39_probe as probe  # noqa: E402 - the probe's runners and classes

INPUTS = {"A": [[0.5, -1.25, 2.0, 0.25], [1.5, 0.75, -0.5, -1.0], [-2.0, 1.0, 3.0, 0.5]], "x": [0.5, -1.5, 2.0, 0.75]}
BASES = ["t = torch.sin(A)", "t = torch.tanh(A) * 2", "t = A.clone() * x", "t = torch.exp(A * 0.25)",
         "t = A.clone()"]
VIEWS = ["{v}[0]", "{v}[1:]", "{v}[:, 1]", "{v}[::2]", "{v}[..., 1:]", "{v}[:, :2]", "{v}.T", "{v}.t()",
         "{v}.transpose(0, 1)", "{v}.permute(1, 0)", "{v}.movedim(0, -1)", "{v}.diagonal()", "{v}.diagonal(1)",
         "{v}.view(-1)", "{v}.reshape(-1)", "{v}.flatten()", "{v}.view({r})", "{v}.reshape({r})", "{v}.unsqueeze(0)",
         "{v}.squeeze()", "{v}.expand({e})", "{v}.narrow(0, 1, 1)", "{v}.narrow(-1, 0, 2)", "{v}.select(0, 1)",
         "{v}.unbind(0)[1]", "{v}.split(1)[0]", "{v}.chunk(2)[-1]", "{v}.detach()", "{v}.view_as({v})",
         "{v}.as_strided((2, 2), (1, 2))", "{v}.unflatten(0, (1, -1))", "{v}[None]", "{v}.contiguous()",
         "{v}.clone()", "{v}.flip(0)", "{v}[[0, 1]]", "{v}.T.contiguous()", "{v}.mT", "{v}[0, 1:3]", "{v}[-1]"]
WRITES = ["{v}.mul_(2)", "{v}.add_(x[0])", "{v}.zero_()", "{v}.copy_({v} * 3)", "{v}.clamp_(min=0.0)",
          "{v}.exp_()", "{v}.sin_()", "{v}.sigmoid_()", "{v} *= {v}", "{v} += 1", "{v}[0] = x[1]",
          "{v}[..., 0] *= x[2]", "{v}.masked_fill_({v} > 0.5, 0.0)", "{v}.mul_(x[0])", "{v}.div_(2)",
          "{v}.fill_(x[3])", "{v}.neg_()", "{v}.add_({w} * 0)", "{v}.copy_({w})", "{v}.tanh_()", "{v}.cos_()",
          "{v}.abs_()", "{v}.pow_(2)", "{v}[0] += {w}.sum()"]
SAVES = ["{v}.exp()", "{v} * x[0]", "{v}.sin()", "{v}.pow(2)", "{v}.tanh()", "{v}.sum()", "{v} + 1", "{v}.sigmoid()",
         "{v} * {w}"]
READS = ["{u}", "{u} * 1", "{u}.sum()", "t", "torch.cat([t.reshape(-1), {u}.reshape(-1)])", "({u} * {u}).sum()",
         "{u}.tanh()"]


def shape_of(expr: str, shapes: dict):
    """The shape of ``expr`` run on zero tensors of the names' shapes, or None where PyTorch refuses it."""
    import torch
    scope = {"torch": torch, **{n: torch.zeros(s, dtype=torch.float64) for n, s in shapes.items()}}
    scope["x"] = torch.zeros(4, dtype=torch.float64)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = eval(expr, scope)  # noqa: S307 - the fuzz's own text
    except Exception:  # noqa: BLE001 - a view that does not fit: draw again
        return None
    return tuple(value.shape) if hasattr(value, "shape") else None


def view_text(rng: random.Random, name: str, shape: tuple) -> str:
    n = 1
    for d in shape:
        n *= d
    factors = [(a, n // a) for a in range(1, n + 1) if n % a == 0]
    r = ", ".join(map(str, rng.choice(factors))) if factors else "-1"
    e = ", ".join(map(str, (2, *shape)))
    return rng.choice(VIEWS).format(v=name, r=r, e=e)


def program(rng: random.Random) -> str:
    import torch  # noqa: F401 - shape_of's
    lines, shapes, names = [rng.choice(BASES)], {"t": (3, 4)}, ["t"]
    saved = []
    for k in range(rng.randint(1, 3)):
        for _ in range(20):
            base = rng.choice(names)
            text = view_text(rng, base, shapes[base])
            shape = shape_of(text, shapes)
            if shape is not None and 0 not in shape:
                break
        else:
            continue
        lines.append(f"v{k} = {text}")
        shapes[f"v{k}"] = shape
        names.append(f"v{k}")
    for _ in range(rng.randint(1, 3)):
        kind = rng.random()
        v, w = rng.choice(names), rng.choice(names)
        if kind < 0.25:
            z = f"z{len(saved)}"
            lines.append(f"{z} = " + rng.choice(SAVES).format(v=v, w=w))
            saved.append(z)
        else:
            lines.append(rng.choice(WRITES).format(v=v, w=w))
    u = rng.choice(names + saved)
    lines.append(rng.choice(READS).format(u=u))
    return "; ".join(lines)


def group(message: str) -> str:
    """jac's refusal with names and numbers blotted out, for counting alike refusals."""
    text = re.sub(r"'[^']*'", "'N'", message)
    return re.sub(r"\d+", "D", text)[:150]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-v", action="store_true", help="print every program")
    parser.add_argument("--groups", action="store_true", help="count the false refusals by jac's message")
    parser.add_argument("--show", default="", help="also print programs of these classes (comma separated)")
    options = parser.parse_args()
    warnings.simplefilter("ignore")
    probe.INPUTS = INPUTS
    rng = random.Random(options.seed)
    counts, groups, seen = collections.Counter(), collections.Counter(), set()
    show = {"JAC-ANSWERS-WHERE-LIB-RAISES", "WRONG", "CRASH", *filter(None, options.show.split(","))}
    while len(seen) < options.n:
        text = program(rng)
        if text in seen:
            continue
        seen.add(text)
        status, ours, theirs = probe.classify(text)
        counts[status] += 1
        if status == "JAC-REFUSES-WHERE-LIB-ANSWERS":
            groups[group(ours)] += 1
        if options.v or status in show:
            print(f"{status:30s} {text!r}\n{'':32s}jac: {ours}\n{'':32s}torch: {theirs}")
    if options.groups:
        print("\nfalse refusals by jac's message:")
        for message, count in groups.most_common():
            print(f"{count:6d}  {message}")
    print(f"\nviews40 fuzz, {len(seen)} programs (seed {options.seed}): "
          + ", ".join(f"{k} {counts[k]}" for k in probe.STATUSES))
    return 1 if counts["JAC-ANSWERS-WHERE-LIB-RAISES"] or counts["WRONG"] or counts["CRASH"] else 0


if __name__ == "__main__":
    sys.exit(main())
