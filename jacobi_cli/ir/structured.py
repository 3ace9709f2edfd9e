"""Structured batches: Jacobians that keep their structure while they are computed.

A full Jacobian is one batched pass whose seed is a basis (the identity). Stored dense,
that seed costs ``n²`` and every op after it too. Here the seed is a :class:`SparseBatch`:
a batch ``(B, *s)`` in which every element has at most ``K`` nonzeros along the batch
axis, ``T[b, i] = Σ_k val[k, i] · [col[k, i] == b]`` (``col = -1``: an empty slot). The
identity is ``K = 1, col = arange, val = 1``.

The derivative rules of :mod:`jacobi_cli.ops` are linear in the tangent (or cotangent)
and are written with ``P``; ``P`` hands an op on a batch here (:meth:`~jacobi_cli.ir.ops.Proxy.bind`),
where a short table of rules keeps the batch sparse: scaling by an unbatched array
(every element-wise rule), reshape, transpose, indexing, broadcasting, sums, sums of two
sparse batches, and a product with a constant matrix (a gather: ``A @ I = A`` costs
``n²``, not ``n³``). Any other op makes the batch dense and runs NumPy. So one general
mechanism gives: element-wise chains a diagonal, indexing and reshapes a selection or
permutation, ``A @ x`` the matrix ``A`` itself and ``tanh(A @ x)`` ``diag(tanh') A``.

Whether a batch stays sparse depends only on the graph and the shapes (the ``col``
patterns), never on values. A *dry run* (:func:`dry_run`) exploits this: ``val`` is
``None`` and dense batches are :class:`ShapeOnly` (a shape, no data), so the same pass
predicts the structure of every Jacobian, the work, and the bytes of the batches alive
at each moment (a :class:`Ledger` counts them as they are created and freed) before
anything big is allocated.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np

from .op import Op, Proxy

K_MAX = 8  # nonzeros per element beyond which a batch goes dense


class Ledger:
    """Bytes of the batches alive during a dry run, their peak, and a work count."""

    def __init__(self):
        self.live = 0
        self.peak = 0
        self.work = 0
        self.scratch = 0  # the unbatched temporaries of the rule running (:meth:`rule`), beside the batches

    def charge(self, nbytes: int) -> None:
        self.live += nbytes
        if self.live + self.scratch > self.peak:
            self.peak = self.live + self.scratch

    def release(self, nbytes: int) -> None:
        self.live -= nbytes

    def transient(self, nbytes: int) -> None:
        """Bytes that exist only while one op runs (a batch made dense for it)."""
        if self.live + self.scratch + nbytes > self.peak:
            self.peak = self.live + self.scratch + nbytes

    def rule(self, op: str, ans, args) -> None:
        """A derivative rule of a node is about to run (the passes' loops call this in a dry run, and
        :meth:`done` after it): its arrays of the primal's shapes (``prod_except(a)``, ``max``'s mask and
        counts, a scale ``tanh'``), computed for real from the values while the dry run counts only
        batches, are bounded by ``RULE_TEMPORARIES`` of the largest of the node's value and its arguments',
        alive beside the batches while it runs (session 40: those went uncounted, 1.5 times the plan's peak
        for ``(x[:, None] * y).max(axis=1)``). The linear ops' rules (``LINEAR_RULES``) make none."""
        if op in LINEAR_RULES:
            self.scratch = 0
            return
        largest = getattr(ans, "nbytes", 0)
        for a in args:
            n = getattr(a, "nbytes", 0)
            if n > largest:
                largest = n
        self.scratch = RULE_TEMPORARIES * largest
        self.transient(0)

    def done(self) -> None:
        self.scratch = 0


RULE_TEMPORARIES = 4  # unbatched arrays of a rule alive at once, each at most its node's or an argument's size
# ops whose rules apply the batch to the values as they are (a product by an operand, a sum, a move of elements):
# no array of the primal's shape is made (matmul's transposes are views)
LINEAR_RULES = frozenset({"add", "sub", "neg", "mul", "sum", "mean", "reshape", "transpose", "getitem", "broadcast_to",
                          "expand", "matmul", "einsum", "cumsum", "trace", "take_along", "scatter"})


def ledger_now() -> "Ledger | None":
    """The dry run's ledger in this thread, or None (a real pass)."""
    return _LEDGER.get()


# The ledger of the dry run in progress in this thread (or asyncio task), or None: a context
# variable, so a dry run in one thread never turns another thread's basis into a pattern.
_LEDGER: ContextVar[Ledger | None] = ContextVar("jac_dry_run_ledger", default=None)


@contextmanager
def dry_run():
    """Count instead of compute: inside, :func:`basis` makes pattern-only seeds."""
    ledger = Ledger()
    token = _LEDGER.set(ledger)
    try:
        yield ledger
    finally:
        _LEDGER.reset(token)


class Branches:
    """The branches a pass over a whole basis took where a rule chooses how to keep a batch (sparse, slot by
    slot, or dense: :func:`_branch`'s sites), recorded by a dry run of that pass and taken again by each pass
    over a part of the basis (session 54). A rule's choice reads the batch's pattern, and a part of a basis
    holds fewer columns: ``A @ X``'s cotangent kept sparse in a chunk of 9 rows (each summed line one column)
    and summed by ``_reduced`` slot by slot, where the one pass of all 81 had it dense and summed it by
    ``bincount``: other orders of one sum, rows up to 4.4e-16 apart. Every branch a whole basis takes is open
    to any part of it (a part's pattern is the whole one's with columns dropped), and each gives the part's
    rows the whole pass's bits; so a chunked plan gives the one-pass plan's bits. A site whose recorded branch
    the part cannot take, or a pass that meets the sites in another order, ends the replay (``lost``): the
    part's own choices from there, the right numbers in another order of sums."""

    __slots__ = ("taken", "at", "recording", "lost")

    def __init__(self):
        self.taken, self.at, self.recording, self.lost = [], 0, True, False

    def replay(self) -> "Branches":
        """Start a pass that takes the recorded branches again (each pass over a part calls this)."""
        self.at, self.recording, self.lost = 0, False, False
        return self

    def choose(self, site: str, own: int, open_: tuple) -> int:
        if self.recording:
            self.taken.append((site, own))
            return own
        if self.lost or self.at >= len(self.taken) or self.taken[self.at][0] != site:
            self.lost = True
            return own
        branch = self.taken[self.at][1]
        self.at += 1
        if branch not in open_:
            self.lost = True
            return own
        return branch


