"""jac hessian under a memory budget: --max-memory, chunked passes, refusals before allocation, --explain."""

import json
import tracemalloc
from dataclasses import replace

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.tools import api

from jacobi_cli.engine import autodiff
from jacobi_cli.cli.app import app
from jacobi_cli.errors import JacLimitError

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args))


def run_json(*args):
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def tight(problem):
    """A budget between the values and blocks and the unchunked plan's peak."""
    free = api.hessian_plan_of(problem)
    floor = free.values_bytes + free.result_bytes
    return floor + (free.peak_bytes - floor) // 4


CASES = [
    ("x @ A @ x", {"x": ":40", "A": ":40x40"}, ["x"]),
    ("x @ A @ x", {"x": ":12", "A": ":12x12"}, None),  # blocks (x, A), (A, x) and (A, A) too
    ("sum(sin(x) * y)", {"x": ":60", "y": ":60"}, None),
    ("sum(tanh(A @ x) * y) + (x @ y)**2", {"x": ":30", "y": ":30", "A": ":30x30"}, ["x", "y"]),
    ("logsumexp(A @ x) + norm(x)**3", {"x": ":50", "A": ":50x50"}, ["x"]),
    ("prod(sigmoid(x)) + sum(softmax(X @ x) * exp(X @ x))", {"x": ":20", "X": ":5x20"}, None),
]
# sum(sin(x) * y) keeps its passes sparse (diagonal blocks): one basis vector costs what all do,
# so no budget chunks it; the others carry dense tangents whose bytes grow with the batch.
DENSE_PASSES = [c for c in CASES if c[0] != "sum(sin(x) * y)"]


@pytest.mark.parametrize("expr,bindings,wrt", CASES, ids=[c[0] for c in CASES])
def test_chunked_hessians_equal_whole_ones(expr, bindings, wrt):
    problem = api.prepare(expr, bindings, wrt)
    plan = api.hessian_plan_of(problem)
    whole = api.hessians(problem, plan)
    for step in (1, 7):
        chunked = api.hessians(problem, replace(plan, batch={name: step for name in plan.shapes}))
        assert list(chunked) == list(whole)
        for key, block in whole.items():
            np.testing.assert_allclose(chunked[key], block, rtol=1e-12, atol=1e-12, err_msg=f"{expr} {key} by {step}")


@pytest.mark.parametrize("expr,bindings,wrt", DENSE_PASSES, ids=[c[0] for c in DENSE_PASSES])
def test_a_tight_budget_chunks_the_passes(expr, bindings, wrt):
    problem = api.prepare(expr, bindings, wrt)
    whole = api.hessians(problem)
    plan = api.hessian_plan_of(problem, tight(problem))
    assert plan.refusal is None and plan.peak_bytes <= plan.budget
    assert any(plan.passes(name) > 1 for name in plan.shapes) and plan.notes
    chunked = api.hessians(problem, plan)
    for key, block in whole.items():
        np.testing.assert_allclose(chunked[key], block, rtol=1e-12, atol=1e-12, err_msg=f"{expr} {key}")


