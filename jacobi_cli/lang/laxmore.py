"""The rest of JAX's vocabulary read in session 27 (registered in ``functions``' table when ``lang`` is imported),
each a lowering onto the functions and ops jac has, as JAX writes it, so the derivatives are those ops' rules:
``jax.scipy.special``'s ``boxcox`` / ``boxcox1p`` / ``comb`` / ``poch`` / ``bernoulli`` (``JAX_SCIPY_MORE``), and
``jax.lax``'s bitwise ops and shifts of integer constants (computed at build time, in their dtype, as JAX does;
a float refused as JAX refuses it).
"""

from __future__ import annotations

import numpy as np

from ..ir.refusals import refused
from .laxnames import _ops  # op(name, *args): b.apply at the call's position
from .functions import FUNCTIONS, REQUIRED, JacValueError, Static, arguments, boolean, is_boolean, static, static_int, \
    tensor, variant

JAX_SCIPY_MORE = frozenset({"boxcox", "boxcox1p", "comb", "poch", "bernoulli"})


def _both(b, op, p, q):
    """p and q, as masks (the builder's booleans: never differentiated)."""
    return boolean(b, op("where", p, q, False))


def _pair(fname, names, args, kwargs, b, position, extra=None):
    a = arguments(fname, args, kwargs, {names[0]: REQUIRED, names[1]: REQUIRED, **(extra or {})}, position)
    return tensor(b, a[names[0]], f"jax.scipy.special.{fname}", position), \
        tensor(b, a[names[1]], f"jax.scipy.special.{fname}", position), a


def _boxcox(fname, log):
    def lower(b, args, kwargs, position):
        x, lmbda, _ = _pair(fname, ("x", "lmbda"), args, kwargs, b, position)
        op = _ops(b, position)
        zero = boolean(b, op("eq", lmbda, 0.0))
        safe = op("where", zero, 1.0, lmbda)  # JAX's safe_lmbda: the power branch never divides by 0
        logged = op(log, x)
        power = op("div", op("expm1", op("mul", safe, logged)), safe)
        return op("where", zero, logged, power)
    lower.__doc__ = (f"jax.scipy.special.{fname}(x, lmbda): {log}(x) where lmbda == 0, else "
                     f"expm1(lmbda · {log}(x)) / lmbda, JAX's formula (its where: derivatives of the branch taken)")
    return lower


variant("jax.scipy", "boxcox")(_boxcox("boxcox", "log"))
variant("jax.scipy", "boxcox1p")(_boxcox("boxcox1p", "log1p"))


def _comb_of(b, n, k, position):
    """JAX's comb without repetition: exp(lgamma(N + 1) - lgamma(k + 1) - lgamma(N + 1 - k)) where 0 <= k <= N,
    0 elsewhere (the lgammas fed 0 there)."""
    op = _ops(b, position)
    cond = _both(b, op, _both(b, op, boolean(b, op("le", k, n)), boolean(b, op("ge", n, 0.0))),
                 boolean(b, op("ge", k, 0.0)))
    safe_n, safe_k = op("where", cond, n, 0.0), op("where", cond, k, 0.0)
    n1 = op("add", safe_n, 1.0)
    result = op("exp", op("sub", op("sub", op("lgamma", n1), op("lgamma", op("add", safe_k, 1.0))),
                          op("lgamma", op("sub", n1, safe_k))))
    return op("where", cond, result, 0.0)


@variant("jax.scipy", "comb")
def _comb(b, args, kwargs, position):
    """jax.scipy.special.comb(N, k, *, repetition=False): the binomial coefficient by lgamma, as JAX computes it
    (a float for any N and k; 0 outside 0 <= k <= N); repetition=True: comb(N + k - 1, k), 1 where k == 0 <= N."""
    n, k, a = _pair("comb", ("N", "k"), args, kwargs, b, position, {"repetition": False, "exact": False})
    if static(b, a["exact"], "exact", position):
        raise JacValueError("jax.scipy.special.comb has no exact= (JAX's comb takes N, k and repetition): drop it; "
                            "its value is a float computed by lgamma", position)
    if not static(b, a["repetition"], "repetition", position):
        return _comb_of(b, n, k, position)
    op = _ops(b, position)
    cond = _both(b, op, boolean(b, op("eq", k, 0.0)), boolean(b, op("ge", n, 0.0)))
    return op("where", cond, 1.0, _comb_of(b, op("sub", op("add", n, k), 1.0), k, position))


