"""``jax.lax.gather`` and the scatters by dimension numbers (session 28; registered in ``functions``' table when
``lang`` is imported): ``gather``, ``scatter``, ``scatter_add``, ``scatter_sub``, ``scatter_mul``, ``scatter_min``,
``scatter_max``, ``index_take``, with ``GatherDimensionNumbers`` / ``ScatterDimensionNumbers`` and
``GatherScatterMode`` (or the mode's string).

The indices are constants: XLA's gather and scatter semantics are run on the operand's flat positions at build time
(``gather_positions``, ``scatter_positions``), so a gather is a ``getitem`` of the flattened operand and a scatter is
``scatter.write`` (the machinery of ``x.at[idx]``), whose ops' rules give the derivatives. Modes as JAX's: a gather
by ``'fill'`` gives ``fill_value`` (NaN by default) for a window out of bounds, ``'clip'`` clamps the start; a
scatter drops a window out of bounds (its default, ``'fill'`` / ``'drop'``) or clamps it (``'clip'``). Out of bounds
under ``'promise_in_bounds'`` (a promise broken: JAX's result undefined) and a gather's default there (JAX clamps the
value and drops its derivative) are refused, as ``x.at[idx]`` refuses them.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import JacShapeError
from .functions import REQUIRED, Items, JacValueError, Static, _concrete, _reshape_to, arguments, boolean, fmt, \
    static, tensor, variant
from ..ir import dtypes
from .scatter import _positions, _promises, duplicates_message, extreme_into, write

GATHER_READ = frozenset({"gather", "scatter", "scatter_add", "scatter_sub", "scatter_mul", "scatter_min",
                         "scatter_max", "GatherDimensionNumbers", "ScatterDimensionNumbers", "GatherScatterMode",
                         "index_take"})
MODES = Static("jax.lax.GatherScatterMode")  # the enum named without a member (the parser's attribute)
_MEMBERS = {"CLIP": "clip", "FILL_OR_DROP": "fill", "PROMISE_IN_BOUNDS": "promise_in_bounds"}


class GatherDims(NamedTuple):
    offset_dims: tuple
    collapsed_slice_dims: tuple
    start_index_map: tuple
    operand_batching_dims: tuple = ()
    start_indices_batching_dims: tuple = ()


class ScatterDims(NamedTuple):
    update_window_dims: tuple
    inserted_window_dims: tuple
    scatter_dims_to_operand_dims: tuple
    operand_batching_dims: tuple = ()
    scatter_indices_batching_dims: tuple = ()


def mode_member(member: str, position) -> Static:
    """``lax.GatherScatterMode.CLIP`` as the mode's string ('clip'; FILL_OR_DROP 'fill')."""
    if member not in _MEMBERS:
        raise JacValueError(f"jax.lax.GatherScatterMode.{member} is not read by jac: it reads "
                            f"{', '.join(_MEMBERS)}", position)
    return Static(_MEMBERS[member])


def _dims(kind):
    fields = kind._fields

    def lower(b, args, kwargs, position):
        a = arguments(kind.__name__, args, kwargs, {f: REQUIRED if i < 3 else () for i, f in enumerate(fields)},
                      position)
        values = []
        for f in fields:
            v = static(b, a[f], f"{kind.__name__}'s {f}", position)
            v = (v,) if isinstance(v, (int, float)) else tuple(np.asarray(v, dtype=float).reshape(-1)) if \
                v is not None else None
            if v is None or not all(float(i).is_integer() for i in v):
                raise JacValueError(f"jax.lax.{_NAMES[kind]}: {f} must be a tuple of integers, got {a[f]!r}", position)
            values.append(tuple(int(i) for i in v))
        return Static(kind(*values))
    return lower


