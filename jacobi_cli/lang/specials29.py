"""More of ``scipy.special`` and ``jax.scipy.special`` (session 29; registered in ``functions``' table when ``lang``
is imported), on ops whose values are SciPy's own (:mod:`jacobi_cli.ir.ops`, "session 29"): the Bessel functions of
a real argument and any order (``jv yv iv kv jve yve ive kve jn``; ``yn kn`` of integer orders; their derivatives
``jvp yvp ivp kvp``), the spherical ones (``spherical_jn/yn/in/kn`` with ``derivative=``), Struve's ``struve``
``modstruve``, ``expn``, ``spence``, the incomplete beta family (``betainc betaincc betaincinv betainccinv``) and the
inverses ``gammaincinv gammainccinv``, the pairs ``fresnel sici shichi``, ``owens_t``, ``hyp0f1 hyp1f1 hyp2f1``,
``lambertw`` on its real branches, ``sindg cosdg tandg cotdg``, ``erfi``, the incomplete elliptic integrals
``ellipkinc ellipeinc`` (by φ and m), ``hyperu``, ``wrightomega``, ``ndtri_exp``, the distribution functions
``stdtr stdtrit chdtr chdtrc chdtri gdtr gdtrc pdtr pdtrc fdtr fdtrc bdtr bdtrc nbdtr nbdtrc`` (by their
continuous variable); JAX's ``bessel_jn`` (all orders 0..v stacked) and ``jax.lax.betainc`` (``jax.lax.zeta`` stays
refused with its hint: JAX has no derivative rule). Derivatives by x; by an order or a shape parameter refused (SciPy has none; JAX's betainc
refuses a and b too). The complex-valued ones (``wofz``, ``sph_harm_y``, the Hankel functions) are refused saying
jac is real-valued.
"""

from __future__ import annotations

import numpy as np

from .functions import REQUIRED, Items, JacValueError, _is_integer, arguments, static, tensor, variant
from .laxnames import _ops  # op(name, *args): b.apply at the call's position
from .scipynames import _arrays

# the names of scipy.special and jax.scipy.special read here (jaxnames.LIBRARY_NAMES)
SCIPY29 = frozenset({"jv", "yv", "iv", "kv", "jve", "yve", "ive", "kve", "jn", "yn", "kn", "jvp", "yvp", "ivp", "kvp",
                     "struve", "modstruve", "spherical_jn", "spherical_yn", "spherical_in", "spherical_kn", "expn",
                     "spence", "betainc", "betaincc", "betaincinv", "betainccinv", "gammaincinv", "gammainccinv",
                     "fresnel", "sici", "shichi", "owens_t", "hyp0f1", "hyp1f1", "hyp2f1", "lambertw", "sindg",
                     "cosdg", "tandg", "cotdg", "erfi", "wofz", "sph_harm_y", "hankel1", "hankel1e", "hankel2",
                     "hankel2e", "h1vp", "h2vp", "ellipkinc", "ellipeinc", "hyperu", "wrightomega", "ndtri_exp",
                     "stdtr", "stdtrit", "chdtr", "chdtrc", "chdtri", "gdtr", "gdtrc", "pdtr", "pdtrc", "fdtr",
                     "fdtrc", "bdtr", "bdtrc", "nbdtr", "nbdtrc"})
JAX_SCIPY29 = frozenset({"bessel_jn", "betainc", "expn", "fresnel", "hyp1f1", "hyp2f1", "owens_t", "sici", "spence",
                         "sph_harm_y", "wofz"})

_COMPLEX = {"wofz": "the Faddeeva function w(z) = exp(-z²) erfc(-iz), complex for a real z",
            "sph_harm_y": "the spherical harmonics, complex (e^{imφ})",
            "hankel1": "the Hankel function H1 = J + iY", "hankel1e": "the scaled Hankel function H1",
            "hankel2": "the Hankel function H2 = J - iY", "hankel2e": "the scaled Hankel function H2",
            "h1vp": "a derivative of the Hankel function H1", "h2vp": "a derivative of the Hankel function H2"}


