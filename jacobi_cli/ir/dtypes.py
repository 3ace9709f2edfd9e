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
from .ops import OPS

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


def needs_exact(dtype: np.dtype) -> bool:
    """Does an array of ``dtype`` go through :func:`exact_array` before it is held in --dtype? Integers, and
    floats wider than float64 (``np.longdouble``); float64 and float32 are converted to --dtype as asked."""
    return dtype.kind in "iu" or dtype.kind == "f" and dtype.itemsize > 8


def held_in(array: np.ndarray, dtype) -> np.ndarray:
    """``array.astype(dtype, copy=False)`` whatever NumPy error state the caller set: a value past float32's
    range is held as inf, as PyTorch's float32 tensor holds it and as a binding written as text is held (its
    warning is the reports', ``engine/finite.py``), never a ``FloatingPointError`` of the caller's
    ``np.seterr(over="raise")`` (a thread that set it got a traceback where another got the answer) nor
    NumPy's RuntimeWarning pointing into jac's source. Only a float narrowed can overflow: any other cast
    (integers, bools, a float widened) is made as it is, without errstate's ~1 us."""
    if array.dtype.kind != "f" or array.dtype.itemsize <= np.dtype(dtype).itemsize:
        return array.astype(dtype, copy=False)
    with np.errstate(over="ignore"):
        return array.astype(dtype, copy=False)


def c_ordered(array: np.ndarray) -> np.ndarray:
    """``array`` in C order, copied only when it is not (``A.T``, a column ``A[:, 0]``, a batch axis moved first):
    NumPy's loops follow the strides they are given (an ``einsum`` of a strided vector adds in another order), so
    the same values laid out otherwise gave answers a rounding apart; laid out one way, an input gives the same bits
    through the API, the command line and a batch at any axis (session 56, orders39_fuzz seed 5615)."""
    return array if array.flags.c_contiguous else np.ascontiguousarray(array)


def exact_array(flat: np.ndarray, what: str, dtype: np.dtype) -> None:
    """Refuse an integer of a .npy file or an array given to the API (``what``: the file's name quoted, or
    the input's) that ``dtype`` cannot hold exactly (2**53 + 1 in float64, 2**24 + 1 in float32), as a
    binding's integers are refused in every spelling: never rounded. A float wider than float64
    (``np.longdouble``) is refused where float64, jac's widest dtype, does not hold it exactly (0.1 in
    long double): --dtype float32 chooses to round a float64, but nothing chose to round past float64."""
    flat = flat.reshape(-1)
    if flat.dtype.kind == "f":
        if flat.dtype.itemsize > 8:
            _exact_wide_floats(flat, what)
        return
    big = 2 ** (np.finfo(dtype).nmant + 1)
    if not flat.size or (int(flat.max()) <= big and int(flat.min()) >= -big):
        return
    far = np.flatnonzero(np.abs(flat.astype(object)) > big)
    with np.errstate(over="ignore"):
        held = flat[far].astype(dtype)  # every int64 is finite in float32 too (below 2**64)
    lost = far[held.astype(object) != flat[far].astype(object)]  # Python ints: compared exactly
    if lost.size:
        raise JacValueError(f"{what}, element {int(lost[0])} (flat): the {flat.dtype} integer {int(flat[lost[0]])}, "
                            f"which {dtype} cannot hold exactly (beyond 2**{np.finfo(dtype).nmant + 1}): jac holds every "
                            "value in --dtype, so it refuses rather than round")


def _exact_wide_floats(flat: np.ndarray, what: str) -> None:
    with np.errstate(over="ignore"):
        held = flat.astype(np.float64)
    lost = np.flatnonzero((held.astype(flat.dtype) != flat) & ~np.isnan(flat))
    if lost.size:
        k = int(lost[0])
        raise JacValueError(f"{what}, element {k} (flat): the {flat.dtype} value {np.format_float_positional(flat[k])}, "
                            f"which float64 (jac's widest --dtype) cannot hold exactly: jac refuses rather than round "
                            f"it silently; convert the array yourself if rounding is meant (a.astype(np.float64))")


def exact_literal(builder, value: int, what: str, position) -> None:
    """Refuse the Python int ``value`` of a binding (``x=[2**53 + 1]``) if --dtype cannot hold it
    exactly, as :func:`held` refuses an integer array's (``x=np.array([2**53 + 1])``)."""
    if abs(value) <= exact_max(builder.dtype):
        return
    with np.errstate(over="ignore"):
        rounded = builder.dtype(float(value)) if abs(value) < 2**1000 else np.inf
    if not np.isfinite(rounded) or int(rounded) != value:
        raise JacValueError(f"{what} is the integer {value}, which {np.dtype(builder.dtype)} cannot hold exactly "
                            f"(beyond 2**{np.finfo(builder.dtype).nmant + 1}): jac holds every value in --dtype, so it "
                            "refuses rather than round", position)


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


