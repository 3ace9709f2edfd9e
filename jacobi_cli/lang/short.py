"""Short expressions of a small grammar, lowered as they are read, without Python's parser.

A first call's parse was mostly ``ast.parse`` (~130 k instructions for ``sum(tanh(A @ tanh(A @ x)))``,
with its lock and warnings filter ~160 k) and the walk over its tree. The expressions of the
benchmarks and most one-liners are in a small grammar that Python reads in one way only:

    expr    := term (("+" | "-") term)*                     left to right
    term    := factor (("*" | "/" | "@") factor)*           left to right
    factor  := "-" factor | power
    power   := primary ("**" factor)?                       so ** binds right to left, -x**2 is -(x**2)
    primary := NAME | NUMBER | NAME "(" expr ("," expr)* ")" | "(" expr ")"

with NAME an ASCII identifier that is no keyword, NUMBER digits (no leading zero, at most 18)
or digits "." digits, and single spaces or more between tokens (none before the first).
:func:`read_short` reads such a text (operator precedence on two stacks, one pass over its
tokens) and makes, as it reads, the lowering calls the walk over Python's syntax tree makes
(:meth:`jacobi_cli.lang.parser._Lowering.short_name` and its siblings): a node is lowered once
its operands are (the walk's post-order), at the columns ``ast`` gives (an operator's column is
its token's). Anything else (a keyword argument, a method, an attribute, a subscript, ``//``, a
unary ``+``, an exponent, a tab, a new line, a leading space, nesting deeper than ``MAX_DEPTH``,
any syntax error) is left to :mod:`ast`: the reader returns None, possibly after some nodes were lowered; the parser then discards the builder
and parses the text again through ``ast``, whose graph or error is the answer (as it is when a
lowering raises: a syntax error later in the text is ``ast``'s to report first).
``tests/test_chain.py`` compares both paths, node by node, errors included.
"""

from __future__ import annotations

import keyword
import re

from ..ir.graph import _NO_PARAMS, Tracer, _new_object
from .functions import FUNCTIONS, LIBRARY_FUNCTIONS, UNARY, _python_sum

MAX_CHARS = 2000  # longer texts go to ast (long chains have lang/chain.py)
MAX_DEPTH = 40  # parentheses, calls, unary minus and ** nested: deeper goes to ast (its limit is 200)
# spaces, then a token: a name, a number, ``**``, or any other character (an operator, a parenthesis, a
# comma; any other character, a tab, a new line, a dot outside a number, a non-ASCII letter, is a token
# no rule takes: the reader gives up)
_TOKEN = re.compile(r"( *)([A-Za-z_][A-Za-z0-9_]*|[0-9]+(?:\.[0-9]+)?|\*\*|[^ ])")
_NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")  # ASCII: é is no name here
# a character of no token of the grammar (=, ;, [, a new line, é), or a dot not between two digits (x.T,
# x.sum()): a text with one goes to ast at once
_OUTSIDE = re.compile(r"[^A-Za-z0-9_ .+\-*/@(),]")
_LONE_DOT = re.compile(r"(?<![0-9])\.|\.(?![0-9])")


# the operators by their token: (precedence, op); ** binds right to left, tighter than a unary minus on its left
_BINARY = {"+": (1, "add"), "-": (1, "sub"), "*": (2, "mul"), "/": (2, "div"), "@": (2, "matmul"), "**": (4, "pow")}
_NEG = 3  # a unary minus: tighter than * / @, looser than ** (-x**2 is -(x**2), -x*y is (-x)*y)
_OPEN, _CALL = 0, -1  # the precedence of "(" and of "f(" on the stack of operators: nothing reduces past them
_KEYWORDS = frozenset(keyword.kwlist)  # None, True, lambda, not, ...: not names
_PYTHON_VALUES = frozenset(("range",))  # calls making Python's own sequences, whose arithmetic the ast path reads
_DIGITS = frozenset("0123456789")
_NOT_NAMES = _KEYWORDS | _PYTHON_VALUES  # what the reader takes for no name: one lookup per name read


def may_be_short(text: str) -> bool:
    """Is ``text`` for :func:`read_short`? Not when its characters or its first space show it is
    not in the grammar (``a = x; a``, ``x[0]``, `` x``, an indentation error): ast reads it."""
    return 0 < len(text) <= MAX_CHARS and text[0] != " " and _OUTSIDE.search(text) is None \
        and ("." not in text or _LONE_DOT.search(text) is None)


