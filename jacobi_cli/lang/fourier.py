"""Fourier transforms of real signals (session 36), registered in ``functions``' table when ``lang`` is imported.

jac has no complex dtype: a complex value of the text is a :class:`Complex`, a pair of real graph values (real part,
imaginary part) of one shape. Only the transforms make one (``torch.fft``, ``np.fft``, ``jnp.fft``, ``scipy.fft``,
``torch.stft``), and ``torch.complex(re, im)``, ``torch.polar(r, theta)``, ``torch.view_as_complex``, Python's
``complex(a, b)``, a list of complex values given to an array constructor (:class:`ComplexList`), a literal ``1j``.
A transform is a real linear map of the pair: its value is NumPy's (the ``dft`` op, never differentiated), its derivative that of the same map written as
products with constant cos / sin matrices while those hold at most ``MATRIX_BYTES`` (``_products``: the ``matmul``
rules; a few points), and past it as ``fftmap`` ops, whose JVP is the same FFT of the tangent and VJP the adjoint FFT
(session 37; the route chosen by cost since session 38), so every order and mode holds at any length (the full
Jacobian stays within the memory budget).

What jac reads of a complex value (the parser's ``lower`` sends every node with a Complex operand to :func:`lower`):
``+ - * /`` with complex or real operands, ``**`` of a small integer, ``@``, unary ``-``; ``.real``, ``.imag``,
``.shape``, ``.ndim``, ``.T``, ``.mT``; ``abs`` (its derivative at 0 is 0, PyTorch's and JAX's), ``angle`` (0 at
0, PyTorch's), ``conj``, ``exp``, ``square``, ``view_as_real``; indexing and slicing; the inverse transforms; and
``PARTWISE`` (sum, mean, reshape, flip, roll, ...: real linear maps with real coefficients, applied to each part by
the parser's own lowering). Anything else that meets a complex value is refused naming this list, and so is a complex
value as an output (jac's outputs are real).
"""

from __future__ import annotations

import ast
import math

from types import MappingProxyType

import numpy as np

from ..errors import JacNameError, JacValueError
from ..ir.graph import Tracer
from ..ir.shapes import broadcast
from .jaxnames import LIBRARY_NAMES
from .functions import FUNCTIONS, LIBRARY_FUNCTIONS, REQUIRED, Items, Static, arguments, static, static_int, \
    static_ints, tensor, variant

MATRIX_BYTES = 65_536  # a transform's derivative is products with its cos / sin matrices (session 36) only while
# the two hold at most this many bytes (a full transform of 64 points, rfft of 89); past it the fftmap op's FFTs
# (O(n log n) time, O(n) bytes; session 37 used them only past 4,096 points, whose matrices held 268 MB). Chosen by
# cost (session 38, benchmarks/fft38_bench.py): up to here a warm VJP is ~20 µs faster with the matrices and their
# build ~0.1 ms slower; from 128 points on the build costs more than 50 warm calls gain, and the full Jacobian is 2x
# (128) to 18x (1,024) slower. Both routes give the same map within a few units in the last place (tests/test_fft38).
ORDINARY = object()  # :func:`lower`'s answer for a node the parser lowers as usual (a transform of a complex value)
READ = ("of a complex value jac reads + - * / (by a complex or real value), ** of an integer, @, .real, .imag, "
        "abs, angle, conj, exp, square, view_as_real, indexing, sum, mean, reshape, flip, roll, the fft functions "
        "and their inverses (ifft, irfft); the output must be real: take .real, .imag, abs() or "
        "torch.view_as_real of it")
FFT_LIBRARIES = ("torch.fft", "numpy.fft")
READS_COMPLEX = frozenset({("torch", "istft"), ("scipy.signal", "istft")})  # functions of other libraries whose
# argument is a complex value (session 38): lowered as usual, reading the Complex themselves
# a 1-d transform's parameters (module level: the reference tool reads a lowering's string constants as op names,
# and 'norm' is one)
ONE_AXIS = MappingProxyType({"x": REQUIRED, "n": None, "axis": -1, "norm": None})
SEVERAL_AXES = MappingProxyType({"x": REQUIRED, "s": None, "axes": None, "norm": None})
# real linear maps with real coefficients: the parser's lowering applied to the real part and to the imaginary part
PARTWISE = frozenset({"sum", "mean", "flip", "fliplr", "flipud", "roll", "reshape", "view", "transpose", "permute",
                      "squeeze", "unsqueeze", "flatten", "ravel", "swapaxes", "swapdims", "moveaxis", "movedim",
                      "expand_dims", "clone", "detach", "contiguous", "copy", "narrow", "cumsum", "diff", "trace",
                      "diagonal", "fftshift", "ifftshift", "resolve_neg", "squeeze_", "tile", "repeat",
                      "broadcast_to", "expand"})
SHAPE_READS = frozenset({"size", "dim", "numel", "len", "shape", "ndim"})


class Complex:
    """A complex array of the text: its real and imaginary parts, two real graph values of one shape."""

    __slots__ = ("re", "im", "exact")

    def __init__(self, re: Tracer, im: Tracer, exact=None):
        # exact: None, or a constant mask (broadcast to the shape) of the elements whose imaginary part every
        # library makes +0 (rfft's bins 0 and n / 2): angle reads π there for a negative real part
        self.re, self.im, self.exact = re, im, exact

    @property
    def shape(self) -> tuple:
        return tuple(self.re.shape)

    def __repr__(self) -> str:
        return f"Complex({self.re!r}, {self.im!r})"


class ComplexList(tuple):
    """A list or tuple written in the text that holds a complex value (``[1 + 2j, 3]``, ``(z, 1j)``): read only as
    the data of an array constructor (:data:`CONSTRUCTORS`), which makes the pair of it (session 37)."""

    __slots__ = ()


CONSTRUCTORS = frozenset({"tensor", "as_tensor", "array", "asarray"})
LIST_READ = ("a list or tuple of complex values is read only as the one argument of torch.tensor, torch.as_tensor, "
             "np.array, np.asarray or jnp.array (no dtype= or other argument), which makes a complex array of it")


def holds(kids) -> bool:
    """Does a Complex value (or a list of them) sit among ``kids``?"""
    for k in kids:
        if type(k) is Complex or type(k) is ComplexList:
            return True
    return False


def refuse(what: str, position) -> None:
    raise JacValueError(f"{what} is complex, which jac does not read here: {READ}",
                        position)


def make(b, re, im, position) -> Complex:
    """The pair (re, im), both broadcast to their common shape."""
    if tuple(re.shape) != tuple(im.shape):
        shape = broadcast(tuple(re.shape), tuple(im.shape))
        re, im = (t if tuple(t.shape) == shape else b.apply("broadcast_to", t, shape=shape, position=position)
                  for t in (re, im))
    return Complex(re, im)


