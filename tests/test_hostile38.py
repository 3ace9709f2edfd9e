"""Session 38: the parser's big texts (benchmarks/hostile38_fuzz.py runs the full sweep, with files and constants).

- a text of more than 10,000 statements (those inside def / for / if included) is a ``limit`` error, refused
  after Python's parser and before any statement is lowered (30,000 took ~10 s);
- calls of the text's functions nested more than 100 deep (``def f2(a): return f1(a)`` ...) are a ``limit`` error
  (a chain of 250 was a RecursionError, exit 70), and any RecursionError left in the parse is one too;
- lists held in lists (``a1 = [a0]; a2 = [a1]; ...``) then written: a list 1,000 deep was a RecursionError (exit
  70) and the scans of the scope were cubic (``_holds`` / ``_lists_only`` / ``_nested_written``);
- a long line of a text of several lines cost quadratic time in ``Source.offset`` (a copy of the line per node),
  and and/or chains copied their remaining operands at each step.
"""

import ast
import time

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.errors import JacLimitError
from jacobi_cli.lang import parser
from jacobi_cli.lang.parser import MAX_STATEMENTS, Source, _holds, _lists_only, _nested_written
from jacobi_cli.lang.functions import Items
from jacobi_cli.tools import api

runner = CliRunner()
X = [0.5, -1.5, 2.0]


def _error(args, *words):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("jac: error")]
    assert len(lines) == 1 and result.stderr.startswith("jac: error"), result.stderr
    assert "Traceback" not in result.output and "internal error" not in result.output
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


def _value(text):
    return float(np.asarray(api.evaluate(text, {"x": np.array(X)})))


def test_statements_up_to_the_limit_are_read_and_past_it_refused():
    n = MAX_STATEMENTS - 2  # y = x, n writes, the output
    assert _value("y = x\n" + "y = y + 1\n" * n + "y.sum()") == pytest.approx(sum(X) + 3 * n)
    line = _error(["eval", "y = x\n" + "y = y + 1\n" * (n + 1) + "y.sum()", "x=[0.5,-1.5,2.0]", "--json"],
                  "more than 10,000 statements", "(limit)")
    assert "loop" in line


def test_statements_inside_blocks_count():
    text = "def f(a):\n" + "    a = a * 1\n" * MAX_STATEMENTS + "    return a\nf(x).sum()"
    with pytest.raises(JacLimitError, match="more than 10,000 statements") as err:
        parser.parse(text, {"x": (3,)})
    assert err.value.position == text.index("    a = a * 1", len(text) - 40 - 14 * 10) or err.value.position > 0


def test_the_refusal_comes_before_any_lowering(monkeypatch):
    lowered = []
    monkeypatch.setattr(parser._Lowering, "run", lambda self, stmt, *a: lowered.append(stmt))
    with pytest.raises(JacLimitError):
        parser.parse("y = x\n" * (MAX_STATEMENTS + 1) + "y", {"x": (3,)})
    assert lowered == []


@pytest.mark.parametrize("depth, ok", [(99, True), (101, False)])
def test_calls_of_the_texts_functions_nest_up_to_100(depth, ok):
    text = "def f0(a):\n    return a * 2\n" + "".join(f"def f{i}(a):\n    return f{i - 1}(a)\n"
                                                  for i in range(1, depth)) + f"f{depth - 1}(x).sum()"
    if ok:
        assert _value(text) == pytest.approx(2 * sum(X))
    else:
        _error(["eval", text, "x=[0.5,-1.5,2.0]"], "inside 100 calls", "(limit)")


def test_a_lambda_chain_is_a_limit_error_not_an_internal_error():
    text = "f = lambda a: a\n" + "f = lambda a, f=f: f(a) * 1\n" * 300 + "f(x).sum()"
    _error(["eval", text, "x=[0.5,-1.5,2.0]", "--json"], "(limit)")