_POCH = ("jax.scipy.special.poch where Γ(z) or Γ(z + m) is infinite, zero or NaN (z or z + m at a pole, a "
         "nonpositive integer, or past float64's range): JAX's value there comes from its own rule (1 where m == 0, "
         "NaN or inf elsewhere, with its derivative rule's NaN), which jac does not reproduce; move z off the poles")


@variant("jax.scipy", "poch")
def _poch(b, args, kwargs, position):
    """jax.scipy.special.poch(z, m): Γ(z + m) / Γ(z), JAX's gamma; where that is finite it is JAX's value (1 where
    m == 0: the same number divided by itself) and its derivatives are those of JAX's rule,
    (ψ(z + m) − ψ(z)) · poch by z and ψ(z + m) · poch by m, at every order; elsewhere refused at evaluation."""
    from .laxnames import _gammasgn_of

    z, m, _ = _pair("poch", ("z", "m"), args, kwargs, b, position)
    op = _ops(b, position)

    def gamma(x):
        return op("mul", _gammasgn_of(b, x, position), op("exp", op("lgamma", x)))

    ratio = op("div", gamma(op("add", z, m)), gamma(z))
    return refused(b, ratio, _POCH, where=op("isfinite", ratio), unless=True, position=position)


def bernoulli_numbers(n: int) -> np.ndarray:
    """B_0 .. B_n as JAX computes them (Chowla and Hartung's series, 48 terms; B_1 = -1/2), in float64."""
    b3 = np.array([1.0, -0.5, 1.0 / 6.0])
    if n < 3:
        return b3[:n + 1].copy()
    bn = np.zeros(n + 1)
    bn[:3] = b3
    m = np.arange(4, n + 1, 2, dtype=np.float64)
    q1 = (1.0 / np.pi ** 2) * np.cumprod(-(m - 1) * m / 4 / np.pi ** 2)
    k = np.arange(2, 50, dtype=np.float64)
    q2 = np.sum(k[:, None] ** -m[None, :], axis=0)
    bn[4::2] = q1 * (1 + q2)
    return bn


@variant("jax.scipy", "bernoulli")
def _bernoulli(b, args, kwargs, position):
    """jax.scipy.special.bernoulli(n): the Bernoulli numbers B_0 .. B_n (a constant), as JAX computes them."""
    a = arguments("bernoulli", args, kwargs, {"n": REQUIRED}, position)
    n = static_int(b, a["n"], "jax.scipy.special.bernoulli's n", position)
    if n < 0:
        raise JacValueError(f"jax.scipy.special.bernoulli: n must be a non-negative integer, got {n} (JAX raises "
                            f"ValueError)", position)
    if n > 100_000:
        raise JacValueError(f"jax.scipy.special.bernoulli({n}): jac makes constants up to n = 100,000", position)
    return b.const(bernoulli_numbers(n).astype(b.dtype), position)


# --- jax.lax's bitwise ops: of integer constants, computed in their dtype ----------------------------------------

def _lax_integers(b, value, fname, position) -> np.ndarray | int:
    """An operand of a bitwise op of jax.lax: an integer constant (its array in the dtype jac holds it, or a Python
    int), read at build time; a float is refused as JAX refuses it."""
    from ..ir import dtypes
    from .functions import _integer_operand

    t = tensor(b, value, f"jax.lax.{fname}", position)
    kind = dtypes.kind_of(b, t.id)
    if kind is None and t.id not in b.pyints or kind is not None and np.dtype(kind[0]).kind not in "iu":
        raise JacValueError(f"jax.lax.{fname} takes integers (JAX raises TypeError for a float or bool operand), and "
                            f"this one is {'a bool' if kind is not None else 'a float'} (jac's inputs are floats): "
                            f"convert an integer constant with .astype(jnp.int32)", position)
    return _integer_operand(b, value, f"jax.lax.{fname}", "numpy", position)


