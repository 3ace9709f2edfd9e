"""The functions a user may call, and how each becomes ops of the graph.

Each entry takes ``(builder, args, kwargs, position)``: ``args`` are tracers (constants
already folded), ``None`` or :class:`Static` values. Static arguments (axes, shapes,
sizes) must be constants and are read off their folded value. NumPy and PyTorch
spellings both work: ``axis``/``dim``, ``keepdims``/``keepdim``, ``clip``/``clamp``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import JacParseError, JacShapeError, JacValueError
from ..ir.graph import Builder, Tracer
from ..ir.ops import OPS
from ..ir.shapes import fmt, is_concrete, normalize_axes, normalize_axis

FUNCTIONS: dict = {}
CONSTANTS = {"pi": math.pi, "e": math.e, "inf": math.inf, "nan": math.nan}
MODULES = {"torch", "np", "numpy", "jnp", "math", "F", "torch.linalg", "np.linalg", "numpy.linalg",
           "jnp.linalg", "torch.nn.functional", "torch.special", "jax.nn", "jax.numpy", "scipy.special"}
CONSTRUCTORS = ("arange", "linspace", "ones", "zeros", "full", "eye", "rand", "randn")


@dataclass(frozen=True)
class Static:
    """A non-array argument written in the expression: a string such as ``'fro'``."""

    value: object


def function(*names):
    def register(fn):
        for name in names:
            FUNCTIONS[name] = fn
        return fn
    return register


# --- argument handling ----------------------------------------------------------------

ALIASES = {"dim": "axis", "keepdim": "keepdims", "input": "x", "a": "x", "p": "ord",
           "a_min": "min", "a_max": "max", "dims": "axes", "exponent": "y"}


def arguments(fname, args, kwargs, params, position):
    """Match positional and keyword arguments to ``params`` (name -> default)."""
    names = list(params)
    if len(args) > len(names):
        raise JacParseError(f"{fname}() takes at most {len(names)} argument(s), got {len(args)}", position)
    bound = dict(zip(names, args))
    for key, value in kwargs.items():
        key = ALIASES.get(key, key)
        if key not in params:
            raise JacParseError(f"{fname}() has no argument '{key}' (it takes {', '.join(names)})", position)
        if key in bound:
            raise JacParseError(f"{fname}() got argument '{key}' twice", position)
        bound[key] = value
    for key, default in params.items():
        if key not in bound:
            if default is REQUIRED:
                raise JacParseError(f"{fname}() is missing its argument '{key}'", position)
            bound[key] = default
    return bound


REQUIRED = object()


def static(b: Builder, value, what: str, position):
    """The Python value of a constant argument (an int, a tuple of ints, a float...)."""
    if value is None or isinstance(value, (int, float, bool)):
        return value
    if isinstance(value, Static):
        return value.value
    node = b.nodes[value.id]
    if node.op != "const":
        raise JacValueError(f"{what} must be a constant, not an expression of the inputs", position)
    v = node.value
    if isinstance(v, np.ndarray):
        return v.item() if v.ndim == 0 else tuple(v.tolist())
    return v


def _is_integer(v) -> bool:
    """An int, or a float with an integer value; never inf or NaN (``int()`` would raise)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    return isinstance(v, int) or (math.isfinite(v) and v.is_integer())


def static_int(b, value, what, position) -> int:
    v = static(b, value, what, position)
    if not _is_integer(v):
        raise JacValueError(f"{what} must be an integer, got {v!r}", position)
    return int(v)


def static_ints(b, value, what, position) -> tuple:
    v = static(b, value, what, position)
    items = v if isinstance(v, tuple) else (v,)
    if not all(_is_integer(i) for i in items):
        raise JacValueError(f"{what} must be integers, got {v!r}", position)
    return tuple(int(i) for i in items)


def tensor(b: Builder, value, fname, position) -> Tracer:
    if value is None or isinstance(value, Static):
        raise JacValueError(f"{fname}() needs an array argument here", position)
    return b.lift(value)


