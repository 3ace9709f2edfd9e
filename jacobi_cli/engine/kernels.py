"""Compiled passes: a whole computation traced once, then run as straight-line Python.

The interpreter in :mod:`jacobi_cli.autodiff` looks up every node's op and rule on every
call, and that bookkeeping, not NumPy, is most of the time of a small Jacobian. A kernel
removes it the way ``jax.jit`` does, without a compiler: the forward pass and the
derivative pass (batched over a basis, as the interpreter runs it) are traced into one
graph with the derivative rules themselves (they are written against ``P``, so tracing
needs nothing new), constants are folded (the basis, and every rule applied to it only),
and the graph is turned into one Python function, one assignment per node::

    def kernel(v0):
        v1 = f1(v0)           # sin
        v3 = f3(v0, c2)       # pow
        ...
        return (v12,)

The source is made here from node numbers only; the user's text never reaches it, and
``f1``, ``c2`` are the op's NumPy function and the folded constants, handed to ``exec`` in
its namespace. A variable is deleted after its last use, so a kernel holds no more memory
than the interpreter does.

The diagonal Jacobian of an element-wise graph is one pass along ones (a tangent or a
cotangent of ones: entry j of the result is entry (j, j), and no other entry meets it), so an
element-wise chain of any length is one pass. No other sparsity pattern is compressed: a
compressed pass (a colouring) adds, into each entry, the basis vectors' other ones times
partials the structured interpreter never forms (0 · inf = NaN, +0 for -0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import partial

import numpy as np

from . import autodiff
from .blas import SPLIT, load_threads, product_work
from ..ir.graph import Builder, Graph, Tracer, last_uses, may_alias_leaf, needed
from .jacobian import Jacobian, SparseJacobian
from ..ir.ops import (OPS, P, _matmul_shape, softmax_jacobian_of_vector, softmax_of_vector,
                      softmax_vjp_of_identity, softmax_vjp_of_one)
from ..ir.shapes import broadcast as _broadcast, size

MAX_CONST_BYTES = 8 * 2**20  # folded constants a kernel may keep (the basis, rules applied to it)


# --- tracing ------------------------------------------------------------------------------------

class KernelBuilder(Builder):
    """A builder that also drops the identities the derivative rules meet on a basis:
    ``g * 1`` and ``g + 0`` (the seed of a scalar output is ones, a diagonal's tangent too).
    Both are exact, NaN and infinity included, so the kernel's answers are the interpreter's."""

    def __init__(self, *args, diagonals: bool = False, **kw):
        super().__init__(*args, **kw)
        self._seen: dict = {}  # (op, args, params) -> tracer: one node per distinct computation
        self._lifted: dict = {}  # id(array) -> (array, its const node): the basis is lifted once
        # node id -> its diagonal (element-shaped tracer; None for ones), for a batch (B, *s)
        # with size(s) == B whose element i is nonzero only at batch index i; see _diagonal_rule
        self._diagonals: dict | None = {} if diagonals else None
        self._masks: dict = {}  # shape -> the const boolean identity of that shape
        self.derivatives_from: int | None = None  # the first node of the derivative passes
        self._layouts: dict = {}  # node id -> is its value C-contiguous at every call (_c_ordered)
        self.assumed: set = set()  # the inputs whose C order a rewrite relied on: checked by the kernel

    def _laid_out_as(self, kept: Tracer, *others) -> bool:
        """Is an element-wise op of ``kept`` and ``others`` (numbers, constants) laid out as ``kept``
        at every call, so that handing on ``kept`` for it changes no layout? (see _c_ordered)"""
        if _fresh(self.nodes[kept.id]) and all(sum(d > 1 for d in _shape(o)) <= 1 for o in others):
            return True  # first: no input's layout taken for granted (see _c_ordered's assumed)
        return self._c_ordered(kept) and all(self._c_ordered(o) for o in others)  # C order in, C order out

    def _one_view(self, source: Tracer) -> bool:
        """Is every reshape of ``source`` laid out as reshapes of its reshapes are? Where it has one axis
        longer than 1 (each is a view with its stride), or is C-ordered (each is a C-ordered view)."""
        return sum(d > 1 for d in source.shape) <= 1 or self._c_ordered(source)

    def _c_ordered(self, value) -> bool:
        """Is ``value`` (a tracer, or a number or array that would be lifted) C-contiguous at every call?"""
        if isinstance(value, Tracer):
            return _c_ordered(self.nodes, value.id, self._layouts, self.assumed)
        return not isinstance(value, np.ndarray) or bool(value.flags.c_contiguous)

    def mask(self, value: np.ndarray) -> Tracer:
        """A boolean constant kept boolean (``const`` makes an array the dtype), for ``where``:
        the kernel then calls ``np.where`` on it as it is (see ``_assignment``)."""
        return self._append("const", shape=tuple(value.shape), value=value)

    def lift(self, value) -> Tracer:
        if type(value) is np.ndarray and value.ndim >= 2:
            hit = self._lifted.get(id(value))
            if hit is not None and hit[0] is value:
                return hit[1]
            tracer = self.const(value)
            self._lifted[id(value)] = (value, tracer)
            return tracer
        return super().lift(value)

    def apply(self, op_name: str, *args, position=None, name=None, **params):
        if self._diagonals is not None and op_name in _DIAGONAL_OPS:
            out = self._diagonal_rule(op_name, args, params)
            if out is not None:
                return out
        op = OPS[op_name]
        if op.identity and len(args) == 2:
            kept = self._without_identity(op, args)
            if kept is not None:
                return kept
        if op_name == "matmul" and len(args) == 2 and not params:
            kept = self._times_one(args)
            if kept is not None:
                return kept
        if op_name == "where" and len(args) == 3:
            kept = self._decided_branch(args)
            if kept is not None:
                return kept
        if op_name == "reshape" and isinstance(args[0], Tracer) and tuple(params["shape"]) == tuple(args[0].shape):
            return args[0]  # to its own shape: the array itself (a view of it otherwise)
        if op_name == "reshape" and self._op_of(args[0]) == "reshape" \
                and self._one_view(self._tracer(self.nodes[args[0].id].args[0])):
            # one reshape of the source (of a C-ordered one, or compact along one axis: another's reshape may
            # copy where this one views, or view with other strides)
            args = (self._tracer(self.nodes[args[0].id].args[0]),)
        if op.broadcasting and len(args) == 2:
            args = self._unbroadcast_args(args)
        key = self._key(op_name, args, params)
        if key is not None and key in self._seen:
            return self._seen[key]
        out = super().apply(op_name, *args, position=position, name=name, **params)
        if key is not None:
            self._seen[key] = out
        return out

    # --- the basis of a structured pass, kept as a diagonal -------------------------------------
    #
    # A full Jacobian's pass starts from the identity; element-wise rules scale it to diag(d), and
    # a product with a matrix is then a scaling of the matrix's rows (n² work), not a matmul (n³).
    # These are the structured interpreter's rules (ir/structured.py: _scaled, _reduced,
    # _rows_scaled) on the same products in the same order, so the answers are the same bits.

    def _diagonal(self, value):
        """``(True, diagonal)`` when ``value`` is a known diagonal batch, else ``(False, None)``."""
        if not isinstance(value, Tracer):
            if type(value) is not np.ndarray or value.ndim < 2:
                return False, None
            value = self.lift(value)
        if value.id in self._diagonals:
            return True, self._diagonals[value.id]
        node = self.nodes[value.id]
        # a constant of the derivative passes (the basis); the expression's own (eye(n) * x) keep
        # NumPy's arithmetic, as the interpreter evaluates them
        ours = self.derivatives_from is not None and value.id >= self.derivatives_from
        diagonal = _basis_diagonal(node.value) if node.op == "const" and ours else None
        if diagonal is None:
            return False, None
        d = None if bool(np.all(diagonal == 1)) else self.const(diagonal.reshape(node.shape[1:]))
        self._diagonals[value.id] = d
        return True, d

    def _diagonal_rule(self, op_name: str, args: tuple, params: dict):
        if op_name == "mul":
            for side in (0, 1):
                found, d = self._diagonal(args[side])
                if found and not self._diagonal(args[1 - side])[0]:
                    return self._scaled_diagonal(args[side], d, args[1 - side])
            return None
        if op_name in ("add", "sub"):
            return self._summed_diagonals(op_name, args)
        if op_name == "div":  # diag(d) / w: only the diagonal is divided (no 0 / 0 off it)
            found, d = self._diagonal(args[0])
            if not found or self._diagonal(args[1])[0]:
                return None
            return self._scaled_diagonal(args[0], d, args[1], "div")
        found, d = self._diagonal(args[0])
        if op_name == "neg" and found:
            return self._diagonal_of(args[0], self._plain("neg", self._ones_if_none(d, args[0])))
        if op_name == "reshape" and found:
            shape = tuple(params["shape"])
            if shape[0] != _shape(args[0])[0] or size(shape[1:]) != shape[0]:
                return None
            out = self._plain("reshape", args[0], shape=shape)
            self._diagonals[out.id] = None if d is None else self._plain("reshape", d, shape=shape[1:])
            return out
        if op_name == "sum" and found:
            return self._summed_diagonal(args[0], d, tuple(params["axes"]), params.get("keepdims", False))
        if op_name == "matmul":
            return self._matmul_diagonal(args)
        if op_name == "where" and len(args) == 3:
            return self._masked_diagonal(*args)
        if op_name == "softmax_vjp" and found and len(_shape(args[0])) == 2 and len(_shape(args[1])) == 1 \
                and not params.get("basis"):  # the structured rule's one pass (ir/structured.py)
            return self._plain("softmax_vjp", 1.0 if d is None else d, args[1], axis=params["axis"], basis=True)
        return None

    def _plain(self, op_name: str, *args, **params) -> Tracer:
        """The op as a node, past the diagonal rules."""
        saved, self._diagonals = self._diagonals, None
        try:
            return self.apply(op_name, *args, **params)
        finally:
            self._diagonals = saved

    def _scaled_diagonal(self, batch, d, w, op_name: str = "mul"):
        """``diag(d) * w`` (or ``/ w``) for a ``w`` that does not vary along the batch axis:
        ``diag(d * w)``."""
        shape, w_shape = _shape(batch), _shape(w)
        if _broadcast(shape, w_shape) != shape or (len(w_shape) == len(shape) and w_shape[0] != 1):
            return None
        s = shape[1:]
        if len(w_shape) == len(shape):
            w = self._plain("reshape", w, shape=s)
        if op_name == "div":
            new = self._plain("div", 1.0 if d is None else d, w)
        else:
            new = w if d is None else self._plain("mul", d, w)
        if _shape(new) != s:
            new = self._plain("broadcast_to", new, shape=s)
        return self._diagonal_of(batch, new)  # zeros off the diagonal, whatever d * w is there

    def _masked_diagonal(self, c, a, b):
        """``where(c, diag(d), 0)`` (or ``where(c, 0, diag(d))``) for a mask ``c`` that does not vary
        along the batch axis: ``diag(where(c, d, 0))``, the structured rule's ``np.where(m, v, 0)``
        (the backward of relu, clamp, maximum: ``ops.masked``)."""
        (fa, da), (fb, db) = self._diagonal(a), self._diagonal(b)
        if fa == fb or self._diagonal(c)[0] or self._python_number(b if fa else a) != 0:
            return None
        batch, d = (a, da) if fa else (b, db)
        s = _shape(batch)[1:]
        if len(_shape(c)) > len(s) or _broadcast(s, _shape(c)) != s:
            return None
        d = self._ones_if_none(d, batch)
        new = self._plain("where", c, d, 0.0) if fa else self._plain("where", c, 0.0, d)
        return self._diagonal_of(batch, new) if _shape(new) == s else None

    def _ones_if_none(self, d, batch):
        return self.lift(np.ones(_shape(batch)[1:], dtype=self.dtype)) if d is None else d

    def _diagonal_of(self, like, d) -> Tracer:
        """The batch ``diag(d)`` of ``like``'s shape, as a node: zeros off the diagonal."""
        out = self._plain("where", self._mask_of(_shape(like)), d, 0.0)
        self._diagonals[out.id] = d
        return out

    def _summed_diagonals(self, op_name: str, args: tuple):
        """``diag(a) ± diag(b)`` is ``diag(a ± b)`` (the interpreter's slots share columns); a diagonal
        and a dense batch, the structured rule's sum (:meth:`_diagonal_into_dense`)."""
        (fa, da), (fb, db) = self._diagonal(args[0]), self._diagonal(args[1])
        if fa != fb:
            return self._diagonal_into_dense(op_name, args, 0 if fa else 1)
        if not (fa and fb) or _shape(args[0]) != _shape(args[1]):
            return None
        d = self._plain(op_name, self._ones_if_none(da, args[0]), self._ones_if_none(db, args[1]))
        return self._diagonal_of(args[0], d)

    def _diagonal_into_dense(self, op_name: str, args: tuple, side: int):
        """``D ± diag(d)`` (or ``diag(d) ± D``) for a dense batch D, as the structured interpreter's
        ``_into_dense`` (ir/structured.py) adds them: the dense batch (negated where it is subtracted)
        as it is off the diagonal, and on it that value plus (or minus) the diagonal's entry. The
        batch ``diag(d)`` added whole would add its zeros everywhere: -0 + 0 is +0, where the
        interpreter keeps the -0 (``A @ x + x`` at A[i, j] = -0, i != j)."""
        t, dense = args[side], args[1 - side]
        shape = _shape(t)
        d_shape = _shape(dense)
        if len(d_shape) != len(shape) or d_shape[0] not in (1, shape[0]) or _broadcast(shape, d_shape) != shape:
            return None
        minus = op_name == "sub"
        signed = self._plain("neg", dense) if minus and side == 0 else dense  # t - D: -D, then + t
        on = self._plain("sub" if minus and side == 1 else "add", signed, t)  # D - t: D + (-t), the same bits
        return self._plain("where", self._mask_of(shape), on, signed)

    def _mask_of(self, shape: tuple) -> Tracer:
        """The boolean identity of a batch ``shape`` (B, *s), size(s) == B: True on the diagonal."""
        mask = self._masks.get(shape)
        if mask is None:
            mask = self._masks[shape] = self.mask(np.eye(shape[0], dtype=bool).reshape(shape))
        return mask

    def _summed_diagonal(self, batch, d, axes: tuple, keepdims: bool):
        shape = _shape(batch)
        if sorted(axes) != list(range(1, len(shape))):
            return None
        kept = (shape[0],) + ((1,) * (len(shape) - 1) if keepdims else ())
        if d is None:
            return self.lift(np.ones(kept, dtype=self.dtype))
        return self._plain("reshape", d, shape=kept)

    def _matmul_diagonal(self, args: tuple):
        """``C @ D`` with D (B, k, 1) and ``D @ C`` with D (B, 1, k) or (B, k), C a matrix:
        rows of C scaled by the diagonal (row b of the result is C's row or column b times d_b)."""
        a, b = args
        for batch, c, left in ((b, a, True), (a, b, False)):
            found, d = self._diagonal(batch)
            if not found or self._diagonal(c)[0] or len(_shape(c)) != 2:
                continue
            shape = _shape(batch)
            if left and not (len(shape) == 3 and shape[2] == 1):
                continue
            if not left and not (len(shape) == 2 or (len(shape) == 3 and shape[1] == 1)):
                continue
            rows = self._plain("transpose", c, axes=(1, 0)) if left else c  # row j: what entry j meets
            if d is not None:
                rows = self._plain("mul", rows, self._plain("reshape", d, shape=(shape[0], 1)))
            out_shape = (shape[0], _shape(c)[0], 1) if left else shape[:-1] + (_shape(c)[1],)
            return self._plain("reshape", rows, shape=out_shape)
        return None

    def _tracer(self, i: int) -> Tracer:
        return Tracer(self, i, self.nodes[i].shape)

    def _op_of(self, value):
        return self.nodes[value.id].op if isinstance(value, Tracer) else None

    def _unbroadcast_args(self, args: tuple) -> tuple:
        """An element-wise op broadcasts by itself: ``mul(broadcast_to(g), x)`` is
        ``mul(g, x)`` when that has the same shape (a broadcast_to call costs microseconds).
        ``expand(g)`` (a new C-ordered copy, the interpreter's) too, where the result is laid out
        as with the copy: a C-ordered result either way (see :meth:`_expand_dropped`)."""
        shapes = [a.shape if isinstance(a, Tracer) else np.shape(a) for a in args]
        out = _broadcast(*map(tuple, shapes))
        for i, a in enumerate(args):
            op = self._op_of(a)
            if op == "broadcast_to" or op == "expand":
                source = self.nodes[a.id].args[0]
                src_shape = self.nodes[source].shape
                if _broadcast(tuple(src_shape), tuple(shapes[1 - i])) == out and (
                        op == "broadcast_to" or self._expand_dropped(a, args[1 - i], out)):
                    args = args[:i] + (self._tracer(source),) + args[i + 1:]
                    shapes[i] = src_shape
        return args

    def _expand_dropped(self, expanded: Tracer, other, out: tuple) -> bool:
        """May ``f(expand(g), other)`` (an element-wise op) be ``f(g, other)``? The same values; the
        layout too where the result is C-ordered both ways: with one axis longer than 1 (compact along it),
        or where the copy spans the result (C order wins a conflict in NumPy's order "K", and the copy has
        strides on every axis the result has longer than 1) and g and ``other`` are C-ordered at every
        call (numbers and broadcasting order no two axes: C order out, see :func:`_c_ordered`)."""
        if sum(d > 1 for d in out) <= 1:
            return True
        return tuple(expanded.shape) == tuple(out) and self._c_ordered(self._tracer(self.nodes[expanded.id].args[0])) \
            and self._c_ordered(other)

    @staticmethod
    def _key(op_name: str, args: tuple, params: dict):
        """What identifies the node: its op, argument nodes and params; None when an
        argument is not a node or a param is not hashable (a fancy index)."""
        if not all(isinstance(a, Tracer) for a in args):
            return None
        key = (op_name, tuple(a.id for a in args), tuple(sorted(params.items())))
        try:
            hash(key)
        except TypeError:
            return None
        return key

    def _without_identity(self, op, args: tuple):
        unit, sides = op.identity
        for side in sides:
            const, other = args[side], args[1 - side]
            if not isinstance(other, Tracer) or not self._is_constant(const, unit) \
                    or not self._laid_out_as(other, const):  # the op's result's layout, or kept (see _c_ordered)
                continue
            shape = _broadcast(tuple(other.shape), const.shape if isinstance(const, Tracer) else np.shape(const))
            if shape == tuple(other.shape):
                return other
            if size(shape) == size(other.shape):
                return self.apply("reshape", other, shape=shape)
        return None

    def _times_one(self, args: tuple):
        """``ones @ b`` (``a @ ones``) for ones of shape (1, ..., 1, 1), the seed of a scalar output:
        ``b + 0``, reshaped to the product's shape. The 1 x 1 core (inner length 1) sends NumPy's
        matmul loop (numpy/_core/src/umath/matmul.c.src) to its no-BLAS loop whenever the other
        core length is not 1 too (that is the dot path: left alone): ``out = 0; out += 1 * b``,
        each element on its own. ``1 * b`` is b (a NaN quieted: the only NaN operand), and
        ``0 + (1 * b)`` is ``b + 0`` (-0 becomes +0 in both; with a fused multiply-add too), in the
        type both promote to: the zero is a 0-d array of the ones' dtype, which promotes as they
        do. One add instead of a matmul (9,000 instructions at n = 10, on 10 elements)."""
        for side in (0, 1):
            ones, other = args[side], args[1 - side]
            if not isinstance(other, Tracer) or len(other.shape) < 2 or not self._is_constant(ones, 1.0) \
                    or not (self._c_ordered(other) or sum(d > 1 for d in other.shape) <= 1):
                continue  # matmul's result is C-ordered; the new b + 0 is laid out as b (compact along one axis: C)
            one_shape, b_shape = _shape(ones), tuple(other.shape)
            inner, kept = (b_shape[-2], b_shape[-1]) if side == 0 else (b_shape[-1], b_shape[-2])
            if len(one_shape) < 2 or size(one_shape) != 1 or inner != 1 or kept == 1 or size(b_shape) == 0:
                continue
            shape = tuple(_matmul_shape(*(_shape(a) for a in args)))
            value = self.nodes[ones.id].value if isinstance(ones, Tracer) else np.asarray(ones)
            zero = self.const(np.zeros((), dtype=value.dtype))
            total = Builder.apply(self, "add", other, zero)  # not g + 0 dropped: -0 + 0 is +0
            return total if shape == b_shape else self.apply("reshape", total, shape=shape)
        return None

    def _decided_branch(self, args: tuple):
        """``where(c, a, b)`` with a constant mask ``c`` that is all true (or all false) is ``a``
        (or ``b``): pow's d/dx at a constant exponent, ``where(y == 0, 0, y * x**(y - 1))``.
        Only when ``np.where`` would give that branch's own bits, shape and dtype: ``c`` and the
        other branch are Python numbers (weak: they never promote), and the branch is a float
        node of the result's shape (``np.where`` copies it; the interpreter's copy is never
        written to, as no op writes into its arguments)."""
        c, a, b = (self._python_number(x) for x in args)
        if c is None:
            return None
        chosen, other = (args[1], b) if c != 0 else (args[2], a)  # NaN != 0: true, as np.where reads it
        if other is None or not isinstance(chosen, Tracer) or not self._is_float(chosen.id) \
                or not self._laid_out_as(chosen):  # np.where's copy (order "K") is laid out as a compact branch
            return None
        if _broadcast(*(_shape(x) for x in args)) != tuple(chosen.shape):
            return None
        return chosen

    def _python_number(self, value):
        """``value`` (or the constant node it stands for) when it is a Python number, else None."""
        if isinstance(value, Tracer):
            node = self.nodes[value.id]
            value = node.value if node.op == "const" else None
        return value if type(value) in (int, float) else None

    def _is_float(self, i: int) -> bool:
        """Is node ``i``'s value a floating-point array? Inputs are (bound at the dtype), and so
        is what a NumPy ufunc op or a view makes of one; anything else is not known to be."""
        node = self.nodes[i]
        if node.op == "input":
            return True
        if node.op == "const":
            return isinstance(node.value, np.ndarray) and node.value.dtype.kind == "f"
        op = OPS[node.op]
        if op.view == "always":
            return self._is_float(node.args[0])
        return (isinstance(op.impl, np.ufunc) and op.impl.nout == 1 and not op.nondiff
                and any(self._is_float(a) for a in node.args))

    def _is_constant(self, value, unit: float) -> bool:
        """Is ``value`` (or the constant node it stands for) ``unit`` everywhere, a zero's sign included
        (``x + 0.0`` is not ``x`` at x = -0: -0 + 0 is +0; ``x + -0.0`` is ``x``)?"""
        if isinstance(value, Tracer):
            node = self.nodes[value.id]
            if node.op != "const":
                return False
            value = node.value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value == unit and (unit != 0 or (type(value) is float and math.copysign(1.0, value) < 0) == (
                math.copysign(1.0, unit) < 0))
        array = np.asarray(value)
        if not (array.dtype == self.dtype and array.size > 0 and bool(np.all(array == unit))):
            return False
        return unit != 0 or bool(np.all(np.signbit(array) == (math.copysign(1.0, unit) < 0)))


def _shape(value) -> tuple:
    return tuple(value.shape) if isinstance(value, Tracer) else tuple(np.shape(value))


# An identity dropped (``g * 1`` is g) gives the same elements, but not always the same memory
# layout: ``g * ones`` is a new array laid out as NumPy's order "K" picks (C order when g's order
# and the constant's disagree), g may be a transposed view. What reads it may depend on the layout:
# a sum over several axes adds in memory order, a matmul calls BLAS with other strides. So
# ``sum_to(transpose(G) * ones)`` and ``sum_to(transpose(G))`` rounded apart by an ulp (eigvalsh's
# Jacobian through ``s * ones(3, 3) @ (s * ones(3, 3)).T / 10``; 0 at the checked A = 0, so the
# compile-time check passed). A rewrite that hands on an operand instead of an op's result is taken
# only where both are C-contiguous at every call (the inputs' layout is the caller's: not known).

def _c_ordered(nodes: list, i: int, memo: dict, assumed: set | None = None) -> bool:
    """Is node ``i``'s value C-contiguous at every call? Constants that are, numbers, one element,
    a matmul's result (NumPy allocates its core axes, and its one loop axis, in C order: checked over
    layouts), and what a ufunc or a reshape makes of such values only (NumPy's order "K" then
    allocates C order). An input is, when ``assumed`` is a set: it is added there, and the kernel
    checks it at each call (:func:`generate`'s ``assumed``: else the interpreter answers the call).
    Iterative: a chain may be long."""
    stack = [i]
    while stack:
        j = stack[-1]
        if j in memo:
            stack.pop()
            continue
        node = nodes[j]
        if size(node.shape) <= 1:
            memo[j] = True
        elif node.op == "const":
            memo[j] = not isinstance(node.value, np.ndarray) or bool(node.value.flags.c_contiguous)
        elif node.op == "input":
            memo[j] = assumed is not None
            if assumed is not None:
                assumed.add(j)
        elif node.op in ("matmul", "expand") or (_fresh(node) and sum(d > 1 for d in node.shape) <= 1):
            memo[j] = True  # a matmul's result, an expanded copy; a ufunc's, compact along its one axis
        else:
            if _undone_transpose(nodes, node):  # transpose(transpose(a)) back to a's order: a view of a
                node = nodes[nodes[node.args[0]].args[0]]
                if node.id not in memo:
                    stack.append(node.id)
                    continue
                memo[j] = memo[node.id]
                continue
            if not (node.op == "reshape" or _fresh(node)):
                memo[j] = False
                continue
            todo = [a for a in node.args if a not in memo]
            if todo:
                stack += todo
                continue
            memo[j] = all(memo[a] for a in node.args)
    return memo[i]


def _undone_transpose(nodes: list, node) -> bool:
    """Is ``node`` a transpose of a transpose that puts the axes back in their order?"""
    if node.op != "transpose" or nodes[node.args[0]].op != "transpose":
        return False
    inner, outer = nodes[node.args[0]].params.get("axes"), node.params.get("axes")
    if inner is None or outer is None:  # NumPy's default reverses the axes: twice is the identity
        return inner is None and outer is None
    return [inner[k] for k in outer] == list(range(len(outer)))


def _fresh(node) -> bool:
    """Is ``node``'s value a new array a ufunc (matmul included) allocated: compact, with positive
    strides, in its operands' order ("K")? Then NumPy's order "K" lays a ufunc's result of it and
    numbers (or constants with one axis longer than 1, which order no two axes) out the same."""
    if node.op in ("const", "input"):
        return False
    impl = OPS[node.op].impl
    return isinstance(impl, np.ufunc) and impl.nout == 1 and not node.params


def _basis_diagonal(value):
    """The diagonal of ``value`` when it is a batch ``(B, *s)`` with ``size(s) == B`` that is
    zero off the diagonal (the basis, or a rule's constant multiple of it), else None."""
    shape = np.shape(value)
    if len(shape) < 2 or size(shape[1:]) != shape[0] or not isinstance(value, np.ndarray) \
            or value.dtype.kind != "f":
        return None
    flat = value.reshape(shape[0], shape[0])
    diagonal = flat.diagonal().copy()
    return diagonal if np.count_nonzero(flat) == np.count_nonzero(diagonal) else None


# the ops the kernel builder follows a diagonal basis through (KernelBuilder._diagonal_rule): the
# algebra of diagonals is the kernel's, not a fact of each op
_DIAGONAL_OPS = frozenset({"mul", "div", "add", "sub", "neg", "reshape", "sum", "matmul", "softmax_vjp", "where"})


def _new_builder(graph: Graph, diagonals: bool = False) -> Builder:
    return KernelBuilder(graph.source, dtype=graph.dtype, diagonals=diagonals)


# --- code generation ----------------------------------------------------------------------------

def generate(nodes: list, args: list, outputs: list, names: tuple = (), products: int = 0, scatters: tuple = (),
             dtype=None, keep: tuple = (), assumed: set | None = None):
    """A Python function of the input nodes ``args`` returning the ``outputs`` nodes' values:
    ``kernel(env, *rest)``, where the first ``len(names)`` args are read from the dict ``env``
    by those names and the others are positional (a VJP's cotangent, a JVP's tangents).
    ``scatters`` (per output, None or a :class:`Scatter`): that output's values are stored
    into a new array of zeros instead (a structured Jacobian made dense).

    ``nodes`` is a builder's node list (topological). An output whose value may be a view
    of an input or a constant is copied, so a caller can never write into either. The body
    runs with every floating-point error ignored (as ``np.errstate(all="ignore")``) and, for a
    largest matrix product BLAS would split (``products``, see :mod:`jacobi_cli.engine.blas`), in
    ``threads_for``: the whole call is this one function, no wrapper around it. ``dtype``: the
    inputs' (the builder's), for constants made full arrays (:meth:`_Source._full_constant_line`).
    ``keep``: nodes computed though no output reads them (their errors are the call's). ``assumed``: the
    input nodes the tracing took for C-contiguous (:func:`_c_ordered`), with those the lines below
    take so (a set, added to): the kernel raises :class:`Unlaid` first where one is not, and the
    caller's interpreter answers (the rewrites are exact only for that layout).
    """
    assumed = set() if assumed is None else set(assumed)
    need = needed(nodes, list(outputs) + list(keep))  # keep: computed though no output reads them (Op.refuses)
    last = last_uses(nodes, outputs)
    namespace: dict = {"_copy": np.array, "_set": _ERROR_STATE.set, "_reset": _ERROR_STATE.reset,
                       "_ignore": _IGNORE_ALL}
    rest = [f"v{i}" for i in args[len(names):]]
    lines = [f"def kernel({', '.join(['env'] + rest)}):"]
    for k, (i, input_name) in enumerate(zip(args, names)):  # the names are data, never source
        namespace[f"a{k}"] = input_name
        lines.append(f"    v{i} = env[a{k}]")
    lines += ["    _token = _set(_ignore)", "    try:"]
    check_at = len(lines)  # the inputs' layout check goes here, once the body has said which
    indent = "        "
    if products >= SPLIT:  # engine/blas.py: products BLAS would split run on one thread when the machine is busy
        # threads_for(products) for such products, without its range test at each call (its call through a
        # partial, a new nullcontext each time, was ~3,000 instructions of E2's 84,000 at n = 100)
        namespace["_threads"] = load_threads
        lines.append(f"{indent}with _threads():")
        indent += "    "
    source = _Source(nodes, namespace, lines, indent, {i: f"v{i}" for i in args}, outputs, dtype, assumed)
    for node in nodes:
        if need[node.id] and node.id not in source.name:
            source.node(node, last)
    scatters = tuple(scatters) + (None,) * (len(outputs) - len(scatters))
    results = [source.scattered(k, o, scatter) if scatter is not None else source.full(o)
               for k, (o, scatter) in enumerate(zip(outputs, scatters))]
    # a fresh array of the caller's own: never an input's or a constant's memory, never a NumPy scalar (a 0-d
    # result of a reduction or a ufunc is one; the interpreter gives a 0-d array)
    results = [f"_copy({r}, copy=True)" if scatter is None and (may_alias_leaf(nodes, o) or not nodes[o].shape)
               else r for r, o, scatter in zip(results, outputs, scatters)]
    lines.append(f"{indent}return ({', '.join(results)}{',' if len(results) == 1 else ''})")
    checked = sorted(i for i in assumed if nodes[i].op == "input" and i in args and need[i])
    if checked:  # the flags of an exact ndarray (else the interpreter: any other type may lay out otherwise)
        namespace.update({"_nd": np.ndarray, "_Unlaid": Unlaid})
        test = " and ".join(f"type(v{i}) is _nd and v{i}.flags.c_contiguous" for i in checked)
        lines.insert(check_at, f"        if not ({test}):")
        lines.insert(check_at + 1, "            raise _Unlaid")
    if source.typed:  # a line wrote over an operand by the inputs' dtype (_Source._spent): of it at this call
        namespace.update({"_dt": np.dtype(dtype), "_Unlaid": Unlaid})
        test = " or ".join(f"v{i}.dtype is not _dt" for i in args if nodes[i].op == "input" and need[i])
        if test:
            lines.insert(check_at, f"        if {test}:")
            lines.insert(check_at + 1, "            raise _Unlaid")
    lines += ["    finally:", "        _reset(_token)"]
    exec(compile("\n".join(lines), "<jac kernel>", "exec"), namespace)  # noqa: S102 - source made above
    return namespace["kernel"]


class _Source:
    """The kernel's body, node by node, and the shape each variable holds.

    A batch of one (a VJP's cotangent ``(1, *y)``, a JVP's tangent) meets the forward values
    ``(*s)`` in element-wise ops, and NumPy's broadcasting path for ``(1, n) * (n,)`` costs
    twice its same-shape path at small n. So a variable may hold such a node's value with its
    leading 1 dropped (``squeezed``): the same elements in the same order, which an element-wise
    ufunc reads with the same answer, bit for bit, and a reshape reads as it is; any other op
    gets the value at its own shape (``full``: one reshape, kept while the node lives)."""

    def __init__(self, nodes: list, namespace: dict, lines: list, indent: str, name: dict, outputs: list,
                 dtype=None, assumed: set | None = None):
        self.nodes, self.namespace, self.lines, self.indent, self.name = nodes, namespace, lines, indent, name
        self.dtype = None if dtype is None else np.dtype(dtype)  # the kernel's inputs' (None: no full constants)
        self.outputs = set(outputs)
        self.squeezed: dict = {}  # node id -> the shape its variable holds (its shape without the leading 1)
        self.unsqueezed: dict = {}  # node id -> the variable holding it at its own shape, once made
        self.readers: dict = {}  # node id -> the nodes reading it
        self.checked: set = set()  # the variables holding an input's layout check (see _input_check)
        self.layouts: dict = {}  # node id -> is its value C-contiguous at every call (_c_ordered)
        self.assumed = set() if assumed is None else assumed  # inputs taken for C-contiguous: checked per call
        self.free: list = []  # (variable, length): spent 1-d temporaries a product may write into (_reusable)
        self.overwritten: set = set()  # nodes whose array a later line wrote its result into (out=)
        self.dtypes: dict = {}  # node id -> the dtype of its value at every call, or None (see _dtype)
        self.typed = False  # a line wrote over an operand by the inputs' dtype: the kernel checks it (generate)
        self.last: list = []  # node id -> the last node reading it (graph.last_uses)
        for n in nodes:
            for a in n.args:
                self.readers.setdefault(a, []).append(n)
        # a small softmax Jacobian's dense pass whose softmax nothing else reads: one call for both
        # (ops.softmax_jacobian_of_vector); the softmax node gets no line of its own
        self.fused = {n.args[1]: n.id for n in nodes if _is_softmax_vjp_of_identity(n, nodes)
                      and nodes[n.args[1]].op == "softmax" and len(nodes[nodes[n.args[1]].args[0]].shape) == 1
                      and len(self.readers[n.args[1]]) == 1 and n.args[1] not in self.outputs}

    def node(self, node, last: list) -> None:
        i = node.id
        self.last = last
        if node.op == "const":
            self.name[i] = f"c{i}"
            self.namespace[self.name[i]] = node.value
            return
        if node.op == "input":
            raise ValueError(f"input {node.name!r} is not an argument of the kernel")
        self.dtypes[i] = self._dtype_of(node)
        if i in self.fused:  # computed in its reader's line
            return
        self.name[i] = f"v{i}"
        reads, ends = node.args, (i,)
        if node.op == "softmax_vjp" and node.args[1] in self.fused:  # softmax(a) and its Jacobian, one call
            eye, softmax = node.args[0], self.nodes[node.args[1]]
            reads, ends = (eye, softmax.args[0]), (i, softmax.id)
            self.namespace[f"f{i}"] = softmax_jacobian_of_vector
            line = f"v{i} = f{i}({self.full(eye)}, {self.full(softmax.args[0])})"
        else:
            line = self._squeezed_line(node)
        if line is None:
            line = self._full_constant_line(node)
        if line is None and _elementwise(node):
            over = self._over(node, tuple(node.shape))
            if over is not None:  # written over a spent operand (see _spent)
                self.namespace[f"f{i}"] = OPS[node.op].impl
                line = f"v{i} = f{i}({', '.join(self.full(a) for a in node.args)}, {over})"
        if line is None:
            line = _assignment(node, self.nodes, [self.full(a) for a in node.args], self.namespace)
        self.lines.append(self.indent + line)
        dead = sorted({a for a in reads if last[a] in ends and self.nodes[a].op not in ("const", "input")})
        for a in [a for a in dead if self._reusable(a)]:  # kept for a product's out= (see _product)
            if all(n != self.nodes[a].shape[0] for _, n in self.free):  # one a length: the others deleted
                self.free.append((self.name[a], self.nodes[a].shape[0]))
                dead.remove(a)
        if dead:
            names = [self.name[a] for a in dead] + [self.unsqueezed[a] for a in dead if a in self.unsqueezed]
            self.lines.append(f"{self.indent}del {', '.join(names)}")

    def full(self, i: int) -> str:
        """The variable holding node ``i`` at its own shape (made here if it is squeezed)."""
        if i not in self.squeezed:
            return self.name[i]
        if i not in self.unsqueezed:
            self.unsqueezed[i] = f"u{i}"
            self.namespace[f"s{i}"] = tuple(self.nodes[i].shape)
            self.lines.append(f"{self.indent}u{i} = v{i}.reshape(s{i})")
        return self.unsqueezed[i]

    def scattered(self, k: int, i: int, scatter: "Scatter") -> str:
        """Output ``k`` (node ``i``) stored into zeros at ``scatter``'s positions, as
        :meth:`JacobianKernel._jacobian` stores it outside a kernel (the same values, one store)."""
        held = self.name[i]  # squeezed or not, the same elements in the same order (put reads them flat)
        values = held
        if scatter.take is not None:
            self.namespace[f"q{k}"] = scatter.take
            values = f"{held}.reshape(-1)[q{k}]"
        at = scatter.at  # flat positions: ndarray.put stores into the zeros at their own shape, no reshape
        at = np.ascontiguousarray(np.arange(scatter.size)[at] if isinstance(at, slice) else at, dtype=np.intp)
        self.namespace.update({"_zeros": np.zeros, f"t{k}": scatter.dtype, f"p{k}": at, f"o{k}": scatter.shape})
        self.lines += [f"{self.indent}w{k} = _zeros(o{k}, t{k})", f"{self.indent}w{k}.put(p{k}, {values})"]
        return f"w{k}"

    # A number or a 0-d constant as an operand of add, sub, mul or div costs NumPy 1,200-2,400
    # instructions more than an array of the other operand's shape (its scalar is converted, and
    # broadcast), about a third of the call at n = 10. The same ufunc on that full array makes the
    # same IEEE operation on each pair of elements (correctly rounded: the loop's order and its
    # vector width do not change a bit; a constant that is no NaN leaves a NaN's bits to the other
    # operand, as the scalar does), with the same result dtype: a 0-d array promotes by its dtype
    # as the full one does; a Python number is weak (it takes the other operand's dtype), so the
    # full array is of the kernel's dtype and is taken only where the operand is of that dtype
    # (and the number exact in it). Checked per call: an exact ndarray (a subclass's
    # __array_ufunc__ would see the other argument), of the dtype; else the line as it was.

    def _full_constant_line(self, node):
        """``f(x, C)`` with ``C`` the constant operand made a read-only array of ``x``'s shape,
        under the check above, for add, sub, mul or div of one computed array and one constant;
        else None."""
        if OPS[node.op].impl not in _FULL_OPS or node.params or len(node.args) != 2 or self.dtype is None:
            return None
        shape = tuple(node.shape)
        for side in (0, 1):
            c, x = node.args[side], node.args[1 - side]
            const, other = self.nodes[c], self.nodes[x]
            if const.op != "const" or other.op == "const" or x in self.squeezed or tuple(other.shape) != shape \
                    or size(shape) < 2:
                continue
            # its result is laid out as x (order "K"), with the full array in C order: the same where x
            # is C-ordered or compact along one axis; an input, checked once a call
            if not (sum(d > 1 for d in shape) <= 1 or _c_ordered(self.nodes, x, self.layouts, self.assumed)):
                continue
            full = _full_constant(const.value, shape, self.dtype)
            if full is None:
                continue
            i = node.id
            self.namespace.update({f"f{i}": OPS[node.op].impl, f"C{i}": full, "_nd": np.ndarray,
                                   "_dt": np.dtype(self.dtype)})
            args = [self.name[x], f"C{i}"] if side == 1 else [f"C{i}", self.name[x]]
            plain = [self.name[a] for a in node.args]
            check = f"type({self.name[x]}) is _nd"
            if type(const.value) is not np.ndarray:  # a Python number: of the kernel's dtype only
                check += f" and {self.name[x]}.dtype is _dt"
                if self._spent(x, node):  # the result is x's dtype and shape (checked here): written over x
                    args.append(self.name[x])
                    self.overwritten.add(x)
            return f"v{i} = f{i}({', '.join(args)}) if {check} else f{i}({', '.join(plain)})"
        return None

    # An element-wise ufunc whose result has the shape and dtype of an operand it reads for the last time
    # writes it there, as its positional out (``f(a, b, a)``): each element is read before its place is
    # written, the loop and its vector width are those of a new array (NumPy takes an operand that is
    # exactly its output as no overlap), so the bits are the same; one allocation fewer. Positional, not
    # ``out=``: the keyword costs NumPy's argument parsing more than the allocation saves at small n
    # (E6's multiply at n = 10: 4,097 instructions written over, 4,325 new, 4,376 with ``out=``). The
    # operand must be nobody's memory but its own: a new array a ufunc or a product made (never an input, a
    # constant or a view), held at its own shape, that no output, squeezed, unsqueezed or fused value is,
    # and whose readers all made new arrays (no view of it lives on); and, where the result has two axes longer
    # than 1, every operand C-ordered at every call (_c_ordered: an input checked per call), for the result
    # keeps the written-over operand's layout where a new array takes order "K" of all the operands: an
    # F-ordered cotangent times a C-ordered constant, written over, stayed F-ordered, and the sum after it
    # added in that order (an ulp off the interpreter's). The dtypes are known from the inputs'
    # (NumPy 2's promotion reads dtypes, never values: ``ufunc.resolve_dtypes``), which the kernel checks at
    # each call (:func:`generate`): another dtype raises :class:`Unlaid` and the interpreter answers.

    def _spent(self, x: int, node) -> bool:
        """May ``node``'s line write its result over node ``x``'s array (see above)? Its shape and
        dtype are the caller's to compare."""
        made = self.nodes[x]
        return (_fresh(made) and self.last[x] == node.id and x not in self.outputs and x not in self.fused
                and x not in self.unsqueezed and x not in self.overwritten and self.name.get(x) == f"v{x}"
                and all(_fresh(r) for r in self.readers.get(x, ()) if r.id in self.name))  # the lines made

    def _over(self, node, held: tuple):
        """The variable of an operand ``node``'s line writes its result over, held as ``held`` and of the
        result's dtype, or None (see above)."""
        want = self.dtypes.get(node.id)
        if not isinstance(want, np.dtype):
            return None
        if sum(d > 1 for d in held) > 1 and not all(_c_ordered(self.nodes, a, self.layouts, self.assumed)
                                                    for a in node.args):
            return None  # the operand's layout is kept, where a new array's is order "K"'s of all (see above)
        for x in dict.fromkeys(node.args):
            if self._held(x) == held and self.dtypes.get(x) == want and self._spent(x, node):
                self.overwritten.add(x)
                self.typed = True
                return self.name[x]
        return None

    def _dtype(self, i: int):
        """The dtype of node ``i``'s value at every call: a NumPy dtype, ``int``/``float``/``complex`` for a
        Python number (weak in NumPy 2's promotion), or None when not known. Inputs are of the kernel's."""
        if i in self.dtypes:
            return self.dtypes[i]
        node = self.nodes[i]
        if node.op == "input":
            return self.dtype
        if node.op == "const":
            value = node.value
            if isinstance(value, (np.ndarray, np.generic)):
                return value.dtype
            if type(value) is bool:
                return np.dtype(bool)
            return type(value) if type(value) in (int, float, complex) else None
        return None

    def _dtype_of(self, node):
        """:meth:`_dtype` of a computed node, from its arguments': what the ufunc's promotion gives them
        (a reshape or a 2-d transpose keeps its argument's); None for any other op."""
        if node.op in ("reshape", "transpose"):
            return self._dtype(node.args[0])
        if not _fresh(node):
            return None
        given = [self._dtype(a) for a in node.args]
        if any(d is None for d in given) or len(given) != OPS[node.op].impl.nin:
            return None
        try:
            return OPS[node.op].impl.resolve_dtypes((*given, None))[-1]
        except (TypeError, ValueError):  # no loop for them (NumPy raises a TypeError subclass)
            return None

    def _held(self, i: int) -> tuple:
        return self.squeezed.get(i, tuple(self.nodes[i].shape))

    def _squeezed_line(self, node):
        """The line computing ``node`` on squeezed arguments (or squeezing it), or None."""
        shape, i = tuple(node.shape), node.id
        one = len(shape) >= 2 and shape[0] == 1  # a batch of one, squeezed to at least a vector
        if node.op == "reshape":
            held = self._held(node.args[0])
            vector = self._vector_shape(node) if len(held) >= 2 else None
            if vector is not None:  # a row (1, n) made (1, 1, n) for a product: held 1-d, a reshape
                self.squeezed[i] = vector
                self.namespace[f"k{i}"] = vector
                return f"v{i} = {self.name[node.args[0]]}.reshape(k{i})"
            # the elements as they are, no call: at the node's shape, without the leading 1, or one
            # element held 0-d (a scalar output's cotangent: NumPy's scalar path, 3 x faster than (1,))
            if held == shape or (one and (held == shape[1:] or (held == () and size(shape) == 1))):
                if held != shape:
                    self.squeezed[i] = held
                return f"v{i} = {self.name[node.args[0]]}"
            vector = self._vector_shape(node)
            if vector is not None:  # read only as a matmul's vector: held 1-d, see _vector_product
                self.squeezed[i] = vector
                if self._held(node.args[0]) == vector:
                    return f"v{i} = {self.name[node.args[0]]}"
                self.namespace[f"k{i}"] = vector
                return f"v{i} = {self.name[node.args[0]]}.reshape(k{i})"
            if one and i not in self.outputs and all(r.op == "reshape" or _elementwise(r)
                                                     for r in self.readers.get(i, ())):
                self.squeezed[i] = shape = shape[1:]  # as cheap, and what reads it reads it so
            elif node.args[0] not in self.squeezed:
                return None
            self.namespace[f"k{i}"] = shape  # the same elements in the same order
            return f"v{i} = {self.name[node.args[0]]}.reshape(k{i})"
        if node.op == "softmax_vjp" and one and len(shape) == 2 and node.params == {"axis": 0} \
                and node.args[0] in self.squeezed and self._held(node.args[0]) == self._held(node.args[1]) == shape[1:]:
            # its rule on one cotangent, held as a vector: the op's own batch-of-one branch, unwrapped
            self.squeezed[i] = shape[1:]
            self.namespace[f"f{i}"] = softmax_vjp_of_one
            return f"v{i} = f{i}({self.name[node.args[0]]}, {self.name[node.args[1]]})"
        if node.op == "matmul":
            return self._vector_product(node) or self._matvec_line(node)
        if not (one and _elementwise(node) and any(a in self.squeezed for a in node.args)):
            return None
        held = _broadcast(*(self._held(a) for a in node.args))
        if held != shape[1:]:
            return None
        self.squeezed[i] = held
        self.namespace[f"f{i}"] = OPS[node.op].impl
        over = self._over(node, held)  # written over a spent operand held so (see _spent)
        return f"v{i} = f{i}({', '.join([self.name[a] for a in node.args] + ([over] if over else []))})"


    # A batch of one meets a matrix as ``M @ g`` with g ``(1, n, 1)`` (or ``g @ M``, ``(1, 1, n)``).
    # NumPy's matmul loop (numpy/_core/src/umath/matmul.c.src) picks its BLAS call from the core
    # sizes (m, n, p) and strides alone, and the gufunc machinery (ufunc_object.c) gives a core
    # dimension of size 1 and a missing one (a 1-d operand) the same stride, 0; a loop dimension
    # of size 1 or none is one call of the inner loop. So ``M @ g`` with g 1-d calls the same gemv
    # with the same arguments on the same data as with g ``(1, n, 1)``: the same bits, two reshapes
    # fewer (tests/test_kernels.py checks the bits too).

    def _vector_shape(self, node):
        """``(n,)`` for a reshape node of shape ``(1, n, 1)`` or ``(1, 1, n)`` that is no output and
        that every reader multiplies by a matrix as its column (row) vector; else None."""
        shape, readers = tuple(node.shape), self.readers.get(node.id, ())
        if len(shape) != 3 or shape[0] != 1 or 1 not in shape[1:] or node.id in self.outputs or not readers:
            return None
        side = 1 if shape[2] == 1 else 0  # a column is the right operand, a row the left
        for r in readers:
            if r.op != "matmul" or r.params or len(r.args) != 2 or r.args[side] != node.id \
                    or r.args[1 - side] == node.id or len(self.nodes[r.args[1 - side]].shape) != 2 \
                    or r.args[1 - side] in self.squeezed:
                return None
        return (size(shape),)

    def _vector_product(self, node):
        """``M @ v`` (``v @ M``) on the 1-d vector held for a ``(1, n, 1)`` (``(1, 1, n)``) operand,
        held itself as the 1-d ``(m,)`` of its ``(1, m, 1)`` (``(1, 1, m)``); None otherwise."""
        shape = tuple(node.shape)
        if node.params or len(node.args) != 2 or len(shape) != 3 or shape[0] != 1:
            return None
        for side in (0, 1):
            v, matrix = node.args[side], node.args[1 - side]
            if v in self.squeezed and len(self._held(v)) == 1 and len(self.nodes[v].shape) == 3 \
                    and len(self.nodes[matrix].shape) == 2 and matrix not in self.squeezed:
                self.squeezed[node.id] = (size(shape),)
                self.namespace[f"f{node.id}"] = OPS[node.op].impl
                return self._product(node, matrix, v, side)
        return None

    # np.dot for a matrix and a vector, where it makes the same BLAS call as np.matmul. NumPy 2.4's
    # matmul loop (numpy/_core/src/umath/matmul.c.src) sends a 2-d matrix of m, n >= 2 whose rows or
    # columns are contiguous and a vector of positive stride to @TYPE@_gemv: for a C-contiguous
    # matrix cblas_?gemv(ColMajor, Trans, n, m, lda = n), for an F-contiguous one (RowMajor, Trans,
    # n, m, lda = m), alpha 1, beta 0, incx the vector's stride; a vector times a matrix is the same
    # call on the matrix's transpose. np.dot (cblas_matrixproduct, numpy/_core/src/common/cblasfuncs.c)
    # sends the same operands, aligned and C- or F-contiguous (else it copies them), to
    # cblas_?gemv(RowMajor, NoTrans, m, n, lda = n) for a C-contiguous matrix, (ColMajor, NoTrans,
    # m, n, lda = m) for an F-contiguous one, and for a vector times a matrix with Trans. OpenBLAS's
    # cblas_?gemv (interface/gemv.c) turns RowMajor into ColMajor by swapping m and n and flipping
    # the transpose, so each pair is one call of the same gemv_n or gemv_t kernel with the same
    # m, n, alpha, a, lda, x, incx and incy (and the same thread count, chosen from m·n), on an
    # output of +0 (matmul's is scaled by beta = 0, dot's is zeroed first as well). So the bits are
    # the same. The kernel takes np.dot only where that holds: the matrix an input (or its
    # transpose) that is C- or F-contiguous and aligned (checked once per call), the vector a new
    # array a ufunc made (contiguous and aligned, through reshapes too: a compact array made 1-d
    # is) or a 1-d input that is an exact ndarray, C-contiguous and aligned (checked once per call),
    # both float32 or float64 of one dtype (checked per product); else the op itself. np.dot
    # skips the ufunc machinery: about 3,800 of matmul's 8,500 instructions at n = 10, of which
    # the checks take 400-800 (a vector input's own, once a call, about 900 more).
    # tests/test_kernels.py checks the bits over layouts, sizes and values.

    def _matvec_line(self, node):
        """``np.matmul`` of a 2-d matrix and a 1-d vector (either order) as :meth:`_product`, else None."""
        if node.params or len(node.args) != 2:
            return None
        ranks = tuple(len(self.nodes[x].shape) for x in node.args)
        if ranks not in ((2, 1), (1, 2)) or any(x in self.squeezed for x in node.args):
            return None
        side = 1 if ranks == (2, 1) else 0
        self.namespace[f"f{node.id}"] = OPS[node.op].impl
        return self._product(node, node.args[1 - side], node.args[side], side)

    def _product(self, node, matrix: int, vector: int, side: int) -> str:
        """The line of ``matrix @ vector`` (side 1) or ``vector @ matrix`` (side 0), vector held
        1-d: ``np.dot`` under the checks of the comment above when they can hold, else the op."""
        i = node.id
        args = (self.name[matrix], self.name[vector]) if side == 1 else (self.name[vector], self.name[matrix])
        call = f"f{i}({', '.join(args)})"
        source = self._vector_source(vector)  # first: a check is a line, made once, where both can hold
        if source is None or min(self.nodes[matrix].shape) < 2:
            return f"v{i} = {call}"
        checks = self._matrix_checks(matrix)
        if checks is None:
            return f"v{i} = {call}"
        self.namespace["_dot"] = _DOT
        if source >= 0:  # an input vector: its layout, once a call
            checks.append(self._vector_check(source))
        checks.append(f"{self.name[vector]}.dtype is {self.name[matrix]}.dtype")
        rows, columns = self.nodes[matrix].shape
        length = rows if side == 1 else columns
        spent = next((k for k, (_, n) in enumerate(self.free) if n == length), None)
        if spent is None:
            return f"v{i} = _dot({', '.join(args)}) if {' and '.join(checks)} else {call}"
        out = self.free.pop(spent)[0]  # a dead temporary of the result's length: written into, then forgotten
        dot = f"(_dot({', '.join(args)}, {out}) if {out}.dtype is {self.name[matrix]}.dtype else _dot({', '.join(args)}))"
        return f"v{i} = {dot} if {' and '.join(checks)} else {call}\n{self.indent}del {out}"

    # np.dot into an array it is given (its out) skips new_array_for_sum's new array: about 550 of a
    # 4,600-instruction product at n = 10 (a ufunc's out= costs more than it saves below 8 KiB, see
    # _spent; a product's does not). cblas_matrixproduct zeroes the array it writes (its own or the
    # one given) before the same gemv call, so the bits are those of a new array whatever the spent
    # temporary held (tests/test_kernels38.py plants NaNs and infinities in it). The temporary must
    # be dead and nobody's memory but its own: a 1-d array a ufunc or a product made (new, C-contiguous,
    # aligned), that no output, squeezed or fused value is, that no line wrote over (out=), and whose
    # readers all made new arrays of their own (element-wise ufuncs, products), so no view or alias of
    # it lives on; of the product's dtype, checked per call (else a new array, as before). A kept
    # temporary lives past its last reader, so only small ones are kept (below OUT_MIN_BYTES at 16 bytes
    # an element), one per length: the kernel's peak stays within a few KiB of the interpreter's that
    # the planner measured, however many lines there are and whether or not a product comes.

    def _reusable(self, a: int) -> bool:
        """May the product lines that follow write into node ``a``'s array once it is dead (see above)?"""
        made = self.nodes[a]
        if len(made.shape) != 1 or not 2 <= made.shape[0] < OUT_MIN_BYTES // 16 or a in self.outputs or a in self.squeezed \
                or a in self.unsqueezed or a in self.fused or a in self.overwritten or self.name.get(a) != f"v{a}":
            return False
        return all(_fresh(n) for n in [made, *self.readers.get(a, ())])  # no view of it made

    def _matrix_checks(self, m: int):
        """Checks that the 2-d matrix of node ``m`` is laid out for BLAS: an input (or its
        transpose) C- or F-contiguous and aligned, of float32 or float64; None: never."""
        node = self.nodes[m]
        if node.op == "transpose" and tuple(node.params.get("axes", ())) == (1, 0):
            node = self.nodes[node.args[0]]
        if node.op != "input" or len(node.shape) != 2:
            return None
        # flags.forc (C or F), not farray: NumPy's farray is true for any aligned or writeable array
        # an ndarray itself: _DOT skips __array_function__, which only a subclass could override
        self.namespace["_nd"] = np.ndarray
        return [self._input_check(node.id, f"type(v{node.id}) is _nd and (_f := v{node.id}.flags).forc and _f.aligned",
                                  "m")]

    def _vector_source(self, v: int):
        """Where the 1-d vector held for node ``v`` comes from, for np.dot: -1 for a new array of
        a ufunc (contiguous and aligned, no check), the node of a 1-d input (checked per call:
        :meth:`_vector_check`), None (never np.dot) otherwise."""
        if size(self.nodes[v].shape) < 2:
            return None
        while self.nodes[v].op == "reshape":
            v = self.nodes[v].args[0]
        node = self.nodes[v]
        if node.op == "input":
            return v if len(node.shape) == 1 else None
        if node.op != "const" and isinstance(OPS[node.op].impl, np.ufunc) and OPS[node.op].view is None:
            return -1
        return None

    def _vector_check(self, i: int) -> str:
        """The name of a variable set once, before its first use, to the layout check of the 1-d
        input ``i``: an exact ndarray (as for a matrix), C-contiguous (1-d: a stride of one
        element) and aligned; its dtype is compared with the matrix's at each product."""
        name = f"_v{i}"
        if name not in self.checked:
            self.checked.add(name)
            self.namespace["_nd"] = np.ndarray
            self.lines.append(f"{self.indent}{name} = type(v{i}) is _nd and (_f := v{i}.flags).forc and _f.aligned")
        return name

    def _input_check(self, i: int, layout: str, kind: str) -> str:
        """The name of a variable set once, before its first use, to the check of input ``i``."""
        name = f"_{kind}{i}"
        if name not in self.checked:
            self.checked.add(name)
            self.namespace["_floats"] = (np.dtype(np.float64), np.dtype(np.float32))
            self.lines.append(f"{self.indent}{name} = v{i}.dtype in _floats and ({layout})")
        return name


# np.dot's C function without its __array_function__ dispatcher (about 1,100 instructions of a
# 6,000-instruction product at n = 10): the same PyArray_MatrixProduct2 call on the same operands,
# taken only for an exact ndarray matrix (see _matrix_checks) and a vector a ufunc made, or an exact
# ndarray input (see _vector_check).
_DOT = getattr(np.dot, "_implementation", np.dot)

# The bytes from which an element-wise line writes over its spent operand (see _Source._spent): below
# them NumPy's and glibc's caches make a new array cheaper than out='s overlap check (equal at 8 KiB).
OUT_MIN_BYTES = 8192


_FULL_OPS = (np.add, np.subtract, np.multiply, np.true_divide)  # IEEE's correctly rounded operations


def _full_constant(value, shape: tuple, dtype: np.dtype):
    """``value`` (a Python number exact in ``dtype``, or a 0-d float array), no NaN, as a read-only
    array of ``shape``: of ``dtype``, or of the 0-d array's own; None for anything else."""
    if type(value) is np.ndarray and value.shape == () and value.dtype.kind == "f":
        dtype = value.dtype
    elif type(value) in (int, float) and dtype.kind == "f":
        try:
            with np.errstate(all="ignore"):
                exact = dtype.type(value)
        except OverflowError:  # an int past the dtype's range
            return None
        if float(exact) != value:
            return None
    else:
        return None
    full = np.full(shape, value, dtype=dtype)
    if np.isnan(full).any():
        return None
    full.flags.writeable = False
    return full


def _elementwise(node) -> bool:
    """Is ``node`` a NumPy ufunc called on its arguments as they are (broadcasting them)?"""
    impl = OPS[node.op].impl
    return (isinstance(impl, np.ufunc) and impl.signature is None and impl.nin == len(node.args)
            and not node.params)


def _assignment(node, nodes: list, args: list, namespace: dict) -> str:
    """``v5 = f5(v3, c4)``: the op's NumPy function with its params bound, or for a
    reshape or transpose of a computed array the method itself (NumPy's function form
    costs a microsecond more per call, and a small kernel is a few microseconds)."""
    method = OPS[node.op].method
    if method and not args[0].startswith("c"):
        if method[0] == "transpose" and len(nodes[node.args[0]].shape) == 2 \
                and tuple(node.params[method[1]]) == (1, 0):
            return f"v{node.id} = {args[0]}.T"  # the same view, without the method call and its tuple
        namespace[f"k{node.id}"] = node.params[method[1]]
        return f"v{node.id} = {args[0]}.{method[0]}(k{node.id})"
    impl = OPS[node.op].impl
    if node.op == "where" and _is_mask(nodes[node.args[0]]):
        # the op's own impl tests c != 0 and promotes with c's dtype: for a boolean mask, a bool
        # (which never promotes), that is np.where's own answer and dtype
        impl = np.where
    if _is_softmax_vjp_of_identity(node, nodes):  # a small softmax Jacobian's dense pass: same bits
        namespace[f"f{node.id}"] = softmax_vjp_of_identity
        return f"v{node.id} = f{node.id}({', '.join(args)})"
    if node.op == "softmax" and len(nodes[node.args[0]].shape) == 1 and size(node.shape) > 0:
        namespace[f"f{node.id}"] = softmax_of_vector  # the op's branch for a vector, without its tests
        return f"v{node.id} = f{node.id}({args[0]})"
    namespace[f"f{node.id}"] = partial(impl, **node.params) if node.params else impl
    return f"v{node.id} = f{node.id}({', '.join(args)})"


def _is_softmax_vjp_of_identity(node, nodes: list) -> bool:
    """``softmax_vjp(eye, s, axis=0)`` with the constant identity (n ≥ 2, +0 off its diagonal)
    and a vector ``s``: the op's impl takes its general branch, which
    :func:`~jacobi_cli.ir.ops.softmax_vjp_of_identity` computes with the same bits."""
    if node.op != "softmax_vjp" or node.params.get("axis") != 0 or node.params.get("basis"):
        return False
    g, s = (nodes[a] for a in node.args)
    n = s.shape[0] if len(s.shape) == 1 else 0
    if g.op != "const" or type(g.value) is not np.ndarray or g.value.shape != (n, n) or n < 2:
        return False
    eye = np.eye(n, dtype=g.value.dtype)
    return g.value.dtype.kind == "f" and np.array_equal(g.value.view(np.uint8), eye.view(np.uint8))


def _is_mask(node) -> bool:
    return node.op == "const" and type(node.value) is np.ndarray and node.value.dtype == bool


def _const_bytes(nodes: list, first: int, outputs: list) -> int:
    """Bytes of the constants folded while tracing (nodes from ``first`` on) that the
    kernel keeps (those its outputs need)."""
    need = needed(nodes, outputs)
    return sum(getattr(n.value, "nbytes", 0) for n in nodes[first:] if n.op == "const" and need[n.id])


def work(nodes: list, outputs: list) -> int:
    """Elements the kernel's nodes write, a product counted with its inner length: what one
    call costs, roughly (a dry run's ``work`` for the interpreter's passes)."""
    need = needed(nodes, outputs)
    total = 0
    for node in nodes:
        if need[node.id] and node.op not in ("const", "input") and OPS[node.op].view != "always":
            inner = nodes[node.args[0]].shape[-1] if node.op == "matmul" and nodes[node.args[0]].shape else 1
            total += size(node.shape) * inner
    return total


# --- kernels ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Kernel:
    """A compiled computation: ``kernel(env, *extra)`` is ``fn(env, *extra)``, which reads the
    arrays of ``args`` from ``env``, then takes ``extra`` (a VJP's cotangent, a JVP's tangents);
    ``peak`` is its predicted bytes and ``names`` what its results are."""

    fn: object  # made by generate: error state and BLAS threads are set inside it
    args: tuple  # input names, in the order ``fn`` reads them
    peak: int = 0
    names: tuple = ()  # what the results are (the inputs of a VJP's gradients)
    y_shape: tuple = ()  # the output's shape (a VJP's cotangent has it)
    products: int = 0  # multiply-adds of its largest matrix product: BLAS threads (engine/blas.py)

    def __call__(self, env: dict, *extra) -> tuple:
        return self.fn(env, *extra)


@dataclass(frozen=True)
class Scatter:
    """Where a structured Jacobian's stored values go in its dense array: ``dense.reshape(-1)[at]
    = result.reshape(-1)[take]`` (``take`` None: all of them), in a new array of ``size`` zeros
    of ``dtype`` reshaped to ``shape``; ``at`` is a strided slice for a diagonal."""

    size: int
    at: object  # a slice (a diagonal: every n + 1-th element) or flat indices
    take: object  # flat indices into the compressed result, or None
    dtype: object
    shape: tuple


class Unlaid(Exception):
    """A kernel's input is not C-contiguous, as its tracing took it to be: the interpreter answers."""


class _Errstate:
    """``set``/``reset`` of "ignore every floating-point error" through ``np.errstate``: where
    NumPy does not keep its error state in the context variable used below."""

    def set(self, _ignored):  # pragma: no cover - other NumPy versions
        state = np.errstate(all="ignore")
        state.__enter__()
        return state

    def reset(self, state) -> None:  # pragma: no cover
        state.__exit__(None, None, None)


# ``with np.errstate(all="ignore")`` costs ~2 us a call (it builds NumPy's error state each
# time), a fifth of a small kernel. NumPy 2 keeps that state in a context variable, so a
# kernel sets the state made once here and resets it after: per thread and per context, as
# errstate itself does. Where NumPy keeps it elsewhere, errstate is used as it is.
try:
    from numpy._core._ufunc_config import _extobj_contextvar as _ERROR_STATE

    with np.errstate(all="ignore"):
        _IGNORE_ALL = _ERROR_STATE.get()
except (ImportError, AttributeError, LookupError):  # pragma: no cover - other NumPy versions
    _ERROR_STATE, _IGNORE_ALL = _Errstate(), None


def _finish(builder: Builder, outputs: list, args: tuple, first: int, peak: int, names: tuple = (),
            extra: tuple = (), y_shape: tuple = (), scatters: tuple | None = None):
    """The kernel of ``outputs`` (tracers or constants) over the inputs ``args`` and then
    ``extra``; None when tracing folded more constants than a kernel may keep. With
    ``scatters``, ``(kernel, its twin whose outputs are stored as scatters says)``."""
    ids = [builder.lift(o).id for o in outputs]
    if _const_bytes(builder.nodes, first, ids) > MAX_CONST_BYTES:
        return None
    # the forward values that may refuse the call: computed (and dropped) whether or not a result reads them
    refusing = tuple(n.id for n in builder.nodes[:first] if n.op in _REFUSING)
    products = product_work(builder.nodes, needed(builder.nodes, ids + list(refusing)))
    arg_ids = [builder.inputs[a] for a in args + extra]
    assumed = getattr(builder, "assumed", None)
    fn = generate(builder.nodes, arg_ids, ids, tuple(args), products, dtype=builder.dtype, keep=refusing,
                  assumed=assumed)
    kernel = Kernel(fn, tuple(args), peak, names, tuple(y_shape), products)
    if scatters is None:
        return kernel
    dense = kernel if not any(scatters) else replace(
        kernel, fn=generate(builder.nodes, arg_ids, ids, tuple(args), products, scatters, builder.dtype, refusing,
                            assumed))
    return kernel, dense


_REFUSING = frozenset(name for name, op in OPS.items() if op.refuses)  # computed whether or not a result reads them


def evaluate_kernel(graph: Graph) -> Kernel | None:
    """The output's value."""
    b = _new_builder(graph)
    traced = autodiff.replay(graph, b)
    first = len(b.nodes)
    return _finish(b, [traced[graph.output]], tuple(graph.inputs), first, 0)


def vjp_kernel(graph: Graph, names: list) -> Kernel | None:
    """``x.grad`` for each of ``names`` (inputs that require grad) from a cotangent ``v``:
    ``kernel(env, v)``."""
    b = _new_builder(graph)
    traced = autodiff.replay(graph, b)
    first = len(b.nodes)
    v = b.input(V, graph.output_shape)
    seed = P.reshape(v, shape=(1,) + tuple(graph.output_shape))
    grads = autodiff.vjp(graph, traced, seed)
    outs = [P.reshape(b.lift(grads[n]), shape=_shape_of(graph, n)) for n in names]
    return _finish(b, outs, tuple(graph.inputs), first, 0, tuple(names), (V,), graph.output_shape)


def jvp_kernel(graph: Graph, names: list) -> Kernel | None:
    """J·t for tangents of the inputs ``names``: ``kernel(env, *tangents in that order)``."""
    b = _new_builder(graph)
    traced = autodiff.replay(graph, b)
    first = len(b.nodes)
    tangents = {n: P.reshape(b.input(T + n, _shape_of(graph, n)), shape=(1,) + _shape_of(graph, n)) for n in names}
    out = autodiff.jvp(graph, traced, tangents)[graph.output]
    out = P.reshape(b.lift(out), shape=tuple(graph.output_shape))
    return _finish(b, [out], tuple(graph.inputs), first, 0, (), tuple(T + n for n in names))


V = "\0v"  # names no expression can bind: the kernel's cotangent and tangent arguments
T = "\0t:"


def _shape_of(graph: Graph, name: str) -> tuple:
    return tuple(graph.nodes[graph.inputs[name]].shape)


# --- Jacobian kernels -----------------------------------------------------------------------------

@dataclass(frozen=True)
class JacobianKernel:
    """Every Jacobian of a plan in one compiled call. Per input, ``kernel`` returns the dense
    Jacobian (array layout; a small one computed densely is read off at its pattern inside the
    kernel) or, for an element-wise diagonal one, the pass along ones; ``gathers`` says where each stored
    value of a structured Jacobian lies in that result."""

    kernel: Kernel
    names: tuple
    y_shape: tuple
    x_shapes: tuple
    gathers: tuple  # per input: None (dense) or (compressed, flat index or None for all, rows, cols)
    dtype: object
    peak: int = 0  # the kernel's predicted bytes (made once: a repeated call reads it)
    all_dense: bool = False  # every result is its Jacobian's dense array: nothing to scatter
    diagonals: tuple = ()  # per input: is its pattern the diagonal of a square Jacobian (a strided scatter)
    dense: Kernel | None = None  # the same kernel giving every Jacobian as its dense array (kernel itself if all_dense)
    dense_peak: int = 0  # the budget a dense call needs: the peak, and each compressed Jacobian made dense
    scans: tuple = ()  # the names whose Jacobian a dense pass over the basis made: what nan_free scans

    @classmethod
    def of(cls, kernel: Kernel, names: tuple, y_shape: tuple, x_shapes: tuple, gathers: tuple, dtype,
           dense: Kernel | None = None, scans: tuple = ()):
        diagonals = tuple(g is not None and size(y_shape) == size(x) and _is_diagonal(g[2], g[3], size(x))
                          for g, x in zip(gathers, x_shapes))
        itemsize = np.dtype(dtype).itemsize  # dense() refuses a Jacobian whose dense array passes the budget
        made_dense = [size(y_shape) * size(x) * itemsize for g, x in zip(gathers, x_shapes) if g is not None]
        return cls(kernel, names, y_shape, x_shapes, gathers, dtype, kernel.peak,
                   all(g is None or not g[0] for g in gathers), diagonals, dense, max([kernel.peak] + made_dense),
                   scans)

    def nan_free(self, found: dict | None) -> dict | None:
        """``found`` (this kernel's answer, ``{name: array or Jacobian}``), or None (the interpreter answers the
        call) when a Jacobian that a dense pass made holds a NaN: a dense pass writes 0 · NaN where the
        interpreter reads the NaN again from the structured passes (planner.nan_read_structured)."""
        if found is None or not self.scans:
            return found
        for name in self.scans:  # a loop, not any() of a generator: a repeated call's hot path
            if autodiff.holds_nan(found[name]):
                return None
        return found

    def __call__(self, env: dict, structured: bool) -> dict:
        """``{name: dense array}``, or ``{name: Jacobian}`` with ``structured``."""
        if not structured and self.dense is not None:
            return dict(zip(self.names, self.dense.fn(env)))
        results = self.kernel.fn(env)
        if not structured and self.all_dense:
            return dict(zip(self.names, results))
        return {n: self._jacobian(n, x_shape, r, g, structured, diagonal)
                for n, x_shape, r, g, diagonal in zip(self.names, self.x_shapes, results, self.gathers, self.diagonals)}

    def _jacobian(self, name, x_shape, result, gather, structured: bool, diagonal: bool):
        if gather is None or (not structured and not gather[0]):  # dense, or read off in the kernel
            return Jacobian(name, self.y_shape, x_shape, result, self.dtype) if structured else result
        compressed, flat, rows, cols = gather
        values = result.reshape(-1)[flat] if flat is not None else result.reshape(-1)
        if structured:
            return SparseJacobian(name, self.y_shape, x_shape, rows, cols, values, self.dtype, coalesced=True)
        if diagonal:  # entry (i, i) of the flat n x n array is element i * (n + 1): a strided store
            dense = np.zeros(size(self.y_shape) * size(x_shape), dtype=self.dtype)
            dense[::size(x_shape) + 1] = values
            return dense.reshape(self.y_shape + x_shape)
        dense = np.zeros((size(self.y_shape), size(x_shape)), dtype=self.dtype)
        dense[rows, cols] = values
        return dense.reshape(self.y_shape + x_shape)


def _pattern_mask(gather, y_shape: tuple, x_shape: tuple):
    """A boolean array of the Jacobian's shape, True on the pattern of ``gather`` (flat indices)."""
    mask = np.zeros(size(y_shape) * size(x_shape), dtype=bool)
    mask[gather[1]] = True
    return mask.reshape(tuple(y_shape) + tuple(x_shape))


def jacobian_kernel(graph: Graph, plan, small: bool) -> JacobianKernel | None:
    """The kernel for ``plan``'s Jacobians of ``graph`` (``requires_grad`` set for its
    inputs), or None when none can run it (:func:`kernel_or_why` says why).

    ``small``: the plan runs dense passes (:func:`jacobi_cli.planner._small`), and so does the
    kernel. Else the interpreter runs structured passes, and the kernel traces, per input, a
    pass over the basis kept as a diagonal (a dense Jacobian) or, for the diagonal Jacobian of
    an element-wise graph, one pass along ones (:func:`_diagonal_pass`).
    """
    return kernel_or_why(graph, plan, small)[0]


def kernel_or_why(graph: Graph, plan, small: bool) -> tuple:
    """``(JacobianKernel, None)``, or ``(None, why)``: why no kernel runs ``plan`` (``--explain``
    says it). Every refusal of :func:`jacobian_kernel` is decided here, in words."""
    why = unfit(plan)
    if why is not None:
        return None, why
    b = _new_builder(graph, diagonals=not small)
    traced = autodiff.replay(graph, b)
    first = b.derivatives_from = len(b.nodes)
    y_shape = tuple(graph.output_shape)
    outs, gathers, peak = {}, {}, plan.peak_bytes
    # the diagonal Jacobian of an input over whose shape the graph is element-wise: one pass along
    # ones (_diagonal_pass), as the interpreter runs it (planner.along_ones, InputPlan.along_ones)
    if small:
        dense = {n: p for n, p in plan.inputs.items() if not p.along_ones}
        _dense_passes(graph, dense, traced, y_shape, outs)
        gathers = {n: _pattern_gather(p, y_shape) for n, p in dense.items()}
    else:
        dense = {n: p for n, p in plan.inputs.items() if p.structure == "dense"}
        _dense_passes(graph, dense, traced, y_shape, outs)
        gathers = dict.fromkeys(dense)
    dense_passes = frozenset(dense)  # their results may hold 0 · NaN: JacobianKernel.nan_free
    for name, p in plan.inputs.items():
        if name in dense:
            continue
        if not p.along_ones:
            # Any compressed pass (a colouring) would add, into each entry, the products of the basis
            # vectors' other ones with partials that the structured interpreter never forms: 0 * inf =
            # NaN where it gives inf or an exact value (x[1:] / x[:-1] at a zero of x), +0 where it gives -0
            return None, (f"∂y/∂{name} is sparse but not the diagonal of an element-wise function: a "
                          "coloured pass would add 0 · ∞ = NaN (and +0 for -0) where the structured "
                          "passes give the exact entry")
        outs[name], gathers[name] = _diagonal_pass(graph, p, traced, y_shape)
        peak = max(peak, plan.values_bytes * 3 + plan.result_bytes)
    if small:
        for n, gather in gathers.items():
            # Even a small Jacobian computed densely is read off at its pattern, as the interpreter
            # does: outside it the dense pass may hold 0 * inf = NaN where the answer is an exact 0
            if n in dense and gather is not None:
                mask = b.mask(_pattern_mask(gather, y_shape, _shape_of(graph, n)))
                outs[n] = b.apply("where", mask, _lifted(traced, outs[n]), 0.0)
    names = tuple(plan.inputs)
    if not small:
        cost, allowed = work(b.nodes, [b.lift(outs[n]).id for n in names]), _work_allowed(graph, plan)
        if cost > allowed:  # the pass as NumPy arrays costs more than the structured interpreter's
            return None, (f"the traced pass would touch {cost:,} elements, more than the {allowed:,} the "
                          "structured interpreter's passes are allowed (a product the diagonal basis cannot follow)")
    x_shapes = tuple(_shape_of(graph, n) for n in names)
    scatters = tuple(_scatter(gathers[n], y_shape, x, graph.dtype) for n, x in zip(names, x_shapes))
    made = _finish(b, [outs[n] for n in names], tuple(graph.inputs), first, peak, scatters=scatters)
    if made is None:
        return None, f"the constants it would keep pass {MAX_CONST_BYTES // 2**20} MiB (a basis it cannot drop)"
    kernel, dense = made
    return JacobianKernel.of(kernel, names, y_shape, x_shapes, tuple(gathers[n] for n in names), graph.dtype,
                             dense, tuple(n for n in names if n in dense_passes)), None


def _scatter(gather, y_shape: tuple, x_shape: tuple, dtype) -> Scatter | None:
    """How the dense twin of a Jacobian kernel stores a compressed result (None: it is dense):
    at the positions :meth:`JacobianKernel._jacobian` stores it, a diagonal by a strided slice."""
    if gather is None or not gather[0]:
        return None
    _, flat, rows, cols = gather
    m, n = size(y_shape), size(x_shape)
    at = slice(None, None, n + 1) if m == n and _is_diagonal(rows, cols, n) else rows * n + cols
    return Scatter(m * n, at, flat, dtype, tuple(y_shape) + tuple(x_shape))


WORK_FACTOR = 8  # a kernel may touch this many times the elements of its results and values


def _work_allowed(graph: Graph, plan) -> int:
    """What a kernel may cost: a few passes over the results and values, or what the
    interpreter's passes cost (their dry runs' work) when that is more."""
    values = sum(size(n.shape) for n in graph.nodes)
    results = sum(size(plan.y_shape) * size(p.x_shape) for p in plan.inputs.values())
    return max(WORK_FACTOR * (results + values), 2 * sum(p.work for p in plan.inputs.values()))


def unfit(plan) -> str | None:
    """Why no kernel can run ``plan`` (None: one may): a refused plan, a streamed one, or
    passes in chunks."""
    if plan.refusal:
        return "the plan is refused"
    if plan.stream:
        return "the Jacobian is streamed to the --out file pass by pass"
    chunked = [p.name for p in plan.inputs.values() if p.passes > 1]
    if chunked:
        return f"the passes for {', '.join(chunked)} run in chunks to fit the memory budget"
    return None


def _dense_passes(graph: Graph, inputs: dict, traced: list, y_shape: tuple, outs: dict) -> None:
    """One reverse pass over the output's basis for the reverse inputs, one forward pass
    over its basis per forward input (as :func:`jacobi_cli.planner._run_small`)."""
    rev = [n for n, p in inputs.items() if p.mode == "reverse"]
    if rev:
        g = graph.with_wrt(rev) if len(rev) < sum(n.requires_grad for n in graph.nodes if n.op == "input") else graph
        grads = autodiff.vjp(g, traced, autodiff.basis(y_shape, graph.dtype))
        for n in rev:  # (m, *x) is y.shape + x.shape already
            outs[n] = P.reshape(_lifted(traced, grads[n]), shape=y_shape + _shape_of(graph, n))
    for n, p in inputs.items():
        if p.mode == "forward":
            x_shape = _shape_of(graph, n)
            t = autodiff.jvp(graph, traced, {n: autodiff.basis(x_shape, graph.dtype)})[graph.output]
            t = P.transpose(P.reshape(_lifted(traced, t), shape=(size(x_shape), size(y_shape))), axes=(1, 0))
            outs[n] = P.reshape(t, shape=y_shape + x_shape)


def _is_diagonal(rows, cols, n: int) -> bool:
    return len(rows) == n and np.array_equal(rows, np.arange(n)) and np.array_equal(cols, rows)


def _pattern_gather(p, y_shape: tuple):
    """Where a small structured Jacobian's values lie in its dense result (None: dense)."""
    if p.structure == "dense" or p.pattern is None:
        return None
    rows, cols = (np.asarray(a, dtype=np.intp) for a in p.pattern)
    return False, rows * size(p.x_shape) + cols, rows, cols


def _lifted(traced: list, value):
    return value if isinstance(value, Tracer) else traced[0].builder.lift(value)


def _diagonal_pass(graph: Graph, p, traced: list, y_shape: tuple):
    """``(products, gather)`` for the diagonal Jacobian of an element-wise graph: one pass
    along ones (forward: a tangent of ones; reverse: a cotangent of ones), whose element j is
    entry (j, j) (no other entry meets it), stored as it is (the gather of the identity)."""
    forward = p.mode == "forward"
    seed = np.ones((1,) + tuple(p.x_shape if forward else y_shape), dtype=graph.dtype)
    if forward:
        out = autodiff.jvp(graph, traced, {p.name: seed})[graph.output]  # (1, *y)
    else:
        g = graph.with_wrt([p.name]) if len(graph.inputs) > 1 else graph
        out = autodiff.vjp(g, traced, seed)[p.name]  # (1, *x)
    n = size(y_shape)
    return _lifted(traced, out), (True, None, np.arange(n, dtype=np.intp), np.arange(n, dtype=np.intp))
