"""Session 35: what benchmarks/snippets35_probe.py's realistic snippets found. A Matérn kernel between shifted
points (``cdist(X, X + 0.01)``), 0.9 % from symmetric, went to ``torch.linalg.cholesky``: PyTorch reads its lower
triangle, jac read its symmetric part, and answered another value (2.3886 for PyTorch's 2.4069) without a word.
The asymmetry let through outside jac's finite differences is now that of rounding and of a hand-written
central difference (1e-5 relative in float64); JAX's
spellings symmetrize as JAX does, at any asymmetry. Checked against NumPy, PyTorch, JAX and central differences;
the PyTorch / JAX parts importorskip them."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError, JacValueError
from jacobi_cli.ir.ops import ASYMMETRY, finite_steps, rounding_asymmetry
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian

rng = np.random.default_rng(35)
A = rng.standard_normal((4, 4))
K = A @ A.T + np.eye(4)
NEAR = K + np.triu(np.full((4, 4), 3e-3), 1)  # 0.3 % of an element of about 1-5 apart: the readings differ
HEAD = "import torch\nimport numpy as np\nimport jax.numpy as jnp\n"
TRIANGLE_READERS = ["torch.linalg.cholesky(K)", "np.linalg.cholesky(K)", "torch.cholesky(K)", "K.cholesky()",
                    "np.linalg.eigvalsh(K)", "np.linalg.eigh(K)[0]", "torch.linalg.eigvalsh(K)",
                    "torch.linalg.eigh(K).eigenvalues"]


@pytest.mark.parametrize("text", TRIANGLE_READERS)
def test_a_matrix_a_little_asymmetric_is_refused_where_one_triangle_is_read(text):
    with pytest.raises(JacValueError, match="not symmetric"):
        api.evaluate(HEAD + text, {"K": NEAR})
    with pytest.raises(JacValueError, match="not symmetric"):
        api.jacobian(HEAD + text, {"K": NEAR})


def test_the_values_apart_are_the_reason():
    lower = np.tril(NEAR) + np.tril(NEAR, -1).T
    symmetric = (NEAR + NEAR.T) / 2
    assert np.max(np.abs(np.linalg.cholesky(lower) - np.linalg.cholesky(symmetric))) > 1e-4


@pytest.mark.parametrize("text", TRIANGLE_READERS)
def test_rounding_asymmetry_is_still_read(text):
    rounded = K + np.triu(np.full((4, 4), 1e-13), 1)
    got = api.evaluate(HEAD + text, {"K": rounded})
    assert np.allclose(got, api.evaluate(HEAD + text, {"K": K}), rtol=1e-12, atol=1e-12)
    stepped = K.copy()
    stepped[2, 1] += 1e-6 * np.max(np.abs(K))  # a hand-written central difference's step
    assert np.allclose(api.evaluate(HEAD + text, {"K": stepped}), got, atol=1e-5)


def test_rounding_bound_per_dtype():
    assert rounding_asymmetry(np.float64) == 1e-5
    assert 1e-4 < rounding_asymmetry(np.float32) < ASYMMETRY


def test_finite_differences_still_step_one_element():
    text = HEAD + "np.linalg.cholesky(K).sum() + np.linalg.eigvalsh(K)[-1]"
    J = api.jacobian(text, {"K": K})["K"]
    numeric = central_jacobian(lambda v: np.asarray(api.evaluate(text, {"K": v})), K)
    assert np.allclose(J, numeric, atol=1e-6)
    with finite_steps():
        api.evaluate(HEAD + "np.linalg.cholesky(K)", {"K": NEAR})
    with pytest.raises(JacValueError):  # the context ends with the block
        api.evaluate(HEAD + "np.linalg.cholesky(K)", {"K": NEAR})


def test_jac_check_of_cholesky_and_eigh_passes():
    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app
    for method in ("central", "richardson"):
        result = CliRunner().invoke(app, ["check", "np.linalg.cholesky(A).sum() + np.linalg.eigvalsh(A)[0]",
                                          "A=[[2.0, 0.5, 0.1], [0.5, 3.0, 0.2], [0.1, 0.2, 1.5]]", "--method", method])
        assert result.exit_code == 0, result.output


@pytest.mark.parametrize("text, reference", [
    ("jnp.linalg.cholesky(K)", lambda m: np.linalg.cholesky(m)),
    ("jnp.linalg.eigvalsh(K)", lambda m: np.linalg.eigvalsh(m)),
    ("jnp.linalg.eigh(K)[0]", lambda m: np.linalg.eigh(m)[0]),
])
def test_jax_spellings_read_the_symmetric_part_at_any_asymmetry(text, reference):
    far = K + np.triu(np.full((4, 4), 0.5), 1)
    for m in (NEAR, far):
        assert np.allclose(api.evaluate(HEAD + text, {"K": m}), reference((m + m.T) / 2), atol=1e-12)
        J = api.jacobian(HEAD + text, {"K": m})["K"]
        assert np.allclose(J, central_jacobian(lambda v: np.asarray(api.evaluate(HEAD + text, {"K": v})), m),
                           atol=1e-6)


def test_jax_parity_of_an_asymmetric_cholesky():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    text = HEAD + "jnp.sum(jnp.linalg.cholesky(K) ** 2) + jnp.linalg.eigvalsh(K)[0]"

    def f(m):
        return jnp.sum(jnp.linalg.cholesky(m) ** 2) + jnp.linalg.eigvalsh(m)[0]
    assert np.isclose(api.evaluate(text, {"K": NEAR}), float(f(NEAR)), rtol=1e-12)
    assert np.allclose(api.jacobian(text, {"K": NEAR})["K"], np.asarray(jax.grad(f)(NEAR)), rtol=1e-9, atol=1e-12)


def test_torch_parity_of_the_snippet_at_a_symmetric_kernel():
    torch = pytest.importorskip("torch")
    X = rng.standard_normal((5, 2))
    text = ("import torch\nimport math\nr = torch.cdist(X, X) / ls\n"
            "K = (1 + math.sqrt(3) * r) * torch.exp(-math.sqrt(3) * r) + 0.1 * torch.eye(X.shape[0])\n"
            "L = torch.linalg.cholesky(K)\ntorch.log(torch.diagonal(L)).sum() + L.sum()")
    Xt = torch.tensor(X, requires_grad=True)
    lt = torch.tensor(1.1, dtype=torch.float64, requires_grad=True)
    r = torch.cdist(Xt, Xt) / lt
    Kt = (1 + 3 ** 0.5 * r) * torch.exp(-(3 ** 0.5) * r) + 0.1 * torch.eye(5, dtype=torch.float64)
    Lt = torch.linalg.cholesky(Kt)
    y = torch.log(torch.diagonal(Lt)).sum() + Lt.sum()
    gX, gl = torch.autograd.grad(y, [Xt, lt])
    env = {"X": X, "ls": np.array(1.1)}
    assert np.isclose(api.evaluate(text, env), y.item(), rtol=1e-12)
    J = api.jacobian(text, env)
    assert np.allclose(J["X"], gX.numpy(), rtol=1e-9, atol=1e-12)
    assert np.isclose(J["ls"], gl.item(), rtol=1e-9)
    shifted = {"X": X, "ls": np.array(1.1)}
    with pytest.raises(JacValueError, match="not symmetric"):  # the snippet as first written: X + 0.01
        api.evaluate(text.replace("torch.cdist(X, X)", "torch.cdist(X, X + 0.01)"), shifted)


# --- scipy.signal / jax.scipy.signal convolve and correlate (a jax.scipy.signal.convolve snippet was refused)
@pytest.mark.parametrize("n, m", [(7, 3), (3, 7), (6, 4), (4, 4), (1, 5)])
@pytest.mark.parametrize("kind", ["convolve", "correlate"])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_scipy_signal_1d_is_scipys(n, m, kind, mode):
    signal = pytest.importorskip("scipy.signal")
    x, v = rng.standard_normal(n), rng.standard_normal(m)
    env = {"x": x, "v": v}
    for head in ("import scipy.signal\nscipy.signal.", f"from scipy.signal import {kind}\n",
                 "import jax.scipy.signal as jss\njss."):
        text = head + f"{kind}(x, v, mode='{mode}')"
        assert np.allclose(api.evaluate(text, env), getattr(signal, kind)(x, v, mode=mode), atol=1e-13), text
        J = api.jacobian(text, env)
        for name in env:
            numeric = central_jacobian(lambda t: np.asarray(api.evaluate(text, {**env, name: t})), env[name])
            assert np.allclose(J[name], numeric, atol=1e-7), (text, name)


def test_scipy_signal_refuses_what_it_does_not_read():
    for text, match in [("scipy.signal.convolve(A, v)", "two vectors"),
                        ("scipy.signal.convolve(v, v, mode='circular')", "mode must be"),
                        ("scipy.signal.lfilter(v, 1.0, v)", "lfilter")]:
        with pytest.raises(JacError, match=match):
            api.evaluate("import scipy.signal\n" + text, {"A": np.ones((2, 2)), "v": np.arange(3.0)})


def test_jax_scipy_signal_parity():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    from jax.scipy.signal import convolve, correlate
    x, k = rng.standard_normal(9), rng.standard_normal(4)
    for fn, name in ((convolve, "convolve"), (correlate, "correlate")):
        for mode in ("full", "same", "valid"):
            text = f"from jax.scipy.signal import {name}\n{name}(x, k, mode='{mode}') ** 2"

            def f(x, k):
                return fn(x, k, mode=mode) ** 2
            assert np.allclose(api.evaluate(text, {"x": x, "k": k}), np.asarray(f(x, k)), atol=1e-12)
            J = api.jacobian(text, {"x": x, "k": k})
            jx, jk = jax.jacrev(f, argnums=(0, 1))(x, k)
            assert np.allclose(J["x"], np.asarray(jx), atol=1e-12) and np.allclose(J["k"], np.asarray(jk), atol=1e-12)
