"""Decompositions against the text's own library: every decomposition-like function jac reads (svd, svdvals, qr,
eigh, eigvalsh, cholesky, lu, lu_factor, ...) in each namespace (NumPy ``np.linalg``, JAX ``jnp.linalg``, PyTorch
``torch.linalg``, ``torch``, the ``x.svd()`` methods), every option, tall / wide / square / 1 x n / n x 1 /
batched shapes, random and structured matrices; the value element by element, then the VJP of a random cotangent.

    PYTHONPATH=. /work/benchvenv/bin/python benchmarks/decomp23_sweep.py [numpy | jax | torch] [-k SUBSTRING] [-v]

Each text is valid Python in its library: the reference runs it there (statements before the last ``;`` executed,
the last evaluated; ``A`` bound to the input), jac reads the same text. For every float result the value is
compared, |jac - ref| <= 1e-9 max|ref| + 1e-12 element by element; then jac's VJP
(``api.vjp(text, {"A": A}, v)``) against ``torch.autograd.grad`` (torch texts), ``jax.vjp`` (jnp texts) or central
differences of the NumPy text (np texts; step 1e-6, tolerance 1e-5 of the largest element).

Inputs (float64, seeded by the text and shape):
- random: standard normal;
- spd: X Xᵀ + n I (square shapes only; what cholesky and eigh are given);
- rankdef: a product of rank min(m, n) - 1 (refusals of U / Vh at a zero singular value expected);
- repeated: Q₁ diag(2, 2, 1, ...) Q₂ᵀ (repeated singular values / eigenvalues: the vectors' derivative is refused).

Prints one line per finding:
- WRONG: both answer and the values differ (SIGN: they agree up to the sign of whole columns or rows).
- ILLPOSED: a difference (value or VJP) at a rank-deficient matrix or repeated singular values / eigenvalues, where
  the vectors, and the derivatives of the values, are not functions of the matrix: each library's is its LAPACK's
  choice of basis (PyTorch's gradients there are 1e13 and such). Printed with -v.
- WRONGGRAD: the values agree and the VJPs differ.
- REFUSED: the library answers, jac refuses with a JacError (printed with -v; a refusal of a sign convention jac
  cannot reproduce is counted as such, SIGNREFUSED).
- GRADREFUSED: the values agree and jac refuses the VJP the library gives (finite).
- LENIENT: the library refuses, jac answers.
- CRASH: a non-JacError exception in jac. Must be none.
and counts.
"""
from __future__ import annotations

import sys
import warnings
import zlib

import numpy as np

warnings.simplefilter("ignore")
from jacobi_cli.errors import JacError  # noqa: E402
from jacobi_cli.tools import api  # noqa: E402

SHAPES = [(3, 4), (4, 3), (3, 3), (1, 4), (4, 1), (2, 3, 4), (2, 4, 3), (2, 3, 3)]
STRUCTURES = ["random", "spd", "rankdef", "repeated"]
RTOL, ATOL = 1e-9, 1e-12

# (text, which shapes: "any", "square"); A is the input. {L} is the namespace's linalg module.
SVD = ["{L}.svd(A, full_matrices=False)[0]", "{L}.svd(A, full_matrices=False)[1]", "{L}.svd(A, full_matrices=False)[2]",
       "{L}.svd(A)[0]", "{L}.svd(A)[1]", "{L}.svd(A)[2]",
       "U, S, Vh = {L}.svd(A, full_matrices=False); (U * S[..., None, :]) @ Vh",
       "U, S, Vh = {L}.svd(A, full_matrices=False); U[..., 0:1] * Vh[..., 0:1, :]",
       "U, S, Vh = {L}.svd(A, full_matrices=False); U ** 2"]
COMMON = SVD + ["{L}.svd(A, compute_uv=False)", "{L}.qr(A)[0]", "{L}.qr(A)[1]", "{L}.qr(A, mode='complete')[0]",
                "{L}.qr(A, mode='complete')[1]", "{L}.eigh(A)[0]", "{L}.eigh(A)[1]", "{L}.eigh(A, UPLO='U')[1]",
                "w, V = {L}.eigh(A); (V * w[..., None, :]) @ {T}", "{L}.eigh(A)[1] ** 2", "{L}.eigvalsh(A)", "{L}.cholesky(A)",
                "{L}.eig(A)[0]"]
