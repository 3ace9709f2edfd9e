"""Session 42 (h42-jsonmem): ``--max-memory`` bounds the ``--json`` text too.

``--json`` and ``--out FILE.json`` made a large array's nested lists (``tolist()``: a float object and a pointer
per element) and then the whole text (about 20 bytes per number), some eight times the array's bytes, none of it
counted: ``jac eval 'np.outer(x, y)' x:200 y:200 --json --max-memory 300M`` reached 1.03 GB resident. The text of
a large array is now written a block of ``fileio.JSON_BLOCK_ELEMENTS`` elements at a time, the same bytes as
``json.dumps`` wrote; what is in flight beside the arrays is bounded whatever their size. Peaks are read with
tracemalloc, bytes, not time; the old text is ``json.dumps(render._jsonable(data))``, kept as the reference.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tracing import traced_peak as _traced_peak
from jacobi_cli.cli import render
from jacobi_cli.lang import fileio
from jacobi_cli.tools import report

MB = 2**20
BLOCK = fileio.JSON_BLOCK_ELEMENTS
IN_FLIGHT = 128 * 1024  # what writing the text may hold beside the arrays (measured: 0.09 MB), SLACK[1]
SLACK = (1.05, 128 * 1024)  # as test_memory41: Python's own objects beside the arrays, and rounding


class Sink:
    """A stream that keeps nothing: what is traced is what writing made, not what was written."""

    def __init__(self):
        self.chars = 0

    def write(self, text: str) -> None:
        self.chars += len(text)




def _old_text(data) -> str:
    """The text ``--json`` printed before session 42 (``render.to_json``'s own until session 43)."""
    return render.printable(json.dumps(render._jsonable(data), ensure_ascii=False, allow_nan=False))


def _spread() -> list:
    rng = np.random.default_rng(1)
    special = rng.standard_normal((50, 300))
    special[3, 4], special[7, 8], special[9, 1], special[0, 0], special[1, 1] = np.nan, np.inf, -np.inf, -0.0, 3e38
    return [
        special, special.astype(np.float32), rng.standard_normal((3, 5 * BLOCK)), rng.standard_normal((2, 3, 2 * BLOCK)),
        rng.standard_normal((4 * BLOCK + 1, 1)), rng.standard_normal(BLOCK), rng.standard_normal(BLOCK + 1),
        rng.standard_normal((2, 2, 2, BLOCK + 3)).astype(np.float32), np.full(3 * BLOCK, np.nan),
        rng.integers(-10**15, 10**15, 5 * BLOCK), (np.arange(3 * BLOCK) % 256).astype(np.uint8),
        np.arange(3 * BLOCK) > BLOCK, rng.standard_normal((7, BLOCK // 3 + 1)).astype(np.float16),
        np.float64(3.5), np.float32(0.1), np.array(2.0), np.array(-np.inf), np.int64(7),
        np.zeros((0, 3)), np.zeros((3, 0)), np.zeros(0), 1.5, float("nan"), 7, 10**30,
    ]


@pytest.mark.parametrize("value", _spread(), ids=lambda v: f"{np.asarray(v).dtype}{np.shape(v)}")
def test_the_text_is_the_same_bytes_as_before(value):
    data = {"expression": "naïve ✓ \udcff", "value": value, "shape": [3, 4],
            "jacobian": {"y1": {"x": {"value": value, "shape": [2]}}, "y2": {"w": value}},
            "list": [1.0, float("nan"), {"J": value}], "none": None, "flag": True}
    pieces = list(render.json_pieces(data))
    assert "".join(pieces) == _old_text(data)
    if np.size(value) > BLOCK:  # no piece holds a whole large array: a block of its numbers at most
        assert max(map(len, pieces)) < 30 * BLOCK


@pytest.mark.parametrize("value", _spread(), ids=lambda v: f"{np.asarray(v).dtype}{np.shape(v)}")
def test_an_out_json_file_is_the_same_bytes_as_before(tmp_path, value):
    if 0 in np.shape(value)[:-1] or np.asarray(value).dtype == object:
        return  # refused as before (_refuse_shapeless; 10**30 is no array)
    path = str(tmp_path / "J.json")
    fileio.save_array(path, {"J_x": value, "y": np.asarray(value) - 1})
    old = json.dumps({"J_x": fileio.to_jsonable(value), "y": fileio.to_jsonable(np.asarray(value) - 1)},
                     allow_nan=False) + "\n"
    with open(path, "rb") as fp:
        assert fp.read() == old.encode("utf-8")


def test_a_complex_array_is_refused_before_any_text():
    big = np.ones(2 * BLOCK, complex)
    with pytest.raises(TypeError, match="cannot write complex128"):
        render.json_pieces({"value": big})
    with pytest.raises(TypeError, match="cannot write complex128"):
        render.json_pieces({"value": big[:3]})


@pytest.mark.parametrize("shape,dtype", [((200, 1000), np.float64), ((600, 1000), np.float64),
                                         ((200, 1000), np.float32), ((600_000,), np.float64),
                                         ((200, 1000), np.int64)])
def test_writing_the_text_holds_a_bounded_buffer_whatever_the_size(shape, dtype):
    """Before: about 8.5 times the arrays' bytes (34 MB for a (500, 1000) float64 array, 76 MB for float32)."""
    rng = np.random.default_rng(0)
    a = rng.integers(-10**15, 10**15, shape) if dtype is np.int64 else rng.standard_normal(shape).astype(dtype)
    a.flat[5] = 1 if dtype is np.int64 else np.nan
    sink = Sink()
    peak = _traced_peak(lambda: render.write_json({"value": a, "jacobian": {"x": a}}, sink))
    assert sink.chars > 2 * a.nbytes  # the text is larger than the arrays: it was written, not held
    assert peak <= IN_FLIGHT


def test_an_out_json_file_is_written_with_a_bounded_buffer(tmp_path):
    a = np.random.default_rng(0).standard_normal((300, 1000))  # 2.4 MB; its text 6 MB
    peak = _traced_peak(lambda: fileio.save_array(str(tmp_path / "J.json"), {"J_x": a}))
    assert peak <= IN_FLIGHT + 64 * 1024  # the atomic writer's buffer beside it
    assert json.loads((tmp_path / "J.json").read_text())["J_x"][299][999] == a[299, 999]


def test_eval_json_keeps_its_budget():
    """``jac eval 'np.outer(x, y)' x:60 y:60 --json --max-memory 5M``: the two dense Jacobians (3.3 MB) and their
    text (1.8 MB, mostly zeros) within 5 MB, the report and the text together; 17 MB before session 42."""
    rng = np.random.default_rng(0)
    b = {"x": rng.uniform(0.5, 1.5, 60), "y": rng.uniform(0.5, 1.5, 60)}
    sink = Sink()

    def run():
        render.write_json(report.eval_report("np.outer(x, y)", b, max_memory=5 * MB), sink)

    peak = _traced_peak(run)
    assert sink.chars > MB
    assert peak <= 5 * MB * SLACK[0] + SLACK[1]


def test_the_command_line_prints_the_text_to_json_makes():
    """``jac eval --json`` through the CLI (several outputs, two 1000 x 1000 Jacobian blocks, written in blocks)
    prints what ``render.to_json`` makes in one string: the same bytes."""
    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app

    args = ["np.sin(x) * w, x.sum()", ["x:1000", "w:1000"]]
    printed = CliRunner().invoke(app, ["eval", args[0], *args[1], "--json"])
    assert printed.exit_code == 0
    assert printed.output == render.to_json(report.eval_report(*args)) + "\n"
