"""More of ``jax.lax`` (registered in ``functions``' table when ``lang`` is imported): its slices and updates at
constant offsets (``dynamic_slice`` clamps its starts as JAX does), ``pad`` (negative and interior padding),
``select_n``, ``div`` and ``round`` as lax rounds, the comparisons, ``sort`` / ``sort_key_val`` / ``top_k``,
``dot_general`` (an einsum), the shape ops, and ``LAX_REFUSED``: what jac refuses by category (collectives,
sharding, tokens, random bits), each with why. Every name lowers onto the functions and ops jac has: no op of
its own, so the derivatives are those ops' rules.
"""

from __future__ import annotations

import numpy as np

from .functions import FUNCTIONS, REQUIRED, Items, reads_as, JacValueError, Static, arguments, boolean, library_function, \
    static, static_int, static_ints, tensor, variant

_NAMED_AXES = ("jac has no devices or named axes (a collective is an error in JAX too outside jax.pmap / "
               "jax.shard_map / a jax.vmap with axis_name, and jac reads no axis_name): write what it computes on "
               "one device, {}")
# the collectives read inside jax.vmap(f, axis_name=...) (lang/names30.py): LAX_REFUSED's message outside one
COLLECTIVES = frozenset({"psum", "pmean", "pmax", "pmin", "all_gather", "axis_index", "axis_size", "ppermute",
                         "pshuffle"})
# jax.lax names that make no sense without devices, tokens or a random state: refused before their arguments
LAX_REFUSED = {
    **{name: _NAMED_AXES.format(what) for name, what in (
        ("psum", "jnp.sum(x) over the mapped axis"), ("pmean", "jnp.mean(x) over the mapped axis"),
        ("pmax", "jnp.max(x) over the mapped axis"), ("pmin", "jnp.min(x) over the mapped axis"),
        ("all_gather", "the array itself"), ("all_to_all", "a jnp.swapaxes of the array"),
        ("ppermute", "a jnp.roll or an index of the array"), ("pshuffle", "an index of the array"),
        ("psum_scatter", "jnp.sum(x) over the mapped axis"), ("pswapaxes", "jnp.swapaxes(x, a, b)"),
        ("axis_index", "the index as a constant"), ("axis_size", "the size as a constant"),
        ("pbroadcast", "the array itself"), ("pcast", "the array itself"), ("psend", "the array itself"),
        ("precv", "the array itself"), ("ragged_all_to_all", "the array itself"))},
    "with_sharding_constraint": "jac computes on one CPU and has no sharding: write the array itself",
    "create_token": "jac has no effects to order, so no tokens",
    "after_all": "jac has no effects to order, so no tokens",
    "rng_bit_generator": "jac draws no random bits of JAX's: bind the values as an input (x:3 draws one with --seed)",
    "rng_uniform": "jac draws no random numbers of JAX's: bind the values as an input (x:3 draws one with --seed)",
    "platform_dependent": "jac computes on one CPU: write the CPU branch",
    "zeta": "JAX has no derivative rule for lax.zeta (jax.jacrev raises NotImplementedError): write "
            "jax.scipy.special.zeta(x, q), whose derivative by q JAX and jac both have",
}


def _numpy(name):
    """jnp's lowering of ``name`` (NumPy's own spelling, else the shared one)."""
    return library_function("numpy", name) or FUNCTIONS[name]


def _tuples(v):
    """A constant's nested lists (``static`` of a 2-d array) as nested tuples."""
    return tuple(_tuples(i) for i in v) if isinstance(v, (list, tuple)) else v


def _x(b, a, fname, position, key="x"):
    return tensor(b, a[key], f"jax.lax.{fname}", position)


def _refuse(fname, message, position):
    raise JacValueError(f"jax.lax.{fname}: {message}", position)


def _dims(b, value, x, fname, position, what="dimensions") -> tuple:
    """Constant axes of ``x`` (negative ones counted from the end), each once, as JAX checks them."""
    dims = static_ints(b, value, f"jax.lax.{fname}'s {what}", position) if value != () else ()
    out = tuple(d + x.ndim if d < 0 else d for d in dims)
    if any(not 0 <= d < x.ndim for d in out) or len(set(out)) != len(out):
        _refuse(fname, f"{what} {dims} are not distinct axes of an array of {x.ndim} axes", position)
    return out


def _sizes(x, fname, position) -> tuple:
    if not all(isinstance(n, int) for n in x.shape):
        _refuse(fname, "needs concrete sizes, not symbolic ones", position)
    return tuple(x.shape)


def _slice(b, x, starts, limits, strides, position):
    index = tuple(slice(s, e, t) for s, e, t in zip(starts, limits, strides))
    return x if all(s == 0 and e == n and t == 1 for (s, e, t), n in zip(zip(starts, limits, strides), x.shape)) \
        else b.apply("getitem", x, index=index, position=position)


# --- shapes -------------------------------------------------------------------------------------------------

@variant("jax.lax", "expand_dims")
def _expand_dims(b, args, kwargs, position):
    """jax.lax.expand_dims(array, dimensions): axes of size 1 inserted at ``dimensions`` of the result."""
    a = arguments("expand_dims", args, kwargs, {"x": REQUIRED, "dimensions": REQUIRED}, position)
    x = _x(b, a, "expand_dims", position)
    dims = static_ints(b, a["dimensions"], "jax.lax.expand_dims's dimensions", position)
    ndim = x.ndim + len(dims)
    dims = sorted(d + ndim if d < 0 else d for d in dims)
    if any(not 0 <= d < ndim for d in dims) or len(set(dims)) != len(dims):
        _refuse("expand_dims", f"dimensions {dims} are not distinct axes of the result ({ndim} axes)", position)
    sizes = iter(x.shape)
    shape = tuple(1 if i in dims else next(sizes) for i in range(ndim))
    return b.apply("reshape", x, shape=shape, position=position)


@variant("jax.lax", "squeeze")
def _squeeze(b, args, kwargs, position):
    """jax.lax.squeeze(array, dimensions): the axes ``dimensions`` removed; each must have size 1."""
    a = arguments("squeeze", args, kwargs, {"x": REQUIRED, "dimensions": REQUIRED}, position)
    x = _x(b, a, "squeeze", position)
    dims = _dims(b, a["dimensions"], x, "squeeze", position)
    if any(x.shape[d] != 1 for d in dims):
        _refuse("squeeze", f"can only remove axes of size 1, got shape {tuple(x.shape)} and dimensions {dims}",
                position)
    return b.apply("reshape", x, shape=tuple(n for i, n in enumerate(x.shape) if i not in dims), position=position)


@variant("jax.lax", "broadcast")
def _broadcast(b, args, kwargs, position):
    """jax.lax.broadcast(operand, sizes): axes of ``sizes`` added in front."""
    a = arguments("broadcast", args, kwargs, {"x": REQUIRED, "sizes": REQUIRED, "out_sharding": None}, position)
    x = _x(b, a, "broadcast", position)
    sizes = static_ints(b, a["sizes"], "jax.lax.broadcast's sizes", position) if a["sizes"] != () else ()
    if any(n < 0 for n in sizes):
        _refuse("broadcast", f"sizes must not be negative, got {sizes}", position)
    shape = tuple(sizes) + tuple(x.shape)
    return x if shape == tuple(x.shape) else FUNCTIONS["broadcast_to"](b, [x, shape], {}, position)


