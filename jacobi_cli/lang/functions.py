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
        if key == "inplace" and key not in params:  # F.relu(x, inplace=True): jac's values are never changed
            continue
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


# --- PART elementwise: the element-wise vocabulary, comparisons, values as PyTorch users write them --
#
# A name that means different things in PyTorch and NumPy is registered per library in
# ``LIBRARY_FUNCTIONS[(library, NAME)]`` (library: ``torch``, ``numpy``, ``jax``, see
# :func:`library_of`); the parser looks that up first, then ``FUNCTIONS[NAME]``. A bare call or
# a method of a name registered per library only (not in ``FUNCTIONS``) is ambiguous and refused,
# with the readings of ``READINGS[(library, NAME)]``.
LIBRARY_FUNCTIONS: dict = {}
READINGS: dict = {}  # (library, NAME) -> what it means there, for the message refusing a bare call
# A method whose arguments are not the function's with the array first (``x.where(c, y)`` is
# ``where(c, x, y)``; ``x.polygamma(n)`` is ``polygamma(n, x)``): the parser looks here first for
# ``x.NAME(...)``, and the lowering gets the array first.
METHODS: dict = {}

LIBRARIES = {"torch": "torch", "F": "torch", "torch.nn.functional": "torch", "torch.linalg": "torch",
             "torch.special": "torch", "np": "numpy", "numpy": "numpy", "np.linalg": "numpy",
             "numpy.linalg": "numpy", "jnp": "numpy", "jax.numpy": "numpy", "jnp.linalg": "numpy",
             "jax.nn": "jax", "scipy.special": "scipy", "math": "math"}
# A dtype written in an expression (``dtype=torch.float32``, ``dtype=float``): its kind.
DTYPES = {"float16": "f", "half": "f", "bfloat16": "f", "float32": "f", "float": "f", "float64": "f",
          "double": "f", "float_": "f", "int8": "i", "int16": "i", "int32": "i", "int64": "i", "int": "i",
          "long": "i", "short": "i", "intp": "i", "uint8": "i", "uint16": "i", "uint32": "i", "uint64": "i",
          "bool": "b", "bool_": "b", "complex64": "c", "complex128": "c", "cfloat": "c", "cdouble": "c"}


def library_of(module_path: str | None) -> str | None:
    """The library a module path belongs to (``F`` and ``torch.special`` are ``torch``)."""
    return LIBRARIES.get(module_path) if module_path else None


@dataclass(frozen=True)
class DType:
    """A dtype written in an expression: ``torch.float32`` is ``DType("float32", "f")``."""

    name: str
    kind: str


def booleans(b: Builder) -> set:
    """The ids of the nodes of ``b`` that hold booleans (0/1 masks): comparisons and their
    logic. They are never differentiated, and as an index they select (``x[x > 0]``)."""
    return b.booleans


def boolean(b: Builder, t: Tracer) -> Tracer:
    booleans(b).add(t.id)
    return t


def is_boolean(b: Builder, t) -> bool:
    return isinstance(t, Tracer) and t.id in booleans(b)


def _nondiff_unary(op_name, fname=None):
    fname = fname or op_name

    def lower(b, args, kwargs, position):
        x = arguments(fname, args, kwargs, {"x": REQUIRED}, position)["x"]
        return b.apply(op_name, tensor(b, x, fname, position), position=position)
    return lower


for _name in ("sign", "floor", "ceil", "trunc"):
    FUNCTIONS[_name] = _nondiff_unary(_name)
FUNCTIONS["fix"] = _nondiff_unary("trunc", "fix")
for _name in ("isnan", "isinf", "isfinite"):
    FUNCTIONS[_name] = (lambda op: lambda b, args, kwargs, position: boolean(b, _nondiff_unary(op)(b, args, kwargs,
                                                                                                 position)))(_name)


@function("round", "around", "rint")
def _round(b, args, kwargs, position):
    a = arguments("round", args, kwargs, {"x": REQUIRED, "decimals": 0}, position)
    decimals = static_int(b, a["decimals"], "round decimals", position)
    return b.apply("round", tensor(b, a["x"], "round", position), decimals=decimals, position=position)


