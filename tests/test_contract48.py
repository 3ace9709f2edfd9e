"""Session 48's cross product of the contract's newer sections (benchmarks/contract48_probe.py): each test a clause of
../shared/CONTRACT.md that a command broke in some combination, checked through the command line as a script calls
it. "--max-memory bounds every command, values included, and is checked before allocating": jac graph --json wrote
its output's value as json.dumps of nested lists (six times the budget it had checked), and jac graph --batch left
the other examples' inputs out of its budget."""

import contextlib
import io
import json

import numpy as np
import pytest

from jacobi_cli.cli import entry
from tracing import traced_peak

MB = 2**20


def _call(argv, stdout=None):
    out = stdout if stdout is not None else io.StringIO()
    err = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = entry.main(argv)
    return code, out, err.getvalue()


class _Sink(io.TextIOBase):
    """A reader at the other end of a pipe: the text is read and dropped as it is written."""

    def write(self, text):
        return len(text)

    def writable(self):
        return True


def _peak(argv) -> tuple:
    """(exit code, the traced peak of a second call: the first did the imports and first-use caches)."""
    from jacobi_cli.tools import api

    _call(argv, _Sink())
    api.clear_cache()
    codes = []
    peak = traced_peak(lambda: codes.append(_call(argv, _Sink())[0]))
    return codes[0], peak


@pytest.mark.parametrize("batch", [[], ["--batch", "x"]])
def test_jac_graph_json_holds_no_more_than_the_budget_it_checked(batch):
    # x:4000x30 with --max-memory 4M: the values fit and jac answers; json.dumps of the output's nested lists
    # (120,000 floats) took 21 MiB beside them (8 MiB budget, x:8000x30) before session 48
    argv = ["graph", "tanh(x @ W) * x", "x:4000x30", "W:30x30", "--max-memory", "4M", "--json", *batch]
    code, peak = _peak(argv)
    assert code == 0
    assert peak <= 4 * MB * 1.05 + 128 * 1024, f"{peak / MB:.2f} MiB held under a budget of 4 MiB"


@pytest.mark.parametrize("args", [
    ["naïve = x * 2; naïve / 0", "x=arange(-600.0, 600.0)"],   # NaN, inf, -inf in a large value; a non-ASCII name
    ["a = sin(x); b = x * -0.0; a, b", "x:40x30"],             # several outputs, large, negative zeros
    ["tanh(x @ W) * x", "x:700x3", "W:3x3", "--batch", "x"],  # per example: (700, 3), batch first
])
def test_jac_graph_json_of_a_large_value_is_the_records_text(args):
    """The large value is now written a block of rows at a time: still exactly json.dumps's text of the records."""
    from jacobi_cli.cli.render import _jsonable
    from jacobi_cli.tools.report import graph_report

    code, out, err = _call(["graph", *args, "--json"])
    assert code == 0, err
    expr, rest = args[0], args[1:]
    batch = [rest[rest.index("--batch") + 1]] if "--batch" in rest else None
    bindings = [a for a in rest if "=" in a or ":" in a and not a.startswith("-")]
    if batch:
        bindings = [a for a in bindings if a != batch[0]]
    records = graph_report(expr, bindings, batch=batch).to_json()
    assert out.getvalue() == json.dumps(_jsonable(records), ensure_ascii=False, allow_nan=False) + "\n"


def test_jac_graph_batch_counts_every_examples_input():
    # the inputs of 2,000 examples (480 KB) and their outputs (480 KB) under a budget of 700 KB: before session 48
    # jac graph --batch counted one example's values and the outputs and answered, holding both
    code, out, err = _call(["graph", "tanh(x @ W) * x", "x:2000x30", "W:30x30", "--batch", "x",
                            "--max-memory", "700K", "--json"])
    error = json.loads(out.getvalue())["error"]
    assert code == 2 and error["kind"] == "limit" and "jac graph --batch" in error["message"]
    assert err.count("jac: error") == 1 and "Traceback" not in err


def test_jac_graph_batch_answers_when_inputs_and_outputs_fit():
    code, out, err = _call(["graph", "tanh(x @ W) * x", "x:2000x30", "W:30x30", "--batch", "x",
                            "--max-memory", "2M", "--json"])
    assert code == 0, err
    obj = json.loads(out.getvalue())
    assert np.shape(obj["output"]["value"]) == (2000, 30) and obj["batch"] == {"size": 2000, "inputs": {"x": 0}}


def test_jac_eval_holds_no_more_than_its_predicted_peak_when_checking_for_nan():
    # a 2000 x 2000 Jacobian (30.5 MiB) under a budget just above its predicted peak: the check for NaN and
    # infinities made np.isfinite's mask of the whole Jacobian (3.8 MiB) beside it, 34.7 MiB held under 31.8
    budget = 33_376_000
    code, peak = _peak(["eval", "tanh(x @ W) @ W.T * x", "x:2000", "W:2000x20", "--wrt", "x",
                        "--max-memory", str(budget), "--json"])
    assert code == 0
    assert peak <= budget * 1.02, f"{peak / MB:.2f} MiB held under a budget of {budget / MB:.2f} MiB"


@pytest.mark.parametrize("make", [
    lambda: np.ones(200_000),                                  # contiguous, blocks of the flat view
    lambda: np.ones((400, 1000)).T,                            # Fortran order: still one view
    lambda: np.ones((1000, 600))[:, ::2],                      # strided: leading rows at a time
    lambda: np.ones((3, 70_000, 2))[:, :, 0],                  # a row past a block: its own rows
])
@pytest.mark.parametrize("bad", [None, np.nan, np.inf, -np.inf])
def test_all_finite_in_blocks_finds_every_nan_and_infinity(make, bad):
    from jacobi_cli.engine.finite import all_finite

    a = make()
    if bad is not None:
        a[np.unravel_index(a.size - 7, a.shape)] = bad  # near the end: every block must be read
    assert all_finite(a) is (bad is None)
    assert traced_peak(lambda: all_finite(a)) < 200_000  # never the whole mask (a.size bytes)