def axes_of(b, value, x: Tracer, position, fname: str):
    if value is None:
        return tuple(range(x.ndim))
    try:
        return normalize_axes(static_ints(b, value, "axis", position) if not isinstance(value, int) else value,
                              x.ndim, x.shape)
    except JacShapeError as err:
        raise JacShapeError(f"{fname}: {err.message}", position) from None


# --- element-wise -----------------------------------------------------------------------

def _unary(op_name):
    def lower(b, args, kwargs, position, fname=op_name):
        x = arguments(fname, args, kwargs, {"x": REQUIRED}, position)["x"]
        return b.apply(op_name, tensor(b, x, fname, position), position=position)
    return lower


def _arithmetic(op_name):
    """``torch.add(x, y)``, ``np.multiply(x, y)``...: the operators as functions."""
    def lower(b, args, kwargs, position):
        a = arguments(op_name, args, kwargs, {"x": REQUIRED, "y": REQUIRED}, position)
        return b.apply(op_name, tensor(b, a["x"], op_name, position), tensor(b, a["y"], op_name, position),
                       position=position)
    return lower


for _op in OPS.values():  # the element-wise ops by the names users call them (the op's spellings)
    for _name in _op.spellings:
        FUNCTIONS[_name] = (_unary if len(_op.vjp) == 1 else _arithmetic)(_op.name)


@function("clip", "clamp")
def _clip(b, args, kwargs, position):
    a = arguments("clip", args, kwargs, {"x": REQUIRED, "min": None, "max": None}, position)
    if a["min"] is None and a["max"] is None:
        raise JacValueError("clip() needs a lower or an upper bound", position)
    lo = -math.inf if a["min"] is None else a["min"]
    hi = math.inf if a["max"] is None else a["max"]
    return b.apply("clip", tensor(b, a["x"], "clip", position), b.lift(lo), b.lift(hi), position=position)


# --- reductions ---------------------------------------------------------------------------

def _reduction(op_name):
    def lower(b, args, kwargs, position):
        a = arguments(op_name, args, kwargs, {"x": REQUIRED, "axis": None, "keepdims": False}, position)
        x = tensor(b, a["x"], op_name, position)
        axes = axes_of(b, a["axis"], x, position, op_name)
        keepdims = bool(static(b, a["keepdims"], "keepdims", position))
        return b.apply(op_name, x, axes=axes, keepdims=keepdims, position=position)
    return lower


for _name in ("sum", "mean", "prod", "logsumexp"):
    FUNCTIONS[_name] = _reduction(_name)


def _extreme(op_name, pairwise):
    reduce = _reduction(op_name)

    def lower(b, args, kwargs, position):
        # torch.max(a, b) with a second array is the element-wise maximum; max(x, 1) and
        # max(x, (0, 1)) reduce along axes, as in NumPy and torch.max(x, dim).
        if len(args) == 2 and isinstance(args[1], Tracer) and not _axis_like(b.nodes[args[1].id], args[0]):
            return FUNCTIONS[pairwise](b, args, kwargs, position)
        return reduce(b, args, kwargs, position)
    return lower


def _axis_like(node, x) -> bool:
    """A constant that reads as axes of ``x``: an integer, or distinct integers in range
    (``max(x, 0.5)`` and ``torch.max(v, 2 * ones(3))`` are element-wise maxima)."""
    if node.op != "const":
        return False
    value = node.value
    if isinstance(value, (int, float)) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return _is_integer(float(value))
    if not (isinstance(value, np.ndarray) and value.ndim == 1 and value.size) or not isinstance(x, Tracer):
        return False
    ndim = x.ndim
    return bool(np.array_equal(value, np.round(value)) and np.all((value >= -ndim) & (value < ndim))
                and len(set((value % max(ndim, 1)).tolist())) == value.size)


FUNCTIONS["max"] = FUNCTIONS["amax"] = _extreme("max", "maximum")
FUNCTIONS["min"] = FUNCTIONS["amin"] = _extreme("min", "minimum")


