"""Session 57: writes by an index array computed from the inputs, against PyTorch 2.13 (float64).

Texts drawn from a grid (a write form x an index x a value): each run by PyTorch and by jac at points of small
integers (ties) and of normal draws, its value compared bit for bit (the sign of zero too) and its Jacobians in
x and v to 1e-12. Classes: AGREE, JAC-REFUSES (exit 2), BOTH-RAISE, TORCH-RAISES (jac answers: a difference to look
at), WRONG, CRASH (anything but a JacError).

    PYTHONPATH=. python benchmarks/writes57_probe.py --n 300 --seed 5720 [-v]
"""

from __future__ import annotations

import argparse
import collections
import itertools

import numpy as np
import torch

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

torch.set_default_dtype(torch.float64)

INDICES = ["x.argsort()[:2]", "x.argsort(descending=True)[1:3]", "torch.topk(x, 2).indices", "torch.sort(x).indices.flip(0)[::2]",
           "x.argsort(stable=True).flip(0)[:2]", "x.argsort()[[0, 0]]", "x.argsort()[[1, 0]]", "(x.argsort() + 1)[:2]",
           "x[:4].argsort()[:2]", "torch.cat([x.argsort()[:1], x.argsort()[:1]])"]
VALUES = ["0.0", "-0.0", "v", "v * 2", "float('inf')", "torch.tensor([-0.0, float('nan')])"]
FORMS = ["y = x * 1; y[IDX] = VAL; y", "y = x * 1; y[IDX] += VAL; y", "y = torch.sin(x); z = y[1:]; y[IDX] = VAL; z",
         "x.index_copy(0, IDX, (VAL) * torch.ones(2))", "x.scatter(0, IDX, (VAL) * torch.ones(2))",
         "x.index_fill(0, IDX, VAL)", "y = x * 2; y.index_put_((IDX,), (VAL) * torch.ones(2)); y",
         "y = x.exp(); y[IDX] = VAL; y"]


def _torch(text, x, v):
    scope = {"torch": torch, "x": x, "v": v}
    head, _, last = text.rpartition("; ")
    if head:
        exec(head, scope)
    return eval(last, scope) + 0 * v.sum()


def classify(text, point):
    xt, vt = (torch.tensor(point[k], requires_grad=True) for k in ("x", "v"))
    try:
        theirs = _torch(text, xt, vt)
        grads = [torch.autograd.grad(theirs[i], (xt, vt), retain_graph=True, allow_unused=True)
                 for i in range(theirs.shape[0])]
    except Exception:
        theirs = None
    head, _, last = text.rpartition("; ")
    ours_text = (head + "; " if head else "") + f"({last}) + 0 * v.sum()"
    try:
        value = np.asarray(api.evaluate(ours_text, point))
        J = api.jacobian(ours_text, point)
    except JacError:
        return "BOTH-RAISE" if theirs is None else "JAC-REFUSES"
    except Exception as err:  # noqa: BLE001
        return f"CRASH {type(err).__name__}: {err}"
    if theirs is None:
        return "TORCH-RAISES"
    t = theirs.detach().numpy()
    if value.shape != t.shape or not np.array_equal(value, t, equal_nan=True) \
            or not np.array_equal(np.signbit(value), np.signbit(t)):
        return "WRONG value"
    for k, col in (("x", 0), ("v", 1)):
        T = np.stack([np.zeros(np.shape(point[k])) if g[col] is None else g[col].numpy() for g in grads])
        if not np.allclose(J[k], T, rtol=1e-12, atol=1e-14, equal_nan=True):
            return f"WRONG jacobian {k}"
    return "AGREE"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--seed", type=int, default=5720)
    parser.add_argument("-v", action="store_true")
    parser.add_argument("--refusals", action="store_true", help="print the texts jac refuses and PyTorch answers")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    grid = [f.replace("IDX", i).replace("VAL", v) for f, i, v in itertools.product(FORMS, INDICES, VALUES)]
    counts = collections.Counter()
    for _ in range(args.n):
        text = grid[rng.integers(len(grid))]
        n = int(rng.integers(4, 8))
        x = rng.integers(-2, 3, n).astype(float) if rng.random() < 0.4 else rng.standard_normal(n)
        point = {"x": x, "v": rng.standard_normal(1)[0] * np.ones(2) if rng.random() < 0.2 else rng.standard_normal(2)}
        verdict = classify(text, point)
        counts[verdict.split(":")[0] if verdict.startswith("CRASH") else verdict] += 1
        if args.v or verdict.startswith(("WRONG", "CRASH", "TORCH")) or args.refusals and verdict == "JAC-REFUSES":
            print(verdict, "|", text, "|", x.tolist(), point["v"].tolist())
    print(", ".join(f"{k} {c}" for k, c in sorted(counts.items())))


if __name__ == "__main__":
    main()
