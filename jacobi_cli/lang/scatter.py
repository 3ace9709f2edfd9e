"""Writing into an array, functionally: PyTorch's scatter and index families (``scatter``,
``scatter_add``, ``scatter_reduce``, ``index_add``, ``index_copy``, ``index_fill``, ``index_put``,
``masked_scatter``, ``put``) and the parser's ``y[idx] = v`` (:func:`write`).

Every one of them is a constant map from the positions of the result to the positions of the
values written there, so each lowers onto existing ops with a constant index:
``where(M, src.flat[J], x)`` writes (exact: a copy of each element), ``x + src.flat[J]`` or
``x + scatter(src)`` adds, repeated ``x * src.flat[J_k]`` rounds multiply in PyTorch's order.
The index is a constant, never differentiated. A write with a repeated position is refused where
PyTorch leaves the winner undefined (``scatter``, ``index_copy``, ``index_put`` without
``accumulate``); adds and products take every repeat.
"""

from __future__ import annotations

import numpy as np

from ..errors import JacShapeError, JacValueError
from ..ir import dtypes
from ..ir.graph import Tracer
from ..ir.shapes import fmt
from .functions import REQUIRED, Items, _axis, _concrete, _index_array, _per_axis, _reshape_to, _spatial_input, \
    arguments, boolean, data_index, function, index_values, is_boolean, static, static_int, static_ints, \
    tensor, truth, variant, written_value

MAX_ROUNDS = 64  # products and extrema: one full-size node per repeat of a position


def _positions(shape) -> np.ndarray:
    return np.arange(int(np.prod(shape, dtype=np.int64)), dtype=np.intp).reshape(shape)


def duplicates_message(targets: np.ndarray, shape, what: str) -> str | None:
    """Why a write to ``targets`` (flat positions in ``shape``) is refused, or None."""
    counts = np.bincount(targets.reshape(-1), minlength=1)
    if (counts <= 1).all():
        return None
    where = tuple(int(i) for i in np.unravel_index(int(np.argmax(counts > 1)), shape)) if shape else ()
    return (f"{what} writes element {list(where)} more than once: which value wins is undefined in PyTorch "
            "(NumPy keeps the last), so jac refuses repeated indices here; an accumulating variant adds them")


def same_values(targets: np.ndarray, operand_shape: tuple) -> np.ndarray | None:
    """For ``y[idx] op= v`` whose positions ``targets`` repeat: the flat indices into ``targets`` of each
    position's first occurrence (ascending) when every repeat of a position writes the same element of ``v``
    (``v`` of ``operand_shape`` broadcast to ``targets``' shape: a number, or a value constant along the
    repeats), so the values written there are one expression, ``y[p] op v[k]``; else None."""
    flat = targets.reshape(-1)
    vshape = tuple(operand_shape)
    while len(vshape) > targets.ndim and vshape[0] == 1:
        vshape = vshape[1:]
    try:
        operand = np.broadcast_to(_positions(vshape), targets.shape).reshape(-1)
    except ValueError:
        return None
    first = np.unique(flat, return_index=True)[1]
    pairs = np.unique(np.stack([flat, operand]), axis=1).shape[1]
    return np.sort(first) if pairs == first.size else None


def _flat(b, src: Tracer, position) -> Tracer:
    return _reshape_to(b, src, (int(np.prod(src.shape, dtype=np.int64)),), position)


def _mask(b, flags: np.ndarray, position) -> Tracer:
    return boolean(b, b.const(flags.astype(np.float64), position))


def write(b, x: Tracer, targets, sources, src, mode: str, what: str, position) -> Tracer:
    """``x`` with ``src.flat[sources[i]]`` written at flat position ``targets[i]`` of ``x``.

    ``mode``: ``"set"`` (a position may appear once), ``"add"``, ``"mul"``, ``"max"``, ``"min"``
    (repeats reduce in the order given, starting from ``x``'s element). ``src`` is a Tracer; a
    0-d one with ``sources`` None is one value for every target (``index_fill``)."""
    shape = _concrete(x, what, position)
    targets = np.asarray(targets, dtype=np.intp).reshape(-1)
    if targets.size == 0:
        return x
    kind = dtypes.kind_of(b, x.id)
    if kind is not None:
        src = _in_kind(b, x, src, kind, mode, what, position)
    flat_src = None if sources is None else _flat(b, src, position)
    sources = None if sources is None else np.asarray(sources, dtype=np.intp).reshape(-1)
    occurrence = _occurrence(targets)
    rounds = int(occurrence.max()) + 1
    if mode == "set":
        if rounds > 1:
            raise JacValueError(duplicates_message(targets, shape, what), position)
        return b.apply("where", *_round(b, shape, targets, sources, flat_src, src, position), x, position=position)
    if mode == "add" and rounds > 1:  # the values summed per position first (np.add.at, in order), then added
        picked = src if sources is None else b.apply("getitem", flat_src, index=(sources,), position=position)
        if sources is None:
            picked = b.apply("broadcast_to", src, shape=(targets.size,), position=position)
        total = b.apply("scatter", picked, index=(targets,), shape=(int(np.prod(shape, dtype=np.int64)),),
                        position=position)
        flags = np.zeros(int(np.prod(shape, dtype=np.int64)), dtype=bool)
        flags[targets] = True
        summed = b.apply("add", x, _reshape_to(b, total, shape, position), position=position)
        return b.apply("where", _mask(b, flags.reshape(shape), position), summed, x, position=position)
    if rounds > MAX_ROUNDS:
        raise JacValueError(f"{what}: {rounds} values go to one element; jac takes at most {MAX_ROUNDS} here",
                            position)
    op = {"add": "add", "mul": "mul", "max": "maximum", "min": "minimum"}[mode]
    out = x
    for k in range(rounds):
        pick = occurrence == k
        mask, value = _round(b, shape, targets[pick], None if sources is None else sources[pick], flat_src, src,
                             position)
        out = b.apply("where", mask, b.apply(op, out, value, position=position), out, position=position)
    return out


def _in_kind(b, x: Tracer, src: Tracer, kind, mode: str, what: str, position) -> Tracer:
    """``src`` as written into ``x``, an integer or boolean array of ``kind`` (dtype, library): in its dtype, as
    NumPy and PyTorch write a value (a float truncated toward 0 into integers, its truth into booleans:
    ``index_fill`` of 0.5 writes 0 or True, never 0.5). A float added, multiplied or compared into them is
    refused: PyTorch's scatter_add, index_add and scatter_reduce take one dtype, and NumPy's ``ufunc.at``
    does not cast a float result into integers."""
    if mode == "set" and kind[0].kind == "b":
        return truth(b, src, position)
    if dtypes.kind_of(b, src.id) is not None or src.id in b.pyints:
        return src
    if mode != "set":
        raise JacValueError(f"{what}: a float value goes into the {kind[0]} array, which PyTorch and NumPy refuse "
                            "here (it keeps its dtype): make the array a float first (.float(), .double() or "
                            ".astype(float))", position)
    return written_value(b, x, src, False, what, position)


def _occurrence(targets: np.ndarray) -> np.ndarray:
    """For each target, how many times the same position came before it."""
    order = np.argsort(targets, kind="stable")
    ordered = targets[order]
    starts = np.r_[0, np.flatnonzero(np.diff(ordered)) + 1]
    first = np.repeat(starts, np.diff(np.r_[starts, ordered.size]))
    out = np.empty_like(targets)
    out[order] = np.arange(ordered.size) - first
    return out


def _round(b, shape, targets, sources, flat_src, src, position):
    """The mask of ``targets`` and the values to put there (a full-shape gather, or ``src``)."""
    size = int(np.prod(shape, dtype=np.int64))
    flags = np.zeros(size, dtype=bool)
    flags[targets] = True
    if sources is None:
        return _mask(b, flags.reshape(shape), position), src
    gather = np.zeros(size, dtype=np.intp)
    gather[targets] = sources
    value = b.apply("getitem", flat_src, index=(gather.reshape(shape),), position=position)
    return _mask(b, flags.reshape(shape), position), value


# --- the positions each function writes ------------------------------------------------------

