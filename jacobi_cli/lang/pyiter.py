"""Python's ``itertools``, ``functools`` and ``operator`` in the programs people paste (session 36).

``for i, j in itertools.combinations(range(n), 2)``, ``functools.reduce(np.matmul, mats)``, ``partial(loss,
reg=0.1)``, ``math.prod(factors)``, ``list(zip(a, b))``: each iterator is run by Python's own ``itertools`` over the
items jac knows when the text is read (Python's ints, ``range``, lists and tuples of arrays, an array's rows, a
shape's entries), so order, lengths and empty results are Python's; the functions applied to the items
(``reduce``'s, ``accumulate``'s, ``map``'s, ``starmap``'s) are written out one call at a time as the text's own
call of them would be (:func:`invoke`: a call of the syntax tree, with the items bound to names of their own), so
``reduce`` and ``accumulate`` of arrays build the graph step by step in Python's order.

An iterator is read once, where Python reads it once: as a loop's or comprehension's iterable, or the argument
of a function that consumes it (``list``, ``tuple``, ``sum``, ``reduce``, another iterator...), possibly through
one name assigned it and read once (:func:`refuse_reused`, before anything is lowered). Anything else (``len``,
``[i]``, a second pass, which Python finds empty) is refused, as a silently different answer would be worse.
The names a top-level ``from itertools import combinations`` binds are spelled out (:func:`spelled`) before the
parse reads the text."""

from __future__ import annotations

import ast
import functools
import itertools
import math

import numpy as np

from ..errors import JacLimitError, JacParseError, JacValueError
from .functions import Items, in_place_flag, in_place_value
from . import trees
from . import starred  # '*' and '**' in a call read off its syntax, written out
from .plain import Partial  # functools.partial(f, ...) made here or by the parser: one kind of value

MODULES = ("itertools", "functools", "operator")  # the modules whose imports are read (and math.prod)
MAX_ITEMS = 10_000  # the parser's _MAX_UNROLLED: every item is written out
MAX_ELEMENTS = 10 * MAX_ITEMS  # the elements of an iterator's tuples, in all (product(range(100), repeat=2): 20,000)

# itertools' iterators (run by Python's itertools itself), and the builtins read the same way where a value
_ITERATORS = ("product", "combinations", "combinations_with_replacement", "permutations", "chain",
              "chain.from_iterable", "islice", "pairwise", "repeat", "starmap", "zip_longest", "accumulate",
              "count", "cycle", "takewhile", "dropwhile", "filterfalse", "compress", "groupby")
BARE = ("zip", "enumerate", "map", "filter")  # Python's builtins read here (where the text binds no such name)
ITERATORS = frozenset({f"itertools.{name}" for name in _ITERATORS} | set(BARE))
_VARIADIC = frozenset({"zip", "map", "itertools.product", "itertools.chain", "itertools.zip_longest"})
_SNAPSHOT = frozenset({"itertools.product", "itertools.combinations", "itertools.combinations_with_replacement",
                       "itertools.permutations"})  # take their items when made: read anywhere after, once
_CALLING = frozenset({"map", "itertools.starmap", "itertools.accumulate", "filter", "itertools.takewhile",
                      "itertools.dropwhile", "itertools.filterfalse", "itertools.groupby"})  # call one as read
ENDLESS = frozenset({"itertools.count", "itertools.cycle"})  # and repeat without times: only inside zip/map/islice
_BINARY = {"add": ast.Add, "sub": ast.Sub, "mul": ast.Mult, "truediv": ast.Div, "floordiv": ast.FloorDiv,
           "mod": ast.Mod, "pow": ast.Pow, "matmul": ast.MatMult, "and_": ast.BitAnd, "or_": ast.BitOr,
           "xor": ast.BitXor, "lshift": ast.LShift, "rshift": ast.RShift}
_COMPARE = {"lt": ast.Lt, "le": ast.LtE, "eq": ast.Eq, "ne": ast.NotEq, "ge": ast.GtE, "gt": ast.Gt}
_UNARY = {"neg": ast.USub, "pos": ast.UAdd, "invert": ast.Invert, "inv": ast.Invert}
OPERATORS = frozenset({f"operator.{name}" for name in (*_BINARY, *_COMPARE, *_UNARY, "abs", "getitem")})
VALUES = frozenset({"functools.reduce", "functools.partial", "operator.itemgetter", "math.prod", "itertools.tee",
                    "operator.attrgetter", "operator.methodcaller", "functools.cmp_to_key"})
CACHES = frozenset({"functools.cache", "functools.lru_cache"})  # decorators: a function whose results are kept
SPELLINGS = ITERATORS | OPERATORS | VALUES
# the rest of the three modules, refused by name (with what jac reads) rather than as unknown names
READ = ("itertools: product, combinations, combinations_with_replacement, permutations, chain, chain.from_iterable, "
        "islice, pairwise, repeat, starmap, zip_longest, accumulate, takewhile, dropwhile, filterfalse, compress, "
        "groupby, tee, count and cycle (inside zip, map or islice); functools: reduce, partial, cmp_to_key, and "
        "@cache / @lru_cache; operator: add, sub, mul, truediv, floordiv, mod, pow, matmul, neg, pos, abs, "
        "the comparisons, getitem, itemgetter, attrgetter, methodcaller")
# what consumes an iterator in one pass (its argument may be one): Python's builtins and the spellings above
_CONSUMERS = frozenset({"list", "tuple", "sum", "any", "all", "dict", "math.prod", "functools.reduce"}) | ITERATORS


# --- the names: spelled out, and the one pass an iterator gets --------------------------------------------------

def spelled(module: ast.Module) -> ast.Module:
    """``from itertools import combinations as comb`` (``functools``, ``operator``, ``math.prod``) and ``import
    itertools as it`` at the text's top level: each load of the bound name becomes the whole spelling
    (``itertools.combinations``) and the import ``import itertools``, where the text binds the name nowhere
    else; anything else is left to the parser's check of imports."""
    from .imports import _bound_names, _Spelled
    bound, targets = _bound_names(module), {}
    for stmt in module.body:
        for alias, path in _imports(stmt):
            name = alias.asname or alias.name
            if bound.get(name) == 1 and path != name:
                targets[name] = path
    if not targets:
        return module
    module.body = [_import_kept(stmt, targets) for stmt in module.body]
    return ast.fix_missing_locations(_Spelled(targets).visit(module))


def _imports(stmt) -> list:
    """(alias, whole spelling) of each name an import of the three modules binds that :func:`spelled` follows."""
    if isinstance(stmt, ast.ImportFrom) and not stmt.level and stmt.module in (*MODULES, "math"):
        return [(a, f"{stmt.module}.{a.name}") for a in stmt.names if f"{stmt.module}.{a.name}" in SPELLINGS
                or stmt.module in MODULES and a.name != "*" and stmt.module != "math"]
    if isinstance(stmt, ast.Import):
        return [(a, a.name) for a in stmt.names if a.name in MODULES and a.asname is not None]
    return []


