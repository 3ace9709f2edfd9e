"""The lead's changes of session 51 (see CHANGELOG.md, "Fifty-first session")."""
from __future__ import annotations

import numpy as np
import pytest

X4 = np.array([0.62, 0.11, 0.93, 0.37])


def _torch_program(text, x):
    """Run the PyTorch program ``text`` (statements, then the output's expression on its last line) at ``x``."""
    import torch

    env = {"torch": torch, "F": torch.nn.functional, "x": x}
    lines = text.split("\n")
    exec("\n".join(lines[:-1]), env)  # noqa: S102 - the test's own program
    return eval(lines[-1], env)  # noqa: S307


def _torch_raises(text):
    import torch

    try:
        _torch_program(text, torch.tensor(X4, requires_grad=True)).sum().backward()
    except RuntimeError as err:
        assert "modified by an inplace operation" in str(err)
        return True
    return False


# --- an operand PyTorch copies, kept by an in-place op, is a buffer of its own (session 51) -----------------------
# ``t1.mul_(t3.flip(0))`` then ``t3.add_(1)``: PyTorch's flip makes a new tensor, so its backward reads the kept
# copy and answers. jac refused it as a write into what mul_ kept, because its test of "a copy" knew only
# ``h.clone()`` / ``torch.clone(h)``; it now asks the question its assignments ask (lang/copies.py).

COPIED_OPERANDS = [
    "t1 = x * 2\nt3 = x * 3\nt1.mul_(t3.flip(0))\nt3.add_(1)\nt1",
    "t1 = x * 2\nt3 = x * 3\nt1.mul_(torch.flip(t3, [0]))\nt3.add_(1)\nt1",
    "t1 = x * 2\nt3 = x * 3\nt1.mul_(t3.roll(1))\nt3.add_(1)\nt1",
    "t1 = x * 2\nt3 = x * 3\nt1.mul_(t3[[0, 1, 2, 3]])\nt3.add_(1)\nt1",
    "t1 = x * 2\nt3 = x * 3\nt1.mul_(torch.cat([t3]))\nt3.add_(1)\nt1",
    "t1 = x * 2\nt3 = x * 3\nt1.mul_(t3.clone().detach())\nt3.add_(1)\nt1",
    "t1 = x * 2\nt3 = x * 3\nt1.mul_(t3.clone()[1:2])\nt3.add_(1)\nt1",
    "t1 = x * 2\nt3 = x * 3\nt1.addcmul_(t3.flip(0), t3.flip(0))\nt3.add_(1)\nt1",
    "t1 = x * 2\nt3 = x * 3\nt1.div_(t3.roll(2))\nt3[0] = 1.0\nt1",
]
# beside them, operands that share t3's buffer: PyTorch raises, and so does jac
SHARED_OPERANDS = [
    "t1 = x * 2\nt3 = x * 3\nt1.mul_(t3.detach())\nt3.add_(1)\nt1",
    "t1 = x * 2\nt3 = x * 3\nt1.mul_(t3.view(4))\nt3.add_(1)\nt1",
    "t1 = x * 2\nt3 = x * 3\nt1.mul_(t3.reshape(4))\nt3.add_(1)\nt1",
    "t1 = x * 2\nt3 = x * 3\nt1.mul_(t3.contiguous())\nt3.add_(1)\nt1",
    "t1 = x * 2\nt3 = x * 3\nt1.mul_(t3.double())\nt3.add_(1)\nt1",
    "t1 = x * 2\nt3 = x * 3\nt1.mul_(t3[1:2])\nt3.add_(1)\nt1",
    "t1 = x * 2\nt3 = x * 3\nt1.addcmul_(t3.clone(), t3)\nt3.add_(1)\nt1",
]


@pytest.mark.parametrize("text", COPIED_OPERANDS)
def test_an_operand_pytorch_copies_is_not_reached_by_a_later_write(text):
    import torch

    from jacobi_cli.tools import api

    assert not _torch_raises(text)
    want = torch.autograd.functional.jacobian(lambda x: _torch_program(text, x), torch.tensor(X4))
    assert np.allclose(api.jacobian(text, {"x": X4})["x"], want.numpy(), rtol=1e-12, atol=0)


@pytest.mark.parametrize("text", SHARED_OPERANDS)
def test_an_operand_sharing_the_written_buffer_stays_refused(text):
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api

    assert _torch_raises(text)
    with pytest.raises(JacError, match="modified by an inplace operation"):
        api.jacobian(text, {"x": X4})