@function("frac")
def _frac(b, args, kwargs, position):
    # x - trunc(x): the derivative is 1, as PyTorch's
    x = tensor(b, arguments("frac", args, kwargs, {"x": REQUIRED}, position)["x"], "frac", position)
    return b.apply("sub", x, b.apply("trunc", x, position=position), position=position)


@function("logit")
def _logit(b, args, kwargs, position):
    # torch.logit(x, eps): x clamped to [eps, 1 - eps] first, the derivative 0 outside (as PyTorch)
    a = arguments("logit", args, kwargs, {"x": REQUIRED, "eps": None}, position)
    x = tensor(b, a["x"], "logit", position)
    eps = static(b, a["eps"], "logit eps", position)
    if eps is not None:
        if not isinstance(eps, (int, float)) or not 0 <= eps <= 0.5:
            raise JacValueError(f"logit(): eps must be a number in [0, 0.5], got {eps!r}", position)
        x = b.apply("clip", x, b.lift(float(eps)), b.lift(1.0 - eps), position=position)
    return b.apply("logit", x, position=position)


@function("polygamma")
def _polygamma(b, args, kwargs, position):
    a = arguments("polygamma", args, kwargs, {"n": REQUIRED, "x": REQUIRED}, position)
    n = static_int(b, a["n"], "polygamma order n", position)
    if n < 0:
        raise JacValueError(f"polygamma(): the order n must be >= 0, got {n}", position)
    x = tensor(b, a["x"], "polygamma", position)
    return b.apply("digamma", x, position=position) if n == 0 else b.apply("polygamma", x, n=n, position=position)


def _number(b, value, what, position) -> float:
    v = static(b, value, what, position)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise JacValueError(f"{what} must be a number, got {v!r}", position)
    return float(v)


def _gelu(default_approximate):
    def lower(b, args, kwargs, position):
        a = arguments("gelu", args, kwargs, {"x": REQUIRED, "approximate": default_approximate}, position)
        how = static(b, a["approximate"], "gelu approximate", position)
        if how not in ("none", "tanh", True, False):
            raise JacValueError(f"gelu(): approximate must be 'none' or 'tanh', got {how!r}", position)
        op = "gelu_tanh" if how in ("tanh", True) else "gelu"
        return b.apply(op, tensor(b, a["x"], "gelu", position), position=position)
    return lower


FUNCTIONS["gelu"] = _gelu(Static("none"))  # PyTorch's default: the exact erf form
LIBRARY_FUNCTIONS[("jax", "gelu")] = _gelu(True)  # jax.nn.gelu's default: the tanh approximation


@function("elu")
def _elu(b, args, kwargs, position):
    a = arguments("elu", args, kwargs, {"x": REQUIRED, "alpha": 1.0}, position)
    alpha = _number(b, a["alpha"], "elu alpha", position)
    return b.apply("elu", tensor(b, a["x"], "elu", position), alpha=alpha, position=position)


@function("selu")
def _selu(b, args, kwargs, position):
    x = tensor(b, arguments("selu", args, kwargs, {"x": REQUIRED}, position)["x"], "selu", position)
    return b.apply("elu", x, alpha=1.6732632423543772848170429916717,
                   scale=1.0507009873554804934193349852946, position=position)


@function("celu")
def _celu(b, args, kwargs, position):
    # celu(x, alpha) = alpha * elu(x / alpha, 1)
    a = arguments("celu", args, kwargs, {"x": REQUIRED, "alpha": 1.0}, position)
    alpha = _number(b, a["alpha"], "celu alpha", position)
    if alpha == 0:
        raise JacValueError("celu(): alpha must not be 0", position)
    x = tensor(b, a["x"], "celu", position)
    inner = b.apply("elu", b.apply("div", x, alpha, position=position), alpha=1.0, position=position)
    return b.apply("mul", alpha, inner, position=position)


@function("leaky_relu")
def _leaky_relu(b, args, kwargs, position):
    a = arguments("leaky_relu", args, kwargs, {"x": REQUIRED, "negative_slope": 0.01}, position)
    slope = _number(b, a["negative_slope"], "leaky_relu negative_slope", position)
    return b.apply("leaky_relu", tensor(b, a["x"], "leaky_relu", position), slope=slope, position=position)


