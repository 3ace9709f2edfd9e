"""Names and forms users paste that jac refused until session 30, registered in ``functions``' table when ``lang``
is imported. Each is read as its library computes it, lowered onto the functions and ops jac has (no op of its own),
or refused saying why and what to write.

- JAX's set functions of float arrays, with and without ``size=`` / ``fill_value=`` (JAX's form for ``jax.jit``):
  ``jnp.unique`` (``return_index`` / ``return_inverse`` / ``return_counts``), ``jnp.unique_values`` /
  ``unique_counts`` / ``unique_inverse`` / ``unique_all``, ``jnp.union1d``, ``jnp.intersect1d`` (``return_indices``),
  ``jnp.setdiff1d``, ``jnp.setxor1d``. The values are read off the inputs' values (the graph holds for them only,
  as NumPy's set functions in jac), and each result element is the input's element it came from, gathered: JAX's
  derivative (its ``unique`` sorts stably and gathers, so a repeated value's derivative is its first occurrence's;
  ``intersect1d``'s is the first array's). ``size`` truncates or pads: ``unique`` / ``union1d`` pad with the
  smallest value (gathered, so its derivative too) or ``fill_value`` (an expression: its derivative reaches the
  padding), ``setdiff1d`` with ``fill_value`` or 0, ``intersect1d`` / ``setxor1d`` with ``fill_value`` or their
  smallest result (0 for no result), as JAX's code computes; indices pad as JAX's. Integer and boolean arrays keep
  the earlier reading (``jnp.unique``: NumPy's values; the others refused: JAX's integer dtypes depend on
  ``jax_enable_x64``); NaN in a two-array set function, ``assume_unique=True`` and an empty array with ``size`` and
  no ``fill_value`` (JAX raises) are refused saying why.
"""

from __future__ import annotations

import numpy as np

from ..ir.graph import Tracer
from .functions import FUNCTIONS, LIBRARY_FUNCTIONS, REQUIRED, Items, JacValueError, Static, arguments, \
    is_boolean, static, static_int, tensor, truth, variant, _flag, _index_const, _values_for
from .laxnames import COLLECTIVES, LAX_REFUSED
from .pasted import _underivable
from ..ir.custom import Rule

_JAX = ("jnp.", "jax.numpy.")


def _jax_call(b) -> bool:
    return (b.call or "").startswith(_JAX)


def _floating(b, t) -> bool:
    return isinstance(t, Tracer) and t.id not in b.typed and t.id not in b.integral and not is_boolean(b, t)


def _flat(b, x: Tracer, fname: str, position, shaped: bool = True) -> tuple:
    """``x`` raveled (a tracer) and its values (``shaped``: no size=, the result's shape read off them)."""
    flat = FUNCTIONS["ravel"](b, [x], {}, position)
    return flat, np.asarray(_values_for(b, flat, fname, position, shaped)).reshape(-1)


def _gather(b, flat: Tracer, index, position) -> Tracer:
    return FUNCTIONS["take"](b, [flat, _index_const(b, np.asarray(index, dtype=np.int64), position)], {}, position)


def _filled(b, taken: Tracer, count: int, fill: Tracer, position) -> Tracer:
    """``taken`` then ``count`` copies of the 0-d ``fill``."""
    if count == 0:
        return taken
    pad = b.apply("mul", b.const(np.ones(count, dtype=b.dtype), position), fill, position=position)
    if taken.shape[0] == 0:
        return pad
    return FUNCTIONS["concatenate"](b, [Items((taken, pad))], {}, position)


def _fill_value(b, value, fname: str, position) -> Tracer | None:
    if value is None:
        return None
    fill = tensor(b, value, fname, position)
    if fill.ndim:
        raise JacValueError(f"{fname}: fill_value is one number (JAX casts it to a scalar of the result's dtype), "
                            f"got shape {tuple(fill.shape)}", position)
    return fill


def _size(b, value, fname: str, position) -> int | None:
    if value is None:
        return None
    size = static_int(b, value, f"{fname}'s size", position)
    if size < 0:
        raise JacValueError(f"{fname}: size must be >= 0, got {size}", position)
    return size


def _unique_parts(values: np.ndarray) -> tuple:
    """NumPy's unique with NaNs as one (JAX's ``equal_nan=True``): the distinct values sorted, each one's first
    position (a stable sort, as JAX's lexsort), the inverse, the counts."""
    return np.unique(values, return_index=True, return_inverse=True, return_counts=True, equal_nan=True)


