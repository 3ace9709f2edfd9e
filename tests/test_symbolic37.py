"""Session 37: the modified spherical Bessel functions of an integer order in closed form, and formulas evaluated
without losing their digits to cancellation (benchmarks/symbolic_bench.py: spherical_in and spherical_kn took
3.7 s and 5.5 s to differentiate and simplify as √(π/2x) I_{n+1/2}(x), √(π/2x) K_{n+1/2}(x)).

- jac diff / jac eval --symbolic write scipy.special.spherical_in(n, x) and spherical_kn(n, x) of a constant
  integer n >= 0 in exp / sinh / cosh and powers of 1/x (i_2 = (1/x + 3/x³) sinh x - 3 cosh x / x²), checked
  against SciPy's values and derivatives for n = 0..8 and x across (0.01, 50); other orders keep the Bessel form;
- a formula at --at is evaluated by SymPy at the precision its cancellation needs: i_8's closed form at x = 0.01
  is 2.9e-24 from terms of 1e18 (substituted as 17-digit numbers first, it gave -32768);
- simplify runs once per formula up to the names of its symbols, with the same result as entry by entry.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.ir.ops import _spherical_modified_closed
from jacobi_cli.tools import symbolic

special = pytest.importorskip("scipy.special")
sp = pytest.importorskip("sympy")
runner = CliRunner()
POINTS = np.geomspace(0.01, 50.0, 31)


def _at(expr, t, x: float) -> float:
    return float(expr.evalf(17, subs={t: sp.Float(float(x), 17)}))


@pytest.mark.parametrize("name", ["spherical_in", "spherical_kn"])
@pytest.mark.parametrize("n", range(9))
def test_closed_forms_are_scipys_values_and_derivatives(name, n):
    t = sp.Symbol("t", positive=True)
    f = _spherical_modified_closed(sp, name, n, t)
    assert not f.has(sp.besseli, sp.besselk)
    d = sp.diff(f, t)
    ref = getattr(special, name)
    got = np.array([[_at(f, t, x), _at(d, t, x)] for x in POINTS])
    want = np.array([[ref(n, x), ref(n, x, derivative=True)] for x in POINTS])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


def test_closed_forms_are_the_bessel_forms_exactly():
    """i_n = √(π/2t) I_{n+1/2}(t), k_n = √(π/2t) K_{n+1/2}(t): the difference simplifies to 0 (SymPy's
    recurrence down to the orders ±1/2, whose forms are I_{1/2} = √(2/πt) sinh t, I_{-1/2} = √(2/πt) cosh t,
    K_{±1/2} = √(π/2t) e^-t), so the closed form is the function, not a fit to SciPy."""
    t = sp.Symbol("t", positive=True)
    half = sp.sqrt(sp.pi / (2 * t))
    base = {sp.besseli(sp.Rational(1, 2), t): sp.sinh(t) / (half * t), sp.besseli(-sp.Rational(1, 2), t): sp.cosh(t) / (half * t),
            sp.besselk(sp.Rational(1, 2), t): half * sp.exp(-t), sp.besselk(-sp.Rational(1, 2), t): half * sp.exp(-t)}
    for n in range(5):
        for name, bessel in (("spherical_in", sp.besseli), ("spherical_kn", sp.besselk)):
            exact = sp.expand_func(half * bessel(n + sp.Rational(1, 2), t)).xreplace(base).rewrite(sp.exp)
            assert not exact.has(sp.besseli, sp.besselk)
            closed = _spherical_modified_closed(sp, name, n, t).rewrite(sp.exp)
            assert sp.simplify(exact - closed) == 0, (name, n)


def test_k0_is_scipys_normalisation():
    t = sp.Symbol("t", positive=True)
    assert sp.simplify(_spherical_modified_closed(sp, "spherical_kn", 0, t) - sp.pi / 2 * sp.exp(-t) / t) == 0
    assert sp.simplify(_spherical_modified_closed(sp, "spherical_in", 2, t) -
                       ((1 / t + 3 / t ** 3) * sp.sinh(t) - 3 * sp.cosh(t) / t ** 2)) == 0


def _diff_json(*argv):
    res = runner.invoke(app, ["diff", "--json", *argv])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def test_jac_diff_spherical_in_2_is_sinh_cosh():
    data = _diff_json("scipy.special.spherical_in(2, x)", "x:3")
    assert "sinh(x[0])" in data["output"]["expr"] and "cosh(x[0])" in data["output"]["expr"]
    assert "besseli" not in data["output"]["expr"]
    d = data["derivative"]["x"]["entries"]
    assert "sinh(x[1])" in d[1][1] and "cosh(x[1])" in d[1][1] and "besseli" not in d[1][1]
    assert d[0][1] == "0"
    res = runner.invoke(app, ["diff", "scipy.special.spherical_in(2, x)", "x:3"])
    assert res.exit_code == 0 and "sinh" in res.output and "cosh" in res.output and "besseli" not in res.output


@pytest.mark.parametrize("name", ["spherical_in", "spherical_kn"])
@pytest.mark.parametrize("derivative", [False, True])
def test_jac_diff_at_is_scipys_value_and_derivative(name, derivative):
    x = [0.0123456789, 0.5, 3.0, 47.0]
    text = f"scipy.special.{name}(2, x{', derivative=True' if derivative else ''}) + scipy.special.{name}(8, x)"
    data = _diff_json(text, "--at", f"x={x}")
    ref = getattr(special, name)
    xs = np.array(x)
    value = ref(2, xs, derivative=derivative) + ref(8, xs)
    slope = (_second(name, 2, xs) if derivative else ref(2, xs, derivative=True)) + ref(8, xs, derivative=True)
    np.testing.assert_allclose(data["output"]["value"], value, rtol=1e-10)
    entry = data["derivative"]["x"]
    assert "note" not in entry or not entry["note"], entry.get("note")  # the formula's own numbers, no fallback
    np.testing.assert_allclose(np.diag(entry["value"]), slope, rtol=1e-10)
    assert "besseli" not in entry["expr"] and "besselk" not in entry["expr"]


def _second(name, n, x):
    """f_n'' from the Bessel equation: i_n'' = (1 + n(n+1)/x²) i_n - 2 i_n' / x, k_n likewise."""
    ref = getattr(special, name)
    return (1 + n * (n + 1) / x ** 2) * ref(n, x) - 2 * ref(n, x, derivative=True) / x