def real(b, value, what: str, position) -> Tracer:
    """A real operand: an array, or a Python number as a constant."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Tracer)):
        raise JacValueError(f"{what}: a complex value meets {value!r} here; {READ}", position)
    return value if isinstance(value, Tracer) else b.const(float(value), position)


def parts(b, value, position) -> tuple:
    """(re, im) of a complex value or of a real one (its imaginary part zeros: None, added by no op)."""
    if type(value) is Complex:
        return value.re, value.im
    return real(b, value, "an operand", position), None


def _zeros_like(b, t: Tracer, position) -> Tracer:
    return b.const(np.zeros(_concrete(t.shape, position)), position)


def _concrete(shape, position) -> tuple:
    if any(not isinstance(s, int) for s in shape):
        raise JacValueError("a Fourier transform needs the sizes of its axes (a symbolic size was given)", position)
    return tuple(shape)


# -- arithmetic ---------------------------------------------------------------------------------------------------

def _plus(b, x, y, op, position):
    if x is None:
        return y if y is None or op == "add" else b.apply("neg", y, position=position)
    return x if y is None else b.apply(op, x, y, position=position)


def _times(b, x, y, position):
    return None if x is None or y is None else b.apply("mul", x, y, position=position)


def add(b, left, right, op, position) -> Complex:
    (a, ai), (c, ci) = parts(b, left, position), parts(b, right, position)
    re, im = b.apply(op, a, c, position=position), _plus(b, ai, ci, op, position)
    return make(b, re, im if im is not None else _zeros_like(b, re, position), position)


def multiply(b, left, right, position) -> Complex:
    (a, ai), (c, ci) = parts(b, left, position), parts(b, right, position)
    re = _plus(b, _times(b, a, c, position), _times(b, ai, ci, position), "sub", position)
    im = _plus(b, _times(b, a, ci, position), _times(b, ai, c, position), "add", position)
    return make(b, re, im, position)


def divide(b, left, right, position) -> Complex:
    """``left / right``: by a complex denominator c + di as ((a + bi)(c/r - i d/r)) / r with r = hypot(c, d), so
    that c² + d² neither overflows (1 / (1e200 + 1e200j) was 0, silently, for 5e-201 - 5e-201j) nor underflows
    (1 / (1e-200 + 1e-200j) was inf for 5e199 - 5e199j), as the libraries' scaled divisions (NumPy's Smith
    division, PyTorch's ``c10::complex``) avoid it; c/r and d/r lie in [-1, 1]. At c = d = 0 each part is divided
    by 0 (±inf, or NaN where the part is 0), C99's Annex G as NumPy, PyTorch and JAX answer, not 0/0 = NaN; the
    branch not taken is kept finite (the scaled one over r = hypot(1, 0) there, as :func:`modulus` keeps it; the
    other 0 / 1 elsewhere), so it warns of nothing and its derivative, which the ``where`` weighs by 0, is finite."""
    (a, ai), (c, ci) = parts(b, left, position), parts(b, right, position)
    if ci is None:  # by a real value: each part (the left one is complex)
        return Complex(b.apply("div", a, c, position=position), b.apply("div", ai, c, position=position))

    def ap(op, *args):
        return b.apply(op, *args, position=position)
    zero = _at_zero(b, Complex(c, ci), position)
    one, naught = b.const(1.0, position), b.const(0.0, position)
    r = ap("hypot", ap("where", zero, one, c), ci)
    cs, ds = ap("div", c, r), ap("div", ci, r)
    re = _plus(b, ap("mul", a, cs), _times(b, ai, ds, position), "add", position)
    im = _plus(b, _times(b, ai, cs, position), ap("mul", a, ds), "sub", position)
    re, im = ap("div", re, r), ap("div", im, r)
    by_zero = ap("where", zero, ap("add", c, ci), one)  # 0 at a zero denominator (its derivative meets 1/0 too)

    def divided(part):  # the part / 0 at a zero denominator, 0 / 1 elsewhere
        return ap("div", ap("where", zero, part, naught), by_zero)
    re = ap("where", zero, divided(a), re)
    im = ap("where", zero, divided(ai if ai is not None else _zeros_like(b, a, position)), im)
    return make(b, re, im, position)


def power(b, base, exponent, position) -> Complex:
    """``z ** k`` of an integer constant k (0 < |k| <= 64): repeated products, as NumPy's small integer powers."""
    if type(exponent) is Complex or type(base) is not Complex:
        refuse("an exponent", position)
    k = static(b, exponent, "the exponent of a complex value", position) if not isinstance(exponent, (int, float)) \
        else exponent
    if isinstance(k, bool) or not isinstance(k, (int, float, np.integer, np.floating)) or k != int(k) \
            or not 0 < abs(int(k)) <= 64:
        raise JacValueError(f"a complex value to the power {k!r}: jac reads integer powers 1 to 64 (and their "
                            f"negatives) of a complex value; {READ}", position)
    k = int(k)
    result, square, n = None, base, abs(k)
    while n:
        if n & 1:
            result = square if result is None else multiply(b, result, square, position)
        n >>= 1
        if n:
            square = multiply(b, square, square, position)
    return divide(b, 1.0, result, position) if k < 0 else result


def matmul(b, left, right, position) -> Complex:
    (a, ai), (c, ci) = parts(b, left, position), parts(b, right, position)
    re = _plus(b, b.apply("matmul", a, c, position=position),
               None if ai is None or ci is None else b.apply("matmul", ai, ci, position=position), "sub", position)
    im = _plus(b, None if ci is None else b.apply("matmul", a, ci, position=position),
               None if ai is None else b.apply("matmul", ai, c, position=position), "add", position)
    return make(b, re, im, position)


def conj(b, z: Complex, position) -> Complex:
    return Complex(z.re, b.apply("neg", z.im, position=position))


def modulus(b, z: Complex, position) -> Tracer:
    """|z| = hypot(re, im), with the derivative 0 where z = 0 (PyTorch's and JAX's: sgn(0) = 0), to every order:
    the derivative flows through hypot(1, 0) there, which the ``where`` masks out."""
    zero = _at_zero(b, z, position)
    one = b.const(1.0, position)
    safe = b.apply("where", zero, one, z.re, position=position)
    return b.apply("where", zero, b.const(0.0, position), b.apply("hypot", safe, z.im, position=position),
                   position=position)


def angle(b, z: Complex, position) -> Tracer:
    """arg z = atan2(im, re); its derivative 0 where z = 0, as PyTorch's (atan2's own is NaN there); the value there
    atan2's (0 or ±π by the zeros' signs, as NumPy and PyTorch give). Refused at evaluation on the negative real
    axis, within rounding (:func:`_on_the_cut`), but where every library makes the imaginary part +0."""
    zero = _at_zero(b, z, position)
    safe = b.apply("where", zero, b.const(1.0, position), z.re, position=position)
    at_zero = b.apply("detach", b.apply("atan2", z.im, z.re, position=position), position=position)
    found = b.apply("where", zero, at_zero, b.apply("atan2", z.im, safe, position=position), position=position)
    return b.apply("sub", found, _on_the_cut(b, z, position), position=position)


# angle's value jumps by 2π across the negative real axis: where the imaginary part is within this many units of
# rounding of the real part's size (or a zero whose sign the libraries' FFTs set differently), it is π or -π by
# their roundings (PyTorch's ifft of a real signal has -0 at bins 0 and n / 2 where NumPy has +0, or 1.7e-17)
CUT_ROUNDINGS = 2 ** 14
_CUT = ("angle: a value lies on the negative real axis up to rounding (its imaginary part is 0 or within "
        "rounding of it), where the phase is π or -π by the sign of that zero or rounding error, which PyTorch's, "
        "NumPy's and JAX's transforms make differently; jac refuses rather than pick one (the derivative is the same "
        "on both sides: abs() and .real / .imag are read there)")


def _on_the_cut(b, z: Complex, position) -> Tracer:
    """0, refused at evaluation (``finite_range``) where z is a negative real number up to rounding, or 0 with a
    negative zero real part (π there, 0 for +0: the libraries' products make those signs differently)."""
    zero = b.const(0.0, position)
    tol = b.const(float(CUT_ROUNDINGS * np.finfo(b.dtype).eps), position)
    negative = b.apply("signbit", z.re, position=position)  # -0 too: angle(-0 + 0j) is π, angle(+0 + 0j) 0
    near = b.apply("le", b.apply("abs", z.im, position=position),
                   b.apply("mul", b.apply("abs", z.re, position=position), tol, position=position), position=position)
    flag = b.apply("mul", negative, near, position=position)
    if z.exact is not None:
        flag = b.apply("mul", flag, b.const(1.0 - z.exact, position), position=position)
    lo = b.apply("where", b.apply("ne", flag, zero, position=position), z.re * b.const(np.nan, position), zero,
                 position=position)
    return b.apply("finite_range", lo, zero, message=_CUT, position=position)


def _at_zero(b, z: Complex, position) -> Tracer:
    from .functions import boolean
    zero = b.const(0.0, position)
    both = b.apply("mul", b.apply("eq", z.re, zero, position=position), b.apply("eq", z.im, zero, position=position),
                   position=position)
    return boolean(b, b.apply("ne", both, zero, position=position))


def exp(b, z: Complex, position) -> Complex:
    scale = b.apply("exp", z.re, position=position)
    return Complex(b.apply("mul", scale, b.apply("cos", z.im, position=position), position=position),
                   b.apply("mul", scale, b.apply("sin", z.im, position=position), position=position))


def view_as_real(b, z: Complex, position) -> Tracer:
    return FUNCTIONS["stack"](b, [Items([z.re, z.im])], {"axis": -1}, position)


# -- the transforms -----------------------------------------------------------------------------------------------

def _unit(n: int, r: np.ndarray) -> tuple:
    """cos and sin of 2π r / n for integers 0 <= r < n, exact at the quarter turns (sin(π) is 0, not 1.2e-16)."""
    angle = 2.0 * np.pi * r / n
    cos, sin = np.cos(angle), np.sin(angle)
    quarter = (4 * r) % n == 0
    turns = (4 * r) // n
    cos = np.where(quarter, np.array([1.0, 0.0, -1.0, 0.0])[turns % 4], cos)
    sin = np.where(quarter, np.array([0.0, 1.0, 0.0, -1.0])[turns % 4], sin)
    return cos, sin


def _scale(norm, n: int, inverse: bool, position) -> float:
    norm = "backward" if norm is None else norm
    if norm not in ("backward", "ortho", "forward"):
        raise JacValueError(f"norm={norm!r}: the Fourier transforms take norm='backward', 'ortho' or 'forward'",
                            position)
    if norm == "ortho":
        return 1.0 / math.sqrt(n)
    return 1.0 / n if (norm == "backward") == inverse else 1.0


def _matrix(b, values: np.ndarray, position) -> Tracer:
    """A transform's constant matrix, its size checked before it is made."""
    b.check_size(values.shape, "a transform's cos / sin matrix", position)
    return b.const(values, position)


def _along(b, t: Tracer, axis: int, matrix: Tracer, position) -> Tracer:
    """``t`` times ``matrix`` (length along ``axis`` × the result's length) along ``axis``."""
    last = t.ndim - 1
    moved = t if axis == last else FUNCTIONS["moveaxis"](b, [t, axis, -1], {}, position)
    out = b.apply("matmul", moved, matrix, position=position)
    return out if axis == last else FUNCTIONS["moveaxis"](b, [out, -1, axis], {}, position)


def _fits(b, re, axis: int, points: int, position) -> None:
    """Refuse, before anything is made, a transform whose output of ``points`` along ``axis`` passes the budget
    (``np.fft.fft(x, n=2**63)``: ``np.arange(2**63)`` is empty, and the cos / sin tables then failed with an
    IndexError, exit 70; ``n=10**18`` asked NumPy for the memory)."""
    shape = _concrete(re.shape, position)
    b.check_size(shape[:axis] + (points,) + shape[axis + 1:], f"the Fourier transform of {points:,} points",
                 position)


