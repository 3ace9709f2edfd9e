"""Symbolic derivatives: the graph, never the user's text, translated into SymPy.

Each op's translation sits in its block in :mod:`jacobi_cli.ops` (``Op.sympy``) as
``translate(S, *args, **params)``: ``S`` is this module (so ``S.sp`` is SymPy, imported on
first use), ``args`` are :class:`Value` s and ``params`` the node's params. The helpers
below (:func:`elementwise`, :func:`add`, :func:`matmul`, ...) carry the two forms a value takes:

- **components** (concrete sizes): a NumPy object array of SymPy scalars with exactly the
  node's shape, so NumPy's broadcasting, axes and indexing carry over unchanged. The
  Jacobian is ``Matrix.jacobian`` of the flattened output by the flattened input.
- **matrix form** (symbolic sizes, ``x:n``): a SymPy scalar for a 0-d node (or a 1×1 matrix
  expression when it comes from matrices), an n×1 ``MatrixSymbol`` expression for a
  vector, n×k for a matrix. SymPy's matrix derivative (``expr.diff(X)``) gives d/dX.

SymPy's matrix derivative is incomplete, and in places silently wrong (``d(tr A + tr A²)/dA``
comes back as 0), so every matrix-form answer is checked against jac's automatic derivative
at concrete sizes before it is shown. Where there is no matrix form, or it does not check
out, the derivative falls back to components at concrete sizes, with a one-line note.

>>> d = differentiate("x.T @ A @ x", ["x:n", "A:nxn"], wrt=["x"]).derivatives["x"]
>>> str(d.expr), d.shape
('A*x + A.T*x', ('n',))
"""

from __future__ import annotations

import threading

import ast
import functools
import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ..lang.deep import fork_safe, with_deep_stack  # noqa: F401  (callers import with_deep_stack from here too)
from ..engine import autodiff
from ..errors import JacError, JacLimitError, JacNameError, JacShapeError, JacUsageError, JacValueError
from ..ir.shapes import broadcast as broadcast_shapes, fmt, higher_math_shape, is_concrete, math_shape, reduce as reduce_shape

MAX_COMPONENT_ELEMENTS = 4096  # per node: components are formulas, one per element
MAX_JACOBIAN_ENTRIES = 10_000
# SymPy's simplify takes 0.1 to 1 s an entry: it runs on Jacobians of at most 9 formulas
# (nonzero entries) of at most 40 operations each; bigger ones are shown as SymPy's diff builds them.
SIMPLIFY_MAX_ENTRIES = 9
SIMPLIFY_MAX_OPS = 40
# ... and of at most 4 symbols: trigsimp of tanh(a*x + b*y + c*z) terms expands for minutes
# (sum(tanh(A @ x)) + max(A) at 2×3 took 3 min 46 s)
SIMPLIFY_MAX_SYMBOLS = 4
# jac diff draws an array of formulas of at most this many entries; a bigger one is listed, its nonzero
# entries one a line (at most LISTED_MAX_ENTRIES of them; all are in --json "entries")
DRAWN_MAX_ENTRIES = 100
LISTED_MAX_ENTRIES = 200
FALLBACK_SIZES = (3, 4, 5, 6, 7, 8)
# det, inv, solve of a symbolic matrix bigger than this are not expanded into components (n! terms:
# det of 6×6 took minutes); at concrete sizes they get the matrix form (det(A)*A^{-T}) or a refusal
COMPONENT_MATRIX_MAX = 5
MAX_RECURRENCE_STEPS = 24  # linrec in components: each element holds every earlier step
MATRIX_OPS = ("det", "inv", "solve", "logabsdet", "detsign", "cholesky")  # symbolic sizes, in order of appearance, for components


def __getattr__(name):
    if name == "sp":  # S.sp in a translation: SymPy, imported by the first symbolic command
        return _sp()
    if name in ("_extreme_max", "_extreme_min"):  # where pickle finds extreme()'s classes (jac diff's child)
        return _extremes()[name == "_extreme_min"]
    if name in ("_whole_max", "_whole_min"):  # and extremum()'s
        return _whole_extremes()[name == "_whole_min"]
    if name in ("_step_0", "_step_1"):  # and their derivatives'
        return _step(int(name[-1]))
    if name in ("_test_isfinite", "_test_isnan", "_test_isposinf", "_test_isneginf"):  # and value_test()'s
        return _value_tests()[name[len("_test_"):]]
    if name.startswith("_tied_") and len(name.split("_")) == 5:  # and tied()'s: _tied_max_0_1
        _, _, which, first, second = name.split("_")
        if which in ("max", "min") and first in ("0", "1") and second in ("0", "1"):
            return _tied(which == "max", (int(first), int(second)))
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _sp():
    import sympy

    return sympy


class Value(NamedTuple):
    """A node's SymPy value (``expr``) and the node's shape (symbolic sizes as strings)."""

    expr: object
    shape: tuple


class NoMatrixForm(Exception):
    """SymPy has no matrix-form expression for this op or shape: use components."""


class NoTranslation(JacValueError):
    """An op that has no SymPy translation (``Op.sympy`` is None)."""


class NoValueAtPoint(JacValueError):
    """At ``--at``'s point, the expression has no value (``inv`` of a singular matrix) or the derivative's
    formula has none (it inverts a matrix that is singular there): no other form answers that, so it is
    the error. At the check's random point a form that cannot be evaluated is only not shown."""


# --- helpers the translations share -----------------------------------------------------------

def components(*values: Value) -> bool:
    return isinstance(values[0].expr, np.ndarray)


def objects(f, *arrays) -> np.ndarray:
    """``f`` element by element over broadcast object arrays; always an array (0-d too)."""
    with np.errstate(all="ignore"):  # SymPy's own float work may leave the FPU flags set
        out = np.frompyfunc(f, len(arrays), 1)(*arrays)
    return out if isinstance(out, np.ndarray) else _scalar_array(out)


def _scalar_array(v) -> np.ndarray:
    arr = np.empty((), dtype=object)
    arr[()] = v
    return arr


def _is_matrix(e) -> bool:
    return bool(getattr(e, "is_Matrix", False))


def _has_matrices(e) -> bool:
    sp = _sp()
    return _is_matrix(e) or (isinstance(e, sp.Basic) and bool(e.atoms(sp.MatrixSymbol)))


def _dims(shape: tuple) -> tuple:
    """The matrix-form shape of a node shape: a vector is a column, a scalar 1×1."""
    if len(shape) > 2:
        raise NoMatrixForm(f"a {len(shape)}-d array")
    sizes = tuple(size_symbol(d) for d in shape)
    return sizes + (1,) * (2 - len(sizes))


def size_symbol(d):
    """A symbolic size ``n`` as a positive integer SymPy symbol; numbers stay numbers."""
    return _sp().Symbol(d, integer=True, positive=True) if isinstance(d, str) else d


def to_matrix(v: Value, shape: tuple):
    """``v`` broadcast (NumPy's rules) to the matrix form of ``shape``, with all-ones matrices."""
    sp = _sp()
    rows, cols = _dims(shape)
    e = v.expr
    if not _is_matrix(e):
        return e * sp.OneMatrix(rows, cols)
    if len(v.shape) == 1 and len(shape) == 2 and tuple(e.shape) != (rows, cols):
        e = e.T  # a vector broadcasts as a row
    r, c = e.shape
    if (r, c) == (rows, cols):
        return e
    left = sp.OneMatrix(rows, 1) if r == 1 and rows != 1 else None
    right = sp.OneMatrix(1, cols) if c == 1 and cols != 1 else None
    if (r != rows and left is None) or (c != cols and right is None):
        raise NoMatrixForm(f"broadcasting {fmt(v.shape)} to {fmt(shape)}")
    return sp.MatMul(*[m for m in (left, e, right) if m is not None])


def elementwise(f, *values: Value):
    """``f`` (on SymPy scalars) element by element, with NumPy broadcasting."""
    if components(*values):
        return objects(f, *[v.expr for v in values])
    exprs = [v.expr for v in values]
    matrices = [i for i, e in enumerate(exprs) if _is_matrix(e)]
    if not matrices:
        return f(*exprs)
    if len(matrices) > 1:
        raise NoMatrixForm("an element-wise function of several matrices")
    k = matrices[0]
    return _apply(lambda d: f(*[d if i == k else e for i, e in enumerate(exprs)]), exprs[k])


def _apply(f, matrix):
    """``f`` applied to each element of a matrix expression (``sin.(x)`` in SymPy)."""
    sp = _sp()
    from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

    d = sp.Dummy("d")
    body = f(d)
    if isinstance(body, sp.Basic) and body.has(*_value_tests().values()):
        # SymPy's matrix derivative of an element-wise Piecewise takes the class Piecewise for f' (applyfunc's
        # _get_function_fdiff): the branches of nan_to_num(log(x)) were dropped, f' = 1 where log(x) is NaN
        raise NoMatrixForm("an element-wise function with branches on NaN and inf (SymPy's matrix derivative "
                           "drops them)")
    return ElementwiseApplyFunction(sp.Lambda(d, body), matrix)


def neg(a: Value):
    return -a.expr


def add(a: Value, b: Value):
    if components(a, b):
        return a.expr + b.expr
    if not (_has_matrices(a.expr) or _has_matrices(b.expr)):
        return a.expr + b.expr
    out = broadcast_shapes(a.shape, b.shape)
    return to_matrix(a, out) + to_matrix(b, out)


def sub(a: Value, b: Value):
    return a.expr - b.expr if components(a, b) else add(a, Value(-b.expr, b.shape))


def mul(a: Value, b: Value):
    """The element-wise product: a scalar scales, vectors and matrices multiply Hadamard-wise."""
    sp = _sp()
    if components(a, b):
        return a.expr * b.expr
    ea, eb = a.expr, b.expr
    if not _is_matrix(ea) or not _is_matrix(eb):
        return ea * eb
    if a.shape == () or b.shape == ():  # a 1×1 matrix standing for a scalar
        s, m = (a, b) if a.shape == () else (b, a)
        if len(m.shape) <= 1:
            return m.expr * s.expr  # (n×1)(1×1)
        return sp.Trace(s.expr) * m.expr
    out = broadcast_shapes(a.shape, b.shape)
    return sp.HadamardProduct(to_matrix(a, out), to_matrix(b, out))


def div(a: Value, b: Value):
    sp = _sp()
    if components(a, b):
        return a.expr / b.expr
    if not _is_matrix(b.expr):
        return a.expr / b.expr
    return mul(a, Value(sp.HadamardPower(b.expr, -1), b.shape))


def power(a: Value, b: Value):
    sp = _sp()
    if components(a, b):
        return a.expr ** b.expr
    if _is_matrix(a.expr) and not _is_matrix(b.expr) and b.expr.is_number:
        return sp.HadamardPower(a.expr, b.expr)
    return elementwise(lambda u, v: u ** v, a, b)


def matmul(a: Value, b: Value):
    """NumPy's matmul; in matrix form a 1-d left operand is a row (xᵀ)."""
    if components(a, b):
        return np.matmul(a.expr, b.expr)
    if len(a.shape) > 2 or len(b.shape) > 2:
        raise NoMatrixForm("a batched matmul")
    left = a.expr.T if len(a.shape) == 1 else a.expr
    return left * b.expr


def transpose(a: Value, axes: tuple):
    if components(a):
        return np.transpose(a.expr, axes)
    if tuple(axes) == tuple(range(len(axes))):
        return a.expr
    if tuple(axes) == (1, 0):
        return a.expr.T
    raise NoMatrixForm(f"transpose with axes {tuple(axes)}")


def reshape(a: Value, shape: tuple):
    if components(a):
        return np.reshape(a.expr, shape)
    e = a.expr
    if not _is_matrix(e) or len(shape) > 2:
        raise NoMatrixForm(f"reshape to {fmt(shape)}")
    want = _dims(shape)
    if tuple(e.shape) == want:
        return e
    if tuple(e.T.shape) == want and 1 in want:  # a row and a column hold the same elements
        return e.T
    raise NoMatrixForm(f"reshape {fmt(a.shape)} to {fmt(shape)}")


def reduce_groups(a: Value, axes: tuple, keepdims: bool, combine):
    """``combine(list of SymPy scalars)`` over ``axes`` (components only)."""
    if not components(a):
        raise NoMatrixForm("")
    arr = a.expr
    rest = [i for i in range(arr.ndim) if i not in axes]
    count = int(np.prod([arr.shape[i] for i in axes], dtype=np.int64))
    moved = np.transpose(arr, rest + list(axes)).reshape(tuple(arr.shape[i] for i in rest) + (count,))
    out = np.empty(moved.shape[:-1], dtype=object)
    for idx in np.ndindex(*out.shape):
        out[idx] = combine(list(moved[idx]))
    return out.reshape(reduce_shape(arr.shape, axes, True)) if keepdims else out


def total(a: Value, axes: tuple, keepdims: bool = False):
    """``sum``: a sum of components, or all-ones products in matrix form (1ᵀ A 1)."""
    sp = _sp()
    if components(a):
        return reduce_groups(a, axes, keepdims, lambda group: sp.Add(*group))
    e = a.expr
    if not _is_matrix(e) or not axes:
        return e
    if len(a.shape) > 2:
        raise NoMatrixForm("a sum over a tensor")
    rows, cols = e.shape
    if 0 in axes:
        e = sp.OneMatrix(1, rows) * e
    if 1 in axes:
        e = e * sp.OneMatrix(cols, 1)
    return e


def extreme(group: list, largest: bool = True):
    """The largest (or smallest) of a group of formulas, for the max/min reductions: ``max(...)``,
    a function that becomes SymPy's ``Max`` once its arguments are numbers, differentiated to
    ``Heaviside(x[i] - max(the others))``. SymPy's ``Max`` compares every pair of symbols through
    its assumptions, and its derivative builds a new ``Max`` of the others: 0.2 s a derivative
    for 10 elements."""
    if len(group) == 1:
        return group[0]
    return _extremes()[0 if largest else 1](*group)


@functools.cache  # the two functions, made once on first use (SymPy is imported then)
def _extremes():
    sp = _sp()

    def make(name, combine, sign):
        def eval(cls, *args):
            if all(a.is_number for a in args):
                return combine(*args)
            return None

        def fdiff(self, argindex=1):
            args = self.args
            if not 0 < argindex <= len(args):
                raise sp.ArgumentIndexError(self, argindex)
            others = args[:argindex - 1] + args[argindex:]
            other = others[0] if len(others) == 1 else type(self)(*others)
            return sp.Heaviside(sign * (args[argindex - 1] - other), evaluate=False)  # no sign asked of symbols

        return type(name, (sp.Function,), {"eval": classmethod(eval), "fdiff": fdiff, "__module__": __name__,
                                           "__qualname__": f"_extreme_{name}"})

    return make("max", sp.Max, 1), make("min", sp.Min, -1)


