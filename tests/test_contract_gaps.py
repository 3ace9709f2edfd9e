"""Where jac met the contract only in part (found by an audit): --batch on every command that
computes, --max-memory on jac diff and jac run, jac diff --order K's math_shape against jac
hessian's, and --v ones beside an output named ones."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app

runner = CliRunner()


def jac(*args, code=0):
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, (args, result.stdout, result.stderr)
    return result


def jac_json(*args, code=0):
    return json.loads(jac(*args, "--json", code=code).stdout)


BATCHED = [
    ["eval", "sin(x) * w", "x=[[1, 2], [3, 4], [5, 6]]", "w=[1, 2]"],
    ["vjp", "sum(sin(x) * w)", "x=[[1, 2], [3, 4], [5, 6]]", "w=[1, 2]"],
    ["jvp", "sin(x) * w", "x=[[1, 2], [3, 4], [5, 6]]", "w=[1, 2]", "--tangent", "x=ones"],
    ["hessian", "sum(sin(x) * w)", "x=[[1, 2], [3, 4], [5, 6]]", "w=[1, 2]"],
    ["derivative", "sin(x) * w", "x=[[1, 2], [3, 4], [5, 6]]", "w=[1, 2]", "--wrt", "x", "--order", "3"],
    ["shape", "sin(x) * w", "x:3x2", "w:2"],
    ["diff", "sin(x) * w", "x:3x2", "w:2", "--wrt", "x"],
    ["check", "sin(x) * w", "x=[[1, 2], [3, 4], [5, 6]]", "w=[1, 2]"],
    ["graph", "sum(sin(x) * w)", "x=[[1, 2], [3, 4], [5, 6]]", "w=[1, 2]", "--backward"],
]


@pytest.mark.parametrize("args", BATCHED, ids=[a[0] for a in BATCHED])
def test_every_command_that_computes_takes_batch_and_says_so_in_json(args):
    out = jac_json(*args, "--batch", "x")
    assert {k: out["batch"][k] for k in ("size", "inputs")} == {"size": 3, "inputs": {"x": 0}}  # check adds "failed"
    assert out["inputs"]["x"]["shape"] == [2]  # shapes describe one example
    human = jac(*args, "--batch", "x").stdout
    assert "batched along axis 0" in human and "3 examples" in human


def test_plot_takes_batch(tmp_path):
    out = jac_json("plot", "a * x**2", "x=[1, -2, 3]", "a=0.5", "--wrt", "x", "--batch", "x", "--out",
                   str(tmp_path / "p.png"))
    assert out["batch"] == {"size": 3, "inputs": {"x": 0}}


def _node(out, name):
    return next(n for n in out["nodes"] if n["name"] == name)


def test_graph_batch_gives_each_examples_gradients_as_vjp_batch_does():
    args = ["F = W @ x; sum(tanh(F))", "x=[[1, 2], [3, -4], [0.5, 6]]", "W=[[1, -1], [0.5, 2]]", "--batch", "x"]
    graph = jac_json("graph", *args, "--backward")
    vjp = jac_json("vjp", *args)
    assert graph["output"]["value"] == vjp["output"]["value"] and len(graph["output"]["value"]) == 3
    for name in ("x", "W"):
        assert np.array_equal(_node(graph, name)["grad"], vjp["vjp"][name]["value"]), name
    assert np.shape(_node(graph, "W")["grad"]) == (3, 2, 2)  # per-example gradients of a shared weight
    assert np.shape(_node(graph, "F")["grad"]) == (3, 2) and _node(graph, "F")["shape"] == [2]
    for b, x in enumerate([[1, 2], [3, -4], [0.5, 6]]):  # each example as its own graph
        one = jac_json("graph", "F = W @ x; sum(tanh(F))", f"x={x}", "W=[[1, -1], [0.5, 2]]", "--backward")
        assert _node(one, "F")["grad"] == _node(graph, "F")["grad"][b]


def test_graph_batch_of_several_outputs_takes_v_per_output_with_the_batch_axis():
    out = jac_json("graph", "a = sin(x); b = x * 2; a, b", "x=[1, 2, 3]", "--batch", "x", "--backward",
                   "--v", "b=[1, 2, 3]")
    assert [o["value"] for o in out["outputs"]][1] == [2.0, 4.0, 6.0]
    assert out["v"]["a"]["value"] == [0, 0, 0] and out["v"]["b"]["value"] == [1, 2, 3]
    assert _node(out, "x")["grad"] == [2.0, 4.0, 6.0]  # b = 2x, v_b = [1, 2, 3]: 2 * v per example
    jac("graph", "sin(x)", "x=[1, 2]", "--batch", "x", "--v", "ones", code=2)  # --v needs --backward


def test_plot_batch_draws_one_tangent_per_example_as_each_alone(tmp_path):
    out = jac_json("plot", "a * x**3", "x=[1, -2, 0.5]", "a=2", "--wrt", "x", "--batch", "x", "--out",
                   str(tmp_path / "b.svg"))
    for b, x in enumerate([1, -2, 0.5]):
        one = jac_json("plot", "a * x**3", f"x={x}", "a=2", "--wrt", "x", "--out", str(tmp_path / "one.svg"))
        assert out["point"]["x"][b] == one["point"]["x"] and out["point"]["y"][b] == one["point"]["y"]
        assert out["tangent"]["slope"][b] == one["tangent"]["slope"] == 6 * x**2
        assert out["tangent"]["intercept"][b] == one["tangent"]["intercept"]
    assert out["range"][0] <= -2 - 4 and out["range"][1] >= 1 + 2  # every example's point, with room
    assert (tmp_path / "b.svg").read_text().count("<path") > (tmp_path / "one.svg").read_text().count("<path")
    human = jac("plot", "a * x**3", "x=[1, -2, 0.5]", "a=2", "--wrt", "x", "--batch", "x", "--out",
                str(tmp_path / "b.png")).stdout
    assert "example 1: tangent at x = -2: y = 24x + 32" in human


def test_plot_batch_refuses_a_crowd_and_names_the_example_without_a_tangent(tmp_path):
    err = jac_json("plot", "x**2", "x=arange(101.)", "--batch", "x", "--out", str(tmp_path / "p.png"), code=2)
    assert err["error"]["kind"] == "usage" and "at most 100" in err["error"]["message"]
    err = jac_json("plot", "log(x)", "x=[1, -2]", "--batch", "x", "--out", str(tmp_path / "p.png"), code=2)
    assert err["error"]["message"].startswith("example 1: ") and not (tmp_path / "p.png").exists()


def test_diff_batch_gives_one_examples_formulas_and_refuses_values():
    batched = jac_json("diff", "x.T @ A @ x", "x:5xn", "A:nxn", "--wrt", "x", "--batch", "x")
    alone = jac_json("diff", "x.T @ A @ x", "x:n", "A:nxn", "--wrt", "x")
    assert batched["derivative"] == alone["derivative"] and batched["batch"] == {"size": 5, "inputs": {"x": 0}}
    err = jac_json("diff", "sum(x**2)", "x=[[1, 2], [3, 4]]", "--wrt", "x", "--batch", "x", code=2)["error"]
    assert err["kind"] == "usage" and "jac eval --batch" in err["message"]
    assert jac_json("diff", "sum(x)", "x:nx3", "--batch", "x", code=2)["error"]["kind"] == "usage"


@pytest.mark.parametrize("binding", ["x=2", "x=[1, 2, 3]", "x=[[1, 2, 3], [4, 5, 6]]"])
def test_diff_order_2_has_hessians_math_shape(binding):
    diff = jac_json("diff", "sum(x**3)", binding, "--wrt", "x", "--order", "2")["derivative"]["x"]
    hessian = jac_json("hessian", "sum(x**3)", binding)["hessian"]["x,x"]
    assert diff["shape"] == hessian["shape"] and diff["math_shape"] == hessian["math_shape"]
    assert diff["value"] == hessian["value"]


def test_diff_math_shape_of_a_scalar_by_a_scalar_is_the_tables_at_every_order():
    for order in ("1", "2", "3"):
        block = jac_json("diff", "x**4", "x=2", "--wrt", "x", "--order", order)["derivative"]["x"]
        assert block["shape"] == [] and block["math_shape"] == [1], order
    third = jac_json("diff", "sum(x**4)", "x=[1, 2]", "--wrt", "x", "--order", "3")["derivative"]["x"]
    assert third["math_shape"] == [2, 2, 2]


def test_v_ones_beside_an_output_named_ones_is_refused_naming_both_readings():
    expr = "ones = sin(x); b = x**2; ones, b"
    for command in (["vjp"], ["graph", "--backward"]):
        err = jac_json(*command, expr, "x=[1, 2]", "--v", "ones", code=2)["error"]
        assert err["kind"] == "usage" and "--v ones=ones --v b=ones" in err["message"]
        assert "the output ones alone" in err["message"]
    both = jac_json("vjp", expr, "x=[1, 2]", "--v", "ones=ones", "--v", "b=ones")["vjp"]["x"]["value"]
    other = jac_json("vjp", "a = sin(x); b = x**2; a, b", "x=[1, 2]", "--v", "ones")["vjp"]["x"]["value"]
    assert both == other
    one = jac_json("vjp", "ones = sin(x); ones", "x=[1, 2]", "--v", "ones")  # one output: one reading
    assert one["v"]["value"] == [1, 1]


def test_a_lone_outputs_v_names_that_output_or_none():
    err = jac_json("vjp", "sin(x)", "x=[1, 2]", "--v", "z=[1, 2]", code=2)["error"]
    assert err["kind"] == "usage" and "named y, not z" in err["message"]
    assert jac_json("vjp", "sin(x)", "x=[1, 2]", "--v", "y=[1, 2]")["v"]["value"] == [1, 2]
    assert jac_json("vjp", "sin(x)", "x=[1, 2]", "--v", "full(2, fill_value=3)")["v"]["value"] == [3, 3]


def test_diff_takes_max_memory_for_its_values():
    err = jac_json("diff", "sum(x**2)", "--wrt", "x", "--at", "x=ones(200)", "x:n", "--max-memory", "1K",
                   code=2)["error"]
    assert err["kind"] == "limit" and "ones(200,)" in err["message"]
    assert jac_json("diff", "sum(x**2)", "--wrt", "x", "--at", "x=ones(20)", "x:n", "--max-memory", "1K")["at"]
    assert jac_json("diff", "x", "--wrt", "x", "--max-memory", "lots", code=2)["error"]["kind"] == "usage"


def test_run_takes_max_memory_for_the_values_and_each_case(tmp_path):
    suite = tmp_path / "s.toml"
    suite.write_text('[[case]]\nname = "big"\nexpr = "sum(x**2)"\nbindings = { x = "ones(1000)" }\n'
                     'jacobian = { x = "2 * ones(1000)" }\n')
    assert jac_json("run", str(suite), "--max-memory", "1M", "-j", "1")["passed"]
    out = jac_json("run", str(suite), "--max-memory", "20K", "-j", "1", code=2)
    assert out["cases"][0]["error"]["kind"] == "limit" and "20.0 KiB" in out["cases"][0]["error"]["message"]
    err = jac_json("run", str(suite), "--max-memory", "4K", code=2)["error"]  # its values alone are 8 KB
    assert err["kind"] == "limit" and err["case"] == "big"
    assert jac_json("run", str(suite), "--max-memory", "0", code=2)["error"]["kind"] == "usage"


def test_run_shares_the_budget_among_the_workers(monkeypatch):
    from jacobi_cli.cli import commands
    from jacobi_cli.tools import suite

    seen = []
    monkeypatch.setattr(suite, "run_cases", lambda cases, workers, *rest: seen.extend(
        (c.budget, workers) for c in cases) or [suite.run_case(c) for c in cases])
    monkeypatch.setattr(suite, "default_jobs", lambda: 4)
    commands.run_suite("examples/seeds.toml", [], None, 4, None, True, "40M")
    assert seen and all(budget == 10 * 2**20 and workers == 4 for budget, workers in seen)


X = "x=[[1, 2], [3, 4], [5, 6]]"
V3 = "[[1, 0], [0, 1], [1, 1]]"


@pytest.mark.parametrize("args, batch, picked, shape, value_shape", [
    (["vjp", "x * w", X, "w=[1, 2]", "--v", V3], "x", ("v",), [2], (3, 2)),
    (["vjp", "sum(x * w)", X, "w=[1, 2]"], "x", ("v",), [], (3,)),
    (["vjp", "a = x * w; b = sum(x); a, b", X, "w=[1, 2]", "--v", f"a={V3}"], "x", ("v", "b"), [], (3,)),
    (["graph", "x * w", X, "w=[1, 2]", "--backward", "--v", V3], "x", ("v",), [2], (3, 2)),
    (["jvp", "x * w", X, "w=[1, 2]", "--tangent", f"x={V3}", "--tangent", "w=[1, 1]"], "x", ("tangent", "x"),
     [2], (3, 2)),
    (["jvp", "x * w", X, "w=[1, 2]", "--tangent", f"x={V3}", "--tangent", "w=[1, 1]"], "x", ("tangent", "w"),
     [2], (2,)),
    (["jvp", "x * w", "x=[[1, 3, 5], [2, 4, 6]]", "w=[1, 2]", "--tangent", "x=[[1, 0, 1], [0, 1, 1]]",
      "--tangent", "w=[[1, 1], [2, 2], [3, 3]]"], "x:1", ("tangent", "x"), [2], (3, 2)),
    (["jvp", "x * w", "x=[[1, 3, 5], [2, 4, 6]]", "w=[1, 2]", "--tangent", "x=[[1, 0, 1], [0, 1, 1]]",
      "--tangent", "w=[[1, 1], [2, 2], [3, 3]]"], "x:1", ("tangent", "w"), [2], (3, 2)),
])
def test_v_and_tangent_shapes_under_batch_are_one_examples(args, batch, picked, shape, value_shape):
    """Under --batch every "shape" is one example's (the contract), the --v's and --tangent's
    too: a value that carries the batch axis has it first, its shape does not (it had it)."""
    given = jac_json(*args, "--batch", batch)
    for key in picked:
        given = given[key]
    assert given["shape"] == shape and np.shape(given["value"]) == value_shape
