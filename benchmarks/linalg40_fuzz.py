"""Linear algebra at degenerate inputs (session 40): jac against the libraries where derivatives stop existing.

Every text of the linear-algebra vocabulary (numpy.linalg, torch.linalg, jax.numpy.linalg, scipy.linalg and the
bare / method spellings: det, slogdet, inv, pinv, solve, lstsq, cholesky, qr, svd, svdvals, eig*, norms of every
ord, cond, matrix_rank, matrix_power, matrix_exp / expm, lu / lu_factor / lu_solve, triangular solves, cross,
tensorsolve / tensorinv, multi_dot, trace, vander, kron) is evaluated at the degenerate matrices it can be given:
singular and nearly singular (condition 1e9), zero, repeated eigenvalues / singular values, indefinite (cholesky),
negative determinant, wide and tall, rank-deficient, batched, 1x1 and 0x0, and a random one as the control.

Per (text, matrix) four results: the value, the Jacobian by reverse mode and by forward mode (``api.jacobian``), and
the Hessian of a scalar output. The reference: the text's own library for the value (NumPy / SciPy run the text,
``jnp`` texts JAX with x64); for derivatives PyTorch's ``torch.func.jacrev`` / ``jacfwd`` / ``hessian`` of the
torch text, JAX's of the ``jnp`` / ``jax.scipy`` text (and, for a NumPy / SciPy text, of its ``jnp`` twin).

Verdicts, per result:
- AGREE: both finite and equal within 1e-9 (1e-6 at condition 1e9) of the largest entry; or both refuse.
- REFUSED: jac refuses (a JacError) where the library answers: allowed (the message is printed with -v).
- SILENT: the library's answer holds NaN / inf (or it raises) and jac gives finite numbers: the worst case.
- WRONG: both finite, and they differ.
- NONFINITE: jac's holds NaN / inf where the library's is finite.
- CRASH: an exception that is not a JacError. Must be none.
- LIBWRONG: they differ, and central differences (of jac's value, or of its Jacobian for a Hessian) side with jac
  (PyTorch's Hessian of det at eye(3) is NaN, its cond(A, 'fro') raises "modified by an inplace operation").
- ILLCOND: they differ at a matrix singular to working precision (cond > 1e13), and central differences do not
  side with the library: each LAPACK's rounding decides (pivots, signs, 1/σ of a σ of 1e-17), and jac's
  conditioning warning says the digits are gone. (Where the differences side with the library, it stays WRONG:
  det's Hessian there is a polynomial's, as well-conditioned as anywhere.)
- DOCUMENTED: a difference the docs state (logdet's derivative at a negative determinant).
- NOREF: the library has no such function or rule to compare with.

    (ulimit -v 6000000; PYTHONPATH=. python benchmarks/linalg40_fuzz.py [-v] [-k SUBSTRING] [--no-hessian])

Prints one line per finding that is not AGREE / REFUSED, and the counts.
"""

from __future__ import annotations

import argparse
import re
import signal
import time
import warnings
from collections import Counter

import numpy as np

warnings.simplefilter("ignore")

from jacobi_cli.errors import JacError  # noqa: E402
from jacobi_cli.tools import api  # noqa: E402

N = 3


def _orth(rng, n):
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return q


def _spectrum(rng, s, m=None, n=None):
    m = len(s) if m is None else m
    n = len(s) if n is None else n
    u, v = _orth(rng, m)[:, :len(s)], _orth(rng, n)[:, :len(s)]
    return (u * np.asarray(s, dtype=float)) @ v.T


def _sym(rng, w):
    q = _orth(rng, len(w))
    return (q * np.asarray(w, dtype=float)) @ q.T