# the branches being recorded or replayed in this thread (or asyncio task), or None: each rule chooses its own
_BRANCHES: ContextVar[Branches | None] = ContextVar("jac_pass_branches", default=None)


@contextmanager
def branches(record: Branches):
    """Inside, the sites of :func:`_branch` record into (or replay from) ``record``."""
    token = _BRANCHES.set(record)
    try:
        yield record
    finally:
        _BRANCHES.reset(token)


def _branch(site: str, own: int, open_: tuple) -> int:
    """The branch a rule takes at ``site``: its own choice ``own``, or within :func:`branches` the one a
    pass over the whole basis took there when it is among ``open_`` (the branches this batch can take)."""
    record = _BRANCHES.get()
    return own if record is None else record.choose(site, own, open_)


def account(nbytes: int) -> None:
    """Count bytes that a dry run's caller keeps to the end (a Jacobian's entries)."""
    ledger = _LEDGER.get()
    if ledger is not None:
        ledger.charge(nbytes)


class _Counted(Proxy):
    """A batch whose bytes a dry run's ledger counts for as long as it lives."""

    __slots__ = ()

    def _count(self, nbytes: int):
        """Charge ``nbytes`` to the dry run's ledger (None outside one) until this batch is
        dropped; returns that ledger."""
        self._nbytes = nbytes
        ledger = self._ledger = _LEDGER.get()
        if ledger is not None:
            ledger.charge(nbytes)
        return ledger

    def __del__(self):
        if getattr(self, "_ledger", None) is not None:
            self._ledger.release(self._nbytes)

    def bind(self, op: Op, args: tuple, params: dict):
        return apply(op, args, params)

    def dry_result(self, shape: tuple, scratch: int = 0):
        return dry_result(self, shape, scratch)


class ShapeOnly(_Counted):
    """A dense batch in a dry run: its shape and dtype, no data."""

    __slots__ = ("shape", "dtype", "base", "_ledger", "_nbytes")

    def __init__(self, shape: tuple, dtype, base: "ShapeOnly | None" = None):
        self.shape = shape = tuple(map(int, shape))
        self.dtype = dtype = np.dtype(dtype)
        self.base = base  # a view keeps its base alive and costs nothing of its own
        self._count(0 if base is not None else _size(shape) * dtype.itemsize)

    @property
    def ndim(self) -> int:
        return len(self.shape)


class SparseBatch(_Counted):
    """A batch ``(batch, *s)`` with at most ``K`` nonzeros per element along the batch axis.

    ``col`` and ``val`` have shape ``(K, *s)``; ``val`` is ``None`` in a dry run (only
    the pattern is known). ``to_dense()`` gives the NumPy array it stands for.
    """

    __slots__ = ("batch", "col", "val", "dtype", "_ledger", "_nbytes")

    def __init__(self, batch: int, col: np.ndarray, val: np.ndarray | None, dtype, empty: bool = False):
        self.batch, self.col, self.val, self.dtype = int(batch), col, val, np.dtype(dtype)
        ledger = self._count(0 if empty else col.size * (col.itemsize + self.dtype.itemsize))
        if ledger is not None and not empty:
            ledger.work += col.size

    @property
    def shape(self) -> tuple:
        return (self.batch,) + self.col.shape[1:]

    @property
    def ndim(self) -> int:
        return self.col.ndim

    @property
    def k(self) -> int:
        return self.col.shape[0]

    @property
    def pattern(self) -> bool:
        return self.val is None

    def with_(self, col, val) -> "SparseBatch":
        return SparseBatch(self.batch, col, val, self.dtype)

    def entries(self):
        """``(k, flat element index, batch index, value)`` of every stored entry."""
        for k in range(self.k):
            col = self.col[k].reshape(-1)
            where = np.flatnonzero(col >= 0)
            yield k, where, col[where], None if self.pattern else self.val[k].reshape(-1)[where]

    def __array__(self, dtype=None, copy=None):
        """Rules written with raw NumPy (not ``P``) see the dense array."""
        dense = self.to_dense()
        return dense if dtype is None else dense.astype(dtype, copy=False)

    def to_dense(self) -> np.ndarray:
        if self.pattern:
            raise TypeError("a dry run's batch has no values")
        out = np.zeros((self.batch, _size(self.shape[1:])), dtype=self.dtype)
        for _, where, cols, vals in self.entries():
            out[cols, where] += vals  # (col, element) pairs are distinct within one k
        return out.reshape(self.shape)


def basis(shape: tuple, dtype, start: int = 0, stop: int | None = None) -> SparseBatch:
    """Basis vectors ``e_start, ..., e_(stop-1)`` of arrays of ``shape``: a batch ``(stop - start, *shape)``.

    Pattern-only inside :func:`dry_run`.
    """
    n = _size(shape)
    stop = n if stop is None else stop
    col = np.arange(n, dtype=np.intp) - start
    if start or stop < n:
        col[(col < 0) | (col >= stop - start)] = -1
    col = col.reshape((1,) + tuple(shape))
    val = None if _LEDGER.get() is not None else np.ones(col.shape, dtype=dtype)
    return SparseBatch(stop - start, col, val, dtype)


def zeros(batch: int, shape: tuple, dtype) -> SparseBatch:
    """The zero batch ``(batch, *shape)``: no stored entries."""
    col = np.broadcast_to(np.intp(-1), (1,) + tuple(shape))
    val = None if _LEDGER.get() is not None else np.broadcast_to(np.zeros((), dtype=dtype), col.shape)
    return SparseBatch(batch, col, val, dtype, empty=True)  # broadcast views: no bytes, no work


def dry_result(batch, shape: tuple, scratch: int = 0):
    """In a dry run, what a rule that runs NumPy on ``batch`` itself (it needs the values, as
    ``prod_except``'s JVP does) leaves: a dense batch of ``shape``, counted with ``batch`` made
    dense and ``scratch`` bytes besides while the rule runs. ``None`` outside a dry run, where
    the rule runs."""
    ledger = _LEDGER.get()
    if ledger is None or not is_batch(batch):
        return None
    itemsize = batch.dtype.itemsize
    ledger.transient(_size(batch.shape) * itemsize + int(scratch) + _size(shape) * itemsize)
    ledger.work += _size(shape)
    return ShapeOnly(shape, batch.dtype)


