"""The Jacobian as a value of its own type.

A :class:`Jacobian` is dy/dx for one input. Its array layout is ``y.shape + x.shape``
(as ``torch.autograd.functional.jacobian`` and ``jax.jacrev`` return it); its numerator
layout follows the derivative-shape table (``math_shape``). Commands ask it for what
they print, so a structured Jacobian stands in for a dense one: a
:class:`SparseJacobian` keeps only its nonzeros (``structure`` is ``"diagonal"``,
``"sparse"`` or ``"zero"``) and is made dense only when ``to_array`` is called.

>>> import numpy as np
>>> J = Jacobian("x", (2,), (2,), np.diag([4.0, 6.0]))
>>> J.math_shape, J.legend()
((2, 2), 'J[i, j] = ∂y[i] / ∂x[j]')
>>> D = SparseJacobian("x", (2,), (2,), [0, 1], [0, 1], [4.0, 6.0])
>>> D.structure, D.nnz, D.to_array().tolist()
('diagonal', 2, [[4.0, 0.0], [0.0, 6.0]])
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..ir.shapes import kind, legend, math_layout, math_shape
from ..ir.structured import ShapeOnly, SparseBatch, account, ledger_now

INDEX_BYTES = 8  # one stored index of a sparse Jacobian (row or column)
# Python's objects of one listed part (JacobianBuilder.triplets: a tuple, three arrays' headers and the list's slot),
# beside its entries' bytes: 470-534 measured (session 57), which a pass of one basis vector at a time pays per pass
TRIPLET_OBJECTS = 544
# A Jacobian is "sparse" when its pattern has structural zeros, whatever its size: the label says what
# the derivative is, so x[1:3] is sparse at n = 3 as at n = 2000 (it once went dense below nnz = size / 3,
# a storage choice that changed the printed structure with n). Only a pattern without a zero is dense.


class Jacobian:
    """dy/dx for input ``name``: ``y_shape + x_shape`` in the array layout, stored dense.

    ``array`` may be ``None`` for a Jacobian known only by its shape (a plan's dry run).
    """

    structure = "dense"

    def __init__(self, name: str, y_shape: tuple, x_shape: tuple, array, dtype=None):
        self.name = name
        self.y_shape = tuple(y_shape)
        self.x_shape = tuple(x_shape)
        self._array = None if array is None else np.asarray(array).reshape(self.shape)
        self.dtype = np.dtype(dtype if dtype is not None else getattr(self._array, "dtype", np.float64))

    @property
    def shape(self) -> tuple:
        return self.y_shape + self.x_shape

    @property
    def math_shape(self) -> tuple:
        return math_shape(self.y_shape, self.x_shape)

    @property
    def cell(self) -> str:
        """The row and column of the shape table: ``"vector by matrix"``."""
        return f"{kind(self.y_shape)} by {kind(self.x_shape)}"

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def nnz(self) -> int:
        """Stored values: every element for a dense Jacobian."""
        return self.size

    @property
    def nbytes(self) -> int:
        """Bytes this Jacobian keeps in memory."""
        return self.size * self.dtype.itemsize

    @property
    def dense_nbytes(self) -> int:
        """Bytes of its dense array (what ``to_array`` allocates when it is not dense)."""
        return self.size * self.dtype.itemsize

    def describe(self) -> str:
        """The structure as printed: ``dense``, ``diagonal``, ``sparse (3 stored entries)``, ``zero``; a
        sparse Jacobian stores its pattern's entries, some of which may be zero (``x.max(1)``)."""
        return f"sparse ({self.nnz:,} stored entries)" if self.structure == "sparse" else self.structure

    def to_array(self, layout: str = "array") -> np.ndarray:
        """The dense values, in the ``array`` layout or the ``numerator`` layout of the table."""
        return self._in_layout(self._array, layout)

    def _in_layout(self, array: np.ndarray, layout: str) -> np.ndarray:
        if layout == "array":
            return array
        axes, expand = math_layout(len(self.y_shape), len(self.x_shape))
        out = np.transpose(array, axes)
        return np.expand_dims(out, expand) if expand is not None else out

    def __array__(self, dtype=None, copy=None):
        array = self.to_array()
        return array if dtype is None else array.astype(dtype, copy=False)

    def layout_shape(self, layout: str = "array") -> tuple:
        return self.shape if layout == "array" else self.math_shape

    def legend(self, layout: str = "array", of: str = "y") -> str:
        return legend(self.name, self.y_shape, self.x_shape, layout, of)

    def __repr__(self) -> str:
        return f"Jacobian(d y/d {self.name}, shape={self.shape}, {self.describe()})"


class SparseJacobian(Jacobian):
    """dy/dx kept as its nonzeros: ``values[k]`` at flat index ``rows[k]`` of y and
    ``cols[k]`` of x. Entries are sorted by (row, column), repeated ones summed.

    ``structure`` is ``"diagonal"`` (y and x of one shape, every entry on the diagonal),
    ``"zero"`` (no entries) or ``"sparse"``. ``values`` may be ``None`` (a plan's dry run);
    ``coalesced=True`` says the entries are sorted and distinct already.
    """

    def __init__(self, name: str, y_shape: tuple, x_shape: tuple, rows, cols, values, dtype=None,
                 coalesced: bool = False):
        super().__init__(name, y_shape, x_shape, None, dtype if dtype is not None else
                         getattr(values, "dtype", np.float64))
        rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
        values = None if values is None else np.asarray(values, self.dtype)
        self.rows, self.cols, self.values = (rows, cols, values) if coalesced else \
            _coalesce(rows, cols, values, self._n)

    @property
    def _n(self) -> int:
        return math.prod(self.x_shape)

    @functools.cached_property  # the entries are set once, in __init__
    def structure(self) -> str:
        if self.rows.size == 0:
            return "zero"
        rows, cols = self.rows, self.cols  # int64 vectors: np.array_equal's answer, without its dispatch
        same = self.y_shape == self.x_shape and rows.shape == cols.shape and bool((rows == cols).all())
        return "diagonal" if same else "sparse"

    @property
    def nnz(self) -> int:
        return int(self.rows.size)

    @property
    def nbytes(self) -> int:
        return self.nnz * (2 * INDEX_BYTES + self.dtype.itemsize)

    def to_array(self, layout: str = "array") -> np.ndarray:
        flat = np.zeros(self.size, dtype=self.dtype)
        flat[self.rows * self._n + self.cols] = self.values
        return self._in_layout(flat.reshape(self.shape), layout)

    def diagonal(self) -> np.ndarray:
        """The diagonal, shaped like x (for any structure; zeros where nothing is stored)."""
        out = np.zeros(self._n, dtype=self.dtype)
        on = self.rows == self.cols
        out[self.cols[on]] = self.values[on]
        return out.reshape(self.x_shape)

    def coo(self, layout: str = "array") -> tuple:
        """``(indices, values)``: ``indices`` is (ndim, nnz), one row per axis of the layout
        (as ``torch.sparse_coo_tensor`` takes them), so ``J[tuple(indices)] = values``."""
        y_idx = np.unravel_index(self.rows, self.y_shape) if self.y_shape else ()
        x_idx = np.unravel_index(self.cols, self.x_shape) if self.x_shape else ()
        ndim = len(self.y_shape) + len(self.x_shape)
        indices = np.array(list(y_idx) + list(x_idx), dtype=np.int64).reshape(ndim, self.nnz)
        if layout != "array":
            axes, expand = math_layout(len(self.y_shape), len(self.x_shape))
            indices = indices[list(axes)]
            if expand is not None:
                indices = np.insert(indices, expand, 0, axis=0)
        return indices, self.values

    def matrix(self) -> tuple:
        """``(rows, cols, values, (y.size, x.size))``: the 2-d matrix dvec(y)/dvec(x) in COO form."""
        return self.rows, self.cols, self.values, (math.prod(self.y_shape), self._n)


def finish_bytes(itemsize: int, in_order: bool = False) -> int:
    """Bytes per listed entry that :meth:`JacobianBuilder.finish` holds beside the listed triplets (session 41: a
    forward ``np.outer(x, y)`` held 33 a stored entry past what its dry run counted): the concatenated copy of
    rows, columns and values, and :func:`_coalesce`'s keys and their comparison; where the entries are not
    ``in_order`` already, also its order, the sorted keys, the group starts, the sorted and summed values. The keys
    ``rows * n + cols`` are two arrays while the sum is made (session 57: ``np.outer(x, y)`` forward at n = 100 held
    7 bytes an entry more than counted, 8 % past its budget; NumPy reuses the product in place only past 256 KiB)."""
    held = 2 * INDEX_BYTES + itemsize + 2 * INDEX_BYTES + 1
    return held if in_order else held + 4 * INDEX_BYTES + 2 * itemsize + 1


def _coalesce(rows: np.ndarray, cols: np.ndarray, values, n: int) -> tuple:
    """Sort entries by (row, column) and sum repeated ones."""
    key = rows * n + cols
    if key.size < 2 or bool(np.all(key[1:] > key[:-1])):
        return rows, cols, values
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
    if values is not None:
        values = np.add.reduceat(values[order], starts) if key.size else values
    key = key[starts]
    return key // n, key % n, values


class JacobianBuilder:
    """One input's Jacobian, from the parts that passes over chunks of a basis return.

    A forward part is ``(batch, *y.shape)``: columns ``start, start + 1, ...``; a reverse
    part is ``(batch, *x.shape)``: rows. Sparse parts stay sparse until a dense part
    arrives; a dense part that is the whole Jacobian is kept as it is (no copy).
    Parts from a plan's dry run (pattern-only or :class:`ShapeOnly`) give a Jacobian
    without values, whose structure and size are those the real pass will have.
    """

    def __init__(self, name: str, y_shape: tuple, x_shape: tuple, mode: str, dtype):
        self.name, self.y_shape, self.x_shape, self.mode = name, tuple(y_shape), tuple(x_shape), mode
        self.dtype = np.dtype(dtype)
        self.m = math.prod(self.y_shape)
        self.n = math.prod(self.x_shape)
        self.basis = self.n if mode == "forward" else self.m
        self.triplets: list = []
        self.dense = None
        self.counted: list | None = []  # a dry run's pattern parts ``(col, start)``, until listed (see finish)
        self.listed = 0  # a dry run's entries as listed, repeats included: what finish() concatenates
        self.slots = 0  # a dry run's parts as listed (a triplet each, TRIPLET_OBJECTS of Python's objects)

    def _add_counted(self, part: SparseBatch, start: int) -> None:
        """A dry run's pattern part, kept as its ``col`` (no entries listed yet: :meth:`finish` counts
        them), charged to the ledger as :meth:`_add_sparse` charges the entries it lists, with what listing a
        slot holds meanwhile (session 41): ``entries()``' copy of a broadcast ``col`` and its mask (per element)
        and the slot's columns before ``start`` is added (per entry)."""
        col = part.col
        ledger = ledger_now()
        elements = col[0].size if col.shape[0] else 0
        # a part's Python objects (its triplet), but none in a pass of no basis vectors: an empty input's few hundred
        # bytes of empty arrays are left to the margin of Python's objects, as the 7-11 KiB a chunked plan holds once
        # (planner.PASS_OBJECTS), so that an empty input computes in a budget of 1 byte (docs/commands.md)
        objects = TRIPLET_OBJECTS if part.batch else 0
        for k in range(col.shape[0]):
            entries = _count_nonzero(col[k] >= 0)
            account(entries * (2 * INDEX_BYTES + self.dtype.itemsize) + objects)
            self.slots += 1
            if ledger is not None:
                ledger.transient(elements * (INDEX_BYTES + 1) + entries * INDEX_BYTES)
            self.listed += entries
        self.counted.append((col, start))

    def _listed(self) -> None:
        """The counted parts as the triplets :meth:`_add_sparse` lists (not charged again)."""
        for col, start in self.counted or ():
            for k in range(col.shape[0]):
                flat = col[k].reshape(-1)
                where = np.flatnonzero(flat >= 0)
                self.triplets.append(self._oriented(where, flat[where], start) + (None,))
        self.counted = None

    def add(self, part, start: int) -> None:
        if isinstance(part, SparseBatch):
            self._add_sparse(part, start)
        elif isinstance(part, ShapeOnly):
            self._add_dense_shape(part, start)
        else:
            self._add_dense(np.asarray(part), start)

    def _oriented(self, where, cols, start):
        return (where, cols + start) if self.mode == "forward" else (cols + start, where)

    def _add_sparse(self, part: SparseBatch, start: int) -> None:
        if part.pattern and self.dense is None and self.counted is not None:  # a dry run's pattern: counted, not listed
            self._add_counted(part, start)
            return
        for _, where, cols, vals in part.entries():
            rows, columns = self._oriented(where, cols, start)
            if isinstance(self.dense, np.ndarray):
                np.add.at(self.dense, (rows, columns), vals)
            elif self.dense is None:
                self.triplets.append((rows, columns, vals))
                account(rows.size * (2 * INDEX_BYTES + self.dtype.itemsize))
                self.listed += rows.size

    def _add_dense(self, part: np.ndarray, start: int) -> None:
        self._listed()
        batch = part.shape[0]
        flat = part.reshape(batch, self.m if self.mode == "forward" else self.n)  # not -1: 0 elements
        if start == 0 and batch == self.basis and not self.triplets:
            self.dense = flat.T if self.mode == "forward" else flat  # the whole Jacobian: a view
            return
        if self.dense is None:
            self.dense = np.zeros((self.m, self.n), dtype=self.dtype)
            for rows, cols, vals in self.triplets:
                np.add.at(self.dense, (rows, cols), vals)
            self.triplets = []
        # written, not added: the part's rows (columns) are its basis vectors', which no other part holds, and
        # 0 + (-0) is +0: a dense chunk's -0 entries (a product's 0 · -x) kept as the one-pass plan's whole part
        # keeps them (session 54: a chunked plan gave +0 there)
        if self.mode == "forward":
            self.dense[:, start:start + batch] = flat.T
        else:
            self.dense[start:start + batch, :] = flat

    def _add_dense_shape(self, part: ShapeOnly, start: int) -> None:
        self.counted = None  # the Jacobian is dense: its pattern is no longer read
        if self.dense is not None:
            return
        whole = start == 0 and part.shape[0] == self.basis
        self.dense = ShapeOnly((self.m, self.n), self.dtype, base=part if whole else None)
        self.triplets = []

    def _counted_jacobian(self, col: np.ndarray, start: int, lean_above: int) -> "Jacobian | None":
        """:meth:`finish` of the one pattern part ``col`` without listing it: the distinct
        (element, column) pairs counted chunk by chunk, which are the entries ``_coalesce`` keeps.
        None when there are at most ``lean_above`` (a plan keeps such a pattern: list it)."""
        nnz, diagonal = _distinct_pairs(col, start)
        if nnz <= lean_above:
            return None
        if nnz >= self.m * self.n:  # every entry: dense, as finish() makes a full sparse pattern
            return Jacobian(self.name, self.y_shape, self.x_shape, None, self.dtype)
        structure = "diagonal" if diagonal and self.y_shape == self.x_shape else "sparse"
        return CountedJacobian(self.name, self.y_shape, self.x_shape, nnz, structure, self.dtype)

    def _finish_bytes(self) -> int:
        return finish_bytes(self.dtype.itemsize, self._listed_in_order())

    def _listed_in_order(self) -> bool:
        """Are a dry run's entries listed already sorted by (row, column), so that :func:`_coalesce` does not sort:
        one pattern part of one slot, forward (the positions are listed in order), or reverse with columns
        never decreasing along the positions."""
        if self.triplets or not self.counted or len(self.counted) != 1 or self.counted[0][0].shape[0] != 1:
            return not self.listed
        if self.mode == "forward":
            return True
        flat, last = self.counted[0][0][0].reshape(-1), -1  # chunk by chunk: a dry run holds a few bytes an element
        for lo in range(0, flat.size, _CHUNK):
            block = flat[lo:lo + _CHUNK]
            block = block[block >= 0]
            if block.size:
                if block[0] < last or not bool((block[1:] >= block[:-1]).all()):
                    return False
                last = int(block[-1])
        return True

    @staticmethod
    def _one_element(sparse) -> bool:
        """A one-element Jacobian (scalar by scalar) is a number, not a 1×1 diagonal."""
        return sparse.size == 1 and sparse.nnz == 1

    def finish(self, lean_above: int | None = None) -> Jacobian:
        """The Jacobian. ``lean_above``: a dry run's Jacobian of more than that many entries may be a
        :class:`CountedJacobian` (its structure, nnz and bytes, counted from the one pattern part
        without listing its entries: a dry run's memory stays below what it predicts)."""
        if self.dense is not None:
            array = None if isinstance(self.dense, ShapeOnly) else self.dense
            return Jacobian(self.name, self.y_shape, self.x_shape, array, self.dtype)
        ledger = ledger_now()
        if ledger is not None:  # a dry run: what listing the entries and _coalesce hold beside them
            ledger.transient(self.listed * self._finish_bytes())
        if lean_above is not None and self.counted and len(self.counted) == 1 and not self.triplets:
            in_order = self._listed_in_order()
            found = self._counted_jacobian(*self.counted[0], lean_above)
            if found is not None:
                if ledger is not None and found.structure == "dense":
                    ledger.transient(self._made_dense_bytes(self.m * self.n, in_order))
                return found
        in_order = ledger is not None and self._listed_in_order()
        self._listed()
        parts = self.triplets or [(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, self.dtype))]
        rows, cols = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
        vals = None if any(p[2] is None for p in parts) else np.concatenate([p[2] for p in parts])
        sparse = SparseJacobian(self.name, self.y_shape, self.x_shape, rows, cols, vals, self.dtype)
        if sparse.structure == "sparse" and sparse.nnz >= sparse.size or self._one_element(sparse):
            if ledger is not None:
                ledger.transient(self._made_dense_bytes(sparse.nnz, in_order))
            array = None if vals is None else sparse.to_array()
            return Jacobian(self.name, self.y_shape, self.x_shape, array, self.dtype)
        return sparse

    def _made_dense_bytes(self, nnz: int, in_order: bool) -> int:
        """What :meth:`finish` holds beside the listed triplets while it makes a full pattern's entries dense
        (``SparseJacobian.to_array``; session 57: ``sum(tanh(A @ x))``'s reverse pass by A held 1.27 times its
        dry run there): the concatenated entries, the coalesced ones where they were sorted, the dense array and
        the flat index ``rows * n + cols`` with its product."""
        entry = 2 * INDEX_BYTES + self.dtype.itemsize
        return (self.listed * entry + (0 if in_order else nnz * entry) + self.m * self.n * self.dtype.itemsize
                + 2 * INDEX_BYTES * nnz)


