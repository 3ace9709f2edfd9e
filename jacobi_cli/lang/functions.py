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

from ..errors import JacNameError, JacParseError, JacShapeError, JacValueError
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


# --- PART reductions: statistics, cumulative ops, selections, norms, losses (issue 13) ---------
# Where PyTorch and NumPy mean different things by one name, the library named decides:
# SPELLED[(library, name)] is the lowering of ``torch.name`` / ``np.name`` / ``x.name``
# ("method"); FUNCTIONS[name] stays the bare spelling, which refuses what is ambiguous.

SPELLING_LIBRARIES = {"torch": "torch", "F": "torch", "torch.nn.functional": "torch", "torch.special": "torch",
             "torch.linalg": "torch.linalg", "np": "numpy", "numpy": "numpy", "jnp": "numpy",
             "jax.numpy": "numpy", "np.linalg": "numpy", "numpy.linalg": "numpy", "jnp.linalg": "numpy",
             "scipy.special": "scipy"}
SPELLED: dict = {}


def spelling_library(module: str | None, method: bool) -> str | None:
    """The library a call names: "torch", "torch.linalg", "numpy", "method" (``x.f()``) or None."""
    return "method" if method else SPELLING_LIBRARIES.get(module) if module else None


def spelled(library: str | None, name: str):
    """The lowering of ``name`` as ``library`` spells it, or None (then FUNCTIONS[name])."""
    if library is None:
        return None
    found = SPELLED.get((library, name))
    if found is None and library == "torch.linalg":
        found = SPELLED.get(("torch", name))
    return found


def _spelled(name: str, make):
    """Register ``make(library)`` for the bare name and each library's spelling of ``name``."""
    FUNCTIONS[name] = make(None)
    for library in ("torch", "torch.linalg", "numpy", "method"):
        SPELLED[(library, name)] = make(library)


class Pair(Tracer):
    """What ``torch.max(x, dim)``, ``torch.sort``, ``topk``, ``median(x, dim)`` return: a
    (values, indices) pair. It stands for ``array`` where an array is wanted (NumPy's reading
    of ``x.max(0)``, and the values otherwise); ``.values``, ``.indices``, ``[0]`` and ``[1]``
    give the parts, made when asked for. ``reading`` is "torch", or "ambiguous" for a bare or
    method spelling NumPy reads otherwise (``[0]`` is then refused)."""

    __slots__ = ("parts", "reading", "fname", "names")

    def __init__(self, array: Tracer, parts: dict, reading: str, fname: str, names=("values", "indices")):
        super().__init__(array.builder, array.id, array.shape)
        self.parts, self.reading, self.fname, self.names = parts, reading, fname, tuple(names)

    def part(self, name: str) -> Tracer:
        made = self.parts[name]
        if callable(made):
            made = self.parts[name] = made()
        return made


def pair_attribute(value, attr: str, position):
    """``.values`` / ``.indices`` of a pair (``.min`` / ``.max`` of aminmax); None for any other
    attribute or value."""
    if isinstance(value, Pair) and attr in value.names:
        return value.part(attr)
    if attr not in ("values", "indices"):
        return None
    if not isinstance(value, Pair):
        raise JacNameError(f"'.{attr}' belongs to what torch.max(x, dim), torch.min(x, dim), torch.sort, "
                           "torch.topk and torch.median(x, dim) return; this is an array", position)
    return value.part(attr)


def pair_item(b: Builder, value, parts: list, position):
    """``pair[0]`` / ``pair[1]`` in PyTorch's reading; None when not a pair's item."""
    if not isinstance(value, Pair):
        return None
    if len(parts) != 1 or not isinstance(parts[0], Tracer):
        if value.reading == "torch":
            raise JacValueError(f"{value.fname}(...) is a pair ({', '.join(value.names)}): index it with 0 or 1",
                                position)
        return None
    node = b.nodes[parts[0].id]
    if node.op != "const" or np.ndim(node.value) != 0 or float(node.value) not in (0.0, 1.0, -1.0, -2.0):
        if value.reading == "torch":
            raise JacValueError(f"{value.fname}(...) is a pair ({', '.join(value.names)}): index it with 0 or 1",
                                position)
        return None
    if value.reading != "torch":
        raise JacValueError(
            f"{value.fname}(...)[{int(float(node.value))}] is ambiguous: in PyTorch the result along a dim is a "
            f"(values, indices) pair, in NumPy an array to index. Write .values / .indices (PyTorch) or "
            f"torch.{value.fname}(...)[0], or np.{value.fname}(...)[0] for NumPy's element", position)
    return value.part(value.names[0] if float(node.value) in (0.0, -2.0) else value.names[1])


def unpack_pair(value, count: int, position) -> list:
    """``values, indices = pair``: the parts in order (PyTorch's reading of the pair)."""
    if not isinstance(value, Pair):
        raise JacValueError("only the (values, indices) pair of torch.max / min / sort / topk / median along a dim "
                            "can be unpacked ('a, b = ...')", position)
    if count != 2:
        raise JacValueError(f"{value.fname}(...) gives two parts ({', '.join(value.names)}), not {count}", position)
    return [value.part(name) for name in value.names]


def _ambiguous(fname: str, torch_reading: str, numpy_reading: str, fix: str, position):
    return JacValueError(f"{fname} is ambiguous: PyTorch's {torch_reading}, NumPy's {numpy_reading}. "
                         f"{fix}", position)


def _one_axis(b, value, x: Tracer, position, fname: str) -> int:
    try:
        return normalize_axis(static_int(b, value, "dim", position), x.ndim, x.shape)
    except JacShapeError as err:
        raise JacShapeError(f"{fname}: {err.message}", position) from None


def _count(b: Builder, x: Tracer, axes: tuple, position, fname: str) -> int:
    """The number of elements reduced over ``axes`` (a placeholder when only shapes are built)."""
    dims = [x.shape[a] for a in axes]
    if not all(isinstance(d, int) for d in dims):
        if b.shapes_only:
            return 2
        raise JacShapeError(f"{fname} needs concrete sizes along the reduced axes, got {fmt(x.shape)}", position)
    return int(np.prod(dims, dtype=np.int64))


# var, std: PyTorch divides by n - 1 (correction=1, unbiased=True), NumPy by n (ddof=0).

def _var_std(fname: str):
    def make(library):
        def lower(b, args, kwargs, position):
            kwargs = dict(kwargs)
            if len(args) >= 2 and isinstance(args[1], bool):  # torch.var(x, False): the unbiased overload
                kwargs["unbiased"], args = args[1], args[:1] + args[2:]
            if len(args) > 2:  # torch.var(x, dim, unbiased, keepdim); NumPy's third is a dtype
                if library == "numpy" or not isinstance(args[2], bool):
                    raise JacValueError(f"{fname}(): give ddof=, correction=, unbiased= and keepdims= by keyword",
                                        position)
                kwargs.update(zip(("unbiased", "keepdim"), args[2:4]))
                args = args[:2] + args[4:]
            a = arguments(fname, args, kwargs, {"x": REQUIRED, "axis": None, "ddof": None, "correction": None,
                                                "unbiased": None, "keepdims": False}, position)
            x = tensor(b, a["x"], fname, position)
            axes = axes_of(b, a["axis"], x, position, fname)
            keepdims = bool(static(b, a["keepdims"], "keepdims", position))
            c = _correction(b, a, library, fname, position)
            n = _count(b, x, axes, position, fname)
            d = b.apply("sub", x, b.apply("mean", x, axes=axes, keepdims=True, position=position), position=position)
            dof = float(max(n - c, 0))
            if fname == "std":  # the norm's derivative is 0 where every element is equal, as PyTorch's
                r = b.apply("norm", d, axes=axes, keepdims=keepdims, position=position)
                return b.apply("div", r, math.sqrt(dof), position=position)
            s = b.apply("sum", b.apply("mul", d, d, position=position), axes=axes, keepdims=keepdims, position=position)
            return b.apply("div", s, dof, position=position)
        return lower
    return make


def _correction(b, a, library, fname, position) -> float:
    given = {k: static(b, a[k], k, position) for k in ("ddof", "correction", "unbiased") if a[k] is not None}
    if len(given) > 1:
        raise JacValueError(f"{fname}() takes one of ddof=, correction= and unbiased=, got {', '.join(given)}",
                            position)
    if library in ("torch", "torch.linalg") and "ddof" in given:
        raise JacValueError(f"torch.{fname}() has no argument 'ddof' (it takes correction= or unbiased=)", position)
    if library == "numpy" and "unbiased" in given:
        raise JacValueError(f"np.{fname}() has no argument 'unbiased' (it takes ddof=)", position)
    if "unbiased" in given:
        return 1.0 if given["unbiased"] else 0.0
    if given:
        value = next(iter(given.values()))
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise JacValueError(f"{fname}(): the correction must be a number, got {value!r}", position)
        return float(value)
    if library in ("torch", "torch.linalg"):
        return 1.0
    if library == "numpy":
        return 0.0
    spelled_as = f"{fname}(x)" if library is None else f"x.{fname}()"
    raise _ambiguous(spelled_as, f"torch.{fname} divides by n - 1 (unbiased)", f"np.{fname} by n (ddof=0)",
                     f"Write torch.{fname}(x) or np.{fname}(x), or give correction= (or ddof= / unbiased=).",
                     position)