def _along_pairs(shape, index: np.ndarray, axis: int, src_shape):
    """scatter's map: element ``p`` of ``index`` sends ``src[p]`` to ``x[p with p[axis] = index[p]]``."""
    grids = list(np.indices(index.shape, sparse=True))
    target = list(grids)
    target[axis] = index
    targets = np.ravel_multi_index(tuple(np.broadcast_arrays(*target)), shape) if index.size else \
        np.zeros(index.shape, dtype=np.intp)
    sources = np.ravel_multi_index(tuple(np.broadcast_arrays(*grids)), src_shape) if index.size else \
        np.zeros(index.shape, dtype=np.intp)
    return targets, sources


# --- a write by an index array computed from the inputs (session 57): distinct indices only ---

REPEATS = ("an index array computed from the inputs with indices that may repeat: jac writes with one only where its "
           "values are distinct for any inputs (argsort, sort(...).indices, topk(...).indices or argpartition of a "
           "1-d array, then only sliced or flipped) into a 1-d array; a repeated index leaves the value written "
           "unspecified in PyTorch and NumPy. torch.where(mask, v, y) writes by a condition")


def computed_index(b, part, position) -> bool:
    """Whether ``part`` is an integer index array (1 axis or more) the graph computes from the inputs (not a
    constant, an input, a mask, nor an index read at an input's values: :func:`data_index`)."""
    if type(part) is not Tracer or not part.ndim:
        return False
    node = b.nodes[part.id]
    if node.op in ("const", "input") or part.id in b.booleans:
        return False
    kind = dtypes.kind_of(b, part.id)
    return kind is not None and kind[0].kind in "iu" and data_index(b, part, position) is None


def distinct_bound(b, idx: Tracer) -> int | None:
    """``n`` when the 1-d index array ``idx`` holds distinct values in 0..n-1 whatever the inputs: made by argsort (a
    sort's or topk's indices) or argpartition of a 1-d array of n elements, then only sliced (any step, a flip) or
    detached. None otherwise: an integer array's index (``idx[[0, 0]]``), argmax, arithmetic or a concatenation may
    repeat a value."""
    node = b.nodes[idx.id]
    if len(node.shape) != 1:
        return None
    while node.op in ("getitem", "detach"):
        if node.op == "getitem" and (len(node.params["index"]) != 1 or type(node.params["index"][0]) is not slice
                                     or len(b.nodes[node.args[0]].shape) != 1):
            return None
        node = b.nodes[node.args[0]]
    source = b.nodes[node.args[0]].shape if node.op in ("argsort", "argpartition") else ()
    return source[0] if len(source) == 1 else None


def computed_write(b, y: Tracer, idx: Tracer, value, what: str, position) -> Tracer:
    """``y[idx] = value`` for a 1-d float ``y`` and a 1-d index array ``idx`` computed from the inputs whose values are
    distinct and in range for every value of the inputs (:func:`distinct_bound`); ``value`` a number or an array
    broadcast to ``idx``'s length. The positions are read at evaluation, so a compiled function recomputes them at
    every call. No arithmetic touches the values written (their bits, -0.0, inf and NaN, kept): ``put_along`` of
    constants gives each written position's mask and the position in ``value`` it takes (``put_along(arange(k),
    idx)``), ``take_along`` gathers the values there and ``where`` writes them; the derivative goes to the values
    written and to ``y``'s other elements, as PyTorch's."""
    if y.ndim != 1 or idx.ndim != 1:
        raise JacValueError(f"{what}: jac writes with an index array computed from the inputs only into a 1-d "
                            "array, by one 1-d index array (y[y.argsort()[:2]] = v)", position)
    bound, n, k = distinct_bound(b, idx), y.shape[0], idx.shape[0]
    if bound is None:
        raise JacValueError(f"{what}: {REPEATS}", position)
    if not (type(n) is int and type(k) is int and type(bound) is int):
        raise JacShapeError(f"{what}: a write by an index array computed from the inputs needs the sizes as numbers, "
                            f"but {fmt(y.shape)} or {fmt(idx.shape)} is symbolic", position)
    if bound > n:
        raise JacValueError(f"{what}: an index array computed from the inputs is written with only where its "
                            f"indices are in range of the axis (they run to {bound - 1}, and it has {n} elements)",
                            position)
    if is_boolean(b, y) or y.id in b.typed or y.id in b.integral:
        raise JacValueError(f"{what}: jac writes with an index array computed from the inputs only into a float "
                            "array", position)
    if type(value) is bool:
        value = b.const(float(value), position)
    if not isinstance(value, Tracer):
        value = b.const(np.asarray(value, dtype=np.float64), position)
    if is_boolean(b, value) or value.id in b.typed or value.id in b.integral:
        value = written_value(b, y, value, False, what, position)
    vshape = tuple(value.shape)
    while len(vshape) > 1 and vshape[0] == 1:
        vshape = vshape[1:]
    if vshape not in ((), (1,), (k,)):
        raise JacShapeError(f"{what}: a value of shape {fmt(value.shape)} does not broadcast to the ({k},) elements "
                            "it writes", position)
    if vshape != tuple(value.shape):
        value = b.apply("reshape", value, shape=vshape, position=position)
    count = b.apply("put_along", b.const(np.ones(k), position), idx, axis=0, shape=(n,), position=position)
    mask = b.apply("gt", count, b.const(0.0, position), position=position)
    if vshape == (k,):
        spots = b.apply("put_along", b.const(np.arange(k, dtype=np.float64), position), idx, axis=0, shape=(n,),
                        position=position)
        value = b.apply("take_along", value, spots, axis=0, position=position)
    return b.apply("where", boolean(b, mask), value, y, position=position)


def _computed_along(b, x, axis, idx, fname, position) -> None:
    """Refuse a computed index of a PyTorch write function that is not one 1-d array along a 1-d ``x``'s axis."""
    if x.ndim != 1 or static(b, axis, "dim", position) not in (0, -1):
        raise JacValueError(f"{fname}: jac writes with an index computed from the inputs only into a 1-d array along "
                            "dim 0", position)


def _value_or_src(b, value, fname, position):
    """A source array, or one number: (tracer, is_scalar)."""
    if isinstance(value, Tracer):
        return value, value.ndim == 0 and b.nodes[value.id].op == "const"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return b.const(float(value), position), True
    raise JacValueError(f"{fname}: the source must be an array or a number", position)


def _scatter_index(b, a, fname, position):
    x = tensor(b, a["x"], fname, position)
    shape = _concrete(x, fname, position)
    if x.ndim == 0:
        raise JacShapeError(f"{fname}: a 0-d array has no dim to scatter along (reshape it to (1,))", position)
    axis = _axis(b, a["axis"], x.ndim, fname, position)
    index = _index_array(b, a["index"], shape[axis], "index", fname, position, ndim=x.ndim, dim=axis)
    for d, (i, s) in enumerate(zip(index.shape, shape)):
        if d != axis and i > s:
            raise JacShapeError(f"{fname}: index of shape {fmt(index.shape)} is larger than self {fmt(shape)} "
                                f"along dim {d}", position)
    return x, shape, axis, index


def _scatter_source(b, value, index, fname, position):
    src, scalar = _value_or_src(b, value, fname, position)
    if scalar:
        return src, None
    if src.ndim != index.ndim or any(i > s for i, s in zip(index.shape, src.shape)):
        raise JacShapeError(f"{fname}: index of shape {fmt(index.shape)} is larger than src {fmt(src.shape)} "
                            "(src needs as many dims, each at least as long)", position)
    return src, _concrete(src, fname, position)


@function("scatter")
def _scatter(b, args, kwargs, position):
    """PyTorch's ``scatter(x, dim, index, src)`` (or a number ``value``): ``x`` with
    ``x[..index[p]..] = src[p]``; a position written twice is refused (PyTorch leaves the winner
    undefined). ``reduce=`` is refused: PyTorch has no derivative for it (``scatter_reduce`` has)."""
    if "value" in kwargs and "src" not in kwargs:
        kwargs = dict(kwargs, src=kwargs.pop("value"))
    a = arguments("scatter", args, kwargs, {"x": REQUIRED, "axis": REQUIRED, "index": REQUIRED, "src": REQUIRED,
                                            "reduce": None}, position)
    if computed_index(b, a["index"], position) and a["reduce"] is None:  # x.scatter(0, x.argsort()[:2], v)
        x = tensor(b, a["x"], "scatter", position)
        _computed_along(b, x, a["axis"], a["index"], "scatter", position)
        src, k = a["src"], a["index"].shape[0]
        if isinstance(src, Tracer) and src.ndim:
            if src.ndim != 1 or type(k) is not int or type(src.shape[0]) is not int or src.shape[0] < k:
                raise JacShapeError(f"scatter: index of shape {fmt(a['index'].shape)} is larger than src "
                                    f"{fmt(src.shape)}", position)
            src = b.apply("getitem", src, index=(slice(0, k),), position=position) if src.shape[0] != k else src
        return computed_write(b, x, a["index"], src, "scatter", position)
    x, shape, axis, index = _scatter_index(b, a, "scatter", position)
    src, src_shape = _scatter_source(b, a["src"], index, "scatter", position)
    reduce = static(b, a["reduce"], "reduce", position)
    if reduce is not None:
        raise JacValueError(f"scatter(..., reduce={reduce!r}) has no derivative in PyTorch (\"derivative for "
                            "aten::scatter is not implemented\"): write scatter_reduce(x, dim, index, src, 'sum' or "
                            "'prod') or scatter_add", position)
    targets, sources = _along_pairs(shape, index, axis, src_shape or index.shape)
    return write(b, x, targets, None if src_shape is None else sources, src, "set", "scatter", position)


