"""Names users paste from real PyTorch and NumPy code that jac refused by name (session 28), registered in
``functions``' table when ``lang`` is imported.

- Functions PyTorch removed (``torch.solve``, ``torch.lstsq``, ``torch.symeig``, ``torch.eig``,
  ``torch.matrix_rank``; PyTorch 2 raises "deprecated since version 1.9 and is now removed"): refused at the
  call's column, saying what to write instead.
- Questions about a value's type, answered when the graph is built as the libraries answer them for what jac
  holds (every value an input reaches is an array of ``--dtype``; a constant keeps its library's integer or
  boolean dtype, ``functions._dtype_of``): ``torch.is_floating_point``, ``is_signed``, ``is_tensor``,
  ``is_same_size``, ``is_nonzero`` (the one element's truth, as ``bool(x)``), ``torch.result_type``,
  ``promote_types``, ``can_cast`` and NumPy's ``isscalar``, ``iterable``, ``result_type``, ``promote_types``,
  ``can_cast``. A boolean answer is a boolean constant (an ``if`` test reads it); a dtype answer a ``DType``
  (a ``dtype=`` argument, or ``==`` with another dtype: :func:`same_dtype`). Where jac cannot tell what the
  library would see (a number written in the text beside a 0-d array of it), the question is refused.
"""

from __future__ import annotations

import numpy as np

from ..errors import JacNameError, JacValueError
from ..ir.custom import Rule
from ..ir.graph import Builder, Tracer
from ..ir.refusals import refused
from ..ir.shapes import fmt
from ..errors import JacShapeError
from .functions import DTYPES, FUNCTIONS, REQUIRED, DType, Items, Static, _axis, _concrete, _dtype_of, _eps, _flag, \
    _index_const, _no_derivative_through, _permute, _reshape_to, _take, _true_positions, _values_for, _vector_norm, \
    arguments, boolean, detached, \
    library_function, static, static_int, static_ints, tensor, variant
from .recurrent import Recurrent, _run_layer

# -- removed from PyTorch --------------------------------------------------------------------------------------

REMOVED = {  # name -> what to write instead (PyTorch 2.13: "deprecated since version 1.9 and is now removed")
    "solve": "it was solve(B, A), the right-hand side first, and returned a pair; write torch.linalg.solve(A, B)",
    "lstsq": "it was lstsq(B, A), the right-hand side first, and returned a pair; write "
             "torch.linalg.lstsq(A, B).solution",
    "matrix_rank": "write torch.linalg.matrix_rank(A) (its 'symmetric' is now 'hermitian')",
    "symeig": "it read the upper triangle by default; write L, V = torch.linalg.eigh(A, UPLO='U') (eigenvalues "
              "only: torch.linalg.eigvalsh(A, UPLO='U'); UPLO='L' for upper=False)",
    "eig": "its eigenvalues were complex pairs as real columns; write torch.linalg.eigh(A) for a symmetric A "
           "(torch.linalg.eig's results are complex, which jac does not have)",
}
METHODS_REMOVED = {  # x.NAME(): Tensor's methods PyTorch 2.13 removed, or never had (matrix_rank)
    "solve": "B.solve(A) solved A X = B; write torch.linalg.solve(A, B)",
    "lstsq": "B.lstsq(A) solved min |A X - B|; write torch.linalg.lstsq(A, B).solution",
    "symeig": REMOVED["symeig"].replace("torch.linalg.eigh(A", "torch.linalg.eigh(x").replace("eigvalsh(A",
                                                                                                 "eigvalsh(x"),
    "eig": REMOVED["eig"].replace("eigh(A) for a symmetric A", "eigh(x) for a symmetric x"),
}


def _removed(fname: str, why: str, method: bool):
    def lower(b, args, kwargs, position):
        written = f"x.{fname}()" if method else f"torch.{fname}"
        raise JacNameError(f"{written} was removed from PyTorch (deprecated since 1.9; PyTorch 2 raises): {why}",
                           position)
    lower.__doc__ = f"{'x.' + fname + '()' if method else 'torch.' + fname}: refused, removed from PyTorch " \
                    f"({why[why.index('write'):]})"
    return lower


for _name, _why in REMOVED.items():
    variant("torch.aten", _name)(_removed(_name, _why, False))
for _name, _why in METHODS_REMOVED.items():
    variant("method", _name)(_removed(_name, _why, True))
variant("method", "matrix_rank")(_removed("matrix_rank", "PyTorch's tensors have no such method; write "
                                                         "torch.linalg.matrix_rank(x)", True))


# -- what a value is -------------------------------------------------------------------------------------------

def _answer(b: Builder, truth: bool, position) -> Tracer:
    return boolean(b, b.const(1.0 if truth else 0.0, position))


def _tensor_only(b: Builder, value, fname: str, position) -> Tracer:
    """The argument of a PyTorch question that takes a tensor (it raises TypeError otherwise)."""
    if type(value) is not Tracer:
        kind = "list" if isinstance(value, Items) else type(value.value if isinstance(value, Static) else value
                                                             ).__name__
        raise JacValueError(f"torch.{fname}(): argument 'input' must be a Tensor, not {kind} (PyTorch raises)",
                            position)
    return value


def _kind(b: Builder, x: Tracer) -> str:
    return _dtype_of(b, x).value.kind


def _numpy_dtype(b: Builder, d: DType, position=None) -> np.dtype:
    """The NumPy dtype a ``DType`` names: torch.float and torch.int are float32 and int32, Python's and NumPy's
    float and int float64 and int64; bfloat16 is refused (NumPy has none)."""
    name = d.name
    if name == "bfloat16":
        raise JacValueError("bfloat16 has no NumPy dtype, and jac computes in float32 or float64", position)
    if d.library == "torch":
        name = {"float": "float32", "int": "int32", "half": "float16", "double": "float64", "long": "int64",
                "short": "int16", "cfloat": "complex64", "cdouble": "complex128"}.get(name, name)
    return np.dtype({"float": "float64", "int": "int64", "float_": "float64", "bool_": "bool", "intp": "int64",
                     "half": "float16", "double": "float64", "long": "int64", "short": "int16"}.get(name, name))


def _is_floating_point(b, args, kwargs, position):
    """torch.is_floating_point(x) / x.is_floating_point(): True for an array of a float dtype (every value an
    input reaches; a float constant), False for an integer or boolean constant (torch.arange(3), x > 0)."""
    x = _tensor_only(b, arguments("is_floating_point", args, kwargs, {"x": REQUIRED}, position)["x"],
                     "is_floating_point", position)
    return _answer(b, _kind(b, x) == "f", position)


def _is_signed(b, args, kwargs, position):
    """torch.is_signed(x) / x.is_signed(): False for uint8 and bool, True for the other dtypes."""
    x = _tensor_only(b, arguments("is_signed", args, kwargs, {"x": REQUIRED}, position)["x"], "is_signed", position)
    d = _dtype_of(b, x).value
    return _answer(b, d.kind not in "bu" and not d.name.startswith("uint"), position)


def _is_tensor(b, args, kwargs, position):
    """torch.is_tensor(obj): True for an expression of the inputs, False for a list, a string, a dtype, None or a
    bool; a constant is refused: jac holds a number written in the text (False in PyTorch) and a tensor made of
    one (True) alike."""
    obj = arguments("is_tensor", args, kwargs, {"obj": REQUIRED}, position)["obj"]
    if type(obj) is Tracer and b.nodes[obj.id].op == "const":
        raise JacValueError("torch.is_tensor of a constant: jac holds a number or list written in the text (False in "
                            "PyTorch) and a tensor made of one (True) alike; ask it of an input or an expression of "
                            "one", position)
    return _answer(b, type(obj) is Tracer, position)


def _is_same_size(b, args, kwargs, position):
    """torch.is_same_size(x, y) / x.is_same_size(y): the shapes are equal."""
    a = arguments("is_same_size", args, kwargs, {"x": REQUIRED, "y": REQUIRED}, position)
    x, y = (_tensor_only(b, a[k], "is_same_size", position) for k in ("x", "y"))
    return _answer(b, tuple(x.shape) == tuple(y.shape), position)


def _is_nonzero(b, args, kwargs, position):
    """torch.is_nonzero(x) / x.is_nonzero(): the truth of a one-element tensor, x != 0 (a boolean of the values:
    an ``if`` test refuses it where an input reaches it, as bool(x)); PyTorch raises for any other size."""
    x = _tensor_only(b, arguments("is_nonzero", args, kwargs, {"x": REQUIRED}, position)["x"], "is_nonzero",
                     position)
    size = int(np.prod(x.shape)) if all(isinstance(n, int) for n in x.shape) else None
    if size != 1:
        amount = "no values" if size == 0 else "more than one value"
        raise JacValueError(f"torch.is_nonzero: Boolean value of Tensor with {amount} is ambiguous (PyTorch raises; "
                            f"shape {fmt(x.shape)})", position)
    one = b.apply("reshape", x, shape=(), position=position) if x.ndim else x
    return boolean(b, b.apply("ne", one, 0.0, position=position))


for _name, _fn in (("is_floating_point", _is_floating_point), ("is_signed", _is_signed),
                   ("is_same_size", _is_same_size), ("is_nonzero", _is_nonzero)):
    variant("torch", _name)(variant("method", _name)(_fn))
variant("torch", "is_tensor")(_is_tensor)


# -- dtypes: promotion and casting -----------------------------------------------------------------------------

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def _dtype_argument(b: Builder, value, fname: str, position) -> DType:
    found = static(b, value, f"{fname}'s dtype", position) if isinstance(value, Static) else None
    if not isinstance(found, DType):
        raise JacValueError(f"{fname}() takes dtypes here (torch.float32, np.int64), got "
                            f"{'an array' if type(value) is Tracer else type(found or value).__name__}", position)
    if found.kind == "c":
        raise JacValueError(f"{fname}(): complex dtypes are not supported by jac", position)
    return found


def _named(d: np.dtype, library: str | None) -> Static:
    name = "bool" if d.kind == "b" else d.name
    return Static(DType(name, DTYPES.get(name, d.kind), library))


