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


def test_voigt_profile_is_scipys_and_differentiates_by_its_three_arguments():
    x, s, g = (u.ravel() for u in np.meshgrid([-3.0, -0.0, 0.4, 7.0], [0.0, 0.3, 1.0, 4.0], [0.0, 0.5, 2.0]))
    _same(api.evaluate("scipy.special.voigt_profile(x, s, g)", {"x": x, "s": s, "g": g}), special.voigt_profile(x, s, g))
    b = {"x": np.array([-1.0, 0.3, 2.0, 0.0]), "s": np.array([0.5, 1.0, 2.0, 0.7]), "g": np.array([0.2, 0.0, 1.5, 3.0])}
    text = "scipy.special.voigt_profile(x, s, g)"
    jacobians = api.jacobian(text, b)
    for k in b:
        numeric = central_jacobian(lambda u, k=k: special.voigt_profile(*(u if n == k else b[n] for n in "xsg")),
                                   b[k])
        np.testing.assert_allclose(jacobians[k], numeric, rtol=1e-6, atol=1e-9, err_msg=k)
    for k in b:
        hessian = api.hessian(f"({text}).sum()", b, wrt=[k])[(k, k)]
        numeric = central_jacobian(lambda u, k=k: api.jacobian(text, {**b, k: u}, wrt=[k])[k].sum(axis=0), b[k])
        np.testing.assert_allclose(hessian, numeric, rtol=1e-5, atol=1e-7, err_msg=k)


def test_voigt_profile_at_sigma_zero_is_the_lorentzians_and_says_nan_by_sigma():
    b = {"x": np.array([0.5]), "s": np.array([0.0]), "g": np.array([0.7])}
    j = api.jacobian("scipy.special.voigt_profile(x, s, g)", b)
    x, g = 0.5, 0.7
    assert j["x"][0, 0] == pytest.approx(-2 * g * x / (np.pi * (x * x + g * g) ** 2), rel=1e-12)
    assert j["g"][0, 0] == pytest.approx((x * x - g * g) / (np.pi * (x * x + g * g) ** 2), rel=1e-12)
    assert np.isnan(j["s"][0, 0])  # SciPy's value is inf at σ = -1e-9: no derivative there, never a silent 0


@pytest.mark.parametrize("text,x,expected", [
    ("scipy.special.berp(x)", 0.0, 0.0),  # -bei(0) - lim berp(x)/x
    ("scipy.special.beip(x)", 0.0, 0.5),  # ber(0) - lim beip(x)/x = 1 - 1/2
    ("scipy.special.keip(x)", 0.0, np.inf),
    ("scipy.special.it2j0y0(x)[0]", 0.0, 0.0),
    ("scipy.special.it2i0k0(x)[0]", 0.0, 0.0),
    ("scipy.special.it2struve0(x)", 0.0, -2 / np.pi),  # -H0(x)/x, H0(x) ≈ 2x/π
    ("scipy.special.itstruve0(x)", 0.0, 0.0),
    ("scipy.special.agm(x, 2.0)", 2.0, 0.5),
    ("scipy.special.agm(2.0, x)", 2.0, 0.5),
    ("scipy.special.ellipj(0.7, x)[3]", 0.0, -(0.7 - np.sin(0.7) * np.cos(0.7)) / 4),  # ∂am/∂m at m = 0
])
def test_derivatives_at_the_removable_points_are_their_limits(text, x, expected):
    ours = api.jacobian(text, {"x": np.array([x])})["x"][0, 0]
    if np.isfinite(expected):
        assert ours == pytest.approx(expected, rel=1e-12, abs=1e-15)
    else:
        assert ours == expected


def test_the_limits_agree_with_differences_of_scipy_beside_them():
    h = 1e-5
    for f, at, text in ((lambda t: special.berp(t), 0.0, "scipy.special.berp(x)"),
                        (lambda t: special.beip(t), 0.0, "scipy.special.beip(x)"),
                        (lambda t: special.it2struve0(t), 0.0, "scipy.special.it2struve0(x)"),
                        (lambda t: special.agm(t, 2.0), 2.0, "scipy.special.agm(x, 2.0)"),
                        (lambda t: special.ellipj(0.7, t)[3], 1e-5, "scipy.special.ellipj(0.7, x)[3]")):
        numeric = (f(at + h) - f(at - h)) / (2 * h)
        ours = api.jacobian(text, {"x": np.array([at])})["x"][0, 0]
        assert ours == pytest.approx(numeric, rel=1e-6, abs=1e-9), text


