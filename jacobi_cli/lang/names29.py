"""The last PyTorch / NumPy / JAX names users paste that jac refused by name (session 29), registered in
``functions``' table when ``lang`` is imported. Each is read as its library computes it, lowered onto the functions
and ops jac has (no op of its own, so the derivatives are those ops' rules), or refused saying why and what to
write instead.

- ``jax.lax.cummax`` / ``cummin`` (``axis``, ``reverse``): JAX differentiates them as its associative scan of max /
  min, so they are :mod:`.scans`' max / min scan: the running extreme, refused at evaluation where equal elements
  (or NaN) meet (JAX splits the cotangent there, 0.5, 0.25, ...).
- ``jax.lax.approx_max_k`` / ``approx_min_k``: exact on CPU, as ``lax.top_k`` (the k largest in decreasing order,
  or the k smallest in increasing order; equal elements the lower index first); NaN refused at evaluation (JAX's
  CPU answer with a NaN leaves out numbers that belong), ``aggregate_to_topk=False`` refused.
- ``jax.lax.reduce_xor`` (masks: the parity of the count; integer constants: at build time in their dtype),
  ``broadcast_like`` (``jnp.broadcast_to`` to the other's shape), ``ragged_dot`` (constant group sizes: each
  group's rows times its matrix, the rows past the groups 0).
- ``np`` / ``jnp``: ``iscomplex`` (all False: jac's arrays are real), ``isdtype`` / ``issubdtype`` of the dtypes
  jac holds (answered at build time, as :mod:`.pasted` answers PyTorch's type questions), ``require`` (NumPy's
  ``asarray`` with a dtype: the requirements are about memory), ``fromiter`` (of a list, tuple or range written in
  the text); ``torch.is_complex`` / ``is_conj`` / ``is_neg`` (False); ``F.linear_cross_entropy`` (its reference
  implementation, ``F.cross_entropy(F.linear(input, W, b), target, ...)``, for a 2-d weight);
  ``F.fractional_max_pool2d`` / ``3d`` with ``_random_samples=`` given (PyTorch's CPU kernel's regions; without
  the samples refused: PyTorch draws them).
- Refused saying why (``REFUSED``): complex numbers beyond those :mod:`.fourier` reads (a transform's result,
  ``torch.complex``, ``torch.polar``), ``lax.fft``, matrices of ``np.matrix``
  (``*`` is a matrix product there), a contraction order (``einsum_path``), float8 products, Householder forms,
  randomized / iterative eigen-solvers (``custom_root`` is read since session 30: :mod:`.implicit`).
"""

from __future__ import annotations

import numpy as np

from ..errors import JacNameError
from ..ir.graph import Tracer
from ..ir.refusals import refused
from .functions import FUNCTIONS, REQUIRED, DType, Items, JacValueError, Static, arguments, boolean, is_boolean, \
    _index_const, library_function, static, static_int, static_ints, tensor, variant
from .pasted import _answer, _dtype_of, _numpy_dtype

# -- refused, saying why ----------------------------------------------------------------------------------------

_REAL = "jac's arrays are real (float64 or float32) and it has no complex dtype, so {}"