_spelled("var", _var_std("var"))
_spelled("std", _var_std("std"))


# log_softmax, softmin: PyTorch's implicit dim (deprecated) is the last for 0-, 1- and 2-d
# inputs and the first for 3-d ones; jac asks for dim= there instead of guessing.

def _softmax_axis(b, value, x, position, fname) -> int:
    if value is None:
        if x.ndim >= 3:
            raise JacValueError(f"{fname}() of a {x.ndim}-d array needs dim= (PyTorch's implicit choice for "
                                "3-d and up is deprecated and is not the last axis)", position)
        return -1
    return static_int(b, value, "dim", position)


@function("log_softmax")
def _log_softmax(b, args, kwargs, position, over_all=False):
    a = arguments("log_softmax", args, kwargs, {"x": REQUIRED, "axis": None}, position)
    x = tensor(b, a["x"], "log_softmax", position)
    if x.ndim == 0:
        return b.apply("sub", x, x, position=position)  # log_softmax of one element is 0
    if over_all and a["axis"] is None:  # scipy.special.log_softmax(x): over every element
        axes = tuple(range(x.ndim))
    else:
        axes = (_one_axis(b, _softmax_axis(b, a["axis"], x, position, "log_softmax"), x, position, "log_softmax"),)
    lse = b.apply("logsumexp", x, axes=axes, keepdims=True, position=position)
    return b.apply("sub", x, lse, position=position)


def _scipy_softmax(b, args, kwargs, position):
    """scipy.special.softmax(x): over every element without an axis (torch and jax take the last)."""
    a = arguments("softmax", args, kwargs, {"x": REQUIRED, "axis": None}, position)
    return FUNCTIONS["softmax"](b, [a["x"]], {"axis": a["axis"]}, position)


SPELLED[("scipy", "log_softmax")] = lambda b, args, kwargs, position: _log_softmax(b, args, kwargs, position, True)
SPELLED[("scipy", "softmax")] = _scipy_softmax


@function("softmin")
def _softmin(b, args, kwargs, position):
    a = arguments("softmin", args, kwargs, {"x": REQUIRED, "axis": None}, position)
    x = tensor(b, a["x"], "softmin", position)
    if x.ndim == 0:
        raise JacShapeError("softmin needs at least a vector, got a scalar", position)
    axis = _one_axis(b, _softmax_axis(b, a["axis"], x, position, "softmin"), x, position, "softmin")
    return b.apply("softmax", b.apply("neg", x, position=position), axis=axis, position=position)


# cumsum, cumprod: NumPy flattens without an axis; torch requires dim.

def _cumulative(fname: str):
    def make(library):
        def lower(b, args, kwargs, position):
            a = arguments(fname, args, kwargs, {"x": REQUIRED, "axis": None}, position)
            x = tensor(b, a["x"], fname, position)
            if a["axis"] is None:
                if library in ("torch", "torch.linalg"):
                    raise JacParseError(f"torch.{fname}() is missing its argument 'dim'", position)
                x = b.apply("reshape", x, shape=(_numel(x, position),), position=position)
                axis = 0
            else:
                axis = _one_axis(b, a["axis"], x, position, fname)
            if x.ndim == 0:
                return x
            return b.apply(fname, x, axis=axis, position=position)
        return lower
    return make


_spelled("cumsum", _cumulative("cumsum"))
_spelled("cumprod", _cumulative("cumprod"))


# argmax, argmin: the same in both libraries; the first index wins ties, NaN is the maximum.

def _arg_extreme(op_name):
    def lower(b, args, kwargs, position):
        a = arguments(op_name, args, kwargs, {"x": REQUIRED, "axis": None, "keepdims": False}, position)
        x = tensor(b, a["x"], op_name, position)
        axis = None if a["axis"] is None else _one_axis(b, a["axis"], x, position, op_name)
        keepdims = bool(static(b, a["keepdims"], "keepdims", position))
        return b.apply(op_name, x, axis=axis, keepdims=keepdims, position=position)
    return lower


FUNCTIONS["argmax"] = _arg_extreme("argmax")
FUNCTIONS["argmin"] = _arg_extreme("argmin")


def _squeezed(b, t: Tracer, axis: int, keepdims: bool, position) -> Tracer:
    if keepdims:
        return t
    return b.apply("reshape", t, shape=tuple(d for i, d in enumerate(t.shape) if i != axis), position=position)


def _selection(b, x: Tracer, idx: Tracer, axis: int, keepdims: bool, position) -> Tracer:
    """The elements of ``x`` that ``idx`` (with ``axis`` kept) points at along ``axis``."""
    return _squeezed(b, b.apply("take_along", x, idx, axis=axis, position=position), axis, keepdims, position)


def _extreme_pair(op_name: str, reduction_lower, library):
    """``torch.max(x, dim)``: (values, indices), the derivative to the first extreme (PyTorch's
    choice); bare and method spellings keep NumPy's reading as an array (ties share the
    derivative), with the pair's parts made when asked for."""
    arg_op = "argmax" if op_name == "max" else "argmin"

    def lower(b, args, kwargs, position):
        axis_given = len(args) >= 2 or any(k in kwargs for k in ("dim", "axis"))
        torch_named = library in ("torch", "torch.linalg")
        pairwise = len(args) == 2 and isinstance(args[1], Tracer) and not _axis_like(b.nodes[args[1].id], args[0])
        if pairwise or library == "numpy" or not axis_given:  # torch.max(a, b) is the element-wise maximum
            return reduction_lower(b, args, kwargs, position)
        a = arguments(op_name, args, kwargs, {"x": REQUIRED, "axis": None, "keepdims": False}, position)
        x = tensor(b, a["x"], op_name, position)
        if isinstance(static(b, a["axis"], "dim", position), tuple):  # several axes: amax's reading, no pair
            return reduction_lower(b, args, kwargs, position)
        array = None if torch_named else reduction_lower(b, args, kwargs, position)
        axis = _one_axis(b, a["axis"], x, position, op_name)
        keepdims = bool(static(b, a["keepdims"], "keepdims", position))
        made = {}

        def kept():
            if "idx" not in made:
                made["idx"] = b.apply(arg_op, x, axis=axis, keepdims=True, position=position)
            return made["idx"]

        parts = {"values": lambda: _selection(b, x, kept(), axis, keepdims, position),
                 "indices": lambda: _squeezed(b, kept(), axis, keepdims, position)}
        if torch_named:
            array = parts["values"] = parts["values"]()
            return Pair(array, parts, "torch", op_name)
        return Pair(array, parts, "ambiguous", op_name)
    return lower


for _op_name in ("max", "min"):
    _reduce = FUNCTIONS[_op_name]
    FUNCTIONS[_op_name] = _extreme_pair(_op_name, _reduce, None)
    for _library in ("torch", "torch.linalg", "numpy", "method"):
        SPELLED[(_library, _op_name)] = _extreme_pair(_op_name, _reduce, _library)


def _sort_like(fname: str):
    """sort, argsort: ascending along ``axis`` (-1), ties in their order (stable, as torch.sort);
    ``descending=True`` as torch. ``np.sort(x, axis=None)`` sorts the flattened array."""
    def make(library):
        def lower(b, args, kwargs, position):
            kwargs = {k: v for k, v in kwargs.items() if k not in ("stable", "kind")}
            a = arguments(fname, args, kwargs, {"x": REQUIRED, "axis": -1, "descending": False}, position)
            x = tensor(b, a["x"], fname, position)
            if a["axis"] is None:
                x = b.apply("reshape", x, shape=(_numel(x, position),), position=position)
                axis = 0
            elif x.ndim == 0:
                x = b.apply("reshape", x, shape=(1,), position=position)
                axis = 0
            else:
                axis = _one_axis(b, a["axis"], x, position, fname)
            descending = bool(static(b, a["descending"], "descending", position))
            idx = b.apply("argsort", x, axis=axis, descending=descending, position=position)
            if fname == "argsort":
                return idx
            values = b.apply("take_along", x, idx, axis=axis, position=position)
            if library == "numpy":
                return values
            return Pair(values, {"values": values, "indices": idx}, "ambiguous" if library is None else "torch", fname)
        return lower
    return make


