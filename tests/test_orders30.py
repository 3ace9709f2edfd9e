"""Session 30's probe of higher orders (benchmarks/orders30_sweep.py): the silent wrong answers it found, each
checked against the function's own series or derivative formula and central differences of jac's lower order.

- scipy.special.powm1(x, y) at x == 1 or y == 0: SciPy's branch "0 there" was a constant, whose derivative is 0;
  powm1's are y x^(y - 1) by x and (x^y) log x by y (the first derivative by x at x == 1 was 0, not y).
- scipy.special.ellipk / ellipe / ellipkm1 at m = 0 (p = 1): the first derivative's limit π/8 (-π/8) was a
  constant, so the second and third derivatives there were 0; they are the series' (DLMF 19.5.1, 19.5.2):
  K = π/2 (1 + m/4 + 9m²/64 + 25m³/256 + ...), E = π/2 (1 - m/4 - 3m²/64 - 5m³/256 - ...).
"""

import numpy as np
import pytest

from jacobi_cli.tools import api


def central(fun, x, h=1e-6):
    return (fun(x + h) - fun(x - h)) / (2 * h)


POWM1 = [(1.0, 0.5), (1.0, -1.5), (1.0, 3.0), (0.7, 0.0), (2.5, 0.0), (1.0, 0.0)]


@pytest.mark.parametrize("x,y", POWM1)
def test_powm1_has_its_derivatives_where_scipy_writes_0(x, y):
    text = "scipy.special.powm1(x, y)"
    env = {"x": x, "y": y}
    assert float(api.evaluate(text, env)) == 0.0
    J = api.jacobian(text, env)
    assert float(J["x"]) == pytest.approx(y * x ** (y - 1), rel=1e-15, abs=0)
    assert float(J["y"]) == pytest.approx(x ** y * np.log(x), rel=1e-15, abs=0)
    H = api.hessian(text, env)
    exact = {("x", "x"): y * (y - 1) * x ** (y - 2), ("y", "y"): x ** y * np.log(x) ** 2,
             ("x", "y"): x ** (y - 1) * (1 + y * np.log(x))}
    exact[("y", "x")] = exact[("x", "y")]
    for key, value in exact.items():
        assert float(H[key]) == pytest.approx(value, rel=1e-12, abs=1e-15), key
    # the Hessian is the central differences of jac's own Jacobian
    assert float(H[("x", "x")]) == pytest.approx(central(
        lambda t: float(api.jacobian(text, {"x": t, "y": y})["x"]), x), rel=1e-6, abs=1e-8)
    assert float(H[("y", "x")]) == pytest.approx(central(
        lambda t: float(api.jacobian(text, {"x": t, "y": y})["y"]), x), rel=1e-6, abs=1e-8)
    third = float(api.derivative(text, env, order=3, wrt=["x"]))
    assert third == pytest.approx(y * (y - 1) * (y - 2) * x ** (y - 3), rel=1e-12, abs=1e-15)


def test_powm1_keeps_scipys_values_and_its_0_elsewhere():
    import scipy.special as sc

    x = np.array([1.0, 1.0, 0.0, np.nan, -2.0, -2.0, 0.0, 1.0])
    y = np.array([np.nan, 0.0, 0.0, 0.0, 0.0, 2.0, 1.5, -np.inf])
    np.testing.assert_array_equal(api.evaluate("scipy.special.powm1(x, y)", {"x": x, "y": y}), sc.powm1(x, y))
    # at x <= 0 the constant stays (no derivative of a branch that is no function there); at x = 1 it is y's
    J = api.jacobian("scipy.special.powm1(x, y)", {"x": x, "y": y})
    assert np.diag(J["y"])[[1, 2, 4]].tolist() == [0.0, 0.0, 0.0]
    assert np.diag(J["x"])[[1, 7]].tolist() == [0.0, -np.inf]


K_SERIES = [np.pi / 8, 9 * np.pi / 64, 75 * np.pi / 256]  # K', K'', K''' at m = 0
E_SERIES = [-np.pi / 8, -3 * np.pi / 64, -15 * np.pi / 256]


