"""The tails probe (session 51): extreme50_probe's cases and classes at the points where a derivative rule of the
form 1 - f(x)² or f(1 - f) rounds its slope to 0 (sigmoid past 37, tanh past 19), near lgamma's and digamma's
zeros (1, 2, 1.4616...) and where div's own rules square a divisor (1.1e126), with the third derivative as well.

Each case of ``extreme50_probe.cases`` (f(y), f(y)·y, f(y)/y, f(y)·g(y), f(g(y)), sum(f(A @ x))) is classed at
``POINTS`` (and the seed's four random points) into AGREE, WARNED, JAC-WRONG, LIB-WRONG, REFUSED, PATH-DIFF as
there; a fourth quantity, ``third`` (cases of one scalar y only), is the third derivative: SymPy's by mpmath at
420 digits, jac's by ``api.derivative(order=3)`` and ``jac derivative --order 3 --json`` (PATH-DIFF if they differ;
its ``"warnings"`` say WARNED), PyTorch's ``torch.func.grad`` three times.

``F.softplus`` is asked as ``F.softplus(y, 1.0, 1000.0)``: PyTorch's default threshold 20 makes it y past 20,
which is not log(1 + e^y) (tests/test_kinks39.py), and every tail point would be counted wrong for it.

    PYTHONPATH=. python benchmarks/extreme51_probe.py [--seed N] [--ops sigmoid,tanh] [--points tails|gamma|div|all] [-v]
    PYTHONPATH=/work/main python benchmarks/extreme51_probe.py   # main, to count before
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import signal
import sys
from collections import Counter

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import extreme50_probe as e50  # noqa: E402 - the probe this one extends

TAILS = [19.5, -19.5, 20.0, 25.0, -25.0, 30.0, 37.0, -37.0, 40.0, -40.0, 100.0, -100.0, 300.0, -300.0, 354.0,
         -354.0, 700.0, -700.0]
GAMMA = [1.0, 2.0, 1 + 1e-8, 1 - 1e-8, 2 + 1e-8, 2 - 1e-8, 1.4616321449683622, 1.46163214, 1 - 2 ** -52,
         2 - 2 ** -52, 2 + 2 ** -51, 0.5, 3.0]
DIV = [1.1e126, -1.1e126, 1e154, 1e155, 1e-154, 1e-160]
POINT_SETS = {"tails": TAILS, "gamma": GAMMA, "div": DIV, "all": TAILS + GAMMA + DIV}
TAIL_OPS = "sigmoid,logsigmoid,softplus,silu,mish,tanh,gelu,erf,erfc,logit"
OPS = dict(e50.OPS, softplus=("F.softplus({}, 1.0, 1000.0)", e50.OPS["softplus"][1]))


def third_truth(build, point: float):
    import mpmath
    import sympy as s
    y = s.Symbol("y")
    expr = build(s, y)
    signal.signal(signal.SIGALRM, e50._too_long)
    signal.alarm(e50.TRUTH_SECONDS)
    try:
        with mpmath.workdps(e50.DIGITS):
            v = s.lambdify([y], s.diff(expr, y, 3).doit(), "mpmath")(mpmath.mpf(point))
            if isinstance(v, mpmath.mpc):
                if abs(v.imag) > abs(v) * mpmath.mpf(10) ** -40:
                    return None
                v = v.real
            if abs(v) > e50.BIG:
                return None
            v = float(v)
    except Exception:  # noqa: BLE001 - no truth, not counted (as extreme50_probe's)
        return None
    finally:
        signal.alarm(0)
    return None if np.isnan(v) else np.asarray(v)


def third_jac(expr: str, point: float):
    """(API's, command line's, warned) or an error's text."""
    from jacobi_cli.cli import entry
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api
    try:
        a = np.asarray(api.derivative(expr, {"y": repr(point)}, order=3), dtype=np.float64)
    except JacError as err:
        return str(err)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = entry.main(["derivative", expr, f"y={point!r}", "--order", "3", "--json"])
    if code != 0:
        return err.getvalue().strip().splitlines()[0] if err.getvalue() else f"exit {code}"
    obj = json.loads(out.getvalue())
    c = e50._array(next(iter(obj["derivative"].values()))["value"])
    warned = any(w.get("in", "").startswith("∂³") for w in obj.get("warnings", []))
    return a, c, warned


def third_torch(expr: str, point: float):
    import torch
    import torch.nn.functional as F

    def f(v):
        return eval(expr, {"torch": torch, "F": F, "y": v})  # noqa: S307 - the probe's own expressions
    try:
        return torch.func.grad(torch.func.grad(torch.func.grad(f)))(torch.tensor(point, dtype=torch.float64)).numpy()
    except Exception:  # noqa: BLE001 - PyTorch refusing counts as PyTorch off
        return None


def classify(expr, kind, build, point) -> list:
    out = e50.classify(expr, kind, build, point)
    if kind != "y" or not out:
        return out
    want = third_truth(build, point)
    if want is None:
        return out
    got = third_jac(expr, point)
    if isinstance(got, str):
        return out + [("third", "REFUSED", got)]
    a, c, warned = got
    if not np.array_equal(a, c, equal_nan=True):
        return out + [("third", "PATH-DIFF", f"api {a.tolist()} cli {c.tolist()}")]
    if e50.close(a, want):
        return out + [("third", "AGREE", "")]
    t = third_torch(expr, point)
    detail = f"jac {a.tolist()} truth {want.tolist()} torch {None if t is None else t.tolist()}"
    if warned:
        return out + [("third", "WARNED", detail)]
    return out + [("third", "LIB-WRONG" if not e50.close(t, want) else "JAC-WRONG", detail)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ops", default=TAIL_OPS, help="comma-separated names of extreme50_probe.OPS")
    parser.add_argument("--points", default="tails", choices=sorted(POINT_SETS))
    parser.add_argument("-v", "--verbose", action="store_true", help="print every case that does not agree")
    args = parser.parse_args(argv)
    e50.OPS = OPS  # softplus without PyTorch's threshold
    e50.POINTS = POINT_SETS[args.points]
    counts, per_q = Counter(), Counter()
    for expr, kind, build, pts in e50.cases(args.seed, args.ops.split(",")):
        for p in pts:
            for q, cls, detail in classify(expr, kind, build, p):
                counts[cls] += 1
                per_q[(q, cls)] += 1
                if cls == "JAC-WRONG" or (args.verbose and cls != "AGREE"):
                    print(f"{cls:9} {q:8} {kind}={p!r:24} {expr}: {detail}", flush=True)
    print(f"seed {args.seed} points {args.points}: " + ", ".join(
        f"{k} {counts[k]}" for k in ("AGREE", "WARNED", "JAC-WRONG", "LIB-WRONG", "REFUSED", "PATH-DIFF")))
    for q in e50.QUANTITIES + ("third",):
        print(f"  {q}: " + ", ".join(f"{c} {n}" for (qq, c), n in sorted(per_q.items()) if qq == q))
    return 0


if __name__ == "__main__":
    sys.exit(main())