def tied(a, b, ties: tuple, largest: bool = True):
    """``Max(a, b)`` (``Min`` when not ``largest``) whose derivative at a tie is the numeric rule's:
    ``∂/∂a = θ(a - b)`` with ``θ(0) = ties[0]``, ``∂/∂b = θ(b - a)`` with ``θ(0) = ties[1]`` (each 0 or 1).
    SymPy's ``Max`` differentiates to ``Heaviside(a - b)``, ``1/2`` at a tie: the other one-sided choice than
    ``relu'(0) = 0``, ``clamp``'s 1 at a bound, ``fmax``'s 1 for its first argument, PyTorch's and jac eval's."""
    return _tied(bool(largest), tuple(int(t) for t in ties))(a, b)


@functools.cache  # one class per convention, made on first use (SymPy is imported then)
def _tied(largest: bool, ties: tuple):
    sp = _sp()
    sign, combine = (1, sp.Max) if largest else (-1, sp.Min)

    def eval(cls, a, b):
        if a.is_number and b.is_number:
            return combine(a, b)
        return None

    def fdiff(self, argindex=1):
        if argindex not in (1, 2):
            raise sp.ArgumentIndexError(self, argindex)
        a, b = self.args if argindex == 1 else self.args[::-1]
        return _step(ties[argindex - 1])(sign * (a - b), evaluate=False)  # no sign asked of symbols

    name = "max" if largest else "min"  # printed as SymPy's Max / Min (the printers look the class name up)
    return type(name.capitalize(), (sp.Function,), {
        "eval": classmethod(eval), "fdiff": fdiff, "__module__": __name__,
        "__qualname__": f"_tied_{name}_{ties[0]}_{ties[1]}"})


@functools.cache
def _step(h0: int):
    """SymPy's ``Heaviside`` whose value at 0 is ``h0`` when it is called with one argument: SymPy's matrix
    derivative of ``f.(x)`` applies the class of ``f'`` alone when ``f'`` is one function (``relu'``), which
    dropped the ``Heaviside(t, 0)`` of :func:`tied` back to ``Heaviside(t)``, 1/2 at 0. Printed as ``Heaviside``."""
    sp = _sp()

    def __new__(cls, arg, H0=h0, **options):  # Heaviside.__new__ calls super(cls, cls): not for a subclass
        return sp.Function.__new__(cls, arg, H0, **options)

    return type("Heaviside", (sp.Heaviside,), {"__new__": __new__, "__module__": __name__,
                                               "__qualname__": f"_step_{h0}"})


def nan_to_num_form(v, nan, posinf, neginf):
    """nan_to_num of one element as its definition reads, a ``Piecewise`` of :func:`value_test`: the fills where ``v``
    is NumPy's NaN (SymPy's ``nan``, or a non-real number: log(-1) = iπ, sqrt(-1)), ``oo`` or ``-oo``, and ``v``
    otherwise. At SymPy's complex infinity ``zoo`` (log(0), 1/0) that is ``zoo``, no number: its sign, which NumPy's
    infinity has, SymPy does not keep, so no fill is guessed; and the derivative there is ``v'``'s (log's 1/x at
    0: no number either), where PyTorch's is ``v' · 0``, NaN."""
    sp = _sp()
    return sp.Piecewise((number(nan), value_test("isnan", v)), (number(posinf), value_test("isposinf", v)),
                        (number(neginf), value_test("isneginf", v)), (v, True))


def finite_mask(v, test: str):
    """NumPy's isfinite / isinf / isnan of one element, 1 or 0, as :func:`value_test` reads SymPy's values; isinf is
    ``oo``, ``-oo`` or ``zoo``."""
    sp = _sp()
    if test == "isinf":
        return sp.Piecewise((0, value_test("isfinite", v) | value_test("isnan", v)), (1, True))
    return sp.Piecewise((1, value_test(test, v)), (0, True))


def where_form(c, a, b):
    """where(c, a, b) of one element: ``a`` where ``c != 0``, else ``b``; a ``b`` that is a ``Piecewise`` itself
    (a where in the other branch: np.nan_to_num's chain) is joined into one, as the order of its conditions reads."""
    sp = _sp()
    rest = b.args if isinstance(b, sp.Piecewise) else ((b, True),)
    return sp.Piecewise((a, truth(c)), *rest)


def truth(c):
    """where's condition ``c != 0``; a 0 / 1 ``Piecewise`` of one condition (a comparison's, isfinite's) as that
    condition or its negation, so nested wheres read as one ``Piecewise`` of conditions."""
    sp = _sp()
    if isinstance(c, sp.Piecewise) and len(c.args) == 2 and c.args[1].cond is sp.true:
        (a, cond), (b, _) = c.args
        if (a, b) == (1, 0):
            return cond
        if (a, b) == (0, 1):
            return sp.Not(cond)
    return sp.Ne(c, 0)


def value_test(kind: str, v):
    """``kind(v)``: one of ``isfinite isnan isposinf isneginf``, a condition that stays as it is for an expression
    of symbols and is decided once ``v`` is a number, as NumPy decides it of its double (SymPy's ``Eq(log(x), -oo)``
    and ``Contains(log(x), {-oo})`` evaluate to False for a real x, though log(0) is ``zoo``)."""
    return _value_tests()[kind](v)


def value_kind(v) -> str | None:
    """What NumPy's double of the SymPy number ``v`` would be: ``isfinite``, ``isnan`` (SymPy's ``nan`` or a
    non-real number), ``isposinf``, ``isneginf``, ``zoo`` (an infinity of unknown sign); None for an expression of
    symbols."""
    sp = _sp()
    if v is sp.nan:
        return "isnan"
    if v is sp.oo or v is -sp.oo:
        return "isposinf" if v is sp.oo else "isneginf"
    if v is sp.zoo:
        return "zoo"
    if not getattr(v, "is_number", False):
        # a polynomial of SymPy's symbols (real, finite) is a finite real number; of anything else SymPy's word
        # is not taken (it calls log(x) finite, and log(0) is zoo)
        symbols = getattr(v, "free_symbols", ())
        return "isfinite" if symbols and v.is_polynomial(*symbols) and v.is_extended_real else None
    real = v.is_extended_real
    if real is None:
        z = complex(v.evalf(17))
        real = abs(z.imag) <= 1e-12 * max(1.0, abs(z.real))
    return "isfinite" if real and v.is_finite is not False else ("isnan" if not real else None)


@functools.cache  # the four conditions, made on first use (SymPy is imported then)
def _value_tests():
    sp = _sp()

    def make(kind):
        def eval(cls, v):
            found = value_kind(v)
            return None if found is None else sp.true if found == kind else sp.false

        def as_set(self):  # no set of x SymPy could solve for
            raise NotImplementedError(f"{kind} of an expression")

        # a Boolean that is no BooleanFunction: SymPy's logic (simplify_logic) reads it as one predicate, where it
        # would look inside a BooleanFunction and take log(x) for a boolean variable
        return type(kind, (sp.core.function.Application, sp.logic.boolalg.Boolean), {
            "eval": classmethod(eval), "nargs": 1, "as_set": as_set, "_eval_as_set": as_set, "__module__": __name__,
            "__qualname__": f"_test_{kind}"})

    return {kind: make(kind) for kind in ("isfinite", "isnan", "isposinf", "isneginf")}


def extremum(a: Value, axes: tuple, keepdims: bool = False, largest: bool = True):
    """The max (min) reduction: of each group of components (:func:`extreme`), or in matrix form
    of a whole vector or matrix, ``max(A)``, a scalar (:func:`_whole_extremes`)."""
    if components(a):
        return reduce_groups(a, axes, keepdims, lambda g: extreme(g, largest))
    return _whole_extremes()[0 if largest else 1](whole_array(a, axes, keepdims))


def whole_array(a: Value, axes, keepdims: bool = False):
    """The matrix form of a max or min over every axis of a vector or matrix, or NoMatrixForm (the
    translation here and matrixcalc's rule ask the same)."""
    nd = len(a.shape)
    if components(a) or not _is_matrix(a.expr) or keepdims or sorted(k % nd for k in axes) != list(range(nd)):
        raise NoMatrixForm("a max or min over some of the axes")
    return a.expr


@functools.cache  # made once on first use (SymPy is imported then)
def _whole_extremes():
    """``max(A)`` and ``min(A)`` of a whole matrix expression: scalar functions that SymPy never
    differentiates itself (its matrix derivative answers 0: the check refuses that, and
    :mod:`jacobi_cli.tools.matrixcalc` has the rule); :func:`numeric` evaluates them."""
    sp = _sp()

    def make(name):
        return type(name, (sp.Function,), {"is_commutative": True, "is_real": True, "nargs": 1,
                                           "__module__": __name__, "__qualname__": f"_whole_{name}"})

    return make("max"), make("min")


def count(shape: tuple, axes: tuple):
    """How many elements a reduction over ``axes`` takes (a SymPy expression for symbolic sizes)."""
    sp = _sp()
    return sp.Mul(*[sp.Integer(shape[i]) if isinstance(shape[i], int) else size_symbol(shape[i]) for i in axes])


def whole_vector(a: Value, axes, keepdims: bool = False, what: str = "a reduction"):
    """The matrix form of a reduction of a whole vector: its column, or NoMatrixForm ("``what`` other
    than of a whole vector"; the translations here and matrixcalc's rules ask the same)."""
    if components(a) or not _is_matrix(a.expr) or len(a.shape) != 1 or tuple(axes) not in ((0,), (-1,)) \
            or keepdims:
        raise NoMatrixForm(f"{what} other than of a whole vector")
    return a.expr


def sum_of(column):
    """The sum of a column's elements as a SymPy scalar: tr(1ᵀ v) (the trace of a 1 × 1 matrix)."""
    sp = _sp()
    return sp.Trace(sp.OneMatrix(1, column.shape[0]) * column)


def logsumexp_form(a: Value, axes, keepdims: bool = False):
    """``logsumexp`` of a vector in matrix form: log(tr(1ᵀ exp.(x)))."""
    sp = _sp()
    return sp.log(sum_of(_apply(sp.exp, whole_vector(a, axes, keepdims))))


def norm_form(a: Value, axes, keepdims: bool = False):
    """The 2-norm of a vector in matrix form: sqrt(tr(xᵀx))."""
    sp = _sp()
    x = whole_vector(a, axes, keepdims)
    return sp.sqrt(sp.Trace(x.T * x))


def pnorm_form(a: Value, ord, axes, keepdims: bool = False):
    """The p-norm of a vector in matrix form: tr(1ᵀ |x|.^p)^(1/p)."""
    sp = _sp()
    p = sp.nsimplify(ord)
    x = whole_vector(a, axes, keepdims)
    return sum_of(_apply(lambda v: sp.Abs(v) ** p, x)) ** (1 / p)


def softmax_form(a: Value, axis):
    """``softmax`` of a vector in matrix form: exp.(x) / tr(1ᵀ exp.(x))."""
    e = _apply(_sp().exp, whole_vector(a, (axis,)))
    return e * (1 / sum_of(e))


def solve_form(a: Value, b: Value):
    """``solve(A, b)`` in matrix form: A⁻¹ b (never expanded)."""
    if len(a.shape) != 2 or len(b.shape) > 2:
        raise NoMatrixForm("a batched solve")
    return _sp().Inverse(a.expr) * b.expr


def matmul_like(spec: str):
    """For a two-operand ``einsum`` of matrices that is a product of (transposed) matrices
    (``ij,jk->ik``, ``ij,kj->ki``, ...): ``(ta, tb, tout)``, which of A, B and the product are
    transposed (``out = op(op(A) op(B))``); else None."""
    ins, out = spec.split("->")
    parts = ins.split(",")
    if len(parts) != 2 or any(len(p) != 2 or p[0] == p[1] for p in parts) or len(out) != 2:
        return None
    la, lb = parts
    shared = set(la) & set(lb)
    if len(shared) != 1:
        return None
    (c,) = shared
    u, v = la.replace(c, ""), lb.replace(c, "")
    if c in out or u == v or set(out) != {u, v}:
        return None
    return la[0] == c, lb[1] == c, out == v + u


def einsum_form(a: Value, b: Value, spec: str):
    """``einsum``: NumPy's on components; in matrix form only a product of (transposed) matrices."""
    if components(a, b):
        return np.einsum(spec, a.expr, b.expr)
    like = matmul_like(spec)
    if like is None:
        raise NoMatrixForm(f"einsum '{spec}'")
    ta, tb, tout = like
    product = (a.expr.T if ta else a.expr) * (b.expr.T if tb else b.expr)
    return product.T if tout else product


def explicit(fn, *values: Value, **params):
    """An op that only components can express: its NumPy ``fn`` on object arrays."""
    if not components(*values):
        raise NoMatrixForm("")
    return fn(*[v.expr for v in values], **params)


def limited(a: Value, what: str) -> Value:
    """``a``, a matrix small enough for ``what`` (det, inv, ...) to be expanded into components;
    bigger ones are a JacLimitError (their components have n! terms)."""
    n = a.shape[-1] if len(a.shape) >= 2 else 0
    if components(a) and n > COMPONENT_MATRIX_MAX:
        raise JacLimitError(f"{what} of a {n}×{n} matrix of symbols has too many terms to be written out in "
                            f"components (up to {COMPONENT_MATRIX_MAX}×{COMPONENT_MATRIX_MAX}); jac eval gives its "
                            "numbers")
    return a


def recurrence(a: Value, b: Value, axis: int) -> Value:
    """``a``, the factors of a linear recurrence (``linrec``) short enough to be written out in
    components: each element is a sum of products over the elements before it, so a long one is a
    :class:`JacLimitError` at once (at 100 steps, minutes of SymPy for 10,000 nested formulas)."""
    if components(a, b):
        n = np.broadcast_shapes(a.expr.shape, b.expr.shape)[axis]
        if n > MAX_RECURRENCE_STEPS:
            raise JacLimitError(f"a linear recurrence of {n} steps has formulas of up to {n} nested terms per "
                                f"element, too many to write out in components (up to {MAX_RECURRENCE_STEPS} steps); "
                                "jac eval gives its derivative's numbers, and a shorter one has formulas")
    return a


def per_matrix(a: Value, fn, what: str = "this op"):
    """``fn(Matrix)`` for each matrix of the last two axes (components)."""
    sp = _sp()
    arr = limited(a, what).expr
    out = np.empty(arr.shape[:-2], dtype=object)
    for idx in np.ndindex(*out.shape):
        out[idx] = _checked(fn, sp.Matrix(arr[idx].tolist()))
    return out


def stack_matrices(a: Value, fn, what: str = "this op"):
    """Like :func:`per_matrix`, for a ``fn`` that returns a matrix of the same size."""
    arr = limited(a, what).expr
    out = np.empty(arr.shape, dtype=object)
    for idx in np.ndindex(*arr.shape[:-2]):
        out[idx] = np.array(_checked(fn, _sp().Matrix(arr[idx].tolist())).tolist(), dtype=object)
    return out


