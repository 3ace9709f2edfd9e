"""``jax.lax.reduce(operand, init_value, computation, dimensions)`` and ``jax.lax.reduce_window(operand,
init_value, computation, window_dimensions, window_strides, padding, base_dilation, window_dilation)``, whose
``computation`` is a function read off the text (vmapping's ``SPELLINGS`` dispatch here, with the call's syntax).

``reduce`` of add / mul / max / min (``lax.add``, ``jnp.multiply``, ``lambda a, b: a + b``...:
:func:`.scans._combination`) is ``jnp.sum`` / ``prod`` / ``max`` / ``min`` over ``dimensions``, an add's init
value added once (JAX's value); a product, max or min with an init other than its identity (1, -inf, inf) is
refused: JAX then differentiates its generic reduction, whose ties jac does not reproduce and whose product
derivative drops the init's factor for some shapes. ``reduce_window`` with ``lax.add``, ``lax.max`` or ``lax.min``
and their identity as ``init_value`` (the forms JAX differentiates; with ``jnp.add``, a lambda, ``lax.mul`` or another
init JAX's derivative raises, and jac refuses them saying so) is the operand padded by ``lax.pad`` (the padding,
``base_dilation`` as interior padding, all with the init value), then one strided slice per window offset
(``window_dilation`` apart), combined: added, or for max / min a running choice ``where(s > m, s, m)`` that keeps
the first extreme of the window, as JAX's select-and-scatter does (its derivative goes to that one element).
NaN in a max / min window is refused at evaluation.
"""

from __future__ import annotations

import ast
import math

import numpy as np

from ..errors import JacValueError
from ..ir.graph import Tracer
from ..ir.refusals import refused
from .functions import FUNCTIONS, boolean, library_function, static
from .laxmore import string_pads

REDUCE = ("operands", "init_values", "computation", "dimensions")
REDUCE_WINDOW = ("operand", "init_value", "computation", "window_dimensions", "window_strides", "padding",
                 "base_dilation", "window_dilation")
_IDENTITY = {"add": 0.0, "mul": 1.0, "max": -math.inf, "min": math.inf}
_REDUCTIONS = {"add": "sum", "mul": "prod", "max": "max", "min": "min"}
_ELEMENTWISE = {"add": "add", "mul": "multiply", "max": "maximum", "min": "minimum"}
_MAX_OFFSETS = 4096  # window offsets written out (one slice each)
_NAN = ("jax.lax.reduce_window of max / min with NaN in a window: JAX's choice of the element the derivative goes "
        "to is its comparison's with NaN, which jac does not reproduce; replace the NaN first (jnp.nan_to_num)")


def _numpy(name):
    return library_function("numpy", name) or FUNCTIONS[name]


def _operand(lowering, given, key, spelling, position) -> Tracer:
    x = lowering.expression(given[key])
    if not isinstance(x, Tracer):
        raise JacValueError(f"{spelling}: jac reads one array as {key} (a tuple of operands with a function of "
                            f"tuples is not read: reduce each array by itself)", position)
    return x


def _init(lowering, given, key, spelling, position) -> float:
    value = static(lowering.b, lowering.expression(given[key]), f"{spelling}'s {key} (a constant)", position)
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise JacValueError(f"{spelling}: {key} is one number (got {value!r})", position)
    return float(value)


def reduce(lowering, given: dict, position: int, combination):
    """``jax.lax.reduce``: the reduction of the operand over ``dimensions`` with the init value combined once."""
    spelling = "jax.lax.reduce"
    missing = [k for k in REDUCE if k not in given]
    if missing:
        raise JacValueError(f"{spelling}() needs {', '.join(missing)}", position)
    kind = combination(lowering, given["computation"], position, spelling)
    if kind == "logaddexp":
        raise JacValueError(f"{spelling} with logaddexp is not read: write jax.nn.logsumexp(x, axis=...)", position)
    b = lowering.b
    x = _operand(lowering, given, "operands", spelling, position)
    init = _init(lowering, given, "init_values", spelling, position)
    raw = lowering.expression(given["dimensions"])
    dims = static(b, raw, f"{spelling}'s dimensions", position)
    dims = (dims,) if isinstance(dims, int) else tuple(int(d) for d in (dims if dims is not None else ()))
    if any(not 0 <= d < x.ndim for d in dims) or len(set(dims)) != len(dims):
        raise JacValueError(f"{spelling}: dimensions {dims} are not distinct axes of an operand of {x.ndim} axes "
                            f"(JAX takes them non-negative)", position)
    if kind == "mul" and init != 1.0:
        raise JacValueError(f"{spelling} of a product with init_values {init}: JAX's derivative drops the init's "
                            f"factor for some shapes (jax.jacrev of lax.reduce(x, -2.0, jnp.multiply, (2,)) on a "
                            f"(2, 1, 2) array is that of jnp.prod alone), so jac does not read it; write "
                            f"{init} * jnp.prod(x, axis)", position)
    if kind in ("max", "min") and init != _IDENTITY[kind]:
        raise JacValueError(f"{spelling} of {kind} with init_values {init}: jac reads it with {kind}'s identity "
                            f"({_IDENTITY[kind]}), where it is jnp.{kind}; write jnp.{_ELEMENTWISE[kind]}(init, "
                            f"jnp.{kind}(x, axis)) for another", position)
    out = _numpy(_REDUCTIONS[kind])(b, [x], {"axis": dims}, position) if dims else x
    if init != _IDENTITY[kind]:
        out = b.apply(kind, out, init, position=position)  # add / mul (max / min refused above)
    return out