_NAMES = {GatherDims: "GatherDimensionNumbers", ScatterDims: "ScatterDimensionNumbers"}
NAMED = (GatherDims, ScatterDims)  # values a name may hold (the parser's assignment): dn = lax.GatherDimensionNumbers(...)
variant("jax.lax", "GatherDimensionNumbers")(_dims(GatherDims))
variant("jax.lax", "ScatterDimensionNumbers")(_dims(ScatterDims))


def _refuse(fname, why, position, kind=JacValueError):
    raise kind(f"jax.lax.{fname}: {why}", position)


def _mode(b, value, fname, position) -> str | None:
    mode = static(b, value, "mode", position)
    if mode in (None, "clip", "fill", "drop", "promise_in_bounds"):
        return "fill" if mode == "drop" else mode
    _refuse(fname, f"mode must be 'clip', 'fill', 'drop', 'promise_in_bounds' or a GatherScatterMode, got {mode!r}",
            position)


def _indices(b, value, fname, position) -> np.ndarray:
    """The start / scatter indices: integers known without the values, the index vector on the last axis."""
    v = np.asarray(static(b, value, "the indices", position))
    if v.ndim == 0 or v.size and not np.all(np.mod(v, 1) == 0):
        _refuse(fname, f"the indices must be integers with the index vector on the last axis, got {v.tolist()!r}",
                position)
    return v.astype(np.int64)


def _axes_ok(axes, rank, what, fname, position) -> None:
    if any(not 0 <= d < rank for d in axes) or len(set(axes)) != len(axes):
        _refuse(fname, f"{what} {axes} must be distinct axes in [0, {rank})", position, JacShapeError)


def _starts(shape, idx, to_operand, batching, index_batching, window, mode, fname, position):
    """Each batch position's start in the operand, (*batch, rank), clamped by 'clip', and whether its window is in
    bounds (*batch,). Out of bounds under 'promise_in_bounds', or a gather's default, refused."""
    rank, batch = len(shape), idx.shape[:-1]
    if idx.shape[-1] != len(to_operand):
        _refuse(fname, f"the index vector (the indices' last axis, {idx.shape[-1]}) must have one entry per axis "
                       f"it maps, {len(to_operand)}", position, JacShapeError)
    if len(batching) != len(index_batching) or any(not 0 <= d < len(batch) for d in index_batching) \
            or any(shape[o] != batch[i] for o, i in zip(batching, index_batching)):
        _refuse(fname, "the operand's and the indices' batching dims must pair up axes of equal sizes", position,
                JacShapeError)
    start = np.zeros(batch + (rank,), dtype=np.int64)
    start[..., list(to_operand)] = idx
    grids = np.indices(batch)
    for o, i in zip(batching, index_batching):
        start[..., o] = grids[i]
    upper = np.asarray(shape, dtype=np.int64) - np.asarray(window, dtype=np.int64)
    inside = np.all((start >= 0) & (start <= upper), axis=-1)
    if mode == "clip":  # every window moved into bounds
        return np.clip(start, 0, upper), np.ones_like(inside)
    elif not inside.all() and (mode == "promise_in_bounds" or mode is None and fname in ("gather", "index_take")):
        at = [int(i) for i in np.argwhere(~inside)[0]]
        why = "mode='promise_in_bounds' promises JAX windows in bounds, and" if mode else \
            "JAX's default mode clamps a gather's window out of bounds but gives its value no derivative (its " \
            "transpose drops it), and"
        _refuse(fname, f"{why} the index at {at} puts the window out of bounds of the operand's shape "
                       f"{fmt(tuple(shape))}; write mode='clip' (clamped) or mode='fill' ("
                       f"{'fill_value' if fname == 'gather' else 'dropped'})", position)
    return start, inside


def _windows(start, shape, kept, sizes):
    """The operand's flat positions of each window, (*batch, *sizes): start + the offsets along the kept axes
    (clamped into the operand: a window out of bounds is masked or dropped by the caller)."""
    index = []
    for d, n in enumerate(shape):
        s = start[..., d].reshape(start.shape[:-1] + (1,) * len(kept))
        if d in kept:
            j = kept.index(d)
            s = s + np.arange(sizes[j]).reshape([-1 if i == j else 1 for i in range(len(kept))])
        index.append(np.clip(s, 0, n - 1))
    flat = _positions(tuple(shape))[tuple(index)]
    return np.broadcast_to(flat, start.shape[:-1] + tuple(sizes))