def _hardtanh_lower(fname, lo_default, hi_default):
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "min_val": lo_default, "max_val": hi_default}, position)
        lo, hi = (_number(b, a[k], f"{fname} {k}", position) for k in ("min_val", "max_val"))
        if lo > hi:
            raise JacValueError(f"{fname}(): min_val ({lo}) must not be greater than max_val ({hi})", position)
        return b.apply("hardtanh", tensor(b, a["x"], fname, position), lo=lo, hi=hi, position=position)
    return lower


FUNCTIONS["hardtanh"] = FUNCTIONS["hard_tanh"] = _hardtanh_lower("hardtanh", -1.0, 1.0)
FUNCTIONS["relu6"] = _hardtanh_lower("relu6", 0.0, 6.0)  # PyTorch's relu6 is hardtanh(x, 0, 6)


def _one_bound(fname, side):
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, side: REQUIRED}, position)
        bound = a[side]
        lo, hi = (bound, math.inf) if side == "min" else (-math.inf, bound)
        return b.apply("clip", tensor(b, a["x"], fname, position), b.lift(lo), b.lift(hi), position=position)
    return lower


FUNCTIONS["clamp_min"] = _one_bound("clamp_min", "min")
FUNCTIONS["clamp_max"] = _one_bound("clamp_max", "max")
FUNCTIONS["float_power"] = _arithmetic("pow")  # computed in --dtype, as every value


@function("lerp")
def _lerp(b, args, kwargs, position):
    # start + weight * (end - start), as torch.lerp
    a = arguments("lerp", args, kwargs, {"x": REQUIRED, "end": REQUIRED, "weight": REQUIRED}, position)
    start, end, weight = (tensor(b, a[k], "lerp", position) for k in ("x", "end", "weight"))
    step = b.apply("mul", weight, b.apply("sub", end, start, position=position), position=position)
    return b.apply("add", start, step, position=position)


@function("div", "divide", "true_divide")
def _div(b, args, kwargs, position):
    # torch.div(a, b, rounding_mode='floor' | 'trunc'): rounded, so no derivative (as PyTorch)
    a = arguments("div", args, kwargs, {"x": REQUIRED, "y": REQUIRED, "rounding_mode": None}, position)
    x, y = tensor(b, a["x"], "div", position), tensor(b, a["y"], "div", position)
    mode = static(b, a["rounding_mode"], "rounding_mode", position)
    if mode is None:
        return b.apply("div", x, y, position=position)
    if mode == "floor":
        return b.apply("floor_divide", x, y, position=position)
    if mode == "trunc":
        return b.apply("trunc", b.apply("div", x, y, position=position), position=position)
    raise JacValueError(f"div(): rounding_mode must be None, 'floor' or 'trunc', got {mode!r}", position)


FUNCTIONS["floor_divide"] = _arithmetic("floor_divide")


# --- comparisons and selection: booleans are 0/1 masks that carry no derivative

def _comparison(op_name, swap=False):
    def lower(b, args, kwargs, position):
        x, y = _two(op_name, b, args, kwargs, position)
        return boolean(b, b.apply(op_name, *((y, x) if swap else (x, y)), position=position))
    return lower


for _names, _op, _swap in ((("gt", "greater"), "gt", False), (("ge", "greater_equal"), "ge", False),
                           (("lt", "less"), "lt", False), (("le", "less_equal"), "le", False),
                           (("eq",), "eq", False), (("ne", "not_equal"), "ne", False)):
    for _name in _names:
        FUNCTIONS[_name] = _comparison(_op, _swap)


def _all_equal(b, args, kwargs, position):
    # torch.equal(a, b) / a.equal(b): one boolean, True when the shapes and every element agree
    x, y = _two("equal", b, args, kwargs, position)
    if x.shape != y.shape:
        return boolean(b, b.const(0.0, position))
    same = b.apply("eq", x, y, position=position)
    return boolean(b, b.apply("prod", same, axes=tuple(range(x.ndim)), position=position))


