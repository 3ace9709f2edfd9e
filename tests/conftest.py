"""What every test starts from, whatever ran before it in the process."""

from __future__ import annotations

import sys

import pytest


@pytest.fixture(autouse=True)
def _pytorch_validates_arguments():
    """PyTorch's ``torch.distributions`` check their arguments by default (validate_args), as a fresh process has
    it; ``torch.cond`` (torch._dynamo) switches that off for the whole process, so a test running it would make
    later parity tests compare jac's refusals with a PyTorch that no longer raises. Only where PyTorch is
    imported already (this imports nothing)."""
    torch = sys.modules.get("torch")
    if torch is None or not hasattr(torch, "distributions"):
        yield
        return
    torch.distributions.Distribution.set_default_validate_args(True)
    yield