def _checked(fn, matrix):
    from sympy.matrices.exceptions import NonInvertibleMatrixError

    try:
        return fn(matrix)
    except NonInvertibleMatrixError:
        raise JacValueError("the matrix is singular whatever the values of its symbols") from None


# --- from graph to SymPy ------------------------------------------------------------------------

def number(v):
    """A constant of the expression as an exact SymPy number where it is short (0.1 -> 1/10)."""
    sp = _sp()
    v = float(v)
    if math.isnan(v):
        return sp.nan
    if math.isinf(v):
        return sp.oo if v > 0 else -sp.oo
    if v == math.pi:
        return sp.pi
    if v == math.e:
        return sp.E
    text = repr(v)
    if v.is_integer() and (abs(v) <= 2.0 ** 53 or len(text) <= 8):
        return sp.Integer(int(v))
    if v.is_integer():  # 1.8e308 as the double's 17 digits, which read back as it, not its 309 of an integer
        return sp.Float(text, 17)
    return sp.Rational(text) if len(text) <= 8 else sp.Float(v)


def _constant(value, as_components: bool):
    arr = np.asarray(value, dtype=np.float64)
    if as_components or arr.ndim == 0:
        out = objects(number, arr)
        return out if as_components else out.item()
    if arr.ndim > 2:
        raise NoMatrixForm("a constant tensor")
    column = arr.reshape(-1, 1) if arr.ndim == 1 else arr
    return _sp().ImmutableMatrix([[number(v) for v in row] for row in column])


def component_symbols(name: str, shape: tuple) -> np.ndarray:
    """The input ``x`` as symbols ``x[0], x[1], ...`` (real), an object array of its shape."""
    sp = _sp()
    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(*shape):
        label = f"{name}[{', '.join(str(i) for i in idx)}]" if idx else name
        out[idx] = sp.Symbol(label, real=True)
    return out


def matrix_symbol(name: str, shape: tuple):
    """The input ``x`` in matrix form: a real symbol, or an n×1 / n×k ``MatrixSymbol``."""
    sp = _sp()
    if not shape:
        return sp.Symbol(name, real=True)
    rows, cols = _dims(shape)
    return sp.MatrixSymbol(name, rows, cols)


def translate(graph, as_components: bool) -> tuple:
    """Every needed node's SymPy :class:`Value`, and the inputs' SymPy leaves by name.

    Components need concrete sizes; the matrix form raises :class:`NoMatrixForm` where SymPy
    cannot express a node. An op without a translation is a :class:`NoTranslation` error.
    """
    import sys

    from ..ir.ops import OPS, dft_formula

    S = sys.modules[__name__]
    need = graph.needed()
    custom = next((n for n in graph.nodes if n.op == "custom" and need[n.id]), None)
    if custom is not None:  # a rule written in the text (lang/custom.py): before its detached value is reached
        raise NoTranslation(f"{custom.params['rule'].label} is a derivative rule written in the text: its derivative "
                            "is its backward's, not a formula's, so jac has no symbolic form of it (jac eval prints "
                            "the rule's derivative)", custom.position)
    transforms = _transforms(graph.nodes)
    if transforms:
        need = _needed_through(graph, transforms)
    values: list = [None] * len(graph.nodes)
    leaves = {}
    for node in graph.nodes:
        if not need[node.id]:
            continue
        if node.id in transforms:  # a Fourier transform: its DFT sums (value and derivative alike)
            dft = transforms[node.id]
            try:
                expr = dft_formula(S, *[values[a] for a in dft.args], **dft.params)
            except JacError as err:
                err.position = node.position if err.position is None else err.position
                raise
            except NoMatrixForm:
                raise NoMatrixForm(f"the Fourier transform{_column(node)} is written in components only") from None
            values[node.id] = Value(_normalize(expr, tuple(node.shape), as_components), tuple(node.shape))
            continue
        if as_components and _size(node.shape) > MAX_COMPONENT_ELEMENTS:
            raise JacLimitError(f"{node.op} makes {_size(node.shape):,} elements, more than the "
                                f"{MAX_COMPONENT_ELEMENTS:,} that components are shown for; use symbolic sizes "
                                "(x:n) for the matrix form, or jac eval for numbers", node.position)
        if node.op == "integer" and node.params.get("dtype") == "int64" and not node.params.get("cast"):
            # int64 made of masks (integers computed from inputs, ir/dtypes.py): below 2**53 it neither wraps nor
            # rounds, and its -0 is +0, so SymPy's formula of its argument is its value (derivative 0 already)
            values[node.id] = values[node.args[0]]
            continue
        if OPS.get(node.op) is not None and OPS[node.op].sympy is None:
            raise NoTranslation(f"the op '{node.op}' has no SymPy translation{_why_none(node.op)}, so jac cannot "
                                "differentiate it symbolically (jac eval differentiates it numerically)", node.position)
        try:
            expr = _translate_node(S, OPS, node, values, leaves, as_components)
            values[node.id] = Value(_normalize(expr, tuple(node.shape), as_components), tuple(node.shape))
        except JacError as err:
            err.position = node.position if err.position is None else err.position
            raise
        except NoMatrixForm as err:
            raise NoMatrixForm(f"{node.name or node.op}{_column(node)}{': ' if str(err) else ''}{err}") from None
        except (RecursionError, MemoryError):
            raise
        except Exception as err:
            if as_components:  # pragma: no cover - a translation bug
                raise
            # SymPy's matrix expressions refuse some combinations outright: no matrix form then
            raise NoMatrixForm(f"{node.op}{_column(node)}: SymPy cannot build it ({type(err).__name__})") from None
    return values, leaves


def _transforms(nodes) -> dict:
    """lang/fourier.py's transforms, value - (stop(p) - p): NumPy's value (the nondiff ``dft``) with the derivative
    of p, the same map (session 38): each such ``sub`` node's id → its ``dft`` node, read as the DFT sums of the
    dft's signal (:func:`~jacobi_cli.ir.ops.dft_formula`), so neither the stop-gradient nor p is translated."""
    found = {}
    for node in nodes:
        if node.op != "sub":
            continue
        value, zero = nodes[node.args[0]], nodes[node.args[1]]
        if value.op == "dft" and zero.op == "sub" and nodes[zero.args[0]].op == "detach" \
                and nodes[zero.args[0]].args[0] == zero.args[1]:
            found[node.id] = value
    return found


def _needed_through(graph, transforms: dict) -> list:
    """``graph.needed()`` with each transform's node reading its dft's signal only."""
    flags = [False] * len(graph.nodes)
    for o in graph.output_ids():
        flags[o] = True
    for node in reversed(graph.nodes):
        if flags[node.id]:
            for a in (transforms[node.id].args if node.id in transforms else node.args):
                flags[a] = True
    return flags


SELECTIONS = ("argsort", "argmax", "argmin", "argmedian", "argcum", "take_along", "put_along")


def _refuse_refused_partials(graph, names) -> None:
    """Refuse, as autodiff does, a derivative by ``names`` that reaches an argument whose partial the op refuses
    (the order of scipy.special.jv, betainc's a and b): SymPy's formula would answer there."""
    from ..ir.ops import OPS

    flagged = graph.with_wrt(list(names))
    need = flagged.needed()
    for node in flagged.nodes:
        op = OPS.get(node.op)
        if op is None or not need[node.id]:
            continue
        for rule, a in zip(op.vjp, node.args):
            if hasattr(rule, "refuses") and flagged.nodes[a].requires_grad:
                raise NoTranslation(rule.refuses, node.position)


def _why_none(op: str) -> str:
    if op in SELECTIONS:  # sort, topk, median, cummax: which element is picked depends on the values
        return (" (it picks elements by the order of their values: a formula exists only as the permutation "
                "of an index form, J[i, j] = δ(j, sigma[i]) for sort or topk of a vector, not here)")
    return ""


def _translate_node(S, OPS, node, values, leaves, as_components):
    if node.op == "input":
        expr = (component_symbols if as_components else matrix_symbol)(node.name, tuple(node.shape))
        leaves[node.name] = expr
        return expr
    if node.op == "const":
        return _constant(node.value, as_components)
    return OPS[node.op].sympy(S, *[values[a] for a in node.args], **node.params)


def _column(node) -> str:
    return f" at column {node.position}" if node.position is not None else ""


def _size(shape) -> int:
    return int(np.prod(shape, dtype=np.int64)) if is_concrete(shape) else 0


def _normalize(expr, shape: tuple, as_components: bool):
    """A translation's result in the node's form: an object array of the node's shape, or a
    SymPy scalar / matrix whose matrix form fits the shape (a 1-d row becomes a column)."""
    if as_components:
        arr = expr if isinstance(expr, np.ndarray) else _scalar_array(expr)
        arr = arr.astype(object) if arr.dtype != object else arr
        if arr.shape != shape:  # pragma: no cover - a translation bug
            raise AssertionError(f"translation gave shape {arr.shape}, the node has {shape}")
        return objects(_as_sympy, arr)
    if not _is_matrix(expr):
        if shape != ():
            raise NoMatrixForm(f"a scalar standing for shape {fmt(shape)}")
        return expr
    want = _dims(shape)
    if tuple(expr.shape) == want:
        return expr
    if len(shape) == 1 and tuple(expr.shape) == (1, want[0]):
        return expr.T
    raise NoMatrixForm(f"a {expr.shape[0]}×{expr.shape[1]} matrix standing for shape {fmt(shape)}")


def _as_sympy(v):
    sp = _sp()
    return v if isinstance(v, sp.Basic) else number(v)


# --- derivatives -------------------------------------------------------------------------------

@dataclass
class Derivative:
    """d y / d ``name`` as a SymPy expression in the array layout (``y.shape + x.shape``).

    ``form`` is ``"matrix"`` (a matrix expression with symbolic sizes; a gradient has the
    input's shape), ``"index"`` (one entry ``J[i, j, k, l]`` of a 3- or 4-axis derivative as a
    formula in those indices, :mod:`jacobi_cli.tools.indexform`; ``where`` names the values it
    reads) or ``"components"`` (a SymPy ``Array`` of formulas, or a scalar).
    """

    name: str
    form: str
    expr: object
    shape: tuple
    math_shape: tuple
    value: np.ndarray | None = None
    note: str | None = None
    sizes: dict = field(default_factory=dict)
    where: list = field(default_factory=list)
    differential: object = None  # index form: d(output) in dX where it is a sum of products


@dataclass
class Result:
    """What ``jac diff`` computes: the graph, the output's SymPy form, one derivative per input."""

    graph: object
    output: object
    derivatives: dict
    wrt: list
    point: dict | None = None
    output_value: np.ndarray | None = None


def jacobian_components(graph, names, values=None, leaves=None) -> dict:
    """``{name: object array y.shape + x.shape}`` of formulas, at concrete sizes."""
    if values is None:
        values, leaves = translate(graph, as_components=True)
    sp = _sp()
    y = values[graph.output].expr
    y_shape = tuple(graph.output_shape)
    out = {}
    for name in names:
        x = leaves.get(name)
        x_shape = tuple(graph.nodes[graph.inputs[name]].shape)
        if x is None:  # the output does not depend on it
            out[name] = np.full(y_shape + x_shape, sp.Integer(0), dtype=object)
            continue
        if y.size * x.size > MAX_JACOBIAN_ENTRIES:
            raise JacLimitError(f"the Jacobian by {name} has {y.size * x.size:,} entries, more than the "
                                f"{MAX_JACOBIAN_ENTRIES:,} shown as formulas; use symbolic sizes (x:n) or jac eval")
        _refuse_nan(y.ravel(), "the output")
        flat = _jacobian_flat(list(y.ravel()), list(np.asarray(x, dtype=object).ravel()))
        _refuse_nan(flat.ravel(), f"the derivative by {name}")
        if sum(1 for e in flat.ravel() if e != 0) <= SIMPLIFY_MAX_ENTRIES:
            flat = simplify_entries(flat)
        out[name] = flat.reshape(y_shape + x_shape)
    return out


def _refuse_nan(entries, what: str) -> None:
    """A formula holding SymPy's ``nan`` (``oo - oo``: ``x + inf - inf``, whose derivative SymPy then gives as 0)
    is no formula of the function: refused, never printed."""
    sp = _sp()
    if any(_holds_nan(sp, e) for e in entries):
        raise NoTranslation(f"SymPy's formula of {what} is undefined (NaN: an infinite constant meets another, "
                            "as inf - inf), so jac cannot differentiate it symbolically (jac eval differentiates "
                            "it numerically)")


def _holds_nan(sp, e) -> bool:
    """``e`` holds SymPy's ``nan`` other than as the whole value of a branch of a ``Piecewise``: a NaN the
    function gives on purpose where its parameters are out of range (``scipy.stats.norm.logpdf`` at a scale
    <= 0, ``where(s <= 0, nan, ...)``) is its value there, and its derivative there 0, as jac eval's."""
    if not isinstance(e, sp.Basic):
        return False
    pending = [e]
    while pending:
        n = pending.pop()
        if n is sp.nan:
            return True
        if isinstance(n, sp.Piecewise):
            pending.extend(part for ex, cond in n.args for part in ((cond,) if ex is sp.nan else (ex, cond)))
        else:
            pending.extend(n.args)
    return False


def _jacobian_flat(ys: list, xs: list) -> np.ndarray:
    """``Matrix(ys).jacobian(xs)`` as an object array, differentiating each formula only by the
    symbols it holds (the rest are 0): 100 derivatives, not 10,000, for ``sin(x)`` at n = 100."""
    sp = _sp()
    column = {s: j for j, s in enumerate(xs)}
    flat = np.full((len(ys), len(xs)), sp.Integer(0), dtype=object)
    slot, seen = sp.Dummy("slot", real=True), {}
    for i, y in enumerate(ys):
        if not isinstance(y, sp.Basic):
            continue
        symbols = y.free_symbols
        if len(symbols) == 1 and not y.has(sp.Max, sp.Min, sp.Piecewise):
            # an element-wise f(x[k]): differentiate f once, as f(slot), for every element
            (s,) = symbols
            if s in column:
                pattern = y.xreplace({s: slot})
                if pattern not in seen:
                    seen[pattern] = pattern.diff(slot)
                flat[i, column[s]] = seen[pattern].xreplace({slot: s})
            continue
        for s in symbols:
            j = column.get(s)
            if j is not None:
                flat[i, j] = _diff(sp, y, s)
    return flat


def _diff(sp, y, s):
    """``y.diff(s)``. A product with one factor that holds ``s`` is that factor's derivative times the
    others, in their order: the expression SymPy's Leibniz rule builds (its other terms are 0), without
    differentiating every factor first (``prod_except`` at 10 × 10: 900 products of 9 symbols, 1.2 s)."""
    if isinstance(y, sp.Mul):
        args = y.args
        holding = [k for k, a in enumerate(args) if s in a.free_symbols]
        if len(holding) == 1:
            k = holding[0]
            return sp.Mul(*args[:k], args[k].diff(s), *args[k + 1:])
    return y.diff(s)