# np.equal is element-wise, torch.equal one boolean for the whole arrays: the library decides
LIBRARY_FUNCTIONS[("numpy", "equal")] = _comparison("eq")
LIBRARY_FUNCTIONS[("torch", "equal")] = METHODS["equal"] = _all_equal
READINGS[("numpy", "equal")] = "element-wise, an array of booleans"
READINGS[("torch", "equal")] = "one boolean, True when the shapes and all elements agree"


def truth(b: Builder, x: Tracer, position) -> Tracer:
    """``x`` as a boolean: itself if it is one, else ``x != 0`` (NumPy's and PyTorch's truth)."""
    return x if is_boolean(b, x) else boolean(b, b.apply("ne", x, 0.0, position=position))


def logical(op: str, b: Builder, args: list, position) -> Tracer:
    """``and``/``or``/``xor``/``not`` of truth values, as 0/1 arithmetic (exact)."""
    m = [truth(b, a, position) for a in args]
    if op == "not":
        return boolean(b, b.apply("sub", 1.0, m[0], position=position))
    if op == "and":
        return boolean(b, b.apply("mul", m[0], m[1], position=position))
    if op == "or":
        return boolean(b, b.apply("maximum", m[0], m[1], position=position))
    return boolean(b, b.apply("ne", m[0], m[1], position=position))


def _logical(op, arity):
    def lower(b, args, kwargs, position):
        params = {"x": REQUIRED} if arity == 1 else {"x": REQUIRED, "y": REQUIRED}
        a = arguments(f"logical_{op}", args, kwargs, params, position)
        return logical(op, b, [tensor(b, a[k], f"logical_{op}", position) for k in params], position)
    return lower


for _op in ("and", "or", "xor"):
    FUNCTIONS[f"logical_{_op}"] = _logical(_op, 2)
FUNCTIONS["logical_not"] = _logical("not", 1)


@function("where")
def _where(b, args, kwargs, position):
    if len(args) + len(kwargs) == 1:
        raise JacValueError("where(condition) with one argument gives the indices of the True elements, whose "
                            "number depends on the values; jac supports where(condition, x, y)", position)
    a = arguments("where", args, kwargs, {"condition": REQUIRED, "x": REQUIRED, "y": REQUIRED}, position)
    c = truth(b, tensor(b, a["condition"], "where", position), position)
    return b.apply("where", c, tensor(b, a["x"], "where", position), tensor(b, a["y"], "where", position),
                   position=position)


@function("masked_fill")
def _masked_fill(b, args, kwargs, position):
    a = arguments("masked_fill", args, kwargs, {"x": REQUIRED, "mask": REQUIRED, "value": REQUIRED}, position)
    x = tensor(b, a["x"], "masked_fill", position)
    mask = tensor(b, a["mask"], "masked_fill", position)
    if not is_boolean(b, mask):
        raise JacValueError("masked_fill(): the mask must be a boolean (a comparison such as x > 0, or m.bool() of "
                            "a 0/1 array), as in PyTorch", position)
    out = b.apply("where", mask, tensor(b, a["value"], "masked_fill", position), x, position=position)
    if out.shape != x.shape:
        raise JacShapeError(f"masked_fill(): the mask {fmt(mask.shape)} must broadcast to the shape of the array "
                            f"{fmt(x.shape)}", position)
    return out


@function("nan_to_num")
def _nan_to_num(b, args, kwargs, position):
    # NaN -> nan, +inf -> posinf, -inf -> neginf (default: the largest finite numbers of the
    # dtype); the derivative is 0 where the value was not finite, as PyTorch.
    a = arguments("nan_to_num", args, kwargs, {"x": REQUIRED, "nan": 0.0, "posinf": None, "neginf": None}, position)
    x = tensor(b, a["x"], "nan_to_num", position)
    big = float(np.finfo(b.dtype).max)
    nan = _number(b, a["nan"], "nan_to_num nan", position)
    pos = big if a["posinf"] is None else _number(b, a["posinf"], "nan_to_num posinf", position)
    neg = -big if a["neginf"] is None else _number(b, a["neginf"], "nan_to_num neginf", position)
    infinite = b.apply("where", b.apply("gt", x, 0.0, position=position), pos, neg, position=position)
    fill = b.apply("where", b.apply("isnan", x, position=position), nan, infinite, position=position)
    return b.apply("where", b.apply("isfinite", x, position=position), x, fill, position=position)