def _jax_unique(b, x, size, fill, fname: str, position, flags=()) -> list:
    """``jnp.unique(x, size=, fill_value=, return_...)``: [values, *the asked parts in JAX's order]."""
    flat, values = _flat(b, x, fname, position, size is None)
    if values.size == 0 and size and fill is None:
        raise JacValueError(f"{fname} of an empty array with size={size} needs fill_value (JAX raises: 'for "
                            f"zero-sized input with nonzero size argument, fill_value must be specified')", position)
    uniq, first, inverse, counts = _unique_parts(values)
    k = len(uniq)
    n = k if size is None else size
    index = first[:n] if values.size else np.zeros(0, dtype=np.int64)
    pad = n - len(index)
    if fill is None:
        out = _gather(b, flat, np.concatenate([index, np.full(pad, first[0] if k else 0, dtype=np.int64)]),
                      position)
    else:
        out = _filled(b, _gather(b, flat, index, position), pad, b.apply("add", fill, 0.0, position=position)
                      if fill.id in b.typed else fill, position)
    parts = [out]
    if "return_index" in flags:
        parts.append(_index_const(b, np.concatenate([index, np.full(pad, first[0] if k else 0, dtype=np.int64)]),
                                  position))
    if "return_inverse" in flags:
        parts.append(_index_const(b, np.asarray(inverse, dtype=np.int64).reshape(tuple(x.shape)), position))
    if "return_counts" in flags:
        got = counts[:n] if values.size else (np.full(1, 0, dtype=np.int64)[:0])
        parts.append(_index_const(b, np.concatenate([got, np.zeros(n - len(got), dtype=np.int64)]), position))
    return parts


def _wrap(name: str, jax_lower):
    """``LIBRARY_FUNCTIONS[("numpy", name)]`` read as JAX reads it in a ``jnp.`` call of float arrays, else as
    before."""
    before = LIBRARY_FUNCTIONS[("numpy", name)]

    def lower(b, args, kwargs, position):
        if _jax_call(b):
            found = jax_lower(b, args, kwargs, position)
            if found is not None:
                return found
        return before(b, args, kwargs, position)
    lower.__doc__ = (before.__doc__ or "") + "; " + (jax_lower.__doc__ or "")
    LIBRARY_FUNCTIONS[("numpy", name)] = lower


def _unique(b, args, kwargs, position):
    """jnp.unique(x, size=, fill_value=) of a float array: JAX's values, derivative and padding (lang/names30.py)"""
    fname = b.call or "jnp.unique"
    kwargs = {("x" if k == "ar" else k): v for k, v in kwargs.items()}
    a = arguments(fname, args, kwargs, {"x": REQUIRED, "return_index": False, "return_inverse": False,
                                        "return_counts": False, "axis": None, "equal_nan": True, "size": None,
                                        "fill_value": None}, position)
    x = tensor(b, a["x"], fname, position)
    if not _floating(b, x):
        if a["size"] is not None or a["fill_value"] is not None:
            raise JacValueError(f"{fname}(..., size=) of an integer or boolean array: JAX's result dtype depends on "
                                f"jax_enable_x64, which jac does not follow; write it of a float array "
                                f"(x.astype(float))", position)
        return None
    if a["axis"] is not None:
        raise JacValueError(f"{fname}(x, axis=...) is not supported by jac (the unique rows or columns of an "
                            "array, whose order jac does not follow); jac answers the unique elements of the "
                            f"flattened array: write {fname}(x) without axis=", position)
    if not _flag(b, a["equal_nan"], "equal_nan", fname, position):
        raise JacValueError(f"{fname}: equal_nan=False is not supported by jac (NaNs are one value)", position)
    flags = tuple(f for f in ("return_index", "return_inverse", "return_counts")
                  if _flag(b, a[f], f, fname, position))
    parts = _jax_unique(b, x, _size(b, a["size"], fname, position), _fill_value(b, a["fill_value"], fname, position),
                        fname, position, flags)
    return parts[0] if len(parts) == 1 else Items(parts)


_FAMILY = {"unique_values": ((), None), "unique_counts": (("return_counts",), ("values", "counts")),
           "unique_inverse": (("return_inverse",), ("values", "inverse_indices")),
           "unique_all": (("return_index", "return_inverse", "return_counts"),
                          ("values", "indices", "inverse_indices", "counts"))}


