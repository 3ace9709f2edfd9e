"""Derivatives through eigenvalues and singular values at REPEATED values (session 33), run by the jac of the
checkout TREE and checked against one-sided and central differences and, where installed, PyTorch:

    PYTHONPATH=. /work/venv/bin/python benchmarks/spectral33_probe.py TREE

Each case (an expression at a matrix with repeated values, or a control with distinct ones) is asked in five modes:
rev / fwd (the full Jacobian by reverse / forward passes), vjp (a random cotangent), jvp (a random tangent), hess.
The derivative is *defined* where the one-sided differences agree (D+ = D-, to 1e-4) along every direction the
mode reads (the basis, the tangent; the cotangent's combination of rows); then the answer must be central
differences' (and PyTorch's reverse one, where jac answers and torch is installed).

Outcomes: agree; kink (no derivative, and jac answers central differences', or PyTorch's: the even split of
max at a tie LAPACK gives bit for bit, as max(x) at a tie); refused (why: the start of the message); WRONG (an answer where no
derivative exists, or another value than central differences'); CRASH (not a JacError). Exit 1 on WRONG or
CRASH. The last lines count the outcomes per mode (session 33b: forward mode and Hessians). Run by hand, never
as a test.
"""
import collections
import sys

import numpy as np

sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else ".")
from jacobi_cli import errors  # noqa: E402
from jacobi_cli.tools import api  # noqa: E402

try:
    import torch
except ImportError:  # pragma: no cover - the probe runs without PyTorch, checking differences alone
    torch = None

rng = np.random.default_rng(3333)


def rotation(n):
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return q


def sym(d):
    q = rotation(len(d))
    a = q @ np.diag(d) @ q.T
    return (a + a.T) / 2


def rect(m, d):
    return rotation(m)[:, :len(d)] @ np.diag(d) @ rotation(len(d)).T


MATRICES = {
    "eig 2,2,1": sym([2.0, 2.0, 1.0]), "eig 3,1,1": sym([3.0, 1.0, 1.0]), "eig 2,2,2": sym([2.0, 2.0, 2.0]),
    "eig 4,4,1,1": sym([4.0, 4.0, 1.0, 1.0]), "eig 3,2,1": sym([3.0, 2.0, 1.0]), "eig I": np.eye(3),
    "svd 2,2,1": rect(4, [2.0, 2.0, 1.0]), "svd 3,1,1": rect(3, [3.0, 1.0, 1.0]), "svd 2,2 wide": rect(3, [2.0, 2.0]).T.copy(),
    "svd 3,2,1": rect(4, [3.0, 2.0, 1.0]),
}
L = "torch.linalg."
EIG_CASES = [L + "eigvalsh(A)", "np.linalg.eigvalsh(A)", L + "eigh(A)[0]", L + "eigvalsh(A)[0]", L + "eigvalsh(A)[-1]",
             L + "eigvalsh(A).sum()", f"({L}eigvalsh(A) ** 2).sum()", f"torch.exp({L}eigvalsh(A)).sum()",
             f"{L}eigvalsh(A).max()", f"{L}eigvalsh(A) @ torch.tensor([1.0, 2.0, 3.0, 4.0][:A.shape[0]])",
             "jnp.linalg.eigvalsh(A)[1]"]
SVD_CASES = [L + "svdvals(A)", "np.linalg.svd(A)[1]", L + "svdvals(A)[0]", L + "svdvals(A).sum()",
             L + "matrix_norm(A, 'nuc')", L + "matrix_norm(A, 2)", "np.linalg.norm(A, 2)", L + "matrix_norm(A, -2)",
             L + "cond(A)", f"({L}svdvals(A) ** 2).sum()"]


def value(expr, a):
    return np.asarray(api.evaluate(expr, {"A": a}), dtype=float)


def one_sided(expr, a, e, h=1e-6):
    """(D+, D-, central) along the direction e."""
    y0, yp, ym = value(expr, a), value(expr, a + h * e), value(expr, a - h * e)
    return (yp - y0) / h, (y0 - ym) / h, (yp - ym) / (2 * h)


def directional(expr, a, e):
    """(defined, central) of the derivative along e."""
    dp, dm, c = one_sided(expr, a, e)
    return bool(np.allclose(dp, dm, atol=1e-4, rtol=1e-4)), c


def basis(a):
    for idx in np.ndindex(a.shape):
        e = np.zeros_like(a)
        e[idx] = 1.0
        yield idx, e


def reference_jacobian(expr, a):
    y = value(expr, a)
    J, ok = np.zeros(y.shape + a.shape), True
    for idx, e in basis(a):
        d, c = directional(expr, a, e)
        ok &= d
        J[(...,) + idx] = c
    return ok, J