def _same_dtype(values, fname, position) -> list:
    """lax's operands have one dtype, as JAX requires (no promotion: a Python int is JAX's default integer, int64
    as jac reads JAX's integers, with jax_enable_x64)."""
    for v in values:
        if type(v) is int and not -2 ** 63 <= v < 2 ** 63:
            raise JacValueError(f"jax.lax.{fname}: the Python integer {v} is out of range for int64", position)
    arrays = [np.asarray(v, dtype=np.int64) if type(v) is int else np.asarray(v) for v in values]
    if len({a.dtype for a in arrays}) > 1:
        raise JacValueError(f"jax.lax.{fname} requires arguments of the same dtype, got "
                            f"{', '.join(str(a.dtype) for a in arrays)} (JAX raises TypeError; a Python int is "
                            f"JAX's default integer, int64 as jac reads JAX): give both one dtype "
                            f"(jnp.array(1, dtype=jnp.int32)), or write jnp's function, which promotes", position)
    return arrays


def _shift(kind, x, y):
    bits = x.dtype.itemsize * 8
    unsigned = np.dtype(f"u{x.dtype.itemsize}")
    inside = (y >= 0) & (y < bits)
    s = np.where(inside, y, 0).astype(unsigned)
    u = x.astype(unsigned, copy=False) if x.dtype.kind == "u" else x.view(unsigned)
    if kind == "left":
        out = (u << s).view(x.dtype) if x.dtype.kind != "u" else u << s
        return np.where(inside, out, 0).astype(x.dtype)
    if kind == "logical":
        out = (u >> s).view(x.dtype) if x.dtype.kind != "u" else u >> s
        return np.where(inside, out, 0).astype(x.dtype)
    return np.where(inside, x >> s.astype(x.dtype), np.where(x < 0, -1, 0)).astype(x.dtype)  # arithmetic


def _bits(kind, x):
    bits = x.dtype.itemsize * 8
    u = x.view(np.dtype(f"u{x.dtype.itemsize}")) if x.dtype.kind == "i" else x
    if kind == "population_count":
        return np.bitwise_count(u).astype(x.dtype)
    lengths = np.frompyfunc(lambda v: int(v).bit_length(), 1, 1)(u.astype(object)) if u.size else u
    return (bits - np.asarray(lengths, dtype=np.int64)).astype(x.dtype)  # clz


_BITWISE = {"bitwise_and": np.bitwise_and, "bitwise_or": np.bitwise_or, "bitwise_xor": np.bitwise_xor,
            "shift_left": lambda x, y: _shift("left", x, y),
            "shift_right_logical": lambda x, y: _shift("logical", x, y),
            "shift_right_arithmetic": lambda x, y: _shift("arithmetic", x, y)}
_UNARY_BITS = {"bitwise_not": np.invert, "population_count": lambda x: _bits("population_count", x),
               "clz": lambda x: _bits("clz", x)}


def _bitwise(fname):
    def lower(b, args, kwargs, position):
        from ..ir import dtypes

        names = ("x", "y") if fname in _BITWISE else ("x",)
        a = arguments(fname, args, kwargs, dict.fromkeys(names, REQUIRED), position)
        logical = fname in ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not")
        if logical and all(type(a[k]) is bool or dtypes.kind_of(b, getattr(a[k], "id", -1)) == (np.dtype(bool), None)
                           or is_boolean(b, a[k]) for k in names):  # of masks: their logic, as jnp's
            return FUNCTIONS[fname](b, [a[k] for k in names], {}, position)
        values = _same_dtype([_lax_integers(b, a[k], fname, position) for k in names], fname, position)
        with np.errstate(all="ignore"):
            result = np.asarray((_BITWISE.get(fname) or _UNARY_BITS[fname])(*values))
        out = b.const(dtypes.held(b, result, f"the result of jax.lax.{fname}", position), position)
        b.typed[out.id] = (result.dtype, None)
        return out
    lower.__doc__ = (f"jax.lax.{fname}({', '.join(('x', 'y') if fname in _BITWISE else ('x',))}): of integer "
                     f"constants, as JAX computes it in their dtype (a shift by a negative amount or past the width: "
                     f"0, or the sign for an arithmetic right shift); floats refused as JAX refuses them; no "
                     f"derivative (integers carry none)")
    return lower


for _name in (*_BITWISE, *_UNARY_BITS):
    variant("jax.lax", _name)(_bitwise(_name))


# --- jax.lax.RoundingMethod: the enum lax.round reads ---------------------------------------------------------

ROUNDING = Static("jax.lax.RoundingMethod")  # the enum named without a member (the parser's attribute)
_ROUNDING_MEMBERS = {"AWAY_FROM_ZERO": 0, "TO_NEAREST_EVEN": 1}


