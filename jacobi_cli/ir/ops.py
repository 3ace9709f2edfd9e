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

from types import MappingProxyType
from typing import Mapping

import numpy as np

from ..errors import JacShapeError, JacValueError
from . import structured
from .op import Op, Proxy
from .shapes import broadcast, fmt, reduce as reduce_shape


_BLOCKS: dict[str, Op] = {}  # filled by the blocks below while this module is imported; read through OPS


def defop(name, impl, shape, vjp=(), jvp=(), **kw) -> Op:
    op = Op(name, impl, shape, tuple(vjp), tuple(jvp), **kw)
    _BLOCKS[name] = op
    return op


def bind(name: str, *args, **params):
    """Apply op ``name``: NumPy on arrays, a new graph node if any argument is traced,
    the batch's own rule if one is a structured batch."""
    proxy = None
    for a in args:
        if isinstance(a, Proxy) and (proxy is None or a.traces):
            proxy = a
            if a.traces:
                break
    if proxy is not None:
        return proxy.bind(OPS[name], args, params)
    return _weak(OPS[name].impl(*args, **params), args)


def _weak(out, args):
    """Python numbers in, a Python number out: np.float64(0.5) would make a float32 rule
    (pow's y - 1 with y = 1.5) promote its result to float64."""
    if isinstance(out, np.generic) and all(type(a) in (int, float) for a in args):
        return out.item()
    return out


class _Prims:
    """``P.mul(a, b)`` is ``bind("mul", a, b)``: one attribute per op of the registry, made
    once (after the last block) and never changed."""

    def __init__(self, ops: dict):
        for op in ops.values():
            object.__setattr__(self, op.name, _prim(op))

    def __setattr__(self, name, value):
        raise AttributeError("P is read-only")


def _prim(op: Op):
    impl = op.impl

    def prim(*args, **params):
        for a in args:  # bind's dispatch, inlined: rules call this for every op of a pass
            if isinstance(a, Proxy):
                return bind(op.name, *args, **params)
        return _weak(impl(*args, **params), args)

    prim.__name__ = op.name
    return prim





# --- helpers the rules share ------------------------------------------------------

def shape_of(a) -> tuple:
    return a.shape if isinstance(a, Proxy) else np.shape(a)


def lift(t, ndim: int):
    """Insert length-1 axes after the batch axis so ``t`` (B, *s) has ``1 + ndim`` axes."""
    s = shape_of(t)
    extra = ndim - (len(s) - 1)
    return P.reshape(t, shape=(s[0],) + (1,) * extra + tuple(s[1:])) if extra > 0 else t


def unbroadcast(g, shape: tuple):
    """Sum a batched cotangent ``(B, *out)`` down to ``(B, *shape)`` (NumPy broadcasting undone)."""
    gs = shape_of(g)
    if tuple(gs[1:]) == tuple(shape):
        return g
    lead = len(gs) - 1 - len(shape)
    keep = (gs[0],) + (1,) * lead + tuple(shape)
    summed = P.sum_to(g, shape=keep)
    return P.reshape(summed, shape=(gs[0],) + tuple(shape)) if lead else summed


def expand_reduced(g, in_shape: tuple, axes: tuple, keepdims: bool):
    """Bring a batched reduction cotangent back to ``(B, *in_shape)``."""
    b = shape_of(g)[0]
    kept = reduce_shape(in_shape, axes, True)
    if not keepdims:
        g = P.reshape(g, shape=(b,) + kept)
    return P.broadcast_to(g, shape=(b,) + tuple(in_shape))


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

def unary(name, impl, deriv, domain=(-2.0, 2.0), sympy=None, spellings=None, **kw):
    """An element-wise op whose derivative is ``deriv(x, ans)`` (x, ans unbatched)."""
    def vjp(g, ans, x):
        return P.mul(g, deriv(x, ans))

    def jvp(t, ans, x):
        return P.mul(t, deriv(x, ans))

    return defop(name, impl, lambda s: s, (vjp,), (jvp,), domain=domain, sympy=sympy,
                 spellings=(name,) if spellings is None else spellings, **kw)


