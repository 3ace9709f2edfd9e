"""Session 44's cheaper parse (h44-coldread) must answer as the paths it skips do.

Each shortcut is compared with what it replaces: ``_facts``'s element count (one ``math.prod`` per run
of nodes holding one shape object) with the sum of every node's product; ``Builder._apply``'s answer
for two shapes ``broadcast`` answers at once (equal, or a scalar beside) with ``broadcast`` itself,
refusals included; the dicts a builder and a lowering make only when first written with dicts of their
own, never one shared by two builders. The short reader's calls made without the lowering's methods
(a name in scope, a product or negation of tracers) are compared with ``ast``'s path, node by node, by
``tests/test_chain.py`` (masks included, which the shortcut leaves to ``short_binary``).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.ir import graph as graph_module
from jacobi_cli.ir.graph import MEMO_AFTER, Builder, _facts, new_node
from jacobi_cli.ir.shapes import broadcast
from jacobi_cli.lang import parser

TEXTS = ["sin(x) * x**2 + exp(-x)", "x @ A @ x", "tanh(A @ x)", "sum(x * x)", "softmax(x)",
         "sum(tanh(A @ tanh(A @ x)))", "x[0] * A + x", "A.T @ x + sum(A, 0)", "outer(x, x) + 1", "x.reshape(2, 5)"]


def _every_product(nodes) -> int | None:
    try:
        return sum(math.prod(node.shape) for node in nodes)
    except TypeError:
        return None


def _nodes(shapes) -> tuple:
    return tuple(new_node(i, "input", shape=shape) for i, shape in enumerate(shapes))


@pytest.mark.parametrize("text", TEXTS)
def test_a_graphs_element_count_is_every_nodes_product_summed(text):
    graph = parser.parse(text, {"x": (10,), "A": (10, 10)})
    assert graph.facts.elements == _every_product(graph.nodes)
    assert graph.facts.itemsize == 8
    assert parser.parse(text, {"x": (10,), "A": (10, 10)}, dtype=np.float32).facts.itemsize == 4


def test_the_count_takes_a_product_per_shape_not_per_run_of_equal_shapes():
    """Runs of one shape object, equal shapes that are other objects, shapes alternating: each node counted."""
    one, same, other = (3, 4), tuple([3, 4]), (5,)
    for shapes in ([one, one, one], [one, same, one], [one, other, one, other], [(), one, (), (2, 0), (0,), other],
                   [(7,)] * 5 + [(2, 3)] * 4, [], [[2, 3], [2, 3], (4,)]):
        assert _facts(_nodes(shapes), frozenset(), np.float64).elements == _every_product(_nodes(shapes)), shapes


@pytest.mark.parametrize("shapes", [[("n",)], [(2,), ("n", 2)], [("n", "m")], [(3,), ("n",), (3,)], [(0, "n")]])
def test_a_symbolic_size_gives_no_facts_as_before(shapes):
    assert _every_product(_nodes(shapes)) is None
    assert _facts(_nodes(shapes), frozenset(), np.float64) is None


def test_the_itemsize_given_is_the_dtypes():
    nodes = _nodes([(3,), (3,)])
    for dtype, size in ((np.float64, 8), (np.float32, 4)):
        assert _facts(nodes, frozenset(), dtype) == _facts(nodes, frozenset(), dtype, size)
        assert Builder("", dtype)._itemsize == size


PAIRS = [((10,), (10,)), ((10,), ()), ((), (10,)), ((), ()), ((3, 4), (3, 4)), ((3, 4), (4,)), ((4,), (3, 4)),
         ((3, 1), (1, 4)), ((2, 3), (3, 2)), ((3,), (4,)), ((0,), ()), ((0,), (0,)), ((1,), (5,)), (("n",), ("n",)),
         (("n",), ()), (("n",), ("m",)), (("n", 1), (3,))]


@pytest.mark.parametrize("op", ["add", "mul", "sub", "div", "pow", "maximum"])
@pytest.mark.parametrize("left, right", PAIRS)
def test_a_broadcasting_products_shape_is_broadcasts(op, left, right):
    """The shape ``_apply`` gives two tracers (its shortcut for equal shapes or a scalar beside, broadcast's call
    otherwise) is ``broadcast``'s, a tuple; a pair broadcast refuses is refused with its words."""
    b = Builder("", shapes_only=True)
    x, y = b.input("x", left), b.input("y", right)
    try:
        expected = broadcast(left, right)
    except JacError as err:
        with pytest.raises(JacError) as raised:
            b._apply(op, (x, y), 7, None, {})
        assert raised.value.message.endswith(err.message) and raised.value.position == 7
        return
    out = b._apply(op, (x, y), 7, None, {})
    assert out.shape == expected and type(out.shape) is tuple
    assert b.nodes[out.id].shape == expected and b.nodes[out.id].position == 7


