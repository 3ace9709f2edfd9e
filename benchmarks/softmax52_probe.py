"""softmax's Hessian at large logits (session 52): jac, PyTorch and central differences against mpmath.

At x = [c · 1e150, N(0, 1) × 3], y = 1e-150 (c uniform in [0.5, 10), one draw per point, seeded), the logits
x · y are O(1) while x itself is huge, so a second derivative by y carries x² ≈ 1e300 times whatever rounding the
first-order rule leaves. Texts: ``sum(softmax((x * y).reshape(2, 2), 1))`` (the rows sum to 1: every derivative is
0), the same over axis 0, the vector's ``sum(softmax(x * y, 0))``, and two whose derivatives are not 0:
``sum(softmax((x * y).reshape(2, 2), 1) * w.reshape(2, 2))`` and ``sum(softmax(x * y, 0) ** 2)``.

For each text and point, the Hessian by (x, y) (5 × 5): jac's (``api.hessian``, three calls: interpreter, then the
compiled passes, which must give the same bits), PyTorch's (``torch.autograd.functional.hessian``) and the truth
(SymPy's second derivatives evaluated by mpmath at 700 digits); central differences of jac's own gradient in y
(a step of 1e-6 · y) for the ∂²/∂y² entry. Each is classed by its largest error relative to the Hessian's scale,
max |truth| (or, where the truth is 0, x[0]² · 1e-16: one rounding of the largest term):
EXACT (equal to the truth), ROUNDING (error ≤ 1e-10 of the scale; 1e-6 for central differences, whose step
divides the gradient's rounding), OFF (more). PATH-DIFF: jac's calls differ.

    PYTHONPATH=. python benchmarks/softmax52_probe.py [--points 8] [--seed 0] [-v]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

import numpy as np

TEXTS = {
    "rows": "torch.sum(torch.softmax((x * y).reshape(2, 2), 1))",
    "cols": "torch.sum(torch.softmax((x * y).reshape(2, 2), 0))",
    "vector": "torch.sum(torch.softmax(x * y, 0))",
    "weighted": "torch.sum(torch.softmax((x * y).reshape(2, 2), 1) * w.reshape(2, 2))",
    "square": "torch.sum(torch.softmax(x * y, 0) ** 2)",
}
W = np.array([1.0, 2.0, 3.0, 4.0])
DIGITS = 700  # the unsimplified second derivatives cancel terms of x² ≈ 1e300: 1e300 · 10^-700 rounds to 0


def points(n: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        c = rng.uniform(0.5, 10.0)
        out.append((np.concatenate([[c * 1e150], rng.standard_normal(3)]), np.array(1e-150)))
    return out


def sympy_f(name, s, xs, y):
    z = [xi * y for xi in xs]
    w = [s.Integer(int(v)) for v in W]

    def soft(group):
        e = [s.exp(v) for v in group]
        t = s.Add(*e)
        return [v / t for v in e]
    if name in ("rows", "weighted"):
        sm = soft(z[:2]) + soft(z[2:])
        return s.Add(*(a * b for a, b in zip(sm, w))) if name == "weighted" else s.Add(*sm)
    if name == "cols":
        a, b = soft([z[0], z[2]]), soft([z[1], z[3]])
        return a[0] + b[0] + a[1] + b[1]
    sm = soft(z)
    return s.Add(*sm) if name == "vector" else s.Add(*(v ** 2 for v in sm))


def truth(name, x, y) -> np.ndarray:
    import mpmath
    import sympy as s
    xs = s.symbols("x0:4")
    ys = s.Symbol("y")
    f = sympy_f(name, s, xs, ys)
    syms = list(xs) + [ys]
    at = {v: mpmath.mpf(float(p)) for v, p in zip(syms, list(x) + [float(y)])}
    out = np.zeros((5, 5))
    with mpmath.workdps(DIGITS):
        for i, a in enumerate(syms):
            for j, b in enumerate(syms[i:], i):
                v = s.lambdify(syms, s.diff(f, a, b), "mpmath")(*[at[v] for v in syms])
                out[i, j] = out[j, i] = float(v)
    return out


def jac_hessian(name, x, y) -> list:
    from jacobi_cli.tools import api
    b = {"x": x, "y": y, "w": W}
    out = []
    for _ in range(3):
        h = api.hessian(TEXTS[name], b, wrt=["x", "y"])
        full = np.zeros((5, 5))
        full[:4, :4] = h[("x", "x")]
        full[:4, 4] = np.ravel(h[("x", "y")])
        full[4, :4] = np.ravel(h[("y", "x")])
        full[4, 4] = h[("y", "y")]
        out.append(full)
    return out


def torch_hessian(name, x, y) -> np.ndarray:
    import torch
    wt = torch.tensor(W)

    def f(v):
        env = {"torch": torch, "x": v[:4], "y": v[4], "w": wt}
        return eval(TEXTS[name], env)  # noqa: S307 - the probe's own texts
    return torch.autograd.functional.hessian(f, torch.tensor(np.concatenate([x, [float(y)]]))).numpy()


def central_yy(name, x, y) -> float:
    from jacobi_cli.tools import api
    h = 1e-6 * float(y)
    g = [api.jacobian(TEXTS[name], {"x": x, "y": np.array(float(y) + d), "w": W}, wrt=["y"])["y"] for d in (h, -h)]
    return float((g[0] - g[1]) / (2 * h))


def classify(got, want, scale, rtol=1e-10) -> str:
    if got is None or not np.all(np.isfinite(got)):
        return "OFF"
    err = float(np.max(np.abs(np.asarray(got) - want)))
    return "EXACT" if err == 0 else "ROUNDING" if err <= rtol * scale else "OFF"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--points", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("-v", action="store_true")
    a = ap.parse_args(argv)
    counts = {who: Counter() for who in ("jac", "torch", "central")}
    worst = Counter()
    for name in TEXTS:
        for x, y in points(a.points, a.seed):
            want = truth(name, x, y)
            scale = float(np.max(np.abs(want))) or x[0] ** 2 * 1e-16
            mine = jac_hessian(name, x, y)
            if any(not np.array_equal(m, mine[0], equal_nan=True) for m in mine[1:]):
                counts["jac"]["PATH-DIFF"] += 1
            lib = torch_hessian(name, x, y)
            cd = np.array([[central_yy(name, x, y)]])
            row = {"jac": classify(mine[-1], want, scale), "torch": classify(lib, want, scale),
                   "central": classify(cd, want[4:, 4:], scale, 1e-6)}
            for who, cat in row.items():
                counts[who][f"{name}/{cat}"] += 1
                counts[who][cat] += 1
            for who, got in (("jac", mine[-1]), ("torch", lib)):
                worst[who, name] = max(worst[who, name], float(np.max(np.abs(got - want))) / scale)
            if a.v:
                print(f"{name:8s} c={x[0] / 1e150:5.2f}  " + ", ".join(f"{k} {v}" for k, v in row.items())
                      + f"  |jac - truth| {np.max(np.abs(mine[-1] - want)):.3g}  |torch - truth| "
                        f"{np.max(np.abs(lib - want)):.3g}  scale {scale:.3g}")
    for who, c in counts.items():
        print(f"{who:8s} " + ", ".join(f"{k} {v}" for k, v in sorted(c.items()) if "/" not in k))
        print("         " + ", ".join(f"{k} {v}" for k, v in sorted(c.items()) if "/" in k))
    for name in TEXTS:
        print(f"largest error / scale, {name}: jac {worst['jac', name]:.3g}, torch {worst['torch', name]:.3g}")
    return 1 if counts["jac"]["OFF"] or counts["jac"]["PATH-DIFF"] else 0


if __name__ == "__main__":
    sys.exit(main())
