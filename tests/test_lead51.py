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


# --- a tuple display of a number and an array is Python's tuple (session 51) -----------------------------------
# ``jax.lax.while_loop(cond, body, (0, jnp.ones(3)))`` and ``t = (0, np.ones(2))`` were refused with "a nested list
# must be rectangular": jac read the display as one array of constants. It is a tuple of two leaves; what makes one
# array of it (np.array, np.sum, torch.tensor, stack) still refuses it, as NumPy and PyTorch do. The while_loop's
# first carry is now read as fori_loop's and scan's are (a display a pytree).

WHILE_CARRIES = [
    "jax.lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * x), (0, jnp.ones(2)))[1]",
    "jax.lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1.0, (c[1][0] * x, c[1][1] + jnp.sin(x))), "
    "(0.0, (jnp.ones(2), jnp.zeros(2))))[1][1]",
    "jax.lax.fori_loop(0, 3, lambda i, c: (c[0] + 1, c[1] * x), (0, jnp.ones(2)))[1]",
]


@pytest.mark.parametrize("text", WHILE_CARRIES)
def test_a_loops_carry_of_a_number_and_an_array_is_answered_as_jax_does(text):
    import jax
    import jax.numpy as jnp

    from jacobi_cli.tools import api

    jax.config.update("jax_enable_x64", True)  # as tests/test_bounds45.py
    x = np.array([0.7, -1.3])

    def f(v):
        out = eval(text, {"jax": jax, "jnp": jnp, "x": v})  # noqa: S307 - the test's own text
        return jnp.concatenate([jnp.ravel(o) for o in jax.tree_util.tree_leaves(out)])
    want = np.asarray(jax.jacfwd(f)(jnp.asarray(x)))
    got = api.jacobian(text, {"x": x})
    assert np.allclose(np.asarray(got["x"]).reshape(want.shape), want, rtol=1e-12, atol=0)


@pytest.mark.parametrize("text, message", [
    ("import numpy as np\nt = (0, np.ones(2))\nt[1] * x", None),
    ("import numpy as np\nnp.array((0, np.ones(2))) * x", "shapes \\(\\), \\(2,\\)"),
    ("import numpy as np\nnp.sum((0, np.ones(2))) * x", "shapes \\(\\), \\(2,\\)"),
    ("import numpy as np\nx * (0, np.ones(2))", "arithmetic on a list or tuple of arrays"),
    ("import torch\ntorch.tensor((0, torch.ones(2))) * x", "only one element tensors"),
])
def test_a_tuple_of_a_number_and_an_array_is_one_array_nowhere(text, message):
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api

    x = np.array([0.7, -1.3])
    if message is None:
        assert np.array_equal(api.jacobian(text, {"x": x})["x"], np.eye(2))
    else:
        with pytest.raises(JacError, match=message):
            api.jacobian(text, {"x": x})


# --- Barlow Twins' loss, as its authors wrote it (session 51) -------------------------------------------------------
# ``on_diag = torch.diagonal(c).add_(-1).pow_(2).sum()`` writes into c's diagonal, and ``off_diagonal(c).pow_(2)``
# into a copy (a flatten of a non-contiguous view, inside a function). jac refused both: c = z1n.T @ z2n had no
# layout jac knew (a product's operands' layouts were asked, though a matrix product is a fresh tensor whatever they
# are), and a reshape that copies was walked through as a view of c. A statement ``f(c).mul_(2)`` was "never used"
# where PyTorch writes through the view f returns.

BARLOW = """import torch
def off_diagonal(x):
    n, m = x.shape
    return x.flatten()[:-1].view(n - 1, n + 1)[:, 1:].flatten()

N, D = z1.shape
z1n = (z1 - z1.mean(0)) / z1.std(0)
z2n = (z2 - z2.mean(0)) / z2.std(0)
c = z1n.T @ z2n / N
on_diag = torch.diagonal(c).add_(-1).pow_(2).sum()
off_diag = off_diagonal(c).pow_(2).sum()
on_diag + 0.005 * off_diag"""

