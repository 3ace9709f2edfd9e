"""Hostile input of session 54 (h54-hostile): what session 53 left (benchmarks/RESULTS.md, "Fifty-third session:
hostile input"). ``--timeout`` read Python's float (``1_0`` was 10 s, full-width ``５`` 5 s) where ``--max-memory``
refused those forms; ``--max-memory 1e308`` (bytes) was a budget while ``1e308G`` was "too large" without saying the bound; and a chain of
in-place writes into a parameter (``lin.weight.data.fill_(1.).add_(1.)``) said ".fill_() is not supported by jac"
where PyTorch writes each in turn."""

import json

import numpy as np
import pytest

from jacobi_cli.cli import entry
from jacobi_cli.engine import memory
from jacobi_cli.tools.bounded import parse_timeout
from test_parity_grad24 import torch64  # noqa: F401 - the fixture is used by name
from test_parity_setparams52 import assert_pytorchs

HEAD = "import torch\nimport torch.nn as nn\n"


def usage_error(argv: list, capsys) -> str:
    code = entry.main(argv + ["--json"])
    out, err = capsys.readouterr()
    assert code == 2, (out, err)
    error = json.loads(out)["error"]
    assert error["kind"] == "usage" and err.count("jac: error") == 1 and "Traceback" not in err
    return error["message"]


# Python's float() reads these; --max-memory never did: both options now read ASCII decimal digits alone
NOT_DECIMAL = ["1_0", "\uff15", "\u0665", "1\uff10", "0x10", "1__0", "\u00b2"]


@pytest.mark.parametrize("text", NOT_DECIMAL)
@pytest.mark.parametrize("command", [["eval", "sin(x)", "x:3"], ["diff", "x**2", "--wrt", "x"]])
def test_timeout_refuses_what_max_memory_refuses(text, command, capsys):
    message = usage_error(command + ["--timeout", text], capsys)
    assert f"--timeout {text!r} is not a number of seconds" in message
    message = usage_error(command + ["--max-memory", text], capsys)
    assert f"--max-memory {text!r} is not a size" in message


@pytest.mark.parametrize("text,seconds", [
    ("10", 10.0), (" 2.5 ", 2.5), ("1.", 1.0), (".5", 0.5), ("1e-300", 1e-300), ("+3", 3.0), ("2E1", 20.0),
    ("0", None), ("inf", None), ("Infinity", None), ("1e309", None), (str(10**30), None), (None, 30.0),
])
def test_timeout_still_reads_what_the_contract_says(text, seconds):
    assert parse_timeout(text) == seconds


@pytest.mark.parametrize("text", ["nan", "-1", "-inf", "-1e-9", "-0.5"])
def test_timeout_still_refuses_nan_and_negative(text, capsys):
    assert "give a number of seconds, 0 or more" in usage_error(["eval", "sin(x)", "x:3", "--timeout", text], capsys)


