"""Short expressions of a small grammar, read without Python's parser.

A first call's parse is mostly ``ast.parse`` (~130 k instructions for ``sum(tanh(A @ tanh(A @ x)))``,
with its lock and warnings filter ~160 k) and the walk over its tree. The expressions of the
benchmarks and most one-liners are in a small grammar that Python reads in one way only:

    expr    := term (("+" | "-") term)*                     left to right
    term    := factor (("*" | "/" | "@") factor)*           left to right
    factor  := "-" factor | power
    power   := primary ("**" factor)?                       so ** binds right to left, -x**2 is -(x**2)
    primary := NAME | NUMBER | NAME "(" expr ("," expr)* ")" | "(" expr ")"

with NAME an ASCII identifier that is no keyword, NUMBER digits (no leading zero, at most 18)
or digits "." digits, and single spaces or more between tokens (none before the first). Such a
text is read here into a small tree, and only when the whole text is certainly in the grammar;
anything else (a keyword argument, a method, an attribute, a subscript, ``//``, a unary ``+``, an
exponent, a tab, a new line, a leading space, nesting deeper than ``MAX_DEPTH``, any syntax
error) is left to :mod:`ast`. The lowering (:meth:`jacobi_cli.lang.parser._Lowering.short`)
makes the calls the walk over the syntax tree makes, in the same order and at the same columns,
so the graph and every error are the same: ``tests/test_chain.py`` compares both, node by node.
:func:`read_short` (what the parser tries first) makes those calls as it reads, with no tree; the
parser discards its work on anything it cannot finish and takes the tree or ``ast`` path.
Reading it costs about 100 k instructions for E6 (``re.findall`` for the tokens, precedence climbing),
beside ``ast.parse``'s 138 k, its lock and warnings filter, and the walk over its nodes.

A tree node is a tuple whose first two fields are its kind and its own columns ``(start, end)``
as ``ast`` gives them (a node's own parentheses excluded, its children's included):
``("name", span, text)``, ``("number", span, text)``, ``("call", span, name, args)``,
``("neg", span, operand)``, ``("binary", span, op, left, right)`` (``op``: ``add sub mul div
matmul pow``).
"""

from __future__ import annotations

import keyword
import re

MAX_CHARS = 2000  # longer texts go to ast (long chains have lang/chain.py)
MAX_DEPTH = 40  # parentheses, calls, unary minus and ** nested: deeper goes to ast (its limit is 200)
# spaces, then a token: a name, a number, an operator, or any other character (which no rule takes)
_TOKEN = re.compile(r"( *)([A-Za-z_][A-Za-z0-9_]*|[0-9]+\.[0-9]+|[0-9]+|\*\*|[-+*/@(),]|[^ ])")
# a character of no token of the grammar (non-ASCII too), or a dot not between two digits (x.T, x.sum())
_OUTSIDE = re.compile(r"[^A-Za-z0-9_ .+\-*/@(),]|(?<![0-9])\.|\.(?![0-9])")
_BINARY = {"+": "add", "-": "sub", "*": "mul", "/": "div", "@": "matmul"}
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "@": 2}
_KEYWORDS = frozenset(keyword.kwlist)  # None, True, lambda, not, ...: not names


class _NotShort(Exception):
    """The text is not certainly in the grammar: ast reads it."""


def short_tree(text: str):
    """The tree of ``text`` (see above), or None when ``text`` goes to :mod:`ast`."""
    tokens = short_tokens(text)
    if tokens is None:
        return None
    reader = _Reader(tokens)
    try:
        node, _, _ = reader.expr(0)
    except _NotShort:
        return None
    return node if reader.at == len(tokens) else None


def read_short(tokens: list, lowering):
    """The result of lowering a text as it is read, without a tree: ``lowering`` (the parser's
    ``_Lowering``) is called as :meth:`~jacobi_cli.lang.parser._Lowering.short` calls it on
    ``short_tree(text)``, in the same order (a node is lowered once its operands are: the walk's
    post-order) and at the same columns; None when ``text`` is not certainly in the grammar. A
    text may be found outside the grammar after some nodes were lowered, and a lowering may raise
    before the reader reaches a syntax error that ``ast`` reports first: the caller discards the
    builder on None or on any exception and parses ``text`` again by the general path
    (``parser.parse``), so the errors are that path's. ``tokens``: ``short_tokens(text)``."""
    reader = _Direct(tokens, lowering)
    value = reader.expr(0)[0]
    return value if reader.at == len(tokens) else None


def short_tokens(text: str):
    """``[(token, start, end)]`` of ``text``, or None for a text that goes to ast by its characters
    (a character no token of the grammar holds would make a token no rule takes)."""
    if len(text) > MAX_CHARS or not text or text[0] == " " or _OUTSIDE.search(text) is not None:
        return None
    tokens, pos = [], 0
    for spaces, token in _TOKEN.findall(text):  # every character but trailing spaces is in a token
        start = pos + len(spaces)
        pos = start + len(token)
        tokens.append((token, start, pos))
    return tokens