def _torch_promoted(first: np.dtype, second: np.dtype, position) -> np.dtype:
    """torch.promote_types: the higher category (bool < integer < float) wins whole (int64 and float16 give
    float16); within one, NumPy's promotion, which PyTorch's table agrees with for these dtypes."""
    if any(d.kind == "u" and d.itemsize > 1 for d in (first, second)):
        raise JacValueError("torch.promote_types of uint16, uint32 or uint64: PyTorch promotes them only in part; "
                            "jac does not read them", position)
    ranks = _CATEGORY[first.kind], _CATEGORY[second.kind]
    if ranks[0] != ranks[1]:
        return first if ranks[0] > ranks[1] else second
    return np.promote_types(first, second)


def _promote_types(library: str):
    fname = f"{'torch' if library == 'torch' else 'np'}.promote_types"

    def lower(b, args, kwargs, position):
        _jax_refused(b, "promote_types", position)
        a = arguments(fname, args, kwargs, {"type1": REQUIRED, "type2": REQUIRED}, position)
        first, second = (_numpy_dtype(b, _dtype_argument(b, a[k], fname, position), position)
                         for k in ("type1", "type2"))
        found = _torch_promoted(first, second, position) if library == "torch" else np.promote_types(first, second)
        return _named(found, library)
    lower.__doc__ = f"{fname}(type1, type2): the dtype both promote to, as {library} promotes"
    return lower


def _can_cast(library: str):
    fname = f"{'torch' if library == 'torch' else 'np'}.can_cast"

    def lower(b, args, kwargs, position):
        _jax_refused(b, "can_cast", position)
        params = {"from_": REQUIRED, "to": REQUIRED} if library == "torch" else \
            {"from_": REQUIRED, "to": REQUIRED, "casting": "safe"}
        a = arguments(fname, args, kwargs, params, position)
        if library == "numpy" and type(a["from_"]) is Tracer:
            raise JacValueError("np.can_cast(from_, to): from_ must be a dtype in NumPy 2 (np.can_cast(x.dtype, "
                                "np.float32))", position)
        source, target = (_numpy_dtype(b, _dtype_argument(b, a[k], fname, position), position)
                          for k in ("from_", "to"))
        if library == "torch":  # PyTorch: no cast down a category (float to integer, integer to bool)
            return _answer(b, _CATEGORY[source.kind] <= _CATEGORY[target.kind], position)
        casting = static(b, a["casting"], "casting", position)
        if casting not in ("no", "equiv", "safe", "same_kind", "unsafe"):
            raise JacValueError(f"np.can_cast: casting must be one of 'no', 'equiv', 'safe', 'same_kind', 'unsafe', "
                                f"got {casting!r}", position)
        return _answer(b, bool(np.can_cast(source, target, casting=casting)), position)
    lower.__doc__ = f"{fname}(from_, to): whether the cast is allowed, as {library} answers"
    return lower


def _operand_dtype(b: Builder, value, fname: str, position):
    """(NumPy dtype, weak) of an operand of result_type: a DType is strong; a Python int literal weak; an array
    its dtype (a float constant jac holds in --dtype, as every float)."""
    if isinstance(value, Static) and isinstance(value.value, DType):
        return _numpy_dtype(b, _dtype_argument(b, value, fname, position), position), False, 3
    if type(value) is bool:
        return np.dtype(bool), True, 1
    if type(value) is not Tracer:
        raise JacValueError(f"{fname}() takes arrays, numbers and dtypes here", position)
    if value.id in b.pyints and value.ndim == 0:
        return np.dtype("int64"), True, 1
    d = _dtype_of(b, value).value
    return _numpy_dtype(b, d, position), False, 3 if value.ndim else 2


def _result_type(library: str):
    fname = f"{'torch' if library == 'torch' else 'np'}.result_type"

    def lower(b, args, kwargs, position):
        _jax_refused(b, "result_type", position)
        if kwargs:
            raise JacValueError(f"{fname}() takes its operands by position", position)
        if library == "torch" and len(args) != 2:
            raise JacValueError(f"torch.result_type takes two arguments (tensor, other), got {len(args)}", position)
        if not args:
            raise JacValueError("np.result_type needs at least one array or dtype", position)
        operands = [_operand_dtype(b, v, fname, position) for v in args]
        if library == "torch":
            if isinstance(args[0], Static):
                raise JacValueError("torch.result_type(tensor, other): the first is a tensor, not a dtype", position)
            return _named(_torch_result(b, operands, position), library)
        return _named(_numpy_result(b, operands), library)
    lower.__doc__ = f"{fname}(*operands): the dtype an arithmetic op of them gives, as {library} promotes"
    return lower


def _numpy_result(b: Builder, operands: list) -> np.dtype:
    """NumPy 2 (NEP 50): a Python int beside arrays takes their dtype; alone, int64; a bool literal likewise."""
    strong = [d for d, weak, _ in operands if not weak]
    weak = [d for d, w, _ in operands if w]
    found = np.result_type(*strong) if strong else np.dtype(bool) if all(d.kind == "b" for d in weak) \
        else np.dtype("int64")
    if strong and any(d.kind == "i" for d in weak) and found.kind == "b":
        found = np.dtype("int64")
    return found


def _torch_result(b: Builder, operands: list, position) -> np.dtype:
    """PyTorch's result_type: dimensioned tensors first, then 0-d ones, then Python numbers; a lower group counts
    only where its category is higher (a 0-d float tensor beside an int32 vector gives its float dtype; a Python
    int gives int64 alone, else the others' dtype)."""
    found = None
    for priority in (3, 2, 1):
        group = [d for d, _, p in operands if p == priority]
        if not group:
            continue
        here = group[0]
        for d in group[1:]:
            here = _torch_promoted(here, d, position)
        if found is None or _CATEGORY[here.kind] > _CATEGORY[found.kind]:
            found = here if found is None or priority > 1 or here.kind == "b" else \
                np.dtype(b.dtype) if here.kind == "f" else np.dtype("int64")
    return found


def _jax_refused(b: Builder, fname: str, position) -> None:
    if (b.call or "").startswith(("jnp.", "jax.numpy.")):
        raise JacNameError(f"{b.call}: JAX's answer depends on jax_enable_x64 and its weak types, which jac does not "
                           f"follow; write np.{fname} for NumPy's", position)


for _library in ("torch", "numpy"):
    variant(_library, "promote_types")(_promote_types(_library))
    variant(_library, "can_cast")(_can_cast(_library))
    variant(_library, "result_type")(_result_type(_library))


@variant("numpy", "isscalar")
def _isscalar(b, args, kwargs, position):
    """np.isscalar(x): False for an array of one or more dimensions and for a list, True for a string or a bool;
    a 0-d value is refused: NumPy answers True for a number or NumPy scalar (np.sum(x), x[0]) and False for a 0-d
    array (np.array(1.0)), which jac holds alike."""
    _jax_refused(b, "isscalar", position)
    x = arguments("np.isscalar", args, kwargs, {"element": REQUIRED}, position)["element"]
    if type(x) is Tracer and x.ndim == 0:
        raise JacValueError("np.isscalar of a 0-d value: NumPy answers True for a number or NumPy scalar (np.sum(x), "
                            "x[0]) and False for a 0-d array (np.array(1.0)), which jac holds alike; write "
                            "np.ndim(x) == 0", position)
    scalar = isinstance(x, Static) and isinstance(x.value, str) or type(x) is bool
    return _answer(b, scalar, position)


@variant("numpy", "iterable")
def _iterable(b, args, kwargs, position):
    """np.iterable(y): True for an array of one or more dimensions, a list or a string; False for a 0-d array or a
    number (iter() raises for both); a dict is refused before (the parser's)."""
    _jax_refused(b, "iterable", position)
    y = arguments("np.iterable", args, kwargs, {"y": REQUIRED}, position)["y"]
    found = isinstance(y, Items) or type(y) is Tracer and y.ndim > 0 or isinstance(y, Static) and \
        isinstance(y.value, str)
    return _answer(b, found, position)


def same_dtype(b: Builder, equal: bool, left: Static, right: Static, position) -> Tracer:
    """``x.dtype == torch.float32`` (or ``!=``, ``is``): the NumPy dtypes both name are the same."""
    same = _numpy_dtype(b, left.value, position) == _numpy_dtype(b, right.value, position)
    return _answer(b, same == equal, position)


# -- ATen's spellings pasted from traces (torch.jit / torch.fx / profiler output) ------------------------------

def _aten(fname: str):
    return variant("torch.aten", fname)


@_aten("slice_copy")
def _slice_copy(b, args, kwargs, position):
    """torch.slice_copy(x, dim=0, start=None, end=None, step=1): x[start:end:step] along dim, a copy (start and
    end clamped to the axis, as a Python slice; a step of 0 or less refused, as PyTorch refuses it)."""
    a = arguments("slice_copy", args, kwargs, {"x": REQUIRED, "axis": 0, "start": None, "end": None, "step": 1},
                  position)
    x = tensor(b, a["x"], "slice_copy", position)
    axis = _axis(b, a["axis"], x.ndim, "slice_copy", position)
    start, end = (None if a[k] is None else static_int(b, a[k], k, position) for k in ("start", "end"))
    step = static_int(b, a["step"], "step", position)
    if step <= 0:
        raise JacValueError(f"torch.slice_copy: slice step must be positive (PyTorch raises), got {step}", position)
    return _take(b, x, (slice(None),) * axis + (slice(start, end, step),), position)


@_aten("split_with_sizes_copy")
def _split_with_sizes_copy(b, args, kwargs, position):
    """torch.split_with_sizes_copy(x, split_sizes, dim=0): torch.split_with_sizes' pieces, copies."""
    return library_function("torch", "split_with_sizes")(b, args, kwargs, position)