def read_short(text: str, lowering):
    """The value of ``text`` (which :func:`may_be_short`) lowered as it is read (see above), or None when it is not certainly
    in the grammar. Operator precedence on two stacks, one pass over the tokens
    (the values lowered so far; the operators waiting for their right operand, with the
    parentheses and calls open), so a node is lowered as soon as the token after its last
    operand shows it complete: the order of the walk over the syntax tree. ``lowering`` (the
    parser's ``_Lowering``) gets the calls; the caller discards the builder on None or on any
    exception and parses the text through ``ast``, so the errors are that path's.

    The commonest calls are made here without the lowering's method (session 44: a call each, ~0.7 k
    instructions, of ~8 a text): a name bound to a tracer in ``lowering.scope`` is ``short_name``'s
    answer, and a product of two tracers ``short_binary``'s; the others go to the methods.
    Session 45: the values the reader makes itself are node ids, not Tracers, appended by ``Builder._apply_id``
    (session 46: a tracer in scope or from a lowering method is held by its id too; see below); the answer is a
    node id (an int) when the last value stands for a node, else the lowering's value."""
    b = lowering.b
    scope_get = lowering.scope.get
    values: list = []
    ops: list = []  # (precedence, op or name, column, the number of values below a "(" or "f(")
    operand = True  # an operand comes next (else an operator, ")" or ",")
    name = None  # a name just read, lowered when the next token shows it is no function called
    pos = 0
    for spaces, token in _TOKEN.findall(text):
        start = pos + len(spaces) if spaces else pos  # most tokens follow the one before at once
        pos = start + len(token)
        if operand:
            first = token[0]
            if first in _DIGITS:
                if "." not in token and (len(token) > 18 or (first == "0" and len(token) > 1)):
                    return None  # 01 is a syntax error; a long integer goes to ast (its float may overflow)
                values.append(lowering.short_number(token, start))
                operand = False
            elif first in _NAME_START:
                if token in _NOT_NAMES:
                    return None
                name, name_start = token, start
                operand = False
            elif token == "-":
                ops.append((_NEG, "neg", start, 0))
                if len(ops) > MAX_DEPTH:
                    return None
            elif token == "(":
                ops.append((_OPEN, "(", start, len(values)))
                if len(ops) > MAX_DEPTH:
                    return None
            else:
                return None
            continue
        if name is not None:
            if token == "(":  # a call: its arguments are read first
                ops.append((_CALL, name, name_start, len(values)))
                if len(ops) > MAX_DEPTH:
                    return None
                name = None
                operand = True
                continue
            found = scope_get(name)  # lowering.short_name's answer for a tracer in scope, without its call
            values.append(found.id if type(found) is Tracer else _lowered(lowering.short_name(name, name_start)))
            name = None
        found = _BINARY.get(token)
        if found is not None:
            level = found[0]
            if level < _NEG:  # left to right: what binds as tightly or more is complete
                if ops and ops[-1][0] >= level:
                    _reduce(ops, values, lowering, level, b)
            elif len(ops) >= MAX_DEPTH:  # ** nested
                return None
            ops.append((level, found[1], start, 0))
            operand = True
        elif token == ")" or token == ",":
            if ops and ops[-1][0] >= 1:  # an operator to lower first (else _reduce would find none: no call)
                _reduce(ops, values, lowering, 1, b)
            if not ops:
                return None
            level, callee, at, below = ops[-1]
            if token == ",":
                if level != _CALL:
                    return None  # (a, b) is a tuple
                operand = True
                continue
            ops.pop()
            if level == _CALL:
                if len(values) == below + 1:  # one argument: sin(x), sum(x) made here when they can be
                    found = _call_of_one(b, callee, values[-1], at)
                    if found is not None:
                        values[-1] = found
                        continue
                args = [_traced(b, value) for value in values[below:]]
                del values[below:]
                values.append(_lowered(lowering.short_call(callee, args, at)))
        else:
            return None
    if operand:
        return None
    if name is not None:
        found = scope_get(name)
        values.append(found.id if type(found) is Tracer else _lowered(lowering.short_name(name, name_start)))
    if ops:
        _reduce(ops, values, lowering, 1, b)
    return values[0] if not ops and len(values) == 1 else None


