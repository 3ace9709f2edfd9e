"""``jax.lax.conv_transpose`` and ``conv_general_dilated_patches`` (session 28; registered in ``functions``' table
when ``lang`` is imported), as JAX writes them: a ``conv_general_dilated`` (``laxmore._lax_conv``, onto F.convNd) of
the input dilated by the strides with JAX's transpose padding, and of an identity kernel per channel; and the
helpers JAX users call beside the convolutions, which return Python values (shapes, pads, permutations): computed at
build time as constant vectors, as ``x.shape`` is.
"""

from __future__ import annotations

import numpy as np

from .functions import REQUIRED, Items, JacValueError, _broadcast_shapes, arguments, static, static_ints, tensor, \
    variant
from .laxmore import _CONV_TAIL, _conv_common, _conv_permutations, _lax_conv, string_pads

CONV_HELPERS = frozenset({"conv_transpose", "conv_general_dilated_patches", "padtype_to_pads", "conv_shape_tuple",
                          "conv_general_shape_tuple", "conv_transpose_shape_tuple", "conv_general_permutations",
                          "reduce_window_shape_tuple", "broadcast_shapes"})
_DEFAULT_SPECS = {3: ("NHC", "HIO", "NHC"), 4: ("NHWC", "HWIO", "NHWC"), 5: ("NHWDC", "HWDIO", "NHWDC")}


def _vector(b, values, position):
    """A Python tuple of integers (a shape, a permutation) as a constant vector, as x.shape is."""
    return b.const(np.asarray(np.asarray(values, dtype=np.int64), dtype=b.dtype), position)


def _specs(b, value, ndim, fname, position):
    if value is None:
        if ndim not in _DEFAULT_SPECS:
            raise JacValueError(f"jax.lax.{fname}: jac reads 1, 2 or 3 spatial axes (lhs of rank 3, 4 or 5), got rank "
                                f"{ndim}", position)
        return _DEFAULT_SPECS[ndim]
    specs = tuple(static(b, s, "dimension_numbers", position) for s in value) \
        if isinstance(value, (tuple, list, Items)) else static(b, value, "dimension_numbers", position)
    return specs


def transpose_padding(k: int, s: int, padding) -> tuple:
    """JAX's _conv_transpose_padding: (before, after) of one spatial axis of the transposed convolution, for kernel
    extent k, stride s and the forward convolution's padding ('SAME', 'VALID' or a (low, high) pair)."""
    if padding == "SAME":
        total = k + s - 2
        before = k - 1 if s > k - 1 else int(np.ceil(total / 2))
    elif padding == "VALID":
        total = k + s - 2 + max(k - s, 0)
        before = k - 1
    else:
        pads = tuple(k - p - 1 for p in padding)
        before, total = pads[0], sum(pads)
    return before, total - before


