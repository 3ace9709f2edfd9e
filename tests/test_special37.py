"""Session 37: Carlson's symmetric elliptic integrals, diric and the Jacobi / Gegenbauer polynomials read (they were
refused in session 36), and lu's conditioning warning. Values against SciPy bit for bit (0, inf, NaN, negative
arguments included); derivatives against mpmath's (40 digits) and central differences, at ordinary points, where
arguments meet (R_D's derivative there is a 0/0 in its closed forms) and beside them; second derivatives where jac
computes them, refused where it does not."""

import mpmath
import numpy as np
import pytest
from scipy import special

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian

mpmath.mp.dps = 40
CARLSON = {"elliprf": "xyz", "elliprc": "xy", "elliprd": "xyz", "elliprj": "xyzp", "elliprg": "xyz"}
MP = {"elliprf": mpmath.elliprf, "elliprc": mpmath.elliprc, "elliprd": mpmath.elliprd, "elliprj": mpmath.elliprj,
      "elliprg": mpmath.elliprg}
EDGE = np.array([-1.0, -0.0, 0.0, 1e-300, 0.3, 1.0, 2.5, 1e8, np.inf, np.nan])
# ordinary points, two arguments equal, beside equal (1e-9 apart), all equal, spread over decades
POINTS = [(0.7, 1.3, 2.1, 0.9), (1.0, 1.0, 2.0, 1.5), (2.0, 1.0, 2.0, 2.0), (1.5, 1.5, 1.5, 1.5),
          (1.0, 1.0 + 1e-9, 1.0 - 1e-9, 1.0 + 2e-9), (1e-3, 5.0, 40.0, 0.2), (3.0, 0.2, 0.2 * (1 + 1e-9), 7.0),
          # R_J's p at or beside z alone (SciPy's complex R_J loses eps/distance there: the slope was 300 times off)
          (4.0, 4.0, 0.3, 0.3), (4.0, 4.0, 0.3, 0.3 * (1 + 1e-9)), (1.0, 2.0, 3.0, 1.0 + 1e-10)]


def _text(name):
    return f"scipy.special.{name}({', '.join(CARLSON[name])})"


def _bind(name, point):
    return {c: np.array(v) for c, v in zip(CARLSON[name], point)}


def _mp_partial(name, point, k, order=1):
    args = [mpmath.mpf(v) for v in point[:len(CARLSON[name])]]

    def f(t):
        return MP[name](*(t if j == k else a for j, a in enumerate(args)))
    return float(mpmath.diff(f, args[k], order))


@pytest.mark.parametrize("name", sorted(CARLSON))
def test_carlson_values_are_scipys_bit_for_bit(name):
    grids = np.meshgrid(*([EDGE] * len(CARLSON[name])), indexing="ij")
    bindings = {c: g.ravel() for c, g in zip(CARLSON[name], grids)}
    with np.errstate(all="ignore"):
        theirs = getattr(special, name)(*bindings.values())
    np.testing.assert_array_equal(api.evaluate(_text(name), bindings), theirs)


@pytest.mark.parametrize("name", sorted(CARLSON))
def test_carlson_first_derivatives_are_mpmaths(name):
    """Every partial at every point within 1e-12 relative of mpmath's, where arguments meet and beside too (a
    difference quotient of R_D's would have lost 9 of 16 digits at the 1e-9 apart points)."""
    for point in POINTS:
        b = _bind(name, point)
        jac = api.jacobian(_text(name), b)
        for k, c in enumerate(CARLSON[name]):
            exact = _mp_partial(name, point, k)
            assert jac[c] == pytest.approx(exact, rel=1e-12), (name, point, c)


@pytest.mark.parametrize("name", sorted(CARLSON))
def test_carlson_jacobians_are_central_differences_of_scipy(name):
    rng = np.random.default_rng(37)
    b = {c: rng.uniform(0.2, 3.0, 5) for c in CARLSON[name]}
    jac = api.jacobian(_text(name), b)
    for c in CARLSON[name]:
        numeric = central_jacobian(lambda u, c=c: getattr(special, name)(*(u if d == c else b[d] for d in b)), b[c])
        np.testing.assert_allclose(jac[c], numeric, rtol=1e-7, atol=1e-10, err_msg=f"{name} by {c}")