def _layout(a, window_positions, batch_rank):
    """(*batch, *window) laid out as the result: the window axes at ``window_positions``, batch axes in order."""
    perm, batch_axis = [], 0
    for p in range(a.ndim):
        if p in window_positions:
            perm.append(batch_rank + list(window_positions).index(p))
        else:
            perm.append(batch_axis)
            batch_axis += 1
    return np.transpose(a, perm)


def _kept(shape, dropped, window_positions, batch_rank, what, fname, position) -> list:
    kept = [d for d in range(len(shape)) if d not in dropped]
    rank = batch_rank + len(kept)
    if len(window_positions) != len(kept) or sorted(set(window_positions)) != list(window_positions) \
            or any(not 0 <= p < rank for p in window_positions):
        _refuse(fname, f"{what} {tuple(window_positions)} must be {len(kept)} sorted distinct axes of the "
                       f"{'result' if fname == 'gather' else 'updates'} (rank {rank})", position, JacShapeError)
    return kept


def gather_positions(shape, idx, dn: GatherDims, slice_sizes, mode, fname, position):
    """(the operand's flat positions shaped as the gather's result, whether each window is in bounds), XLA's gather
    with the index vector on the indices' last axis."""
    rank = len(shape)
    for what, axes in (("collapsed_slice_dims", dn.collapsed_slice_dims), ("start_index_map", dn.start_index_map),
                       ("operand_batching_dims", dn.operand_batching_dims)):
        _axes_ok(axes, rank, what, fname, position)
    if len(slice_sizes) != rank or any(not 0 <= s <= n for s, n in zip(slice_sizes, shape)):
        _refuse(fname, f"slice_sizes {tuple(slice_sizes)} must give one size per operand axis, each at most its "
                       f"size in {fmt(tuple(shape))}", position, JacShapeError)
    dropped = set(dn.collapsed_slice_dims) | set(dn.operand_batching_dims)
    if any(slice_sizes[d] != 1 for d in dropped):
        _refuse(fname, "slice_sizes must be 1 along collapsed_slice_dims and operand_batching_dims", position,
                JacShapeError)
    batch_rank = idx.ndim - 1
    kept = _kept(shape, dropped, dn.offset_dims, batch_rank, "offset_dims", fname, position)
    start, inside = _starts(shape, idx, dn.start_index_map, dn.operand_batching_dims, dn.start_indices_batching_dims,
                            slice_sizes, mode, fname, position)
    sizes = [slice_sizes[d] for d in kept]
    flat = _windows(start, shape, kept, sizes)
    ok = np.broadcast_to(inside.reshape(inside.shape + (1,) * len(kept)), flat.shape)
    return _layout(flat, dn.offset_dims, batch_rank), _layout(ok, dn.offset_dims, batch_rank)