def is_batch(value) -> bool:
    return isinstance(value, (SparseBatch, ShapeOnly))


_SHAPED = (SparseBatch, ShapeOnly, np.ndarray)  # ``type(a) in _SHAPED``: ``a.shape`` is ``np.shape(a)`` (no dispatch)


def _ndim(d) -> int:
    """``np.ndim(d)``, read off an array directly (NumPy's function dispatches: every op of a pass asks)."""
    return d.ndim if type(d) is np.ndarray else np.ndim(d)


# --- dispatch ----------------------------------------------------------------------------------

def apply(op: Op, args: tuple, params: dict):
    """``op`` on arguments of which at least one is a structured batch: its ``structure``
    rule, or the op on dense arrays."""
    rule = op.structure
    if rule is not None:
        for a in args:
            if type(a) is ShapeOnly:  # a dense stand-in: no rule keeps structure through it
                break
        else:
            out = rule(*args, **params)
            if out is not NotImplemented:
                return out
    return _densely(op, args, params)


def _densely(op: Op, args: tuple, params: dict):
    """The op on dense arrays: sparse batches are made dense first (in a dry run, counted)."""
    dtype, dry = None, False
    for a in args:
        kind = type(a)
        if kind is ShapeOnly or (kind is SparseBatch and a.val is None):
            dtype, dry = a.dtype if dtype is None else dtype, True
        elif kind is SparseBatch and dtype is None:
            dtype = a.dtype
    if dry:
        return _dry_dense(op, args, params, dtype)
    return op.impl(*[a.to_dense() if isinstance(a, SparseBatch) else a for a in args], **params)


def _dry_dense(op: Op, args: tuple, params: dict, dtype) -> ShapeOnly:
    shapes = [a.shape if type(a) in _SHAPED else np.shape(a) for a in args]
    shape = op.shape(*shapes, **params)
    view_of = args[0] if op.view == "always" and type(args[0]) is ShapeOnly else None
    ledger = _LEDGER.get()
    if ledger is not None and view_of is None:
        itemsize = dtype.itemsize
        n = _size(shape)
        made_dense = sum(_size(a.shape) * itemsize for a in args if type(a) is SparseBatch)
        if op.name in ("add", "sub") and _into_dense_shapes(args, shape):  # the pass adds it into a copy
            made_dense = _size(shape[1:]) * (3 * 8 + 1 + 4 * itemsize)
            if op.name == "sub" and type(args[1]) is ShapeOnly:  # -d, then its copy
                made_dense += _size(args[1].shape) * itemsize
        if op.scratch_of is not None:
            extra = op.scratch_of(shapes, n * itemsize, itemsize, **params)
        else:
            extra = 0 if op.scratch is None else op.scratch(sum(_size(s) for s in shapes) * itemsize, n * itemsize)
        extra += _iteration_buffers(op, shapes, shape, itemsize)
        ledger.transient(made_dense + n * itemsize + extra)  # the inputs made dense, the result, the impl's own copies
        ledger.work += n * (shapes[0][-1] if op.name == "matmul" and shapes[0] else 1)
    return ShapeOnly(shape, dtype, base=view_of)


ITERATION_BUFFER = 8192  # elements: NumPy's ufunc buffer (np.getbufsize(), which jac never changes but for a call)


def _iteration_buffers(op: Op, shapes: list, shape: tuple, itemsize: int) -> int:
    """The buffers NumPy's iterator allocates while an element-wise op of several arguments runs: one of
    ``min(ITERATION_BUFFER, result elements)`` items for each argument broadcast to the result (a lifted tangent
    ``(B, 1)`` times ``x`` ``(n,)``: two, 128 KiB beside the (B, n) result; session 56 measured them, the 1.18x
    of ``x * sum(y)`` in forward mode; ``where``'s the same). A one-element argument and one that lacks only
    leading axes of 1 take none."""
    if not op.elementwise or len(shapes) < 2:
        return 0
    shape = tuple(shape)
    count = sum(1 for s in shapes if _size(s) > 1 and _broadcast_to(tuple(s), shape))
    return count * min(ITERATION_BUFFER, _size(shape)) * max(itemsize, 8)


def _broadcast_to(s: tuple, shape: tuple) -> bool:
    """Does an argument of shape ``s`` take strides of 0 in the result's ``shape`` (leading axes of 1 it lacks
    do not: ``(10,)`` in ``(1, 10)`` is read as it lies)?"""
    lead = len(shape) - len(s)
    return shape[lead:] != s or any(n != 1 for n in shape[:lead])


# --- rules: each returns a batch, or NotImplemented to fall back to dense --------------------

def _unbatched(d, ndim: int):
    """An unbatched operand as it broadcasts against the element axes of a batch of ``ndim``
    axes; ``None`` when it would touch the batch axis (it is then not a constant)."""
    if is_batch(d):
        return None
    if _ndim(d) < ndim:
        return d
    d = np.asarray(d)
    return d[0] if d.ndim == ndim and d.shape[0] == 1 else None


def _lifted(a: np.ndarray, ndim: int) -> np.ndarray:
    """``(K, *s)`` with length-1 axes after K so that ``s`` has ``ndim`` axes."""
    extra = ndim - (a.ndim - 1)
    return a.reshape(a.shape[:1] + (1,) * extra + a.shape[1:]) if extra > 0 else a


def _expanded(t: SparseBatch, s: tuple):
    """``col``, ``val`` broadcast to element shape ``s``."""
    if t.col.shape[1:] == tuple(s):
        return t.col, t.val
    col = np.broadcast_to(_lifted(t.col, len(s)), (t.k,) + tuple(s))
    val = None if t.pattern else np.broadcast_to(_lifted(t.val, len(s)), col.shape)
    return col, val


