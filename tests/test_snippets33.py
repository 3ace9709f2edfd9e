"""Session 33c: what the realistic snippets of benchmarks/snippets33_probe.py found jac refusing that the libraries
run: names bound by imports (``from scipy.special import gammaln``, ``import jax.scipy.linalg as jsl``), followed
as Python binds them (lang/imports.py), and ``lstsq``'s whole tuple (solution, residuals, rank, singular values).
Checked here against closed forms and central differences; tests/test_parity_snippets33.py against the libraries."""

import numpy as np
import pytest

from jacobi_cli.errors import JacParseError
from jacobi_cli.tools import api

rng = np.random.default_rng(33)
X = rng.uniform(0.5, 2.0, 3)
A = rng.standard_normal((6, 3))
B = rng.standard_normal(6)


def central(text, env, name, h=1e-6):
    """d(text)/d(name) by central differences."""
    base = np.asarray(api.evaluate(text, env))
    J = np.zeros(base.shape + env[name].shape)
    for i in np.ndindex(env[name].shape):
        e = np.zeros(env[name].shape)
        e[i] = h
        up = np.asarray(api.evaluate(text, {**env, name: env[name] + e}))
        down = np.asarray(api.evaluate(text, {**env, name: env[name] - e}))
        J[(...,) + i] = (up - down) / (2 * h)
    return J


@pytest.mark.parametrize("text, spelled", [
    ("from scipy.special import gammaln\ngammaln(x) * 2", "import scipy.special\nscipy.special.gammaln(x) * 2"),
    ("from jax.scipy.special import logsumexp as lse\nlse(x)", "import jax.scipy.special\njax.scipy.special.logsumexp(x)"),
    ("import torch as T\nT.sin(x) + T.exp(x)", "import torch\ntorch.sin(x) + torch.exp(x)"),
    ("from torch import sin, cos\nimport torch\nsin(x) * cos(x)", "torch.sin(x) * torch.cos(x)"),
    ("from torch.nn.functional import relu\nrelu(x - 1)", "F.relu(x - 1)"),
    ("import torch.nn.functional as nnf\nnnf.softplus(x)", "F.softplus(x)"),
    ("from numpy import exp, log\nexp(x) + log(x)", "np.exp(x) + np.log(x)"),
    ("from scipy import special\nspecial.expit(x)", "scipy.special.expit(x)"),
    ("import torch.nn as tnn\ntnn.ReLU()(x - 1)", "F.relu(x - 1)"),
    ("import jax.scipy.linalg as jsl\nimport jax.numpy as jnp\njsl.solve_triangular(jnp.diag(x), x * x, lower=True)",
     "x"),
    ("from scipy.special import gammaln\ndef f(v):\n    return gammaln(v).sum()\nf(x)",
     "scipy.special.gammaln(x).sum()"),
])
def test_names_an_import_binds_are_followed_as_python_binds_them(text, spelled):
    # each was refused ("a name imported from a module is not followed", "an import cannot rename a module")
    env = {"x": X}
    np.testing.assert_allclose(api.evaluate(text, env), api.evaluate(spelled, env), rtol=1e-15)
    np.testing.assert_allclose(api.jacobian(text, env)["x"], api.jacobian(spelled, env)["x"], rtol=1e-15)
    np.testing.assert_allclose(api.jacobian(text, env)["x"], central(text, env, "x"), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("text, words", [
    ("from scipy.special import gammaln\ngammaln = 3\nx", "not followed"),  # bound again: not followed
    ("from scipy.special import gammaln\ndef f(gammaln):\n    return gammaln\nf(x)", "not followed"),
    ("import numpy as torch\ntorch.sin(x)", "cannot rename"),  # a name jac reads otherwise
    ("from jax import nn\nnn.relu(x)", "cannot rename"),  # nn is torch.nn in jac's texts
    ("from scipy.optimize import minimize\nx", "jac has no module 'scipy.optimize"),  # scipy.linalg: read since h33d
])
def test_imports_not_followed_keep_their_refusals(text, words):
    with pytest.raises(JacParseError) as err:
        api.evaluate(text, {"x": X})
    assert words in str(err.value)


def test_an_unknown_name_imported_is_refused_at_its_use():
    with pytest.raises(Exception) as err:
        api.evaluate("from scipy.special import nosuch\nnosuch(x)", {"x": X})
    assert "'scipy.special.nosuch' is not supported" in str(err.value)


@pytest.mark.parametrize("a, b", [(A, B), (A, rng.standard_normal((6, 2))), (A[:3], B[:3]), (A[:2].copy(), B[:2])])
def test_numpy_lstsq_gives_its_four_parts(a, b):
    # x, residuals, rank, s = np.linalg.lstsq(A, b, rcond=None) was "4 names for a result of 1 parts"
    text = "import numpy as np\nx, res, rank, s = np.linalg.lstsq(A, b, rcond=None)\n"
    expected = np.linalg.lstsq(a, b, rcond=None)
    for part, value in zip(["x", "res", "rank", "s"], expected):
        found = api.evaluate(text + part, {"A": a, "b": b})
        assert found.shape == np.shape(value)
        np.testing.assert_allclose(found, value, rtol=1e-12, atol=1e-13)
    if a.shape[0] > a.shape[1]:
        # the residuals' derivative by b: 2 (I - A A⁺)ᵀ r per column, here by central differences
        env = {"A": a, "b": b}
        for name in ("A", "b"):
            np.testing.assert_allclose(api.jacobian(text + "res", env)[name], central(text + "res", env, name),
                                       rtol=1e-6, atol=1e-7)


def test_torch_lstsq_gives_gelsys_parts():
    # PyTorch's default CPU driver gelsy: empty residuals and singular values, the rank
    text = "import torch\nsol, res, rank, sv = torch.linalg.lstsq(A, b.unsqueeze(-1))\n"
    assert api.evaluate(text + "res", {"A": A, "b": B}).shape == (0,)
    assert api.evaluate(text + "sv", {"A": A, "b": B}).shape == (0,)
    assert api.evaluate(text + "rank", {"A": A, "b": B}) == 3
    with pytest.raises(Exception, match="4 names for a result of 1 parts"):  # other drivers: not read
        api.evaluate("import torch\ns, r, k, v = torch.linalg.lstsq(A, b.unsqueeze(-1), driver='gelsd')\ns",
                     {"A": A, "b": B})
