"""The lead's changes of session 51 (see CHANGELOG.md, "Fifty-first session")."""
from __future__ import annotations

import json

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


# --- a norm's or nn.PReLU's device= and dtype= (session 51) --------------------------------------------------------
# ``nn.LayerNorm(4, dtype=torch.float64)`` was refused ("got an unexpected keyword argument 'dtype'"): PyTorch's
# modules with parameters all take the factory arguments device= and dtype=. They are read as the layers' are: the
# CPU, a float dtype (kept, so that a float32 input to a float64 norm is PyTorch's error, as for nn.Linear).

A24 = np.array([[0.3, -1.2, 2.0, 0.7], [1.1, 0.4, -0.6, 0.9]])

NORMS_PLACED = [
    "ln = nn.LayerNorm(4, dtype=torch.float64)\nln(A).sum() + (ln(A) ** 2)[0, 1]",
    "ln = nn.LayerNorm(4, 1e-5, True, True, 'cpu', torch.float64)\n(ln(A) * A).sum()",
    "ln = nn.LayerNorm(4, device=torch.device('cpu'), dtype=torch.double)\n(ln(A) ** 3).sum()",
    "bn = nn.BatchNorm1d(4, dtype=torch.float64)\n(bn(A) ** 3).sum()",
    "gn = nn.GroupNorm(2, 4, dtype=torch.float64)\n(gn(A) ** 3).sum()",
    "rn = nn.RMSNorm(4, dtype=torch.float64)\n(rn(A) ** 3).sum()",
    "nn.InstanceNorm1d(2, device='cpu', dtype=torch.float64)(A[None] ** 3).sum()",
    "pr = nn.PReLU(dtype=torch.float64)\npr(A - 0.5).sum()",
    "nn.PReLU(4, 0.1, 'cpu', torch.float64)(A - 0.5).pow(2).sum()",
]


@pytest.mark.parametrize("text", NORMS_PLACED)
def test_a_norms_factory_arguments_are_read_as_pytorch_reads_them(text):
    import torch

    from jacobi_cli.tools import api

    header = "import torch\nimport torch.nn as nn\n"

    def f(a):
        env = {"torch": torch, "nn": torch.nn, "A": a}
        lines = (header + text).split("\n")
        exec("\n".join(lines[:-1]), env)  # noqa: S102 - the test's own program
        return eval(lines[-1], env)  # noqa: S307

    want = torch.autograd.functional.jacobian(f, torch.tensor(A24)).numpy()
    got = api.jacobian(header + text, {"A": A24}, wrt=["A"])["A"]
    assert np.allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("text, message", [
    ("nn.LayerNorm(4, device='cuda')(A).sum()", "'cuda'"),
    ("nn.GroupNorm(2, 4, dtype=torch.int64)(A).sum()", r"nn.GroupNorm\(dtype=...\) takes a float dtype"),
    ("nn.BatchNorm1d(4, dtype=torch.float16)(A).sum()", r"not in float16: drop dtype="),
    ("nn.PReLU(1, 0.25, 'cpu', torch.float64, 3)(A).sum()", "unexpected|takes|positional|arguments"),
    ("ln = nn.LayerNorm(4, dtype=torch.float64)\nln(A.float()).sum()", r"mixed dtype \(CPU\)"),
    ("gn = nn.GroupNorm(2, 4)\ngn(A.double()).sum()", r"float32 \(PyTorch's default dtype\).*mixed dtype"),
    ("pr = nn.PReLU(dtype=torch.float64)\npr(A.float()).sum()", "Type promoting not supported"),
])
def test_a_norms_factory_arguments_jac_cannot_read_are_refused(text, message):
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api

    with pytest.raises(JacError, match=message):
        api.jacobian("import torch\nimport torch.nn as nn\n" + text, {"A": A24})


def test_rms_norm_promotes_a_float32_input_to_its_float64_weight_as_pytorch_does():
    """Where the other norms raise "mixed dtype (CPU)", torch.rms_norm computes in its input's dtype: answered, the
    float32 warned of (kind dtype), as every float32 jac computes in float64."""
    import torch

    from jacobi_cli.tools import api

    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app

    rn = torch.nn.RMSNorm(4, dtype=torch.float64)
    assert rn(torch.tensor(A24, dtype=torch.float32)).dtype == torch.float32  # computed in the input's dtype
    result = CliRunner().invoke(app, ["eval", "import torch\nimport torch.nn as nn\nrn = nn.RMSNorm(4, dtype="
                                      "torch.float64)\n(rn(A.float()) ** 3).sum()", "A=[[0.3, -1.2, 2.0, 0.7]]",
                                      "--json"])
    assert result.exit_code == 0, result.stdout
    assert [w["kind"] for w in json.loads(result.stdout)["warnings"]] == ["dtype"]


# --- vjp of a batch without --v: the message gives v's batched shape (session 51) ----------------------------------
# `jac vjp "x * W" x:3x2 W:2 --batch x` said "a vector v of that shape ((2,)) is needed"; a v of shape (2,) is then
# refused: under --batch it carries the batch axis first, (3, 2).

@pytest.mark.parametrize("expr, says", [
    ("x * W", "the output y has shape (2,) per example, so a vector v is needed: pass --v VALUE of shape (3, 2)"),
    ("x * W, (W ** 2).sum()", "output y0 has shape (2,) per example, so it needs a vector: pass --v y0=VALUE of "
                              "shape (3, 2)"),
])
def test_a_batched_vjp_without_v_names_the_batched_shape(expr, says):
    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app

    result = CliRunner().invoke(app, ["vjp", expr, "x:3x2", "W:2", "--batch", "x", "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["message"].startswith(says)