def test_chunked_blocks_of_two_inputs_are_transposes_of_each_other():
    bindings = {"x": ":25", "y": ":25"}
    problem = api.prepare("sum(tanh(x * y)) + (x @ y)**2", bindings)
    H = api.hessians(problem, api.hessian_plan_of(problem, tight(problem)))
    np.testing.assert_allclose(H[("x", "y")], H[("y", "x")].T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(H[("x", "x")], H[("x", "x")].T, rtol=1e-12, atol=1e-12)
    x, y = problem.env["x"], problem.env["y"]
    s = 1 - np.tanh(x * y) ** 2  # d/dx tanh(xy) = y s; d²/dx dy = s - 2 xy tanh(xy) s, on the diagonal
    expect = np.diag(s - 2 * x * y * np.tanh(x * y) * s) + 2 * np.outer(y, x) + 2 * (x @ y) * np.eye(25)
    np.testing.assert_allclose(H[("x", "y")], expect, rtol=1e-10, atol=1e-12)


def test_the_api_takes_max_memory():
    bindings = {"x": np.linspace(-1, 1, 40), "A": np.arange(1600.0).reshape(40, 40) / 1600}
    whole = api.hessian("x @ A @ x + sum(exp(A @ x))", bindings, wrt=["x"])[("x", "x")]
    budget = tight(api.prepare("x @ A @ x + sum(exp(A @ x))", bindings, ["x"]))
    chunked = api.hessian("x @ A @ x + sum(exp(A @ x))", bindings, wrt=["x"], max_memory=budget)[("x", "x")]
    np.testing.assert_allclose(chunked, whole, rtol=1e-12, atol=1e-12)
    with pytest.raises(JacLimitError, match="nothing was allocated"):
        api.hessian("sum(x**2)", {"x": ":3000"}, max_memory="10M")


def test_a_chunked_pass_stays_within_its_budget():
    problem = api.prepare("sum(exp(X) @ Y)", {"X": ":20x30", "Y": ":30x20"})
    whole = api.hessian_plan_of(problem)
    plan = api.hessian_plan_of(problem, tight(problem))
    assert plan.peak_bytes < whole.peak_bytes
    problem = api.prepare("sum(exp(X) @ Y)", {"X": ":20x30", "Y": ":30x20"})  # nothing traced yet
    tracemalloc.start()
    try:
        api.hessians(problem, plan)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak <= 1.1 * plan.budget < whole.peak_bytes  # the prediction is of the code that ran


def test_the_cli_chunks_with_max_memory_and_explains():
    args = ["hessian", "x @ A @ x + sum(tanh(A @ x))", "x:40", "A:40x40", "--wrt", "x"]
    whole = run_json(*args)["hessian"]["x,x"]["value"]
    out = run_json(*args, "--max-memory", "40k", "--explain")
    plan = out["plan"]
    assert plan["budget_bytes"] == 40 * 1024 and plan["refused"] is None and plan["notes"]
    assert plan["inputs"]["x"]["passes"] > 1 and plan["inputs"]["x"]["batch"] < 40
    assert plan["blocks"]["x,x"] == {"shape": [40, 40], "bytes": 40 * 40 * 8}
    assert plan["values_bytes"] + plan["result_bytes"] < plan["peak_bytes"] <= plan["budget_bytes"]
    np.testing.assert_allclose(out["hessian"]["x,x"]["value"], whole, rtol=1e-12, atol=1e-12)


def test_explain_prints_the_plan_before_the_result():
    result = invoke("hessian", "x @ A @ x", "x=[1, 2]", "A=[[1, 2], [3, 4]]", "--explain")
    assert result.exit_code == 0, result.output
    plan, _, rest = result.stdout.partition("x @ A @ x\n")
    assert plan.startswith("hessian plan: 2 inputs, 4 blocks")
    assert "block ∂²y/∂A∂x (2, 2, 2): 64 B" in plan
    assert "passes over x (2,): 1 pass of 2 basis vectors" in plan and "budget" in plan
    assert "∂²y/∂x∂x" in rest


def test_blocks_over_the_budget_are_refused_through_the_cli(monkeypatch):
    def traced(*args, **kwargs):
        raise AssertionError("the gradient graph was traced before the refusal")

    monkeypatch.setattr(autodiff, "grad_graph", traced)  # refused from the shapes: nothing traced or evaluated
    tracemalloc.start()
    try:
        result = invoke("hessian", "sum(x**2)", "x:100000", "--max-memory", "100M", "--json")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == "limit"
    message = error["message"]
    assert "∂²y/∂x∂x is 100,000 × 100,000, shape (100000, 100000)" in message
    assert "80,000,000,000 bytes (74.5 GiB)" in message and "104,857,600 bytes (100.0 MiB)" in message
    assert "nothing was allocated" in message and "--max-memory" in message and "--wrt" in message
    assert "jac: error (limit)" in result.stderr and "Traceback" not in result.output
    assert peak < 50 * 2**20  # the input and its parse: nothing of the 80 GB


def test_a_pass_that_cannot_fit_even_one_basis_vector_is_refused():
    result = invoke("hessian", "x @ A @ x + sum(tanh(A @ x))", "x:200", "A:200x200", "--wrt", "x",
                    "--max-memory", "660k", "--json")
    assert result.exit_code == 2, result.output
    message = json.loads(result.stdout)["error"]["message"]
    assert "even one basis vector per pass" in message and "the Hessian's passes over x" in message
    explained = invoke("hessian", "x @ A @ x + sum(tanh(A @ x))", "x:200", "A:200x200", "--wrt", "x",
                       "--max-memory", "660k", "--explain")
    assert explained.exit_code == 2 and "refused: it does not fit the budget" in explained.stdout


def test_a_block_over_the_limit_per_array_is_still_refused():
    with pytest.raises(JacLimitError, match="over the limit of 2,147,483,648 bytes per array"):
        api.hessians(api.prepare("sum(x**2)", {"x": ":20000"}), budget=2**40)


@pytest.mark.parametrize("value", ["lots", "0", "150%"])
def test_a_bad_budget_is_a_usage_error(value):
    result = invoke("hessian", "x @ x", "x=[1, 2]", "--max-memory", value, "--json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == "usage" and "--max-memory" in error["message"]
