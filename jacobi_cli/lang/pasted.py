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
from ..ir.graph import Builder, Tracer
from ..ir.shapes import fmt
from .functions import DTYPES, REQUIRED, DType, Items, Static, _dtype_of, arguments, boolean, static, variant

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
        first, second = (_numpy_dtype(b, _dtype_argument(b, a[k], fname, position), position) for k in ("type1", "type2"))
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
        source, target = (_numpy_dtype(b, _dtype_argument(b, a[k], fname, position), position) for k in ("from_", "to"))
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
    number (iter() raises for both)."""
    _jax_refused(b, "iterable", position)
    y = arguments("np.iterable", args, kwargs, {"y": REQUIRED}, position)["y"]
    found = isinstance(y, Items) or type(y) is Tracer and y.ndim > 0 or isinstance(y, Static) and \
        isinstance(y.value, str)
    return _answer(b, found, position)


def same_dtype(b: Builder, equal: bool, left: Static, right: Static, position) -> Tracer:
    """``x.dtype == torch.float32`` (or ``!=``, ``is``): the NumPy dtypes both name are the same."""
    same = _numpy_dtype(b, left.value, position) == _numpy_dtype(b, right.value, position)
    return _answer(b, same == equal, position)