# --- values as PyTorch and NumPy users write them

def as_dtype(b: Builder, x: Tracer, dtype, position) -> Tracer:
    """``x`` converted as ``dtype=`` asks: floats stay in --dtype (jac computes in one
    dtype), integers truncate toward 0 (as PyTorch's and NumPy's casts), bool is ``x != 0``."""
    if dtype is None:
        return x
    if isinstance(dtype, str) and dtype in DTYPES:  # dtype='float32', as NumPy takes it
        dtype = DType(dtype, DTYPES[dtype])
    if not isinstance(dtype, DType):
        raise JacValueError(f"dtype must be a dtype such as torch.float32 or np.float64, got {dtype!r}", position)
    if dtype.kind == "c":
        raise JacValueError(f"complex dtypes ({dtype.name}) are not supported by jac", position)
    if dtype.kind == "i":
        return x if is_boolean(b, x) else b.apply("trunc", x, position=position)
    if dtype.kind == "b":
        return truth(b, x, position)
    return x


_VALUE_KEYWORDS = ("dtype", "device", "requires_grad", "pin_memory", "copy", "order", "layout", "like", "ndmin")


def _value_options(b, kwargs: dict, fname, position):
    """Pops the options a constructor takes in PyTorch and NumPy; returns the dtype."""
    options = {k: kwargs.pop(k) for k in _VALUE_KEYWORDS if k in kwargs}
    device = static(b, options.get("device"), "device", position)
    if device not in (None, "cpu"):
        raise JacValueError(f"{fname}(): device={device!r}: jac computes on the CPU with NumPy", position)
    if static(b, options.get("requires_grad"), "requires_grad", position):
        raise JacValueError(f"{fname}(requires_grad=True): jac differentiates with respect to the inputs bound on "
                            "the command line (NAME=VALUE; --wrt chooses among them): drop requires_grad, and bind "
                            "a value to differentiate as an input", position)
    for key in ("layout", "like", "ndmin"):
        if key in options:
            raise JacValueError(f"{fname}(): the argument '{key}' is not supported by jac", position)
    dtype = options.get("dtype")
    return static(b, dtype, "dtype", position) if dtype is not None else None


def _is_dtype(value) -> bool:
    return isinstance(value, Static) and (isinstance(value.value, DType) or value.value in DTYPES)


def _with_dtype(fname, lower):
    def wrapped(b, args, kwargs, position):
        kwargs = dict(kwargs)
        dtypes = [a for a in args if _is_dtype(a)]  # np.zeros(3, 'float32'), np.arange(3, dtype): positional
        if dtypes and "dtype" not in kwargs:
            kwargs["dtype"] = dtypes[-1]
        args = [a for a in args if not _is_dtype(a)]
        dtype = _value_options(b, kwargs, fname, position)
        return as_dtype(b, lower(b, args, kwargs, position), dtype, position)
    return wrapped


for _name in ("arange", "linspace", "eye", "ones", "zeros", "full", "rand", "randn"):
    FUNCTIONS[_name] = _with_dtype(_name, FUNCTIONS[_name])


def _value_of(fname, detach):
    """``torch.tensor(v)`` and ``np.array(v)``: a list is a constant; of an expression of the
    inputs, ``torch.tensor`` is a detached copy (as PyTorch, which warns), the others the
    value itself (``torch.as_tensor``, ``np.asarray``, ``np.array``)."""
    def lower(b, args, kwargs, position):
        kwargs = dict(kwargs)
        dtype = _value_options(b, kwargs, fname, position)
        x = tensor(b, arguments(fname, args, kwargs, {"data": REQUIRED}, position)["data"], fname, position)
        if detach and b.nodes[x.id].op != "const":
            x = boolean(b, b.apply("detach", x, position=position)) if is_boolean(b, x) else \
                b.apply("detach", x, position=position)
        return as_dtype(b, x, dtype, position)
    return lower


FUNCTIONS["tensor"] = _value_of("tensor", True)
for _name in ("as_tensor", "asarray", "array", "from_numpy", "asanyarray", "ascontiguousarray"):
    FUNCTIONS[_name] = _value_of(_name, False)