def _family(name: str):
    flags, fields = _FAMILY[name]

    def lower(b, args, kwargs, position):
        fname = b.call or f"jnp.{name}"
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "size": None, "fill_value": None}, position)
        x = tensor(b, a["x"], fname, position)
        if not _floating(b, x):
            return None
        parts = _jax_unique(b, x, _size(b, a["size"], fname, position),
                            _fill_value(b, a["fill_value"], fname, position), fname, position, flags)
        return Items.named(parts, fields) if fields else parts[0]
    lower.__doc__ = f"jnp.{name}(x, size=, fill_value=) of a float array: JAX's (lang/names30.py)"
    return lower


def _pair(b, args, kwargs, fname: str, params: dict, position):
    """The two arrays raveled, their values (NaN refused), the options; None where the arrays are not floats."""
    kwargs = {({"a": "ar1", "b": "ar2"}.get(k, k)): v for k, v in kwargs.items()}
    a = arguments(fname, args, kwargs, {"ar1": REQUIRED, "ar2": REQUIRED, **params, "size": None,
                                        "fill_value": None}, position)
    xs = [tensor(b, a[k], fname, position) for k in ("ar1", "ar2")]
    if not all(_floating(b, x) for x in xs):
        if a["size"] is not None:
            raise JacValueError(f"{fname}(..., size=) of an integer or boolean array: JAX's result dtype depends on "
                                f"jax_enable_x64, which jac does not follow; write it of float arrays", position)
        return None
    if a.get("assume_unique") is not None and _flag(b, a["assume_unique"], "assume_unique", fname, position):
        raise JacValueError(f"{fname}(..., assume_unique=True) is not read by jac (JAX's result is undefined for "
                            f"an array with repeats, and its order differs): drop it", position)
    flats = [_flat(b, x, fname, position, a["size"] is None) for x in xs]
    if any(np.isnan(v).any() for _, v in flats):
        raise JacValueError(f"{fname} of an array holding NaN: JAX's set functions compare with ==, under which NaN "
                            f"is never found in the other array, and NumPy's differ; drop the NaNs first", position)
    return flats, a, _size(b, a["size"], fname, position), _fill_value(b, a["fill_value"], fname, position)


def _union1d(b, args, kwargs, position):
    """jnp.union1d(a, b, size=, fill_value=) of float arrays: jnp.unique of both, JAX's (lang/names30.py)"""
    fname = b.call or "jnp.union1d"
    found = _pair(b, args, kwargs, fname, {}, position)
    if found is None:
        return None
    (fa, _), (fb, _) = found[0]
    both = FUNCTIONS["concatenate"](b, [Items((fa, fb))], {}, position)
    return _jax_unique(b, both, found[2], found[3], fname, position)[0]


def _chosen(b, fname, flat, values, keep, size, fill, default, position, zero_tie: bool):
    """The sorted values of ``values`` whose first occurrences ``keep`` marks, gathered from ``flat``, truncated or
    padded to ``size`` as JAX pads (``default``: 'zero' or 'least', JAX's padding without fill_value)."""
    uniq, first, _, _ = _unique_parts(values) if values.size else (values, np.zeros(0, np.int64), None, None)
    index = first[keep(uniq)] if values.size else first
    n = len(index) if size is None else size
    index, pad = index[:n], n - min(n, len(index))
    taken = _gather(b, flat, index, position)
    if pad == 0:
        return taken
    if fill is None and default == "least" and len(index):
        if zero_tie and values[index[0]] == 0:
            raise JacValueError(f"{fname}(..., size={size}) pads with its smallest result, which is 0 here: JAX's "
                                f"padding then ties with its own zeros and splits the derivative; pass fill_value=",
                                position)
        return _gather(b, flat, np.concatenate([index, np.full(pad, index[0], dtype=np.int64)]), position)
    return _filled(b, taken, pad, fill if fill is not None else b.const(0.0, position), position)


def _setdiff1d(b, args, kwargs, position):
    """jnp.setdiff1d(a, b, size=, fill_value=) of float arrays: JAX's (lang/names30.py)"""
    fname = b.call or "jnp.setdiff1d"
    found = _pair(b, args, kwargs, fname, {"assume_unique": False}, position)
    if found is None:
        return None
    (fa, va), (_, vb) = found[0]
    return _chosen(b, fname, fa, va, lambda u: ~np.isin(u, vb), found[2], found[3], "zero", position, False)