def _scaled(t: SparseBatch, d, fn) -> SparseBatch:
    """The batch with ``val`` replaced by ``fn(val, d)`` for an unbatched ``d`` (broadcast)."""
    d = _unbatched(d, t.ndim)
    if d is None:
        return NotImplemented
    own, other = t.shape[1:], (d.shape if type(d) is np.ndarray else np.shape(d))
    s = own if other == own or not other else np.broadcast_shapes(own, other)
    col, val = _expanded(t, s)
    return t.with_(col, None if t.pattern else fn(val, d))


def _split(a, b):
    """``(batch, other)`` when exactly one of ``a``, ``b`` is a sparse batch."""
    if isinstance(a, SparseBatch) and not is_batch(b):
        return a, b
    if isinstance(b, SparseBatch) and not is_batch(a):
        return b, a
    return None, None


def mul_rule(a, b):
    t, d = _split(a, b)
    return NotImplemented if t is None else _scaled(t, d, np.multiply)


def div_rule(a, b):
    if not isinstance(a, SparseBatch) or is_batch(b):
        return NotImplemented
    return _scaled(a, b, np.true_divide)


def guarded_rule(a, b, impl):
    """xlogy / xlog1py (``impl``) of a sparse batch (first) and an unbatched array: element by element on the
    stored values, so the pattern is kept (an entry not stored is 0, as in mul_rule, whatever y holds there).
    The ops' blocks bind ``impl``."""
    if not isinstance(a, SparseBatch) or is_batch(b):
        return NotImplemented
    return _scaled(a, b, impl)


def neg_rule(a):
    return a.with_(a.col, None if a.pattern else np.negative(a.val))


def where_rule(c, a, b):
    t, other = _split(a, b)
    if t is None or is_batch(c) or np.ndim(other) != 0 or other != 0:
        return NotImplemented
    keep = np.asarray(c) != 0
    return _scaled(t, keep, (lambda v, m: np.where(m, v, 0)) if t is a else (lambda v, m: np.where(m, 0, v)))


def add_rule(a, b):
    return _sum_of(a, b, 1)


def sub_rule(a, b):
    return _sum_of(a, b, -1)


def _sum_of(a, b, sign: int):
    if isinstance(a, SparseBatch) and isinstance(b, SparseBatch):
        return _merged(a, b, sign) if a.batch == b.batch else NotImplemented
    if isinstance(a, SparseBatch) and _is_dense_batch(b, a):
        return _into_dense(a, b, 1, sign)
    if isinstance(b, SparseBatch) and _is_dense_batch(a, b):
        return _into_dense(b, a, sign, 1)
    return NotImplemented


def _is_dense_batch(d, t: SparseBatch) -> bool:
    return isinstance(d, np.ndarray) and d.ndim == t.ndim and d.shape[0] in (1, t.batch)


def _into_dense(t: SparseBatch, d: np.ndarray, t_sign: int, d_sign: int):
    """``t_sign * t + d_sign * d`` for a dense batched ``d``: one dense array, written once."""
    if t.pattern:
        return NotImplemented
    shape = np.broadcast_shapes(t.shape, d.shape)
    if shape[0] != t.batch:
        return NotImplemented
    out = np.array(np.broadcast_to(d if d_sign > 0 else -d, shape), dtype=np.result_type(d, t.dtype), order="C")
    col, val = _expanded(t, shape[1:])
    flat = out.reshape(shape[0], -1)
    for k in range(col.shape[0]):
        c = col[k].reshape(-1)
        where = np.flatnonzero(c >= 0)
        flat[c[where], where] += val[k].reshape(-1)[where] * t_sign
    return out


def _into_dense_shapes(args: tuple, shape: tuple) -> bool:
    """In a dry run: would the pass add this sparse batch into a copy of this dense one (:func:`_into_dense`),
    holding the result and one slot's gathered entries (``_dry_dense`` counts those, not the sparse batch made
    dense: session 56, ``x * sum(x)``'s reverse pass predicted 1.5 times what it held)?"""
    if len(args) != 2:
        return False
    a, b = args
    t, d = (a, b) if type(a) is SparseBatch else (b, a)
    return (type(t) is SparseBatch and type(d) is ShapeOnly and d.ndim == t.ndim and d.shape[0] in (1, t.batch)
            and tuple(shape)[:1] == (t.batch,))


def _merged(a: SparseBatch, b: SparseBatch, sign: int):
    """``a + sign * b``: slot by slot where they share columns, else side by side (K grows)."""
    sa, sb = a.shape[1:], b.shape[1:]
    s = sa if sa == sb else np.broadcast_shapes(sa, sb)
    ca, va = _expanded(a, s)
    cb, vb = _expanded(b, s)
    pattern = a.pattern or b.pattern
    # 0: one pattern; 1: slot by slot, sharing columns; 2: side by side (K grows); 3: dense
    same = ca is cb or (ca.shape == cb.shape and np.array_equal(ca, cb))  # the common case: x * x, sin(x) * x
    shared = same or (ca.shape[0] == cb.shape[0] and bool(np.all((ca == cb) | (ca < 0) | (cb < 0))))
    k = ca.shape[0] + cb.shape[0]
    own = 0 if same else 1 if shared else 3 if k > K_MAX or k >= a.batch else 2
    branch = _branch("merged", own, (0, 1, 2, 3) if same else (1, 2, 3) if shared else (2, 3))
    if branch == 0:
        return a.with_(ca, None if pattern else (va + vb if sign > 0 else va - vb))  # empty slots' values are unread
    if branch == 1:
        col = np.where(ca >= 0, ca, cb)
        val = None if pattern else np.where(ca >= 0, va, 0) + sign * np.where(cb >= 0, vb, 0)
        return a.with_(col, val)
    if branch == 3:
        return NotImplemented
    col = np.concatenate([ca, cb])
    return a.with_(col, None if pattern else np.concatenate([va, sign * vb]))


def reshape_rule(a, shape):
    if not isinstance(a, SparseBatch) or shape[0] != a.batch:
        return NotImplemented
    new = (a.k,) + tuple(shape[1:])
    return a.with_(a.col.reshape(new), None if a.pattern else a.val.reshape(new))


def transpose_rule(a, axes):
    if not isinstance(a, SparseBatch) or axes[0] != 0:
        return NotImplemented  # the K axis of col stands where the batch axis is
    return a.with_(a.col.transpose(axes), None if a.pattern else a.val.transpose(axes))