_CHUNK = 2**16  # elements per chunk when a pattern is counted
_count_nonzero = np.count_nonzero


class CountedJacobian(Jacobian):
    """A dry run's structured Jacobian known by its counts: ``structure``, ``nnz`` and ``nbytes`` as the
    :class:`SparseJacobian` of the same pattern has them, without its entries (``rows``, ``cols`` None)."""

    rows = cols = values = None

    def __init__(self, name: str, y_shape: tuple, x_shape: tuple, nnz: int, structure: str, dtype):
        super().__init__(name, y_shape, x_shape, None, dtype)
        self._nnz, self.structure = int(nnz), structure

    @property
    def nnz(self) -> int:
        return self._nnz

    @property
    def nbytes(self) -> int:
        return self._nnz * (2 * INDEX_BYTES + self.dtype.itemsize)


def _distinct_pairs(col: np.ndarray, start: int) -> tuple:
    """``(count, diagonal)`` of a pattern ``col`` ``(K, *s)`` of basis vectors from ``start``: the distinct
    (element i, column c) pairs with c >= 0 (slot k counts where no slot before it holds c), and whether
    every one has ``c + start == i``. Chunks of ``_CHUNK`` elements: a few bytes per element at a time."""
    k = col.shape[0]
    flat = col.reshape(k, -1)
    total, diagonal = 0, True
    for lo in range(0, flat.shape[1], _CHUNK):
        block = flat[:, lo:lo + _CHUNK]
        position = np.arange(lo - start, lo - start + block.shape[1], dtype=np.int64)
        for j in range(k):
            new = block[j] >= 0
            for before in range(j):
                new &= block[j] != block[before]
            total += int(_count_nonzero(new))
            if diagonal and not bool((block[j][new] == position[new]).all()):
                diagonal = False
    return total, diagonal