# (library, name) -> why, and what to write
REFUSED = {
    **{("jax.lax", n): _REAL.format(why) for n, why in (
        ("complex", "no complex array can be made: keep the real and imaginary parts as two real arrays"),
        ("real", "there is no complex operand to take the real part of (JAX raises TypeError for a real one): a "
                 "real array is its own real part"),
        ("imag", "there is no complex operand to take the imaginary part of (JAX raises TypeError for a real "
                 "one): a real array's imaginary part is jnp.zeros_like(x)"),
        ("conj", "there is no complex operand to conjugate: a real array is its own conjugate"),
        ("fft", "lax.fft's complex operand cannot be made here: jac reads Fourier transforms of real signals as "
                "jnp.fft.fft / rfft / ifft / irfft (their results held as pairs of real arrays)"))},
    ("jax.lax", "bitcast_convert_type"): "jac's arrays hold numbers, not bits, so it cannot reinterpret a float's bits "
                                         "as another dtype (nor make the complex dtypes it has not): write the "
                                         "computation on the numbers",
    ("numpy", "sort_complex"): _REAL.format("no complex result: NumPy's sort_complex returns a complex array even "
                                            "for a real one; np.sort(x) sorts a real array"),
    ("numpy", "asmatrix"): "jac does not make np.matrix objects: their * is a matrix product and their reductions "
                           "keep two axes, so the same text computes other numbers; write np.asarray(x) and "
                           "x @ y for the matrix product",
    ("numpy", "bmat"): "jac does not make np.matrix objects: their * is a matrix product; write np.block([[A, B], "
                       "[C, D]]), the same entries as an array",
    ("numpy", "einsum_path"): "it returns a contraction order and a report (no array); jac computes np.einsum "
                              "itself and reads its optimize= (True, False, 'greedy', 'optimal'), which changes no "
                              "value: write np.einsum(subscripts, *operands, optimize=True)",
    **{("torch", n): _REAL.format(why) for n, why in (
        ("view_as_real", "there is no complex tensor to view (PyTorch raises for a real one); the real parts "
                         "are the tensor itself"),
        ("view_as_real_copy", "there is no complex tensor to view (PyTorch raises for a real one)"),
        ("view_as_complex_copy", "no complex tensor can be made: keep the real and imaginary parts as x[..., 0] "
                                 "and x[..., 1]"),
        ("imag", "there is no complex tensor to take the imaginary part of (PyTorch raises for a real one): a "
                 "real tensor's imaginary part is torch.zeros_like(x)"))},
    **{("torch", n): "it is a product of float8 (or mixed-precision) matrices with scales, on GPUs; jac computes "
                     "in float64 or float32: write torch.matmul of the scaled operands (a * scale_a) @ (b * "
                     "scale_b)" for n in ("scaled_mm", "scaled_grouped_mm", "grouped_mm")},
    ("torch", "geqrf"): "it returns the QR factorization in LAPACK's Householder form (reflectors below the "
                        "diagonal and their tau), whose derivative PyTorch does not define: write "
                        "Q, R = torch.linalg.qr(A)",
    ("torch", "ormqr"): "it multiplies by Q of LAPACK's Householder form (geqrf's output), which jac does not "
                        "make: write Q, R = torch.linalg.qr(A) and Q @ C",
    ("torch", "lobpcg"): "it is an iterative eigen-solver started from random vectors, so its value depends on "
                         "them and on its iterations: write torch.linalg.eigh(A), whose k largest are "
                         "L[-k:] and V[:, -k:]",
    ("torch", "pca_lowrank"): "it is a randomized algorithm (PyTorch's random numbers): write U, S, Vh = "
                              "torch.linalg.svd(A - A.mean(0), full_matrices=False) and take the first q",
    ("torch", "svd_lowrank"): "it is a randomized algorithm (PyTorch's random numbers): write U, S, Vh = "
                              "torch.linalg.svd(A, full_matrices=False) and take the first q",
    ("torch", "histogramdd"): "PyTorch has no derivative for it, and its counts are read off the values: write "
                              "torch.histc(x, bins, min, max) per axis, or the counts as a comparison: "
                              "((x >= lo) & (x < hi)).sum()",
}
_CALLED = {"jax.lax": "jax.lax", "numpy": "np", "torch": "torch"}


def _refusal(library: str, fname: str, why: str):
    def lower(b, args, kwargs, position):
        raise JacNameError(f"{b.call or _CALLED[library] + '.' + fname}: {why}", position)
    lower.__doc__ = f"refused: {why}"
    return lower


for (_library, _name), _why in REFUSED.items():
    variant(_library, _name)(_refusal(_library, _name, _why))


# -- jax.lax --------------------------------------------------------------------------------------------------

