"""Session 46: ``Node`` is a class of slots, not a NamedTuple (``ir/graph.py``).

What the NamedTuple gave and the code relies on is kept and checked here: the fields and their defaults,
``_replace``, identity equality and hash, pickling and copying, and immutability: a write of a field raises
(``new_node`` fills a ``_Fields`` object and makes it a ``Node``; ~0.5 k instructions a node, kept: nodes are shared
by graphs, the API's cache and compiled functions). Beside the refusal the tests below check that no code of the
package writes a node's field (read off its source) and that the commands leave every node as it was. What the NamedTuple
gave and nothing may rely on any more, the tuple protocol, is refused loudly (``node[1]`` raises).
"""
from __future__ import annotations

import ast
import copy
import pickle
from pathlib import Path

import numpy as np
import pytest

import jacobi_cli
from jacobi_cli.engine.compiled import Compiled
from jacobi_cli.ir.graph import NODE_FIELDS, Builder, Node, new_node
from jacobi_cli.lang.parser import parse

PACKAGE = Path(jacobi_cli.__file__).resolve().parent
EXPRESSIONS = ["sin(x) * x**2 + exp(-x)", "x @ A @ x", "tanh(A @ x)", "sum(x * x)", "softmax(x)",
               "sum(tanh(A @ tanh(A @ x)))", "x[x > 0].sum() * 2.0", "y = x * 2\nz = y + 1\n(y * z).sum()"]
SHAPES = {"x": (3,), "A": (3, 3)}
VALUES = {"x": np.array([0.5, -1.0, 2.0]), "A": np.arange(9.0).reshape(3, 3) / 9}


def _graph(expr: str):
    return parse(expr, {name: shape for name, shape in SHAPES.items() if name in expr}, values=VALUES)


def test_the_fields_and_defaults_are_the_namedtuples():
    assert NODE_FIELDS == ("id", "op", "args", "params", "shape", "name", "position", "requires_grad", "value")
    assert new_node(3, "sin").fields() == (3, "sin", (), {}, (), None, None, False, None)
    full = new_node(4, "add", (1, 2), {"k": 1}, (2, 3), "y", 7, True, 1.5)
    assert full.fields() == (4, "add", (1, 2), {"k": 1}, (2, 3), "y", 7, True, 1.5)
    assert new_node(id=4, op="add", value=2.0, shape=(2,)).fields() == (4, "add", (), {}, (2,), None, None, False, 2.0)
    assert new_node(0, "input").leaf and new_node(0, "const").leaf and not new_node(1, "sin", (0,)).leaf
    assert Node(3, "sin").fields() == new_node(3, "sin").fields() and type(Node(3, "sin")) is Node
    node = new_node(3, "sin", (0,))
    with pytest.raises(AttributeError, match="immutable"):
        node.op = "cos"
    with pytest.raises(AttributeError, match="immutable"):
        del node.args
    assert node.op == "sin" and node.args == (0,)


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_every_node_a_graph_holds_is_a_whole_node(expr):
    """The builder's, the short reader's and with_wrt's nodes: each made by new_node, every field set."""
    graph = _graph(expr)
    for g in (graph, graph.with_wrt(["x"]), graph.with_wrt([])):
        for i, node in enumerate(g.nodes):
            assert type(node) is Node and node.id == i and len(node.fields()) == len(NODE_FIELDS)


def _node_names(function: ast.AST) -> set:
    """The names a function binds to nodes: ``NAME = X.nodes[...]`` (``node = nodes[i]``, ``held = b.nodes[k]``),
    ``NAME = X.node``, ``NAME = new_node(...)`` or ``NAME = X._replace(...)``, and a loop's names over nodes."""
    def a_node(expr) -> bool:
        return (isinstance(expr, ast.Subscript) and ast.unparse(expr.value).endswith("nodes")) \
            or (isinstance(expr, ast.Attribute) and expr.attr == "node") \
            or (isinstance(expr, ast.Call) and ast.unparse(expr.func).endswith(("new_node", "_replace")))

    names = set()
    for n in ast.walk(function):
        if isinstance(n, ast.Assign) and a_node(n.value):
            names |= {t.id for t in n.targets if isinstance(t, ast.Name)}
        elif isinstance(n, ast.NamedExpr) and a_node(n.value):
            names.add(n.target.id)
        elif isinstance(n, (ast.For, ast.comprehension)) and "nodes" in ast.unparse(n.iter):
            names |= {e.id for e in ast.walk(n.target) if isinstance(e, ast.Name)}
    return names