def getitem_rule(a, index):
    if not isinstance(a, SparseBatch) or index[:1] != (slice(None),):
        return NotImplemented
    return a.with_(a.col[index], None if a.pattern else a.val[index])


def broadcast_to_rule(a, shape):
    if not isinstance(a, SparseBatch) or shape[0] != a.batch:
        return NotImplemented
    col, val = _expanded(a, tuple(shape[1:]))
    return a.with_(col, val)


def scatter_rule(a, index, shape):
    """Zeros of ``shape`` with ``a`` added at ``index``. Entries that land on one element
    take separate slots (an index list that repeats an element gives it K = 2)."""
    if not isinstance(a, SparseBatch) or index[:1] != (slice(None),) or shape[0] != a.batch:
        return NotImplemented
    if a.k == 1:
        lean = _scatter_basic(a, index, shape)
        if lean is not None:  # sparse (branch 0), as the general way below keeps one slot's distinct positions
            return lean if _branch("scatter", 0, (0, 1)) == 0 else NotImplemented
    target = np.arange(_size(shape[1:])).reshape(shape[1:])[index[1:]]  # where each element of a lands
    where = np.broadcast_to(target, a.shape[1:]).reshape(1, -1).repeat(a.k, axis=0)
    col, valid = a.col.reshape(a.k, -1), a.col.reshape(a.k, -1) >= 0
    pos, cols = where[valid], col[valid]
    slot = _occurrence(pos)
    k = int(slot.max(initial=0)) + 1
    if _branch("scatter", 1 if k > K_MAX or k >= a.batch > 1 else 0, (0, 1)) == 1:
        return NotImplemented
    out_col = np.full((k, _size(shape[1:])), -1, dtype=np.intp)
    out_col[slot, pos] = cols
    out_val = None
    if not a.pattern:
        out_val = np.zeros(out_col.shape, dtype=a.dtype)
        out_val[slot, pos] = a.val.reshape(a.k, -1)[valid]
    new = (k,) + tuple(shape[1:])
    return a.with_(out_col.reshape(new), None if a.pattern else out_val.reshape(new))


def _scatter_basic(a, index: tuple, shape: tuple):
    """:func:`scatter_rule` of a batch of one slot at a basic index (slices and integers, as ``x[1:-1]``'s
    derivative scatters): its positions are distinct, so every slot :func:`_occurrence` gives is 0 and the
    result is the slot written through the index into -1s (a -1 written is a -1 left) and its values into
    zeros where every element is stored (else None: the general way, which leaves +0 where none is). No
    index arrays: a slice of a long vector made ~10 arrays of its size, in a dry run's patterns too."""
    for i in index[1:]:
        if type(i) is not slice and type(i) is not int:
            return None
    inner = tuple(shape[1:])
    out_col = np.full((1,) + inner, -1, dtype=np.intp)
    # one index tuple with the slot's 0 in it: out_col[0] of a 0-d inner shape is a NumPy scalar, a copy, and
    # writing through it left every -1 (x[()] of a 0-d x had a zero Jacobian; session 37)
    into = out_col[(0,) + index[1:] + (Ellipsis,)]  # a view, 0-d too
    if into.shape != a.shape[1:]:
        return None
    out_val = None
    if not a.pattern:
        if not bool((a.col >= 0).all()):
            return None
        out_val = np.zeros(out_col.shape, dtype=a.dtype)
        out_val[(0,) + index[1:] + (Ellipsis,)] = a.val[0]
    into[...] = a.col[0]
    return a.with_(out_col, out_val)


def _occurrence(pos: np.ndarray) -> np.ndarray:
    """For each entry, how many earlier entries have the same value (0, 1, ...)."""
    if pos.size == 0:
        return pos
    order = np.argsort(pos, kind="stable")
    sorted_pos = pos[order]
    start = np.flatnonzero(np.concatenate([[True], sorted_pos[1:] != sorted_pos[:-1]]))
    counts = np.diff(np.append(start, pos.size))
    rank = np.arange(pos.size) - np.repeat(start, counts)
    out = np.empty_like(rank)
    out[order] = rank
    return out


def sum_rule(a, axes, keepdims=False):
    if not isinstance(a, SparseBatch) or 0 in axes:
        return NotImplemented
    return _reduced(a, tuple(ax - 1 for ax in axes), keepdims)


def mean_rule(a, axes, keepdims=False):
    out = sum_rule(a, axes, keepdims)
    if out is NotImplemented:
        return out
    count = float(_size([a.shape[ax] for ax in axes]))
    if isinstance(out, SparseBatch):
        return _scaled(out, count, np.true_divide)
    return out / count if isinstance(out, np.ndarray) else _dry_dense_shape(out.shape, out.dtype)


def sum_to_rule(a, shape):
    if not isinstance(a, SparseBatch) or len(shape) != a.ndim:
        return NotImplemented
    axes = tuple(i for i, (d, s) in enumerate(zip(a.shape[1:], shape[1:])) if s == 1 and d != 1)
    return _reduced(a, axes, True) if axes else a


REDUCED_BYTES = 2 * 8 + 2  # per stored entry, _reduced's copies of col and val and its two masks (session 40)
DENSE_REDUCED_BYTES = 4 * 8  # and its dense branch's rows, positions, flat indices and values


