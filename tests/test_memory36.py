"""Session 36 (h36-memory): the memory budget holds before the refusal, too.

A plan's dry run (``planner.probe_reverse`` / ``probe_forward``) finds each Jacobian's structure from
the patterns alone. It used to list every pattern entry (``JacobianBuilder.finish``: the entries'
rows and columns, then their coalescing: several int64 arrays per entry) before the plan was
compared with the budget, so ``jac eval 'sum(x)' x:20000000 --max-memory 300M`` peaked at 1 GB
before refusing. Past ``PATTERN_MAX`` entries (a plan keeps no pattern that big) the dry run now
counts the distinct entries chunk by chunk (``CountedJacobian``): the same structure, nnz and bytes,
so the same plan. And ``jac hessian`` whose blocks cannot fit is refused before its inputs are drawn.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.engine import autodiff, planner
from jacobi_cli.engine.jacobian import CountedJacobian, JacobianBuilder, SparseJacobian
from jacobi_cli.errors import JacLimitError
from jacobi_cli.ir import structured
from jacobi_cli.tools import api

MB = 2**20
N = 100_001  # odd: x + x[::-1] meets itself in the middle (a repeated entry, summed by the coalescing)

# (expression, extra inputs) whose Jacobians by x have more than PATTERN_MAX entries: diagonal, sparse,
# permutations, repeated entries, dense by a full pattern
CASES = [
    ("sin(x) * x", {}),
    ("x + x", {}),
    ("x + x[::-1]", {}),
    ("x[1:-1] * x[:-2]", {}),
    ("x[:-1:2] + x[1::2]", {}),
    ("sum(x)", {}),
    ("x[:-1].reshape(250, 400).T.reshape(-1) * x[1:]", {}),
    ("concatenate([x, x[:70000] * 2])", {}),
    ("tanh(A @ x[:300])", {"A": (300, 300)}),
]


def _problem(expr: str, extra: dict):
    rng = np.random.default_rng(0)
    values = {"x": rng.standard_normal(N)} | {n: rng.standard_normal(s) for n, s in extra.items()}
    return api.prepare(expr, values)


def _listed(graph, values, names: list, mode: str) -> tuple:
    """The dry run as it was before session 36: every entry listed and coalesced (``finish()``)."""
    with structured.dry_run() as ledger:
        builders = autodiff._builders(graph, names, mode)
        if mode == "reverse":
            parts = autodiff.reverse_part(graph, values, 0, None)
        else:
            parts = {names[0]: autodiff.forward_part(graph, values, names[0], 0, None)}
        for name in names:
            builders[name].add(parts.pop(name), 0)
        del parts
        done = {name: b.finish() for name, b in builders.items()}
        return {n: (j.structure, j.nnz, j.nbytes) for n, j in done.items()}, ledger.peak, ledger.work


@pytest.mark.parametrize("mode", ["reverse", "forward"])
@pytest.mark.parametrize("expr,extra", CASES, ids=[c[0] for c in CASES])
def test_a_counted_dry_run_finds_what_the_listed_one_finds(expr, extra, mode):
    p = _problem(expr, extra)
    names = ["x"]
    graph = p.graph.with_wrt(names)
    probe = (planner.probe_reverse(graph, p.values, names) if mode == "reverse"
             else planner.probe_forward(graph, p.values, "x"))
    found, peak, work = _listed(graph, p.values, names, mode)
    assert (probe.structures["x"], probe.nnz["x"], probe.result_bytes["x"]) == found["x"]
    assert (probe.peak, probe.work) == (peak, work)
    assert probe.nnz["x"] > planner.PATTERN_MAX or probe.structures["x"] == "dense"


def test_the_counted_jacobian_is_made_past_pattern_max_only():
    p = _problem("x[1:-1] * x[:-2]", {})
    small = api.prepare("x[1:-1] * x[:-2]", {"x": np.arange(1.0, 50.0)})
    for problem, kind in ((p, CountedJacobian), (small, SparseJacobian)):
        with structured.dry_run():
            x_shape = problem.graph.nodes[problem.graph.inputs["x"]].shape
            builder = JacobianBuilder("x", problem.graph.output_shape, x_shape, "reverse", problem.graph.dtype)
            builder.add(autodiff.reverse_part(problem.graph, problem.values, 0, None)["x"], 0)
            assert type(builder.finish(lean_above=planner.PATTERN_MAX)) is kind


def test_plans_past_pattern_max_are_as_before():
    """The plan (what --explain prints) of a Jacobian with a counted pattern, against the listed dry run's."""
    p = _problem("x[1:-1] * x[:-2]", {})
    plan = planner.make_plan(p.graph, p.values, ["x"], "auto", 2**40)
    found, peak, work = _listed(p.graph.with_wrt(["x"]), p.values, ["x"], "reverse")
    x = plan.inputs["x"]
    assert (x.structure, x.nnz, x.result_bytes) == found["x"]
    assert x.pattern is None and "sparse" in "\n".join(plan.explain())