def _setxor1d(b, args, kwargs, position):
    """jnp.setxor1d(a, b, size=, fill_value=) of float arrays: JAX's (lang/names30.py)"""
    fname = b.call or "jnp.setxor1d"
    found = _pair(b, args, kwargs, fname, {"assume_unique": False}, position)
    if found is None:
        return None
    (fa, va), (fb, vb) = found[0]
    both = FUNCTIONS["concatenate"](b, [Items((fa, fb))], {}, position)
    values = np.concatenate([va, vb])
    return _chosen(b, fname, both, values, lambda u: np.isin(u, va) != np.isin(u, vb), found[2], found[3], "least",
                   position, True)


def _intersect1d(b, args, kwargs, position):
    """jnp.intersect1d(a, b, size=, fill_value=, return_indices=) of float arrays: JAX's (lang/names30.py)"""
    fname = b.call or "jnp.intersect1d"
    found = _pair(b, args, kwargs, fname, {"assume_unique": False, "return_indices": False}, position)
    if found is None:
        return None
    (fa, va), (_, vb) = found[0]
    size = found[2]
    out = _chosen(b, fname, fa, va, lambda u: np.isin(u, vb), size, found[3], "least", position, True)
    if not _flag(b, found[1]["return_indices"], "return_indices", fname, position):
        return out
    common, ia, ib = np.intersect1d(va, vb, return_indices=True)
    n = len(common) if size is None else size
    ia, ib = ia[:n], ib[:n]
    ia = np.concatenate([ia, np.full(n - len(ia), va.size, dtype=np.int64)])
    ib = np.concatenate([ib, np.full(n - len(ib), vb.size, dtype=np.int64)])
    return Items([out, _index_const(b, ia, position), _index_const(b, ib, position)])


_wrap("unique", _unique)
for _name in _FAMILY:
    _wrap(_name, _family(_name))
_wrap("union1d", _union1d)
_wrap("setdiff1d", _setdiff1d)
_wrap("setxor1d", _setxor1d)
_wrap("intersect1d", _intersect1d)


# -- the collectives inside jax.vmap(..., axis_name=): a reduction over the mapped axis (vmapping.NamedAxis) -------

def _axis_name(b, value, fname: str, position) -> str:
    name = value.value if isinstance(value, Static) else None
    if type(name) is not str:
        raise JacValueError(f"{fname}: jac reads axis_name as one name written as a string ('i'), the axis_name of "
                            f"the jax.vmap around it (a tuple of names, or an axis of jax.pmap / shard_map, is not "
                            f"read)", position)
    return name


def _collective(kind: str):
    fname = f"jax.lax.{kind}"
    params = {"axis_name": REQUIRED} if kind in ("axis_index", "axis_size") else \
        {"x": REQUIRED, "axis_name": REQUIRED, "axis": 0, "tiled": False} if kind == "all_gather" else \
        {"x": REQUIRED, "axis_name": REQUIRED, "perm": REQUIRED} if kind in ("ppermute", "pshuffle") else \
        {"x": REQUIRED, "axis_name": REQUIRED}

    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, params, position)
        name = _axis_name(b, a["axis_name"], fname, position)
        axes = getattr(b.lowering, "named_axes", ()) if b.lowering is not None else ()
        axis = next((n for n in reversed(axes) if n.name == name), None)
        if axis is None:
            raise JacValueError(f"{fname}(..., {name!r}) outside a jax.vmap(..., axis_name={name!r}): JAX raises "
                                f"NameError (unbound axis name), and jac has no devices or named axes besides a "
                                f"vmap's: inside jax.vmap(f, axis_name={name!r}) jac reads it over the mapped axis; "
                                f"on one device write " + LAX_REFUSED[kind].rsplit("one device, ", 1)[1], position)
        if kind == "axis_size":  # a Python int in JAX
            size = b.const(float(axis.count), position)
            b.pyints[size.id] = axis.count
            return size
        x = None if kind == "axis_index" else tensor(b, a["x"], fname, position)
        options = ()
        if kind in ("ppermute", "pshuffle"):
            options = _permutation(b, a["perm"], kind, axis.count, fname, position)
        if kind == "all_gather":
            along = static_int(b, a["axis"], f"{fname}'s axis", position)
            tiled = _flag(b, a["tiled"], "tiled", fname, position)
            if not 0 <= along < x.ndim + (not tiled):
                joined = ", joining along an axis the operand has" if tiled else ""
                raise JacValueError(f"{fname}: axis {along} of an operand of {x.ndim} dimensions, out of bounds as "
                                    f"JAX raises (it reads 0 to {x.ndim - tiled}{joined})", position)
            options = (along, tiled)
        if kind in ("pmax", "pmin"):  # JAX: "Differentiation rule for 'pmax' not implemented"
            return _underivable(b, axis.collective(b.lowering, kind, x, options, position), Rule(
                name=fname, library="jax", nodes=(), residual_ids=(), cotangent_ids=(), result_ids=(),
                residual_from=(), output_shapes=(), primal_shapes=(), linear=True, once=True,
                message=f"a derivative through {fname}: JAX has none (NotImplementedError: Differentiation rule for "
                        f"'{kind}' not implemented), so jac refuses it; jac reads lax.stop_gradient({fname}(x, "
                        f"{name!r})) as a constant of the derivative (a stable softmax's shift; JAX raises there "
                        f"too), or write it outside the vmap: jnp.max(x, axis=0)"),
                position)
        return axis.collective(b.lowering, kind, x, options, position)
    lower.__doc__ = (f"{fname} inside jax.vmap(f, axis_name=...): " + {
        "axis_size": "the mapped axis' size, an int", "ppermute": "the operand of each (source, destination) pair's "
        "source, 0 where no pair sends", "pshuffle": "the operand of example perm[i]",
        "psum": "the sum over the mapped axis", "pmean": "the mean over the mapped axis",
        "pmax": "the largest over the mapped axis", "pmin": "the smallest over the mapped axis",
        "all_gather": "every example's operand stacked (tiled: joined) along axis",
        "axis_index": "the example's index"}[kind] + " (lang/vmapping.py's NamedAxis)")
    return lower


