"""Session 38: every public callable of scipy.special, torch.special and jax.scipy.special that takes real floats,
by each float argument, and the second derivatives of the special functions people put in losses.

    (ulimit -v 6000000; PYTHONPATH=. /work/venv/bin/python benchmarks/special38_probe.py [--list])   (a few minutes)

Run it with PYTHONPATH of an older checkout for the "before" column.

1. For each public callable (special36_probe.public) and each count of arguments 1..4, the candidate points
   (CANDIDATES) where the library itself gives a finite real float; for each argument, jac evaluates
   ``MODULE.NAME(...)`` with that argument the input x and the others written as numbers, at the point and at a
   second one (the non-integer arguments times 1.07), and takes its derivative by x; the first candidate where jac
   answers is the argument's outcome (else the first candidate's refusal). Each (call, argument) is
   - AGREE: jac's value equals the library's (relative 1e-8) and its derivative equals a central difference of the
     library's own function in float64 (five points at h and at h/2; the tolerance is 1e-6 relative plus ten times
     the two differences' disagreement, which measures the library's own accuracy there);
   - REFUSED: a JacError (the message is kept: ``--list`` prints them);
   - WRONG: a value or a derivative outside that tolerance (a silent wrong answer, unless the difference itself is
     unreliable: those are listed for a look by hand, and checked with mpmath where it has the function);
   - CRASH: an exception that is no JacError;
   - UNCHECKED: jac answers but the library's differences are not finite (an integer argument it truncates).
2. Second derivatives (jac's Hessian by every argument jac differentiates) of the functions people use in losses
   (LOSSES), against mpmath at 30 digits where it has the function, central differences of the library otherwise:
   AGREE / REFUSED / WRONG / CRASH per Hessian entry; and third derivatives of a few (THIRD).
"""

from __future__ import annotations

import argparse
import math
import signal
import warnings

import numpy as np

HEAD = "import torch, torch.special, scipy.special, jax.scipy.special\n"
CANDIDATES = [(0.35, 0.62, 0.47, 0.55), (2.0, 0.4, 0.6, 0.3), (1.7, 2.3, 0.4, 1.1), (2.0, 3.0, 0.4, 0.3),
              (0.3, 2.5, 3.5, 0.45), (2.5, 1.5, 0.3, 0.7)]
SKIP = {"scipy.special": {"seterr", "geterr", "errstate", "test", "ellip_harm", "ellip_harm_2", "ellip_normal",
                          "sph_harm", "sph_harm_y", "sph_legendre_p", "sph_legendre_p_all", "legendre_p_all",
                          "assoc_legendre_p_all", "sph_harm_y_all", "lqn", "lqmn", "lpmn", "clpmn", "obl_cv_seq",
                          "pro_cv_seq", "mathieu_even_coef", "mathieu_odd_coef"}}


class _Late(Exception):
    pass


def _alarm(*_):
    raise _Late()


def library_function(module, name):
    if module == "scipy.special":
        import scipy.special as m
        return getattr(m, name)
    if module == "torch.special":
        import torch
        import torch.special as m
        f = getattr(m, name)

        def call(*xs):
            out = f(*[torch.tensor(np.asarray(v, dtype=float)) for v in xs])
            return out.numpy() if hasattr(out, "numpy") else out
        return call
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.scipy.special as m
    f = getattr(m, name)

    def call(*xs):
        return np.asarray(f(*[np.asarray(v, dtype=float) for v in xs]))
    return call


def _real(v):
    try:
        a = np.asarray(v)
    except Exception:  # noqa: BLE001
        return None
    if a.dtype.kind != "f" or a.shape != ():
        return None
    return float(a) if np.isfinite(a) else None


def _lib(f, xs):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            return _real(f(*xs))
        except Exception:  # noqa: BLE001
            return None


def central(f, xs, i, h):
    def at(t):
        ys = list(xs)
        ys[i] = xs[i] + t
        return _lib(f, ys)
    vals = [at(k * h) for k in (-2, -1, 1, 2)]
    if any(v is None for v in vals):
        return None
    return (vals[0] - 8 * vals[1] + 8 * vals[2] - vals[3]) / (12 * h)


