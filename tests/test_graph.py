"""jac graph: the computation graph, its leaves, and every node's gradient after backward."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.tools import api

from jacobi_cli.engine import autodiff
from jacobi_cli.cli.app import app

runner = CliRunner()
CHAIN = "F = a * b; G = 2 * F; G.sum()"


def jac(*args):
    return runner.invoke(app, [str(a) for a in args])


def graph_json(*args):
    result = jac("graph", *args, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    return out, {n["name"] or n["op"]: n for n in out["nodes"]}


def test_vjp_retain_keeps_every_cotangent_and_changes_nothing_else():
    problem = api.prepare(CHAIN, {"a": [1.0, 2.0], "b": [3.0, 4.0]})
    g, seed = problem.graph, np.ones((1,))
    plain = autodiff.vjp(g, problem.values, seed)
    grads, kept = autodiff.vjp(g, problem.values, seed, retain=True)
    assert plain.keys() == grads.keys() and all(np.array_equal(plain[k], grads[k]) for k in plain)
    by_name = {g.nodes[i].name: ct[0] for i, ct in kept.items()}
    assert by_name["G"].tolist() == [1.0, 1.0]  # dy/dG for y = G.sum()
    assert by_name["F"].tolist() == [2.0, 2.0]  # dy/dF = 2
    assert by_name["a"].tolist() == [6.0, 8.0]  # 2 b
    assert not any(g.nodes[i].op == "const" for i in kept)


def test_chain_backward_shows_intermediate_and_leaf_gradients():
    out, nodes = graph_json(CHAIN, "a=[1, 2]", "b=[3, 4]", "--backward")
    assert out["command"] == "graph" and out["output"]["value"] == 22.0
    assert nodes["G"]["grad"] == [1.0, 1.0] and nodes["F"]["grad"] == [2.0, 2.0]
    assert nodes["a"]["grad"] == [6.0, 8.0] and nodes["b"]["grad"] == [2.0, 4.0]
    assert nodes["sum"]["grad"] == 1.0 and nodes["sum"]["name"] is None
    assert nodes["const"]["grad"] is None and nodes["const"]["requires_grad"] is False
    assert (nodes["a"]["leaf"], nodes["F"]["leaf"], nodes["const"]["leaf"]) == (True, False, True)
    assert nodes["F"]["op"] == "mul" and nodes["F"]["kind"] == "vector" and nodes["F"]["shape"] == [2]
    ids = {k: n["id"] for k, n in nodes.items()}
    assert sorted(out["edges"]) == sorted([[ids["a"], ids["F"]], [ids["b"], ids["F"]], [ids["const"], ids["G"]],
                                           [ids["F"], ids["G"]], [ids["G"], ids["sum"]]])
    assert out["output"]["id"] == ids["sum"]


def test_without_backward_there_are_no_gradients():
    out, nodes = graph_json(CHAIN, "a=[1, 2]", "b=[3, 4]")
    assert all(n["grad"] is None for n in out["nodes"])
    assert set(n["id"] for n in out["nodes"]) == set(range(6))


def test_gradients_match_jac_vjp_for_a_non_scalar_output():
    out, nodes = graph_json("sin(x) * y", "x=[0, 1]", "y=[2, 3]", "--backward", "--v", "[1, 10]")
    grads = api.vjp("sin(x) * y", {"x": [0.0, 1.0], "y": [2.0, 3.0]}, v=[1.0, 10.0])
    assert nodes["x"]["grad"] == pytest.approx(grads["x"].tolist())
    assert nodes["y"]["grad"] == pytest.approx(grads["y"].tolist())
    assert nodes["mul"]["grad"] == [1.0, 10.0] and out["v"]["value"] == [1.0, 10.0]


def test_inputs_outside_wrt_do_not_require_grad():
    out, nodes = graph_json("x * c", "x=2", "c=3", "--wrt", "x", "--backward")
    assert nodes["c"]["requires_grad"] is False and nodes["c"]["grad"] is None
    assert nodes["x"]["grad"] == 3.0


def test_tree_draws_names_flags_and_gradients():
    result = jac("graph", CHAIN, "a=[1, 2]", "b=[3, 4]", "--backward")
    assert result.exit_code == 0
    text = result.stdout
    assert "G = mul" in text and "F = mul" in text and "y = sum" in text
    assert ".grad = [6. 8.]" in text and "grad = [2. 2.]" in text
    assert "leaf, requires grad" in text and "non-leaf" in text
    assert text.index("G = mul") < text.index("F = mul") < text.index("a input")  # from the output down


def test_a_shared_node_is_drawn_once():
    text = jac("graph", "x * x + x", "x=2").stdout
    assert text.count("x input") == 1 and text.count("#0 x (shown above)") == 2


def test_big_graph_is_capped_and_says_so():
    expr = " + ".join(f"x * {i}" for i in range(1100))  # a chain deeper than Python's recursion limit
    result = jac("graph", expr, "x=2", "--backward", "--max-nodes", "50")
    assert result.exit_code == 0
    assert "nodes not shown" in result.stdout and "--max-nodes" in result.stdout
    assert result.stdout.count("\n") < 80
    out, _ = graph_json(expr, "x=2", "--backward")
    assert len(out["nodes"]) == 1 + 1100 * 2 + 1099 and out["nodes"][-1]["grad"] == 1.0


def test_dot_to_stdout_and_to_a_file(tmp_path):
    result = jac("graph", CHAIN, "a=[1, 2]", "b=[3, 4]", "--dot", "--backward")
    assert result.exit_code == 0
    dot = result.stdout
    assert dot.startswith("digraph jac {") and dot.rstrip().endswith("}")
    assert "n0 -> n2;" in dot and "F = mul" in dot and "grad = [6. 8.]" in dot
    path = tmp_path / "g.dot"
    result = jac("graph", CHAIN, "a=[1, 2]", "b=[3, 4]", "--out", path, "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["command"] == "graph"
    assert path.read_text().startswith("digraph jac {")


@pytest.mark.parametrize("args,kind", [
    (["x * y", "x=[1, 2]", "y=[3, 4]", "--backward"], "value"),  # a non-scalar output needs --v
    (["x", "x=1", "--v", "1"], "usage"),
    (["x", "x=1", "--dot"], "usage"),  # DOT and JSON both on stdout
    (["x", "x=1", "--out", "g.png"], "usage"),
    (["x", "x=1", "--max-nodes", "0"], "usage"),
    (["x", "x=[1, 2]", "--backward", "--v", "[1, 2, 3]"], "shape"),
])
def test_bad_input_exits_2(args, kind):
    result = jac("graph", *args, "--json")
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["kind"] == kind


@pytest.mark.parametrize("expr, bindings", [
    (CHAIN, ["a=[1, 2]", "b=[3, 4]"]),
    ("é = x * 2; q = é + y; q", ["x:3", "y:3"]),  # a name json.dumps writes as it is (ensure_ascii=False)
    ("a = sin(x); b = sum(x**2); a, b", ["x:3"]),
    ("x.reshape(2, -1) * 2 + 0 * sum(y)", ["x:6", "y:2"]),
    ("x * 2", ["x:3", "y:2"]),  # an input the output does not use
    (" + ".join(f"x*{i}" for i in range(1, 200)), ["x:2x2"]),
])
def test_graph_json_written_from_the_graph_is_the_records_text(expr, bindings):
    """--json writes the nodes and edges straight from the graph (300,000 records are not made);
    the text must be exactly what json.dumps makes of the records."""
    from jacobi_cli.cli.render import to_json
    from jacobi_cli.tools.report import graph_report

    fast = to_json(graph_report(expr, bindings))
    report = graph_report(expr, bindings)
    assert report["nodes"] and report["edges"]  # the records made: the generic path
    assert to_json(report) == fast
    assert json.loads(fast)["nodes"] == report["nodes"]


AWKWARD = [  # values and names json.dumps writes in its own way: the fast text must be its text
    ("naïve = x * 2; 日本 = naïve + x; 日本 / 0", ["x=[0, 1, -1]"]),  # non-ASCII names; NaN, inf, -inf
    ("x * -0.0", ["x=[1, 2]"]),  # negative zeros
    ("𐐀 = x * 1e308; 𐐀 * 10", ["x=[1, -1, 0]"]),  # a name outside the BMP; overflow to inf
    ("x + 1", ["x=[9007199254740993.0]"]),  # a float literal past 2**53: the float it becomes (an integer is refused)
    ("x * 1e-320 + 123456789012345678", ["x:2"]),  # subnormals, a big integer constant
    ("a = sin(x); b = sum(x**2); a, b", ["x=[0.1, 2.5e-7, 3e300]"]),  # several outputs
    ("x.reshape(2, -1) @ y", ["x:4", "y=[[1e16, -0.0], [3.5, 7]]", "z:1"]),  # an unused input
    ("x", ["x:()"]),  # an input alone: no edges
]


@pytest.mark.parametrize("block", [1, 2, 3, 5, 16384])
@pytest.mark.parametrize("expr, bindings", AWKWARD + [(" + ".join(f"x*{i}" for i in range(1, 40)), ["x:2x2"])])
def test_graph_json_pieces_are_the_records_text_at_every_block_size(expr, bindings, block, monkeypatch):
    """The text is made in blocks of nodes (edges kept until the nodes are written): at every
    block boundary, and for blocks without edges (inputs and constants first), it is the text
    json.dumps makes of the records, and write_json writes exactly print(to_json(report))."""
    import io

    from jacobi_cli.cli import render
    from jacobi_cli.tools.report import graph_report

    monkeypatch.setattr(render, "JSON_BLOCK", block)
    records = graph_report(expr, bindings)
    expected = json.dumps(render._jsonable(records.to_json()), ensure_ascii=False, allow_nan=False)
    assert render.to_json(graph_report(expr, bindings)) == expected
    written, printed = io.StringIO(), io.StringIO()
    render.write_json(graph_report(expr, bindings), written)
    print(expected, file=printed)
    assert written.getvalue() == printed.getvalue()
    assert json.loads(expected)["nodes"] == records["nodes"] and json.loads(expected)["edges"] == records["edges"]


@pytest.mark.parametrize("expr, bindings", AWKWARD[:3])
def test_jac_graph_json_prints_the_records_text(expr, bindings):
    """The command line's --json (written piece by piece) is the records' text and a new line."""
    from jacobi_cli.cli.render import _jsonable
    from jacobi_cli.tools.report import graph_report

    result = jac("graph", expr, *bindings, "--json")
    assert result.exit_code == 0, result.output
    records = graph_report(expr, bindings).to_json()
    assert result.stdout == json.dumps(_jsonable(records), ensure_ascii=False, allow_nan=False) + "\n"


def test_graph_json_with_gradients_takes_the_records_path():
    """--backward adds each node's gradient (an array): the records are made and converted."""
    from jacobi_cli.cli.render import _graph_json, to_json
    from jacobi_cli.tools.report import graph_report

    report = graph_report(CHAIN, ["a=[1, 2]", "b=[3, 4]"], backward=True)
    assert _graph_json(report) is None
    grads = {n["name"]: n["grad"] for n in json.loads(to_json(report))["nodes"] if n["name"]}
    assert grads["a"] == [6.0, 8.0] and grads["F"] == [2.0, 2.0]