@_aten("norm_except_dim")
def _norm_except_dim(b, args, kwargs, position):
    """torch.norm_except_dim(v, pow=2, dim=0): weight norm's norm, over every axis but dim, kept as size-1 axes
    (v.shape with 1 elsewhere); dim=-1 is the norm of the whole array (0-d), as PyTorch; pow an int."""
    kwargs = {("power" if k == "pow" else k): v for k, v in kwargs.items()}
    a = arguments("norm_except_dim", args, kwargs, {"v": REQUIRED, "power": 2, "axis": 0}, position)
    v = tensor(b, a["v"], "norm_except_dim", position)
    power = static(b, a["power"], "pow", position)
    if isinstance(power, bool) or not isinstance(power, int) and not (isinstance(power, float) and power.is_integer()
                                                                      and type(a["power"]) is Tracer
                                                                      and a["power"].id in b.pyints):
        raise JacValueError(f"torch.norm_except_dim(): argument 'pow' must be int, not {type(power).__name__} "
                            "(PyTorch raises)", position)
    dim = static_int(b, a["axis"], "dim", position)
    if dim == -1:
        return _vector_norm(b, v, int(power), tuple(range(v.ndim)), False, position)
    axis = _axis(b, dim, v.ndim, "norm_except_dim", position)
    return _vector_norm(b, v, int(power), tuple(i for i in range(v.ndim) if i != axis), True, position)


@_aten("native_batch_norm")
def _native_batch_norm(b, args, kwargs, position):
    """torch.native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps): the
    triple (output, save_mean, save_invstd); in training the batch's mean and 1 / sqrt(biased variance + eps)
    per channel, without derivative (PyTorch's carry none), in eval two empty arrays. As F.batch_norm, the
    running statistics given are moved in place in training."""
    fname = "native_batch_norm"
    a = arguments(fname, args, kwargs, {"x": REQUIRED, "weight": REQUIRED, "bias": REQUIRED,
                                        "running_mean": REQUIRED, "running_var": REQUIRED, "training": REQUIRED,
                                        "momentum": REQUIRED, "eps": REQUIRED}, position)
    for k in ("running_mean", "running_var"):
        if type(a[k]) is Tracer and b.nodes[a[k].id].requires_grad:
            raise JacValueError(f"torch.native_batch_norm is not differentiable with respect to {k} (PyTorch raises "
                                f"where it requires grad): pass it detached ({k[:1]}{k[8:9]}.detach()) or leave it out "
                                "of --wrt", position)
    out = FUNCTIONS["batch_norm"](b, [a["x"]], {k: a[k] for k in ("running_mean", "running_var", "weight", "bias",
                                                                  "training", "momentum", "eps")}, position)
    x = tensor(b, a["x"], fname, position)
    if not _flag(b, a["training"], "training", fname, position):
        empty = b.const(np.zeros(0, dtype=b.dtype), position)
        return Items([out, empty, empty])
    axes = (0,) + tuple(range(2, x.ndim))
    mean = b.apply("mean", x, axes=axes, position=position)
    shaped = _reshape_to(b, mean, (x.shape[1],) + (1,) * (x.ndim - 2), position)
    d = b.apply("sub", x, shaped, position=position)
    var = b.apply("mean", b.apply("mul", d, d, position=position), axes=axes, position=position)
    invstd = b.apply("rsqrt", b.apply("add", var, _eps(b, a["eps"], fname, position), position=position),
                     position=position)
    return Items([out, detached(b, mean, position), detached(b, invstd, position)])


