"""The grad modes a 'with' statement sets, beside ``torch.no_grad()`` (session 53): ``torch.set_grad_enabled(False)``
and ``torch.autograd.no_grad()`` are no_grad; ``torch.inference_mode()`` is no_grad whose results are inference
tensors (refused where PyTorch saves one for backward, lang/inference.py); ``torch.enable_grad()`` /
``set_grad_enabled(True)`` / ``inference_mode(False)`` change nothing where gradients are on, and are refused inside
a region where they are off. Each was refused as a 'with' statement."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from test_parity_grad24 import torch64  # noqa: F401 - the fixture is used by name

X = np.array([1.0, 2.0, -0.5])
OFF = ["torch.no_grad()", "torch.set_grad_enabled(False)", "torch.autograd.no_grad()",
       "torch.autograd.set_grad_enabled(False)"]
ON = ["torch.enable_grad()", "torch.set_grad_enabled(True)", "torch.inference_mode(False)"]


def text(mode: str, body: str = "    c = x2.sum()\n", out: str = "(x2 * c).sum()") -> str:
    return f"import torch\nx2 = torch.sin(x) * 2\nwith {mode}:\n{body}{out}"


@pytest.mark.parametrize("mode", OFF + ON)
def test_a_grad_mode_block_is_pytorchs(mode):
    x2 = np.sin(X) * 2
    c = x2.sum()
    slope = 2 * np.cos(X) * c + (mode in ON) * 2 * np.cos(X) * x2.sum()  # c a constant where gradients are off
    np.testing.assert_allclose(api.jacobian(text(mode), {"x": X})["x"], slope, rtol=1e-14)
    np.testing.assert_allclose(api.evaluate(text(mode), {"x": X}), (x2 * c).sum(), rtol=1e-15)


def test_inference_modes_results_are_inference_tensors():
    with pytest.raises(JacError, match="Inference tensors cannot be saved for backward"):
        api.jacobian(text("torch.inference_mode()"), {"x": X})
    x2 = np.sin(X) * 2  # a + reads it without saving it, as PyTorch allows
    found = api.jacobian(text("torch.inference_mode()", out="(x2 + c).sum()"), {"x": X})["x"]
    np.testing.assert_allclose(found, 2 * np.cos(X), rtol=1e-15)
    cloned = api.jacobian(text("torch.inference_mode()", out="(x2 * c.clone()).sum()"), {"x": X})["x"]
    np.testing.assert_allclose(cloned, 2 * np.cos(X) * x2.sum(), rtol=1e-14)


def test_enable_grad_inside_no_grad_is_refused():
    body = "    with torch.enable_grad():\n        c = x2.sum()\n"
    with pytest.raises(JacError, match="where gradients are off"):
        api.jacobian(text("torch.no_grad()", body), {"x": X})


def test_a_write_in_place_under_set_grad_enabled_false_keeps_the_old_derivative():
    """lang/nograd.py's reading under the other spellings of no_grad: the value new, the derivative the old graph's."""
    found = api.jacobian(text("torch.set_grad_enabled(False)", "    x2.mul_(3)\n", "(x2 * x2).sum()"), {"x": X})
    x2 = np.sin(X) * 6
    np.testing.assert_allclose(found["x"], 2 * x2 * 2 * np.cos(X), rtol=1e-14)


@pytest.mark.parametrize("mode", OFF + ON + ["torch.inference_mode()"])
@pytest.mark.parametrize("out", ["(x2 * c).sum()", "(x2 + c).sum()"])
def test_against_pytorch(torch64, mode, out):
    assert_as_pytorch(torch64, text(mode, out=f"y = {out}"), text(mode, out=out))


def assert_as_pytorch(torch, torch_text: str, jac_text: str):
    """PyTorch's gradient of ``torch_text``'s y by x at X is jac's Jacobian of ``jac_text``, or both refuse an
    inference tensor saved for backward (shared with tests/test_left54.py)."""
    t = torch.tensor(X, requires_grad=True)
    env = {"torch": torch, "x": t}
    try:
        exec(torch_text, env)  # noqa: S102 - the test's own text, under PyTorch
        (want,) = torch.autograd.grad(env["y"], t)
    except RuntimeError as err:
        assert "Inference tensors cannot be saved for backward" in str(err)
        with pytest.raises(JacError, match="Inference tensors cannot be saved for backward"):
            api.jacobian(jac_text, {"x": X})
        return
    np.testing.assert_allclose(api.jacobian(jac_text, {"x": X})["x"], want.numpy(), rtol=1e-14)
