"""A differential fuzz of chains of in-place methods through ``.data`` (session 54, h54-left): seeded random programs
that make a tensor that is no leaf, maybe an op that saves it for backward, write into it (or an index of it) through
``.data`` by a chain of two or three in-place methods (``t.data[1:3].mul_(2.).add_(1.)``), and read it; run by
PyTorch (float64, ``torch.autograd.grad``) and by jac's API, classified AGREE, BOTH-RAISE, JAC-REFUSES,
JAC-ANSWERS-WHERE-TORCH-RAISES, WRONG, CRASH. An output PyTorch finds independent of x ("does not require grad") is
a zero gradient (jac's convention). JAC-REFUSES is expected where an op saved ``t`` (PyTorch's backward would read the
new values silently: lang/nograd.py); any other refusal is printed.

    PYTHONPATH=. /work/venv/bin/python benchmarks/datachain54_fuzz.py [--n 300] [--seed 5461]

Exit 1 on WRONG, CRASH or JAC-ANSWERS-WHERE-TORCH-RAISES (each printed with its text).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import warnings
from collections import Counter

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

BASES = ["x * 1.5 + 0.1", "x.clone()", "torch.exp(x)", "torch.sin(x) * x", "torch.zeros(4) + 0.5",
         "torch.sigmoid(x)"]
SAVERS = ["", "z = t * t\n", "z = torch.sin(t)\n", "z = t + 1\n", "z = t.exp()\n", "z = t[0:2] * 3\n"]
METHODS = ["add_(1.)", "mul_(2.)", "sub_(0.5)", "clamp_(-1., 1.)", "zero_()", "fill_(0.5)", "neg_()", "div_(4.)",
           "exp_()"]
ROOTS = ["t.data", "t.data[1:3]", "t.data[0]"]
OUTS = ["(t * x).sum()", "(t * t).sum()", "t.sum() + x.sum()", "(z * x).sum() + t.sum()"]
X = np.array([0.3, -0.7, 1.1, 0.4])


def program(rng: random.Random) -> str:
    saver, out = rng.choice(SAVERS), rng.choice(OUTS)
    if "z" in out and not saver:
        out = "(t * x).sum()"
    chain = ".".join(rng.choice(METHODS) for _ in range(rng.randint(2, 3)))
    return f"import torch\nt = {rng.choice(BASES)}\n{saver}{rng.choice(ROOTS)}.{chain}\n{out}"


def by_torch(torch, text: str):
    """(value, gradient) by PyTorch, or None where it raises."""
    xt = torch.tensor(X, requires_grad=True)
    env = {"torch": torch, "x": xt}
    body, last = text.rsplit("\n", 1)
    try:
        exec(body, env)  # noqa: S102 - the fuzzer's own text
        y = eval(last, env)  # noqa: S307
        (g,) = torch.autograd.grad(y, xt, allow_unused=True)
    except RuntimeError as err:
        return (None, np.zeros(4)) if "does not require grad" in str(err) else None
    return y.detach().numpy(), np.zeros(4) if g is None else g.numpy()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--seed", type=int, default=5461)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    import torch
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api
    torch.set_default_dtype(torch.float64)
    rng, counts, bad = random.Random(args.seed), Counter(), 0
    for _ in range(args.n):
        text = program(rng)
        want = by_torch(torch, text)
        try:
            found = api.evaluate(text, {"x": X}), api.jacobian(text, {"x": X})["x"]
        except JacError as err:
            found = err
        except Exception as err:  # noqa: BLE001 - a crash is what the fuzz looks for
            counts["CRASH"] += 1
            bad += 1
            print("CRASH", repr(text), repr(err))
            continue
        if want is None:
            kind = "BOTH-RAISE" if isinstance(found, JacError) else "JAC-ANSWERS-WHERE-TORCH-RAISES"
        elif isinstance(found, JacError):
            kind = "JAC-REFUSES"
            if "bumps no version" not in str(found):
                print(kind, repr(text), str(found)[:160])
        else:
            same = np.allclose(found[1], want[1], rtol=1e-12, atol=1e-13) and \
                (want[0] is None or np.allclose(found[0], want[0], rtol=1e-12, atol=1e-13))
            kind = "AGREE" if same else "WRONG"
        counts[kind] += 1
        if kind in ("WRONG", "JAC-ANSWERS-WHERE-TORCH-RAISES"):
            bad += 1
            print(kind, repr(text))
    print(f"{args.n} programs (seed {args.seed}): " + ", ".join(f"{k} {counts[k]}" for k in
          ("AGREE", "BOTH-RAISE", "JAC-REFUSES", "JAC-ANSWERS-WHERE-TORCH-RAISES", "WRONG", "CRASH")))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