def library_slope(f, xs, i):
    h = 1e-3 * max(1.0, abs(xs[i]))
    a, b = central(f, xs, i, h), central(f, xs, i, h / 2)
    if a is None or b is None:
        return None, None
    return b, abs(a - b)


def signatures(f, count):
    """The candidate points (and their second points) where the library gives a finite real float."""
    out = []
    for cand in CANDIDATES:
        xs = [float(v) for v in cand[:count]]
        if _lib(f, xs) is not None:
            second = [v if float(v).is_integer() else v * 1.07 for v in xs]
            if _lib(f, second) is not None:
                out.append((xs, second))
    return out


def jac_call(module, name, xs, i, value):
    """jac's value (``value``) or derivative of ``MODULE.NAME(...)`` with argument i the input x and the others
    written as numbers (as people write ``jv(1.5, x)``: an integer as an integer)."""
    from jacobi_cli.tools import api
    args = [("x" if j == i else repr(int(v)) if float(v).is_integer() else repr(v)) for j, v in enumerate(xs)]
    text = f"{HEAD}{module}.{name}({', '.join(args)})"
    b = {"x": np.array(xs[i])}
    if value:
        return api.evaluate(text, b)
    return api.jacobian(text, b)["x"]


def guarded(call, seconds=20):
    from jacobi_cli.errors import JacError
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return "ok", call()
    except JacError as err:
        return "refused", err.message.split("\n")[0]
    except _Late:
        return "crash", f"took over {seconds} s"
    except Exception as err:  # noqa: BLE001 - a crash is a bug to report
        return "crash", f"{type(err).__name__}: {str(err)[:120]}"
    finally:
        signal.alarm(0)


def classify(module, name, f, candidates):
    """{argument index: (outcome, note, point)} of one call: per argument, the first candidate point at which jac
    answers (an integer order where the function wants one, a point inside the derivative's domain), else the first
    candidate's refusal."""
    out = {}
    for i in range(len(candidates[0][0])):
        for points in candidates:
            kind, note = _classify_at(module, name, f, points, i)
            out.setdefault(i, (kind, note, points[0]))
            if kind != "REFUSED":
                out[i] = (kind, note, points[0])
                break
    return out


def _classify_at(module, name, f, points, i):
    """(outcome, note) of argument i at one candidate's two points."""
    kind, note = "AGREE", ""
    for xs in points:
        got = guarded(lambda: jac_call(module, name, xs, i, True))
        if got[0] != "ok":
            kind, note = got[0].upper(), "value: " + got[1]
            break
        want = _lib(f, xs)
        value = _real(got[1])
        if value is None or abs(value - want) > 1e-8 * max(1.0, abs(want)):
            kind, note = "WRONG", f"value at {xs}: jac {got[1]}, library {want}"
            break
        got = guarded(lambda: jac_call(module, name, xs, i, False))
        if got[0] != "ok":
            kind, note = got[0].upper(), got[1]
            break
        slope, noise = library_slope(f, xs, i)
        d = _real(got[1])
        if slope is None:
            kind, note = "UNCHECKED", f"jac {d}, library differences not finite"
            continue
        if d is None or abs(d - slope) > 1e-6 * max(1.0, abs(slope)) + 10 * noise:
            kind, note = "WRONG", f"d/dx{i} at {xs}: jac {d}, differences {slope:.12g} (+-{noise:.2g})"
            break
    return kind, note