@variant("jax.lax", "broadcast_in_dim")
def _broadcast_in_dim(b, args, kwargs, position):
    """jax.lax.broadcast_in_dim(operand, shape, broadcast_dimensions): operand's axis i becomes the result's axis
    broadcast_dimensions[i] (increasing; of the same size or 1), the other axes broadcast."""
    a = arguments("broadcast_in_dim", args, kwargs, {"x": REQUIRED, "shape": REQUIRED,
                                                     "broadcast_dimensions": REQUIRED, "out_sharding": None},
                  position)
    x = _x(b, a, "broadcast_in_dim", position)
    shape = static_ints(b, a["shape"], "jax.lax.broadcast_in_dim's shape", position) if a["shape"] != () else ()
    dims = static_ints(b, a["broadcast_dimensions"], "broadcast_dimensions", position) \
        if a["broadcast_dimensions"] != () else ()
    if len(dims) != x.ndim or any(not 0 <= d < len(shape) for d in dims) or list(dims) != sorted(set(dims)) \
            or any(n not in (1, shape[d]) for n, d in zip(_sizes(x, "broadcast_in_dim", position), dims)):
        _refuse("broadcast_in_dim", f"broadcast_dimensions {dims} must name, in increasing order, an axis of shape "
                f"{shape} for each axis of the operand {tuple(x.shape)}, of the same size or 1", position)
    placed = [1] * len(shape)
    for n, d in zip(x.shape, dims):
        placed[d] = n
    x = b.apply("reshape", x, shape=tuple(placed), position=position) if tuple(placed) != tuple(x.shape) else x
    return x if tuple(shape) == tuple(x.shape) else FUNCTIONS["broadcast_to"](b, [x, tuple(shape)], {}, position)


@variant("jax.lax", "broadcast_to_rank")
def _broadcast_to_rank(b, args, kwargs, position):
    """jax.lax.broadcast_to_rank(x, rank): axes of size 1 added in front up to ``rank``."""
    a = arguments("broadcast_to_rank", args, kwargs, {"x": REQUIRED, "rank": REQUIRED}, position)
    x = _x(b, a, "broadcast_to_rank", position)
    rank = static_int(b, a["rank"], "rank", position)
    if rank <= x.ndim:
        return x
    return b.apply("reshape", x, shape=(1,) * (rank - x.ndim) + tuple(x.shape), position=position)


@variant("jax.lax", "collapse")
def _collapse(b, args, kwargs, position):
    """jax.lax.collapse(operand, start_dimension, stop_dimension=None): axes start..stop-1 merged into one."""
    a = arguments("collapse", args, kwargs, {"x": REQUIRED, "start_dimension": REQUIRED, "stop_dimension": None},
                  position)
    x = _x(b, a, "collapse", position)
    shape = _sizes(x, "collapse", position)
    start = static_int(b, a["start_dimension"], "start_dimension", position)
    stop = x.ndim if a["stop_dimension"] is None else static_int(b, a["stop_dimension"], "stop_dimension", position)
    start, stop = start + x.ndim if start < 0 else start, stop + x.ndim if stop < 0 else stop
    if not 0 <= start <= stop <= x.ndim:
        _refuse("collapse", f"start_dimension and stop_dimension must satisfy 0 <= start <= stop <= {x.ndim}", position)
    merged = int(np.prod(shape[start:stop], dtype=np.int64))
    return b.apply("reshape", x, shape=shape[:start] + (merged,) + shape[stop:], position=position)


@variant("jax.lax", "rev")
def _rev(b, args, kwargs, position):
    """jax.lax.rev(operand, dimensions): reversed along each of ``dimensions``."""
    a = arguments("rev", args, kwargs, {"x": REQUIRED, "dimensions": REQUIRED}, position)
    x = _x(b, a, "rev", position)
    dims = _dims(b, a["dimensions"], x, "rev", position)
    if not dims:
        return x
    index = tuple(slice(None, None, -1) if i in dims else slice(None) for i in range(x.ndim))
    return b.apply("getitem", x, index=index, position=position)


# --- slices at constant offsets -------------------------------------------------------------------------------

@variant("jax.lax", "slice")
def _lax_slice(b, args, kwargs, position):
    """jax.lax.slice(operand, start_indices, limit_indices, strides=None): x[s0:l0:t0, ...], with JAX's checks
    (0 <= start <= limit <= size, strides >= 1)."""
    a = arguments("slice", args, kwargs, {"x": REQUIRED, "start_indices": REQUIRED, "limit_indices": REQUIRED,
                                          "strides": None}, position)
    x = _x(b, a, "slice", position)
    shape = _sizes(x, "slice", position)
    starts = static_ints(b, a["start_indices"], "start_indices", position) if a["start_indices"] != () else ()
    limits = static_ints(b, a["limit_indices"], "limit_indices", position) if a["limit_indices"] != () else ()
    strides = (1,) * x.ndim if a["strides"] is None else static_ints(b, a["strides"], "strides", position) \
        if a["strides"] != () else ()
    if not len(starts) == len(limits) == len(strides) == x.ndim:
        _refuse("slice", f"start_indices, limit_indices and strides need one entry per axis ({x.ndim})", position)
    if any(not 0 <= s <= e <= n or t < 1 for s, e, t, n in zip(starts, limits, strides, shape)):
        _refuse("slice", f"needs 0 <= start <= limit <= size and strides >= 1, got start_indices {starts}, "
                f"limit_indices {limits}, strides {strides} for shape {shape}", position)
    return _slice(b, x, starts, limits, strides, position)


def _in_dim(b, x, axis, fname, position) -> int:
    axis = axis + x.ndim if axis < 0 else axis
    if not 0 <= axis < x.ndim:
        _refuse(fname, f"axis {axis} is out of range for an array of {x.ndim} axes", position)
    return axis


@variant("jax.lax", "slice_in_dim")
def _slice_in_dim(b, args, kwargs, position):
    """jax.lax.slice_in_dim(operand, start_index, limit_index, stride=1, axis=0): one axis's slice; None is its
    end, a negative index counts from the end once."""
    a = arguments("slice_in_dim", args, kwargs, {"x": REQUIRED, "start_index": REQUIRED, "limit_index": REQUIRED,
                                                 "stride": 1, "axis": 0}, position)
    x = _x(b, a, "slice_in_dim", position)
    shape = _sizes(x, "slice_in_dim", position)
    axis = _in_dim(b, x, static_int(b, a["axis"], "axis", position), "slice_in_dim", position)
    n = shape[axis]
    start = 0 if a["start_index"] is None else static_int(b, a["start_index"], "start_index", position)
    limit = n if a["limit_index"] is None else static_int(b, a["limit_index"], "limit_index", position)
    start, limit = start + n if start < 0 else start, limit + n if limit < 0 else limit
    stride = static_int(b, a["stride"], "stride", position)
    starts, limits, strides = [0] * x.ndim, list(shape), [1] * x.ndim
    starts[axis], limits[axis], strides[axis] = start, limit, stride
    return _lax_slice(b, [x, tuple(starts), tuple(limits), tuple(strides)], {}, position)