@function("scatter_add")
def _scatter_add(b, args, kwargs, position):
    """PyTorch's ``scatter_add(x, dim, index, src)``: ``x[..index[p]..] += src[p]``, repeats added."""
    a = arguments("scatter_add", args, kwargs, {"x": REQUIRED, "axis": REQUIRED, "index": REQUIRED,
                                                "src": REQUIRED}, position)
    x, shape, axis, index = _scatter_index(b, a, "scatter_add", position)
    src, src_shape = _scatter_source(b, a["src"], index, "scatter_add", position)
    if src_shape is None:
        raise JacValueError("scatter_add: src must be an array (PyTorch takes no number here)", position)
    targets, sources = _along_pairs(shape, index, axis, src_shape)
    return write(b, x, targets, sources, src, "add", "scatter_add", position)


@function("scatter_reduce")
def _scatter_reduce(b, args, kwargs, position):
    """PyTorch's ``scatter_reduce(x, dim, index, src, reduce, include_self=True)`` for ``'sum'``,
    ``'prod'``, ``'mean'``, ``'amax'``, ``'amin'`` (whose derivative is PyTorch's: split evenly among the
    elements equal to the result, x's own element counted even with ``include_self=False``)."""
    a = arguments("scatter_reduce", args, kwargs, {"x": REQUIRED, "axis": REQUIRED, "index": REQUIRED,
                                                   "src": REQUIRED, "reduce": REQUIRED, "include_self": True},
                  position)
    x, shape, axis, index = _scatter_index(b, a, "scatter_reduce", position)
    src, src_shape = _scatter_source(b, a["src"], index, "scatter_reduce", position)
    if src_shape is None:
        raise JacValueError("scatter_reduce: src must be an array", position)
    reduce = static(b, a["reduce"], "reduce", position)
    include = bool(static(b, a["include_self"], "include_self", position))
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise JacValueError(f"scatter_reduce: reduce={reduce!r} is not one of 'sum', 'prod', 'mean', 'amax', "
                            "'amin'", position)
    targets, sources = _along_pairs(shape, index, axis, src_shape)
    return reduce_into(b, x, targets.reshape(-1), sources.reshape(-1), src, reduce, include, "scatter_reduce",
                       position)


def reduce_into(b, x, targets, sources, src, reduce, include, what, position) -> Tracer:
    """``x``'s elements at ``targets`` reduced with ``src.flat[sources]`` (``include``: with
    ``x``'s own element, else starting from the first value sent there)."""
    shape = tuple(x.shape)
    if targets.size == 0:
        return x
    if reduce in ("amax", "amin"):  # PyTorch's derivative rule, ties and x's own element included: the op's
        return b.apply("scatter_extreme", x, src, targets=np.asarray(targets, dtype=np.intp),
                       sources=np.asarray(sources, dtype=np.intp), minimum=reduce == "amin", include=include,
                       position=position)
    start, all_targets = x, targets
    if not include:  # the first value sent to each position replaces x's element
        first = _occurrence(targets) == 0
        start = write(b, x, targets[first], sources[first], src, "set", what, position)
        targets, sources = targets[~first], sources[~first]
    mode = {"sum": "add", "mean": "add", "prod": "mul", "amax": "max", "amin": "min"}[reduce]
    out = write(b, start, targets, sources, src, mode, what, position)
    if reduce == "mean":  # PyTorch: the sum divided by the number of values summed (x's element counted)
        counts = np.bincount(all_targets, minlength=int(np.prod(shape, dtype=np.int64)))
        divisor = np.where(counts > 0, counts + include, 1).astype(np.float64).reshape(shape)
        if (divisor != 1).any():
            out = b.apply("div", out, b.const(divisor, position), position=position)
    return out


def _index_pairs(b, a, fname, position, source_key="source"):
    """index_add/index_copy's map: slice ``i`` of ``source`` along ``dim`` goes to slice ``index[i]``."""
    x = tensor(b, a["x"], fname, position)
    shape = _concrete(x, fname, position)
    scalar = x.ndim == 0
    work_shape = (1,) if scalar else shape
    axis = _axis(b, a["axis"], max(x.ndim, 1), fname, position)
    index = _index_array(b, a["index"], work_shape[axis], "index", fname, position,
                         dim=None if fname == "index_fill" else axis).reshape(-1) \
        if np.ndim(_const_of(b, a["index"])) <= 1 else None
    if index is None:
        raise JacShapeError(f"{fname}: index must be 0-d or 1-d", position)
    out_shape = work_shape[:axis] + (index.size,) + work_shape[axis + 1:]
    positions = _positions(work_shape)
    targets = np.take(positions, index, axis=axis)
    return x, shape, work_shape, axis, index, out_shape, targets


def _const_of(b, value):
    return b.nodes[value.id].value if isinstance(value, Tracer) and b.nodes[value.id].op == "const" else None


def _index_source(b, value, out_shape, scalar, fname, position):
    src = tensor(b, value, fname, position)
    if tuple(src.shape) == tuple(out_shape) or (scalar and src.ndim == 0 and out_shape == (1,)):
        return src
    raise JacShapeError(f"{fname}: source of shape {fmt(src.shape)} does not match {fmt(out_shape)} (self's shape "
                        "with dim as long as index)", position)


def _index_writer(fname, mode):
    def lower(b, args, kwargs, position):
        params = {"x": REQUIRED, "axis": REQUIRED, "index": REQUIRED, "source": REQUIRED}
        if mode == "add":
            params["alpha"] = 1.0
        a = arguments(fname, args, kwargs, params, position)
        if mode == "set" and computed_index(b, a["index"], position):  # x.index_copy(0, x.argsort()[:2], v)
            x = tensor(b, a["x"], fname, position)
            _computed_along(b, x, a["axis"], a["index"], fname, position)
            src = _index_source(b, a["source"], tuple(a["index"].shape), False, fname, position)
            return computed_write(b, x, a["index"], src, fname, position)
        x, shape, work_shape, axis, index, out_shape, targets = _index_pairs(b, a, fname, position)
        src = _index_source(b, a["source"], out_shape, x.ndim == 0, fname, position)
        if mode == "add":
            alpha = static(b, a["alpha"], "alpha", position)
            if not isinstance(alpha, (int, float)) or isinstance(alpha, bool):
                raise JacValueError(f"{fname}: alpha must be a number", position)
            if alpha != 1:
                src = b.apply("mul", src, b.const(float(alpha), position), position=position)
        work = _reshape_to(b, x, work_shape, position)
        out = write(b, work, targets, _positions(out_shape), src, mode, fname, position)
        return _reshape_to(b, out, shape, position)
    lower.__doc__ = {"add": f"PyTorch's ``{fname}(x, dim, index, source, alpha=1)``: slice ``i`` of "
                            "``alpha * source`` along dim added to slice ``index[i]`` of x; repeats add up.",
                     "set": f"PyTorch's ``{fname}(x, dim, index, source)``: slice ``i`` of source along dim "
                            "copied to slice ``index[i]``; a repeated index is refused (PyTorch leaves the "
                            "winner undefined)."}[mode]
    return lower


function("index_add")(_index_writer("index_add", "add"))
function("index_copy")(_index_writer("index_copy", "set"))


