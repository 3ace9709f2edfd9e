"""Session 34b: what benchmarks/snippets34_probe.py's realistic snippets (numerical methods, physics, statistics,
finance) found: ``torch.gradient`` given coordinates crashed (a TypeError) and ``np.gradient`` refused them;
``scipy.integrate`` / ``jax.scipy.integrate``'s trapezoid refused as unknown modules; a model class of the text
without parameters made inside an expression (``ContrastiveLoss()(a, b)``) refused; a ``lax.scan`` /
``fori_loop`` carry written as a tuple of numbers (``(0.0, 1.0)``) refused as changing its structure. Checked
against NumPy's and SciPy's own functions and central differences; the PyTorch / JAX parts importorskip them."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError, JacNameError, JacValueError
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian

rng = np.random.default_rng(34)
T = np.array([0.0, 0.2, 0.5, 0.9, 1.4, 2.0])
Y = np.sin(3 * T) + T ** 3
TORCH = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
JAX = "import jax\nimport jax.numpy as jnp\n"


def numeric(text, env, name):
    return central_jacobian(lambda v: np.asarray(api.evaluate(text, {**env, name: v})), env[name])


# --- np.gradient / torch.gradient with coordinates
@pytest.mark.parametrize("edge", [1, 2])
def test_np_gradient_with_coordinates_is_numpys(edge):
    text = f"np.gradient(y, np.array({T.tolist()}), edge_order={edge})"
    assert np.allclose(api.evaluate(text, {"y": Y}), np.gradient(Y, T, edge_order=edge), rtol=1e-13, atol=1e-13)
    J = api.jacobian(text, {"y": Y})["y"]
    assert np.allclose(J, numeric(text, {"y": Y}, "y"), atol=1e-6)
    assert np.allclose(J, np.gradient(np.eye(6), T, axis=0, edge_order=edge), atol=1e-12)


def test_np_gradient_coordinates_on_one_axis_of_two():
    Y2 = rng.standard_normal((3, 6))
    text = f"np.gradient(Y, 0.3, np.array({T.tolist()}))"
    for k in (0, 1):
        assert np.allclose(api.evaluate(f"{text}[{k}]", {"Y": Y2}), np.gradient(Y2, 0.3, T)[k], atol=1e-12)


def test_torch_gradient_coordinates_no_longer_crash():
    text = TORCH + f"torch.gradient(y, spacing=(torch.tensor({T.tolist()}),), edge_order=2)[0]"
    assert np.allclose(api.evaluate(text, {"y": Y}), np.gradient(Y, T, edge_order=2), atol=1e-12)


@pytest.mark.parametrize("text, kind", [
    ("np.gradient(y, t)", JacValueError),  # coordinates that are an input: their derivative is not read
    ("np.gradient(y, np.array([0.0, 1.0]))", JacError),  # as long as the axis
])
def test_np_gradient_coordinates_refused(text, kind):
    with pytest.raises(kind):
        api.evaluate(text, {"y": Y, "t": T})


# --- scipy.integrate / jax.scipy.integrate
def test_scipy_integrate_trapezoid_and_cumulative():
    sp = pytest.importorskip("scipy.integrate")
    y = rng.standard_normal((3, 5))
    x = np.array([0.0, 0.3, 0.4, 1.0, 1.6])
    env = {"y": y}
    for text, want in [
        (f"import scipy.integrate as si\nsi.trapezoid(y, np.array({x.tolist()}))", sp.trapezoid(y, x)),
        ("from scipy.integrate import trapezoid\ntrapezoid(y, dx=0.5, axis=0)", sp.trapezoid(y, dx=0.5, axis=0)),
        ("scipy.integrate.cumulative_trapezoid(y, dx=0.25, initial=0)",
         sp.cumulative_trapezoid(y, dx=0.25, initial=0)),
        ("scipy.integrate.cumulative_trapezoid(y, axis=0, initial=0)", sp.cumulative_trapezoid(y, axis=0, initial=0)),
        ("scipy.integrate.cumulative_trapezoid(y)", sp.cumulative_trapezoid(y)),
    ]:
        assert np.allclose(api.evaluate(text, env), want, atol=1e-13), text
        assert np.allclose(api.jacobian(text, env)["y"], numeric(text, env, "y"), atol=1e-6), text


def test_jax_scipy_integrate_trapezoid_reads():
    text = JAX + "from jax.scipy.integrate import trapezoid\nxs = jnp.linspace(0.0, 3.0, 13)\n" \
                 "trapezoid(jnp.sin(w * xs) ** 2, xs)"
    xs = np.linspace(0.0, 3.0, 13)
    w = np.array(1.1)
    assert np.isclose(api.evaluate(text, {"w": w}), np.trapezoid(np.sin(w * xs) ** 2, xs), rtol=1e-13)
    assert np.allclose(api.jacobian(text, {"w": w})["w"], numeric(text, {"w": w}, "w"), atol=1e-6)


@pytest.mark.parametrize("text", [
    "scipy.integrate.simpson(y)",  # not read: named, not guessed
    "scipy.integrate.sin(y)",  # the module has only its own names
    "jax.scipy.integrate.cumulative_trapezoid(y)",  # JAX has no such function
])
def test_integrate_names_outside_are_refused(text):
    with pytest.raises(JacNameError):
        api.evaluate(text, {"y": Y})


def test_cumulative_trapezoid_initial_other_than_zero_refused_as_scipy_raises():
    with pytest.raises(JacValueError, match="initial"):
        api.evaluate("scipy.integrate.cumulative_trapezoid(y, initial=1)", {"y": Y})


# --- a model class of the text made inside an expression
CLASS = TORCH + """
class Contrastive(nn.Module):
    def __init__(self, margin=2.0):
        super().__init__()
        self.margin = margin

    def forward(self, a, b, label):
        d = F.pairwise_distance(a, b)
        return torch.mean((1 - label) * d ** 2 + label * torch.clamp(self.margin - d, min=0.0) ** 2)
