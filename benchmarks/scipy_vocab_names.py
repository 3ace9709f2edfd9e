"""Which public callables of ``scipy.special`` jac still refuses by name ("not supported by jac"): the SciPy side of
vocab_names.py and jax_vocab_names.py.

    PYTHONPATH=. /work/venv/bin/python benchmarks/scipy_vocab_names.py [--list]

For each public callable of ``scipy.special`` (from ``dir()``: no classes, no submodules, no errstate helpers' classes),
jac evaluates ``scipy.special.NAME(x)``, then ``NAME(x, x)`` and ``NAME(x, x, x)`` (so a function of several arguments
is asked with its count): a name jac does not know is refused with "not supported by jac" (or "unknown") under every
count; any other outcome (a value, a wrong-argument error, a refusal that says why) means jac knows the name. A crash
(an exception that is no JacError) is listed too, marked ``!CRASH``. Prints the refused names per category and the
counts.
"""

from __future__ import annotations

import argparse
import inspect
import re

import numpy as np

CATEGORIES = [  # (category, pattern of names), first match wins
    ("configuration / errors", r"^geterr$|^seterr$|^errstate$|^errprint$|^test$"),
    ("complex-valued / complex argument", r"^wofz$|^erfcx?_?zeros|^sph_harm|^clpmn|^lpmn|^lqmn|^clp|zeros$|^mathieu|"
                                          r"^sph_harm_y|^fresnel_zeros|^kelvin|^airye?$|^hankel|^ber$|^berp|^ber_|"
                                          r"^bei$|^beip|^bei_|^ker$|^kerp|^ker_|^kei$|^keip|^kei_|"
                                          r"^wright_bessel$|^voigt_profile$|^elliprc|^elliprd|^elliprf|^elliprg|"
                                          r"^elliprj"),
    ("Bessel and Struve", r"^j[0-1v]$|^y[0-1v]$|^[ik][0-1]e?$|^[ik]v[e]?$|^jve?$|^yve?$|^jn$|^yn$|^spherical_|bessel|"
                          r"^struve|^modstruve|^itstruve|^it2struve|^iti0k0|^itj0y0|^it2i0k0|^it2j0y0|^jnjnp|^jnyn|"
                          r"^jvp|^yvp|^ivp|^kvp|^h1vp|^h2vp|^riccati|^kn$|^lmbda|^jn_zeros|^jnp_zeros|^yn_zeros|"
                          r"^ynp_zeros|^y0_zeros|^y1_zeros|^y1p_zeros|^sph_j"),
    ("hypergeometric / integrals", r"^hyp|^expn$|^sici$|^shichi$|^fresnel$|^spence$|^owens_t$|^zeta|^betainc|"
                                   r"^gammainc|^lambertw$|^wrightomega$|^dawsn|^exp1$|^expi$|^pbdv|^pbvv|^pbwa|^obl|"
                                   r"^pro|^ellip|^agm$|^struve"),
    ("statistics (cdf / inverse)", r"^bdtr|^btdtr|^chdtr|^chndtr|^fdtr|^gdtr|^nbdtr|^ncf|^nct|^ndtr|^nrdtr|^pdtr|"
                                   r"^stdtr|^smirnov|^kolmog|^tklmbda|^log_ndtr|^owens|^boxcox|^inv_boxcox|^logit|"
                                   r"^expit|^log_expit"),
    ("polynomials", r"^eval_|^roots_|^legendre$|^cheby|^hermite|^laguerre|^genlaguerre|^jacobi$|^sh_|^gegenbauer$|"
                    r"^assoc_laguerre$|^lpmv$|^legendre_p|^assoc_legendre|^lpn$|^lqn$|^sph_legendre"),
]


def public(special) -> list:
    out = []
    for name in dir(special):
        if name.startswith("_"):
            continue
        value = getattr(special, name)
        if callable(value) and not inspect.isclass(value) and not inspect.ismodule(value):
            out.append(name)
    return sorted(out)


def category(name: str) -> str:
    for label, pattern in CATEGORIES:
        if re.search(pattern, name):
            return label
    return "the rest"


def refused(name: str):
    """True where every count of arguments is refused by name, a crash's text, or False."""
    import jacobi_cli
    from jacobi_cli.errors import JacError

    x = {"x": np.array([0.3, 0.5, 0.7])}
    for count in (1, 2, 3):
        text = f"import scipy.special\nscipy.special.{name}({', '.join(['x'] * count)})"
        try:
            jacobi_cli.evaluate(text, x)
        except JacError as e:
            if "not supported by jac" in str(e) or "unknown" in str(e).lower():
                continue
            return False
        except Exception as e:  # noqa: BLE001 - a crash is what this script looks for
            return f"!CRASH:{type(e).__name__}"
        return False
    return True


def main() -> int:
    import scipy.special

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--list", action="store_true", help="every refused name, not only the counts")
    opts = ap.parse_args()
    names = public(scipy.special)
    by: dict = {}
    crashes = []
    for name in names:
        r = refused(name)
        if r is True:
            by.setdefault(category(name), []).append(name)
        elif r:
            crashes.append(name + r)
    count = sum(len(v) for v in by.values())
    print(f"scipy.special: {count} of {len(names)} public callables refused by name")
    for label, _ in CATEGORIES + [("the rest", "")]:
        if label in by:
            shown = " ".join(by[label]) if opts.list or label == "the rest" else f"{len(by[label])} names"
            print(f"  {label} ({len(by[label])}): {shown}")
    if crashes:
        print("  crashes: " + " ".join(crashes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
