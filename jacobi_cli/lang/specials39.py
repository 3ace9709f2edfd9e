"""Session 39: the regularized incomplete gamma functions as SciPy and JAX spell them (registered in ``functions``'
table when ``lang`` is imported; the ops are in :mod:`jacobi_cli.ir.ops`, "gammainc", "gammaincc", "igamma_grad_a"):

- ``scipy.special.gammainc(a, x)`` / ``gammaincc(a, x)`` and ``jax.scipy.special``'s (``jax.lax.igamma`` /
  ``igammac`` lower through JAX's): the ops ``gammainc`` / ``gammaincc``, whose derivative by a is ∓ ∂P/∂a
  (``igamma_grad_a``, JAX's: a differentiated series or continued fraction, :mod:`jacobi_cli.ir.incgamma`);
- PyTorch's spellings (``torch.special.gammainc``, ``torch.igamma``, ``x.igamma``, the bare names) stay the ops
  ``igamma`` / ``igammac``, by a refused in PyTorch's words.
"""

from __future__ import annotations

from ..errors import JacValueError
from .functions import REQUIRED, arguments, tensor, variant


def _incomplete_gamma(library: str, name: str):
    spelled = f"{'scipy.special' if library == 'scipy' else 'jax.scipy.special'}.{name}"
    params = {"a": REQUIRED, "x": REQUIRED} | ({"out": None} if library == "scipy" else {})

    def lower(b, args, kwargs, position):
        if library == "scipy" and set(kwargs) - {"out"}:
            raise JacValueError(f"{spelled}(...) takes a and x by position (a NumPy ufunc: SciPy raises for "
                                f"{sorted(set(kwargs) - {'out'})[0]}=)", position)
        a = arguments(name, args, kwargs, params, position)
        if a.get("out") is not None:
            raise JacValueError(f"{spelled}(..., out=...) writes into an array, which jac does not do: use the "
                                "result", position)
        return b.apply(name, tensor(b, a["a"], spelled, position), tensor(b, a["x"], spelled, position),
                       position=position)
    lower.__doc__ = (f"{spelled}(a, x): the regularized {'lower' if name == 'gammainc' else 'upper'} incomplete gamma "
                     "function; by x, and by a as JAX differentiates it (a series or continued fraction)")
    return lower


for _library in ("scipy", "jax.scipy"):
    for _name in ("gammainc", "gammaincc"):
        variant(_library, _name)(_incomplete_gamma(_library, _name))
