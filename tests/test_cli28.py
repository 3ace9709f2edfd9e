"""Session 28's probes of the command line (benchmarks/cli28_sweep.py): what they found, pinned.

- a binding beyond float32's range (`x=1e39 --dtype float32`) printed NumPy's own RuntimeWarning (two raw lines
  naming numpy/_core/_asarray.py) beside jac's "holds inf" warning."""

import json
import warnings

import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app

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
    assert result.stderr.splitlines() == [f"jac: warning (nonfinite): the input 'x' holds {sign}inf"]


def test_a_constant_beyond_float32_in_the_text_is_jacs_warning_alone():
    result = jac("eval", "x + [1e39]", "x=1", "--dtype", "float32")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[0] == "jac: warning (nonfinite): the constant at column 4 is inf"
    assert "RuntimeWarning" not in result.stderr