def eval_formulas(graph, names, layout: str = "array", max_entries: int = 64) -> tuple:
    """For ``jac eval --symbolic``: ``(output formula, {name: object array or reason})``.

    Only for small Jacobians (``max_entries`` each); a bigger one gets the reason instead.
    """
    from ..ir.shapes import math_layout, size

    try:
        values, leaves = translate(graph, as_components=True)
    except (JacLimitError, NoTranslation) as err:
        return None, {name: err.message for name in names}
    y_shape = tuple(graph.output_shape)
    small, out = [], {}
    for name in names:
        x_shape = tuple(graph.nodes[graph.inputs[name]].shape)
        entries = size(y_shape) * size(x_shape)
        if entries > max_entries:
            out[name] = f"{entries:,} entries, more than {max_entries} (jac diff prints up to {MAX_JACOBIAN_ENTRIES:,})"
        else:
            small.append(name)
    try:
        found = jacobian_components(graph, small, values, leaves)
    except NoTranslation as err:  # a formula SymPy leaves undefined: the reason instead
        return None, {name: out.get(name, err.message) for name in names}
    for name, arr in found.items():
        if layout == "numerator":
            axes, expand = math_layout(len(y_shape), arr.ndim - len(y_shape))
            arr = np.transpose(arr, axes)
            arr = np.expand_dims(arr, expand) if expand is not None else arr
        out[name] = as_array(arr)
    return as_array(values[graph.output].expr), out


BRANCH_NOTE = ("the formula of the branch these values take: the text reads the inputs' values (an if / while "
               "test, a mask, a selection, an integer), and other values may take another branch or select other "
               "elements, with another formula")
AT_VALUES_NOTE = ("the formula does not hold at these values (a tie, a kink or a singularity): the numbers above are "
                  "jac's automatic derivative (PyTorch's choice where the function is not differentiable)")
VALUE_NOTE = "the formula does not give the value above at these values (a singularity: SymPy's 0/0 or inf - inf)"


def formula_notes(graph, point: dict, numbers: dict, formulas: dict) -> dict:
    """``jac eval --symbolic``'s word beside each formula (``{key: note}``; "" for the output): a formula holds
    at the values where it gives the numbers printed above it (``numbers``: the value and each Jacobian, in the
    layout of ``formulas``); where it does not (a tie of ``max``, a kink, a removable singularity, SymPy's 0/0),
    it says so, as ``jac diff --at`` does. A graph built at the values (``graph.by_value``) has the formula of
    the branch those values take, and each formula says that too: it is no formula of the function elsewhere."""
    sp = _sp()
    leaves = {name: component_symbols(name, np.shape(point[name])) for name in graph.inputs if name in point}
    # the numbers are jac eval's in --dtype: float32's rounding is no tie (a tie or a kink moves them by O(1))
    eps = float(np.finfo(np.dtype(graph.dtype)).eps)
    rtol = max(AT_RTOL, math.sqrt(eps))
    notes = {}
    for key, formula in formulas.items():
        if formula is None or isinstance(formula, str):
            continue
        why = [BRANCH_NOTE] if graph.by_value else []
        entries = np.asarray(sp.Array(formula).tolist() if isinstance(formula, sp.NDimArray) else formula,
                             dtype=object)
        moved = functools.partial(evaluate_components, entries, leaves, perturbed(point))
        if not _holds(evaluate_components(entries, leaves, point), numbers[key], rtol, eps, moved):
            why.append(AT_VALUES_NOTE if key else VALUE_NOTE)
        if why:
            notes[key] = "; ".join(why)
    return notes


def _holds(got: np.ndarray, numbers, rtol: float, eps: float = float(np.finfo(np.float64).eps),
           at_perturbed=None) -> bool:
    """The formula's numbers are the printed ones entry by entry (:func:`agrees_at`; the condition measured on
    the formula itself, ``at_perturbed``), NaN where they are NaN."""
    return agrees_at(got, numbers, rtol, eps, at_perturbed, reference=got)


def simplify_entries(flat: np.ndarray) -> np.ndarray:
    """:func:`simplify` of each entry, once per formula up to the names of its symbols: the entries of
    spherical_in(n, x) at n = [0, 1, 2] by x of 2 × 3 are three formulas, each twice (0.1 to 0.4 s a simplify).
    Renaming the symbols (to ones of the same assumptions, in the same order) commutes with simplify."""
    sp = _sp()
    done = {}

    def one(e):
        if not isinstance(e, sp.Basic) or e.is_number:
            return e
        symbols = sorted(e.free_symbols, key=sp.default_sort_key)
        if not all(type(s) is sp.Symbol for s in symbols):  # a MatrixSymbol, a Dummy: simplified as it is
            return simplify(e)
        canonical = {s: sp.Symbol(f"_simplify_{i}", **s.assumptions0) for i, s in enumerate(symbols)}
        key = e.xreplace(canonical)
        if key not in done:
            done[key] = simplify(key)
        return done[key].xreplace({c: s for s, c in canonical.items()})
    return objects(one, flat)


def simplify(e):
    """SymPy's ``simplify`` for entries small enough for it to be quick."""
    sp = _sp()
    if not isinstance(e, sp.Basic) or e.is_number or e.count_ops() > SIMPLIFY_MAX_OPS or \
            len(e.free_symbols) > SIMPLIFY_MAX_SYMBOLS:
        return e
    return sp.simplify(e)


def as_array(arr: np.ndarray):
    """An object array of formulas as a SymPy scalar (0-d) or ``Array``."""
    sp = _sp()
    if arr.ndim == 0:
        return arr.item()
    return sp.ImmutableDenseNDimArray(arr.tolist(), arr.shape) if arr.size else sp.ImmutableDenseNDimArray([], arr.shape)


def matrix_derivative(y: Value, x: Value):
    """d y / d x in matrix form, laid out as the array layout, or raise :class:`NoMatrixForm`.

    SymPy writes a vector-by-vector derivative in the denominator layout (n × m), so it is
    transposed to the m × n of the table; a gradient keeps its input's shape.
    """
    sp = _sp()
    out_shape = tuple(y.shape) + tuple(x.shape)
    if len(out_shape) > 2:
        raise NoMatrixForm(f"a {len(out_shape)}-d derivative, {fmt(y.shape)} by {fmt(x.shape)}")
    if x.expr is None:  # the output does not depend on it
        return sp.ZeroMatrix(*_dims(out_shape)) if out_shape else sp.Integer(0)
    try:
        d = y.expr.diff(x.expr)
        if not _matrix_or_scalar(d):  # an array expression: SymPy can sometimes turn it into matrices
            from sympy.tensor.array.expressions import convert_array_to_matrix
            d = convert_array_to_matrix(d)
        if not _matrix_or_scalar(d):
            raise NoMatrixForm("SymPy's derivative is an array expression")
        if d.has(sp.Derivative):
            raise NoMatrixForm("SymPy leaves the derivative unevaluated")
        if len(y.shape) == 1 and len(x.shape) == 1:
            d = d.T
        d = d.doit()
    except (NoMatrixForm, RecursionError):
        raise
    except Exception as err:  # SymPy's matrix derivative is experimental: any failure means components
        raise NoMatrixForm(f"SymPy's matrix derivative failed ({type(err).__name__})") from None
    if not _is_matrix(d):
        if out_shape and d != 0:
            raise NoMatrixForm("SymPy's derivative is a scalar")
        return sp.ZeroMatrix(*_dims(out_shape)) if out_shape else d
    if tuple(d.shape) != _dims(out_shape):
        raise NoMatrixForm(f"SymPy's derivative has shape {tuple(d.shape)}")
    return d


def _matrix_or_scalar(d) -> bool:
    sp = _sp()
    return _is_matrix(d) or (isinstance(d, sp.Expr) and not hasattr(d, "shape"))


# --- numbers from formulas -----------------------------------------------------------------------

def _to_float(v, subs=None) -> float:
    """``v`` at ``subs`` ({symbol: number}) as a double. SymPy's ``evalf(subs=...)`` raises its working precision
    where terms cancel; substituted first, the numbers were rounded to 17 digits before the cancellation:
    i_8(x) = (1/x + ... + 2027025/x⁹) sinh x - (...) cosh x at x = 0.01 gave -32768 for 2.9e-24. Where evalf
    cannot tell the value from 0 (a tie: max(x, 1/10) - x at x = 1/10 is 0, evalf's last try 2.6e-141), or fails,
    the values are substituted first: SymPy's exact arithmetic gives the 0."""
    sp = _sp()
    if isinstance(v, sp.Basic):
        try:
            return _real(complex(v.evalf(17, subs=subs, strict=True)))
        except Exception:  # noqa: BLE001  (PrecisionExhausted, or an evalf rule that fails: the substituted value)
            try:
                v = sp.N(v.xreplace(subs) if subs else v, 17)
            except TypeError:  # a comparison of SymPy's complex infinity (log(0) > 0): no number
                return math.nan
    try:
        return _real(complex(v))
    except (TypeError, ValueError):  # zoo, or a symbol left over
        return math.nan


def _real(z: complex) -> float:
    return z.real if abs(z.imag) <= 1e-12 * max(1.0, abs(z.real)) else math.nan


def evaluate_components(arr: np.ndarray, leaves: dict, point: dict) -> np.ndarray:
    """Object array of formulas -> float array at ``point`` ({name: array})."""
    sp = _sp()
    subs = {}
    for name, sym in leaves.items():
        values = np.asarray(point[name], dtype=np.float64)
        for s, v in zip(np.asarray(sym, dtype=object).ravel(), values.ravel()):
            # a short value as the expression's constants are (0.1 -> 1/10, :func:`number`): a tie of doubles
            # (x = 0.1 in maximum(x, 0.1)) stays a tie, where Float(0.1) - 1/10 is 5.6e-18 and picked a side
            n = number(v)
            subs[s] = n if isinstance(n, sp.Rational) else sp.Float(float(v), 17)
    flat = [_to_float(e, subs) if isinstance(e, sp.Basic) else float(e) for e in arr.ravel()]
    return np.array(flat, dtype=np.float64).reshape(arr.shape)


def evaluate_matrix_form(expr, leaves: dict, point: dict, sizes: dict, shape: tuple) -> np.ndarray:
    """A matrix-form expression at concrete ``sizes`` ({letter: int}) and values, in ``shape``:
    evaluated with NumPy on the compact form (:func:`numeric`), never expanded into components
    (``x.T*A*x`` at n = 2000 is two products, not four million SymPy numbers)."""
    env = {}
    for name, leaf in leaves.items():
        value = np.asarray(point[name], dtype=np.float64)
        env[leaf] = value.reshape(-1, 1) if value.ndim == 1 else value
    for letter, n in sizes.items():
        env[size_symbol(letter)] = n
    out = np.asarray(numeric(expr, env), dtype=np.float64)
    want = concrete_shape(shape, sizes)
    if out.size != size_of_shape(want):
        raise NoMatrixForm(f"the form evaluates to shape {out.shape}, not {fmt(want)}")
    return out.reshape(want)


def numeric(expr, env: dict):
    """A SymPy expression (matrix expressions included) evaluated with NumPy, bottom-up over its
    tree with an explicit stack (no recursion). ``env`` maps its symbols and ``MatrixSymbol`` s to
    numbers and arrays (vectors as columns); an unknown node type raises :class:`NoMatrixForm`."""
    sp = _sp()
    done: dict = {}
    stack = [(expr, False)]
    with np.errstate(all="ignore"):  # 0·inf at a kink (norm(x) at 0) is NaN, which the check at --at reads,
        while stack:  # never a RuntimeWarning on the user's stderr
            e, ready = stack.pop()
            if e in done:
                continue
            if e in env:
                done[e] = env[e]
                continue
            args = _numeric_args(e)
            if not ready and args:
                stack.append((e, True))
                stack.extend((a, False) for a in args if a not in done)
                continue
            done[e] = _numeric_node(sp, e, [done[a] for a in args], env)
    return done[expr]


def _numeric_args(e) -> tuple:
    sp = _sp()
    from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

    if isinstance(e, ElementwiseApplyFunction):
        return (e.expr,)
    if isinstance(e, (sp.Number, sp.NumberSymbol, sp.MatrixSymbol, sp.Symbol)) or e in (sp.S.ImaginaryUnit,):
        return ()
    if isinstance(e, (sp.Identity, sp.ZeroMatrix, sp.OneMatrix, sp.ImmutableMatrix, sp.MatrixBase)):
        return ()
    return tuple(e.args)


def _numeric_node(sp, e, vals, env):
    from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
    from sympy.matrices.expressions.hadamard import HadamardPower, HadamardProduct

    def dim(d):
        return int(d) if d.is_number else int(numeric(d, env))

    if isinstance(e, (sp.Number, sp.NumberSymbol)):
        return complex(e) if not e.is_real else float(e)
    if isinstance(e, (sp.Symbol, sp.MatrixSymbol)):
        raise NoMatrixForm(f"no value for {e}")
    if isinstance(e, sp.Identity):
        return np.eye(dim(e.rows))
    if isinstance(e, sp.ZeroMatrix):
        return np.zeros((dim(e.rows), dim(e.cols)))
    if isinstance(e, sp.OneMatrix):
        return np.ones((dim(e.rows), dim(e.cols)))
    if isinstance(e, sp.MatrixBase):
        return np.array(e.tolist(), dtype=np.float64)
    if isinstance(e, ElementwiseApplyFunction):
        return _scalar_function(e.function)(vals[0])
    if isinstance(e, sp.MatMul):
        out = 1.0
        for v in vals:
            out = out @ v if np.ndim(out) == 2 and np.ndim(v) == 2 else out * v
        return out
    if isinstance(e, (sp.MatAdd, sp.Add)):
        return functools.reduce(np.add, vals)
    if isinstance(e, sp.Mul):
        return functools.reduce(np.multiply, vals)
    if isinstance(e, HadamardProduct):
        return functools.reduce(np.multiply, vals)
    if isinstance(e, HadamardPower):
        return np.power(vals[0], vals[1])
    if isinstance(e, sp.Transpose):
        return np.transpose(vals[0])
    if isinstance(e, sp.Inverse):
        return np.linalg.inv(vals[0])
    if isinstance(e, sp.MatPow):
        return np.linalg.matrix_power(vals[0], int(vals[1])) if float(vals[1]).is_integer() else _no(e)
    if isinstance(e, sp.Determinant):
        return np.linalg.det(vals[0])
    if isinstance(e, sp.Trace):
        return np.trace(vals[0])
    if isinstance(e, sp.DiagMatrix):
        return np.diag(np.ravel(vals[0]))
    if isinstance(e, sp.Pow):
        with np.errstate(all="ignore"):
            return np.power(np.asarray(vals[0], dtype=np.float64), vals[1])
    if type(e) in _whole_extremes():
        return float((np.max if type(e) is _whole_extremes()[0] else np.min)(vals[0]))
    if isinstance(e, sp.Function) and all(np.ndim(v) == 0 or np.size(v) == 1 for v in vals):
        return _scalar_function(e.func, len(vals))(*[np.asarray(v, dtype=np.float64).reshape(()) for v in vals])
    return _no(e)