@variant("jax.lax", "index_in_dim")
def _index_in_dim(b, args, kwargs, position):
    """jax.lax.index_in_dim(operand, index, axis=0, keepdims=True): one entry of an axis (negative from the end)."""
    a = arguments("index_in_dim", args, kwargs, {"x": REQUIRED, "index": REQUIRED, "axis": 0, "keepdims": True},
                  position)
    x = _x(b, a, "index_in_dim", position)
    shape = _sizes(x, "index_in_dim", position)
    axis = _in_dim(b, x, static_int(b, a["axis"], "axis", position), "index_in_dim", position)
    i = static_int(b, a["index"], "index", position)
    i = i + shape[axis] if i < 0 else i
    if not 0 <= i < shape[axis]:
        _refuse("index_in_dim", f"index {i} is out of range for an axis of {shape[axis]}", position)
    out = _slice(b, x, [0] * axis + [i] + [0] * (x.ndim - axis - 1),
                 shape[:axis] + (i + 1,) + shape[axis + 1:], [1] * x.ndim, position)
    return out if static(b, a["keepdims"], "keepdims", position) else \
        b.apply("reshape", out, shape=shape[:axis] + shape[axis + 1:], position=position)


def _starts(b, value, shape, sizes, fname, position, negative=True) -> tuple:
    """JAX's start indices of a dynamic slice: a negative one counted from the end once (allow_negative_indices),
    then each clamped into [0, size - slice size], so the slice always fits (never an error, nor a wrap)."""
    with reads_as(b):  # JAX takes traced starts
        if isinstance(value, Items):
            starts = tuple(static_int(b, v, f"jax.lax.{fname}'s start index", position) for v in value)
        else:
            starts = static_ints(b, value, f"jax.lax.{fname}'s start indices (constants in jac)", position) \
                if value != () else ()
    if len(starts) != len(shape):
        _refuse(fname, f"needs one start index per axis ({len(shape)}), got {len(starts)}", position)
    flags = negative if isinstance(negative, tuple) else (negative,) * len(shape)
    if any(s < 0 and not f for s, f in zip(starts, flags)):
        _refuse(fname, f"a negative start index {starts} with allow_negative_indices=False (JAX refuses it)", position)
    starts = tuple(s + n if s < 0 and f else s for s, n, f in zip(starts, shape, flags))
    return tuple(min(max(s, 0), n - k) for s, n, k in zip(starts, shape, sizes))


def _negatives(b, value, position):
    v = static(b, value, "allow_negative_indices", position)
    return tuple(bool(f) for f in v) if isinstance(v, tuple) else bool(v)


@variant("jax.lax", "dynamic_slice")
def _dynamic_slice(b, args, kwargs, position):
    """jax.lax.dynamic_slice(operand, start_indices, slice_sizes): the block of ``slice_sizes`` at the starts,
    which JAX clamps so the block fits (a start past the end gives the last block); constant starts in jac."""
    a = arguments("dynamic_slice", args, kwargs, {"x": REQUIRED, "start_indices": REQUIRED, "slice_sizes": REQUIRED,
                                                  "allow_negative_indices": True}, position)
    x = _x(b, a, "dynamic_slice", position)
    shape = _sizes(x, "dynamic_slice", position)
    sizes = static_ints(b, a["slice_sizes"], "slice_sizes", position) if a["slice_sizes"] != () else ()
    if len(sizes) != len(shape) or any(not 0 <= k <= n for k, n in zip(sizes, shape)):
        _refuse("dynamic_slice", f"slice_sizes {sizes} must give each axis of {shape} a size up to its own", position)
    starts = _starts(b, a["start_indices"], shape, sizes, "dynamic_slice", position,
                     _negatives(b, a["allow_negative_indices"], position))
    return _slice(b, x, starts, tuple(s + k for s, k in zip(starts, sizes)), (1,) * len(shape), position)


@variant("jax.lax", "dynamic_slice_in_dim")
def _dynamic_slice_in_dim(b, args, kwargs, position):
    """jax.lax.dynamic_slice_in_dim(operand, start_index, slice_size, axis=0): dynamic_slice along one axis."""
    a = arguments("dynamic_slice_in_dim", args, kwargs, {"x": REQUIRED, "start_index": REQUIRED,
                                                         "slice_size": REQUIRED, "axis": 0,
                                                         "allow_negative_indices": True}, position)
    x = _x(b, a, "dynamic_slice_in_dim", position)
    shape = _sizes(x, "dynamic_slice_in_dim", position)
    axis = _in_dim(b, x, static_int(b, a["axis"], "axis", position), "dynamic_slice_in_dim", position)
    starts = [0] * x.ndim
    starts[axis] = static_int(b, a["start_index"], "start_index (a constant in jac)", position)
    sizes = list(shape)
    sizes[axis] = static_int(b, a["slice_size"], "slice_size", position)
    flags = tuple(i == axis and bool(static(b, a["allow_negative_indices"], "allow_negative_indices", position))
                  for i in range(x.ndim))
    return _dynamic_slice(b, [x, tuple(starts), tuple(sizes)], {"allow_negative_indices": flags}, position)


@variant("jax.lax", "dynamic_index_in_dim")
def _dynamic_index_in_dim(b, args, kwargs, position):
    """jax.lax.dynamic_index_in_dim(operand, index, axis=0, keepdims=True): one entry, the index clamped."""
    a = arguments("dynamic_index_in_dim", args, kwargs, {"x": REQUIRED, "index": REQUIRED, "axis": 0,
                                                         "keepdims": True, "allow_negative_indices": True}, position)
    x = _x(b, a, "dynamic_index_in_dim", position)
    axis = _in_dim(b, x, static_int(b, a["axis"], "axis", position), "dynamic_index_in_dim", position)
    out = _dynamic_slice_in_dim(b, [x, a["index"], 1, axis], {"allow_negative_indices": a["allow_negative_indices"]},
                                position)
    return out if static(b, a["keepdims"], "keepdims", position) else \
        b.apply("reshape", out, shape=tuple(n for i, n in enumerate(out.shape) if i != axis), position=position)


def _update(b, x, u, starts, position):
    """x with the block at ``starts`` replaced by u: where(block, u placed, x); the derivative by x is 0 in the
    block, by u the block's."""
    index = tuple(slice(s, s + k) for s, k in zip(starts, u.shape))
    placed = b.apply("scatter", u, index=index, shape=tuple(x.shape), position=position)
    mask = np.zeros(x.shape, dtype=bool)
    mask[index] = True
    return b.apply("where", boolean(b, b.const(mask.astype(b.dtype), position)), placed, x, position=position)


@variant("jax.lax", "dynamic_update_slice")
def _dynamic_update_slice(b, args, kwargs, position):
    """jax.lax.dynamic_update_slice(operand, update, start_indices): operand with the block at the starts (clamped
    as dynamic_slice's, so the update fits) replaced by ``update``; constant starts in jac."""
    a = arguments("dynamic_update_slice", args, kwargs, {"x": REQUIRED, "update": REQUIRED,
                                                         "start_indices": REQUIRED, "allow_negative_indices": True},
                  position)
    x, u = _x(b, a, "dynamic_update_slice", position), _x(b, a, "dynamic_update_slice", position, "update")
    shape = _sizes(x, "dynamic_update_slice", position)
    if u.ndim != x.ndim or any(not 0 <= k <= n for k, n in zip(_sizes(u, "dynamic_update_slice", position), shape)):
        _refuse("dynamic_update_slice", f"the update {tuple(u.shape)} must have the operand's axes ({shape}), each "
                "no longer", position)
    starts = _starts(b, a["start_indices"], shape, tuple(u.shape), "dynamic_update_slice", position,
                     _negatives(b, a["allow_negative_indices"], position))
    return _update(b, x, u, starts, position)