CASES = {
    "numpy": [t.format(L="np.linalg", T="np.linalg.matrix_transpose(V)") for t in COMMON] + [
        "np.linalg.qr(A, mode='r')", "np.linalg.svd(A, hermitian=True)[0]",
        "np.linalg.svd(A, compute_uv=False, hermitian=True)", "np.linalg.svdvals(A)"],
    "jax": [t.format(L="jnp.linalg", T="jnp.linalg.matrix_transpose(V)") for t in COMMON] + [
        "jnp.linalg.svdvals(A)", "jnp.linalg.svd(A, compute_uv=False, hermitian=True)"],
    "torch": [t.format(L="torch.linalg", T="V.mT") for t in COMMON] + [
        "torch.linalg.qr(A, mode='r')[1]", "torch.linalg.svdvals(A)", "torch.svd(A)[0]", "torch.svd(A)[1]",
        "torch.svd(A)[2]", "torch.svd(A, some=False)[0]", "torch.svd(A, some=False)[2]", "A.svd()[0]", "A.svd()[2]",
        "torch.qr(A)[0]", "torch.qr(A)[1]", "A.qr()[0]", "torch.linalg.cholesky(A, upper=True)",
        "torch.linalg.cholesky_ex(A)[0]", "torch.linalg.lu(A)[0]", "torch.linalg.lu(A)[1]", "torch.linalg.lu(A)[2]",
        "torch.linalg.lu_factor(A)[0]", "torch.linalg.lu_factor(A)[1]", "torch.lu(A)[0]", "A.lu()[0]",
        "torch.linalg.ldl_factor(A)[0]", "torch.linalg.eigvals(A)"],
}


def matrix(shape: tuple, structure: str, rng) -> np.ndarray | None:
    m, n = shape[-2:]
    batch = shape[:-2]
    if structure == "spd":
        if m != n:
            return None
        x = rng.standard_normal(shape)
        return x @ np.swapaxes(x, -1, -2) + n * np.eye(n)
    if structure == "rankdef":
        r = min(m, n) - 1
        return rng.standard_normal(batch + (m, r)) @ rng.standard_normal(batch + (r, n))
    if structure == "repeated":
        k = min(m, n)
        if k < 2:
            return None
        q1 = np.linalg.qr(rng.standard_normal(batch + (m, m)))[0][..., :k]
        q2 = np.linalg.qr(rng.standard_normal(batch + (n, n)))[0][..., :k]
        s = np.array([2.0, 2.0] + [1.0 / (i + 1) for i in range(k - 2)])
        a = (q1 * s) @ np.swapaxes(q2, -1, -2)
        return (a + np.swapaxes(a, -1, -2)) / 2 if m == n else a
    return rng.standard_normal(shape)


def run_text(text: str, env: dict, glb: dict):
    *statements, last = text.split(";")
    local = dict(env)
    for s in statements:
        exec(s.strip(), glb, local)
    return eval(last.strip(), glb, local)


def reference(lib: str):
    """(globals, to_input, to_numpy, vjp(text, A, v) -> gradient or None)."""
    if lib == "numpy":
        glb = {"np": np}

        def vjp(text, a, v):  # central differences of <v, f(A)> along each symmetric or elementary direction
            g = np.zeros_like(a)
            for i in np.ndindex(a.shape):
                d = np.zeros_like(a)
                d[i] = 1.0
                if symmetric_reader(text):  # NumPy reads one triangle: a direction in it moves the whole matrix
                    d = (d + np.swapaxes(d, -1, -2)) / 2
                g[i] = np.sum(v * (np.asarray(run_text(text, {"A": a + 1e-6 * d}, glb)) -
                                   np.asarray(run_text(text, {"A": a - 1e-6 * d}, glb)))) / 2e-6
            return g
        return glb, lambda a: a, np.asarray, vjp
    if lib == "jax":
        import jax
        import jax.numpy as jnp
        jax.config.update("jax_enable_x64", True)
        glb = {"jnp": jnp, "jax": jax}

        def vjp(text, a, v):
            out, back = jax.vjp(lambda x: run_text(text, {"A": x}, glb), jnp.asarray(a))
            return np.asarray(back(jnp.asarray(v, dtype=out.dtype))[0])
        return glb, jnp.asarray, np.asarray, vjp
    import torch
    torch.set_default_dtype(torch.float64)
    glb = {"torch": torch}

    def vjp(text, a, v):
        x = torch.tensor(a, requires_grad=True)
        out = run_text(text, {"A": x}, glb)
        (g,) = torch.autograd.grad(out, x, torch.tensor(v), allow_unused=True)
        return np.zeros_like(a) if g is None else g.numpy()
    return glb, torch.tensor, lambda t: t.detach().numpy() if hasattr(t, "detach") else np.asarray(t), vjp


def symmetric_reader(text: str) -> bool:
    """The text reads a symmetric matrix (one triangle in NumPy and PyTorch, the symmetric part in JAX and jac): its
    VJP is compared by its symmetric part."""
    return any(w in text for w in ("eigh", "eigvalsh", "cholesky", "hermitian=True"))


