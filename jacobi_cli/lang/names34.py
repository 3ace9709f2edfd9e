"""Names pasted code uses that jac refused until session 34 (registered in ``functions``' table when ``lang`` is
imported), each read as its library computes it and lowered onto jac's functions and ops (no op of its own):

- ``scipy.spatial.distance``: ``pdist(X, metric)`` (SciPy's condensed order: the pairs i < j row by row),
  ``cdist(XA, XB, metric)`` and ``squareform`` (vector to matrix and matrix to vector; with ``checks=True`` a
  matrix's values are checked as SciPy checks them, symmetric with a zero diagonal, at the given values). The
  metrics ``euclidean`` (the ``norm`` op of the differences, as ``torch.cdist``: its derivative at coincident points
  is 0, PyTorch's), ``sqeuclidean``, ``cityblock``, ``chebyshev``, ``minkowski`` (``p=``) and ``cosine``
  (1 − u·v / √(u·u v·v), clipped to [0, 2] as SciPy's), under SciPy's aliases too.
- ``numpy.lib.stride_tricks.sliding_window_view(x, window_shape, axis=None)``: the windows gathered from ``x`` by
  NumPy's own call on the element numbers, so the axis order is NumPy's; NumPy's result is a read-only view, and the
  parser refuses a write into it as NumPy raises (``parser._read_only``).
- ``numpy.polynomial``'s Gauss rules ``legendre.leggauss``, ``hermite.hermgauss``, ``laguerre.laggauss``,
  ``hermite_e.hermegauss``, ``chebyshev.chebgauss`` of a constant degree: NumPy's own nodes and weights, constants
  of the graph; and
  ``numpy.polynomial.polynomial.polyval(x, c, tensor=True)``, NumPy's Horner loop (coefficients lowest first);
  ``np.polynomial.Polynomial(c)`` (an object) refused, naming polyval.
- ``np.trapz`` / ``jnp.trapz``: refused as NumPy 2.4 and JAX 0.10 have no such name, naming ``trapezoid``.
- ``scipy.signal`` / ``jax.scipy.signal``: ``convolve`` / ``correlate`` of two vectors (session 35) or two
  matrices, ``convolve2d`` / ``correlate2d``, ``fftconvolve`` (and SciPy's ``oaconvolve``), session 36: each
  mode's slice of the full sums as SciPy and JAX take it (correlate2d's 'same' starts at m // 2, the others'
  at (m - 1) // 2), refused where each library raises.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import JacNameError, JacShapeError
from ..ir.graph import Tracer
from ..ir.shapes import fmt
from .functions import LIBRARIES, LIBRARY_FUNCTIONS, MODULES, REQUIRED, Items, JacValueError, Static, arguments, \
    static, static_ints, tensor, variant, FUNCTIONS, _checked, _concat, _concrete, _vector_norm, \
    _padded, einsum_of
from .jaxnames import LIBRARY_ENDINGS, LIBRARY_NAMES, LIBRARY_REFUSED

DISTANCE = "scipy.spatial.distance"
STRIDE_TRICKS = "numpy.lib.stride_tricks"
POLYNOMIAL = "numpy.polynomial"
_GAUSS = {"legendre": "leggauss", "hermite": "hermgauss", "laguerre": "laggauss", "hermite_e": "hermegauss",
          "chebyshev": "chebgauss"}
# the library of each module path written (np. and numpy. alike), as functions.LIBRARIES holds them
SIGNAL, JAX_SIGNAL = "scipy.signal", "jax.scipy.signal"
_PATHS = {DISTANCE: DISTANCE, "np.lib.stride_tricks": STRIDE_TRICKS, STRIDE_TRICKS: STRIDE_TRICKS,
          SIGNAL: SIGNAL, JAX_SIGNAL: JAX_SIGNAL}
for _sub in (*_GAUSS, "polynomial"):
    for _root in ("np", "numpy"):
        _PATHS[f"{_root}.polynomial.{_sub}"] = f"{POLYNOMIAL}.{_sub}"
_PATHS.update({"np.polynomial": POLYNOMIAL, POLYNOMIAL: POLYNOMIAL})  # its Polynomial: refused, naming polyval
MODULES.update(_PATHS)
LIBRARIES.update(_PATHS)
# each library's title in messages (parser._LIBRARY_TITLES)
TITLES = {library: library for library in set(_PATHS.values())}

# SciPy's metric names and aliases (scipy.spatial.distance's MetricInfo ``aka``) of the metrics jac reads
_METRICS = {"euclidean": ("euclidean", "euclid", "eu", "e"), "sqeuclidean": ("sqeuclidean", "sqe", "sqeuclid"),
            "cityblock": ("cityblock", "cblock", "cb", "c"),
            "chebyshev": ("chebychev", "chebyshev", "cheby", "cheb", "ch"), "cosine": ("cosine", "cos"),
            "minkowski": ("minkowski", "mi", "m", "pnorm")}
_METRIC_OF = {alias: name for name, aliases in _METRICS.items() for alias in aliases}
_OTHER_METRICS = ("braycurtis", "canberra", "correlation", "dice", "hamming", "jaccard", "jensenshannon",
                  "mahalanobis", "rogerstanimoto", "russellrao", "seuclidean", "sokalsneath", "yule")
MAX_GAUSS = 100_000  # NumPy's eigenvalue work grows with the degree


def _metric(b, a, fname, position) -> tuple:
    """(the metric's name, p) of a pdist / cdist call, refusing what SciPy refuses or jac does not read."""
    for key in ("w", "out"):
        if a[key] is not None:
            raise JacValueError(f"{fname}(..., {key}=...) is not supported by jac (" + (
                "weights: write the weighted distance with np.sqrt / np.sum" if key == "w" else
                "it writes into an array: use the result") + ")", position)
    metric = static(b, a["metric"], "metric", position)
    if not isinstance(metric, str):
        raise JacValueError(f"{fname}: metric must be one of SciPy's names ({', '.join(_METRICS)}); a function as "
                            f"the metric is not read by jac", position)
    name = _METRIC_OF.get(metric.lower())
    if name is None:
        other = metric.lower() in _OTHER_METRICS
        raise JacValueError(f"{fname}: metric {metric!r} is " + ("not supported by jac" if other else
                            "not one of SciPy's") + f"; jac reads {', '.join(_METRICS)}", position)
    p = a["ord"]
    if name != "minkowski":
        if p is not None:
            raise JacValueError(f"{fname}: p= is an argument of metric='minkowski' only (SciPy raises TypeError "
                                f"for metric={metric!r})", position)
        return name, None
    p = 2.0 if p is None else static(b, p, "p", position)
    if isinstance(p, bool) or not isinstance(p, (int, float)) or math.isnan(p):
        raise JacValueError(f"{fname}: p must be a number, got {p!r}", position)
    if p <= 0:
        raise JacValueError(f"{fname}: p must be greater than 0 (SciPy's minkowski), got {p!r}", position)
    return name, float(p)


def _distances(b, u: Tracer, v: Tracer, metric: str, p, position) -> Tracer:
    """The distances between the rows of ``u`` and ``v`` (broadcast against each other) along their last axis."""
    axis = max(u.ndim, v.ndim) - 1

    def total(t):
        return b.apply("sum", t, axes=(axis,), position=position)

    if metric == "cosine":  # SciPy: 1 - u.v / sqrt(u.u v.v), clipped to [0, 2] against rounding
        uv = total(b.apply("mul", u, v, position=position))
        uu, vv = (total(b.apply("mul", t, t, position=position)) for t in (u, v))
        cos = b.apply("div", uv, b.apply("sqrt", b.apply("mul", uu, vv, position=position), position=position),
                      position=position)
        return b.apply("clip", b.apply("sub", 1.0, cos, position=position), 0.0, 2.0, position=position)
    d = b.apply("sub", u, v, position=position)
    if metric == "sqeuclidean":
        return total(b.apply("mul", d, d, position=position))
    order = {"euclidean": 2, "cityblock": 1, "chebyshev": math.inf}.get(metric, p)
    return _vector_norm(b, d, order, (axis,), False, position)  # torch.cdist's lowering: its derivative at 0


def _rows(b, value, fname, what, position) -> Tracer:
    x = tensor(b, value, fname, position)
    if x.ndim != 2:
        raise JacShapeError(f"{fname}: {what} must be a 2-dimensional array (SciPy raises), got shape "
                            f"{fmt(x.shape)}", position)
    _concrete(x, fname, position)
    return x


_PDIST = {"X": REQUIRED, "metric": Static("euclidean"), "ord": None, "w": None, "out": None}


@variant(DISTANCE, "pdist")
def _pdist(b, args, kwargs, position):
    """scipy.spatial.distance.pdist(X, metric='euclidean', p=, w=None, out=None): the distances of the pairs of
    X's rows i < j, in SciPy's condensed order (row by row)."""
    fname = "scipy.spatial.distance.pdist"
    a = arguments(fname, args, kwargs, _PDIST, position)
    metric, p = _metric(b, a, fname, position)
    x = _rows(b, a["X"], fname, "X", position)
    m = x.shape[0]
    if m < 2:  # SciPy: an empty vector
        return b.const(np.zeros((0,), dtype=b.dtype), position)
    first, second = np.triu_indices(m, 1)
    _checked(b, (len(first), x.shape[1]), fname, position)
    u, v = (b.apply("getitem", x, index=(rows,), position=position) for rows in (first, second))
    return _distances(b, u, v, metric, p, position)


@variant(DISTANCE, "cdist")
def _cdist(b, args, kwargs, position):
    """scipy.spatial.distance.cdist(XA, XB, metric='euclidean', p=, w=None, out=None): the (mA, mB) distances of
    every row of XA to every row of XB."""
    fname = "scipy.spatial.distance.cdist"
    a = arguments(fname, args, kwargs, {"XA": REQUIRED, "XB": REQUIRED, **{k: v for k, v in _PDIST.items()
                                                                           if k != "X"}}, position)
    metric, p = _metric(b, a, fname, position)
    xa, xb = _rows(b, a["XA"], fname, "XA", position), _rows(b, a["XB"], fname, "XB", position)
    if xa.shape[1] != xb.shape[1]:
        raise JacShapeError(f"{fname}: XA and XB must have the same number of columns (i.e. feature dimension), "
                            f"got {fmt(xa.shape)} and {fmt(xb.shape)}", position)
    _checked(b, (xa.shape[0], xb.shape[0], xa.shape[1]), fname, position)
    u = b.apply("reshape", xa, shape=(xa.shape[0], 1, xa.shape[1]), position=position)
    v = b.apply("reshape", xb, shape=(1,) + tuple(xb.shape), position=position)
    return _distances(b, u, v, metric, p, position)


@variant(DISTANCE, "squareform")
def _squareform(b, args, kwargs, position):
    """scipy.spatial.distance.squareform(X, force='no', checks=True): a condensed vector to its symmetric matrix
    with a zero diagonal, or a square matrix to its upper triangle in SciPy's condensed order (with ``checks``,
    SciPy's check of its values: symmetric, zero diagonal; read at the given values)."""
    fname = "scipy.spatial.distance.squareform"
    a = arguments(fname, args, kwargs, {"X": REQUIRED, "force": Static("no"), "checks": True}, position)
    x = tensor(b, a["X"], fname, position)
    force = static(b, a["force"], "force", position)
    if not isinstance(force, str):
        raise JacValueError(f"{fname}: force must be 'no', 'tovector' or 'tomatrix', got {force!r}", position)
    checks = static(b, a["checks"], "checks", position)
    if force.lower() == "tomatrix" and x.ndim != 1:
        raise JacValueError(f"{fname}: Forcing 'tomatrix' but input X is not a distance vector (SciPy raises)",
                            position)
    if force.lower() == "tovector" and x.ndim != 2:
        raise JacValueError(f"{fname}: Forcing 'tovector' but input X is not a distance matrix (SciPy raises)",
                            position)
    shape = _concrete(x, fname, position)
    if x.ndim == 1:
        k = shape[0]
        if k == 0:
            return b.const(np.zeros((1, 1), dtype=b.dtype), position)
        d = int(np.ceil(np.sqrt(k * 2)))
        if d * (d - 1) != k * 2:
            raise JacShapeError(f"{fname}: Incompatible vector size {k}. It must be a binomial coefficient n choose "
                                f"2 for some integer n >= 2 (SciPy raises)", position)
        at = np.zeros((d, d), dtype=np.intp)  # 0 picks the zero put first; entry i < j the condensed k + 1
        first, second = np.triu_indices(d, 1)
        at[first, second] = at[second, first] = np.arange(1, k + 1)
        padded = _concat(b, [b.const(np.zeros((1,), dtype=b.dtype), position), x], 0, fname, position)
        return b.apply("getitem", padded, index=(at,), position=position)
    if x.ndim != 2:
        raise JacShapeError(f"{fname}: X must be a vector or a matrix (SciPy raises), got shape {fmt(x.shape)}",
                            position)
    if shape[0] != shape[1]:
        raise JacShapeError(f"{fname}: The matrix argument must be square (SciPy raises), got {fmt(x.shape)}",
                            position)
    if checks:
        _check_distance_matrix(b, x, fname, position)
    if shape[0] <= 1:
        return b.const(np.zeros((0,), dtype=b.dtype), position)
    first, second = np.triu_indices(shape[0], 1)
    return b.apply("getitem", x, index=(first, second), position=position)


def _check_distance_matrix(b, x: Tracer, fname, position) -> None:
    """SciPy's ``is_valid_dm(X, tol=0, throw=True)``: symmetric and a zero diagonal, exactly; of a matrix computed
    from the inputs read at the given values (the graph then holds for them, as SciPy checks them when it runs)."""
    node = b.nodes[x.id]
    if node.op == "const":
        value = node.value
    else:
        if b.lowering is None:
            raise JacValueError(f"{fname}: checks=True reads the matrix's values (SciPy checks it is symmetric with a "
                                f"zero diagonal); write checks=False to take its upper triangle", position)
        value = b.lowering.value_of(x, position, message=(
            f"{fname}(D) checks D's values (SciPy raises unless it is symmetric with a zero diagonal): jac reads them "
            "at the given values, and the result holds for those values only (jac eval, vjp, jvp, hessian, check "
            "compute it; jac shape, jac diff and a compiled function cannot); write checks=False to take D's upper "
            "triangle without the check"))
    value = np.asarray(value, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        if not np.all(np.abs(value - value.T) <= 0):
            raise JacValueError(f"{fname}: Distance matrix 'X' must be symmetric (SciPy raises; checks=False takes "
                                f"its upper triangle)", position)
        if not np.all(np.abs(np.diag(value)) <= 0):
            raise JacValueError(f"{fname}: Distance matrix 'X' diagonal must be zero (SciPy raises; checks=False "
                                f"takes its upper triangle)", position)


@variant(STRIDE_TRICKS, "sliding_window_view")
def _sliding_window_view(b, args, kwargs, position):
    """np.lib.stride_tricks.sliding_window_view(x, window_shape, axis=None, subok=False, writeable=False): every
    window of ``window_shape`` along ``axis`` (every axis for None), the window's axes last, gathered from x as NumPy's
    own call arranges x's element numbers; NumPy's result is a read-only view (a write into it is refused)."""
    fname = "sliding_window_view"
    a = arguments(fname, args, kwargs, {"x": REQUIRED, "window_shape": REQUIRED, "axis": None, "subok": False,
                                        "writeable": False}, position)
    if static(b, a["writeable"], "writeable", position):
        raise JacValueError(f"{fname}(..., writeable=True) makes a view jac's values cannot follow (a write into it "
                            f"would change x): take the windows read-only", position)
    x = tensor(b, a["x"], fname, position)
    shape = _concrete(x, fname, position)
    window = static_ints(b, a["window_shape"], "window_shape", position)
    axis = None if a["axis"] is None else static_ints(b, a["axis"], "axis", position)
    numbers = np.arange(int(np.prod(shape, dtype=np.int64)), dtype=np.intp).reshape(shape)
    try:
        at = np.lib.stride_tricks.sliding_window_view(numbers, window, axis=axis)
    except (ValueError, TypeError, np.exceptions.AxisError) as err:  # NumPy's own refusals, its words
        raise JacValueError(f"{fname}: NumPy raises: {err}", position) from None
    _checked(b, at.shape, fname, position)
    flat = b.apply("reshape", x, shape=(numbers.size,), position=position)
    if at.size == 0:
        return b.const(np.zeros(at.shape, dtype=b.dtype), position)
    return b.apply("getitem", flat, index=(np.ascontiguousarray(at),), position=position)


def _gauss(module: str, name: str):
    fname = f"np.polynomial.{module}.{name}"

    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"deg": REQUIRED}, position)
        value = a["deg"]
        if hasattr(value, "id") and b.nodes[value.id].op != "const":
            raise JacValueError(f"{fname}: deg is a constant (the rule's nodes and weights are constants of the "
                                f"graph), not an expression of the inputs", position)
        deg = static(b, value, "deg", position)
        if isinstance(deg, bool) or not isinstance(deg, (int, float)) or float(deg) != int(deg) or deg < 1:
            raise JacValueError(f"{fname}: deg must be a positive integer (NumPy raises), got {deg!r}", position)
        if int(deg) > MAX_GAUSS:
            raise JacValueError(f"{fname}: deg = {int(deg):,}, more than jac computes ({MAX_GAUSS:,})", position)
        nodes, weights = getattr(getattr(np.polynomial, module), name)(int(deg))
        return Items([b.const(np.asarray(nodes).astype(b.dtype), position),
                      b.const(np.asarray(weights).astype(b.dtype), position)])
    lower.__doc__ = (f"{fname}(deg): the Gauss quadrature rule's nodes and weights, NumPy's own values, constants")
    return lower


