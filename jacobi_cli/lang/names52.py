"""Everyday calls jac refused where the library answers (session 52, benchmarks/vocab41_probe.py and
benchmarks/kwforms52_probe.py), registered in ``functions``' table when ``lang`` is imported. Each is a lowering onto
functions and ops jac already has:

- ``np.full_like(x, fill)`` / ``np.full(shape, fill)`` (and JAX's) with a fill that depends on the inputs: the fill
  broadcast to the shape, as NumPy and JAX give it (JAX differentiates through it; NumPy's central differences
  agree): ``fill * ones(shape)``, exact for every fill (-0.0, inf and NaN included), a new array and no view of
  the fill. A fill that does not broadcast to the shape is NumPy's ValueError; an integer x (``full_like``) or
  dtype truncates the fill, refused. PyTorch's ``full`` / ``full_like`` take a Python number alone (a tensor fill
  raises TypeError), so a torch spelling keeps its constant's refusal.
- ``torch.adaptive_max_pool1d(x, output_size)``: ATen's function, the pair (values, indices), as
  ``F.adaptive_max_pool1d(x, output_size, return_indices=True)``.
- ``jnp.nextafter`` / ``jax.lax.nextafter``: the value, its derivative refused (JAX has no rule:
  "Differentiation rule for 'nextafter' not implemented"); PyTorch's and NumPy's have the op's rule (PyTorch
  2.13's: 1 by x off x == y, 0 by y).
"""

from __future__ import annotations

import numpy as np

from ..errors import JacShapeError, JacValueError
from ..ir.shapes import broadcast
from .functions import DTYPES, FUNCTIONS, LIBRARY_FUNCTIONS, DType, Static, _checked, _value_options, arguments, as_dtype, jax_spelled, \
    shape_ints, tensor, variant, REQUIRED, fmt

_NEXTAFTER_JAX_WHY = ("jnp.nextafter / jax.lax.nextafter: JAX has no derivative rule for nextafter (it raises "
                      "\"Differentiation rule for 'nextafter' not implemented\"); torch.nextafter's is 1 by x off "
                      "x == y, 0 by y")


def _input_fill(b, fill) -> bool:
    """Whether ``fill`` is an array that depends on the inputs (a constant keeps the constructors' own path)."""
    return hasattr(fill, "id") and not isinstance(fill, Static) and b.nodes[fill.id].op != "const" \
        and b.library in ("numpy", None) and not (b.call or "").startswith("torch.")


def _broadcast_fill(b, fname: str, fill, shape: tuple, dtype, position):
    if isinstance(dtype, str) and dtype in DTYPES:
        dtype = DType(dtype, DTYPES[dtype])
    if isinstance(dtype, DType) and dtype.kind in "iub":
        raise JacValueError(f"{fname}(): an integer or bool dtype truncates a fill that depends on the inputs, "
                            "which has no derivative; drop dtype= (jac computes in --dtype)", position)
    value = tensor(b, fill, fname, position)
    try:
        spread = tuple(broadcast(tuple(value.shape), tuple(shape)))
    except JacShapeError:
        spread = None
    if spread != tuple(shape):
        raise JacShapeError(f"{fname}(): the fill of shape {fmt(value.shape)} does not broadcast to the shape "
                            f"{fmt(shape)} (NumPy raises ValueError)", position)
    ones = b.const(np.ones(shape, dtype=b.dtype), position)
    return as_dtype(b, b.apply("mul", value, ones, position=position), dtype, position)