def _lax_extreme_scan(fname: str, kind: str):
    def lower(b, args, kwargs, position):
        from .scans import _scanned

        a = arguments(fname, args, kwargs, {"x": REQUIRED, "axis": 0, "reverse": False}, position)
        x = tensor(b, a["x"], f"jax.lax.{fname}", position)
        if x.ndim == 0:
            raise JacValueError(f"jax.lax.{fname}: the operand is a scalar; it needs an axis to scan along, as JAX",
                                position)
        axis = static_int(b, a["axis"], f"jax.lax.{fname}'s axis", position)
        if not 0 <= axis < x.ndim:
            raise JacValueError(f"jax.lax.{fname}: axis {axis} is not an axis of an operand of {x.ndim} axes (JAX "
                                f"raises ValueError for a negative one: XLA operations take nonnegative axes)",
                                position)
        flip = tuple(slice(None, None, -1) if i == axis else slice(None) for i in range(x.ndim))
        reverse = bool(static(b, a["reverse"], "reverse", position))
        if reverse:  # JAX: the scan of the reversed operand, reversed
            x = b.apply("getitem", x, index=flip, position=position)
        out = _scanned(b, x, kind, axis, position, spelling=f"jax.lax.{fname}")
        return b.apply("getitem", out, index=flip, position=position) if reverse else out
    lower.__doc__ = (f"jax.lax.{fname}(operand, axis=0, reverse=False): the running {kind}imum along axis, "
                     f"differentiated as JAX does (its associative scan of {kind}); equal elements or NaN along the "
                     f"axis refused at evaluation (JAX splits the cotangent between them)")
    return lower


variant("jax.lax", "cummax")(_lax_extreme_scan("cummax", "max"))
variant("jax.lax", "cummin")(_lax_extreme_scan("cummin", "min"))

_APPROX_NAN = ("jax.lax.{} of an array holding NaN: JAX's CPU answer then leaves out numbers that belong among the "
               "k (it is no top_k), which jac does not reproduce; remove the NaN first (jnp.nan_to_num)")


def _approx_k(fname: str, largest: bool):
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "k": REQUIRED, "reduction_dimension": -1,
                                            "recall_target": 0.95, "reduction_input_size_override": -1,
                                            "aggregate_to_topk": True}, position)
        x = tensor(b, a["x"], f"jax.lax.{fname}", position)
        if x.ndim == 0:
            raise JacValueError(f"jax.lax.{fname} needs an array with at least one axis", position)
        axis = static_int(b, a["reduction_dimension"], "reduction_dimension", position)
        if not -x.ndim <= axis < x.ndim:
            raise JacValueError(f"jax.lax.{fname}: reduction_dimension {axis} is out of range for {x.ndim} axes",
                                position)
        axis %= x.ndim
        k = static_int(b, a["k"], "k", position)
        if not 0 < k <= x.shape[axis]:
            raise JacValueError(f"jax.lax.{fname}: k = {k} must be in 1..{x.shape[axis]} (the reduction "
                                f"dimension's size)", position)
        if not static(b, a["aggregate_to_topk"], "aggregate_to_topk", position):
            raise JacValueError(f"jax.lax.{fname}(..., aggregate_to_topk=False): JAX's CPU answer is then the whole "
                                f"sorted axis, not k elements; write jax.lax.sort, or leave aggregate_to_topk=True",
                                position)
        recall = float(static(b, a["recall_target"], "recall_target", position))
        if not 0.0 < recall <= 1.0:
            raise JacValueError(f"jax.lax.{fname}: recall_target must be in (0, 1], got {recall}", position)
        override = static_int(b, a["reduction_input_size_override"], "reduction_input_size_override", position)
        if override != -1 and override < x.shape[axis]:
            raise JacValueError(f"jax.lax.{fname}: reduction_input_size_override {override} is smaller than the "
                                f"reduction dimension ({x.shape[axis]})", position)
        # exact on CPU: the stable sort's first k (equal elements the lower index first, as JAX's CPU answer)
        idx = b.apply("argsort", x, axis=axis, descending=largest, k=k, position=position)
        values = b.apply("take_along", x, idx, axis=axis, position=position)
        values = refused(b, values, _APPROX_NAN.format(fname), where=b.apply("isnan", x, position=position),
                         axes=tuple(range(x.ndim)), position=position)
        return Items((values, idx))
    lower.__doc__ = (f"jax.lax.{fname}(operand, k, reduction_dimension=-1, recall_target=0.95, ...): (the k "
                     f"{'largest in decreasing' if largest else 'smallest in increasing'} order, their indices); "
                     f"JAX's CPU answer is exact (recall 1), and so is jac's; NaN refused at evaluation")
    return lower


variant("jax.lax", "approx_max_k")(_approx_k("approx_max_k", True))
variant("jax.lax", "approx_min_k")(_approx_k("approx_min_k", False))