def _length(value, axis: int, n, position) -> tuple:
    shape = _concrete(value.shape, position)
    if not shape:
        raise JacValueError("a Fourier transform needs an array of at least one axis, not a 0-d value", position)
    if not -len(shape) <= axis < len(shape):
        raise JacValueError(f"axis {axis} is out of range for an array of {len(shape)} axes", position)
    axis %= len(shape)
    length = shape[axis]
    n = length if n is None else n
    if n < 1:
        raise JacValueError(f"a Fourier transform of {n} points: the number of points must be at least 1", position)
    return axis, length, n


def _matrices_pay(rows: int, columns: int) -> bool:
    """Is the cos / sin matrix pair of a transform (``rows`` points in, ``columns`` out) cheaper than the fftmap
    ops? Only while it holds at most :data:`MATRIX_BYTES` bytes (float64: the bytes decide, not the dtype)."""
    return 2 * rows * columns * 8 <= MATRIX_BYTES


def _fftmaps(b, re, im, kind: str, axis: int, length: int, n: int, norm, part: str, position) -> Tracer:
    """``part`` of the transform of (re, im) as fftmap ops (differentiated by FFTs): the real part's map plus the
    imaginary part's (its signal i im)."""
    def one(t, imag):
        return b.apply("fftmap", t, kind=kind, axis=axis, n=n, m=length, norm=norm, part=part, imag=imag,
                       adjoint=False, position=position)
    out = one(re, False)
    return out if im is None else b.apply("add", out, one(im, True), position=position)