def _no(e):
    raise NoMatrixForm(f"no numeric evaluation of {type(e).__name__}")


def _scalar_function(f, nargs: int = 1):
    """A SymPy function (of ``nargs`` arguments) or ``Lambda`` of scalars as a NumPy function
    (:func:`jacobi_cli.tools.indexform.vectorized`: mpmath where NumPy has no such function)."""
    from .indexform import vectorized

    sp = _sp()
    if isinstance(f, sp.Lambda):
        variables, body = f.variables, f.expr
    else:
        variables = tuple(sp.Dummy(f"v{k}", real=True) for k in range(nargs))
        body = f(*variables)
    return vectorized(sp, variables, body)


def concrete_shape(shape: tuple, sizes: dict) -> tuple:
    return tuple(sizes[d] if isinstance(d, str) else d for d in shape)


# --- the command ----------------------------------------------------------------------------------

def free_names(text: str, known) -> list:
    """Names the expression reads that nothing binds or assigns: ``jac diff``'s scalar symbols.

    Found on Python's syntax tree (walked with a stack of its own: no recursion); calls,
    functions, constants, module names and the parameters of a lambda or function inside it
    (``lambda p: p * x``: p) are not free, nor are the names the text defines (``def f``,
    ``class C``, ``import scipy.linalg as sla``, ``from dataclasses import dataclass``), decorators
    (``@staticmethod``, ``@dataclass``) and annotations (``pos: np.ndarray``), which the parser reads
    as syntax: ``jax.grad(f)(x)`` of a ``def f`` has one input, x.
    """
    from ..lang.functions import CONSTANTS, FUNCTIONS, MODULES
    from ..lang.parser import _syntax_tree

    tree = _syntax_tree(text)
    fields = {id(t) for c in ast.walk(tree) if isinstance(c, ast.ClassDef) for item in c.body  # class State:
              for t in (item.targets if isinstance(item, ast.Assign) else [getattr(item, "target", None)])}  # x: T
    assigned = {n.id for n in ast.walk(tree)  # a, b = ...; y += ...: every name a statement stores
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store) and id(n) not in fields}
    syntax = set()  # ids of decorators and annotations, never values of the inputs
    for n in ast.walk(tree):  # from typing import NamedTuple, class State(NamedTuple), def f: bound, not free
        if isinstance(n, (ast.Import, ast.ImportFrom)):
            assigned.update((a.asname or a.name).split(".")[0] for a in n.names)
        elif isinstance(n, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            assigned.add(n.name)
            syntax.update(id(d) for d in n.decorator_list)
            syntax.add(id(getattr(n, "returns", None)))
        elif isinstance(n, ast.AnnAssign):
            syntax.add(id(n.annotation))
        elif isinstance(n, ast.arg):
            syntax.add(id(n.annotation))
    syntax.discard(id(None))
    callees = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    roots = {m.split(".")[0] for m in MODULES}
    found = {}
    pending = [(tree, frozenset())]  # a node and the parameters of the lambdas and functions around it
    while pending:
        n, params = pending.pop()
        if id(n) in syntax:
            continue
        if isinstance(n, (ast.Lambda, ast.FunctionDef, ast.AsyncFunctionDef)):  # lambda t: t**2 binds t in its body
            a = n.args
            params = params | {p.arg for p in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg] if p}
        elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and id(n) not in callees \
                and n.id not in params:
            if n.id in known or n.id in assigned or n.id in FUNCTIONS or n.id in CONSTANTS or n.id in MODULES \
                    or n.id in roots:  # jax of jax.grad(f)(x)
                continue
            found.setdefault(n.id, (n.lineno, n.col_offset))
        pending.extend((child, params) for child in ast.iter_child_nodes(n))
    return sorted(found, key=found.get)


def _parse_at(items, max_bytes: int, dtype=np.float64, seed: int = 0) -> dict:
    from ..lang.bindings import _value

    point = {}
    for item in items or []:
        name, sep, rest = item.partition("=")
        name = name.strip()
        if not sep or not name or not rest.strip():
            raise JacUsageError(f"--at '{item}' must be NAME=VALUE")
        if not name.isidentifier():
            raise JacNameError(f"--at '{item}': '{name}' is not a valid input name (as a binding's NAME=VALUE)")
        if name in point:
            raise JacUsageError(f"--at {name} is given twice")
        # read as a binding's value is, its errors naming --at x (they said "in the value of 'x'", the binding)
        value = _value(name, rest, dtype, seed, max_bytes, f"--at {name}")
        point[name] = np.asarray(value, dtype=np.float64)  # --dtype's numbers, exactly (float32 widens)
    return point


def _unify_sizes(shapes: dict, point: dict) -> dict:
    """Letters fixed by the values of ``point`` ({letter: int}); a mismatch is a shape error."""
    sizes: dict = {}
    for name, value in point.items():
        shape = shapes[name]
        got = np.shape(value)
        if len(got) != len(shape):
            raise JacShapeError(f"the value of '{name}' has shape {fmt(got)}, but '{name}' has shape {fmt(shape)}")
        for d, g in zip(shape, got):
            if isinstance(d, str):
                if sizes.setdefault(d, g) != g:
                    raise JacShapeError(f"size {d} is {sizes[d]} by one value and {g} by the value of '{name}'")
            elif d != g:
                raise JacShapeError(f"the value of '{name}' has shape {fmt(got)}, but '{name}' has shape {fmt(shape)}")
    return sizes


def _fallback_sizes(shapes: dict, fixed: dict) -> dict:
    sizes = dict(fixed)
    spare = iter(FALLBACK_SIZES)
    for shape in shapes.values():
        for d in shape:
            if isinstance(d, str) and d not in sizes:
                sizes[d] = next(spare, 3)
    return sizes


def _random_point(shapes: dict, shift: bool = True, symmetric: bool = False) -> dict:
    """Values where the check compares the matrix form with autodiff: small and positive (so
    log, sqrt, arcsin are defined), square matrices shifted by I (so inverses are tame) unless
    ``shift`` is False, and made symmetric with ``symmetric`` (cholesky and eigh refuse others; a
    symmetric point is the last tried, as it would hide a transpose missing from a formula)."""
    rng = np.random.default_rng(0)
    point = {}
    for name, shape in shapes.items():
        value = rng.uniform(0.1, 0.4, shape)
        if symmetric and len(shape) == 2 and shape[0] == shape[1]:
            value = (value + value.T) / 2
        if shift and len(shape) == 2 and shape[0] == shape[1]:
            value = value + np.eye(shape[0])
        point[name] = value
    return point


class MadeOutputs(JacUsageError):
    """A text whose last statement makes several outputs in one expression (a dict, a pytree, a named tuple of the
    library): :func:`differentiate` takes one output, and jac diff (tools/report.py) differentiates each of
    ``names`` on its own text (parser.made_outputs). The message says how to list them, for other callers."""

    def __init__(self, names: list):
        self.names = names
        if all("[" in n for n in names):  # y['a'], y['b'] of a dict; grads['W'] of a named pytree
            base = names[0].split("[")[0]
            listed = [("out" + n[len(base):]) if base == "y" else n for n in names]
            how = f"{'out = ...; ' if base == 'y' else ''}{', '.join(listed)}"
        else:  # the fields of a named tuple: values, indices of torch.sort(x)
            how = f"{', '.join(names)} = ...; {', '.join(names)}"
        super().__init__(f"this text ends in {len(names)} outputs made by one expression ({', '.join(names)}), and "
                         f"this differentiates one output: end it in a tuple of them ({how}), or in one of them")


def _given_at(at: dict, limit: int, dtype, seed: int) -> dict:
    """The API's ``at={name: value}``: a string read as ``--at name=VALUE`` is, an array (a list, a tensor) as a
    binding's array is, in float64 from ``dtype``."""
    from ..lang.bindings import numeric_value

    texts = [f"{k}={v}" for k, v in at.items() if isinstance(v, str)]
    parsed = _parse_at(texts, limit, dtype, seed) if texts else {}
    return {k: parsed[k] if isinstance(v, str) else np.asarray(numeric_value(f"the point's value (--at {k})", v, dtype), np.float64)
            for k, v in at.items()}


def differentiate(text: str, bindings=None, wrt=None, at=None, order: int = 1, budget: int | None = None,
                  dtype="float64", seed: int = 0) -> Result:
    """Symbolic derivatives of ``text`` by each input in ``wrt`` (default: every input).

    ``bindings`` as for :func:`jacobi_cli.api.prepare` (``x:n`` keeps a size symbolic, a value
    fixes the shape and a point); names bound nowhere are scalar symbols. ``at`` is a list of
    ``NAME=VALUE`` (or a dict): where the derivatives are also evaluated. ``budget``
    (``--max-memory``, bytes; None: the default) bounds the values (bindings, ``--at``, the
    constants and, at a point, every node's value), checked before each is made. ``dtype`` and
    ``seed`` are every command's: each value (a binding's, ``--at``'s, ``rand(3)``'s draw) is converted
    to ``dtype`` first, as everywhere; the formulas are exact and their numbers computed in float64 from
    those values.
    """
    from ..engine import memory
    from ..ir.graph import DEFAULT_MAX_BYTES
    from ..lang.bindings import check_seed, check_wrt, resolve_dtype, to_bindings
    from ..lang.parser import Made, parse

    budget = memory.default_budget() if budget is None else budget
    limit = min(budget, DEFAULT_MAX_BYTES)
    dtype, seed = resolve_dtype(dtype), check_seed(seed)
    bound = to_bindings(bindings, dtype, seed, max_bytes=limit)
    point = {name: np.asarray(value, dtype=np.float64) for name, value in bound.values.items()}
    at = [at] if isinstance(at, str) else at  # one NAME=VALUE, not its characters
    extra = _parse_at(at, limit, dtype, seed) if not isinstance(at, dict) else _given_at(at, limit, dtype, seed)
    for name, value in extra.items():
        if name in point:
            raise JacUsageError(f"'{name}' has a value already ({name}=...); give it once")
        point[name] = value
    shapes = dict(bound.shapes)
    for name in free_names(text, set(shapes)):
        shapes[name] = np.shape(point[name]) if name in point else ()
    made = Made()  # x = torch.tensor(..., requires_grad=True): an input the text makes, at its value
    graph = parse(text, shapes, max_bytes=limit, made=made)
    if graph.several:  # a dict, a pytree, a named tuple last: its first output alone was differentiated
        raise MadeOutputs([name for name, _ in graph.outputs])
    declared = made.values
    for name in extra:
        if name in declared:
            raise JacUsageError(f"--at {name}: the text makes '{name}' with requires_grad=True and its value; "
                                f"--at gives the values of the other inputs")
        if name not in shapes:
            raise JacNameError(f"--at {name}: the expression has no input named '{name}' "
                               f"(inputs: {', '.join(shapes) or 'none'})")
    sizes = _unify_sizes(shapes, point)
    for name, value in declared.items():
        point[name] = np.asarray(value, dtype=np.float64)
    names = check_wrt(wrt, graph.inputs)
    complete = bool(graph.inputs) and all(name in point for name in graph.inputs)
    if extra and not complete:
        missing = [n for n in graph.inputs if n not in point]
        raise JacUsageError(f"--at needs a value for every input; missing: {', '.join(missing)}")
    if graph.is_concrete():
        _check_point_fits(graph, names, budget)
    at_point = _AtPoint(text, graph, point, limit) if complete else None
    if at_point is not None:
        memory.require(memory.forward_bytes(at_point.graph), budget, "jac diff --at (every node's value at the point)")
    try:
        result = with_deep_stack(lambda: _derivatives(text, graph, shapes, names, at_point, sizes, order, budget))
    except RecursionError:
        raise JacLimitError("the expression is nested too deeply for SymPy") from None
    except JacError as err:
        raise err.with_source(text)
    except ValueError as err:
        _refuse_sympy_by_number(err, names)
        raise
    if complete:
        result.output_value = np.asarray(at_point.values()[at_point.graph.output])
        for name, d in result.derivatives.items():
            _check_at_point(d, at_point.graph, name, point, order, at_point.values(), budget)
    return result


def _check_point_fits(graph, names, budget: int) -> None:
    """Refuse, before any value is made, a graph of concrete sizes whose formulas could not be checked
    within ``budget`` (``--max-memory``): each matrix or index form is compared with autodiff at a random
    point (:class:`_CheckPoint`), which holds every node's value there and a Jacobian per input."""
    from ..engine import memory

    y = size_of_shape(graph.output_shape)
    need = memory.forward_bytes(graph) + sum(
        8 * y * size_of_shape(graph.nodes[graph.inputs[name]].shape) for name in names)
    memory.require(need, budget, "checking the formulas against automatic differentiation at a point "
                                 "(every node's value there and each Jacobian)")


class _AtPoint:
    """``--at``'s point, the graph at its shapes and the nodes' values there: parsed and evaluated once
    per call (the index forms' values of every input and the output's value read them). A local object,
    handed down; nothing outlives the call."""

    def __init__(self, text, graph, point: dict, max_bytes: int | None = None):
        from ..ir.graph import DEFAULT_MAX_BYTES
        from ..lang.parser import parse

        self.point, self._values = point, None
        self.graph = graph if graph.is_concrete() else parse(text, {n: np.shape(point[n]) for n in graph.inputs},
                                                             max_bytes=max_bytes or DEFAULT_MAX_BYTES)
        self.same = _same_nodes(self.graph, graph)  # node ids carry over from the symbolic graph

    def values(self) -> list:
        if self._values is None:
            self._values = autodiff.evaluate(self.graph, self.point)
        return self._values