@function("index_reduce")
def _index_reduce(b, args, kwargs, position):
    """PyTorch's ``index_reduce(x, dim, index, source, reduce, include_self=True)``: slice ``i`` of source
    along dim reduced into slice ``index[i]`` with ``'prod'``, ``'mean'``, ``'amax'`` or ``'amin'``, as
    scatter_reduce (the same derivatives: amax/amin split among ties as PyTorch's)."""
    a = arguments("index_reduce", args, kwargs, {"x": REQUIRED, "axis": REQUIRED, "index": REQUIRED,
                                                 "source": REQUIRED, "reduce": REQUIRED, "include_self": True},
                  position)
    x, shape, work_shape, axis, index, out_shape, targets = _index_pairs(b, a, "index_reduce", position)
    src = _index_source(b, a["source"], out_shape, x.ndim == 0, "index_reduce", position)
    reduce = static(b, a["reduce"], "reduce", position)
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise JacValueError(f"index_reduce: reduce={reduce!r} is not one of 'prod', 'mean', 'amax', 'amin'",
                            position)
    include = bool(static(b, a["include_self"], "include_self", position))
    work = _reshape_to(b, x, work_shape, position)
    src = _reshape_to(b, src, out_shape, position)
    out = reduce_into(b, work, targets.reshape(-1), _positions(out_shape).reshape(-1), src, reduce, include,
                      "index_reduce", position)
    return _reshape_to(b, out, shape, position)


@function("index_fill")
def _index_fill(b, args, kwargs, position):
    """PyTorch's ``index_fill(x, dim, index, value)``: the slices ``index`` along dim set to
    ``value`` (a number, or a 0-d array, differentiated)."""
    a = arguments("index_fill", args, kwargs, {"x": REQUIRED, "axis": REQUIRED, "index": REQUIRED,
                                               "value": REQUIRED}, position)
    if computed_index(b, a["index"], position):  # x.index_fill(0, x.argsort()[:2], 0.)
        x = tensor(b, a["x"], "index_fill", position)
        _computed_along(b, x, a["axis"], a["index"], "index_fill", position)
        value, _ = _value_or_src(b, a["value"], "index_fill", position)
        if value.ndim != 0:
            raise JacShapeError(f"index_fill: value must be a number or a 0-d array, got shape {fmt(value.shape)}",
                                position)
        return computed_write(b, x, a["index"], value, "index_fill", position)
    x, shape, work_shape, axis, index, out_shape, targets = _index_pairs(b, a, "index_fill", position)
    value, _ = _value_or_src(b, a["value"], "index_fill", position)
    if value.ndim != 0:
        raise JacShapeError(f"index_fill: value must be a number or a 0-d array, got shape {fmt(value.shape)}",
                            position)
    targets = np.unique(targets)  # filling twice with one value is filling once
    work = _reshape_to(b, x, work_shape, position)
    return _reshape_to(b, write(b, work, targets, None, value, "set", "index_fill", position), shape, position)


def advanced_targets(shape, index: tuple) -> np.ndarray:
    """The flat positions ``x[index]`` reads (NumPy's indexing of a constant index), shaped as it."""
    return _positions(shape)[index]


def put_values(b, x, targets: np.ndarray, value, accumulate, what, position) -> Tracer:
    """``x[index] = value`` (``accumulate``: ``+=`` with repeats added, or a ``write`` mode, ``"mul"`` / ``"max"`` /
    ``"min"``: NumPy's ``np.multiply.at`` / ``maximum.at`` / ``minimum.at``, each repeat applied in turn) where
    ``x[index]`` reads ``targets``; ``value`` broadcasts to ``targets``' shape as in PyTorch and NumPy."""
    mode = accumulate if isinstance(accumulate, str) else "add" if accumulate else "set"
    src, _ = _value_or_src(b, value, what, position)
    shape = tuple(targets.shape)
    vshape = tuple(src.shape)
    while len(vshape) > len(shape) and vshape[0] == 1:  # leading ones are dropped, as both libraries do
        vshape = vshape[1:]
    try:
        sources = np.broadcast_to(_positions(vshape), shape)
    except ValueError:
        raise JacShapeError(f"{what}: a value of shape {fmt(src.shape)} does not broadcast to the "
                            f"{fmt(shape)} elements it writes", position) from None
    if src.ndim == 0:
        return write(b, x, targets, None if mode == "set" else np.zeros(targets.size, np.intp), src, mode, what,
                     position)
    return write(b, x, targets, sources, src, mode, what, position)


@function("index_put")
def _index_put(b, args, kwargs, position):
    """PyTorch's ``index_put(x, indices, values, accumulate=False)``: ``x[indices] = values``
    (a tuple of index arrays); ``accumulate=True`` adds, repeats included; without it a repeated
    position is refused (PyTorch leaves the winner undefined)."""
    a = arguments("index_put", args, kwargs, {"x": REQUIRED, "indices": REQUIRED, "values": REQUIRED,
                                              "accumulate": False}, position)
    x = tensor(b, a["x"], "index_put", position)
    shape = _concrete(x, "index_put", position)
    parts = a["indices"]
    arrays = list(parts) if isinstance(parts, Items) else [parts]
    if not isinstance(parts, Items):  # a literal tuple of constant lists is one constant array
        value = _const_of(b, parts)
        if value is None:
            raise JacValueError("index_put: indices must be a tuple of constant integer arrays", position)
        arrays = [b.const(v, position) for v in np.asarray(value)] if np.ndim(value) >= 2 else [parts]
    if any(computed_index(b, p, position) for p in arrays):  # y.index_put_((x.argsort()[:2],), v)
        if len(arrays) != 1 or static(b, a["accumulate"], "accumulate", position):
            raise JacValueError("index_put: jac writes with an index computed from the inputs only by one 1-d "
                                "index array, accumulate=False", position)
        return computed_write(b, x, arrays[0], a["values"], "index_put", position)
    if len(arrays) > len(shape):
        raise JacShapeError(f"index_put: {len(arrays)} index arrays for an array of {len(shape)} dims", position)
    index = []
    for d, part in enumerate(arrays):
        if is_boolean(b, part):
            raise JacValueError("index_put: a boolean mask as an index is written x[mask] = v", position)
        index.append(_index_array(b, part, shape[d], "indices", "index_put", position))
    try:
        targets = advanced_targets(shape, tuple(index))
    except IndexError as err:
        raise JacShapeError(f"index_put: {err}", position) from None
    accumulate = bool(static(b, a["accumulate"], "accumulate", position))
    return put_values(b, x, targets, a["values"], accumulate, "index_put", position)


@function("put")
def _put(b, args, kwargs, position):
    """PyTorch's ``put(x, index, source, accumulate=False)``: ``x.flatten()[index] = source``."""
    a = arguments("put", args, kwargs, {"x": REQUIRED, "index": REQUIRED, "source": REQUIRED,
                                        "accumulate": False}, position)
    x = tensor(b, a["x"], "put", position)
    size = int(np.prod(_concrete(x, "put", position), dtype=np.int64))
    index = _index_array(b, a["index"], size, "index", "put", position)
    src = tensor(b, a["source"], "put", position)
    if int(np.prod(src.shape, dtype=np.int64)) != index.size:
        raise JacShapeError(f"put: source has {int(np.prod(src.shape, dtype=np.int64))} elements, index "
                            f"{index.size}: they must match", position)
    accumulate = bool(static(b, a["accumulate"], "accumulate", position))
    return write(b, x, index.reshape(-1), np.arange(index.size), src, "add" if accumulate else "set", "put",
                 position)


@function("masked_scatter")
def _masked_scatter(b, args, kwargs, position):
    """PyTorch's ``masked_scatter(x, mask, source)``: where the mask is true, in row-major order,
    the elements of source one after another. The mask must be a constant."""
    a = arguments("masked_scatter", args, kwargs, {"x": REQUIRED, "mask": REQUIRED, "source": REQUIRED},
                  position)
    x = tensor(b, a["x"], "masked_scatter", position)
    shape = _concrete(x, "masked_scatter", position)
    mask = a["mask"]
    flags = _const_of(b, mask)
    if not is_boolean(b, mask) or flags is None:
        raise JacValueError("masked_scatter: the mask must be a constant boolean (where the written elements "
                            "depend on the inputs, write where(mask, new, x) or x[mask] = v)", position)
    try:
        flags = np.broadcast_to(np.asarray(flags) != 0, shape)
    except ValueError:
        raise JacShapeError(f"masked_scatter: the mask {fmt(np.shape(flags))} does not broadcast to "
                            f"{fmt(shape)}", position) from None
    src = tensor(b, a["source"], "masked_scatter", position)
    targets = np.flatnonzero(flags)
    if int(np.prod(src.shape, dtype=np.int64)) < targets.size:
        raise JacShapeError(f"masked_scatter: the mask selects {targets.size} elements but source has only "
                            f"{int(np.prod(src.shape, dtype=np.int64))}", position)
    return write(b, x, targets, np.arange(targets.size), src, "set", "masked_scatter", position)


