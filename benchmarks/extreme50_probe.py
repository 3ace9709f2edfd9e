"""The extreme-magnitude probe (session 50): are jac's value, gradient and Hessian right at ±1e±300, ±1e±150,
subnormals and near the overflow of exp / cosh, or does jac warn?

Each case is an expression of one scalar ``y`` (or a 2-vector ``x``) built from a unary op ``f`` of the vocabulary
(``OPS``: its torch spelling and its SymPy formula): ``f(y)``, ``f(y) * y``, ``f(y) / y``, ``f(y) * g(y)``,
``f(g(y))`` (``g`` drawn from ``PARTNERS`` by the seed) and ``sum(f(A @ x))``, at points drawn from ``POINTS``
(every extreme point, plus a few random ones of the seed). The truth is SymPy's derivatives evaluated by mpmath at
420 digits (1 + 5e-324 is not 1 there); PyTorch's answer is ``torch.func.grad`` / ``torch.func.hessian`` in
float64. jac is asked through the API (``api.evaluate``, ``api.jacobian``, ``api.hessian``) and through the command line (``jac eval --json``,
``jac hessian --json``, in this process), which must give the API's numbers to the bit.

Each quantity (value, gradient, Hessian) of each case whose truth is a finite float64 is classed:

- ``AGREE``: relative error at most ``RTOL`` (1e-12), or, where the truth is below float64's smallest normal number
  (2.2e-308), an absolute error at most ``RTOL`` times that number (a subnormal holds fewer digits). ``jac check``'s
  absolute tolerance (1e-8, ``check.DEFAULT_TOLERANCES``) is not used: it would call any Hessian below 1e-8 right,
  the 1e-154 of ``sqrt(y) * y`` at 1e308 (truth 7.5e-155) among them.
- ``WARNED``: off, and the command's ``"warnings"`` name that quantity (``"in"``: ``value``, ``∂…``, ``∂²…``).
- ``LIB-WRONG``: off, no warning, and PyTorch is off too.
- ``JAC-WRONG``: off, no warning, PyTorch right: the defect this probe looks for.
- ``REFUSED``: jac refused the text or the point (a JacError, exit 2).
- ``PATH-DIFF``: the API and the command line differ (they must not).

Quantities whose truth is not a finite float64 (past 1.8e308, complex) are not counted; outside the value's domain
nothing is (a value past 1.8e308 leaves its derivatives counted: session 49's sqrt(y) * y at 1e308).

    PYTHONPATH=. python benchmarks/extreme50_probe.py [--seed N] [--ops exp,log] [-v]
    PYTHONPATH=/work/main python benchmarks/extreme50_probe.py   # another tree (main), to compare

Prints every JAC-WRONG (all non-AGREE with -v), then the counts per class and per quantity.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import signal
import sys
from collections import Counter

import numpy as np

RTOL = 1e-12
TINY = float(np.finfo(np.float64).tiny)
BIG = float(np.finfo(np.float64).max)

# name: (jac / torch spelling of f(u) with "{}" for u, SymPy formula of u)
OPS = {
    "exp": ("torch.exp({})", lambda s, u: s.exp(u)),
    "expm1": ("torch.expm1({})", lambda s, u: s.exp(u) - 1),
    "exp2": ("torch.exp2({})", lambda s, u: 2 ** u),
    "log": ("torch.log({})", lambda s, u: s.log(u)),
    "log1p": ("torch.log1p({})", lambda s, u: s.log(1 + u)),
    "log2": ("torch.log2({})", lambda s, u: s.log(u, 2)),
    "log10": ("torch.log10({})", lambda s, u: s.log(u, 10)),
    "sqrt": ("torch.sqrt({})", lambda s, u: s.sqrt(u)),
    "rsqrt": ("torch.rsqrt({})", lambda s, u: 1 / s.sqrt(u)),
    "reciprocal": ("torch.reciprocal({})", lambda s, u: 1 / u),
    "square": ("torch.square({})", lambda s, u: u ** 2),
    "sin": ("torch.sin({})", lambda s, u: s.sin(u)),
    "cos": ("torch.cos({})", lambda s, u: s.cos(u)),
    "tan": ("torch.tan({})", lambda s, u: s.tan(u)),
    "sinh": ("torch.sinh({})", lambda s, u: s.sinh(u)),
    "cosh": ("torch.cosh({})", lambda s, u: s.cosh(u)),
    "tanh": ("torch.tanh({})", lambda s, u: s.tanh(u)),
    "asin": ("torch.asin({})", lambda s, u: s.asin(u)),
    "acos": ("torch.acos({})", lambda s, u: s.acos(u)),
    "atan": ("torch.atan({})", lambda s, u: s.atan(u)),
    "asinh": ("torch.asinh({})", lambda s, u: s.asinh(u)),
    "acosh": ("torch.acosh({})", lambda s, u: s.acosh(u)),
    "atanh": ("torch.atanh({})", lambda s, u: s.atanh(u)),
    "sigmoid": ("torch.sigmoid({})", lambda s, u: 1 / (1 + s.exp(-u))),
    "logsigmoid": ("F.logsigmoid({})", lambda s, u: -s.log(1 + s.exp(-u))),
    "softplus": ("F.softplus({})", lambda s, u: s.log(1 + s.exp(u))),
    "silu": ("F.silu({})", lambda s, u: u / (1 + s.exp(-u))),
    "mish": ("F.mish({})", lambda s, u: u * s.tanh(s.log(1 + s.exp(u)))),
    "softsign": ("F.softsign({})", lambda s, u: u / (1 + s.Abs(u))),
    "gelu": ("F.gelu({})", lambda s, u: u / 2 * (1 + s.erf(u / s.sqrt(2)))),
    "erf": ("torch.erf({})", lambda s, u: s.erf(u)),
    "erfc": ("torch.erfc({})", lambda s, u: s.erfc(u)),
    "erfinv": ("torch.erfinv({})", lambda s, u: s.erfinv(u)),
    "erfcx": ("torch.special.erfcx({})", lambda s, u: s.exp(u ** 2) * s.erfc(u)),
    "log_ndtr": ("torch.special.log_ndtr({})", lambda s, u: s.log(s.erfc(-u / s.sqrt(2)) / 2)),
    "ndtri": ("torch.special.ndtri({})", lambda s, u: s.sqrt(2) * s.erfinv(2 * u - 1)),
    "logit": ("torch.logit({})", lambda s, u: s.log(u / (1 - u))),
    "lgamma": ("torch.lgamma({})", lambda s, u: s.loggamma(u)),
    "digamma": ("torch.digamma({})", lambda s, u: s.polygamma(0, u)),
    "i0": ("torch.special.i0({})", lambda s, u: s.besseli(0, u)),
    "i0e": ("torch.special.i0e({})", lambda s, u: s.exp(-s.Abs(u)) * s.besseli(0, u)),
    "i1": ("torch.special.i1({})", lambda s, u: s.besseli(1, u)),
    "i1e": ("torch.special.i1e({})", lambda s, u: s.exp(-s.Abs(u)) * s.besseli(1, u)),
    "xlogx": ("torch.special.xlogy({0}, {0})", lambda s, u: u * s.log(u)),
}
PARTNERS = ["sqrt", "exp", "log", "reciprocal", "square", "tanh", "rsqrt"]

POINTS = [1e300, -1e300, 1e150, -1e150, 1e-150, -1e-150, 1e-300, -1e-300, 5e-324, 1e-310, -1e-310, 1e308,
          -1e308, 709.7, 709.78, -745.0, -708.0, 710.4, -710.4, 1e-15, 1e-200, 1e200, 1e19, 1e-19,
          0.9999999999999999, -0.9999999999999999, 1e-16, 1 - 1e-12]
A = [[1.0, 0.5], [0.25, 2.0]]


def cases(seed: int, ops: list) -> list:
    """``(expression, kind, sympy builder, points)``: kind "y" (one scalar) or "x" (a 2-vector)."""
    rng = random.Random(seed)
    out = []
    for name in ops:
        spell, form = OPS[name]
        g = rng.choice([p for p in PARTNERS if p != name])
        gspell, gform = OPS[g]
        out.append((spell.format("y"), "y", lambda s, y, f=form: f(s, y)))
        out.append((f"{spell.format('y')} * y", "y", lambda s, y, f=form: f(s, y) * y))
        out.append((f"{spell.format('y')} / y", "y", lambda s, y, f=form: f(s, y) / y))
        out.append((f"{spell.format('y')} * {gspell.format('y')}", "y",
                    lambda s, y, f=form, h=gform: f(s, y) * h(s, y)))
        out.append((spell.format(gspell.format("y")), "y", lambda s, y, f=form, h=gform: f(s, h(s, y))))
        out.append((f"torch.sum({spell.format('A @ x')})", "x",
                    lambda s, x, f=form: sum(f(s, sum(A[i][j] * x[j] for j in range(2))) for i in range(2))))
    pts = list(POINTS) + [rng.choice([-1, 1]) * 10.0 ** rng.uniform(-320, 308) for _ in range(4)]
    return [(e, k, b, pts) for e, k, b in out]


# --- truth ----------------------------------------------------------------------------------------------------

def truth(build, kind: str, point: float):
    """(value, gradient, Hessian) as float64 arrays or None (not a finite real float64): SymPy's derivatives
    evaluated by mpmath at ``DIGITS`` digits (enough that 1 + 5e-324 is not 1), each at most ``TRUTH_SECONDS``."""
    import mpmath
    import sympy as s
    syms = [s.Symbol("y")] if kind == "y" else [s.Symbol("x0"), s.Symbol("x1")]
    expr = build(s, syms[0]) if kind == "y" else build(s, syms)
    at = [mpmath.mpf(point)] if kind == "y" else [mpmath.mpf(point), mpmath.mpf(point / 2)]

    def num(e):
        signal.signal(signal.SIGALRM, _too_long)
        signal.alarm(TRUTH_SECONDS)
        try:
            f = s.lambdify(syms, e.doit(), "mpmath")  # an unevaluated Derivative (of Abs) raises: no truth
            with mpmath.workdps(DIGITS):
                v = f(*at)
                if isinstance(v, mpmath.mpc):
                    if abs(v.imag) > abs(v) * mpmath.mpf(10) ** -40:
                        return None
                    v = v.real
                v = float(v) if abs(v) <= BIG else np.inf
        except Exception:  # noqa: BLE001 - no truth (not counted): a domain error, past TRUTH_SECONDS, sin(1e308)'s
            # reduction by 2π at 420 digits past the recursion limit, sinh(1e308)'s MemoryError in mpmath
            return None
        finally:
            signal.alarm(0)
        return v if not np.isnan(v) else None

    def arr(items):
        vals = [num(e) for e in items]
        return None if any(v is None or not np.isfinite(v) for v in vals) else np.asarray(vals)

    if num(expr) is None:  # outside the domain (log(-1)): its derivatives are not asked; a value past float64's
        return None, None, None  # range (sqrt(y) * y at 1e308) is not counted, its derivatives are
    value = arr([expr])
    grad = arr([s.diff(expr, v) for v in syms])
    hess = arr([s.diff(expr, a, b) for a in syms for b in syms])
    shape = () if kind == "y" else (2,)
    return (None if value is None else value.reshape(()), None if grad is None else grad.reshape(shape),
            None if hess is None else hess.reshape(shape + shape))


DIGITS = 420
TRUTH_SECONDS = 20


def _too_long(*_):
    raise TimeoutError


# --- PyTorch ----------------------------------------------------------------------------------------------------

def torch_answers(expr: str, kind: str, point: float):
    import torch
    import torch.nn.functional as F
    Am = torch.tensor(A, dtype=torch.float64)

    def f(v):
        env = {"torch": torch, "F": F, "A": Am, kind: v}
        return eval(expr, env)  # noqa: S307 - the probe's own expressions
    v0 = torch.tensor(point if kind == "y" else [point, point / 2], dtype=torch.float64)
    out = []
    for fn in (f, torch.func.grad(f), torch.func.hessian(f)):
        try:
            out.append(fn(v0).detach().numpy())
        except Exception:  # noqa: BLE001 - PyTorch refusing counts as PyTorch off
            out.append(None)
    return out


# --- jac ----------------------------------------------------------------------------------------------------------

def jac_api(expr: str, kind: str, point: float):
    from jacobi_cli.tools import api
    from jacobi_cli.errors import JacError
    b = {kind: repr(point) if kind == "y" else repr([point, point / 2])}
    if kind == "x":
        b["A"] = repr(A)
    try:
        value = np.asarray(api.evaluate(expr, b))
        grad = np.asarray(api.jacobian(expr, b, wrt=[kind])[kind])
        hess = np.asarray(api.hessian(expr, b, wrt=[kind])[(kind, kind)])
    except JacError as err:
        return str(err)
    return value, grad, hess


def jac_cli(expr: str, kind: str, point: float):
    """(value, gradient, Hessian, warnings' "in") by ``jac eval --json`` and ``jac hessian --json``, or the error."""
    from jacobi_cli.cli import entry
    args = [f"{kind}={point!r}" if kind == "y" else f"{kind}={[point, point / 2]!r}"]
    if kind == "x":
        args.append(f"A={A!r}")
    got = []
    warned = []
    for command, extra in (("eval", ["--wrt", kind]), ("hessian", ["--wrt", kind])):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = entry.main([command, expr, *args, *extra, "--json"])
        if code != 0:
            return err.getvalue().strip().splitlines()[0] if err.getvalue() else f"exit {code}"
        obj = json.loads(out.getvalue())
        got.append(obj)
        warned += [w.get("in", "") for w in obj.get("warnings", [])]
    ev, he = got
    value = _array(ev["output"]["value"])
    jac = ev["jacobians"] if "jacobians" in ev else ev["jacobian"]
    grad = _array(next(iter(jac.values()))["value"] if isinstance(jac, dict) else jac[0]["value"])
    hess = _array(next(iter(he["hessian"].values()))["value"])
    return value, grad, hess, warned


def _array(v):
    def one(e):
        if isinstance(e, list):
            return [one(i) for i in e]
        return {"NaN": np.nan, "Infinity": np.inf, "-Infinity": -np.inf}.get(e, e) if isinstance(e, str) else e
    return np.asarray(one(v), dtype=np.float64)


def close(got, want) -> bool:
    if got is None:
        return False
    got = np.asarray(got, dtype=np.float64)
    if got.shape != want.shape or not np.isfinite(got).all():
        return False
    err = np.abs(got - want)
    return bool(np.all((err <= RTOL * np.abs(want)) | ((np.abs(want) < TINY) & (err <= RTOL * TINY))))


QUANTITIES = ("value", "gradient", "hessian")


def warned_for(quantity: str, where: list) -> bool:
    if quantity == "value":
        return "value" in where
    if quantity == "gradient":
        return any(w.startswith("∂") and not w.startswith("∂²") for w in where)
    return any(w.startswith("∂²") for w in where)


def classify(expr, kind, build, point) -> list:
    """[(quantity, class, detail)] for one case at one point."""
    want = truth(build, kind, point)
    if all(w is None for w in want):
        return []
    api_got = jac_api(expr, kind, point)
    cli_got = jac_cli(expr, kind, point)
    if isinstance(api_got, str) or isinstance(cli_got, str):
        msg = api_got if isinstance(api_got, str) else cli_got
        return [(q, "REFUSED", msg) for q, w in zip(QUANTITIES, want) if w is not None]
    lib = torch_answers(expr, kind, point)
    out = []
    for q, w, a, c, t in zip(QUANTITIES, want, api_got, cli_got[:3], lib):
        if w is None:
            continue
        a = np.asarray(a, dtype=np.float64).reshape(w.shape)
        c = np.asarray(c, dtype=np.float64).reshape(w.shape)
        if not np.array_equal(a, c, equal_nan=True):
            out.append((q, "PATH-DIFF", f"api {a.tolist()} cli {c.tolist()}"))
            continue
        if close(a, w):
            out.append((q, "AGREE", ""))
            continue
        detail = f"jac {a.tolist()} truth {w.tolist()} torch {None if t is None else np.asarray(t).tolist()}"
        if warned_for(q, cli_got[3]):
            out.append((q, "WARNED", detail))
        elif not close(None if t is None else np.asarray(t).reshape(w.shape), w):
            out.append((q, "LIB-WRONG", detail))
        else:
            out.append((q, "JAC-WRONG", detail))
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ops", default=",".join(OPS), help="comma-separated names of OPS")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every case that does not agree")
    args = parser.parse_args(argv)
    counts, per_q, wrong_kinds = Counter(), Counter(), Counter()
    for expr, kind, build, pts in cases(args.seed, args.ops.split(",")):
        for p in pts:
            for q, cls, detail in classify(expr, kind, build, p):
                counts[cls] += 1
                per_q[(q, cls)] += 1
                if cls == "JAC-WRONG":
                    wrong_kinds[expr.split("(")[0] if "(" in expr else expr] += 1
                if cls == "JAC-WRONG" or (args.verbose and cls != "AGREE"):
                    print(f"{cls:9} {q:8} {kind}={p!r:24} {expr}: {detail}", flush=True)
    print(f"seed {args.seed}: " + ", ".join(f"{k} {counts[k]}" for k in
                                            ("AGREE", "WARNED", "JAC-WRONG", "LIB-WRONG", "REFUSED", "PATH-DIFF")))
    for q in QUANTITIES:
        print(f"  {q}: " + ", ".join(f"{c} {n}" for (qq, c), n in sorted(per_q.items()) if qq == q))
    return 0


if __name__ == "__main__":
    sys.exit(main())
