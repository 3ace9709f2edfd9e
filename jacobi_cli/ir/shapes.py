"""Shapes, kinds and the derivative-shape table.

A dimension is an ``int`` or, for ``jac shape`` and ``jac diff``, a ``str`` naming a
symbolic size (``x:n``). Shape rules raise :class:`JacShapeError`; the graph builder
adds the op's column.
"""

from __future__ import annotations

from typing import Union

from ..errors import JacLimitError, JacShapeError

Dim = Union[int, str]
Shape = tuple  # tuple[Dim, ...]

KINDS = {0: "scalar", 1: "vector", 2: "matrix"}
MAX_RANK = 32  # so that a Jacobian block, y.shape + x.shape, stays within NumPy's 64 dimensions
NUMPY_MAX_RANK = 64
MAX_ELEMENTS = 2**59  # NumPy counts bytes (zero sizes left out) in a signed 64-bit integer
MAX_EMPTY_SPAN = 2**31  # an empty input's other sizes: its Jacobian (0, n, 0, n) must fit NumPy's count too


def check_rank(shape: Shape, what: str, position: int | None = None) -> None:
    """Refuse an input or output of more than :data:`MAX_RANK` dimensions."""
    if len(shape) > MAX_RANK:
        raise JacShapeError(f"{what} has {len(shape)} dimensions; jac handles at most {MAX_RANK} (a Jacobian "
                            f"joins the output's and the input's dimensions)", position)


def check_array_shape(shape: Shape, what: str, position: int | None = None) -> None:
    """Refuse a shape that NumPy cannot hold, with a message instead of NumPy's error:
    more than :data:`MAX_RANK` dimensions, or sizes whose product (zeros left out, as
    NumPy counts them: ``(0, 10**20)`` too) passes 2**62. Symbolic sizes pass."""
    check_rank(shape, what, position)
    count = 1
    for d in shape:
        if isinstance(d, int) and d:
            count *= d
    if count > (MAX_EMPTY_SPAN if 0 in shape else MAX_ELEMENTS):
        raise JacLimitError(f"{what} has sizes {fmt(shape) if len(str(shape)) < 80 else '(...)'} too large to "
                            f"hold in an array, even an empty one (`jac shape` takes any size)", position)


def kind(shape: Shape) -> str:
    """``scalar`` (0-d), ``vector`` (1-d), ``matrix`` (2-d) or ``tensor`` (3-d and up)."""
    return KINDS.get(len(shape), "tensor")


def fmt(shape: Shape) -> str:
    """A shape as the user writes it: ``(3, 4)``, ``(n,)``, ``()``."""
    if len(shape) == 1:
        return f"({shape[0]},)"
    if len(shape) > NUMPY_MAX_RANK:  # a message names so long a shape by its start and its length
        return "(" + ", ".join(str(d) for d in shape[:8]) + f", ... {len(shape):,} dimensions)"
    return "(" + ", ".join(str(d) for d in shape) + ")"


def is_concrete(shape: Shape) -> bool:
    for d in shape:  # a loop, not all() over a generator: every node's size check asks
        if not isinstance(d, int):
            return False
    return True


def size(shape: Shape) -> int:
    n = 1
    for d in shape:
        if not isinstance(d, int):
            raise JacShapeError(f"shape {fmt(shape)} has a symbolic size; give numbers to compute values")
        n *= d
    return n


def broadcast(*shapes: Shape) -> Shape:
    """NumPy broadcasting, with symbolic sizes: ``n`` meets ``1`` or ``n``, never ``m``."""
    if len(shapes) == 2:  # the common case, answered as the general loop below answers it
        a, b = shapes
        if a == b or not b:
            return tuple(a)
        if not a:
            return tuple(b)
        ndim = max(len(a), len(b))
        out = []
        for p, q in zip((1,) * (ndim - len(a)) + tuple(a), (1,) * (ndim - len(b)) + tuple(b)):
            if p == q or q == 1:
                out.append(p)
            elif p == 1:
                out.append(q)
            else:
                raise JacShapeError("cannot broadcast shapes " + " and ".join(fmt(s) for s in shapes))
        return tuple(out)
    return _broadcast_many(shapes)


def _broadcast_many(shapes: tuple) -> Shape:
    """:func:`broadcast` of any number of shapes (a function of its own: its comprehension would make a
    cell of ``broadcast``'s variables at each call of the common case)."""
    ndim = max(len(s) for s in shapes)
    out = []
    for axis in range(-ndim, 0):
        dims = {s[axis] for s in shapes if len(s) >= -axis} - {1}
        if len(dims) > 1:
            raise JacShapeError("cannot broadcast shapes " + " and ".join(fmt(s) for s in shapes))
        out.append(dims.pop() if dims else 1)
    return tuple(out)


def normalize_axis(axis: int, ndim: int, shape: Shape | None = None) -> int:
    if not -max(ndim, 1) <= axis < max(ndim, 1):  # a 0-d array takes axis 0 or -1, as in PyTorch
        where = f" of shape {fmt(shape)}" if shape is not None else ""
        raise JacShapeError(f"axis {axis} is out of range for an array{where} with {ndim} dimension(s)")
    return axis % ndim if ndim else 0