def rounding_method(member: str, position) -> int:
    """``lax.RoundingMethod.TO_NEAREST_EVEN`` as JAX's enum value (1; AWAY_FROM_ZERO is 0)."""
    if member not in _ROUNDING_MEMBERS:
        raise JacValueError(f"jax.lax.RoundingMethod has no member '{member}': it has AWAY_FROM_ZERO and "
                            f"TO_NEAREST_EVEN", position)
    return _ROUNDING_MEMBERS[member]


@variant("jax.lax", "nextafter")
def _nextafter(b, args, kwargs, position):
    """jax.lax.nextafter(x1, x2): jnp.nextafter (its derivative refused: JAX has no rule for it either)."""
    from .functions import library_function

    a = arguments("nextafter", args, kwargs, {"x1": REQUIRED, "x2": REQUIRED}, position)
    return (library_function("numpy", "nextafter") or FUNCTIONS["nextafter"])(b, [a["x1"], a["x2"]], {}, position)


# --- jax.lax's convolutions: onto F.conv1d / conv2d / conv3d ------------------------------------------------------

def _conv_permutations(specs, ndim, position) -> tuple:
    """(lhs_perm, rhs_perm, out_perm) of JAX's dimension numbers: None (NC..., OI..., NC...) or three strings
    ('NHWC', 'HWIO', 'NHWC': the spatial axes in the order rhs_spec names them, as lax.conv_general_permutations)."""
    where = "jax.lax.conv_general_dilated's dimension_numbers"
    if specs is None:
        return (tuple(range(ndim)),) * 3
    if not isinstance(specs, (tuple, list)) or len(specs) != 3:
        raise JacValueError(f"{where} is None or three strings ('NCHW', 'OIHW', 'NCHW'); got {specs!r}", position)
    if all(isinstance(s, str) for s in specs):
        lhs, rhs, out = specs
        spatial = set(rhs) - {"O", "I"}
        ok = all(len(s) == ndim and len(set(s)) == ndim for s in specs) and set(lhs) - {"N", "C"} == spatial \
            and set(out) - {"N", "C"} == spatial and {"N", "C"} <= set(lhs) and {"N", "C"} <= set(out) \
            and {"O", "I"} <= set(rhs)
        if not ok:
            raise JacValueError(f"{where} {tuple(specs)}: each spec names every one of the {ndim} axes once (N and C "
                                f"for lhs and out, O and I for rhs, the same spatial letters in all three)", position)
        order = lambda s: tuple(sorted((i for i, c in enumerate(s) if c in spatial), key=lambda i: rhs.index(s[i])))
        return ((lhs.index("N"), lhs.index("C")) + order(lhs), (rhs.index("O"), rhs.index("I")) + order(rhs),
                (out.index("N"), out.index("C")) + order(out))
    raise JacValueError(f"{where}: its elements must be strings, as JAX requires (TypeError for tuples): write "
                        f"them as ('NHWC', 'HWIO', 'NHWC')", position)