_spelled("sort", _sort_like("sort"))
_spelled("argsort", _sort_like("argsort"))


@function("topk")
def _topk(b, args, kwargs, position):
    a = arguments("topk", args, kwargs, {"x": REQUIRED, "k": REQUIRED, "axis": -1, "largest": True,
                                         "sorted": True}, position)
    x = tensor(b, a["x"], "topk", position)
    if x.ndim == 0:
        x = b.apply("reshape", x, shape=(1,), position=position)
    axis = _one_axis(b, a["axis"], x, position, "topk")
    k = static_int(b, a["k"], "k", position)
    n = x.shape[axis]
    if k < 0 or (isinstance(n, int) and k > n):
        raise JacValueError(f"topk: k = {k} is out of range for {n} elements", position)
    idx = b.apply("argsort", x, axis=axis, descending=bool(static(b, a["largest"], "largest", position)), k=k,
                  position=position)
    values = b.apply("take_along", x, idx, axis=axis, position=position)
    return Pair(values, {"values": values, "indices": idx}, "torch", "topk")


def _median(library):
    """torch.median: the lower median (one element, its index); np.median: the mean of the two
    middle elements. A bare median is the same for an odd count and refused for an even one."""
    def lower(b, args, kwargs, position):
        a = arguments("median", args, kwargs, {"x": REQUIRED, "axis": None, "keepdims": False}, position)
        x = tensor(b, a["x"], "median", position)
        keepdims = bool(static(b, a["keepdims"], "keepdims", position))
        axis_given = a["axis"] is not None
        if not axis_given or x.ndim == 0:
            if keepdims and library == "numpy" and x.ndim:
                raise JacValueError("np.median(x, keepdims=True) without an axis is not supported; give axis=",
                                    position)
            x = b.apply("reshape", x, shape=(_numel(x, position),), position=position)
            axis, keepdims = 0, False
        else:
            axis = _one_axis(b, a["axis"], x, position, "median")
        n = x.shape[axis]
        torch_like = library in ("torch", "torch.linalg", "method")
        if library is None and isinstance(n, int) and n % 2 == 0:
            raise _ambiguous("median(x) of an even count", "torch.median is the lower of the two middle elements",
                             "np.median their mean", "Write torch.median(x) or np.median(x).", position)
        lower_idx = b.apply("argmedian", x, axis=axis, position=position)
        values = _selection(b, x, lower_idx, axis, keepdims, position)
        if library == "numpy":
            upper = _selection(b, x, b.apply("argmedian", x, axis=axis, upper=True, position=position), axis,
                               keepdims, position)
            return b.apply("mul", b.apply("add", values, upper, position=position), 0.5, position=position)
        if not axis_given:
            return values
        parts = {"values": values, "indices": lambda: _squeezed(b, lower_idx, axis, keepdims, position)}
        return Pair(values, parts, "torch" if torch_like else "ambiguous", "median")
    return lower


FUNCTIONS["median"] = _median(None)
for _library in ("torch", "torch.linalg", "numpy", "method"):
    SPELLED[(_library, "median")] = _median(_library)


# --- norms ---

def _vector_norm(b, x: Tracer, order, axes: tuple, keepdims: bool, position) -> Tracer:
    """(sum |x|^ord)^(1/ord) over ``axes``; ord inf / -inf: max / min |x|; ord 0: the count of
    nonzeros (no derivative)."""
    if isinstance(order, bool) or not isinstance(order, (int, float)):
        raise JacValueError(f"vector norm: ord must be a number, got {order!r}", position)
    if order == 2:
        return b.apply("norm", x, axes=axes, keepdims=keepdims, position=position)
    absx = b.apply("abs", x, position=position)
    if order == 1:
        return b.apply("sum", absx, axes=axes, keepdims=keepdims, position=position)
    if order in (math.inf, -math.inf):
        return b.apply("max" if order > 0 else "min", absx, axes=axes, keepdims=keepdims, position=position)
    if order == 0:
        nonzero = b.apply("sub", 1.0, b.apply("eq", x, 0.0, position=position), position=position)
        return b.apply("sum", nonzero, axes=axes, keepdims=keepdims, position=position)
    if not math.isfinite(order):
        raise JacValueError(f"vector norm: ord={order!r} is not a number", position)
    return b.apply("pnorm", x, ord=float(order), axes=axes, keepdims=keepdims, position=position)


MATRIX_ORDS = "'fro', 1, -1, inf, -inf (2, -2 and 'nuc' need singular values, which jac does not have)"


def _matrix_norm(b, x: Tracer, order, axes: tuple, keepdims: bool, position) -> Tracer:
    """Matrix norms over the two ``axes`` (rows, columns): 'fro'; 1 / -1 the max / min column
    sum of |x|; inf / -inf the max / min row sum."""
    if len(axes) != 2 or axes[0] == axes[1]:
        raise JacShapeError(f"a matrix norm needs two different axes, got {axes}", position)
    if order in ("fro", None):
        return b.apply("norm", x, axes=tuple(sorted(axes)), keepdims=keepdims, position=position)
    if order in (1, -1, math.inf, -math.inf):
        rows, cols = axes
        summed, extreme = (rows, cols) if abs(order) == 1 else (cols, rows)
        s = b.apply("sum", b.apply("abs", x, position=position), axes=(summed,), keepdims=True, position=position)
        m = b.apply("max" if order > 0 else "min", s, axes=(extreme,), keepdims=True, position=position)
        if keepdims:
            return m
        return b.apply("reshape", m, shape=tuple(d for i, d in enumerate(x.shape) if i not in axes), position=position)
    raise JacValueError(f"matrix norm: ord={order!r} is not supported; jac has {MATRIX_ORDS}", position)


def _norm_by(library):
    """norm(x, ord, axis): NumPy's np.linalg.norm and torch.linalg.norm read a numeric ord over
    two axes (or of a matrix without axes) as a matrix norm, torch.norm and x.norm() as the
    vector norm of those elements; a bare norm that could be either is refused."""
    def lower(b, args, kwargs, position, library=library):
        a = arguments("norm", args, kwargs, {"x": REQUIRED, "ord": None, "axis": None, "keepdims": False}, position)
        x = tensor(b, a["x"], "norm", position)
        order = static(b, a["ord"], "ord", position)
        axes = axes_of(b, a["axis"], x, position, "norm")
        keepdims = bool(static(b, a["keepdims"], "keepdims", position))
        if library is None and "p" in kwargs:  # p= is PyTorch's spelling
            library = "torch"
        if order in (None, "fro"):  # the 2-norm of the elements (Frobenius over two axes)
            return b.apply("norm", x, axes=axes, keepdims=keepdims, position=position)
        if order == "nuc":
            return _matrix_norm(b, x, order, axes, keepdims, position)
        matrix = len(axes) == 2 and (a["axis"] is not None or x.ndim == 2)
        if matrix and a["axis"] is not None:  # in the order given: (rows, columns)
            axes = tuple(normalize_axis(i, x.ndim, x.shape) for i in static_ints(b, a["axis"], "axis", position))
        if library in ("torch", "method") or not matrix:
            if library in ("numpy", "torch.linalg") and a["axis"] is None and x.ndim > 2:
                raise JacShapeError(f"norm with ord={order!r} needs a vector or a matrix, or axis=, "
                                    f"got shape {fmt(x.shape)}", position)
            return _vector_norm(b, x, order, axes, keepdims, position)
        if library is None and order not in (2, -2):
            raise _ambiguous(f"norm(A, {order:g}) of a matrix", "torch.norm is the vector norm of all elements",
                             "np.linalg.norm (and torch.linalg.norm) the matrix norm",
                             "Write torch.norm, torch.linalg.vector_norm, np.linalg.norm or "
                             "torch.linalg.matrix_norm.", position)
        return _matrix_norm(b, x, order, axes, keepdims, position)
    return lower


FUNCTIONS["norm"] = _norm_by(None)
for _library in ("torch", "torch.linalg", "numpy", "method"):
    SPELLED[(_library, "norm")] = _norm_by(_library)


@function("vector_norm")
def _vector_norm_fn(b, args, kwargs, position):
    a = arguments("vector_norm", args, kwargs, {"x": REQUIRED, "ord": 2, "axis": None, "keepdims": False}, position)
    x = tensor(b, a["x"], "vector_norm", position)
    return _vector_norm(b, x, static(b, a["ord"], "ord", position), axes_of(b, a["axis"], x, position, "vector_norm"),
                        bool(static(b, a["keepdims"], "keepdims", position)), position)