@_aten("native_group_norm")
def _native_group_norm(b, args, kwargs, position):
    """torch.native_group_norm(input, weight, bias, N, C, HxW, group, eps): the triple (output, mean, rstd), the
    last two (N, group), each group's mean and 1 / sqrt(biased variance + eps), whose derivative is refused
    (PyTorch's backward mostly drops their cotangents: 0, not their derivative); N, C and HxW must be the
    input's."""
    fname = "native_group_norm"
    a = arguments(fname, args, kwargs, {"x": REQUIRED, "weight": REQUIRED, "bias": REQUIRED, "N": REQUIRED,
                                        "C": REQUIRED, "HxW": REQUIRED, "group": REQUIRED, "eps": REQUIRED}, position)
    x = tensor(b, a["x"], fname, position)
    shape = _concrete(x, fname, position)
    sizes = [static_int(b, a[k], k, position) for k in ("N", "C", "HxW")]
    if x.ndim < 2 or sizes != [shape[0], shape[1], int(np.prod(shape[2:]))]:
        raise JacShapeError(f"torch.native_group_norm: N, C, HxW = {sizes} do not match the input's shape "
                            f"{fmt(shape)}", position)
    groups = static_int(b, a["group"], "group", position)
    out = FUNCTIONS["group_norm"](b, [x, groups], {k: a[k] for k in ("weight", "bias", "eps")}, position)
    grouped = _reshape_to(b, x, (shape[0], groups, int(np.prod(shape)) // (shape[0] * groups)), position)
    mean = b.apply("mean", grouped, axes=(2,), keepdims=True, position=position)
    d = b.apply("sub", grouped, mean, position=position)
    var = b.apply("mean", b.apply("mul", d, d, position=position), axes=(2,), position=position)
    rstd = b.apply("rsqrt", b.apply("add", var, _eps(b, a["eps"], fname, position), position=position),
                   position=position)
    mean = _reshape_to(b, mean, (shape[0], groups), position)
    return Items([out, _underivable(b, mean, _GROUP_NORM_STATS, position),
                  _underivable(b, rstd, _GROUP_NORM_STATS, position)])


_GROUP_NORM_STATS = Rule(
    name="native_group_norm", library="torch", nodes=(), residual_ids=(), cotangent_ids=(), result_ids=(),
    residual_from=(), output_shapes=(), primal_shapes=(), linear=True, once=True,
    message="a derivative through torch.native_group_norm's mean or rstd: PyTorch's backward mostly drops their "
            "cotangents (a derivative of 0, not theirs; with float64 as its default dtype, mean * rstd gets another), "
            "so jac refuses it; "
            "to differentiate them, compute them from the input (x.reshape(N, G, -1).mean(-1))")


def _underivable(b: Builder, value: Tracer, rule: Rule, position) -> Tracer:
    """``value`` itself, whose derivative is refused with ``rule.message`` (the ``custom_once`` op)."""
    return b.apply("custom_once", value, rule=rule, position=position)


@_aten("convolution")
def _convolution(b, args, kwargs, position):
    """torch.convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
    F.conv{1,2,3}d, or F.conv_transpose{1,2,3}d when transposed, by the input's dimensions (batched); a nonzero
    output_padding without transposed refused (PyTorch's forward ignores it, its backward raises)."""
    fname = "convolution"
    a = arguments(fname, args, kwargs, {"x": REQUIRED, "weight": REQUIRED, "bias": REQUIRED, "stride": REQUIRED,
                                        "padding": REQUIRED, "dilation": REQUIRED, "transposed": REQUIRED,
                                        "output_padding": REQUIRED, "groups": REQUIRED}, position)
    x = tensor(b, a["x"], fname, position)
    nd = x.ndim - 2
    if nd not in (1, 2, 3):
        raise JacShapeError(f"torch.convolution: the input must be (N, C, 1 to 3 spatial sizes), got shape "
                            f"{fmt(x.shape)}", position)
    given = {k: a[k] for k in ("bias", "stride", "padding", "dilation", "groups")}
    if _flag(b, a["transposed"], "transposed", fname, position):
        return library_function("torch", f"conv_transpose{nd}d")(
            b, [x, a["weight"]], {**given, "output_padding": a["output_padding"]}, position)
    if any(p != 0 for p in static_ints(b, a["output_padding"], "output_padding", position)):
        raise JacValueError("torch.convolution: output_padding is not supported for non-transposed convolutions "
                            "(PyTorch's backward raises); write zeros, or transposed=True", position)
    return FUNCTIONS[f"conv{nd}d"](b, [x, a["weight"]], given, position)


def _conv_tbc(b, args, kwargs, position):
    """torch.conv_tbc(input (T, B, C_in), weight (K, C_in, C_out), bias (C_out,), pad=0): a 1-d convolution over
    time, (T + 2 pad - K + 1, B, C_out): F.conv1d of the input as (B, C_in, T) and the weight as (C_out, C_in, K)."""
    fname = "conv_tbc"
    a = arguments(fname, args, kwargs, {"x": REQUIRED, "weight": REQUIRED, "bias": REQUIRED, "pad": 0}, position)
    x, w, bias = (tensor(b, a[k], fname, position) for k in ("x", "weight", "bias"))
    if x.ndim != 3 or w.ndim != 3 or bias.ndim != 1:
        raise JacShapeError(f"conv_tbc: input (T, B, C_in), weight (K, C_in, C_out) and bias (C_out,) needed, got "
                            f"{fmt(x.shape)}, {fmt(w.shape)}, {fmt(bias.shape)}", position)
    if w.shape[1] != x.shape[2] or bias.shape[0] != w.shape[2]:
        raise JacShapeError(f"conv_tbc: the input's {x.shape[2]} channels, the weight {fmt(w.shape)} and the bias "
                            f"{fmt(bias.shape)} do not agree", position)
    pad = static_int(b, a["pad"], "pad", position)
    y = FUNCTIONS["conv1d"](b, [_permute(b, x, (1, 2, 0), position), _permute(b, w, (2, 1, 0), position), bias],
                            {"padding": pad}, position)
    return _permute(b, y, (2, 0, 1), position)


variant("torch", "conv_tbc")(_conv_tbc)  # torch.conv_tbc and F.conv_tbc: the same function


@_aten("nonzero_static")
def _nonzero_static(b, args, kwargs, position):
    """torch.nonzero_static(input, *, size, fill_value=-1): torch.nonzero's (n, ndim) indices cut or padded with
    fill_value to ``size`` rows, read off the values (of an input: the graph holds for these values only)."""
    a = arguments("nonzero_static", args, kwargs, {"x": REQUIRED, "size": REQUIRED, "fill_value": -1}, position)
    size, fill = (static_int(b, a[k], k, position) for k in ("size", "fill_value"))
    if size < 0:
        raise JacValueError(f"torch.nonzero_static: size must be >= 0, got {size}", position)
    x = tensor(b, a["x"], "nonzero_static", position)
    found = np.stack(_true_positions(b, x, "nonzero_static", position), axis=1)[:size]
    padded = np.full((size, x.ndim), fill, dtype=np.int64)
    padded[: len(found)] = found
    return _index_const(b, padded, position)


_SEGMENT_EMPTY = {"sum": 0.0, "mean": float("nan"), "max": float("-inf"), "min": float("inf"), "prod": 1.0}
_SEGMENT_OPS = {"sum": "sum", "mean": "sum", "max": "max", "min": "min", "prod": "prod"}
_SEGMENT_INITIAL = {"sum": "add", "mean": "add", "max": "maximum", "min": "minimum", "prod": "mul"}


@_aten("segment_reduce")
def _segment_reduce(b, args, kwargs, position):
    """torch.segment_reduce(data, reduce, *, lengths=None, offsets=None, axis=0, unsafe=False, initial=None): each
    run of ``lengths`` (constant; or ``offsets``, their running ends) along ``axis`` reduced by 'sum', 'mean',
    'max', 'min' or 'prod', as PyTorch: ``initial`` joins every segment (mean: (initial + sum) / length), an empty
    segment is initial, else 0, NaN, -inf, inf, 1. The lengths must sum to the axis' size (fewer with unsafe=True)."""
    fname = "segment_reduce"
    a = arguments(fname, args, kwargs, {"x": REQUIRED, "reduce": REQUIRED, "lengths": None, "indices": None,
                                        "offsets": None, "axis": 0, "unsafe": False, "initial": None}, position)
    data = tensor(b, a["x"], fname, position)
    reduce = static(b, a["reduce"], "reduce", position)
    if reduce not in _SEGMENT_OPS:
        raise JacValueError(f"torch.segment_reduce: reduce must be 'sum', 'mean', 'max', 'min' or 'prod', got "
                            f"{reduce!r}", position)
    if a["indices"] is not None or (a["lengths"] is None) == (a["offsets"] is None):
        raise JacValueError("torch.segment_reduce: give lengths= or offsets= (one of them, constants)", position)
    axis = _axis(b, a["axis"], data.ndim, fname, position)
    given = a["lengths"] if a["lengths"] is not None else a["offsets"]
    rows = np.asarray(static(b, given, "lengths" if a["lengths"] is not None else "offsets", position), dtype=float)
    if rows.ndim == 0 or not np.all(rows == np.round(rows)):
        raise JacValueError("torch.segment_reduce: lengths and offsets are constant integers, of one or more "
                            "dimensions", position)
    rows = rows.astype(np.int64)
    if axis != rows.ndim - 1:
        raise JacValueError(f"torch.segment_reduce: axis must be the last dimension of lengths (PyTorch raises), "
                            f"{rows.ndim - 1} for lengths of shape {fmt(rows.shape)}, got {axis}", position)
    shape = _concrete(data, fname, position)
    if tuple(shape[:axis]) != rows.shape[:-1]:
        raise JacShapeError(f"torch.segment_reduce: lengths of shape {fmt(rows.shape)} need data whose first "
                            f"{axis} dimensions are {fmt(rows.shape[:-1])}, got {fmt(shape)} (PyTorch raises)",
                            position)
    n = shape[axis]
    if a["lengths"] is None:
        if rows.shape[-1] == 0:
            raise JacValueError("torch.segment_reduce: offsets hold at least one entry (the start, 0)", position)
        if np.any(rows[..., 0] != 0) or np.any(np.diff(rows, axis=-1) < 0):
            raise JacValueError("torch.segment_reduce: offsets must start at 0 and increase", position)
        rows = np.diff(rows, axis=-1)
    if np.any(rows < 0):
        raise JacValueError(f"torch.segment_reduce: lengths must be >= 0, got {rows.tolist()}", position)
    unsafe = _flag(b, a["unsafe"], "unsafe", fname, position)
    totals = rows.sum(axis=-1)
    if np.any(totals > n) or np.any(totals != n) and not unsafe:
        raise JacValueError(f"torch.segment_reduce: the lengths sum to {totals.tolist()}, the data's axis {axis} has "
                            f"{n} (PyTorch requires them equal without unsafe=True)", position)
    initial = None if a["initial"] is None else float(static(b, a["initial"], "initial", position))
    b.check_nodes(6 * rows.size, "torch.segment_reduce's segments", position)
    if rows.ndim == 1:
        return _segments(b, data, list(rows), reduce, initial, position)
    # lengths of several dimensions: each row of segments along the last one, of data's row there (PyTorch's)
    outs = [_segments(b, _take(b, data, idx, position), list(rows[idx]), reduce, initial, position)
            for idx in np.ndindex(rows.shape[:-1])]
    joined = FUNCTIONS["stack"](b, [Items(outs)], {"axis": 0}, position)
    return _reshape_to(b, joined, rows.shape + tuple(shape[axis + 1:]), position)


def _segments(b: Builder, data: Tracer, lengths: list, reduce: str, initial, position) -> Tracer:
    """Each run of ``lengths`` along data's axis 0 reduced, joined along it."""
    pieces, start = [], 0
    for k in lengths:
        pieces.append(_segment(b, data, 0, int(start), int(k), reduce, initial, position))
        start += k
    if not pieces:
        return b.const(np.zeros((0,) + tuple(data.shape[1:]), dtype=b.dtype), position)
    return FUNCTIONS["cat"](b, [Items(pieces)], {"axis": 0}, position)


def _segment(b: Builder, data: Tracer, axis: int, start: int, k: int, reduce: str, initial, position) -> Tracer:
    """One segment, data[start:start + k] along ``axis``, reduced with the axis kept (size 1)."""
    shape = data.shape[:axis] + (1,) + data.shape[axis + 1:]
    if k == 0:
        fill = _SEGMENT_EMPTY[reduce] if initial is None else initial
        return b.const(np.full(shape, fill, dtype=b.dtype), position)
    part = _take(b, data, (slice(None),) * axis + (slice(start, start + k),), position)
    found = b.apply(_SEGMENT_OPS[reduce], part, axes=(axis,), keepdims=True, position=position)
    if initial is not None:
        found = b.apply(_SEGMENT_INITIAL[reduce], found, initial, position=position)
    return b.apply("div", found, float(k), position=position) if reduce == "mean" else found


# -- the recurrent layers' functional forms (what nn.GRU's forward calls) ---------------------------------------

_FLAT_MODES = {"rnn_tanh": ("RNN", "tanh"), "rnn_relu": ("RNN", "relu"), "gru": ("GRU", None), "lstm": ("LSTM", None)}


def _flat_recurrent(fname: str):
    mode, act = _FLAT_MODES[fname]
    params_in_order = ("x", "hx", "params", "has_biases", "num_layers", "dropout", "train", "bidirectional",
                       "batch_first")

    def lower(b, args, kwargs, position):
        if len(args) > 3 and isinstance(args[3], Items):
            raise JacValueError(f"torch.{fname}(data, batch_sizes, ...): the packed-sequence form is not supported "
                                f"by jac; pass the padded input (T, N, C) as nn.{mode} does", position)
        a = arguments(f"torch.{fname}", args, kwargs, {k: REQUIRED for k in params_in_order}, position)
        x = tensor(b, a["x"], f"torch.{fname}", position)
        if x.ndim != 3:
            raise JacShapeError(f"torch.{fname}: the input must be 3-D, (T, N, C) or with batch_first (N, T, C), got "
                                f"shape {fmt(x.shape)} (nn.{mode} adds the batch axis of an unbatched input)", position)
        if not isinstance(a["params"], Items):
            raise JacValueError(f"torch.{fname}: params must be a list of the weights (w_ih, w_hh, b_ih, b_hh per "
                                "layer and direction)", position)
        weights = [tensor(b, w, f"torch.{fname}", position) for w in a["params"]]
        flags = {k: _flag(b, a[k], k, f"torch.{fname}", position)
                 for k in ("has_biases", "train", "bidirectional", "batch_first")}
        layers = static_int(b, a["num_layers"], "num_layers", position)
        directions = 2 if flags["bidirectional"] else 1
        per = 4 if flags["has_biases"] else 2
        if layers < 1 or len(weights) not in (per * layers * directions, (per + 1) * layers * directions) \
                or len(weights) != per * layers * directions and mode != "LSTM":
            raise JacValueError(f"torch.{fname}: {len(weights)} weights for {layers} layer(s) and {directions} "
                                f"direction(s): expected {per * layers * directions} (w_ih, w_hh"
                                f"{', b_ih, b_hh' if per == 4 else ''} per layer and direction)", position)
        step = len(weights) // (layers * directions)
        names = ["weight_ih", "weight_hh"] + (["bias_ih", "bias_hh"] if per == 4 else []) + \
            (["weight_hr"] if step > per else [])
        params, gates = {}, {"RNN": 1, "GRU": 3, "LSTM": 4}[mode]
        for k in range(layers * directions):
            suffix = f"_l{k // directions}{'_reverse' if k % directions else ''}"
            for j, name in enumerate(names):
                params[name + suffix] = weights[k * step + j]
        hidden = weights[0].shape[0] // gates if weights[0].ndim == 2 else 0
        proj = weights[step - 1].shape[0] if step > per else 0
        _check_flat_shapes(fname, params, x.shape[2], hidden, proj, gates, layers, directions, position)
        options = {"input_size": x.shape[2], "hidden_size": hidden, "mode": mode, "cell": False,
                   "num_layers": layers, "directions": directions, "proj_size": proj, "bias": per == 4,
                   "dropout": float(static(b, a["dropout"], "dropout", position)), "batch_first": flags["batch_first"]}
        if act is not None:
            options["nonlinearity"] = act
        module = Recurrent(mode, options, params, _run_layer)
        module.training = flags["train"]
        hx = _flat_state(b, mode, a["hx"], position)
        output, state = _run_layer(b, module, [x, hx], {}, position)
        return Items([output, *state]) if mode == "LSTM" else Items([output, state])
    lower.__doc__ = (f"torch.{fname}(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, "
                     f"batch_first): nn.{mode}'s forward with its weights given as a flat list (w_ih, w_hh, b_ih, "
                     f"b_hh{', w_hr' if mode == 'LSTM' else ''} per layer and direction), "
                     + ("(output, h_n, c_n)" if mode == "LSTM" else "(output, h_n)"))
    return lower


def _flat_state(b: Builder, mode: str, hx, position):
    """hx as nn.{mode} takes it: an LSTM's [h0, c0] as a pair (a list of two constants, which the parser stacked,
    unstacked again), a tensor otherwise."""
    if mode != "LSTM":
        return hx
    stacked = getattr(b.lowering, "stacked", ())
    if type(hx) is Tracer and hx.id in stacked and hx.ndim == 4 and hx.shape[0] == 2:
        return Items(b.apply("getitem", hx, index=(k,), position=position) for k in range(2))
    if not (isinstance(hx, Items) and len(hx) == 2):
        raise JacValueError("torch.lstm: hx must be the list [h0, c0]", position)
    return hx


def _check_flat_shapes(fname, params, n_in, hidden, proj, gates, layers, directions, position):
    out = proj or hidden
    for name, w in params.items():
        layer = int(name.split("_l")[1].split("_")[0])
        want = {"weight_ih": (gates * hidden, n_in if layer == 0 else out * directions),
                "weight_hh": (gates * hidden, out), "bias_ih": (gates * hidden,), "bias_hh": (gates * hidden,),
                "weight_hr": (proj, hidden)}[name.split("_l")[0]]
        if hidden < 1 or tuple(w.shape) != want:
            raise JacShapeError(f"torch.{fname}: {name} (the weight list's) must have shape {fmt(want)}, got "
                                f"{fmt(w.shape)}", position)


for _name in _FLAT_MODES:
    _aten(_name)(_flat_recurrent(_name))


# -- CTC loss ---------------------------------------------------------------------------------------------------

_UNREACHED = -1e30  # an alpha no path reaches: a finite stand-in for -inf, so that logsumexp's weights of it are 0
_CTC_NODES_PER_STEP = 14
_CTC_GRADIENT = Rule(
    name="ctc_loss", library="torch", nodes=(), residual_ids=(), cotangent_ids=(), result_ids=(), residual_from=(),
    output_shapes=(), primal_shapes=(), linear=True, once=True,
    message="the derivative of F.ctc_loss by log_probs that are not a log_softmax: PyTorch's gradient is "
            "exp(log_probs) plus the loss's own derivative (its formula assumes log_probs = log_softmax(logits), "
            "through which the extra term cancels), so jac differentiates it only through a log_softmax: write "
            "F.ctc_loss(logits.log_softmax(2), ...)")
_CTC_BLANK_TARGET = Rule(
    name="ctc_loss", library="torch", nodes=(), residual_ids=(), cotangent_ids=(), result_ids=(), residual_from=(),
    output_shapes=(), primal_shapes=(), linear=True, once=True,
    message="the derivative of F.ctc_loss of targets holding the blank: PyTorch's gradient there is not the loss's "
            "derivative (central differences of its own loss disagree), so jac refuses it; the value is PyTorch's")
_CTC_INFINITE = Rule(
    name="ctc_loss", library="torch", nodes=(), residual_ids=(), cotangent_ids=(), result_ids=(), residual_from=(),
    output_shapes=(), primal_shapes=(), linear=True, once=True,
    message="the derivative of an infinite F.ctc_loss (an input shorter than its target needs): PyTorch's is NaN; "
            "zero_infinity=True makes the loss and its derivative 0")


def _is_log_softmax(b: Builder, t: Tracer, axis: int) -> bool:
    """Is ``t`` a log_softmax over ``axis`` as jac lowers it: x - logsumexp(x) (PyTorch's: plus (m - m))?"""
    node = b.nodes[t.id]
    if node.op == "add" and b.nodes[node.args[1]].op == "sub" and len(set(b.nodes[node.args[1]].args)) == 1:
        node = b.nodes[node.args[0]]
    if node.op != "sub":
        return False
    lse = b.nodes[node.args[1]]
    return lse.op == "logsumexp" and lse.args[0] == node.args[0] and lse.params.get("axes") == (axis,)


def _ctc_lengths(b, value, what: str, count: int, fname: str, position) -> list:
    if type(value) is Tracer and type(b.pyints.get(value.id)) is int:
        raise JacValueError(f"{fname}: {what} must be a tensor or a list of ints, not an int (PyTorch raises)",
                            position)
    found = static(b, value, what, position)
    items = list(found) if isinstance(found, tuple) else [found]
    if not all(isinstance(v, (int, float)) and float(v).is_integer() for v in items) or len(items) != count:
        raise JacValueError(f"{fname}: {what} must be {count} constant integer(s), one per sample, got {found!r}",
                            position)
    return [int(v) for v in items]


def _ctc_targets(b, value, target_lengths: list, batched: bool, fname: str, position) -> list:
    """Each sample's labels: rows of an (N, S) array (the first target_lengths[n] of each), or a 1-d array of
    them all one after the other."""
    t = static(b, value, "targets", position)
    array = np.asarray(t if isinstance(t, tuple) else [t] if t is not None else [], dtype=float)
    if not np.all(np.isfinite(array)) or not np.all(array == np.round(array)):
        raise JacValueError(f"{fname}: targets must be constant integers", position)
    array = array.astype(np.int64)
    if array.ndim == 2 and batched:
        if array.shape[0] != len(target_lengths) or max(target_lengths, default=0) > array.shape[1]:
            raise JacShapeError(f"{fname}: targets {fmt(array.shape)} do not hold target_lengths {target_lengths}",
                                position)
        return [list(array[n, :k]) for n, k in enumerate(target_lengths)]
    if array.ndim != 1 or sum(target_lengths) > array.size or not batched and target_lengths[0] > array.size:
        raise JacShapeError(f"{fname}: targets of shape {fmt(array.shape)} do not hold target_lengths "
                            f"{target_lengths}", position)
    starts = np.cumsum([0] + target_lengths[:-1]) if batched else [0]
    return [list(array[s:s + k]) for s, k in zip(starts, target_lengths)]


def _ctc(b: Builder, a: dict, reduction: str, fname: str, position) -> Tracer:
    lp = tensor(b, a["log_probs"], fname, position)
    if lp.ndim not in (2, 3):
        raise JacShapeError(f"{fname}: log_probs must be (T, N, C) or (T, C), got {fmt(lp.shape)}", position)
    shape = _concrete(lp, fname, position)
    batched, softmaxed = lp.ndim == 3, _is_log_softmax(b, lp, lp.ndim - 1)
    if not batched:
        lp = _reshape_to(b, lp, (shape[0], 1, shape[1]), position)
    steps, count, classes = lp.shape
    input_lengths = _ctc_lengths(b, a["input_lengths"], "input_lengths", count, fname, position)
    target_lengths = _ctc_lengths(b, a["target_lengths"], "target_lengths", count, fname, position)
    blank = static_int(b, a["blank"], "blank", position)
    if not 0 <= blank < classes:
        raise JacValueError(f"{fname}: blank must be in label range, got {blank} for {classes} classes", position)
    if any(not 0 <= n <= steps for n in input_lengths) or any(k < 0 for k in target_lengths) or steps == 0:
        raise JacValueError(f"{fname}: input_lengths must be between 0 and the {steps} time steps (and log_probs "
                            f"hold at least one) and target_lengths >= 0, got {input_lengths} and {target_lengths}",
                            position)
    empty = np.array([n == 0 for n in input_lengths])  # PyTorch: inf (-0.0 for an empty target), a derivative of 0
    input_lengths = [max(n, 1) for n in input_lengths]
    targets = _ctc_targets(b, a["targets"], target_lengths, batched, fname, position)
    if any(not 0 <= c < classes for row in targets for c in row):
        raise JacValueError(f"{fname}: the targets must be classes in [0, {classes}), got {targets}", position)
    b.check_nodes(_CTC_NODES_PER_STEP * max(input_lengths), f"{fname} over {max(input_lengths):,} time steps",
                  position)
    if not softmaxed:
        lp = _underivable(b, lp, _CTC_GRADIENT, position)
    lp = refused(b, lp, f"{fname} of log_probs that are not finite ({{lo}}): jac's recursion reads finite ones",
                 finite=(lp, lp), position=position)
    loss = _ctc_losses(b, lp, targets, input_lengths, blank, position)
    if any(c == blank for row in targets for c in row):
        loss = _underivable(b, loss, _CTC_BLANK_TARGET, position)
    infinite = np.array([not np.isfinite(v) for v in _ctc_reached(targets, input_lengths, blank)]) & ~empty
    zero_infinity = _flag(b, a["zero_infinity"], "zero_infinity", fname, position)
    if infinite.any():
        if zero_infinity:
            loss = b.apply("where", b.const(infinite.astype(b.dtype), position), 0.0, loss, position=position)
        else:
            loss = _underivable(b, b.apply("where", b.const(infinite.astype(b.dtype), position), float("inf"), loss,
                                           position=position), _CTC_INFINITE, position)
    if empty.any():  # an empty input: no path, unless the target is empty too (PyTorch's -0.0); no derivative
        none = np.array([-0.0 if k == 0 else 0.0 if zero_infinity else np.inf for k in target_lengths])
        loss = b.apply("where", b.const(empty.astype(b.dtype), position), b.const(none.astype(b.dtype), position),
                       loss, position=position)
    if reduction == "mean":
        loss = b.apply("div", loss, b.const(np.maximum(target_lengths, 1).astype(b.dtype), position),
                       position=position)
    if reduction == "none":
        return loss if batched else _reshape_to(b, loss, (), position)
    return b.apply(reduction, loss, axes=(0,), position=position)


def _ctc_extended(targets: list, blank: int) -> tuple:
    """(ext, skip): each sample's labels with blanks between and around, padded with blanks to one width, and
    where a path may skip from s - 2 to s (PyTorch's rule: s > 1 and ext[s - 2] != ext[s])."""
    width = 2 * max((len(t) for t in targets), default=0) + 1
    ext = np.full((len(targets), width), blank, dtype=np.int64)
    for n, row in enumerate(targets):
        ext[n, 1:2 * len(row):2] = row
    skip = np.zeros(ext.shape, dtype=bool)
    skip[:, 2:] = ext[:, :-2] != ext[:, 2:]
    return ext, skip


def _ctc_reached(targets: list, input_lengths: list, blank: int) -> list:
    """Per sample, 0.0 where some path of its input's length spells its target, -inf where none does."""
    ext, skip = _ctc_extended(targets, blank)
    out = []
    for n, row in enumerate(targets):
        reach = np.zeros(ext.shape[1], dtype=bool)
        reach[: min(2, 2 * len(row) + 1)] = True
        for _ in range(1, input_lengths[n]):
            reach = reach | np.r_[False, reach[:-1]] | (skip[n] & np.r_[False, False, reach[:-2]])
        last = 2 * len(row)
        out.append(0.0 if reach[last] or last > 0 and reach[last - 1] else float("-inf"))
    return out


def _ctc_losses(b: Builder, lp: Tracer, targets: list, input_lengths: list, blank: int, position) -> Tracer:
    """-log p(target | input) per sample (N,): the alpha recursion in log space over the time steps, every sample
    at once, a sample past its input's length keeping its alphas."""
    ext, skip = _ctc_extended(targets, blank)
    count, width = ext.shape
    rows = np.arange(count)[:, None]
    emit = b.apply("getitem", lp, index=(slice(None), rows, ext), position=position)  # (T, N, width)
    unreached = b.const(np.full((count, width), _UNREACHED, dtype=b.dtype), position)
    start = np.zeros((count, width), dtype=bool)
    start[:, :2] = True
    alpha = b.apply("where", b.const(start.astype(b.dtype), position),
                    b.apply("getitem", emit, index=(0,), position=position), unreached, position=position)
    pad = [b.const(np.full((count, k), _UNREACHED, dtype=b.dtype), position) for k in (1, 2)]
    skipping = b.const(skip.astype(b.dtype), position)
    for t in range(1, max(input_lengths)):
        one = FUNCTIONS["cat"](b, [Items([pad[0], _take(b, alpha, (slice(None), slice(0, width - 1)), position)])],
                               {"axis": 1}, position)
        two = FUNCTIONS["cat"](b, [Items([pad[1], _take(b, alpha, (slice(None), slice(0, width - 2)), position)])],
                               {"axis": 1}, position) if width > 2 else pad[0] if width == 1 else pad[1]
        two = b.apply("where", skipping, two, unreached, position=position)
        both = FUNCTIONS["stack"](b, [Items([alpha, one, two])], {"axis": 0}, position)
        new = b.apply("add", b.apply("logsumexp", both, axes=(0,), keepdims=False, position=position),
                      b.apply("getitem", emit, index=(t,), position=position), position=position)
        active = np.array([t < n for n in input_lengths])[:, None] & np.ones((1, width), dtype=bool)
        alpha = new if active.all() else b.apply("where", b.const(active.astype(b.dtype), position), new, alpha,
                                                 position=position)
    lasts = np.array([2 * len(row) for row in targets])
    ends = [b.apply("getitem", alpha, index=(np.arange(count), lasts), position=position),
            b.apply("where", b.const((lasts > 0).astype(b.dtype), position),
                    b.apply("getitem", alpha, index=(np.arange(count), np.maximum(lasts - 1, 0)), position=position),
                    b.const(np.full(count, _UNREACHED, dtype=b.dtype), position), position=position)]
    total = b.apply("logsumexp", FUNCTIONS["stack"](b, [Items(ends)], {"axis": 0}, position), axes=(0,),
                    keepdims=False, position=position)
    return b.apply("neg", total, position=position)


def _ctc_loss_lower(torch_form: bool):
    fname = "torch.ctc_loss" if torch_form else "F.ctc_loss"

    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"log_probs": REQUIRED, "targets": REQUIRED, "input_lengths": REQUIRED,
                                            "target_lengths": REQUIRED, "blank": 0,
                                            "reduction": 0 if torch_form else "mean", "zero_infinity": False},
                      position)
        if torch_form:
            code = static(b, a["reduction"], "reduction", position)
            if code not in (0, 1, 2):
                raise JacValueError(f"torch.ctc_loss: reduction is ATen's int code, 0 (none), 1 (mean) or 2 (sum), "
                                    f"got {code!r}", position)
            reduction = ("none", "mean", "sum")[int(code)]
        else:
            reduction = static(b, a["reduction"], "reduction", position)
            if reduction not in ("none", "mean", "sum"):
                raise JacValueError(f"F.ctc_loss(): reduction must be 'none', 'mean' or 'sum', got {reduction!r}",
                                    position)
        return _ctc(b, a, reduction, fname, position)
    default = "0 (none: what PyTorch 2.13 gives without one, though its signature says Mean)" if torch_form \
        else "'mean'"
    lower.__doc__ = (f"{fname}(log_probs (T, N, C), targets, input_lengths, target_lengths, blank=0, "
                     f"reduction={default}, zero_infinity=False): "
                     "-log p(target | input) by the alpha recursion in log space, lengths and targets constant; "
                     "mean divides each by its target length; the derivative by log_probs read through a "
                     "log_softmax only (PyTorch's gradient assumes one)")
    return lower