@variant("jax.lax", "reduce_xor")
def _reduce_xor(b, args, kwargs, position):
    """jax.lax.reduce_xor(operand, axes): of a mask, True where an odd number along the axes is True; of integer
    constants, their bitwise xor in their dtype, computed at build time; a float refused as JAX refuses it. No
    derivative (masks and integers carry none)."""
    from ..ir import dtypes
    from .laxmore import _lax_integers

    a = arguments("reduce_xor", args, kwargs, {"x": REQUIRED, "axes": REQUIRED}, position)
    x = a["x"]
    t = tensor(b, x, "jax.lax.reduce_xor", position)
    axes = static_ints(b, a["axes"], "jax.lax.reduce_xor's axes", position) if a["axes"] != () else ()
    if any(not 0 <= d < t.ndim for d in axes) or len(set(axes)) != len(axes):
        raise JacValueError(f"jax.lax.reduce_xor: axes {tuple(axes)} are not distinct axes of an operand of "
                            f"{t.ndim} axes (nonnegative, as XLA takes them)", position)
    if type(x) is bool or is_boolean(b, t) or dtypes.kind_of(b, t.id) == (np.dtype(bool), None):
        if not axes:
            return t
        count = b.apply("sum", t, axes=tuple(axes), position=position)
        odd = FUNCTIONS["fmod"](b, [count, 2.0], {}, position)
        return boolean(b, b.apply("ne", odd, 0.0, position=position))
    value = np.asarray(_lax_integers(b, x, "reduce_xor", position))
    if value.dtype.kind not in "iu":  # a Python int: JAX's default integer
        value = value.astype(np.int64)
    result = np.asarray(np.bitwise_xor.reduce(value, axis=tuple(axes)) if axes else value, dtype=value.dtype)
    out = b.const(dtypes.held(b, result, "the result of jax.lax.reduce_xor", position), position)
    b.typed[out.id] = (result.dtype, None)
    return out


@variant("jax.lax", "broadcast_like")
def _broadcast_like(b, args, kwargs, position):
    """jax.lax.broadcast_like(arr, like_arr): arr broadcast to like_arr's shape (jnp.broadcast_to's rules)."""
    a = arguments("broadcast_like", args, kwargs, {"arr": REQUIRED, "like_arr": REQUIRED}, position)
    x = tensor(b, a["arr"], "jax.lax.broadcast_like", position)
    like = tensor(b, a["like_arr"], "jax.lax.broadcast_like", position)
    shape = tuple(like.shape)
    return x if tuple(x.shape) == shape else FUNCTIONS["broadcast_to"](b, [x, shape], {}, position)


@variant("jax.lax", "ragged_dot")
def _ragged_dot(b, args, kwargs, position):
    """jax.lax.ragged_dot(lhs, rhs, group_sizes): lhs (m, k) split into consecutive groups of rows of the constant
    sizes, group i times rhs[i] (rhs (g, k, n)); the rows past the groups are 0, as JAX's."""
    a = arguments("ragged_dot", args, kwargs, {"lhs": REQUIRED, "rhs": REQUIRED, "group_sizes": REQUIRED,
                                               "precision": None, "preferred_element_type": None,
                                               "group_offset": None, "out_sharding": None}, position)
    lhs = tensor(b, a["lhs"], "jax.lax.ragged_dot", position)
    rhs = tensor(b, a["rhs"], "jax.lax.ragged_dot", position)
    if a["group_offset"] is not None:
        raise JacValueError("jax.lax.ragged_dot(..., group_offset=...): jac reads the groups from the first; drop "
                            "group_offset (JAX's CPU kernel does not take it either)", position)
    if lhs.ndim != 2 or rhs.ndim != 3 or lhs.shape[1] != rhs.shape[1] or \
            not all(isinstance(n, int) for n in (*lhs.shape, *rhs.shape)):
        raise JacValueError(f"jax.lax.ragged_dot: jac reads lhs (m, k) and rhs (g, k, n) of concrete sizes, got "
                            f"{tuple(lhs.shape)} and {tuple(rhs.shape)}", position)
    sizes = static_ints(b, a["group_sizes"], "jax.lax.ragged_dot's group_sizes (constant integers)", position)
    sizes = list(sizes) if isinstance(sizes, (list, tuple)) else [sizes]
    if len(sizes) != rhs.shape[0] or any(s < 0 for s in sizes) or sum(sizes) > lhs.shape[0]:
        raise JacValueError(f"jax.lax.ragged_dot: group_sizes {tuple(sizes)} must be {rhs.shape[0]} nonnegative "
                            f"sizes (one per matrix of rhs) summing to at most lhs's {lhs.shape[0]} rows", position)
    parts, start = [], 0
    for i, s in enumerate(sizes):
        if s:
            rows = b.apply("getitem", lhs, index=(slice(start, start + s),), position=position)
            mat = b.apply("getitem", rhs, index=(i,), position=position)
            parts.append(FUNCTIONS["matmul"](b, [rows, mat], {}, position))
        start += s
    rest = lhs.shape[0] - start
    if rest or not parts:
        parts.append(b.const(np.zeros((rest, rhs.shape[2]), dtype=b.dtype), position))
    return parts[0] if len(parts) == 1 else FUNCTIONS["concatenate"](b, [Items(tuple(parts))], {"axis": 0},
                                                                     position)