@pytest.mark.parametrize("name", ["elliprf", "elliprc", "elliprg", "elliprd", "elliprj"])
def test_second_derivatives_of_carlson_integrals_are_mpmaths(name):  # R_D's and R_J's since session 38
    for point in POINTS:
        b = _bind(name, point)
        names = CARLSON[name]
        h = api.hessian(_text(name), b)
        for i, ci in enumerate(names):
            exact = float(mpmath.diff(lambda *t: MP[name](*t), [mpmath.mpf(v) for v in point[:len(names)]],
                                      tuple(2 if j == i else 0 for j in range(len(names)))))
            assert h[(ci, ci)] == pytest.approx(exact, rel=1e-9), (name, point, ci)
        for i, ci in enumerate(names):  # the mixed ones: symmetric, and mpmath's
            for j, cj in enumerate(names[i + 1:], i + 1):
                exact = float(mpmath.diff(lambda *t: MP[name](*t), [mpmath.mpf(v) for v in point[:len(names)]],
                                          tuple(1 if k in (i, j) else 0 for k in range(len(names)))))
                assert h[(ci, cj)] == pytest.approx(exact, rel=1e-9), (name, point, ci, cj)
                assert h[(ci, cj)] == h[(cj, ci)] or h[(ci, cj)] == pytest.approx(h[(cj, ci)], rel=1e-14)


def test_rj_derivative_at_negative_p_is_refused_and_its_value_is_scipys():
    b = {"x": np.array(1.0), "y": np.array(2.0), "z": np.array(3.0), "p": np.array(-0.5)}
    assert api.evaluate(_text("elliprj"), b) == special.elliprj(1.0, 2.0, 3.0, -0.5)
    with pytest.raises(JacError, match="principal value"):
        api.jacobian(_text("elliprj"), b)
    with pytest.raises(JacError, match="principal value"):  # every partial: the complex step needs the branch
        api.jacobian(_text("elliprj"), b, wrt=["x"])
    assert np.isfinite(api.jacobian(_text("elliprj"), {**b, "p": np.array(0.5)}, wrt=["x"])["x"])


def test_rc_at_negative_y_the_principal_value_differentiates():
    for x, y in ((1.0, -2.0), (0.5, -0.1), (3.0, -7.5)):
        b = {"x": np.array(x), "y": np.array(y)}
        jac = api.jacobian(_text("elliprc"), b)
        for k, c in enumerate("xy"):
            assert jac[c] == pytest.approx(_mp_partial("elliprc", (x, y), k), rel=1e-12), (x, y, c)
        h = api.hessian(_text("elliprc"), b)
        assert h[("y", "y")] == pytest.approx(_mp_partial("elliprc", (x, y), 1, 2), rel=1e-9)


def test_derivatives_at_a_zero_argument_are_their_limits():
    b = {"x": np.array(0.0), "y": np.array(1.0), "z": np.array(2.0)}
    assert api.jacobian(_text("elliprf"), b)["x"] == -np.inf  # -R_D(y, z, 0)/6: the integrand's t^(-3/2)
    assert api.jacobian(_text("elliprd"), b)["x"] == -np.inf
    g = api.jacobian("scipy.special.elliprg(y, z, x)", b)["x"]  # R_F(1, 2, 0)/4: z R_D(x, y, z) -> 0
    assert g == pytest.approx(special.elliprf(1.0, 2.0, 0.0) / 4, rel=1e-15)
    right = [(special.elliprg(1.0, 2.0, h) - special.elliprg(1.0, 2.0, 0.0)) / h for h in (1e-6, 1e-8)]
    assert abs(g - right[1]) < abs(g - right[0]) < 1e-3  # the one-sided differences close in on it


def test_carlson_float32_keeps_its_dtype_and_is_scipys():
    b = {c: np.array([0.5, 1.5], dtype=np.float32) for c in "xyz"}
    out = api.evaluate("scipy.special.elliprf(x, y, z)", b, dtype="float32")
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, special.elliprf(*b.values()).astype(np.float32))
    assert api.jacobian("scipy.special.elliprd(x, y, z)", b, dtype="float32")["x"].dtype == np.float32


# -- diric -----------------------------------------------------------------------------------------------------

DIRIC_X = np.array([-np.inf, -7.0, -2 * np.pi, -1e-8, -0.0, 0.0, 1e-8, 0.5, np.pi, 2 * np.pi, 2 * np.pi + 1e-7,
                    4 * np.pi, 9.0, 1e6, np.inf, np.nan])


