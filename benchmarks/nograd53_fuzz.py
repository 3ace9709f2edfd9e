"""A differential fuzz of writes PyTorch does not record (session 53, lang/nograd.py): seeded random programs that make
a tensor that is no leaf (or a constant), maybe take views of it and ops that save it for backward, write into it (or a
view of it) under ``torch.no_grad()`` or through ``.data`` (in-place methods, ``t[i] = v``, masks, ``op=``, ``copy_``,
``F.relu(t, inplace=True)``, ``.data = V``, a function of the text writing into its argument), and read it, its views
and the savers after; run by PyTorch (float64, ``torch.autograd.functional.jacobian``) and by jac's API, compared as
benchmarks/torchprog37_fuzz.py compares (its ``classify``: AGREE, BOTH-RAISE, JAC-REFUSES,
JAC-ANSWERS-WHERE-TORCH-RAISES, WRONG, CRASH).

    PYTHONPATH=. /work/venv/bin/python benchmarks/nograd53_fuzz.py [--n 1000] [--seed 53] [--show 15] [--recorded]
        [--layouts]

``--recorded`` (session 54): the same programs with the ``with torch.no_grad():`` lines dropped and their bodies
dedented, so each write is one PyTorch records (views, aliases, ``inplace=True``, savers written through another name).
``--layouts`` (session 55): bases of two axes made by sort / topk / gather / cat / stack / a constant / a transpose's
contiguous copy (``functions.RESULT_LAYOUTS``), more views (reshape, a column, contiguous, permute, diagonal) and
writes through a list holding the tensor (``ys = [t]; ys[0].mul_(2)``, ``for s in [t]: s.exp_()``).
``--through-names`` (session 55): only the programs writing ``F.relu(t, inplace=True)``, the flag given through a
local, ``**kw``, ``*[True]``, ``functools.partial``, a def's parameter or default, ``nn.ReLU(inplace=fl)``.

Exit 1 on WRONG or CRASH (each printed with its inputs).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import warnings
from collections import Counter

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from torchprog37_fuzz import checked, reason  # noqa: E402

BASES = ["x * 1.5 + 0.1", "x.clone()", "torch.exp(x)", "x.sort()[0]", "torch.flip(x, [0]) * 2", "torch.sin(x) * x",
         "torch.zeros(4) + 0.5", "torch.sigmoid(x)", "x[[0, 2, 1, 3]] * 1", "F.relu(x) + x"]
SAVERS = ["z = t * t", "z = torch.sin(t)", "z = t.exp()", "z = t + 1", "z = t.sum() * 2", "z = torch.tanh(t)",
          "z = t[0:2] * 3", "z = t[1:].sin()", "z = t.pow(2)", "z = t.clone()"]
VIEWS = ["v = t[1:3]", "v = t.view(2, 2)", "v = t[0]", "v = t.detach()", "v = t", "v = t.T"]
METHODS = ["add_(1)", "mul_(2)", "mul_(x)", "clamp_(0, 1)", "zero_()", "fill_(0.5)", "copy_(t.round())",
           "copy_(x * 3)", "neg_()", "exp_()", "sigmoid_()", "tanh_()", "relu_()", "pow_(2)", "round_()", "sign_()",
           "masked_fill_(t > 0, 0.0)", "div_(3)", "sub_(x, alpha=2)", "abs_()", "unsqueeze_(0)"]
WRITES = ["t.{m}", "t[0] = 5.0", "t[1:3] = x[0:2] * 2", "t[t > 0.5] = 0.0", "t += 1", "t *= x", "t[1:] -= 0.25",
          "t[0:2].{m}", "t[1:3].{m}", "F.relu(t, inplace=True)", "torch.relu_(t)", "u = F.relu(t, inplace=True)",
          "t.view(2, 2)[0].{m}", "t.T.{m}", "t.data.{m}", "t.data[0] = 5.0", "u = t", "t.detach().{m}",
          "g(t)", "t[0], t[1] = t[1] * 1, t[0] * 1"]
OUTS = ["(t ** 2).sum() + (t * x).sum()", "t * x", "torch.sin(t).sum()", "(v ** 2).sum() + t.sum()",
        "z.sum() + t.sum()", "z", "u * 2 + t", "(t ** 3).sum()", "t"]


# --layouts (session 55): bases of two axes made by the calls whose result layout jac reads from
# functions.RESULT_LAYOUTS (a sort, topk, gather, cat, stack, a constant, a transpose's contiguous copy), their views,
# and writes through a list holding the tensor
BASES2 = ["x.reshape(2, 2).sort(1)[0]", "torch.sort(x.reshape(2, 2).T, 1)[0]", "torch.topk(x.reshape(2, 2), 2, 0)[0]",
          "torch.gather(x.reshape(2, 2), 1, torch.tensor([[1, 0], [0, 1]]))", "torch.stack([x[:2], x[2:]])",
          "torch.cat([x[:2].reshape(1, 2), x[2:].reshape(1, 2)])", "torch.tensor([[0.5, 1.0], [2.0, 3.0]])",
          "x.reshape(2, 2).T.contiguous()", "torch.cummax(x.reshape(2, 2), 0)[0]", "torch.softmax(x.reshape(2, 2).T, 0)",
          "torch.index_select(x.reshape(2, 2), 1, torch.tensor([1, 0]))", "torch.msort(x.reshape(2, 2).T)"]
VIEWS2 = VIEWS + ["v = t.reshape(4)", "v = t[:, 1]", "v = t.T.contiguous()", "v = t.contiguous()", "v = t.permute(1, 0)",
                  "v = t.diagonal()", "ys = [t]", "ys = [t, x * 2]"]
WRITES2 = WRITES + ["ys = [t]; ys[0].{m}", "for s in [t]: s.{m}", "ws = [x * 1, t]; ws[1].{m}"]
OUTS2 = ["(t ** 2).sum() + (t.reshape(-1) * x).sum()", "t.reshape(-1) * x", "torch.sin(t).sum()",
         "(v ** 2).sum() + t.sum()", "z.sum() + t.sum()", "z", "u * 2 + t", "(t ** 3).sum()", "t", "ys[0] * 2 + t"]


def draw(seed: int, layouts: bool = False) -> tuple:
    r = random.Random(seed)
    lines = ["import torch", "import torch.nn.functional as F"]
    lines.append(f"t = {r.choice(BASES2 if layouts else BASES)}")
    names = {"t"}
    if r.random() < 0.4:
        lines.append(r.choice(SAVERS))
        names.add("z")
    if r.random() < 0.4:
        view = r.choice(VIEWS2 if layouts else VIEWS)
        lines.append(view)
        names.add("ys" if view.startswith("ys") else "v")
    write = r.choice(WRITES2 if layouts else WRITES).format(m=r.choice(METHODS))
    if write.startswith("g("):
        lines[2:2] = ["def g(s):", f"    s.{r.choice(METHODS)}", "    return s"]
    if write.startswith("u ="):
        names.add("u")
    if ".data" in write and r.random() < 0.5:
        lines.append(write)
    else:
        lines += ["with torch.no_grad():", "    " + write]
        if r.random() < 0.3:
            lines.append(f"    t.{r.choice(METHODS)}" if r.random() < 0.5 else "    w = t * 2")
    if r.random() < 0.3:
        lines.append(r.choice(["t = t + x", "t.add_(x)", "t = t * 2"]))
    if write.startswith("ys ="):
        names.add("ys")
    outs = [o for o in (OUTS2 if layouts else OUTS) if set(re.findall(r"\b(?:[vzu]|ys)\b", o)) <= names]
    lines.append(r.choice(outs))
    text = "\n".join(lines)
    return text, {"x": np.round(np.array([r.uniform(-1.2, 1.2) for _ in range(4)]), 3)}


def recorded(text: str) -> str:
    """``text`` with its ``no_grad`` blocks' statements run as recorded writes (the block's line dropped, its body
    dedented; a text function's own body kept)."""
    lines = []
    for line in text.split("\n"):
        if line.startswith("with torch.no_grad():"):
            continue
        if line.startswith("    ") and not line.startswith(("    s.", "    return")):
            line = line[4:]
        lines.append(line)
    return "\n".join(lines)