def _sympy_elementwise(f):
    """The SymPy translation of an element-wise op: ``f(sp, *scalars)`` on each element."""
    return lambda S, *args: S.elementwise(lambda *v: f(S.sp, *v), *args)


def _sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(np.asarray(x) >= 0, 1 / (1 + e), e / (1 + e))


def _linear_unary(name, impl, apply, sympy=None, **kw):
    """An element-wise linear op: its VJP and JVP are the op itself."""
    return defop(name, impl, lambda s: s, (lambda g, ans, x: apply(g),), (lambda t, ans, x: apply(t),),
                 sympy=sympy, **kw)


_linear_unary("neg", np.negative, lambda g: P.neg(g), sympy=lambda S, x: S.neg(x), spellings=("negative", "neg"),
              exact_int=True, structure=structured.neg_rule)

unary("exp", np.exp, lambda x, ans: ans,
      sympy=_sympy_elementwise(lambda sp, v: sp.exp(v)))
unary("log", np.log, lambda x, ans: P.div(1.0, x), domain=(0.2, 3.0),
      sympy=_sympy_elementwise(lambda sp, v: sp.log(v)))
unary("log1p", np.log1p, lambda x, ans: P.div(1.0, P.add(x, 1.0)), domain=(-0.8, 3.0),
      sympy=_sympy_elementwise(lambda sp, v: sp.log(1 + v)))
unary("sqrt", np.sqrt, lambda x, ans: P.div(0.5, ans), domain=(0.2, 3.0),
      sympy=_sympy_elementwise(lambda sp, v: sp.sqrt(v)))
unary("abs", np.abs, lambda x, ans: P.sign(x),
      sympy=_sympy_elementwise(lambda sp, v: sp.Abs(v)), spellings=("abs", "absolute"), exact_int=True)
unary("sin", np.sin, lambda x, ans: P.cos(x),
      sympy=_sympy_elementwise(lambda sp, v: sp.sin(v)))
unary("cos", np.cos, lambda x, ans: P.neg(P.sin(x)),
      sympy=_sympy_elementwise(lambda sp, v: sp.cos(v)))
unary("tan", np.tan, lambda x, ans: P.add(1.0, P.mul(ans, ans)), domain=(-1.2, 1.2),
      sympy=_sympy_elementwise(lambda sp, v: sp.tan(v)))
unary("tanh", np.tanh, lambda x, ans: P.sub(1.0, P.mul(ans, ans)),
      sympy=_sympy_elementwise(lambda sp, v: sp.tanh(v)))
unary("sinh", np.sinh, lambda x, ans: P.cosh(x),
      sympy=_sympy_elementwise(lambda sp, v: sp.sinh(v)))
unary("cosh", np.cosh, lambda x, ans: P.sinh(x),
      sympy=_sympy_elementwise(lambda sp, v: sp.cosh(v)))
unary("arcsin", np.arcsin, lambda x, ans: P.div(1.0, P.sqrt(P.sub(1.0, P.mul(x, x)))), domain=(-0.9, 0.9),
      sympy=_sympy_elementwise(lambda sp, v: sp.asin(v)), spellings=("arcsin", "asin"))
unary("arccos", np.arccos, lambda x, ans: P.neg(P.div(1.0, P.sqrt(P.sub(1.0, P.mul(x, x))))), domain=(-0.9, 0.9),
      sympy=_sympy_elementwise(lambda sp, v: sp.acos(v)), spellings=("arccos", "acos"))
unary("arctan", np.arctan, lambda x, ans: P.div(1.0, P.add(1.0, P.mul(x, x))),
      sympy=_sympy_elementwise(lambda sp, v: sp.atan(v)), spellings=("arctan", "atan"))
unary("sigmoid", _sigmoid, lambda x, ans: P.mul(ans, P.sub(1.0, ans)),
      sympy=_sympy_elementwise(lambda sp, v: 1 / (1 + sp.exp(-v))), spellings=("sigmoid", "expit"))