def _mp_diric(n, x, order):
    def f(t):
        return mpmath.sin(n * t / 2) / (n * mpmath.sin(t / 2))
    t = mpmath.mpf(x)
    if mpmath.sin(t / 2) == 0 or abs(mpmath.sin(t / 2)) < mpmath.mpf("1e-30"):
        t += mpmath.mpf("1e-25")  # the limit at 2πk: f is analytic there
    return float(mpmath.diff(f, t, order))


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 12])
def test_diric_is_scipys_and_its_derivatives_mpmaths(n):
    with np.errstate(all="ignore"):
        theirs = special.diric(DIRIC_X, n)
    text = f"scipy.special.diric(x, {n})"
    np.testing.assert_array_equal(api.evaluate(text, {"x": DIRIC_X}), theirs)
    points = DIRIC_X[np.isfinite(DIRIC_X) & (np.abs(DIRIC_X) < 100)]
    slope = np.diag(api.jacobian(text, {"x": points})["x"])
    curve = np.diag(api.hessian(f"({text}).sum()", {"x": points})[("x", "x")])
    for x, d1, d2 in zip(points, slope, curve):
        assert d1 == pytest.approx(_mp_diric(n, x, 1), rel=1e-9, abs=1e-14), (n, x)
        assert d2 == pytest.approx(_mp_diric(n, x, 2), rel=1e-9, abs=1e-13), (n, x)