def _reduce(ops: list, values: list, lowering, lowest: int, b) -> None:
    """Lower the operators on top of ``ops`` that bind at ``lowest`` or tighter, last first (``b``: the
    lowering's builder). A negation or a product of nodes (node ids) is the node ``lowering.short_neg`` or
    ``lowering.short_binary`` makes, ``b._apply``'s, made by ``b._apply_id`` (their first lines, the same tests;
    ``tests/test_chain.py`` compares the graphs with ast's, ``tests/test_cold45.py`` with the methods')."""
    while ops and ops[-1][0] >= lowest:
        level, op, position, _ = ops.pop()
        if level == _NEG:
            operand = values.pop()
            if type(operand) is int:  # short_neg's answer for a tracer: b._apply's node
                values.append(b._apply_id("neg", (operand,), position, None, _NO_PARAMS))
            else:
                values.append(_lowered(lowering.short_neg(operand, position)))
        else:
            right = values.pop()
            left = values.pop()
            if type(left) is int and type(right) is int and not b.booleans and (op != "matmul" or not b.typed):
                values.append(b._apply_id(op, (left, right), position, None, _NO_PARAMS))  # short_binary's first case
            else:
                values.append(_lowered(lowering.short_binary(op, _traced(b, left), _traced(b, right), position)))


# --- nodes as the reader's values (sessions 45, 46) -------------------------------------------------------
# A value the reader holds is a node id (an int), not a Tracer, wherever it stands for a node of the builder: the
# nodes it makes itself, a name bound to a tracer in scope, a lowering method's tracer. The commonest nodes of a short
# text (an op of one array, a product of two, sin(x), sum(x), softmax(x)) are appended by ``Builder._apply_id``, the
# node ``Builder._apply`` would append with its every guard (a fold of constants, the size check, the typing of
# integers, its memo of result shapes, its errors), without its Tracer; a Tracer is made (``_traced``) only where a
# value goes to a lowering method. tests/test_cold45.py compares the reader with its lowering methods' path.

_library_function, _function, _unary_op = LIBRARY_FUNCTIONS.get, FUNCTIONS.get, UNARY.get  # as the parser reads them


class NotShort(Exception):
    """A lowering method answered a Python int, which the reader would take for a node id: the text goes to ast
    (``parse`` starts again there on any exception)."""


def _lowered(value):
    """``value``, a lowering method's answer, as the reader holds it: a Tracer's node id, else itself, unless it is a
    plain int (never one so far: numbers are constant nodes), which is refused."""
    kind = type(value)
    if kind is Tracer:
        return value.id
    if kind is int:
        raise NotShort(value)
    return value


def _traced(b, value):
    """``value``, or the Tracer of the node ``value`` when it is a node id (``Builder.tracer_of``'s, no call)."""
    if type(value) is not int:
        return value
    tracer = _new_object(Tracer)
    tracer.builder, tracer.id, tracer.shape = b, value, b.nodes[value].shape
    return tracer


def _call_of_one(b, fname: str, value, position):
    """``lowering.short_call(fname, [value], position)``'s node id (``b._apply_id``'s) where ``value`` is a node id
    and the call an op of that array (``sin(x)``), Python's ``sum`` of an array (the reduction's node) or
    ``softmax`` of one; else None (nothing done but ``b.library = None``, which short_call sets first too)."""
    if type(value) is not int:
        return None
    b.library = None  # short_call's first line
    lower = _library_function(("builtins", fname)) or _function(fname)
    if lower is None:
        return None
    op = _unary_op(lower)
    if op is not None:  # short_call's b._apply(op, (x,), ...)
        return b._apply_id(op, (value,), position, None, _NO_PARAMS)
    if lower is _python_sum:  # its first case: sum(x) of an array of one axis or more
        ndim = len(b.nodes[value].shape)
        if ndim:
            return b._apply_id("sum", (value,), position, None, {"axes": tuple(range(ndim)), "keepdims": False})
    elif fname == "softmax" and lower is _function("softmax"):  # functions._softmax's first case, an array's
        ndim = len(b.nodes[value].shape)
        if ndim:
            return b._apply_id("softmax", (value,), position, None, {"axis": ndim - 1})
    return None