def _dft(b, value, axis: int, n, inverse: bool, norm, position, half: bool = False) -> Complex:
    """The DFT (``inverse``: its inverse) of ``value`` along ``axis``, ``n`` points (the input cut or padded with
    zeros to n); ``half``: only the frequencies 0 .. n // 2 (rfft)."""
    re, im = parts(b, value, position)
    axis, length, n = _length(re, axis, n, position)
    _fits(b, re, axis, n // 2 + 1 if half else n, position)
    k = np.arange(n // 2 + 1 if half else n)
    scale = _scale(norm, n, inverse, position)
    kind = ("ihfft" if inverse else "rfft") if half else "ifft" if inverse else "fft"
    if not _matrices_pay(length, len(k)):
        out_re, out_im = (_fftmaps(b, re, im, kind, axis, length, n, norm, part, position) for part in ("re", "im"))
    else:
        out_re, out_im = _products(b, re, im, axis, length, n, k, scale, inverse, position)
    signal = (re,) if im is None or half else (re, im)
    exact = None
    if kind == "rfft" or kind == "fft" and im is None:  # a real signal's bin 0 (rfft's n / 2 too): +0 in every
        exact = np.zeros((len(k),) + (1,) * (re.ndim - 1 - axis))  # library (NumPy's fft leaves a rounding
        exact[0] = 1.0  # error at n / 2, PyTorch's ifft -0 at both)
        if n % 2 == 0 and kind == "rfft":
            exact[n // 2] = 1.0
    return Complex(*(_exact(b, signal, made, kind, axis, n, norm, part, position)
                     for made, part in ((out_re, "re"), (out_im, "im"))), exact)


def _products(b, re, im, axis: int, length: int, n: int, k, scale: float, inverse: bool, position) -> tuple:
    """The transform's (real part, imaginary part) as products with its cos / sin matrices (of at most
    MATRIX_BYTES: :func:`_matrices_pay`)."""
    used = min(length, n)
    cos, sin = _unit(n, (np.arange(used)[:, None] * k[None, :]) % n)
    c, s = np.zeros((length, len(k))), np.zeros((length, len(k)))
    c[:used], s[:used] = cos * scale, (sin if inverse else -sin) * scale
    c, s = _matrix(b, c, position), _matrix(b, s, position)
    out_re, out_im = _along(b, re, axis, c, position), _along(b, re, axis, s, position)
    if im is not None:
        out_re = b.apply("sub", out_re, _along(b, im, axis, s, position), position=position)
        out_im = b.apply("add", out_im, _along(b, im, axis, c, position), position=position)
    return out_re, out_im


def _exact(b, signal: tuple, product: Tracer, kind: str, axis: int, n: int, norm, part: str, position) -> Tracer:
    """NumPy's value of the transform (the ``dft`` op, never differentiated) with the derivative of ``product``,
    the same map as products with cos / sin matrices: value - (stop(product) - product). stop(p) - p is +0 for
    every finite p, so the value is NumPy's to the bit, its signed zeros included (angle reads them)."""
    value = b.apply("dft", *signal, kind=kind, axis=axis, n=n, norm=norm, part=part, position=position)
    zero = b.apply("sub", b.apply("detach", product, position=position), product, position=position)
    return b.apply("sub", value, zero, position=position)


def _hermitian(b, value, axis: int, n, norm, position, forward: bool) -> Tracer:
    """irfft (``forward``: hfft, the same map of the conjugate with the forward scale) along ``axis``: the real
    signal of ``n`` points (default 2 (m - 1)) whose spectrum's first half is ``value`` (m points, cut or padded
    with zeros to n // 2 + 1); the imaginary parts at 0 and at n / 2 are not read, as NumPy and PyTorch."""
    re, im = parts(b, value, position)
    shape = _concrete(re.shape, position)
    if not shape:
        raise JacValueError("a Fourier transform needs an array of at least one axis, not a 0-d value", position)
    m = shape[axis % len(shape)] if -len(shape) <= axis < len(shape) else 0
    n = 2 * (m - 1) if n is None else n
    axis, length, n = _length(re, axis, n, position)
    _fits(b, re, axis, n, position)
    scale = _scale(norm, n, not forward, position)
    kind = "hfft" if forward else "irfft"
    if not _matrices_pay(length, n):
        return _exact(b, (re,) if im is None else (re, im),
                      _fftmaps(b, re, im, kind, axis, length, n, norm, "re", position), kind, axis, n, norm, "re",
                      position)
    used = min(length, n // 2 + 1)
    k = np.arange(used)
    cos, sin = _unit(n, (k[:, None] * np.arange(n)[None, :]) % n)
    weight = np.where((k == 0) | (2 * k == n), 1.0, 2.0)[:, None] * scale
    c, s = np.zeros((length, n)), np.zeros((length, n))
    c[:used], s[:used] = cos * weight, sin * weight
    out = _along(b, re, axis, _matrix(b, c, position), position)
    if im is not None:
        out = b.apply("add" if forward else "sub", out, _along(b, im, axis, _matrix(b, s, position), position),
                      position=position)
    return _exact(b, (re,) if im is None else (re, im), out, kind, axis, n, norm, "re", position)


def _axis_arg(b, a, key, default, position):
    return default if a[key] is None else static_int(b, a[key], key, position)


def _one(fname: str, inverse: bool, half: bool = False):
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, ONE_AXIS, position)
        x = _signal(b, a["x"], fname, position, real_only=half)
        n = None if a["n"] is None else static_int(b, a["n"], "n", position)
        return _dft(b, x, _axis_arg(b, a, "axis", -1, position), n, inverse, _norm(b, a, position), position,
                    half)
    lower.__doc__ = (f"{fname}(x, n=None, axis=-1, norm=None): the {'inverse ' * inverse}discrete Fourier transform"
                     f"{' of a real signal, frequencies 0 to n // 2' * half}, a complex value (its .real, .imag, "
                     "abs() read it); differentiated as products with cos and sin matrices, or FFTs past a few points")
    return lower


def _hermitian_lowering(fname: str, forward: bool):
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, ONE_AXIS, position)
        x = _signal(b, a["x"], fname, position)
        n = None if a["n"] is None else static_int(b, a["n"], "n", position)
        return _hermitian(b, x, _axis_arg(b, a, "axis", -1, position), n, _norm(b, a, position), position,
                          forward)
    lower.__doc__ = (f"{fname}(x, n=None, axis=-1, norm=None): the real signal of n points (default 2 (m - 1)) whose "
                     f"spectrum's first half is {'the conjugate of ' * forward}x (m points), a real array")
    return lower


def _ihfft(b, args, kwargs, position):
    """ihfft(x, n=None, axis=-1, norm=None): the conjugate of rfft(x) scaled as an inverse transform, a complex
    value"""
    a = arguments("ihfft", args, kwargs, ONE_AXIS, position)
    x = _signal(b, a["x"], "ihfft", position, real_only=True)
    n = None if a["n"] is None else static_int(b, a["n"], "n", position)
    return _dft(b, x, _axis_arg(b, a, "axis", -1, position), n, True, _norm(b, a, position), position, True)


def _norm(b, a: dict, position):
    """The norm= argument of ``a``: None, or the string given (checked by :func:`_scale`)."""
    value = a[_NORM]
    return static(b, value, _NORM, position) if value is not None else None


_NORM = list(ONE_AXIS)[-1]  # 'norm', spelled in no lowering (an op's name)


def _signal(b, value, fname, position, real_only=False):
    if type(value) is Complex:
        if real_only:
            raise JacValueError(f"{fname}() takes a real signal, and this one is complex (PyTorch and NumPy "
                                "refuse it): take fft() of a complex value", position)
        return value
    return tensor(b, value, fname, position)


def _many(fname: str, inverse: bool, kind: str, default_axes):
    """fft2 / fftn and their inverses, rfft2 / rfftn (``kind`` "half": rfft along the last axis, then fft) and
    irfft2 / irfftn ("hermitian": ifft along all but the last, then irfft)."""
    def lower(b, args, kwargs, position):
        kwargs = {("axes" if k == "dim" else k): v for k, v in kwargs.items()}
        a = arguments(fname, args, kwargs, {**SEVERAL_AXES, "axes": default_axes}, position)
        x = _signal(b, a["x"], fname, position, real_only=kind == "half")
        ndim = len(_concrete(x.shape, position))
        sizes = None if a["s"] is None else static_ints(b, a["s"], "s", position)
        if a["axes"] is None:
            axes = tuple(range(ndim - (len(sizes) if sizes is not None else ndim), ndim))
        else:
            axes = static_ints(b, a["axes"], "axes", position)
        axes = tuple(ax % ndim if -ndim <= ax < ndim else _out_of_range(ax, ndim, position) for ax in axes)
        if sizes is not None and len(sizes) != len(axes):
            raise JacValueError(f"{fname}(): s and axes must have the same length ({len(sizes)} and {len(axes)})",
                                position)
        if len(set(axes)) != len(axes) or not axes:
            raise JacValueError(f"{fname}(): the axes must be distinct, and at least one", position)
        sizes = sizes or (None,) * len(axes)
        norm = _norm(b, a, position)
        if kind == "half":
            out = _dft(b, x, axes[-1], sizes[-1], False, norm, position, half=True)
            pairs = list(zip(axes[:-1], sizes[:-1]))
        elif kind == "hermitian":
            pairs = list(zip(axes[:-1], sizes[:-1]))
            out = x
        else:
            pairs, out = list(zip(axes, sizes)), x
        for axis, size in reversed(pairs):
            out = _dft(b, out, axis, size, inverse, norm, position)
        if kind == "hermitian":
            out = _hermitian(b, out, axes[-1], sizes[-1], norm, position, False)
        return out
    what = {"half": " of a real signal (rfft along the last axis, fft along the others)",
            "hermitian": " whose result is real (ifft along all but the last axis, irfft along it)"}.get(kind, "")
    lower.__doc__ = (f"{fname}(x, s=None, axes={default_axes}, norm=None): the {'inverse ' * inverse}discrete "
                     f"Fourier transform over several axes{what}")
    return lower


def _out_of_range(axis, ndim, position):
    raise JacValueError(f"axis {axis} is out of range for an array of {ndim} axes", position)


def _shift(fname: str, sign: int):
    def lower(b, args, kwargs, position):
        kwargs = {("axes" if k == "dim" else k): v for k, v in kwargs.items()}
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "axes": None}, position)
        x = a["x"]
        if type(x) is Complex:
            return Complex(*(lower(b, [p], {"axes": a["axes"]}, position) for p in (x.re, x.im)))
        x = tensor(b, x, fname, position)
        shape = _concrete(x.shape, position)
        axes = tuple(range(len(shape))) if a["axes"] is None else static_ints(b, a["axes"], "axes", position)
        for ax in axes:  # np.fft.fftshift(x, axes=10**9): NumPy's AxisError, before shape[ax] is read
            if not -len(shape) <= ax < len(shape):
                _out_of_range(ax, len(shape), position)
        shifts = tuple(sign * (shape[ax] // 2) for ax in axes)
        return FUNCTIONS["roll"](b, [x, shifts, axes], {}, position) if axes else x
    lower.__doc__ = (f"{fname}(x, axes=None): x rolled by {'-' * (sign < 0)}(n // 2) along each of the axes (all by "
                     "default), for a real or a complex value")
    return lower


def _frequencies(fname: str, half: bool):
    def lower(b, args, kwargs, position):
        kwargs = {k: v for k, v in kwargs.items() if k not in ("dtype", "device", "requires_grad", "layout")}
        a = arguments(fname, args, kwargs, {"n": REQUIRED, "d": 1.0}, position)
        n = static_int(b, a["n"], "n", position)
        if n < 1 or n > 10 ** 7:
            raise JacValueError(f"{fname}(n, d): n must be a positive integer (up to 10**7), not {n}", position)
        d = a["d"]
        if isinstance(d, (Static, Items, bool)) or d is None or isinstance(d, Tracer) and d.ndim:
            raise JacValueError(f"{fname}(n, d): d must be a number (the sample spacing)", position)
        k = np.arange(n // 2 + 1) if half else np.concatenate([np.arange((n - 1) // 2 + 1), np.arange(-(n // 2), 0)])
        spacing = d if isinstance(d, Tracer) else b.const(float(d), position)
        scale = b.apply("div", b.const(1.0, position), b.apply("mul", b.const(float(n), position), spacing,
                                                                position=position), position=position)
        return b.apply("mul", b.const(k.astype(float), position), scale, position=position)
    lower.__doc__ = (f"{fname}(n, d=1.0): the {'non-negative ' * half}sample frequencies of an "
                     f"{'r' * half}fft of n points, k / (n d) as NumPy computes them (d may be an input)")
    return lower


_TRANSFORMS = {
    "fft": _one("fft", False), "ifft": _one("ifft", True), "rfft": _one("rfft", False, half=True),
    "irfft": _hermitian_lowering("irfft", False), "hfft": _hermitian_lowering("hfft", True), "ihfft": _ihfft,
    "fft2": _many("fft2", False, "full", (-2, -1)), "ifft2": _many("ifft2", True, "full", (-2, -1)),
    "fftn": _many("fftn", False, "full", None), "ifftn": _many("ifftn", True, "full", None),
    "rfft2": _many("rfft2", False, "half", (-2, -1)), "rfftn": _many("rfftn", False, "half", None),
    "irfft2": _many("irfft2", True, "hermitian", (-2, -1)), "irfftn": _many("irfftn", True, "hermitian", None),
    "fftshift": _shift("fftshift", 1), "ifftshift": _shift("ifftshift", -1),
    "fftfreq": _frequencies("fftfreq", False), "rfftfreq": _frequencies("rfftfreq", True),
}
for _library in FFT_LIBRARIES:
    for _name, _lowering in _TRANSFORMS.items():
        variant(_library, _name)(_lowering)


# -- the short-time Fourier transform (session 37) -------------------------------------------------------------------

STFT = MappingProxyType({"input": REQUIRED, "n_fft": REQUIRED, "hop_length": None, "win_length": None, "window": None,
                         "center": True, "pad_mode": "reflect", "normalized": False, "onesided": None,
                         "return_complex": None, "align_to_window": None})
_PAD_MODES = ("reflect", "constant", "replicate", "circular")


def _frame_positions(length: int, n_fft: int, hop: int, pad: int, mode: str, position) -> tuple:
    """The element of the signal each frame position reads (frames, n_fft), and where it is not padding:
    frame t reads the padded signal at t hop + j, padded by ``pad`` on each side as F.pad's ``mode``."""
    if mode == "reflect" and pad >= length:
        raise JacValueError(f"stft: reflect padding of {pad} needs a signal longer than {pad} points, not {length} "
                            "(PyTorch's error too)", position)
    frames = 1 + (length + 2 * pad - n_fft) // hop
    if frames < 1:
        raise JacValueError(f"stft: n_fft={n_fft} is longer than the {'padded ' * bool(pad)}signal "
                            f"({length + 2 * pad} points)", position)
    at = np.arange(frames)[:, None] * hop + np.arange(n_fft)[None, :] - pad
    inside = (at >= 0) & (at < length)
    if mode == "reflect":
        at = np.abs(at)
        at = np.where(at >= length, 2 * (length - 1) - at, at)
    elif mode == "circular":
        at = at % length
    else:  # replicate reads the end elements, constant reads anything and weighs it 0
        at = np.clip(at, 0, length - 1)
    return at, inside


@variant("torch", "stft")
def _stft(b, args, kwargs, position):
    """torch.stft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, pad_mode='reflect',
    normalized=False, onesided=None, return_complex=True): the rfft of each frame (the signal padded, gathered into
    frames, weighed by the window), shape (n_fft // 2 + 1, frames), a complex value"""
    a = arguments("stft", args, kwargs, STFT, position)
    x = tensor(b, a["input"], "stft", position)
    shape = _concrete(x.shape, position)
    flag = {k: static(b, a[k], k, position) if isinstance(a[k], Static) else a[k]
            for k in ("center", "normalized", "onesided", "return_complex", "align_to_window", "pad_mode")}
    if flag["return_complex"] is not True:
        raise JacValueError("stft: jac reads torch.stft(..., return_complex=True) (PyTorch requires return_complex "
                            "for a real signal, and return_complex=False is deprecated: take torch.view_as_real of "
                            "the complex result)", position)
    if len(shape) not in (1, 2) or flag["align_to_window"] or flag["pad_mode"] not in _PAD_MODES:
        raise JacValueError("stft: jac reads a real signal of 1 or 2 axes, pad_mode 'reflect', 'constant', "
                            "'replicate' or 'circular', without align_to_window", position)
    n_fft = static_int(b, a["n_fft"], "n_fft", position)
    hop = n_fft // 4 if a["hop_length"] is None else static_int(b, a["hop_length"], "hop_length", position)
    width = n_fft if a["win_length"] is None else static_int(b, a["win_length"], "win_length", position)
    if n_fft < 1 or hop < 1 or not 0 < width <= n_fft:
        raise JacValueError(f"stft: n_fft={n_fft}, hop_length={hop} and win_length={width} must be positive, "
                            "win_length at most n_fft", position)
    at, weight = _frame_positions(shape[-1], n_fft, hop, n_fft // 2 if flag["center"] else 0, flag["pad_mode"],
                                  position)
    frames = FUNCTIONS["index_select"](b, [x, -1, b.const(at.reshape(-1), position)], {}, position)
    frames = FUNCTIONS["reshape"](b, [frames, shape[:-1] + at.shape], {}, position)
    if flag["pad_mode"] == "constant":  # zeros where the padding is (where, not a product: 0 * inf is NaN)
        frames = b.apply("where", b.const(weight, position), frames, b.const(0.0, position), position=position)
    if a["window"] is not None:
        window = tensor(b, a["window"], "stft", position)
        if _concrete(window.shape, position) != (width,):
            raise JacValueError(f"stft: the window has shape {window.shape}, not ({width},) (win_length)", position)
        left = (n_fft - width) // 2
        if width < n_fft:
            window = FUNCTIONS["pad"](b, [window, (left, n_fft - width - left)], {}, position)
        frames = b.apply("mul", frames, window, position=position)
    out = _dft(b, frames, -1, n_fft, False, "ortho" if flag["normalized"] else None, position,
               half=flag["onesided"] is not False)  # onesided=False (session 38): every frequency, fft
    return Complex(*(FUNCTIONS["swapaxes"](b, [t, -1, -2], {}, position) for t in (out.re, out.im)),
                   out.exact[:, None])  # the bins every library makes +0 along the frequency axis, second to last


ISTFT = MappingProxyType({"input": REQUIRED, "n_fft": REQUIRED, "hop_length": None, "win_length": None,
                          "window": None, "center": True, "normalized": False, "onesided": None, "length": None,
                          "return_complex": False})
ENVELOPE_MIN = 1e-11  # PyTorch's istft refuses a window whose overlap-add falls below this where the signal is read
_ENVELOPE = ("istft: the window's overlap-add (the sum of window² over the frames) is below 1e-11 at a point of the "
             "signal, which cannot be recovered there (PyTorch's error: 'window overlap add min'); with center=False a "
             "window that starts at 0 (hann) leaves the first point so: use center=True or a window without zeros")


def _overlap_add(b, frames: Tracer, hop: int, position) -> Tracer:
    """``frames`` (..., T, N) added at hops: y[p] = Σ_t frames[t, p - t·hop] over 0 <= p - t·hop < N, shape
    (..., N + hop (T - 1)); as a constant gather of the R = ceil(N / hop) frames each point reads (zero where a
    frame does not reach it), summed in the frames' order."""
    *lead, count, width = _concrete(frames.shape, position)
    total, reach = width + hop * (count - 1), -(-width // hop)
    at = np.arange(total)[:, None]
    t = at // hop - (reach - 1) + np.arange(reach)[None, :]  # the frames that may reach point p, oldest first
    j = at - t * hop
    valid = (t >= 0) & (t < count) & (j < width)
    flat = FUNCTIONS["reshape"](b, [frames, tuple(lead) + (count * width,)], {}, position)
    gathered = FUNCTIONS["index_select"](b, [flat, -1, b.const(np.where(valid, t * width + j, 0).reshape(-1),
                                                                  position)], {}, position)
    gathered = FUNCTIONS["reshape"](b, [gathered, tuple(lead) + (total, reach)], {}, position)
    kept = b.apply("where", b.const(valid.astype(float), position), gathered, b.const(0.0, position),
                   position=position)
    return FUNCTIONS["sum"](b, [kept], {"axis": -1}, position)


def _istft_flags(b, a, position) -> dict:
    flag = {k: static(b, a[k], k, position) if isinstance(a[k], Static) else a[k]
            for k in ("center", "normalized", "onesided", "return_complex")}
    for k, v in flag.items():
        if v is not None and not isinstance(v, bool):
            raise JacValueError(f"istft: {k} must be True or False, not {v!r}", position)
    return flag


@variant("torch", "istft")
def _istft(b, args, kwargs, position):
    """torch.istft(input, n_fft, hop_length=None, win_length=None, window=None, center=True, normalized=False,
    onesided=None, length=None, return_complex=False): the inverse of torch.stft: irfft of each frame (ifft with
    return_complex=True), weighed by the window, added at hops, divided by the window's overlap-add, the centre
    padding cut off, a real signal (a complex one with return_complex=True)"""
    a = arguments("istft", args, kwargs, ISTFT, position)
    z = a["input"]
    if type(z) is not Complex:
        raise JacValueError("istft requires a complex-valued input tensor matching the output from stft with "
                            "return_complex=True (PyTorch's error too)", position)
    shape = _concrete(z.shape, position)
    flag = _istft_flags(b, a, position)
    n_fft = static_int(b, a["n_fft"], "n_fft", position)
    hop = n_fft // 4 if a["hop_length"] is None else static_int(b, a["hop_length"], "hop_length", position)
    width = n_fft if a["win_length"] is None else static_int(b, a["win_length"], "win_length", position)
    if len(shape) not in (2, 3) or n_fft < 1 or hop < 1 or not 0 < width <= n_fft:
        raise JacValueError(f"istft: a spectrogram of 2 or 3 axes (freq, frames), and n_fft={n_fft}, hop_length="
                            f"{hop}, win_length={width} positive, win_length at most n_fft (input {shape})", position)
    onesided = shape[-2] != n_fft if flag["onesided"] is None else flag["onesided"]
    if shape[-2] != (n_fft // 2 + 1 if onesided else n_fft):
        raise JacValueError(f"istft: {'one-sided' if onesided else 'two-sided'} n_fft={n_fft} needs "
                            f"{n_fft // 2 + 1 if onesided else n_fft} frequencies, and the input has {shape[-2]} "
                            "(PyTorch's error too)", position)
    if flag["return_complex"] and onesided:
        raise JacValueError("istft: cannot have onesided output if window or input is complex (return_complex=True "
                            "needs onesided=False and a two-sided spectrogram; PyTorch's error too)", position)
    spectrum = Complex(*(FUNCTIONS["swapaxes"](b, [t, -1, -2], {}, position) for t in (z.re, z.im)))
    norm = "ortho" if flag["normalized"] else None
    if flag["return_complex"]:
        frames = _dft(b, spectrum, -1, n_fft, True, norm, position)
    else:
        if not onesided:  # PyTorch reads the first half only
            spectrum = Complex(*(FUNCTIONS["narrow"](b, [t, -1, 0, n_fft // 2 + 1], {}, position)
                                 for t in (spectrum.re, spectrum.im)))
        frames = _hermitian(b, spectrum, -1, n_fft, norm, position, False)
    window = b.const(np.ones(width), position) if a["window"] is None else tensor(b, a["window"], "istft", position)
    if _concrete(window.shape, position) != (width,):
        raise JacValueError(f"istft: the window has shape {window.shape}, not ({width},) (win_length)", position)
    if width < n_fft:
        left = (n_fft - width) // 2
        window = FUNCTIONS["pad"](b, [window, (left, n_fft - width - left)], {}, position)
    count = shape[-1]
    envelope = _overlap_add(b, b.apply("broadcast_to", b.apply("mul", window, window, position=position),
                                       shape=(count, n_fft), position=position), hop, position)
    expected = n_fft + hop * (count - 1)
    start = n_fft // 2 if flag["center"] else 0
    length = None if a["length"] is None else static_int(b, a["length"], "length", position)
    end = start + length if length is not None else -(n_fft // 2) if flag["center"] else expected
    cut = slice(*slice(start, end).indices(expected)[:2])
    envelope = FUNCTIONS["narrow"](b, [envelope, 0, cut.start, max(0, cut.stop - cut.start)], {}, position)
    small = b.apply("lt", b.apply("abs", envelope, position=position), b.const(ENVELOPE_MIN, position),
                    position=position)
    zero = b.const(0.0, position)
    lo = b.apply("where", small, b.const(np.nan, position), zero, position=position)
    envelope = b.apply("sub", envelope, b.apply("finite_range", lo, zero, message=_ENVELOPE, position=position),
                       position=position)

    def signal(part):
        added = _overlap_add(b, b.apply("mul", part, window, position=position), hop, position)
        added = FUNCTIONS["narrow"](b, [added, -1, cut.start, max(0, cut.stop - cut.start)], {}, position)
        out = b.apply("div", added, envelope, position=position)
        if length is not None and end > expected:  # PyTorch pads the tail with zeros (and warns)
            out = LIBRARY_FUNCTIONS[("torch", "pad")](b, [out, (0, end - expected)], {}, position)  # the last axis
        return out
    if type(frames) is Complex:
        return Complex(signal(frames.re), signal(frames.im))
    return signal(frames)


# -- scipy.signal's stft and istft (session 38) -------------------------------------------------------------------------

SIGNAL_STFT = MappingProxyType({"x": REQUIRED, "fs": 1.0, "window": Static("hann_periodic"), "nperseg": 256,
                                "noverlap": None, "nfft": None, "detrend": False, "return_onesided": True,
                                "boundary": Static("zeros"), "padded": True, "axis": -1, "scaling": Static("spectrum")})
SIGNAL_ISTFT = MappingProxyType({"Zxx": REQUIRED, "fs": 1.0, "window": Static("hann_periodic"), "nperseg": None,
                                 "noverlap": None, "nfft": None, "input_onesided": True, "boundary": True,
                                 "time_axis": -1, "freq_axis": -2, "scaling": Static("spectrum")})
NOLA = 1e-10  # scipy.signal.istft divides by the window's overlap-add only where it exceeds this (by 1 elsewhere)


def _signal_window(b, window, nperseg, length, position) -> tuple:
    """(window, nperseg) as SciPy's _triage_segments makes them: a name (or a (name, parameter) tuple) through
    scipy.signal.get_window at nperseg points (at most the signal's length, as SciPy, which warns), or an array of
    nperseg points (its length by default)."""
    if isinstance(window, Static):
        import scipy.signal
        name = window.value
        nperseg = 256 if nperseg is None else nperseg
        nperseg = min(nperseg, length) if length is not None else nperseg
        try:
            values = scipy.signal.get_window(name, nperseg)
        except (ValueError, TypeError) as err:
            raise JacValueError(f"scipy.signal: window={name!r}: SciPy's error: {err}", position) from None
        return b.const(np.asarray(values, dtype=float), position), nperseg
    window = tensor(b, window, "scipy.signal", position)
    shape = _concrete(window.shape, position)
    if len(shape) != 1 or nperseg is not None and nperseg != shape[0]:
        raise JacValueError(f"scipy.signal: the window must be 1-d and of nperseg points (shape {shape}, nperseg "
                            f"{nperseg}; SciPy's error too)", position)
    return window, shape[0]


def _number(b, value, what, position) -> float:
    value = static(b, value, what, position)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise JacValueError(f"scipy.signal: {what} must be a positive number (jac reads a constant), not {value!r}",
                            position)
    return float(value)


def _flag(b, value, what, position):
    return static(b, value, what, position) if isinstance(value, Static) else value


@variant("scipy.signal", "stft")
def _signal_stft(b, args, kwargs, position):
    """scipy.signal.stft(x, fs=1.0, window='hann', nperseg=256, noverlap=None, nfft=None, detrend=False,
    return_onesided=True, boundary='zeros', padded=True, axis=-1, scaling='spectrum'): (f, t, Zxx), the frames of the
    zero-extended and zero-padded signal weighed by the window, rfft of each (fft two-sided), scaled by 1 / sum(win)
    ('psd': 1 / sqrt(fs sum(win²))); f and t constants, Zxx (..., freqs, segments) a complex value"""
    a = arguments("stft", args, kwargs, SIGNAL_STFT, position)
    x = tensor(b, a["x"], "stft", position)
    shape = _concrete(x.shape, position)
    axis, detrend, boundary, scaling = (_flag(b, a[k], k, position) for k in ("axis", "detrend", "boundary",
                                                                              "scaling"))
    if not shape or axis not in (-1, len(shape) - 1) or detrend is not False or boundary not in ("zeros", None) \
            or scaling not in ("spectrum", "psd"):
        raise JacValueError("scipy.signal.stft: jac reads the last axis (axis=-1) of a signal, detrend=False, "
                            "boundary='zeros' or None, scaling='spectrum' or 'psd'", position)
    fs = _number(b, a["fs"], "fs", position)
    nperseg = None if a["nperseg"] is None else static_int(b, a["nperseg"], "nperseg", position)
    window, nperseg = _signal_window(b, a["window"], nperseg, shape[-1], position)
    nfft = nperseg if a["nfft"] is None else static_int(b, a["nfft"], "nfft", position)
    noverlap = nperseg // 2 if a["noverlap"] is None else static_int(b, a["noverlap"], "noverlap", position)
    if nperseg < 1 or nfft < nperseg or not 0 <= noverlap < nperseg or nperseg > shape[-1]:
        raise JacValueError(f"scipy.signal.stft: nperseg={nperseg} (at most the signal's {shape[-1]} points), nfft="
                            f"{nfft} at least nperseg, noverlap={noverlap} below it (SciPy's errors too)", position)
    step, pad = nperseg - noverlap, nperseg // 2 if boundary else 0
    total = shape[-1] + 2 * pad
    if _flag(b, a["padded"], "padded", position):
        total += (-(total - nperseg) % step) % nperseg
    at = np.arange(0, total - nperseg + 1, step)[:, None] + np.arange(nperseg)[None, :] - pad
    inside = (at >= 0) & (at < shape[-1])
    frames = FUNCTIONS["index_select"](b, [x, -1, b.const(np.clip(at, 0, shape[-1] - 1).reshape(-1), position)], {},
                                       position)
    frames = FUNCTIONS["reshape"](b, [frames, shape[:-1] + at.shape], {}, position)
    frames = b.apply("where", b.const(inside.astype(float), position), frames, b.const(0.0, position),
                     position=position)  # the zeros SciPy extends and pads with (where: 0 * inf is NaN)
    frames = b.apply("mul", frames, window, position=position)
    onesided = _flag(b, a["return_onesided"], "return_onesided", position)
    out = _dft(b, frames, -1, nfft, False, None, position, half=bool(onesided))
    total_window = FUNCTIONS["sum"](b, [b.apply("mul", window, window, position=position) if scaling == "psd"
                                        else window], {}, position)
    if scaling == "psd":
        scale = b.apply("div", b.const(1.0, position), b.apply("mul", b.const(fs, position), total_window,
                                                                position=position), position=position)
    else:
        scale = b.apply("div", b.const(1.0, position), b.apply("mul", total_window, total_window, position=position),
                        position=position)
    scale = b.apply("sqrt", scale, position=position)
    Z = Complex(*(FUNCTIONS["swapaxes"](b, [b.apply("mul", t, scale, position=position), -1, -2], {}, position)
                  for t in (out.re, out.im)))
    import scipy.fft
    freqs = (scipy.fft.rfftfreq if onesided else scipy.fft.fftfreq)(nfft, 1 / fs)
    times = np.arange(nperseg / 2, total - nperseg / 2 + 1, step) / fs
    if boundary is not None:
        times = times - (nperseg / 2) / fs
    return Items([b.const(np.asarray(freqs, dtype=float), position), b.const(times, position), Z])


@variant("scipy.signal", "istft")
def _signal_istft(b, args, kwargs, position):
    """scipy.signal.istft(Zxx, fs=1.0, window='hann', nperseg=None, noverlap=None, nfft=None, input_onesided=True,
    boundary=True, time_axis=-1, freq_axis=-2, scaling='spectrum'): (t, x), irfft (ifft two-sided) of each segment,
    scaled back, weighed by the window and added at hops, divided by the window's overlap-add where it exceeds 1e-10
    (by 1 elsewhere, as SciPy, which warns that NOLA fails), the boundary cut off"""
    a = arguments("istft", args, kwargs, SIGNAL_ISTFT, position)
    z = a["Zxx"]
    if type(z) is not Complex:
        z = Complex(tensor(b, z, "istft", position), None)
    shape = _concrete(z.shape, position)
    time_axis, freq_axis, scaling = (_flag(b, a[k], k, position) for k in ("time_axis", "freq_axis", "scaling"))
    if len(shape) < 2 or (time_axis, freq_axis) not in ((-1, -2), (len(shape) - 1, len(shape) - 2)) \
            or scaling not in ("spectrum", "psd"):
        raise JacValueError("scipy.signal.istft: jac reads Zxx of at least 2 axes with time_axis=-1, freq_axis=-2 "
                            "(stft's layout) and scaling='spectrum' or 'psd'", position)
    onesided = _flag(b, a["input_onesided"], "input_onesided", position)
    fs = _number(b, a["fs"], "fs", position)
    default = 2 * (shape[-2] - 1) if onesided else shape[-2]
    nperseg = default if a["nperseg"] is None else static_int(b, a["nperseg"], "nperseg", position)
    window, nperseg = _signal_window(b, a["window"], nperseg, None, position)
    nfft = nperseg if a["nfft"] is None else static_int(b, a["nfft"], "nfft", position)
    noverlap = nperseg // 2 if a["noverlap"] is None else static_int(b, a["noverlap"], "noverlap", position)
    if nperseg < 1 or nfft < nperseg or not 0 <= noverlap < nperseg:
        raise JacValueError(f"scipy.signal.istft: nperseg={nperseg} positive, nfft={nfft} at least nperseg, "
                            f"noverlap={noverlap} below it (SciPy's errors too)", position)
    im = z.im if z.im is not None else _zeros_like(b, z.re, position)
    spectrum = Complex(*(FUNCTIONS["swapaxes"](b, [t, -1, -2], {}, position) for t in (z.re, im)))  # (..., T, F)
    frames = _hermitian(b, spectrum, -1, nfft, None, position, False) if onesided else \
        _dft(b, spectrum, -1, nfft, True, None, position)
    scale = FUNCTIONS["sum"](b, [window], {}, position) if scaling == "spectrum" else b.apply(
        "sqrt", b.apply("mul", b.const(fs, position), FUNCTIONS["sum"](b, [b.apply("mul", window, window,
                                                                                      position=position)], {},
                                                                        position), position=position),
        position=position)
    count = shape[-1]
    step = nperseg - noverlap
    envelope = _overlap_add(b, b.apply("broadcast_to", b.apply("mul", window, window, position=position),
                                       shape=(count, nperseg), position=position), step, position)
    total = nperseg + (count - 1) * step
    cut = slice(*slice(nperseg // 2, -(nperseg // 2)).indices(total)[:2]) if _flag(b, a["boundary"], "boundary",
                                                                                    position) else slice(0, total)
    kept = max(0, cut.stop - cut.start)
    envelope = FUNCTIONS["narrow"](b, [envelope, 0, cut.start, kept], {}, position)
    envelope = b.apply("where", b.apply("gt", envelope, b.const(NOLA, position), position=position), envelope,
                       b.const(1.0, position), position=position)

    def signal(part):
        part = FUNCTIONS["narrow"](b, [part, -1, 0, nperseg], {}, position)
        part = b.apply("mul", b.apply("mul", part, scale, position=position), window, position=position)
        added = FUNCTIONS["narrow"](b, [_overlap_add(b, part, step, position), -1, cut.start, kept], {}, position)
        return b.apply("div", added, envelope, position=position)
    x = Complex(signal(frames.re), signal(frames.im)) if type(frames) is Complex else signal(frames)
    return Items([b.const(np.arange(kept) / fs, position), x])


# scipy.signal's names jac reads, as names34 lists them (it may have been imported first)
LIBRARY_NAMES["scipy.signal"] = LIBRARY_NAMES.get("scipy.signal", frozenset()) | {"stft", "istft"}


# -- making complex values ----------------------------------------------------------------------------------------

@variant("torch", "complex")
def _complex(b, args, kwargs, position):
    """torch.complex(real, imag): the complex value of two real arrays (broadcast), which jac keeps as the pair"""
    a = arguments("complex", args, kwargs, {"real": REQUIRED, "imag": REQUIRED}, position)
    return make(b, tensor(b, a["real"], "complex", position), tensor(b, a["imag"], "complex", position), position)


_NEGATIVE_ABS = ("torch.polar: abs is negative here, where PyTorch leaves the result undefined (its derivative is "
                 "not that of abs * cos(angle)); jac refuses rather than pick one: write torch.complex(r * cos(t), "
                 "r * sin(t))")


@variant("torch", "polar")
def _polar(b, args, kwargs, position):
    """torch.polar(abs, angle): abs * (cos(angle) + i sin(angle)), a complex value"""
    a = arguments("polar", args, kwargs, {"abs": REQUIRED, "angle": REQUIRED}, position)
    r, theta = tensor(b, a["abs"], "polar", position), tensor(b, a["angle"], "polar", position)
    zero = b.const(0.0, position)  # PyTorch: "undefined if abs is negative" (its derivative there is not r's cos θ)
    lo = b.apply("where", b.apply("lt", r, zero, position=position), b.const(np.nan, position), zero,
                 position=position)
    r = b.apply("sub", r, b.apply("finite_range", lo, zero, message=_NEGATIVE_ABS, position=position),
                position=position)
    return make(b, b.apply("mul", r, b.apply("cos", theta, position=position), position=position),
                b.apply("mul", r, b.apply("sin", theta, position=position), position=position), position)


@variant("torch", "view_as_complex")
def _view_as_complex(b, args, kwargs, position):
    """torch.view_as_complex(x): the complex value whose real and imaginary parts are x[..., 0] and x[..., 1] (x's
    last axis of length 2)"""
    a = arguments("view_as_complex", args, kwargs, {"input": REQUIRED}, position)
    x = tensor(b, a["input"], "view_as_complex", position)
    shape = _concrete(x.shape, position)
    if not shape or shape[-1] != 2:
        raise JacValueError(f"view_as_complex: the last axis must have length 2 (the real and imaginary parts), "
                            f"not a tensor of shape {shape} (PyTorch's error too)", position)
    return Complex(*(FUNCTIONS["select"](b, [x, -1, i], {}, position) for i in (0, 1)))


@variant("builtins", "complex")
def _python_complex(b, args, kwargs, position):
    """complex(real=0, imag=0): Python's complex number of two numbers (an array's one element is read as float()
    reads it: a Python number, a constant, as PyTorch's carries no derivative)"""
    a = arguments("complex", args, kwargs, {"real": 0.0, "imag": 0.0}, position)
    found = []
    for key in ("real", "imag"):
        value = a[key]
        if type(value) is Complex or isinstance(value, (Static, Items, bool)) or value is None:
            raise JacValueError(f"complex(): its {key} part must be a real number or a one-element array "
                                f"(jac does not read complex(string) or a complex argument)", position)
        found.append(b.const(float(value), position) if isinstance(value, (int, float))
                     else LIBRARY_FUNCTIONS[("builtins", "float")](b, [value], {}, position))
    return Complex(*found)


def literal(b, value: complex, position) -> Complex:
    """A complex literal of the text (``1j``, ``2 + 3j`` is 2 + the literal 3j)."""
    return Complex(b.const(float(value.real), position), b.const(float(value.imag), position))


# -- the parser's nodes that meet a complex value ------------------------------------------------------------------

_BINARY = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow", ast.MatMult: "matmul"}


def lower(p, node: ast.AST, kids: list):
    """The node ``node`` of the parser ``p`` whose operands ``kids`` hold a complex value: its value, or
    :data:`ORDINARY` where the parser lowers it as usual (a transform, a function of the text); refused otherwise."""
    b, position = p.b, p.source.at(node)
    kind = type(node)
    if kind in (ast.Tuple, ast.List):
        if any(type(e) is ast.Starred for e in node.elts):
            refuse("an element of a list or tuple with *", position)
        return ComplexList(kids)
    if kind is not ast.Call and any(type(k) is ComplexList for k in kids):
        raise JacValueError(f"{LIST_READ}; here one meets '{ast.unparse(node)[:40]}'", position)
    if kind is ast.BinOp:
        op = _BINARY.get(type(node.op))
        position = p.operator_position(node)
        if op is None:
            refuse(f"an operand of '{ast.unparse(node)[:40]}'", position)
        return binary(b, op, kids[0], kids[1], position)
    if kind is ast.UnaryOp and type(node.op) in (ast.USub, ast.UAdd):
        z = kids[0]
        return z if type(node.op) is ast.UAdd else Complex(b.apply("neg", z.re, position=position),
                                                           b.apply("neg", z.im, position=position))
    if kind is ast.Attribute:
        return attribute(p, node, kids[0], position)
    if kind is ast.Subscript:
        if holds(kids[1:]):
            refuse("an index", position)
        z = kids[0]
        return Complex(p.subscript(node, [z.re] + kids[1:]), p.subscript(node, [z.im] + kids[1:]))
    if kind is ast.Call:
        return call(p, node, kids, position)
    if kind is ast.Compare:
        refuse("an operand of a comparison (complex numbers are not ordered)", position)
    refuse(f"an operand of '{ast.unparse(node)[:40]}'", position)


def binary(b, op: str, left, right, position):
    if op in ("add", "sub"):
        return add(b, left, right, op, position)
    if op == "mul":
        return multiply(b, left, right, position)
    if op == "div":
        return divide(b, left, right, position)
    if op == "pow":
        return power(b, left, right, position)
    return matmul(b, left, right, position)


def attribute(p, node: ast.Attribute, z: Complex, position):
    b, name = p.b, node.attr
    if name == "real":
        return z.re
    if name == "imag":
        return z.im
    if name in ("T", "mT", "mH", "H"):
        found = Complex(p.attribute(node, [z.re]), p.attribute(node, [z.im]))
        return conj(b, found, position) if name in ("mH", "H") else found
    if name in ("shape", "ndim", "size"):  # X.shape[-1], as of its real part
        return p.attribute(node, [z.re])
    refuse(f"the value whose .{name} is read", position)


def _arguments(node: ast.Call, kids: list, method: bool, position) -> tuple:
    if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
        refuse("an argument of a call with * or **", position)
    rest = kids[1:] if method else kids
    args = list(rest[:len(node.args)])
    kwargs = {k.arg: v for k, v in zip(node.keywords, rest[len(node.args):])}
    return ([kids[0]] + args if method else args), kwargs


def call(p, node: ast.Call, kids: list, position):
    kind, fname = p.callee(node.func)
    if kind == "other" or kind == "function" and type(node.func) is ast.Name and fname in p.scope:
        return ORDINARY  # a function of the text (def, lambda): its body reads the complex value
    library = None
    if kind == "function" and type(node.func) is ast.Attribute:
        from .functions import LIBRARIES
        library = LIBRARIES.get(p.module_path(node.func.value))
        if library in FFT_LIBRARIES or (library, fname) in READS_COMPLEX:
            return ORDINARY
    if kind == "function" and type(node.func) is ast.Name and fname in p.imported:
        return ORDINARY if fname in _TRANSFORMS or fname == "istft" else _complex_function(p, node, kids, fname, False, position)
    if library not in (None, "torch", "numpy", "torch.linalg", "np.linalg", "jax.lax") or library == "jax.lax" \
            and fname not in ("real", "imag", "conj", "abs"):
        refuse(f"an argument of {ast.unparse(node.func)}()", position)
    return _complex_function(p, node, kids, fname, kind == "method", position)


def _complex_function(p, node, kids, fname, method, position):
    b = p.b
    args, kwargs = _arguments(node, kids, method, position)
    if any(type(k) is ComplexList for k in kids):
        if fname not in CONSTRUCTORS or method or kwargs or len(args) != 1 or type(args[0]) is not ComplexList:
            raise JacValueError(f"{LIST_READ}; here one is an argument of {ast.unparse(node.func)}()", position)
        return _from_list(p, node, args[0], position)
    if fname in SHAPE_READS and args and type(args[0]) is Complex and not holds(args[1:]) \
            and not holds(kwargs.values()):  # X.size(-1), len(X): its real part's
        return p.call(node, [args[0].re if k is args[0] else k for k in kids])
    if fname == "where" and len(args) == 3 and not kwargs and type(args[0]) is not Complex:  # a mask of a spectrum
        return _where(p, node, kids, args, position)
    if fname in PARTWISE:
        if holds(args[1:]) or holds(kwargs.values()) or type(args[0] if args else None) is not Complex:
            refuse(f"an argument of {fname}() other than the array", position)
        z = args[0]
        return Complex(*(p.call(node, [part if k is z else k for k in kids]) for part in (z.re, z.im)))
    lowering = _FUNCTIONS.get(fname)
    if lowering is None:
        refuse(f"an argument of {ast.unparse(node.func)}()", position)
    return lowering(b, args, kwargs, position)


def _from_list(p, node: ast.Call, items: ComplexList, position) -> Complex:
    """torch.tensor / np.array of a list holding complex values: the constructor's own lowering of the list of real
    parts and of the list of imaginary parts (a real element's is 0: zeros of its shape)."""
    def part(item, name):
        if type(item) is ComplexList:
            return Items(part(e, name) for e in item)
        if type(item) is Complex:
            return getattr(item, name)
        if name == "re" or not isinstance(item, Tracer):
            return item if name == "re" else 0.0 if isinstance(item, (int, float)) and not isinstance(item, bool) \
                else real(p.b, item, "an element of the list", position)
        return _zeros_like(p.b, item, position)
    return make(p.b, *(p.call(node, [part(items, name)]) for name in ("re", "im")), position)


def _where(p, node, kids, args, position) -> Complex:
    """``where(mask, a, b)`` with a complex a or b: the library's where of the real parts, then of the imaginary
    parts (a real operand's is 0)."""
    zero = p.b.const(0.0, position)

    def part(z, name):
        if type(z) is Complex:
            return getattr(z, name)
        return z if name == "re" or z is args[0] else zero
    return Complex(*(p.call(node, [part(k, name) for k in kids]) for name in ("re", "im")))


def _unary(fname, rule, extra=None):
    def lower(b, args, kwargs, position):
        params = {"x": REQUIRED, **(extra or {})}
        a = arguments(fname, args, kwargs, params, position)
        z = a["x"]
        if type(z) is not Complex:
            refuse(f"an argument of {fname}() other than the array", position)
        return rule(b, z, a, position)
    return lower


def _angle_rule(b, z, a, position):
    found = angle(b, z, position)
    deg = static(b, a["deg"], "deg", position) if "deg" in a and a["deg"] is not None else False
    return b.apply("mul", found, b.const(180.0 / np.pi, position), position=position) if deg else found


def _binary_function(fname, op):
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"x": REQUIRED, "y": REQUIRED}, position)
        return binary(b, op, a["x"], a["y"], position)
    return lower


_FUNCTIONS = {
    **{n: _unary(n, lambda b, z, a, position: modulus(b, z, position)) for n in ("abs", "absolute")},
    "real": _unary("real", lambda b, z, a, position: z.re),
    "imag": _unary("imag", lambda b, z, a, position: z.im),
    **{n: _unary(n, lambda b, z, a, position: conj(b, z, position))
       for n in ("conj", "conjugate", "conj_physical", "resolve_conj")},
    "angle": _unary("angle", _angle_rule, {"deg": None}),
    "exp": _unary("exp", lambda b, z, a, position: exp(b, z, position)),
    "square": _unary("square", lambda b, z, a, position: multiply(b, z, z, position)),
    "view_as_real": _unary("view_as_real", lambda b, z, a, position: view_as_real(b, z, position)),
    "neg": _unary("neg", lambda b, z, a, position: Complex(b.apply("neg", z.re, position=position),
                                                           b.apply("neg", z.im, position=position))),
    "negative": _unary("negative", lambda b, z, a, position: Complex(b.apply("neg", z.re, position=position),
                                                                     b.apply("neg", z.im, position=position))),
    **{n: _binary_function(n, "add") for n in ("add",)},
    **{n: _binary_function(n, "sub") for n in ("sub", "subtract")},
    **{n: _binary_function(n, "mul") for n in ("mul", "multiply")},
    **{n: _binary_function(n, "div") for n in ("div", "divide", "true_divide")},
    **{n: _binary_function(n, "pow") for n in ("pow", "power")},
    **{n: _binary_function(n, "matmul") for n in ("matmul",)},
}


def refuse_output(value, what: str, position) -> None:
    """A complex value (or a list holding one) as an output: refused (jac's outputs are real)."""
    if type(value) is ComplexList:
        raise JacValueError(f"{what} is a tuple or list holding a complex value, and jac's outputs are real: end with "
                            f"each one's .real, .imag, abs() or torch.view_as_real(...)", position)
    if type(value) is Complex:
        raise JacValueError(f"{what} is complex, and jac's outputs are real: end with "
                            f"its .real, .imag, abs() (torch.abs, np.abs) or torch.view_as_real(...)", position)


# -- writes into a complex value ----------------------------------------------------------------------------------

def write(p, name: str, target: ast.expr, value_node: ast.expr, op, what: str, position):
    """``X[idx] = v`` (``X[4:] = 0``, ``X[mask] = 0``: a spectrum's bins set) and ``X op= v`` of a complex ``X`` that
    no other name shares memory with (an alias, a view: ``Y = X[1:]``, ``r = X.real``; NumPy and PyTorch would
    change those too): ``X`` rebound to the written value, each part written by the parser's own write (its
    index rules), the value's imaginary part 0 where it is real. Refused where another name could see the change."""
    z = p.scope[name]
    _check_unshared(p, name, z, what, position)
    if isinstance(target, ast.Name):  # X *= H: the product, rebound (no other name holds X's memory)
        if type(op) not in _BINARY:
            refuse(f"the value of '{what}'", position)
        p.scope[name] = binary(p.b, _BINARY[type(op)], z, p.expression(value_node), position)
        return None
    if op is not None:
        raise JacValueError(f"{what}: '{name}' is complex; jac writes its elements "
                            f"with = only: write {name}[...] = {name}[...] * v", position)
    value = p.expression(value_node)
    re, im = parts(p.b, value, position) if not isinstance(value, bool) else refuse("the value written", position)
    written, temp = [], f"{name} (the value written)"  # a name the text cannot write
    try:
        for part, v in ((z.re, re), (z.im, im if im is not None else p.b.const(0.0, position))):
            p.scope[name], p.scope[temp] = part, v  # the part under the name, so the write's messages name it
            p.memory.bind(name, part, True)
            stmt = ast.Assign(targets=[ast.Subscript(value=ast.Name(id=name, ctx=ast.Load()), slice=target.slice,
                                                     ctx=ast.Store())],
                              value=ast.Name(id=temp, ctx=ast.Load()))
            for made in (stmt, stmt.targets[0], stmt.targets[0].value, stmt.value):
                ast.copy_location(made, target)
            p.statement(stmt)
            written.append(p.scope[name])
    finally:
        p.scope.pop(temp, None)
        p.memory.tokens.pop(name, None)
        p.scope[name] = z
    p.scope[name] = Complex(*written)
    return None


def _check_unshared(p, name: str, z: Complex, what: str, position) -> None:
    """Refuse a write into the complex ``name`` where another name may share its memory (NumPy and PyTorch would
    change that one too) or where it is not a name of the function being called (a parameter: the caller's)."""
    if p.locals is not None and (name not in p.locals[1] or p.calling and name in _parameters(p.calling[-1])):
        raise JacValueError(f"{what}: '{name}' is complex and not made inside this function (a parameter or a name "
                            f"outside it): NumPy and PyTorch would change the caller's array too; write a new value "
                            f"({name} = {name} * mask)", position)
    bases = p.memory._base(z.re) | p.memory._base(z.im)
    for other, value in p.scope.items():
        if other == name:
            continue
        held = (value.re, value.im) if type(value) is Complex else (value,) if type(value) is Tracer else ()
        if held and (any(p.memory._base(t) & bases for t in held)
                     or type(value) is Tracer and p.memory.tokens.get(other, frozenset()) & bases):
            raise JacValueError(f"{what}: '{name}' is complex and '{other}' shares its memory (an alias, a view or "
                                f"its .real / .imag): NumPy and PyTorch would change '{other}' too, which jac does "
                                f"not follow; write a new value ({name} = {name} * mask) or copy it first "
                                f"({name} = {name}.copy())", position)


def _parameters(fn) -> set:
    return set(fn.positional) | set(fn.keyword_only) | {fn.varargs, fn.varkw} - {None}