def normalize_axes(axis, ndim: int, shape: Shape | None = None) -> tuple:
    """``None`` (all axes), an int or a tuple, as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    normalized = tuple(sorted(normalize_axis(a, ndim, shape) for a in axes))
    if len(set(normalized)) != len(normalized):
        raise JacShapeError(f"repeated axis in {axis}")
    return normalized if ndim else ()  # torch.sum(s, 0) of a 0-d s: axis 0 or -1 reduces nothing


def reduce(shape: Shape, axes: tuple, keepdims: bool) -> Shape:
    if len(shape) == 1:  # a vector: what the lines below give
        return ((1,) if keepdims else ()) if 0 in axes else tuple(shape)
    return _reduced(shape, axes, keepdims)


def _reduced(shape: Shape, axes: tuple, keepdims: bool) -> Shape:
    """:func:`reduce` of a shape that is not a vector (a function of its own, as :func:`_broadcast_many`)."""
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(shape))
    return tuple(d for i, d in enumerate(shape) if i not in axes)


def math_shape(y: Shape, x: Shape) -> Shape:
    """The numerator-layout shape of dy/dx from the table of the contract.

    >>> math_shape((), (3, 2))
    (2, 3)
    >>> math_shape((4,), ())
    (4, 1)
    """
    if len(y) > 2 or len(x) > 2:
        return tuple(y) + tuple(x)
    x_part = tuple(reversed(x))
    if len(y) == 0:
        return (1,) + x_part if len(x) != 2 else x_part
    if len(y) == 1 and len(x) == 0:
        return tuple(y) + (1,)
    return tuple(y) + x_part


def higher_math_shape(y: Shape, x: Shape, order: int) -> Shape:
    """The ``math_shape`` of the ``order``-th derivative of y by x: the table's for order 1;
    past it, y's shape and the table's derivative of the (K-1)-th derivative's x part by x
    (a Hessian block ``y.shape + math_shape(x, x)``), so ``jac diff --order K`` and
    ``jac hessian`` agree: a scalar by a scalar is ``(1)`` at every order.

    >>> higher_math_shape((), (), 2)
    (1,)
    >>> higher_math_shape((), (3,), 3)
    (3, 3, 3)
    """
    if order == 1:
        return math_shape(y, x)
    return tuple(y) + math_shape(tuple(x) * (order - 1), x)


def math_layout(y_ndim: int, x_ndim: int):
    """How an array-layout block ``y.shape + x.shape`` becomes the numerator layout.

    Returns ``(axes, expand)``: transpose by ``axes``, then insert a length-1 axis at
    ``expand`` (or none). Only the matrix-input axes are swapped; the rest is a reshape.
    """
    if y_ndim > 2 or x_ndim > 2:
        return tuple(range(y_ndim + x_ndim)), None
    axes = tuple(range(y_ndim)) + tuple(reversed(range(y_ndim, y_ndim + x_ndim)))
    if y_ndim == 0 and x_ndim < 2:
        return axes, 0
    if y_ndim == 1 and x_ndim == 0:
        return axes, 1
    return axes, None


def legend_letters(y_shape: Shape, x_shape: Shape, avoid=()) -> str:
    """The index letters of a legend, in order (y's, then x's, then spare ones): those that are
    symbolic sizes of the shapes, or in ``avoid`` (the other inputs' sizes), are skipped."""
    sizes = {d for d in (*y_shape, *x_shape, *avoid) if isinstance(d, str)}
    return "".join(c for c in "ijklmnpqrstuvwabcdefgh" if c not in sizes)


def legend(name: str, y_shape: Shape, x_shape: Shape, layout: str = "array", of: str = "y", avoid=()) -> str:
    """The index legend of a Jacobian block, e.g. ``J[i, j, k] = ∂y[i] / ∂X[j, k]``. Letters
    that are symbolic sizes of the shapes (``X:mxn W:nxk``), or in ``avoid``, are skipped, so an
    index is never read as a size."""
    letters = legend_letters(y_shape, x_shape, avoid)
    ny, nx = len(y_shape), len(x_shape)
    if ny + nx > len(letters):
        return f"J = ∂{of} / ∂{name}, indices y then {name}"
    yi, xi = letters[:ny], letters[ny:ny + nx]
    y_txt = f"{of}[{', '.join(yi)}]" if ny else of
    x_idx = list(xi)
    j_idx = list(yi) + list(xi)
    if layout == "numerator" and ny <= 2 and nx <= 2:
        j_idx = list(yi) + list(reversed(xi))
        if ny == 0 and nx < 2:
            j_idx = ["0"] + j_idx
        elif ny == 1 and nx == 0:
            j_idx = j_idx + ["0"]
    x_txt = f"{name}[{', '.join(x_idx)}]" if nx else name
    lhs = f"J[{', '.join(j_idx)}]" if j_idx else "J"
    return f"{lhs} = ∂{y_txt} / ∂{x_txt}"