def test_the_tree_reads_only_the_nodes_it_draws():
    from jacobi_cli.cli.render import Renderer
    from jacobi_cli.tools.report import graph_report

    report = graph_report(" + ".join(f"x*{i}" for i in range(1, 2000)), ["x:3"])
    Renderer().graph(report, max_nodes=20)
    assert report.data["nodes"] is None  # not made: the tree asked for 20 records, not 6,000
    assert len(report["nodes"]) == 3 * 1999 and report.data["nodes"] is not None


@pytest.mark.parametrize("expr, bindings, limit", [
    (" + ".join(f"x*{i}" for i in range(1, 400)), ["x:3"], "5"),
    (" + ".join(f"x*{i}" for i in range(1, 400)), ["x:3", "y:2"], "60"),  # an unused input too
    ("a = sin(x) + x; b = sum(x**2) * a; a, b, a * 2", ["x:3"], "2"),  # several outputs, one read by another
])
def test_the_tree_counts_the_nodes_it_leaves_out(expr, bindings, limit):
    """"N of M nodes not shown": M the nodes another reads plus the outputs (from the --json
    edges), N those of them the tree did not draw (the ids it printed)."""
    import re

    out, _ = graph_json(expr, *bindings)
    outputs = out["outputs"] if "outputs" in out else [out["output"]]
    used = {a for a, _ in out["edges"]} | {o["id"] for o in outputs}
    wide = {"COLUMNS": "400"}  # no label wrapped under the 40 levels of guides: every id drawn is read back
    text = runner.invoke(app, ["graph", expr, *bindings, "--max-nodes", limit], env=wide).stdout
    drawn = {int(i) for i in re.findall(r"#(\d+) ", text)}
    found = re.search(r"\.\.\. ([\d,]+) of ([\d,]+) nodes not shown", text)
    assert found and int(found[2].replace(",", "")) == len(used)
    assert int(found[1].replace(",", "")) == len(used - drawn) > 0
    unused = [name for name, i in out["inputs"].items() if out["nodes"] and name not in
              {n["name"] for n in out["nodes"] if n["id"] in used}]
    assert ("not used by the output: y" in text) == (unused == ["y"])


def test_max_memory_bounds_the_values_and_the_kept_gradients(capsys):
    """--max-memory bounds every command (the contract): jac graph keeps every node's value, and
    with --backward every node's gradient too; both are refused before they are allocated."""
    # sin(sin(x)) at x:10000 holds three vectors of 80 kB: 240 kB of values, as much again of gradients
    args = ["graph", "sum(sin(sin(x)))", "x:10000"]
    assert jac(*args, "--max-memory", "1M").exit_code == 0
    values = jac(*args, "--max-memory", "200k", "--json")
    assert values.exit_code == 2 and json.loads(values.stdout)["error"]["kind"] == "limit"
    assert jac(*args, "--max-memory", "400k").exit_code == 0
    kept = jac(*args, "--backward", "--max-memory", "400k", "--json")
    assert kept.exit_code == 2 and "gradient" in json.loads(kept.stdout)["error"]["message"]
    assert jac(*args, "--backward", "--max-memory", "1M").exit_code == 0
    # the entry point's own parser (no typer) takes it too
    from jacobi_cli.cli import entry
    assert entry.main([*args, "--max-memory", "200k", "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["error"]["kind"] == "limit"