def matrices(rng) -> dict:
    """``{family: (A, kind)}``; ``kind`` tells which texts take it (square, symmetric, general)."""
    g = rng.standard_normal((N, N))
    neg = g.copy()
    if np.linalg.det(neg) > 0:
        neg[0] *= -1
    one = np.array([[1.5]])
    return {
        "random": (g, "square"),
        "singular": (_spectrum(rng, [2.0, 1.0, 0.0]), "square"),
        "singular2": (_spectrum(rng, [2.0, 0.0, 0.0]), "square"),
        "nearsing": (_spectrum(rng, [2.0, 1.0, 2e-9]), "square"),
        "zero": (np.zeros((N, N)), "square"),
        "negdet": (neg, "square"),
        "repeated_sv": (_spectrum(rng, [2.0, 2.0, 1.0]), "square"),
        "identity": (np.eye(N), "sym"),
        "sym_repeated": (_sym(rng, [2.0, 2.0, 1.0]), "sym"),
        "sym_indefinite": (_sym(rng, [2.0, -1.0, 0.5]), "sym"),
        "sym_psd_singular": (_sym(rng, [2.0, 1.0, 0.0]), "sym"),
        "spd": (_sym(rng, [3.0, 2.0, 1.0]), "sym"),
        "one_by_one": (one, "sym"),
        "one_by_one_zero": (np.zeros((1, 1)), "sym"),
        "empty": (np.zeros((0, 0)), "sym"),
        "wide": (rng.standard_normal((2, 3)), "general"),
        "tall": (rng.standard_normal((3, 2)), "general"),
        "tall_rankdef": (_spectrum(rng, [2.0, 0.0], 3, 2), "general"),
        "wide_rankdef": (_spectrum(rng, [2.0, 0.0], 2, 3), "general"),
        "batched": (np.stack([g, _spectrum(rng, [2.0, 1.0, 0.0])]), "square"),
        "batched_sym": (np.stack([_sym(rng, [3.0, 2.0, 1.0]), _sym(rng, [2.0, 2.0, 1.0])]), "sym"),
    }