def _numpy(name):
    return library_function("numpy", name) or FUNCTIONS[name]


# -- NumPy / jnp and torch's type questions -------------------------------------------------------------------------

@variant("numpy", "iscomplex")
def _iscomplex(b, args, kwargs, position):
    """np.iscomplex(x) / jnp.iscomplex(x): False for every element (jac's arrays are real), a mask of x's shape."""
    x = tensor(b, arguments("iscomplex", args, kwargs, {"x": REQUIRED}, position)["x"], "iscomplex", position)
    return boolean(b, b.const(np.zeros(tuple(x.shape), dtype=b.dtype), position)) if x.shape else _answer(
        b, False, position)


def _is_false(fname: str):
    def lower(b, args, kwargs, position):
        tensor(b, arguments(fname, args, kwargs, {"input": REQUIRED}, position)["input"], f"torch.{fname}",
               position)
        return _answer(b, False, position)
    lower.__doc__ = f"torch.{fname}(input): False (jac's tensors are real)"
    return lower


for _name in ("is_complex", "is_conj", "is_neg"):
    variant("torch", _name)(_is_false(_name))


_KINDS = ("bool", "signed integer", "unsigned integer", "integral", "real floating", "complex floating", "numeric")


def _a_dtype(b, value, fname: str, position) -> np.dtype:
    """A dtype argument (np.float32, x.dtype) or an array's dtype, as NumPy reads it."""
    if isinstance(value, Static) and isinstance(value.value, DType):
        return _numpy_dtype(b, value.value, position)
    if isinstance(value, Tracer):
        return _numpy_dtype(b, _dtype_of(b, value).value, position)
    raise JacValueError(f"{fname}() takes dtypes here (np.float32, x.dtype), got {type(value).__name__}", position)


@variant("numpy", "isdtype")
def _isdtype(b, args, kwargs, position):
    """np.isdtype(dtype, kind) / jnp.isdtype: answered at build time for the dtype jac holds (x.dtype is --dtype for
    a value of the inputs), with kind a dtype, one of the array API's kind names, or a tuple of them."""
    a = arguments("isdtype", args, kwargs, {"dtype": REQUIRED, "kind": REQUIRED}, position)
    if isinstance(a["dtype"], Tracer) and not isinstance(a["dtype"], Static):
        raise JacValueError("isdtype() takes a dtype (x.dtype), not an array (NumPy raises TypeError)", position)
    d = _a_dtype(b, a["dtype"], "isdtype", position)
    kinds = a["kind"].value if isinstance(a["kind"], Static) else a["kind"]
    kinds = tuple(kinds) if isinstance(kinds, (tuple, list)) else (kinds,)
    truth = False
    for kind in kinds:
        if isinstance(kind, Static):
            kind = kind.value
        if isinstance(kind, str):
            if kind not in _KINDS:
                raise JacValueError(f"isdtype(): kind {kind!r} is none of {', '.join(map(repr, _KINDS))}", position)
            truth = truth or bool(np.isdtype(d, kind))
        elif isinstance(kind, DType):
            truth = truth or d == _numpy_dtype(b, kind, position)
        else:
            raise JacValueError(f"isdtype(): kind must be a dtype, a kind name or a tuple of them, got {kind!r}",
                                position)
    return _answer(b, truth, position)


