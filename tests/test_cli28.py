"""Session 28's probes of the command line (benchmarks/cli28_sweep.py): what they found, pinned.

- a binding beyond float32's range (`x=1e39 --dtype float32`) printed NumPy's own RuntimeWarning (two raw lines
  naming numpy/_core/_asarray.py) beside jac's "holds inf" warning;
- `jac hessian` of a model without --wrt computed and printed one block per pair of its parameters (80 Linear
  layers: 25,921 blocks, 245,000 lines, 13 s); past HESSIAN_BLOCKS the text output is refused, naming --wrt and
  --json (which gives every block)."""

import json
import warnings

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.tools import report

runner = CliRunner()


def jac(*args):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning NumPy would print to stderr fails the command instead
        return runner.invoke(app, list(args))


@pytest.mark.parametrize("value", ["1e39", "-1e39", "[1e39, 1]", "2.0 ** 200", "[[1e39], [2]]"])
def test_a_binding_beyond_float32_is_inf_with_jacs_warning_alone(value):
    result = jac("eval", "x * 1", f"x={value}", "--dtype", "float32", "--json")
    assert result.exit_code == 0, (result.stdout, result.stderr)
    out = json.loads(result.stdout)
    sign = "-" if value.startswith("-") else ""
    assert f'"{sign}Infinity"' in json.dumps(out["output"]["value"])  # as torch.tensor(1e39, dtype=torch.float32)
    assert result.stderr.splitlines() == [  # why, since session 40
        f"jac: warning (nonfinite): the input 'x' holds {sign}inf (under --dtype float32 a number beyond "
        f"±3.4028235e+38, float32's largest, is held as inf, as PyTorch's float32 tensor holds it: use --dtype float64 "
        f"for such values)"]


def test_a_constant_beyond_float32_in_the_text_is_jacs_warning_alone():
    result = jac("eval", "x + [1e39]", "x=1", "--dtype", "float32")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[0] == "jac: warning (nonfinite): the constant at column 4 is inf"
    assert "RuntimeWarning" not in result.stderr


def net(layers: int) -> str:
    return f"net = nn.Sequential(*[nn.Linear(2, 2) for _ in range({layers})])\nnet(x).sum()"


def test_a_hessian_of_every_parameter_of_a_deep_model_printed_as_text_is_refused_naming_wrt():
    result = jac("hessian", net(40), "x=[1, 2]")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[0] == (
        "jac: error (limit): 81 inputs (80 of them parameters the text makes) make 6,561 Hessian blocks (one per pair "
        "of inputs), more than the 1,024 jac hessian prints without --wrt: name the inputs you want, e.g. --wrt x "
        "(each --wrt adds one; named inputs are not limited), or ask for --json (every block)")
    assert "Traceback" not in result.stderr and not result.stdout


def test_json_gives_every_block_as_a_scripts_data():
    result = jac("hessian", net(17), "x=[1, 2]", "--json")  # 35 inputs: 1,225 blocks, past the text's limit
    assert result.exit_code == 0, result.stderr
    blocks = json.loads(result.stdout)["hessian"]
    assert len(blocks) == 35 * 35
    assert np.array_equal(blocks["x,x"]["value"], np.zeros((2, 2)))  # the net is linear in x


def test_named_inputs_are_not_limited_and_give_the_same_blocks():
    names = ["x"] + [f"net.{i}.{p}" for i in range(40) for p in ("weight", "bias")]
    wrt = [a for n in names for a in ("--wrt", n)]
    result = jac("hessian", net(40), "x=[1, 2]", *wrt[:6], "--json")
    assert result.exit_code == 0, result.stderr
    blocks = json.loads(result.stdout)["hessian"]
    assert len(blocks) == 9
    assert np.array_equal(blocks["x,x"]["value"], np.zeros((2, 2)))  # the net is linear in x


def test_the_limit_counts_every_output_and_spares_a_model_under_it():
    assert report.HESSIAN_BLOCKS == 1024
    small = jac("hessian", net(15), "x=[1, 2]")  # 31 inputs: 961 blocks
    assert small.exit_code == 0, small.stderr
    text = "net = nn.Sequential(*[nn.Linear(2, 2) for _ in range(12)])\nu = net(x)\nu.sum(), (u ** 2).sum()"
    several = jac("hessian", text, "x=[1, 2]")  # 25 inputs, 625 blocks, twice
    assert several.exit_code == 2
    assert several.stderr.startswith(
        "jac: error (limit): 25 inputs (24 of them parameters the text makes) make 1,250 Hessian blocks (one per "
        "pair of inputs for each of the 2 outputs), more than the 1,024")


@pytest.mark.parametrize("value,shown", [
    ("[1e-9, -1e-12]", "[ 1.e-09 -1.e-12]"),  # printed [ 0. -0.]: a zero that is not one
    ("[3e-7, 0.0]", "[3.e-07 0.e+00]"),  # printed [0. 0.]
    ("[1e-9, -1.0]", "[ 1.e-09 -1.e+00]"),  # beside a larger element too (session 35: it printed [ 0. -1.])
    ("[1e-17, -1.0]", "[ 0. -1.]"),  # within 1000·eps of the largest: rounding noise, as an eigh's, prints as 0
    ("[5e-7, 0.0]", "[5.e-07 0.e+00]"),  # rounds to 0 at 6 decimals too
    ("[6e-7, 0.0]", "[0.000001 0.      ]"),
])
def test_an_array_whose_elements_all_print_as_zero_is_printed_in_scientific_notation(value, shown):
    result = jac("eval", "x * 1", f"x={value}")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[lines.index("y = value: vector, shape (2,)") + 1].strip() == shown


def test_a_tiny_jacobian_is_not_printed_as_zeros():
    result = jac("eval", "x * 1e-8", "x=[1, 2]")
    assert "[[1.e-08 0.e+00]" in result.stdout and "[0.e+00 1.e-08]]" in result.stdout
