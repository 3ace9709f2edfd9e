"""``jax.scipy.special``'s ``expi``, ``exp1`` and ``dawsn`` (session 28; registered in ``functions``' table when
``lang`` is imported): the ops of the same names (SciPy's values; their derivatives eˣ/x, -e⁻ˣ/x and 1 - 2x F(x), the
rules JAX's custom JVPs give), with JAX's values where they differ from SciPy's (``jax.scipy.special.expi(0)`` is
NaN, SciPy's -inf). ``scipy.special``'s spellings are :mod:`.scipynames`' (the ops themselves).
"""

from __future__ import annotations

from .functions import REQUIRED, arguments, tensor, variant

SPECIALS28 = frozenset({"expi", "exp1", "dawsn"})


def _special(name: str, library: str):
    def lower(b, args, kwargs, position):
        x = tensor(b, arguments(name, args, kwargs, {"x": REQUIRED}, position)["x"], f"{library}.special.{name}",
                   position)
        y = b.apply(name, x, position=position)
        if name == "expi" and library == "jax.scipy":  # JAX's expi(0) is NaN (SciPy's -inf), its derivative inf
            y = b.apply("add", y, b.apply("where", b.apply("eq", x, 0.0, position=position), float("nan"), 0.0,
                                          position=position), position=position)
        return y
    lower.__doc__ = f"{library}.special.{name}(x): SciPy's {name}" + (", NaN at 0 as JAX's" if name == "expi" and
                                                                       library == "jax.scipy" else "")
    return lower


for _name in SPECIALS28:
    variant("jax.scipy", _name)(_special(_name, "jax.scipy"))