# session 55 (--through-names): the flag of F.relu(t, inplace=True) given through a name jac knows when reading:
# (the call written, the lines it needs after the imports)
THROUGH = [("F.relu(t, inplace=fl)", ["fl = True"]), ("F.relu(t, fl)", ["fl = True"]),
           ("F.relu(t, **kw)", ["kw = {'inplace': True}"]), ("F.relu(t, **kw)", ["kw = dict(inplace=True)"]),
           ("F.relu(t, *[True])", []), ("relu_ip(t)", ["import functools", "relu_ip = functools.partial(F.relu, "
                                                                            "inplace=True)"]),
           ("act(t, True)", ["def act(a, fl):", "    return F.relu(a, inplace=fl)"]),
           ("act(t)", ["def act(a, inplace=True):", "    return F.relu(a, inplace=inplace)"]),
           ("nn.ReLU(inplace=fl)(t)", ["import torch.nn as nn", "fl = True"]),
           ("relu_m(t)", ["import torch.nn as nn", "kw = {'inplace': True}", "relu_m = nn.ReLU(**kw)"])]


def through_names(text: str, seed: int) -> str | None:
    """``text`` with its ``F.relu(t, inplace=True)`` given the flag through a name (:data:`THROUGH`, drawn by
    ``seed``); None for a text without one."""
    if "F.relu(t, inplace=True)" not in text:
        return None
    call, needs = random.Random(seed).choice(THROUGH)
    lines = text.replace("F.relu(t, inplace=True)", call).split("\n")
    return "\n".join(lines[:2] + needs + lines[2:])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=53)
    ap.add_argument("--show", type=int, default=15)
    ap.add_argument("--recorded", action="store_true", help="drop the no_grad blocks: every write recorded")
    ap.add_argument("--layouts", action="store_true", help="bases of two axes (sort, topk, gather, cat, ...) and "
                    "writes through a list holding the tensor (session 55)")
    ap.add_argument("--through-names", action="store_true",
                    help="only programs writing F.relu(t, inplace=True), the flag given through a name (session 55)")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    import torch
    torch.set_num_threads(1)
    counts, refused, bad = Counter(), Counter(), []
    k = done = 0
    while done < args.n:
        text, inputs = draw(args.seed * 1_000_003 + k, args.layouts)
        k += 1
        if args.through_names:
            text = through_names(text, args.seed * 1_000_003 + k)
            if text is None:
                continue
        done += 1
        if args.recorded:
            text = recorded(text)
        status, detail = checked(text, inputs)
        counts[status] += 1
        if status == "JAC-REFUSES":
            refused[reason(detail)] += 1
        if status in ("WRONG", "CRASH", "JAC-ANSWERS-WHERE-TORCH-RAISES"):
            bad.append((status, detail, text, inputs))
    for status, detail, text, inputs in bad:
        print(f"{status} {detail[:200]}\n  " + text.replace("\n", "\n  ") + f"\n  inputs: {inputs['x'].tolist()}")
    print(f"\ntop JAC-REFUSES reasons ({sum(refused.values())}):")
    for why, n in refused.most_common(args.show):
        print(f"  {n:5d}  {why[:110]}")
    print(f"\n{args.n} programs (seed {args.seed}): " + ", ".join(f"{s} {counts[s]}" for s in (
        "AGREE", "BOTH-RAISE", "JAC-REFUSES", "JAC-ANSWERS-WHERE-TORCH-RAISES", "WRONG", "CRASH")))
    return 1 if counts["WRONG"] or counts["CRASH"] else 0


if __name__ == "__main__":
    sys.exit(main())