def _like(fname, fill):
    def lower(b, args, kwargs, position):
        kwargs = dict(kwargs)
        dtype = _value_options(b, kwargs, fname, position)
        params = {"x": REQUIRED} if fill is not None else {"x": REQUIRED, "fill_value": REQUIRED}
        a = arguments(fname, args, kwargs, params, position)
        x = tensor(b, a["x"], fname, position)
        value = fill if fill is not None else _number(b, a["fill_value"], f"{fname} fill_value", position)
        _checked(b, x.shape, fname, position)
        if not is_concrete(x.shape):
            raise JacShapeError(f"{fname}() needs concrete sizes, but {fmt(x.shape)} is symbolic", position)
        return as_dtype(b, b.const(np.full(x.shape, value, dtype=b.dtype), position), dtype, position)
    return lower


FUNCTIONS["zeros_like"] = _like("zeros_like", 0.0)
FUNCTIONS["ones_like"] = _like("ones_like", 1.0)
FUNCTIONS["full_like"] = _like("full_like", None)


def _identity(fname):
    def lower(b, args, kwargs, position):
        return tensor(b, arguments(fname, args, kwargs, {"x": REQUIRED}, position)["x"], fname, position)
    return lower


# x.clone() / x.copy() keep the derivative (as PyTorch's clone); x.float() / x.double() do too,
# and the value stays in --dtype: jac computes in one dtype (--dtype float32 for PyTorch's float).
for _name in ("clone", "copy", "float", "double", "contiguous", "cpu"):
    FUNCTIONS[_name] = _identity(_name)
FUNCTIONS["bool"] = lambda b, args, kwargs, position: truth(b, _identity("bool")(b, args, kwargs, position), position)
FUNCTIONS["int"] = FUNCTIONS["long"] = lambda b, args, kwargs, position: b.apply(
    "trunc", _identity("int")(b, args, kwargs, position), position=position)


@function("detach", "stop_gradient")
def _detach(b, args, kwargs, position):
    # a constant with the value of x: its derivative is 0, as PyTorch's x.detach()
    x = tensor(b, arguments("detach", args, kwargs, {"x": REQUIRED}, position)["x"], "detach", position)
    return b.apply("detach", x, position=position)


@function("item")
def _item(b, args, kwargs, position):
    # a Python number in PyTorch: a constant (derivative 0), from an array of one element
    x = tensor(b, arguments("item", args, kwargs, {"x": REQUIRED}, position)["x"], "item", position)
    if not is_concrete(x.shape) or _numel(x, position) != 1:
        raise JacValueError(f"item() needs an array of one element, got shape {fmt(x.shape)}", position)
    return b.apply("detach", b.apply("reshape", x, shape=(), position=position), position=position)



FUNCTIONS["sgn"] = FUNCTIONS["sign"]


def _scaled(fname, factor):
    def lower(b, args, kwargs, position):
        x = tensor(b, arguments(fname, args, kwargs, {"x": REQUIRED}, position)["x"], fname, position)
        return b.apply("mul", x, factor, position=position)
    return lower


FUNCTIONS["deg2rad"] = FUNCTIONS["radians"] = _scaled("deg2rad", math.pi / 180)
FUNCTIONS["rad2deg"] = FUNCTIONS["degrees"] = _scaled("rad2deg", 180 / math.pi)


@function("ndtr")
def _ndtr(b, args, kwargs, position):
    # the standard normal CDF: erfc(-x / √2) / 2
    x = tensor(b, arguments("ndtr", args, kwargs, {"x": REQUIRED}, position)["x"], "ndtr", position)
    inner = b.apply("erfc", b.apply("mul", x, -1 / math.sqrt(2.0), position=position), position=position)
    return b.apply("mul", 0.5, inner, position=position)


@function("tanhshrink")
def _tanhshrink(b, args, kwargs, position):
    x = tensor(b, arguments("tanhshrink", args, kwargs, {"x": REQUIRED}, position)["x"], "tanhshrink", position)
    return b.apply("sub", x, b.apply("tanh", x, position=position), position=position)


