"""Session 37 (h37-numpyfuzz): silent wrong answers found by benchmarks/nprog37_fuzz.py, a differential fuzz of
small NumPy and jax.numpy programs against NumPy and ``jax.jacfwd`` (float64). Each test failed before its fix.
"""

from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.ir import structured
from jacobi_cli.tools import api


# --- 1. a basic index of a 0-d array: the structured scatter wrote into a copy ---------------------------------
# structured._scatter_basic (session 36) wrote the slot through out_col[0], a NumPy scalar (a copy) when the
# scattered-into shape is 0-d, so the planned Jacobian of z[()], z[...], np.flip(z) (any basic index of a 0-d
# input) was the zero pattern: 0 where the derivative is 1. The first call (the unplanned dense passes) was
# right; the second call through the API, and every `jac eval`, said 0.

ZERO_D = ["z[()]", "z[...]", "np.flip(z)", "np.flip(z, axis=None) * 2.0", "jnp.flip(z) * 3.0", "z[()] * z",
          "z[...][()] + np.sin(z[()])"]


def _reference(text: str, z: float) -> float:
    h = 1e-6
    scope = {"np": np, "jnp": np}
    return (eval(text, dict(scope, z=np.array(z + h))) - eval(text, dict(scope, z=np.array(z - h)))) / (2 * h)  # noqa: S307


@pytest.mark.parametrize("text", ZERO_D)
def test_a_basic_index_of_a_0d_input_has_its_derivative_at_every_call(text):
    expected = _reference(text, 1.061)
    for _ in range(3):  # the first call ran the dense passes; the second the plan; the third the kernel
        got = api.jacobian(text, {"z": 1.061})["z"]
        assert got.shape == ()
        assert abs(float(got) - expected) < 1e-6, (text, got, expected)


def test_jac_eval_of_a_0d_index_is_not_the_zero_structure():
    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app

    result = CliRunner().invoke(app, ["eval", "z[()] * 2.0", "z=1.5", "--json"])
    assert result.exit_code == 0, result.output
    import json

    block = json.loads(result.output)["jacobian"]["z"]
    assert block["value"] == 2.0
    assert block["structure"] != "zero"


def test_the_slice_scatter_into_a_0d_shape_agrees_with_the_general_rule(monkeypatch):
    """_scatter_basic against the general scatter rule where test_memory36's shapes never went: 0-d."""
    for col, val in [(np.array([0]), np.array([1.5])), (np.array([0]), None), (np.array([-1]), None),
                     (np.array([1]), np.array([-0.0]))]:
        a = structured.SparseBatch(2, col, val, np.float64)
        for index in [(slice(None),)]:
            fast = structured._scatter_basic(a, index, (2,))
            assert fast is not None
            with monkeypatch.context() as m:
                m.setattr(structured, "_scatter_basic", lambda *args: None)
                general = structured.scatter_rule(a, index, (2,))
            np.testing.assert_array_equal(fast.col, general.col)
            assert (fast.val is None) == (general.val is None)
            if fast.val is not None:
                np.testing.assert_array_equal(np.signbit(fast.val), np.signbit(general.val))
                np.testing.assert_array_equal(fast.val, general.val)


def test_a_0d_index_against_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    text = "import jax.numpy as jnp\nt1 = jnp.flip(z, axis=None)\nt2 = jax.nn.elu(t1)\nt2 * t1[()]"
    z = 1.061

    def f(v):
        t1 = jnp.flip(v, axis=None)
        return jax.nn.elu(t1) * t1[()]
    expected = float(jax.jacfwd(f)(jnp.asarray(z)))
    code = "import jax\n" + text
    for _ in range(3):
        assert abs(float(api.jacobian(code, {"z": z})["z"]) - expected) < 1e-12
