"""Index form for ``jac diff``: one entry of a 3- or 4-axis Jacobian as a formula in index notation.

A matrix by a matrix (``inv(A)`` by ``A``, ``A @ B @ C`` by ``B``) or a vector by a matrix has no
matrix form, and its components can be hopeless (a 10 × 10 symbolic inverse has 10! terms an entry).
Matrix calculus writes such a derivative through its differential, ``d(A⁻¹) = -A⁻¹ dA A⁻¹``, and
one entry of it in index notation, ``∂(A⁻¹)[i, j]/∂A[k, l] = -(A⁻¹)[i, k]·(A⁻¹)[l, j]``. This
module composes that differential on the graph in forward mode, from one rule per op, as a sum of
terms of one shape:

    c · L · (H ∘ (P · dX · Q)) · R        (or ``dXᵀ``)

``L P Q R`` are products of matrices that do not depend on ``X`` (the values of nodes: an input,
``A⁻¹``, the Cholesky factor), ``H`` an element-wise factor (``f'.(u)`` of an element-wise op, or
none), ``c`` a number. Products and inverses act on ``P`` and ``Q`` while there is no ``H``, on
``L`` and ``R`` after one; transposes swap everything; element-wise ops multiply ``H`` (only where
``L`` and ``R`` are the identity: otherwise there is no such term, and the caller falls back). One entry of a term is then
``c Σ_p Σ_q L[i, p] H[p, q] P[p, k] Q[l, q] R[q, j]``, the sums dropped where ``L`` or ``R`` is the
identity.

A trace (cofactor's ``d C = C·tr(A⁻¹ dA) - C·dAᵀ·A⁻ᵀ``) is a term whose ``dX`` is replaced by
``⟨N, dX⟩·I``, the number ``tr(Nᵀ dX)`` times an identity, ``N`` a product of ``X``'s shape: every
rule above acts on its ``L H P Q R`` as on any term's, and one entry is
``c Σ_p Σ_q L[i, p] H[p, q] (P Q)[p, q] R[q, j] · N[k, l]``.

The same terms give numbers: every factor knows its value from the graph's node values, and a
term is one ``einsum``. ``symbolic`` shows the formula only where those numbers agree with jac's
automatic derivative at a random point, as for the matrix forms. Values that have no short matrix
form (``cholesky(A)``) are named (``L``) and listed under ``where``. The first parameter of every
function is the module ``symbolic`` (``S``), as for :mod:`jacobi_cli.tools.matrixcalc`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

NAMED_MAX_CHARS = 24  # a value whose matrix form prints longer than this is named (v1 = ...)


@dataclass(frozen=True)
class Factor:
    """A matrix that does not depend on the input: ``sym`` (SymPy, shown) and ``num(values)``
    (its value as a 2-d array, from the graph's node values). ``entry(a, b, r)``, where given, writes
    its entry ``[a, b]`` out (``r``: a letter free for a product's index), as a formula of one entry
    does where the factor stands alone (linrec's transfer matrix)."""

    sym: object
    num: Callable
    entry: Callable | None = None

    def T(self, S):
        sym = self.sym.T if S._is_matrix(self.sym) else self.sym
        entry = None if self.entry is None else (lambda a, b, r, f=self.entry: f(b, a, r))
        return Factor(sym, lambda v, f=self.num: np.transpose(f(v)), entry)


@dataclass(frozen=True)
class Elementwise:
    """``H``: an element-wise factor, ``sym(p, q)`` its entry (a SymPy scalar) and ``num(values)`` its
    array (broadcasting)."""

    sym: Callable
    num: Callable

    def times(self, other: "Elementwise") -> "Elementwise":
        return Elementwise(lambda p, q, a=self.sym, b=other.sym: a(p, q) * b(p, q),
                           lambda v, a=self.num, b=other.num: a(v) * b(v))

    def T(self):
        return Elementwise(lambda p, q, f=self.sym: f(q, p), lambda v, f=self.num: np.transpose(f(v)))


@dataclass(frozen=True)
class Term:
    """``coef · L (H ∘ (P · D · Q)) R`` with ``D = dX`` (``dXᵀ`` when ``t``), or ``D = ⟨N, dX⟩·I`` (a
    scalar times the identity, ``t`` unused) when ``N`` (a product of ``X``'s shape) is given; the tuples
    are products."""

    coef: object = 1
    L: tuple = ()
    H: Elementwise | None = None
    P: tuple = ()
    Q: tuple = ()
    R: tuple = ()
    t: bool = False
    N: tuple | None = None

    def transposed(self, S) -> "Term":
        def flip(chain):
            return tuple(f.T(S) for f in reversed(chain))
        return Term(self.coef, flip(self.R), None if self.H is None else self.H.T(), flip(self.Q), flip(self.P),
                    flip(self.L), not self.t if self.N is None else False, self.N)  # ⟨N, dX⟩·I is symmetric

    def hadamard(self, S, h: Elementwise) -> "Term":
        if self.L or self.R:
            raise S.NoMatrixForm("an element-wise op after a matrix product of the derivative")
        return replace(self, H=h if self.H is None else h.times(self.H))


@dataclass
class IndexForm:
    """The derivative's terms, the nodes' factors, and the names introduced for values (``where``)."""

    terms: list
    where: list
    y_dims: tuple
    x_dims: tuple


def build(S, graph, name: str) -> IndexForm:
    """The terms of d output / d ``name`` (the graph's nodes of at most 2 axes), or NoMatrixForm."""
    from ..ir.ops import OPS
    from .matrixcalc import depends

    on = depends(graph, name)
    need = graph.needed()
    for node in graph.nodes:
        if need[node.id] and len(node.shape) > 2:
            raise S.NoMatrixForm(f"{node.op} makes a {len(node.shape)}-d array")
    values = _Values(S, graph)
    tangents: dict = {}
    for node in graph.nodes:
        if not (need[node.id] and on[node.id]):
            continue
        if node.op == "input":
            tangents[node.id] = [Term()]
            continue
        ts = [tangents.get(a) if on[a] else None for a in node.args]
        tangents[node.id] = _rule(S, OPS, node, ts, values)
    y = graph.output
    return IndexForm(tangents.get(y, []), values.where, S._dims(tuple(graph.output_shape)),
                     S._dims(tuple(graph.nodes[graph.inputs[name]].shape)))


class _Values:
    """Each node's value as a :class:`Factor`: its matrix form where short (``A``, ``A**(-1)``,
    ``A*B``), else a name (``L = cholesky(A)``) added to ``where``."""

    def __init__(self, S, graph):
        self.S, self.graph, self.factors, self.where = S, graph, {}, []
        self.taken = set(graph.inputs)

    def __call__(self, i) -> Factor:
        if i not in self.factors:
            self.factors[i] = self._make(i)
        return self.factors[i]

    def _make(self, i) -> Factor:
        from ..ir.ops import OPS

        S, node = self.S, self.graph.nodes[i]
        shape = tuple(node.shape)
        dims = S._dims(shape)

        def num(v, i=i):
            return np.asarray(v[i], dtype=np.float64).reshape(tuple(int(d) for d in _concrete(v[i])))

        sym = None
        try:
            if node.op == "input":
                sym = S.matrix_symbol(node.name, shape)
            elif node.op == "const":
                value = np.asarray(node.value)
                square = value.ndim == 2 and value.shape[0] == value.shape[1]
                if value.size == 1:  # a gradient's seed, 1 × 1: a number
                    sym = S._constant(value.reshape(()), False)
                elif square and np.array_equal(value, np.eye(len(value))):  # log|det A|'s gradient solves A X = I
                    sym = S._sp().Identity(value.shape[0])
                elif value.ndim == 2 and np.all(value == 1):  # a gradient's seed spread over a row
                    sym = S._sp().OneMatrix(*value.shape)
                else:
                    sym = S._constant(node.value, False)
            elif node.op == "reshape" and S._dims(shape) == S._dims(tuple(self.graph.nodes[node.args[0]].shape)):
                sym = self(node.args[0]).sym  # the same matrix form (a scalar as (1,): a gradient's)
            elif node.op == "singular_check":
                sym = self(node.args[0]).sym  # the value it passes (session 49)
            else:
                args = [S.Value(self(a).sym, tuple(self.graph.nodes[a].shape)) for a in node.args]
                sym = S._normalize(OPS[node.op].sympy(S, *args, **node.params), shape, False)
            if len(str(sym)) > NAMED_MAX_CHARS:
                sym = None
        except Exception:  # no (short) matrix form: the value gets a name
            sym = None
        if sym is None:
            label = self._name(node)
            sym = S._sp().MatrixSymbol(label, *dims) if shape else S._sp().Symbol(label, real=True)
            if node.op == "const":
                self.where.append(f"{label} = the constant {_brief(node.value)}")
            else:
                args = [str(self(a).sym) for a in node.args] + [f"{k}={v!r}" for k, v in node.params.items()]
                if node.op == "take_along" and len(shape) == 1:  # a sort's values: x read in sigma's order
                    self.where.append(f"{label}[i] = {args[0]}[{args[1]}[i]]")
                else:
                    self.where.append(f"{label} = {node.op}({', '.join(args)})")
        return Factor(sym, num)

    def _name(self, node) -> str:
        return self.fresh({"cholesky": "L", "solve": "X", "inv": "Ainv", "const": "C", "cofactor": "C",
                           "linrec": "z", "argsort": "sigma", "eig_gaps": "F", "softmax": "s"}.get(node.op, "v"))

    def fresh(self, base: str) -> str:
        """A name for a value that no input or earlier value has: ``base``, else ``base2``, ``base3``, ..."""
        k, label = 1, base if base != "v" else "v1"
        if label in self.taken and base != "v":
            k, label = 2, f"{base}2"
        while label in self.taken:
            k += 1
            label = f"{base}{k}"
        self.taken.add(label)
        return label


def _brief(value) -> str:
    """A constant array in a few words: its entries when few, else its shape and first entries."""
    arr = np.asarray(value, dtype=np.float64)
    if arr.size <= 6:
        return np.array2string(arr, separator=", ")
    return f"of shape {arr.shape} ({', '.join(f'{v:g}' for v in arr.ravel()[:3])}, ...)"


def output_symbol(S, graph):
    """The output's value as the index form names it (its short matrix form, or ``L``)."""
    return _Values(S, graph)(graph.output).sym


def output_where(S, graph) -> list:
    """The ``where`` lines that name the output's value and the values its definition reads (the output
    of a sort: ``v1 = take_along(x, sigma, axis=0)``, ``sigma = argsort(...)``)."""
    values = _Values(S, graph)
    values(graph.output)
    return values.where


def _concrete(value):
    """The matrix-form dims of a node with concrete sizes taken from its value."""
    arr = np.asarray(value)
    if arr.ndim == 2:
        return arr.shape
    if arr.ndim == 1:
        return (arr.shape[0], 1)
    return (1, 1)


def _left(t: Term, f: Factor, sign: int = 1) -> Term:
    """``f · t``: into P while there is no element-wise factor (L P = (L P)), else into L."""
    coef = t.coef if sign == 1 else -t.coef
    return replace(t, coef=coef, P=(f,) + t.P) if t.H is None else replace(t, coef=coef, L=(f,) + t.L)


def _right(t: Term, f: Factor) -> Term:
    return replace(t, Q=t.Q + (f,)) if t.H is None else replace(t, R=t.R + (f,))


def _inverse(S, a: Factor) -> Factor:
    def num(v, f=a.num):
        try:
            return np.linalg.inv(f(v))
        except np.linalg.LinAlgError:  # an exact zero pivot: the formula has no value here
            raise S.NoValueAtPoint(f"the derivative's formula reads {S.text(a.sym)}**(-1), which does not exist at "
                                  f"this point: {S.text(a.sym)} is singular there") from None
    return Factor(S._sp().Inverse(a.sym), num)


def _rule(S, OPS, node, ts, values) -> list:
    op, args, shape = node.op, node.args, tuple(node.shape)
    shapes = [tuple(values.graph.nodes[a].shape) for a in args]
    if op == "neg":
        return [replace(t, coef=-t.coef) for t in ts[0]]
    if op in ("add", "sub"):
        out = []
        for k, (t, s) in enumerate(zip(ts, shapes)):
            if t is None:
                continue
            if S._dims(s) != S._dims(shape):
                s = () if all(d == 1 for d in s) else s  # one value: as a number
                if not _fits(s, shape):
                    raise S.NoMatrixForm(f"{op} broadcasting a term of the derivative")
                t = [_broadcast_term(S, u, s, shape, node.id) for u in t]
            out += t if k == 0 or op == "add" else [replace(x, coef=-x.coef) for x in t]
        return out
    if op == "matmul":
        return _matmul(S, ts, [values(a) for a in args], shapes)
    if op == "einsum":  # a product of (transposed) matrices, or no rule
        like = S.matmul_like(node.params["spec"])
        if like is None:
            raise S.NoMatrixForm(f"einsum '{node.params['spec']}'")
        flips = like[:2]
        ts2 = [None if t is None else [u.transposed(S) for u in t] if f else t for t, f in zip(ts, flips)]
        fs = [values(a).T(S) if f else values(a) for a, f in zip(args, flips)]
        out = _matmul(S, ts2, fs, [(0, 0), (0, 0)])
        return [u.transposed(S) for u in out] if like[2] else out
    if op == "transpose":
        if tuple(node.params["axes"]) == (0, 1):
            return ts[0]
        if tuple(node.params["axes"]) != (1, 0):
            raise S.NoMatrixForm("a transpose of a tensor")
        return [t.transposed(S) for t in ts[0]]
    if op == "reshape":
        have, want = S._dims(shapes[0]), S._dims(shape)
        if have == want:
            return ts[0]
        if (have[1], have[0]) == want and 1 in want:
            return [t.transposed(S) for t in ts[0]]
        raise S.NoMatrixForm(f"reshape {shapes[0]} to {shape}")
    if op == "singular_check":  # a rule's check of its matrix (session 49): the value it passes, A's detached
        return ts[0] or []
    if op == "inv":  # d A⁻¹ = -A⁻¹ dA A⁻¹
        y = values(node.id)
        return [_right(_left(t, y, -1), y) for t in ts[0]]
    if op == "solve":  # X = A⁻¹B: dX = A⁻¹ dB - A⁻¹ dA X
        if len(shapes[0]) != 2:
            raise S.NoMatrixForm("a batched solve")
        ainv, x = _inverse(S, values(args[0])), values(node.id)
        out = [_right(_left(t, ainv, -1), x) for t in ts[0] or []]
        return out + [_left(t, ainv) for t in ts[1] or []]
    if op == "softmax_vjp":
        return _softmax_vjp(S, node, ts, values, shapes)
    if op == "softmax":
        return _softmax(S, node, ts[0], values, shapes)
    if op in ("sum", "logsumexp", "norm"):
        return _whole_vector(S, node, ts[0], values, shapes)
    if op == "cholesky":
        return _cholesky(S, ts[0], values(node.id), shape, values)
    if op == "cofactor":
        return _cofactor(S, node, ts[0], values, shapes)
    if op == "linrec":
        return _linrec(S, node, ts, values, shapes)
    if op == "take_along":
        return _take_along(S, node, ts, values, shapes)
    if op == "eig_gaps":
        return _eig_gaps(S, node, ts, values, shapes)
    if OPS[op].nondiff:  # an index (argsort, argmax): constant where it is defined
        return []
    if not OPS[op].elementwise:
        raise S.NoMatrixForm(f"no index-form rule for {op}")
    return _elementwise(S, node, ts, values, shapes)


def _matmul(S, ts, factors, shapes) -> list:
    (ta, tb), (fa, fb), (sa, sb) = ts, factors, shapes
    if len(sa) > 2 or len(sb) > 2:
        raise S.NoMatrixForm("a batched matmul")
    if len(sa) == 1:  # aᵀ B (a column in matrix form): the result's column is Bᵀ a; aᵀ b a 1 × 1
        out = [_left(t, fb.T(S)) for t in ta or []]
        rows = [_left(t, fa.T(S)) for t in tb or []]
        return out + ([t.transposed(S) for t in rows] if len(sb) == 2 else rows)
    return [_right(t, fb) for t in ta or []] + [_left(t, fa) for t in tb or []]


def _cholesky(S, ta, lval: Factor, shape, values) -> list:
    """dL = L (W ∘ (L⁻¹ sym(dA) L⁻ᵀ)), sym(dA) = (dA + dAᵀ)/2, W the lower triangle with the diagonal
    halved (the op's own rule)."""
    sp = S._sp()
    if len(shape) != 2:
        raise S.NoMatrixForm("a batched cholesky")
    linv = _inverse(S, lval)
    n = S._dims(shape)[0]
    w = sp.MatrixSymbol("W", n, n)
    if "W" in values.taken:
        raise S.NoMatrixForm("an input named W")
    line = "W[p, q] = 1 if p > q, 1/2 if p = q, 0 if p < q"
    if line not in values.where:
        values.where.append(line)

    def wnum(v, f=lval.num):
        m = f(v).shape[0]
        return np.tril(np.ones((m, m)), -1) + 0.5 * np.eye(m)

    h = Elementwise(lambda p, q: w[p, q], wnum)
    out = []
    for t in ta:
        if t.H is not None or t.N is not None:
            raise S.NoMatrixForm("cholesky of an element-wise function of the input, or of a trace")
        for u in (t, t.transposed(S)):
            out.append(Term(u.coef * sp.Rational(1, 2), (lval,), h, (linv,) + u.P, u.Q + (linv.T(S),), (), u.t))
    return out


def _cofactor(S, node, ta, values, shapes) -> list:
    """C = cof(A) = det(A)·A⁻ᵀ (det's derivative): dC = C·tr(A⁻¹ dA) - C·dAᵀ·A⁻ᵀ (the op's own rules),
    the trace ``tr(A⁻¹ P dX Q) = ⟨Pᵀ A⁻ᵀ Qᵀ, dX⟩`` (``⟨Q A⁻¹ P, dX⟩`` for ``dXᵀ``) of a product term.
    Written with A⁻¹, so it holds where A is invertible, as the op's derivative rules do (they refuse
    a singular A)."""
    if len(shapes[0]) != 2:
        raise S.NoMatrixForm("a batched cofactor")
    c, ainv = values(node.id), _inverse(S, values(node.args[0]))

    def flip(chain):
        return tuple(f.T(S) for f in reversed(chain))

    out = []
    for t in ta:
        if t.H is not None or t.L or t.R or t.N is not None:
            raise S.NoMatrixForm("cofactor of an element-wise function of the input, or of a trace")
        n = (*t.Q, ainv, *t.P) if t.t else (*flip(t.P), ainv.T(S), *flip(t.Q))
        out.append(Term(t.coef, P=(c,), N=n))
    return out + [_right(_left(t.transposed(S), c, -1), ainv.T(S)) for t in ta]


def _linrec(S, node, ts, values, shapes) -> list:
    """The recurrence ``z[t] = a[t]·z[t-1] + b[t]`` (``z[-1] = 0``) of vectors, or reversed
    ``z[t] = a[t+1]·z[t+1] + b[t]`` (``z[n] = 0``), is linear in b and in a at fixed z:
    ``dz = T·db + K·da``, T[t, s] = ∂z[t]/∂b[s] = a[s+1]···a[t] (s ≤ t; reversed a[t+1]···a[s], s ≥ t),
    K[t, s] = ∂z[t]/∂a[s] = T[t, s]·z[s-1] (s ≥ 1; reversed T[t, s-1]·z[s], s > t). Both written out
    entry by entry with a product over the steps between, named T and K where they stand in a product."""
    sp = S._sp()
    shape, reverse = tuple(node.shape), bool(node.params.get("reverse", False))
    if len(shape) != 1 or any(tuple(s) != shape for s in shapes) or node.params["axis"] not in (0, -1):
        raise S.NoMatrixForm("linrec other than of two vectors of one length")
    fa, fz = values(node.args[0]), values(node.id)
    n = S._dims(shape)[0]

    def a_(k):
        return element(S, (fa,), k, 0)

    def between(first, last, r):  # a[first]···a[last] (1 when empty)
        return sp.Product(a_(r), (r, first, last))

    if not reverse:
        t_entry = lambda p, q, r: sp.Piecewise((between(q + 1, p, r), p >= q), (0, True))  # noqa: E731
        k_entry = lambda p, q, r: sp.Piecewise((element(S, (fz,), q - 1, 0) * between(q + 1, p, r),  # noqa: E731
                                                (p >= q) & (q >= 1)), (0, True))
    else:
        t_entry = lambda p, q, r: sp.Piecewise((between(p + 1, q, r), q >= p), (0, True))  # noqa: E731
        k_entry = lambda p, q, r: sp.Piecewise((element(S, (fz,), q, 0) * between(p + 1, q - 1, r), q > p),  # noqa: E731
                                               (0, True))

    def t_num(v):
        return _transfer(np.ravel(fa.num(v)), reverse)

    def k_num(v):
        t, z = t_num(v), np.ravel(fz.num(v))
        if not reverse:  # T diag(z shifted down)
            return t * np.concatenate([[0.0], z[:-1]])[None, :]
        out = np.zeros_like(t)  # T shifted right a column, times diag(z)
        out[:, 1:] = t[:, :-1] * z[None, 1:]
        return out

    out = []
    for which, (t, entry, num) in enumerate(((ts[0], k_entry, k_num), (ts[1], t_entry, t_num))):
        if not t:
            continue
        label = values.fresh("K" if which == 0 else "T")
        factor = Factor(sp.MatrixSymbol(label, n, n), num, entry)
        values.where.append(f"{label}[p, q] = {S.text(entry(*sp.symbols('p q r', integer=True)))}")
        out += [_left(u, factor) for u in t]
    return out


def _take_along(S, node, ts, values, shapes) -> list:
    """``y = x[sigma]`` of a vector (sort, topk: ``sigma = argsort(x)``, the node's index, named): dy = P dx
    with P[p, q] = δ(q, sigma[p]), the rows of the identity that sigma picks. PyTorch's and JAX's
    derivative; at a tie, sigma is the order the (stable) sort gave, as in jac eval."""
    sp = S._sp()
    if len(shapes[0]) != 1 or len(shapes[1]) != 1 or node.params["axis"] not in (0, -1):
        raise S.NoMatrixForm("take_along other than of a vector")
    fx, sigma = values(node.args[0]), values(node.args[1])

    def num(v):
        return np.eye(np.size(fx.num(v)))[np.ravel(sigma.num(v)).astype(np.intp)]

    def entry(p, q, r):
        return sp.KroneckerDelta(q, element(S, (sigma,), p, 0))

    label = values.fresh("P")
    factor = Factor(sp.MatrixSymbol(label, S._dims(tuple(node.shape))[0], S._dims(shapes[0])[0]), num, entry)
    values.where.append(f"{label}[p, q] = {S.text(entry(*sp.symbols('p q r', integer=True)))}")
    return [_left(u, factor) for u in ts[0] or []]


def _eig_gaps(S, node, ts, values, shapes) -> list:
    """F[i, j] = 1/(w[j] - w[i]) off the diagonal, 0 on it (eigh's and svd's rules): dF = F∘F∘(dw 1ᵀ - 1 dwᵀ),
    each entry -F[i, j]²·(dw[j] - dw[i])."""
    sp = S._sp()
    if len(shapes[0]) != 1:
        raise S.NoMatrixForm("eig_gaps of a batch")
    f = values(node.id)
    n = S._dims(shapes[0])[0]
    h = Elementwise(lambda p, q: element(S, (f,), p, q) ** 2, lambda v: f.num(v) ** 2)

    def ones(rows, cols, which):
        return Factor(sp.OneMatrix(rows, cols),
                      lambda v: np.ones((f.num(v).shape[0], 1) if which == 0 else (1, f.num(v).shape[0])))

    out = []
    for u in ts[0]:
        if u.H is not None or u.L or u.R:
            raise S.NoMatrixForm("eig_gaps of an element-wise function of the input")
        out.append(_right(u, ones(1, n, 1)).hadamard(S, h))  # dw[i]: dw as the columns
        out.append(replace(_left(u.transposed(S), ones(n, 1, 0)), coef=-u.coef).hadamard(S, h))  # dw[j]: the rows
    return out


def _transfer(a: np.ndarray, reverse: bool) -> np.ndarray:
    """T[t, s] = a[s+1]···a[t] for s ≤ t, 0 above the diagonal (running products: exact where an a is 0);
    reversed, its transpose."""
    n = a.shape[0]
    t = np.zeros((n, n))
    for s in range(n):
        t[s, s] = 1.0
        t[s + 1:, s] = np.cumprod(a[s + 1:])
    return t.T if reverse else t


def _softmax(S, node, ta, values, shapes) -> list:
    """s = softmax(x) of a vector: ds = (diag(s) - s sᵀ) dx, both products (diag(s) a factor of its own, so
    that the terms compose through later products and softmax_vjp, as a Hessian's gradient needs)."""
    sp = S._sp()
    if len(shapes[0]) != 1 or node.params["axis"] not in (0, -1):
        raise S.NoMatrixForm("softmax other than of a vector")
    s = values(node.id)
    diag = Factor(sp.DiagMatrix(s.sym), lambda v, f=s.num: np.diag(np.ravel(f(v))),
                  lambda a, b, r: sp.KroneckerDelta(a, b) * element(S, (s,), a, 0))
    return [_left(u, diag) for u in ta] + [_left(_left(u, s.T(S), -1), s) for u in ta]


def _whole_vector(S, node, ta, values, shapes) -> list:
    """y = sum, logsumexp or norm of a whole vector: dy = wᵀ dx with w = 1, softmax(x) (named s), x / y."""
    sp = S._sp()
    if len(shapes[0]) != 1 or tuple(node.shape) != () or node.params.get("keepdims"):
        raise S.NoMatrixForm(f"{node.op} other than of a whole vector")
    n = S._dims(shapes[0])[0]
    fx, fy = values(node.args[0]), values(node.id)
    if node.op == "sum":
        w = Factor(sp.OneMatrix(1, n), lambda v, f=fx.num: np.ones((1, f(v).shape[0])))
    elif node.op == "norm":
        w = Factor(fx.sym.T / fy.sym, lambda v: np.transpose(fx.num(v)) / fy.num(v))
    else:
        label = values.fresh("s")
        values.where.append(f"{label} = softmax({S.text(fx.sym)})")
        w = Factor(sp.MatrixSymbol(label, n, 1).T, lambda v: np.transpose(np.exp(fx.num(v) - fy.num(v))))
    return [_left(u, w) for u in ta]


def _softmax_vjp(S, node, ts, values, shapes) -> list:
    """softmax's derivative rule, out = s ∘ g - s ⟨g, s⟩ along s's one axis (rows of g):
    d/dg: dg ∘ s - dg s sᵀ; d/ds: ds ∘ (g - ⟨g, s⟩) - s (gᵀ ds) (a row of g at a time)."""
    sp = S._sp()
    (sg, ss), (tg, tsv) = shapes, ts
    if len(ss) != 1 or len(sg) not in (1, 2) or node.params.get("basis") or node.params["axis"] not in (0, -1):
        raise S.NoMatrixForm("softmax_vjp other than of a vector or rows")
    g, s = values(node.args[0]), values(node.args[1])
    out = []
    if len(sg) == 2:  # rows: G (B × n), s a column
        along = Elementwise(lambda p, q: element(S, (s,), q, 0), lambda v: np.transpose(s.num(v)))
        out += [u.hadamard(S, along) for u in tg or []]
        out += [_right(_right(replace(u, coef=-u.coef), s), s.T(S)) for u in tg or []]
        gap = Elementwise(lambda p, q: element(S, (g,), p, q) - element(S, (g, s), p, 0),
                          lambda v: g.num(v) - g.num(v) @ s.num(v))
        rows = sg[0]
        ones = Factor(sp.OneMatrix(S.size_symbol(rows), 1), lambda v: np.ones((g.num(v).shape[0], 1)))
        out += [_left(u.transposed(S), ones).hadamard(S, gap) for u in tsv or []]
        out += [_right(_left(replace(u, coef=-u.coef), g), s.T(S)) for u in tsv or []]
        return out
    raise S.NoMatrixForm("softmax_vjp of a single row")  # the op's g always has a batch axis


def _elementwise(S, node, ts, values, shapes) -> list:
    """f(a, b, ...) element by element: each varying argument's terms times ∂f/∂a_m (matrixcalc's
    :func:`~jacobi_cli.tools.matrixcalc.partials`), entry by entry."""
    from .matrixcalc import partials

    sp = S._sp()
    shape = tuple(node.shape)
    _, dummies, dfs = partials(S, node, "index-form", [m for m, t in enumerate(ts) if t is not None])
    shapes = [() if s != shape and all(d == 1 for d in s) else s for s in shapes]  # one value: as a number
    for s in shapes:
        if s != shape and not _fits(s, shape):
            raise S.NoMatrixForm(f"{node.op} broadcasting {s} to {shape}")
    factors = [values(a) for a in node.args]
    out = []
    for m, t in enumerate(ts):
        if t is None:
            continue
        df = dfs[m]
        if df == 0:
            continue
        fn = vectorized(sp, dummies, df)

        def entry(p, q, df=df):
            return df.xreplace({d: _broadcast_element(S, fa, s, shape, p, q)
                                for d, fa, s in zip(dummies, factors, shapes)})

        def num(v, fn=fn):
            return fn(*[_broadcast_value(fa.num(v), s, shape) for fa, s in zip(factors, shapes)])

        h = Elementwise(entry, num)
        out += [_broadcast_term(S, u, shapes[m], shape, node.id).hadamard(S, h) for u in t]
    return out


def _fits(s, shape) -> bool:
    """The broadcasts the index form writes: a scalar, or a vector as the rows of a matrix."""
    return s == () or (len(s) == 1 and len(shape) == 2 and s[0] == shape[1])


def _broadcast_element(S, f: Factor, s, shape, p, q):
    """Entry [p, q] of the result's shape of an argument of shape ``s`` (broadcast)."""
    if s == shape:
        return element(S, (f,), p, q)
    if s == ():
        return element(S, (f,), 0, 0)
    return element(S, (f,), q, 0)  # a vector, a row of the matrix: its column form's entry q


def _broadcast_value(arr, s, shape):
    return np.transpose(arr) if s != shape and len(s) == 1 else arr  # the column as a row


def _broadcast_term(S, u: Term, s, shape, result: int) -> Term:
    """A term of an argument of shape ``s`` broadcast to ``shape``: ones(r, 1) · dxᵀ for a vector of
    rows, ones(r, 1) · dx · ones(1, c) for a scalar."""
    sp = S._sp()
    if s == shape:
        return u
    rows, cols = S._dims(shape)
    if s == () and u.H is not None:  # 1 × 1: L (H ∘ M) R = L·H[0, 0]·M·R, numbers, so a product
        hf = Factor(u.H.sym(0, 0), lambda v, f=u.H.num: np.reshape(np.asarray(f(v), dtype=np.float64), (1, 1)))
        u = replace(u, H=None, L=(), R=(), P=u.L + (hf,) + u.P, Q=u.Q + u.R)

    def ones(r, c, which):  # sized at concrete sizes by the op's value (node ``result``)
        def num(v):
            dims = _concrete(v[result])
            return np.ones((dims[0], 1) if which == 0 else (1, dims[1]))
        return Factor(sp.OneMatrix(r, c), num)

    if s == ():
        u = _left(u, ones(rows, 1, 0)) if rows != 1 else u
        return _right(u, ones(1, cols, 1)) if cols != 1 else u
    u = u.transposed(S)
    return _left(u, ones(rows, 1, 0)) if rows != 1 else u  # one row (a gradient's): the vector as that row


def vectorized(sp, variables, body):
    """``body`` (a SymPy expression of the scalars ``variables``) as a function of arrays, as SymPy's
    lambdify writes it: NumPy's functions, else (erf, erfc, digamma: NumPy has none) mpmath's, element
    by element (cheap for the arrays formulas are shown for). The index form's factors and
    ``symbolic.numeric`` (a matrix form's element-wise functions) both evaluate through it.

    Where a sum in ``body`` cancels, that element is evaluated again at the precision it needs
    (:func:`_recompute_cancelled`): i_2''(x) written in sinh / cosh lost 5 digits to
    doubles at x = 0.01 (0.13334012 for 0.13333905), and jac's check against autodiff, scaled by the array's
    largest entry (1e20 at x = 50), let it through."""
    fast = sp.lambdify(variables, body, modules="numpy")
    slow = None

    def call(*arrays):
        nonlocal slow
        with np.errstate(all="ignore"):
            try:
                return _recompute_cancelled(sp, variables, body, arrays,
                                            np.asarray(fast(*arrays), dtype=np.float64))
            except (NameError, TypeError, AttributeError):
                if slow is None:
                    scalar = sp.lambdify(variables, body, modules="mpmath")
                    slow = np.frompyfunc(lambda *xs: float(scalar(*xs)), len(variables), 1)
                return np.asarray(slow(*arrays), dtype=np.float64)

    return call


CANCELLED = 1e4  # a sum whose largest term is this many times its value has lost 4 of its 16 digits
RECOMPUTE_MAX = 4096  # elements recomputed by mpmath (0.1 to 1 ms each) in one call; beyond, the doubles


def _recompute_cancelled(sp, variables, body, arrays, out):
    """``out`` (``body`` at ``arrays`` in doubles, by NumPy) with each element where one of the body's sums
    cancels (its largest term ``CANCELLED`` times its value or more) recomputed by mpmath at the precision it
    needs (:func:`_precise`); where that does not settle (an exact 0), the double stays. The sums' terms are
    evaluated by NumPy in one more lambdify."""
    adds = [a for a in sp.preorder_traversal(body) if isinstance(a, sp.Add)] if isinstance(body, sp.Basic) else []
    if not adds or out.size == 0:
        return out
    grids = np.broadcast_arrays(*[np.asarray(a, dtype=np.float64) for a in arrays], out)
    grids, shape = grids[:-1], grids[-1].shape
    try:
        values = sp.lambdify(variables, [t for a in adds for t in a.args], modules="numpy")(*grids)
        values = [np.broadcast_to(np.asarray(v, dtype=np.complex128), shape) for v in values]
    except Exception:  # noqa: BLE001  (a term NumPy cannot evaluate: the doubles as they are)
        return out
    cancelled = np.zeros(shape, dtype=bool)
    k = 0
    for a in adds:
        group = values[k:k + len(a.args)]
        k += len(a.args)
        largest = functools.reduce(np.maximum, [np.abs(v) for v in group])
        cancelled |= np.isfinite(largest) & (largest > CANCELLED * np.abs(sum(group)))
    where = np.argwhere(cancelled)
    if not len(where) or len(where) > RECOMPUTE_MAX:
        return out
    result = np.array(np.broadcast_to(out, shape), dtype=np.float64)
    precise = _precise(sp, variables, body)
    for idx in map(tuple, where):
        z = precise(*[float(g[idx]) for g in grids])
        if z is not None:
            result[idx] = z
    return result


def _precise(sp, variables, body):
    """``body`` as a function of doubles evaluated by mpmath at 40, 80, ... 640 digits until two precisions in
    a row agree to 1e-17: the value, or None where they never do (an exact 0 of cancelling terms, whose last
    digits never settle) or the value is not real. mpmath through lambdify is 0.1 ms an element, where SymPy's
    evalf of i_8'' took 15 ms."""
    import mpmath

    scalar = sp.lambdify(variables, body, modules="mpmath")

    def value(*xs):
        last = None
        for dps in (40, 80, 160, 320, 640):
            with mpmath.workdps(dps):
                try:
                    z = complex(scalar(*[mpmath.mpf(x) for x in xs]))
                except Exception:  # noqa: BLE001  (0/0, a pole: the double stays)
                    return None
            if last is not None and abs(z - last) <= 1e-17 * abs(z) and z == z:
                return z.real if abs(z.imag) <= 1e-12 * max(1.0, abs(z.real)) else None
            last = z
        return None
    return value


# --- one entry as a formula, and the whole derivative as numbers ---------------------------------

def element(S, chain: tuple, a, b, bound=None):
    """Entry ``[a, b]`` of the product ``chain`` (δ(a, b) for the identity), an index of a size-1
    axis written 0; a factor alone with an ``entry`` written out (``bound``: its product's letter)."""
    sp = S._sp()
    if not chain:
        return sp.KroneckerDelta(a, b)
    if len(chain) == 1 and chain[0].entry is not None:
        return chain[0].entry(a, b, bound if bound is not None else sp.Symbol("r", integer=True))
    for k, f in enumerate(chain[:-1]):  # (u vᵀ)[a, b] = u[a] v[b]: a column splits the product
        if S._is_matrix(f.sym) and f.sym.shape[1] == 1:
            return element(S, chain[:k + 1], a, 0) * element(S, chain[k + 1:], 0, b)
    if len(chain) == 1 and isinstance(chain[0].sym, sp.OneMatrix):
        return sp.Integer(1)
    factors = [a for f in chain for a in (f.sym.args if isinstance(f.sym, sp.MatMul) else (f.sym,))
               if not isinstance(a, sp.Identity)] or [chain[0].sym]
    m = factors[0] if len(factors) == 1 else sp.MatMul(*factors)
    if not S._is_matrix(m):
        return m
    if isinstance(m, sp.Identity):
        return sp.KroneckerDelta(a, b)
    if isinstance(m, sp.DiagMatrix):  # diag(v)[a, b] = δ(a, b)·v[a]
        return sp.KroneckerDelta(a, b) * element(S, (Factor(m.args[0], None),), a, 0)
    if isinstance(m, sp.MatMul):  # a number times matrices (det(A)·A⁻ᵀ): the number outside the entry
        coeff, mats = m.as_coeff_matrices()
        if coeff != 1 and mats:
            return coeff * element(S, (Factor(sp.MatMul(*mats) if len(mats) > 1 else mats[0], None),), a, b)
    rows, cols = m.shape
    from sympy.matrices.expressions.matexpr import MatrixElement

    a, b = (0 if rows == 1 else a), (0 if cols == 1 else b)
    if isinstance(m, sp.Transpose):  # (Xᵀ)[a, b] is X[b, a]
        return MatrixElement(m.arg, b, a)
    if isinstance(m, sp.Inverse) and isinstance(m.arg, sp.Transpose):  # (X⁻ᵀ)[a, b] is (X⁻¹)[b, a]
        return MatrixElement(sp.Inverse(m.arg.arg), b, a)
    return MatrixElement(m, a, b)


def formula(S, form: IndexForm, y_index: tuple, x_index: tuple, spare: tuple):
    """One entry ``J[y_index + x_index]`` as a SymPy scalar; ``spare`` are two letters for sums (and a
    third, where given, for the index of a product written out). The indices are SymPy integer symbols,
    or 0 for a size-1 axis."""
    sp = S._sp()
    (i, j), (k, l) = y_index, x_index
    bound = spare[2] if len(spare) > 2 else None
    total = sp.Integer(0)
    for t in form.terms:
        if t.t:
            k_, l_ = l, k
        else:
            k_, l_ = k, l
        p = spare[0] if t.L else i
        q = spare[1] if t.R else j
        e = t.coef * element(S, t.L, i, p, bound) if t.L else t.coef
        if t.H is not None:
            e = e * t.H.sym(p, q)
        if t.N is not None:  # (P ⟨N, dX⟩ Q)[p, q] by dX[k, l]
            e = e * element(S, t.P + t.Q, p, q, bound) * element(S, t.N, k, l, bound)
        else:
            e = e * element(S, t.P, p, k_, bound) * element(S, t.Q, l_, q, bound)
        if t.R:
            e = e * element(S, t.R, q, j, bound)
        if t.L:
            e = _summed(S, e, p, _size(S, t.L[-1].sym, 1))
        if t.R:
            e = _summed(S, e, q, _size(S, t.R[0].sym, 0))
        total = total + e
    return total


def _size(S, m, axis):
    return m.shape[axis] if S._is_matrix(m) else 1


def _summed(S, e, idx, size):
    """Σ over ``idx`` in 0..size-1 of ``e``: a Kronecker δ(idx, m) in a product picks idx = m."""
    sp = S._sp()
    if size == 1:
        return e.xreplace({idx: sp.Integer(0)})
    for d in e.atoms(sp.KroneckerDelta):
        a, b = d.args
        other = b if a == idx else a if b == idx else None
        if other is not None and d in sp.Mul.make_args(e) and not other.has(idx):
            return e.xreplace({d: sp.Integer(1)}).xreplace({idx: other})
    return sp.Sum(e, (idx, 0, size - 1))


def differential(S, form: IndexForm, name: str):
    """``d(output)`` as a matrix expression in ``dNAME`` (a ``MatrixSymbol``: ``-A**(-1)*dA*A**(-1)``),
    or None where a term has an element-wise factor (``H ∘ ...`` has no such product)."""
    sp = S._sp()
    if any(t.H is not None or t.L or t.R for t in form.terms) or not form.terms:
        return None
    dx = sp.MatrixSymbol(f"d{name}", *form.x_dims)
    total = None
    for t in form.terms:
        if t.N is not None:  # tr(Nᵀ dX) P Q
            if not (t.P or t.Q):
                return None
            n = sp.MatMul(*[f.sym for f in t.N]) if len(t.N) > 1 else t.N[0].sym
            e = t.coef * sp.Trace(sp.MatMul(n.T, dx)) * sp.MatMul(*[f.sym for f in t.P + t.Q])
            total = e if total is None else total + e
            continue
        e = t.coef * sp.MatMul(*[f.sym for f in t.P], dx.T if t.t else dx, *[f.sym for f in t.Q])
        total = e if total is None else total + e
    return total


def tensor(form: IndexForm, values: list, y_shape: tuple, x_shape: tuple) -> np.ndarray:
    """The derivative as an array ``y_shape + x_shape`` (concrete sizes) from the node ``values``."""
    out = None
    for t in form.terms:
        if t.N is not None:
            part = _trace_part(t, values, x_shape)
            out = part if out is None else out + part
            continue
        p_ = _product([f.num(values) for f in t.P])
        q_ = _product([f.num(values) for f in t.Q])
        rows = p_.shape[0] if p_ is not None else None
        cols = q_.shape[1] if q_ is not None else None
        xa, xb = _xdims(x_shape)
        if t.t:
            xa, xb = xb, xa
        if p_ is None:
            p_ = np.eye(xa)
            rows = xa
        if q_ is None:
            q_ = np.eye(xb)
            cols = xb
        h = np.ones((rows, cols)) if t.H is None else np.broadcast_to(t.H.num(values), (rows, cols))
        left = _product([f.num(values) for f in t.L])
        right = _product([f.num(values) for f in t.R])
        left = np.eye(rows) if left is None else left
        right = np.eye(cols) if right is None else right
        if not t.L and not t.R:  # L = R = I: no sums over p and q (100⁶ steps of einsum's loop for 100 × 100)
            part = float(t.coef) * np.einsum("ij,ik,lj->ijkl", h, p_, q_)
        else:
            part = float(t.coef) * np.einsum("ip,pq,pk,lq,qj->ijkl", left, h, p_, q_, right)
        if t.t:
            part = np.swapaxes(part, 2, 3)
        out = part if out is None else out + part
    if out is None:
        out = np.zeros(_ydims(y_shape) + _xdims(x_shape))
    return out.reshape(tuple(y_shape) + tuple(x_shape))


def _trace_part(t: Term, values: list, x_shape) -> np.ndarray:
    """A trace term as an array ``(rows, cols) + X's dims``: ``c (L (H ∘ (P Q)) R)[i, j] · N[k, l]``."""
    pq = _product([f.num(values) for f in t.P + t.Q])
    n = _product([f.num(values) for f in t.N])
    if pq is None or n is None or n.shape != _xdims(x_shape):
        raise ValueError("a trace term without its factors")
    y = pq if t.H is None else np.broadcast_to(t.H.num(values), pq.shape) * pq
    left, right = _product([f.num(values) for f in t.L]), _product([f.num(values) for f in t.R])
    y = y if left is None else left @ y
    y = y if right is None else y @ right
    return float(t.coef) * np.multiply.outer(y, n)


def _product(arrays):
    if not arrays:
        return None
    m = arrays[0]
    for a in arrays[1:]:
        m = m @ a
    return m


def _xdims(shape):
    shape = tuple(shape)
    return shape if len(shape) == 2 else (shape[0], 1) if shape else (1, 1)


_ydims = _xdims
