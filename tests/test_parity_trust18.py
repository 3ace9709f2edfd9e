"""The eighteenth session's silent difference from JAX, found by ``numpy_fuzz.py --jax``: JAX's ``mask * x`` where
the mask (a boolean array) has the product's shape is a select (XLA rewrites a product with a converted boolean
as one): ``where(mask, x, 0)``, 0 where the mask is false even where x is inf or NaN (NumPy's and PyTorch's
0 · inf is NaN) and +0 where x is negative (theirs -0). jac reads ``*`` and ``jnp.multiply`` so in a text that
names JAX alone (functions.masked_product); a mask that broadcasts, a Python bool and integers keep the product
in JAX too, and NumPy's and PyTorch's texts keep it.
"""

from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.tools import api
from test_jax16 import jax_process, jax_reference  # noqa: F401 - the fixture is used by name
from test_parity_trust17 import assert_same

X = np.array([-np.inf, -0.5, np.inf, np.nan, -0.0, 2.0])
INPUTS = {"x": X, "A": np.stack([X, X[::-1]]), "s": np.array(-np.inf)}

JAX_TEXTS = [
    "jnp.sin(x) * 0 + (x > 0) * x",  # the select: 0 at -inf and NaN, +0 at -0.5
    "x * (x > 0) + jnp.zeros(6)",
    "jnp.multiply(x > 0, jnp.sin(x))",
    "jax.numpy.multiply(x, x > 1)",
    "(x > 0) * jnp.exp(-x)",
    "jnp.isclose(x, 0.5) * x",
    "jnp.logical_and(x > 0, x < 1) * x",
    "(A > 0) * jnp.tanh(A)",
    "x * (A > 0) + jnp.zeros((2, 6))",  # x broadcast, the mask of the product's shape: still a select
    "(x > 0) * jnp.inf",
    "s * (s > 0) + jnp.zeros(())",
    "m = x > 0; y = m * jnp.sin(x); y * 2",
    "(A > 0)[:, :1] * A + jnp.zeros((2, 6))",  # the mask broadcasts: JAX's product (NaN, -0)
    "(x > 0)[0] * x + jnp.zeros(6)",
    "x * False + jnp.zeros(6)",  # a Python bool: a product in JAX too
    "(x > 0) * (x < 1) * x + jnp.zeros(6)",  # mask * mask is their and, then a select
]


def _used(code: str) -> dict:
    return {k: v for k, v in INPUTS.items() if k in code.replace("jax.", "").replace("jnp.", "")
            .replace("exp", "").replace("tanh", "").replace("isclose", "").replace("False", "")}


@pytest.mark.parametrize("code", JAX_TEXTS)
def test_a_jax_product_with_a_mask_of_its_shape_is_a_select(jax_process, code):  # noqa: F811 - the fixture
    inputs = _used(code)
    theirs = jax_process.submit(jax_reference, code, inputs).result()
    assert_same(api.evaluate(code, inputs), theirs["value"])
    finite = {k: np.nan_to_num(v, nan=0.25, posinf=3.0, neginf=-3.0) for k, v in inputs.items()}
    theirs = jax_process.submit(jax_reference, code, finite).result()
    ours = api.jacobian(code, finite, wrt=list(theirs["jacobian"]))
    for k, j in theirs["jacobian"].items():
        np.testing.assert_allclose(ours[k], j, rtol=1e-12, atol=0, err_msg=k)


@pytest.mark.parametrize("code, reference", [
    ("np.multiply(x > 0, np.sin(x))", lambda x: np.multiply(x > 0, np.sin(x))),
    ("(x > 0) * np.exp(-x)", lambda x: (x > 0) * np.exp(-x)),
    ("(x > 0) * x", lambda x: (x > 0) * x),  # no library named: NumPy's reading
    ("np.sin(x) * 0 + (x > 0) * jnp.exp(-x)", lambda x: np.sin(x) * 0 + (x > 0) * np.exp(-x)),  # both named
])
def test_numpys_product_with_a_mask_stays_a_product(code, reference):
    with np.errstate(all="ignore"):
        assert_same(api.evaluate(code, {"x": X}), reference(X))