def scatter_positions(shape, idx, updates_shape, dn: ScatterDims, mode, fname, position):
    """(the operand's flat position each update element goes to, shaped as the updates, whether it is written):
    XLA's scatter, a window out of bounds dropped (or clamped by 'clip')."""
    rank = len(shape)
    for what, axes in (("inserted_window_dims", dn.inserted_window_dims),
                       ("scatter_dims_to_operand_dims", dn.scatter_dims_to_operand_dims),
                       ("operand_batching_dims", dn.operand_batching_dims)):
        _axes_ok(axes, rank, what, fname, position)
    dropped = set(dn.inserted_window_dims) | set(dn.operand_batching_dims)
    batch_rank = len(updates_shape) - len(dn.update_window_dims)
    kept = _kept(shape, dropped, dn.update_window_dims, batch_rank, "update_window_dims", fname, position)
    sizes = [updates_shape[p] for p in dn.update_window_dims]
    scatter_shape = tuple(n for p, n in enumerate(updates_shape) if p not in dn.update_window_dims)
    if scatter_shape != tuple(idx.shape[:-1]) or any(w > shape[d] for w, d in zip(sizes, kept)):
        _refuse(fname, f"updates of shape {fmt(tuple(updates_shape))} do not fit: their axes outside "
                       f"update_window_dims must be the indices' batch shape {fmt(tuple(idx.shape[:-1]))}, and their "
                       f"windows at most the operand's {fmt(tuple(shape))}", position, JacShapeError)
    window = [sizes[kept.index(d)] if d in kept else 1 for d in range(rank)]
    start, inside = _starts(shape, idx, dn.scatter_dims_to_operand_dims, dn.operand_batching_dims,
                            dn.scatter_indices_batching_dims, window, mode, fname, position)
    flat = _windows(start, shape, kept, sizes)
    ok = np.broadcast_to(inside.reshape(inside.shape + (1,) * len(kept)), flat.shape)
    return _layout(flat, dn.update_window_dims, batch_rank), _layout(ok, dn.update_window_dims, batch_rank)


def _dimension_numbers(b, value, kind, fname, position):
    dn = static(b, value, "dimension_numbers", position)
    if not isinstance(dn, kind):
        _refuse(fname, f"dimension_numbers must be a jax.lax.{_NAMES[kind]}(...), got {dn!r}", position)
    return dn


@variant("jax.lax", "gather")
def _gather(b, args, kwargs, position):
    """jax.lax.gather(operand, start_indices, dimension_numbers, slice_sizes, *, unique_indices=False,
    indices_are_sorted=False, mode=None, fill_value=None): XLA's gather of constant indices, a getitem of the
    flattened operand (fill: fill_value, NaN by default, where a window is out of bounds)."""
    a = arguments("gather", args, kwargs, {"operand": REQUIRED, "start_indices": REQUIRED,
                                           "dimension_numbers": REQUIRED, "slice_sizes": REQUIRED,
                                           "unique_indices": False, "indices_are_sorted": False, "mode": None,
                                           "fill_value": None}, position)
    x = tensor(b, a["operand"], "jax.lax.gather", position)
    shape = _concrete(x, "jax.lax.gather", position)
    sizes = static(b, a["slice_sizes"], "slice_sizes", position)
    sizes = tuple(int(s) for s in np.asarray(sizes).reshape(-1)) if sizes is not None else ()
    flat, inside = gather_positions(shape, _indices(b, a["start_indices"], "gather", position),
                                    _dimension_numbers(b, a["dimension_numbers"], GatherDims, "gather", position),
                                    sizes, _mode(b, a["mode"], "gather", position), "gather", position)
    return _read(b, x, flat, inside, a["fill_value"], "gather", position)


def _read(b, x, flat, inside, fill, fname, position):
    size = int(np.prod(x.shape, dtype=np.int64))
    read = b.apply("getitem", _reshape_to(b, x, (size,), position), index=(np.ascontiguousarray(flat),),
                   position=position)
    if inside.all():
        return read
    fill = float("nan") if fill is None else static(b, fill, "fill_value", position)
    if isinstance(fill, bool) or not isinstance(fill, (int, float)):
        _refuse(fname, f"fill_value must be a number, got {fill!r}", position)
    mask = boolean(b, b.const(np.ascontiguousarray(inside).astype(b.dtype), position))
    return b.apply("where", mask, read, float(fill), position=position)