def _traced_peak(run) -> tuple:
    """``(error or None, peak bytes)``: what ``run()`` allocated at most, its inputs included."""
    tracemalloc.start()
    try:
        try:
            run()
            error = None
        except JacLimitError as err:
            error = err
        return error, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("expr,budget", [("sum(x)", 20), ("sum(x * x)", 40), ("sum(x[1:] * x[:-1])", 90),
                                         ("x[1:] * x[:-1]", 120), ("x + x", 60)])
def test_a_refusal_of_2m_elements_keeps_its_budget(expr, budget):
    """Refused by the plan (the forward values fit, the Jacobians with them do not), after its dry run."""
    def run():
        x = np.random.default_rng(0).standard_normal(2_000_000)  # 16 MB of the budget: allocated under the trace
        api.jacobian(expr, {"x": x}, max_memory=f"{budget}M")

    error, peak = _traced_peak(run)
    assert error is not None and "the forward pass" not in error.message and f"{budget}.0 MiB" in error.message
    assert peak < budget * MB, f"peaked at {peak / MB:.1f} MiB before refusing"


@pytest.mark.parametrize("expr", ["sum(x)", "sum(x[1:-1] * x[:-2])", "x[1:] * x[:-1]", "x + x[::-1]",
                                  "x[:-1].reshape(1000, 1999).T.reshape(-1) * x[1:]"])
def test_a_dry_run_allocates_no_more_than_the_pass_it_predicts(expr):
    """The plan holds a pass to the budget by the dry run's predicted peak; the dry run itself (its patterns,
    a slice's scatter, the counting of the entries) stays under that prediction."""
    p = api.prepare(expr, {"x": np.random.default_rng(0).standard_normal(1_999_001)})
    error, peak = _traced_peak(lambda: found.append(planner.probe_reverse(p.graph, p.values, ["x"])))
    assert error is None and peak <= found[-1].peak, (peak / MB, found[-1].peak / MB)


found: list = []


def test_the_cli_refusal_of_sum_keeps_its_budget():
    """`jac eval 'sum(x)' x:2000000 --max-memory 40M`: drawn, planned and refused (the plan's pass does not fit)
    within 40 MB of jac's own allocations (it peaked at ~110 MB when the dry run listed every entry)."""
    runner = CliRunner()
    error, peak = _traced_peak(lambda: _invoke(runner, ["eval", "sum(x)", "x:2000000", "--max-memory", "40M"]))
    assert peak < 40 * MB, f"peaked at {peak / MB:.1f} MiB before refusing"


def _invoke(runner, argv):
    result = runner.invoke(app, argv)
    assert result.exit_code == 2 and "memory budget of 40.0 MiB" in result.output, result.output