def test_diric_third_derivative_is_central_differences_of_the_second():
    x = np.array([0.0, 0.4, 2 * np.pi, 3.3])
    third = api.derivative("scipy.special.diric(x, 5).sum()", {"x": x}, order=3)
    numeric = central_jacobian(lambda u: np.diag(api.hessian("scipy.special.diric(x, 5).sum()", {"x": u})[("x", "x")]), x)
    np.testing.assert_allclose(np.einsum("iii->i", third), np.diag(numeric), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("text,words", [
    ("scipy.special.diric(x, 0)", "positive integer"), ("scipy.special.diric(x, 2.5)", "positive integer"),
    ("scipy.special.diric(x, x)", "n must be a constant"), ("scipy.special.diric(x, 10**6)", "more than jac"),
    ("scipy.special.eval_jacobi(x, 0.5, 0.5, x)", "n must be a constant"),
    ("scipy.special.eval_gegenbauer([1, 2], 0.5, x)", "n must be one number"),
])
def test_what_is_not_read_is_refused_saying_what(text, words):
    with pytest.raises(JacError, match=words):
        api.evaluate(text, {"x": np.array([0.3, 0.4])})


# -- Jacobi, shifted Jacobi, Gegenbauer -------------------------------------------------------------------------

POLY_X = np.array([-1.0, -0.7, -0.0, 0.2, 0.5, 1.0, 1.5, np.inf, np.nan])


@pytest.mark.parametrize("n", [0, 1, 3, 6, 2.5, -0.5])
def test_polynomials_are_scipys_for_an_int_and_a_float_degree(n):
    b = {"x": POLY_X}
    cases = (("eval_jacobi", "0.5, 1.25", (0.5, 1.25)), ("eval_sh_jacobi", "2.5, 1.5", (2.5, 1.5)),
             ("eval_gegenbauer", "0.75", (0.75,)))
    for fname, written, params in cases:
        with np.errstate(all="ignore"):
            theirs = getattr(special, fname)(n, *params, POLY_X)  # SciPy's integer loop for an int n
        np.testing.assert_array_equal(api.evaluate(f"scipy.special.{fname}({n}, {written}, x)", b), theirs,
                                      err_msg=f"{fname} n={n}")


def _jacobi_2f1(n, a, b, t):  # DLMF 18.5.7, for a real degree n too
    return mpmath.binomial(n + a, n) * mpmath.hyp2f1(-n, n + a + b + 1, a + 1, (1 - t) / 2)


def _mp_poly(fname, n, params, x, order):
    if fname == "eval_jacobi":
        def f(t):
            return _jacobi_2f1(n, params[0], params[1], t)
    elif fname == "eval_sh_jacobi":
        p, q = params

        def f(t):
            return _jacobi_2f1(n, p - q, q - 1, 2 * t - 1) / mpmath.binomial(2 * n + p - 1, n)
    else:
        def f(t):
            return mpmath.gegenbauer(n, params[0], t)
    value = mpmath.diff(f, mpmath.mpf(x), order)
    assert abs(mpmath.im(value)) < 1e-25  # a real function of x in [-1, 1] (mpmath's 2F1 may carry a 0j)
    return float(mpmath.re(value))


@pytest.mark.parametrize("fname,params", [("eval_jacobi", (0.5, 1.25)), ("eval_jacobi", (-0.3, 2.0)),
                                          ("eval_sh_jacobi", (2.5, 1.5)), ("eval_gegenbauer", (0.75,)),
                                          ("eval_gegenbauer", (2.0,))])
@pytest.mark.parametrize("n", [1, 2, 5, 2.5])
def test_polynomials_by_x_are_mpmaths_to_second_order(fname, params, n):
    x = np.array([-0.9, -0.2, 0.3, 0.8])
    if fname == "eval_sh_jacobi":  # its interval is [0, 1] (a real degree past it: complex)
        x = (x + 1) / 2
    text = f"scipy.special.{fname}({n}, {', '.join(map(str, params))}, x)"
    slope = np.diag(api.jacobian(text, {"x": x})["x"])
    curve = np.diag(api.hessian(f"({text}).sum()", {"x": x})[("x", "x")])
    for xi, d1, d2 in zip(x, slope, curve):
        assert d1 == pytest.approx(_mp_poly(fname, n, params, xi, 1), rel=1e-10, abs=1e-12), (xi,)
        assert d2 == pytest.approx(_mp_poly(fname, n, params, xi, 2), rel=1e-9, abs=1e-11), (xi,)


@pytest.mark.parametrize("text", ["scipy.special.eval_jacobi(3, a, 0.5, x)", "scipy.special.eval_jacobi(3, 0.5, a, x)",
                                  "scipy.special.eval_sh_jacobi(3, a + 2, 1.5, x)",
                                  "scipy.special.eval_gegenbauer(3, a, x)"])
def test_polynomials_by_their_parameters_are_refused(text):
    b = {"a": np.array(0.7), "x": np.array([0.1, 0.4])}
    with pytest.raises(JacError, match="by its parameters is not supported"):
        api.jacobian(text, b, wrt=["a"])
    assert api.jacobian(text, b, wrt=["x"])["x"].shape == (2, 2)  # by x alone: read


def test_the_cli_reads_them_and_refuses_the_rest_with_exit_2():
    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app

    run = CliRunner().invoke
    ok = run(app, ["eval", "scipy.special.elliprf(x, 2.0, 3.0)", "x=[0.5,1.5]"])
    assert ok.exit_code == 0 and "∂y/∂x" in ok.stdout
    bad = run(app, ["hessian", "scipy.special.elliprj(x, 2.0, 3.0, -1.0)", "x=1.0"])  # session 38: R_D's is read
    assert bad.exit_code == 2 and "at p < 0 is not supported" in bad.stderr


# -- lu's conditioning warning ------------------------------------------------------------------------------------

NEAR = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.000000001]])  # cond 5e11: its last pivot small

def _early():
    """A 4 × 4 matrix whose first two columns are 1e-10 from dependent: its second pivot is small."""
    rng = np.random.default_rng(5)
    a = rng.standard_normal((4, 4))
    a[:, 1] = a[:, 0] * rng.standard_normal() + 1e-10 * rng.standard_normal(4)
    return a


EARLY = _early()
WELL = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]])


@pytest.mark.parametrize("text", ["torch.linalg.lu(A).U.sum()", "torch.linalg.lu(A)[1].sum()",
                                  "torch.linalg.lu_factor(A)[0].sum()", "torch.lu(A)[0].sum()"])
def test_lu_with_a_small_pivot_before_the_last_warns_once_as_cholesky_and_qr_do(text):
    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app

    run = CliRunner().invoke
    for command in ("eval", "hessian", "vjp"):
        res = run(app, [command, text, f"A={EARLY.tolist()}"])
        assert res.exit_code == 0, res.output
        lines = [ln for ln in res.stderr.splitlines() if "warning (conditioning)" in ln]
        assert len(lines) == 1 and "a pivot of lu before the last is small" in lines[0], (command, res.stderr)
        for quiet in (WELL, NEAR):  # NEAR: cond 5e11, but only its last pivot is small: nothing lost
            assert run(app, [command, text, f"A={quiet.tolist()}"]).stderr.count("conditioning") == 0