def test_the_second_derivative_of_agm_where_a_equals_b_is_the_series():
    """∂²M/∂a² at a = b: a constant 1/2 there would give 0 (jac's first try did); the series in m gives f''(1)/a = -1/(8a) (M = a f(b/a), f'(t) = g(1 - t²), g(m) = 1/2 + m/16 + ...)."""
    for a in (0.5, 2.0, 3.0):
        h = api.hessian("scipy.special.agm(a, b)", {"a": np.array(a), "b": np.array(a)})
        numeric = central_jacobian(lambda u: api.jacobian("scipy.special.agm(a, b)", {"a": u, "b": np.array(a)},
                                                          wrt=["a"])["a"], np.array(a))
        assert h[("a", "a")] == pytest.approx(float(numeric), rel=1e-5)
        assert h[("a", "a")] == pytest.approx(-1 / (8 * a), rel=1e-9)


def test_ellipj_by_u_is_scipys_own_derivative_relations():
    u, m = np.array([-1.3, 0.4, 2.0, 7.0]), np.array([0.0, 0.5, 0.8, 1.0])
    sn, cn, dn, ph = special.ellipj(u, m)
    j = api.jacobian("scipy.special.ellipj(u, m)[0]", {"u": u, "m": m}, wrt=["u"])["u"]
    np.testing.assert_allclose(np.diag(j), cn * dn, rtol=1e-14)
    j = api.jacobian("scipy.special.ellipj(u, m)[3]", {"u": u, "m": m}, wrt=["u"])["u"]
    np.testing.assert_allclose(np.diag(j), dn, rtol=1e-14)


def test_ellipj_by_m_at_one_is_nan_not_zero():
    j = api.jacobian("scipy.special.ellipj(u, m)[0]", {"u": np.array([0.7]), "m": np.array([1.0])}, wrt=["m"])["m"]
    assert np.isnan(j[0, 0])  # the formula is 0/0 there and m > 1 is NaN in SciPy: no two-sided derivative


@pytest.mark.parametrize("text,wrt", [("scipy.special.wright_bessel(v, 1.0, x)", "v"),
                                      ("scipy.special.wright_bessel(1.0, v, x)", "v"),
                                      ("scipy.special.log_wright_bessel(v, 1.0, x)", "v")])
def test_derivatives_by_wrights_parameters_are_refused(text, wrt):
    bindings = {"v": np.array([1.5, 2.5]), "x": np.array([0.3, 0.6])}
    with pytest.raises(JacError, match="by a or b is not supported"):
        api.jacobian(text, bindings, wrt=[wrt])
    assert np.all(np.isfinite(api.jacobian(text, bindings, wrt=["x"])["x"]))


@pytest.mark.parametrize("text,theirs", [
    ("scipy.special.jn_zeros(2, 5)", lambda: special.jn_zeros(2, 5)),
    ("scipy.special.jnp_zeros(1, 4)", lambda: special.jnp_zeros(1, 4)),
    ("scipy.special.yn_zeros(0, 3)", lambda: special.yn_zeros(0, 3)),
    ("scipy.special.ai_zeros(3)[1]", lambda: special.ai_zeros(3)[1]),
    ("scipy.special.bi_zeros(3)[3]", lambda: special.bi_zeros(3)[3]),
    ("scipy.special.y0_zeros(3)[0]", lambda: special.y0_zeros(3)[0].real),
    ("scipy.special.jnjnp_zeros(5)[1]", lambda: special.jnjnp_zeros(5)[1]),
    ("scipy.special.kelvin_zeros(2)[7]", lambda: special.kelvin_zeros(2)[7]),
    ("scipy.special.ber_zeros(4)", lambda: special.ber_zeros(4)),
    ("scipy.special.bernoulli(6)", lambda: special.bernoulli(6)),
    ("scipy.special.euler(6)", lambda: special.euler(6)),
    ("scipy.special.factorial2(7)", lambda: special.factorial2(7)),
    ("scipy.special.factorialk(7, 3)", lambda: special.factorialk(7, 3)),
    ("scipy.special.stirling2(6, 3)", lambda: special.stirling2(6, 3)),
])
def test_tables_are_scipys_own_numbers_as_constants(text, theirs):
    _same(api.evaluate(text + " * x", {"x": np.array(1.0)}), theirs())
    j = api.jacobian(text + " * x", {"x": np.array(1.0)})["x"]
    _same(j.reshape(np.shape(theirs())), theirs())  # the constant times 1: no derivative but by x