variant("torch", "ctc_loss")(_ctc_loss_lower(False))  # F.ctc_loss
_aten("ctc_loss")(_ctc_loss_lower(True))  # torch.ctc_loss: ATen's int reduction


# -- NumPy's set functions: NumPy's own call on the values, as np.unique -------------------------------------------

def _set_values(b: Builder, value, fname: str, position) -> np.ndarray:
    """The values of a set function's argument: a constant's, or an input's read off its values (the graph then
    holds for them only), refused where a derivative would pass through it (the results have none)."""
    x = tensor(b, value, fname, position)
    _no_derivative_through(b, x, fname, position)
    return _values_for(b, x, fname, position)


def _set_result(b: Builder, found, index_parts: tuple, fields: tuple | None, position):
    """NumPy's result as jac's values: the values in --dtype, index arrays int64 (``index_parts``: their
    positions in a tuple result)."""
    if not isinstance(found, tuple):
        return b.const(np.asarray(found).astype(b.dtype), position)
    parts = [_index_const(b, np.asarray(p), position) if k in index_parts else
             b.const(np.asarray(p).astype(b.dtype), position) for k, p in enumerate(found)]
    return Items.named(parts, fields) if fields else Items(parts)


_UNIQUE_FAMILY = {  # NumPy 2's array-API spellings of unique: (the index parts, the result's field names)
    "unique_values": ((), None),
    "unique_counts": ((1,), ("values", "counts")),
    "unique_inverse": ((1,), ("values", "inverse_indices")),
    "unique_all": ((1, 2, 3), ("values", "indices", "inverse_indices", "counts")),
}