unary("relu", lambda x: np.maximum(x, 0), lambda x, ans: P.gt(x, 0.0),
      sympy=_sympy_elementwise(lambda sp, v: sp.Max(v, 0)))
unary("softplus", lambda x: np.logaddexp(0, x), lambda x, ans: P.sigmoid(x),
      sympy=_sympy_elementwise(lambda sp, v: sp.log(1 + sp.exp(v))))
unary("square", np.square, lambda x, ans: P.mul(2.0, x),
      sympy=_sympy_elementwise(lambda sp, v: v**2), exact_int=True)

# Masks: no derivative flows through them.
defop("sign", lambda x: np.sign(x), lambda s: s, nondiff=True,
      sympy=_sympy_elementwise(lambda sp, v: sp.sign(v)))
defop("gt", lambda a, b: np.greater(a, b).astype(_dtype_of(a, b)), broadcast, nondiff=True,
      sympy=_sympy_elementwise(lambda sp, a, b: sp.Piecewise((1, a > b), (0, True))))
defop("ge", lambda a, b: np.greater_equal(a, b).astype(_dtype_of(a, b)), broadcast, nondiff=True,
      sympy=_sympy_elementwise(lambda sp, a, b: sp.Piecewise((1, a >= b), (0, True))))
defop("eq", lambda a, b: np.equal(a, b).astype(_dtype_of(a, b)), broadcast, nondiff=True,
      sympy=_sympy_elementwise(lambda sp, a, b: sp.Piecewise((1, sp.Eq(a, b)), (0, True))))


def binary(name, impl, dx, dy, domain=(-2.0, 2.0), sympy=None, **kw):
    """An element-wise op with broadcasting; ``dx(ans, x, y)`` and ``dy`` are the partials."""
    def vjp_x(g, ans, x, y):
        return unbroadcast(P.mul(g, dx(ans, x, y)), shape_of(x))

    def vjp_y(g, ans, x, y):
        return unbroadcast(P.mul(g, dy(ans, x, y)), shape_of(y))

    def jvp_x(t, ans, x, y):
        return P.mul(lift(t, len(shape_of(ans))), dx(ans, x, y))

    def jvp_y(t, ans, x, y):
        return P.mul(lift(t, len(shape_of(ans))), dy(ans, x, y))

    return defop(name, impl, broadcast, (vjp_x, vjp_y), (jvp_x, jvp_y), domain=domain, sympy=sympy,
                 broadcasting=True, **kw)


def _add_like(name, impl, sign, sympy=None, **kw):
    def vjp_x(g, ans, x, y):
        return unbroadcast(g, shape_of(x))

    def vjp_y(g, ans, x, y):
        return unbroadcast(g if sign > 0 else P.neg(g), shape_of(y))

    def jvp_x(t, ans, x, y):
        return lift(t, len(shape_of(ans)))

    def jvp_y(t, ans, x, y):
        t = lift(t, len(shape_of(ans)))
        return t if sign > 0 else P.neg(t)

    return defop(name, impl, broadcast, (vjp_x, vjp_y), (jvp_x, jvp_y), sympy=sympy, broadcasting=True,
                 exact_int=True, **kw)


_add_like("add", np.add, +1, sympy=lambda S, a, b: S.add(a, b), spellings=("add",), label="add (+)",
          identity=(0.0, (0, 1)), structure=structured.add_rule)
_add_like("sub", np.subtract, -1, sympy=lambda S, a, b: S.sub(a, b), spellings=("sub", "subtract"),
          label="subtract (-)", identity=(0.0, (1,)), structure=structured.sub_rule)
binary("mul", np.multiply, lambda ans, x, y: y, lambda ans, x, y: x, sympy=lambda S, a, b: S.mul(a, b),
       spellings=("mul", "multiply"), label="multiply (*)", exact_int=True, identity=(1.0, (0, 1)),
       structure=structured.mul_rule)