@function("norm")
def _norm(b, args, kwargs, position):
    a = arguments("norm", args, kwargs, {"x": REQUIRED, "ord": None, "axis": None, "keepdims": False}, position)
    x = tensor(b, a["x"], "norm", position)
    order = static(b, a["ord"], "ord", position)
    axes = axes_of(b, a["axis"], x, position, "norm")
    keepdims = bool(static(b, a["keepdims"], "keepdims", position))
    if order in (None, 2, 2.0, "fro"):
        if order in (2, 2.0) and len(axes) == 2 and a["axis"] is None and x.ndim == 2 and "p" not in kwargs:
            raise JacValueError("norm(A, 2) of a matrix is NumPy's spectral norm, which jac does not have; "
                                "norm(A) is the 2-norm of all elements (Frobenius)", position)
        return b.apply("norm", x, axes=axes, keepdims=keepdims, position=position)
    absx = b.apply("abs", x, position=position)
    if order in (1, 1.0):
        return b.apply("sum", absx, axes=axes, keepdims=keepdims, position=position)
    if order == math.inf:
        return b.apply("max", absx, axes=axes, keepdims=keepdims, position=position)
    raise JacValueError(f"norm(): ord={order!r} is not supported (use 1, 2, inf or 'fro')", position)


@function("softmax")
def _softmax(b, args, kwargs, position):
    a = arguments("softmax", args, kwargs, {"x": REQUIRED, "axis": -1}, position)
    x = tensor(b, a["x"], "softmax", position)
    if x.ndim == 0:
        raise JacShapeError("softmax needs at least a vector, got a scalar", position)
    if a["axis"] is None:  # over all elements, as scipy.special.softmax(x) does
        flat = b.apply("reshape", x, shape=(_numel(x, position),), position=position)
        out = b.apply("softmax", flat, axis=0, position=position)
        return b.apply("reshape", out, shape=x.shape, position=position)
    try:
        axis = normalize_axis(static_int(b, a["axis"], "axis", position), x.ndim, x.shape)
    except JacShapeError as err:
        raise JacShapeError(f"softmax: {err.message}", position) from None
    return b.apply("softmax", x, axis=axis, position=position)


# --- linear algebra -------------------------------------------------------------------------

def _two(fname, b, args, kwargs, position):
    a = arguments(fname, args, kwargs, {"x": REQUIRED, "y": REQUIRED}, position)
    return tensor(b, a["x"], fname, position), tensor(b, a["y"], fname, position)


def _need_ndim(fname, x, ndims, position, which="argument"):
    if x.ndim not in ndims:
        want = " or ".join(f"{n}-d" for n in ndims)
        raise JacShapeError(f"{fname} needs a {want} {which}, got shape {fmt(x.shape)}", position)


@function("matmul")
def _matmul(b, args, kwargs, position):
    x, y = _two("matmul", b, args, kwargs, position)
    return b.apply("matmul", x, y, position=position)


@function("dot")
def _dot(b, args, kwargs, position):
    # NumPy's dot: a product for scalars, matmul for vectors and matrices.
    x, y = _two("dot", b, args, kwargs, position)
    if x.ndim == 0 or y.ndim == 0:
        return b.apply("mul", x, y, position=position)
    if x.ndim > 2 or y.ndim > 2:
        raise JacShapeError(f"dot of arrays with more than 2 dimensions ({fmt(x.shape)}, {fmt(y.shape)}) "
                            "is not supported; use matmul", position)
    return b.apply("matmul", x, y, position=position)


def _matrix_product(fname, x_ndim, y_ndim):
    """``mm``, ``mv``, ``inner``: matmul with the operand ranks PyTorch requires."""
    def lower(b, args, kwargs, position):
        x, y = _two(fname, b, args, kwargs, position)
        _need_ndim(fname, x, (x_ndim,), position, "first argument")
        _need_ndim(fname, y, (y_ndim,), position, "second argument")
        return b.apply("matmul", x, y, position=position)
    return lower


FUNCTIONS["mm"] = _matrix_product("mm", 2, 2)
FUNCTIONS["mv"] = _matrix_product("mv", 2, 1)
FUNCTIONS["inner"] = FUNCTIONS["vdot"] = _matrix_product("inner", 1, 1)


@function("outer", "ger")
def _outer(b, args, kwargs, position):
    x, y = _two("outer", b, args, kwargs, position)
    col = b.apply("reshape", x, shape=(_numel(x, position), 1), position=position)
    row = b.apply("reshape", y, shape=(1, _numel(y, position)), position=position)
    return b.apply("mul", col, row, position=position)


