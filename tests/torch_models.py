"""What the parity tests of PyTorch code with modules share (tests/test_parity_leaves23.py, test_parity_modules24.py,
test_parity_rnn24.py, test_parity_odds25.py): PyTorch's float64 default for a test, and the ``.grad`` PyTorch
leaves after running a text whose modules hold jac's parameter values."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest


@pytest.fixture
def float64():
    """PyTorch's default dtype float64 for one test (its modules' parameters are made in it)."""
    import torch

    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)


def pytorch_grads(setup: str, compute: str, declared: dict, inputs: dict) -> dict:
    """``{name: .grad}`` of every parameter and input after PyTorch runs ``setup``, then ``compute`` (which calls
    ``backward()``; what it prints is dropped) with ``inputs`` as tensors requiring grad. Every ``nn.Module`` that
    ``setup`` names holds its parameters (``named_parameters(prefix=its name)``) set to jac's values, ``declared``,
    which must name exactly those."""
    import torch

    scope = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional}
    exec(setup, scope)  # noqa: S102 - the test's own text, under PyTorch
    params = {}
    for name, value in list(scope.items()):
        if isinstance(value, torch.nn.Module) and not isinstance(value, type):
            params.update(value.named_parameters(prefix=name))
    assert set(params) == set(declared)
    with torch.no_grad():
        for key, p in params.items():
            p.copy_(torch.from_numpy(np.array(declared[key])))
    tensors = {k: torch.tensor(v, requires_grad=True) for k, v in inputs.items()}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compute, {**scope, **tensors})  # noqa: S102
    return {key: p.grad for key, p in {**params, **tensors}.items()}


def assert_grads_are_pytorchs(setup: str, compute: str, inputs: dict) -> None:
    """jac's Jacobian of ``loss`` by every input and parameter of the text ``setup``, ``compute``,
    ``loss.backward()`` is the ``.grad`` PyTorch leaves running it (:func:`pytorch_grads`; None read as zeros)."""
    from jacobi_cli.tools import api

    text = f"{setup}\n{compute}\nloss.backward()"
    f = api.compile(text, {k: ":" + "x".join(map(str, v.shape)) for k, v in inputs.items()})
    found = f.jacobian(inputs)
    for key, grad in pytorch_grads(setup, f"{compute}\nloss.backward()", f.declared, inputs).items():
        expected = np.zeros(found[key].shape) if grad is None else grad.numpy()
        np.testing.assert_allclose(found[key], expected, rtol=1e-11, atol=1e-13, err_msg=key)
