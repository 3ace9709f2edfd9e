"""Session 34: the conditioning warning's estimate against the true error (mpmath at 60 digits).

Run: PYTHONPATH=. python benchmarks/conditioning34_probe.py. Per case: the error of jac's answer relative to its
largest element, the warning's relative_error (or "-" where none is given), and whether the warning is right to
be there (error past √eps) or to be absent.
"""

import sys

import numpy as np

sys.path.insert(0, "tests")
from test_conditioning34 import hilbert, mp_eigenvectors, mp_singular, near, rotation  # noqa: E402

from jacobi_cli.engine import conditioning  # noqa: E402
from jacobi_cli.tools import api  # noqa: E402

CUT = conditioning.threshold(np.float64)


def estimate(expr, env, where):
    problem = api.prepare(expr, env)
    found = conditioning.estimates(problem, [("value", None)] + [(f"∂y/∂{n}", n) for n in env])
    return max((w.relative_error for w in found if where in w.results), default=None)


def row(label, error, est):
    if est is None:
        verdict = "silent, right" if error <= CUT else "SILENT WHERE DIGITS ARE LOST"
    else:
        verdict = f"warned, error/estimate {error / est:.2g}" + ("" if error <= 10 * est else " UNDER BY MORE THAN 10")
    print(f"{label:48s} error {error:8.1e}  estimate {('-' if est is None else f'{est:.1e}'):>8s}  {verdict}")


for g in (3e-14, 1e-13, 1e-12, 1e-10, 1e-8, 1e-6):
    a = near(g)
    exact = np.stack([np.outer(v, v) for v in mp_eigenvectors(a)])
    got = np.asarray(api.jacobian("np.linalg.eigvalsh(A)", {"A": a})["A"])
    row(f"eigvalsh, gap {g:.0e}", np.abs(got - exact).max() / np.abs(exact).max(),
        estimate("np.linalg.eigvalsh(A)", {"A": a}, "∂y/∂A"))
    got = np.asarray(api.jacobian("np.linalg.eigvalsh(A).sum()", {"A": a})["A"])
    row(f"eigvalsh(A).sum(), gap {g:.0e}", np.abs(got - np.eye(4)).max(),
        estimate("np.linalg.eigvalsh(A).sum()", {"A": a}, "∂y/∂A"))
for m in (4, 5):
    for g in (1e-13, 1e-12, 1e-10, 1e-8):
        a = rotation(m, 1)[:, :4] @ np.diag([3.0, 2.0, 1.0 + g, 1.0]) @ rotation(4, 2).T
        us, vs = mp_singular(a)
        exact = np.stack([np.outer(x, y) for x, y in zip(us, vs)])
        got = np.asarray(api.jacobian("np.linalg.svd(A, compute_uv=False)", {"A": a})["A"])
        row(f"svdvals {m}x4, gap {g:.0e}", np.abs(got - exact).max() / np.abs(exact).max(),
            estimate("np.linalg.svd(A, compute_uv=False)", {"A": a}, "∂y/∂A"))
import mpmath  # noqa: E402

for n in (4, 6, 7, 8, 9, 10, 11):
    a, b = hilbert(n), np.ones(n)
    mpmath.mp.dps = 60
    exact = np.array([float(x) for x in mpmath.lu_solve(mpmath.matrix(a.tolist()), mpmath.matrix(b.tolist()))])
    got = np.asarray(api.evaluate("np.linalg.solve(A, b)", {"A": a, "b": b}))
    row(f"solve(hilbert({n}), 1) value", np.abs(got - exact).max() / np.abs(exact).max(),
        estimate("np.linalg.solve(A, b)", {"A": a, "b": b}, "value"))
    inv = np.array(mpmath.inverse(mpmath.matrix(a.tolist())).tolist(), dtype=float)
    got = np.asarray(api.jacobian("np.linalg.solve(A, b)", {"A": a, "b": b})["b"])
    row(f"solve(hilbert({n}), 1) ∂y/∂b = A⁻¹", np.abs(got - inv).max() / np.abs(inv).max(),
        estimate("np.linalg.solve(A, b)", {"A": a, "b": b}, "∂y/∂b"))
