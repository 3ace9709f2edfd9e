"""Every public name of scipy.special, torch.special and jax.scipy.special: read, refused saying why, refused bare
(session 36).

    PYTHONPATH=. /work/venv/bin/python benchmarks/special36_probe.py [--list]

For each public callable (``dir()``: no classes, no submodules) jac parses ``MODULE.NAME(x)``, ``NAME(x, x)`` and
``NAME(x, x, x)`` with x = [0.3, 0.5, 0.7]. A name is
- ``read`` when one count gives a value or an error that is not about the name (a wrong argument, a value refused
  at these points saying why);
- ``why`` when every count is refused by name and some message says why (complex-valued, no derivative formula,
  an object rather than an array, ...);
- ``bare`` when every count is refused with only "not supported by jac" / "unknown function" and the list of what
  jac reads;
- ``crash``: an exception that is no JacError (a bug).
Prints the counts per module; ``--list`` lists the names of each class.

Then every name read in session 36 is checked at a grid of points (0, ±0, negative, large, ±inf, NaN for values;
ordinary points for derivatives): the value against SciPy's bit for bit, and the derivative (jac's Jacobian diagonal)
against central differences of SciPy's own function (relative 1e-6). Prints the counts of points that agree.
"""

from __future__ import annotations

import argparse
import inspect
import re

import numpy as np

# a name refused with only these words (and jac's list of what it reads, or a "did you mean") says no reason
BARE = re.compile(r"^'[\w.]+' is not supported by jac \(of [\w.]+, jac reads \d+ functions|"
                  r"^unknown function '[\w.]+'|^the function '[\w.]+' is not supported by jac$")


def public(module) -> list:
    out = []
    for name in dir(module):
        if name.startswith("_"):
            continue
        obj = getattr(module, name, None)
        if callable(obj) and not inspect.isclass(obj) and not inspect.ismodule(obj):
            out.append(name)
    return sorted(out)


def outcome(module: str, name: str) -> tuple:
    from jacobi_cli.errors import JacError, JacNameError
    from jacobi_cli.tools import api

    head = "import torch, torch.special, scipy.special, jax.scipy.special\n"
    kinds = []
    for count in (1, 2, 3):
        text = f"{head}{module}.{name}({', '.join(['x'] * count)})"
        try:
            api.evaluate(text, {"x": np.array([0.3, 0.5, 0.7])})
        except JacError as err:
            msg = err.message.split("\n")[0]
            if isinstance(err, JacNameError) or "not supported by jac" in msg or "unknown function" in msg:
                kinds.append(("bare" if BARE.search(msg) else "why", msg))
                continue
            return "read", msg
        except Exception as err:  # noqa: BLE001 - a crash is a bug to report
            return "crash", f"{type(err).__name__}: {err}"
        return "read", ""
    why = [k for k in kinds if k[0] == "why"]
    return why[0] if why else kinds[0]


def main() -> int:
    import jax.scipy.special
    import scipy.special
    import torch.special

    parser = argparse.ArgumentParser()
    parser.add_argument("--list", action="store_true")
    opts = parser.parse_args()
    total = {"read": 0, "why": 0, "bare": 0, "crash": 0}
    for label, mod in (("scipy.special", scipy.special), ("torch.special", torch.special),
                       ("jax.scipy.special", jax.scipy.special)):
        found: dict = {"read": [], "why": [], "bare": [], "crash": []}
        names = public(mod)
        for name in names:
            kind, msg = outcome(label, name)
            found[kind].append((name, msg))
        for k in total:
            total[k] += len(found[k])
        print(f"{label}: {len(names)} names: read {len(found['read'])}, refused saying why {len(found['why'])}, "
              f"refused bare {len(found['bare'])}, crash {len(found['crash'])}")
        for kind in ("bare", "crash", "why", "read"):
            if found[kind] and (opts.list or kind in ("bare", "crash")):
                print(f"  {kind} ({len(found[kind])}): " + " ".join(n for n, _ in found[kind]))
            if kind == "crash":
                for n, m in found[kind]:
                    print(f"    {n}: {m[:160]}")
    print("total: " + ", ".join(f"{k} {v}" for k, v in total.items()))
    checks()
    return 0


GRID = np.array([-np.inf, -30.0, -2.5, -1.0, -0.0, 0.0, 1e-300, 0.3, 0.5, 1.0, 2.0, 5.0, 40.0, np.inf, np.nan])
SMOOTH = np.array([-2.3, -0.7, 0.4, 0.9, 1.7, 3.1, 6.0])
POSITIVE = np.array([0.3, 0.9, 1.7, 3.1, 6.0])