def _import_kept(stmt, targets: dict):
    """The import with the followed names taken out (``import MODULE`` where none is left)."""
    followed = {id(a) for a, _ in _imports(stmt) if (a.asname or a.name) in targets}
    if not followed:
        return stmt
    kept = [a for a in stmt.names if id(a) not in followed]
    module = stmt.module if isinstance(stmt, ast.ImportFrom) else None
    if kept:
        return ast.copy_location(type(stmt)(**{**{f: getattr(stmt, f) for f in stmt._fields}, "names": kept}), stmt)
    names = [ast.alias(name=module)] if module else [ast.alias(name=a.name) for a in stmt.names]
    return ast.copy_location(ast.Import(names=names), stmt)


def accepted_import(stmt, bound: str | None, path: str) -> bool:
    """``import itertools`` / ``functools`` / ``operator`` (what :func:`spelled` leaves): the modules read."""
    return path in MODULES and bound in (None, path)


def spelling_of(func: ast.AST, scope) -> str | None:
    """The spelling (``itertools.combinations``, ``zip``, ``operator.add``) a callee or value of the text is, where
    its root is no name the text binds; None otherwise."""
    if type(func) is ast.Name:
        return func.id if func.id in BARE and func.id not in scope else None
    parts = []
    while type(func) is ast.Attribute:
        parts.append(func.attr)
        func = func.value
    if type(func) is not ast.Name or func.id not in (*MODULES, "math") or func.id in scope:
        return None
    path = ".".join([func.id, *reversed(parts)])
    if path in SPELLINGS or func.id in MODULES:
        return path if path not in CACHES else None  # @functools.cache: a decorator (cached)
    return None


def refuse_reused(module: ast.Module, source) -> None:
    """An iterator (``zip(...)``, ``itertools.combinations(...)``, ``map(...)``) used where Python would not read it
    in one pass: refused, before anything is lowered. Read: a loop's or comprehension's iterable, an argument of
    a consumer (``list``, ``sum``, ``reduce``, another iterator) or of ``*``, a tuple unpacked from it, or a name
    assigned it once and read once, in the same loop, in one of those places."""
    parents, loads = {}, {}
    for node in ast.walk(module):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
        if type(node) is ast.Name and type(node.ctx) is ast.Load:
            loads.setdefault(node.id, []).append(node)
    bound = None
    for node in ast.walk(module):
        if type(node) is not ast.Call:
            continue
        path = _static_spelling(node.func)
        if path not in ITERATORS:
            continue
        if bound is None:
            bound = _rebound(module)
        if path.split(".")[0] in bound:
            continue
        _one_pass(node, path, parents, loads, source)
        if path == "itertools.groupby":
            _groups_read_once(node, parents, source)
        if path in _CALLING:
            _refuse_late_calls(module, node, path, parents, source)


def _rebound(module: ast.Module) -> set:
    """The names the text binds, other than by ``import itertools`` (``functools``, ``operator``, ``math``)."""
    from .imports import _bound_names
    counts = _bound_names(module)
    for node in ast.walk(module):
        if type(node) is ast.Import:
            for alias in node.names:
                if alias.asname is None and alias.name in (*MODULES, "math"):
                    counts[alias.name] -= 1
    return {name for name, count in counts.items() if count > 0}


def _static_spelling(func: ast.AST) -> str | None:
    """:func:`spelling_of` without a scope (the text's own bindings are checked by the caller)."""
    return spelling_of(func, ())


def _one_pass(node: ast.Call, path: str, parents: dict, loads: dict, source) -> None:
    """Refuse ``node``, an iterator's call, unless its one reader reads it once (:func:`refuse_reused`)."""
    where = _reader(node, parents)
    if where == "read":
        return
    parent = parents.get(id(node))
    if where == "assigned":
        name = parent.targets[0].id
        used = loads.get(name, [])
        if len(used) > 1 or used and _loops(used[0], parents) != _loops(parent, parents):
            raise JacValueError(f"'{name}' holds an iterator ({_short(node)}): Python reads it once, a second pass "
                                f"finding it empty; jac reads it once, in the loop it was made in: write {name} = "
                                f"list({_short(node)}) to read it again", source.at(used[-1]))
        if used and _reader(used[0], parents) != "read":
            raise JacValueError(f"'{name}' holds an iterator ({_short(node)}): Python reads it in a loop or a call "
                                f"such as list(...) or sum(...), and it has no len() or [i] (TypeError); write "
                                f"{name} = list({_short(node)}) for a list", source.at(used[0]))
        if used and path not in _SNAPSHOT and not _next_statement(parent, used[0], parents):
            raise JacValueError(f"'{name}' holds an iterator ({_short(node)}), which Python runs only as it is "
                                f"read, seeing what the statements between change; jac reads it where it is made: "
                                f"read it in the next statement, or write {name} = list({_short(node)})",
                                source.at(used[0]))
        return
    raise JacValueError(f"{_short(node)} is an iterator: Python reads it once, in a loop or a call such as "
                        f"list(...) or sum(...), and it has no len() or [i] (TypeError); write list({_short(node)}) "
                        f"for a list", source.at(node))


def _groups_read_once(node: ast.Call, parents: dict, source) -> None:
    """``for key, group in itertools.groupby(...)``: each group is an iterator Python empties as the groupby
    advances, so it is read once, in the loop or comprehension that made it (``list(group)``, ``sum(group)``);
    anything else refused (jac holds each group's items)."""
    loop = parents.get(id(node))
    target = loop.target if isinstance(loop, (ast.For, ast.comprehension)) and loop.iter is node else None
    if not (type(target) is ast.Tuple and len(target.elts) == 2 and all(type(e) is ast.Name for e in target.elts)):
        raise JacValueError(f"{_short(node)}'s groups are iterators that Python empties as the groupby advances: "
                            "read it as for key, group in groupby(...), each group once in the loop (list(group), "
                            "sum(group))", source.at(node))
    name = target.elts[1].id
    owner = loop if isinstance(loop, ast.For) else parents.get(id(loop))
    body = loop.body if isinstance(loop, ast.For) else [owner]
    uses = [n for stmt in body for n in ast.walk(stmt) if type(n) is ast.Name and n.id == name
            and type(n.ctx) is ast.Load]
    for use in uses:
        loops = _loops(use, parents)
        if len(uses) > 1 or _reader(use, parents) != "read" or not loops or loops[0] != id(owner):
            raise JacValueError(f"'{name}' is a group of {_short(node)}: an iterator Python reads once, and empties "
                                f"as the groupby advances; read it once in the loop, list({name}) or sum({name}), "
                                "or write g = list(group) first", source.at(use))


def _next_statement(assign: ast.Assign, use: ast.AST, parents: dict) -> bool:
    """Is ``use`` inside the statement right after ``assign``, in the same block?"""
    statement = use
    while statement is not None and not isinstance(statement, ast.stmt):
        statement = parents.get(id(statement))
    while statement is not None and parents.get(id(statement)) is not parents.get(id(assign)):
        statement = parents.get(id(statement))
    block = parents.get(id(assign))
    for field in ("body", "orelse", "finalbody"):
        stmts = getattr(block, field, None) or []
        if assign in stmts and statement in stmts:
            return stmts.index(statement) == stmts.index(assign) + 1
    return False


