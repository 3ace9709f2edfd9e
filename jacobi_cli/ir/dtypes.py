"""Constants of integer and boolean dtype, folded as NumPy or PyTorch compute them.

jac evaluates everything that depends on an input in one float dtype (``--dtype``). A constant
(a node no input reaches) keeps the dtype its library gives it: ``torch.arange(3)`` and
``np.array([1, 2])`` are int64, ``torch.zeros(3, dtype=torch.uint8)`` is uint8, ``np.int8(100)``
int8. Its value is held in ``--dtype`` as every node's (the engine sees floats only), and
:attr:`Builder.typed` remembers its dtype and library: ``{node id: (numpy dtype, library)}``.
A fold (:func:`fold`) of such constants computes with the real integers, so overflow wraps,
``//`` and ``%`` floor, ``0 * -1`` is ``0`` (never ``-0``) as in the libraries, and a result
that ``--dtype`` cannot hold exactly (``2**60 + 1``) is refused rather than rounded. A float
result is computed as before, in ``--dtype`` (jac computes floats in one dtype).

Integer literals of the expression (``2``, ``-1``) are Python ints (``Builder.pyints``): weak
scalars that take the array's dtype (NEP 50; PyTorch's wrapped numbers). Where the libraries
differ, ``library`` decides: ``"torch"`` (a 0-d tensor is weak beside a dimensioned tensor of its
category; a Python int out of the dtype's range wraps; unsigned sums are int64), ``"numpy"``
(NumPy 2: a Python int out of range is an error), ``None`` (a bare spelling: refused where the
two differ).
"""

from __future__ import annotations

import numpy as np

from ..errors import JacValueError

# the names of integer and boolean dtypes as expressions write them: the NumPy dtype each library means
INTEGER_DTYPES = {"int8": "int8", "int16": "int16", "int32": "int32", "int64": "int64", "uint8": "uint8",
                  "uint16": "uint16", "uint32": "uint32", "uint64": "uint64", "long": "int64", "short": "int16",
                  "intp": "int64", "int_": "int64", "bool": "bool", "bool_": "bool"}
_INT_BY_LIBRARY = {"torch": "int32", None: "int64", "numpy": "int64"}  # torch.int is int32; int and np.int_ int64

# ops whose integer fold may differ between the libraries by the kind of their arguments
_ARITHMETIC = frozenset(("add", "sub", "mul", "div", "floor_divide", "remainder", "pow", "maximum", "minimum",
                         "fmod"))
_DIVIDING = frozenset(("floor_divide", "remainder", "fmod"))


def integer_dtype(name: str, library: str | None) -> np.dtype:
    """The NumPy dtype of an integer or boolean dtype named ``name`` in ``library``'s spelling."""
    if name == "int":
        return np.dtype(_INT_BY_LIBRARY.get(library, "int64"))
    return np.dtype(INTEGER_DTYPES[name])


def exact_max(dtype) -> int:
    """The largest integer below which every integer is exact in the float ``dtype``."""
    return 2 ** (np.finfo(dtype).nmant + 1)


def held(builder, value: np.ndarray, what: str, position):
    """``value`` (of an integer or boolean dtype) as ``--dtype`` holds it, refused where it is not exact."""
    if value.dtype.kind in "iu" and value.size:
        big = exact_max(builder.dtype)
        if int(value.max()) > big or int(value.min()) < -big:
            flat = value.ravel()
            far = flat[(flat > big) | (flat < -big)]
            lost = [int(v) for v in far if int(builder.dtype(v)) != int(v)] if len(far) < 10**5 else [int(far[0])]
            if lost:
                raise JacValueError(f"{what} is the {value.dtype} integer {lost[0]}, which {np.dtype(builder.dtype)} "
                                    f"cannot hold exactly (beyond 2**{np.finfo(builder.dtype).nmant + 1}): jac holds "
                                    "every value in --dtype, so it refuses rather than round", position)
    return value.astype(builder.dtype)


def cast(builder, value, dtype: np.dtype, what: str, position) -> np.ndarray:
    """A constant's float ``value`` cast to the integer or boolean ``dtype`` as NumPy and PyTorch
    cast it: truncated toward 0; a value out of the dtype's range (or NaN, inf) is refused (both
    libraries leave it undefined)."""
    value = np.asarray(value)
    if dtype.kind == "b":
        return value != 0
    if value.dtype.kind in "iub":
        return value.astype(dtype)  # integer to integer wraps, in both libraries
    info = np.iinfo(dtype)
    with np.errstate(all="ignore"):
        t = np.trunc(value)
    outside = ~np.isfinite(t) | (t < info.min) | (t >= float(info.max) + 1)  # 2.0**63 is no int64
    if np.any(outside):
        raise JacValueError(f"{what}: casting {_some(value, outside)} "
                            f"to {dtype} is undefined in NumPy and PyTorch (outside [{info.min}, {info.max}] or not "
                            "finite); jac refuses it", position)
    return t.astype(dtype)


def _some(value, bad) -> str:
    found = value[bad] if value.ndim else value
    return repr(float(np.ravel(found)[0]))