def _field_writes(tree: ast.AST) -> list:
    """``(line, text)`` of every write or deletion of a node's field in ``tree``'s functions: ``NAME.FIELD`` of
    ``node`` or of a name bound to a node (see above), and ``X.nodes[...].FIELD``; new_node's own excepted."""
    found = []
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) \
                or getattr(function, "name", "") == "new_node":
            continue
        names = _node_names(function) | {"node"}
        for n in ast.walk(function):
            if isinstance(n, ast.Attribute) and n.attr in NODE_FIELDS and isinstance(n.ctx, (ast.Store, ast.Del)):
                base = n.value
                if (isinstance(base, ast.Name) and base.id in names) or \
                        (isinstance(base, ast.Subscript) and "nodes" in ast.unparse(base.value)):
                    found.append((n.lineno, ast.unparse(n)))
    return found


def test_no_code_of_the_package_writes_a_nodes_field():
    writes = {f"{path.relative_to(PACKAGE)}:{line}": text for path in sorted(PACKAGE.rglob("*.py"))
              for line, text in _field_writes(ast.parse(path.read_text()))}
    assert writes == {}


@pytest.mark.parametrize("code", ["def f(nodes):\n    node = nodes[0]\n    node.op = 'cos'",
                                  "def f(b, i):\n    held = b.nodes[i]\n    held.requires_grad = True",
                                  "def f(graph):\n    for n in graph.nodes:\n        del n.value",
                                  "def f(b, i):\n    b.nodes[i].name = 'y'",
                                  "def f(t):\n    n = t.node\n    n.shape = ()",
                                  "def f(b, i):\n    m = b.nodes[i]._replace(name='y')\n    m.args = ()"])
def test_the_scan_sees_a_write(code):
    """The check above can fail: each of these writes is found."""
    assert _field_writes(ast.parse(code))


def test_replace_makes_a_new_node_and_leaves_the_old_one():
    node = new_node(1, "sin", (0,), shape=(3,), position=4)
    named = node._replace(name="y", requires_grad=True)
    assert type(named) is Node and named is not node
    assert named.fields() == (1, "sin", (0,), {}, (3,), "y", 4, True, None)
    assert node.fields() == (1, "sin", (0,), {}, (3,), None, 4, False, None)
    with pytest.raises(ValueError, match="unexpected field names"):
        node._replace(grad=1)


def test_equality_and_hash_are_identity():
    """As the NamedTuple's own __eq__ / __hash__ said: a node's value may be an array (no elementwise ==)."""
    a = new_node(0, "const", value=np.ones(3))
    b = new_node(0, "const", value=np.ones(3))
    assert a == a and a != b and not (a == b)
    assert len({a, b, a}) == 2 and {a: 1}[a] == 1
    assert a in [b, a] and new_node(0, "input") not in [new_node(0, "input")]


def test_the_tuple_protocol_is_refused():
    node = new_node(1, "sin", (0,))
    with pytest.raises(TypeError):
        node[1]
    with pytest.raises(TypeError):
        tuple(node)
    with pytest.raises(TypeError):
        len(node)
    assert not isinstance(node, tuple)
    with pytest.raises(AttributeError):
        node.grad = 1  # no field of that name, no __dict__


@pytest.mark.parametrize("how", ["pickle", "copy", "deepcopy"])
def test_a_node_pickles_and_copies_as_a_node(how):
    node = new_node(2, "mul", (0, 1), {"axis": 1}, (3,), "y", 5, True, None)
    got = {"pickle": lambda n: pickle.loads(pickle.dumps(n)), "copy": copy.copy, "deepcopy": copy.deepcopy}[how](node)
    assert type(got) is Node and got is not node and got.fields() == node.fields()


