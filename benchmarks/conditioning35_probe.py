"""Session 35: the conditioning warning everywhere digits are lost, against mpmath at 40 digits.

Run: PYTHONPATH=. python benchmarks/conditioning35_probe.py [--quick]   (about two minutes; --quick: one seed)

Per case: the true error of jac's value and of its derivative along random directions (mpmath's central
difference at 40 digits, h = 1e-18), each relative to the largest element of the exact result; and the
``conditioning`` warning's estimate for each (``-`` where none is given). Counted at the end:
- cases whose true error passes √eps (the warning's threshold): warned / unwarned;
- cases losing more than 3 digits (true error past 1000·eps) but below √eps: warned / unwarned (warning not due);
- false warnings: warned where the true error is below √eps/100 (two orders under the threshold);
- well-conditioned draws (cond < 100): any warning is false (target 0);
- --batch: a stack of 16 matrices, 2 ill-conditioned: the examples the warning names against the examples whose
  true error passes √eps;
- timing: jac vjp --batch of a well-conditioned solve (B = 2000, 8 × 8) and of the batch benchmark's G1 case.
Run it with PYTHONPATH of an older checkout for the "before" column (it needs only ``conditioning.estimates``).
"""

import sys
import time

import mpmath
import numpy as np

from jacobi_cli.engine import conditioning
from jacobi_cli.tools import api, report

EPS = np.finfo(np.float64).eps
CUT = conditioning.threshold(np.float64)
QUICK = "--quick" in sys.argv
mpmath.mp.dps = 40
H = mpmath.mpf("1e-18")


def mpm(a):
    return mpmath.matrix(np.asarray(a).tolist())


def tonp(m):
    return np.array(m.tolist(), dtype=float) if isinstance(m, mpmath.matrix) else np.array(float(m))