def _permutation(b, value, kind: str, count: int, fname: str, position) -> tuple:
    """ppermute's perm, (source, destination) pairs, or pshuffle's, a permutation of range(count), checked as JAX
    checks them: as the pairs (source, destination)."""
    found = value.value if isinstance(value, Static) else static(b, value, "perm", position)
    try:
        items = [tuple(int(v) for v in p) if kind == "ppermute" else int(p) for p in found]
    except (TypeError, ValueError):
        items = None
    if items is None or kind == "ppermute" and any(len(p) != 2 for p in items):
        what = "(source, destination) pairs of ints" if kind == "ppermute" else "a list of ints"
        raise JacValueError(f"{fname}: perm is {what} written in the text, got {found!r}", position)
    pairs = items if kind == "ppermute" else [(src, dst) for dst, src in enumerate(items)]
    sources, dests = [p[0] for p in pairs], [p[1] for p in pairs]
    if kind == "pshuffle" and sorted(items) != list(range(count)):
        raise JacValueError(f"{fname}: perm must be a permutation of range({count}) (JAX raises), got {items}",
                            position)
    if kind == "ppermute" and len(pairs) != count:  # JAX's vmap: "Permutation doesn't match the axis size!"
        raise JacValueError(f"{fname} inside jax.vmap: perm must send every one of the {count} examples (JAX's vmap "
                            f"raises 'Permutation doesn't match the axis size!'), got {len(pairs)} pairs", position)
    if len(set(sources)) != len(sources) or len(set(dests)) != len(dests) or \
            any(not 0 <= v < count for v in sources + dests):
        raise JacValueError(f"{fname}: perm's sources and destinations must each be distinct, in range({count}) (JAX "
                            f"raises), got {pairs}", position)
    return tuple(pairs)


for _kind in sorted(COLLECTIVES):
    variant("jax.lax", _kind)(_collective(_kind))


# -- JAX's index functions with size= / fill_value= (its jit forms): nonzero, where(c), argwhere, flatnonzero,
# extract: the positions read off the values, truncated or padded with fill_value (0 by default), as JAX's ----------

def _positions(b, value, fname: str, position, shaped: bool = False) -> tuple:
    """The condition (a tracer) and its true positions, one vector per axis (``shaped``: without size=)."""
    c = truth(b, tensor(b, value, fname, position), position)
    if c.ndim == 0:
        raise JacValueError(f"{fname} of a 0-d array: JAX raises, as NumPy (write it of x.reshape(1))", position)
    return c, np.nonzero(np.asarray(_values_for(b, c, fname, position, shaped)) != 0)