def operand(builder, i: int, value, position=None):
    """A node's value as the libraries see it in a typed fold: its integer array, a Python int, a
    bool array (a mask), or the float as held. A list of Python ints past int64 (``[0, 10**30]``) is
    refused: NumPy makes an object array of it and PyTorch raises."""
    typed = builder.typed.get(i)
    if typed is not None:
        return np.asarray(value).astype(typed[0])
    exact = builder.pyints.get(i)
    if exact is not None:
        if type(exact) in (int, bool):
            return exact
        try:
            return np.asarray(exact, dtype=np.int64)
        except OverflowError:
            big = max(np.ravel(exact).tolist(), key=abs)
            raise JacValueError(f"the integer {big} is out of range for int64 (NumPy makes an array of Python "
                                "objects of it, PyTorch refuses it); jac refuses it", position) from None
    if i in builder.booleans and isinstance(value, np.ndarray):
        return value != 0
    return value


def library_of(builder, ids) -> str | None:
    libraries = {kind[1] for kind in (builder.typed.get(i) or builder.integral.get(i) for i in ids) if kind}
    if "torch" in libraries:
        return "torch"
    return "numpy" if "numpy" in libraries else None


def fold(builder, op, tracers, params, position, float_fold):
    """Fold ``op`` over constants, one of which has an integer or boolean dtype (see the module's
    docstring); ``float_fold()`` is the fold in ``--dtype`` for a result that is a float."""
    ids = [t.id for t in tracers]
    nodes = builder.nodes
    values = [operand(builder, i, nodes[i].value, position) for i in ids]
    library = library_of(builder, ids)
    where = f"{op.title}"
    if library == "torch":
        _torch_refusals(op.name, values, where, position, builder.call)
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


def _torch_refusals(name: str, values: list, where: str, position, call: str | None = None) -> None:
    """What PyTorch raises for integer and boolean tensors where NumPy answers; ``call``, the function
    the user wrote, names a mean that is part of it (torch.var)."""
    bools = [type(v) is bool or (isinstance(v, np.ndarray) and v.dtype.kind == "b") for v in values]
    kinds = {np.asarray(v).dtype.kind for v in values}
    why = ("subtraction with a bool tensor" if name == "sub" and any(bools) else
           f"{name} of a bool tensor" if name in ("neg", "abs") and all(bools) else
           f"{name} of bool tensors" if name in ("floor_divide", "remainder", "fmod") and all(bools) else
           "pow of bool tensors" if name == "pow" and all(isinstance(v, np.ndarray) and v.dtype.kind == "b"
                                                          for v in values) else
           "the mean of an integer tensor (PyTorch asks for a float dtype)" if name == "mean" and kinds <= set("biu")
           else None)
    if why and name == "mean" and call is not None and call.split(".")[-1].strip("()") != "mean":
        raise JacValueError(f"{call} of an integer tensor: jac computes it with a mean, and PyTorch takes the mean "
                            "(and var, std) of floating tensors only; jac refuses it (convert first: x.float() or "
                            "x.double())", position)
    if why:
        words = _TORCH_WORDS.get((name, all(bools))) or _TORCH_WORDS.get((name, None))
        said = f" (\"{words}\")" if words and name != "mean" else ""
        raise JacValueError(f"{where}: PyTorch does not support {why}{said}; jac refuses it", position)


# PyTorch's own words for what _torch_refusals refuses: (op, every operand a bool) -> the message
_TORCH_WORDS = {
    ("sub", True): "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
                   "`logical_xor()` operator instead.",
    ("sub", False): "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert "
                    "a mask, use the `~` or `logical_not()` operator instead.",
    ("neg", None): "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, "
                   "use the `~` or `logical_not()` operator instead.",
    ("abs", None): "\"abs_cpu\" not implemented for 'Bool'", ("pow", None): "\"pow\" not implemented for 'Bool'",
    ("floor_divide", None): "\"div_floor_cpu\" not implemented for 'Bool'",
    ("remainder", None): "\"remainder_cpu\" not implemented for 'Bool'",
    ("fmod", None): "\"fmod_cpu\" not implemented for 'Bool'"}