# (jac's text, takes: "square" (any square, sym too), "sym" (symmetric only), "general" (any 2-d), needs: extra inputs)
# {L}: torch.linalg / np.linalg / jnp.linalg per namespace; texts with a namespace of their own name it.
TORCH = [
    ("torch.linalg.det(A)", "square"), ("torch.det(A)", "square"), ("A.det()", "square"),
    ("torch.linalg.slogdet(A).logabsdet", "square"), ("torch.linalg.slogdet(A).sign", "square"),
    ("torch.logdet(A)", "square"),
    ("torch.linalg.inv(A)", "square"), ("torch.inverse(A)", "square"), ("torch.linalg.inv_ex(A).inverse", "square"),
    ("torch.linalg.pinv(A)", "general"), ("torch.linalg.pinv(A, hermitian=True)", "sym"),
    ("torch.linalg.solve(A, B)", "square"), ("torch.linalg.solve(A, b)", "square"),
    ("torch.linalg.lstsq(A, C).solution", "general"),
    ("torch.linalg.cholesky(A)", "sym"), ("torch.linalg.cholesky(A, upper=True)", "sym"),
    ("torch.linalg.cholesky_ex(A).L", "sym"), ("torch.cholesky_solve(B, torch.linalg.cholesky(A))", "sym"),
    ("torch.cholesky_inverse(torch.linalg.cholesky(A))", "sym"),
    ("torch.linalg.qr(A).Q", "general"), ("torch.linalg.qr(A).R", "general"),
    ("torch.linalg.qr(A, mode='complete').Q", "general"), ("torch.linalg.qr(A, mode='r').R", "general"),
    ("torch.linalg.svdvals(A)", "general"), ("torch.linalg.svd(A, full_matrices=False).S", "general"),
    ("torch.linalg.svd(A, full_matrices=False).U", "general"),
    ("U, S, Vh = torch.linalg.svd(A, full_matrices=False); U @ Vh", "general"),
    ("U, S, Vh = torch.linalg.svd(A, full_matrices=False); (U * S) @ Vh", "general"),
    ("torch.linalg.eigvalsh(A)", "sym"), ("torch.linalg.eigh(A).eigenvalues", "sym"),
    ("w, V = torch.linalg.eigh(A); V @ torch.diag_embed(w) @ V.mT", "sym"),
    ("w, V = torch.linalg.eigh(A); V ** 2", "sym"),
    ("torch.linalg.eigvals(A).real", "square"), ("torch.linalg.eigvals(A).abs()", "square"),
    ("torch.linalg.eigvalsh(A).sum()", "sym"),
    ("torch.linalg.matrix_norm(A)", "general"), ("torch.linalg.matrix_norm(A, 'nuc')", "general"),
    ("torch.linalg.matrix_norm(A, 2)", "general"), ("torch.linalg.matrix_norm(A, -2)", "general"),
    ("torch.linalg.matrix_norm(A, 1)", "general"), ("torch.linalg.matrix_norm(A, -1)", "general"),
    ("torch.linalg.matrix_norm(A, float('inf'))", "general"), ("torch.linalg.matrix_norm(A, -float('inf'))", "general"),
    ("torch.linalg.norm(A)", "general"), ("torch.linalg.norm(A, 2)", "general"), ("torch.linalg.norm(A, 'nuc')", "general"),
    ("torch.linalg.vector_norm(A)", "general"), ("torch.norm(A)", "general"), ("torch.linalg.norm(A, -2)", "general"),
    ("torch.linalg.cond(A)", "general"), ("torch.linalg.cond(A, 'fro')", "square"), ("torch.linalg.cond(A, 1)", "square"),
    ("torch.linalg.cond(A, -2)", "general"), ("torch.linalg.cond(A, 'nuc')", "square"),
    ("torch.linalg.cond(A, float('inf'))", "square"),
    ("torch.linalg.matrix_rank(A) * A", "general"),
    ("torch.linalg.matrix_power(A, 3)", "square"), ("torch.linalg.matrix_power(A, 0)", "square"),
    ("torch.linalg.matrix_power(A, -1)", "square"), ("torch.linalg.matrix_power(A, -2)", "square"),
    ("torch.linalg.matrix_exp(A)", "square"), ("torch.matrix_exp(A)", "square"),
    ("torch.linalg.lu(A).L", "general"), ("torch.linalg.lu(A).U", "general"),
    ("torch.linalg.lu_factor(A).LU", "square"),
    ("LU, piv = torch.linalg.lu_factor(A); torch.linalg.lu_solve(LU, piv, B)", "square"),
    ("torch.linalg.solve_triangular(A, B, upper=True)", "square"),
    ("torch.linalg.solve_triangular(A, B, upper=False, unitriangular=True)", "square"),
    ("torch.triangular_solve(B, A).solution", "square"),
    ("torch.linalg.cross(A, B)", "square3"), ("torch.cross(A, B, dim=1)", "square3"),
    ("torch.linalg.tensorsolve(A, b)", "square"), ("torch.linalg.tensorinv(A, ind=1)", "square"),
    ("torch.linalg.multi_dot([A, B, A])", "square"), ("torch.trace(A)", "square2"),
    ("torch.linalg.vander(A[0])", "general"), ("torch.kron(A, B)", "square2"),
    ("torch.linalg.det(A) * torch.linalg.inv(A + 3 * torch.eye(A.shape[-1]))", "square"),
]