def _fills(b, value, count: int, fname: str, position) -> list:
    """fill_value for each of ``count`` axes: one integer for all, or one per axis (JAX's)."""
    if value is None:
        return [0] * count
    found = value.value if isinstance(value, Static) else static(b, value, "fill_value", position)
    items = list(found) if isinstance(found, (tuple, list)) else [found] * count
    if len(items) != count or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and float(v) == int(v)
                                      for v in items):
        raise JacValueError(f"{fname}: fill_value is an integer, or one per axis ({count}), got {found!r}", position)
    return [int(v) for v in items]


def _padded_index(index: np.ndarray, size: int, fill: int) -> np.ndarray:
    out = np.full(size, fill, dtype=np.int64)
    out[:min(size, len(index))] = index[:size]
    return out


def _index_sized(kind: str):
    def lower(b, args, kwargs, position):
        fname = b.call or f"jnp.{kind}"
        if kind == "where":
            a = arguments(fname, args, kwargs, {"condition": REQUIRED, "x": None, "y": None, "size": None,
                                                "fill_value": None}, position)
            if a["x"] is not None or a["y"] is not None:
                raise JacValueError(f"{fname}(condition, x, y, size=...): JAX reads size= only in the one-argument "
                                    f"form, jnp.where(condition, size=n) (the positions)", position)
            x = a["condition"]
        else:
            a = arguments(fname, args, kwargs, {"x": REQUIRED, "size": None, "fill_value": None}, position)
            x = a["x"]
        size = _size(b, a["size"], fname, position)
        c, found = _positions(b, x, fname, position, size is None)
        if kind == "flatnonzero":
            found = (np.flatnonzero(np.asarray(_values_for(b, c, fname, position, False)) != 0),)
        count = len(found)
        fills = _fills(b, a["fill_value"], count, fname, position)
        n = len(found[0]) if size is None else size
        parts = [_padded_index(f, n, v) for f, v in zip(found, fills)]
        if kind == "argwhere":
            return _index_const(b, np.stack(parts, axis=1) if parts else np.zeros((n, 0), np.int64), position)
        if kind == "flatnonzero":
            return _index_const(b, parts[0], position)
        return Items([_index_const(b, p, position) for p in parts])
    lower.__doc__ = f"jnp.{kind}(..., size=, fill_value=): the positions, truncated or padded as JAX's (lang/names30.py)"
    return lower


def _jax_sized(kind: str):
    sized = _index_sized(kind)

    def lower(b, args, kwargs, position):
        if "size" not in kwargs and "fill_value" not in kwargs:
            return None
        return sized(b, args, kwargs, position)
    return lower


def _extract(b, args, kwargs, position):
    """jnp.extract(condition, arr, size=, fill_value=0): arr's elements where condition holds, gathered (their
    derivative), truncated or padded as JAX's (lang/names30.py)"""
    if "size" not in kwargs and "fill_value" not in kwargs:
        return None
    fname = b.call or "jnp.extract"
    a = arguments(fname, args, kwargs, {"condition": REQUIRED, "arr": REQUIRED, "size": None, "fill_value": 0.0},
                  position)
    arr = tensor(b, a["arr"], fname, position)
    c, _ = _positions(b, a["condition"], fname, position, "size" not in kwargs)
    flags = np.asarray(_values_for(b, c, fname, position, False)).ravel() != 0
    flat = FUNCTIONS["ravel"](b, [arr], {}, position)
    if flags.size != flat.shape[0]:
        raise JacValueError(f"{fname}: condition has {flags.size} elements and arr {flat.shape[0]}: jac reads them of "
                            f"one size", position)
    index = np.flatnonzero(flags)
    size = _size(b, a["size"], fname, position)
    n = len(index) if size is None else size
    taken = _gather(b, flat, index[:n], position)
    return _filled(b, taken, n - min(n, len(index)), tensor(b, a["fill_value"], fname, position), position)


for _kind in ("nonzero", "argwhere", "flatnonzero"):
    _wrap(_kind, _jax_sized(_kind))
_wrap("extract", _extract)


@variant("numpy", "where")
def _where(b, args, kwargs, position):
    """np.where / jnp.where: the shared where; jnp.where(condition, size=, fill_value=) JAX's positions"""
    if _jax_call(b) and ("size" in kwargs or "fill_value" in kwargs):
        return _index_sized("where")(b, args, kwargs, position)
    return FUNCTIONS["where"](b, args, kwargs, position)