@variant("jax.lax", "dynamic_update_slice_in_dim", "dynamic_update_index_in_dim")
def _dynamic_update_in_dim(b, args, kwargs, position):
    """jax.lax.dynamic_update_slice_in_dim(operand, update, start_index, axis) (and _index_in_dim, whose update may
    lack the axis): the update written along one axis at the clamped start."""
    fname = "dynamic_update_" + ("index" if b.call and b.call.endswith("index_in_dim") else "slice") + "_in_dim"
    a = arguments(fname, args, kwargs, {"x": REQUIRED, "update": REQUIRED, "start_index": REQUIRED, "axis": REQUIRED,
                                        "allow_negative_indices": True}, position)
    x, u = _x(b, a, fname, position), _x(b, a, fname, position, "update")
    axis = _in_dim(b, x, static_int(b, a["axis"], "axis", position), fname, position)
    if fname.startswith("dynamic_update_index") and u.ndim == x.ndim - 1:
        u = b.apply("reshape", u, shape=tuple(u.shape[:axis]) + (1,) + tuple(u.shape[axis:]), position=position)
    if u.ndim != x.ndim:
        _refuse(fname, f"the update {tuple(u.shape)} must have the operand's axes {tuple(x.shape)}", position)
    starts = [0] * x.ndim
    starts[axis] = static_int(b, a["start_index"], "start_index (a constant in jac)", position)
    flags = tuple(i == axis and bool(static(b, a["allow_negative_indices"], "allow_negative_indices", position))
                  for i in range(x.ndim))
    return _dynamic_update_slice(b, [x, u, tuple(starts)], {"allow_negative_indices": flags}, position)


@variant("jax.lax", "pad")
def _pad(b, args, kwargs, position):
    """jax.lax.pad(operand, padding_value, padding_config): per axis (low, high, interior): ``interior`` copies of
    the value between neighbours, then ``low`` / ``high`` at the ends, a negative one cutting that many off (of
    the interior-padded array). The padding value is a constant here."""
    a = arguments("pad", args, kwargs, {"x": REQUIRED, "padding_value": REQUIRED, "padding_config": REQUIRED},
                  position)
    x = _x(b, a, "pad", position)
    shape = _sizes(x, "pad", position)
    value = static(b, a["padding_value"], "jax.lax.pad's padding_value (a constant in jac)", position)
    if not isinstance(value, (int, float)):
        _refuse("pad", "padding_value must be one number", position)
    config = _tuples(static(b, a["padding_config"], "padding_config", position))
    if not isinstance(config, tuple) or len(config) != x.ndim or any(len(c) != 3 for c in config) \
            or any(not float(v).is_integer() for c in config for v in c):
        _refuse("pad", f"padding_config needs one (low, high, interior) of integers per axis ({x.ndim})", position)
    config = tuple(tuple(int(v) for v in c) for c in config)
    if any(c[2] < 0 for c in config):
        _refuse("pad", f"interior padding must not be negative, got {config}", position)
    grown = tuple(n + max(n - 1, 0) * i for n, (_, _, i) in zip(shape, config))
    out = tuple(g + lo + hi for g, (lo, hi, _) in zip(grown, config))
    if any(n < 0 for n in out):
        _refuse("pad", f"padding_config {config} cuts more than the axes of {shape} hold", position)
    full = tuple(g + max(lo, 0) + max(hi, 0) for g, (lo, hi, _) in zip(grown, config))
    index = tuple(slice(max(lo, 0), max(lo, 0) + g, i + 1) for g, (lo, _, i) in zip(grown, config))
    placed = b.apply("scatter", x, index=index, shape=full, position=position)
    mask = np.zeros(full, dtype=bool)
    mask[index] = True
    padded = b.apply("where", boolean(b, b.const(mask.astype(b.dtype), position)), placed, float(value),
                     position=position)
    return _slice(b, padded, tuple(max(-lo, 0) for lo, _, _ in config),
                  tuple(n - max(-hi, 0) for n, (_, hi, _) in zip(full, config)), (1,) * x.ndim, position)


# --- element-wise -----------------------------------------------------------------------------------------------

@variant("jax.lax", "select_n")
def _select_n(b, args, kwargs, position):
    """jax.lax.select_n(which, *cases): cases[which] element by element; a boolean ``which`` picks cases[1] where
    true. An integer one is read as JAX's lowering reads it, by halves (which < mid), so an index past the end
    gives the last case and a negative one the first."""
    if kwargs or len(args) < 2:
        raise JacValueError("jax.lax.select_n(which, *cases) takes which and at least one case, by position",
                            position)
    which = tensor(b, args[0], "jax.lax.select_n", position)
    cases = [tensor(b, c, "jax.lax.select_n", position) for c in args[1:]]
    if any(tuple(c.shape) != tuple(cases[0].shape) for c in cases) or which.ndim and \
            tuple(which.shape) != tuple(cases[0].shape):
        _refuse("select_n", "the cases must have one shape, and which that shape or none", position)
    from ..ir import dtypes
    kind = dtypes.kind_of(b, which.id)
    if kind is None:
        _refuse("select_n", "which must be a boolean or an integer array, as JAX requires (a comparison, or "
                "w.astype(jnp.int32): jac's inputs are floats)", position)
    if kind[0] == np.dtype(bool):
        if len(cases) > 2:
            _refuse("select_n", "a boolean which selects between two cases only", position)
        return cases[0] if len(cases) == 1 else b.apply("where", which, cases[1], cases[0], position=position)

    node = b.nodes[which.id]
    if node.op == "const" and np.any((np.asarray(node.value) < 0) | (np.asarray(node.value) >= len(cases))):
        _refuse("select_n", f"which must be from 0 to {len(cases) - 1} (JAX's result past the cases is undefined: "
                "its value is the last case, its derivative 0)", position)

    def pick(offset, part):
        if len(part) == 1:
            return part[0]
        mid = len(part) // 2
        below = boolean(b, b.apply("lt", which, float(offset + mid), position=position))
        return b.apply("where", below, pick(offset, part[:mid]), pick(offset + mid, part[mid:]), position=position)
    return pick(0, cases)


@variant("jax.lax", "div")
def _div(b, args, kwargs, position):
    """jax.lax.div(x, y): x / y, and for integers the quotient rounded toward zero (C's, not Python's //)."""
    a = arguments("div", args, kwargs, {"x": REQUIRED, "y": REQUIRED}, position)
    x, y = _x(b, a, "div", position), _x(b, a, "div", position, "y")
    from ..ir import dtypes
    out = b.apply("div", x, y, position=position)
    if dtypes.kind_of(b, x.id) is not None and dtypes.kind_of(b, y.id) is not None:
        return FUNCTIONS["trunc"](b, [out], {}, position)
    return out