@function("matrix_norm")
def _matrix_norm_fn(b, args, kwargs, position):
    a = arguments("matrix_norm", args, kwargs, {"x": REQUIRED, "ord": Static("fro"), "axis": Static((-2, -1)),
                                                "keepdims": False},
                  position)
    x = tensor(b, a["x"], "matrix_norm", position)
    if x.ndim < 2:
        raise JacShapeError(f"matrix_norm needs a matrix (2-d or more), got shape {fmt(x.shape)}", position)
    axes = tuple(normalize_axis(i, x.ndim, x.shape) for i in static_ints(b, a["axis"], "dim", position))
    return _matrix_norm(b, x, static(b, a["ord"], "ord", position), axes,
                        bool(static(b, a["keepdims"], "keepdims", position)), position)


@function("dist")
def _dist(b, args, kwargs, position):
    a = arguments("dist", args, kwargs, {"x": REQUIRED, "y": REQUIRED, "ord": 2}, position)
    d = b.apply("sub", tensor(b, a["x"], "dist", position), tensor(b, a["y"], "dist", position), position=position)
    return _vector_norm(b, d, static(b, a["ord"], "p", position), tuple(range(d.ndim)), False, position)


@function("normalize")
def _normalize(b, args, kwargs, position):
    """F.normalize: x / max(‖x‖_p, eps) along dim (1 by default, as PyTorch)."""
    a = arguments("normalize", args, kwargs, {"x": REQUIRED, "ord": 2.0, "axis": 1, "eps": 1e-12}, position)
    x = tensor(b, a["x"], "normalize", position)
    axis = _one_axis(b, a["axis"], x, position, "normalize")
    n = _vector_norm(b, x, static(b, a["ord"], "p", position), (axis,), True, position)
    eps = static(b, a["eps"], "eps", position)
    return b.apply("div", x, b.apply("clip", n, eps, math.inf, position=position), position=position)


@function("cosine_similarity")
def _cosine_similarity(b, args, kwargs, position):
    """PyTorch's: Σ (x1 / n1) (x2 / n2) along dim (1), each norm clamped at eps for its value
    only (PyTorch clamps in place under no_grad)."""
    a = arguments("cosine_similarity", args, kwargs, {"x1": REQUIRED, "x2": REQUIRED, "axis": 1, "eps": 1e-8},
                  position)
    x1, x2 = tensor(b, a["x1"], "cosine_similarity", position), tensor(b, a["x2"], "cosine_similarity", position)
    from ..ir.shapes import broadcast
    shape = broadcast(x1.shape, x2.shape)
    x1, x2 = (b.apply("broadcast_to", t, shape=shape, position=position) if t.shape != shape else t for t in (x1, x2))
    axis = _one_axis(b, a["axis"], x1, position, "cosine_similarity")
    eps = static(b, a["eps"], "eps", position)
    units = []
    for t in (x1, x2):
        n = b.apply("norm", t, axes=(axis,), keepdims=True, position=position)
        n = b.apply("add", n, b.apply("clamp_excess", n, eps, position=position), position=position)
        units.append(b.apply("div", t, n, position=position))
    return b.apply("sum", b.apply("mul", *units, position=position), axes=(axis,), position=position)


# --- losses (torch.nn.functional), with reduction= 'mean' (the default), 'sum' or 'none' ---

LOSS_LEGACY = ("size_average", "reduce")


def _loss_args(fname, args, kwargs, params, position):
    for key in LOSS_LEGACY:
        if kwargs.get(key) is not None:
            raise JacValueError(f"{fname}(): {key}= is deprecated in PyTorch and not supported; use reduction=",
                                position)
    kwargs = {k: v for k, v in kwargs.items() if k not in LOSS_LEGACY}
    return arguments(fname, args, kwargs, params, position)


def _reduction_of(b, value, fname, position, allowed=("mean", "sum", "none")) -> str:
    r = static(b, value, "reduction", position)
    if r not in allowed:
        raise JacValueError(f"{fname}(): reduction must be {', '.join(repr(x) for x in allowed)}, got {r!r}",
                            position)
    return r


def _reduced_loss(b, loss: Tracer, reduction: str, position) -> Tracer:
    if reduction == "none":
        return loss
    return b.apply(reduction, loss, axes=tuple(range(loss.ndim)), position=position)


def _weighted(b, loss, weight, fname, position):
    return loss if weight is None else b.apply("mul", loss, tensor(b, weight, fname, position), position=position)


def _pointwise_loss(fname, pointwise, extra: dict):
    def lower(b, args, kwargs, position):
        a = _loss_args(fname, args, kwargs, {"x": REQUIRED, "target": REQUIRED, "reduction": Static("mean"), **extra},
                       position)
        x, t = tensor(b, a["x"], fname, position), tensor(b, a["target"], fname, position)
        d = b.apply("sub", x, t, position=position)
        loss = _weighted(b, pointwise(b, d, a, position), a.get("weight"), fname, position)
        return _reduced_loss(b, loss, _reduction_of(b, a["reduction"], fname, position), position)
    return lower


def _squared(b, d, a, position):
    return b.apply("mul", d, d, position=position)


def _absolute(b, d, a, position):
    return b.apply("abs", d, position=position)


def _quadratic_then_linear(b, d, width: float, scale_quadratic: float, scale_linear: float, position):
    """Where |d| < width: scale_quadratic · d²/2, else scale_linear · (|d| - width/2)."""
    ad = b.apply("abs", d, position=position)
    inner = b.apply("mul", b.apply("mul", d, d, position=position), 0.5 * scale_quadratic, position=position)
    outer = b.apply("mul", b.apply("sub", ad, 0.5 * width, position=position), scale_linear, position=position)
    mask = b.apply("sub", 1.0, b.apply("ge", ad, width, position=position), position=position)
    return b.apply("where", mask, inner, outer, position=position)


def _smooth_l1(b, d, a, position):
    beta = static(b, a["beta"], "beta", position)
    if not isinstance(beta, (int, float)) or beta < 0:
        raise JacValueError(f"smooth_l1_loss(): beta must be a number >= 0, got {beta!r}", position)
    if beta == 0:
        return b.apply("abs", d, position=position)
    return _quadratic_then_linear(b, d, float(beta), 1.0 / beta, 1.0, position)


def _huber(b, d, a, position):
    delta = static(b, a["delta"], "delta", position)
    if not isinstance(delta, (int, float)) or delta <= 0:
        raise JacValueError(f"huber_loss(): delta must be a number > 0, got {delta!r}", position)
    return _quadratic_then_linear(b, d, float(delta), 1.0, float(delta), position)


FUNCTIONS["mse_loss"] = _pointwise_loss("mse_loss", _squared, {"weight": None})
FUNCTIONS["l1_loss"] = _pointwise_loss("l1_loss", _absolute, {"weight": None})
FUNCTIONS["smooth_l1_loss"] = _pointwise_loss("smooth_l1_loss", _smooth_l1, {"beta": 1.0})
FUNCTIONS["huber_loss"] = _pointwise_loss("huber_loss", _huber, {"delta": 1.0, "weight": None})


def _folded_at(position, make):
    """``make()``, whose op refuses bad constant values while it is folded: the error gets the column."""
    try:
        return make()
    except JacValueError as err:
        if err.position is None:
            err.position = position
        raise


def _same_shape(fname, x, t, position):
    if x.shape != t.shape:
        raise JacShapeError(f"{fname}: the target's shape {fmt(t.shape)} must be the input's {fmt(x.shape)}",
                            position)


@function("binary_cross_entropy")
def _bce(b, args, kwargs, position):
    fname = "binary_cross_entropy"
    a = _loss_args(fname, args, kwargs, {"x": REQUIRED, "target": REQUIRED, "weight": None,
                                         "reduction": Static("mean")},
                   position)
    x, t = tensor(b, a["x"], fname, position), tensor(b, a["target"], fname, position)
    _same_shape(fname, x, t, position)
    loss = _weighted(b, _folded_at(position, lambda: b.apply("bce", x, t, position=position)), a["weight"], fname,
                     position)
    return _reduced_loss(b, loss, _reduction_of(b, a["reduction"], fname, position), position)


@function("binary_cross_entropy_with_logits")
def _bce_logits(b, args, kwargs, position):
    """(1 - t)·softplus(x) + pos_weight·t·softplus(-x): log σ written stably, as PyTorch."""
    fname = "binary_cross_entropy_with_logits"
    a = _loss_args(fname, args, kwargs, {"x": REQUIRED, "target": REQUIRED, "weight": None, "reduction": Static("mean"),
                                         "pos_weight": None}, position)
    x, t = tensor(b, a["x"], fname, position), tensor(b, a["target"], fname, position)
    _same_shape(fname, x, t, position)
    on = b.apply("mul", t, b.apply("softplus", b.apply("neg", x, position=position), position=position),
                 position=position)
    if a["pos_weight"] is not None:
        on = b.apply("mul", on, tensor(b, a["pos_weight"], fname, position), position=position)
    off = b.apply("mul", b.apply("sub", 1.0, t, position=position), b.apply("softplus", x, position=position),
                  position=position)
    loss = _weighted(b, b.apply("add", on, off, position=position), a["weight"], fname, position)
    return _reduced_loss(b, loss, _reduction_of(b, a["reduction"], fname, position), position)


