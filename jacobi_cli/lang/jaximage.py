"""jax.image.resize (session 54, snippets36_probe): JAX's resize is a linear map of the image, one weight matrix per
axis whose size changes (``jax._src.image.scale.compute_weight_mat``: the kernel at each output's source position,
normalized over the input, zero where the source lies outside it), contracted as JAX's einsum does; 'nearest'
takes JAX's float32 source index of each output (``_resize_nearest``). The weights are made here, in numpy, by
JAX's own formulas in jac's dtype (JAX's under jax_enable_x64: its scale is a Python float), so the value and its
derivative (the same matrices) are JAX's. Every method JAX names is read: nearest, linear (bilinear, trilinear,
triangle), cubic (bicubic, tricubic: Keys' A = -0.5), lanczos3, lanczos5, area and cubic-pytorch (bicubic-pytorch:
A = -0.75, the edges repeated), with ``antialias=`` as JAX takes it."""

from __future__ import annotations

import ast
from dataclasses import dataclass

import numpy as np

from ..errors import JacShapeError
from ..ir.graph import Tracer
from ..ir.shapes import fmt
from .functions import LIBRARIES, MODULES, REQUIRED, JacValueError, Static, arguments, einsum_of, static, static_ints, \
    tensor, variant, _take
from .jaxnames import LIBRARY_ENDINGS, LIBRARY_NAMES

IMAGE = "jax.image"
MODULES.add(IMAGE)
LIBRARIES[IMAGE] = IMAGE
TITLES = {IMAGE: IMAGE}  # its title in messages (parser._LIBRARY_TITLES)

# JAX's ResizeMethod.from_string: each spelling's method
METHODS = {"nearest": "nearest", "linear": "linear", "bilinear": "linear", "trilinear": "linear",
           "triangle": "linear", "lanczos3": "lanczos3", "lanczos5": "lanczos5", "cubic": "cubic", "bicubic": "cubic",
           "tricubic": "cubic", "cubic-pytorch": "cubic-pytorch", "bicubic-pytorch": "cubic-pytorch", "area": "area"}
# jax.image.ResizeMethod's members: each one's method (the enum's values, as ResizeMethod.from_string gives them)
RESIZE_MEMBERS = {"NEAREST": "nearest", "LINEAR": "linear", "LANCZOS3": "lanczos3", "LANCZOS5": "lanczos5",
                  "CUBIC": "cubic", "CUBIC_PYTORCH": "cubic-pytorch", "AREA": "area"}
RESIZE_METHOD = Static("jax.image.ResizeMethod")  # the enum named without a member (the parser's attribute)


@dataclass(frozen=True)
class ResizeMember:
    """``jax.image.ResizeMethod.LINEAR``: the member (an enum, no string: what takes a string refuses it, as JAX's
    functions would), ``method`` its method's name ('linear'), which resize reads."""

    member: str
    method: str

    def __repr__(self) -> str:
        return f"jax.image.ResizeMethod.{self.member}"


def resize_member(member: str, position) -> Static:
    """``jax.image.ResizeMethod.LINEAR``: the member, as a value resize's method= takes."""
    if member not in RESIZE_MEMBERS:
        raise JacValueError(f"jax.image.ResizeMethod has no member '{member}': it has "
                            f"{', '.join(RESIZE_MEMBERS)} (JAX raises AttributeError)", position)
    return Static(ResizeMember(member, RESIZE_MEMBERS[member]))


_RADIUS = {"linear": 1, "lanczos3": 3, "lanczos5": 5, "cubic": 2, "cubic-pytorch": 2, "area": 1}
_EPS32 = float(np.finfo(np.float32).eps)


def _kernel(method: str, x: np.ndarray) -> np.ndarray:
    """JAX's kernels (``_fill_triangle_kernel``, ``_fill_lanczos_kernel``, ``_fill_keys_cubic_kernel``,
    ``_fill_opencv_cubic_kernel``) at the distances ``x`` (>= 0), in x's dtype."""
    real = x.dtype.type
    if method == "linear":
        return np.maximum(real(0), real(1) - np.abs(x))
    if method.startswith("lanczos"):
        radius = real(_RADIUS[method])
        y = radius * np.sin(real(np.pi) * x) * np.sin(real(np.pi) * x / radius)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.where(x > real(1e-3), y / np.where(x != 0, real(np.pi ** 2) * x ** 2, real(1)), real(1))
        return np.where(x > radius, real(0), out)
    if method == "cubic":
        out = ((real(1.5) * x - real(2.5)) * x) * x + real(1)
        out = np.where(x >= 1, ((real(-0.5) * x + real(2.5)) * x - real(4)) * x + real(2), out)
        return np.where(x >= 2, real(0), out)
    a = real(-0.75)  # cubic-pytorch
    out = ((a + real(2)) * x - (a + real(3))) * x * x + real(1)
    out = np.where(x >= 1, ((a * x - real(5) * a) * x + real(8) * a) * x - real(4) * a, out)
    return np.where(x >= 2, real(0), out)


