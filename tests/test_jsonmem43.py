"""Session 43 (h43-memjson): ``render.to_json`` is ``render.json_pieces`` joined, one mechanism.

Until session 43 ``to_json`` repeated ``json_pieces``' dispatch (jac graph's text written from the graph, every
other report through ``json.dumps`` of its data) and made the old way's nested lists of every array. It is now the
pieces joined, without the new line ``write_json`` and ``print`` add. The reference text here is the one
``json.dumps`` makes of the report's data (``_old_text``, as tests/test_jsonmem42.py keeps it), for every command,
NaN, infinities, float32, 0-d, empty, several outputs, a batch, arrays past a JSON block.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from tracing import traced_peak
from jacobi_cli.cli import render
from jacobi_cli.lang import fileio
from jacobi_cli.tools import report

BLOCK = fileio.JSON_BLOCK_ELEMENTS


def _old_text(data) -> str:
    """The text ``--json`` printed before session 42: ``json.dumps`` of the report's data."""
    return render.printable(json.dumps(render._jsonable(data), ensure_ascii=False, allow_nan=False))


BIG = f"x:{BLOCK + 7}"  # an input past one JSON block: its Jacobian and values are written in blocks

REPORTS = {
    "eval": lambda: report.eval_report("np.log(x) * y", ["x=[1.0, 0.0, -1.0]", "y=[2.0, inf, 3.0]"]),
    "eval-float32": lambda: report.eval_report("x * 3e38", ["x=[0.1, 2.0, -5.0]"], dtype="float32"),
    "eval-0d": lambda: report.eval_report("x ** 2", ["x=1.5"]),
    "eval-empty": lambda: report.eval_report("x * 2", ["x=zeros(0)"]),
    "eval-empty-matrix": lambda: report.eval_report("A.sum(0)", ["A=zeros((0, 3))"]),
    "eval-several": lambda: report.eval_report("a = sin(x); b = sum(x**2); a, b", ["x=[0.5, 1.0]"]),
    "eval-big": lambda: report.eval_report("np.sin(x) / x", [f"x=linspace(-1, 1, {BLOCK + 8})"]),
    "eval-batch": lambda: report.eval_report("x * w", ["x:4x3", "w:3"], batch=["x"]),
    "vjp": lambda: report.vjp_report("x / y", ["x=[1.0, -2.0]", "y=[0.0, 2.0]"], v="ones"),
    "vjp-big": lambda: report.vjp_report("sum(x ** 2)", [BIG]),
    "jvp": lambda: report.jvp_report("x * y", ["x=[1.0, 2.0]", "y=[3.0, 4.0]"], {"x": "[1.0, 0.0]"}),
    "hessian": lambda: report.hessian_report("sum(x ** 3) * y", ["x=[1.0, 2.0]", "y=2.0"]),
    "derivative": lambda: report.derivative_report("sin(x)", ["x=[0.5, 1.5]"], 3),
    "shape": lambda: report.shape_report("A @ x", ["A:3x4", "x:4"]),
    "diff": lambda: report.diff_report("sin(x) * x", ["x:()"]),
    "check": lambda: report.check_report("exp(x) * y", ["x=[0.5, 1.0]", "y=[2.0, 3.0]"]),
    "graph": lambda: report.graph_report("sum(x * y) + 1", ["x:3", "y:3"]),
    "graph-backward": lambda: report.graph_report("sum(x * y)", ["x:3", "y:3"], backward=True),
    "graph-big": lambda: report.graph_report(" + ".join(["x"] * 40), ["x:2"]),
}


@pytest.mark.parametrize("name", REPORTS)
def test_to_json_is_the_text_json_dumps_made_for_every_command(name):
    made = REPORTS[name]()
    text = render.to_json(made)  # first: jac graph writes its text from the graph only while no record is made
    assert not text.endswith("\n")
    assert text == _old_text(made.to_json())
    out = io.StringIO()
    render.write_json(made, out)
    assert out.getvalue() == text + "\n"  # what print(to_json(report)) prints


def test_to_json_is_made_by_json_pieces(monkeypatch):
    """One mechanism: a piece json_pieces makes is what to_json returns (before session 43 to_json had its own
    json.dumps of the report's data and its own jac graph case, and never read json_pieces)."""
    monkeypatch.setattr(render, "json_pieces", lambda made: iter(['{"made": ', "1}"]))
    assert render.to_json(REPORTS["eval-0d"]()) == '{"made": 1}'
    graph = REPORTS["graph"]()
    assert render.to_json(graph) == '{"made": 1}'


@pytest.mark.parametrize("data", [
    {"value": np.array([np.nan, np.inf, -np.inf, -0.0, 1e-310])},
    {"value": np.float32(0.1), "v": np.array(3.0, np.float32), "n": np.int64(7), "big": 10**30},
    {"value": np.zeros((0, 3)), "e": np.zeros(0), "l": [], "d": {}},
    {"nested": {"a": {"b": [1.0, {"c": np.full((3, BLOCK), np.nan)}]}}, "s": "naïve ✓ \udcff"},
    {"f32": np.linspace(0, 1, 3 * BLOCK, dtype=np.float32), "i": np.arange(2 * BLOCK), "b": np.arange(BLOCK + 1) > 9},
])
def test_to_json_of_plain_data_is_json_dumps_text(data):
    assert render.to_json(data) == _old_text(data)


def test_to_json_makes_no_nested_lists_of_the_arrays():
    """Its peak is about the text and the pieces it joins (2 bytes a character at most, the text being ASCII),
    not the nested lists of float objects json.dumps needed first: for a (300, 1000) float64 array (a text of 6.2 MB,
    20 characters per element), 22.0 MB (73 bytes per element) before session 43, 12.4 MB (41) after."""
    a = np.random.default_rng(0).standard_normal((300, 1000))
    data = {"value": a}
    size = len(render.to_json(data))
    peak = traced_peak(lambda: render.to_json(data))
    assert peak <= 2.2 * size + 128 * 1024