def _refuse_late_calls(module: ast.Module, node: ast.Call, path: str, parents: dict, source) -> None:
    """``for v in map(f, xs): body``: Python calls ``f`` item by item between the body's runs, so a name the
    body changes that ``f`` reads would be read as changed; jac calls it before the loop, so such a loop is
    refused (``f`` a lambda or a ``def`` of the text reading a name the body assigns or changes)."""
    loop, child, at = None, node, parents.get(id(node))
    while at is not None and not isinstance(at, ast.stmt):  # up to the statement holding the call
        child, at = at, parents.get(id(at))
    if isinstance(at, ast.Assign) and isinstance(at.value, ast.Call) and len(at.targets) == 1 \
            and type(at.targets[0]) is ast.Name:  # m = map(f, xs); for v in m: ... (the next statement)
        block = parents.get(id(at))
        stmts = next((getattr(block, f) for f in ("body", "orelse", "finalbody")
                      if at in (getattr(block, f, None) or [])), [])
        following = stmts[stmts.index(at) + 1] if at in stmts and stmts.index(at) + 1 < len(stmts) else None
        if isinstance(following, ast.For) and type(following.iter) is ast.Name \
                and following.iter.id == at.targets[0].id:
            loop = following
    elif isinstance(at, ast.For) and _within(node, at.iter, parents):
        loop = at
    if loop is None:
        return
    function = node.args[0] if path != "itertools.accumulate" else (
        node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "func"), None))
    if function is None:
        return
    read = _reads(module, function)
    changed = _changes(loop.body)
    both = sorted(read & changed)
    if both:
        raise JacValueError(f"{_short(node)} calls {ast.unparse(function)} item by item as the loop runs, and it "
                            f"reads '{both[0]}', which the loop's body changes: jac calls it before the loop; "
                            f"write the call in the loop's body", source.at(function))


def _within(node: ast.AST, outer: ast.AST, parents: dict) -> bool:
    while node is not None:
        if node is outer:
            return True
        node = parents.get(id(node))
    return False


def _reads(module: ast.Module, function: ast.AST) -> set:
    """The names a function argument reads: its own, and those of the text's functions it names (transitively)."""
    defined = {}
    for node in ast.walk(module):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defined.setdefault(node.name, []).append(node)
        elif type(node) is ast.Assign and type(node.value) is ast.Lambda:
            for target in node.targets:
                if type(target) is ast.Name:
                    defined.setdefault(target.id, []).append(node.value)
    out, pending, seen = set(), [function], set()
    while pending:
        tree = pending.pop()
        for node in ast.walk(tree):
            if type(node) is ast.Name and type(node.ctx) is ast.Load and node.id not in seen:
                seen.add(node.id)
                out.add(node.id)
                pending.extend(defined.get(node.id, ()))
    return out


def _changes(body: list) -> set:
    """The names a loop's body assigns, or may change in place (written into, a method called on, passed)."""
    out = set()
    for stmt in body:
        for node in ast.walk(stmt):
            if type(node) is ast.Name and type(node.ctx) is not ast.Load:
                out.add(node.id)
            elif isinstance(node, (ast.Subscript, ast.Attribute)) and type(node.ctx) is not ast.Load \
                    or type(node) is ast.Call and type(node.func) is ast.Attribute:
                root = node.func.value if type(node) is ast.Call else node.value
                while isinstance(root, (ast.Subscript, ast.Attribute)):
                    root = root.value
                if type(root) is ast.Name:
                    out.add(root.id)
            if type(node) is ast.Call:
                out.update(a.id for a in node.args if type(a) is ast.Name)
    return out


def _short(node: ast.Call) -> str:
    return f"{ast.unparse(node.func)}(...)"


def _reader(node: ast.AST, parents: dict) -> str:
    """How ``node``'s parent reads it: "read" (once), "assigned" (to one name) or "other"."""
    parent = parents.get(id(node))
    if isinstance(parent, (ast.For, ast.comprehension)) and parent.iter is node:
        return "read"
    if type(parent) is ast.Starred:
        return "read"  # f(*zip(...)): unpacked at once
    if type(parent) is ast.Call and node in parent.args:
        callee = parent.func
        name = callee.id if type(callee) is ast.Name else _static_spelling(callee)
        if name is None and type(callee) is ast.Attribute and ast.unparse(callee.value) in ("torch.optim", "optim"):
            return "read"  # torch.optim.SGD(filter(lambda p: p.requires_grad, model.parameters())): its list(params)
        return "read" if name in _CONSUMERS else "other"
    if type(parent) is ast.Assign and len(parent.targets) == 1 and parent.value is node:
        target = parent.targets[0]
        if type(target) is ast.Name:
            return "assigned"
        return "read" if type(target) in (ast.Tuple, ast.List) else "other"  # a, b = zip(*pairs)
    return "other"


def _loops(node: ast.AST, parents: dict) -> list:
    """The loops, comprehensions and functions around ``node``, innermost first."""
    out, child, outside = [], node, False
    node = parents.get(id(node))
    while node is not None:
        if isinstance(node, (ast.For, ast.While, ast.FunctionDef, ast.Lambda, ast.ListComp, ast.SetComp,
                             ast.DictComp, ast.GeneratorExp)) and not (isinstance(node, ast.For)
                                                                        and child is node.iter) and not outside:
            out.append(id(node))
        # a comprehension's first iterable is read once, outside it, as Python evaluates it
        outside = type(node) is ast.comprehension and child is node.iter and node is parents[id(node)].generators[0]
        child, node = node, parents.get(id(node))
    return out


# --- iterators -----------------------------------------------------------------------------------------------------

class _Endless:
    """An endless iterator (``repeat(x)``, ``count()``, ``cycle(s)``), read only where something stops it;
    ``make(position)`` gives it, refusing past :data:`MAX_ELEMENTS` items read (:func:`_capped`)."""

    def __init__(self, make, spelling: str):
        self._make, self.spelling = make, spelling

    def make(self, position: int):
        return _capped(self._make(), self.spelling, position)


def _capped(found, spelling: str, position: int):
    """``found``'s items, refused once more than :data:`MAX_ELEMENTS` are read: ``islice(count(), 10**9,
    10**9 + 1)`` skips items one by one (jac makes a number of each: minutes, and gigabytes)."""
    for read, item in enumerate(found):
        if read == MAX_ELEMENTS:
            raise JacLimitError(f"{spelling}(...) read past its first {MAX_ELEMENTS:,} items (to skip them, or "
                                "to take them): jac reads an iterator item by item; write the expression with whole "
                                "arrays", position)
        yield item


def items(lowering, spelling: str, node: ast.Call, what: str, endless: bool = False):
    """The items of ``node``, a call of an iterator ``spelling``, as Python's own iterator gives them (tuples as
    the text's tuples); an :class:`_Endless` where ``endless`` (zip, map and islice stop it)."""
    position = lowering.source.at(node)
    if len(node.args) > MAX_ITEMS:  # chain(*10**5 lists) spelled out: each argument's items are read one by one
        raise JacLimitError(f"{spelling}(...) of {len(node.args):,} arguments: jac writes out up to {MAX_ITEMS:,} "
                            "items; write the expression with whole arrays", position)
    if any(k.arg is None for k in node.keywords) or spelling not in _VARIADIC and any(
            isinstance(a, ast.Starred) for a in node.args):
        raise JacParseError(f"'*' and '**' in {spelling}(...) are not supported here: write its arguments", position)
    found = _ITERATOR_RULES[spelling](lowering, node, what, position)
    if isinstance(found, _Endless):
        if endless:
            return found
        raise JacValueError(f"{spelling}(...) here never ends: jac reads an endless iterator inside zip(...), "
                            "map(...) or itertools.islice(..., stop), which stop it", position)
    return _bounded(found, spelling, position)