NUMPY = [
    ("np.linalg.det(A)", "square"), ("np.linalg.slogdet(A)[1]", "square"), ("np.linalg.slogdet(A).sign", "square"),
    ("np.linalg.inv(A)", "square"), ("np.linalg.pinv(A)", "general"), ("np.linalg.pinv(A, hermitian=True)", "sym"),
    ("np.linalg.solve(A, B)", "square"), ("np.linalg.lstsq(A, C, rcond=None)[0]", "general2"),
    ("np.linalg.cholesky(A)", "sym"), ("np.linalg.qr(A)[0]", "general"), ("np.linalg.qr(A)[1]", "general"),
    ("np.linalg.qr(A, mode='r')", "general"), ("np.linalg.qr(A, mode='complete')[0]", "general"),
    ("np.linalg.svd(A, compute_uv=False)", "general"), ("np.linalg.svd(A, full_matrices=False)[0]", "general"),
    ("np.linalg.svdvals(A)", "general"),
    ("np.linalg.eigvalsh(A)", "sym"), ("np.linalg.eigh(A)[0]", "sym"), ("np.linalg.eigh(A)[1]", "sym"),
    ("np.linalg.eigvals(A).real", "square"),
    ("np.linalg.norm(A)", "general"), ("np.linalg.norm(A, 'nuc')", "general2"), ("np.linalg.norm(A, 2)", "general2"),
    ("np.linalg.norm(A, -2)", "general2"), ("np.linalg.norm(A, 1)", "general2"), ("np.linalg.norm(A, -1)", "general2"),
    ("np.linalg.norm(A, np.inf)", "general2"), ("np.linalg.norm(A, -np.inf)", "general2"),
    ("np.linalg.matrix_norm(A, ord=2)", "general"),
    ("np.linalg.cond(A)", "general"), ("np.linalg.cond(A, 'fro')", "square"), ("np.linalg.cond(A, -2)", "general"),
    ("np.linalg.cond(A, 1)", "square"), ("np.linalg.cond(A, np.inf)", "square"),
    ("np.linalg.matrix_rank(A) * A", "general"),
    ("np.linalg.matrix_power(A, 3)", "square"), ("np.linalg.matrix_power(A, -2)", "square"),
    ("np.linalg.matrix_power(A, 0)", "square"),
    ("np.cross(A, B)", "square3"), ("np.linalg.cross(A, B)", "square3"),
    ("np.linalg.tensorsolve(A, b)", "square2"), ("np.linalg.tensorinv(A, ind=1)", "square2"),
    ("np.linalg.multi_dot([A, B, A])", "square2"), ("np.trace(A)", "square2"), ("np.linalg.trace(A)", "square"),
    ("np.vander(A[0])", "general"), ("np.kron(A, B)", "square2"),
]

SCIPY = [
    ("scipy.linalg.expm(A)", "square"), ("scipy.linalg.det(A)", "square"), ("scipy.linalg.inv(A)", "square2"),
    ("scipy.linalg.solve(A, B)", "square2"), ("scipy.linalg.lu(A)[1]", "general2"), ("scipy.linalg.lu(A)[2]", "general2"),
    ("scipy.linalg.lu_factor(A)[0]", "square2"),
    ("scipy.linalg.lu_solve(scipy.linalg.lu_factor(A), B)", "square2"),
    ("scipy.linalg.solve_triangular(A, B)", "square2"), ("scipy.linalg.solve_triangular(A, B, lower=True)", "square2"),
    ("scipy.linalg.cholesky(A)", "sym2"), ("scipy.linalg.cholesky(A, lower=True)", "sym2"),
    ("scipy.linalg.cho_solve(scipy.linalg.cho_factor(A), B)", "sym2"),
    ("scipy.linalg.pinv(A)", "general2"), ("scipy.linalg.svdvals(A)", "general2"),
    ("scipy.linalg.eigvalsh(A)", "sym2"), ("scipy.linalg.eigh(A)[0]", "sym2"), ("scipy.linalg.qr(A)[1]", "general2"),
    ("scipy.linalg.lstsq(A, C)[0]", "general2"), ("scipy.linalg.norm(A, 2)", "general2"),
    ("scipy.linalg.kron(A, B)", "square2"),
]