def _shrink(fname, soft):
    # |x| <= lambd: 0 (and derivative 0 at ±lambd, as PyTorch); outside: x, or x ∓ lambd
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "lambd": 0.5}, position)
        x = tensor(b, a["x"], fname, position)
        lambd = _number(b, a["lambd"], f"{fname} lambd", position)
        above, below = b.apply("gt", x, lambd, position=position), b.apply("lt", x, -lambd, position=position)
        hi = b.apply("sub", x, lambd, position=position) if soft else x
        lo = b.apply("add", x, lambd, position=position) if soft else x
        return b.apply("where", above, hi, b.apply("where", below, lo, 0.0, position=position), position=position)
    return lower


FUNCTIONS["softshrink"] = _shrink("softshrink", True)
FUNCTIONS["hardshrink"] = _shrink("hardshrink", False)


@function("threshold")
def _threshold(b, args, kwargs, position):
    # F.threshold(x, threshold, value): x where x > threshold, else value
    a = arguments("threshold", args, kwargs, {"x": REQUIRED, "threshold": REQUIRED, "value": REQUIRED}, position)
    x = tensor(b, a["x"], "threshold", position)
    above = b.apply("gt", x, _number(b, a["threshold"], "threshold", position), position=position)
    return b.apply("where", above, x, _number(b, a["value"], "threshold value", position), position=position)


def _torch_softplus(b, args, kwargs, position):
    # F.softplus(x, beta=1, threshold=20): log(1 + exp(beta x)) / beta, and x itself where beta x > threshold
    a = arguments("softplus", args, kwargs, {"x": REQUIRED, "beta": 1.0, "threshold": 20.0}, position)
    x = tensor(b, a["x"], "softplus", position)
    beta, threshold = (_number(b, a[k], f"softplus {k}", position) for k in ("beta", "threshold"))
    if beta == 0:
        raise JacValueError("softplus(): beta must not be 0", position)
    bx = b.apply("mul", x, beta, position=position)
    smooth = b.apply("div", b.apply("softplus", bx, position=position), beta, position=position)
    return b.apply("where", b.apply("gt", bx, threshold, position=position), x, smooth, position=position)


LIBRARY_FUNCTIONS[("torch", "softplus")] = _torch_softplus  # jax.nn.softplus and the bare name: no threshold


# --- methods whose arguments differ from the function's

def _method_where(b, args, kwargs, position):
    # Tensor.where(condition, y): x where condition, else y
    a = arguments("where", args, kwargs, {"x": REQUIRED, "condition": REQUIRED, "y": REQUIRED}, position)
    return _where(b, [a["condition"], a["x"], a["y"]], {}, position)


def _method_polygamma(b, args, kwargs, position):
    # Tensor.polygamma(n)
    a = arguments("polygamma", args, kwargs, {"x": REQUIRED, "n": REQUIRED}, position)
    return _polygamma(b, [a["n"], a["x"]], {}, position)


def _method_to(b, args, kwargs, position):
    # x.to(dtype) / x.to(device) / x.to(dtype=...): the value, converted as dtype= says
    kwargs = dict(kwargs)
    x, rest = (args[0], list(args[1:])) if args else (kwargs.pop("x", None), [])
    for value in rest:
        kwargs.setdefault("dtype" if isinstance(value, Static) and isinstance(value.value, DType) else "device", value)
    dtype = _value_options(b, kwargs, "to", position)
    if kwargs:
        raise JacValueError(f"to(): the argument '{next(iter(kwargs))}' is not supported by jac", position)
    return as_dtype(b, tensor(b, x, "to", position), dtype, position)


METHODS["where"] = _method_where
METHODS["polygamma"] = _method_polygamma
METHODS["to"] = _method_to
FUNCTIONS["numpy"] = _identity("numpy")  # x.detach().numpy()
FUNCTIONS["fabs"] = FUNCTIONS["abs"]
FUNCTIONS["positive"] = _identity("positive")


@function("type_as")
def _type_as(b, args, kwargs, position):
    # x.type_as(y): x in y's dtype, which is --dtype already
    a = arguments("type_as", args, kwargs, {"x": REQUIRED, "other": REQUIRED}, position)
    tensor(b, a["other"], "type_as", position)
    return tensor(b, a["x"], "type_as", position)