@variant(POLYNOMIAL, "Polynomial")
def _polynomial_class(b, args, kwargs, position):
    """np.polynomial.Polynomial(c): refused (a polynomial object), naming polyval."""
    raise JacValueError("np.polynomial.Polynomial(c) makes a polynomial object, which jac does not read: write its "
                        "value at x as np.polynomial.polynomial.polyval(x, c) (the coefficients lowest first)",
                        position)


for _module, _name in _GAUSS.items():
    variant(f"{POLYNOMIAL}.{_module}", _name)(_gauss(_module, _name))


@variant(f"{POLYNOMIAL}.polynomial", "polyval")
def _polyval(b, args, kwargs, position):
    """np.polynomial.polynomial.polyval(x, c, tensor=True): c[0] + c[1]·x + c[2]·x² + ... (the coefficients lowest
    first, np.polyval's the other way round), NumPy's Horner loop; a c of more axes gives its columns' polynomials,
    shaped c.shape[1:] + x.shape (tensor=True) or broadcast against x (tensor=False)."""
    fname = "np.polynomial.polynomial.polyval"
    a = arguments(fname, args, kwargs, {"x": REQUIRED, "c": REQUIRED, "tensor": True}, position)
    x, c = tensor(b, a["x"], fname, position), tensor(b, a["c"], fname, position)
    if c.ndim == 0:
        c = b.apply("reshape", c, shape=(1,), position=position)
    n = _concrete(c, fname, position)[0]
    if n == 0:
        raise JacValueError(f"{fname}: c is empty (NumPy raises IndexError)", position)
    if static(b, a["tensor"], "tensor", position) and c.ndim > 1:
        c = b.apply("reshape", c, shape=tuple(c.shape) + (1,) * x.ndim, position=position)

    def coefficient(i):
        return b.apply("getitem", c, index=(i,), position=position)

    out = b.apply("add", coefficient(n - 1), b.apply("mul", x, 0.0, position=position), position=position)
    for i in range(n - 2, -1, -1):
        out = b.apply("add", coefficient(i), b.apply("mul", out, x, position=position), position=position)
    return out


