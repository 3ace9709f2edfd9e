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
:func:`read_short` reads such a text and makes, as it reads, the lowering calls the walk over
Python's syntax tree makes (:meth:`jacobi_cli.lang.parser._Lowering.short_name` and its
siblings): a node is lowered once its operands are (the walk's post-order), at the columns ``ast``
gives (an operator's column is its token's). Anything else (a keyword argument, a method, an
attribute, a subscript, ``//``, a unary ``+``, an exponent, a tab, a new line, a leading space,
nesting deeper than ``MAX_DEPTH``, any syntax error) is left to :mod:`ast`: the reader returns
None, or raises ``_NotShort``, possibly after some nodes were lowered; the parser then discards
the builder and parses the text again through ``ast``, whose graph or error is the answer (as it
is when a lowering raises: a syntax error later in the text is ``ast``'s to report first).
``tests/test_chain.py`` compares both paths, node by node, errors included.
"""

from __future__ import annotations

import keyword
import re

MAX_CHARS = 2000  # longer texts go to ast (long chains have lang/chain.py)
MAX_DEPTH = 40  # parentheses, calls, unary minus and ** nested: deeper goes to ast (its limit is 200)
# spaces, then a token: a name, a number, ``**``, or any other character (an operator, a parenthesis, a
# comma; a character no rule takes makes the reader give up)
_TOKEN = re.compile(r"( *)([A-Za-z_][A-Za-z0-9_]*|[0-9]+(?:\.[0-9]+)?|\*\*|[^ ])")
# the characters of the grammar's tokens: any other (non-ASCII too) sends the text to ast
_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_ .+-*/@(),")
_LONE_DOT = re.compile(r"(?<![0-9])\.|\.(?![0-9])")  # a dot not between two digits: x.T, x.sum(), 1., .5
_END = "\n"  # the token after the last: no rule takes it (a new line is never in a short text's tokens)
_BINARY = {"+": "add", "-": "sub", "*": "mul", "/": "div", "@": "matmul"}
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "@": 2}
_KEYWORDS = frozenset(keyword.kwlist)  # None, True, lambda, not, ...: not names
_DIGITS = frozenset("0123456789")


class _NotShort(Exception):
    """The text is not certainly in the grammar: ast reads it."""


def read_short(tokens: list, lowering):
    """The value of a text lowered as it is read (see above), or None when the text is not
    certainly in the grammar (or ``_NotShort`` raised). ``lowering`` (the parser's ``_Lowering``)
    gets the walk's calls; ``tokens``: ``short_tokens(text)``. The caller discards the builder on
    None or on any exception and parses the text through ``ast``, so the errors are that path's."""
    reader = _Direct(tokens, lowering)
    value = reader.expr(0)
    return value if reader.at == len(tokens) - 1 else None


def short_tokens(text: str):
    """``[(token, start)]`` of ``text`` ending in ``(_END, len(text))``, or None for a text that
    goes to ast by its characters."""
    if len(text) > MAX_CHARS or not text or text[0] == " " or not _CHARACTERS.issuperset(text) \
            or ("." in text and _LONE_DOT.search(text) is not None):
        return None
    tokens, pos = [], 0
    append = tokens.append
    for spaces, token in _TOKEN.findall(text):  # every character but trailing spaces is in a token
        pos += len(spaces)
        append((token, pos))
        pos += len(token)
    append((_END, len(text)))
    return tokens


class _Direct:
    """Precedence climbing over the tokens, each rule lowering its node as soon as its operands
    are lowered and returning the lowered value. The last token is ``_END``, which no rule takes,
    so no rule looks past the end."""

    __slots__ = ("tokens", "at", "low")

    def __init__(self, tokens: list, lowering):
        self.tokens = tokens
        self.at = 0
        self.low = lowering

    def expr(self, depth: int):
        return self.climb(self.factor(depth), 1, depth)

    def climb(self, left, lowest: int, depth: int):
        """``left`` joined to the operands that follow by operators of precedence ``lowest`` or
        more, left to right (``+ -`` 1, ``* / @`` 2), each join lowered when made."""
        tokens = self.tokens
        while True:
            op, position = tokens[self.at]
            level = _PRECEDENCE.get(op)
            if level is None or level < lowest:
                return left
            self.at += 1
            right = self.factor(depth)
            while True:
                after = _PRECEDENCE.get(tokens[self.at][0])
                if after is None or after <= level:
                    break
                right = self.climb(right, after, depth)
            left = self.low.short_binary(_BINARY[op], left, right, position)

    def factor(self, depth: int):
        """``"-" factor | primary ("**" factor)?``"""
        if depth > MAX_DEPTH:
            raise _NotShort
        tokens = self.tokens
        text, start = tokens[self.at]
        self.at += 1
        if text == "-":
            return self.low.short_neg(self.factor(depth + 1), start)
        base = self.primary(text, start, depth)
        op, position = tokens[self.at]
        if op == "**":
            self.at += 1
            return self.low.short_binary("pow", base, self.factor(depth + 1), position)
        return base

    def primary(self, text: str, start: int, depth: int):
        """The token ``text`` at ``start`` (taken) and what follows it: a name, a number, a call or
        a parenthesized expression."""
        first = text[0]
        if first in _DIGITS:
            if "." not in text and (len(text) > 18 or (first == "0" and len(text) > 1)):
                raise _NotShort  # 01 is a syntax error; a long integer goes to ast (its float may overflow)
            return self.low.short_number(text, start)
        tokens = self.tokens
        if first.isalpha() or first == "_":
            if text in _KEYWORDS:
                raise _NotShort
            if tokens[self.at][0] != "(":
                return self.low.short_name(text, start)
            self.at += 1
            args = [self.expr(depth + 1)]
            while tokens[self.at][0] == ",":
                self.at += 1
                args.append(self.expr(depth + 1))
            self.close()
            return self.low.short_call(text, args, start)
        if first == "(":
            inner = self.expr(depth + 1)
            self.close()
            return inner
        raise _NotShort

    def close(self) -> None:
        """Take a ``)``."""
        if self.tokens[self.at][0] != ")":
            raise _NotShort
        self.at += 1