@variant("jax.lax", "round")
def _round(b, args, kwargs, position):
    """jax.lax.round(x, rounding_method=0): halves away from zero (0, AWAY_FROM_ZERO; not jnp.round's), or to
    the even neighbour (1, TO_NEAREST_EVEN). Written trunc(x) + sign(x) where |x - trunc(x)| >= 1/2, exact
    (floor(|x| + 0.5) is not: 0.49999999999999994 + 0.5 rounds to 1)."""
    a = arguments("round", args, kwargs, {"x": REQUIRED, "rounding_method": 0}, position)
    x = _x(b, a, "round", position)
    method = static(b, a["rounding_method"], "rounding_method", position)
    if method not in (0, 1):
        _refuse("round", f"rounding_method must be 0 (AWAY_FROM_ZERO) or 1 (TO_NEAREST_EVEN), got {method!r}",
                position)
    if method == 1:
        return _numpy("round")(b, [x], {}, position)
    t = FUNCTIONS["trunc"](b, [x], {}, position)
    half = boolean(b, b.apply("ge", b.apply("abs", b.apply("sub", x, t, position=position), position=position), 0.5,
                              position=position))
    return b.apply("where", half, b.apply("add", t, FUNCTIONS["sign"](b, [x], {}, position), position=position), t,
                   position=position)


def _comparison(op):
    def lower(b, args, kwargs, position):
        a = arguments(op, args, kwargs, {"x": REQUIRED, "y": REQUIRED}, position)
        return boolean(b, b.apply(op, _x(b, a, op, position), _x(b, a, op, position, "y"), position=position))
    lower.__doc__ = f"jax.lax.{op}(x, y): the comparison, a boolean array"
    return lower


for _op in ("eq", "ne", "lt", "le", "gt", "ge"):
    variant("jax.lax", _op)(_comparison(_op))


@variant("jax.lax", "optimization_barrier")
def _optimization_barrier(b, args, kwargs, position):
    """jax.lax.optimization_barrier(operand): the operand (an array or a tuple of them) unchanged."""
    return arguments("optimization_barrier", args, kwargs, {"x": REQUIRED}, position)["x"]


# --- reductions and products ------------------------------------------------------------------------------------

def _reduction(fname, shared):
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "axes": REQUIRED}, position)
        x = _x(b, a, fname, position)
        axes = _dims(b, a["axes"], x, fname, position, "axes")
        return FUNCTIONS[shared](b, [x], {"axis": axes}, position) if axes else x
    lower.__doc__ = f"jax.lax.{fname}(operand, axes): {shared} over the axes"
    return lower


variant("jax.lax", "reduce_prod")(_reduction("reduce_prod", "prod"))
variant("jax.lax", "reduce_and")(_reduction("reduce_and", "all"))
variant("jax.lax", "reduce_or")(_reduction("reduce_or", "any"))


@variant("jax.lax", "argmax", "argmin")
def _argextreme(b, args, kwargs, position):
    """jax.lax.argmax(operand, axis, index_dtype) / argmin: the first index of the extreme along ``axis`` (NaN
    counting as the extreme, as jnp.argmax), of an integer dtype."""
    fname = "argmin" if b.call and b.call.endswith("argmin") else "argmax"
    a = arguments(fname, args, kwargs, {"x": REQUIRED, "axis": REQUIRED, "index_dtype": REQUIRED}, position)
    x = _x(b, a, fname, position)
    axis = _in_dim(b, x, static_int(b, a["axis"], "axis", position), fname, position)
    dtype = static(b, a["index_dtype"], "index_dtype", position)
    if getattr(dtype, "kind", None) not in ("i", "u"):
        _refuse(fname, f"index_dtype must be an integer dtype (jnp.int32), got {dtype!r}", position)
    return _numpy(fname)(b, [x], {"axis": axis}, position)


@variant("jax.lax", "cumlogsumexp")
def _cumlogsumexp(b, args, kwargs, position):
    """jax.lax.cumlogsumexp(operand, axis=0, reverse=False): log of the running sum of exp along the axis."""
    a = arguments("cumlogsumexp", args, kwargs, {"x": REQUIRED, "axis": 0, "reverse": False}, position)
    x = _x(b, a, "cumlogsumexp", position)
    axis = _in_dim(b, x, static_int(b, a["axis"], "axis", position), "cumlogsumexp", position)
    if not static(b, a["reverse"], "reverse", position):
        return FUNCTIONS["logcumsumexp"](b, [x, axis], {}, position)
    flip = tuple(slice(None, None, -1) if i == axis else slice(None) for i in range(x.ndim))
    out = FUNCTIONS["logcumsumexp"](b, [b.apply("getitem", x, index=flip, position=position), axis], {}, position)
    return b.apply("getitem", out, index=flip, position=position)