def rotation(n, seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    return q


def graded(m, n, k, seed):
    """Q₁ diag(logspace(0, -k)) Q₂ᵀ: condition number 10^k, singular values spread evenly in the exponent."""
    return rotation(m, seed)[:, :n] @ np.diag(np.logspace(0, -k, n)) @ rotation(n, seed + 100).T


def spd(n, k, seed):
    a = rotation(n, seed) @ np.diag(np.logspace(0, -k, n)) @ rotation(n, seed).T
    return (a + a.T) / 2


def parallel(m, n, delta, seed):
    """Columns 0 and 1 apart by ``delta``: QR's R[1, 1] about delta."""
    b = np.random.default_rng(seed).standard_normal((m, n))
    b[:, 1] = b[:, 0] + delta * b[:, 1]
    return b


def hilbert(n):
    return np.array([[1.0 / (i + j + 1) for j in range(n)] for i in range(n)])


def sign_fix(ours, exact_at):
    """mpmath's QR signs made NumPy's (the signs of R's diagonal do not move under a small perturbation)."""
    def f(A):
        q, r = exact_at(A)
        s = np.sign(np.diag(ours)) * np.sign(np.array([float(r[i, i]) for i in range(len(np.diag(ours)))]))
        return q, r, mpmath.diag(s.tolist())
    return f


def mp_qr(a, part):
    k = min(a.shape)
    ours = np.linalg.qr(a)[1]
    fix = sign_fix(ours, mpmath.qr)

    def f(A):
        q, r, s = fix(A)
        q, r = q[:, :k], r[:k, :]
        return s * r if part == "R" else q * s
    return f


def mp_cond(A):
    s = mpmath.svd_r(A, compute_uv=False)
    return max(s) / min(s)


def mp_smin(A):
    return min(mpmath.svd_r(A, compute_uv=False))


def mp_top(A):
    return max(mpmath.svd_r(A, compute_uv=False))


def mp_lstsq(A, b):
    return mpmath.lu_solve(A.T * A, A.T * b)


def mp_pinv(A):
    return mpmath.inverse(A.T * A) * A.T


# (label, expression, {name: array}, mpmath f of the mp matrices in that order, name differentiated)
def cases(seeds):
    out = []
    for s in seeds:
        for k in (2, 6, 8, 10, 12, 14):
            out.append((f"cholesky spd cond 1e{k} seed {s}", "np.linalg.cholesky(A)", {"A": spd(5, k, s)},
                        mpmath.cholesky))
        for n in (6, 8, 10, 12):
            out.append((f"cholesky hilbert({n})", "np.linalg.cholesky(A)", {"A": hilbert(n)}, mpmath.cholesky)) \
                if s == seeds[0] else None
        for m, n in ((5, 5), (6, 4)):
            for k in (2, 8, 10, 12, 14):
                a = graded(m, n, k, s)
                out.append((f"qr R {m}x{n} graded 1e{k} seed {s}", "np.linalg.qr(A)[1]", {"A": a}, mp_qr(a, "R")))
                out.append((f"qr Q {m}x{n} graded 1e{k} seed {s}", "np.linalg.qr(A)[0]", {"A": a}, mp_qr(a, "Q")))
            for d in (1e-4, 1e-7, 1e-9, 1e-11):
                a = parallel(m, n, d, s)
                out.append((f"qr R {m}x{n} parallel {d:.0e} seed {s}", "np.linalg.qr(A)[1]", {"A": a},
                            mp_qr(a, "R")))
                out.append((f"qr Q {m}x{n} parallel {d:.0e} seed {s}", "np.linalg.qr(A)[0]", {"A": a},
                            mp_qr(a, "Q")))
        for k in (2, 6, 8, 10, 12, 14):
            a = graded(5, 5, k, s)
            out.append((f"cond graded 1e{k} seed {s}", "np.linalg.cond(A)", {"A": a}, mp_cond))
            out.append((f"norm(A, -2) graded 1e{k} seed {s}", "np.linalg.norm(A, -2)", {"A": a}, mp_smin))
            out.append((f"norm(A, 2) graded 1e{k} seed {s}", "np.linalg.norm(A, 2)", {"A": a}, mp_top))
            out.append((f"svdvals(A).sum() graded 1e{k} seed {s}", "np.linalg.svd(A, compute_uv=False).sum()",
                        {"A": a}, lambda A: sum(mpmath.svd_r(A, compute_uv=False))))
            out.append((f"log(eigvalsh) .sum() spd 1e{k} seed {s}", "np.log(np.linalg.eigvalsh(A)).sum()",
                        {"A": spd(5, k, s)}, lambda A: mpmath.log(mpmath.det(A))))
            t = graded(6, 4, k, s)
            out.append((f"lstsq 6x4 graded 1e{k} seed {s}", "np.linalg.lstsq(A, b)[0]", {"A": t, "b": np.ones(6)},
                        mp_lstsq))
            out.append((f"pinv 6x4 graded 1e{k} seed {s}", "np.linalg.pinv(A)", {"A": t}, mp_pinv))
            p = spd(5, k, s)
            out.append((f"cho_solve spd 1e{k} seed {s}", "scipy.linalg.cho_solve(scipy.linalg.cho_factor(A), b)",
                        {"A": p, "b": np.ones(5)}, lambda A, b: mpmath.lu_solve(A, b)))
            out.append((f"lu_solve graded 1e{k} seed {s}", "scipy.linalg.lu_solve(scipy.linalg.lu_factor(A), b)",
                        {"A": a, "b": np.ones(5)}, lambda A, b: mpmath.lu_solve(A, b)))
            u = np.triu(graded(5, 5, k, s)) + np.diag(np.logspace(0, -k, 5))
            out.append((f"solve_triangular 1e{k} seed {s}", "torch.linalg.solve_triangular(A, b, upper=True)",
                        {"A": u, "b": np.ones((5, 1))}, lambda A, b: mpmath.lu_solve(A, b)))
            out.append((f"solve_ex graded 1e{k} seed {s}", "torch.linalg.solve_ex(A, b)[0]",
                        {"A": a, "b": np.ones(5)}, lambda A, b: mpmath.lu_solve(A, b)))
            out.append((f"logdet spd 1e{k} seed {s}", "torch.logdet(A)", {"A": p}, lambda A: mpmath.log(mpmath.det(A))))
        for g in (1e-12, 1e-10, 1e-8, 1e-6):
            a = rotation(5, s)[:, :4] @ np.diag([2.0 + g, 2.0, 1.0, 0.5]) @ rotation(4, s + 1).T
            out.append((f"norm(A, 2) top gap {g:.0e} seed {s}", "np.linalg.norm(A, 2)", {"A": a}, mp_top))
        for t in (1e2, 1e6, 1e8, 3e8):
            a = np.array([[0.0, t], [-t, 0.0]]) + 0.1 * np.random.default_rng(s).standard_normal((2, 2))
            out.append((f"expm skew norm {t:.0e} seed {s}", "scipy.linalg.expm(A)", {"A": a}, mpmath.expm))
        for t in (1e8, 1e9):
            a = np.diag([-t, 0.0]) + 0.1 * np.random.default_rng(s).standard_normal((2, 2))
            out.append((f"expm diag(-{t:.0e}, 0) seed {s}", "scipy.linalg.expm(A)", {"A": a}, mpmath.expm))
        a = np.array([[-1e9, 0.3], [0.2, -1.0]])
        out.append(("expm [[-1e9, 0.3], [0.2, -1]]", "scipy.linalg.expm(A)", {"A": a}, mpmath.expm)) \
            if s == seeds[0] else None
    return [c for c in out if c is not None]


def truth(expr, env, f, seed):
    """(value error, derivative error): jac's against mpmath's, each relative to the exact result's largest."""
    names = list(env)
    mp_args = [mpm(env[n]) if np.ndim(env[n]) else mpmath.mpf(float(env[n])) for n in names]
    exact = tonp(f(*mp_args))
    got = np.asarray(api.evaluate(expr, env))
    value = float(np.max(np.abs(got - exact.reshape(got.shape))) / np.max(np.abs(exact)))
    jac = api.jacobian(expr, env, wrt=["A"])["A"]
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(2):
        d = rng.standard_normal(env["A"].shape)
        if "cholesky" in expr or "cho_" in expr or "logdet" in expr or "eigvalsh" in expr:
            d = d + d.T
        if "triangular" in expr:
            d = np.triu(d)
        moved = [mp_args[0] + H * mpm(d)] + mp_args[1:], [mp_args[0] - H * mpm(d)] + mp_args[1:]
        ex = tonp((f(*moved[0]) - f(*moved[1])) / (2 * H))  # the difference taken at 40 digits
        ours = np.tensordot(np.asarray(jac), d, axes=d.ndim)
        worst = max(worst, float(np.max(np.abs(ours - ex.reshape(ours.shape))) / np.max(np.abs(ex))))
    return value, worst


def warned(expr, env):
    """(value estimate, derivative estimate), None where not warned."""
    problem = api.prepare(expr, env)
    found = conditioning.estimates(problem, [("value", None), ("∂y/∂A", "A")])
    pick = (lambda where: max((w.relative_error for w in found if where in (w.results or (w.where,))),
                              default=None))
    return pick("value"), pick("∂y/∂A")


def verdict(error, est):
    if est is None:
        return "silent, right" if error <= CUT else "SILENT PAST √eps"
    if error < CUT / 100:
        return "FALSE WARNING"
    return f"warned ×{est / max(error, EPS):.1g}"


def main():
    seeds = (1,) if QUICK else (1, 2)
    counts = {"past": [0, 0], "lost3": [0, 0], "false": 0, "results": 0}
    silent_rows = []
    for label, expr, env, f in cases(seeds):
        try:
            errors = truth(expr, env, f, 7)
            ests = warned(expr, env)
        except Exception as err:  # a refusal (jac's JacError) is an answer too: no silent digits
            print(f"{label:44s} refused: {str(err)[:80]}")
            continue
        line = []
        for what, error, est in zip(("value", "deriv"), errors, ests):
            counts["results"] += 1
            if error > CUT:
                counts["past"][est is None] += 1
                if est is None:
                    silent_rows.append(f"{label} {what} {error:.1e}")
            elif error > 1000 * EPS:
                counts["lost3"][est is None] += 1
            if est is not None and error < CUT / 100:
                counts["false"] += 1
            line.append(f"{what} {error:8.1e} est {('-' if est is None else f'{est:.0e}'):>6s} {verdict(error, est):16s}")
        print(f"{label:44s} " + " | ".join(line))
    wells = 0
    draws = 0
    exprs = ["np.linalg.cholesky(A)", "np.linalg.qr(A)[0]", "np.linalg.qr(A)[1]", "np.linalg.cond(A)",
             "np.linalg.norm(A, -2)", "np.linalg.norm(A, 2)", "np.linalg.pinv(A)", "torch.logdet(A)",
             "np.log(np.linalg.eigvalsh(A)).sum()", "np.linalg.svd(A, compute_uv=False)", "scipy.linalg.expm(A)",
             "np.linalg.inv(A)"]
    for s in range(5 if QUICK else 20):
        a = np.random.default_rng(1000 + s).standard_normal((4, 4))
        sp = a @ a.T + 4 * np.eye(4)
        for expr in exprs:
            m = sp if ("cholesky" in expr or "logdet" in expr or "eigvalsh" in expr) else a
            if np.linalg.cond(m) > 100:
                continue
            draws += 1
            v, d = warned(expr, {"A": m})
            wells += (v is not None) or (d is not None)
    print()
    print(f"results (value, derivative) measured: {counts['results']}")
    print(f"true error past √eps: warned {counts['past'][0]}, unwarned {counts['past'][1]}")
    for row in silent_rows:
        print(f"  unwarned: {row}")
    print(f"more than 3 digits lost, below √eps (no warning due): warned {counts['lost3'][0]}, "
          f"unwarned {counts['lost3'][1]}")
    print(f"false warnings (true error below √eps/100): {counts['false']}")
    print(f"well-conditioned draws (cond < 100): {draws}, warned {wells}")
    batch_probe()
    timing()


def batch_probe():
    rng = np.random.default_rng(5)
    stack = np.stack([rng.standard_normal((5, 5)) + 5 * np.eye(5) for _ in range(16)])
    stack[3], stack[11] = graded(5, 5, 12, 3), graded(5, 5, 10, 4)
    b = np.ones((16, 5))
    exact = [tonp(mpmath.lu_solve(mpm(a), mpm(np.ones(5)))) for a in stack]
    got = [np.asarray(api.evaluate("np.linalg.solve(A, b)", {"A": a, "b": np.ones(5)})) for a in stack]
    truly = [i for i in range(16)
             if np.max(np.abs(got[i].ravel() - exact[i].ravel())) / np.max(np.abs(exact[i])) > CUT]
    named = []
    for cmd in ("eval", "vjp"):
        if cmd == "eval":
            r = report.eval_report("np.linalg.solve(A, b)", {"A": stack, "b": b}, batch=["A", "b"])
        else:
            r = report.vjp_report("np.linalg.solve(A, b)", {"A": stack, "b": b}, v="ones", batch=["A", "b"])
        ws = [w for w in r.get("warnings", []) if w["kind"] == "conditioning"]
        named.append((cmd, [w.get("examples", "no examples key") for w in ws], ws[0]["message"][:70] if ws else ""))
    print(f"--batch (16 examples, solve): value error past √eps in examples {truly}; warned: {named}")


def timing():
    rng = np.random.default_rng(0)
    stack = np.stack([rng.standard_normal((8, 8)) + 8 * np.eye(8) for _ in range(2000)])
    env = {"A": stack, "b": np.ones((2000, 8))}
    w, x = rng.standard_normal((10, 100)), rng.standard_normal((1000, 100))
    for label, run in (("vjp --batch solve, B 2000, 8x8 (well-conditioned)",
                        lambda: report.vjp_report("np.linalg.solve(A, b).sum()", env, batch=["A", "b"])),
                       ("vjp --batch G1 log(softmax(W @ x)[0]), B 1000, n 100",
                        lambda: report.vjp_report("log(softmax(W @ x)[0])", {"x": x, "W": w}, wrt=["W"],
                                                  batch=["x"]))):
        run()
        times = []
        for _ in range(3):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        print(f"timing: {label}: median of 3 {sorted(times)[1]:.3f} s")


if __name__ == "__main__":
    main()