def _signal(kind: str, library: str = SIGNAL, covering: str | None = None):
    """scipy.signal's and jax.scipy.signal's ``kind`` (convolve or correlate), session 35."""
    def lower(b, args, kwargs, position):
        a = arguments(kind, args, kwargs, {"in1": REQUIRED, "in2": REQUIRED, "mode": Static("full"),
                                           "method": Static("auto")}, position)
        x, v = tensor(b, a["in1"], kind, position), tensor(b, a["in2"], kind, position)
        mode = static(b, a["mode"], "mode", position)
        if static(b, a["method"], "method", position) not in ("auto", "direct", "fft"):
            raise JacValueError(f"{kind}(): method must be 'auto', 'direct' or 'fft'", position)
        if mode not in ("full", "same", "valid"):
            raise JacValueError(f"{kind}(): mode must be 'full', 'same' or 'valid', got {mode!r}", position)
        if x.ndim == 2 and v.ndim == 2:  # an image and a kernel (session 36)
            return _signal_2d(b, x, v, mode, kind, "centred", library, covering, position)
        if x.ndim != 1 or v.ndim != 1:
            raise JacShapeError(f"{kind}: jac reads two vectors (1-D) or two matrices (2-D), got shapes "
                                f"{fmt(x.shape)} and {fmt(v.shape)}", position)
        if kind == "correlate":
            v = b.apply("getitem", v, index=(slice(None, None, -1),), position=position)
        if mode != "same":
            return FUNCTIONS["convolve"](b, [x, v], {"mode": mode}, position)
        full = FUNCTIONS["convolve"](b, [x, v], {}, position)
        n, m = _concrete(x, kind, position)[0], _concrete(v, kind, position)[0]
        start = (m - 1) // 2  # SciPy's _centered: the middle n of the n + m - 1
        return b.apply("getitem", full, index=(slice(start, start + n),), position=position)
    lower.__name__ = f"_signal_{kind}"
    lower.__doc__ = (f"scipy.signal.{kind}(in1, in2, mode='full', method='auto') of two vectors: np.convolve's sums"
                     f"{' of in2 reversed' if kind == 'correlate' else ''}; 'same' as long as in1, centred on the "
                     "full result as SciPy's and JAX's (np.convolve's keeps the longer's length); any method. Two "
                     f"matrices as {kind}2d; arrays of other ranks are refused.")
    return lower