@pytest.mark.parametrize("expr", ["x @ x + sum(x)", "sum(x[1:] * x[:-1])"])
def test_an_answer_within_the_budget_stays_within_its_plan(expr):
    """Answered calls of 2M elements whose dry runs once needed several times the Jacobian's bytes to find its
    structure: jac's allocations (the input included) stay under the plan's predicted peak."""
    x = np.random.default_rng(0).standard_normal(2_000_000)
    predicted = api.plan(expr, {"x": x}, max_memory="400M").peak_bytes
    assert predicted < 400 * MB

    def run():
        y = np.random.default_rng(0).standard_normal(2_000_000)
        J = api.jacobian(expr, {"x": y}, max_memory="400M")["x"]
        assert J.shape == (2_000_000,)

    error, peak = _traced_peak(run)
    assert error is None and peak <= predicted + MB, (peak / MB, predicted / MB)


def test_a_hessian_too_big_is_refused_before_its_input_is_drawn():
    """10^8 drawn values (800 MB) would be drawn and evaluated before the blocks (10^16 elements) were
    checked: now the blocks are checked from the shapes first, and nothing is drawn."""
    runner = CliRunner()

    def run():
        result = runner.invoke(app, ["hessian", "sum(x)", "x:100000000", "--max-memory", "1G"])
        assert result.exit_code == 2 and "Hessian block" in result.output, result.output

    error, peak = _traced_peak(run)
    assert error is None and peak < 50 * MB


def test_a_hessian_that_fits_is_still_answered_with_drawn_inputs():
    runner = CliRunner()
    result = runner.invoke(app, ["hessian", "sum(x ** 3)", "x:3", "--json"])
    assert result.exit_code == 0, result.output
    x = np.random.default_rng(0).standard_normal(3)
    assert np.allclose(np.diag(np.array(__import__("json").loads(result.output)["hessian"]["x,x"]["value"])), 6 * x)


def test_a_slice_scatter_agrees_with_the_general_rule_exactly(monkeypatch):
    """structured._scatter_basic (a batch of one slot at slices and integers) skips the general scatter's index
    arrays: its columns and values must be the general rule's bit for bit (-0, inf, NaN, unstored -1 slots), on
    random shapes and basic indexes."""
    from jacobi_cli.ir import structured

    rng = np.random.default_rng(36)
    fast_used = 0
    for _ in range(600):
        shape = tuple(int(rng.integers(1, 5)) for _ in range(int(rng.integers(1, 4))))
        index = tuple(int(rng.integers(-n, n)) if rng.random() < 0.3 else
                      slice(rng.choice([int(rng.integers(-n - 1, n + 1)), None]),
                            rng.choice([int(rng.integers(-n - 1, n + 1)), None]), int(rng.choice([1, 2, -1, -2, 3])))
                      for n in shape)
        sub = np.empty(shape)[index].shape
        batch = int(rng.integers(1, 4))
        col = rng.integers(-1, batch, size=(1,) + sub).astype(np.intp)
        col = np.abs(col) if rng.random() < 0.5 else col
        val = None if rng.random() < 0.3 else rng.choice([0.0, -0.0, 1.5, np.inf, np.nan, -2.0], size=(1,) + sub)
        a = structured.SparseBatch(batch, col, val, np.float64)
        at, full = (slice(None),) + index, (batch,) + shape
        fast_used += structured._scatter_basic(a, at, full) is not None
        fast = structured.scatter_rule(a, at, full)
        with monkeypatch.context() as m:
            m.setattr(structured, "_scatter_basic", lambda *args: None)
            general = structured.scatter_rule(a, at, full)
        np.testing.assert_array_equal(fast.col, general.col)
        assert (fast.val is None) == (general.val is None)
        if fast.val is not None:
            np.testing.assert_array_equal(fast.val, general.val)
            np.testing.assert_array_equal(np.signbit(fast.val), np.signbit(general.val))
    assert fast_used > 400  # the fast path is the one taken for most of them