@variant("numpy", "issubdtype")
def _issubdtype(b, args, kwargs, position):
    """np.issubdtype(arg1, arg2) / jnp.issubdtype of two dtypes (x.dtype, np.float64): answered at build time (for
    concrete dtypes, whether they are the same)."""
    a = arguments("issubdtype", args, kwargs, {"arg1": REQUIRED, "arg2": REQUIRED}, position)
    first, second = (_a_dtype(b, a[k], "issubdtype", position) for k in ("arg1", "arg2"))
    return _answer(b, bool(np.issubdtype(first, second)), position)


_REQUIREMENTS = {"C", "C_CONTIGUOUS", "CONTIGUOUS", "F", "F_CONTIGUOUS", "FORTRAN", "A", "ALIGNED", "W",
                 "WRITEABLE", "O", "OWNDATA", "E", "ENSUREARRAY"}


@variant("numpy", "require")
def _require(b, args, kwargs, position):
    """np.require(a, dtype=None, requirements=None): np.asarray(a, dtype); the requirements (contiguous, aligned,
    writeable, own data) are about memory and change no value."""
    a = arguments("require", args, kwargs, {"a": REQUIRED, "dtype": None, "requirements": None, "like": None},
                  position)
    req = a["requirements"]
    req = req.value if isinstance(req, Static) else () if req is None else req
    req = (req,) if isinstance(req, str) else tuple(r.value if isinstance(r, Static) else r for r in req) \
        if isinstance(req, (tuple, list, Items)) else (req,)
    bad = [r for r in req if not isinstance(r, str) or r.upper() not in _REQUIREMENTS]
    if bad:
        raise JacValueError(f"np.require: requirements {bad[0]!r} is none of NumPy's (C, F, A, W, O, E)", position)
    options = {} if a["dtype"] is None else {"dtype": a["dtype"]}
    return _numpy("asarray")(b, [a["a"]], options, position)


@variant("numpy", "fromiter")
def _fromiter(b, args, kwargs, position):
    """np.fromiter(iter, dtype, count=-1): a 1-d array of the values (a list, tuple or range written in the text),
    the first count of them when count >= 0."""
    a = arguments("fromiter", args, kwargs, {"iter": REQUIRED, "dtype": REQUIRED, "count": -1, "like": None},
                  position)
    count = static_int(b, a["count"], "np.fromiter's count", position)
    x = _numpy("array")(b, [a["iter"]], {"dtype": a["dtype"]}, position)
    if not isinstance(x, Tracer) or x.ndim != 1:
        raise JacValueError("np.fromiter makes a 1-d array of numbers: its iterable must give one number at a time "
                            f"(got {'an array of ' + str(x.ndim) + ' axes' if isinstance(x, Tracer) else 'no array'})",
                            position)
    if count >= 0:
        if count > x.shape[0]:
            raise JacValueError(f"np.fromiter: count {count} is more than the iterable's {x.shape[0]} items (NumPy "
                                f"raises ValueError: iterator too short)", position)
        if count < x.shape[0]:
            x = b.apply("getitem", x, index=(slice(0, count),), position=position)
    return x


# -- torch.nn.functional -------------------------------------------------------------------------------------------

