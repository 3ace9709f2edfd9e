"""The functions a user may call, and how each becomes ops of the graph.

Each entry takes ``(builder, args, kwargs, position)``: ``args`` are tracers (constants
already folded), ``None`` or :class:`Static` values. Static arguments (axes, shapes,
sizes) must be constants and are read off their folded value. NumPy and PyTorch
spellings both work: ``axis``/``dim``, ``keepdims``/``keepdim``, ``clip``/``clamp``.
"""

from __future__ import annotations

from contextlib import contextmanager
import math
import string
from dataclasses import dataclass

import numpy as np

from ..errors import JacError, JacNameError, JacParseError, JacShapeError, JacValueError, did_you_mean
from ..ir import dtypes
from ..ir.graph import Builder, Tracer
from ..ir.ops import ASYMMETRY, OPS
from ..ir.refusals import refusal, refused
from ..ir.shapes import broadcast, check_rank, fmt, is_concrete, normalize_axes, normalize_axis

FUNCTIONS: dict = {}
CONSTANTS = {"pi": math.pi, "e": math.e, "inf": math.inf, "nan": math.nan}
MODULES = {"torch", "np", "numpy", "jnp", "math", "F", "torch.linalg", "np.linalg", "numpy.linalg",
           "jnp.linalg", "torch.nn.functional", "torch.special", "jax.nn", "jax.numpy", "scipy.special",
           "jax.numpy.linalg", "jax.scipy.special", "jax.scipy.linalg", "jax.lax", "lax", "np.random", "numpy.random",
           "scipy.linalg", "torch.fft", "np.fft", "numpy.fft", "jnp.fft", "jax.numpy.fft", "scipy.fft",
           "nn", "torch.nn", "nn.functional"}  # np.random.rand(3), np.random.randn(2, 3): seeded by --seed as rand/randn
CONSTRUCTORS = ("arange", "linspace", "ones", "zeros", "full", "eye", "rand", "randn")


def input_not_constant(b, value) -> str:
    """What to add when a constant was needed and an input came: an input's value may change from call to
    call of the one compiled expression, so indices, axes and sizes cannot be read off it."""
    node = b.nodes[value.id] if isinstance(value, Tracer) else None
    if node is None or node.op != "input":
        return ""
    return (f"; '{node.name}' is an input (one compiled expression serves every value of it): write its value "
            f"into the expression instead")


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
           "a_min": "min", "a_max": "max", "dims": "axes", "exponent": "y", "other": "y"}  # torch.add(x, other=y)
# where a function names its operands a and b (isclose): PyTorch's input= and other= are those
SECOND_ALIASES = {"input": "a", "other": "b"}


# torch.nn.functional's functions whose last positional parameter is ``inplace``, at that position: F.relu(x, True)
# is F.relu(x, inplace=True); the lowering computes the result, and the parser writes it into the argument's name
# (parser._Lowering.changed_in_place, as PyTorch writes it into the argument's buffer)
INPLACE_AT = {"relu": 1, "relu6": 1, "selu": 1, "silu": 1, "mish": 1, "hardswish": 1, "hardsigmoid": 1, "elu": 2,
              "celu": 2, "leaky_relu": 2, "hardtanh": 3, "threshold": 3, "dropout": 3, "dropout1d": 3,
              "dropout2d": 3, "dropout3d": 3, "alpha_dropout": 3, "feature_alpha_dropout": 3, "rrelu": 4}


def in_place_flag(fname: str | None, args: list, kwargs: dict):
    """The value given for ``inplace`` (by keyword, or at :data:`~.functions.INPLACE_AT`'s position) of a call of
    ``fname`` with lowered ``args`` and ``kwargs``: True, False, another value, or None where none is given."""
    flag = kwargs.get("inplace")
    at = INPLACE_AT.get(fname)
    if flag is None and at is not None and len(args) == at + 1:
        flag = args[at]
    return flag.value if type(flag) is Static else flag


def in_place_value(flag, what: str, position: int, b: Builder | None = None):
    """``flag`` (what :func:`in_place_flag` read) as the call follows it: True (a write into the argument), False or
    None (none); a number or a string known when the text is read by its truth, as PyTorch's ``if inplace:`` reads
    it (``F.relu6(x, 1)``); any other value (a tensor's truth, a value of the inputs) refused, as jac cannot tell
    when reading the text whether PyTorch writes: session 55, such a flag was read as no flag, silently
    (``F.relu(t, inplace=bool(x[0] > 0))`` beside ``z = t``). ``b``: the builder whose constants are read."""
    if flag is None or type(flag) is bool:
        return flag
    if type(flag) in (int, float, str):
        return bool(flag)
    if type(flag) is Tracer and b is not None and not flag.ndim and b.nodes[flag.id].op == "const":
        return bool(np.asarray(b.nodes[flag.id].value))
    kind = "an array (a tensor's truth, a value of the inputs)" if isinstance(flag, Tracer) \
        else f"the {type(flag).__name__} {str(flag)[:40]!r}"
    raise JacValueError(f"{what}(...): inplace= is given {kind}; jac follows inplace= where it holds True or False "
                        f"when the text is read (written so, or a name, parameter, attribute or **kwargs holding "
                        f"one): write inplace=True or inplace=False", position)


def _close_argument(typed: str, params) -> str:
    """``; did you mean 'dim'?`` for an argument name close to one the function takes, in NumPy's or PyTorch's
    spelling (``dims`` → ``dim``, ``keepdim`` spelled ``keep_dim``)."""
    spellings = list(params) + [k for k, v in ALIASES.items() if v in params]
    return did_you_mean(typed, spellings)


def arguments(fname, args, kwargs, params, position):
    """Match positional and keyword arguments to ``params`` (name -> default)."""
    names = list(params)
    if len(args) == len(names) + 1 and INPLACE_AT.get(fname) == len(names):  # F.relu(x, True): inplace, dropped
        args = args[:-1]
    if len(args) > len(names):
        raise JacParseError(f"{fname}() takes at most {len(names)} argument(s), got {len(args)}", position)
    bound, named = dict(zip(names, args)), {}
    for key, value in kwargs.items():
        typed = key
        if key not in params:  # torch's dim= is NumPy's axis=, ...; a name the function has is its own
            alias = ALIASES.get(key, key)
            key = alias if alias in params or SECOND_ALIASES.get(key) not in params else SECOND_ALIASES[key]
        if key == "inplace" and key not in params:  # F.relu(x, inplace=True): the parser writes it (see INPLACE_AT)
            continue
        if key not in params and typed == "out":  # torch.sum(x, 0, out=buf), np.exp(x, out=None): session 52
            raise JacParseError(f"{fname}(): out= writes the result into an array given, which jac does not do: drop "
                                "out= and use the value the call returns (y = f(x), not f(x, out=y))", position)
        if key not in params:  # named as the caller typed it (dims=, not the alias axes), with the close name
            raise JacParseError(f"{fname}() has no argument '{typed}' (it takes {', '.join(names)})"
                                f"{_close_argument(typed, params)}", position)
        if key in bound:  # named as typed (torch.sum(x, 0, dim=0) said 'axis', torch.sum(x, input=x) said 'x')
            how = "by position and by name" if names.index(key) < len(args) else \
                f"by two names ('{named[key]}' and '{typed}')"
            raise JacParseError(f"{fname}() got multiple values for argument '{typed}' (Python's TypeError): it is "
                                f"given twice, {how}", position)
        bound[key], named[key] = value, typed
    for key, default in params.items():
        if key not in bound:
            if default is REQUIRED:
                raise JacParseError(f"{fname}() is missing its argument '{key}'", position)
            bound[key] = default
    return bound


REQUIRED = object()


def static(b: Builder, value, what: str, position):
    """The Python value of a constant argument (an int, a tuple of ints, a float...)."""
    if value is None or isinstance(value, (int, float, bool, str)) or type(value) is tuple:
        return value  # already a Python value (a default)
    if isinstance(value, Static):
        return value.value
    if isinstance(value, Items):
        raise JacValueError(f"{what} must be a constant, not a list of arrays", position)
    if not hasattr(value, "id"):  # ``...`` or another literal that is no value
        raise JacValueError(f"{what} must be a constant number, not {value!r}", position)
    node = b.nodes[value.id]
    if node.op != "const":
        found = run_time_int(b, value, what, position)
        if found is not None:
            return found
        raise JacValueError(f"{what} must be a constant, not an expression of the inputs"
                            f"{input_not_constant(b, value)}", position)
    v = node.value
    if isinstance(v, np.ndarray):
        return v.item() if v.ndim == 0 else tuple(v.tolist())
    return v


# a read where JAX takes a tracer (x[i], x.at[i], dynamic_slice's starts, jnp.roll's shift): recorded in the
# parser's value_tests (jac reads the index at the given values) but refused by no trace (lang/whiles.py)
DYNAMIC = "dynamic"


@contextmanager
def reads_as(b, kind: str = DYNAMIC):
    """The int reads recorded inside the block (``b.lowering.value_tests``), the block raising or not (jac shape's
    NeedsValues is retried with the values), as ``kind``: :data:`DYNAMIC` for a call that JAX takes a tracer at,
    or what JAX raises at it (lang/whiles.py's READS)."""
    before = None if b.lowering is None else len(b.lowering.value_tests)
    try:
        yield
    finally:
        if before is not None:
            tests = b.lowering.value_tests
            tests[before:] = [(i, at, kind if k == "int" else k) for i, at, k in tests[before:]]


def record_read(b, x, position, kind: str) -> None:
    """Record a Python read of ``x``'s value (``kind``: lang/whiles.py's READS) where ``x`` is no constant: a trace
    of JAX (jit, vmap, a loop's body; float() and np.asarray under its derivatives too) raises there."""
    if b.lowering is not None and isinstance(x, Tracer) and (b.nodes[x.id].op != "const"
                                                             or x.id in getattr(b.lowering, "jax_made", ())):
        b.lowering.value_tests.append((x.id, position, kind))  # a JAX array made inside jax.jit is a tracer there


def run_time_int(b, value, what: str, position) -> int | None:
    """The Python int of one integer computed from the inputs' values (``int((x > 0).sum())``,
    ``t.argmax().item()``, an integer 0-d tensor), read at the given values as PyTorch's eager mode and
    NumPy read it where a Python int is needed (``range(k)``, ``x[k]``, a size): the graph then holds for
    those values only (``b.lowering.value_of`` marks it ``by_value``); no derivative flows through an
    integer, in jac as in the libraries. None for anything else (a float, a boolean, an array)."""
    kind = dtypes.kind_of(b, value.id) if isinstance(value, Tracer) else None
    if kind is None or kind[0].kind not in "iu" or value.shape != () or b.lowering is None:
        return None
    message = (f"{what} read off the inputs' values (an integer computed from them, as int(t) or t.item()): jac "
               "takes it at the given values, as PyTorch runs it, and the result holds for those values only (jac "
               "eval, vjp, jvp, hessian, check compute it; jac shape, jac diff and a compiled function cannot)")
    b.lowering.value_tests.append((value.id, position, "int"))  # jax.vmap / jit raise (ConcretizationTypeError)
    return int(np.asarray(b.lowering.value_of(value, position, message=message)))


def _is_integer(v) -> bool:
    """An int, or a float with an integer value; never inf or NaN (``int()`` would raise)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    return isinstance(v, int) or (math.isfinite(v) and v.is_integer())


def written_as_sequence(b, value) -> bool:
    """Whether an argument is a list or tuple display made a constant (``(0, 1)``, ``[0.5, 2.0]``) that no
    ``torch.tensor`` / ``np.asarray`` took: where PyTorch needs a tensor it raises TypeError at a tuple."""
    return isinstance(value, Tracer) and value.id in b.displays


def refuse_torch_sequence(b, value, what: str, fname: str, position) -> None:
    """PyTorch's TypeError for a list or tuple where its function needs a tensor (``torch.isin(x, (0, 1))``,
    ``torch.searchsorted(s, [0.5])``: "received an invalid combination of arguments - got (Tensor, tuple)")."""
    if b.library in ("torch", "method") and written_as_sequence(b, value):
        raise JacValueError(f"torch.{fname}: {what} must be a tensor, not a list or tuple (PyTorch raises TypeError: "
                            "it takes no list or tuple there; wrap it in torch.tensor(...))", position)


def written_as_float(b, value) -> bool:
    """Whether a constant argument is written as a float literal (``1.0``, ``-1.0``, ``(0, 1.0)``,
    ``Builder.floats``). Only literals are judged: a float jac computed from integers (``max(2, 1)``, folded in
    --dtype) is not, nor a default."""
    return isinstance(value, Tracer) and value.id in b.floats


# the integer arguments (the last word of what static_int names them) where the library named raises TypeError at a
# float literal even of a whole value: every one of PyTorch's (its argument parser: "argument 'dim' must be tuple of
# ints, not float"; TORCH_INTEGERS names them for a method, read as PyTorch's but ndarray.repeat);
# NumPy's C functions and ndarray's methods (operator.index: "'float' object cannot be interpreted as an integer").
# NumPy's Python-level functions that call int() (np.roll, np.tile, np.rot90, np.diff, np.tril, np.repeat,
# np.linalg.norm's axis) take a whole float, as jac does; a method's repeats too (ndarray.repeat(2.0) answers)
TORCH_INTEGERS = frozenset(("axis", "dim", "dims", "axes", "k", "n", "offset", "size", "sizes", "shape", "shifts",
                            "reps", "tile", "repeats", "diagonal", "split", "chunks", "dimension", "start", "length",
                            "step", "decimals", "kth", "source", "destination", "groups", "padding_idx",
                            "num_classes", "bins", "minlength", "kernel_size", "stride", "output_size", "dilation"))
NUMPY_INTEGERS = frozenset(("axis", "dim", "dims", "axes", "decimals", "power", "N", "offset", "kth"))
METHOD_INTEGERS = TORCH_INTEGERS - {"repeats"}
NUMPY_INT_CALLING = ("norm",)  # np.linalg.norm(x, axis=1.0) answers: it calls int(axis)
# NumPy's functions that raise at a float literal in one more of their integers (session 43): np.diag's k
# (operator.index), np.resize's and np.broadcast_to's shape, np.linalg.tensorinv's ind (a slice bound); np.diff's n
# raises unless 0 (_diff), np.tile's reps unless all 1 (_tile_fn)
NUMPY_CALL_INTEGERS = {"diag": frozenset(("diagonal",)),
                       "resize": frozenset(("new_shape",)), "broadcast_to": frozenset(("shape",)),
                       "tensorinv": frozenset(("ind",))}


def _method_is_torch(b) -> bool:
    """A method no ndarray has (``x.matrix_power(2)``, ``x.repeat_interleave(2)``, ``x.logcumsumexp(0)``): only
    PyTorch's tensor takes it, so its arguments are read as PyTorch reads them."""
    call = b.call or ""
    return b.library == "method" and call.startswith(".") and not hasattr(np.ndarray, call.strip(".()"))


def _refuse_float(b, value, what, position) -> None:
    """A float literal where an integer is needed (``x.sum(1.0)``, ``x.reshape(2.0, 3)``), refused where the library
    named raises TypeError (:data:`TORCH_INTEGERS`, :data:`NUMPY_INTEGERS`, :data:`METHOD_INTEGERS`)."""
    if not written_as_float(b, value):
        return
    word = what.rsplit(" ", 1)[-1].rsplit("'s", 1)[-1].strip()
    library, call = ("torch" if _method_is_torch(b) else b.library), b.call or ""
    numpy = call.startswith(("np.", "numpy."))
    refused = TORCH_INTEGERS if library == "torch" else METHOD_INTEGERS if library == "method" else \
        NUMPY_INTEGERS | NUMPY_CALL_INTEGERS.get(call.rsplit(".", 1)[-1], frozenset()) \
        if numpy and not call.endswith(NUMPY_INT_CALLING) else ()
    if word in refused or library == "torch":  # PyTorch's argument parser takes no float for an int
        v = static(b, value, what, position)
        said = f"PyTorch raises TypeError: argument '{word}' must be int, not float" if library == "torch" else \
            "the libraries raise TypeError: 'float' object cannot be interpreted as an integer"
        raise JacValueError(f"{what} must be an integer, not the float {v!r} ({said})", position)


def static_int(b, value, what, position) -> int:
    v = static(b, value, what, position)
    if not _is_integer(v):
        raise JacValueError(f"{what} must be an integer, got {v!r}", position)
    _refuse_float(b, value, what, position)
    return int(v)


def static_ints(b, value, what, position) -> tuple:
    if isinstance(value, Items) and all(isinstance(e, Tracer) and not e.ndim for e in value):  # (n, 3), n of the
        return tuple(static_int(b, e, what, position) for e in value)  # inputs' values: each read, as int(n)
    v = static(b, value, what, position)
    items = v if isinstance(v, tuple) else (v,)
    if not all(_is_integer(i) for i in items):
        raise JacValueError(f"{what} must be integers, got {v!r}", position)
    _refuse_float(b, value, what, position)
    return tuple(int(i) for i in items)


# NumPy's reductions written in Python that read keepdims by its truth (np.argmax(x, keepdims=None) answers); its
# other reductions pass it to C, which refuses None, a string or a float (keepdims_of)
NUMPY_TRUTHY_KEEPDIMS = frozenset(("argmax", "argmin", "nanargmax", "nanargmin", "median", "nanmedian", "percentile",
                                   "quantile", "nanpercentile", "nanquantile", "vector_norm"))


def keepdims_of(b, value, position, what: str = "keepdims", kwargs=None) -> bool:
    """A reduction's ``keepdims`` / ``keepdim`` as the library named reads it: PyTorch's must be a bool
    (``keepdim=1`` is its TypeError "argument 'keepdim' must be bool, not int"); NumPy's C reductions pass it
    through ``operator.index``, so an int is read as its truth and None, a float or a string raise TypeError;
    those in :data:`NUMPY_TRUTHY_KEEPDIMS` read its truth. A method (``x.sum(keepdims=1)``) is read as NumPy's C
    reductions read it, unless spelled ``keepdim=`` (``kwargs``, the call's keywords as written): no ndarray method
    takes that name, PyTorch's do."""
    if isinstance(value, bool):
        return value
    v = static(b, value, what, position)
    torch = b.library == "torch" or b.library == "method" and kwargs is not None and "keepdim" in kwargs
    if not torch and (b.call or "").rsplit(".", 1)[-1] in NUMPY_TRUTHY_KEEPDIMS:
        return bool(v)
    floating = written_as_float(b, value)
    if isinstance(v, (int, float)) and not floating and not torch:
        return bool(v)
    found = "None" if v is None else f"the float {v!r}" if floating else \
        f"the int {int(v)}" if isinstance(v, (int, float)) else repr(v)
    raise JacValueError(f"{what} must be True or False, not {found} ("
                        + ("PyTorch raises TypeError: argument 'keepdim' must be bool)" if torch else
                           "NumPy raises TypeError: it must be an integer)"), position)


def shape_ints(b, value, what, position) -> tuple:
    """:func:`static_ints` of a shape's sizes (``jnp.ones(n)``, ``x.reshape(n, -1)``, ``jnp.eye(n)``): a traced size
    there is JAX's TypeError (Shapes must be 1D sequences of concrete values of integer type), lang/whiles.py's
    "shape" read, not the ConcretizationTypeError of other integers."""
    with reads_as(b, "shape"):
        return static_ints(b, value, what, position)


def shape_int(b, value, what, position) -> int:
    """:func:`static_int` of one size of a shape (``jnp.eye(n)``), as :func:`shape_ints` reads it."""
    with reads_as(b, "shape"):
        return static_int(b, value, what, position)


def tensor(b: Builder, value, fname, position) -> Tracer:
    """``value`` as one array: a list of arrays given to a NumPy function is the array NumPy makes of it
    (``np.sum([x, y], axis=0)``, ``np.any([x > 0, x < -1], axis=0)``: np.asarray stacks them, as ``np.array``);
    PyTorch's and JAX's functions refuse a list (``jnp.sum([x, y])`` is JAX's TypeError)."""
    if value is None or isinstance(value, Static):
        raise JacValueError(f"{fname}() needs an array argument here", position)
    if isinstance(value, Items) and (b.call or "").startswith(("np.", "numpy.")):
        return _nested(b, value, fname, False, position)
    if isinstance(value, Items):
        raise JacValueError(f"{fname}() needs one array here, not a list or tuple of arrays (make one with "
                            "stack([...]) or cat([...]), or index it: parts[0])", position)
    return b.lift(Refused.check(value, position))


# NumPy's functions that refuse an axis of a 0-d array (np.mean(s, axis=0) is AxisError: "axis 0 is out of bounds
# for array of dimension 0"); its ufunc reductions (np.sum, np.max, np.cumsum, ...) take axis 0 or -1 there, as
# PyTorch's functions do (shapes.normalize_axis)
NUMPY_0D_AXIS_RAISES = frozenset(("mean", "var", "std", "average", "median", "nanmedian", "sort", "flip", "rollaxis",
                                  "trim_zeros", "norm", "vector_norm"))


def refuse_numpy_0d_axis(b, value, ndim: int, position) -> None:
    """NumPy's AxisError for an axis of a 0-d array, in the functions of :data:`NUMPY_0D_AXIS_RAISES`."""
    call = b.call or ""
    if ndim == 0 and value is not None and call.startswith(("np.", "numpy.")) and \
            call.rsplit(".", 1)[-1] in NUMPY_0D_AXIS_RAISES:
        shown = static(b, value, "axis", position)
        shown = int(shown) if isinstance(shown, float) and shown.is_integer() else shown
        raise JacShapeError(f"{call}: axis {shown} is out of bounds for array of dimension 0 (NumPy raises "
                            "AxisError: this function takes no axis of a 0-d array)", position)


def _refuse_0d_axis_given(b, args, kwargs, default, position) -> None:
    """:func:`refuse_numpy_0d_axis` of a call's axis (its second positional argument or ``axis=``, else
    ``default``), for the lowerings that read a 0-d array as shape (1,) before any axis is read."""
    value = args[1] if len(args) > 1 else kwargs.get("axis", default)
    refuse_numpy_0d_axis(b, value, 0, position)


def axes_of(b, value, x: Tracer, position, fname: str):
    if value is None:
        return tuple(range(x.ndim))
    if not x.ndim:
        refuse_numpy_0d_axis(b, value, 0, position)
    try:
        return normalize_axes(static_ints(b, value, "axis", position) if not isinstance(value, int) else value,
                              x.ndim, x.shape)
    except JacShapeError as err:
        raise JacShapeError(f"{fname}: {err.message}", position) from None


# --- element-wise -----------------------------------------------------------------------

def _unary(op_name):
    def lower(b, args, kwargs, position, fname=op_name):
        if not kwargs and len(args) == 1 and type(args[0]) is Tracer:  # f(x): what arguments and tensor give
            return b.apply(op_name, args[0], position=position)
        x = arguments(fname, args, kwargs, {"x": REQUIRED}, position)["x"]
        return b.apply(op_name, tensor(b, x, fname, position), position=position)
    UNARY[lower] = op_name
    return lower


# the lowerings of element-wise functions of one array (sin, exp, tanh) -> their op: the parser applies the op to
# f(x) itself, as the lowering's first line does (filled as the lowerings are made, at import; read-only after)
UNARY: dict = {}


def _arithmetic(op_name):
    """``torch.sub(x, y)``, ``np.divide(x, y)``...: the operators as functions."""
    def lower(b, args, kwargs, position):
        a = arguments(op_name, args, kwargs, {"x": REQUIRED, "y": REQUIRED}, position)
        return b.apply(op_name, tensor(b, a["x"], op_name, position), tensor(b, a["y"], op_name, position),
                       position=position)
    return lower


def jax_spelled(b: Builder) -> bool:
    """Is the call being lowered spelled ``jnp.`` / ``jax.numpy.`` (``b.call``)? JAX computes some functions
    otherwise than NumPy (masked_product, c_power, jax_floor_divide, its sign, remainder and quantiles)."""
    return (b.call or "").startswith(("jnp.", "jax."))


def _or_and(op_name):
    """``torch.add(x, y)``, ``np.multiply(x, y)``: as the operators, of two masks their logical or / and;
    ``jnp.multiply`` of a mask as JAX computes it (:func:`masked_product`)."""
    def lower(b, args, kwargs, position):
        a = arguments(op_name, args, kwargs, {"x": REQUIRED, "y": REQUIRED}, position)
        x, y = tensor(b, a["x"], op_name, position), tensor(b, a["y"], op_name, position)
        if op_name == "mul" and jax_spelled(b):
            return masked_product(b, x, y, position)
        return arithmetic(b, op_name, x, y, position)
    return lower


def one_dtype(b: Builder, fname: str, operands, position, operator: bool = False) -> None:
    """Refuse a product (``@``, matmul, mm, mv, dot, bmm, inner, einsum, tensordot) of a float array and an
    integer or boolean one where PyTorch reads it: PyTorch's products take operands of one dtype (its
    RuntimeError "expected m1 and m2 to have the same dtype"), NumPy promotes. The library is the call's
    (``torch.mm``), else its integer operands' (``torch.arange(3)``), else the text's dialect; a text that
    names neither is refused naming both readings. ``operator``: ``@``, which names no library itself."""
    kinds = [dtypes.kind_of(b, t.id) if isinstance(t, Tracer) else None for t in operands]
    odd = [k for k in kinds if k is not None]
    if not odd or len(odd) == len(kinds):
        return
    library = None if operator else b.library if b.library in ("torch", "numpy") else None
    library = library or dtypes.library_of(b, [t.id for t in operands if isinstance(t, Tracer)]) or \
        (b.lowering.dialect if b.lowering is not None else None)
    if library == "numpy":
        return  # NumPy promotes; jac computes in --dtype, as for every value
    what = "a bool" if odd[0][0].kind == "b" else f"an {odd[0][0]}" if str(odd[0][0])[0] in "iu" else "a"
    if library == "torch":
        raise JacValueError(f"{fname}: PyTorch refuses a product of a float tensor and {what} tensor (its operands "
                            "must have one dtype); jac refuses it: convert with .float() or .to(x.dtype)", position)
    raise JacValueError(f"{fname} of a float array and {what} one: PyTorch refuses it (one dtype), NumPy promotes; "
                        "convert with .float() for PyTorch's reading, or name NumPy (np.isfinite, np.arange, ...) "
                        "for NumPy's", position)


def arithmetic(b: Builder, op: str, left, right, position) -> Tracer:
    """``left op right``, as the operator and as the function (``torch.add``, ``np.multiply``, ``m.add``). Two
    booleans (a mask, or a Python bool beside one) added are their logical or and multiplied their logical
    and, a boolean again: PyTorch's and NumPy's ``bool + bool`` is ``bool`` (True where x > 0, never 2)."""
    if (op == "add" or op == "mul") and (is_boolean(b, left) or is_boolean(b, right)) \
            and all(type(k) is bool or is_boolean(b, k) for k in (left, right)):
        kids = [b.const(float(k), position) if type(k) is bool else k for k in (left, right)]
        return logical("or" if op == "add" else "and", b, kids, position)
    return b.apply(op, left, right, position=position)


def masked_product(b: Builder, left, right, position) -> Tracer:
    """JAX's ``mask * x`` (the operator, ``jnp.multiply``) where the mask is a boolean array of the product's
    own shape: XLA rewrites a product with a converted boolean as a select, so it is ``where(mask, x, 0)``,
    0 where the mask is false even where x is inf or NaN (NumPy's and PyTorch's 0 · inf is NaN) and +0 where
    x is negative (theirs -0). A mask that broadcasts (a row beside a matrix, a 0-d mask beside a vector), a
    Python bool and integers keep the product, as JAX computes it; two masks are their logical and."""
    for mask, x in ((left, right), (right, left)):
        if is_boolean(b, mask) and not is_boolean(b, x) and type(x) is not bool \
                and (not isinstance(x, Tracer) or dtypes.kind_of(b, x.id) is None):
            try:
                full = tuple(broadcast(tuple(mask.shape), tuple(np.shape(x) if not isinstance(x, Tracer) else x.shape)))
            except JacError:  # the product's own error, below
                break
            if full == tuple(mask.shape):
                return b.apply("where", mask, x, 0.0, position=position)
    return arithmetic(b, "mul", left, right, position)


for _op in OPS.values():  # the element-wise ops by the names users call them (the op's spellings)
    for _name in _op.spellings:
        FUNCTIONS[_name] = (_unary if len(_op.vjp) == 1 else _or_and if _op.name in ("add", "mul") else
                            _arithmetic)(_op.name)


@function("clip", "clamp")
def _clip(b, args, kwargs, position):
    if jax_spelled(b) and {"a_min", "a_max", "a", "arr", "x", "input"} & set(kwargs):  # JAX 0.10: clip(arr, /, min, max)
        word = sorted({"a_min", "a_max", "a", "arr", "x", "input"} & set(kwargs))[0]
        raise JacValueError(f"{b.call}() takes no keyword argument {word!r}: JAX raises there (TypeError: its "
                            f"signature is clip(arr, /, min=None, max=None); a_min= and a_max= were removed); write "
                            f"{b.call}(x, min=..., max=...)", position)
    a = arguments("clip", args, kwargs, {"x": REQUIRED, "min": None, "max": None}, position)
    if a["min"] is None and a["max"] is None:
        if (b.call or "").startswith(("np.", "numpy.", "jnp.", "jax.numpy.")):  # NumPy 2.1's and JAX's: x itself
            return tensor(b, a["x"], "clip", position)
        raise JacValueError("clip() needs a lower or an upper bound (PyTorch raises without one)", position)
    lo = -math.inf if a["min"] is None else a["min"]
    hi = math.inf if a["max"] is None else a["max"]
    return b.apply("clip", tensor(b, a["x"], "clip", position), b.lift(lo), b.lift(hi), position=position)


# --- reductions ---------------------------------------------------------------------------

def _reduction(op_name, **params):
    def lower(b, args, kwargs, position):
        if not kwargs and len(args) == 1 and type(args[0]) is Tracer:  # sum(x): what the lines below give
            x = args[0]
            # b.apply(op_name, x, axes=..., keepdims=False, position=position, **params), without its keywords
            return b._apply(op_name, (x,), position, None, {"axes": tuple(range(len(x.shape))), "keepdims": False,
                                                            **params})
        a = arguments(op_name, args, kwargs, {"x": REQUIRED, "axis": None, "keepdims": False}, position)
        x = tensor(b, a["x"], op_name, position)
        axes = axes_of(b, a["axis"], x, position, op_name)
        keepdims = keepdims_of(b, a["keepdims"], position, kwargs=kwargs)
        _torch_keepdim_needs_dim(b, a["axis"], kwargs, position, given=len(args) > 1)
        return b.apply(op_name, x, axes=axes, keepdims=keepdims, position=position, **params)
    return lower


# PyTorch's reductions whose keepdim belongs to the overload with a dim: torch.sum(x, keepdim=True) is its TypeError
# ("received an invalid combination of arguments"); amax, amin, nansum, nanmean, var, std, norm, any, all, argmax take it
TORCH_KEEPDIM_NEEDS_DIM = frozenset(("sum", "mean", "prod", "max", "min", "logsumexp", "median", "nanmedian",
                                     "count_nonzero"))


def _torch_keepdim_needs_dim(b, axis, kwargs, position, given: bool = False) -> None:
    """PyTorch's TypeError for ``keepdim=`` without a dim in :data:`TORCH_KEEPDIM_NEEDS_DIM` (``torch.sum(x,
    keepdim=True)``, ``x.mean(keepdim=True)``: a method spelling ``keepdim`` is PyTorch's, as keepdims_of reads it).
    A dim written as None (``torch.sum(x, dim=None, keepdim=True)``, ``x.mean(None, True)``; ``given``: a positional
    dim) is the overload with a dim, which PyTorch 2.13 answers for sum and mean: every element, every axis kept
    (session 52; argspec's TORCH_DIM_NOT_NONE refuses dim=None where PyTorch raises at it)."""
    name = (b.call or "").rsplit(".", 1)[-1].strip("()")
    if axis is None and "keepdim" in kwargs and name in TORCH_KEEPDIM_NEEDS_DIM and b.library in ("torch", "method"):
        if (given or "dim" in kwargs or "axis" in kwargs) and name != "count_nonzero":
            return
        if name == "count_nonzero":
            raise JacValueError("count_nonzero(): PyTorch's takes no keepdim (it raises TypeError); np.count_nonzero "
                                "takes keepdims=", position)
        raise JacValueError(f"{name}(): keepdim= needs a dim (PyTorch raises TypeError: its {name} takes keepdim only "
                            f"beside dim: write {name}(x, dim, keepdim=True))", position)


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
    (``max(x, 0.5)``, ``torch.max(v, 2 * ones(3))`` and ``torch.max(x, torch.tensor(0.0))`` are
    element-wise maxima)."""
    if node.op != "const":
        return False
    value = node.value
    if isinstance(value, (int, float)):  # a number written in the expression (a 0-d array is an array)
        return _is_integer(float(value))
    if not (isinstance(value, np.ndarray) and value.ndim == 1 and value.size) or not isinstance(x, Tracer):
        return False
    ndim = x.ndim
    return bool(np.array_equal(value, np.round(value)) and np.all((value >= -ndim) & (value < ndim))
                and len(set((value % max(ndim, 1)).tolist())) == value.size)


FUNCTIONS["max"] = FUNCTIONS["amax"] = _extreme("max", "maximum")
FUNCTIONS["min"] = FUNCTIONS["amin"] = _extreme("min", "minimum")


@function("softmax")
def _softmax(b, args, kwargs, position):
    if not kwargs and len(args) == 1 and type(args[0]) is Tracer and args[0].shape:
        # softmax(x) of an array: what arguments, tensor and normalize_axis(-1, ...) below give (b.apply's node,
        # made by its _apply without the keywords: session 44)
        return b._apply("softmax", (args[0],), position, None, {"axis": len(args[0].shape) - 1})
    if not kwargs and len(args) == 1 and type(args[0]) is Tracer:
        a, x = {"axis": -1}, args[0]
    else:
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


def _product(b, fname: str, x, y, position):
    """``matmul`` of ``x`` and ``y`` for the function called ``fname`` (dot, mm, mv, ...), whose name its shape error
    says: ``torch.dot(x, y)`` of sizes 4 and 3 said "matmul: shapes (4,) and (3,) do not line up"."""
    try:
        return b.apply("matmul", x, y, position=position)
    except JacShapeError as err:
        if fname != "matmul" and err.message.startswith("matmul"):
            err.reword(fname + err.message[len("matmul"):])
        raise


@function("matmul")
def _matmul(b, args, kwargs, position):
    x, y = _two("matmul", b, args, kwargs, position)
    one_dtype(b, "matmul", (x, y), position)
    return b.apply("matmul", x, y, position=position)


def _torch_dot(b, args, kwargs, position):
    """PyTorch's dot: of two 1-d tensors of one length (NumPy's reads matrices and scalars too)."""
    x, y = _two("dot", b, args, kwargs, position)
    if x.ndim != 1 or y.ndim != 1:
        raise JacShapeError(f"dot: PyTorch raises \"1D tensors expected, but got {x.ndim}D and {y.ndim}D tensors\" "
                            "(torch.dot takes vectors; write x @ y or torch.matmul for matrices)", position)
    if x.shape[0] != y.shape[0]:
        raise JacShapeError(f"dot: PyTorch raises \"inconsistent tensor size, expected tensor [{x.shape[0]}] and src "
                            f"[{y.shape[0]}] to have the same number of elements, but got {x.shape[0]} and "
                            f"{y.shape[0]} elements respectively\"", position)
    one_dtype(b, "dot", (x, y), position)
    return b.apply("matmul", x, y, position=position)


@function("dot")
def _dot(b, args, kwargs, position):
    # NumPy's dot: a product for scalars, matmul for vectors and matrices, a sum over x's last axis and y's
    # second to last for more dimensions (not matmul's broadcast batches).
    x, y = _two("dot", b, args, kwargs, position)
    if x.ndim == 0 or y.ndim == 0:
        return b.apply("mul", x, y, position=position)
    one_dtype(b, "dot", (x, y), position)
    if x.ndim > 2 or y.ndim > 2:  # NumPy's N-d dot: x's last axis against y's second to last (its only one)
        if x.shape[-1] != y.shape[-2 if y.ndim > 1 else 0]:
            raise JacShapeError(f"dot: shapes {fmt(x.shape)} and {fmt(y.shape)} are not aligned (x's last axis "
                                "against y's second to last)", position)
        check_rank(tuple(x.shape[:-1]) + tuple(y.shape[:-2]) + tuple(y.shape[-1:]), "dot's result", position)
        letters = string.ascii_letters[:-1]  # one letter per axis of the result (MAX_RANK of them at most)
        k, left, right = string.ascii_letters[-1], letters[:x.ndim - 1], letters[x.ndim - 1:x.ndim - 1 + y.ndim - 1]
        theirs = right[:-1] + k + right[-1:] if y.ndim > 1 else k
        return einsum_of(b, f"{left}{k},{theirs}->{left}{right}", [x, y], position)
    return _product(b, "dot", x, y, position)


def _matrix_product(fname, x_ndim, y_ndim):
    """``mm``, ``mv``, ``inner``: matmul with the operand ranks PyTorch requires."""
    def lower(b, args, kwargs, position):
        x, y = _two(fname, b, args, kwargs, position)
        _need_ndim(fname, x, (x_ndim,), position, "first argument")
        _need_ndim(fname, y, (y_ndim,), position, "second argument")
        one_dtype(b, fname, (x, y), position)
        return _product(b, fname, x, y, position)
    return lower


FUNCTIONS["mm"] = _matrix_product("mm", 2, 2)
FUNCTIONS["mv"] = _matrix_product("mv", 2, 1)
FUNCTIONS["vdot"] = _matrix_product("vdot", 1, 1)


@function("outer", "ger")
def _outer(b, args, kwargs, position):
    """np.outer(a, b): the outer product of a and b flattened, (a.size, b.size)."""
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
    rest = list(args[1:])
    order = rest.pop() if rest and isinstance(rest[-1], Static) and isinstance(rest[-1].value, str) else None
    kwargs = dict(kwargs)
    kwargs.pop("copy", None)  # NumPy 2.1's copy= changes no value
    order = _memory_order(b, kwargs.pop("order", order), "reshape", position)
    unknown = set(kwargs) - {"shape", "newshape"}
    if unknown:
        raise JacValueError(f"reshape(): the argument '{sorted(unknown)[0]}' is not supported by jac", position)
    parts = rest + [kwargs[k] for k in ("shape", "newshape") if k in kwargs]
    if not parts and b.call == ".view()":  # NumPy's a.view(): a view of the whole array, as it is
        return b.apply("reshape", x, shape=tuple(x.shape), position=position)
    if any(isinstance(p, Static) and isinstance(p.value, DType) for p in parts):
        raise JacValueError(f"{b.call or 'view'}: a dtype reinterprets the elements' bytes, which jac does not do "
                            "(it computes in --dtype); write .to(dtype) or .astype(dtype) for a conversion", position)
    shape = resolve_shape(x, tuple(i for p in parts for i in shape_ints(b, p, "reshape sizes", position)), position)
    if order == "F":  # column-major: the reversed axes reshaped to the reversed shape, reversed back
        flipped = b.apply("reshape", transpose_all(b, x, position), shape=shape[::-1], position=position)
        return transpose_all(b, flipped, position)
    return b.apply("reshape", x, shape=shape, position=position)


_STRIDED = frozenset(("transpose", "broadcast_to", "detach", "reshape"))  # PyTorch's views, strides as NumPy's


def check_view(b, x: Tracer, shape: tuple, position, layouts=None) -> None:
    """Refuse PyTorch's ``x.view(shape)`` where its memory cannot be read so (:func:`_viewable`); ``layouts``: the
    layouts to read instead of ``b.layouts`` (the parser's, for a copy lowered onto its operand's node)."""
    if not _viewable(b, x, shape, layouts):
        raise JacShapeError(f"view: PyTorch raises \"view size is not compatible with input tensor's size and stride "
                            "(at least one dimension spans across two contiguous subspaces). Use .reshape(...) "
                            f"instead.\": this tensor of shape {fmt(x.shape)} is a transposed, sliced or expanded view "
                            f"whose memory {fmt(shape)} cannot be read off without a copy; write .reshape(...) or "
                            ".contiguous().view(...)", position)


def _viewable(b, x: Tracer, shape: tuple, layouts=None) -> bool:
    """Can PyTorch's ``x.view(shape)`` read ``x``'s memory as it is? ``x``'s strides are replayed on a stand-in of
    1-byte elements (:func:`_stand_in`) and NumPy's reshape without a copy (the same rule as PyTorch's view) says.
    Where jac does not know PyTorch's strides (a node of no known layout, past 2**24 elements): answered."""
    a = _stand_in(b, x.id, layouts)
    if a is None:
        return True
    try:
        a.reshape(shape, copy=False)
    except ValueError:
        return False
    return True


def diagonal_view(a, index: tuple):
    """``a``'s diagonal that the index ``(..., rows, cols)`` of :func:`_diagonal` picks, as the strided view NumPy and
    PyTorch make of it (``np.diagonal`` of the last two axes at the index's offset)."""
    rows, cols = index[-2], index[-1]
    if not len(rows):
        return a[index]
    return np.diagonal(a, int(cols[0]) - int(rows[0]), -2, -1)


def copied_layout(b, x: Tracer, kind: str) -> None:
    """Node ``x`` is the result of a PyTorch call that copies (``kind``: "like" its operand's layout, as clone and
    flip keep a dense one; "fresh": contiguous, as repeat, tile and masked_fill make it), where the graph shows a
    view or nothing (clone is the identity): :func:`_stand_in` then replays that copy. "diagonal": the other way
    round, a view (``t.diagonal()``) the graph shows as an index that picks elements (:func:`diagonal_view`).
    ``("buffer", j)``: a write in place's result, which keeps the layout of node j's tensor (lang/views.py)."""
    if b.layouts is None:
        b.layouts = {}
    known = b.layouts.get(x.id)
    if kind in ("like", "fresh") and (known == "new" or type(known) is tuple and known[0] == "like"):
        return  # z = t.clone() of a sort's values t (clone lowered onto t's node): t's known dense layout is the copy's
    b.layouts[x.id] = kind


# The layout PyTorch 2.13 gives the result of a call jac's graph lowers to ops whose layout _stand_in does not know
# (a sort to argsort and take_along, cat to scatters, gather to an index), each read from PyTorch itself (``y._base``,
# ``y.stride()`` of contiguous, transposed, strided and expanded operands: tests/test_layout55.py): "new", a fresh
# contiguous tensor whatever the operand's layout; "like", a fresh tensor in its first operand's memory format
# (preserve_format: that operand's strides where it is dense). Views (transpose, permute, narrow, expand, diagonal,
# unfold, a reshape that can be one) are known by their graph ops, and calls whose answer depends on the operand
# (contiguous, reshape) by lang/copies.py from the layout this table gives. Only a node the call itself made is marked
# (:func:`result_layout`): a call jac lowers onto an existing node (``torch.cat([u])``) stays unknown.
REDUCTIONS = frozenset(("sum", "mean", "amax", "amin", "max", "min", "prod", "std", "var", "logsumexp", "norm",
                        "vector_norm", "matrix_norm", "nansum", "nanmean", "nanmedian", "std_mean", "var_mean",
                        "aminmax", "argmax", "argmin", "all", "any", "count_nonzero"))  # (session 57, below)
RESULT_LAYOUTS = {**dict.fromkeys(("sort", "msort"), "like"),
                  **dict.fromkeys(("topk", "cummax", "cummin", "cumsum", "cumprod", "logcumsumexp", "gather",
                                   "take_along_dim", "index_select", "cat", "concat", "concatenate", "stack", "hstack",
                                   "vstack", "roll", "tril", "triu", "kthvalue", "median", "mode", "softmax",
                                   "log_softmax", "outer", "diag_embed", "tensor", "zeros", "ones", "full", "eye",
                                   "arange", "linspace"), "new"),
                  **dict.fromkeys(REDUCTIONS, "new")}
# Session 57: PyTorch's reductions along a dim (sum, mean, amax, max(x, dim), std, logsumexp, norm, ..., keepdim too)
# give a fresh contiguous result whatever the operand's layout (their meta functions' resize_reduction allocates it;
# tests/test_layouts57.py reads each from PyTorch 2.13 over transposed, permuted, sliced and expanded operands). max and
# min are reductions only where they give a (values, indices) pair: torch.max(a, b) is element-wise, laid out as its
# operands are (TensorIterator), which _stand_in replays from the graph.
_PAIRED = frozenset(("max", "min"))


def result_layout(b, found, name: str, operand, before: int, into: dict | None = None) -> None:
    """Mark the result(s) ``found`` of the PyTorch call ``name`` with :data:`RESULT_LAYOUTS`' layout, where the node is
    one this call made (id >= ``before``, the node count before it) and jac knows nothing else of it; ``operand``:
    the call's first tensor operand (for "like"). ``into``: the marks go there, not into ``b.layouts`` (the parser's
    ``view_layouts``, for the view check alone)."""
    kind = RESULT_LAYOUTS.get(name)
    if kind is None or name in _PAIRED and type(found) is not Pair:  # torch.max(a, b): element-wise
        return
    if name == "tensor" and type(operand) is Tracer and b.nodes[operand.id].op != "const":
        kind = "like"  # torch.tensor(t) of a tensor: t's memory format (PyTorch 2.13: torch.tensor(A.T) is (1, 3))
    if kind == "like":
        if type(operand) is not Tracer:
            return
        kind = ("like", operand.id)

    def mark(x):
        if isinstance(x, Tracer) and type(x) in (Tracer, Pair) and x.id >= before and not (b.layouts and x.id in b.layouts) \
                and b.nodes[x.id].op != "input" and (kind == "new" or x.id != operand.id):
            if into is None:
                copied_layout(b, x, kind)
            else:
                into[x.id] = kind
    for x in (found if isinstance(found, (list, tuple)) else (found,)):  # a Pair (sort's values, indices): values
        mark(x)
        if type(x) is Pair and kind == "new":  # its parts, those made later too (B.median(0).values, .indices)
            for part, made in list(x.parts.items()):
                if callable(made):
                    x.parts[part] = _marked_when_made(made, mark)
                else:
                    mark(made)


def _marked_when_made(make, mark):
    """A pair's part made when asked for (:class:`Pair`), whose node :func:`result_layout` marks once made."""
    def made():
        part = make()
        mark(part)
        return part
    return made


def _stand_in(b, i: int, layouts=None):
    """A stand-in of 1-byte elements with the strides PyTorch gives node ``i``'s result, or None where jac does
    not know them. An input is fresh and contiguous; the views (transposes, basic indices, expand, reshapes that
    need no copy, detach: NumPy's strides are PyTorch's for these) act on their argument's stand-in; a product
    whose second operand has at most two dimensions is fresh (PyTorch computes a matrix by a batch transposed); an
    element-wise op whose operands (those not 0-d) have its shape and one dense layout gives its result that
    layout (PyTorch's TensorIterator), a fresh one where all are 0-d. Nothing else is known."""
    from ..ir.ops import OPS
    needed = layout_nodes(b, i, layouts)
    if needed is None:
        return None
    layouts = b.layouts if layouts is None else layouts
    made = {}
    for k in sorted(needed):
        node = b.nodes[k]
        shape = node.shape
        if not is_concrete(shape) or math.prod(shape) > 2**24:
            return None
        arg = made.get(node.args[0]) if node.args else None
        kind = layouts.get(k) if layouts else None
        if type(kind) is tuple and kind[0] == "like":
            a = _copied(made[kind[1]]) if made.get(kind[1]) is not None else None
        elif type(kind) is tuple and kind[0] == "windows":  # x.unfold(axis, size, step) before its axis moves last
            a = _unfold_windows(made.get(kind[1]), shape, kind[2], kind[3])
        elif type(kind) is tuple:
            a = made.get(kind[1])
        elif kind == "new":
            a = np.empty(shape, np.int8)
        elif node.op == "input":
            a = np.empty(shape, np.int8)
        elif node.op == "transpose" and arg is not None:
            a = arg.transpose(node.params["axes"])
        elif node.op == "broadcast_to" and arg is not None:
            a = np.broadcast_to(arg, node.params["shape"])
        elif node.op == "detach" and arg is not None:
            a = arg
        elif node.op == "getitem" and arg is not None and _basic_index(node.params.get("index")):
            a = arg[node.params["index"]]
        elif node.op == "getitem" and arg is not None and layouts is not None and layouts.get(k) == "diagonal":
            a = diagonal_view(arg, node.params["index"])
        elif node.op == "reshape" and arg is not None:
            try:
                a = arg.reshape(node.params["shape"], copy=False)
            except ValueError:  # PyTorch's reshape copies here: a fresh tensor from this node on
                a = np.empty(node.params["shape"], np.int8)
        elif node.op == "matmul" and _fresh_product(b, node):
            a = np.empty(shape, np.int8)
        elif node.op in OPS and OPS[node.op].elementwise:
            a = _elementwise_layout([made.get(j) for j in node.args if b.nodes[j].shape != ()], shape)
        else:
            a = None
        if kind in ("like", "fresh") and a is not None:
            a = _copied(a) if layouts[k] == "like" else np.empty(shape, np.int8)
        if a is None:
            return None
        made[k] = a
    return made[i]


def _unfold_windows(a, shape: tuple, axis: int, step: int):
    """The stand-in of ``x.unfold(axis, size, step)``'s windows (of ``shape``: (..., count, size, ...)) of ``x``'s
    stand-in ``a``, a view as PyTorch's: the window axis ``step`` elements of ``axis`` apart, the size axis one."""
    if a is None:
        return None
    strides = a.strides[:axis] + (a.strides[axis] * step, a.strides[axis]) + a.strides[axis + 1:]
    return np.lib.stride_tricks.as_strided(a, shape, strides)


def layout_nodes(b, i: int, layouts=None):
    """The nodes whose layouts :func:`_stand_in` reads for node ``i`` (``layouts``: instead of ``b.layouts``), or None
    past 256 of them."""
    from ..ir.ops import OPS
    layouts = b.layouts if layouts is None else layouts
    pending, needed = [i], set()
    while pending:
        k = pending.pop()
        if k in needed:
            continue
        needed.add(k)
        if len(needed) > 256:
            return None
        node = b.nodes[k]
        op = OPS.get(node.op)
        kind = layouts.get(k) if layouts else None
        if type(kind) is tuple:  # ("buffer", j): a write in place's result, in the buffer of node j (lang/views.py);
            pending.append(kind[1])  # ("like", j): a copy in node j's memory format (RESULT_LAYOUTS)
        elif kind == "new":  # a fresh contiguous result (RESULT_LAYOUTS): its operands' layouts do not matter
            pass
        elif op is not None and op.elementwise or node.op == "matmul" and not _fresh_product(b, node):
            pending.extend(j for j in node.args if b.nodes[j].shape != ())
        elif node.op in _STRIDED or node.op == "getitem":
            pending.append(node.args[0])
    return needed


def _fresh_product(b, node) -> bool:
    """Is the matmul ``node`` a fresh contiguous tensor in PyTorch whatever its operands' layouts (its second operand
    has at most two dimensions: a matrix is computed by a batch transposed)?"""
    return len(node.args) == 2 and len(b.nodes[node.args[1]].shape) <= 2


def _copied(a):
    """PyTorch's copy of a tensor of layout ``a`` in its memory format (clone's preserve_format: ``empty_like``): its
    own strides where it is dense (:func:`dense`), else dense strides in the order of its own (PyTorch's
    ``infer_dense_strides``, :func:`_dense_strides`; an expanded axis keeps its place: session 57, where this was
    unknown)."""
    strides = tuple(abs(s) // a.itemsize for s in a.strides)
    if dense(a):
        return _strided(a.shape, strides)
    if _expanded_beside_one(a.shape, [strides]):
        return None
    return _strided(a.shape, _dense_strides(a.shape, strides))


def _expanded_beside_one(shape: tuple, strides: list) -> bool:
    """Is some axis of ``shape`` expanded in every operand (stride 0, two or more elements) beside an axis of one
    element? PyTorch's insertion sort passes over the expanded axis, so where it lands among the others depends on
    the strides of the one-element axes too, which a stand-in may hold otherwise than PyTorch (NumPy's ``x[:, None]``
    has stride 0 there, PyTorch's unsqueeze another): unknown."""
    return 1 in shape and any(n > 1 and all(st[k] == 0 for st in strides) for k, n in enumerate(shape))


def dense(a) -> bool:
    """PyTorch's ``is_non_overlapping_and_dense`` of the stand-in (or the array of offsets) ``a``, its strides read
    in elements of ``a.itemsize`` bytes: the axes of two or more elements, by their strides, each step the product of
    the sizes before (an axis of one element counts for nothing); an empty array is dense whatever its strides (PyTorch
    2.13: contiguous, and ``empty_like`` keeps them), a 0-d one too. The one predicate of copies.hidden_layout,
    :func:`_elementwise_layout` and lang/overlap.py (session 57)."""
    if a.size == 0:
        return True
    expected = 1
    for stride, size in sorted((abs(s) // a.itemsize, n) for n, s in zip(a.shape, a.strides) if n >= 2):
        if stride != expected:
            return False
        expected *= size
    return True


def _axes_ordered(ndim: int, should_swap) -> list:
    """The axes from the innermost out, as PyTorch orders them before laying out dense strides: an insertion sort
    from the last axis, ``should_swap(d0, d1)`` > 0 moving ``d1`` before ``d0``, < 0 ending the pass (a smaller
    stride is inner), 0 going on. The one loop of :func:`_dense_strides` (``infer_dense_strides``) and
    :func:`_elementwise_layout` (TensorIterator's ``reorder_dimensions``); their comparisons differ."""
    perm = list(range(ndim - 1, -1, -1))
    for i in range(1, ndim):
        dim1 = i
        for dim0 in range(i - 1, -1, -1):
            comparison = should_swap(perm[dim0], perm[dim1])
            if comparison > 0:
                perm[dim0], perm[dim1] = perm[dim1], perm[dim0]
                dim1 = dim0
            elif comparison < 0:
                break
    return perm


def _dense_strides(shape: tuple, strides: tuple) -> tuple:
    """PyTorch 2.13's ``infer_dense_strides(sizes, strides)`` (aten/src/ATen/TensorUtils.cpp): the axes ordered by
    an insertion sort from the last, an axis of stride 0 compared with none (it keeps its place), a smaller stride
    first, of equal strides the smaller size first; then dense strides in that order (an axis of 0 or 1 element
    takes the stride and adds nothing)."""
    def should_swap(d0: int, d1: int) -> int:
        s0, s1 = strides[d0], strides[d1]
        if s0 == 0 or s1 == 0:
            return 0
        if s0 != s1:
            return -1 if s0 < s1 else 1
        return 1 if shape[d0] > shape[d1] else 0
    out, current = [0] * len(shape), 1
    for k in _axes_ordered(len(shape), should_swap):
        out[k] = current
        if shape[k] > 1:
            current *= shape[k]
    return tuple(out)


def _strided(shape: tuple, strides: tuple):
    """A stand-in of 1-byte elements of ``shape`` with ``strides`` (in elements, none negative)."""
    extent = 0 if 0 in shape else 1 + sum((n - 1) * s for n, s in zip(shape, strides))
    return np.lib.stride_tricks.as_strided(np.empty(max(extent, 1), np.int8), tuple(shape), tuple(strides))


def _elementwise_layout(operands: list, shape: tuple):
    """The stand-in of an element-wise result of ``shape`` whose operands (not 0-d) are ``operands``, as PyTorch's
    TensorIterator lays it out (aten/src/ATen/TensorIterator.cpp, ``reorder_dimensions``): the axes ordered by an
    insertion sort from the last, comparing the operands' strides (broadcast axes: 0) in turn, a smaller stride
    first, an operand with 0 at either axis passed over, of equal strides the smaller size first; then dense strides
    in that order. Operands of one dense layout keep it, contiguous ones broadcast give a contiguous result (``A *
    x``), and a non-dense one gives its order of strides (``A[:, :2] * 2``; session 57, where this was unknown)."""
    if not operands:
        return np.empty(shape, np.int8)
    if any(a is None or any(s < 0 for s in a.strides) for a in operands):
        return None
    ndim = len(shape)
    strides = []
    for a in operands:  # broadcast as TensorIterator's compute_strides: a size-1 axis that is not the result's keeps its
        lead = ndim - a.ndim  # stride (NumPy's broadcast_to makes it 0)
        if lead < 0 or any(n not in (1, shape[lead + k]) for k, n in enumerate(a.shape)):
            return None
        strides.append((0,) * lead + tuple(0 if n == 1 and shape[lead + k] != 1 else s // a.itemsize
                                           for k, (n, s) in enumerate(zip(a.shape, a.strides))))
    if _expanded_beside_one(tuple(shape), strides):
        return None

    def should_swap(d0: int, d1: int) -> int:
        for st in strides:
            s0, s1 = st[d0], st[d1]
            if s0 == 0 or s1 == 0:
                continue
            if s0 != s1:
                return -1 if s0 < s1 else 1
            if shape[d0] > shape[d1]:
                return 1
        return 0
    out, current = [0] * ndim, 1
    for k in _axes_ordered(ndim, should_swap):
        out[k] = current
        current *= shape[k]
    return _strided(tuple(shape), tuple(out))


def _basic_index(index) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice)) for p in parts)


def _memory_order(b, value, fname, position) -> str:
    """NumPy's order= of reshape, ravel and flatten: 'C' (the default) or 'F'. 'A' and 'K' follow the memory
    layout NumPy happens to have (a transpose is a view in column-major order), which jac's arrays do not
    model: refused, where they were read as 'C' (or ignored) before."""
    order = "C" if value is None else static(b, value, "order", position)
    if order in ("C", "F"):
        return order
    if order in ("A", "K"):
        raise JacValueError(f"{fname}: order={order!r} follows the memory layout NumPy would have (a transpose is "
                            "column-major), which jac does not model: write order='C' or order='F'", position)
    raise JacValueError(f"{fname}: order must be 'C' or 'F', got {order!r}", position)


def resolve_shape(x: Tracer, shape: tuple, position) -> tuple:
    """A reshape target with its one ``-1`` filled in."""
    if shape.count(-1) > 1:
        raise JacValueError("reshape: only one size may be -1", position)
    if any(d < -1 for d in shape):
        raise JacValueError(f"reshape: negative size in {fmt(shape)}", position)
    if -1 not in shape:
        return shape
    total = _numel(x, position)
    known = int(np.prod([d for d in shape if d != -1], dtype=np.int64))
    if known == 0 or total % known:
        raise JacShapeError(f"cannot reshape an array of shape {fmt(x.shape)} into {fmt(shape)}", position)
    return tuple(total // known if d == -1 else d for d in shape)


# --- constructors: constants, never differentiated -------------------------------------------

def _shape_args(b, args, kwargs, fname, position) -> tuple:
    if b.library == "torch" and "size" in kwargs and not args:  # torch.zeros(size=(2, 3)): PyTorch's keyword
        kwargs["shape"] = kwargs.pop("size")
    _refuse_shape_form(b, args, kwargs, fname, position)
    parts = list(args) + ([kwargs.pop("shape")] if "shape" in kwargs else [])
    shape = tuple(i for p in parts for i in shape_ints(b, p, f"{fname} sizes", position))
    if any(d < 0 for d in shape):
        raise JacValueError(f"{fname}(): negative size in {shape}", position)
    return shape


def _is_sequence(b, value) -> bool:
    """A size argument given as a tuple or list (``(2, 3)``, ``[2, 3]``), not as an int."""
    if isinstance(value, Items) or type(value) in (tuple, list):
        return True
    if isinstance(value, Static):
        return isinstance(value.value, (tuple, list))
    return isinstance(value, Tracer) and value.ndim >= 1


def _refuse_shape_form(b, args, kwargs, fname, position) -> None:
    """A constructor's sizes in the form the library named takes (session 47, benchmarks/raises47_probe.py), as
    :func:`_shape_args` reads them: NumPy's ``np.random.rand`` / ``randn`` take ints one by one and no keyword
    (``np.random.rand((2, 3))`` is its TypeError), ``np.zeros`` / ``ones`` / ``empty`` one shape (their second
    argument is the dtype: ``np.zeros(2, 3)`` raises); PyTorch's take ints or one sequence (``size=``), not both.
    A keyword other than the shape's is refused, never dropped (``torch.zeros(size=...)`` read the shape ())."""
    library = b.library
    other = sorted(k for k in kwargs if k != "shape")
    if library == "numpy.random":
        if kwargs:
            raise JacParseError(f"np.random.{fname}() takes no keyword argument '{sorted(kwargs)[0]}' (NumPy raises "
                                f"TypeError: it takes the sizes as ints, np.random.{fname}(2, 3))", position)
        if any(_is_sequence(b, a) for a in args):
            raise JacValueError(f"np.random.{fname}() takes the sizes as separate ints, not a tuple or list (NumPy "
                                f"raises TypeError): write np.random.{fname}(2, 3), or np.random.{fname}(*shape)",
                                position)
        return
    if other:
        raise JacParseError(f"{fname}() has no argument '{other[0]}' (it takes "
                            f"{'size' if library == 'torch' else 'shape'})", position)
    if library == "numpy" and len(args) > 1:
        raise JacValueError(f"{b.call}() takes the shape as one argument, {b.call}((2, 3)): its second argument "
                            f"is the dtype (NumPy raises TypeError at an int there)", position)
    if library == "torch" and len(args) > 1 and any(_is_sequence(b, a) for a in args):
        raise JacValueError(f"torch.{fname}() takes the sizes as ints, torch.{fname}(2, 3), or as one tuple, "
                            f"torch.{fname}((2, 3)), not both (PyTorch raises TypeError)", position)


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
    shape = _checked(b, shape_ints(b, a["shape"], "full shape", position), "full", position)
    value = static(b, a["fill_value"], "full value", position)
    if not isinstance(value, (int, float)):
        raise JacValueError("full(): the fill value must be a number", position)
    made = b.const(np.full(shape, value, dtype=b.dtype), position)
    if type(b.pyints.get(getattr(a["fill_value"], "id", None))) is int:  # full(3, 7): int64 in both libraries
        fill = b.pyints[a["fill_value"].id]
        if not -2**63 <= fill < 2**63 or int(b.dtype(fill)) != fill:
            raise JacValueError(f"full(): the int64 fill value {fill} is out of int64's range or one --dtype cannot hold "
                                "exactly; jac refuses it rather than round", position)
        b.typed[made.id] = (np.dtype(np.int64), constant_library(b))  # the value as filled: exact
    return made


@function("eye")
def _eye(b, args, kwargs, position):
    a = arguments("eye", args, kwargs, {"N": REQUIRED, "M": None, "k": 0}, position)  # k: NumPy's diagonal offset
    n = shape_int(b, a["N"], "eye size", position)
    m = n if a["M"] is None else shape_int(b, a["M"], "eye size", position)
    _checked(b, (n, m), "eye", position)
    return b.const(np.eye(n, m, k=static_int(b, a["k"], "eye k", position), dtype=b.dtype), position)


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
    if any(abs(v) >= 2**53 for v in (start, stop, step)):  # constants are float64: 2**60 + 5 reads as 2**60
        raise JacValueError(f"arange(): bounds and step must be below 2**53 in size (float64 tells no integers "
                            f"apart beyond it, so arange{(start, stop, step)} could not be counted right)", position)
    count = (stop - start) / step
    n = max(0, math.ceil(count)) if math.isfinite(count) else math.inf
    _checked(b, (n,), "arange", position)
    if all(_integer_literal(b, a[k]) for k in ("start", "stop", "step")):  # int64 in both libraries
        if max(abs(start), abs(stop)) > dtypes.exact_max(b.dtype):  # float32: beyond 2**24
            made = dtypes.held(b, np.arange(int(start), int(stop), int(step), dtype=np.int64), "arange()", position)
        else:  # the same numbers made in --dtype at once (no int64 copy: a large arange's peak stays its size)
            made = np.arange(start, stop, step, dtype=b.dtype)
        out = b.const(made, position)
        b.typed[out.id] = (np.dtype(np.int64), constant_library(b))
        return out
    if b.library == "torch" and n <= TORCH_ONE_THREAD:  # PyTorch's rounding, not NumPy's (an ulp apart here and there)
        return b.const(torch_arange(float(start), float(step), n, np.dtype(b.dtype)), position)
    if np.dtype(b.dtype) == np.float64:
        # made as float64 at once (the same numbers: every integer below 2**53 is exact), not as
        # int64 then a float64 copy, which doubled the peak of a large arange
        return b.const(np.arange(start, stop, step, dtype=np.float64), position)
    return b.const(np.arange(start, stop, step).astype(b.dtype), position)


def _fma(m: int, step: float, c: float) -> float:
    """m · step + c rounded once to float64 (a fused multiply-add), exactly in integers."""
    (sn, sd), (cn, cd) = step.as_integer_ratio(), c.as_integer_ratio()
    d = max(sd, cd)  # powers of two
    return _quotient(m * sn * (d // sd) + cn * (d // cd), d)


TORCH_ONE_THREAD = 32768  # PyTorch's grain: a longer float arange is split among its threads, whose count moves its values


def torch_arange(start: float, step: float, n: int, dtype: np.dtype) -> np.ndarray:
    """The ``n`` values of a float ``torch.arange(start, ..., step)`` in ``dtype`` as PyTorch's CPU kernel makes
    them (its AVX2 kernel, which AVX-512 machines run too): in float64 arithmetic, blocks of 4 values (8 in
    float32) from a base ``start + step * i``, each ``base + k * step``, over the first multiple of twice that many,
    then ``start + step * i``; every step a fused multiply-add, float32 rounded from float64 at the base and at
    each value. Past 32,768 values PyTorch splits the work among its threads, whose count moves the blocks (and
    its values): the caller makes NumPy's there. tests/test_torch_readings16.py compares them with PyTorch's bit for bit."""
    width = 4 if dtype == np.float64 else 8
    blocked = n // (2 * width) * 2 * width
    values = []
    for first in range(0, blocked, width):
        base = _fma(first, step, start)
        if dtype != np.float64:
            base = float(np.float32(base))
        values += [base] + [_fma(k, step, base) for k in range(1, width)]
    values += [_fma(i, step, start) for i in range(blocked, n)]
    return np.array(values, dtype=np.float64).astype(dtype)


def _integer_literal(b: Builder, v) -> bool:
    """Is ``v`` absent, a Python int, or an integer constant (a literal ``3``, ``torch.tensor(3)``)?"""
    if v is None or (type(v) is int):
        return True
    if not isinstance(v, Tracer):
        return False
    typed = b.typed.get(v.id)
    return type(b.pyints.get(v.id)) is int or (typed is not None and typed[0].kind in "iu" and not v.shape)


@function("linspace")
def _linspace(b, args, kwargs, position):
    if b.library != "torch":
        return _numpy_linspace_lowering(b, args, kwargs, position)
    # torch.linspace(start, end, steps): its names; it has no endpoint= (TypeError in PyTorch)
    if "endpoint" in kwargs:
        raise JacValueError("torch.linspace() has no argument 'endpoint' (it takes start, end, steps)", position)
    kwargs = {{"end": "stop", "steps": "num"}.get(k, k): v for k, v in kwargs.items()}
    a = arguments("linspace", args, kwargs, {"start": REQUIRED, "stop": REQUIRED, "num": 50, "endpoint": True},
                  position)
    refuse_torch_grid_bounds(b, "linspace", (a["start"], a["stop"]), position)
    endpoint = static(b, a["endpoint"], "linspace endpoint", position)
    if not isinstance(endpoint, bool):
        raise JacValueError(f"linspace(): endpoint must be True or False, got {endpoint!r}", position)
    n = static_int(b, a["num"], "linspace count", position)
    if n < 0:
        raise JacValueError("linspace(): the count must not be negative", position)
    _checked(b, (n,), "linspace", position)
    start, stop = (static(b, a[k], "linspace bounds", position) for k in ("start", "stop"))
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (start, stop)):
        raise JacValueError("linspace() takes numbers", position)
    with np.errstate(all="ignore"):  # linspace(0, inf, 3) is [nan, inf, inf], as in NumPy, without a warning
        return b.const(torch_linspace(start, stop, n, np.dtype(b.dtype)), position)


TORCH_DETACHES = ("torch.{f}(): {what} is an expression of the inputs. PyTorch 2.13 answers with its values but "
                  "detached (the result's grad_fn is None: no gradient reaches {what}), which jac does not reproduce; "
                  "write constant bounds, or np.{f} / jnp.{f}, whose grids jac differentiates by their bounds")


def refuse_torch_grid_bounds(b, fname, values, position) -> None:
    """torch.linspace / torch.logspace with a bound an input reaches: refused, saying why (PyTorch detaches)."""
    for value in values:
        kind = dtypes.kind_of(b, value.id) if isinstance(value, Tracer) else None
        if isinstance(value, Tracer) and b.nodes[value.id].op != "const" and (kind is None or kind[0].kind not in "iu"):
            raise JacValueError(TORCH_DETACHES.format(f=fname, what="a bound") + input_not_constant(b, value),
                                position)


def torch_linspace(start, end, steps: int, dtype: np.dtype) -> np.ndarray:
    """``torch.linspace(start, end, steps)`` in ``dtype`` (float64 or float32) as PyTorch's CPU kernel computes it,
    which differs from NumPy's ``linspace`` by an ulp here and there (so ``(torch.linspace(-1, 1, 4) * 3).int()``
    would differ): ``step = (end - start) / (steps - 1)`` in ``dtype``, then ``start + step * i`` for the first
    ``steps // 2`` elements and ``end - step * (steps - 1 - i)`` for the rest, each a fused multiply-add (one
    rounding: the AVX2 and AVX-512 builds, tests/test_torch_readings16.py), computed here exactly in integers."""
    if steps == 0:
        return np.zeros(0, dtype)
    s, e = dtype.type(start), dtype.type(end)
    if steps == 1:
        return np.array([s], dtype)
    step = dtype.type(dtype.type(e - s) / dtype.type(steps - 1))
    index = np.arange(steps)
    half = steps // 2
    if not (np.isfinite(s) and np.isfinite(e) and np.isfinite(step)):  # inf and NaN: as unfused (the same specials)
        return np.where(index < half, s + step * index.astype(dtype), e - step * (steps - 1 - index).astype(dtype))
    (sn, sd), (en, ed), (pn, pd) = (float(v).as_integer_ratio() for v in (s, e, step))
    d = max(sd, ed, pd)  # powers of two: a common denominator
    sn, en, pn = sn * (d // sd), en * (d // ed), pn * (d // pd)
    exact = [sn + pn * i for i in range(half)] + [en - pn * (steps - 1 - i) for i in range(half, steps)]
    q = np.array([_quotient(num, d) for num in exact])  # each num / d rounded once to float64
    if dtype == np.float64:
        return q
    return _to_float32(q, exact, d)


def _quotient(num: int, den: int) -> float:
    """num / den rounded once to float64 (Python's int / int is correctly rounded); ±inf past its range."""
    try:
        return num / den
    except OverflowError:
        return math.copysign(math.inf, num)


def _to_float32(q: np.ndarray, exact: list, den: int) -> np.ndarray:
    """The float32 nearest each ``exact[i] / den`` (ties to even), of ``q``, its float64 roundings: rounding ``q``
    again is right but where ``q`` fell on a midpoint between two float32 values and the exact quotient is not
    there; those take the neighbour on the exact quotient's side."""
    r = q.astype(np.float32)
    wide = r.astype(np.float64)
    other = np.nextafter(r, np.where(q > wide, np.float32(np.inf), np.float32(-np.inf)).astype(np.float32))
    with np.errstate(invalid="ignore", over="ignore"):
        midpoint = np.isfinite(q) & (q != wide) & ((wide + other.astype(np.float64)) / 2 == q)
    for i in np.flatnonzero(midpoint):
        num_q, den_q = float(q[i]).as_integer_ratio()
        side = exact[i] * den_q - num_q * den  # the sign of exact / den - q
        if side != 0:
            r[i] = r[i] if (side > 0) == (float(r[i]) > q[i]) else other[i]
    return r


def _random(fname, draw):
    def lower(b, args, kwargs, position):
        shape = _checked(b, _shape_args(b, args, dict(kwargs), fname, position), fname, position)
        out = b.const(draw(b.rng, shape).astype(b.dtype, copy=False), position)  # float64: no copy
        b.random = b.random | {out.id}
        return out
    return lower


FUNCTIONS["rand"] = _random("rand", lambda rng, shape: rng.random(shape))
FUNCTIONS["randn"] = _random("randn", lambda rng, shape: rng.standard_normal(shape))


def names() -> list:
    return sorted(FUNCTIONS)


# --- PART elementwise: the element-wise vocabulary, comparisons, values as PyTorch users write them --
#
# Which library a spelling follows: where the libraries read one name differently, the library
# named decides. ``LIBRARY_FUNCTIONS[(library, NAME)]`` is the lowering of ``NAME`` as that library
# spells it, registered only through :func:`variant` (which refuses a second registration of a
# key). The library of a call is :func:`library_of`: ``"torch"`` (also ``F.``, ``torch.nn.functional``,
# ``torch.special``), ``"numpy"`` (also ``jnp``), ``"jax"`` (``jax.nn``), ``"scipy"``, ``"math"``,
# a submodule whose reading differs (``"torch.linalg"``, ``"np.linalg"``, which fall back to
# ``FALLBACK``: ``torch`` and ``numpy``), or ``"method"`` for ``x.NAME(...)`` (the lowering gets the
# array first: ``x.where(c, y)`` is ``where(c, x, y)``). The parser looks up the library, then its
# fallback, then ``FUNCTIONS[NAME]``, the bare spelling, which must refuse what is ambiguous. A name
# outside ``FUNCTIONS`` read differently by PyTorch and NumPy (``equal``) lists its meanings in
# ``READINGS[(library, NAME)]``: a bare call or method is refused naming both.
LIBRARY_FUNCTIONS: dict = {}
READINGS: dict = {}  # (library, NAME) -> what it means there, for the message refusing a bare call

LIBRARIES = {"torch": "torch", "F": "torch", "torch.nn.functional": "torch", "torch.linalg": "torch.linalg",
             "torch.special": "torch", "np": "numpy", "numpy": "numpy", "np.linalg": "np.linalg",
             "numpy.linalg": "np.linalg", "jnp": "numpy", "jax.numpy": "numpy", "jnp.linalg": "np.linalg",
             "np.random": "numpy.random", "numpy.random": "numpy.random",
             "jax.nn": "jax", "scipy.special": "scipy", "math": "math", "jax.numpy.linalg": "np.linalg",
             "jax.scipy.special": "jax.scipy", "jax.scipy.linalg": "jax.scipy.linalg", "jax.lax": "jax.lax",
             "scipy.linalg": "scipy.linalg",
             "lax": "jax.lax",
             "torch.fft": "torch.fft", "np.fft": "numpy.fft", "numpy.fft": "numpy.fft", "jnp.fft": "numpy.fft",
             "jax.numpy.fft": "numpy.fft", "scipy.fft": "numpy.fft",  # lang/fourier.py
             "nn": "torch.nn", "torch.nn": "torch.nn", "nn.functional": "torch"}  # nn.ReLU(): lang/modules.py
FALLBACK = {"torch.linalg": "torch", "np.linalg": "numpy", "jax.scipy": "scipy"}
# A dtype written in an expression (``dtype=torch.float32``, ``dtype=float``): its kind.
DTYPES = {"float16": "f", "half": "f", "bfloat16": "f", "float32": "f", "float": "f", "float64": "f",
          "double": "f", "float_": "f", "int8": "i", "int16": "i", "int32": "i", "int64": "i", "int": "i",
          "long": "i", "short": "i", "intp": "i", "uint8": "i", "uint16": "i", "uint32": "i", "uint64": "i",
          "bool": "b", "bool_": "b", "complex64": "c", "complex128": "c", "cfloat": "c", "cdouble": "c"}


def library_of(module_path: str | None, method: bool = False) -> str | None:
    """The library a call names: ``"method"`` for ``x.f()``, the library of a module path
    (``F`` and ``torch.special`` are ``torch``, ``torch.linalg`` is its own), None for a bare call."""
    return "method" if method else LIBRARIES.get(module_path) if module_path else None


def variant(library: str, *names):
    """Register the decorated lowering as ``library``'s spelling of each of ``names``."""
    def register(fn):
        for name in names:
            if (library, name) in LIBRARY_FUNCTIONS:
                raise ValueError(f"({library!r}, {name!r}) is registered twice")
            LIBRARY_FUNCTIONS[(library, name)] = fn
        return fn
    return register


for _name in ("rand", "randn"):  # np.random.rand(3): the constructors, seeded by --seed; nothing else of np.random
    variant("numpy.random", _name)(FUNCTIONS[_name])


def library_function(library: str | None, name: str):
    """The lowering of ``name`` as ``library`` spells it (or its fallback's), or None."""
    while library is not None:
        found = LIBRARY_FUNCTIONS.get((library, name))
        if found is not None:
            return found
        library = FALLBACK.get(library)
    return None


@dataclass(frozen=True)
class DType:
    """A dtype written in an expression: ``torch.float32`` is ``DType("float32", "f")``."""

    name: str
    kind: str
    library: str | None = None  # torch.int (int32) or Python's int (int64)


def booleans(b: Builder) -> set:
    """The ids of the nodes of ``b`` that hold booleans (0/1 masks): comparisons and their
    logic. They are never differentiated, and as an index they select (``x[x > 0]``)."""
    return b.booleans


def boolean(b: Builder, t: Tracer) -> Tracer:
    booleans(b).add(t.id)
    # np.zeros(4) > 0.3 folded: a bool array, so its sum is an int64 and that sum // 0 refused, as for an input's
    # mask; a 0-d result is left as it was (3 > 2 of Python's numbers is Python's bool, (3 > 2) + 1 an int)
    if b.typing and t.shape and t.id not in b.typed and b.nodes[t.id].op == "const":
        b.typed[t.id] = (np.dtype(bool), b.library if b.library in ("torch", "numpy") else None)
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
variant("jax", "gelu")(_gelu(True))  # jax.nn.gelu's default: the tanh approximation


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
    # celu(x, alpha) = x for x > 0, else alpha * elu(x / alpha, 1): x / alpha overflows for a large x
    # and a small alpha (celu(1e308, 0.5) was inf)
    a = arguments("celu", args, kwargs, {"x": REQUIRED, "alpha": 1.0}, position)
    alpha = _number(b, a["alpha"], "celu alpha", position)
    if alpha == 0:
        raise JacValueError("celu(): alpha must not be 0", position)
    x = tensor(b, a["x"], "celu", position)
    inner = b.apply("elu", b.apply("div", x, alpha, position=position), alpha=1.0, position=position)
    return b.apply("where", b.apply("gt", x, 0.0, position=position), x,
                   b.apply("mul", alpha, inner, position=position), position=position)


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
@function("relu6")
def _relu6(b, args, kwargs, position):
    """F.relu6(x): hardtanh(x, 0, 6), as PyTorch computes it (its second argument is inplace, no bound)."""
    x = tensor(b, arguments("relu6", args, kwargs, {"x": REQUIRED}, position)["x"], "relu6", position)
    return b.apply("hardtanh", x, lo=0.0, hi=6.0, position=position)


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
    # torch.lerp's two formulas: start + weight (end - start) for weight < 0.5, else
    # end - (end - start)(1 - weight), exact at weight = 1 (and NaN for lerp(0, inf, 0.5), as PyTorch)
    a = arguments("lerp", args, kwargs, {"x": REQUIRED, "end": REQUIRED, "weight": REQUIRED}, position)
    start, end, weight = (tensor(b, a[k], "lerp", position) for k in ("x", "end", "weight"))
    gap = b.apply("sub", end, start, position=position)

    def low(gap):
        return b.apply("add", start, b.apply("mul", weight, gap, position=position), position=position)

    def high(gap):
        rest = b.apply("sub", 1.0, weight, position=position)
        return b.apply("sub", end, b.apply("mul", gap, rest, position=position), position=position)

    node = b.nodes[weight.id]
    if node.op == "const" and np.ndim(node.value) == 0:  # a number: its formula alone
        return low(gap) if float(node.value) < 0.5 else high(gap)
    # a tensor weight: each formula sees the gap only where it is taken (the other's d/dweight, 0 · inf, was NaN)
    below = b.apply("lt", weight, 0.5, position=position)
    return b.apply("where", below, low(b.apply("where", below, gap, 0.0, position=position)),
                   high(b.apply("where", below, 0.0, gap, position=position)), position=position)


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
        if b.typing and all(_holds_integers(b, v) for v in (x, y)):  # integers: (x - fmod(x, y)) / y, exact
            rest = b.apply("fmod", x, y, position=position)  # of the integers' dtype (or refused: y = 0)
            kind = dtypes.kind_of(b, rest.id)
            if kind is not None and kind[0].kind in "iu":
                exact = b.apply("div", b.apply("sub", x, rest, position=position), y, position=position)
                if b.nodes[exact.id].op == "const":
                    return typed_cast(b, exact, kind[0], position, kind[1])
                return dtypes.checked(b, exact, kind[0], kind[1], position, what="div(rounding_mode='trunc')")
        return b.apply("trunc", b.apply("div", x, y, position=position), position=position)
    raise JacValueError(f"div(): rounding_mode must be None, 'floor' or 'trunc', got {mode!r}", position)


def _holds_integers(b: Builder, v: Tracer) -> bool:
    """``v`` holds integers or booleans as the libraries see it: an integer literal, an integer
    constant or an integer computed from inputs (ir/dtypes.py)."""
    return type(b.pyints.get(v.id)) is int or dtypes.kind_of(b, v.id) is not None


def _written_number(b: Builder, y):
    """``y`` as a Python number when it is one written in the expression (``0.5``, a constant folded from
    literals), else None (a tensor or an array, constant or not)."""
    if type(y) in (int, float):
        return y
    if isinstance(y, Tracer) and b.nodes[y.id].op == "const" and type(b.nodes[y.id].value) in (int, float):
        return b.nodes[y.id].value
    return None


def c_power(b: Builder, x, y, position) -> Tracer:
    """``x ** y`` as C's pow computes it at every exponent: JAX's always (``jnp.power``, and ``**`` in a text
    naming JAX alone), PyTorch's for a tensor exponent
    (torch_power). NumPy's ``x ** 0.5`` of a one-element exponent (a number, a 0-d or broadcast array) and
    PyTorch's of a number are their square root, ``sqrt(-inf)`` NaN and ``sqrt(-0.0)`` -0.0, where pow gives
    +inf and +0.0; other exponents are pow in all three. An exponent known only at run time (an input) is
    tested there. The derivative by x at -inf is 0 either way (0.5 · (-inf) ** -0.5); by the exponent there
    jac gives 0 (PyTorch and JAX NaN: inf · log(-inf))."""
    out = b.apply("pow", x, y, position=position)
    if not isinstance(x, Tracer) or dtypes.kind_of(b, out.id) is not None:
        return out
    written = _written_number(b, y)
    if written is not None and written != 0.5:
        return out
    if written is None and isinstance(y, Tracer) and b.nodes[y.id].op == "const" \
            and not np.any(np.asarray(b.nodes[y.id].value) == 0.5):
        return out
    fixed = b.apply("where", b.apply("eq", x, -math.inf, position=position), math.inf,
                    b.apply("add", out, 0.0, position=position), position=position)
    if written is not None:
        return fixed
    return b.apply("where", b.apply("eq", y, 0.5, position=position), fixed, out, position=position)


def torch_power(b: Builder, x, y, position) -> Tracer:
    """PyTorch's ``x ** y`` (``torch.pow``, ``x.pow``, and ``**`` in a text naming PyTorch): of a tensor
    exponent C's pow (:func:`c_power`), 0-d or not; of a number NumPy's (0.5 its square root), but -0.5 is
    PyTorch's rsqrt: -inf at x = -0 and NaN at -inf, where pow gives +inf and 0. Its derivative is pow's, as
    PyTorch's backward is (at -0 and -inf jac gives 0 there, PyTorch -inf and -0)."""
    written = _written_number(b, y)
    if written is None and isinstance(y, Tracer):
        return c_power(b, x, y, position)
    out = b.apply("pow", x, y, position=position)
    if written != -0.5 or not isinstance(x, Tracer) or dtypes.kind_of(b, out.id) is not None:
        return out
    negative_zero = logical("and", b, [boolean(b, b.apply("eq", x, 0.0, position=position)),
                                       boolean(b, b.apply("signbit", x, position=position))], position)
    out = b.apply("where", negative_zero, -math.inf, out, position=position)
    return b.apply("where", b.apply("eq", x, -math.inf, position=position), math.nan, out, position=position)


def jax_floor_divide(b: Builder, x, y, position) -> Tracer:
    """JAX's ``x // y`` (``jnp.floor_divide``, and ``//`` in a text naming JAX alone): NumPy's quotient, but a zero
    quotient has the sign of y, where NumPy's has the sign of x / y: JAX rounds (x - fmod(x, y)) / y, whose
    numerator is +0 wherever the quotient is 0 (``-0.5 // -0.75`` is -0 in JAX, +0 in NumPy and PyTorch), which
    shows after a division by it. Integers have no -0; no derivative either way. Two Python numbers are Python's
    (``//`` of two numbers in a JAX text is never JAX's)."""
    q = b.apply("floor_divide", x, y, position=position)
    if dtypes.kind_of(b, q.id) is not None or not (isinstance(x, Tracer) or isinstance(y, Tracer)):
        return q
    return b.apply("where", b.apply("eq", q, 0.0, position=position), b.apply("div", 0.0, y, position=position), q,
                   position=position)


def _by_spelling(op_name, jax_reading, torch_reading=None):
    """``np.power(x, y)``, ``jnp.floor_divide(x, y)``, ...: the op, or ``jax_reading(b, x, y, position)`` when the
    call is spelled ``jnp.`` / ``jax.numpy.`` (JAX computes it otherwise), ``torch_reading`` when it is spelled
    ``torch.`` or is the method (``x.pow(y)``: PyTorch's; NumPy's arrays have no such method)."""
    def lower(b, args, kwargs, position):
        a = arguments(op_name, args, kwargs, {"x": REQUIRED, "y": REQUIRED}, position)
        x, y = tensor(b, a["x"], op_name, position), tensor(b, a["y"], op_name, position)
        if jax_spelled(b):
            return jax_reading(b, x, y, position)
        if torch_reading is not None and (b.call or "").startswith(("torch.", f".{op_name}()")):
            return torch_reading(b, x, y, position)
        return b.apply(op_name, x, y, position=position)
    return lower


FUNCTIONS["pow"] = FUNCTIONS["power"] = _by_spelling("pow", c_power, torch_power)
FUNCTIONS["floor_divide"] = _by_spelling("floor_divide", jax_floor_divide)


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


def _isclose(whole: bool):
    """isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False): |a - b| <= atol + rtol |b| where b is finite,
    or a == b (infinities of one sign), or both NaN with equal_nan; as NumPy and PyTorch compute it.
    allclose: all of them, one boolean. Booleans: derivative 0."""
    fname = "allclose" if whole else "isclose"

    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"a": REQUIRED, "b": REQUIRED, "rtol": 1e-05, "atol": 1e-08,
                                            "equal_nan": False}, position)
        x, y = (tensor(b, a[k], fname, position) for k in ("a", "b"))
        rtol, atol = (_number(b, a[k], f"{fname} {k}", position) for k in ("rtol", "atol"))
        gap = b.apply("abs", b.apply("sub", x, y, position=position), position=position)
        bound = b.apply("add", atol, b.apply("mul", rtol, b.apply("abs", y, position=position), position=position),
                        position=position)
        near = [boolean(b, b.apply("le", gap, bound, position=position)),
                boolean(b, b.apply("isfinite", y, position=position))]
        close = logical("or", b, [logical("and", b, near, position),
                                  boolean(b, b.apply("eq", x, y, position=position))], position)
        if static(b, a["equal_nan"], "equal_nan", position):
            nans = [boolean(b, b.apply("isnan", v, position=position)) for v in (x, y)]
            close = logical("or", b, [close, logical("and", b, nans, position)], position)
        if not whole:
            return close
        return boolean(b, b.apply("prod", close, axes=tuple(range(close.ndim)), position=position))
    return lower


FUNCTIONS["isclose"] = _isclose(False)
FUNCTIONS["allclose"] = _isclose(True)


# np.equal is element-wise, torch.equal one boolean for the whole arrays: the library decides
variant("numpy", "equal")(_comparison("eq"))
variant("torch", "equal")(variant("method", "equal")(_all_equal))
READINGS[("numpy", "equal")] = "element-wise, an array of booleans"
READINGS[("torch", "equal")] = "one boolean, True when the shapes and all elements agree"


def truth(b: Builder, x: Tracer, position) -> Tracer:
    """``x`` as a boolean: itself if it is one, else ``x != 0`` (NumPy's and PyTorch's truth)."""
    return x if is_boolean(b, x) else boolean(b, b.apply("ne", x, 0.0, position=position))


def logical(op: str, b: Builder, args: list, position) -> Tracer:
    """``and``/``or``/``xor``/``not`` of truth values, as 0/1 arithmetic (exact); ``not`` is ``m == 0``, which a
    bool constant folds without PyTorch's refusal of ``1 - m`` (``~torch.eye(3, dtype=torch.bool)``)."""
    m = [truth(b, a, position) for a in args]
    if op == "not":
        return boolean(b, b.apply("eq", m[0], 0.0, position=position))
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


def _bitwise_not(fname):
    def lower(b, args, kwargs, position):  # torch.bitwise_not(mask), np.invert(mask): ~mask
        x = tensor(b, arguments(fname, args, kwargs, {"x": REQUIRED}, position)["x"], fname, position)
        if not is_boolean(b, x):
            raise JacValueError(f"{fname}() is the logical not of a boolean here (a comparison such as x > 0); jac's "
                                "numbers are floats, which have no bits to flip", position)
        return logical("not", b, [x], position)
    return lower


for _name in ("bitwise_not", "invert"):
    FUNCTIONS[_name] = _bitwise_not(_name)


def _bitwise(op):
    """torch.bitwise_and(m, n), np.bitwise_or(m, n), ...: of booleans (a Python bool among them) their logic, as
    ``m & n``; numbers are refused, as the operators refuse them."""
    fname = f"bitwise_{op}"

    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "y": REQUIRED}, position)
        if not all(type(v) is bool or is_boolean(b, v) for v in (a["x"], a["y"])):
            raise JacValueError(f"{fname}() is the logical {op} of booleans here (comparisons such as x > 0); jac's "
                                "numbers are floats, which have no bits", position)
        return logical(op, b, [tensor(b, a[k], fname, position) for k in ("x", "y")], position)
    return lower


for _op in ("and", "or", "xor"):
    FUNCTIONS[f"bitwise_{_op}"] = _bitwise(_op)


@function("where")
def _where(b, args, kwargs, position):
    if len(args) + len(kwargs) == 1:  # where(condition): nonzero(condition) as a tuple, in both libraries
        a = arguments("where", args, kwargs, {"condition": REQUIRED}, position)
        return _where_one(b, a["condition"], position)
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
    value = tensor(b, a["value"], "masked_fill", position)
    if x.id in b.typed or x.id in b.integral:  # into integers: the value in their dtype (1.7 fills 1), as PyTorch
        value = written_value(b, x, value, False, "masked_fill()", position)
    elif is_boolean(b, x):  # into booleans: the value's truth (0.5 fills True), as PyTorch
        value = truth(b, value, position)
    out = b.apply("where", mask, value, x, position=position)
    if is_boolean(b, x):
        out = boolean(b, out)
    if out.shape != x.shape:
        raise JacShapeError(f"masked_fill(): the mask {fmt(mask.shape)} must broadcast to the shape of the array "
                            f"{fmt(x.shape)}", position)
    return out


@variant("numpy", "nan_to_num")
def _np_nan_to_num(b, args, kwargs, position):
    """np.nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None): NumPy's second argument is copy (jac's
    values are never changed in place), so ``np.nan_to_num(x, True, 5.0)`` fills NaN with 5."""
    a = arguments("nan_to_num", args, kwargs, {"x": REQUIRED, "copy": True, "nan": 0.0, "posinf": None,
                                               "neginf": None}, position)
    _flag(b, a["copy"], "copy", "nan_to_num", position)
    return _nan_to_num(b, [a["x"]], {k: a[k] for k in ("nan", "posinf", "neginf")}, position)


def _torch_nan_to_num(b, args, kwargs, position):
    """torch.nan_to_num(x, nan=0.0, posinf=None, neginf=None) / x.nan_to_num(...): PyTorch's nan is Optional
    too, None read as its default 0 (NumPy's nan must be a number); the derivative is PyTorch's grad · isfinite(x)
    in both modes, NaN where an infinite tangent meets a non-finite x (np. / jnp.: a where, 0 there)"""
    a = arguments("nan_to_num", args, kwargs, {"x": REQUIRED, "nan": 0.0, "posinf": None, "neginf": None}, position)
    x = tensor(b, a["x"], "nan_to_num", position)
    nan, pos, neg = _nan_to_num_fills(b, 0.0 if a["nan"] is None else a["nan"], a["posinf"], a["neginf"], position)
    return b.apply("nan_to_num", x, nan=nan, posinf=pos, neginf=neg, position=position)


def _nan_to_num_fills(b, nan, posinf, neginf, position):
    """nan_to_num's fills as numbers of --dtype: posinf / neginf None are the dtype's largest finite numbers."""
    big = float(np.finfo(b.dtype).max)
    return (_number(b, nan, "nan_to_num nan", position),
            big if posinf is None else _number(b, posinf, "nan_to_num posinf", position),
            -big if neginf is None else _number(b, neginf, "nan_to_num neginf", position))


@function("nan_to_num")
def _nan_to_num(b, args, kwargs, position):
    # NaN -> nan, +inf -> posinf, -inf -> neginf (default: the largest finite numbers of the
    # dtype); the derivative is 0 where the value was not finite, a where as jnp.nan_to_num's (PyTorch's is a
    # product with isfinite(x): its own op, _torch_nan_to_num)
    a = arguments("nan_to_num", args, kwargs, {"x": REQUIRED, "nan": 0.0, "posinf": None, "neginf": None}, position)
    x = tensor(b, a["x"], "nan_to_num", position)
    nan, pos, neg = _nan_to_num_fills(b, a["nan"], a["posinf"], a["neginf"], position)
    infinite = b.apply("where", b.apply("gt", x, 0.0, position=position), pos, neg, position=position)
    fill = b.apply("where", b.apply("isnan", x, position=position), nan, infinite, position=position)
    return b.apply("where", b.apply("isfinite", x, position=position), x, fill, position=position)


variant("torch", "nan_to_num")(_torch_nan_to_num)
variant("method", "nan_to_num")(_torch_nan_to_num)


# --- values as PyTorch and NumPy users write them

NARROW_FLOATS = frozenset(("float16", "half", "bfloat16"))  # narrower than float32: a cast to them rounds values


def narrow_float(name: str, library: str | None) -> str:
    """Why a cast to (or ``dtype=``) a float narrower than float32 is refused: jac computes in --dtype."""
    lib = {"torch": "PyTorch's", "numpy": "NumPy's"}.get(library or "", "the library's")
    name = "half (float16)" if name == "half" else name
    return (f"{name}: jac computes in float64 or float32 (--dtype), so the rounding to {name} (about 3 decimal "
            f"digits) would be lost and the numbers would differ from {lib}: drop the cast (or dtype=) to compute in "
            "--dtype, or cast to float32 and run with --dtype float32")


FLOAT_BYTES = {"float32": 4, "float": 4, "single": 4, "float64": 8, "double": 8, "float_": 8}


def note_recast(b: Builder, x: Tracer, name: str, position) -> bool | None:
    """Remember a cast of ``x`` to the float ``name`` where --dtype is the other width (``x.float()`` under
    float64, ``x.double()`` under float32): jac computes it in --dtype, so the library's numbers differ in the last
    digits of --dtype's precision (the report warns, kind ``dtype``). Nothing for a mask or integers made floats, nor
    for a float32 constant that holds its values exactly (``torch.tensor([0.5], dtype=torch.float32)``): what the
    library then computes from them in float32 is warned of where it rounds (:func:`float32_made`). The answer:
    None where the cast is not one to float32 under float64, else whether it was warned of."""
    width = FLOAT_BYTES.get(name)
    if width is None or width == np.dtype(b.dtype).itemsize:
        return None
    if x.id in b.typed or x.id in b.integral or is_boolean(b, x):
        return False if width == 4 else None
    node = b.nodes[x.id]
    if width == 4 and node.op == "const":  # a float32 constant beside float64 values: PyTorch and NumPy promote it
        value = np.asarray(node.value)
        if value.dtype.kind in "biu" or np.array_equal(value.astype(np.float32), value, equal_nan=True):
            return False
    b.recast += ((position, "float32" if width == 4 else "float64"),)
    return True if width == 4 else None


def float32_made(b: Builder, x: Tracer, out: Tracer, warned: bool | None, library, position) -> Tracer:
    """``out``, the cast of ``x`` to float32 under --dtype float64 (``warned``: :func:`note_recast`'s answer),
    remembered as float32 (``Builder.narrow``, ir/dtypes.narrowed): the ops the library then computes in float32
    are warned of where they round. A float constant held as it was gets a node of its own (the cast is a copy in
    both libraries), so that ``x`` itself stays float64. A float an input reaches, which the cast returns as it is
    (its node is ``x``'s, so that what jac knows of ``x``'s memory holds: a write through it), was warned of at its
    cast whatever its values, as before session 47: a node of its own (``x * 1.0``, checked at the given values)
    answered texts whose copies jac refuses to guess (tests/test_views37.py)."""
    if warned is None or np.dtype(b.dtype).itemsize != 8 or out.id == x.id and b.nodes[x.id].op != "const":
        return out
    if out.id == x.id:
        if warned or b.narrow and x.id in b.narrow:  # float32 already: the library's cast returns it as it is
            return out
        value = b.nodes[x.id].value
        out = b.const(value.view() if isinstance(value, np.ndarray) else value, position)  # a view: no bytes counted
    if b.narrow is None:
        b.narrow = {}
    b.narrow[out.id] = (library if library in ("torch", "numpy") else None, warned)
    return out


def as_dtype(b: Builder, x: Tracer, dtype, position, library: str | None = None) -> Tracer:
    """``x`` converted as ``dtype=`` asks: float32 and float64 stay in --dtype (jac computes in one
    dtype), float16 and bfloat16 are refused (their rounding would be lost), integers truncate toward 0
    (as PyTorch's and NumPy's casts), bool is ``x != 0``."""
    if dtype is None:
        return x
    if isinstance(dtype, str) and dtype in DTYPES:  # dtype='float32', as NumPy takes it
        dtype = DType(dtype, DTYPES[dtype])
    if not isinstance(dtype, DType):
        raise JacValueError(f"dtype must be a dtype such as torch.float32 or np.float64, got {dtype!r}", position)
    if dtype.kind == "c":
        raise JacValueError(f"complex dtypes ({dtype.name}) are not supported by jac", position)
    if dtype.name in NARROW_FLOATS:  # even a mask's exact 0s and 1s: NumPy computes mask16 * 0.1 in float16
        raise JacValueError(narrow_float(dtype.name, dtype.library or b.library), position)
    if dtype.kind in "ib" and b.nodes[x.id].op == "const":  # a constant keeps its dtype (ir/dtypes.py)
        return typed_cast(b, x, dtypes.integer_dtype(dtype.name, dtype.library or constant_library(b, x)), position)
    if dtype.kind == "i":
        library = dtype.library or constant_library(b, x)
        return to_integer(b, x, position, dtypes.integer_dtype(dtype.name, library), library)
    if dtype.kind == "b":
        return truth(b, x, position)
    warned = note_recast(b, x, dtype.name, position)
    library = library or dtype.library or constant_library(b, x)  # a method's: its array's (x.astype: NumPy's)
    return float32_made(b, x, as_numbers(b, x, position), warned, library, position)


def written_value(b: Builder, y: Tracer, value, augmented: bool, what: str, position):
    """The value written into the integer constant ``y`` (``y[i] = v``, ``y[i] += v``, ``y += v``), cast
    to ``y``'s dtype as NumPy and PyTorch write it: a float truncated toward 0. A float result of an
    augmented write is refused for PyTorch (in-place results keep the dtype) and for ``y += v`` by both."""
    typed = b.typed.get(y.id) or b.integral.get(y.id)
    if typed is None or typed[0].kind == "b":
        return value
    dtype, library = typed
    v = b.lift(value) if isinstance(value, (bool, int, float)) else value
    if not isinstance(v, Tracer):
        return value
    integer = v.id in b.typed or v.id in b.pyints or v.id in b.integral
    if augmented and not integer and (library == "torch" or augmented == "whole"):
        raise JacValueError(f"{what}: the result is a float, which {'PyTorch' if library == 'torch' else 'NumPy'} "
                            f"does not write in place into the {dtype} array '{b.nodes[y.id].name or 'y'}' (write "
                            f"y = y.float() first, or y = y + v)", position)
    if b.nodes[v.id].op == "const":
        return typed_cast(b, v, dtype, position, library)
    return to_integer(b, v, position, dtype, library)  # truncated (its derivative 0), computed in --dtype


def constant_library(b: Builder, x=None) -> str | None:
    """The library whose dtypes a constant made now follows: the call's (``torch.arange``), or for a
    method (``t.long()``) or a bare spelling the library of ``x``."""
    if b.library in ("torch", "numpy"):
        return b.library
    typed = b.typed.get(x.id) if isinstance(x, Tracer) else None
    return typed[1] if typed is not None else None


def typed_cast(b: Builder, x: Tracer, dtype, position, library=None) -> Tracer:
    """The constant ``x`` cast to the integer or boolean ``dtype`` (a NumPy dtype), as NumPy and PyTorch
    cast it (floats truncated toward 0; a Python int out of range, NaN or an out-of-range float refused;
    integers wrap), and remembered as of that dtype."""
    node = b.nodes[x.id]
    source = dtypes.operand(b, x.id, node.value, position)
    if type(source) is int or (isinstance(source, np.ndarray) and x.id in b.pyints):
        ints = np.asarray(source, dtype=object)
        if dtype.kind in "iu" and ints.size and (ints.min() < np.iinfo(dtype).min or ints.max() > np.iinfo(dtype).max):
            raise JacValueError(f"the integer {ints.min() if ints.min() < np.iinfo(dtype).min else ints.max()} is out "
                                f"of range for {dtype} (NumPy and PyTorch refuse it)", position)
        source = (ints != 0) if dtype.kind == "b" else ints.astype(np.int64)
    elif is_boolean(b, x) and x.id not in b.typed:
        source = np.asarray(node.value) != 0
    value = dtypes.cast(b, source, dtype, f"the cast to {dtype}", position)
    out = b.const(dtypes.held(b, value, f"the cast to {dtype}", position), position)
    b.typed[out.id] = (np.dtype(dtype), library or constant_library(b, x))
    return boolean(b, out) if dtype.kind == "b" else out


def as_numbers(b: Builder, x: Tracer, position) -> Tracer:
    """``x`` cast to a number dtype: itself, or for a boolean its 0s and 1s in a node that is not one
    (PyTorch's ``m.float() + m.float()`` is 2 where ``m + m`` is True, and ``scaled_dot_product_attention``
    adds a float mask's 0s and 1s to the scores)."""
    if x.id in b.typed and not is_boolean(b, x):  # an integer constant made float: in --dtype, untyped
        return b.const(b.nodes[x.id].value, position)
    if x.id in b.integral and not is_boolean(b, x):  # integers computed from inputs made float: a float node
        return b.apply("add", x, 0.0, position=position)
    return b.apply("add", x, 0.0, position=position) if is_boolean(b, x) else x


def to_integer(b: Builder, x: Tracer, position, dtype=np.dtype(np.int64), library=None) -> Tracer:
    """``x`` cast to the integer ``dtype``, held in --dtype: a float truncated toward 0 (NaN, inf or out
    of range refused: undefined in both libraries), an integer wrapped, and a zero is +0 (an integer has
    no -0: ``1 / x.long()`` at x = -0.5 is inf in PyTorch, and ``trunc`` alone gives -0). Remembered as
    of ``dtype`` (ir/dtypes.py), its derivative 0."""
    if b.nodes[x.id].op == "const":
        return typed_cast(b, x, dtype, position, library)
    if not b.typing:
        return b.apply("add", b.apply("trunc", x, position=position), 0.0, position=position)
    kind = dtypes.kind_of(b, x.id)
    return dtypes.checked(b, x, np.dtype(dtype), library or (constant_library(b, x) if kind is None else kind[1]), position,
                          cast=kind is None, what=f"the cast to {np.dtype(dtype)}")


_VALUE_KEYWORDS = ("dtype", "device", "requires_grad", "pin_memory", "copy", "order", "layout", "like", "ndmin")


def _value_options(b, kwargs: dict, fname, position):
    """Pops the options a constructor takes in PyTorch and NumPy; returns the dtype."""
    options = {k: kwargs.pop(k) for k in _VALUE_KEYWORDS if k in kwargs}
    device = static(b, options.get("device"), "device", position)
    if device not in (None, "cpu"):
        raise JacValueError(f"{fname}(): device={device!r}: jac computes on the CPU with NumPy", position)
    if static(b, options.get("requires_grad"), "requires_grad", position):
        if getattr(b, "binding", False):  # x="torch.tensor([1., 2.], requires_grad=True)" on the command line
            raise JacValueError(f"{fname}(requires_grad=True): a binding's value is an input already, differentiated "
                                "unless --wrt leaves it out: drop requires_grad=True from it", position)
        raise JacValueError(f"{fname}(requires_grad=True): jac differentiates with respect to its inputs: those "
                            "bound on the command line (NAME=VALUE; --wrt chooses among them) and those the text "
                            "assigns at its top level, x = torch.tensor([1., 2.], requires_grad=True); here, inside "
                            "a function, a loop or an expression, drop requires_grad and make it an input so",
                            position)
    for key in ("layout", "like", "ndmin"):
        if key in options:
            raise JacValueError(f"{fname}(): the argument '{key}' is not supported by jac", position)
    dtype = options.get("dtype")
    return static(b, dtype, "dtype", position) if dtype is not None else None


# reductions and normalizations whose dtype= casts the input first (PyTorch's and NumPy's): a float dtype is jac's one
# dtype (as x.float()); an integer one truncates the elements before a sum or product, and is refused for a mean or a
# softmax (PyTorch refuses those)
DTYPE_FIRST = frozenset(("sum", "nansum", "prod", "nanprod", "cumsum", "cumprod", "mean", "nanmean", "softmax",
                         "log_softmax", "softmin", "norm", "vector_norm", "matrix_norm"))
_FLOAT_ONLY = frozenset(("mean", "nanmean", "softmax", "log_softmax", "softmin", "norm", "vector_norm", "matrix_norm"))
# PyTorch's alone among them: NumPy's norm has no dtype= (the parser reads these only in a call of PyTorch's)
TORCH_DTYPE_FIRST = frozenset(("norm", "vector_norm", "matrix_norm"))
_OR_SUMS = frozenset(("sum", "nansum", "cumsum"))  # their add of two booleans is an or: a bool sum is nonzero
_AND_PRODUCTS = frozenset(("prod", "nanprod", "cumprod"))  # their product of two booleans is an and: a bool


def _popped_dtype(b, kwargs: dict, position) -> tuple:
    """(the keywords without ``dtype``, the dtype it names: a :class:`DType` for a name of :data:`DTYPES`, None, or
    what ``static`` read)."""
    kwargs = dict(kwargs)
    dtype = static(b, kwargs.pop("dtype"), "dtype", position)
    if isinstance(dtype, str) and dtype in DTYPES:
        dtype = DType(dtype, DTYPES[dtype])
    return kwargs, dtype


def dtype_first(b, fname: str, lower, args: list, kwargs: dict, position) -> Tracer:
    """The call ``lower(args, kwargs)`` of ``fname`` (in DTYPE_FIRST) with ``dtype=`` applied to its array; a sum in
    bool is NumPy's and PyTorch's add of booleans, a logical or (``np.sum(x, dtype=bool)`` is ``np.any(x)``)."""
    kwargs, dtype = _popped_dtype(b, kwargs, position)
    if dtype is None:
        return lower(b, args, kwargs, position)
    if isinstance(dtype, DType) and dtype.kind == "b" and fname == "cumsum" and "torch" in (dtype.library, b.library):
        raise JacValueError("cumsum(dtype=bool): PyTorch has no cumsum in bool and raises; write "
                            "torch.cummax(x != 0, dim).values", position)
    if isinstance(dtype, DType) and dtype.kind == "b" and fname in _AND_PRODUCTS and fname.startswith("cum") \
            and "torch" in (dtype.library, b.library):  # cumprod
        raise JacValueError(f"{fname}(dtype=bool): PyTorch has no {fname} in bool and raises; write "
                            "torch.cummin(x != 0, dim).values", position)
    if isinstance(dtype, DType) and dtype.kind in "iub" and fname in _FLOAT_ONLY:
        numpy = "" if fname in TORCH_DTYPE_FIRST else " (NumPy truncates the elements and the result)"
        raise JacValueError(f"{fname}(dtype={dtype.name}): PyTorch computes a {fname} in a floating dtype only{numpy}; "
                            "jac refuses an integer one (drop dtype=: jac computes in --dtype)", position)
    key = next((k for k in ("input", "x", "a") if k in kwargs), None)
    if args:
        args = [as_dtype(b, tensor(b, args[0], fname, position), dtype, position)] + list(args[1:])
    elif key is not None:
        kwargs[key] = as_dtype(b, tensor(b, kwargs[key], fname, position), dtype, position)
    out = lower(b, args, kwargs, position)
    if isinstance(dtype, DType) and dtype.kind == "b" and fname in _OR_SUMS | _AND_PRODUCTS:
        return truth(b, out, position)  # a product of 0/1 is already 0/1: held as the bool the libraries give
    return out


# NumPy's functions outside DTYPE_FIRST that take dtype= (session 52): its ufuncs (np.exp(x, dtype=np.float64):
# the operands cast, as its casting='same_kind' allows for a float dtype) and these reductions (as the array's method
# in a NumPy text too)
NUMPY_DTYPE_REDUCTIONS = frozenset(("std", "var", "nanstd", "nanvar"))


# NumPy's and JAX's functions whose dtype= is their result's, which equals their operands cast first (session 54,
# kwforms53_probe: np.concatenate([x, y], dtype=np.float32), np.cov(x, dtype=...), np.trace(x, dtype=...): a copy,
# or a computation NumPy does in that dtype); NumPy's ufuncs jac lowers as variants (np.matvec, np.conjugate)
NUMPY_DTYPE_CASTS = frozenset(("concatenate", "concat", "stack", "hstack", "vstack", "row_stack", "dstack", "cov",
                               "corrcoef", "trace", "nancumsum", "nancumprod"))
NUMPY_VARIANT_UFUNCS = frozenset(("matvec", "vecmat", "conjugate", "spacing"))
_SECOND_CAST = {"cov": "y", "corrcoef": "y"}  # the second array these take, cast as the first


def numpy_takes_dtype(fname: str, kind: str) -> bool:
    if fname in NUMPY_DTYPE_REDUCTIONS:
        return True
    if kind == "function" and fname in NUMPY_DTYPE_CASTS | NUMPY_VARIANT_UFUNCS:
        return True
    return kind == "function" and isinstance(getattr(np, fname, None), np.ufunc) and fname in FUNCTIONS


def numpy_dtype(b, fname: str, lower, args: list, kwargs: dict, position) -> Tracer:
    """NumPy's ``dtype=`` of a ufunc (``np.exp(x, dtype=np.float64)``, ``np.add(x, y, dtype=...)``: every
    operand cast) or of ``std`` / ``var`` / ``nanstd`` / ``nanvar`` (the array cast): a float dtype is --dtype, as
    ``as_dtype`` reads it (jac computes in one dtype); an integer or bool one refused (a ufunc's float operand has
    no same_kind cast to it, NumPy's UFuncTypeError; a std in integers truncates)."""
    kwargs, dtype = _popped_dtype(b, kwargs, position)
    if dtype is None:
        return lower(b, args, kwargs, position)
    call = b.call or f"np.{fname}"
    if isinstance(dtype, DType) and dtype.kind in "iub":
        copies = NUMPY_DTYPE_CASTS - {"cov", "corrcoef", "trace", "nancumsum", "nancumprod"}
        why = "JAX's result would be truncated" if call.startswith(("jnp.", "jax.")) else \
            "NumPy's result would be truncated" if fname in NUMPY_DTYPE_REDUCTIONS | NUMPY_DTYPE_CASTS - copies else \
            "NumPy raises TypeError: a float array has no same_kind cast to it" if fname in copies else \
            "NumPy raises UFuncTypeError: a float operand has no same_kind cast to it"
        raise JacValueError(f"{call}(dtype={dtype.name}): {why}; jac refuses an integer or bool dtype here (drop "
                            "dtype=: jac computes in --dtype)", position)
    ufunc = getattr(np, fname, None) if call.startswith(("np.", "numpy.")) else None
    if isinstance(ufunc, np.ufunc) and all(t.endswith("->?") for t in ufunc.types if t.startswith("d")):
        raise JacValueError(f"{call}(dtype={getattr(dtype, 'name', dtype)}): the result of {fname} is bool, and NumPy "
                            "raises TypeError at a float dtype (no loop of that signature): drop dtype=", position)
    if fname == "spacing" and isinstance(dtype, DType) and np.dtype(dtype.name) != np.dtype(b.dtype):
        raise JacValueError(f"{call}(dtype={dtype.name}) is the spacing of {dtype.name} numbers, and jac computes in "
                            f"{np.dtype(b.dtype).name}: run with --dtype {dtype.name} and drop dtype=", position)
    if fname in NUMPY_DTYPE_CASTS:
        return lower(b, *_cast_operands(b, fname, args, kwargs, dtype, position), position)
    reduction = fname in NUMPY_DTYPE_REDUCTIONS
    cast = [as_dtype(b, tensor(b, x, fname, position), dtype, position)
            if isinstance(x, Tracer) and (not reduction or i == 0) else x for i, x in enumerate(args)]
    key = next((k for k in ("a", "x", "input") if k in kwargs), None)
    if not args and key is not None and isinstance(kwargs[key], Tracer):
        kwargs[key] = as_dtype(b, kwargs[key], dtype, position)
    return lower(b, cast, kwargs, position)


def _cast_operands(b, fname: str, args: list, kwargs: dict, dtype, position) -> tuple:
    """``(args, kwargs)`` with the arrays of a :data:`NUMPY_DTYPE_CASTS` call cast to ``dtype``: the first (each of
    a list of them: np.concatenate's), and cov's / corrcoef's y; the numbers after them (ddof, axis) as they are."""
    def cast(x):
        if isinstance(x, Items):
            out = Items([cast(item) for item in x])
            out.display = x.display
            return out
        if isinstance(x, (list, tuple)):
            return type(x)(cast(item) for item in x)
        return as_dtype(b, tensor(b, x, fname, position), dtype, position)

    args, kwargs = list(args), dict(kwargs)
    first = next((k for k in ("arrays", "tup", "m", "a", "x") if k in kwargs), None)
    if args:
        args[0] = cast(args[0])
    elif first is not None:
        kwargs[first] = cast(kwargs[first])
    second = _SECOND_CAST.get(fname)
    if second is not None:
        if len(args) > 1 and args[1] is not None:
            args[1] = cast(args[1])
        elif kwargs.get(second) is not None:
            kwargs[second] = cast(kwargs[second])
    return args, kwargs


# NumPy's positional parameters after (a, axis) of the reductions whose third PyTorch reads as keepdim:
# np.sum(x, 0, int) is dtype=int, np.max(x, 0, None, True) out=None, keepdims=True (numpy_positional)
NUMPY_AFTER_AXIS = {**dict.fromkeys(("sum", "prod", "nansum", "nanprod", "mean", "nanmean"), ("dtype", "out", "keepdims")),
                    **dict.fromkeys(("max", "min", "amax", "amin", "nanmax", "nanmin", "all", "any"), ("out", "keepdims")),
                    **dict.fromkeys(("argmax", "argmin", "nanargmax", "nanargmin", "median", "nanmedian"), ("out",)),
                    "ptp": ("out", "keepdims")}


def numpy_positional(fname: str, args: list, kwargs: dict, numpy: bool, position) -> tuple:
    """``(args, kwargs)`` of a reduction with more positional arguments than (x, axis): given by NumPy's names
    when the call reads NumPy (``np.sum(x, 0, int)``, ``x.sum(0, int)`` in a NumPy text; ``out`` must be None);
    otherwise PyTorch's keepdim stays third, and a dtype there, NumPy's reading, is refused."""
    names = NUMPY_AFTER_AXIS.get(fname)
    if names is None or len(args) <= 2:
        return args, kwargs
    if not numpy:
        if any(_is_dtype(a) for a in args[2:]):
            raise JacValueError(f"{fname}(): a dtype as the third argument is NumPy's reading (np.{fname}(x, axis, "
                                f"dtype)), PyTorch's third is keepdim: write dtype= by keyword", position)
        return args, kwargs
    if len(args) > 2 + len(names):
        raise JacParseError(f"{fname}() takes at most {2 + len(names)} positional argument(s) in NumPy (the "
                            f"rest by keyword), got {len(args)}", position)
    kwargs = dict(kwargs)
    for name, value in zip(names, args[2:]):
        if name in kwargs:
            raise JacParseError(f"{fname}() got argument '{name}' twice", position)
        if name == "out" and value is not None:
            raise JacValueError(f"{fname}(): out= writes into an array, which jac does not do: use the result",
                                position)
        if name != "out":
            kwargs[name] = value
    return args[:2], kwargs


def torch_positional_dtype(fname: str, args: list, kwargs: dict) -> tuple:
    """``torch.softmax(x, dim, dtype)`` and ``x.log_softmax(dim, dtype)``: ATen's third parameter is the dtype
    (F's third is _stacklevel: the parser calls this for PyTorch's top-level spellings and methods alone)."""
    if fname in ("softmax", "log_softmax") and len(args) == 3 and _is_dtype(args[2]) and "dtype" not in kwargs:
        return args[:2], {**kwargs, "dtype": args[2]}
    return args, kwargs


def _is_dtype(value) -> bool:
    return isinstance(value, Static) and (isinstance(value.value, DType) or value.value in DTYPES)


def _with_dtype(fname, lower, cast=None):
    """``lower`` taking a constructor's ``dtype=`` (also positional) and ``device=``; the result cast by ``cast``
    (:func:`as_dtype` unless given)."""
    cast = cast or as_dtype

    def wrapped(b, args, kwargs, position):
        kwargs = dict(kwargs)
        dtypes = [a for a in args if _is_dtype(a)]  # np.zeros(3, 'float32'), np.arange(3, dtype): positional
        if dtypes and "dtype" not in kwargs:
            kwargs["dtype"] = dtypes[-1]
        args = [a for a in args if not _is_dtype(a)]
        dtype = _value_options(b, kwargs, fname, position)
        return cast(b, lower(b, args, kwargs, position), dtype, position)
    if fname in ("logspace", "geomspace"):  # the reference's description (tools/reference.py reads __doc__)
        wrapped.__doc__ = lower.__doc__
    return wrapped


def _cast_grid(b, y, dtype, position):
    """linspace's ``y`` as ``dtype=`` asks: NumPy's and JAX's floor before an integer dtype (a cast truncates);
    ``retstep=True``'s (y, step) keeps its step as computed."""
    if isinstance(y, Items):
        return Items((_cast_grid(b, y[0], dtype, position), y[1]))
    if b.library != "torch" and dtype is not None and \
            (dtype.kind if isinstance(dtype, DType) else DTYPES.get(dtype, "")) == "i":
        y = b.apply("floor", y, position=position)
    return as_dtype(b, y, dtype, position)


for _name in ("arange", "eye", "ones", "zeros", "full", "rand", "randn"):
    FUNCTIONS[_name] = _with_dtype(_name, FUNCTIONS[_name])
FUNCTIONS["linspace"] = _with_dtype("linspace", FUNCTIONS["linspace"], _cast_grid)


@variant("numpy", "identity")
def _identity_matrix(b, args, kwargs, position):
    """np.identity(n): eye(n) (dtype= as every constructor)."""
    a = arguments("identity", args, kwargs, {"n": REQUIRED, "dtype": None}, position)
    return FUNCTIONS["eye"](b, [a["n"]], {} if a["dtype"] is None else {"dtype": a["dtype"]}, position)


# --- linspace / logspace / geomspace with bounds that are inputs (session 45) ----------------------------------
#
# NumPy's and JAX's grids differentiated by their bounds: the lowering writes the library's own formula in ops, so
# the values are the library's (NumPy's `arange * step + start`, its step-0 branch, `y[-1] = stop`; JAX's
# `start * (1 - t) + stop * t`) and the derivatives those of the ops. Constant bounds of np. keep NumPy's constant.


def _bound(b: Builder, value, fname, position) -> Tracer:
    """A bound (or logspace's base) as one array of --dtype; a list is NumPy's array of it."""
    return tensor(b, b.const(value, position) if isinstance(value, (list, tuple)) and not isinstance(value, Items)
                  else value, fname, position)


def _is_constant(b: Builder, value) -> bool:
    return value is None or isinstance(value, (int, float, str, Static)) or type(value) is tuple or (
        isinstance(value, Tracer) and b.nodes[value.id].op == "const")


def _grid_axis(b: Builder, value, ndim: int, fname, position, jax: bool) -> int:
    """linspace's ``axis=`` over the result's ``ndim`` axes. NumPy moves the axis only where ``axis != 0`` (so
    ``axis=0.0`` is its axis 0) and reads any other by ``operator.index``; JAX reads an int."""
    if not jax and not isinstance(value, Tracer) and not isinstance(value, bool) and value == 0:
        return 0
    if not jax and isinstance(value, Tracer) and b.nodes[value.id].op == "const" and \
            np.ndim(b.nodes[value.id].value) == 0 and b.nodes[value.id].value == 0 and value.id in b.floats:
        return 0  # np.linspace(a, b, axis=0.0): NumPy tests axis != 0 before it reads the axis
    try:
        return normalize_axis(static_int(b, value, f"{fname} axis", position), ndim)
    except JacShapeError as err:
        raise JacShapeError(f"{fname}: {err.message}", position) from None


def _moved(b: Builder, y: Tracer, axis: int, position) -> Tracer:
    """np.moveaxis(y, 0, axis)."""
    perm = list(range(1, y.ndim))
    perm.insert(axis, 0)
    return _permute(b, y, perm, position)


def _spread(b: Builder, n: int, ndim: int, values) -> np.ndarray:
    """``values`` (n of them, in --dtype) as a column of shape (n, 1, ..., 1) against ``ndim`` axes of bounds."""
    return np.asarray(values, dtype=b.dtype).reshape((n,) + (1,) * ndim)


def _set_first_last(b: Builder, y: Tracer, first, last, position) -> Tracer:
    """``y[0] = first`` and ``y[-1] = last`` (either None: left), as NumPy's item assignments, by a mask."""
    n, ndim = y.shape[0], y.ndim - 1
    for at, value in ((0, first), (n - 1, last)):
        if value is not None:
            mask = np.zeros(n, dtype=bool)
            mask[at] = True
            y = b.apply("where", b.const(_spread(b, n, ndim, mask), position), value, y, position=position)
    return y


def numpy_linspace(b: Builder, start: Tracer, stop: Tracer, n: int, endpoint: bool, position):
    """``np.linspace(start, stop, n, endpoint, retstep=True)`` along axis 0, in ops, as NumPy 2's function_base
    computes it: ``delta = stop - start``, ``step = delta / div``; where any step is 0, ``arange / div * delta``
    (its subnormal branch), else ``arange * step``; plus ``start``; the last set to ``stop`` (endpoint, n > 1).
    ``div <= 0`` (n = 0, or 1 with endpoint): ``arange * delta + start`` and a NaN step. Returns (y, step)."""
    delta = b.apply("sub", stop, start, position=position)
    nd = delta.ndim
    div = n - 1 if endpoint else n
    index = np.arange(n, dtype=b.dtype)
    if div <= 0:
        y = b.apply("mul", b.const(_spread(b, n, nd, index), position), delta, position=position)
        step = b.const(math.nan, position)
    else:
        step = b.apply("div", delta, float(div), position=position)
        zero = b.apply("eq", step, 0.0, position=position)
        if nd:
            zero = b.apply("sum", zero, axes=tuple(range(nd)), position=position)
        zero = boolean(b, b.apply("gt", zero, 0.0, position=position))
        small = b.apply("mul", b.const(_spread(b, n, nd, index / index.dtype.type(div)), position), delta,
                        position=position)
        plain = b.apply("mul", b.const(_spread(b, n, nd, index), position), step, position=position)
        y = b.apply("where", zero, small, plain, position=position)
    y = b.apply("add", y, start, position=position)
    if endpoint and n > 1:
        y = _set_first_last(b, y, None, stop, position)
    return y, step


def jax_linspace(b: Builder, start: Tracer, stop: Tracer, n: int, endpoint: bool, position):
    """``jnp.linspace(start, stop, n, endpoint, retstep=True)`` along axis 0, as JAX computes it:
    ``start * (1 - t) + stop * t`` with ``t = iota(div) / div`` in --dtype (as XLA computes it: times the inverse of
    div), ``stop`` appended (endpoint); n = 1:
    ``start`` (the step NaN with endpoint, else ``stop - start``); n = 0: empty, a NaN step. Returns (y, step)."""
    shape = broadcast(start.shape, stop.shape)
    start, stop = (v if v.shape == shape else b.apply("broadcast_to", v, shape=shape, position=position)
                   for v in (start, stop))
    div = n - 1 if endpoint else n
    nd = len(shape)
    if n > 1:
        one = np.dtype(b.dtype).type(1)
        inverse = one / np.dtype(b.dtype).type(div)  # XLA divides by a broadcast scalar as a product by its inverse
        step = b.apply("mul", b.apply("sub", stop, start, position=position), float(inverse), position=position)
        t = np.arange(n, dtype=b.dtype) * inverse
        y = b.apply("add", b.apply("mul", start, b.const(_spread(b, n, nd, one - t), position), position=position),
                    b.apply("mul", stop, b.const(_spread(b, n, nd, t), position), position=position),
                    position=position)
        return (_set_first_last(b, y, None, stop, position) if endpoint else y), step
    zero = b.const(np.zeros((n,) + (1,) * nd, b.dtype), position)
    y = b.apply("add", zero, start, position=position)
    step = b.apply("sub", stop, start, position=position) if n == 1 and not endpoint else b.const(math.nan, position)
    return y, step


def _grid_arguments(b, fname, args, kwargs, extra, position):
    """The arguments of np./jnp. linspace, logspace and geomspace: the count (a constant, not negative), endpoint
    (a bool), the rest as given."""
    params = {"start": REQUIRED, "stop": REQUIRED, "num": 50, "endpoint": True} | extra | {"axis": 0}
    a = arguments(fname, args, kwargs, params, position)
    a["endpoint"] = static(b, a["endpoint"], f"{fname} endpoint", position)
    if not isinstance(a["endpoint"], bool):
        raise JacValueError(f"{fname}(): endpoint must be True or False, got {a['endpoint']!r}", position)
    a["num"] = static_int(b, a["num"], f"{fname} count", position)
    if a["num"] < 0:
        raise JacValueError(f"{fname}(): the count must not be negative (NumPy: Number of samples, {a['num']}, "
                            "must be non-negative)", position)
    return a


def _grid(b, fname, a, position):
    """(y, step, axis): linspace of the bounds ``a["start"]`` and ``a["stop"]`` (arrays, of the inputs or not),
    NumPy's or JAX's as spelled, its new axis moved to ``a["axis"]``."""
    jax = jax_spelled(b)
    start, stop = (_bound(b, a[k], fname, position) for k in ("start", "stop"))
    shape = broadcast(start.shape, stop.shape)
    n = a["num"]
    _checked(b, (n,) + tuple(shape), fname, position)
    y, step = (jax_linspace if jax else numpy_linspace)(b, start, stop, n, a["endpoint"], position)
    axis = _grid_axis(b, a["axis"], y.ndim, fname, position, jax)
    y = _moved(b, y, axis, position)
    return y, step, axis


def _numpy_base(b, base: Tracer, axis: int, ndim: int, position) -> Tracer:
    """NumPy's logspace base of one or more axes: raised to the bounds' rank (ndmin) and given the new axis."""
    if base.ndim < ndim:
        base = b.apply("reshape", base, shape=(1,) * (ndim - base.ndim) + tuple(base.shape), position=position)
    return b.apply("reshape", base, shape=tuple(base.shape[:axis]) + (1,) + tuple(base.shape[axis:]),
                   position=position)


def _numpy_linspace_lowering(b, args, kwargs, position):
    """np.linspace(start, stop, num=50, endpoint=True, retstep=False, axis=0) and jnp.linspace: NumPy's constant
    for numbers; bounds that are inputs or arrays (any shape, broadcast together, the new axis at ``axis``) through
    :func:`numpy_linspace` / :func:`jax_linspace`, differentiated by them. ``retstep=True``: (y, step)."""
    fname = "linspace"
    a = _grid_arguments(b, fname, args, kwargs, {"retstep": False}, position)
    retstep = static(b, a["retstep"], "linspace retstep", position)
    if not isinstance(retstep, bool):
        raise JacValueError(f"linspace(): retstep must be True or False, got {retstep!r}", position)
    n, endpoint = a["num"], a["endpoint"]
    if not jax_spelled(b) and all(_is_constant(b, a[k]) for k in ("start", "stop")):
        start, stop = (static(b, a[k], "linspace bounds", position) for k in ("start", "stop"))
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (start, stop)) and a["axis"] == 0:
            _checked(b, (n,), fname, position)
            with np.errstate(all="ignore"):  # linspace(0, inf, 3) is [nan, inf, inf], as in NumPy, without a warning
                y, step = np.linspace(start, stop, n, endpoint=endpoint, retstep=True, dtype=b.dtype)
            y = b.const(y, position)
            return Items((y, b.const(float(step), position))) if retstep else y
    with np.errstate(all="ignore"):
        y, step, _ = _grid(b, fname, a, position)
    return Items((y, step)) if retstep else y


def _logspace_lowering(b, args, kwargs, position):
    """np.logspace(start, stop, num=50, endpoint=True, base=10.0, axis=0) and jnp.logspace: ``base ** linspace``;
    NumPy gives an array base the bounds' rank and the new axis first (its ``expand_dims``), JAX broadcasts it as
    it is. Bounds and base may be inputs."""
    fname = "logspace"
    a = _grid_arguments(b, fname, args, kwargs, {"base": 10.0}, position)
    base = _bound(b, a["base"], fname, position)
    if base.ndim and not jax_spelled(b):  # NumPy: start, stop and base raised to one rank (ndmin)
        rank = len(broadcast(broadcast(_bound(b, a["start"], fname, position).shape,
                                       _bound(b, a["stop"], fname, position).shape), base.shape))
        for k in ("start", "stop"):
            v = _bound(b, a[k], fname, position)
            a[k] = v if v.ndim == rank else b.apply("reshape", v, shape=(1,) * (rank - v.ndim) + tuple(v.shape),
                                                    position=position)
    with np.errstate(all="ignore"):
        y, _, axis = _grid(b, fname, a, position)
        if base.ndim and not jax_spelled(b):
            base = _numpy_base(b, base, axis, y.ndim - 1, position)
        return b.apply("pow", base, y, position=position)


GEOMETRIC_ZERO = "geomspace(): Geometric sequence cannot include zero (NumPy's ValueError: a bound is 0)"


def _geomspace_lowering(b, args, kwargs, position):
    """np.geomspace(start, stop, num=50, endpoint=True, axis=0) and jnp.geomspace: ``sign · 10 ** linspace(log10
    start/sign, log10 stop/sign)`` along axis 0, then moved; NumPy's sets the first and last to start and stop and
    refuses a bound 0 (at evaluation, for an input); JAX's does neither. Bounds may be inputs."""
    fname = "geomspace"
    a = _grid_arguments(b, fname, args, kwargs, {}, position)
    jax = jax_spelled(b)
    start, stop = (_bound(b, a[k], fname, position) for k in ("start", "stop"))
    n = a["num"]
    _checked(b, (n,) + tuple(broadcast(start.shape, stop.shape)), fname, position)
    with np.errstate(all="ignore"):
        zero = [b.apply("eq", v, 0.0, position=position) for v in (start, stop)]  # NumPy's test, before it divides
        zero = [b.apply("sum", z, axes=tuple(range(z.ndim)), position=position) if z.ndim else z for z in zero]
        found = boolean(b, b.apply("gt", b.apply("add", *zero, position=position), 0.0, position=position))
        sign = b.apply("sign", start, position=position)
        start, stop = (b.apply("div", v, sign, position=position) for v in (start, stop))
        logs = [b.apply("log10", v, position=position) for v in (start, stop)]
        y, _ = (jax_linspace if jax else numpy_linspace)(b, *logs, n, a["endpoint"], position)
        y = b.apply("pow", 10.0, y, position=position)
        if not jax and n > 0:
            y = _set_first_last(b, y, start, stop if n > 1 and a["endpoint"] else None, position)
        y = b.apply("mul", y, sign, position=position)
        if not jax:
            y = refused(b, y, f"{'np.' if (b.call or '').startswith('np') else ''}{GEOMETRIC_ZERO}", where=found,
                        position=position)
    return _moved(b, y, _grid_axis(b, a["axis"], y.ndim, fname, position, jax), position)


variant("numpy", "logspace")(_with_dtype("logspace", _logspace_lowering))


def _torch_logspace(b, args, kwargs, position):
    """torch.logspace(start, end, steps, base=10.0): PyTorch's constant, base ** (its exponents), as its CPU kernel
    computes them (:func:`torch_logspace`)."""
    a = arguments("logspace", args, kwargs, {"start": REQUIRED, "end": REQUIRED, "steps": REQUIRED, "base": 10.0},
                  position)
    n = static_int(b, a["steps"], "logspace steps", position)
    if n < 0:
        raise JacValueError("torch.logspace(): the number of steps must not be negative", position)
    _checked(b, (n,), "logspace", position)
    refuse_torch_grid_bounds(b, "logspace", (a["start"], a["end"], a["base"]), position)
    values = [static(b, a[k], f"logspace {k}", position) for k in ("start", "end", "base")]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        raise JacValueError("torch.logspace() takes numbers", position)
    return b.const(torch_logspace(*values, n, np.dtype(b.dtype)), position)


def torch_logspace(start, end, base, steps: int, dtype: np.dtype) -> np.ndarray:
    """``torch.logspace(start, end, steps, base)`` in ``dtype`` as PyTorch's CPU kernel computes it: start and end
    rounded to ``dtype``, the step ``(end - start) / (steps - 1)`` in float64, the exponent ``start + step * i``
    for the first ``steps // 2`` elements and ``end - step * (steps - 1 - i)`` for the rest (float64, unfused),
    then ``pow(base, exponent)`` in float64 rounded to ``dtype``; one step is ``pow(base, start)`` of start as
    written (not rounded to ``dtype``)."""
    s, e = (float(dtype.type(v)) for v in (start, end))
    with np.errstate(all="ignore"):
        if steps <= 1:
            return np.power(float(base), np.full(steps, float(start))).astype(dtype)
        step = float(dtype.type(e - s)) / (steps - 1)
        i = np.arange(steps, dtype=np.float64)
        exponents = np.where(i < steps // 2, s + step * i, e - step * (steps - 1 - i))
        return np.power(float(base), exponents).astype(dtype)


LIBRARY_FUNCTIONS[("torch", "logspace")] = _with_dtype("logspace", _torch_logspace)
variant("numpy", "geomspace")(_with_dtype("geomspace", _geomspace_lowering))


@variant("numpy", "tri")
def _tri(b, args, kwargs, position):
    """np.tri(N, M=None, k=0): ones at and below the k-th diagonal, a constant."""
    a = arguments("tri", args, kwargs, {"N": REQUIRED, "M": None, "k": 0}, position)
    n = shape_int(b, a["N"], "tri size", position)
    m = n if a["M"] is None else shape_int(b, a["M"], "tri size", position)
    _checked(b, (n, m), "tri", position)
    return b.const(np.tri(n, m, k=static_int(b, a["k"], "tri k", position), dtype=b.dtype), position)


def _value_of(fname, detach):
    """``torch.tensor(v)`` and ``np.array(v)``: a list is a constant; of an expression of the
    inputs, ``torch.tensor`` is a detached copy (as PyTorch, which warns), the others the
    value itself (``torch.as_tensor``, ``np.asarray``, ``np.array``)."""
    def lower(b, args, kwargs, position):
        kwargs = dict(kwargs)
        if fname in _POSITIONAL_DTYPE and len(args) == 2 and "dtype" not in kwargs:  # np.array(x, float)
            kwargs["dtype"], args = args[1], args[:1]
        dtype = _value_options(b, kwargs, fname, position)
        data = arguments(fname, args, kwargs, {"data": REQUIRED}, position)["data"]
        x = _nested(b, data, fname, detach, position) if isinstance(data, Items) else tensor(b, data, fname, position)
        if fname in _POSITIONAL_DTYPE and (b.call or "").rsplit(".", 1)[0] in ("np", "numpy"):  # NumPy's own
            # array of a JAX tracer: JAX raises (not jnp.asarray's, which the library names "numpy" too)
            record_read(b, x, position, "array")
        node = b.nodes[x.id]
        if x.id in b.displays:  # (a builder's own dict once it holds one: Builder.own)
            del b.displays[x.id]  # torch.tensor((0, 1)): a tensor now (the same constant), as PyTorch takes it
        if detach and node.op != "const":
            x = detached(b, x, position)
        elif dtype is None and x.id in b.pyints and type(b.pyints[x.id]) is not bool:  # [1, 2], 3: int64 in both
            return typed_cast(b, x, np.dtype(np.int64), position, _made_by(b, fname))
        elif dtype is None and node.op == "const" and x.id not in b.typed and (
                is_boolean(b, x) or type(b.pyints.get(x.id)) is bool):  # [True, False], True: bool
            return typed_cast(b, x, np.dtype(bool), position, _made_by(b, fname))
        elif type(node.value) is float and not is_boolean(b, x):  # a 0-d array, never a number read as a dim:
            x = b.const(np.asarray(node.value, dtype=b.dtype), position)  # torch.max(x, torch.tensor(0.0))
        return as_dtype(b, x, dtype, position)
    return lower


def _nested(b, items, fname, detach, position) -> Tracer:
    """``np.array([x, y])``, ``np.array([[a, b], [c, d]])``: the arrays of a (nested) list stacked, as NumPy and
    jnp.array make them (the derivative kept). PyTorch's ``torch.tensor([x[0], y[0]])`` takes one-element
    tensors only (numbers), and copies them: the caller detaches."""
    if fname == "from_numpy":
        raise JacValueError("from_numpy() takes one array, not a list of arrays", position)
    parts = [_nested(b, p, fname, detach, position) if isinstance(p, Items) else tensor(b, p, fname, position)
             for p in items]
    if not parts:
        raise JacValueError(f"{fname}([]) of an empty list has no elements to differentiate", position)
    if detach:  # each tensor of the list is a Python number to PyTorch: torch.tensor(A.tolist()), [[a[0], 1.0], ...]
        nested = any(isinstance(p, Items) for p in items)
        for k, (item, p) in enumerate(zip(items, parts)):
            if isinstance(item, Items) or nested and b.nodes[p.id].op == "const" and p.ndim:
                continue  # a list inside (or a row of numbers written inside a nested list): its own numbers
            if int(np.prod(p.shape, dtype=np.int64)) != 1:
                raise JacValueError(f"{fname}() of a list of tensors takes one-element tensors only, as PyTorch "
                                    "('only one element tensors can be converted to Python scalars'): "
                                    "torch.stack([...]) joins arrays", position)
            if p.ndim:  # torch.tensor([x[:1], x[1:2]]) is a vector: each one-element tensor is its number
                parts[k] = FUNCTIONS["reshape"](b, [p, b.const(np.zeros(0), position)], {}, position)
    shapes = {tuple(p.shape) for p in parts}
    if len(shapes) != 1:
        raise JacShapeError(f"{fname}() of arrays of shapes {', '.join(fmt(p.shape) for p in parts)}: NumPy makes "
                            "one array of a list of arrays of one shape only (a ragged list is an error or an object "
                            "array); stack or pad them first", position)
    return FUNCTIONS["stack"](b, [Items(parts)], {}, position)


def _made_by(b: Builder, fname: str) -> str | None:
    return b.library if b.library in ("torch", "numpy") else _CONSTRUCTOR_LIBRARY.get(fname)


# NumPy's constructors take dtype second (np.asarray(x, np.float64)); torch.tensor and torch.as_tensor refuse it
_POSITIONAL_DTYPE = frozenset(("asarray", "array", "asanyarray", "ascontiguousarray", "asfortranarray"))
_CONSTRUCTOR_LIBRARY = {"tensor": "torch", "as_tensor": "torch", "from_numpy": "torch", "asarray": "numpy",
                        "array": "numpy", "asanyarray": "numpy", "ascontiguousarray": "numpy",
                        "asfortranarray": "numpy"}
FUNCTIONS["tensor"] = _value_of("tensor", True)
for _name in ("as_tensor", "asarray", "array", "from_numpy", "asanyarray", "ascontiguousarray"):
    FUNCTIONS[_name] = _value_of(_name, False)
variant("numpy", "asfortranarray")(_value_of("asfortranarray", False))  # a memory layout: the values themselves


# PyTorch's legacy tensor types, as dtypes: x.type(torch.DoubleTensor), x.type('torch.LongTensor')
TENSOR_TYPES = {"FloatTensor": "float32", "DoubleTensor": "float64", "HalfTensor": "float16", "LongTensor": "int64",
                "IntTensor": "int32", "ShortTensor": "int16", "BoolTensor": "bool"}


def _typed_tensor(fname, dtype_name):
    """torch.FloatTensor(data) and its kin, PyTorch's legacy constructors: torch.tensor(data, dtype=...) of a list
    or constant (a float dtype is jac's one dtype, as x.float()); of a tensor, DoubleTensor(t) is t itself (PyTorch
    keeps its gradient) and another of a float64 tensor is PyTorch's error; sizes (FloatTensor(2, 3): uninitialized
    memory) are refused."""
    dtype = DType(dtype_name, DTYPES[dtype_name], "torch")

    def lower(b, args, kwargs, position):
        if kwargs or len(args) != 1 or not isinstance(args[0], (Items, Tracer)) or (
                isinstance(args[0], Tracer) and args[0].ndim == 0 and b.nodes[args[0].id].op == "const"):
            raise JacValueError(f"torch.{fname}() takes one list or tensor of values, as torch.tensor(data, "
                                f"dtype=torch.{dtype_name}); torch.{fname}(2, 3) (sizes) is uninitialized memory: "
                                f"write torch.zeros(2, 3)", position)
        data = args[0]
        if isinstance(data, Tracer) and b.nodes[data.id].op != "const":
            if fname != "Tensor" and dtype_name != np.dtype(b.dtype).name:  # FloatTensor(t) of float32's t: t
                raise JacValueError(f"torch.{fname}(t) of a {np.dtype(b.dtype).name} tensor is an error in PyTorch (it "
                                    f"does not cast); write t.to(torch.{dtype_name})", position)
            return data
        return _value_of("tensor", True)(b, [data], {"dtype": Static(dtype)}, position)
    return lower


for _name, _dtype_name in TENSOR_TYPES.items():
    variant("torch", _name)(_typed_tensor(_name, _dtype_name))
variant("torch", "Tensor")(_typed_tensor("Tensor", "float32"))  # torch.Tensor(t) of a tensor: t itself


@function("slice")
def _slice_object(b, args, kwargs, position):
    """Python's slice(stop) / slice(start, stop[, step]): an index, as x[slice(1, 3)] is x[1:3]."""
    if kwargs or not 1 <= len(args) <= 3:
        raise JacValueError("slice() takes 1 to 3 arguments: slice(stop) or slice(start, stop[, step])", position)
    bounds = [None if a is None else static_int(b, a, "a slice bound", position) for a in args]
    if len(bounds) == 3 and bounds[2] == 0:
        raise JacValueError("slice step must not be 0", position)
    return slice(*bounds)


@function("divmod")
def _divmod(b, args, kwargs, position):
    """Python's divmod(a, b): (a // b, a % b). Of NumPy arrays it is np.divmod (PyTorch's tensors refuse it)."""
    return _np_divmod(b, args, kwargs, position)


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
        made = b.const(np.full(x.shape, value, dtype=b.dtype), position)
        typed = b.typed.get(x.id)
        if dtype is None and typed is not None:  # zeros_like(t) of an integer t: t's dtype, as both libraries
            return typed_cast(b, made, typed[0], position, typed[1])
        return as_dtype(b, made, dtype, position)
    return lower


FUNCTIONS["zeros_like"] = _like("zeros_like", 0.0)
FUNCTIONS["ones_like"] = _like("ones_like", 1.0)
FUNCTIONS["full_like"] = _like("full_like", None)


def _random_like(fname):
    """torch.rand_like(x) / randn_like(x): rand / randn of x's shape, seeded by --seed as they are."""
    def lower(b, args, kwargs, position):
        kwargs = dict(kwargs)
        dtype = _value_options(b, kwargs, fname, position)
        x = tensor(b, arguments(fname, args, kwargs, {"x": REQUIRED}, position)["x"], fname, position)
        if not is_concrete(x.shape):
            raise JacShapeError(f"{fname}() needs concrete sizes, but {fmt(x.shape)} is symbolic", position)
        return as_dtype(b, FUNCTIONS[fname[:-5]](b, [Static(tuple(x.shape))], {}, position), dtype, position)
    return lower


FUNCTIONS["rand_like"] = _random_like("rand_like")
FUNCTIONS["randn_like"] = _random_like("randn_like")


def _identity(fname):
    def lower(b, args, kwargs, position):
        return tensor(b, arguments(fname, args, kwargs, {"x": REQUIRED}, position)["x"], fname, position)
    return lower


def _angle(signed_zero: bool):
    """The angle of a real number: pi where x < 0, else 0, NaN kept; derivative 0. np.angle is
    arctan2(0, x), so -0 gives pi there (signed_zero); torch.angle gives 0 for -0."""
    def lower(b, args, kwargs, position):
        a = arguments("angle", args, kwargs, {"x": REQUIRED} | ({"deg": False} if signed_zero else {}), position)
        x = tensor(b, a["x"], "angle", position)
        half_turn = 180.0 if static(b, a.get("deg"), "deg", position) else math.pi
        negative = b.apply("signbit", x, position=position) if signed_zero else \
            b.apply("lt", x, 0.0, position=position)
        turn = b.apply("where", boolean(b, negative), half_turn, 0.0, position=position)
        return b.apply("where", b.apply("isnan", x, position=position), x, turn, position=position)
    return lower


FUNCTIONS["angle"] = _angle(False)
variant("numpy", "angle")(_angle(True))


def _ldexp_float_exponent(b, value, position) -> None:
    """ldexp's exponent written as a float literal (``np.ldexp(x, 1.0)``, ``torch.ldexp(x, 1.0)``): both libraries
    raise TypeError (NumPy has no loop for a float exponent, PyTorch's ``other`` must be a tensor)."""
    numpy = (b.call or "").startswith(("np.", "numpy."))
    if not written_as_float(b, value) or b.library not in ("torch", "numpy", "method"):
        return
    if not numpy and type(b.nodes[value.id].value) is not float:  # torch.tensor([2.0, 1.0]) keeps its literals'
        return  # mark (the same constant) and PyTorch takes it; NumPy refuses a float array as a float list
    said = "NumPy raises TypeError: ufunc 'ldexp' not supported for the input types" if numpy else \
        "PyTorch raises TypeError: argument 'other' must be Tensor, not float"
    raise JacValueError(f"ldexp: the exponent must be integers, not the float {static(b, value, 'other', position)!r} "
                        f"({said})", position)


@function("ldexp")
def _ldexp(b, args, kwargs, position):
    """ldexp(x, e) = x * 2**e (e integers, as NumPy and PyTorch ask)."""
    a = arguments("ldexp", args, kwargs, {"x": REQUIRED, "other": REQUIRED}, position)
    _ldexp_float_exponent(b, a["other"], position)
    x, e = tensor(b, a["x"], "ldexp", position), tensor(b, a["other"], "ldexp", position)
    return b.apply("mul", x, b.apply("pow", 2.0, e, position=position), position=position)


# x.clone() / x.copy() keep the derivative (as PyTorch's clone); x.float() / x.double() do too,
# and the value stays in --dtype: jac computes in one dtype (--dtype float32 for PyTorch's float).
for _name in ("real", "conj", "conj_physical", "resolve_conj", "resolve_neg"):  # of a real number: itself
    FUNCTIONS[_name] = _identity(_name)
for _name in ("clone", "copy", "contiguous", "cpu"):
    FUNCTIONS[_name] = _identity(_name)
def _double(b, args, kwargs, position):
    """``x.double()``: ``x`` in --dtype (a cast to float64 under float32 remembered: :func:`note_recast`), a mask
    made numbers (``x.float()``: :func:`_float_of`)."""
    x = _identity("double")(b, args, kwargs, position)
    note_recast(b, x, "float64", position)
    return as_numbers(b, x, position)


FUNCTIONS["double"] = _double
FUNCTIONS["bool"] = lambda b, args, kwargs, position: truth(b, _identity("bool")(b, args, kwargs, position), position)
FUNCTIONS["int"] = lambda b, args, kwargs, position: as_dtype(  # PyTorch's t.int(): int32
    b, _identity("int")(b, args, kwargs, position), DType("int32", "i", "torch"), position)
FUNCTIONS["long"] = lambda b, args, kwargs, position: as_dtype(
    b, _identity("long")(b, args, kwargs, position), DType("int64", "i", "torch"), position)


def detached(b: Builder, x: Tracer, position) -> Tracer:
    """``x`` without its derivative (a constant of the value of x, as PyTorch's ``x.detach()``); a mask stays a
    mask, as a detached bool tensor is one: ``(x > 0).detach() + (x > 1)`` is their or, never 2."""
    out = b.apply("detach", x, position=position)
    return boolean(b, out) if is_boolean(b, x) else out


@variant("numpy", "spacing")
def _spacing(b, args, kwargs, position):
    """np.spacing(x): the distance from x to the next float away from 0, negative for a negative x (NaN at ±inf
    and NaN); at ±0 the smallest subnormal, positive in NumPy, with the zero's sign in JAX. Piecewise
    constant: its derivative is 0 (as floor's)."""
    x = tensor(b, arguments("spacing", args, kwargs, {"x": REQUIRED}, position)["x"], "spacing", position)
    x = detached(b, x, position)
    down = b.apply("signbit", x, position=position) if jax_spelled(b) else b.apply("lt", x, 0.0, position=position)
    away = b.apply("where", down, -math.inf, math.inf, position=position)
    return b.apply("sub", b.apply("nextafter", x, away, position=position), x, position=position)


@function("detach", "stop_gradient")
def _detach(b, args, kwargs, position):
    x = tensor(b, arguments("detach", args, kwargs, {"x": REQUIRED}, position)["x"], "detach", position)
    return detached(b, x, position)


@function("item")
def _item(b, args, kwargs, position):
    # a Python number in PyTorch: a constant (derivative 0), from an array of one element
    x = tensor(b, arguments("item", args, kwargs, {"x": REQUIRED}, position)["x"], "item", position)
    if not is_concrete(x.shape) or _numel(x, position) != 1:
        raise JacValueError(f"item() needs an array of one element, got shape {fmt(x.shape)}", position)
    record_read(b, x, position, "int")  # a Python number of the values: jax.jit raises (ConcretizationTypeError)
    return b.apply("detach", b.apply("reshape", x, shape=(), position=position), position=position)


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
    # |x| <= lambd: 0 (and derivative 0 at ±lambd, as PyTorch); outside: x, or x ∓ lambd. A NaN stays NaN,
    # as in PyTorch's kernels: softshrink's middle is x * 0 (-0 below 0), hardshrink keeps x unless inside;
    # a NaN is outside (derivative 1, PyTorch's where(|x| <= lambd, 0, grad)).
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "lambd": 0.5}, position)
        x = tensor(b, a["x"], fname, position)
        lambd = _number(b, a["lambd"], f"{fname} lambd", position)
        if soft and lambd < 0:  # hardshrink takes one (nothing is inside)
            raise JacValueError(f"softshrink: lambd must be >= 0, got {lambd!r} (PyTorch raises RuntimeError: lambda "
                                "must be in range [0, inf])", position)
        if not soft:
            inside = b.apply("mul", b.apply("ge", x, -lambd, position=position),
                             b.apply("le", x, lambd, position=position), position=position)
            return b.apply("where", boolean(b, inside), 0.0, x, position=position)
        above = b.apply("gt", x, lambd, position=position)
        inside = b.apply("mul", b.apply("ge", x, -lambd, position=position), b.apply("le", x, lambd, position=position),
                         position=position)
        hi, lo = b.apply("sub", x, lambd, position=position), b.apply("add", x, lambd, position=position)
        # x · 0 of x detached: the value's signed zero, and an exact 0 derivative whatever the cotangent holds
        # (PyTorch's where(|x| <= lambd, 0, grad); a product with 0 made 0 · inf = NaN)
        middle = b.apply("mul", b.apply("detach", x, position=position), 0.0, position=position)
        return b.apply("where", above, hi, b.apply("where", boolean(b, inside), middle, lo, position=position),
                       position=position)
    return lower


FUNCTIONS["softshrink"] = _shrink("softshrink", True)
FUNCTIONS["hardshrink"] = _shrink("hardshrink", False)


@function("threshold")
def _threshold(b, args, kwargs, position):
    # F.threshold(x, threshold, value): value where x <= threshold, else x (a NaN stays NaN, as PyTorch's)
    a = arguments("threshold", args, kwargs, {"x": REQUIRED, "threshold": REQUIRED, "value": REQUIRED}, position)
    x = tensor(b, a["x"], "threshold", position)
    below = b.apply("le", x, _number(b, a["threshold"], "threshold", position), position=position)
    return b.apply("where", boolean(b, below), _number(b, a["value"], "threshold value", position), x,
                   position=position)


def _torch_softplus(b, args, kwargs, position):
    """F.softplus(x, beta=1, threshold=20): log(1 + exp(beta x)) / beta, and x itself where beta x > threshold;
    at beta x == threshold the first derivative is the smooth one and the second 0, as PyTorch's double backward
    (it keeps the second derivative only where beta x < threshold)."""
    a = arguments("softplus", args, kwargs, {"x": REQUIRED, "beta": 1.0, "threshold": 20.0}, position)
    x = tensor(b, a["x"], "softplus", position)
    beta, threshold = (_number(b, a[k], f"softplus {k}", position) for k in ("beta", "threshold"))
    if beta == 0:
        raise JacValueError("softplus(): beta must not be 0", position)
    op = lambda name, *xs: b.apply(name, *xs, position=position)  # noqa: E731
    bx = op("mul", x, beta)
    smooth = op("div", op("softplus", bx), beta)
    if not isinstance(x, Tracer):
        return op("where", op("gt", bx, threshold), x, smooth)
    # at the tie bx == threshold: softplus(threshold) / beta + σ(threshold) (bx - threshold) / beta: the
    # smooth branch's value there (+ 0: its bits) and its first derivative by the same products ((g / beta) σ beta),
    # linear, so nothing of second order; constants of --dtype, so jac diff reads it too
    at = np.asarray(threshold, dtype=b.dtype)
    value, sigma = (OPS["softplus"].impl(at) / beta).item(), OPS["sigmoid"].impl(at).item()
    step = op("div", op("mul", op("sub", bx, threshold), sigma), beta)
    tied = op("where", op("eq", bx, threshold), op("add", value, step), smooth)
    return op("where", op("gt", bx, threshold), x, tied)


variant("torch", "softplus")(_torch_softplus)  # jax.nn.softplus and the bare name: no threshold


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
    if rest and type(rest[0]) is Tracer and set(kwargs) <= {"non_blocking", "copy"}:  # x.to(other): other's dtype
        return FUNCTIONS["type_as"](b, [x, rest[0]], {}, position)
    for value in rest:
        kwargs.setdefault("dtype" if isinstance(value, Static) and isinstance(value.value, DType) else "device", value)
    dtype = _value_options(b, kwargs, "to", position)
    if kwargs:
        raise JacValueError(f"to(): the argument '{next(iter(kwargs))}' is not supported by jac", position)
    return as_dtype(b, tensor(b, x, "to", position), dtype, position)


def _cast(fname: str, dtype_of):
    """``x.astype(dtype)`` (NumPy), ``x.type(dtype)`` (PyTorch), ``np.float32(x)``: as ``x.to(dtype)``."""
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED} | ({"dtype": REQUIRED} if dtype_of is None else {}),
                      position)
        dtype = a["dtype"] if dtype_of is None else Static(dtype_of)
        return as_dtype(b, tensor(b, a["x"], fname, position), static(b, dtype, "dtype", position), position,
                        "numpy" if fname == "astype" else None)  # x.astype(...): a NumPy array's method
    return lower


variant("method", "astype")(_cast("astype", None))


def _method_type(b, args, kwargs, position):
    """x.type(dtype), x.type(torch.DoubleTensor), x.type('torch.LongTensor'): as x.to(dtype)."""
    a = arguments("type", args, kwargs, {"x": REQUIRED, "dtype": REQUIRED}, position)
    dtype = static(b, a["dtype"], "dtype", position)
    if isinstance(dtype, str) and dtype.startswith("torch.") and dtype[6:] in TENSOR_TYPES:
        name = TENSOR_TYPES[dtype[6:]]
        dtype = DType(name, DTYPES[name], "torch")
    return as_dtype(b, tensor(b, a["x"], "type", position), dtype, position)


variant("method", "type")(_method_type)
for _name, _kind in DTYPES.items():  # np.float32(x), np.int64(x), np.bool_(x): NumPy's scalar types, called
    if _name not in ("float", "int", "bool", "long", "short", "half", "double"):  # Python's, or not NumPy's
        variant("numpy", _name)(_cast(f"np.{_name}", DType(_name, _kind, "numpy")))
variant("method", "where")(_method_where)
variant("method", "polygamma")(_method_polygamma)
variant("method", "to")(_method_to)


def _method_numpy(b, args, kwargs, position):
    """PyTorch's ``t.numpy()``: an ndarray of t's values, which autograd does not see (``x.detach().numpy()``);
    refused, as PyTorch refuses it, of a tensor that requires grad (its derivative would be lost silently)."""
    a = arguments("numpy", args, kwargs, {"x": REQUIRED, "force": False}, position)
    x = tensor(b, a["x"], "numpy", position)
    if b.nodes[x.id].requires_grad:
        raise JacValueError("x.numpy() of a tensor that requires grad: PyTorch refuses it (\"Can't call numpy() on "
                            "Tensor that requires grad\"); write x.detach().numpy() for its values without a "
                            "derivative, or keep the computation in torch", position)
    return x


def _method_tolist(b, args, kwargs, position):
    """``t.tolist()`` / NumPy's ``a.tolist()``: Python numbers, without a derivative (as PyTorch's, which autograd
    does not see): a number of a 0-d array, else a list of the rows' lists."""
    x = tensor(b, arguments("tolist", args, kwargs, {"x": REQUIRED}, position)["x"], "tolist", position)
    record_read(b, x, position, "float")  # JAX's traces raise (ConcretizationTypeError)
    x = detached(b, x, position)

    def rows(t):
        if t.ndim == 0:
            return t
        out = Items(rows(_take(b, t, (i,), position)) for i in range(_concrete(t, "tolist", position)[0]))
        out.display = "list"
        return out
    return rows(x)


variant("method", "numpy")(_method_numpy)
variant("method", "tolist")(_method_tolist)
FUNCTIONS["fabs"] = FUNCTIONS["abs"]
FUNCTIONS["positive"] = _identity("positive")


@function("type_as")
def _type_as(b, args, kwargs, position):
    # x.type_as(y): x in y's dtype: --dtype for a float y, truncated for an integer one, x != 0 for a mask
    a = arguments("type_as", args, kwargs, {"x": REQUIRED, "other": REQUIRED}, position)
    other = tensor(b, a["other"], "type_as", position)
    x = tensor(b, a["x"], "type_as", position)
    if is_boolean(b, other):
        return truth(b, x, position)
    typed = b.typed.get(other.id) or b.integral.get(other.id)
    if typed is not None and typed[0].kind in "iu":
        return as_dtype(b, x, DType(typed[0].name, "i", typed[1]), position)
    return as_numbers(b, x, position)


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
        keepdims = keepdims_of(b, a["keepdims"], position, kwargs=kwargs)
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
    keepdims = keepdims_of(b, a["keepdims"], position, kwargs=kwargs)
    _torch_keepdim_needs_dim(b, a["axis"], kwargs, position)
    mask = boolean(b, b.apply("ne", x, 0.0, position=position))  # so the count is an integer, as the libraries'
    return b.apply("sum", mask, axes=axes, keepdims=keepdims, position=position)


@variant("method", "count_nonzero")
def _count_nonzero_method(b, args, kwargs, position):
    """x.count_nonzero(1, 2): PyTorch's method takes its dims one by one too (NumPy's arrays have no such method;
    np.count_nonzero's third positional, keepdims, is keyword-only)."""
    if len(args) > 2:
        args = [args[0], Static(tuple(static_int(b, d, "dim", position) for d in args[1:]))]
    if "keepdims" in kwargs or "keepdim" in kwargs:
        raise JacValueError("x.count_nonzero() has no keepdim in PyTorch; write x.count_nonzero(dim)", position)
    return _count_nonzero(b, args, kwargs, position)


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
NAN_SIGN = ("{what}: the sign of a NaN is not specified, and NumPy and PyTorch make NaNs of either sign for the "
            "same expression (x ** 1.5 of a negative x, 0 / 0, sqrt(-1); a vectorized loop and a scalar one differ), "
            "so no answer would be reliably the library's; replace the NaNs first: nan_to_num(x), or "
            "where(isnan(x), 0.0, x)")


def nan_sign_bit(b, x, what: str, position):
    """signbit(x) as 0 / 1, refused at evaluation where x is NaN (see NAN_SIGN): what signbit and copysign
    show the user. An input's NaN is the one the user gave, the same to every library: its sign bit is read.
    Lowerings that use the sign bit where a NaN's result is NaN anyway apply "signbit" itself."""
    bit = b.apply("signbit", x, position=position)
    if isinstance(x, Tracer) and b.nodes[x.id].op == "input":
        return bit
    return refused(b, bit, NAN_SIGN.format(what=what), where=b.apply("isnan", x, position=position),
                   position=position)


@function("signbit")
def _signbit(b, args, kwargs, position):
    x = tensor(b, arguments("signbit", args, kwargs, {"x": REQUIRED}, position)["x"], "signbit", position)
    return boolean(b, nan_sign_bit(b, x, "signbit of a NaN", position))


def _heaviside(nan: bool):
    def lower(b, args, kwargs, position):
        """0 where x < 0, values where x == 0, 1 where x > 0; at x = NaN 0 (torch.heaviside), NaN in
        NumPy's np.heaviside (and jnp.heaviside)."""
        a = arguments("heaviside", args, kwargs, {"x": REQUIRED, "values": REQUIRED}, position)
        x, values = tensor(b, a["x"], "heaviside", position), tensor(b, a["values"], "heaviside", position)
        at_zero = b.apply("where", b.apply("eq", x, 0.0, position=position), values, 0.0, position=position)
        out = b.apply("where", b.apply("gt", x, 0.0, position=position), 1.0, at_zero, position=position)
        return b.apply("where", b.apply("isnan", x, position=position), math.nan, out, position=position) if nan \
            else out
    return lower


FUNCTIONS["heaviside"] = _heaviside(False)
variant("numpy", "heaviside")(_heaviside(True))


# --- PART shapes-linalg: which library a spelling follows, tuple results, the transpose family,
# --- shape and assembly, linear algebra ---------------------------------------------------------

# Where PyTorch and NumPy read one spelling differently, the library named decides
# (``@variant(library, NAME)``, see LIBRARY_FUNCTIONS above).


class Items(tuple):
    """Several arrays in one value: a list written in the expression (``[x, y]`` for ``cat``) or
    the result of a function with several outputs (``split``, ``qr``). Indexed with a constant
    (``parts[0]``), by field name where PyTorch names them (``.logabsdet``), or unpacked
    (``Q, R = qr(A)``)."""

    fields: tuple = ()
    display: str | None = None  # "tuple" or "list": how the text wrote it, for isinstance (lang/trees.py)
    record = None  # the NamedTuple class of the text this is an instance of (lang/plain.py), else None

    @classmethod
    def named(cls, items, fields: tuple) -> "Items":
        out = cls(items)
        out.fields = tuple(fields)
        return out

    def part(self, i: int, position) -> Tracer:
        if not -len(self) <= i < len(self):
            raise JacValueError(f"index {i} is out of range for a tuple of {len(self)} arrays", position)
        return Refused.check(self[i], position)

    def field(self, name: str, position) -> Tracer:
        if name in self.fields:
            return Refused.check(self[self.fields.index(name)], position)
        known = f" (it has {', '.join('.' + f for f in self.fields)})" if self.fields else ""
        raise JacNameError(f"a tuple of {len(self)} arrays has no attribute '.{name}'{known}; index it: parts[0]",
                           position)


@dataclass(frozen=True)
class Refused:
    """A part of a result that jac does not compute (the non-unique columns of a full SVD): the
    other parts work; using this one is refused with ``message``."""

    message: str

    @staticmethod
    def check(value, position):
        if isinstance(value, Refused):
            raise JacValueError(value.message, position)
        return value


def _concrete(x: Tracer, fname, position) -> tuple:
    if not is_concrete(x.shape):
        raise JacShapeError(f"{fname} needs concrete sizes, but {fmt(x.shape)} is symbolic", position)
    return tuple(x.shape)


def _axis(b, value, ndim: int, fname, position, what="dim") -> int:
    if not ndim:
        refuse_numpy_0d_axis(b, value, 0, position)
    try:
        return normalize_axis(static_int(b, value, what, position), ndim)
    except JacShapeError as err:
        raise JacShapeError(f"{fname}: {err.message}", position) from None


def _distinct_axes(b, dims: tuple, ndim: int, fname, position) -> list:
    """Each of ``dims`` normalized, a repeated one refused as the libraries refuse it (PyTorch: "dim 0 appears
    multiple times in the list of dims", NumPy: "repeated axis")."""
    axes = [_axis(b, d, ndim, fname, position) for d in dims]
    if len(set(axes)) != len(axes):
        raise JacShapeError(f"{fname}: repeated axis in {dims} (PyTorch: dim {axes[0]} appears multiple times in "
                            "the list of dims; NumPy: repeated axis)" if len(dims) == 2 else
                            f"{fname}: repeated axis in {dims}", position)
    return axes


def _sizes(b, args, kwargs, keys, what, position) -> tuple:
    """Sizes given as varargs (``x.expand(3, 4)``) or as one tuple (``x.expand((3, 4))``)."""
    parts = list(args) + [kwargs[k] for k in keys if k in kwargs]
    return tuple(i for p in parts for i in static_ints(b, p, what, position))


def _take(b, x, index, position) -> Tracer:
    return b.apply("getitem", x, index=tuple(index), position=position)


def _place(b, x, index, shape, position) -> Tracer:
    """Zeros of ``shape`` with ``x`` at ``index`` (the transpose of a selection)."""
    return b.apply("scatter", x, index=tuple(index), shape=tuple(shape), position=position)


def _permute(b, x, perm, position) -> Tracer:
    perm = tuple(perm)
    return x if perm == tuple(range(x.ndim)) else b.apply("transpose", x, axes=perm, position=position)


def _reshape_to(b, x, shape, position) -> Tracer:
    return x if tuple(shape) == tuple(x.shape) else b.apply("reshape", x, shape=tuple(shape), position=position)


# -- the transpose family ----------------------------------------------------------------------------

def _swap(b, x, d0, d1, fname, position) -> Tracer:
    """PyTorch's ``transpose(x, dim0, dim1)``: two axes swapped."""
    d0, d1 = (_axis(b, d, x.ndim, fname, position) for d in (d0, d1))
    if x.ndim == 0:  # PyTorch: dims 0 and -1 of a 0-d tensor, which stays as it is; NumPy has no axis there
        if b.library == "numpy":
            raise JacShapeError(f"{fname}: axis 0 is out of bounds for array of dimension 0 (NumPy's AxisError; "
                                "PyTorch's transpose of a 0-d tensor is the tensor)", position)
        return x
    perm = list(range(x.ndim))
    perm[d0], perm[d1] = perm[d1], perm[d0]
    return _permute(b, x, perm, position)


def _permutation(b, x, axes, fname, position) -> Tracer:
    """NumPy's ``transpose(x, axes)`` and PyTorch's ``permute``: every axis named once."""
    try:
        axes = tuple(normalize_axis(a, x.ndim, x.shape) for a in axes)
    except JacShapeError as err:
        raise JacShapeError(f"{fname}: {err.message}", position) from None
    if sorted(axes) != list(range(x.ndim)):
        raise JacShapeError(f"{fname}: axes {axes} are not a permutation of the {x.ndim} axes of shape "
                            f"{fmt(x.shape)}", position)
    return _permute(b, x, axes, position)


def matrix_transpose(b: Builder, x: Tracer, position, fname=".mT") -> Tracer:
    """``x.mT``: the last two axes swapped (a batch of matrices transposed), as PyTorch."""
    if x.ndim < 2:
        raise JacShapeError(f"{fname} needs at least 2 dimensions, got shape {fmt(x.shape)}", position)
    return _swap(b, x, -2, -1, fname, position)


def _axes_args(b, rest, fname, position) -> tuple:
    return tuple(i for r in rest for i in static_ints(b, r, f"{fname} axes", position))


variant("torch", "dot")(_torch_dot)


@variant("torch", "transpose")
@variant("torch", "swapaxes", "swapdims")
@variant("numpy", "swapaxes")
@function("swapaxes", "swapdims")
def _torch_transpose(b, args, kwargs, position, fname="transpose"):
    kwargs = {{"axis1": "dim0", "axis2": "dim1"}.get(k, k): v for k, v in kwargs.items()}  # np.swapaxes' names
    a = arguments(fname, args, kwargs, {"x": REQUIRED, "dim0": REQUIRED, "dim1": REQUIRED}, position)
    return _swap(b, tensor(b, a["x"], fname, position), a["dim0"], a["dim1"], fname, position)


@variant("numpy", "transpose")
def _np_transpose(b, args, kwargs, position):
    a = arguments("np.transpose", args, kwargs, {"x": REQUIRED, "axes": None}, position)
    x = tensor(b, a["x"], "np.transpose", position)
    if a["axes"] is None:
        return transpose_all(b, x, position)
    return _permutation(b, x, _axes_args(b, [a["axes"]], "np.transpose", position), "np.transpose", position)


@function("transpose")
def _transpose(b, args, kwargs, position):
    # Bare transpose(x, ...): NumPy's transpose(a, axes) takes one tuple (or none), PyTorch's two
    # ints; so the call itself says which is meant.
    if not args:
        raise JacParseError("transpose() needs an array", position)
    if len(args) == 3 or {"dim0", "dim1"} & set(kwargs):
        return _torch_transpose(b, args, kwargs, position)
    return _np_transpose(b, args, kwargs, position)


@variant("method", "transpose")
def _method_transpose(b, args, kwargs, position):
    if {"dim0", "dim1"} & set(kwargs):
        return _torch_transpose(b, args, kwargs, position)
    x = tensor(b, args[0], "transpose", position)
    if set(kwargs) - {"axes"}:  # x.transpose(axes=...) is NumPy's one keyword
        raise JacValueError(f"transpose(): the argument '{sorted(set(kwargs) - {'axes'})[0]}' is not supported by "
                            "jac", position)
    rest = list(args[1:]) + [kwargs[k] for k in ("axes",) if k in kwargs]
    axes = _axes_args(b, rest, "transpose", position)
    if not axes:  # NumPy: all axes reversed (PyTorch needs two dims)
        return transpose_all(b, x, position)
    if len(rest) == 2 and len(axes) == 2:
        swap = _swap(b, x, axes[0], axes[1], "transpose", position)
        if x.ndim != 2:  # NumPy would need 3 or more axes here: only PyTorch's reading is left
            return swap
        if tuple(a % 2 for a in axes) in ((1, 0), (0, 0), (1, 1)):  # both readings agree (or NumPy's fails)
            return swap
        dialect = getattr(b.lowering, "dialect", None)  # a text that calls one library only: its reading
        if dialect is not None:
            return swap if dialect == "torch" else _permutation(b, x, axes, "transpose", position)
        if getattr(b.lowering, "tensor_only", False):  # t.transpose(0, 1); t.mul_(2): a text PyTorch alone runs
            return swap
        t = _operand_text(b, position)
        d0, d1 = axes
        raise JacValueError(
            f"{t}.transpose({d0}, {d1}) of a matrix is ambiguous: PyTorch swaps the two axes (the transpose), "
            f"NumPy reads ({d0}, {d1}) as the identity permutation ({t} unchanged). Write what you mean: {t}.T or "
            f"{t}.mT or {t}.swapaxes(0, 1) or torch.transpose({t}, 0, 1) for the swap; np.transpose({t}, (0, 1)) "
            "for the permutation", position)
    return _permutation(b, x, axes, "transpose", position)


def _operand_text(b, position, fallback: str = "x") -> str:
    """The source text of the operand of the method called at ``position`` (the method's name):
    ``A`` in ``A.transpose(0, 1)``, ``(A + B)`` in ``(A + B).transpose(0, 1)``; read backwards
    from the dot over names, dots and balanced brackets. ``fallback`` when it cannot be read."""
    source = getattr(b, "source", "") or ""
    if position is None or not 0 < position <= len(source):
        return fallback
    end = source.rfind(".", 0, position)
    if end <= 0 or source[end + 1:position].strip():
        return fallback
    i, depth, closing = end, 0, {")": "(", "]": "["}
    while i > 0:
        c = source[i - 1]
        if c in closing:
            depth += 1
        elif c in "([":
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and not (c.isalnum() or c in "_."):
            break
        i -= 1
    text = source[i:end].strip()
    return text if text and len(text) <= 60 and "\n" not in text else fallback


@function("permute")
def _permute_fn(b, args, kwargs, position):
    if not args:
        raise JacParseError("permute() needs an array and the order of its axes", position)
    x = tensor(b, args[0], "permute", position)
    rest = list(args[1:]) + [kwargs[k] for k in ("dims", "axes") if k in kwargs]
    return _permutation(b, x, _axes_args(b, rest, "permute", position), "permute", position)


@function("moveaxis", "movedim")
def _moveaxis(b, args, kwargs, position):
    a = arguments("moveaxis", args, kwargs, {"x": REQUIRED, "source": REQUIRED, "destination": REQUIRED},
                  position)
    x = tensor(b, a["x"], "moveaxis", position)
    src = [_axis(b, s, x.ndim, "moveaxis", position) for s in static_ints(b, a["source"], "source", position)]
    dst = [_axis(b, d, x.ndim, "moveaxis", position) for d in static_ints(b, a["destination"], "destination", position)]
    if len(src) != len(dst) or len(set(src)) != len(src) or len(set(dst)) != len(dst):
        raise JacValueError("moveaxis: source and destination must be distinct axes, as many of each", position)
    order = [i for i in range(x.ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return _permute(b, x, order, position)


# -- shape and assembly: selections (getitem), placements (scatter), reshapes and broadcasts, so
# -- that Jacobians stay sparse through the structure rules those ops already have -------------------

def _arrays(b, value, fname, position) -> list:
    """The arrays of ``cat([x, y])``: a list of arrays, or the rows of one array (as NumPy)."""
    if isinstance(value, Items):
        found = list(value)
    else:
        found = _rows(b, value, fname, position)
    if not found:  # np.concatenate(np.zeros(0)), np.vstack([]): NumPy's "need at least one array to concatenate"
        raise JacValueError(f"{fname}(): there is no array to join (an empty list, or the rows of an empty array)",
                            position)
    return found


def _rows(b, value, fname, position) -> list:
    """The rows of one array given where a list of arrays is expected (NumPy reads them so)."""
    x = tensor(b, value, fname, position)
    # torch.cat(x, y) was "zero-dimensional arrays cannot be joined", x's rows read as NumPy's (a list of constants,
    # torch.cat([torch.tensor(...), ...]), may arrive folded into one constant: that one is a list)
    if b.library == "torch" and b.nodes[x.id].op != "const":
        spelt = "torch.linalg.multi_dot" if fname == "multi_dot" else f"torch.{fname}"
        raise JacValueError(f"{spelt}() takes a list or tuple of tensors, as {spelt}([x, y]) (PyTorch: "
                            f"argument 'tensors' must be tuple of Tensors, not Tensor)", position)
    if x.ndim == 0:
        raise JacValueError(f"{fname}() needs a list of arrays, as {fname}([x, y])", position)
    return [_take(b, x, (i,), position) for i in range(_concrete(x, fname, position)[0])]


def _concat(b, xs, axis, fname, position) -> Tracer:
    """The arrays joined along ``axis`` (normalised): each placed into the result, then added."""
    shapes = [_concrete(x, fname, position) for x in xs]
    first = shapes[0]
    for s in shapes[1:]:
        if len(s) != len(first) or any(d != e for i, (d, e) in enumerate(zip(s, first)) if i != axis):
            raise JacShapeError(f"{fname}: shapes {', '.join(fmt(t) for t in shapes)} do not fit together along "
                                f"axis {axis} (every other axis must match)", position)
    out = first[:axis] + (sum(s[axis] for s in shapes),) + first[axis + 1:]
    if len(xs) == 1:
        return xs[0]
    parts, start = [], 0
    for x, s in zip(xs, shapes):
        parts.append((x, (slice(None),) * axis + (slice(start, start + s[axis]),)))
        start += s[axis]
    return _assemble(b, [(x, i) for x, i in parts if _numel(x, position)], out, True, position)


def _assemble(b, parts, out, covered, position) -> Tracer:
    """Arrays placed at disjoint ``(x, index)`` of zeros of shape ``out`` (``covered``: the parts fill
    it), every element with the bits of its part, -0 included. Placed into +0 and added, a -0 would
    come out +0 (0 + -0); so each part is placed negated and subtracted from -0: -0 - (-v) is v for
    every v, and v - 0 is v. Where no part lies, -0 - 0 is -0: made +0 by adding a constant that is
    +0 there and -0 (the identity) under the parts."""
    if not parts:
        return b.const(np.zeros(out, dtype=b.dtype), position)
    if all(dtypes.kind_of(b, x.id) is not None for x, _ in parts):  # integers and masks have no -0: placed in
        masks = all(is_boolean(b, x) for x, _ in parts)  # zeros and added (masks: or'ed, a mask again)
        placed = [_place(b, x, index, out, position) for x, index in parts]
        total = placed[0]
        for p in placed[1:]:
            total = b.apply("maximum" if masks else "add", total, p, position=position)
        return boolean(b, total) if masks else total
    # beside floats, a mask joins as its 0s and 1s and integers as floats: negated as integers, which have no -0,
    # their 0 would come out -0 (np.append(np.arange(3), 2.5)[0] was -0)
    parts = [(as_numbers(b, x, position) if dtypes.kind_of(b, x.id) is not None else x, index) for x, index in parts]
    total = None
    for x, index in parts:
        placed = _place(b, b.apply("neg", x, position=position), index, out, position)
        total = b.apply("neg", placed, position=position) if total is None else \
            b.apply("sub", total, placed, position=position)
    if covered:
        return total
    b.check_size(out, f"the zeros around the parts, shape {fmt(out)},", position)
    border = np.zeros(out, dtype=b.dtype)
    for x, index in parts:
        border[index] = -0.0
    return b.apply("add", total, b.const(border, position), position=position)


@function("cat", "concatenate", "concat")
def _cat(b, args, kwargs, position):
    kwargs = {("x" if k in ("tensors", "arrays", "seq") else k): v for k, v in kwargs.items()}
    a = arguments("cat", args, kwargs, {"x": REQUIRED, "axis": 0}, position)
    xs = [tensor(b, x, "cat", position) for x in _arrays(b, a["x"], "cat", position)]
    if a["axis"] is None:  # NumPy: concatenate(..., axis=None) flattens first
        xs = [_reshape_to(b, x, (_numel(x, position),), position) for x in xs]
        return _concat(b, xs, 0, "concatenate", position)
    if any(x.ndim == 0 for x in xs):
        raise JacShapeError("cat: zero-dimensional arrays cannot be joined (use stack)", position)
    return _concat(b, xs, _axis(b, a["axis"], xs[0].ndim, "cat", position, "axis"), "cat", position)


def _at_least(b, x, ndim, position) -> Tracer:
    """NumPy's atleast_2d / atleast_3d: ``(n,)`` -> ``(1, n)`` -> ``(1, n, 1)``."""
    if x.ndim >= ndim:
        return x
    shape = (1,) * ndim if x.ndim == 0 else (1, x.shape[0]) + (1,) * (ndim - 2) if x.ndim == 1 else \
        tuple(x.shape) + (1,)
    return _reshape_to(b, x, shape, position)


def _stacker(fname, axis_of):
    def lower(b, args, kwargs, position):
        kwargs = {("x" if k in ("tensors", "tup") else k): v for k, v in kwargs.items()}
        a = arguments(fname, args, kwargs, {"x": REQUIRED}, position)
        xs = [tensor(b, x, fname, position) for x in _arrays(b, a["x"], fname, position)]
        xs, axis = axis_of(b, xs, position)
        return _concat(b, xs, axis, fname, position)
    return lower


FUNCTIONS["hstack"] = _stacker("hstack", lambda b, xs, p: ([_at_least(b, x, 1, p) for x in xs],
                                                            0 if all(x.ndim <= 1 for x in xs) else 1))
FUNCTIONS["vstack"] = FUNCTIONS["row_stack"] = _stacker("vstack",
                                                         lambda b, xs, p: ([_at_least(b, x, 2, p) for x in xs], 0))
FUNCTIONS["dstack"] = _stacker("dstack", lambda b, xs, p: ([_at_least(b, x, 3, p) for x in xs], 2))
FUNCTIONS["column_stack"] = _stacker("column_stack", lambda b, xs, p: (
    [_reshape_to(b, x, (x.shape[0], 1), p) if x.ndim == 1 else _at_least(b, x, 2, p) for x in xs], 1))


@function("stack")
def _stack(b, args, kwargs, position):
    kwargs = {("x" if k in ("tensors", "arrays") else k): v for k, v in kwargs.items()}
    a = arguments("stack", args, kwargs, {"x": REQUIRED, "axis": 0}, position)
    xs = [tensor(b, x, "stack", position) for x in _arrays(b, a["x"], "stack", position)]
    shapes = {tuple(x.shape) for x in xs}
    if len(shapes) != 1:
        raise JacShapeError(f"stack needs arrays of one shape, got {', '.join(fmt(x.shape) for x in xs)}", position)
    axis = _axis(b, a["axis"], xs[0].ndim + 1, "stack", position, "axis")
    shape = tuple(xs[0].shape)
    xs = [_reshape_to(b, x, shape[:axis] + (1,) + shape[axis:], position) for x in xs]
    return _concat(b, xs, axis, "stack", position)


def _pieces(b, x, axis, sizes, position) -> Items:
    parts, start = [], 0
    for n in sizes:
        parts.append(_take(b, x, (slice(None),) * axis + (slice(start, start + n),), position))
        start += n
    return Items(parts)


def _sections(n: int, count: int) -> list:
    """NumPy's array_split: ``count`` pieces, the first ``n % count`` one longer."""
    q, r = divmod(n, count)
    return [q + 1] * r + [q] * (count - r)


def _at_indices(n: int, indices: tuple) -> list:
    """The (start, stop) of the pieces that split ``range(n)`` at ``indices`` (NumPy's split, PyTorch's
    tensor_split): piece k is ``x[indices[k-1]:indices[k]]``, so after a smaller index a piece starts again
    (``[2, 0]`` of 2 rows: ``x[:2]``, ``x[2:0]``, ``x[0:]``)."""
    bounds = [0] + [min(max(i if i >= 0 else i + n, 0), n) for i in indices] + [n]
    return [(lo, max(hi, lo)) for lo, hi in zip(bounds, bounds[1:])]


def _split_args(fname, b, args, kwargs, position, key, default_axis=0):
    a = arguments(fname, args, kwargs, {"x": REQUIRED, key: REQUIRED, "axis": default_axis}, position)
    x = tensor(b, a["x"], fname, position)
    if x.ndim == 0:
        raise JacShapeError(f"{fname} needs at least 1 dimension, got a scalar", position)
    axis = _axis(b, a["axis"], x.ndim, fname, position, "axis")
    n = _concrete(x, fname, position)[axis]
    spec = static(b, a[key], key, position)
    return x, axis, n, spec


@variant("torch", "split")
@variant("method", "split")
def _torch_split(b, args, kwargs, position):
    kwargs = {("sizes" if k == "split_size_or_sections" else k): v for k, v in kwargs.items()}
    x, axis, n, spec = _split_args("split", b, args, kwargs, position, "sizes")
    if isinstance(spec, tuple):  # the length of each piece
        sizes = static_ints(b, spec, "split sizes", position)
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise JacShapeError(f"split: sizes {sizes} do not add up to the length {n} of axis {axis}", position)
        return _pieces(b, x, axis, sizes, position)
    size = static_int(b, spec, "split size", position)
    if size <= 0:
        raise JacValueError(f"split: the size of a piece must be positive, got {size}", position)
    return _pieces(b, x, axis, [min(size, n - i) for i in range(0, n, size)] or [0], position)


@variant("numpy", "split")
def _np_split(b, args, kwargs, position, even=True):
    fname = "split" if even else "array_split"
    x, axis, n, spec = _split_args(fname, b, args, kwargs, position, "indices_or_sections")
    if isinstance(spec, tuple):  # where to cut
        return Items([_take(b, x, (slice(None),) * axis + (slice(lo, hi),), position)
                      for lo, hi in _at_indices(n, static_ints(b, spec, "split indices", position))])
    count = static_int(b, spec, "the number of sections", position)
    if count <= 0:
        raise JacValueError(f"{fname}: the number of sections must be positive, got {count}", position)
    if count > max(n, 1) and count > 10_000:
        raise JacValueError(f"{fname}: {count:,} sections of an axis of length {n} (at most 10,000 empty ones)",
                            position)
    if even and n % count:
        raise JacShapeError(f"np.split: {count} sections do not divide the length {n} evenly "
                            "(np.array_split allows it)", position)
    return _pieces(b, x, axis, _sections(n, count), position)


FUNCTIONS["array_split"] = variant("torch", "tensor_split")(variant("method", "tensor_split")(
    lambda b, args, kwargs, position: _np_split(b, args, kwargs, position, even=False)))


@function("split")
def _split(b, args, kwargs, position):
    raise JacValueError("split(x, n) is ambiguous: PyTorch's torch.split(x, n) makes pieces of n elements, "
                        "NumPy's np.split(x, n) makes n pieces. Write torch.split, x.split, np.split or "
                        "np.array_split (torch.chunk(x, n) makes n pieces too)", position)


@function("chunk")
def _chunk(b, args, kwargs, position):
    x, axis, n, spec = _split_args("chunk", b, args, kwargs, position, "chunks")
    chunks = static_int(b, spec, "chunks", position)
    if chunks <= 0:
        raise JacValueError(f"chunk: the number of chunks must be positive, got {chunks}", position)
    size = -(-n // chunks) if n else 0
    return _pieces(b, x, axis, [min(size, n - i) for i in range(0, n, size)] if size else [0], position)


@function("unbind", "unstack")
def _unbind(b, args, kwargs, position):
    a = arguments("unbind", args, kwargs, {"x": REQUIRED, "axis": 0}, position)
    x = tensor(b, a["x"], "unbind", position)
    if x.ndim == 0:
        raise JacShapeError("unbind: a scalar has no axis to split along (PyTorch: 'Dimension specified as 0 but "
                            "tensor has no dimensions')", position)
    axis = _axis(b, a["axis"], x.ndim, "unbind", position, "axis")
    return Items([_take(b, x, (slice(None),) * axis + (i,), position)
                  for i in range(_concrete(x, "unbind", position)[axis])])


@function("squeeze")
def _squeeze(b, args, kwargs, position):
    # A named axis that is not 1 is left as it is (PyTorch); np.squeeze refuses it (below).
    a = arguments("squeeze", args, kwargs, {"x": REQUIRED, "axis": None}, position)
    x = tensor(b, a["x"], "squeeze", position)
    axes = range(x.ndim) if a["axis"] is None else \
        _distinct_axes(b, static_ints(b, a["axis"], "dim", position), x.ndim, "squeeze", position)
    drop = {d for d in axes if d < x.ndim and x.shape[d] == 1}  # a 0-d array's dim 0 drops nothing
    return _reshape_to(b, x, tuple(s for i, s in enumerate(x.shape) if i not in drop), position)


@variant("numpy", "squeeze")
def _np_squeeze(b, args, kwargs, position):
    a = arguments("np.squeeze", args, kwargs, {"x": REQUIRED, "axis": None}, position)
    x = tensor(b, a["x"], "np.squeeze", position)
    if a["axis"] is not None:
        for d in static_ints(b, a["axis"], "axis", position):
            if x.ndim == 0:  # NumPy takes axis 0 or -1 of a 0-d array and leaves it as it is
                _axis(b, d, x.ndim, "np.squeeze", position, "axis")
                continue
            if x.shape[_axis(b, d, x.ndim, "np.squeeze", position, "axis")] != 1:
                raise JacShapeError(f"np.squeeze: axis {d} of shape {fmt(x.shape)} is not of length 1", position)
    return _squeeze(b, args, kwargs, position)


for _library in ("torch", "torch.linalg", "method"):  # so x.squeeze(0) in a NumPy text is NumPy's (the dialect)
    variant(_library, "squeeze")(_squeeze)


@function("unsqueeze", "expand_dims")
def _unsqueeze(b, args, kwargs, position):
    a = arguments("unsqueeze", args, kwargs, {"x": REQUIRED, "axis": REQUIRED}, position)
    x = tensor(b, a["x"], "unsqueeze", position)
    if (b.call or "").rsplit(".", 1)[-1].startswith(("unsqueeze", "unsqueeze_copy")) and (
            isinstance(a["axis"], Tracer) and a["axis"].shape or type(a["axis"]) is tuple):
        raise JacValueError(f"{b.call.strip('.()')}(): dim must be one int, not a tuple (PyTorch raises TypeError: "
                            "argument 'dim' must be int, not tuple; np.expand_dims takes a tuple)", position)
    new = static_ints(b, a["axis"], "dim", position)
    ndim = x.ndim + len(new)
    axes = sorted(_axis(b, d, ndim, "unsqueeze", position) for d in new)
    if len(set(axes)) != len(axes):
        raise JacValueError(f"expand_dims: repeated axis in {new}", position)
    shape, rest = [], iter(x.shape)
    for i in range(ndim):
        shape.append(1 if i in axes else next(rest))
    return _reshape_to(b, x, tuple(shape), position)


@function("broadcast_to")
def _broadcast_to(b, args, kwargs, position):
    a = arguments("broadcast_to", args, kwargs, {"x": REQUIRED, "shape": REQUIRED}, position)
    x = tensor(b, a["x"], "broadcast_to", position)
    shape = shape_ints(b, a["shape"], "broadcast_to shape", position)
    lead = len(shape) - x.ndim
    if any(n < 0 for n in shape):  # PyTorch's -1: the size of x's own axis there, as expand reads it
        if lead < 0 or any(n < 0 and (n != -1 or i < lead) for i, n in enumerate(shape)):
            raise JacShapeError(f"broadcast_to: size {fmt(shape)} has a negative size that is not -1 at one of the "
                                f"input's own axes (shape {fmt(x.shape)}), the only one PyTorch reads", position)
        shape = tuple(x.shape[i - lead] if n == -1 else n for i, n in enumerate(shape))
    return x if shape == tuple(x.shape) else b.apply("broadcast_to", x, shape=shape, position=position)


@variant("method", "broadcast_to")
def _method_broadcast_to(b, args, kwargs, position):
    """x.broadcast_to(3, 4): PyTorch's method takes the sizes as varargs too (as x.expand), its function
    ``torch.broadcast_to(x, shape)`` and NumPy's only a tuple."""
    if len(args) > 2 and "shape" not in kwargs and "size" not in kwargs:
        args = (args[0], _sizes(b, args[1:], {}, (), "broadcast_to sizes", position))
    return _broadcast_to(b, args, kwargs, position)


@function("masked_select")
def _masked_select(b, args, kwargs, position):
    """torch.masked_select(x, mask): x[mask] of x and the mask broadcast together, as PyTorch (a vector)."""
    a = arguments("masked_select", args, kwargs, {"x": REQUIRED, "mask": REQUIRED}, position)
    x, mask = tensor(b, a["x"], "masked_select", position), tensor(b, a["mask"], "masked_select", position)
    if not is_boolean(b, mask):
        raise JacValueError("masked_select(): the mask must be a boolean (a comparison such as x > 0), as in PyTorch",
                            position)
    try:
        shape = tuple(np.broadcast_shapes(tuple(x.shape), tuple(mask.shape)))
    except ValueError:
        raise JacShapeError(f"masked_select(): the array {fmt(x.shape)} and the mask {fmt(mask.shape)} do not "
                            "broadcast together", position) from None
    if b.lowering is None:
        raise JacValueError("masked_select() needs the parser's boolean indexing", position)
    x, mask = (v if tuple(v.shape) == shape else b.apply("broadcast_to", v, shape=shape, position=position)
               for v in (x, mask))
    if not shape:  # a 0-d mask selects all or nothing of a 0-d array: as a vector of one element first
        x, mask = (_reshape_to(b, v, (1,), position) for v in (x, mask))
    return b.lowering.masked(x, [mask], position)


@function("expand")
def _expand(b, args, kwargs, position):
    if not args:
        raise JacParseError("expand() needs an array and sizes", position)
    x = tensor(b, args[0], "expand", position)
    sizes = _sizes(b, args[1:], kwargs, ("size", "sizes"), "expand sizes", position)
    lead = len(sizes) - x.ndim
    if lead < 0:
        raise JacShapeError(f"expand: {len(sizes)} sizes for an array of {x.ndim} dimensions", position)
    shape = tuple(x.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
    if any(s < 0 for s in shape):
        raise JacShapeError(f"expand: -1 only keeps an existing axis, got sizes {sizes}", position)
    return x if shape == tuple(x.shape) else b.apply("broadcast_to", x, shape=shape, position=position)


@function("expand_as", "broadcast_as")
def _expand_as(b, args, kwargs, position):
    x, other = _two("expand_as", b, args, kwargs, position)
    return x if other.shape == x.shape else b.apply("broadcast_to", x, shape=tuple(other.shape), position=position)


def _tile(b, x, reps, position) -> Tracer:
    """np.tile / torch.tile / Tensor.repeat: copies side by side, as a broadcast and a reshape."""
    ndim = max(len(reps), x.ndim)
    reps = (1,) * (ndim - len(reps)) + tuple(reps)
    shape = (1,) * (ndim - x.ndim) + _concrete(x, "tile", position)
    if any(r < 0 for r in reps):
        raise JacValueError(f"tile: negative repetitions in {reps}", position)
    paired = tuple(v for s in shape for v in (1, s))
    wide = tuple(v for r, s in zip(reps, shape) for v in (r, s))
    x = _reshape_to(b, x, paired, position)
    if wide != paired:
        x = b.apply("broadcast_to", x, shape=wide, position=position)
    return _reshape_to(b, x, tuple(r * s for r, s in zip(reps, shape)), position)


@function("tile")
def _tile_fn(b, args, kwargs, position):
    a = arguments("tile", args, kwargs, {"x": REQUIRED, "reps": REQUIRED}, position)
    reps = static_ints(b, a["reps"], "tile reps", position)
    if written_as_float(b, a["reps"]) and (b.call or "").startswith(("np.", "numpy.")) and any(r != 1 for r in reps):
        # np.tile returns a copy when every repetition is 1; else its reshape to the float sizes raises
        raise JacValueError(f"np.tile: reps must be integers, not the float {static(b, a['reps'], 'reps', position)!r} "
                            "(NumPy raises TypeError: 'float' object cannot be interpreted as an integer)", position)
    return _tile(b, tensor(b, a["x"], "tile", position), reps, position)


@variant("torch", "repeat")
def _torch_repeat(b, args, kwargs, position):
    if not args:
        raise JacParseError("repeat() needs an array and the repetitions", position)
    x = tensor(b, args[0], "repeat", position)
    reps = _sizes(b, args[1:], kwargs, ("repeats", "sizes"), "repeat sizes", position)
    if len(reps) < x.ndim:
        raise JacShapeError(f"Tensor.repeat: {len(reps)} repetitions for an array of {x.ndim} dimensions "
                            "(PyTorch needs at least one per dimension)", position)
    return _tile(b, x, reps, position)


@function("repeat_interleave")
def _repeat_interleave(b, args, kwargs, position):
    kwargs = {("axis" if k == "dim" else k): v for k, v in kwargs.items()}
    a = arguments("repeat_interleave", args, kwargs, {"x": REQUIRED, "repeats": REQUIRED, "axis": None}, position)
    x = tensor(b, a["x"], "repeat_interleave", position)
    if a["axis"] is None:
        x, axis = _reshape_to(b, x, (_numel(x, position),), position), 0
    else:
        axis = _axis(b, a["axis"], x.ndim, "repeat", position, "axis")
    if x.ndim == 0:
        x = _reshape_to(b, x, (1,), position)
    n = _concrete(x, "repeat", position)[axis]
    reps = static_ints(b, a["repeats"], "repeats", position)
    if len(reps) not in (1, n) or any(r < 0 for r in reps):
        raise JacValueError(f"repeat: repeats {reps} must be one count or one count per element ({n}), none "
                            "negative", position)
    total = sum(reps) if len(reps) == n else n * reps[0]
    b.check_size((total,), f"repeat's result ({total:,} elements)", position)  # before the index is built
    index = np.repeat(np.arange(n), reps if len(reps) == n else reps[0])
    return _take(b, x, (slice(None),) * axis + (index,), position)


variant("numpy", "repeat")(_repeat_interleave)


@function("repeat")
def _repeat(b, args, kwargs, position):
    # x.repeat(...): PyTorch's Tensor.repeat tiles (np.tile), NumPy's ndarray.repeat repeats each
    # element (np.repeat). When both would accept the call, it is refused.
    if not args:
        raise JacParseError("repeat() needs an array and the repetitions", position)
    x, rest = tensor(b, args[0], "repeat", position), args[1:]
    if kwargs:  # repeats= / axis= are NumPy's keywords
        return _repeat_interleave(b, args, kwargs, position)
    torch_ok = len(_sizes(b, rest, {}, (), "repeat sizes", position)) >= max(x.ndim, 1)
    axis = static(b, rest[1], "axis", position) if len(rest) == 2 else 0
    numpy_ok = len(rest) in (1, 2) and _is_integer(axis) and -max(x.ndim, 1) <= int(axis) < max(x.ndim, 1)
    dialect = getattr(b.lowering, "dialect", None)  # a text that calls one library only: its reading
    if torch_ok and numpy_ok and dialect is not None:
        torch_ok, numpy_ok = dialect == "torch", dialect == "numpy"
    if torch_ok and numpy_ok:
        raise JacValueError("x.repeat(...) is ambiguous: PyTorch's Tensor.repeat tiles the array (np.tile), "
                            "NumPy's ndarray.repeat repeats each element (torch.repeat_interleave). Write "
                            "torch.tile or np.tile for copies side by side, torch.repeat_interleave or "
                            "np.repeat for repeated elements", position)
    return _torch_repeat(b, args, kwargs, position) if torch_ok else _repeat_interleave(b, args, kwargs, position)


@function("flip")
def _flip(b, args, kwargs, position):
    kwargs = {("axis" if k == "dims" else k): v for k, v in kwargs.items()}
    if b.call == ".flip()" and len(args) > 2 and not kwargs:  # PyTorch's x.flip(0, 1): the dims one by one
        args = [args[0], Items(args[1:])]
    a = arguments("flip", args, kwargs, {"x": REQUIRED, "axis": None}, position)
    x = tensor(b, a["x"], "flip", position)
    axes = range(x.ndim) if a["axis"] is None else \
        _distinct_axes(b, static_ints(b, a["axis"], "dims", position), x.ndim, "flip", position)
    return _take(b, x, tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(x.ndim)), position)


def _flip_axis(fname: str, axis: int):
    def lower(b, args, kwargs, position):  # np.fliplr(m) / np.flipud(m): one argument, no keyword but m=
        a = arguments(fname, args, kwargs, {"m": REQUIRED}, position)
        return _flip(b, [a["m"]], {"axis": b.const(float(axis))}, position)
    return lower


FUNCTIONS["fliplr"] = _flip_axis("fliplr", 1)
FUNCTIONS["flipud"] = _flip_axis("flipud", 0)


@function("roll")
def _roll(b, args, kwargs, position):
    kwargs = {{"dims": "axis", "shifts": "shift"}.get(k, k): v for k, v in kwargs.items()}
    a = arguments("roll", args, kwargs, {"x": REQUIRED, "shift": REQUIRED, "axis": None}, position)
    x = tensor(b, a["x"], "roll", position)
    with reads_as(b):  # JAX rolls by a traced shift
        shifts = static_ints(b, a["shift"], "shifts", position)
    if a["axis"] is None:  # the flattened array rolled, then its shape back
        if len(shifts) != 1:
            raise JacValueError("roll: several shifts need as many dims", position)
        flat = _reshape_to(b, x, (_numel(x, position),), position)
        return _reshape_to(b, _roll_axis(b, flat, 0, shifts[0], position), tuple(x.shape), position)
    _has_axes(x, "roll", position)
    axes = [_axis(b, d, x.ndim, "roll", position) for d in static_ints(b, a["axis"], "dims", position)]
    if len(shifts) == 1:
        shifts = shifts * len(axes)
    if len(shifts) != len(axes):
        raise JacValueError(f"roll: {len(shifts)} shifts for {len(axes)} dims", position)
    for axis, shift in zip(axes, shifts):
        x = _roll_axis(b, x, axis, shift, position)
    return x


def _roll_axis(b, x, axis, shift, position):
    n = _concrete(x, "roll", position)[axis]
    if n == 0 or shift % n == 0:
        return x
    return _take(b, x, (slice(None),) * axis + ((np.arange(n) - shift) % n,), position)


def _triangle(lower: bool):
    fname = "tril" if lower else "triu"

    def lower_fn(b, args, kwargs, position):
        kwargs = {("k" if k == "diagonal" else k): v for k, v in kwargs.items()}
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "k": 0}, position)
        x = tensor(b, a["x"], fname, position)
        if x.ndim < 2:
            raise JacShapeError(f"{fname} needs a matrix (at least 2-d), got shape {fmt(x.shape)}", position)
        n, m = _concrete(x, fname, position)[-2:]
        k = static_int(b, a["k"], "diagonal", position)
        b.check_size((n, m), f"{fname}'s index of a {n}×{m} matrix", position)  # before it is built
        keep = np.tril(np.ones((n, m), dtype=bool), k) if lower else np.triu(np.ones((n, m), dtype=bool), k)
        if keep.all():
            return x
        rows, cols = np.nonzero(keep)
        index = (slice(None),) * (x.ndim - 2) + (rows, cols)
        if rows.size == 0:  # nothing kept: zeros, whatever x holds
            out = b.const(np.zeros(x.shape, b.dtype), position)
        else:
            out = _place(b, _take(b, x, index, position), index, x.shape, position)
        return boolean(b, out) if is_boolean(b, x) else out  # a triangle of a mask is a mask
    return lower_fn


FUNCTIONS["tril"] = _triangle(True)
FUNCTIONS["triu"] = _triangle(False)


@function("narrow")
def _narrow(b, args, kwargs, position):
    a = arguments("narrow", args, kwargs, {"x": REQUIRED, "axis": REQUIRED, "start": REQUIRED, "length": REQUIRED},
                  position)
    x = tensor(b, a["x"], "narrow", position)
    if x.ndim == 0:
        raise JacShapeError("narrow() cannot be applied to a 0-dim tensor (PyTorch's words)", position)
    axis = _axis(b, a["axis"], x.ndim, "narrow", position)
    n = _concrete(x, "narrow", position)[axis]
    start, length = (static_int(b, a[k], k, position) for k in ("start", "length"))
    start = start + n if start < 0 else start
    if not (0 <= start <= n and 0 <= length <= n - start):
        raise JacShapeError(f"narrow: start {start} and length {length} do not fit axis {axis} of length {n}",
                            position)
    return _take(b, x, (slice(None),) * axis + (slice(start, start + length),), position)


def data_index(b, value, position) -> np.ndarray | None:
    """The values of an index bound as an input (``labels=[0, 3, 1]``), or reached from one by shape ops and
    casts only (``labels.unsqueeze(1)``, ``labels.long()``): read at the values given, as PyTorch indexes with
    an integer tensor (no derivative through the index; the graph then holds for these values only, as
    ``x[mask]``'s); None for any other array (a constant, or one computed from the inputs' values)."""
    if not isinstance(value, Tracer) or b.lowering is None:
        return None
    node = b.nodes[value.id]
    while node.op != "input":
        op = OPS.get(node.op)
        if not node.args or op is None or (op.view is None and node.op not in ("integer", "detach")):
            return None
        node = b.nodes[node.args[0]]
    message = (f"an index read from the input '{node.name}' is known only for given values (jac eval, vjp, jvp, "
               "hessian, check read it; jac shape and jac diff cannot): write its value into the expression")
    return np.asarray(b.lowering.value_of(value, position, message=message))


def index_values(b, value, what: str, fname, position, why: str = "") -> np.ndarray:
    """The values of a constant index array, or of one bound as an input (:func:`data_index`), checked to
    hold integers (still as floats); ``why`` follows the refusal of one computed from the inputs."""
    found = data_index(b, value, position)
    if isinstance(value, Tracer) and b.nodes[value.id].op == "const":
        v = np.asarray(b.nodes[value.id].value)
    elif found is not None:
        v = found
    else:
        raise JacValueError(f"{fname}: {what} must be a constant array of integers{why}"
                            f"{input_not_constant(b, value)}", position)
    if v.size and not (np.all(np.isfinite(v)) and np.array_equal(v, np.round(v))):
        raise JacValueError(f"{fname}: {what} must hold integers", position)
    return v


def _index_array(b, value, n, what, fname, position, ndim=None, dim=None) -> np.ndarray:
    """A constant integer index array, checked against the length ``n`` it selects from (or one bound as an
    input: :func:`data_index`). ``dim``: the axis of a PyTorch function that takes no negative index (gather,
    index_select, the scatter family, index_add / index_copy / index_reduce: PyTorch raises "index -1 is out of
    bounds for dimension 1 with size 4" where NumPy would count from the end)."""
    v = index_values(b, value, what, fname, position)
    v = v.astype(np.intp)
    if dim is not None and v.size and v.min() < 0:
        raise JacShapeError(f"{fname}: {what} {int(v.min())} is out of bounds for dimension {dim} with size {n} "
                            f"(PyTorch's {fname} takes no negative index; write {int(v.min()) + n} for "
                            f"{int(v.min())} if you mean to count from the end)" if v.min() >= -n else
                            f"{fname}: {what} {int(v.min())} is out of bounds for dimension {dim} with size {n}",
                            position)
    if v.size and (v.min() < -n or v.max() >= n):
        raise JacShapeError(f"{fname}: {what} holds {int(v.min()) if v.min() < -n else int(v.max())}, out of "
                            f"range for an axis of length {n}", position)
    if ndim is not None and v.ndim != ndim:
        raise JacShapeError(f"{fname}: {what} must be {ndim}-d, got shape {fmt(v.shape)}", position)
    return v % max(n, 1)


@function("index_select")
def _index_select(b, args, kwargs, position):
    a = arguments("index_select", args, kwargs, {"x": REQUIRED, "axis": REQUIRED, "index": REQUIRED}, position)
    x = tensor(b, a["x"], "index_select", position)
    axis = _axis(b, a["axis"], x.ndim, "index_select", position)
    scalar = x.ndim == 0  # PyTorch: a 0-d x takes dim 0 and one index, and stays 0-d
    if scalar:
        x = _reshape_to(b, x, (1,), position)
    n = _concrete(x, "index_select", position)[axis]
    index = _index_array(b, a["index"], n, "index", "index_select", position, dim=axis)
    if index.ndim > 1:
        raise JacShapeError("index_select: index must be 0-d or 1-d", position)
    if scalar and index.size != 1:
        raise JacShapeError(f"index_select: a 0-d array takes one index, got {index.size}", position)
    out = _take(b, x, (slice(None),) * axis + (index.reshape(-1),), position)
    return _reshape_to(b, out, (), position) if scalar else out


@function("take")
def _np_take(b, args, kwargs, position):
    """``torch.take(x, index)``, ``np.take(a, indices, axis=None, mode='raise')`` and ``jnp.take(..., mode=None,
    fill_value=None)``: ``mode=`` as the library named reads it (:func:`_take_mode`)."""
    params = {"x": REQUIRED, "indices": REQUIRED, "axis": None}
    jax = (b.call or "").startswith(("jnp.", "jax.numpy."))
    if b.library == "numpy":
        params.update({"mode": None, "fill_value": None} if jax else {"mode": "raise"})
    a = arguments("take", args, kwargs, params, position)
    x = tensor(b, a["x"], "take", position)
    if a["axis"] is None:  # torch.take and np.take without an axis: indices into the flattened array
        x, axis = _reshape_to(b, x, (_numel(x, position),), position), 0
    else:
        axis = _axis(b, a["axis"], _with_axis(x, "take", position).ndim, "take", position, "axis")
    n = _concrete(x, "take", position)[axis]
    mode = static(b, a.get("mode", "raise"), "mode", position)
    if mode in ("raise", None) and not jax:
        index = _index_array(b, a["indices"], n, "indices", "take", position)
        return _take(b, x, (slice(None),) * axis + (index,), position)
    index, inside = _take_mode(b, a["indices"], n, mode, jax, position)
    out = _take(b, x, (slice(None),) * axis + (index,), position)
    if inside.all():
        return out
    fill = float("nan") if a["fill_value"] is None else static(b, a["fill_value"], "fill_value", position)
    if isinstance(fill, bool) or not isinstance(fill, (int, float)):
        raise JacValueError(f"take: fill_value must be a number, got {fill!r}", position)
    mask = boolean(b, b.const(inside.reshape(inside.shape + (1,) * (x.ndim - axis - 1)).astype(b.dtype), position))
    return b.apply("where", mask, out, float(fill), position=position)


def _take_mode(b, value, n: int, mode, jax: bool, position) -> tuple:
    """(the index read, where it is inside) for ``np.take`` / ``jnp.take``'s ``mode`` (session 40): 'wrap' takes
    it modulo n; 'clip' clips it into [0, n - 1], a negative index to 0 (NumPy and JAX alike: "clip mode disables
    indexing with negative numbers"); JAX's default 'fill' counts a negative index in [-n, -1] from the end and
    gives ``fill_value`` (NaN) past the axis, with no derivative there."""
    choices = ("fill", "clip", "wrap") if jax else ("raise", "clip", "wrap")
    if mode is not None and mode not in choices:
        raise JacValueError(f"take: mode must be one of {', '.join(map(repr, choices))}, got {mode!r}"
                            + (" (JAX's jnp.take does not support 'raise')" if mode == "raise" else ""), position)
    v = index_values(b, value, "indices", "take", position).astype(np.intp)
    if n == 0 and v.size:
        raise JacShapeError("take: cannot take from an axis of length 0", position)
    if mode == "wrap":
        return v % n, np.ones(v.shape, bool)
    if mode == "clip":
        return np.clip(v, 0, n - 1), np.ones(v.shape, bool)
    inside = (v >= -n) & (v < n)
    return np.where(inside, v % max(n, 1), 0), inside


def _along(b, x, index, axis, ranges, fname, position) -> Tracer:
    """``x`` picked along ``axis`` at ``index``; the other axes run over ``ranges`` (broadcast)."""
    grids = []
    for d in range(x.ndim):
        shape = [1] * x.ndim
        shape[d] = -1
        grids.append(index if d == axis else np.arange(ranges[d]).reshape(shape))
    return _take(b, x, tuple(grids), position)


def _with_axis(x: Tracer, fname: str, position) -> Tracer:
    """``x`` when it has an axis to pick along: a 0-d array is refused (PyTorch's dim 0 of a 0-d array, read
    elsewhere as one axis of length 1, is not read here)."""
    if x.ndim == 0:
        raise JacShapeError(f"{fname}: a 0-d array has no axis to pick along; write x.reshape(1)", position)
    return x


@function("gather")
def _gather(b, args, kwargs, position):
    a = arguments("gather", args, kwargs, {"x": REQUIRED, "axis": REQUIRED, "index": REQUIRED}, position)
    x = _with_axis(tensor(b, a["x"], "gather", position), "gather", position)
    shape = _concrete(x, "gather", position)
    axis = _axis(b, a["axis"], x.ndim, "gather", position)
    found = _found_index(b, a["index"], shape, axis)
    if found is not None and all(i == s for d, (i, s) in enumerate(zip(found.shape, shape)) if d != axis):
        # q.gather(1, q_next.argmax(1, keepdim=True)): indices found at evaluation, always in range; gather does
        # not broadcast, so the other axes must match (a smaller index would take a corner)
        return b.apply("take_along", x, found, axis=axis, position=position)
    index = _index_array(b, a["index"], shape[axis], "index", "gather", position, ndim=x.ndim, dim=axis)
    if any(i > s for d, (i, s) in enumerate(zip(index.shape, shape)) if d != axis):
        raise JacShapeError(f"gather: index of shape {fmt(index.shape)} is larger than the input {fmt(shape)} "
                            f"outside dim {axis}", position)
    return _along(b, x, index, axis, index.shape, "gather", position)


@function("take_along_dim", "take_along_axis")
def _take_along(b, args, kwargs, position):
    kwargs = {("index" if k in ("indices", "indexes") else k): v for k, v in kwargs.items()}
    a = arguments("take_along_dim", args, kwargs, {"x": REQUIRED, "index": REQUIRED, "axis": None}, position)
    x = tensor(b, a["x"], "take_along_dim", position)
    if a["axis"] is None:
        x, axis = _reshape_to(b, x, (_numel(x, position),), position), 0
    else:
        axis = _axis(b, a["axis"], _with_axis(x, "take_along_dim", position).ndim, "take_along_dim", position)
    shape = _concrete(x, "take_along_dim", position)
    found = _found_index(b, a["index"], shape, axis)
    if found is not None:  # np.take_along_axis(A, np.argsort(A, axis=1), axis=1): indices found at evaluation
        return b.apply("take_along", x, found, axis=axis, position=position)
    index = _index_array(b, a["index"], shape[axis], "indices", "take_along_dim", position, ndim=x.ndim)
    for d, (i, s) in enumerate(zip(index.shape, shape)):
        if d != axis and i != s and 1 not in (i, s):
            raise JacShapeError(f"take_along_dim: indices of shape {fmt(index.shape)} do not broadcast with "
                                f"{fmt(shape)}", position)
    return _along(b, x, index, axis, shape, "take_along_dim", position)


def _found_index(b, index, shape, axis):
    """``index`` when it is made by argsort / argpartition / argmax / argmin (keepdims) of an array whose ``axis``
    has ``x``'s length, with ``x``'s number of axes and sizes that broadcast outside ``axis``: every index it can
    hold is in range, so ``take_along`` may read it at evaluation (hvocab10; the vocabulary sweep's
    np.take_along_axis(A, np.argsort(A, axis=1), axis=1) was refused). Otherwise None."""
    if not isinstance(index, Tracer) or isinstance(index, Items):
        return None
    node = _kept_axis(b, b.nodes[index.id])
    if node.op not in ("argsort", "argpartition", "argmax", "argmin") or index.ndim != len(shape):
        return None
    along = node.params.get("axis")
    source = b.nodes[node.args[0]].shape
    if along is None or len(source) != len(shape) or source[along] != shape[axis] or along != axis \
            or node.params.get("k") is not None:
        return None
    if any(d != axis and i != n and i != 1 for d, (i, n) in enumerate(zip(index.shape, shape))):
        return None
    return index


def _kept_axis(b, node):
    """The argmax / argmin node whose values ``node`` holds in the same order with the reduced axis as a size-1
    axis (``a.argmax(1).unsqueeze(1)``, ``np.argmax(a, axis=1)[:, None]``, ``torch.max(a, 1).indices.unsqueeze(1)``:
    reshapes and axis insertions keep the order, so the values are ``keepdims=True``'s), else ``node``."""
    inner = node
    while inner.op == "reshape" or inner.op == "getitem" and all(
            i is None or isinstance(i, slice) and i == slice(None) for i in inner.params["index"]):
        inner = b.nodes[inner.args[0]]
    axis = inner.params.get("axis") if inner.op in ("argmax", "argmin") and inner is not node else None
    if axis is None:
        return node
    source = b.nodes[inner.args[0]].shape
    kept = tuple(source[:axis]) + (1,) + tuple(source[axis + 1:])
    return inner if tuple(node.shape) == kept else node


def _pad_widths(b, value, ndim, torch_order, position) -> list:
    """Per axis (before, after): F.pad's flat list runs from the last axis back; np.pad's is per axis."""
    if torch_order:
        flat = static_ints(b, value, "pad", position)
        if len(flat) % 2 or len(flat) // 2 > ndim:
            raise JacValueError(f"F.pad: pad {flat} must hold (left, right) pairs for at most {ndim} axes",
                                position)
        widths = [(0, 0)] * ndim
        for i in range(len(flat) // 2):
            widths[ndim - 1 - i] = (flat[2 * i], flat[2 * i + 1])
        return widths
    w = np.asarray(static(b, value, "pad_width", position), dtype=float)
    if w.size and not np.array_equal(w, np.round(w)) or written_as_float(b, value):
        raise JacValueError(f"np.pad: pad_width must hold integers, got {static(b, value, 'pad_width', position)!r} "
                            "(NumPy raises TypeError: `pad_width` must be of integral type)", position)
    if (w < 0).any():  # before the broadcast: of a 0-d array, np.pad(s, -2) is NumPy's ValueError too
        raise JacValueError("np.pad: pad_width must not be negative (NumPy raises ValueError: index can't contain "
                            "negative values)", position)
    try:
        w = np.broadcast_to(w.astype(np.int64), (ndim, 2))
    except ValueError:
        raise JacValueError(f"np.pad: pad_width of shape {fmt(np.shape(w))} does not fit {ndim} axes", position) \
            from None
    if (w < 0).any():
        raise JacValueError("np.pad: pad_width must not be negative", position)
    return [tuple(int(v) for v in row) for row in w]


def _pad(torch_order):
    def lower(b, args, kwargs, position):
        kwargs = {{"pad_width": "pad", "constant_values": "value"}.get(k, k): v for k, v in kwargs.items()}
        extra = {} if torch_order else {"end_values": 0.0, "stat_length": None}  # np.pad's, for its own modes
        a = arguments("pad", args, kwargs, {"x": REQUIRED, "pad": REQUIRED, "mode": "constant", "value": 0.0,
                                            **extra}, position)
        x = tensor(b, a["x"], "pad", position)
        mode = static(b, a["mode"], "mode", position)
        if not torch_order and mode in NUMPY_STAT_PADS:
            return _pad_by_statistic(b, x, a, mode, position)
        if not torch_order and (static(b, a["end_values"], "end_values", position) != 0.0
                                or static(b, a["stat_length"], "stat_length", position) is not None):
            raise JacValueError(f"np.pad: end_values= belongs to mode='linear_ramp' and stat_length= to 'maximum', "
                                f"'minimum', 'mean' and 'median', not to mode={mode!r}", position)
        if mode != "constant":
            if static(b, a["value"], "value", position) not in (0, None):
                raise JacValueError(f"pad: mode={mode!r} takes no value (it repeats the input's elements)", position)
            return _pad_by_index(b, x, a["pad"], mode, torch_order, position)
        value = static(b, a["value"], "value", position)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise JacValueError("pad: the value must be one number", position)
        shape = _concrete(x, "pad", position)
        widths = _pad_widths(b, a["pad"], x.ndim, torch_order, position)
        crop = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for (lo, hi), n in zip(widths, shape))
        if any(s.start > s.stop for s in crop):
            raise JacShapeError(f"pad: {widths} crops more than the shape {fmt(shape)} holds", position)
        if any(lo < 0 or hi < 0 for lo, hi in widths):  # F.pad crops with negative widths
            x = _take(b, x, crop, position)
        widths = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
        if not any(lo or hi for lo, hi in widths):
            return x
        out = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape, widths))
        index = tuple(slice(lo, lo + n) for n, (lo, _) in zip(x.shape, widths))
        placed = _place(b, x, index, out, position)
        if value == 0:
            return placed
        b.check_size(out, f"pad's result, shape {fmt(out)},", position)  # before the border is built
        border = np.full(out, float(value), dtype=b.dtype)
        kind = dtypes.kind_of(b, x.id)
        if kind is None:
            border[index] = -0.0  # addition's identity: x + -0 is x, -0 included
            return b.apply("add", placed, b.const(border, position), position=position)
        # an integer or boolean array is padded in its dtype, as PyTorch and NumPy pad it: 0.5 pads an int64
        # array with 0 and a bool one with True (typed_cast refuses NaN, inf and a value out of the dtype's range)
        border[index] = 0.0
        padded = b.apply("add", placed, typed_cast(b, b.const(border, position), kind[0], position, kind[1]),
                         position=position)
        return boolean(b, padded) if kind[0].kind == "b" else padded
    return lower


_numpy_pad = _pad(False)


def _bare_pad(b, args, kwargs, position):
    """pad(x, pad_width): np.pad's, every axis; a flat pair (l, r) for an array of 2 or more axes is refused, F.pad
    reading it for the last axis alone: write F.pad or np.pad."""
    x = args[0] if args else kwargs.get("input", kwargs.get("array"))
    widths = args[1] if len(args) > 1 else kwargs.get("pad")  # pad_width= and constant_values= are NumPy's
    if x is not None and widths is not None and not kwargs.keys() & {"pad_width", "constant_values"}:
        x, widths = tensor(b, x, "pad", position), np.asarray(static(b, widths, "pad", position), dtype=object)
        if x.ndim >= 2 and widths.shape == (2,) and any(widths):
            pair = ", ".join(f"{w:g}" if isinstance(w, (int, float)) else repr(w) for w in widths.tolist())
            raise _ambiguous(f"pad(x, ({pair})) of a {x.ndim}-d array", "F.pad pads the last axis "
                             "alone", "np.pad every axis", "Write F.pad or np.pad.", position)
    return _numpy_pad(b, args, kwargs, position)


FUNCTIONS["pad"] = _bare_pad
variant("numpy", "pad")(_numpy_pad)
variant("torch", "pad")(_pad(True))

# The padding modes that repeat elements, as a position in the axis for each padded position
# (i counted from the first element): edge / replicate, wrap / circular, reflect (the edge not
# repeated) and symmetric (repeated), periodic for widths past the axis' length, as np.pad.
PAD_MODES = {"torch": ("reflect", "replicate", "circular"), "numpy": ("edge", "reflect", "symmetric", "wrap")}


NUMPY_STAT_PADS = ("maximum", "minimum", "mean", "median", "linear_ramp")


def _pad_by_statistic(b, x: Tracer, a: dict, mode: str, position) -> Tracer:
    """np.pad's maximum / minimum / mean / median (the statistic of the whole axis, repeated) and linear_ramp
    (from the edge element to ``end_values``), axis by axis as NumPy pads them: a later axis' statistic and ramp
    read the earlier axes' padding too."""
    if static(b, a["stat_length"], "stat_length", position) is not None:
        raise JacValueError(f"np.pad: stat_length= is not supported by jac (mode={mode!r} over the whole axis only)",
                            position)
    if static(b, a["value"], "value", position) not in (0, None):
        raise JacValueError(f"np.pad: mode={mode!r} takes no constant_values", position)
    if dtypes.kind_of(b, x.id) is not None:  # NumPy rounds a mean, median or ramp into the integer dtype
        raise JacValueError(f"np.pad: mode={mode!r} of an integer or boolean array is not supported by jac (NumPy "
                            "rounds the padding into its dtype): pad x.astype(float)", position)
    shape = _concrete(x, "pad", position)
    widths = _pad_widths(b, a["pad"], x.ndim, False, position)
    ends = static(b, a["end_values"], "end_values", position)
    try:
        ends = np.broadcast_to(np.asarray(ends, dtype=float), (x.ndim, 2))
    except (TypeError, ValueError):
        raise JacValueError(f"np.pad: end_values={ends!r} must be a number or a (before, after) pair per axis",
                            position) from None
    reduce = library_function("numpy", {"maximum": "max", "minimum": "min"}.get(mode, mode))
    for axis, ((lo, hi), n) in enumerate(zip(widths, shape)):
        if lo < 0 or hi < 0 or ((lo or hi) and n == 0):
            raise JacValueError(f"np.pad: mode={mode!r} cannot pad axis {axis} of length {n} by ({lo}, {hi})", position)
        if not (lo or hi):
            continue
        before = (slice(None),) * axis
        if mode == "linear_ramp":  # before: end + (edge - end) * i / lo; after: edge + (end - edge) * (j + 1) / hi
            parts = [_ramp(b, _take(b, x, before + (np.zeros(lo, dtype=int),), position), ends[axis, 0],
                           np.arange(lo) / max(lo, 1), axis, position),
                     x,
                     _ramp(b, _take(b, x, before + (np.full(hi, n - 1),), position), ends[axis, 1],
                           1.0 - np.arange(1, hi + 1) / max(hi, 1), axis, position)]
        else:
            stat = reduce(b, [x], {"axis": axis, "keepdims": True}, position)
            parts = [_take(b, stat, before + (np.zeros(lo, dtype=int),), position), x,
                     _take(b, stat, before + (np.zeros(hi, dtype=int),), position)]
        x = _concat(b, [p for p in parts if p.shape[axis]], axis, "pad", position)
    return x


def _ramp(b, edge: Tracer, end: float, t: np.ndarray, axis: int, position) -> Tracer:
    """``edge * t + end * (1 - t)`` with ``t`` along ``axis``: a linear_ramp's side (t = 1 at the edge)."""
    shape = (1,) * axis + (len(t),) + (1,) * (edge.ndim - axis - 1)
    scaled = b.apply("mul", edge, b.const(t.reshape(shape).astype(b.dtype), position), position=position)
    return b.apply("add", scaled, b.const((end * (1.0 - t)).reshape(shape).astype(b.dtype), position),
                   position=position)


def _pad_positions(mode: str, n: int, lo: int, hi: int) -> np.ndarray:
    i = np.arange(-lo, n + hi)
    if mode in ("edge", "replicate"):
        return np.clip(i, 0, n - 1)
    if mode in ("wrap", "circular"):
        return i % n
    if mode == "symmetric":
        j = i % (2 * n)
        return np.where(j < n, j, 2 * n - 1 - j)
    if n == 1:  # reflect
        return np.zeros_like(i)
    j = i % (2 * (n - 1))
    return np.where(j < n, j, 2 * (n - 1) - j)


def _pad_by_index(b, x: Tracer, pad, mode, torch_order: bool, position) -> Tracer:
    """F.pad's reflect / replicate / circular and np.pad's edge / reflect / symmetric / wrap: each
    padded axis gathered by constant positions (its derivative adds the repeats back)."""
    library = "torch" if torch_order else "numpy"
    fname = "F.pad" if torch_order else "np.pad"
    if mode not in PAD_MODES[library]:
        modes = PAD_MODES[library] + (() if torch_order else NUMPY_STAT_PADS)  # np.pad's statistics: _pad_by_statistic
        raise JacValueError(f"{fname}: mode={mode!r} is not supported by jac (only 'constant', "
                            f"{', '.join(repr(m) for m in modes)})", position)
    shape = _concrete(x, "pad", position)
    widths = _pad_widths(b, pad, x.ndim, torch_order, position)
    if torch_order:
        k = len(static_ints(b, pad, "pad", position)) // 2
        if not 1 <= k <= 3 or x.ndim not in (k + 1, k + 2):
            raise JacValueError(f"F.pad: mode={mode!r} pads 1 to 3 last axes of an input with 1 or 2 more axes "
                                f"(as PyTorch); got {2 * k} pad sizes for shape {fmt(shape)}", position)
    for axis, ((lo, hi), n) in enumerate(zip(widths, shape)):
        if not (lo or hi):
            continue
        limit = n - 1 if mode == "reflect" and torch_order else n if mode == "circular" else None
        if lo < 0 or hi < 0 or n == 0 or (limit is not None and max(lo, hi) > limit):
            raise JacValueError(f"{fname}: mode={mode!r} cannot pad axis {axis} of length {n} by ({lo}, {hi})"
                                + (f": at most {limit}" if limit is not None else ""), position)
        x = _take(b, x, (slice(None),) * axis + (_pad_positions(mode, n, lo, hi),), position)
    return x


def _diagonal_index(n, m, k):
    """Rows and columns of the ``k``-th diagonal of an n×m matrix."""
    length = max(0, min(n, m - k) if k >= 0 else min(n + k, m))
    i = np.arange(length)
    return (i, i + k) if k >= 0 else (i - k, i)


@function("diagonal")
def _diagonal(b, args, kwargs, position):
    kwargs = {{"dim1": "axis1", "dim2": "axis2"}.get(k, k): v for k, v in kwargs.items()}
    a = arguments("diagonal", args, kwargs, {"x": REQUIRED, "offset": 0, "axis1": 0, "axis2": 1}, position)
    x = tensor(b, a["x"], "diagonal", position)
    if x.ndim < 2:
        raise JacShapeError(f"diagonal needs at least 2 dimensions, got shape {fmt(x.shape)}", position)
    d1, d2 = (_axis(b, a[k], x.ndim, "diagonal", position) for k in ("axis1", "axis2"))
    if d1 == d2:
        raise JacValueError("diagonal: the two axes must differ", position)
    x = _permute(b, x, [i for i in range(x.ndim) if i not in (d1, d2)] + [d1, d2], position)
    n, m = _concrete(x, "diagonal", position)[-2:]
    rows, cols = _diagonal_index(n, m, static_int(b, a["offset"], "offset", position))
    found = _take(b, x, (slice(None),) * (x.ndim - 2) + (rows, cols), position)
    if type(found) is Tracer and b.nodes[found.id].op == "getitem":  # a view in both libraries, where x[rows, cols]
        copied_layout(b, found, "diagonal")  # copies: lang/overlap.py replays it, lang/views.py writes through it
    return found


def _embed(b, x, k, position) -> Tracer:
    """The last axis of ``x`` put on the ``k``-th diagonal of new square matrices (the last two axes)."""
    n = _concrete(x, "diag_embed", position)[-1]
    size = n + abs(k)
    rows, cols = _diagonal_index(size, size, k)
    return _place(b, x, (slice(None),) * (x.ndim - 1) + (rows, cols), tuple(x.shape[:-1]) + (size, size), position)


@function("diag")
def _diag(b, args, kwargs, position):
    kwargs = {("k" if k == "diagonal" else k): v for k, v in kwargs.items()}
    a = arguments("diag", args, kwargs, {"x": REQUIRED, "k": 0}, position)
    x = tensor(b, a["x"], "diag", position)
    k = static_int(b, a["k"], "diagonal", position)
    if x.ndim == 1:
        return _embed(b, x, k, position)
    if x.ndim == 2:
        n, m = _concrete(x, "diag", position)
        return _take(b, x, _diagonal_index(n, m, k), position)
    raise JacShapeError(f"diag needs a vector or a matrix, got shape {fmt(x.shape)}", position)


@function("diag_embed")
def _diag_embed(b, args, kwargs, position):
    a = arguments("diag_embed", args, kwargs, {"x": REQUIRED, "offset": 0, "dim1": -2, "dim2": -1}, position)
    x = tensor(b, a["x"], "diag_embed", position)
    if x.ndim == 0:
        raise JacShapeError("diag_embed needs at least a vector", position)
    out = _embed(b, x, static_int(b, a["offset"], "offset", position), position)
    d1, d2 = (_axis(b, a[k], out.ndim, "diag_embed", position) for k in ("dim1", "dim2"))
    if d1 == d2:
        raise JacValueError("diag_embed: dim1 and dim2 must differ", position)
    order = [i for i in range(out.ndim - 2)]
    for d, s in sorted(zip((d1, d2), (out.ndim - 2, out.ndim - 1))):
        order.insert(d, s)
    return _permute(b, out, order, position)


@function("flatten", "ravel")
def _flatten_dims(b, args, kwargs, position):
    strings = [a for a in args if isinstance(a, Static) and isinstance(a.value, str)]  # x.ravel('F'): NumPy's order
    args = [a for a in args if not any(a is s for s in strings)]
    kwargs = dict(kwargs)
    if strings or "order" in kwargs:
        order = _memory_order(b, kwargs.pop("order", strings[0] if strings else None), "flatten", position)
        if order == "F":  # column-major: the reversed axes, flattened
            if len(args) != 1 or kwargs:
                raise JacValueError("flatten: order='F' takes no start_dim/end_dim", position)
            x = tensor(b, args[0], "flatten", position)
            return _reshape_to(b, transpose_all(b, x, position), (_numel(x, position),), position)
    a = arguments("flatten", args, kwargs, {"x": REQUIRED, "start_dim": 0, "end_dim": -1}, position)
    x = tensor(b, a["x"], "flatten", position)
    if x.ndim == 0:  # the dims still checked: PyTorch's range there is [-1, 0]
        for k in ("start_dim", "end_dim"):
            _axis(b, a[k], 0, "flatten", position)
        return _reshape_to(b, x, (1,), position)
    lo, hi = (_axis(b, a[k], x.ndim, "flatten", position) for k in ("start_dim", "end_dim"))
    if lo > hi:
        raise JacValueError("flatten: start_dim must not come after end_dim", position)
    shape = _concrete(x, "flatten", position)
    return _reshape_to(b, x, shape[:lo] + (int(np.prod(shape[lo:hi + 1], dtype=np.int64)),) + shape[hi + 1:],
                       position)


@function("unflatten")
def _unflatten(b, args, kwargs, position):
    a = arguments("unflatten", args, kwargs, {"x": REQUIRED, "axis": REQUIRED, "sizes": REQUIRED}, position)
    x = tensor(b, a["x"], "unflatten", position)
    axis = _axis(b, a["axis"], x.ndim, "unflatten", position)
    sizes = static_ints(b, a["sizes"], "sizes", position)
    shape = _concrete(x, "unflatten", position)
    known = int(np.prod([s for s in sizes if s != -1], dtype=np.int64))
    if sizes.count(-1) > 1 or (known == 0 and -1 in sizes) or shape[axis] % max(known, 1):
        raise JacShapeError(f"unflatten: sizes {sizes} do not fit axis {axis} of length {shape[axis]}", position)
    sizes = tuple(shape[axis] // known if s == -1 else s for s in sizes)
    if int(np.prod(sizes, dtype=np.int64)) != shape[axis]:
        raise JacShapeError(f"unflatten: sizes {sizes} do not multiply to {shape[axis]}", position)
    return _reshape_to(b, x, shape[:axis] + sizes + shape[axis + 1:], position)


# -- linear algebra ---------------------------------------------------------------------------------

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _einsum_terms(spec: str, ops: list, position):
    """The subscripts with '...' spelled out: (terms, output, letter sizes)."""
    spec = spec.replace(" ", "")
    if spec.count("->") > 1 or any(c not in _LETTERS + ",.->" for c in spec):
        raise JacValueError(f"einsum: cannot read the subscripts '{spec}'", position)
    lhs, out = spec.split("->") if "->" in spec else (spec, None)
    terms = lhs.split(",")
    if len(terms) != len(ops):
        raise JacValueError(f"einsum: '{spec}' has {len(terms)} operand(s), {len(ops)} given", position)
    spare = [c for c in _LETTERS if c not in spec]
    ells = []
    for term, x in zip(terms, ops):
        if term.count("...") > 1 or term.replace("...", "").count("."):
            raise JacValueError(f"einsum: cannot read the subscripts '{spec}'", position)
        named = len(term.replace("...", ""))
        if ("..." in term and named > x.ndim) or ("..." not in term and named != x.ndim):
            raise JacShapeError(f"einsum: '{term}' does not fit an operand of shape {fmt(x.shape)}", position)
        ells.append(x.ndim - named if "..." in term else 0)
    if len(set(spec) - set(",.->")) + max(ells, default=0) > 44:  # 8 letters stay free for derivatives
        raise JacValueError("einsum: at most 44 distinct subscripts (with the axes of '...') are supported", position)
    ell = spare[:max(ells, default=0)]
    terms = [t.replace("...", "".join(ell[len(ell) - k:])) for t, k in zip(terms, ells)]
    if out is None:  # implicit output: '...' first, then the letters used once, in order
        letters = "".join(terms)
        out = "".join(ell) + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c not in ell))
    elif "..." in out:
        out = out.replace("...", "".join(ell))
    # an output without '...' sums those axes, as torch.einsum does (np.einsum refuses)
    if len(set(out)) != len(out) or not set(out) <= set("".join(terms)) or "." in out:
        raise JacValueError(f"einsum: the output '{out}' must name distinct subscripts of the operands", position)
    sizes = {}
    for term, x in zip(terms, ops):
        for c, d in zip(term, _concrete(x, "einsum", position)):
            if sizes.get(c, 1) not in (1, d) and d != 1:
                raise JacShapeError(f"einsum: subscript '{c}' has sizes {sizes[c]} and {d}", position)
            sizes[c] = d if sizes.get(c, 1) == 1 else sizes[c]  # a length 1 broadcasts (0 does not)
    return terms, out, sizes


def _einsum_diagonals(b, x, term: str, position):
    """A repeated subscript within one operand ('ii') becomes its diagonal, as one axis at the end."""
    while len(set(term)) < len(term):
        c = next(c for c in term if term.count(c) > 1)
        p, q = [i for i, d in enumerate(term) if d == c][:2]
        rest = [i for i in range(len(term)) if i not in (p, q)]
        x = _permute(b, x, rest + [p, q], position)
        i = np.arange(x.shape[-1])
        x = _take(b, x, (slice(None),) * (x.ndim - 2) + (i, i), position)
        term = "".join(term[k] for k in rest) + c
    return x, term


def _sum_letters(b, x, term, drop, position):
    axes = tuple(i for i, c in enumerate(term) if c in drop)
    if not axes:
        return x, term
    return b.apply("sum", x, axes=axes, keepdims=False, position=position), "".join(c for c in term if c not in drop)


def einsum_of(b, spec: str, ops: list, position) -> Tracer:
    """``einsum(spec, *ops)`` as two-operand contractions, left to right: diagonals and sums over
    subscripts used once come first, so every contraction has the exact rules of the ``einsum`` op."""
    terms, out, sizes = _einsum_terms(spec, ops, position)
    parts = []
    for x, term in zip(ops, terms):
        full = tuple(sizes[c] for c in term)
        if tuple(x.shape) != full:  # size-1 axes broadcast, as in PyTorch
            x = b.apply("broadcast_to", x, shape=full, position=position)
        parts.append(_einsum_diagonals(b, x, term, position))
    for k, (x, term) in enumerate(parts):  # subscripts of this operand alone, not in the output
        others = set(out).union(*(t for j, (_, t) in enumerate(parts) if j != k))
        parts[k] = _sum_letters(b, x, term, set(term) - others, position)
    cur, ct = parts[0]
    for k in range(1, len(parts)):
        nxt, nt = parts[k]
        later = set(out).union(*(t for _, t in parts[k + 1:]))
        cur, ct = _sum_letters(b, cur, ct, set(ct) - set(nt) - later, position)
        nxt, nt = _sum_letters(b, nxt, nt, set(nt) - set(ct) - later, position)
        keep = "".join(dict.fromkeys(c for c in ct + nt if c in later))
        cur = b.apply("einsum", cur, nxt, spec=f"{ct},{nt}->{keep}", position=position)
        ct = keep
    cur, ct = _sum_letters(b, cur, ct, set(ct) - set(out), position)
    return _permute(b, cur, [ct.index(c) for c in out], position)


@function("einsum")
def _einsum(b, args, kwargs, position):
    if not args or not isinstance(args[0], Static) or not isinstance(args[0].value, str):
        raise JacValueError("einsum needs the subscripts first, as einsum('ij,jk->ik', A, B) (the interleaved "
                            "form einsum(A, [0, 1], B, [1, 2]) is not supported)", position)
    if set(kwargs) - {"optimize"}:
        raise JacParseError(f"einsum() has no argument '{next(iter(set(kwargs) - {'optimize'}))}'", position)
    ops = list(args[1:])
    if len(ops) == 1 and isinstance(ops[0], Items):  # torch.einsum('ij,jk', [A, B])
        ops = list(ops[0])
    if not ops:
        raise JacValueError("einsum needs at least one operand", position)
    ops = [tensor(b, x, "einsum", position) for x in ops]
    one_dtype(b, "einsum", ops, position)
    return einsum_of(b, args[0].value, ops, position)


@function("tensordot")
def _tensordot(b, args, kwargs, position):
    kwargs = {("axes" if k == "dims" else k): v for k, v in kwargs.items()}
    a = arguments("tensordot", args, kwargs, {"x": REQUIRED, "y": REQUIRED, "axes": 2}, position)
    x, y = tensor(b, a["x"], "tensordot", position), tensor(b, a["y"], "tensordot", position)
    one_dtype(b, "tensordot", (x, y), position)
    spec = a["axes"]
    if isinstance(spec, Items) or isinstance(spec, Tracer) and b.nodes[spec.id].op != "const":
        raise JacValueError("tensordot: dims must be constants", position)
    node = b.nodes[spec.id].value if isinstance(spec, Tracer) and b.nodes[spec.id].op == "const" else spec
    value = np.asarray(node, dtype=float) if not isinstance(node, Static) else None
    if value is None or (value.ndim == 0 and not _is_integer(float(value))) or value.ndim > 2 \
            or (value.ndim >= 1 and (value.shape[0] != 2 or not np.array_equal(value, np.round(value)))):
        raise JacValueError("tensordot: dims is a count or a pair of axis lists, as (1, 0) or ([1], [0])", position)
    if value.ndim == 0:
        n = int(value)
        if n > min(x.ndim, y.ndim) or n < 0:
            raise JacShapeError(f"tensordot: cannot contract {n} axes of shapes {fmt(x.shape)} and {fmt(y.shape)}",
                                position)
        ax, ay = list(range(x.ndim - n, x.ndim)), list(range(n))
    else:
        ax, ay = ([int(v) for v in np.atleast_1d(row)] for row in value)
        ax = [_axis(b, v, x.ndim, "tensordot", position, "axis") for v in ax]
        ay = [_axis(b, v, y.ndim, "tensordot", position, "axis") for v in ay]
    if len(ax) != len(ay):
        raise JacValueError("tensordot: as many axes of each operand", position)
    lx = _LETTERS[:x.ndim]
    ly = list(_LETTERS[x.ndim:x.ndim + y.ndim])
    for i, j in zip(ax, ay):
        if x.shape[i] != y.shape[j]:
            raise JacShapeError(f"tensordot: axis {i} of {fmt(x.shape)} and axis {j} of {fmt(y.shape)} differ",
                                position)
        ly[j] = lx[i]
    out = "".join(c for i, c in enumerate(lx) if i not in ax) + "".join(c for j, c in enumerate(ly) if j not in ay)
    return einsum_of(b, f"{lx},{''.join(ly)}->{out}", [x, y], position)


@function("bmm")
def _bmm(b, args, kwargs, position):
    x, y = _two("bmm", b, args, kwargs, position)
    _need_ndim("bmm", x, (3,), position, "first argument")
    _need_ndim("bmm", y, (3,), position, "second argument")
    if x.shape[0] != y.shape[0]:
        raise JacShapeError(f"bmm: batch sizes {x.shape[0]} and {y.shape[0]} differ", position)
    one_dtype(b, "bmm", (x, y), position)
    return b.apply("matmul", x, y, position=position)


def _add_product(fname, ndims):
    """``baddbmm``/``addmm``/``addmv``: beta * input + alpha * (x @ y); beta = 0 ignores input."""
    def lower(b, args, kwargs, position):
        kwargs = {{"batch1": "x", "batch2": "y", "mat1": "x", "mat2": "y", "mat": "x", "vec": "y"}.get(k, k): v
                  for k, v in kwargs.items()}
        a = arguments(fname, args, kwargs, {"input": REQUIRED, "x": REQUIRED, "y": REQUIRED, "beta": 1.0,
                                             "alpha": 1.0}, position)
        x, y = tensor(b, a["x"], fname, position), tensor(b, a["y"], fname, position)
        _need_ndim(fname, x, (ndims[0],), position, "first factor")
        _need_ndim(fname, y, (ndims[1],), position, "second factor")
        one_dtype(b, fname, (x, y), position)
        beta, alpha = (static(b, a[k], k, position) for k in ("beta", "alpha"))
        if not all(isinstance(v, (int, float)) for v in (beta, alpha)):
            raise JacValueError(f"{fname}: beta and alpha must be numbers", position)
        out = b.apply("matmul", x, y, position=position)
        if alpha != 1:
            out = b.apply("mul", out, float(alpha), position=position)
        if beta == 0:  # PyTorch: input is ignored (NaN in it does not spread)
            return out
        given = tensor(b, a["input"], fname, position)
        base = given if beta == 1 else b.apply("mul", given, float(beta), position=position)
        total = b.apply("add", base, out, position=position)
        if tuple(total.shape) != tuple(out.shape):
            raise JacShapeError(f"{fname}: input of shape {fmt(given.shape)} does not broadcast to the product's "
                                f"shape {fmt(out.shape)}", position)
        return total
    return lower


FUNCTIONS["baddbmm"] = _add_product("baddbmm", (3, 3))
FUNCTIONS["addmm"] = _add_product("addmm", (2, 2))
FUNCTIONS["addmv"] = _add_product("addmv", (2, 1))


@function("kron")
def _kron(b, args, kwargs, position):
    x, y = _two("kron", b, args, kwargs, position)
    nd = max(x.ndim, y.ndim)
    x = _reshape_to(b, x, (1,) * (nd - x.ndim) + _concrete(x, "kron", position), position)
    y = _reshape_to(b, y, (1,) * (nd - y.ndim) + _concrete(y, "kron", position), position)
    # x[i, None, j, None] * y[None, k, None, l]: each entry one product, as NumPy's and PyTorch's kron (an einsum
    # sums its products onto +0, which loses a product's -0)
    xs = _reshape_to(b, x, tuple(v for p in x.shape for v in (p, 1)), position)
    ys = _reshape_to(b, y, tuple(v for q in y.shape for v in (1, q)), position)
    out = b.apply("mul", xs, ys, position=position)
    return _reshape_to(b, out, tuple(p * q for p, q in zip(x.shape, y.shape)), position)


def _cross(b, x, y, axis, position):
    """a × b along ``axis`` of the broadcast shape: selections and products."""
    nd = max(x.ndim, y.ndim)

    def pick(v, order):
        at = v.ndim - (nd - axis)
        return _take(b, v, (slice(None),) * at + (np.array(order),), position)

    for v in (x, y):
        if v.ndim == 0:
            raise JacShapeError("cross needs vectors of 3 elements, got a scalar", position)
        at = v.ndim - (nd - axis)
        if at < 0 or v.shape[at] != 3:
            raise JacShapeError(f"cross needs 3 elements along dim {axis - nd}, got shape {fmt(v.shape)}", position)
    first = b.apply("mul", pick(x, [1, 2, 0]), pick(y, [2, 0, 1]), position=position)
    second = b.apply("mul", pick(x, [2, 0, 1]), pick(y, [1, 2, 0]), position=position)
    return b.apply("sub", first, second, position=position)


@function("cross")
def _cross_fn(b, args, kwargs, position):
    kwargs = {("axis" if k in ("dim", "axisc") else k): v for k, v in kwargs.items()}
    a = arguments("cross", args, kwargs, {"x": REQUIRED, "y": REQUIRED, "axis": -1}, position)
    x, y = tensor(b, a["x"], "cross", position), tensor(b, a["y"], "cross", position)
    nd = max(x.ndim, y.ndim)
    return _cross(b, x, y, _axis(b, a["axis"], nd, "cross", position, "dim"), position)


# torch.linalg.cross(x, y, dim=-1): the last axis by default, as np.cross; only torch.cross guesses
variant("torch.linalg", "cross")(_cross_fn)


def _torch_cross_axis(b, args, kwargs, position):
    """The axis torch.cross without dim would take where it is not the last (the first of length 3), else None."""
    if len(args) >= 3 or kwargs.keys() & {"dim", "axis", "axisa", "axisb", "axisc"}:
        return None, None
    x, y = _two("cross", b, args, kwargs, position)
    shape = broadcast(_concrete(x, "cross", position), _concrete(y, "cross", position))  # refuses as jac does
    first = next((i for i, d in enumerate(shape) if d == 3), None)
    return (first, shape) if first is not None and first != len(shape) - 1 else (None, shape)


def _bare_cross(b, args, kwargs, position):
    """cross(a, b): np.cross's, along the last axis; refused where torch.cross without dim would take another (an
    earlier axis of length 3, as of two 3 x 3 matrices) and where a third argument names another axis (torch.cross's
    dim, np.cross's axisa): write torch.cross(..., dim=) or np.cross."""
    if len(args) >= 3:  # PyTorch's third argument is dim, NumPy's axisa (a's axis alone): one reading at the last
        x, y = _two("cross", b, args[:2], {}, position)
        nd = max(x.ndim, y.ndim)
        if _axis(b, args[2], nd, "cross", position, "dim") != nd - 1:
            raise _ambiguous("cross(a, b, k)", "torch.cross reads k as dim (the axis of both and of the result)",
                             "np.cross as axisa (a's axis alone)",
                             "Write torch.cross(a, b, dim=k) or np.cross(a, b, axisa=k).",
                             position)
    first, shape = _torch_cross_axis(b, args, kwargs, position)
    if first is not None:
        raise _ambiguous(f"cross(a, b) of shape {fmt(shape)}", f"torch.cross without dim takes the first axis of "
                         f"length 3 (axis {first})", "np.cross the last",
                         "Write np.cross or torch.linalg.cross (the last axis), or give dim=.", position)
    return _cross_fn(b, args, kwargs, position)


FUNCTIONS["cross"] = _bare_cross


@variant("numpy", "cross")
def _np_cross(b, args, kwargs, position):
    """np.cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None): a's vectors along axisa, b's along axisb, the
    result's along axisc; axis sets all three, as NumPy."""
    a = arguments("cross", args, kwargs, {"x": REQUIRED, "y": REQUIRED, "axisa": -1, "axisb": -1, "axisc": -1,
                                          "axis": None}, position)
    x, y = tensor(b, a["x"], "cross", position), tensor(b, a["y"], "cross", position)
    axes = [static_int(b, a[k], k, position) for k in ("axisa", "axisb", "axisc")] if a["axis"] is None else \
        [static_int(b, a["axis"], "axis", position)] * 3
    moved = []
    for v, axis, what in ((x, axes[0], "axisa"), (y, axes[1], "axisb")):
        axis = _axis(b, axis, v.ndim, "cross", position, what) if v.ndim else -1
        if v.ndim and v.shape[axis] != 3:
            raise JacShapeError(f"np.cross: {'a' if what == 'axisa' else 'b'} of shape {fmt(v.shape)} has "
                                f"{v.shape[axis]} elements along {what}={axis}; jac needs vectors of 3 (NumPy's "
                                "2-element vectors are deprecated)", position)
        moved.append(FUNCTIONS["moveaxis"](b, [v, axis, -1], {}, position) if v.ndim else v)
    out = _cross(b, moved[0], moved[1], max(moved[0].ndim, moved[1].ndim) - 1, position)
    axisc = _axis(b, axes[2], out.ndim, "cross", position, "axisc")
    return FUNCTIONS["moveaxis"](b, [out, -1, axisc], {}, position)


@variant("torch", "cross")
@variant("method", "cross")
def _torch_cross(b, args, kwargs, position):
    # torch.cross without dim takes the first axis of length 3 (deprecated); jac asks when that
    # is not the last axis, where torch.linalg.cross and np.cross would look
    first, shape = _torch_cross_axis(b, args, kwargs, position)
    if first is not None:
        raise JacValueError(f"torch.cross without dim uses the first axis of length 3 (axis {first} of "
                            f"{fmt(shape)}), torch.linalg.cross the last: say which with dim=", position)
    return _cross_fn(b, args, kwargs, position)


@function("multi_dot")
def _multi_dot(b, args, kwargs, position):
    a = arguments("multi_dot", args, kwargs, {"x": REQUIRED}, position)
    xs = [tensor(b, x, "multi_dot", position) for x in _arrays(b, a["x"], "multi_dot", position)]
    if len(xs) < 2:
        raise JacValueError("multi_dot needs at least two arrays", position)
    for k, x in enumerate(xs):
        _need_ndim("multi_dot", x, (1, 2) if k in (0, len(xs) - 1) else (2,), position, f"array {k}")
    out = xs[0]
    for x in xs[1:]:
        out = b.apply("matmul", out, x, position=position)
    return out


@function("matrix_power")
def _matrix_power(b, args, kwargs, position):
    a = arguments("matrix_power", args, kwargs, {"x": REQUIRED, "n": REQUIRED}, position)
    x = tensor(b, a["x"], "matrix_power", position)
    _square(x, "matrix_power", position)
    n = static_int(b, a["n"], "the power", position)
    if n == 0:  # the identity: its derivative is 0
        return b.const(np.broadcast_to(np.eye(x.shape[-1], dtype=b.dtype), x.shape).copy(), position)
    if n < 0:
        x, n = b.apply("inv", x, position=position), -n
    out, base = None, x
    while n:
        if n & 1:
            out = base if out is None else b.apply("matmul", out, base, position=position)
        n >>= 1
        if n:
            base = b.apply("matmul", base, base, position=position)
    return out


def _square(x, fname, position):
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise JacShapeError(f"{fname} needs a square matrix, got shape {fmt(x.shape)}", position)


def _solve(b, x, y, vector: bool, position, who="solve") -> Tracer:
    _square(x, who, position)
    if vector:
        y = _reshape_to(b, y, tuple(y.shape) + (1,), position)
    out = b.apply("solve", x, y, who=who, position=position)
    return _reshape_to(b, out, tuple(out.shape[:-1]), position) if vector else out


def _solve_lowering(library):
    def lower(b, args, kwargs, position):
        a = arguments("solve", args, kwargs, {"x": REQUIRED, "y": REQUIRED, "left": True}, position)
        x, y = tensor(b, a["x"], "solve", position), tensor(b, a["y"], "solve", position)
        _square(x, "solve", position)
        batched_vector = y.ndim == x.ndim - 1 and tuple(y.shape) == tuple(x.shape[:-1])
        vector = y.ndim == 1 or (library != "np" and batched_vector)
        if library is None and batched_vector and y.ndim >= 2 and y.shape[-2] == x.shape[-1]:
            raise JacValueError("solve(A, B) with B of shape A.shape[:-1] is ambiguous: PyTorch reads B as a batch "
                                "of vectors, NumPy 2 as one matrix. Write torch.linalg.solve or np.linalg.solve",
                                position)
        if not static(b, a["left"], "left", position):  # X A = B: Aᵀ Xᵀ = Bᵀ
            return matrix_transpose(b, _solve(b, matrix_transpose(b, x, position),
                                              matrix_transpose(b, y, position), False, position), position)
        return _solve(b, x, y, vector, position)
    return lower


FUNCTIONS["solve"] = _solve_lowering(None)
variant("torch", "solve")(_solve_lowering("torch"))
variant("numpy", "solve")(_solve_lowering("np"))


@function("solve_triangular")
def _solve_triangular(b, args, kwargs, position):
    a = arguments("solve_triangular", args, kwargs, {"x": REQUIRED, "y": REQUIRED, "upper": REQUIRED,
                                                     "left": True, "unitriangular": False}, position)
    x, y = tensor(b, a["x"], "solve_triangular", position), tensor(b, a["y"], "solve_triangular", position)
    _square(x, "solve_triangular", position)
    _need_ndim("solve_triangular", y, tuple(range(2, 10)), position, "right-hand side (a matrix)")
    upper, left, unit = (bool(static(b, a[k], k, position)) for k in ("upper", "left", "unitriangular"))
    # only the named triangle of A is read, as in PyTorch (its other entries get derivative 0)
    k = (1 if upper else -1) if unit else 0
    tri = FUNCTIONS["triu" if upper else "tril"](b, [x], {"k": b.const(float(k))}, position)
    if unit:
        eye = np.broadcast_to(np.eye(x.shape[-1], dtype=b.dtype), x.shape).copy()
        tri = b.apply("add", tri, b.const(eye, position), position=position)
    if not left:
        return matrix_transpose(b, _solve(b, matrix_transpose(b, tri, position), matrix_transpose(b, y, position),
                                          False, position, "solve_triangular"), position)
    return _solve(b, tri, y, False, position, "solve_triangular")


@function("cholesky")
def _cholesky(b, args, kwargs, position):
    a = arguments("cholesky", args, kwargs, {"x": REQUIRED, "upper": False}, position)
    x = _jax_symmetrized(b, tensor(b, a["x"], "cholesky", position), "cholesky", position)
    low = b.apply("cholesky", x, position=position)
    return matrix_transpose(b, low, position) if static(b, a["upper"], "upper", position) else low


def _jax_symmetrized(b, x, fname, position):
    """A square ``x`` as cholesky and eigh read it: JAX's symmetrize their input, (x + xᵀ) / 2 (exactly symmetric,
    its derivative their symmetrized one), whatever its asymmetry; NumPy's and PyTorch's read one triangle, which
    jac's symmetric part equals only to rounding (the op refuses a matrix farther from symmetric)."""
    _square(x, fname, position)
    if not jax_spelled(b):
        return x
    return b.apply("mul", b.apply("add", x, matrix_transpose(b, x, position, fname), position=position), 0.5,
                   position=position)


def _uplo(b, a, fname, position) -> str:
    """The triangle LAPACK's syevd reads: jac reads the symmetric part, but the signs of the eigenvectors
    depend on the triangle the routine is given (NumPy's UPLO='U' gives other signs than 'L')."""
    uplo = static(b, a["UPLO"], "UPLO", position)
    if uplo is None and jax_spelled(b):  # JAX's default, the lower triangle
        return "L"
    if uplo not in ("L", "U"):
        raise JacValueError(f"{fname}: UPLO must be 'L' or 'U'", position)
    return uplo


def _eigh_parts(b, args, kwargs, position) -> tuple:
    """(x, eigenvalues, eigenvectors) of eigh(x, UPLO='L')."""
    a = arguments("eigh", args, kwargs, {"x": REQUIRED, "UPLO": "L"}, position)
    x = _jax_symmetrized(b, tensor(b, a["x"], "eigh", position), "eigh", position)
    uplo = _uplo(b, a, "eigh", position)
    return x, b.apply("eigvalsh", x, uplo=uplo, position=position), \
        b.apply("eigh_vectors", x, uplo=uplo, position=position)


@function("eigh")
def _eigh(b, args, kwargs, position):
    """NumPy's and JAX's eigh: the signs of the eigenvectors are LAPACK's syevd's, as NumPy's."""
    _, w, v = _eigh_parts(b, args, kwargs, position)
    return Items.named([w, v], ("eigenvalues", "eigenvectors"))


@variant("torch.linalg", "eigh")
def _torch_eigh(b, args, kwargs, position):
    """torch.linalg.eigh(A, UPLO='L'): eigh's, the eigenvectors registered as holding PyTorch's signs."""
    x, w, v = _eigh_parts(b, args, kwargs, position)
    (v,) = _torch_signs(b, x, ("eigh", v.id), [(v, -1)], "torch.linalg.eigh", "eigenvectors (their columns)",
                        "V @ diag(w) @ V.mT, V ** 2, w", "np.linalg.eigh",
                        (w, x.shape[-1], _TORCH_BASIS.format(what="torch.linalg.eigh", values="eigenvalues",
                                                             space="eigenspace", vectors="eigenvectors",
                                                             instead="V @ diag(w) @ V.mT, w, a projector V[:, C] @ "
                                                                     "V[:, C].mT onto it", numpy="np.linalg.eigh")))
    return Items.named([w, v], ("eigenvalues", "eigenvectors"))


@function("eigvalsh")
def _eigvalsh(b, args, kwargs, position):
    """eigvalsh(A, UPLO='L'): the eigenvalues, ascending; a derivative that reads repeated eigenvalues apart
    (each alone, at most 8·n·eps·max|λ| apart) refused in every mode, a function treating them alike (their sum,
    Σλ², a simple one alone) kept: docs/vocabulary-shapes-linalg.md."""
    a = arguments("eigvalsh", args, kwargs, {"x": REQUIRED, "UPLO": "L"}, position)
    x = _jax_symmetrized(b, tensor(b, a["x"], "eigvalsh", position), "eigvalsh", position)
    return b.apply("eigvalsh", x, uplo=_uplo(b, a, "eigvalsh", position), position=position)


def _slogdet_of(undefined):
    """slogdet(A): (sign, log|det A|); the sign of a matrix holding NaN is ``undefined`` (NaN as
    JAX, for NumPy's and the bare spelling: NumPy's ±1 there is LAPACK's; 0 as PyTorch)."""
    def lower(b, args, kwargs, position):
        x = tensor(b, arguments("slogdet", args, kwargs, {"x": REQUIRED}, position)["x"], "slogdet", position)
        _square(x, "slogdet", position)
        return Items.named([b.apply("detsign", x, undefined=undefined, position=position),
                            b.apply("logabsdet", x, position=position)], ("sign", "logabsdet"))
    return lower


FUNCTIONS["slogdet"] = _slogdet_of(float("nan"))
variant("torch", "slogdet")(_slogdet_of(0.0))
variant("method", "slogdet")(_slogdet_of(0.0))


@function("logdet")
def _logdet(b, args, kwargs, position):
    # log(det A): NaN for a negative determinant (log of the sign -1: the warning names it) and -inf for a
    # singular matrix, as torch.logdet; the derivative is log|det A|'s, A⁻ᵀ, there too (PyTorch's is 0, from a
    # where, which jac diff's forms would carry as a factor; documented in vocabulary-shapes-linalg.md)
    x = tensor(b, arguments("logdet", args, kwargs, {"x": REQUIRED}, position)["x"], "logdet", position)
    _square(x, "logdet", position)
    sign = b.apply("log", b.apply("detsign", x, undefined=0.0, position=position), position=position)
    return b.apply("add", b.apply("logabsdet", x, position=position), sign, position=position)


_RANK_WHO = "{}: jac needs a matrix of full rank (its derivative jumps where the rank drops); this one is singular"


def _reduced_qr(b, x, position):
    """Q and R of the reduced QR of a tall or square ``x``."""
    return b.apply("qr_q", x, position=position), b.apply("qr_r", x, position=position)


def _full_rank_pinv(b, x, position) -> Tracer:
    """A⁺ of a full-rank A by QR: R⁻¹Qᵀ of A = QR (tall or square), (R⁻¹Qᵀ)ᵀ of Aᵀ = QR (wide). Its error grows
    with cond(A), as NumPy's SVD's does; the normal equations (AᵀA)⁻¹Aᵀ, which jac used before, square it (a
    Hilbert 8 × 8's pseudo-inverse came out with no digit right). A rank-deficient A is refused."""
    m, n = x.shape[-2:]
    tall = x if m >= n else matrix_transpose(b, x, position)
    q, r = _reduced_qr(b, tall, position)
    out = b.apply("solve", r, matrix_transpose(b, q, position), who=_RANK_WHO.format("pinv"), position=position)
    return out if m >= n else matrix_transpose(b, out, position)


def _full_rank_lstsq(b, x, y, position, who=_RANK_WHO.format("lstsq")) -> Tracer:
    """A⁺Y of a full-rank A by QR without forming A⁺: R⁻¹(QᵀY) of A = QR (tall or square: the least-squares
    solution), Q R⁻ᵀ Y of Aᵀ = QR (wide: the least-norm one); ``who``: the refusal of an exactly singular R."""
    m, n = x.shape[-2:]
    if m >= n:
        q, r = _reduced_qr(b, x, position)
        return b.apply("solve", r, b.apply("matmul", matrix_transpose(b, q, position), y, position=position),
                       who=who, position=position)
    q, r = _reduced_qr(b, matrix_transpose(b, x, position), position)
    return b.apply("matmul", q, b.apply("solve", matrix_transpose(b, r, position), y, who=who, position=position),
                   position=position)


def _rank_checked(b, x, out, rtol, atol, position, message) -> Tracer:
    """``out``, computed from ``x`` as if of full rank, refused at evaluation (``message``) where a singular
    value of ``x`` is at or below the cutoff max(atol, rtol·σmax): NumPy and PyTorch set it to zero there (a
    result of lower rank, whose derivative jumps where the rank drops)."""
    m, n = x.shape[-2:]
    tall = x if m >= n else matrix_transpose(b, x, position)  # svdvals takes a tall matrix: the same values
    s = b.apply("svdvals", tall, position=position)
    top = b.apply("max", s, axes=(s.ndim - 1,), keepdims=True, position=position)
    cut = b.apply("maximum", b.apply("mul", top, float(rtol), position=position), float(atol), position=position)
    check = refusal(b, message, where=b.apply("le", s, cut, position=position), position=position)
    zero = b.apply("sum", check, axes=(check.ndim - 1,), keepdims=True, position=position)
    zero = _reshape_to(b, zero, tuple(zero.shape[:-1]) + (1,) * (out.ndim - zero.ndim + 1), position)
    return b.apply("sub", out, zero, position=position)


@function("pinv")
def _pinv(b, args, kwargs, position):
    """A⁺ of a full-rank A: (AᵀA)⁻¹Aᵀ (tall) or Aᵀ(AAᵀ)⁻¹ (wide); a singular value at or below PyTorch's
    default cutoff, max(m, n)·eps·σmax, is refused (the libraries would zero it: a pseudo-inverse of lower
    rank, whose derivative jumps where the rank drops)."""
    if len(args) > 1:  # np.linalg.pinv(A, rcond), torch.linalg.pinv(A, rcond) (atol, rtol keywords): not hermitian
        raise JacValueError("pinv(A, ...) with a second positional argument: NumPy reads it as rcond, PyTorch as "
                            "rcond too (atol= and rtol= are keywords); write np.linalg.pinv(A, rcond) or "
                            "torch.linalg.pinv(A, atol=..., rtol=...) to say which", position)
    a = arguments("pinv", args, kwargs, {"x": REQUIRED, "hermitian": False}, position)
    return _pinv_with(b, _hermitian(b, a["hermitian"], a["x"], "pinv", position), None, 0.0, position)


def _hermitian(b, flag, value, fname, position, derivative=True):
    """The matrix ``hermitian=True`` reads (pinv, matrix_rank, svd's singular values): NumPy's and PyTorch's eigh
    see the lower triangle only (UPLO='L'), so the symmetric matrix of it, tril(x) + tril(x, -1)ᵀ; ``value`` as
    given when False, and a vector or scalar as given (matrix_rank's own reading). With a ``derivative``, as jac's
    eigh: a matrix far from symmetric is refused at evaluation (PyTorch's derivative assumes a symmetric one, JAX
    reads the symmetric part), and the derivative is PyTorch's at a symmetric matrix, through x itself."""
    if not _flag(b, flag, "hermitian", fname, position):
        return value
    x = tensor(b, value, fname, position)
    if x.ndim < 2:
        return x
    if x.shape[-1] != x.shape[-2]:
        raise JacShapeError(f"{fname}(hermitian=True) needs square matrices, as NumPy and PyTorch; got shape "
                            f"{fmt(x.shape)}", position)
    if jax_spelled(b):  # JAX's eigh symmetrizes its input: the value and derivative of (x + xᵀ) / 2
        return b.apply("mul", b.apply("add", x, matrix_transpose(b, x, position, fname), position=position), 0.5,
                       position=position)
    low = FUNCTIONS["tril"](b, [x], {}, position)
    strict = FUNCTIONS["tril"](b, [x], {"k": b.const(-1.0, position)}, position)
    lower = b.apply("add", low, matrix_transpose(b, strict, position, fname), position=position)
    if not derivative or not _numel(x, position):
        return lower
    axes = tuple(range(x.ndim))
    gap = b.apply("max", b.apply("abs", b.apply("sub", x, matrix_transpose(b, x, position, fname), position=position),
                                 position=position), axes=axes, position=position)
    scale = b.apply("max", b.apply("abs", x, position=position), axes=axes, position=position)
    far = b.apply("gt", gap, b.apply("mul", scale, ASYMMETRY, position=position), position=position)
    check = refusal(b, (
        f"{fname}(hermitian=True): the matrix is not symmetric; NumPy and PyTorch read its lower triangle, JAX its "
        "symmetric part, and PyTorch's derivative assumes a symmetric matrix: pass the symmetric matrix you mean, "
        "such as (A + A.T) / 2"), where=far, position=position)
    offset = b.apply("detach", b.apply("sub", lower, x, position=position), position=position)  # value: lower's
    return b.apply("add", b.apply("add", x, offset, position=position), check, position=position)


def _pinv_with(b, value, rtol, atol, position) -> Tracer:
    """pinv with NumPy's / PyTorch's cutoff max(atol, rtol·σmax) (``rtol`` None: max(m, n)·eps): a singular
    value at or below it is refused, since the libraries then zero it (a lower rank)."""
    x = tensor(b, value, "pinv", position)
    _need_ndim("pinv", x, tuple(range(2, 10)), position)
    out = _full_rank_pinv(b, x, position)
    m, n = _concrete(x, "pinv", position)[-2:]
    if not (m and n):
        return out
    if rtol is None:
        rtol = max(m, n) * float(np.finfo(b.dtype).eps)
    for v, what in ((rtol, "rtol"), (atol, "atol")):
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or v < 0:
            raise JacValueError(f"pinv: {what} must be a finite number >= 0, got {v!r}", position)
    return _rank_checked(b, x, out, rtol, atol, position, (
        "pinv: a singular value is at or below the cutoff max(atol, rtol·σmax), which NumPy and PyTorch set to "
        "zero (a pseudo-inverse of lower rank, whose derivative jumps where the rank drops); jac needs a matrix "
        "of full rank with every singular value above the cutoff"))


@variant("np.linalg", "pinv")
def _np_pinv(b, args, kwargs, position):
    """np.linalg.pinv(a, rcond=None, hermitian=False, *, rtol): NumPy's cutoff rcond·σmax (default 1e-15, or
    rtol; rtol=None: max(m, n)·eps); a singular value at or below it refused (NumPy zeroes it)"""
    a = arguments("pinv", args, kwargs, {"x": REQUIRED, "rcond": None, "hermitian": False, "rtol": "unset"},
                  position)
    x = _hermitian(b, a["hermitian"], a["x"], "pinv", position)
    rcond = None if a["rcond"] is None else static(b, a["rcond"], "rcond", position)
    rtol = a["rtol"] if a["rtol"] in ("unset", None) else static(b, a["rtol"], "rtol", position)
    if rcond is not None and rtol != "unset":
        raise JacValueError("np.linalg.pinv: rtol and rcond can't be both set (NumPy refuses it)", position)
    return _pinv_with(b, x, rcond if rcond is not None else 1e-15 if rtol == "unset" else rtol, 0.0, position)


@variant("torch.linalg", "pinv")
def _torch_pinv(b, args, kwargs, position):
    """torch.linalg.pinv(A, *, atol=None, rtol=None, hermitian=False), or its older overload
    torch.linalg.pinv(A, rcond, hermitian=False): PyTorch's cutoff max(atol, rtol·σmax) (rtol max(m, n)·eps
    unless atol > 0 is given; rcond is rtol with atol 0); a singular value at or below it refused"""
    if len(args) > 3:
        raise JacParseError(f"pinv() takes at most 3 positional argument(s), got {len(args)}", position)
    a = arguments("pinv", args, kwargs, {"x": REQUIRED, "rcond": "unset", "hermitian": False, "atol": "unset",
                                         "rtol": "unset"}, position)
    x = _hermitian(b, a["hermitian"], a["x"], "pinv", position)
    if a["rcond"] != "unset":  # PyTorch's (Tensor input, float rcond, bool hermitian) overload: rtol=rcond, atol=0
        if a["atol"] != "unset" or a["rtol"] != "unset" or a["rcond"] is None:
            raise JacValueError("torch.linalg.pinv: rcond (the second argument) is a number, and cannot be given "
                                "with atol= or rtol= (PyTorch refuses both); rcond is rtol with atol 0", position)
        return _pinv_with(b, x, static(b, a["rcond"], "rcond", position), 0.0, position)
    a = {k: None if v == "unset" else v for k, v in a.items()}
    atol = 0.0 if a["atol"] is None else static(b, a["atol"], "atol", position)
    rtol = None if a["rtol"] is None else static(b, a["rtol"], "rtol", position)
    if rtol is None and a["atol"] is not None and isinstance(atol, (int, float)) and atol > 0:
        rtol = 0.0
    return _pinv_with(b, x, rtol, atol, position)


@variant("torch", "pinverse")
def _torch_pinverse(b, args, kwargs, position):
    """torch.pinverse(A, rcond=1e-15): PyTorch's cutoff rcond·σmax; a singular value at or below it refused"""
    a = arguments("pinverse", args, {("x" if k == "input" else k): v for k, v in kwargs.items()},
                  {"x": REQUIRED, "rcond": 1e-15}, position)
    return _pinv_with(b, a["x"], static(b, a["rcond"], "rcond", position), 0.0, position)


@function("lstsq")
def _lstsq(b, args, kwargs, position):
    a = arguments("lstsq", args, kwargs, {"x": REQUIRED, "y": REQUIRED, "rcond": None, "driver": None}, position)
    x, y = tensor(b, a["x"], "lstsq", position), tensor(b, a["y"], "lstsq", position)
    _need_ndim("lstsq", x, tuple(range(2, 10)), position)
    vector = y.ndim == 1
    if vector:
        y = _reshape_to(b, y, tuple(y.shape) + (1,), position)
    m, n = _concrete(x, "lstsq", position)[-2:]
    if y.ndim < 2 or y.shape[-2] != m:
        raise JacShapeError(f"lstsq: the right-hand side needs {m} rows, as the matrix, got shape {fmt(y.shape)}",
                            position)
    out = _full_rank_lstsq(b, x, y, position)
    if m and n:  # NumPy's and PyTorch's default cutoff max(m, n)·eps·σmax, or rcond·σmax
        rcond = None if a["rcond"] is None else _number(b, a["rcond"], "rcond", position)
        rcond = max(m, n) * float(np.finfo(b.dtype).eps) if rcond is None or rcond < 0 else rcond
        out = _rank_checked(b, x, out, rcond, 0.0, position, (
            "lstsq: a singular value of the matrix is at or below the cutoff rcond·σmax (default max(m, n)·eps), "
            "which NumPy and PyTorch treat as zero (a solution of lower rank, whose derivative jumps where the rank "
            "drops); jac needs a matrix of full rank with every singular value above the cutoff"))
    solution = _reshape_to(b, out, tuple(out.shape[:-1]), position) if vector else out
    if x.ndim != 2 or not (m and n) or (b.call or "").startswith(("torch", ".")) and a["driver"] not in (None, "gelsy"):
        return Items.named([solution], ("solution",))
    return Items.named([solution, *_lstsq_rest(b, x, y, out, position)],
                       ("solution", "residuals", "rank", "singular_values"))


def _lstsq_rest(b, x, y, out, position) -> list:
    """The other parts of ``lstsq``'s tuple for a matrix of full rank (any other is refused): the squared residuals
    per column of the right-hand side (``y`` as a matrix) where the system is overdetermined (NumPy: only then,
    else empty; JAX: always; PyTorch's default driver gelsy: empty), the rank min(m, n), the singular values
    (PyTorch's gelsy: empty)."""
    m, n = x.shape
    call = b.call or ""
    torch = call.startswith(("torch", "."))
    rank = _index_constant(b, min(m, n), "lstsq", position)
    if torch:
        empty = b.const(np.zeros((0,), dtype=b.dtype), position)
        return [empty, rank, empty]
    if m > n or call.startswith(("jnp", "jax")):
        r = b.apply("sub", y, b.apply("matmul", x, out, position=position), position=position)
        residuals = b.apply("sum", b.apply("mul", r, r, position=position), axes=(0,), position=position)
    else:
        residuals = b.const(np.zeros((0,), dtype=b.dtype), position)
    tall = x if m >= n else matrix_transpose(b, x, position)
    return [residuals, rank, _guarded_svdvals(b, tall, "lstsq", position)]


@function("matrix_exp", "expm")
def _matrix_exp(b, args, kwargs, position):
    x = tensor(b, arguments("matrix_exp", args, kwargs, {"x": REQUIRED}, position)["x"], "matrix_exp", position)
    _square(x, "matrix_exp", position)
    return b.apply("matrix_exp", x, position=position)


def _svd_of(b, x, fname, position):
    """(U, s, Vh) of the reduced SVD, of ``x`` itself whatever its shape: LAPACK's gesdd on a wide matrix gives
    other signs than on its transpose, and NumPy, SciPy and JAX call it on the matrix as given."""
    _need_ndim(fname, x, tuple(range(2, 10)), position)
    _concrete(x, fname, position)
    return (b.apply("svd_u", x, position=position), _guarded_svdvals(b, x, fname, position),
            b.apply("svd_vh", x, position=position))


def _guarded_svdvals(b, x, fname, position, top=False) -> Tracer:
    """The singular values of ``x`` (``top``: the largest alone) through ``svd_zero``: the values as they are, a
    derivative through a singular value at or below max(m, n)·eps·σmax refused at evaluation in every mode (its
    slope takes LAPACK's arbitrary signs of the singular vectors; ir/ops.py, ``_SVD_ZERO``)."""
    s = b.apply("svdvals", x, position=position)
    if top:
        s = b.apply("max", s, axes=(s.ndim - 1,), position=position)
    return b.apply("svd_zero", s, size=max(x.shape[-2:]), vector=not top, what=fname, position=position)


_TORCH_SIGNS = ("{what}: the result depends on the signs of the {vectors}, which PyTorch takes from its own LAPACK "
                "(Intel MKL on x86, another elsewhere) and jac, computing with NumPy's, cannot reproduce (they differ "
                "in some columns); write an expression that does not depend on them ({instead}), or {numpy}, whose "
                "signs jac reproduces")


_TORCH_BASIS = ("{what}: {values} repeat at these values, and the result depends on which basis of their {space} "
                "the {vectors} are: any is as right, PyTorch takes its own LAPACK's and jac, computing with NumPy's, "
                "another; write an expression that does not depend on it ({instead}), or {numpy}, whose basis jac "
                "reproduces")


def _torch_signs(b, x: Tracer, key, parts: list, what: str, vectors: str, instead: str, numpy: str,
                 spectrum: tuple | None = None) -> list:
    """``parts`` ((tracer, axis): vectors in columns, -1, or rows, -2) of one decomposition of ``x`` in a PyTorch
    text, registered with the builder (an output that depends on their signs is refused at evaluation, and, with
    ``spectrum`` ((sorted values, size, message)), one that depends on the basis of repeated values' eigenspaces);
    of a constant ``x`` (the decomposition computed as the text is read) refused when used."""
    message = _TORCH_SIGNS.format(what=what, vectors=vectors, instead=instead, numpy=numpy)
    if b.nodes[x.id].op == "const":
        return [Refused(message + " (the matrix is a constant here: jac cannot check the expression; make it "
                        "an input)") for _ in parts]
    for t, axis in parts:
        b.sign_free(key, t, axis, what, message, spectrum)
    return [t for t, _ in parts]


def _svd_lowering(v_not_vh: bool, torch_signs: bool = False):
    """svd's lowering: NumPy's and JAX's (U, S, Vh), torch.linalg.svd's (``torch_signs``: U and Vh registered as
    holding PyTorch's signs) or the deprecated torch.svd's (``v_not_vh``: U, S, V; PyTorch's)."""
    def lower(b, args, kwargs, position):
        params = {"x": REQUIRED, "some": True, "compute_uv": True} if v_not_vh else \
            {"x": REQUIRED, "full_matrices": True, "driver": None} if torch_signs else \
            {"x": REQUIRED, "full_matrices": True, "compute_uv": True, "hermitian": False}
        a = arguments("svd", args, kwargs, params, position)
        x = tensor(b, a["x"], "svd", position)
        if v_not_vh and not _flag(b, a["compute_uv"], "compute_uv", "torch.svd", position):
            return _svd_values_only(b, x, position)
        if not torch_signs and not static(b, a["compute_uv"], "compute_uv", position):
            return _svd_of(b, _hermitian(b, a["hermitian"], x, "svd", position), "svd", position)[1]
        if not torch_signs and _flag(b, a["hermitian"], "hermitian", "svd", position):
            raise JacValueError("svd(hermitian=True): NumPy builds U and Vh from eigh of the lower triangle, whose "
                                "signs are not svd's; write np.linalg.eigh(A) (or compute_uv=False for the singular "
                                "values)", position)
        full = not static(b, a["some"], "some", position) if v_not_vh else \
            static(b, a["full_matrices"], "full_matrices", position)
        u, s, vh = _svd_of(b, x, "svd", position)
        if torch_signs:
            who = "torch.svd" if v_not_vh else "torch.linalg.svd"
            u, vh = _torch_signs(b, x, ("svd", x.id), [(u, -1), (vh, -2)], who,
                                 "singular vectors (U's columns, V's)", "U @ diag(S) @ Vh, U ** 2, S", "np.linalg.svd",
                                 (s, max((d for d in x.shape[-2:] if type(d) is int), default=1), _TORCH_BASIS.format(
                                     what=who, values="singular values", space="singular subspaces",
                                     vectors="singular vectors", instead="U @ diag(S) @ Vh, S", numpy="np.linalg.svd")))
        if full and x.shape[-1] != x.shape[-2]:  # the extra columns of U (tall) or Vh (wide) are not unique
            flag, fix = ("some=False", "some=True") if v_not_vh else ("full_matrices=True", "full_matrices=False")
            extra = "U" if x.shape[-2] > x.shape[-1] else "V" if v_not_vh else "Vh"
            refused = Refused(f"svd with {flag} of a non-square matrix: the extra columns of {extra} are not unique "
                              f"and have no derivative; write {fix} (S and the other factor are available)")
            u, vh = (refused, vh) if x.shape[-2] > x.shape[-1] else (u, refused)
        if v_not_vh:  # the deprecated torch.svd returns V
            v = vh if isinstance(vh, Refused) else matrix_transpose(b, vh, position)
            return Items.named([u, s, v], ("U", "S", "V"))
        return Items.named([u, s, vh], ("U", "S", "Vh"))
    return lower


def _svd_values_only(b, x: Tracer, position) -> Items:
    """torch.svd(x, compute_uv=False): (U, S, V) with S the singular values and U, V zero matrices of shapes
    (..., m, m) and (..., n, n), constants as PyTorch makes them (some= has no effect); no signs to check."""
    s = _svd_of(b, x, "svd", position)[1]
    *batch, m, n = x.shape
    zeros = []
    for k, what in ((m, "U"), (n, "V")):
        b.check_size((*batch, k, k), f"torch.svd(compute_uv=False)'s {what}", position)
        zeros.append(b.const(np.zeros((*batch, k, k), dtype=b.dtype), position))
    return Items.named([zeros[0], s, zeros[1]], ("U", "S", "V"))


FUNCTIONS["svd"] = _svd_lowering(False)
variant("torch", "svd")(_svd_lowering(True, True))
variant("method", "svd")(LIBRARY_FUNCTIONS[("torch", "svd")])  # x.svd(): PyTorch's alone (V, some=True); NumPy has none
variant("torch.linalg", "svd")(_svd_lowering(False, True))


@function("svdvals")
def _svdvals(b, args, kwargs, position):
    """svdvals(A): the singular values, descending; a derivative through one at zero refused, and one that reads
    repeated nonzero ones apart (each alone) refused, a function treating them alike (their sum, the nuclear
    norm) kept: docs/vocabulary-shapes-linalg.md."""
    x = tensor(b, arguments("svdvals", args, kwargs, {"x": REQUIRED}, position)["x"], "svdvals", position)
    return _svd_of(b, x, "svdvals", position)[1]


@function("qr")
def _qr(b, args, kwargs, position):
    a = arguments("qr", args, kwargs, {"x": REQUIRED, "mode": "reduced"}, position)
    x = tensor(b, a["x"], "qr", position)
    _need_ndim("qr", x, tuple(range(2, 10)), position)
    mode = static(b, a["mode"], "mode", position)
    m, n = _concrete(x, "qr", position)[-2:]
    if m < n:
        raise JacValueError(f"qr of a wide matrix ({m}×{n}): jac supports m ≥ n, where Q and R are "
                            "differentiable (PyTorch cannot differentiate the wide case either)", position)
    if mode not in ("reduced", "r", "complete"):
        raise JacValueError(f"qr: mode={mode!r} is not supported (use 'reduced', 'complete' or 'r')", position)
    if mode == "complete" and m != n:
        raise JacValueError("qr with mode='complete' of a non-square matrix: the extra columns of Q are not "
                            "unique and have no derivative; use mode='reduced'", position)
    r = b.apply("qr_r", x, position=position)
    if mode == "r":  # NumPy: R alone
        return r
    return Items.named([b.apply("qr_q", x, position=position), r], ("Q", "R"))


@variant("torch.linalg", "qr")
def _torch_linalg_qr(b, args, kwargs, position):
    """torch.linalg.qr(A, mode='reduced'): the pair (Q, R); with mode='r' Q is an empty array, as PyTorch's
    (NumPy's mode='r' is R alone, so ``[1]`` would be a row of R)."""
    out = _qr(b, args, kwargs, position)
    if isinstance(out, Items):
        return out
    return Items.named([b.const(np.zeros((0,), dtype=b.dtype), position), out], ("Q", "R"))


@variant("torch", "qr")
@variant("method", "qr")
def _torch_qr(b, args, kwargs, position):
    """torch.qr(A, some=True), deprecated: torch.linalg.qr(A, 'reduced' if some else 'complete')."""
    a = arguments("qr", args, kwargs, {"x": REQUIRED, "some": True}, position)
    some = _flag(b, a["some"], "some", "qr", position)
    return _qr(b, [a["x"]], {"mode": "reduced" if some else "complete"}, position)


# -- LU: torch.linalg.lu / lu_factor / lu_solve, torch.lu / lu_solve, inv_ex, cholesky_ex, triangular_solve --

def _lu_input(b, value, fname, position) -> Tracer:
    x = tensor(b, value, fname, position)
    _need_ndim(fname, x, tuple(range(2, 10)), position)
    return x


def _lu_packed(b, x, position) -> Tracer:
    """LAPACK's packed LU (m×n): L's strict lower triangle over U, as tril(L, -1) I(k×n) + I(m×k) U."""
    m, n = _concrete(x, "lu_factor", position)[-2:]
    k = min(m, n)
    low = b.apply("lu", x, part="L", position=position)
    low = b.apply("mul", low, b.const(np.tril(np.ones((m, k)), -1), position), position=position)
    up = b.apply("lu", x, part="U", position=position)
    return b.apply("add", b.apply("matmul", low, b.const(np.eye(k, n), position), position=position),
                   b.apply("matmul", b.const(np.eye(m, k), position), up, position=position), position=position)


@variant("torch.linalg", "lu")
def _linalg_lu(b, args, kwargs, position):
    """torch.linalg.lu(A, pivot=True): (P, L, U) with A = P L U, as LAPACK's getrf pivots."""
    a = arguments("lu", args, kwargs, {"x": REQUIRED, "pivot": True}, position)
    x = _lu_input(b, a["x"], "lu", position)
    if not static(b, a["pivot"], "pivot", position):
        raise JacValueError("lu with pivot=False is not supported (PyTorch computes it on CUDA only)", position)
    m = _concrete(x, "lu", position)[-2]
    p = b.apply("pivot_matrix", b.apply("lu_pivots", x, position=position), m=m, dtype=np.dtype(b.dtype).name,
                position=position)
    return Items.named([p, b.apply("lu", x, part="L", position=position),
                        b.apply("lu", x, part="U", position=position)], ("P", "L", "U"))


def _lu_factor_lowering(fname, infos, checked=False):
    """lu_factor's (LU, pivots); ``checked``: refused where U has an exact zero on its diagonal, where
    torch.linalg.lu_factor raises (torch.lu and lu_factor_ex do not)."""
    def lower(b, args, kwargs, position):
        params = {"x": REQUIRED, "pivot": True} | ({"get_infos": False} if infos else {})
        a = arguments(fname, args, kwargs, params, position)
        x = _lu_input(b, a["x"], fname, position)
        if not static(b, a["pivot"], "pivot", position):
            raise JacValueError(f"{fname} with pivot=False is not supported (PyTorch computes it on CUDA only)",
                                position)
        out = [_lu_packed(b, x, position), b.apply("lu_pivots", x, position=position)]
        k = min(_concrete(x, fname, position)[-2:])
        if checked and k:
            diagonal = _take(b, b.apply("lu", x, part="U", position=position), (Ellipsis, np.arange(k), np.arange(k)),
                             position)
            out[0] = refused(b, out[0], (
                f"{fname}: U has an exact zero on its diagonal (the matrix is singular), where PyTorch raises; "
                "torch.linalg.lu_factor_ex(A) or torch.linalg.lu(A) factor it"),
                where=b.apply("eq", diagonal, 0.0, position=position), axes=tuple(range(diagonal.ndim)),
                position=position)
        if infos and static(b, a["get_infos"], "get_infos", position):
            raise JacValueError(f"{fname} with get_infos=True is not supported: jac does not report singular "
                                "factors by a flag", position)
        return Items.named(out, ("LU", "pivots"))
    return lower


variant("torch.linalg", "lu_factor")(_lu_factor_lowering("lu_factor", False, checked=True))
variant("torch", "lu")(_lu_factor_lowering("lu", True))
variant("method", "lu")(_lu_factor_lowering("lu", True))


def _lu_solve(b, lu, pivots, rhs, left, adjoint, fname, position) -> Tracer:
    """A X = B (or Aᴴ X = B; X A = B when not left) for A = P L U given as lu_factor's (LU, pivots)."""
    lu, rhs = _lu_input(b, lu, fname, position), _lu_input(b, rhs, fname, position)
    _square(lu, fname, position)
    pivots = tensor(b, pivots, fname, position)
    n = _concrete(lu, fname, position)[-1]
    if tuple(pivots.shape) != tuple(lu.shape[:-1]):
        raise JacShapeError(f"{fname}: pivots of shape {fmt(pivots.shape)} do not fit LU of shape {fmt(lu.shape)} "
                            f"(they must have shape {fmt(tuple(lu.shape[:-1]))})", position)
    low = b.apply("add", b.apply("mul", lu, b.const(np.tril(np.ones((n, n)), -1), position), position=position),
                  b.const(np.eye(n), position), position=position)
    up = b.apply("mul", lu, b.const(np.triu(np.ones((n, n))), position), position=position)
    perm = b.apply("pivot_matrix", pivots, m=n, dtype=np.dtype(b.dtype).name, position=position)
    def t(m):
        return matrix_transpose(b, m, position)
    if not left:  # X A = B: Aᵀ Xᵀ = Bᵀ
        return t(_lu_solve_left(b, low, up, perm, t(rhs), not adjoint, t, fname, position))
    return _lu_solve_left(b, low, up, perm, rhs, adjoint, t, fname, position)


def _lu_solve_left(b, low, up, perm, rhs, adjoint, t, fname, position) -> Tracer:
    if adjoint:  # Aᵀ = Uᵀ Lᵀ Pᵀ: X = P L⁻ᵀ U⁻ᵀ B
        y = b.apply("solve", t(up), rhs, who=fname, position=position)
        return b.apply("matmul", perm, b.apply("solve", t(low), y, who=fname, position=position), position=position)
    y = b.apply("solve", low, b.apply("matmul", t(perm), rhs, position=position), who=fname, position=position)
    return b.apply("solve", up, y, who=fname, position=position)


@variant("torch.linalg", "lu_solve")
def _linalg_lu_solve(b, args, kwargs, position):
    a = arguments("lu_solve", args, kwargs, {"LU": REQUIRED, "pivots": REQUIRED, "B": REQUIRED, "left": True,
                                              "adjoint": False}, position)
    return _lu_solve(b, a["LU"], a["pivots"], a["B"], bool(static(b, a["left"], "left", position)),
                     bool(static(b, a["adjoint"], "adjoint", position)), "lu_solve", position)


@variant("torch", "lu_solve")
def _torch_lu_solve(b, args, kwargs, position):
    """torch.lu_solve(b, LU_data, LU_pivots): the deprecated order, B first."""
    a = arguments("lu_solve", args, kwargs, {"x": REQUIRED, "LU_data": REQUIRED, "LU_pivots": REQUIRED}, position)
    return _lu_solve(b, a["LU_data"], a["LU_pivots"], a["x"], True, False, "lu_solve", position)


variant("method", "lu_solve")(_torch_lu_solve)


def _info(b, x, position) -> Tracer:
    """The LAPACK info of a factorization jac completed: 0 per matrix (a failed one is refused, never flagged),
    PyTorch's int32 zeros."""
    info = b.const(np.zeros(_concrete(x, "info", position)[:-2]), position)
    b.typed[info.id] = (np.dtype(np.int32), "torch")
    return info


@variant("torch.linalg", "solve_ex")
def _solve_ex(b, args, kwargs, position):
    """torch.linalg.solve_ex(A, B, left=True, check_errors=False): (result, info), the result
    torch.linalg.solve's; a singular A is refused, so info is 0."""
    a = arguments("solve_ex", args, kwargs, {"x": REQUIRED, "y": REQUIRED, "left": True, "check_errors": False},
                  position)
    _flag(b, a["check_errors"], "check_errors", "solve_ex", position)
    x = tensor(b, a["x"], "solve_ex", position)
    out = LIBRARY_FUNCTIONS[("torch", "solve")](b, [x, a["y"]], {"left": a["left"]}, position)
    return Items.named([out, _info(b, x, position)], ("result", "info"))


@variant("torch.linalg", "lu_factor_ex")
def _lu_factor_ex(b, args, kwargs, position):
    """torch.linalg.lu_factor_ex(A, pivot=True, check_errors=False): (LU, pivots, info) as lu_factor, info
    getrf's: 0, or i where U[i - 1, i - 1] is the first diagonal entry that is exactly 0 (the factorization
    completes; PyTorch's check_errors=True raises there, and jac refuses)."""
    a = arguments("lu_factor_ex", args, kwargs, {"x": REQUIRED, "pivot": True, "check_errors": False}, position)
    check = _flag(b, a["check_errors"], "check_errors", "lu_factor_ex", position)
    x = _lu_input(b, a["x"], "lu_factor_ex", position)
    lu, pivots = _lu_factor_lowering("lu_factor", False)(b, [x], {"pivot": a["pivot"]}, position)
    k = min(_concrete(x, "lu_factor_ex", position)[-2:])
    if k == 0:
        return Items.named([lu, pivots, _info(b, x, position)], ("LU", "pivots", "info"))
    diagonal = _take(b, b.apply("lu", x, part="U", position=position), (Ellipsis, np.arange(k), np.arange(k)),
                     position)
    zero = b.apply("eq", diagonal, 0.0, position=position)
    first = b.apply("add", b.apply("argmax", zero, axis=zero.ndim - 1, position=position), 1.0, position=position)
    info = b.apply("mul", first, b.apply("max", zero, axes=(zero.ndim - 1,), position=position), position=position)
    if check:  # PyTorch raises where info > 0: a NaN there is refused, and the zeros of the check join info
        info = refused(b, info, "lu_factor_ex(check_errors=True): U has an exact zero on its diagonal (the matrix "
                       "is singular), where PyTorch raises", where=info, add=True, position=position)
    return Items.named([lu, pivots, info], ("LU", "pivots", "info"))


@variant("torch", "lu_unpack")
def _lu_unpack(b, args, kwargs, position):
    """torch.lu_unpack(LU_data, LU_pivots, unpack_data=True, unpack_pivots=True): (P, L, U) from lu_factor's packed
    LU (m×n): L the strict lower triangle of its first k = min(m, n) columns over a unit diagonal, U the upper
    triangle of its first k rows, P the permutation of getrf's 1-based pivots (A = P L U)."""
    a = arguments("lu_unpack", args, kwargs, {"LU_data": REQUIRED, "LU_pivots": REQUIRED, "unpack_data": True,
                                              "unpack_pivots": True}, position)
    for key in ("unpack_data", "unpack_pivots"):
        if not _flag(b, a[key], key, "lu_unpack", position):
            raise JacValueError(f"lu_unpack(): {key}=False (PyTorch's empty tensors in place of the parts) is not "
                                "supported by jac: index the parts you need instead", position)
    lu = _lu_input(b, a["LU_data"], "lu_unpack", position)
    pivots = tensor(b, a["LU_pivots"], "lu_unpack", position)
    m, n = _concrete(lu, "lu_unpack", position)[-2:]
    k = min(m, n)
    if tuple(pivots.shape) != tuple(lu.shape[:-2]) + (k,):
        raise JacShapeError(f"lu_unpack: LU_pivots of shape {fmt(pivots.shape)} do not fit LU_data of shape "
                            f"{fmt(lu.shape)} (they must have shape {fmt(tuple(lu.shape[:-2]) + (k,))})", position)
    lower = _take(b, lu, (Ellipsis, slice(None), slice(0, k)), position)
    lower = b.apply("add", b.apply("mul", lower, b.const(np.tril(np.ones((m, k)), -1), position), position=position),
                    b.const(np.eye(m, k), position), position=position)
    upper = _take(b, lu, (Ellipsis, slice(0, k), slice(None)), position)
    upper = b.apply("mul", upper, b.const(np.triu(np.ones((k, n))), position), position=position)
    perm = b.apply("pivot_matrix", pivots, m=m, dtype=np.dtype(b.dtype).name, position=position)
    return Items.named([perm, lower, upper], ("P", "L", "U"))


@variant("torch.linalg", "inv_ex")
def _inv_ex(b, args, kwargs, position):
    """torch.linalg.inv_ex(A, check_errors=False): (inverse, info); a singular A is refused, so info is 0."""
    a = arguments("inv_ex", args, kwargs, {"x": REQUIRED, "check_errors": False}, position)
    static(b, a["check_errors"], "check_errors", position)
    x = tensor(b, a["x"], "inv_ex", position)
    return Items.named([FUNCTIONS["inv"](b, [x], {}, position), _info(b, x, position)], ("inverse", "info"))


@variant("torch.linalg", "cholesky_ex")
def _cholesky_ex(b, args, kwargs, position):
    """torch.linalg.cholesky_ex(A, upper=False, check_errors=False): (L, info); a matrix that is not positive
    definite is refused, so info is 0."""
    a = arguments("cholesky_ex", args, kwargs, {"x": REQUIRED, "upper": False, "check_errors": False}, position)
    static(b, a["check_errors"], "check_errors", position)
    x = tensor(b, a["x"], "cholesky_ex", position)
    return Items.named([_cholesky(b, [x], {"upper": a["upper"]}, position), _info(b, x, position)], ("L", "info"))


def _triangular_solve(b, args, kwargs, position):
    """torch.triangular_solve(b, A, upper=True, transpose=False, unitriangular=False): (solution, A's clone)."""
    a = arguments("triangular_solve", args, kwargs, {"x": REQUIRED, "A": REQUIRED, "upper": True,
                                                     "transpose": False, "unitriangular": False}, position)
    coef = tensor(b, a["A"], "triangular_solve", position)
    upper = bool(static(b, a["upper"], "upper", position))
    unit = a["unitriangular"]
    if static(b, a["transpose"], "transpose", position):  # Aᵀ X = B: Aᵀ is triangular the other way
        sol = _solve_triangular(b, [matrix_transpose(b, coef, position), a["x"]],
                                {"upper": not upper, "unitriangular": unit}, position)
    else:
        sol = _solve_triangular(b, [coef, a["x"]], {"upper": upper, "unitriangular": unit}, position)
    return Items.named([sol, coef], ("solution", "cloned_coefficient"))  # the clone: A itself, same bits


variant("torch", "triangular_solve")(_triangular_solve)
variant("method", "triangular_solve")(_triangular_solve)



# -- more of the everyday vocabulary: variants of the above ---------------------------------------

@variant("torch.linalg", "diagonal")
def _linalg_diagonal(b, args, kwargs, position):
    # torch.linalg.diagonal: the last two axes by default (torch.diagonal: the first two)
    a = arguments("diagonal", args, kwargs, {"x": REQUIRED, "offset": 0, "dim1": -2, "dim2": -1}, position)
    return _diagonal(b, [a["x"], a["offset"], a["dim1"], a["dim2"]], {}, position)


@function("inner")
def _inner(b, args, kwargs, position):
    # np.inner / torch.inner: the last axes contracted; a scalar multiplies
    x, y = _two("inner", b, args, kwargs, position)
    if x.ndim == 0 or y.ndim == 0:
        return b.apply("mul", x, y, position=position)
    if x.shape[-1] != y.shape[-1]:  # both libraries raise: the contracted axes do not broadcast (einsum's would)
        raise JacShapeError(f"inner: the last axes of {fmt(x.shape)} and {fmt(y.shape)} differ", position)
    one_dtype(b, "inner", (x, y), position)
    lx, ly = _LETTERS[:x.ndim], _LETTERS[x.ndim:x.ndim + y.ndim - 1] + _LETTERS[x.ndim - 1]
    return einsum_of(b, f"{lx},{ly}->{lx[:-1]}{ly[:-1]}", [x, y], position)


@function("vecdot")
def _vecdot(b, args, kwargs, position):
    kwargs = {("axis" if k == "dim" else k): v for k, v in kwargs.items()}
    a = arguments("vecdot", args, kwargs, {"x": REQUIRED, "y": REQUIRED, "axis": -1}, position)
    x, y = tensor(b, a["x"], "vecdot", position), tensor(b, a["y"], "vecdot", position)
    prod = b.apply("mul", x, y, position=position)
    if prod.ndim == 0:
        raise JacShapeError("vecdot needs vectors, got scalars", position)
    return b.apply("sum", prod, axes=(_axis(b, a["axis"], prod.ndim, "vecdot", position),), keepdims=False,
                   position=position)


@variant("numpy", "vecdot")
def _numpy_vecdot(b, args, kwargs, position):
    """np.vecdot(x, y, axis=-1): NumPy's gufunc, whose contracted axes must be equal (no broadcasting of them, no
    0-d operand); the other axes broadcast."""
    kept = kwargs.get("keepdims", False)  # np.vecdot(x, y, keepdims=True): the contracted axis kept, of length 1
    kwargs = {k: v for k, v in kwargs.items() if k != "keepdims"}
    a = arguments("vecdot", args, kwargs, {"x": REQUIRED, "y": REQUIRED, "axis": -1}, position)
    x, y = tensor(b, a["x"], "vecdot", position), tensor(b, a["y"], "vecdot", position)
    if x.ndim == 0 or y.ndim == 0:
        raise JacShapeError(f"vecdot needs arrays of at least one dimension, got shapes {fmt(x.shape)} and "
                            f"{fmt(y.shape)} (NumPy refuses a 0-d operand)", position)
    axis = static_int(b, a["axis"], "axis", position)
    if not -min(x.ndim, y.ndim) <= axis < min(x.ndim, y.ndim):
        raise JacShapeError(f"vecdot: axis {axis} is out of range for shapes {fmt(x.shape)} and {fmt(y.shape)}",
                            position)
    if x.shape[axis] != y.shape[axis]:
        raise JacShapeError(f"vecdot: the contracted axes of {fmt(x.shape)} and {fmt(y.shape)} (axis {axis}) "
                            "differ; NumPy does not broadcast them", position)
    out = _vecdot(b, args, kwargs, position)
    if not keepdims_of(b, kept, position, kwargs={"keepdims": kept}):
        return out
    at = axis if axis >= 0 else out.ndim + 1 + axis
    return _reshape_to(b, out, tuple(out.shape[:at]) + (1,) + tuple(out.shape[at:]), position)


@function("block_diag")
def _block_diag(b, args, kwargs, position):
    # torch.block_diag(A, B, ...): the arrays (0-d, 1-d as rows, 2-d) on the diagonal of one matrix
    if kwargs:
        raise JacParseError("block_diag() takes only arrays", position)
    xs = [tensor(b, x, "block_diag", position) for x in (args[0] if len(args) == 1 and isinstance(args[0], Items)
                                                          else args)]
    if not xs:
        raise JacValueError("block_diag needs at least one array", position)
    xs = [_reshape_to(b, x, (1,) * (2 - x.ndim) + tuple(x.shape), position) if x.ndim < 2 else x for x in xs]
    for x in xs:
        _need_ndim("block_diag", x, (2,), position)
    shapes = [_concrete(x, "block_diag", position) for x in xs]
    out = (sum(s[0] for s in shapes), sum(s[1] for s in shapes))
    parts, r, c = [], 0, 0
    for x, (n, m) in zip(xs, shapes):
        if n and m:
            parts.append((x, (slice(r, r + n), slice(c, c + m))))
        r, c = r + n, c + m
    if len(parts) == 1 and parts[0][0].shape == out:
        return parts[0][0]
    return _assemble(b, parts, out, False, position)


def _meshgrid(default):
    def lower(b, args, kwargs, position):
        if set(kwargs) - {"indexing"}:
            raise JacParseError("meshgrid() takes arrays and indexing=", position)
        indexing = static(b, kwargs.get("indexing", default), "indexing", position)
        if indexing is None:
            raise JacValueError("meshgrid without indexing= is ambiguous: PyTorch's default is 'ij', NumPy's "
                                "'xy'. Write indexing='ij' or indexing='xy' (or torch.meshgrid / np.meshgrid)",
                                position)
        if indexing not in ("ij", "xy"):
            raise JacValueError("meshgrid: indexing must be 'ij' or 'xy'", position)
        xs = [tensor(b, x, "meshgrid", position)
              for x in (args[0] if len(args) == 1 and isinstance(args[0], Items) else args)]
        xs = [_reshape_to(b, x, (_numel(x, position),), position) for x in xs]
        n = len(xs)
        out = [x.shape[0] for x in xs]
        if indexing == "xy" and n >= 2:
            out[0], out[1] = out[1], out[0]
        grids = []
        for k, x in enumerate(xs):
            axis = (1 - k if k < 2 else k) if indexing == "xy" and n >= 2 else k
            shape = [1] * n
            shape[axis] = x.shape[0]
            grids.append(b.apply("broadcast_to", _reshape_to(b, x, tuple(shape), position), shape=tuple(out),
                                 position=position))
        return Items(grids)
    return lower


FUNCTIONS["meshgrid"] = _meshgrid(None)
variant("torch", "meshgrid")(_meshgrid("ij"))
variant("numpy", "meshgrid")(_meshgrid("xy"))


def _atleast(ndim):
    def lower(b, args, kwargs, position):
        xs = [tensor(b, x, f"atleast_{ndim}d", position) for x in args]
        if len(xs) != 1 or kwargs:
            raise JacValueError(f"atleast_{ndim}d: jac takes one array", position)
        return _at_least(b, xs[0], ndim, position)
    return lower


for _n in (1, 2, 3):
    FUNCTIONS[f"atleast_{_n}d"] = _atleast(_n)


@function("rot90")
def _rot90(b, args, kwargs, position):
    kwargs = {("axes" if k == "dims" else k): v for k, v in kwargs.items()}
    a = arguments("rot90", args, kwargs, {"x": REQUIRED, "k": 1, "axes": (0, 1)}, position)
    x = tensor(b, a["x"], "rot90", position)
    axes = static_ints(b, a["axes"], "dims", position)
    if len(axes) != 2 or x.ndim < 2:
        raise JacValueError(f"rot90: the plane of rotation is two axes of an array of 2 or more dimensions, got "
                            f"axes {axes} for shape {fmt(x.shape)}", position)
    d0, d1 = (_axis(b, d, x.ndim, "rot90", position) for d in axes)
    if d0 == d1:
        raise JacValueError("rot90: the two axes must differ", position)
    k = static_int(b, a["k"], "k", position) % 4

    def flip(v, axis):
        return _take(b, v, tuple(slice(None, None, -1) if i == axis else slice(None) for i in range(v.ndim)),
                     position)
    if k == 0:
        return x
    if k == 2:
        return flip(flip(x, d0), d1)
    perm = list(range(x.ndim))
    perm[d0], perm[d1] = perm[d1], perm[d0]
    return _permute(b, flip(x, d1), perm, position) if k == 1 else flip(_permute(b, x, perm, position), d1)


@function("reshape_as", "view_as")
def _reshape_as(b, args, kwargs, position):
    x, other = _two("reshape_as", b, args, kwargs, position)
    return b.apply("reshape", x, shape=_concrete(other, "reshape_as", position), position=position)


def _complex_refusal(name, instead):
    def lower(b, args, kwargs, position):
        raise JacValueError(f"{name} of a general matrix has complex results, which jac does not have; "
                            f"for a symmetric matrix use {instead}", position)
    return lower


FUNCTIONS["eig"] = _complex_refusal("eig", "eigh")
FUNCTIONS["eigvals"] = _complex_refusal("eigvals", "eigvalsh")


def _cholesky_factor(b, low, upper, position):
    """The factor L that torch.cholesky_solve and cholesky_inverse read. Their value reads L's triangle alone,
    their autograd formula L whole: -(C L) for C = A⁻¹ (G + Gᵀ) A⁻¹, nonzero past the triangle and, where L has
    entries there, not the derivative of the value at all. So a factor the inputs reach (and not a cholesky's,
    whose VJP ignores the entries past the triangle) is read whole, which is PyTorch's value and x.grad, and only
    at given values whose entries past the triangle are 0 (others refused; jac diff refuses). A factor no input
    reaches is read by its triangle, as PyTorch's value."""
    node = b.nodes[low.id]
    made = b.nodes[node.args[0]] if upper and node.op == "transpose" and node.args else node
    # an input reaches every node but a folded constant (requires_grad would follow the first call's wrt, and a
    # compiled graph serves every wrt)
    if node.op == "const" or made.op == "cholesky":
        return FUNCTIONS["triu" if upper else "tril"](b, [low], {}, position)
    if b.lowering is not None and not b.shapes_only:  # jac shape: the shapes alone, which either reading gives
        factor = np.asarray(b.lowering.value_of(low, position, message=(
            "torch.cholesky_solve / cholesky_inverse of a factor computed from the inputs: PyTorch's value reads its "
            "triangle, its gradient the whole matrix, so jac reads it only at given values, whose entries past the "
            "triangle must be 0 (jac eval, vjp, jvp, hessian, check compute it; jac diff cannot)")))
        past = np.tril(factor, -1) if upper else np.triu(factor, 1)
        if np.any(past != 0):
            side = "below" if upper else "above"
            raise JacValueError(f"cholesky_solve / cholesky_inverse of a factor with nonzero entries {side} its "
                                "diagonal: PyTorch's value reads the triangle alone but its gradient reads the whole "
                                "matrix (another function's derivative), which jac cannot give both of; pass the "
                                f"triangle, torch.{'triu' if upper else 'tril'}(L), or the factor "
                                "torch.linalg.cholesky(A) makes", position)
    return low


@function("cholesky_solve")
def _cholesky_solve(b, args, kwargs, position):
    # torch.cholesky_solve(B, L, upper=False): X with (L Lᵀ) X = B
    a = arguments("cholesky_solve", args, kwargs, {"x": REQUIRED, "L": REQUIRED, "upper": False}, position)
    rhs, low = tensor(b, a["x"], "cholesky_solve", position), tensor(b, a["L"], "cholesky_solve", position)
    _square(low, "cholesky_solve", position)
    _need_ndim("cholesky_solve", rhs, tuple(range(2, 10)), position, "right-hand side (a matrix)")
    upper = static(b, a["upper"], "upper", position)
    tri = _cholesky_factor(b, low, upper, position)
    gram = b.apply("matmul", *((matrix_transpose(b, tri, position), tri) if upper
                               else (tri, matrix_transpose(b, tri, position))), position=position)
    return _solve(b, gram, rhs, False, position, "cholesky_solve")


@function("cholesky_inverse")
def _cholesky_inverse(b, args, kwargs, position):
    a = arguments("cholesky_inverse", args, kwargs, {"x": REQUIRED, "upper": False}, position)
    low = tensor(b, a["x"], "cholesky_inverse", position)
    _square(low, "cholesky_inverse", position)
    eye = b.const(np.eye(low.shape[-1], dtype=b.dtype), position)
    return _cholesky_solve(b, [eye, low], {"upper": a["upper"]}, position)


FUNCTIONS["pinverse"] = LIBRARY_FUNCTIONS[("torch", "pinverse")]  # PyTorch's name alone: x.pinverse(rcond) too


@function("chain_matmul")
def _chain_matmul(b, args, kwargs, position):
    return _multi_dot(b, [Items(args)], kwargs, position)


def _split_along(fname, axis_of, least: int):
    """np.hsplit / vsplit / dsplit (and torch's): np.array_split's pieces along a fixed axis, evenly; ``least``
    dimensions needed (NumPy's and PyTorch's; jnp.vsplit splits a vector along its one axis, session 52)."""
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "indices_or_sections": REQUIRED}, position)
        x = tensor(b, a["x"], fname, position)
        need = 1 if fname == "vsplit" and jax_spelled(b) else least
        if x.ndim < need:
            raise JacShapeError(f"{fname} needs at least {need} dimension{'s' if need > 1 else ''}, got shape "
                                f"{fmt(x.shape)}", position)
        return _np_split(b, [x, a["indices_or_sections"], b.const(float(axis_of(x)))], {}, position)
    return lower


FUNCTIONS["hsplit"] = _split_along("hsplit", lambda x: 0 if x.ndim == 1 else 1, 1)
FUNCTIONS["vsplit"] = _split_along("vsplit", lambda x: 0, 2)
FUNCTIONS["dsplit"] = _split_along("dsplit", lambda x: 2, 3)


@function("select")
def _select(b, args, kwargs, position):
    a = arguments("select", args, kwargs, {"x": REQUIRED, "axis": REQUIRED, "index": REQUIRED}, position)
    x = _with_axis(tensor(b, a["x"], "select", position), "select", position)
    axis = _axis(b, a["axis"], x.ndim, "select", position)
    n = _concrete(x, "select", position)[axis]
    i = static_int(b, a["index"], "index", position)
    if not -n <= i < n:
        raise JacShapeError(f"select: index {i} is out of range for axis {axis} of length {n}", position)
    return _take(b, x, (slice(None),) * axis + (i % n,), position)


@function("adjoint", "matrix_transpose")
def _adjoint(b, args, kwargs, position):
    x = tensor(b, arguments("adjoint", args, kwargs, {"x": REQUIRED}, position)["x"], "adjoint", position)
    return matrix_transpose(b, x, position, "matrix_transpose")


FUNCTIONS["permute_dims"] = FUNCTIONS["permute"]
variant("np.linalg", "diagonal")(LIBRARY_FUNCTIONS[("torch.linalg", "diagonal")])


@function("diagflat")
def _diagflat(b, args, kwargs, position):
    kwargs = {("k" if k in ("offset", "diagonal") else k): v for k, v in kwargs.items()}
    a = arguments("diagflat", args, kwargs, {"x": REQUIRED, "k": 0}, position)
    x = tensor(b, a["x"], "diagflat", position)
    flat = _reshape_to(b, x, (_numel(x, position),), position)
    return _embed(b, flat, static_int(b, a["k"], "offset", position), position)


@function("append")
def _append(b, args, kwargs, position):
    # np.append(arr, values, axis=None): both flattened without an axis
    a = arguments("append", args, kwargs, {"x": REQUIRED, "values": REQUIRED, "axis": None}, position)
    return _cat(b, [Items([tensor(b, a["x"], "append", position), tensor(b, a["values"], "append", position)])],
                {"axis": a["axis"]}, position)


@variant("numpy", "insert")
def _np_insert(b, args, kwargs, position):
    """np.insert(arr, obj, values, axis=None): arr with values inserted before the index or indices obj along
    axis (arr flattened without one), as NumPy: a single index takes values' first axis as the inserted slices
    (moved to ``axis``); several take one slice each, inserted before the original positions in order, values
    broadcast to them. The derivative passes to arr's and values' elements where they land."""
    a = arguments("insert", args, kwargs, {"arr": REQUIRED, "obj": REQUIRED, "values": REQUIRED, "axis": None},
                  position)
    x, v = tensor(b, a["arr"], "insert", position), tensor(b, a["values"], "insert", position)
    if dtypes.kind_of(b, x.id) is not None:
        raise JacValueError("np.insert into an integer or boolean array casts the values to its dtype; jac "
                            "inserts into float arrays: np.insert(a.astype(float), ...)", position)
    if a["axis"] is None:
        x, axis = _reshape_to(b, x, (_numel(x, position),), position), 0
    else:
        _has_axes(x, "insert", position)
        axis = _one_axis(b, a["axis"], x, position, "insert")
    shape = _concrete(x, "insert", position)
    n = shape[axis]
    obj = static(b, a["obj"], "insert index", position)
    single = not isinstance(obj, tuple)
    indices = (obj,) if single else obj
    if not all(_is_integer(i) for i in indices):
        raise JacValueError(f"np.insert(): the index must be integers, got {obj!r}", position)
    indices = tuple(int(i) for i in indices)
    if any(not -n <= i <= n for i in indices):
        raise JacValueError(f"np.insert(): index {next(i for i in indices if not -n <= i <= n)} is out of bounds "
                            f"for axis {axis} with size {n}", position)
    indices = [i + n if i < 0 else i for i in indices]
    if v.ndim > x.ndim:
        raise JacShapeError(f"np.insert(): values of shape {fmt(v.shape)} do not fit an array of shape {fmt(shape)}",
                            position)
    v = _reshape_to(b, v, (1,) * (x.ndim - v.ndim) + tuple(v.shape), position)  # np.array(values, ndmin=arr.ndim)
    if single:  # NumPy moves values' first axis to axis: a[:, 0:1] = values, not a[:, 0] = values
        rest = list(range(1, v.ndim))
        v = _permute(b, v, rest[:axis] + [0] + rest[axis:], position)
    count = _concrete(v, "insert", position)[axis] if len(indices) == 1 else len(indices)
    target = shape[:axis] + (count,) + shape[axis + 1:]
    try:
        broadcast(tuple(v.shape), target)
    except JacError:
        raise JacShapeError(f"np.insert(): values of shape {fmt(v.shape)} do not broadcast to the inserted slices "
                            f"{fmt(target)}", position) from None
    if tuple(v.shape) != target:
        v = b.apply("broadcast_to", v, shape=target, position=position)
    if len(indices) == 1:
        cut = (slice(None),) * axis
        return _concat(b, [_take(b, x, cut + (slice(None, indices[0]),), position), v,
                           _take(b, x, cut + (slice(indices[0], None),), position)], axis, "insert", position)
    if not indices:
        return x
    order = sorted(range(len(indices)), key=lambda j: indices[j])  # stable, as NumPy's mergesort
    placed = list(indices)
    for k, j in enumerate(order):
        placed[j] = indices[j] + k
    source = np.empty(n + len(indices), dtype=np.int64)
    new = np.zeros(n + len(indices), dtype=bool)
    for j, p in enumerate(placed):
        source[p], new[p] = n + j, True
    source[~new] = np.arange(n)
    joined = _concat(b, [x, v], axis, "insert", position)
    return _take(b, joined, (slice(None),) * axis + (source,), position)


def _torch_sign(b, args, kwargs, position):
    # torch.sign(nan) is 0 (np.sign(nan) is nan): the library decides
    x = tensor(b, arguments("sign", args, kwargs, {"x": REQUIRED}, position)["x"], "sign", position)
    if x.id in b.typed or x.id in b.integral:  # integers have no NaN, and their sign is an integer
        return b.apply("sign", x, position=position)
    return b.apply("where", b.apply("isnan", x, position=position), 0.0, b.apply("sign", x, position=position),
                   position=position)


variant("torch", "sgn")(_torch_sign)
variant("method", "sgn")(_torch_sign)  # NumPy arrays have no .sgn(): x.sgn() is PyTorch's
FUNCTIONS["sgn"] = _torch_sign  # so is a bare sgn(x)
# --- PART reductions: statistics, cumulative ops, selections, norms, losses (issue 13) ---------
# Where PyTorch and NumPy mean different things by one name, the library named decides
# (LIBRARY_FUNCTIONS, :func:`variant`); FUNCTIONS[name] stays the bare spelling, which refuses what
# is ambiguous. A lowering made per library, ``make(library)``, is registered by _per_library.

PER_LIBRARY = ("torch", "torch.linalg", "numpy", "method")


def _per_library(name: str, make):
    """Register ``make(library)`` for the bare name and each library's spelling of ``name``."""
    FUNCTIONS[name] = make(None)
    for library in PER_LIBRARY:
        variant(library, name)(make(library))


# sign at NaN: PyTorch's 0, NumPy's NaN; x.sign() in a text that calls PyTorch only is PyTorch's (the dialect),
# bare sign(x) and x.sign() elsewhere NumPy's (they differ at NaN alone, so no refusal as for x.std())
def _jax_or_numpy_sign(b, args, kwargs, position):
    # jnp.sign(-0.0) is -0.0 (XLA's sign keeps a zero as it is), np.sign(-0.0) is +0.0: the call's spelling decides;
    # x * 0 keeps the zero's sign and, as sign, passes no derivative
    x = tensor(b, arguments("sign", args, kwargs, {"x": REQUIRED}, position)["x"], "sign", position)
    out = b.apply("sign", x, position=position)
    if not jax_spelled(b) or dtypes.kind_of(b, out.id) is not None:
        return out
    return b.apply("where", b.apply("eq", x, 0.0, position=position), b.apply("mul", x, 0.0, position=position), out,
                   position=position)


_per_library("sign", lambda library: _torch_sign if library in ("torch", "torch.linalg") else _jax_or_numpy_sign)


def remainder_of_dividend(b, left, right, position) -> Tracer:
    """PyTorch's and JAX's remainder (``torch.remainder``, a tensor's ``%``, ``jnp.remainder``): NumPy's (the
    sign of the divisor), but a zero remainder has the sign of the dividend, fmod's zero (PyTorch adds the
    divisor to fmod's result only where it is not 0): ``4 % -2`` is +0 there, -0 in NumPy and Python, which
    shows after a division by it. Where the remainder is 0, a / b is an integer, so fmod's partial
    -trunc(a / b) is remainder's -floor(a / b): the derivatives are remainder's everywhere."""
    r = b.apply("remainder", left, right, position=position)
    if dtypes.kind_of(b, r.id) is not None:  # integers have no -0
        return r
    return b.apply("where", b.apply("eq", r, 0.0, position=position),
                   b.apply("fmod", left, right, position=position), r, position=position)


def _remainder(library):
    # a library whose zero remainder has the dividend's sign: PyTorch's, a tensor's method (NumPy arrays have
    # no .remainder()), and jax.numpy's (read as NumPy otherwise: its call is spelled jnp.remainder)
    def lower(b, args, kwargs, position):
        a = arguments("remainder", args, kwargs, {"x": REQUIRED, "y": REQUIRED}, position)
        x, y = tensor(b, a["x"], "remainder", position), tensor(b, a["y"], "remainder", position)
        if library in ("torch", "torch.linalg", "method") or jax_spelled(b):
            return remainder_of_dividend(b, x, y, position)
        return b.apply("remainder", x, y, position=position)
    return lower


_per_library("remainder", _remainder)
FUNCTIONS["mod"] = FUNCTIONS["remainder"]  # np.mod is np.remainder, jnp.mod is JAX's (its call is spelled jnp.mod)


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


def _has_axes(x: Tracer, fname: str, position) -> None:
    """Refuse an axis of a 0-d array where the libraries do (np.roll, torch.roll, np.delete, np.insert)."""
    if x.ndim == 0:
        raise JacShapeError(f"{fname}: a 0-d array has no axis (NumPy, PyTorch and JAX refuse one)", position)


def _one_axis(b, value, x: Tracer, position, fname: str) -> int:
    if not x.ndim:
        refuse_numpy_0d_axis(b, value, 0, position)
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
            args, kwargs = _spread_positions(fname, library, args, kwargs, position)
            params = {"x": REQUIRED, "axis": None, "ddof": None, "correction": None, "unbiased": None,
                      "keepdims": False} | ({"where": None} if library in ("numpy", "method", None) else {})
            a = arguments(fname, args, kwargs, params, position)
            x = tensor(b, a["x"], fname, position)
            axes = axes_of(b, a["axis"], x, position, fname)
            keepdims = keepdims_of(b, a["keepdims"], position, kwargs=kwargs)
            c = _correction(b, a, library, fname, position)
            if a.get("where") is not None:
                return _masked_spread(b, fname, x, _where_mask(b, a["where"], x, fname, position), axes, keepdims, c,
                                      position)
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


def _masked_spread(b, fname, x, mask, axes, keepdims, c, position):
    """NumPy's var / std with where= (jnp's too): the masked mean (the masked sum over the mask's count), the
    masked sum of squared deviations over max(count - ddof, 0); std its square root, as the norm of the masked
    deviations (derivative 0 where they all vanish, as the unmasked std's)."""
    def summed(v, keep):
        return b.apply("reduce_where", v, mask, ufunc="add", axes=axes, keepdims=keep, initial=None,
                       position=position)
    count = b.apply("sum", mask, axes=axes, keepdims=True, position=position)
    d = b.apply("sub", x, b.apply("div", summed(x, True), count, position=position), position=position)
    if not keepdims:
        count = b.apply("sum", mask, axes=axes, keepdims=False, position=position)
    dof = b.apply("maximum", b.apply("sub", count, c, position=position), 0.0, position=position)
    if fname == "std":
        kept = b.apply("where", mask, d, 0.0, position=position)
        r = b.apply("norm", kept, axes=axes, keepdims=keepdims, position=position)
        return b.apply("div", r, b.apply("sqrt", dof, position=position), position=position)
    return b.apply("div", summed(b.apply("mul", d, d, position=position), keepdims), dof, position=position)


def _spread_positions(fname: str, library, args, kwargs, position) -> tuple:
    """var / std (and var_mean, std_mean): PyTorch's positional overloads, (x, unbiased) and (x, dim, unbiased,
    keepdim), as keywords."""
    kwargs = dict(kwargs)
    if len(args) >= 2 and isinstance(args[1], bool):  # torch.var(x, False): the unbiased overload
        kwargs["unbiased"], args = args[1], args[:1] + args[2:]
    if len(args) > 2:  # torch.var(x, dim, unbiased, keepdim); NumPy's third is a dtype
        if library == "numpy" or not isinstance(args[2], bool):
            raise JacValueError(f"{fname}(): give ddof=, correction=, unbiased= and keepdims= by keyword", position)
        kwargs.update(zip(("unbiased", "keepdim"), args[2:4]))
        args = args[:2] + args[4:]
    return args, kwargs


def _correction(b, a, library, fname, position) -> float:
    given = {k: static(b, a[k], k, position) for k in ("ddof", "correction", "unbiased") if a[k] is not None}
    if len(given) > 1:
        raise JacValueError(f"{fname}() takes one of ddof=, correction= and unbiased=, got {', '.join(given)}",
                            position)
    if library in ("torch", "torch.linalg") and "ddof" in given:
        raise JacValueError(f"torch.{fname}() has no argument 'ddof' (it takes correction= or unbiased=)", position)
    if library == "numpy" and "unbiased" in given:
        raise JacValueError(f"np.{fname}() has no argument 'unbiased' (it takes ddof=)", position)
    if "unbiased" in given and not isinstance(given["unbiased"], bool) and library in ("torch", "method"):
        shown = given["unbiased"]
        shown = int(shown) if isinstance(shown, float) and shown.is_integer() and not written_as_float(b, a["unbiased"]) \
            else shown
        raise JacValueError(f"{fname}(): unbiased must be True or False, not {shown!r} (PyTorch raises "
                            "TypeError: it takes a bool; correction= takes a number)", position)
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


_per_library("var", _var_std("var"))
_per_library("std", _var_std("std"))


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
def _log_softmax(b, args, kwargs, position, over_all=False, shifted=False):
    a = arguments("log_softmax", args, kwargs, {"x": REQUIRED, "axis": None}, position)
    x = tensor(b, a["x"], "log_softmax", position)
    if x.ndim == 0:
        return b.apply("sub", x, x, position=position)  # log_softmax of one element is 0
    if over_all and a["axis"] is None:  # scipy.special.log_softmax(x): over every element
        axes = tuple(range(x.ndim))
    else:
        axes = (_one_axis(b, _softmax_axis(b, a["axis"], x, position, "log_softmax"), x, position, "log_softmax"),)
    out = log_softmax_of(b, x, axes, position)
    return nan_at_infinite_max(b, out, x, axes, position) if shifted else out  # PyTorch's (shifted by the max)


def log_softmax_of(b, x: Tracer, axes: tuple, position) -> Tracer:
    """``x - logsumexp(x)`` over ``axes``, computed as (x - c) - logsumexp(x - c) with c the slice's finite maximum
    (``log_softmax_shift``, no derivative; 0 at an infinite or NaN one, so the infinities are x - logsumexp(x)'s).
    x - logsumexp(x) itself lost the sum's log where |max| is large: log_softmax([1e16, 1e16]) was [0, 0] and its
    Jacobian [[0, -1], [-1, 0]] (session 49; PyTorch's and JAX's -0.693 and [[.5, -.5], [-.5, .5]])."""
    c = b.apply("log_softmax_shift", x, axes=tuple(axes), keepdims=len(axes) < x.ndim, position=position)
    z = b.apply("sub", x, c, position=position)
    return b.apply("sub", z, b.apply("logsumexp", z, axes=tuple(axes), keepdims=True, position=position),
                   position=position)


def nan_at_infinite_max(b, out: Tracer, x: Tracer, axes: tuple, position) -> Tracer:
    """``out``, the log_softmax of ``x`` over ``axes``, as PyTorch and JAX compute it, (x - m) - log(sum(exp(x -
    m))) with m the slice's maximum: NaN across a slice whose maximum is +inf, where x - logsumexp(x) (SciPy's
    answer, and jac's for a bare or NumPy spelling) is -inf at the finite elements. Adds m - m, 0 for a
    finite m (a -0 made +0, as their formula makes it) and NaN for an infinite or NaN one. Its derivative is
    0 (g - g at the maximum), and SymPy reads Max(...) - Max(...) as 0, so jac diff is unchanged."""
    if any(x.shape[a] == 0 for a in axes):  # an empty slice has no maximum (and no element to make NaN)
        return out
    m = b.apply("max", x, axes=tuple(axes), keepdims=True, position=position)
    return b.apply("add", out, b.apply("sub", m, m, position=position), position=position)


variant("torch", "log_softmax")(lambda b, args, kwargs, position: _log_softmax(b, args, kwargs, position,
                                                                            shifted=True))
variant("method", "log_softmax")(library_function("torch", "log_softmax"))  # NumPy arrays have no .log_softmax()


def _scipy_softmax(b, args, kwargs, position):
    """scipy.special.softmax(x): over every element without an axis (torch and jax take the last)."""
    a = arguments("softmax", args, kwargs, {"x": REQUIRED, "axis": None}, position)
    return FUNCTIONS["softmax"](b, [a["x"]], {"axis": a["axis"]}, position)


@variant("torch", "softmax")
def _torch_softmax(b, args, kwargs, position):
    """F.softmax(x) without dim: PyTorch's implicit choice, which for 3-d and up is not the last axis (jax.nn's
    and jac's default): asked for as log_softmax and softmin ask. It took the last axis silently before."""
    a = arguments("softmax", args, kwargs, {"x": REQUIRED, "axis": None}, position)
    x = tensor(b, a["x"], "softmax", position)
    axis = _softmax_axis(b, a["axis"], x, position, "softmax") if x.ndim else -1
    return FUNCTIONS["softmax"](b, [x], {"axis": axis}, position)


variant("scipy", "log_softmax")(lambda b, args, kwargs, position: _log_softmax(b, args, kwargs, position, True))
variant("scipy", "softmax")(_scipy_softmax)


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
            out = b.apply(fname, x, axis=axis, position=position)
            if fname == "cumsum" and library in ("torch", "torch.linalg") and dtypes.kind_of(b, x.id) is None:
                # PyTorch's running sum starts from +0 (0 + x0): a sum of -0s alone is +0 there, -0 in NumPy's
                return b.apply("add", out, 0.0, position=position)
            return out
        return lower
    return make


_per_library("cumsum", _cumulative("cumsum"))
_per_library("cumprod", _cumulative("cumprod"))


# argmax, argmin: the same in both libraries; the first index wins ties, NaN is the maximum.

def _arg_extreme(op_name):
    def lower(b, args, kwargs, position):
        a = arguments(op_name, args, kwargs, {"x": REQUIRED, "axis": None, "keepdims": False}, position)
        x = tensor(b, a["x"], op_name, position)
        axis = None if a["axis"] is None else _one_axis(b, a["axis"], x, position, op_name)
        keepdims = keepdims_of(b, a["keepdims"], position, kwargs=kwargs)
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
    whole = _reduction(op_name, nan_share=True)

    def lower(b, args, kwargs, position):
        if library in ("torch", "method") and "other" in kwargs:  # torch.max(x, other=y), x.max(other=y)
            a = arguments(op_name, args, kwargs, {"x": REQUIRED, "other": REQUIRED}, position)
            if not isinstance(a["other"], Tracer) or type(b.nodes[a["other"].id].value) is float:
                raise JacValueError(f"{op_name}(other=...) takes a tensor in PyTorch, not a number: write "
                                    f"torch.{op_name}imum(x, torch.tensor(...)) or torch.clamp", position)
            return FUNCTIONS[f"{op_name}imum"](b, [a["x"], a["other"]], {}, position)  # element-wise, as (x, y)
        axis_given = len(args) >= 2 or any(k in kwargs for k in ("dim", "axis"))
        torch_named = library in ("torch", "torch.linalg")
        if torch_named and len(args) == 2 and isinstance(args[1], Tracer):
            _refuse_several_dims(b, args, op_name, position)
        pairwise = len(args) == 2 and isinstance(args[1], Tracer) and not _axis_like(b.nodes[args[1].id], args[0])
        if torch_named and not (pairwise or axis_given):  # torch.max(x): a NaN maximum's derivative to the NaNs
            return whole(b, args, kwargs, position)
        if pairwise or library == "numpy" or not axis_given:  # torch.max(a, b) is the element-wise maximum
            return reduction_lower(b, args, kwargs, position)
        a = arguments(op_name, args, kwargs, {"x": REQUIRED, "axis": None, "keepdims": False}, position)
        x = tensor(b, a["x"], op_name, position)
        axes = static(b, a["axis"], "dim", position)
        if axes is None or isinstance(axes, tuple):  # axis=None: every axis; several axes: amax's reading, no pair
            return reduction_lower(b, args, kwargs, position)
        array = None if torch_named else reduction_lower(b, args, kwargs, position)
        axis = _one_axis(b, a["axis"], x, position, op_name)
        keepdims = keepdims_of(b, a["keepdims"], position, kwargs=kwargs)
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


def _refuse_several_dims(b, args, op_name: str, position) -> None:
    """torch.max(x, y) takes one int dim or a tensor y: an array of constants that reads as dims
    (``(0, 1)``, ``torch.tensor([0.0])``) is one or the other, so it is refused naming both."""
    node = b.nodes[args[1].id]
    if node.op == "const" and np.ndim(node.value) > 0 and _axis_like(node, args[0]):
        raise JacValueError(f"torch.{op_name}(x, y) with a constant array y reads as the element-wise {op_name}imum "
                            f"in PyTorch, but these values also read as dims: write torch.{op_name}imum(x, y) for "
                            f"the element-wise {op_name}imum, or torch.a{op_name}(x, dim=...) for several dims",
                            position)


for _op_name in ("max", "min"):
    _reduce = FUNCTIONS[_op_name]
    FUNCTIONS[_op_name] = _extreme_pair(_op_name, _reduce, None)
    for _library in PER_LIBRARY:
        variant(_library, _op_name)(_extreme_pair(_op_name, _reduce, _library))


def _sort_like(fname: str):
    """sort, argsort: ascending along ``axis`` (-1), ties in their order (stable; PyTorch's without stable=True
    refused at ties past 16 elements, ``ops._argsort_impl``); ``descending=True`` as torch. ``np.sort(x, axis=None)`` sorts the flattened array; NumPy's third argument is
    ``kind``, PyTorch's ``descending``."""
    def make(library):
        def lower(b, args, kwargs, position):
            kind = "stable"
            if library == "numpy":  # np.sort(a, axis=-1, kind=None, order=None, *, stable=None); jnp's descending=
                a = arguments(fname, args, kwargs, {"x": REQUIRED, "axis": -1, "kind": None, "order": None,
                                                    "descending": False, "stable": None}, position)
                kind = _numpy_sort_kind(b, a, fname, position)
                if len(args) > 4:
                    raise JacParseError(f"{fname}() takes at most 4 positional arguments in NumPy (a, axis, kind, "
                                        "order)", position)
                if a["order"] is not None:
                    raise JacValueError(f"np.{fname}(order=...) sorts structured arrays by field, which jac does not "
                                        "have", position)
            else:  # PyTorch's: without stable=True the order of ties is unspecified beyond 16 elements (ops)
                stable = kwargs.get("stable")
                kind = "stable" if stable is not None and static(b, stable, "stable", position) else "torch"
                kwargs = {k: v for k, v in kwargs.items() if k not in ("stable", "kind")}
                a = arguments(fname, args, kwargs, {"x": REQUIRED, "axis": -1, "descending": False}, position)
                if isinstance(static(b, a["descending"], "descending", position), str):
                    raise JacValueError(f"{fname}(x, axis, {static(b, a['descending'], 'descending', position)!r}): "
                                        "a string third argument is NumPy's kind, PyTorch's third is descending: "
                                        f"write np.{fname} or kind= by keyword", position)
            x = tensor(b, a["x"], fname, position)
            if a["axis"] is None:
                x = b.apply("reshape", x, shape=(_numel(x, position),), position=position)
                axis = 0
            elif x.ndim == 0:
                refuse_numpy_0d_axis(b, a["axis"], 0, position)  # np.sort(s): AxisError (np.argsort(s) answers)
                x = b.apply("reshape", x, shape=(1,), position=position)
                axis = 0
            else:
                axis = _one_axis(b, a["axis"], x, position, fname)
            descending = bool(static(b, a["descending"], "descending", position))
            if fname == "argsort" and kind != "stable" and not descending:  # NumPy's order of ties
                return b.apply("argsort", x, axis=axis, kind=kind, position=position)
            idx = b.apply("argsort", x, axis=axis, descending=descending, position=position,
                          **({"kind": "torch"} if kind == "torch" else {}))
            if fname == "argsort":
                return idx
            values = b.apply("take_along", x, idx, axis=axis, position=position)
            if library == "numpy":
                return values
            return Pair(values, {"values": values, "indices": idx}, "ambiguous" if library is None else "torch", fname)
        return lower
    return make


def _numpy_sort_kind(b, a, fname, position) -> str:
    """The kind np.argsort sorts with: NumPy's default quicksort (whose order of ties is not the stable one: SIMD
    sorts) unless kind='stable' / 'mergesort' or stable=True; a kind NumPy refuses is refused. JAX's sorts
    (``jnp.argsort``) are stable."""
    kind, stable = static(b, a["kind"], "kind", position), static(b, a["stable"], "stable", position)
    if jax_spelled(b):
        return "stable"
    if kind is not None and stable is not None:
        raise JacValueError(f"np.{fname}: kind and stable cannot both be given (NumPy refuses it)", position)
    try:
        np.argsort(np.zeros(1), kind=kind)
    except (TypeError, ValueError) as e:
        raise JacValueError(f"np.{fname}: {e} (NumPy)", position) from None
    return "stable" if stable or (isinstance(kind, str) and kind[:1] in "sm") else (kind or "quicksort")


_per_library("sort", _sort_like("sort"))
_per_library("argsort", _sort_like("argsort"))


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
                  kind="torch-topk", position=position)  # ties among the k: refused at run time (ops)
    values = b.apply("take_along", x, idx, axis=axis, position=position)
    return Pair(values, {"values": values, "indices": idx}, "torch", "topk")


def _median(library):
    """torch.median: the lower median (one element, its index; without a dim its derivative shared among the
    elements equal to it, as PyTorch's); np.median: NumPy's mean of the middle element(s), summed from +0. A bare
    median is the same for an odd count and refused for an even one."""
    def lower(b, args, kwargs, position):
        a = arguments("median", args, kwargs, {"x": REQUIRED, "axis": None, "keepdims": False}, position)
        x = tensor(b, a["x"], "median", position)
        keepdims = keepdims_of(b, a["keepdims"], position, kwargs=kwargs)
        _torch_keepdim_needs_dim(b, a["axis"], kwargs, position)
        axis_given = a["axis"] is not None
        if not axis_given or x.ndim == 0:
            if keepdims and library == "numpy" and x.ndim:
                return _reshape_to(b, lower(b, [x], {}, position), (1,) * x.ndim, position)  # NumPy's shape
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
        if torch_like and not axis_given:  # torch.median(x): its derivative shared among the median's ties
            return _squeezed(b, b.apply("take_shared", x, lower_idx, axis=axis, position=position), axis, keepdims,
                             position)
        values = _selection(b, x, lower_idx, axis, keepdims, position)
        if library == "numpy":  # NumPy's mean of the middle: 0 + lo (+ hi), over the count
            total = b.apply("add", values, 0.0, position=position)  # -0 + 0 is +0, as NumPy's sum from 0
            if isinstance(n, int) and n % 2:  # one middle element, itself: (lo + lo) / 2 overflowed at 1e308
                return total
            upper = _selection(b, x, b.apply("argmedian", x, axis=axis, upper=True, position=position), axis,
                               keepdims, position)
            return b.apply("mul", b.apply("add", total, upper, position=position), 0.5, position=position)
        if not axis_given:
            return values
        parts = {"values": values, "indices": lambda: _squeezed(b, lower_idx, axis, keepdims, position)}
        return Pair(values, parts, "torch" if torch_like else "ambiguous", "median")
    return lower


def _tuple_axis(lower, fname: str, at: int):
    """NumPy's tuple axis of median / quantile / percentile and their nan forms (``np.median(x, axis=(0, 2))``, the
    axis the ``at``-th argument or ``axis=``): the axes moved last and merged into one, reduced along it (with
    ``keepdims``, ones put back where they were), which is NumPy's own way (``numpy.lib._function_base_impl._ureduce``
    does the same). An int or no axis goes to ``lower`` as it is."""
    def wrapped(b, args, kwargs, position):
        given = kwargs.get("axis", args[at] if len(args) > at else None)
        axes = static(b, given, "axis", position) if given is not None and not isinstance(given, int) else None
        if not isinstance(axes, (tuple, list)) or not args:
            return lower(b, args, kwargs, position)
        x = tensor(b, args[0], fname, position)
        try:
            axes = tuple(normalize_axis(static_int(b, a, "axis", position), x.ndim, x.shape) for a in axes)
        except JacShapeError as err:
            raise JacShapeError(f"{fname}: {err.message}", position) from None
        if len(set(axes)) != len(axes):
            raise JacValueError(f"{fname}: NumPy raises \"repeated axis\" for axis={tuple(axes)}", position)
        rest = tuple(k for k in range(x.ndim) if k not in axes)
        merged = b.apply("transpose", x, axes=rest + axes, position=position) if rest + axes != tuple(range(x.ndim)) \
            else x
        merged = b.apply("reshape", merged, shape=tuple(x.shape[k] for k in rest) + (
            _count(b, x, axes, position, fname),), position=position)
        keepdims = keepdims_of(b, kwargs.get("keepdims", False), position, kwargs=kwargs)
        rest_args = [merged, *args[1:at]]
        out = lower(b, rest_args, {**{k: v for k, v in kwargs.items() if k not in ("axis", "keepdims")}, "axis": -1},
                    position)
        if not keepdims:
            return out
        kept = tuple(1 if k in axes else x.shape[k] for k in range(x.ndim))
        return b.apply("reshape", out, shape=tuple(out.shape[:out.ndim - len(rest)]) + kept, position=position)
    wrapped.__doc__ = lower.__doc__
    return wrapped


FUNCTIONS["median"] = _median(None)
for _library in PER_LIBRARY:
    variant(_library, "median")(_tuple_axis(_median(_library), "median", 1) if _library == "numpy"
                                else _median(_library))


# --- norms ---

def _vector_norm(b, x: Tracer, order, axes: tuple, keepdims: bool, position, torch_nan: bool = False,
                 torch_dim: bool = False, distances: bool = False) -> Tracer:
    """(sum |x|^ord)^(1/ord) over ``axes``; ord inf / -inf: max / min |x|; ord 0: the count of
    nonzeros (no derivative). ``torch_nan``: PyTorch's norm backward at a NaN (ord ±inf: no derivative), for
    torch.norm / torch.linalg.vector_norm / torch.dist (its cdist, JAX's and NumPy's norms keep max's rule).
    Both those and ``torch_dim`` (F.normalize, F.pairwise_distance: PyTorch's vector_norm over a dim) refuse a
    negative or infinite ord over an empty axis in PyTorch's words (it raises: no identity), session 51 / 52;
    ``distances`` (torch.cdist, F.pdist) gives 0 for ord inf over an empty axis, as PyTorch."""
    if isinstance(order, bool) or not isinstance(order, (int, float)):
        raise JacValueError(f"vector norm: ord must be a number, got {order!r}", position)
    if (torch_nan or torch_dim) and (order < 0 or order == math.inf):
        empty = [a for a in axes if x.shape[a] == 0]
        if empty:  # NumPy's (sum of nothing)^(1/ord) = inf, or the max / min of nothing; PyTorch raises
            where = "an empty tensor" if len(axes) == x.ndim and not torch_dim else \
                f"the dimension {empty[0]}, which is empty"
            kind = "an infinite" if math.isinf(order) else "a negative"
            raise JacValueError(f"vector norm: PyTorch cannot compute the {order:g} norm on {where}: {kind} ord has "
                                "no identity (PyTorch raises RuntimeError; NumPy's np.linalg.norm gives "
                                f"{'an error' if math.isinf(order) else 'inf'})", position)
    if order == 2:
        return b.apply("norm", x, axes=axes, keepdims=keepdims, position=position)
    absx = b.apply("abs", x, position=position)
    if order == 1:
        return b.apply("sum", absx, axes=axes, keepdims=keepdims, position=position)
    if order in (math.inf, -math.inf) and torch_nan:
        # PyTorch's backward gives the derivative to the elements equal to the norm or NaN, times sgn(x), 0 at a
        # NaN: where a NaN makes the norm NaN, no element has a derivative (max's own rule made every one NaN)
        nan = b.apply("isnan", absx, position=position)
        clean = b.apply("where", nan, 0.0, absx, position=position)
        m = b.apply("max" if order > 0 else "min", clean, axes=axes, keepdims=keepdims, position=position)
        seen = b.apply("gt", b.apply("sum", nan, axes=axes, keepdims=keepdims, position=position), 0.0, position=position)
        return b.apply("where", seen, math.nan, m, position=position)
    if order == math.inf and distances and any(x.shape[a] == 0 for a in axes):  # cdist / pdist of no coordinates:
        return b.apply("mul", b.apply("sum", absx, axes=axes, keepdims=keepdims, position=position), 0.0,  # PyTorch's
                       position=position)  # 0 (the largest of no |difference|), not a max of nothing (session 52)
    if order in (math.inf, -math.inf):
        return b.apply("max" if order > 0 else "min", absx, axes=axes, keepdims=keepdims, position=position)
    if order == 0:
        nonzero = b.apply("sub", 1.0, b.apply("eq", x, 0.0, position=position), position=position)
        return b.apply("sum", nonzero, axes=axes, keepdims=keepdims, position=position)
    if not math.isfinite(order):
        raise JacValueError(f"vector norm: ord={order!r} is not a number", position)
    return b.apply("pnorm", x, ord=float(order), axes=axes, keepdims=keepdims, position=position)


MATRIX_ORDS = "'fro', 'nuc', 1, -1, 2, -2, inf, -inf"


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
    if order in (2, -2, "nuc"):  # the largest / smallest singular value, or their sum
        rest = tuple(i for i in range(x.ndim) if i not in axes)
        moved = x if rest + tuple(axes) == tuple(range(x.ndim)) else \
            b.apply("transpose", x, axes=rest + tuple(axes), position=position)
        _need_ndim("matrix norm", moved, tuple(range(2, 10)), position)
        _concrete(moved, "matrix norm", position)
        what = f"matrix norm (ord={order if isinstance(order, str) else int(order)!r})"
        if order == 2:  # σmax alone: its derivative u₁v₁ᵀ is defined at a singular matrix (not at 0)
            out = _guarded_svdvals(b, moved, what, position, top=True)
        else:
            s = _guarded_svdvals(b, moved, what, position)
            out = b.apply({-2: "min", "nuc": "sum"}[order], s, axes=(s.ndim - 1,), position=position)
        if not keepdims:
            return out
        return b.apply("reshape", out, shape=tuple(1 if i in axes else d for i, d in enumerate(x.shape)),
                       position=position)
    raise JacValueError(f"matrix norm: ord={order!r} is not supported; jac has {MATRIX_ORDS}", position)


def _linalg_norm_dims(x, order, axis_given: bool, axes: tuple, library, position) -> None:
    """np.linalg.norm's and torch.linalg.norm's dimensions (both raise alike): an ord without an axis needs a
    vector or a matrix (a 0-d or 3-d array is NumPy's ValueError "Improper number of dimensions to norm",
    PyTorch's RuntimeError); an axis names one or two dims; 'fro' and 'nuc' are matrix norms, of no vector."""
    numpy = library == "numpy"
    if axis_given and len(axes) > 2:
        raise JacShapeError(f"norm: axis {axes} names {len(axes)} axes, and a norm is of one (a vector) or two (a "
                            "matrix) (" + ("NumPy raises ValueError: Improper number of dimensions to norm" if numpy
                                           else "PyTorch raises RuntimeError: if dim is specified, it must be of "
                                           "length 1 or 2") + ")", position)
    if not axis_given and order is not None and x.ndim not in (1, 2):
        raise JacShapeError(f"norm with ord={order!r} needs a vector or a matrix, or axis=, got shape {fmt(x.shape)} ("
                            + ("NumPy raises ValueError: Improper number of dimensions to norm" if numpy else
                               "PyTorch raises RuntimeError: if dim is not specified but ord is, the input must be 1D "
                               "or 2D") + ")", position)
    if isinstance(order, str) and (len(axes) == 1 if axis_given else x.ndim == 1):
        raise JacValueError(f"norm: ord={order!r} is a matrix norm, and here the norm is of a vector (one axis) ("
                            + (f"NumPy raises ValueError: Invalid norm order {order!r} for vectors" if numpy else
                               "PyTorch raises RuntimeError: linalg.matrix_norm needs two dims") + ")", position)


def _norm_by(library):
    """norm(x, ord, axis): NumPy's np.linalg.norm and torch.linalg.norm read a numeric ord over
    two axes (or of a matrix without axes) as a matrix norm, torch.norm and x.norm() as the
    vector norm of those elements; a bare norm that could be either is refused."""
    def lower(b, args, kwargs, position, library=library):
        a = arguments("norm", args, kwargs, {"x": REQUIRED, "ord": None, "axis": None, "keepdims": False}, position)
        x = tensor(b, a["x"], "norm", position)
        order = static(b, a["ord"], "ord", position)
        axes = axes_of(b, a["axis"], x, position, "norm")
        keepdims = keepdims_of(b, a["keepdims"], position, kwargs=kwargs)
        if library in ("numpy", "torch.linalg"):
            _linalg_norm_dims(x, order, a["axis"] is not None, axes, library, position)
        if library is None and "p" in kwargs:  # p= is PyTorch's spelling
            library = "torch"
        if library is None and "ord" in kwargs:  # ord= is NumPy's (torch.norm has no ord)
            library = "numpy"
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
            return _vector_norm(b, x, order, axes, keepdims, position, torch_nan=library in ("torch", "method", "torch.linalg"))
        if library is None:  # ord 2 / -2 too: NumPy's spectral norm, torch.norm's 2-norm of the elements
            raise _ambiguous(f"norm(A, {order:g}) of a matrix", "torch.norm is the vector norm of all elements",
                             "np.linalg.norm (and torch.linalg.norm) the matrix norm",
                             "Write torch.norm, torch.linalg.vector_norm, np.linalg.norm or "
                             "torch.linalg.matrix_norm.", position)
        return _matrix_norm(b, x, order, axes, keepdims, position)
    return lower


FUNCTIONS["norm"] = _norm_by(None)
for _library in PER_LIBRARY:
    variant(_library, "norm")(_norm_by(_library))


@function("vector_norm")
def _vector_norm_fn(b, args, kwargs, position):
    a = arguments("vector_norm", args, kwargs, {"x": REQUIRED, "ord": 2, "axis": None, "keepdims": False}, position)
    x = tensor(b, a["x"], "vector_norm", position)
    keepdims = keepdims_of(b, a["keepdims"], position, kwargs=kwargs)
    if keepdims and written_as_float(b, a["axis"]) and (b.call or "").startswith(("np.", "numpy.")):
        # without keepdims NumPy calls int(axis); with it, it iterates the axis given: its TypeError
        raise JacValueError(f"np.linalg.vector_norm: axis must be an integer or a tuple of them, not the float "
                            f"{static(b, a['axis'], 'axis', position)!r}, with keepdims=True (NumPy raises TypeError: "
                            "'float' object is not iterable)", position)
    return _vector_norm(b, x, static(b, a["ord"], "ord", position), axes_of(b, a["axis"], x, position, "vector_norm"),
                        keepdims, position, torch_nan=b.library == "torch")


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
                        keepdims_of(b, a["keepdims"], position, kwargs=kwargs), position)


@function("dist")
def _dist(b, args, kwargs, position):
    a = arguments("dist", args, kwargs, {"x": REQUIRED, "y": REQUIRED, "ord": 2}, position)
    d = b.apply("sub", tensor(b, a["x"], "dist", position), tensor(b, a["y"], "dist", position), position=position)
    return _vector_norm(b, d, static(b, a["ord"], "p", position), tuple(range(d.ndim)), False, position,
                        torch_nan=b.library == "torch")


@function("normalize")
def _normalize(b, args, kwargs, position):
    """F.normalize: x / max(‖x‖_p, eps) along dim (1 by default, as PyTorch), PyTorch's x.norm(p, dim,
    keepdim=True): a tuple of dims is one vector norm over them, p='fro' the 2-norm (over at most two dims),
    p='nuc' the nuclear norm of the matrices over a 2-tuple of dims; dim=None every element (PyTorch's x.norm(p,
    None), 'fro' its 2-norm, 'nuc' a matrix's nuclear norm)."""
    a = arguments("normalize", args, kwargs, {"x": REQUIRED, "ord": 2.0, "axis": 1, "eps": 1e-12}, position)
    x = tensor(b, a["x"], "normalize", position)
    every = a["axis"] is None  # F.normalize(x, dim=None): x / ‖x‖ over every element (session 52)
    several = every or type(static(b, a["axis"], "dim", position)) is tuple
    axes = tuple(range(x.ndim)) if every else axes_of(b, a["axis"], x, position, "normalize") if several else \
        (_one_axis(b, a["axis"], x, position, "normalize"),)
    order = static(b, a["ord"], "p", position)
    # x/s / max(‖x/s‖, eps) with _square_scale's s: where ‖x‖ overflows (4e38 in float32) x / ‖x‖ is of order 1,
    # not x / inf = 0 (PyTorch's); s > 1 only where max |x| > 2**50, so ‖x/s‖ >= 1 > eps and the clamp is as before
    x = b.apply("div", x, _square_scale(b, x, axes, position), position=position)
    if order == "nuc" and len(axes) == 2:
        n = FUNCTIONS["matrix_norm"](b, [x], {"ord": Static("nuc"), "axis": Static(axes), "keepdims": True},
                                     position)
    else:
        if order == "fro" and (len(axes) <= 2 or every):  # PyTorch's norm: 'fro' over one or two dims (or every
            # element, dim=None) is the 2-norm
            order = 2.0
        n = _vector_norm(b, x, order, axes, True, position, torch_dim=True)
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
    if not shape:  # 0-d: PyTorch's dim 0 is one axis of length 1, summed away
        x1, x2 = (_reshape_to(b, t, (1,), position) for t in (x1, x2))
    eps = static(b, a["eps"], "eps", position)
    units = []
    for t in (x1, x2):  # t/s with _square_scale's s (1 unless max |t| > 2**50): t / ‖t‖ where ‖t‖ overflows
        t = b.apply("div", t, _square_scale(b, t, (axis,), position), position=position)
        n = b.apply("norm", t, axes=(axis,), keepdims=True, position=position)
        n = b.apply("add", n, b.apply("clamp_excess", n, eps, position=position), position=position)
        units.append(b.apply("div", t, n, position=position))
    return b.apply("sum", b.apply("mul", *units, position=position), axes=(axis,), position=position)


# --- losses (torch.nn.functional), with reduction= 'mean' (the default), 'sum' or 'none' ---

LOSS_LEGACY = ("size_average", "reduce")


# the parameters of F's losses after their arrays, in PyTorch's order: the deprecated size_average and reduce sit
# before reduction, so F.mse_loss(x, y, 'sum') is size_average='sum' there (PyTorch's mean, with a warning), never
# jac's reduction; a value by position is bound to PyTorch's name, then read (or refused) as that keyword
LOSS_POSITIONS = {
    "binary_cross_entropy": ("weight", "size_average", "reduce", "reduction"),
    "binary_cross_entropy_with_logits": ("weight", "size_average", "reduce", "reduction", "pos_weight"),
    "cosine_embedding_loss": ("margin", "size_average", "reduce", "reduction"),
    "cross_entropy": ("weight", "size_average", "ignore_index", "reduce", "reduction", "label_smoothing"),
    "hinge_embedding_loss": ("margin", "size_average", "reduce", "reduction"),
    "kl_div": ("size_average", "reduce", "reduction", "log_target"),
    "l1_loss": ("size_average", "reduce", "reduction", "weight"),
    "margin_ranking_loss": ("margin", "size_average", "reduce", "reduction"),
    "mse_loss": ("size_average", "reduce", "reduction", "weight"),
    "multi_margin_loss": ("p", "margin", "weight", "size_average", "reduce", "reduction"),
    "multilabel_margin_loss": ("size_average", "reduce", "reduction"),
    "multilabel_soft_margin_loss": ("weight", "size_average", "reduce", "reduction"),
    "nll_loss": ("weight", "size_average", "ignore_index", "reduce", "reduction"),
    "poisson_nll_loss": ("log_input", "full", "size_average", "eps", "reduce", "reduction"),
    "smooth_l1_loss": ("size_average", "reduce", "reduction", "beta"),
    "soft_margin_loss": ("size_average", "reduce", "reduction"),
    "triplet_margin_loss": ("margin", "p", "eps", "swap", "size_average", "reduce", "reduction"),
}


def _torch_positions(fname, args, kwargs, params, position) -> tuple:
    """``args`` past a loss's arrays bound by PyTorch's order (:data:`LOSS_POSITIONS`) as keywords."""
    order = LOSS_POSITIONS.get(fname)
    arrays = sum(1 for v in params.values() if v is REQUIRED)
    if order is None or len(args) <= arrays:
        return args, kwargs
    extra = args[arrays:]
    if len(extra) > len(order):
        raise JacParseError(f"{fname}() takes at most {arrays + len(order)} argument(s), got {len(args)}", position)
    kwargs = dict(kwargs)
    for key, value in zip(order, extra):
        if key in kwargs or ALIASES.get(key) in kwargs:
            raise JacParseError(f"{fname}() got argument '{key}' twice", position)
        kwargs[key] = value
    return args[:arrays], kwargs


def _loss_args(fname, args, kwargs, params, position):
    args, kwargs = _torch_positions(fname, args, kwargs, params, position)
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


def _fixed_weight(b, weight, kernel: str, argument: str, position) -> None:
    """PyTorch's loss kernels (``nll_loss_forward``, ``binary_cross_entropy``, ``multi_margin_loss``, ...) have no
    derivative by their class or element weights: a ``weight=`` (``pos_weight=``) that requires grad makes the call
    raise, though the mathematics has one (session 38; tests/test_views38.py)."""
    if type(weight) is Tracer and b.nodes[weight.id].requires_grad:
        raise JacValueError(f"PyTorch raises \"The function '{kernel}' is not differentiable with respect to argument "
                            f"'{argument}'. This input cannot have requires_grad True.\": pass {argument}= a tensor "
                            f"that does not require grad ({argument}.detach())", position)


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
    mask = b.apply("sub", 1.0, b.apply("ge", ad, width, position=position), position=position)
    # the quadratic branch reads d only where it is taken: at d = ±inf its derivative, 0 · inf, was NaN
    near = b.apply("where", mask, d, 0.0, position=position)
    inner = b.apply("mul", b.apply("mul", near, near, position=position), 0.5 * scale_quadratic, position=position)
    outer = b.apply("mul", b.apply("sub", ad, 0.5 * width, position=position), scale_linear, position=position)
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
    _fixed_weight(b, a["weight"], fname, "weight", position)
    loss = _weighted(b, _folded_at(position, lambda: b.apply("bce", x, t, position=position)), a["weight"], fname,
                     position)
    return _reduced_loss(b, loss, _reduction_of(b, a["reduction"], fname, position), position)


@function("binary_cross_entropy_with_logits")
def _bce_logits(b, args, kwargs, position):
    """(1 - t)·softplus(x) + pos_weight·t·softplus(-x), as PyTorch: written (1 - t)·x + w·softplus(-x) for
    x >= 0 and w·softplus(x) - pos_weight·t·x below, w = (pos_weight - 1)·t + 1 (each side's softplus of a
    number <= 0 never loses digits), so that the derivative by t is -x exactly, not softplus(-x) - softplus(x), whose
    two terms near log 2 cancel (all of x's digits lost below 1e-7 in float32)."""
    fname = "binary_cross_entropy_with_logits"
    a = _loss_args(fname, args, kwargs, {"x": REQUIRED, "target": REQUIRED, "weight": None, "reduction": Static("mean"),
                                         "pos_weight": None}, position)
    x, t = tensor(b, a["x"], fname, position), tensor(b, a["target"], fname, position)
    _same_shape(fname, x, t, position)
    _fixed_weight(b, a["weight"], fname, "weight", position)
    _fixed_weight(b, a["pos_weight"], fname, "pos_weight", position)
    if a["pos_weight"] is None:  # w = 1: no t - t, whose two cotangents would round against -x's
        pos_t, w = t, 1.0
    else:
        pw = tensor(b, a["pos_weight"], fname, position)
        pos_t = b.apply("mul", t, pw, position=position)
        w = b.apply("add", b.apply("mul", t, b.apply("sub", pw, 1.0, position=position), position=position), 1.0,
                    position=position)
    above = b.apply("add", b.apply("mul", b.apply("sub", 1.0, t, position=position), x, position=position),
                    b.apply("mul", w, b.apply("softplus", b.apply("neg", x, position=position), position=position),
                            position=position), position=position)
    below = b.apply("sub", b.apply("mul", w, b.apply("softplus", x, position=position), position=position),
                    b.apply("mul", pos_t, x, position=position), position=position)
    loss = b.apply("where", b.apply("ge", x, 0.0, position=position), above, below, position=position)
    loss = _weighted(b, loss, a["weight"], fname, position)
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
    _fixed_weight(b, weight, "nll_loss_forward" if logp.ndim <= 2 else "nll_loss2d_forward", "weight", position)
    axis, hot, hot_w, weight = _class_targets(b, logp, t, weight, ignore_index, fname, position)
    # the target's log-probability selected, not multiplied by the one-hot: 0 · (-inf) is NaN, and a class
    # masked with a -inf logit (or log-probability) is common; PyTorch picks it out
    target = b.apply("where", b.apply("ne", hot, 0.0, position=position), logp, 0.0, position=position)
    picked = b.apply("sum", b.apply("mul", hot_w, target, position=position), axes=(axis,), position=position)
    loss = b.apply("neg", picked, position=position)
    if label_smoothing:
        classes = logp.shape[axis]
        valid = b.apply("sum", hot, axes=(axis,), position=position)
        every = logp if weight is None else b.apply("mul", logp, weight, position=position)
        # an ignored sample's smoothing term is 0, not 0 · its sum (NaN at a -inf logit, and 0 · inf in the
        # derivative of a mean over no sample), as PyTorch masks it
        smooth = b.apply("where", b.apply("ne", valid, 0.0, position=position),
                         b.apply("mul", b.apply("sum", every, axes=(axis,), position=position), valid,
                                 position=position), 0.0, position=position)
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
    logp = log_softmax_of(b, x, (axis,), position)
    if _target_kind(x, t, fname, position) == "indices":
        return _nll(b, logp, t, a["weight"], _index_target_params(b, a, position), reduction, float(smoothing),
                    fname, position)
    if static(b, a["ignore_index"], "ignore_index", position) != -100:  # PyTorch refuses it: never ignored silently
        raise JacValueError("cross_entropy(): ignore_index is for class-index targets; the target here holds class "
                            "probabilities (the input's shape)", position)
    classes = x.shape[axis]
    if classes == 0:  # PyTorch's mean divides 0 by input.numel() / C = 0 / 0 (NaN), its sum is -0: no loss to give
        raise JacShapeError(f"cross_entropy: the input of shape {fmt(x.shape)} has no classes (axis {axis} is empty)",
                            position)
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


variant("torch", "kl_div")(_kl_div)  # F.kl_div, torch.nn.functional.kl_div, nn.KLDivLoss


@function("kl_div")
def _bare_kl_div(b, args, kwargs, position):
    """kl_div(x, y) without a library is refused: F.kl_div(input, target), t (log t - x) of log-probabilities
    reduced (mean), and scipy.special.kl_div(x, y), x log(x / y) - x + y element by element, share only the name."""
    raise JacValueError("kl_div(x, y) is ambiguous: PyTorch's F.kl_div(input, target) is a loss of log-probabilities "
                        "input against target, reduced (mean), SciPy's scipy.special.kl_div(x, y) is x log(x / y) - x "
                        "+ y element by element. Write F.kl_div or scipy.special.kl_div.", position)


# --- more statistics: NaN-aware sums, weighted averages, counts, quantiles, running extremes ---

def _nan_reduction(fname: str, mean: bool):
    """nansum / nanmean: NaN elements count as absent (their derivative is 0, as PyTorch's)."""
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "axis": None, "keepdims": False}, position)
        x = tensor(b, a["x"], fname, position)
        axes = axes_of(b, a["axis"], x, position, fname)
        keepdims = keepdims_of(b, a["keepdims"], position, kwargs=kwargs)
        if not mean and dtypes.kind_of(b, x.id) is not None:  # integers (dtype=int64 casts first): no NaN to drop
            return b.apply("sum", x, axes=axes, keepdims=keepdims, position=position)
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


def _nan_as(fname: str, fill: float, then: str):
    """np.nanprod / np.nancumsum / np.nancumprod: NaN elements replaced by the operation's identity (1 for
    products, 0 for sums), then NumPy's prod / cumsum / cumprod with its arguments; their derivative is 0."""
    def lower(b, args, kwargs, position):
        if not args:
            raise JacParseError(f"{fname}() needs an array", position)
        x = tensor(b, args[0], fname, position)
        kept = x if dtypes.kind_of(b, x.id) is not None else \
            b.apply("where", b.apply("eq", x, x, position=position), x, fill, position=position)  # integers: no NaN
        return (library_function("numpy", then) or FUNCTIONS[then])(b, [kept] + list(args[1:]), kwargs, position)
    return lower


variant("numpy", "nanprod")(_nan_as("nanprod", 1.0, "prod"))
variant("numpy", "nancumsum")(_nan_as("nancumsum", 0.0, "cumsum"))
variant("numpy", "nancumprod")(_nan_as("nancumprod", 1.0, "cumprod"))


@variant("numpy", "ediff1d")
def _ediff1d(b, args, kwargs, position):
    """np.ediff1d(x, to_end=None, to_begin=None): the differences of x flattened, with to_begin / to_end around."""
    a = arguments("ediff1d", args, kwargs, {"x": REQUIRED, "to_end": None, "to_begin": None}, position)
    x = tensor(b, a["x"], "ediff1d", position)
    flat = _reshape_to(b, x, (_numel(x, position),), position)
    n = flat.shape[0]
    parts = [b.apply("sub", _take(b, flat, (slice(1, None),), position), _take(b, flat, (slice(0, max(n - 1, 0)),),
                                                                               position), position=position)]
    for key, at in (("to_begin", 0), ("to_end", len(parts) + 1)):
        if a[key] is not None:
            extra = tensor(b, a[key], "ediff1d", position)
            parts.insert(at, _reshape_to(b, extra, (_numel(extra, position),), position))
    return parts[0] if len(parts) == 1 else _concat(b, parts, 0, "ediff1d", position)


@function("average")
def _average(b, args, kwargs, position):
    """np.average(a, axis=None, weights=None, returned=False, keepdims=False): Σ a·w / Σ w; 1-d weights lie
    along ``axis``; ``returned`` gives the pair (average, Σ w), Σ w broadcast to the average's shape (the
    count of elements averaged without weights), as NumPy."""
    a = arguments("average", args, kwargs, {"x": REQUIRED, "axis": None, "weights": None, "returned": False,
                                            "keepdims": False}, position)
    x = tensor(b, a["x"], "average", position)
    axes = axes_of(b, a["axis"], x, position, "average")
    keepdims = keepdims_of(b, a["keepdims"], position, kwargs=kwargs)
    returned = _flag(b, a["returned"], "returned", "average", position)
    if a["weights"] is None:
        mean = b.apply("mean", x, axes=axes, keepdims=keepdims, position=position)
        if not returned:
            return mean
        count = _numel(x, position) / _numel(mean, position) if _numel(mean, position) else 0.0
        return Items((mean, b.const(np.full(_concrete(mean, "average", position), count, dtype=b.dtype), position)))
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
    mean = b.apply("div", total, weight, position=position)
    return Items((mean, weight)) if returned else mean


@function("logcumsumexp")
def _logcumsumexp(b, args, kwargs, position):
    """s_i = m_i + log(sum_{j <= i} exp(x_j - m_i)) along dim, m_i the running maximum (cummax) of the line:
    each prefix shifted by its own maximum, as PyTorch's scan, so no prefix underflows (a shift by the line's
    maximum made ``logcumsumexp([1, 1000, 2])[0]`` -inf where it is 1). The sums are of an n x n lower
    triangle per line. Where the running sum is 0 (the prefix all -inf) the value is -inf and the log is
    taken of 1 instead, so its derivative (0 / 0) does not spread NaN into the other outputs' derivatives."""
    a = arguments("logcumsumexp", args, kwargs, {"x": REQUIRED, "axis": REQUIRED}, position)
    x = tensor(b, a["x"], "logcumsumexp", position)
    axis = _one_axis(b, a["axis"], x, position, "logcumsumexp")  # of a 0-d too: PyTorch's range there is [-1, 0]
    if x.ndim == 0:
        return x
    if isinstance(x.shape[axis], int) and x.shape[axis] == 0:
        return x
    shape = _concrete(x, "logcumsumexp", position)
    n, before, after = shape[axis], shape[:axis], shape[axis + 1:]
    idx = b.apply("argcum", x, axis=axis, minimum=False, position=position)
    m = b.apply("take_along", x, idx, axis=axis, position=position)
    # prefixes of NaN or ±inf: no shift (-inf - -inf would be NaN)
    m = b.apply("where", b.apply("isfinite", m, position=position), m, 0.0, position=position)
    x_j = b.apply("reshape", x, shape=before + (1, n) + after, position=position)
    m_i = b.apply("reshape", m, shape=before + (n, 1) + after, position=position)
    lower = boolean(b, b.const(np.tril(np.ones((n, n))).reshape((n, n) + (1,) * len(after)).astype(b.dtype), position))
    d = b.apply("where", lower, b.apply("sub", x_j, m_i, position=position), -math.inf, position=position)
    c = b.apply("sum", b.apply("exp", d, position=position), axes=(axis + 1,), position=position)
    empty = b.apply("eq", c, 0.0, position=position)
    safe = b.apply("log", b.apply("where", empty, 1.0, c, position=position), position=position)
    return b.apply("where", empty, -math.inf, b.apply("add", safe, m, position=position), position=position)


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
    first = b.apply("argsort", x, axis=axis, k=k, kind="torch-kth", position=position)  # a tie at k: refused (ops)
    idx = b.apply("getitem", first, index=(slice(None),) * axis + (slice(k - 1, k),), position=position)
    keepdims = keepdims_of(b, a["keepdims"], position, kwargs=kwargs)
    return Pair(_selection(b, x, idx, axis, keepdims, position),
                {"values": lambda: _selection(b, x, idx, axis, keepdims, position),
                 "indices": lambda: _squeezed(b, idx, axis, keepdims, position)}, "torch", "kthvalue")


def _statistic_and_mean(fname: str):
    """var_mean / std_mean: the pair (statistic, mean), as torch.var_mean."""
    stat = _var_std(fname[:3])("torch")

    def lower(b, args, kwargs, position):
        out = stat(b, args, kwargs, position)
        args, kwargs = _spread_positions(fname, "torch", args, kwargs, position)  # the mean's keepdim as the statistic's
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "axis": None, "correction": None, "unbiased": None,
                                            "keepdims": False}, position)
        x = tensor(b, a["x"], fname, position)
        mean = b.apply("mean", x, axes=axes_of(b, a["axis"], x, position, fname),
                       keepdims=keepdims_of(b, a["keepdims"], position, kwargs=kwargs), position=position)
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


QUANTILE_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile_q(b, a, lower, fname, scale, methods, position):
    """The quantile family's q and interpolation, checked: `(q in [0, 1], method)`, or for a list of q the
    quantiles stacked along a new first axis (as NumPy and PyTorch), each lowered by `lower`."""
    q = static(b, a["q"], "q", position)
    if type(q) is tuple and q and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in q):
        rest = {k: a[k] for k in ("axis", "keepdims", "interpolation")}
        return _stack(b, [Items([lower(b, [a["x"], float(v)], rest, position) for v in q])], {"axis": 0},
                      position)
    if isinstance(q, bool) or not isinstance(q, (int, float)) or not 0 <= q / scale <= 1:
        got = f"{q:g}" if isinstance(q, (int, float)) and not isinstance(q, bool) else repr(q)
        raise JacValueError(f"{fname}: q must be in [0, {int(scale)}] (a number or a list of numbers), got {got}",
                            position)
    method = static(b, a["interpolation"], "interpolation", position)
    if method not in methods:
        raise JacValueError(f"{fname}: interpolation must be one of {', '.join(methods)}, got {method!r}",
                            position)
    return q / scale, method


def _jax_kept_0d(b, out, position):
    """JAX's quantile, percentile, nanquantile, nanpercentile and nanmedian of a 0-d array with keepdims=True end
    in an axis of one, (1,) for one q (it ravels the array first), where NumPy's keep no axis (): jnp's shape
    (session 50, nprog38_fuzz seed 4963)."""
    return _reshape_to(b, out, tuple(out.shape) + (1,), position)


def quantile_reading(b) -> str:
    """Whose quantile a call computes: ``"torch"`` (``torch.quantile``, ``x.quantile()``, ``torch.nanquantile``),
    ``"jax"`` (``jnp.`` / ``jax.numpy.``) or ``"numpy"`` (``np.``, a bare call). The three agree on the rank,
    q·(n - 1), and differ where an infinite element meets the interpolation and at ties of 'nearest'
    (:func:`interpolated_quantile`)."""
    if (b.call or "").startswith(("torch.", ".")):
        return "torch"
    return "jax" if jax_spelled(b) else "numpy"


def interpolated_quantile(b, lo, hi, w, method: str, reading: str, position):
    """'linear' / 'midpoint' between the sorted elements ``lo`` and ``hi`` at weight ``w`` (of ``hi``), as each
    library computes it. NumPy and PyTorch: their lerp, ``lo + (hi - lo)·w`` below w = 1/2 and
    ``hi - (hi - lo)·(1 - w)`` from it on (0 · inf is NaN, so an infinite element beside the rank gives NaN
    even at a weight of 0); JAX: ``lo·(1 - w) + hi·w``, and ``(lo + hi)·0.5`` for 'midpoint'. The caller
    picks ``hi`` and ``w`` as the library does (:func:`quantile_neighbours`)."""
    if reading == "jax":
        if method == "midpoint":
            return b.apply("mul", b.apply("add", lo, hi, position=position), 0.5, position=position)
        low = b.apply("sub", 1.0, w, position=position) if isinstance(w, Tracer) else 1.0 - w
        return b.apply("add", b.apply("mul", lo, low, position=position), b.apply("mul", hi, w, position=position),
                       position=position)
    gap = b.apply("sub", hi, lo, position=position)
    up = b.apply("sub", hi, b.apply("mul", gap, b.apply("sub", 1.0, w, position=position) if isinstance(w, Tracer)
                                     else 1.0 - w, position=position), position=position)
    down = b.apply("add", lo, b.apply("mul", gap, w, position=position), position=position)
    if not isinstance(w, Tracer):
        return up if w >= 0.5 else down
    return b.apply("where", b.apply("ge", w, 0.5, position=position), up, down, position=position)


def quantile_neighbours(pos: float, n: int, method: str, reading: str) -> tuple:
    """``(lo, hi, w)`` for 'linear' / 'midpoint' at the rank ``pos`` of ``n`` sorted elements: NumPy's previous
    and next element (floor, floor + 1; at the last rank the last element twice, at the weight pos + 1, as
    NumPy's index -1 makes it) at the weight pos - floor (for 'midpoint' 0.5, or 0 at a whole rank);
    PyTorch's and JAX's floor and ceil at pos - floor (PyTorch's 'midpoint' 0.5 even at a whole rank, JAX's
    has no weight)."""
    lo = math.floor(pos)
    whole = pos == lo
    if reading == "numpy":
        if pos >= n - 1:
            return n - 1, n - 1, 0.0 if method == "midpoint" else pos + 1.0
        return lo, lo + 1, (0.0 if whole else 0.5) if method == "midpoint" else pos - lo
    return lo, math.ceil(pos), 0.5 if method == "midpoint" else pos - lo


def _quantile(fname: str, scale: float):
    """quantile(x, q, dim=None, keepdim=False, interpolation='linear') (NumPy: axis=, method=), and
    np.percentile (q in percent): between the sorted elements at floor and ceil of q·(n - 1), as the
    library called computes it (:func:`quantile_reading`); a line holding NaN gives its NaN (the
    derivative goes to it, as PyTorch's)."""
    def lower(b, args, kwargs, position):
        kwargs = {("interpolation" if k == "method" else k): v for k, v in kwargs.items()}
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "q": REQUIRED, "axis": None, "keepdims": False,
                                            "interpolation": Static("linear")}, position)
        x = tensor(b, a["x"], fname, position)
        q = _quantile_q(b, a, lower, fname, scale, QUANTILE_METHODS, position)
        if not isinstance(q, tuple):
            return q
        q, method = q
        keepdims = keepdims_of(b, a["keepdims"], position, kwargs=kwargs)
        if a["axis"] is None and keepdims and x.ndim:  # over every element, kept as ones: (1, 1) of a matrix
            flat = lower(b, [x, a["q"]], {"interpolation": a["interpolation"]}, position)
            return b.apply("reshape", flat, shape=flat.shape + (1,) * x.ndim, position=position)
        if keepdims and x.ndim == 0 and a["axis"] is None and jax_spelled(b):
            return _jax_kept_0d(b, lower(b, [x, a["q"]], {"interpolation": a["interpolation"]}, position), position)
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
        reading = quantile_reading(b)

        def at(i):
            return b.apply("getitem", srt, index=(slice(None),) * axis + (slice(i, i + 1),), position=position)

        if method == "lower":
            out = at(lo)
        elif method == "nearest":  # the rank rounded half to even (NumPy, PyTorch), half down (JAX: w <= 1/2)
            out = at(lo if pos - lo <= 0.5 else hi) if reading == "jax" else at(int(np.round(pos)))
        elif method == "higher":
            out = at(hi)
        else:
            lo, hi, w = quantile_neighbours(pos, n, method, reading)
            out = interpolated_quantile(b, at(lo), at(hi), w, method, reading, position)
        clean = b.apply("prod", b.apply("eq", x, x, position=position), axes=(axis,), keepdims=True,
                        position=position)
        out = b.apply("where", clean, out, at(n - 1), position=position)  # NaN sorts last: PyTorch takes it
        return _squeezed(b, out, axis, keep, position)
    return lower


FUNCTIONS["quantile"] = _quantile("quantile", 1.0)
FUNCTIONS["percentile"] = _quantile("percentile", 100.0)
variant("numpy", "quantile")(_tuple_axis(_quantile("quantile", 1.0), "quantile", 2))  # np.quantile(x, q, axis=(0, 1))
variant("numpy", "percentile")(_tuple_axis(_quantile("percentile", 100.0), "percentile", 2))


# --- distances ---

@function("pairwise_distance")
def _pairwise_distance(b, args, kwargs, position):
    """F.pairwise_distance(x1, x2, p=2, eps=1e-6, keepdim=False): ‖x1 - x2 + eps‖_p along the last axis."""
    a = arguments("pairwise_distance", args, kwargs, {"x1": REQUIRED, "x2": REQUIRED, "ord": 2.0, "eps": 1e-6,
                                                      "keepdims": False}, position)
    x1, x2 = tensor(b, a["x1"], "pairwise_distance", position), tensor(b, a["x2"], "pairwise_distance", position)
    d = b.apply("add", b.apply("sub", x1, x2, position=position), static(b, a["eps"], "eps", position),
                position=position)
    keepdim = keepdims_of(b, a["keepdims"], position, "keepdim", kwargs=kwargs)
    if d.ndim == 0:  # PyTorch's distance of scalars is a scalar, keepdim or not
        d, keepdim = b.apply("reshape", d, shape=(1,), position=position), False
    return _vector_norm(b, d, static(b, a["ord"], "p", position), (d.ndim - 1,), keepdim, position, torch_dim=True)


@function("cdist")
def _cdist(b, args, kwargs, position):
    """torch.cdist(x1 (..., P, M), x2 (..., R, M), p=2, compute_mode=...): the (..., P, R) p-norm distances,
    from the differences (PyTorch's 'donot_use_mm_for_euclid_dist'; its matrix-product modes, which lose digits
    to cancellation for near points, give the same distances up to that rounding)."""
    a = arguments("cdist", args, kwargs, {"x1": REQUIRED, "x2": REQUIRED, "ord": 2.0, "compute_mode": None},
                  position)
    modes = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")
    mode = None if a["compute_mode"] is None else static(b, a["compute_mode"], "compute_mode", position)
    if mode is not None and mode not in modes:
        raise JacValueError(f"cdist: compute_mode must be one of {', '.join(repr(m) for m in modes)}, got {mode!r}",
                            position)
    x1, x2 = tensor(b, a["x1"], "cdist", position), tensor(b, a["x2"], "cdist", position)
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise JacShapeError(f"cdist needs (..., P, M) and (..., R, M), got {fmt(x1.shape)} and {fmt(x2.shape)}",
                            position)
    left = b.apply("reshape", x1, shape=x1.shape[:-1] + (1, x1.shape[-1]), position=position)
    right = b.apply("reshape", x2, shape=x2.shape[:-2] + (1,) + x2.shape[-2:], position=position)
    d = b.apply("sub", left, right, position=position)
    p = static(b, a["ord"], "p", position)
    if isinstance(p, (int, float)) and not isinstance(p, bool) and p < 0:  # as pdist (session 52: jac answered)
        raise JacValueError(f"cdist: p must be >= 0, got {p!r} (PyTorch raises RuntimeError: cdist only supports "
                            "non-negative p values)", position)
    return _vector_norm(b, d, p, (d.ndim - 1,), False, position, distances=True)


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
    # clamp_min(0), as PyTorch: at the kink the derivative passes (relu's would be 0)
    return b.apply("clip", b.apply("add", d, static(b, a["margin"], "margin", position), position=position), 0.0,
                   math.inf, position=position)


def _hinge_embedding(b, a, position):
    f = "hinge_embedding_loss"
    x, y = _arg_tensor(b, a, "x", f, position), _arg_tensor(b, a, "target", f, position)
    margin = b.apply("clip", b.apply("sub", static(b, a["margin"], "margin", position), x, position=position),
                     0.0, math.inf, position=position)  # clamp_min(0), as PyTorch (the kink passes)
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
    neg = b.apply("clip", b.apply("sub", cos, static(b, a["margin"], "margin", position), position=position),
                  0.0, math.inf, position=position)  # clamp_min(0), as PyTorch (the kink passes)
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


def _called(b, fn, args: list, fname: str, position) -> Tracer:
    """A function passed as an argument, called on ``args``: a ``lambda`` or ``def`` of the text (the parser's
    Function, written out by its ``call_function``) or a torch.nn module (``nn.PairwiseDistance()``)."""
    if hasattr(fn, "bind") and hasattr(fn, "result") and b.lowering is not None:
        out = b.lowering.call_function(fn, list(args), {}, position)
    elif hasattr(fn, "call") and hasattr(fn, "cls"):
        out = fn.call(b, list(args), {}, position)
    else:
        raise JacValueError(f"{fname}(): distance_function must be None, a lambda or def of the text "
                            "(lambda a, b: F.pairwise_distance(a, b, p=1)) or an nn module such as "
                            "nn.PairwiseDistance()", position)
    if type(out) is not Tracer:
        raise JacValueError(f"{fname}(): distance_function must return one array of distances", position)
    return out


def _triplet_with_distance(b, a, position):
    """margin + d(a, p) - d(a, n), clamped at 0, as PyTorch's Python code (d = pairwise_distance by default)."""
    f = "triplet_margin_with_distance_loss"
    anchor, pos, neg = (_arg_tensor(b, a, k, f, position) for k in ("anchor", "positive", "negative"))
    if not anchor.ndim == pos.ndim == neg.ndim:
        raise JacShapeError(f"{f}: the anchor, positive and negative must have the same number of dimensions, got "
                            f"{anchor.ndim}-d, {pos.ndim}-d and {neg.ndim}-d", position)
    margin = _number(b, a["margin"], "margin", position)
    if not margin > 0:
        raise JacValueError(f"{f}(): margin must be greater than 0 (as PyTorch), got {margin}", position)
    fn = a["distance_function"]

    def dist(u, v):
        return _pairwise_distance(b, [u, v], {}, position) if fn is None else _called(b, fn, [u, v], f, position)

    d_pos, d_neg = dist(anchor, pos), dist(anchor, neg)
    if _flag(b, a["swap"], "swap", f, position):
        d_neg = b.apply("minimum", d_neg, dist(pos, neg), position=position)
    gap = b.apply("sub", b.apply("add", d_pos, margin, position=position), d_neg, position=position)
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
        # computed on the target where it is > 1 and on 2 elsewhere (the value there is masked): the term is 0 around
        # a target <= 1, and its derivative 0 in both modes; on t itself the masked 0 cotangent met log's infinite
        # partial at a target of 0 or a subnormal (0 · inf = NaN; PyTorch 0 at a subnormal, its g / x). Session 40
        above = b.apply("gt", t, 1.0, position=position)
        safe = b.apply("where", above, t, 2.0, position=position)
        stirling = b.apply("add", b.apply("sub", b.apply("xlogx", safe, position=position), safe, position=position),
                           b.apply("mul", 0.5, b.apply("log", b.apply("mul", 2 * math.pi, safe, position=position),
                                                       position=position), position=position), position=position)
        loss = b.apply("add", loss, b.apply("where", above, stirling, 0.0, position=position), position=position)
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
FUNCTIONS["triplet_margin_with_distance_loss"] = _target_loss(
    "triplet_margin_with_distance_loss", {"anchor": REQUIRED, "positive": REQUIRED, "negative": REQUIRED,
                                          "distance_function": None, "margin": 1.0, "swap": False},
    _triplet_with_distance)
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
    """diff(x, n=1, dim=-1, prepend=None, append=None): differences of neighbours along ``dim``, ``n``
    times, of x with prepend and append joined to it along dim (a number fills one slice, as NumPy); of a
    mask, neighbours that differ (a mask, as NumPy and PyTorch)."""
    a = arguments("diff", args, kwargs, {"x": REQUIRED, "n": 1, "axis": -1, "prepend": None, "append": None},
                  position)
    x = tensor(b, a["x"], "diff", position)
    if x.ndim == 0:
        raise JacShapeError("diff needs at least a vector, got a scalar", position)
    n = static_int(b, a["n"], "n", position)
    if n < 0:
        raise JacValueError(f"diff(): n must be >= 0, got {n}", position)
    axis = _one_axis(b, a["axis"], x, position, "diff")
    if n == 0:  # NumPy and PyTorch return x as it is, prepend and append not joined
        return x
    if written_as_float(b, a["n"]) and (b.call or "").startswith(("np.", "numpy.")):  # np.diff(x, 0.0) answers
        raise JacValueError(f"np.diff: n must be an integer, not the float {n + 0.0!r} (NumPy raises TypeError: "
                            "'float' object cannot be interpreted as an integer)", position)
    if a["prepend"] is not None or a["append"] is not None:
        x = _diff_ends(b, x, axis, a["prepend"], a["append"], position)
    for _ in range(n):
        if isinstance(x.shape[axis], int) and x.shape[axis] == 0:
            break
        mask = is_boolean(b, x)  # of booleans, NumPy's and PyTorch's diff is their exclusive or (!=), a mask
        x = b.apply("ne" if mask else "sub", _line(b, x, axis, slice(1, None), position),
                    _line(b, x, axis, slice(None, -1), position), position=position)
        x = boolean(b, x) if mask else x
    return x


def _diff_ends(b, x, axis, prepend, append, position) -> Tracer:
    parts = []
    for value in (prepend, x, append):
        if value is None:
            continue
        t = tensor(b, value, "diff", position)
        mask = type(value) is bool or is_boolean(b, t)  # prepend=True: a bool, as NumPy makes it
        if t.ndim == 0:  # one slice of that value along the axis
            t = b.apply("broadcast_to", t, shape=tuple(1 if i == axis else d for i, d in enumerate(x.shape)),
                        position=position)
        t = boolean(b, t) if mask else t
        if t.ndim != x.ndim or any(d != e for i, (d, e) in enumerate(zip(t.shape, x.shape)) if i != axis):
            raise JacShapeError(f"diff: prepend/append of shape {fmt(t.shape)} must match x {fmt(x.shape)} except "
                                f"along axis {axis}", position)
        parts.append(t)
    return _concat(b, parts, axis, "diff", position)


@function("trapezoid", "trapz")
def _trapezoid(b, args, kwargs, position):
    """The trapezoidal rule along ``dim`` (-1): Σ (x_(i+1) - x_i)(y_i + y_(i+1)) / 2, or with spacing dx."""
    a = arguments("trapezoid", args, kwargs, {"y": REQUIRED, "x": None, "dx": None, "axis": -1}, position)
    y = tensor(b, a["y"], "trapezoid", position)
    if y.ndim == 0:
        raise JacShapeError("trapezoid needs at least a vector, got a scalar", position)
    axis = _one_axis(b, a["axis"], y, position, "trapezoid")
    dx = None if a["x"] is not None else 1.0 if a["dx"] is None else static(b, a["dx"], "dx", position)  # x wins
    terms, _ = _trapezoids(b, y, axis, a["x"], dx, "trapezoid", position)
    return b.apply("sum", terms, axes=(axis,), position=position)


def _trapezoids(b, y, axis: int, x, dx, fname: str, position, strict: bool = False) -> tuple:
    """``(terms, mids)``: each trapezoid's area along ``axis``, ``(x_(i+1) - x_i)(y_i + y_(i+1)) / 2`` (or ``dx``
    for the step when ``x`` is None), and the sums ``y_i + y_(i+1)``. A vector ``x`` beside an array ``y`` is laid
    along ``axis``; with ``strict`` one of another length is refused here (else broadcasting refuses it later)."""
    mids = b.apply("add", _line(b, y, axis, slice(1, None), position), _line(b, y, axis, slice(None, -1), position),
                   position=position)
    if x is None:
        step = dx
    else:
        x = tensor(b, x, fname, position)
        if x.ndim == 1 and y.ndim > 1:
            if strict and x.shape[0] != y.shape[axis]:
                raise JacShapeError(f"{fname}: x of shape {fmt(x.shape)} must have the length of y's "
                                    f"axis {axis}, {y.shape[axis]}", position)
            x = b.apply("reshape", x, shape=tuple(d if i == axis else 1 for i, d in enumerate(y.shape)) if
                        x.shape[0] == y.shape[axis] else x.shape, position=position)
        step = _diff(b, [x], {"axis": axis if x.ndim == y.ndim else -1}, position)
    return b.apply("mul", b.apply("mul", mids, step, position=position), 0.5, position=position), mids


@function("ptp")
def _ptp(b, args, kwargs, position):
    """np.ptp: max - min (amax and amin: ties share the derivative)."""
    return b.apply("sub", FUNCTIONS["amax"](b, args, kwargs, position), FUNCTIONS["amin"](b, args, kwargs, position),
                   position=position)


def _cov_weights(b, value, kind: str, observations: int, fname, position):
    """``fweights`` / ``aweights`` as NumPy and PyTorch check them: 1-d, one per observation, never negative
    (``fweights`` whole numbers). A constant is checked here; an input when the expression runs, where a
    weight that fails makes the whole result and its derivatives NaN (NumPy and PyTorch raise)."""
    w = tensor(b, value, fname, position)
    if w.ndim != 1 or w.shape[0] != observations:
        raise JacShapeError(f"{fname}(): {kind} must be 1-d with one weight per observation ({observations}), "
                            f"got shape {fmt(w.shape)}", position)
    whole = kind == "fweights"
    node = b.nodes[w.id]
    if node.op == "const":
        values = np.asarray(node.value, dtype=np.float64)
        if whole and not np.all(values == np.round(values)):
            raise JacValueError(f"{fname}(): fweights must be whole numbers (counts), got {values.tolist()}", position)
        if np.any(values < 0) or np.any(np.isnan(values)):
            raise JacValueError(f"{fname}(): {kind} cannot be negative, got {values.tolist()}", position)
        return w, None
    bad = b.apply("lt", w, 0.0, position=position)
    if whole and dtypes.kind_of(b, w.id) is None:  # a float input: its values must be counts
        bad = logical("or", b, [boolean(b, bad), boolean(b, b.apply("ne", w, b.apply("round", w, position=position),
                                                                     position=position))], position)
    return w, FUNCTIONS["any"](b, [bad], {}, position)


def _covariance(b, args, kwargs, position, fname):
    """NumPy's cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None) and
    torch.cov(x, correction=1, fweights=None, aweights=None) (the same formula): the rows of ``x`` (and of
    ``y``, joined below them) are the variables, the columns the observations; with weights w = fweights ·
    aweights, the mean is weighted and the sum of products divided by Σw - ddof (Σw - ddof·Σ(w·aweights)/Σw
    with aweights); a divisor of 0 or less is 0, so the result is inf or NaN, as NumPy's."""
    a = arguments(fname, args, kwargs, {"x": REQUIRED, "y": None, "rowvar": True, "bias": False, "ddof": None,
                                        "fweights": None, "aweights": None, "correction": None}, position)
    x = tensor(b, a["x"], fname, position)
    rowvar = static(b, a["rowvar"], "rowvar", position)
    rows = _variables(b, x, rowvar, x.ndim != 1, "x", fname, position)
    if a["y"] is not None:
        y = _variables(b, tensor(b, a["y"], fname, position), rowvar, None, "y", fname, position)
        if y.shape[1] != rows.shape[1]:
            raise JacShapeError(f"{fname}(): x has {rows.shape[1]} observations per variable and y "
                                f"{y.shape[1]}; they must match", position)
        rows = _concat(b, [rows, y], 0, fname, position)
    count = rows.shape[1]
    ddof = next((static(b, a[k], k, position) for k in ("ddof", "correction") if a[k] is not None), None)
    if ddof is None:
        ddof = 0 if static(b, a["bias"], "bias", position) else 1
    if not isinstance(ddof, (int, float)):  # cov(x, None, True, False, None, None, None, dtype): JAX's 8th
        raise JacValueError(f"{fname}(): ddof must be a number, got {getattr(ddof, 'name', ddof)!r} (a dtype is "
                            "given by keyword, dtype=...)", position)
    weights, checks = [], []
    for kind in ("fweights", "aweights"):
        if a[kind] is not None:
            w, bad = _cov_weights(b, a[kind], kind, count, fname, position)
            weights.append(w)
            checks += [bad] if bad is not None else []
    if not weights:
        mean = b.apply("mean", rows, axes=(1,), keepdims=True, position=position)
        fact = float(max(count - ddof, 0))
        w = None
    else:
        w = weights[0] if len(weights) == 1 else b.apply("mul", weights[0], weights[1], position=position)
        w_sum = b.apply("sum", w, axes=(0,), keepdims=False, position=position)
        mean = b.apply("div", b.apply("sum", b.apply("mul", rows, w, position=position), axes=(1,), keepdims=True,
                                      position=position), w_sum, position=position)
        if ddof == 0:
            fact = w_sum
        elif a["aweights"] is None:
            fact = b.apply("sub", w_sum, float(ddof), position=position)
        else:
            spread = b.apply("sum", b.apply("mul", w, weights[-1], position=position), axes=(0,), keepdims=False,
                             position=position)
            fact = b.apply("sub", w_sum, b.apply("div", b.apply("mul", spread, float(ddof), position=position),
                                                 w_sum, position=position), position=position)
        fact = b.apply("where", b.apply("gt", fact, 0.0, position=position), fact, 0.0, position=position)
    d = b.apply("sub", rows, mean, position=position)
    dw = d if w is None else b.apply("mul", d, w, position=position)
    c = b.apply("div", b.apply("matmul", d, transpose_all(b, dw, position), position=position), fact,
                position=position)
    for bad in checks:  # NaN, and NaN derivatives, where a weight bound as an input fails its check
        c = b.apply("mul", c, b.apply("where", bad, math.nan, 1.0, position=position), position=position)
    # one variable: a 0-d result, as NumPy's c.squeeze() and torch.cov
    return b.apply("reshape", c, shape=(), position=position) if rows.shape[0] == 1 else c


def _variables(b, x, rowvar, transpose, name, fname, position) -> Tracer:
    """``x`` as NumPy's cov reads it: at least 2-d (a vector is one variable, a number one observation of
    one), its rows the variables; with ``rowvar`` false the columns are (``transpose``: for ``x`` when it is
    not a vector, for ``y`` when it has more than one row, as NumPy 2 decides)."""
    if x.ndim > 2:
        raise JacShapeError(f"{fname} needs a vector or a matrix, got {name} of shape {fmt(x.shape)}", position)
    if x.ndim < 2:
        x = b.apply("reshape", x, shape=(1,) * (2 - x.ndim) + tuple(x.shape), position=position)
    if transpose is None:
        transpose = x.shape[0] != 1
    return transpose_all(b, x, position) if not rowvar and transpose else x


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


# --- layers of torch.nn.functional: linear, normalization, dropout, glu, embedding, attention ---
#
# Each lowers onto existing ops (matmul, mean, rsqrt, softmax, getitem...), which carry the
# derivatives; the checks refuse what PyTorch refuses, naming the function and the argument.

def _flag(b, value, what: str, fname, position) -> bool:
    v = static(b, value, what, position)
    if not isinstance(v, (bool, int, float)):
        raise JacValueError(f"{fname}(): {what} must be True or False, got {v!r}", position)
    return bool(v)


def _optional(b, value, fname, position):
    return None if value is None else tensor(b, value, fname, position)


def _per_channel(b, t: Tracer, what: str, x: Tracer, fname, position) -> Tracer:
    """A (C,) weight, bias or running statistic shaped to broadcast along axis 1 of ``x``."""
    channels = x.shape[1]
    if t.shape != (channels,):
        raise JacShapeError(f"{fname}: {what} must have one entry per channel ({channels},), got {fmt(t.shape)}",
                            position)
    return _reshape_to(b, t, (channels,) + (1,) * (x.ndim - 2), position)


def _affine(b, y: Tracer, weight, bias, position) -> Tracer:
    if weight is not None:
        y = b.apply("mul", y, weight, position=position)
    return y if bias is None else b.apply("add", y, bias, position=position)


def _square_scale(b, x: Tracer, axes: tuple, position):
    """A constant s over ``axes`` (kept as axes of size 1, op ``square_scale``): max |x| where it passes 2**50,
    else exactly 1, so that a norm may square x / s where x² overflows. PyTorch's float32 norms give NaN there (a
    square's inf minus inf) and jac gave 0 silently (1/sqrt(inf)); scaled, the answer is the exact arithmetic's.
    The norms are invariant under the scale but for eps, which is divided by s² too; s is a constant (no
    derivative; its SymPy translation is 1), and 1 leaves every bit of the unscaled arithmetic as it was."""
    return b.apply("square_scale", x, axes=tuple(axes), position=position)


def _standardized(b, x: Tracer, axes: tuple, eps: float, position) -> Tracer:
    """(x - mean) / sqrt(var + eps) over ``axes``, the variance biased (divided by n), as PyTorch's norms;
    computed as (x/s - mean(x/s)) / sqrt(var(x/s) + eps/s²) with :func:`_square_scale`'s s."""
    s = _square_scale(b, x, axes, position)
    x = b.apply("div", x, s, position=position)
    d = b.apply("sub", x, b.apply("mean", x, axes=axes, keepdims=True, position=position), position=position)
    var = b.apply("mean", b.apply("mul", d, d, position=position), axes=axes, keepdims=True, position=position)
    eps = b.apply("div", eps, b.apply("mul", s, s, position=position), position=position)
    return b.apply("mul", d, b.apply("rsqrt", b.apply("add", var, eps, position=position), position=position),
                   position=position)


def _eps(b, value, fname, position, default=None) -> float:
    eps = static(b, value, "eps", position) if value is not None else default
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not eps >= 0:
        raise JacValueError(f"{fname}(): eps must be a number >= 0, got {eps!r}", position)
    return float(eps)


def _broadcasts_to(shape: tuple, target: tuple) -> bool:
    """Whether an array of ``shape`` broadcasts to ``target`` without growing it (a bias, a mask)."""
    from ..ir.shapes import broadcast

    try:
        return broadcast(target, shape) == tuple(target)
    except JacShapeError:
        return False


@function("linear")
def _linear(b, args, kwargs, position):
    """F.linear(x, W, b=None): x Wᵀ + b, W of shape (out, in), or (in,) for one output."""
    a = arguments("linear", args, kwargs, {"x": REQUIRED, "weight": REQUIRED, "bias": None}, position)
    x, w = tensor(b, a["x"], "linear", position), tensor(b, a["weight"], "linear", position)
    one_dtype(b, "linear", (x, w), position)
    if w.ndim not in (1, 2) or x.ndim == 0 or x.shape[-1] != w.shape[-1]:
        raise JacShapeError(f"linear: weight must be (out, in) or (in,) with in = the input's last size, got input "
                            f"{fmt(x.shape)} and weight {fmt(w.shape)}", position)
    y = b.apply("matmul", x, transpose_all(b, w, position) if w.ndim == 2 else w, position=position)
    bias = _optional(b, a["bias"], "linear", position)
    if bias is None:
        return y
    if not _broadcasts_to(bias.shape, y.shape):
        raise JacShapeError(f"linear: bias of shape {fmt(bias.shape)} does not broadcast to the output's "
                            f"{fmt(y.shape)}", position)
    return b.apply("add", y, bias, position=position)


def _normalized_axes(b, value, x: Tracer, fname, position) -> tuple:
    shape = static_ints(b, value, "normalized_shape", position)
    if not shape:
        raise JacValueError(f"{fname}(): normalized_shape must have at least one size", position)
    if len(shape) > x.ndim or tuple(x.shape[x.ndim - len(shape):]) != shape:
        raise JacShapeError(f"{fname}: normalized_shape={list(shape)} must be the last sizes of the input, got "
                            f"shape {fmt(x.shape)}", position)
    return tuple(range(x.ndim - len(shape), x.ndim))


def _trailing(b, value, x: Tracer, axes: tuple, what: str, fname, position):
    """A weight or bias of normalized_shape's shape (it broadcasts along the last axes)."""
    t = _optional(b, value, fname, position)
    if t is not None and tuple(t.shape) != tuple(x.shape[axes[0]:]):
        raise JacShapeError(f"{fname}: {what} must have the shape normalized_shape {fmt(tuple(x.shape[axes[0]:]))}, "
                            f"got {fmt(t.shape)}", position)
    return t


@function("layer_norm")
def _layer_norm(b, args, kwargs, position):
    """F.layer_norm: (x - mean) / sqrt(var + eps) · weight + bias over the last axes (normalized_shape),
    the variance biased (divided by n), as PyTorch."""
    a = arguments("layer_norm", args, kwargs, {"x": REQUIRED, "normalized_shape": REQUIRED, "weight": None,
                                               "bias": None, "eps": 1e-5}, position)
    x = tensor(b, a["x"], "layer_norm", position)
    axes = _normalized_axes(b, a["normalized_shape"], x, "layer_norm", position)
    weight = _trailing(b, a["weight"], x, axes, "weight", "layer_norm", position)
    bias = _trailing(b, a["bias"], x, axes, "bias", "layer_norm", position)
    y = _standardized(b, x, axes, _eps(b, a["eps"], "layer_norm", position), position)
    return _affine(b, y, weight, bias, position)


@variant("torch", "native_layer_norm")
def _native_layer_norm(b, args, kwargs, position):
    """torch.native_layer_norm(input, normalized_shape, weight, bias, eps), aten's spelling (as traces print it):
    (F.layer_norm's output, the mean and 1/sqrt(var + eps) over the normalized axes, kept as axes of size 1); the
    mean and rstd carry no derivative, as PyTorch's (session 27)"""
    fname = "native_layer_norm"
    a = arguments(fname, args, {("x" if k == "input" else k): v for k, v in kwargs.items()},
                  {"x": REQUIRED, "normalized_shape": REQUIRED, "weight": REQUIRED, "bias": REQUIRED, "eps": REQUIRED},
                  position)
    out = _layer_norm(b, [a["x"], a["normalized_shape"]], {"weight": a["weight"], "bias": a["bias"],
                                                            "eps": a["eps"]}, position)
    x = tensor(b, a["x"], fname, position)
    axes = _normalized_axes(b, a["normalized_shape"], x, fname, position)
    mean = b.apply("mean", x, axes=axes, keepdims=True, position=position)
    d = b.apply("sub", x, mean, position=position)
    var = b.apply("mean", b.apply("mul", d, d, position=position), axes=axes, keepdims=True, position=position)
    rstd = b.apply("rsqrt", b.apply("add", var, _eps(b, a["eps"], fname, position), position=position),
                   position=position)
    return Items([out, detached(b, mean, position), detached(b, rstd, position)])


@function("rms_norm")
def _rms_norm(b, args, kwargs, position):
    """F.rms_norm: x / sqrt(mean(x²) + eps) · weight over the last axes; eps=None is the dtype's
    machine epsilon, as PyTorch."""
    a = arguments("rms_norm", args, kwargs, {"x": REQUIRED, "normalized_shape": REQUIRED, "weight": None,
                                             "eps": None}, position)
    x = tensor(b, a["x"], "rms_norm", position)
    axes = _normalized_axes(b, a["normalized_shape"], x, "rms_norm", position)
    weight = _trailing(b, a["weight"], x, axes, "weight", "rms_norm", position)
    eps = _eps(b, a["eps"], "rms_norm", position, float(np.finfo(b.dtype).eps))
    s = _square_scale(b, x, axes, position)  # x/s · rsqrt(mean((x/s)²) + eps/s²): no overflow of x²
    x = b.apply("div", x, s, position=position)
    ms = b.apply("mean", b.apply("mul", x, x, position=position), axes=axes, keepdims=True, position=position)
    eps = b.apply("div", eps, b.apply("mul", s, s, position=position), position=position)
    y = b.apply("mul", x, b.apply("rsqrt", b.apply("add", ms, eps, position=position), position=position),
                position=position)
    return _affine(b, y, weight, None, position)


def _channels_first(x: Tracer, fname, position, least=2):
    if x.ndim < least:
        raise JacShapeError(f"{fname} needs an input (N, C, ...) of at least {least} dimensions, got shape "
                            f"{fmt(x.shape)}", position)
    _concrete(x, fname, position)


@function("group_norm")
def _group_norm(b, args, kwargs, position):
    """F.group_norm(x (N, C, *), num_groups): each sample's channels in num_groups groups, each
    group standardized (biased variance), then weight (C,) and bias (C,)."""
    fname = "group_norm"
    a = arguments(fname, args, kwargs, {"x": REQUIRED, "num_groups": REQUIRED, "weight": None, "bias": None,
                                        "eps": 1e-5}, position)
    x = tensor(b, a["x"], fname, position)
    _channels_first(x, fname, position)
    groups, channels = static_int(b, a["num_groups"], "num_groups", position), x.shape[1]
    if groups <= 0 or channels % groups:
        raise JacValueError(f"group_norm(): num_groups={groups} must be a positive divisor of the {channels} "
                            f"channels of the input, shape {fmt(x.shape)}", position)
    grouped = _reshape_to(b, x, (x.shape[0], groups, channels // groups) + tuple(x.shape[2:]), position)
    y = _standardized(b, grouped, tuple(range(2, grouped.ndim)), _eps(b, a["eps"], fname, position), position)
    y = _reshape_to(b, y, x.shape, position)
    weight, bias = (None if a[k] is None else _per_channel(b, tensor(b, a[k], fname, position), k, x, fname, position)
                    for k in ("weight", "bias"))
    return _affine(b, y, weight, bias, position)


def _running(b, a, x, fname, position):
    """(x - running_mean) / sqrt(running_var + eps): both statistics required, (C,) each."""
    if a["running_mean"] is None or a["running_var"] is None:
        raise JacValueError(f"{fname}(): running_mean and running_var are needed to normalize without the input's "
                            "own statistics", position)
    mean, var = (_per_channel(b, tensor(b, a[k], fname, position), k, x, fname, position)
                 for k in ("running_mean", "running_var"))
    inv = b.apply("rsqrt", b.apply("add", var, _eps(b, a["eps"], fname, position), position=position),
                  position=position)
    return b.apply("mul", b.apply("sub", x, mean, position=position), inv, position=position)


def _batch_stats(b, x, axes, a, fname, position):
    count = _count(b, x, axes, position, fname)
    if count <= 1:
        raise JacValueError(f"{fname}(): the input's own statistics need more than 1 value per channel, got input "
                            f"shape {fmt(x.shape)}", position)
    return _standardized(b, x, axes, _eps(b, a["eps"], fname, position), position)


def _channel_affine(b, y, a, x, fname, position):
    weight, bias = (None if a[k] is None else _per_channel(b, tensor(b, a[k], fname, position), k, x, fname, position)
                    for k in ("weight", "bias"))
    return _affine(b, y, weight, bias, position)


@function("batch_norm")
def _batch_norm(b, args, kwargs, position):
    """F.batch_norm(x (N, C, *), running_mean, running_var, weight, bias, training=False): with
    training=False the running statistics, with training=True the batch's (over N and the spatial
    axes, variance biased), and the running statistics given updated in place as PyTorch updates them
    (:func:`_update_running_arguments`)."""
    fname = "batch_norm"
    a = arguments(fname, args, kwargs, {"x": REQUIRED, "running_mean": REQUIRED, "running_var": REQUIRED,
                                        "weight": None, "bias": None, "training": False, "momentum": 0.1,
                                        "eps": 1e-5}, position)
    x = tensor(b, a["x"], fname, position)
    _channels_first(x, fname, position)
    for k in ("running_mean", "running_var"):
        if a[k] is not None:
            _per_channel(b, tensor(b, a[k], fname, position), k, x, fname, position)
    if _flag(b, a["training"], "training", fname, position):
        axes = (0,) + tuple(range(2, x.ndim))
        y = _batch_stats(b, x, axes, a, fname, position)
        _update_running_arguments(b, a, x, axes, position, fname)
    else:
        y = _running(b, a, x, fname, position)
    return _channel_affine(b, y, a, x, fname, position)


def batch_statistics(b, x, axes, position) -> dict:
    """The statistics a norm's running statistics move towards, without derivatives (PyTorch's buffers are no
    leaves): the mean and the unbiased variance of ``x`` over ``axes``."""
    seen = detached(b, x, position)
    return {"running_mean": FUNCTIONS["mean"](b, [seen], {"dim": axes}, position),
            "running_var": FUNCTIONS["var"](b, [seen], {"dim": axes, "unbiased": True}, position)}


def moved(b, before, stat, factor: float, position) -> Tracer:
    """PyTorch's update of a running statistic, r = (1 - m) r + m s."""
    kept = b.apply("mul", before, b.const(1.0 - factor, position), position=position)
    return b.apply("add", kept, b.apply("mul", stat, b.const(factor, position), position=position), position=position)


def _update_running_arguments(b, a, x, axes, position, fname, per_sample=False) -> None:
    """F.batch_norm(x, running_mean, running_var, training=True) writes the moved statistics into the two arrays
    it is given, as PyTorch does (F.instance_norm too, ``per_sample``: each sample's statistics averaged over the
    batch, as ATen moves a copy per sample and keeps their mean): a name holding one of them holds the update after
    the call, or is refused where read afterwards if jac cannot write it (an input, a view: the parser's
    ``updated_in_place``)."""
    given = {k: a[k] for k in ("running_mean", "running_var") if type(a[k]) is Tracer}
    if not given:
        return
    momentum = static(b, a["momentum"], f"{fname}'s momentum", position)
    if momentum is None or isinstance(momentum, bool) or not isinstance(momentum, (int, float)):
        raise JacValueError(f"{fname}(): momentum must be a number when the running statistics are updated, got "
                            f"{momentum!r}, as PyTorch requires", position)
    given = {k: v for k, v in given.items() if b.lowering is not None and b.lowering.holders(v)}
    if not given:  # temporaries no name holds: an update nobody can read is not built
        return
    stats = batch_statistics(b, x, axes, position)
    for k, v in given.items():
        stat = FUNCTIONS["mean"](b, [stats[k]], {"dim": 0}, position) if per_sample else stats[k]
        new = moved(b, v, stat, float(momentum), position)
        b.lowering.updated_in_place(v, new, f"{fname}(...), which moves its {k}", position)


@function("instance_norm")
def _instance_norm(b, args, kwargs, position):
    """F.instance_norm(x (N, C, *)): each sample's channel standardized over the spatial axes
    (variance biased), moving the running statistics given as PyTorch does; use_input_stats=False uses
    running_mean and running_var instead."""
    fname = "instance_norm"
    a = arguments(fname, args, kwargs, {"x": REQUIRED, "running_mean": None, "running_var": None, "weight": None,
                                        "bias": None, "use_input_stats": True, "momentum": 0.1, "eps": 1e-5},
                  position)
    x = tensor(b, a["x"], fname, position)
    _channels_first(x, fname, position, least=3)
    for k in ("running_mean", "running_var"):
        if a[k] is not None:
            _per_channel(b, tensor(b, a[k], fname, position), k, x, fname, position)
    if _flag(b, a["use_input_stats"], "use_input_stats", fname, position):
        y = _batch_stats(b, x, tuple(range(2, x.ndim)), a, fname, position)
        _update_running_arguments(b, a, x, tuple(range(2, x.ndim)), position, fname, per_sample=True)
    else:
        y = _running(b, a, x, fname, position)
    return _channel_affine(b, y, a, x, fname, position)


def _dropout(fname, training_default):
    def lower(b, args, kwargs, position):
        kwargs = {("training" if k == "train" else k): v for k, v in kwargs.items()}
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "ord": 0.5, "training": training_default}, position)
        x = tensor(b, a["x"], fname, position)
        p = static(b, a["ord"], "p", position)
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise JacValueError(f"{fname}(): the dropout probability p must be between 0 and 1, got {p!r}", position)
        if p == 0 or not _flag(b, a["training"], "training", fname, position):
            return x
        if p == 1:  # every element dropped, as PyTorch computes it: x * 0 (NaN at an infinite x; derivative 0)
            return b.apply("mul", x, b.const(0.0, position), position=position)
        raise JacValueError(f"F.{fname}(x, p={p:g}, training=True) is random: each call keeps other elements, so it "
                            "has no one Jacobian. Write training=False (evaluation: the identity) or p=0, or bind "
                            f"a 0/1 mask m and write x * m / (1 - p)", position)
    lower.__doc__ = (f"F.{fname}: the identity when training=False (the default: {training_default}) or p=0; "
                     "x * 0 when training with p=1 (PyTorch's: NaN at an infinite x, derivative 0); random otherwise, "
                     "which jac refuses")
    return lower


for _name, _training in (("dropout", True), ("dropout1d", True), ("dropout2d", True), ("dropout3d", True),
                         ("alpha_dropout", False), ("feature_alpha_dropout", False)):
    FUNCTIONS[_name] = _dropout(_name, _training)


@function("glu")
def _glu(b, args, kwargs, position):
    """F.glu(x, dim=-1): a · sigmoid(b), a and b the two halves of x along dim."""
    a = arguments("glu", args, kwargs, {"x": REQUIRED, "axis": -1}, position)
    x = tensor(b, a["x"], "glu", position)
    if x.ndim == 0:
        raise JacShapeError("glu needs at least a vector, got a scalar", position)
    axis = _one_axis(b, a["axis"], x, position, "glu")
    n = _concrete(x, "glu", position)[axis]
    if n % 2:
        raise JacShapeError(f"glu: the halved dim {axis} must have an even size, got {n} (shape {fmt(x.shape)})",
                            position)
    first, second = _line(b, x, axis, slice(0, n // 2), position), _line(b, x, axis, slice(n // 2, n), position)
    return b.apply("mul", first, b.apply("sigmoid", second, position=position), position=position)


def _embedding_table(b, a, fname, position) -> Tracer:
    """The weight (V, D) of F.embedding / F.embedding_bag, with their options jac refuses: max_norm (it
    renormalizes the weight in place) and scale_grad_by_freq (it scales PyTorch's gradient: no derivative)."""
    if static(b, a["max_norm"], "max_norm", position) is not None:
        raise JacValueError(f"{fname}(): max_norm= renormalizes the weight in place, which jac does not do; "
                            "leave it out", position)
    if _flag(b, a["scale_grad_by_freq"], "scale_grad_by_freq", fname, position):
        raise JacValueError(f"{fname}(): scale_grad_by_freq=True scales PyTorch's gradient, which is then no "
                            "derivative; jac computes derivatives only", position)
    w = tensor(b, a["weight"], fname, position)
    if w.ndim != 2:
        raise JacShapeError(f"{fname}: weight must be 2-d (rows of the table), got shape {fmt(w.shape)}", position)
    return w


@function("embedding")
def _embedding(b, args, kwargs, position):
    """F.embedding(indices, weight (V, D)): the rows of weight at constant integer indices; rows
    at padding_idx get no derivative, as PyTorch."""
    fname = "embedding"
    a = arguments(fname, args, kwargs, {"x": REQUIRED, "weight": REQUIRED, "padding_idx": None, "max_norm": None,
                                        "norm_type": 2.0, "scale_grad_by_freq": False, "sparse": False}, position)
    w = _embedding_table(b, a, fname, position)
    rows = _concrete(w, fname, position)[0]
    index = _index_array(b, a["x"], rows, "indices", fname, position)
    if index.size and _constant_of(b, a["x"]).min() < 0:
        raise JacShapeError(f"embedding: indices must be >= 0 (rows 0 to {rows - 1})", position)
    picked = _take(b, w, (index,), position)
    pad = a["padding_idx"]
    if pad is None:
        return picked
    pad = static_int(b, pad, "padding_idx", position)
    if not -rows <= pad < rows:
        raise JacValueError(f"embedding(): padding_idx={pad} must be a row of the weight (0 to {rows - 1})", position)
    at_pad = np.broadcast_to((index == pad % rows)[..., None], picked.shape)
    if not at_pad.any():
        return picked
    frozen = _take(b, b.apply("detach", w, position=position), (index,), position)
    return b.apply("where", b.const(at_pad.astype(b.dtype), position), frozen, picked, position=position)


@function("embedding_bag")
def _embedding_bag(b, args, kwargs, position):
    """F.embedding_bag(input, weight, offsets=None, mode='mean', per_sample_weights=None,
    include_last_offset=False, padding_idx=None): the rows of weight at constant indices, reduced per bag (a
    row of a 2-d input, or the stretches of a 1-d input that begin at offsets). ``sum`` and ``mean`` over
    the bag's entries that are not padding_idx (an empty bag gives zeros); ``max`` is PyTorch's scan, the
    first entry replaced by each greater one: the first maximum, NaN only where the bag begins with it; its
    derivative goes to that entry. ``per_sample_weights`` (mode 'sum') scale the rows, with derivatives."""
    fname = "embedding_bag"
    a = arguments(fname, args, kwargs, {"x": REQUIRED, "weight": REQUIRED, "offsets": None, "max_norm": None,
                                        "norm_type": 2.0, "scale_grad_by_freq": False, "mode": "mean",
                                        "sparse": False, "per_sample_weights": None, "include_last_offset": False,
                                        "padding_idx": None}, position)
    w = _embedding_table(b, a, fname, position)
    mode = static(b, a["mode"], "mode", position)
    if mode not in ("sum", "mean", "max"):
        raise JacValueError(f"embedding_bag(): mode must be 'sum', 'mean' or 'max', got {mode!r}", position)
    rows, width = _concrete(w, fname, position)
    index = _index_array(b, a["x"], rows, "input", fname, position)
    if index.size and _constant_of(b, a["x"]).min() < 0:
        raise JacShapeError(f"embedding_bag: input must be >= 0 (rows 0 to {rows - 1})", position)
    bags = _bags(b, a, index, fname, position)
    flat = index.reshape(-1)
    pad = a["padding_idx"]
    if pad is not None:
        pad = static_int(b, pad, "padding_idx", position)
        if not -rows <= pad < rows:
            raise JacValueError(f"embedding_bag(): padding_idx={pad} must be a row of the weight (0 to {rows - 1})",
                                position)
        bags = [[i for i in bag if flat[i] != pad % rows] for bag in bags]
    count = max((len(bag) for bag in bags), default=0)
    if not bags or not count:
        return b.const(np.zeros((len(bags), width), dtype=b.dtype), position)
    at = np.array([bag + [bag[0] if bag else 0] * (count - len(bag)) for bag in bags], dtype=np.intp)  # (B, K)
    held = np.array([[k < len(bag) for k in range(count)] for bag in bags])
    picked = _take(b, w, (flat[at],), position)  # (B, K, D)
    psw = a["per_sample_weights"]
    if psw is not None:
        if mode != "sum":
            raise JacValueError(f"embedding_bag(): per_sample_weights is only supported for mode='sum' (got "
                                f"mode={mode!r}), as PyTorch", position)
        psw = tensor(b, psw, fname, position)
        if tuple(psw.shape) != tuple(index.shape):
            raise JacShapeError(f"embedding_bag: per_sample_weights must have the input's shape {fmt(index.shape)}, "
                                f"got {fmt(psw.shape)}", position)
        scale = _take(b, _reshape_to(b, psw, (index.size,), position), (at,), position)
        picked = b.apply("mul", picked, _reshape_to(b, scale, (len(bags), count, 1), position), position=position)
    held3 = b.const(held[:, :, None].astype(b.dtype), position)  # (B, K, 1): broadcast along the rows' D
    filled = np.array([bool(bag) for bag in bags])
    if mode == "max":
        later = (np.arange(count) > 0).astype(b.dtype)[None, :, None]  # every entry but a bag's first
        skipped = logical("and", b, [boolean(b, b.apply("isnan", picked, position=position)),
                                     boolean(b, b.const(later, position))], position)
        ranked = b.apply("where", skipped, -math.inf, picked, position=position)
        ranked = b.apply("where", held3, ranked, -math.inf, position=position)
        first = b.apply("argmax", ranked, axis=1, keepdims=True, position=position)
        out = _reshape_to(b, b.apply("take_along", picked, first, axis=1, position=position), (len(bags), width),
                          position)
    else:
        out = b.apply("sum", b.apply("where", held3, picked, 0.0, position=position), axes=(1,), position=position)
        if mode == "mean":
            sizes = np.array([max(len(bag), 1) for bag in bags], dtype=b.dtype)[:, None]
            out = b.apply("div", out, b.const(sizes, position), position=position)
    if filled.all():
        return out
    return b.apply("where", b.const(filled[:, None].astype(b.dtype), position), out, 0.0, position=position)


def _bags(b, a, index: np.ndarray, fname, position) -> list:
    """The positions (into the flattened input) of each bag: the rows of a 2-d input, or the stretches of a
    1-d input from each offset to the next (the last to the end; with include_last_offset=True the offsets end
    with the input's length, the CSR form PyTorch documents), checked as PyTorch checks them."""
    last = _flag(b, a["include_last_offset"], "include_last_offset", fname, position)
    if index.ndim == 2:
        if a["offsets"] is not None:
            raise JacValueError("embedding_bag(): offsets must be None for a 2-d input (each row is a bag)", position)
        n, k = index.shape
        return [list(range(i * k, (i + 1) * k)) for i in range(n)]
    if index.ndim != 1:
        raise JacShapeError(f"embedding_bag: input must be 1-d (with offsets) or 2-d (a bag per row), got shape "
                            f"{fmt(index.shape)}", position)
    if a["offsets"] is None:
        raise JacValueError("embedding_bag(): a 1-d input needs offsets (where each bag begins)", position)
    length = index.size
    given = index_values(b, a["offsets"], "offsets", fname, position).astype(np.int64)
    if given.ndim != 1:
        raise JacShapeError(f"{fname}: offsets must be 1-d, got shape {fmt(given.shape)}", position)
    if not given.size or given[0] != 0:
        raise JacValueError(f"embedding_bag(): offsets[0] must be 0 (the first bag begins the input), got "
                            f"{given.tolist()[:1]}", position)
    if np.any(np.diff(given) < 0) or given[-1] > length:
        raise JacValueError(f"embedding_bag(): offsets must be non-decreasing positions in the input (0 to its "
                            f"length, {length}), got {given.tolist()}", position)
    if last and given[-1] != length:
        # PyTorch's documented CSR form; short of it, its float32 and float64 kernels disagree on the last bag
        raise JacValueError(f"embedding_bag(): with include_last_offset=True the last offset is the input's length, "
                            f"{length}; got {int(given[-1])}", position)
    ends = list(given[1:]) + ([] if last else [length])
    starts = list(given[:-1]) if last else list(given)
    return [list(range(s, e)) for s, e in zip(starts, ends)]


def _constant_of(b, value) -> np.ndarray:
    found = data_index(b, value, None)  # an index bound as an input: its values
    return np.asarray(b.nodes[value.id].value) if found is None else found


@function("one_hot")
def _one_hot(b, args, kwargs, position):
    """F.one_hot(indices, num_classes=-1): 1 at each index along a new last axis, a constant (its
    derivative is zero); num_classes=-1 (the largest index + 1) needs constant indices."""
    a = arguments("one_hot", args, kwargs, {"x": REQUIRED, "num_classes": -1}, position)
    t = tensor(b, a["x"], "one_hot", position)
    classes = static_int(b, a["num_classes"], "num_classes", position)
    if classes == -1:
        if b.nodes[t.id].op != "const":
            raise JacValueError("one_hot(): num_classes=-1 reads the largest index off the values; give "
                                "num_classes= for indices that are inputs", position)
        v = _constant_of(b, t)
        if v.size == 0:
            raise JacValueError("one_hot(): num_classes=-1 cannot be read off empty indices; give num_classes=",
                                position)
        classes = int(np.max(v)) + 1
    if classes < 0:
        raise JacValueError(f"one_hot(): num_classes must be -1 or >= 0, got {classes}", position)
    return _folded_at(position, lambda: b.apply("one_hot", t, classes=classes, axis=t.ndim, position=position))


@function("scaled_dot_product_attention")
def _sdpa(b, args, kwargs, position):
    """F.scaled_dot_product_attention(q (…, L, E), k (…, S, E), v (…, S, Ev)): softmax(q kᵀ · scale +
    mask) v, scale 1/√E by default; a boolean attn_mask (or is_causal) keeps where true, a float
    one is added; a row masked entirely gives 0, as PyTorch. dropout_p > 0 is random: refused."""
    fname = "scaled_dot_product_attention"
    a = arguments(fname, args, kwargs, {"query": REQUIRED, "key": REQUIRED, "value": REQUIRED, "attn_mask": None,
                                        "dropout_p": 0.0, "is_causal": False, "scale": None, "enable_gqa": False},
                  position)
    q, k, v = (tensor(b, a[n], fname, position) for n in ("query", "key", "value"))
    if min(q.ndim, k.ndim, v.ndim) < 2 or q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise JacShapeError(f"{fname}: query (..., L, E), key (..., S, E) and value (..., S, Ev) do not fit: got "
                            f"{fmt(q.shape)}, {fmt(k.shape)} and {fmt(v.shape)}", position)
    p = static(b, a["dropout_p"], "dropout_p", position)
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise JacValueError(f"{fname}(): dropout_p must be between 0 and 1, got {p!r}", position)
    if p > 0:
        raise JacValueError(f"{fname}(..., dropout_p={p:g}) drops attention weights at random, so it has no one "
                            "Jacobian; write dropout_p=0 (evaluation)", position)
    if _flag(b, a["enable_gqa"], "enable_gqa", fname, position):
        k, v = _grouped_heads(b, q, k, v, fname, position)
    causal = _flag(b, a["is_causal"], "is_causal", fname, position)
    if causal and a["attn_mask"] is not None:
        raise JacValueError(f"{fname}(): give attn_mask= or is_causal=True, not both (PyTorch refuses both)",
                            position)
    scale = static(b, a["scale"], "scale", position)
    if scale is not None and (isinstance(scale, bool) or not isinstance(scale, (int, float))):
        raise JacValueError(f"{fname}(): scale must be a number, got {scale!r}", position)
    if scale is None:  # an embedding of size 0 has scores of 0 whatever the scale (PyTorch's 1/√0 scales nothing)
        scale = 1.0 / math.sqrt(_concrete(q, fname, position)[-1] or 1)
    scores = b.apply("mul", b.apply("matmul", q, matrix_transpose(b, k, position, fname), position=position),
                     float(scale), position=position)
    return b.apply("matmul", _attention_weights(b, scores, a["attn_mask"], causal, fname, position), v,
                   position=position)


def _grouped_heads(b, q: Tracer, k: Tracer, v: Tracer, fname, position) -> tuple:
    """enable_gqa=True: key and value heads (axis -3) repeated (repeat_interleave) up to the query's, as PyTorch."""
    if min(q.ndim, k.ndim, v.ndim) < 3:
        raise JacShapeError(f"{fname}(): enable_gqa=True needs a heads axis (..., H, L, E): got {fmt(q.shape)}, "
                            f"{fmt(k.shape)} and {fmt(v.shape)} (PyTorch raises IndexError)", position)
    heads = q.shape[-3]
    if heads % k.shape[-3] or heads % v.shape[-3]:
        raise JacShapeError(f"{fname}(): the number of heads in key ({k.shape[-3]}) and value ({v.shape[-3]}) must "
                            f"divide the number of heads in query ({heads})", position)
    return tuple(_take(b, t, (Ellipsis, np.arange(heads) // (heads // t.shape[-3]), slice(None), slice(None)),
                       position) for t in (k, v))


SHAPE_OPS = ("reshape", "transpose", "getitem", "broadcast_to", "scatter", "detach")


def _mask_kind(b, m: Tracer, fname, position) -> bool:
    """Is attn_mask PyTorch's boolean mask (True keeps) rather than a float one (added)? jac keeps
    no dtypes: a mask is boolean when made by a comparison or logic, also through reshapes,
    transposes, indexing and broadcasts; 0/1 values of no such origin are refused as ambiguous."""
    node = b.nodes[m.id]
    while node.id not in booleans(b) and node.op in SHAPE_OPS:
        node = b.nodes[node.args[0]]
    if node.id in booleans(b):
        return True
    zero_one = node.op == "const" and np.isin(np.asarray(node.value), (0.0, 1.0)).all()
    if node.op == "where":
        branches = [b.nodes[a] for a in node.args[1:]]
        zero_one = all(n.op == "const" and np.isin(np.asarray(n.value), (0.0, 1.0)).all() for n in branches)
    if zero_one:
        raise JacValueError(f"{fname}(): attn_mask holds 0s and 1s that jac cannot tell to be booleans (keep where "
                            "true) or floats (added to the scores); write a comparison (mask > 0) for a boolean "
                            "mask, or 0 and -inf for a float one", position)
    return False


def _attention_weights(b, s: Tracer, mask, causal: bool, fname, position) -> Tracer:
    """softmax over the last axis of the masked scores ``s``; rows masked entirely are 0 (PyTorch's
    safe softmax), computed from finite scores there so that no NaN reaches a derivative."""
    L, S = _concrete(s, fname, position)[-2:]
    if causal:
        mask = boolean(b, b.const(np.tril(np.ones((L, S))).astype(b.dtype), position))
    if mask is None:
        return b.apply("softmax", s, axis=s.ndim - 1, position=position)
    m = tensor(b, mask, fname, position)
    boolean_mask = _mask_kind(b, m, fname, position)
    if not _broadcasts_to(m.shape, s.shape):
        raise JacShapeError(f"{fname}: attn_mask of shape {fmt(m.shape)} does not broadcast to the attention "
                            f"weights' shape {fmt(s.shape)} (..., L, S)", position)
    if boolean_mask:
        s = b.apply("where", m, s, -math.inf, position=position)
    else:
        s = b.apply("add", s, m, position=position)
    last = s.ndim - 1
    masked = b.apply("sum", b.apply("eq", s, -math.inf, position=position), axes=(last,), keepdims=True,
                     position=position)
    empty = b.apply("eq", masked, float(S), position=position)
    w = b.apply("softmax", b.apply("where", empty, 0.0, s, position=position), axis=last, position=position)
    return b.apply("where", empty, 0.0, w, position=position)


# --- convolutions and pooling (torch.nn.functional), 1-d, 2-d and 3-d ---
#
# The windows are gathered with one constant index per spatial axis (``getitem``: its derivative
# adds overlapping windows back), then contracted with the weight by ``einsum``, summed, or their
# maximum taken by ``argmax`` + ``take_along`` (the window's element PyTorch's scan picks).

def _per_axis(b, value, nd: int, what: str, fname, position, least: int) -> tuple:
    v = static_ints(b, value, what, position)
    if len(v) == 1:
        v = v * nd
    if len(v) != nd:
        raise JacValueError(f"{fname}(): {what} must be one integer or {nd}, got {list(v)}", position)
    if any(i < least for i in v):
        raise JacValueError(f"{fname}(): {what} must be >= {least}, got {list(v)}", position)
    return v


def _spatial_input(x: Tracer, nd: int, fname, position, what="input") -> None:
    if x.ndim not in (nd + 1, nd + 2):
        raise JacShapeError(f"{fname}: the {what} must be (N, C, {', '.join(('L', 'HW', 'DHW')[nd - 1])}) or "
                            f"unbatched (C, ...), {nd + 2} or {nd + 1} dimensions; got shape {fmt(x.shape)}", position)
    _concrete(x, fname, position)


def _padded(b, x: Tracer, widths: list, position) -> Tracer:
    """``x`` with its last ``len(widths)`` axes padded with zeros by (before, after)."""
    widths = [(0, 0)] * (x.ndim - len(widths)) + list(widths)
    if not any(lo or hi for lo, hi in widths):
        return x
    out = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape, widths))
    return _place(b, x, tuple(slice(lo, lo + n) for n, (lo, _) in zip(x.shape, widths)), out, position)


def _window_count(n: int, k: int, stride: int, dilation: int, fname, position) -> int:
    span = dilation * (k - 1) + 1
    if span > n:
        raise JacShapeError(f"{fname}: the kernel spans {span} elements (size {k}, dilation {dilation}), more than "
                            f"the {n} of the padded input", position)
    return (n - span) // stride + 1


def _windows(b, x: Tracer, kernel, stride, dilation, fname, position) -> Tracer:
    """The windows of the last ``len(kernel)`` axes: (..., O1, K1) or (..., O1, K1, O2, K2)."""
    nd = len(kernel)
    index = []
    for i, (k, s, d) in enumerate(zip(kernel, stride, dilation)):
        n = x.shape[x.ndim - nd + i]
        o = _window_count(n, k, s, d, fname, position)
        at = np.arange(o)[:, None] * s + np.arange(k)[None, :] * d
        index.append(at.reshape(at.shape + (1, 1) * (nd - 1 - i)) if i < nd - 1 else at)
    return _take(b, x, (slice(None),) * (x.ndim - nd) + tuple(index), position)


def _conv_padding(b, value, kernel, stride, dilation, fname, position) -> list:
    mode = static(b, value, "padding", position)
    if mode == "valid":
        return [(0, 0)] * len(kernel)
    if mode == "same":
        if any(s != 1 for s in stride):
            raise JacValueError(f"{fname}(): padding='same' is not supported for strided convolutions (PyTorch "
                                "refuses it too)", position)
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return [(t // 2, t - t // 2) for t in totals]  # the odd one more on the right, as PyTorch
    if isinstance(mode, str):
        raise JacValueError(f"{fname}(): padding must be 'valid', 'same' or integers, got {mode!r}", position)
    return [(p, p) for p in _per_axis(b, value, len(kernel), "padding", fname, position, 0)]


def _conv(nd: int):
    fname = f"conv{nd}d"
    letters = "okplrm"[:2 * nd]  # (output, kernel) letters of each spatial axis

    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "weight": REQUIRED, "bias": None, "stride": 1,
                                            "padding": 0, "dilation": 1, "groups": 1}, position)
        x, w = tensor(b, a["x"], fname, position), tensor(b, a["weight"], fname, position)
        _spatial_input(x, nd, fname, position)
        if w.ndim != nd + 2:
            raise JacShapeError(f"{fname}: weight must be (out_channels, in_channels / groups, {nd} kernel sizes), "
                                f"{nd + 2} dimensions; got shape {fmt(w.shape)}", position)
        unbatched = x.ndim == nd + 1
        if unbatched:
            x = _reshape_to(b, x, (1,) + tuple(x.shape), position)
        groups = static_int(b, a["groups"], "groups", position)
        channels, out_channels, kernel = x.shape[1], w.shape[0], tuple(_concrete(w, fname, position)[2:])
        if 0 in _concrete(w, fname, position):  # PyTorch raises for no output channel or a kernel size 0, and
            # gives (N, 0, L) for no input channel, where the sum over none is zeros (N, out, L): no answer to match
            raise JacShapeError(f"{fname}: the weight {fmt(w.shape)} has an empty axis (PyTorch refuses a kernel of "
                                "size 0 and no output channels, and has no consistent answer for no input channels)",
                                position)
        if groups < 1 or out_channels % groups or channels != w.shape[1] * groups:
            raise JacValueError(f"{fname}(): groups={groups} must divide the weight's {out_channels} output "
                                f"channels, and the input's {channels} channels must be groups × the weight's "
                                f"{w.shape[1]} input channels (input {fmt(x.shape)}, weight {fmt(w.shape)})", position)
        stride = _per_axis(b, a["stride"], nd, "stride", fname, position, 1)
        dilation = _per_axis(b, a["dilation"], nd, "dilation", fname, position, 1)
        pads = _conv_padding(b, a["padding"], kernel, stride, dilation, fname, position)
        win = _windows(b, _padded(b, x, pads, position), kernel, stride, dilation, fname, position)
        g, per = groups, channels // groups
        win = _reshape_to(b, win, (x.shape[0], g, per) + tuple(win.shape[2:]), position)
        w = _reshape_to(b, w, (g, out_channels // g, per) + kernel, position)
        spatial = "".join(letters)
        y = einsum_of(b, f"ngc{spatial},gfc{spatial[1::2]}->ngf{spatial[0::2]}", [win, w], position)
        y = _reshape_to(b, y, (x.shape[0], out_channels) + tuple(y.shape[3:]), position)
        if a["bias"] is not None:
            y = b.apply("add", y, _per_channel(b, tensor(b, a["bias"], fname, position), "bias", y, fname, position),
                        position=position)
        return _reshape_to(b, y, tuple(y.shape[1:]), position) if unbatched else y
    lower.__doc__ = (f"F.{fname}(input (N, C, …), weight (out, C / groups, …), bias=None, stride=1, padding=0, "
                     "dilation=1, groups=1): cross-correlation, as PyTorch; padding 'valid', 'same' or sizes")
    return lower


FUNCTIONS["conv1d"] = _conv(1)
FUNCTIONS["conv2d"] = _conv(2)
FUNCTIONS["conv3d"] = _conv(3)


def _pool_geometry(b, a, x, nd, fname, position, dilated: bool):
    """(kernel, stride, padding, dilation, extra), checked as PyTorch checks them; ``extra`` per axis is how far
    ceil_mode=True's last window reaches past the padded input (PyTorch's pooling_output_shape: the count
    rounded up, less one where the last window would start past the input and its left padding), 0 without."""
    _spatial_input(x, nd, fname, position)
    if 0 in x.shape[x.ndim - nd - 1:]:  # (N, C, ...): only N may be 0 (session 52: jac answered an empty result)
        raise JacShapeError(f"{fname}: PyTorch raises for an input of shape {fmt(x.shape)}, \"Expected {nd + 1}D or "
                            f"{nd + 2}D (batch mode) tensor with optional 0 dim batch size for input\" (or \"non-batch "
                            "dimensions to have positive length\"): of (N, C, ...) only the batch N may be empty",
                            position)
    kernel = _per_axis(b, a["kernel_size"], nd, "kernel_size", fname, position, 1)
    stride = kernel if static(b, a["stride"], "stride", position) in (None, ()) else \
        _per_axis(b, a["stride"], nd, "stride", fname, position, 1)
    padding = _per_axis(b, a["padding"], nd, "padding", fname, position, 0)
    dilation = _per_axis(b, a["dilation"], nd, "dilation", fname, position, 1) if dilated else (1,) * nd
    if any(p > k // 2 for p, k in zip(padding, kernel)):
        raise JacValueError(f"{fname}(): padding {list(padding)} must be at most half of kernel_size "
                            f"{list(kernel)}", position)
    extra = [0] * nd
    if _flag(b, a["ceil_mode"], "ceil_mode", fname, position):
        for i, (n, k, s, p, d) in enumerate(zip(x.shape[x.ndim - nd:], kernel, stride, padding, dilation)):
            span = d * (k - 1) + 1
            floor = _window_count(n + 2 * p, k, s, d, fname, position)
            ceil = -(-(n + 2 * p - span) // s) + 1
            if (ceil - 1) * s >= n + p:
                ceil -= 1
            extra[i] = max((ceil - 1) * s + span - (n + 2 * p), 0) if ceil > floor else 0
    return kernel, stride, padding, dilation, tuple(extra)


def _avg_pool(nd: int):
    fname = f"avg_pool{nd}d"
    override_param = {"divisor_override": None} if nd > 1 else {}

    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "kernel_size": REQUIRED, "stride": None, "padding": 0,
                                            "ceil_mode": False, "count_include_pad": True, **override_param}, position)
        x = tensor(b, a["x"], fname, position)
        kernel, stride, padding, ones, extra = _pool_geometry(b, a, x, nd, fname, position, False)
        pads = [(p, p + e) for p, e in zip(padding, extra)]  # a partial window's missing part: zeros, not counted
        win = _windows(b, _padded(b, x, pads, position), kernel, stride, ones, fname, position)
        total = b.apply("sum", win, axes=tuple(range(x.ndim - nd + 1, win.ndim, 2)), position=position)
        override = static(b, a.get("divisor_override"), "divisor_override", position)
        if override is not None:
            if not _is_integer(override) or override == 0:
                raise JacValueError(f"{fname}(): divisor_override must be a nonzero integer, got {override!r}",
                                    position)
            return b.apply("div", total, float(override), position=position)
        with_pad = _flag(b, a["count_include_pad"], "count_include_pad", fname, position)
        if (with_pad or not any(padding)) and not any(extra):
            return b.apply("div", total, float(np.prod(kernel)), position=position)
        # PyTorch's divisor: the window within the padded input (count_include_pad) or within the input
        spatial = x.shape[x.ndim - nd:]
        inside = np.zeros(tuple(n + 2 * p + e for n, p, e in zip(spatial, padding, extra)), dtype=bool)
        inside[tuple(slice(0 if with_pad else p, n + 2 * p if with_pad else p + n)
                     for n, p in zip(spatial, padding))] = True
        counts = _windows_of(inside, kernel, stride)
        return b.apply("div", total, b.const(counts.astype(b.dtype), position), position=position)
    lower.__doc__ = (f"F.{fname}(input, kernel_size, stride=kernel_size, padding=0, count_include_pad=True): the "
                     "mean of each window (padding counted unless count_include_pad=False)")
    return lower


def _windows_of(mask: np.ndarray, kernel, stride) -> np.ndarray:
    """How many true elements each window of ``mask`` holds (a constant divisor)."""
    for axis, (k, s) in enumerate(zip(kernel, stride)):
        o = (mask.shape[axis] - k) // s + 1
        at = np.arange(o)[:, None] * s + np.arange(k)[None, :]
        mask = np.take(mask, at, axis=axis).sum(axis=axis + 1)
    return mask


def _max_pool_index(n: int, k: int, s: int, p: int, d: int, extra: int, fname, position) -> np.ndarray:
    """The (O, K) positions of each window in the unpadded axis of length ``n`` (``extra``: how far
    ceil_mode's last window reaches past the padding): a padded slot before the window's first element
    points at that element, one after its last at the last, so that neither is the first maximum nor the
    last NaN of the window unless the element is."""
    o = _window_count(n + 2 * p + extra, k, s, d, fname, position)
    at = np.arange(o)[:, None] * s + np.arange(k)[None, :] * d - p
    real = (at >= 0) & (at < n)
    if not real.any(axis=1).all():
        raise JacValueError(f"{fname}(): a window holds only padding (kernel_size {k}, padding {p}, dilation {d})",
                            position)
    lo = np.where(real, at, n).min(axis=1, keepdims=True)
    hi = np.where(real, at, -1).max(axis=1, keepdims=True)
    return np.clip(at, lo, hi)


def _max_pool(nd: int):
    fname = f"max_pool{nd}d"

    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "kernel_size": REQUIRED, "stride": None, "padding": 0,
                                            "dilation": 1, "ceil_mode": False, "return_indices": False}, position)
        x = tensor(b, a["x"], fname, position)
        indices = _flag(b, a["return_indices"], "return_indices", fname, position)
        kernel, stride, padding, dilation, extra = _pool_geometry(b, a, x, nd, fname, position, True)
        lead = x.ndim - nd
        index = [_max_pool_index(x.shape[lead + i], *geometry, fname, position)
                 for i, geometry in enumerate(zip(kernel, stride, padding, dilation, extra))]
        win = _take(b, x, (slice(None),) * lead + _window_grid(index), position)
        win = _reshape_to(b, win, tuple(win.shape[:lead + nd]) + (int(np.prod(kernel)),), position)
        at = _pool_argmax(b, win, position)
        values = _selection(b, win, at, win.ndim - 1, False, position)
        if not indices:
            return values
        return Items([values, _pool_indices(b, win, at, index, x.shape[lead:], position)])
    lower.__doc__ = (f"F.{fname}(input, kernel_size, stride=kernel_size, padding=0, dilation=1): the maximum of "
                     "each window; the derivative goes to the first maximum in the window's row-major order (to "
                     "the last NaN where there is one), as PyTorch's")
    return lower


def _pool_indices(b, win: Tracer, at: Tracer, index: list, spatial: tuple, position) -> Tracer:
    """max_pool's return_indices=True: where each window's maximum is (``at``, along the window's last axis) as
    PyTorch gives it, the flat index into the unpadded input plane (h·W + w in 2-d); a padded slot of a window
    points at the real element it repeats, so the index is that element's; an integer result, no derivative."""
    grid = np.broadcast_arrays(*_window_grid(index))  # per axis (O1, ..., K1, ...) positions in the input
    flat = np.ravel_multi_index(tuple(grid), spatial)
    flat = flat.reshape(flat.shape[:len(spatial)] + (-1,)).astype(b.dtype)  # (O1, ..., On, K1·...·Kn)
    where = b.apply("broadcast_to", b.const(flat, position), shape=tuple(win.shape), position=position)
    out = _selection(b, where, at, win.ndim - 1, False, position)
    b.integral[out.id] = (np.dtype(np.int64), "torch")  # PyTorch's int64 indices
    return out


def _window_grid(parts: list) -> tuple:
    """Per-axis (O_i, K_i) arrays as indices broadcasting to (O1, ..., On, K1, ..., Kn): the windows
    with their elements last, in row-major order, PyTorch's scan order."""
    nd = len(parts)
    out = []
    for i, part in enumerate(parts):
        shape = [1] * (2 * nd)
        shape[i], shape[nd + i] = part.shape
        out.append(part.reshape(shape))
    return tuple(out)


def _pool_argmax(b, win: Tracer, position) -> Tracer:
    """Where the last axis of ``win`` has its maximum, as PyTorch's max pooling scans a window: the
    first of equal maxima, but the last NaN (each NaN replaces the one before)."""
    axis, k = win.ndim - 1, win.shape[-1]
    first = b.apply("argmax", win, axis=axis, keepdims=True, position=position)
    flipped = _take(b, win, (Ellipsis, slice(None, None, -1)), position)
    last = b.apply("sub", float(k - 1), b.apply("argmax", flipped, axis=axis, keepdims=True, position=position),
                   position=position)
    nan = b.apply("isnan", b.apply("take_along", win, first, axis=axis, position=position), position=position)
    return b.apply("where", nan, last, first, position=position)


for _nd in (1, 2, 3):
    FUNCTIONS[f"avg_pool{_nd}d"] = _avg_pool(_nd)
    FUNCTIONS[f"max_pool{_nd}d"] = _max_pool(_nd)


def _adaptive_index(n: int, o: int) -> tuple:
    """PyTorch's adaptive pooling windows of an axis of length ``n`` into ``o``: window j is
    [floor(j n / o), ceil((j + 1) n / o)). As (O, K) positions, a window shorter than the longest
    repeating its last element (so neither the first maximum nor the last NaN moves), and the
    (O, K) mask of its own elements."""
    j = np.arange(o)
    start, end = j * n // o, -(-(j + 1) * n // o)
    at = start[:, None] + np.arange(int((end - start).max()))[None, :]
    own = at < end[:, None]
    return np.minimum(at, end[:, None] - 1), own


def _adaptive_pool(nd: int, kind: str):
    fname = f"adaptive_{kind}_pool{nd}d"

    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "output_size": REQUIRED}
                      | ({"return_indices": False} if kind == "max" else {}), position)
        x = tensor(b, a["x"], fname, position)
        _spatial_input(x, nd, fname, position)
        indices = kind == "max" and _flag(b, a["return_indices"], "return_indices", fname, position)
        lead, sizes = x.ndim - nd, static(b, a["output_size"], "output_size", position)
        _refuse_float(b, a["output_size"], "output_size", position)
        sizes = sizes if isinstance(sizes, tuple) else (sizes,) * nd
        if len(sizes) != nd:
            raise JacValueError(f"{fname}(): output_size must be one integer or {nd}, got {list(sizes)}", position)
        sizes = tuple(x.shape[lead + i] if o is None else o for i, o in enumerate(sizes))  # None: the input's size
        if not all(_is_integer(o) and o >= 1 for o in sizes):
            raise JacValueError(f"{fname}(): output_size must hold integers >= 1, got {list(sizes)}", position)
        if any(n == 0 for n in x.shape[lead:]):
            raise JacShapeError(f"{fname}(): the input {fmt(x.shape)} has an empty spatial axis", position)
        # output_size=10**20: the limit's message before NumPy's index arrays (its ValueError was an internal error)
        b.check_size(tuple(x.shape[:lead]) + tuple(int(o) for o in sizes), f"{fname}()'s result", position)
        parts = [_adaptive_index(x.shape[lead + i], int(o)) for i, o in enumerate(sizes)]
        index, own = [p[0] for p in parts], [p[1] for p in parts]
        own = np.logical_and.reduce(np.broadcast_arrays(*_window_grid(own)))  # (O1, ..., K1, ...)
        win = _take(b, x, (slice(None),) * lead + _window_grid(index), position)
        k = int(np.prod(win.shape[lead + nd:]))
        win = _reshape_to(b, win, tuple(win.shape[:lead + nd]) + (k,), position)
        if kind == "max":
            at = _pool_argmax(b, win, position)
            values = _selection(b, win, at, win.ndim - 1, False, position)
            if not indices:
                return values
            # a short window repeats its last element after it, so the argmax's slot still names the element
            return Items([values, _pool_indices(b, win, at, index, x.shape[lead:], position)])
        own = own.reshape(own.shape[:nd] + (k,))
        kept = b.apply("where", b.const(own.astype(b.dtype), position), win, 0.0, position=position)
        total = b.apply("sum", kept, axes=(win.ndim - 1,), position=position)
        return b.apply("div", total, b.const(own.sum(axis=-1).astype(b.dtype), position), position=position)
    lower.__doc__ = (f"F.{fname}(input, output_size{', return_indices=False' if kind == 'max' else ''}): the "
                     f"{'maximum' if kind == 'max' else 'mean'} of each of "
                     "PyTorch's adaptive windows [floor(j n / o), ceil((j + 1) n / o)); output_size None keeps an "
                     "axis" + ("; the derivative goes to the first maximum (the last NaN), as max_pool" if kind == "max"
                               else ""))
    return lower


for _nd in (1, 2, 3):
    for _kind in ("avg", "max"):
        FUNCTIONS[f"adaptive_{_kind}_pool{_nd}d"] = _adaptive_pool(_nd, _kind)


def _with_indices(fname: str):
    """F.NAME_with_indices(...): F.NAME(..., return_indices=True), the pair (values, indices) whatever
    return_indices says (PyTorch's own functions ignore it)."""
    base = FUNCTIONS[fname]

    def lower(b, args, kwargs, position):
        return base(b, args, {**kwargs, "return_indices": True}, position)
    lower.__doc__ = (f"F.{fname}_with_indices(...): F.{fname}(..., return_indices=True), the pair (values, indices); "
                     "its own return_indices= is ignored, as PyTorch's")
    return lower


for _nd in (1, 2, 3):
    for _fname in (f"max_pool{_nd}d", f"adaptive_max_pool{_nd}d"):
        variant("torch", f"{_fname}_with_indices")(_with_indices(_fname))


# --- windows and polynomials: x.unfold, np.convolve, np.polyval ---

@variant("method", "unfold")
def _method_unfold(b, args, kwargs, position):
    """x.unfold(dimension, size, step): the windows of ``size`` along ``dimension``, ``step`` apart,
    as a new last axis (Tensor.unfold; F.unfold, PyTorch's im2col, is another function)."""
    kwargs = {("axis" if k == "dimension" else k): v for k, v in kwargs.items()}
    a = arguments(".unfold", args, kwargs, {"x": REQUIRED, "axis": REQUIRED, "size": REQUIRED, "step": REQUIRED},
                  position)
    x = tensor(b, a["x"], ".unfold", position)
    if x.ndim == 0:
        raise JacShapeError(".unfold() needs at least a vector, got a scalar", position)
    axis = _one_axis(b, a["axis"], x, position, ".unfold")
    n = _concrete(x, ".unfold", position)[axis]
    size, step = (static_int(b, a[k], k, position) for k in ("size", "step"))
    if step <= 0 or not 0 <= size <= n:
        raise JacValueError(f".unfold(): size must be from 0 to the dim's length {n} and step > 0, got size={size}, "
                            f"step={step}", position)
    at = np.arange((n - size) // step + 1)[:, None] * step + np.arange(size)[None, :]
    win = _take(b, x, (slice(None),) * axis + (at,), position)  # (..., O, size, ...)
    if win.id > x.id and b.nodes[win.id].op == "getitem" and not (b.layouts and win.id in b.layouts):
        copied_layout(b, win, ("windows", x.id, axis, step))  # PyTorch's view: strides _stand_in replays (session 56)
    order = [d for d in range(win.ndim) if d != axis + 1] + [axis + 1]
    return _permute(b, win, order, position)


@function("convolve")
def _convolve(b, args, kwargs, position):
    """np.convolve(a, v, mode='full'): Σₖ a[k] v[n - k] of two vectors; 'same' keeps the longer's
    length, 'valid' only where they overlap fully."""
    a = arguments("convolve", args, kwargs, {"x": REQUIRED, "v": REQUIRED, "mode": Static("full")}, position)
    x, v = tensor(b, a["x"], "convolve", position), tensor(b, a["v"], "convolve", position)
    mode = static(b, a["mode"], "mode", position)
    if mode not in ("full", "same", "valid"):
        raise JacValueError(f"convolve(): mode must be 'full', 'same' or 'valid', got {mode!r}", position)
    x, v = (_reshape_to(b, t, (1,), position) if t.ndim == 0 else t for t in (x, v))
    if x.ndim != 1 or v.ndim != 1:
        raise JacShapeError(f"convolve needs two vectors, got shapes {fmt(x.shape)} and {fmt(v.shape)}", position)
    n, m = _concrete(x, "convolve", position)[0], _concrete(v, "convolve", position)[0]
    if n == 0 or m == 0:
        raise JacValueError("convolve(): neither vector may be empty (NumPy refuses)", position)
    if m > n:  # NumPy swaps them: the longer one slides
        x, v, n, m = v, x, m, n
    full = _padded(b, x, [(m - 1, m - 1)], position)
    start = {"full": 0, "same": (m - 1) // 2, "valid": m - 1}[mode]
    count = {"full": n + m - 1, "same": n, "valid": n - m + 1}[mode]
    at = np.arange(start, start + count)[:, None] + np.arange(m)[None, :]
    win = _take(b, full, (at,), position)
    flipped = _take(b, v, (slice(None, None, -1),), position)
    return einsum_of(b, "ok,k->o", [win, flipped], position)


@function("polyval")
def _polyval(b, args, kwargs, position):
    """np.polyval(p, x): p[0] xⁿ⁻¹ + … + p[n-1] by Horner's rule, as NumPy (which starts from 0 · x)."""
    a = arguments("polyval", args, kwargs, {"p": REQUIRED, "x": REQUIRED}, position)
    p, x = tensor(b, a["p"], "polyval", position), tensor(b, a["x"], "polyval", position)
    if p.ndim != 1:
        raise JacShapeError(f"polyval: the coefficients p must be a vector, got shape {fmt(p.shape)}", position)
    count = _concrete(p, "polyval", position)[0]
    if count == 0:  # NumPy's zeros_like(x)
        shape = _concrete(x, "polyval", position)
        b.check_size(shape, f"polyval's result, shape {fmt(shape)},", position)
        return b.const(np.zeros(shape, dtype=b.dtype), position)
    b.check_nodes(3 * count, f"polyval of {count:,} coefficients", position)
    y = b.apply("mul", x, 0.0, position=position)
    for i in range(count):
        y = b.apply("add", b.apply("mul", y, x, position=position), _take(b, p, (i,), position), position=position)
    return y


# --- the second everyday sweep (benchmarks/vocab_sweep.py): activations, constructors, integrals,
# conditioning, interpolation. Each lowers onto existing ops, which carry the derivatives.

@function("prelu")
def _prelu(b, args, kwargs, position):
    """F.prelu(x, weight): x where x > 0, else weight · x; weight has one element or one per channel
    (axis 1), as PyTorch (whose derivative at 0 is weight's side too)."""
    a = arguments("prelu", args, kwargs, {"x": REQUIRED, "weight": REQUIRED}, position)
    x, w = tensor(b, a["x"], "prelu", position), tensor(b, a["weight"], "prelu", position)
    if w.ndim > 1:
        raise JacShapeError(f"prelu: weight must be a scalar or a vector, got shape {fmt(w.shape)}", position)
    count = _numel(w, position)
    channels = x.shape[1] if x.ndim >= 2 else 1
    if count != 1 and count != channels:
        raise JacShapeError(f"prelu: weight has {count} elements; it needs 1 or one per channel (axis 1 of the "
                            f"input, {channels})", position)
    w = _reshape_to(b, w, (count,) + (1,) * (x.ndim - 2) if count > 1 else (), position)
    slope = b.apply("mul", w, x, position=position)
    return b.apply("where", b.apply("gt", x, 0.0, position=position), x, slope, position=position)


@function("rrelu")
def _rrelu(b, args, kwargs, position):
    """F.rrelu(x, lower=1/8, upper=1/3, training=False): leaky_relu with slope (lower + upper) / 2; in
    training it draws a random slope per element, which jac refuses."""
    a = arguments("rrelu", args, kwargs, {"x": REQUIRED, "lower": 1 / 8, "upper": 1 / 3, "training": False},
                  position)
    lower, upper = (_number(b, a[k], f"rrelu {k}", position) for k in ("lower", "upper"))
    if lower > upper:
        raise JacValueError(f"rrelu(): lower ({lower:g}) must not be greater than upper ({upper:g})", position)
    if _flag(b, a["training"], "training", "rrelu", position):
        raise JacValueError("F.rrelu(x, training=True) is random: each element gets a slope drawn between lower "
                            "and upper, so it has no one Jacobian. Write training=False (slope (lower + upper) / "
                            "2), or bind the slopes r and write torch.where(x >= 0, x, r * x)", position)
    return b.apply("leaky_relu", tensor(b, a["x"], "rrelu", position), slope=(lower + upper) / 2, position=position)


@function("gumbel_softmax")
def _gumbel_softmax(b, args, kwargs, position):
    """F.gumbel_softmax: random (Gumbel noise), refused with what to write instead."""
    raise JacValueError("F.gumbel_softmax adds random Gumbel noise: each call gives other values, so it has no one "
                        "Jacobian. Bind the noise as an input g (g = -log(-log(u)) for uniform u) and write "
                        "F.softmax((logits + g) / tau, dim=-1)", position)


def _float_of(b, args, kwargs, position):
    # float('inf'), float('-inf'), float('nan'), float('1.5'): a number, as Python reads it; x.float()
    # keeps x (jac computes in one dtype), a mask made numbers
    a = arguments("float", args, kwargs, {"x": REQUIRED}, position)
    text = a["x"].value if isinstance(a["x"], Static) else None
    if not isinstance(text, str):
        x = _identity("float")(b, args, kwargs, position)
        warned = note_recast(b, x, "float32", position)
        return float32_made(b, x, as_numbers(b, x, position), warned, "torch", position)
    try:
        return b.const(float(text), position)
    except ValueError:
        raise JacValueError(f"float(): {text!r} is not a number", position) from None


FUNCTIONS["float"] = _float_of


def _python_number(fname):
    """Python's ``float(t)`` / ``int(t)`` / ``bool(t)`` of an array (a bare call; ``t.float()`` is the method): a
    Python number, as PyTorch makes it from a tensor of one element, so a constant (derivative 0, as ``.item()``);
    an array of several elements is refused, as PyTorch and NumPy do."""

    def lower(b, args, kwargs, position):
        if fname == "int" and args and isinstance(args[0], Static) and isinstance(args[0].value, str):
            return _int_of_text(b, args, kwargs, position)
        a = arguments(fname, args, kwargs, {"x": REQUIRED}, position)
        if fname == "float" and isinstance(a["x"], Static) and isinstance(a["x"].value, str):
            return _float_of(b, args, kwargs, position)
        if fname == "bool" and isinstance(a["x"], Static) and isinstance(a["x"].value, str):
            return bool(a["x"].value)  # Python's truth of a string: True unless it is empty
        x = tensor(b, a["x"], fname, position)
        if not is_concrete(x.shape) or _numel(x, position) != 1:
            raise JacValueError(f"{fname}() makes a Python number of an array of one element, got shape "
                                f"{fmt(x.shape)} (for every element, write x.{'long' if fname == 'int' else fname}()"
                                ")", position)
        record_read(b, x, position, {"int": "int", "float": "float", "bool": "test"}[fname])  # JAX's traces raise
        number = b.apply("detach", b.apply("reshape", x, shape=(), position=position), position=position)
        if fname == "int" and b.nodes[number.id].op == "const":  # int(2.7), int(n / 2): Python's int, exact
            return _python_int(b, x, number, position)
        if fname == "int":
            return to_integer(b, number, position)
        return truth(b, number, position) if fname == "bool" else number
    return lower


def _int_of_text(b, args, kwargs, position) -> Tracer:
    """Python's ``int('7')`` / ``int('ff', 16)`` of a string written in the text: a Python int (``b.pyints``);
    Python's ValueError refused with its message."""
    a = arguments("int", args, kwargs, {"x": REQUIRED, "base": 10}, position)
    base = a["base"]
    if isinstance(base, Tracer):
        base = b.pyints.get(base.id)
    if type(base) is not int:
        raise JacValueError("int(text, base): the base must be a Python int written in the text", position)
    try:
        value = int(a["x"].value, base)
    except ValueError as err:
        raise JacValueError(f"int({a['x'].value!r}): Python raises ValueError: {err}", position) from None
    if value.bit_length() > 1024:
        raise JacValueError(f"int({a['x'].value!r}) is past a float's range: jac holds numbers as floats where they "
                            "meet arrays", position)
    out = b.const(float(value), position)
    b.pyints[out.id] = value
    return out


def _python_int(b, x: Tracer, number: Tracer, position) -> Tracer:
    """Python's ``int()`` of a constant: a Python int (``b.pyints``), so ``int(n) ** -1`` is a float and
    ``int(n) * 2**62`` does not wrap, as in Python; NaN and infinities refused as Python refuses them."""
    exact = b.pyints.get(x.id)
    value = float(np.asarray(b.nodes[number.id].value))
    if isinstance(exact, np.ndarray) and exact.size == 1:
        exact = exact.reshape(()).item()
    if type(exact) is bool or not isinstance(exact, (int, np.integer)):
        if not np.isfinite(value):
            raise JacValueError(f"int() of {value}: Python cannot convert {'NaN' if np.isnan(value) else 'infinity'} "
                                f"to an integer", position)
        exact = int(value)
    exact = int(exact)
    out = b.const(float(exact), position)
    b.pyints[out.id] = exact
    return out


for _name in ("float", "int", "bool"):  # bare calls: Python's own float(), int(), bool()
    variant("builtins", _name)(_python_number(_name))


@variant("builtins", "round")
def _python_round(b, args, kwargs, position):
    """Python's ``round(number, ndigits)`` of a constant: a Python float rounds its exact binary value to the
    nearest decimal (``round(2.675, 2)`` is 2.67, as 2.675 is held as 2.67499...), where NumPy's scalars and
    arrays multiply by 10**ndigits first (2.68); jac cannot tell a Python float's constant from a NumPy scalar's,
    so where the two differ it refuses, saying both. ``round(x)`` without ndigits is the same in both (half to
    even) and a Python int; of arrays, NumPy's ``round`` (Python's round refuses arrays and tensors)."""
    a = arguments("round", args, kwargs, {"x": REQUIRED, "ndigits": None}, position)
    x = a["x"]
    if not (isinstance(x, Tracer) and x.ndim == 0 and b.nodes[x.id].op == "const"):
        return _round(b, [x] if a["ndigits"] is None else [x, a["ndigits"]], {}, position)
    ndigits = None if a["ndigits"] is None else static_int(b, a["ndigits"], "round's ndigits", position)
    exact = b.pyints.get(x.id)
    value = float(np.asarray(b.nodes[x.id].value))
    if type(exact) is int:  # Python's int: rounding to negative ndigits only
        python = round(exact, ndigits) if ndigits is not None else exact
        out = b.const(float(python), position)
        b.pyints[out.id] = python
        return out
    if not np.isfinite(value):
        if ndigits is None:
            raise JacValueError(f"round({value}): Python cannot convert {value} to an integer", position)
        return b.const(value, position)
    python = round(value, ndigits)
    numpy = float(np.round(np.float64(value), ndigits or 0))
    if python != numpy:
        raise JacValueError(f"round({value!r}, {ndigits}): Python's round of a float gives {python!r}, NumPy's of a "
                            f"NumPy scalar {numpy!r} (it multiplies by 10**{ndigits} first), and jac cannot tell "
                            f"which this number is: write the number, or np.round(v, {ndigits}) for NumPy's",
                            position)
    out = b.const(float(python), position)
    if ndigits is None:
        b.pyints[out.id] = int(python)
    return out


def _python_extreme(fname: str):
    def lower(b, args, kwargs, position):
        """Python's max(a, b, ...) / min of numbers and 0-d arrays (max(1, x.shape[0]), max(loss, 0)): the
        first of the largest, as Python compares (a later one only where strictly larger; NaN never is), and the
        derivative flows to the one chosen; of one array, or with an axis, jac's max / min (NumPy's)."""
        if len(args) >= 2 and not kwargs and all(isinstance(a, Tracer) and a.ndim == 0 for a in args):
            best = args[0]
            for a in args[1:]:
                larger = boolean(b, b.apply("gt" if fname == "max" else "lt", a, best, position=position))
                best = b.apply("where", larger, a, best, position=position)
            return best
        _iterable(b, fname, args, position)
        return FUNCTIONS[fname](b, args, kwargs, position)
    return lower


def _iterable(b, fname: str, args: list, position: int) -> None:
    """Python's ``max(s)`` / ``min(s)`` / ``sum(s)`` of one argument iterate it: one of Python's numbers (``len(x)``,
    ``x.shape[0]``: a 0-d constant) is refused, as Python refuses it (not NumPy's max of the one element); of a 0-d
    input it is jac's own sum (``sum(x**4)`` at x=2.0)."""
    if len(args) == 1 and (type(args[0]) in (bool, int, float) or isinstance(args[0], Tracer) and args[0].ndim == 0
                           and b.nodes[args[0].id].op == "const"):
        raise JacValueError(f"{fname}() of one number is an error in Python ('int' object is not iterable; "
                            "iteration over a 0-d array): it takes a list, a tuple or an array", position)


for _name in ("max", "min"):
    variant("builtins", _name)(_python_extreme(_name))


@variant("builtins", "sum")
def _python_sum(b, args, kwargs, position):
    """Python's sum of a list of arrays or a comprehension (sum(x[i] ** 2 for i in range(3)), sum([a, b])):
    start (0) + each element, as Python adds them; of one array, jac's sum (NumPy's: every element)."""
    if not kwargs and len(args) == 1 and type(args[0]) is Tracer and args[0].shape:
        # sum(x) of an array of one axis or more: no number _iterable refuses, and FUNCTIONS["sum"]'s first
        # case (_reduction), made without the two calls (session 44: ~2.5 k instructions of E4's and E6's parse)
        x = args[0]
        return b._apply("sum", (x,), position, None, {"axes": tuple(range(len(x.shape))), "keepdims": False})
    if not args or not isinstance(args[0], Items):
        _iterable(b, "sum", args, position)
        return FUNCTIONS["sum"](b, args, kwargs, position)
    a = arguments("sum", args, kwargs, {"iterable": REQUIRED, "start": 0}, position)
    total = a["start"] if isinstance(a["start"], Tracer) else b.const(float(static(b, a["start"], "start", position)),
                                                                         position)
    for item in a["iterable"]:
        total = arithmetic(b, "add", total, item, position)
    return total


def _python_reordered(fname: str):
    def lower(b, args, kwargs, position):
        """Python's reversed(s) / sorted(s, reverse=False) of numbers known without the values (range(x.ndim),
        x.shape): a constant in that order; reversed of a list of arrays or of an array's rows: those arrays
        in reverse. Sorting arrays would compare their values: refused."""
        params = {"x": REQUIRED, "reverse": False} if fname == "sorted" else {"x": REQUIRED}
        a = arguments(fname, args, kwargs, params, position)
        value, backwards = a["x"], fname == "reversed" or static(b, a.get("reverse"), "reverse", position)
        if isinstance(value, Static) and isinstance(value.value, tuple):  # (3, None): sizes
            value = value.value
        if isinstance(value, tuple) and not isinstance(value, Items):
            order = range(len(value)) if fname == "reversed" else sorted(range(len(value)), key=value.__getitem__)
            order = list(order)[::-1] if backwards else list(order)
            return Static(tuple(value[i] for i in order))
        held = b.nodes[value.id] if isinstance(value, Tracer) else None
        if held is not None and held.op == "const" and np.ndim(held.value) == 1:  # numbers known without the values
            exact = b.pyints.get(value.id)
            keys = np.asarray(held.value) if exact is None else np.asarray(exact)
            order = np.arange(len(keys)) if fname == "reversed" else np.argsort(keys, kind="stable")
            order = order[::-1] if backwards else order
            out = b.const(np.asarray(held.value)[order], position)
            if exact is not None:
                b.pyints[out.id] = np.asarray(exact)[order]
            return out
        if fname == "sorted":
            raise JacValueError("sorted() of arrays would compare their values: jac sorts numbers known without them "
                                "(sizes, ranges); for the values write torch.sort / np.sort", position)
        items = list(value) if isinstance(value, Items) else list(FUNCTIONS["list"](b, [value], {}, position))
        return Items(items[::-1])
    return lower


for _name in ("reversed", "sorted"):
    variant("builtins", _name)(_python_reordered(_name))


def python_range(b, args, kwargs, position) -> range:
    """The Python ``range`` of range(stop) / range(start, stop[, step]) written in the text (its arguments
    lowered), checked as Python checks them; nothing allocated (a for loop counts it first)."""
    if kwargs or not 1 <= len(args) <= 3:
        raise JacValueError(f"range() takes 1 to 3 integers, positionally, got {len(args) + len(kwargs)}", position)
    with reads_as(b, "index"):  # range(n) of a traced n: JAX's TracerIntegerConversionError
        bounds = [static(b, a, "range", position) for a in args]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and float(v).is_integer() for v in bounds):
        raise JacValueError("range() takes integers (Python raises TypeError for a float); for a float range write "
                            "np.arange or torch.arange", position)
    if len(bounds) == 3 and int(bounds[2]) == 0:
        raise JacValueError("range() arg 3 must not be zero", position)
    return range(*[int(v) for v in bounds])


@variant("builtins", "range")
def _python_range(b, args, kwargs, position):
    """Python's range(stop) / range(start, stop[, step]) of integers: their constant vector (int64), as
    np.arange of them, so logp[range(n), targets] and torch.tensor(range(3)) read as written."""
    r = python_range(b, args, kwargs, position)
    b.check_size((len(r),), "range()", position)  # before the array is made: range(10**12) is refused at once
    values = np.arange(r.start, r.stop, r.step, dtype=np.int64)
    out = b.const(values.astype(b.dtype), position)
    b.pyints[out.id] = values
    return out


def _new_filled(fname, fill):
    """x.new_zeros(size) / new_ones / new_full(size, fill_value): a constant of that size."""
    def lower(b, args, kwargs, position):
        kwargs = dict(kwargs)
        dtype = _value_options(b, kwargs, fname, position)
        if not args:
            raise JacParseError(f"{fname}() is missing its array", position)
        tensor(b, args[0], fname, position)
        rest = list(args[1:])
        value = fill
        if fill is None:
            if "fill_value" in kwargs:
                value = kwargs.pop("fill_value")
            elif len(rest) == 2:
                value = rest.pop()
            else:
                raise JacParseError(f"{fname}() takes (size, fill_value)", position)
            value = _number(b, value, f"{fname} fill_value", position)
        for key in [k for k in kwargs if k not in ("size", "shape")]:
            raise JacParseError(f"{fname}() has no argument '{key}' (it takes size)", position)
        if "size" in kwargs:
            kwargs["shape"] = kwargs.pop("size")
        shape = _checked(b, _shape_args(b, rest, kwargs, fname, position), fname, position)
        return as_dtype(b, b.const(np.full(shape, value, dtype=b.dtype), position), dtype, position)
    return lower


FUNCTIONS["new_zeros"] = _new_filled("new_zeros", 0.0)
FUNCTIONS["new_ones"] = _new_filled("new_ones", 1.0)
FUNCTIONS["new_full"] = _new_filled("new_full", None)


def _new_tensor(b, args, kwargs, position):
    """x.new_tensor(data): torch.tensor(data) in x's dtype, a copy without derivative, as PyTorch's."""
    if not args:
        raise JacParseError("new_tensor() is missing its array", position)
    tensor(b, args[0], "new_tensor", position)
    return FUNCTIONS["tensor"](b, list(args[1:]), kwargs, position)


FUNCTIONS["new_tensor"] = _new_tensor


@function("vander")
def _vander(b, args, kwargs, position):
    """vander(x, N=len(x), increasing=False): the columns x⁰, x¹, … (reversed unless increasing), each
    the one before times x, as NumPy and PyTorch build them (so x = 0 has its derivative)."""
    a = arguments("vander", args, kwargs, {"x": REQUIRED, "N": None, "increasing": False}, position)
    x = tensor(b, a["x"], "vander", position)
    _need_ndim("vander", x, (1,), position)
    n = _concrete(x, "vander", position)[0]
    count = n if a["N"] is None else static_int(b, a["N"], "N", position)
    if count < 0:
        raise JacValueError(f"vander(): N must be >= 0, got {count}", position)
    _checked(b, (n, count), "vander", position)
    if count == 0:
        return b.const(np.zeros((n, 0), dtype=b.dtype), position)
    columns = _powers(b, x, count, position)
    if not _flag(b, a["increasing"], "increasing", "vander", position):
        columns.reverse()
    return _stack(b, [Items(columns)], {"axis": 1}, position)


def _powers(b, x, count: int, position) -> list:
    """x⁰, x¹, …, x^(count - 1) for count >= 1, each power the one before times x, as NumPy's and PyTorch's
    vander build them (so x = 0 has its derivative)."""
    b.check_nodes(count, f"vander with N = {count:,}", position)
    powers = [b.const(np.ones(x.shape, dtype=b.dtype), position)]
    while len(powers) < count:
        powers.append(x if len(powers) == 1 else b.apply("mul", powers[-1], x, position=position))
    return powers


@function("cumulative_trapezoid", "cumtrapz")
def _cumulative_trapezoid(b, args, kwargs, position):
    """torch.cumulative_trapezoid(y, x=None, dx=1, dim=-1): the running trapezoidal sums (one fewer than y)."""
    a = arguments("cumulative_trapezoid", args, kwargs, {"y": REQUIRED, "x": None, "dx": None, "axis": -1}, position)
    y = tensor(b, a["y"], "cumulative_trapezoid", position)
    if y.ndim == 0:
        raise JacShapeError("cumulative_trapezoid needs at least a vector, got a scalar", position)
    axis = _one_axis(b, a["axis"], y, position, "cumulative_trapezoid")
    if a["x"] is not None and a["dx"] is not None:
        raise JacValueError("cumulative_trapezoid(): give x or dx, not both", position)
    dx = None if a["x"] is not None else 1.0 if a["dx"] is None else _number(b, a["dx"], "dx", position)
    terms, mids = _trapezoids(b, y, axis, a["x"], dx, "cumulative_trapezoid", position, strict=True)
    if terms.shape != mids.shape:
        raise JacShapeError(f"cumulative_trapezoid: x does not match y of shape {fmt(y.shape)}", position)
    if terms.shape[axis] == 0:
        return terms
    return b.apply("cumsum", terms, axis=axis, position=position)


# scipy.integrate and jax.scipy.integrate (session 34b): the trapezoidal rule under SciPy's and JAX's names, the
# same (y, x=None, dx=1.0, axis=-1) as NumPy's; their other integrators (simpson, quad, odeint) are not read
for _root in ("scipy.integrate", "jax.scipy.integrate"):
    MODULES.add(_root)
    LIBRARIES[_root] = _root
    variant(_root, "trapezoid")(_trapezoid)


@variant("scipy.integrate", "cumulative_trapezoid")
def _scipy_cumulative_trapezoid(b, args, kwargs, position):
    """scipy.integrate.cumulative_trapezoid(y, x=None, dx=1.0, axis=-1, initial=None): the running sums, with
    ``initial=0`` a 0 first (as long as y); SciPy raises for any other ``initial``."""
    a = arguments("cumulative_trapezoid", args, kwargs,
                  {"y": REQUIRED, "x": None, "dx": None, "axis": -1, "initial": None}, position)
    initial = None if a["initial"] is None else static(b, a["initial"], "initial", position)
    if initial is not None and initial != 0:
        raise JacValueError(f"cumulative_trapezoid(): `initial` must be `None` or `0` (SciPy raises), got "
                            f"{initial!r}", position)
    dx = a["dx"] if a["x"] is None else None  # SciPy's x wins over dx
    sums = _cumulative_trapezoid(b, [a["y"]], {"x": a["x"], "dx": dx, "axis": a["axis"]}, position)
    if initial is None:
        return sums
    axis = _one_axis(b, a["axis"], sums, position, "cumulative_trapezoid")
    zero = b.const(np.zeros(tuple(1 if i == axis else d for i, d in enumerate(sums.shape)), dtype=b.dtype), position)
    return _concat(b, [zero, sums], axis, "cumulative_trapezoid", position)


@function("cartesian_prod")
def _cartesian_prod(b, args, kwargs, position):
    """torch.cartesian_prod(a, b, ...): every combination of the vectors' elements, one per row."""
    if kwargs:
        raise JacParseError("cartesian_prod() takes only vectors", position)
    if not args:
        raise JacParseError("cartesian_prod() needs at least one vector", position)
    xs = [tensor(b, x, "cartesian_prod", position) for x in args]
    for x in xs:
        _need_ndim("cartesian_prod", x, (1,), position)
    if len(xs) == 1:
        return xs[0]
    sizes = tuple(_concrete(x, "cartesian_prod", position)[0] for x in xs)
    _checked(b, (int(np.prod(sizes)), len(xs)), "cartesian_prod", position)
    grid = np.indices(sizes).reshape(len(xs), -1)
    return _stack(b, [Items([_take(b, x, (g,), position) for x, g in zip(xs, grid)])], {"axis": 1}, position)


def _triangle_indices(fname, lower_part, library):
    """torch.tril_indices(row, col, offset=0): a (2, N) constant; np.tril_indices(n, k=0, m=n): two."""
    def lower(b, args, kwargs, position):
        kwargs = {("offset" if k == "k" else k): v for k, v in kwargs.items()}
        params = {"row": REQUIRED, "col": REQUIRED, "offset": 0} if library == "torch" else \
            {"row": REQUIRED, "offset": 0, "col": None}
        kwargs = {({"n": "row", "m": "col"}.get(k, k) if library != "torch" else k): v for k, v in kwargs.items()}
        a = arguments(fname, args, kwargs, params, position)
        row = static_int(b, a["row"], "row", position)
        col = row if a["col"] is None else static_int(b, a["col"], "col", position)
        if row < 0 or col < 0:
            raise JacValueError(f"{fname}(): sizes must be >= 0, got {row} and {col}", position)
        _checked(b, (row, col), fname, position)
        offset = static_int(b, a["offset"], "offset", position)
        pick = (np.tril_indices if lower_part else np.triu_indices)(row, offset, col)
        if library == "torch":
            return b.const(np.asarray(pick, dtype=b.dtype).reshape(2, -1), position)
        return Items([b.const(np.asarray(i, dtype=b.dtype), position) for i in pick])
    lower.__doc__ = (f"the rows and columns of the {'lower' if lower_part else 'upper'} triangle (constants): "
                     "PyTorch's as one (2, N) array, NumPy's as two")
    return lower


for _library in ("torch", "numpy"):
    variant(_library, "tril_indices")(_triangle_indices("tril_indices", True, _library))
    variant(_library, "triu_indices")(_triangle_indices("triu_indices", False, _library))


@variant("numpy", "diag_indices")
def _diag_indices(b, args, kwargs, position):
    """np.diag_indices(n, ndim=2): ``ndim`` copies of arange(n), the index of the main diagonal (constants)."""
    a = arguments("diag_indices", args, kwargs, {"n": REQUIRED, "ndim": 2}, position)
    n, ndim = static_int(b, a["n"], "n", position), static_int(b, a["ndim"], "ndim", position)
    if n < 0 or ndim < 0:
        raise JacValueError(f"diag_indices(): n and ndim must be non-negative, got {n} and {ndim}", position)
    _checked(b, (n, ndim), "diag_indices", position)
    return Items([_index_constant(b, np.arange(n), "diag_indices()", position) for _ in range(ndim)])


@variant("numpy", "diag_indices_from")
def _diag_indices_from(b, args, kwargs, position):
    """np.diag_indices_from(a): diag_indices of a's side, for an array of at least 2 equal axes."""
    a = arguments("diag_indices_from", args, kwargs, {"x": REQUIRED}, position)
    x = tensor(b, a["x"], "diag_indices_from", position)
    shape = _concrete(x, "diag_indices_from", position)
    if len(shape) < 2 or len(set(shape)) != 1:
        raise JacShapeError(f"diag_indices_from(): the array must be at least 2-d with every axis of one length, "
                            f"got shape {fmt(shape)}", position)
    return Items([_index_constant(b, np.arange(shape[0]), "diag_indices_from()", position) for _ in shape])


@variant("numpy", "ix_")
def _ix(b, args, kwargs, position):
    """np.ix_(*seqs): each 1-d sequence laid along its own axis (shape (1, …, n_k, …, 1)), so that
    ``A[np.ix_(rows, cols)]`` picks the cross product; a boolean sequence stands for its True positions
    (a constant one: where its values are known)."""
    if kwargs:
        raise JacParseError(f"ix_() takes sequences only, not {', '.join(kwargs)}=", position)
    parts = []
    for k, seq in enumerate(args):
        t = tensor(b, seq, "ix_", position)
        if t.ndim != 1:
            raise JacShapeError(f"ix_(): every sequence must be 1-d, got shape {fmt(t.shape)} (argument {k + 1})",
                                position)
        if is_boolean(b, t) or (b.nodes[t.id].op == "const" and np.asarray(b.nodes[t.id].value).dtype == bool):
            if b.nodes[t.id].op != "const":
                raise JacValueError("ix_(): a boolean sequence of the inputs has no fixed length (its True count); "
                                    "jac needs it constant", position)
            t = _index_constant(b, np.flatnonzero(b.nodes[t.id].value), "ix_()", position)
        elif dtypes.kind_of(b, t.id) is None and b.nodes[t.id].op != "const":
            raise JacValueError("ix_(): the sequences are indices: integers or booleans, not floats", position)
        shape = (1,) * k + tuple(t.shape) + (1,) * (len(args) - k - 1)
        parts.append(b.apply("reshape", t, shape=shape, position=position))
    return Items(parts)


def _index_constant(b, values, what: str, position) -> Tracer:
    """Integer indices as a constant, typed int64 (as NumPy's ``arange``) and held in --dtype only where it
    holds them exactly (float32 loses integers past 2**24: refused, as ``arange`` refuses them)."""
    made = b.const(dtypes.held(b, np.asarray(values, dtype=np.int64), what, position), position)
    b.typed[made.id] = (np.dtype(np.int64), constant_library(b))
    return made


@variant("numpy", "imag")
def _imag(b, args, kwargs, position):
    """np.imag(x) of a real array: zeros of its shape (jac's arrays are real; np.real is the array itself)."""
    a = arguments("imag", args, kwargs, {"x": REQUIRED}, position)
    return FUNCTIONS["zeros_like"](b, [tensor(b, a["x"], "imag", position)], {}, position)


@function("gradient")
def _gradient(b, args, kwargs, position, library="numpy"):
    """np.gradient(f, spacing, axis=None, edge_order=1): central differences inside, one-sided (first or
    second order) at the ends, as NumPy; several axes give a tuple. A number per axis as the spacing, or
    constant coordinates (:func:`_gradient_at`); coordinates computed from the inputs are refused."""
    edge = static_int(b, kwargs.get("edge_order", 1), "edge_order", position)
    if edge not in (1, 2):
        raise JacValueError(f"gradient(): edge_order must be 1 or 2, got {edge}", position)
    kwargs = {("axis" if k == "dim" else k): v for k, v in kwargs.items() if k != "edge_order"}
    if library == "torch":
        a = arguments("gradient", args, kwargs, {"f": REQUIRED, "spacing": 1.0, "axis": None}, position)
        f, spacing = tensor(b, a["f"], "gradient", position), a["spacing"]
        if isinstance(spacing, Items):
            spacing = list(spacing)
        else:  # spacing=[0.5, 2.0]: PyTorch's list of numbers, one per dim
            values = static(b, spacing, "spacing", position)  # (torch.tensor(t),): coordinates, one per dim
            spacing = [v if np.ndim(v) else float(v) for v in values] if type(values) is tuple else [spacing]
    else:
        a = arguments("gradient", args[:1], {k: v for k, v in kwargs.items() if k == "axis"},
                      {"f": REQUIRED, "axis": None}, position)
        for key in kwargs:
            if key != "axis":
                raise JacParseError(f"gradient() has no argument '{key}' (it takes f, *varargs, axis, edge_order)",
                                    position)
        f, spacing = tensor(b, a["f"], "gradient", position), list(args[1:]) or [1.0]
    axes = axes_of(b, a["axis"], f, position, "gradient")
    if len(spacing) == 1:
        spacing = spacing * len(axes)
    if len(spacing) != len(axes):
        raise JacValueError(f"gradient(): {len(spacing)} spacings for {len(axes)} axes", position)
    steps = []
    for h in spacing:
        if isinstance(h, Tracer) and b.nodes[h.id].op == "const" and np.ndim(b.nodes[h.id].value) > 0:
            h = b.nodes[h.id].value
        elif isinstance(h, Tracer) and h.ndim > 0:
            raise JacValueError("gradient(): coordinates computed from the inputs are not supported by jac (their "
                                "derivative is not read); give them as constants or the spacing as a number",
                                position)
        steps.append(np.asarray(h, dtype=np.float64) if np.ndim(h) else _number(b, h, "gradient spacing", position))
    parts = [(_gradient_at(b, f, axis, h, edge, position) if np.ndim(h) else
              _gradient_along(b, f, axis, h, edge, position)) for axis, h in zip(axes, steps)]
    return parts[0] if len(parts) == 1 and library != "torch" else Items(parts)


def _gradient_along(b, f, axis, h, edge, position) -> Tracer:
    n = _concrete(f, "gradient", position)[axis]
    if edge == 2 and h == 0:  # NumPy's -1.5 / h of a Python number
        raise JacValueError("gradient(): a spacing of 0 with edge_order=2 divides by zero: NumPy raises "
                            "ZeroDivisionError (PyTorch gives inf, NumPy with a np.float64 spacing NaN at the ends)",
                            position)
    if n < edge + 1:
        raise JacShapeError(f"gradient needs at least {edge + 1} elements along axis {axis} for edge_order={edge}, "
                            f"got {n}", position)

    def at(part):
        return _line(b, f, axis, part, position)

    def combination(terms):
        out = None
        for weight, part in terms:
            term = b.apply("mul", at(part), weight, position=position)
            out = term if out is None else b.apply("add", out, term, position=position)
        return out

    inner = b.apply("div", b.apply("sub", at(slice(2, None)), at(slice(None, -2)), position=position), 2.0 * h,
                    position=position)
    if edge == 1:
        first = b.apply("div", b.apply("sub", at(slice(1, 2)), at(slice(0, 1)), position=position), h,
                        position=position)
        last = b.apply("div", b.apply("sub", at(slice(n - 1, n)), at(slice(n - 2, n - 1)), position=position), h,
                       position=position)
    else:
        first = combination([(-1.5 / h, slice(0, 1)), (2.0 / h, slice(1, 2)), (-0.5 / h, slice(2, 3))])
        last = combination([(0.5 / h, slice(n - 3, n - 2)), (-2.0 / h, slice(n - 2, n - 1)),
                            (1.5 / h, slice(n - 1, n))])
    return _concat(b, [first, inner, last], axis, "gradient", position)


def _gradient_at(b, f, axis, x, edge, position) -> Tracer:
    """np.gradient / torch.gradient along ``axis`` with constant coordinates ``x`` (session 34b): NumPy's
    second-order differences of uneven steps inside, one-sided (first or second order) at the ends."""
    n = _concrete(f, "gradient", position)[axis]
    if x.ndim != 1 or x.shape[0] != n:
        raise JacShapeError(f"gradient(): coordinates of shape {fmt(x.shape)} must be a vector as long as axis "
                            f"{axis}, {n}", position)
    if n < edge + 1:
        raise JacShapeError(f"gradient needs at least {edge + 1} elements along axis {axis} for edge_order={edge}, "
                            f"got {n}", position)
    dx = np.diff(x)
    along = tuple(-1 if i == axis else 1 for i in range(f.ndim))

    def combination(terms):
        out = None
        for weight, part in terms:
            w = np.asarray(weight, dtype=np.float64)
            w = b.const(w.reshape(along).astype(b.dtype), position) if w.ndim else float(w)
            term = b.apply("mul", _line(b, f, axis, part, position), w, position=position)
            out = term if out is None else b.apply("add", out, term, position=position)
        return out

    with np.errstate(divide="ignore", invalid="ignore"):  # repeated coordinates: inf / NaN, as NumPy's
        d1, d2 = dx[:-1], dx[1:]
        inner = combination([(-d2 / (d1 * (d1 + d2)), slice(None, -2)), ((d2 - d1) / (d1 * d2), slice(1, -1)),
                             (d1 / (d2 * (d1 + d2)), slice(2, None))])
        if edge == 1:
            first = combination([(-1 / dx[0], slice(0, 1)), (1 / dx[0], slice(1, 2))])
            last = combination([(-1 / dx[-1], slice(n - 2, n - 1)), (1 / dx[-1], slice(n - 1, n))])
        else:
            h1, h2 = dx[0], dx[1]
            first = combination([(-(2 * h1 + h2) / (h1 * (h1 + h2)), slice(0, 1)), ((h1 + h2) / (h1 * h2), slice(1, 2)),
                                 (-h1 / (h2 * (h1 + h2)), slice(2, 3))])
            h1, h2 = dx[-2], dx[-1]
            last = combination([(h2 / (h1 * (h1 + h2)), slice(n - 3, n - 2)), (-(h1 + h2) / (h1 * h2),
                                slice(n - 2, n - 1)), ((2 * h2 + h1) / (h2 * (h1 + h2)), slice(n - 1, n))])
    return _concat(b, [first, inner, last], axis, "gradient", position)


variant("torch", "gradient")(lambda b, args, kwargs, position: _gradient(b, args, kwargs, position, "torch"))


def _singular_values(b, x, fname, position) -> Tracer:
    if x.ndim < 2:
        raise JacShapeError(f"{fname} needs a matrix, got shape {fmt(x.shape)}", position)
    return _svd_of(b, x, fname, position)[1]


@function("cond")
def _cond(b, args, kwargs, position):
    """cond(A, p=None): σ_max / σ_min for p None, 2 (-2: its inverse); otherwise ‖A‖_p ‖A⁻¹‖_p. σ_max and σ_min
    are the first and last singular values, as NumPy, PyTorch and JAX read them: at a repeated σ_max or σ_min
    their derivatives take LAPACK's basis, so jac refuses it (svdvals' refusal), where ``max`` would split it."""
    a = arguments("cond", args, kwargs, {"x": REQUIRED, "ord": None}, position)
    x = tensor(b, a["x"], "cond", position)
    order = static(b, a["ord"], "p", position)
    if x.ndim >= 2 and 0 in x.shape[-2:]:  # PyTorch says 0, NumPy refuses, for every p: nothing to divide
        raise JacShapeError(f"cond of an empty matrix (shape {fmt(x.shape)}) is not defined (NumPy refuses it: "
                            "there is no singular value)", position)
    if order in (None, 2, -2):
        s = _singular_values(b, x, "cond", position)
        lead = (slice(None),) * (s.ndim - 1)
        big = b.apply("getitem", s, index=lead + (0,), position=position)
        small = b.apply("getitem", s, index=lead + (-1,), position=position)
        return b.apply("div", *((big, small) if order != -2 else (small, big)), position=position)
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise JacShapeError(f"cond with p={order!r} needs square matrices, got shape {fmt(x.shape)}", position)
    axes = (x.ndim - 2, x.ndim - 1)
    inverse = b.apply("inv", x, position=position)
    return b.apply("mul", _matrix_norm(b, x, order, axes, False, position),
                   _matrix_norm(b, inverse, order, axes, False, position), position=position)


@function("matrix_rank")
def _matrix_rank(b, args, kwargs, position):
    """matrix_rank(A, tol=None, hermitian=False; PyTorch also atol=, rtol=): the count of singular values
    above max(atol, rtol · σ_max), rtol = eps · max(m, n) by default, as NumPy and PyTorch (JAX's rtol, its
    second positional argument, is compared with σ itself, as NumPy's tol); no derivative. A
    vector's or a scalar's is NumPy's, 1 unless every element is 0 (tol unread); PyTorch refuses them."""
    a = arguments("matrix_rank", args, kwargs, {"x": REQUIRED, "tol": None, "hermitian": False, "atol": None,
                                                "rtol": None}, position)
    x = tensor(b, _hermitian(b, a["hermitian"], a["x"], "matrix_rank", position, False), "matrix_rank", position)
    if x.ndim < 2:
        if b.library == "torch":
            raise JacShapeError(f"torch.linalg.matrix_rank needs at least 2 dimensions (PyTorch), got shape "
                                f"{fmt(x.shape)}", position)
        # NumPy: int(not all(A == 0)) for a vector or a scalar, whatever tol says (a NaN counts as nonzero)
        nonzero = boolean(b, b.apply("ne", x, 0.0, position=position))
        nonzero = b.apply("reshape", nonzero, shape=(_numel(x, position),), position=position)
        some = boolean(b, b.apply("gt", b.apply("sum", nonzero, axes=(0,), position=position), 0.0,
                                  position=position))
        return b.apply("sum", b.apply("reshape", some, shape=(1,), position=position), axes=(0,),
                       position=position)  # an integer, as NumPy's int(...)
    s = b.apply("detach", _singular_values(b, x, "matrix_rank", position), position=position)
    top = b.apply("max", s, axes=(s.ndim - 1,), keepdims=True, position=position)
    given = {k: None if a[k] is None else _number(b, a[k], k, position) for k in ("tol", "atol", "rtol")}
    if jax_spelled(b) and given["rtol"] is not None:  # JAX compares σ with its rtol (tol, its alias) itself
        if given["tol"] is not None:
            raise JacValueError("jnp.linalg.matrix_rank: only one of tol or rtol may be given (JAX refuses both)",
                                position)
        given["tol"] = given["rtol"]
    if given["tol"] is not None:
        tol = given["tol"]
    else:
        rtol = given["rtol"]
        if rtol is None:
            rtol = 0.0 if given["atol"] is not None else float(np.finfo(b.dtype).eps) * max(x.shape[-2:])
        tol = b.apply("mul", top, rtol, position=position)
        if given["atol"] is not None:
            tol = b.apply("maximum", tol, given["atol"], position=position)
    above = boolean(b, b.apply("gt", s, tol, position=position))  # so the count is an integer, as the libraries'
    return b.apply("sum", above, axes=(s.ndim - 1,), position=position)


@variant("numpy", "vdot")
def _np_vdot(b, args, kwargs, position):
    """np.vdot(a, b): the dot product of the two arrays flattened (same number of elements)."""
    x, y = _two("vdot", b, args, kwargs, position)
    if _numel(x, position) != _numel(y, position):
        raise JacShapeError(f"vdot needs arrays of one size, got shapes {fmt(x.shape)} and {fmt(y.shape)}", position)
    x, y = (_reshape_to(b, t, (_numel(t, position),), position) for t in (x, y))
    return b.apply("sum", b.apply("mul", x, y, position=position), axes=(0,), position=position)


@variant("numpy", "trace")
def _np_trace(b, args, kwargs, position):
    """np.trace(a, offset=0, axis1=0, axis2=1): the sum of the diagonal (the other axes kept)."""
    a = arguments("trace", args, kwargs, {"x": REQUIRED, "offset": 0, "axis1": 0, "axis2": 1}, position)
    d = _diagonal(b, [a["x"], a["offset"], a["axis1"], a["axis2"]], {}, position)
    return b.apply("sum", d, axes=(d.ndim - 1,), position=position)


@function("correlate")
def _correlate(b, args, kwargs, position):
    """np.correlate(a, v, mode='valid'): Σₙ a[n + k] v[n], the convolution with v reversed."""
    a = arguments("correlate", args, kwargs, {"x": REQUIRED, "v": REQUIRED, "mode": Static("valid")}, position)
    x, v = tensor(b, a["x"], "correlate", position), tensor(b, a["v"], "correlate", position)
    if v.ndim != 1:
        raise JacShapeError(f"correlate needs two vectors, got shapes {fmt(x.shape)} and {fmt(v.shape)}", position)
    flipped = _take(b, v, (slice(None, None, -1),), position)
    return _convolve(b, [x, flipped], {"mode": a["mode"]}, position)


@function("addr")
def _addr(b, args, kwargs, position):
    """torch.addr(input, vec1, vec2, beta=1, alpha=1): beta · input + alpha · outer(vec1, vec2)."""
    a = arguments("addr", args, kwargs, {"input": REQUIRED, "vec1": REQUIRED, "vec2": REQUIRED, "beta": 1.0,
                                         "alpha": 1.0}, position)
    x, y = tensor(b, a["vec1"], "addr", position), tensor(b, a["vec2"], "addr", position)
    _need_ndim("addr", x, (1,), position, "first vector")
    _need_ndim("addr", y, (1,), position, "second vector")
    column = _reshape_to(b, x, (x.shape[0], 1), position)
    row = _reshape_to(b, y, (1, y.shape[0]), position)
    return FUNCTIONS["addmm"](b, [a["input"], column, row], {"beta": a["beta"], "alpha": a["alpha"]}, position)


@function("pdist")
def _pdist(b, args, kwargs, position):
    """F.pdist(x, p=2): the p-norm distances between rows i < j of an (N, M) matrix, row by row."""
    a = arguments("pdist", args, kwargs, {"x": REQUIRED, "ord": 2.0}, position)
    x = tensor(b, a["x"], "pdist", position)
    _need_ndim("pdist", x, (2,), position)
    n = _concrete(x, "pdist", position)[0]
    i, j = np.triu_indices(n, 1)
    _checked(b, (len(i), x.shape[1]), "pdist", position)
    p = static(b, a["ord"], "p", position)
    if isinstance(p, (int, float)) and not isinstance(p, bool) and p < 0:
        raise JacValueError(f"pdist: p must be >= 0, got {p!r} (PyTorch raises RuntimeError: pdist only supports "
                            "non-negative p values)", position)
    d = b.apply("sub", _take(b, x, (i,), position), _take(b, x, (j,), position), position=position)
    return _vector_norm(b, d, p, (1,), False, position, distances=True)


@function("bilinear")
def _bilinear(b, args, kwargs, position):
    """F.bilinear(x1 (..., n), x2 (..., m), weight (o, n, m), bias=None (o,)): x1ᵀ W_k x2 + b_k."""
    a = arguments("bilinear", args, kwargs, {"x1": REQUIRED, "x2": REQUIRED, "weight": REQUIRED, "bias": None},
                  position)
    x1, x2, w = (tensor(b, a[k], "bilinear", position) for k in ("x1", "x2", "weight"))
    if w.ndim != 3 or x1.ndim < 1 or x2.ndim < 1 or x1.shape[-1] != w.shape[1] or x2.shape[-1] != w.shape[2] \
            or x1.shape[:-1] != x2.shape[:-1]:
        raise JacShapeError(f"bilinear needs x1 (..., n), x2 (..., m) and weight (o, n, m), got {fmt(x1.shape)}, "
                            f"{fmt(x2.shape)} and {fmt(w.shape)}", position)
    out = einsum_of(b, "...i,kij,...j->...k", [x1, w, x2], position)
    if a["bias"] is None:
        return out
    bias = tensor(b, a["bias"], "bilinear", position)
    if bias.shape != (w.shape[0],):
        raise JacShapeError(f"bilinear: bias must have shape ({w.shape[0]},), got {fmt(bias.shape)}", position)
    return b.apply("add", out, bias, position=position)


def _nan_extreme(fname: str, maximum: bool):
    """np.nanmax / np.nanmin: NaN elements skipped; a line of NaN alone gives NaN (as NumPy)."""
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "axis": None, "keepdims": False}, position)
        x = tensor(b, a["x"], fname, position)
        axes = axes_of(b, a["axis"], x, position, fname)
        keepdims = keepdims_of(b, a["keepdims"], position, kwargs=kwargs)
        present = b.apply("eq", x, x, position=position)
        filled = b.apply("where", present, x, -math.inf if maximum else math.inf, position=position)
        out = b.apply("max" if maximum else "min", filled, axes=axes, keepdims=keepdims, position=position)
        some = b.apply("max", present, axes=axes, keepdims=keepdims, position=position)
        return b.apply("where", some, out, math.nan, position=position)
    return lower


FUNCTIONS["nanmax"] = _nan_extreme("nanmax", True)
FUNCTIONS["nanmin"] = _nan_extreme("nanmin", False)


@function("copysign")
def _copysign(b, args, kwargs, position):
    """copysign(x, y): |x| with the sign bit of y (-0 counts as negative); no derivative by y, and by x
    0 at x = 0, as PyTorch."""
    x, y = _two("copysign", b, args, kwargs, position)
    return _with_sign_of(b, x, nan_sign_bit(b, y, "copysign(x, y) with a NaN in y", position), position)


def _with_sign_of(b, x, bit, position):
    """|x|, negated where ``bit`` (a sign bit, 0 / 1) is 1."""
    size = b.apply("abs", x, position=position)
    return b.apply("where", boolean(b, bit), b.apply("neg", size, position=position), size, position=position)


def _listed(b, value, position):
    """A list argument NumPy iterates over (np.select's condlist and choicelist): a list of arrays as
    written, or a list of constants (``[True]``, ``[0.75 > 0]``), folded into one constant array, by its
    rows; None for anything else (an array an input reaches, ``np.select(x > 0, x)``, is a slip for
    np.where, though NumPy would take its elements as the conditions)."""
    if isinstance(value, Items):
        return list(value)
    if not isinstance(value, Tracer) or value.ndim == 0 or b.nodes[value.id].op != "const":
        return None
    rows = [b.apply("getitem", value, index=(i,), position=position) for i in range(value.shape[0])]
    return [boolean(b, r) for r in rows] if is_boolean(b, value) else rows


@variant("numpy", "select")
def _np_select(b, args, kwargs, position):
    """np.select(condlist, choicelist, default=0): the choice of the first true condition, element by element."""
    a = arguments("select", args, kwargs, {"condlist": REQUIRED, "choicelist": REQUIRED, "default": 0.0}, position)
    conditions, choices = _listed(b, a["condlist"], position), _listed(b, a["choicelist"], position)
    if conditions is None or choices is None:
        raise JacValueError("np.select needs a list of conditions and a list of choices: "
                            "np.select([x > 0, x < -1], [x, -x], 0)", position)
    conditions = [tensor(b, c, "select", position) for c in conditions]
    choices = [tensor(b, c, "select", position) for c in choices]
    if len(conditions) != len(choices):
        raise JacValueError(f"np.select: {len(conditions)} conditions and {len(choices)} choices; they must pair up",
                            position)
    for c in conditions:
        if not is_boolean(b, c):
            raise JacValueError("np.select: each condition must be a boolean (a comparison such as x > 0)", position)
    out = tensor(b, a["default"], "select", position)
    for c, choice in reversed(list(zip(conditions, choices))):
        out = b.apply("where", c, choice, out, position=position)
    return out


def _held(b, value, source, shape, position):
    """``value``'s values (broadcast to ``shape``) with ``source``'s derivative."""
    value = value if value.shape == shape else b.apply("broadcast_to", value, shape=shape, position=position)
    return b.apply("straight_through", b.apply("detach", value, position=position), source, position=position)


def _interp_segment(b, x, lo, hi, f_lo, f_hi, constant, shape, position, special=False):
    """np.interp on the segment [lo, hi) as NumPy's compiled_base.c computes it: ``slope * (x - lo) + f_lo``, which
    is ``f_lo`` at the knot lo where the slope is finite; ``special`` (constant knots and values whose slope is
    not finite, or a value -0.0): ``f_lo`` where x is the knot lo (with the segment's derivative, JAX's at a
    knot), where the line is NaN ``slope * (x - hi) + f_hi``, and where that is NaN too and ``f_lo == f_hi``,
    ``f_lo`` (an infinite value)."""
    width = hi - lo if constant else b.apply("sub", hi, lo, position=position)
    slope = b.apply("div", b.apply("sub", f_hi, f_lo, position=position), width, position=position)
    first = b.apply("add", b.apply("mul", slope, b.apply("sub", x, lo, position=position), position=position), f_lo,
                    position=position)
    if not special:  # finite slopes (checked, or refused at evaluation): NumPy's line is its value
        return first
    second = b.apply("add", b.apply("mul", slope, b.apply("sub", x, hi, position=position), position=position), f_hi,
                     position=position)
    flat = logical("and", b, [boolean(b, b.apply("ne", second, second, position=position)),
                              boolean(b, b.apply("eq", f_lo, f_hi, position=position))], position)
    line = b.apply("where", b.apply("ne", first, first, position=position),
                   b.apply("where", flat, f_lo, second, position=position), first, position=position)
    return b.apply("where", b.apply("eq", x, lo, position=position), _held(b, f_lo, line, shape, position), line,
                   position=position)


def _interp_segment_jax(b, x, lo, hi, f_lo, f_hi, constant, shape, position, special=False):
    """jnp.interp on the segment [lo, hi) as JAX computes it: ``f_lo + ((x - lo) / dx) * (f_hi - f_lo)``, or
    ``f_lo`` where ``|dx|`` is at most the spacing of the dtype's eps (JAX's guard against NaN gradients)."""
    width = hi - lo if constant else b.apply("sub", hi, lo, position=position)
    tiny = float(np.spacing(np.finfo(b.dtype).eps))
    narrow = boolean(b, b.apply("le", b.apply("abs", b.lift(width), position=position), tiny, position=position))
    safe = b.apply("where", narrow, 1.0, width, position=position)
    ratio = b.apply("div", b.apply("sub", x, lo, position=position), safe, position=position)
    line = b.apply("add", f_lo, b.apply("mul", ratio, b.apply("sub", f_hi, f_lo, position=position),
                                        position=position), position=position)
    return b.apply("where", narrow, f_lo, line, position=position)


@function("interp")
def _interp(b, args, kwargs, position):
    """np.interp(x, xp, fp, left=fp[0], right=fp[-1]) and jnp.interp: piecewise linear through (xp, fp), NumPy's
    values (``slope * (x - xp[k]) + fp[k]`` with ``slope = (fp[k+1] - fp[k]) / (xp[k+1] - xp[k])``, its special
    cases: :func:`_interp_segment`) or, spelled jnp., JAX's (:func:`_interp_segment_jax`); x, xp and fp may be
    inputs (session 45). xp must be strictly increasing: a constant is checked here, an input at evaluation.
    The derivatives are JAX's: at a knot the segment to its right (its slope by x, by xp and fp its weights), at
    the last knot the last segment (NumPy's value fp[-1] there, the segment's derivative)."""
    a = arguments("interp", args, kwargs, {"x": REQUIRED, "xp": REQUIRED, "fp": REQUIRED, "left": None,
                                           "right": None, "period": None}, position)
    if a["period"] is not None:
        raise JacValueError("interp(): period= is not supported by jac", position)
    x, fp = tensor(b, a["x"], "interp", position), tensor(b, a["fp"], "interp", position)
    xp = tensor(b, a["xp"], "interp", position)
    if xp.ndim != 1 or fp.ndim != 1 or fp.shape[0] != xp.shape[0] or xp.shape[0] == 0:
        raise JacShapeError(f"interp needs xp and fp of one length, got shapes {fmt(xp.shape)} and "
                            f"{fmt(fp.shape)}", position)
    constant = b.nodes[xp.id].op == "const"
    if constant:
        knots = [float(v) for v in np.asarray(b.nodes[xp.id].value, dtype=np.float64)]
        if not np.all(np.diff(knots) > 0):
            raise JacValueError("interp(): xp must be strictly increasing", position)
    else:
        knots = [_take(b, xp, (k,), position) for k in range(xp.shape[0])]
    at = [_take(b, fp, (k,), position) for k in range(len(knots))]
    left = at[0] if a["left"] is None else tensor(b, a["left"], "interp", position)
    right = at[-1] if a["right"] is None else tensor(b, a["right"], "interp", position)
    shape = broadcast(x.shape, fp.shape[1:])
    jax = jax_spelled(b)
    segment = _interp_segment_jax if jax else _interp_segment
    special = not jax and _interp_special(b, xp, fp)
    lines = [segment(b, x, knots[k], knots[k + 1], at[k], at[k + 1], constant, shape, position, special)
             for k in range(len(knots) - 1)]
    last = at[-1]
    if lines and (jax or special):  # JAX's: the last segment; NumPy's special cases: fp[-1], the line's derivative
        last = lines[-1] if jax else _held(b, at[-1], lines[-1], shape, position)
    elif lines:  # the last segment's line through its end, slope * (x - xp[-1]) + fp[-1]: fp[-1] at the knot (a
        # finite slope times 0), its derivatives the segment's there (JAX's)
        width = knots[-1] - knots[-2] if constant else b.apply("sub", knots[-1], knots[-2], position=position)
        slope = b.apply("div", b.apply("sub", at[-1], at[-2], position=position), width, position=position)
        last = b.apply("add", b.apply("mul", slope, b.apply("sub", x, knots[-1], position=position),
                                      position=position), at[-1], position=position)
    out = math.nan  # where x is NaN (no comparison below holds), but for one knot: NumPy's fp[0] then
    start = 0
    if lines and not (jax or special):  # the first line from the start: below xp[0] left replaces it, and at a NaN
        out, start = lines[0], 1  # x it is NaN (a finite slope times NaN)
    for k in range(start, len(lines)):  # x's segment is the last whose start is at or below x
        out = b.apply("where", b.apply("ge", x, knots[k], position=position), lines[k], out, position=position)
    out = b.apply("where", b.apply("eq", x, knots[-1], position=position), last, out if lines else at[-1],
                  position=position)
    out = b.apply("where", b.apply("gt", x, knots[-1], position=position), right, out, position=position)
    out = b.apply("where", b.apply("lt", x, knots[0], position=position), left, out, position=position)
    if not constant and len(knots) > 1:
        steps = b.apply("sub", _take(b, xp, (slice(1, None),), position), _take(b, xp, (slice(None, -1),), position),
                        position=position)
        bad = b.apply("sum", b.apply("sub", 1.0, b.apply("gt", steps, 0.0, position=position), position=position),
                      axes=(0,), position=position)  # a step not > 0, NaN included
        out = refused(b, out, "interp(): xp must be strictly increasing (NumPy's answer is meaningless otherwise)",
                      where=boolean(b, b.apply("gt", bad, 0.0, position=position)), position=position)
    if not jax and special is None:  # knots or values of the inputs: their slopes must be finite
        slopes = b.apply("div", b.apply("sub", _take(b, fp, (slice(1, None),), position),
                                        _take(b, fp, (slice(None, -1),), position), position=position),
                         b.apply("sub", _take(b, xp, (slice(1, None),), position),
                                 _take(b, xp, (slice(None, -1),), position), position=position), position=position)
        zero = b.apply("sum", refusal(b, INTERP_NOT_FINITE, finite=(slopes, slopes), position=position), axes=(0,),
                       position=position)  # 0, refused where a slope is not finite
        out = b.apply("sub", out, zero, position=position)
    return out


INTERP_NOT_FINITE = ("np.interp(): a slope (fp[k+1] - fp[k]) / (xp[k+1] - xp[k]) is {lo}: fp holds an infinite or "
                     "NaN value, or a slope overflows; NumPy answers there by special cases (fp[k] at a knot, the "
                     "line from the next knot), which jac follows for constant knots and values only")


def _interp_special(b, xp, fp):
    """Does np.interp need NumPy's special cases? False for constant knots and values whose slopes are finite and
    whose values hold no -0.0 (the line is then NumPy's value), True for other constants, None where xp or fp is
    an input (the line, and the slopes refused at evaluation unless finite)."""
    if len(xp.shape) != 1 or xp.shape[0] < 2 or b.nodes[xp.id].op != "const" or b.nodes[fp.id].op != "const":
        return None if xp.shape[0] >= 2 else False
    knots, values = (np.asarray(b.nodes[v.id].value, dtype=b.dtype) for v in (xp, fp))
    with np.errstate(all="ignore"):
        slopes = np.diff(values) / np.diff(knots)
    return not (np.all(np.isfinite(slopes)) and not np.any((values == 0) & np.signbit(values)))


@function("multi_margin_loss")
def _multi_margin_loss(b, args, kwargs, position):
    """F.multi_margin_loss(input (N, C) or (C,), target, p=1, margin=1, weight=None): Σ_(j ≠ y)
    max(0, margin − x[y] + x[j])^p / C per sample, times weight[y]; the derivative is 0 at the kink, as
    PyTorch's (which tests z > 0)."""
    fname = "multi_margin_loss"
    a = _loss_args(fname, args, kwargs, {"x": REQUIRED, "target": REQUIRED, "ord": 1, "margin": 1.0, "weight": None,
                                         "reduction": Static("mean")}, position)
    x, t = tensor(b, a["x"], fname, position), tensor(b, a["target"], fname, position)
    if x.ndim not in (1, 2) or t.shape != x.shape[:-1]:
        raise JacShapeError(f"{fname} needs input (N, C) with target (N,), or (C,) with one target, got "
                            f"{fmt(x.shape)} and {fmt(t.shape)}", position)
    p = static(b, a["ord"], "p", position)
    if p not in (1, 2) or isinstance(p, bool):
        raise JacValueError(f"{fname}(): p must be 1 or 2 (as PyTorch), got {p!r}", position)
    margin = _number(b, a["margin"], "margin", position)
    reduction = _reduction_of(b, a["reduction"], fname, position)
    _fixed_weight(b, a["weight"], fname, "weight", position)
    axis, hot, _, weight = _class_targets(b, x, t, a["weight"], None, fname, position)
    mine = b.apply("ne", hot, 0.0, position=position)
    own = b.apply("sum", b.apply("where", mine, x, 0.0, position=position), axes=(axis,), keepdims=True,
                  position=position)
    raw = b.apply("add", b.apply("sub", x, own, position=position), margin, position=position)
    # PyTorch's kernel adds a term only where z > 0: a NaN term adds nothing (relu would keep the NaN)
    z = b.apply("where", boolean(b, b.apply("gt", raw, 0.0, position=position)), raw, 0.0, position=position)
    if p == 2:
        z = b.apply("mul", z, z, position=position)
    others = b.apply("where", mine, 0.0, z, position=position)
    loss = b.apply("div", b.apply("sum", others, axes=(axis,), position=position), float(x.shape[axis]),
                   position=position)
    if weight is not None:
        picked = b.apply("sum", b.apply("where", mine, weight, 0.0, position=position), axes=(axis,),
                         position=position)
        loss = b.apply("mul", loss, picked, position=position)
    return _reduced_loss(b, loss, reduction, position)


@function("multilabel_margin_loss")
def _multilabel_margin_loss(b, args, kwargs, position):
    """F.multilabel_margin_loss(input (N, C) or (C,), target): per sample Σ_j Σ_i max(0, 1 - x[y_j] + x[i]) / C over
    the target classes y_j (target's entries up to the first -1, a repeat counted again) and the classes i that are
    not targets; a margin term counts only where it is > 0 (PyTorch's z > 0: the derivative is 0 at the kink, and a
    NaN term adds nothing, as in its kernel). The target is a constant or a bound integer array."""
    fname = "multilabel_margin_loss"
    a = _loss_args(fname, args, kwargs, {"x": REQUIRED, "target": REQUIRED, "reduction": Static("mean")}, position)
    x = tensor(b, a["x"], fname, position)
    reduction = _reduction_of(b, a["reduction"], fname, position)
    if x.ndim not in (1, 2) or x.shape[-1] == 0:
        raise JacShapeError(f"{fname} needs input (N, C) or (C,) with C > 0, got {fmt(x.shape)}", position)
    target = index_values(b, a["target"], "target", fname, position)
    if target.shape != tuple(x.shape):
        raise JacShapeError(f"{fname}: target must have the input's shape {fmt(x.shape)}, got {fmt(target.shape)}",
                            position)
    classes = x.shape[-1]
    if target.size and (target.min() < -1 or target.max() >= classes):
        raise JacValueError(f"{fname}: target holds {int(target.min() if target.min() < -1 else target.max())}, "
                            f"out of range: class indices 0 to {classes - 1}, or -1 to end the list", position)
    rows = target.reshape(-1, classes).astype(np.int64)
    weights = np.zeros((len(rows), classes, classes))  # [n, j, i]: how often j is a target times (i is not one)
    for n, row in enumerate(rows):
        listed = row[:np.argmax(row < 0)] if (row < 0).any() else row
        counts = np.bincount(listed, minlength=classes)
        weights[n] = counts[:, None] * (counts == 0)[None, :]
    scores = x if x.ndim == 2 else _reshape_to(b, x, (1, classes), position)
    own = _reshape_to(b, scores, (len(rows), classes, 1), position)
    other = _reshape_to(b, scores, (len(rows), 1, classes), position)
    z = b.apply("add", b.apply("sub", 1.0, own, position=position), other, position=position)
    counted = b.apply("mul", b.apply("gt", z, 0.0, position=position),
                      b.const(weights > 0, position), position=position)
    terms = b.apply("where", counted, b.apply("mul", z, b.const(weights, position), position=position), 0.0,
                    position=position)
    loss = b.apply("div", b.apply("sum", terms, axes=(1, 2), position=position), float(classes), position=position)
    loss = loss if x.ndim == 2 else _reshape_to(b, loss, (), position)
    return _reduced_loss(b, loss, reduction, position)


def _nan_spread(fname: str, root: bool):
    """np.nanvar / np.nanstd(x, axis=None, ddof=0, keepdims=False): of the elements that are not NaN."""
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "axis": None, "ddof": 0, "keepdims": False}, position)
        x = tensor(b, a["x"], fname, position)
        axes = axes_of(b, a["axis"], x, position, fname)
        keepdims = keepdims_of(b, a["keepdims"], position, kwargs=kwargs)
        ddof = _number(b, a["ddof"], "ddof", position)
        present = b.apply("eq", x, x, position=position)
        count = b.apply("sum", present, axes=axes, keepdims=True, position=position)
        clean = b.apply("where", present, x, 0.0, position=position)
        mean = b.apply("div", b.apply("sum", clean, axes=axes, keepdims=True, position=position), count,
                       position=position)
        d = b.apply("where", present, b.apply("sub", x, mean, position=position), 0.0, position=position)
        total = b.apply("sum", b.apply("mul", d, d, position=position), axes=axes, keepdims=keepdims,
                        position=position)
        if not keepdims:
            count = b.apply("sum", present, axes=axes, keepdims=False, position=position)
        dof = b.apply("sub", count, ddof, position=position)
        # NumPy's NaN where the degrees of freedom are 0 or fewer (all NaN, or ddof >= the count): not 0 / -1
        var = b.apply("where", b.apply("le", dof, 0.0, position=position), math.nan,
                      b.apply("div", total, dof, position=position), position=position)
        return b.apply("sqrt", var, position=position) if root else var
    return lower


FUNCTIONS["nanvar"] = _nan_spread("nanvar", False)
FUNCTIONS["nanstd"] = _nan_spread("nanstd", True)


# --- a 0-d tensor along dim 0 ---------------------------------------------------------------------
# PyTorch reads dim 0 (or -1) of a 0-d tensor as one axis of length 1 and returns 0-d results:
# torch.sort(s) and torch.max(s, 0) give 0-d values and indices, torch.softmax(s, 0) gives 1.0. These
# selections and normalizations are lowered on the 0-d array seen as (1,), and each result of
# shape (1,) seen as () again (their lowerings index axis 0 of the array, which a 0-d one lacks).
SCALAR_AS_VECTOR = ("max", "min", "argmax", "argmin", "sort", "argsort", "msort", "topk", "cummax", "cummin",
                    "softmax", "log_softmax", "softmin", "normalize", "median", "kthvalue")


def _scalar_as_vector(lower):
    def lowered(b, args, kwargs, position):
        if args and isinstance(args[0], Tracer) and args[0].shape:  # an array of 1-d or more: as the test below
            return lower(b, args, kwargs, position)
        arrays = [v for v in list(args) + list(kwargs.values()) if isinstance(v, Tracer)]
        x = args[0] if args else kwargs.get("input", kwargs.get("x", kwargs.get("a")))
        if not isinstance(x, Tracer) or x.ndim != 0 or any(v.ndim != 0 for v in arrays):
            return lower(b, args, kwargs, position)  # anything broadcasting a (1,) result is left alone
        _refuse_0d_axis_given(b, args, kwargs, None, position)  # np.median(s, axis=0): AxisError
        one = b.apply("reshape", x, shape=(1,), position=position)
        if args:
            args = (one,) + tuple(args[1:])
        else:
            kwargs = {k: one if v is x else v for k, v in kwargs.items()}
        try:
            return _as_scalar(b, lower(b, args, kwargs, position), position)
        except JacError as err:
            raise type(err)(f"{err.message} (a 0-d array is read as shape (1,) along dim 0, as PyTorch does)",
                            err.position if err.position is not None else position) from None
    return lowered


def _as_scalar(b, out, position):
    """``out`` (an array or a pair of them) with each part of shape (1,) seen as ()."""
    def scalar(t):
        return b.apply("reshape", t, shape=(), position=position) if tuple(t.shape) == (1,) else t
    if isinstance(out, Pair):
        parts = {name: (lambda name=name: scalar(out.part(name))) for name in out.names}
        return Pair(scalar(out), parts, out.reading, out.fname, out.names)
    return scalar(out) if isinstance(out, Tracer) else out


for _name in SCALAR_AS_VECTOR:
    if _name in FUNCTIONS:
        FUNCTIONS[_name] = _scalar_as_vector(FUNCTIONS[_name])
    for _key in [k for k in LIBRARY_FUNCTIONS if k[1] == _name and k[0] != "builtins"]:  # builtins: Python's max(a, b)
        LIBRARY_FUNCTIONS[_key] = _scalar_as_vector(LIBRARY_FUNCTIONS[_key])              # calls FUNCTIONS' own


def _topk_of_scalar(lower):
    """PyTorch's topk of a 0-d array is the element (0-d value, index 0) for k = 0 as for k = 1."""
    def lowered(b, args, kwargs, position):
        x = args[0] if args else kwargs.get("input", kwargs.get("x"))
        if isinstance(x, Tracer) and x.ndim == 0:
            if len(args) > 1 and static_int(b, args[1], "k", position) == 0:
                args = (args[0], b.const(1.0, position)) + tuple(args[2:])
            elif "k" in kwargs and static_int(b, kwargs["k"], "k", position) == 0:
                kwargs = {**kwargs, "k": b.const(1.0, position)}
        return lower(b, args, kwargs, position)
    return lowered


FUNCTIONS["topk"] = _topk_of_scalar(FUNCTIONS["topk"])


# --- sizes as numbers: x.shape, x.size(d), len(x), x.numel(), x.ndim ------------------------------
# Constants of the graph (a graph is made per input shapes), never differentiated, as in PyTorch,
# where they are Python ints: x.sum() / x.shape[0], x.reshape(x.shape[0], -1), torch.ones(x.shape).

def sizes_of(b, x: Tracer, what: str, position) -> Tracer:
    """``x.shape`` as a constant vector of its sizes (floats, as every number; ``x.shape[0]`` is one)."""
    if not is_concrete(x.shape):
        raise JacShapeError(f"{what} needs concrete sizes, but {fmt(x.shape)} is symbolic", position)
    out = b.const(np.array([float(d) for d in x.shape], dtype=b.dtype), position)
    b.pyints[out.id] = np.array(x.shape, dtype=np.int64)  # Python ints: x.shape[0].bit_length()
    return out


def size_int(b, n: int, position) -> Tracer:
    """A size (``len(x)``, ``x.ndim``, ``x.size(0)``, ``x.numel()``): a Python int, held exactly (``b.pyints``)."""
    out = b.const(float(n), position)
    b.pyints[out.id] = int(n)
    return out


def _size_number(b, x: Tracer, axis, what: str, position) -> Tracer:
    if axis is None:
        return size_int(b, _numel(x, position), position)
    axis = _one_axis(b, axis, x, position, what) if x.ndim else None
    if axis is None:
        raise JacShapeError(f"{what}: a 0-d array has no dimension to take the size of", position)
    if not isinstance(x.shape[axis], int):
        raise JacShapeError(f"{what} needs concrete sizes, but {fmt(x.shape)} is symbolic", position)
    return size_int(b, x.shape[axis], position)


@variant("method", "size")
def _torch_size(b, args, kwargs, position):
    """PyTorch's ``x.size()`` (the shape) and ``x.size(dim)`` (one size)."""
    a = arguments("size", args, kwargs, {"x": REQUIRED, "axis": None}, position)
    x = tensor(b, a["x"], "size", position)
    if a["axis"] is None:
        return sizes_of(b, x, ".size()", position)
    return _size_number(b, x, a["axis"], ".size(dim)", position)


@function("size")
def _np_size(b, args, kwargs, position):
    """NumPy's ``np.size(x)`` (the number of elements) and ``np.size(x, axis)``."""
    a = arguments("size", args, kwargs, {"x": REQUIRED, "axis": None}, position)
    return _size_number(b, tensor(b, a["x"], "size", position), a["axis"], "size", position)


@function("numel", "nelement")
def _numel_of(b, args, kwargs, position):
    x = tensor(b, arguments("numel", args, kwargs, {"x": REQUIRED}, position)["x"], "numel", position)
    return _size_number(b, x, None, "numel", position)


@function("ndim", "dim")
@variant("method", "ndimension")
def _ndim_of(b, args, kwargs, position):
    x = tensor(b, arguments("ndim", args, kwargs, {"x": REQUIRED}, position)["x"], "ndim", position)
    return size_int(b, x.ndim, position)


@function("shape")
def _shape_of(b, args, kwargs, position):
    x = tensor(b, arguments("shape", args, kwargs, {"x": REQUIRED}, position)["x"], "shape", position)
    return sizes_of(b, x, "shape", position)


@function("len")
def _len(b, args, kwargs, position):
    """Python's ``len(x)``: the size of the first dimension."""
    x = tensor(b, arguments("len", args, kwargs, {"x": REQUIRED}, position)["x"], "len", position)
    if x.ndim == 0:
        raise JacShapeError("len() of a 0-d array is not defined (PyTorch and NumPy refuse it)", position)
    return _size_number(b, x, 0, "len", position)


ATTRIBUTES = {  # x.NAME without a call: what it is, from the array's shape
    "shape": lambda b, x, position: sizes_of(b, x, ".shape", position),
    "ndim": lambda b, x, position: size_int(b, x.ndim, position),
    "size": lambda b, x, position: _size_number(b, x, None, ".size", position),  # NumPy's attribute
    "real": lambda b, x, position: x,  # the real part of a real array: itself, derivative and all
    # pasted code's torch.ones(3, dtype=x.dtype, device=x.device), x.to(y.device): what x is in jac
    "device": lambda b, x, position: Static("cpu"),
    "dtype": lambda b, x, position: _dtype_of(b, x),
    "data": detached,  # PyTorch's x.data (code older than x.detach()): the values without their graph
}


def _dtype_of(b, x: Tracer) -> Static:
    """``x.dtype``: an integer or boolean constant's own dtype (ir/dtypes.py), a mask's bool, else --dtype."""
    typed = b.typed.get(x.id)
    if typed is not None:
        name = np.dtype(typed[0]).name
        return Static(DType(name, DTYPES.get(name, np.dtype(typed[0]).kind), typed[1]))
    if is_boolean(b, x):
        return Static(DType("bool", "b"))
    return Static(DType(np.dtype(b.dtype).name, "f"))


# --- PART vocab2: the calls the sweep (benchmarks/vocab_sweep.py) still found refused. Each lowers onto
# existing ops, which carry the derivatives (the Bessel functions i0 i0e i1 i1e are ops of their own).

def _positive_int(b, value, what, fname, position, least=1) -> int:
    v = static_int(b, value, what, position)
    if v < least:
        raise JacValueError(f"{fname}(): {what} must be >= {least}, got {v}", position)
    return v


@function("renorm")
def _renorm(b, args, kwargs, position):
    """torch.renorm(x, p, dim, maxnorm): each slice along dim whose p-norm exceeds maxnorm scaled by
    maxnorm / (norm + 1e-7), as PyTorch (its derivative is this product's, the norm's included)."""
    a = arguments("renorm", args, kwargs, {"x": REQUIRED, "ord": REQUIRED, "axis": REQUIRED, "maxnorm": REQUIRED},
                  position)
    x = tensor(b, a["x"], "renorm", position)
    if x.ndim < 2:
        raise JacShapeError(f"renorm: the input needs at least 2 dimensions (as PyTorch), got shape {fmt(x.shape)}",
                            position)
    p, maxnorm = _number(b, a["ord"], "renorm's p", position), _number(b, a["maxnorm"], "renorm's maxnorm", position)
    if not p > 0:
        raise JacValueError(f"renorm(): p must be positive (PyTorch refuses a non-positive norm), got {p!r}", position)
    if not maxnorm >= 0:
        raise JacValueError(f"renorm(): maxnorm must be >= 0, got {maxnorm!r}", position)
    axis = _axis(b, a["axis"], x.ndim, "renorm", position)
    norm = _vector_norm(b, x, p, tuple(i for i in range(x.ndim) if i != axis), True, position)
    factor = b.apply("div", maxnorm, b.apply("add", norm, 1e-7, position=position), position=position)
    return b.apply("where", b.apply("gt", norm, maxnorm, position=position),
                   b.apply("mul", x, factor, position=position), x, position=position)


@function("entr")
def _entr(b, args, kwargs, position):
    """torch.special.entr(x) = -x log x: 0 at 0, -inf for x < 0 (derivative NaN there, as PyTorch's);
    d/dx = -(log x + 1), +inf at 0 as PyTorch's."""
    x = tensor(b, arguments("entr", args, kwargs, {"x": REQUIRED}, position)["x"], "entr", position)
    negative = b.apply("lt", x, 0.0, position=position)
    # x log x of 1 where x < 0, so no NaN of log reaches the derivative of the -inf taken there (both modes 0);
    # PyTorch's zeros: +0 at x = ±0, -0 at x = 1
    xlogx = b.apply("xlogx", b.apply("where", negative, 1.0, x, position=position), position=position)
    inside = b.apply("where", b.apply("eq", x, 0.0, position=position), b.apply("sub", 0.0, xlogx, position=position),
                     b.apply("neg", xlogx, position=position), position=position)
    # x < 0: log(0 · tanh(x)) = log(-0) = -inf, whose derivative is (1 / -0) · 0 = NaN in both modes, as
    # PyTorch's (tanh keeps x = -inf out of 0 · x = NaN; max(x, -1) did, but its derivative is a mask, 0 below -1,
    # which would make that NaN 0); log of 1 elsewhere, so that no NaN of this branch reaches the derivative
    # where it is not taken
    zero = b.apply("mul", 0.0, b.apply("tanh", x, position=position), position=position)
    outside = b.apply("log", b.apply("where", negative, zero, 1.0, position=position), position=position)
    return b.apply("where", negative, outside, inside, position=position)


def _pixel_shuffle(unshuffle: bool):
    fname, key = ("pixel_unshuffle", "downscale_factor") if unshuffle else ("pixel_shuffle", "upscale_factor")

    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, key: REQUIRED}, position)
        x = tensor(b, a["x"], fname, position)
        r = _positive_int(b, a[key], key, fname, position)
        if x.ndim < 3:
            raise JacShapeError(f"{fname}: the input must be (*, C, H, W), at least 3 dimensions; got shape "
                                f"{fmt(x.shape)}", position)
        *lead, c, h, w = _concrete(x, fname, position)
        lead, n = tuple(lead), len(lead)
        if unshuffle:  # (*, C, H r, W r) -> (*, C, H, r, W, r) -> (*, C, r, r, H, W) -> (*, C r², H, W)
            if h % r or w % r:
                raise JacShapeError(f"{fname}: the height and width, {h} and {w}, must be multiples of "
                                    f"{key} {r}", position)
            y = _reshape_to(b, x, lead + (c, h // r, r, w // r, r), position)
            y = _permute(b, y, tuple(range(n)) + tuple(n + i for i in (0, 2, 4, 1, 3)), position)
            return _reshape_to(b, y, lead + (c * r * r, h // r, w // r), position)
        if c % (r * r):  # (*, C r², H, W) -> (*, C, r, r, H, W) -> (*, C, H, r, W, r) -> (*, C, H r, W r)
            raise JacShapeError(f"{fname}: the channels, {c}, must be a multiple of {key}² = {r * r}", position)
        y = _reshape_to(b, x, lead + (c // (r * r), r, r, h, w), position)
        y = _permute(b, y, tuple(range(n)) + tuple(n + i for i in (0, 3, 1, 4, 2)), position)
        return _reshape_to(b, y, lead + (c // (r * r), h * r, w * r), position)
    return lower


FUNCTIONS["pixel_shuffle"] = _pixel_shuffle(False)
FUNCTIONS["pixel_unshuffle"] = _pixel_shuffle(True)
FUNCTIONS["pixel_shuffle"].__doc__ = ("F.pixel_shuffle(x, r): (*, C r², H, W) to (*, C, H r, W r), a reshape and a "
                                      "permutation, as PyTorch.")
FUNCTIONS["pixel_unshuffle"].__doc__ = "F.pixel_unshuffle(x, r): its inverse, (*, C, H r, W r) to (*, C r², H, W)."


@function("channel_shuffle", "native_channel_shuffle")
def _channel_shuffle(b, args, kwargs, position):
    """F.channel_shuffle(x, groups): (N, C, *) with its channels read as (groups, C / groups) and
    transposed, a reshape and a permutation, as PyTorch (ShuffleNet's shuffle)."""
    fname = "channel_shuffle"
    a = arguments(fname, args, kwargs, {"x": REQUIRED, "groups": REQUIRED}, position)
    x = tensor(b, a["x"], fname, position)
    groups = _positive_int(b, a["groups"], "groups", fname, position)
    if x.ndim < 3:
        raise JacShapeError(f"{fname}: the input must be (N, C, *), at least 3 dimensions (as PyTorch); got shape "
                            f"{fmt(x.shape)}", position)
    n, c, *rest = _concrete(x, fname, position)
    if c % groups:
        raise JacShapeError(f"{fname}: the {c} channels must be a multiple of groups={groups}", position)
    y = _reshape_to(b, x, (n, groups, c // groups, *rest), position)
    y = _permute(b, y, (0, 2, 1) + tuple(range(3, y.ndim)), position)
    return _reshape_to(b, y, x.shape, position)


@function("local_response_norm")
def _local_response_norm(b, args, kwargs, position):
    """F.local_response_norm(x, size, alpha=1e-4, beta=0.75, k=1.0): x / (k + alpha · mean of x² over
    ``size`` neighbouring channels, zeros past the ends)^beta, as PyTorch (an average pool of the squares)."""
    a = arguments("local_response_norm", args, kwargs,
                  {"x": REQUIRED, "size": REQUIRED, "alpha": 1e-4, "beta": 0.75, "k": 1.0}, position)
    x = tensor(b, a["x"], "local_response_norm", position)
    if x.ndim < 3:
        raise JacShapeError(f"local_response_norm: the input must be (N, C, ...), at least 3 dimensions; got shape "
                            f"{fmt(x.shape)}", position)
    size = _positive_int(b, a["size"], "size", "local_response_norm", position)
    alpha, beta, k = (_number(b, a[key], f"local_response_norm's {key}", position) for key in ("alpha", "beta", "k"))
    shape = _concrete(x, "local_response_norm", position)
    c = shape[1]
    padded = b.apply("scatter", b.apply("mul", x, x, position=position),
                     index=(slice(None), slice(size // 2, size // 2 + c)),
                     shape=(shape[0], c + size - 1) + shape[2:], position=position)
    total = None
    for j in range(size):
        part = _take(b, padded, (slice(None), slice(j, j + c)), position)
        total = part if total is None else b.apply("add", total, part, position=position)
    mean = b.apply("div", total, float(size), position=position)
    scale = b.apply("add", b.apply("mul", mean, alpha, position=position), k, position=position)
    return b.apply("div", x, b.apply("pow", scale, beta, position=position), position=position)


@function("householder_product", "orgqr")
def _householder_product(b, args, kwargs, position):
    """torch.linalg.householder_product(A, tau): the first n columns of H₁ ⋯ H_k, Hᵢ = I - τᵢ vᵢ vᵢᵀ with vᵢ
    column i of A below the diagonal and 1 on it (LAPACK's orgqr), applied right to left to I."""
    a = arguments("householder_product", args, kwargs, {"x": REQUIRED, "tau": REQUIRED}, position)
    x, tau = tensor(b, a["x"], "householder_product", position), tensor(b, a["tau"], "householder_product", position)
    if x.ndim < 2 or tau.ndim != x.ndim - 1:
        raise JacShapeError(f"householder_product: needs A (*, m, n) and tau (*, k), got shapes {fmt(x.shape)} and "
                            f"{fmt(tau.shape)}", position)
    shape, k = _concrete(x, "householder_product", position), _concrete(tau, "householder_product", position)[-1]
    m, n = shape[-2:]
    if not m >= n >= k or tuple(tau.shape[:-1]) != shape[:-2]:
        raise JacShapeError(f"householder_product: A (*, m, n) and tau (*, k) need m >= n >= k and one batch shape, "
                            f"got {fmt(x.shape)} and {fmt(tau.shape)}", position)
    eye = np.eye(m, n, dtype=b.dtype)
    v = b.apply("add", b.apply("mul", x, b.const(np.tril(np.ones((m, n), dtype=b.dtype), -1), position),
                               position=position), b.const(eye, position), position=position)
    q = b.const(np.broadcast_to(eye, shape).copy(), position)
    lead = (slice(None),) * (len(shape) - 2)
    for i in reversed(range(k)):
        column = _take(b, v, lead + (slice(None), slice(i, i + 1)), position)                  # (*, m, 1)
        row = b.apply("matmul", matrix_transpose(b, column, position), q, position=position)  # vᵀ Q: (*, 1, n)
        t = _reshape_to(b, _take(b, tau, lead + (slice(i, i + 1),), position), shape[:-2] + (1, 1), position)
        q = b.apply("sub", q, b.apply("mul", t, b.apply("mul", column, row, position=position), position=position),
                    position=position)
    return q


@function("tensorinv")
def _tensorinv(b, args, kwargs, position):
    """tensorinv(a, ind=2): the inverse of a read as a prod(shape[:ind]) × prod(shape[ind:]) matrix, shaped
    shape[ind:] + shape[:ind] (NumPy's and PyTorch's)."""
    a = arguments("tensorinv", args, kwargs, {"x": REQUIRED, "ind": 2}, position)
    x = tensor(b, a["x"], "tensorinv", position)
    ind = _positive_int(b, a["ind"], "ind", "tensorinv", position)
    shape = _concrete(x, "tensorinv", position)
    rows, cols = math.prod(shape[:ind]), math.prod(shape[ind:])
    if ind > x.ndim or rows != cols:
        raise JacShapeError(f"tensorinv: shape {fmt(shape)} with ind={ind} is not square: the product of the first "
                            f"{ind} sizes ({rows}) must equal the product of the rest ({cols})", position)
    if rows == 0 and (b.call or "").startswith(("np.", "numpy.")):  # JAX and PyTorch answer the empty inverse
        raise JacShapeError(f"np.linalg.tensorinv of an empty array (shape {fmt(shape)}) raises in NumPy: its "
                            f"a.reshape({math.prod(shape[ind:])}, -1) cannot infer a size of an empty array, or "
                            "inv refuses the (n, 0) matrix it makes; jnp.linalg.tensorinv and "
                            "torch.linalg.tensorinv answer an empty inverse", position)
    inverse = b.apply("inv", _reshape_to(b, x, (rows, cols), position), position=position)
    return _reshape_to(b, inverse, shape[ind:] + shape[:ind], position)


@function("tensorsolve")
def _tensorsolve(b, args, kwargs, position):
    """tensorsolve(a, b, axes=None): x with tensordot(a, x, x.ndim) = b; ``axes`` (PyTorch's ``dims``) of a
    are moved to the end first (NumPy's and PyTorch's)."""
    kwargs = {("axes" if k == "dims" else k): v for k, v in kwargs.items()}
    a = arguments("tensorsolve", args, kwargs, {"x": REQUIRED, "y": REQUIRED, "axes": None}, position)
    x, y = tensor(b, a["x"], "tensorsolve", position), tensor(b, a["y"], "tensorsolve", position)
    if a["axes"] is not None:
        moved = [_axis(b, k, x.ndim, "tensorsolve", position, "axes") for k in static_ints(b, a["axes"], "axes",
                                                                                            position)]
        x = _permute(b, x, [i for i in range(x.ndim) if i not in moved] + moved, position)
    shape = _concrete(x, "tensorsolve", position)
    rest = shape[y.ndim:]
    count = math.prod(rest)
    if math.prod(shape) != count * count or math.prod(_concrete(y, "tensorsolve", position)) != count:
        raise JacShapeError(f"tensorsolve: a of shape {fmt(shape)} and b of shape {fmt(y.shape)} need "
                            "prod(a.shape[b.ndim:]) == prod(a.shape[:b.ndim]) == b.size", position)
    matrix = _reshape_to(b, x, (count, count), position)
    out = b.apply("solve", matrix, _reshape_to(b, y, (count, 1), position), position=position)
    return _reshape_to(b, out, rest, position)


@function("unwrap")
def _unwrap(b, args, kwargs, position):
    """np.unwrap(p, discont=None, axis=-1, period=2π): NumPy's steps (the jumps' corrections, whole periods,
    added up along axis); the corrections are constant between jumps, so d unwrap(p) / dp = I."""
    a = arguments("unwrap", args, kwargs, {"p": REQUIRED, "discont": None, "axis": -1, "period": 2 * math.pi},
                  position)
    p = tensor(b, a["p"], "unwrap", position)
    if p.ndim == 0:
        raise JacShapeError("unwrap: needs an array of at least 1 dimension, got a 0-d one", position)
    axis = _axis(b, a["axis"], p.ndim, "unwrap", position, "axis")
    period = _number(b, a["period"], "unwrap's period", position)
    discont = period / 2 if a["discont"] is None else _number(b, a["discont"], "unwrap's discont", position)
    n = _concrete(p, "unwrap", position)[axis]
    if n < 2:
        return p
    lead = (slice(None),) * axis
    rest = _take(b, p, lead + (slice(1, None),), position)
    dd = b.apply("sub", rest, _take(b, p, lead + (slice(None, -1),), position), position=position)
    high = period / 2
    ddmod = b.apply("sub", b.apply("remainder", b.apply("add", dd, high, position=position), period,
                                   position=position), high, position=position)
    ambiguous = b.apply("mul", b.apply("eq", ddmod, -high, position=position), b.apply("gt", dd, 0.0,
                                                                                        position=position),
                        position=position)
    ddmod = b.apply("where", ambiguous, high, ddmod, position=position)
    small = b.apply("lt", b.apply("abs", dd, position=position), discont, position=position)
    correct = b.apply("where", small, 0.0, b.apply("sub", ddmod, dd, position=position), position=position)
    correct = b.apply("detach", b.apply("cumsum", correct, axis=axis, position=position), position=position)
    return _concat(b, [_take(b, p, lead + (slice(0, 1),), position),
                       b.apply("add", rest, correct, position=position)], axis, "unwrap", position)


@function("polyfit")
def _polyfit(b, args, kwargs, position):
    """np.polyfit(x, y, deg, w=None): least squares over NumPy's column-scaled Vandermonde matrix, solved
    by QR (full rank needed: at least deg + 1 points); refused where NumPy's lstsq would drop a singular value
    below rcond (its default len(x)·eps), so never a different fit. Derivatives by x, y and w."""
    a = arguments("polyfit", args, kwargs, {"x": REQUIRED, "y": REQUIRED, "deg": REQUIRED, "rcond": None,
                                            "full": False, "w": None, "cov": False}, position)
    x, y = tensor(b, a["x"], "polyfit", position), tensor(b, a["y"], "polyfit", position)
    deg = _positive_int(b, a["deg"], "deg", "polyfit", position, least=0)
    for key, what in (("full", "residuals, rank and singular values"), ("cov", "covariance")):
        if _flag(b, a[key], key, "polyfit", position):
            raise JacValueError(f"polyfit(): {key}=True (the {what}) is not supported; jac gives the coefficients",
                                position)
    if x.ndim != 1 or not x.shape[0] or y.ndim not in (1, 2) or y.shape[0] != x.shape[0]:
        raise JacShapeError(f"polyfit: needs x, a non-empty vector, and y of its length (1-d or 2-d), got shapes "
                            f"{fmt(x.shape)} and {fmt(y.shape)}", position)
    count = _concrete(x, "polyfit", position)[0]
    rcond = count * float(np.finfo(b.dtype).eps) if a["rcond"] is None else _number(b, a["rcond"], "rcond", position)
    lhs = _vander(b, [x, float(deg + 1)], {}, position)
    rhs = y
    if a["w"] is not None:
        w = tensor(b, a["w"], "polyfit", position)
        if tuple(w.shape) != (count,):
            raise JacShapeError(f"polyfit: w must be a vector of x's length, got shape {fmt(w.shape)}", position)
        column = _reshape_to(b, w, (count, 1), position)
        lhs = b.apply("mul", lhs, column, position=position)
        rhs = b.apply("mul", rhs, column if y.ndim == 2 else w, position=position)
    scale = b.apply("sqrt", b.apply("sum", b.apply("mul", lhs, lhs, position=position), axes=(0,),
                                    position=position), position=position)
    lhs = b.apply("div", lhs, scale, position=position)
    who = ("polyfit: the least-squares fit is not unique (fewer distinct x than deg + 1 coefficients: the "
           "Vandermonde matrix is rank-deficient), and has no derivative there")
    if count < deg + 1:
        raise JacValueError(who, position)
    column = rhs if y.ndim == 2 else _reshape_to(b, rhs, (count, 1), position)
    c = _full_rank_lstsq(b, lhs, column, position, who)  # by QR: the normal equations would square cond
    c = b.apply("div", c, _reshape_to(b, scale, (deg + 1, 1), position), position=position)
    c = _rank_checked(b, lhs, c, rcond, 0.0, position, f"{who}: a singular value of the scaled Vandermonde matrix "
                      "is at or below rcond·σmax (default len(x)·eps), where NumPy's lstsq would drop it")
    return c if y.ndim == 2 else _reshape_to(b, c, (deg + 1,), position)


def _nanmedian(library):
    """torch.nanmedian: the lower median of the elements that are not NaN (with a dim: values, indices; without,
    its derivative shared among the elements equal to it, as PyTorch's);
    np.nanmedian: NumPy's mean of the middle one or two (np.ma.median's of the two along a shorter axis
    than 600 of a 2-d or larger array). A line of NaN alone gives NaN."""
    def lower(b, args, kwargs, position):
        a = arguments("nanmedian", args, kwargs, {"x": REQUIRED, "axis": None, "keepdims": False}, position)
        if library is None:
            raise _ambiguous("nanmedian(x)", "torch.nanmedian is the lower of the two middle elements",
                             "np.nanmedian their mean", "Write torch.nanmedian(x) or np.nanmedian(x).", position)
        x = tensor(b, a["x"], "nanmedian", position)
        keepdims = keepdims_of(b, a["keepdims"], position, kwargs=kwargs)
        _torch_keepdim_needs_dim(b, a["axis"], kwargs, position)
        if a["axis"] is not None and not x.ndim:  # np.nanmedian(s, axis=-1): NumPy's AxisError
            refuse_numpy_0d_axis(b, a["axis"], 0, position)
        axis_given = a["axis"] is not None and x.ndim > 0
        if keepdims and x.ndim == 0 and a["axis"] is None and jax_spelled(b):
            return _jax_kept_0d(b, lower(b, [x], {}, position), position)
        if not axis_given:
            if keepdims and library == "numpy" and x.ndim:
                return _reshape_to(b, lower(b, [x], {}, position), (1,) * x.ndim, position)  # NumPy's shape
            x = _reshape_to(b, x, (_numel(x, position),), position)
            axis, keepdims = 0, False
        else:
            axis = _one_axis(b, a["axis"], x, position, "nanmedian")
        lower_idx = b.apply("argmedian", x, axis=axis, skip_nan=True, position=position)
        if library != "numpy" and not axis_given:  # torch.nanmedian(x): the derivative shared among the ties
            return _squeezed(b, b.apply("take_shared", x, lower_idx, axis=axis, position=position), axis, keepdims,
                             position)
        values = _selection(b, x, lower_idx, axis, keepdims, position)
        if library == "numpy":
            # NumPy's two paths: along an axis shorter than 600 (of a 2-d or larger array), np.ma.median's
            # (0 + lo + hi) / 2, both the middle element for an odd count; else np.median of the elements
            # that are not NaN, one middle element itself (0 + lo) (see _median)
            upper_idx = b.apply("argmedian", x, axis=axis, upper=True, skip_nan=True, position=position)
            upper = _selection(b, x, upper_idx, axis, keepdims, position)
            total = b.apply("add", values, 0.0, position=position)
            mean = b.apply("mul", b.apply("add", total, upper, position=position), 0.5, position=position)
            if axis_given and x.ndim > 1 and not (isinstance(x.shape[axis], int) and x.shape[axis] >= 600):
                return mean
            odd = b.apply("eq", _squeezed(b, lower_idx, axis, keepdims, position),
                          _squeezed(b, upper_idx, axis, keepdims, position), position=position)
            return b.apply("where", odd, total, mean, position=position)  # one middle element: itself
        if not axis_given:
            return values
        parts = {"values": values, "indices": lambda: _squeezed(b, lower_idx, axis, keepdims, position)}
        return Pair(values, parts, "torch", "nanmedian")
    return lower


FUNCTIONS["nanmedian"] = _nanmedian(None)
FUNCTIONS["nanmedian"].__doc__ = _nanmedian.__doc__
for _library in PER_LIBRARY:
    variant(_library, "nanmedian")(_tuple_axis(_nanmedian(_library), "nanmedian", 1) if _library == "numpy"
                                   else _nanmedian(_library))


def _python_sequence(fname):
    def lower(b, args, kwargs, position):
        value = arguments(fname, args, kwargs, {"x": REQUIRED}, position)["x"]
        if isinstance(value, Items):
            out = Items(value)
        else:
            x = tensor(b, value, fname, position)
            if x.ndim == 0:
                raise JacValueError(f"{fname}() of a 0-d array: it has no rows to iterate over (PyTorch and NumPy "
                                    "refuse it too)", position)
            out = Items(_take(b, x, (i,), position) for i in range(_concrete(x, fname, position)[0]))
        out.display = fname  # isinstance(t, list), and a list's item written (rows = list(x); rows[0] = v)
        return out
    lower.__doc__ = (f"Python's {fname}(x): the rows of x (x[0], x[1], …), as a tuple of arrays: x[{fname}(idx)] "
                     "indexes with each row, as x[idx[0], idx[1]].")
    return lower


FUNCTIONS["tuple"] = _python_sequence("tuple")
FUNCTIONS["list"] = _python_sequence("list")


_INTERPOLATE_MODES = {"nearest": None, "nearest-exact": None, "linear": 1, "bilinear": 2, "bicubic": 2,
                      "trilinear": 3, "area": None}
_INTERPOLATING = ("linear", "bilinear", "bicubic", "trilinear")  # the modes that take align_corners


def _interpolate_sizes(b, a, x: Tracer, nd: int, position) -> tuple:
    """(output sizes, the scales PyTorch's kernels read: 1/scale_factor, or None for in/out)."""
    if (a["size"] is None) == (a["scale_factor"] is None):
        raise JacValueError("interpolate(): give either size or scale_factor (exactly one)", position)
    spatial = tuple(x.shape[2:])
    if a["size"] is not None:
        sizes = static_ints(b, a["size"], "size", position)
        sizes = sizes * nd if len(sizes) == 1 else sizes
        if len(sizes) != nd or min(sizes) < 1:
            raise JacValueError(f"interpolate(): size must be {nd} positive integer(s) for an input of shape "
                                f"{fmt(x.shape)}, got {sizes}", position)
        return sizes, (None,) * nd
    factors = static(b, a["scale_factor"], "scale_factor", position)
    factors = factors if isinstance(factors, tuple) else (factors,) * nd
    if len(factors) != nd or not all(isinstance(f, (int, float)) and not isinstance(f, bool) and f > 0
                                     and math.isfinite(f) for f in factors):
        raise JacValueError(f"interpolate(): scale_factor must be {nd} positive number(s), got {factors}", position)
    sizes = tuple(int(math.floor(float(n) * float(f))) for n, f in zip(spatial, factors))
    if min(sizes) < 1:
        raise JacValueError(f"interpolate(): scale_factor {factors} makes an empty output from {fmt(x.shape)}",
                            position)
    recompute = static(b, a["recompute_scale_factor"], "recompute_scale_factor", position)
    return sizes, (None,) * nd if recompute else tuple(float(f) for f in factors)


def _nearest_source(n_in: int, n_out: int, factor, exact: bool) -> np.ndarray:
    """PyTorch's source index of each output (``nearest_idx`` / ``nearest_exact_idx``: a float32 scale)."""
    scale = np.float32(1.0 / factor) if factor is not None else np.float32(n_in) / np.float32(n_out)
    i = np.arange(n_out)
    if exact:
        src = np.floor(((i + 0.5) * np.float64(scale)).astype(np.float32))
    elif n_out == n_in:
        return i
    elif n_out == 2 * n_in:
        return i >> 1
    else:
        src = np.floor(i.astype(np.float32) * scale)
    return np.minimum(src.astype(np.int64), n_in - 1)


def _source_position(n_in: int, n_out: int, factor, align: bool, dtype, cubic: bool) -> tuple:
    """Each output's source position in the input, as PyTorch computes it in the input's float type
    (``area_pixel_compute_source_index``: clamped at 0 except for cubic), split into its floor (an index, at
    most n_in - 1) and its fraction in [0, 1] (``guard_index_and_lambda``)."""
    real = np.dtype(dtype).type
    i = np.arange(n_out).astype(dtype)
    if align:
        scale = real(n_in - 1) / real(n_out - 1) if n_out > 1 else real(0)
        src = scale * i
    else:
        scale = real(1.0 / factor) if factor is not None else real(n_in) / real(n_out)
        src = scale * (i + real(0.5)) - real(0.5)
        src = src if cubic else np.maximum(src, real(0))
    low = np.minimum(np.floor(src.astype(np.float32)).astype(np.int64), n_in - 1)
    return low, np.clip(src - low.astype(dtype), real(0), real(1))


def _linear_source(n_in: int, n_out: int, factor, align: bool, dtype) -> tuple:
    """PyTorch's two source indices and weights per output (``area_pixel_compute_source_index`` and
    ``guard_index_and_lambda``, in the input's float type)."""
    real = np.dtype(dtype).type
    low, weight = _source_position(n_in, n_out, factor, align, dtype, cubic=False)
    high = low + (low < n_in - 1)
    return low, high, (real(1) - weight).astype(dtype), weight.astype(dtype)


def _cubic_source(n_in: int, n_out: int, factor, align: bool, dtype) -> tuple:
    """PyTorch's four source indices and weights per output of bicubic interpolation: the source position
    (``area_pixel_compute_source_index`` with cubic=True: not clamped at 0), its floor and fraction t
    (``guard_index_and_lambda``), Keys' cubic convolution weights with A = -0.75 at t + 1, t, 1 - t, 2 - t
    (``get_cubic_upsample_coefficients``), the indices clamped into the input (``upsample_get_value_bounded``)."""
    real = np.dtype(dtype).type
    low, t = _source_position(n_in, n_out, factor, align, dtype, cubic=True)
    t = t.astype(dtype)
    A = real(-0.75)

    def near(x):  # |x| <= 1
        return ((A + real(2)) * x - (A + real(3))) * x * x + real(1)

    def far(x):  # 1 < |x| < 2
        return ((A * x - real(5) * A) * x + real(8) * A) * x - real(4) * A

    weights = [far(t + real(1)), near(t), near(real(1) - t), far(real(1) - t + real(1))]
    indices = [np.clip(low - 1 + j, 0, n_in - 1) for j in range(4)]
    return indices, [w.astype(dtype) for w in weights]


@function("interpolate", "upsample")
def _interpolate(b, args, kwargs, position):
    """F.interpolate(x, size=None, scale_factor=None, mode='nearest', align_corners=None,
    recompute_scale_factor=None): modes nearest, nearest-exact, linear, bilinear, bicubic, trilinear, with
    PyTorch's source indices and weights (align_corners both ways), one spatial axis at a time from the last,
    as its kernel nests them; the derivative gathers back. area is adaptive average pooling to the size, as
    PyTorch computes it."""
    a = arguments("interpolate", args, kwargs, {"x": REQUIRED, "size": None, "scale_factor": None, "mode": "nearest",
                                                "align_corners": None, "recompute_scale_factor": None,
                                                "antialias": False}, position)
    x = tensor(b, a["x"], "interpolate", position)
    mode = static(b, a["mode"], "mode", position)
    if mode not in _INTERPOLATE_MODES:
        raise JacValueError(f"interpolate(): mode {mode!r} is not supported by jac (it has "
                            f"{', '.join(map(repr, _INTERPOLATE_MODES))})", position)
    nd = x.ndim - 2
    if nd not in (1, 2, 3) or _INTERPOLATE_MODES[mode] not in (None, nd):
        raise JacShapeError(f"interpolate(): mode {mode!r} needs a {2 + (_INTERPOLATE_MODES[mode] or nd)}-d input "
                            f"(N, C, spatial...) with 1 to 3 spatial axes, got shape {fmt(x.shape)}", position)
    if _flag(b, a["antialias"], "antialias", "interpolate", position):
        raise JacValueError("interpolate(): antialias=True is not supported by jac", position)
    align = a["align_corners"]
    if align is not None and mode not in _INTERPOLATING:
        raise JacValueError("interpolate(): align_corners can only be set with the modes linear, bilinear, "
                            "bicubic, trilinear (as PyTorch)", position)
    align = align is not None and _flag(b, align, "align_corners", "interpolate", position)
    shape = _concrete(x, "interpolate", position)
    sizes, factors = _interpolate_sizes(b, a, x, nd, position)
    _checked(b, shape[:2] + tuple(sizes), "interpolate", position)
    if mode == "area":
        return FUNCTIONS[f"adaptive_avg_pool{nd}d"](b, [x, tuple(sizes)], {}, position)
    for axis in reversed(range(2, x.ndim)):
        n_in, n_out, factor = shape[axis], sizes[axis - 2], factors[axis - 2]
        lead = (slice(None),) * axis
        if mode == "bicubic":
            along = (n_out,) + (1,) * (x.ndim - 1 - axis)
            indices, weights = _cubic_source(n_in, n_out, factor, align, b.dtype)
            terms = [b.apply("mul", _take(b, x, lead + (i,), position), b.const(w.reshape(along), position),
                             position=position) for i, w in zip(indices, weights)]
            x = terms[0]
            for term in terms[1:]:  # in PyTorch's order: t0 w0 + t1 w1, then + t2 w2, + t3 w3
                x = b.apply("add", x, term, position=position)
            continue
        if _INTERPOLATE_MODES[mode] is None:
            x = _take(b, x, lead + (_nearest_source(n_in, n_out, factor, mode == "nearest-exact"),), position)
            continue
        low, high, w_low, w_high = _linear_source(n_in, n_out, factor, align, b.dtype)
        along = (n_out,) + (1,) * (x.ndim - 1 - axis)
        x = b.apply("add", b.apply("mul", _take(b, x, lead + (low,), position),
                                   b.const(w_low.reshape(along), position), position=position),
                    b.apply("mul", _take(b, x, lead + (high,), position), b.const(w_high.reshape(along), position),
                            position=position), position=position)
    return x


@function("piecewise")
def _np_piecewise(b, args, kwargs, position):
    """np.piecewise(x, condlist, funclist) with scalar pieces (NumPy's constant functions): zeros of x's shape,
    each condition's value written in turn (a later one wins), one piece more than conditions for where none
    holds. Pieces that are functions (lambdas) have no spelling in jac: write np.select([...], [-x, x ** 2])."""
    a = arguments("piecewise", args, kwargs, {"x": REQUIRED, "condlist": REQUIRED, "funclist": REQUIRED}, position)
    x = tensor(b, a["x"], "piecewise", position)
    conditions = list(a["condlist"]) if isinstance(a["condlist"], Items) else [a["condlist"]]
    conditions = [tensor(b, c, "piecewise", position) for c in conditions]
    if len(conditions) == 1 and conditions[0].ndim == x.ndim + 1 and is_boolean(b, conditions[0]):
        conditions = [_take(b, conditions[0], (i,), position) for i in range(conditions[0].shape[0])]
    for c in conditions:
        if not is_boolean(b, c) or tuple(c.shape) != tuple(x.shape):
            raise JacValueError(f"np.piecewise: each condition must be a boolean of x's shape {fmt(x.shape)} (a "
                                "comparison such as x < 0)", position)
    pieces = a["funclist"]
    if isinstance(pieces, Items):
        pieces = [tensor(b, p, "piecewise", position) for p in pieces]
    else:
        pieces = tensor(b, pieces, "piecewise", position)
        pieces = [pieces] if pieces.ndim == 0 else [_take(b, pieces, (i,), position) for i in range(pieces.shape[0])]
    if any(p.ndim for p in pieces):
        raise JacValueError("np.piecewise: each piece must be a scalar (NumPy's constant function); for pieces that "
                            "are expressions of x write np.select([x < 0, x >= 0], [-x, x ** 2])", position)
    if len(pieces) not in (len(conditions), len(conditions) + 1):
        raise JacValueError(f"np.piecewise: with {len(conditions)} condition(s), either {len(conditions)} or "
                            f"{len(conditions) + 1} pieces are expected, got {len(pieces)}", position)
    out = b.const(np.zeros(_concrete(x, "piecewise", position), dtype=b.dtype), position)
    if len(pieces) > len(conditions):
        out = b.apply("add", out, pieces[-1], position=position)
        taken = conditions[0]
        for c in conditions[1:]:
            taken = logical("or", b, [taken, c], position)
        out = b.apply("where", taken, 0.0, out, position=position)
    for c, piece in zip(conditions, pieces):
        out = b.apply("where", c, piece, out, position=position)
    return out


@function("histogram")
def _np_histogram(b, args, kwargs, position):
    """np.histogram(a, bins=10, range=None, density=None, weights=None) (jnp.histogram's fourth and fifth
    positional arguments are weights and density): (counts, edges), counts as floats. An
    element is in bin j where edges[j] <= a < edges[j + 1] (the last bin closed), which is NumPy's assignment;
    the edges are linspace(min a, max a) (or of range) computed as NumPy does. The counts have derivative 0
    in a (piecewise constant, as floor; jnp.histogram's too; torch.histc has none), the edges the derivative of
    min and max; weights and density carry theirs. A NaN or inf in a without range or edges is refused, as
    NumPy refuses it; with them it lies in no bin, as in NumPy."""
    if jax_spelled(b) and len(args) > 3:  # jnp.histogram(a, bins, range, weights, density): JAX's order
        for k, v in zip(("weights", "density"), args[3:5]):
            if k in kwargs:
                raise JacValueError(f"histogram() got argument '{k}' twice", position)
            kwargs = {**kwargs, k: v}
        args = list(args[:3]) + list(args[5:])
    a = arguments("histogram", args, kwargs, {"x": REQUIRED, "bins": 10, "range": None, "density": None,
                                              "weights": None}, position)
    x = tensor(b, a["x"], "histogram", position)
    x = _reshape_to(b, x, (_numel(x, position),), position)
    bins = static(b, a["bins"], "bins", position)
    if isinstance(bins, tuple):
        if len(bins) < 2 or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in bins) \
                or any(p > q for p, q in zip(bins, bins[1:])):
            raise JacValueError("np.histogram: bins given as edges must be at least 2 finite numbers, increasing",
                                position)
        edges = b.const(np.array(bins, dtype=b.dtype), position)
    else:
        if not _is_integer(bins) or bins < 1:
            raise JacValueError(f"np.histogram: bins must be a positive integer or a list of edges, got {bins!r}",
                                position)
        edges = _histogram_edges(b, x, int(bins), static(b, a["range"], "range", position), position)
    w = None
    if a["weights"] is not None:
        w = tensor(b, a["weights"], "histogram", position)
        if tuple(w.shape) != tuple(tensor(b, a["x"], "histogram", position).shape):
            raise JacShapeError(f"np.histogram: weights must have the shape of a, got {fmt(w.shape)}", position)
    density = a["density"] is not None and _flag(b, a["density"], "density", "histogram", position)
    return Items([_histogram_counts(b, x, edges, w, density, position), edges])


def _histogram_counts(b, x, edges, w, density: bool, position, torch: bool = False) -> Tracer:
    """The count (or total weight) of the flat ``x`` in each bin edges[j] <= x < edges[j + 1] (the last closed), or
    the density: NumPy's and PyTorch's assignment; the density NumPy's counts / widths / total, or PyTorch's counts /
    total / widths (``torch``)."""
    m = x.shape[0]
    n = edges.shape[0] - 1
    column = _reshape_to(b, x, (m, 1), position)
    lower = b.apply("ge", column, _take(b, edges, (slice(0, n),), position), position=position)
    upper = _take(b, edges, (slice(1, None),), position)
    closed = b.const(np.arange(n) == n - 1, position)
    below = b.apply("where", closed, b.apply("le", column, upper, position=position),
                    b.apply("lt", column, upper, position=position), position=position)
    inside = b.apply("mul", lower, below, position=position)
    if w is not None:
        inside = b.apply("mul", inside, _reshape_to(b, w, (m, 1), position), position=position)
    counts = b.apply("sum", inside, axes=(0,), position=position)
    if density:
        widths = b.apply("sub", upper, _take(b, edges, (slice(0, n),), position), position=position)
        total = b.apply("sum", counts, axes=(0,), position=position)
        if torch:
            return b.apply("div", b.apply("div", counts, total, position=position), widths, position=position)
        counts = b.apply("div", b.apply("div", counts, widths, position=position), total, position=position)
    return counts


_HISTOGRAM_RANGE = ("np.histogram: the autodetected range of [{lo:g}, {hi:g}] is not finite (the data hold NaN or inf; "
                    "NumPy raises ValueError); give range=(min, max) or the bin edges, which leave NaN out of every bin")


def _histogram_edges(b, x, n: int, span, position, torch: bool = False) -> Tracer:
    """NumPy's equal bins: linspace(first, last, n + 1) as arange · step + first with the last set to last;
    ``torch``: PyTorch's linspace (first + i · step in the first half, last - (n - i) · step in the second)."""
    if span is not None:
        if not (isinstance(span, tuple) and len(span) == 2 and all(math.isfinite(v) for v in span)):
            raise JacValueError(f"{'torch' if torch else 'np'}.histogram: range must be two finite numbers (min, max), "
                                f"got {span!r}", position)
        if span[0] > span[1]:
            raise JacValueError(f"torch.histogram: min should not exceed max, but got min {span[0]:g} max {span[1]:g} "
                                "(PyTorch's message)" if torch else "np.histogram: max must be larger than min in range",
                                position)
        lo, hi = (span[0] - 0.5, span[1] + 0.5) if span[0] == span[1] else span
        first, last = b.const(np.array(lo, dtype=b.dtype), position), b.const(np.array(hi, dtype=b.dtype), position)
    elif x.shape[0] == 0:
        first, last = b.const(np.array(0.0, dtype=b.dtype), position), b.const(np.array(1.0, dtype=b.dtype), position)
    else:
        first = b.apply("min", x, axes=(0,), position=position)
        last = b.apply("max", x, axes=(0,), position=position)
        same = b.apply("eq", first, last, position=position)
        first = b.apply("where", same, b.apply("sub", first, 0.5, position=position), first, position=position)
        last = b.apply("where", same, b.apply("add", last, 0.5, position=position), last, position=position)
        # a range found from the data must be finite, as NumPy requires: 0 (subtracted: exact), or refused
        zero = refusal(b, _TORCH_RANGE if torch else _HISTOGRAM_RANGE, finite=(first, last), position=position)
        first, last = (b.apply("sub", v, zero, position=position) for v in (first, last))
    step = b.apply("div", b.apply("sub", last, first, position=position), float(n), position=position)
    if torch:
        i = np.arange(n + 1)
        up = b.apply("add", b.apply("mul", b.const(i.astype(b.dtype), position), step, position=position), first,
                     position=position)
        down = b.apply("sub", last, b.apply("mul", b.const((n - i).astype(b.dtype), position), step,
                                             position=position), position=position)
        return b.apply("where", b.const(i < (n + 1) // 2, position), up, down, position=position)
    inner = b.apply("add", b.apply("mul", b.const(np.arange(n, dtype=b.dtype), position), step, position=position),
                    first, position=position)
    edges = _concat(b, [inner, _reshape_to(b, last, (1,), position)], 0, "histogram", position)
    return edges


_TORCH_RANGE = ("torch.histogram: the range [{lo:g}, {hi:g}] found from the input is not finite (the data hold NaN or "
                "inf; PyTorch raises 'range ... is not finite'); give range=(min, max) or the bin edges")
_TORCH_HISTOGRAM_WHY = ("the derivative of torch.histogram is not supported, as PyTorch has none (\"derivative for "
                        "aten::histogram is not implemented\"), by the input, the weight or the bins: differentiate "
                        "without it, or detach what reaches it (x.detach()); np.histogram's counts have derivative 0")


def _torch_histogram(b, args, kwargs, position):
    """torch.histogram(input, bins=100, *, range=None, weight=None, density=False) (and x.histogram(...)): (hist,
    bin_edges), PyTorch's values: equal bins by PyTorch's linspace of the input's (or range's) min and max (its scalar
    formula: past 8 bins an edge may be an ulp from the one its vectorized loop gives), or the edges given; an element in bin j where edges[j] <= x < edges[j + 1], the last closed. Any derivative through it
    is refused, as PyTorch marks the result as requiring grad and its backward raises."""
    a = arguments("histogram", args, kwargs, {"x": REQUIRED, "bins": 100, "range": None, "weight": None,
                                              "density": False, "out": None}, position)
    if a["out"] is not None:
        raise JacValueError("torch.histogram(..., out=...) writes into tensors, which jac does not do: use the result",
                            position)
    given = tensor(b, a["x"], "torch.histogram", position)
    x = _reshape_to(b, given, (_numel(given, position),), position)
    bins = static(b, a["bins"], "bins", position)
    if isinstance(bins, tuple):
        if len(bins) < 2 or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in bins) \
                or any(p > q for p, q in zip(bins, bins[1:])):
            raise JacValueError("torch.histogram: bins given as edges must be at least 2 finite numbers, increasing "
                                "(PyTorch does not check, and counts nothing right past a decreasing edge)", position)
        edges = b.const(np.array(bins, dtype=b.dtype), position)
    else:
        if not _is_integer(bins) or bins < 1:
            raise JacValueError(f"torch.histogram(): bins must be > 0, but got {bins!r} (PyTorch's message)", position)
        edges = _histogram_edges(b, x, int(bins), static(b, a["range"], "range", position), position, torch=True)
    w = None
    if a["weight"] is not None:
        w = tensor(b, a["weight"], "torch.histogram", position)
        if tuple(w.shape) != tuple(given.shape):
            raise JacShapeError(f"torch.histogram: weight must have the shape of the input {fmt(given.shape)}, got "
                                f"{fmt(w.shape)}", position)
    density = _flag(b, a["density"], "density", "histogram", position)
    sources = [v for v in (given, w) if v is not None]
    hist = _histogram_counts(b, x, edges, w, density, position, torch=True)
    return Items.named([b.apply("no_derivative", v, *sources, why=_TORCH_HISTOGRAM_WHY, position=position)
                        for v in (hist, edges)], ("hist", "bin_edges"))


variant("torch", "histogram")(_torch_histogram)  # else the bare spelling, NumPy's, would answer for it
variant("method", "histogram")(_torch_histogram)


# -- results whose shape is read off values: the nonzero family and unique. As x[mask] (the parser's
# -- ``masked``), the values are computed when the graph is built (``b.lowering.value_of``, which marks the graph
# -- as built for these values: never cached or compiled for others); the results are constants ------

def _values_for(b, x, fname, position, shaped: bool = True) -> np.ndarray:
    """``x``'s values, for ``fname``'s result; ``shaped``: its shape is read off them (jax.jit and jax.vmap of it
    raise, :mod:`.whiles`), not JAX's ``size=`` forms (lang/names30.py)."""
    if b.lowering is None:
        raise JacValueError(f"{fname} needs the parser's values", position)
    if shaped and b.nodes[x.id].op != "const":
        b.lowering.value_tests.append((x.id, position, fname))
    return np.asarray(b.lowering.value_of(x, position, fname))


def _true_positions(b, value, fname, position) -> tuple:
    """The indices of the true (nonzero) elements of ``value``, one vector per axis, in row-major
    order (NumPy's nonzero, PyTorch's nonzero(as_tuple=True))."""
    c = truth(b, tensor(b, value, fname, position), position)
    if c.ndim == 0:
        raise JacValueError(f"{fname} of a 0-d array is not supported (NumPy refuses it): index a vector, "
                            f"{fname}(x.reshape(1))", position)
    flags = _values_for(b, c, fname, position) != 0
    return np.nonzero(flags)


def _index_const(b, index, position) -> Tracer:
    """Indices read off the values (nonzero, unique's inverse and counts): int64 as the libraries give them."""
    return _index_constant(b, index, "an index", position)


def _nonzero_of(library):
    def lower(b, args, kwargs, position):
        params = {"x": REQUIRED, "as_tuple": False} if library == "torch" else {"x": REQUIRED}
        kwargs = {("x" if k in ("input", "a") else k): v for k, v in kwargs.items()}
        a = arguments("nonzero", args, kwargs, params, position)
        found = _true_positions(b, a["x"], "nonzero", position)
        if library == "numpy" or _flag(b, a["as_tuple"], "as_tuple", "nonzero", position):
            return Items([_index_const(b, i, position) for i in found])
        return _index_const(b, np.stack(found, axis=1), position)
    lower.__doc__ = ("the indices of the nonzero (true) elements, read off the values (the graph holds for them "
                     "only): " + ("an (N, ndim) constant; as_tuple=True one vector per axis" if library == "torch"
                                  else "one constant vector per axis") + "; usable as an index, x[np.nonzero(m)]")
    return lower


variant("torch", "nonzero")(_nonzero_of("torch"))
variant("numpy", "nonzero")(_nonzero_of("numpy"))
READINGS[("torch", "nonzero")] = "an (N, ndim) array of the indices (as_tuple=True: one vector per axis)"
READINGS[("numpy", "nonzero")] = "a tuple of one index vector per axis"


@variant("torch", "argwhere")
@variant("numpy", "argwhere")
def _argwhere(b, args, kwargs, position):
    """the indices of the nonzero (true) elements as an (N, ndim) constant, read off the values (the graph holds
    for them only)"""
    kwargs = {("x" if k in ("input", "a") else k): v for k, v in kwargs.items()}
    a = arguments("argwhere", args, kwargs, {"x": REQUIRED}, position)
    return _index_const(b, np.stack(_true_positions(b, a["x"], "argwhere", position), axis=1), position)


@variant("numpy", "flatnonzero")
def _flatnonzero(b, args, kwargs, position):
    """the flat indices of the nonzero elements (a constant vector), read off the values (the graph holds for
    them only)"""
    a = arguments("flatnonzero", args, {("x" if k == "a" else k): v for k, v in kwargs.items()}, {"x": REQUIRED},
                  position)
    x = tensor(b, a["x"], "flatnonzero", position)
    return _index_const(b, _true_positions(b, _reshape_to(b, x, (_numel(x, position),), position), "flatnonzero",
                                           position)[0], position)


def _where_one(b, condition, position) -> Items:
    """where(condition): nonzero(condition) as a tuple, as NumPy and PyTorch give it."""
    return Items([_index_const(b, i, position) for i in _true_positions(b, condition, "where", position)])


def _unique_of(library):
    def lower(b, args, kwargs, position):
        fname = "unique"
        if library == "torch":
            kwargs = {("x" if k == "input" else "axis" if k == "dim" else k): v for k, v in kwargs.items()}
            params = {"x": REQUIRED, "sorted": True, "return_inverse": False, "return_counts": False, "axis": None}
        else:
            kwargs = {("x" if k == "ar" else k): v for k, v in kwargs.items()}
            params = {"x": REQUIRED, "return_index": False, "return_inverse": False, "return_counts": False,
                      "axis": None, "equal_nan": True, "sorted": True}
        a = arguments(fname, args, kwargs, params, position)
        x = tensor(b, a["x"], fname, position)
        if a["axis"] is not None:
            raise JacValueError(f"{fname}(x, {'dim' if library == 'torch' else 'axis'}=...) is not supported by jac "
                                "(the unique rows or columns of an array, whose order jac does not follow); jac "
                                f"answers the unique elements of the flattened array: write {fname}(x) without it",
                                position)
        if library == "numpy" and not _flag(b, a["equal_nan"], "equal_nan", fname, position):
            raise JacValueError("np.unique: equal_nan=False is not supported by jac (NaNs are one value)", position)
        if not _flag(b, a["sorted"], "sorted", fname, position):
            raise JacValueError(f"{fname}: sorted=False is not supported by jac (the values come sorted)", position)
        _no_derivative_through(b, x, fname, position)
        flat = _values_for(b, x, fname, position).reshape(-1)
        flags = ["return_index", "return_inverse", "return_counts"] if library == "numpy" else \
            ["return_inverse", "return_counts"]
        asked = {f: _flag(b, a[f], f, fname, position) for f in flags}
        if library == "numpy":  # NumPy's own call: which of -0 and 0 stands for both depends on the flags
            found = np.unique(flat, **asked, equal_nan=True)
        else:  # PyTorch's: NaNs apart, each value as its first occurrence (a stable sort)
            found = np.unique(flat, return_index=True, return_inverse=True, return_counts=True, equal_nan=False)
            found = (found[0],) + tuple(p for f, p in zip(["return_inverse", "return_counts"], found[2:]) if asked[f])
        if not isinstance(found, tuple) or len(found) == 1:
            return b.const((found[0] if isinstance(found, tuple) else found).astype(b.dtype), position)
        parts = [b.const(found[0].astype(b.dtype), position)]
        for f, part in zip([f for f in flags if asked[f]], found[1:]):
            # the inverse shaped as the input, as PyTorch's and NumPy 2's
            parts.append(_index_const(b, part.reshape(tuple(x.shape)) if f == "return_inverse" else part, position))
        return Items(parts)
    lower.__doc__ = ("the distinct values, sorted (constants read off the values: the graph holds for them only), "
                     "with " + ("return_inverse/return_counts" if library == "torch" else
                                "return_index/return_inverse/return_counts") + "; of an array that depends on a "
                     "differentiated input refused (PyTorch defines no derivative): detach it first")
    return lower


def _no_derivative_through(b, x, fname, position) -> None:
    """Refuse ``x`` if an input reaches it through differentiable ops: its result would carry no
    derivative where PyTorch's has none defined either (unique: a repeated value that moves splits)."""
    stack, seen = [x.id], set()
    while stack:
        node = b.nodes[stack.pop()]
        if node.id in seen or node.op == "const" or (node.op != "input" and OPS[node.op].nondiff):
            continue
        seen.add(node.id)
        if node.op == "input":
            raise JacValueError(f"{fname} of an array that depends on the input '{node.name}': the distinct values "
                                "have no derivative (a repeated value that moves splits in two; PyTorch: 'the "
                                f"derivative for unique is not implemented'); {fname}(x.detach()) gives the values",
                                position)
        stack.extend(node.args)


variant("torch", "unique")(_unique_of("torch"))
variant("numpy", "unique")(_unique_of("numpy"))
READINGS[("torch", "unique")] = "NaNs kept apart; return_inverse shaped as the input"
READINGS[("numpy", "unique")] = "NaNs as one value (equal_nan=True); return_index too"



@variant("torch", "unique_consecutive")
def _unique_consecutive(b, args, kwargs, position):
    """the first value of each run of equal values (NaNs each their own run), with return_inverse (shaped as the
    input) and return_counts: constants read off the values (the graph holds for them only); of an array that
    depends on a differentiated input refused, as torch.unique is (no derivative defined)"""
    fname = "unique_consecutive"
    kwargs = {("x" if k == "input" else "axis" if k == "dim" else k): v for k, v in kwargs.items()}
    a = arguments(fname, args, kwargs, {"x": REQUIRED, "return_inverse": False, "return_counts": False,
                                        "axis": None}, position)
    x = tensor(b, a["x"], fname, position)
    if a["axis"] is not None:
        raise JacValueError(f"{fname}: dim is not supported by jac (runs of equal rows); runs of the elements are",
                            position)
    _no_derivative_through(b, x, fname, position)
    flat = _values_for(b, x, fname, position).reshape(-1)
    starts = np.ones(flat.size, dtype=bool)
    starts[1:] = flat[1:] != flat[:-1]  # PyTorch's comparison: a NaN starts a run of its own
    first = np.flatnonzero(starts)
    parts = [b.const(flat[first].astype(b.dtype), position)]
    if _flag(b, a["return_inverse"], "return_inverse", fname, position):
        parts.append(_index_const(b, (np.cumsum(starts) - 1).reshape(tuple(x.shape)), position))
    if _flag(b, a["return_counts"], "return_counts", fname, position):
        parts.append(_index_const(b, np.diff(np.append(first, flat.size)), position))
    return parts[0] if len(parts) == 1 else Items(parts)


READINGS[("torch", "unique_consecutive")] = "NaNs each a run of their own; return_inverse shaped as the input"


# -- uninitialised memory: NaN in every element, so a read of one never written shows --------------

_EMPTY_DOC = ("uninitialised memory in PyTorch and NumPy: jac fills it with NaN, so any element read before it is "
              "written shows as NaN (and warns), never as a plausible number")


def _uninitialised(fname, nan_filled, zeros):
    """``nan_filled``, but JAX's ``zeros`` for jnp.empty / jnp.empty_like (XLA has no uninitialised arrays: JAX
    documents zeros)."""
    def lower(b, args, kwargs, position):
        return (zeros if jax_spelled(b) else nan_filled)(b, args, kwargs, position)
    lower.__doc__ = _EMPTY_DOC + "; jnp." + fname + " is zeros, as JAX's"
    return lower


FUNCTIONS["empty"] = _uninitialised("empty", _with_dtype("empty", _filled("empty", math.nan)),
                                    _with_dtype("empty", _filled("empty", 0.0)))
FUNCTIONS["empty_like"] = _uninitialised("empty_like", _like("empty_like", math.nan), _like("empty_like", 0.0))


# -- NumPy's nanargmax / nanargmin: NaN read as -inf / +inf, an all-NaN slice refused (NumPy raises) -

def _nan_arg(fname):
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, {("x" if k == "a" else k): v for k, v in kwargs.items()},
                      {"x": REQUIRED, "axis": None, "keepdims": False}, position)
        x = tensor(b, a["x"], fname, position)
        nan = b.apply("isnan", x, position=position)
        fill = -math.inf if fname == "nanargmax" else math.inf
        key = b.apply("where", nan, fill, x, position=position)
        found = FUNCTIONS[fname[3:]](b, [key], {"axis": a["axis"], "keepdims": a["keepdims"]}, position)
        # an all-NaN slice: NaN (not finite) where every element along the axis is NaN, refused by finite_range
        axes = tuple(range(x.ndim)) if a["axis"] is None else (_one_axis(b, a["axis"], x, position, fname),)
        every = b.apply("prod", nan, axes=axes, keepdims=_flag(b, a["keepdims"], "keepdims", fname, position),
                        position=position) if x.ndim else nan
        return refused(b, found, f"np.{fname}: an all-NaN slice has no index (NumPy raises 'All-NaN slice "
                       "encountered')", where=every, position=position)
    lower.__doc__ = (f"np.{fname}: the index of the {'largest' if fname == 'nanargmax' else 'smallest'} element "
                     "with NaN left out (NumPy's: NaN read as " + ("-inf" if fname == "nanargmax" else "+inf") +
                     "); an all-NaN slice refused, as NumPy raises")
    return lower


variant("numpy", "nanargmax")(_nan_arg("nanargmax"))
variant("numpy", "nanargmin")(_nan_arg("nanargmin"))


@variant("numpy", "resize")
def _np_resize(b, args, kwargs, position):
    """np.resize(a, new_shape): the elements of a, flattened, repeated in order to fill new_shape (zeros when a
    is empty), as NumPy; a selection, so the derivative is where each element came from"""
    a = arguments("resize", args, {("x" if k == "a" else k): v for k, v in kwargs.items()},
                  {"x": REQUIRED, "new_shape": REQUIRED}, position)
    x = tensor(b, a["x"], "resize", position)
    shape = _checked(b, tuple(static_ints(b, a["new_shape"], "new_shape", position)), "resize", position)
    n, total = _numel(x, position), int(np.prod(shape, dtype=np.int64))
    if n == 0 or total == 0:
        return b.const(np.zeros(shape, dtype=b.dtype), position)
    flat = _reshape_to(b, x, (n,), position)
    return _reshape_to(b, _take(b, flat, (np.arange(total) % n,), position), shape, position)


@variant("numpy", "divmod")
def _np_divmod(b, args, kwargs, position):
    """np.divmod(x, y): (x // y, x % y), NumPy's floor_divide and remainder (the quotient has derivative 0)"""
    a = arguments("divmod", args, kwargs, {"x": REQUIRED, "y": REQUIRED}, position)
    return Items([FUNCTIONS["floor_divide"](b, [a["x"], a["y"]], {}, position),
                  FUNCTIONS["remainder"](b, [a["x"], a["y"]], {}, position)])


@variant("numpy", "modf")
def _np_modf(b, args, kwargs, position):
    """np.modf(x): (fractional part, integral part), both with x's sign (modf(-1.0) is (-0.0, -1.0), modf(inf)
    (0.0, inf)); derivatives 1 and 0"""
    x = tensor(b, arguments("modf", args, kwargs, {"x": REQUIRED}, position)["x"], "modf", position)
    whole = b.apply("trunc", x, position=position)
    # ±0 with x's sign, no derivative (a NaN's sign bit is taken as is: where x is NaN the results are NaN anyway)
    zero = _with_sign_of(b, b.const(0.0, position), b.apply("signbit", x, position=position), position)
    # zero - (whole - x): x - whole exactly where it is not 0, else the zero with x's sign (x - whole
    # alone is +0 at -1.0); derivative 1, as torch.frac's. inf: 0 with its sign (inf - inf is NaN).
    frac = b.apply("sub", zero, b.apply("sub", whole, x, position=position), position=position)
    frac = b.apply("where", b.apply("isinf", x, position=position), zero, frac, position=position)
    return Items([frac, whole])


@variant("numpy", "block")
def _np_block(b, args, kwargs, position):
    """np.block(arrays): nested lists joined, the innermost along the last axis, each level out along the one
    before (arrays given at least as many axes as the lists are deep), as NumPy"""
    a = arguments("block", args, {("x" if k == "arrays" else k): v for k, v in kwargs.items()},
                  {"x": REQUIRED}, position)
    if not isinstance(a["x"], Items):
        return tensor(b, a["x"], "block", position)
    depths, stack = [], [(a["x"], 1)]
    while stack:
        item, d = stack.pop()
        if isinstance(item, Items):
            if not len(item):
                raise JacValueError("np.block: a list is empty", position)
            stack.extend((p, d + 1) for p in item)
        else:
            depths.append((d - 1, tensor(b, item, "block", position).ndim))
    if len({d for d, _ in depths}) != 1:
        raise JacValueError("np.block: the lists are nested to different depths (NumPy refuses them)", position)
    depth = depths[0][0]
    ndim = max(depth, max(n for _, n in depths))

    def joined(item, level):  # level 0: the outermost list, joined along axis -depth
        if not isinstance(item, Items):
            x = tensor(b, item, "block", position)
            return _reshape_to(b, x, (1,) * (ndim - x.ndim) + tuple(x.shape), position)
        parts = [joined(p, level + 1) for p in item]
        return _concat(b, parts, ndim - depth + level, "block", position)
    return joined(a["x"], 0)


# -- search and bins: searchsorted, bucketize, digitize, bincount, histc, isin -------------------------------
# Integer results of the values (index counts): derivative 0, as PyTorch's, whose outputs are not differentiable.

def _sorted_by(b, s: Tracer, value, fname, position) -> Tracer:
    """``s`` reordered by a constant ``sorter`` along its last axis (the search reads s[sorter[mid]])."""
    if value is None:
        return s
    n = _concrete(s, fname, position)[-1]
    idx = _index_array(b, value, n, "sorter", fname, position)
    if idx.shape != tuple(s.shape):
        raise JacShapeError(f"{fname}: sorter must have the sorted sequence's shape {fmt(s.shape)}, got "
                            f"{fmt(idx.shape)}", position)
    return b.apply("take_along", s, b.const(np.where(idx < 0, idx + n, idx)), axis=s.ndim - 1, position=position)


def _searchsorted_side(b, a, fname, position) -> bool:
    side = static(b, a["side"], "side", position)
    right = bool(static(b, a.get("right", False), "right", position))
    if side is None:
        return right
    if side not in ("left", "right"):
        raise JacValueError(f"{fname}: side must be 'left' or 'right', got {side!r}", position)
    if right and side == "left":
        raise JacValueError(f"{fname}: side='left' and right=True contradict each other", position)
    return side == "right"


@variant("torch", "searchsorted")
def _torch_searchsorted(b, args, kwargs, position):
    """torch.searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    PyTorch's binary search along the last axis."""
    a = arguments("searchsorted", args, kwargs, {"sorted_sequence": REQUIRED, "x": REQUIRED, "out_int32": False,
                                                 "right": False, "side": None, "sorter": None}, position)
    static(b, a["out_int32"], "out_int32", position)
    refuse_torch_sequence(b, a["sorted_sequence"], "sorted_sequence", "searchsorted", position)
    refuse_torch_sequence(b, a["x"], "input", "searchsorted", position)
    s = tensor(b, a["sorted_sequence"], "searchsorted", position)
    s = _sorted_by(b, s, a["sorter"], "searchsorted", position)
    v = tensor(b, a["x"], "searchsorted", position)
    right = _searchsorted_side(b, a, "searchsorted", position)
    return b.apply("searchsorted", s, v, right=right, library="torch", position=position)


@variant("numpy", "searchsorted")
def _np_searchsorted(b, args, kwargs, position):
    """np.searchsorted(a, v, side='left', sorter=None): NumPy's (NaN sorts last)."""
    a = arguments("searchsorted", args, kwargs, {"x": REQUIRED, "v": REQUIRED, "side": "left", "sorter": None},
                  position)
    s = tensor(b, a["x"], "searchsorted", position)
    _need_ndim("np.searchsorted", s, (1,), position)
    s = _sorted_by(b, s, a["sorter"], "searchsorted", position)
    right = _searchsorted_side(b, a, "np.searchsorted", position)
    return b.apply("searchsorted", s, tensor(b, a["v"], "searchsorted", position), right=right, library="numpy",
                   position=position)


@variant("torch", "bucketize")
def _bucketize(b, args, kwargs, position):
    """torch.bucketize(input, boundaries, *, out_int32=False, right=False): searchsorted(boundaries, input)."""
    a = arguments("bucketize", args, kwargs, {"x": REQUIRED, "boundaries": REQUIRED, "out_int32": False,
                                              "right": False}, position)
    static(b, a["out_int32"], "out_int32", position)
    s = tensor(b, a["boundaries"], "bucketize", position)
    _need_ndim("bucketize", s, (1,), position, "boundaries")
    return b.apply("searchsorted", s, tensor(b, a["x"], "bucketize", position),
                   right=bool(static(b, a["right"], "right", position)), library="torch", position=position)




@variant("numpy", "digitize")
def _digitize(b, args, kwargs, position):
    """np.digitize(x, bins, right=False): the bin of each element, bins increasing or decreasing."""
    a = arguments("digitize", args, kwargs, {"x": REQUIRED, "bins": REQUIRED, "right": False}, position)
    bins = tensor(b, a["bins"], "digitize", position)
    _need_ndim("np.digitize", bins, (1,), position, "bins")
    return b.apply("digitize", tensor(b, a["x"], "digitize", position), bins,
                   right=bool(static(b, a["right"], "right", position)), position=position)


def _bincount(b, args, kwargs, position):
    """bincount(x, weights=None, minlength=0): how often each integer occurs in the constant x (as numbers),
    or the sum of the weights sent to it, differentiable in the weights."""
    a = arguments("bincount", args, kwargs, {"x": REQUIRED, "weights": None, "minlength": 0}, position)
    x = a["x"]
    if not (isinstance(x, Tracer) and b.nodes[x.id].op == "const"):
        raise JacValueError(f"bincount: x must be a constant array of integers{input_not_constant(b, x)}", position)
    idx = np.asarray(b.nodes[x.id].value)
    _need_ndim("bincount", b.lift(x), (1,), position)
    if idx.size and not (np.all(np.isfinite(idx)) and np.array_equal(idx, np.round(idx)) and idx.min() >= 0):
        raise JacValueError("bincount: x must hold non-negative integers", position)
    minlength = static_int(b, a["minlength"], "minlength", position)
    if minlength < 0:
        raise JacValueError(f"bincount: minlength must be non-negative, got {minlength}", position)
    n = max(int(idx.max()) + 1 if idx.size else 0, minlength)
    b.check_size((n,), "bincount's result", position)
    idx = idx.astype(np.int64)
    if a["weights"] is None:
        return b.const(np.bincount(idx, minlength=n).astype(np.float64), position)
    w = tensor(b, a["weights"], "bincount", position)
    if tuple(w.shape) != tuple(idx.shape):
        raise JacShapeError(f"bincount: weights must have x's shape {fmt(idx.shape)}, got {fmt(w.shape)}", position)
    return FUNCTIONS["index_add"](b, [b.const(np.zeros(n), position), 0, b.const(idx.astype(np.float64)), w], {},
                                  position)


variant("torch", "bincount")(_bincount)
variant("numpy", "bincount")(_bincount)
variant("method", "bincount")(_bincount)


def _histc(b, args, kwargs, position):
    """torch.histc(input, bins=100, min=0, max=0): counts in equal bins (PyTorch gives them no derivative; jac 0)."""
    a = arguments("histc", args, kwargs, {"x": REQUIRED, "bins": 100, "min": 0, "max": 0}, position)
    x = tensor(b, a["x"], "histc", position)
    bins = static_int(b, a["bins"], "bins", position)
    if bins < 1:
        raise JacValueError(f"torch.histc: bins must be > 0, got {bins}", position)
    lo, hi = (static(b, a[k], k, position) for k in ("min", "max"))
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lo, hi)):
        raise JacValueError("torch.histc: min and max must be numbers", position)
    return b.apply("histc", x, bins=bins, lo=float(lo), hi=float(hi), position=position)


variant("torch", "histc")(_histc)
variant("method", "histc")(_histc)


def _isin_lowering(library):
    def lower(b, args, kwargs, position):
        """isin(elements, test_elements, assume_unique=False, invert=False): each element equal to any test
        element (NaN equal to none), a mask."""
        params = {"x": REQUIRED, "test_elements": REQUIRED, "assume_unique": False, "invert": False}
        if library == "numpy":
            params["kind"] = None
        else:
            params = {"elements": REQUIRED} | {k: v for k, v in params.items() if k != "x"}
        a = arguments("isin", args, kwargs, params, position)
        if library != "numpy":
            refuse_torch_sequence(b, a["elements"], "elements", "isin", position)
            refuse_torch_sequence(b, a["test_elements"], "test_elements", "isin", position)
        x = tensor(b, a["x" if library == "numpy" else "elements"], "isin", position)
        kind = static(b, a.get("kind"), "kind", position)
        if kind not in (None, "sort", "table"):
            raise JacValueError(f"np.isin: kind must be None, 'sort' or 'table', got {kind!r}", position)
        static(b, a["assume_unique"], "assume_unique", position)  # the answer is the same either way
        t = tensor(b, a["test_elements"], "isin", position)
        t = _reshape_to(b, t, (_numel(t, position),), position)
        column = _reshape_to(b, x, tuple(x.shape) + (1,), position)
        hits = b.apply("sum", b.apply("eq", column, t, position=position), axes=(x.ndim,), position=position)
        inside = b.apply("eq" if static(b, a["invert"], "invert", position) else "gt", hits, 0.0, position=position)
        return boolean(b, inside)
    return lower


variant("torch", "isin")(_isin_lowering("torch"))
variant("numpy", "isin")(_isin_lowering("numpy"))


# -- order statistics: msort, nanquantile / nanpercentile, mode ----------------------------------------------

def _msort(b, args, kwargs, position):
    """torch.msort(x): the values of torch.sort along dim 0 (refused at ties past 16 elements, as sort)."""
    a = arguments("msort", args, kwargs, {"x": REQUIRED}, position)
    return _sort_like("sort")("torch")(b, [a["x"]], {"axis": 0}, position).part("values")


variant("torch", "msort")(variant("method", "msort")(_scalar_as_vector(_msort)))  # registered after the loop above

NANQUANTILE_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _nanquantile(fname: str, scale: float, library: str):
    """torch.nanquantile(x, q, dim=None, keepdim=False, interpolation='linear'), np.nanquantile(a, q, axis=None,
    method='linear', keepdims=False) and np.nanpercentile (q in percent): the quantile of the elements that
    are not NaN, between those of rank floor and ceil of q·(k - 1), k their number (a line of NaN alone gives
    NaN), interpolated as both libraries do: a + (b - a)·w below w = 1/2, b - (b - a)·(1 - w) from it on."""
    def lower(b, args, kwargs, position):
        if library == "torch":
            params = {"x": REQUIRED, "q": REQUIRED, "axis": None, "keepdims": False, "interpolation": "linear"}
        else:
            params = {"x": REQUIRED, "q": REQUIRED, "axis": None, "out": None, "overwrite_input": False,
                      "method": "linear", "keepdims": False, "weights": None, "interpolation": None}
        a = arguments(fname, args, kwargs, params, position)
        if library != "torch":
            for key in ("out", "weights"):
                if a[key] is not None:
                    raise JacValueError(f"np.{fname}: {key}= is not supported", position)
            static(b, a["overwrite_input"], "overwrite_input", position)
            given = static(b, a["interpolation"], "interpolation", position)
            a["interpolation"] = given if given is not None else a["method"]
        x = tensor(b, a["x"], fname, position)
        q = _quantile_q(b, a, lower, fname, scale, NANQUANTILE_METHODS, position)
        if not isinstance(q, tuple):
            return q
        q, method = q
        keepdims = keepdims_of(b, a["keepdims"], position, kwargs=kwargs)
        if a["axis"] is None or x.ndim == 0:
            if keepdims and x.ndim:  # over every element, kept as ones: (1, 1) of a matrix
                flat = lower(b, [x, a["q"]], {"interpolation": a["interpolation"]}, position)
                return _reshape_to(b, flat, flat.shape + (1,) * x.ndim, position)
            if keepdims and a["axis"] is None and jax_spelled(b):
                return _jax_kept_0d(b, lower(b, [x, a["q"]], {"interpolation": a["interpolation"]}, position),
                                    position)
            x = _reshape_to(b, x, (_numel(x, position),), position)
            axis, keepdims = 0, False
        else:
            axis = _one_axis(b, a["axis"], x, position, fname)

        reading = quantile_reading(b)

        def at(rank):
            idx = b.apply("argquantile", x, axis=axis, q=q, rank=rank, position=position)
            return b.apply("take_along", x, idx, axis=axis, position=position)

        if method == "nearest" and reading == "jax":
            return _squeezed(b, at("half_down"), axis, keepdims, position)
        if method in ("lower", "higher", "nearest"):
            return _squeezed(b, at(method), axis, keepdims, position)
        # the rank q·(k - 1) and its fraction: counts of the values, so no derivative
        k = b.apply("sum", b.apply("eq", x, x, position=position), axes=(axis,), keepdims=True, position=position)
        pos = b.apply("maximum", b.apply("mul", q, b.apply("sub", k, 1.0, position=position), position=position),
                      0.0, position=position)
        floor = b.apply("floor", pos, position=position)
        if method == "midpoint":  # NumPy's 0 at a whole rank (ceil - floor is 0 there, else 1), PyTorch's 0.5
            w = b.apply("mul", b.apply("sub", b.apply("ceil", pos, position=position), floor, position=position), 0.5,
                        position=position) if reading == "numpy" else 0.5
        else:
            w = b.apply("sub", pos, floor, position=position)
            if reading == "numpy":  # at the last rank NumPy's weight is pos + 1 (quantile_neighbours)
                w = b.apply("where", b.apply("ge", pos, b.apply("sub", k, 1.0, position=position), position=position),
                            b.apply("add", pos, 1.0, position=position), w, position=position)
        out = interpolated_quantile(b, at("lower"), at("next" if reading == "numpy" else "higher"), w, method,
                                    reading, position)
        return _squeezed(b, out, axis, keepdims, position)
    return lower


variant("torch", "nanquantile")(_nanquantile("nanquantile", 1.0, "torch"))
variant("method", "nanquantile")(_nanquantile("nanquantile", 1.0, "torch"))
variant("numpy", "nanquantile")(_tuple_axis(_nanquantile("nanquantile", 1.0, "numpy"), "nanquantile", 2))
variant("numpy", "nanpercentile")(_tuple_axis(_nanquantile("nanpercentile", 100.0, "numpy"), "nanpercentile", 2))


def _mode(b, args, kwargs, position):
    """torch.mode(x, dim=-1, keepdim=False): (values, indices), the smallest of the most frequent values and
    the index of its last occurrence, as PyTorch; the derivative of the values goes to that index, as PyTorch's."""
    a = arguments("mode", args, kwargs, {"x": REQUIRED, "axis": -1, "keepdims": False}, position)
    x = tensor(b, a["x"], "mode", position)
    keepdims = keepdims_of(b, a["keepdims"], position, kwargs=kwargs)
    if x.ndim == 0:
        x, axis, keepdims = _reshape_to(b, x, (1,), position), 0, False
    else:
        axis = _one_axis(b, a["axis"], x, position, "mode")
    idx = b.apply("argmode", x, axis=axis, position=position)
    values = _selection(b, x, idx, axis, keepdims, position)
    parts = {"values": values, "indices": lambda: _squeezed(b, idx, axis, keepdims, position)}
    return Pair(values, parts, "torch", "mode")


variant("torch", "mode")(_mode)
variant("method", "mode")(_mode)


def _mvlgamma(b, args, kwargs, position):
    """torch.mvlgamma(x, p) / torch.special.multigammaln(x, p) / scipy.special.multigammaln(a, d): the log of the
    multivariate gamma function; its derivative Σ_(j<p) digamma(x - j/2). SciPy's refuses x <= (p - 1)/2 (its
    ValueError); PyTorch 2.13's and JAX's answer the sum of log|Γ| there."""
    kwargs = {("ord" if k == "d" else k): v for k, v in kwargs.items()}  # SciPy's d; p reads as ord (ALIASES)
    a = arguments("mvlgamma", args, kwargs, {"x": REQUIRED, "ord": REQUIRED}, position)
    p = static_int(b, a["ord"], "p", position)
    if p < 1:
        raise JacValueError(f"mvlgamma: p has to be greater than or equal to 1, got {p}", position)
    scipy = b.library in ("scipy", "jax.scipy") and not jax_spelled(b)
    return b.apply("mvlgamma", tensor(b, a["x"], "mvlgamma", position), p=p, scipy=scipy, position=position)


variant("torch", "mvlgamma")(_mvlgamma)
variant("torch", "multigammaln")(_mvlgamma)
variant("method", "mvlgamma")(_mvlgamma)
variant("scipy", "multigammaln")(_mvlgamma)


@variant("torch", "combinations")
def _combinations(b, args, kwargs, position):
    """torch.combinations(x, r=2, with_replacement=False): the r-element combinations of a vector's elements,
    in itertools' order, as rows (a gather: the derivative goes back to the elements taken)."""
    from itertools import combinations, combinations_with_replacement

    a = arguments("combinations", args, kwargs, {"x": REQUIRED, "r": 2, "with_replacement": False}, position)
    x = tensor(b, a["x"], "combinations", position)
    _need_ndim("combinations", x, (1,), position)
    r = static_int(b, a["r"], "r", position)
    if r < 0:
        raise JacValueError(f"combinations: r must be non-negative, got {r}", position)
    n = _concrete(x, "combinations", position)[0]
    pick = combinations_with_replacement if static(b, a["with_replacement"], "with_replacement", position) \
        else combinations
    count = math.comb(n + r - 1, r) if pick is combinations_with_replacement else math.comb(n, r)
    b.check_size((count, r), "combinations' result", position)
    if r == 0 or count == 0:  # PyTorch: an empty vector for r = 0, else no rows of r
        return b.const(np.zeros((0, r) if r else 0), position)
    rows = np.array(list(pick(range(n), r)), dtype=np.intp)
    return b.apply("getitem", x, index=(rows,), position=position)


# --- PART hvocab10: Bessel functions, frexp, masked reductions, partition, lexsort, index arithmetic ---

def _bessel(op_name: str, fname: str):
    def lower(b, args, kwargs, position):
        x = arguments(fname, args, kwargs, {"x": REQUIRED}, position)["x"]
        return b.apply(op_name, tensor(b, x, fname, position), position=position)
    lower.__doc__ = (f"{fname}(x): SciPy's values (scipy.special.{op_name}); PyTorch's Cephes port differs by up to "
                     "16 ulps, its own error. Derivatives from the recurrences (J0' = -J1, K0' = -K1, ...), which "
                     "PyTorch lacks")
    return lower


for _op_name in ("j0", "j1", "y0", "y1", "k0", "k1", "k0e", "k1e"):
    variant("scipy", _op_name)(_bessel(_op_name, _op_name))
for _fname, _op_name in (("modified_bessel_i0", "i0"), ("modified_bessel_i1", "i1"), ("modified_bessel_k0", "k0"),
                         ("modified_bessel_k1", "k1"), ("scaled_modified_bessel_k0", "k0e"),
                         ("scaled_modified_bessel_k1", "k1e")):
    variant("torch", _fname)(_bessel(_op_name, _fname))


def _torch_bessel_jy(fname: str, scipy_name: str):
    def lower(b, args, kwargs, position):
        """Refused: PyTorch 2.13's approximation of J and Y differs from the functions by up to 8e-7 for |x| < 30
        (its port of Cephes; SciPy's is within 1e-15), which jac does not reproduce, and PyTorch has no derivative
        for it."""
        raise JacValueError(f"torch.special.{fname} is not computed by jac: PyTorch's values differ from the Bessel "
                            f"function by up to 8e-7 for |x| < 30 (its own approximation), which jac does not "
                            f"reproduce, and PyTorch has no derivative for it; scipy.special.{scipy_name}(x) is the "
                            "function itself, with its derivative", position)
    return lower


for _fname, _scipy_name in (("bessel_j0", "j0"), ("bessel_j1", "j1"), ("bessel_y0", "y0"), ("bessel_y1", "y1")):
    variant("torch", _fname)(_torch_bessel_jy(_fname, _scipy_name))


@variant("torch", "airy_ai")
def _airy_ai(b, args, kwargs, position):
    """torch.special.airy_ai(x): Airy's Ai as PyTorch computes it (its Cephes port, operation for operation: its
    error reaches 3e-6 near -2.09, NaN at ±inf); the derivative, which PyTorch lacks, is the function's own, Ai'."""
    x = tensor(b, arguments("airy_ai", args, kwargs, {"x": REQUIRED}, position)["x"], "airy_ai", position)
    return b.apply("airy_ai", x, position=position)


_J0_SERIES = (-1.0 / 6.0, 1.0 / 120.0, -1.0 / 5040.0, 1.0 / 362880.0, -1.0 / 39916800.0, 1.0 / 6227020800.0)


@variant("torch", "spherical_bessel_j0")
def _spherical_bessel_j0(b, args, kwargs, position):
    """torch.special.spherical_bessel_j0(x): sin(x) / x, as PyTorch computes it: its Taylor polynomial (to x¹²) where
    |x| < 0.5, 0 at ±inf; the derivative, which PyTorch lacks, is the function's own (x cos x - sin x) / x²."""
    x = tensor(b, arguments("spherical_bessel_j0", args, kwargs, {"x": REQUIRED}, position)["x"],
               "spherical_bessel_j0", position)

    def op(name, *operands):
        return b.apply(name, *operands, position=position)

    near = op("gt", 0.5, op("abs", x))
    infinite = op("isinf", x)
    small = op("where", near, x, 0.0)  # each side sees finite values only where it is not taken: no 0 · inf
    safe = op("where", op("maximum", near, infinite), 1.0, x)  # (and no 0 / 0) in the other side's derivative
    squared = op("mul", small, small)
    poly = op("mul", squared, _J0_SERIES[-1])
    for c in reversed(_J0_SERIES[:-1]):  # 1 + x² (-1/6 + x² (1/120 + ...)), PyTorch's nesting
        poly = op("mul", squared, op("add", c, poly))
    poly = op("add", 1.0, poly)
    far = op("div", op("sin", safe), safe)
    return op("where", infinite, 0.0, op("where", near, poly, far))


def _frexp(b, args, kwargs, position):
    """np.frexp(x) / torch.frexp(x): (mantissa, exponent) with x = mantissa * 2**exponent, 0.5 <= |mantissa| < 1
    (x itself and 0 at 0, inf and NaN); the mantissa's derivative is 1 / 2**exponent (PyTorch's), the exponent
    an integer with none"""
    x = tensor(b, arguments("frexp", args, kwargs, {"x": REQUIRED}, position)["x"], "frexp", position)
    exponent = b.apply("frexp_exponent", x, position=position)
    if b.nodes[exponent.id].op == "frexp_exponent":  # int32 in NumPy, PyTorch and JAX (a constant folds as a float)
        b.integral[exponent.id] = (np.dtype(np.int32), b.library if b.library in ("torch", "numpy") else None)
    return Items.named([b.apply("frexp_mantissa", x, position=position), exponent], ("mantissa", "exponent"))


for _library in ("numpy", "torch", "method"):
    variant(_library, "frexp")(_frexp)


_MASKED_UFUNC = {"sum": "add", "prod": "multiply", "mean": "add", "max": "maximum", "amax": "maximum",
                 "min": "minimum", "amin": "minimum"}


def _where_mask(b, mask, x: Tracer, fname: str, position) -> Tracer:
    """NumPy's ``where=`` of a reduction: a boolean mask (or 0/1 constants) broadcast to ``x``'s shape."""
    if isinstance(mask, bool):
        mask = b.const(float(mask), position)
    mask = tensor(b, mask, fname, position)
    if not is_boolean(b, mask) and not (b.nodes[mask.id].op == "const" and np.all(
            np.isin(np.asarray(b.nodes[mask.id].value), (0, 1)))):
        raise JacValueError(f"{fname}: where= must be a boolean mask (a comparison such as x > 0, or True/False "
                            "values), as NumPy", position)
    try:
        full = np.broadcast_shapes(tuple(mask.shape), tuple(x.shape))
    except ValueError:
        full = None
    if full != tuple(x.shape):
        raise JacShapeError(f"{fname}: where= of shape {fmt(mask.shape)} does not broadcast to the array's shape "
                            f"{fmt(x.shape)} (NumPy broadcasts the mask to the array, never the array)", position)
    if tuple(mask.shape) != tuple(x.shape):
        mask = b.apply("broadcast_to", mask, shape=tuple(x.shape), position=position)
    return mask


def _masked_reduction(fname: str, plain):
    """NumPy's ``where=`` and ``initial=`` of sum / prod / mean / max / min: the ufunc's reduce itself (op
    reduce_where), so values are NumPy's bit for bit; without them, ``plain`` (the lowering as it was)."""
    ufunc = _MASKED_UFUNC[fname]

    def lower(b, args, kwargs, position):
        if "where" not in kwargs and "initial" not in kwargs:
            return plain(b, args, kwargs, position)
        params = {"x": REQUIRED, "axis": None, "keepdims": False, "where": True}
        if fname != "mean":
            params["initial"] = None
        a = arguments(fname, args, kwargs, params, position)
        x = tensor(b, a["x"], fname, position)
        axes = axes_of(b, a["axis"], x, position, fname)
        keepdims = keepdims_of(b, a["keepdims"], position, kwargs=kwargs)
        initial = a.get("initial")
        if initial is not None:
            initial = static(b, initial, "initial", position)
            if not isinstance(initial, (int, float)) or isinstance(initial, bool):
                raise JacValueError(f"{fname}: initial must be a number, got {initial!r}", position)
            initial = float(initial)
        mask = _where_mask(b, a["where"], x, fname, position)
        if ufunc in ("maximum", "minimum") and initial is None:
            raise JacValueError(f"{fname} with where= needs initial= (NumPy: 'reduction operation {ufunc!r} does not "
                                "have an identity, so to use a where mask one has to specify initial')", position)
        out = b.apply("reduce_where", x, mask, ufunc=ufunc, axes=axes, keepdims=keepdims, initial=initial,
                      position=position)
        if fname != "mean":
            return out
        count = b.apply("sum", mask, axes=axes, keepdims=keepdims, position=position)
        return b.apply("div", out, count, position=position)  # NumPy's mean: the masked sum / the mask's count
    lower.__doc__ = plain.__doc__
    return lower


for _fname in _MASKED_UFUNC:
    for _library in ("numpy", "method"):
        _plain = LIBRARY_FUNCTIONS.pop((_library, _fname), None) or FUNCTIONS[_fname]
        variant(_library, _fname)(_masked_reduction(_fname, _plain))


def _jax_partition(b, fname, args, kwargs, position):
    """jnp.partition / jnp.argpartition(x, kth, axis=-1), as JAX computes them (lax.top_k): the kth + 1 smallest
    in ascending order, then the others: their values in descending order (partition), their indices in
    ascending order (argpartition). Ties go as a stable sort puts them (JAX's top_k takes the lowest index
    first; where equal values straddle the kth, JAX's two top_k calls both take the lowest ones)."""
    a = arguments(fname, args, kwargs, {"x": REQUIRED, "kth": REQUIRED, "axis": -1}, position)
    x = tensor(b, a["x"], fname, position)
    if x.ndim == 0 or a["axis"] is None:
        raise JacShapeError(f"jnp.{fname} partitions along one axis of an array of at least one dimension (JAX "
                            "refuses a 0-d array and axis=None)", position)
    axis = _axis(b, a["axis"], x.ndim, fname, position, "axis")
    n = _concrete(x, fname, position)[axis]
    k = static_int(b, a["kth"], "kth", position)
    if not -n <= k < n:
        raise JacShapeError(f"{fname}: kth(={k}) out of bounds ({n})", position)
    k %= n
    # the order sorts key = the stable rank for the kth + 1 smallest, n + (the index, or the rank in a stable
    # descending order) for the others
    rank = b.apply("argsort", b.apply("argsort", x, axis=axis, position=position), axis=axis, position=position)
    if fname == "argpartition":
        line = np.arange(n, 2 * n, dtype=np.int64).reshape((n,) + (1,) * (x.ndim - 1 - axis))
        later = b.const(np.broadcast_to(line, x.shape).astype(b.dtype), position)
    else:
        down = b.apply("argsort", x, axis=axis, descending=True, position=position)
        later = b.apply("add", b.apply("argsort", down, axis=axis, position=position), n, position=position)
    key = b.apply("where", b.apply("le", rank, k, position=position), rank, later, position=position)
    idx = b.apply("argsort", key, axis=axis, position=position)
    return idx if fname == "argpartition" else b.apply("take_along", x, idx, axis=axis, position=position)


def _partition_like(fname: str):
    def lower(b, args, kwargs, position):
        if jax_spelled(b):
            return _jax_partition(b, fname, args, kwargs, position)
        kwargs = {k: v for k, v in kwargs.items() if k != "kind"}
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "kth": REQUIRED, "axis": -1}, position)
        x = tensor(b, a["x"], fname, position)
        if a["axis"] is None:
            x, axis = _reshape_to(b, x, (_numel(x, position),), position), 0
        else:
            if x.ndim == 0:
                raise JacShapeError(f"{fname}: a 0-d array has no axis to partition along", position)
            axis = _axis(b, a["axis"], x.ndim, fname, position, "axis")
        n = _concrete(x, fname, position)[axis]
        kth = static_ints(b, a["kth"], "kth", position)
        for k in kth:
            if not -n <= k < n:
                raise JacShapeError(f"{fname}: kth(={k}) out of bounds ({n})", position)
        kth = tuple(k % n for k in kth)
        idx = b.apply("argpartition", x, kth=kth if len(kth) > 1 else kth[0], axis=axis, position=position)
        if fname == "argpartition":
            return idx
        return b.apply("take_along", x, idx, axis=axis, position=position)
    lower.__doc__ = (f"np.{fname}(x, kth, axis=-1): NumPy's own {fname} (introselect) at evaluation, so the order "
                     "inside the parts is NumPy's exactly" + (
                         "; integer indices, no derivative" if fname == "argpartition" else
                         "; the derivative goes back through that permutation"))
    return lower


variant("numpy", "partition")(_partition_like("partition"))
variant("numpy", "argpartition")(_partition_like("argpartition"))


@variant("numpy", "lexsort")
def _lexsort(b, args, kwargs, position):
    """np.lexsort(keys): the indices that sort by the last key, then the one before, ... (stable); keys a tuple
    of vectors of one length or a matrix (its rows); integer indices, no derivative"""
    a = arguments("lexsort", args, kwargs, {"keys": REQUIRED, "axis": -1}, position)
    keys = a["keys"]
    if not isinstance(keys, Items):
        k = tensor(b, keys, "lexsort", position)
        _need_ndim("lexsort", k, (2,), position, "keys array (one row per key)")
        keys = Items([_take(b, k, (i,), position) for i in range(_concrete(k, "lexsort", position)[0])])
    keys = [tensor(b, k, "lexsort", position) for k in keys]
    if not keys:
        raise JacValueError("lexsort: needs at least one key (NumPy: 'need sequence of keys with len > 0')", position)
    if static_int(b, a["axis"], "axis", position) not in (-1, 0):
        raise JacValueError("lexsort: jac sorts vectors of keys (axis -1)", position)
    for k in keys:
        _need_ndim("lexsort", k, (1,), position, "key")
        if tuple(k.shape) != tuple(keys[0].shape):
            raise JacShapeError(f"lexsort: all keys need the same shape, got {fmt(keys[0].shape)} and "
                                f"{fmt(k.shape)}", position)
    return b.apply("lexsort", *keys, position=position)


def _integer_indices(b, value, fname, what, position) -> Tracer:
    """An array of integers: a constant of integers, or made by an op with no derivative (argmax,
    argsort, ...); NumPy refuses float indices, so an array an input flows into differentiably is refused."""
    t = tensor(b, value, fname, position)
    node = b.nodes[t.id]
    if node.op == "const":
        v = np.asarray(node.value)
        if v.size and not (np.all(np.isfinite(v)) and np.array_equal(v, np.round(v))):
            raise JacValueError(f"{fname}: {what} must be integers", position)
        return t
    if node.op in OPS and OPS[node.op].nondiff and node.op not in ("sign", "gt", "ge", "eq"):
        return t
    raise JacValueError(f"{fname}: {what} must be integer indices (a constant, or argmax/argsort/... of the "
                        f"inputs), not numbers of the inputs: NumPy refuses floats here{input_not_constant(b, t)}",
                        position)


@variant("numpy", "unravel_index")
def _unravel_index(b, args, kwargs, position):
    """np.unravel_index(indices, shape): the coordinates of flat indices, one array per axis (C order); the
    indices a constant or argmax/argsort/... of the inputs; integer values, no derivative"""
    a = arguments("unravel_index", args, kwargs, {"indices": REQUIRED, "shape": REQUIRED, "order": Static("C")},
                  position)
    if static(b, a["order"], "order", position) != "C":
        raise JacValueError("unravel_index: jac reads C order only (order='C')", position)
    idx = _integer_indices(b, a["indices"], "unravel_index", "indices", position)
    shape = static_ints(b, a["shape"], "shape", position)
    if any(n < 0 for n in shape):
        raise JacValueError(f"unravel_index: dimensions must be non-negative, got {shape}", position)
    total = int(np.prod(shape, dtype=np.int64))
    node = b.nodes[idx.id]
    if node.op == "const":
        v = np.asarray(node.value)
        if v.size and (v.min() < 0 or v.max() >= total):
            bad = int(v.min()) if v.min() < 0 else int(v.max())
            raise JacValueError(f"unravel_index: index {bad} is out of bounds for array with size {total}", position)
    elif total == 0:
        raise JacValueError("unravel_index: no index is in bounds for an array of size 0", position)
    parts, stride = [], total
    for n in shape:
        stride //= max(n, 1)
        q = b.apply("floor_divide", idx, float(stride), position=position) if stride != 1 else idx
        parts.append(b.apply("remainder", q, float(n), position=position))
    return Items(parts)


@variant("numpy", "ravel_multi_index")
def _ravel_multi_index(b, args, kwargs, position):
    """np.ravel_multi_index(multi_index, dims): flat indices of coordinates (C order, mode='raise'): constants or
    argmax/argsort/... of the inputs; integer values, no derivative"""
    a = arguments("ravel_multi_index", args, kwargs, {"multi_index": REQUIRED, "dims": REQUIRED,
                                                      "mode": Static("raise"), "order": Static("C")}, position)
    if static(b, a["mode"], "mode", position) != "raise" or static(b, a["order"], "order", position) != "C":
        raise JacValueError("ravel_multi_index: jac reads mode='raise', order='C' only", position)
    dims = static_ints(b, a["dims"], "dims", position)
    coords = a["multi_index"]
    if not isinstance(coords, Items):
        array = tensor(b, coords, "ravel_multi_index", position)
        if array.ndim == 0:
            raise JacValueError("ravel_multi_index: multi_index is one array of coordinates per axis, not a number",
                                position)
        coords = Items([_take(b, array, (i,), position) for i in range(array.shape[0])])
    if len(coords) != len(dims):
        raise JacValueError(f"ravel_multi_index: parameter multi_index must be a sequence of length {len(dims)}",
                            position)
    out, stride = None, 1
    for c, n in reversed(list(zip(coords, dims))):
        c = _integer_indices(b, c, "ravel_multi_index", "multi_index", position)
        node = b.nodes[c.id]
        if node.op == "const":
            v = np.asarray(node.value)
            if v.size and (v.min() < 0 or v.max() >= n):
                raise JacValueError("ravel_multi_index: invalid entry in coordinates array", position)
        term = c if stride == 1 else b.apply("mul", c, float(stride), position=position)
        out = term if out is None else b.apply("add", term, out, position=position)
        stride *= n
    return out


def _im2col_index(b, a, channels, size, fname, position):
    """unfold's / fold's index map: for each (channel, kernel row, kernel column) row and window column of the
    (C·kh·kw, L) matrix, the (channel, row, column) of the padded image it reads (PyTorch's im2col order)."""
    kernel = _per_axis(b, a["kernel_size"], 2, "kernel_size", fname, position, 1)
    dilation = _per_axis(b, a["dilation"], 2, "dilation", fname, position, 1)
    padding = _per_axis(b, a["padding"], 2, "padding", fname, position, 0)
    stride = _per_axis(b, a["stride"], 2, "stride", fname, position, 1)
    counts = [_window_count(n + 2 * p, k, s, d, fname, position)
              for n, k, s, d, p in zip(size, kernel, stride, dilation, padding)]
    c, i, j = np.meshgrid(np.arange(channels), np.arange(kernel[0]), np.arange(kernel[1]), indexing="ij")
    oy, ox = np.meshgrid(np.arange(counts[0]), np.arange(counts[1]), indexing="ij")
    rows = [c.reshape(-1, 1), i.reshape(-1, 1) * dilation[0] + oy.reshape(1, -1) * stride[0],
            j.reshape(-1, 1) * dilation[1] + ox.reshape(1, -1) * stride[1]]
    shape = (channels * kernel[0] * kernel[1], counts[0] * counts[1])
    return tuple(np.broadcast_to(r, shape) for r in rows), [(p, p) for p in padding], kernel


@variant("torch", "unfold")
def _unfold(b, args, kwargs, position):
    """F.unfold(x, kernel_size, dilation=1, padding=0, stride=1): im2col, (N, C, H, W) to (N, C·kh·kw, L) (or
    unbatched); a gather with a constant index map, so the derivative adds overlapping windows back"""
    a = arguments("unfold", args, kwargs, {"x": REQUIRED, "kernel_size": REQUIRED, "dilation": 1, "padding": 0,
                                           "stride": 1}, position)
    x = tensor(b, a["x"], "unfold", position)
    if x.ndim not in (3, 4):
        raise JacShapeError(f"unfold: only 3-d (C, H, W) or 4-d (N, C, H, W) inputs are supported (PyTorch), got "
                            f"shape {fmt(x.shape)}", position)
    shape = _concrete(x, "unfold", position)
    index, widths, _ = _im2col_index(b, a, shape[-3], shape[-2:], "unfold", position)
    padded = _padded(b, x, widths, position)
    return _take(b, padded, (slice(None),) * (x.ndim - 3) + index, position)


@variant("torch", "fold")
def _fold(b, args, kwargs, position):
    """F.fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1): col2im, (N, C·kh·kw, L) to
    (N, C, H, W): each column added back into its window, in PyTorch's order (from +0, so the sums' bits are
    PyTorch's); the transpose of unfold"""
    a = arguments("fold", args, kwargs, {"x": REQUIRED, "output_size": REQUIRED, "kernel_size": REQUIRED,
                                         "dilation": 1, "padding": 0, "stride": 1}, position)
    x = tensor(b, a["x"], "fold", position)
    if x.ndim not in (2, 3):
        raise JacShapeError(f"fold: only 2-d (C·kh·kw, L) or 3-d (N, C·kh·kw, L) inputs are supported (PyTorch), "
                            f"got shape {fmt(x.shape)}", position)
    shape = _concrete(x, "fold", position)
    size = _per_axis(b, a["output_size"], 2, "output_size", "fold", position, 1)
    kernel = _per_axis(b, a["kernel_size"], 2, "kernel_size", "fold", position, 1)
    if shape[-2] % (kernel[0] * kernel[1]):
        raise JacShapeError(f"fold: expected size of input's dimension 1 to be divisible by the product of "
                            f"kernel_size, but got input.size(1)={shape[-2]} and kernel_size={kernel} (PyTorch)",
                            position)
    channels = shape[-2] // (kernel[0] * kernel[1])
    index, widths, _ = _im2col_index(b, a, channels, size, "fold", position)
    if index[0].shape[1] != shape[-1]:
        raise JacShapeError(f"fold: given output_size={size}, kernel_size={kernel}, the input's last dimension "
                            f"must be {index[0].shape[1]} blocks, got {shape[-1]} (PyTorch)", position)
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(size, widths))
    lead = tuple(shape[:-2])
    summed = _place(b, x, (slice(None),) * len(lead) + index, lead + (channels,) + padded, position)
    summed = b.apply("add", summed, 0.0, position=position)  # the sums start from +0, as PyTorch's col2im
    crop = tuple(slice(lo, lo + n) for n, (lo, _) in zip(size, widths))
    return _take(b, summed, (slice(None),) * (len(lead) + 1) + crop, position)


def _ldl_refused(fname: str):
    def lower(b, args, kwargs, position):
        """Refused: LAPACK's Bunch-Kaufman LDLᵀ (sytrf) packs L and D's 1×1 and 2×2 blocks into one matrix with
        pivots chosen by comparing magnitudes, and PyTorch has no derivative for it"""
        raise JacValueError(f"jac does not compute torch.linalg.{fname}: its result is LAPACK's packed "
                            "Bunch-Kaufman factorization (L and D's 1x1 and 2x2 blocks in one matrix, pivots chosen "
                            "by comparing magnitudes), which PyTorch cannot differentiate either; for a solve use "
                            "torch.linalg.solve(A, B), for a positive definite A torch.linalg.cholesky(A)", position)
    return lower


for _fname in ("ldl_factor", "ldl_factor_ex", "ldl_solve"):
    variant("torch.linalg", _fname)(_ldl_refused(_fname))


@variant("numpy", "ldexp")
def _np_ldexp(b, args, kwargs, position):
    """np.ldexp(x, e): x · 2**e rounded once, as NumPy (PyTorch's x * 2**e overflows or underflows 2**e first);
    e integers: constants or argmax/frexp(...)[1]/... of the inputs; derivative 2**e by x"""
    a = arguments("ldexp", args, kwargs, {"x": REQUIRED, "other": REQUIRED}, position)
    _ldexp_float_exponent(b, a["other"], position)
    x = tensor(b, a["x"], "ldexp", position)
    return b.apply("ldexp", x, _integer_indices(b, a["other"], "ldexp", "the exponent", position), position=position)


# --- PART hvocab10: PyTorch's *_copy twins, NumPy 2's cumulative_*, windows, polynomial arithmetic, aliases ---

def _copy_of(base: str, library: str):
    def lower(b, args, kwargs, position):
        return (library_function(library, base) or FUNCTIONS[base])(b, args, kwargs, position)
    lower.__doc__ = (f"torch.{base}_copy: torch.{base}'s values as a tensor of their own (jac's arrays are never "
                     "shared), the derivative the same")
    return lower


for _base in ("diagonal", "expand", "narrow", "permute", "select", "split", "squeeze", "t", "transpose", "unbind",
              "unsqueeze", "view", "detach"):
    variant("torch", f"{_base}_copy")(_copy_of(_base, "torch"))
variant("torch", "unfold_copy")(_copy_of("unfold", "method"))  # x.unfold(dim, size, step), not F.unfold
variant("torch", "alias_copy")(_copy_of("clone", "torch"))
variant("torch", "unravel_index")(LIBRARY_FUNCTIONS[("numpy", "unravel_index")])


def _np_cumulative(fname: str, base: str):
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "axis": None, "dtype": None, "out": None,
                                            "include_initial": False}, position)
        x = tensor(b, a["x"], fname, position)
        if a["axis"] is None and x.ndim > 1:
            raise JacValueError(f"{fname}: axis must be given for an array of {x.ndim} dimensions (NumPy)", position)
        if x.ndim == 0:
            raise JacValueError(f"{fname}: a 0-d array has no axis to accumulate along (NumPy)", position)
        if a["out"] is not None:
            raise JacValueError(f"{fname}(): out= writes into an array, which jac does not do: use the result",
                                position)
        axis = 0 if a["axis"] is None else _axis(b, a["axis"], x.ndim, fname, position, "axis")
        out = dtype_first(b, base, library_function("numpy", base), [x], {"axis": b.const(float(axis), position),
                                                                          "dtype": a["dtype"]}, position)
        if not static(b, a["include_initial"], "include_initial", position):
            return out
        shape = list(x.shape)
        shape[axis] = 1
        first = b.const(np.full(shape, 0.0 if base == "cumsum" else 1.0, dtype=b.dtype), position)
        return FUNCTIONS["cat"](b, [Items([first, out])], {"axis": b.const(float(axis), position)}, position)
    lower.__doc__ = (f"np.{fname}(x, axis=None, dtype=None, include_initial=False) (NumPy 2): np.{base} along axis "
                     f"(required past 1-d; dtype= as np.{base}'s), with include_initial the identity first")
    return lower


variant("numpy", "cumulative_sum")(_np_cumulative("cumulative_sum", "cumsum"))
variant("numpy", "cumulative_prod")(_np_cumulative("cumulative_prod", "cumprod"))


def _np_window(fname: str):
    def lower(b, args, kwargs, position):
        params = {"M": REQUIRED, "beta": REQUIRED} if fname == "kaiser" else {"M": REQUIRED}
        a = arguments(fname, args, kwargs, params, position)
        m = static_int(b, a["M"], "M", position)
        b.check_size((max(m, 0),), f"{fname}'s result", position)
        extra = [float(static(b, a["beta"], "beta", position))] if fname == "kaiser" else []
        return b.const(np.asarray(getattr(np, fname)(m, *extra), dtype=np.float64), position)
    lower.__doc__ = f"np.{fname}(M{', beta' if fname == 'kaiser' else ''}): NumPy's window itself, a constant"
    return lower


for _fname in ("hamming", "hanning", "bartlett", "blackman", "kaiser"):
    variant("numpy", _fname)(_np_window(_fname))


def _torch_window(fname: str, numpy_name: str, extra: dict):
    """torch.NAME_window(window_length, periodic=True, ...): NumPy's symmetric window of window_length + 1 points
    without its last when periodic (PyTorch's definition: a period of the window for spectral analysis), a
    constant; hamming's alpha / beta are its general form alpha - beta cos(2 pi n / (N - 1))."""
    def lower(b, args, kwargs, position):
        dtype = _value_options(b, kwargs, f"torch.{fname}", position)
        a = arguments(fname, args, kwargs, {"window_length": REQUIRED, "periodic": True} | extra, position)
        n = static_int(b, a["window_length"], "window_length", position)
        if n < 0:
            raise JacValueError(f"torch.{fname}(): window_length must be non-negative, got {n}", position)
        b.check_size((n,), f"{fname}'s result", position)
        periodic = _flag(b, a["periodic"], "periodic", f"torch.{fname}", position)
        if n <= 1:
            window = np.ones(n)
        else:
            m = n + 1 if periodic else n
            if fname == "hamming_window":
                alpha, beta = (float(static(b, a[k], k, position)) for k in ("alpha", "beta"))
                window = alpha - beta * np.cos(2.0 * np.pi * np.arange(m) / (m - 1))
            elif fname == "kaiser_window":
                window = np.kaiser(m, float(static(b, a["beta"], "beta", position)))
            else:
                window = getattr(np, numpy_name)(m)
            window = window[:n]
        return as_dtype(b, b.const(np.asarray(window, dtype=np.float64), position), dtype, position)
    lower.__doc__ = (f"torch.{fname}(window_length, periodic=True{''.join(f', {k}={v}' for k, v in extra.items())}):"
                     f" np.{numpy_name}(window_length + 1)[:-1] when periodic, np.{numpy_name}(window_length) when not;"
                     " a constant")
    return lower


for _fname, _numpy_name, _extra in (("hann_window", "hanning", {}), ("bartlett_window", "bartlett", {}),
                                    ("blackman_window", "blackman", {}),
                                    ("hamming_window", "hamming", {"alpha": 0.54, "beta": 0.46}),
                                    ("kaiser_window", "kaiser", {"beta": 12.0})):
    variant("torch", _fname)(_torch_window(_fname, _numpy_name, _extra))


def _is_real(b, args, kwargs, position):
    """isreal(x): True everywhere (jac's numbers are real), a mask"""
    x = tensor(b, arguments("isreal", args, kwargs, {"x": REQUIRED}, position)["x"], "isreal", position)
    return boolean(b, b.const(np.ones(_concrete(x, "isreal", position)), position))


for _library in ("numpy", "torch", "method"):
    variant(_library, "isreal")(_is_real)


def _np_is_obj(real: bool):
    def lower(b, args, kwargs, position):
        tensor(b, arguments("isrealobj", args, kwargs, {"x": REQUIRED}, position)["x"], "isrealobj", position)
        return boolean(b, b.const(np.asarray(1.0 if real else 0.0), position))
    lower.__doc__ = f"np.{'isrealobj' if real else 'iscomplexobj'}(x): {real} (jac's arrays are real), a boolean"
    return lower


variant("numpy", "isrealobj")(_np_is_obj(True))
variant("numpy", "iscomplexobj")(_np_is_obj(False))
variant("numpy", "conjugate")(FUNCTIONS["conj"])
@variant("numpy", "real_if_close")
def _np_real_if_close(b, args, kwargs, position):
    """np.real_if_close(a, tol=100): of a real array, itself (its arguments checked as NumPy's: one or two)"""
    a = arguments("real_if_close", args, {("x" if k == "a" else k): v for k, v in kwargs.items()},
                  {"x": REQUIRED, "tol": 100}, position)
    return FUNCTIONS["real"](b, [a["x"]], {}, position)


def _poly_not_0d(b, value, fname, position) -> None:
    """np.polyder / np.polyint (of m >= 1) take len(p): a 0-d array (or a number) is NumPy's TypeError."""
    if not isinstance(value, Items) and tensor(b, value, fname, position).ndim == 0:
        raise JacShapeError(f"np.{fname}: the coefficients must be a 1-d array, not a 0-d one (NumPy raises "
                            "TypeError: len() of unsized object)", position)


def _poly_vector(b, value, fname, position) -> Tracer:
    p = tensor(b, value, fname, position)
    if p.ndim == 0:
        return _reshape_to(b, p, (1,), position)
    _need_ndim(fname, p, (1,), position, "coefficient array")
    return p


def _np_polyaddsub(fname: str):
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"a1": REQUIRED, "a2": REQUIRED}, position)
        p, q = (_poly_vector(b, a[k], fname, position) for k in ("a1", "a2"))
        n = max(p.shape[0], q.shape[0])
        p, q = (_padded(b, v, [(n - v.shape[0], 0)], position) for v in (p, q))  # zeros in front, as NumPy
        return b.apply("add" if fname == "polyadd" else "sub", p, q, position=position)
    lower.__doc__ = f"np.{fname}(a1, a2): the shorter coefficient vector padded with zeros in front, as NumPy"
    return lower


variant("numpy", "polyadd")(_np_polyaddsub("polyadd"))
variant("numpy", "polysub")(_np_polyaddsub("polysub"))


@variant("numpy", "polymul")
def _np_polymul(b, args, kwargs, position):
    """np.polymul(a1, a2): the coefficients of the product, np.convolve(a1, a2) of each without its leading zeros, as
    NumPy's poly1d (jnp.polymul keeps them)"""
    a = arguments("polymul", args, kwargs, {"a1": REQUIRED, "a2": REQUIRED}, position)
    p, q = (_poly_vector(b, a[k], "polymul", position) for k in ("a1", "a2"))
    if (b.call or "").startswith(("np.", "numpy.")):  # jnp.polymul keeps them (trim_leading_zeros=False)
        p, q = (_leading_zeros_trimmed(b, v, position) for v in (p, q))
    return FUNCTIONS["convolve"](b, [p, q], {}, position)


def _leading_zeros_trimmed(b, p: Tracer, position) -> Tracer:
    """``p`` without its leading zero coefficients (one kept of all zeros), as NumPy's polymul makes a poly1d of each
    operand: np.polymul(a, [0, -1]) is -a, of a's length. The result's length depends on the values: an operand
    computed from the inputs is read at the given values (the graph holds for them only)."""
    if b.lowering is None or not p.shape[0]:
        return p
    value = np.asarray(b.lowering.value_of(p, position, "np.polymul (it drops leading zero coefficients)"))
    nonzero = np.flatnonzero(value)
    first = int(nonzero[0]) if nonzero.size else value.shape[0] - 1
    return _take(b, p, (slice(first, None),), position) if first else p


@variant("numpy", "polyder")
def _np_polyder(b, args, kwargs, position):
    """np.polyder(p, m=1): the m-th derivative's coefficients, p[:-1] * [n, ..., 1] m times (NumPy's products)"""
    a = arguments("polyder", args, kwargs, {"p": REQUIRED, "m": 1}, position)
    _poly_not_0d(b, a["p"], "polyder", position)
    p = _poly_vector(b, a["p"], "polyder", position)
    m = static_int(b, a["m"], "m", position)
    if m < 0:
        raise JacValueError("polyder: order of derivative must be positive (see polyint) (NumPy)", position)
    for _ in range(m):
        n = max(p.shape[0] - 1, 0)
        p = b.apply("mul", _take(b, p, (slice(0, n),), position), b.const(np.arange(n, 0, -1.0), position),
                    position=position)
    return p


@variant("numpy", "polyint")
def _np_polyint(b, args, kwargs, position):
    """np.polyint(p, m=1, k=None): the m-th antiderivative's coefficients, p / [n, ..., 1] then the constant k
    (0), m times (NumPy's divisions)"""
    a = arguments("polyint", args, kwargs, {"p": REQUIRED, "m": 1, "k": None}, position)
    m = static_int(b, a["m"], "m", position)
    if m < 0:
        raise JacValueError("polyint: order of integral must be positive (see polyder) (NumPy)", position)
    if m == 0:  # NumPy gives p back as it is, whatever its shape
        return tensor(b, a["p"], "polyint", position)
    _poly_not_0d(b, a["p"], "polyint", position)
    p = _poly_vector(b, a["p"], "polyint", position)
    k = [0.0] if a["k"] is None else static(b, a["k"], "k", position)
    ks = list(k) if isinstance(k, (tuple, list)) else [k]
    if len(ks) == 1 and m > 1:
        ks = ks * m
    if len(ks) < m or not all(isinstance(v, (int, float)) for v in ks):
        raise JacValueError("polyint: k must be a scalar or a rank-1 array of length 1 or m (NumPy)", position)
    for i in range(m):
        n = p.shape[0]
        q = b.apply("div", p, b.const(np.arange(n, 0, -1.0), position), position=position)
        p = FUNCTIONS["cat"](b, [Items([q, b.const(np.array([float(ks[i])]), position)])], {}, position)
    return p


@variant("torch", "rsub")
def _rsub(b, args, kwargs, position):
    """torch.rsub(x, y, alpha=1): y - alpha * x"""
    a = arguments("rsub", args, kwargs, {"x": REQUIRED, "other": REQUIRED, "alpha": 1}, position)
    x, y = tensor(b, a["x"], "rsub", position), tensor(b, a["other"], "rsub", position)
    alpha = static(b, a["alpha"], "alpha", position)
    return b.apply("sub", y, x if alpha == 1 else b.apply("mul", x, float(alpha), position=position), position=position)


@variant("torch", "scalar_tensor")
def _scalar_tensor(b, args, kwargs, position):
    """torch.scalar_tensor(s): the number as a 0-d tensor (a constant)"""
    a = arguments("scalar_tensor", args, {k: v for k, v in kwargs.items() if k not in ("dtype", "device")},
                  {"s": REQUIRED}, position)
    return b.const(np.asarray(float(static(b, a["s"], "s", position))), position)


def _broadcast_all(fname: str):
    def lower(b, args, kwargs, position):
        if kwargs:
            raise JacParseError(f"{fname}() takes arrays only", position)
        arrays = [tensor(b, v, fname, position) for v in (args[0] if len(args) == 1 and isinstance(args[0], Items)
                                                          else args)]
        try:
            shape = np.broadcast_shapes(*[tuple(_concrete(t, fname, position)) for t in arrays])
        except ValueError:
            raise JacShapeError(f"{fname}: shapes {', '.join(fmt(t.shape) for t in arrays)} do not broadcast",
                                position) from None
        return Items([t if tuple(t.shape) == shape else b.apply("broadcast_to", t, shape=shape, position=position)
                      for t in arrays])
    lower.__doc__ = f"{fname}(*arrays): each array broadcast to their common shape"
    return lower


variant("torch", "broadcast_tensors")(_broadcast_all("broadcast_tensors"))
variant("numpy", "broadcast_arrays")(_broadcast_all("broadcast_arrays"))


# --- integer-only element-wise functions: gcd, lcm, the shifts ---
#
# PyTorch and NumPy compute them on integer and (NumPy's shifts) boolean arrays only, and carry no derivative
# through integers. jac reads their arguments' values (constants, or integers computed from the inputs: then the
# graph holds for those values only, as x[mask]'s) and computes the library's own ufunc in the arguments' real
# dtypes, so overflow wraps as there; the result is a constant of that dtype.

def _torch_gcd(a, b):
    """PyTorch's gcd (``calc_gcd``): Euclid's loop on |a|, |b| with C's remainder, in the dtype. It differs from
    NumPy's where the dtype's minimum meets another number: gcd(6, -128) is -2 for int8 tensors, 2 in NumPy."""
    dtype = np.result_type(a, b)
    a, b = np.broadcast_arrays(np.abs(np.asarray(a, dtype=dtype)), np.abs(np.asarray(b, dtype=dtype)))
    a, b = a.copy(), b.copy()
    going = a != 0
    while going.any():
        c = a[going]
        a[going] = np.fmod(b[going], c)
        b[going] = c
        going = a != 0
    return b


def _torch_lcm(a, b):
    """PyTorch's lcm, C++'s ``std::abs(a / g * b)`` with its gcd: computed in int for narrower integers (C++
    promotes them), in the dtype otherwise, the absolute value taken after the product wraps, then stored in the
    dtype (NumPy's takes the absolute values first)."""
    dtype = np.result_type(a, b)
    g = _torch_gcd(a, b)
    work = np.int32 if dtype.itemsize < 4 else dtype
    a, b, g = (np.asarray(v).astype(work) for v in (a, b, g))
    if np.any((g == -1) & ((a == np.iinfo(work).min) | (b == np.iinfo(work).min))):
        raise ArithmeticError("PyTorch's lcm divides the dtype's minimum by -1 here (its gcd of the two is -1), which "
                              "C++ leaves undefined (the process stops with SIGFPE); jac refuses it")
    d = np.where(g == 0, 1, g)
    quotient = (a - np.fmod(a, d)) // d  # C's a / g, truncated (an exact multiple of d divided)
    return np.where(g == 0, 0, np.abs(quotient * b)).astype(dtype)


_INTEGER_UFUNCS = {"gcd": np.gcd, "lcm": np.lcm, "left_shift": np.left_shift, "right_shift": np.right_shift}


def _integer_operand(b, value, fname, library, position):
    """An argument of an integer-only function as the library holds it: a Python int, or an array of its integer
    (or boolean) dtype, read at build time."""
    t = tensor(b, value, fname, position)
    node, kind = b.nodes[t.id], dtypes.kind_of(b, t.id)
    if node.op == "const" and (kind is not None or t.id in b.pyints):
        v = dtypes.operand(b, t.id, node.value)
    elif kind is not None and b.lowering is not None:
        message = (f"{fname} of integers computed from the inputs is known only for given values (jac eval, vjp, jvp, "
                   "hessian, check read it; jac shape and jac diff cannot)")
        v = np.asarray(b.lowering.value_of(t, position, message=message)).astype(kind[0])
    else:
        raise JacValueError(f"{fname}: {'PyTorch' if library == 'torch' else 'NumPy'} computes it on integers only, "
                            "and this argument is a float (jac's inputs are floats: convert with .long() or "
                            ".astype(int))", position)
    is_bool = type(v) is bool or (isinstance(v, np.ndarray) and v.dtype.kind == "b")
    if library == "torch" and is_bool:
        raise JacValueError(f"{fname}: PyTorch does not implement it for bool tensors; jac refuses it", position)
    if library == "torch" and type(v) is int and fname in ("gcd", "lcm"):
        raise JacValueError(f"{fname}: PyTorch takes two tensors here, not a number (TypeError); write "
                            f"torch.tensor({v})", position)
    return v


def _integer_function(library: str, fname: str, ufunc: str):
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "y": REQUIRED}, position)
        values = [_integer_operand(b, a[k], fname, library, position) for k in ("x", "y")]
        if not any(isinstance(v, np.ndarray) for v in values):
            values[0] = np.asarray(values[0])  # two Python ints: NumPy's default integer
        values = dtypes._promoted(values, library, fname, position)  # a Python int as the library reads it
        compute = {"gcd": _torch_gcd, "lcm": _torch_lcm}.get(ufunc) if library == "torch" else None
        compute = compute or _INTEGER_UFUNCS[ufunc]
        try:
            with np.errstate(all="ignore"):
                result = np.asarray(compute(*values))
        except TypeError as err:
            raise JacValueError(f"{fname}: {err} (NumPy refuses these dtypes too)", position) from None
        except ArithmeticError as err:
            raise JacValueError(f"{fname}: {err}", position) from None
        if library == "torch" and result.dtype.kind == "u" and result.dtype.itemsize > 1:
            result = result.astype(np.int64)
        out = b.const(dtypes.held(b, result, f"the result of {fname}", position), position)
        b.typed[out.id] = (result.dtype, library)
        return out
    lower.__doc__ = (f"{'torch' if library == 'torch' else 'np'}.{fname}(x, y): {ufunc.replace('_', ' ')} of "
                     "integers (bool arrays too for NumPy's shifts) as the library computes it in their dtype, "
                     "wrapping; floats refused, no derivative (integers carry none)")
    return lower


for _fname in ("gcd", "lcm"):
    variant("torch", _fname)(_integer_function("torch", _fname, _fname))
    variant("numpy", _fname)(_integer_function("numpy", _fname, _fname))
    variant("method", _fname)(_integer_function("torch", _fname, _fname))  # x.gcd(y): PyTorch's (NumPy has none)
for _side in ("left", "right"):
    variant("torch", f"bitwise_{_side}_shift")(_integer_function("torch", f"bitwise_{_side}_shift", f"{_side}_shift"))
    variant("method", f"bitwise_{_side}_shift")(_integer_function("torch", f"bitwise_{_side}_shift",
                                                                  f"{_side}_shift"))
    variant("numpy", f"{_side}_shift")(_integer_function("numpy", f"{_side}_shift", f"{_side}_shift"))
    variant("numpy", f"bitwise_{_side}_shift")(_integer_function("numpy", f"bitwise_{_side}_shift", f"{_side}_shift"))


@variant("numpy", "bitwise_count")
def _bitwise_count(b, args, kwargs, position):
    """np.bitwise_count(x): the number of 1 bits of |x| of integers (uint8, NumPy 2), computed from the values;
    floats refused, no derivative (integers carry none)."""
    a = arguments("bitwise_count", args, kwargs, {"x": REQUIRED}, position)
    v = _integer_operand(b, a["x"], "bitwise_count", "numpy", position)
    v = np.asarray(v) if type(v) is int else v  # a Python int: NumPy's default integer
    try:
        result = np.asarray(np.bitwise_count(v))
    except TypeError as err:
        raise JacValueError(f"bitwise_count: {err} (NumPy refuses it too)", position) from None
    out = b.const(dtypes.held(b, result, "the result of bitwise_count", position), position)
    b.typed[out.id] = (result.dtype, "numpy")
    return out


variant("numpy", "bitwise_invert")(FUNCTIONS["invert"])  # NumPy 2's name of invert


@variant("numpy", "asarray_chkfinite")
def _asarray_chkfinite(b, args, kwargs, position):
    """np.asarray_chkfinite(a, dtype=None, order=None): np.asarray(a), refused where it holds inf or NaN (NumPy's
    ValueError), checked at every evaluation; the derivative is the identity's."""
    a = arguments("asarray_chkfinite", args, kwargs, {"x": REQUIRED, "dtype": None, "order": None}, position)
    x = FUNCTIONS["asarray"](b, [a["x"]], {"dtype": a["dtype"], "order": a["order"]}, position)
    if not isinstance(x, Tracer):
        return x
    return refused(b, x, "np.asarray_chkfinite: the array holds {lo}, and it must not contain infs or NaNs (NumPy "
                   "raises ValueError)", finite=(x, x), position=position)  # x - 0: -0 stays -0


def _broadcast_shapes(b, args, kwargs, position):
    """np.broadcast_shapes(*shapes) / torch.broadcast_shapes(*shapes): the shape arrays of these shapes broadcast
    to (an int is a 1-d shape), a constant vector of sizes as x.shape is."""
    if kwargs:
        raise JacValueError(f"broadcast_shapes() takes shapes only, not {', '.join(kwargs)}=", position)
    shapes = [static_ints(b, value, "broadcast_shapes: a shape", position) for value in args]
    if any(d < 0 for s in shapes for d in s):
        raise JacValueError(f"broadcast_shapes: sizes must not be negative, got {[list(s) for s in shapes]}",
                            position)
    try:
        out = np.broadcast_shapes(*shapes)
    except ValueError:
        raise JacShapeError(f"broadcast_shapes: the shapes {', '.join(fmt(s) for s in shapes)} do not broadcast",
                            position) from None
    return b.const(np.array([float(d) for d in out], dtype=b.dtype), position)


variant("numpy", "broadcast_shapes")(_broadcast_shapes)
variant("torch", "broadcast_shapes")(_broadcast_shapes)


@variant("numpy", "trim_zeros")
def _trim_zeros(b, args, kwargs, position):
    """np.trim_zeros(filt, trim='fb', axis=None): filt sliced to the box of its nonzero elements (NaN is nonzero)
    along the axes, from the front ('f'), the back ('b') or both; all zeros give an empty slice. The box is read off
    the values (for these values only, as x[mask]); the kept elements carry their derivative."""
    a = arguments("trim_zeros", args, kwargs, {"x": REQUIRED, "trim": "fb", "axis": None}, position)
    x = tensor(b, a["x"], "trim_zeros", position)
    trim = static(b, a["trim"], "trim", position)
    if not isinstance(trim, str) or trim.lower() not in ("fb", "bf", "f", "b"):
        raise JacValueError(f"trim_zeros: trim must be 'f', 'b' or 'fb', got {trim!r}", position)
    axes = axes_of(b, a["axis"], x, position, "trim_zeros")
    if not axes:
        return x
    v = _values_for(b, x, "trim_zeros", position)
    found = np.argwhere(v != 0)
    if found.size == 0:
        start, stop = [0] * x.ndim, [0] * x.ndim
    else:
        start, stop = found.min(axis=0).tolist(), (found.max(axis=0) + 1).tolist()
        start = start if "f" in trim.lower() else [None] * x.ndim
        stop = stop if "b" in trim.lower() else [None] * x.ndim
    index = tuple(slice(start[d], stop[d]) if d in axes else slice(None) for d in range(x.ndim))
    return _take(b, x, index, position)


# --- torch.special's orthogonal polynomials of a constant integer degree n ---
#
# PyTorch 2.13 (ATen/native/Math.h) computes them by their three-term recurrence, with trigonometric closed forms
# for a large degree inside (-1, 1) (cos(n acos y) for T) and constants at the ends; the constants are the
# polynomials' own values there, which the recurrence gives exactly (small integers). Lowered onto jac's ops,
# the same branches, so the derivative by x is the derivative of what is computed: exact, at the ends too (PyTorch
# has none). The degree is a constant: a degree carries no derivative, and one read off an input is refused.

MAX_DEGREE = 2000  # the recurrence is graph nodes, a few per degree
_ORTHOGONAL = {  # name: (start p1(y), the degree above which |y| < 1 takes the closed form, or None)
    "chebyshev_polynomial_t": ("t", 6), "chebyshev_polynomial_u": ("u", 8), "chebyshev_polynomial_v": ("v", 8),
    "chebyshev_polynomial_w": ("w", 8), "shifted_chebyshev_polynomial_t": ("t", 6),
    "shifted_chebyshev_polynomial_u": ("u", 6), "shifted_chebyshev_polynomial_v": ("v", 6),
    "shifted_chebyshev_polynomial_w": ("w", 4), "hermite_polynomial_h": ("h", None),
    "hermite_polynomial_he": ("he", None), "laguerre_polynomial_l": ("l", None),
    "legendre_polynomial_p": ("p", None),
}


def _degrees(b, value, fname, position) -> np.ndarray:
    """The constant integer degrees n (negative ones give 0, as PyTorch)."""
    if isinstance(value, Tracer) and b.nodes[value.id].op != "const":
        raise JacValueError(f"{fname}: the degree n must be a constant integer: a degree has no derivative (PyTorch's "
                            f"is not implemented), and jac reads none off an input{input_not_constant(b, value)}",
                            position)
    n = np.asarray(b.nodes[value.id].value if isinstance(value, Tracer) else static(b, value, "n", position))
    if n.dtype.kind not in "biuf" or not np.all(np.isfinite(n)) or not np.array_equal(n, np.round(n)):
        raise JacValueError(f"{fname}: the degree n must hold integers (PyTorch truncates {n.ravel()[:1]} "
                            "toward zero: write the integer)", position)
    if n.size and n.max() > MAX_DEGREE:
        raise JacValueError(f"{fname}: degree {int(n.max())} is above {MAX_DEGREE}, the most jac builds (the "
                            "recurrence is graph nodes)", position)
    return n.astype(np.int64)


def _recurrence(b, x: Tracer, kind: str, top: int, position) -> list:
    """[P_0(x), ..., P_top(x)] by PyTorch's recurrences, in its order of operations."""
    def ap(op, *args):
        return b.apply(op, *args, position=position)
    one = b.const(np.ones(tuple(x.shape), dtype=b.dtype), position)
    two_x = ap("add", x, x)
    first = {"t": x, "u": two_x, "v": ap("sub", two_x, 1.0), "w": ap("add", two_x, 1.0), "h": two_x, "he": x,
             "l": ap("sub", 1.0, x), "p": x}[kind]
    values = [one, first]
    for k in range(2, top + 1):
        p, q = values[-2], values[-1]
        if kind in "tuvw":
            r = ap("sub", ap("mul", two_x, q), p)
        elif kind == "h":  # k of the loop is 2 (k - 1)
            r = ap("sub", ap("mul", two_x, q), ap("mul", p, float(2 * (k - 1))))
        elif kind == "he":
            r = ap("sub", ap("mul", x, q), ap("mul", p, float(k - 1)))
        elif kind == "l":
            r = ap("div", ap("sub", ap("mul", ap("add", float(2 * (k - 1)), ap("sub", 1.0, x)), q),
                             ap("mul", p, float(k - 1))), float(k))
        else:
            r = ap("div", ap("sub", ap("mul", ap("mul", float(2 * k - 1), x), q), ap("mul", p, float(k - 1))),
                   float(k))
        values.append(r)
    return values[:top + 1]


def _closed_region(b, x: Tracer, kind: str, position) -> tuple:
    """Where PyTorch takes the closed form (|y| < 1, and for U, V, W its denominator's test: sin θ != 0,
    sin(θ/2) != 1, cos(θ/2) != 1), and y kept there. Where that test fails (one ulp from ±1) PyTorch returns
    the value at ±1 itself (19 for V_9 at -1 + 2**-53, where V_9 is 18.99999999999994): jac takes the recurrence
    there, within rounding of it, so that the derivative stays the polynomial's."""
    def ap(op, *args):
        return b.apply(op, *args, position=position)
    inside = boolean(b, ap("lt", ap("abs", x), 1.0))
    if kind == "t":
        return inside, ap("where", inside, x, 0.0)
    theta = ap("arccos", ap("where", inside, x, 0.0))
    test, bad = {"u": (ap("sin", theta), 0.0), "v": (ap("sin", ap("div", theta, 2.0)), 1.0),
                 "w": (ap("cos", ap("div", theta, 2.0)), 1.0)}[kind]
    closed = logical("and", b, [inside, boolean(b, ap("ne", test, bad))], position)
    return closed, ap("where", closed, x, 0.0)


def _closed_form(b, y: Tracer, kind: str, k: int, position) -> Tracer:
    """PyTorch's trigonometric form of degree k for |y| < 1 (y itself: the caller keeps it inside)."""
    def ap(op, *args):
        return b.apply(op, *args, position=position)
    theta = ap("arccos", y)
    if kind == "t":
        return ap("cos", ap("mul", float(k), theta))
    if kind == "u":
        return ap("div", ap("sin", ap("mul", float(k + 1), theta)), ap("sin", theta))
    half = ap("div", theta, 2.0)
    if kind == "v":
        return ap("div", ap("cos", ap("mul", k + 0.5, theta)), ap("cos", half))
    return ap("div", ap("sin", ap("mul", k + 0.5, theta)), ap("sin", half))


def _orthogonal(fname: str):
    kind, above = _ORTHOGONAL[fname]

    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "n": REQUIRED}, position)
        x = tensor(b, a["x"], fname, position)
        if dtypes.kind_of(b, x.id) is not None:
            raise JacValueError(f"{fname}: x holds integers, which PyTorch computes in its default float32: pass a "
                                "float (x.double())", position)
        n = _degrees(b, a["n"], fname, position)
        shape = broadcast(tuple(_concrete(x, fname, position)), n.shape)
        if fname.startswith("shifted"):
            x = b.apply("sub", b.apply("add", x, x, position=position), 1.0, position=position)
        if tuple(x.shape) != shape:
            x = b.apply("broadcast_to", x, shape=shape, position=position)
        limit = 128 if np.dtype(b.dtype) == np.float32 else 512  # PyTorch's Hermite degrees beyond: NaN
        degrees = sorted({int(k) for k in n.ravel()})
        top = max([k for k in degrees if kind not in ("h", "he") or k <= limit] + [1])
        values = _recurrence(b, x, kind, top, position)
        closed = None
        if above is not None and any(k > above for k in degrees):
            closed, y = _closed_region(b, x, kind, position)
        out = None
        for k in degrees:
            if k < 0:
                value = b.const(np.zeros(shape, dtype=b.dtype), position)
            elif kind in ("h", "he") and k > limit:
                value = b.const(np.full(shape, np.nan, dtype=b.dtype), position)
            elif above is not None and k > above:
                value = b.apply("where", closed, _closed_form(b, y, kind, k, position), values[k], position=position)
            else:
                value = values[k]
            if out is None or n.ndim == 0:
                out = value
            else:
                picked = boolean(b, b.const(np.broadcast_to(n == k, shape).astype(b.dtype), position))
                out = b.apply("where", picked, value, out, position=position)
        return out
    lower.__doc__ = (f"torch.special.{fname}(x, n): PyTorch's recurrence in x (its closed form for a large n where "
                     "it takes one), n a constant integer (below 0: 0); the derivative by x exact, by n refused")
    return lower


for _fname in _ORTHOGONAL:
    variant("torch", _fname)(_orthogonal(_fname))


def _choice_index(b, value, position):
    """np.choose's index: its values when known at build time (a constant of integers, or an input bound as one),
    else the node (a mask, or integers computed from the inputs); a float is refused, as NumPy refuses it."""
    a = tensor(b, value, "choose", position)
    node = b.nodes[a.id]
    if node.op == "const":
        kind = dtypes.kind_of(b, a.id)
        if kind is None and a.id not in b.pyints:
            raise JacValueError("choose: the index holds floats, which NumPy refuses (cannot cast float64 to int64 "
                                "according to the rule 'safe'): write integers", position)
        return a, np.asarray(node.value).astype(np.intp)
    found = data_index(b, a, position)
    if found is not None:
        if found.size and not (np.all(np.isfinite(found)) and np.array_equal(found, np.round(found))):
            raise JacValueError("choose: the index must hold integers", position)
        return a, found.astype(np.intp)
    if dtypes.kind_of(b, a.id) is None:
        raise JacValueError("choose: the index is a float computed from the inputs, which NumPy refuses (cannot "
                            "cast float64 to int64 according to the rule 'safe'): make it integers (.astype(int)) "
                            "or a comparison", position)
    return a, None


@variant("numpy", "choose")
def _np_choose(b, args, kwargs, position):
    """np.choose(a, choices, mode='raise'): choices[a[i]][i], a and the choices broadcast together; mode 'wrap'
    takes a modulo the number of choices, 'clip' clips it, 'raise' refuses an index out of range (one computed
    from the inputs only if it is a mask). The derivative goes to the choice picked."""
    a = arguments("choose", args, kwargs, {"a": REQUIRED, "choices": REQUIRED, "out": None,
                                           "mode": Static("raise")}, position)
    if a["out"] is not None:
        raise JacValueError("choose(): out= writes into an array, which jac does not do: use the result", position)
    mode = static(b, a["mode"], "mode", position)
    if mode not in ("raise", "wrap", "clip"):
        raise JacValueError(f"choose(): mode must be one of 'clip', 'raise', or 'wrap', got {mode!r}", position)
    index, known = _choice_index(b, a["a"], position)
    choices = a["choices"]
    if isinstance(choices, Items):
        choices = [tensor(b, c, "choose", position) for c in choices]
    else:
        whole = tensor(b, choices, "choose", position)
        if whole.ndim == 0:
            raise JacShapeError("choose: choices must be a sequence of arrays (or an array whose first axis lists "
                                "them), got a 0-d array", position)
        choices = [_take(b, whole, (k,), position) for k in range(_concrete(whole, "choose", position)[0])]
    n = len(choices)
    if not 1 <= n <= 64:
        raise JacValueError(f"choose: NumPy takes 1 to 64 choices, got {n}", position)
    try:
        shape = np.broadcast_shapes(*[tuple(_concrete(t, "choose", position)) for t in [index] + choices])
    except ValueError:
        raise JacShapeError(f"choose: the index {fmt(index.shape)} and the choices "
                            f"{', '.join(fmt(c.shape) for c in choices)} do not broadcast to one shape",
                            position) from None
    choices = [c if tuple(c.shape) == shape else b.apply("broadcast_to", c, shape=shape, position=position)
               for c in choices]
    if known is not None:
        return _choose_known(b, np.broadcast_to(known, shape), choices, n, mode, position)
    if mode == "raise" and not (is_boolean(b, index) and n >= 2):
        raise JacValueError("choose: the index is computed from the inputs, so jac cannot check it against the "
                            f"{n} choices as mode='raise' does: pass mode='clip' or mode='wrap', or index with a "
                            "comparison", position)
    if mode == "wrap":
        index = b.apply("remainder", index, n, position=position)
    out = choices[0]
    for k in range(1, n):
        test = "ge" if mode == "clip" and k == n - 1 else "eq"
        out = b.apply("where", boolean(b, b.apply(test, index, k, position=position)), choices[k], out,
                      position=position)
    return out


def _choose_known(b, index: np.ndarray, choices: list, n: int, mode: str, position) -> Tracer:
    """np.choose with the index's values known: one gather from the stacked choices."""
    if mode == "wrap":
        index = index % n
    elif mode == "clip":
        index = np.clip(index, 0, n - 1)
    elif index.size and (index.min() < 0 or index.max() >= n):
        bad = int(index[(index < 0) | (index >= n)].flat[0])
        raise JacValueError(f"choose: invalid entry {bad} in the choice array (there are {n} choices; NumPy raises "
                            "ValueError): mode='wrap' or mode='clip' makes it valid", position)
    stacked = FUNCTIONS["stack"](b, [Items(choices)], {}, position)
    grid = np.indices(index.shape, sparse=True) if index.ndim else ()
    return _take(b, stacked, (index,) + tuple(grid), position)


@variant("numpy", "delete")
def _np_delete(b, args, kwargs, position):
    """np.delete(x, obj, axis=None): x without the entries obj (constant indices, a slice or a mask) along axis
    (of x flattened without one), a gather"""
    a = arguments("delete", args, kwargs, {"x": REQUIRED, "obj": REQUIRED, "axis": None}, position)
    x = tensor(b, a["x"], "delete", position)
    if a["axis"] is None:
        x, axis = _reshape_to(b, x, (_numel(x, position),), position), 0
    else:
        _has_axes(x, "delete", position)
        axis = _axis(b, a["axis"], x.ndim, "delete", position, "axis")
    n = _concrete(x, "delete", position)[axis]
    obj = a["obj"]
    keep = np.ones(n, dtype=bool)
    if isinstance(obj, Tracer) and is_boolean(b, obj) and b.nodes[obj.id].op == "const":
        mask = np.asarray(b.nodes[obj.id].value) != 0
        if mask.shape != (n,):
            raise JacShapeError(f"delete: boolean array argument obj to delete must be one dimensional and match "
                                f"the axis length of {n} (NumPy)", position)
        keep &= ~mask
    else:
        if written_as_float(b, obj):  # np.delete(x, 1.0): NumPy's IndexError
            raise JacValueError(f"np.delete: obj must hold integers (or booleans), not the float "
                                f"{static(b, obj, 'obj', position)!r} (NumPy raises IndexError: arrays used as indices "
                                "must be of integer (or boolean) type)", position)
        keep[_index_array(b, obj if isinstance(obj, Tracer) else b.lift(obj), n, "obj", "delete", position)] = False
    return _take(b, x, (slice(None),) * axis + (np.flatnonzero(keep),), position)


def _conv_transpose(nd: int):
    fname = f"conv_transpose{nd}d"

    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "weight": REQUIRED, "bias": None, "stride": 1,
                                            "padding": 0, "output_padding": 0, "groups": 1, "dilation": 1}, position)
        x, w = tensor(b, a["x"], fname, position), tensor(b, a["weight"], fname, position)
        _spatial_input(x, nd, fname, position)
        if w.ndim != nd + 2:
            raise JacShapeError(f"{fname}: weight must be (in_channels, out_channels / groups, {nd} kernel sizes), "
                                f"{nd + 2} dimensions; got shape {fmt(w.shape)}", position)
        unbatched = x.ndim == nd + 1
        if unbatched:
            x = _reshape_to(b, x, (1,) + tuple(x.shape), position)
        groups = static_int(b, a["groups"], "groups", position)
        channels, kernel = x.shape[1], tuple(_concrete(w, fname, position)[2:])
        if groups < 1 or channels % groups or w.shape[0] != channels:
            raise JacValueError(f"{fname}(): the weight's first dimension must be the input's {channels} channels and "
                                f"groups={groups} must divide them (input {fmt(x.shape)}, weight {fmt(w.shape)})",
                                position)
        stride = _per_axis(b, a["stride"], nd, "stride", fname, position, 1)
        dilation = _per_axis(b, a["dilation"], nd, "dilation", fname, position, 1)
        padding = _per_axis(b, a["padding"], nd, "padding", fname, position, 0)
        extra = _per_axis(b, a["output_padding"], nd, "output_padding", fname, position, 0)
        if any(e >= s and e >= d for e, s, d in zip(extra, stride, dilation)):
            raise JacValueError(f"{fname}(): output padding must be smaller than either stride or dilation (PyTorch), "
                                f"got output_padding={list(extra)}", position)
        lengths = tuple(_concrete(x, fname, position)[2:])
        full = [(n - 1) * s + d * (k - 1) + 1 + e for n, s, d, k, e in zip(lengths, stride, dilation, kernel, extra)]
        out = [f - 2 * p for f, p in zip(full, padding)]
        if any(o <= 0 for o in out):
            raise JacShapeError(f"{fname}: the output would have size {out} (PyTorch refuses a size below 1)", position)
        g, per, fper = groups, channels // groups, w.shape[1]
        xs = _reshape_to(b, x, (x.shape[0], g, per) + lengths, position)
        ws = _reshape_to(b, w, (g, per, fper) + kernel, position)
        ins, ker = "ipt"[:nd], "jqu"[:nd]
        pairs = "".join(i + k for i, k in zip(ins, ker))
        prod = einsum_of(b, f"ngc{ins},gcf{ker}->ngf{pairs}", [xs, ws], position)  # every (input, kernel) product
        index = []
        for axis, (n, k, s, d) in enumerate(zip(lengths, kernel, stride, dilation)):
            at = np.arange(n)[:, None] * s + np.arange(k)[None, :] * d
            index.append(at.reshape(at.shape + (1, 1) * (nd - 1 - axis)) if axis < nd - 1 else at)
        lead = (x.shape[0], g, fper)
        summed = _place(b, prod, (slice(None),) * 3 + tuple(index), lead + tuple(full), position)
        summed = b.apply("add", summed, 0.0, position=position)  # the sums start from +0, as PyTorch's col2im
        y = _take(b, summed, (slice(None),) * 3 + tuple(slice(p, p + o) for p, o in zip(padding, out)), position)
        y = _reshape_to(b, y, (x.shape[0], g * fper) + tuple(out), position)
        if a["bias"] is not None:
            y = b.apply("add", y, _per_channel(b, tensor(b, a["bias"], fname, position), "bias", y, fname, position),
                        position=position)
        return _reshape_to(b, y, tuple(y.shape[1:]), position) if unbatched else y
    lower.__doc__ = (f"F.{fname}(input (N, C, …), weight (C, out / groups, …), bias=None, stride=1, padding=0, "
                     "output_padding=0, groups=1, dilation=1): the transpose of conv, each product added into its "
                     "place (a scatter-add), then cropped; values within rounding of PyTorch's (its GEMM sums in "
                     "another order)")
    return lower


variant("torch", "conv_transpose1d")(_conv_transpose(1))
variant("torch", "conv_transpose2d")(_conv_transpose(2))
variant("torch", "conv_transpose3d")(_conv_transpose(3))


def _lp_pool(nd: int):
    fname = f"lp_pool{nd}d"

    def lower(b, args, kwargs, position):
        """F.lp_pool1d / 2d / 3d(x, norm_type, kernel_size, stride=None, ceil_mode=False): PyTorch's composition,
        (sign(s) · relu(|s|) · kernel volume)^(1/p) of s = avg_pool(x^p); p = ±inf is max_pool of |x| (of -|x|)"""
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "norm_type": REQUIRED, "kernel_size": REQUIRED,
                                            "stride": None, "ceil_mode": False}, position)
        x = tensor(b, a["x"], fname, position)
        p = static(b, a["norm_type"], "norm_type", position)
        if not isinstance(p, (int, float)) or isinstance(p, bool) or p == 0 or p != p:
            raise JacValueError(f"{fname}(): norm_type must be a nonzero number, got {p!r}", position)
        pool_kw = {"stride": a["stride"], "ceil_mode": a["ceil_mode"]}
        absx = b.apply("abs", x, position=position)
        if math.isinf(p):
            pooled = FUNCTIONS[f"max_pool{nd}d"](b, [absx if p > 0 else b.apply("neg", absx, position=position),
                                                     a["kernel_size"]], {**pool_kw, "padding": 0}, position)
            return pooled if p > 0 else b.apply("neg", pooled, position=position)
        s = FUNCTIONS[f"avg_pool{nd}d"](b, [b.apply("pow", x, float(p), position=position), a["kernel_size"]],
                                        {**pool_kw, "padding": 0}, position)
        volume = float(np.prod(_per_axis(b, a["kernel_size"], nd, "kernel_size", fname, position, 1)))
        signed = b.apply("mul", b.apply("sign", s, position=position),
                         b.apply("relu", b.apply("abs", s, position=position), position=position), position=position)
        return b.apply("pow", b.apply("mul", signed, volume, position=position), 1.0 / p, position=position)
    return lower


variant("torch", "lp_pool1d")(_lp_pool(1))
variant("torch", "lp_pool2d")(_lp_pool(2))
variant("torch", "lp_pool3d")(_lp_pool(3))


def _upsample_alias(fname: str, mode: str, corners):
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "size": None, "scale_factor": None}, position)
        extra = {} if corners is None else {"align_corners": corners}
        return FUNCTIONS["interpolate"](b, [a["x"]], {"size": a["size"], "scale_factor": a["scale_factor"],
                                                      "mode": Static(mode), **extra}, position)
    lower.__doc__ = (f"F.{fname}(x, size=None, scale_factor=None): F.interpolate(mode='{mode}'"
                     f"{'' if corners is None else ', align_corners=True'}), as PyTorch's deprecated alias")
    return lower


variant("torch", "upsample_nearest")(_upsample_alias("upsample_nearest", "nearest", None))
variant("torch", "upsample_bilinear")(_upsample_alias("upsample_bilinear", "bilinear", True))


@variant("torch", "addbmm")
def _addbmm(b, args, kwargs, position):
    """torch.addbmm(input, batch1, batch2, beta=1, alpha=1): beta · input + alpha · Σ_i batch1[i] @ batch2[i]"""
    a = arguments("addbmm", args, kwargs, {"x": REQUIRED, "batch1": REQUIRED, "batch2": REQUIRED, "beta": 1,
                                           "alpha": 1}, position)
    x = tensor(b, a["x"], "addbmm", position)
    products = FUNCTIONS["bmm"](b, [a["batch1"], a["batch2"]], {}, position)
    total = b.apply("sum", products, axes=(0,), position=position)
    beta, alpha = (static(b, a[k], k, position) for k in ("beta", "alpha"))
    if alpha != 1:
        total = b.apply("mul", total, float(alpha), position=position)
    if beta == 0:  # PyTorch: input is ignored (its NaN and inf too), its shape still broadcast
        shape = np.broadcast_shapes(tuple(x.shape), tuple(total.shape))
        return total if shape == tuple(total.shape) else b.apply("broadcast_to", total, shape=shape, position=position)
    scaled = x if beta == 1 else b.apply("mul", x, float(beta), position=position)
    return b.apply("add", scaled, total, position=position)


@variant("numpy", "histogram_bin_edges")
def _np_histogram_bin_edges(b, args, kwargs, position):
    """np.histogram_bin_edges(a, bins=10, range=None, weights=None): np.histogram's edges, computed as NumPy does"""
    a = arguments("histogram_bin_edges", args, kwargs, {"x": REQUIRED, "bins": 10, "range": None, "weights": None},
                  position)
    return FUNCTIONS["histogram"](b, [a["x"]], {"bins": a["bins"], "range": a["range"]}, position)[1]


def _cell_gates(b, a, fname, position) -> tuple:
    """x @ w_ihᵀ + b_ih and h @ w_hhᵀ + b_hh of an RNN cell (2-d input and state, as torch's cells take)."""
    def affine(v, w, bias):
        w = tensor(b, w, fname, position)
        _need_ndim(fname, w, (2,), position, "weight")
        out = b.apply("matmul", v, _permute(b, w, (1, 0), position), position=position)
        return out if bias is None else b.apply("add", out, tensor(b, bias, fname, position), position=position)
    x = tensor(b, a["x"], fname, position)
    h = tensor(b, a["hx"][0] if isinstance(a["hx"], Items) else a["hx"], fname, position)
    _need_ndim(fname, x, (2,), position, "input (batch, features), as torch's")
    _need_ndim(fname, h, (2,), position, "state (batch, hidden), as torch's")
    return affine(x, a["w_ih"], a["b_ih"]), affine(h, a["w_hh"], a["b_hh"])


def _rnn_cell(kind: str):
    fname = f"{kind}_cell"

    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "hx": REQUIRED, "w_ih": REQUIRED, "w_hh": REQUIRED,
                                            "b_ih": None, "b_hh": None}, position)
        gi, gh = _cell_gates(b, a, fname, position)
        if kind in ("rnn_tanh", "rnn_relu"):
            return b.apply("tanh" if kind == "rnn_tanh" else "relu", b.apply("add", gi, gh, position=position),
                           position=position)
        n = gi.shape[-1] // (4 if kind == "lstm" else 3)
        part = lambda t, i: _take(b, t, (Ellipsis, slice(i * n, (i + 1) * n)), position)  # noqa: E731
        if kind == "lstm":
            if not (isinstance(a["hx"], Items) and len(a["hx"]) == 2):
                raise JacValueError("lstm_cell: hx must be the pair (h, c), as PyTorch", position)
            c = tensor(b, a["hx"][1], fname, position)
            gates = b.apply("add", gi, gh, position=position)
            i, f, o = (b.apply("sigmoid", part(gates, k), position=position) for k in (0, 1, 3))
            g = b.apply("tanh", part(gates, 2), position=position)
            c2 = b.apply("add", b.apply("mul", f, c, position=position), b.apply("mul", i, g, position=position),
                         position=position)
            h2 = b.apply("mul", o, b.apply("tanh", c2, position=position), position=position)
            return Items([h2, c2])
        h = tensor(b, a["hx"], fname, position)
        r, z = (b.apply("sigmoid", b.apply("add", part(gi, k), part(gh, k), position=position), position=position)
                for k in (0, 1))
        new = b.apply("tanh", b.apply("add", part(gi, 2), b.apply("mul", r, part(gh, 2), position=position),
                                      position=position), position=position)
        return b.apply("add", new, b.apply("mul", z, b.apply("sub", h, new, position=position), position=position),
                       position=position)  # n + z (h - n), PyTorch's form of (1 - z) n + z h
    lower.__doc__ = {
        "rnn_tanh": "torch.rnn_tanh_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None): tanh(x w_ihᵀ + b_ih + h w_hhᵀ + b_hh)",
        "rnn_relu": "torch.rnn_relu_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None): relu(x w_ihᵀ + b_ih + h w_hhᵀ + b_hh)",
        "lstm": "torch.lstm_cell(x, (h, c), w_ih, w_hh, b_ih=None, b_hh=None): (h', c') of PyTorch's gates i, f, g, o",
        "gru": "torch.gru_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None): h' = n + z (h - n) of PyTorch's gates r, z, n",
    }[kind]
    return lower


for _kind in ("rnn_tanh", "rnn_relu", "lstm", "gru"):
    variant("torch", f"{_kind}_cell")(_rnn_cell(_kind))


@variant("numpy", "rollaxis")
def _np_rollaxis(b, args, kwargs, position):
    """np.rollaxis(x, axis, start=0): axis moved to before start (NumPy's older moveaxis), a transpose"""
    a = arguments("rollaxis", args, kwargs, {"x": REQUIRED, "axis": REQUIRED, "start": 0}, position)
    x = tensor(b, a["x"], "rollaxis", position)
    axis = _axis(b, a["axis"], x.ndim, "rollaxis", position, "axis")
    start = static_int(b, a["start"], "start", position)
    if not -x.ndim <= start <= x.ndim:
        raise JacShapeError(f"rollaxis: start {start} is out of bounds for an array of {x.ndim} dimensions (NumPy)",
                            position)
    if start < 0:  # NumPy: start += ndim (so -1 is before the last axis, not after it)
        start += x.ndim
    if axis < start:
        start -= 1
    if axis == start:
        return x
    order = [i for i in range(x.ndim) if i != axis]
    order.insert(start, axis)
    return _permute(b, x, order, position)


@variant("numpy", "compress")
def _np_compress(b, args, kwargs, position):
    """np.compress(condition, x, axis=None): the slices of x (flattened without axis) where the constant condition
    holds (a shorter condition selects among the first), a gather"""
    a = arguments("compress", args, kwargs, {"condition": REQUIRED, "x": REQUIRED, "axis": None}, position)
    cond = a["condition"]
    node = b.nodes[cond.id] if isinstance(cond, Tracer) else None
    if node is None or node.op != "const":
        raise JacValueError(f"compress: the condition must be a constant{input_not_constant(b, cond)} (use x[mask] "
                            "for a mask of the inputs)", position)
    keep = np.flatnonzero(np.ravel(np.asarray(node.value)) != 0)
    x = tensor(b, a["x"], "compress", position)
    if a["axis"] is None:
        x, axis = _reshape_to(b, x, (_numel(x, position),), position), 0
    else:
        axis = _axis(b, a["axis"], x.ndim, "compress", position, "axis")
    n = _concrete(x, "compress", position)[axis]
    if keep.size and keep[-1] >= n:
        raise JacShapeError(f"compress: the condition selects index {int(keep[-1])}, out of bounds for an axis of "
                            f"length {n} (NumPy)", position)
    return _take(b, x, (slice(None),) * axis + (keep,), position)


@variant("numpy", "matvec")
def _np_matvec(b, args, kwargs, position):
    """np.matvec(A, v) (NumPy 2.2): the matrix-vector product over the last axes, A @ v[..., None] without the axis"""
    a = arguments("matvec", args, kwargs, {"x1": REQUIRED, "x2": REQUIRED}, position)
    m, v = tensor(b, a["x1"], "matvec", position), tensor(b, a["x2"], "matvec", position)
    if m.ndim < 2 or v.ndim < 1:
        raise JacShapeError(f"matvec: needs a matrix and a vector (NumPy), got shapes {fmt(m.shape)} and "
                            f"{fmt(v.shape)}", position)
    col = _reshape_to(b, v, tuple(v.shape) + (1,), position)
    out = b.apply("matmul", m, col, position=position)
    return _reshape_to(b, out, tuple(out.shape[:-1]), position)


@variant("numpy", "vecmat")
def _np_vecmat(b, args, kwargs, position):
    """np.vecmat(v, A) (NumPy 2.2): the vector-matrix product over the last axes, v[..., None, :] @ A without the
    axis (v's conjugate, which is v for real numbers)"""
    a = arguments("vecmat", args, kwargs, {"x1": REQUIRED, "x2": REQUIRED}, position)
    v, m = tensor(b, a["x1"], "vecmat", position), tensor(b, a["x2"], "vecmat", position)
    if m.ndim < 2 or v.ndim < 1:
        raise JacShapeError(f"vecmat: needs a vector and a matrix (NumPy), got shapes {fmt(v.shape)} and "
                            f"{fmt(m.shape)}", position)
    row = _reshape_to(b, v, tuple(v.shape[:-1]) + (1, v.shape[-1]), position)
    out = b.apply("matmul", row, m, position=position)
    return _reshape_to(b, out, tuple(out.shape[:-2]) + (out.shape[-1],), position)


variant("numpy", "astype")(lambda b, args, kwargs, position: LIBRARY_FUNCTIONS[("method", "astype")](
    b, args, kwargs, position))
for _name in ("split_with_sizes", "unsafe_split", "unsafe_split_with_sizes"):  # torch.split's other names
    variant("torch", _name)(variant("method", _name)(LIBRARY_FUNCTIONS[("torch", "split")]))
variant("torch", "unsafe_chunk")(variant("method", "unsafe_chunk")(FUNCTIONS["chunk"]))
# Tensor methods NumPy's arrays lack, PyTorch's functions of the array (x.addbmm(B, C) is torch.addbmm(x, B, C))
for _name in ("addbmm", "argwhere", "narrow_copy"):
    variant("method", _name)(LIBRARY_FUNCTIONS[("torch", _name)])


def _outer_of_vectors(spelling: str, library: str):
    """``spelling``'s outer product of two vectors (torch.outer, np.linalg.outer): the library refuses any other
    array, which np.outer would flatten."""
    def lower(b, args, kwargs, position):
        if library == "PyTorch":
            kwargs = {("y" if k == "vec2" else k): v for k, v in kwargs.items()}
        a = arguments("outer", args, kwargs, {"x": REQUIRED, "y": REQUIRED}, position)
        x, y = tensor(b, a["x"], "outer", position), tensor(b, a["y"], "outer", position)
        if x.ndim != 1 or y.ndim != 1:
            raise JacShapeError(f"{spelling}: expected 1-d arguments, got shapes {fmt(x.shape)} and {fmt(y.shape)}: "
                                f"the arrays must be vectors (np.outer flattens them; {library} refuses)", position)
        return _outer(b, [x, y], {}, position)
    lower.__doc__ = _outer_of_vectors.__doc__.replace("``spelling``'s", spelling + ":")
    return lower


variant("torch", "outer", "ger")(_outer_of_vectors("torch.outer", "PyTorch"))
variant("method", "outer", "ger")(_outer_of_vectors("torch.outer", "PyTorch"))  # NumPy's arrays have no .outer()
variant("np.linalg", "outer")(_outer_of_vectors("np.linalg.outer", "NumPy"))


# --- PyTorch's top-level twins of torch.nn.functional: ATen's functions, read as ATen reads them ---
# torch.batch_norm, torch.embedding, torch.kl_div... are not F's functions under another name: their arguments
# come in ATen's order (torch.embedding(weight, indices)), a loss's reduction is an int code and omitted gives
# every element's loss (torch.kl_div(x, y) is F.kl_div(x, y, reduction='none')), and some return tuples
# (torch.adaptive_max_pool1d: values and indices). lang/parser.py's lookup reads ``torch.NAME`` (only that
# spelling: F.NAME is F's) from the "torch.aten" readings first.

def _aten_norm(fname: str, flag: str):
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "weight": REQUIRED, "bias": REQUIRED,
                                            "running_mean": REQUIRED, "running_var": REQUIRED, flag: REQUIRED,
                                            "momentum": REQUIRED, "eps": REQUIRED, "cudnn_enabled": REQUIRED},
                      position)
        return FUNCTIONS[fname](b, [a["x"]], {k: a[k] for k in ("running_mean", "running_var", "weight", "bias", flag,
                                                                   "momentum", "eps")}, position)
    lower.__doc__ = (f"torch.{fname}(input, weight, bias, running_mean, running_var, {flag}, momentum, eps, "
                     f"cudnn_enabled): ATen's order of F.{fname}'s arguments, every one required")
    return lower


variant("torch.aten", "batch_norm")(_aten_norm("batch_norm", "training"))
variant("torch.aten", "instance_norm")(_aten_norm("instance_norm", "use_input_stats"))


@variant("torch.aten", "embedding")
def _aten_embedding(b, args, kwargs, position):
    """torch.embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False): F.embedding with
    the table first, as ATen; its padding_idx -1 is no padding row (F's -1 is the last row)."""
    a = arguments("embedding", args, kwargs, {"weight": REQUIRED, "indices": REQUIRED, "padding_idx": -1,
                                              "scale_grad_by_freq": False, "sparse": False}, position)
    pad = static_int(b, a["padding_idx"], "padding_idx", position)
    if pad < -1:
        raise JacValueError(f"torch.embedding: padding_idx={pad}; ATen's is a row (>= 0) or -1 for none", position)
    return FUNCTIONS["embedding"](b, [a["indices"], a["weight"]], {"padding_idx": None if pad == -1 else pad,
                                                                   "scale_grad_by_freq": a["scale_grad_by_freq"],
                                                                   "sparse": a["sparse"]}, position)


def _aten_refused(fname: str, why: str, hint: str = ""):
    def lower(b, args, kwargs, position):
        raise JacValueError(f"torch.{fname} is ATen's {fname}, not F.{fname}: {why}; write F.{fname}(...){hint}",
                            position)
    lower.__doc__ = f"torch.{fname}: refused ({why}); F.{fname} is read"
    return lower


# the losses (torch.kl_div, ...: an int reduction, every element's loss without one) are lang/names41.py's
# torch.adaptive_max_pool1d (ATen's pair (values, indices)) is lang/names52.py's
variant("torch.aten", "embedding_bag")(_aten_refused("embedding_bag", "it takes the table first and returns four "
                                                                      "arrays"))


@variant("torch.linalg", "vander")
def _linalg_vander(b, args, kwargs, position):
    """torch.linalg.vander(x, *, N=x.size(-1)): the powers x⁰, x¹, …, x^(N-1) along a new last axis, increasing
    (np.vander and torch.vander decrease by default), of each vector of a batch (*, n) -> (*, n, N)."""
    if len(args) > 1:
        raise JacValueError("torch.linalg.vander takes one positional argument, x; N is a keyword (N=4)", position)
    a = arguments("vander", args, kwargs, {"x": REQUIRED, "N": None}, position)
    x = tensor(b, a["x"], "vander", position)
    shape = _concrete(x, "vander", position)
    count = (shape[-1] if shape else 0) if a["N"] is None else static_int(b, a["N"], "N", position)
    if x.ndim == 0 or count <= 1:
        raise JacValueError(f"torch.linalg.vander: N must be greater than 1 (PyTorch), got {count} for shape "
                            f"{fmt(shape)}", position)
    _checked(b, tuple(shape) + (count,), "vander", position)
    return _stack(b, [Items(_powers(b, x, count, position))], {"axis": -1}, position)


@variant("np.linalg", "trace")
def _np_linalg_trace(b, args, kwargs, position):
    """np.linalg.trace(x, *, offset=0, dtype=None): the trace of each matrix of a stack, over the LAST two axes
    (NumPy 2's array-API function; np.trace takes the first two); dtype= as np.sum's."""
    if len(args) > 1:
        raise JacValueError("np.linalg.trace takes one positional argument, x; offset is a keyword", position)
    a = arguments("trace", args, kwargs, {"x": REQUIRED, "offset": 0, "dtype": None}, position)
    x = tensor(b, a["x"], "trace", position)
    if x.ndim < 2:
        raise JacShapeError(f"np.linalg.trace needs a stack of matrices, at least 2 dimensions; got shape "
                            f"{fmt(x.shape)}", position)
    offset = a["offset"]

    def trace(b, args, kwargs, position):
        return _np_trace(b, args, {"offset": offset, "axis1": -2, "axis2": -1}, position)
    return dtype_first(b, "sum", trace, [x], {"dtype": a["dtype"]}, position)  # dtype= as np.sum's


def _numpy_ravels_a_scalar(lower):
    """NumPy's reading of a 0-d array where it ravels it first: np.cumsum(2.0) and np.argsort(2.0) are of shape (1,),
    as np.ascontiguousarray(2.0) is (PyTorch's cumsum and argsort of a 0-d tensor are 0-d); np.sort(2.0) raises
    AxisError but with axis=None (refuse_numpy_0d_axis)."""
    def lowered(b, args, kwargs, position):
        first = args[0] if args else kwargs.get("a", kwargs.get("x"))
        if isinstance(first, Tracer) and first.ndim == 0:
            _refuse_0d_axis_given(b, args, kwargs, -1, position)  # np.sort(s): AxisError (its default axis is -1)
            one = _reshape_to(b, first, (1,), position)
            if args:
                args = [one, *args[1:]]
            else:
                kwargs = {k: one if v is first else v for k, v in kwargs.items()}
        return lower(b, args, kwargs, position)
    lowered.__doc__ = lower.__doc__
    return lowered


for _name in ("cumsum", "cumprod", "nancumsum", "nancumprod", "argsort", "sort", "ascontiguousarray", "asfortranarray"):
    _found = LIBRARY_FUNCTIONS.get(("numpy", _name))
    if _found is not None:
        LIBRARY_FUNCTIONS[("numpy", _name)] = _numpy_ravels_a_scalar(_found)
    else:
        variant("numpy", _name)(_numpy_ravels_a_scalar(FUNCTIONS[_name]))


@variant("method", "sum_to_size")
def _sum_to_size(b, args, kwargs, position):
    """x.sum_to_size(*size): x summed down to ``size``, which must broadcast to x's shape (a gradient's
    reduction to its input's shape, as PyTorch's): the leading axes x has more of and the axes of size 1 in
    ``size`` are summed, the latter kept."""
    if kwargs.keys() - {"size"}:
        raise JacValueError(f".sum_to_size() got an unexpected keyword argument '{sorted(kwargs.keys() - {'size'})[0]}'",
                            position)
    x = tensor(b, args[0] if args else None, "sum_to_size", position)
    sizes = args[1:] if "size" not in kwargs else [kwargs["size"]]
    if not sizes or ("size" in kwargs and len(args) > 1):
        raise JacValueError(".sum_to_size() takes one size: x.sum_to_size(2, 1) or x.sum_to_size((2, 1))", position)
    size = static_ints(b, sizes[0], "size", position) if len(sizes) == 1 else \
        tuple(static_int(b, v, "size", position) for v in sizes)
    shape = _concrete(x, "sum_to_size", position)
    lead = len(shape) - len(size)
    if lead < 0 or any(n != m and n != 1 for n, m in zip(size, shape[lead:])):
        raise JacShapeError(f".sum_to_size(): size {fmt(size)} is not expandable to the shape {fmt(shape)}", position)
    axes = tuple(range(lead)) + tuple(lead + i for i, (n, m) in enumerate(zip(size, shape[lead:])) if n == 1 != m)
    if not axes:
        return x
    y = b.apply("sum", x, axes=axes, keepdims=True, position=position)
    return _reshape_to(b, y, size, position)


@variant("torch", "frobenius_norm")
def _frobenius_norm(b, args, kwargs, position):
    """torch.frobenius_norm(x, dim=(all), keepdim=False): the square root of the sum of squares over dim
    (PyTorch's deprecated spelling of linalg.vector_norm(x, 2, dim))"""
    a = arguments("frobenius_norm", args, kwargs, {"x": REQUIRED, "axis": None, "keepdims": False}, position)
    x = tensor(b, a["x"], "frobenius_norm", position)
    return b.apply("norm", x, axes=axes_of(b, a["axis"], x, position, "frobenius_norm"),
                   keepdims=keepdims_of(b, a["keepdims"], position, kwargs=kwargs), position=position)


@variant("torch", "nuclear_norm")
def _nuclear_norm(b, args, kwargs, position):
    """torch.nuclear_norm(x, dim=(-2, -1), keepdim=False): the sum of singular values (linalg.matrix_norm 'nuc');
    PyTorch's other overload, torch.nuclear_norm(x, keepdim=False), takes a bool second"""
    if len(args) == 2 and isinstance(args[1], bool):  # torch.nuclear_norm(x, True): a bool literal is a Python bool
        args, kwargs = args[:1], {**kwargs, "keepdims": args[1]}
    a = arguments("nuclear_norm", args, kwargs, {"x": REQUIRED, "axis": Static((-2, -1)), "keepdims": False},
                  position)
    return FUNCTIONS["matrix_norm"](b, [a["x"]], {"ord": Static("nuc"), "axis": a["axis"], "keepdims": a["keepdims"]},
                                   position)


@variant("torch", "constant_pad_nd")
def _constant_pad_nd(b, args, kwargs, position):
    """torch.constant_pad_nd(x, pad, value=0): F.pad(x, pad, value=value) (pad's pairs from the last axis back)"""
    a = arguments("constant_pad_nd", args, kwargs, {"x": REQUIRED, "pad": REQUIRED, "value": 0.0}, position)
    return LIBRARY_FUNCTIONS[("torch", "pad")](b, [a["x"], a["pad"]], {"value": a["value"]}, position)


@variant("torch", "fill")
def _torch_fill(b, args, kwargs, position):
    """torch.fill(x, value): x's shape filled with value (the derivative goes to a tensor value, none to x)"""
    a = arguments("fill", args, kwargs, {"x": REQUIRED, "value": REQUIRED}, position)
    x = tensor(b, a["x"], "fill", position)
    value = b.lift(a["value"]) if isinstance(a["value"], (int, float)) else tensor(b, a["value"], "fill", position)
    if value.ndim:
        raise JacShapeError(f"fill: value must be a number or a 0-d tensor (PyTorch), got shape {fmt(value.shape)}",
                            position)
    shape = _concrete(x, "fill", position)
    return value if shape == () else b.apply("broadcast_to", value, shape=shape, position=position)


@variant("numpy", "array_equal")
def _np_array_equal(b, args, kwargs, position):
    """np.array_equal(a1, a2, equal_nan=False): True when the shapes match and every element is equal (NaN equal
    to NaN with equal_nan), a boolean with no derivative"""
    a = arguments("array_equal", args, kwargs, {"a1": REQUIRED, "a2": REQUIRED, "equal_nan": False}, position)
    p, q = tensor(b, a["a1"], "array_equal", position), tensor(b, a["a2"], "array_equal", position)
    if tuple(p.shape) != tuple(q.shape):
        return boolean(b, b.const(np.asarray(0.0), position))
    same = b.apply("eq", p, q, position=position)
    if static(b, a["equal_nan"], "equal_nan", position):
        both = b.apply("mul", b.apply("isnan", p, position=position), b.apply("isnan", q, position=position),
                       position=position)
        same = b.apply("maximum", same, both, position=position)
    return boolean(b, FUNCTIONS["all"](b, [boolean(b, same)], {}, position))


@variant("numpy", "array_equiv")
def _np_array_equiv(b, args, kwargs, position):
    """np.array_equiv(a1, a2): True when the two broadcast together and every element is equal (False when their
    shapes do not broadcast), a boolean with no derivative"""
    a = arguments("array_equiv", args, kwargs, {"a1": REQUIRED, "a2": REQUIRED}, position)
    p, q = tensor(b, a["a1"], "array_equiv", position), tensor(b, a["a2"], "array_equiv", position)
    try:
        broadcast(tuple(p.shape), tuple(q.shape))
    except JacError:
        return boolean(b, b.const(np.asarray(0.0), position))
    return boolean(b, FUNCTIONS["all"](b, [boolean(b, b.apply("eq", p, q, position=position))], {}, position))


@variant("numpy", "extract")
def _np_extract(b, args, kwargs, position):
    """np.extract(condition, arr): arr's elements (flattened) where condition is nonzero: a constant condition, or
    a mask of arr's shape (as arr[mask], the graph then holds for those values)"""
    a = arguments("extract", args, kwargs, {"condition": REQUIRED, "arr": REQUIRED}, position)
    x = tensor(b, a["arr"], "extract", position)
    cond = tensor(b, a["condition"], "extract", position)
    flat = _reshape_to(b, x, (_numel(x, position),), position)
    node = b.nodes[cond.id]
    if node.op == "const":
        keep = np.flatnonzero(np.ravel(np.asarray(node.value)) != 0)
        if keep.size and keep[-1] >= flat.shape[0]:
            raise JacShapeError(f"extract: the condition selects index {int(keep[-1])}, out of bounds for "
                                f"{flat.shape[0]} elements (NumPy)", position)
        return _take(b, flat, (keep,), position)
    if is_boolean(b, cond) and tuple(cond.shape) == tuple(x.shape):
        return FUNCTIONS["masked_select"](b, [x, cond], {}, position)
    raise JacValueError("extract: the condition must be a constant or a mask of arr's shape (x > 0); write "
                        "arr[mask]", position)


@variant("torch", "Size")
def _torch_size_constructor(b, args, kwargs, position):
    """torch.Size(sizes) of a list or tuple written out is read by the parser as that tuple; anything else here."""
    raise JacValueError("torch.Size() takes a list or tuple of integers, as torch.Size([2, 3]) or "
                        "torch.Size(x.shape)", position)


def _with_alpha(name: str, legacy: bool = True):
    """torch.add(x, y, alpha=a) / torch.sub(x, y, alpha=a) and the methods (x.add_(y, alpha=a) too): x ± a·y."""
    def lower(b, args, kwargs, position):
        # PyTorch's deprecated add(Tensor self, Number alpha, Tensor other); subtract has only (self, Scalar other,
        # Scalar alpha), which of two numbers is the same value
        if len(args) == 3 and not kwargs and (legacy or all(_written_number(b, v) is not None for v in args[1:])):
            return _legacy_alpha(b, name, args, position)
        if "alpha" not in kwargs:
            return FUNCTIONS[name](b, args, kwargs, position)
        kwargs = dict(kwargs)
        alpha = kwargs.pop("alpha")
        static(b, alpha, "alpha", position)  # a number, never an expression of the inputs (PyTorch: a Scalar)
        a = arguments(name, args, kwargs, {"x": REQUIRED, "other": REQUIRED}, position)
        return FUNCTIONS[name](b, [a["x"], arithmetic(b, "mul", a["other"], alpha, position)], {}, position)
    lower.__doc__ = f"torch.{name}(x, y, alpha=1): x {'+' if name == 'add' else '-'} alpha · y"
    return lower


def _legacy_alpha(b, name: str, args, position):
    """torch.add(x, a, y) / x.add(a, y) (and sub): PyTorch 2's deprecated overload, the number a second, x ± a·y
    (a constant, as alpha=; PyTorch takes a 0-d tensor too, and refuses a bool alpha of a float result)."""
    x, alpha, other = args
    if name == "sub" and isinstance(other, bool):  # x.sub(2, True): PyTorch refuses a bool in a subtraction
        raise JacValueError("sub() of a bool: PyTorch's subtraction refuses a bool tensor (use ~ or logical_not)",
                            position)
    value = static(b, alpha, "alpha", position) if isinstance(alpha, Tracer) and not alpha.shape else alpha
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise JacParseError(f"{name}() with three arguments is PyTorch's deprecated {name}(x, alpha, other), and "
                            f"alpha must be a number here: write torch.{name}(x, other, alpha=a)", position)
    return FUNCTIONS[name](b, [x, arithmetic(b, "mul", other, alpha, position)], {}, position)


for _name in ("add", "sub"):
    variant("torch", _name)(_with_alpha(_name))
    variant("method", _name)(_with_alpha(_name))
variant("torch", "subtract")(variant("method", "subtract")(_with_alpha("sub", False)))  # sub's other name (no legacy)