# --- writing into a named array: y[idx] = v, y += v --------------------------------------------

def held_arrays(value) -> list:
    """The arrays a list, tuple or dict of the text holds at any depth (its items, their items, a dict's values): a
    nested list holding a tensor (``ys = [[t]]``) shares its buffer; Memory read the first level alone, so a write
    into ``t`` left ``ys[0][0]`` as it was, where PyTorch changes it (a silent wrong answer before session 55)."""
    from .trees import Dict
    found, pending = [], [value]
    while pending:
        v = pending.pop()
        if isinstance(v, Tracer):
            found.append(v)
        elif type(v) is Dict:
            pending.extend(v.values())
        elif isinstance(v, (list, tuple)):
            pending.extend(v)
    return found


class Memory:
    """Which names of an expression may share memory, as NumPy's and PyTorch's arrays would.

    Each name holds a set of tokens, one per buffer it may reach: an input its own, a fresh
    result (``x * 2``, ``x.clone()``) a new one, a view (a reshape, transpose, broadcast, any
    index, ``detach``, or a function that returns its argument) its base's, found by walking the
    graph through the view ops. Writing into a name is exact only when it reaches no input and no
    other name shares a token with it: rebinding it to the written value is then what the
    libraries do in place."""

    def __init__(self, b, inputs: dict):
        self.b = b
        self.tokens: dict = {}
        self.by_node: dict = {}
        self.read_only: dict = {}  # name -> the call whose read-only view it is (NumPy's sliding_window_view)
        self.objects: dict = {}  # name -> the name first bound to the Python object it holds (v = a: a's)
        # names bound to a node another name was bound to, by no alias and no view written out (g = u.float(),
        # u.contiguous(): jac's graph shows u's node, the library may copy): lang/views.py follows no write into them;
        # bound_nodes: node id -> the name last bound (or rebound) to it
        self.seconds: set = set()
        # names bound to a NumPy call that copies or not as a layout, dtype or ownership jac does not know says
        # (np.require(a.T, requirements='O'), lang/copies.numpy_layout): lang/views.py follows no write into them
        self.maybe_copies: set = set()
        # names bound by a call PyTorch answers with a new tensor object, though jac's node is its operand's (u =
        # torch.movedim(t, 1, 1)): a write of the shape alone into either leaves the other's shape (the parser's in_place)
        self.distinct: set = set()
        self.bound_nodes: dict = {}
        for name, t in inputs.items():
            self.input(name, t)

    def input(self, name: str, t) -> None:
        """``name`` is the input ``t``: a buffer of its own (an input the text makes too, ``x =
        torch.ones(3, requires_grad=True)``)."""
        self.tokens[name] = self.by_node[t.id] = frozenset((("input", name),))

    def bind(self, name: str, value, fresh: bool, alias: str | None = None, viewing: str | None = None) -> None:
        """``name = value``; ``fresh``: the expression is a copy (``x.clone()``, ``np.copy(x)``); ``alias``: the
        expression is that name (``v = a``): its buffers exactly (a copy's node is its argument's, whose buffers
        include the input's: ``a = x.clone(); v = a`` is no view of ``x``); ``viewing``: the expression is a chain of
        views of that name (``v = a[0]``): its buffers exactly, likewise."""
        self.read_only.pop(name, None)
        self.distinct.discard(name)  # (the parser marks it again where the call makes a tensor of its own)
        self.objects[name] = self.objects.get(alias, alias) if alias is not None else name
        if isinstance(value, Items):  # its arrays at any depth: ys = [[t]] holds t's buffer too (session 55)
            found = frozenset().union(*(self._base(p) for p in held_arrays(value)))
            self.tokens[name] = frozenset((object(),)) if fresh else found
            return
        if fresh or alias is not None or viewing is not None or self.bound_nodes.get(value.id, name) == name:
            self.seconds.discard(name)
        else:
            self.seconds.add(name)
        self.bound_nodes[value.id] = name
        tokens = frozenset((object(),)) if fresh else self.tokens[alias] if alias is not None \
            else self.tokens[viewing] if viewing is not None else self._base(value)
        self.tokens[name] = tokens
        self.by_node[value.id] = self.by_node.get(value.id, frozenset()) | tokens

    def holds(self, name: str, added: list, fresh: bool = False) -> None:
        """The list or dict ``name`` now holds ``added`` too (``xs.append(y)``, ``d['a'] = y``): their buffers, or
        (``fresh``: ``xs.append(y.clone())``) a new one."""
        if fresh:
            self.tokens[name] = self.tokens.get(name, frozenset()) | frozenset((object(),))
            return
        arrays = held_arrays(added)  # xs.append([y]): y's buffer at any depth
        self.tokens[name] = self.tokens.get(name, frozenset()).union(*(self._base(p) for p in arrays))

    def rebind(self, name: str, value: Tracer) -> None:
        """``name`` written in place: the same buffers, now holding ``value``."""
        self.seconds.discard(name)
        self.bound_nodes[value.id] = name
        self.by_node[value.id] = self.by_node.get(value.id, frozenset()) | self.tokens[name]

    def _base(self, value: Tracer) -> frozenset:
        from ..ir.ops import OPS
        from .copies import _reshape_copies

        nodes = self.b.nodes
        i = value.id
        while i not in self.by_node:
            node = nodes[i]
            op = OPS.get(node.op)
            if op is not None and node.args and (op.view is not None or (node.op == "einsum" and len(node.args) == 1)) \
                    and not _reshape_copies(self.b, i):  # x.T.flatten(), a function's x[:, 1:].reshape(-1): a copy
                i = node.args[0]
                continue
            if node.op == "const" and i in self.b.folded_views:  # a view of a constant, folded: its argument's
                i = self.b.folded_views[i]  # buffers, as of an array the inputs reach (np.diagonal of a constant)
                continue
            if node.op == "const" and isinstance(node.value, np.ndarray):  # a view of a constant is folded
                shared = [t for j, t in self.by_node.items() if nodes[j].op == "const"
                          and isinstance(nodes[j].value, np.ndarray) and np.may_share_memory(nodes[j].value,
                                                                                             node.value)]
                if shared:
                    return frozenset().union(*shared)
            # a buffer of its own, the same each time this node is reached: a = xs[0] of a list xs = [x * 2, ...]
            # reaches the buffer xs holds (a write into a must then be refused, as it changes xs[0] too)
            self.by_node[i] = tokens = frozenset((object(),))
            return tokens
        return self.by_node[i]

    def second(self, name: str) -> bool:
        """Was ``name`` bound to a node another name was bound to, by no alias and no view written out (``g =
        u.float()``)?"""
        return name in self.seconds

    def aliases(self, name: str) -> list:
        """The other names bound to the very object ``name`` holds (``u = t``: a Python alias, not a view)."""
        mine = self.objects.get(name, name)
        return [n for n, o in self.objects.items() if o == mine and n != name and self.tokens.get(n) == self.tokens.get(name)]

    def check(self, name: str, what: str, position, shape_only: frozenset | None = None) -> None:
        """Refuse a write into ``name`` (``what``: the statement, ``y[0] = ...``) that the
        libraries would not make on a fresh array of its own. ``shape_only``: ``name.unsqueeze_(0)``, which changes
        the shape of the object ``name`` holds and no element: the other names holding arrays (views, ``shape_only``'s
        aliases, which the caller rebinds) are unchanged; a container holding it is not. The parser passes the names
        it rebinds itself the same way: Python's aliases, and the views of one buffer it follows (lang/views.py)."""
        if name in self.read_only:  # w = sliding_window_view(x, 3): NumPy's view is read-only
            raise JacValueError(f"{what}: '{name}' is a read-only view ({self.read_only[name]}): NumPy raises "
                                "ValueError: assignment destination is read-only; write into a copy: "
                                f"{name} = {name}.copy()", position)
        tokens = self.tokens.get(name, frozenset())
        inputs = sorted(t[1] for t in tokens if isinstance(t, tuple))
        if name in inputs:
            raise JacValueError(f"{what}: '{name}' is an input, a leaf that requires grad: PyTorch refuses to write "
                                "into it in place (\"a leaf Variable that requires grad is being used in an in-place "
                                "operation\"; NumPy would change the input itself); write into a copy: "
                                f"y = {name}.clone()", position)
        if inputs:
            raise JacValueError(f"{what}: '{name}' is the input '{inputs[0]}' or a view of it (an alias, index, "
                                "reshape or transpose shares its memory): PyTorch refuses to write into a leaf that "
                                f"requires grad, NumPy would change '{inputs[0]}' too; write into a copy: "
                                f"{name} = {inputs[0]}.clone()", position)
        others = sorted(n for n, t in self.tokens.items() if n != name and t & tokens
                        and (shape_only is None or n not in shape_only))
        outside = [n for n in others if " outside " in n]
        if outside:  # def f(y): y[0] = v called as f(y): the caller's array (parser._shadowed)
            base, where = outside[0].split(" outside ")
            raise JacValueError(f"{what}: '{name}' is the array its caller holds as '{base}' (outside {where}): NumPy "
                                "and PyTorch write into the caller's array itself, which jac's values do not follow "
                                "(a Python list's items are followed, where no other name holds the list); write into "
                                f"a copy ({name} = {name}.clone() or .copy()) and return it", position)
        if others and name.startswith("(") and name.endswith(")"):  # (f(c)).pow_(2): a temporary (in_place_temporary)
            text, method = name[1:-1], what[len(name) + 1:] if what.startswith(name + ".") else what
            raise JacValueError(f"{text}.{method}: {text} shares its memory with '{others[0]}' (it is a view of it, or "
                                f"it itself): NumPy and PyTorch would change '{others[0]}' too, which jac's values "
                                f"cannot follow here; write into a copy ({text}.clone().{method}), or into "
                                f"'{others[0]}' itself", position)
        if others:
            raise JacValueError(f"{what}: '{name}' shares its memory with '{others[0]}' (an alias, or a view such as "
                                f"{name}[1:], {name}.T, {name}.reshape(...)): NumPy and PyTorch would change "
                                f"'{others[0]}' too, which jac's values cannot follow; write into a copy "
                                f"({name} = {name}.clone() before the write)", position)