@pytest.mark.parametrize("text", ["1e308", "1e299G", "9" * 300, "1.5e293P"])
def test_a_size_a_float_holds_is_a_budget_with_or_without_a_unit(text, capsys):
    assert memory.budget(text) >= 10**300
    code = entry.main(["eval", "sin(x)", "x:3", "--max-memory", text, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["jacobian"]["x"]["shape"] == [3, 3]


@pytest.mark.parametrize("text", ["1e309", "1e308G", "1e400K", "9" * 400, "1.6e293P"])
def test_a_size_past_a_float_is_refused_saying_the_one_rule(text, capsys):
    """1e308 bytes was a budget and 1e308G "too large to be a size", which did not say why: the bound is the same
    with or without a unit (the largest float's bytes; tests/test_robustness.py: an infinite --max-memory is a
    usage error), and the message says it."""
    message = usage_error(["eval", "sin(x)", "x:3", "--max-memory", text], capsys)
    assert "is too large to be a size: a size is at most 1.798e+308 bytes" in message
    assert "1e308 and 1e299G are sizes, 1e308G is not" in message


@pytest.mark.parametrize("text,says", [
    ("1e-3G", 1073741), ("1.5G", 1610612736), ("2e3", 2000), ("1.", 1), ("512MiB", 512 * 2**20)])
def test_max_memory_reads_the_shared_digits(text, says):
    assert memory.budget(text) == says


@pytest.mark.parametrize("text,says", [
    ("-5M", "is negative"), ("-1", "is negative"), ("1e-300G", "less than one byte"), ("inf", "is not a size"),
    ("nan", "is not a size"), ("1.5", "not a whole number of bytes"), ("0", "at least 1 byte")])
def test_max_memory_still_refuses(text, says, capsys):
    assert says in usage_error(["eval", "sin(x)", "x:3", "--max-memory", text], capsys)


CHAINS = {
    "fill_ then add_ on .data (session 53's)": "lin = nn.Linear(3, 2)\nlin.weight.data.fill_(1.).add_(1.)\n"
    "lin.bias.data.zero_()\ny = torch.tanh(lin(x))",
    "three writes under no_grad": "lin = nn.Linear(3, 2)\nwith torch.no_grad():\n"
    "    lin.weight.fill_(2.).mul_(3.).sub_(1., alpha=2.)\n    lin.bias.copy_(torch.tensor([1., -1.])).div_(4.)\n"
    "y = lin(x) ** 2",
    "clamp_ after copy_": "lin = nn.Linear(3, 2, bias=False)\nwith torch.no_grad():\n"
    "    lin.weight.copy_(torch.tensor([[1., -2., 3.], [-4., 5., -6.]])).clamp_(-2., 2.).add_(0.5)\ny = lin(x)",
    "a Sequential's layer": "model = nn.Sequential(nn.Linear(3, 2), nn.Sigmoid())\n"
    "model[0].weight.data.zero_().add_(torch.tensor([[1., 0., 1.], [0., 2., 0.]]), alpha=0.5)\n"
    "model[0].bias.data.fill_(0.1).mul_(-1.)\ny = model(x).sum()",
}


@pytest.mark.parametrize("text", CHAINS.values(), ids=CHAINS.keys())
def test_a_chain_of_writes_is_pytorchs(torch64, text):
    assert_pytorchs(torch64, text)


def test_the_chains_values_each_write_in_turn():
    from jacobi_cli.tools import api

    text = HEAD + "lin = nn.Linear(3, 2, bias=False)\nlin.weight.data.fill_(1.).add_(1.).mul_(3.)\nlin(x)"
    np.testing.assert_array_equal(api.jacobian(text, {"x": np.ones(3)})["x"], np.full((2, 3), 6.0))


@pytest.mark.parametrize("text,says", [
    # outside no_grad and not on .data: PyTorch's own refusal of a leaf that requires grad, as for one write
    ("lin = nn.Linear(3, 2)\nlin.weight.fill_(1.).add_(1.)\nlin(x)", "lin.weight.fill_(...)"),
    # into part of the parameter: the refusal of one write, naming the first
    ("lin = nn.Linear(3, 2)\nlin.weight.data[0].fill_(1.).add_(1.)\nlin(x)", "lin.weight.data[0].fill_(...)"),
    ("lin = nn.Linear(3, 2)\nlin.weight.data.fill_(torch.ones(2)).add_(1.)\nlin(x)", ".fill_() takes a number"),
])
def test_a_chain_is_refused_as_its_writes_are(text, says, capsys):
    code = entry.main(["eval", HEAD + text, "x=[1., 2, 3]", "--json"])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert says in json.loads(out)["error"]["message"] and "Traceback" not in err


@pytest.mark.parametrize("text,says", [
    # it said ".requires_grad_() is read without arguments or with True": False is read, as a statement of its own
    ("lin = nn.Linear(3, 2)\nlin.weight.requires_grad_(False).mul_(2.)\nlin(x)",
     "lin.weight.requires_grad_(False) is read only as a statement of its own, not inside an expression or a chain"),
    ("w = torch.ones(3, requires_grad=True)\nz = w.requires_grad_(False)\nz * x",
     "write w.requires_grad_(False) on its own line"),
    ("lin = nn.Linear(3, 2)\nlin.weight.requires_grad_('no')\nlin(x)",
     "as a statement of its own on a leaf the text made, with False"),
])
def test_requires_grad_false_in_an_expression_says_how_it_is_read(text, says, capsys):
    code = entry.main(["eval", HEAD + text, "x=[1., 2, 3]", "--json"])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert says in json.loads(out)["error"]["message"] and "Traceback" not in err


@pytest.mark.parametrize("text,says", [
    # it said "sum() got argument 'axis' twice" (jac's name for dim) and "sum() got argument 'x' twice" (for input)
    ("torch.sum(x, 0, dim=0)", "sum() got multiple values for argument 'dim' (Python's TypeError): it is given twice, "
     "by position and by name"),
    ("torch.sum(x, input=x)", "sum() got multiple values for argument 'input'"),
    ("torch.softmax(x, 0, dim=0)", "softmax() got multiple values for argument 'dim'"),
])
def test_an_argument_given_twice_is_named_as_typed(text, says, capsys):
    code = entry.main(["eval", HEAD + text, "x=[1., 2, 3]", "--json"])
    out, err = capsys.readouterr()
    assert code == 2, err
    assert says in json.loads(out)["error"]["message"] and "Traceback" not in err


@pytest.mark.parametrize("text", [
    "np.fft.fft(x, n=2**63).real.sum()",  # exit 70 (IndexError: np.arange(2**63) is empty)
    "np.fft.fft(x, n=10**18).real.sum()",  # NumPy asked for the memory: "not enough memory"
    "np.fft.irfft(x, n=2**63).sum()",
    "torch.fft.rfft(x, n=2**62).real.sum()",
    "np.fft.fft(x, n=10**9).real.sum()",  # 8 GB past the 2 GiB an array may hold
])
def test_a_fourier_transform_too_long_is_refused_by_its_size(text, capsys):
    code = entry.main(["eval", "import numpy as np\n" + HEAD + text, "x=[0.5, -1.5, 2.0]", "--json"])
    out, err = capsys.readouterr()
    assert code == 2, err
    error = json.loads(out)["error"]
    assert error["kind"] == "limit" and "the Fourier transform of" in error["message"] and "Traceback" not in err


def test_a_fourier_transform_that_fits_still_answers():
    from jacobi_cli.tools import api

    x = np.array([0.5, -1.5, 2.0])
    np.testing.assert_allclose(api.evaluate("np.fft.fft(x, n=8192).real.sum()", {"x": x}),
                               np.fft.fft(x, n=8192).real.sum(), rtol=1e-12)
