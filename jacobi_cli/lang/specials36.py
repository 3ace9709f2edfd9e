"""The rest of ``scipy.special`` (session 36; registered in ``functions``' table when ``lang`` is imported), on ops
whose values are SciPy's own (:mod:`jacobi_cli.ir.ops`, "session 36"):

- read: the Kelvin functions ``ber bei ker kei berp beip kerp keip``; ``airy`` and ``airye`` (SciPy's four real
  fields, unpacked ``ai, aip, bi, bip = airy(x)``); the integrals ``itj0y0 iti0k0 it2j0y0 it2i0k0`` (pairs)
  ``itstruve0 it2struve0 itmodstruve0``; ``ellipj`` (``sn, cn, dn, ph``, by u and m); ``wright_bessel`` and
  ``log_wright_bessel`` (by x; by a and b refused: no closed form); ``agm``; ``voigt_profile``; the inverses of
  distribution functions by the probability and the continuous variables (``gdtrix gdtria fdtri pdtri bdtri nbdtri
  nrdtrimn nrdtrisd``) and Tukey's ``tklmbda`` by x (shape parameters and counts refused); the parabolic cylinder
  functions ``pbdv pbvv pbwa`` (pairs: the value and its derivative) and ``lpmv`` by x;
- read as constants (SciPy's own call at parse time; every argument must be a constant, the result has no
  derivative): the tables of zeros of real functions (``jn_zeros``, ``ai_zeros``, ``ber_zeros``, ...), the numbers
  ``bernoulli euler factorial2 factorialk stirling2``;
- refused saying why (``REASONS``): the complex-valued ones, the polynomial objects, the functions whose derivative
  has no closed form jac can compute, SciPy's error settings.
"""

from __future__ import annotations

import numpy as np

from ..errors import JacNameError
from .functions import REQUIRED, Items, JacValueError, arguments, static, variant
from .jaxnames import LIBRARY_NAMES, LIBRARY_REFUSED
from .scipynames import _arrays


def _one(fname, op_name, names):
    def lower(b, args, kwargs, position):
        xs, _ = _arrays(fname, names, args, kwargs, b, position)
        return b.apply(op_name, *xs, position=position)
    lower.__doc__ = f"scipy.special.{fname}({', '.join(names)}): SciPy's values (the op {op_name})"
    return lower


def _fields(fname, ops, names, fields):
    def lower(b, args, kwargs, position):
        xs, _ = _arrays(fname, names, args, kwargs, b, position)
        return Items([b.apply(op, *xs, position=position) for op in ops])
    lower.__doc__ = (f"scipy.special.{fname}({', '.join(names)}): the {len(fields)} arrays ({', '.join(fields)}), "
                     f"SciPy's values; unpack them: {', '.join(fields)} = {fname}({', '.join(names)})")
    return lower


READ = {"ber": ("x",), "bei": ("x",), "ker": ("x",), "kei": ("x",), "berp": ("x",), "beip": ("x",),
        "kerp": ("x",), "keip": ("x",), "itstruve0": ("x",), "it2struve0": ("x",), "itmodstruve0": ("x",),
        "wright_bessel": ("a", "b", "x"), "log_wright_bessel": ("a", "b", "x"), "agm": ("a", "b"),
        "voigt_profile": ("x", "sigma", "gamma"), "gdtrix": ("a", "b", "p"), "gdtria": ("p", "b", "x"),
        "fdtri": ("dfn", "dfd", "p"), "pdtri": ("k", "y"), "bdtri": ("k", "n", "y"), "nbdtri": ("k", "n", "y"),
        "nrdtrimn": ("p", "std", "x"), "nrdtrisd": ("mn", "p", "x"), "tklmbda": ("x", "lmbda"),
        "lpmv": ("m", "v", "x")}
