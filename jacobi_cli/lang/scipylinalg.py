"""``scipy.linalg`` as people use it (session 33d; registered in ``functions``' table when ``lang`` is imported),
each name lowered onto jac's linear-algebra ops with SciPy's defaults and SciPy's reading of its arguments:

- a routine that reads one triangle reads that one alone (``cholesky``, ``cho_factor``, ``solve(assume_a='pos' /
  'sym')``: the upper one by default; ``eigh``: the lower one): the symmetric matrix is built from it
  (``_from_triangle``), so the other triangle's entries get derivative 0, as they change nothing in SciPy's value;
- ``cho_factor`` returns ``(c, lower)`` with the factor in one triangle and A's own entries in the other, as SciPy
  leaves them; ``cho_solve`` reads the factor's triangle alone;
- ``lu_factor``'s pivots are SciPy's (0-based row interchanges), constants of the values; ``lu_solve``
  differentiates through the factor's triangles;
- ``toeplitz``, ``circulant``, ``hankel`` are gathers of their arguments; ``block_diag`` is NumPy's.

``overwrite_a``, ``overwrite_b`` and ``check_finite`` are accepted and change nothing (jac never writes into its
inputs, and a NaN or inf is reported by its warnings). ``SCIPY_LINALG`` lists what jac reads; ``REFUSED`` says why
the rest is refused.
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import JacError

from .functions import (FUNCTIONS, LIBRARY_FUNCTIONS, REQUIRED, Items, JacShapeError, JacValueError, _concrete,
                        _need_ndim, _reshape_to, _square, _take, arguments, library_function, matrix_transpose,
                        static, tensor, variant)

# --- the triangular solves (scipy.linalg's and jax.scipy.linalg's), which read one triangle ---------------------
# (not jax.scipy.linalg's cholesky: with symmetrize_input=False JAX's gradient splits each symmetric pair of entries its own way,
# neither the symmetric gradient nor the triangle's; parser._LIBRARY_HINTS says what to write)


def _triangle_solve(b, c, rhs, lower: bool, trans: bool, unit: bool, fname, position):
    """X with op(T) X = rhs, T the ``lower`` (else upper) triangle of c, op transposing it when ``trans``; a vector
    rhs (one axis fewer than c) as one column. Only the triangle is read: the other entries get derivative 0."""
    if trans:  # Tᵀ is the other triangle of cᵀ
        c, lower = matrix_transpose(b, c, position), not lower
    vector = rhs.ndim == c.ndim - 1
    if vector:
        rhs = b.apply("reshape", rhs, shape=tuple(rhs.shape) + (1,), position=position)
    out = FUNCTIONS["solve_triangular"](b, [c, rhs], {"upper": not lower, "unitriangular": unit}, position)
    return b.apply("reshape", out, shape=tuple(out.shape[:-1]), position=position) if vector else out


def _cho_solve_as(module):
    def lower(b, args, kwargs, position):
        a = arguments("cho_solve", args, kwargs, {"c_and_lower": REQUIRED, "b": REQUIRED, "overwrite_b": False,
                                                  "check_finite": True}, position)
        pair = a["c_and_lower"]
        if not isinstance(pair, (Items, tuple, list)) or len(pair) != 2:
            raise JacValueError(f"{module}.cho_solve takes the pair (c, lower) first: cho_solve((L, True), b)",
                                position)
        c, rhs = tensor(b, pair[0], "cho_solve", position), tensor(b, a["b"], "cho_solve", position)
        lower = bool(static(b, pair[1], "cho_solve's lower", position))
        if c.ndim < 2 or c.shape[-1] != c.shape[-2] or rhs.ndim < 1 or rhs.shape[-2 if rhs.ndim >= c.ndim else -1] \
                != c.shape[-1]:
            raise JacValueError(f"cho_solve: c must be square and b's rows match it, got c {tuple(c.shape)} and b "
                                f"{tuple(rhs.shape)}", position)
        half = _triangle_solve(b, c, rhs, lower, not lower, False, "cho_solve", position)  # L y = b, or Uᵀ y = b
        return _triangle_solve(b, c, half, lower, lower, False, "cho_solve", position)  # Lᵀ x = y, or U x = y
    lower.__doc__ = (f"{module}.cho_solve((c, lower), b): X with (L Lᵀ) X = b for L the lower triangle of c "
                     "(lower=True), or (Uᵀ U) X = b for U its upper triangle. The library reads that triangle alone: "
                     "the entries past it get derivative 0 (PyTorch's torch.cholesky_solve differentiates its factor "
                     "whole: see functions._cholesky_factor). overwrite_b and check_finite change nothing.")
    return lower


def _solve_triangular_as(module, debug=True):
    def lower(b, args, kwargs, position):
        a = arguments("solve_triangular", args, kwargs, {"a": REQUIRED, "b": REQUIRED, "trans": 0, "lower": False,
                                                         "unit_diagonal": False, "overwrite_b": False,
                                                         **({"debug": None} if debug else {}),
                                                         "check_finite": True}, position)
        trans = static(b, a["trans"], "trans", position)
        if trans not in (0, 1, 2, "N", "T", "C"):
            raise JacValueError(f"solve_triangular: trans must be 0, 1, 2, 'N', 'T' or 'C', got {trans!r}", position)
        c, rhs = tensor(b, a["a"], "solve_triangular", position), tensor(b, a["b"], "solve_triangular", position)
        if c.ndim < 2 or c.shape[-1] != c.shape[-2] or rhs.ndim < 1 or rhs.shape[-2 if rhs.ndim >= c.ndim else -1] \
                != c.shape[-1]:
            raise JacValueError(f"solve_triangular: a must be square and b's rows match it, got a {tuple(c.shape)} "
                                f"and b {tuple(rhs.shape)}", position)
        return _triangle_solve(b, c, rhs, bool(static(b, a["lower"], "lower", position)), trans not in (0, "N"),
                               bool(static(b, a["unit_diagonal"], "unit_diagonal", position)), "solve_triangular",
                               position)
    lower.__doc__ = (f"{module}.solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False): X with op(T) X = "
                     "b, T a's upper (lower=True: lower) triangle, op(T) T for trans 0 / 'N', Tᵀ for 1 / 'T' / 2 / "
                     "'C' (real); only that triangle is read. overwrite_b" + (", debug" if debug else "") +
                     " and check_finite change nothing.")
    return lower



IGNORED = {"overwrite_a": False, "overwrite_b": False, "check_finite": True}  # no effect on values here

SCIPY_LINALG_READ = frozenset({"solve", "inv", "det", "cholesky", "cho_factor", "cho_solve", "solve_triangular",
                          "lu_factor", "lu_solve", "expm", "eigh", "eigvalsh", "svd", "svdvals", "qr", "norm",
                          "lstsq", "pinv", "block_diag", "toeplitz", "circulant", "hankel"})

REFUSED = {
    "sqrtm": "jac has no matrix square root op: for a symmetric positive definite A write V @ np.diag(np.sqrt(w)) "
             "@ V.T with w, V = scipy.linalg.eigh(A, driver='evd')",
    "logm": "jac has no matrix logarithm op: for a symmetric positive definite A write V @ np.diag(np.log(w)) @ V.T "
            "with w, V = scipy.linalg.eigh(A, driver='evd')",
    "kron": "scipy.linalg.kron was deprecated in SciPy 1.15 and removed in 1.17: write np.kron(a, b)",
    "lu": "write scipy.linalg.lu_factor(a) (jac reads the packed factor and its pivots) or torch.linalg.lu(A)",
    "eig": "a general matrix's eigenvalues are complex, which jac does not have; for a symmetric one use "
           "scipy.linalg.eigh",
    "eigvals": "a general matrix's eigenvalues are complex, which jac does not have; for a symmetric one use "
               "scipy.linalg.eigvalsh",
    "cdf2rdf": "it reads complex eigenvectors, which jac does not have",
}


def _args(fname, args, kwargs, params, position, ignored=("overwrite_a", "check_finite")):
    """The arguments of scipy.linalg.``fname``, with those of ``ignored`` (SciPy's own for that function)."""
    return arguments(fname, args, kwargs, {**params, **{k: IGNORED[k] for k in ignored}}, position)


def _matrix(b, value, fname, position):
    x = tensor(b, value, f"scipy.linalg.{fname}", position)
    _need_ndim(f"scipy.linalg.{fname}", x, tuple(range(2, 10)), position)
    return x


def _from_triangle(b, x, lower: bool, position):
    """The symmetric matrix of x's lower (else upper) triangle, as LAPACK's routines that reference one triangle
    read it: tril(x) + tril(x, -1)ᵀ. The other triangle's entries reach nothing (derivative 0)."""
    tri = "tril" if lower else "triu"
    whole = FUNCTIONS[tri](b, [x], {}, position)
    strict = FUNCTIONS[tri](b, [x], {"k": b.const(-1.0 if lower else 1.0, position)}, position)
    return b.apply("add", whole, matrix_transpose(b, strict, position), position=position)


def _cholesky_of(b, x, lower: bool, position):
    """SciPy's factor of the triangle ``lower`` says: L (lower) or R = Lᵀ (upper), A = L Lᵀ = Rᵀ R; the other
    triangle zero. jac's cholesky refuses a matrix that is not positive definite, where SciPy raises."""
    _square(x, "scipy.linalg.cholesky", position)
    low = b.apply("cholesky", _from_triangle(b, x, lower, position), position=position)
    return low if lower else matrix_transpose(b, low, position)


@variant("scipy.linalg", "cholesky")
def _cholesky(b, args, kwargs, position):
    """scipy.linalg.cholesky(a, lower=False): the UPPER factor R with A = Rᵀ R by default, of a's upper triangle
    (lower=True: L of the lower one)."""
    a = _args("cholesky", args, kwargs, {"a": REQUIRED, "lower": False}, position)
    x = _matrix(b, a["a"], "cholesky", position)
    return _cholesky_of(b, x, bool(static(b, a["lower"], "lower", position)), position)


@variant("scipy.linalg", "cho_factor")
def _cho_factor(b, args, kwargs, position):
    """scipy.linalg.cho_factor(a, lower=False): (c, lower), c the factor in the triangle ``lower`` says and a's own
    entries in the other, as SciPy leaves them (cho_solve never reads them)."""
    a = _args("cho_factor", args, kwargs, {"a": REQUIRED, "lower": False}, position)
    x = _matrix(b, a["a"], "cho_factor", position)
    lower = bool(static(b, a["lower"], "lower", position))
    factor = _cholesky_of(b, x, lower, position)
    rest = FUNCTIONS["triu" if lower else "tril"](b, [x], {"k": b.const(1.0 if lower else -1.0, position)},
                                                   position)
    return Items([b.apply("add", factor, rest, position=position), lower])


variant("scipy.linalg", "cho_solve")(_cho_solve_as("scipy.linalg"))
variant("scipy.linalg", "solve_triangular")(_solve_triangular_as("scipy.linalg", debug=False))

_GENERAL = (None, "gen", "general")
_SYMMETRIC = ("sym", "symmetric", "her", "hermitian")
_POSITIVE = ("pos", "positive definite")
_TRIANGULAR = ("upper triangular", "lower triangular")


def _structured(b, x, assume, lower, fname, position):
    """(the matrix SciPy's solver for ``assume_a`` reads, whether it is a Cholesky factor L of it)."""
    if assume in _GENERAL:  # None: SciPy detects a structure at the values; each solver gives A⁻¹ b there
        return x, False
    if assume in _SYMMETRIC:
        return _from_triangle(b, x, lower, position), False
    if assume in _POSITIVE:
        return _cholesky_of(b, x, True, position) if lower else \
            matrix_transpose(b, _cholesky_of(b, x, False, position), position), True
    if assume in _TRIANGULAR:
        return FUNCTIONS["triu" if assume == "upper triangular" else "tril"](b, [x], {}, position), False
    if assume == "diagonal":
        n = _concrete(x, fname, position)[-1]
        return b.apply("mul", x, b.const(np.eye(n), position), position=position), False
    raise JacValueError(f"scipy.linalg.{fname}: assume_a={assume!r} is not read by jac (it reads 'gen', 'sym', 'her', "
                        "'pos', 'upper triangular', 'lower triangular', 'diagonal' and None)", position)


@variant("scipy.linalg", "solve")
def _solve(b, args, kwargs, position):
    """scipy.linalg.solve(a, b, lower=False, assume_a=None, transposed=False): X with A X = b (Aᵀ X = b when
    transposed), A as ``assume_a`` reads a: 'sym' / 'her' / 'pos' one triangle (the upper one unless lower=True),
    'pos' through its Cholesky factor (refused where it is not positive definite, as SciPy raises), the
    triangular ones their triangle, 'diagonal' the diagonal."""
    a = _args("solve", args, kwargs, {"a": REQUIRED, "b": REQUIRED, "lower": False, "assume_a": None,
                                      "transposed": False}, position,
              ("overwrite_a", "overwrite_b", "check_finite"))
    x = _matrix(b, a["a"], "solve", position)
    _square(x, "scipy.linalg.solve", position)
    rhs = tensor(b, a["b"], "scipy.linalg.solve", position)
    if x.ndim != 2 or rhs.ndim not in (1, 2):
        raise JacShapeError("scipy.linalg.solve: jac reads one matrix a and b a vector or a matrix; for batches write "
                            "np.linalg.solve", position)
    if rhs.shape[0] != x.shape[-1]:
        raise JacShapeError(f"scipy.linalg.solve: b needs {x.shape[-1]} rows, got shape {tuple(rhs.shape)}", position)
    m, factor = _structured(b, x, static(b, a["assume_a"], "assume_a", position),
                            bool(static(b, a["lower"], "lower", position)), "solve", position)
    if factor:  # L Lᵀ X = b (Lᵀ L is no other: A is symmetric)
        return _triangle_solve(b, m, _triangle_solve(b, m, rhs, True, False, False, "solve", position), True, True,
                               False, "solve", position)
    if static(b, a["transposed"], "transposed", position):
        m = matrix_transpose(b, m, position)
    return library_function("numpy", "solve")(b, [m, rhs], {}, position)


@variant("scipy.linalg", "inv")
def _inv(b, args, kwargs, position):
    """scipy.linalg.inv(a, *, assume_a=None, lower=False): A⁻¹, A as ``assume_a`` reads a (solve's)."""
    a = _args("inv", args, kwargs, {"a": REQUIRED, "assume_a": None, "lower": False}, position)
    x = _matrix(b, a["a"], "inv", position)
    _square(x, "scipy.linalg.inv", position)
    assume = static(b, a["assume_a"], "assume_a", position)
    if assume in _GENERAL:
        return b.apply("inv", x, position=position)
    n = _concrete(x, "inv", position)[-1]
    eye = b.const(np.broadcast_to(np.eye(n), x.shape).copy(), position)
    return _solve(b, [x, eye], {"assume_a": assume, "lower": a["lower"]}, position)


@variant("scipy.linalg", "det")
def _det(b, args, kwargs, position):
    """scipy.linalg.det(a): the determinant."""
    a = _args("det", args, kwargs, {"a": REQUIRED}, position)
    x = _matrix(b, a["a"], "det", position)
    _square(x, "scipy.linalg.det", position)
    return b.apply("det", x, position=position)


@variant("scipy.linalg", "expm")
def _expm(b, args, kwargs, position):
    """scipy.linalg.expm(A): the matrix exponential (jac's to rounding; SciPy's Padé agrees to ~1e-15)."""
    a = arguments("expm", args, kwargs, {"A": REQUIRED}, position)
    x = _matrix(b, a["A"], "expm", position)
    _square(x, "scipy.linalg.expm", position)
    return b.apply("matrix_exp", x, position=position)


def _no_subsets(b, a, fname, position):
    if a["b"] is not None:
        raise JacValueError(f"scipy.linalg.{fname}(a, b): the generalized eigenproblem is not read by jac; write "
                            "it with the Cholesky factor of b (L⁻¹ a L⁻ᵀ)", position)
    for key in ("subset_by_index", "subset_by_value"):
        if a[key] is not None:
            raise JacValueError(f"scipy.linalg.{fname}({key}=...) is not read by jac: compute every eigenvalue and "
                                "index them", position)
    if static(b, a["type"], "type", position) != 1:
        raise JacValueError(f"scipy.linalg.{fname}: type applies to a generalized problem (b), which jac does not "
                            "read", position)


_EIGH = {"a": REQUIRED, "b": None, "lower": True, "type": 1, "subset_by_index": None, "subset_by_value": None,
         "driver": None}


@variant("scipy.linalg", "eigh")
def _eigh(b, args, kwargs, position):
    """scipy.linalg.eigh(a, lower=True, eigvals_only=False, driver=None): (w, v) of a's lower triangle (upper with
    lower=False). SciPy's default driver 'evr' picks other eigenvector signs than jac computes (LAPACK's syevd,
    driver='evd'), so the vectors are read with driver='evd' and refused otherwise; the values with any driver."""
    a = _args("eigh", args, kwargs, {**_EIGH, "eigvals_only": False}, position, tuple(IGNORED))
    _no_subsets(b, a, "eigh", position)
    x = _matrix(b, a["a"], "eigh", position)
    _square(x, "scipy.linalg.eigh", position)
    lower = bool(static(b, a["lower"], "lower", position))
    s = _from_triangle(b, x, lower, position)
    uplo = "L" if lower else "U"
    w = b.apply("eigvalsh", s, uplo=uplo, position=position)
    if static(b, a["eigvals_only"], "eigvals_only", position):
        return w
    driver = static(b, a["driver"], "driver", position)
    if driver != "evd":
        raise JacValueError(f"scipy.linalg.eigh's eigenvectors with driver={driver!r}: SciPy's default 'evr' gives "
                            "other signs than jac computes (LAPACK's syevd); write driver='evd' (the same "
                            "eigenvalues, NumPy's signs) or eigvals_only=True", position)
    return Items([w, b.apply("eigh_vectors", s, uplo=uplo, position=position)])


@variant("scipy.linalg", "eigvalsh")
def _eigvalsh(b, args, kwargs, position):
    """scipy.linalg.eigvalsh(a, lower=True): the eigenvalues of a's lower (upper) triangle, ascending."""
    a = _args("eigvalsh", args, kwargs, _EIGH, position, tuple(IGNORED))
    _no_subsets(b, a, "eigvalsh", position)
    x = _matrix(b, a["a"], "eigvalsh", position)
    _square(x, "scipy.linalg.eigvalsh", position)
    lower = bool(static(b, a["lower"], "lower", position))
    return b.apply("eigvalsh", _from_triangle(b, x, lower, position), uplo="L" if lower else "U", position=position)


@variant("scipy.linalg", "svd")
def _svd(b, args, kwargs, position):
    """scipy.linalg.svd(a, full_matrices=True, compute_uv=True, lapack_driver='gesdd'): NumPy's (U, s, Vh) (the
    same LAPACK routine, the same signs); s alone with compute_uv=False. lapack_driver='gesvd' is refused (its
    signs may differ)."""
    a = _args("svd", args, kwargs, {"a": REQUIRED, "full_matrices": True, "compute_uv": True,
                                    "lapack_driver": "gesdd"}, position)
    if static(b, a["lapack_driver"], "lapack_driver", position) != "gesdd":
        raise JacValueError("scipy.linalg.svd(lapack_driver='gesvd'): jac computes gesdd's vectors (the default); "
                            "leave lapack_driver out", position)
    return FUNCTIONS["svd"](b, [a["a"]], {"full_matrices": a["full_matrices"], "compute_uv": a["compute_uv"]},
                            position)


@variant("scipy.linalg", "svdvals")
def _svdvals(b, args, kwargs, position):
    """scipy.linalg.svdvals(a): the singular values, descending."""
    a = _args("svdvals", args, kwargs, {"a": REQUIRED}, position)
    return FUNCTIONS["svdvals"](b, [a["a"]], {}, position)


@variant("scipy.linalg", "qr")
def _qr(b, args, kwargs, position):
    """scipy.linalg.qr(a, mode='full', pivoting=False): (Q, R) complete ('full'), reduced ('economic'), or the
    1-tuple (R,) ('r'), as SciPy returns them."""
    a = _args("qr", args, kwargs, {"a": REQUIRED, "lwork": None, "mode": "full", "pivoting": False}, position)
    if static(b, a["pivoting"], "pivoting", position):
        raise JacValueError("scipy.linalg.qr(pivoting=True): the column permutation is not read by jac", position)
    mode = static(b, a["mode"], "mode", position)
    numpy = {"full": "complete", "economic": "reduced", "r": "r"}.get(mode)
    if numpy is None:
        raise JacValueError(f"scipy.linalg.qr: mode={mode!r} is not read by jac ('full', 'economic' or 'r'; 'raw' is "
                            "LAPACK's Householder form)", position)
    out = FUNCTIONS["qr"](b, [a["a"]], {"mode": numpy}, position)
    return Items([out]) if mode == "r" else Items(out)


@variant("scipy.linalg", "norm")
def _norm(b, args, kwargs, position):
    """scipy.linalg.norm(a, ord=None, axis=None, keepdims=False): np.linalg.norm's."""
    a = _args("norm", args, kwargs, {"a": REQUIRED, "ord": None, "axis": None, "keepdims": False}, position,
              ("check_finite",))
    return library_function("numpy", "norm")(b, [a["a"]], {k: a[k] for k in ("ord", "axis", "keepdims")}, position)


@variant("scipy.linalg", "lstsq")
def _lstsq(b, args, kwargs, position):
    """scipy.linalg.lstsq(a, b, cond=None): (x, residues, rank, s) of a full-rank a (SciPy's cutoff cond·σmax,
    default eps·σmax; at or below it refused). residues: the squared residual per column (a scalar for a vector b)
    where the system is overdetermined, else empty."""
    a = _args("lstsq", args, kwargs, {"a": REQUIRED, "b": REQUIRED, "cond": None, "lapack_driver": None}, position,
              tuple(IGNORED))
    driver = static(b, a["lapack_driver"], "lapack_driver", position)
    if driver not in (None, "gelsd", "gelss"):
        raise JacValueError(f"scipy.linalg.lstsq(lapack_driver={driver!r}): gelsy returns no singular values; jac "
                            "reads gelsd (the default) and gelss", position)
    x = _matrix(b, a["a"], "lstsq", position)
    rhs = tensor(b, a["b"], "scipy.linalg.lstsq", position)
    if x.ndim != 2 or rhs.ndim not in (1, 2):
        raise JacShapeError("scipy.linalg.lstsq needs a matrix a and b a vector or a matrix", position)
    cond = a["cond"] if a["cond"] is not None else float(np.finfo(b.dtype).eps)
    out = FUNCTIONS["lstsq"](b, [x, rhs], {"rcond": cond}, position)
    if len(out) != 4:
        raise JacValueError("scipy.linalg.lstsq of an empty matrix is not read by jac", position)
    solution, residues, rank, s = out
    if rhs.ndim == 1 and residues.shape == (1,):
        residues = _reshape_to(b, residues, (), position)
    return Items([solution, residues, rank, s])


@variant("scipy.linalg", "pinv")
def _pinv(b, args, kwargs, position):
    """scipy.linalg.pinv(a, *, atol=None, rtol=None, return_rank=False): A⁺ of a full-rank A; SciPy's cutoff
    atol + rtol·σmax (defaults 0 and max(m, n)·eps), a singular value at or below it refused (SciPy zeroes it)."""
    a = _args("pinv", args, kwargs, {"a": REQUIRED, "atol": None, "rtol": None, "return_rank": False}, position,
              ("check_finite",))
    from .functions import _number, _pinv_with
    x = _matrix(b, a["a"], "pinv", position)
    atol = 0.0 if a["atol"] is None else _number(b, a["atol"], "atol", position)
    rtol = None if a["rtol"] is None else _number(b, a["rtol"], "rtol", position)
    if atol and rtol != 0.0:
        raise JacValueError("scipy.linalg.pinv with both atol and rtol: SciPy's cutoff is their sum, jac's the larger "
                            "of the two; give one of them", position)
    out = _pinv_with(b, x, rtol, atol, position)
    if static(b, a["return_rank"], "return_rank", position):
        from .functions import _index_constant
        return Items([out, _index_constant(b, min(_concrete(x, "pinv", position)[-2:]), "pinv", position)])
    return out


@variant("scipy.linalg", "block_diag")
def _block_diag(b, args, kwargs, position):
    """scipy.linalg.block_diag(*arrs): the arrays (0-d, 1-d as rows, 2-d) on the diagonal."""
    if not args:
        raise JacValueError("scipy.linalg.block_diag() of no arrays (SciPy's 1×0 empty matrix) is not read by jac",
                            position)
    return FUNCTIONS["block_diag"](b, args, kwargs, position)


def _vector(b, value, fname, what, position):
    v = tensor(b, value, f"scipy.linalg.{fname}", position)
    if v.ndim != 1:
        raise JacShapeError(f"scipy.linalg.{fname}: jac reads a 1-d {what}, got shape {tuple(v.shape)}", position)
    return v


def _gathered(b, values, index, position):
    return _take(b, values, (np.asarray(index, dtype=np.intp),), position)


@variant("scipy.linalg", "toeplitz")
def _toeplitz(b, args, kwargs, position):
    """scipy.linalg.toeplitz(c, r=None): T[i, j] = c[i - j] for i >= j, r[j - i] above (r[0] ignored); r None is c."""
    a = arguments("toeplitz", args, kwargs, {"c": REQUIRED, "r": None}, position)
    c = _vector(b, a["c"], "toeplitz", "c", position)
    r = c if a["r"] is None else _vector(b, a["r"], "toeplitz", "r", position)
    m, n = c.shape[0], r.shape[0]
    values = FUNCTIONS["concatenate"](b, [Items([_gathered(b, c, np.arange(m)[::-1], position),
                                                 _gathered(b, r, np.arange(1, n), position)])], {}, position)
    i, j = np.arange(m)[:, None], np.arange(n)[None, :]
    return _gathered(b, values, m - 1 + j - i, position)


@variant("scipy.linalg", "circulant")
def _circulant(b, args, kwargs, position):
    """scipy.linalg.circulant(c): C[i, j] = c[(i - j) mod n]."""
    c = _vector(b, arguments("circulant", args, kwargs, {"c": REQUIRED}, position)["c"], "circulant", "c", position)
    n = c.shape[0]
    return _gathered(b, c, (np.arange(n)[:, None] - np.arange(n)[None, :]) % n, position)


@variant("scipy.linalg", "hankel")
def _hankel(b, args, kwargs, position):
    """scipy.linalg.hankel(c, r=None): H[i, j] = c[i + j] for i + j < m, r[i + j - m + 1] past it (r[0] ignored);
    r None is zeros."""
    a = arguments("hankel", args, kwargs, {"c": REQUIRED, "r": None}, position)
    c = _vector(b, a["c"], "hankel", "c", position)
    r = b.const(np.zeros(c.shape[0]), position) if a["r"] is None else _vector(b, a["r"], "hankel", "r", position)
    m, n = c.shape[0], r.shape[0]
    values = FUNCTIONS["concatenate"](b, [Items([c, _gathered(b, r, np.arange(1, n), position)])], {}, position)
    return _gathered(b, values, np.arange(m)[:, None] + np.arange(n)[None, :], position)


@variant("scipy.linalg", "lu_factor")
def _lu_factor(b, args, kwargs, position):
    """scipy.linalg.lu_factor(a): (lu, piv), LAPACK's packed factor and SciPy's 0-based row interchanges (constants
    of the values: no derivative)."""
    a = _args("lu_factor", args, kwargs, {"a": REQUIRED}, position)
    x = _matrix(b, a["a"], "lu_factor", position)
    lu, piv = library_function("torch.linalg", "lu_factor")(b, [x], {}, position)
    return Items([lu, b.apply("sub", piv, 1.0, position=position)])


@variant("scipy.linalg", "lu_solve")
def _lu_solve(b, args, kwargs, position):
    """scipy.linalg.lu_solve((lu, piv), b, trans=0): X with A X = b (trans 1 / 2: Aᵀ X = b), A = P L U given by
    lu_factor; the derivative through L's and U's triangles."""
    from .functions import _lu_solve as lu_solve
    a = _args("lu_solve", args, kwargs, {"lu_and_piv": REQUIRED, "b": REQUIRED, "trans": 0}, position,
              ("overwrite_b", "check_finite"))
    pair = a["lu_and_piv"]
    if not isinstance(pair, (Items, tuple, list)) or len(pair) != 2:
        raise JacValueError("scipy.linalg.lu_solve takes the pair (lu, piv) first: lu_solve(lu_factor(a), b)",
                            position)
    trans = static(b, a["trans"], "trans", position)
    if trans not in (0, 1, 2):
        raise JacValueError(f"scipy.linalg.lu_solve: trans must be 0, 1 or 2, got {trans!r}", position)
    lu = tensor(b, pair[0], "scipy.linalg.lu_solve", position)
    piv = b.apply("add", tensor(b, pair[1], "scipy.linalg.lu_solve", position), 1.0, position=position)
    rhs = tensor(b, a["b"], "scipy.linalg.lu_solve", position)
    vector = rhs.ndim == 1
    if vector:
        rhs = _reshape_to(b, rhs, tuple(rhs.shape) + (1,), position)
    out = lu_solve(b, lu, piv, rhs, True, trans != 0, "lu_solve", position)
    return _reshape_to(b, out, tuple(out.shape[:-1]), position) if vector else out


def _refused(name):
    def lower(b, args, kwargs, position):
        raise JacValueError(f"scipy.linalg.{name} is not read by jac: {REFUSED[name]}", position)
    return lower


for _name in REFUSED:
    variant("scipy.linalg", _name)(_refused(_name))

SCIPY_LINALG = SCIPY_LINALG_READ | frozenset(REFUSED)  # LIBRARY_NAMES["scipy.linalg"]: the refused say why


# --- jax.scipy.linalg: JAX's reading of the same names (session 33e) --------------------------------------------------
# JAX's value and its gradient are the reference. Where JAX computes as SciPy (lu_factor, lu_solve, svd, qr, det, inv,
# block_diag, toeplitz, hankel, circulant) the lowerings above are reused; where it differs it has its own:
# - solve: assume_a 'gen' / 'sym' / 'her' all solve with the whole of a (jnp.linalg.solve; ``lower`` unread); 'pos'
#   is refused: its value reads one triangle, its gradient the whole of a (-A⁻¹ dA x, lax.custom_linear_solve's
#   matvec a @ x), and its second derivative takes dA for dAᵀ in the transposed solve (symmetric=True);
# - eigh reads (a + aᵀ)/2 (lax.linalg.eigh's symmetrize_input), whatever ``lower`` says;
# - expm is NaN (derivative 0) where its scaling would need more than ``max_squarings`` squarings;
# - lu returns (P, L, U) with A = P L U (torch.linalg.lu's), (P L, U) with permute_l=True.


def _in_jax(lowering):
    """``lowering`` (scipy.linalg's) with its refusals naming jax.scipy.linalg."""
    def lower(b, args, kwargs, position):
        try:
            return lowering(b, args, kwargs, position)
        except JacError as e:
            raise e.reword(re.sub(r"(?<!jax\.)scipy\.linalg", "jax.scipy.linalg", e.message)) from None
    lower.__doc__ = lowering.__doc__
    return lower


@variant("jax.scipy.linalg", "solve")
def _jax_solve(b, args, kwargs, position):
    """jax.scipy.linalg.solve(a, b, lower=False, assume_a='gen'): X with A X = b. 'gen', 'sym' and 'her' solve with
    the whole of a (JAX's jnp.linalg.solve; ``lower`` is not read); 'pos' is refused (its derivatives are not those
    of a function: see the message)."""
    a = arguments("solve", args, kwargs, {"a": REQUIRED, "b": REQUIRED, "lower": False, "overwrite_a": False,
                                          "overwrite_b": False, "debug": False, "check_finite": True,
                                          "assume_a": "gen"}, position)
    assume = static(b, a["assume_a"], "assume_a", position)
    if assume not in ("gen", "sym", "her", "pos"):
        raise JacValueError(f"jax.scipy.linalg.solve: assume_a must be 'gen', 'sym', 'her' or 'pos' (JAX raises "
                            f"otherwise), got {assume!r}", position)
    x = tensor(b, a["a"], "jax.scipy.linalg.solve", position)
    rhs = tensor(b, a["b"], "jax.scipy.linalg.solve", position)
    numpy_solve = library_function("numpy", "solve")
    if assume == "pos":
        raise JacValueError("jax.scipy.linalg.solve(assume_a='pos') is not read by jac: its value reads one triangle "
                            "of a and its gradient the whole of a, and its second derivative (lax.custom_linear_solve "
                            "with symmetric=True) takes a's tangent for its transpose, which no composition of jac's "
                            "ops gives; for a symmetric a write assume_a='gen' (JAX's jnp.linalg.solve) or "
                            "jax.scipy.linalg.cho_solve((jnp.linalg.cholesky(a), True), b)", position)
    return numpy_solve(b, [x, rhs], {}, position)


@variant("jax.scipy.linalg", "inv")
def _jax_inv(b, args, kwargs, position):
    """jax.scipy.linalg.inv(a): A⁻¹ (jnp.linalg.inv)."""
    a = arguments("inv", args, kwargs, {"a": REQUIRED, "overwrite_a": False, "check_finite": True}, position)
    return _in_jax(_inv)(b, [a["a"]], {}, position)


@variant("jax.scipy.linalg", "det")
def _jax_det(b, args, kwargs, position):
    """jax.scipy.linalg.det(a): the determinant (jnp.linalg.det)."""
    a = arguments("det", args, kwargs, {"a": REQUIRED, "overwrite_a": False, "check_finite": True}, position)
    return _in_jax(_det)(b, [a["a"]], {}, position)


_THETA13 = 5.371920351148152  # JAX's (and Higham's) bound on ‖A‖₁ for its degree-13 Padé approximant in float64


@variant("jax.scipy.linalg", "expm")
def _jax_expm(b, args, kwargs, position):
    """jax.scipy.linalg.expm(A, *, upper_triangular=False, max_squarings=16): the matrix exponential (jac's to
    rounding; JAX's Padé agrees to ~1e-15), NaN with derivative 0 where ‖A‖₁ ≥ θ₁₃·2^(max_squarings + 1), where JAX's
    scaling would need more squarings than max_squarings. upper_triangular=True is refused (JAX's solve then reads
    one triangle of its Padé denominator: another value for a matrix that is not triangular)."""
    a = arguments("expm", args, kwargs, {"A": REQUIRED, "upper_triangular": False, "max_squarings": 16}, position)
    if static(b, a["upper_triangular"], "upper_triangular", position):
        raise JacValueError("jax.scipy.linalg.expm(upper_triangular=True) is not read by jac: leave it out (the same "
                            "value for an upper triangular A)", position)
    squarings = static(b, a["max_squarings"], "max_squarings", position)
    if isinstance(squarings, bool) or not isinstance(squarings, (int, float, np.number)) or squarings < 0 \
            or not float(squarings).is_integer():
        raise JacValueError(f"jax.scipy.linalg.expm: max_squarings must be a non-negative int, got {squarings!r}",
                            position)
    x = tensor(b, a["A"], "jax.scipy.linalg.expm", position)
    _need_ndim("jax.scipy.linalg.expm", x, (2,), position)
    _square(x, "jax.scipy.linalg.expm", position)
    e = b.apply("matrix_exp", x, position=position)
    norm = library_function("numpy", "norm")(b, [x], {"ord": 1}, position)
    too_big = b.apply("ge", norm, b.const(_THETA13 * 2.0 ** (int(squarings) + 1), position), position=position)
    return FUNCTIONS["where"](b, [too_big, b.const(np.nan, position), e], {}, position)


@variant("jax.scipy.linalg", "eigh")
def _jax_eigh(b, args, kwargs, position):
    """jax.scipy.linalg.eigh(a, lower=True, eigvals_only=False): (w, v) of (a + aᵀ)/2, as JAX symmetrizes its input
    (``lower`` picks LAPACK's triangle of that symmetric matrix: the same eigenvalues, JAX's signs)."""
    a = arguments("eigh", args, kwargs, {"a": REQUIRED, "b": None, "lower": True, "eigvals_only": False,
                                         "overwrite_a": False, "overwrite_b": False, "turbo": True, "eigvals": None,
                                         "type": 1, "check_finite": True}, position)
    if a["b"] is not None or a["eigvals"] is not None or static(b, a["type"], "type", position) != 1:
        raise JacValueError("jax.scipy.linalg.eigh: b, eigvals and type are not read (JAX implements only b=None, "
                            "eigvals=None, type=1)", position)
    x = tensor(b, a["a"], "jax.scipy.linalg.eigh", position)
    _need_ndim("jax.scipy.linalg.eigh", x, tuple(range(2, 10)), position)
    _square(x, "jax.scipy.linalg.eigh", position)
    s = b.apply("mul", b.apply("add", x, matrix_transpose(b, x, position), position=position), 0.5, position=position)
    uplo = "L" if static(b, a["lower"], "lower", position) else "U"
    w = b.apply("eigvalsh", s, uplo=uplo, position=position)
    if static(b, a["eigvals_only"], "eigvals_only", position):
        return w
    return Items([w, b.apply("eigh_vectors", s, uplo=uplo, position=position)])


@variant("jax.scipy.linalg", "svd")
def _jax_svd(b, args, kwargs, position):
    """jax.scipy.linalg.svd(a, full_matrices=True, compute_uv=True): NumPy's (U, s, Vh); s alone with
    compute_uv=False. JAX ignores lapack_driver, and so does jac here."""
    a = arguments("svd", args, kwargs, {"a": REQUIRED, "full_matrices": True, "compute_uv": True,
                                        "overwrite_a": False, "check_finite": True, "lapack_driver": "gesdd"},
                  position)
    return FUNCTIONS["svd"](b, [a["a"]], {"full_matrices": a["full_matrices"], "compute_uv": a["compute_uv"]},
                            position)


@variant("jax.scipy.linalg", "qr")
def _jax_qr(b, args, kwargs, position):
    """jax.scipy.linalg.qr(a, mode='full', pivoting=False): (Q, R) ('full' / 'economic') or (R,) ('r')."""
    a = arguments("qr", args, kwargs, {"a": REQUIRED, "overwrite_a": False, "lwork": None, "mode": "full",
                                       "pivoting": False, "check_finite": True}, position)
    return _in_jax(_qr)(b, [a["a"]], {"mode": a["mode"], "pivoting": a["pivoting"]}, position)


@variant("jax.scipy.linalg", "lu")
def _jax_lu(b, args, kwargs, position):
    """jax.scipy.linalg.lu(a, permute_l=False): (P, L, U) with A = P L U, P the permutation matrix of LAPACK's
    pivots (a constant), L unit lower and U upper triangular; (P L, U) with permute_l=True."""
    a = arguments("lu", args, kwargs, {"a": REQUIRED, "permute_l": False, "overwrite_a": False,
                                       "check_finite": True}, position)
    p, low, up = library_function("torch.linalg", "lu")(b, [a["a"]], {}, position)
    if static(b, a["permute_l"], "permute_l", position):
        return Items([b.apply("matmul", p, low, position=position), up])
    return Items([p, low, up])


JAX_REFUSED = {
    "cholesky": "JAX's gradient of it is not the derivative of its value (its value reads one triangle of a, its "
                "gradient gives the other triangle entries too, and its Hessian is not symmetric), which no "
                "composition of jac's ops gives; write jnp.linalg.cholesky(a) (the lower factor of (a + aᵀ)/2, "
                "with the symmetric gradient) or jnp.linalg.cholesky(a).mT for the upper one",
    "cho_factor": "it is jax.scipy.linalg.cholesky, whose gradient jac does not read (JAX's is not the derivative "
                  "of its value); write L = jnp.linalg.cholesky(a) and pass (L, True) to jax.scipy.linalg.cho_solve",
    "sqrtm": "JAX's result is complex (it goes through the complex Schur form), which jac does not have; for a "
             "symmetric positive definite A write V @ jnp.diag(jnp.sqrt(w)) @ V.T with w, V = jnp.linalg.eigh(A)",
    "polar": "JAX's default method 'qdwh' iterates to a tolerance, and its derivative is that of the iterations; "
             "write U, s, Vh = jnp.linalg.svd(a, full_matrices=False) and u = U @ Vh, p = Vh.T @ jnp.diag(s) @ Vh",
}


def _jax_refused(name):
    def lower(b, args, kwargs, position):
        raise JacValueError(f"jax.scipy.linalg.{name} is not read by jac: {JAX_REFUSED[name]}", position)
    return lower


for _name in ("lu_factor", "lu_solve", "block_diag", "toeplitz", "hankel", "circulant"):  # SciPy's signatures
    variant("jax.scipy.linalg", _name)(_in_jax(LIBRARY_FUNCTIONS[("scipy.linalg", _name)]))
for _name in JAX_REFUSED:
    variant("jax.scipy.linalg", _name)(_jax_refused(_name))

JAX_LINALG = frozenset({"cho_solve", "solve_triangular", "solve", "inv", "det", "expm", "eigh", "svd", "qr", "lu",
                        "lu_factor", "lu_solve", "block_diag", "toeplitz", "hankel", "circulant"}) | frozenset(JAX_REFUSED)
