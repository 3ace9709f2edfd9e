"""Session 37: scipy.special's closed forms that session 36 left refused, and lu's conditioning warning.

    PYTHONPATH=. /work/venv/bin/python benchmarks/special37_probe.py        (about a minute)

Run it with PYTHONPATH of an older checkout for the "before" column. It prints
1. scipy.special's public names as special36_probe.py classes them (read / refused saying why / bare / crash);
2. each eval_* polynomial (and the session 37 names) by x and by its parameters: read, refused (saying why), or
   wrong (an answer that differs from mpmath's by more than 1e-8 relative: a silent wrong answer);
3. the session 37 functions at points: values against SciPy (bit for bit), first and second derivatives against
   mpmath at 40 digits (relative 1e-9) at ordinary points, where arguments meet and beside (1e-9 apart);
4. lu of near-singular matrices (4 × 4, condition numbers 1e5 ... 1e14, the small pivot last or before): the true
   error of L, U and of their derivatives along a random direction (mpmath's LU at 40 digits, a central
   difference with h = 1e-20) against jac's conditioning warning: past √eps warned / unwarned, warned below
   √eps/100 (false), and well-conditioned draws warned (false).
"""

from __future__ import annotations

import importlib.util
import pathlib

import mpmath
import numpy as np

mpmath.mp.dps = 40
HERE = pathlib.Path(__file__).resolve().parent


def _special36():
    spec = importlib.util.spec_from_file_location("special36_probe", HERE / "special36_probe.py")
    probe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(probe)
    return probe


