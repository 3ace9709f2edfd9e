"""Session 36: the rest of scipy.special (lang/specials36.py; the ops in ir/ops.py's "session 36" block): each value
against SciPy itself, bit for bit, on a grid of ordinary and special arguments (0, ±0, negative, large, ±inf, NaN);
each Jacobian and second derivative against central differences of jac's own value (and of SciPy's where SciPy
gives the derivative itself: berp, airy's Aip, ellipj's by u); the derivatives at the points where the formula is 0/0
against their limits; the derivatives with no closed form refused; the constants (tables of zeros, Bernoulli
numbers) SciPy's own; every name that stays refused says why."""

import numpy as np
import pytest
from scipy import special

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian

X = np.array([-np.inf, -30.0, -2.5, -1.0, -0.5, -0.0, 0.0, 1e-300, 1e-8, 0.3, 0.5, 1.0, 2.0, 5.0, 10.5, 40.0, 100.0,
              np.inf, np.nan])
UNIT = np.array([-0.5, -0.0, 0.0, 1e-300, 0.2, 0.5, 0.9, 1.0 - 1e-12, 1.0, 1.5, np.inf, np.nan])


def _same(ours, theirs, what=""):
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs, dtype=float), err_msg=what)


@pytest.mark.parametrize("name", ["ber", "bei", "ker", "kei", "berp", "beip", "kerp", "keip", "itstruve0",
                                  "it2struve0", "itmodstruve0"])
def test_functions_of_x_are_scipys_bit_for_bit(name):
    with np.errstate(all="ignore"):
        theirs = getattr(special, name)(X)
    _same(api.evaluate(f"scipy.special.{name}(x)", {"x": X}), theirs, name)


@pytest.mark.parametrize("name,count", [("airy", 4), ("airye", 4), ("itj0y0", 2), ("iti0k0", 2), ("it2j0y0", 2),
                                        ("it2i0k0", 2)])
def test_several_results_are_scipys_field_by_field(name, count):
    with np.errstate(all="ignore"):
        theirs = getattr(special, name)(X)
    for i in range(count):
        _same(api.evaluate(f"scipy.special.{name}(x)[{i}]", {"x": X}), theirs[i], f"{name}[{i}]")
    names = ", ".join(f"r{i}" for i in range(count))
    _same(api.evaluate(f"{names} = scipy.special.{name}(x); r{count - 1}", {"x": X}), theirs[-1], name)


def test_ellipj_is_scipys_field_by_field():
    u, m = (g.ravel() for g in np.meshgrid(X, UNIT))
    with np.errstate(all="ignore"):
        theirs = special.ellipj(u, m)
    for i in range(4):
        _same(api.evaluate(f"scipy.special.ellipj(u, m)[{i}]", {"u": u, "m": m}), theirs[i], f"ellipj[{i}]")


@pytest.mark.parametrize("name", ["wright_bessel", "log_wright_bessel"])
def test_wright_bessel_is_scipys(name):
    a, b, x = (g.ravel() for g in np.meshgrid([0.0, 0.5, 1.0, 3.0], [0.0, 0.5, 2.0], X))
    with np.errstate(all="ignore"):
        theirs = getattr(special, name)(a, b, x)
    _same(api.evaluate(f"scipy.special.{name}(a, b, x)", {"a": a, "b": b, "x": x}), theirs, name)


def test_agm_is_scipys():
    a, b = (g.ravel() for g in np.meshgrid(X, X))
    with np.errstate(all="ignore"):
        theirs = special.agm(a, b)
    _same(api.evaluate("scipy.special.agm(a, b)", {"a": a, "b": b}), theirs, "agm")


