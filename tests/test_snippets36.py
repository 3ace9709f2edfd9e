"""Session 36: what benchmarks/snippets36_probe.py's realistic snippets found (no silent wrong answer; two false
refusals of common code). Sobel filters and template matching pasted from tutorials call
``scipy.signal.convolve2d`` / ``correlate2d`` (and ``jax.scipy.signal``'s), ``scipy.signal.convolve`` of an image
and a kernel, or ``fftconvolve``: all were refused. A double-DQN target picks the target network's values at the
online network's argmax, ``q_target.gather(1, q_online.argmax(1, keepdim=True))``: gather refused an index
computed from the inputs, which ``take_along_dim`` already read. Checked against SciPy, JAX, PyTorch and central
differences; the PyTorch / JAX parts importorskip them."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError, JacShapeError, JacValueError
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian

rng = np.random.default_rng(36)
SHAPES = [((5, 5), (3, 3)), ((5, 6), (2, 4)), ((4, 4), (2, 2)), ((3, 3), (5, 4)), ((4, 5), (5, 2)),
          ((1, 3), (2, 2)), ((3, 1), (1, 1))]
FUNCTIONS = ["convolve2d", "correlate2d", "convolve", "correlate", "fftconvolve", "oaconvolve"]
MODES = ["full", "same", "valid"]


def _signal(fn, mode):
    return f"import scipy.signal\nscipy.signal.{fn}(x, v, mode='{mode}')"


@pytest.mark.parametrize("fn", FUNCTIONS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shapes", SHAPES)
def test_scipy_signal_of_two_matrices_is_scipys(fn, mode, shapes):
    import scipy.signal
    x, v = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    try:
        expected = getattr(scipy.signal, fn)(x, v, mode=mode)
    except ValueError:  # neither array covers the other in valid mode: refused as SciPy raises
        with pytest.raises(JacShapeError, match="at least as large as the other in every dimension"):
            api.evaluate(_signal(fn, mode), {"x": x, "v": v})
        return
    got = api.evaluate(_signal(fn, mode), {"x": x, "v": v})
    assert got.shape == expected.shape
    assert np.allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_same_mode_centres_as_each_function_does():
    """For an even kernel correlate2d's 'same' starts at m // 2, convolve's, correlate's and convolve2d's at
    (m - 1) // 2: one column apart."""
    import scipy.signal
    x, v = rng.standard_normal((4, 5)), rng.standard_normal((2, 2))
    got2d = api.evaluate(_signal("correlate2d", "same"), {"x": x, "v": v})
    got = api.evaluate(_signal("correlate", "same"), {"x": x, "v": v})
    assert np.allclose(got2d, scipy.signal.correlate2d(x, v, mode="same"))
    assert np.allclose(got, scipy.signal.correlate(x, v, mode="same"))
    assert not np.allclose(got, got2d)


@pytest.mark.parametrize("fn", ["convolve2d", "correlate2d", "convolve"])
@pytest.mark.parametrize("mode", MODES)
def test_jacobians_are_central_differences(fn, mode):
    x, v = rng.standard_normal((4, 3)), rng.standard_normal((2, 3))
    text = _signal(fn, mode)
    J = api.jacobian(text, {"x": x, "v": v})
    assert np.allclose(J["x"], central_jacobian(lambda t: api.evaluate(text, {"x": t, "v": v}), x), atol=1e-7)
    assert np.allclose(J["v"], central_jacobian(lambda t: api.evaluate(text, {"x": x, "v": t}), v), atol=1e-7)


def test_hessian_of_a_filter_energy_is_central_differences_of_its_gradient():
    text = "from scipy.signal import convolve2d\n(convolve2d(x, v, mode='valid') ** 2).sum()"
    x, v = rng.standard_normal((4, 4)), rng.standard_normal((2, 2))
    H = api.hessian(text, {"x": x, "v": v})
    block = H[("x", "v")] if ("x", "v") in H else H["x,v"]
    numeric = central_jacobian(lambda t: api.jacobian(text, {"x": x, "v": t})["x"], v)
    assert np.allclose(block, numeric, atol=1e-6)