FIELDS = {"airy": (("airy_sp_ai", "airy_sp_aip", "airy_sp_bi", "airy_sp_bip"), ("z",), ("Ai", "Aip", "Bi", "Bip")),
          "airye": (("airye_ai", "airye_aip", "airye_bi", "airye_bip"), ("z",), ("eAi", "eAip", "eBi", "eBip")),
          "itj0y0": (("itj0y0_j", "itj0y0_y"), ("x",), ("ij0", "iy0")),
          "iti0k0": (("iti0k0_i", "iti0k0_k"), ("x",), ("ii0", "ik0")),
          "it2j0y0": (("it2j0y0_j", "it2j0y0_y"), ("x",), ("ij0", "iy0")),
          "it2i0k0": (("it2i0k0_i", "it2i0k0_k"), ("x",), ("ii0", "ik0")),
          "pbdv": (("pbdv_value", "pbdv_slope"), ("v", "x"), ("d", "dp")),
          "pbvv": (("pbvv_value", "pbvv_slope"), ("v", "x"), ("v", "vp")),
          "pbwa": (("pbwa_value", "pbwa_slope"), ("a", "x"), ("w", "wp")),
          "ellipj": (("ellipj_sn", "ellipj_cn", "ellipj_dn", "ellipj_ph"), ("u", "m"), ("sn", "cn", "dn", "ph"))}
for _name, _names in READ.items():
    variant("scipy", _name)(_one(_name, _name, _names))
for _name, (_ops, _names, _fields_of) in FIELDS.items():
    variant("scipy", _name)(_fields(_name, _ops, _names, _fields_of))


# -- constants: SciPy's own call on constant arguments --------------------------------------------------------------

# name -> its parameters (REQUIRED or a default), as SciPy names them
CONSTANTS = {**{n: {"nt": REQUIRED} for n in (
                 "ai_zeros", "bi_zeros", "jnjnp_zeros", "kelvin_zeros", "ber_zeros", "bei_zeros", "ker_zeros",
                 "kei_zeros", "berp_zeros", "beip_zeros", "kerp_zeros", "keip_zeros")},
             **{n: {"n": REQUIRED, "nt": REQUIRED} for n in ("jn_zeros", "jnp_zeros", "yn_zeros", "ynp_zeros",
                                                             "jnyn_zeros")},
             **{n: {"nt": REQUIRED, "complex": False} for n in ("y0_zeros", "y1_zeros", "y1p_zeros")},
             "bernoulli": {"n": REQUIRED}, "euler": {"n": REQUIRED},
             "factorial2": {"n": REQUIRED, "exact": False, "extend": "zero"},
             "factorialk": {"n": REQUIRED, "k": REQUIRED, "exact": False, "extend": "zero"},
             "stirling2": {"N": REQUIRED, "K": REQUIRED, "exact": False}}
_INTEGERS = frozenset({"nt", "n", "N", "K", "k"})
MAX_COUNT = 10_000  # zeros or numbers asked for: SciPy's work grows with the count
# where SciPy's own routine fails sooner: the Kelvin zeros' Newton iterations never end past about 225 zeros (x near
# 1000: kelvin_zeros(250) ran for ten minutes), and y0_zeros' work grows as the square (1,000 zeros: 19 s)
_KELVIN = ("kelvin_zeros", "ber_zeros", "bei_zeros", "ker_zeros", "kei_zeros", "berp_zeros", "beip_zeros",
           "kerp_zeros", "keip_zeros")
MAX_COUNTS = {**{n: 200 for n in _KELVIN}, **{n: 300 for n in ("y0_zeros", "y1_zeros", "y1p_zeros")}}