@pytest.mark.parametrize("text,words", [
    ("scipy.special.jn_zeros(2, x)", "nt must be a constant"),
    ("scipy.special.bernoulli(x)", "n must be a constant"),
    ("scipy.special.factorial2(7, exact=True)", "exact=True"),
    ("scipy.special.y0_zeros(3, complex=True)", "complex=True"),
    ("scipy.special.jn_zeros(2, 100000)", "more than jac computes"),
    ("scipy.special.jn_zeros(2, -1)", "SciPy raises"),
    ("scipy.special.kelvin(x)", "complex"),
    ("scipy.special.mathieu_a(2, x)", "no closed form"),
    ("scipy.special.legendre(3)", "eval_legendre"),
    ("scipy.special.besselpoly(x, 1.0, 2.0)", "no closed form"),
    ("scipy.special.chndtr(x, 2.0, 1.0)", "non-central"),
    ("scipy.special.btdtria(x, 2.0, 0.5)", "no closed form"),
    ("scipy.special.seterr(all='ignore')", "error-reporting"),
])
def test_what_jac_does_not_compute_is_refused_saying_what(text, words):
    with pytest.raises(JacError, match=words):
        api.evaluate(text, {"x": np.array(2.0)})


def test_every_public_name_of_the_three_modules_is_read_or_refused_saying_why():
    """benchmarks/special36_probe.py's classification: no name of scipy.special, torch.special or jax.scipy.special
    is refused with only "not supported by jac"."""
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "special36_probe.py"
    spec = importlib.util.spec_from_file_location("special36_probe", path)
    probe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(probe)
    for module in ("scipy.special",):
        mod = importlib.import_module(module)
        kinds = {name: probe.outcome(module, name)[0] for name in probe.public(mod)}
        assert [n for n, k in kinds.items() if k in ("bare", "crash")] == []


def test_float32_keeps_its_dtype():
    x = np.array([0.5, 2.0])
    ours = api.evaluate("scipy.special.ber(x) + scipy.special.airy(x)[0] + scipy.special.agm(x, 1.0)", {"x": x},
                        dtype="float32")
    assert ours.dtype == np.float32
    np.testing.assert_allclose(ours, special.ber(x) + special.airy(x)[0] + special.agm(x, 1.0), rtol=1e-6)


def test_the_cli_reads_a_pair_unpacked():
    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app

    out = CliRunner().invoke(app, ["eval", "ij0, iy0 = scipy.special.itj0y0(x); ij0", "x=1.5", "--json"])
    assert out.exit_code == 0, out.output
    import json

    data = json.loads(out.output)
    assert data["output"]["value"] == pytest.approx(special.itj0y0(1.5)[0], rel=1e-15)
    assert data["jacobian"]["x"]["value"] == pytest.approx(special.j0(1.5), rel=1e-15)