def torch_operator(builder, name: str, operands: list, position) -> None:
    """An operator written in a PyTorch text (``a - b``, ``-a``, ``a ** b``) of a bool tensor: refused where PyTorch
    raises (``(x > 0) - (x < 0)``, ``x - (x > 0)``, ``-(x > 0)``), whatever the other operand, where NumPy's reading
    (which answers some) would otherwise decide."""
    def is_bool(o) -> bool:
        if type(o) is bool:
            return True
        kind = kind_of(builder, o.id) if hasattr(o, "id") else None
        return kind is not None and kind[0].kind == "b"
    flags = [is_bool(o) for o in operands]
    if not any(flags[i] and hasattr(o, "id") for i, o in enumerate(operands)):
        return
    values = [o if type(o) is bool else np.zeros(1, bool) if f else np.zeros(1) for o, f in zip(operands, flags)]
    _torch_refusals(name, values, OPS[name].title, position)


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


# --- integers computed from inputs ------------------------------------------------------------------------
#
# A node an input reaches is computed in --dtype, as every node is; where the libraries' dtype of its
# result is an integer or bool (``x.long()``, ``(x > 0).sum()``, ``torch.argsort(x)``, ``x.long() // 2``),
# :attr:`Builder.integral` remembers it (node id -> (NumPy dtype, library)), found by running the op
# itself on stand-ins of its arguments' dtypes (:func:`_inferred`, the promotion of :func:`fold`), and an
# ``integer`` node (``ops.integer``) follows the op where the float computation could differ from the
# integer one: it makes a zero +0, wraps a value out of the dtype's range, and refuses what --dtype cannot
# keep exact (2**53 and beyond, a partial sum there too), NaN and inf (an integer division by zero), and a
# value that is no integer. Its derivative is 0: PyTorch's integer tensors carry none.

# ops whose result is an integer index (int64 in both libraries) whatever their arguments
INDEX_OPS = frozenset(("argmax", "argmin", "argsort", "argmedian", "argquantile", "argmode", "searchsorted",
                       "digitize", "argcum", "argpartition", "lexsort"))
# ops that move or select values without arithmetic: an integer result needs no check
_MOVING = frozenset(("getitem", "reshape", "transpose", "broadcast_to", "expand", "detach", "take_along", "where",
                     "max", "min", "maximum", "minimum", "clip", "integer"))
# sums whose partial sums may reach 2**53 where their result does not: bounded by the op on the magnitudes
_SUMMING = frozenset(("sum", "sum_to", "matmul", "einsum", "trace"))
_PRODUCTS = frozenset(("matmul", "einsum"))  # their dtype is the operands' (not run on stand-ins: the work)
_MASKS = frozenset(("gt", "ge", "lt", "le", "eq", "ne", "isnan", "isinf", "isfinite", "signbit"))


def kind_of(builder, i: int):
    """``(dtype, library)`` of node ``i`` when it holds integers or booleans, else None (a float)."""
    found = builder.typed.get(i) or builder.integral.get(i)
    if found is None and i in builder.booleans:
        return (np.dtype(bool), None)
    return found


def track(builder, out, position):
    """``out``, a node just appended (not folded), or the ``integer`` node that follows it when the
    libraries' result is an integer (see above); remembered in ``builder.integral``."""
    node = builder.nodes[out.id]
    if node.op in INDEX_OPS:
        builder.integral[out.id] = (np.dtype(np.int64), builder.library if builder.library in ("torch", "numpy")
                                    else None)
        return out
    if node.op in _MASKS:
        return out
    kinds = [kind_of(builder, i) for i in node.args]
    if all(k is None for k in kinds) or (OPS[node.op].elementwise and _meets_a_float(builder, node, kinds)):
        return out
    found = _inferred(builder, node, kinds, position)
    if found is None:
        return out
    dtype, library = found
    if node.op in _MOVING or (dtype.kind == "b" and node.op in ("mul", "maximum", "minimum")) \
            or (dtype.kind != "b" and _of_masks(builder, node, kinds)):
        builder.integral[out.id] = found
        if dtype.kind == "b":  # a mask moved ((x > 0).T, m[0], m.reshape(-1)) is a mask: m + m is m | m
            builder.booleans.add(out.id)
        return out
    bound = node.op in _SUMMING and any(k is not None and k[0].kind != "b" for k in kinds)  # a mask's sum: itself
    return checked(builder, out, dtype, library, position, bound=bound)