def _class_axis(x: Tracer, fname, position) -> int:
    if x.ndim == 0:
        raise JacShapeError(f"{fname} needs scores with a class axis, got a scalar", position)
    return 0 if x.ndim == 1 else 1


def _class_targets(b, x, t, weight, ignore_index, fname, position):
    """(one-hot targets with 0 rows where ignored, the weight of each sample's class)."""
    axis = _class_axis(x, fname, position)
    classes = x.shape[axis]
    if not isinstance(classes, int):
        raise JacShapeError(f"{fname} needs a concrete number of classes, got {fmt(x.shape)}", position)
    hot = _folded_at(position, lambda: b.apply("one_hot", t, classes=classes, axis=axis, ignore_index=ignore_index,
                                               position=position))
    if weight is None:
        return axis, hot, hot, None
    weight = _class_weight(b, weight, x, axis, fname, position)
    return axis, hot, b.apply("mul", hot, weight, position=position), weight


def _class_weight(b, weight, x: Tracer, axis: int, fname, position) -> Tracer:
    """A weight per class, shaped to broadcast along the class axis of ``x``."""
    w = tensor(b, weight, fname, position)
    classes = x.shape[axis]
    if w.shape != (classes,):
        raise JacShapeError(f"{fname}: weight must have one entry per class ({classes},), got {fmt(w.shape)}",
                            position)
    return b.apply("reshape", w, shape=(classes,) + (1,) * (x.ndim - axis - 1), position=position)


def _nll(b, logp, t, weight, ignore_index, reduction, label_smoothing, fname, position):
    axis, hot, hot_w, weight = _class_targets(b, logp, t, weight, ignore_index, fname, position)
    picked = b.apply("sum", b.apply("mul", hot_w, logp, position=position), axes=(axis,), position=position)
    loss = b.apply("neg", picked, position=position)
    if label_smoothing:
        classes = logp.shape[axis]
        valid = b.apply("sum", hot, axes=(axis,), position=position)
        every = logp if weight is None else b.apply("mul", logp, weight, position=position)
        smooth = b.apply("mul", b.apply("sum", every, axes=(axis,), position=position), valid, position=position)
        loss = b.apply("sub", b.apply("mul", loss, 1.0 - label_smoothing, position=position),
                       b.apply("mul", smooth, label_smoothing / classes, position=position), position=position)
    if reduction != "mean":
        return _reduced_loss(b, loss, reduction, position)
    total = b.apply("sum", loss, axes=tuple(range(loss.ndim)), position=position)
    weights = b.apply("sum", hot_w, axes=tuple(range(hot_w.ndim)), position=position)
    return b.apply("div", total, weights, position=position)


def _target_kind(x: Tracer, t: Tracer, fname, position) -> str:
    axis = _class_axis(x, fname, position)
    if t.shape == x.shape:
        return "probabilities"
    if t.shape == tuple(d for i, d in enumerate(x.shape) if i != axis):
        return "indices"
    raise JacShapeError(f"{fname}: the target must be class indices of shape "
                        f"{fmt(tuple(d for i, d in enumerate(x.shape) if i != axis))} or probabilities of the "
                        f"input's shape {fmt(x.shape)}, got {fmt(t.shape)}", position)


def _index_target_params(b, a, position):
    ignore = static(b, a["ignore_index"], "ignore_index", position)
    if not _is_integer(ignore):
        raise JacValueError(f"ignore_index must be an integer, got {ignore!r}", position)
    return float(ignore)


@function("cross_entropy")
def _cross_entropy(b, args, kwargs, position):
    """Class-index targets (the input's shape without the class axis) or class probabilities
    (the input's shape), told apart by shape; index targets are never differentiated."""
    fname = "cross_entropy"
    a = _loss_args(fname, args, kwargs, {"x": REQUIRED, "target": REQUIRED, "weight": None, "ignore_index": -100,
                                         "reduction": Static("mean"), "label_smoothing": 0.0}, position)
    x, t = tensor(b, a["x"], fname, position), tensor(b, a["target"], fname, position)
    reduction = _reduction_of(b, a["reduction"], fname, position)
    smoothing = static(b, a["label_smoothing"], "label_smoothing", position)
    if not isinstance(smoothing, (int, float)) or not 0 <= smoothing <= 1:
        raise JacValueError(f"cross_entropy(): label_smoothing must be in [0, 1], got {smoothing!r}", position)
    axis = _class_axis(x, fname, position)
    logp = b.apply("sub", x, b.apply("logsumexp", x, axes=(axis,), keepdims=True, position=position),
                   position=position)
    if _target_kind(x, t, fname, position) == "indices":
        return _nll(b, logp, t, a["weight"], _index_target_params(b, a, position), reduction, float(smoothing),
                    fname, position)
    classes = x.shape[axis]
    if smoothing:
        t = b.apply("add", b.apply("mul", t, 1.0 - smoothing, position=position), smoothing / classes,
                    position=position)
    terms = b.apply("mul", t, logp, position=position)
    if a["weight"] is not None:
        terms = b.apply("mul", terms, _class_weight(b, a["weight"], x, axis, fname, position), position=position)
    loss = b.apply("neg", b.apply("sum", terms, axes=(axis,), position=position), position=position)
    return _reduced_loss(b, loss, reduction, position)


@function("nll_loss")
def _nll_loss(b, args, kwargs, position):
    fname = "nll_loss"
    a = _loss_args(fname, args, kwargs, {"x": REQUIRED, "target": REQUIRED, "weight": None, "ignore_index": -100,
                                         "reduction": Static("mean")}, position)
    x, t = tensor(b, a["x"], fname, position), tensor(b, a["target"], fname, position)
    axis = _class_axis(x, fname, position)
    if t.shape != tuple(d for i, d in enumerate(x.shape) if i != axis):
        raise JacShapeError(f"nll_loss: the target must be class indices of shape "
                            f"{fmt(tuple(d for i, d in enumerate(x.shape) if i != axis))}, got {fmt(t.shape)}",
                            position)
    return _nll(b, x, t, a["weight"], _index_target_params(b, a, position),
                _reduction_of(b, a["reduction"], fname, position), 0.0, fname, position)


@function("kl_div")
def _kl_div(b, args, kwargs, position):
    """t (log t - x) (0 where t = 0, the derivative by t there -inf), or with log_target e^t (t - x);
    reduction 'mean' is over
    every element as PyTorch's (which recommends 'batchmean': the sum over the first axis' length)."""
    fname = "kl_div"
    a = _loss_args(fname, args, kwargs, {"x": REQUIRED, "target": REQUIRED, "reduction": Static("mean"),
                                         "log_target": False},
                   position)
    x, t = tensor(b, a["x"], fname, position), tensor(b, a["target"], fname, position)
    reduction = _reduction_of(b, a["reduction"], fname, position, ("mean", "sum", "none", "batchmean"))
    if static(b, a["log_target"], "log_target", position):
        loss = b.apply("mul", b.apply("exp", t, position=position), b.apply("sub", t, x, position=position),
                       position=position)
    else:
        tlogt = b.apply("xlogx", t, position=position)
        loss = b.apply("sub", tlogt, b.apply("mul", t, x, position=position), position=position)
    if reduction != "batchmean":
        return _reduced_loss(b, loss, reduction, position)
    total = b.apply("sum", loss, axes=tuple(range(loss.ndim)), position=position)
    return b.apply("div", total, float(loss.shape[0]) if loss.ndim else 1.0, position=position)


# --- more statistics: NaN-aware sums, weighted averages, counts, quantiles, running extremes ---

def _nan_reduction(fname: str, mean: bool):
    """nansum / nanmean: NaN elements count as absent (their derivative is 0, as PyTorch's)."""
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "axis": None, "keepdims": False}, position)
        x = tensor(b, a["x"], fname, position)
        axes = axes_of(b, a["axis"], x, position, fname)
        keepdims = bool(static(b, a["keepdims"], "keepdims", position))
        present = b.apply("eq", x, x, position=position)
        total = b.apply("sum", b.apply("where", present, x, 0.0, position=position), axes=axes, keepdims=keepdims,
                        position=position)
        if not mean:
            return total
        count = b.apply("sum", present, axes=axes, keepdims=keepdims, position=position)
        return b.apply("div", total, count, position=position)
    return lower