def test_pytorchs_product_with_a_mask_stays_a_product():
    torch = pytest.importorskip("torch")
    t = torch.tensor(X)
    assert_same(api.evaluate("(x > 0) * torch.exp(-x)", {"x": X}), ((t > 0) * torch.exp(-t)).numpy())
    assert_same(api.evaluate("torch.mul(x > 0, x)", {"x": X}), torch.mul(t > 0, t).numpy())


# --- quantiles as each library interpolates them -----------------------------------------------------------------

QUANTILE_VALUES = [[4.0, 1.0, 3.0, 2.0, 7.0, 5.0], [1.0, np.inf, 3.0], [1.0, 2.0, np.inf], [1.0, np.inf, np.inf],
                   [-np.inf, 1.0, 2.0], [-0.0, -0.0, 1.0], [1.0, np.nan, 3.0, np.inf], [1e308, 1.5e308, -1e308]]


@pytest.mark.parametrize("values", QUANTILE_VALUES, ids=str)
@pytest.mark.parametrize("fname", ["quantile", "nanquantile"])
def test_jax_quantiles_are_jaxs(jax_process, values, fname):  # noqa: F811 - the fixture
    """JAX's linear a·(1 - w) + b·w, midpoint (a + b)·0.5 and nearest rounding a fraction of 1/2 down."""
    x = np.array(values)
    for q in (0.0, 0.3, 0.5, 0.75, 1.0):
        for method in ("linear", "midpoint", "nearest", "lower", "higher"):
            code = f"jnp.{fname}(x, {q}, method='{method}')"
            theirs = jax_process.submit(jax_reference, code, {"x": x}).result()
            ours = api.evaluate(code, {"x": x})
            if np.isfinite(theirs["value"]) and theirs["value"] != 0:  # XLA fuses a·(1 - w) + b·w: an ulp
                np.testing.assert_allclose(ours, theirs["value"], rtol=4e-16, err_msg=code)
            else:
                assert_same(ours, theirs["value"])
            if np.isfinite(x).all() and len(set(values)) == len(values):  # no ties: one element per rank
                np.testing.assert_allclose(api.jacobian(code, {"x": x})["x"], theirs["jacobian"]["x"], rtol=1e-15,
                                           err_msg=code)


@pytest.mark.parametrize("values", QUANTILE_VALUES, ids=str)
@pytest.mark.parametrize("fname", ["quantile", "nanquantile", "percentile", "nanpercentile"])
def test_numpy_quantiles_are_numpys(values, fname):
    """NumPy's previous and next elements (the next even at a whole rank), with its lerp; at the last rank
    its weight q·(n - 1) + 1, which keeps a -0 there."""
    x = np.array(values)
    for q in (0.0, 0.3, 0.5, 0.75, 1.0):
        for method in ("linear", "midpoint", "nearest", "lower", "higher"):
            scale = 100 if "percentile" in fname else 1
            with np.errstate(all="ignore"):
                theirs = getattr(np, fname)(x, q * scale, method=method)
            assert_same(api.evaluate(f"np.{fname}(x, {q * scale}, method='{method}')", {"x": x}), theirs)


@pytest.mark.parametrize("values", QUANTILE_VALUES[1:], ids=str)
@pytest.mark.parametrize("fname", ["quantile", "nanquantile"])
def test_pytorch_quantiles_are_pytorchs(values, fname):
    """PyTorch's floor and ceil with its lerp, also at a whole rank (inf + 0 · (inf - inf) is NaN), and its
    derivatives."""
    torch = pytest.importorskip("torch")
    x = np.array(values)
    for q in (0.0, 0.3, 0.5, 0.75, 1.0):
        for method in ("linear", "midpoint", "nearest", "lower", "higher"):
            t = torch.tensor(x, requires_grad=True)
            y = getattr(torch, fname)(t, q, interpolation=method)
            code = f"torch.{fname}(x, {q}, interpolation='{method}')"
            assert_same(api.evaluate(code, {"x": x}), y.detach().numpy())
            if np.isfinite(x).all():
                g, = torch.autograd.grad(y, t)
                np.testing.assert_array_equal(api.jacobian(code, {"x": x})["x"], g.numpy())


