"""The op registry: one block per op, with everything every transform needs.

Each :class:`Op` holds its NumPy evaluation (``impl``), its shape rule, one VJP rule and
one JVP rule per argument, and a test domain. Rules follow HIPS autograd's
``defvjp(log, lambda ans, x: lambda g: g / x)``, flattened to one call::

    vjp[i](g, ans, *args, **params) -> cotangent of args[i]
    jvp[i](t, ans, *args, **params) -> tangent of the output from args[i]

Batching (``vmap``) convention: a cotangent ``g`` or tangent ``t`` carries exactly one
leading batch axis in front of the primal's shape, ``(B, *shape)``; ``ans`` and ``args``
carry none. So a full Jacobian is one pass with ``B`` basis vectors.

Rules are written with the functions of :data:`P`, which evaluate with NumPy on arrays
and hand the op to a :class:`Proxy` (a graph's :class:`~jacobi_cli.ir.graph.Tracer` adds
a node; a structured batch keeps its structure). So the VJP pass can itself be
traced into a graph and differentiated again: ``hessian = jacfwd(grad)``.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace as _replace
from math import isfinite as _isfinite
from types import MappingProxyType
from typing import Mapping

import numpy as np

from ..errors import JacLimitError, JacShapeError, JacValueError
from . import structured
from .op import Op, Proxy
from .shapes import broadcast, fmt, is_concrete, reduce as reduce_shape, size as shape_size


_BLOCKS: dict[str, Op] = {}  # filled by the blocks below while this module is imported; read through OPS


def defop(name, impl, shape, vjp=(), jvp=(), **kw) -> Op:
    op = Op(name, impl, shape, tuple(vjp), tuple(jvp), **kw)
    _BLOCKS[name] = op
    return op


def bind(name: str, *args, **params):
    """Apply op ``name``: NumPy on arrays, a new graph node if any argument is traced,
    the batch's own rule if one is a structured batch (``P.name(...)``: one dispatch, :func:`_prim`)."""
    return getattr(P, name)(*args, **params)


def _weak(out, args):
    """Python numbers in, a Python number out: np.float64(0.5) would make a float32 rule
    (pow's y - 1 with y = 1.5) promote its result to float64."""
    if isinstance(out, np.generic) and all(type(a) in (int, float) for a in args):
        return out.item()
    return out


class _Prims:
    """``P.mul(a, b)`` applies op ``mul`` (:func:`_prim`): one attribute per op of the registry, made
    once (after the last block) and never changed."""

    def __init__(self, ops: dict):
        for op in ops.values():
            object.__setattr__(self, op.name, _prim(op))

    def __setattr__(self, name, value):
        raise AttributeError("P is read-only")


_ndarray = np.ndarray
# NumPy's module defines __getattr__, so Python 3.11 never specializes ``np.NAME``: each read is a generic
# lookup (~300 instructions). The names the rules of a first call's pass call are read once, here
_empty = np.empty
_matmul = np.matmul
_multiply = np.multiply
_subtract = np.subtract


def _prim(op: Op):
    """``op`` as a function: NumPy on arrays; else the first :class:`Proxy` among the arguments
    applies it (its ``bind``), a tracer before a structured batch."""
    impl = op.impl

    def prim(*args, **params):
        if not params:  # the common cases first: arrays and Python floats (never a Proxy), no parameters
            if len(args) == 2:
                a, b = args
                if type(a) is _ndarray:
                    if type(b) is _ndarray or type(b) is float:
                        return impl(a, b)  # as below: _weak gives back what an op of an array makes
                elif type(a) is float and type(b) is _ndarray:  # the rules' constants: P.sub(1.0, x)
                    return impl(a, b)
            elif len(args) == 1 and type(args[0]) is _ndarray:  # P.neg(g), P.cos(x)
                return impl(args[0])
        for a in args:  # no helper call: rules call this for every op of a pass
            if isinstance(a, Proxy):
                if not a.traces:  # a tracer among the later arguments wins
                    for b in args:
                        if isinstance(b, Proxy) and b.traces:
                            return b.bind(op, args, params)
                return a.bind(op, args, params)
        out = impl(*args, **params) if params else impl(*args)  # ** of no parameters makes a dict
        if type(out) is np.ndarray:  # _weak's answer for an array, without its call
            return out
        return _weak(out, args)

    prim.__name__ = op.name
    return prim





# --- helpers the rules share ------------------------------------------------------

def shape_of(a) -> tuple:
    if isinstance(a, _SHAPED):  # np.shape's answer, without its dispatch
        return a.shape
    return np.shape(a)


_SHAPED = (np.ndarray, Proxy)


def lift(t, ndim: int):
    """Insert length-1 axes after the batch axis so ``t`` (B, *s) has ``1 + ndim`` axes."""
    s = shape_of(t)
    extra = ndim - (len(s) - 1)
    return P.reshape(t, shape=(s[0],) + (1,) * extra + tuple(s[1:])) if extra > 0 else t


def unbroadcast(g, shape: tuple):
    """Sum a batched cotangent ``(B, *out)`` down to ``(B, *shape)`` (NumPy broadcasting undone)."""
    if type(g) is _ndarray and type(shape) is tuple and g.shape[1:] == shape:  # the common case, in short
        return g
    gs = shape_of(g)
    if tuple(gs[1:]) == tuple(shape):
        return g
    lead = len(gs) - 1 - len(shape)
    keep = (gs[0],) + (1,) * lead + tuple(shape)
    summed = P.sum_to(g, shape=keep)
    return P.reshape(summed, shape=(gs[0],) + tuple(shape)) if lead else summed


def expand_reduced(g, in_shape: tuple, axes: tuple, keepdims: bool):
    """Bring a batched reduction cotangent back to ``(B, *in_shape)``."""
    if type(g) is _ndarray and g.size == 1 and type(in_shape) is tuple and len(in_shape) == 1 \
            and in_shape[0] <= _SMALL_EXPAND:
        # one cotangent of a vector's sum (a scalar loss's seed: E4's, E6's first call): its one value copied into
        # the vector's shape (np.copyto broadcasts a one-element array to any shape), as the lines below copy it
        # after a reshape to (1, 1)
        out = _empty((1,) + in_shape, g.dtype)
        _copyto(out, g)
        return out
    b = shape_of(g)[0]
    kept = reduce_shape(in_shape, axes, True)
    if not keepdims:  # P.reshape's call for an array: its impl's a.reshape, without P's dispatch
        g = g.reshape((b,) + kept) if type(g) is _ndarray else P.reshape(g, shape=(b,) + kept)
    shape = (b,) + tuple(in_shape)
    if type(g) is _ndarray and shape_size(in_shape) <= _SMALL_EXPAND:
        # a small array: the same values copied (np.copyto broadcasts as np.broadcast_to does), without
        # broadcast_to's Python layers (~5 us, a tenth of a small first call's pass); the copy is writable and
        # holds no view of g, which no rule reads. The size read is the reduced array's, not the batch's
        # (session 53): copy or view sets the layout its readers follow, so a choice by the batch's size gave
        # a one-pass plan's rows other bits than a chunked plan's (tests/test_chunks53.py)
        out = _empty(shape, g.dtype)
        _copyto(out, g)
        return out
    if isinstance(g, Proxy) and g.traces and is_concrete(shape) and shape_size(in_shape) <= _SMALL_EXPAND:
        # traced (a kernel, a traced gradient): the copy above as a node, op ``expand`` (session 52). A
        # broadcast view holds the same values in another layout, and what reads the cotangent follows it:
        # ``g * A.T`` is laid out as the C-ordered copy (C order wins a conflict in NumPy's order "K") or as
        # ``A.T`` (zero strides order nothing), a ``sum_to`` after it adds in memory order, ``matmul`` and
        # ``einsum`` take other loops over zero strides; a kernel's sums rounded 4 ulps from the interpreter's
        # (and -0 for +0) at values its one compile-time check never met (tests/test_kernels52.py)
        return P.expand(g, shape=shape)
    if type(g) is structured.ShapeOnly and shape_size(in_shape) <= _SMALL_EXPAND:
        # a dry run's stand-in of the array copied above: its bytes counted as the copy the pass makes (a view
        # cost nothing, and the plan's peak missed B copies of the reduced array: memory40_probe, 1.33x under,
        # session 55); its work is not counted, as before, so the modes and kernels chosen by work stay the same
        return structured.ShapeOnly(shape, g.dtype)
    return P.broadcast_to(g, shape=shape)


_copyto = getattr(np.copyto, "_implementation", np.copyto)  # NumPy's C function, without the dispatch
_SMALL_EXPAND = 4096  # elements of the reduced array: expand_reduced copies (B of them) up to this size rather than make a view


def shifted(axes: tuple) -> tuple:
    """Axes of a primal, counted in its batched (B, ...) counterpart."""
    return tuple(a + 1 for a in axes)


def batch_size(g) -> int:
    return shape_of(g)[0]


def mT(a):
    """Swap the last two axes."""
    nd = len(shape_of(a))
    axes = tuple(range(nd - 2)) + (nd - 1, nd - 2)
    return P.transpose(a, axes=axes)


def _dtype_of(*arrays):
    """The floating dtype of the arrays (Python numbers are weak and do not count)."""
    kinds = [a.dtype if isinstance(a, Proxy) else a for a in arrays if not isinstance(a, (int, float))]
    return np.result_type(*kinds) if kinds else np.float64


# --- element-wise ops ---------------------------------------------------------------

def masked(g, keep, d=None):
    """``g · d`` (``g`` when ``d`` is None) where the 0/1 mask ``keep`` is 1, an exact 0 elsewhere
    whatever ``g`` holds there: PyTorch's where / masked_fill in the backward of relu, clamp, hardtanh,
    maximum, ... . Where the op is locally constant its derivative is 0, and a cotangent's inf or NaN
    there (sqrt(relu(x)) at x < 0: sqrt'(0) = inf) gives 0, not 0 · inf = NaN."""
    return P.where(keep, g if d is None else P.mul(g, d), 0.0)


def same_shape(s):
    """The shape rule of an element-wise op of one argument: its argument's shape. One function for them all:
    ``Builder._apply`` reads the shape itself for it, without the call (a first call makes a node of each)."""
    return s


def unary(name, impl, deriv, domain=(-2.0, 2.0), sympy=None, spellings=None, keep=None, over=None, scale=None,
          **kw):
    """An element-wise op whose derivative is ``deriv(x, ans)`` (x, ans unbatched); with ``keep(x, ans)``,
    a 0/1 mask, the derivative is an exact 0 where the mask is 0 (:func:`masked`; ``deriv`` None: the
    mask is the derivative).

    ``over(x, ans)`` (``deriv`` None): the derivative is scale / over (``scale`` a number, 1 when None), and the rules
    divide the cotangent or tangent by it, ``(g · scale) / over`` (PyTorch's ``grad / (2 * result)`` of sqrt), never
    ``g · (scale / over)``: an upstream factor that
    cancels ``over`` is divided before anything underflows. The Hessian of sqrt(y) * y at 1e308 was 1e-154 (truth
    7.5e-155): (y · g) · (0.5 / sqrt(y)) differentiated holds (0.5 / sqrt(y)) / sqrt(y), 5e-309, times sqrt'(y),
    which underflows to 0 before y multiplies it (session 50, benchmarks/extreme50_probe.py). A divisor below
    1 / (the dtype's largest number), where scale / over overflowed to inf, is taken as ±0 (:func:`_tiny_as_zero`):
    there g / x was a finite wrong number where the cotangent was itself a subnormal rounding (tests/test_nan39.py),
    and g / ±0 is the ±inf or NaN of g · (1 / x), which jac warns of."""
    if over is not None:
        def vjp(g, ans, x):
            return P.div(g if scale is None else P.mul(g, scale), over(x, ans))

        def jvp(t, ans, x):
            return P.div(t if scale is None else P.mul(t, scale), over(x, ans))
        return defop(name, impl, same_shape, (vjp,), (jvp,), domain=domain, sympy=sympy,
                     spellings=(name,) if spellings is None else spellings, elementwise=True, **kw)
    if keep is not None:
        def vjp(g, ans, x):
            return masked(g, keep(x, ans), None if deriv is None else deriv(x, ans))

        def jvp(t, ans, x):
            return masked(t, keep(x, ans), None if deriv is None else deriv(x, ans))
        return defop(name, impl, same_shape, (vjp,), (jvp,), domain=domain, sympy=sympy,
                     spellings=(name,) if spellings is None else spellings, elementwise=True, **kw)

    def vjp(g, ans, x):
        d = deriv(x, ans)
        if type(g) is _ndarray and type(d) is _ndarray and len(g) == 1:  # _times_unbatched, inline
            return _multiply(g, d[None])
        return P.mul(g, d)

    def jvp(t, ans, x):
        return P.mul(t, deriv(x, ans))

    return defop(name, impl, same_shape, (vjp,), (jvp,), domain=domain, sympy=sympy,
                 spellings=(name,) if spellings is None else spellings, elementwise=True, **kw)


def _tiny_as_zero(x):
    """``x``, with ±0 (x's sign) where |x| < 1 / the dtype's largest number (5.6e-309 in float64): the divisor of
    log's rule, so that g / x there is g · (1 / x)'s ±inf or NaN, as before session 50 (:func:`unary`'s ``over``)."""
    limit = 1.0 / float(np.finfo(_dtype_of(x)).max)
    return P.where(P.lt(P.abs(x), limit), P.mul(x, 0.0), x)


def _times_unbatched(g, d):
    """``P.mul(g, d)`` of a batched cotangent ``g`` (B, *s) and an unbatched partial ``d`` (its shape
    broadcasts to s). With B = 1 and arrays, ``d`` is given the leading axis broadcasting would give it:
    the same products into the same (1, *s) array, but NumPy's loop for operands of one rank, without the
    iterator that broadcasting (1, n) against (n,) sets up (~2.6 k instructions of ~8 k). A first call's
    pass along ones, and every vjp of one cotangent, has B = 1."""
    if type(g) is _ndarray and type(d) is _ndarray and len(g) == 1:
        return _multiply(g, d[None])
    return P.mul(g, d)


def _sympy_elementwise(f):
    """The SymPy translation of an element-wise op: ``f(sp, *scalars)`` on each element.

    ``Max`` and ``Min`` are built with ``evaluate=False``: evaluated, SymPy compares their
    arguments through its assumptions, 16 ms an element (hardsigmoid of 10 × 10: 16 s)."""
    return lambda S, *args: S.elementwise(lambda *v: f(S.sp, *v), *args)


def _sympy_tied(f):
    """The SymPy translation of an element-wise op with a kink: ``f(S, *scalars)`` on each element, where
    ``f`` builds its ``Max`` / ``Min`` with ``S.tied``, the derivative at a tie the op's rule's."""
    return lambda S, *args: S.elementwise(lambda *v: f(S, *v), *args)


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(np.asarray(x) >= 0, 1 / (1 + e), e / (1 + e))


_negative, _cos, _subtract = np.negative, np.cos, np.subtract  # read once (see _empty)


def _neg(g):  # neg is linear: its VJP and JVP are the op itself
    """``P.neg(g)``: NumPy's negative of an array at once (what P.neg's dispatch calls), else the dispatch (a
    tracer, a structured batch). Its VJP and JVP call it with one Python frame: a first call's pass runs it."""
    return _negative(g) if type(g) is _ndarray else P.neg(g)


defop("neg", np.negative, same_shape, (lambda g, ans, x: _neg(g),), (lambda t, ans, x: _neg(t),),
      sympy=lambda S, x: S.neg(x), elementwise=True, spellings=("negative", "neg"), exact_int=True,
      structure=structured.neg_rule)

unary("exp", np.exp, lambda x, ans: ans,
      sympy=_sympy_elementwise(lambda sp, v: sp.exp(v)))
unary("log", np.log, None, over=lambda x, ans: _tiny_as_zero(x), domain=(0.2, 3.0),
      sympy=_sympy_elementwise(lambda sp, v: sp.log(v)))
unary("log1p", np.log1p, None, over=lambda x, ans: P.add(x, 1.0), domain=(-0.8, 3.0),
      sympy=_sympy_elementwise(lambda sp, v: sp.log(1 + v)))
unary("sqrt", np.sqrt, None, over=lambda x, ans: P.mul(2.0, ans), domain=(0.2, 3.0),
      sympy=_sympy_elementwise(lambda sp, v: sp.sqrt(v)))
unary("abs", np.abs, lambda x, ans: P.sub(P.gt(x, 0.0), P.gt(0.0, x)),  # sign(x), 0 at NaN as PyTorch's sgn
      sympy=_sympy_elementwise(lambda sp, v: sp.Abs(v)), spellings=("abs", "absolute"), exact_int=True)
unary("sin", np.sin, lambda x, ans: _cos(x) if type(x) is _ndarray else P.cos(x),  # P.cos's call of an array
      sympy=_sympy_elementwise(lambda sp, v: sp.sin(v)))
unary("cos", np.cos, lambda x, ans: P.neg(P.sin(x)),
      sympy=_sympy_elementwise(lambda sp, v: sp.cos(v)))
unary("tan", np.tan, lambda x, ans: P.add(1.0, P.mul(ans, ans)), domain=(-1.2, 1.2),
      sympy=_sympy_elementwise(lambda sp, v: sp.tan(v)))
# tanh' = 1 - t², PyTorch's and JAX's: from t = tanh(x), computed already, two ufuncs a kernel writes over spent
# operands. It loses relative digits as t nears ±1 (1e-8 at |x| = 10) and is 0 past |x| = 19.1 where sech²(x) is
# 4e^(-2|x|): an absolute error below 2.2e-16. The exact op sech2 (below) cost E6's repeated Jacobian 19 % of its
# instructions through the kernels (a Python function where three ufuncs were, and no output written over): left
# for a kernel line that emits it as ufuncs (session 51). mish's and gelu_tanh's rules, off the hot paths, read sech2.
unary("tanh", np.tanh, lambda x, ans: _subtract(1.0, _multiply(ans, ans)) if type(ans) is _ndarray else
      P.sub(1.0, P.mul(ans, ans)),  # an array's: P.sub's and P.mul's calls at once (E3's and E6's first calls)
      sympy=_sympy_elementwise(lambda sp, v: sp.tanh(v)))
unary("sinh", np.sinh, lambda x, ans: P.cosh(x),
      sympy=_sympy_elementwise(lambda sp, v: sp.sinh(v)))
unary("cosh", np.cosh, lambda x, ans: P.sinh(x),
      sympy=_sympy_elementwise(lambda sp, v: sp.cosh(v)))
# 1 / √(1 - x²) with 1 - x² as atanh's (_one_minus_square): 1 - x·x lost 1e-9 of it at 1 - 2⁻²⁸ (x·x rounds)
unary("arcsin", np.arcsin, lambda x, ans: P.div(1.0, P.sqrt(_one_minus_square(x))), domain=(-0.9, 0.9),
      sympy=_sympy_elementwise(lambda sp, v: sp.asin(v)), spellings=("arcsin", "asin"))
unary("arccos", np.arccos, lambda x, ans: P.neg(P.div(1.0, P.sqrt(_one_minus_square(x)))), domain=(-0.9, 0.9),
      sympy=_sympy_elementwise(lambda sp, v: sp.acos(v)), spellings=("arccos", "acos"))
unary("arctan", np.arctan, None, over=lambda x, ans: P.add(1.0, P.mul(x, x)),
      sympy=_sympy_elementwise(lambda sp, v: sp.atan(v)), spellings=("arctan", "atan"))
unary("sigmoid", _sigmoid, lambda x, ans: P.sigmoid_slope(x),
      sympy=_sympy_elementwise(lambda sp, v: 1 / (1 + sp.exp(-v))), spellings=("sigmoid", "expit"))


_cosh, _reciprocal = np.cosh, np.reciprocal  # read once (see _empty)


def _sech2_of(x):
    """sech²(x) = tanh'(x) = 1 / cosh²(x), as r·r with r = 1 / cosh(x): not 1 - t², which loses its digits as t = tanh(x)
    nears ±1 (1e-8 of them at |x| = 10) and is 0 past |x| = 19.1, where sech² is 4e^(-2|x|), a normal number up to
    |x| = 354 (session 51). Within a few ulps everywhere; cosh overflows past |x| = 710 (the passes ignore it), where
    r·r underflows to 0 anyway. tanh's own rule keeps 1 - t² (its comment says why)."""
    r = _reciprocal(_cosh(x))
    return _multiply(r, r)


def _sigmoid_slope(x):
    """σ'(x) = σ(x) σ(-x) = sech²(x/2) / 4: never σ(1 - σ), which is 0 past x = 37 (σ(x) rounds to 1) where σ' is
    e^-x, a normal number up to x = 708 (session 51)."""
    return _multiply(0.25, _sech2_of(_multiply(0.5, x)))


def _sech2(x):
    """tanh'(x) = sech²(x) (the op ``sech2``), exact where 1 - tanh² rounds to 0: mish's and gelu_tanh's rules."""
    return P.sech2(x)


# sech², exact in its tails (mish's and gelu_tanh's rules; tanh's keeps 1 - t²); its own derivative -2 sech²(x) tanh(x)
unary("sech2", _sech2_of, lambda x, ans: P.mul(P.mul(-2.0, ans), P.tanh(x)), spellings=(),
      sympy=_sympy_elementwise(lambda sp, v: 1 / sp.cosh(v)**2))
# σ'(x), sigmoid's, softplus's and silu's rules; its own derivative σ'(x)(σ(-x) - σ(x)) = -σ'(x) tanh(x/2), without
# the cancellation 1 - 2σ(x) has near 0
unary("sigmoid_slope", _sigmoid_slope, lambda x, ans: P.mul(P.neg(ans), P.tanh(P.mul(0.5, x))), spellings=(),
      sympy=_sympy_elementwise(lambda sp, v: sp.exp(-v) / (1 + sp.exp(-v))**2))


def _relu_impl(x):
    # PyTorch's clamp_min(x, 0): 0 below 0, x otherwise, so relu(-0) is -0 and relu(NaN) NaN (np.maximum(-0.0, 0)
    # is +0, and which zero it gives is left to the platform)
    x = np.asarray(x)
    return np.where(x < 0, x.dtype.type(0) if x.dtype.kind == "f" else 0.0, x)


unary("relu", _relu_impl, None, keep=lambda x, ans: P.sub(1.0, P.ge(0.0, x)),  # 1 at NaN, as PyTorch's
      sympy=_sympy_tied(lambda S, v: S.tied(v, 0, (0, 0))))  # relu'(0) = 0, as the rule above
unary("softplus", lambda x: np.logaddexp(0, x), lambda x, ans: P.sigmoid(x),
      sympy=_sympy_elementwise(lambda sp, v: sp.log(1 + sp.exp(v))))
unary("square", np.square, lambda x, ans: P.mul(2.0, x),
      sympy=_sympy_elementwise(lambda sp, v: v**2), exact_int=True)

# Masks: no derivative flows through them.
defop("sign", lambda x: np.sign(x), lambda s: s, nondiff=True,
      sympy=_sympy_elementwise(lambda sp, v: sp.sign(v)), elementwise=True)
defop("gt", lambda a, b: np.greater(a, b).astype(_dtype_of(a, b)), broadcast, nondiff=True,
      sympy=_sympy_elementwise(lambda sp, a, b: sp.Piecewise((1, a > b), (0, True))), elementwise=True)
defop("ge", lambda a, b: np.greater_equal(a, b).astype(_dtype_of(a, b)), broadcast, nondiff=True,
      sympy=_sympy_elementwise(lambda sp, a, b: sp.Piecewise((1, a >= b), (0, True))), elementwise=True)
defop("eq", lambda a, b: np.equal(a, b).astype(_dtype_of(a, b)), broadcast, nondiff=True,
      sympy=_sympy_elementwise(lambda sp, a, b: sp.Piecewise((1, sp.Eq(a, b)), (0, True))), elementwise=True)


def _product_vjp(partial, first: bool):
    """A binary op's VJP by its first (or second) argument without masks: ``unbroadcast(g · partial, shape)``,
    with P.mul's batch of one (``_times_unbatched``), shape_of and unbroadcast's common case written inline."""
    other = partial is _mul_dx or partial is _mul_dy  # mul's partial is the other argument: read without its call

    def vjp(g, ans, x, y):
        d = (y if first else x) if other else partial(ans, x, y)
        arg = x if first else y
        part = _multiply(g, d[None]) if type(g) is _ndarray and type(d) is _ndarray and len(g) == 1 else \
            P.mul(g, d)  # _times_unbatched
        shape = arg.shape if type(arg) is _ndarray else shape_of(arg)
        if type(part) is _ndarray and type(shape) is tuple and part.shape[1:] == shape:  # unbroadcast's answer
            return part
        return unbroadcast(part, shape)
    return vjp


def binary(name, impl, dx, dy, domain=(-2.0, 2.0), sympy=None, masks=False, guarded=None, **kw):
    """An element-wise op with broadcasting; ``dx(ans, x, y)`` and ``dy`` are the partials, or a
    :func:`refused` rule for an argument jac does not differentiate (the rule itself, both modes).
    ``masks``: a partial that is 0 is an exact 0, whatever the cotangent holds (:func:`masked`).
    ``guarded(g, ans, x, y)``: the product of a cotangent or tangent and the partial by x, written by the op
    (PyTorch's ``xlogy(grad, y)``: a 0 cotangent gives 0 where the partial is infinite), in place of ``dx``."""
    def times(g, d):
        return masked(g, d, d) if masks else P.mul(g, d)

    if masks:
        def vjp_x(g, ans, x, y):
            return unbroadcast(times(g, dx(ans, x, y)), shape_of(x))

        def vjp_y(g, ans, x, y):
            return unbroadcast(times(g, dy(ans, x, y)), shape_of(y))
    else:  # the same calls, times, shape_of and unbroadcast's common case inline (a first call's pass runs these
        # for every product: each call a Python frame)
        vjp_x, vjp_y = _product_vjp(dx, True), _product_vjp(dy, False)

    def jvp_x(t, ans, x, y):
        return times(lift(t, len(shape_of(ans))), dx(ans, x, y))

    def jvp_y(t, ans, x, y):
        return times(lift(t, len(shape_of(ans))), dy(ans, x, y))

    if guarded is not None:
        def vjp_x(g, ans, x, y):
            return unbroadcast(guarded(g, ans, x, y), shape_of(x))

        def jvp_x(t, ans, x, y):
            return guarded(lift(t, len(shape_of(ans))), ans, x, y)

    vjps = (dx if hasattr(dx, "refuses") else vjp_x, dy if hasattr(dy, "refuses") else vjp_y)
    jvps = (dx if hasattr(dx, "refuses") else jvp_x, dy if hasattr(dy, "refuses") else jvp_y)
    return defop(name, impl, broadcast, vjps, jvps, domain=domain, sympy=sympy, broadcasting=True, elementwise=True,
                 **kw)


def _add_like(name, impl, sign, sympy=None, **kw):
    def vjp_x(g, ans, x, y):  # shape_of and unbroadcast's common case inline for arrays, as in binary's
        if type(g) is _ndarray and type(x) is _ndarray and g.shape[1:] == x.shape:
            return g
        return unbroadcast(g, x.shape if type(x) is _ndarray else shape_of(x))

    def vjp_y(g, ans, x, y):
        if sign > 0 and type(g) is _ndarray and type(y) is _ndarray and g.shape[1:] == y.shape:
            return g
        return unbroadcast(g if sign > 0 else P.neg(g), y.shape if type(y) is _ndarray else shape_of(y))

    def jvp_x(t, ans, x, y):
        return lift(t, len(shape_of(ans)))

    def jvp_y(t, ans, x, y):
        t = lift(t, len(shape_of(ans)))
        return t if sign > 0 else P.neg(t)

    return defop(name, impl, broadcast, (vjp_x, vjp_y), (jvp_x, jvp_y), sympy=sympy, broadcasting=True,
                 exact_int=True, elementwise=True, **kw)


_add_like("add", np.add, +1, sympy=lambda S, a, b: S.add(a, b), spellings=("add",), label="add (+)",
          identity=(-0.0, (0, 1)), structure=structured.add_rule)  # x + 0 is +0 at x = -0; x + -0 is x
_add_like("sub", np.subtract, -1, sympy=lambda S, a, b: S.sub(a, b), spellings=("sub", "subtract"),
          label="subtract (-)", identity=(0.0, (1,)), structure=structured.sub_rule)
def _mul_dx(ans, x, y):
    return y


def _mul_dy(ans, x, y):
    return x


binary("mul", np.multiply, _mul_dx, _mul_dy, sympy=lambda S, a, b: S.mul(a, b),
       spellings=("mul", "multiply"), label="multiply (*)", exact_int=True, identity=(1.0, (0, 1)),
       structure=structured.mul_rule)
binary("div", np.true_divide, lambda ans, x, y: P.div(1.0, y), lambda ans, x, y: P.neg(P.div(ans, y)),
       domain=(0.5, 2.0), sympy=lambda S, a, b: S.div(a, b), spellings=("div", "divide", "true_divide"),
       label="divide (/)", structure=structured.div_rule)


def _pow_dx(ans, x, y):
    # y * x**(y-1), and 0 where y == 0 (PyTorch's choice: d/dx x**0 = 0 even at x = 0)
    if type(y) is float or type(y) is int:  # a number (_is_constant's first test, inline: a first call's pass)
        if y == 2:  # x**1 is x itself (IEEE 754 pow(x, 1) = x for every x, NaN and -0 too): one power less
            return _multiply(y, x) if type(x) is _ndarray else P.mul(y, x)  # P.mul's call for an array, at once
    elif _is_two(y):  # a traced constant node of 2
        return P.mul(y, x)
    if _is_constant(y, 0.5):  # PyTorch's x**-0.5 is rsqrt: 0.5 / sqrt(x), -inf at x = -0 (pow(-0, -0.5) is +inf)
        return P.mul(0.5, P.rsqrt(x))
    if isinstance(y, (int, float)):  # a constant exponent (x**2): no masks needed
        return 0.0 if y == 0 else P.mul(y, P.pow(x, y - 1.0))
    return P.where(P.eq(y, 0.0), 0.0, P.mul(y, P.pow(x, P.sub(y, 1.0))))


def _is_two(y) -> bool:
    """Whether the exponent ``y`` is the one-element constant 2, as a number, a 0-d array or a
    traced constant node: every pass (interpreter, traced gradient, kernel) then takes the same
    rule."""
    return _is_constant(y, 2)


def _is_constant(y, c) -> bool:
    """Whether ``y`` is the number ``c`` written in the expression (see :func:`_is_two`): a Python
    number, as a value or a traced constant node. Never an array or a NumPy scalar: the interpreter
    cannot tell a bound 0-d input (``x ** s`` at s = 0.5) or a computed one (``x ** sum(s)``) from a
    constant, a kernel traces them as the general rule, and the two rounded apart (0.5 / sqrt(x) is
    not 0.5 · x**-0.5 at every x); PyTorch's pow of a tensor exponent is the general rule too."""
    if type(y) in (int, float):
        return y == c
    builder = getattr(y, "builder", None)  # a Tracer: its node may be a constant
    if builder is not None and getattr(y, "id", None) is not None:
        node = builder.nodes[y.id]
        return node.op == "const" and type(node.value) in (int, float) and node.value == c
    return False


def _pow_dy(ans, x, y):
    # x**y * log(x), and 0 where x == 0 and y >= 0 (PyTorch's choice; x = 0, y < 0 gives
    # inf * log(0) = -inf as in PyTorch). ``safe`` keeps log(0) out of the masked branch,
    # whose derivative would otherwise be 0 * inf = NaN in a Hessian.
    masked = P.mul(P.eq(x, 0.0), P.ge(y, 0.0))
    safe = P.where(masked, 1.0, x)
    return P.where(masked, 0.0, P.mul(ans, P.log(safe)))


binary("pow", np.power, _pow_dx, _pow_dy, domain=(0.5, 2.0), sympy=lambda S, a, b: S.power(a, b),
       spellings=("pow", "power"), label="power (**)", exact_int=True)
# maximum / minimum at ties split the derivative evenly between both sides, and at a NaN pass it
# to both, as PyTorch does: x's share is 1 - [x loses] - [tie] / 2.
def _extremum_share(lose):
    return lambda ans, x, y: P.sub(P.sub(1.0, lose(x, y)), P.mul(0.5, P.eq(x, y)))


binary("maximum", np.maximum, _extremum_share(lambda x, y: P.gt(y, x)), _extremum_share(lambda x, y: P.gt(x, y)),
       sympy=_sympy_elementwise(lambda sp, a, b: sp.Max(a, b, evaluate=False)), spellings=("maximum",), exact_int=True,
       masks=True)
binary("minimum", np.minimum, _extremum_share(lambda x, y: P.gt(x, y)), _extremum_share(lambda x, y: P.gt(y, x)),
       sympy=_sympy_elementwise(lambda sp, a, b: sp.Min(a, b, evaluate=False)), spellings=("minimum",), exact_int=True,
       masks=True)


def _where_shape(c, a, b):
    return broadcast(c, a, b)


def _where_impl(c, a, b):
    # The mask's dtype counts: np.where(mask, 1.0, 2.0) of two Python numbers would be float64
    # and promote a float32 rule (pow's d/dy at a constant base).
    out = np.where(np.asarray(c) != 0, a, b)
    dtype = np.result_type(c, a, b)
    return out.astype(dtype, copy=False) if dtype.kind == "f" and out.dtype != dtype else out


defop("where", _where_impl, _where_shape,
      (None,
       lambda g, ans, c, a, b: unbroadcast(P.where(c, g, 0.0), shape_of(a)),
       lambda g, ans, c, a, b: unbroadcast(P.where(c, 0.0, g), shape_of(b))),
      (None,
       lambda t, ans, c, a, b: P.where(c, lift(t, len(shape_of(ans))), 0.0),
       lambda t, ans, c, a, b: P.where(c, 0.0, lift(t, len(shape_of(ans))))),
      sympy=_sympy_tied(lambda S, c, a, b: S.where_form(c, a, b)), structure=structured.where_rule,
      elementwise=True)


def _clip_impl(x, lo, hi):
    # NumPy's np.clip and torch.clamp: x where lo <= x <= hi (a tie keeps x, and x's sign of zero, which
    # np.maximum leaves to the platform), a bound where x passes it or it is NaN, hi where lo > hi
    out = x
    if lo is not None:
        out = np.where(np.less(out, lo) | np.isnan(lo), lo, out)
    if hi is not None:
        out = np.where(np.greater(out, hi) | np.isnan(hi), hi, out)
    return out


# clip(x, lo, hi): torch.clamp's masks (checked against PyTorch 2.13 in tests/test_kinks.py):
# x where lo <= x <= hi; lo where x < lo < hi; hi where x > hi or lo > hi (the value is then hi).
def _clip_masks(x, lo, hi):
    return (P.mul(P.ge(x, lo), P.ge(hi, x)),
            P.mul(P.gt(lo, x), P.gt(hi, lo)),
            P.sub(1.0, P.mul(P.sub(1.0, P.gt(x, hi)), P.sub(1.0, P.gt(lo, hi)))))


def _clip_vjp(i):
    return lambda g, ans, x, lo, hi: unbroadcast(masked(g, _clip_masks(x, lo, hi)[i]), shape_of((x, lo, hi)[i]))


def _clip_jvp(i):
    return lambda t, ans, x, lo, hi: masked(lift(t, len(shape_of(ans))), _clip_masks(x, lo, hi)[i])


def _sympy_clip(S, x, lo, hi, at_bound: int = 1):
    """``Min(Max(x, lo), hi)`` without an infinite bound: SymPy's derivative of ``Min(oo, u)`` is NaN
    (``F.normalize``'s clamp of the norm to [eps, inf) printed a Jacobian of NaN formulas). At a bound the
    derivative by ``x`` is ``at_bound`` (clip's 1, hardtanh's 0, as their rules) and by the bound 0."""
    sp = S.sp
    if lo != -sp.oo:
        x = S.tied(x, lo, (at_bound, 0))
    return x if hi == sp.oo else S.tied(x, hi, (at_bound, 0), largest=False)


defop("clip", _clip_impl, broadcast, [_clip_vjp(i) for i in range(3)], [_clip_jvp(i) for i in range(3)],
      sympy=_sympy_tied(_sympy_clip), elementwise=True)


# --- broadcasting, reshaping, indexing (linear; each one's VJP is its twin) ----------

def _broadcast_to_shape(s, shape):
    try:
        broadcast(s, shape)
    except JacShapeError:
        raise JacShapeError(f"cannot broadcast shape {fmt(s)} to {fmt(shape)}") from None
    if len(s) > len(shape) or broadcast(s, shape) != tuple(shape):
        raise JacShapeError(f"cannot broadcast shape {fmt(s)} to {fmt(shape)}")
    return tuple(shape)


def _sum_to_impl(a, shape):
    a = np.asarray(a)
    axes = tuple(i for i, (d, s) in enumerate(zip(a.shape, shape)) if s == 1 and d != 1)
    return a.sum(axis=axes, keepdims=True) if axes else a


defop("broadcast_to", lambda a, shape: np.broadcast_to(a, shape), _broadcast_to_shape,
      (lambda g, ans, a, shape: unbroadcast(g, shape_of(a)),),
      (lambda t, ans, a, shape: P.broadcast_to(lift(t, len(shape)), shape=(batch_size(t),) + tuple(shape)),),
      sympy=lambda S, a, shape: S.explicit(np.broadcast_to, a, shape=shape), view="always",
      structure=structured.broadcast_to_rule)


def _expand_impl(a, shape):
    """``np.broadcast_to(a, shape)``'s values in a new C-ordered array: :func:`expand_reduced`'s copy of a
    small cotangent, as an op (a kernel's line, a traced gradient's node: the interpreter's layout)."""
    out = _empty(shape, np.result_type(a))
    _copyto(out, a)
    return out


# expand: broadcast_to's values copied into a new C-ordered array (not a view): what the interpreter's
# expand_reduced makes of a small array, made by the traced passes (kernels) where they trace it
defop("expand", _expand_impl, _broadcast_to_shape,
      (lambda g, ans, a, shape: unbroadcast(g, shape_of(a)),),
      (lambda t, ans, a, shape: P.expand(lift(t, len(shape)), shape=(batch_size(t),) + tuple(shape)),),
      sympy=lambda S, a, shape: S.explicit(np.broadcast_to, a, shape=shape), spellings=(),
      label="a reduction's cotangent expanded", structure=structured.broadcast_to_rule)
# sum_to: the same number of axes in and out; sums the axes where ``shape`` has 1.
defop("sum_to", _sum_to_impl, lambda s, shape: tuple(shape),
      (lambda g, ans, a, shape: P.broadcast_to(g, shape=(batch_size(g),) + tuple(shape_of(a))),),
      (lambda t, ans, a, shape: P.sum_to(t, shape=(batch_size(t),) + tuple(shape)),),
      sympy=lambda S, a, shape: S.explicit(_sum_to_impl, a, shape=shape), view="maybe", structure=structured.sum_to_rule)


def _reshape_shape(s, shape):
    if is_concrete(s) and is_concrete(shape) and shape_size(s) != shape_size(shape):
        raise JacShapeError(f"cannot reshape an array of shape {fmt(s)} ({shape_size(s)} elements) into {fmt(shape)}")
    return tuple(shape)


defop("reshape", lambda a, shape: a.reshape(shape) if type(a) is np.ndarray else np.reshape(a, shape), _reshape_shape,
      (lambda g, ans, a, shape: P.reshape(g, shape=(batch_size(g),) + tuple(shape_of(a))),),
      (lambda t, ans, a, shape: P.reshape(t, shape=(batch_size(t),) + tuple(shape)),),
      sympy=lambda S, a, shape: S.reshape(a, shape), view="always", method=("reshape", "shape"),
      structure=structured.reshape_rule)


def _transpose_shape(s, axes):
    if sorted(axes) != list(range(len(s))):
        raise JacShapeError(f"axes {tuple(axes)} are not a permutation of the {len(s)} axes of shape {fmt(s)}")
    return tuple(s[a] for a in axes)


def _inverse_perm(axes):
    inv = [0] * len(axes)
    for i, a in enumerate(axes):
        inv[a] = i
    return tuple(inv)


defop("transpose", lambda a, axes: a.transpose(axes) if type(a) is np.ndarray else np.transpose(a, axes),
      _transpose_shape,
      (lambda g, ans, a, axes: P.transpose(g, axes=(0,) + shifted(_inverse_perm(axes))),),
      (lambda t, ans, a, axes: P.transpose(t, axes=(0,) + shifted(tuple(axes))),),
      sympy=lambda S, a, axes: S.transpose(a, axes), view="always", method=("transpose", "axes"),
      structure=structured.transpose_rule)


def index_shape(s, index):
    """The shape of ``a[index]`` for a basic index (ints, slices, None, int arrays)."""
    if is_concrete(s):
        try:
            probe = np.broadcast_to(np.empty((), dtype=np.int8), s)
            return probe[index].shape
        except (IndexError, OverflowError) as err:  # 2**63 overflows NumPy's index type rather than missing
            raise JacShapeError(f"index {format_index(index)} does not fit shape {fmt(s)}: {err}") from None
    out, axis = [], 0
    for item in index:
        if item is None:
            out.append(1)
            continue
        d = s[axis]
        axis += 1
        if isinstance(item, slice):
            full = item == slice(None)
            out.append(d if full else (len(range(*item.indices(d))) if isinstance(d, int) else f"{d}[{_fmt_slice(item)}]"))
        elif isinstance(item, np.ndarray):
            out.extend(item.shape)
    return tuple(out) + tuple(s[axis:])


def _fmt_slice(s: slice) -> str:
    text = f"{'' if s.start is None else s.start}:{'' if s.stop is None else s.stop}"
    return text + (f":{s.step}" if s.step is not None else "")


def format_index(index) -> str:
    parts = []
    for item in index:
        if isinstance(item, slice):
            parts.append(_fmt_slice(item))
        elif item is None:
            parts.append("None")
        elif isinstance(item, np.ndarray):
            parts.append(str(item.tolist()))
        else:
            parts.append(str(item))
    return "[" + ", ".join(parts) + "]"


def _has_array(index) -> bool:
    return any(isinstance(i, np.ndarray) for i in index)


def _scatter_impl(g, index, shape):
    out = np.zeros(shape, dtype=np.result_type(g, np.float32))
    if _has_array(index):
        # The elements written start from -0, addition's identity, so a lone value keeps its bits
        # (a -0 placed on a diagonal stays -0, as out[index] = g and the structured rule keep it).
        out[index] = -0.0
        np.add.at(out, index, g)
    else:
        out[index] = g
    return out


def _batched(index):
    """The index of a batch of arrays (a leading batch axis): its advanced parts must be adjacent, or NumPy
    would put their dims before the batch axis (:func:`adjacent_index`, which the builder applies)."""
    return (slice(None),) + tuple(index)


def adjacent_index(index: tuple, ndim: int):
    """``(perm, index')`` for an index whose advanced parts (integer arrays, and ints beside one) are apart,
    as in ``x[0, :, [1, 2]]``: ``transpose(x, perm)[index']`` holds the same elements in the layout NumPy and
    PyTorch give such an index (the advanced parts' broadcast dims first, then the others in order), with
    the advanced parts adjacent and first, so that a batch axis put before it (``_batched``) stays first.
    None when the parts are adjacent (or there are no arrays)."""
    if not any(type(i) is np.ndarray for i in index):
        return None
    items = []
    for i in index:
        if i is Ellipsis:
            used = sum(1 for j in index if j is not None and j is not Ellipsis)
            items.extend([slice(None)] * max(ndim - used, 0))
        elif type(i) is np.ndarray and i.dtype == bool:
            if i.ndim == 0:
                return None
            items.extend(np.nonzero(i))
        else:
            items.append(i)
    advanced = [k for k, i in enumerate(items) if type(i) is np.ndarray or
                (isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_)))]
    if advanced[-1] - advanced[0] + 1 == len(advanced):
        return None
    axes, axis = [], 0
    for i in items:
        axes.append(None if i is None else axis)
        axis += i is not None
    others = [k for k in range(len(items)) if k not in advanced]
    perm = tuple([axes[k] for k in advanced] + [axes[k] for k in others if axes[k] is not None]
                 + list(range(axis, ndim)))
    return perm, tuple(items[k] for k in advanced) + tuple(items[k] for k in others)


defop("getitem", lambda a, index: np.asarray(a)[index], index_shape,
      (lambda g, ans, a, index: P.scatter(g, index=_batched(index), shape=(batch_size(g),) + tuple(shape_of(a))),),
      (lambda t, ans, a, index: P.getitem(t, index=_batched(index)),),
      sympy=lambda S, a, index: S.explicit(lambda e: e[index], a), view="maybe", structure=structured.getitem_rule)
# scatter: zeros of ``shape`` with ``g`` added at ``index``; the transpose of getitem.
defop("scatter", _scatter_impl, lambda s, index, shape: tuple(shape),
      (lambda g, ans, a, index, shape: P.getitem(g, index=_batched(index)),),
      (lambda t, ans, a, index, shape: P.scatter(t, index=_batched(index), shape=(batch_size(t),) + tuple(shape)),),
      sympy=lambda S, a, index, shape: S.explicit(_scatter_impl, a, index=index, shape=shape),
      structure=structured.scatter_rule)


# --- reductions ---------------------------------------------------------------------

def _reduction_shape(s, axes, keepdims=False, **_):
    return reduce_shape(s, axes, keepdims)


def _count(shape, axes) -> int:
    n = 1
    for a in axes:
        n *= shape[a]
    return n


# The reductions call the ufunc's reduce: np.sum(a, ...) is that very call behind ~2-4 us of dispatch,
# a third of a small kernel.
_add_reduce = np.add.reduce  # read once: np.add and its .reduce are generic lookups at each read in Python 3.11
defop("sum", lambda a, axes, keepdims=False: _add_reduce(a, axis=axes, keepdims=keepdims), _reduction_shape,
      (lambda g, ans, a, axes, keepdims=False: expand_reduced(g, shape_of(a), axes, keepdims),),
      (lambda t, ans, a, axes, keepdims=False: P.sum(t, axes=shifted(axes), keepdims=keepdims),),
      sympy=lambda S, a, axes, keepdims=False: S.total(a, axes, keepdims), structure=structured.sum_rule)
def _mean_impl(a, axes, keepdims=False):
    # sum / count: the mean of an empty group is NaN (as in PyTorch) without NumPy's RuntimeWarning
    with np.errstate(all="ignore"):
        return np.true_divide(np.add.reduce(a, axis=axes, keepdims=keepdims), _count(np.shape(a), axes))


defop("mean", _mean_impl, _reduction_shape,
      (lambda g, ans, a, axes, keepdims=False:
          P.div(expand_reduced(g, shape_of(a), axes, keepdims), float(_count(shape_of(a), axes))),),
      (lambda t, ans, a, axes, keepdims=False: P.mean(t, axes=shifted(axes), keepdims=keepdims),),
      sympy=lambda S, a, axes, keepdims=False: S.total(a, axes, keepdims) / S.count(a.shape, axes),
      structure=structured.mean_rule)


def _extreme(name, impl, sympy=None):
    # The derivative is shared evenly among the elements that tie for the extreme, as
    # torch.amax / torch.max() without dim do. A NaN extreme: NaN everywhere (torch.amax, JAX), or
    # with ``nan_share`` shared among the NaN elements (torch.max(x): PyTorch's evenly_distribute_backward).
    def mask(ans, a, axes, keepdims, nan_share):
        kept = ans if keepdims else P.reshape(ans, shape=reduce_shape(shape_of(a), axes, True))
        m = P.eq(a, kept)
        if nan_share:
            m = P.where(P.isnan(kept), P.isnan(a), m)
        return P.div(m, P.sum(m, axes=axes, keepdims=True))

    # torch.max(x) (nan_share) writes its shares into zeros (masked_fill): an exact 0 off the extreme
    # whatever the cotangent holds; torch.amax and JAX multiply by the mask (0 · inf = NaN), and so does jac
    def times(g, m, nan_share):
        return masked(g, m, m) if nan_share else P.mul(g, m)

    def vjp(g, ans, a, axes, keepdims=False, nan_share=False):
        return times(expand_reduced(g, shape_of(a), axes, keepdims), mask(ans, a, axes, keepdims, nan_share),
                     nan_share)

    # the forward mode is a where in both: PyTorch's amaxamin_jvp is where(mask, t, 0).sum() / count, so an element
    # off the extreme gives 0 whatever its tangent holds (amax(sqrt(relu(x))) at a 0 that is not the max: jac's
    # forward mode gave 0 · inf = NaN where PyTorch's forward mode and both reverse modes give 0, session 40)
    def jvp(t, ans, a, axes, keepdims=False, nan_share=False):
        return P.sum(times(t, mask(ans, a, axes, keepdims, nan_share), True), axes=shifted(axes), keepdims=keepdims)

    def shape(s, axes, keepdims=False, nan_share=False):
        if any(s[a] == 0 for a in axes):  # NumPy and PyTorch refuse it too
            raise JacShapeError(f"{name} of an empty array (shape {fmt(s)}, axes {axes}) has no value")
        return reduce_shape(s, axes, keepdims)

    defop(name, impl, shape, (vjp,), (jvp,), sympy=sympy)


_extreme("max", lambda a, axes, keepdims=False, nan_share=False: np.maximum.reduce(a, axis=axes, keepdims=keepdims),
         sympy=lambda S, a, axes, keepdims=False, nan_share=False: S.extremum(a, axes, keepdims))
_extreme("min", lambda a, axes, keepdims=False, nan_share=False: np.minimum.reduce(a, axis=axes, keepdims=keepdims),
         sympy=lambda S, a, axes, keepdims=False, nan_share=False: S.extremum(a, axes, keepdims, largest=False))


def _move_to_end(a, axes):
    """Move ``axes`` to the end and flatten them into one: returns (array, undo)."""
    a = np.asarray(a)
    rest = [i for i in range(a.ndim) if i not in axes]
    moved = np.transpose(a, rest + list(axes))
    lead = moved.shape[:len(rest)]
    flat = moved.reshape(lead + (int(np.prod(moved.shape[len(rest):], dtype=np.int64)),))  # -1 fails when empty

    def undo(b):
        b = b.reshape(moved.shape)
        return np.transpose(b, _inverse_perm(rest + list(axes)))

    return flat, undo


def _prod_except_impl(a, axes):
    """For each element, the product of the other elements of its reduction group.

    Exclusive cumulative products from both sides: exact when some elements are 0.
    """
    if np.size(a) == 0:  # no group has an element
        return np.array(a, copy=True)
    flat, undo = _move_to_end(a, axes)
    ones = np.ones(flat.shape[:-1] + (1,), dtype=flat.dtype)
    left = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return undo(left * right)


def _prod_pairs(a, axes):
    """pairs[..., i, j] = product of the group without elements i and j (0 on the diagonal)."""
    flat, undo = _move_to_end(a, axes)
    n = flat.shape[-1]
    grid = np.broadcast_to(flat[..., None, :], flat.shape + (n,)).copy()
    idx = np.arange(n)
    grid[..., idx, idx] = 1.0
    flat_grid = grid.reshape(-1, n, n)
    pairs = np.stack([_prod_except_impl(m, (1,)) for m in flat_grid]).reshape(grid.shape)
    pairs[..., idx, idx] = 0.0
    return flat, undo, pairs


def _prod_except_jvp(t, ans, a, axes):
    # d/da_j prod_{k != i} a_k = prod_{k != i, j} a_k: a matrix per group, applied to t.
    # NumPy on t itself: a dry run (no values) gets the shape and the scratch (grid, pairs)
    group = int(np.prod([np.shape(a)[ax] for ax in axes], dtype=np.int64))
    if isinstance(t, Proxy):
        dry = t.dry_result(shape_of(t), 3 * np.size(a) * group * np.dtype(_dtype_of(a)).itemsize)
        if dry is not None:
            return dry
    if isinstance(t, Proxy) or isinstance(a, Proxy):  # traced (jac derivative --order 2 of a prod): no values
        return _prod_except_jvp_traced(t, a, axes)
    if np.size(a) == 0:
        return np.zeros_like(np.asarray(t))
    flat, undo, pairs = _prod_pairs(a, axes)
    tb = np.stack([_move_to_end(ti, axes)[0] for ti in np.asarray(t)])
    if np.all(np.isfinite(tb)):
        out = np.einsum("...ij,b...j->b...i", pairs, tb)
    else:  # the sum is over j != i: an infinite t_i meets no 0 of the diagonal (prod of one element, of a 0-d
        # scalar whose tangent is inf: prod(dot(y, y)) at y holding inf had a NaN Hessian where y · y's is 2·I)
        out = np.empty(tb.shape, dtype=np.result_type(pairs, tb))
        diagonal = np.eye(pairs.shape[-1], dtype=bool)
        with np.errstate(invalid="ignore"):
            for k, tk in enumerate(tb):
                out[k] = np.where(diagonal, 0.0, pairs * tk[..., None, :]).sum(axis=-1)
    return np.stack([undo(o) for o in out])


def _prod_except_jvp_traced(t, a, axes):
    """``_prod_except_jvp`` written with ``P``, for a tracer (``derivative_graph`` traces each level's JVP):
    per group, pairs[i, j] = prod_except of the group with its element i set to 1, taken at j (the product
    without i and j), 0 on the diagonal, applied to t along j. ``jac derivative --order 2`` of
    ``x.prod()`` crashed here (NumPy on a tracer)."""
    shape = tuple(shape_of(a))
    axes = tuple(sorted(axes))
    rest = tuple(i for i in range(len(shape)) if i not in axes)
    perm = rest + axes
    lead = tuple(shape[i] for i in rest)
    n = int(np.prod([shape[i] for i in axes], dtype=np.int64))
    batch = shape_of(t)[0]
    if n == 0 or 0 in lead:
        return P.mul(t, 0.0)
    moved_a = P.reshape(P.transpose(a, axes=perm), shape=lead + (1, n))
    moved_t = P.reshape(P.transpose(t, axes=(0,) + tuple(i + 1 for i in perm)), shape=(batch,) + lead + (1, n))
    diagonal = np.eye(n, dtype=bool)
    grid = P.where(diagonal, 1.0, moved_a)  # lead + (n, n): row i is the group with element i set to 1
    pairs = P.prod_except(grid, axes=(len(lead) + 1,))
    # the sum over j != i, the diagonal's product dropped (an infinite t_i times 0 is no term of it)
    out = P.sum(P.where(diagonal, 0.0, P.mul(pairs, moved_t)), axes=(len(lead) + 2,))  # (batch,) + lead + (n,)
    out = P.reshape(out, shape=(batch,) + lead + tuple(shape[i] for i in axes))
    return P.transpose(out, axes=(0,) + tuple(i + 1 for i in _inverse_perm(perm)))


defop("prod_except", _prod_except_impl, lambda s, axes: s,
      (lambda g, ans, a, axes: _prod_except_jvp(g, ans, a, axes),),  # the pair matrix is symmetric
      (_prod_except_jvp,), sympy=lambda S, a, axes: S.explicit(_prod_except_impl, a, axes=axes),
      scratch=lambda args, out: 2 * args)  # the two exclusive cumulative products beside the result
def _lone_factor(a, axes) -> bool:
    """Each group of prod holds one element (a 0-d scalar, an axis of size 1): prod is the identity, whose
    derivative is the cotangent itself, not times prod_except's constant 1, whose tangent, 0, met an infinite
    factor in a Hessian (prod(dot(y, y)) at y holding inf: NaN where y · y's is 2·I)."""
    return all(type(shape_of(a)[ax]) is int and shape_of(a)[ax] == 1 for ax in axes)


defop("prod", lambda a, axes, keepdims=False: np.multiply.reduce(a, axis=axes, keepdims=keepdims), _reduction_shape,
      (lambda g, ans, a, axes, keepdims=False:
          expand_reduced(g, shape_of(a), axes, keepdims) if _lone_factor(a, axes) else
          P.mul(expand_reduced(g, shape_of(a), axes, keepdims), P.prod_except(a, axes=axes)),),
      (lambda t, ans, a, axes, keepdims=False:
          P.sum(t if _lone_factor(a, axes) else P.mul(t, P.prod_except(a, axes=axes)), axes=shifted(axes),
                keepdims=keepdims),),
      domain=(0.5, 1.5),
      sympy=lambda S, a, axes, keepdims=False: S.reduce_groups(a, axes, keepdims, lambda g: S.sp.Mul(*g)))


def _kept(ans, a, axes, keepdims):
    return ans if keepdims else P.reshape(ans, shape=reduce_shape(shape_of(a), axes, True))


def _overflow_scale(a, n, axes):
    """(where the norm n overflowed from finite a, the largest |a| there, 1 elsewhere; that mask): a norm past
    the dtype's largest (4e38 in float32) is inf, but its derivative a / n is a number of order 1, computed as
    (a / s) / norm(a / s) (it was a / inf = 0, silently; PyTorch's is 0 too)."""
    # square_scale: max |a| past 2**50 (where a norm overflows it is past 1e19), else 1; of an empty a, 1 (a max
    # of nothing would raise); a constant, as the ratio (a / s) / norm(a / s) does not depend on s
    s = P.square_scale(a, axes=axes)
    over = P.mul(P.isinf(n), P.isfinite(s))
    return P.where(over, s, 1.0), over


def _norm_grad(ans, a, axes, keepdims):
    # x / |x|, and 0 where |x| = 0 (PyTorch's subgradient).
    n = _kept(ans, a, axes, keepdims)
    zero = P.eq(n, 0.0)
    plain = P.where(zero, 0.0, P.div(a, P.where(zero, 1.0, n)))
    s, over = _overflow_scale(a, n, axes)
    u = P.div(a, s)
    return P.where(over, P.div(u, P.norm(u, axes=axes, keepdims=True)), plain)


def _rescaled(total, a, ord, axes, keepdims):
    """``(Σ |a|^ord)^(1/ord)`` from ``total`` (the sum), computed again as ``s (Σ |a/s|^ord)^(1/ord)``, s the
    largest |a|, where the sum overflowed or lost precision to subnormals: the norm of [1e200, 2e200] is
    2.2e200, not inf, of [1e-200, 2e-200] 2.2e-200, not 0 (BLAS nrm2 scales so; NumPy and PyTorch square)."""
    a = np.asarray(a)
    with np.errstate(all="ignore"):
        root = np.sqrt(total) if ord == 2 else np.power(total, 1.0 / ord)
        if a.dtype.kind != "f" or not ord > 0:
            return root
        info = np.finfo(a.dtype)
        unsafe = ~(total >= info.tiny / info.eps) | np.isinf(total)
        if not np.any(unsafe):
            return root
        s = np.maximum.reduce(np.abs(a), axis=axes, keepdims=True, initial=0)
        safe = np.where((s > 0) & np.isfinite(s), s, 1.0).astype(a.dtype)
        inner = np.sum(np.power(np.abs(a / safe), ord), axis=axes, keepdims=True)
        scaled = safe * (np.sqrt(inner) if ord == 2 else np.power(inner, 1.0 / ord))
        scaled = np.where(np.isinf(s) | (s == 0), s, scaled)
        if not keepdims:
            scaled = np.squeeze(scaled, axis=axes)
        return np.where(unsafe, scaled.astype(a.dtype, copy=False), root)


def _norm_impl(a, axes, keepdims=False):
    return _rescaled(np.sum(np.square(a), axis=axes, keepdims=keepdims), a, 2, axes, keepdims)


defop("norm", _norm_impl, _reduction_shape,
      (lambda g, ans, a, axes, keepdims=False:
          P.mul(expand_reduced(g, shape_of(a), axes, keepdims), _norm_grad(ans, a, axes, keepdims)),),
      (lambda t, ans, a, axes, keepdims=False:
          P.sum(P.mul(t, _norm_grad(ans, a, axes, keepdims)), axes=shifted(axes), keepdims=keepdims),),
      sympy=lambda S, a, axes, keepdims=False: S.norm_form(a, axes, keepdims) if not S.components(a) else
          S.reduce_groups(a, axes, keepdims, lambda g: S.sp.sqrt(S.sp.Add(*[v**2 for v in g]))))


def _logsumexp_impl(a, axes, keepdims=False):
    a = np.asarray(a)
    if a.size == 0:  # log(0) = -inf for an empty group, as torch.logsumexp gives
        out = np.full(reduce_shape(a.shape, axes, True), -np.inf, dtype=a.dtype)
        return out if keepdims else np.squeeze(out, axis=axes)
    m = np.maximum.reduce(a, axis=axes, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.add.reduce(np.exp(a - m), axis=axes, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axes)


def _softmax_of(ans, a, axes, keepdims):
    """logsumexp's derivative, exp(a - logsumexp(a)), shifted by the finite maximum c first (session 49):
    exp(a - ans) was [1, 1] at a = [1e16, 1e16], where ans rounds to 1e16 (JAX's and the truth: [0.5, 0.5];
    PyTorch's backward has the same rounding). At an infinite or NaN maximum c is 0, so it is exp(a - ans) there."""
    c = P.log_softmax_shift(a, axes=tuple(axes), keepdims=True)
    z = P.sub(a, c)  # logsumexp(z) held as ans is (keepdims), then kept: the forms jac diff's index form reads
    return P.exp(P.sub(z, _kept(P.logsumexp(z, axes=tuple(axes), keepdims=keepdims), a, axes, keepdims)))


defop("logsumexp", _logsumexp_impl, _reduction_shape,
      (lambda g, ans, a, axes, keepdims=False:
          P.mul(expand_reduced(g, shape_of(a), axes, keepdims), _softmax_of(ans, a, axes, keepdims)),),
      (lambda t, ans, a, axes, keepdims=False:
          P.sum(P.mul(t, _softmax_of(ans, a, axes, keepdims)), axes=shifted(axes), keepdims=keepdims),),
      sympy=lambda S, a, axes, keepdims=False: S.logsumexp_form(a, axes, keepdims) if not S.components(a) else
          S.reduce_groups(a, axes, keepdims, lambda g: S.sp.log(S.sp.Add(*[S.sp.exp(v) for v in g]))))


def _softmax_impl(a, axis):
    a = np.asarray(a)
    if a.size == 0:
        return a.copy()
    if a.ndim == 1:  # the same reductions as scalars: NumPy's scalar path, not broadcasting (1,)
        return softmax_of_vector(a)
    e = np.exp(a - np.maximum.reduce(a, axis=axis, keepdims=True))
    return e / np.add.reduce(e, axis=axis, keepdims=True)


def softmax_of_vector(a):
    """softmax of a vector ``a`` (an ndarray of at least one element): ``_softmax_impl``'s own
    branch for it, which the kernels call without its tests. ``a - max`` is a new array: the
    exponential and the division are written over it where it is a float one (positional out: the
    same element-wise bits as new arrays, two allocations fewer, as the kernels' lines, see
    ``kernels._Source._spent``)."""
    e = np.subtract(a, np.maximum.reduce(a))
    if e.dtype.kind != "f":  # integers: the exponential is of another dtype
        e = np.exp(e)
        return e / np.add.reduce(e)
    np.exp(e, e)
    return np.divide(e, np.add.reduce(e), e)


def _softmax_rule(g, ans, a, axis):
    # J^T g = s * (g - <g, s>) along the axis; J is symmetric, so the JVP is the same.
    return P.softmax_vjp(g, ans, axis=axis)


def softmax_vjp_composed(g, s, axis):
    """``s * (g - <g, s>)`` along ``axis`` for a batched ``g`` (B, *s), written with ``P``:
    what a structured batch falls back to when the fused rule does not apply."""
    g = _centered(g, s, axis)  # as _softmax_vjp_impl zeroes a constant slice
    inner = P.sum(P.mul(g, s), axes=(axis + 1,), keepdims=True)
    return P.mul(s, P.sub(g, inner))


def _softmax_vjp_impl(g, s, axis, basis=False):
    if basis:  # g is d of the batch diag(d) (1: the identity), s 1-d: one pass, diag(s) - s sᵀ for d = 1
        inner = np.multiply(g, s)
        out = structured.outer_product(-inner, s)
        out.reshape(-1)[::s.shape[0] + 1] = s * (-inner + g)  # the diagonal, in place
        return out
    if isinstance(g, np.ndarray) and g.ndim == s.ndim + 1 == 2 and g.shape[0] == 1 and axis == 0:
        # one vector (a VJP's cotangent): the same sum as a scalar, not broadcasting (1, 1)
        return softmax_vjp_of_one(g.reshape(s.shape), s).reshape(g.shape)
    g = _constant_slices_zeroed(g, axis + 1)
    inner = np.add.reduce(np.multiply(g, s), axis=axis + 1, keepdims=True)
    return np.multiply(s, np.subtract(g, inner))


# A cotangent constant along softmax's axis (sum(softmax(x)): g = 1 along each row) is in the null space of the
# rule, s * (c - <c, s>) = c s (1 - Σs) = 0, but Σs is 1 only to rounding, so the rule gave c · 1e-16 · s, and a
# Hessian through it that noise times the input's scale squared: 2.7e284 for 0 (session 52; PyTorch's too). The
# rule is the same function of g plus any constant along the axis (Σs = 1), so such a slice counts as zeros:
# exact 0, and (softmax_common, below) so do the rule's own derivatives by s. Only a finite nonzero constant
# slice is changed: 0 gives 0 already, ±inf and NaN keep their NaN. An identity's rows (n ≥ 2) and a sparse
# basis's one entry per row are never such slices, so the fused paths for them (softmax_vjp_of_identity,
# softmax_jacobian_of_vector, structured.softmax_vjp_rule, the basis branch) compute as before; a slice of
# one element is constant, and there s is exactly 1 (or NaN), so c - c·1 is the +0 the zeroed slice gives.

def _softmax_common(g, axis):
    """``m`` (``g`` reduced over ``axis``, kept): the slice's value where every element of the slice is one
    finite nonzero number, else +0. ``g - m`` is ``g``'s bits but for those slices, which become +0."""
    g = np.asarray(g)
    if g.size == 0:
        return np.zeros(reduce_shape(g.shape, (axis,), True), dtype=g.dtype)
    top = np.maximum.reduce(g, axis=axis, keepdims=True)
    same = (top == np.minimum.reduce(g, axis=axis, keepdims=True)) & np.isfinite(top) & (top != 0)
    return np.where(same, top, np.zeros_like(top))


def _constant_slices_zeroed(g, axis):
    """``g`` with each slice along ``axis`` that is one finite nonzero number replaced by +0 (see above); ``g``
    itself when there is none."""
    if not isinstance(g, np.ndarray) or g.dtype.kind != "f" or g.size == 0 or g.shape[axis] < 2:
        return g  # one element: c - c·1 is +0 already; SymPy's objects (S.explicit) as they are
    m = _softmax_common(g, axis)
    if not m.any():
        return g
    return np.subtract(g, m)


def softmax_vjp_of_identity(eye, s):
    """``_softmax_vjp_impl(eye, s, 0)`` for the identity ``eye`` (n, n) and a vector ``s`` (n,),
    the same bits, what a small dense Jacobian's kernel calls: where every ``s_j`` is finite, the
    row sums ``inner_b = Σ_j eye[b, j] s_j`` are ``s_b`` itself (``0 · s_j`` is ±0, and adding
    zeros of any sign to a nonzero finite ``s_b`` gives ``s_b`` in any order; for ``s_b = ±0`` the
    sum is some signed zero, and ``eye - inner`` is then 1 or +0 either way), so two of the four
    10 × 10 broadcasting NumPy calls are skipped. ``s · s`` is finite only when every ``s_j`` is
    (an inf or a NaN makes it inf or NaN; an overflow of finite values only takes the full path)."""
    if _isfinite(np.dot(s, s)):
        return np.multiply(s, np.subtract(eye, s[_COLUMN]))
    return np.multiply(s, np.subtract(eye, np.add.reduce(np.multiply(eye, s), axis=1, keepdims=True)))


_COLUMN = (slice(None), None)  # v[_COLUMN]: the vector v as a column (n, 1), a view; cheaper than reshape


def softmax_jacobian_of_vector(eye, a):
    """``softmax_vjp_of_identity(eye, softmax_of_vector(a))`` for a vector ``a`` of n ≥ 2 elements
    and the identity ``eye`` (n, n), the same bits with one test fewer: every ``s_j`` is finite
    exactly when the maximum ``m`` is. For ``m`` finite, no ``a_j`` is NaN (the maximum would be),
    so each ``a_j - m`` is at most 0 or -inf and ``e_j`` in [0, 1], and ``t = Σ e_j`` is at least
    ``e`` at the maximum, exp(0) = 1, and at most n: ``s_j = e_j / t`` is finite. For ``m`` ±inf
    or NaN, ``a_j - m`` at the maximum is inf - inf or NaN: ``s`` holds a NaN. So ``_isfinite(m)``
    decides as ``_isfinite(s · s)`` does in :func:`softmax_vjp_of_identity`, without the product."""
    m = np.maximum.reduce(a)
    e = np.subtract(a, m)
    if e.dtype.kind != "f":  # integers: the exponential is of another dtype
        return softmax_vjp_of_identity(eye, softmax_of_vector(a))
    np.exp(e, e)  # written over the new arrays, as softmax_of_vector (the same bits)
    s = np.divide(e, np.add.reduce(e), e)
    if _isfinite(m):
        d = np.subtract(eye, s[_COLUMN])
    else:
        d = np.subtract(eye, np.add.reduce(np.multiply(eye, s), axis=1, keepdims=True))
    return np.multiply(s, d, d)  # d is of the dtype eye and s promote to: s's or wider


def softmax_vjp_of_one(g, s):
    """``s * (g - <g, s>)`` for one vector ``g`` shaped like the vector ``s`` (the kernels call it
    on a cotangent held without its batch axis); a ``g`` of one finite nonzero number counts as zeros, as in
    ``_softmax_vjp_impl`` (its first and last elements compared first: one test on the common path). The
    difference and the product are written over the product ``g · s`` once it is summed (positional out: the
    same bits as new arrays, one allocation), with NumPy's functions read from this module's names (each
    ``np.NAME`` is a generic lookup): together a little cheaper than the test (callgrind, n = 10)."""
    try:
        first = g.item(0)
        same = first == g.item(-1)
    except IndexError:  # an empty g
        same = False
    if same and g.dtype.kind == "f" and first != 0 and first - first == 0 and _all_equal(g, first):
        g = _subtract(g, first)
    p = _multiply(g, s)
    d = _subtract(g, _add_reduce(p), p)
    return _multiply(s, d, d)


def _all_equal(g, value) -> bool:
    return bool(np.equal(g, value).all())


def _centered(g, s, axis):
    """``g`` less its constant slices along softmax's axis (``softmax_common``, no derivative): the rule's
    derivatives by s at such a g are then exactly 0, as the rule is. Mathematically the same (the s these
    rules meet is a softmax's, whose tangents sum to 0 along the axis). A sparse batch of one slot keeps its
    pattern (``structured.constant_slices_zeroed``; g - 0 would make it dense), in a dry run too."""
    at = axis + 1  # the op's axis counts g's axes after its batch axis (s broadcasts against them)
    if isinstance(g, structured.SparseBatch):  # one slot: its entries of such a slice zeroed, the pattern kept
        out = structured.constant_slices_zeroed(g, at)
        if out is not NotImplemented:
            return out
    return P.sub(g, P.softmax_common(g, axis=at))


def _softmax_vjp_s(h, ans, g, s, axis, basis=False):
    # out = s g - s <g, s>: d/ds <h, out> = h (g - <g, s>) - g <h, s>, summed over g's batch axis
    g = _centered(g, s, axis)
    lifted_g, lifted_s = lift_batch(g), s
    inner = P.sum(P.mul(lifted_g, lifted_s), axes=(axis + 2,), keepdims=True)
    hs = P.sum(P.mul(h, lifted_s), axes=(axis + 2,), keepdims=True)
    lead = len(shape_of(g)) - len(shape_of(s))  # g's batch axes (two in the rule's own derivative)
    return P.sum(P.sub(P.mul(h, P.sub(lifted_g, inner)), P.mul(lifted_g, hs)), axes=tuple(range(1, 1 + lead)))


def _softmax_vjp_jvp_s(t, ans, g, s, axis, basis=False):
    lead = len(shape_of(g)) - len(shape_of(s))  # (C, 1, *s) against g's (B, *s)
    t2 = P.reshape(t, shape=(batch_size(t),) + (1,) * lead + tuple(shape_of(s)))
    g = _centered(g, s, axis)
    inner = P.sum(P.mul(g, s), axes=(axis + 1,), keepdims=True)
    return P.sub(P.mul(t2, P.sub(g, inner)), P.mul(s, P.sum(P.mul(g, t2), axes=(axis + 2,), keepdims=True)))


def lift_batch(g):
    """A batched argument ``(B, *s)`` of an op, seen from a batch of its tangents: ``(1, B, *s)``."""
    return P.reshape(g, shape=(1,) + tuple(shape_of(g)))


# softmax's derivative rule as one op: linear and symmetric in g, so its VJP and JVP in g are itself
def _softmax_vjp_structure(g, s, axis, basis=False):
    """The fused rule on a sparse basis, else the rule's ops (each keeps what structure it can)."""
    out = structured.softmax_vjp_rule(g, s, axis, basis)
    return softmax_vjp_composed(g, s, axis) if out is NotImplemented and not basis else out


def _softmax_vjp_shape(g, s, axis, basis=False):
    return (s[0],) + tuple(s) if basis else g


defop("softmax_vjp", _softmax_vjp_impl, _softmax_vjp_shape,
      (lambda h, ans, g, s, axis, basis=False: P.softmax_vjp(h, s, axis=axis + 1), _softmax_vjp_s),
      (lambda t, ans, g, s, axis, basis=False: P.softmax_vjp(t, s, axis=axis + 1), _softmax_vjp_jvp_s),
      sympy=lambda S, g, s, axis, basis=False: S.explicit(_softmax_vjp_impl, g, s, axis=axis),
      structure=_softmax_vjp_structure)


# softmax_common (session 52): the constant a slice of softmax_vjp's cotangent holds along the axis, which the
# rule's derivatives subtract first (_centered); no derivative, and its SymPy form is 0 (the rule does not
# depend on it)
defop("softmax_common", _softmax_common, lambda s, axis: reduce_shape(s, (axis,), True), nondiff=True,
      sympy=lambda S, g, axis: _zero_sympy(S, g, (axis,), True))


def _softmax_sympy(S, a, axis):
    if not S.components(a):
        return S.softmax_form(a, axis)
    e = S.Value(S.explicit(lambda x: S.objects(S.sp.exp, x), a), a.shape)
    return e.expr / S.total(e, (axis,), keepdims=True)


defop("softmax", _softmax_impl, lambda s, axis: s, (_softmax_rule,), (_softmax_rule,), sympy=_softmax_sympy)


# --- linear algebra -------------------------------------------------------------------

def _matmul_shape(a, b):
    if 0 < len(a) <= 2 and 0 < len(b) <= 2 and a[-1] == b[0]:  # vectors and matrices: what the lines below give
        return ((a[0],) if len(a) == 2 else ()) + ((b[1],) if len(b) == 2 else ())
    if len(a) == 0 or len(b) == 0:
        raise JacShapeError(f"matmul needs arrays with at least 1 dimension, got shapes {fmt(a)} and {fmt(b)}")
    a2 = (1,) + tuple(a) if len(a) == 1 else tuple(a)
    b2 = tuple(b) + (1,) if len(b) == 1 else tuple(b)
    if a2[-1] != b2[-2]:
        raise JacShapeError(
            f"matmul: shapes {fmt(a)} and {fmt(b)} do not line up ({a2[-1]} ≠ {b2[-2]}: "
            f"the last axis of the left must equal the {'only' if len(b) == 1 else 'second-to-last'} axis of the right)")
    try:
        lead = broadcast(a2[:-2], b2[:-2])
    except JacShapeError:
        raise JacShapeError(f"matmul: the batch axes of {fmt(a)} and {fmt(b)} do not broadcast") from None
    out = lead + (a2[-2], b2[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return out


def _as_matrices(a, b):
    """Promote 1-d operands as NumPy's matmul does: a (k,) -> (1, k), b (k,) -> (k, 1)."""
    sa, sb = shape_of(a), shape_of(b)
    a2 = P.reshape(a, shape=(1,) + tuple(sa)) if len(sa) == 1 else a
    b2 = P.reshape(b, shape=tuple(sb) + (1,)) if len(sb) == 1 else b
    return a2, b2


def _promoted(a, b):
    """Promoted operands, their shapes, and the promoted output shape."""
    a2, b2 = _as_matrices(a, b)
    return a2, b2, _matmul_shape(shape_of(a2), shape_of(b2))


def _back_to(grad, shape, promoted_shape):
    """A batched cotangent of a promoted operand, summed and reshaped to the operand's shape."""
    b = batch_size(grad)
    grad = unbroadcast(grad, tuple(promoted_shape))
    return P.reshape(grad, shape=(b,) + tuple(shape)) if tuple(promoted_shape) != tuple(shape) else grad


def _plain_shapes(g, a, b):
    """``(a.shape, b.shape)`` when ``g``, ``a`` and ``b`` are arrays (no tracer, no structured batch)
    and the operands 1-d or 2-d, else None. The rules below then make the NumPy calls that their ``P``
    ops make, without the dispatch (a cold call's pass runs them once each: E6 twice), reading each
    shape once (an array's ``shape`` or ``ndim`` is a generic attribute lookup, a new tuple each time)."""
    if type(g) is _ndarray and type(a) is _ndarray and type(b) is _ndarray:
        shape_a, shape_b = a.shape, b.shape
        if 0 < len(shape_a) <= 2 and 0 < len(shape_b) <= 2:
            return shape_a, shape_b
    return None


# A batch of one of a product of a vector and a matrix (``x @ A``, ``A @ x``, of 2 x 2 and up): the rule of the
# vector is the vector-matrix product of the other order, ``B @ g[0]`` for ``G Bᵀ`` (``g[0] @ A`` for ``Aᵀ G``),
# which NumPy's matmul loop (numpy/_core/src/umath/matmul.c.src) sends to the same ``@TYPE@_gemv`` with the
# same arguments: a matrix-vector product with ``Bᵀ``'s first axis of stride s1 and second s2 is
# ``gemv(ip1, s1, s2, ...)``, a vector-matrix one with ``B``, whose axes are those two strides swapped,
# ``gemv(ip2, is2_p, is2_n, ...)`` with the same pointer, the same strides, sizes and vector; both pick
# cblas_?gemv's order from those strides alone, and a core axis of size 1 (``g`` as (1, 1, n)) is the missing
# axis of a 1-d operand (see ``kernels.py``'s batch of one). So the same bits, for aligned operands (a misaligned
# one is copied into a buffer by the gufunc machinery, in one order and not the other), without the transpose,
# the reshapes to 3-d and the gufunc's outer loop of size 1 (~2.6 k instructions of ~23 k a rule at n = 10):
# E2, E3 and E6's first calls. ``tests/test_cold22.py`` compares the bits with the general path, misaligned
# operands and strided cotangents included.
def _vector_of_one(g, vector_shape: tuple, matrix_shape: tuple, matrix) -> bool:
    """Does the batch-of-one branch above apply: ``g`` one cotangent, the operand a vector, the other a
    matrix, every size 2 or more (a size of 1 sends NumPy's loop to its dot or to a gemv of another shape),
    ``g`` and the matrix aligned (a misaligned operand is copied by the gufunc machinery, into a buffer that
    then goes to BLAS in one order and not in the other: other bits, found by tests/test_kernels.py)?"""
    return len(vector_shape) == 1 and len(matrix_shape) == 2 and len(g) == 1 and vector_shape[0] >= 2 \
        and matrix_shape[0] >= 2 and matrix_shape[1] >= 2 and g.flags.aligned and matrix.flags.aligned


def _matmul_vjp_a(g, ans, a, b):
    shapes = _plain_shapes(g, a, b)
    if shapes is not None:  # _promoted, G Bᵀ and _back_to below, call for call
        shape_a, shape_b = shapes
        if _vector_of_one(g, shape_a, shape_b, b):  # x @ B: B @ g[0], the same gemv (see above)
            return _matmul(b, g[0]).reshape((1,) + shape_a)
        rows = 1 if len(shape_a) == 1 else shape_a[0]
        b2 = b.reshape(shape_b + (1,)) if len(shape_b) == 1 else b
        batch = g.shape[0]
        grad = _matmul(g.reshape((batch, rows, 1 if len(shape_b) == 1 else shape_b[1])), b2.transpose((1, 0)))
        return grad.reshape((batch,) + shape_a) if len(shape_a) == 1 else grad
    a2, b2, out2 = _promoted(a, b)
    g2 = P.reshape(g, shape=(batch_size(g),) + out2)
    return _back_to(P.matmul(g2, mT(b2)), shape_of(a), shape_of(a2))  # dA = G Bᵀ


def _matmul_vjp_b(g, ans, a, b):
    shapes = _plain_shapes(g, a, b)
    if shapes is not None:  # as _matmul_vjp_a: the calls of the lines below, without P's dispatch
        shape_a, shape_b = shapes
        if _vector_of_one(g, shape_b, shape_a, a):  # A @ x: g[0] @ A, the same gemv (see above)
            return _matmul(g[0], a).reshape((1,) + shape_b)
        a2 = a.reshape((1,) + shape_a) if len(shape_a) == 1 else a
        batch = g.shape[0]
        grad = _matmul(a2.transpose((1, 0)), g.reshape((batch, 1 if len(shape_a) == 1 else shape_a[0],
                                                         1 if len(shape_b) == 1 else shape_b[1])))
        return grad.reshape((batch,) + shape_b) if len(shape_b) == 1 else grad
    a2, b2, out2 = _promoted(a, b)
    g2 = P.reshape(g, shape=(batch_size(g),) + out2)
    return _back_to(P.matmul(mT(a2), g2), shape_of(b), shape_of(b2))  # dB = Aᵀ G


def _tangent_as(t, promoted_shape, ndim):
    """A batched tangent (T, *s) reshaped to the promoted operand and lifted to ``ndim`` axes."""
    t2 = P.reshape(t, shape=(batch_size(t),) + tuple(promoted_shape))
    return lift(t2, ndim)


def _matmul_jvp_a(t, ans, a, b):
    a2, b2, out2 = _promoted(a, b)
    prod = P.matmul(_tangent_as(t, shape_of(a2), len(out2)), b2)  # d(AB) = dA B
    return P.reshape(prod, shape=(batch_size(t),) + tuple(shape_of(ans)))


def _matmul_jvp_b(t, ans, a, b):
    a2, b2, out2 = _promoted(a, b)
    prod = P.matmul(a2, _tangent_as(t, shape_of(b2), len(out2)))  # d(AB) = A dB
    return P.reshape(prod, shape=(batch_size(t),) + tuple(shape_of(ans)))


defop("matmul", np.matmul, _matmul_shape,  # the ufunc itself: a kernel calls it with no Python frame between
      (_matmul_vjp_a, _matmul_vjp_b), (_matmul_jvp_a, _matmul_jvp_b), sympy=lambda S, a, b: S.matmul(a, b),
      label="matmul (@)", structure=structured.matmul_rule)


def _square_shape(name, s):
    if len(s) < 2 or s[-1] != s[-2]:
        raise JacShapeError(f"{name} needs a square matrix, got shape {fmt(s)}")
    return s


def _trace_shape(s):
    if len(s) < 2:
        raise JacShapeError(f"trace needs a matrix (2-d), got shape {fmt(s)}")
    return tuple(s[:-2])


def _trace_vjp(g, ans, a):
    sa = shape_of(a)
    eye = np.eye(sa[-2], sa[-1], dtype=_dtype_of(a))
    return P.mul(P.reshape(g, shape=tuple(shape_of(g)) + (1, 1)), eye)


# trace over the last two axes, so that a batch of matrices (B, n, n) is traced too.
defop("trace", lambda a: np.trace(a, axis1=-2, axis2=-1), _trace_shape,
      (_trace_vjp,), (lambda t, ans, a: P.trace(t),),
      sympy=lambda S, a: np.trace(a.expr, axis1=-2, axis2=-1) if S.components(a) else S.sp.Trace(a.expr))


def _inv_impl(a):
    try:
        out = np.linalg.inv(a)
    except np.linalg.LinAlgError:
        raise JacValueError(f"inv: the matrix is singular, so it has no inverse (shape {fmt(np.shape(a))})") from None
    return _nan_where_nan(a, out)


def _nan_where_nan(a, out):
    """``out`` (one result matrix per matrix of ``a``) NaN for every matrix of ``a`` holding a NaN. LAPACK's
    LU pivots around a NaN, so rows of the inverse and entries of a solution that depend on it come out finite
    (``inv([[nan, .2], [.3, 3]])``'s second row): wrong numbers. PyTorch's are NaN. An infinity is left to
    LAPACK, whose numbers there are the limits (the inverse of ``[[inf, .2], [.3, 3]]`` is ``[[0, 0], [0, 1/3]]``)
    or NaN."""
    a = np.asarray(a)
    if a.dtype.kind != "f":
        return out
    nan = np.isnan(a).any(axis=(-2, -1))
    return np.where(nan[..., None, None], np.nan, out) if nan.any() else out


def _cofactor_impl(a):
    """The cofactor matrix adj(A)ᵀ = d det(A) / dA, a polynomial in A, so defined at a singular A too:
    det(A) A⁻ᵀ where det(A) != 0, else U diag(∏_{j≠i} σ_j) Vᵀ · det(U) det(V) from A = U Σ Vᵀ
    (adj(A) = adj(Vᵀ) adj(Σ) adj(U)): PyTorch's two branches of det's derivative."""
    a = np.asarray(a)
    a = a.astype(np.result_type(a, np.float32), copy=False)
    n = a.shape[-1]
    out = np.zeros(a.shape, a.dtype)
    if not out.size:
        return out
    flat, res = a.reshape((-1, n, n)), out.reshape((-1, n, n))
    with np.errstate(all="ignore"):
        det = np.linalg.det(flat)
        regular = det != 0  # NaN too: its inverse is NaN
        try:  # the usual case at once: LAPACK inverts each matrix of a batch as it would alone
            res[regular] = det[regular, None, None] * np.swapaxes(np.linalg.inv(flat[regular]), -1, -2)
        except np.linalg.LinAlgError:
            regular[:] = False
        for k in np.flatnonzero(~regular):
            res[k] = _cofactor_of_one(flat[k], det[k])
    return out


def _cofactor_of_one(m, det):
    if det != 0:  # NaN too: its inverse (or the refusal below) is NaN
        try:
            return det * np.linalg.inv(m).T
        except np.linalg.LinAlgError:
            pass
    if not np.isfinite(m).all():  # no SVD of NaN or inf (of inf, OpenBLAS's gesdd never returns)
        return np.full(m.shape, np.nan, m.dtype)
    u, s, vh = np.linalg.svd(m)
    before = np.concatenate([np.ones(1, m.dtype), np.cumprod(s[:-1])])
    after = np.concatenate([np.cumprod(s[:0:-1])[::-1], np.ones(1, m.dtype)])
    sign = np.sign(np.linalg.det(u)) * np.sign(np.linalg.det(vh))
    return (sign * (u * (before * after))) @ vh


def _inv_of(a):
    # the fourth derivative of det is written with A⁻¹ (cofactor_dir2's derivative)
    return nonsingular(_inv_for(a, "the fourth derivative of det (computed with A⁻¹, which a singular matrix has not)"),
                       a, "det")


def _last_two(t) -> tuple:
    nd = len(shape_of(t))
    return (nd - 2, nd - 1)


def _pair_products(s):
    """``q[..., i, j]`` = ∏_{l ≠ i, j} s_l for i ≠ j, 0 on the diagonal: products, no quotient, so a zero
    singular value (or two) is exact."""
    n = s.shape[-1]
    v = np.broadcast_to(s[..., None, :], s.shape[:-1] + (n, n)).copy()
    v[..., np.arange(n), np.arange(n)] = 1.0  # row i: s with s_i left out
    ones = np.ones(v.shape[:-1] + (1,), v.dtype)
    before = np.cumprod(np.concatenate([ones, v[..., :-1]], axis=-1), axis=-1)
    after = np.cumprod(np.concatenate([ones, v[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    q = before * after
    q[..., np.arange(n), np.arange(n)] = 0.0
    return q


def _finite_svd(a, dtype) -> tuple:
    """``(U, σ, Vᵀ, sign, bad)`` of ``a`` (a stack of square matrices) in ``dtype``, sign = det(U)·det(V)'s: a matrix
    holding NaN or inf is replaced by the identity (no SVD of NaN or inf: of inf, OpenBLAS's gesdd never returns),
    and ``bad`` marks it, for the caller to make its result NaN."""
    a = a.astype(dtype, copy=False)
    bad = ~np.isfinite(a).all(axis=(-2, -1))
    if bad.any():
        a = np.where(bad[..., None, None], np.eye(a.shape[-1], dtype=dtype), a)
    u, s, vh = np.linalg.svd(a)
    return u, s, vh, np.sign(np.linalg.det(u)) * np.sign(np.linalg.det(vh)), bad


def _cofactor_dir_impl(a, t):
    """d cofactor(A)[T], the second derivative of det, a polynomial in A: from A = U Σ Vᵀ and
    adj(A) = adj(Vᵀ) adj(Σ) adj(U), d cofactor(A)[T] = det(U) det(V) U D(M)ᵀ Vᵀ with M = Uᵀ T V, where
    D(M)ᵢⱼ = -Mᵢⱼ ∏_{l≠i,j} σ_l off the diagonal and D(M)ᵢᵢ = Σ_{k≠i} M_kk ∏_{l≠i,k} σ_l: products of singular
    values, exact at a singular A, where det(A)·A⁻ᵀ's derivative (A⁻¹ of a matrix singular to working precision)
    is noise. The map is self-adjoint, so it is its own VJP. ``t`` may carry leading axes (a batch of tangents)."""
    a, t = np.asarray(a), np.asarray(t)
    dtype = np.result_type(a, t, np.float32)
    out_shape = np.broadcast_shapes(a.shape, t.shape)
    n = a.shape[-1]
    if 0 in out_shape:
        return np.zeros(out_shape, dtype)
    u, s, vh, sign, bad = _finite_svd(a, dtype)
    q = _pair_products(s)
    m = np.matmul(np.matmul(np.swapaxes(u, -1, -2), t), np.swapaxes(vh, -1, -2))
    diag = np.matmul(q, np.diagonal(m, axis1=-2, axis2=-1)[..., None])  # (..., n, 1)
    d = np.eye(n, dtype=dtype) * diag - m * q
    out = np.matmul(np.matmul(u * sign[..., None, None], np.swapaxes(d, -1, -2)), vh)
    if bad.any():
        out = np.where(bad[..., None, None], np.nan, out)
    return out.astype(dtype, copy=False)


def _triple_products(s):
    """``p[..., i, j, k]`` = ∏_{l ∉ {i, j, k}} s_l for distinct i, j, k, 0 where two of them are equal: products,
    no quotient, so zero singular values are exact. One :func:`_pair_products` per i (s_i set to 1): n³ values, no
    n⁴ scratch."""
    n = s.shape[-1]
    p = np.zeros(s.shape[:-1] + (n, n, n), s.dtype)
    for i in range(n):
        w = s.copy()
        w[..., i] = 1.0
        q = _pair_products(w)
        q[..., i, :] = 0.0
        q[..., :, i] = 0.0
        p[..., i, :, :] = q
    return p


def _cofactor_dir2_impl(a, s, t):
    """d cofactor_dir(A, T)[S], det's third derivative as a matrix: ⟨R, G⟩ = D³det(A)[S, T, G], symmetric in S, T and
    G. From A = U Σ Vᵀ, det(Σ + E) = Σ_J ∏_{l∉J} σ_l det(E_JJ), so with N = Uᵀ S V, M = Uᵀ T V the cubic term gives
    R = det(U) det(V) U Y Vᵀ, Y_ab = Σ_c p_abc (N_bc M_ca + M_bc N_ca - N_ba M_cc - M_ba N_cc) for a ≠ b and
    Y_aa = Σ_jk p_ajk (N_jj M_kk - N_jk M_kj), p the products of all singular values but three
    (:func:`_triple_products`): exact at a singular A (session 50), where the formula with A⁻¹ (the fourth
    derivative's, :func:`_cofactor_dir2_da`) is noise. ``s`` and ``t`` may carry leading axes (batches)."""
    a, s, t = np.asarray(a), np.asarray(s), np.asarray(t)
    dtype = np.result_type(a, s, t, np.float32)
    out_shape = np.broadcast_shapes(a.shape, s.shape, t.shape)
    n = a.shape[-1]
    if 0 in out_shape:
        return np.zeros(out_shape, dtype)
    u, sv, vh, sign, bad = _finite_svd(a, dtype)
    p = _triple_products(sv)
    ut, v = np.swapaxes(u, -1, -2), np.swapaxes(vh, -1, -2)
    nn, mm = np.matmul(np.matmul(ut, s), v), np.matmul(np.matmul(ut, t), v)
    dn, dm = np.diagonal(nn, axis1=-2, axis2=-1), np.diagonal(mm, axis1=-2, axis2=-1)
    y = (np.einsum("...abc,...bc,...ca->...ab", p, nn, mm) + np.einsum("...abc,...bc,...ca->...ab", p, mm, nn)
         - np.swapaxes(nn, -1, -2) * np.einsum("...abc,...c->...ab", p, dm)
         - np.swapaxes(mm, -1, -2) * np.einsum("...abc,...c->...ab", p, dn))
    diag = np.einsum("...ajk,...j,...k->...a", p, dn, dm) - np.einsum("...ajk,...jk,...kj->...a", p, nn, mm)
    y = y + diag[..., None] * np.eye(n, dtype=dtype)
    out = np.matmul(np.matmul(u * sign[..., None, None], y), vh)
    if bad.any():
        out = np.where(bad[..., None, None], np.nan, out)
    return out.astype(dtype, copy=False)


def _tr(x):
    out = P.trace(x)
    return P.reshape(out, shape=tuple(shape_of(out)) + (1, 1))


def _cofactor_dir2_da(w, a, s, t):
    # R(S, T) = d cofactor_dir(A, T)[S] = -tr(BSBT) C + tr(BT) X(S) - X(S) Tᵀ Bᵀ + C Tᵀ Bᵀ Sᵀ Bᵀ (B = A⁻¹,
    # C = cofactor(A), X = cofactor_dir), so in the direction W (dB = -BWB, dC = X(W), dX(S) = R(W, S)) det's fourth
    # derivative, symmetric in W, S, T and the cotangent: the VJP is the same expression with the cotangent for W.
    # It reads A⁻¹: refused at a singular matrix (the third, cofactor_dir2, is exact there).
    b = _inv_of(a)
    bt = mT(b)
    c, xs, xw, rws = P.cofactor(a), P.cofactor_dir(a, s), P.cofactor_dir(a, w), P.cofactor_dir2(a, w, s)
    bs, bt_, bw = P.matmul(b, s), P.matmul(b, t), P.matmul(b, w)
    tt, st, wt = mT(t), mT(s), mT(w)
    first = P.mul(P.add(_tr(P.matmul(P.matmul(bw, bs), bt_)), _tr(P.matmul(P.matmul(bs, bw), bt_))), c)
    first = P.sub(first, P.mul(_tr(P.matmul(bs, bt_)), xw))
    second = P.sub(P.mul(_tr(bt_), rws), P.mul(_tr(P.matmul(bw, bt_)), xs))
    third = P.sub(P.matmul(P.matmul(P.matmul(P.matmul(xs, tt), bt), wt), bt), P.matmul(P.matmul(rws, tt), bt))
    tbsb = P.matmul(P.matmul(P.matmul(tt, bt), st), bt)  # Tᵀ Bᵀ Sᵀ Bᵀ
    fourth = P.sub(P.matmul(xw, tbsb), P.add(
        P.matmul(P.matmul(P.matmul(P.matmul(P.matmul(c, tt), bt), wt), bt), P.matmul(st, bt)),
        P.matmul(P.matmul(P.matmul(c, tbsb), wt), bt)))
    return P.add(P.add(first, second), P.add(third, fourth))


def _cofactor_vjp(g, ans, a):
    return P.cofactor_dir(a, g)


def _cofactor_jvp(t, ans, a):
    return P.cofactor_dir(a, t)


defop("cofactor", _cofactor_impl, lambda s: _square_shape("det", s), (_cofactor_vjp,), (_cofactor_jvp,),
      sympy=lambda S, a: (S.stack_matrices(a, lambda m: m.adjugate().T, "cofactor") if S.components(a) else
                          S.sp.Determinant(a.expr) * S.sp.Transpose(S.sp.Inverse(a.expr))))
# the rules' cotangents and tangents carry a leading batch axis: a tangent of A or T is lifted to the result's rank
# (T can be a batch of its own, a level of jac derivative --order 3), a cotangent summed back to A's or T's shape
defop("cofactor_dir", _cofactor_dir_impl,
      lambda sa, st: _square_shape("det", sa) and np.broadcast_shapes(tuple(sa), tuple(st)),
      (lambda g, ans, a, t: unbroadcast(P.cofactor_dir2(a, g, t), tuple(shape_of(a))),
       lambda g, ans, a, t: unbroadcast(P.cofactor_dir(a, g), tuple(shape_of(t)))),
      (lambda s, ans, a, t: P.cofactor_dir2(a, lift(s, len(shape_of(ans))), t),
       lambda s, ans, a, t: P.cofactor_dir(a, lift(s, len(shape_of(ans))))),
      scratch=lambda args, out: 3 * out + 4 * args)  # A's U, s, Vh and pair products; M, M's product, D
# det's third derivative (session 50): exact at a singular matrix, from the SVD as cofactor_dir; its own derivative,
# the fourth, reads A⁻¹ and is refused there
defop("cofactor_dir2", _cofactor_dir2_impl,
      lambda sa, ss, st: _square_shape("det", sa) and np.broadcast_shapes(tuple(sa), tuple(ss), tuple(st)),
      (lambda g, ans, a, s, t: unbroadcast(_cofactor_dir2_da(g, a, s, t), tuple(shape_of(a))),
       lambda g, ans, a, s, t: unbroadcast(P.cofactor_dir2(a, g, t), tuple(shape_of(s))),
       lambda g, ans, a, s, t: unbroadcast(P.cofactor_dir2(a, s, g), tuple(shape_of(t)))),
      (lambda w, ans, a, s, t: _cofactor_dir2_da(lift(w, len(shape_of(ans))), a, s, t),
       lambda w, ans, a, s, t: P.cofactor_dir2(a, lift(w, len(shape_of(ans))), t),
       lambda w, ans, a, s, t: P.cofactor_dir2(a, s, lift(w, len(shape_of(ans))))),
      # A's U, s, Vh; N, M, Y; and the n³ products per matrix, bounded by args·√(args / 8) (n² ≤ args / 8)
      scratch=lambda args, out: 4 * out + 4 * args + int(args * (args / 8) ** 0.5))
defop("det", lambda a: np.linalg.det(a), lambda s: _square_shape("det", s)[:-2],
      # d det(A) = <cofactor(A), dA>: the cotangent g cofactor(A), defined at a singular A too
      (lambda g, ans, a: P.mul(P.reshape(g, shape=tuple(shape_of(g)) + (1, 1)), P.cofactor(a)),),
      (lambda t, ans, a: P.sum(P.mul(P.cofactor(a), t), axes=_last_two(t)),),
      sympy=lambda S, a: S.per_matrix(a, lambda m: m.det(), "det") if S.components(a) else S.sp.Determinant(a.expr))
defop("inv", _inv_impl, lambda s: _square_shape("inv", s),
      # d A⁻¹ = -A⁻¹ dA A⁻¹
      (lambda g, ans, a: P.neg(P.matmul(P.matmul(mT(ans), nonsingular(g, a, "inv")), mT(ans))),),
      (lambda t, ans, a: P.neg(P.matmul(P.matmul(ans, nonsingular(t, a, "inv")), ans)),),
      domain=(-1.0, 1.0),
      sympy=lambda S, a: S.stack_matrices(a, lambda m: m.inv(), "inv") if S.components(a) else S.sp.Inverse(a.expr))


# --- PART elementwise: the element-wise vocabulary of PyTorch and NumPy ---------------------

def _special(name):
    """``scipy.special.<name>``, imported on first use (``jac eval`` of other ops never loads
    SciPy): NumPy has no erf, lgamma or digamma, and SciPy's are exact to about an ulp on the
    whole real line (negative arguments and poles included), which a hand-written series is not."""
    def impl(x, *params):
        from scipy import special

        x = np.asarray(x)
        out = getattr(special, name)(*params, x)
        kind = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
        return out.astype(kind, copy=False)
    return impl


_LN2, _LN10 = float(np.log(2.0)), float(np.log(10.0))
_TWO_OVER_SQRT_PI = float(2.0 / np.sqrt(np.pi))
_INV_SQRT_2PI = float(1.0 / np.sqrt(2.0 * np.pi))


def _one_minus_square(x):
    """1 - x², atanh's divisor: (1 - x)(1 + x) for |x| >= 0.5, exact near |x| = 1, and 1 - x·x below, whose
    tangent -2x·t the Hessian pass reads (that of (1 - x)(1 + x) is (1 - x)t - (1 + x)t, 0 where 1 ± x round to
    1: atanh'' at 1e-20 was 0 for 2e-20, session 50's benchmarks/extreme50_probe.py)."""
    return P.where(P.lt(P.abs(x), 0.5), P.sub(1.0, P.mul(x, x)), P.mul(P.sub(1.0, x), P.add(1.0, x)))


# 1/√(1 + x²) as 1/hypot(x, 1): x² overflows past 1.8e19 in float32, where the derivative is 1/|x|, not 0;
# 1/√(x² - 1) and 1/(1 - x²) as products of (x ∓ 1), each exact near |x| = 1 where x² - 1 loses digits
# (a relative error of 1.5e-4 at x = 1 + 1e-4 in float32) and past 1.8e19 where x² overflows (atanh's below |x| = 0.5
# as 1 - x·x: _one_minus_square)
unary("asinh", np.arcsinh, lambda x, ans: P.div(1.0, P.hypot(x, 1.0)),
      sympy=_sympy_elementwise(lambda sp, v: sp.asinh(v)), spellings=("asinh", "arcsinh"))
unary("acosh", np.arccosh, lambda x, ans: P.div(1.0, P.mul(P.sqrt(P.sub(x, 1.0)), P.sqrt(P.add(x, 1.0)))),
      domain=(1.2, 3.0), sympy=_sympy_elementwise(lambda sp, v: sp.acosh(v)), spellings=("acosh", "arccosh"))
unary("atanh", np.arctanh, None, over=lambda x, ans: _one_minus_square(x), domain=(-0.8, 0.8),
      sympy=_sympy_elementwise(lambda sp, v: sp.atanh(v)), spellings=("atanh", "arctanh"))
unary("exp2", np.exp2, lambda x, ans: P.mul(ans, _LN2),
      sympy=_sympy_elementwise(lambda sp, v: 2**v))
unary("expm1", np.expm1, lambda x, ans: P.exp(x),
      sympy=_sympy_elementwise(lambda sp, v: sp.exp(v) - 1))
unary("log2", np.log2, None, over=lambda x, ans: _tiny_as_zero(x), scale=1.0 / _LN2, domain=(0.2, 3.0),
      sympy=_sympy_elementwise(lambda sp, v: sp.log(v, 2)))
unary("log10", np.log10, None, over=lambda x, ans: _tiny_as_zero(x), scale=1.0 / _LN10, domain=(0.2, 3.0),
      sympy=_sympy_elementwise(lambda sp, v: sp.log(v, 10)))
# rsqrt' = -ans³ / 2, PyTorch's (-ans / x / 2 was -inf at x = -0, where ans = -inf: PyTorch's is +inf)
unary("rsqrt", lambda x: 1.0 / np.sqrt(x), lambda x, ans: P.mul(-0.5, P.mul(P.mul(ans, ans), ans)), domain=(0.2, 3.0),
      sympy=_sympy_elementwise(lambda sp, v: 1 / sp.sqrt(v)))
unary("reciprocal", lambda x: np.reciprocal(np.asarray(x, dtype=np.result_type(x, np.float32))),
      lambda x, ans: P.neg(P.mul(ans, ans)), domain=(0.5, 2.0),
      sympy=_sympy_elementwise(lambda sp, v: 1 / v))
unary("erf", _special("erf"), lambda x, ans: P.mul(_TWO_OVER_SQRT_PI, P.exp(P.neg(P.mul(x, x)))),
      sympy=_sympy_elementwise(lambda sp, v: sp.erf(v)))
unary("erfc", _special("erfc"), lambda x, ans: P.mul(-_TWO_OVER_SQRT_PI, P.exp(P.neg(P.mul(x, x)))),
      sympy=_sympy_elementwise(lambda sp, v: sp.erfc(v)))
def _logit_deriv(x, ans):  # 1 / (x (1 - x)), NaN outside [0, 1] where the value is NaN (PyTorch's mask)
    outside = P.add(P.gt(0.0, x), P.gt(x, 1.0))
    return P.where(outside, np.nan, P.div(1.0, P.mul(x, P.sub(1.0, x))))


unary("logit", lambda x: np.log(x) - np.log1p(-np.asarray(x)), _logit_deriv,
      domain=(0.1, 0.9), sympy=_sympy_elementwise(lambda sp, v: sp.log(v / (1 - v))))
def _lgamma_near_zeros(x, out):
    """``out`` (gammaln of ``x``) with log Γ near its zeros at 1 and 2 by its Taylor series: log Γ(1 + e) = -γe +
    Σ_{k≥2} (-1)^k ζ(k) e^k / k (30 terms: past |e| < 0.2 the next is below 1e-21 of -γe) and log Γ(2 + e) = log Γ(1 +
    e) + log1p(e), e = x - 1 or x - 2 exact (Sterbenz). SciPy's gammaln loses the digits there: 2.2e-16 for
    6.4e-17 at 1 - 2⁻⁵³ (C's lgamma, PyTorch's, is right), 2e-9 off at 1 - 1e-8 (session 51)."""
    one, two = np.abs(x - 1.0) < 0.2, np.abs(x - 2.0) < 0.2
    if not (one.any() or two.any()):
        return out
    from scipy.special import zeta
    k = np.arange(2, 31)
    coef = (-1.0) ** k * zeta(k) / k
    e = np.where(one, x - 1.0, np.where(two, x - 2.0, 0.0))
    p = np.zeros_like(e)
    for c in coef[::-1]:
        p = c + e * p
    series = e * (-float(np.euler_gamma) + e * p) + np.where(two, np.log1p(e), 0.0)
    return np.where(one | two, series, out).astype(out.dtype, copy=False)


def _lgamma_impl(x):
    """SciPy's gammaln (near 1 and 2 its Taylor series, :func:`_lgamma_near_zeros`), but -log|x| where 0 < |x| <
    1e-300 (gammaln(1e-310) is inf there, from 1 / x: the next term, -γx, is far below an ulp of -log|x|) and +inf at
    -inf (C's lgamma; gammaln gives -inf)."""
    out = _special("gammaln")(x)
    x = np.asarray(x)
    if x.dtype.kind == "f":
        out = _lgamma_near_zeros(x, out)
    tiny = (np.abs(x) < 1e-300) & (x != 0)
    if tiny.any() or np.isneginf(x).any():
        with np.errstate(divide="ignore"):
            out = np.where(tiny, -np.log(np.abs(x)), np.where(np.isneginf(x), np.inf, out)).astype(out.dtype, copy=False)
    return out


unary("lgamma", _lgamma_impl, lambda x, ans: P.digamma(x), domain=(0.5, 3.0),
      sympy=_sympy_elementwise(lambda sp, v: sp.loggamma(v)), spellings=("lgamma", "gammaln"))
unary("digamma", _special("psi"), lambda x, ans: P.polygamma(x, n=1), domain=(0.5, 3.0),
      sympy=_sympy_elementwise(lambda sp, v: sp.polygamma(0, v)), spellings=("digamma", "psi"))
_polygamma = _special("polygamma")
defop("polygamma", lambda x, n: _polygamma(x, n), lambda s, n: s,
      (lambda g, ans, x, n: P.mul(g, P.polygamma(x, n=n + 1)),),
      (lambda t, ans, x, n: P.mul(t, P.polygamma(x, n=n + 1)),),
      domain=(0.5, 3.0), sympy=lambda S, x, n: S.elementwise(lambda v: S.sp.polygamma(n, v), x), elementwise=True)


def _mvlgamma_impl(x, p, scipy=False):
    """log Γ_p(x) = p(p - 1)/4 log π + Σ_(j<p) lgamma(x - j/2). ``scipy``: for x > (p - 1)/2 alone (SciPy's
    multigammaln refuses the rest); PyTorch 2.13's mvlgamma and JAX's multigammaln answer the sum there too, each
    term log|Γ| (inf at a pole), so jac does (session 52)."""
    x = np.asarray(x)
    if scipy and np.any(~(x > (p - 1) / 2)):
        raise JacValueError(f"scipy.special.multigammaln: all elements must be greater than (p-1)/2 = "
                            f"{(p - 1) / 2:g}, got {float(x[~(x > (p - 1) / 2)].ravel()[0]):g} (SciPy raises "
                            "ValueError; torch.mvlgamma and jax.scipy.special.multigammaln answer there)")
    out = sum(_lgamma_impl(x - j / 2) for j in range(p))
    return out + np.asarray(p * (p - 1) / 4 * np.log(np.pi), dtype=np.asarray(out).dtype)


def _mvlgamma_deriv(x, p):  # Σ_(j<p) digamma(x - j/2)
    out = P.digamma(x)
    for j in range(1, p):
        out = P.add(out, P.digamma(P.sub(x, j / 2)))
    return out


defop("mvlgamma", _mvlgamma_impl, lambda s, p, scipy=False: s,
      (lambda g, ans, x, p, scipy=False: P.mul(g, _mvlgamma_deriv(x, p)),),
      (lambda t, ans, x, p, scipy=False: P.mul(t, _mvlgamma_deriv(x, p)),),
      domain=(2.0, 4.0), elementwise=True,
      sympy=lambda S, x, p, scipy=False: S.elementwise(lambda v: p * (p - 1) / 4 * S.sp.log(S.sp.pi) + S.sp.Add(
          *[S.sp.loggamma(v - S.sp.Rational(j, 2)) for j in range(p)]), x))


def refused(why: str):
    """The derivative rule of an argument jac does not differentiate (PyTorch has none): it raises ``why``
    when asked. Tests read ``rule.refuses``."""
    def rule(*args, **params):
        raise JacValueError(why)
    rule.refuses = why
    return rule


def _igamma_impl(upper):
    """scipy.special.gammainc / gammaincc with PyTorch's special cases (aten's calc_igamma): NaN for a < 0 or
    x < 0, then a = 0, x = 0 and the infinities decided before a NaN is looked at."""
    def impl(a, x):
        from scipy import special

        a, x = np.asarray(a), np.asarray(x)
        out = np.asarray((special.gammaincc if upper else special.gammainc)(a, x))
        one, zero = (0.0, 1.0) if upper else (1.0, 0.0)
        with np.errstate(invalid="ignore"):
            bad = (x < 0) | (a < 0)
            cases = [bad, ~bad & (a == 0) & (x > 0), ~bad & (a == 0), ~bad & (x == 0),
                     ~bad & np.isinf(a) & np.isinf(x), ~bad & np.isinf(a), ~bad & np.isinf(x)]
            values = [np.nan, one, np.nan, zero, np.nan, zero, one]
        picked = np.select(cases, values, default=out)
        return picked.astype(np.result_type(a, x, np.float32), copy=False)
    return impl


def _igamma_dx(upper):
    # PyTorch's: ± exp((a - 1) log x - x - lgamma(a))
    def rule(ans, a, x):
        d = P.exp(P.sub(P.sub(P.mul(P.sub(a, 1.0), P.log(x)), x), P.lgamma(a)))
        return P.neg(d) if upper else d
    return rule


# PyTorch's igamma / igammac (torch.special.gammainc, torch.igamma, x.igamma, and the bare names): by a refused in
# PyTorch's words; SciPy's and JAX's spellings are the ops gammainc / gammaincc below, answered by a
for _upper, _name in ((False, "igamma"), (True, "igammac")):
    binary(_name, _igamma_impl(_upper),
           refused(f"the derivative of {_name}(a, x) by a is not supported, as PyTorch has none (\"the derivative "
                   f"for '{_name}: input' is not implemented\"): make a a constant or leave it out of --wrt "
                   f"(jax.scipy.special.gammainc{'c' if _upper else ''} and scipy.special.gammainc{'c' if _upper else ''}"
                   " are differentiated by a, as JAX does)"), _igamma_dx(_upper),
           (0.5, 3.0),
           spellings=(_name, "gammaincc" if _upper else "gammainc"))


def _igamma_grad_a_impl(a, x):
    from .incgamma import gammainc_da

    a, x = np.asarray(a), np.asarray(x)
    return gammainc_da(a, x).astype(np.result_type(a, x, np.float32), copy=False)


# ∂P(a, x)/∂a (session 39: JAX's igamma_grad_a, ir/incgamma.py); by x: ∂/∂a (x^(a-1) e^-x / Γ(a)) = ∂P/∂x (log x - ψ(a));
# by a again refused, as JAX refuses it (and any derivative of igamma_grad_a: jax.grad(jax.grad(f, 0), 1) too; jac's
# mixed second derivative is the closed form, JAX's jax.grad(jax.grad(f, 1), 0))
binary("igamma_grad_a", _igamma_grad_a_impl,
       refused("the second derivative of gammainc(a, x) by a is not supported, as JAX has none (\"Differentiation "
               "rule for 'igamma_grad_a' not implemented\"): jac differentiates gammainc by a once"),
       lambda ans, a, x: P.mul(_igamma_dx(False)(ans, a, x), P.sub(P.log(x), P.digamma(a))), (0.5, 3.0), spellings=())
# scipy.special.gammainc / gammaincc and jax.scipy.special's (and jax.lax.igamma / igammac): by a answered, ∓ ∂P/∂a
binary("gammainc", _igamma_impl(False), lambda ans, a, x: P.igamma_grad_a(a, x), _igamma_dx(False), (0.5, 3.0),
       spellings=())
binary("gammaincc", _igamma_impl(True), lambda ans, a, x: P.neg(P.igamma_grad_a(a, x)), _igamma_dx(True),
       (0.5, 3.0), spellings=())


def _zeta_impl(x, q):
    from scipy import special

    x, q = np.asarray(x), np.asarray(q)
    return np.asarray(special.zeta(x, q)).astype(np.result_type(x, q, np.float32), copy=False)


# Hurwitz zeta(x, q) = Σ_k (k + q)^-x; d/dq = -x zeta(x + 1, q), as PyTorch's; d/dx (PyTorch has none; JAX has one)
# by zeta_dx below (session 38)
binary("zeta", _zeta_impl, lambda ans, x, q: P.zeta_dx(x, q, order=1),
       lambda ans, x, q: P.mul(P.neg(x), P.zeta(P.add(x, 1.0), q)), (1.5, 3.0), spellings=("zeta",))

# The x-derivatives of Hurwitz's zeta by Euler–Maclaurin summation, differentiated term by term (session 38):
# ζ(s, q) = Σ_{k<N} (k+q)^-s + a^(1-s)/(s-1) + a^-s/2 + Σ_{j=1..M} B_2j/(2j)! (s)_(2j-1) a^(-s-2j+1) + R, a = N + q;
# ∂ᵐ/∂sᵐ of each term in closed form (Leibniz: (-log a)ⁱ from the powers, i!/(s-1)^(i+1) and the rising factorial's
# derivatives, a polynomial of positive coefficients), N = 10, M = 13: |R| < 1e-20 relative for s > 1, q > 0 (checked
# against mpmath's zeta(s, q, m) in tests/test_special38.py). For s > 1 and q > 0 every term of the m-th derivative
# has the sign (-1)^m but the small Bernoulli ones: no cancellation.
ZETA_N, ZETA_BERNOULLI = 10, ((1, 6), (-1, 30), (1, 42), (-1, 30), (5, 66), (-691, 2730), (7, 6), (-3617, 510),
                              (43867, 798), (-174611, 330), (854513, 138), (-236364091, 2730), (8553103, 6))
_ZETA_AT_RIEMANN = ("the derivative of scipy.special.zeta(x) (Riemann's, q omitted) and zetac(x) at x < 1 is not "
                    "supported: jac sums ζ'(x) by Euler–Maclaurin for x > 1 only (the analytic continuation below "
                    "1 cancels every digit of that sum)")


def _zeta_sum(s, q, m):
    """∂ᵐζ(s, q)/∂sᵐ for arrays s > 1, q > 0 (float64), by the Euler–Maclaurin sum above."""
    import math

    total = np.zeros(np.shape(s))
    for k in range(ZETA_N):
        w = k + q
        total += (-np.log(w)) ** m * w ** -s
    a = ZETA_N + q
    la = -np.log(a)
    for i in range(m + 1):  # the integral's term a^(1-s)/(s-1)
        total += math.comb(m, i) * la ** (m - i) * a ** (1.0 - s) * (-1.0) ** i * math.factorial(i) / (s - 1.0) ** (i + 1)
    total += 0.5 * la ** m * a ** -s
    for j, (num, den) in enumerate(ZETA_BERNOULLI, 1):
        c = 2 * j - 1
        poly = np.polynomial.polynomial.polyfromroots(-np.arange(c, dtype=float))  # (s)_c, positive coefficients
        term = np.zeros(np.shape(s))
        for i in range(min(m, c) + 1):
            term += math.comb(m, i) * np.polynomial.polynomial.polyval(s, np.polynomial.polynomial.polyder(poly, i)) \
                * la ** (m - i)
        total += num / den / math.factorial(2 * j) * term * a ** (-s - c)
    return total


def _zeta_dx_impl(x, q, order, riemann=False):
    """∂ᵒʳᵈᵉʳζ(x, q)/∂xᵒʳᵈᵉʳ: Euler–Maclaurin for x > 1, q > 0; 0 where x = +inf and q >= 1 or q = +inf (the value's
    limit is constant there); NaN where SciPy's value is NaN or infinite (x <= 1, a pole of q); refused where q < 0
    and the value is finite (an integer x: (k + q)^-x of a negative base, whose x-derivative is complex), and for
    Riemann's (``riemann``) at x < 1."""
    x, q = np.broadcast_arrays(np.asarray(x), np.asarray(q))
    kind = np.result_type(x, q, np.float32)
    xs, qs = x.astype(np.float64), q.astype(np.float64)
    with np.errstate(all="ignore"):
        if riemann and np.any(xs < 1):
            raise JacValueError(_ZETA_AT_RIEMANN)
        if np.any((qs < 0) & np.isfinite(_zeta_impl(xs, qs))):
            raise JacValueError("the derivative of zeta(x, q) by x at q < 0 is not supported: (k + q)^-x of a "
                                "negative base has a complex derivative by x")
        ok = (xs > 1) & (qs > 0) & np.isfinite(xs) & np.isfinite(qs)
        flat = ((np.isposinf(xs) & (qs >= 1)) | (np.isposinf(qs) & (xs > 1)))
        out = np.where(flat, 0.0, np.nan)
        if ok.any():
            out[ok] = _zeta_sum(xs[ok], qs[ok], order)
    return out.astype(kind, copy=False)


def _zeta_dx_by_q(g, ans, x, q, order, riemann=False, reverse=True):
    """∂/∂q of ∂ᵐζ/∂xᵐ = ∂ᵐ/∂xᵐ (-x ζ(x + 1, q)) = -x ζ⁽ᵐ⁾(x + 1, q) - m ζ⁽ᵐ⁻¹⁾(x + 1, q)."""
    up = P.add(x, 1.0)
    lower = P.zeta(up, q) if order == 1 else P.zeta_dx(up, q, order=order - 1)
    d = P.sub(P.mul(P.neg(x), P.zeta_dx(up, q, order=order)), P.mul(float(order), lower))
    return unbroadcast(P.mul(g, d), shape_of(q)) if reverse else P.mul(lift(g, len(shape_of(ans))), d)


def _zeta_dx_by_x(g, ans, x, q, order, riemann=False, reverse=True):
    d = P.zeta_dx(x, q, order=order + 1, riemann=riemann)
    return unbroadcast(P.mul(g, d), shape_of(x)) if reverse else P.mul(lift(g, len(shape_of(ans))), d)


defop("zeta_dx", _zeta_dx_impl, lambda sx, sq, order, riemann=False: broadcast(sx, sq),
      (_zeta_dx_by_x, _zeta_dx_by_q),
      (lambda t, ans, x, q, **p: _zeta_dx_by_x(t, ans, x, q, reverse=False, **p),
       lambda t, ans, x, q, **p: _zeta_dx_by_q(t, ans, x, q, reverse=False, **p)),
      domain=(1.5, 3.0), broadcasting=True, elementwise=True)


def _riemann_impl(name):
    def impl(x):
        from scipy import special

        x = np.asarray(x)
        return np.asarray(getattr(special, name)(x)).astype(np.result_type(x, np.float32), copy=False)
    return impl


# scipy.special.zeta(x) (q omitted: Riemann's, defined for every x) and zetac(x) = ζ(x) - 1: SciPy's values; the
# derivative ζ'(x) = zeta_dx(x, 1) for x > 1, refused below 1
for _name, _scipy in (("riemann_zeta", "zeta"), ("zetac", "zetac")):
    unary(_name, _riemann_impl(_scipy), lambda x, ans: P.zeta_dx(x, 1.0, order=1, riemann=True), domain=(1.5, 3.0),
          spellings=())
def _no_derivative_rule(*args, why, **params):
    raise JacValueError(why)


# a value whose every derivative is refused (session 39: torch.histogram, whose result PyTorch marks as requiring grad
# and whose backward raises): args (value, *sources), the sources being what the value was computed from (an input
# reaching the value only through comparisons would otherwise carry a silent 0); the impl is the value
_SOURCES = 4
defop("no_derivative", lambda value, *sources, why: value, lambda s, *sources, why: s,
      (_no_derivative_rule,) * (_SOURCES + 1), (_no_derivative_rule,) * (_SOURCES + 1), label="a value without a derivative")
# nextafter(x, y): x moved one ulp toward y. Its derivative is PyTorch 2.13's (derivatives.yaml: self
# where(self != other, grad, 0), other zeros_like): 1 by x off the ties, an exact 0 at x == y (where the value is y)
# and by y; NumPy's central differences agree off the ties. JAX has no rule: lang/names52.py refuses jnp's and lax's.
binary("nextafter", lambda x, y: np.nextafter(x, y), lambda ans, x, y: P.ne(x, y),
       lambda ans, x, y: P.mul(P.ne(x, y), 0.0), (-2.0, 2.0), spellings=("nextafter",), masks=True)


# sinc(x) = sin(pi x) / (pi x), 1 at 0. Its derivative (cos(pi x) - sinc(x)) / x cancels near 0, so
# there it is the Taylor series instead (|x| < 0.1: 9 terms reach the last bit), whose own
# derivatives are then exact too: the Hessian at 0 is -pi^2/3 (PyTorch's masked formula gives 0).
_SINC_D = [(-1) ** n * np.pi ** (2 * n) * 2 * n / float(np.prod(np.arange(1, 2 * n + 2, dtype=float)))
           for n in range(1, 10)]


def _sinc_deriv(x, ans):
    small = P.lt(P.abs(x), 0.1)
    x2 = P.mul(x, x)
    series = _SINC_D[-1]
    for c in reversed(_SINC_D[:-1]):
        series = P.add(P.mul(series, x2), c)
    safe = P.where(small, 1.0, x)
    # cos(pi x) as cos(pi r), r = x - 2 round(x / 2) in [-1, 1], exact (Sterbenz): pi · x rounded first loses the
    # phase as x grows (at x = 5e307, an even integer, cos(fl(pi x)) was 0.46 where cos(pi x) is 1: the derivative by
    # y of sinc(x · y) at x = 1e308, y = 0.5 came out 0.92, the truth 2; session 54). The same bits up to |x| = 1
    reduced = P.sub(safe, P.mul(2.0, P.round(P.div(safe, 2.0))))
    far = P.div(P.sub(P.cos(P.mul(np.pi, reduced)), P.sinc(safe)), safe)
    return P.where(small, P.mul(series, x), far)


def _multiply_no_nan_impl(x, y):
    x, y = np.asarray(x), np.asarray(y)
    with np.errstate(invalid="ignore"):
        out = np.multiply(x, y)
    return np.where((y == 0) & ~np.isfinite(x), np.zeros((), dtype=out.dtype), out)


# multiply_no_nan(x, y) = x · y, and 0 where y is exactly 0 whatever x holds (TensorFlow's tf.math.multiply_no_nan):
# a cotangent or tangent (x) times a partial (y) that is exactly 0, where PyTorch's rule is a where on the point
# (sinc at 0). Where x is finite the bits are the product's. By x its partial is y with the same guard (a 0 · inf of
# the second order is 0 too); by y it is x, a plain product: the Hessian of exp(sinc(x) · log(1e308)) at 0 is
# inf · sinc''(0) = -inf, which a where on the value (PyTorch's double backward: NaN, jacfwd(jacrev): 0) loses.
# Not a spelling users call; a sparse batch (first) keeps its pattern (structured.guarded_rule)
binary("multiply_no_nan", _multiply_no_nan_impl, lambda ans, x, y: y, lambda ans, x, y: x,
       guarded=lambda t, ans, x, y: P.multiply_no_nan(t, y),
       structure=lambda a, b: structured.guarded_rule(a, b, _multiply_no_nan_impl),
       sympy=_sympy_elementwise(lambda sp, x, y: sp.Piecewise((0, sp.Eq(y, 0)), (x * y, True))), spellings=())


# sinc'(0) = 0 exactly, so the cotangent times it is 0 whatever the cotangent holds (PyTorch's sinc_backward: a where
# at x = 0; an inf cotangent, exp(xlogy(sinc(x), 1e308)) at x = 0, gave 0 · inf = NaN in jac's reverse mode and 0 in
# its forward one); multiply_no_nan keeps the second derivative -pi^2/3 at 0, which PyTorch's where loses
defop("sinc", np.sinc, same_shape, (lambda g, ans, x: P.multiply_no_nan(g, _sinc_deriv(x, ans)),),
      (lambda t, ans, x: P.multiply_no_nan(t, _sinc_deriv(x, ans)),), spellings=("sinc",), elementwise=True,
      sympy=_sympy_elementwise(lambda sp, v: sp.Piecewise((1, sp.Eq(v, 0)), (sp.sin(sp.pi * v) / (sp.pi * v), True))))


# Activations (torch.nn.functional). At a kink the derivative is PyTorch's choice, noted per op.
_erf = _special("erf")
_SQRT2 = float(np.sqrt(2.0))


def _gelu(x):
    return 0.5 * x * (1.0 + _erf(np.asarray(x) / _SQRT2))  # a Python float: np.sqrt(2.0) made float32 float64


def _gelu_deriv(x, ans):  # Φ(x) + x φ(x)
    cdf = P.mul(0.5, P.add(1.0, P.erf(P.mul(x, float(1 / np.sqrt(2.0))))))
    return P.add(cdf, P.mul(x, P.mul(_INV_SQRT_2PI, P.exp(P.mul(-0.5, P.mul(x, x))))))


_GELU_K = float(np.sqrt(2.0 / np.pi))


def _gelu_tanh(x):
    x = np.asarray(x)
    return 0.5 * x * (1.0 + np.tanh(_GELU_K * (x + 0.044715 * x**3)))


def _gelu_tanh_deriv(x, ans):
    # u = k (x + c x³); d/dx ½x(1 + tanh u) = ½(1 + tanh u) + ½x sech²u k (1 + 3c x²)
    x2 = P.mul(x, x)
    u = P.mul(_GELU_K, P.add(x, P.mul(0.044715, P.mul(x2, x))))
    th = P.tanh(u)
    du = P.mul(_GELU_K, P.add(1.0, P.mul(3 * 0.044715, x2)))
    return P.add(P.mul(0.5, P.add(1.0, th)), P.mul(P.mul(0.5, x), P.mul(_sech2(u), du)))


unary("gelu", _gelu, _gelu_deriv, spellings=(),
      sympy=_sympy_elementwise(lambda sp, v: v * (1 + sp.erf(v / sp.sqrt(2))) / 2))
unary("gelu_tanh", _gelu_tanh, _gelu_tanh_deriv, spellings=(),
      sympy=_sympy_elementwise(lambda sp, v: v * (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (v + sp.Rational(44715, 10**6) * v**3))) / 2))
unary("silu", lambda x: np.asarray(x) * _sigmoid(x),
      lambda x, ans: P.add(P.sigmoid(x), P.mul(x, P.sigmoid_slope(x))),  # σ + x σ' (σ(1 + x(1 - σ)) lost σ')
      sympy=_sympy_elementwise(lambda sp, v: v / (1 + sp.exp(-v))), spellings=("silu", "swish"))
unary("softsign", lambda x: np.asarray(x) / (1.0 + np.abs(x)),
      lambda x, ans: P.div(1.0, P.square(P.add(1.0, P.abs(x)))),
      sympy=_sympy_elementwise(lambda sp, v: v / (1 + sp.Abs(v))))
unary("logsigmoid", lambda x: -np.logaddexp(0, -np.asarray(x)), lambda x, ans: P.sigmoid(P.neg(x)),
      sympy=_sympy_elementwise(lambda sp, v: -sp.log(1 + sp.exp(-v))), spellings=("logsigmoid", "log_sigmoid"))


def _mish_deriv(x, ans):  # tanh(sp) + x σ(x) sech²(sp), sp = softplus(x)
    sp = P.softplus(x)
    return P.add(P.tanh(sp), P.mul(P.mul(x, P.sigmoid(x)), _sech2(sp)))


unary("mish", lambda x: np.asarray(x) * np.tanh(np.logaddexp(0, x)), _mish_deriv,
      sympy=_sympy_elementwise(lambda sp, v: v * sp.tanh(sp.log(1 + sp.exp(v)))))


def _elu_impl(x, alpha, scale=1.0):
    x = np.asarray(x)
    with np.errstate(over="ignore"):
        # x itself where x <= 0 (np.minimum(-0.0, 0) is +0: elu(-0) must be -0, as PyTorch's)
        return scale * np.where(x > 0, x, alpha * np.expm1(np.where(x > 0, 0.0, x)))


def _elu_deriv(x, alpha, scale):
    # x > 0: scale; x <= 0: scale·alpha·exp(x) (PyTorch's branch at 0 is the left one; at NaN, as PyTorch's
    # elu_backward, the right one: scale). The exponent is x where x < 0 and the constant 0 elsewhere, so the second
    # derivative at 0 is PyTorch's 0 (elu_double_backward's x < 0); minimum(x, 0) split its tie at 0, giving half
    return P.mul(scale, P.where(P.le(x, 0.0), P.mul(alpha, P.exp(P.where(P.lt(x, 0.0), x, 0.0))), 1.0))


defop("elu", _elu_impl, lambda s, alpha, scale=1.0: s,
      (lambda g, ans, x, alpha, scale=1.0: P.mul(g, _elu_deriv(x, alpha, scale)),),
      (lambda t, ans, x, alpha, scale=1.0: P.mul(t, _elu_deriv(x, alpha, scale)),),
      sympy=lambda S, x, alpha, scale=1.0: S.elementwise(
          lambda v: scale * S.sp.Piecewise((v, v > 0), (alpha * (S.sp.exp(v) - 1), True)), x), elementwise=True)


def _leaky_deriv(x, slope):  # PyTorch: slope at 0
    return P.where(P.gt(x, 0.0), 1.0, slope)


defop("leaky_relu", lambda x, slope: np.where(np.asarray(x) > 0, x, np.multiply(slope, x)), lambda s, slope: s,
      (lambda g, ans, x, slope: P.mul(g, _leaky_deriv(x, slope)),),
      (lambda t, ans, x, slope: P.mul(t, _leaky_deriv(x, slope)),),
      sympy=lambda S, x, slope: S.elementwise(lambda v: S.sp.Piecewise((v, v > 0), (slope * v, True)), x),
      elementwise=True)


def _hardtanh_deriv(x, lo, hi):  # PyTorch: 0 at both corners and beyond, 1 elsewhere (NaN included)
    return P.mul(P.sub(1.0, P.le(x, lo)), P.sub(1.0, P.ge(x, hi)))


defop("hardtanh", lambda x, lo, hi: np.clip(x, lo, hi), lambda s, lo, hi: s,
      (lambda g, ans, x, lo, hi: masked(g, _hardtanh_deriv(x, lo, hi)),),
      (lambda t, ans, x, lo, hi: masked(t, _hardtanh_deriv(x, lo, hi)),),
      sympy=lambda S, x, lo, hi: S.elementwise(lambda v: _sympy_clip(S, v, lo, hi, at_bound=0), x),
      elementwise=True)


def _hardsigmoid_inside(x):  # the derivative is 1/6 strictly inside (-3, 3), 0 elsewhere, as PyTorch
    return P.mul(P.gt(x, -3.0), P.gt(3.0, x))


unary("hardsigmoid", lambda x: np.clip(np.asarray(x) / 6.0 + 0.5, 0.0, 1.0), lambda x, ans: 1.0 / 6.0,
      keep=lambda x, ans: _hardsigmoid_inside(x),
      domain=(-4.0, 4.0),
      sympy=_sympy_tied(lambda S, v: _sympy_clip(S, v / 6 + S.sp.Rational(1, 2), 0, 1, at_bound=0)),
      spellings=("hardsigmoid", "hard_sigmoid"))


# Rounding: piecewise constant, so no derivative flows (PyTorch's gradient is 0 too). No SymPy
# translation for these and the ops built on them (fmod, remainder): SymPy leaves the derivative
# of floor unevaluated, where jac's is 0.
def _rounding(name, impl, **kw):
    defop(name, impl, lambda s, **_: s, nondiff=True, elementwise=True, **kw)


_rounding("floor", np.floor)
_rounding("ceil", np.ceil)
_rounding("trunc", np.trunc)
_rounding("round", lambda x, decimals=0: np.round(x, decimals))  # half to even, as NumPy and PyTorch
def _quietly(f):
    """``f`` without NumPy's warnings for a zero divisor: the NaN or inf is the answer, as in PyTorch."""
    def impl(*args):
        with np.errstate(divide="ignore", invalid="ignore"):
            return f(*args)
    return impl


defop("floor_divide", _quietly(np.floor_divide), broadcast, nondiff=True, label="floor_divide (//)", elementwise=True)
defop("ne", lambda a, b: np.not_equal(a, b).astype(_dtype_of(a, b)), broadcast, nondiff=True,
      sympy=_sympy_elementwise(lambda sp, a, b: sp.Piecewise((1, sp.Ne(a, b)), (0, True))), elementwise=True)
defop("lt", lambda a, b: np.less(a, b).astype(_dtype_of(a, b)), broadcast, nondiff=True,
      sympy=_sympy_elementwise(lambda sp, a, b: sp.Piecewise((1, a < b), (0, True))), elementwise=True)
defop("le", lambda a, b: np.less_equal(a, b).astype(_dtype_of(a, b)), broadcast, nondiff=True,
      sympy=_sympy_elementwise(lambda sp, a, b: sp.Piecewise((1, a <= b), (0, True))), elementwise=True)
for _name, _test in (("isnan", np.isnan), ("isinf", np.isinf), ("isfinite", np.isfinite)):
    defop(_name, (lambda f: lambda x: f(x).astype(_dtype_of(x)))(_test), lambda s: s, nondiff=True, elementwise=True,
          sympy=(lambda name: lambda S, x: S.elementwise(lambda v: S.finite_mask(v, name), x))(_name))


# torch.nan_to_num(x, nan, posinf, neginf): PyTorch's derivative is grad * isfinite(x), a product in both modes (its
# forward mode is made from the same formula), so an infinite tangent or cotangent at a non-finite x gives
# inf · 0 = NaN: nan_to_num(log(x)) at x = 0 has no derivative in PyTorch's forward mode, nor in its reverse mode (where
# log's grad / x is 0 / 0), nor in jac's (session 40: the where jac lowered it to gave 0 in forward mode, the reverse
# mode NaN). The NumPy / JAX spellings stay a where (jnp.nan_to_num is one: jax.jacfwd gives 0 there, as jac)
def _nan_to_num_rule(g, ans, x, nan, posinf, neginf):
    return P.mul(g, P.isfinite(x))


defop("nan_to_num", lambda x, nan, posinf, neginf: np.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf),
      lambda s, nan, posinf, neginf: s, (_nan_to_num_rule,), (_nan_to_num_rule,), spellings=(), elementwise=True,
      label="nan_to_num (PyTorch's)",
      sympy=lambda S, x, nan, posinf, neginf: S.elementwise(lambda v: S.nan_to_num_form(v, nan, posinf, neginf), x))


# Two-argument functions.
def _scale_of(y, x):
    """(max(|x|, |y|) where it is finite and nonzero, else 1; that mask): x / s and y / s are at most 1 in size
    and one of them is ±1, so sums of their squares neither overflow nor underflow."""
    s = P.maximum(P.abs(x), P.abs(y))
    ok = P.mul(P.gt(s, 0.0), P.isfinite(s))
    return P.where(ok, s, 1.0), ok


def _atan2_d(num, y, x):  # num / (x² + y²), and 0 at the origin (PyTorch's choice)
    # computed as ((num / s) / (xs² + ys²)) / s with xs = x / s, ys = y / s (_scale_of): x² + y² underflows to 0
    # for |x|, |y| below 1e-23 in float32 (1e-162 in float64) and overflows past 1.8e19, where the derivative
    # itself is a number the dtype holds (it was 0 there, as PyTorch's); at an infinite x or y, as before
    r2 = P.add(P.mul(x, x), P.mul(y, y))
    zero = P.eq(r2, 0.0)
    plain = P.where(zero, 0.0, P.div(num, P.where(zero, 1.0, r2)))
    s, ok = _scale_of(y, x)
    xs, ys = P.div(x, s), P.div(y, s)
    scaled = P.div(P.div(P.div(num, s), P.add(P.mul(xs, xs), P.mul(ys, ys))), s)
    return P.where(ok, scaled, plain)


binary("atan2", np.arctan2, lambda ans, y, x: _atan2_d(x, y, x), lambda ans, y, x: _atan2_d(P.neg(y), y, x),
       sympy=_sympy_elementwise(lambda sp, y, x: sp.atan2(y, x)), spellings=("atan2", "arctan2"))


def _hypot_d(ans, a, x, y):  # a / hypot, and 0 at the origin (the subgradient norm uses)
    zero = P.eq(ans, 0.0)
    plain = P.where(zero, 0.0, P.div(a, P.where(zero, 1.0, ans)))
    # where hypot overflowed from finite x, y (past 3.4e38 in float32) a / hypot is of order 1, not a / inf = 0:
    # (a / s) / hypot(x / s, y / s) (_scale_of)
    s, ok = _scale_of(y, x)
    over = P.mul(P.isinf(ans), ok)
    return P.where(over, P.div(P.div(a, s), P.hypot(P.div(x, s), P.div(y, s))), plain)


binary("hypot", np.hypot, lambda ans, x, y: _hypot_d(ans, x, x, y), lambda ans, x, y: _hypot_d(ans, y, x, y),
       sympy=_sympy_elementwise(lambda sp, a, b: sp.sqrt(a**2 + b**2)), spellings=("hypot",))
# fmod: the sign of the dividend (C's fmod); remainder (Python's %): the sign of the divisor.
# d/da = 1, d/db = -trunc(a / b) and -floor(a / b), as PyTorch.
binary("fmod", _quietly(np.fmod), lambda ans, a, b: 1.0,
       lambda ans, a, b: P.neg(P.trunc(P.div(a, b))), domain=(0.5, 2.0), spellings=("fmod",))
binary("remainder", _quietly(np.remainder), lambda ans, a, b: 1.0,
       lambda ans, a, b: P.neg(P.floor_divide(a, b)), domain=(0.5, 2.0), spellings=("remainder", "mod"),
       label="remainder (%)")


def _xlogy_impl(x, y):
    x, y = np.asarray(x), np.asarray(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        zero = np.zeros((), dtype=np.result_type(x, y, np.float32))
        return np.where((x == 0) & ~np.isnan(y), zero, x * np.log(y))


def _xlogy_dx(ans, x, y):  # log(y), and 0 where x == 0 and y <= 0 (PyTorch's mask)
    masked = P.mul(P.eq(x, 0.0), P.le(y, 0.0))
    return P.where(masked, 0.0, P.log(P.where(masked, 1.0, y)))


def _xlogy_times_dx(g, ans, x, y):
    # PyTorch's xlogy(g, y).masked_fill((x == 0) & (y <= 0), 0), both modes: a 0 cotangent (or tangent) gives
    # 0 where log y is -inf or NaN (y <= 0), not 0 · -inf = NaN (exp(xlogy(x, y)) at y = 0: PyTorch's 0).
    # xlogy of a sparse batch keeps its pattern (structured.xlogy_rule), as g · log y does
    return masked(P.xlogy(g, y), P.sub(1.0, P.mul(P.eq(x, 0.0), P.le(y, 0.0))))


def _xlogy_dy(ans, x, y):  # x / y, and exactly 0 at x = y = 0 (PyTorch gives 0/0 = NaN there)
    # x / y itself at x == 0 elsewhere (±0): a constant 0 there had no derivative by x, so the mixed second
    # derivative d²/dx dy = 1 / y was 0 at x == 0
    zero = P.mul(P.eq(x, 0.0), P.eq(y, 0.0))
    return P.where(zero, 0.0, P.div(x, P.where(zero, 1.0, y)))


binary("xlogy", _xlogy_impl, _xlogy_dx, _xlogy_dy, domain=(0.2, 2.0), guarded=_xlogy_times_dx,
       structure=lambda a, b: structured.guarded_rule(a, b, _xlogy_impl),
       sympy=_sympy_elementwise(lambda sp, x, y: sp.Piecewise((0, sp.Eq(x, 0) & sp.Eq(y, 0)), (x * sp.log(y), True))),
       spellings=("xlogy",))
# d/da = 1 / (1 + exp(b - a)) (PyTorch's form): 1 at a = inf > b and 1/2 at a tie of huge numbers, where
# exp(a - ans) gave inf - inf = NaN and exp(0) = 1
binary("logaddexp", np.logaddexp, lambda ans, a, b: P.div(1.0, P.add(1.0, P.exp(P.sub(b, a)))),
       lambda ans, a, b: P.div(1.0, P.add(1.0, P.exp(P.sub(a, b)))),
       sympy=_sympy_elementwise(lambda sp, a, b: sp.log(sp.exp(a) + sp.exp(b))), spellings=("logaddexp",))
binary("logaddexp2", np.logaddexp2, lambda ans, a, b: P.div(1.0, P.add(1.0, P.exp2(P.sub(b, a)))),
       lambda ans, a, b: P.div(1.0, P.add(1.0, P.exp2(P.sub(a, b)))),
       sympy=_sympy_elementwise(lambda sp, a, b: sp.log(2**a + 2**b, 2)), spellings=("logaddexp2",))


# fmax / fmin ignore a NaN; at a tie the whole derivative goes to the first argument (PyTorch's
# masks: (a >= b) | isnan(b) for fmax; torch.maximum splits a tie instead).
def _nan_ignoring_first(wins, b):
    return P.sub(1.0, P.mul(P.sub(1.0, wins), P.sub(1.0, P.isnan(b))))


binary("fmax", np.fmax, lambda ans, a, b: _nan_ignoring_first(P.ge(a, b), b),
       lambda ans, a, b: P.sub(1.0, _nan_ignoring_first(P.ge(a, b), b)),
       sympy=_sympy_tied(lambda S, a, b: S.tied(a, b, (1, 0))), spellings=("fmax",), masks=True)  # a tie: a's
binary("fmin", np.fmin, lambda ans, a, b: _nan_ignoring_first(P.ge(b, a), b),
       lambda ans, a, b: P.sub(1.0, _nan_ignoring_first(P.ge(b, a), b)),
       sympy=_sympy_tied(lambda S, a, b: S.tied(a, b, (1, 0), largest=False)), spellings=("fmin",), masks=True)


unary("erfinv", _special("erfinv"), lambda x, ans: P.mul(float(np.sqrt(np.pi) / 2), P.exp(P.mul(ans, ans))),
      domain=(-0.8, 0.8), sympy=_sympy_elementwise(lambda sp, v: sp.erfinv(v)))
unary("cbrt", np.cbrt, lambda x, ans: P.div(1.0 / 3.0, P.mul(ans, ans)), domain=(0.2, 3.0),
      sympy=_sympy_elementwise(lambda sp, v: sp.cbrt(v)))


def _hardswish_deriv(x):  # PyTorch's branches: 0 up to -3, x/3 + 1/2 strictly between, 1 from 3 on
    # a where, not a product with the mask: at ±inf the middle branch is inf, and 0 · inf = NaN. A NaN
    # takes the middle branch (NaN, as PyTorch's vectorised kernel; its scalar tail gives 1)
    # (x - x) · exp(x) beside x/3 + 1/2: +0 at every finite x, and so are its derivatives, (g - g) · exp(x) +
    # (x - x) · exp(x) · g and the like, which leave 1/3 and 0 as they are; at a NaN each order holds a NaN (session
    # 54: the middle branch's derivative 1/3 gave a NaN x the Hessian entry 1/3 and the third derivative 0, where its
    # gradient is NaN). exp, not x: x's own derivatives end at the second order. At |x| >= 3 the where takes the
    # other branch, whose rule masks this one's inf · 0 (a where's rule: never a product with the mask)
    middle = P.add(P.add(P.div(x, 3.0), 0.5), P.mul(P.sub(x, x), P.exp(x)))
    inside = P.mul(P.sub(1.0, P.le(x, -3.0)), P.sub(1.0, P.ge(x, 3.0)))
    return P.where(inside, middle, P.ge(x, 3.0))


unary("hardswish", lambda x: np.asarray(x) * np.clip(np.asarray(x) + 3.0, 0.0, 6.0) / 6.0,
      lambda x, ans: _hardswish_deriv(x), domain=(-4.0, 4.0), keep=lambda x, ans: P.sub(1.0, P.le(x, -3.0)),
      sympy=_sympy_tied(lambda S, v: v * _sympy_clip(S, v + 3, 0, 6, at_bound=0) / 6),
      spellings=("hardswish", "hard_swish"))


# torch.special / scipy.special extras
_LOG_SQRT_2PI = float(0.5 * np.log(2.0 * np.pi))
unary("erfcx", _special("erfcx"),  # exp(x²) erfc(x); d/dx = 2x erfcx(x) - 2/√π
      lambda x, ans: P.sub(P.mul(P.mul(2.0, x), ans), _TWO_OVER_SQRT_PI),
      sympy=_sympy_elementwise(lambda sp, v: sp.exp(v**2) * sp.erfc(v)))
# log Φ(x); d/dx = φ(x) / Φ(x) = √(2/π) / erfcx(-x/√2) (Φ(x) = erfc(-x/√2) / 2 = e^(-x²/2) erfcx(-x/√2) / 2):
# no cancellation. exp(log φ - log Φ) subtracted two numbers near x²/2: 1.0 at x = -1e10 in float32 (1e10)
_SQRT_2_OVER_PI = float(np.sqrt(2.0 / np.pi))
unary("log_ndtr", _special("log_ndtr"),
      lambda x, ans: P.div(_SQRT_2_OVER_PI, P.erfcx(P.mul(x, -float(np.sqrt(0.5))))),
      sympy=_sympy_elementwise(lambda sp, v: sp.log(sp.erfc(-v / sp.sqrt(2)) / 2)))
unary("ndtri", _special("ndtri"),  # Φ⁻¹(p); d/dp = √(2π) exp(ans² / 2)
      lambda x, ans: P.exp(P.add(P.mul(0.5, P.mul(ans, ans)), _LOG_SQRT_2PI)), domain=(0.1, 0.9),
      sympy=_sympy_elementwise(lambda sp, v: sp.sqrt(2) * sp.erfinv(2 * v - 1)))


def _xlog1py_impl(x, y):
    x, y = np.asarray(x), np.asarray(y)
    with np.errstate(divide="ignore", invalid="ignore"):
        zero = np.zeros((), dtype=np.result_type(x, y, np.float32))
        return np.where((x == 0) & ~np.isnan(y), zero, x * np.log1p(y))


def _xlog1py_dx(ans, x, y):  # log1p(y), and 0 where x == 0 and y <= -1 (PyTorch's mask)
    masked = P.mul(P.eq(x, 0.0), P.le(y, -1.0))
    return P.where(masked, 0.0, P.log1p(P.where(masked, 0.0, y)))


def _xlog1py_times_dx(g, ans, x, y):  # PyTorch's xlog1py(g, y) masked where x == 0 and y <= -1, as xlogy's
    return masked(P.xlog1py(g, y), P.sub(1.0, P.mul(P.eq(x, 0.0), P.le(y, -1.0))))


def _xlog1py_dy(ans, x, y):  # x / (1 + y), and exactly 0 at x = 0, y = -1; x / (1 + y) itself at x == 0 elsewhere
    zero = P.mul(P.eq(x, 0.0), P.eq(y, -1.0))  # (its derivative by x, 1 / (1 + y), as _xlogy_dy's)
    return P.where(zero, 0.0, P.div(x, P.where(zero, 1.0, P.add(y, 1.0))))


binary("xlog1py", _xlog1py_impl, _xlog1py_dx, _xlog1py_dy, domain=(0.2, 2.0), guarded=_xlog1py_times_dx,
       structure=lambda a, b: structured.guarded_rule(a, b, _xlog1py_impl),
       sympy=_sympy_elementwise(lambda sp, x, y: sp.Piecewise((0, sp.Eq(x, 0) & sp.Eq(y, -1)),
                                                              (x * sp.log(1 + y), True))),
       spellings=("xlog1py",))
defop("signbit", lambda x: np.signbit(x).astype(_dtype_of(x)), lambda s: s, nondiff=True, elementwise=True)


# detach: the value itself, with no derivative (x.detach(), x.item(), torch.tensor(x) of an expression)
defop("detach", lambda x: x, lambda s: s, nondiff=True, view="always", elementwise=True)


def _log_softmax_shift_impl(a, axes, keepdims=True):
    """The finite maximum of ``a`` over ``axes`` (0 where it is ±inf or NaN, or the slice is empty), as
    ``_logsumexp_impl`` shifts by."""
    a = np.asarray(a)
    if a.size == 0:
        return np.zeros(reduce_shape(a.shape, axes, keepdims), dtype=a.dtype)
    m = np.maximum.reduce(a, axis=axes, keepdims=keepdims)
    return np.where(np.isfinite(m), m, np.zeros_like(m))


def _zero_sympy(S, a, axes, keepdims=True):
    shape = reduce_shape(tuple(a.shape), axes, keepdims)
    if S.components(a):
        return np.full(shape, S.sp.Integer(0), dtype=object)
    return S.sp.ZeroMatrix(*S._dims(shape)) if shape else S.sp.Integer(0)


# log_softmax_shift (session 49): the constant a log_softmax subtracts first, (x - c) - logsumexp(x - c) with c the
# slice's finite maximum and no derivative. x - logsumexp(x) lost the sum's log to rounding where |max| is large
# (log_softmax([1e16, 1e16]) was [0, 0], its Jacobian [[0, -1], [-1, 0]]; PyTorch's -0.693 and [[.5, -.5], ...]).
# The result does not depend on c, so its SymPy form is 0 (jac diff's formula stays x - logsumexp(x)); use it
# only there, where c cancels.
defop("log_softmax_shift", _log_softmax_shift_impl, _reduction_shape, nondiff=True, sympy=_zero_sympy)


def _straight_through_shape(value, source):
    if tuple(value) != tuple(source):
        raise JacShapeError(f"straight_through: the value's shape {fmt(value)} is not its source's {fmt(source)}")
    return tuple(value)


# straight_through(value, source): the values of ``value``, the derivative of ``source`` (the identity to it; none to
# ``value``). Session 39 (lang/views.py): a write through ``d = t.detach()`` changes t's values, which autograd does
# not see: t's derivative stays the one it had. Not value + (source - stop(source)): that is NaN where source is inf.
# ``value`` is given detached (no rule reaches it: a pass calls a rule only for an argument that requires grad)
defop("straight_through", lambda value, source: value, _straight_through_shape,
      (None, lambda g, ans, value, source: g), (None, lambda t, ans, value, source: t), view="always",
      label="a value written through .detach() (its derivative the tensor's before the write)")


# --- PART fourier: a transform's values as NumPy's np.fft gives them (session 36, lang/fourier.py). The op is never
# --- differentiated: lang/fourier.py adds the derivative of the same map written as products with cos / sin matrices,
# --- value - (stop(product) - product), so the value is NumPy's to the bit and the derivatives the products' rules'

_DFT_HALF = ("rfft", "ihfft")  # the frequencies 0 .. n // 2 of n points


def _dft_impl(re, *im, kind, axis, n, norm, part):
    """``part`` ("re" or "im") of ``np.fft.<kind>(signal, n, axis, norm)``, in the arguments' float dtype (NumPy
    computes a float32 signal in single precision, as jac's --dtype float32); the signal is ``re`` alone (a real
    signal, as NumPy is given it) or ``re + i im``, its parts set as they are (1j * inf would make a NaN)."""
    re = np.asarray(re)
    signal = re
    if im:
        signal = np.empty(re.shape, np.result_type(re.dtype, np.complex64))
        signal.real, signal.imag = re, im[0]
    out = getattr(np.fft, kind)(signal, n=n, axis=axis, norm=norm)  # a contiguous copy of the part: a view would
    # keep the complex array, twice the bytes counted for the value
    return np.array(out.real if part == "re" else out.imag, dtype=re.dtype if re.dtype.kind == "f" else np.float64)


def _dft_shape(s, *t, kind, axis, n, norm, part):
    if t and tuple(s) != tuple(t[0]):
        raise JacShapeError(f"a transform's real and imaginary parts have the shapes {fmt(s)} and {fmt(t[0])}")
    out = list(s)
    out[axis] = n // 2 + 1 if kind in _DFT_HALF else n
    return tuple(out)


defop("dft", _dft_impl, _dft_shape, nondiff=True)


# fftmap (session 37): the real-linear map x ↦ part(np.fft.<kind>(eps x)) of one real array x along ``axis``
# (``imag``: eps = i, x is the signal's imaginary part; else eps = 1), m = x's length there, cut or padded to n; with
# ``adjoint``, its transpose (g of the result's length ↦ m points). lang/fourier.py differentiates a transform past
# MATRIX_LENGTH points by these instead of cos / sin matrices: the JVP is the same map of the tangent, the VJP the
# adjoint, each one FFT, O(n log n). Its values are the derivative's only (the transform's value is dft's, NumPy's).
_DFT_FULL = {"rfft": "fft", "ihfft": "ifft"}  # a half transform is the first n // 2 + 1 rows of this one


def _fft_resize(a, axis, m):
    """``a`` cut or padded with zeros to ``m`` points along ``axis``."""
    have = a.shape[axis]
    if have >= m:
        return a[(slice(None),) * axis + (slice(0, m),)]
    pad = [(0, 0)] * a.ndim
    pad[axis] = (0, m - have)
    return np.pad(a, pad)


def _fft_scale(norm, n, inverse):
    if norm == "ortho":
        return 1.0 / np.sqrt(n)
    return 1.0 / n if ((norm or "backward") == "backward") == inverse else 1.0


FFTMAP_CHUNK_BYTES = 1 << 22  # the complex scratch of one np.fft call of fftmap: the rows of a batch go through in
# chunks of about this many bytes, each written into the real result, so a full Jacobian's batch holds only the result
# the planner counted (a part of a complex array held as a view would keep twice its bytes)


def _fftmap_impl(x, kind, axis, n, m, norm, part, imag, adjoint):
    x = np.asarray(x)
    dtype = x.dtype if x.dtype.kind == "f" else np.float64
    out = np.empty(_fftmap_shape(x.shape, kind, axis, n, m, norm, part, imag, adjoint), dtype)
    if axis == 0 or x.shape[0] <= 1:
        out[...] = _fftmap_rows(x, kind, axis, n, m, norm, part, imag, adjoint)
        return out
    step = max(1, FFTMAP_CHUNK_BYTES // max(1, 16 * max(n, m) * (x[0].size // max(1, x.shape[axis]))))
    for i in range(0, x.shape[0], step):
        out[i:i + step] = _fftmap_rows(x[i:i + step], kind, axis, n, m, norm, part, imag, adjoint)
    return out


def _fftmap_rows(x, kind, axis, n, m, norm, part, imag, adjoint):
    if adjoint:
        return _fftmap_adjoint(x, kind, axis, n, m, norm, part, imag)
    signal = x
    if imag:
        signal = np.zeros(x.shape, np.result_type(x.dtype, np.complex64))
        signal.imag = x
    out = getattr(np.fft, kind)(signal, n=n, axis=axis, norm=norm)
    return out.imag if part == "im" else out.real


def _fftmap_adjoint(g, kind, axis, n, m, norm, part, imag):
    """The transpose of the map: for F a (cut or padded) fft / ifft, symmetric, part(F(eps x)) is Re(c F x) with
    c = eps, times -i for the imaginary part, so its transpose is Re(c F g) cut or padded to m; a half transform's
    rows are the first of the full one's (g padded with zeros to n). irfft (hfft: of the conjugate, the forward
    scale) is x_k ↦ s Σ_k w_k Re(eps x_k e^(2πikj/n)) (w_k 2, or 1 at 0 and n / 2): its transpose
    s w_k Re(conj(eps) R_k) (hfft: Re(eps R_k)) with R = rfft(g) unscaled, for k < min(m, n // 2 + 1)."""
    if kind in ("irfft", "hfft"):
        spectrum = np.fft.rfft(g, n=n, axis=axis)
        k = np.arange(spectrum.shape[axis]).reshape((-1,) + (1,) * (g.ndim - 1 - axis))
        weight = np.where((k == 0) | (2 * k == n), 1.0, 2.0) * _fft_scale(norm, n, kind == "irfft")
        # eps = i: irfft's Re(-i R) is Im(R), hfft's Re(i R) is -Im(R)
        out = weight * ((spectrum.imag if kind == "irfft" else -spectrum.imag) if imag else spectrum.real)
        return _fft_resize(out, axis, m)
    c = (1j if imag else 1.0) * (-1j if part == "im" else 1.0)
    full = getattr(np.fft, _DFT_FULL.get(kind, kind))(g, n=n, axis=axis, norm=norm)
    return _fft_resize((c * full).real, axis, m)


def _fftmap_shape(s, kind, axis, n, m, norm, part, imag, adjoint):
    if s[axis] != (((n // 2 + 1) if kind in _DFT_HALF else n) if adjoint else m):
        raise JacShapeError(f"fftmap: {s[axis]} points along axis {axis} for a map of {m} points to {n}")
    out = list(s)
    out[axis] = m if adjoint else n // 2 + 1 if kind in _DFT_HALF else n
    return tuple(out)


def _fftmap_vjp(g, ans, x, kind, axis, n, m, norm, part, imag, adjoint):
    return P.fftmap(g, kind=kind, axis=axis + 1, n=n, m=m, norm=norm, part=part, imag=imag, adjoint=not adjoint)


def _fftmap_jvp(t, ans, x, kind, axis, n, m, norm, part, imag, adjoint):
    return P.fftmap(t, kind=kind, axis=axis + 1, n=n, m=m, norm=norm, part=part, imag=imag, adjoint=adjoint)


# jac diff (session 38): a transform written as its DFT sums, exact (cos(2π jk / n) as SymPy evaluates it: sqrt(2)/2 at
# n = 8), for up to SYMBOLIC_POINTS points along the axis (each element a sum of n terms); the dft op keeps no
# translation of its own (it is never differentiated: tools/symbolic.py reads lang/fourier.py's value - (stop(p) - p)
# as one formula, dft_formula of the signal)
SYMBOLIC_POINTS = 16
_HERMITIAN = ("irfft", "hfft")


def _fourier_matrices(sp, kind, n, m, norm):
    """(C, S), exact object arrays of m rows: out = (re + i im) @ (C + i S) for fft / ifft / rfft / ihfft, and the
    real out = re @ C + im @ S for irfft / hfft (rows past the bins or points read are 0, as the cut)."""
    if max(n, m) > SYMBOLIC_POINTS:
        raise JacLimitError(f"jac diff writes a Fourier transform as its DFT sums (n terms per element, n² in all) up "
                            f"to {SYMBOLIC_POINTS} points along the axis, and this one has {max(n, m)}: the transform "
                            "is linear, its Jacobian the DFT matrix itself (∂X[k]/∂x[j] = e^(-2πi jk/n)); jac eval, "
                            "jac vjp and jac jvp give the derivative's numbers at any length")
    inverse = kind in ("ifft", "ihfft", "irfft")
    if norm == "ortho":
        scale = 1 / sp.sqrt(n)
    else:  # as _fft_scale: 1 / n on the side the norm names
        scale = sp.Rational(1, n) if ((norm or "backward") == "backward") == inverse else sp.Integer(1)
    hermitian = kind in _HERMITIAN
    columns = n if hermitian else n // 2 + 1 if kind in _DFT_HALF else n
    used = min(m, n // 2 + 1 if hermitian else n)
    C, S = np.full((m, columns), sp.Integer(0), dtype=object), np.full((m, columns), sp.Integer(0), dtype=object)
    sign = (-1 if kind == "irfft" else 1) if hermitian else (1 if inverse else -1)
    for j in range(used):
        weight = 2 if hermitian and 0 < j and 2 * j != n else 1
        for k in range(columns):
            angle = 2 * sp.pi * sp.Rational((j * k) % n, n)
            C[j, k], S[j, k] = scale * weight * sp.cos(angle), sign * scale * weight * sp.sin(angle)
    return C, S


def _along_axis(x: np.ndarray, axis: int, matrix: np.ndarray) -> np.ndarray:
    """``x`` times ``matrix`` along ``axis`` (object arrays: SymPy's sums)."""
    return np.moveaxis(np.matmul(np.moveaxis(x, axis, -1), matrix), -1, axis)


def dft_formula(S, *signal, kind, axis, n, norm, part):
    """The ``dft`` op's value as SymPy's DFT sums of the signal's components (real part, and imaginary part)."""
    re = S.explicit(lambda a: a, signal[0])
    m = re.shape[axis]
    C, Si = _fourier_matrices(S.sp, kind, n, m, norm)
    im = signal[1].expr if len(signal) > 1 else None
    if kind in _HERMITIAN:
        out = _along_axis(re, axis, C)
        return out if im is None else out + _along_axis(im, axis, Si)
    out = _along_axis(re, axis, C if part == "re" else Si)
    if im is None:
        return out
    return out - _along_axis(im, axis, Si) if part == "re" else out + _along_axis(im, axis, C)


def _fftmap_sympy(S, x, kind, axis, n, m, norm, part, imag, adjoint):
    """part(kind(eps x)) (eps = i with ``imag``) as DFT sums; ``adjoint``: the same matrix transposed."""
    C, Si = _fourier_matrices(S.sp, kind, n, m, norm)
    if kind in _HERMITIAN:
        matrix = Si if imag else C
    else:  # (i x)(C + i S) = -x S + i x C
        matrix = (-Si if imag else C) if part == "re" else (C if imag else Si)
    return _along_axis(S.explicit(lambda a: a, x), axis, matrix.T if adjoint else matrix)


defop("fftmap", _fftmap_impl, _fftmap_shape, (_fftmap_vjp,), (_fftmap_jvp,), sympy=_fftmap_sympy,
      scratch=lambda args, out: min(4 * max(args, out), 3 * FFTMAP_CHUNK_BYTES))  # a chunk's complex arrays


# --- PART shapes-linalg: einsum, solve, and the matrix functions whose derivatives are the
# --- identities of matrix calculus ------------------------------------------------------------------

def _einsum_parts(spec: str):
    ins, out = spec.split("->")
    return tuple(ins.split(",")), out


def _fresh(spec: str) -> str:
    """A subscript letter ``spec`` does not use: the batch axis of a rule's einsum."""
    free = [c for c in "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSRQPONMLKJIHGFEDCBA" if c not in spec]
    if not free:  # each order of derivative takes one letter; the lowering leaves a few
        raise JacLimitError("einsum: no subscript letter is left for this order of derivative")
    return free[0]


def _einsum_shape(sa, sb, spec):
    (la, lb), out = _einsum_parts(spec)
    if len(la) != len(sa) or len(lb) != len(sb):
        raise JacShapeError(f"einsum: '{spec}' names {len(la)} and {len(lb)} axes, the operands have shapes "
                            f"{fmt(sa)} and {fmt(sb)}")
    sizes = {}
    for letter, d in list(zip(la, sa)) + list(zip(lb, sb)):
        if sizes.setdefault(letter, d) != d:
            raise JacShapeError(f"einsum: subscript '{letter}' has sizes {sizes[letter]} and {d}")
    # every axis of one operand is in the other or in the output: what the rules below need
    if not (set(la) <= set(lb) | set(out) and set(lb) <= set(la) | set(out)):  # pragma: no cover - the lowering
        raise JacShapeError(f"einsum: '{spec}' is not in the two-operand form the rules need")
    return tuple(sizes[c] for c in out)


def _einsum_impl(a, b, spec):
    return np.einsum(spec, a, b, optimize=len(spec) > 8)


def _einsum_rule(which: int, mode: str):
    """d einsum: the other operand contracted with the cotangent (vjp) or the tangent (jvp)."""
    def rule(t, ans, a, b, spec):
        (la, lb), out = _einsum_parts(spec)
        z = _fresh(spec)
        if mode == "vjp":  # every axis of the operand is in the output or the other operand
            other, lo, mine = (b, lb, la) if which == 0 else (a, la, lb)
            return P.einsum(t, other, spec=f"{z}{out},{lo}->{z}{mine}")
        if which == 0:
            return P.einsum(t, b, spec=f"{z}{la},{lb}->{z}{out}")
        return P.einsum(a, t, spec=f"{la},{z}{lb}->{z}{out}")
    return rule


defop("einsum", _einsum_impl, _einsum_shape,
      (_einsum_rule(0, "vjp"), _einsum_rule(1, "vjp")), (_einsum_rule(0, "jvp"), _einsum_rule(1, "jvp")),
      sympy=lambda S, a, b, spec: S.einsum_form(a, b, spec),
      scratch_of=lambda shapes, out, itemsize, spec: _einsum_scratch(shapes, out, itemsize, spec))


def _einsum_scratch(shapes, out: int, itemsize: int, spec: str) -> int:
    """The bytes :func:`_einsum_impl` allocates beside its result, read off the subscripts as NumPy 2's optimized
    two-operand einsum (``bmm_einsum``) prepares its operands (session 57: ``2 * args`` counted two copies of the
    operands that ``zij,ij->zi`` never makes, 2.9 times the measured peak of ``np.einsum('ij,ij->i', A, B) *
    sum(A)`` in forward mode). Each operand is made ready for one batched ``matmul`` (batch axes in both operands
    and the output, contracted ones in both only, kept ones in one and the output): an axis of its own that the
    output drops is summed (a new array of the rest), a repeated letter is a diagonal and a transpose a view; then
    a reshape that fuses axes of a group, which copies where the layout does not allow a view (counted whatever the
    layout: an operand's strides are not known in a dry run; after a new array of the first step too, which keeps
    the operand's order of axes). The matmul writes the result and the output's reshape and transpose are views.
    With nothing contracted it is a broadcast ``multiply``: NumPy's iteration buffers beside the result
    (:func:`_einsum_buffers`), besides any sum. The unoptimized ``c_einsum`` (a subscript string of 8 characters or
    fewer) copies nothing and buffers as a ufunc does. Measured against NumPy by ``tests/test_memory57.py``
    (operands C-ordered, transposed and broadcast)."""
    (la, lb), result = _einsum_parts(spec)
    sizes = {}  # axes of 1 are left out as NumPy leaves them (one broadcast against a longer one: that one's)
    for letter, d in list(zip(la, shapes[0])) + list(zip(lb, shapes[1])):
        if d != 1:
            sizes[letter] = d
    left = list(dict.fromkeys(c for c, d in zip(la, shapes[0]) if d != 1))
    right = list(dict.fromkeys(c for c, d in zip(lb, shapes[1]) if d != 1))
    if len(spec) <= 8:  # c_einsum on the operands as they are
        return _einsum_buffers(out)
    batch = [c for c in left if c in right and c in result]
    contracted = [c for c in left if c in right and c not in result]
    kept_a = [c for c in left if c not in right and c in result]
    kept_b = [c for c in right if c not in left and c in result]
    total = 0 if contracted else _einsum_buffers(out)
    for term, kept, groups in ((la, kept_a, (batch, kept_a, contracted)), (lb, kept_b, (batch, contracted, kept_b))):
        ready = batch + contracted + kept  # the operand as the matmul or multiply reads it
        # anything else in the term (an axis summed, a repeated letter, an axis of 1) is a c_einsum of it alone,
        # which makes a new array (one of 1 dropped included: 8 KiB at (1, 30, 30), measured)
        made = sorted(term) != sorted(ready)
        fused = bool(contracted) and any(len(g) != 1 for g in (groups if batch else groups[1:]))
        # that new array (laid out as the operand, order "K"), and the copy a fusing reshape may make of it: both
        # where the axes move (conv1d's ``zngcok,gfck->zngof``: 1.8 times the operand, measured)
        total += (made + fused) * math.prod(sizes[c] for c in ready) * itemsize
    return total


def _einsum_buffers(out: int) -> int:
    """NumPy's iteration buffers of an optimized einsum that contracts nothing (a VJP's ``zi,ij->zij``): two of
    ``structured.ITERATION_BUFFER`` items (at 16 bytes, complex's), or of the result's bytes if fewer (session 56:
    73 KiB beside a (5, 30, 30) result, uncounted, and ``np.einsum('ij,ij->i', A, B) * sum(A)`` reverse held 1.15
    times its prediction)."""
    return 2 * min(structured.ITERATION_BUFFER * 16, out)


def _solve_shape(sa, sb, who="solve"):
    if len(sa) < 2 or sa[-1] != sa[-2]:
        raise JacShapeError(f"{who} needs a square matrix, got shape {fmt(sa)}")
    if len(sb) < 2 or sb[-2] != sa[-1]:
        raise JacShapeError(f"{who}: the right-hand side of shape {fmt(sb)} does not fit the matrix {fmt(sa)}")
    try:
        return broadcast(tuple(sa[:-2]), tuple(sb[:-2])) + tuple(sb[-2:])
    except JacShapeError:
        raise JacShapeError(f"{who}: the batch axes of {fmt(sa)} and {fmt(sb)} do not broadcast") from None


def _solve_impl(a, b, who="solve"):
    a, b = np.asarray(a), np.asarray(b)
    if a.shape[-1] == 0:
        return np.zeros(_solve_shape(a.shape, b.shape), dtype=np.result_type(a, b))
    if who.startswith("qr"):
        _refuse_rank_deficient_r(a, who)
    try:
        with np.errstate(all="ignore"):
            x = np.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        x = None
    if x is None or not np.all(np.isfinite(x)) and np.all(np.isfinite(a)) and np.all(np.isfinite(b)):
        raise JacValueError(f"{who}: the matrix is singular, so the system has no unique solution "
                            f"(shape {fmt(a.shape)})")
    return _nan_where_nan(a, x)


def near_singular(a, triangular: bool = False):
    """``(flag, ratio)``: whether a matrix of the stack ``a`` is singular in its own precision, its smallest
    singular value (``triangular``: its smallest |diagonal entry|, the singular values' stand-in for QR's R) at
    or below n·eps·σmax (NumPy's and PyTorch's matrix_rank cutoff: it would count the matrix rank deficient), and
    the smallest quotient σmin / σmax found. One test for every rule that divides by such a matrix (session 49):
    past it a derivative computed with A⁻¹ is numbers of size 1/eps (or 1/eps²) made of rounding, where the true
    one does not exist. A matrix holding NaN or inf is left alone (its derivative is NaN), as is an empty one."""
    a = np.asarray(a)
    n = a.shape[-1] if a.ndim >= 2 else 0
    if not n or not a.size or a.dtype.kind != "f":
        return False, 1.0
    a = a.reshape((-1,) + a.shape[-2:])
    a = a[np.isfinite(a).all(axis=(-2, -1))]
    if not len(a):
        return False, 1.0
    if triangular:
        vals = np.abs(np.diagonal(a, axis1=-2, axis2=-1))
    else:
        if (n >= CLEAR_FROM or len(a) <= CLEAR_ALONE) and a.shape[-2] == n and a.dtype in (np.float32, np.float64):
            a = a[~_clearly_regular(a)]  # the singular values only of a matrix an LU could not clear
            if not len(a):
                return False, 1.0
        vals = np.linalg.svd(a, compute_uv=False)
    top, low = vals.max(axis=-1), vals.min(axis=-1)
    eps = np.finfo(a.dtype).eps
    flag = bool(np.any(low <= n * eps * top))
    with np.errstate(all="ignore"):
        ratio = float(np.min(np.where(top > 0, low / np.where(top > 0, top, 1), 0.0)))
    return flag, ratio


CLEAR_FROM = 32  # the size from which a matrix is cleared by an LU and its condition estimate before any SVD
CLEAR_ALONE = 8  # a stack of at most this many is cleared so whatever its size (more: one batched SVD is cheaper)
CLEAR_MARGIN = 1e3  # how far below the cut that estimate must be (it is a lower bound of cond₁, rarely off 10x)


def _clearly_regular(a) -> np.ndarray:
    """Per matrix of the stack ``a`` (finite, square, float32 or float64; ``CLEAR_FROM`` wide or few): True
    where LAPACK's estimate of the 1-norm condition number (``getrf`` and ``gecon``: the cost of one solve, where
    the singular values cost several) puts cond₂ far below :func:`near_singular`'s cut 1/(n·eps). cond₂ ≤ n·cond₁,
    and gecon's estimate is a lower bound of cond₁ rarely off by more than a small factor (Higham, *Accuracy and
    Stability*, 15.3), so ``CLEAR_MARGIN`` leaves the SVD to decide every matrix within reach of the cut."""
    from scipy.linalg import lapack

    n = a.shape[-1]
    cut = 1.0 / (n * n * float(np.finfo(a.dtype).eps) * CLEAR_MARGIN)
    getrf, gecon = (lapack.dgetrf, lapack.dgecon) if a.dtype == np.float64 else (lapack.sgetrf, lapack.sgecon)
    out = np.zeros(len(a), dtype=bool)
    for i, m in enumerate(a):
        anorm = float(np.add.reduce(np.abs(m), axis=0).max())
        lu, _, info = getrf(m)
        if anorm > 0 and info == 0:  # info > 0: an exact zero pivot, which the SVD decides
            rcond, info = gecon(lu, anorm, norm="1")
            out[i] = info == 0 and rcond > 0 and 1.0 / rcond < cut
    return out


def _refuse_rank_deficient_r(r, who):
    """QR's rules solve with its triangular R (or Rᵀ): where a diagonal entry is at or below n·eps·max|Rᵢᵢ|, A
    has lost column rank in this precision and Q and R have no derivative (the solve would answer numbers of
    size 1/eps, silently: session 48, nprog38_fuzz seed 4834), refused as an exactly singular R is."""
    flag, ratio = near_singular(r, triangular=True)
    if flag:
        raise JacValueError(f"{who}: a diagonal entry of R is {ratio:.3g} times its largest, at or below n·eps, so "
                            "A is rank deficient in this precision and Q and R have no derivative there "
                            f"(shape {fmt(np.shape(r))})")


# The rules that divide by a matrix whose derivative does not exist where it is singular (session 49): solve's and
# inv's (A⁻¹ dA A⁻¹), slogdet's (A⁻ᵀ), cholesky's (solves with L), and det's fourth derivative (written with A⁻¹,
# though det's exists everywhere). At a matrix singular in working precision (``near_singular``: cond ≥ 1/(n·eps))
# LAPACK answers A⁻¹ as numbers of size 1/eps made of rounding, and those rules numbers of size 1/eps or 1/eps²
# (the Hessian of torch.logdet at B @ B.T: -5.1e33, linalg40_fuzz seed 4835), where PyTorch gives 0, inf or NaN,
# or raises. The rules pass their cotangent or tangent (or A⁻¹) through ``singular_check``, which refuses there and
# changes no value elsewhere; the values themselves are answered as the libraries answer them.
_SINGULAR = ("{who}: the matrix is singular in {dtype} (σmin/σmax = {ratio:.3g}, at or below n·eps = {cut:.3g}), so "
             "{why}. The value is computed; to differentiate, regularize the matrix (A + λI, λ ≫ n·eps·‖A‖)")
SINGULAR_WHY = {
    "inv": "its inverse has no derivative here (-A⁻¹ dA A⁻¹ would be rounding noise of size 1/eps)",
    "solve": "the solution X = A⁻¹B has no derivative here (A⁻¹(dB - dA X) would be rounding noise of size 1/eps)",
    "slogdet / logdet": "log|det A| has no derivative here (A⁻ᵀ would be rounding noise of size 1/eps; det(A) has "
                        "one, the cofactor matrix)",
    "cholesky": "its Cholesky factor has no derivative here (the solves with L would be rounding noise of size "
                "1/eps)",
    "lu": "LU's second derivative is not computed here (jac's formula solves with U, whose last pivot is noise; "
          "the first derivative is answered)",
    "det": "det's fourth derivative is not computed here (jac's formula divides by A; the first three are "
           "answered)",
}


def _singular_check_impl(d, a, who):
    """``d`` (a cotangent, a tangent or A⁻¹ on a rule's way), refused where a matrix of ``a`` is singular in its
    precision (:func:`near_singular`), whatever ``d`` holds."""
    flag, ratio = near_singular(a)
    if flag:
        a = np.asarray(a)
        eps = float(np.finfo(a.dtype).eps)
        raise JacValueError(_SINGULAR.format(who=who, dtype=a.dtype.name, ratio=ratio, cut=a.shape[-1] * eps,
                                             why=SINGULAR_WHY.get(who, SINGULAR_WHY["solve"])))
    return d


def _singular_check_structure(d, a, who):
    """A structured batch passes as it is (the check reads ``a`` alone); in a dry run (a pattern) unchecked."""
    if not isinstance(d, structured.SparseBatch) or structured.is_batch(a):
        return NotImplemented
    return d if d.pattern else _singular_check_impl(d, a, who)


def _singular_check_rule(d, ans, g, a, who):
    # a detached by the rules that make the check: its values are read, no derivative reaches it
    return P.singular_check(d, a, who=who)


defop("singular_check", _singular_check_impl, lambda d, a, who: d, (_singular_check_rule, None),
      (_singular_check_rule, None), view="always", label="a derivative through a singular matrix",
      domain=(0.5, 2.0), structure=_singular_check_structure,
      sympy=lambda S, d, a, who: d.expr)  # jac diff's forms of a rule's result: the value it passes


def nonsingular(d, a, who: str):
    """``d`` on a rule's way, refused at evaluation where the matrix ``a`` is singular in working precision."""
    return P.singular_check(d, P.detach(a), who=who)


def _solve_word(who: str) -> str:
    """The name a solve's refusal gives: its ``who`` where that is a function's name (``solve``,
    ``solve_triangular``, ``pinv: ...``, ``lu (...)``), else ``solve``."""
    word = who.split(":")[0].split(" (")[0].strip()
    return word if word.replace("_", "").replace(".", "").isalnum() else "solve"


# X = A⁻¹B: dX = A⁻¹(dB - dA X); the cotangents are gB = A⁻ᵀ G and gA = -gB Xᵀ.
defop("solve", _solve_impl, _solve_shape,
      (lambda g, ans, a, b, who="solve":
          unbroadcast(P.neg(P.matmul(P.solve(mT(a), nonsingular(g, a, _solve_word(who)), who=who), mT(ans))),
                      shape_of(a)),
       lambda g, ans, a, b, who="solve": unbroadcast(P.solve(mT(a), nonsingular(g, a, _solve_word(who)), who=who),
                                                     shape_of(b))),
      (lambda t, ans, a, b, who="solve": P.neg(P.solve(a, P.matmul(nonsingular(lift(t, len(shape_of(ans))), a,
                                                                               _solve_word(who)), ans), who=who)),
       lambda t, ans, a, b, who="solve": P.solve(a, nonsingular(lift(t, len(shape_of(ans))), a, _solve_word(who)),
                                                 who=who)),
      domain=(-1.0, 1.0),
      sympy=lambda S, a, b, who="solve": S.solve_form(a, b) if not S.components(a, b) else S.explicit(
          lambda x, y: np.stack([np.array((S.sp.Matrix(m.tolist()).inv() * S.sp.Matrix(r.tolist())).tolist(),
                                          dtype=object) for m, r in zip(*_paired(x, y))]).reshape(
              _solve_shape(x.shape, y.shape)), S.limited(a, "solve"), b))


def _paired(x, y):
    """The matrices of two broadcast stacks, pair by pair (for the SymPy translations)."""
    lead = np.broadcast_shapes(x.shape[:-2], y.shape[:-2])
    xs = np.broadcast_to(x, lead + x.shape[-2:]).reshape((-1,) + x.shape[-2:])
    ys = np.broadcast_to(y, lead + y.shape[-2:]).reshape((-1,) + y.shape[-2:])
    return xs, ys


def _sym(t):
    """The symmetric part (t + tᵀ)/2 of a (batch of) matrices."""
    return P.mul(P.add(t, mT(t)), 0.5)


def _phi(n: int, dtype):
    """The lower triangle with the diagonal halved: the projection of Cholesky's derivative."""
    return np.tril(np.ones((n, n), dtype=dtype), -1) + 0.5 * np.eye(n, dtype=dtype)


# How far from symmetric a matrix given to cholesky or eigh may be, relative to its largest element: past it the
# readings differ (NumPy and PyTorch read the lower triangle, JAX and jac the symmetric part: values apart by about
# the asymmetry), so it is refused. Outside jac's finite differences only rounding and the small steps of central
# differences written by hand are let through (``rounding_asymmetry``, per dtype: readings apart by at most about
# that); while tools/numeric steps one element at a time (``finite_steps``), its larger steps too (Richardson's
# 2.4e-3 relative included): ASYMMETRY.
ASYMMETRY = 1e-2
_FINITE_STEPS: ContextVar[bool] = ContextVar("jac_finite_steps", default=False)


def rounding_asymmetry(dtype) -> float:
    """The asymmetry read outside jac's finite differences, relative to a matrix's largest element: what rounding
    leaves in a symmetric matrix computed as products and sums (``A @ A.T + s I``, a Riccati or Kalman recursion),
    and a hand-written central difference's step of one element (1e-6 ... 1e-5): 1e-5 in float64, 1.2e-3 in
    float32. The libraries' readings then differ by at most about that much (session 35: 1e-2 was read before,
    a value 0.7 % apart from PyTorch's)."""
    return max(1e-5, 1e4 * float(np.finfo(dtype).eps))


@contextmanager
def finite_steps():
    """Within it, the evaluations are finite differences' (steps of one element of an input): a matrix given to
    cholesky or eigh may be as far from symmetric as :data:`ASYMMETRY`."""
    token = _FINITE_STEPS.set(True)
    try:
        yield
    finally:
        _FINITE_STEPS.reset(token)


def _symmetric_part(a, who: str):
    """``(a + aᵀ)/2``, the matrix jac's cholesky and eigh read (as JAX; their derivative rules are exact for
    it and equal PyTorch's at a symmetric matrix), after refusing an ``a`` that is far from symmetric (see
    :data:`ASYMMETRY`): NumPy and PyTorch read its lower triangle instead, another value."""
    t = np.swapaxes(a, -1, -2)
    if a.size:
        with np.errstate(invalid="ignore"):
            gap, scale = np.max(np.abs(a - t)), np.max(np.abs(a))
        bound = ASYMMETRY if _FINITE_STEPS.get() else rounding_asymmetry(a.dtype if a.dtype.kind == "f" else float)
        if gap > bound * scale:  # False for NaN: a matrix of NaN gives NaN, as the libraries do
            raise JacValueError(f"{who}: the matrix is not symmetric (its largest |A - Aᵀ| is {gap:.3g}, its largest "
                                f"element {scale:.3g}); NumPy and PyTorch read its lower triangle, JAX its symmetric "
                                "part (values apart by about that much), and the derivatives assume a symmetric "
                                "matrix: pass the symmetric matrix you mean, such as (A + A.T) / 2 or A @ A.T")
    return (a + t) / 2


def _cholesky_impl(a):
    a = np.asarray(a)
    sym = _symmetric_part(a, "cholesky")
    try:
        return np.linalg.cholesky(sym)
    except np.linalg.LinAlgError:
        raise JacValueError(f"cholesky: the matrix is not positive definite (shape {fmt(a.shape)})") from None


def _cholesky_jvp(t, L, a):
    # dL = L Φ(L⁻¹ dS L⁻ᵀ), dS the symmetric part of dA
    m = P.solve(L, mT(P.solve(L, _sym(nonsingular(t, a, "cholesky")))))
    return P.matmul(L, P.mul(m, _phi(shape_of(a)[-1], _dtype_of(a))))


def _cholesky_vjp(g, L, a):
    # gA = sym(L⁻ᵀ Φ(Lᵀ G) L⁻¹)
    x = P.mul(P.matmul(mT(L), nonsingular(g, a, "cholesky")), _phi(shape_of(a)[-1], _dtype_of(a)))
    return _sym(P.solve(mT(L), mT(P.solve(mT(L), mT(x)))))


defop("cholesky", _cholesky_impl, lambda s: _square_shape("cholesky", s), (_cholesky_vjp,), (_cholesky_jvp,),
      domain=(-0.3, 0.3), sympy=lambda S, a: S.stack_matrices(a, lambda m: ((m + m.T) / 2).cholesky(hermitian=False), "cholesky"))


def _eigh(a, uplo="L"):
    """LAPACK's syevd of the symmetric part, reading the triangle ``uplo`` says as NumPy's and JAX's eigh: the
    eigenvalues agree either way, the signs of the eigenvectors do not."""
    a = np.asarray(a)
    w, v = np.linalg.eigh(_symmetric_part(a, "eigh"), UPLO=uplo)
    return _undecomposed(a, w, v)


def _undecomposed(a, values, *vectors):
    """``(values, *vectors)`` with NaN for every matrix holding inf or NaN: LAPACK gives NaN
    values there but finite vectors (the identity), from which the derivative rules, which read
    the vectors, would make a finite derivative of a NaN value. PyTorch's derivative is NaN."""
    bad = ~np.all(np.isfinite(a), axis=(-2, -1))
    if not np.any(bad):
        return (values, *vectors)
    return (np.where(bad[..., None], np.nan, values),
            *(np.where(bad[..., None, None], np.nan, m) for m in vectors))


def _eigvalsh_jvp(t, w, a, uplo="L"):
    # dλᵢ = (Vᵀ dS V)ᵢᵢ, refused where eigenvalues repeat unless Vᵀ dS V is a multiple of I on their block
    v = P.eigh_vectors(a, uplo=uplo, who="eigvalsh")  # who: a second derivative's refusal names eigvalsh
    m = P.spectral_check(P.matmul(mT(v), P.matmul(_sym(t), v)), P.detach(w), size=shape_of(a)[-1], tangent=True,
                         what="eigenvalues")
    return _diag_of(m)


def _eigvalsh_vjp(g, w, a, uplo="L"):
    # gA = V diag(g) Vᵀ, refused where eigenvalues repeat unless g is the same across them
    v = P.eigh_vectors(a, uplo=uplo, who="eigvalsh")
    g = P.spectral_check(g, P.detach(w), size=shape_of(a)[-1], tangent=False, what="eigenvalues")
    gv = P.reshape(g, shape=tuple(shape_of(g)[:-1]) + (1, shape_of(g)[-1]))
    return P.matmul(P.mul(v, gv), mT(v))


# Repeated eigenvalues (or nonzero singular values) (session 33). The sorted eigenvalues of a symmetric matrix are
# not differentiable where two are equal: the derivative LAPACK's basis gives, vᵢvᵢᵀ, takes the basis it happened
# to choose of their eigenspace (PyTorch's differs). What does not depend on that choice: in reverse mode, a
# cotangent the same across each repeated cluster (V_C diag(c) V_Cᵀ = c·V_C V_Cᵀ, the eigenspace's projector: the
# trace, Σλ², the nuclear norm); in forward mode, only the cluster's trace of Vᵀ dS V, so a tangent is answered
# only where that block is a multiple of I (another basis W gives diag(Wᵀ B W), the same for every W only then).
# "Repeated": sorted neighbours apart by at most REPEATED·size·eps·max|λ| (LAPACK returns a repeated eigenvalue
# of Q diag(d) Qᵀ up to about 2·n·eps·max|λ| apart; past the cutoff the vectors are noise anyway, their
# sensitivity 1 / gap); the cotangent or tangent the same to √eps relative (a smooth function of the values, such
# as Σλ², gives a cotangent whose parts differ by its curvature times the cluster's width). Singular values at
# zero are svd_zero's (independent signs): not counted here. eig_gaps (the eigenvectors' rules, the second
# derivatives) refuses at the same cutoff.
REPEATED = 8


def repeated_floor(size: int, eps: float, scale):
    """The cutoff at or below which two eigenvalues (or singular values) of a ``size``-sized matrix whose largest
    magnitude is ``scale`` are one repeated value: REPEATED·size·eps·max|λ| (the refusal's, eig_gaps' and
    engine/conditioning's, which warns only past it)."""
    return REPEATED * size * eps * scale


def _tied(w, size: int, nonzero: bool = False):
    """``tied[..., i]``: the sorted ``w[..., i]`` and ``w[..., i + 1]`` are one repeated value (``nonzero``: and
    above the singular values' zero cutoff size·eps·max|w|, which svd_zero refuses on its own)."""
    w = np.asarray(w)
    eps = np.finfo(w.dtype if w.dtype.kind == "f" else np.float64).eps
    scale = np.max(np.abs(w), axis=-1, keepdims=True, initial=0.0) if w.shape[-1] else np.zeros(w.shape[:-1] + (1,))
    with np.errstate(invalid="ignore"):
        tied = np.abs(np.diff(w, axis=-1)) <= repeated_floor(size, eps, scale)
        if nonzero:
            tied &= np.abs(w[..., 1:]) > size * eps * scale
    return tied


_SPECTRAL = ("{who}: {what} {lo} {to} {hi} are equal ({value!r}, apart by at most {rep}·n·eps·max|{sym}|) at "
             "these values, and {reads}: the derivative of each alone is not defined there (it would be taken from "
             "LAPACK's arbitrary basis of their {space}, and PyTorch's differs); a function that treats them alike "
             "has one, such as their sum{extra}")
_SPECTRAL_REVERSE = "the output reads them apart (the cotangent they are given differs between them)"
_SPECTRAL_FORWARD = ("forward mode (jac jvp, a forward Jacobian, a Hessian's outer pass) computes the tangent of "
                     "each alone, which this tangent moves apart, and reverse passes over the output's elements, "
                     "which see what it reads, were not available here (more than 1024 elements, or traced)")


def _spectral_refusal(d, w, size, tangent, what):
    """Where ``d`` (a cotangent of the values ``w``, or with ``tangent`` the matrix Vᵀ dS V / Uᵀ dA V) reads a
    cluster of repeated values apart: None, or ``(i, j)``, the cluster's bounds, with the matrix's index."""
    singular = what == "singular values"
    tied = _tied(w, size, nonzero=singular)
    if not tied.any():
        return None
    d = np.asarray(d)
    eps = np.finfo(d.dtype if d.dtype.kind == "f" else np.float64).eps
    with np.errstate(invalid="ignore"):
        if not tangent:
            tol = np.sqrt(eps) * np.max(np.abs(d), axis=-1, keepdims=True, initial=0.0)
            bad = tied & (np.abs(np.diff(d, axis=-1)) > tol)
        else:
            m = (d + np.swapaxes(d, -1, -2)) / 2  # svd: Uᵀ dA V's symmetric part moves σ (eigh's is symmetric)
            tol = np.sqrt(eps) * np.max(np.abs(m), axis=(-2, -1), keepdims=True, initial=0.0)
            n = w.shape[-1]
            label = np.concatenate([np.zeros(tied.shape[:-1] + (1,), np.intp), np.cumsum(~tied, axis=-1)], axis=-1)
            same = (label[..., :, None] == label[..., None, :]) & ~np.eye(n, dtype=bool)
            diag = np.diagonal(m, axis1=-2, axis2=-1)
            bad = (tied & (np.abs(np.diff(diag, axis=-1)) > tol[..., 0])) | \
                np.any(same & (np.abs(m) > tol), axis=-1)[..., :-1] & tied
    if not bad.any():
        return None
    where = tuple(np.argwhere(bad)[0])
    row = np.broadcast_to(tied, bad.shape)[where[:-1]]
    lo = hi = where[-1]
    while lo > 0 and row[lo - 1]:
        lo -= 1
    while hi < len(row) and row[hi]:
        hi += 1
    value = np.broadcast_to(np.asarray(w), bad.shape[:-1] + (len(row) + 1,))[where[:-1] + (lo,)]
    return lo, hi, float(value)


def _spectral_check_impl(d, w, size, tangent, what):
    """``d`` (a cotangent of the eigenvalues or singular values ``w``, or with ``tangent`` the matrix whose
    diagonal is their tangent), refused where it reads a cluster of repeated values apart (see above)."""
    found = _spectral_refusal(d, w, size, tangent, what)
    if found is None:
        return d
    lo, hi, value = found
    eig = what == "eigenvalues"
    err = JacValueError(_SPECTRAL.format(
        who="eigh / eigvalsh" if eig else "svd / svdvals", what=what, lo=lo, to="and" if hi == lo + 1 else "to", hi=hi, value=float(f"{value:.6g}"),
        rep=REPEATED, sym="λ" if eig else "σ",
        reads=_SPECTRAL_FORWARD if tangent else _SPECTRAL_REVERSE,
        space="eigenspace" if eig else "singular subspaces",
        extra=(" (the trace), Σλ² or any symmetric function of them" if eig else " (the nuclear norm)")))
    err.spectral_forward = tangent  # autodiff.jvp then asks reverse passes, which see what the output reads
    err.spectral = what  # a Hessian's pass over the gradient says it is the second derivative that is refused
    raise err


def _spectral_check_structure(d, w, size, tangent, what):
    """A structured batch passes as it is (the check changes no value): its pattern, in a dry run, as the
    pattern of the check's argument; with values, checked made dense only where values repeat."""
    if not isinstance(d, structured.SparseBatch) or structured.is_batch(w):
        return NotImplemented
    if d.pattern or not _tied(w, size, nonzero=what == "singular values").any():
        return d
    _spectral_check_impl(d.to_dense(), w, size, tangent, what)
    return d


def _spectral_check_rule(d, ans, g, w, size, tangent, what):
    # w detached by the rules that make the check: its values are read, no tangent reaches them
    return P.spectral_check(d, w, size=size, tangent=tangent, what=what)


defop("spectral_check", _spectral_check_impl, lambda d, w, size, tangent, what: d, (_spectral_check_rule, None),
      (_spectral_check_rule, None), view="always", label="a derivative of repeated eigenvalues or singular values",
      domain=(0.5, 2.0), structure=_spectral_check_structure)


def _gaps_impl(w, who="eigh"):
    """F[i, j] = 1 / (w[j] - w[i]) off the diagonal, 0 on it; refused where eigenvalues repeat."""
    w = np.asarray(w)
    d = w[..., None, :] - w[..., :, None]
    n = w.shape[-1]
    off = ~np.eye(n, dtype=bool)
    tiny = repeated_floor(n, np.finfo(w.dtype).eps, max(float(np.max(np.abs(w), initial=0.0)), np.finfo(w.dtype).tiny))
    if np.any(np.abs(d[..., off]) <= tiny):
        raise JacValueError(_REPEATED[who])
    with np.errstate(all="ignore"):
        return np.where(off, 1.0 / np.where(off, d, 1.0), 0.0).astype(w.dtype)


_REPEATED = {
    "eigh": "eigh: the eigenvectors have no derivative where eigenvalues repeat (a repeated eigenvalue's "
            "eigenvectors are not unique); PyTorch's gradient is inf or NaN there. The eigenvalues alone "
            "(eigvalsh) have one",
    "eigvalsh": "eigh / eigvalsh: the second derivative of the eigenvalues where they repeat is not computed: "
                "even where it exists (the trace's, 0; Σλ²'s, 2·I on symmetric directions) it is the limit of "
                "divided differences (f'(λᵢ) − f'(λⱼ)) / (λᵢ − λⱼ) at λᵢ = λⱼ, which jac's rules, 1/(λᵢ − λⱼ) times "
                "the basis's terms, cannot take, and of each eigenvalue alone it does not exist (PyTorch's is NaN "
                "at an exact repeat, and its basis's noise where LAPACK's values differ by an ulp). The first "
                "derivative of a function that treats them alike is answered",
    "svdvals": "svd / svdvals: the second derivative of the singular values where nonzero ones repeat is not "
               "computed: even where it exists it is the limit of divided differences at σᵢ = σⱼ, which jac's "
               "rules, 1/(σᵢ² − σⱼ²) times the basis's terms, cannot take (PyTorch's is inf or NaN there). The "
               "first derivative of a function that treats them alike is answered",
    "svd": "svd: U and Vh have no derivative where singular values repeat (their singular vectors are not "
           "unique); PyTorch's gradient is inf or NaN there. The singular values alone (svdvals) have one",
}
# A spectral check refusing inside a Hessian's forward pass (or its reverse fallback) over the traced gradient:
# the gradient itself was answered, so it is the second derivative that is refused, and it says so.
SECOND_ORDER = {"eigenvalues": _REPEATED["eigvalsh"], "singular values": _REPEATED["svdvals"]}


def _gaps_jvp(t, f, w, who="eigh"):
    # d(1/(w_j - w_i)) = -F² (dw_j - dw_i)
    n = shape_of(w)[-1]
    lead = tuple(shape_of(t)[:-1])
    dt = P.sub(P.reshape(t, shape=lead + (1, n)), P.reshape(t, shape=lead + (n, 1)))
    return P.neg(P.mul(P.mul(f, f), dt))


def _gaps_vjp(g, f, w, who="eigh"):
    h = P.neg(P.mul(P.mul(f, f), g))
    nd = len(shape_of(g))
    return P.sub(P.sum(h, axes=(nd - 2,)), P.sum(h, axes=(nd - 1,)))


defop("eig_gaps", _gaps_impl, lambda s, who="eigh": tuple(s) + (s[-1],), (_gaps_vjp,), (_gaps_jvp,),
      sympy=lambda S, w, who="eigh": S.explicit(lambda x: np.where(np.eye(x.shape[-1], dtype=bool), 0,
                                                      1 / np.where(np.eye(x.shape[-1], dtype=bool), 1,
                                                                   x[..., None, :] - x[..., :, None])), w))


def _basis_turn_impl(v, values, axis=-1, size=1):
    """``v`` (vectors in columns, ``axis=-1``: V, U; rows, ``axis=-2``: Vh) with the vectors of each cluster of
    repeated ``values`` (sorted; :func:`_tied`'s cutoff, zeros included) turned by a fixed rotation Q within the
    cluster: ``v @ Q`` or ``Qᵀ @ v``, ``v`` itself where no values repeat. Another basis of the same eigenspaces
    (or singular subspaces: U Q diag(s) Qᵀ Vh is U diag(s) Vh), as right as LAPACK's: ir/signs.py compares the
    output computed from it with the output, and refuses a PyTorch text whose output depends on the choice."""
    v, values = np.asarray(v), np.asarray(values)
    tied = _tied(values, size)
    if not np.any(tied):
        return v
    k = values.shape[-1]
    q = np.array(np.broadcast_to(np.eye(k, dtype=v.dtype), values.shape[:-1] + (k, k)))
    c, s = np.cos(1.0), np.sin(1.0)  # Givens rotations by 1 radian of each tied neighbour pair, one after another
    for index in zip(*np.nonzero(tied)):
        *batch, i = index
        m = q[tuple(batch)]
        m[:, [i, i + 1]] = m[:, [i, i + 1]] @ np.array([[c, -s], [s, c]], dtype=v.dtype)
    return v @ q if axis == -1 else np.swapaxes(q, -1, -2) @ v


defop("basis_turn", _basis_turn_impl, lambda s, w, axis=-1, size=1: s, nondiff=True,
      label="another basis of repeated eigenvalues' eigenspaces (the check of ir/signs.py)")


def _eigh_vectors_jvp(t, v, a, uplo="L", who="eigh"):
    # dV = V (F ∘ (Vᵀ dS V))
    f = P.eig_gaps(P.eigvalsh(a, uplo=uplo), who=who)
    return P.matmul(v, P.mul(f, P.matmul(mT(v), P.matmul(_sym(t), v))))


def _eigh_vectors_vjp(g, v, a, uplo="L", who="eigh"):
    # gA = sym(V (F ∘ (Vᵀ G)) Vᵀ)
    f = P.eig_gaps(P.eigvalsh(a, uplo=uplo), who=who)
    return _sym(P.matmul(P.matmul(v, P.mul(f, P.matmul(mT(v), g))), mT(v)))


defop("eigvalsh", lambda a, uplo="L": _eigh(a, uplo)[0], lambda s, uplo="L": _square_shape("eigvalsh", s)[:-1],
      (_eigvalsh_vjp,), (_eigvalsh_jvp,))
defop("eigh_vectors", lambda a, uplo="L", who="eigh": _eigh(a, uplo)[1],
      lambda s, uplo="L", who="eigh": _square_shape("eigh", s),
      (_eigh_vectors_vjp,), (_eigh_vectors_jvp,))


# SVD of A (m × n, k = min(m, n)), reduced: A = U diag(s) Vh, U m × k, Vh k × n, computed by LAPACK's gesdd on A
# itself, as NumPy, SciPy and JAX do (a wide A's singular vectors are not its transpose's: other signs).
# With P = Uᵀ dA V and F[i, j] = 1 / (s_j² - s_i²) (Townsend, "Differentiating the SVD", 2016):
#   ds = diag(P);  dU = U (F ∘ (P S + S Pᵀ)) + (I - UUᵀ) dA V S⁻¹;  dV = V (F ∘ (S P + Pᵀ S)) + (I - VVᵀ) dAᵀ U S⁻¹,
# where the last terms vanish for a wide A (UUᵀ = I) and a tall one (VVᵀ = I) respectively.

def _svd(a):
    a = np.asarray(a)
    if np.isnan(a).any():  # LAPACK refuses NaN (so does PyTorch): said here, as a matrix may hold an infinity too
        raise np.linalg.LinAlgError("SVD did not converge")
    inf = np.isinf(a).any(axis=(-2, -1))  # OpenBLAS's gesdd never returns on an infinity (np.linalg.svd hangs):
    u, s, vh = np.linalg.svd(np.where(inf[..., None, None], 0, a) if inf.any() else a, full_matrices=False)
    s, u, vh = _undecomposed(a, s, u, vh)  # such a matrix's factors are NaN
    return u, s, vh


def _svd_shape(s):
    """U's shape (m × k); k = min(m, n) (n where the sizes are not known)."""
    if len(s) < 2:  # pragma: no cover - the lowering asks for a matrix
        raise JacShapeError(f"svd needs a matrix (at least 2 axes), got shape {fmt(s)}")
    k = min(s[-2], s[-1]) if is_concrete(s[-2:]) else s[-1]
    return tuple(s[:-1]) + (k,)


def _qr_shape(s):
    if len(s) < 2 or (is_concrete(s[-2:]) and s[-2] < s[-1]):  # pragma: no cover - the lowering refuses it
        raise JacShapeError(f"qr needs a matrix with at least as many rows as columns, got shape {fmt(s)}")
    return s


def _svd_parts(a, who="svd"):
    u, s, vh = P.svd_u(a, who=who), P.svdvals(a), P.svd_vh(a, who=who)
    k = shape_of(s)[-1]
    lead = tuple(shape_of(s)[:-1])
    return u, s, vh, P.reshape(s, shape=lead + (1, k)), P.reshape(s, shape=lead + (k, 1))


def _diag_of(m):
    n = shape_of(m)[-1]
    return P.sum(P.mul(m, np.eye(n, dtype=_dtype_of(m))), axes=(len(shape_of(m)) - 1,))


def _tall(a) -> bool:
    s = shape_of(a)
    return s[-2] > s[-1]


def _wide(a) -> bool:
    s = shape_of(a)
    return s[-2] < s[-1]


def _svdvals_jvp(t, ans, a):
    # dσᵢ = (Uᵀ dA V)ᵢᵢ, refused where nonzero singular values repeat unless its symmetric part is a multiple of I
    u, s, vh, row, col = _svd_parts(a, "svdvals")
    p = P.spectral_check(P.matmul(mT(u), P.matmul(t, mT(vh))), P.detach(ans), size=max(shape_of(a)[-2:]), tangent=True,
                         what="singular values")
    return _diag_of(p)


def _svdvals_vjp(g, ans, a):
    u, s, vh, row, col = _svd_parts(a, "svdvals")
    g = P.spectral_check(g, P.detach(ans), size=max(shape_of(a)[-2:]), tangent=False, what="singular values")
    gs = P.reshape(g, shape=tuple(shape_of(g)[:-1]) + (1, shape_of(g)[-1]))
    return P.matmul(P.mul(u, gs), vh)


def _svd_u_jvp(t, ans, a, who="svd"):
    u, s, vh, row, col = _svd_parts(a, who)
    f = P.eig_gaps(P.mul(s, s), who=who)
    p = P.matmul(mT(u), P.matmul(t, mT(vh)))
    du = P.matmul(u, P.mul(f, P.add(P.mul(p, row), P.mul(col, mT(p)))))
    if _tall(a):  # (I - UUᵀ) dA V S⁻¹
        du = P.add(du, P.mul(P.sub(P.matmul(t, mT(vh)), P.matmul(u, p)), P.svd_inv(row)))
    return du


def _svd_u_vjp(g, ans, a, who="svd"):
    u, s, vh, row, col = _svd_parts(a, who)
    f = P.eig_gaps(P.mul(s, s), who=who)
    utg = P.matmul(mT(u), g)
    ga = P.matmul(P.matmul(u, P.mul(P.mul(f, P.sub(utg, mT(utg))), row)), vh)
    if _tall(a):  # (I - UUᵀ) G S⁻¹ Vᵀ
        ga = P.add(ga, P.matmul(P.mul(P.sub(g, P.matmul(u, utg)), P.svd_inv(row)), vh))
    return ga


def _svd_vh_jvp(t, ans, a, who="svd"):
    u, s, vh, row, col = _svd_parts(a, who)
    f = P.eig_gaps(P.mul(s, s), who=who)
    p = P.matmul(mT(u), P.matmul(t, mT(vh)))
    x = P.mul(f, P.add(P.mul(col, p), P.mul(mT(p), row)))  # dV = V X, so dVh = Xᵀ Vh
    dvh = P.matmul(mT(x), vh)
    if _wide(a):  # S⁻¹ Uᵀ dA (I - VVᵀ)
        dvh = P.add(dvh, P.mul(P.sub(P.matmul(mT(u), t), P.matmul(p, vh)), P.svd_inv(col)))
    return dvh


def _svd_vh_vjp(g, ans, a, who="svd"):
    u, s, vh, row, col = _svd_parts(a, who)
    f = P.eig_gaps(P.mul(s, s), who=who)
    vtg = P.matmul(vh, mT(g))  # Vᵀ gV with gV = gVhᵀ
    ga = P.matmul(P.matmul(u, P.mul(col, P.mul(f, P.sub(vtg, mT(vtg))))), vh)
    if _wide(a):  # U S⁻¹ G (I - VVᵀ)
        ga = P.add(ga, P.matmul(u, P.mul(P.sub(g, P.matmul(P.matmul(g, mT(vh)), vh)), P.svd_inv(col))))
    return ga


defop("svdvals", lambda a: _svd(a)[1], lambda s: _svd_shape(s)[:-2] + _svd_shape(s)[-1:], (_svdvals_vjp,), (_svdvals_jvp,))
defop("svd_u", lambda a, who="svd": _svd(a)[0], lambda s, who="svd": _svd_shape(s), (_svd_u_vjp,), (_svd_u_jvp,))
defop("svd_vh", lambda a, who="svd": _svd(a)[2], lambda s, who="svd": _svd_shape(s)[:-2] + (_svd_shape(s)[-1], s[-1]),
      (_svd_vh_vjp,),
      (_svd_vh_jvp,))


# A singular value at zero is |·|-like: its derivative uᵢᵀ dA vᵢ takes the signs LAPACK gave uᵢ and vᵢ, which are
# independent where σᵢ = 0 (A vᵢ = 0 couples them no more), so JAX's answer and PyTorch's differ (a tall matrix's
# did). The lowerings of every user-facing singular value (svdvals, svd's S, the 'nuc' and -2 norms, cond) pass
# them through ``svd_zero`` (the value as it is), whose rules refuse any derivative through singular values one
# of which is at or below max(m, n)·eps·σmax (NumPy's and PyTorch's matrix_rank cutoff), in forward and
# reverse mode alike; the spectral norm (ord=2) passes σmax alone (``vector=False``: refused only at σmax = 0,
# the zero matrix). svdvals' own rules stay as they are: svd_u's and svd_vh's rules read them with U and V's
# own signs, which agree with them.

_SVD_ZERO = ("{what}: the derivative of a singular value at zero (at or below max(m, n)·eps·σmax) is not defined: "
             "a singular value is |·|-like there, and its slope takes the arbitrary signs LAPACK gives the "
             "singular vectors (JAX's answer and PyTorch's differ), so jac refuses it in every mode (the value itself "
             "is computed). The largest singular value alone has a derivative there: write it as the spectral "
             "norm, torch.linalg.matrix_norm(A, 2) or np.linalg.norm(A, 2)")


def _svd_flagged(x, size, vector):
    """Where the singular values ``x`` (``vector``: the last axis holds one matrix's; else σmax itself) are at or
    below the cutoff size·eps·σmax: per matrix, shape ``x.shape[:-1]`` (``vector``) or ``x.shape``."""
    x = np.asarray(x)
    eps = np.finfo(x.dtype if x.dtype.kind == "f" else np.float64).eps
    if not vector:
        return x <= size * eps * x  # σmax ≤ size·eps·σmax: σmax = 0
    top = np.max(x, axis=-1, keepdims=True, initial=0.0) if x.shape[-1] else np.zeros(x.shape[:-1] + (1,), x.dtype)
    return np.any(x <= size * eps * top, axis=-1)


def _svd_zero_check_impl(d, x, size, vector, what):
    """``d`` (a tangent or cotangent of ``x``), refused where a singular value of ``x`` is at zero, whatever
    ``d`` holds: a cotangent of 0 there (Σσ²'s 2σ) would answer in reverse mode where the tangent, nonzero
    before the 2σ meets it, is refused in forward mode; the modes agree by refusing both. A singular value that
    overflowed (inf from a finite matrix: 6e38 in float32) is refused saying so, not as one "at zero"."""
    x = np.asarray(x)
    if x.dtype.kind == "f" and np.isinf(x).any():
        raise JacValueError(f"{what}: a singular value is inf (past {x.dtype}'s largest, "
                            f"{float(np.finfo(x.dtype).max):.4g}, or from an inf in the matrix): its derivative "
                            "would be computed from inf; use --dtype float64, or scale the matrix")
    if np.any(_svd_flagged(x, size, vector)):
        raise JacValueError(_SVD_ZERO.format(what=what))
    return d


def _svd_zero_check_structure(d, x, size, vector, what):
    """A structured batch passes as it is (the check reads the singular values alone), so that an element-wise
    ``svd_zero`` keeps the seed's pattern in the dry runs, as Op.elementwise promises the planner."""
    if not isinstance(d, structured.SparseBatch) or structured.is_batch(x):
        return NotImplemented
    return _svd_zero_check_impl(d, x, size, vector, what)


def _svd_zero_rule(d, ans, x, size, vector, what):
    # x detached: the check reads its values, and a traced gradient's tangents never reach it
    return P.svd_zero_check(d, P.detach(x), size=size, vector=vector, what=what)


def _svd_zero_check_rule(d, ans, g, x, size, vector, what):
    return P.svd_zero_check(d, x, size=size, vector=vector, what=what)


defop("svd_zero", lambda x, size, vector, what: x, lambda s, size, vector, what: s, (_svd_zero_rule,),
      (_svd_zero_rule,), view="always", label="singular values", domain=(0.5, 2.0), elementwise=True)
defop("svd_zero_check", _svd_zero_check_impl, lambda d, x, size, vector, what: d, (_svd_zero_check_rule, None),
      (_svd_zero_check_rule, None), view="always", label="a derivative of singular values", domain=(0.5, 2.0),
      structure=_svd_zero_check_structure)


def _svd_inv_impl(s):
    s = np.asarray(s)
    if np.any(s == 0):
        raise JacValueError("svd: U (of a tall matrix) or Vh (of a wide one) has no derivative where a singular value "
                            "is 0")
    return 1.0 / s


defop("svd_inv", _svd_inv_impl, lambda s: s,
      (lambda g, ans, s: P.neg(P.mul(g, P.mul(ans, ans))),), (lambda t, ans, s: P.neg(P.mul(t, P.mul(ans, ans))),),
      domain=(0.5, 2.0), sympy=_sympy_elementwise(lambda sp, v: 1 / v), elementwise=True)


# QR of a tall or square A of full column rank (m ≥ n), reduced: A = QR. With C = Qᵀ dA R⁻¹ and
# Ω = tril(C, -1) - tril(C, -1)ᵀ (= QᵀdQ): dR = (C - Ω) R and dQ = QΩ + dA R⁻¹ - QC. The cotangent
# (Liao et al. 2019): M = R gRᵀ - gQᵀQ, gA = (gQ + Q copyltu(M)) R⁻ᵀ, copyltu(M) = tril(M) + tril(M, -1)ᵀ.

def _qr(a):
    return np.linalg.qr(np.asarray(a), mode="reduced")


def _strict_lower(m):
    n = shape_of(m)[-1]
    return P.mul(m, np.tril(np.ones((n, n), dtype=_dtype_of(m)), -1))


def _qr_c(t, q, r):
    # C = Qᵀ dA R⁻¹ = (R⁻ᵀ (Qᵀ dA)ᵀ)ᵀ
    return mT(P.solve(mT(r), mT(P.matmul(mT(q), t)), who="qr (R is singular: A does not have full column rank)"))


def _qr_q_jvp(t, ans, a):
    q, r = ans, P.qr_r(a)
    c = _qr_c(t, q, r)
    low = _strict_lower(c)
    omega = P.sub(low, mT(low))
    ar = mT(P.solve(mT(r), mT(t), who="qr (R is singular: A does not have full column rank)"))  # dA R⁻¹
    return P.add(P.matmul(q, P.sub(omega, c)), ar)


def _qr_r_jvp(t, ans, a):
    q, r = P.qr_q(a), ans
    c = _qr_c(t, q, r)
    low = _strict_lower(c)
    return P.matmul(P.add(P.sub(c, low), mT(low)), r)  # (C - Ω) R


def _copyltu(m):
    low = _strict_lower(m)
    n = shape_of(m)[-1]
    return P.add(P.add(low, mT(low)), P.mul(m, np.eye(n, dtype=_dtype_of(m))))


def _qr_vjp(g_q, g_r, a):
    q, r = P.qr_q(a), P.qr_r(a)
    m = P.neg(P.matmul(mT(g_q), q)) if g_r is None else P.matmul(r, mT(g_r))
    x = P.matmul(q, _copyltu(m))
    if g_r is None:
        x = P.add(g_q, x)
    # (X) R⁻ᵀ = (R⁻¹ Xᵀ)ᵀ
    return mT(P.solve(r, mT(x), who="qr (R is singular: A does not have full column rank)"))


defop("qr_q", lambda a: _qr(a)[0], _qr_shape, (lambda g, ans, a: _qr_vjp(g, None, a),), (_qr_q_jvp,))
defop("qr_r", lambda a: _qr(a)[1], lambda s: _qr_shape(s)[:-2] + (s[-1], s[-1]),
      (lambda g, ans, a: _qr_vjp(None, g, a),), (_qr_r_jvp,))


# --- LU with partial pivoting (LAPACK getrf, as torch.linalg.lu): A = P L U, L unit lower (m×k),
# U upper (k×n), k = min(m, n). For square nonsingular A the pivots are locally constant, so with
# dA' = Pᵀ dA and X = L⁻¹ dA' U⁻¹: dL = L strict_lower(X), dU = upper(X) U; the cotangents are
# gA = P L⁻ᵀ strict_lower(Lᵀ gL) U⁻ᵀ and gA = P L⁻ᵀ upper(gU Uᵀ) U⁻ᵀ.

def _getrf(a):
    """LAPACK getrf of each matrix of ``a``: (packed LU, pivots 0-based), both stacked."""
    from scipy.linalg import lapack

    a = np.asarray(a)
    a = a.astype(np.result_type(a, np.float32) if a.dtype.kind != "f" else a.dtype, copy=False)
    m, n = a.shape[-2:]
    packed = np.array(a, copy=True)
    piv = np.zeros(a.shape[:-2] + (min(m, n),), dtype=np.int64)
    if min(m, n) == 0:
        return packed, piv
    getrf = lapack.get_lapack_funcs("getrf", (packed,))
    for i in np.ndindex(a.shape[:-2]):
        lu, p, _ = getrf(packed[i])  # info > 0 (an exact zero pivot, a singular U) is not an error, as in PyTorch
        packed[i], piv[i] = lu, p
    return _nan_where_nan(a, packed), piv  # a NaN pivot leaves its column unscaled: L's numbers would be a's


def _lu_shape(s, part):
    if len(s) < 2:
        raise JacShapeError(f"lu needs a matrix (at least 2 axes), got shape {fmt(s)}")
    m, n = s[-2:]
    if not (is_concrete((m, n)) or m == n):
        raise JacShapeError(f"lu needs the sizes of a non-square matrix, got shape {fmt(s)}")
    k = min(m, n) if is_concrete((m, n)) else m
    return tuple(s[:-2]) + {"L": (m, k), "U": (k, n)}[part]


def _lu_impl(a, part):
    packed, _ = _getrf(a)
    m, n = packed.shape[-2:]
    k = min(m, n)
    if part == "L":
        return np.tril(packed[..., :, :k], -1) + np.eye(m, k, dtype=packed.dtype)
    return np.triu(packed[..., :k, :])


def _pivots_impl(a):
    return _getrf(a)[1] + 1  # 1-based, as LAPACK and torch.linalg.lu_factor


def _pivot_matrix_impl(piv, m, dtype="float64"):
    """P with A = P L U from 1-based getrf pivots: row i was swapped with row piv[i] - 1, in order."""
    piv = np.asarray(piv)
    k = piv.shape[-1]
    if piv.size and (np.any(piv != np.round(piv)) or np.any(piv < 1) or np.any(piv > m)):
        raise JacValueError(f"lu pivots must be integers from 1 to {m} (LAPACK's, as lu_factor gives them)")
    if piv.size and np.any(piv < np.arange(1, k + 1)):  # getrf swaps row i only with a row at or below it
        raise JacValueError("lu pivots must satisfy pivots[i] ≥ i + 1 (1-based), as getrf writes them")
    out = np.zeros(piv.shape[:-1] + (m, m), dtype=dtype)
    for index in np.ndindex(piv.shape[:-1]):
        perm = np.arange(m)
        for i, j in enumerate(piv[index].astype(np.int64) - 1):
            perm[i], perm[j] = perm[j], perm[i]
        out[index][perm, np.arange(m)] = 1  # A' = A[perm] = L U, so A = P L U with P[perm[i], i] = 1
    return out


def _lu_square(a):
    s = shape_of(a)
    if s[-1] != s[-2]:
        raise JacValueError(f"the derivative of lu is supported for square matrices only (got {s[-2]}×{s[-1]}); "
                            "its values are not")
    return P.pivot_matrix(P.lu_pivots(a), m=s[-1], dtype=np.dtype(_dtype_of(a)).name)


_LU_WHY = "lu (U is singular: the LU derivative needs a nonsingular matrix)"


def _lu_x(t, a):
    """X = L⁻¹ Pᵀ dA U⁻¹."""
    p, low, up = _lu_square(a), P.lu(a, part="L"), P.lu(a, part="U")
    y = P.solve(low, P.matmul(mT(p), t), who=_LU_WHY)
    return mT(P.solve(mT(up), mT(y), who=_LU_WHY)), low, up


def _lu_back(m, a):
    """P L⁻ᵀ M U⁻ᵀ."""
    p, low, up = _lu_square(a), P.lu(a, part="L"), P.lu(a, part="U")
    y = P.solve(mT(low), m, who=_LU_WHY)
    return P.matmul(p, mT(P.solve(up, mT(y), who=_LU_WHY)))


def _upper(m):
    n = shape_of(m)[-1]
    return P.mul(m, np.triu(np.ones((n, n), dtype=_dtype_of(m))))


def _lu_jvp(t, ans, a, part):
    x, low, up = _lu_x(t, a)
    return P.matmul(low, _strict_lower(x)) if part == "L" else P.matmul(_upper(x), up)


def _lu_vjp(g, ans, a, part):
    if part == "L":
        return _lu_back(_strict_lower(P.matmul(mT(ans), g)), a)
    return _lu_back(_upper(P.matmul(g, mT(ans))), a)


defop("lu", _lu_impl, _lu_shape, (_lu_vjp,), (_lu_jvp,), domain=(-1.0, 1.0))
defop("lu_pivots", _pivots_impl, lambda s: _lu_shape(s, "U")[:-1], nondiff=True)
defop("pivot_matrix", _pivot_matrix_impl, lambda s, m, dtype="float64": tuple(s[:-1]) + (m, m), nondiff=True)


def _logabsdet_impl(a):
    a = np.asarray(a)
    return np.linalg.slogdet(a)[1] if a.shape[-1] else np.zeros(a.shape[:-2], dtype=a.dtype)


def _inv_for(a, who):
    return P.solve(a, np.broadcast_to(np.eye(shape_of(a)[-1], dtype=_dtype_of(a)), tuple(shape_of(a))), who=who)


# d log|det A| = tr(A⁻¹ dA): the cotangent g A⁻ᵀ
_LOGDET_WHY = ("the derivative of log|det A| (A⁻ᵀ, which does not exist where det A = 0 and log|det A| = -inf; "
               "det(A) has one there)")
defop("logabsdet", _logabsdet_impl, lambda s: _square_shape("logabsdet", s)[:-2],
      (lambda g, ans, a: P.mul(P.reshape(g, shape=tuple(shape_of(g)) + (1, 1)),
                               mT(nonsingular(_inv_for(a, _LOGDET_WHY), a, "slogdet / logdet"))),),
      (lambda t, ans, a: P.trace(P.matmul(nonsingular(_inv_for(a, _LOGDET_WHY), a, "slogdet / logdet"), t)),),
      sympy=lambda S, a: S.per_matrix(a, lambda m: S.sp.log(S.sp.Abs(m.det())), "logabsdet") if S.components(a) else
          S.sp.log(S.sp.Abs(S.sp.Determinant(a.expr))))
def _detsign_impl(a, undefined=np.nan):
    """The sign of det A; ``undefined`` where A holds NaN (its determinant is NaN): NaN as JAX, 0 as
    PyTorch's slogdet (``undefined=0.0``). NumPy's is LAPACK's ±1 of the pivots it met."""
    a = np.asarray(a)
    sign = np.asarray(np.linalg.slogdet(a)[0])
    holds_nan = np.isnan(a).any(axis=(-2, -1)) if a.size else np.zeros(sign.shape, dtype=bool)
    return np.where(holds_nan, sign.dtype.type(undefined), sign) if holds_nan.any() else sign


defop("detsign", _detsign_impl, lambda s, undefined=np.nan: _square_shape("slogdet", s)[:-2], nondiff=True,
      sympy=lambda S, a, undefined=np.nan: (S.per_matrix(a, lambda m: S.sp.sign(m.det()), "the sign of det")
                                            if S.components(a) else S.sp.sign(S.sp.Determinant(a.expr))))


def _expm(a):
    """exp(A) by scaling and squaring a Taylor series: |A / 2^s| ≤ 1/2, 24 terms (error below 1e-30)."""
    a = np.asarray(a, dtype=np.result_type(a, np.float32))
    n = a.shape[-1]
    norm = float(np.max(np.sum(np.abs(a), axis=-2), initial=0.0)) if a.size else 0.0
    if not np.isfinite(norm):
        return np.full(a.shape, np.nan, dtype=a.dtype)
    s = max(0, int(np.ceil(np.log2(norm))) + 1) if norm > 0 else 0
    x = np.ldexp(a, -s)  # a / 2^s, the same bits, and no OverflowError of 2.0**s past s = 1023 (a norm near 1e308)
    term = np.broadcast_to(np.eye(n, dtype=a.dtype), a.shape).copy()
    out = term.copy()
    for k in range(1, 25):  # in place where the same bits come out: a batch of them holds 4 arrays, not 6
        term = np.matmul(term, x)
        term /= k
        out += term
    for _ in range(s):
        out = out @ out
    return out


def _expm_frechet(a, e):
    """d exp(A)[E]: the top-right block of exp([[A, E], [0, A]]) (batched E, unbatched A)."""
    se, sa = tuple(shape_of(e)), tuple(shape_of(a))  # a carries a length-1 batch axis
    n = se[-1]
    lead = (slice(None),) * (len(se) - 2)
    # A's two blocks at A's own size (the sum broadcasts them over the batch): made at the batch's size they
    # were three arrays of (B, 2n, 2n) that no dry run counts (memory39_probe: 30 MiB in a plan of a 4 MiB budget)
    small = sa[:-2] + (2 * n, 2 * n)
    blocks = [P.scatter(a, index=lead + (slice(0, n), slice(0, n)), shape=small),
              P.scatter(a, index=lead + (slice(n, 2 * n), slice(n, 2 * n)), shape=small),
              P.scatter(e, index=lead + (slice(0, n), slice(n, 2 * n)), shape=se[:-2] + (2 * n, 2 * n))]
    return P.getitem(P.matrix_exp(P.add(P.add(blocks[0], blocks[1]), blocks[2])),
                     index=lead + (slice(0, n), slice(n, 2 * n)))


def _lifted(a):
    """``a`` (unbatched) with a length-1 batch axis in front, to meet a batched tangent."""
    return P.reshape(a, shape=(1,) + tuple(shape_of(a)))


defop("matrix_exp", _expm, lambda s: _square_shape("matrix_exp", s),
      (lambda g, ans, a: _expm_frechet(mT(_lifted(a)), g),),  # gA = dexp_{Aᵀ}[G]
      (lambda t, ans, a: _expm_frechet(_lifted(a), t),),
      domain=(-0.5, 0.5), scratch=lambda args, out: 3 * args)  # x, term and the next term beside the result


# --- PART reductions: statistics, cumulative ops, selections, norms, losses (issue 13) -------
# Selections (sort, topk, max along a dim, median) are a nondiff index op (argsort, argmax,
# argmedian) and a gather by it (take_along), whose VJP is the scatter put_along. Index
# results are int64 arrays, never differentiated.

def _held_index(impl):
    """An index op's ``impl`` whose int64 result is held in its float arguments' dtype when that is
    narrower than float64 (--dtype float32): an int64 array beside a float32 one would make NumPy
    compute in float64 where PyTorch (and jac, in --dtype) stays in float32. Every index is exact
    below 2**24; a larger one is refused rather than rounded. Float64 keeps int64 (the same numbers)."""
    def held(*args, **params):
        out = impl(*args, **params)
        floats = [a.dtype for a in args if isinstance(a, (np.ndarray, np.generic)) and a.dtype.kind == "f"]
        dtype = np.result_type(*floats) if floats else None
        if dtype is None or dtype.itemsize >= 8:
            return out
        big = 2 ** (np.finfo(dtype).nmant + 1)
        if out.size and int(np.max(np.abs(out))) >= big:
            raise JacValueError(f"an index of {int(np.max(np.abs(out)))} is beyond 2**{np.finfo(dtype).nmant + 1}, "
                                f"which {dtype} cannot hold exactly: jac holds every value in --dtype, so it refuses "
                                "rather than round (use --dtype float64)")
        return out.astype(dtype)
    held.__doc__ = impl.__doc__
    return held


def _arg_shape(s, axis=None, keepdims=False, **_):
    axes = tuple(range(len(s))) if axis is None else (axis,)
    if any(s[a] == 0 for a in axes):
        raise JacShapeError(f"an index of an empty array (shape {fmt(s)}) does not exist")
    if axis is None:
        return (1,) * len(s) if keepdims else ()
    return reduce_shape(s, (axis,), keepdims)


def _argmax_impl(a, axis=None, keepdims=False):
    return np.argmax(a, axis=axis, keepdims=keepdims).astype(np.int64)  # NaN is the maximum, first wins


def _argmin_impl(a, axis=None, keepdims=False):
    return np.argmin(a, axis=axis, keepdims=keepdims).astype(np.int64)


SQUARE_SAFE = 2.0 ** 50  # a mean of squares of values up to this fits float32 (3.4e38) for any count under 2**28


def _square_scale_impl(x, axes):
    x = np.asarray(x)
    top = np.max(np.abs(x), axis=axes, keepdims=True, initial=0.0)
    # an infinite top is no scale (x / inf is NaN at the infinities and 0 elsewhere, and the norm NaN): 1, PyTorch's
    # own arithmetic, whose rms_norm of [0, inf, 1.5] is [0, NaN, 0] (session 41: jac's was NaN throughout)
    return np.where((top > SQUARE_SAFE) & (top < np.inf), top, 1.0).astype(x.dtype, copy=False)


def _square_scale_sympy(S, a, axes):  # the formulas are invariant under the scale: written with s = 1
    return S.explicit(lambda e: np.ones(reduce_shape(e.shape, axes, True), dtype=object), a)


# square_scale(x, axes): max |x| over axes (kept as axes of size 1) where it passes 2**50 and is finite, else exactly 1; a
# constant (no derivative) that the norm layers divide by before they square (lang/functions._square_scale)
defop("square_scale", _square_scale_impl, lambda s, axes: reduce_shape(s, axes, True), nondiff=True,
      sympy=_square_scale_sympy)
defop("argmax", _held_index(_argmax_impl), _arg_shape, nondiff=True)
defop("argmin", _held_index(_argmin_impl), _arg_shape, nondiff=True)


# torch.sort / argsort without stable=True keep equal elements in their order on CPU along an axis of up to 16
# elements (PyTorch 2.13; insertion sort), not beyond, where the order of ties is unspecified
TORCH_STABLE_UP_TO = 16


def _argsort_impl(a, axis, descending=False, k=None, kind="stable"):
    # Stable; NaN sorts as the largest (last ascending, first descending). Descending: a stable ascending
    # sort of the reversed line, read backwards, keeps equal elements in their original order. ``k``: only
    # the first k (topk). ``kind``: NumPy's np.argsort(x) orders ties as its default quicksort does (SIMD
    # sorts: not their order); "torch", PyTorch's sort without stable=True: the stable order, refused where
    # an axis longer than TORCH_STABLE_UP_TO holds equal elements (PyTorch's order of them is unspecified).
    a = np.asarray(a)
    if not descending:
        out = np.argsort(a, axis=axis, kind="stable" if kind.startswith("torch") else kind)
    else:
        n = a.shape[axis]
        out = n - 1 - np.flip(np.argsort(np.flip(a, axis), axis=axis, kind="stable"), axis)
    if kind == "torch" and a.shape[axis] > TORCH_STABLE_UP_TO:
        _refuse_unordered_ties(a, out, axis, 0, a.shape[axis] - 1, _SORT_TIES)
    elif kind == "torch-topk" and k:  # a tie within the first k or at the k-th: which ones, and in which order
        _refuse_unordered_ties(a, out, axis, 0, min(k, a.shape[axis] - 1), _TOPK_TIES)
    elif kind == "torch-kth" and k:  # a tie at the k-th: which one's index
        _refuse_unordered_ties(a, out, axis, max(k - 2, 0), min(k, a.shape[axis] - 1), _KTH_TIES)
    if k is not None:
        out = np.take(out, np.arange(k), axis=axis)
    return out.astype(np.int64)


_SORT_TIES = ("sort / argsort without stable=True of equal elements ({value!r}) along an axis of {n}: PyTorch's order "
              "of equal elements is unspecified then (its CPU sort keeps them in order up to "
              f"{TORCH_STABLE_UP_TO} elements, not beyond), so the indices and where the derivative goes would not be "
              "PyTorch's; pass stable=True, the order jac computes")
_TOPK_TIES = ("topk of equal elements ({value!r}) among the k selected or at the k-th: PyTorch's choice and order of "
              "equal elements is unspecified, so the indices and where the derivative goes would not be PyTorch's; "
              "torch.sort(x, descending=True, stable=True) and a slice [..., :k] give the first of them")
_KTH_TIES = ("kthvalue of an element equal to its neighbour in the sort ({value!r}): PyTorch's choice among equal "
             "elements is unspecified, so the index and where the derivative goes would not be PyTorch's; "
             "torch.sort(x, stable=True) and an index [..., k - 1] give the first of them")


def _refuse_unordered_ties(a, order, axis, lo: int, hi: int, message: str) -> None:
    """Refuse equal neighbours (NaN equal to NaN) at sorted positions i, i + 1 for lo <= i < hi along ``axis`` of
    ``a`` sorted by ``order``: where PyTorch's order of equal elements is unspecified."""
    if hi <= lo:
        return
    line = np.take_along_axis(a, order, axis)
    left, right = np.take(line, np.arange(lo, hi), axis=axis), np.take(line, np.arange(lo + 1, hi + 1), axis=axis)
    tied = (left == right) | (np.isnan(left) & np.isnan(right))
    if tied.any():
        raise JacValueError(message.format(value=float(left[tied][0]), n=a.shape[axis]))


def _argsort_shape(s, axis, descending=False, k=None, kind="stable"):
    if k is None:
        return s
    if isinstance(s[axis], int) and not 0 <= k <= s[axis]:
        raise JacShapeError(f"topk: k = {k} is out of range for {s[axis]} elements")
    return tuple(s[:axis]) + (k,) + tuple(s[axis + 1:])


defop("argsort", _held_index(_argsort_impl), _argsort_shape, nondiff=True)


def _argmedian_impl(a, axis, upper=False, skip_nan=False):
    """The index (kept axis) of the lower (``upper``: upper) median along ``axis``: the element
    at position (n-1)//2 (n//2) of the stable sort; a line holding NaN gives its first NaN. With
    ``skip_nan`` (nanmedian) the NaN are left out: n counts the others (the stable sort puts NaN
    last), and only a line of NaN alone gives its first NaN."""
    a = np.asarray(a)
    n = a.shape[axis]
    order = np.argsort(a, axis=axis, kind="stable")
    nan = np.isnan(a)
    first_nan = np.argmax(nan, axis=axis, keepdims=True)
    if skip_nan:
        count = n - np.sum(nan, axis=axis, keepdims=True)
        at = np.maximum(count // 2 if upper else (count - 1) // 2, 0)
        pick = np.take_along_axis(order, at, axis=axis)
        return np.where(count == 0, first_nan, pick).astype(np.int64)
    pick = np.take(order, [n // 2 if upper else (n - 1) // 2], axis=axis)
    return np.where(np.any(nan, axis=axis, keepdims=True), first_nan, pick).astype(np.int64)


def _argmedian_shape(s, axis, upper=False, skip_nan=False):
    if s[axis] == 0:
        raise JacShapeError(f"the median of an empty array (shape {fmt(s)}) has no value")
    return reduce_shape(s, (axis,), True)


defop("argmedian", _held_index(_argmedian_impl), _argmedian_shape, nondiff=True)


def _argquantile_impl(a, axis, q, rank):
    """Where the order statistic of rank floor / ceil / round-half-even of q·(k - 1) is in ``a`` along
    ``axis`` (kept), k the number of elements that are not NaN (NaN sorts last, so a line of NaN alone
    gives its first NaN): the index nanquantile reads, as PyTorch and NumPy place it. ``rank`` "next" is
    NumPy's next element, floor + 1 (the last one, k - 1, from there on); "half_down" JAX's nearest, the
    floor where the fraction is at most 1/2."""
    a = np.asarray(a)
    order = np.argsort(a, axis=axis, kind="stable")
    k = a.shape[axis] - np.sum(np.isnan(a), axis=axis, keepdims=True)
    pos = np.maximum(q * (k - 1.0), 0.0)
    if rank == "next":
        at = np.minimum(np.floor(pos) + 1.0, np.maximum(k - 1.0, 0.0))
    elif rank == "half_down":
        at = np.where(pos - np.floor(pos) <= 0.5, np.floor(pos), np.ceil(pos))
    else:
        at = {"lower": np.floor, "higher": np.ceil, "nearest": np.round}[rank](pos)
    return np.take_along_axis(order, np.minimum(at, a.shape[axis] - 1).astype(np.int64), axis=axis)


def _order_shape(what):
    def shape(s, axis, **_):
        if s[axis] == 0:
            raise JacShapeError(f"the {what} of an empty array (shape {fmt(s)}) has no value")
        return reduce_shape(s, (axis,), True)
    return shape


defop("argquantile", _held_index(_argquantile_impl), _order_shape("quantile"), nondiff=True)


def _argmode_impl(a, axis):
    """torch.mode's index: the last occurrence of the smallest of the most frequent values along ``axis``
    (kept); NaN refused (PyTorch's answer then follows its sort, NaN being equal to nothing), and a mode occurring
    more than once along an axis longer than TORCH_STABLE_UP_TO (which occurrence follows PyTorch's sort)."""
    a = np.asarray(a)
    if np.any(np.isnan(a)):
        raise JacValueError("torch.mode of an array holding NaN is not supported: NaN equals no value, and "
                            "PyTorch's answer then depends on the order its sort leaves")
    lines = np.moveaxis(a, axis, -1)
    out = np.zeros(lines.shape[:-1], dtype=np.int64)
    for i in np.ndindex(lines.shape[:-1]):
        order = np.argsort(lines[i], kind="stable")
        s = lines[i][order]
        run = np.cumsum(np.concatenate([[True], s[1:] != s[:-1]])) - 1
        counts = np.bincount(run)
        best = np.argmax(counts)  # the first of the longest runs: the smallest value
        if counts[best] > 1 and s.size > TORCH_STABLE_UP_TO:
            raise JacValueError(f"torch.mode along an axis of {s.size} whose mode ({float(s[run == best][0])!r}) occurs "
                                f"{counts[best]} times: PyTorch's index of it follows its sort, whose order of equal "
                                f"elements is unspecified beyond {TORCH_STABLE_UP_TO} elements, so the index and where "
                                "the derivative goes would not be PyTorch's")
        out[i] = order[run == best].max()
    return np.expand_dims(out, axis)


defop("argmode", _held_index(_argmode_impl), _order_shape("mode"), nondiff=True)


# scatter_extreme: x with src.flat[sources[i]] reduced by max (min) into flat position targets[i] (without
# x's own element where include is False: there the first value starts); NaN wins, as PyTorch's amax/amin.
# PyTorch's derivative, exactly: the cotangent at a position is split evenly among every element equal to
# the result there, x's own counted even when not included: N = [x == y] + Σ [src_i == y], then
# gx = [x == y] g / N (0 where values went when x is not included) and gsrc_i = [src_i == y] g / N at its
# target (0/0 = NaN where a NaN took part).

def _scatter_extreme_impl(x, src, targets, sources, minimum=False, include=True):
    x = np.asarray(x)
    out = x.astype(np.result_type(x, src, np.float32)).reshape(-1)
    if not include:
        out[targets] = np.inf if minimum else -np.inf
    (np.minimum if minimum else np.maximum).at(out, targets, np.asarray(src).reshape(-1)[sources])
    return out.reshape(x.shape)


def _extreme_shares(ans, x, src, targets, sources):
    """([x == y], [src_i == y at its target] per i, N) of scatter_extreme's result y."""
    n, ns = shape_size(shape_of(x)), shape_size(shape_of(src))
    at_target = P.getitem(P.reshape(ans, shape=(n,)), index=(targets,))
    kept_src = P.eq(P.getitem(P.reshape(src, shape=(ns,)), index=(sources,)), at_target)
    kept_x = P.eq(x, ans)
    count = P.add(kept_x, P.reshape(P.scatter(kept_src, index=(targets,), shape=(n,)), shape=tuple(shape_of(x))))
    return kept_x, kept_src, count


def _scatter_extreme_vjp_src(g, ans, x, src, targets, sources, minimum=False, include=True):
    _, kept_src, count = _extreme_shares(ans, x, src, targets, sources)
    k, n, ns = batch_size(g), shape_size(shape_of(x)), shape_size(shape_of(src))
    share = P.getitem(P.reshape(P.div(g, count), shape=(k, n)), index=(slice(None), targets))
    placed = P.scatter(P.mul(kept_src, share), index=(slice(None), sources), shape=(k, ns))
    return P.reshape(placed, shape=(k,) + tuple(shape_of(src)))


def _scatter_extreme_jvp_src(t, ans, x, src, targets, sources, minimum=False, include=True):
    _, kept_src, count = _extreme_shares(ans, x, src, targets, sources)
    k, n, ns = batch_size(t), shape_size(shape_of(x)), shape_size(shape_of(src))
    picked = P.mul(P.getitem(P.reshape(t, shape=(k, ns)), index=(slice(None), sources)), kept_src)
    summed = P.reshape(P.scatter(picked, index=(slice(None), targets), shape=(k, n)), shape=(k,) + tuple(shape_of(x)))
    return P.div(summed, count)


def _scatter_extreme_x(g, ans, x, src, targets, sources, minimum=False, include=True):
    kept_x, _, count = _extreme_shares(ans, x, src, targets, sources)
    out = P.mul(P.div(g, count), kept_x)
    if include:
        return out
    untouched = np.ones(shape_size(shape_of(x)), dtype=_dtype_of(x))  # PyTorch then writes 0 as x's share
    untouched[targets] = 0  # where values went (though N counted it): 0, never NaN
    return P.where(untouched.reshape(tuple(shape_of(x))), out, 0.0)


defop("scatter_extreme", _scatter_extreme_impl, lambda sx, ss, targets, sources, minimum=False, include=True: sx,
      (_scatter_extreme_x, _scatter_extreme_vjp_src), (_scatter_extreme_x, _scatter_extreme_jvp_src))


# --- search and bins: integer results of the values, so no derivative (PyTorch's are not differentiable)

def _torch_search(s, v, right):
    """PyTorch's binary search (aten's cus_lower_bound / cus_upper_bound), all values at once: the
    same midpoints and comparisons, so an unsorted sequence or a NaN gives PyTorch's very answer."""
    s, v = np.asarray(s), np.asarray(v)
    n = s.shape[-1]
    if n == 0 or v.size == 0:  # nothing to search (every value's place is 0), or no value: reshape(-1, 0) is ambiguous
        return np.zeros(v.shape, dtype=np.int64)
    rows, vals = (s.reshape(1, n), v.reshape(1, -1)) if s.ndim == 1 else (s.reshape(-1, n), v.reshape(-1, v.shape[-1]))
    start = np.zeros(vals.shape, dtype=np.int64)
    end = np.full(vals.shape, n, dtype=np.int64)
    while np.any(start < end):
        active = start < end
        mid = start + (end - start) // 2
        at = np.take_along_axis(rows, np.minimum(mid, max(n - 1, 0)), axis=1) if n else np.zeros(vals.shape)
        with np.errstate(invalid="ignore"):
            onward = ~(at > vals) if right else ~(at >= vals)
        start = np.where(active & onward, mid + 1, start)
        end = np.where(active & ~onward, mid, end)
    return start.reshape(v.shape)


def _searchsorted_impl(s, v, right=False, library="torch"):
    if library == "torch":
        return _torch_search(s, v, right)
    return np.searchsorted(np.asarray(s), v, side="right" if right else "left").astype(np.int64)


def _searchsorted_shape(ss, sv, right=False, library="torch"):
    if len(ss) == 0:
        raise JacShapeError("searchsorted: the sorted sequence must have at least one axis, got a scalar")
    if len(ss) > 1 and (library != "torch" or tuple(ss[:-1]) != tuple(sv[:-1])):
        raise JacShapeError(f"searchsorted: a sorted sequence of shape {fmt(ss)} needs values whose leading axes "
                            f"are {fmt(tuple(ss[:-1]))}, got shape {fmt(sv)}" if library == "torch" else
                            f"np.searchsorted needs a 1-d array, got shape {fmt(ss)}")
    return tuple(sv)


defop("searchsorted", _held_index(_searchsorted_impl), _searchsorted_shape, nondiff=True)


def _digitize_impl(x, bins, right=False):
    try:
        return np.digitize(x, bins, right=right).astype(np.int64)
    except ValueError:
        raise JacValueError("np.digitize: bins must be monotonically increasing or decreasing") from None


defop("digitize", _held_index(_digitize_impl), lambda sx, sb, right=False: tuple(sx), nondiff=True)


def _histc_impl(x, bins, lo, hi):
    """torch.histc: ``bins`` equal bins over [lo, hi] (the data's range when lo == hi, widened by 1 each
    side if still equal); an element outside, or NaN, is not counted; pos = (x - lo) · bins / (hi - lo)
    truncated, the last bin closed, as aten's linear histogram."""
    x = np.asarray(x)
    flat = x.reshape(-1)
    if lo == hi and flat.size:
        lo, hi = flat.min(), flat.max()
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise JacValueError(f"torch.histc: range of [{lo}, {hi}] is not finite")
    if lo > hi:
        raise JacValueError("torch.histc: max must be larger than min")
    lo, hi = np.asarray(lo, dtype=x.dtype), np.asarray(hi, dtype=x.dtype)
    with np.errstate(invalid="ignore"):
        keep = (flat >= lo) & (flat <= hi)
    pos = ((flat[keep] - lo) * np.asarray(bins, dtype=x.dtype) / (hi - lo)).astype(np.int64)
    pos[pos == bins] = bins - 1
    return np.bincount(pos, minlength=bins).astype(x.dtype if x.dtype.kind == "f" else np.float64)


defop("histc", _histc_impl, lambda s, bins, lo, hi: (bins,), nondiff=True)


def _argcum_impl(a, axis, minimum=False):
    """For each position along ``axis``, the index of the running maximum (``minimum``: minimum):
    the latest of equal elements wins and so does every NaN (a NaN takes over from whatever came before,
    a number never from a NaN), as torch.cummax / cummin: [1, nan, 3, nan] gives indices [0, 1, 1, 3]."""
    a = np.moveaxis(np.asarray(a), axis, 0)
    out = np.zeros(a.shape, dtype=np.int64)
    if a.shape[0] == 0:
        return np.moveaxis(out, 0, axis)
    best, idx = a[0].copy(), np.zeros(a.shape[1:], dtype=np.int64)
    for i in range(1, a.shape[0]):
        v = a[i]
        with np.errstate(invalid="ignore"):
            better = (v <= best) if minimum else (v >= best)
        take = np.isnan(v) | better  # better is False beside a NaN best
        best, idx = np.where(take, v, best), np.where(take, i, idx)
        out[i] = idx
    return np.moveaxis(out, 0, axis)


defop("argcum", _held_index(_argcum_impl), lambda s, axis, minimum=False: s, nondiff=True)


def _full_index(idx, ndim: int):
    """An index array for an array of ``ndim`` axes: a missing leading (batch) axis is added."""
    idx = np.asarray(idx)
    idx = idx.astype(np.intp) if idx.dtype.kind == "f" else idx  # integers held as floats (an input)
    return idx.reshape((1,) * (ndim - idx.ndim) + idx.shape)


def _along_shape(s, idx, axis):
    """The shape of ``take_along(a, idx, axis)``: ``a``'s, with the axis as long as ``idx``'s."""
    idx = (1,) * (len(s) - len(idx)) + tuple(idx)
    if len(idx) != len(s):
        raise JacShapeError(f"an index of shape {fmt(idx)} does not fit shape {fmt(s)}")
    rest = broadcast(tuple(d for i, d in enumerate(s) if i != axis), tuple(d for i, d in enumerate(idx) if i != axis))
    return rest[:axis] + (idx[axis],) + rest[axis:]


def _take_along_impl(a, idx, axis):
    a = np.asarray(a)
    return np.take_along_axis(a, _full_index(idx, a.ndim), axis=axis)


def _put_along_impl(g, idx, axis, shape):
    """Zeros of ``shape`` with ``g`` added where ``idx`` points along ``axis`` (repeats add up)."""
    g = np.asarray(g)
    out = np.zeros(shape, dtype=np.result_type(g, np.float32))
    idx = _full_index(idx, g.ndim)
    grid = list(np.ogrid[tuple(slice(0, d) for d in g.shape)])
    grid[axis] = idx
    np.add.at(out, tuple(np.broadcast_arrays(*grid)), g)
    return out


def _take_along_vjp(g, ans, a, idx, axis):
    return P.put_along(g, idx, axis=axis + 1, shape=(batch_size(g),) + tuple(shape_of(a)))


def _put_along_vjp(g, ans, a, idx, axis, shape):
    return P.take_along(g, idx, axis=axis + 1)


defop("take_along", _take_along_impl, _along_shape,
      (_take_along_vjp, None), (lambda t, ans, a, idx, axis: P.take_along(t, idx, axis=axis + 1), None),
      structure=structured.take_along_rule)
defop("put_along", _put_along_impl, lambda s, idx, axis, shape: tuple(shape),
      (_put_along_vjp, None),
      (lambda t, ans, a, idx, axis, shape: P.put_along(t, idx, axis=axis + 1, shape=(batch_size(t),) + tuple(shape)),
       None),
      structure=structured.put_along_rule)


# take_shared: take_along of one element along ``axis`` (``idx`` of length 1 there: a selection, the median's),
# its derivative shared evenly among the elements equal to it (all the NaN ones where it is NaN), as torch.max(x)'s:
# PyTorch's evenly_distribute_backward, the derivative of torch.median(x) and torch.nanmedian(x) without a dim,
# which pick one element for the value and share the derivative among its ties (it went to the one picked).
def _shares(ans, a, axis):
    m = P.where(P.isnan(ans), P.isnan(a), P.eq(a, ans))
    return P.div(m, P.sum(m, axes=(axis,), keepdims=True))


def _take_shared_shape(s, idx, axis):
    if idx[axis] != 1:
        raise JacShapeError(f"take_shared takes one element along axis {axis}, not {idx[axis]}")
    return _along_shape(s, idx, axis)


def _take_shared_vjp(g, ans, a, idx, axis):
    m = _shares(ans, a, axis)
    return masked(g, m, m)


def _take_shared_jvp(t, ans, a, idx, axis):
    m = _shares(ans, a, axis)
    return P.sum(masked(t, m, m), axes=(axis + 1,), keepdims=True)


defop("take_shared", _take_along_impl, _take_shared_shape, (_take_shared_vjp, None), (_take_shared_jvp, None))


# cumsum along ``axis``; ``reverse``: from the end (the VJP of a cumsum is the reversed one).
def _cumsum_impl(a, axis, reverse=False):
    if not reverse:
        return np.cumsum(a, axis=axis)
    return np.flip(np.cumsum(np.flip(a, axis), axis=axis), axis)


defop("cumsum", _cumsum_impl, lambda s, axis, reverse=False: s,
      (lambda g, ans, a, axis, reverse=False: P.cumsum(g, axis=axis + 1, reverse=not reverse),),
      (lambda t, ans, a, axis, reverse=False: P.cumsum(t, axis=axis + 1, reverse=reverse),),
      sympy=lambda S, a, axis, reverse=False: S.explicit(_cumsum_impl, a, axis=axis, reverse=reverse),
      exact_int=True)


# linrec: the first-order linear recurrence along ``axis`` (counted from the end, so that a
# batched tangent keeps it): z_i = a_i z_(i-1) + b_i (z_-1 = 0), or with ``reverse``
# z_i = a_(i+1) z_(i+1) + b_i (z_n = 0), the transposed map. cumprod's derivatives are
# recurrences, which keeps them exact when elements are 0 (no division) and O(n).
def _linrec_impl(a, b, axis, reverse=False):
    dtype = np.result_type(a, b)
    plain = dtype == object or np.isfinite(a).all()  # a's own elements: its broadcast holds no others
    a, b = np.broadcast_arrays(a, b)
    a, b = np.moveaxis(a, axis, 0), np.moveaxis(b, axis, 0)
    out = np.empty(b.shape, dtype=dtype)
    order = range(b.shape[0] - 1, -1, -1) if reverse else range(b.shape[0])
    if not order:
        return np.moveaxis(out, 0, axis)
    out[order[0]] = b[order[0]]
    if out.size // len(out) >= _WIDE:  # many lanes (a Jacobian's basis): a * z + b made in z's row, no temporaries
        _linrec_rows(a, b, out, order, reverse, plain)
    else:  # plain: a · 0 is 0 where a is finite (symbolic forms too); else, per lane, before a b_j != 0 has come
        started = None if plain else b[order[0]] != 0  # z is an exact zero, never a · 0 (NaN at a = NaN)
        for i in order[1:]:
            z = (a[i + 1] * out[i + 1] if reverse else a[i] * out[i - 1]) + b[i]
            out[i] = z if started is None else np.where(started, z, b[i])
            if started is not None:
                started = started | (b[i] != 0)
    return np.moveaxis(out, 0, axis)


# From this many lanes a linrec step writes into its row (ufuncs with out=): the same two roundings and
# the same bits, NaN signs included, as ``a * z + b`` (compared over 12,000 random cases with 0, ±inf and
# NaN, broadcast operands too; a row of one element took another NumPy loop, whose NaN sign differed, and
# rows of a few elements were slower so), 1.2-1.7 x faster at 1000 lanes.
_WIDE = 16


def _linrec_rows(a, b, out, order, reverse: bool, plain: bool) -> None:
    waiting = None if plain else b[order[0]] == 0  # the masked loop's lanes before their first b_j != 0
    for i in order[1:]:
        row = out[i]
        np.multiply(a[i + 1], out[i + 1], out=row) if reverse else np.multiply(a[i], out[i - 1], out=row)
        np.add(row, b[i], out=row)
        if waiting is not None:
            np.copyto(row, b[i], where=waiting)
            waiting &= b[i] == 0


def _shift(z, axis, toward_end: bool):
    """z moved one place along ``axis`` (from the end), a zero coming in:
    toward_end: out_i = z_(i-1); else out_i = z_(i+1)."""
    s = shape_of(z)
    lead = (slice(None),) * (len(s) + axis)
    src, dst = (slice(None, -1), slice(1, None)) if toward_end else (slice(1, None), slice(None, -1))
    return P.scatter(P.getitem(z, index=lead + (src,)), index=lead + (dst,), shape=tuple(s))


def _linrec_vjp_a(g, ans, a, b, axis, reverse=False):
    if not reverse:  # d z = F(a, da * prev(z)): the cotangent is prev(z) * R(a, g)
        return unbroadcast(P.mul(_shift(ans, axis, True), P.linrec(a, g, axis=axis, reverse=True)), shape_of(a))
    # d z = R(a, next(da * z)): the cotangent is z * prev(F(a, g))
    return unbroadcast(P.mul(ans, _shift(P.linrec(a, g, axis=axis), axis, True)), shape_of(a))


def _linrec_jvp_a(t, ans, a, b, axis, reverse=False):
    t = lift(t, len(shape_of(ans)))
    if not reverse:
        return P.linrec(a, P.mul(t, _shift(ans, axis, True)), axis=axis)
    return P.linrec(a, _shift(P.mul(t, ans), axis, False), axis=axis, reverse=True)


defop("linrec", _linrec_impl, lambda sa, sb, axis, reverse=False: broadcast(sa, sb),
      (_linrec_vjp_a,
       lambda g, ans, a, b, axis, reverse=False: unbroadcast(P.linrec(a, g, axis=axis, reverse=not reverse), shape_of(b))),
      (_linrec_jvp_a,
       lambda t, ans, a, b, axis, reverse=False: P.linrec(a, lift(t, len(shape_of(ans))), axis=axis, reverse=reverse)),
      sympy=lambda S, a, b, axis, reverse=False: S.explicit(_linrec_impl, S.recurrence(a, b, axis), b, axis=axis,
                                                            reverse=reverse))


def _exclusive_cumprod(ans, a, axis):
    """prod_(k<i) a_k along ``axis`` (1 first): the running product before each element."""
    s = shape_of(a)
    first = np.zeros(s, dtype=_dtype_of(a))
    first[(slice(None),) * axis + (slice(0, 1),)] = 1
    return P.add(_shift(ans, axis - len(s), True), first)


# splice: ``x`` at positions before ``k`` along ``axis`` (counted from the end, so that a batched cotangent keeps
# it), ``y`` from ``k`` on; ``k`` (whole numbers) broadcasts against them with that axis of length 1. The mask is
# made here from ``k``: a kernel keeps ``k``, not the mask (cumprod's reverse rule on a Jacobian's basis: n × n,
# past the kernel's constant limit).
def _splice_impl(x, y, k, axis):
    x, y = (v if type(v) is float else np.asarray(v) for v in (x, y))  # a Python 0.0 keeps the other's dtype
    n = np.broadcast_shapes(np.shape(x), np.shape(y))[axis]
    place = np.arange(n).reshape((-1,) + (1,) * (-axis - 1))
    return np.where(place < k, x, y)


defop("splice", _splice_impl, lambda sx, sy, sk, axis: broadcast(broadcast(sx, sy), sk),
      (lambda g, ans, x, y, k, axis: unbroadcast(P.splice(g, 0.0, k, axis=axis), shape_of(x)),
       lambda g, ans, x, y, k, axis: unbroadcast(P.splice(0.0, g, k, axis=axis), shape_of(y)), None),
      (lambda t, ans, x, y, k, axis: P.splice(lift(t, len(shape_of(ans))), 0.0, k, axis=axis),
       lambda t, ans, x, y, k, axis: P.splice(0.0, lift(t, len(shape_of(ans))), k, axis=axis), None),
      sympy=lambda S, x, y, k, axis: S.explicit(lambda x, y, k: np.vectorize(
          lambda u, v, j, bound: S.sp.Piecewise((u, S.sp.Lt(j, bound)), (v, True)), otypes=[object])(
          x, y, np.arange(np.broadcast_shapes(x.shape, y.shape)[axis]).reshape((-1,) + (1,) * (-axis - 1)), k),
          x, y, k))


def _cumprod_vjp(g, ans, a, axis):
    # where no cotangent at or after j is nonzero the entry is an exact 0 (y_i does not depend on a_j for
    # j > i), not the exclusive product (NaN past a NaN) times the recurrence's 0
    s = shape_of(a)
    excl, rec = _exclusive_cumprod(ans, a, axis), P.linrec(a, g, axis=axis - len(s), reverse=True)
    entries = P.mul(excl, rec)
    if s[axis] == 0:  # no entry to mask (and no maximum of an empty axis)
        return entries
    place = np.arange(1.0, s[axis] + 1).reshape((-1,) + (1,) * (len(s) - axis - 1))  # j + 1 along the axis
    last = P.max(P.mul(P.ne(g, 0.0), place), axes=(axis + 1,), keepdims=True)  # 1 + the last nonzero's j, or 0
    # Past the last nonzero the recurrence is an exact 0 and the entry is the exclusive product (0 where it is
    # not finite) times it, made +0: not a constant 0, since where the cotangent depends on the input (a traced
    # VJP: a Hessian, a second derivative or jax.vjp's pullback in the text) the entry's derivative there is the
    # exclusive product times the recurrence's (the Hessian of cumprod(x)[0] ** 2 at x = 0 was 0, not 2)
    if not (isinstance(g, Proxy) and g.traces):  # a pass nothing differentiates by g: the tail's +0 at once
        return P.splice(entries, 0.0, last, axis=axis - len(s))
    tail = P.add(P.mul(P.where(P.isfinite(excl), excl, 0.0), rec), 0.0)
    return P.splice(entries, tail, last, axis=axis - len(s))


def _cumprod_jvp(t, ans, a, axis):
    # a zero tangent entry contributes an exact 0, not 0 times the exclusive product (NaN past a NaN); a
    # nonzero one whose exclusive product is 0 (a zero before it) contributes 0 · the transfer to i, which
    # is NaN where the transfer is (as the reverse pass's exclusive product times it)
    ax = axis - len(shape_of(a))
    excl = _exclusive_cumprod(ans, a, axis)
    moving = P.ne(t, 0.0)
    z = P.linrec(a, P.where(moving, P.mul(t, excl), 0.0), axis=ax)
    stalled = P.mul(moving, P.eq(excl, 0.0))
    return P.add(z, P.mul(0.0, P.linrec(a, P.where(stalled, t, 0.0), axis=ax)))


# d cumprod(a)_i / d a_j = prod_(k<j) a_k * prod_(j<k<=i) a_k (j <= i): the exclusive product
# times the recurrence's transfer from j to i. No division, so zeros are exact (as prod's rule); an
# entry with j > i is an exact 0 and an entry of a y_i no NaN reaches is finite (linrec's exact zeros).
defop("cumprod", lambda a, axis: np.cumprod(a, axis=axis), lambda s, axis: s, (_cumprod_vjp,), (_cumprod_jvp,),
      domain=(0.5, 1.5), sympy=lambda S, a, axis: S.explicit(lambda e: np.cumprod(e, axis=axis), a), exact_int=True)


# pnorm: (sum |a|^p)^(1/p) for a finite p other than 0; the derivative sign(a) (|a| / n)^(p-1),
# and 0 where a = 0 or the norm is 0 (PyTorch's choice; p < 1 would give inf there).
def _pnorm_impl(a, ord, axes, keepdims=False):
    with np.errstate(divide="ignore"):
        return _rescaled(np.sum(np.power(np.abs(a), ord), axis=axes, keepdims=keepdims), a, ord, axes, keepdims)


def _pnorm_grad(ans, a, ord, axes, keepdims):
    n = _kept(ans, a, axes, keepdims)
    absa = P.abs(a)
    zero = P.add(P.eq(absa, 0.0), P.eq(n, 0.0))
    if ord < 0:  # an infinite entry adds |a|^p = 0 and its slope (|a| / n)^(p-1) is 0, its own slope too (limits,
        # PyTorch's and JAX's Hessians): a constant 0 there, where the forward pass over |a| / n met inf · 0
        zero = P.add(zero, P.isinf(absa))
    ratio = P.div(P.where(zero, 1.0, absa), P.where(P.eq(n, 0.0), 1.0, n))
    s, over = _overflow_scale(a, n, axes)  # |a| / n where n overflowed: |a/s| / norm(a/s)
    u = P.div(a, s)
    ratio = P.where(over, P.div(P.abs(u), P.pnorm(u, ord=ord, axes=axes, keepdims=True)), ratio)
    return P.where(zero, 0.0, P.mul(P.sign(a), P.pow(ratio, ord - 1.0)))


defop("pnorm", _pnorm_impl, _reduction_shape,
      (lambda g, ans, a, ord, axes, keepdims=False:
          P.mul(expand_reduced(g, shape_of(a), axes, keepdims), _pnorm_grad(ans, a, ord, axes, keepdims)),),
      (lambda t, ans, a, ord, axes, keepdims=False:
          P.sum(P.mul(t, _pnorm_grad(ans, a, ord, axes, keepdims)), axes=shifted(axes), keepdims=keepdims),),
      domain=(0.3, 2.0), sympy=lambda S, a, ord, axes, keepdims=False: S.pnorm_form(a, ord, axes, keepdims)
      if not S.components(a) else S.reduce_groups(
          a, axes, keepdims, lambda g: S.sp.Add(*[S.sp.Abs(v) ** S.sp.nsimplify(ord) for v in g]) ** (1 / S.sp.nsimplify(ord))))


def _one_hot_shape(s, classes, axis, ignore_index=None):
    return tuple(s[:axis]) + (classes,) + tuple(s[axis:])


def _one_hot_impl(t, classes, axis, ignore_index=None):
    """1 at each target's class along a new ``axis``, 0 elsewhere (and everywhere for a target
    equal to ``ignore_index``); a target that is not a class index is refused, as PyTorch does."""
    t = np.asarray(t)
    ignored = np.zeros(t.shape, dtype=bool) if ignore_index is None else t == ignore_index
    bad = ~ignored & ~((t == np.round(t)) & (t >= 0) & (t < classes))
    if np.any(bad):
        raise JacValueError(f"a class index target must be an integer from 0 to {classes - 1}, got "
                            f"{float(np.asarray(t[bad]).ravel()[0]):g}")
    cls = np.arange(classes).reshape((classes,) + (1,) * (t.ndim - axis))
    hot = (np.expand_dims(np.where(ignored, -1, t), axis) == cls)
    return hot.astype(_dtype_of(t) if t.dtype.kind == "f" else np.float64)


defop("one_hot", _one_hot_impl, _one_hot_shape, nondiff=True)
# clamp_excess(a, lo) = max(a, lo) - a, as a constant: PyTorch's cosine_similarity clamps the
# norms in place under no_grad, so the clamp changes the value but not the derivative.
# lo - a below lo, else 0: max(a, lo) - a made inf - inf = NaN at a = inf (gaussian_nll_loss of a variance
# that overflowed: NaN where PyTorch gives inf)
defop("clamp_excess", lambda a, lo: np.where(np.less(a, lo), np.subtract(lo, a), 0), broadcast, nondiff=True,
      elementwise=True)


def _finite_range_impl(lo, hi, message):
    """0 where both ends are finite; else refused with ``message`` (``{lo}`` and ``{hi}`` in it
    stand for the ends): NumPy's refusals that depend on values (np.histogram's autodetected range of
    data holding NaN or inf, np.nanargmax's all-NaN slice), where an answer would be silently wrong."""
    lo, hi = np.asarray(lo), np.asarray(hi)
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        bad = ~(np.isfinite(lo) & np.isfinite(hi))
        pick = np.argmax(np.broadcast_to(bad, np.broadcast_shapes(lo.shape, hi.shape)))
        at = np.unravel_index(pick, bad.shape) if bad.ndim else ()
        raise JacValueError(message.format(lo=float(np.broadcast_to(lo, bad.shape)[at]),
                                           hi=float(np.broadcast_to(hi, bad.shape)[at])))
    return np.zeros(np.broadcast_shapes(lo.shape, hi.shape), dtype=_dtype_of(lo, hi))


# its SymPy formula is its value, 0: where it is not 0 it refuses, in jac eval and at jac diff's --at alike, so a
# formula holds on the values the check admits, as log(x)'s on x > 0 (a distribution's support and parameters)
defop("finite_range", _finite_range_impl, lambda a, b, message: broadcast(a, b), nondiff=True, elementwise=True,
      sympy=lambda S, a, b, message: S.elementwise(lambda u, v: S.sp.Integer(0), a, b))


def _integer_impl(v, *bound, dtype, cast=False, what="the result"):
    """``v`` as the integer ``dtype`` (or bool) holds it, computed from inputs (ir/dtypes.py): jac
    computes it in --dtype, exact while every value is below 2**53 (float32: 2**24). A zero is +0
    (integers have no -0), a value out of the dtype's range wraps as NumPy and PyTorch wrap it, and
    what cannot be kept exact is refused: a value at or beyond 2**53 (or a partial sum of ``v``,
    bounded by ``bound``: the op on the magnitudes), NaN or inf (an integer division by zero), a
    value that is no integer (an integer to a negative power). ``cast``: ``v`` is a float cast to
    the dtype (truncated toward 0; out of range or not finite is undefined in both libraries)."""
    v = np.asarray(v)
    if dtype == "bool":
        return np.not_equal(v, 0).astype(v.dtype if v.dtype.kind == "f" else np.float64)
    if v.dtype.kind != "f":  # an index op's own integers (int64): wrapped into a smaller dtype exactly
        info = np.iinfo(dtype)
        if v.size and (v.min() < info.min or v.max() > info.max):
            return (v - info.min) % (2 ** info.bits) + info.min if info.bits < 64 else v.astype(dtype).astype(v.dtype)
        return v
    with np.errstate(invalid="ignore"):
        if cast:
            v = np.trunc(v)
        info = np.iinfo(dtype)
        if not np.all(np.isfinite(v)):
            bad = v[~np.isfinite(v)].ravel()[0]
            raise JacValueError(f"{what}: casting {float(bad)!r} to {dtype} is undefined in NumPy and PyTorch; jac "
                                "refuses it" if cast else f"{what} is {float(bad)!r} for {dtype} integers: an integer "
                                "division by zero (PyTorch raises, NumPy gives 0 with a warning) or an overflow; jac "
                                "refuses it")
        if not cast and np.any(v != np.trunc(v)):
            raise JacValueError(f"{what} is not an integer ({float(v[v != np.trunc(v)].ravel()[0])!r}) though "
                                f"{dtype} operands make {dtype}: integers to negative integer powers are not "
                                "allowed (NumPy raises); jac refuses it")
        if cast and np.any((v < info.min) | (v > info.max)):
            bad = v[(v < info.min) | (v > info.max)].ravel()[0]
            raise JacValueError(f"{what}: casting {float(bad)!r} to {dtype} is undefined in NumPy and PyTorch "
                                f"(outside [{info.min}, {info.max}]); jac refuses it")
        big = 2.0 ** (np.finfo(v.dtype).nmant + 1)
        for w in (v,) + bound:
            w = np.asarray(w)
            if np.any(np.abs(w) >= big):
                raise JacValueError(f"{what} reaches the {dtype} integer {int(np.max(np.abs(w)))} or beyond, which "
                                    f"{v.dtype} cannot hold exactly (2**{np.finfo(v.dtype).nmant + 1}): jac holds every "
                                    "value in --dtype, so it refuses rather than round")
        if np.any((v < info.min) | (v > info.max)):  # wraps, as integer arithmetic does in both libraries
            v = info.min + np.mod(v - info.min, 2.0 ** info.bits)
            if np.any(np.abs(v) >= big):
                raise JacValueError(f"{what} wraps to a {dtype} integer beyond 2**{np.finfo(v.dtype).nmant + 1}, "
                                    f"which {v.dtype} cannot hold exactly; jac refuses it")
    return v + v.dtype.type(0)  # -0 + 0 is +0


def _integer_sympy(S, v, *bound, dtype, cast=False, what=""):
    """The SymPy translation of ``integer`` as a bool (a bool matmul, the or of its ands): 1 where v is nonzero.
    Integers are refused: their wrapping and refusals have no translation."""
    if dtype != "bool":
        raise JacValueError(f"{what} has no SymPy translation (an integer's wrapping), so jac cannot differentiate it "
                            "symbolically (jac eval differentiates it numerically)")
    return S.elementwise(lambda a: S.sp.Piecewise((1, S.sp.Ne(a, 0)), (0, True)), v)


# integer(v, [bound], dtype=, cast=, what=): an integer computed from inputs, checked and made exact (ir/dtypes.py)
defop("integer", _integer_impl, lambda s, *b, **_: s, nondiff=True, elementwise=True, sympy=_integer_sympy)


def _safe_nonzero(x):
    """x with 0 replaced by 1: a division by it is finite, so the branch ``where`` drops at 0 sends no NaN."""
    return P.where(P.eq(x, 0.0), 1.0, x)


# I1(x) / x is 1/2 + x²/16 + ...: exactly 1/2 in float64 and float32 for |x| <= 1e-30, where the quotient
# itself is lost (a subnormal I1(x) = x/2 rounds: I1'(5e-324) was 0, (e^-|x| I1)' -inf; PyTorch's 1/2)
_BESSEL_TINY = 1e-30


def _i1_deriv(x, ans):  # I1' = I0 - I1 / x, 1/2 near 0 and (PyTorch's where(|x| > eps, ...)) at NaN
    xs = _safe_nonzero(x)
    return P.where(P.gt(P.abs(x), _BESSEL_TINY), P.sub(P.i0(x), P.div(P.i1(xs), xs)), 0.5)


def _i1e_deriv(x, ans):  # (e^-|x| I1)' = I0e - I1e (sign x + 1/x), 1/2 near 0 and at NaN, as PyTorch's
    xs = _safe_nonzero(x)
    return P.where(P.gt(P.abs(x), _BESSEL_TINY),
                   P.sub(P.i0e(x), P.mul(P.i1e(xs), P.add(P.sign(x), P.div(1.0, xs)))), 0.5)


# The modified Bessel functions of the first kind (SciPy's, as torch.special's): I0' = I1, (e^-|x| I0)' =
# I1e - sign(x) I0e (PyTorch's sgn: 0 at 0).
unary("i0", _special("i0"), lambda x, ans: P.i1(x), spellings=("i0",),
      sympy=_sympy_elementwise(lambda sp, v: sp.besseli(0, v)))
unary("i0e", _special("i0e"), lambda x, ans: P.sub(P.i1e(x), P.mul(P.sign(x), ans)), domain=(0.2, 2.0),
      sympy=_sympy_elementwise(lambda sp, v: sp.exp(-sp.Abs(v)) * sp.besseli(0, v)))
unary("i1", _special("i1"), _i1_deriv, sympy=_sympy_elementwise(lambda sp, v: sp.besseli(1, v)))
unary("i1e", _special("i1e"), _i1e_deriv, domain=(0.2, 2.0),
      sympy=_sympy_elementwise(lambda sp, v: sp.exp(-sp.Abs(v)) * sp.besseli(1, v)))


# --- session 28: SciPy's exponential integrals and Dawson's integral (jax.scipy.special's and scipy.special's
# spellings only: lang/specials28.py; no shared name) -----------------------------------------------------------
unary("expi", _special("expi"), lambda x, ans: P.div(P.exp(x), x), domain=(0.2, 2.0), spellings=(),
      sympy=_sympy_elementwise(lambda sp, v: sp.Ei(v)))  # Ei(x); d/dx = eˣ / x
# E₁(x); d/dx = -e⁻ˣ / x, NaN below 0 as the value (0 · √x: NaN there, an exact 0 elsewhere; -inf kept at 0)
unary("exp1", _special("exp1"), lambda x, ans: P.sub(P.mul(0.0, P.sqrt(x)), P.div(P.exp(P.neg(x)), x)),
      domain=(0.2, 2.0), spellings=(), sympy=_sympy_elementwise(lambda sp, v: sp.expint(1, v)))
unary("dawsn", _special("dawsn"), lambda x, ans: P.sub(1.0, P.mul(P.mul(2.0, x), ans)), spellings=(),
      sympy=_sympy_elementwise(lambda sp, v: sp.sqrt(sp.pi) / 2 * sp.exp(-v**2) * sp.erfi(v)))  # d/dx = 1 - 2x F(x)


def _xlogx_impl(t):
    t = np.asarray(t)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(t == 0, 0.0, t * np.log(np.where(t == 0, 1.0, t))).astype(np.result_type(t, np.float32))


# xlogx: t log t, 0 at t = 0 (kl_div's target term); its derivative log t + 1 is -inf there (the
# limit from the right; PyTorch's xlogy writes NaN): never a finite number that is not a derivative.
unary("xlogx", _xlogx_impl, lambda x, ans: P.add(P.log(x), 1.0), domain=(0.2, 2.0),
      sympy=_sympy_elementwise(lambda sp, v: v * sp.log(v)), spellings=())


def _bce_impl(x, t):
    x = np.asarray(x)
    if np.any(~((x >= 0) & (x <= 1))):
        raise JacValueError("binary_cross_entropy: every input must be between 0 and 1 (probabilities), got "
                            f"{float(x[~((x >= 0) & (x <= 1))].ravel()[0]):g}; for logits use "
                            "binary_cross_entropy_with_logits")
    with np.errstate(divide="ignore"):
        return -(t * np.maximum(np.log(x), -100.0) + (1 - t) * np.maximum(np.log(1 - x), -100.0))


def _bce_dx(ans, x, t):
    # PyTorch's: (x - t) / max(x (1 - x), 1e-12)
    return P.div(P.sub(x, t), P.clip(P.mul(x, P.sub(1.0, x)), 1e-12, np.inf))


def _bce_dt(ans, x, t):
    # PyTorch's: log(1 - x) - log(x), not clamped (inf at x = 0, as PyTorch gives)
    return P.sub(P.log(P.sub(1.0, x)), P.log(x))


binary("bce", _bce_impl, _bce_dx, _bce_dt, domain=(0.05, 0.95),
       sympy=_sympy_elementwise(lambda sp, x, t: -(t * sp.log(x) + (1 - t) * sp.log(1 - x))))


# --- PART hvocab10: Bessel functions of SciPy, masked reductions, frexp, partition, lexsort -------

def _j1_deriv(x, ans):  # J1' = J0 - J1 / x, 1/2 at 0
    xs = _safe_nonzero(x)
    return P.where(P.eq(x, 0.0), 0.5, P.sub(P.j0(x), P.div(P.j1(xs), xs)))


# Bessel functions of the first and second kind and the modified ones of the second kind, SciPy's values
# (scipy.special.j0 ... k1e; jac reads torch.special.modified_bessel_k0 ... as these: PyTorch's own Cephes port
# is within 16 ulps of them, its own error; torch.special.bessel_j0 / y0 are refused, lang/functions.py):
# J0' = -J1, Y0' = -Y1, Y1' = Y0 - Y1 / x, K0' = -K1, K1' = -K0 - K1 / x, (e^x K0)' = e^x K0 - e^x K1,
# (e^x K1)' = e^x K1 (1 - 1/x) - e^x K0.
unary("j0", _special("j0"), lambda x, ans: P.neg(P.j1(x)), spellings=(),
      sympy=_sympy_elementwise(lambda sp, v: sp.besselj(0, v)))
unary("j1", _special("j1"), _j1_deriv, spellings=(), sympy=_sympy_elementwise(lambda sp, v: sp.besselj(1, v)))
unary("y0", _special("y0"), lambda x, ans: P.neg(P.y1(x)), domain=(0.5, 3.0), spellings=(),
      sympy=_sympy_elementwise(lambda sp, v: sp.bessely(0, v)))
unary("y1", _special("y1"), lambda x, ans: P.sub(P.y0(x), P.div(ans, x)), domain=(0.5, 3.0), spellings=(),
      sympy=_sympy_elementwise(lambda sp, v: sp.bessely(1, v)))
unary("k0", _special("k0"), lambda x, ans: P.neg(P.k1(x)), domain=(0.5, 3.0), spellings=(),
      sympy=_sympy_elementwise(lambda sp, v: sp.besselk(0, v)))
unary("k1", _special("k1"), lambda x, ans: P.sub(P.neg(P.k0(x)), P.div(ans, x)), domain=(0.5, 3.0), spellings=(),
      sympy=_sympy_elementwise(lambda sp, v: sp.besselk(1, v)))
unary("k0e", _special("k0e"), lambda x, ans: P.sub(ans, P.k1e(x)), domain=(0.5, 3.0), spellings=(),
      sympy=_sympy_elementwise(lambda sp, v: sp.exp(v) * sp.besselk(0, v)))
unary("k1e", _special("k1e"), lambda x, ans: P.sub(P.sub(ans, P.div(ans, x)), P.k0e(x)), domain=(0.5, 3.0),
      spellings=(), sympy=_sympy_elementwise(lambda sp, v: sp.exp(v) * sp.besselk(1, v)))


# --- session 28: SciPy's gamma family (scipy.special.gamma, rgamma, beta, betaln, binom, poch): SciPy's values to
# the last bit (scipy.special's own functions, exact where it is: gamma(5) is 24), derivatives by the digamma
# formulas; lang/scipynames.py lowers the spellings (comb, perm, factorial onto these) --------------------------

def _special_binary(name):
    """``scipy.special.<name>(a, b)`` of two arrays, in their float dtype (imported on first use)."""
    def impl(a, b):
        from scipy import special

        a, b = np.asarray(a), np.asarray(b)
        kind = np.result_type(a, b)
        return getattr(special, name)(a, b).astype(kind if kind.kind == "f" else np.float64, copy=False)
    return impl


def _non_positive_integer(x):
    """A mask: x is 0, -1, -2, ... (the poles of Γ)."""
    return P.mul(P.le(x, 0.0), P.eq(P.floor(x), x))


def _rgamma_deriv(x, ans):
    """(1/Γ)' = -ψ(x) / Γ(x) away from the poles; at x = -n (n = 0, 1, ...), where 1/Γ is 0 and ψ infinite, the
    reflection 1/Γ(x) = sin(πx) Γ(1 - x) / π differentiated: Γ(1 - x) (cos(πx) - sin(πx) ψ(1 - x) / π), whose value
    there is (-1)^n n!. The sine's term is 0 at the pole but its slope is not: without it the second derivative
    there was half of -2 (-1)^n n! ψ(n + 1). sin(πx), cos(πx) as sindg(180x), cosdg(180x): exact at the integers."""
    pole = _non_positive_integer(x)
    safe, at = P.where(pole, 0.5, x), P.where(pole, x, 0.0)
    turns, gamma_reflected = P.mul(180.0, at), P.gamma(P.sub(1.0, at))
    slope = P.sub(P.cosdg(turns), P.mul(P.sindg(turns), P.div(P.digamma(P.sub(1.0, at)), np.pi)))
    return P.where(pole, P.mul(gamma_reflected, slope), P.neg(P.mul(ans, P.digamma(safe))))


unary("gamma", _special("gamma"), lambda x, ans: P.mul(ans, P.digamma(x)), domain=(0.5, 3.0), spellings=(),
      sympy=_sympy_elementwise(lambda sp, v: sp.gamma(v)))
unary("rgamma", _special("rgamma"), _rgamma_deriv, domain=(0.5, 3.0), spellings=(),
      sympy=_sympy_elementwise(lambda sp, v: 1 / sp.gamma(v)))
binary("beta", _special_binary("beta"), lambda ans, a, b: P.mul(ans, P.sub(P.digamma(a), P.digamma(P.add(a, b)))),
       lambda ans, a, b: P.mul(ans, P.sub(P.digamma(b), P.digamma(P.add(a, b)))), domain=(0.5, 3.0), spellings=(),
       sympy=_sympy_elementwise(lambda sp, a, b: sp.gamma(a) * sp.gamma(b) / sp.gamma(a + b)))
binary("betaln", _special_binary("betaln"), lambda ans, a, b: P.sub(P.digamma(a), P.digamma(P.add(a, b))),
       lambda ans, a, b: P.sub(P.digamma(b), P.digamma(P.add(a, b))), domain=(0.5, 3.0), spellings=(),
       sympy=_sympy_elementwise(lambda sp, a, b: sp.log(sp.Abs(sp.gamma(a) * sp.gamma(b) / sp.gamma(a + b)))))
# binom(n, k) = Γ(n + 1) / (Γ(k + 1) Γ(n - k + 1)); poch(z, m) = Γ(z + m) / Γ(z)
binary("binom", _special_binary("binom"),
       lambda ans, n, k: P.mul(ans, P.sub(P.digamma(P.add(n, 1.0)), P.digamma(P.add(P.sub(n, k), 1.0)))),
       lambda ans, n, k: P.mul(ans, P.sub(P.digamma(P.add(P.sub(n, k), 1.0)), P.digamma(P.add(k, 1.0)))),
       domain=(1.5, 3.0), spellings=(),
       sympy=_sympy_elementwise(lambda sp, n, k: sp.gamma(n + 1) / (sp.gamma(k + 1) * sp.gamma(n - k + 1))))
binary("poch", _special_binary("poch"), lambda ans, z, m: P.mul(ans, P.sub(P.digamma(P.add(z, m)), P.digamma(z))),
       lambda ans, z, m: P.mul(ans, P.digamma(P.add(z, m))), domain=(0.5, 3.0), spellings=(),
       sympy=_sympy_elementwise(lambda sp, z, m: sp.gamma(z + m) / sp.gamma(z)))


# complete elliptic integrals (SciPy's parameter m = k²): K' = (E - (1 - m) K) / (2m (1 - m)), E' = (E - K) / (2m),
# at m = 0 (where the quotients are 0/0) the derivatives of their series π/2 (1 + m/4 + 9m²/64 + 25m³/256 +
# 1225m⁴/16384) and π/2 (1 - m/4 - 3m²/64 - 5m³/256 - 175m⁴/16384): π/8 and -π/8 there, and built from ops, so
# that their own derivatives (the second to fourth of K and E at 0) are the series' too, not those of a constant;
# ellipkm1(p) = K(1 - p)
def _series(m, coefficients):
    out = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        out = P.add(c, P.mul(m, out))
    return out


def _ellipk_deriv(m, ans):
    zero = P.eq(m, 0.0)
    safe = P.where(zero, 0.5, m)
    at_zero = _series(P.where(zero, m, 0.0), [np.pi / 8, np.pi * 9 / 64, np.pi * 75 / 512, np.pi * 1225 / 8192])
    return P.where(zero, at_zero, P.div(P.sub(P.ellipe(safe), P.mul(P.sub(1.0, safe), P.where(zero, 1.0, ans))),
                                          P.mul(P.mul(2.0, safe), P.sub(1.0, safe))))


def _ellipe_deriv(m, ans):
    zero = P.eq(m, 0.0)
    safe = P.where(zero, 0.5, m)
    at_zero = _series(P.where(zero, m, 0.0), [-np.pi / 8, -np.pi * 3 / 64, -np.pi * 15 / 512, -np.pi * 175 / 8192])
    return P.where(zero, at_zero, P.div(P.sub(P.where(zero, 1.0, ans), P.ellipk(safe)), P.mul(2.0, safe)))


unary("ellipk", _special("ellipk"), _ellipk_deriv, domain=(-2.0, 0.9), spellings=(),
      sympy=_sympy_elementwise(lambda sp, v: sp.elliptic_k(v)))
unary("ellipe", _special("ellipe"), _ellipe_deriv, domain=(-2.0, 0.9), spellings=(),
      sympy=_sympy_elementwise(lambda sp, v: sp.elliptic_e(v)))
unary("ellipkm1", _special("ellipkm1"), lambda p, ans: P.neg(_ellipk_deriv(P.sub(1.0, p), ans)), domain=(0.1, 2.0),
      spellings=(), sympy=_sympy_elementwise(lambda sp, v: sp.elliptic_k(1 - v)))


# --- session 29: more of scipy.special (lang/specials29.py lowers the spellings): SciPy's own values, the
# derivatives by x of DLMF's formulas; by an order or a shape parameter refused where SciPy and JAX have none ------

def _special_nary(name, index=None):
    """``scipy.special.<name>(*args)`` of arrays, in their float dtype; ``index``: one field of a pair it returns
    (fresnel, sici, shichi: both computed, one kept, so each field is SciPy's own bit for bit)."""
    def impl(*args):
        from scipy import special

        args = [np.asarray(a) for a in args]
        kind = np.result_type(*args)
        with np.errstate(all="ignore"):
            out = getattr(special, name)(*args)
        out = np.asarray(out if index is None else out[index])
        return out.astype(kind if kind.kind == "f" else np.float64, copy=False)
    return impl


def _nary(name, impl, partials, domain, sympy=None):
    """An element-wise op of ``len(partials)`` broadcasting arguments; ``partials[i](ans, *args)`` is the partial by
    argument i, or a :func:`refused` rule."""
    def vjp_rule(partial):
        if hasattr(partial, "refuses"):
            return partial
        return lambda g, ans, *args: unbroadcast(P.mul(g, partial(ans, *args)), shape_of(args[partials.index(partial)]))

    def jvp_rule(partial):
        if hasattr(partial, "refuses"):
            return partial
        return lambda t, ans, *args: P.mul(lift(t, len(shape_of(ans))), partial(ans, *args))

    return defop(name, impl, broadcast, tuple(vjp_rule(p) for p in partials), tuple(jvp_rule(p) for p in partials),
                 domain=domain, sympy=sympy, broadcasting=True, elementwise=True, spellings=())


def _by_parameter(what, name, jax_too=False):
    return refused(f"the derivative of scipy.special.{name} by {what} is not supported (SciPy has none"
                   + (", nor JAX" if jax_too else "") + f"): make {what} a constant or leave it out of --wrt")


def _order_op(name, deriv, domain=(0.5, 3.0), sympy=None):
    """A Bessel-type function of (order v, x): SciPy's value, ``deriv(v, x, ans)`` by x, the order's refused."""
    binary(name, _special_nary(name), _by_parameter("the order", f"{name}(v, x)", True),
           lambda ans, v, x: deriv(v, x, ans), domain=domain, spellings=(), sympy=sympy)


def _sides(op, v, x):
    return op(P.sub(v, 1.0), x), op(P.add(v, 1.0), x)


def _half_difference(op):  # (f_{v-1} - f_{v+1}) / 2: J, Y (DLMF 10.6.1)
    def rule(v, x, ans):
        lo, hi = _sides(op, v, x)
        return P.mul(0.5, P.sub(lo, hi))
    return rule


def _half_sum(op, sign=1.0):  # ±(f_{v-1} + f_{v+1}) / 2: I, K (DLMF 10.29.1)
    def rule(v, x, ans):
        lo, hi = _sides(op, v, x)
        return P.mul(0.5 * sign, P.add(lo, hi))
    return rule


def _struve_term(v, x):  # (x/2)^v / (√π Γ(v + 3/2)) (DLMF 11.4.23-24)
    return P.div(P.pow(P.mul(0.5, x), v), P.mul(float(np.sqrt(np.pi)), P.gamma(P.add(v, 1.5))))


_order_op("jv", _half_difference(lambda v, x: P.jv(v, x)),
          sympy=_sympy_elementwise(lambda sp, v, x: sp.besselj(v, x)))
_order_op("yv", _half_difference(lambda v, x: P.yv(v, x)),
          sympy=_sympy_elementwise(lambda sp, v, x: sp.bessely(v, x)))
_order_op("iv", _half_sum(lambda v, x: P.iv(v, x)), sympy=_sympy_elementwise(lambda sp, v, x: sp.besseli(v, x)))
_order_op("kv", _half_sum(lambda v, x: P.kv(v, x), -1.0),
          sympy=_sympy_elementwise(lambda sp, v, x: sp.besselk(v, x)))
# the exponentially scaled: jve = jv and yve = yv of a real x (e^-|Im x| = 1), SciPy's values by another algorithm;
# ive = e^-|x| iv: ive' = (ive_{v-1} + ive_{v+1}) / 2 - sign(x) ive;
# kve = e^x kv: kve' = kve - (kve_{v-1} + kve_{v+1}) / 2
_order_op("jve", _half_difference(lambda v, x: P.jve(v, x)),
          sympy=_sympy_elementwise(lambda sp, v, x: sp.besselj(v, x)))
_order_op("yve", _half_difference(lambda v, x: P.yve(v, x)),
          sympy=_sympy_elementwise(lambda sp, v, x: sp.bessely(v, x)))
_order_op("ive", lambda v, x, ans: P.sub(_half_sum(lambda v, x: P.ive(v, x))(v, x, ans), P.mul(P.sign(x), ans)),
          sympy=_sympy_elementwise(lambda sp, v, x: sp.exp(-sp.Abs(x)) * sp.besseli(v, x)))
_order_op("kve", lambda v, x, ans: P.add(ans, _half_sum(lambda v, x: P.kve(v, x), -1.0)(v, x, ans)),
          sympy=_sympy_elementwise(lambda sp, v, x: sp.exp(x) * sp.besselk(v, x)))
# of integer orders n (the lowering refuses others: SciPy truncates them)
_order_op("yn", _half_difference(lambda v, x: P.yn(v, x)),
          sympy=_sympy_elementwise(lambda sp, v, x: sp.bessely(v, x)))
_order_op("kn", _half_sum(lambda v, x: P.kn(v, x), -1.0),
          sympy=_sympy_elementwise(lambda sp, v, x: sp.besselk(v, x)))
# Struve: H' = (H_{v-1} - H_{v+1} + (x/2)^v / (√π Γ(v + 3/2))) / 2, L' = (L_{v-1} + L_{v+1} + that) / 2
_order_op("struve", lambda v, x, ans: P.mul(0.5, P.add(P.sub(*_sides(lambda v, x: P.struve(v, x), v, x)),
                                                       _struve_term(v, x))))
_order_op("modstruve", lambda v, x, ans: P.mul(0.5, P.add(P.add(*_sides(lambda v, x: P.modstruve(v, x), v, x)),
                                                          _struve_term(v, x))))


# spherical Bessel functions of integer order n: SciPy's spherical_jn(n, x, derivative=False) and its derivative
# (derivative=True: the op NAME_d, SciPy's own); the second derivative from the ODE x² f'' + 2x f' ± (x² ∓ n(n+1)) f
# = 0: f'' = -2f'/x - (1 - n(n+1)/x²) f (jn, yn), -2f'/x + (1 + n(n+1)/x²) f (in, kn); at x = 0 jn's and in's limit
# (∓1/3 for n = 0, 2/15 for n = 2, 0 otherwise)
def _spherical_impl(name, derivative):
    def impl(n, x):
        from scipy import special

        n, x = np.asarray(n), np.asarray(x)
        kind = np.result_type(n, x)
        with np.errstate(all="ignore"):
            out = getattr(special, name)(n.astype(np.int64), x, derivative=derivative)
        return np.asarray(out).astype(kind if kind.kind == "f" else np.float64, copy=False)
    return impl


def _spherical_second(name):
    modified = name in ("spherical_in", "spherical_kn")
    regular = name in ("spherical_jn", "spherical_in")  # finite at 0: its limit there

    def rule(ans, n, x):
        zero = P.eq(x, 0.0)
        xs = P.where(zero, 1.0, x) if regular else x
        ratio = P.div(P.mul(n, P.add(n, 1.0)), P.mul(xs, xs))
        c = P.add(1.0, ratio) if modified else P.sub(ratio, 1.0)
        second = P.add(P.div(P.mul(-2.0, ans), xs), P.mul(c, getattr(P, name)(n, xs)))
        if not regular:
            return second
        limit = P.where(P.eq(n, 0.0), (1.0 if modified else -1.0) / 3.0, P.where(P.eq(n, 2.0), 2.0 / 15.0, 0.0))
        return P.where(zero, limit, second)
    return rule


def _spherical_modified_closed(sp, name, n: int, t):
    """i_n(t) or k_n(t) of an integer order n >= 0 in exp / sinh / cosh and powers of 1 / t, SciPy's normalisation.

    With a_k = (n + k)! / (k! (n - k)! 2^k) (the reverse Bessel polynomial's coefficients), k_n(t) = (π/2) e^-t
    Σ_k a_k / t^(k+1) and i_n(t) = (e^t Σ_k (-1)^k a_k / t^(k+1) - (-1)^n e^-t Σ_k a_k / t^(k+1)) / 2, which is
    E sinh t - O cosh t (n even) or E cosh t - O sinh t (n odd), E and O the sums over even and odd k: i_2(t) =
    (1/t + 3/t³) sinh t - 3 cosh t / t². SymPy differentiates these in milliseconds, where √(π/2t) I_{n+1/2}(t)
    took seconds to differentiate and simplify."""
    a = [sp.factorial(n + k) / (sp.factorial(k) * sp.factorial(n - k) * 2 ** k) for k in range(n + 1)]
    if name == "spherical_kn":
        return sp.pi / 2 * sp.exp(-t) * sp.Add(*[a[k] / t ** (k + 1) for k in range(n + 1)])
    even = sp.Add(*[a[k] / t ** (k + 1) for k in range(0, n + 1, 2)])
    odd = sp.Add(*[a[k] / t ** (k + 1) for k in range(1, n + 1, 2)])
    first, second = (sp.sinh(t), sp.cosh(t)) if n % 2 == 0 else (sp.cosh(t), sp.sinh(t))
    return even * first - odd * second


def _spherical_sympy(name, derivative):
    """SymPy's jn / yn of an integer order, j_n = √(π / 2x) J_{n+1/2} and y_n likewise of another; i_n and k_n of
    an integer order n >= 0 in closed form (:func:`_spherical_modified_closed`), of another √(π / 2x) I_{n+1/2},
    √(π / 2x) K_{n+1/2} (SciPy's definitions); derivative=True differentiated by SymPy."""
    def of(sp, n, x):
        t = sp.Dummy("t", positive=True)
        half = sp.sqrt(sp.pi / (2 * t))  # SymPy's jn / yn of a symbol order do not evaluate: J_{n+1/2}, Y_{n+1/2}
        closed = n.is_Integer and n >= 0 and name in ("spherical_in", "spherical_kn")
        f = _spherical_modified_closed(sp, name, int(n), t) if closed else {
            "spherical_jn": lambda: sp.jn(n, t) if n.is_Integer else half * sp.besselj(n + sp.Rational(1, 2), t),
            "spherical_yn": lambda: sp.yn(n, t) if n.is_Integer else half * sp.bessely(n + sp.Rational(1, 2), t),
            "spherical_in": lambda: half * sp.besseli(n + sp.Rational(1, 2), t),
            "spherical_kn": lambda: half * sp.besselk(n + sp.Rational(1, 2), t)}[name]()
        return (sp.diff(f, t) if derivative else f).subs(t, x)
    return _sympy_elementwise(of)


for _name in ("spherical_jn", "spherical_yn", "spherical_in", "spherical_kn"):
    binary(_name, _spherical_impl(_name, False), _by_parameter("the order", f"{_name}(n, x)"),
           (lambda name: lambda ans, n, x: getattr(P, name + "_d")(n, x))(_name), domain=(0.5, 3.0), spellings=(),
           sympy=_spherical_sympy(_name, False))
    binary(_name + "_d", _spherical_impl(_name, True), _by_parameter("the order", f"{_name}(n, x, derivative=True)"),
           _spherical_second(_name), domain=(0.5, 3.0), spellings=(), sympy=_spherical_sympy(_name, True))


# E_n(x) of integer n (the lowering refuses others): E_n' = -E_{n-1}, E_0' = -e^-x (x + 1) / x² (SciPy's E_{-1} is NaN)
def _expn_dx(ans, n, x):
    e0 = P.neg(P.div(P.mul(P.exp(P.neg(x)), P.add(x, 1.0)), P.mul(x, x)))
    return P.where(P.eq(n, 0.0), e0, P.neg(P.expn(P.where(P.eq(n, 0.0), 1.0, P.sub(n, 1.0)), x)))


binary("expn", _special_nary("expn"), _by_parameter("the order", "expn(n, x)", True), _expn_dx, domain=(1.5, 3.0),
       spellings=(), sympy=_sympy_elementwise(lambda sp, n, x: sp.expint(n, x)))


def _spence_deriv(z, ans):  # SciPy's spence(z) = ∫_1^z log t / (1 - t) dt: log z / (1 - z), -1 at z = 1
    one = P.eq(z, 1.0)
    safe = P.where(one, 2.0, z)
    return P.where(one, -1.0, P.div(P.log(safe), P.sub(1.0, safe)))


unary("spence", _special_nary("spence"), _spence_deriv, domain=(0.2, 3.0), spellings=(),
      sympy=_sympy_elementwise(lambda sp, v: sp.polylog(2, 1 - v)))


def _beta_log_density(a, b, x):  # log of x^(a-1) (1-x)^(b-1) / B(a, b), 0 · log 0 = 0 at a = 1 or b = 1
    return P.sub(P.add(P.xlogy(P.sub(a, 1.0), x), P.xlog1py(P.sub(b, 1.0), P.neg(x))), P.betaln(a, b))


def _gamma_log_density(a, x):  # log of x^(a-1) e^-x / Γ(a)
    return P.sub(P.sub(P.xlogy(P.sub(a, 1.0), x), x), P.lgamma(a))


_AB_WHY = ("the derivative of scipy.special.{f} by a or b is not supported (SciPy has none, and JAX refuses it: "
           "'Betainc gradient with respect to a and b not supported'): make a and b constants or leave them out of "
           "--wrt")
_A_WHY = ("the derivative of scipy.special.{f} by a is not supported (SciPy has none, nor PyTorch): make a a constant "
          "or leave it out of --wrt")
def _undefined_where_nan(ans, d):
    """``d``, NaN where the value is NaN (outside the support, x < 0: SciPy's NaN): the density's formula there gave a
    number (betainc(1, 2, x) at x = -0.5: 3, where JAX's gradient is NaN)."""
    return P.where(P.isnan(ans), np.nan, d)


# regularized incomplete beta I_x(a, b) and its complement and inverses: d/dx = ± the beta density; the inverses'
# derivative by y is ± 1 / the density at their value; NaN where the value is
for _name, _sign, _inverse in (("betainc", 1.0, False), ("betaincc", -1.0, False), ("betaincinv", 1.0, True),
                               ("betainccinv", -1.0, True)):
    _nary(_name, _special_nary(_name), (
        refused(_AB_WHY.format(f=_name)), refused(_AB_WHY.format(f=_name)),
        (lambda sign, inverse: lambda ans, a, b, x: _undefined_where_nan(ans, P.mul(sign, P.exp(
            P.neg(_beta_log_density(a, b, ans)) if inverse else _beta_log_density(a, b, x)))))(_sign, _inverse)),
        domain=(0.2, 0.8), sympy=None if _inverse else (lambda sign: _sympy_elementwise(
            lambda sp, a, b, x: sp.betainc_regularized(a, b, 0, x) if sign > 0 else
            1 - sp.betainc_regularized(a, b, 0, x)))(_sign))
for _name, _sign in (("gammaincinv", 1.0), ("gammainccinv", -1.0)):
    binary(_name, _special_nary(_name), refused(_A_WHY.format(f=_name)),
           (lambda sign: lambda ans, a, y: P.mul(sign, P.exp(P.neg(_gamma_log_density(a, ans)))))(_sign),
           domain=(0.2, 0.8), spellings=())


def _sinc_of(x, f):  # f(x) / x, 1 at 0 (Si', Shi')
    zero = P.eq(x, 0.0)
    xs = P.where(zero, 1.0, x)
    return P.where(zero, 1.0, P.div(f(xs), xs))


# the pairs: fresnel (S, C), sici (Si, Ci), shichi (Shi, Chi): one op per field, SciPy's values (its real parts: Ci
# and Chi of x < 0 are those of |x|, as SciPy returns them), derivatives sin(πx²/2), cos(πx²/2), sin x / x, cos x / x,
# sinh x / x, cosh x / x
unary("fresnel_s", _special_nary("fresnel", 0), lambda x, ans: P.sin(P.mul(float(np.pi / 2), P.mul(x, x))),
      spellings=(), sympy=_sympy_elementwise(lambda sp, v: sp.fresnels(v)))
unary("fresnel_c", _special_nary("fresnel", 1), lambda x, ans: P.cos(P.mul(float(np.pi / 2), P.mul(x, x))),
      spellings=(), sympy=_sympy_elementwise(lambda sp, v: sp.fresnelc(v)))
unary("sici_si", _special_nary("sici", 0), lambda x, ans: _sinc_of(x, P.sin), spellings=(),
      sympy=_sympy_elementwise(lambda sp, v: sp.Si(v)))
unary("sici_ci", _special_nary("sici", 1), lambda x, ans: P.div(P.cos(x), x), domain=(0.2, 2.0), spellings=(),
      sympy=_sympy_elementwise(lambda sp, v: sp.Ci(v)))
unary("shichi_shi", _special_nary("shichi", 0), lambda x, ans: _sinc_of(x, P.sinh), spellings=(),
      sympy=_sympy_elementwise(lambda sp, v: sp.Shi(v)))
unary("shichi_chi", _special_nary("shichi", 1), lambda x, ans: P.div(P.cosh(x), x), domain=(0.2, 2.0), spellings=(),
      sympy=_sympy_elementwise(lambda sp, v: sp.Chi(v)))


# Owen's T(h, a): ∂h = -φ(h) erf(a h / √2) / 2, ∂a = exp(-h² (1 + a²) / 2) / (2π (1 + a²)) (JAX's rules)
binary("owens_t", _special_nary("owens_t"),
       lambda ans, h, a: P.mul(P.mul(-0.5 / float(np.sqrt(2 * np.pi)), P.exp(P.mul(-0.5, P.mul(h, h)))),
                               P.erf(P.mul(float(np.sqrt(0.5)), P.mul(a, h)))),
       lambda ans, h, a: P.div(P.exp(P.mul(P.mul(-0.5, P.mul(h, h)), P.add(1.0, P.mul(a, a)))),
                               P.mul(float(2 * np.pi), P.add(1.0, P.mul(a, a)))), spellings=())

# hypergeometric functions, by x only: 0F1' = 0F1(v + 1; x) / v, 1F1' = a/b 1F1(a + 1; b + 1; x),
# 2F1' = ab/c 2F1(a + 1, b + 1; c + 1; x)
_HYP_WHY = ("the derivative of scipy.special.{f} by its parameters is not supported (SciPy has none; JAX "
            "differentiates its own series, which jac does not): make them constants or leave them out of --wrt")
_HYP_NONE_WHY = ("the derivative of scipy.special.{f} by its parameters is not supported (SciPy, JAX and PyTorch have "
                 "none: JAX 0.10 and PyTorch have no {f}): make them constants or leave them out of --wrt")
binary("hyp0f1", _special_nary("hyp0f1"), refused(_HYP_NONE_WHY.format(f="hyp0f1")),
       lambda ans, v, x: P.div(P.hyp0f1(P.add(v, 1.0), x), v), domain=(0.5, 2.0), spellings=(),
       sympy=_sympy_elementwise(lambda sp, v, x: sp.hyper([], [v], x)))
def _hyp1f1_impl(a, b, x):
    """SciPy's hyp1f1, refused for |x| > 1e10 (and ±inf), where SciPy 1.17 does not return for many a and b (an
    endless loop: hyp1f1(0.5, 1.5, 1e12), hyp1f1(0.5, 1.5, inf) and hyp1f1(-50.5, -50.5, -1e15) never finish; up to
    1e11 it answers, inf for x > 0)."""
    with np.errstate(invalid="ignore"):
        far = np.abs(np.asarray(x)) > 1e10
    if np.any(far):
        bad = float(np.broadcast_to(np.asarray(x), far.shape)[far].ravel()[0])
        raise JacValueError(f"scipy.special.hyp1f1 at x = {bad:g}: SciPy 1.17 does not return for |x| beyond 1e10 "
                            "for some a and b (an endless loop), so jac refuses it rather than hang; for x > 0 the "
                            "function overflows to inf well before that")
    return _special_nary("hyp1f1")(a, b, x)


def _hyp1f1_slope_impl(a, b, x, index):
    from .kummer import hyp1f1_slope

    return hyp1f1_slope(a, b, x, index).astype(np.result_type(a, b, x, np.float32), copy=False)


_HYP1F1_SECOND = ("the second derivative of hyp1f1(a, b, x) through its parameters is not supported: jac sums the "
                  "series of ∂M/∂a and ∂M/∂b once (session 39), not their derivatives")
# ∂M/∂a, ∂M/∂b (session 39: JAX differentiates hyp1f1 by a and b; ir/kummer.py), every derivative of it refused
defop("hyp1f1_slope", _hyp1f1_slope_impl, lambda sa, sb, sx, index: broadcast(broadcast(sa, sb), sx),
      (refused(_HYP1F1_SECOND),) * 3, (refused(_HYP1F1_SECOND),) * 3, domain=(0.3, 0.9), broadcasting=True,
      elementwise=True)
_nary("hyp1f1", _hyp1f1_impl, (lambda ans, a, b, x: P.hyp1f1_slope(a, b, x, index=0),
                               lambda ans, a, b, x: P.hyp1f1_slope(a, b, x, index=1),
                               lambda ans, a, b, x: P.mul(P.div(a, b), P.hyp1f1(P.add(a, 1.0), P.add(b, 1.0), x))),
      domain=(0.3, 0.9), sympy=_sympy_elementwise(lambda sp, a, b, x: sp.hyper([a], [b], x)))
_nary("hyp2f1", _special_nary("hyp2f1"), (refused(_HYP_WHY.format(f="hyp2f1")),) * 3 + (
    lambda ans, a, b, c, x: P.mul(P.div(P.mul(a, b), c), P.hyp2f1(P.add(a, 1.0), P.add(b, 1.0), P.add(c, 1.0), x)),),
      domain=(0.2, 0.7), sympy=_sympy_elementwise(lambda sp, a, b, c, x: sp.hyper([a, b], [c], x)))


def _lambertw_impl(k):
    def impl(x):
        from scipy import special

        x = np.asarray(x)
        with np.errstate(all="ignore"):
            w = np.asarray(special.lambertw(x, k))
        if np.any(w.imag != 0):
            bad = float(x[w.imag != 0].ravel()[0]) if x.ndim else float(x)
            raise JacValueError(f"scipy.special.lambertw(z, k={k}) is complex at z = {bad:g} (the real branch k = "
                                f"{k} is z >= -1/e" + (")" if k == 0 else " and z <= 0)") + "; jac is real-valued")
        return w.real.astype(x.dtype if x.dtype.kind == "f" else np.float64, copy=False)
    return impl


# Lambert W on its real branches (SciPy's real part, refused where SciPy's is complex): W' = 1 / (x + e^W), -inf at
# the end x = 0 of the branch k = -1
unary("lambertw", _lambertw_impl(0), lambda x, ans: P.div(1.0, P.add(x, P.exp(ans))), spellings=(), domain=(0.2, 2.0),
      sympy=_sympy_elementwise(lambda sp, v: sp.LambertW(v)))
unary("lambertw_m1", _lambertw_impl(-1),
      lambda x, ans: P.where(P.eq(x, 0.0), -np.inf, P.div(1.0, P.add(x, P.exp(ans)))), spellings=(),
      domain=(-0.3, -0.1), sympy=_sympy_elementwise(lambda sp, v: sp.LambertW(v, -1)))

# trigonometric functions of degrees, SciPy's (exact at multiples of 90: its reduction of the angle)
_DEG = float(np.pi / 180)
unary("sindg", _special_nary("sindg"), lambda x, ans: P.mul(_DEG, P.cosdg(x)), domain=(-80.0, 80.0), spellings=(),
      sympy=_sympy_elementwise(lambda sp, v: sp.sin(sp.pi * v / 180)))
unary("cosdg", _special_nary("cosdg"), lambda x, ans: P.mul(-_DEG, P.sindg(x)), domain=(-80.0, 80.0), spellings=(),
      sympy=_sympy_elementwise(lambda sp, v: sp.cos(sp.pi * v / 180)))
unary("tandg", _special_nary("tandg"), lambda x, ans: P.mul(_DEG, P.add(1.0, P.mul(ans, ans))), domain=(-80.0, 80.0),
      spellings=(), sympy=_sympy_elementwise(lambda sp, v: sp.tan(sp.pi * v / 180)))
unary("cotdg", _special_nary("cotdg"), lambda x, ans: P.mul(-_DEG, P.add(1.0, P.mul(ans, ans))), domain=(10.0, 80.0),
      spellings=(), sympy=_sympy_elementwise(lambda sp, v: sp.cot(sp.pi * v / 180)))
unary("erfi", _special_nary("erfi"), lambda x, ans: P.mul(float(2 / np.sqrt(np.pi)), P.exp(P.mul(x, x))), spellings=(),
      sympy=_sympy_elementwise(lambda sp, v: sp.erfi(v)))


# --- session 29, the cheap rest: incomplete elliptic integrals, Tricomi's U, Wright's omega, ndtri_exp, and the
# distribution functions SciPy names (Student's t, χ², gamma, Poisson, F), by the continuous variable; their shape
# parameters refused -------------------------------------------------------------------------------------------

def _elliptic_root(phi, m):  # √(1 - m sin²φ)
    return P.sqrt(P.sub(1.0, P.mul(m, P.square(P.sin(phi)))))


def _ellipkinc_dm(ans, phi, m):
    """∂F(φ|m)/∂m = (E(φ|m) - (1 - m) F) / (2m(1 - m)) - sin 2φ / (4(1 - m) √(1 - m sin²φ)) (DLMF 19.4.2 in m),
    its limit φ/4 - sin 2φ / 8 at m = 0."""
    zero = P.eq(m, 0.0)
    safe = P.where(zero, 0.5, m)
    f = P.where(zero, 1.0, ans)
    general = P.sub(P.div(P.sub(P.ellipeinc(phi, safe), P.mul(P.sub(1.0, safe), f)), P.mul(P.mul(2.0, safe),
                                                                                            P.sub(1.0, safe))),
                    P.div(P.sin(P.mul(2.0, phi)), P.mul(P.mul(4.0, P.sub(1.0, safe)), _elliptic_root(phi, safe))))
    return P.where(zero, P.sub(P.mul(0.25, phi), P.mul(0.125, P.sin(P.mul(2.0, phi)))), general)


def _ellipeinc_dm(ans, phi, m):
    """∂E(φ|m)/∂m = (E - F) / (2m), its limit -(φ/4 - sin 2φ / 8) at m = 0."""
    zero = P.eq(m, 0.0)
    safe = P.where(zero, 0.5, m)
    general = P.div(P.sub(P.where(zero, 1.0, ans), P.ellipkinc(phi, safe)), P.mul(2.0, safe))
    return P.where(zero, P.sub(P.mul(0.125, P.sin(P.mul(2.0, phi))), P.mul(0.25, phi)), general)


binary("ellipkinc", _special_nary("ellipkinc"), lambda ans, phi, m: P.div(1.0, _elliptic_root(phi, m)), _ellipkinc_dm,
       domain=(0.2, 0.8), spellings=(), sympy=_sympy_elementwise(lambda sp, phi, m: sp.elliptic_f(phi, m)))
binary("ellipeinc", _special_nary("ellipeinc"), lambda ans, phi, m: _elliptic_root(phi, m), _ellipeinc_dm,
       domain=(0.2, 0.8), spellings=(), sympy=_sympy_elementwise(lambda sp, phi, m: sp.elliptic_e(phi, m)))
_nary("hyperu", _special_nary("hyperu"), (refused(_HYP_NONE_WHY.format(f="hyperu")),
                                           refused(_HYP_NONE_WHY.format(f="hyperu")),
                                           lambda ans, a, b, x: P.neg(P.mul(a, P.hyperu(P.add(a, 1.0), P.add(b, 1.0),
                                                                                           x)))), domain=(0.5, 2.0))
unary("wrightomega", _special_nary("wrightomega"), lambda x, ans: P.div(ans, P.add(1.0, ans)), spellings=(),
      sympy=_sympy_elementwise(lambda sp, v: sp.LambertW(sp.exp(v))))  # ω(x) = W(eˣ) for real x; ω' = ω / (1 + ω)
# ndtri_exp(y) = ndtri(eʸ): d/dy = eʸ / φ(x) = √(2π) e^(y + x²/2)
unary("ndtri_exp", _special_nary("ndtri_exp"),
      lambda y, ans: P.mul(float(np.sqrt(2 * np.pi)), P.exp(P.add(y, P.mul(0.5, P.square(ans))))), domain=(-3.0, -0.2),
      spellings=())


def _student_log_density(df, t):
    """log of Student's t density; the normal's where df is inf (SciPy's stdtr is the normal cdf there)."""
    infinite = P.isinf(df)
    safe = P.where(infinite, 1.0, df)
    half = P.mul(0.5, P.add(safe, 1.0))
    norm = P.sub(P.sub(P.lgamma(half), P.lgamma(P.mul(0.5, safe))), P.mul(0.5, P.log(P.mul(float(np.pi), safe))))
    finite = P.sub(norm, P.mul(half, P.log1p(P.div(P.square(t), safe))))
    return P.where(infinite, P.sub(P.mul(-0.5, P.square(t)), float(0.5 * np.log(2 * np.pi))), finite)


def _chi2_log_density(v, x):  # x^(v/2 - 1) e^(-x/2) / (2^(v/2) Γ(v/2))
    return P.sub(P.sub(P.sub(P.xlogy(P.sub(P.mul(0.5, v), 1.0), x), P.mul(0.5, x)), P.mul(P.mul(0.5, v), _LN2)),
                 P.lgamma(P.mul(0.5, v)))


def _gdtr_dx(sign):  # gdtr(a, b, x) = gammainc(b, a x): a (ax)^(b-1) e^(-ax) / Γ(b)
    return lambda ans, a, b, x: P.mul(sign, P.mul(a, P.exp(P.sub(P.sub(P.xlogy(P.sub(b, 1.0), P.mul(a, x)),
                                                                          P.mul(a, x)), P.lgamma(b)))))


def _pdtr_dm(sign):  # pdtr(k, m) = gammaincc(⌊k⌋ + 1, m): ∓ m^⌊k⌋ e^-m / ⌊k⌋!
    return lambda ans, k, m: P.mul(sign, P.exp(P.sub(P.sub(P.xlogy(P.floor(k), m), m),
                                                     P.lgamma(P.add(P.floor(k), 1.0)))))


def _f_density(n, d, x):
    """F(n, d)'s density at x, n^a d^b x^(a-1) / (B(a, b) (d + nx)^(a+b)) with a = n/2, b = d/2, in logs. Not as the
    beta density at w = nx / (d + nx): where nx ≫ d, 1 - w is rounding (fdtri(0.549, 0.0219, 0.353) = 3.3e14 had the
    slope 8.6e16 for mpmath's 4.7e16)."""
    a, b = P.mul(0.5, n), P.mul(0.5, d)
    scale = P.add(P.mul(a, P.log(n)), P.mul(b, P.log(d)))
    spread = P.add(P.betaln(a, b), P.mul(P.add(a, b), P.log(P.add(d, P.mul(n, x)))))
    return P.exp(P.sub(P.add(scale, P.xlogy(P.sub(a, 1.0), x)), spread))


def _dist_why(f, what):
    return refused(f"the derivative of scipy.special.{f} by {what} is not supported (SciPy has none): make it a "
                   "constant or leave it out of --wrt")


binary("stdtr", _special_nary("stdtr"), _dist_why("stdtr", "the degrees of freedom"),
       lambda ans, df, t: P.exp(_student_log_density(df, t)), domain=(1.5, 3.0), spellings=())
binary("stdtrit", _special_nary("stdtrit"), _dist_why("stdtrit", "the degrees of freedom"),
       lambda ans, df, p: P.exp(P.neg(_student_log_density(df, ans))), domain=(0.2, 0.8), spellings=())
binary("chdtr", _special_nary("chdtr"), _dist_why("chdtr", "the degrees of freedom"),
       lambda ans, v, x: _undefined_where_nan(ans, P.exp(_chi2_log_density(v, x))), domain=(1.5, 3.0), spellings=())
binary("chdtrc", _special_nary("chdtrc"), _dist_why("chdtrc", "the degrees of freedom"),
       lambda ans, v, x: _undefined_where_nan(ans, P.neg(P.exp(_chi2_log_density(v, x)))), domain=(1.5, 3.0),
       spellings=())
binary("chdtri", _special_nary("chdtri"), _dist_why("chdtri", "the degrees of freedom"),
       lambda ans, v, p: P.neg(P.exp(P.neg(_chi2_log_density(v, ans)))), domain=(0.2, 0.8), spellings=())
for _name, _sign in (("gdtr", 1.0), ("gdtrc", -1.0)):
    _nary(_name, _special_nary(_name), (_dist_why(_name, "a or b"), _dist_why(_name, "a or b"),
                                        (lambda dx: lambda ans, a, b, x: _undefined_where_nan(ans, dx(ans, a, b, x)))(
                                            _gdtr_dx(_sign))), domain=(0.5, 2.0))
binary("pdtr", _special_nary("pdtr"), _dist_why("pdtr", "k (an integer count)"), _pdtr_dm(-1.0), domain=(1.2, 3.0),
       spellings=())
binary("pdtrc", _special_nary("pdtrc"), _dist_why("pdtrc", "k (an integer count)"), _pdtr_dm(1.0), domain=(1.2, 3.0),
       spellings=())
_nary("fdtr", _special_nary("fdtr"), (_dist_why("fdtr", "the degrees of freedom"),) * 2 + (
    lambda ans, n, d, x: _undefined_where_nan(ans, _f_density(n, d, x)),), domain=(1.5, 3.0))
_nary("fdtrc", _special_nary("fdtrc"), (_dist_why("fdtrc", "the degrees of freedom"),) * 2 + (
    lambda ans, n, d, x: _undefined_where_nan(ans, P.neg(_f_density(n, d, x))),), domain=(1.5, 3.0))


# the binomial and negative binomial distribution functions by p (k and n are truncated to integers, as SciPy does):
# bdtr = I_{1-p}(n - k, k + 1), bdtrc = I_p(k + 1, n - k), nbdtr = I_p(n, k + 1), nbdtrc = 1 - nbdtr; by p ∓ the beta
# density; 0 where the value is the constant 1 or 0 (k = n; bdtrc of k < 0), NaN where SciPy's value is NaN
def _binomial_dp(upper):
    def rule(ans, k, n, p):
        kk, nn = P.floor(k), P.floor(n)
        inside = P.mul(P.ge(kk, 0.0), P.lt(kk, nn))
        a, b = P.where(inside, P.sub(nn, kk), 1.0), P.where(inside, P.add(kk, 1.0), 1.0)
        d = P.exp(_beta_log_density(b, a, p)) if upper else P.neg(P.exp(_beta_log_density(a, b, P.sub(1.0, p))))
        return P.where(P.isnan(ans), np.nan, P.where(inside, d, 0.0))
    return rule


def _negative_binomial_dp(sign):
    def rule(ans, k, n, p):
        d = P.exp(_beta_log_density(P.floor(n), P.add(P.floor(k), 1.0), p))
        return P.where(P.isnan(ans), np.nan, P.mul(sign, d))
    return rule


for _name, _rule in (("bdtr", _binomial_dp(False)), ("bdtrc", _binomial_dp(True)),
                     ("nbdtr", _negative_binomial_dp(1.0)), ("nbdtrc", _negative_binomial_dp(-1.0))):
    _nary(_name, _special_nary(_name), (_dist_why(_name, "k or n (integer counts)"),) * 2 + (_rule,),
          domain=(0.2, 0.8))


# Airy's Ai as PyTorch computes it (torch.special.airy_ai: ATen's airy_ai_forward, a port of Cephes' airy): the
# asymptotic expansions with its rational coefficients beyond ±2.09 (their error reaches 3e-6 near -2.09, which is
# PyTorch's value), its power series between, NaN at ±inf, 0 beyond 103.892; operation for operation in the input's
# float type. PyTorch has no derivative; jac's is the function's own, Ai' (SciPy's), and Ai'' = x Ai.
_AIRY_AN = (3.46538101525629032477e-01, 1.20075952739645805542e+01, 7.62796053615234516538e+01,
            1.68089224934630576269e+02, 1.59756391350164413639e+02, 7.05360906840444183113e+01,
            1.40264691163389668864e+01, 9.99999999999999995305e-01)
_AIRY_AD = (5.67594532638770212846e-01, 1.47562562584847203173e+01, 8.45138970141474626562e+01,
            1.77318088145400459522e+02, 1.64234692871529701831e+02, 7.14778400825575695274e+01,
            1.40959135607834029598e+01, 1.00000000000000000470e+00)
_AIRY_AFN = (-1.31696323418331795333e-01, -6.26456544431912369773e-01, -6.93158036036933542233e-01,
             -2.79779981545119124951e-01, -4.91900132609500318020e-02, -4.06265923594885404393e-03,
             -1.59276496239262096340e-04, -2.77649108155232920844e-06, -1.67787698489114633780e-08)
_AIRY_AFD = (1.33560420706553243746e+01, 3.26825032795224613948e+01, 2.67367040941499554804e+01,
             9.18707402907259625840e+00, 1.47529146771666414581e+00, 1.15687173795188044134e-01,
             4.40291641615211203805e-03, 7.54720348287414296618e-05, 4.51850092970580378464e-07)
_AIRY_AGN = (1.97339932091685679179e-02, 3.91103029615688277255e-01, 1.06579897599595591108e+00,
             9.39169229816650230044e-01, 3.51465656105547619242e-01, 6.33888919628925490927e-02,
             5.85804113048388458567e-03, 2.82851600836737019778e-04, 6.98793669997260967291e-06,
             8.11789239554389293311e-08, 3.41551784765923618484e-10)
_AIRY_AGD = (9.30892908077441974853e+00, 1.98352928718312140417e+01, 1.55646628932864612953e+01,
             5.47686069422975497931e+00, 9.54293611618961883998e-01, 8.64580826352392193095e-02,
             4.12656523824222607191e-03, 1.01259085116509135510e-04, 1.17166733214413521882e-06,
             4.91834570062930015649e-09)


def _horner(coefficients, z, T):
    out = T(0.0)
    for c in coefficients:
        out = out * z + T(c)
    return out


def _airy_ai_impl(x):
    x = np.asarray(x)
    x = x if x.dtype.kind == "f" else x.astype(np.float64)
    T = x.dtype.type
    out = np.zeros_like(x)
    with np.errstate(all="ignore"):
        left = x < T(-2.09)
        v = x[left]
        z = T(1.0) / (T(-2.0) * v * np.sqrt(-v) / T(3.0))
        zz = z * z
        t = T(-2.0) * v * np.sqrt(-v) / T(3.0) + T(0.25) * T(np.pi)
        fraction = T(1.0) + zz * _horner(_AIRY_AFN, zz, T) / _horner(_AIRY_AFD, zz, T)
        out[left] = T(5.64189583547756286948e-01) / np.sqrt(np.sqrt(-v)) * (
            np.sin(t) * fraction - np.cos(t) * (z * _horner(_AIRY_AGN, zz, T) / _horner(_AIRY_AGD, zz, T)))
        right = (x >= T(2.09)) & (x <= T(103.892))
        v = x[right]
        zeta = T(2.0) * v * np.sqrt(v) / T(3.0)
        ratio = _horner(_AIRY_AN, T(1.0) / zeta, T) / _horner(_AIRY_AD, T(1.0) / zeta, T)
        out[right] = T(5.64189583547756286948e-01) * ratio / (T(2.0) * np.sqrt(np.sqrt(v)) * np.exp(zeta))
        middle = ~(left | (x >= T(2.09)))  # NaN too: its series stops at once and gives NaN
        out[middle] = _airy_series(x[middle], T)
        out[np.isinf(x)] = np.nan
    return out


def _airy_series(x, T):
    """The power series f, g of Ai = c1 f - c2 g, each element's loop running until its |m / f| <= eps."""
    f, g, k, m, n = np.ones_like(x), x.copy(), np.ones_like(x), np.ones_like(x), x.copy()
    z = x * x * x
    eps = np.finfo(T).eps
    active = np.ones(x.shape, dtype=bool)
    while active.any():
        i = np.flatnonzero(active)
        mi, ni, ki = m[i] * z[i], n[i] * z[i], k[i] + T(1.0)
        mi = mi / ki
        ki = ki + T(1.0)
        ni = ni / ki
        mi = mi / ki
        fi = f[i] + mi
        ki = ki + T(1.0)
        ni = ni / ki
        m[i], n[i], k[i], f[i], g[i] = mi, ni, ki, fi, g[i] + ni
        active[i] = np.abs(mi / fi) > eps
    return T(0.355028053887817239260) * f - T(0.258819403792806798405) * g


def _airy_ai_prime_impl(x):
    from scipy import special

    x = np.asarray(x)
    return special.airy(x)[1].astype(x.dtype if x.dtype.kind == "f" else np.float64, copy=False)


unary("airy_ai", _airy_ai_impl, lambda x, ans: P.airy_ai_prime(x), spellings=(),
      sympy=_sympy_elementwise(lambda sp, v: sp.airyai(v)))
unary("airy_ai_prime", _airy_ai_prime_impl, lambda x, ans: P.mul(x, P.airy_ai(x)), spellings=(),
      sympy=_sympy_elementwise(lambda sp, v: sp.airyaiprime(v)))


def _frexp_impl(part):
    def impl(x):
        x = np.asarray(x)
        out = np.frexp(x)[part]
        return out.astype(x.dtype if x.dtype.kind == "f" else np.float64, copy=False)
    return impl


# frexp: x = m 2^e with 0.5 <= |m| < 1 (m = x, e = 0 at 0, inf, NaN). e is an integer (no derivative); m's
# derivative is 1 / 2^e, written as PyTorch's grad / exp2(e) (inf at a subnormal x, as PyTorch).
defop("frexp_exponent", _frexp_impl(1), lambda s: s, nondiff=True, elementwise=True)
defop("frexp_mantissa", _frexp_impl(0), lambda s: s,
      (lambda g, ans, x: P.div(g, P.exp2(P.frexp_exponent(x))),),
      (lambda t, ans, x: P.div(t, P.exp2(P.frexp_exponent(x))),), domain=(1.1, 1.9), elementwise=True)


def _ldexp_impl(x, e):
    """NumPy's ldexp: x · 2^e rounded once (x * 2.0**e, PyTorch's, overflows 2^1024 and underflows 2^-1075
    before the product); e integers (the lowering checks), clipped to where every result has saturated."""
    x = np.asarray(x)
    e = np.clip(np.asarray(e), -4000, 4000).astype(np.int32)
    return np.ldexp(x, e).astype(x.dtype if x.dtype.kind == "f" else np.float64, copy=False)


binary("ldexp", _ldexp_impl, lambda ans, x, e: P.exp2(e),
       refused("np.ldexp's exponent is an integer (NumPy refuses floats there): it has no derivative; make it a "
               "constant or leave it out of --wrt"), domain=(-3.0, 3.0), spellings=())


_REDUCERS = {"add": np.add, "multiply": np.multiply, "maximum": np.maximum, "minimum": np.minimum}


def _reduce_where_impl(a, mask, ufunc, axes, keepdims=False, initial=None):
    """NumPy's ``np.sum(a, axis, keepdims=, where=mask, initial=)`` (prod, max, min): the ufunc's reduce itself,
    so its order of operations (pairwise sums over each run of unmasked elements) and its bits are NumPy's."""
    a = np.asarray(a)
    extra = {} if initial is None else {"initial": initial}
    out = _REDUCERS[ufunc].reduce(a, axis=axes, keepdims=keepdims, where=np.broadcast_to(np.asarray(mask) != 0, a.shape),
                                  **extra)
    return np.asarray(out, dtype=a.dtype)


def _reduce_where_weight(ans, a, mask, ufunc, axes, keepdims, initial):
    """d ans / d a, element by element: the mask (sums); the product of the group's other unmasked elements
    times ``initial`` (products); the mask where a equals the extreme, shared evenly with the elements and the
    ``initial`` that tie (max, min: as jac's max; NaN everywhere for a NaN extreme)."""
    if ufunc == "add":
        return mask
    if ufunc == "multiply":
        others = P.prod_except(P.where(mask, a, 1.0), axes=axes)
        return P.where(mask, others if initial is None else P.mul(others, initial), 0.0)
    kept = _kept(ans, a, axes, keepdims)
    hit = P.mul(mask, P.eq(a, kept))
    count = P.sum(hit, axes=axes, keepdims=True)
    if initial is not None:
        count = P.add(count, P.eq(kept, initial))
    return P.div(hit, count)


def _reduce_where_shape(s, m, ufunc, axes, keepdims=False, initial=None):
    if tuple(s) != tuple(m):
        raise JacShapeError(f"where: the mask's shape {fmt(m)} is not the array's {fmt(s)}")
    return reduce_shape(s, axes, keepdims)


def _reduce_where_times(g, ans, a, mask, ufunc, axes, keepdims, initial):
    """``g`` times the weight where the mask holds, an exact 0 where it does not, whatever ``g`` holds (session 39:
    var(x, where=m) of a slice with one element, whose cotangent is inf: JAX's 0 at the masked-out elements)."""
    return masked(g, mask, None if ufunc == "add" else _reduce_where_weight(ans, a, mask, ufunc, axes, keepdims,
                                                                           initial))


defop("reduce_where", _reduce_where_impl, _reduce_where_shape,
      (lambda g, ans, a, mask, ufunc, axes, keepdims=False, initial=None:
          _reduce_where_times(expand_reduced(g, shape_of(a), axes, keepdims), ans, a, mask, ufunc, axes, keepdims,
                              initial), None),
      (lambda t, ans, a, mask, ufunc, axes, keepdims=False, initial=None:
          P.sum(_reduce_where_times(t, ans, a, mask, ufunc, axes, keepdims, initial), axes=shifted(axes),
                keepdims=keepdims), None),
      domain=(0.5, 1.5))


def _argpartition_impl(a, kth, axis):
    """NumPy's own argpartition (introselect): its order inside the two parts is its own, and jac's is that."""
    return np.argpartition(np.asarray(a), kth, axis=axis).astype(np.int64)


defop("argpartition", _held_index(_argpartition_impl), lambda s, kth, axis: s, nondiff=True)


def _lexsort_impl(*keys):
    """np.lexsort of keys of one shape: the last key is the primary one; stable."""
    return np.lexsort(tuple(np.asarray(k) for k in keys)).astype(np.int64)


defop("lexsort", _held_index(_lexsort_impl), lambda *shapes: (shapes[0][0],), nondiff=True)


# --- session 35: the quantiles of SciPy's discrete distributions (scipy.stats.<dist>.ppf / isf, lang/distributions.py
# writes rv_discrete's wrapping around this op): a count, piecewise constant in q and in the shape parameters, so no
# derivative flows (as floor and ceil)
def _discrete_quantile_impl(q, *shapes, dist="poisson", upper=False):
    """``scipy.stats.<dist>._ppf(q, *shapes)`` (``upper``: ``_isf``), SciPy's own computation of the standard
    distribution's quantile (boost's for binom, nbinom, bernoulli; ceil of pdtrik and a step back for poisson; the
    closed form for geom; rv_discrete's bisection for betabinom), in the arguments' float dtype."""
    from scipy import stats

    kind = np.result_type(q, *shapes)
    arrays = np.broadcast_arrays(*[np.asarray(a, dtype=np.float64) for a in (q, *shapes)])
    generator = getattr(stats, dist)
    with np.errstate(all="ignore"):
        out = np.asarray((generator._isf if upper else generator._ppf)(*arrays), dtype=np.float64)
    return out.astype(kind if kind.kind == "f" else np.float64, copy=False)


defop("discrete_quantile", _discrete_quantile_impl, lambda *s, **_: broadcast(*s), nondiff=True, elementwise=True,
      domain=(0.2, 0.8), label="a discrete distribution's quantile (SciPy's _ppf / _isf)")


# --- custom (session 27): a derivative rule written in the text (torch.autograd.Function, jax.custom_vjp);
# --- its rules apply the user's backward, a sub-graph held in the ``rule`` parameter (ir/custom.py) -----------

from . import custom as _custom  # noqa: E402  (the Rule a node holds, and what its rules read of it)

def _custom_is_tracer(x) -> bool:
    return isinstance(x, Proxy) and x.traces


def _custom_zeros(like, shape: tuple):
    """Zeros of ``shape`` (batched) in the kind of ``like``: an array, a structured batch, a dry run's stand-in
    or a constant of a traced graph."""
    if type(like) is np.ndarray:
        return np.zeros(shape, dtype=like.dtype)
    if _custom_is_tracer(like):
        return like.builder.const(np.zeros(shape, dtype=like.builder.dtype))
    if structured.is_batch(like):
        return structured.zeros(shape[0], shape[1:], like.dtype)
    return np.zeros(shape)


def _custom_residual_values(rule, ans, args, output: int) -> list:
    """The residuals' values: each the node's argument of its slot, or the node's own value where the residual
    is this output (PyTorch's saved output: its derivative at second order goes through the rule)."""
    first = 1 + len(rule.primal_shapes)
    return [ans if k == output else args[first + slot] for slot, k in rule.residual_from]


def _custom_evaluate(rule, inputs: dict) -> dict:
    """The sub-graph's values with ``P``, given its input nodes' values."""
    values = {}
    for node in rule.nodes:
        if node.op == "input":
            values[node.id] = inputs[node.id]
        elif node.op == "const":
            values[node.id] = node.value
        else:
            args = [values[a] for a in node.args]
            values[node.id] = getattr(P, node.op)(*args, **node.params) if node.params else \
                getattr(P, node.op)(*args)
    return values


def _custom_pushed(rule, primal: dict, tangents: dict, batch: int) -> dict:
    """The tangents of the sub-graph's nodes from ``tangents`` of its cotangent inputs, by the ops' JVP rules."""
    tan = dict(tangents)
    for node in rule.nodes:
        if node.op in ("input", "const"):
            continue
        reached = [(i, a) for i, a in enumerate(node.args) if a in tan]
        if not reached:
            continue
        rules = _BLOCKS[node.op].jvp
        args = [primal[a] for a in node.args]
        total = None
        for i, a in reached:
            part = rules[i](tan[a], primal[node.id], *args, **node.params)
            total = part if total is None else P.add(total, part)
        full = (batch,) + tuple(node.shape)
        tan[node.id] = total if tuple(shape_of(total)) == full else P.broadcast_to(total, shape=full)
    return tan


def _custom_pulled(rule, primal: dict, seed, result: int, batch: int) -> dict:
    """A jvp rule's sub-graph transposed: the cotangents of its nodes from ``seed`` at node ``result``, pulled back
    by the ops' VJP rules through the nodes its tangent inputs reach (the rule is linear in them)."""
    reach = set(rule.cotangent_ids)
    for node in rule.nodes:
        if any(a in reach for a in node.args):
            reach.add(node.id)
    ct = {result: seed}
    for node in reversed(rule.nodes):
        if node.op in ("input", "const") or node.id not in ct:
            continue
        g = ct.pop(node.id)
        rules = _BLOCKS[node.op].vjp
        args = [primal[a] for a in node.args]
        own = {}  # an argument read twice: its parts added first, as reverse.pullback does (_own_sum)
        for i, a in enumerate(node.args):
            if a in reach:
                part = rules[i](g, primal[node.id], *args, **node.params)
                own[a] = part if a not in own else P.add(own[a], part)
        for a, part in own.items():
            ct[a] = part if a not in ct else P.add(ct[a], part)
    return ct


def _custom_cotangent(rule, g, ans, args, output: int, primal: int):
    """The cotangent of primal ``primal`` from the batched cotangent ``g`` of output ``output``."""
    batch = shape_of(g)[0]
    if rule.kind == "jvp":  # a jax.custom_jvp: its (linear) jvp rule transposed
        shape = (batch,) + tuple(rule.primal_shapes[primal])
        result = rule.result_ids[output]
        if result is None:
            return _custom_zeros(g, shape)
        inputs = dict(zip(rule.residual_ids, _custom_residual_values(rule, ans, args, output)))
        dtype = ans.dtype if hasattr(ans, "dtype") else np.float64
        for p, i in enumerate(rule.cotangent_ids):
            inputs[i] = np.zeros(rule.primal_shapes[p], dtype=dtype)
        out = _custom_pulled(rule, _custom_evaluate(rule, inputs), g, result, batch).get(rule.cotangent_ids[primal])
        if out is None:
            return _custom_zeros(g, shape)
        if tuple(shape_of(out)) != shape:
            out = P.broadcast_to(out, shape=shape)
        return P.custom_once(out, rule=rule) if _custom_is_tracer(out) else out
    shape = (batch,) + tuple(rule.primal_shapes[primal])
    result = rule.result_ids[primal]
    if result is None:
        return _custom_zeros(g, shape)
    residuals = _custom_residual_values(rule, ans, args, output)
    inputs = dict(zip(rule.residual_ids, residuals))
    traced = _custom_is_tracer(g) or any(_custom_is_tracer(r) for r in residuals)
    if rule.linear:
        dtype = ans.dtype if hasattr(ans, "dtype") else np.float64
        for k, i in enumerate(rule.cotangent_ids):
            inputs[i] = np.zeros(rule.output_shapes[k], dtype=dtype)
        out = _custom_pushed(rule, _custom_evaluate(rule, inputs), {rule.cotangent_ids[output]: g}, batch).get(result)
        if out is None:  # a result no cotangent reaches: zeros (linear_in_cotangents checked it)
            return _custom_zeros(g, shape)
    elif not traced and type(g) is not np.ndarray and g.dry_result(shape) is not None:
        return g.dry_result(shape)
    else:
        if not traced and type(g) is not np.ndarray:
            g = g.to_dense()
        if traced and batch != 1:
            raise JacValueError(f"the backward of {rule.label} is not linear in its gradient, and a pass that "
                                f"jac traces (a second derivative, a derivative written in the text of more than "
                                f"one row) would apply it to {batch} rows at once: jac applies such a backward "
                                f"to arrays only (write it linear in the gradient to go further)")
        rows = []
        for b in range(batch):
            for k, i in enumerate(rule.cotangent_ids):
                inputs[i] = np.zeros(rule.output_shapes[k], dtype=g.dtype) if k != output else \
                    P.reshape(P.getitem(g, index=(b,)), shape=tuple(rule.output_shapes[k]))
            rows.append(_custom_evaluate(rule, inputs)[result])
        out = P.reshape(rows[0], shape=shape) if traced else np.stack(
            [np.broadcast_to(r, rule.primal_shapes[primal]) for r in rows]).astype(g.dtype, copy=False)
    if rule.once and _custom_is_tracer(out):
        out = P.custom_once(out, rule=rule)
    return out


def _custom_vjp_rule(index: int):
    """The VJP rule of the ``custom`` node's argument ``index``: a primal's cotangent, zeros for the value and the
    residuals (their derivatives reach the inputs through the backward's own nodes, at second order)."""
    def rule_of(g, ans, *args, rule, output: int):
        primals = len(rule.primal_shapes)
        if 1 <= index <= primals:
            return _custom_cotangent(rule, g, ans, args, output, index - 1)
        shape = (shape_of(g)[0],) + tuple(shape_of(args[index]))
        return _custom_zeros(g, shape)
    return rule_of


def _custom_jvp_rule(index: int):
    """The JVP rule of argument ``index``: for a primal, the rule's Jacobian (the backward of each basis
    cotangent) times the tangent, as ``jacrev`` of the function prints it; zeros for the value and residuals."""
    def rule_of(t, ans, *args, rule, output: int):
        batch = shape_of(t)[0]
        out_shape = tuple(rule.output_shapes[output])
        primals = len(rule.primal_shapes)
        if not 1 <= index <= primals:
            return _custom_zeros(t, (batch,) + out_shape)
        if not rule.linear:
            raise JacValueError(f"forward mode (a JVP, --mode forward, a Hessian's forward pass) through "
                                f"{rule.label}, whose backward is not linear in its gradient: the library applies "
                                f"such a backward to each cotangent, which forward mode never has; jac prints its "
                                f"Jacobian in reverse mode (--mode reverse) and its VJP (jac vjp)")
        primal_shape = tuple(rule.primal_shapes[index - 1])
        if rule.kind == "jvp":  # a jax.custom_jvp: its jvp rule pushes the tangent
            result = rule.result_ids[output]
            if result is None:
                return _custom_zeros(t, (batch,) + out_shape)
            inputs = dict(zip(rule.residual_ids, _custom_residual_values(rule, ans, args, output)))
            dtype = ans.dtype if hasattr(ans, "dtype") else np.float64
            for p, i in enumerate(rule.cotangent_ids):
                inputs[i] = np.zeros(rule.primal_shapes[p], dtype=dtype)
            pushed = _custom_pushed(rule, _custom_evaluate(rule, inputs), {rule.cotangent_ids[index - 1]: t},
                                    batch).get(result)
            if pushed is None:
                return _custom_zeros(t, (batch,) + out_shape)
            return P.custom_once(pushed, rule=rule) if _custom_is_tracer(pushed) else pushed
        m, n = shape_size(out_shape), shape_size(primal_shape)
        dtype = ans.dtype if hasattr(ans, "dtype") else np.float64
        basis = np.eye(m, dtype=dtype).reshape((m,) + out_shape)
        rows = _custom_cotangent(rule, basis, ans, args, output, index - 1)  # (m, *primal_shape)
        flat_t = P.reshape(t, shape=(batch, n))
        flat_rows = P.reshape(rows, shape=(m, n))
        pushed = P.matmul(flat_t, P.transpose(flat_rows, axes=(1, 0)))
        return P.reshape(pushed, shape=(batch,) + out_shape)
    return rule_of


_CUSTOM_ARGS = 256  # value, primals and residuals: a rule per position
defop("custom", lambda value, *rest, rule, output: value, lambda s, *rest, rule, output: s,
      tuple(_custom_vjp_rule(i) for i in range(_CUSTOM_ARGS)), tuple(_custom_jvp_rule(i) for i in range(_CUSTOM_ARGS)),
      view="always", label="a custom derivative rule")
# a traced backward whose own derivative the library computes otherwise (jax.custom_vjp's fwd formula) or refuses
# (once_differentiable): the value itself, its derivative refused
defop("custom_once", lambda x, rule: x, lambda s, rule: s, (_custom.once_rule,), (_custom.once_rule,),
      view="always", label="a custom rule's backward", elementwise=True)


# --- session 36: the rest of scipy.special's real functions (lang/specials36.py lowers the spellings): SciPy's own
# values; derivatives by x from the functions' differential equations, by parameters refused where no closed form
# exists ----------------------------------------------------------------------------------------------------------

def _over_x(x, f, at_zero):
    """f(x) / x with its limit ``at_zero`` at x = 0 (f(0) = 0 there)."""
    zero = P.eq(x, 0.0)
    xs = P.where(zero, 1.0, x)
    return P.where(zero, at_zero, P.div(f(xs), xs))


# Kelvin functions: ber + i bei and ker + i kei solve w'' + w'/x - i w = 0 (DLMF 10.61), so ber'' = -bei - ber'/x,
# bei'' = ber - bei'/x, and the same of ker, kei; at x = 0 ber'' = 0 and bei'' = 1/2 (ber' ≈ -x³/16, bei' ≈ x/2), and
# kei'' = +inf (kei' ≈ -x log(x) / 2). ber, bei are even, ber', bei' odd; ker, kei are NaN for x < 0 (SciPy's).
unary("ber", _special_nary("ber"), lambda x, ans: P.berp(x), spellings=(), domain=(-3.0, 3.0))
unary("bei", _special_nary("bei"), lambda x, ans: P.beip(x), spellings=(), domain=(-3.0, 3.0))
unary("berp", _special_nary("berp"), lambda x, ans: P.sub(P.neg(P.bei(x)), _over_x(x, P.berp, 0.0)),
      spellings=(), domain=(-3.0, 3.0))
unary("beip", _special_nary("beip"), lambda x, ans: P.sub(P.ber(x), _over_x(x, P.beip, 0.5)),
      spellings=(), domain=(-3.0, 3.0))
unary("ker", _special_nary("ker"), lambda x, ans: P.kerp(x), spellings=(), domain=(0.5, 3.0))
unary("kei", _special_nary("kei"), lambda x, ans: P.keip(x), spellings=(), domain=(0.5, 3.0))
unary("kerp", _special_nary("kerp"), lambda x, ans: P.sub(P.neg(P.kei(x)), P.div(ans, x)), spellings=(),
      domain=(0.5, 3.0))
unary("keip", _special_nary("keip"), lambda x, ans: P.where(P.eq(x, 0.0), np.inf, P.sub(P.ker(x), P.div(ans, x))),
      spellings=(), domain=(0.5, 3.0))

# scipy.special.airy's four fields (SciPy's Ai, Ai', Bi, Bi': Ai'' = x Ai, Bi'' = x Bi; jac's airy_ai is PyTorch's
# approximation) and airye's, scaled by e^ζ (Ai) and e^-|Re ζ| (Bi), ζ = 2/3 x^{3/2}: for x > 0
# eAi' = eAi' + √x eAi, eBi' = eBi' - √x eBi (and their primes likewise, with x times the function); for x < 0 the
# scale of Bi is 1 (SciPy's eAi is NaN there)
for _i, _name in enumerate(("airy_sp_ai", "airy_sp_aip", "airy_sp_bi", "airy_sp_bip")):
    unary(_name, _special_nary("airy", _i), (
        lambda x, ans: P.airy_sp_aip(x), lambda x, ans: P.mul(x, P.airy_sp_ai(x)),
        lambda x, ans: P.airy_sp_bip(x), lambda x, ans: P.mul(x, P.airy_sp_bi(x)))[_i], spellings=(),
        domain=(-3.0, 3.0), sympy=(lambda f: _sympy_elementwise(lambda sp, v: getattr(sp, f)(v)))(
            ("airyai", "airyaiprime", "airybi", "airybiprime")[_i]))


def _root_of_positive(x):  # √max(x, 0), its derivative 0 for x <= 0 (no √ of 0 met: its slope there is inf)
    positive = P.gt(x, 0.0)
    return P.where(positive, P.sqrt(P.where(positive, x, 1.0)), 0.0)


unary("airye_ai", _special_nary("airye", 0), lambda x, ans: P.add(P.airye_aip(x), P.mul(_root_of_positive(x), ans)),
      spellings=(), domain=(0.5, 3.0))
unary("airye_aip", _special_nary("airye", 1),
      lambda x, ans: P.add(P.mul(x, P.airye_ai(x)), P.mul(_root_of_positive(x), ans)), spellings=(), domain=(0.5, 3.0))
unary("airye_bi", _special_nary("airye", 2), lambda x, ans: P.sub(P.airye_bip(x), P.mul(_root_of_positive(x), ans)),
      spellings=(), domain=(0.5, 3.0))
unary("airye_bip", _special_nary("airye", 3),
      lambda x, ans: P.sub(P.mul(x, P.airye_bi(x)), P.mul(_root_of_positive(x), ans)), spellings=(), domain=(0.5, 3.0))

# integrals of Bessel and Struve functions: their integrands (∫₀ˣ J0, ∫₀ˣ Y0, ∫₀ˣ I0, ∫₀ˣ K0, ∫₀ˣ (1 - J0(t))/t,
# ∫ₓ^∞ Y0(t)/t, ∫₀ˣ (I0(t) - 1)/t, ∫ₓ^∞ K0(t)/t, ∫₀ˣ H0, ∫ₓ^∞ H0(t)/t, ∫₀ˣ L0), the lower limit's with a minus
unary("itj0y0_j", _special_nary("itj0y0", 0), lambda x, ans: P.j0(x), spellings=(), domain=(-3.0, 3.0))
unary("itj0y0_y", _special_nary("itj0y0", 1), lambda x, ans: P.y0(x), spellings=(), domain=(0.5, 3.0))
unary("iti0k0_i", _special_nary("iti0k0", 0), lambda x, ans: P.i0(x), spellings=(), domain=(-3.0, 3.0))
unary("iti0k0_k", _special_nary("iti0k0", 1), lambda x, ans: P.k0(x), spellings=(), domain=(0.5, 3.0))
unary("it2j0y0_j", _special_nary("it2j0y0", 0), lambda x, ans: _over_x(x, lambda t: P.sub(1.0, P.j0(t)), 0.0),
      spellings=(), domain=(-3.0, 3.0))
unary("it2j0y0_y", _special_nary("it2j0y0", 1), lambda x, ans: P.neg(P.div(P.y0(x), x)), spellings=(),
      domain=(0.5, 3.0))
unary("it2i0k0_i", _special_nary("it2i0k0", 0), lambda x, ans: _over_x(x, lambda t: P.sub(P.i0(t), 1.0), 0.0),
      spellings=(), domain=(-3.0, 3.0))
unary("it2i0k0_k", _special_nary("it2i0k0", 1), lambda x, ans: P.neg(P.div(P.k0(x), x)), spellings=(),
      domain=(0.5, 3.0))
unary("itstruve0", _special_nary("itstruve0"), lambda x, ans: P.struve(0.0, x), spellings=(), domain=(-3.0, 3.0))
unary("it2struve0", _special_nary("it2struve0"),
      lambda x, ans: P.neg(_over_x(x, lambda t: P.struve(0.0, t), float(2 / np.pi))), spellings=(), domain=(-3.0, 3.0))
unary("itmodstruve0", _special_nary("itmodstruve0"), lambda x, ans: P.modstruve(0.0, x), spellings=(),
      domain=(-3.0, 3.0))


# Jacobi's elliptic functions sn, cn, dn and the amplitude φ = am(u|m) (SciPy's ellipj, 0 <= m <= 1): by u
# sn' = cn dn, cn' = -sn dn, dn' = -m sn cn, φ' = dn; by m through ∂φ/∂m = sn cn / (2(1 - m)) - (E(φ|m) - (1 - m)u)
# dn / (2m(1 - m)) (its limit -(u - sin u cos u)/4 at m = 0; at m = 1 the quotient is 0/0, NaN): sn_m = cn φ_m,
# cn_m = -sn φ_m, dn_m = -(sn² + 2m sn cn φ_m) / (2 dn)
def _am_dm(u, m):
    zero = P.eq(m, 0.0)
    safe = P.where(zero, 0.5, m)
    sn, cn, dn, ph = (P.ellipj_sn(u, safe), P.ellipj_cn(u, safe), P.ellipj_dn(u, safe), P.ellipj_ph(u, safe))
    general = P.sub(P.div(P.mul(sn, cn), P.mul(2.0, P.sub(1.0, safe))),
                    P.div(P.mul(P.sub(P.ellipeinc(ph, safe), P.mul(P.sub(1.0, safe), u)), dn),
                          P.mul(P.mul(2.0, safe), P.sub(1.0, safe))))
    return P.where(zero, P.mul(-0.25, P.sub(u, P.mul(P.sin(u), P.cos(u)))), general)


def _ellipj_dm(field):
    def rule(ans, u, m):
        dph = _am_dm(u, m)
        if field == "ph":
            return dph
        sn, cn = P.ellipj_sn(u, m), P.ellipj_cn(u, m)
        if field == "sn":
            return P.mul(cn, dph)
        if field == "cn":
            return P.neg(P.mul(sn, dph))
        return P.neg(P.div(P.add(P.square(sn), P.mul(P.mul(2.0, m), P.mul(P.mul(sn, cn), dph))), P.mul(2.0, ans)))
    return rule


_ELLIPJ_DU = {"sn": lambda u, m: P.mul(P.ellipj_cn(u, m), P.ellipj_dn(u, m)),
              "cn": lambda u, m: P.neg(P.mul(P.ellipj_sn(u, m), P.ellipj_dn(u, m))),
              "dn": lambda u, m: P.neg(P.mul(m, P.mul(P.ellipj_sn(u, m), P.ellipj_cn(u, m)))),
              "ph": lambda u, m: P.ellipj_dn(u, m)}
for _i, _field in enumerate(("sn", "cn", "dn", "ph")):
    binary("ellipj_" + _field, _special_nary("ellipj", _i), (lambda f: lambda ans, u, m: _ELLIPJ_DU[f](u, m))(_field),
           _ellipj_dm(_field), domain=(0.2, 0.8), spellings=())


# Wright's generalized Bessel function Φ(a, b; x) = Σ x^k / (k! Γ(ak + b)) (a, b >= 0, x >= 0, SciPy's): ∂x Φ(a, b;
# x) = Φ(a, a + b; x), and of its log Φ(a, a + b; x) / Φ(a, b; x); by a or b no closed form (refused)
_WRIGHT_WHY = ("the derivative of scipy.special.{f} by a or b is not supported (a series in Γ(ak + b) with no closed "
               "form, and SciPy has none): make a and b constants or leave them out of --wrt")
_nary("wright_bessel", _special_nary("wright_bessel"),
      (refused(_WRIGHT_WHY.format(f="wright_bessel")), refused(_WRIGHT_WHY.format(f="wright_bessel")),
       lambda ans, a, b, x: P.wright_bessel(a, P.add(a, b), x)), domain=(0.3, 2.0))
_nary("log_wright_bessel", _special_nary("log_wright_bessel"),
      (refused(_WRIGHT_WHY.format(f="log_wright_bessel")), refused(_WRIGHT_WHY.format(f="log_wright_bessel")),
       lambda ans, a, b, x: P.exp(P.sub(P.log_wright_bessel(a, P.add(a, b), x), ans))), domain=(0.3, 2.0))


# the arithmetic-geometric mean of a, b > 0 (SciPy's agm; -agm(-a, -b) of two negatives, NaN of mixed signs):
# M(a, b) = a f(b/a), f(t) = π / (2K(1 - t²)), f'(t) = π (E - t² K) / (2 (1 - t²) t K²) (K, E at m = 1 - t²; 1/2 at
# t = 1), so ∂M/∂b = f'(t) and ∂M/∂a = f(t) - t f'(t) (M is homogeneous of degree 1); both even in the signs of a, b
def _agm_slope(a, b):
    """f'(b/a) of |a|, |b|; where |a| == |b| (m = 0, the quotient 0/0) its series 1/2 + m/16 + 5m²/128 + 61m³/2048
    in m, so that its own derivatives there are the series' (NaN where a or b is 0 or of mixed signs)."""
    t = P.div(P.abs(b), P.abs(a))
    m = P.sub(1.0, P.square(t))
    same = P.eq(m, 0.0)
    ms = P.where(same, 0.5, m)
    k = P.ellipk(ms)
    general = P.div(P.mul(float(np.pi), P.sub(P.ellipe(ms), P.mul(P.square(t), k))),
                    P.mul(P.mul(2.0, ms), P.mul(t, P.square(k))))
    return P.where(same, _series(P.where(same, m, 0.0), [0.5, 1 / 16, 5 / 128, 61 / 2048]), general)


binary("agm", _special_nary("agm"),
       lambda ans, a, b: P.sub(P.div(ans, a), P.mul(P.div(b, a), _agm_slope(a, b))),
       lambda ans, a, b: _agm_slope(a, b), domain=(0.5, 3.0), spellings=())


# the Faddeeva function w(z) = e^{-z²} erfc(-iz) at z = x + iy, its real and imaginary parts u, v (SciPy's wofz): w' =
# -2z w + 2i/√π, so by Cauchy-Riemann ∂u/∂x = ∂v/∂y = -2(xu - yv), ∂v/∂x = -∂u/∂y = 2/√π - 2(xv + yu); jac reads it
# only inside voigt_profile (the Voigt profile, real): V(x; σ, γ) = u(X, Y) / (σ√(2π)), X = x/(σ√2), Y = γ/(σ√2)
def _faddeeva_impl(part):
    def impl(x, y):
        from scipy import special

        x, y = np.asarray(x), np.asarray(y)
        kind = np.result_type(x, y)
        with np.errstate(all="ignore"):
            w = special.wofz(x.astype(np.float64) + 1j * y.astype(np.float64))
        return np.asarray(w.imag if part else w.real).astype(kind if kind.kind == "f" else np.float64, copy=False)
    return impl


def _faddeeva_du(x, y, u, v):  # (∂u/∂x, ∂u/∂y)
    return (P.mul(-2.0, P.sub(P.mul(x, u), P.mul(y, v))),
            P.sub(P.mul(2.0, P.add(P.mul(x, v), P.mul(y, u))), _TWO_OVER_SQRT_PI))


binary("faddeeva_re", _faddeeva_impl(0), lambda ans, x, y: _faddeeva_du(x, y, ans, P.faddeeva_im(x, y))[0],
       lambda ans, x, y: _faddeeva_du(x, y, ans, P.faddeeva_im(x, y))[1], spellings=())
binary("faddeeva_im", _faddeeva_impl(1),
       lambda ans, x, y: P.neg(_faddeeva_du(x, y, P.faddeeva_re(x, y), ans)[1]),
       lambda ans, x, y: _faddeeva_du(x, y, P.faddeeva_re(x, y), ans)[0], spellings=())


def _voigt_partials(x, sigma, gamma):
    """(∂V/∂x, ∂V/∂σ, ∂V/∂γ) for σ != 0 from u's partials; at σ = 0 (the Lorentzian γ / (π(x² + γ²))) the
    Lorentzian's by x and γ, and NaN by σ: SciPy's V has no two-sided derivative there (its value at σ = -1e-9 is
    inf; from the right the slope is 0)."""
    zero = P.eq(sigma, 0.0)
    s = P.where(zero, 1.0, sigma)
    scale = P.mul(float(np.sqrt(2.0)), s)
    big_x, big_y = P.div(x, scale), P.div(gamma, scale)
    u = P.faddeeva_re(big_x, big_y)
    ux, uy = _faddeeva_du(big_x, big_y, u, P.faddeeva_im(big_x, big_y))
    norm = P.div(_INV_SQRT_2PI, s)  # 1 / (σ√(2π))
    dx = P.div(P.mul(norm, ux), scale)
    dgamma = P.div(P.mul(norm, uy), scale)
    dsigma = P.sub(P.neg(P.div(P.mul(norm, u), s)), P.div(P.mul(norm, P.add(P.mul(ux, big_x), P.mul(uy, big_y))), s))
    r2 = P.add(P.square(x), P.square(gamma))
    lorentz_dx = P.div(P.mul(-2.0 / np.pi, P.mul(gamma, x)), P.square(r2))
    lorentz_dgamma = P.div(P.mul(1.0 / np.pi, P.sub(P.square(x), P.square(gamma))), P.square(r2))
    return (P.where(zero, lorentz_dx, dx), P.where(zero, np.nan, dsigma), P.where(zero, lorentz_dgamma, dgamma))


_nary("voigt_profile", _special_nary("voigt_profile"),
      tuple((lambda i: lambda ans, x, sigma, gamma: _voigt_partials(x, sigma, gamma)[i])(i) for i in range(3)),
      domain=(0.3, 2.0))


# inverses of distribution functions, by the probability (1 / the forward function's partial at the answer) and by
# the continuous variables: gdtrix(a, b, p) = gammaincinv(b, p) / a, gdtria(p, b, x) = gammaincinv(b, p) / x, fdtri,
# pdtri (m of pdtr(k, m) = y), bdtri / nbdtri (p of bdtr / nbdtr(k, n, p) = y), nrdtrimn(p, std, x) = x - std z and
# nrdtrisd(mn, p, x) = (x - mn) / z (z = ndtri(p)), Tukey's lambda cdf tklmbda(x, λ) = F, its quantile Q(F) = (F^λ -
# (1 - F)^λ) / λ, so F' = 1 / (F^(λ-1) + (1 - F)^(λ-1)), 0 where F is 0 or 1 (outside the support of λ > 0); the
# shape parameters and integer counts refused (no closed form)
def _gamma_rate_density(a, b, x):  # ∂gdtr(a, b, x)/∂a = x (ax)^(b-1) e^(-ax) / Γ(b)
    return P.mul(x, P.exp(P.sub(P.sub(P.xlogy(P.sub(b, 1.0), P.mul(a, x)), P.mul(a, x)), P.lgamma(b))))


_nary("gdtrix", _special_nary("gdtrix"), (
    lambda ans, a, b, p: P.neg(P.div(ans, a)), _dist_why("gdtrix", "the shape b"),
    lambda ans, a, b, p: P.div(1.0, _gdtr_dx(1.0)(None, a, b, ans))), domain=(0.3, 0.8))
_nary("gdtria", _special_nary("gdtria"), (
    lambda ans, p, b, x: P.div(1.0, _gamma_rate_density(ans, b, x)), _dist_why("gdtria", "the shape b"),
    lambda ans, p, b, x: P.neg(P.div(ans, x))), domain=(0.3, 0.8))
_nary("fdtri", _special_nary("fdtri"), (_dist_why("fdtri", "the degrees of freedom"),) * 2 + (
    lambda ans, n, d, p: P.div(1.0, _f_density(n, d, ans)),), domain=(0.3, 0.8))
binary("pdtri", _special_nary("pdtri"), _dist_why("pdtri", "k (an integer count)"),
       lambda ans, k, y: P.div(1.0, _pdtr_dm(-1.0)(None, k, ans)), domain=(0.3, 0.8), spellings=())
_nary("bdtri", _special_nary("bdtri"), (_dist_why("bdtri", "k or n (integer counts)"),) * 2 + (
    lambda ans, k, n, y: P.div(1.0, _binomial_dp(False)(ans, k, n, ans)),), domain=(0.3, 0.8))
_nary("nbdtri", _special_nary("nbdtri"), (_dist_why("nbdtri", "k or n (integer counts)"),) * 2 + (
    lambda ans, k, n, y: P.div(1.0, _negative_binomial_dp(1.0)(ans, k, n, ans)),), domain=(0.3, 0.8))


def _inverse_normal_density(p):  # dz/dp = √(2π) e^(z²/2), z = ndtri(p)
    return P.mul(float(np.sqrt(2 * np.pi)), P.exp(P.mul(0.5, P.square(P.ndtri(p)))))


_nary("nrdtrimn", _special_nary("nrdtrimn"), (
    lambda ans, p, std, x: P.neg(P.mul(std, _inverse_normal_density(p))),
    lambda ans, p, std, x: P.neg(P.ndtri(p)), lambda ans, p, std, x: P.add(P.mul(0.0, P.isnan(ans)), 1.0)), domain=(0.3, 0.8))
_nary("nrdtrisd", _special_nary("nrdtrisd"), (
    lambda ans, mn, p, x: P.neg(P.div(1.0, P.ndtri(p))),
    lambda ans, mn, p, x: P.neg(P.mul(P.div(ans, P.ndtri(p)), _inverse_normal_density(p))),
    lambda ans, mn, p, x: P.div(1.0, P.ndtri(p))), domain=(0.6, 0.9))


def _tklmbda_dx(ans, x, lmbda):
    edge = P.add(P.eq(ans, 0.0), P.eq(ans, 1.0))
    f = P.where(edge, 0.5, ans)
    power = P.sub(lmbda, 1.0)
    return P.where(edge, 0.0, P.div(1.0, P.add(P.pow(f, power), P.pow(P.sub(1.0, f), power))))


binary("tklmbda", _special_nary("tklmbda"), _tklmbda_dx, _dist_why("tklmbda", "lambda"), domain=(-1.0, 1.0),
       spellings=())


# parabolic cylinder functions (SciPy's pairs: the value and its derivative by x): D_v and V_v solve y'' = (x²/4 - v -
# 1/2) y, W(a, x) solves y'' = (a - x²/4) y (DLMF 12.2, 12.14); the order refused
_PB_WHY = ("the derivative of scipy.special.{f} by its order is not supported (no closed form; SciPy has none): make "
           "it a constant or leave it out of --wrt")
MAX_ORDER = 10_000  # SciPy's lpmv, pbdv and pbvv loop (and pbdv allocates) once per unit of the order: 10**9 hangs


def _order_bounded(name, impl, orders):
    """``impl`` refusing an order (the arguments at ``orders``) past :data:`MAX_ORDER` in absolute value before
    SciPy runs: its recurrences take a step per unit (lpmv(0, 1e9, x): a minute; pbdv(1e9, x): 8 GB, then
    SciPy's MemoryError), and their values are NaN, 0 or inf long before."""
    def bounded(*args):
        for i in orders:
            with np.errstate(invalid="ignore"):
                far = np.abs(np.asarray(args[i])) > MAX_ORDER
            if np.any(far):
                given = float(np.asarray(args[i])[far].flat[0])
                raise JacValueError(f"scipy.special.{name} at an order of {given:g}: jac computes orders up to "
                                    f"{MAX_ORDER:,} (SciPy's recurrence takes a step per unit of the order)")
        return impl(*args)
    return bounded


for _name, _coefficient in (("pbdv", lambda v, x: P.sub(P.mul(0.25, P.square(x)), P.add(v, 0.5))),
                            ("pbvv", lambda v, x: P.sub(P.mul(0.25, P.square(x)), P.add(v, 0.5))),
                            ("pbwa", lambda v, x: P.sub(v, P.mul(0.25, P.square(x))))):
    _bounded = (lambda f, name: _order_bounded(name, f, (0,)) if name != "pbwa" else f)
    binary(_name + "_value", _bounded(_special_nary(_name, 0), _name), refused(_PB_WHY.format(f=_name)),
           (lambda name: lambda ans, v, x: getattr(P, name + "_slope")(v, x))(_name), domain=(0.3, 2.0), spellings=())
    binary(_name + "_slope", _bounded(_special_nary(_name, 1), _name), refused(_PB_WHY.format(f=_name)),
           (lambda name, c: lambda ans, v, x: P.mul(c(v, x), getattr(P, name + "_value")(v, x)))(_name, _coefficient),
           domain=(0.3, 2.0), spellings=())


# the associated Legendre function P_v^m(x) (SciPy's lpmv, |x| <= 1): (x² - 1) P' = v x P - (v + m) P_{v-1}^m
# (DLMF 14.10.5); at x = ±1 the quotient is 0/0 or infinite: NaN there, not a value; by m and v refused
_LPMV_WHY = ("the derivative of scipy.special.lpmv by the order m or the degree v is not supported (no closed form; "
             "SciPy has none): make them constants or leave them out of --wrt")


def _lpmv_dx(ans, m, v, x):
    end = P.eq(P.abs(x), 1.0)
    xs = P.where(end, 0.5, x)
    general = P.div(P.sub(P.mul(P.mul(v, xs), ans), P.mul(P.add(v, m), P.lpmv(m, P.sub(v, 1.0), xs))),
                    P.sub(P.square(xs), 1.0))
    return P.where(end, np.nan, general)


def _lpmv_impl(m, v, x):
    """SciPy's lpmv, refused beyond x = 2.5 at a degree that is not an integer: SciPy documents |x| <= 1, and past
    it answers from a series that loses digits from x ≈ 2.6 and every one past 3 (lpmv(0, 0.25, 5) = -1.9e27 where
    P is 1.378, mpmath's legenp of type 3); up to 2.5 it is within 1e-14 of mpmath for degrees -7.5 ... 200.25.
    An integer degree is a polynomial there, exact; SciPy's NaN (m ≠ 0 past 1, x < -1) stays NaN."""
    out = _order_bounded("lpmv", _special_nary("lpmv"), (0, 1))(m, v, x)
    with np.errstate(invalid="ignore"):
        _, degree, at = np.broadcast_arrays(np.asarray(m), np.asarray(v), np.asarray(x))
        lost = (at > 2.5) & (degree != np.round(degree)) & np.isfinite(out)
    if np.any(lost):
        first = tuple(np.argwhere(lost)[0])
        raise JacValueError(f"scipy.special.lpmv(m, v, x) at v = {float(degree[first]):g}, x = {float(at[first]):g}: "
                            "beyond x = 2.5 SciPy's series for a degree that is not an integer loses its digits "
                            "(SciPy documents |x| <= 1; lpmv(0, 0.25, 5) gives -1.9e27 for 1.378), so jac refuses it")
    return out


_nary("lpmv", _lpmv_impl, (refused(_LPMV_WHY), refused(_LPMV_WHY), _lpmv_dx), domain=(-0.8, 0.8))


# --- session 37: Carlson's symmetric elliptic integrals, the periodic sinc, Jacobi and Gegenbauer polynomials by x
# (lang/specials37.py lowers the spellings) ---------------------------------------------------------------------

# R_F, R_D, R_J, R_G, R_C: SciPy's values. The first derivatives of R_F, R_C and R_G are other Carlson integrals (DLMF
# 19.18.1: ∂R_F/∂z = -R_D(x, y, z)/6, and symmetric; R_C(x, y) = R_F(x, y, y); ∂R_G/∂z = R_F/4 - z R_D(x, y, z)/12,
# from 19.18.4-5); those of R_D and R_J are R-functions R_{-5/2} that reduce to R_D's and R_F's only through
# difference quotients ((R_D(x,y,z) - R_D(y,z,x)) / (2(z - x))), which lose every digit as two arguments meet. They are
# computed instead by a complex step of SciPy's own complex R_D / R_J: Im f(x + ih) / h = f'(x) + O(h²) with no
# subtraction, h = 2⁻⁶⁰|x| (exact to rounding; checked against mpmath in tests/test_special37.py), except R_J's where
# p nears x, y or z (SciPy's complex R_J subtracts there: mpmath's derivative for those elements, _rj_near_p). Their own
# derivatives (second of R_D and R_J, third of R_F and R_G; session 38) are the integrals themselves with raised
# exponents, carlson_integral below. R_J's derivative at p < 0 (Cauchy's principal value, where the complex function
# is another branch) is refused; R_C's at y < 0 goes through R_C(x, y) = √(x/(x - y)) R_C(x - y, -y) (DLMF 19.2.20).
_CARLSON_ARGS = {"elliprd": 3, "elliprj": 4}
# R_D = (3/2) ∫₀^∞ (t+x)^-½ (t+y)^-½ (t+z)^-3/2 dt and R_J = (3/2) ∫₀^∞ (t+x)^-½ (t+y)^-½ (t+z)^-½ (t+p)^-1 dt
# (DLMF 19.16.5, 19.16.6): (exponents, factor)
CARLSON_EXPONENTS = {"elliprd": ((0.5, 0.5, 1.5), 1.5), "elliprj": ((0.5, 0.5, 0.5, 1.0), 1.5)}
CARLSON_STEP, CARLSON_TAIL, CARLSON_CHUNK = 0.25, 40.0, 512


def carlson_quadrature(arrays, b):
    """∫₀^∞ Π_i (t + a_i)^(-b_i) dt element-wise (every a_i >= 0 finite, some > 0; Σ b_i > 1), as float64.

    The trapezoid rule in u = log t, after dividing every argument by the largest (the integral scales as
    M^(1 - Σb)): the integrand e^u Π (e^u + s_i)^(-b_i) is analytic in the strip |Im u| < π (its singularities are at
    u = log s_i ± iπ) and decays exponentially both ways (as e^(-(Σb - 1)u) above, e^((1 - Σ_{s_i = 0} b_i)u) below),
    so the rule's error is about e^(-2π²/h) = e^(-79) at h = 1/4, and the ends are cut where the integrand is e^-40 of
    its size. The nodes are multiples of 1/4 (exact in binary: nodes rounded off an even grid cost 1e-14). Where the
    smallest argument is so far below the largest that s^(-Σb) leaves float64's range, the sum is taken in logarithms
    (about 1e-13 relative). Checked against mpmath at 30 digits in tests/test_special38.py (within 3e-15 relative at
    arguments 1e-3 ... 1e3; R_D's values 1e-300 apart). Chunks of CARLSON_CHUNK elements bound the temporaries."""
    a = np.stack([np.asarray(x, dtype=np.float64).ravel() for x in arrays])
    b = np.asarray(b, dtype=np.float64)[:, None]
    total = float(b.sum())
    out = np.empty(a.shape[1])
    rate = 1.0 - np.where(a == 0, b, 0.0).sum(0)
    with np.errstate(all="ignore"):
        for start in range(0, a.shape[1], CARLSON_CHUNK):
            part = slice(start, start + CARLSON_CHUNK)
            big = a[:, part].max(0)
            s = a[:, part] / big
            smallest = np.where(s > 0, s, 1.0).min(0)
            lo = np.log(smallest).min() - CARLSON_TAIL / rate[part].min()
            hi = CARLSON_TAIL / (total - 1.0)
            u = np.arange(int(np.floor(lo / CARLSON_STEP)), int(np.ceil(hi / CARLSON_STEP)) + 1) * CARLSON_STEP
            # arguments so far apart that s^(-Σb) leaves float64's range: summed in logarithms (1e-13 relative)
            wide = -np.log(smallest) * total > 600.0
            got = _carlson_sum(u, s[:, ~wide], b, big[~wide], total) if not wide.all() else None
            chunk = np.empty(s.shape[1])
            if got is not None:
                chunk[~wide] = got
            if wide.any():
                chunk[wide] = _carlson_log_sum(u, s[:, wide], b, big[wide], total)
            out[part] = chunk
    return out


def _carlson_sum(u, s, b, big, total):
    t = np.exp(u)[:, None]
    f = np.repeat(t, s.shape[1], axis=1)  # nodes × elements: at most ~3,300 × 512 (arguments 1e-300 apart)
    for si, bi in zip(s, b[:, 0]):
        f *= (t + si) ** -bi
    return big ** (1.0 - total) * CARLSON_STEP * f.sum(0)


def _carlson_log_sum(u, s, b, big, total):
    logf = np.repeat(u[:, None], s.shape[1], axis=1)
    for si, bi in zip(s, b[:, 0]):
        logf -= bi * np.logaddexp(u[:, None], np.log(si))
    shift = logf.max(0)
    return np.exp(shift + (1.0 - total) * np.log(big) + np.log(CARLSON_STEP * np.exp(logf - shift).sum(0)))


def _carlson_integral_impl(*args, fname, b, c):
    """c ∫₀^∞ Π (t + a_i)^(-b_i) dt: a derivative of R_D or R_J (``fname``) of order two or more. NaN where SciPy's
    value is NaN (a negative argument, a NaN) or infinite (the integral of R_D / R_J's own exponents diverges: two
    zero arguments); ±inf where only this one diverges (a zero argument whose raised exponent reaches 1); 0 where an
    argument is +inf; R_J's at p < 0 (a principal value) refused, as its first derivatives."""
    arrays = np.broadcast_arrays(*[np.asarray(x) for x in args])
    kind = np.result_type(*arrays)
    shape = arrays[0].shape
    a = np.stack([x.astype(np.float64).ravel() for x in arrays])
    base = np.asarray(CARLSON_EXPONENTS[fname][0])[:, None]
    with np.errstate(all="ignore"):
        if fname == "elliprj" and np.any((a[3] < 0) & np.isfinite(a).all(0) & (a[:3] >= 0).all(0)):
            raise JacValueError("the derivative of scipy.special.elliprj(x, y, z, p) at p < 0 is not supported: the "
                                "value there is Cauchy's principal value, whose derivative jac does not compute")
        nan = np.isnan(a).any(0) | (a < 0).any(0) | (1.0 - np.where(a == 0, base, 0.0).sum(0) <= 0)
        zero_inf = np.isposinf(a).any(0)
        diverges = 1.0 - np.where(a == 0, np.asarray(b)[:, None], 0.0).sum(0) <= 0
        todo = ~nan & ~zero_inf & ~diverges
        out = np.where(nan, np.nan, np.where(zero_inf, 0.0, np.copysign(np.inf, c)))
        if todo.any():
            out[todo] = c * carlson_quadrature(list(a[:, todo]), b)
    return out.reshape(shape).astype(kind if kind.kind == "f" else np.float64, copy=False)


def _raised(b, i, j=None):
    """The exponents b with b_i (and b_j) one higher: each derivative by argument i multiplies by -b_i and raises it."""
    out = list(b)
    for k in (i,) if j is None else (i, j):
        out[k] += 1.0
    return tuple(out)


def _carlson_integral_rule(i, reverse):
    def rule(g, ans, *args, fname, b, c):
        d = P.carlson_integral(*args, fname=fname, b=_raised(b, i), c=-c * b[i])
        if reverse:
            return unbroadcast(P.mul(g, d), shape_of(args[i]))
        return P.mul(lift(g, len(shape_of(ans))), d)
    return rule


defop("carlson_integral", _carlson_integral_impl, lambda *s, fname, b, c: broadcast(*s),
      tuple(_carlson_integral_rule(i, True) for i in range(4)),
      tuple(_carlson_integral_rule(i, False) for i in range(4)), domain=(0.3, 2.0), broadcasting=True,
      elementwise=True)


def _carlson_slope_rule(fname, i, j, reverse):
    """∂_j of R_D's / R_J's slope by argument i: c b_i (b_j + [i = j]) ∫ Π (t + a_k)^(-b_k - [k = i] - [k = j])."""
    b, c = CARLSON_EXPONENTS[fname]

    def rule(g, ans, *args, index):
        d = P.carlson_integral(*args, fname=fname, b=_raised(b, i, j), c=c * b[i] * (b[j] + (i == j)))
        if reverse:
            return unbroadcast(P.mul(g, d), shape_of(args[j]))
        return P.mul(lift(g, len(shape_of(ans))), d)
    return rule


def _carlson_slope_rules(fname, arity, reverse):
    """The rules of the slope op by each argument j, for whichever index the node holds."""
    def by(j):
        rules = [_carlson_slope_rule(fname, i, j, reverse) for i in range(arity)]
        return lambda g, ans, *args, index: rules[index](g, ans, *args, index=index)
    return tuple(by(j) for j in range(arity))


def _carlson_slope_impl(*args, fname, index):
    """∂ scipy.special.<fname> / ∂ argument ``index`` by a complex step (see above): -inf where that argument is 0
    and the value finite (the integrand's t^(-3/2) at t = 0), 0 where it is +inf, NaN where SciPy's value is NaN."""
    from scipy import special

    arrays = np.broadcast_arrays(*[np.asarray(a) for a in args])
    kind = np.result_type(*arrays)
    wide = [a.astype(np.float64) for a in arrays]
    f = getattr(special, fname)
    with np.errstate(all="ignore"):
        value = f(*wide)
        if fname == "elliprj" and np.any((wide[3] < 0) & np.isfinite(value)):
            raise JacValueError("the derivative of scipy.special.elliprj(x, y, z, p) at p < 0 is not supported: the "
                                "value there is Cauchy's principal value, whose derivative jac does not compute")
        at = wide[index]
        h = np.where(np.isfinite(at) & (at != 0), np.abs(at) * 2.0 ** -60, 1.0)
        shifted = [w.astype(np.complex128) for w in wide]
        shifted[index] = shifted[index] + 1j * h
        slope = np.asarray(f(*shifted)).imag / h
        if fname == "elliprj":
            slope = _rj_near_p(wide, index, slope)
        slope = np.where(at == 0, -np.inf, np.where(np.isposinf(at), 0.0, slope))
        slope = np.where(np.isnan(value) | np.isnan(at), np.nan, np.where(np.isinf(value), np.nan, slope))
    return np.asarray(slope).astype(kind if kind.kind == "f" else np.float64, copy=False)


RJ_NEAR = 1e-4  # p within this relative distance of x, y or z: SciPy's complex R_J loses eps/distance in its slope
# mpmath's derivative is taken for at most this many elements of a call, at arguments of magnitude within this range
# (or 0): at subnormal ones (1e-310) a 30-digit mpmath.diff of elliprj ran for more than ten minutes; elsewhere refused
RJ_MPMATH_MAX, RJ_MPMATH_RANGE = 1024, (1e-100, 1e100)


def _rj_near_p(wide, index, slope):
    """R_J's slope where p nears x, y or z: SciPy's complex R_J subtracts there (its δ = (p - x)(p - y)(p - z) term):
    the complex step loses about 5e-16 / the relative distance (2e-4 relative at 1e-12 apart, 300 at 0), so those
    elements are mpmath's derivative at 30 digits instead (mpmath ships with SymPy)."""
    x, y, z, p = wide
    with np.errstate(invalid="ignore"):
        near = np.zeros(np.shape(p), dtype=bool)
        for w in (x, y, z):
            near |= np.abs(p - w) <= RJ_NEAR * np.maximum(np.abs(p), np.abs(w))
        near &= np.isfinite(slope) & (p > 0)
        for w in wide:
            near &= np.isfinite(w) & (w >= 0)  # SciPy's domain (else its value is NaN, and so the slope)
        lo, hi = RJ_MPMATH_RANGE
        outside = np.zeros(near.shape, dtype=bool)
        for w in wide:
            outside |= (w != 0) & ((w < lo) | (w > hi))
    if not near.any():
        return slope
    if (near & outside).any() or np.count_nonzero(near) > RJ_MPMATH_MAX:
        raise JacValueError(f"the derivative of scipy.special.elliprj(x, y, z, p) where p is within {RJ_NEAR:g} "
                            "(relative) of x, y or z is computed by mpmath, which jac does only for arguments of "
                            f"magnitude {lo:g} to {hi:g} (or 0) and at most {RJ_MPMATH_MAX} such elements a call: "
                            "SciPy's own slope there loses its digits")
    import mpmath

    out = np.array(slope, dtype=np.float64)
    with mpmath.workdps(30):
        for at in np.ndindex(near.shape):
            if not near[at]:
                continue
            args = [mpmath.mpf(float(a[at])) for a in wide]
            orders = tuple(int(k == index) for k in range(4))
            out[at] = float(mpmath.re(mpmath.diff(mpmath.elliprj, args, orders)))
    return out


for _name, _arity in _CARLSON_ARGS.items():
    defop(_name + "_slope", (lambda f: lambda *args, index: _carlson_slope_impl(*args, fname=f, index=index))(_name),
          lambda *s, index: broadcast(*s), _carlson_slope_rules(_name, _arity, True),
          _carlson_slope_rules(_name, _arity, False), domain=(0.3, 2.0), broadcasting=True, elementwise=True)
    _nary(_name, _special_nary(_name), tuple(
        (lambda i, f: lambda ans, *args: getattr(P, f + "_slope")(*args, index=i))(i, _name) for i in range(_arity)),
        domain=(0.3, 2.0))
_nary("elliprf", _special_nary("elliprf"), (
    lambda ans, x, y, z: P.mul(P.elliprd(y, z, x), -1.0 / 6.0),
    lambda ans, x, y, z: P.mul(P.elliprd(z, x, y), -1.0 / 6.0),
    lambda ans, x, y, z: P.mul(P.elliprd(x, y, z), -1.0 / 6.0)), domain=(0.3, 2.0))


def _rc_partials(x, y):
    """(∂R_C/∂x, ∂R_C/∂y) of y > 0: R_F(x, y, y)'s, -R_D(y, y, x)/6 and -R_D(x, y, y)/3."""
    return P.mul(P.elliprd(y, y, x), -1.0 / 6.0), P.mul(P.elliprd(x, y, y), -1.0 / 3.0)


def _rc_partial(i):
    """R_C's partial by argument i; at y < 0 (principal value) through R_C(x, y) = s R_C(u, v), s = √(x/u), u = x - y,
    v = -y: ∂x = s_x R_C(u, v) + s R_x(u, v), ∂y = s_y R_C(u, v) - s (R_x(u, v) + R_y(u, v)), s_x = -y/(2su²),
    s_y = x/(2su²)."""
    def rule(ans, x, y):
        negative = P.lt(y, 0.0)
        yp = P.where(negative, 1.0, y)
        direct = _rc_partials(x, yp)[i]
        u, v = P.where(negative, P.sub(x, y), 1.0), P.where(negative, P.neg(y), 1.0)
        s = P.sqrt(P.div(x, u))
        rx, ry = _rc_partials(u, v)
        rc = P.elliprc(u, v)
        two_s_u2 = P.mul(P.mul(2.0, s), P.square(u))
        if i == 0:
            moved = P.add(P.mul(P.div(P.neg(y), two_s_u2), rc), P.mul(s, rx))
        else:
            moved = P.sub(P.mul(P.div(x, two_s_u2), rc), P.mul(s, P.add(rx, ry)))
        return P.where(negative, moved, direct)
    return rule


_nary("elliprc", _special_nary("elliprc"), (_rc_partial(0), _rc_partial(1)), domain=(0.3, 2.0))


def _rg_partial(i):
    """∂R_G/∂(argument i) = R_F/4 - w R_D(..., w)/12, w that argument (its limit R_F/4 at w = 0, where w R_D → 0)."""
    def rule(ans, x, y, z):
        args = [x, y, z]
        w = args[i]
        others = [a for k, a in enumerate(args) if k != i]
        zero = P.eq(w, 0.0)
        term = P.mul(P.where(zero, 0.0, w), P.elliprd(others[0], others[1], P.where(zero, 1.0, w)))
        return P.sub(P.mul(P.elliprf(x, y, z), 0.25), P.div(term, 12.0))
    return rule


_nary("elliprg", _special_nary("elliprg"), tuple(_rg_partial(i) for i in range(3)), domain=(0.3, 2.0))


# the periodic sinc D_n(x) = sin(nx/2) / (n sin(x/2)) of an integer n >= 1 (SciPy's diric, n a constant): the
# Dirichlet kernel (1/n) Σ_j cos(c_j x), c_j = (n - 1 - 2j)/2, j = 0 ... n-1, so its k-th derivative is
# (1/n) Σ_j c_j^k cos(c_j x + kπ/2): no quotient, no 0/0 at x = 2πm (where the quotient form loses every digit
# near, as sin(x/2) → 0), every order. Pairs ±c_j are summed once (cos is even; the odd orders' sines odd).
DIRIC_MAX = 100_000  # n: the sum has n/2 terms per element


def _diric_slope_impl(x, n, order):
    x = np.asarray(x)
    kind = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)
    wide = x.astype(np.float64)
    total = np.zeros(wide.shape)
    with np.errstate(all="ignore"):
        for j in range(n // 2):
            c = (n - 1 - 2 * j) / 2.0
            total += 2.0 * c ** order * np.cos(c * wide + order * np.pi / 2)
        if n % 2 and order == 0:
            total += 1.0
        out = np.where(np.isfinite(wide), total / n, np.nan)
    return out.astype(kind, copy=False)


defop("diric_slope", _diric_slope_impl, lambda s, n, order: s,
      (lambda g, ans, x, n, order: P.mul(g, P.diric_slope(x, n=n, order=order + 1)),),
      (lambda t, ans, x, n, order: P.mul(t, P.diric_slope(x, n=n, order=order + 1)),),
      domain=(-3.0, 3.0), elementwise=True)
defop("diric", lambda x, n: _special_nary("diric")(x, np.asarray(n)), lambda s, n: s,
      (lambda g, ans, x, n: P.mul(g, P.diric_slope(x, n=n, order=1)),),
      (lambda t, ans, x, n: P.mul(t, P.diric_slope(x, n=n, order=1)),), domain=(-3.0, 3.0), elementwise=True)


# Jacobi, shifted Jacobi and Gegenbauer polynomials of a constant degree n (SciPy's integer loop for an integer n,
# its hypergeometric one otherwise), by x: d/dx P_n^(α,β)(x) = (n + α + β + 1)/2 P_{n-1}^(α+1,β+1)(x) (DLMF 18.9.15),
# d/dx G_n^(p,q)(x) = n G_{n-1}^(p+2,q+1)(x) (G_n^(p,q)(x) = P_n^(p-q,q-1)(2x - 1) / binom(2n + p - 1, n)),
# d/dx C_n^(α)(x) = 2α C_{n-1}^(α+1)(x) (18.9.19); each holds for a real n (the 2F1 form). By n, α, β, p, q refused.
_POLY_WHY = ("the derivative of scipy.special.{f} by its parameters is not supported (no closed form; SciPy has "
             "none): make them constants or leave them out of --wrt")


def _degree(n):
    return int(n) if float(n).is_integer() else float(n)


def _poly_impl(fname):
    def impl(*args, n):
        from scipy import special

        arrays = [np.asarray(a) for a in args]
        kind = np.result_type(*arrays)
        with np.errstate(all="ignore"):
            out = np.asarray(getattr(special, fname)(_degree(n), *arrays))
        return out.astype(kind if kind.kind == "f" else np.float64, copy=False)
    return impl


def _poly_dx(fname):
    def rule(ans, *args, n):
        if n == 0:
            return P.mul(ans, 0.0)
        *params, x = args
        if fname == "eval_jacobi":
            alpha, beta = params
            scale = P.mul(P.add(P.add(alpha, beta), n + 1.0), 0.5)
            return P.mul(scale, P.eval_jacobi(P.add(alpha, 1.0), P.add(beta, 1.0), x, n=n - 1))
        if fname == "eval_sh_jacobi":
            p, q = params
            return P.mul(float(n), P.eval_sh_jacobi(P.add(p, 2.0), P.add(q, 1.0), x, n=n - 1))
        (alpha,) = params
        return P.mul(P.mul(alpha, 2.0), P.eval_gegenbauer(P.add(alpha, 1.0), x, n=n - 1))
    return rule


def _poly_op(fname, count):
    def vjp_x(g, ans, *args, n):
        return unbroadcast(P.mul(g, _poly_dx(fname)(ans, *args, n=n)), shape_of(args[-1]))

    def jvp_x(t, ans, *args, n):
        return P.mul(lift(t, len(shape_of(ans))), _poly_dx(fname)(ans, *args, n=n))

    why = refused(_POLY_WHY.format(f=fname))
    defop(fname, _poly_impl(fname), lambda *s, n: broadcast(*s), (why,) * (count - 1) + (vjp_x,),
          (why,) * (count - 1) + (jvp_x,), domain=(0.2, 0.8), broadcasting=True, elementwise=True)


for _name, _arity in (("eval_jacobi", 3), ("eval_sh_jacobi", 3), ("eval_gegenbauer", 2)):
    _poly_op(_name, _arity)


# Ops whose impl refuses the call at some values (Op.refuses): a JacError (ties PyTorch orders otherwise, an index
# float32 cannot hold, NaN or a value out of range, the checks of ir/refusals.py) or LAPACK's (a singular or NaN
# matrix, repeated eigenvalues). The interpreter evaluates every node before it differentiates, so it refuses
# there; a kernel computes what its results read, and a Jacobian, VJP or JVP whose derivative reads no such
# node (a check subtracted from the value, an index the value alone uses) would answer instead. Every op whose
# impl raises is listed (tests/test_lead31.py reads the impls' sources).
for _name in ("argcum", "argmax", "argmedian", "argmin", "argmode", "argpartition", "argquantile", "argsort", "bce",
              "carlson_integral", "cholesky", "cofactor", "det", "digitize", "eig_gaps", "eigh_vectors", "eigvalsh",
              "elliprd_slope", "elliprj_slope", "fftmap", "finite_range", "histc", "hyp1f1", "integer", "inv",
              "lambertw", "lambertw_m1", "lexsort", "logabsdet", "lpmv", "lu", "matrix_exp", "mvlgamma", "one_hot",
              "pbdv_slope", "pbdv_value", "pbvv_slope", "pbvv_value", "pivot_matrix", "qr_q", "qr_r", "searchsorted",
              "singular_check", "solve", "spectral_check", "svd_inv", "svd_u", "svd_vh", "svd_zero_check", "svdvals", "zeta_dx"):
    _BLOCKS[_name] = _replace(_BLOCKS[_name], refuses=True)
OPS: Mapping[str, Op] = MappingProxyType(_BLOCKS)  # the registry, read-only
P = _Prims(OPS)  # the rules above look OPS and P up when they run, after these lines
