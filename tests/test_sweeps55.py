"""The sweeps of session 55 (h55-sweeps) that never ran to their end until then: what they found in jac.

memory40_probe.py: ``clip(x, -0.5, 0.5) * sum(y)`` (x, y of 300) predicted a peak of 40 KiB and held 720 KiB, the
dense ∂/∂y that the reverse pass makes from structured parts at its end: its dry run's ledger never saw it. The plan
kept without a budget (``Compiled.plan_of``) fitted every budget above 40 KiB, so ``--max-memory 100K`` answered and
held seven times its budget (``--explain`` said "predicted peak memory 38.1 KiB (values 7.0 KiB, Jacobians 710.2 KiB)").
A plan's peak now counts the Jacobians each pass leaves held.
"""

import gc
import json
import tracemalloc

import numpy as np
import pytest

from jacobi_cli.cli import entry
from jacobi_cli.tools import api

# a broadcast the reverse pass turns dense at its end (∂/∂y), beside a diagonal (∂/∂x)
DENSE_AT_THE_END = ["x * sum(y)", "sin(x) * sum(y)", "clip(x, -0.5, 0.5) * sum(y)"]


def inputs(n: int = 300) -> dict:
    rng = np.random.default_rng(0)
    return {"x": rng.uniform(0.5, 1.5, n), "y": rng.uniform(0.5, 1.5, n)}


@pytest.mark.parametrize("expr", DENSE_AT_THE_END)
@pytest.mark.parametrize("mode", ["auto", "reverse"])
def test_the_peak_holds_the_jacobians(expr, mode):
    plan = api.plan(expr, inputs(), mode=mode)
    assert plan.result_bytes > 300 * 300 * 8  # the dense ∂/∂y
    assert plan.peak_bytes >= plan.values_bytes + plan.result_bytes


@pytest.mark.parametrize("expr", DENSE_AT_THE_END)
def test_a_budget_under_the_jacobians_is_refused(expr, capsys):
    """The text report (``--json`` refused before, when it made the diagonal ∂/∂x a dense array)."""
    code = entry.main(["eval", expr, "x:300", "y:300", "--max-memory", "100K"])
    out, err = capsys.readouterr()
    assert code == 2, out[:300]
    assert err.count("jac: error (limit)") == 1 and "nothing was allocated" in err and "Traceback" not in err
    assert "703.1 KiB" in err  # the dense ∂/∂y it names


def test_a_budget_over_the_jacobians_answers_as_without_one(capsys):
    argv = ["eval", "x * sum(y)", "x=[1.0, 2.0, 3.0]", "y=[0.5, 0.25, 2.0]", "--json"]
    assert entry.main(argv) == 0
    free = json.loads(capsys.readouterr().out)
    assert entry.main(argv + ["--max-memory", "10M"]) == 0
    assert json.loads(capsys.readouterr().out) == free
    x, y = np.array([1.0, 2.0, 3.0]), np.array([0.5, 0.25, 2.0])
    np.testing.assert_allclose(free["jacobian"]["y"]["value"], np.outer(x, np.ones(3)), rtol=0, atol=0)
    np.testing.assert_allclose(free["jacobian"]["x"]["value"], np.diag(np.full(3, y.sum())), rtol=0, atol=0)


@pytest.mark.parametrize("expr, mode", [("sin(x) * sum(y)", "auto"), ("x * sum(y)", "reverse")])
def test_the_prediction_bounds_what_the_pass_holds(expr, mode):
    measured, peak = measured_and_planned(expr, inputs(), mode)
    assert measured <= peak * 1.05 + 256 * 2**10, (measured, peak)


def measured_and_planned(expr: str, b: dict, mode: str, budget: int | None = None) -> tuple:
    """memory40_probe's measure: the Jacobians' run under tracemalloc (NumPy reports its buffers to it) beside the
    values its preparation made, and the plan's peak (the caller's margin: Python's objects of the parse and plan);
    ``budget``: the plan made for it (``--max-memory``; tests/test_memory56.py)."""
    problem = api.prepare(expr, b)
    api.jacobians(problem, api.plan_of(problem, mode, budget))  # imports and first-use caches
    api.clear_cache()
    gc.collect()
    problem = api.prepare(expr, b)
    planned = api.plan_of(problem, mode, budget)
    tracemalloc.start()
    try:
        api.jacobians(problem, planned)
        measured = tracemalloc.get_traced_memory()[1] + planned.values_bytes
    finally:
        tracemalloc.stop()
        api.clear_cache()
    return measured, planned.peak_bytes
