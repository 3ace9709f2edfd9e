"""Writes through a second name, a detached tensor or a view (session 54, lang/views.py, lang/nograd.py), without
PyTorch: ``F.relu(t, inplace=True)`` beside ``v = t[1:3]`` / ``u = t`` / ``v = t.detach()``, writes into a sort's
values, a gather's result or a constant that other names view, a function's write under ``no_grad`` followed by
another write, ``x[1:]`` beside ``t = x.clone()``. The value is the one every holder of the buffer reads after the
write, the derivative central differences of the same computation written without aliases (a write under
``no_grad``: its change held constant, as tests/test_nograd53.py holds it); the refusals say what and what to write
instead (tests/test_parity_alias54.py runs the same kinds against PyTorch itself)."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from test_nograd53 import central  # the same central differences (h = 1e-6)

X = np.array([0.3, -0.7, 1.2, 0.45])
HEAD = "import torch\nimport torch.nn.functional as F\n"




def relu(v):
    return np.maximum(v, 0)


def _relu_beside_a_slice(x):
    t = relu(x * 1.5 + 0.1)
    v = t[1:3]
    return t + np.r_[v, v] ** 2


def _relu_beside_an_alias(x):
    t = relu(x * 1.5 + 0.1)
    return t * t


def _relu_beside_a_view(x):
    t = relu(x * 1.5 + 0.1)
    return t * x + t.reshape(2, 2).T.reshape(-1) ** 3


def _leaky_assigned(x):
    t = x * 1.5 + 0.1
    t = np.where(t > 0, t, 0.2 * t)
    return t * 2 + np.r_[t[0:2], t[0:2]]


def _sorted_written(x):
    t = np.sort(x) * 2
    v = t[1:3]
    return t + np.r_[v, v] ** 2


def _gathered_written(x):
    t = x[[0, 2, 1, 3]] * x
    return t + t ** 2


def _constant_written(x):
    c = np.full(4, 0.5) * x
    v = c[1:3]
    return c + np.r_[v, v] ** 2


def _constant_view_written(x):
    c = np.full(4, 0.5)
    c[[0, 2]] = x[0:2]  # w = c.view(2, 2).T; w[0] = x[0:2] writes c's elements 0 and 2
    return c * x + c.reshape(2, 2).reshape(-1)


def _strided_constant(x):
    c = np.arange(4.0)
    c[::2] *= x[1:3]
    return c * x + np.r_[c[::2], c[::2]]


def _clone_slice(x):
    t = x.copy()
    t[1:] *= x[1:]
    return t * x


def _clone_transposed(x):
    return x * x * x


def _sorted_transposed_exp(x):
    t = np.exp(np.sort(x))
    return t * t


CASES = [
    ("t = x * 1.5 + 0.1\nv = t[1:3]\nF.relu(t, inplace=True)\nt + torch.cat([v, v]) ** 2", _relu_beside_a_slice),
    ("t = x * 1.5 + 0.1\nv = t\nF.relu(t, inplace=True)\nt * v", _relu_beside_an_alias),
    ("t = x * 1.5 + 0.1\nv = t.view(2, 2)\ntorch.relu_(t)\nt * x + v.T.reshape(-1) ** 3", _relu_beside_a_view),
    ("t = x * 1.5 + 0.1\nact = torch.nn.ReLU(inplace=True)\nu = t\nact(t)\nt * u", _relu_beside_an_alias),
    ("t = x * 1.5 + 0.1\nv = t[0:2]\nu = F.leaky_relu(t, 0.2, inplace=True)\nu * 2 + torch.cat([v, v])",
     _leaky_assigned),
    ("t = x.sort()[0]\nv = t[1:3]\nt.mul_(2)\nt + torch.cat([v, v]) ** 2", _sorted_written),
    ("t = x[[0, 2, 1, 3]] * 1\nu = t.T\nt.mul_(x)\nt + u ** 2", _gathered_written),
    ("c = torch.zeros(4) + 0.5\nv = c[1:3]\nc.mul_(x)\nc + torch.cat([v, v]) ** 2", _constant_written),
    ("c = torch.zeros(4) + 0.5\nv = c.view(2, 2)\nw = v.T\nw[0] = x[0:2]\nc * x + v.reshape(-1)",
     _constant_view_written),
    ("c = torch.arange(4.0)\nv = c[::2]\nv.mul_(x[1:3])\nc * x + torch.cat([v, v])", _strided_constant),
    ("t = x.clone()\nt[1:].mul_(x[1:])\nt * x", _clone_slice),
    ("t = x.clone()\nt.T.mul_(x)\nt * x", _clone_transposed),
    ("t = x.sort()[0]\nv = t.T\nt.T.exp_()\nt * v", _sorted_transposed_exp),
]


@pytest.mark.parametrize("text,f", CASES, ids=[" ".join(c[0].split())[:60] for c in CASES])
def test_every_holder_reads_the_write_and_the_derivative_is_central_differences(text, f):
    code = HEAD + text
    np.testing.assert_allclose(api.evaluate(code, {"x": X}), f(X), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(api.jacobian(code, {"x": X})["x"], central(f, X), rtol=1e-6, atol=1e-8)


def held(old, write, out):
    """The text's function with the write's change held at its value at X (PyTorch records no write under no_grad):
    out(t(x) + (write(t(X)) - t(X)), x)."""
    change = write(old(X)) - old(X)
    return lambda x: out(old(x) + change, x)


NOGRAD = [  # (text after t = x * 1.5 + 0.1, the writes on t's values, the output of t (as every name reads it) and x)
    ("v = t.view(2, 2)\nwith torch.no_grad():\n    F.relu(t, inplace=True)\n    t.mul_(3)\nt * x + v.reshape(-1) ** 2",
     lambda t: relu(t) * 3, lambda t, x: t * x + t ** 2),
    ("v = t.detach()\nwith torch.no_grad():\n    torch.relu_(t)\n    t.add_(1)\nt ** 2 + v",
     lambda t: relu(t) + 1, lambda t, x: t ** 2 + (relu(X * 1.5 + 0.1) + 1)),  # v: the new values, no derivative
    ("v = t[1:3]\nwith torch.no_grad():\n    u = F.relu(t, inplace=True)\n    u.mul_(2)\nt * x + torch.cat([v, v])",
     lambda t: relu(t) * 2, lambda t, x: t * x + np.r_[t[1:3], t[1:3]]),
    ("def g(s):\n    s.div_(3)\n    return s\nv = t.view(2, 2)\nwith torch.no_grad():\n    g(t)\n    t.sub_(0.5)\n"
     "t * x + v.reshape(-1) ** 2", lambda t: t / 3 - 0.5, lambda t, x: t * x + t ** 2),
]


@pytest.mark.parametrize("text,write,out", NOGRAD, ids=[" ".join(c[0].split())[:60] for c in NOGRAD])
def test_a_write_under_no_grad_keeps_the_views_one_buffer_for_the_next_write(text, write, out):
    code = HEAD + "t = x * 1.5 + 0.1\n" + text
    f = held(lambda x: x * 1.5 + 0.1, write, out)
    np.testing.assert_allclose(api.evaluate(code, {"x": X}), f(X), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(api.jacobian(code, {"x": X})["x"], central(f, X), rtol=1e-6, atol=1e-8)


def test_a_constant_written_under_no_grad_then_again_stays_one_buffer():
    code = HEAD + ("c = torch.zeros(4) + 0.5\nv = c[0:2]\nwith torch.no_grad():\n    c += 1\n    c.tanh_()\n"
                   "c * x + torch.cat([v, v])")
    c = np.tanh(np.full(4, 1.5))
    np.testing.assert_allclose(api.evaluate(code, {"x": X}), c * X + c, rtol=1e-12)
    np.testing.assert_allclose(api.jacobian(code, {"x": X})["x"], np.diag(c), rtol=1e-12)


def test_hessian_vjp_and_jvp_read_the_write_through_the_view():
    code = HEAD + "t = x * x\nv = t[1:3]\nF.relu(t, inplace=True)\n(t ** 3).sum() + (torch.cat([v, v]) * x).sum()"

    def f(x):
        t = relu(x * x)
        return (t ** 3).sum() + (np.r_[t[1:3], t[1:3]] * x).sum()
    grad = central(f, X)
    np.testing.assert_allclose(api.vjp(code, {"x": X}, v=np.array(1.0))["x"], grad, rtol=1e-6, atol=1e-8)
    tangent = np.array([0.1, 0.2, -0.3, 0.4])
    np.testing.assert_allclose(api.jvp(code, {"x": X}, tangents={"x": tangent}), grad @ tangent, rtol=1e-6)
    hessian = central(lambda x: central(f, x, 1e-4), X, 1e-4)
    np.testing.assert_allclose(api.hessian(code, {"x": X})[("x", "x")], hessian, rtol=1e-4, atol=1e-5)


def refused(text: str) -> str:
    with pytest.raises(JacError) as err:
        api.jacobian(HEAD + text, {"x": X})
    return err.value.message


def test_a_write_into_a_saved_tensor_behind_an_op_of_derivative_zero_is_refused_as_pytorchs_backward_raises():
    says = refused("t = torch.exp(x)\nt.sign_()\nt.add_(1)\nt * x")  # SignBackward0 leads to exp's saved result
    assert "modified by an inplace operation" in says and "exp saved 't'" in says
    assert "modified by an inplace operation" in refused("t = x * 2\nv = t[1:3]\nF.relu(t, inplace=True)\n"
                                                         "t.round_()\nt + torch.cat([v, v])")
    code = HEAD + "t = torch.exp(x)\nt2 = t.long()\nt.add_(1)\nt2 * x"  # an integer result: no graph, answered
    np.testing.assert_allclose(api.jacobian(code, {"x": X})["x"], np.diag(np.exp(X).astype(np.int64)))


def test_a_function_writing_shape_and_values_under_no_grad_is_refused_saying_so():
    says = refused("def g(s):\n    s.unsqueeze_(0)\n    s.mul_(2)\n    return s\nt = x * 1.5 + 0.1\n"
                   "with torch.no_grad():\n    g(t)\nt")
    assert "changes both the shape of 't'" in says and "(4,) to (1, 4)" in says and "straight_through" not in says


def test_view_without_a_shape_is_pytorchs_type_error_and_numpys_array():
    says = refused("t = x.exp()\nv = t.view()\nv.relu_()\n(t * x).sum()")
    assert "view() received an invalid combination of arguments" in says and "t.view(-1)" in says
    with pytest.raises(JacError, match="view\\(\\) received"):  # no library named, t.relu_() PyTorch's alone
        api.jacobian("t = x.exp()\nv = t.view()\nv.relu_()\nt * x", {"x": X})
    code = "import numpy as np\ny = x.view()\ny * 2"  # NumPy's a.view() is the array, as before
    np.testing.assert_allclose(api.evaluate(code, {"x": X}), 2 * X)