def _constant_of(fname):
    params = CONSTANTS[fname]

    def lower(b, args, kwargs, position):
        import scipy.special

        a = arguments(fname, args, kwargs, params, position)
        values = {}
        for key, value in a.items():
            if hasattr(value, "id") and b.nodes[value.id].op != "const":
                raise JacValueError(f"scipy.special.{fname}: {key} must be a constant: the result is a table of "
                                    f"numbers with no derivative by {key} (an integer count or order), not an "
                                    "expression of the inputs", position)
            v = static(b, value, key, position)
            # a count or order written 7 is the float 7.0 of --dtype here: SciPy's own integer, as the text wrote it
            values[key] = int(v) if key in _INTEGERS and isinstance(v, float) and v.is_integer() else v
        for key in ("nt", "n", "N", "K", "k"):
            v = values.get(key)
            most = MAX_COUNTS.get(fname, MAX_COUNT) if key == "nt" else MAX_COUNT
            if isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) > most:
                raise JacValueError(f"scipy.special.{fname}: {key} = {v:g} is more than jac computes ({most:,})",
                                    position)
        if values.get("exact") or values.get("complex"):
            what = "Python integers" if values.get("exact") else "complex zeros"
            raise JacValueError(f"scipy.special.{fname}(..., {'exact' if values.get('exact') else 'complex'}=True) "
                                f"gives {what}, which jac does not compute: leave it False", position)
        try:
            with np.errstate(all="ignore"):
                out = getattr(scipy.special, fname)(**values)
        except (ValueError, TypeError, OverflowError) as err:  # SciPy's own refusal of the arguments
            raise JacValueError(f"scipy.special.{fname}: SciPy raises {type(err).__name__}: {err}", position) from None
        parts = [np.asarray(p) for p in (out if isinstance(out, tuple) else (out,))]
        for p in parts:
            if p.dtype.kind == "c" and np.any(p.imag != 0):
                raise JacValueError(f"scipy.special.{fname} gives complex numbers here: jac is real-valued", position)
        consts = [b.const(np.asarray(p.real if p.dtype.kind == "c" else p, dtype=float), position) for p in parts]
        return Items(consts) if isinstance(out, tuple) else consts[0]
    lower.__doc__ = (f"scipy.special.{fname}({', '.join(params)}): SciPy's own numbers, constants of the graph (every "
                     "argument a constant; no derivative)")
    return lower


for _name in CONSTANTS:
    variant("scipy", _name)(_constant_of(_name))


# -- refused, saying why --------------------------------------------------------------------------------------------

_COMPLEX = "complex-valued for a real argument; jac is real-valued and does not compute complex numbers"
_OBJECT = ("returns a polynomial object (numpy.poly1d), not an array, which jac does not hold: write "
           "scipy.special.{instead} of x")
_NO_FORM = ("its derivative by {what} has no closed form jac can compute (SciPy has none either), and jac does not "
            "answer a value it cannot differentiate")
_SEQUENCE = "returns the values for every order up to n at once: write scipy.special.{instead} for each order"


def _no_form(what):
    return _NO_FORM.format(what=what)


