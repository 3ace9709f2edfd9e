"""``scipy.special``'s Gauss quadrature rules and five scaled orthogonal polynomials (session 30; registered in ``functions``' table when ``lang`` is
imported): ``roots_legendre`` and its kin (``roots_chebyt chebyu chebyc chebys jacobi sh_legendre sh_chebyt
sh_chebyu sh_jacobi gegenbauer genlaguerre hermite hermitenorm laguerre`` and their old aliases ``p_roots`` ...),
``(x, w)`` or with ``mu=True`` ``(x, w, mu)``: SciPy's own call on the constant order and parameters, so the nodes
and weights are SciPy's to the bit, constants of the graph (they depend on no input), as in the quadratures users
paste: ``x, w = roots_legendre(8); jnp.sum(w * f(x))``. A parameter that is an expression of the inputs is refused
(SciPy's nodes have no derivative by it here). ``eval_chebyc`` / ``eval_chebys`` / ``eval_sh_chebyt`` /
``eval_sh_chebyu`` / ``eval_sh_legendre`` of integer orders are SciPy's: another polynomial of ``x / 2`` or ``2x - 1``
(:mod:`.scipynames`' recurrences), equal to SciPy's to the bit."""

from __future__ import annotations

import numpy as np

from .functions import REQUIRED, Items, JacValueError, arguments, library_function, static, tensor, variant

# name -> (SciPy's function, its parameters after n); the aliases are SciPy's own names for the same functions
_ROOTS = {"roots_legendre": (), "roots_chebyt": (), "roots_chebyu": (), "roots_chebyc": (), "roots_chebys": (),
          "roots_jacobi": ("alpha", "beta"), "roots_sh_legendre": (), "roots_sh_chebyt": (), "roots_sh_chebyu": (),
          "roots_sh_jacobi": ("p1", "q1"), "roots_gegenbauer": ("alpha",), "roots_genlaguerre": ("alpha",),
          "roots_hermite": (), "roots_hermitenorm": (), "roots_laguerre": ()}
_ALIASES = {"p_roots": "roots_legendre", "t_roots": "roots_chebyt", "u_roots": "roots_chebyu",
            "c_roots": "roots_chebyc", "s_roots": "roots_chebys", "j_roots": "roots_jacobi",
            "ps_roots": "roots_sh_legendre", "ts_roots": "roots_sh_chebyt", "us_roots": "roots_sh_chebyu",
            "js_roots": "roots_sh_jacobi", "cg_roots": "roots_gegenbauer", "la_roots": "roots_genlaguerre",
            "l_roots": "roots_laguerre", "h_roots": "roots_hermite", "he_roots": "roots_hermitenorm"}
# the orthogonal polynomials SciPy computes from another's at a scaled argument (checked equal to the bit for integer
# orders): name -> (the other, its argument's scale and shift, the result's factor)
_SCALED = {"eval_chebyc": ("eval_chebyt", 0.5, 0.0, 2.0), "eval_chebys": ("eval_chebyu", 0.5, 0.0, 1.0),
           "eval_sh_chebyt": ("eval_chebyt", 2.0, -1.0, 1.0), "eval_sh_chebyu": ("eval_chebyu", 2.0, -1.0, 1.0),
           "eval_sh_legendre": ("eval_legendre", 2.0, -1.0, 1.0)}
SCIPY30 = frozenset(_ROOTS) | frozenset(_ALIASES) | frozenset(_SCALED)
MAX_NODES = 100_000  # SciPy's eigenvalue / Newton work grows with n: a rule of more nodes is refused


def _roots(name: str, spelling: str):
    extra = _ROOTS[name]
    fname = f"scipy.special.{spelling}"

    def lower(b, args, kwargs, position):
        import scipy.special

        a = arguments(fname, args, kwargs, {"n": REQUIRED, **{k: REQUIRED for k in extra}, "mu": False}, position)
        values = {}
        for key in ("n",) + extra + ("mu",):
            value = a[key]
            if hasattr(value, "id") and b.nodes[value.id].op != "const":
                raise JacValueError(f"{fname}: {key} is a constant (the rule's nodes and weights are constants of the "
                                    f"graph; SciPy's have no derivative by {key} here), not an expression of the "
                                    f"inputs", position)
            values[key] = static(b, value, key, position)
        n = values["n"]
        if isinstance(n, bool) or not isinstance(n, (int, float)) or float(n) != int(n) or n < 1:
            raise JacValueError(f"{fname}: n must be a positive integer (SciPy raises), got {n!r}", position)
        if int(n) > MAX_NODES:
            raise JacValueError(f"{fname}: n = {int(n):,} nodes, more than jac computes ({MAX_NODES:,})", position)
        params = []
        for key in extra:
            v = values[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise JacValueError(f"{fname}: {key} is one number, got {v!r}", position)
            params.append(float(v))
        mu = values["mu"]
        if not isinstance(mu, (bool, int, float)):
            raise JacValueError(f"{fname}: mu is True or False, got {mu!r}", position)
        try:
            found = getattr(scipy.special, name)(int(n), *params, mu=bool(mu))
        except ValueError as err:  # SciPy's own refusals (alpha <= -1, ...)
            raise JacValueError(f"{fname}: SciPy raises: {err}", position) from None
        parts = [b.const(np.asarray(found[0]).astype(b.dtype), position),
                 b.const(np.asarray(found[1]).astype(b.dtype), position)]
        if mu:
            parts.append(b.const(np.asarray(found[2], dtype=b.dtype), position))
        return Items(parts)
    lower.__doc__ = (f"scipy.special.{spelling}(n{''.join(', ' + k for k in extra)}, mu=False): the Gauss "
                     f"quadrature rule's nodes and weights (and with mu=True the weights' sum), SciPy's own values, "
                     f"constants")
    return lower


for _name in _ROOTS:
    variant("scipy", _name)(_roots(_name, _name))
for _alias, _name in _ALIASES.items():
    variant("scipy", _alias)(_roots(_name, _alias))


def _scaled(name: str):
    base, scale, shift, factor = _SCALED[name]
    fname = f"scipy.special.{name}"

    def lower(b, args, kwargs, position):
        a = arguments(name, args, kwargs, {"n": REQUIRED, "x": REQUIRED, "out": None}, position)
        if a["out"] is not None:
            raise JacValueError(f"{fname}(..., out=...) writes into an array, which jac does not do: use the result",
                                position)
        x = tensor(b, a["x"], fname, position)
        # SciPy's C: x/2.0 (times 0.5: the same, exactly), 2*x-1
        t = b.apply("mul", x, scale, position=position)
        if shift:
            t = b.apply("add", t, shift, position=position)
        out = library_function("scipy", base)(b, [a["n"], t], {}, position)
        return b.apply("mul", out, factor, position=position) if factor != 1.0 else out
    lower.__doc__ = (f"scipy.special.{name}(n, x) of integer orders n: SciPy's "
                     f"{'2 * ' if factor != 1.0 else ''}{base}(n, {'x / 2' if scale == 0.5 else '2 * x - 1'}), its "
                     f"recurrence written out")
    return lower


for _name in _SCALED:
    variant("scipy", _name)(_scaled(_name))