# --- JAX's x.at[idx].set(v) / .add(v) / .multiply(v) / .get() ---------------------------------

class At:
    """``x.at``: waits for its index (``x.at[idx]``)."""

    def __init__(self, array: Tracer):
        self.array = array


class AtIndex:
    """``x.at[idx]``: the positions ``x[idx]`` reads (``targets``) and that read itself, waiting
    for the method that says what to do there."""

    METHODS = {"set": "set", "add": "add", "multiply": "mul", "mul": "mul", "min": "min", "max": "max",
               "divide": "mul", "power": "mul", "subtract": "add"}
    keep = None  # the positions written, of targets' (an index out of bounds dropped: AtOutOfBounds)

    def __init__(self, array: Tracer, targets: np.ndarray, read: Tracer):
        self.array, self.targets, self.read = array, targets, read

    def call(self, b, method: str, args: list, kwargs: dict, position) -> Tracer:
        what = f".at[...].{method}()"
        _promises(b, self.targets, kwargs, what, position)
        kwargs = {k: v for k, v in kwargs.items() if k not in ("indices_are_sorted", "unique_indices")}
        if method == "get":
            arguments(what, args, kwargs, {"mode": None, "fill_value": None}, position)
            return self.read
        if method == "apply":
            raise JacValueError(f"{what} is not read: JAX has no derivative of it (scatter_apply's JVP is not "
                                "implemented); write the function of the elements, x.at[idx].set(f(x[idx]))", position)
        if method not in self.METHODS:
            raise JacValueError(f"x.at[...] has no method '.{method}()' (JAX's are set, add, multiply, get, ...)",
                                position)
        a = arguments(what, args, kwargs, {"values": REQUIRED, "mode": None}, position)
        if static(b, a["mode"], "mode", position) not in (None, "promise_in_bounds", "clip", "drop", "fill"):
            raise JacValueError(f"{what}: mode must be one of JAX's", position)
        mode = self.METHODS[method]
        src, _ = _value_or_src(b, a["values"], what, position)
        targets, shape = self.targets, tuple(self.targets.shape)
        try:
            sources = np.broadcast_to(_positions(tuple(src.shape)), shape)
        except ValueError:
            raise JacShapeError(f"{what}: values of shape {fmt(src.shape)} do not broadcast to the {fmt(shape)} "
                                "elements indexed", position) from None
        if self.keep is not None:  # JAX's drop: the positions out of bounds write nothing
            targets, sources = targets[self.keep], sources[self.keep]
        if mode == "set" and duplicates_message(targets, tuple(self.array.shape), what):
            keep = same_values(targets, tuple(src.shape))  # each repeat writes the same element: it wins, once
            if keep is None:
                raise JacValueError(f"{what} writes one element more than once, from different elements of the "
                                    "values: JAX leaves which one wins (and takes the derivative) undefined, so jac "
                                    "refuses repeated indices here (.add and .multiply take them all)", position)
            targets, sources = targets.reshape(-1)[keep], sources.reshape(-1)[keep]
        if method == "subtract":  # JAX's: the values negated, added (a repeat subtracts each)
            src = b.apply("neg", src, position=position)
        if mode in ("max", "min") and dtypes.kind_of(b, self.array.id) is None and np.size(targets):
            return extreme_into(b, self.array, targets, sources, src, mode == "min", position)
        if method in ("divide", "power"):  # JAX's: x / (or **) the values multiplied into ones at the positions
            ones = b.const(np.ones(tuple(self.array.shape)), position)
            factors = write(b, ones, targets, sources, src, mode, what, position)
            return b.apply("div" if method == "divide" else "pow", self.array, factors, position=position)
        return write(b, self.array, targets, sources, src, mode, what, position)


def extreme_into(b, x: Tracer, targets, sources, src: Tracer, minimum: bool, position) -> Tracer:
    """JAX's ``x.at[idx].max(v)`` / ``lax.scatter_max`` (``.min``): the ``scatter_extreme`` op with x's own element,
    whose derivative shares a tie equally among the operand's element and the values equal to the result, as JAX's
    rule (``write``'s rounds of ``maximum`` split a three-way tie 1/4, 1/4, 1/2)."""
    return b.apply("scatter_extreme", x, src, targets=np.asarray(targets, dtype=np.intp).reshape(-1),
                   sources=np.asarray(sources, dtype=np.intp).reshape(-1), minimum=minimum, include=True,
                   position=position)


def _promises(b, targets: np.ndarray, kwargs: dict, what: str, position) -> None:
    """``unique_indices=True`` / ``indices_are_sorted=True`` are promises JAX trusts: where the index breaks one,
    JAX's result is undefined (a repeated position multiplied once), so jac refuses rather than answer otherwise."""
    flat = targets.reshape(-1)
    if "unique_indices" in kwargs and static(b, kwargs["unique_indices"], "unique_indices", position) \
            and np.unique(flat).size != flat.size:
        raise JacValueError(f"{what}: unique_indices=True promises JAX no repeated position, and this index repeats "
                            "one: JAX's result is then undefined; drop unique_indices", position)
    if "indices_are_sorted" in kwargs and static(b, kwargs["indices_are_sorted"], "indices_are_sorted", position) \
            and (np.diff(flat) < 0).any():
        raise JacValueError(f"{what}: indices_are_sorted=True promises JAX sorted indices, and these are not: JAX's "
                            "result is then undefined; drop indices_are_sorted", position)


# What an error names when either is used as an operand ("a ... is not a number"):
At.__name__ = "x.at without [index].set(v) / .add(v) / .multiply(v) / .get() ..."
AtIndex.__name__ = "x.at[index] without .set(v) / .add(v) / .multiply(v) / .get()"


# --- put_along_axis: NumPy's writes into its argument (a statement), JAX's returns the array ---

def along_axis_targets(b, x: Tracer, indices, axis, fname, position) -> np.ndarray:
    """The flat positions of ``x`` that ``take_along_axis(x, indices, axis)`` reads, shaped as it."""
    shape = _concrete(x, fname, position)
    if axis is None:
        shape = (int(np.prod(shape, dtype=np.int64)),)
        axis = 0
    else:
        axis = _axis(b, axis, len(shape), fname, position, "axis")
    index = _index_array(b, indices, shape[axis], "indices", fname, position, ndim=len(shape))
    grids = [np.arange(n).reshape([-1 if d == k else 1 for k in range(len(shape))]) for d, n in enumerate(shape)]
    grids[axis] = index
    try:
        return _positions(shape)[tuple(np.broadcast_arrays(*grids))]
    except ValueError:
        raise JacShapeError(f"{fname}: indices of shape {fmt(index.shape)} do not broadcast with {fmt(shape)} "
                            f"outside axis {axis}", position) from None