JAX = [
    ("jnp.linalg.det(A)", "square"), ("jnp.linalg.slogdet(A)[1]", "square"), ("jnp.linalg.inv(A)", "square"),
    ("jnp.linalg.pinv(A)", "general"), ("jnp.linalg.solve(A, B)", "square"), ("jnp.linalg.cholesky(A)", "sym"),
    ("jnp.linalg.qr(A)[1]", "general"), ("jnp.linalg.svd(A, compute_uv=False)", "general"),
    ("jnp.linalg.eigvalsh(A)", "sym"), ("jnp.linalg.eigh(A)[0]", "sym"), ("jnp.linalg.norm(A, 2)", "general2"),
    ("jnp.linalg.norm(A, 'nuc')", "general2"), ("jnp.linalg.norm(A, -2)", "general2"),
    ("jnp.linalg.cond(A)", "general"), ("jnp.linalg.matrix_power(A, -2)", "square"),
    ("jnp.linalg.lstsq(A, C)[0]", "general2"), ("jnp.linalg.tensorinv(A, ind=1)", "square2"),
    ("jnp.linalg.multi_dot([A, B, A])", "square2"), ("jnp.linalg.matrix_rank(A) * A", "general"),
    ("jax.scipy.linalg.expm(A)", "square"), ("jax.scipy.linalg.det(A)", "square2"),
    ("jax.scipy.linalg.lu(A)[2]", "general2"), ("jax.scipy.linalg.solve_triangular(A, B)", "square2"),
    ("jax.scipy.linalg.cho_solve(jax.scipy.linalg.cho_factor(A), B)", "sym2"),
]

FAMILIES_OF = {  # which matrix kinds a text takes; a trailing 2 / 3: 2-d only / 3x3 only (batched ones skipped)
    "square": {"square", "sym"}, "sym": {"sym"}, "general": {"square", "sym", "general"},
}


def takes(need: str, family: str, kind: str, A) -> bool:
    base = need.rstrip("23")
    if family.startswith("batched") and need[-1:] in ("2", "3"):
        return False
    if need.endswith("3") and A.shape[-2:] != (3, 3):
        return False
    return kind in FAMILIES_OF[base]


def extras(A, rng) -> dict:
    """The other inputs a text may name, shaped for A: B square beside A (or A's rows), b a vector, C A's rows."""
    m, n = A.shape[-2], A.shape[-1]
    batch = A.shape[:-2]
    return {"B": rng.standard_normal(batch + (m, m)), "b": rng.standard_normal(batch + (m,)),
            "C": rng.standard_normal(batch + (m, 2))}


# --- the references ------------------------------------------------------------------------------------------

def _torch():
    import torch
    torch.set_default_dtype(torch.float64)
    return torch


def _jax():
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import jax.scipy.linalg  # noqa: F401
    return jax, jnp


def _split(text: str) -> tuple:
    parts = text.split("; ")
    return "\n".join(parts[:-1]), parts[-1]


def function_of(text: str, names: list, namespace: dict):
    """``f(*arrays)`` running ``text`` in ``namespace``: statements before the last ``;``, the last evaluated."""
    body, last = _split(text)
    code = compile(body, "<text>", "exec")
    expr = compile(last, "<text>", "eval")

    def f(*arrays):
        env = dict(namespace)
        env.update(zip(names, arrays))
        exec(code, env)
        out = eval(expr, env)
        return out
    return f


def jnp_twin(text: str) -> str:
    # np. and scipy.linalg. where they begin a name only: a jnp. text is its own twin (replacing inside jnp. made
    # jjnp., a NameError the fuzz counted as SILENT, session 47)
    return re.sub(r"(?<![\w.])scipy\.linalg\.", "jax.scipy.linalg.", re.sub(r"(?<![\w.])np\.", "jnp.", text))