FUNCTIONS["nansum"] = _nan_reduction("nansum", False)
FUNCTIONS["nanmean"] = _nan_reduction("nanmean", True)


@function("count_nonzero")
def _count_nonzero(b, args, kwargs, position):
    a = arguments("count_nonzero", args, kwargs, {"x": REQUIRED, "axis": None, "keepdims": False}, position)
    x = tensor(b, a["x"], "count_nonzero", position)
    nonzero = b.apply("sub", 1.0, b.apply("eq", x, 0.0, position=position), position=position)
    return b.apply("sum", nonzero, axes=axes_of(b, a["axis"], x, position, "count_nonzero"),
                   keepdims=bool(static(b, a["keepdims"], "keepdims", position)), position=position)


@function("average")
def _average(b, args, kwargs, position):
    """np.average(a, axis=None, weights=None): Σ a·w / Σ w; 1-d weights lie along ``axis``."""
    a = arguments("average", args, kwargs, {"x": REQUIRED, "axis": None, "weights": None, "keepdims": False},
                  position)
    x = tensor(b, a["x"], "average", position)
    axes = axes_of(b, a["axis"], x, position, "average")
    keepdims = bool(static(b, a["keepdims"], "keepdims", position))
    if a["weights"] is None:
        return b.apply("mean", x, axes=axes, keepdims=keepdims, position=position)
    w = tensor(b, a["weights"], "average", position)
    if w.shape != x.shape:
        if w.ndim != 1 or len(axes) != 1 or w.shape[0] != x.shape[axes[0]]:
            raise JacShapeError(f"average: weights of shape {fmt(w.shape)} must have the shape of a "
                                f"{fmt(x.shape)} or be 1-d along the one axis", position)
        w = b.apply("reshape", w, shape=tuple(d if i == axes[0] else 1 for i, d in enumerate(x.shape)),
                    position=position)
    total = b.apply("sum", b.apply("mul", x, w, position=position), axes=axes, keepdims=keepdims, position=position)
    weight = b.apply("sum", b.apply("broadcast_to", w, shape=x.shape, position=position) if w.shape != x.shape else w,
                     axes=axes, keepdims=keepdims, position=position)
    return b.apply("div", total, weight, position=position)


@function("logcumsumexp")
def _logcumsumexp(b, args, kwargs, position):
    """log(cumsum(exp(x - m))) + m along dim, m the line's maximum (no overflow)."""
    a = arguments("logcumsumexp", args, kwargs, {"x": REQUIRED, "axis": REQUIRED}, position)
    x = tensor(b, a["x"], "logcumsumexp", position)
    if x.ndim == 0:
        return x
    axis = _one_axis(b, a["axis"], x, position, "logcumsumexp")
    if isinstance(x.shape[axis], int) and x.shape[axis] == 0:
        return x
    m = b.apply("max", x, axes=(axis,), keepdims=True, position=position)
    m = b.apply("where", b.apply("eq", m, m, position=position), m, 0.0, position=position)  # NaN lines: no shift
    e = b.apply("exp", b.apply("sub", x, m, position=position), position=position)
    return b.apply("add", b.apply("log", b.apply("cumsum", e, axis=axis, position=position), position=position), m,
                   position=position)


def _cumulative_extreme(fname: str, minimum: bool):
    """cummax / cummin: (values, indices); the latest of equal elements is taken, as PyTorch."""
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "axis": REQUIRED}, position)
        x = tensor(b, a["x"], fname, position)
        if x.ndim == 0:
            x = b.apply("reshape", x, shape=(1,), position=position)
        axis = _one_axis(b, a["axis"], x, position, fname)
        idx = b.apply("argcum", x, axis=axis, minimum=minimum, position=position)
        values = b.apply("take_along", x, idx, axis=axis, position=position)
        return Pair(values, {"values": values, "indices": idx}, "torch", fname)
    return lower


FUNCTIONS["cummax"] = _cumulative_extreme("cummax", False)
FUNCTIONS["cummin"] = _cumulative_extreme("cummin", True)


@function("kthvalue")
def _kthvalue(b, args, kwargs, position):
    """torch.kthvalue(x, k, dim=-1): the k-th smallest (1-based) and its index."""
    a = arguments("kthvalue", args, kwargs, {"x": REQUIRED, "k": REQUIRED, "axis": -1, "keepdims": False}, position)
    x = tensor(b, a["x"], "kthvalue", position)
    if x.ndim == 0:
        x = b.apply("reshape", x, shape=(1,), position=position)
    axis = _one_axis(b, a["axis"], x, position, "kthvalue")
    k = static_int(b, a["k"], "k", position)
    n = x.shape[axis]
    if k < 1 or (isinstance(n, int) and k > n):
        raise JacValueError(f"kthvalue: k = {k} is out of range for {n} elements (k counts from 1)", position)
    first = b.apply("argsort", x, axis=axis, k=k, position=position)
    idx = b.apply("getitem", first, index=(slice(None),) * axis + (slice(k - 1, k),), position=position)
    keepdims = bool(static(b, a["keepdims"], "keepdims", position))
    return Pair(_selection(b, x, idx, axis, keepdims, position),
                {"values": lambda: _selection(b, x, idx, axis, keepdims, position),
                 "indices": lambda: _squeezed(b, idx, axis, keepdims, position)}, "torch", "kthvalue")


def _statistic_and_mean(fname: str):
    """var_mean / std_mean: the pair (statistic, mean), as torch.var_mean."""
    stat = _var_std(fname[:3])("torch")

    def lower(b, args, kwargs, position):
        out = stat(b, args, kwargs, position)
        if len(args) >= 2 and isinstance(args[1], bool):  # the unbiased overload
            args = args[:1] + args[2:]
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "axis": None, "correction": None, "unbiased": None,
                                            "keepdims": False}, position)
        x = tensor(b, a["x"], fname, position)
        mean = b.apply("mean", x, axes=axes_of(b, a["axis"], x, position, fname),
                       keepdims=bool(static(b, a["keepdims"], "keepdims", position)), position=position)
        return Pair(out, {"0": out, "1": mean}, "torch", fname, names=("0", "1"))
    return lower


FUNCTIONS["var_mean"] = _statistic_and_mean("var_mean")
FUNCTIONS["std_mean"] = _statistic_and_mean("std_mean")


@function("aminmax")
def _aminmax(b, args, kwargs, position):
    """torch.aminmax(x, dim=None, keepdim=False): the pair (.min, .max), as amin and amax."""
    lo = FUNCTIONS["amin"](b, args, kwargs, position)
    hi = FUNCTIONS["amax"](b, args, kwargs, position)
    return Pair(lo, {"min": lo, "max": hi}, "torch", "aminmax", names=("min", "max"))


QUANTILE_METHODS = ("linear", "lower", "higher", "midpoint")


def _quantile(fname: str, scale: float):
    """quantile(x, q, dim=None, keepdim=False, interpolation='linear') (NumPy: axis=, method=), and
    np.percentile (q in percent): between the sorted elements at floor and ceil of q·(n - 1); a
    line holding NaN gives its NaN (the derivative goes to it, as PyTorch's)."""
    def lower(b, args, kwargs, position):
        kwargs = {("interpolation" if k == "method" else k): v for k, v in kwargs.items()}
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "q": REQUIRED, "axis": None, "keepdims": False,
                                            "interpolation": Static("linear")}, position)
        x = tensor(b, a["x"], fname, position)
        q = static(b, a["q"], "q", position)
        if isinstance(q, bool) or not isinstance(q, (int, float)):
            raise JacValueError(f"{fname}: q must be one number (jac takes one quantile at a time), got {q!r}",
                                position)
        q = q / scale
        if not 0 <= q <= 1:
            raise JacValueError(f"{fname}: q must be in [0, {int(scale)}], got {q * scale:g}", position)
        method = static(b, a["interpolation"], "interpolation", position)
        if method not in QUANTILE_METHODS:
            raise JacValueError(f"{fname}: interpolation must be one of {', '.join(QUANTILE_METHODS)}, got "
                                f"{method!r}", position)
        keepdims = bool(static(b, a["keepdims"], "keepdims", position))
        if a["axis"] is None or x.ndim == 0:
            x = b.apply("reshape", x, shape=(_numel(x, position),), position=position)
            axis, keep = 0, False
        else:
            axis, keep = _one_axis(b, a["axis"], x, position, fname), keepdims
        n = x.shape[axis]
        if not isinstance(n, int) or n == 0:
            raise JacShapeError(f"{fname} needs a concrete, non-empty axis, got {fmt(x.shape)}", position)
        srt = b.apply("take_along", x, b.apply("argsort", x, axis=axis, position=position), axis=axis,
                      position=position)
        pos = q * (n - 1)
        lo, hi = math.floor(pos), math.ceil(pos)

        def at(i):
            return b.apply("getitem", srt, index=(slice(None),) * axis + (slice(i, i + 1),), position=position)

        if method == "lower" or lo == hi:
            out = at(lo)
        elif method == "higher":
            out = at(hi)
        else:
            frac = 0.5 if method == "midpoint" else pos - lo
            out = b.apply("add", at(lo), b.apply("mul", b.apply("sub", at(hi), at(lo), position=position), frac,
                                                 position=position), position=position)
        clean = b.apply("prod", b.apply("eq", x, x, position=position), axes=(axis,), keepdims=True,
                        position=position)
        out = b.apply("where", clean, out, at(n - 1), position=position)  # NaN sorts last: PyTorch takes it
        return _squeezed(b, out, axis, keep, position)
    return lower