def weight_matrix(m: int, n: int, method: str, antialias: bool, dtype) -> np.ndarray:
    """JAX's ``compute_weight_mat(m, n, n / m, 0.0, kernel, antialias, edge_padding, radius)``: the (m, n) weights
    of each input pixel in each output pixel, in ``dtype``."""
    real = np.dtype(dtype).type
    scale = n / m  # a Python float, as JAX's _resize makes it
    inv_scale = real(1.0 / scale)
    kernel_scale = max(inv_scale, real(1)) if antialias and method != "area" else real(1)
    edge = method == "cubic-pytorch" and not antialias
    sample_f = (np.arange(n, dtype=dtype) + real(0.5)) * inv_scale - real(0.0) * inv_scale - real(0.5)
    k = _RADIUS[method] if edge else 0
    expanded = np.arange(-k, m + k, dtype=dtype)
    if method == "area":
        left = np.arange(n, dtype=dtype) * inv_scale - real(0.0) * inv_scale
        right = left + inv_scale
        weights = np.maximum(real(0), np.minimum(right[None, :], expanded[:, None] + real(1))
                             - np.maximum(left[None, :], expanded[:, None]))
    else:
        weights = _kernel(method, np.abs(sample_f[None, :] - expanded[:, None]) / kernel_scale)
    if edge:  # the weights of indices outside the image moved onto its edge pixels (JAX's scatter-add)
        mat = np.zeros((m, n), dtype=dtype)
        np.add.at(mat, np.clip(expanded.astype(np.int32), 0, m - 1), weights)
        weights = mat
    total = np.sum(weights, axis=0, keepdims=True)
    weights = np.where(np.abs(total) > 1000.0 * _EPS32, weights / np.where(total != 0, total, real(1)), real(0))
    if not edge:
        inside = (sample_f >= real(-0.5)) & (sample_f <= real(m - 0.5))
        weights = np.where(inside[None, :], weights, real(0))
    return weights.astype(dtype)


def nearest_index(m: int, n: int) -> np.ndarray:
    """JAX's ``_resize_nearest`` source of each of n outputs from m inputs, computed in float32 as JAX does."""
    offsets = (np.arange(n, dtype=np.float32) + np.float32(0.5)) * np.float32(m) / np.float32(n)
    return np.floor(offsets.astype(np.float32)).astype(np.int64)


@variant(IMAGE, "resize")
def _resize(b, args, kwargs, position) -> Tracer:
    """jax.image.resize(image, shape, method, antialias=True, precision=HIGHEST): each axis whose size changes,
    one weight matrix contracted (nearest: the source indices taken), JAX's matrices (see the module); method a
    string or a jax.image.ResizeMethod member (ResizeMethod.LINEAR)."""
    a = arguments("resize", args, kwargs, {"image": REQUIRED, "shape": REQUIRED, "method": REQUIRED,
                                           "antialias": True, "precision": None}, position)
    x = tensor(b, a["image"], "resize", position)
    shape = static_ints(b, a["shape"], "shape", position)
    spelled = static(b, a["method"], "method", position)
    if isinstance(spelled, ResizeMember):
        spelled = spelled.method
    if not isinstance(spelled, str):
        raise JacValueError(f"jax.image.resize: method must be a string ('nearest', 'linear', 'cubic', 'lanczos3', "
                            f"'lanczos5', 'area') or a jax.image.ResizeMethod member (ResizeMethod.LINEAR), got "
                            f"{spelled!r}", position)
    method = METHODS.get(spelled)
    if method is None:
        raise JacValueError(f'jax.image.resize: Unknown resize method "{spelled}" (JAX raises ValueError; it '
                            f"takes {', '.join(repr(k) for k in METHODS)})", position)
    antialias = static(b, a["antialias"], "antialias", position)
    if not isinstance(antialias, (bool, np.bool_)):
        raise JacValueError(f"jax.image.resize: antialias must be True or False, got {antialias!r}", position)
    if len(shape) != x.ndim:
        raise JacValueError(f"jax.image.resize: shape must have length equal to the number of dimensions of x; "
                            f"{fmt(shape)} vs {fmt(x.shape)} (JAX raises ValueError)", position)
    if any(not isinstance(s, int) for s in x.shape):
        raise JacShapeError("jax.image.resize needs the image's shape known when the expression is read", position)
    if any(s < 1 for s in shape) or any(s < 1 for s in x.shape):
        raise JacValueError(f"jax.image.resize: jac resizes between sizes of at least 1, got {fmt(x.shape)} to "
                            f"{fmt(shape)}", position)
    if method == "cubic-pytorch" and antialias:  # JAX's _resize: PyTorch's cubic only without antialiasing
        method = "cubic"
    letters = "abcdefghijklmnopqrstuvwxyz"
    for d in range(x.ndim):
        m, n = x.shape[d], shape[d]
        if m == n:  # JAX skips an axis whose size stays (every method interpolates)
            continue
        if method == "nearest":
            x = _take(b, x, (slice(None),) * d + (nearest_index(m, n),), position)
            continue
        w = b.const(weight_matrix(m, n, method, bool(antialias), b.dtype), position)
        lx = letters[:x.ndim]
        out = lx[:d] + "z" + lx[d + 1:]
        x = einsum_of(b, f"{lx},{lx[d]}z->{out}", [x, w], position)
    return x