# sums and products of masks (0 or +1) and small non-negative integers: non-negative integers, never -0, far
# below 2**53, so no check (and jac diff, which has no translation of the check, still reads (x > 0).sum())
_OF_MASKS = frozenset(("sum", "sum_to", "cumsum", "matmul", "einsum", "trace", "mul", "add", "maximum", "minimum"))


def _of_masks(builder, node, kinds) -> bool:
    if node.op not in _OF_MASKS:
        return False
    for i, k in zip(node.args, kinds):
        small = builder.pyints.get(i)
        if not ((k is not None and k[0].kind == "b") or (type(small) is int and 0 <= small <= 2**20)):
            return False
    return True


def _meets_a_float(builder, node, kinds) -> bool:
    """An element-wise op of a float (not a Python int, not where's condition): a float in both libraries."""
    pyints = builder.pyints
    return any(k is None and i not in pyints for j, (i, k) in enumerate(zip(node.args, kinds))
               if j or node.op != "where")


def checked(builder, out, dtype, library, position, cast: bool = False, bound: bool = False, what: str = ""):
    """The ``integer`` node of ``out`` as ``dtype`` (``cast``: from a float, truncated), remembered;
    ``what`` names it in a refusal."""
    node = builder.nodes[out.id]
    args = (out.id,)
    if bound and dtype.kind != "b":  # the op on the magnitudes of its integer arguments
        magnitudes = tuple(builder._append("abs", (i,), {}, builder.nodes[i].shape, None, position).id
                           if kind_of(builder, i) is not None else i for i in node.args)
        args += (builder._append(node.op, magnitudes, node.params, node.shape, None, position).id,)
    what = what or (f"the cast to {dtype}" if cast else f"the {dtype} result of {OPS[node.op].title}")
    made = builder._append("integer", args, {"dtype": dtype.name, "cast": cast, "what": what}, node.shape, None,
                           position)
    builder.integral[made.id] = (np.dtype(dtype), library)
    if dtype.kind == "b":
        builder.booleans.add(made.id)
    return made


def _stand_in(builder, i: int, kind, elementwise: bool):
    """Node ``i``'s value as a typed fold sees it, or for a node an input reaches zeros of its
    dtype (a broadcast view: no memory), of its shape or, for an element-wise op, its rank."""
    node = builder.nodes[i]
    if node.op == "const":
        return operand(builder, i, node.value)
    dtype = kind[0] if kind is not None else np.dtype(builder.dtype)
    if elementwise:
        return np.zeros((1,) * len(node.shape), dtype)
    shape = tuple(d if isinstance(d, int) else 2 for d in node.shape)  # a symbolic size (jac shape)
    return np.ndarray(shape, dtype, np.zeros(1, dtype), strides=(0,) * len(shape))  # no memory


def _inferred(builder, node, kinds, position):
    """``(dtype, library)`` of the libraries' result of ``node`` if it is an integer or bool, else None:
    the op run on stand-ins with :func:`fold`'s promotion and PyTorch's refusals."""
    op = OPS[node.op]
    values = [_stand_in(builder, i, k, op.elementwise) for i, k in zip(node.args, kinds)]
    library = library_of(builder, node.args)
    where = op.title
    if library == "torch" or (op.name == "pow" and builder.library == "torch"):  # torch.pow(m1, m2) of masks
        _torch_refusals(op.name, values, where, position, builder.call)
    if op.name in _ARITHMETIC:
        promoted = _promoted(values, library, where, position)
        wrapped = [v for v, w in zip(values, promoted) if w is not v and op.name not in ("add", "sub", "mul")
                   and np.any(np.asarray(v) != np.asarray(w))]  # + - * wrap alike before or after
        if wrapped:  # PyTorch wraps it into the dtype first: jac's node computes with the number as written
            raise JacValueError(f"{where}: the integer {wrapped[0]} is out of range for the "
                                f"{np.result_type(*[w for w in promoted if isinstance(w, np.ndarray)])} tensor it "
                                "meets, which PyTorch wraps it into first; jac refuses it for integers computed from "
                                "the inputs (write the wrapped value)", position)
        values = promoted
    if op.name in _PRODUCTS:
        dtype = np.result_type(*[np.asarray(v).dtype for v in values])
    else:
        try:
            with np.errstate(all="ignore"):
                dtype = np.asarray(op.impl(*values, **node.params)).dtype
        except np.linalg.LinAlgError:  # zeros refused (a singular matrix): the op computes floats
            return None
        except (OverflowError, TypeError, ValueError) as err:  # of the dtypes: -mask, int ** -1
            if builder.shapes_only:  # jac shape: stand-ins of symbolic sizes may not fit the params
                return None
            raise JacValueError(f"{where}: {err} (as NumPy and PyTorch refuse it for these integer or boolean "
                                "arrays)", position) from None
        except Exception:  # noqa: BLE001 - an op that refuses zeros (a JacError of a singular matrix): floats
            return None
    if dtype.kind not in "biu":
        return None
    if library == "torch" and dtype.kind == "u" and dtype.itemsize > 1:
        dtype = np.dtype(np.int64)
    return dtype, library