@variant("jax.lax", "dot_general")
def _dot_general(b, args, kwargs, position):
    """jax.lax.dot_general(lhs, rhs, ((lhs_contract, rhs_contract), (lhs_batch, rhs_batch))): an einsum whose
    result has the batch axes, then lhs's free axes, then rhs's."""
    a = arguments("dot_general", args, kwargs, {"x": REQUIRED, "y": REQUIRED, "dimension_numbers": REQUIRED,
                                                "precision": None, "preferred_element_type": None,
                                                "out_sharding": None}, position)
    x, y = _x(b, a, "dot_general", position), _x(b, a, "dot_general", position, "y")
    numbers = _dimension_numbers(b, a["dimension_numbers"], position)
    (lc, rc), (lb, rb) = numbers
    lc, lb = _dims(b, lc, x, "dot_general", position, "contracting dimensions"), \
        _dims(b, lb, x, "dot_general", position, "batch dimensions")
    rc, rb = _dims(b, rc, y, "dot_general", position, "contracting dimensions"), \
        _dims(b, rb, y, "dot_general", position, "batch dimensions")
    if len(lc) != len(rc) or len(lb) != len(rb) or set(lc) & set(lb) or set(rc) & set(rb) \
            or any(x.shape[i] != y.shape[j] for i, j in zip(lc + lb, rc + rb)):
        _refuse("dot_general", f"dimension_numbers {numbers} do not pair axes of equal sizes of {tuple(x.shape)} and "
                f"{tuple(y.shape)}", position)
    letters = iter("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    left = [next(letters) for _ in range(x.ndim)]
    right = [next(letters) for _ in range(y.ndim)]
    for i, j in zip(lc + lb, rc + rb):
        right[j] = left[i]
    out = [left[i] for i in lb] + [left[i] for i in range(x.ndim) if i not in lc + lb] + \
        [right[j] for j in range(y.ndim) if j not in rc + rb]
    spec = f"{''.join(left)},{''.join(right)}->{''.join(out)}"
    return _numpy("einsum")(b, [Static(spec), x, y], {}, position)


def _dimension_numbers(b, value, position):
    """((lc, rc), (lb, rb)) of dot_general, each a tuple of ints, written as nested tuples or lists."""
    if isinstance(value, Items) and len(value) == 2:
        parts = tuple(_pair_of(b, v, position) for v in value)
    else:
        v = _tuples(static(b, value, "dimension_numbers", position))
        parts = v if isinstance(v, tuple) and len(v) == 2 else None
    if parts is None or any(not isinstance(p, tuple) or len(p) != 2 for p in parts):
        raise JacValueError("jax.lax.dot_general's dimension_numbers are ((lhs_contracting, rhs_contracting), "
                            "(lhs_batch, rhs_batch)), each a tuple of axes", position)
    return tuple(tuple(tuple(d) if isinstance(d, tuple) else (d,) for d in p) for p in parts)


def _pair_of(b, value, position):
    if isinstance(value, Items):
        return tuple(() if isinstance(v, Items) and not v else static(b, v, "dimension_numbers", position)
                     for v in value)
    return _tuples(static(b, value, "dimension_numbers", position))


# --- sorting ----------------------------------------------------------------------------------------------------

def _sorted_by(b, keys, operands, axis, position):
    """Each operand ordered along ``axis`` by ``keys`` (first key first), as jax.lax.sort: NaN last, equal elements
    in their order. Several keys: stable sorts by the last key, then each earlier one of the order so far."""
    order = b.apply("argsort", keys[-1], axis=axis, position=position)
    for key in keys[-2::-1]:
        again = b.apply("argsort", b.apply("take_along", key, order, axis=axis, position=position), axis=axis,
                        position=position)
        order = b.apply("take_along", order, again, axis=axis, position=position)
    return [b.apply("take_along", o, order, axis=axis, position=position) for o in operands]


@variant("jax.lax", "sort")
def _lax_sort(b, args, kwargs, position):
    """jax.lax.sort(operand, dimension=-1, is_stable=True, num_keys=1): an array sorted, or a tuple of arrays of
    one shape all ordered by the first ``num_keys`` of them (lexicographically)."""
    a = arguments("sort", args, kwargs, {"x": REQUIRED, "dimension": -1, "is_stable": True, "num_keys": 1},
                  position)
    several = isinstance(a["x"], Items)
    operands = [tensor(b, o, "jax.lax.sort", position) for o in (a["x"] if several else [a["x"]])]
    if not operands or any(tuple(o.shape) != tuple(operands[0].shape) for o in operands) or operands[0].ndim == 0:
        _refuse("sort", "sorts one or more arrays of one shape, with at least one axis", position)
    axis = _in_dim(b, operands[0], static_int(b, a["dimension"], "dimension", position), "sort", position)
    k = static_int(b, a["num_keys"], "num_keys", position)
    if not static(b, a["is_stable"], "is_stable", position):
        _refuse("sort", "is_stable=False leaves the order of equal elements, and so where their derivatives go, to "
                "XLA: write is_stable=True (the default), the order jac computes", position)
    if not 1 <= k <= len(operands):
        _refuse("sort", f"num_keys must be between 1 and the number of operands ({len(operands)}), got {k}", position)
    out = _sorted_by(b, operands[:k], operands, axis, position)
    return Items(tuple(out)) if several else out[0]


@variant("jax.lax", "sort_key_val")
def _sort_key_val(b, args, kwargs, position):
    """jax.lax.sort_key_val(keys, values, dimension=-1, is_stable=True): (keys sorted, values in their order)."""
    a = arguments("sort_key_val", args, kwargs, {"keys": REQUIRED, "values": REQUIRED, "dimension": -1,
                                                 "is_stable": True}, position)
    return _lax_sort(b, [Items((a["keys"], a["values"])), a["dimension"], a["is_stable"]], {}, position)


@variant("jax.lax", "top_k")
def _top_k(b, args, kwargs, position):
    """jax.lax.top_k(operand, k, axis=-1): (the k largest along the axis in decreasing order, their indices as
    int32); equal elements in their order (the lower index first), NaN above every number."""
    a = arguments("top_k", args, kwargs, {"x": REQUIRED, "k": REQUIRED, "axis": -1}, position)
    x = _x(b, a, "top_k", position)
    if x.ndim == 0:
        _refuse("top_k", "needs an array with at least one axis", position)
    axis = _in_dim(b, x, static_int(b, a["axis"], "axis", position), "top_k", position)
    k = static_int(b, a["k"], "k", position)
    if not 0 <= k <= x.shape[axis]:
        _refuse("top_k", f"k = {k} is out of range for {x.shape[axis]} elements", position)
    idx = b.apply("argsort", x, axis=axis, descending=True, k=k, position=position)
    return Items((b.apply("take_along", x, idx, axis=axis, position=position), idx))


# --- constructors and stacking ----------------------------------------------------------------------------------

@variant("jax.lax", "full")
def _full(b, args, kwargs, position):
    """jax.lax.full(shape, fill_value, dtype=None)."""
    a = arguments("full", args, kwargs, {"shape": REQUIRED, "fill_value": REQUIRED, "dtype": None,
                                         "sharding": None}, position)
    options = {} if a["dtype"] is None else {"dtype": a["dtype"]}
    return _numpy("full")(b, [a["shape"], a["fill_value"]], options, position)


@variant("jax.lax", "full_like")
def _full_like(b, args, kwargs, position):
    """jax.lax.full_like(x, fill_value, dtype=None, shape=None)."""
    a = arguments("full_like", args, kwargs, {"x": REQUIRED, "fill_value": REQUIRED, "dtype": None, "shape": None,
                                              "sharding": None}, position)
    x = _x(b, a, "full_like", position)
    shape = tuple(x.shape) if a["shape"] is None else a["shape"]
    options = {} if a["dtype"] is None else {"dtype": a["dtype"]}
    return _numpy("full")(b, [shape, a["fill_value"]], options, position)


@variant("jax.lax", "tile")
def _lax_tile(b, args, kwargs, position):
    """jax.lax.tile(operand, reps): one repetition count per axis."""
    a = arguments("tile", args, kwargs, {"x": REQUIRED, "reps": REQUIRED}, position)
    x = _x(b, a, "tile", position)
    reps = static_ints(b, a["reps"], "reps", position) if a["reps"] != () else ()
    if len(reps) != x.ndim or any(r < 0 for r in reps):
        _refuse("tile", f"reps needs one count (>= 0) per axis ({x.ndim}), got {reps}", position)
    return FUNCTIONS["tile"](b, [x, reps], {}, position) if reps else x


@variant("jax.lax", "stack")
def _lax_stack(b, args, kwargs, position):
    """jax.lax.stack(operands, axis=0)."""
    a = arguments("stack", args, kwargs, {"operands": REQUIRED, "axis": 0}, position)
    return FUNCTIONS["stack"](b, [a["operands"]], {"axis": a["axis"]}, position)


@variant("jax.lax", "unstack")
def _lax_unstack(b, args, kwargs, position):
    """jax.lax.unstack(x, axis=0): the tuple of slices along the axis, that axis removed."""
    a = arguments("unstack", args, kwargs, {"x": REQUIRED, "axis": 0}, position)
    x = _x(b, a, "unstack", position)
    axis = _in_dim(b, x, static_int(b, a["axis"], "axis", position), "unstack", position)
    return Items(tuple(_index_in_dim(b, [x, i, axis, False], {}, position) for i in range(_sizes(x, "unstack",
                                                                                                   position)[axis])))


@variant("jax.lax", "split")
def _lax_split(b, args, kwargs, position):
    """jax.lax.split(operand, sizes, axis=0): consecutive pieces of the given sizes (which sum to the axis)."""
    a = arguments("split", args, kwargs, {"x": REQUIRED, "sizes": REQUIRED, "axis": 0}, position)
    x = _x(b, a, "split", position)
    shape = _sizes(x, "split", position)
    axis = _in_dim(b, x, static_int(b, a["axis"], "axis", position), "split", position)
    sizes = static_ints(b, a["sizes"], "sizes", position)
    if any(n < 0 for n in sizes) or sum(sizes) != shape[axis]:
        _refuse("split", f"sizes {sizes} must be >= 0 and add up to the axis's {shape[axis]}", position)
    starts = np.cumsum((0,) + sizes[:-1])
    return Items(tuple(_slice_in_dim(b, [x, int(s), int(s) + n, 1, axis], {}, position)
                       for s, n in zip(starts, sizes)))


def axis_numbers(values: list):
    """Ragged nested tuples of axes holding an empty one, as nested Python tuples (``(((1,), (0,)), ((), ()))``,
    dot_general's dimension numbers: no array), or None (a ragged list of numbers stays refused)."""
    def nested(v):
        v = np.asarray(v)
        if v.size and not np.all(np.mod(v, 1) == 0):
            raise ValueError
        return tuple(nested(i) for i in v) if v.ndim > 1 else tuple(int(i) for i in v) if v.ndim == 1 else int(v)
    if not any(np.size(v) == 0 for v in values):
        return None
    try:
        return tuple(nested(v) for v in values)
    except (ValueError, TypeError):
        return None


# --- jax.nn ------------------------------------------------------------------------------------------------------

JAX_NN_NAMES = frozenset({"identity", "log1mexp", "logmeanexp"})


@variant("jax", "identity")
def _identity(b, args, kwargs, position):
    """jax.nn.identity(x): x."""
    return tensor(b, arguments("identity", args, kwargs, {"x": REQUIRED}, position)["x"], "jax.nn.identity", position)


@variant("jax", "log1mexp")
def _log1mexp(b, args, kwargs, position):
    """jax.nn.log1mexp(x): log(1 - exp(-x)) (defined for x >= 0), as JAX computes it: log(-expm1(-x)) below
    log 2, log1p(-exp(-x)) from there (Mächler's split)."""
    x = tensor(b, arguments("log1mexp", args, kwargs, {"x": REQUIRED}, position)["x"], "jax.nn.log1mexp", position)
    small = boolean(b, b.apply("lt", x, float(np.log(2.0)), position=position))
    # each branch sees 1 where the other is taken, so its derivative there (log1p's 1/0 at x = 0) is no 0 · inf
    x_near, x_far = (b.apply("where", small, x, 1.0, position=position),
                     b.apply("where", small, 1.0, x, position=position))
    near = b.apply("log", b.apply("neg", b.apply("expm1", b.apply("neg", x_near, position=position),
                                                 position=position), position=position), position=position)
    far = b.apply("log1p", b.apply("neg", b.apply("exp", b.apply("neg", x_far, position=position),
                                                  position=position), position=position), position=position)
    return b.apply("where", small, near, far, position=position)


@variant("jax", "logmeanexp")
def _logmeanexp(b, args, kwargs, position):
    """jax.nn.logmeanexp(x, axis=None, where=None, keepdims=False): logsumexp(x, axis) - log(n), n the elements
    reduced."""
    a = arguments("logmeanexp", args, kwargs, {"x": REQUIRED, "axis": None, "where": None, "keepdims": False},
                  position)
    if a["where"] is not None:
        raise JacValueError("jax.nn.logmeanexp(..., where=m) is not supported by jac: write jnp.where(m, x, -jnp.inf) "
                            "for x and subtract jnp.log(jnp.sum(m)) from jax.nn.logsumexp of it", position)
    x = tensor(b, a["x"], "jax.nn.logmeanexp", position)
    from .functions import axes_of
    axes = axes_of(b, a["axis"], x, position, "logmeanexp")
    n = int(np.prod([x.shape[i] for i in axes], dtype=np.int64))
    lse = library_function("jax", "logsumexp")(b, [x], {"axis": axes, "keepdims": a["keepdims"]}, position)
    return b.apply("sub", lse, float(np.log(n)) if n else -np.inf, position=position)


# --- jax.scipy.special: the gamma family, as JAX writes it -----------------------------------------------------

JAX_SCIPY_NAMES = frozenset({"gamma", "gammasgn", "loggamma", "factorial", "beta", "betaln"})


def _ops(b, position):
    """``op(name, *args)``: b.apply at the call's position (the formulas below are long)."""
    return lambda name, *args: b.apply(name, *args, position=position)


def _unary_argument(fname, args, kwargs, b, position, extra=None):
    a = arguments(fname, args, kwargs, {"x": REQUIRED, **(extra or {})}, position)
    return tensor(b, a["x"], f"jax.scipy.special.{fname}", position), a


def _gammasgn_of(b, x, position):
    """JAX's gammasgn: NaN at the poles (negative integers, -inf) and NaN; -1 where floor(x) is odd below 0 and at
    -0; 1 elsewhere (0, positives, inf). A constant of the values: no derivative."""
    op = _ops(b, position)
    f = op("floor", x)
    negative = boolean(b, op("lt", x, 0.0))
    pole = boolean(b, op("where", boolean(b, op("where", negative, op("eq", x, f), False)), True, op("isnan", x)))
    odd = boolean(b, op("ne", op("fmod", f, 2.0), 0.0))
    minus = boolean(b, op("where", boolean(b, op("where", negative, odd, False)), True,
                          op("where", boolean(b, op("eq", x, 0.0)), op("signbit", x), False)))
    return op("where", pole, float("nan"), op("where", minus, -1.0, 1.0))


@variant("jax.scipy", "gammasgn")
def _gammasgn(b, args, kwargs, position):
    """jax.scipy.special.gammasgn(x): the sign of Γ(x) (NaN at its poles), derivative 0."""
    x, _ = _unary_argument("gammasgn", args, kwargs, b, position)
    return _gammasgn_of(b, x, position)


@variant("jax.scipy", "gamma")
def _gamma(b, args, kwargs, position):
    """jax.scipy.special.gamma(x): gammasgn(x) · exp(lgamma(x)), JAX's formula: ±inf at ±0, NaN at the negative
    integers and -inf; the derivative Γ(x) ψ(x) by the same ops."""
    x, _ = _unary_argument("gamma", args, kwargs, b, position)
    op = _ops(b, position)
    return op("mul", _gammasgn_of(b, x, position), op("exp", op("lgamma", x)))


@variant("jax.scipy", "loggamma")
def _loggamma(b, args, kwargs, position):
    """jax.scipy.special.loggamma(x) of a real x: lgamma(x) where x > 0, NaN elsewhere (its principal branch is
    complex there; jac has no complex numbers)."""
    x, _ = _unary_argument("loggamma", args, kwargs, b, position)
    op = _ops(b, position)
    return op("where", boolean(b, op("gt", x, 0.0)), op("lgamma", x), float("nan"))


@variant("jax.scipy", "factorial")
def _factorial(b, args, kwargs, position):
    """jax.scipy.special.factorial(n, exact=False): exp(lgamma(n + 1)), 0 where n < 0 (JAX's formula; a float for
    any n, not only integers). exact=True is refused, as JAX refuses it."""
    x, a = _unary_argument("factorial", args, kwargs, b, position, {"exact": False})
    if static(b, a["exact"], "exact", position):
        raise JacValueError("jax.scipy.special.factorial(n, exact=True) is not supported (JAX raises "
                            "NotImplementedError too): write factorial(n), a float", position)
    op = _ops(b, position)
    return op("where", boolean(b, op("lt", x, 0.0)), 0.0, op("exp", op("lgamma", op("add", x, 1.0))))


def _two(fname, args, kwargs, b, position):
    a = arguments(fname, args, kwargs, {"a": REQUIRED, "b": REQUIRED}, position)
    return tensor(b, a["a"], f"jax.scipy.special.{fname}", position), \
        tensor(b, a["b"], f"jax.scipy.special.{fname}", position)


def _betaln_of(b, x, y, position):
    """JAX's betaln (after SciPy's cdflib betaln.f / algdiv.f): with a <= b, lgamma(a) + lgamma(b) - lgamma(a + b)
    for b < 8, else lgamma(a) + algdiv(a, b), the series that keeps the digits a large b would cancel."""
    op = _ops(b, position)
    lo, hi = op("minimum", x, y), op("maximum", x, y)
    small = op("add", op("lgamma", lo), op("sub", op("lgamma", hi), op("lgamma", op("add", lo, hi))))
    h = op("div", lo, hi)
    c = op("div", h, op("add", h, 1.0))
    d = op("add", hi, op("sub", lo, 0.5))
    c2 = op("mul", c, c)
    s3 = op("add", op("add", c, c2), 1.0)
    s5 = op("add", op("add", c, op("mul", c2, s3)), 1.0)
    s7 = op("add", op("add", c, op("mul", c2, s5)), 1.0)
    s9 = op("add", op("add", c, op("mul", c2, s7)), 1.0)
    s11 = op("add", op("add", c, op("mul", c2, s9)), 1.0)
    t = op("square", op("div", 1.0, hi))
    w = op("mul", op("mul", -0.165322962780713e-02, s11), t)
    for coefficient, s in ((0.837308034031215e-03, s9), (-0.595202931351870e-03, s7), (0.793650666825390e-03, s5),
                           (-0.277777777760991e-02, s3)):
        w = op("mul", op("add", w, op("mul", coefficient, s)), t)
    w = op("mul", op("add", w, 0.833333333333333e-01), op("div", c, hi))
    u = op("mul", d, op("log1p", op("div", lo, hi)))
    v = op("mul", lo, op("sub", op("log", hi), 1.0))
    algdiv = op("where", boolean(b, op("le", u, v)), op("sub", op("sub", w, v), u), op("sub", op("sub", w, u), v))
    large = op("add", op("lgamma", lo), algdiv)
    return op("where", boolean(b, op("lt", hi, 8.0)), small, large)


@variant("jax.scipy", "betaln")
def _betaln(b, args, kwargs, position):
    """jax.scipy.special.betaln(a, b): log |B(a, b)|, as JAX computes it (SciPy's algdiv series for b >= 8)."""
    x, y = _two("betaln", args, kwargs, b, position)
    return _betaln_of(b, x, y, position)


@variant("jax.scipy", "beta")
def _beta(b, args, kwargs, position):
    """jax.scipy.special.beta(a, b): gammasgn(a) gammasgn(b) gammasgn(a + b) · exp(betaln(a, b)), JAX's formula."""
    x, y = _two("beta", args, kwargs, b, position)
    op = _ops(b, position)
    sign = op("mul", op("mul", _gammasgn_of(b, x, position), _gammasgn_of(b, y, position)),
              _gammasgn_of(b, op("add", x, y), position))
    return op("mul", sign, op("exp", _betaln_of(b, x, y, position)))


# --- jax.lax's spellings of functions jac has --------------------------------------------------------------------

def _renamed(fname, library, shared, params):
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, params, position)
        return (library_function(library, shared) or FUNCTIONS[shared])(b, list(a.values()), {}, position)
    lower.__doc__ = f"jax.lax.{fname}({', '.join(params)}): jax.scipy.special.{shared}"
    return lower