"""


def test_module_without_parameters_made_inline_is_called():
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    label = np.array([0.0, 1.0, 1.0, 0.0])
    env = {"a": a, "b": b, "label": label}
    d = np.sqrt(((a - b + 1e-6) ** 2).sum(-1))
    want = np.mean((1 - label) * d ** 2 + label * np.maximum(3.0 - d, 0) ** 2)
    for last in ("Contrastive(3.0)(a, b, label)", "def loss(a, b):\n    return Contrastive(margin=3.0)(a, b, label)\n"
                                                   "loss(a, b)"):
        text = CLASS + last
        assert np.isclose(api.evaluate(text, env), want, rtol=1e-12)
        assert np.allclose(api.jacobian(text, env)["a"], numeric(text, env, "a"), atol=1e-6)


def test_module_with_parameters_made_inline_still_refused():
    text = TORCH + "class P(nn.Module):\n    def __init__(self):\n        super().__init__()\n" \
                   "        self.fc = nn.Linear(3, 1)\n    def forward(self, a):\n        return self.fc(a).sum()\nP()(a)"
    with pytest.raises(JacValueError, match="top level assigns it"):
        api.evaluate(text, {"a": np.ones(3)})


# --- a loop's carry written as a tuple of numbers
SCAN = JAX + """
def step(carry, z):
    m, P = carry
    m_pred, P_pred = a * m, a * a * P + 0.2
    K = P_pred / (P_pred + 0.5)
    return (m_pred + K * (z - m_pred), (1 - K) * P_pred), m_pred + K * (z - m_pred)