def first(opts):
    import jax.scipy.special
    import scipy.special
    import torch.special

    import importlib.util
    import pathlib
    here = pathlib.Path(__file__).resolve().parent
    spec = importlib.util.spec_from_file_location("special36_probe", here / "special36_probe.py")
    p36 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(p36)
    total = {}
    lines = []
    for label, mod in (("scipy.special", scipy.special), ("torch.special", torch.special),
                       ("jax.scipy.special", jax.scipy.special)):
        counts = {}
        for name in p36.public(mod):
            if name in SKIP.get(label, ()):
                continue
            f = library_function(label, name)
            for count in (1, 2, 3, 4):
                found = signatures(f, count)
                if not found:
                    continue
                for i, (kind, note, point) in classify(label, name, f, found).items():
                    counts[kind] = counts.get(kind, 0) + 1
                    total[kind] = total.get(kind, 0) + 1
                    if kind not in ("AGREE",) and (opts.list or kind in ("WRONG", "CRASH", "UNCHECKED")):
                        lines.append(f"  {kind} {label}.{name}/{count} by x{i} at {point}: {note[:200]}")
        print(f"1. {label}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print("1. total: " + ", ".join(f"{k} {v}" for k, v in sorted(total.items())))
    for line in lines:
        print(line)


def _mp():
    import mpmath
    mpmath.mp.dps = 30
    return mpmath


# (jac text, bindings, mpmath's function of those values or None for the library's differences, library function)
def losses():
    import scipy.special as s
    mp = _mp()
    erfinv = lambda y: mp.findroot(lambda t: mp.erf(t) - y, 0.5)  # noqa: E731
    ndtri = lambda p: -mp.sqrt(2) * mp.erfinv(2 * p - 1) if hasattr(mp, "erfinv") else \
        mp.findroot(lambda t: mp.ncdf(t) - p, 0.0)  # noqa: E731
    return [
        ("scipy.special.gammaln(x)", {"x": 2.7}, mp.loggamma, s.gammaln),
        ("torch.lgamma(x)", {"x": 0.4}, mp.loggamma, s.gammaln),
        ("scipy.special.digamma(x)", {"x": 2.7}, mp.digamma, s.digamma),
        ("torch.special.digamma(x)", {"x": 0.6}, mp.digamma, s.digamma),
        ("scipy.special.polygamma(1, x)", {"x": 1.3}, lambda x: mp.polygamma(1, x), lambda x: s.polygamma(1, x)),
        ("torch.special.polygamma(2, x)", {"x": 1.3}, lambda x: mp.polygamma(2, x), lambda x: s.polygamma(2, x)),
        ("scipy.special.erf(x)", {"x": 0.7}, mp.erf, s.erf),
        ("scipy.special.erfc(x)", {"x": 0.7}, mp.erfc, s.erfc),
        ("scipy.special.erfinv(x)", {"x": 0.35}, erfinv, s.erfinv),
        ("torch.special.erfinv(x)", {"x": -0.6}, erfinv, s.erfinv),
        ("scipy.special.erfcinv(x)", {"x": 0.4}, lambda y: erfinv(1 - y), s.erfcinv),
        ("scipy.special.erfcx(x)", {"x": 1.3}, lambda x: mp.exp(x * x) * mp.erfc(x), s.erfcx),
        ("torch.special.erfcx(x)", {"x": -0.8}, lambda x: mp.exp(x * x) * mp.erfc(x), s.erfcx),
        ("scipy.special.xlogy(x, y)", {"x": 0.7, "y": 1.9}, lambda x, y: x * mp.log(y), s.xlogy),
        ("torch.special.xlogy(x, y)", {"x": 0.7, "y": 1.9}, lambda x, y: x * mp.log(y), s.xlogy),
        ("scipy.special.xlog1py(x, y)", {"x": 0.7, "y": 0.9}, lambda x, y: x * mp.log1p(y), s.xlog1py),
        ("torch.special.xlog1py(x, y)", {"x": 0.7, "y": 0.9}, lambda x, y: x * mp.log1p(y), s.xlog1py),
        ("scipy.special.logit(x)", {"x": 0.3}, lambda p: mp.log(p / (1 - p)), s.logit),
        ("scipy.special.expit(x)", {"x": 0.3}, lambda x: 1 / (1 + mp.exp(-x)), s.expit),
        ("scipy.special.log_expit(x)", {"x": -1.3}, lambda x: -mp.log1p(mp.exp(-x)), s.log_expit),
        ("scipy.special.log_ndtr(x)", {"x": -1.3}, lambda x: mp.log(mp.ncdf(x)), s.log_ndtr),
        ("torch.special.log_ndtr(x)", {"x": 2.1}, lambda x: mp.log(mp.ncdf(x)), s.log_ndtr),
        ("scipy.special.ndtr(x)", {"x": 0.4}, mp.ncdf, s.ndtr),
        ("scipy.special.ndtri(x)", {"x": 0.3}, lambda p: mp.findroot(lambda t: mp.ncdf(t) - p, 0.0), s.ndtri),
        ("scipy.special.i0(x)", {"x": 1.3}, lambda x: mp.besseli(0, x), s.i0),
        ("scipy.special.i0e(x)", {"x": 1.3}, lambda x: mp.besseli(0, x) * mp.exp(-abs(x)), s.i0e),
        ("scipy.special.i1(x)", {"x": 1.3}, lambda x: mp.besseli(1, x), s.i1),
        ("scipy.special.i1e(x)", {"x": 1.3}, lambda x: mp.besseli(1, x) * mp.exp(-abs(x)), s.i1e),
        ("torch.special.i0e(x)", {"x": -0.9}, lambda x: mp.besseli(0, x) * mp.exp(-abs(x)), s.i0e),
        ("torch.special.i1e(x)", {"x": -0.9}, lambda x: mp.besseli(1, x) * mp.exp(-abs(x)), s.i1e),
        ("scipy.special.k0(x)", {"x": 1.3}, lambda x: mp.besselk(0, x), s.k0),
        ("scipy.special.k1e(x)", {"x": 1.3}, lambda x: mp.besselk(1, x) * mp.exp(x), s.k1e),
        ("scipy.special.kv(1.5, x)", {"x": 1.3}, lambda x: mp.besselk(1.5, x), lambda x: s.kv(1.5, x)),
        ("scipy.special.iv(0.7, x)", {"x": 1.3}, lambda x: mp.besseli(0.7, x), lambda x: s.iv(0.7, x)),
        ("scipy.special.kve(2.3, x)", {"x": 1.3}, lambda x: mp.besselk(2.3, x) * mp.exp(x),
         lambda x: s.kve(2.3, x)),
        ("scipy.special.ive(0.7, x)", {"x": 1.3}, lambda x: mp.besseli(0.7, x) * mp.exp(-x),
         lambda x: s.ive(0.7, x)),
        ("scipy.special.jv(0.7, x)", {"x": 1.3}, lambda x: mp.besselj(0.7, x), lambda x: s.jv(0.7, x)),
        ("scipy.special.zeta(x)", {"x": 2.5}, mp.zeta, s.zeta),
        ("scipy.special.zeta(x, q)", {"x": 2.5, "q": 1.4}, mp.zeta, s.zeta),
        ("torch.special.zeta(x, q)", {"x": 3.5, "q": 0.8}, mp.zeta, s.zeta),
        ("scipy.special.betainc(2.5, 1.5, x)", {"x": 0.4}, lambda x: mp.betainc(2.5, 1.5, 0, x, regularized=True),
         lambda x: s.betainc(2.5, 1.5, x)),
        ("scipy.special.betainc(a, b, x)", {"a": 2.5, "b": 1.5, "x": 0.4},
         lambda a, b, x: mp.betainc(a, b, 0, x, regularized=True), s.betainc),
        ("scipy.special.gammainc(2.5, x)", {"x": 1.4}, lambda x: mp.gammainc(2.5, 0, x, regularized=True),
         lambda x: s.gammainc(2.5, x)),
        ("scipy.special.gammaincc(2.5, x)", {"x": 1.4}, lambda x: mp.gammainc(2.5, x, mp.inf, regularized=True),
         lambda x: s.gammaincc(2.5, x)),
        ("scipy.special.gammainc(a, x)", {"a": 2.5, "x": 1.4}, lambda a, x: mp.gammainc(a, 0, x, regularized=True),
         s.gammainc),
        ("torch.special.gammainc(a, x)", {"a": 2.5, "x": 1.4}, lambda a, x: mp.gammainc(a, 0, x, regularized=True),
         s.gammainc),
        ("torch.special.gammaincc(a, x)", {"a": 2.5, "x": 1.4},
         lambda a, x: mp.gammainc(a, x, mp.inf, regularized=True), s.gammaincc),
        ("scipy.special.softplus(x)", {"x": 0.4}, lambda x: mp.log1p(mp.exp(x)), lambda x: np.logaddexp(0, x)),
        ("torch.nn.functional.softplus(x)", {"x": -0.4}, lambda x: mp.log1p(mp.exp(x)), lambda x: np.logaddexp(0, x)),
        ("torch.special.entr(x)", {"x": 0.4}, lambda x: -x * mp.log(x), s.entr),
        ("scipy.special.rel_entr(x, y)", {"x": 0.4, "y": 0.7}, lambda x, y: x * mp.log(x / y), s.rel_entr),
        ("scipy.special.kl_div(x, y)", {"x": 0.4, "y": 0.7}, lambda x, y: x * mp.log(x / y) - x + y, s.kl_div),
        ("scipy.special.huber(d, r)", {"d": 1.0, "r": 0.4}, lambda d, r: r * r / 2, s.huber),
        ("scipy.special.pseudo_huber(d, r)", {"d": 1.0, "r": 0.4}, lambda d, r: d * d * (mp.sqrt(1 + (r / d) ** 2) - 1),
         s.pseudo_huber),
        ("scipy.special.logsumexp(x)", {"x": 0.4}, lambda x: x, lambda x: s.logsumexp(x)),
        ("scipy.special.boxcox(x, l)", {"x": 1.4, "l": 0.3}, lambda x, l: (x ** l - 1) / l, s.boxcox),
        ("scipy.special.boxcox1p(x, l)", {"x": 0.4, "l": 0.3}, lambda x, l: ((1 + x) ** l - 1) / l, s.boxcox1p),
        ("scipy.special.multigammaln(x, 3)", {"x": 2.4}, lambda x: 3 * mp.log(mp.pi) / 2 + sum(
            mp.loggamma(x - mp.mpf(j) / 2) for j in range(3)), lambda x: s.multigammaln(x, 3)),
        ("scipy.special.gamma(x)", {"x": 2.4}, mp.gamma, s.gamma),
        ("scipy.special.rgamma(x)", {"x": 2.4}, mp.rgamma, s.rgamma),
        ("scipy.special.beta(a, b)", {"a": 2.4, "b": 0.7}, mp.beta, s.beta),
        ("scipy.special.betaln(a, b)", {"a": 2.4, "b": 0.7}, lambda a, b: mp.log(mp.beta(a, b)), s.betaln),
        ("scipy.special.spence(x)", {"x": 1.4}, lambda x: mp.polylog(2, 1 - x), s.spence),
        ("scipy.special.dawsn(x)", {"x": 1.4}, lambda x: mp.sqrt(mp.pi) / 2 * mp.exp(-x * x) * mp.erfi(x), s.dawsn),
        ("scipy.special.expit(x) * scipy.special.logit(y)", {"x": 0.4, "y": 0.8},
         lambda x, y: 1 / (1 + mp.exp(-x)) * mp.log(y / (1 - y)), lambda x, y: s.expit(x) * s.logit(y)),
        ("scipy.special.eval_genlaguerre(3, 0.75, x)", {"x": 0.3}, lambda x: mp.laguerre(3, 0.75, x),
         lambda x: s.eval_genlaguerre(3, 0.75, x)),
        ("scipy.special.eval_genlaguerre(3, a, x)", {"a": 0.75, "x": 0.3}, lambda a, x: mp.laguerre(3, a, x),
         lambda a, x: s.eval_genlaguerre(3, a, x)),
        ("scipy.special.elliprd(x, y, z)", {"x": 0.7, "y": 1.3, "z": 2.1}, mp.elliprd, s.elliprd),
        ("scipy.special.elliprj(x, y, z, p)", {"x": 0.7, "y": 1.3, "z": 2.1, "p": 0.9}, mp.elliprj, s.elliprj),
        ("scipy.special.elliprf(x, y, z)", {"x": 0.7, "y": 1.3, "z": 2.1}, mp.elliprf, s.elliprf),
        ("scipy.special.elliprg(x, y, z)", {"x": 0.7, "y": 1.3, "z": 2.1}, mp.elliprg, s.elliprg),
        ("scipy.special.elliprc(x, y)", {"x": 0.7, "y": 1.3}, mp.elliprc, s.elliprc),
    ]


def _exact(mp_f, values, orders):
    mp = _mp()
    args = [mp.mpf(v) for v in values]
    return float(mp.diff(lambda *t: mp_f(*t), args, tuple(orders)))


def second(opts):
    from jacobi_cli.tools import api
    counts = {}
    lines = []
    for text, values, mp_f, _lib_f in losses():
        names = list(values)
        b = {k: np.array(v) for k, v in values.items()}
        got = guarded(lambda: api.hessian(text, b), 120)
        if got[0] != "ok":
            kind = got[0].upper()
            counts[kind] = counts.get(kind, 0) + len(names) ** 2
            lines.append(f"  {kind} {text}: {got[1][:200]}")
            continue
        for i, p in enumerate(names):
            for j, q in enumerate(names):
                exact = _exact(mp_f, list(values.values()), [(m == i) + (m == j) for m in range(len(names))])
                h = float(got[1][(p, q)])
                ok = abs(h - exact) <= 1e-8 * max(1.0, abs(exact))
                kind = "AGREE" if ok else "WRONG"
                counts[kind] = counts.get(kind, 0) + 1
                if not ok:
                    lines.append(f"  WRONG {text} d2/d{p}d{q}: jac {h!r}, mpmath {exact!r}")
    print("2. second derivatives: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for line in lines:
        print(line)


THIRD = ("scipy.special.gammaln(x)", "scipy.special.digamma(x)", "scipy.special.erfinv(x)", "scipy.special.ndtri(x)",
         "scipy.special.log_ndtr(x)", "scipy.special.erfcx(x)", "scipy.special.i0e(x)", "scipy.special.i1e(x)",
         "scipy.special.kv(1.5, x)", "scipy.special.zeta(x, q)", "scipy.special.betainc(2.5, 1.5, x)",
         "scipy.special.gammainc(2.5, x)", "scipy.special.elliprf(x, y, z)", "scipy.special.elliprg(x, y, z)",
         "scipy.special.elliprd(x, y, z)", "scipy.special.elliprj(x, y, z, p)",
         "scipy.special.eval_genlaguerre(3, 0.75, x)", "torch.special.polygamma(2, x)", "scipy.special.logit(x)")


def third(opts):
    from jacobi_cli.tools import api
    table = {t: (v, f) for t, v, f, _ in losses()}
    counts = {}
    lines = []
    for text in THIRD:
        values, mp_f = table[text]
        name = list(values)[-1]
        b = {k: np.array(v) for k, v in values.items()}
        got = guarded(lambda: api.derivative(text, b, 3, wrt=[name]), 120)
        if got[0] != "ok":
            kind = got[0].upper()
            lines.append(f"  {kind} {text} by {name}: {got[1][:200]}")
        else:
            exact = _exact(mp_f, list(values.values()), [3 * (k == name) for k in values])
            ok = abs(float(got[1]) - exact) <= 1e-7 * max(1.0, abs(exact))
            kind = "AGREE" if ok else "WRONG"
            if not ok:
                lines.append(f"  WRONG {text} d3/d{name}3: jac {float(got[1])!r}, mpmath {exact!r}")
        counts[kind] = counts.get(kind, 0) + 1
    print("3. third derivatives (by the last argument): " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    for line in lines:
        print(line)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--list", action="store_true", help="list every REFUSED call with its message")
    parser.add_argument("--part", type=int, action="append", help="run only these parts (1, 2, 3)")
    opts = parser.parse_args()
    parts = opts.part or [1, 2, 3]
    if 2 in parts:
        second(opts)
    if 3 in parts:
        third(opts)
    if 1 in parts:
        first(opts)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