def _cases():
    """(jac text of x, SciPy's function of x, the points of its derivative)."""
    from scipy import special as s

    out = []
    for n in ("ber", "bei", "berp", "beip", "itstruve0", "it2struve0", "itmodstruve0"):
        out.append((f"scipy.special.{n}(x)", getattr(s, n), SMOOTH))
    for n in ("ker", "kei", "kerp", "keip"):
        out.append((f"scipy.special.{n}(x)", getattr(s, n), POSITIVE))
    for n, count, pts in (("airy", 4, SMOOTH), ("airye", 4, POSITIVE), ("itj0y0", 2, None), ("iti0k0", 2, None),
                          ("it2j0y0", 2, None), ("it2i0k0", 2, None)):
        for i in range(count):
            p = pts if pts is not None else (SMOOTH if i == 0 else POSITIVE)
            out.append((f"scipy.special.{n}(x)[{i}]", (lambda n, i: lambda x: getattr(s, n)(x)[i])(n, i), p))
    for i in range(4):
        out.append((f"scipy.special.ellipj(x, 0.6)[{i}]", (lambda i: lambda x: s.ellipj(x, 0.6)[i])(i), SMOOTH))
        out.append((f"scipy.special.ellipj(1.3, x)[{i}]", (lambda i: lambda x: s.ellipj(1.3, x)[i])(i),
                    np.array([0.0, 0.1, 0.4, 0.7, 0.95])))
    out += [("scipy.special.wright_bessel(0.5, 1.5, x)", lambda x: s.wright_bessel(0.5, 1.5, x), POSITIVE),
            ("scipy.special.log_wright_bessel(2.0, 0.5, x)", lambda x: s.log_wright_bessel(2.0, 0.5, x), POSITIVE),
            ("scipy.special.agm(x, 2.0)", lambda x: s.agm(x, 2.0), np.array([0.3, 1.0, 2.0, 3.1, 6.0])),
            ("scipy.special.agm(1.5, x)", lambda x: s.agm(1.5, x), np.array([0.3, 1.0, 1.5, 3.1, 6.0])),
            ("scipy.special.voigt_profile(x, 0.8, 0.3)", lambda x: s.voigt_profile(x, 0.8, 0.3), SMOOTH),
            ("scipy.special.voigt_profile(0.4, x, 0.3)", lambda x: s.voigt_profile(0.4, x, 0.3), POSITIVE),
            ("scipy.special.voigt_profile(0.4, 0.8, x)", lambda x: s.voigt_profile(0.4, 0.8, x), POSITIVE)]
    unit = np.array([0.05, 0.2, 0.5, 0.7, 0.95])
    out += [("scipy.special.gdtrix(1.5, 2.5, x)", lambda x: s.gdtrix(1.5, 2.5, x), unit),
            ("scipy.special.gdtrix(x, 2.5, 0.3)", lambda x: s.gdtrix(x, 2.5, 0.3), POSITIVE),
            ("scipy.special.gdtria(x, 2.5, 1.5)", lambda x: s.gdtria(x, 2.5, 1.5), unit),
            ("scipy.special.gdtria(0.3, 2.5, x)", lambda x: s.gdtria(0.3, 2.5, x), POSITIVE),
            ("scipy.special.fdtri(3.0, 7.0, x)", lambda x: s.fdtri(3.0, 7.0, x), unit),
            ("scipy.special.pdtri(2.0, x)", lambda x: s.pdtri(2.0, x), unit),
            ("scipy.special.bdtri(2.0, 7.0, x)", lambda x: s.bdtri(2.0, 7.0, x), unit),
            ("scipy.special.nbdtri(2.0, 7.0, x)", lambda x: s.nbdtri(2.0, 7.0, x), unit),
            ("scipy.special.nrdtrimn(x, 1.5, 0.5)", lambda x: s.nrdtrimn(x, 1.5, 0.5), unit),
            ("scipy.special.nrdtrisd(0.5, x, 2.0)", lambda x: s.nrdtrisd(0.5, x, 2.0), unit[3:]),
            ("scipy.special.tklmbda(x, 0.3)", lambda x: s.tklmbda(x, 0.3), SMOOTH[:5] / 2),
            ("scipy.special.tklmbda(x, -0.4)", lambda x: s.tklmbda(x, -0.4), SMOOTH),
            ("scipy.special.lpmv(1.0, 2.5, x)", lambda x: s.lpmv(1.0, 2.5, x), np.array([-0.9, -0.3, 0.2, 0.6, 0.8]))]
    for n in ("pbdv", "pbvv", "pbwa"):
        for i in range(2):
            out.append((f"scipy.special.{n}(1.3, x)[{i}]", (lambda n, i: lambda x: getattr(s, n)(1.3, x)[i])(n, i),
                        SMOOTH[:6]))
    return out


def checks():
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api

    values = [0, 0]
    slopes = [0, 0]
    bad = []
    for text, f, points in _cases():
        try:
            ours = api.evaluate(text, {"x": GRID})
        except JacError as err:
            bad.append(f"{text}: {err.message[:80]}")
            values[1] += len(GRID)
            continue
        with np.errstate(all="ignore"):
            theirs = np.asarray(f(GRID), dtype=float)
        same = (ours == theirs) | (np.isnan(ours) & np.isnan(theirs))
        values[0] += int(same.sum())
        values[1] += int((~same).sum())
        jac = np.diag(api.jacobian(text, {"x": points})["x"])
        h = 1e-6 * np.maximum(1.0, np.abs(points))
        with np.errstate(all="ignore"):
            numeric = (f(points + h) - f(points - h)) / (2 * h)
            if text.startswith("scipy.special.ellipj(1.3"):  # m = 0 is the end of SciPy's range: one-sided there
                numeric = np.where(points == 0, (f(points + h) - f(points)) / h, numeric)
        ok = np.isclose(jac, numeric, rtol=1e-6, atol=1e-8)
        slopes[0] += int(ok.sum())
        slopes[1] += int((~ok).sum())
        if not ok.all():
            bad.append(f"{text}: derivative at {points[~ok]}: jac {jac[~ok]}, differences {numeric[~ok]}")
    print(f"values against SciPy: {values[0]} equal, {values[1]} differ; derivatives against central differences: "
          f"{slopes[0]} agree, {slopes[1]} differ")
    for line in bad:
        print("  " + line)


if __name__ == "__main__":
    raise SystemExit(main())