(_, _), means = jax.lax.scan(step, (0.0, 1.0), zs)
means
"""


def scan_by_hand(zs, a):
    m, P, out = 0.0, 1.0, []
    for z in zs:
        m_pred, P_pred = a * m, a * a * P + 0.2
        K = P_pred / (P_pred + 0.5)
        m, P = m_pred + K * (z - m_pred), (1 - K) * P_pred
        out.append(m)
    return np.array(out)


def test_scan_carry_tuple_of_numbers():
    env = {"zs": rng.standard_normal(5), "a": np.array(0.9)}
    assert np.allclose(api.evaluate(SCAN, env), scan_by_hand(env["zs"], 0.9), rtol=1e-13)
    J = api.jacobian(SCAN, env)
    for name in env:
        assert np.allclose(J[name], numeric(SCAN, env, name), atol=1e-6)


def test_fori_loop_carry_tuple_of_numbers():
    text = JAX + "jax.lax.fori_loop(0, 3, lambda i, c: (c[0] * zs[i], c[1] + c[0]), (1.0, 0.0))[1]"
    zs = np.array([0.5, 1.5, 2.0])
    assert np.isclose(api.evaluate(text, {"zs": zs}), 1.0 + 0.5 + 0.75)


def test_scan_carry_list_against_tuple_refused_as_jax_raises():
    text = JAX + "def f(c, z):\n    return (c[0] + z, c[1] * z), c[0]\n(a, b), ys = jax.lax.scan(f, [0.0, 1.0], zs)\na"
    with pytest.raises(JacValueError, match="structure"):
        api.evaluate(text, {"zs": np.array([0.5, 1.5])})


# --- parity with the libraries
def test_parity_torch_gradient_and_inline_module():
    torch = pytest.importorskip("torch")
    y = torch.tensor(Y, requires_grad=True)
    g = torch.gradient(y, spacing=(torch.tensor(T),), edge_order=1)[0]
    J = np.stack([torch.autograd.grad(g[i], y, retain_graph=True)[0].numpy() for i in range(6)])
    text = TORCH + f"torch.gradient(y, spacing=(torch.tensor({T.tolist()}),))[0]"
    assert np.allclose(api.evaluate(text, {"y": Y}), g.detach().numpy(), atol=1e-13)
    assert np.allclose(api.jacobian(text, {"y": Y})["y"], J, atol=1e-12)


def test_parity_jax_scan_and_trapezoid():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    from jax.scipy.integrate import trapezoid
    zs, a = rng.standard_normal(5), np.array(0.9)

    def f(zs, a):
        def step(carry, z):
            m, P = carry
            m_pred, P_pred = a * m, a * a * P + 0.2
            K = P_pred / (P_pred + 0.5)
            return (m_pred + K * (z - m_pred), (1 - K) * P_pred), m_pred + K * (z - m_pred)
        return jax.lax.scan(step, (0.0, 1.0), zs)[1]

    env = {"zs": zs, "a": a}
    assert np.allclose(api.evaluate(SCAN, env), f(zs, a), rtol=1e-12)
    J = api.jacobian(SCAN, env)
    assert np.allclose(J["zs"], jax.jacrev(f, 0)(zs, a), rtol=1e-10, atol=1e-12)
    assert np.allclose(J["a"], jax.jacrev(f, 1)(zs, a), rtol=1e-10, atol=1e-12)
    y = rng.standard_normal(6)
    text = f"jax.scipy.integrate.trapezoid(y, jnp.array({T.tolist()}))"
    assert np.isclose(api.evaluate(text, {"y": y}), trapezoid(jnp.asarray(y), jnp.asarray(T)), rtol=1e-13)


# --- a chain of in-place methods as a statement
INPLACE = "import torch\nh = x * 1.0\nh.clamp_(min=0.0)\nh.mul_(2.0).add_(b)\n"
# with h.relu_() first, PyTorch's backward raises (relu_ saved its result, which mul_ changes): jac refuses it since
# session 35 (ir/saved.py; tests/test_raises35.py)
RELU_FIRST = "import torch\nh = x * 1.0\nh.relu_()\nh.mul_(2.0).add_(b)\nh.sum()"


def test_in_place_chain_is_each_method_in_turn():
    env = {"x": np.array([[1.0, -2.0], [0.5, 3.0]]), "b": np.array([0.1, 0.2])}
    want = 2.0 * np.maximum(env["x"], 0) + env["b"]
    assert np.allclose(api.evaluate(INPLACE + "h", env), want, rtol=1e-15)
    assert np.allclose(api.jacobian(INPLACE + "h.sum()", env)["x"], 2.0 * (env["x"] > 0), rtol=1e-15)
    text = "import torch\ndef f(x):\n    h = x * 1.0\n    h[0].mul_(3.0).add_(b).clamp_(min=0.5)\n    return h\nf(x)"
    assert np.allclose(api.evaluate(text, env), [[3.1, 0.5], [0.5, 3.0]], rtol=1e-15)


def test_in_place_chain_after_relu_is_refused_as_pytorch_backward_raises():
    env = {"x": np.array([[1.0, -2.0], [0.5, 3.0]]), "b": np.array([0.1, 0.2])}
    with pytest.raises(JacValueError, match="modified by an inplace operation"):
        api.jacobian(RELU_FIRST, env)


def test_in_place_chain_on_an_input_still_refused():
    with pytest.raises(JacValueError, match="leaf"):
        api.evaluate("import torch\nx.mul_(2.0).add_(b)\nx", {"x": np.ones(2), "b": np.ones(2)})


def test_parity_torch_in_place_chain():
    torch = pytest.importorskip("torch")
    x = torch.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([0.1, 0.2], dtype=torch.float64, requires_grad=True)
    h = x * 1.0
    h.mul_(2.0).add_(b).clamp_(min=0.5)  # (relu_ before mul_: PyTorch's backward raises there, and jac refuses)
    gx, gb = torch.autograd.grad((h ** 2).sum(), [x, b])
    env = {"x": x.detach().numpy(), "b": b.detach().numpy()}
    J = api.jacobian("import torch\nh = x * 1.0\nh.mul_(2.0).add_(b).clamp_(min=0.5)\n(h ** 2).sum()", env)
    assert np.allclose(J["x"], gx.numpy(), rtol=1e-14) and np.allclose(J["b"], gb.numpy(), rtol=1e-14)