def _numel(x: Tracer, position) -> int:
    if not is_concrete(x.shape):
        raise JacShapeError(f"this needs concrete sizes, but {fmt(x.shape)} is symbolic", position)
    return int(np.prod(x.shape, dtype=np.int64))


def _single(op_name, ndims=None):
    def lower(b, args, kwargs, position):
        x = tensor(b, arguments(op_name, args, kwargs, {"x": REQUIRED}, position)["x"], op_name, position)
        if ndims:
            _need_ndim(op_name, x, ndims, position)
        return b.apply(op_name, x, position=position)
    return lower


FUNCTIONS["trace"] = _single("trace", (2,))
FUNCTIONS["det"] = _single("det")
FUNCTIONS["inv"] = FUNCTIONS["inverse"] = _single("inv")


@function("transpose", "permute")
def _transpose(b, args, kwargs, position):
    if not args:
        raise JacParseError("transpose() needs an array", position)
    x = tensor(b, args[0], "transpose", position)
    rest = list(args[1:]) + [kwargs[k] for k in ("axes", "dims", "axis0", "axis1", "dim0", "dim1") if k in kwargs]
    axes = tuple(i for r in rest for i in static_ints(b, r, "transpose axes", position))
    if not axes:
        return transpose_all(b, x, position)
    if len(axes) == 2 and x.ndim != 2:  # torch.transpose(x, d0, d1) swaps two axes
        d0, d1 = (normalize_axis(a, x.ndim, x.shape) for a in axes)
        perm = list(range(x.ndim))
        perm[d0], perm[d1] = perm[d1], perm[d0]
        axes = tuple(perm)
    axes = tuple(normalize_axis(a, x.ndim, x.shape) for a in axes)
    return b.apply("transpose", x, axes=axes, position=position)


def transpose_all(b: Builder, x: Tracer, position) -> Tracer:
    """``x.T``: all axes reversed, as NumPy does; a scalar or vector is unchanged."""
    if x.ndim < 2:
        return x
    return b.apply("transpose", x, axes=tuple(reversed(range(x.ndim))), position=position)


@function("t")
def _t(b, args, kwargs, position):
    x = tensor(b, arguments("t", args, kwargs, {"x": REQUIRED}, position)["x"], "t", position)
    _need_ndim("t", x, (0, 1, 2), position)
    return transpose_all(b, x, position)


@function("reshape", "view")
def _reshape(b, args, kwargs, position):
    if not args:
        raise JacParseError("reshape() needs an array and a shape", position)
    x = tensor(b, args[0], "reshape", position)
    parts = list(args[1:]) + [kwargs[k] for k in ("shape", "newshape") if k in kwargs]
    shape = tuple(i for p in parts for i in static_ints(b, p, "reshape sizes", position))
    return b.apply("reshape", x, shape=resolve_shape(x, shape, position), position=position)


@function("flatten", "ravel")
def _flatten(b, args, kwargs, position):
    x = tensor(b, arguments("flatten", args, kwargs, {"x": REQUIRED}, position)["x"], "flatten", position)
    return b.apply("reshape", x, shape=(_numel(x, position),), position=position)