class _CheckPoint:
    """Where every candidate form (SymPy's matrix derivative, :mod:`~jacobi_cli.tools.matrixcalc`'s, the
    index form) of every input is compared with autodiff: the graph at concrete sizes (its own, else 3, 4,
    5, ...), one random point, the nodes' values there and each input's Jacobian, each computed once, on
    first use, per call (a local object, handed down: nothing outlives the call)."""

    def __init__(self, text, graph, shapes):
        self.text, self.symbolic, self.shapes = text, graph, shapes
        self.sizes = {} if graph.is_concrete() else _fallback_sizes(shapes, {})
        self._graph, self._at, self._jacobians = None, None, {}

    @property
    def graph(self):
        """The graph at the check's sizes (parsed once; its node ids are the symbolic graph's when
        :attr:`same`)."""
        if self._graph is None:
            from ..lang.parser import parse

            g = self.symbolic
            self._graph = g if g.is_concrete() else parse(self.text, {
                n: concrete_shape(tuple(g.nodes[i].shape), self.sizes) for n, i in g.inputs.items()})
        return self._graph

    @property
    def same(self) -> bool:
        return _same_nodes(self.graph, self.symbolic)

    def at(self) -> tuple:
        """``(point, node values)``: square matrices shifted by I (tame inverses), else unshifted (where
        values must stay in (0, 1)), else symmetric and shifted (cholesky, eigh); NoMatrixForm where the
        graph evaluates at none."""
        if self._at is None:
            graph = self.graph
            shapes = {n: tuple(graph.nodes[i].shape) for n, i in graph.inputs.items()}
            for point in (_random_point(shapes), _random_point(shapes, shift=False),
                          _random_point(shapes, symmetric=True)):
                try:
                    self._at = point, autodiff.evaluate(graph, point)
                    break
                except JacValueError:
                    continue
            else:
                raise NoMatrixForm("no point to check the form at")
        return self._at

    def jacobian(self, name: str) -> np.ndarray:
        """Autodiff's Jacobian by ``name`` at the point, ``y.shape + x.shape``."""
        if name not in self._jacobians:
            values = self.at()[1]
            graph = self.graph.with_wrt([name])
            # the smaller basis: a Hessian's gradient graph of softmax at 100 has 10,000 outputs by 100 inputs
            # (a reverse pass over them held (10,000, 100, 100) batches, 2.4 GB)
            jac = None
            if size_of_shape(graph.output_shape) > size_of_shape(graph.nodes[graph.inputs[name]].shape):
                try:
                    jac = autodiff.jacfwd(graph, values, [name])
                except JacError:  # a forward rule that refuses where the reverse one answers: the reverse pass
                    jac = None
            jac = autodiff.jacrev(graph, values) if jac is None else jac
            self._jacobians[name] = np.asarray(jac[name], dtype=np.float64)
        return self._jacobians[name]


def _same_nodes(concrete, graph) -> bool:
    return concrete is graph or ([(n.op, tuple(n.args)) for n in concrete.nodes] ==
                                 [(n.op, tuple(n.args)) for n in graph.nodes] and concrete.output == graph.output)


AT_RTOL = 1e-7  # a formula evaluated with NumPy against autodiff at the same point: rounding only
# the absolute floor of each entry's tolerance, in units of eps × the Jacobian's largest entry × the evaluation's
# condition: a small entry is held to its own size, not to the largest one's (a wrong 1e-3 beside 1e6 was let through)
AT_FLOOR_ULPS = 1024.0
AT_STEP = 2.0 ** -26  # the relative step of the inputs that measures the condition (about sqrt(eps))