@variant("jax.lax", "conv_transpose")
def _conv_transpose(b, args, kwargs, position):
    """jax.lax.conv_transpose(lhs, rhs, strides, padding, rhs_dilation=None, dimension_numbers=None,
    transpose_kernel=False, precision=None, preferred_element_type=None, use_consistent_padding=False): the
    fractionally strided convolution JAX computes, conv_general_dilated(lhs, rhs, ones, pads, lhs_dilation=strides,
    rhs_dilation) with pads from 'SAME' / 'VALID' (or the forward padding, use_consistent_padding=True) and the kernel
    flipped and its channels swapped for transpose_kernel=True; layouts default to NHWC / HWIO, as JAX's."""
    fname = "conv_transpose"
    a = arguments(fname, args, kwargs, {"lhs": REQUIRED, "rhs": REQUIRED, "strides": REQUIRED, "padding": REQUIRED,
                                        "rhs_dilation": None, "dimension_numbers": None, "transpose_kernel": False,
                                        **_CONV_TAIL, "use_consistent_padding": False}, position)
    _conv_common(a, fname, position, b)
    x, w = tensor(b, a["lhs"], f"jax.lax.{fname}", position), tensor(b, a["rhs"], f"jax.lax.{fname}", position)
    specs = _specs(b, a["dimension_numbers"], x.ndim, fname, position)
    if w.ndim != x.ndim:
        raise JacValueError(f"jax.lax.{fname}: lhs and rhs must have the same rank, got {tuple(x.shape)} and "
                            f"{tuple(w.shape)}", position)
    rhs_spec = _conv_permutations(specs, x.ndim, position)[1]
    n = x.ndim - 2
    strides = static_ints(b, a["strides"], "strides", position)
    dilation = static_ints(b, a["rhs_dilation"], "rhs_dilation", position) if a["rhs_dilation"] is not None \
        else (1,) * n
    if len(strides) != n or len(dilation) != n or min(strides + dilation) < 1:
        raise JacValueError(f"jax.lax.{fname}: strides and rhs_dilation need one positive integer per spatial axis "
                            f"({n}), got {strides} and {dilation}", position)
    padding = static(b, a["padding"], "padding", position)
    if static(b, a["use_consistent_padding"], "use_consistent_padding", position) or padding in ("SAME", "VALID"):
        extents = [(int(w.shape[d]) - 1) * r + 1 for d, r in zip(rhs_spec[2:], dilation)]
        per_axis = [padding] * n if isinstance(padding, str) else [tuple(int(v) for v in p) for p in padding]
        if len(per_axis) != n or any(p not in ("SAME", "VALID") and len(p) != 2 for p in per_axis):
            raise JacValueError(f"jax.lax.{fname}: padding is 'SAME', 'VALID' or one (low, high) pair per spatial "
                                f"axis ({n}), got {padding!r}", position)
        padding = tuple(transpose_padding(k, s, p) for k, s, p in zip(extents, strides, per_axis))
    if static(b, a["transpose_kernel"], "transpose_kernel", position):
        flip = tuple(slice(None, None, -1) if d in rhs_spec[2:] else slice(None) for d in range(w.ndim))
        w = b.apply("getitem", w, index=flip, position=position)
        perm = list(range(w.ndim))
        perm[rhs_spec[0]], perm[rhs_spec[1]] = rhs_spec[1], rhs_spec[0]
        w = b.apply("transpose", w, axes=tuple(perm), position=position)
    return _lax_conv(b, x, w, (1,) * n, padding, strides, dilation, specs, 1, fname, position)


@variant("jax.lax", "conv_general_dilated_patches")
def _patches(b, args, kwargs, position):
    """jax.lax.conv_general_dilated_patches(lhs, filter_shape, window_strides, padding, lhs_dilation=None,
    rhs_dilation=None, dimension_numbers=None, precision=None, preferred_element_type=None): each window flattened
    into the channel axis (channel-major: c, then the filter's axes in rhs_spec's order), as JAX computes it: a
    grouped convolution with an identity kernel per channel."""
    fname = "conv_general_dilated_patches"
    a = arguments(fname, args, kwargs, {"lhs": REQUIRED, "filter_shape": REQUIRED, "window_strides": REQUIRED,
                                        "padding": REQUIRED, "lhs_dilation": None, "rhs_dilation": None,
                                        "dimension_numbers": None, **_CONV_TAIL}, position)
    _conv_common(a, fname, position, b)
    x = tensor(b, a["lhs"], f"jax.lax.{fname}", position)
    filt = static_ints(b, a["filter_shape"], "filter_shape", position)
    specs = a["dimension_numbers"]
    specs = None if specs is None else _specs(b, specs, x.ndim, fname, position)
    lhs_perm, rhs_perm, _ = _conv_permutations(specs, x.ndim, position)
    if len(filt) != x.ndim - 2 or min(filt, default=1) < 1:
        raise JacValueError(f"jax.lax.{fname}: filter_shape needs one positive size per spatial axis "
                            f"({x.ndim - 2}), got {filt}", position)
    size, channels = int(np.prod(filt)), int(x.shape[lhs_perm[1]])
    eye = np.broadcast_to(np.eye(size), (channels, size, size)).reshape((channels * size, 1) + tuple(filt))
    kernel = np.moveaxis(eye, (0, 1), (rhs_perm[0], rhs_perm[1]))  # JAX's util.moveaxis onto the rhs layout
    w = b.const(np.ascontiguousarray(kernel, dtype=b.dtype), position)
    return _lax_conv(b, x, w, a["window_strides"], a["padding"], a["lhs_dilation"], a["rhs_dilation"], specs,
                     channels, fname, position)


