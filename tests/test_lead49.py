"""Session 49 (lead): a derivative refused for its size points to ``--sparse`` only where the caller has it."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.errors import JacLimitError
from jacobi_cli.tools import api

ARGS = ["sin(x)", "x=ones(60)", "--order", "3", "--max-memory", "1M"]


def test_jac_derivative_offers_sparse_for_a_diagonal_derivative_past_the_budget():
    result = CliRunner().invoke(app, ["derivative", *ARGS])
    assert result.exit_code == 2
    assert "It is diagonal: --sparse gives its diagonal alone" in result.output
    result = CliRunner().invoke(app, ["derivative", *ARGS, "--sparse"])
    assert result.exit_code == 0, result.output


def test_the_api_which_has_no_sparse_keyword_says_what_it_can_change():
    with pytest.raises(JacLimitError) as caught:
        api.derivative("sin(x)", {"x": "ones(60)"}, order=3, max_memory="1M")
    message = str(caught.value)
    assert "sparse" not in message
    assert "Lower order=" in message and "raise max_memory=" in message


def test_a_suite_case_which_has_no_sparse_key_says_what_it_can_change(tmp_path):
    path = tmp_path / "big.toml"
    path.write_text('[[case]]\nname = "big"\nexpr = "sin(x)"\nbindings = { x = "ones(60)" }\n'
                    '[[case.derivative]]\norder = 3\nexpected = 0\n')
    result = CliRunner().invoke(app, ["run", str(path), "--max-memory", "1M", "--json"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)["cases"][0]["error"]
    assert error["kind"] == "limit" and error["key"] == "derivative[0]"
    assert "sparse" not in error["message"] and "raise --max-memory" in error["message"]