def test_a_recursion_error_in_the_lowering_is_a_limit_error(monkeypatch):
    def deep(self, *args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")
    monkeypatch.setattr(parser._Lowering, "run", deep)
    with pytest.raises(JacLimitError, match="nests too deeply"):
        parser.parse("y = x * 2\ny.sum()", {"x": (3,)})


@pytest.mark.parametrize("n", [10, 1000, 5000])
def test_lists_held_in_lists_deep_then_written(n):
    # Python: a0 is the list a1..a(n-1) hold; a0[0] = x * 2 changes it where every holder sees it
    text = "a0 = [x]\n" + "".join(f"a{i} = [a{i - 1}]\n" for i in range(1, n)) \
        + "a0[0] = x * 2\n" + "b = a" + str(n - 1) + ("[0]" * n) + "\nb.sum() + a0[0].sum()"
    assert _value(text) == pytest.approx(4 * sum(X))


def test_holds_and_lists_only_walk_without_recursion_and_agree_with_the_recursive_reading():
    inner = Items([1])
    top = inner
    for _ in range(5000):  # deeper than Python's recursion limit
        top = Items([top, 2])
    memo = {}
    assert _holds(top, inner, memo) and _lists_only(top, inner, memo)
    assert not _holds(Items([Items([3])]), inner)
    shared = Items([inner])
    both = Items([shared, shared, Items([5])])
    assert _holds(both, inner) and _lists_only(both, inner) and not _holds(both, Items([]))


def test_nested_written_reaches_a_chain_of_holders():
    n = 3000
    text = "a0 = [x]\n" + "".join(f"a{i} = [a{i - 1}]\n" for i in range(1, n)) + "a0[0] = x\nx"
    nested, _ = _nested_written(ast.parse(text))
    assert nested == {f"a{i}" for i in range(n)} | {"x"}  # x: the item a0 holds
    nested, _ = _nested_written(ast.parse("b = [c]\na = [b]\nd = [e]\nb[0] = 1\nx"))
    assert nested == {"a", "b", "c"}  # c held by b, a holds b; d and e are not written


def test_offsets_of_a_long_line_count_characters_as_before():
    for text in ("y = x\nz = 'é€😀' + 'b'\nq", "  é€x\n  😀ab c", "abc\n\tqéézz"):
        source = Source(text)
        for number, line in enumerate(source.body.split("\n"), start=1):
            encoded = line.encode("utf-8")
            margin = source.margins[number - 1] if source.margins else 0
            for col in range(len(encoded) + 2):
                want = source.starts[number - 1] + margin + len(encoded[:col].decode("utf-8", "ignore"))
                assert source.offset(number, col) == want


def test_a_long_second_line_costs_linear_time():
    # CPU time of the parse at two sizes: a quadratic path (a copy of the line per node) makes the ratio ~10
    def cost(n):
        text = "y = x\nmax(" + ", ".join(str(i) for i in range(n)) + ") * y.sum()  # é"
        started = time.process_time()
        parser.parse(text, {"x": (3,)})
        return time.process_time() - started
    small, big = min(cost(5000) for _ in range(2)), min(cost(50_000) for _ in range(2))
    assert big < 30 * max(small, 1e-3)


def test_and_or_chains_pick_pythons_operand():
    assert _value("y = x if " + " and ".join(["True"] * 5000) + " else -x\ny.sum()") == pytest.approx(sum(X))
    assert _value("y = x if " + " or ".join(["False"] * 5000) + " else -x\ny.sum()") == pytest.approx(-sum(X))
    assert _value("y = x if x.ndim == 1 and x.shape[0] > 2 and x.ndim == 7 else 2 * x\ny.sum()") \
        == pytest.approx(2 * sum(X))
    assert _value("y = x if x.ndim == 2 or x.shape[0] > 5 or x.ndim == 1 else 2 * x\ny.sum()") \
        == pytest.approx(sum(X))