def put_along_axis(b, x, indices, values, axis, fname, position) -> Tracer:
    if computed_index(b, indices, position):  # np.put_along_axis(y, np.argsort(x)[:2], v, 0)
        if x.ndim != 1 or axis is not None and static(b, axis, "axis", position) not in (0, -1):
            raise JacValueError(f"{fname}: jac writes with an index computed from the inputs only into a 1-d array",
                                position)
        return computed_write(b, x, indices, values, fname, position)
    targets = along_axis_targets(b, x, indices, axis, fname, position)
    return put_values(b, x, targets, values, False, fname, position)


@function("put_along_axis")
def _put_along_axis(b, args, kwargs, position):
    """JAX's ``jnp.put_along_axis(arr, indices, values, axis, inplace=False)``: ``arr`` with
    ``values`` written where ``take_along_axis`` reads (a repeated index refused). NumPy's writes
    into ``arr`` and returns None: a statement of its own, ``np.put_along_axis(y, idx, v, 1)``."""
    a = arguments("put_along_axis", args, kwargs, {"x": REQUIRED, "indices": REQUIRED, "values": REQUIRED,
                                                   "axis": REQUIRED, "inplace": True, "mode": None}, position)
    if static(b, a["inplace"], "inplace", position) is not False:
        raise JacValueError("put_along_axis writes into its first argument and returns None (NumPy): write it as a "
                            "statement of its own, np.put_along_axis(y, indices, values, axis); ...; or pass "
                            "inplace=False (JAX) for the written array", position)
    x = tensor(b, a["x"], "put_along_axis", position)
    axis = None if a["axis"] is None else a["axis"]
    return put_along_axis(b, x, a["indices"], a["values"], axis, "put_along_axis", position)


# --- PART hvocab10: np.fill_diagonal, NumPy's write into its argument (a statement) ---

def fill_diagonal(b, x, val, wrap, what, position) -> Tracer:
    """``np.fill_diagonal(x, val, wrap)``: NumPy's ``x.flat[:end:step] = val`` (val's elements repeated in turn
    along the diagonal, as a flat write cycles them; ``wrap`` restarts a tall matrix's diagonal below it)."""
    shape = _concrete(x, "fill_diagonal", position)
    if len(shape) < 2:
        raise JacShapeError(f"{what}: array must be at least 2-d (NumPy), got shape {fmt(shape)}", position)
    if len(shape) == 2:
        step, end = shape[1] + 1, (None if static(b, wrap, "wrap", position) else shape[1] * shape[1])
    elif len(set(shape)) != 1:
        raise JacShapeError(f"{what}: all dimensions of input must be of equal length (NumPy), got {fmt(shape)}",
                            position)
    else:
        step, end = 1 + int(np.cumprod(shape[:-1]).sum()), None
    targets = _positions(shape).reshape(-1)[:end:step]
    src, _ = _value_or_src(b, val, what, position)
    if src.ndim and targets.size:  # the flat write takes val's elements in turn
        flat = _reshape_to(b, src, (int(np.prod(src.shape, dtype=np.int64)),), position)
        if flat.shape[0] == 0:
            return x  # NumPy writes nothing from an empty val
        src = b.apply("getitem", flat, index=(np.arange(targets.size) % flat.shape[0],), position=position)
    return put_values(b, x, targets, src, False, what, position)


@variant("numpy", "fill_diagonal")
def _fill_diagonal(b, args, kwargs, position):
    """np.fill_diagonal(a, val, wrap=False): a statement of its own (NumPy writes into a and returns None):
    a's diagonal set to val, the derivative to val's elements where they land and 0 to the diagonal written over;
    JAX's jnp.fill_diagonal(a, val, inplace=False) returns the array so written"""
    a = arguments("fill_diagonal", args, kwargs, {"x": REQUIRED, "val": REQUIRED, "wrap": False, "inplace": True},
                  position)
    if static(b, a["inplace"], "inplace", position) is False:
        x = tensor(b, a["x"], "fill_diagonal", position)
        return fill_diagonal(b, x, a["val"], a["wrap"], "fill_diagonal", position)
    raise JacValueError("np.fill_diagonal writes into its first argument and returns None (NumPy): write it as a "
                        "statement of its own, np.fill_diagonal(A, v); ...; or as a value, A * (1 - eye) + v * eye "
                        "with eye = np.eye(*A.shape), or pass inplace=False (JAX) for the written array", position)


# --- PART hvocab10: PyTorch's select_scatter / slice_scatter / diagonal_scatter (x with a view's elements replaced) ---

def _view_scatter(fname: str):
    def lower(b, args, kwargs, position):
        params = {"select_scatter": {"x": REQUIRED, "src": REQUIRED, "axis": REQUIRED, "index": REQUIRED},
                  "slice_scatter": {"x": REQUIRED, "src": REQUIRED, "axis": 0, "start": None, "end": None, "step": 1},
                  "diagonal_scatter": {"x": REQUIRED, "src": REQUIRED, "offset": 0, "dim1": 0, "dim2": 1}}[fname]
        a = arguments(fname, args, kwargs, params, position)
        x = tensor(b, a["x"], fname, position)
        src = tensor(b, a["src"], fname, position)
        shape = _concrete(x, fname, position)
        if x.ndim < (2 if fname == "diagonal_scatter" else 1):
            raise JacShapeError(f"{fname}: the input of shape {fmt(shape)} has no "
                                f"{'diagonal' if fname == 'diagonal_scatter' else 'axis'} to write into", position)
        where = _positions(shape)
        if fname == "diagonal_scatter":
            d1, d2 = (_axis(b, a[k], len(shape), fname, position) for k in ("dim1", "dim2"))
            if d1 == d2:
                raise JacValueError(f"{fname}: dim1 and dim2 are both axis {d1}; a diagonal needs two axes", position)
            targets = np.diagonal(where, static_int(b, a["offset"], "offset", position), d1, d2)
        else:
            axis = _axis(b, a["axis"], len(shape), fname, position)
            if fname == "select_scatter":
                i = static_int(b, a["index"], "index", position)
                if not -shape[axis] <= i < shape[axis]:
                    raise JacShapeError(f"{fname}: index {i} is out of range for dimension {axis} of size "
                                        f"{shape[axis]}", position)
                part = i
            else:
                bounds = [None if a[k] is None else static_int(b, a[k], k, position) for k in ("start", "end", "step")]
                if bounds[2] is not None and bounds[2] < 1:
                    raise JacValueError(f"{fname}: step must be positive (PyTorch)", position)
                part = slice(*bounds)
            targets = where[(slice(None),) * axis + (part,)]
        if tuple(src.shape) != tuple(targets.shape):
            raise JacShapeError(f"{fname}: src must have shape {fmt(targets.shape)} (the elements replaced), got "
                                f"{fmt(src.shape)} (PyTorch asks for the exact shape)", position)
        return put_values(b, x, np.array(targets), src, False, fname, position)
    lower.__doc__ = (f"torch.{fname}: x with the elements of its {fname.split('_')[0]} view replaced by src "
                     "(a write: the derivative goes to src there and to x elsewhere)")
    return lower


for _fname in ("select_scatter", "slice_scatter", "diagonal_scatter"):
    variant("torch", _fname)(variant("method", _fname)(_view_scatter(_fname)))


# --- F.max_unpool1d / 2d / 3d: each value written at its flat index in its (N, C) plane ---

def _unpool_size(b, value, lengths, kernel, stride, padding, fname, position) -> tuple:
    """PyTorch's output size (``_unpool_output_size``): (n - 1) · stride + kernel - 2 · padding per axis, or
    ``output_size`` (nd or nd + 2 sizes, the spatial ones last) within stride of it."""
    nd = len(kernel)
    default = tuple((n - 1) * s + k - 2 * p for n, k, s, p in zip(lengths, kernel, stride, padding))
    if static(b, value, "output_size", position) is None:
        size = default
    else:
        given = static_ints(b, value, "output_size", position)
        if len(given) == nd + 2:
            given = given[2:]
        if len(given) != nd:
            raise JacValueError(f"{fname}(): output_size must hold {nd} or {nd + 2} integers, got {list(given)}",
                                position)
        for d, (o, m, s) in enumerate(zip(given, default, stride)):
            if not m - s < o < m + s:
                raise JacValueError(f"{fname}(): invalid output_size {list(given)} (dim {d} must be between "
                                    f"{m - s} and {m + s}, exclusive, as PyTorch)", position)
        size = given
    if any(o < 1 for o in size):
        raise JacShapeError(f"{fname}: the output would have spatial size {list(size)}, which holds no element",
                            position)
    return size