binary("div", np.true_divide, lambda ans, x, y: P.div(1.0, y), lambda ans, x, y: P.neg(P.div(ans, y)),
       domain=(0.5, 2.0), sympy=lambda S, a, b: S.div(a, b), spellings=("div", "divide", "true_divide"),
       label="divide (/)", structure=structured.div_rule)


def _pow_dx(ans, x, y):
    # y * x**(y-1), and 0 where y == 0 (PyTorch's choice: d/dx x**0 = 0 even at x = 0)
    if isinstance(y, (int, float)):  # a constant exponent (x**2): no masks needed
        return 0.0 if y == 0 else P.mul(y, P.pow(x, y - 1.0))
    return P.where(P.eq(y, 0.0), 0.0, P.mul(y, P.pow(x, P.sub(y, 1.0))))


def _pow_dy(ans, x, y):
    # x**y * log(x), and 0 where x == 0 and y >= 0 (PyTorch's choice; x = 0, y < 0 gives
    # inf * log(0) = -inf as in PyTorch). ``safe`` keeps log(0) out of the masked branch,
    # whose derivative would otherwise be 0 * inf = NaN in a Hessian.
    masked = P.mul(P.eq(x, 0.0), P.ge(y, 0.0))
    safe = P.where(masked, 1.0, x)
    return P.where(masked, 0.0, P.mul(ans, P.log(safe)))


binary("pow", np.power, _pow_dx, _pow_dy, domain=(0.5, 2.0), sympy=lambda S, a, b: S.power(a, b),
       spellings=("pow", "power"), label="power (**)", exact_int=True)
# maximum / minimum at ties split the derivative evenly between both sides, as PyTorch does.
binary("maximum", np.maximum,
       lambda ans, x, y: P.add(P.gt(x, y), P.mul(0.5, P.eq(x, y))),
       lambda ans, x, y: P.add(P.gt(y, x), P.mul(0.5, P.eq(x, y))),
       sympy=_sympy_elementwise(lambda sp, a, b: sp.Max(a, b)), spellings=("maximum",), exact_int=True)
binary("minimum", np.minimum,
       lambda ans, x, y: P.add(P.gt(y, x), P.mul(0.5, P.eq(x, y))),
       lambda ans, x, y: P.add(P.gt(x, y), P.mul(0.5, P.eq(x, y))),
       sympy=_sympy_elementwise(lambda sp, a, b: sp.Min(a, b)), spellings=("minimum",), exact_int=True)


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
      sympy=_sympy_elementwise(lambda sp, c, a, b: sp.Piecewise((a, sp.Ne(c, 0)), (b, True))), structure=structured.where_rule)


def _clip_impl(x, lo, hi):
    out = x
    if lo is not None:
        out = np.maximum(out, lo)
    if hi is not None:
        out = np.minimum(out, hi)
    return out


# clip(x, lo, hi): torch.clamp's masks (checked against PyTorch 2.13 in tests/test_kinks.py):
# x where lo <= x <= hi; lo where x < lo < hi; hi where x > hi or lo > hi (the value is then hi).
def _clip_masks(x, lo, hi):
    return (P.mul(P.ge(x, lo), P.ge(hi, x)),
            P.mul(P.gt(lo, x), P.gt(hi, lo)),
            P.sub(1.0, P.mul(P.ge(hi, x), P.ge(hi, lo))))


def _clip_vjp(i):
    return lambda g, ans, x, lo, hi: unbroadcast(P.mul(g, _clip_masks(x, lo, hi)[i]), shape_of((x, lo, hi)[i]))


def _clip_jvp(i):
    return lambda t, ans, x, lo, hi: P.mul(lift(t, len(shape_of(ans))), _clip_masks(x, lo, hi)[i])