def _bounded(found, spelling: str, position: int) -> list:
    """The first items of an iterator, refused past :data:`MAX_ITEMS` (each is written out), or past
    :data:`MAX_ELEMENTS` elements of its tuples in all (``permutations(range(10000))``: each item a tuple of
    10,000), counted as they come, before the next is taken."""
    out, elements = [], 0
    for item in itertools.islice(found, MAX_ITEMS + 1):
        out.append(item)
        elements += len(item) if type(item) is tuple else 1
        if elements > MAX_ELEMENTS:
            raise JacLimitError(f"{spelling}(...) gives more than {MAX_ELEMENTS:,} elements in its tuples: jac "
                                "writes each out; write the expression with whole arrays", position)
    if len(out) > MAX_ITEMS:
        raise JacLimitError(f"{spelling}(...) of more than {MAX_ITEMS:,} items: jac writes each out; write the "
                            "expression with whole arrays", position)
    return [_tuple(item) if type(item) is tuple else item for item in out]


def _width(spelling: str, width: int, name: str, position: int) -> None:
    """Refuse tuples of more than :data:`MAX_ITEMS` items before Python's itertools is called: it allocates
    ``width`` slots first (``combinations(range(3), 10**9)``: 8 GB for an empty result; ``product(...,
    repeat=10**18)``: a MemoryError)."""
    if width > MAX_ITEMS:
        raise JacLimitError(f"{spelling}(...) with this {name} makes tuples of {width:,} items, which Python's "
                            f"itertools allocates before the first; jac writes out tuples of up to {MAX_ITEMS:,} "
                            "items", position)


def _tuple(item: tuple) -> Items:
    return trees.written(Items(item), "tuple")


def _iterable(lowering, node: ast.expr, what: str, endless: bool = False):
    """The items of an argument: an iterator's call of the text, or what ``for ... in node`` iterates."""
    spelling = spelling_of(node.func, lowering.scope) if type(node) is ast.Call else None
    if spelling in ITERATORS:
        return items(lowering, spelling, node, what, endless)
    return lowering.items_of(node, what)


def _parts(lowering, args: list, what: str, endless: bool = False) -> list:
    """The items of each iterable argument, ``*pairs`` giving one argument per item of ``pairs`` (``zip(*pairs)``)."""
    parts = []
    for a in args:
        if type(a) is ast.Starred:
            where = lowering.source.at(a)
            parts.extend(lowering.items_in(item, None, what, where) for item in _iterable(lowering, a.value, what))
        else:
            parts.append(_iterable(lowering, a, what, endless))
    return parts


def _given(node: ast.Call, spelling: str, names: tuple, keywords: tuple = (), least: int = 0) -> dict:
    """The arguments of ``node`` by parameter (positional ``names``, keyword-only ``keywords``), as Python binds
    them (its TypeError's words for too many, a repeated or an unknown one)."""
    short = spelling.split(".")[-1]
    if len(node.args) > len(names) or len(node.args) < least:
        raise JacValueError(f"{short}() takes {'at most ' if least < len(names) else ''}{len(names)} positional "
                            f"argument{'s' if len(names) != 1 else ''} ({len(node.args)} given) (Python's "
                            "TypeError)", None)
    given = dict(zip(names, node.args))
    for k in node.keywords:
        if k.arg not in keywords and k.arg not in names[len(node.args):] or k.arg in given:
            raise JacValueError(f"{short}() got an unexpected keyword argument '{k.arg}' (Python's TypeError)", None)
        given[k.arg] = k.value
    return given


def _int(lowering, node: ast.expr | None, what: str, none: bool = False):
    """A Python int written in the text (a literal, a shape's entry, ``len(...)``), as Python's itertools takes it;
    None where ``none`` allows it."""
    if node is None:
        return None
    value = lowering.expression(node)
    if value is None and none:
        return None
    exact = lowering.b.pyints.get(value.id) if hasattr(value, "id") else value
    if type(value) is bool or type(exact) is bool:
        return int(bool(exact if type(exact) is bool else value))
    if type(exact) is not int:
        raise JacValueError(f"{what} must be a Python int known when the text is read (a literal, a shape's entry, "
                            "len(...)): Python's itertools takes no float or array here (TypeError)",
                            lowering.source.at(node))
    return exact


def _python(call, position: int):
    """Python's own itertools call, its ValueError or TypeError refused in its words."""
    try:
        return call()
    except (ValueError, TypeError) as error:
        raise JacValueError(f"{error} (Python's {type(error).__name__})", position) from None


def _product(lowering, node, what, position):
    parts = _parts(lowering, node.args, what)
    repeat = _int(lowering, _given_keyword(node, "product", ("repeat",)).get("repeat"), "repeat")
    _width("itertools.product", len(parts) * max(1 if repeat is None else repeat, 1), "repeat", position)
    return _python(lambda: itertools.product(*parts, **({} if repeat is None else {"repeat": repeat})), position)


def _given_keyword(node, spelling, keywords) -> dict:
    given = {}
    for k in node.keywords:
        if k.arg not in keywords:
            raise JacValueError(f"{spelling}() got an unexpected keyword argument '{k.arg}' (Python's TypeError)",
                                None)
        given[k.arg] = k.value
    return given


def _choose(fn, spelling, optional: bool):
    def rule(lowering, node, what, position):
        given = _given(node, spelling, ("iterable", "r"), least=1 if optional else 2)
        pool = _iterable(lowering, given["iterable"], what)
        r = _int(lowering, given.get("r"), "r", none=optional)
        if r is not None:
            _width(f"itertools.{spelling}", r, "r", position)
        return _python(lambda: fn(pool, r) if r is not None or not optional else fn(pool), position)
    return rule


def _chain(lowering, node, what, position):
    _given_keyword(node, "chain", ())
    return itertools.chain.from_iterable(_parts(lowering, node.args, what))


def _from_iterable(lowering, node, what, position):
    given = _given(node, "from_iterable", ("iterable",), least=1)
    outer = _iterable(lowering, given["iterable"], what)
    return itertools.chain.from_iterable(lowering.items_in(item, None, what, position) for item in outer)


def _islice(lowering, node, what, position):
    _given_keyword(node, "islice", ())
    if not 2 <= len(node.args) <= 4:
        raise JacValueError(f"islice expected {'at least 2' if len(node.args) < 2 else 'at most 4'} arguments, got "
                            f"{len(node.args)} (Python's TypeError)", position)
    source = _iterable(lowering, node.args[0], what, endless=True)
    bounds = [_int(lowering, a, "islice's index", none=True) for a in node.args[1:]]
    if isinstance(source, _Endless):
        if (bounds[0] if len(bounds) == 1 else bounds[1]) is None:
            raise JacValueError(f"itertools.islice(..., None) of {source.spelling}(...) never ends: give it a stop",
                                position)
        source = source.make(position)
    return _python(lambda: itertools.islice(source, *bounds), position)


def _pairwise(lowering, node, what, position):
    given = _given(node, "pairwise", ("iterable",), least=1)
    return itertools.pairwise(_iterable(lowering, given["iterable"], what))