for _lax, _shared, _params in (("igamma", "gammainc", ("a", "x")), ("igammac", "gammaincc", ("a", "x")),
                               ("polygamma", "polygamma", ("m", "x")),
                               ("bessel_i0e", "i0e", ("x",)), ("bessel_i1e", "i1e", ("x",))):
    variant("jax.lax", _lax)(_renamed(_lax, "jax.scipy", _shared, dict.fromkeys(_params, REQUIRED)))


@variant("jax.lax", "convert_element_type")
def _convert_element_type(b, args, kwargs, position):
    """jax.lax.convert_element_type(operand, new_dtype): x.astype(new_dtype) (an integer dtype rounds toward zero)."""
    a = arguments("convert_element_type", args, kwargs, {"x": REQUIRED, "new_dtype": REQUIRED}, position)
    return _numpy("astype")(b, [a["x"], a["new_dtype"]], {}, position)


@variant("jax.lax", "iota")
def _iota(b, args, kwargs, position):
    """jax.lax.iota(dtype, size): 0, 1, ..., size - 1 of the dtype."""
    a = arguments("iota", args, kwargs, {"dtype": REQUIRED, "size": REQUIRED}, position)
    return _numpy("arange")(b, [a["size"]], {"dtype": a["dtype"]}, position)


@variant("jax.lax", "broadcasted_iota")
def _broadcasted_iota(b, args, kwargs, position):
    """jax.lax.broadcasted_iota(dtype, shape, dimension): each element's index along ``dimension``."""
    a = arguments("broadcasted_iota", args, kwargs, {"dtype": REQUIRED, "shape": REQUIRED, "dimension": REQUIRED,
                                                     "out_sharding": None}, position)
    shape = static_ints(b, a["shape"], "broadcasted_iota's shape", position)
    d = static_int(b, a["dimension"], "dimension", position)
    if not 0 <= d < len(shape):
        _refuse("broadcasted_iota", f"dimension {d} is not an axis of the shape {shape}", position)
    line = _iota(b, [a["dtype"], shape[d]], {}, position)
    return _broadcast_in_dim(b, [line, shape, (d,)], {}, position)