def resolve_shape(x: Tracer, shape: tuple, position) -> tuple:
    """A reshape target with its one ``-1`` filled in."""
    if shape.count(-1) > 1:
        raise JacValueError("reshape: only one size may be -1", position)
    if any(d < -1 for d in shape):
        raise JacValueError(f"reshape: negative size in {shape}", position)
    if -1 not in shape:
        return shape
    total = _numel(x, position)
    known = int(np.prod([d for d in shape if d != -1], dtype=np.int64))
    if known == 0 or total % known:
        raise JacShapeError(f"cannot reshape an array of shape {fmt(x.shape)} into {shape}", position)
    return tuple(total // known if d == -1 else d for d in shape)


# --- constructors: constants, never differentiated -------------------------------------------

def _shape_args(b, args, kwargs, fname, position) -> tuple:
    parts = list(args) + ([kwargs.pop("shape")] if "shape" in kwargs else [])
    shape = tuple(i for p in parts for i in static_ints(b, p, f"{fname} sizes", position))
    if any(d < 0 for d in shape):
        raise JacValueError(f"{fname}(): negative size in {shape}", position)
    return shape


def _checked(b: Builder, shape: tuple, fname, position) -> tuple:
    if any(d < 0 for d in shape):
        raise JacValueError(f"{fname}(): negative size in {shape}", position)
    b.check_size(shape, f"{fname}{fmt(shape)}" if max(shape, default=0) < 10**15 else f"{fname}()", position)
    return shape


def _filled(fname, fill):
    def lower(b, args, kwargs, position):
        shape = _checked(b, _shape_args(b, args, dict(kwargs), fname, position), fname, position)
        return b.const(np.full(shape, fill, dtype=b.dtype), position)
    return lower


FUNCTIONS["ones"] = _filled("ones", 1.0)
FUNCTIONS["zeros"] = _filled("zeros", 0.0)


@function("full")
def _full(b, args, kwargs, position):
    a = arguments("full", args, kwargs, {"shape": REQUIRED, "fill_value": REQUIRED}, position)
    shape = _checked(b, static_ints(b, a["shape"], "full shape", position), "full", position)
    value = static(b, a["fill_value"], "full value", position)
    if not isinstance(value, (int, float)):
        raise JacValueError("full(): the fill value must be a number", position)
    return b.const(np.full(shape, value, dtype=b.dtype), position)


@function("eye")
def _eye(b, args, kwargs, position):
    a = arguments("eye", args, kwargs, {"N": REQUIRED, "M": None}, position)
    n = static_int(b, a["N"], "eye size", position)
    m = n if a["M"] is None else static_int(b, a["M"], "eye size", position)
    _checked(b, (n, m), "eye", position)
    return b.const(np.eye(n, m, dtype=b.dtype), position)


@function("arange")
def _arange(b, args, kwargs, position):
    a = arguments("arange", args, kwargs, {"start": REQUIRED, "stop": None, "step": 1}, position)
    nums = [static(b, a[k], "arange bounds", position) for k in ("start", "stop", "step")]
    if not all(v is None or isinstance(v, (int, float)) for v in nums):
        raise JacValueError("arange() takes numbers", position)
    start, stop, step = nums
    if stop is None:
        start, stop = 0, start
    if not all(math.isfinite(v) for v in (start, stop, step)):
        raise JacValueError(f"arange(): the bounds and step must be finite, got {(start, stop, step)}", position)
    if step == 0:
        raise JacValueError("arange(): step must not be 0", position)
    count = (stop - start) / step
    n = max(0, math.ceil(count)) if math.isfinite(count) else math.inf
    _checked(b, (n,), "arange", position)
    return b.const(np.arange(start, stop, step).astype(b.dtype), position)


@function("linspace")
def _linspace(b, args, kwargs, position):
    a = arguments("linspace", args, kwargs, {"start": REQUIRED, "stop": REQUIRED, "num": 50}, position)
    n = static_int(b, a["num"], "linspace count", position)
    if n < 0:
        raise JacValueError("linspace(): the count must not be negative", position)
    _checked(b, (n,), "linspace", position)
    start, stop = (static(b, a[k], "linspace bounds", position) for k in ("start", "stop"))
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (start, stop)):
        raise JacValueError("linspace() takes numbers", position)
    with np.errstate(all="ignore"):  # linspace(0, inf, 3) is [nan, inf, inf], as in NumPy, without a warning
        return b.const(np.linspace(start, stop, n, dtype=b.dtype), position)


def _random(fname, draw):
    def lower(b, args, kwargs, position):
        shape = _checked(b, _shape_args(b, args, dict(kwargs), fname, position), fname, position)
        return b.const(draw(b.rng, shape).astype(b.dtype), position)
    return lower


FUNCTIONS["rand"] = _random("rand", lambda rng, shape: rng.random(shape))
FUNCTIONS["randn"] = _random("randn", lambda rng, shape: rng.standard_normal(shape))


def names() -> list:
    return sorted(FUNCTIONS)