def close(a, b, rtol=RTOL) -> bool:
    scale = np.nanmax(np.abs(b)) if b.size else 0.0
    return a.shape == b.shape and bool(np.all((np.abs(a - b) <= rtol * scale + ATOL) | (np.isnan(a) & np.isnan(b))))


def up_to_signs(a, b) -> bool:
    if a.shape != b.shape or a.ndim < 2:
        return False
    for axis in (-2, -1):
        d = np.sign(np.sum(a * b, axis=axis, keepdims=True))
        d[d == 0] = 1.0
        if close(a * d, b):
            return True
    return False


def sweep(lib: str, only: str | None, verbose: bool) -> dict:
    glb, to_input, to_numpy, ref_vjp = reference(lib)
    counts = dict.fromkeys(("calls", "compared", "OK", "WRONG", "SIGN", "ILLPOSED", "gradients", "WRONGGRAD",
                            "REFUSED", "SIGNREFUSED", "GRADREFUSED", "LENIENT", "both refuse", "CRASH"), 0)

    def say(kind, *what):
        counts[kind] += 1
        if verbose or kind in ("WRONG", "WRONGGRAD", "LENIENT", "CRASH"):
            print(kind, *what)

    for text in CASES[lib]:
        if only and only not in text:
            continue
        for shape in SHAPES:
            for structure in STRUCTURES:
                rng = np.random.default_rng(zlib.crc32(f"{text}{shape}{structure}".encode()))
                a = matrix(shape, structure, rng)
                if a is None:
                    continue
                where = f"{text}  A{shape} {structure}"
                counts["calls"] += 1
                try:
                    ref = to_numpy(run_text(text, {"A": to_input(a)}, glb))
                    ref_error = None
                except Exception as e:  # noqa: BLE001 - the library's refusal, of any class
                    ref, ref_error = None, e
                try:
                    got = np.asarray(api.evaluate(text, {"A": a}))
                except JacError as e:
                    if ref_error is not None:
                        counts["both refuse"] += 1
                    elif "sign" in str(e).lower():
                        say("SIGNREFUSED", where, "|", str(e).splitlines()[0][:160])
                    else:
                        say("REFUSED", where, "|", str(e).splitlines()[0][:160])
                    continue
                except Exception as e:  # noqa: BLE001
                    say("CRASH", where, "|", type(e).__name__, e)
                    continue
                if ref_error is not None:
                    say("LENIENT", where, "|", type(ref_error).__name__, str(ref_error)[:100])
                    continue
                if ref.dtype.kind not in "f" or ref.size == 0:
                    continue
                counts["compared"] += 1
                if not close(got, ref):
                    signs = up_to_signs(got, ref)
                    if structure in ("rankdef", "repeated"):
                        say("ILLPOSED", where, "| value", "| SIGN: equal up to signs" if signs else "")
                        continue
                    counts["SIGN"] += signs
                    say("WRONG", where, "| shape", got.shape, ref.shape, "| SIGN: equal up to signs" if signs else "")
                    continue
                counts["OK"] += 1
                v = rng.standard_normal(ref.shape)
                try:
                    want = ref_vjp(text, a, v)
                except Exception:  # noqa: BLE001 - the library cannot differentiate it
                    continue
                if not np.all(np.isfinite(want)) or (lib == "numpy" and structure in ("rankdef", "repeated")):
                    continue  # no derivative where singular values are 0 or repeat: central differences straddle a kink
                try:
                    found = np.asarray(api.vjp(text, {"A": a}, v, wrt=["A"])["A"])
                except JacError as e:
                    say("GRADREFUSED", where, "|", str(e).splitlines()[0][:160])
                    continue
                except Exception as e:  # noqa: BLE001
                    say("CRASH", where, "(vjp) |", type(e).__name__, e)
                    continue
                counts["gradients"] += 1
                if symmetric_reader(text):
                    found = (found + np.swapaxes(found, -1, -2)) / 2
                    want = (want + np.swapaxes(want, -1, -2)) / 2
                tol = 1e-5 if lib == "numpy" else 1e-8
                if not close(found, want, tol):
                    d = np.max(np.abs(found - want)) if found.shape == want.shape else "shape"
                    say("ILLPOSED" if structure in ("rankdef", "repeated") else "WRONGGRAD", where,
                        f"| max diff {d} at max {np.max(np.abs(want)):.3g}")
    return counts


def main(argv: list) -> None:
    verbose = "-v" in argv
    only = argv[argv.index("-k") + 1] if "-k" in argv else None
    libs = [x for x in argv if x in CASES] or list(CASES)
    for lib in libs:
        counts = sweep(lib, only, verbose)
        print(lib, " ".join(f"{k}={v}" for k, v in counts.items()))


if __name__ == "__main__":
    main(sys.argv[1:])