def test_formula_at_small_x_keeps_its_digits():
    """i_8's closed form at x = 0.0123456789: terms of 1e18 cancel to 1.6e-23 (SciPy's value)."""
    x = sp.Symbol("x", real=True)
    t = sp.Symbol("t", positive=True)
    f = _spherical_modified_closed(sp, "spherical_in", 8, t).subs(t, x)
    arr = np.array([f, sp.diff(f, x)], dtype=object)
    got = symbolic.evaluate_components(arr, {"x": np.array(x, dtype=object)}, {"x": np.float64(0.0123456789)})
    want = [special.spherical_in(8, 0.0123456789), special.spherical_in(8, 0.0123456789, derivative=True)]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


def test_a_tie_at_a_short_value_stays_a_tie():
    """evalf with subs keeps a short value exact (0.1 -> 1/10): Heaviside(x - 1/10) at x = 0.1 is its value at 0."""
    x = sp.Symbol("x", real=True)
    arr = np.array([sp.Heaviside(x - sp.Rational(1, 10), sp.Rational(1, 2)), sp.Max(x, sp.Rational(1, 10)) - x],
                   dtype=object)
    got = symbolic.evaluate_components(arr, {"x": np.array(x, dtype=object)}, {"x": np.float64(0.1)})
    assert got.tolist() == [0.5, 0.0]


def test_other_orders_keep_the_bessel_form():
    """A negative order (SciPy's NaN) is no closed form: the Bessel form and jac's NaN beside it, as before."""
    data = _diff_json("scipy.special.spherical_in(-1, x)", "--at", "x=0.5")
    assert "besseli" in data["output"]["expr"]
    assert data["output"]["value"] == "NaN"


def test_simplify_entries_is_simplify_entry_by_entry():
    xs = sp.symbols("x[0] x[1] x[2] y", real=True)
    a, b, c, y = xs
    t = sp.Symbol("t", positive=True)
    i1 = sp.diff(_spherical_modified_closed(sp, "spherical_in", 1, t), t)
    entries = [i1.subs(t, a), i1.subs(t, b), sp.sin(a) ** 2 + sp.cos(a) ** 2, sp.sin(b) ** 2 + sp.cos(b) ** 2,
               (a * b + a) / a, (b * c + b) / b, (c * a + c) / c, sp.Integer(0), (y ** 2 - 1) / (y - 1),
               sp.exp(a) * sp.exp(-a) + c]
    arr = np.array(entries, dtype=object).reshape(2, 5)
    cached = symbolic.simplify_entries(arr)
    plain = symbolic.objects(symbolic.simplify, arr)
    assert cached.shape == plain.shape
    for got, want in zip(cached.ravel(), plain.ravel()):
        assert got == want or sp.simplify(got - want) == 0, (got, want)
    assert cached[0, 0].free_symbols == {a} and cached[0, 1].free_symbols == {b}


def test_matrix_form_at_many_points_keeps_its_digits():
    """At 31 points the derivative is a matrix form, diag((t -> ...).(x)), evaluated by NumPy: the sum in
    i_2''(t) cancels at small t (0.13334012 for 0.13333905 at 0.01) and is recomputed by evalf there."""
    points = np.geomspace(0.01, 50.0, 31)
    data = _diff_json("scipy.special.spherical_in(2, x, derivative=True)", "--at", f"x={points.tolist()}")
    entry = data["derivative"]["x"]
    assert entry["form"] == "matrix" and "sinh" in entry["expr"]
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(40):  # i_2'' to 40 digits: the Bessel form differentiated by mpmath
        want = [float(mpmath.diff(lambda x: mpmath.sqrt(mpmath.pi / (2 * x)) * mpmath.besseli(2.5, x),
                                  mpmath.mpf(float(p)), 2)) for p in points]
    np.testing.assert_allclose(np.diag(entry["value"]), want, rtol=1e-12)


def test_recompute_only_where_a_sum_cancels():
    from jacobi_cli.tools.indexform import vectorized

    t = sp.Symbol("t", real=True)
    f = vectorized(sp, (t,), (sp.exp(t) - 1 - t) / t ** 2)  # cancels at small t: 1/2 + t/6 + ...
    got = f(np.array([1e-6, 1e-3, 1.0]))
    np.testing.assert_allclose(got, [0.5 + 1e-6 / 6, float(sp.N((sp.exp(sp.Rational(1, 1000)) - 1 - sp.Rational(
        1, 1000)) * 10 ** 6, 20)), np.e - 2], rtol=1e-12)
    g = vectorized(sp, (t,), sp.sin(t) ** 2 + sp.cos(t) ** 2 - 1)  # 0 exactly: evalf cannot tell, the doubles stay
    assert np.all(np.abs(g(np.linspace(0.1, 3, 5))) < 1e-15)