def _repeat(lowering, node, what, position):
    given = _given(node, "repeat", ("object", "times"), least=1)
    value = lowering.expression(given["object"])
    if "times" not in given:
        return _Endless(lambda: itertools.repeat(value), "itertools.repeat")
    times = _int(lowering, given["times"], "times")
    return itertools.repeat(value, times)


def _count(lowering, node, what, position):
    given = _given(node, "count", ("start", "step"))
    start = _int(lowering, given.get("start"), "count's start") if "start" in given else 0
    step = _int(lowering, given.get("step"), "count's step") if "step" in given else 1
    return _Endless(lambda: (lowering.number(i, position) for i in itertools.count(start, step)), "itertools.count")


def _cycle(lowering, node, what, position):
    given = _given(node, "cycle", ("iterable",), least=1)
    pool = _iterable(lowering, given["iterable"], what)
    if not pool:
        return iter(())
    return _Endless(lambda: itertools.cycle(pool), "itertools.cycle")


def _zip_longest(lowering, node, what, position):
    given = _given_keyword(node, "zip_longest", ("fillvalue",))
    parts = _parts(lowering, node.args, what)
    fill = lowering.expression(given["fillvalue"]) if "fillvalue" in given else None
    return itertools.zip_longest(*parts, fillvalue=fill)


def _zip(lowering, node, what, position):
    given = _given_keyword(node, "zip", ("strict",))
    strict = _flag(lowering, given.get("strict"), "strict")
    parts = _parts(lowering, node.args, what, endless=True)
    if parts and all(isinstance(p, _Endless) for p in parts):
        raise JacValueError("zip(...) of endless iterators only never ends", position)
    if strict and any(isinstance(p, _Endless) for p in parts):
        raise JacValueError("zip(..., strict=True) of an endless iterator: Python's ValueError (one is shorter)",
                            position)
    parts = [p.make(position) if isinstance(p, _Endless) else p for p in parts]
    return _python(lambda: list(zip(*parts, strict=strict)), position)


def _flag(lowering, node, name) -> bool:
    if node is None:
        return False
    value = lowering.expression(node)
    if type(value) is not bool:
        raise JacValueError(f"{name}= takes True or False here", lowering.source.at(node))
    return value


def _enumerate(lowering, node, what, position):
    given = _given(node, "enumerate", ("iterable", "start"), least=1)
    start = _int(lowering, given.get("start"), "enumerate's start") if "start" in given else 0
    pool = _iterable(lowering, given["iterable"], what)
    return [(lowering.number(start + i, position), v) for i, v in enumerate(pool)]


def _map(lowering, node, what, position):
    _given_keyword(node, "map", ())
    if len(node.args) < 2:
        raise JacValueError("map() must have at least two arguments (Python's TypeError)", position)
    if type(node.args[0]) is ast.Starred:
        raise JacParseError("map(*...): write the function first", position)
    fn = callee(lowering, node.args[0])
    parts = _parts(lowering, node.args[1:], what, endless=True)
    if all(isinstance(p, _Endless) for p in parts):
        raise JacValueError("map(...) of endless iterators only never ends", position)
    parts = [p.make(position) if isinstance(p, _Endless) else p for p in parts]
    where = node.args[0]
    return [invoke(lowering, fn, list(args), {}, where) for args in _bounded(zip(*parts), "map", position)]


def _starmap(lowering, node, what, position):
    given = _given(node, "starmap", ("function", "iterable"), least=2)
    fn = callee(lowering, given["function"])
    where = given["function"]
    pool = _iterable(lowering, given["iterable"], what)
    return [invoke(lowering, fn, lowering.items_in(item, None, "starmap's item", lowering.source.at(where)), {}, where)
            for item in pool]


def _accumulate(lowering, node, what, position):
    given = _given(node, "accumulate", ("iterable", "func"), ("initial",), least=1)
    pool = _iterable(lowering, given["iterable"], what)
    fn = callee(lowering, given["func"]) if given.get("func") is not None and not _is_none(given["func"]) \
        else Operator("operator.add")
    where = given.get("func", node)
    initial = None if _is_none(given.get("initial")) else lowering.expression(given["initial"])
    return list(itertools.accumulate(pool, lambda a, b: invoke(lowering, fn, [a, b], {}, where),
                                     initial=initial))


def _truth(lowering, value, where: ast.AST, what: str) -> bool:
    """Python's truth of a predicate's result, as the parser takes an ``if`` test's: known without the values, or a
    test of the values taken at the given values and recorded (jax.jit / vmap and jac shape refuse it)."""
    from .plain import _truth as truth
    return truth(lowering, where, value, what)


def _predicate(lowering, node, spelling, what):
    """(function or None, its node, the items) of ``filter(f, s)`` / ``takewhile(f, s)`` and kin."""
    short = spelling.split(".")[-1]
    given = _given(node, short, ("function", "iterable"), least=2)
    where = given["function"]
    fn = None if _is_none(where) else callee(lowering, where)
    return fn, where, _iterable(lowering, given["iterable"], what, endless=True)


def _tested(lowering, fn, where, spelling):
    """The predicate Python's itertools call: ``fn(item)`` written out and its truth taken (``None``: the item's)."""
    what = f"{spelling}'s predicate"
    return lambda item: _truth(lowering, item if fn is None else invoke(lowering, fn, [item], {}, where), where, what)


def _filtering(spelling: str, run):
    def rule(lowering, node, what, position):
        fn, where, pool = _predicate(lowering, node, spelling, what)
        if fn is None and spelling != "filter" and spelling != "itertools.filterfalse":
            raise JacValueError(f"'NoneType' object is not callable: {spelling}(None, ...) (Python's TypeError)",
                                position)
        endless = isinstance(pool, _Endless)
        found = run(_tested(lowering, fn, where, spelling), pool.make() if endless else pool)
        return _Endless(lambda: found, spelling) if endless and spelling != "itertools.takewhile" else found
    return rule


def _compress(lowering, node, what, position):
    given = _given(node, "compress", ("data", "selectors"), least=2)
    data = _iterable(lowering, given["data"], what, endless=True)
    selectors = _iterable(lowering, given["selectors"], what, endless=True)
    if isinstance(data, _Endless) and isinstance(selectors, _Endless):
        raise JacValueError("itertools.compress(...) of two endless iterators never ends", position)
    data, selectors = (p.make() if isinstance(p, _Endless) else p for p in (data, selectors))
    where = given["selectors"]
    return itertools.compress(data, (_truth(lowering, v, where, "compress's selector") for v in selectors))


def _groupby(lowering, node, what, position):
    """``itertools.groupby(s, key=None)``: runs of equal keys (Python's ``==``, its truth taken as an ``if`` test's),
    each ``(key, group)``; a group is read once, in the loop that made it (:func:`refuse_reused`)."""
    given = _given(node, "groupby", ("iterable", "key"), least=1)
    pool = _iterable(lowering, given["iterable"], what)
    where = given.get("key", node)
    fn = None if _is_none(given.get("key")) else callee(lowering, given["key"])
    keys = [item if fn is None else invoke(lowering, fn, [item], {}, where) for item in pool]
    out, eq = [], Operator("operator.eq")
    for item, key in zip(pool, keys):
        if out and _truth(lowering, invoke(lowering, eq, [out[-1][0], key], {}, where), where, "groupby's key"):
            out[-1][1].append(item)
        else:
            out.append((key, [item]))
    return [(key, trees.written(Items(group), "list")) for key, group in out]


