"""Where a result holds fewer right digits than it prints: ill-conditioned linear algebra.

jac refuses the derivative of eigenvalues or singular values that repeat (``ops.REPEATED``), but just past that
cutoff it answers, and the answer is only as good as floating point makes it: the eigenvectors LAPACK returns
are rotated within a near-repeated pair by about eps·max|λ| / gap, so a derivative that reads the pair apart
(vᵢvᵢᵀ) holds an error of that size relative to itself; and a solve, an inverse or a determinant of a matrix of
condition number κ (2-norm) loses about κ·eps relative. This module estimates those errors after the fact from
the values the evaluation already has, and reports the ones past :func:`threshold` as ``"warnings"`` of kind
``conditioning`` (the report functions call it; the API's repeated calls and kernels never pay it).

What the output reads decides, as for the refusal: the error of the gradient V diag(c) Vᵀ from a rotation θ of
the pair (i, j) is (cᵢ − cⱼ)·θ, so the trace (c the same) is exact however near the values are, and Σλ² (c = 2λ)
loses no more than eps. The cotangent c that reaches the op is found by one reverse pass (``probe``: the
``--v`` given, else a seeded random one, which reads every row of a Jacobian), and only for ops whose values
alone put the estimate past the threshold, so a well-conditioned input costs one scan of the watched nodes.

>>> from jacobi_cli.tools import api
>>> import numpy as np
>>> A = np.diag([1.0, 1.0 + 1e-12, 2.0])
>>> problem = api.prepare("np.linalg.eigvalsh(A)", {"A": A})
>>> [round(np.log10(w.relative_error)) for w in estimates(problem, [("∂y/∂A", "A")])]
[-4]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..ir.ops import repeated_floor

# Ops whose derivatives are 1/gap-sensitive, by what their values are: eigenvalues / singular values (only their
# derivatives lose digits: the values themselves are accurate to eps·max|λ|), and eigenvectors / singular vectors
# (their values too).
SPECTRAL_VALUES = {"eigvalsh": "eigenvalues", "svdvals": "singular values"}
SPECTRAL_VECTORS = {"eigh_vectors": "eigenvectors", "svd_u": "singular vectors", "svd_vh": "singular vectors"}
# Ops whose value and derivatives lose cond(A)·eps relative, A their first argument (lstsq and pinv are solves
# with R of A's QR, whose condition number is A's; lu_solve and cho_solve are triangular solves).
LINEAR = {"solve": "solve", "inv": "inv", "det": "det", "logabsdet": "slogdet / logdet"}
# The sign of a determinant (slogdet's sign): exact, or wrong, never a little off. It may be wrong once the
# determinant's own error (cond·eps relative, as ``det``'s) is not far below 1; cond·eps is an estimate, not a bound
# (LU's growth and n can make it larger), so the warning starts a hundred times sooner: at SIGN_CUT. Its derivative is
# 0 wherever it is defined, but what multiplies by it carries it into every derivative (unless it is the output).
SIGNS = {"detsign": "slogdet"}
SIGN_CUT = 1e-2
# Ops whose derivatives lose about cond(A)·eps relative while their values hold more (session 35, measured against
# mpmath in benchmarks/conditioning35_probe.py): Cholesky's factor is accurate to about √cond·eps, its derivative
# (two triangular solves with L) to cond·eps; QR's Q and R, and their derivatives (solves with R), lose
# cond'·eps, cond' = ‖A‖·max‖R⁻¹[:, j]‖ over the columns j that set Q (all but the last of a square or wide A,
# whose last column of Q is fixed by the others: a square matrix singular only in its last column loses nothing).
# R's value loses less: the error of Q's column j moves R's rows below j, so cond'·eps times their size relative to R's.
# expm (scaling and squaring) loses about ‖A‖·eps, value and derivative (the condition number of exp at a normal
# matrix: a skew-symmetric A of norm 3e8 gives 1.6e-7, though diag(-1e9, -1) coupled gives 5e-11: an upper estimate).
# LU (session 37: torch.linalg.lu, lu_factor, torch.lu): L, U and their derivatives (L⁻¹ Pᵀ dA U⁻¹, kept upper
# times U or strictly lower) lose eps·‖A‖/|u_kk| where a pivot u_kk before the last is small (the multipliers below
# it are quotients by it); a small last pivot (A singular only in its last direction) moves neither, whatever
# cond(A) is: measured against a 40-digit LU in benchmarks/special37_probe.py, where cond·eps warned falsely.
FACTORS = {"cholesky": "cholesky", "qr_q": "qr", "qr_r": "qr", "matrix_exp": "expm", "lu": "lu"}
# Past this many multiply-adds (n³ per matrix, summed over a stack) the condition number is not computed and no
# warning is given: a bounded cost at report time (np.linalg.cond's SVD of a 1000 × 1000 matrix takes ~0.3 s).
COND_WORK = 2e9
# Past this many pairs (n² per matrix, summed) only neighbouring values are compared.
PAIRS = 4_000_000
MAX_WARNINGS = 5


def threshold(dtype) -> float:
    """√eps of ``dtype``: past it more than half the digits may be wrong (1.5e-8 for float64, about where
    NumPy's 8 printed digits start to change; 3.5e-4 for float32). Below it no warning is given."""
    return float(np.sqrt(np.finfo(dtype).eps))


@dataclass(frozen=True)
class Conditioning:
    """A result whose estimated relative error passes :func:`threshold`: ``where`` the result (``"value"``,
    ``"∂y/∂A"``, ``"A.grad"``, ``"jvp"``, ``"∂²y"``), ``op`` the op that loses the digits, ``position`` its column."""

    where: str
    op: str
    position: int | None
    message: str
    relative_error: float
    results: tuple = ()  # every result it reaches, ``where`` first
    kind: str = "conditioning"

    def as_dict(self) -> dict:
        return {"kind": self.kind, "in": self.where, "op": self.op, "position": self.position,
                "message": self.message, "relative_error": float(f"{self.relative_error:.3g}"),
                "results": list(self.results or (self.where,))}


@dataclass
class _Found:
    """A watched node whose values alone put the estimate past the threshold."""

    node: object
    raw: float  # the estimate whatever the output reads of it
    text: str  # why, for the message: "eigenvalues 0 and 1 of eigvalsh are 2.9e-14 apart ..."
    formula: str  # "eps·max|λ|/gap"
    pairs: tuple = ()  # (i, j, sensitivity, sign): sensitivity eps·scale/gap of each pair past the threshold
    read: float | None = None  # the estimate weighted by what the output reads (None: not probed)
    value: float | None = None  # the value's estimate where it is not ``raw`` (cholesky's factor: √cond·eps)
    per: object = None  # the estimate per matrix of the stack (for the examples of a batch)
    small: tuple | None = None  # eigvalsh / svdvals: (eps·max|w| per matrix, w) where a value is far below max|w|
    relative: float | None = None  # ``small`` weighed: the error of what the output reads relative to itself
    relative_text: tuple = ()  # (text, formula) of that estimate


def estimates(problem, results, probe=None, order: int = 1) -> list:
    """The ``conditioning`` warnings of ``problem`` (one output's) for ``results``: ``[(where, input name)]``,
    the name ``None`` for the value, ``"*"`` for a result of every input, or a tuple of names (a jvp's tangents). ``probe``: the output's
    cotangent to weigh what it reads (None: a seeded random one). ``order`` 2 and more: second derivatives,
    whose divided differences lose digits whatever the output reads (not weighed)."""
    graph, values = problem.graph, problem.values
    cut = threshold(graph.dtype)
    found = _scan(graph, values, cut)
    if not found:
        return []
    if any(f.pairs or f.small for f in found):
        _weigh(graph, values, found, probe)
    out = []
    for f in found:
        node = f.node
        spectral = node.op in SPECTRAL_VALUES or node.op in SPECTRAL_VECTORS
        base = f.raw if (order > 1 or not spectral or f.read is None) else f.read
        weighed = max(base, f.relative or 0.0)  # a small value read relative to itself (cond, log σ) loses digits
        reached, hit = None, {}
        for where, name in results:
            if node.op in SIGNS and name is not None:
                # its own derivative is 0, but what multiplies by it carries it into every derivative, whichever
                # input it is by (x's of s·x is s)
                if node.id != graph.output and f.raw > cut:
                    hit.setdefault(where, f.raw)
                continue
            if name is None:
                if node.op in SPECTRAL_VALUES:  # accurate to eps·max|λ|: only what reads a small one relatively loses
                    if f.relative is None:
                        continue
                    est = f.relative
                else:
                    est = f.raw if f.read is None or node.op in LINEAR or node.op in FACTORS else f.read
                    est = est if f.value is None else f.value
            else:
                reached = _inputs_of(graph, node.id) if reached is None else reached
                if not (reached and (name == "*" or (reached & ({name} if isinstance(name, str) else set(name))))):
                    continue
                est = weighed
            if est > cut:
                hit.setdefault(where, est)
        if hit:
            out.append(_warning(list(hit), f, min(max(hit.values()), 1.0), order,
                                f.relative is not None and f.relative > base))
    return out


def _warning(wheres: list, f: _Found, est: float, order: int, relative: bool = False) -> Conditioning:
    """One warning per op: ``in`` the first result it reaches, the message naming them all (``relative``: the
    estimate is the one of a small value read relative to itself)."""
    node = f.node
    what = ("value" if wheres == ["value"] else "value and its derivative" if len(wheres) == 2 and "value" in wheres
            else "value and its derivatives" if "value" in wheres else "derivative" if len(wheres) == 1 else
            "derivatives")
    alike = ""
    if node.op in SPECTRAL_VALUES and order == 1 and not relative:
        alike = ("; a function that treats them alike (their sum, Σλ²) is accurate" if node.op == "eigvalsh" else
                 "; a function that treats them alike (their sum) is accurate")
    named = wheres[0] if len(wheres) == 1 else ", ".join(wheres[:-1]) + " and " + wheres[-1]
    why, formula = f.relative_text if relative else (f.text, f.formula)
    if node.op in SIGNS:
        return Conditioning(wheres[0], node.op, node.position,
                            f"{named}: {why}: its determinant may be off by about {_short(est)} relative "
                            f"({formula}), so the sign may be wrong; NumPy's, PyTorch's and JAX's are as unsure",
                            est, tuple(wheres))
    text = (f"{named}: {why}: th{'is' if len(wheres) == 1 else 'e'} {what} may be off by about {_short(est)} "
            f"relative ({formula}){alike}; it is the best floating point gives here, and PyTorch's and JAX's are "
            f"as far off")
    return Conditioning(wheres[0], node.op, node.position, text, est, tuple(wheres))


def _short(x: float) -> str:
    """``7e-3``: one digit, the exponent without its zeros."""
    mantissa, exponent = f"{x:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


# --- the scan: estimates from the values alone -------------------------------------------------------------

def watched(op: str) -> bool:
    """Is ``op`` one whose results the scan weighs?"""
    return op in SPECTRAL_VALUES or op in SPECTRAL_VECTORS or op in LINEAR or op in FACTORS or op in SIGNS


def _scan(graph, values, cut: float, fast: bool = False) -> list:
    """The watched nodes' estimates (``fast``: a batch's first look, where an upper bound of a condition number
    that stays below √(cut/eps) stands for it: an inverse costs a quarter of an SVD; the examples past it are
    weighed exactly afterwards)."""
    needed = graph.needed()
    bound = float(np.sqrt(cut / np.finfo(graph.dtype).eps)) if fast else None
    found = []
    for node in graph.nodes:
        if not needed[node.id] or not watched(node.op):
            continue
        with np.errstate(all="ignore"):
            f = (_linear(node, values, bound) if node.op in LINEAR or node.op in SIGNS else
                 _factor(graph, node, values, bound)
                 if node.op in FACTORS else _spectral(graph, node, values, cut))
        if f is not None:
            found.append(f)
    _chained(graph, found)
    found = [f for f in found if f.raw > cut or f.small is not None or (f.value or 0.0) > cut]
    # lstsq and pinv solve with R of A's QR: the solve's warning says it; their Q and R are not warned of again
    solved = {graph.nodes[f.node.args[0]].args for f in found if f.node.op == "solve"
              and graph.nodes[f.node.args[0]].op == "qr_r"}
    found = [f for f in found if not (f.node.op in ("qr_q", "qr_r") and f.node.args in solved)]
    # L and U of one matrix (lu_factor's packed LU holds both): one warning, the first's
    factored = set()
    kept = []
    for f in found:
        if f.node.op == "lu":
            if f.node.args in factored:
                continue
            factored.add(f.node.args)
        kept.append(f)
    return kept


def _chained(graph, found: list) -> None:
    """scipy's cho_solve solves with L, then with Lᵀ: the second result loses cond(L)² = cond(A) times eps, each
    solve alone cond(L)·eps. A solve whose right-hand side is a solve (through reshapes and transposes), both
    matrices made from one Cholesky factor, is given the product."""
    by_id = {f.node.id: f for f in found if f.node.op == "solve"}
    unit = float(np.finfo(graph.dtype).eps)
    for f in list(by_id.values()):
        g = by_id.get(_through_views(graph, f.node.args[1]))
        if g is None or g.per is None or f.per is None:
            continue
        roots = _factors_of(graph, f.node.args[0])
        if not roots or roots != _factors_of(graph, g.node.args[0]):
            continue
        kf, kg = float(np.max(f.per)) / unit, float(np.max(g.per)) / unit
        f.per = f.per * g.per / unit
        f.raw = float(np.max(f.per))
        f.text = (f"the two triangular factors of a Cholesky factorization it solves with are ill-conditioned "
                  f"(condition numbers {kg:.2g} and {kf:.2g} in the 2-norm, multiplied: {kg * kf:.2g})")


def _through_views(graph, nid: int) -> int:
    node = graph.nodes[nid]
    while node.op in ("reshape", "transpose", "getitem", "scatter") and node.args:
        node = graph.nodes[node.args[0]]
    return node.id


def _factors_of(graph, nid: int, limit: int = 24) -> frozenset:
    """The cholesky nodes that node ``nid`` is made from (a bounded walk back through the factor's views)."""
    seen, stack, out = {nid}, [nid], set()
    while stack and len(seen) < limit:
        node = graph.nodes[stack.pop()]
        if node.op == "cholesky":
            out.add(node.id)
            continue
        for a in node.args:
            if a not in seen:
                seen.add(a)
                stack.append(a)
    return frozenset(out)


def _cond(stack, bound=None):
    """cond₂ of each matrix of ``stack`` (NaN: inf); with ``bound``, ‖A‖_F·‖A⁻¹‖_F (at least cond₂) where that is
    at most ``bound``, cond₂ only past it."""
    if bound is not None:
        try:
            upper = np.linalg.norm(stack, axis=(-2, -1)) * np.linalg.norm(np.linalg.inv(stack), axis=(-2, -1))
        except np.linalg.LinAlgError:
            upper = None
        if upper is not None:
            exact = ~(upper <= bound)
            out = np.asarray(upper, dtype=float).copy()
            if exact.any():
                out[exact] = np.linalg.cond(stack[exact])
            return np.nan_to_num(out, nan=np.inf)
    return np.nan_to_num(np.asarray(np.linalg.cond(stack), dtype=float), nan=np.inf)


def _norm2(stack, bound=None):
    """‖A‖₂ of each matrix; with ``bound`` set (a batch's first look), ‖A‖_F, at least as large."""
    return np.linalg.norm(stack, "fro" if bound is not None else 2, axis=(-2, -1))


def _linear(node, values, bound=None) -> _Found | None:
    a = np.asarray(values[node.args[0]])
    if a.ndim < 2 or a.size == 0 or a.dtype.kind not in "f" or not np.all(np.isfinite(a)):
        return None  # NaN and inf are finite.py's; no matrix (a (0, n, n) batch) has no condition number
    n = a.shape[-1]
    if a.size * n > COND_WORK:
        return None
    per = _cond(a.reshape((-1, n, n)), bound)
    kappa = float(np.max(per))
    if not np.isfinite(kappa):
        kappa = np.inf
    eps = float(np.finfo(a.dtype).eps)
    if node.op in SIGNS:  # a sign is exact or wrong: only past SIGN_CUT, and said so (``_warning``)
        per = np.where(per * eps > SIGN_CUT, per * eps, 0.0)
        text = f"the matrix of {SIGNS[node.op]} is ill-conditioned (condition number {kappa:.2g} in the 2-norm)"
        return _Found(node, float(np.max(per)), text, "cond·eps", per=per)
    name = LINEAR[node.op]
    who = node.params.get("who") if node.op == "solve" else None
    word = who.split(":")[0].split(" ")[0] if isinstance(who, str) and who.strip() else "solve"
    if word not in ("solve", name):  # lstsq and pinv solve with R of A's QR, whose condition number is A's
        text = f"the matrix {word} solves with is ill-conditioned (condition number {kappa:.2g} in the 2-norm)"
    else:
        text = f"the matrix of {name} is ill-conditioned (condition number {kappa:.2g} in the 2-norm)"
    return _Found(node, kappa * eps, text, "cond·eps", per=per * eps)


def _factor(graph, node, values, bound=None) -> _Found | None:
    """cholesky: cond(A)·eps for the derivatives, √cond·eps for the factor; qr: cond'·eps (see ``FACTORS``)."""
    a = np.asarray(values[node.args[0]])
    if a.ndim < 2 or a.size == 0 or a.dtype.kind != "f" or not np.all(np.isfinite(a)):
        return None
    m, n = a.shape[-2:]
    if a.size * max(m, n) > COND_WORK:
        return None
    eps = float(np.finfo(a.dtype).eps)
    stack = a.reshape((-1, m, n))
    if node.op == "matrix_exp":
        per = np.nan_to_num(_norm2(stack, bound), nan=np.inf)
        norm = float(np.max(per))
        text = f"the matrix of expm has a large norm ({norm:.2g} in the 2-norm: scaling and squaring)"
        return _Found(node, norm * eps, text, "‖A‖·eps", per=per * eps)
    if node.op == "cholesky":
        per = _cond((stack + np.swapaxes(stack, -1, -2)) / 2, bound)
        kappa = float(np.max(per))
        text = f"the matrix of cholesky is ill-conditioned (condition number {kappa:.2g} in the 2-norm)"
        return _Found(node, kappa * eps, text, "cond·eps", value=float(np.sqrt(kappa)) * eps, per=per * eps)
    if node.op == "lu":
        return _lu(node, stack, eps, bound)
    k = min(m, n)
    cols = k if m > n else k - 1  # the columns of R⁻¹ that set Q
    if cols < 1:
        return None
    r = _sibling(graph, node, values, "qr_r")
    r = (np.linalg.qr(stack, mode="r") if r is None else np.asarray(r).reshape((-1,) + np.shape(r)[-2:]))[:, :k, :k]
    try:
        rinv = np.linalg.inv(r)
    except np.linalg.LinAlgError:  # one R singular (qr's derivative refuses it on its own): each alone
        rinv = np.stack([_inv_or_inf(x) for x in r])
    norm = _norm2(stack, bound)
    cols_inv = np.linalg.norm(rinv[:, :, :cols], axis=-2)  # ‖R⁻¹[:, j]‖, (stack, cols)
    per = np.nan_to_num(norm * np.max(cols_inv, axis=-1), nan=np.inf)
    kappa = float(np.max(per))
    text = (f"the first columns of the matrix of qr are nearly dependent (‖A‖·‖R⁻¹‖ over the columns that set Q: "
            f"{kappa:.2g})")
    value = None
    if node.op == "qr_r":  # Q's column j, off by eps·‖A‖·‖R⁻¹[:, j]‖, moves the rows of R below j
        rows = np.sum(r ** 2, axis=-1)
        below = np.sqrt(np.maximum(np.cumsum(rows[:, ::-1], axis=-1)[:, ::-1] - rows, 0.0))[:, :cols]
        top = np.max(np.abs(r), axis=(-2, -1))
        moved = np.max(cols_inv * below, axis=-1) * norm / np.where(top > 0, top, 1.0)
        value = float(np.max(np.nan_to_num(moved, nan=np.inf))) * eps
    return _Found(node, kappa * eps, text, "cond·eps", value=value, per=per * eps)


def _lu(node, stack, eps, bound=None) -> _Found | None:
    """lu: eps·‖A‖ / the smallest pivot |u_kk| that sets the factors (all but the last of a square or wide A),
    for L, U and their derivatives alike (``FACTORS``)."""
    from scipy.linalg import lu_factor

    m, n = stack.shape[-2:]
    k = min(m, n)
    cols = k if m > n else k - 1  # a last pivot of a square or wide A divides nothing
    if cols < 1:
        return None
    pivots = np.abs(np.stack([np.diagonal(lu_factor(a, check_finite=False)[0])[:cols] for a in stack]))
    smallest = np.min(pivots, axis=-1)
    norm = _norm2(stack, bound)
    per = np.where(smallest > 0, norm / np.where(smallest > 0, smallest, 1.0), np.inf)
    worst = float(np.max(per))
    text = (f"a pivot of lu before the last is small (‖A‖ / |u_kk| = {worst:.2g}: the multipliers below it are "
            "quotients by it)")
    return _Found(node, worst * eps, text, "‖A‖·eps/|u_kk|", per=per * eps)


def _inv_or_inf(r):
    try:
        return np.linalg.inv(r)
    except np.linalg.LinAlgError:
        return np.full(r.shape, np.inf)


def _sibling(graph, node, values, op: str):
    """The value of a node ``op`` of the same arguments as ``node`` (eigh makes eigvalsh and eigh_vectors of one
    matrix, qr its Q and R), or None."""
    if node.op == op:
        return values[node.id]
    for other in graph.nodes:
        if other.op == op and other.args == node.args and other.params.get("uplo") == node.params.get("uplo") \
                and values[other.id] is not None:
            return values[other.id]
    return None


def _spectral(graph, node, values, cut: float) -> _Found | None:
    a = np.asarray(values[node.args[0]])
    if a.ndim < 2 or a.size == 0 or a.dtype.kind != "f" or not np.all(np.isfinite(a)):
        return None
    m, n = a.shape[-2:]
    eig = node.op in ("eigvalsh", "eigh_vectors")
    w = _spectrum(graph, node, values, a, eig)
    if w is None or w.shape[-1] < 1:
        return None
    w = w.reshape((-1, w.shape[-1]))
    k = w.shape[-1]
    eps = float(np.finfo(a.dtype).eps)
    size = n if eig else max(m, n)
    scale = np.max(np.abs(w), axis=-1, keepdims=True, initial=0.0)
    scale = np.where(scale > 0, scale, np.finfo(a.dtype).tiny)
    floor = repeated_floor(size, eps, scale)  # tied: refused, or read alike (then exact); not counted here
    pairs = []  # (i, j, sensitivity per matrix (B,), sign): sign -1 compares c_i - c_j, +1 c_i + c_j, 0 c_i alone
    neighbours = w.shape[0] * k * k > PAIRS
    for i in range(k):
        for j in range(i + 1, min(k, i + 2) if neighbours else k):
            gap = np.abs(w[:, i] - w[:, j])
            pairs.append((i, j, np.where(gap > floor[:, 0], eps * scale[:, 0] / np.maximum(gap, floor[:, 0]), 0.0),
                          -1))
    if not eig:  # σᵢ + σⱼ (the pair ±σ of [[0, A], [Aᵀ, 0]]), and σᵢ itself of a tall or wide matrix
        zero = size * eps * scale[:, 0]  # at or below: svd_zero's refusal, not counted here
        for i in range(k):
            if m != n:
                s = w[:, i]
                pairs.append((i, i, np.where(s > zero, eps * scale[:, 0] / np.maximum(s, zero), 0.0), 0))
            for j in range(i + 1, min(k, i + 2) if neighbours else k):
                s = w[:, i] + w[:, j]
                ok = (w[:, i] > zero) & (w[:, j] > zero)
                pairs.append((i, j, np.where(ok, eps * scale[:, 0] / np.maximum(s, zero), 0.0), 1))
    pairs = [(i, j, sens, sign) for i, j, sens, sign in pairs if np.max(sens) > cut]
    small, per = None, np.zeros(w.shape[0])
    if node.op in SPECTRAL_VALUES:  # each value is accurate to eps·max|w|: a small one to eps·max|w|/|wᵢ| of itself
        low = np.min(np.abs(w), axis=-1, initial=np.inf)
        rel = np.where(low > 0, eps * scale[:, 0] / np.where(low > 0, low, 1.0), np.inf)
        if np.max(rel) > cut:
            small, per = (eps * scale[:, 0], w), rel
    for _, _, sens, _ in pairs:
        per = np.maximum(per, sens)
    if not pairs:
        return None if small is None else _Found(node, 0.0, "", "", per=per, small=small)
    i, j, sens, sign = max(pairs, key=lambda p: float(np.max(p[2])))
    raw = float(np.max(sens))
    b = int(np.argmax(sens))
    sym = "λ" if eig else "σ"
    values_word = "eigenvalues" if eig else "singular values"
    of = f" of matrix {b} of the stack" if w.shape[0] > 1 else ""
    if sign == -1:
        gap = abs(float(w[b, i] - w[b, j]))
        text = (f"{values_word} {i} and {j}{of} of {_title(node.op)} are {gap:.2g} apart ({gap / float(scale[b, 0]):.2g} "
                f"relative to max|{sym}|)")
        formula = f"eps·max|{sym}|/gap"
    elif sign == 0:
        text = (f"singular value {i}{of} of {_title(node.op)} is {float(w[b, i]):.2g} ({float(w[b, i] / scale[b, 0]):.2g} "
                f"relative to σmax), near zero")
        formula = "eps·σmax/σᵢ"
    else:
        total = float(w[b, i] + w[b, j])
        text = (f"singular values {i} and {j}{of} of {_title(node.op)} sum to {total:.2g} ({total / float(scale[b, 0]):.2g} "
                f"relative to σmax), near zero")
        formula = "eps·σmax/(σᵢ + σⱼ)"
    return _Found(node, raw, text, formula, tuple(pairs), per=per, small=small)


def _title(op: str) -> str:
    return {"eigvalsh": "eigvalsh", "eigh_vectors": "eigh's eigenvectors", "svdvals": "svd / svdvals",
            "svd_u": "svd's U", "svd_vh": "svd's Vh"}[op]


def _spectrum(graph, node, values, a, eig: bool):
    """The eigenvalues (ascending) or singular values (descending) of the op's matrix: a sibling node's (eigh
    makes eigvalsh and eigh_vectors of one matrix), else computed."""
    want = "eigvalsh" if eig else "svdvals"
    if node.op == want:
        return np.asarray(values[node.id])
    for other in graph.nodes:
        if other.op == want and other.args == node.args and other.params.get("uplo") == node.params.get("uplo") \
                and values[other.id] is not None:
            return np.asarray(values[other.id])
    if eig:
        return np.linalg.eigvalsh((a + np.swapaxes(a, -1, -2)) / 2)
    return np.linalg.svd(a, compute_uv=False)


# --- what the output reads: one reverse pass to the watched nodes ---------------------------------------------

def _weigh(graph, values, found: list, probe) -> None:
    """Set ``read``, the estimate weighted by the cotangent reaching each spectral node (see the module's text);
    left None where no pass reaches it (no input it depends on requires grad) or the pass is refused."""
    ids = {f.node.id for f in found if (f.pairs or f.small) and graph.nodes[f.node.id].requires_grad}
    if not ids:
        return
    from ..errors import JacError
    from ..ir.reverse import pullback

    shape = tuple(graph.output_shape)
    if probe is None:
        probe = np.random.default_rng(0).standard_normal(shape)
    seed = np.asarray(probe, dtype=graph.dtype).reshape((1,) + shape)
    kept = {}

    def keep(nid, g):
        if nid in ids:
            kept[nid] = np.asarray(g.to_dense() if hasattr(g, "to_dense") else g)[0]

    flags = [node.requires_grad for node in graph.nodes]
    try:
        with np.errstate(all="ignore"):
            pullback(graph.nodes, values, {graph.output: seed}, flags, keep, stop=min(ids))
    except JacError:
        return
    for f in found:
        if f.node.id not in ids:
            continue
        c = kept.get(f.node.id)
        if c is None:  # the pass never reached it: no derivative passes through it (pinv's rank check reads σ)
            f.read = 0.0
        elif np.all(np.isfinite(c)):
            f.read = _read(f, c, values)
            if f.small is not None:
                _relative(f, c)


def _relative(f: _Found, c) -> None:
    """Set ``relative``: the error of the output from each value's eps·max|w|, relative to what the output reads
    of them, eps·max|w|·Σ|cᵢ| / Σ|cᵢ·wᵢ| (the condition number σ₀/σₙ: about cond·eps; the nuclear norm: n·eps)."""
    unit, w = f.small
    a = np.abs(np.asarray(c).reshape(w.shape))
    den = np.sum(a * np.abs(w), axis=-1)
    est = np.where(den > 0, unit * np.sum(a, axis=-1) / np.where(den > 0, den, 1.0), 0.0)
    b = int(np.argmax(est))
    if not est[b] > 0:
        return
    i = int(np.argmax(a[b] / np.maximum(np.abs(w[b]), np.finfo(float).tiny)))
    eig = f.node.op == "eigvalsh"
    sym, word = ("λ", "eigenvalue") if eig else ("σ", "singular value")
    scale = unit[b] / float(np.finfo(w.dtype).eps)
    of = f" of matrix {b} of the stack" if w.shape[0] > 1 else ""
    f.relative = float(est[b])
    f.relative_text = (f"{word} {i}{of} of {_title(f.node.op)} is {float(w[b, i]):.2g} ({float(w[b, i]) / scale:.2g} "
                       f"relative to max|{sym}|), and the output reads it relative to itself",
                       f"eps·max|{sym}|/|{sym}ᵢ|")


def _read(f: _Found, c, values) -> float:
    """The estimate weighted by the cotangent ``c`` of the node's value: per pair, |cᵢ − cⱼ| (or |cᵢ + cⱼ|,
    |cᵢ|) over max|c| for values; for vectors X (V, U or Vhᵀ), M = Xᵀ c and |Mᵢⱼ − Mⱼᵢ| over max|M|."""
    node = f.node
    if node.op in SPECTRAL_VALUES:
        d = c.reshape((-1, c.shape[-1]))
    else:
        x = np.asarray(values[node.id])
        g = c
        if node.op == "svd_vh":
            x, g = np.swapaxes(x, -1, -2), np.swapaxes(g, -1, -2)
        m = np.swapaxes(x, -1, -2) @ g
        d = m.reshape((-1,) + m.shape[-2:])
    top = np.max(np.abs(d), axis=tuple(range(1, d.ndim)), initial=0.0)
    top = np.where(top > 0, top, 1.0)
    worst = 0.0
    for i, j, sens, sign in f.pairs:
        if node.op in SPECTRAL_VALUES:
            part = np.abs(d[:, i] - d[:, j]) if sign == -1 else (np.abs(d[:, i] + d[:, j]) if sign == 1 else
                                                                  np.abs(d[:, i]))
        elif sign == 0:
            part = np.ones(d.shape[0])  # a tall or wide matrix's vector turned out of the others' span: unweighed
        else:
            part = np.abs(d[:, i, j] - d[:, j, i]) if sign == -1 else np.abs(d[:, i, j] + d[:, j, i])
        worst = max(worst, float(np.max(part / top * sens)))
    return worst


def _inputs_of(graph, nid: int) -> set:
    """The inputs requiring grad that node ``nid`` depends on (through nodes that carry a derivative)."""
    nodes = graph.nodes
    seen, stack, names = {nid}, [nid], set()
    while stack:
        node = nodes[stack.pop()]
        if not node.requires_grad:
            continue
        if node.op == "input":
            names.add(node.name)
            continue
        for a in node.args:
            if a not in seen:
                seen.add(a)
                stack.append(a)
    return names


# --- the examples of a batch ------------------------------------------------------------------------------------

class Watch:
    """The values each example of a ``--batch`` gives the watched nodes (and what their scan reads), kept as the
    examples are computed, so that one scan of them all stacked finds the examples that lose digits (a falsy Watch
    for a graph with no watched op keeps nothing)."""

    def __init__(self, graph):
        self.graph = graph
        needed = graph.needed()
        ids = set()
        for node in graph.nodes:
            if needed[node.id] and watched(node.op):
                ids.update((node.id, node.args[0]))
                ids.update(o.id for o in graph.nodes if o.args == node.args and o.op in ("eigvalsh", "svdvals", "qr_r"))
        self.ids = tuple(sorted(ids))
        self.kept = {i: [] for i in self.ids}

    def __bool__(self) -> bool:
        return bool(self.ids)

    def add(self, values) -> None:
        for i in self.ids:
            self.kept[i].append(values[i])

    def flagged(self) -> list:
        """The examples whose values alone put an estimate past the threshold (each then weighed on its own)."""
        if not self.ids:
            return []
        size = len(self.kept[self.ids[0]])
        values = [None] * len(self.graph.nodes)
        for i in self.ids:  # a value not computed (a sibling no output needs) is left out
            kept = self.kept[i]
            values[i] = None if any(v is None for v in kept) else np.stack([np.asarray(v) for v in kept])
        out = set()
        for f in _scan(self.graph, values, threshold(self.graph.dtype), fast=True):
            if f.per is not None:
                per = np.asarray(f.per, dtype=float).reshape((size, -1))
                out.update(int(b) for b in np.flatnonzero(np.max(per, axis=1) > threshold(self.graph.dtype)))
        return sorted(out)


def in_examples(found: dict, size: int) -> list:
    """One warning per op and result over the examples of a batch: ``found`` ``{example: [Conditioning]}``; the
    message says which examples, then the worst one's."""
    groups = {}
    for b, ws in found.items():
        for w in ws:
            groups.setdefault((w.op, w.position, w.where), []).append((b, w))
    out = []
    for hits in groups.values():
        examples = [b for b, _ in hits]
        worst_b, worst = max(hits, key=lambda h: h[1].relative_error)
        shown = ", ".join(str(b) for b in examples[:10]) + (f" and {len(examples) - 10} more" if len(examples) > 10
                                                           else "")
        word = "example" if len(examples) == 1 else "examples"
        lead = (f"{word} {shown} (of {size})" if len(examples) == 1 else
                f"{word} {shown} (of {size}); the worst, example {worst_b}")
        out.append({**worst.as_dict(), "message": f"{lead}: {worst.message}", "examples": examples})
    return out
