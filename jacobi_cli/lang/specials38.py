"""Session 38: zeta as SciPy and JAX spell it (registered in ``functions``' table when ``lang`` is imported; the ops
are in :mod:`jacobi_cli.ir.ops`, "zeta_dx"):

- ``scipy.special.zeta(x, q=None)``: Hurwitz's ζ(x, q) (the op ``zeta``, PyTorch's too), and with q omitted
  Riemann's ζ(x) for every x (the op ``riemann_zeta``, SciPy's values, which differ from ζ(x, 1) by an ulp or more);
  ``zetac(x)`` = ζ(x) - 1 (the op ``zetac``);
- ``jax.scipy.special.zeta(x, q)``: q required, as JAX raises without it.

The derivative by x (PyTorch has none; JAX has one) is the Euler–Maclaurin sum differentiated term by term
(``zeta_dx``), every order, for x > 1 and q > 0; Riemann's below x = 1 refused.
"""

from __future__ import annotations

from ..errors import JacValueError
from .functions import REQUIRED, arguments, tensor, variant
from .jaxnames import LIBRARY_NAMES


@variant("scipy", "zeta")
def _scipy_zeta(b, args, kwargs, position):
    """scipy.special.zeta(x, q=None): Hurwitz's ζ(x, q), or Riemann's ζ(x) with q omitted; by x (x > 1) and q"""
    a = arguments("zeta", args, kwargs, {"x": REQUIRED, "q": None, "out": None}, position)
    if a["out"] is not None:
        raise JacValueError("scipy.special.zeta(..., out=...) writes into an array, which jac does not do: use the "
                            "result", position)
    x = tensor(b, a["x"], "scipy.special.zeta", position)
    if a["q"] is None:
        return b.apply("riemann_zeta", x, position=position)
    return b.apply("zeta", x, tensor(b, a["q"], "scipy.special.zeta", position), position=position)


@variant("jax.scipy", "zeta")
def _jax_zeta(b, args, kwargs, position):
    """jax.scipy.special.zeta(x, q): Hurwitz's ζ(x, q) (JAX raises NotImplementedError without q); by x (x > 1)
    and q"""
    a = arguments("zeta", args, kwargs, {"x": REQUIRED, "q": None}, position)
    if a["q"] is None:
        raise JacValueError("jax.scipy.special.zeta(x) without q is refused, as JAX refuses it ('Riemann zeta "
                            "function not implemented; pass q != None to compute the Hurwitz Zeta function'): write "
                            "zeta(x, 1.0), or scipy.special.zeta(x)", position)
    return b.apply("zeta", tensor(b, a["x"], "jax.scipy.special.zeta", position),
                   tensor(b, a["q"], "jax.scipy.special.zeta", position), position=position)


@variant("scipy", "zetac")
def _zetac(b, args, kwargs, position):
    """scipy.special.zetac(x) = ζ(x) - 1 (Riemann's): SciPy's values; by x (x > 1)"""
    a = arguments("zetac", args, kwargs, {"x": REQUIRED, "out": None}, position)
    if a["out"] is not None:
        raise JacValueError("scipy.special.zetac(..., out=...) writes into an array, which jac does not do: use the "
                            "result", position)
    return b.apply("zetac", tensor(b, a["x"], "scipy.special.zetac", position), position=position)


LIBRARY_NAMES["scipy"] = LIBRARY_NAMES["scipy"] | {"zeta", "zetac"}