@pytest.mark.parametrize("name,x0,series,sign", [("ellipk", 0.0, K_SERIES, 1), ("ellipe", 0.0, E_SERIES, 1),
                                                 ("ellipkm1", 1.0, K_SERIES, -1)])
def test_complete_elliptic_integrals_have_their_series_derivatives_at_m_0(name, x0, series, sign):
    text = f"scipy.special.{name}(x)"
    for order, exact in enumerate(series, start=1):
        got = float(api.derivative(text, {"x": x0}, order=order, wrt=["x"]))
        assert got == pytest.approx(sign ** order * exact, rel=1e-15), order
    assert float(api.jacobian(text, {"x": x0})["x"]) == sign * series[0]  # the first derivative: π/8 as before
    # the second derivative at m = 0 is the central difference of jac's first just beside it
    d1 = lambda t: float(api.jacobian(text, {"x": t})["x"])  # noqa: E731
    assert float(api.hessian(text, {"x": x0})[("x", "x")]) == pytest.approx(central(d1, x0, 1e-3), rel=1e-5)
    # and element-wise in a vector with the other points, by the batch too
    xs = np.array([x0, 0.3, -0.5 if name != "ellipkm1" else 1.5])
    H = api.hessian(text, {"x": xs})[("x", "x")]
    assert H[0, 0, 0] == pytest.approx(series[1], rel=1e-15)
    Jb = api.jacobian(text, {"x": xs[:, None]}, batch=["x"])["x"]
    np.testing.assert_array_equal(Jb[:, 0, 0], np.diag(api.jacobian(text, {"x": xs})["x"]))


def test_a_repeated_call_agrees_with_the_first_bit_for_bit():
    for text, env in [("scipy.special.powm1(x, y)", {"x": [1.0, 0.7, 2.0], "y": [0.5, 0.0, 1.5]}),
                      ("scipy.special.ellipk(x) * scipy.special.ellipe(x)", {"x": [0.0, 0.3, -0.2]})]:
        first, again = api.jacobian(text, env), api.jacobian(text, env)
        for k in first:
            np.testing.assert_array_equal(first[k], again[k])
        h1, h2 = api.hessian(text, env), api.hessian(text, env)
        for k in h1:
            np.testing.assert_array_equal(h1[k], h2[k])


@pytest.mark.parametrize("name,shift", [("xlogy", 0.0), ("xlog1py", 1.0)])
def test_xlogy_has_its_mixed_second_derivative_at_x_0(name, shift):
    """d²/dx dy of x log(y) is 1 / y, also at x == 0 (the rule's x / y was a constant 0 there)."""
    text = f"scipy.special.{name}(x, y)"
    x, y = np.array([0.0, 0.0, 0.5, 0.0]), np.array([0.5, 2.0, 0.5, -0.5])
    H = api.hessian(text, {"x": x, "y": y})
    exact = 1.0 / (y + shift)
    for key in (("x", "y"), ("y", "x")):
        np.testing.assert_allclose(np.einsum("iii->i", H[key])[:3], exact[:3], rtol=1e-15, err_msg=str(key))
    np.testing.assert_allclose(np.einsum("iii->i", H[("y", "y")]), -x / (y + shift) ** 2, rtol=1e-15)
    # the central differences of jac's own derivative by y, moving x across 0
    dy = lambda t: np.diag(api.jacobian(text, {"x": x + t, "y": y})["y"])  # noqa: E731
    np.testing.assert_allclose(np.einsum("iii->i", H[("y", "x")])[:3], central(dy, 0.0)[:3], rtol=1e-6)
    # the first derivatives are unchanged: 0 by y at x == 0 (-0 for a negative y, as x / y), log(y) by x
    J = api.jacobian(text, {"x": x, "y": y})
    assert np.diag(J["y"])[[0, 1]].tolist() == [0.0, 0.0]
    np.testing.assert_allclose(np.diag(J["x"])[:3], np.log(y[:3] + shift), rtol=1e-15)
    assert float(api.jacobian(text, {"x": 0.0, "y": -shift})["y"]) == 0.0  # x = 0 at the pole: 0, as before