FUNCTIONS["quantile"] = _quantile("quantile", 1.0)
FUNCTIONS["percentile"] = _quantile("percentile", 100.0)


# --- distances ---

@function("pairwise_distance")
def _pairwise_distance(b, args, kwargs, position):
    """F.pairwise_distance(x1, x2, p=2, eps=1e-6, keepdim=False): ‖x1 - x2 + eps‖_p along the last axis."""
    a = arguments("pairwise_distance", args, kwargs, {"x1": REQUIRED, "x2": REQUIRED, "ord": 2.0, "eps": 1e-6,
                                                      "keepdims": False}, position)
    x1, x2 = tensor(b, a["x1"], "pairwise_distance", position), tensor(b, a["x2"], "pairwise_distance", position)
    d = b.apply("add", b.apply("sub", x1, x2, position=position), static(b, a["eps"], "eps", position),
                position=position)
    if d.ndim == 0:
        d = b.apply("reshape", d, shape=(1,), position=position)
    return _vector_norm(b, d, static(b, a["ord"], "p", position), (d.ndim - 1,),
                        bool(static(b, a["keepdims"], "keepdim", position)), position)


@function("cdist")
def _cdist(b, args, kwargs, position):
    """torch.cdist(x1 (..., P, M), x2 (..., R, M), p=2): the (..., P, R) p-norm distances."""
    a = arguments("cdist", args, kwargs, {"x1": REQUIRED, "x2": REQUIRED, "ord": 2.0}, position)
    x1, x2 = tensor(b, a["x1"], "cdist", position), tensor(b, a["x2"], "cdist", position)
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise JacShapeError(f"cdist needs (..., P, M) and (..., R, M), got {fmt(x1.shape)} and {fmt(x2.shape)}",
                            position)
    left = b.apply("reshape", x1, shape=x1.shape[:-1] + (1, x1.shape[-1]), position=position)
    right = b.apply("reshape", x2, shape=x2.shape[:-2] + (1,) + x2.shape[-2:], position=position)
    d = b.apply("sub", left, right, position=position)
    return _vector_norm(b, d, static(b, a["ord"], "p", position), (d.ndim - 1,), False, position)


# --- more losses ---

def _target_loss(fname: str, params: dict, pointwise):
    def lower(b, args, kwargs, position):
        a = _loss_args(fname, args, kwargs, {**params, "reduction": Static("mean")}, position)
        loss = pointwise(b, a, position)
        return _reduced_loss(b, loss, _reduction_of(b, a["reduction"], fname, position), position)
    return lower


def _arg_tensor(b, a, key, fname, position):
    return tensor(b, a[key], fname, position)


def _soft_margin(b, a, position):
    x, y = (_arg_tensor(b, a, k, "soft_margin_loss", position) for k in ("x", "target"))
    return b.apply("softplus", b.apply("neg", b.apply("mul", y, x, position=position), position=position),
                   position=position)


def _margin_ranking(b, a, position):
    f = "margin_ranking_loss"
    x1, x2, y = (_arg_tensor(b, a, k, f, position) for k in ("x1", "x2", "target"))
    d = b.apply("mul", b.apply("neg", y, position=position), b.apply("sub", x1, x2, position=position),
                position=position)
    return b.apply("relu", b.apply("add", d, static(b, a["margin"], "margin", position), position=position),
                   position=position)


def _hinge_embedding(b, a, position):
    f = "hinge_embedding_loss"
    x, y = _arg_tensor(b, a, "x", f, position), _arg_tensor(b, a, "target", f, position)
    margin = b.apply("relu", b.apply("sub", static(b, a["margin"], "margin", position), x, position=position),
                     position=position)
    on_margin = b.apply("where", b.apply("eq", y, 1.0, position=position), 0.0, margin, position=position)
    on_self = b.apply("where", b.apply("eq", y, -1.0, position=position), 0.0, x, position=position)
    return b.apply("add", on_margin, on_self, position=position)


def _cosine_embedding(b, a, position):
    f = "cosine_embedding_loss"
    x1, x2, y = (_arg_tensor(b, a, k, f, position) for k in ("x1", "x2", "target"))
    axis = x1.ndim - 1
    if axis < 0 or x1.shape != x2.shape:
        raise JacShapeError(f"{f} needs two inputs of one shape with at least one axis", position)

    def total(u, v):
        return b.apply("sum", b.apply("mul", u, v, position=position), axes=(axis,), position=position)

    mags = b.apply("mul", b.apply("add", total(x1, x1), 1e-12, position=position),
                   b.apply("add", total(x2, x2), 1e-12, position=position), position=position)
    cos = b.apply("div", total(x1, x2), b.apply("sqrt", mags, position=position), position=position)
    pos = b.apply("sub", 1.0, cos, position=position)
    neg = b.apply("relu", b.apply("sub", cos, static(b, a["margin"], "margin", position), position=position),
                  position=position)
    pos = b.apply("where", b.apply("eq", y, 1.0, position=position), pos, 0.0, position=position)
    neg = b.apply("where", b.apply("eq", y, -1.0, position=position), neg, 0.0, position=position)
    return b.apply("add", pos, neg, position=position)


def _triplet_margin(b, a, position):
    f = "triplet_margin_loss"
    anchor, pos, neg = (_arg_tensor(b, a, k, f, position) for k in ("anchor", "positive", "negative"))
    p, eps = a["ord"], a["eps"]

    def dist(u, v):
        return _pairwise_distance(b, [u, v], {"p": p, "eps": eps}, position)

    d_pos, d_neg = dist(anchor, pos), dist(anchor, neg)
    if static(b, a["swap"], "swap", position):
        d_neg = b.apply("minimum", d_neg, dist(pos, neg), position=position)
    gap = b.apply("add", b.apply("sub", d_pos, d_neg, position=position), static(b, a["margin"], "margin", position),
                  position=position)
    return b.apply("clip", gap, 0.0, math.inf, position=position)


def _poisson_nll(b, a, position):
    f = "poisson_nll_loss"
    x, t = _arg_tensor(b, a, "x", f, position), _arg_tensor(b, a, "target", f, position)
    if static(b, a["log_input"], "log_input", position):
        loss = b.apply("sub", b.apply("exp", x, position=position), b.apply("mul", t, x, position=position),
                       position=position)
    else:
        eps = static(b, a["eps"], "eps", position)
        logx = b.apply("log", b.apply("add", x, eps, position=position), position=position)
        loss = b.apply("sub", x, b.apply("mul", t, logx, position=position), position=position)
    if static(b, a["full"], "full", position):  # Stirling's term where target > 1
        stirling = b.apply("add", b.apply("sub", b.apply("xlogx", t, position=position), t, position=position),
                           b.apply("mul", 0.5, b.apply("log", b.apply("mul", 2 * math.pi, t, position=position),
                                                       position=position), position=position), position=position)
        loss = b.apply("add", loss, b.apply("where", b.apply("gt", t, 1.0, position=position), stirling, 0.0,
                                            position=position), position=position)
    return loss


def _gaussian_nll(b, a, position):
    """0.5 (log v + (x - t)² / v) with v clamped at eps for its value only (PyTorch clamps under no_grad)."""
    f = "gaussian_nll_loss"
    x, t, var = (_arg_tensor(b, a, k, f, position) for k in ("x", "target", "var"))
    var = b.apply("add", var, b.apply("clamp_excess", var, static(b, a["eps"], "eps", position), position=position),
                  position=position)
    if var.ndim == x.ndim - 1 and var.shape == x.shape[:-1]:  # one variance per sample: the last axis is 1
        var = b.apply("reshape", var, shape=var.shape + (1,), position=position)
    d = b.apply("sub", x, t, position=position)
    loss = b.apply("mul", 0.5, b.apply("add", b.apply("log", var, position=position),
                                       b.apply("div", b.apply("mul", d, d, position=position), var, position=position),
                                       position=position), position=position)
    if static(b, a["full"], "full", position):
        loss = b.apply("add", loss, 0.5 * math.log(2 * math.pi), position=position)
    return loss