def _unique_family(fname: str):
    indices, fields = _UNIQUE_FAMILY[fname]

    def lower(b, args, kwargs, position):
        _jax_refused(b, fname, position)
        a = arguments(f"np.{fname}", args, kwargs, {"x": REQUIRED}, position)
        found = getattr(np, fname)(_set_values(b, a["x"], f"np.{fname}", position))
        return _set_result(b, tuple(found) if fields else found, indices, fields, position)
    lower.__doc__ = (f"np.{fname}(x): NumPy's own call on the values (constants; of an input read off its values, "
                     "the graph holding for them only), " + (f"the named tuple ({', '.join(fields)})" if fields else
                                                            "the distinct values") + "; no derivative (refused)")
    return lower


def _pair_set(fname: str, params: dict):
    def lower(b, args, kwargs, position):
        _jax_refused(b, fname, position)
        a = arguments(f"np.{fname}", args, kwargs, {"ar1": REQUIRED, "ar2": REQUIRED, **params}, position)
        first, second = (_set_values(b, a[k], f"np.{fname}", position) for k in ("ar1", "ar2"))
        flags = {k: _flag(b, a[k], k, f"np.{fname}", position) for k in params}
        found = getattr(np, fname)(first, second, **flags)
        return _set_result(b, found, (1, 2), None, position)
    lower.__doc__ = (f"np.{fname}(ar1, ar2{''.join(', ' + k + '=False' for k in params)}): NumPy's own call on the "
                     "values (constants; of inputs read off their values), a sorted 1-d array; no derivative "
                     "(refused)")
    return lower


for _name in _UNIQUE_FAMILY:
    variant("numpy", _name)(_unique_family(_name))
variant("numpy", "intersect1d")(_pair_set("intersect1d", {"assume_unique": False, "return_indices": False}))
variant("numpy", "union1d")(_pair_set("union1d", {}))
variant("numpy", "setdiff1d")(_pair_set("setdiff1d", {"assume_unique": False}))
variant("numpy", "setxor1d")(_pair_set("setxor1d", {"assume_unique": False}))


# -- NumPy's polynomials: poly, polydiv, roots ---------------------------------------------------------------------

def _coefficients(b: Builder, value, fname: str, position) -> Tracer:
    x = tensor(b, value, fname, position)
    if x.ndim > 1:
        raise JacShapeError(f"np.{fname}: Input must be a rank-1 array, got shape {fmt(x.shape)}", position)
    shape = _concrete(x, fname, position)
    return _reshape_to(b, x, (shape[0] if shape else 1,), position)


def _is_constant(b: Builder, x: Tracer) -> bool:
    return b.nodes[x.id].op == "const"


