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

from ..ir.graph import _INDEX_OPS, _NO_PARAMS, _OPS, MAX_NODES, MEMO_AFTER, Tracer, _new_object, new_node
from ..ir.ops import same_shape
from ..ir.shapes import broadcast
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
    answer, and a product of two tracers ``short_binary``'s (``_fast_binary``); the others go to the methods.
    Session 45: the values the reader makes itself are node ids, not Tracers (see ``_unary_node`` below); the
    answer is one (an int) when the last node is the reader's own, else the lowering's value."""
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
            values.append(found if type(found) is Tracer else _lowered(lowering.short_name(name, name_start)))
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
        values.append(found if type(found) is Tracer else _lowered(lowering.short_name(name, name_start)))
    if ops:
        _reduce(ops, values, lowering, 1, b)
    return values[0] if not ops and len(values) == 1 else None


def _reduce(ops: list, values: list, lowering, lowest: int, b) -> None:
    """Lower the operators on top of ``ops`` that bind at ``lowest`` or tighter, last first (``b``: the
    lowering's builder). A negation or a product of tracers (or of node ids) is the node
    ``lowering.short_neg`` or ``lowering.short_binary`` makes: :func:`_unary_node`'s or :func:`_binary_node`'s, else ``b._apply`` of the op
    (their first lines, the same tests; ``tests/test_chain.py`` compares the graphs with ast's)."""
    while ops and ops[-1][0] >= lowest:
        level, op, position, _ = ops.pop()
        if level == _NEG:
            operand = values.pop()
            kind = type(operand)
            if kind is int or kind is Tracer:
                found = _unary_node(b, "neg", operand, position)
                values.append(found if found is not None else
                              b._apply("neg", (_traced(b, operand),), position, None, _NO_PARAMS))
            else:
                values.append(_lowered(lowering.short_neg(operand, position)))
        else:
            right = values.pop()
            left = values.pop()
            kind, other = type(left), type(right)
            if (kind is Tracer or kind is int) and (other is Tracer or other is int) \
                    and not b.booleans and (op != "matmul" or not b.typed):  # short_binary's first case
                found = _binary_node(b, op, left, right, position)
                values.append(found if found is not None else
                              b._apply(op, (_traced(b, left), _traced(b, right)), position, None, _NO_PARAMS))
            else:
                values.append(_lowered(lowering.short_binary(op, _traced(b, left), _traced(b, right), position)))


# --- nodes as the reader's values (session 45) -------------------------------------------------------------
# A value the reader makes itself is the id of its node (an int), not a Tracer: the commonest nodes of a short text
# (an element-wise op of one array, a product of two, sin(x), sum(x)) are appended here as ``Builder._apply`` would
# append them, without its call, its general tests and a Tracer per value (~3 k instructions a node); a Tracer is
# made (``_traced``) only where a value goes to a lowering method. Wherever ``_apply`` would do more than append the
# node (fold constants, check a size not known passed, track integer dtypes, fill its memo, refuse a shape) ``_unary_node``
# declines and the caller makes the node through ``_apply`` itself: tests/test_cold45.py compares the two.

_library_function, _function, _unary_op = LIBRARY_FUNCTIONS.get, FUNCTIONS.get, UNARY.get  # as the parser reads them


class NotShort(Exception):
    """A lowering method answered a Python int, which the reader would take for a node id: the text goes to ast
    (``parse`` starts again there on any exception)."""


def _lowered(value):
    """``value``, a lowering method's answer, unless it is a plain int (never one so far: numbers are constant nodes)."""
    if type(value) is int:
        raise NotShort(value)
    return value


def _traced(b, value):
    """``value``, or the Tracer of the node ``value`` when it is a node id (``Builder.tracer_of``'s, no call)."""
    if type(value) is not int:
        return value
    tracer = _new_object(Tracer)
    tracer.builder, tracer.id, tracer.shape = b, value, b.nodes[value].shape
    return tracer


def _unary_node(b, op_name: str, value, position, params: dict = _NO_PARAMS):
    """The id of the node ``b._apply(op_name, (value,), position, None, params)`` appends, ``value`` a node id or a
    Tracer of ``b``; None where ``_apply`` would do anything more than append that node (see above), or its shape
    rule raises (``_apply`` then raises the error as it words it)."""
    nodes = b.nodes
    if type(value) is int:
        i = value
        held = nodes[i]
        shape = held.shape
    else:
        i = value.id
        held = nodes[i]
        shape = value.shape
    op = _OPS[op_name]
    rule = op.shape
    if params or rule is not same_shape:
        try:
            shape = rule(shape, **params) if params else rule(shape)
        except Exception:  # noqa: BLE001 - _apply raises it
            return None
    if (b.fold and held.op == "const") or (not b.shapes_only and shape not in b._sized) \
            or (b.typing and (b.integral or b.booleans or op_name in _INDEX_OPS)):
        return None
    k = len(nodes)
    if k >= MAX_NODES:
        return None
    nodes.append(new_node(k, op_name, (i,), params or _NO_PARAMS, shape, None, position,
                          not op.nondiff and held.requires_grad, None))
    return k


def _binary_node(b, op_name: str, left, right, position):
    """:func:`_unary_node` of ``b._apply(op_name, (left, right), position, None, _NO_PARAMS)``."""
    nodes = b.nodes
    if type(left) is int:
        i = left
        held = nodes[i]
        shape = held.shape
    else:
        i = left.id
        held = nodes[i]
        shape = left.shape
    if type(right) is int:
        j = right
        other = nodes[j]
        second = other.shape
    else:
        j = right.id
        other = nodes[j]
        second = right.shape
    op = _OPS[op_name]
    rule = op.shape
    if not (rule is broadcast and type(shape) is tuple and (shape == second or not second)):  # else _apply's first answer
        try:
            shape = rule(shape, second)
        except Exception:  # noqa: BLE001 - _apply raises it
            return None
    if (b.fold and held.op == "const" and other.op == "const") or (not b.shapes_only and shape not in b._sized) \
            or (op.broadcasting and len(nodes) >= MEMO_AFTER) \
            or (b.typing and (b.integral or b.booleans or op_name in _INDEX_OPS)):
        return None  # a fold, a size to check, _apply's memo of result shapes, integer dtypes
    k = len(nodes)
    if k >= MAX_NODES:
        return None
    nodes.append(new_node(k, op_name, (i, j), _NO_PARAMS, shape, None, position,
                          not op.nondiff and (held.requires_grad or other.requires_grad), None))
    return k


def _call_of_one(b, fname: str, value, position):
    """``lowering.short_call(fname, [value], position)``'s node id where it is an op of the one array (``sin(x)``),
    Python's ``sum`` of an array (the reduction's node) or ``softmax`` of one, and :func:`_unary_node` makes it;
    else None (nothing done but ``b.library = None``, which short_call sets first too)."""
    kind = type(value)
    if kind is not int and kind is not Tracer:
        return None
    b.library = None  # short_call's first line
    lower = _library_function(("builtins", fname)) or _function(fname)
    if lower is None:
        return None
    op = _unary_op(lower)
    if op is not None:
        return _unary_node(b, op, value, position)
    if lower is _python_sum:  # its first case: sum(x) of an array of one axis or more
        ndim = len(b.nodes[value].shape if kind is int else value.shape)
        if ndim:
            return _unary_node(b, "sum", value, position, {"axes": tuple(range(ndim)), "keepdims": False})
    elif fname == "softmax" and lower is _function("softmax"):  # functions._softmax's first case, an array's
        ndim = len(b.nodes[value].shape if kind is int else value.shape)
        if ndim:
            return _unary_node(b, "softmax", value, position, {"axis": ndim - 1})
    return None
