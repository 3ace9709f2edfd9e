"""Session 40, the lead's own changes: the expression given after its bindings is named in the refusal, with the
command in its order; jac check's conditioning allowance is capped (tests/test_linalg40.py holds those)."""

import json

import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app


@pytest.mark.parametrize("command", ["eval", "vjp", "hessian", "derivative", "shape", "graph", "diff", "check"])
def test_an_expression_after_its_binding_is_named_with_the_command_in_its_order(command):
    result = CliRunner().invoke(app, [command, "x=[1,2]", "sum(x * x)", "--json"])
    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == "usage"
    assert error["message"] == ("no expression given: 'x=[1,2]' is a binding of x, and the expression 'sum(x * x)' "
                                f"comes after it; the expression comes first, then the bindings: "
                                f"jac {command} 'sum(x * x)' 'x=[1,2]'")


def test_the_command_it_gives_runs():
    import shlex

    result = CliRunner().invoke(app, ["eval", "x:3", "sum(x)", "y=2", "--json"])
    command = json.loads(result.stdout)["error"]["message"].split("bindings: jac ")[1]
    again = CliRunner().invoke(app, shlex.split(command) + ["--json"])
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["output"]["shape"] == []


def test_only_bindings_keep_the_message_that_asks_for_an_expression():
    result = CliRunner().invoke(app, ["eval", "x=2", "y=1", "--json"])
    assert json.loads(result.stdout)["error"]["message"] == (
        "no expression given: 'x=2' is a binding of x; the expression comes first, then the bindings: jac eval EXPR x=2")