def _lax_conv(b, lhs, rhs, strides, padding, lhs_dilation, rhs_dilation, specs, groups, fname, position):
    """JAX's conv_general_dilated, as F.convNd of the operands moved to NC... / OI..., the input padded first by
    lax.pad (the padding pairs, negative ones cropping, lhs_dilation as interior zeros)."""
    from .laxnames import _pad

    x, w = tensor(b, lhs, f"jax.lax.{fname}", position), tensor(b, rhs, f"jax.lax.{fname}", position)
    n = x.ndim - 2
    if w.ndim != x.ndim or n not in (1, 2, 3):
        raise JacValueError(f"jax.lax.{fname}: jac reads 1, 2 or 3 spatial axes, lhs and rhs of the same rank; got "
                            f"lhs {tuple(x.shape)} and rhs {tuple(w.shape)}", position)
    if isinstance(specs, (tuple, list)):  # ('NHWC', 'HWIO', 'NHWC'): each its own constant
        specs = tuple(static(b, s, "dimension_numbers", position) for s in specs)
    elif specs is not None:
        specs = static(b, specs, "dimension_numbers", position)
    lhs_perm, rhs_perm, out_perm = _conv_permutations(specs, x.ndim, position)
    move = lambda t, perm: t if tuple(perm) == tuple(range(t.ndim)) else b.apply("transpose", t, axes=tuple(perm),
                                                                                 position=position)
    x, w = move(x, lhs_perm), move(w, rhs_perm)
    ints = lambda value, what, default: _conv_ints(b, value, n, what, default, fname, position)
    strides = ints(strides, "window_strides", None)
    lhs_dilation, rhs_dilation = ints(lhs_dilation, "lhs_dilation", 1), ints(rhs_dilation, "rhs_dilation", 1)
    kernel = tuple(int(k) for k in w.shape[2:])
    padding = static(b, padding, "padding", position)
    if isinstance(padding, str):
        if any(d != 1 for d in lhs_dilation):
            raise JacValueError(f"jax.lax.{fname}: string padding with lhs_dilation is refused by JAX too "
                                f"(ValueError): give the (low, high) pairs", position)
        pads = string_pads(padding, tuple(int(s) for s in x.shape[2:]),
                            tuple((k - 1) * d + 1 for k, d in zip(kernel, rhs_dilation)), strides, fname, position)
    else:
        pairs = tuple(tuple(p) for p in padding) if isinstance(padding, (list, tuple, np.ndarray)) else ()
        if len(pairs) != n or any(len(p) != 2 or not all(float(v).is_integer() for v in p) for p in pairs):
            raise JacValueError(f"jax.lax.{fname}: padding is 'VALID', 'SAME', 'SAME_LOWER' or one (low, high) pair "
                                f"of integers per spatial axis ({n}), got {padding!r}", position)
        pads = tuple((int(lo), int(hi)) for lo, hi in pairs)
    config = ((0, 0, 0), (0, 0, 0)) + tuple((lo, hi, d - 1) for (lo, hi), d in zip(pads, lhs_dilation))
    if any(c != (0, 0, 0) for c in config):
        x = _pad(b, [x, 0.0, config], {}, position)
    y = FUNCTIONS[f"conv{n}d"](b, [x, w], {"stride": strides, "dilation": rhs_dilation, "groups": groups}, position)
    back = tuple(int(i) for i in np.argsort(out_perm))
    return move(y, back)


def _conv_ints(b, value, n, what, default, fname, position) -> tuple:
    if value is None:
        if default is None:
            raise JacValueError(f"jax.lax.{fname} needs {what}", position)
        return (default,) * n
    v = static(b, value, f"jax.lax.{fname}'s {what}", position)
    v = tuple(v) if isinstance(v, (list, tuple, np.ndarray)) else (v,)
    if len(v) != n or not all(float(i).is_integer() and i >= 1 for i in v):
        raise JacValueError(f"jax.lax.{fname}: {what} needs one positive integer per spatial axis ({n}), got {v}",
                            position)
    return tuple(int(i) for i in v)