def test_a_graph_pickles():
    graph = _graph("sum(tanh(A @ tanh(A @ x)))")
    back = pickle.loads(pickle.dumps(graph))
    assert [n.fields() for n in back.nodes] == [n.fields() for n in graph.nodes]


@pytest.mark.parametrize("expr", EXPRESSIONS[:6])
def test_the_commands_leave_a_graphs_nodes_as_they_were(expr):
    """Every field of every node, by identity, before and after a value, Jacobian, VJP, JVP and Hessian of a
    compiled function and the API's call: nothing writes a node, and the graph keeps its nodes."""
    values = {name: VALUES[name] for name in SHAPES if name in expr}
    f = Compiled(expr, {name: v.shape for name, v in values.items()})
    nodes = f.graph.nodes
    before = [n.fields() for n in nodes]
    y = f.value(values)
    f.jacobian(values)
    f.vjp(values, np.ones(np.shape(y)))
    f.jvp(values, {"x": np.ones(3)})
    if np.ndim(y) == 0:
        f.hessian(values, wrt=["x"])
    jacobi_cli.jacobian(expr, values, wrt=["x"])
    assert f.graph.nodes is nodes
    assert all(a is b for old, new in zip(before, [n.fields() for n in nodes]) for a, b in zip(old, new))


def test_a_builders_nodes_are_nodes():
    b = Builder()
    x = b.input("x", (3,))
    y = b.apply("sin", x)
    assert [type(n) for n in b.nodes] == [Node, Node]
    assert b.nodes[y.id].fields()[:3] == (1, "sin", (0,))


COMMANDS = [
    ["eval", "sin(x) * x**2 + exp(-x)", "x=0.5,1,2"],
    ["eval", "sum(tanh(A @ tanh(A @ x)))", "x=1,2", "A=[[0.1,0.2],[0.3,0.4]]", "--json"],
    ["eval", "x * 2 + 1", "x=[[1,2],[3,4]]", "--batch", "x"],
    ["vjp", "tanh(A @ x)", "x=1,2", "A=[[0.1,0.2],[0.3,0.4]]", "--v", "ones"],
    ["jvp", "softmax(x)", "x=1,2,3", "--tangent", "x=1,0,0"],
    ["hessian", "sum(x * x * x)", "x=1,2"],
    ["derivative", "sin(x) * x", "x=0.5", "--wrt", "x", "--order", "3"],
    ["shape", "x @ A", "x:3", "A:3,2"],
    ["check", "sin(x) * x", "x=0.5,1"],
    ["graph", "y = x * 2\nz = y + 1\n(y * z).sum()", "x=1,2"],
    ["graph", "x[x > 0].sum() * 2.0", "x=1,-2", "--json"],
]


@pytest.mark.parametrize("args", COMMANDS, ids=lambda args: f"{args[0]}-{args[1][:12]}")
def test_no_command_writes_a_node_it_made(args, monkeypatch):
    """Every node the command makes, through every module that makes nodes, recorded with its fields when made
    and compared by identity when the command is over: no path of these commands wrote one."""
    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app
    from jacobi_cli.ir import graph
    from jacobi_cli.lang import parser
    from jacobi_cli.tools import api

    made = []

    def recorded(*fields, **named):
        node = new_node(*fields, **named)
        made.append((node, node.fields()))
        return node

    makers = [path.stem for path in PACKAGE.rglob("*.py") if "new_node(" in path.read_text(encoding="utf-8")]
    assert sorted(makers) == ["graph", "parser", "views"]  # every module that makes nodes is recorded
    # (lang/views.py imports graph.new_node inside its function, session 54: the patch of graph's is the one it reads)
    for module in (graph, parser):  # the short reader's nodes are Builder._apply_id's (session 46, h46-builder)
        monkeypatch.setattr(module, "new_node", recorded)
    api._CACHE.clear()
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert len(made) >= 3
    assert all(a is b for node, fields in made for a, b in zip(node.fields(), fields))