INVERSES = [  # (text, bindings, the arguments differentiated, the ones refused)
    ("scipy.special.gdtrix(a, b, p)", {"a": [0.5, 2.0, 1.0], "b": [1.5, 3.0, 0.7], "p": [0.2, 0.7, 0.95]}, "ap", "b"),
    ("scipy.special.gdtria(p, b, x)", {"p": [0.2, 0.7, 0.95], "b": [1.5, 3.0, 0.7], "x": [0.5, 2.0, 1.0]}, "px", "b"),
    ("scipy.special.fdtri(a, b, p)", {"a": [2.0, 5.0, 1.5], "b": [3.0, 7.0, 30.0], "p": [0.2, 0.7, 0.99]}, "p", "ab"),
    ("scipy.special.pdtri(k, y)", {"k": [0.0, 3.0, 10.0], "y": [0.2, 0.7, 0.5]}, "y", "k"),
    ("scipy.special.bdtri(k, n, y)", {"k": [1.0, 3.0, 0.0], "n": [5.0, 6.0, 4.0], "y": [0.2, 0.7, 0.5]}, "y", "kn"),
    ("scipy.special.nbdtri(k, n, y)", {"k": [1.0, 3.0, 0.0], "n": [5.0, 6.0, 4.0], "y": [0.2, 0.7, 0.5]}, "y", "kn"),
    ("scipy.special.nrdtrimn(p, s, x)", {"p": [0.2, 0.7, 0.5], "s": [0.5, 2.0, 1.0], "x": [1.0, -1.0, 0.0]}, "psx", ""),
    ("scipy.special.nrdtrisd(m, p, x)", {"m": [0.0, 1.0, -2.0], "p": [0.2, 0.7, 0.9], "x": [-1.0, 3.0, 0.0]}, "mpx",
     ""),
    ("scipy.special.tklmbda(x, l)", {"x": [-0.5, 0.3, 2.0, -3.0, 0.1, 5.0], "l": [0.5, 0.0, -0.5, 1.5, 0.14, 0.0]},
     "x", "l"),
]


@pytest.mark.parametrize("text,bindings,wrt,refused", INVERSES, ids=[t for t, *_ in INVERSES])
def test_inverses_of_distribution_functions_are_scipys_and_differentiate(text, bindings, wrt, refused):
    bindings = {k: np.array(v) for k, v in bindings.items()}
    name = text.split(".")[2].split("(")[0]
    args = [bindings[k.strip()] for k in text.split("(")[1].rstrip(")").split(",")]
    _same(api.evaluate(text, bindings), getattr(special, name)(*args), name)
    jacobians = api.jacobian(text, bindings, wrt=list(wrt))
    for k in wrt:
        numeric = central_jacobian(lambda u, k=k: api.evaluate(text, {**bindings, k: u}), bindings[k])
        np.testing.assert_allclose(jacobians[k], numeric, rtol=1e-6, atol=1e-8, err_msg=f"{text} by {k}")
        hessian = api.hessian(f"({text}).sum()", bindings, wrt=[k])[(k, k)]
        numeric = central_jacobian(lambda u, k=k: api.jacobian(text, {**bindings, k: u}, wrt=[k])[k].sum(axis=0),
                                   bindings[k])
        np.testing.assert_allclose(hessian, numeric, rtol=1e-5, atol=1e-7, err_msg=f"{text} by {k}, twice")
    for k in refused:
        with pytest.raises(JacError, match="is not supported"):
            api.jacobian(text, bindings, wrt=[k])


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # SciPy's own, of a non-integer count
@pytest.mark.parametrize("name,count", [("gdtrix", 3), ("gdtria", 3), ("fdtri", 3), ("pdtri", 2), ("bdtri", 3),
                                        ("nbdtri", 3), ("nrdtrimn", 3), ("nrdtrisd", 3), ("tklmbda", 2)])
def test_the_inverses_are_scipys_at_the_edges(name, count):
    grid = np.array([-1.0, -0.0, 0.0, 1e-300, 0.3, 1.0, 4.0, np.inf, np.nan])
    args = [g.ravel() for g in np.meshgrid(*([grid] * count))]
    with np.errstate(all="ignore"):
        theirs = getattr(special, name)(*args)
    names = "abc"[:count]
    _same(api.evaluate(f"scipy.special.{name}({', '.join(names)})", dict(zip(names, args))), theirs, name)