def _reduced(t: SparseBatch, axes: tuple, keepdims: bool):
    """Sum over element axes ``axes``: sparse when each group holds one column, else dense."""
    s = t.shape[1:]
    kept = tuple(1 if i in axes else d for i, d in enumerate(s)) if keepdims else \
        tuple(d for i, d in enumerate(s) if i not in axes)
    rest = [i + 1 for i in range(len(s)) if i not in axes]
    order = [0] + rest + [ax + 1 for ax in axes]
    groups, width = _size([s[i - 1] for i in rest]), _size([s[ax] for ax in axes])
    col = t.col.transpose(order).reshape(t.k, groups, width).transpose(1, 0, 2).reshape(groups, t.k * width)
    val = None if t.pattern else \
        t.val.transpose(order).reshape(t.k, groups, width).transpose(1, 0, 2).reshape(groups, t.k * width)
    valid = col >= 0
    top = col.max(axis=1, initial=-1)
    ledger = _LEDGER.get() if t.pattern else None
    if ledger is not None:  # a dry run: the copies of col and val made above and the masks, per stored entry
        ledger.transient(t.k * _size(s) * REDUCED_BYTES)
    one = bool(np.all((col == top[:, None]) | ~valid))
    if _branch("reduced", 0 if one else 1, (0, 1) if one else (1,)) == 0:
        vals = None if t.pattern else np.where(valid, val, 0).sum(axis=1, dtype=t.dtype)
        return t.with_(top.reshape((1,) + kept), None if t.pattern else vals.reshape((1,) + kept))
    if t.pattern:  # the dense branch below: col[valid], the rows, their flat positions and val[valid] besides
        if ledger is not None:
            ledger.transient(t.k * _size(s) * (REDUCED_BYTES + DENSE_REDUCED_BYTES) + t.batch * groups * 8)
        return _dry_dense_shape((t.batch,) + kept, t.dtype)
    rows, where = col[valid], np.nonzero(valid)[0]
    out = np.bincount(rows * groups + where, weights=val[valid], minlength=t.batch * groups)
    return out.astype(t.dtype, copy=False).reshape((t.batch,) + kept)


def _dry_dense_shape(shape: tuple, dtype) -> ShapeOnly:
    ledger = _LEDGER.get()
    if ledger is not None:
        ledger.work += _size(shape)
    return ShapeOnly(shape, dtype)


def matmul_rule(a, b):
    """A sparse batch times a constant matrix, or the reverse. Sparse when every row (or
    column) that is summed over holds one batch index; else a gather into a dense result."""
    t, c = _split(a, b)
    if t is None or t.ndim != 3 or _ndim(c) != 2:
        return NotImplemented
    c = np.asarray(c)
    one = _one_col(t.col[0], axis=0 if t is b else 1) if t.k == 1 else None
    if _branch("matmul", 0 if one is not None else 1, (0, 1) if one is not None else (1,)) == 0:
        return _matmul_kept_sparse(t, c, one, left=t is b)
    return _matmul_const_left(c, t) if t is b else _matmul_const_right(t, c)


def _one_col(col: np.ndarray, axis: int):
    """The one batch index of each line of ``col`` along ``axis`` (the axis a matmul sums), or None."""
    top = col.max(axis=axis, initial=-1)
    same = (col == (top[None] if axis == 0 else top[:, None])) | (col < 0)  # col is 2-d: top put back on its axis
    return top if bool(same.all()) else None


def _matmul_kept_sparse(t: SparseBatch, c: np.ndarray, one: np.ndarray, left: bool) -> SparseBatch:
    """``C @ T`` (left) or ``T @ C`` when each summed line of T holds one batch index: the
    result keeps it, and its values are the product of the values (empty slots as 0)."""
    r = c.shape[0] if left else t.shape[1]
    p = t.shape[2] if left else c.shape[1]
    col = np.broadcast_to(one[None, :] if left else one[:, None], (r, p))[None]
    if t.pattern:  # the real rule's v (T's values, empty slots as 0) and its mask, while the product is made
        out = t.with_(col, None)
        _LEDGER.get().transient(_size(t.col.shape[1:]) * (t.dtype.itemsize + 1))
        return out
    v = np.where(t.col[0] >= 0, t.val[0], 0)
    return t.with_(col, (c @ v if left else v @ c)[None])


def _matmul_const_left(c: np.ndarray, t: SparseBatch):
    """``C @ T``: C (r, k), T (B, k, p). Column j, q of T sends ``val · C[:, j]`` to ``out[col, :, q]``."""
    r, p = c.shape[0], t.shape[2]
    if t.pattern:
        return _dry_placed((t.batch, r, p), t, r, p)
    out = None
    for _, where, cols, vals in t.entries():
        j, q = np.divmod(where, p)
        part = _rows_scaled(c.T, j, vals)  # (nnz, r): val · (row j of Cᵀ) per entry
        out = _place(out, part, cols, q, (t.batch, r, p), rows_axis=1, source=c)
    return out


def _matmul_const_right(t: SparseBatch, c: np.ndarray):
    """``T @ C``: T (B, r, k), C (k, p). Entry i, j of T sends ``val · C[j, :]`` to ``out[col, i, :]``."""
    r, p = t.shape[1], c.shape[1]
    if t.pattern:
        return _dry_placed((t.batch, r, p), t, p, r)
    out = None
    for _, where, cols, vals in t.entries():
        i, j = np.divmod(where, t.shape[2])
        part = _rows_scaled(c, j, vals)  # (nnz, p): val · (row j of C) per entry
        out = _place(out, part, cols, i, (t.batch, r, p), rows_axis=2, source=c)
    return out


# bytes per stored entry of T that one slot of _matmul_const_left / _right holds besides its gathered vectors:
# entries()' positions, columns and values, divmod's two index arrays, _place's keys and _distinct's sort of them
PLACED_ENTRY_BYTES = 8 * 8


def _dry_placed(shape: tuple, t: SparseBatch, length: int, other: int) -> ShapeOnly:
    """A dry run's dense result of :func:`_matmul_const_left` / :func:`_matmul_const_right` (gathered vectors of
    ``length`` elements per stored entry of ``t``, placed at ``other`` positions per batch row), with what the
    real rule holds beside it while one slot runs: the slot's gathered vectors ``part`` and the gather
    ``out[key] += part`` makes of them (each nnz · length), its index arrays, and the mask of T's elements
    (session 41: ``svd(A)[1]``'s reverse pass held 3 arrays of the result's size where the dry run counted one).
    Where the one slot's vectors fill every batch row once (:func:`_place`'s first branch) they are the result:
    only a reordering copies them."""
    out = _dry_dense_shape(shape, t.dtype)
    ledger = _LEDGER.get()
    if ledger is not None:
        item, mask = t.dtype.itemsize, _size(t.col.shape[1:])
        if t.k == 1 and other == 1:
            cols = t.col[0].reshape(-1)
            cols = cols[cols >= 0]
            if _is_permutation(cols, t.batch):
                ledger.transient(mask + cols.size * (PLACED_ENTRY_BYTES + (0 if _is_identity(cols) else length * item)))
                return out
        nnz = max((int(np.count_nonzero(t.col[k] >= 0)) for k in range(t.k)), default=0)
        ledger.transient(nnz * (2 * length * item + PLACED_ENTRY_BYTES) + mask)
    return out