def reference(text: str, names: list, arrays: list, hessian: bool) -> dict:
    """``{"value", "jacobian", "hessian"}``: each an array, or an Exception the library raised."""
    out = {}
    if text.startswith(("torch", "U, S", "w, V", "LU, piv", "A.")):
        torch = _torch()
        f = function_of(text, names, {"torch": torch})
        ts = [torch.tensor(a) for a in arrays]
        def to_np(t):  # a ZeroTensor (PyTorch's known-zero derivative) has no numpy()
            return np.zeros(tuple(t.shape)) if t._is_zerotensor() else t.detach().numpy()
        value = _try(lambda: to_np(f(*ts)))
        jac = _try(lambda: to_np(torch.func.jacrev(f)(ts[0], *ts[1:])))
        jacfwd = _try(lambda: to_np(torch.func.jacfwd(f)(ts[0], *ts[1:])))
        hess = _try(lambda: to_np(torch.func.hessian(f)(ts[0], *ts[1:]))) if hessian else None
        if isinstance(hess, Exception):
            hess = _try(lambda: to_np(torch.func.jacrev(torch.func.jacrev(f))(ts[0], *ts[1:])))
    else:
        jax, jnp = _jax()
        import scipy.linalg
        own = function_of(text, names, {"np": np, "scipy": scipy, "jnp": jnp, "jax": jax})
        twin = function_of(jnp_twin(text), names, {"jnp": jnp, "jax": jax})
        value = _try(lambda: np.asarray(own(*arrays), dtype=np.float64))
        js = [jnp.asarray(a) for a in arrays]
        jac = _try(lambda: np.asarray(jax.jacrev(twin)(*js)))
        jacfwd = _try(lambda: np.asarray(jax.jacfwd(twin)(*js)))
        hess = _try(lambda: np.asarray(jax.hessian(twin)(*js))) if hessian else None
    out["value"], out["jacobian"], out["jacfwd"], out["hessian"] = value, jac, jacfwd, hess
    return out


class NoReference(Exception):
    """The library has no such function or rule (not a refusal at the point)."""


# PyTorch's refusals that are not about the point: its own bug (torch.linalg.cond with p = 1, inf, 'fro', 'nuc'
# writes in place into what its backward reads) and an API choice (qr(mode='r') keeps no Q for the derivative)
NOT_ABOUT_THE_POINT = ("modified by an inplace operation", "which is not computed when mode='r'")


def _try(fn):
    try:
        return fn()
    except (AttributeError, NotImplementedError) as e:
        return NoReference(f"{type(e).__name__}: {e}")
    except RuntimeError as e:
        if any(words in str(e) for words in NOT_ABOUT_THE_POINT):
            return NoReference(f"{type(e).__name__}: {e}")
        return e
    except Exception as e:  # noqa: BLE001: the library's refusal is a result
        return e


def ours(text: str, bindings: dict, hessian: bool) -> dict:
    api.clear_cache()
    out = {"value": _try(lambda: np.asarray(api.evaluate(text, bindings), dtype=np.float64))}
    out["jacobian"] = _try(lambda: np.asarray(api.jacobian(text, bindings, wrt=["A"], mode="reverse")["A"]))
    out["jacfwd"] = _try(lambda: np.asarray(api.jacobian(text, bindings, wrt=["A"], mode="forward")["A"]))
    if hessian:
        out["hessian"] = _try(lambda: np.asarray(api.hessian(text, bindings, wrt=["A"])[("A", "A")]))
    return out


def finite(a) -> bool:
    return not isinstance(a, Exception) and bool(np.all(np.isfinite(a)))


