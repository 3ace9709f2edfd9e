"""Session 37: what session 36 left refused in ``scipy.special`` though closed forms exist (registered in ``functions``'
table when ``lang`` is imported; the ops are in :mod:`jacobi_cli.ir.ops`, "session 37"):

- Carlson's symmetric elliptic integrals ``elliprf elliprc elliprd elliprj elliprg``: SciPy's values; R_F's, R_C's and
  R_G's derivatives are other Carlson integrals (DLMF 19.18), to every order jac computes; R_D's and R_J's first
  derivatives by a complex step of SciPy's own function (exact to rounding), their higher ones (session 38) their
  integrals with raised exponents (the op ``carlson_integral``: a trapezoid rule in log t, exact to rounding);
- ``diric(x, n)``, the periodic sinc of a constant integer n >= 1: SciPy's values, its derivatives of every order from
  the Dirichlet kernel's sum of cosines (no 0/0 at x = 2πk);
- ``eval_jacobi(n, alpha, beta, x)``, ``eval_sh_jacobi(n, p, q, x)``, ``eval_gegenbauer(n, alpha, x)`` of a constant
  degree n: SciPy's values, by x from DLMF 18.9; by n and the parameters refused (no closed form).
"""

from __future__ import annotations

from .functions import JacValueError, arguments, REQUIRED, static, variant
from .jaxnames import LIBRARY_NAMES
from .functions import tensor
from .scipynames import _arrays
from ..ir.ops import DIRIC_MAX

CARLSON = {"elliprf": ("x", "y", "z"), "elliprc": ("x", "y"), "elliprd": ("x", "y", "z"),
           "elliprj": ("x", "y", "z", "p"), "elliprg": ("x", "y", "z")}
_CARLSON_NOTES = {
    "elliprf": "by each argument -R_D/6 of the others (DLMF 19.18.1), to every order",
    "elliprc": "R_F(x, y, y)'s derivatives (at y < 0, the principal value, through DLMF 19.2.20), to every order",
    "elliprg": "by z R_F/4 - z R_D(x, y, z)/12 (DLMF 19.18), to every order",
    "elliprd": "first derivatives by a complex step of SciPy's own function (exact to rounding); higher ones its "
               "integral with raised exponents, to every order",
    "elliprj": "first derivatives by a complex step of SciPy's own function (exact to rounding; mpmath's where p "
               "nears x, y or z; refused at p < 0, the principal value); higher ones its integral with raised "
               "exponents, to every order"}


def _carlson(fname, names):
    def lower(b, args, kwargs, position):
        xs, _ = _arrays(fname, names, args, kwargs, b, position)
        return b.apply(fname, *xs, position=position)
    lower.__doc__ = f"scipy.special.{fname}({', '.join(names)}): SciPy's values; {_CARLSON_NOTES[fname]}"
    return lower


for _name, _names in CARLSON.items():
    variant("scipy", _name)(_carlson(_name, _names))


def _constant_number(b, value, what, fname, position):
    if hasattr(value, "id") and b.nodes[value.id].op != "const":
        raise JacValueError(f"scipy.special.{fname}: {what} must be a constant (jac does not differentiate by it), "
                            "not an expression of the inputs", position)
    v = static(b, value, what, position)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise JacValueError(f"scipy.special.{fname}: {what} must be one number, got {v!r}", position)
    return v


@variant("scipy", "diric")
def _diric(b, args, kwargs, position):
    """scipy.special.diric(x, n), the periodic sinc sin(n x / 2) / (n sin(x / 2)) of a constant integer n >= 1:
    SciPy's values; its derivatives of every order by x from the Dirichlet kernel (1/n) Σ cos((n - 1 - 2j) x / 2)"""
    a = arguments("diric", args, kwargs, {"x": REQUIRED, "n": REQUIRED}, position)
    n = _constant_number(b, a["n"], "n", "diric", position)
    if not (float(n).is_integer() and n >= 1):
        raise JacValueError(f"scipy.special.diric: n must be a positive integer (SciPy answers NaN), got {n:g}",
                            position)
    if n > DIRIC_MAX:
        raise JacValueError(f"scipy.special.diric: n = {n:g} is more than jac computes ({DIRIC_MAX:,}: its "
                            "derivative sums n/2 cosines per element)", position)
    x = tensor(b, a["x"], "scipy.special.diric", position)
    return b.apply("diric", x, n=int(n), position=position)


POLYNOMIALS = {"eval_jacobi": ("alpha", "beta"), "eval_sh_jacobi": ("p", "q"), "eval_gegenbauer": ("alpha",)}
_DERIVATIVE = {"eval_jacobi": "(n + alpha + beta + 1)/2 eval_jacobi(n - 1, alpha + 1, beta + 1, x)",
               "eval_sh_jacobi": "n eval_sh_jacobi(n - 1, p + 2, q + 1, x)",
               "eval_gegenbauer": "2 alpha eval_gegenbauer(n - 1, alpha + 1, x)"}


def _polynomial(fname, params):
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"n": REQUIRED, **dict.fromkeys(params, REQUIRED), "x": REQUIRED,
                                            "out": None}, position)
        if a["out"] is not None:
            raise JacValueError(f"scipy.special.{fname}(..., out=...) writes into an array, which jac does not do: "
                                "use the result", position)
        n = _constant_number(b, a["n"], "n", fname, position)
        xs = [tensor(b, a[k], f"scipy.special.{fname}", position) for k in params + ("x",)]
        return b.apply(fname, *xs, n=float(n), position=position)
    lower.__doc__ = (f"scipy.special.{fname}(n, {', '.join(params)}, x) of a constant degree n: SciPy's values; by x "
                     f"{_DERIVATIVE[fname]} (DLMF 18.9); by n and {', '.join(params)} refused")
    return lower


for _name, _params in POLYNOMIALS.items():
    variant("scipy", _name)(_polynomial(_name, _params))

SCIPY37 = frozenset(CARLSON) | frozenset(POLYNOMIALS) | {"diric"}
LIBRARY_NAMES["scipy"] = LIBRARY_NAMES["scipy"] | SCIPY37