def _rows_scaled(m: np.ndarray, rows: np.ndarray, vals: np.ndarray) -> np.ndarray:
    """``m[rows] * vals[:, None]``, without a copy when that is ``m`` itself (an identity
    seed through ``A @ x`` gives ``A``, not a copy of it)."""
    if m.dtype.kind not in "fc":  # an integer constant (argsort(A) @ B): NumPy's promotion, as the dense pass's
        return m[rows] * vals[:, None]  # matmul makes it, never an in-place cast of floats into integers
    if _is_identity(rows) and rows.size == m.shape[0]:
        return m if bool(np.all(vals == 1)) else m * vals[:, None]
    part = m[rows]
    part *= vals[:, None]
    return part


def _place(out, part, cols, other, shape, rows_axis, source):
    """Add gathered vectors ``part`` (nnz, L) at ``out[cols, :, other]`` (rows_axis=1) or
    ``out[cols, other, :]`` (rows_axis=2), allocating ``out`` on first use. A first ``part`` that fills every
    batch row is the result itself, and may be ``source`` (the constant matrix, an input's values: an identity
    seed gives its rows uncopied, :func:`_rows_scaled`); a later slot's addition copies it first, never writing
    into ``source``."""
    b, n_other = shape[0], shape[3 - rows_axis]
    if out is None and n_other == 1 and part.shape[0] == b and _is_permutation(cols, b):
        if not _is_identity(cols):
            part = part[np.argsort(cols)]
        return part.reshape(shape)  # every batch row filled once: the gathered rows are the result
    if out is None:
        out = np.zeros(shape, dtype=part.dtype)
    elif np.may_share_memory(out, source):  # the first slot's rows of source, uncopied: ((y - y.flip(0)) @ y)
        out = out.copy()
    key = (cols, slice(None), other) if rows_axis == 1 else (cols, other, slice(None))
    if _distinct(cols * n_other + other, b * n_other):
        out[key] += part
    else:
        np.add.at(out, key, part)
    return out


def _is_permutation(cols: np.ndarray, b: int) -> bool:
    return cols.size == b and _distinct(cols, b)


def _is_identity(cols: np.ndarray) -> bool:
    return bool(np.all(cols == np.arange(cols.size)))


def _distinct(keys: np.ndarray, bound: int) -> bool:
    """Are ``keys`` (non-negative, below ``bound``) all different? By a count of each key while ``bound`` is at
    most a few times the keys (bound · 8 bytes), else by sorting them (keys · 9 bytes): ``A @ x``'s forward pass
    counted B · 60 keys for 3,600 entries, as large as the pass's result and uncounted by its dry run."""
    if keys.size < 2:
        return True
    if bound <= 4 * keys.size:
        return int(np.bincount(keys, minlength=bound).max()) <= 1
    ordered = np.sort(keys, axis=None)
    return not bool((ordered[1:] == ordered[:-1]).any())


def softmax_vjp_rule(g, s, axis, basis=False):
    """softmax's rule ``s * (g - <g, s>)`` on a sparse ``g`` with one slot (a basis), 1-d ``s``:
    the dense result written once, ``-<g, s>_b s_i`` everywhere and ``s_i (g - <g, s>_b)`` at
    the entries, as the rule's ops would write it step by step (the same products, the same bits).
    ``NotImplemented`` otherwise (the op's block then runs the rule's ops, each kept sparse
    where it can be)."""
    if not isinstance(g, SparseBatch) or is_batch(s) or np.ndim(s) != 1 or g.ndim != 2 or g.k != 1 or basis:
        return NotImplemented
    if g.pattern:
        return _dry_dense_shape(g.shape, g.dtype)
    s = np.asarray(s)
    col, val = g.col[0], g.val[0]
    if constant_slices(g, 1):  # one row holds one finite nonzero number everywhere: zeros, as the op's impl
        val = np.zeros_like(val)
    where = np.flatnonzero(col >= 0)
    rows = col[where]
    inner = np.bincount(rows, weights=val[where] * s[where], minlength=g.batch).astype(g.dtype, copy=False)
    out = outer_product(-inner, s)
    out[rows, where] = s[where] * (-inner[rows] + val[where])
    return out


def constant_slices_zeroed(g: "SparseBatch", axis: int):
    """``g`` (one slot) with the entries of each slice that :func:`constant_slices` finds set to +0: the sparse
    batch ``g - ops._softmax_common(g)`` stands for, its pattern kept (a dry run's pattern as it is, as the values
    decide and a zero entry costs what a nonzero one does). ``NotImplemented`` for more slots."""
    if g.k != 1:
        return NotImplemented
    if g.pattern or not constant_slices(g, axis):
        return g
    col, val = g.col, g.val
    low = np.minimum.reduce(col, axis=axis, keepdims=True)
    top = np.maximum.reduce(val, axis=axis, keepdims=True)
    same = (np.maximum.reduce(col, axis=axis, keepdims=True) == low) & (low >= 0) \
        & (top == np.minimum.reduce(val, axis=axis, keepdims=True)) & np.isfinite(top) & (top != 0)
    return g.with_(col, np.where(same, np.zeros_like(val), val))


def constant_slices(g: "SparseBatch", axis: int) -> bool:
    """May a slice of the dense ``g`` along ``axis`` (``g``'s own axes, the batch's first) hold one finite
    nonzero number in each of its elements, the slices softmax's rule counts as zeros (``ops._softmax_common``)?
    Exactly, for one slot (``k`` = 1): one batch row at every element of the slice, one value; at an axis of
    one element every nonzero counts (the rule gives +0 there either way); with more slots, True (the caller
    then works densely)."""
    if g.k != 1:
        return True
    if g.pattern:
        return False  # a dry run: the values decide, and the dense result is counted by the rule's ops
    col, val = g.col, g.val
    if col.size == 0:
        return False
    low = np.minimum.reduce(col, axis=axis)
    same = (np.maximum.reduce(col, axis=axis) == low) & (low >= 0)
    if not same.any():
        return False
    top = np.maximum.reduce(val, axis=axis)
    same &= (top == np.minimum.reduce(val, axis=axis)) & np.isfinite(top) & (top != 0)
    return bool(same.any())