def _full_2d(b, x, v, fname, position) -> Tracer:
    """The full 2-D convolution Σₖₗ x[k, l] v[i − k, j − l] of two matrices, shape (n₁ + m₁ − 1, n₂ + m₂ − 1): x
    padded with zeros by v's size − 1 on each side, each window gathered, contracted with v reversed on both axes."""
    (n1, n2), (m1, m2) = _concrete(x, fname, position), _concrete(v, fname, position)
    if 0 in (n1, n2, m1, m2):
        raise JacValueError(f"{fname}(): neither array may be empty", position)
    b.check_size(((n1 + m1 - 1) * (n2 + m2 - 1), m1 * m2), f"{fname}'s windows", position)
    padded = _padded(b, x, [(m1 - 1, m1 - 1), (m2 - 1, m2 - 1)], position)
    rows = np.arange(n1 + m1 - 1)[:, None] + np.arange(m1)[None, :]  # window i covers rows i .. i + m1 - 1
    cols = np.arange(n2 + m2 - 1)[:, None] + np.arange(m2)[None, :]
    windows = b.apply("getitem", padded, index=(rows[:, None, :, None], cols[None, :, None, :]), position=position)
    flipped = b.apply("getitem", v, index=(slice(None, None, -1), slice(None, None, -1)), position=position)
    return einsum_of(b, "abkl,kl->ab", [windows, flipped], position)