REASONS = {
    **{n: "the Mathieu functions: " + _no_form("the parameter q") + " (SciPy's x is in degrees)" for n in (
        "mathieu_a", "mathieu_b", "mathieu_cem", "mathieu_sem", "mathieu_modcem1", "mathieu_modcem2",
        "mathieu_modsem1", "mathieu_modsem2", "mathieu_even_coef", "mathieu_odd_coef")},
    **{n: "the spheroidal wave functions: " + _no_form("m, n and c") for n in (
        "obl_ang1", "obl_ang1_cv", "obl_cv", "obl_cv_seq", "obl_rad1", "obl_rad1_cv", "obl_rad2", "obl_rad2_cv",
        "pro_ang1", "pro_ang1_cv", "pro_cv", "pro_cv_seq", "pro_rad1", "pro_rad1_cv", "pro_rad2", "pro_rad2_cv")},
    **{n: "the ellipsoidal harmonics: " + _no_form("h² and k²") for n in (
        "ellip_harm", "ellip_harm_2", "ellip_normal")},
    "kelvin": "Kelvin's functions as four complex numbers (ber + i bei, ker + i kei and their derivatives): "
              + _COMPLEX + "; write scipy.special.ber, bei, ker, kei, berp, beip, kerp, keip, which jac reads",
    "sph_harm_y_all": "the spherical harmonics, " + _COMPLEX,
    **{n: "the zeros of a function of a complex argument, " + _COMPLEX for n in (
        "erf_zeros", "fresnel_zeros", "fresnelc_zeros", "fresnels_zeros")},
    **{n: _OBJECT.format(instead=i) for n, i in (
        ("legendre", "eval_legendre(n, x)"), ("chebyt", "eval_chebyt(n, x)"), ("chebyu", "eval_chebyu(n, x)"),
        ("chebyc", "eval_chebyc(n, x)"), ("chebys", "eval_chebys(n, x)"), ("hermite", "eval_hermite(n, x)"),
        ("hermitenorm", "eval_hermitenorm(n, x)"), ("laguerre", "eval_laguerre(n, x)"),
        ("genlaguerre", "eval_genlaguerre(n, alpha, x)"), ("jacobi", "eval_jacobi(n, alpha, beta, x)"),
        ("sh_legendre", "eval_sh_legendre(n, x)"), ("sh_chebyt", "eval_sh_chebyt(n, x)"),
        ("sh_chebyu", "eval_sh_chebyu(n, x)"), ("sh_jacobi", "eval_sh_jacobi(n, p, q, x)"),
        ("gegenbauer", "eval_gegenbauer(n, alpha, x)"))},
    **{n: "Legendre functions in SciPy's stacked forms (the value and its diff_n derivatives on a new axis, or "
          "tables over the orders and degrees): not read; write scipy.special.lpmv(m, v, x) or eval_legendre(n, x), "
          "which jac reads and differentiates by x" for n in (
        "assoc_legendre_p", "assoc_legendre_p_all", "legendre_p", "legendre_p_all", "sph_legendre_p",
        "sph_legendre_p_all", "lqmn", "lqn")},
    "assoc_laguerre": "the generalized Laguerre polynomial: write scipy.special.eval_genlaguerre(n, k, x), the same "
                      "function, which jac reads",
    **{n: _SEQUENCE.format(instead=i) for n, i in (("pbdv_seq", "pbdv(v, x)"), ("pbvv_seq", "pbvv(v, x)"),
                                                  ("pbdn_seq", "pbdv(n, x)"), ("riccati_jn", "spherical_jn(n, x)"),
                                                  ("riccati_yn", "spherical_yn(n, x)"), ("lmbda", "jv(v, x)"))},
    **{n: "an inverse of a distribution function solved for a shape parameter (degrees of freedom, a count, a "
          "non-centrality): " + _no_form("its arguments") + " (the implicit derivative needs the distribution "
          "function's derivative by that parameter)" for n in (
        "bdtrik", "bdtrin", "btdtria", "btdtrib", "chdtriv", "chndtridf", "chndtrinc", "fdtridfd", "gdtrib",
        "nbdtrik", "nbdtrin", "ncfdtridfd", "ncfdtridfn", "ncfdtrinc", "nctdtridf", "nctdtrinc", "pdtrik", "stdtridf")},
    **{n: "a non-central distribution function: its density, the derivative by x, is not among scipy.special's "
          "functions, and " + _no_form("the non-centrality") for n in (
        "chndtr", "chndtrix", "ncfdtr", "ncfdtri", "nctdtr", "nctdtrit")},
    **{n: "a Kolmogorov-Smirnov distribution function: its density is no public scipy.special function, and "
          + _no_form("n") + "; not read yet" for n in ("kolmogorov", "kolmogi", "smirnov", "smirnovi")},
    **{n: "the integrals of Airy functions (four results at once) or of modified Fresnel integrals (complex): not "
          "read yet" for n in ("itairy", "modfresnelm", "modfresnelp")},
    "besselpoly": "the integral of x^λ J_v(2ax) over [0, 1]: " + _no_form("λ, a and v") + "; not read yet",
    **{n: "SciPy's error-reporting settings, state of the process and no function of arrays: jac does not change "
          "them" for n in ("geterr", "seterr")},
    "test": "SciPy's own test runner, no function of arrays",
}


def _refusal(fname: str, why: str):
    def lower(b, args, kwargs, position):
        raise JacNameError(f"{b.call or 'scipy.special.' + fname}: {why}", position)
    lower.__doc__ = f"refused: {why}"
    return lower


for _name, _why in REASONS.items():
    variant("scipy", _name)(_refusal(_name, _why))

SCIPY36 = frozenset(READ) | frozenset(FIELDS) | frozenset(CONSTANTS) | frozenset(REASONS)
LIBRARY_NAMES["scipy"] = LIBRARY_NAMES["scipy"] | SCIPY36
LIBRARY_REFUSED["scipy"] = LIBRARY_REFUSED.get("scipy", frozenset()) | frozenset(REASONS)