# ``np.multiply.outer(a, b)`` of two vectors of n elements runs through NumPy's buffered
# iterator, which (NumPy 2.x) joins rows into one core as long as its buffer (8192 elements by
# default) and, as their strides do not join, copies a, b and the result through the buffer:
# 5.2 M instructions at n = 1000 (valgrind) against 1.9 M with a buffer of 16, where each row is
# one call of the loop on the arrays themselves. The products are the same IEEE products either
# way; only which of two NaN operands an SSE/AVX multiply passes on may follow the loop taken, so
# every pass that forms an outer product calls this one function (the interpreter's structured
# rule and the kernels' basis branch of softmax_vjp), and their bits agree by construction.
try:
    from numpy._core._ufunc_config import _extobj_contextvar as _EXTOBJ, _make_extobj
except ImportError:  # pragma: no cover - other NumPy versions: the default buffer
    _EXTOBJ = _make_extobj = None


def outer_product(a, b):
    """``np.multiply.outer(a, b)`` for vectors ``a`` and ``b``, with NumPy's iteration buffer at
    16 elements for this one call (the error state as it is; per thread and context, as
    ``np.errstate``); see the comment above. Where NumPy's private API is missing or not as
    expected (a future NumPy), the plain ``np.multiply.outer``: the same products."""
    try:
        token = _EXTOBJ.set(_make_extobj(bufsize=16))
    except (AttributeError, TypeError, ValueError):  # None (ImportError) or another signature
        return np.multiply.outer(a, b)
    try:
        return np.multiply.outer(a, b)
    except (AttributeError, TypeError, ValueError, SystemError):  # an extobj this NumPy does not read
        pass
    finally:
        _EXTOBJ.reset(token)
    return np.multiply.outer(a, b)  # with the error state as the caller set it


def _size(shape) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


# --- PART reductions: gathers and scatters by an index array (sort, topk, max along a dim) ----
# Which element a selection picks depends on the values, but a pattern must not (plans and
# kernels are kept per shapes): the pattern is every element the index could pick (each
# column of the line), and the values are 0 except at the one picked. A line whose columns
# are all one column (a broadcast cotangent) keeps that one column.

def _along(idx, ndim: int) -> np.ndarray:
    idx = np.asarray(idx)
    idx = idx.astype(np.intp) if idx.dtype.kind == "f" else idx
    return idx.reshape((1,) * (ndim - idx.ndim) + idx.shape)


def _one_column_along(col: np.ndarray, axis: int) -> bool:
    return col.shape[axis] > 0 and bool(np.all(col == np.take(col, [0], axis=axis)))


def take_along_rule(a, idx, axis):
    """``take_along(a, idx, axis)`` of a sparse batch (axis counted with the batch axis,
    which is K's place in ``col``)."""
    if not isinstance(a, SparseBatch) or np.ndim(idx) != a.ndim - 1 or isinstance(idx, (SparseBatch, ShapeOnly)):
        return NotImplemented
    idx = _along(idx, a.ndim)
    out = np.broadcast_shapes(tuple(1 if i == axis else d for i, d in enumerate(a.col.shape)),
                              tuple(1 if i == axis else d for i, d in enumerate(idx.shape)))
    out = out[:axis] + (idx.shape[axis],) + out[axis + 1:]
    out = (a.k,) + out[1:]
    n = a.col.shape[axis]
    one = _one_column_along(a.col, axis)
    branch = _branch("take_along", 0 if one else 2 if n == 0 or a.k * n > K_MAX or a.k * n >= a.batch else 1,
                     (0, 1, 2) if one else (1, 2) if n else (2,))
    if branch == 0:
        col = np.broadcast_to(np.take(a.col, [0], axis=axis), out)
        val = None if a.pattern else np.take_along_axis(a.val, np.broadcast_to(idx, (1,) + out[1:]), axis=axis)
        return a.with_(col, val)
    if branch == 2:
        return NotImplemented
    cols = [np.broadcast_to(np.take(a.col, [line], axis=axis), out) for line in range(n)]
    vals = None if a.pattern else [np.broadcast_to(np.take(a.val, [line], axis=axis), out) * (idx == line)
                                   for line in range(n)]
    return a.with_(np.concatenate(cols), None if a.pattern else np.concatenate(vals))


def put_along_rule(g, idx, axis, shape):
    """``put_along(g, idx, axis, shape)``: zeros of ``shape`` with ``g`` added where ``idx``
    points along ``axis``, for a sparse batch ``g``."""
    if not isinstance(g, SparseBatch) or np.ndim(idx) != g.ndim - 1 or shape[0] != g.batch \
            or isinstance(idx, (SparseBatch, ShapeOnly)):
        return NotImplemented
    idx = _along(idx, g.ndim)
    out = (g.k,) + tuple(shape[1:])
    n = shape[axis]
    lines = np.arange(n).reshape((1,) * axis + (n,) + (1,) * (len(shape) - axis - 1))
    m = g.col.shape[axis]
    one = _one_column_along(g.col, axis)
    branch = _branch("put_along", 0 if one else 2 if m == 0 or g.k * m > K_MAX or g.k * m >= g.batch else 1,
                     (0, 1, 2) if one else (1, 2) if m else (2,))
    if branch == 0:
        col = np.broadcast_to(np.take(g.col, [0], axis=axis), out)
        if g.pattern:
            return g.with_(col, None)
        val = np.zeros(out, dtype=g.dtype)
        for j in range(g.col.shape[axis]):
            val = val + np.take(g.val, [j], axis=axis) * (np.take(idx, [j], axis=axis) == lines)
        return g.with_(col, val)
    if branch == 2:
        return NotImplemented
    cols = [np.broadcast_to(np.take(g.col, [j], axis=axis), out) for j in range(m)]
    vals = None if g.pattern else [np.broadcast_to(np.take(g.val, [j], axis=axis) * (np.take(idx, [j], axis=axis) == lines), out)
                                   for j in range(m)]
    return g.with_(np.concatenate(cols), None if g.pattern else np.concatenate(vals))