def reduce_window(lowering, given: dict, position: int, combination):
    """``jax.lax.reduce_window`` of ``lax.add`` / ``lax.max`` / ``lax.min`` with their identity as init."""
    spelling = "jax.lax.reduce_window"
    missing = [k for k in REDUCE_WINDOW[:6] if k not in given]
    if missing:
        raise JacValueError(f"{spelling}() needs {', '.join(missing)}", position)
    fn = given["computation"]
    kind = combination(lowering, fn, position, spelling)
    named = isinstance(fn, ast.Attribute) and lowering.module_path(fn.value) in ("lax", "jax.lax")
    b = lowering.b
    x = _operand(lowering, given, "operand", spelling, position)
    init = _init(lowering, given, "init_value", spelling, position)
    if kind not in ("add", "max", "min") or not named or init != _IDENTITY[kind]:
        raise JacValueError(f"{spelling}: JAX differentiates it only with computation lax.add, lax.max or lax.min "
                            f"and their identity as init_value (0., -jnp.inf, jnp.inf); with "
                            f"{ast.unparse(fn)} and {init} its derivative raises, so jac does not read it", position)
    n = x.ndim
    shape = tuple(x.shape)
    if not all(isinstance(s, int) for s in shape):
        raise JacValueError(f"{spelling} needs concrete sizes, not symbolic ones", position)
    ints = lambda key, default: _ints(lowering, given, key, n, default, spelling, position)
    window, strides = ints("window_dimensions", None), ints("window_strides", None)
    base, dilation = ints("base_dilation", (1,) * n), ints("window_dilation", (1,) * n)
    if any(v < 1 for v in window + strides + base + dilation):
        raise JacValueError(f"{spelling}: window dimensions, strides and dilations are positive", position)
    if kind != "add" and any(d != 1 for d in dilation):
        raise JacValueError(f"{spelling} of {kind} with window_dilation {dilation}: JAX's reverse mode raises "
                            f"NotImplementedError for it (select_and_gather with window dilation), so jac does not "
                            f"read it; dilate the operand's slices yourself or use lax.add", position)
    dilated = tuple((s - 1) * d + 1 if s else 0 for s, d in zip(shape, base))
    extent = tuple((w - 1) * d + 1 for w, d in zip(window, dilation))
    pads = _padding(lowering, given["padding"], dilated, extent, strides, spelling, position)
    padded_shape = tuple(s + lo + hi for s, (lo, hi) in zip(dilated, pads))
    out_shape = tuple((p - e) // s + 1 if p >= e else 0 for p, e, s in zip(padded_shape, extent, strides))
    if any(o < 1 for o in out_shape):
        raise JacValueError(f"{spelling}: the window {extent} is larger than the padded operand {padded_shape}: "
                            f"the result would be empty", position)
    if math.prod(window) > _MAX_OFFSETS:
        raise JacValueError(f"{spelling}: a window of {math.prod(window):,} elements is over jac's {_MAX_OFFSETS:,} "
                            f"(one slice each)", position)
    from .laxnames import _pad

    config = tuple((lo, hi, d - 1) for (lo, hi), d in zip(pads, base))
    if any(c != (0, 0, 0) for c in config):
        x = _pad(b, [x, init, config], {}, position)
    result = None
    for offset in np.ndindex(*window):
        index = tuple(slice(k * d, k * d + (o - 1) * s + 1, s)
                      for k, d, o, s in zip(offset, dilation, out_shape, strides))
        piece = b.apply("getitem", x, index=index, position=position)
        if result is None:
            result = piece
        elif kind == "add":
            result = b.apply("add", result, piece, position=position)
        else:  # the first extreme of the window keeps it, as JAX's select (ge / le) does
            better = boolean(b, b.apply("gt" if kind == "max" else "lt", piece, result, position=position))
            result = b.apply("where", better, piece, result, position=position)
    if kind == "add":
        return result
    nan = b.apply("isnan", x, position=position)
    return refused(b, result, _NAN, where=nan, axes=tuple(range(n)), position=position)


def _ints(lowering, given, key, n, default, spelling, position) -> tuple:
    if key not in given or isinstance(given[key], ast.Constant) and given[key].value is None:
        if default is None:
            raise JacValueError(f"{spelling}() needs {key}", position)
        return default
    value = static(lowering.b, lowering.expression(given[key]), f"{spelling}'s {key}", position)
    value = tuple(value) if isinstance(value, (list, tuple, np.ndarray)) else (value,)
    if len(value) != n or not all(float(v).is_integer() for v in value):
        raise JacValueError(f"{spelling}: {key} needs one integer per axis of the operand ({n}), got {value}",
                            position)
    return tuple(int(v) for v in value)


def _padding(lowering, node, dilated, extent, strides, spelling, position) -> tuple:
    """``'VALID'``, ``'SAME'``, ``'SAME_LOWER'`` (lax.padtype_to_pads) or one (low, high) pair per axis."""
    value = static(lowering.b, lowering.expression(node), f"{spelling}'s padding", position)
    if isinstance(value, str):  # jax.lax.reduce_window's spelling: the message names it as laxmore's do
        return string_pads(value, dilated, extent, strides, spelling.removeprefix("jax.lax."), position)
    pairs = tuple(tuple(p) for p in value) if isinstance(value, (list, tuple, np.ndarray)) else ()
    if len(pairs) != len(dilated) or any(len(p) != 2 or not all(float(v).is_integer() for v in p) for p in pairs):
        raise JacValueError(f"{spelling}: padding is 'VALID', 'SAME' or one (low, high) pair of integers per axis "
                            f"({len(dilated)}), got {value!r}", position)
    return tuple((int(lo), int(hi)) for lo, hi in pairs)
