"""What a newcomer pasting PyTorch / NumPy code meets (htrust11): last session's leftovers (computed integer
indices, the message of torch.var of integers, the sparse header's count, jac diff's unused bindings,
derivatives at special points) and a sweep of everyday snippets, each against PyTorch / NumPy."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from parity import assert_parity

torch = pytest.importorskip("torch")
F = torch.nn.functional
runner = CliRunner()


def T(a):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


# --- the message of a mean inside another function names the function written ---------------------

@pytest.mark.parametrize("expr,named", [("torch.var(x.long())", "torch.var"), ("torch.std(x.long())", "torch.std"),
                                        ("x.long().var(dim=0)", "torch.var"), ("torch.var_mean(x.long())",
                                                                               "torch.var_mean")])
def test_a_refused_mean_of_integers_names_the_function_written(expr, named):
    with pytest.raises(JacError) as err:
        api.evaluate(expr, {"x": np.array([1.0, 3.0, 2.0])})
    assert err.value.message.startswith(f"{named} of an integer tensor") and "x.float()" in err.value.message
    with pytest.raises(RuntimeError):  # PyTorch refuses them too
        eval(expr.replace("x.long()", "torch.tensor([1, 3, 2])"))


def test_torch_mean_of_integers_still_says_mean():
    with pytest.raises(JacError, match=r"^mean: PyTorch does not support the mean of an integer tensor"):
        api.evaluate("torch.mean(x.long())", {"x": np.array([1.0, 3.0])})


# --- the sparse header counts stored entries, not nonzeros -------------------------------------------

def test_the_sparse_header_says_it_counts_stored_entries():
    out = runner.invoke(app, ["eval", "torch.max(A, dim=1).values", "A=[[1, 5, 5], [4, 2, 0]]"])
    assert out.exit_code == 0
    assert "∂y/∂A: vector by matrix, sparse (6 stored entries)," in out.stdout  # 2 nonzeros, 6 stored
    assert "nnz" not in out.stdout
    explained = runner.invoke(app, ["eval", "x[1:] - x[:-1]", "x:100", "--explain"]).stdout
    assert "sparse (198 stored entries)" in explained and "nnz" not in explained


# --- jac diff names a bound input the expression does not use, as jac eval does -------------------

def test_jac_diff_warns_about_an_unused_binding_as_eval_does():
    for command in ("eval", "diff"):
        out = runner.invoke(app, [command, "x**2", "x=1", "y=2"])
        assert out.exit_code == 0
        assert "jac: warning (unused): the input 'y' is not used by the expression: its derivatives are zero" \
            in out.stderr, command
        assert "warning" not in runner.invoke(app, [command, "x**2 + y", "x=1", "y=2"]).stderr
    report = json.loads(runner.invoke(app, ["diff", "x**2, x*z", "x=1", "y=2", "z=3", "--json"]).stdout)
    assert [w["in"] for w in report["warnings"]] == ["y"]


def test_jac_diff_does_not_take_unpacked_names_for_inputs():
    report = json.loads(runner.invoke(app, ["diff", "a, b = x**2, x*z; a, b", "x=1", "z=3", "--json"]).stdout)
    assert list(report["inputs"]) == ["x", "z"] and "warnings" not in report  # a and b were symbols, ∂a/∂a = 0
    assert list(report["derivatives"]["a"]) == ["x", "z"]
