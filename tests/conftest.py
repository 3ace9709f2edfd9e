"""What every test starts from, whatever ran before it in the process."""

from __future__ import annotations

import sys

import pytest


@pytest.fixture(autouse=True)
def _pytorch_as_a_fresh_process():
    """PyTorch's ``torch.distributions`` check their arguments by default (validate_args), as a fresh process has
    it; ``torch.cond`` (torch._dynamo) switches that off for the whole process, so a test running it would make
    later parity tests compare jac's refusals with a PyTorch that no longer raises. And a test (or a probe it calls)
    that sets PyTorch's default dtype to float64 and leaves it made test_dtype16's float32 parity cases compare with
    a PyTorch computing in float64: the default is put back after each test (float32 where the test imported
    PyTorch first). Only where PyTorch is imported (this imports nothing)."""
    torch = sys.modules.get("torch")
    default = None
    if torch is not None and hasattr(torch, "distributions"):
        torch.distributions.Distribution.set_default_validate_args(True)
        default = torch.get_default_dtype()
    yield
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "set_default_dtype"):
        torch.set_default_dtype(default if default is not None else torch.float32)
