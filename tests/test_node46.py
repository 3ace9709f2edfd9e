"""Session 46: ``Node`` is a class of slots, not a NamedTuple (``ir/graph.py``).

What the NamedTuple gave and the code relies on is kept and checked here: the fields and their defaults,
immutability (nodes are shared by graphs, the API's cache and compiled functions: a write raises),
``_replace``, identity equality and hash, pickling and copying. What it gave and nothing may rely on any
more, the tuple protocol, is refused loudly (``node[1]`` raises), so that no reader silently reads a
node as something else.
"""
from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import jacobi_cli
from jacobi_cli.engine.compiled import Compiled
from jacobi_cli.ir.graph import NODE_FIELDS, Builder, Node, new_node
from jacobi_cli.lang.parser import parse

EXPRESSIONS = ["sin(x) * x**2 + exp(-x)", "x @ A @ x", "tanh(A @ x)", "sum(x * x)", "softmax(x)",
               "sum(tanh(A @ tanh(A @ x)))", "x[x > 0].sum() * 2.0", "y = x * 2\nz = y + 1\n(y * z).sum()"]
SHAPES = {"x": (3,), "A": (3, 3)}
VALUES = {"x": np.array([0.5, -1.0, 2.0]), "A": np.arange(9.0).reshape(3, 3) / 9}


def _graph(expr: str):
    return parse(expr, {name: shape for name, shape in SHAPES.items() if name in expr}, values=VALUES)


def test_the_fields_and_defaults_are_the_namedtuples():
    node = Node(3, "sin")
    assert NODE_FIELDS == ("id", "op", "args", "params", "shape", "name", "position", "requires_grad", "value")
    assert node.fields() == (3, "sin", (), {}, (), None, None, False, None)
    full = Node(4, "add", (1, 2), {"k": 1}, (2, 3), "y", 7, True, 1.5)
    assert full.fields() == (4, "add", (1, 2), {"k": 1}, (2, 3), "y", 7, True, 1.5)
    assert Node(id=4, op="add", value=2.0, shape=(2,)).fields() == (4, "add", (), {}, (2,), None, None, False, 2.0)
    assert new_node(*full.fields()).fields() == full.fields()
    assert Node(0, "input").leaf and Node(0, "const").leaf and not Node(1, "sin", (0,)).leaf


@pytest.mark.parametrize("field", NODE_FIELDS)
def test_a_nodes_field_cannot_be_written_or_deleted(field):
    node = Node(1, "sin", (0,), shape=(3,))
    with pytest.raises(AttributeError, match="immutable"):
        setattr(node, field, 0)
    with pytest.raises(AttributeError, match="immutable"):
        delattr(node, field)
    with pytest.raises(AttributeError):
        node.grad = 1  # no field of that name, no __dict__
    assert node.fields() == (1, "sin", (0,), {}, (3,), None, None, False, None)


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_every_node_a_graph_holds_is_an_immutable_node(expr):
    """The builder's, the short reader's and with_wrt's nodes are all made by new_node: each a Node, which
    refuses writes (a node left a writable ``_Fields`` would be a node any code could change under a cache)."""
    graph = _graph(expr)
    for g in (graph, graph.with_wrt(["x"]), graph.with_wrt([])):
        for node in g.nodes:
            assert type(node) is Node
            with pytest.raises(AttributeError, match="immutable"):
                node.requires_grad = not node.requires_grad


def test_replace_makes_a_new_node_and_leaves_the_old_one():
    node = Node(1, "sin", (0,), shape=(3,), position=4)
    named = node._replace(name="y", requires_grad=True)
    assert type(named) is Node and named is not node
    assert named.fields() == (1, "sin", (0,), {}, (3,), "y", 4, True, None)
    assert node.fields() == (1, "sin", (0,), {}, (3,), None, 4, False, None)
    with pytest.raises(ValueError, match="unexpected field names"):
        node._replace(grad=1)


def test_equality_and_hash_are_identity():
    """As the NamedTuple's own __eq__ / __hash__ said: a node's value may be an array (no elementwise ==)."""
    a = Node(0, "const", value=np.ones(3))
    b = Node(0, "const", value=np.ones(3))
    assert a == a and a != b and not (a == b)
    assert len({a, b, a}) == 2 and {a: 1}[a] == 1
    assert a in [b, a] and Node(0, "input") not in [Node(0, "input")]


def test_the_tuple_protocol_is_refused():
    node = Node(1, "sin", (0,))
    with pytest.raises(TypeError):
        node[1]
    with pytest.raises(TypeError):
        tuple(node)
    with pytest.raises(TypeError):
        len(node)
    assert not isinstance(node, tuple)


@pytest.mark.parametrize("how", ["pickle", "copy", "deepcopy"])
def test_a_node_pickles_and_copies_as_a_node(how):
    node = Node(2, "mul", (0, 1), {"axis": 1}, (3,), "y", 5, True, None)
    got = {"pickle": lambda n: pickle.loads(pickle.dumps(n)), "copy": copy.copy, "deepcopy": copy.deepcopy}[how](node)
    assert type(got) is Node and got.fields() == node.fields()
    with pytest.raises(AttributeError, match="immutable"):
        got.op = "add"


def test_a_graph_pickles():
    graph = _graph("sum(tanh(A @ tanh(A @ x)))")
    back = pickle.loads(pickle.dumps(graph))
    assert [n.fields() for n in back.nodes] == [n.fields() for n in graph.nodes]


@pytest.mark.parametrize("expr", EXPRESSIONS[:6])
def test_the_commands_leave_a_graphs_nodes_as_they_were(expr):
    """Every field of every node, by identity, before and after a value, Jacobian, VJP, JVP and Hessian of a
    compiled function and the API's calls (the guard above makes a write raise; this checks the nodes are
    not replaced either)."""
    values = {name: VALUES[name] for name in SHAPES if name in expr}
    f = Compiled(expr, {name: v.shape for name, v in values.items()})
    nodes = f.graph.nodes
    before = [n.fields() for n in nodes]
    y = f.value(values)
    f.jacobian(values)
    f.vjp(values, np.ones(np.shape(y)))
    f.jvp(values, {"x": np.ones(3)})
    f.hessian(values, wrt=["x"]) if np.ndim(y) == 0 else None
    jacobi_cli.jacobian(expr, values, wrt=["x"])
    assert f.graph.nodes is nodes
    assert all(a is b for x, y in zip(before, [n.fields() for n in nodes]) for a, b in zip(x, y))


def test_a_builders_nodes_are_made_once():
    b = Builder()
    x = b.input("x", (3,))
    y = b.apply("sin", x)
    assert [type(n) for n in b.nodes] == [Node, Node]
    assert b.nodes[y.id].fields()[:3] == (1, "sin", (0,))