def _is_none(node) -> bool:
    return node is None or type(node) is ast.Constant and node.value is None


_ITERATOR_RULES = {
    "itertools.product": _product,
    "itertools.combinations": _choose(itertools.combinations, "combinations", False),
    "itertools.combinations_with_replacement": _choose(itertools.combinations_with_replacement,
                                                       "combinations_with_replacement", False),
    "itertools.permutations": _choose(itertools.permutations, "permutations", True),
    "itertools.chain": _chain, "itertools.chain.from_iterable": _from_iterable, "itertools.islice": _islice,
    "itertools.pairwise": _pairwise, "itertools.repeat": _repeat, "itertools.count": _count,
    "itertools.cycle": _cycle, "itertools.starmap": _starmap, "itertools.zip_longest": _zip_longest,
    "itertools.accumulate": _accumulate, "zip": _zip, "enumerate": _enumerate, "map": _map,
    "filter": _filtering("filter", lambda test, pool: filter(test, pool)),
    "itertools.filterfalse": _filtering("itertools.filterfalse", itertools.filterfalse),
    "itertools.takewhile": _filtering("itertools.takewhile", itertools.takewhile),
    "itertools.dropwhile": _filtering("itertools.dropwhile", itertools.dropwhile),
    "itertools.compress": _compress, "itertools.groupby": _groupby,
}


# --- callables -------------------------------------------------------------------------------------------------------

class Operator:
    """``operator.add`` (and its kin) named as a value: called as the text's own ``a + b`` would be."""

    def __init__(self, spelling: str):
        self.spelling = spelling


class ItemGetter:
    """``operator.itemgetter(k, ...)``: ``v[k]``, or the tuple of ``v[k]`` for several keys."""

    def __init__(self, keys: list):
        self.keys = keys


class Written:
    """A function named in the text that is no value of jac's (``np.matmul``, ``torch.mm``, ``abs``): called as
    the text would call it, by its spelling."""

    def __init__(self, node: ast.expr):
        self.node = node


class AttrGetter:
    """``operator.attrgetter('a.b', ...)``: ``v.a.b``, or the tuple of such for several names."""

    def __init__(self, paths: list):
        self.paths = paths


class MethodCaller:
    """``operator.methodcaller('name', *args, **kwargs)``: ``v.name(*args, **kwargs)``."""

    def __init__(self, name: str, args: list, kwargs: dict):
        self.name, self.args, self.kwargs = name, args, kwargs


class CmpKey:
    """``functools.cmp_to_key(f)`` as a key of ``sorted`` / ``min`` / ``max``: items compared by ``f(a, b) < 0``
    (``> 0``), as Python's wrapper compares them (lang/pybuiltins.py)."""

    def __init__(self, fn, where: ast.AST):
        self.fn, self.where = fn, where


class Cached:
    """A function under ``@functools.cache`` / ``@lru_cache(maxsize)``: a call with arguments it has seen (the same
    tensor object, the same Python number) gives the value it gave then, as Python's cache does, even where a name
    the function reads has changed since; least recently used results dropped past ``maxsize``."""

    def __init__(self, fn, maxsize, spelling: str):
        self.fn, self.maxsize, self.spelling, self.kept = fn, maxsize, spelling, {}


CALLABLE = (Operator, ItemGetter, Partial, Written, AttrGetter, MethodCaller, Cached)
MADE = frozenset({"functools.partial", "operator.itemgetter"})  # calls making a function: partial(f, 2)(x)


def callee(lowering, node: ast.expr):
    """The function ``node`` names, as ``reduce`` / ``map`` / ``partial`` take it: one of the three modules'
    (:class:`Operator`, a ``partial`` or ``itemgetter`` made), a library's function or a builtin by its spelling
    (:class:`Written`), or the text's own value (a ``def``, a ``lambda``, a module)."""
    spelling = spelling_of(node, lowering.scope)
    if spelling in OPERATORS:
        return Operator(spelling)
    if type(node) is ast.Name and node.id not in lowering.scope or type(node) is ast.Attribute \
            and spelling is None and lowering.module_path(node.value):
        return Written(node)
    value = lowering.expression(node)
    if not (isinstance(value, (*CALLABLE, CmpKey)) or lowering.is_callable(value)):
        raise JacValueError(f"'{ast.unparse(node)}' is no function (Python's TypeError: object is not callable)",
                            lowering.source.at(node))
    return value


_ARGUMENT = "argument {}"  # the names the items are bound to for a call written out: no identifier of the text's


def invoke(lowering, fn, args: list, kwargs: dict, at: ast.AST):
    """``fn(*args, **kwargs)``: a function of the three modules as Python defines it, written out as the text's
    own ``a + b`` / ``v[k]`` / ``f(a, b)`` at ``at``'s place; a value of the text by the parser's call of values."""
    if type(at) is int:  # the parser's call of a value: its position only
        position, at = at, _node_at(lowering.source, at)
    else:
        position = lowering.source.at(at)
    if isinstance(fn, Partial):
        return invoke(lowering, fn.fn, [*fn.args, *args], {**fn.kwargs, **kwargs}, at)
    if isinstance(fn, Operator):
        if kwargs:
            raise JacValueError(f"{fn.spelling}() takes no keyword arguments (Python's TypeError)", position)
        return _written(lowering, lambda names: _operation(fn.spelling, names, position), args, at)
    if isinstance(fn, ItemGetter):
        if len(args) != 1 or kwargs:
            raise JacValueError(f"itemgetter expected 1 argument, got {len(args)} (Python's TypeError)", position)
        found = [_written(lowering, lambda names: ast.Subscript(value=names[0], slice=names[1], ctx=ast.Load()),
                          [args[0], key], at) for key in fn.keys]
        return found[0] if len(found) == 1 else _tuple(tuple(found))
    if isinstance(fn, AttrGetter):
        if len(args) != 1 or kwargs:
            raise JacValueError(f"attrgetter expected 1 argument, got {len(args)} (Python's TypeError)", position)
        found = [_written(lowering, lambda names, p=path: _attributes(names[0], p), [args[0]], at) for path in fn.paths]
        return found[0] if len(found) == 1 else _tuple(tuple(found))
    if isinstance(fn, MethodCaller):
        if len(args) != 1 or kwargs:
            raise JacValueError(f"methodcaller expected 1 argument, got {len(args)} (Python's TypeError)", position)
        order = [args[0], *fn.args, *fn.kwargs.values()]
        count = len(fn.args)
        return _written(lowering, lambda names: ast.Call(
            func=ast.Attribute(value=names[0], attr=fn.name, ctx=ast.Load()), args=names[1:1 + count],
            keywords=[ast.keyword(arg=k, value=n) for k, n in zip(fn.kwargs, names[1 + count:])]), order, at)
    if isinstance(fn, Cached):
        return _cached_call(lowering, fn, args, kwargs, position)
    if isinstance(fn, Written):
        fname = fn.node.attr if type(fn.node) is ast.Attribute else fn.node.id if type(fn.node) is ast.Name else None
        order = [*args, *kwargs.values()]
        outside = lowering.in_place_outside  # partial(F.relu, inplace=True)(t): lowered among names of its own,
        # then written into t's name here
        lowering.in_place_outside = bool(in_place_value(in_place_flag(fname, args, kwargs), fname, position,
                                                        lowering.b))
        try:
            found = _written(lowering, lambda names: ast.Call(func=fn.node, args=names[:len(args)], keywords=[
                ast.keyword(arg=k, value=n) for k, n in zip(kwargs, names[len(args):])]), order, at)
        finally:
            lowering.in_place_outside = outside
        spelled = at.args[0] if type(at) is ast.Call and at.args and type(at.args[0]) is ast.Name \
            and "input" not in kwargs else None  # act(t): t, the name written into
        lowering.value_in_place(fname, args, kwargs, found, position, spelled)  # (session 55)
        return found
    return lowering.call_value(fn, list(args), dict(kwargs), position)