@variant("jax.lax", "index_take")
def _index_take(b, args, kwargs, position):
    """jax.lax.index_take(src, idxs, axes): src at the index arrays ``idxs`` (one per axis of ``axes``, each taken
    modulo its axis's size), the other axes whole: JAX's gather."""
    a = arguments("index_take", args, kwargs, {"src": REQUIRED, "idxs": REQUIRED, "axes": REQUIRED}, position)
    x = tensor(b, a["src"], "jax.lax.index_take", position)
    shape = _concrete(x, "jax.lax.index_take", position)
    axes = tuple(int(i) for i in np.asarray(static(b, a["axes"], "axes", position)).reshape(-1))
    _axes_ok(axes, len(shape), "axes", "index_take", position)
    given = a["idxs"]
    parts = list(given.items) if isinstance(given, Items) else list(given) if isinstance(given, (list, tuple)) \
        else [given]
    arrays = [np.asarray(static(b, i, "idxs", position)) for i in parts]
    if len(arrays) == 1 and arrays[0].ndim == 2:  # (i, j) of constants: one array, a row per axis
        arrays = list(arrays[0])
    if len(arrays) != len(axes) or any(v.ndim != 1 or v.shape != arrays[0].shape for v in arrays):
        _refuse("index_take", f"idxs must be {len(axes)} index vectors of one length, one per axis of {axes}",
                position, JacShapeError)
    idx = np.stack([v.astype(np.int64) % shape[ax] for v, ax in zip(arrays, axes)], axis=1)
    sizes = tuple(1 if d in axes else n for d, n in enumerate(shape))
    dn = GatherDims(tuple(range(1, len(shape) - len(axes) + 1)), axes, axes)
    flat, inside = gather_positions(shape, idx, dn, sizes, None, "index_take", position)
    return _read(b, x, flat, inside, None, "index_take", position)


_SCATTERS = {"scatter": "set", "scatter_add": "add", "scatter_sub": "add", "scatter_mul": "mul",
             "scatter_min": "min", "scatter_max": "max"}


def _scatter(fname):
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"operand": REQUIRED, "scatter_indices": REQUIRED, "updates": REQUIRED,
                                            "dimension_numbers": REQUIRED, "indices_are_sorted": False,
                                            "unique_indices": False, "mode": None}, position)
        x = tensor(b, a["operand"], f"jax.lax.{fname}", position)
        u = tensor(b, a["updates"], f"jax.lax.{fname}", position)
        shape = _concrete(x, f"jax.lax.{fname}", position)
        targets, keep = scatter_positions(shape, _indices(b, a["scatter_indices"], fname, position),
                                          _concrete(u, f"jax.lax.{fname}", position),
                                          _dimension_numbers(b, a["dimension_numbers"], ScatterDims, fname, position),
                                          _mode(b, a["mode"], fname, position), fname, position)
        targets, keep = targets.reshape(-1), keep.reshape(-1)
        what = f"jax.lax.{fname}"
        _promises(b, targets[keep], {k: a[k] for k in ("indices_are_sorted", "unique_indices")}, what, position)
        sources = _positions(tuple(u.shape)).reshape(-1)[keep]
        targets = targets[keep]
        if fname == "scatter" and duplicates_message(targets, shape, what):
            _refuse(fname, "the indices write one element more than once: JAX leaves which update wins (and takes "
                           "the derivative) undefined, so jac refuses repeated windows here (scatter_add and "
                           "scatter_mul take them all)", position)
        if fname == "scatter_sub":
            u = b.apply("neg", u, position=position)
        if fname in ("scatter_min", "scatter_max") and targets.size and dtypes.kind_of(b, x.id) is None:
            return extreme_into(b, x, targets, sources, u, fname == "scatter_min", position)  # ties shared, as JAX
        return write(b, x, targets, sources, u, _SCATTERS[fname], what, position)
    lower.__doc__ = (f"jax.lax.{fname}(operand, scatter_indices, updates, dimension_numbers, *, indices_are_sorted="
                     f"False, unique_indices=False, mode=None): XLA's scatter of constant indices onto scatter.write "
                     f"({_SCATTERS[fname]}); a window out of bounds dropped, or clamped by mode='clip'.")
    return lower


for _name in _SCATTERS:
    variant("jax.lax", _name)(_scatter(_name))