@variant("jax.lax", "padtype_to_pads")
def _padtype_to_pads(b, args, kwargs, position):
    """jax.lax.padtype_to_pads(in_shape, window_shape, window_strides, padding): the (low, high) pairs of 'VALID',
    'SAME' or 'SAME_LOWER' (case-insensitive), an (n, 2) constant."""
    a = arguments("padtype_to_pads", args, kwargs, {"in_shape": REQUIRED, "window_shape": REQUIRED,
                                                     "window_strides": REQUIRED, "padding": REQUIRED}, position)
    shapes = [static_ints(b, a[k], k, position) for k in ("in_shape", "window_shape", "window_strides")]
    padding = static(b, a["padding"], "padding", position)
    if not isinstance(padding, str):
        raise JacValueError(f"jax.lax.padtype_to_pads: padding is 'VALID', 'SAME' or 'SAME_LOWER', got {padding!r}",
                            position)
    return _vector(b, string_pads(padding, *shapes, "padtype_to_pads", position) or np.zeros((0, 2)), position)


def _pads(b, value, lhs, rhs, strides, position):
    pads = static(b, value, "padding", position)
    if isinstance(pads, str):
        return string_pads(pads, lhs[2:], rhs[2:], strides, "conv_shape_tuple", position)
    return tuple(tuple(int(v) for v in p) for p in np.asarray(pads).reshape(-1, 2))