class _Reader:
    """Precedence climbing over the tokens; each rule returns ``(node, outer start, outer end)``,
    the outer columns including the node's own parentheses (what its parent spans)."""

    def __init__(self, tokens: list):
        self.tokens = tokens
        self.at = 0

    def expr(self, depth: int):
        return self.climb(self.factor(depth), 1, depth)

    def climb(self, left, lowest: int, depth: int):
        """``left`` joined to the operands that follow by operators of precedence ``lowest`` or
        more, left to right (``+ -`` 1, ``* / @`` 2)."""
        tokens = self.tokens
        while self.at < len(tokens):
            op = tokens[self.at][0]
            level = _PRECEDENCE.get(op)
            if level is None or level < lowest:
                break
            self.at += 1
            right = self.factor(depth)
            while self.at < len(tokens):
                after = _PRECEDENCE.get(tokens[self.at][0])
                if after is None or after <= level:
                    break
                right = self.climb(right, after, depth)
            left = ("binary", (left[1], right[2]), _BINARY[op], left[0], right[0]), left[1], right[2]
        return left

    def factor(self, depth: int):
        """``"-" factor | primary ("**" factor)?``"""
        if depth > MAX_DEPTH or self.at >= len(self.tokens):
            raise _NotShort
        token = self.tokens[self.at]
        if token[0] == "-":
            self.at += 1
            operand, _, end = self.factor(depth + 1)
            return ("neg", (token[1], end), operand), token[1], end
        base, start, end = self.primary(token, depth)
        if self.at < len(self.tokens) and self.tokens[self.at][0] == "**":
            self.at += 1
            exponent, _, end = self.factor(depth + 1)
            return ("binary", (start, end), "pow", base, exponent), start, end
        return base, start, end

    def primary(self, token, depth: int):
        text, start, end = token
        first = text[0]
        self.at += 1
        if first.isdigit():
            if "." not in text and (len(text) > 18 or (first == "0" and len(text) > 1)):
                raise _NotShort  # 01 is a syntax error; a long integer goes to ast (its float may overflow)
            return ("number", (start, end), text), start, end
        if first.isalpha() or first == "_":
            if text in _KEYWORDS:
                raise _NotShort
            if self.at >= len(self.tokens) or self.tokens[self.at][0] != "(":
                return ("name", (start, end), text), start, end
            self.at += 1
            args = [self.expr(depth + 1)[0]]
            while self.at < len(self.tokens) and self.tokens[self.at][0] == ",":
                self.at += 1
                args.append(self.expr(depth + 1)[0])
            close = self.close()
            return ("call", (start, close), text, args), start, close
        if first == "(":
            inner, _, _ = self.expr(depth + 1)
            return inner, start, self.close()
        raise _NotShort

    def close(self) -> int:
        """Take a ``)``; its end column."""
        if self.at >= len(self.tokens) or self.tokens[self.at][0] != ")":
            raise _NotShort
        self.at += 1
        return self.tokens[self.at - 1][2]


class _Direct:
    """:class:`_Reader`'s rules, each lowering its node as soon as its operands are lowered: a rule
    returns ``(value, own start, own end, outer start, outer end)``, the own columns being the
    node's span in ``short_tree`` (``ast``'s), the outer ones including its own parentheses."""

    def __init__(self, tokens: list, lowering):
        self.tokens = tokens
        self.at = 0
        self.low = lowering

    def expr(self, depth: int):
        return self.climb(self.factor(depth), 1, depth)

    def climb(self, left, lowest: int, depth: int):
        """As :meth:`_Reader.climb`; each join lowered when made."""
        tokens = self.tokens
        while self.at < len(tokens):
            op = tokens[self.at][0]
            level = _PRECEDENCE.get(op)
            if level is None or level < lowest:
                break
            self.at += 1
            right = self.factor(depth)
            while self.at < len(tokens):
                after = _PRECEDENCE.get(tokens[self.at][0])
                if after is None or after <= level:
                    break
                right = self.climb(right, after, depth)
            value = self.low.short_binary(_BINARY[op], left[0], right[0], left[2], right[1], left[3])
            left = value, left[3], right[4], left[3], right[4]
        return left

    def factor(self, depth: int):
        """``"-" factor | primary ("**" factor)?``"""
        if depth > MAX_DEPTH or self.at >= len(self.tokens):
            raise _NotShort
        token = self.tokens[self.at]
        if token[0] == "-":
            self.at += 1
            operand = self.factor(depth + 1)
            return self.low.short_neg(operand[0], token[1]), token[1], operand[4], token[1], operand[4]
        base = self.primary(token, depth)
        if self.at < len(self.tokens) and self.tokens[self.at][0] == "**":
            self.at += 1
            exponent = self.factor(depth + 1)
            value = self.low.short_binary("pow", base[0], exponent[0], base[2], exponent[1], base[3])
            return value, base[3], exponent[4], base[3], exponent[4]
        return base

    def primary(self, token, depth: int):
        text, start, end = token
        first = text[0]
        self.at += 1
        if first.isdigit():
            if "." not in text and (len(text) > 18 or (first == "0" and len(text) > 1)):
                raise _NotShort  # as _Reader.primary
            return self.low.short_number(text, start), start, end, start, end
        if first.isalpha() or first == "_":
            if text in _KEYWORDS:
                raise _NotShort
            if self.at >= len(self.tokens) or self.tokens[self.at][0] != "(":
                return self.low.short_name(text, start), start, end, start, end
            self.at += 1
            args = [self.expr(depth + 1)[0]]
            while self.at < len(self.tokens) and self.tokens[self.at][0] == ",":
                self.at += 1
                args.append(self.expr(depth + 1)[0])
            close = self.close()
            return self.low.short_call(text, args, start), start, close, start, close
        if first == "(":
            inner = self.expr(depth + 1)
            close = self.close()
            return inner[0], inner[1], inner[2], start, close
        raise _NotShort

    close = _Reader.close
