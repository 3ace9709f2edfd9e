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
    a PyTorch computing in float64: every test starts from a fresh process's float32, and it is put back after
    each (session 57: a test file setting float64 at import, while pytest collected it, changed it for every test
    run after, and a restore to the value before each test kept that). Only where PyTorch is imported (this
    imports nothing)."""
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "distributions"):
        torch.distributions.Distribution.set_default_validate_args(True)
    if torch is not None and hasattr(torch, "set_default_dtype"):
        torch.set_default_dtype(torch.float32)
    yield
    torch = sys.modules.get("torch")
    if torch is not None and hasattr(torch, "set_default_dtype"):
        torch.set_default_dtype(torch.float32)


@pytest.fixture
def torch_float64():
    """PyTorch's constructors in float64 for one test (``pytestmark = pytest.mark.usefixtures("torch_float64")`` for a
    file's), as jac's default dtype: a file setting it at import changed it for every test collected after it."""
    torch = pytest.importorskip("torch")
    torch.set_default_dtype(torch.float64)
    yield torch
    torch.set_default_dtype(torch.float32)
