"""JAX's verdicts hard-coded in tests/test_jit34.py, checked against JAX itself (in a process of its own): the
exception class JAX raises at each text of RAISES, and at each of ANSWERS its value and, where JAX differentiates
the whole text by x, its jax.jacrev, which jac's value and Jacobian equal."""

import numpy as np
import pytest

from jacobi_cli.tools import api
from test_jax16 import jax_process  # noqa: F401 - the fixture is used by name
from test_jit34 import ANSWERS, HEAD, RAISES, X


def _jax_verdict(code: str, x):
    """("error", JAX's exception class) or ("value", value, jacrev by x or None): plain Python values only (JAX's
    exceptions do not pickle back)."""
    import ast
    import jax
    jax.config.update("jax_enable_x64", True)
    tree = ast.parse(code)
    body = compile(ast.Module(body=tree.body[:-1], type_ignores=[]), "<case>", "exec")
    last = compile(ast.Expression(tree.body[-1].value), "<case>", "eval")

    def f(v):
        scope = {"x": v}
        exec(body, scope)
        return eval(last, scope)
    try:
        value = np.asarray(f(jax.numpy.asarray(x)), dtype=float).tolist()
    except Exception as err:  # noqa: BLE001 - the class JAX raises is the verdict
        return ("error", type(err).__name__)
    try:
        jac = np.asarray(jax.jacrev(f)(jax.numpy.asarray(x)), dtype=float).tolist()
    except Exception:  # noqa: BLE001 - float(x.sum()) before the call: a tracer of jacrev's, no reference
        jac = None
    return ("value", value, jac)


@pytest.mark.parametrize("text, error", RAISES, ids=[t[:60] for t, _ in RAISES])
def test_jax_raises_what_the_table_says(jax_process, text, error):
    assert jax_process.submit(_jax_verdict, HEAD + text, X).result() == ("error", error)


@pytest.mark.parametrize("text, value", ANSWERS, ids=[t[:60] for t, _ in ANSWERS])
def test_jax_answers_what_jac_answers(jax_process, text, value):
    kind, found, jac = jax_process.submit(_jax_verdict, HEAD + text, X).result()
    assert kind == "value"
    np.testing.assert_allclose(found, value, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(api.evaluate(HEAD + text, {"x": X}), found, rtol=1e-12, atol=1e-12)
    if jac is not None:
        np.testing.assert_allclose(api.jacobian(HEAD + text, {"x": X})["x"], jac, rtol=1e-10, atol=1e-12)