def _integer_order(b, value, fname, what, position):
    """An integer order given as a constant (a number or an array of integers), as a float constant: SciPy truncates
    a non-integer one to an integer (with a warning), which jac refuses rather than answer for another order."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        orders = np.asarray(float(value))
    elif hasattr(value, "id") and b.nodes[value.id].op == "const":
        orders = np.asarray(b.nodes[value.id].value, dtype=float)
    else:
        raise JacValueError(f"{fname}: the order {what} must be a constant integer or an array of them, not an "
                            "expression of the inputs", position)
    if not np.all(np.isfinite(orders)) or np.any(orders != np.round(orders)):
        bad = float(orders[orders != np.round(orders)].ravel()[0]) if np.all(np.isfinite(orders)) else float("nan")
        raise JacValueError(f"{fname}: the order {what} must be an integer (SciPy truncates {bad:g} to an integer, "
                            "with a warning): write the integer", position)
    return b.const(orders.astype(b.dtype), position)


def _plain(library, fname, op_name, names, integer=None):
    def lower(b, args, kwargs, position):
        if integer is None:
            xs, _ = _arrays(fname, names, args, kwargs, b, position)
        else:  # the integer order first, checked before it is an array
            a = arguments(fname, args, kwargs, {**dict.fromkeys(names, REQUIRED), "out": None}, position)
            _arrays(fname, (), (), {"out": a["out"]}, b, position)
            xs = [_integer_order(b, a[names[0]], f"{library}.special.{fname}", names[0], position)] + \
                [tensor(b, a[n], f"{library}.special.{fname}", position) for n in names[1:]]
        return b.apply(op_name, *xs, position=position)
    lower.__doc__ = f"{library}.special.{fname}({', '.join(names)}): SciPy's values (the op {op_name})" + (
        f", {integer} an integer" if integer else "")
    return lower


for _name, _names in (("jv", ("v", "z")), ("yv", ("v", "z")), ("iv", ("v", "z")), ("kv", ("v", "z")),
                      ("jve", ("v", "z")), ("yve", ("v", "z")), ("ive", ("v", "z")), ("kve", ("v", "z")),
                      ("struve", ("v", "x")), ("modstruve", ("v", "x")), ("spence", ("z",)),
                      ("betaincc", ("a", "b", "x")), ("betaincinv", ("a", "b", "y")),
                      ("betainccinv", ("a", "b", "y")), ("gammaincinv", ("a", "y")), ("gammainccinv", ("a", "y")),
                      ("hyp0f1", ("v", "z")), ("sindg", ("x",)), ("cosdg", ("x",)), ("tandg", ("x",)),
                      ("cotdg", ("x",)), ("erfi", ("x",)), ("ellipkinc", ("phi", "m")), ("ellipeinc", ("phi", "m")),
                      ("hyperu", ("a", "b", "x")), ("wrightomega", ("z",)), ("ndtri_exp", ("y",)),
                      ("stdtr", ("df", "t")), ("stdtrit", ("df", "p")), ("chdtr", ("v", "x")), ("chdtrc", ("v", "x")),
                      ("chdtri", ("v", "p")), ("gdtr", ("a", "b", "x")), ("gdtrc", ("a", "b", "x")),
                      ("pdtr", ("k", "m")), ("pdtrc", ("k", "m")), ("fdtr", ("dfn", "dfd", "x")),
                      ("fdtrc", ("dfn", "dfd", "x")), ("bdtr", ("k", "n", "p")), ("bdtrc", ("k", "n", "p")),
                      ("nbdtr", ("k", "n", "p")), ("nbdtrc", ("k", "n", "p"))):
    variant("scipy", _name)(_plain("scipy", _name, _name, _names))
variant("scipy", "jn")(_plain("scipy", "jn", "jv", ("n", "z")))  # SciPy's jn is jv
for _name in ("yn", "kn"):
    variant("scipy", _name)(_plain("scipy", _name, _name, ("n", "x"), integer="n"))
for _library, _names in (("scipy", ("a", "b", "x")), ("jax.scipy", ("a", "b", "x")), ("jax.lax", ("a", "b", "x"))):
    variant(_library, "betainc")(_plain(_library, "betainc", "betainc", _names))
for _library in ("scipy", "jax.scipy"):
    variant(_library, "expn")(_plain(_library, "expn", "expn", ("n", "x"), integer="n"))
    variant(_library, "hyp1f1")(_plain(_library, "hyp1f1", "hyp1f1", ("a", "b", "x")))
    variant(_library, "hyp2f1")(_plain(_library, "hyp2f1", "hyp2f1", ("a", "b", "c", "z")))
    variant(_library, "owens_t")(_plain(_library, "owens_t", "owens_t", ("h", "a")))
variant("jax.scipy", "spence")(_plain("jax.scipy", "spence", "spence", ("x",)))


def _pair(library, fname, ops, fields):
    def lower(b, args, kwargs, position):
        (x,), _ = _arrays(fname, ("x",), args, kwargs, b, position)
        return Items([b.apply(op, x, position=position) for op in ops])
    lower.__doc__ = (f"{library}.special.{fname}(x): the pair ({', '.join(fields)}), SciPy's values; unpack it: "
                     f"{', '.join(fields)} = {fname}(x)")
    return lower


for _library in ("scipy", "jax.scipy"):
    variant(_library, "fresnel")(_pair(_library, "fresnel", ("fresnel_s", "fresnel_c"), ("S", "C")))
    variant(_library, "sici")(_pair(_library, "sici", ("sici_si", "sici_ci"), ("Si", "Ci")))
variant("scipy", "shichi")(_pair("scipy", "shichi", ("shichi_shi", "shichi_chi"), ("Shi", "Chi")))


def _spherical_of(fname):
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"n": REQUIRED, "z": REQUIRED, "derivative": False}, position)
        n = _integer_order(b, a["n"], f"scipy.special.{fname}", "n", position)
        z = tensor(b, a["z"], f"scipy.special.{fname}", position)
        derivative = static(b, a["derivative"], "derivative", position)
        if derivative not in (True, False) or not isinstance(derivative, (bool, int, float)):
            raise JacValueError(f"scipy.special.{fname}: derivative must be True or False, got {derivative!r}",
                                position)
        return b.apply(fname + ("_d" if derivative else ""), n, z, position=position)
    lower.__doc__ = (f"scipy.special.{fname}(n, z, derivative=False): SciPy's values of an integer order n, "
                     "derivative=True its derivative by z")
    return lower


def _bessel_derivative(fname, base, phase):
    """scipy.special.jvp / yvp / ivp / kvp(v, z, n=1): SciPy's formula, the n-th derivative as a sum of the function
    at orders v - n, v - n + 2, ..., v + n with binomial weights of alternating sign (``phase``), over 2ⁿ."""
    def lower(b, args, kwargs, position):
        a = arguments(fname, args, kwargs, {"v": REQUIRED, "z": REQUIRED, "n": 1}, position)
        v = tensor(b, a["v"], f"scipy.special.{fname}", position)
        z = tensor(b, a["z"], f"scipy.special.{fname}", position)
        n = static(b, a["n"], "n", position)
        if not _is_integer(n) or n < 0:
            raise JacValueError(f"scipy.special.{fname}: the order of the derivative n must be a non-negative integer, "
                                f"got {n!r}", position)
        if n > 100:
            raise JacValueError(f"scipy.special.{fname}: n = {n} is over jac's 100 (each term is written out)",
                                position)
        n = int(n)
        op = _ops(b, position)
        if n == 0:
            return op(base, v, z)
        p = 1.0
        s = op(base, op("sub", v, float(n)), z)
        for i in range(1, n + 1):
            p = phase * (p * (n - i + 1)) / i  # SciPy's binomial weights, in its order of operations
            s = op("add", s, op("mul", p, op(base, op("add", op("sub", v, float(n)), float(i * 2)), z)))
        out = op("div", s, 2.0 ** n)
        return op("mul", out, float((-1) ** n)) if fname == "kvp" else out
    lower.__doc__ = (f"scipy.special.{fname}(v, z, n=1): the n-th derivative of {base} by z, SciPy's formula (a sum "
                     f"of {base} at orders v - n ... v + n, weighted as SciPy weighs them)")
    return lower


for _name, _base, _phase in (("jvp", "jv", -1), ("yvp", "yv", -1), ("ivp", "iv", 1), ("kvp", "kv", 1)):
    variant("scipy", _name)(_bessel_derivative(_name, _base, _phase))
for _name in ("spherical_jn", "spherical_yn", "spherical_in", "spherical_kn"):
    variant("scipy", _name)(_spherical_of(_name))


@variant("scipy", "lambertw")
def _lambertw(b, args, kwargs, position):
    """scipy.special.lambertw(z, k=0, tol=1e-8) on its real branches, k = 0 (z >= -1/e) and k = -1 (-1/e <= z < 0):
    SciPy's value (its real part: SciPy returns a complex array, whose imaginary part is 0 there; ``.real`` reads the
    same), refused at evaluation where SciPy's is complex (jac is real-valued). W' = 1 / (z + e^W)."""
    a = arguments("lambertw", args, kwargs, {"z": REQUIRED, "k": 0, "tol": 1e-8}, position)
    k = static(b, a["k"], "k", position)
    if not _is_integer(k) or k not in (0, -1):
        raise JacValueError(f"scipy.special.lambertw: branch k = {k!r} is complex for every real z; jac is "
                            "real-valued and reads the real branches k = 0 and k = -1", position)
    if static(b, a["tol"], "tol", position) != 1e-8:
        raise JacValueError("scipy.special.lambertw: jac computes with SciPy's default tol=1e-8; leave tol out",
                            position)
    z = tensor(b, a["z"], "scipy.special.lambertw", position)
    return b.apply("lambertw" if k == 0 else "lambertw_m1", z, position=position)


@variant("jax.scipy", "bessel_jn")
def _bessel_jn(b, args, kwargs, position):
    """jax.scipy.special.bessel_jn(z, *, v, n_iter=50): J_0(z) ... J_v(z) stacked on a new first axis, shape (v + 1,
    *z.shape), SciPy's values (JAX's backward recurrence of n_iter steps loses accuracy where |z| is large next to
    n_iter: its J_0(100) is -1.46 for 0.02); n_iter changes nothing here."""
    a = arguments("bessel_jn", args, kwargs, {"z": REQUIRED, "v": REQUIRED, "n_iter": 50}, position)
    v = static(b, a["v"], "v", position)
    if not _is_integer(v) or v < 0:
        raise JacValueError(f"jax.scipy.special.bessel_jn: v must be a non-negative integer (the highest order), got "
                            f"{v!r}", position)
    static(b, a["n_iter"], "n_iter", position)
    z = tensor(b, a["z"], "jax.scipy.special.bessel_jn", position)
    b.check_size((int(v) + 1,) + tuple(z.shape), "jax.scipy.special.bessel_jn's result", position)
    orders = b.const(np.arange(int(v) + 1, dtype=b.dtype).reshape((int(v) + 1,) + (1,) * len(z.shape)), position)
    return b.apply("jv", orders, z, position=position)


def _complex(library, fname):
    def lower(b, args, kwargs, position):
        raise JacValueError(f"{library}.special.{fname} is {_COMPLEX[fname]}: jac is real-valued and does not compute "
                            "complex numbers", position)
    lower.__doc__ = f"{library}.special.{fname}: refused ({_COMPLEX[fname]}; jac is real-valued)"
    return lower


for _name in _COMPLEX:
    variant("scipy", _name)(_complex("scipy", _name))
for _name in ("wofz", "sph_harm_y"):
    variant("jax.scipy", _name)(_complex("jax.scipy", _name))
