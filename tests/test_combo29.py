"""Session 29 (h29-probe): what benchmarks/combo29_sweep.py found combining what sessions 24-28 read, checked
against central differences of jac's own values (tests/test_parity_combo29.py compares with PyTorch and JAX).

cumprod's reverse rule masks the entries after the cotangent's last nonzero (exact zeros, not 0
times a NaN exclusive product). The mask was taken as a constant, so where the cotangent itself depends on the
input (a traced VJP: a Hessian, a second derivative written in the text, jax.vjp's pullback differentiated by its
cotangent) and is 0 at the point, the entry's derivative was lost: the Hessian of ``cumprod(x)[0] ** 2`` at 0 was
0, not 2."""

import numpy as np
import pytest

from jacobi_cli.tools import api

HEAD = "import jax\nimport jax.numpy as jnp\nimport torch\n"


def central_hessian(text: str, x0: np.ndarray, h: float = 1e-4) -> np.ndarray:
    f = lambda v: float(api.evaluate(text, {"x": v}))  # noqa: E731
    eye = np.eye(x0.size).reshape((x0.size,) + x0.shape)
    return np.array([[(f(x0 + h * a + h * b) - f(x0 + h * a - h * b) - f(x0 - h * a + h * b) + f(x0 - h * a - h * b))
                      / (4 * h * h) for b in eye] for a in eye]).reshape(x0.shape + x0.shape)


def central_jacobian(text: str, inputs: dict, name: str, h: float = 1e-6) -> np.ndarray:
    x0 = np.asarray(inputs[name], dtype=float)
    y0 = np.asarray(api.evaluate(text, inputs))
    J = np.zeros(y0.shape + x0.shape)
    for i in np.ndindex(x0.shape):
        xp, xm = x0.copy(), x0.copy()
        xp[i] += h
        xm[i] -= h
        J[(...,) + i] = (np.asarray(api.evaluate(text, {**inputs, name: xp}))
                         - np.asarray(api.evaluate(text, {**inputs, name: xm}))) / (2 * h)
    return J


POINTS = [np.zeros(3), np.array([0.0, 0.5, 0.7]), np.array([0.3, 0.0, -0.7]), np.array([0.3, 0.5, 0.7]),
          np.array([0.0, 0.0, 2.0])]
SCALARS = ["cumprod(x)[0] ** 2", "x[0] * cumprod(x)[0]", "sum(cumprod(x) ** 2)", "sum(cumprod(x) * x)",
           "sum(cumsum(sin(x)) * cumprod(x))", "sin(x[0]) * cumprod(x)[1]", "sum(cumprod(x[::-1]) * x)",
           "torch.cumprod(x, 0)[1] * x[1]", "jnp.sum(jnp.cumprod(x) * jnp.sin(x))"]


@pytest.mark.parametrize("text", SCALARS)
@pytest.mark.parametrize("k", range(len(POINTS)))
def test_the_hessian_through_cumprod_at_zeros_is_the_central_differences(text, k):
    x0 = POINTS[k]
    H = api.hessian(HEAD + text, {"x": x0})[("x", "x")]
    np.testing.assert_allclose(H, central_hessian(HEAD + text, x0), rtol=1e-6, atol=1e-6)
    # derivative --order 2 is the Hessian's block, bit for bit; a repeated call (kernels) the first's
    np.testing.assert_array_equal(np.asarray(api.derivative(HEAD + text, {"x": x0}, order=2)), H)
    np.testing.assert_array_equal(api.hessian(HEAD + text, {"x": x0})[("x", "x")], H)


def test_a_second_derivative_written_in_the_text_through_cumprod():
    for text in ["jax.grad(lambda v: jnp.sum(jnp.cumsum(jnp.sin(v)) * jnp.cumprod(v)))(x)",
                 "torch.func.grad(lambda v: (torch.cumprod(v, 0) * v).sum())(x)",
                 "torch.func.hessian(lambda v: torch.cumprod(v, 0)[0] ** 2)(x)"]:
        for x0 in POINTS:
            first = api.jacobian(HEAD + text, {"x": x0})["x"]
            np.testing.assert_allclose(first, central_jacobian(HEAD + text, {"x": x0}, "x"), rtol=1e-6, atol=1e-6,
                                       err_msg=f"{text} at {x0}")
            np.testing.assert_array_equal(api.jacobian(HEAD + text, {"x": x0})["x"], first)


def test_cumprods_pullback_by_its_cotangent_where_the_cotangent_is_zero():
    """jax.vjp's pullback of cumprod is linear in the cotangent w: its Jacobian by w is cumprod's Jacobian
    transposed, whatever entries of w are 0 (the last column was 0 where w ended in zeros)."""
    x0 = np.array([0.3, 0.5, 0.7])
    cumprod_jacobian = api.jacobian("cumprod(x)", {"x": x0})["x"]
    for text in ["jax.vjp(jnp.cumprod, x)[1](w)[0]", "torch.func.vjp(lambda v: torch.cumprod(v, 0), x)[1](w)[0]"]:
        for w0 in (np.zeros(3), np.array([0.0, 1.0, 0.0]), np.array([1.0, 0.0, 0.0]), np.array([2.0, -1.0, 0.5])):
            J = api.jacobian(HEAD + text, {"x": x0, "w": w0}, wrt=["w"])["w"]
            np.testing.assert_allclose(J, cumprod_jacobian.T, rtol=1e-14, atol=0, err_msg=f"{text} at w={w0}")


def test_the_first_derivative_keeps_its_exact_zeros_past_a_nan():
    """The mask still gives exact zeros where the cotangent is a constant: cumprod's Jacobian past a NaN is 0
    where the output does not depend on the input, and the Hessian of a function no NaN reaches stays finite."""
    x0 = np.array([0.5, np.nan, 2.0])
    J = api.jacobian("cumprod(x)", {"x": x0})["x"]
    assert J[0, 1] == 0 and J[0, 2] == 0 and J[1, 2] == 0 and J[0, 0] == 1
    H = api.hessian("cumprod(x)[0] ** 2", {"x": x0})[("x", "x")]
    np.testing.assert_array_equal(H, [[2.0, 0, 0], [0, 0, 0], [0, 0, 0]])
