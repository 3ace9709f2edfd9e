"""Session 42 (h42-runbatch): a ``jac run`` case with ``batch`` counts its batch against its budget.

Before this branch a batched case checked each example's plan against ``Case.budget`` (``jac run --max-memory``'s
share) but not the stacked results, the vjps' v's and the jvps' tangents with their batch axis, nor the
comparisons of the stacks with the expectations (``compare`` made about six float64 temporaries of the whole
stack): a case of 12 examples held 5.1 MB under a budget that its per-example plans fitted. It is now counted as
``jac eval / vjp / jvp --batch`` count it (``api.batch_jacobian_plan``'s ``BatchPlan``, ``api.stacked_need``
for each vjp and jvp, ``BatchPlan.case_bytes``) and refused as a ``limit`` error of that case, or run within the
budget; ``compare`` works a block of rows at a time. Peaks are read with tracemalloc.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from tracing import case_peak, run_case
from jacobi_cli.tools import suite

B, N = 12, 100

CASE = '''
[[case]]
name = "batched sin"
expr = "sin(x) * y"
bindings = {{ x = "@x.npy", y = "@y.npy" }}
wrt = ["x"]
batch = "x"
value = "@value.npy"
{jacobian}
[[case.vjp]]
v = "@v.npy"
grad.x = "@grad.npy"
[[case.jvp]]
tangent = {{ x = "@t.npy" }}
expected = "@jvp.npy"

[[case]]
name = "plain"
expr = "sum(y)"
bindings = {{ y = "@y.npy" }}
value = {total!r}
'''


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    folder = tmp_path_factory.mktemp("runbatch")
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0.5, 1.5, (B, N)), rng.uniform(0.5, 1.5, N)
    v, t = rng.uniform(-1, 1, (B, N)), rng.uniform(-1, 1, (B, N))
    d = np.cos(x) * y
    arrays = {"x": x, "y": y, "v": v, "t": t, "value": np.sin(x) * y, "grad": d * v, "jvp": d * t,
              "J": np.stack([np.diag(row) for row in d])}
    for name, a in arrays.items():
        np.save(folder / f"{name}.npy", a)
    text = CASE.format(jacobian='jacobian.x = "@J.npy"', total=float(y.sum()))
    (folder / "s.toml").write_text(text)
    return folder, suite.parse_suite(text, "s", str(folder)).cases


def test_a_fitting_batched_case_passes_within_its_budget_with_the_same_answers(cases):
    _, (case, plain) = cases
    free = run_case(case)
    assert free.status == "passed", free
    budget = 4 * 2**20
    peak, held = case_peak(case, budget)
    assert held.status == "passed", held.error
    assert peak <= budget
    # the answers (the errors against the expectations) are those of the run without a budget
    assert [(o.key, o.passed, o.max_abs_error, o.max_rel_error) for o in held.outcomes] == \
           [(o.key, o.passed, o.max_abs_error, o.max_rel_error) for o in free.outcomes]
    assert run_case(plain, budget).status == "passed"


def test_a_batch_over_the_budget_is_refused_for_that_case_before_going_past_it(cases):
    """Before h42-runbatch the case ran under 90 % of its peak (each example's plan fitted) and held it all."""
    _, (case, plain) = cases
    peak, _ = case_peak(case)
    budget = int(peak * 0.9)
    held, result = case_peak(case, budget)
    assert result.status == "error", f"ran: {held:,} bytes held under a budget of {budget:,}"
    assert result.error["kind"] == "limit" and result.error["key"] == "batch"
    assert "the batch of 12 examples" in result.error["message"] and "--max-memory" in result.error["message"]
    assert held < budget
    assert run_case(plain, budget).status == "passed"  # the suite's other cases run


def test_the_stacked_results_alone_are_counted(cases):
    """Without vjp, jvp or comparisons to count: the Jacobians' stack (B × 80 KB) over a budget that one
    example's plan fits is refused, not run (the per-example check alone passed it)."""
    _, (case, _) = cases
    lone = dataclasses.replace(case, vjp=[], jvp=[])
    result = run_case(lone, 700 * 1024)
    assert result.status == "error" and result.error["kind"] == "limit", result


def test_jac_run_reports_the_refusal_as_that_cases_limit_error(cases, tmp_path):
    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app

    folder, _ = cases
    out = CliRunner().invoke(app, ["run", str(folder / "s.toml"), "--max-memory", "1M", "--jobs", "1", "--json"])
    assert out.exit_code == 2, out.output
    report = json.loads(out.stdout)
    by_name = {c["name"]: c for c in report["cases"]}
    assert by_name["batched sin"]["status"] == "error"
    assert by_name["batched sin"]["error"]["kind"] == "limit"
    assert by_name["plain"]["status"] == "passed"


@pytest.mark.parametrize("shape", [(), (0,), (3, 0), (7,), (5, 3000), (40, 500), (3, 20000), (2, 3, 4)])
def test_compare_in_blocks_says_what_compare_of_the_whole_said(shape, monkeypatch):
    rng = np.random.default_rng(sum(shape) + len(shape))
    e = rng.normal(size=shape)
    a = e.copy()
    flat_a, flat_e = a.reshape(-1), e.reshape(-1)
    if a.size:
        for _ in range(3):  # differences, equal worst ones in two blocks, NaN, ±inf, zeros
            flat_a[rng.integers(a.size)] += 1.0
        flat_a[-1] += 1.0
        flat_a[0] += 1.0
        flat_e[rng.integers(a.size)] = flat_a[rng.integers(a.size)] = np.nan
        flat_e[rng.integers(a.size)] = np.inf
        flat_a[rng.integers(a.size)] = -np.inf
        flat_e[rng.integers(a.size)] = 0.0
    for tol in (suite.Tolerance(1e-7, 1e-7), suite.Tolerance(10.0, 10.0)):
        for actual in (a, a.astype(np.float32), e):
            monkeypatch.setattr(suite, "COMPARE_BLOCK", 10**12)  # one block: the whole arrays, as before
            want = suite.compare("k", actual, suite.Expected(e, tol))
            for block in (7, 8192):  # many blocks of a row or more, and the default
                monkeypatch.setattr(suite, "COMPARE_BLOCK", block)
                got = suite.compare("k", actual, suite.Expected(e, tol))
                assert (got.passed, got.message) == (want.passed, want.message)
                assert np.array_equal([got.max_abs_error, got.max_rel_error],
                                      [want.max_abs_error, want.max_rel_error], equal_nan=True)


SEVERAL = '''
[[case]]
name = "several"
expr = "sin(x) * y, x * 2"
bindings = { x = "@x.npy", y = "@y.npy" }
wrt = ["x"]
batch = "x"
value.y0 = "@value.npy"
[[case.jvp]]
tangent = { x = "@t.npy" }
expected.y0 = "@jvp.npy"
'''


def test_a_batched_case_of_several_outputs_is_counted_too(cases):
    folder, _ = cases
    case = suite.parse_suite(SEVERAL, "s", str(folder)).cases[0]
    peak, free = case_peak(case)
    assert free.status == "passed", free
    budget = 2**20
    held, result = case_peak(case, budget)
    assert result.status == "passed" and held <= budget
    held, result = case_peak(case, int(peak * 0.9))
    assert result.status == "error" and result.error["kind"] == "limit", f"ran: {held:,} bytes held"