@variant("numpy", "poly")
def _poly(b, args, kwargs, position):
    """np.poly(seq_of_zeros): the coefficients of prod(x - r_i), leading 1, computed as NumPy computes them
    (convolving with [1, -r] one root after the other), so differentiable in the roots; of a square matrix of
    constants its characteristic polynomial (NumPy's own call; complex coefficients refused); of a matrix that is
    an input refused."""
    _jax_refused(b, "poly", position)
    seq = tensor(b, arguments("np.poly", args, kwargs, {"seq_of_zeros": REQUIRED}, position)["seq_of_zeros"],
                 "np.poly", position)
    shape = _concrete(seq, "np.poly", position)
    if seq.ndim == 2 and shape[0] == shape[1] and shape[0] > 0:
        if not _is_constant(b, seq):
            raise JacValueError("np.poly of a matrix that depends on the inputs: its characteristic polynomial needs "
                                "a general matrix's eigenvalues, which jac does not differentiate; np.poly of its "
                                "eigenvalues (a vector) is read", position)
        found = np.poly(_values_for(b, seq, "np.poly", position))
        if np.iscomplexobj(found):
            raise JacValueError("np.poly: the characteristic polynomial has complex coefficients, which jac does not "
                                "have", position)
        return b.const(found.astype(b.dtype), position)
    if seq.ndim != 1:
        raise JacValueError(f"np.poly: input must be 1d or non-empty square 2d array, got shape {fmt(shape)}",
                            position)
    b.check_nodes(6 * shape[0], f"np.poly of {shape[0]:,} roots", position)
    coefficients = b.const(np.ones(1, dtype=b.dtype), position)
    for k in range(shape[0]):
        root = b.apply("getitem", seq, index=(k,), position=position)
        zero = b.const(np.zeros(1, dtype=b.dtype), position)
        cat = FUNCTIONS["cat"]
        coefficients = b.apply("sub", cat(b, [Items([coefficients, zero])], {"axis": 0}, position),
                               b.apply("mul", root, cat(b, [Items([zero, coefficients])], {"axis": 0}, position),
                                       position=position), position=position)
    return coefficients if shape[0] else b.const(1.0, position)


@variant("numpy", "polydiv")
def _polydiv(b, args, kwargs, position):
    """np.polydiv(u, v): (quotient, remainder) by NumPy's long division, differentiable in both; the remainder's
    leading coefficients NumPy drops (allclose to 0, rtol 1e-14) read off the values (of inputs: the graph holds
    for them only)."""
    _jax_refused(b, "polydiv", position)
    a = arguments("np.polydiv", args, kwargs, {"u": REQUIRED, "v": REQUIRED}, position)
    u, v = (_coefficients(b, a[k], "polydiv", position) for k in ("u", "v"))
    m, n = u.shape[0] - 1, v.shape[0] - 1
    b.check_nodes(8 * max(m - n + 1, 1) * (n + 1), "np.polydiv's long division", position)
    scale = b.apply("div", 1.0, b.apply("getitem", v, index=(0,), position=position), position=position)
    r = [b.apply("getitem", u, index=(k,), position=position) for k in range(m + 1)]
    q = [b.const(0.0, position)] * max(m - n + 1, 1)
    vs = [b.apply("getitem", v, index=(j,), position=position) for j in range(n + 1)]
    for k in range(m - n + 1):
        d = b.apply("mul", scale, r[k], position=position)
        q[k] = d
        for j in range(n + 1):
            r[k + j] = b.apply("sub", r[k + j], b.apply("mul", d, vs[j], position=position), position=position)
    stack = FUNCTIONS["stack"]
    remainder = stack(b, [Items(r)], {"axis": 0}, position)
    values = _values_for(b, remainder, "np.polydiv", position)
    first = 0
    while first < len(values) - 1 and np.allclose(values[first], 0, rtol=1e-14):
        first += 1
    return Items([stack(b, [Items(q)], {"axis": 0}, position),
                  _take(b, remainder, (slice(first, None),), position)])


@variant("numpy", "roots")
def _roots(b, args, kwargs, position):
    """np.roots(p): NumPy's own call on the values (the companion matrix's eigenvalues); complex roots refused.
    Of coefficients that are inputs (the graph then holding for these values), each root r carries its derivative
    by implicit differentiation of p(r) = 0: dr/dp_k = -r^(N-1-k) / p'(r); a repeated root (no finite
    derivative) is refused."""
    _jax_refused(b, "roots", position)
    p = _coefficients(b, arguments("np.roots", args, kwargs, {"p": REQUIRED}, position)["p"], "roots", position)
    found = np.roots(_values_for(b, p, "np.roots", position))
    if np.iscomplexobj(found) and np.any(found.imag != 0):
        raise JacValueError(f"np.roots: the polynomial has complex roots ({found[found.imag != 0][0]:.6g}, ...), "
                            "which jac does not have", position)
    found = np.real(found).astype(b.dtype)
    if _is_constant(b, p) or found.size == 0:
        return b.const(found, position)
    gaps = np.where(np.eye(found.size, dtype=bool), np.inf, np.abs(found[:, None] - found[None, :]))
    if np.any(gaps <= 1e-7 * np.maximum(1.0, np.abs(found))[:, None]):
        raise JacValueError("np.roots of coefficients that are inputs with a repeated root: its derivative is "
                            "infinite", position)
    b.check_nodes(8 * found.size * p.shape[0], "np.roots' derivatives", position)
    return FUNCTIONS["stack"](b, [Items(_root(b, p, float(r), position) for r in found)], {"axis": 0}, position)


def _root(b: Builder, p: Tracer, r: float, position) -> Tracer:
    """r itself, with the derivative -dp(r)/dp / p'(r) (p'(r) a constant: the implicit function's derivative)."""
    n = p.shape[0]
    value = b.const(0.0, position)
    for k in range(n):  # Horner: p(r) as a function of the coefficients, r fixed
        value = b.apply("add", b.apply("mul", value, r, position=position),
                        b.apply("getitem", p, index=(k,), position=position), position=position)
    slope = np.polyval(np.polyder(_values_for(b, p, "np.roots", position)), r) if n > 1 else 0.0
    step = b.apply("div", value, -float(slope), position=position)
    return b.apply("add", r, b.apply("sub", step, detached(b, step, position), position=position), position=position)


# -- np.histogram2d / np.histogramdd: np.histogram's bins, one axis per coordinate -----------------------------------

def _dd_bins(b: Builder, bins, count: int, fname: str, position) -> list:
    """Per coordinate: an int (equal bins) or a tuple of edges. ``bins`` is one int for all, one int or one list of
    edges per coordinate, or (np.histogram2d) one list of edges, not two long, for both."""
    given = tuple(static(b, v, "bins", position) for v in bins) if isinstance(bins, Items) else \
        static(b, bins, "bins", position)
    if isinstance(given, (int, float)):
        return [given] * count
    if isinstance(given, tuple) and len(given) == count and all(isinstance(v, (int, float, tuple)) for v in given):
        return list(given)
    if fname == "np.histogram2d" and isinstance(given, tuple) and len(given) not in (1, 2) \
            and all(isinstance(v, (int, float)) for v in given):
        return [given] * count
    raise JacValueError(f"{fname}: bins must be an int, one int per coordinate, or one list of edges per coordinate, "
                        f"got {given!r}", position)


def _dd_edges(b: Builder, column: Tracer, spec, span, fname: str, position) -> Tracer:
    from .functions import _histogram_edges, _is_integer  # noqa: PLC0415 - np.histogram's own, shared
    if isinstance(spec, tuple):
        if len(spec) < 2 or any(p > q for p, q in zip(spec, spec[1:])):
            raise JacValueError(f"{fname}: bin edges must be at least 2 numbers, increasing", position)
        return b.const(np.array(spec, dtype=b.dtype), position)
    if not _is_integer(spec) or spec < 1:
        raise JacValueError(f"{fname}: bins must be positive integers, got {spec!r}", position)
    return _histogram_edges(b, column, int(spec), span, position)


def _in_bins(b: Builder, column: Tracer, edges: Tracer, position) -> Tracer:
    """(m, n): 1 where edges[j] <= value < edges[j + 1] (the last bin closed), NumPy's assignment."""
    n = edges.shape[0] - 1
    values = _reshape_to(b, column, (column.shape[0], 1), position)
    upper = _take(b, edges, (slice(1, None),), position)
    lower = b.apply("ge", values, _take(b, edges, (slice(0, n),), position), position=position)
    below = b.apply("where", b.const(np.arange(n) == n - 1, position), b.apply("le", values, upper, position=position),
                    b.apply("lt", values, upper, position=position), position=position)
    return b.apply("mul", lower, below, position=position)


def _histogramdd_of(b: Builder, columns: list, a: dict, fname: str, position) -> tuple:
    """(counts (n_1, ..., n_D), [edges per coordinate]) as np.histogramdd computes them; density as NumPy divides."""
    from .functions import einsum_of  # noqa: PLC0415
    count = len(columns)
    specs = _dd_bins(b, a["bins"], count, fname, position)
    spans = static(b, a["range"], "range", position)
    if spans is not None and not (isinstance(spans, tuple) and len(spans) == count):
        raise JacValueError(f"{fname}: range must be one (min, max) per coordinate", position)
    spans = [None] * count if spans is None else [tuple(v) if isinstance(v, (tuple, list)) else v for v in spans]
    edges = [_dd_edges(b, c, s, r, fname, position) for c, s, r in zip(columns, specs, spans)]
    masks = [_in_bins(b, c, e, position) for c, e in zip(columns, edges)]
    if a["weights"] is not None:
        w = tensor(b, a["weights"], fname, position)
        if tuple(w.shape) != (columns[0].shape[0],):
            raise JacShapeError(f"{fname}: weights must have one value per sample ({columns[0].shape[0]},), got "
                                f"{fmt(w.shape)}", position)
        masks[0] = b.apply("mul", masks[0], _reshape_to(b, w, (w.shape[0], 1), position), position=position)
    letters = "abcdefghijklmnopqrstuvwxyz"[:count]
    counts = einsum_of(b, ",".join(f"m{c}" for c in letters) + "->" + letters, masks, position)
    if a["density"] is not None and _flag(b, a["density"], "density", fname, position):
        total = b.apply("sum", counts, axes=tuple(range(count)), position=position)
        for k, e in enumerate(edges):
            n = e.shape[0] - 1
            widths = b.apply("sub", _take(b, e, (slice(1, None),), position), _take(b, e, (slice(0, n),), position),
                             position=position)
            counts = b.apply("div", counts, _reshape_to(b, widths, tuple(n if j == k else 1 for j in range(count)),
                                                        position), position=position)
        counts = b.apply("div", counts, total, position=position)
    return counts, edges