def torch_jacobian(expr, a):
    if torch is None or not expr.startswith(("torch", "(torch")):
        return None
    fn = eval("lambda A: " + expr, {"torch": torch})  # the probe's own texts, PyTorch's spelling
    try:
        return torch.autograd.functional.jacobian(fn, torch.tensor(a)).numpy()
    except Exception:  # noqa: BLE001 - a PyTorch refusal is no reference
        return None


def close(x, y):
    return np.allclose(np.asarray(x, float), np.asarray(y, float), rtol=1e-5, atol=1e-6)


def judge(answer, defined, want, theirs=None):
    if defined:
        return "agree" if close(answer, want) else "WRONG (not central differences')"
    if close(answer, want):
        return "kink (central differences')"
    if theirs is not None and close(answer, theirs):  # max of eigenvalues tied bit for bit: the 1/k split
        return "kink (PyTorch's split at a tie)"
    return "WRONG (no derivative here)"


def run_mode(expr, a, mode):
    y = value(expr, a)
    if mode in ("rev", "fwd"):
        defined, want = reference_jacobian(expr, a)
        got = api.jacobian(expr, {"A": a}, mode={"rev": "reverse", "fwd": "forward"}[mode])["A"]
        ref = torch_jacobian(expr, a)
        out = judge(got, defined, want, ref)
        if out == "agree" and ref is not None and not close(got, ref):
            out = "agree (PyTorch differs)"
        return out
    if mode == "vjp":
        v = rng.standard_normal(y.shape)
        _, J = reference_jacobian(expr, a)
        ok = True  # v·y's one-sided differences along the basis
        for _, e in basis(a):
            dp, dm, _ = one_sided(expr, a, e)
            ok &= bool(np.allclose(np.sum(v * dp), np.sum(v * dm), atol=1e-4, rtol=1e-4))
        got = api.vjp(expr, {"A": a}, v=v)["A"]
        ref = torch_jacobian(expr, a)
        return judge(got, ok, np.tensordot(v, J, axes=y.ndim), None if ref is None else np.tensordot(v, ref, y.ndim))
    if mode == "jvp":
        t = rng.standard_normal(a.shape)
        defined, c = directional(expr, a, t)
        ref = torch_jacobian(expr, a)  # PyTorch's J·t: max's even split at a tie, as rev / fwd are judged
        return judge(api.jvp(expr, {"A": a}, tangents={"A": t}), defined, c,
                     None if ref is None else np.tensordot(ref, t, axes=t.ndim))
    # hess: the Hessian against central differences of the reverse gradient (defined where both one-sided
    # differences of the gradient agree: the gradient itself must be defined on both sides)
    got = api.hessian(expr, {"A": a})[("A", "A")]
    h, ok, want = 1e-5, True, np.zeros(got.shape)
    g0 = api.jacobian(expr, {"A": a}, mode="reverse")["A"]
    for idx, e in basis(a):
        gp = api.jacobian(expr, {"A": a + h * e}, mode="reverse")["A"]
        gm = api.jacobian(expr, {"A": a - h * e}, mode="reverse")["A"]
        ok &= np.allclose((gp - g0) / h, (g0 - gm) / h, atol=1e-3, rtol=1e-3)
        want[(Ellipsis,) + idx] = (gp - gm) / (2 * h)
    return judge(got, ok, want)


def outcome(expr, a, mode):
    try:
        return run_mode(expr, a, mode)
    except errors.JacError as err:
        text = str(err).split("\n")[0]
        return "refused (" + text[:70] + ")"
    except Exception as err:  # noqa: BLE001 - reported, the probe goes on
        return f"CRASH ({type(err).__name__}: {str(err)[:60]})"


def main():
    counts, bad, per_mode = collections.Counter(), 0, collections.Counter()
    print(f"{'case':62} {'matrix':13} {'mode':5} outcome")
    for group, cases in (("eig", EIG_CASES), ("svd", SVD_CASES)):
        for name, a in MATRICES.items():
            if not name.startswith(group):
                continue
            for expr in cases:
                if "cond" in expr and a.shape[0] != a.shape[1]:
                    continue
                if "[1.0, 2.0, 3.0, 4.0]" in expr:
                    expr = expr.replace("[1.0, 2.0, 3.0, 4.0][:A.shape[0]]", str([1.0, 2.0, 3.0, 4.0][:a.shape[0]]))
                for mode in ("rev", "fwd", "vjp", "jvp", "hess"):
                    out = outcome(expr, a, mode)
                    kind = out.split(" (")[0]
                    counts[kind] += 1
                    per_mode[mode, kind] += 1
                    bad += kind in ("WRONG", "CRASH")
                    print(f"{expr:62} {name:13} {mode:5} {out}")
    print("\n" + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    for mode in ("rev", "fwd", "vjp", "jvp", "hess"):  # session 33b: forward mode and Hessians counted apart
        print(f"{mode:5} " + ", ".join(f"{k}: {v}" for (m, k), v in sorted(per_mode.items()) if m == mode))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