def string_pads(mode, sizes, extent, strides, fname, position) -> tuple:
    """lax.padtype_to_pads: 'VALID', or 'SAME' / 'SAME_LOWER' (the odd one at the end / the start), for the
    convolutions here and reduce_window (.windows)."""
    kind = mode.upper()
    if kind == "VALID":
        return tuple((0, 0) for _ in sizes)
    if kind not in ("SAME", "SAME_LOWER"):
        raise JacValueError(f"jax.lax.{fname}: padding is 'VALID', 'SAME', 'SAME_LOWER' or (low, high) pairs, got "
                            f"{mode!r}", position)
    pads = []
    for size, e, s in zip(sizes, extent, strides):
        total = max((-(-size // s) - 1) * s + e - size, 0)
        lo = total // 2 if kind == "SAME" else total - total // 2
        pads.append((lo, total - lo))
    return tuple(pads)


def _conv_common(a, fname, position, b):
    if a.get("batch_group_count", 1) not in (1, None) and static_int(b, a["batch_group_count"], "batch_group_count",
                                                                    position) != 1:
        raise JacValueError(f"jax.lax.{fname}: batch_group_count other than 1 is not read by jac (it groups the "
                            f"batch for a kernel's gradient): write the convolutions per group", position)
    if a.get("preferred_element_type") is not None:
        raise JacValueError(f"jax.lax.{fname}: preferred_element_type is not read (jac computes in --dtype): drop "
                            f"it", position)


_CONV_TAIL = {"precision": None, "preferred_element_type": None}


@variant("jax.lax", "conv_general_dilated")
def _conv_general_dilated(b, args, kwargs, position):
    """jax.lax.conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=None, rhs_dilation=None,
    dimension_numbers=None, feature_group_count=1, batch_group_count=1, precision=None,
    preferred_element_type=None): cross-correlation, onto F.convNd (precision not read: jac computes in --dtype)."""
    a = arguments("conv_general_dilated", args, kwargs, {
        "lhs": REQUIRED, "rhs": REQUIRED, "window_strides": REQUIRED, "padding": REQUIRED, "lhs_dilation": None,
        "rhs_dilation": None, "dimension_numbers": None, "feature_group_count": 1, "batch_group_count": 1,
        **_CONV_TAIL, "out_sharding": None}, position)
    _conv_common(a, "conv_general_dilated", position, b)
    groups = static_int(b, a["feature_group_count"], "feature_group_count", position)
    return _lax_conv(b, a["lhs"], a["rhs"], a["window_strides"], a["padding"], a["lhs_dilation"], a["rhs_dilation"],
                     a["dimension_numbers"], groups, "conv_general_dilated", position)


@variant("jax.lax", "conv")
def _lax_conv_plain(b, args, kwargs, position):
    """jax.lax.conv(lhs, rhs, window_strides, padding): NCHW / OIHW, no dilation."""
    a = arguments("conv", args, kwargs, {"lhs": REQUIRED, "rhs": REQUIRED, "window_strides": REQUIRED,
                                         "padding": REQUIRED, **_CONV_TAIL}, position)
    _conv_common(a, "conv", position, b)
    return _lax_conv(b, a["lhs"], a["rhs"], a["window_strides"], a["padding"], None, None, None, 1, "conv", position)


@variant("jax.lax", "conv_with_general_padding")
def _conv_with_general_padding(b, args, kwargs, position):
    """jax.lax.conv_with_general_padding(lhs, rhs, window_strides, padding, lhs_dilation, rhs_dilation)."""
    a = arguments("conv_with_general_padding", args, kwargs, {
        "lhs": REQUIRED, "rhs": REQUIRED, "window_strides": REQUIRED, "padding": REQUIRED, "lhs_dilation": REQUIRED,
        "rhs_dilation": REQUIRED, **_CONV_TAIL}, position)
    _conv_common(a, "conv_with_general_padding", position, b)
    return _lax_conv(b, a["lhs"], a["rhs"], a["window_strides"], a["padding"], a["lhs_dilation"], a["rhs_dilation"],
                     None, 1, "conv_with_general_padding", position)


# (jax.lax.conv_transpose: read in session 28, lang/convhelpers.py)


@variant("jax.lax", "reduce_precision")
def _reduce_precision(b, args, kwargs, position):
    """jax.lax.reduce_precision(operand, exponent_bits, mantissa_bits): x itself where the format is at least
    --dtype's (float64: 11 and 52 bits; float32: 8 and 23), as JAX's rounding to it changes nothing (and its
    derivative is the tangent rounded the same way: the identity); a narrower format refused."""
    a = arguments("reduce_precision", args, kwargs, {"operand": REQUIRED, "exponent_bits": REQUIRED,
                                                      "mantissa_bits": REQUIRED}, position)
    x = tensor(b, a["operand"], "jax.lax.reduce_precision", position)
    bits = (static_int(b, a["exponent_bits"], "exponent_bits", position),
            static_int(b, a["mantissa_bits"], "mantissa_bits", position))
    info = np.finfo(b.dtype)
    own = (int(np.log2(info.maxexp)) + 1, info.nmant)
    if bits[0] < own[0] or bits[1] < own[1]:
        raise JacValueError(f"jax.lax.reduce_precision to {bits[0]} exponent and {bits[1]} mantissa bits rounds "
                            f"to a narrower format than jac's {np.dtype(b.dtype)} ({own[0]} and {own[1]}), which jac "
                            f"does not reproduce: jac computes every value in --dtype; bind values rounded already, "
                            f"or drop the call", position)
    return x


# jax.lax's names jac refuses, with why and what to write (merged into jaxnames.LAX_HINTS)
LAX_MORE_HINTS = {
    **{name: "jac reads the forms it computes written with indexing: x[idx] (or jnp.take(x, idx, axis), "
             "jnp.take_along_axis) for a gather, x.at[idx].set(v) / .add(v) / .multiply(v) / .min(v) / .max(v) for "
             "a scatter; its general dimension numbers (offset_dims, collapsed_slice_dims, start_index_map, "
             "update_window_dims, inserted_window_dims, scatter_dims_to_operand_dims) are not read"
       for name in ("scatter_apply",)},  # (gather and the other scatters: .gathers, session 28)
}