def _attributes(value: ast.expr, path: str) -> ast.expr:
    for name in path.split("."):
        value = ast.Attribute(value=value, attr=name, ctx=ast.Load())
    return value


def _cached_call(lowering, fn: Cached, args: list, kwargs: dict, position: int):
    """A call of a :class:`Cached` function: its result kept per the arguments' identity, as Python's cache keys
    them; an argument Python cannot hash (NumPy's and JAX's arrays, a list, a dict) refused in Python's words."""
    key = (tuple(_hash_key(lowering, fn, a, position) for a in args),
           tuple((k, _hash_key(lowering, fn, v, position)) for k, v in kwargs.items()))
    if key in fn.kept:
        found = fn.kept.pop(key)
        fn.kept[key] = found  # the most recently used
        return found
    found = lowering.call_value(fn.fn, list(args), dict(kwargs), position)
    if fn.maxsize is None or fn.maxsize > 0:
        fn.kept[key] = found
        if fn.maxsize is not None and len(fn.kept) > fn.maxsize:
            fn.kept.pop(next(iter(fn.kept)))
    return found


def _hash_key(lowering, fn: Cached, value, position: int):
    """What Python's cache hashes ``value`` as: a Python number by its value, a tensor by its identity (the node),
    a tuple by its items; NumPy's and JAX's arrays, lists and dicts are unhashable (TypeError)."""
    from ..ir.graph import Tracer
    if type(value) in (bool, int, float, str) or value is None:
        return ("value", value)
    if type(value) is Items and value.display != "list":
        return ("tuple", tuple(_hash_key(lowering, fn, v, position) for v in value))
    if type(value) is Tracer:
        exact = lowering.b.pyints.get(value.id)
        node = lowering.b.nodes[value.id]
        if value.ndim == 0 and node.op == "const" and (exact is not None or value.id not in lowering.library_made):
            return ("value", float(np.asarray(node.value)) if exact is None else int(exact))  # a Python number
        libraries = lowering.python_libraries or frozenset()
        if libraries - {"torch"} or not libraries:
            raise JacValueError(f"{fn.spelling}: a NumPy or JAX array as an argument of a cached function is "
                                "unhashable (Python's TypeError: unhashable type), and jac cannot tell which "
                                "library made this one; a PyTorch tensor is kept by its identity", position)
        return ("tensor", value.id)
    raise JacValueError(f"{fn.spelling}: this argument of a cached function is unhashable (Python's TypeError: a "
                        "list or dict); pass a tuple or numbers", position)


def cached(lowering, decorator: ast.expr, value, position: int):
    """``@functools.cache`` / ``@functools.lru_cache`` / ``@lru_cache(maxsize=N)`` on a ``def``: a :class:`Cached`
    function; None for any other decorator."""
    call = decorator if isinstance(decorator, ast.Call) else None
    path = ast.unparse(call.func if call is not None else decorator)  # functools.cache: spelled out (spelled)
    if path not in CACHES or path.split(".")[0] in lowering.scope:
        return None
    maxsize = 128
    if call is not None:
        if path == "functools.cache" or any(k.arg not in ("maxsize", "typed") for k in call.keywords) \
                or len(call.args) > 2:
            raise JacParseError(f"@{ast.unparse(decorator)}: jac reads @functools.cache and "
                                "@functools.lru_cache(maxsize=N) (Python's arguments)", position)
        given = dict(zip(("maxsize", "typed"), call.args)) | {k.arg: k.value for k in call.keywords}
        if "typed" in given and not (type(given["typed"]) is ast.Constant and given["typed"].value is False):
            raise JacParseError("@lru_cache(typed=True) keeps 2 and 2.0 apart: jac holds both as one float; "
                                "write typed=False", position)
        if "maxsize" in given:
            size = given["maxsize"]
            if not (type(size) is ast.Constant and (size.value is None or type(size.value) is int)):
                raise JacParseError("@lru_cache(maxsize=N): jac reads N written as a number or None", position)
            maxsize = None if size.value is None else max(size.value, 0)
    elif path == "functools.cache":
        maxsize = None
    if lowering.saving:
        raise JacValueError(f"@{ast.unparse(decorator)} in a text that writes into tensors: Python's cache keeps a "
                            "result per tensor object, and a later write into it would leave the result stale, "
                            "which jac does not follow; write the function without the cache", position)
    return Cached(value, maxsize, f"@{path}")


def _node_at(source, position: int) -> ast.AST:
    """A node placed at ``position`` of the text (its line and column), for the trees :func:`invoke` writes."""
    line = max(i for i, start in enumerate(source.starts) if start <= position) if not source.one_line else 0
    column = position - source.starts[line] - (source.margins[line] if source.margins else 0)
    node = ast.Pass()
    node.lineno, node.col_offset, node.end_lineno, node.end_col_offset = line + 1, column, line + 1, column
    return node


def _operation(spelling: str, names: list, position: int) -> ast.expr:
    name = spelling.split(".")[1]
    arity = 1 if name in _UNARY or name == "abs" else 2
    if len(names) != arity:
        raise JacValueError(f"{name} expected {arity} argument{'s' if arity > 1 else ''}, got {len(names)} "
                            "(Python's TypeError)", position)
    if name in _BINARY:
        return ast.BinOp(left=names[0], op=_BINARY[name](), right=names[1])
    if name in _COMPARE:
        return ast.Compare(left=names[0], ops=[_COMPARE[name]()], comparators=[names[1]])
    if name in _UNARY:
        return ast.UnaryOp(op=_UNARY[name](), operand=names[0])
    if name == "abs":
        return ast.Call(func=ast.Name(id="abs", ctx=ast.Load()), args=names, keywords=[])
    return ast.Subscript(value=names[0], slice=names[1], ctx=ast.Load())  # getitem


def _written(lowering, build, values: list, at: ast.AST):
    """The expression ``build(names)`` lowered with ``values`` bound to names of their own, in a scope of its own,
    at ``at``'s place in the text (the caret of anything it refuses)."""
    names = [_ARGUMENT.format(i) for i in range(len(values))]
    tree = build([ast.Name(id=n, ctx=ast.Load()) for n in names])
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) is None:
            ast.copy_location(node, at)
    saved, marks = lowering.scope, (set(lowering.sequence_names), set(lowering.tuple_names))
    lowering.scope = dict(saved)
    try:
        for name, value in zip(names, values):
            lowering.bind_name(name, value)
        return lowering.expression(tree)
    finally:
        lowering.scope, (lowering.sequence_names, lowering.tuple_names) = saved, marks