# --- torch's leftovers -------------------------------------------------------------------------------------------

@variant("torch", "range")
def _torch_range(b, args, kwargs, position):
    """torch.range(start=0, end, step=1) (deprecated): floor((end - start) / step) + 1 numbers start + i·step, the
    end included, of the default float dtype even for integer bounds (unlike torch.arange)."""
    a = arguments("range", args, kwargs, {"start": 0, "end": REQUIRED, "step": 1, "dtype": None, "out": None,
                                          "layout": None, "device": None, "requires_grad": False}, position)
    if a["dtype"] is not None or a["out"] is not None:
        raise JacValueError("torch.range(..., dtype=/out=) is not supported by jac: write torch.arange(start, end + "
                            "step, step, dtype=...) (torch.range is deprecated; its result is a float of --dtype)",
                            position)
    start, end, step = (float(static(b, a[k], f"torch.range's {k}", position)) for k in ("start", "end", "step"))
    if not all(np.isfinite(v) for v in (start, end, step)):
        raise JacValueError(f"torch.range: the bounds and step must be finite, got {(start, end, step)}", position)
    if step == 0:
        raise JacValueError("torch.range: step must be nonzero (PyTorch's message)", position)
    if (end - start) * step < 0:
        raise JacValueError("torch.range: upper bound and lower bound inconsistent with step sign (PyTorch's "
                            "message)", position)
    n = int(np.floor((end - start) / step)) + 1
    b.check_size((n,), "torch.range", position)
    return b.const((start + np.arange(n) * step).astype(b.dtype), position)
