"""Parity with PyTorch 2.13 for session 29's running statistics on main: each text run by PyTorch (float64
modules) and by jac, the last statement's value and its Jacobian by x compared."""

import numpy as np
import pytest

from jacobi_cli.tools import api
from torch_models import float64  # noqa: F401 - a fixture

torch = pytest.importorskip("torch")

X = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 7.0], [-1.0, 0.5, 2.0]])
TEXTS = [
    "rm = torch.zeros(3); rv = torch.ones(3); y = F.batch_norm(x, rm, rv, training=True); rm",
    "rm = torch.zeros(3); rv = torch.ones(3); y = F.batch_norm(x, rm, rv, training=True); rv",
    "rm = torch.zeros(3); rv = torch.ones(3); y = F.batch_norm(x, rm, rv, training=True, momentum=0.3); "
    "F.batch_norm(x * 2, rm, rv)",
    "rm = torch.ones(3); rv = torch.ones(3) * 2; y = torch.batch_norm(x, None, None, rm, rv, True, 0.2, 1e-5, False); "
    "y * rm",
    "bn = nn.BatchNorm1d(3); y = bn(x); y = bn(x * x); bn.running_var",
    "bn = nn.BatchNorm1d(3); y = bn(x); bn.eval(); z = bn(x); z - bn.running_mean",
    "bn = nn.BatchNorm1d(3, momentum=None); y = bn(x); y = bn(x + 1); bn.running_mean * x",
    "bn = nn.InstanceNorm1d(3, track_running_stats=True); y = bn(x.unsqueeze(-1) * torch.arange(4.0)); "
    "bn.running_var",
]


def _torch(text, x):
    env = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional, "x": x}
    *statements, last = text.split("; ")
    for statement in statements:
        exec(statement, env)  # noqa: S102 - the test's own text
    return eval(last, env)  # noqa: S307


def _agrees(text, x):
    """The value and the Jacobian by x are PyTorch's."""
    value = api.evaluate(text, {"x": x})
    theirs = _torch(text, torch.tensor(x))
    np.testing.assert_allclose(value, theirs.detach().numpy(), rtol=1e-12, atol=1e-14)
    jac = torch.autograd.functional.jacobian(lambda t: _torch(text, t), torch.tensor(x))
    np.testing.assert_allclose(api.jacobian(text, {"x": x})["x"], jac.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("text", TEXTS)
def test_running_statistics_as_pytorch_moves_them(float64, text):  # noqa: F811
    _agrees(text, X)


INSTANCE = np.arange(24.0).reshape(2, 3, 4) ** 1.5
INSTANCE_TEXTS = [
    "rm = torch.zeros(3); rv = torch.ones(3); y = F.instance_norm(x, rm, rv, use_input_stats=True); rm",
    "rm = torch.zeros(3); rv = torch.ones(3); y = F.instance_norm(x, rm, rv, momentum=0.4); rv",
    "rm = torch.zeros(3); rv = torch.ones(3); y = F.instance_norm(x, rm, rv); F.instance_norm(x, rm, rv, "
    "use_input_stats=False)",
    "rm = torch.zeros(3); rv = torch.ones(3); y, m, s = torch.native_batch_norm(x, None, None, rm, rv, True, 0.1, "
    "1e-5); y * rv.reshape(3, 1)",
]


@pytest.mark.parametrize("text", INSTANCE_TEXTS)
def test_instance_norm_and_native_batch_norm_move_them_as_pytorch(float64, text):  # noqa: F811
    _agrees(text, INSTANCE)


TORCH_ALIASES = [  # a write seen through another name: PyTorch's value, or a refusal, never the value from before
    "a = torch.zeros(3, 3); d = torch.diagonal(a); a[0, 0] = 5.0; d + x[0]",
    "a = torch.zeros(3, 3); d = a.diagonal(); a[1, 1] += 2.0; d * x[1]",
    "a = torch.zeros(3); l = [a, a]; a[1] = 5.0; l[0] + x[0]",
    "a = torch.zeros(2, 3); r = a.unbind(0); a[0, 0] = 5.0; r[0] + x[0]",
    "a = torch.zeros(3); b = torch.tensor(a); b[0] = 1.0; a + b + x[0]",
    "a = torch.zeros(3); b = torch.as_tensor(a); b[0] = 1.0; a + x[0]",
]


@pytest.mark.parametrize("text", TORCH_ALIASES)
def test_a_write_seen_through_another_name_is_pytorchs_or_refused(float64, text):  # noqa: F811
    from jacobi_cli.errors import JacError

    theirs = _torch(text, torch.tensor(X))
    try:
        value = api.evaluate(text, {"x": X})
    except JacError as err:
        assert "shares its memory" in err.message and "torch.tensor(a)" not in text
        return
    np.testing.assert_array_equal(value, theirs.numpy())
