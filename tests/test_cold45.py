"""Session 45's cheaper parse (h45-coldread) must answer as the paths it skips do.

The short reader (lang/short.py) now keeps the nodes it makes as node ids and appends the commonest ones itself
(an op of one array, a product of two, ``sum(x)``, ``softmax(x)``: ``_call_of_one`` and ``_reduce``, by
``Builder._apply_id`` since session 46), where it called the lowering's ``short_call``, ``short_neg`` and
``short_binary`` (``Builder._apply``) and held a Tracer per value; a number's node and the graph of the last value
are made without a Tracer too (``short_number``, ``Builder.graph_of``). Each text below is parsed both ways, the
shortcuts on and off, and the two graphs (every field of every node, the inputs, the output, the facts) or the two
errors (kind, message, column) must be the same.
``tests/test_chain.py`` compares the same reader with ``ast``'s path.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jacobi_cli.errors import JacError
from jacobi_cli.ir import graph as graph_module
from jacobi_cli.lang import parser, short

BENCHMARKS = ["sin(x) * x**2 + exp(-x)", "x @ A @ x", "tanh(A @ x)", "sum(x * x)", "softmax(x)",
              "sum(tanh(A @ tanh(A @ x)))"]
SHAPES = [{"x": (10,), "A": (10, 10)},
          {"x": (3,), "y": (3,), "s": (), "A": (2, 3)},
          {"x": (), "y": (4,), "s": (), "A": (4, 4)},
          {"x": (2, 1), "y": (1, 5), "s": (), "A": (5,)},
          {"x": ("n",), "y": (1,), "s": (), "A": ("m", "n")},  # symbolic sizes (jac shape x:n)
          {"x": (0,), "y": (3,), "s": (), "A": (3, 0)},
          {}]
EXAMPLES = BENCHMARKS + [
    "-x", "- - x", "-(x)", "-2", "2 * 3", "sin(2)", "x ** 2", "2 ** x", "x / 0", "x + s", "s + x", "x * y", "x @ y",
    "A @ x", "x @ A", "A @ A", "sum(x)", "sum(s)", "sum(A)", "sum(2)", "softmax(s)", "softmax(A)", "softmax(2)",
    "sum(x, y)", "sin(x, y)", "tanh(A @ x) + x", "exp(-x) * x", "sqrt(x) / y", "relu(x) + 1", "isnan(x) + isnan(y)",
    "isnan(x) * x", "floor(x) + 1", "argmax(x) + 1", "abs(x) ** 0.5", "sin(x) * 2.5", "x * 123456789012345678",
    "maximum(x, y)", "dot(x, y)", "norm(x)", "mean(x)", "cumsum(x)", "zz(x)", "None(x)", "x(1)", "(x + y) * s",
    "sum(tanh(A @ tanh(A @ x))) + sum(x)", "x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x + x",
    "sin(sin(sin(sin(sin(sin(sin(sin(sin(sin(sin(sin(sin(sin(sin(sin(sin(x)))))))))))))))))",
]


def _node(n):
    value = n.value
    if isinstance(value, np.ndarray):
        value = ("array", value.dtype.str, value.shape, value.tobytes())
    else:
        value = (type(value).__name__, repr(value))
    return (n.id, n.op, n.args, dict(n.params), n.shape, type(n.shape).__name__, n.name, n.position, n.requires_grad,
            value)


def _outcome(text: str, inputs: dict, **kw):
    try:
        g = parser.parse(text, inputs, **kw)
    except JacError as err:
        return ("error", type(err).__name__, err.kind, err.message, err.position, err.source)
    return ("graph", [_node(n) for n in g.nodes], g.output, g.inputs, g.outputs, g.dtype, g.source, g.by_value,
            g.facts, [_node(n) for n in g.with_wrt(None).nodes])


def _reduce_by_the_lowering(ops: list, values: list, lowering, lowest: int, b) -> None:
    """``short._reduce`` as before the shortcuts: every negation and product by the lowering's methods."""
    while ops and ops[-1][0] >= lowest:
        level, op, position, _ = ops.pop()
        if level == short._NEG:
            values.append(short._lowered(lowering.short_neg(short._traced(b, values.pop()), position)))
        else:
            right, left = short._traced(b, values.pop()), short._traced(b, values.pop())
            values.append(short._lowered(lowering.short_binary(op, left, right, position)))


def _off(monkeypatch) -> None:
    """The reader as before the shortcuts: every node through the lowering's methods (``_apply``)."""
    monkeypatch.setattr(short, "_reduce", _reduce_by_the_lowering)
    monkeypatch.setattr(short, "_call_of_one", lambda *args, **kw: None)


def _both(text: str, **kw) -> list:
    """For each of SHAPES: (with the shortcuts, without them)."""
    pairs = []
    for inputs in SHAPES:
        fast = _outcome(text, inputs, **kw)
        with pytest.MonkeyPatch.context() as m:
            _off(m)
            slow = _outcome(text, inputs, **kw)
        pairs.append((fast, slow))
    return pairs