def test_a_shape_held_in_a_list_is_made_a_tuple_as_broadcast_makes_it():
    b = Builder("", shapes_only=True)
    x, y = b.input("x", (3,)), b.input("y", (3,))
    x.shape = [3]  # a tracer holding a list: not the shortcut's
    out = b._apply("add", (x, y), 0, None, {})
    assert type(out.shape) is tuple and out.shape == (3,)


def test_the_dicts_made_at_their_first_write_are_the_builders_own():
    """The class's empty dicts stay empty and read-only; each builder's first write makes its own."""
    first, second = Builder(), Builder()
    for name in ("folded_views", "floats", "displays", "signs"):
        with pytest.raises(TypeError):  # a write without own() fails: never a dict two builders share
            getattr(first, name)[0] = True
        first.own(name)[0] = True
        assert first.own(name) is getattr(first, name) and getattr(first, name) == {0: True}
        assert not getattr(second, name) and not getattr(Builder, name)
    x = first.input("x", (3,))
    t = x
    for _ in range(MEMO_AFTER + 2):  # past MEMO_AFTER nodes: _apply remembers a product's shape
        t = first._apply("add", (t, x), 0, None, {})
    assert first._binary_shapes and first._binary_shapes is not Builder._binary_shapes
    assert not graph_module._NO_SHAPES and not Builder._binary_shapes and not second._binary_shapes


def test_a_parse_writes_its_builders_own_dicts():
    """A float literal, a tuple display, a long sum: the marks are the parse's own, none left on the class."""
    for text in ("x * 1.0", "-1.0 * x", "torch.isin(x, torch.tensor((0, 1))).sum() + x",
                 " + ".join(["x"] * (MEMO_AFTER + 3))):
        parser.parse(text, {"x": (3,)})
    with pytest.raises(JacError, match="must be a tensor, not a list or tuple"):  # the display's mark, read
        parser.parse("torch.isin(x, (0, 1)).sum() + x", {"x": (3,)})
    with pytest.raises(JacError, match="integer"):  # a float literal's mark, read where an int is needed
        parser.parse("torch.ones(2.0) + x", {"x": (2,)})
    assert not Builder.floats and not Builder.displays and not Builder.signs and not Builder.folded_views
    assert not graph_module._NO_SHAPES


def test_two_lowerings_hold_their_own_containers():
    builder = Builder()
    first = parser._Lowering(builder, None, {"x": (3,)})
    second = parser._Lowering(Builder(), None, {"x": (3,)})
    first.value_tests.append((0, 0, "int"))
    first.replaced[1] = (None, None)
    first.reaches_inputs[0] = True
    assert not second.value_tests and not second.replaced and not second.reaches_inputs
    assert first.value_tests is first.value_tests and first.calling == () and first.locals is None


def _fields(node) -> tuple:
    return node.op, node.args, node.params, node.shape, node.position, node.requires_grad


@pytest.mark.parametrize("shape", [(), (1,), (3,), (0,), (2, 3), (2, 1, 4)])
@pytest.mark.parametrize("const", [False, True])
def test_pythons_sum_of_an_array_is_the_reductions_node(shape, const):
    """``sum(x)`` read as Python's builtin (``functions._python_sum``): its shortcut for one array of an axis or more
    gives the node ``_iterable`` then ``FUNCTIONS["sum"]`` give, and a 0-d constant is refused as before."""
    from jacobi_cli.lang import functions

    def made(lower):
        b = Builder()
        x = b.const(np.ones(shape), 0) if const else b.input("x", shape)
        before = len(b.nodes)
        try:
            out = lower(b, [x], {}, 5)
        except JacError as err:
            return err.message
        return [_fields(node) for node in b.nodes[before:]], out.shape

    def skipped(b, args, kwargs, position):
        functions._iterable(b, "sum", args, position)
        return functions.FUNCTIONS["sum"](b, args, kwargs, position)

    assert made(functions._python_sum) == made(skipped)


def test_pythons_sum_of_a_number_is_refused_as_before():
    for text in ("sum(2.0)", "sum(x.shape[0]) + x", "sum(len(x)) + x"):
        with pytest.raises(JacError, match="one number is an error in Python"):
            parser.parse(text, {"x": (3,)})
    assert parser.parse("sum(x)", {"x": ()}).nodes[-1].op == "sum"  # a 0-d input: jac's own sum


@pytest.mark.parametrize("shape", [(3,), (2, 3), (1,), (0,), (2, 0, 4)])
def test_softmax_of_an_array_is_applys_node(shape):
    """``softmax(x)``'s shortcut (``b._apply`` of the last axis) gives the node ``b.apply`` with keywords gives."""
    from jacobi_cli.lang import functions

    def made(direct):
        b = Builder()
        x = b.input("x", shape)
        out = functions._softmax(b, [x], {}, 3) if direct else b.apply("softmax", x, axis=len(shape) - 1, position=3)
        return [_fields(node) for node in b.nodes[1:]], out.shape

    assert made(True) == made(False)
    assert parser.parse("softmax(x)", {"x": shape}).nodes[-1].params == {"axis": len(shape) - 1}