def _conv_shape(lhs, rhs, strides, pads, position):
    if len(pads) != len(lhs) - 2 or len(strides) != len(lhs) - 2:
        raise JacValueError(f"jax.lax.conv_shape_tuple: padding and strides need one entry per spatial axis "
                            f"({len(lhs) - 2})", position)
    padded = np.add(lhs[2:], np.sum(np.asarray(pads, dtype=np.int64).reshape(-1, 2), axis=1))
    if np.any(padded < 0):
        raise JacValueError(f"jax.lax.conv_shape_tuple: negative padding size after padding: {tuple(padded)}",
                            position)
    space = tuple(0 if d < k else (d - k) // s + 1 for d, k, s in zip(padded, rhs[2:], strides))
    return (lhs[0], rhs[0]) + space


@variant("jax.lax", "conv_shape_tuple")
def _conv_shape_tuple(b, args, kwargs, position):
    """jax.lax.conv_shape_tuple(lhs_shape, rhs_shape, strides, pads, batch_group_count=1): the output shape of a
    convolution in NC... / OI... order."""
    a = arguments("conv_shape_tuple", args, kwargs, {"lhs_shape": REQUIRED, "rhs_shape": REQUIRED,
                                                      "strides": REQUIRED, "pads": REQUIRED,
                                                      "batch_group_count": 1}, position)
    lhs, rhs = static_ints(b, a["lhs_shape"], "lhs_shape", position), static_ints(b, a["rhs_shape"], "rhs_shape",
                                                                                  position)
    strides = static_ints(b, a["strides"], "strides", position)
    groups = static(b, a["batch_group_count"], "batch_group_count", position)
    shape = _conv_shape(lhs, rhs, strides, _pads(b, a["pads"], lhs, rhs, strides, position), position)
    return _vector(b, (shape[0] // groups,) + shape[1:], position)


def _permuted(b, a, position):
    lhs, rhs = (static_ints(b, a[k], k, position) for k in ("lhs_shape", "rhs_shape"))
    perms = _conv_permutations(_specs(b, a["dimension_numbers"], len(lhs), "conv_general_shape_tuple", position),
                               len(lhs), position)
    return tuple(np.take(lhs, perms[0])), tuple(np.take(rhs, perms[1])), perms[2]


_SHAPE_ARGS = {"lhs_shape": REQUIRED, "rhs_shape": REQUIRED, "window_strides": REQUIRED, "padding": REQUIRED,
               "dimension_numbers": REQUIRED}


@variant("jax.lax", "conv_general_shape_tuple")
def _conv_general_shape_tuple(b, args, kwargs, position):
    """jax.lax.conv_general_shape_tuple(lhs_shape, rhs_shape, window_strides, padding, dimension_numbers)."""
    a = arguments("conv_general_shape_tuple", args, kwargs, _SHAPE_ARGS, position)
    lhs, rhs, out_perm = _permuted(b, a, position)
    strides = static_ints(b, a["window_strides"], "window_strides", position)
    shape = _conv_shape(lhs, rhs, strides, _pads(b, a["padding"], lhs, rhs, strides, position), position)
    return _vector(b, tuple(np.take(shape, np.argsort(out_perm))), position)


@variant("jax.lax", "conv_transpose_shape_tuple")
def _conv_transpose_shape_tuple(b, args, kwargs, position):
    """jax.lax.conv_transpose_shape_tuple(lhs_shape, rhs_shape, window_strides, padding, dimension_numbers)."""
    a = arguments("conv_transpose_shape_tuple", args, kwargs, _SHAPE_ARGS, position)
    lhs, rhs, out_perm = _permuted(b, a, position)
    strides = static_ints(b, a["window_strides"], "window_strides", position)
    padding = static(b, a["padding"], "padding", position)
    if isinstance(padding, str):
        padding = [transpose_padding(k, s, padding) for k, s in zip(rhs[2:], strides)]
    total = [int(np.sum(p)) for p in padding]
    space = [(i - 1) * s - k + 2 + p for i, k, s, p in zip(lhs[2:], rhs[2:], strides, total)]
    return _vector(b, tuple(np.take((lhs[0], rhs[0]) + tuple(space), np.argsort(out_perm))), position)


@variant("jax.lax", "conv_general_permutations")
def _conv_general_permutations(b, args, kwargs, position):
    """jax.lax.conv_general_permutations(dimension_numbers): (lhs_perm, rhs_perm, out_perm) of three spec strings."""
    a = arguments("conv_general_permutations", args, kwargs, {"dimension_numbers": REQUIRED}, position)
    specs = _specs(b, a["dimension_numbers"], 0, "conv_general_permutations", position)
    if not isinstance(specs, tuple) or len(specs) != 3 or not all(isinstance(s, str) for s in specs):
        raise JacValueError("jax.lax.conv_general_permutations: dimension_numbers are three strings, as "
                            f"('NHWC', 'HWIO', 'NHWC'), got {specs!r}", position)
    return Items(tuple(_vector(b, p, position) for p in _conv_permutations(specs, len(specs[0]), position)))


@variant("jax.lax", "reduce_window_shape_tuple")
def _reduce_window_shape_tuple(b, args, kwargs, position):
    """jax.lax.reduce_window_shape_tuple(operand_shape, window_dimensions, window_strides, padding,
    base_dilation=None, window_dilation=None): the shape reduce_window gives."""
    a = arguments("reduce_window_shape_tuple", args, kwargs, {
        "operand_shape": REQUIRED, "window_dimensions": REQUIRED, "window_strides": REQUIRED, "padding": REQUIRED,
        "base_dilation": None, "window_dilation": None}, position)
    shape, window, strides = (static_ints(b, a[k], k, position)
                              for k in ("operand_shape", "window_dimensions", "window_strides"))
    if a["base_dilation"] is not None:
        shape = tuple(0 if d == 0 else 1 + r * (d - 1) for d, r in zip(shape, static_ints(b, a["base_dilation"],
                                                                                         "base_dilation", position)))
    if a["window_dilation"] is not None:
        window = tuple(0 if d == 0 else 1 + r * (d - 1) for d, r in zip(window, static_ints(b, a["window_dilation"],
                                                                                           "window_dilation",
                                                                                           position)))
    pads = np.asarray(static(b, a["padding"], "padding", position)).reshape(-1, 2)
    padded = [d + int(lo) + int(hi) for d, (lo, hi) in zip(shape, pads)]
    return _vector(b, tuple(0 if d < k else (d - k) // s + 1 for d, k, s in zip(padded, window, strides)), position)


variant("jax.lax", "broadcast_shapes")(_broadcast_shapes)