def operand(builder, i: int, value):
    """A node's value as the libraries see it in a typed fold: its integer array, a Python int, a
    bool array (a mask), or the float as held."""
    typed = builder.typed.get(i)
    if typed is not None:
        return np.asarray(value).astype(typed[0])
    exact = builder.pyints.get(i)
    if exact is not None:
        return exact if type(exact) in (int, bool) else np.asarray(exact, dtype=np.int64)
    if i in builder.booleans and isinstance(value, np.ndarray):
        return value != 0
    return value


def library_of(builder, ids) -> str | None:
    libraries = {builder.typed[i][1] for i in ids if i in builder.typed}
    if "torch" in libraries:
        return "torch"
    return "numpy" if "numpy" in libraries else None


def fold(builder, op, tracers, params, position, float_fold):
    """Fold ``op`` over constants, one of which has an integer or boolean dtype (see the module's
    docstring); ``float_fold()`` is the fold in ``--dtype`` for a result that is a float."""
    ids = [t.id for t in tracers]
    nodes = builder.nodes
    values = [operand(builder, i, nodes[i].value) for i in ids]
    library = library_of(builder, ids)
    where = f"{op.title}"
    if library == "torch":
        _torch_refusals(op.name, values, where, position)
    if op.name in _ARITHMETIC:
        values = _promoted(values, library, where, position)
        if op.name in _DIVIDING and _integers(values) and any(_has_zero(v) for v in values[1:]):
            raise JacValueError(f"{where}: integer division by zero (NumPy gives 0 with a warning, PyTorch raises); "
                                "jac refuses it", position)
    try:
        with np.errstate(all="ignore"):
            result = op.impl(*values, **params)
    except (OverflowError, TypeError, ValueError) as err:
        raise JacValueError(f"{where}: {err} (as NumPy and PyTorch refuse it for these integer or boolean "
                            "constants)", position) from None
    result = np.asarray(result)
    if result.dtype.kind not in "biu":
        return float_fold()
    if library == "torch" and result.dtype.kind == "u" and result.dtype.itemsize > 1:
        result = result.astype(np.int64)  # PyTorch's sums and products of uint8 are int64
    out = builder.const(held(builder, result, f"the result of {where}", position), position)
    builder.typed[out.id] = (result.dtype, library)
    if result.dtype.kind == "b":
        builder.booleans.add(out.id)
    return out


def _torch_refusals(name: str, values: list, where: str, position) -> None:
    """What PyTorch raises for integer and boolean tensors where NumPy answers."""
    bools = [type(v) is bool or (isinstance(v, np.ndarray) and v.dtype.kind == "b") for v in values]
    kinds = {np.asarray(v).dtype.kind for v in values}
    why = ("subtraction with a bool tensor" if name == "sub" and any(bools) else
           f"{name} of a bool tensor" if name in ("neg", "abs") and all(bools) else
           f"{name} of bool tensors" if name in ("floor_divide", "remainder", "fmod") and all(bools) else
           "pow of bool tensors" if name == "pow" and all(isinstance(v, np.ndarray) and v.dtype.kind == "b"
                                                          for v in values) else
           "the mean of an integer tensor (PyTorch asks for a float dtype)" if name == "mean" and kinds <= set("biu")
           else None)
    if why:
        raise JacValueError(f"{where}: PyTorch does not support {why}; jac refuses it", position)


def _integers(values) -> bool:
    return all(type(v) in (int, bool) or (isinstance(v, np.ndarray) and v.dtype.kind in "iub") for v in values)


def _has_zero(v) -> bool:
    return bool(np.any(np.asarray(v) == 0))


def _promoted(values: list, library, where, position) -> list:
    """The operands of an element-wise arithmetic op made as PyTorch promotes them where NumPy 2
    would differ: a 0-d integer tensor beside a dimensioned integer tensor is weak (takes its
    dtype), and a Python int takes the tensor's dtype, wrapping. For NumPy, a Python int out of
    range is NumPy's error; for a bare spelling, both differences are refused."""
    arrays = [v for v in values if isinstance(v, np.ndarray)]
    ints = [v for v in arrays if v.dtype.kind in "iu"]
    if not ints:
        return values
    dimensioned = [v for v in ints if v.ndim]
    strong = dimensioned or ints
    target = np.result_type(*strong)
    weak_arrays = [v for v in ints if v.ndim == 0 and dimensioned and v.dtype != target
                   and np.result_type(target, v.dtype) != target]
    out_of_range = [v for v in values if type(v) is int and not _fits(v, target)]
    if not weak_arrays and not out_of_range:
        return values
    if library != "torch":
        what = (f"the Python integer {out_of_range[0]} is out of range for {target}" if out_of_range else
                f"a 0-d {weak_arrays[0].dtype} array beside a {target} array")
        if library == "numpy" and out_of_range:
            raise JacValueError(f"{where}: {what} (NumPy 2 raises OverflowError); jac refuses it", position)
        if library == "numpy":
            return values  # NumPy 2: a 0-d array promotes as any array
        raise JacValueError(f"{where}: {what}: PyTorch and NumPy compute this differently (PyTorch wraps into the "
                            f"tensor's dtype, NumPy promotes or raises); spell the constants as torch.* or np.* to "
                            "choose", position)
    return [np.asarray(v).astype(target) if (type(v) is int and not _fits(v, target))
            or any(v is w for w in weak_arrays) else v for v in values]


def _fits(v: int, dtype) -> bool:
    info = np.iinfo(dtype)
    return info.min <= v <= info.max