@variant("torch", "linear_cross_entropy")
def _linear_cross_entropy(b, args, kwargs, position):
    """F.linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None, reduction='mean',
    ignore_index=None, label_smoothing=0.0, options=None): PyTorch's reference implementation,
    F.cross_entropy(F.linear(input, linear_weight, linear_bias), target, ...) (ignore_index None: -100, as
    cross_entropy's default), for a 2-d weight (C, in)."""
    a = arguments("linear_cross_entropy", args, kwargs, {
        "input": REQUIRED, "linear_weight": REQUIRED, "target": REQUIRED, "linear_bias": None, "weight": None,
        "reduction": "mean", "ignore_index": None, "label_smoothing": 0.0, "options": None}, position)
    if a["options"] is not None:
        raise JacValueError("F.linear_cross_entropy(..., options=...): the chunked path's options change how PyTorch "
                            "computes, not what; drop options= (jac computes the reference implementation)", position)
    w = tensor(b, a["linear_weight"], "F.linear_cross_entropy", position)
    if w.ndim != 2:
        raise JacValueError(f"F.linear_cross_entropy: jac reads a 2-d linear_weight (classes, in_features), got "
                            f"shape {tuple(w.shape)}", position)
    logits = FUNCTIONS["linear"](b, [a["input"], w, a["linear_bias"]], {}, position)
    options = {"reduction": a["reduction"], "label_smoothing": a["label_smoothing"]}
    if a["weight"] is not None:
        options["weight"] = a["weight"]
    if a["ignore_index"] is not None:
        options["ignore_index"] = a["ignore_index"]
    return FUNCTIONS["cross_entropy"](b, [logits, a["target"]], options, position)


# -- F.fractional_max_pool2d / 3d with _random_samples given: PyTorch's CPU kernel's regions ---------------------------

_FRACTIONAL_RANDOM = ("{}: without _random_samples its pooling regions are drawn at random (PyTorch's own random "
                      "numbers, which jac does not draw): pass _random_samples=, a constant tensor of shape (N, C, {}) "
                      "in [0, 1), or write F.max_pool{}d / F.adaptive_max_pool{}d")
_FRACTIONAL_NAN = ("{}: a pooling region holds NaN: PyTorch's kernel takes the last NaN of it, where its derivative "
                   "goes, which jac does not reproduce; remove the NaN first")


def _intervals(sample, size: int, out: int, pool: int, dtype) -> np.ndarray:
    """PyTorch's generate_intervals: the start of each pooling region along an axis, computed in the input's
    dtype as its C++ kernel computes them (the products truncated to int)."""
    starts = np.zeros(out, dtype=np.int64)
    if out > 1:
        t = np.dtype(dtype).type
        alpha = t(size - pool) / t(out - 1)
        for i in range(out - 1):
            starts[i] = int(t(t(i) + sample) * alpha) - int(t(sample * alpha))
    if out > 0:
        starts[out - 1] = size - pool
    return starts