def _addc_lower(fname, op):
    # torch.addcmul(input, t1, t2, value=1) = input + value * t1 * t2 (addcdiv: t1 / t2)
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "tensor1": REQUIRED, "tensor2": REQUIRED, "value": 1.0},
                      position)
        x, t1, t2 = (tensor(b, a[k], fname, position) for k in ("x", "tensor1", "tensor2"))
        term = b.apply(op, t1, t2, position=position)
        value = _number(b, a["value"], f"{fname} value", position)
        if value != 1.0:
            term = b.apply("mul", value, term, position=position)
        return b.apply("add", x, term, position=position)
    return lower


FUNCTIONS["addcmul"] = _addc_lower("addcmul", "mul")
FUNCTIONS["addcdiv"] = _addc_lower("addcdiv", "div")


def _boolean_reduction(fname):
    # all: the product of the truth values; any: 1 - the product of their negations (an empty
    # group: all True, any False, as NumPy and PyTorch)
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "axis": None, "keepdims": False}, position)
        m = truth(b, tensor(b, a["x"], fname, position), position)
        axes = axes_of(b, a["axis"], m, position, fname)
        keepdims = bool(static(b, a["keepdims"], "keepdims", position))
        if fname == "any":
            m = b.apply("sub", 1.0, m, position=position)
        out = b.apply("prod", m, axes=axes, keepdims=keepdims, position=position)
        return boolean(b, b.apply("sub", 1.0, out, position=position) if fname == "any" else out)
    return lower


FUNCTIONS["all"] = _boolean_reduction("all")
FUNCTIONS["any"] = _boolean_reduction("any")


@function("count_nonzero")
def _count_nonzero(b, args, kwargs, position):
    a = arguments("count_nonzero", args, kwargs, {"x": REQUIRED, "axis": None, "keepdims": False}, position)
    x = tensor(b, a["x"], "count_nonzero", position)
    axes = axes_of(b, a["axis"], x, position, "count_nonzero")
    keepdims = bool(static(b, a["keepdims"], "keepdims", position))
    mask = b.apply("ne", x, 0.0, position=position)
    return b.apply("sum", mask, axes=axes, keepdims=keepdims, position=position)


def _signed_infinity(fname, positive):
    def lower(b, args, kwargs, position):
        x = tensor(b, arguments(fname, args, kwargs, {"x": REQUIRED}, position)["x"], fname, position)
        side = b.apply("gt" if positive else "lt", x, 0.0, position=position)
        return boolean(b, b.apply("mul", b.apply("isinf", x, position=position), side, position=position))
    return lower


FUNCTIONS["isposinf"] = _signed_infinity("isposinf", True)
FUNCTIONS["isneginf"] = _signed_infinity("isneginf", False)
FUNCTIONS["soft_sign"] = FUNCTIONS["softsign"]  # jax.nn's spellings
FUNCTIONS["hard_silu"] = FUNCTIONS["hardswish"]
FUNCTIONS["signbit"] = lambda b, args, kwargs, position: boolean(b, _nondiff_unary("signbit")(b, args, kwargs, position))


@function("heaviside")
def _heaviside(b, args, kwargs, position):
    # 0 where x < 0, values where x == 0, 1 where x > 0 (np.heaviside(x, values), torch.heaviside)
    a = arguments("heaviside", args, kwargs, {"x": REQUIRED, "values": REQUIRED}, position)
    x, values = tensor(b, a["x"], "heaviside", position), tensor(b, a["values"], "heaviside", position)
    at_zero = b.apply("where", b.apply("eq", x, 0.0, position=position), values, 0.0, position=position)
    return b.apply("where", b.apply("gt", x, 0.0, position=position), 1.0, at_zero, position=position)


def _math_remainder(b, args, kwargs, position):
    raise JacValueError("math.remainder is IEEE's remainder (x - n y with n the integer nearest x / y), which jac "
                        "does not have; torch.remainder, np.remainder and % take the sign of the divisor, "
                        "torch.fmod and np.fmod that of the dividend", position)


LIBRARY_FUNCTIONS[("math", "remainder")] = _math_remainder  # not Python's %: refused, never answered otherwise
