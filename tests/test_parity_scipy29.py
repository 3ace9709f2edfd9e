"""Parity of session 29's special functions with JAX 0.10 (float64, in a process of its own: test_jax16's
``jax_process``; skipped without jax): jax.scipy.special's bessel_jn, betainc, expn, fresnel, hyp1f1, hyp2f1, owens_t,
sici, spence and jax.lax.betainc, each value and ``jax.jacrev`` against jac's.

JAX computes most of these by algorithms of its own (series, continued fractions, a backward recurrence), jac with
SciPy's functions: values and Jacobians agree to 1e-9 relative here. Where JAX differs, the tests say so and check
jac against SciPy and central differences instead: ``bessel_jn``'s backward recurrence of ``n_iter`` steps loses
every digit where |z| is large next to n_iter (J_0(100) is -1.46 in JAX, 0.0200 in SciPy), and ``spence``'s
derivative at 1 is 0 in JAX, where log z / (1 - z) tends to -1, and NaN for 1 < x <= 2 (a column of NaN)."""

import numpy as np
import pytest
from scipy import special

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from test_jax16 import central, jax_process, jax_reference  # noqa: F401 - the fixture is used by name

HEAD = "import jax, jax.numpy as jnp\nimport jax.scipy.special\n"
X01 = np.array([0.05, 0.3, 0.5, 0.77, 0.95])
XP = np.array([0.2, 0.9, 1.7, 3.1, 6.0])


def _agrees(jax_process, code, inputs, rtol=1e-9, atol=1e-12):
    theirs = jax_process.submit(jax_reference, HEAD + code, inputs).result()
    floats = list(theirs["jacobian"])
    np.testing.assert_allclose(api.evaluate(HEAD + code, inputs), theirs["value"], rtol=rtol, atol=atol)
    ours = api.jacobian(HEAD + code, inputs, wrt=floats)
    for k in floats:
        np.testing.assert_allclose(ours[k], theirs["jacobian"][k], rtol=rtol, atol=atol, err_msg=k)


CASES = [
    ("jax.scipy.special.betainc(2.0, 3.5, x)", {"x": X01}),
    ("jax.scipy.special.betainc(0.5, 0.7, x) * x", {"x": X01}),
    ("jax.lax.betainc(4.0, 1.5, x)", {"x": X01}),
    ("jax.scipy.special.expn(1, x) + jax.scipy.special.expn(3, x)", {"x": XP}),
    ("jax.scipy.special.fresnel(x)[0] + 2 * jax.scipy.special.fresnel(x)[1]", {"x": np.concatenate([-XP, XP])}),
    ("jax.scipy.special.sici(x)[0] * jax.scipy.special.sici(x)[1]", {"x": XP}),
    ("jax.scipy.special.hyp1f1(0.5, 1.5, x)", {"x": np.concatenate([-XP, XP])}),
    ("jax.scipy.special.hyp1f1(2.0, 3.0, x)", {"x": XP}),
    ("jax.scipy.special.hyp2f1(0.5, 1.5, 2.5, x)", {"x": np.array([-0.9, -0.3, 0.1, 0.5, 0.8])}),
    ("jax.scipy.special.owens_t(h, a)", {"h": np.array([-1.0, 0.3, 2.0, 0.0]), "a": np.array([0.5, -2.0, 0.9, 3.0])}),
    ("jax.scipy.special.spence(x)", {"x": np.array([0.1, 0.5, 0.9])}),
    ("jax.scipy.special.bessel_jn(x, v=3)", {"x": np.array([0.3, 1.0, 2.5, 4.0])}),
]


@pytest.mark.parametrize("code,inputs", CASES, ids=[c for c, _ in CASES])
def test_values_and_jacobians_agree_with_jax(jax_process, code, inputs):
    _agrees(jax_process, code, inputs)


def test_jax_bessel_jn_loses_its_digits_where_z_is_large_and_jac_keeps_scipys(jax_process):
    z = np.array([30.0, 100.0])
    theirs = jax_process.submit(jax_reference, HEAD + "jax.scipy.special.bessel_jn(z, v=2)", {"z": z}).result()
    ours = api.evaluate(HEAD + "jax.scipy.special.bessel_jn(z, v=2)", {"z": z})
    np.testing.assert_array_equal(ours, special.jv(np.arange(3)[:, None], z))
    assert np.max(np.abs(theirs["value"] - ours)) > 0.1  # JAX's backward recurrence of 50 steps, not jac's


def test_spence_at_one_has_the_limit_where_jax_gives_zero(jax_process):
    theirs = jax_process.submit(jax_reference, HEAD + "jax.scipy.special.spence(x)", {"x": np.array([1.0])}).result()
    assert theirs["jacobian"]["x"][0, 0] == 0.0
    assert api.jacobian(HEAD + "jax.scipy.special.spence(x)", {"x": np.array([1.0])})["x"][0, 0] == -1.0


def test_spence_beyond_one_has_a_derivative_where_jax_gives_nan(jax_process):
    x = np.array([0.5, 1.5, 3.0])
    theirs = jax_process.submit(jax_reference, HEAD + "jax.scipy.special.spence(x)", {"x": x}).result()
    np.testing.assert_allclose(api.evaluate(HEAD + "jax.scipy.special.spence(x)", {"x": x}), theirs["value"],
                               rtol=1e-12)
    assert np.all(np.isnan(theirs["jacobian"]["x"][:, 1])) and not np.any(np.isnan(theirs["jacobian"]["x"][:, 2]))
    # (JAX 0.10: a column of NaN for 1 < x <= 2, its branch there; finite beyond)
    ours = api.jacobian(HEAD + "jax.scipy.special.spence(x)", {"x": x})["x"]
    np.testing.assert_allclose(np.diag(ours), np.log(x) / (1 - x), rtol=1e-14)  # log z / (1 - z)
    np.testing.assert_allclose(ours, central(HEAD + "jax.scipy.special.spence(x)", {"x": x}, "x"), rtol=1e-7)


@pytest.mark.parametrize("code", ["jax.scipy.special.betainc(a, 2.0, x)", "jax.lax.betainc(2.0, a, x)"])
def test_betainc_refuses_a_and_b_as_jax_does(jax_process, code):
    inputs = {"a": np.array([1.5, 2.5]), "x": np.array([0.3, 0.6])}
    with pytest.raises(Exception, match="Betainc gradient with respect to a and b not supported"):
        jax_process.submit(jax_reference, HEAD + code, inputs).result()
    with pytest.raises(JacError, match="Betainc gradient with respect to a and b not supported"):
        api.jacobian(HEAD + code, inputs)