@pytest.mark.parametrize("fn", ["convolve2d", "correlate2d", "convolve", "correlate", "fftconvolve"])
@pytest.mark.parametrize("mode", MODES)
def test_jax_scipy_signal_value_and_jacobian_are_jaxs(fn, mode):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.scipy.signal as jss
    x, v = rng.standard_normal((4, 5)), rng.standard_normal((2, 3))
    text = f"import jax.scipy.signal as jss\njss.{fn}(x, v, mode='{mode}')"
    f = getattr(jss, fn)
    expected = np.asarray(f(x, v, mode=mode))
    assert np.allclose(api.evaluate(text, {"x": x, "v": v}), expected, rtol=1e-12, atol=1e-12)
    J = api.jacobian(text, {"x": x, "v": v})
    Jx, Jv = jax.jacrev(lambda a, b: f(a, b, mode=mode), argnums=(0, 1))(x, v)
    assert np.allclose(J["x"], np.asarray(Jx), atol=1e-12)
    assert np.allclose(J["v"], np.asarray(Jv), atol=1e-12)


@pytest.mark.parametrize("fn", ["convolve2d", "correlate2d", "convolve", "correlate", "fftconvolve"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shapes", [((4, 5), (5, 2)), ((1, 3), (2, 2))])
def test_jax_refuses_arrays_neither_of_which_covers_the_other_where_jax_raises(fn, mode, shapes):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.scipy.signal as jss
    x, v = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    text = f"import jax.scipy.signal as jss\njss.{fn}(x, v, mode='{mode}')"
    try:
        expected = np.asarray(getattr(jss, fn)(x, v, mode=mode))
    except ValueError:
        with pytest.raises(JacShapeError, match="as JAX requires"):
            api.evaluate(text, {"x": x, "v": v})
        return
    assert np.allclose(api.evaluate(text, {"x": x, "v": v}), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("text, match", [
    ("scipy.signal.convolve2d(x, v, boundary='wrap')", "boundary='fill' with fillvalue=0"),
    ("scipy.signal.convolve2d(x, v, fillvalue=1.0)", "boundary='fill' with fillvalue=0"),
    ("scipy.signal.convolve2d(x, v, mode='middle')", "mode must be 'full', 'same' or 'valid'"),
    ("scipy.signal.convolve2d(x, v[0])", "must both be 2-D arrays"),
    ("scipy.signal.fftconvolve(x, v, axes=0)", "axes=None"),
    ("scipy.signal.convolve(x, v[0])", "two vectors \\(1-D\\) or two matrices"),
])
def test_what_is_not_read_is_refused_with_what_to_write(text, match):
    with pytest.raises(JacError, match=match):
        api.evaluate("import scipy.signal\n" + text, {"x": np.ones((4, 5)), "v": np.ones((2, 2))})


# --- gather by an argmax made in the text
Q_NEXT, Q_ONLINE, Q = rng.standard_normal((5, 4)), rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
INDEXES = ["p.argmax(dim=1, keepdim=True)", "p.argmax(1).unsqueeze(1)", "p.argmax(1).unsqueeze(-1)",
           "torch.max(p, dim=1).indices.unsqueeze(1)", "p.argmax(1)[:, None]", "p.argmin(1).view(-1, 1)",
           "torch.argmax(p, 1, keepdim=True)"]


@pytest.mark.parametrize("index", INDEXES)
def test_gather_at_an_argmax_is_pytorchs(index):
    torch = pytest.importorskip("torch")
    text = f"import torch\nq.gather(1, {index}).squeeze(1) * 2.0"
    got = api.evaluate(text, {"q": Q_NEXT, "p": Q_ONLINE})
    J = api.jacobian(text, {"q": Q_NEXT, "p": Q_ONLINE})
    q = torch.tensor(Q_NEXT, requires_grad=True)
    p = torch.tensor(Q_ONLINE, requires_grad=True)
    y = eval(text.split("\n")[1], {"torch": torch, "q": q, "p": p})  # noqa: S307 - the test's own text
    assert np.array_equal(got, y.detach().numpy())
    rows = [torch.autograd.grad(y[i], q, retain_graph=True)[0].numpy() for i in range(y.shape[0])]
    assert np.array_equal(J["q"], np.stack(rows))
    assert not J["p"].any()  # the index is not differentiated, as PyTorch's integer argmax


def test_gather_at_an_argmax_follows_the_values():
    """The index is read at evaluation: other values pick other elements (never a graph kept for old values)."""
    text = "import torch\nq.gather(1, p.argmax(1, keepdim=True))"
    for p in (Q_ONLINE, -Q_ONLINE, Q):
        assert np.array_equal(api.evaluate(text, {"q": Q_NEXT, "p": p})[:, 0], Q_NEXT[np.arange(5), p.argmax(1)])


def test_double_dqn_loss_is_pytorchs():
    torch = pytest.importorskip("torch")
    text = """import torch
import torch.nn.functional as F
next_actions = q_online_next.argmax(dim=1, keepdim=True)
next_q = q_target_next.gather(1, next_actions).squeeze(1)
target = (r + 0.99 * next_q).detach()
F.smooth_l1_loss(q.gather(1, a.view(-1, 1)).squeeze(1), target)"""
    a = np.array([1, 0, 3, 2, 2])
    r = rng.standard_normal(5)
    values = {"q_online_next": Q_ONLINE, "q_target_next": Q_NEXT, "r": r, "q": Q, "a": a}
    got = api.evaluate(text, values)
    grad = api.jacobian(text, values)["q"]
    q = torch.tensor(Q, requires_grad=True)
    target = torch.tensor(r) + 0.99 * torch.tensor(Q_NEXT).gather(1, torch.tensor(Q_ONLINE).argmax(1, keepdim=True))[:, 0]
    loss = torch.nn.functional.smooth_l1_loss(q.gather(1, torch.tensor(a).view(-1, 1))[:, 0], target)
    loss.backward()
    assert np.isclose(got, loss.item(), rtol=1e-14)
    assert np.allclose(grad, q.grad.numpy(), rtol=1e-14, atol=0)


@pytest.mark.parametrize("index", ["p.argmax(1).reshape(1, 5).T[:2]", "p[:2].argmax(dim=1, keepdim=True)",
                                   "p.argmax(1).reshape(5, 1)[:, [0, 0]]"])
def test_gather_refuses_an_argmax_that_does_not_cover_the_other_axes(index):
    """gather does not broadcast: an index smaller than the input outside dim takes a corner (PyTorch), which
    take_along would not; such an index stays refused."""
    with pytest.raises(JacValueError, match="index must be a constant array of integers"):
        api.evaluate(f"import torch\nq.gather(1, {index})", {"q": Q_NEXT, "p": Q_ONLINE})


def test_not_of_a_boolean_input_says_it_is_held_as_floats():
    """A key-padding mask bound as booleans is an input of --dtype floats: ~mask is refused saying so and what to
    write; mask == 0 gives PyTorch's answer of ~mask."""
    text = "import torch\n(s.masked_fill({}, -1e9)).softmax(-1)"
    s, mask = rng.standard_normal((2, 4)), np.array([[True, True, False, False], [True, True, True, False]])
    with pytest.raises(JacValueError, match="mask is an input, held as dtype= floats .* write mask == 0"):
        api.evaluate(text.format("~mask"), {"s": s, "mask": mask})
    expected = np.where(mask, s, -1e9)
    expected = np.exp(expected - expected.max(-1, keepdims=True))
    got = api.evaluate(text.format("mask == 0"), {"s": s, "mask": mask})
    assert np.allclose(got, expected / expected.sum(-1, keepdims=True), rtol=1e-14)
