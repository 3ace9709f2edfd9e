"""Session 48 (lead): a text ending in a name that is another name's very value is called by its last name.

``t2 = x * 2; t3 = t2.cpu(); t3`` (``t2.cpu() is t2`` in PyTorch) and ``t3 = t2; t3`` hold one node, made under the
name ``t2``; the output was printed as ``t2 = value``, ``∂t2/∂x``, and ``--v t3=...`` was refused ("the output is
named t2"), though the text ends with ``t3``. It is now called ``t3``, as ``(t3,)`` calls it.
"""
from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app

RUN = CliRunner()


def jac(*args: str):
    result = RUN.invoke(app, list(args))
    return result.exit_code, result.stdout


@pytest.mark.parametrize("alias", ["t2", "t2.cpu()", "torch.as_tensor(t2)", "+t2", "t2.to('cpu')"])
def test_the_output_is_called_by_the_last_name(alias):
    code, out = jac("eval", f"import torch\nt2 = x * 2\nt3 = {alias}\nt3", "x=[1, 2]", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["output"]["name"] == "t3"
    assert doc["jacobian"]["x"]["legend"].startswith("J[i, j] = ∂t3[i]")
    code, text = jac("eval", f"import torch\nt2 = x * 2\nt3 = {alias}\nt3", "x=[1, 2]")
    assert "t3 = value" in text and "t2 = value" not in text


def test_v_takes_the_last_name():
    code, out = jac("vjp", "t2 = x * 2\nt3 = t2\nt3", "x=[1, 2]", "--v", "t3=[1, 3]", "--json")
    assert code == 0
    assert json.loads(out)["vjp"]["x"]["value"] == [2.0, 6.0]
    code, _ = jac("vjp", "t2 = x * 2\nt3 = t2\nt3", "x=[1, 2]", "--v", "t2=[1, 3]", "--json")
    assert code == 2


@pytest.mark.parametrize("text, name", [("y = x\ny", "y"),            # an input under another name
                                        ("x = x * 2\nx", "y"),        # the input's own name: not ∂x/∂x
                                        ("t2 = x * 2\nt2", "t2"),     # the node's own name
                                        ("x * 2", "y"),               # no name at all
                                        ("pi", "y"),                  # a library's constant: the short reader's y
                                        ("c = pi\nc", "c")])
def test_other_endings_keep_their_names(text, name):
    code, out = jac("eval", text, "x=[1, 2]", "--json")
    assert code == 0
    assert json.loads(out)["output"]["name"] == name