# --- JAX's floor division: a zero quotient has the divisor's sign ----------------------------------------------

GRID = np.array([-np.inf, -2.5, -1.0, -0.75, -0.5, -0.0, 0.0, 0.5, 0.75, 1.0, 2.5, np.inf, np.nan, 1e-300, 3.0])
A_GRID, B_GRID = (g.ravel() for g in np.meshgrid(GRID, GRID))


@pytest.mark.parametrize("code", ["jnp.floor_divide(a, b)", "jnp.sin(a) * 0 + a // b", "1 / (jnp.abs(a) * 0 + a // b)"])
def test_jax_floor_division_gives_a_zero_the_divisors_sign(jax_process, code):  # noqa: F811 - the fixture
    inputs = {"a": A_GRID, "b": B_GRID}
    theirs = jax_process.submit(jax_reference, code, inputs).result()["value"]
    assert_same(api.evaluate(code, inputs), theirs)


def test_numpys_and_pytorchs_floor_division_keep_theirs():
    torch = pytest.importorskip("torch")
    with np.errstate(all="ignore"):
        assert_same(api.evaluate("np.floor_divide(a, b)", {"a": A_GRID, "b": B_GRID}), np.floor_divide(A_GRID, B_GRID))
        assert_same(api.evaluate("a // b", {"a": A_GRID, "b": B_GRID}), A_GRID // B_GRID)
    t = torch.floor_divide(torch.tensor(A_GRID), torch.tensor(B_GRID)).numpy()
    assert_same(api.evaluate("torch.floor_divide(a, b)", {"a": A_GRID, "b": B_GRID}), t)


# --- JAX's sign keeps a zero's sign; JAX's x ** 0.5 is pow, not the square root ----------------------------------

SPECIALS = np.array([-np.inf, np.inf, -2.0, -0.0, 0.0, np.nan, 4.0, 0.25])


@pytest.mark.parametrize("code", ["jnp.sign(x)", "jnp.sign(x) * 2", "jnp.power(x, 0.5)", "jnp.abs(x) * 0 + x ** 0.5",
                                  "jnp.power(x, 1.5)", "jnp.sqrt(x)", "jax.numpy.sign(x) + jnp.power(x, 0.5)"])
def test_jax_sign_and_half_power_are_jaxs(jax_process, code):  # noqa: F811 - the fixture
    with np.errstate(all="ignore"):
        theirs = jax_process.submit(jax_reference, code, {"x": SPECIALS}).result()["value"]
        assert_same(api.evaluate(code, {"x": SPECIALS}), theirs)
    finite = {"x": np.array([0.25, 4.0, 9.0])}
    theirs = jax_process.submit(jax_reference, code, finite).result()["jacobian"]["x"]
    np.testing.assert_allclose(api.jacobian(code, finite)["x"], theirs, rtol=1e-15)


def test_numpys_and_pytorchs_sign_and_half_power_keep_theirs():
    torch = pytest.importorskip("torch")
    with np.errstate(all="ignore"):
        for code, ref in [("np.sign(x)", np.sign(SPECIALS)), ("np.power(x, 0.5)", np.power(SPECIALS, 0.5)),
                          ("x ** 0.5", SPECIALS ** 0.5)]:
            assert_same(api.evaluate(code, {"x": SPECIALS}), ref)
    t = torch.tensor(SPECIALS)
    assert_same(api.evaluate("torch.pow(x, 0.5)", {"x": SPECIALS}), torch.pow(t, 0.5).numpy())
    assert_same(api.evaluate("torch.sign(x)", {"x": SPECIALS}), torch.sign(t).numpy())