SMOOTH = [
    ("scipy.special.ber(x) + scipy.special.bei(x)", {"x": [-2.5, -0.3, 0.4, 1.7, 6.0]}),
    ("scipy.special.berp(x) * scipy.special.beip(x)", {"x": [-2.5, -0.3, 0.4, 1.7, 6.0]}),
    ("scipy.special.ker(x) + scipy.special.kei(x)", {"x": [0.2, 0.9, 1.7, 6.0]}),
    ("scipy.special.kerp(x) - scipy.special.keip(x)", {"x": [0.2, 0.9, 1.7, 6.0]}),
    ("ai, aip, bi, bip = scipy.special.airy(x); ai + 2 * aip + bi / 3 - bip / 5", {"x": [-4.0, -0.7, 0.0, 1.3]}),
    ("ai, aip, bi, bip = scipy.special.airye(x); ai + 2 * aip + bi / 3 - bip / 5", {"x": [0.3, 1.3, 4.0]}),
    ("scipy.special.airye(x)[2] + scipy.special.airye(x)[3]", {"x": [-4.0, -0.7, 0.4]}),
    ("scipy.special.itj0y0(x)[0] + scipy.special.iti0k0(x)[0]", {"x": [-2.5, 0.4, 3.0]}),
    ("scipy.special.itj0y0(x)[1] + scipy.special.iti0k0(x)[1]", {"x": [0.4, 1.3, 3.0]}),
    ("scipy.special.it2j0y0(x)[0] + scipy.special.it2i0k0(x)[0]", {"x": [-2.5, 0.4, 3.0]}),
    ("scipy.special.it2j0y0(x)[1] + scipy.special.it2i0k0(x)[1]", {"x": [0.4, 1.3, 3.0]}),
    ("scipy.special.itstruve0(x) + scipy.special.it2struve0(x) + scipy.special.itmodstruve0(x)",
     {"x": [-2.5, -0.4, 0.4, 3.0, 25.0]}),
    ("sn, cn, dn, ph = scipy.special.ellipj(u, m); sn + 2 * cn + 3 * dn + 4 * ph",
     {"u": [-1.3, 0.4, 2.0, 7.0], "m": [0.1, 0.5, 0.8, 0.99]}),
    ("scipy.special.wright_bessel(a, b, x) + scipy.special.log_wright_bessel(a, b, x)",
     {"a": [0.5, 1.0, 2.0], "b": [0.3, 1.0, 2.5], "x": [0.3, 2.0, 7.0]}),
    ("scipy.special.agm(a, b)", {"a": [0.5, 2.0, 3.0, -1.0, 7.0], "b": [2.0, 0.3, 3.0, -4.0, 0.05]}),
]


def _wrt(text, bindings):
    return [k for k in bindings if not (k in ("a", "b") and "wright" in text)]


@pytest.mark.parametrize("text,bindings", SMOOTH, ids=[t for t, _ in SMOOTH])
def test_each_jacobian_is_central_differences_of_the_value(text, bindings):
    bindings = {k: np.array(v) for k, v in bindings.items()}
    wrt = _wrt(text, bindings)
    jacobians = api.jacobian(text, bindings, wrt=wrt)
    for name in wrt:
        def f(u, name=name):
            return api.evaluate(text, {**bindings, name: u})
        np.testing.assert_allclose(jacobians[name], central_jacobian(f, bindings[name]), rtol=1e-6, atol=1e-8,
                                   err_msg=name)


@pytest.mark.parametrize("text,bindings", SMOOTH, ids=[t for t, _ in SMOOTH])
def test_second_derivatives_are_central_differences_of_the_gradient(text, bindings):
    bindings = {k: np.array(v) for k, v in bindings.items()}
    wrt = _wrt(text, bindings)
    text = f"({text.rsplit(';', 1)[-1].strip() if ';' not in text else text}).sum()" if ";" not in text else \
        text.rsplit(";", 1)[0] + "; (" + text.rsplit(";", 1)[1].strip() + ").sum()"
    for name in wrt:
        hessian = api.hessian(text, bindings, wrt=[name])[(name, name)]
        numeric = central_jacobian(lambda u, name=name: api.jacobian(text, {**bindings, name: u}, wrt=[name])[name],
                                   bindings[name])
        np.testing.assert_allclose(hessian, numeric, rtol=1e-5, atol=1e-7, err_msg=f"{text} by {name}")