# --- values ------------------------------------------------------------------------------------------------------

def call(lowering, spelling: str, node: ast.Call):
    """A call of one of :data:`SPELLINGS` as a value: an iterator's items as a list (its one pass is checked by
    :func:`refuse_reused`), ``reduce``'s result, a ``partial`` or ``itemgetter`` made, an operator applied."""
    position = lowering.source.at(node)
    if spelling in ITERATORS:
        return lowering.listed(items(lowering, spelling, node, "an iterator"), node, position)
    if spelling == "functools.partial" and node.args and type(node.args[0]) is not ast.Starred \
            and (any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords)):
        rest = ast.copy_location(ast.Call(func=node.func, args=node.args[1:], keywords=node.keywords), node)
        rest, args, kwargs = lowering.call_arguments(rest)  # partial(f, *args, **kw): written out (session 54)
        written = ast.copy_location(ast.Call(func=node.func, args=[node.args[0], *rest.args], keywords=rest.keywords),
                                    node)
        return partial_of(lowering, written, callee(lowering, node.args[0]), args, kwargs)
    node = starred.written_out(lowering, node)  # operator.add(*t), functools.reduce(*args) (session 55)
    if spelling == "functools.reduce":
        return _reduce(lowering, node, position)
    if spelling == "functools.partial":
        if not node.args:
            raise JacValueError("partial() takes at least one argument, the function (Python's TypeError)", position)
        return partial_of(lowering, node, callee(lowering, node.args[0]),
                          [lowering.expression(a) for a in node.args[1:]],
                          {k.arg: lowering.expression(k.value) for k in node.keywords})
    if spelling == "operator.itemgetter":
        if not node.args or node.keywords:
            raise JacValueError("itemgetter expected at least 1 argument (Python's TypeError)", position)
        if len(node.args) > MAX_ITEMS:  # each key is one item written out (v[k] per key)
            raise JacLimitError(f"operator.itemgetter(...) of {len(node.args):,} keys: jac writes out up to "
                                f"{MAX_ITEMS:,}; index with an array of them", position)
        return ItemGetter([lowering.expression(a) for a in node.args])
    if spelling == "operator.attrgetter":
        if not node.args or node.keywords or not all(type(a) is ast.Constant and type(a.value) is str
                                                     for a in node.args):
            raise JacValueError("attrgetter takes the attributes' names, written as strings ('a', 'b.c')", position)
        return AttrGetter([a.value for a in node.args])
    if spelling == "operator.methodcaller":
        if not node.args or type(node.args[0]) is not ast.Constant or type(node.args[0].value) is not str:
            raise JacValueError("methodcaller takes the method's name first, written as a string", position)
        for a in [*node.args[1:], *(k.value for k in node.keywords)]:
            _refuse_held_list(lowering, a)
        return MethodCaller(node.args[0].value, [lowering.expression(a) for a in node.args[1:]],
                            {k.arg: lowering.expression(k.value) for k in node.keywords})
    if spelling == "functools.cmp_to_key":
        given = _given(node, "cmp_to_key", ("mycmp",), least=1)
        return CmpKey(callee(lowering, given["mycmp"]), given["mycmp"])
    if spelling == "itertools.tee":
        return _tee(lowering, node, position)
    if spelling == "math.prod":
        return _prod(lowering, node, position)
    if spelling in OPERATORS:
        return invoke(lowering, Operator(spelling), [lowering.expression(a) for a in node.args],
                      {k.arg: lowering.expression(k.value) for k in node.keywords}, node)
    raise JacValueError(f"{spelling} is not read by jac (it reads {READ})", position)


def _tee(lowering, node: ast.Call, position: int):
    """``itertools.tee(s, n=2)``: n iterators over the items of ``s``, each read once (a second read is empty, as
    Python's)."""
    from .plain import Iterator
    given = _given(node, "tee", ("iterable", "n"), least=1)
    n = _int(lowering, given.get("n"), "tee's n") if "n" in given else 2
    if n < 0:
        raise JacValueError("n must be >= 0 (Python's ValueError)", position)
    pool = _iterable(lowering, given["iterable"], "tee")
    return _tuple(tuple(Iterator(list(pool)) for _ in range(n)))


def value(lowering, spelling: str, node: ast.expr):
    """One of :data:`SPELLINGS` named without a call: an operator as a value (``f = operator.mul``)."""
    if spelling in OPERATORS:
        return Operator(spelling)
    raise JacValueError(f"{spelling} is not read by jac as a value (jac reads {READ})", lowering.source.at(node))


def partial_of(lowering, node: ast.Call, fn, args: list, kwargs: dict) -> Partial:
    """``partial(fn, *args, **kwargs)`` written ``node`` (``functools.partial`` read here, or the parser's bare
    ``partial``): one kind of value, made by one rule, which refuses an argument that is a list or dict the text
    names (:func:`_refuse_held_list`)."""
    for a in [*node.args[1:], *(k.value for k in node.keywords)]:
        _refuse_held_list(lowering, a)
    return Partial(fn, list(args), dict(kwargs))


def _refuse_held_list(lowering, node: ast.expr) -> None:
    """``partial(f, l)`` of a list or dict the text names: Python's partial holds that very object, so a later
    ``l.append(v)`` reaches the call; jac holds its items as they are now, so such an argument is refused."""
    if type(node) is not ast.Name:
        return
    value = lowering.scope.get(node.id)
    if type(value) is Items and value.display == "list" or type(value) is trees.Dict or node.id in \
            lowering.sequence_names and node.id not in lowering.tuple_names:
        raise JacValueError(f"partial(...) of the list or dict '{node.id}': Python's partial holds that very "
                            f"object, which later changes to it reach, and jac holds its items as they are now: "
                            f"pass tuple({node.id}), or the items themselves", lowering.source.at(node))


def _reduce(lowering, node: ast.Call, position: int):
    """``functools.reduce(f, iterable[, initial])``: Python's own reduce over the items, each step ``f`` written
    out; an empty iterable without an initial value refused in Python's words."""
    given = _given(node, "reduce", ("function", "iterable", "initial"), least=2)
    fn = callee(lowering, given["function"])
    pool = _iterable(lowering, given["iterable"], "reduce")
    where = given["function"]
    step = lambda a, b: invoke(lowering, fn, [a, b], {}, where)  # noqa: E731
    if "initial" in given:
        return functools.reduce(step, pool, lowering.expression(given["initial"]))
    if not pool:
        raise JacValueError("reduce() of empty iterable with no initial value (Python's TypeError)", position)
    return functools.reduce(step, pool)


def _prod(lowering, node: ast.Call, position: int):
    """``math.prod(iterable, *, start=1)``: ``start * x0 * x1 * ...`` in Python's order (the rows of an array:
    ``math.prod(A)`` of a matrix is the product of its rows, a vector)."""
    given = _given(node, "prod", ("iterable",), ("start",), least=1)
    pool = _iterable(lowering, given["iterable"], "math.prod")
    total = lowering.expression(given["start"]) if "start" in given else lowering.number(1, position)
    mul = Operator("operator.mul")
    for item in pool:
        total = invoke(lowering, mul, [total, item], {}, node)
    return total