@variant("numpy", "histogram2d")
def _histogram2d(b, args, kwargs, position):
    """np.histogram2d(x, y, bins=10, range=None, density=None, weights=None): (H, xedges, yedges), np.histogram's
    bins per coordinate (counts of derivative 0; the edges carry min's and max's, density and weights theirs)."""
    _jax_refused(b, "histogram2d", position)
    a = arguments("np.histogram2d", args, kwargs, {"x": REQUIRED, "y": REQUIRED, "bins": 10, "range": None,
                                                   "density": None, "weights": None}, position)
    x, y = (tensor(b, a[k], "np.histogram2d", position) for k in ("x", "y"))
    if x.ndim != 1 or tuple(x.shape) != tuple(y.shape):
        raise JacShapeError(f"np.histogram2d: x and y must be vectors of one length, got {fmt(x.shape)} and "
                            f"{fmt(y.shape)}", position)
    counts, edges = _histogramdd_of(b, [x, y], a, "np.histogram2d", position)
    return Items([counts, *edges])


def _coordinate_columns(b: Builder, items: Items, position) -> list:
    """np.histogramdd((X, Y, Z)): a list or tuple holds one array of values per coordinate (NumPy's
    ``np.atleast_2d(sample).T``), where an array holds one point per row."""
    columns = [tensor(b, item, "np.histogramdd", position) for item in items]
    shapes = {tuple(c.shape) for c in columns}
    if not 1 <= len(columns) <= 26 or len(shapes) != 1 or len(next(iter(shapes))) != 1:
        raise JacShapeError("np.histogramdd: a list or tuple sample holds one 1-d array of values per coordinate, "
                            "all of one length (1 to 26 of them), got shapes "
                            + ", ".join(fmt(c.shape) for c in columns), position)
    return columns


@variant("numpy", "histogramdd")
def _histogramdd(b, args, kwargs, position):
    """np.histogramdd(sample (N, D), bins=10, range=None, density=None, weights=None): (H, [edges per coordinate]),
    np.histogram's bins per coordinate."""
    _jax_refused(b, "histogramdd", position)
    a = arguments("np.histogramdd", args, kwargs, {"sample": REQUIRED, "bins": 10, "range": None, "density": None,
                                                   "weights": None}, position)
    if isinstance(a["sample"], Items):
        columns = _coordinate_columns(b, a["sample"], position)
    elif isinstance(a["sample"], Tracer) and a["sample"].id in getattr(b.lowering, "held", {}):
        raise JacValueError("np.histogramdd of numbers written as a list: NumPy reads a list as one row of values "
                            "per coordinate and an array as one point per row, and jac holds np.array([...]) of "
                            "the numbers as the same constant; write the points as an array by np.stack(rows, "
                            "axis=1), or bind the sample as an input", position)
    else:
        sample = tensor(b, a["sample"], "np.histogramdd", position)
        if sample.ndim != 2 or not 1 <= _concrete(sample, "np.histogramdd", position)[1] <= 26:
            raise JacShapeError(f"np.histogramdd: sample must be (N, D), D from 1 to 26 here, got "
                                f"{fmt(sample.shape)}", position)
        columns = [b.apply("getitem", sample, index=(slice(None), k), position=position)
                   for k in range(sample.shape[1])]
    counts, edges = _histogramdd_of(b, columns, a, "np.histogramdd", position)
    return Items([counts, Items(edges)])


# -- NumPy's writes into an argument: np.putmask, np.place, np.copyto (statements: lang/parser.put_statement) ------

WRITES = ("putmask", "place", "copyto")


def _float_target(b: Builder, y: Tracer, what: str, position) -> None:
    if y.id in b.typed or y.id in b.booleans:
        raise JacValueError(f"{what}: '{what.split('(')[1].split(',')[0]}' holds integers or booleans, into which "
                            "NumPy casts the values it writes; jac writes into float arrays here", position)


def _mask_of(b: Builder, value, y: Tracer, fname: str, position) -> Tracer:
    from .functions import truth  # noqa: PLC0415
    mask = truth(b, tensor(b, value, fname, position), position)
    if tuple(mask.shape) != tuple(y.shape):
        raise JacShapeError(f"np.{fname}: mask and data must be the same size (NumPy), got {fmt(mask.shape)} and "
                            f"{fmt(y.shape)}", position)
    return mask


def written(b: Builder, fname: str, args: list, kwargs: dict, what: str, position) -> Tracer:
    """What ``np.FNAME(y, ...)`` leaves in ``y`` (args[0] its value), for the parser to rebind ``y`` to.

    putmask(a, mask, values): a.flat[n] = values.flat[n % len(values)] where mask.flat[n]; place(arr, mask, vals):
    the k-th true position gets vals.flat[k % len(vals)] (the mask's values read when the graph is built: of an
    input, the graph holds for them only); copyto(dst, src, casting='same_kind', where=True): dst = src broadcast,
    where ``where`` holds."""
    y = args[0]
    _float_target(b, y, what, position)
    if fname == "copyto":
        a = arguments("np.copyto", args, kwargs, {"dst": REQUIRED, "src": REQUIRED, "casting": "same_kind",
                                                  "where": True}, position)
        if static(b, a["casting"], "casting", position) not in ("no", "equiv", "safe", "same_kind", "unsafe"):
            raise JacValueError("np.copyto: casting must be one of 'no', 'equiv', 'safe', 'same_kind', 'unsafe'",
                                position)
        src = _broadcast_onto(b, tensor(b, a["src"], "copyto", position), y, "copyto", position)
        if a["where"] is True:
            return src
        where = _broadcast_onto(b, _as_mask(b, a["where"], position), y, "copyto", position)
        return b.apply("where", where, src, y, position=position)
    names = {"putmask": ("a", "mask", "values"), "place": ("arr", "mask", "vals")}[fname]
    a = arguments(f"np.{fname}", args, kwargs, {k: REQUIRED for k in names}, position)
    mask = _mask_of(b, a["mask"], y, fname, position)
    values = tensor(b, a[names[2]], fname, position)
    size, count = int(np.prod(y.shape)), int(np.prod(values.shape))
    flat = _reshape_to(b, values, (count,), position)
    if fname == "putmask":
        if count == 0:
            return y
        index = np.arange(size) % count
    else:
        flags = np.asarray(_values_for(b, mask, "np.place", position), dtype=bool).reshape(-1)
        if count == 0:
            if flags.any():
                raise JacValueError("np.place: Cannot insert from an empty array! (NumPy raises)", position)
            return y
        index = np.zeros(size, dtype=np.int64)
        index[flags] = np.arange(int(flags.sum())) % count
    spread = _reshape_to(b, b.apply("getitem", flat, index=(index,), position=position), tuple(y.shape), position)
    return b.apply("where", mask, spread, y, position=position)


def _as_mask(b: Builder, value, position) -> Tracer:
    from .functions import truth  # noqa: PLC0415
    if type(value) is bool:
        return boolean(b, b.const(float(value), position))
    return truth(b, tensor(b, value, "copyto", position), position)


def _broadcast_onto(b: Builder, x: Tracer, y: Tracer, fname: str, position) -> Tracer:
    from ..ir.shapes import broadcast  # noqa: PLC0415
    try:
        if broadcast(tuple(x.shape), tuple(y.shape)) != tuple(y.shape):
            raise ValueError
    except (ValueError, JacShapeError):
        raise JacShapeError(f"np.{fname}: could not broadcast input array from shape {fmt(x.shape)} into shape "
                            f"{fmt(y.shape)} (NumPy raises)", position) from None
    return x if tuple(x.shape) == tuple(y.shape) else b.apply("broadcast_to", x, shape=tuple(y.shape),
                                                              position=position)


def _write_refused(fname: str):
    def lower(b, args, kwargs, position):
        raise JacValueError(f"np.{fname} writes into its first argument and returns None (NumPy): write it as a "
                            f"statement of its own, np.{fname}(y, ...), on a name y, then use y", position)
    lower.__doc__ = (f"np.{fname}(y, ...): a statement of its own, writing into the name y as NumPy writes into "
                     "the array (refused where an input, another name or a view would see the write)")
    return lower


for _name in WRITES:
    variant("numpy", _name)(_write_refused(_name))


# -- np.fromfunction ------------------------------------------------------------------------------------------------

@variant("numpy", "fromfunction")
def _fromfunction(b, args, kwargs, position):
    """np.fromfunction(function, shape, dtype=float, **kwargs): ``function`` (a lambda or def of the text) called
    once with the index arrays np.indices(shape, dtype) and the keywords, its result returned, as NumPy calls it."""
    from .functions import DType as _D, _checked  # noqa: PLC0415
    _jax_refused(b, "fromfunction", position)
    kwargs = dict(kwargs)
    fn = args[0] if args else kwargs.pop("function", None)
    shape_value = args[1] if len(args) > 1 else kwargs.pop("shape", None)
    if fn is None or shape_value is None:
        raise JacValueError("np.fromfunction(function, shape, dtype=float, **kwargs) needs a function and a shape",
                            position)
    dtype = kwargs.pop("dtype", Static(_D("float64", "f")))
    kwargs.pop("like", None)
    if len(args) > 2:
        raise JacValueError("np.fromfunction takes the function and the shape by position; dtype and the "
                            "function's arguments by keyword", position)
    if not (hasattr(fn, "bind") and hasattr(fn, "result")) or b.lowering is None:
        raise JacValueError("np.fromfunction(function, shape): the function must be a lambda or def of the text "
                            "(lambda i, j: i + j)", position)
    shape = _checked(b, static_ints(b, shape_value, "shape", position), "np.fromfunction", position)
    b.check_size((len(shape),) + shape, "np.fromfunction's index arrays", position)
    kind = dtype.value.kind if isinstance(dtype, Static) and isinstance(dtype.value, DType) else None
    if kind not in ("f", "i"):
        raise JacValueError("np.fromfunction: dtype must be a float or an integer dtype here", position)
    grids = np.indices(shape, dtype=float)
    parts = [b.const(g.astype(b.dtype), position) if kind == "f" else _index_const(b, g.astype(np.int64), position)
             for g in grids]
    return b.lowering.call_function(fn, parts, kwargs, position)