# lax.Precision (session 54, jax36_probe's "einsum precision"): JAX's matrix products take precision= (jnp.einsum,
# jnp.dot, jnp.matmul, jax.image.resize: their signatures in lang/kwnames.py), the passes of bfloat16 an accelerator
# makes; on the CPU, where jac's answers are JAX's, every precision computes the same float64 product: dropped
PRECISION = Static("jax.lax.Precision")  # the enum named without a member (the parser's attribute)
_PRECISIONS = ("DEFAULT", "HIGH", "HIGHEST")
_PRECISION_NAMES = ("highest", "float32", "high", "bfloat16_3x", "tensorfloat32", "default", "bfloat16", "fastest")


def precision_member(member: str, position) -> Static:
    """``lax.Precision.HIGHEST``: the member, as a value precision= takes."""
    if member not in _PRECISIONS:
        raise JacValueError(f"jax.lax.Precision has no member '{member}': it has {', '.join(_PRECISIONS)}", position)
    return Static(f"jax.lax.Precision.{member}")


def _precision_kind(value, node=None) -> str | None:
    """"member" for a lax.Precision member, "name" for one of JAX's names of one ('highest'), else None; ``node``
    (the text's expression of it, where known) tells the string 'jax.lax.Precision.HIGH' from the member."""
    spelled = value.value if isinstance(value, Static) else value
    if not isinstance(spelled, str):
        return None
    if isinstance(node, ast.Constant):
        return "name" if spelled in _PRECISION_NAMES else None
    return "member" if spelled.startswith("jax.lax.Precision.") else "name" if spelled in _PRECISION_NAMES else None


def without_precision(kwargs: dict, position, node: ast.expr | None = None) -> dict:
    """``kwargs`` without a ``precision=`` JAX takes (None, a lax.Precision member, one of JAX's names of one, or a
    tuple of two members or of two names: JAX's canonicalize_precision), which changes nothing on the CPU; another
    value (a DotAlgorithm preset too, which may compute in another dtype) refused. ``node``: the text's expression
    of the value, where it has one: a list display is refused as JAX refuses it (jnp's functions take precision= as
    a static argument of a jit, which must hash: "Non-hashable static arguments are not supported")."""
    value = kwargs["precision"]
    if isinstance(node, ast.List):
        raise JacValueError(f"precision={ast.unparse(node)}: a list is no precision JAX takes (its jnp functions "
                            "raise ValueError: \"Non-hashable static arguments are not supported\"); write a tuple "
                            f"({ast.unparse(ast.Tuple(elts=node.elts, ctx=ast.Load()))})", position)
    pair = value.value if isinstance(value, Static) and isinstance(value.value, tuple) else \
        tuple(value) if isinstance(value, tuple) and getattr(value, "display", "tuple") != "list" else None
    parts = node.elts if isinstance(node, ast.Tuple) and pair is not None and len(node.elts) == len(pair) else \
        [None] * len(pair or ())
    kinds = {_precision_kind(one, part) for one, part in zip(pair or (), parts)}
    fine = value is None or (isinstance(value, Static) and value.value is None) or \
        pair is None and _precision_kind(value, node) is not None or \
        pair is not None and len(pair) == 2 and len(kinds) == 1 and None not in kinds
    if not fine:
        raise JacValueError("precision= must be None, a jax.lax.Precision (DEFAULT, HIGH, HIGHEST), one of JAX's "
                            f"names ({', '.join(repr(n) for n in _PRECISION_NAMES)}), or a tuple of two members or "
                            "of two names (JAX raises ValueError at another value, a member beside a name too; jac "
                            "does not read its DotAlgorithm presets)", position)
    return {k: v for k, v in kwargs.items() if k != "precision"}


LIBRARY_NAMES[IMAGE] = frozenset({"resize"})
LIBRARY_ENDINGS[IMAGE] = "jnp's functions (a resize of one axis: jnp.repeat, or a matrix of weights, A @ x)"
