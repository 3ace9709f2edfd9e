"""Session 43 (h43-memjson): an unbatched ``jac run`` case counts its comparisons against its budget.

``compare`` works whole rows of an expectation's first axis at a time (session 42): bounded, but a row of 200,000
elements holds some 10 MB of temporaries, which no check counted for a case without ``batch``: such a case ran
past its budget. It is now counted before any derivative is computed (``suite._compare_fits``: the values and the
results the case holds while it compares, and ``suite.compare_bytes``) and refused as a ``limit`` error at the
expectation's key, as a batched case is refused at ``batch``. Peaks are read with tracemalloc.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from tracing import traced_peak
from jacobi_cli.tools import api, suite

ROWS = (2, 200_000)  # a value whose rows compare takes whole: 200,000 elements at a time

ONE = '''
[[case]]
name = "long rows"
expr = "sin(x) * 2"
bindings = { x = "@x.npy" }
value = "@value.npy"

[[case]]
name = "small"
expr = "sum(y)"
bindings = { y = [1.0, 2.0] }
value = 3.0
'''

SEVERAL = '''
[[case]]
name = "several"
expr = "sin(x) * 2, x * 3"
bindings = { x = "@x.npy" }
value.y0 = "@value.npy"
value.y1 = "@triple.npy"
'''

OWN = '''
[[case]]
name = "jacobian too large"
expr = "W @ x"
bindings = { W = "@W.npy", x = "@w.npy" }
wrt = ["x"]
jacobian.x = "@W.npy"
'''


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runcompare")
    rng = np.random.default_rng(0)
    x = rng.uniform(0.5, 1.5, ROWS)
    W = rng.normal(size=(1000, 1000))
    for name, a in {"x": x, "value": np.sin(x) * 2, "triple": x * 3, "W": W, "w": rng.normal(size=1000)}.items():
        np.save(folder / f"{name}.npy", a)
    for name, text in {"one": ONE, "several": SEVERAL, "own": OWN}.items():
        (folder / f"{name}.toml").write_text(text)
    return folder


def _cases(folder, name):
    return suite.load_suite(str(folder / f"{name}.toml")).cases


def _peak(case, budget=None) -> tuple:
    got = []
    suite.run_case(dataclasses.replace(case, budget=budget))  # imports and first-use caches
    api.clear_cache()
    try:
        return traced_peak(lambda: got.append(suite.run_case(dataclasses.replace(case, budget=budget)))), got[0]
    finally:
        api.clear_cache()


@pytest.mark.parametrize("name", ["one", "several"])
def test_a_comparison_over_the_budget_is_refused_before_going_past_it(folder, name):
    """Before session 43 the case ran under 80 % of its peak and held it all: 15 MB under a budget of 12 MB."""
    case = _cases(folder, name)[0]
    peak, free = _peak(case)
    assert free.status == "passed", free
    budget = int(peak * 0.8)
    held, result = _peak(case, budget)
    assert result.status == "error", f"ran: {held:,} bytes held under a budget of {budget:,}"
    assert result.error["kind"] == "limit" and result.error["key"].startswith("value"), result.error
    message = result.error["message"]
    assert message.startswith(f"comparing {result.error['key']} with its expectation works 200,000 elements")
    assert "--max-memory" in message and "refused before any derivative was computed" in message
    assert held < budget


def test_a_comparison_within_the_budget_runs_and_its_count_bounds_it(folder):
    case, small = _cases(folder, "one")
    peak, _ = _peak(case)
    held, result = _peak(case, int(peak * 1.5))
    assert result.status == "passed" and held <= int(peak * 1.5)
    problem = api.prepare(case.expr, case.bindings)
    counted = suite._compare_held(case, problem)[0] + suite.compare_bytes(case)
    assert peak <= counted <= 1.5 * peak  # the comparison is this case's peak: its count bounds it, not by far
    assert _peak(small, 2**20)[1].status == "passed"


def test_a_result_too_large_on_its_own_keeps_its_own_refusal(folder):
    """The Jacobian (8 MB) does not fit a budget of 4 MB beside the values: its plan refuses it in its words,
    not the comparison's check."""
    case = _cases(folder, "own")[0]
    result = suite.run_case(dataclasses.replace(case, budget=4 * 2**20))
    assert result.status == "error" and result.error["kind"] == "limit"
    assert not result.error["message"].startswith("comparing"), result.error


def test_jac_run_reports_the_refusal_as_that_cases_limit_error(folder):
    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app

    out = CliRunner().invoke(app, ["run", str(folder / "one.toml"), "--max-memory", "12M", "--jobs", "1", "--json"])
    assert out.exit_code == 2, out.output
    by_name = {c["name"]: c for c in json.loads(out.stdout)["cases"]}
    assert by_name["long rows"]["status"] == "error"
    assert by_name["long rows"]["error"]["kind"] == "limit" and by_name["long rows"]["error"]["key"] == "value"
    assert by_name["small"]["status"] == "passed"