def _np_full_like(b, args, kwargs, position):
    """np.full_like(a, fill_value, dtype=None) / jnp.full_like: a fill that depends on the inputs broadcast to a's
    shape (JAX's derivative; NumPy's central differences); a constant fill, the constructor's own constant."""
    fill = args[1] if len(args) > 1 else kwargs.get("fill_value")
    if not _input_fill(b, fill):
        return FUNCTIONS["full_like"](b, args, kwargs, position)
    kwargs = dict(kwargs)
    dtype = _value_options(b, kwargs, "full_like", position)
    for key in ("order", "subok", "shape"):
        if key in kwargs:
            raise JacValueError(f"full_like(): the argument '{key}' is not supported by jac", position)
    a = arguments("full_like", args, kwargs, {"x": REQUIRED, "fill_value": REQUIRED}, position)
    x = tensor(b, a["x"], "full_like", position)
    typed = b.typed.get(x.id)
    if dtype is None and typed is not None and typed[0].kind in "iub":
        raise JacValueError(f"full_like(): a of dtype {typed[0]} casts the fill to it (NumPy truncates), which has "
                            "no derivative; give dtype= a float dtype or a float array", position)
    return _broadcast_fill(b, "full_like", a["fill_value"], tuple(x.shape), dtype, position)


def _np_full(b, args, kwargs, position):
    """np.full(shape, fill_value, dtype=None) / jnp.full: a fill that depends on the inputs broadcast to shape (JAX's
    derivative; NumPy's central differences); a constant fill, the constructor's own constant."""
    fill = args[1] if len(args) > 1 else kwargs.get("fill_value")
    if not _input_fill(b, fill):
        return FUNCTIONS["full"](b, args, kwargs, position)
    kwargs = dict(kwargs)
    dtype = _value_options(b, kwargs, "full", position)
    if "order" in kwargs:
        raise JacValueError("full(): the argument 'order' is not supported by jac", position)
    a = arguments("full", args, kwargs, {"shape": REQUIRED, "fill_value": REQUIRED}, position)
    # a negative size, or one past the limit (np.full(10**20, x[0])): the constant constructors' messages, not
    # NumPy's ValueError from np.ones (an internal error before session 53)
    shape = _checked(b, tuple(shape_ints(b, a["shape"], "full shape", position)), "full", position)
    return _broadcast_fill(b, "full", a["fill_value"], shape, dtype, position)


for _name, _lower in (("full_like", _np_full_like), ("full", _np_full)):
    if ("numpy", _name) in LIBRARY_FUNCTIONS:
        raise ValueError(f"('numpy', {_name!r}) is registered twice")
    variant("numpy", _name)(_lower)


# -- nextafter: JAX's has no derivative -------------------------------------------------------------------------

_nextafter = FUNCTIONS["nextafter"]


def _nextafter_of(b, args, kwargs, position):
    """nextafter(x1, x2): x1 moved one ulp toward x2 (NumPy's value); its derivative PyTorch 2.13's (1 by x1 where
    x1 != x2, else 0; 0 by x2); JAX's spellings refuse it (JAX has no rule)."""
    out = _nextafter(b, args, kwargs, position)
    if not (jax_spelled(b) or b.library == "jax.lax"):
        return out
    sources = [v for v in list(args) + list(kwargs.values()) if hasattr(v, "id") and not isinstance(v, Static)]
    return b.apply("no_derivative", out, *sources[:2], why=_NEXTAFTER_JAX_WHY, position=position)


FUNCTIONS["nextafter"] = _nextafter_of


# -- torch.adaptive_max_pool1d: ATen's pair ---------------------------------------------------------------------

@variant("torch.aten", "adaptive_max_pool1d")
def _aten_adaptive_max_pool1d(b, args, kwargs, position):
    """torch.adaptive_max_pool1d(x, output_size): ATen's function, the pair (values, indices), as
    F.adaptive_max_pool1d(x, output_size, return_indices=True)."""
    a = arguments("torch.adaptive_max_pool1d", args, kwargs, {"x": REQUIRED, "output_size": REQUIRED}, position)
    lower = LIBRARY_FUNCTIONS.get(("torch", "adaptive_max_pool1d")) or FUNCTIONS["adaptive_max_pool1d"]
    return lower(b, [a["x"], a["output_size"]], {"return_indices": Static(True)}, position)