def _multilabel_soft_margin(b, a, position):
    f = "multilabel_soft_margin_loss"
    x, t = _arg_tensor(b, a, "x", f, position), _arg_tensor(b, a, "target", f, position)
    if x.ndim == 0:
        raise JacShapeError(f"{f} needs scores with a class axis, got a scalar", position)
    on = b.apply("mul", t, b.apply("softplus", b.apply("neg", x, position=position), position=position),
                 position=position)
    off = b.apply("mul", b.apply("sub", 1.0, t, position=position), b.apply("softplus", x, position=position),
                  position=position)
    loss = _weighted(b, b.apply("add", on, off, position=position), a["weight"], f, position)
    return b.apply("mean", loss, axes=(x.ndim - 1,), position=position)


FUNCTIONS["soft_margin_loss"] = _target_loss("soft_margin_loss", {"x": REQUIRED, "target": REQUIRED}, _soft_margin)
FUNCTIONS["margin_ranking_loss"] = _target_loss(
    "margin_ranking_loss", {"x1": REQUIRED, "x2": REQUIRED, "target": REQUIRED, "margin": 0.0}, _margin_ranking)
FUNCTIONS["hinge_embedding_loss"] = _target_loss(
    "hinge_embedding_loss", {"x": REQUIRED, "target": REQUIRED, "margin": 1.0}, _hinge_embedding)
FUNCTIONS["cosine_embedding_loss"] = _target_loss(
    "cosine_embedding_loss", {"x1": REQUIRED, "x2": REQUIRED, "target": REQUIRED, "margin": 0.0}, _cosine_embedding)
FUNCTIONS["triplet_margin_loss"] = _target_loss(
    "triplet_margin_loss", {"anchor": REQUIRED, "positive": REQUIRED, "negative": REQUIRED, "margin": 1.0,
                            "ord": 2.0, "eps": 1e-6, "swap": False}, _triplet_margin)
FUNCTIONS["poisson_nll_loss"] = _target_loss(
    "poisson_nll_loss", {"x": REQUIRED, "target": REQUIRED, "log_input": True, "full": False, "eps": 1e-8},
    _poisson_nll)
FUNCTIONS["gaussian_nll_loss"] = _target_loss(
    "gaussian_nll_loss", {"x": REQUIRED, "target": REQUIRED, "var": REQUIRED, "full": False, "eps": 1e-6},
    _gaussian_nll)
FUNCTIONS["multilabel_soft_margin_loss"] = _target_loss(
    "multilabel_soft_margin_loss", {"x": REQUIRED, "target": REQUIRED, "weight": None}, _multilabel_soft_margin)


# --- differences, integrals, spreads, covariances ---

def _line(b, x: Tracer, axis: int, part: slice, position) -> Tracer:
    return b.apply("getitem", x, index=(slice(None),) * axis + (part,), position=position)


@function("diff")
def _diff(b, args, kwargs, position):
    """diff(x, n=1, dim=-1): differences of neighbours along ``dim``, ``n`` times."""
    for key in ("prepend", "append"):
        if kwargs.get(key) is not None:
            raise JacValueError(f"diff(): {key}= is not supported by jac", position)
    kwargs = {k: v for k, v in kwargs.items() if k not in ("prepend", "append")}
    a = arguments("diff", args, kwargs, {"x": REQUIRED, "n": 1, "axis": -1}, position)
    x = tensor(b, a["x"], "diff", position)
    if x.ndim == 0:
        raise JacShapeError("diff needs at least a vector, got a scalar", position)
    n = static_int(b, a["n"], "n", position)
    if n < 0:
        raise JacValueError(f"diff(): n must be >= 0, got {n}", position)
    axis = _one_axis(b, a["axis"], x, position, "diff")
    for _ in range(n):
        if isinstance(x.shape[axis], int) and x.shape[axis] == 0:
            break
        x = b.apply("sub", _line(b, x, axis, slice(1, None), position), _line(b, x, axis, slice(None, -1), position),
                    position=position)
    return x


@function("trapezoid", "trapz")
def _trapezoid(b, args, kwargs, position):
    """The trapezoidal rule along ``dim`` (-1): Σ (x_(i+1) - x_i)(y_i + y_(i+1)) / 2, or with spacing dx."""
    a = arguments("trapezoid", args, kwargs, {"y": REQUIRED, "x": None, "dx": None, "axis": -1}, position)
    y = tensor(b, a["y"], "trapezoid", position)
    if y.ndim == 0:
        raise JacShapeError("trapezoid needs at least a vector, got a scalar", position)
    axis = _one_axis(b, a["axis"], y, position, "trapezoid")
    mids = b.apply("add", _line(b, y, axis, slice(1, None), position), _line(b, y, axis, slice(None, -1), position),
                   position=position)
    if a["x"] is not None:
        x = tensor(b, a["x"], "trapezoid", position)
        if x.ndim == 1 and y.ndim > 1:
            x = b.apply("reshape", x, shape=tuple(d if i == axis else 1 for i, d in enumerate(y.shape)) if
                        x.shape[0] == y.shape[axis] else x.shape, position=position)
        step = _diff(b, [x], {"axis": axis if x.ndim == y.ndim else -1}, position)
    else:
        dx = 1.0 if a["dx"] is None else static(b, a["dx"], "dx", position)
        step = dx
    terms = b.apply("mul", b.apply("mul", mids, step, position=position), 0.5, position=position)
    return b.apply("sum", terms, axes=(axis,), position=position)


@function("ptp")
def _ptp(b, args, kwargs, position):
    """np.ptp: max - min (amax and amin: ties share the derivative)."""
    return b.apply("sub", FUNCTIONS["amax"](b, args, kwargs, position), FUNCTIONS["amin"](b, args, kwargs, position),
                   position=position)


def _covariance(b, args, kwargs, position, fname):
    for key in ("fweights", "aweights", "y"):
        if kwargs.get(key) is not None:
            raise JacValueError(f"{fname}(): {key}= is not supported by jac", position)
    kwargs = {k: v for k, v in kwargs.items() if k not in ("fweights", "aweights", "y")}
    a = arguments(fname, args, kwargs, {"x": REQUIRED, "rowvar": True, "bias": False, "ddof": None,
                                        "correction": None}, position)
    x = tensor(b, a["x"], fname, position)
    if x.ndim > 2:
        raise JacShapeError(f"{fname} needs a vector or a matrix, got shape {fmt(x.shape)}", position)
    if x.ndim == 0:
        x = b.apply("reshape", x, shape=(1,), position=position)
    if not static(b, a["rowvar"], "rowvar", position) and x.ndim == 2:
        x = transpose_all(b, x, position)
    rows = x if x.ndim == 2 else b.apply("reshape", x, shape=(1,) + x.shape, position=position)
    count = _numel(rows, position) // max(rows.shape[0], 1)
    ddof = next((static(b, a[k], k, position) for k in ("ddof", "correction") if a[k] is not None), None)
    if ddof is None:
        ddof = 0 if static(b, a["bias"], "bias", position) else 1
    d = b.apply("sub", rows, b.apply("mean", rows, axes=(1,), keepdims=True, position=position), position=position)
    c = b.apply("div", b.apply("matmul", d, transpose_all(b, d, position), position=position),
                float(max(count - ddof, 0)), position=position)
    return c if x.ndim == 2 else b.apply("reshape", c, shape=(), position=position)


@function("cov")
def _cov(b, args, kwargs, position):
    """cov(x): rows are variables (NumPy's rowvar=True; torch.cov's), divided by n - 1 (ddof / correction)."""
    return _covariance(b, args, kwargs, position, "cov")


@function("corrcoef")
def _corrcoef(b, args, kwargs, position):
    """corrcoef(x): cov / sqrt(outer(diag, diag)), clipped to [-1, 1] as NumPy and PyTorch do."""
    c = _covariance(b, args, kwargs, position, "corrcoef")
    if c.ndim == 0:
        return b.apply("div", c, c, position=position)
    n = c.shape[0]
    diag = b.apply("getitem", c, index=(np.arange(n), np.arange(n)), position=position)
    s = b.apply("sqrt", diag, position=position)
    outer = b.apply("mul", b.apply("reshape", s, shape=(n, 1), position=position),
                    b.apply("reshape", s, shape=(1, n), position=position), position=position)
    return b.apply("clip", b.apply("div", c, outer, position=position), -1.0, 1.0, position=position)