def names():
    import scipy.special

    probe = _special36()
    counts = {"read": 0, "why": 0, "bare": 0, "crash": 0}
    for name in probe.public(scipy.special):
        counts[probe.outcome("scipy.special", name)[0]] += 1
    print("1. scipy.special names: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


def _jacobi(n, a, b, t):
    return mpmath.binomial(n + a, n) * mpmath.hyp2f1(-n, n + a + b + 1, a + 1, (1 - t) / 2)


# (text with the parameter names, bindings, mpmath's function of those values)
POLYS = [
    ("scipy.special.eval_jacobi(3, a, b, x)", {"a": 0.5, "b": 1.25, "x": 0.3}, lambda a, b, x: _jacobi(3, a, b, x)),
    ("scipy.special.eval_sh_jacobi(3, a, b, x)", {"a": 2.5, "b": 1.5, "x": 0.3},
     lambda a, b, x: _jacobi(3, a - b, b - 1, 2 * x - 1) / mpmath.binomial(5 + a, 3)),
    ("scipy.special.eval_gegenbauer(3, a, x)", {"a": 0.75, "x": 0.3}, lambda a, x: mpmath.gegenbauer(3, a, x)),
    ("scipy.special.eval_genlaguerre(3, a, x)", {"a": 0.75, "x": 0.3}, lambda a, x: mpmath.laguerre(3, a, x)),
    ("scipy.special.eval_legendre(3, x)", {"x": 0.3}, lambda x: mpmath.legendre(3, x)),
    ("scipy.special.eval_chebyt(3, x)", {"x": 0.3}, lambda x: mpmath.chebyt(3, x)),
    ("scipy.special.eval_chebyu(3, x)", {"x": 0.3}, lambda x: mpmath.chebyu(3, x)),
    ("scipy.special.eval_hermite(3, x)", {"x": 0.3}, lambda x: mpmath.hermite(3, x)),
    ("scipy.special.eval_laguerre(3, x)", {"x": 0.3}, lambda x: mpmath.laguerre(3, 0, x)),
    ("scipy.special.eval_sh_legendre(3, x)", {"x": 0.3}, lambda x: mpmath.legendre(3, 2 * x - 1)),
    ("scipy.special.eval_sh_chebyt(3, x)", {"x": 0.3}, lambda x: mpmath.chebyt(3, 2 * x - 1)),
    ("scipy.special.eval_sh_chebyu(3, x)", {"x": 0.3}, lambda x: mpmath.chebyu(3, 2 * x - 1)),
    ("scipy.special.eval_chebyc(3, x)", {"x": 0.3}, lambda x: 2 * mpmath.chebyt(3, x / 2)),
    ("scipy.special.eval_chebys(3, x)", {"x": 0.3}, lambda x: mpmath.chebyu(3, x / 2)),
    ("scipy.special.diric(x, 5)", {"x": 0.3}, lambda x: mpmath.sin(5 * x / 2) / (5 * mpmath.sin(x / 2))),
    ("scipy.special.elliprf(a, b, x)", {"a": 0.7, "b": 1.3, "x": 2.1}, mpmath.elliprf),
    ("scipy.special.elliprc(a, x)", {"a": 0.7, "x": 2.1}, mpmath.elliprc),
    ("scipy.special.elliprd(a, b, x)", {"a": 0.7, "b": 1.3, "x": 2.1}, mpmath.elliprd),
    ("scipy.special.elliprj(a, b, c, x)", {"a": 0.7, "b": 1.3, "c": 1.6, "x": 2.1}, mpmath.elliprj),
    ("scipy.special.elliprg(a, b, x)", {"a": 0.7, "b": 1.3, "x": 2.1}, mpmath.elliprg),
]


def polynomials():
    """2.: each function by each argument: read (agrees with mpmath), refused, or wrong."""
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api

    counts = {"read": 0, "refused": 0, "wrong": 0, "crash": 0}
    for text, values, f in POLYS:
        b = {k: np.array(v) for k, v in values.items()}
        keys = list(values)
        marks = []
        for k in keys:
            try:
                got = float(api.jacobian(text, b, wrt=[k])[k])
            except JacError:
                counts["refused"] += 1
                marks.append(f"{k}: refused")
                continue
            except Exception as err:  # noqa: BLE001 - a crash is a bug to report
                counts["crash"] += 1
                marks.append(f"{k}: crash {type(err).__name__}")
                continue
            args = [mpmath.mpf(values[j]) for j in keys]
            exact = float(mpmath.diff(lambda *t: f(*t), args, tuple(int(j == k) for j in keys)))
            ok = abs(got - exact) <= 1e-8 * max(1.0, abs(exact))
            counts["read" if ok else "wrong"] += 1
            marks.append(f"{k}: {'read' if ok else f'WRONG {got:.6g} (mpmath {exact:.6g})'}")
        print(f"   {text}: " + ", ".join(marks))
    print("2. functions by each argument: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


CARLSON = {"elliprf": 3, "elliprc": 2, "elliprd": 3, "elliprj": 4, "elliprg": 3}
POINTS = [(0.7, 1.3, 2.1, 0.9), (1.0, 1.0, 2.0, 1.5), (2.0, 1.0, 2.0, 2.0), (1.5, 1.5, 1.5, 1.5),
          (1.0, 1.0 + 1e-9, 1.0 - 1e-9, 1.0 + 2e-9), (1e-3, 5.0, 40.0, 0.2), (3.0, 0.2, 0.2 * (1 + 1e-9), 7.0),
          (0.05, 0.5, 12.0, 3.0), (4.0, 4.0, 0.3, 0.3), (4.0, 4.0, 0.3, 0.3 * (1 + 1e-9)), (1.0, 2.0, 3.0, 1.0 + 1e-10),
          (1.0, 2.0, 3.0, 2.0), (2.0, 2.0, 0.3, 2.0)]
# and 24 draws, each argument log-uniform in [1e-3, 1e3]
POINTS += [tuple(10.0 ** np.random.default_rng(37 + i).uniform(-3, 3, 4)) for i in range(24)]
EDGE = np.array([-1.0, -0.0, 0.0, 1e-300, 0.3, 1.0, 2.5, 1e8, np.inf, np.nan])


def carlson():
    """3.: values against SciPy on the edge grid; derivatives against mpmath at POINTS."""
    from scipy import special

    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api

    values = [0, 0]
    first = [0, 0, 0]  # agree, differ, refused
    second = [0, 0, 0]
    for name, k in CARLSON.items():
        letters = "xyzp"[:k]
        text = f"scipy.special.{name}({', '.join(letters)})"
        grid = {c: g.ravel() for c, g in zip(letters, np.meshgrid(*([EDGE] * k), indexing="ij"))}
        try:
            ours = api.evaluate(text, grid)
            with np.errstate(all="ignore"):
                theirs = getattr(special, name)(*grid.values())
            same = (ours == theirs) | (np.isnan(ours) & np.isnan(theirs))
            values[0] += int(same.sum())
            values[1] += int((~same).sum())
        except JacError:
            values[1] += EDGE.size ** k
        f = getattr(mpmath, name)
        for point in POINTS:
            b = {c: np.array(v) for c, v in zip(letters, point)}
            args = [mpmath.mpf(v) for v in point[:k]]
            try:
                jac = api.jacobian(text, b)
                for i, c in enumerate(letters):
                    exact = float(mpmath.diff(f, args, tuple(int(j == i) for j in range(k))))
                    first[0 if abs(jac[c] - exact) <= 1e-9 * abs(exact) else 1] += 1
            except JacError:
                first[2] += k
            try:
                hes = api.hessian(text, b)
                for i, c in enumerate(letters):
                    for j, d in enumerate(letters):
                        exact = float(mpmath.diff(f, args, tuple((m == i) + (m == j) for m in range(k))))
                        second[0 if abs(hes[(c, d)] - exact) <= 1e-9 * abs(exact) else 1] += 1
            except JacError:
                second[2] += k * k
    print(f"3. Carlson values against SciPy: {values[0]} equal, {values[1]} differ or refused; first derivatives "
          f"against mpmath: {first[0]} agree, {first[1]} differ, {first[2]} refused; second: {second[0]} agree, "
          f"{second[1]} differ, {second[2]} refused")


def _mp_lu(a):
    n = a.rows
    m = a.copy()
    for k in range(n):
        p = max(range(k, n), key=lambda i: abs(m[i, k]))
        for j in range(n):
            m[k, j], m[p, j] = m[p, j], m[k, j]
        for i in range(k + 1, n):
            m[i, k] /= m[k, k]
            for j in range(k + 1, n):
                m[i, j] -= m[i, k] * m[k, j]
    low = mpmath.matrix(n, n)
    up = mpmath.matrix(n, n)
    for i in range(n):
        for j in range(n):
            if j < i:
                low[i, j] = m[i, j]
            else:
                up[i, j] = m[i, j]
                low[i, j] = 1 if i == j else 0
    return low, up


def _np(m):
    return np.array(m.tolist(), dtype=float)


def lu():
    """4.: true errors of lu against jac's warning."""
    from jacobi_cli.engine import conditioning
    from jacobi_cli.tools import api

    cut = conditioning.threshold(np.float64)
    rng = np.random.default_rng(37)
    tally = {"past": 0, "past warned": 0, "false": 0, "well": 0, "well warned": 0}
    h = mpmath.mpf("1e-20")
    for draw in range(60):
        a = rng.standard_normal((4, 4))
        kind = draw % 3
        if kind == 0:  # the small pivot before the last: two leading columns nearly dependent
            a[:, 1] = a[:, 0] * rng.standard_normal() + 10.0 ** -rng.uniform(4, 12) * rng.standard_normal(4)
        elif kind == 1:  # singular only in its last direction
            u, _, vt = np.linalg.svd(a)
            a = u @ np.diag([3.0, 2.0, 1.0, 10.0 ** -rng.uniform(4, 14)]) @ vt
        d = rng.standard_normal((4, 4))
        low, up = _mp_lu(mpmath.matrix(a.tolist()))
        ours_l, ours_u = (api.evaluate(f"torch.linalg.lu(A).{p}", {"A": a}) for p in "LU")
        err_value = max(np.max(np.abs(ours_l - _np(low))) / np.max(np.abs(_np(low))),
                        np.max(np.abs(ours_u - _np(up))) / np.max(np.abs(_np(up))))
        plus = _mp_lu(mpmath.matrix((mpmath.matrix(a.tolist()) + h * mpmath.matrix(d.tolist())).tolist()))
        minus = _mp_lu(mpmath.matrix((mpmath.matrix(a.tolist()) - h * mpmath.matrix(d.tolist())).tolist()))
        err_derivative = 0.0
        for i, part in enumerate("LU"):
            exact = _np((plus[i] - minus[i]) / (2 * h))
            jvp = api.jvp(f"torch.linalg.lu(A).{part}", {"A": a}, {"A": d})
            err_derivative = max(err_derivative, np.max(np.abs(jvp - exact)) / np.max(np.abs(exact)))
        problem = api.prepare("torch.linalg.lu(A).U.sum() + torch.linalg.lu(A).L.sum()", {"A": a})
        warned = {r for w in conditioning.estimates(problem, [("value", None), ("jvp", "A")]) for r in w.results}
        for err, where in ((err_value, "value"), (err_derivative, "jvp")):
            if kind == 2:
                tally["well"] += 1
                tally["well warned"] += where in warned
            elif err > cut:
                tally["past"] += 1
                tally["past warned"] += where in warned
            elif err < cut / 100 and where in warned:
                tally["false"] += 1
    print(f"4. lu: results past √eps {tally['past']}, warned {tally['past warned']}; warned below √eps/100 "
          f"{tally['false']}; well-conditioned results {tally['well']}, warned {tally['well warned']}")


if __name__ == "__main__":
    names()
    polynomials()
    carlson()
    lu()