defop("clip", _clip_impl, broadcast, [_clip_vjp(i) for i in range(3)], [_clip_jvp(i) for i in range(3)],
      sympy=_sympy_elementwise(lambda sp, x, lo, hi: sp.Min(sp.Max(x, lo), hi)))


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
# sum_to: the same number of axes in and out; sums the axes where ``shape`` has 1.
defop("sum_to", _sum_to_impl, lambda s, shape: tuple(shape),
      (lambda g, ans, a, shape: P.broadcast_to(g, shape=(batch_size(g),) + tuple(shape_of(a))),),
      (lambda t, ans, a, shape: P.sum_to(t, shape=(batch_size(t),) + tuple(shape)),),
      sympy=lambda S, a, shape: S.explicit(_sum_to_impl, a, shape=shape), view="maybe", structure=structured.sum_to_rule)


def _reshape_shape(s, shape):
    from .shapes import is_concrete, size
    if is_concrete(s) and is_concrete(shape) and size(s) != size(shape):
        raise JacShapeError(f"cannot reshape an array of shape {fmt(s)} ({size(s)} elements) into {fmt(shape)}")
    return tuple(shape)


defop("reshape", lambda a, shape: np.reshape(a, shape), _reshape_shape,
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


defop("transpose", lambda a, axes: np.transpose(a, axes), _transpose_shape,
      (lambda g, ans, a, axes: P.transpose(g, axes=(0,) + shifted(_inverse_perm(axes))),),
      (lambda t, ans, a, axes: P.transpose(t, axes=(0,) + shifted(tuple(axes))),),
      sympy=lambda S, a, axes: S.transpose(a, axes), view="always", method=("transpose", "axes"),
      structure=structured.transpose_rule)


def index_shape(s, index):
    """The shape of ``a[index]`` for a basic index (ints, slices, None, int arrays)."""
    from .shapes import is_concrete
    if is_concrete(s):
        try:
            probe = np.broadcast_to(np.empty((), dtype=np.int8), s)
            return probe[index].shape
        except IndexError as err:
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
        np.add.at(out, index, g)
    else:
        out[index] = g
    return out


def _batched(index):
    return (slice(None),) + tuple(index)


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


defop("sum", lambda a, axes, keepdims=False: np.sum(a, axis=axes, keepdims=keepdims), _reduction_shape,
      (lambda g, ans, a, axes, keepdims=False: expand_reduced(g, shape_of(a), axes, keepdims),),
      (lambda t, ans, a, axes, keepdims=False: P.sum(t, axes=shifted(axes), keepdims=keepdims),),
      sympy=lambda S, a, axes, keepdims=False: S.total(a, axes, keepdims), structure=structured.sum_rule)
def _mean_impl(a, axes, keepdims=False):
    # sum / count: the mean of an empty group is NaN (as in PyTorch) without NumPy's RuntimeWarning
    with np.errstate(all="ignore"):
        return np.true_divide(np.sum(a, axis=axes, keepdims=keepdims), _count(np.shape(a), axes))


defop("mean", _mean_impl, _reduction_shape,
      (lambda g, ans, a, axes, keepdims=False:
          P.div(expand_reduced(g, shape_of(a), axes, keepdims), float(_count(shape_of(a), axes))),),
      (lambda t, ans, a, axes, keepdims=False: P.mean(t, axes=shifted(axes), keepdims=keepdims),),
      sympy=lambda S, a, axes, keepdims=False: S.total(a, axes, keepdims) / S.count(a.shape, axes),
      structure=structured.mean_rule)


def _extreme(name, impl, sympy=None):
    # The derivative is shared evenly among the elements that tie for the extreme, as
    # torch.amax / torch.max() without dim do.
    def mask(ans, a, axes, keepdims):
        kept = ans if keepdims else P.reshape(ans, shape=reduce_shape(shape_of(a), axes, True))
        m = P.eq(a, kept)
        return P.div(m, P.sum(m, axes=axes, keepdims=True))

    def vjp(g, ans, a, axes, keepdims=False):
        return P.mul(expand_reduced(g, shape_of(a), axes, keepdims), mask(ans, a, axes, keepdims))

    def jvp(t, ans, a, axes, keepdims=False):
        return P.sum(P.mul(t, mask(ans, a, axes, keepdims)), axes=shifted(axes), keepdims=keepdims)

    def shape(s, axes, keepdims=False):
        if any(s[a] == 0 for a in axes):  # NumPy and PyTorch refuse it too
            raise JacShapeError(f"{name} of an empty array (shape {fmt(s)}, axes {axes}) has no value")
        return reduce_shape(s, axes, keepdims)

    defop(name, impl, shape, (vjp,), (jvp,), sympy=sympy)


_extreme("max", lambda a, axes, keepdims=False: np.max(a, axis=axes, keepdims=keepdims),
         sympy=lambda S, a, axes, keepdims=False: S.reduce_groups(a, axes, keepdims, lambda g: S.sp.Max(*g)))
_extreme("min", lambda a, axes, keepdims=False: np.min(a, axis=axes, keepdims=keepdims),
         sympy=lambda S, a, axes, keepdims=False: S.reduce_groups(a, axes, keepdims, lambda g: S.sp.Min(*g)))


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
    if np.size(a) == 0:
        return np.zeros_like(np.asarray(t))
    flat, undo, pairs = _prod_pairs(a, axes)
    tb = np.stack([_move_to_end(ti, axes)[0] for ti in np.asarray(t)])
    out = np.einsum("...ij,b...j->b...i", pairs, tb)
    return np.stack([undo(o) for o in out])


defop("prod_except", _prod_except_impl, lambda s, axes: s,
      (lambda g, ans, a, axes: _prod_except_jvp(g, ans, a, axes),),  # the pair matrix is symmetric
      (_prod_except_jvp,), sympy=lambda S, a, axes: S.explicit(_prod_except_impl, a, axes=axes))
defop("prod", lambda a, axes, keepdims=False: np.prod(a, axis=axes, keepdims=keepdims), _reduction_shape,
      (lambda g, ans, a, axes, keepdims=False:
          P.mul(expand_reduced(g, shape_of(a), axes, keepdims), P.prod_except(a, axes=axes)),),
      (lambda t, ans, a, axes, keepdims=False:
          P.sum(P.mul(t, P.prod_except(a, axes=axes)), axes=shifted(axes), keepdims=keepdims),),
      domain=(0.5, 1.5),
      sympy=lambda S, a, axes, keepdims=False: S.reduce_groups(a, axes, keepdims, lambda g: S.sp.Mul(*g)))


def _kept(ans, a, axes, keepdims):
    return ans if keepdims else P.reshape(ans, shape=reduce_shape(shape_of(a), axes, True))


def _norm_grad(ans, a, axes, keepdims):
    # x / |x|, and 0 where |x| = 0 (PyTorch's subgradient).
    n = _kept(ans, a, axes, keepdims)
    zero = P.eq(n, 0.0)
    return P.where(zero, 0.0, P.div(a, P.where(zero, 1.0, n)))


defop("norm", lambda a, axes, keepdims=False: np.sqrt(np.sum(np.square(a), axis=axes, keepdims=keepdims)),
      _reduction_shape,
      (lambda g, ans, a, axes, keepdims=False:
          P.mul(expand_reduced(g, shape_of(a), axes, keepdims), _norm_grad(ans, a, axes, keepdims)),),
      (lambda t, ans, a, axes, keepdims=False:
          P.sum(P.mul(t, _norm_grad(ans, a, axes, keepdims)), axes=shifted(axes), keepdims=keepdims),),
      sympy=lambda S, a, axes, keepdims=False:
          S.reduce_groups(a, axes, keepdims, lambda g: S.sp.sqrt(S.sp.Add(*[v**2 for v in g]))))


def _logsumexp_impl(a, axes, keepdims=False):
    a = np.asarray(a)
    if a.size == 0:  # log(0) = -inf for an empty group, as torch.logsumexp gives
        out = np.full(reduce_shape(a.shape, axes, True), -np.inf, dtype=a.dtype)
        return out if keepdims else np.squeeze(out, axis=axes)
    m = np.max(a, axis=axes, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    out = np.log(np.sum(np.exp(a - m), axis=axes, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axes)


def _softmax_of(ans, a, axes, keepdims):
    return P.exp(P.sub(a, _kept(ans, a, axes, keepdims)))


defop("logsumexp", _logsumexp_impl, _reduction_shape,
      (lambda g, ans, a, axes, keepdims=False:
          P.mul(expand_reduced(g, shape_of(a), axes, keepdims), _softmax_of(ans, a, axes, keepdims)),),
      (lambda t, ans, a, axes, keepdims=False:
          P.sum(P.mul(t, _softmax_of(ans, a, axes, keepdims)), axes=shifted(axes), keepdims=keepdims),),
      sympy=lambda S, a, axes, keepdims=False:
          S.reduce_groups(a, axes, keepdims, lambda g: S.sp.log(S.sp.Add(*[S.sp.exp(v) for v in g]))))


def _softmax_impl(a, axis):
    a = np.asarray(a)
    if a.size == 0:
        return a.copy()
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _softmax_rule(g, ans, a, axis):
    # J^T g = s * (g - <g, s>) along the axis; J is symmetric, so the JVP is the same.
    inner = P.sum(P.mul(g, ans), axes=(axis + 1,), keepdims=True)
    return P.mul(ans, P.sub(g, inner))


def _softmax_sympy(S, a, axis):
    e = S.Value(S.explicit(lambda x: S.objects(S.sp.exp, x), a), a.shape)
    return e.expr / S.total(e, (axis,), keepdims=True)


defop("softmax", _softmax_impl, lambda s, axis: s, (_softmax_rule,), (_softmax_rule,), sympy=_softmax_sympy)


# --- linear algebra -------------------------------------------------------------------

def _matmul_shape(a, b):
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


def _matmul_vjp_a(g, ans, a, b):
    a2, b2, out2 = _promoted(a, b)
    g2 = P.reshape(g, shape=(batch_size(g),) + out2)
    return _back_to(P.matmul(g2, mT(b2)), shape_of(a), shape_of(a2))  # dA = G Bᵀ


def _matmul_vjp_b(g, ans, a, b):
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


defop("matmul", lambda a, b: np.matmul(a, b), _matmul_shape,
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
        return np.linalg.inv(a)
    except np.linalg.LinAlgError:
        raise JacValueError(f"inv: the matrix is singular, so it has no inverse (shape {fmt(np.shape(a))})") from None


def _inv_of(a):
    try:
        return P.inv(a)
    except JacValueError:  # on arrays: the derivative of det at a singular matrix
        raise JacValueError("det: its derivative is computed as det(A)·A⁻ᵀ, which needs A⁻¹, but the matrix is "
                            "singular (PyTorch uses an SVD there; jac does not)") from None


defop("det", lambda a: np.linalg.det(a), lambda s: _square_shape("det", s)[:-2],
      # d det(A) = det(A) tr(A⁻¹ dA), so the cotangent is g det(A) A⁻ᵀ.
      (lambda g, ans, a: P.mul(P.reshape(P.mul(g, ans), shape=(batch_size(g), 1, 1)), mT(_inv_of(a))),),
      (lambda t, ans, a: P.mul(ans, P.trace(P.matmul(_inv_of(a), t))),),
      sympy=lambda S, a: S.per_matrix(a, lambda m: m.det()) if S.components(a) else S.sp.Determinant(a.expr))
defop("inv", _inv_impl, lambda s: _square_shape("inv", s),
      # d A⁻¹ = -A⁻¹ dA A⁻¹
      (lambda g, ans, a: P.neg(P.matmul(P.matmul(mT(ans), g), mT(ans))),),
      (lambda t, ans, a: P.neg(P.matmul(P.matmul(ans, t), ans)),),
      domain=(-1.0, 1.0),
      sympy=lambda S, a: S.stack_matrices(a, lambda m: m.inv()) if S.components(a) else S.sp.Inverse(a.expr))


OPS: Mapping[str, Op] = MappingProxyType(_BLOCKS)  # the registry, read-only
P = _Prims(OPS)  # the rules above look OPS and P up when they run, after these lines