def _signal_2d(b, x, v, mode, kind, centring, library, covering, position) -> Tracer:
    """``kind`` (convolve, correlate, convolve2d or correlate2d) of two matrices, with ``mode``: the full result
    sliced. 'same' keeps x's shape, starting at (m − 1) // 2 along each axis (``centring`` "centred": SciPy's
    ``_centered``, and convolve2d's) or at m // 2 ("shifted": correlate2d's; SciPy's C code and JAX agree on each);
    'valid' where one array covers the other, which SciPy swaps to the larger, as the full result allows.
    ``covering`` says where arrays neither of which covers the other are refused, as each function raises: "valid"
    (SciPy's convolve, convolve2d; JAX's fftconvolve), "always" (JAX's convolve, convolve2d), "valid-ones" (SciPy's
    fftconvolve, which broadcasts an axis of size 1 instead of checking it)."""
    covering = covering or ("always" if library == JAX_SIGNAL else "valid")
    n, m = _concrete(x, kind, position), _concrete(v, kind, position)
    pairs = [(p, q) for p, q in zip(n, m) if covering != "valid-ones" or 1 not in (p, q)]
    larger = all(p >= q for p, q in pairs) or all(p <= q for p, q in pairs)
    if not larger and (mode == "valid" or covering == "always"):
        raise JacShapeError(f"{library}.{kind}: one input must be at least as large as the other in every dimension "
                            f"(shapes {fmt(n)} and {fmt(m)}), as {'JAX' if library == JAX_SIGNAL else 'SciPy'} "
                            f"requires{' in valid mode' if library == SIGNAL else ''}", position)
    if kind.startswith("correlate"):
        v = b.apply("getitem", v, index=(slice(None, None, -1), slice(None, None, -1)), position=position)
    full = _full_2d(b, x, v, kind, position)
    if mode == "full":
        return full
    if mode == "same":
        starts = [(q - 1) // 2 if centring == "centred" else q // 2 for q in m]
        counts = n
    else:
        starts = [min(p, q) - 1 for p, q in zip(n, m)]
        counts = [abs(p - q) + 1 for p, q in zip(n, m)]
    return b.apply("getitem", full, index=tuple(slice(s, s + c) for s, c in zip(starts, counts)), position=position)


_PRECISIONS = ("highest", "float32", "high", "bfloat16_3x", "tensorfloat32", "default", "bfloat16", "fastest")


def _signal_precision(b, given, name: str, library: str, position: int) -> None:
    """``precision=``: SciPy's convolve2d has no such argument (its TypeError); JAX's raises ValueError for a
    string that names no precision (``precision='bogus'`` was read as the default)."""
    if isinstance(given, Static) and given.value is None:
        return
    if not library.startswith("jax"):
        raise JacValueError(f"scipy.signal.{name}() got an unexpected keyword argument 'precision' (SciPy's "
                            "TypeError; jax.scipy.signal's takes it)", position)
    value = static(b, given, "precision", position)
    if isinstance(value, str) and value not in _PRECISIONS:
        raise JacValueError(f"jax.scipy.signal.{name}(): precision={value!r}: JAX raises ValueError (a precision is "
                            f"None or one of {', '.join(repr(p) for p in _PRECISIONS)})", position)


def _signal2d(kind: str, library: str):
    """scipy.signal's and jax.scipy.signal's ``kind``2d (convolve or correlate) of two matrices, session 36."""
    name = kind + "2d"

    def lower(b, args, kwargs, position):
        a = arguments(name, args, kwargs, {"in1": REQUIRED, "in2": REQUIRED, "mode": Static("full"),
                                           "boundary": Static("fill"), "fillvalue": Static(0),
                                           "precision": Static(None)}, position)
        x, v = tensor(b, a["in1"], name, position), tensor(b, a["in2"], name, position)
        mode = static(b, a["mode"], "mode", position)
        boundary, fill = static(b, a["boundary"], "boundary", position), static(b, a["fillvalue"], "fillvalue", position)
        _signal_precision(b, a["precision"], name, library, position)
        if mode not in ("full", "same", "valid"):
            raise JacValueError(f"{name}(): mode must be 'full', 'same' or 'valid', got {mode!r}", position)
        if boundary not in ("fill", "pad") or not isinstance(fill, (int, float)) or fill != 0:
            raise JacValueError(f"{name}(): jac reads boundary='fill' with fillvalue=0 (zeros outside in1), got "
                                f"boundary={boundary!r}, fillvalue={fill!r}; pad in1 yourself (np.pad) for another "
                                "boundary", position)
        if x.ndim != 2 or v.ndim != 2:
            raise JacShapeError(f"{name} inputs must both be 2-D arrays, got shapes {fmt(x.shape)} and "
                                f"{fmt(v.shape)}", position)
        return _signal_2d(b, x, v, mode, name, "centred" if kind == "convolve" else "shifted", library, None,
                          position)
    lower.__name__ = f"_signal_{name}"
    lower.__doc__ = (f"scipy.signal.{name}(in1, in2, mode='full', boundary='fill', fillvalue=0) of two matrices, as "
                     f"SciPy and jax.scipy.signal compute it ('same' as long as in1, "
                     f"{'starting at m // 2, as SciPy' if kind == 'correlate' else 'centred as SciPy'}); other "
                     "boundaries and fill values are refused.")
    return lower


def _signal_fft(name: str, library: str):
    """scipy.signal's ``fftconvolve`` / ``oaconvolve`` (and jax.scipy.signal's fftconvolve), session 36."""
    convolve = _signal("convolve", library, "valid-ones" if library == SIGNAL else "valid")

    def lower(b, args, kwargs, position):
        a = arguments(name, args, kwargs, {"in1": REQUIRED, "in2": REQUIRED, "mode": Static("full"),
                                           "axes": Static(None)}, position)
        if static(b, a["axes"], "axes", position) is not None:
            raise JacValueError(f"{name}(): jac reads axes=None (every axis of both arrays), as convolve", position)
        return convolve(b, [a["in1"], a["in2"]], {"mode": a["mode"]}, position)
    lower.__name__ = f"_signal_{name}"
    lower.__doc__ = (f"scipy.signal.{name}(in1, in2, mode='full', axes=None): convolve's sums of two vectors or two "
                     "matrices (SciPy computes them by FFT, which rounds differently in the last digits); axes must "
                     "be None.")
    return lower


for _library in (SIGNAL, JAX_SIGNAL):
    for _kind in ("convolve", "correlate"):
        variant(_library, _kind)(_signal(_kind, _library))
        variant(_library, _kind + "2d")(_signal2d(_kind, _library))
    variant(_library, "fftconvolve")(_signal_fft("fftconvolve", _library))
variant(SIGNAL, "oaconvolve")(_signal_fft("oaconvolve", SIGNAL))


LIBRARY_NAMES.update({library: frozenset(name for (lib, name) in LIBRARY_FUNCTIONS if lib == library)
                      for library in TITLES})
LIBRARY_REFUSED[POLYNOMIAL] = frozenset({"Polynomial"})
_ENDINGS = {STRIDE_TRICKS: " (PyTorch's windows: x.unfold(dim, size, step))",
            SIGNAL: " (a filter as a loop or np.convolve)", JAX_SIGNAL: " (a filter as a loop or jnp.convolve)",
            POLYNOMIAL: " (a power series: np.polynomial.polynomial.polyval, np.polyval)"}
LIBRARY_ENDINGS.update({library: ("jnp's functions" if library.startswith("jax.") else "NumPy's functions") +
                        _ENDINGS.get(library, _ENDINGS[POLYNOMIAL] if library.startswith(POLYNOMIAL) else "")
                        for library in TITLES})


@variant("numpy", "trapz")
def _trapz_removed(b, args, kwargs, position):
    """np.trapz: refused as the NumPy jac runs (2.4) and JAX (0.10) refuse it, naming np.trapezoid (the same rule)."""
    written = b.call or "np.trapz"
    module = "jax.numpy" if written.startswith(("jnp.", "jax.")) else "numpy"
    raise JacNameError(f"{written}: module '{module}' has no attribute 'trapz' (NumPy removed it in 2.4, deprecated "
                       f"since 2.0; JAX removed jnp.trapz too): write {written[:-len('trapz')]}trapezoid(y, x=None, "
                       f"dx=1.0, axis=-1), the same trapezoidal rule", position)