def _fractional(dims: int, with_indices: bool):
    fname = f"fractional_max_pool{dims}d" + ("_with_indices" if with_indices else "")

    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"input": REQUIRED, "kernel_size": REQUIRED, "output_size": None,
                                            "output_ratio": None, "return_indices": with_indices,
                                            "_random_samples": None}, position)
        spelled = f"F.{fname}"
        if a["_random_samples"] is None:
            raise JacValueError(_FRACTIONAL_RANDOM.format(spelled, dims, dims, dims), position)
        x = tensor(b, a["input"], spelled, position)
        if x.ndim not in (dims + 1, dims + 2) or not all(isinstance(n, int) for n in x.shape):
            raise JacValueError(f"{spelled} takes a {dims + 1}-d or {dims + 2}-d input of concrete sizes, got shape "
                                f"{tuple(x.shape)}", position)
        batched = x.ndim == dims + 2
        planes = x.shape[1] if batched else x.shape[0]
        n = x.shape[0] if batched else 1
        sizes = tuple(x.shape[-dims:])
        kernel = static_ints(b, a["kernel_size"], f"{spelled}'s kernel_size", position)
        kernel = (kernel,) * dims if isinstance(kernel, int) else tuple(kernel) * (dims if len(kernel) == 1 else 1)
        if a["output_size"] is not None:
            out = static_ints(b, a["output_size"], f"{spelled}'s output_size", position)
            out = (out,) * dims if isinstance(out, int) else tuple(out) * (dims if len(out) == 1 else 1)
        elif a["output_ratio"] is not None:
            ratio = static(b, a["output_ratio"], f"{spelled}'s output_ratio", position)
            if not isinstance(ratio, (tuple, list)):
                raise JacValueError(f"{spelled}: output_ratio must be a tuple of {dims} ratios (PyTorch 2.13 raises "
                                    f"TypeError for one number: len() of a float)", position)
            ratio = tuple(ratio) if len(ratio) == dims else tuple(ratio) * dims if len(ratio) == 1 else None
            if ratio is None:
                raise JacValueError(f"{spelled}: output_ratio must hold {dims} ratios", position)
            out = tuple(int(size * float(r)) for size, r in zip(sizes, ratio))
        else:
            raise JacValueError(f"{spelled} requires specifying either an output_size or an output_ratio, as "
                                f"PyTorch does", position)
        if len(kernel) != dims or len(out) != dims or any(k <= 0 for k in kernel) or \
                any(o + k - 1 > size - (dims == 3) or o <= 0 for o, k, size in zip(out, kernel, sizes)):
            bound = "less than" if dims == 3 else "at most"  # PyTorch's checks: 3-d strict, 2-d not
            raise JacValueError(f"{spelled}: output size {out} with kernel {kernel} does not fit the input's "
                                f"{sizes} (output + kernel - 1 must be {bound} the input size along each axis, as "
                                f"PyTorch checks)", position)
        samples = tensor(b, a["_random_samples"], spelled, position)
        held = b.nodes[samples.id]
        if held.op != "const":
            raise JacValueError(f"{spelled}: _random_samples must be a constant tensor (its values choose the "
                                f"regions when the graph is built), not an expression of the inputs", position)
        values = np.broadcast_to(np.asarray(held.value, dtype=b.dtype), tuple(samples.shape))
        if values.shape != (n, planes, dims) or not np.all((values >= 0) & (values < 1)):
            raise JacValueError(f"{spelled}: _random_samples must have shape ({n}, {planes}, {dims}) with values in "
                                f"[0, 1), got shape {values.shape}", position)
        # PyTorch's order of the samples: 2-d (W, H), 3-d (T, H, W)
        which = (1, 0) if dims == 2 else (0, 1, 2)
        window = np.stack(np.meshgrid(*[np.arange(k) for k in kernel], indexing="ij"), -1).reshape(-1, dims)
        strides = np.array([int(np.prod(sizes[d + 1:])) for d in range(dims)], dtype=np.int64)
        flat = np.zeros((n, planes, *out, window.shape[0]), dtype=np.int64)
        for i in range(n):
            for c in range(planes):
                starts = [_intervals(values[i, c, which[d]], sizes[d], out[d], kernel[d], b.dtype)
                          for d in range(dims)]
                grid = np.stack(np.meshgrid(*starts, indexing="ij"), -1)  # (*out, dims)
                flat[i, c] = ((grid[..., None, :] + window) * strides).sum(-1)
        k = window.shape[0]
        r = int(np.prod(out))
        lines = b.apply("reshape", x, shape=(n, planes, int(np.prod(sizes))), position=position)
        regions = b.apply("take_along", lines, _index_const(b, flat.reshape(n, planes, r * k), position), axis=2,
                          position=position)
        regions = b.apply("reshape", regions, shape=(n, planes, r, k), position=position)
        best = b.apply("argmax", regions, axis=3, keepdims=True, position=position)  # the first of equal maxima
        result = b.apply("take_along", regions, best, axis=3, position=position)
        result = refused(b, result, _FRACTIONAL_NAN.format(spelled), where=b.apply("isnan", regions,
                                                                                   position=position),
                         axes=(3,), keepdims=True, position=position)
        shape = (n, planes, *out) if batched else (planes, *out)
        result = b.apply("reshape", result, shape=shape, position=position)
        if not static(b, a["return_indices"], "return_indices", position):
            return result
        where = b.apply("take_along", _index_const(b, flat.reshape(n, planes, r, k), position), best, axis=3,
                        position=position)
        return Items((result, b.apply("reshape", where, shape=shape, position=position)))
    lower.__doc__ = (f"F.{fname}(input, kernel_size, output_size=None, output_ratio=None, "
                     f"return_indices={with_indices}, _random_samples=...): with the samples given, the regions "
                     f"PyTorch's CPU kernel computes from them (in the input's dtype), the maximum of each (the first "
                     f"of equal ones, where the derivative goes); without them refused (PyTorch draws them)")
    return lower


for _dims in (2, 3):
    variant("torch", f"fractional_max_pool{_dims}d")(_fractional(_dims, False))
    variant("torch", f"fractional_max_pool{_dims}d_with_indices")(_fractional(_dims, True))