def _same(text: str, **kw) -> None:
    for inputs, (fast, slow) in zip(SHAPES, _both(text, **kw)):
        assert fast == slow, (text, inputs)


@pytest.mark.parametrize("text", EXAMPLES)
def test_the_readers_own_nodes_are_applys(text):
    _same(text)


@pytest.mark.parametrize("text", BENCHMARKS + ["sum(2)", "x * y", "sin(2) + x", "isnan(x) * x", "argmax(x) + 1"])
@pytest.mark.parametrize("dtype, shapes_only, max_bytes, wrt", [
    (np.float32, False, 10**9, None), (np.float64, True, 10**9, None), (np.float64, False, 16, None),
    (np.float64, False, 64, frozenset(["x"])), (np.float64, False, 10**9, frozenset(["A"])),
    (np.float64, False, 10**9, frozenset(["q"]))])
def test_the_readers_own_nodes_agree_under_every_builder_setting(text, dtype, shapes_only, max_bytes, wrt):
    _same(text, dtype=dtype, shapes_only=shapes_only, max_bytes=max_bytes, wrt=wrt)


def test_a_bindings_literal_is_checked_as_before():
    for text in ("123456789012345678", "2 * 3", "-x", "sum(x) * 2"):
        _same(text, constant=True)


FUNCTIONS = ["sin", "exp", "tanh", "sum", "softmax", "relu", "abs", "sqrt", "isnan", "floor", "argmax", "mean", "zz"]
ATOMS = ["x", "y", "s", "A", "pi", "0", "1", "2", "0.5", "123456789012345678", "zz"]
OPS = ["+", "-", "*", "/", "@", "**"]


@st.composite
def texts(draw, depth=3):
    """Texts of the short grammar: names, numbers, unary minus, + - * / ** @, parentheses and calls."""
    def sp():
        return draw(st.sampled_from(["", "", " "]))

    def expr(d):
        kind = draw(st.integers(0, 4 if d > 0 else 0))
        if kind == 0:
            return draw(st.sampled_from(ATOMS))
        if kind == 1:
            return f"-{sp()}{expr(d - 1)}"
        if kind == 2:
            return f"({expr(d - 1)})"
        if kind == 3:
            args = [expr(d - 1) for _ in range(draw(st.sampled_from([1, 1, 1, 2])))]
            return f"{draw(st.sampled_from(FUNCTIONS))}({(',' + sp()).join(args)})"
        return f"{expr(d - 1)}{sp()}{draw(st.sampled_from(OPS))}{sp()}{expr(d - 1)}"

    return expr(depth)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(text=texts())
def test_short_texts_give_the_graph_and_errors_of_apply(text):
    _same(text)


def test_the_benchmark_texts_make_every_node_themselves(monkeypatch):
    """E1-E6 (bench.py's inputs) never call ``_apply``: each node is the reader's own."""
    def refused(*args, **kw):
        raise AssertionError("made through _apply")
    monkeypatch.setattr(graph_module.Builder, "_apply", refused)
    for text in BENCHMARKS:
        graph = parser.parse(text, {"x": (10,), "A": (10, 10)}, wrt=frozenset(["x"]))
        assert graph.nodes[-1].position is not None


def test_the_comparison_sees_a_wrong_node(monkeypatch):
    """The check above can fail: a shortcut that flags its node wrongly, or puts it at another column, is seen."""
    call = short._call_of_one

    def wrong_flag(b, fname, value, position):
        k = call(b, fname, value, position)
        if k is not None:
            b.nodes[k] = b.nodes[k]._replace(requires_grad=not b.nodes[k].requires_grad)
        return k

    monkeypatch.setattr(short, "_call_of_one", wrong_flag)
    assert any(fast != slow for fast, slow in _both("sin(x) * 2"))
    monkeypatch.setattr(short, "_call_of_one", call)
    applied = graph_module.Builder._apply_id

    def wrong_column(self, op_name, args, position, name, params):  # the reader's own calls only, not _apply's
        from_reader = sys._getframe(1).f_globals["__name__"] == short.__name__
        return applied(self, op_name, args, position + from_reader, name, params)

    monkeypatch.setattr(graph_module.Builder, "_apply_id", wrong_column)
    assert any(fast != slow for fast, slow in _both("x * y"))
    assert any(fast != slow for fast, slow in _both("-x"))


def test_a_graph_of_a_node_id_is_the_graph_of_its_tracer():
    b = parser._new_builder("x", np.float64, 0, 2**31, False, False, frozenset(["x"]))
    x = b.input("x", (3,))
    b._apply("sin", (x,), 0, None, {})
    one, other = b.graph(b.tracer_of(1)), b.graph_of(1)
    assert vars(one) == vars(other)


def test_a_lowering_answering_an_int_sends_the_text_to_ast(monkeypatch):
    """The reader's own values are ints (node ids): a lowering method answering a Python int is not taken for one,
    the text goes to ast instead (its graph is ast's, here the same as before)."""
    expected = _outcome("pi * x", {"x": (3,)})
    monkeypatch.setattr(parser._Lowering, "short_name", lambda self, text, start: 0)
    assert _outcome("pi * x", {"x": (3,)}) == expected
