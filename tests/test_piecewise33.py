"""``np.piecewise(x, condlist, funclist, *args, **kw)`` with functions (session 33; refused before, only numbers
were read): NumPy's loop, each function called on the elements its condition selects, a later condition written
over an earlier one; values against NumPy's own ``np.piecewise``, derivatives against central differences, and
JAX's ``jnp.piecewise`` (each function on one element at a time) against JAX."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian
from test_jax16 import _jax, jax_process  # noqa: F401 - the fixture is used by name

HEAD = "import numpy as np\nimport jax.numpy as jnp\n"
X = np.array([-1.0, 0.5, 4.0, 2.0, -0.25])

CASES = [  # (jac's text, NumPy's call on x)
    ("np.piecewise(x, [x < 0, x >= 0], [lambda v: -v, lambda v: v ** 2])",
     lambda x: np.piecewise(x, [x < 0, x >= 0], [lambda v: -v, lambda v: v ** 2])),
    ("np.piecewise(x, [x > 0], [np.sqrt, 0.0])", lambda x: np.piecewise(x, [x > 0], [np.sqrt, 0.0])),
    ("np.piecewise(x, [x > 0], [np.sqrt])", lambda x: np.piecewise(x, [x > 0], [np.sqrt])),
    ("np.piecewise(x, x > 0, [np.sqrt, lambda v: v * 3.0])", lambda x: np.piecewise(x, x > 0, [np.sqrt, lambda v: v * 3.0])),
    # a function of all the elements it is given (NumPy passes x[cond] whole), and an overwriting condition
    ("np.piecewise(x, [x < 0, x > 1], [lambda v: v * 0, lambda v: v.sum() * v, lambda v: v * 3])",
     lambda x: np.piecewise(x, [x < 0, x > 1], [lambda v: v * 0, lambda v: v.sum() * v, lambda v: v * 3])),
    ("np.piecewise(x, [x > 0, x > 1], [lambda v: np.exp(v), lambda v: np.log(v)])",
     lambda x: np.piecewise(x, [x > 0, x > 1], [lambda v: np.exp(v), lambda v: np.log(v)])),
    ("np.piecewise(x, [x > 0], [lambda v, k: v * k], 3.0)", lambda x: np.piecewise(x, [x > 0], [lambda v, k: v * k], 3.0)),
    ("np.piecewise(x, [x > 0], [lambda v, k=1.0: v * k], k=2.5)",
     lambda x: np.piecewise(x, [x > 0], [lambda v, k=1.0: v * k], k=2.5)),
    ("np.piecewise(x.reshape(5, 1) * np.ones(2), [x.reshape(5, 1) * np.ones(2) > 0], [np.tanh, -1.0])",
     lambda x: np.piecewise(x.reshape(5, 1) * np.ones(2), [x.reshape(5, 1) * np.ones(2) > 0], [np.tanh, -1.0])),
]


@pytest.mark.parametrize("text, numpys", CASES, ids=[c[0][:60] for c in CASES])
def test_piecewise_is_numpys_loop(text, numpys):
    for x in (X, -X * 0.9, X * 3):  # no element at a boundary (0, 1), where the pieces meet
        np.testing.assert_allclose(api.evaluate(HEAD + text, {"x": x}), numpys(x), rtol=1e-15, atol=0)
        found = api.jacobian(HEAD + text, {"x": x})["x"]
        assert np.all(np.isfinite(found))  # sqrt and log of the elements not selected never reach it
        numeric = central_jacobian(lambda v: np.asarray(api.evaluate(HEAD + text, {"x": v})), x)
        np.testing.assert_allclose(found, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("text, words", [
    ("np.piecewise(x, [x < 0, x > 0], [np.sin])", "either 2 or 3 functions"),
    ("np.piecewise(x, [x[:2] > 0], [np.sin])", "x's shape"),
    ("np.piecewise(x, [x > 0], [lambda v: v[:2]])", "for the 3 elements its condition selects"),
    ("np.piecewise(np.arange(5), [x > 0], [lambda v: v * 0.5])", "holds integers"),
])
def test_what_numpy_refuses_or_would_truncate_is_refused(text, words):
    with pytest.raises(JacError, match=words):
        api.evaluate(HEAD + text, {"x": X})


def test_the_result_holds_at_the_values_only():
    from jacobi_cli.tools.report import shape_report

    with pytest.raises(JacError, match="known only for given values|holds for those values only"):
        shape_report(HEAD + "np.piecewise(x, [x > 0], [np.sqrt])", ["x:5"])


JAX_CASES = [
    "jnp.piecewise(x, [x < 0, x >= 0], [lambda v: -v, lambda v: v ** 2])",
    "jnp.piecewise(x, [x > 0], [jnp.sqrt, lambda v: v.sum() * 2])",  # JAX calls it on one element: v.sum() is v
    "jnp.piecewise(x, [x > 0, x > 1], [jnp.exp, jnp.log, 0.5])",
]


def _jax_piecewise(code: str, x: np.ndarray) -> dict:
    jax = _jax()
    jnp = jax.numpy

    def f(t):
        return eval(code, {"jnp": jnp, "x": t})

    t = jnp.asarray(x, dtype=jnp.float64)
    return {"value": np.asarray(f(t)), "jacobian": np.asarray(jax.jacrev(f)(t))}


@pytest.mark.parametrize("code", JAX_CASES)
def test_jnp_piecewise_is_jaxs(jax_process, code):
    theirs = jax_process.submit(_jax_piecewise, code, X).result()
    np.testing.assert_allclose(api.evaluate(HEAD + code, {"x": X}), theirs["value"], rtol=1e-15)
    np.testing.assert_allclose(api.jacobian(HEAD + code, {"x": X})["x"], theirs["jacobian"], rtol=1e-15)
