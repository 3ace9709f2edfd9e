"""The reader of flat chains (lang/chain.py) against the walk over Python's syntax tree.

A chain ``x*1 + x*2 + ...`` is read without ``ast``; whatever it reads must give exactly the graph
the ``ast`` path gives (every field of every node, in the same order) or exactly the same error
(kind, message, column), and whatever it does not read goes to ``ast`` unchanged.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jacobi_cli.errors import JacError
from jacobi_cli.ir import graph as graph_module
from jacobi_cli.lang import chain, parser, short

ATOMS = ["x", "y", "s", "A", "pi", "e", "zz", "float", "_", "match", "sin", "None", "True", "lambda",
         "0", "1", "2", "7", "10", "01", "00", "0.5", "00.5", "2.25", "1.", ".5", "1e5", "1_0", "3j",
         "123456789012345678", "1234567890123456789", "x1", "é"]
OPS = ["+", "-", "*", "/", "**", "//", "@", "%", " ", ""]
SPACES = ["", " ", "  ", "\t"]
SHAPES = [{"x": (3,), "y": (3,), "s": (), "A": (2, 3)},
          {"x": (), "y": (4,), "s": (), "A": (4, 4)},
          {"x": (2, 1), "y": (1, 5), "s": (), "A": (5,)},
          {"x": ("n",), "y": (1,), "s": (), "A": ("m", "n")},  # symbolic sizes (jac shape x:n)
          {}]


def _node(n):
    value = n.value
    if isinstance(value, np.ndarray):
        value = ("array", value.dtype.str, value.shape, value.tobytes())
    else:
        value = (type(value).__name__, repr(value))
    return (n.id, n.op, n.args, dict(n.params), n.shape, n.name, n.position, n.requires_grad, value)


def outcome(text: str, inputs: dict, via_ast: bool, **kw):
    """The graph (every node's fields) or the error of ``parse``, through the chain reader or the
    short reader (lang/short.py: a short text lowered as it is read), or through ast."""
    with pytest.MonkeyPatch.context() as m:
        m.setattr(chain, "MIN_CHARS", 0)  # short chains too
        if via_ast:
            m.setattr(parser, "split_chain", lambda text: None)
            m.setattr(parser, "read_short", lambda text, lowering: None)
        try:
            g = parser.parse(text, inputs, **kw)
        except JacError as err:
            return ("error", type(err).__name__, err.kind, err.message, err.position, err.source)
    return ("graph", [_node(n) for n in g.nodes], g.output, g.inputs, g.outputs, g.dtype, g.source, g.by_value,
            [_node(n) for n in g.with_wrt(None).nodes])


def same(text: str, **kw) -> None:
    for inputs in SHAPES:
        assert outcome(text, inputs, False, **kw) == outcome(text, inputs, True, **kw), (text, inputs)


@st.composite
def chains(draw):
    """Texts near the chain grammar: mostly in it, often just outside (a keyword, ``**``, a
    leading space, a bad number), so both sides of the boundary are compared."""
    count = draw(st.integers(1, 12))
    parts = [draw(st.sampled_from(SPACES[:2] if draw(st.booleans()) else SPACES))]
    for k in range(count):
        if k:
            parts += [draw(st.sampled_from(SPACES)), draw(st.sampled_from(OPS[:4] * 4 + OPS)),
                      draw(st.sampled_from(SPACES))]
        parts.append(draw(st.sampled_from(ATOMS[:10] * 2 + ATOMS)))
    parts.append(draw(st.sampled_from(["", "", "\n", " \n", "\n\n", " "])))
    return "".join(parts)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(text=chains())
def test_a_chain_gives_the_graph_and_errors_of_the_syntax_tree(text):
    same(text)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(text=chains(), dtype=st.sampled_from([np.float32, np.float64]), shapes_only=st.booleans(),
       max_bytes=st.sampled_from([16, 64, 10**9]))
def test_chains_agree_under_every_builder_setting(text, dtype, shapes_only, max_bytes):
    same(text, dtype=dtype, shapes_only=shapes_only, max_bytes=max_bytes)


@pytest.mark.parametrize("text", [
    "x*1 + x*2 - x/3 * y + 2*3*s - 4/0",  # precedence, folding, division by zero folded
    "x + A", "A*x - x/A",  # shape errors at the operator's column
    "x + zz", "x + float", "float", "sin + x",  # name errors, a dtype where a number is needed
    "x*1 + x*2\n", "x + 1  \n",  # a file's trailing new line
    " x + 1", "x + 1\n\n", "x ** 2", "x + -1", "x + None", "x + 01", "x + 1e5",  # left to ast
])
def test_chain_examples(text):
    same(text)


def test_only_the_grammar_is_read_without_ast():
    long = " + ".join(f"x*{i}" for i in range(1, 40))
    assert chain.split_chain(long) is not None
    assert chain.split_chain(long + "\n") is not None
    for bad in (" " + long, long + "\n\n", long + " ** 2", long + " + None", long + " + 01", long + " + 1e5",
                long + " + (x)", long + " + sin(x)", long + "; x", long + " + x\t", long + " + é"):
        assert chain.split_chain(bad) is None, bad
    assert chain.split_chain("x + 1") is None  # short: ast is as fast


def test_a_long_sum_is_read_without_ast_and_matches_it():
    text = " + ".join(f"x*{i}" for i in range(1, 3001)) + " - y/7"
    assert chain.split_chain(text) is not None
    same(text)
    graph = parser.parse(text, {"x": (3,), "y": (3,)})
    assert len(graph.nodes) == 2 + 2 * 3000 + 2 + 3000  # inputs, x*i, y/7, the joins


class _Forgetful(dict):
    def __setitem__(self, key, value):
        pass


def test_the_builder_shortcut_makes_the_nodes_the_shape_rule_makes(monkeypatch):
    """Builder.apply remembers a binary op's result shape per argument shapes; the nodes must
    be those of the full path (the shape rule and size check every time)."""
    text = "a = x * y; b = a + x; c = b / y - a * 2; d = c * c + s * x * y; sum(d - c * c) + s"
    inputs = {"x": (3, 1), "y": (1, 4), "s": ()}
    builder = graph_module.Builder()
    x = builder.input("x", (3,))
    x * x, x * x
    assert builder._binary_shapes == {}  # a short text's: nothing remembered (graph.MEMO_AFTER)
    for k in range(graph_module.MEMO_AFTER):
        builder.input(f"z{k}", ())
    x * x, x * x
    assert builder._binary_shapes == {("mul", (3,), (3,)): (3,)}  # the second product took the shortcut
    # past MEMO_AFTER nodes, products and quotients of shapes met before: _binary's own append (session 46)
    long = text.replace("; sum", "".join(f"; d = d + {k} * d * s - c / (y + {k})" for k in range(8)) + "; sum")
    fast = [[_node(n) for n in parser.parse(t, inputs).nodes] for t in (text, long)]
    init = graph_module.Builder.__init__

    def forgetful(self, *args, **kw):
        init(self, *args, **kw)
        self._binary_shapes = _Forgetful()

    with monkeypatch.context() as m:
        m.setattr(graph_module.Builder, "__init__", forgetful)
        slow = [[_node(n) for n in parser.parse(t, inputs).nodes] for t in (text, long)]
    assert fast == slow


# --- short expressions (lang/short.py): calls, parentheses, ** @ and unary minus, read without ast ----

FUNCTIONS = ["sin", "exp", "tanh", "sum", "softmax", "relu", "dot", "outer", "maximum", "qr", "split", "zz", "None",
             "x", "ones", "arange", "norm", "mean", "cumsum", "float", "max"]
SHORT_ATOMS = ["x", "y", "s", "A", "pi", "e", "zz", "float", "match", "sin", "None", "True", "0", "1", "2", "0.5",
               "01", "00.5", "1e5", "1.", "3j", "123456789012345678", "1234567890123456789", "x1", "_"]
SHORT_OPS = ["+", "-", "*", "/", "@", "**", "//", "%", ",", ""]


@st.composite
def short_texts(draw, depth=3):
    """Expressions of the short grammar with random spacing and parentheses, often just outside
    it (a keyword, a bad number, ``//``, a trailing comma, a space first), some ill-typed."""
    def sp():
        return draw(st.sampled_from(["", "", " ", "  "]))

    def expr(d):
        kind = draw(st.integers(0, 5 if d > 0 else 0))
        if kind == 0:
            return draw(st.sampled_from(SHORT_ATOMS))
        if kind == 1:
            return f"-{sp()}{expr(d - 1)}"
        if kind == 2:
            return f"({sp()}{expr(d - 1)}{sp()})"
        if kind == 3:
            args = [expr(d - 1) for _ in range(draw(st.integers(0, 3)))]
            tail = draw(st.sampled_from(["", "", "", ",", " ,"]))
            return f"{draw(st.sampled_from(FUNCTIONS))}({(',' + sp()).join(args)}{tail})"
        op = draw(st.sampled_from(SHORT_OPS[:6] * 3 + SHORT_OPS))
        return f"{expr(d - 1)}{sp()}{op}{sp()}{expr(d - 1)}"

    return draw(st.sampled_from(["", "", "", " ", "\t"])) + expr(depth) + draw(st.sampled_from(["", "", " ", "\n"]))


@settings(max_examples=600, deadline=None, derandomize=True)
@given(text=short_texts())
def test_a_short_expression_gives_the_graph_and_errors_of_the_syntax_tree(text):
    same(text)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(text=short_texts(), dtype=st.sampled_from([np.float32, np.float64]), shapes_only=st.booleans(),
       max_bytes=st.sampled_from([16, 64, 10**9]))
def test_short_expressions_agree_under_every_builder_setting(text, dtype, shapes_only, max_bytes):
    same(text, dtype=dtype, shapes_only=shapes_only, max_bytes=max_bytes)


@pytest.mark.parametrize("text", [
    "sin(x) * x**2 + exp(-x)", "x @ A @ x", "tanh(A @ x)", "sum(x * x)", "softmax(x)", "sum(tanh(A @ tanh(A @ x)))",
    "(x + y) * s", "x * (y + s)", "((x))", "-x**2", "2**-1", "x**y**s", "- - x", "x - -1", "-(x)", "(-x)**2",
    "x@A", "A @ x + x", "qr(A) * 2", "-qr(A)", "split(x, 1) + x", "sin(x, y)", "sin()", "zz(x)", "x(1)", "pi * x",
    "sum(x) / 0", "2 ** 1024", "maximum(x,y)", "dot( x , y )", "(x + A)", "x + (A)", "(x) + A", "x @ s", "-(A @ x)",
    "float(x)", "None(x)", "match + x", "_ + x", "x\t+ y", "x +\n y", "sin(x)\n", "f(x,)", "x // y",
    # masks (boolean nodes): + and * of two are their logical or / and, which the short walk's shortcut leaves
    "isnan(x) + isnan(y)", "isnan(x) * isinf(y)", "isnan(x) + x", "x * isnan(y) + 1", "isnan(x) - isinf(x)",
    "sin(x) * 2 + isnan(x) * isinf(x)", "signbit(x) + signbit(y) * 2",
])
def test_short_examples(text):
    same(text)


class _Recorder:
    """A lowering that lowers nothing: what the short reader calls, as text (no builder, and no tracer in
    scope: the reader's shortcuts for tracers never apply)."""

    b = None
    scope: dict = {}

    def short_name(self, text, start):
        return text

    short_number = short_name

    def short_call(self, fname, args, start):
        return f"{fname}({', '.join(args)})"

    def short_neg(self, operand, start):
        return f"(-{operand})"

    def short_binary(self, op, left, right, position):
        return f"{op}({left}, {right})"


def read(text: str):
    """What the short reader makes of ``text`` (None: left to ast)."""
    return short.read_short(text, _Recorder()) if short.may_be_short(text) else None


def test_only_the_short_grammar_is_read_without_ast():
    for good in ("sin(x) * x**2 + exp(-x)", "sum(tanh(A @ tanh(A @ x)))", "(x)", "x  ", "-x", "f(x, y)"):
        assert read(good) is not None, good
    for bad in (" x", "x\n", "x.T", "x[0]", "f(x,)", "f()", "f(y=x)", "x // y", "+x", "1e5", "01", "x if y else s",
                "None", "a, b", "x = 1; x", "x\t", "é", "(" * 50 + "x" + ")" * 50, "-" * 50 + "x", "x" + "**x" * 50,
                "x +", "(x", "x)", "f(x", "x y", "2 x", "x * * y", "1.5.5", ""):
        assert read(bad) is None, bad


def test_the_short_reader_reads_as_python():
    """Precedence, associativity, unary minus and ``**`` as Python's grammar reads them."""
    assert read("-x**2") == "(-pow(x, 2))"
    assert read("2**-x**y") == "pow(2, (-pow(x, y)))"
    assert read("x**y**s") == "pow(x, pow(y, s))"
    assert read("a - b - c") == "sub(sub(a, b), c)"
    assert read("a - b * c @ d / e + f") == "add(sub(a, div(matmul(mul(b, c), d), e)), f)"
    assert read("-a * b") == "mul((-a), b)"
    assert read("f(a + b, -(c), g(d)) ** 2.5") == "pow(f(add(a, b), (-c), g(d)), 2.5)"


# --- short expressions lowered in part before the reader gives up -----------------------------------

@pytest.mark.parametrize("text", [
    # lowered in part before the reader meets a syntax error or a text outside the grammar: ast's error
    "zz + x //", "zz(x) + (", "sin(x) * x**2 + exp(-x) +", "qr(A) + x x", "sum(zz) + x.T", "x + 1e5",
    "zz(x) + None", "sin(x) + x if x else x", "sin(x)+", "(sin(x)", "x / 0 + -", "-qr(A) @", "2 ** 1024 + x[0]",
    "sin(x) * x**2 + exp(-x)", "sum(tanh(A @ tanh(A @ x)))", "x @ A @ x", "(x)  ", "x +  (  y )", "(((x)))**(2)",
    "-(-(x))", "sin(x, y) + q(", "softmax(x) + é", "x\t+ y",
])
def test_short_examples_lowered_as_read(text):
    same(text)


def test_the_benchmark_expressions_are_lowered_as_read(monkeypatch):
    """E1-E6 take the path without a tree: ast is not asked."""
    def refused(*args):
        raise AssertionError("not lowered as read")
    monkeypatch.setattr(parser, "_ast_tree", refused)
    for text in ("sin(x) * x**2 + exp(-x)", "x @ A @ x", "tanh(A @ x)", "sum(x * x)", "softmax(x)",
                 "sum(tanh(A @ tanh(A @ x)))"):
        assert parser.parse(text, {"x": (10,), "A": (10, 10)}).nodes


def test_a_text_outside_the_short_grammar_by_its_characters_is_not_read():
    for bad in ("x.T", "x.sum()", "1.", ".5", "1.5.5", "x1.5", "x[0]", "f(y=x)", "x\t+ y", "x\n", "é + x", "x + é",
                "xé", "é(x)", "٣ + x", " x", "", "x % y", "x < y", "x # c", "x\\", "'x'", "1_0", "3j", "2x", "x;"):
        assert read(bad) is None, bad
    assert read("sin(x) *  2.5") == "mul(sin(x), 2.5)"


def test_a_text_outside_the_grammar_by_its_characters_is_built_once(monkeypatch):
    """A text whose characters show it is not short (a statement, a method, a subscript) goes to ast
    without a first builder; one the reader gives up on is built again, from a fresh builder."""
    made = []
    new_builder = parser._new_builder
    monkeypatch.setattr(parser, "_new_builder", lambda *args: made.append(args) or new_builder(*args))
    for text, builders in [("a = x; a", 1), ("x.sum()", 1), ("x[0] + 1", 1), ("x\n", 1), ("sin(x) * 2.5", 1),
                           ("x + y y", 2), ("x.5", 1), ("x // y", 2)]:
        made.clear()
        try:
            parser.parse(text, {"x": (3,), "y": (3,)})
        except JacError:
            pass
        assert len(made) == builders, text