def _true_lu(a):
    """L and U of partial pivoting at 40 digits (the same row choices as LAPACK's where no tie)."""
    n = len(a)
    m = [[mpmath.mpf(v) for v in row] for row in a]
    for k in range(n):
        p = max(range(k, n), key=lambda i: abs(m[i][k]))
        m[k], m[p] = m[p], m[k]
        for i in range(k + 1, n):
            m[i][k] /= m[k][k]
            for j in range(k + 1, n):
                m[i][j] -= m[i][k] * m[k][j]
    low = [[m[i][j] if j < i else mpmath.mpf(int(i == j)) for j in range(n)] for i in range(n)]
    up = [[m[i][j] if j >= i else mpmath.mpf(0) for j in range(n)] for i in range(n)]
    return low, up


def _np(m):
    return np.array([[float(v) for v in row] for row in m])


def test_lu_is_warned_of_exactly_where_it_loses_digits():
    """Against a 40-digit LU: a small last pivot (NEAR, cond 5e11) moves no entry of L or U and none of their
    derivatives (errors about eps: no warning); a small pivot before it (EARLY) divides the multipliers below it:
    L, U and their derivatives lose 6e-8 .. 1e-6 relative, past √eps, and the warning's estimate is above that."""
    from jacobi_cli.engine import conditioning

    cut = conditioning.threshold(np.float64)
    h = mpmath.mpf("1e-20")
    for a, lost in ((NEAR, False), (EARLY, True)):
        d = np.random.default_rng(1).standard_normal(a.shape)
        shifted = [[[mpmath.mpf(float(v)) + s * h * mpmath.mpf(float(w)) for v, w in zip(ra, rd)]
                    for ra, rd in zip(a, d)] for s in (1, -1)]
        plus, minus = _true_lu(shifted[0]), _true_lu(shifted[1])
        exact = _true_lu([[mpmath.mpf(float(v)) for v in row] for row in a])
        errors = []
        for i, part in enumerate("LU"):
            ours = api.evaluate(f"torch.linalg.lu(A).{part}", {"A": a})
            errors.append(np.max(np.abs(ours - _np(exact[i]))) / np.max(np.abs(_np(exact[i]))))
            slope = np.array([[float((p - q) / (2 * h)) for p, q in zip(rp, rq)] for rp, rq in zip(plus[i], minus[i])])
            ours = api.jvp(f"torch.linalg.lu(A).{part}", {"A": a}, {"A": d})
            errors.append(np.max(np.abs(ours - slope)) / np.max(np.abs(slope)))
        assert (max(errors) > cut) == lost and (lost or max(errors) < 1e-14), errors
        problem = api.prepare("torch.linalg.lu(A).L.sum() + torch.linalg.lu(A).U.sum()", {"A": a})
        found = conditioning.estimates(problem, [("value", None), ("jvp", "A")])
        assert [w.results for w in found] == ([("value", "jvp")] if lost else [])
        if lost:
            assert found[0].relative_error >= max(errors)


def test_rj_near_p_outside_mpmaths_range_is_refused_at_once():
    """R_J's slope where p nears x, y or z is mpmath's (SciPy's loses its digits there); at subnormal arguments a
    30-digit mpmath.diff ran for more than ten minutes (test_kernels16's values): refused there, and past
    RJ_MPMATH_MAX elements, with what jac does; outside SciPy's domain the slope is NaN, as its value."""
    from jacobi_cli.ir import ops

    with pytest.raises(JacError, match="computed by mpmath"):
        ops._carlson_slope_impl(*[np.array([v]) for v in (1e-300, 1e-310, 5e-324, 1e-300)], fname="elliprj", index=3)
    with pytest.raises(JacError, match="at most"):
        n = ops.RJ_MPMATH_MAX + 1
        ops._carlson_slope_impl(np.full(n, 2.0), np.full(n, 3.0), np.full(n, 0.5), np.full(n, 0.5), fname="elliprj",
                                index=0)
    got = ops._carlson_slope_impl(*[np.array([v]) for v in (1e-300, 1e-310, -5e-324, 1e-300)], fname="elliprj",
                                  index=3)
    assert np.isnan(got).all()