@pytest.mark.parametrize("name", ["pbdv", "pbvv", "pbwa"])
def test_parabolic_cylinder_pairs_are_scipys_and_their_slope_is_the_derivative(name):
    v, x = (g.ravel() for g in np.meshgrid([-1.5, 0.0, 0.5, 2.0, 4.9], X))
    with np.errstate(all="ignore"):
        theirs = getattr(special, name)(v, x)
    for i in range(2):
        _same(api.evaluate(f"scipy.special.{name}(v, x)[{i}]", {"v": v, "x": x}), theirs[i], f"{name}[{i}]")
    v, x = np.array([0.5, 1.3, 2.0, -0.7]), np.array([0.7, -1.2, 2.5, 0.1])
    j = api.jacobian(f"scipy.special.{name}(v, x)[0]", {"v": v, "x": x}, wrt=["x"])["x"]
    np.testing.assert_array_equal(np.diag(j), getattr(special, name)(v, x)[1])  # SciPy's own derivative
    text = f"scipy.special.{name}(v, x)[1]"
    j = api.jacobian(text, {"v": v, "x": x}, wrt=["x"])["x"]
    numeric = central_jacobian(lambda u: getattr(special, name)(v, u)[1], x)
    np.testing.assert_allclose(j, numeric, rtol=1e-6, atol=1e-8)
    hessian = api.hessian(f"({text}).sum()", {"v": v, "x": x}, wrt=["x"])[("x", "x")]
    numeric = central_jacobian(lambda u: api.jacobian(text, {"v": v, "x": u}, wrt=["x"])["x"].sum(axis=0), x)
    np.testing.assert_allclose(hessian, numeric, rtol=1e-5, atol=1e-7)
    with pytest.raises(JacError, match="by its order is not supported"):
        api.jacobian(text, {"v": v, "x": x}, wrt=["v"])


def test_lpmv_is_scipys_and_differentiates_by_x():
    m, v, x = (g.ravel() for g in np.meshgrid([0.0, 1.0, 2.0, 3.0], [-1.5, 0.0, 0.5, 2.0, 3.0], UNIT))
    with np.errstate(all="ignore"):
        theirs = special.lpmv(m, v, x)
    _same(api.evaluate("scipy.special.lpmv(m, v, x)", {"m": m, "v": v, "x": x}), theirs)
    m, v, x = np.array([0.0, 1.0, 2.0, 1.0]), np.array([2.5, 2.5, 3.0, 1.0]), np.array([0.3, -0.6, 0.5, 0.9])
    text = "scipy.special.lpmv(m, v, x)"
    j = api.jacobian(text, {"m": m, "v": v, "x": x}, wrt=["x"])["x"]
    np.testing.assert_allclose(j, central_jacobian(lambda u: special.lpmv(m, v, u), x), rtol=1e-6, atol=1e-8)
    hessian = api.hessian(f"({text}).sum()", {"m": m, "v": v, "x": x}, wrt=["x"])[("x", "x")]
    numeric = central_jacobian(lambda u: api.jacobian(text, {"m": m, "v": v, "x": u}, wrt=["x"])["x"].sum(axis=0), x)
    np.testing.assert_allclose(hessian, numeric, rtol=1e-5, atol=1e-7)
    for k in ("m", "v"):
        with pytest.raises(JacError, match="by the order m or the degree v is not supported"):
            api.jacobian(text, {"m": m, "v": v, "x": x}, wrt=[k])
    # at x = ±1 the formula is 0/0: NaN, never a number it is not (P_2'(1) is 3)
    assert np.isnan(api.jacobian(text, {"m": np.array(0.0), "v": np.array(2.0), "x": np.array(1.0)}, wrt=["x"])["x"])


REPEATED = [(t, b, _wrt(t, b)) for t, b in SMOOTH] + [(t, b, list(w)) for t, b, w, _ in INVERSES]


@pytest.mark.parametrize("text,bindings,wrt", REPEATED, ids=[t for t, *_ in REPEATED])
def test_a_repeated_call_equals_the_first_bit_for_bit(text, bindings, wrt):
    """The second call runs the compiled plan (kernels where they apply): the interpreter's answer, bit for bit."""
    import jacobi_cli

    bindings = {k: np.array(v) for k, v in bindings.items()}
    first = jacobi_cli.jacobian(text, bindings, wrt=wrt)
    again = jacobi_cli.jacobian(text, bindings, wrt=wrt)
    for k in wrt:
        np.testing.assert_array_equal(first[k], again[k])