# --- float32 values under --dtype float64 (session 47) ----------------------------------------------------------
#
# jac computes every float in --dtype. Under float64, a text may make a value its library holds in float32
# (``np.arange(3, dtype=np.float32)``, ``x.long().float()``, ``torch.ones(2, dtype=torch.float32)``): the cast itself
# is warned of where it changes values (lang/functions.note_recast), but an exact cast is silent, and the library
# then computes what follows in float32 too (``/ 10``: 0.1 -> 0.100000001). :attr:`Builder.narrow` remembers the nodes
# the library holds in float32 (node id -> (library, warned): ``warned`` when a cast or op before it was warned of
# already), each op of one marks its result by the library's promotion (:func:`float32_result`), and the first op
# whose float64 values float32 does not hold is warned of: at once for a constant (``Builder.recast``), at the given
# values for a node an input reaches (``Builder.checks``: the report reads the node's values, tools/report.py).

_NOT_FLOATS = _MASKS | INDEX_OPS | {"integer"}


def narrowed(builder, name: str, i: int, args, position) -> None:
    """Mark node ``i`` (just made by the op ``name`` from the nodes ``args``, or folded: a constant) as float32 where
    its library computes it in float32 from a float32 argument, and remember the first such op whose values float32
    does not hold (see above)."""
    narrow = builder.narrow
    marks = [narrow.get(a) for a in args]
    if not any(marks) or i in builder.integral or i in builder.booleans or i in builder.typed:
        return
    if name in _NOT_FLOATS:
        return
    libraries = {m[0] for m in marks if m}
    library = "torch" if "torch" in libraries else "numpy" if "numpy" in libraries else (
        builder.library if builder.library in ("torch", "numpy") else None)
    if not float32_result(builder, args, marks, library, OPS[name].elementwise):
        return
    warned = any(m[1] for m in marks if m)
    node = builder.nodes[i]
    if not warned and node.op == "const":
        if not holds_float32(node.value):
            builder.recast += ((position, "float32", None),)  # an op, known here (None: no values to read)
            warned = True
    elif not warned:
        if not builder.checks:
            builder.checks = []
        builder.checks.append((position, "float32", i))
    narrow[i] = (library, warned)


def holds_float32(value) -> bool:
    """Does float32 hold the float ``value`` (an array or a number) exactly (NaN as NaN)?"""
    value = np.asarray(value)
    if value.dtype.kind != "f" or value.dtype.itemsize <= 4:
        return True
    with np.errstate(over="ignore"):
        return bool(np.array_equal(value.astype(np.float32), value, equal_nan=True))


def float32_result(builder, args, marks, library, elementwise: bool) -> bool:
    """Is the library's result of an op of ``args`` (``marks``: each one's :attr:`Builder.narrow` entry or None)
    float32? NumPy 2 (NEP 50): a Python number is weak, any array or NumPy scalar strong, and float32 meets only
    float32, bools and integers of at most 16 bits without becoming float64. PyTorch: floats beat integers whatever
    their dtype, and among floats a dimensioned tensor beats a 0-d one, which beats a Python number. A bare
    spelling (``library`` None): float32 where either library computes it so. Integer arguments of an op that is
    not element-wise (an index, a count) do not promote its values."""
    nodes, pyints = builder.nodes, builder.pyints
    numpy32, dimensioned, zero_d = True, [], []
    for a, mark in zip(args, marks):
        node = nodes[a]
        if mark is None and (a in pyints or node.op == "const" and type(node.value) is float):
            continue  # a Python number: weak in both libraries
        kind = None if mark else kind_of(builder, a)
        if kind is not None:
            if elementwise and kind[0].itemsize > 2 and kind[0].kind != "b":
                numpy32 = False  # float32 with int32 or int64: float64 in NumPy
            continue
        (dimensioned if len(node.shape) else zero_d).append(mark is not None)
        numpy32 = numpy32 and mark is not None
    floats = dimensioned or zero_d
    torch32 = bool(floats) and all(floats)
    return torch32 if library == "torch" else numpy32 if library == "numpy" else torch32 or numpy32