def entries_agree(got, numbers, rtol: float, floor: float) -> np.ndarray:
    """Per entry: ``got`` is ``numbers`` to ``rtol`` of the entry's own size, plus ``floor`` (absolute); NaN where
    NaN. A boolean array of ``numbers``' shape (all False where the sizes differ)."""
    numbers = np.asarray(numbers, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    if got.size != numbers.size:
        return np.zeros(numbers.shape, dtype=bool)
    with np.errstate(invalid="ignore", over="ignore"):
        return np.isclose(got.reshape(numbers.shape), numbers, rtol=rtol, atol=floor, equal_nan=True)


def _scale(numbers: np.ndarray) -> float:
    finite = np.isfinite(numbers)
    return float(np.max(np.abs(numbers[finite]), initial=0.0))


def perturbed(point: dict) -> dict:
    """``point`` with every value moved by the relative step ``AT_STEP``, signs alternating (a zero stays: it is
    exact, as rounding leaves it)."""
    out = {}
    for name, value in point.items():
        value = np.asarray(value, dtype=np.float64)
        signs = np.where(np.arange(value.size) % 2 == 0, 1.0, -1.0).reshape(value.shape)
        out[name] = value * (1.0 + AT_STEP * signs)
    return out


def condition(numbers: np.ndarray, at_perturbed) -> float:
    """How much the derivative moves, relative to its largest entry, per relative change of the inputs:
    ``max|J(x(1 ± h)) - J(x)| / (h · max|J|)`` (``numbers``: J(x); ``at_perturbed()``: J at :func:`perturbed`
    inputs, None where there is none; at least 1, inf where it cannot be measured). Rounding the inputs to eps
    moves the entries by about eps × this × the scale, and so does evaluating them."""
    scale = _scale(numbers)
    if scale == 0.0:
        return 1.0
    if at_perturbed is None:
        return math.inf
    try:
        moved = np.asarray(at_perturbed(), dtype=np.float64)
    except (JacError, ArithmeticError, ValueError, TypeError):
        return math.inf
    if moved.size != numbers.size:
        return math.inf
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf where a derivative is infinite: not a change
        change = np.abs(moved.reshape(numbers.shape) - numbers)
    change = change[np.isfinite(change)]
    return max(1.0, float(np.max(change, initial=0.0)) / (AT_STEP * scale))


def agrees_at(got, numbers, rtol: float, eps: float, at_perturbed, reference=None) -> bool:
    """Whether a formula's values ``got`` are ``numbers`` (autodiff's, or the ones printed) entry by entry: each to
    ``rtol`` of its own size, plus a floor of ``AT_FLOOR_ULPS`` × ``eps`` × the evaluation's scale (the largest
    entry, and at least 1: a pass whose entries are all small still rounds its intermediates, 1 - tanh²(15) to
    1e-16 absolute), widened by the :func:`condition` of the evaluation (``at_perturbed()``: ``reference``, default
    ``numbers``, at :func:`perturbed` inputs), measured only where the tight floor does not hold, and never past
    the floor before session 38, ``rtol`` × that scale, which a condition that cannot be measured falls back to."""
    numbers = np.asarray(numbers, dtype=np.float64)
    scale = max(_scale(numbers), 1.0)
    close = entries_agree(got, numbers, rtol, AT_FLOOR_ULPS * eps * scale)
    if close.all():
        return True
    if np.size(got) != numbers.size:
        return False
    kappa = condition(numbers if reference is None else np.asarray(reference, dtype=np.float64).reshape(
        numbers.shape), at_perturbed)
    floor = rtol * scale if math.isinf(kappa) else min(rtol * scale, AT_FLOOR_ULPS * eps * scale * kappa)
    return bool(entries_agree(got, numbers, rtol, floor).all())


def _check_at_point(d: Derivative, graph, name: str, point: dict, order: int, values: list | None = None,
                    budget: int | None = None) -> None:
    """The formula's value at ``--at`` against jac's own derivative there (``jac eval``'s), entry by entry
    (:func:`agrees_at`: a wrong small entry beside a large one is caught).

    A formula holds where the function is differentiable; at a tie of ``max``, a kink of ``abs``
    or a removable singularity it may not give what autodiff gives (``θ(x[i] - max(others))``
    is 1 for every tied element, PyTorch splits the gradient between them). A value shown under
    the formula must never be a different number from the one ``jac eval`` prints: where they
    differ, the value shown is autodiff's and the note says why."""
    if d.value is None:
        return
    numeric, refusal = _automatic_at(graph, name, point, order, values, budget)
    if refusal:  # the formula's value stays, unchecked, and says so, once the rules' checks have passed there
        _rules_checks_at(graph, name, point, order)
        why = f"the value at this point is not checked against automatic differentiation ({refusal})"
        d.note = why if not d.note else f"{d.note}; {why}"
        return
    shown = np.asarray(d.value, dtype=np.float64)
    if numeric.size == shown.size:  # else the formula's value cannot be the derivative: autodiff's is shown
        numeric = numeric.reshape(shown.shape)

        def moved():
            value, why = _automatic_at(graph, name, perturbed(point), order, None, budget)
            if why:
                raise ValueError(why)
            return value

        if agrees_at(shown, numeric, AT_RTOL, float(np.finfo(np.float64).eps), moved):
            return
    d.value = numeric
    why = ("the formula does not hold at this point (a tie, a kink or a singularity): the value below is jac's "
           "automatic derivative, as jac eval gives it (PyTorch's choice where the function is not differentiable)")
    d.note = why if not d.note else f"{d.note}; {why}"


def _rules_checks_at(graph, name: str, point: dict, order: int) -> None:
    """Where jac's own derivative does not fit the budget, the checks its rules make (a matrix singular in working
    precision: ``singular_check``) still run at ``point``, by one product pass per order
    (:func:`~jacobi_cli.engine.higher.product_graph`): a formula evaluated there (-A⁻¹ dA A⁻¹ at a singular A:
    numbers of size 1/eps) is refused as ``jac eval`` refuses it (session 50), as is any value the rules refuse
    there; passes that grow past a limit of their own are left to the note that the value is unchecked."""
    from ..engine import higher

    try:
        autodiff.evaluate(higher.product_graph(graph, name, order), point)
    except JacLimitError:
        return


def _automatic_at(graph, name: str, point: dict, order: int, values: list | None = None,
                  budget: int | None = None) -> tuple:
    """``(derivative, None)`` by ``name`` at ``point`` as ``jac eval`` (order 1: the planned, structured
    Jacobian) and ``jac derivative`` (order K: diagonal where the Jacobian is) compute it, or ``(None, why)``
    where their plan does not fit the budget (``values``: the graph's at ``point``, when known). A dense pass writes 0·inf = NaN outside a diagonal Jacobian's
    pattern (log(x) at x[0] = 0), where ``jac eval`` and the formula have 0."""
    from ..engine import higher, planner
    from ..engine.memory import default_budget

    budget = default_budget() if budget is None else budget  # --max-memory's, as jac eval's plan has it
    graph = graph.with_wrt([name])  # jac eval --wrt name's flags: an order held constant is not differentiated
    values = autodiff.evaluate(graph, point) if values is None else values
    plan = planner.make_plan(graph, values, [name], "auto", budget)
    if plan.refusal:
        return None, plan.refusal
    if order == 1:
        return np.asarray(planner.run(plan, graph, values)[name], dtype=np.float64), None
    diagonal = plan.inputs[name].structure == "diagonal" and size_of_shape(np.shape(point[name])) > 1
    plan = higher.plan_derivative(graph, name, order, diagonal, budget)
    if plan.refusal:
        return None, plan.refusal
    return np.asarray(higher.run(plan, point), dtype=np.float64), None


def _refuse_sympy_by_number(err: ValueError, names) -> None:
    """SymPy's "Can't calculate derivative wrt 1/2" (a special function's parameter, hyp1f1's a or b, which its
    formula holds as the number bound to it) as a refusal, not an internal error (session 53: symcheck38's
    CRASH, ``jac diff "scipy.special.hyp1f1(a, b, x)" --wrt a`` exited 70)."""
    if "derivative wrt" in str(err):
        raise NoTranslation(f"no formula for the derivative by {', '.join(names)}: SymPy cannot differentiate a "
                            "special function by its parameter (hyp1f1's a and b); jac eval computes it "
                            "numerically") from None


def differentiate_graph(graph, names, point=None) -> Result:
    """Symbolic first derivatives of a graph of concrete sizes by each input in ``names``, evaluated
    at ``point`` ({name: array}) when it is given: what :func:`differentiate` does after parsing."""
    if not graph.is_concrete():
        raise JacUsageError("differentiate_graph needs concrete sizes")
    at_point = _AtPoint("", graph, point) if point is not None else None
    try:
        result = with_deep_stack(lambda: _derivatives("", graph, {}, list(names), at_point, {}))
    except RecursionError:
        raise JacLimitError("the expression is nested too deeply for SymPy") from None
    except ValueError as err:
        _refuse_sympy_by_number(err, names)
        raise
    if point is not None:
        for name, d in result.derivatives.items():
            _check_at_point(d, graph, name, point, 1, at_point.values())
    return result


def _derivatives(text, graph, shapes, names, at_point, sizes, order: int = 1, budget: int | None = None) -> Result:
    _refuse_refused_partials(graph, names)
    point = at_point.point if at_point is not None else None
    if order > 1:
        if not graph.is_concrete():
            raise JacUsageError(f"--order {order} needs concrete sizes (x:3, or values): the derivatives of order "
                                "above 1 are given as formulas of the components (or, for a second derivative, of "
                                "the gradient's entries)")
        second = _second_index_forms(graph, names, point, budget) if order == 2 else None
        if second is not None:
            return second
        for name in names:  # _higher_result's limit, before any component is made (softmax of 100: 30 s)
            _check_higher_entries(graph, name, order)
        values, leaves = translate(graph, as_components=True)
        result = Result(graph, as_array(values[graph.output].expr), {}, names, point)
        for name, arr in jacobian_components(graph, names, values, leaves).items():
            result.derivatives[name] = _higher_result(graph, name, arr, leaves, point, order)
        return result
    if graph.is_concrete() and not _prefer_matrix_form(graph, names) and not _selects(graph):
        values, leaves = translate(graph, as_components=True)
        result = Result(graph, as_array(values[graph.output].expr), {}, names, point)
        jac = jacobian_components(graph, names, values, leaves)
        for name in names:
            result.derivatives[name] = _component_result(graph, name, jac[name], leaves, point, {})
        return result
    return _matrix_derivatives(text, graph, shapes, names, at_point, sizes)


def _second_index_forms(graph, names, point, budget: int | None = None) -> Result | None:
    """``--order 2`` of a scalar output (or of a vector by vectors) where components would be big or hopeless
    (100 entries or more, det or inv of a matrix past 5 × 5, log|det|: its components differentiate |·| and
    sign, Dirac deltas included, for seconds at 3 × 3): for each input the index form of its gradient's
    (Jacobian's) Jacobian (:func:`_gradient_graph`: det's gradient is cofactor(A), whose derivative is a trace
    term), checked against autodiff's like any index form. None (components, as before) unless every input
    has one."""
    y_shape = tuple(graph.output_shape)
    y_size = size_of_shape(y_shape)
    vectors = len(y_shape) == 1 and all(len(graph.nodes[graph.inputs[n]].shape) == 1 for n in names)
    if not (y_shape == () or vectors) or not names:
        return None
    hopeless = any(node.op == "logabsdet" or node.op in MATRIX_OPS and any(
        len(s) >= 2 and s[-1] > COMPONENT_MATRIX_MAX for s in [graph.nodes[a].shape for a in node.args])
        for node in graph.nodes)
    if not hopeless and all(y_size * size_of_shape(graph.nodes[graph.inputs[n]].shape) ** 2 < DRAWN_MAX_ENTRIES
                            for n in names):
        return None
    try:
        values, _ = translate(graph, as_components=False)
        output = values[graph.output].expr
    except (NoMatrixForm, NoTranslation):
        return None
    derivatives = {}
    for name in names:
        x_shape = tuple(graph.nodes[graph.inputs[name]].shape)
        try:
            if len(x_shape) not in (1, 2):
                raise NoMatrixForm("a scalar or a tensor input")
            gradient = _gradient_graph(graph, name)
            _check_second_bytes(gradient, name, y_size, budget)
            d = _index_result("", gradient, {}, name, point, {})
        except (RecursionError, MemoryError, NoValueAtPoint):
            raise
        except Exception:  # noqa: BLE001 - no index form, or none that checks out: components for every input
            return None
        d.math_shape = higher_math_shape(y_shape, x_shape, 2)
        d.differential = None  # it would be the gradient's (d∇y), under a line that reads dy
        derivatives[name] = d
    return Result(graph, output, derivatives, names, point)


def _check_second_bytes(gradient, name: str, y_size: int, budget: int | None = None) -> None:
    """The form is checked (and evaluated at --at) with the whole second derivative in numbers: one forward
    pass through the gradient graph with x's basis (every node times x.size) and the result, y·x² entries,
    within the memory budget (``--max-memory``'s), else no index form (components refuse past 10,000 entries,
    as before)."""
    from ..engine.memory import default_budget

    x_size = size_of_shape(gradient.nodes[gradient.inputs[name]].shape)
    values = sum(size_of_shape(n.shape) for n in gradient.nodes)
    if 8 * (x_size * values + 2 * y_size * x_size ** 2) > (default_budget() if budget is None else budget):
        raise NoMatrixForm("the second derivative's numbers (its check) would pass the memory budget")


def _gradient_graph(graph, name: str):
    """d y / d ``name`` of a scalar output as a graph of its own, shaped like ``name``: autodiff's traced
    reverse pass (:func:`~jacobi_cli.engine.autodiff.grad_graph`, the rules jac's Hessian runs through),
    every node's leading axis of the one cotangent dropped, as the index form reads matrices. Its
    Jacobian by ``name`` is the second derivative. Of a vector output, the Jacobian ``y.shape + x.shape``
    as the reverse pass over the output's basis makes it (no axis dropped: a node past 2 axes is
    NoMatrixForm). NoMatrixForm where a node cannot be read so."""
    from ..ir.graph import Builder
    from ..ir.ops import OPS

    g2, ids = autodiff.grad_graph(graph.with_wrt([name]))
    scalar = tuple(graph.output_shape) == ()

    def squeezed(shape):
        shape = tuple(shape)
        if len(shape) <= 2:
            return shape
        if not scalar or any(d != 1 for d in shape[:-2]):
            raise NoMatrixForm(f"a {len(shape)}-d node of the gradient")
        return shape[-2:]

    b = Builder(g2.source, dtype=g2.dtype)
    new: list = []
    # masks of non-finite values (a norm's rule that rescales where the norm overflowed: ops._overflow_scale) are
    # all False for SymPy's symbols, which are finite: where(mask, a, b) is b, as the translation reads isinf
    known: dict = {}
    for node in g2.nodes:
        truth = _finite_truth(node, known)
        if truth is not None:
            known[node.id] = truth
        if node.op == "where" and node.args[0] in known:
            branch = node.args[1] if known[node.args[0]] else node.args[2]
            if tuple(g2.nodes[branch].shape) == tuple(node.shape):
                new.append(new[branch])
                continue
        if node.op == "input":
            new.append(b.input(node.name, node.shape))
            continue
        if node.op == "const":
            value = np.asarray(node.value)
            new.append(b.const(value.reshape(squeezed(value.shape)) if value.ndim > 2 else value))
            continue
        params = dict(node.params)
        if len(node.shape) > 2 or any(len(g2.nodes[a].shape) > 2 for a in node.args):
            lead = len(node.shape) - 2
            if node.op == "reshape":
                params["shape"] = squeezed(params["shape"])
            elif node.op == "transpose" and lead > 0 and tuple(params["axes"][:lead]) == tuple(range(lead)):
                params["axes"] = tuple(a - lead for a in params["axes"][lead:])
            elif node.op not in ("matmul", "singular_check") and not OPS[node.op].elementwise:  # the check: d as it is
                raise NoMatrixForm(f"{node.op} of a batch of cotangents")
        try:
            out = b.apply(node.op, *[new[a] for a in node.args], **params)
        except JacError:
            raise NoMatrixForm(f"{node.op} of the gradient without its batch axis") from None
        if tuple(out.shape) != squeezed(node.shape):
            raise NoMatrixForm(f"{node.op} of the gradient changes its shape without its batch axis")
        new.append(out)
    x_shape = tuple(graph.nodes[graph.inputs[name]].shape)
    grad = new[ids[name]]
    if scalar and tuple(grad.shape) != x_shape:
        grad = b.apply("reshape", grad, shape=x_shape)
    return b.graph(grad).with_wrt([name])


def _finite_truth(node, known: dict):
    """The value every element of ``node`` has where all values are finite (SymPy's symbols): False for
    ``isinf`` / ``isnan``, True for ``isfinite``, their and (``mul`` of masks); None where it depends on them."""
    if node.op in ("isinf", "isnan"):
        return False
    if node.op == "isfinite":
        return True
    if node.op in ("mul", "logical_and") and node.args and all(a in known for a in node.args):
        return all(known[a] for a in node.args)
    if node.op in ("mul", "logical_and") and any(known.get(a) is False for a in node.args):
        return False
    return None


def _selects(graph) -> bool:
    """Does the graph pick elements by their order (sort: argsort, take_along)? Those have no components,
    only an index form (a permutation)."""
    need = graph.needed()
    return any(need[n.id] and n.op in SELECTIONS for n in graph.nodes)


def _check_higher_entries(graph, name: str, order: int) -> None:
    count = size_of_shape(graph.output_shape) * size_of_shape(graph.nodes[graph.inputs[name]].shape) ** order
    if count > MAX_JACOBIAN_ENTRIES:
        raise JacLimitError(f"the derivative by {name} would have {count:,} entries, more than the "
                            f"{MAX_JACOBIAN_ENTRIES:,} shown as formulas; use jac derivative for its values")


def _higher_result(graph, name, arr, leaves, point, order: int) -> Derivative:
    """The ``order``-th derivative by ``name`` as formulas, ``y.shape + x.shape * order``: the
    Jacobian's entries differentiated again by each component of ``x``, ``order - 1`` times."""
    sp = _sp()
    x = leaves.get(name)
    x_shape = tuple(graph.nodes[graph.inputs[name]].shape)
    _check_higher_entries(graph, name, order)
    for _ in range(order - 1):
        if x is None:
            arr = np.full(arr.shape + x_shape, sp.Integer(0), dtype=object)
            continue
        symbols = list(np.asarray(x, dtype=object).ravel())
        flat = np.array([[sp.diff(e, s) for s in symbols] for e in arr.ravel()], dtype=object)
        _refuse_nan(flat.ravel(), f"the derivative of order {order} by {name}")
        if sum(1 for e in flat.ravel() if e != 0) <= SIMPLIFY_MAX_ENTRIES:
            flat = simplify_entries(flat)
        arr = flat.reshape(arr.shape + x_shape)
    shape = tuple(arr.shape)
    y_shape = shape[:len(shape) - order * len(x_shape)]
    d = Derivative(name, "components", as_array(arr), shape, higher_math_shape(y_shape, x_shape, order))
    if point is not None:
        d.value = evaluate_components(arr, leaves, point)
    return d


def size_of_shape(shape) -> int:
    return int(np.prod(shape, dtype=np.int64))


def _component_result(graph, name, arr, leaves, point, sizes, note=None) -> Derivative:
    y_shape = tuple(graph.output_shape)
    x_shape = tuple(graph.nodes[graph.inputs[name]].shape)
    d = Derivative(name, "components", as_array(arr), y_shape + x_shape, math_shape(y_shape, x_shape),
                   note=note, sizes=sizes)
    if point is not None:
        d.value = evaluate_components(arr, leaves, point)
    return d


def _matrix_derivatives(text, graph, shapes, names, at_point, fixed) -> Result:
    """Matrix forms where SymPy has one that checks out; components at concrete sizes elsewhere. Every
    candidate form of every input is checked at one :class:`_CheckPoint`."""
    point = at_point.point if at_point is not None else None
    check = _CheckPoint(text, graph, shapes)
    try:
        values, leaves = translate(graph, as_components=False)
        result, reason = Result(graph, values[graph.output].expr, {}, names, point), None
    except (NoMatrixForm, NoTranslation) as err:  # an index form may still have a rule (sort's argsort)
        values, leaves, reason = None, {}, str(err)
        result = Result(graph, None, {}, names, point)
    fallback = _Fallback(text, shapes, fixed, point, graph, names)
    transform = bool(_transforms(graph.nodes))  # a Fourier transform's DFT sums are components only: an index form
    for name in names:  # would name its value and its stop-gradient as constants (y = v₁ - v₂ + Cᵀx)
        try:
            if reason is not None:
                raise NoMatrixForm(reason)
            result.derivatives[name] = _matrix_result(check, values, leaves, name, point, fixed)
        except NoMatrixForm as err:
            try:
                if transform:
                    raise NoMatrixForm(str(err))
                result.derivatives[name] = _index_result(text, graph, shapes, name, at_point, fixed, check)
            except (RecursionError, MemoryError, NoValueAtPoint):
                raise
            except Exception:  # noqa: BLE001 - no index form (NoMatrixForm), or none that checks out: components
                result.derivatives[name] = fallback.derivative(name, str(err))
    if result.output is None:
        try:
            result.output = fallback.output()
        except (JacLimitError, NoTranslation):  # no components: the output as the index form names it (L)
            if not any(d.form == "index" for d in result.derivatives.values()):
                raise
            import sys

            from . import indexform
            result.output = indexform.output_symbol(sys.modules[__name__], graph)
    return result


def _index_result(text, graph, shapes, name, at_point, fixed, check=None) -> Derivative:
    """A derivative of 2 to 4 axes in index form (:mod:`jacobi_cli.tools.indexform`), shown only if its
    numbers agree with autodiff at a random point (at the graph's own sizes, else at 3, 4, 5, ...: the
    ``check``'s, shared with the matrix forms). ``at_point``: an :class:`_AtPoint` (or a point) where
    it is evaluated, or None."""
    import sys

    from . import indexform
    from ..ir.shapes import legend_letters

    y_shape = tuple(graph.output_shape)
    x_shape = tuple(graph.nodes[graph.inputs[name]].shape)
    if len(y_shape) + len(x_shape) < 2:
        raise NoMatrixForm("")
    S = sys.modules[__name__]
    form = indexform.build(S, graph, name)
    check = _CheckPoint(text, graph, shapes) if check is None else check
    if not check.same:
        raise NoMatrixForm("the graph differs at concrete sizes")
    shapes_at = {n: tuple(check.graph.nodes[i].shape) for n, i in check.graph.inputs.items()}
    node_values = check.at()[1]
    numeric_j = check.jacobian(name)
    try:
        got = indexform.tensor(form, node_values, tuple(check.graph.output_shape), shapes_at[name])
    except Exception:  # noqa: BLE001 - a form that cannot be evaluated is not one to show
        raise NoMatrixForm("the index form cannot be evaluated") from None
    numeric_j = numeric_j.reshape(got.shape)
    if not (np.all(np.isfinite(numeric_j)) and np.allclose(got, numeric_j, rtol=1e-9, atol=1e-12)):
        raise NoMatrixForm("the index form does not match the numeric derivative")
    letters = legend_letters(y_shape, x_shape)
    sp = _sp()
    index = [sp.Symbol(c, integer=True) for c in letters]
    ny = len(y_shape)

    def pair(idx, nd):
        return (idx[0], idx[1]) if nd == 2 else (idx[0], sp.Integer(0)) if nd == 1 else (sp.Integer(0),) * 2

    expr = indexform.formula(S, form, pair(index[:ny], ny), pair(index[ny:ny + len(x_shape)], len(x_shape)),
                             tuple(index[ny + len(x_shape):ny + len(x_shape) + 3]))
    d = Derivative(name, "index", expr, y_shape + x_shape, math_shape(y_shape, x_shape))
    d.differential = _checked_differential(S, form, graph, name, node_values, got, shapes_at[name],
                                           check.sizes)
    shown = {str(s) for e in (expr, d.differential) if e is not None for s in e.atoms(sp.Symbol, sp.MatrixSymbol)}
    d.where = [line for line in form.where if line.split(" = ")[0].split("[")[0] in shown]  # the names it reads
    if graph.nodes[graph.output].op in SELECTIONS:  # the output has no formula, only a name: defined here too
        d.where += [line for line in indexform.output_where(S, graph) if line not in d.where]
    if at_point is not None:
        at_point = at_point if isinstance(at_point, _AtPoint) else _AtPoint(text, graph, at_point)
        if not at_point.same:
            raise NoMatrixForm("the graph differs at concrete sizes")
        where = at_point.graph
        try:
            at_values = at_point.values()
        except JacValueError as err:
            raise NoValueAtPoint(err.message, err.position) from None
        d.value = indexform.tensor(form, at_values, tuple(where.output_shape),
                                   tuple(where.nodes[where.inputs[name]].shape))
    return d


def _checked_differential(S, form, graph, name, node_values, jacobian, x_shape, sizes):
    """The index form's differential (``-A**(-1)*dA*A**(-1)``), if it has one and, evaluated with NumPy
    in one random direction ``dX``, it gives the checked Jacobian's product with that direction."""
    from . import indexform

    expr = indexform.differential(S, form, name)
    if expr is None:
        return None
    rng = np.random.default_rng(1)
    direction = rng.standard_normal(x_shape)
    env = {f.sym: f.num(node_values) for t in form.terms for f in (*t.P, *t.Q, *(t.N or ())) if _is_matrix(f.sym)}
    for leaf, i in graph.inputs.items():  # the inputs, as the formula names them (symbolic sizes)
        value = np.asarray(node_values[i], dtype=np.float64)
        env[matrix_symbol(leaf, tuple(graph.nodes[i].shape))] = value.reshape(-1, 1) if value.ndim == 1 else value
    env.update({size_symbol(letter): n for letter, n in sizes.items()})
    env[_sp().MatrixSymbol(f"d{name}", *form.x_dims)] = direction.reshape(tuple(int(d) for d in
                                                                              indexform._xdims(x_shape)))
    try:
        got = np.asarray(numeric(expr, env), dtype=np.float64)
    except Exception:  # noqa: BLE001 - a differential NumPy cannot evaluate is not shown
        return None
    want = np.tensordot(jacobian, direction, axes=len(x_shape))
    if got.size != want.size or not np.allclose(got.reshape(want.shape), want, rtol=1e-9, atol=1e-12):
        return None
    return expr


def _prefer_matrix_form(graph, names) -> bool:
    """At concrete sizes, try the matrix form first where components would be big: a Jacobian
    of :data:`DRAWN_MAX_ENTRIES` entries or more, or a determinant, inverse or solve of a
    matrix bigger than :data:`COMPONENT_MATRIX_MAX` (whose components have n! terms)."""
    y = size_of_shape(graph.output_shape)
    if any(y * size_of_shape(graph.nodes[graph.inputs[n]].shape) >= DRAWN_MAX_ENTRIES for n in names):
        return True
    return any(node.op in MATRIX_OPS and any(len(s) >= 2 and s[-1] > COMPONENT_MATRIX_MAX for s in
                                            [graph.nodes[a].shape for a in node.args]) for node in graph.nodes)


def _matrix_result(check, values, leaves, name, point, fixed) -> Derivative:
    """The derivative in matrix form: SymPy's matrix derivative, else jac's own matrix calculus
    (:mod:`jacobi_cli.tools.matrixcalc`); each shown only if it agrees with autodiff at ``check``."""
    import sys

    from . import matrixcalc

    graph = check.symbolic
    y_shape = tuple(graph.output_shape)
    x_shape = tuple(graph.nodes[graph.inputs[name]].shape)
    reasons, d = [], None
    for make in (lambda: matrix_derivative(values[graph.output], Value(leaves.get(name), x_shape)),
                 lambda: matrixcalc.derivative(sys.modules[__name__], graph, values, leaves, name)):
        try:
            candidate = make()
        except NoMatrixForm as err:
            reasons.append(str(err))
            continue
        if _agrees(check, candidate, leaves, name, y_shape + x_shape):
            d = candidate
            break
        reasons.append("SymPy's answer does not match the numeric derivative" if not reasons else
                       "the matrix form does not match the numeric derivative")
    if d is None:
        raise NoMatrixForm(reasons[0] if reasons else "")
    deriv = Derivative(name, "matrix", d, y_shape + x_shape, math_shape(y_shape, x_shape))
    if point is not None:
        try:
            deriv.value = evaluate_matrix_form(d, leaves, point, fixed, y_shape + x_shape)
        except np.linalg.LinAlgError:  # det(A)·A⁻ᵀ at a singular A: the formula has no value there, the
            # derivative may (det's is the adjugate): NaN, which _check_at_point replaces by autodiff's, with a note
            deriv.value = np.full(concrete_shape(y_shape + x_shape, fixed), np.nan)
            deriv.note = ("the formula inverts a matrix that is singular at this point, where it has no value")
    return deriv


class _Fallback:
    """Components at concrete sizes (the point's, else 3, 4, 5, ...), translated on first use."""

    def __init__(self, text, shapes, fixed, point, graph=None, names=()):
        self.text, self.shapes, self.point, self.names = text, shapes, point, list(names)
        self.sizes = _fallback_sizes(shapes, fixed)
        self.graph = graph if graph is not None and graph.is_concrete() else None
        self.values = None

    def _translated(self):
        from ..lang.parser import parse

        if self.graph is None:
            self.graph = parse(self.text, {n: concrete_shape(s, self.sizes) for n, s in self.shapes.items()})
        if self.values is None:
            self.values, self.leaves = translate(self.graph, as_components=True)
        return self.graph

    def derivative(self, name: str, why: str) -> Derivative:
        try:
            graph = self._translated()
            arr = jacobian_components(graph, [name], self.values, self.leaves)[name]
        except JacLimitError as err:  # say which derivative, and why it needed components
            raise JacLimitError(f"∂/∂{name} has no matrix form ({why}), and in components: {err.message}"
                                + (f" (--wrt {', '.join(n for n in self.names if n != name)} alone may work)"
                                   if len(self.names) > 1 else ""), err.position) from None
        used = {k: v for k, v in self.sizes.items() if k in _letters(self.shapes)}
        at = f" at {', '.join(f'{k} = {v}' for k, v in used.items())}" if used else ""
        note = f"no matrix form ({why}); components{at} instead"
        return _component_result(graph, name, arr, self.leaves, self.point, used, note)

    def output(self):
        graph = self._translated()  # first: it sets self.values
        return as_array(self.values[graph.output].expr)


def _letters(shapes: dict) -> set:
    return {d for s in shapes.values() for d in s if isinstance(d, str)}


def _agrees(check, d, leaves, name, shape) -> bool:
    """The matrix form against autodiff at the check's concrete sizes (the graph's own, when it has them;
    else 3, 4, 5, ...: distinct, so that a transposition shows) and random point (rtol 1e-9)."""
    point = check.at()[0]
    numeric = check.jacobian(name)
    try:
        symbolic = evaluate_matrix_form(d, leaves, point, check.sizes, shape)
    except Exception:  # a form SymPy cannot evaluate explicitly is not one to show
        return False
    numeric = numeric.reshape(symbolic.shape)
    return bool(np.all(np.isfinite(numeric)) and np.allclose(symbolic, numeric, rtol=1e-9, atol=1e-12))


# --- printing ---------------------------------------------------------------------------------------
# SymPy writes an element-wise function of a matrix as Lambda(_d, sin(_d)).(x); these printers
# write sin.(x) (sin˳(x) pretty), all-ones matrices as ones(1, n), and x[0] as x_{0} in LaTeX.

def _function_name(f):
    """``sin`` for ``Lambda(d, sin(d))``; None for any other body."""
    sp = _sp()
    if isinstance(f, sp.Lambda) and len(f.variables) == 1:
        body = f.expr
        if isinstance(body, sp.Function) and body.args == f.variables:
            return type(body).__name__
    return None


def _bound_as_t(f) -> tuple:
    """``((t,), body)`` of an element-wise ``Lambda``: its bound variable written ``t`` when it is a
    Dummy (whose name prints as ``d`` where bound and ``_d`` inside some bodies, ``Max(1/2, _d)``)."""
    (var,), body = f.variables, f.expr
    sp = _sp()
    if isinstance(var, sp.Dummy):
        var, body = sp.Symbol("t"), body.xreplace({var: sp.Symbol("t")})
    return (var,), body


@functools.cache  # made once, on the first formula printed (SymPy's printers are imported then)
def _printers():
    import re

    from sympy.core.expr import Expr
    from sympy.printing.precedence import PRECEDENCE
    from sympy.printing.pretty.stringpict import prettyForm, stringPict
    from sympy.printing.latex import LatexPrinter
    from sympy.printing.pretty.pretty import PrettyPrinter
    from sympy.printing.str import StrPrinter

    indexed = re.compile(r"(.+)\[(.+)\]\Z")

    class Text(StrPrinter):
        def _print_ElementwiseApplyFunction(self, e):
            name = _function_name(e.function)
            if name is None:
                (var,), body = _bound_as_t(e.function)
                name = f"({self._print(var)} -> {self._print(body)})"
            return f"{name}.({self._print(e.expr)})"

        def _print_OneMatrix(self, e):
            return f"ones({self._print(e.rows)}, {self._print(e.cols)})"

        def _print_DiagMatrix(self, e):
            return f"diag({self._print(e.args[0])})"

        def _print_MatrixElement(self, e):
            if _vector_element(e):  # x[k, 0] of a column is x[k]
                return self.parenthesize(e.parent, PRECEDENCE["Atom"], strict=True) + f"[{self._print(e.i)}]"
            return super()._print_MatrixElement(e)

    class Pretty(PrettyPrinter):
        def _print_ElementwiseApplyFunction(self, e):
            name = _function_name(e.function)
            if name is None:
                return super()._print_ElementwiseApplyFunction(type(e)(_sp().Lambda(*_bound_as_t(e.function)), e.expr))
            return self._helper_print_function(e.function, [e.expr], delimiter="", elementwise=True, func_name=name)

        def _print_DiagMatrix(self, e):
            return self._helper_print_function(None, [e.args[0]], func_name="diag")

        def _print_MatrixElement(self, e):
            if not _vector_element(e):
                return super()._print_MatrixElement(e)
            func = prettyForm(*self._print(e.parent).parens())
            index = self._print_seq((e.i,), delimiter=", ").parens(left="[", right="]")[0]
            pform = prettyForm(binding=prettyForm.FUNC, *stringPict.next(func, index))
            pform.prettyFunc, pform.prettyArgs = func, index  # as SymPy's own: read when it is raised to a power
            return pform

    class Latex(LatexPrinter):
        def __init__(self, settings=None, remember: bool = False):
            super().__init__(settings)
            self.remembered = {} if remember else None

        def _print(self, expr, **kwargs):
            if self.remembered is None or kwargs or not isinstance(expr, Expr) or getattr(expr, "is_Matrix", False):
                return super()._print(expr, **kwargs)
            text = self.remembered.get(expr)
            if text is None:
                text = self.remembered[expr] = super()._print(expr)
            return text

        def _print_ElementwiseApplyFunction(self, e):
            name = _function_name(e.function)
            if name is None:
                return super()._print_ElementwiseApplyFunction(type(e)(_sp().Lambda(*_bound_as_t(e.function)), e.expr))
            return r"{%s}_{\circ}\left(%s\right)" % (self._hprint_Function(name), self._print(e.expr))

        def _print_NDimArray(self, e):
            return super()._print_NDimArray(_Entries(e) if isinstance(e, _sp().NDimArray) else e)

        def _print_DiagMatrix(self, e):
            return r"\operatorname{diag}\left(%s\right)" % self._print(e.args[0])

        def _print_MatrixElement(self, e):
            if not _vector_element(e):
                return super()._print_MatrixElement(e)
            return "{%s}_{%s}" % (self.parenthesize(e.parent, PRECEDENCE["Atom"], strict=True), self._print(e.i))

        def _print_Symbol(self, e, style="plain"):
            match = indexed.match(e.name)
            if match:  # x[0, 1] -> x_{0,1}
                return "%s_{%s}" % (self._print(type(e)(match.group(1))), match.group(2).replace(" ", ""))
            return super()._print_Symbol(e, style)

    return Text(), Pretty, Latex()


class _Entries:
    """An array as SymPy's LaTeX printer reads it (``rank()``, ``shape``, ``[index]``), its entries taken
    from one object array: SymPy's own indexing parses every index (~40 us an entry, 0.5 s of the LaTeX
    of a 100 × 100 Jacobian)."""

    def __init__(self, expr):
        self.shape, self._entries = tuple(expr.shape), _objects_of(expr)

    def rank(self) -> int:
        return len(self.shape)

    def __getitem__(self, index):
        return self._entries[index]


def _vector_element(e) -> bool:
    """An element ``x[k, 0]`` of a column (printed ``x[k]``: the index form's vectors)."""
    return e.parent.shape[1] == 1 and e.j == 0


def _printed(fn, expr=None):
    shape = getattr(expr, "shape", None)
    if shape is not None and any(n == 0 for n in shape):
        return "[]"  # SymPy's printers fail on an array without elements
    try:
        return with_deep_stack(fn)
    except RecursionError:
        raise JacLimitError("the formula is nested too deeply for SymPy to print") from None


def text(expr) -> str:
    """A formula as plain text (``A*x + A.T*x``, ``cos(x[0])*y[0]``); an array as SymPy's
    printer writes it (``[[cos(x[0]), 0], [0, cos(x[1])]]``), each distinct entry printed once."""
    sp = _sp()
    if isinstance(expr, sp.NDimArray) and expr.shape and all(expr.shape):
        return _printed(lambda: _nested(_entry_texts(expr).tolist()), expr)
    return _printed(lambda: _printers()[0].doprint(expr), expr)


def _nested(rows) -> str:
    """Nested lists of strings as ``[[a, b], [c, d]]`` (an explicit stack: no recursion)."""
    out, stack = [], [iter([rows])]
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
            if stack:
                out.append("]")
            continue
        if out and out[-1] not in ("[",):
            out.append(", ")
        if isinstance(item, list):
            out.append("[")
            stack.append(iter(item))
        else:
            out.append(item)
    return "".join(out)


def _entry_texts(expr) -> np.ndarray:
    """Each entry of an array of formulas as text (an object array), each distinct one printed once."""
    printer, seen = _printers()[0], {}
    arr = _objects_of(expr)
    flat = arr.reshape(-1)
    for k, e in enumerate(flat):
        t = seen.get(e)
        if t is None:
            t = seen[e] = printer.doprint(e)
        flat[k] = t
    return arr


def _objects_of(expr) -> np.ndarray:
    """A SymPy array's entries as a (new) object array of its shape. A dense array keeps them in
    a flat list, C order (``_array``); read through it, as indexing costs ~40 us an entry."""
    arr = np.empty(expr.shape, dtype=object)
    stored = getattr(expr, "_array", None)
    if isinstance(stored, list) and len(stored) == arr.size:
        flat = arr.reshape(-1)
        for k, e in enumerate(stored):
            flat[k] = e
    else:
        for idx in np.ndindex(*expr.shape):
            arr[idx] = expr[idx]
    return arr


def latex(expr) -> str:
    """A formula as LaTeX. An array's distinct entries are printed once each (a printer of its own
    per call remembers them: 10,000 zeros of a 100 × 100 Jacobian are one)."""
    sp = _sp()
    if isinstance(expr, sp.NDimArray):
        return _printed(lambda: type(_printers()[2])(remember=True).doprint(expr), expr)
    return _printed(lambda: _printers()[2].doprint(expr), expr)


_UNICODE_FLAG = fork_safe(threading.Lock())  # guards SymPy's process-wide unicode flag while a formula is drawn


def pretty(expr, width: int = 80) -> str:
    """SymPy's 2-d Unicode rendering, wrapped at ``width`` columns.

    SymPy draws some atoms (``OneMatrix``, ``⋅``) from a process-wide flag that it sets from
    ``sys.stdout``'s encoding, not from the printer's ``use_unicode``: left alone, the output
    depended on the stream SymPy first met, and ``OneMatrix`` under an ASCII stream raised
    KeyError. So the flag is set for the call, as ``sympy.pretty`` itself does, under a lock:
    two threads restoring each other's flag mid-drawing would bring the KeyError back."""
    from sympy.printing.pretty.pretty_symbology import pretty_use_unicode

    def draw():
        with _UNICODE_FLAG:
            previous = pretty_use_unicode(True)
            try:
                return _printers()[1]({"use_unicode": True, "num_columns": width}).doprint(expr)
            finally:
                pretty_use_unicode(previous)

    return _printed(draw, expr)


def entries(expr):
    """A formula as nested lists of text, one string per element (a scalar: one string)."""
    sp = _sp()
    if isinstance(expr, sp.NDimArray):
        return _printed(lambda: _entry_texts(expr).tolist(), expr)
    return text(expr)


def listed(expr, most: int = LISTED_MAX_ENTRIES) -> tuple:
    """A big array of formulas as lines ``[i, j] = formula`` of its nonzero entries (at most
    ``most``), with how many entries are nonzero: what ``jac diff`` prints instead of drawing
    an array of more than :data:`DRAWN_MAX_ENTRIES` entries."""
    def each():
        printer, lines, nonzero = _printers()[0], [], 0
        arr = _objects_of(expr)
        for idx in np.ndindex(*expr.shape):
            e = arr[idx]
            if e != 0:
                nonzero += 1
                if len(lines) < most:
                    lines.append(f"[{', '.join(map(str, idx))}] = {printer.doprint(e)}")
        return lines, nonzero

    return _printed(each, expr)


def drawn(expr) -> bool:
    """Is a formula small enough to be drawn by the pretty printer? (an array of at most
    :data:`DRAWN_MAX_ENTRIES` entries; any formula that is not an array)"""
    sp = _sp()
    return not isinstance(expr, sp.NDimArray) or size_of_shape(expr.shape) <= DRAWN_MAX_ENTRIES