def _unpool_indices(b, value, shape, plane: int, fname, position) -> np.ndarray:
    """The constant (or bound) flat indices, each an element of its (N, C) plane of ``plane`` elements."""
    v = index_values(b, value, "indices", fname, position, " (max_pool's return_indices computed from the inputs "
                     "depend on their values, which jac does not read here)")
    if tuple(v.shape) != tuple(shape):
        raise JacShapeError(f"{fname}: indices must have the input's shape {fmt(shape)}, got {fmt(v.shape)}",
                            position)
    bad = (v < 0) | (v >= plane)
    if bad.any():
        raise JacValueError(f"{fname}: found an invalid max index {int(v[bad][0])}: an output plane holds {plane} "
                            f"elements (PyTorch refuses it too)", position)
    return v.astype(np.intp)


def _max_unpool(nd: int):
    fname = f"max_unpool{nd}d"

    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "indices": REQUIRED, "kernel_size": REQUIRED,
                                            "stride": None, "padding": 0, "output_size": None}, position)
        x = tensor(b, a["x"], fname, position)
        _spatial_input(x, nd, fname, position)
        kernel = _per_axis(b, a["kernel_size"], nd, "kernel_size", fname, position, 1)
        stride = kernel if static(b, a["stride"], "stride", position) in (None, ()) else \
            _per_axis(b, a["stride"], nd, "stride", fname, position, 1)
        padding = _per_axis(b, a["padding"], nd, "padding", fname, position, 0)
        lead = tuple(x.shape[:x.ndim - nd])
        size = _unpool_size(b, a["output_size"], tuple(x.shape[x.ndim - nd:]), kernel, stride, padding, fname,
                            position)
        plane = int(np.prod(size))
        index = _unpool_indices(b, a["indices"], tuple(x.shape), plane, fname, position)
        planes = int(np.prod(lead))
        targets = index.reshape(planes, -1) + plane * np.arange(planes)[:, None]
        shape = lead + tuple(size)
        repeated = np.bincount(targets.reshape(-1), minlength=1) > 1
        if repeated.any():
            i = np.unravel_index(int(np.argmax(repeated)), (planes, plane))
            raise JacValueError(f"{fname}: index {int(i[1])} appears more than once in plane {int(i[0])}: which value "
                                "PyTorch writes there is undefined (and its derivative sends the gradient to "
                                "each), so jac refuses repeated indices", position)
        zeros = b.const(np.zeros(shape, dtype=b.dtype), position)
        return write(b, zeros, targets, np.arange(targets.size), x, "set", fname, position)
    lower.__doc__ = (f"F.{fname}(input, indices, kernel_size, stride=kernel_size, padding=0, output_size=None): "
                     "zeros with each input value at its flat index in its (N, C) plane, as PyTorch; the indices a "
                     "constant or bound array, repeated ones refused")
    return lower


for _nd in (1, 2, 3):
    variant("torch", f"max_unpool{_nd}d")(_max_unpool(_nd))


# --- JAX's x.at[idx] with an index out of bounds: mode= says what JAX does there (session 27) ---

def out_of_bounds(shape: tuple, index: tuple) -> tuple:
    """For an index (integers, integer arrays, slices, None; the parser's, ellipsis expanded) some of whose
    integers are out of bounds of ``shape``, as JAX reads it: ``(targets, inside)``, the flat positions read with
    each integer clamped into its axis after a negative one is counted from the end (JAX's ``clip``), and whether
    each is in bounds, both shaped as the read."""
    padded, clipped, sizes, axis = [], [], [], 0
    for item in index:
        if item is None or isinstance(item, slice):
            padded.append(item)
            clipped.append(item)
            if item is not None:
                sizes.append(shape[axis])
                axis += 1
            continue
        n = shape[axis]
        axis += 1
        given = np.asarray(item)
        norm = np.where(given < 0, given + n, given)
        out = (norm < 0) | (norm >= n)
        padded.append(np.where(out, n, norm) if given.ndim else int(n if out else norm))  # out: the extra slot n
        clipped.append(np.clip(norm, 0, n - 1) if given.ndim else int(np.clip(norm, 0, n - 1)))
        sizes.append(n + 1)
    sizes += list(shape[axis:])
    coords = np.unravel_index(_positions(tuple(sizes))[tuple(padded)], tuple(sizes))
    inside = np.logical_and.reduce([c < n for c, n in zip(coords, shape)])
    return _positions(shape)[tuple(clipped)], np.asarray(inside)


class AtOutOfBounds(AtIndex):
    """``x.at[idx]`` whose index is out of bounds somewhere, read as JAX reads it by ``mode=``: ``.get()`` clamps
    (``'clip'``) or fills (``'fill'`` / ``'drop'``: ``fill_value``, NaN by default); the updates (``.set``,
    ``.add``...) drop what is out of bounds (their default, ``'drop'`` and ``'fill'``) or clamp (``'clip'``).
    ``'promise_in_bounds'`` is a promise the index breaks (JAX's result undefined): refused. ``.get()``'s default
    clamps: of integers and slices alone (JAX's dynamic slice) with the derivative, as ``'clip'``; of an index with
    an integer array (``gathered``: JAX's gather) the value clamped but its derivative dropped: refused."""

    def __init__(self, b, array: Tracer, targets: np.ndarray, inside: np.ndarray, position, gathered: bool = True):
        size = int(np.prod(array.shape, dtype=np.int64))
        read = b.apply("getitem", _reshape_to(b, array, (size,), position), index=(targets,), position=position)
        super().__init__(array, targets, read)
        self.inside, self.gathered = inside, gathered

    def call(self, b, method: str, args: list, kwargs: dict, position) -> Tracer:
        what = f".at[...].{method}()"
        mode = static(b, kwargs["mode"], "mode", position) if kwargs.get("mode") is not None else None
        if mode not in (None, "promise_in_bounds", "clip", "drop", "fill"):
            raise JacValueError(f"{what}: mode must be one of JAX's ('clip', 'fill', 'drop', 'promise_in_bounds')",
                                position)
        if mode == "promise_in_bounds":
            raise JacValueError(f"{what}: mode='promise_in_bounds' promises JAX in-bounds indices, and this index is "
                                "out of bounds: JAX's result is then undefined; write mode='clip', 'fill' or 'drop'",
                                position)
        if method == "get" and mode is None and self.gathered:  # JAX's gather clamps, its transpose drops
            raise JacValueError(f"{what} of an index array out of bounds: JAX's default mode clamps the value there "
                                "but gives it no derivative (its transpose drops what is out of bounds), so jac "
                                "refuses it; write mode='clip' (clamped, with its derivative) or mode='fill' "
                                "(fill_value)", position)
        clip = mode == "clip" or (method == "get" and mode is None)  # integers alone: JAX's dynamic slice clamps
        if method == "get":
            read = super().call(b, method, args, kwargs, position)
            if clip:
                return read
            fill = kwargs.get("fill_value")
            if fill is not None and not isinstance(static(b, fill, "fill_value", position), (int, float)):
                raise JacValueError(f"{what}: fill_value is a number written in the text, as JAX requires", position)
            fill = b.const(float("nan") if fill is None else float(static(b, fill, "fill_value", position)),
                           position)
            return b.apply("where", _mask(b, self.inside, position), read, fill, position=position)
        self.keep = None if clip else self.inside.reshape(-1)
        kept = self.targets.reshape(-1) if self.keep is None else self.targets.reshape(-1)[self.keep]
        if method == "set" and duplicates_message(kept, tuple(self.array.shape), what):
            raise JacValueError(f"{what} with an index out of bounds clamped onto another: two values are written "
                                "to one element, and JAX leaves which one wins undefined; write mode='drop'",
                                position)
        if self.keep is not None:
            self.targets = self.targets.reshape(-1)
        return super().call(b, method, args, kwargs, position)