def verdict(mine, theirs, rtol: float) -> tuple:
    """``(verdict, detail)`` of jac's result against the library's (see the module's docstring)."""
    if isinstance(mine, Exception) and not isinstance(mine, JacError):
        return "CRASH", f"{type(mine).__name__}: {mine}"
    if isinstance(mine, JacError):
        return ("AGREE" if isinstance(theirs, Exception) else "REFUSED"), str(mine)[:160]
    if isinstance(theirs, NoReference):
        return "NOREF", str(theirs)[:120]
    if isinstance(theirs, Exception):
        return "SILENT", f"library raises {type(theirs).__name__}: {str(theirs)[:100]}"
    mine, theirs = np.asarray(mine, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    if mine.shape != theirs.shape:
        return "WRONG", f"shape {mine.shape} vs {theirs.shape}"
    if mine.size == 0:
        return "AGREE", ""
    fm, ft = np.isfinite(mine), np.isfinite(theirs)
    if not ft.all() and fm.all():
        return "SILENT", f"library non-finite at {int((~ft).sum())} entries, jac finite"
    if (fm != ft).any():
        same = (mine == theirs) | (np.isnan(mine) & np.isnan(theirs))
        if (same | ~ft).all():  # jac's NaN / inf exactly where the library's
            return "AGREE", ""
        return "NONFINITE", f"jac non-finite at {int((~fm).sum())}, library at {int((~ft).sum())}"
    both = fm & ft
    scale = max(1e-300, float(np.abs(theirs[both]).max(initial=0.0)))
    err = float(np.abs(mine[both] - theirs[both]).max(initial=0.0))
    if err <= rtol * max(scale, 1e-12) + 1e-13:
        return "AGREE", ""
    i = np.unravel_index(int(np.argmax(np.where(both, np.abs(mine - theirs), -1))), mine.shape)
    return "WRONG", f"max |diff| {err:.3g} of scale {scale:.3g} (at {i}: jac {mine[i]:.6g}, library {theirs[i]:.6g})"


ILL = 1e13  # past this condition number a matrix is singular to working precision (eps·cond > 1e-3)


def condition(A) -> float:
    A = np.asarray(A, dtype=np.float64)
    if A.size == 0:
        return 1.0
    s = np.linalg.svd(A.reshape((-1,) + A.shape[-2:]), compute_uv=False)
    small = s[..., -1]
    return float(np.inf if (small == 0).any() else np.max(s[..., 0] / small))


class Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise Timeout()


def run_case(text, family, A, rng, hessian: bool, rtol: float) -> list:
    """``[(result, verdict, detail)]`` of one text at one matrix."""
    bindings = {"A": A, **extras(A, rng)}
    names = ["A"] + [n for n in ("B", "b", "C") if _names(text, n)]
    bindings = {n: bindings[n] for n in names}
    arrays = [bindings[n] for n in names]
    theirs = reference(text, names, arrays, hessian)
    scalar = not isinstance(theirs["value"], Exception) and np.ndim(theirs["value"]) == 0
    mine = ours(text, bindings, hessian and scalar)
    found = []
    for key in ("value", "jacobian", "jacfwd", "hessian"):
        if key not in mine:
            continue
        ref = theirs[key]
        if key == "jacfwd" and not isinstance(theirs["jacobian"], Exception):
            ref = theirs["jacobian"]  # the modes must agree: the library's reverse mode is the yardstick of both
        if key != "value" and isinstance(theirs["value"], Exception):
            ref = theirs["value"]
        v, detail = verdict(mine[key], ref, rtol * (1e3 if key == "hessian" else 1.0))
        if v in ("WRONG", "SILENT", "NONFINITE") and key != "value":
            v, detail = arbitrate(text, bindings, key, mine, v, detail, ref)
        if v in ("WRONG", "SILENT", "NONFINITE") and documented(text, key, A):
            v = "DOCUMENTED"
        if v in ("WRONG", "SILENT", "NONFINITE") and condition(A) > ILL and "side with the library" not in detail:
            v = "ILLCOND"  # singular to working precision: each LAPACK's rounding decides (pivots, signs, 1/σ)
        found.append((key, v, detail))
    return found


def _near(a, fd, floor: float) -> bool:
    """``a`` within 1e-4 of the differences' largest entry, or of ``floor`` (the differenced result's size times
    1e-4: differences of a constant are rounding over the step)."""
    a, fd = np.asarray(a, dtype=np.float64), np.asarray(fd, dtype=np.float64)
    if a.shape != fd.shape or not np.all(np.isfinite(a)) or not np.all(np.isfinite(fd)):
        return False
    scale = max(float(np.abs(fd).max(initial=0.0)), floor, 1e-12)
    return bool(np.all(np.abs(a - fd) <= 1e-4 * scale))


def arbitrate(text, bindings, key, mine, v, detail, ref) -> tuple:
    """Where jac and the library differ on a derivative, central differences (of jac's value for a Jacobian, of
    jac's reverse-mode Jacobian for a Hessian, both agreeing with the library's) decide: ``LIBWRONG`` where jac's
    agrees with them and the library's does not; the verdict stands otherwise (``detail`` says what they gave)."""
    lower = "value" if key in ("jacobian", "jacfwd") else "jacobian"
    if isinstance(mine.get(lower), Exception) or isinstance(mine.get(key), Exception):
        return v, detail
    A = np.asarray(bindings["A"], dtype=np.float64)
    h = 1e-6 * max(1.0, float(np.abs(A).max(initial=0.0)))
    cols = []
    for k in range(A.size):
        shifted = []
        for sign in (1, -1):
            B = A.copy().reshape(-1)
            B[k] += sign * h
            f = api.evaluate if lower == "value" else (lambda t, b: api.jacobian(t, b, wrt=["A"])["A"])
            try:
                shifted.append(np.asarray(f(text, {**bindings, "A": B.reshape(A.shape)}), dtype=np.float64))
            except Exception:  # noqa: BLE001: no arbiter there
                return v, detail
        cols.append((shifted[0] - shifted[1]) / (2 * h))
    fd = np.moveaxis(np.array(cols), 0, -1).reshape(np.shape(mine[key])) if cols else np.zeros(np.shape(mine[key]))
    floor = float(np.abs(mine[lower]).max(initial=0.0)) if np.all(np.isfinite(mine[lower])) else 0.0
    ours_ok = _near(mine[key], fd, floor)
    theirs_ok = not isinstance(ref, Exception) and _near(ref, fd, floor)
    if ours_ok and not theirs_ok:
        return "LIBWRONG", detail + "; central differences side with jac"
    return v, detail + ("; central differences side with the library" if theirs_ok else
                        "; central differences agree with neither")


def _names(text: str, name: str) -> bool:
    import re
    return re.search(rf"\b{name}\b", text) is not None


SECTIONS = {"torch": TORCH, "numpy": NUMPY, "scipy": SCIPY, "jax": JAX}


def cases(k: str | None, sections=tuple(SECTIONS)):
    for section in sections:
        for t, need in SECTIONS[section]:
            if k is None or k in t:
                yield t, need


def documented(text: str, key: str, A) -> bool:
    """A difference docs/vocabulary-shapes-linalg.md states: logdet of a negative determinant is NaN, its
    derivative log|det A|'s, A⁻ᵀ (PyTorch's is 0); a NumPy text's ``hermitian=True`` reads the lower triangle,
    with PyTorch's derivative at a symmetric matrix (the JAX twin's symmetrizes: ``functions._hermitian``)."""
    if key == "value":
        return False
    if "hermitian=True" in text and text.startswith("np."):
        return True
    if "logdet(" not in text:
        return False
    with np.errstate(all="ignore"):
        return bool(np.any(np.linalg.det(np.asarray(A, dtype=np.float64)) < 0))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-v", action="store_true")
    ap.add_argument("-k", default=None)
    ap.add_argument("--no-hessian", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--section", action="append", choices=sorted(SECTIONS), help="default: every one")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    families = matrices(rng)
    counts, by_result = Counter(), Counter()
    t0 = time.time()
    signal.signal(signal.SIGALRM, _alarm)
    for text, need in cases(args.k, tuple(args.section or SECTIONS)):
        for family, (A, kind) in families.items():
            if not takes(need, family, kind, A):
                continue
            rtol = 1e-6 if family == "nearsing" else 1e-8
            signal.alarm(60)
            try:
                found = run_case(text, family, A, np.random.default_rng(1), not args.no_hessian, rtol)
            except Timeout:
                found = [("all", "CRASH", "timeout")]
            except Exception as e:  # noqa: BLE001: the fuzz's own trouble, counted
                found = [("all", "FUZZ", f"{type(e).__name__}: {str(e)[:120]}")]
            finally:
                signal.alarm(0)
            for key, v, detail in found:
                counts[v] += 1
                by_result[(key, v)] += 1
                if v not in ("AGREE", "REFUSED", "NOREF", "ILLCOND", "LIBWRONG", "DOCUMENTED") or args.v:
                    print(f"{v:9} {key:8} {family:16} {text}  {detail}", flush=True)
    print("counts:", dict(counts))
    print("by result:", {f"{k}/{v}": n for (k, v), n in sorted(by_result.items())})
    print(f"{time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
