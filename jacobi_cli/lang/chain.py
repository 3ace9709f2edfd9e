"""Long flat chains of ``+ - * /`` over names and numbers, read without Python's parser.

``x*1 + x*2 + ... + x*100000`` is one left-deep syntax tree 200,000 levels deep: ``ast.parse``
alone takes over a second for it, on a thread with a large stack. Such a text is read here
instead, as a list of atoms and the operators between them, and only when it is certainly one
Python expression of this small grammar, which Python reads the same way:

    chain := atom (" "* op " "* atom)* " "* "\\n"?        op := "+" | "-" | "*" | "/"
    atom  := NAME (ASCII, not a keyword) | INT (no leading zero, at most 18 digits) | DIGITS "." DIGITS

Anything else (a leading space, parentheses, a call, ``**``, a unary minus, an exponent, a tab, a
second line) is left to :mod:`ast`, as are all syntax errors. The lowering
(:meth:`jacobi_cli.lang.parser._Lowering.chain`) then builds exactly the graph, and raises exactly
the errors, of the walk over the syntax tree: same nodes in the same order, same columns.
"""

from __future__ import annotations

import keyword
import re
from itertools import accumulate

_SPLIT = re.compile(r"( *)([-+*/])( *)")  # atom, spaces, op, spaces, atom, ...
_FLOAT = re.compile(r"[0-9]+\.[0-9]+")
MIN_CHARS = 64  # below this, ast.parse is as fast and there is nothing to gain


def split_chain(text: str) -> tuple | None:
    """``(atoms, atom columns, ops, op columns)`` of a chain, or None when ``text`` is not one
    (then it goes to :mod:`ast`). ``atoms`` are the atoms' texts (names and numbers), ``ops``
    the operator characters between them: ``ops[k]`` joins ``atoms[k]`` and ``atoms[k + 1]``."""
    if len(text) < MIN_CHARS or not text.isascii():
        return None
    body = text[:-1] if text.endswith("\n") else text
    body = body.rstrip(" ")
    if not body or body[0] == " ":  # a leading space is an IndentationError for Python
        return None
    parts = _SPLIT.split(body)
    atoms = parts[0::4]
    if not _atoms_valid(atoms):
        return None
    columns = list(accumulate(map(len, parts), initial=0))
    return atoms, columns[0::4], parts[2::4], columns[2::4]


def _atoms_valid(atoms: list) -> bool:
    """Every atom a name that is no keyword, or a number Python reads as this grammar says
    (the text is ASCII, so ``isdigit`` is [0-9]+ and ``isidentifier`` [A-Za-z_][A-Za-z0-9_]*)."""
    for atom in set(atoms):
        if atom.isdigit():
            if len(atom) > 18 or (atom[0] == "0" and len(atom) > 1):  # 01 is a syntax error
                return False
        elif atom.isidentifier():
            if keyword.iskeyword(atom):  # None, True, lambda, ...: not names
                return False
        elif not _FLOAT.fullmatch(atom):
            return False
    return True