WRITES_THROUGH_CALLS = [
    BARLOW,
    "import torch\ndef f(t):\n    return t[1:]\nc = z1 * 2\nf(c).mul_(2)\nc",
    "import torch\ndef f(t):\n    return t * 3\nc = z1 * 2\nf(c).mul_(2)\nc",  # a fresh tensor: nothing changes
    "import torch\nc = z1.T @ (z2 - z2.mean(0))\ntorch.diagonal(c).sub_(1)\nc.sum() + (c ** 2).sum()",
    "import torch\nc = z1 * 2\nd = c[1:]\n_ = c[:2].reshape(-1).mul_(2)\nd",
    "import torch\nc = (z1 * 2).T\ne = c.flatten()\ne.mul_(2)\nc.sum() + e.sum()",  # flatten of c.T copies
]


def _torch_value(text, **arrays):
    import torch

    env = {"torch": torch, **arrays}
    lines = text.split("\n")
    exec("\n".join(lines[:-1]), env)  # noqa: S102 - the test's own program
    return eval(lines[-1], env)  # noqa: S307


@pytest.mark.parametrize("text", WRITES_THROUGH_CALLS)
def test_writes_through_a_calls_result_are_read_as_pytorch_runs_them(text):
    import torch

    from jacobi_cli.tools import api

    rng = np.random.default_rng(51)
    z1, z2 = rng.standard_normal((6, 3)), rng.standard_normal((6, 3))
    want = torch.autograd.functional.jacobian(lambda a, b: _torch_value(text, z1=a, z2=b),
                                              (torch.tensor(z1), torch.tensor(z2)))
    got = api.jacobian(text, {"z1": z1, "z2": z2}, wrt=["z1", "z2"])
    assert np.allclose(got["z1"], want[0].numpy(), rtol=1e-10, atol=1e-12)
    assert np.allclose(got["z2"], want[1].numpy(), rtol=1e-10, atol=1e-12)


def test_a_write_into_a_temporary_view_jac_cannot_follow_says_how_to_copy_it():
    from jacobi_cli.errors import JacError
    from jacobi_cli.tools import api

    with pytest.raises(JacError) as err:  # a flip of two axes longer than 1: its layout is not one jac replays
        api.jacobian("import torch\nc = torch.flip(x[:, None] * x, [0])\ny = torch.diagonal(c).mul_(2).sum()\ny",
                     {"x": np.array([1.0, 2.0, 3.0])})
    assert str(err.value).startswith("torch.diagonal(c).mul_(...): torch.diagonal(c) shares its memory with 'c'")
    assert "write into a copy (torch.diagonal(c).clone().mul_(...)), or into 'c' itself" in str(err.value)
    # a cumsum of two axes (session 55, h55-layout: functions.RESULT_LAYOUTS) is a fresh contiguous tensor, whose
    # diagonal view jac follows: PyTorch 2.13's value and gradient
    text = "import torch\nc = torch.cumsum(x[:, None] * x, 0)\ny = torch.diagonal(c).mul_(2).sum()\ny"
    assert api.evaluate(text, {"x": np.array([1.0, 2.0, 3.0])}) == 50.0
    np.testing.assert_array_equal(api.jacobian(text, {"x": np.array([1.0, 2.0, 3.0])})["x"], [14.0, 16.0, 18.0])
    # of one axis longer than 1 (session 54, h54-alias) every layout is the contiguous one: PyTorch's answer, 2 by x[0]
    text = "import torch\nc = torch.cumsum(x, 0)\ny = torch.diagonal(c[None]).mul_(2).sum()\ny"
    assert api.evaluate(text, {"x": np.array([1.5, 2.0, 3.0])}) == 3.0
    np.testing.assert_array_equal(api.jacobian(text, {"x": np.array([1.5, 2.0, 3.0])})["x"], [2.0, 0.0, 0.0])
