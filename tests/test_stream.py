"""Bigger than memory: ``jac eval --out FILE.npy`` streams a Jacobian larger than --max-memory
into the file pass by pass, with memory within the budget, and the file appears only whole."""

import json
import os
import tracemalloc

import numpy as np
import pytest
from typer.testing import CliRunner

import jacobi_cli
from jacobi_cli.cli.app import app
from jacobi_cli.tools import report
from test_schemas import validator

runner = CliRunner()
CASES = [  # (expression, bindings, mode): each Jacobian is 10 x the budget
    ("x * sum(x)", ["x:400"], "reverse"),  # rows, one write per pass
    ("x * sum(x)", ["x:400"], "forward"),  # columns, one write per row per pass
    ("sin(X) * sum(X)", ["X:20x20"], "auto"),  # a matrix input: y.shape + x.shape is (20, 20, 20, 20)
]
BUDGET = 128_000


@pytest.mark.parametrize("expr,bindings,mode", CASES)
def test_a_jacobian_ten_times_the_budget_is_streamed_within_it(tmp_path, expr, bindings, mode):
    out = tmp_path / "J.npy"
    name = bindings[0].split(":")[0]
    expected = jacobi_cli.jacobian(expr, {b.split(":")[0]: ":" + b.split(":")[1] for b in bindings})[name]
    assert expected.nbytes >= 10 * BUDGET
    report.eval_report(expr, bindings, [name], mode=mode, max_memory=BUDGET, out=str(out))  # imports, caches
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        rep = report.eval_report(expr, bindings, [name], mode=mode, max_memory=BUDGET, out=str(out))
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    plan = rep.plan
    assert plan.stream and plan.refusal is None and plan.peak_bytes <= BUDGET
    assert plan.inputs[name].passes >= 10
    assert peak <= 2 * BUDGET  # the passes within the budget, and never the whole Jacobian (10 x)
    np.testing.assert_array_equal(np.load(out), expected)
    assert rep["jacobian"][name]["file"] == {"path": str(out), "bytes": os.path.getsize(out)}
    assert "value" not in rep["jacobian"][name]


def test_the_cli_streams_says_so_in_explain_and_json(tmp_path):
    out = tmp_path / "J.npy"
    args = ["eval", "x * sum(x)", "x:400", "--max-memory", "128000", "--out", str(out), "--explain"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "streamed:" in result.output and "on disk" in result.output and f"streamed to {out}" in result.output
    data = json.loads(runner.invoke(app, args[:-1] + ["--json", "--explain"]).output)
    assert data["jacobian"]["x"]["file"]["path"] == str(out) and data["plan"]["stream"] is True
    validator("eval").validate(data)
    assert np.load(out).shape == (400, 400)


def test_without_a_npy_out_file_or_when_one_pass_cannot_fit_it_is_refused_and_no_file_is_left(tmp_path):
    result = runner.invoke(app, ["eval", "x * sum(x)", "x:400", "--max-memory", "128000"])
    assert result.exit_code == 2 and "budget" in result.output
    out = tmp_path / "J.npy"
    out.write_bytes(b"old")
    result = runner.invoke(app, ["eval", "x * sum(x)", "x:400", "--max-memory", "12000", "--out", str(out)])
    assert result.exit_code == 2 and "budget" in result.output
    assert out.read_bytes() == b"old" and os.listdir(tmp_path) == ["J.npy"]  # no temporary file left


def test_a_failed_stream_leaves_the_old_file(tmp_path, monkeypatch):
    from jacobi_cli.engine import planner

    out = tmp_path / "J.npy"
    out.write_bytes(b"old")

    def broken(plan, graph, values, written):
        written.write_rows(0, np.zeros((1, 400)))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(planner, "stream", broken)
    with pytest.raises(OSError):
        report.eval_report("x * sum(x)", ["x:400"], ["x"], max_memory=128_000, out=str(out))
    assert out.read_bytes() == b"old" and os.listdir(tmp_path) == ["J.npy"]


def test_a_plot_needs_the_jacobian_in_memory_so_it_is_refused_not_streamed(tmp_path):
    out = tmp_path / "J.npy"
    result = runner.invoke(app, ["eval", "x * sum(x)", "x:400", "--max-memory", "128000", "--out", str(out),
                                 "--plot", str(tmp_path / "p.png")])
    assert result.exit_code == 2 and "budget" in result.output and not out.exists()


# --- --strict and NaN in a streamed Jacobian (htrust13) --------------------------------------------

@pytest.mark.parametrize("expr,bindings", [
    ("log(x) * sum(x)", ["x:400"]),                # NaN in the value: refused before any pass
    ("x * sum(sqrt(abs(x)))", ["x=zeros(400)"]),   # a finite value, NaN in the Jacobian only: was exit 0
])
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_strict_refuses_a_streamed_jacobian_and_leaves_the_old_file(tmp_path, expr, bindings, mode):
    """The stream was moved into place before --strict refused: the old file was replaced."""
    out = tmp_path / "J.npy"
    out.write_bytes(b"old")
    result = runner.invoke(app, ["eval", expr, *bindings, "--max-memory", "128000", "--out", str(out),
                                 "--mode", mode, "--strict", "--json"])
    assert result.exit_code == 2 and "--strict" in result.output, result.output
    assert out.read_bytes() == b"old" and os.listdir(tmp_path) == ["J.npy"]  # no temporary file left


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_a_nan_in_a_streamed_jacobian_is_warned_of_as_in_memory(tmp_path, mode):
    """The streamed blocks were not scanned: a NaN Jacobian written to the file without a word."""
    args = ["eval", "x * sum(sqrt(abs(x)))", "x=zeros(400)", "--mode", mode, "--json"]
    streamed = json.loads(runner.invoke(app, args + ["--max-memory", "128000", "--out", str(tmp_path / "J.npy")]).stdout)
    whole = json.loads(runner.invoke(app, args).stdout)
    assert "file" in streamed["jacobian"]["x"] and "value" in whole["jacobian"]["x"]
    assert streamed["warnings"] == whole["warnings"] and "derivative of sqrt" in whole["warnings"][0]["message"]
    assert np.isnan(np.load(tmp_path / "J.npy")).all()
    clean = json.loads(runner.invoke(app, ["eval", "x * sum(x)", "x:400", "--max-memory", "128000", "--mode", mode,
                                           "--out", str(tmp_path / "K.npy"), "--strict", "--json"]).output)
    assert "warnings" not in clean and np.isfinite(np.load(tmp_path / "K.npy")).all()


def test_an_interrupted_stream_leaves_the_old_file(tmp_path, monkeypatch):
    from jacobi_cli.engine import planner

    out = tmp_path / "J.npy"
    out.write_bytes(b"old")
    real = planner.dense_part
    calls = []

    def interrupted(*args):
        calls.append(1)
        if len(calls) == 3:  # two passes written, then Ctrl-C
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(planner, "dense_part", interrupted)
    with pytest.raises(KeyboardInterrupt):
        report.eval_report("x * sum(x)", ["x:400"], ["x"], max_memory=128_000, out=str(out))
    assert len(calls) == 3 and out.read_bytes() == b"old" and os.listdir(tmp_path) == ["J.npy"]
