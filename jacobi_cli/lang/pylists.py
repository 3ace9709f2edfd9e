"""Python's lists of lists as Python holds them (session 34): a nested list the text writes into item by item
(``parser._nested_written``) made from its syntax, each inner list one object that every list and name holding it
sees (``R = [r0, r0]``, ``[row[:] for _ in range(3)]``, ``[[None] * S for _ in range(T)]``, ragged rows), and the
changes of an inner list in place (``R[i].pop()``, ``R[i].insert(0, v)``, ``del R[i][j]``, ``.remove``, ``.sort``,
``.reverse``, ``.clear``). The parser's ``_Lowering`` is passed in as ``lw``; a change goes through its
``inner_list`` and ``swap_inside`` as ``R[i][j] = v`` does."""
from __future__ import annotations

import ast

import numpy as np

from ..errors import JacLimitError, JacValueError
from ..ir.graph import Tracer
from .copies import is_copy
from .functions import Items, is_boolean
from . import trees

_COPIES = ("list", "copy")  # list(row), row.copy(), copy.copy(row): a new list of the same items
_FRESH_CALLS = frozenset(("list", "sorted"))  # calls whose list is new (of numbers: list(range(3)))
_MAX_ITEMS = 100_000


def buildable(node: ast.expr) -> bool:
    """Does ``node`` make a Python list whose syntax says which inner lists are one object: a display, a
    comprehension, or one of them repeated (``[[0.0] * 3] * 2``)?"""
    if isinstance(node, ast.List):
        return not any(isinstance(e, ast.Starred) for e in node.elts)
    if isinstance(node, ast.ListComp):
        return True
    return isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and (
        buildable(node.left) or buildable(node.right))


def nested(node: ast.expr) -> bool:
    """May the list ``node`` makes hold other lists, as its syntax shows (a display, a comprehension, a name, an
    item or a copy as an item: ``[[0.0] * 3 for _ in range(2)]``, ``[a, b]``, ``[R[0], row[:]]``), or None
    (``[None] * 3``, to be filled)?"""
    if isinstance(node, ast.BinOp):
        return nested(node.left if buildable(node.left) else node.right)
    elts = node.elts if isinstance(node, ast.List) else [node.elt]
    return any(isinstance(e, (ast.List, ast.ListComp, ast.Name, ast.Subscript)) or buildable(e) or _copied(e)
               or isinstance(e, ast.Constant) and e.value is None for e in elts)


def build(lw, node: ast.expr):
    """The Python object ``node`` makes, a nested list the text writes into: :class:`Items` for each list (a new one
    per display or comprehension element, the one object for a name, a repeat holding its items again), a
    Python number or an array as the node jac makes of it, None for None."""
    if isinstance(node, ast.Constant) and node.value is None:
        return None
    if isinstance(node, ast.List) and buildable(node):
        return trees.written(Items([build(lw, e) for e in node.elts]), "list")
    if isinstance(node, ast.ListComp):
        made = lw.comprehension(node, lw.source.at(node), element=lambda _: build(lw, node.elt))
        return trees.written(Items(made), "list")
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult) and buildable(node):
        shown, count = (node.left, node.right) if buildable(node.left) else (node.right, node.left)
        return _repeated(lw, build(lw, shown), count)
    if isinstance(node, ast.Name):
        return held_list(lw, node.id, lw.source.at(node))
    source = _copied(node)
    if source is not None:  # row[:], list(row), row.copy(): a new list of the very items
        held = held_list(lw, source.id, lw.source.at(source))
        if isinstance(held, Items):
            return trees.written(Items(list(held)), "tuple" if held.display == "tuple" and isinstance(
                node, ast.Subscript) else "list")
    return _leaf(lw, node)


def _repeated(lw, seq, count_node: ast.expr):
    """``seq * n``: Python's list holding its items ``n`` times, the very objects (``[[0.0] * 3] * 2``: one row)."""
    count = lw.expression(count_node)
    value = lw.b.nodes[count.id].value if isinstance(count, Tracer) and lw.b.nodes[count.id].op == "const" else None
    position = lw.source.at(count_node)
    if not isinstance(seq, Items) or value is None or np.ndim(value) != 0 or not float(value).is_integer() \
            or not lw.python_number(count_node, count) or isinstance(count_node, ast.Constant) and \
            type(count_node.value) is float:
        raise JacValueError("a Python list repeats by an int ([0.0] * 3): can't multiply sequence by this", position)
    n = max(int(value), 0)
    if len(seq) * n > _MAX_ITEMS:
        raise JacLimitError(f"a list of {len(seq) * n:,} items (more than {_MAX_ITEMS:,}): jac writes each out; write "
                            "the expression with whole arrays", position)
    return trees.written(Items(list(seq) * n), "list")


def _copied(node: ast.expr):
    """The name ``node`` copies shallowly (``row[:]``, ``list(row)``, ``row.copy()``, ``copy.copy(row)``), or None."""
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice) and isinstance(node.value, ast.Name) \
            and node.slice.lower is node.slice.upper is node.slice.step is None:
        return node.value
    if not isinstance(node, ast.Call) or node.keywords:
        return None
    if isinstance(node.func, ast.Name) and node.func.id == "list" and len(node.args) == 1 \
            and isinstance(node.args[0], ast.Name):
        return node.args[0]
    if isinstance(node.func, ast.Attribute) and node.func.attr == "copy":
        if not node.args and isinstance(node.func.value, ast.Name):
            return node.func.value
        if isinstance(node.func.value, ast.Name) and node.func.value.id == "copy" and len(node.args) == 1 \
                and isinstance(node.args[0], ast.Name):
            return node.args[0]
    return None


def held_list(lw, name: str, position: int):
    """What the name ``name`` holds, as an item of a nested list: the very list object (:class:`Items`), a list of
    numbers jac held as one array made into one (the name rebound to it, so that a write through either name is
    seen by both), or an array or number as it is."""
    value = lw.name(name, position)
    if isinstance(value, Items) or not isinstance(value, Tracer) or value.ndim == 0 \
            or name not in lw.sequence_names or name in lw.tuple_names:
        return value
    node = lw.b.nodes[value.id]
    others = [n for n, t in lw.memory.tokens.items() if n != name and t & lw.memory.tokens.get(name, frozenset())]
    if node.op != "const" or value.ndim != 1 or is_boolean(lw.b, value) or value.id in lw.b.typed or others:
        why = f"'{others[0]}' holds it too" if others else "its items are not one list of numbers"
        raise JacValueError(f"'{name}' is put into a list that the text writes into item by item, and {why}; jac "
                            f"cannot follow which lists are one object: make '{name}' where it is put, with a "
                            f"display or a comprehension ([[0.0] * m for _ in range(n)])", position)
    items = numbers(lw, value)
    lw.scope[name] = items
    lw.memory.bind(name, items, False)
    return items


def numbers(lw, value: Tracer) -> Items:
    """The 1-d constant ``value`` (a Python list of numbers jac held as one array) as a list of its numbers."""
    held = lw.b.nodes[value.id]
    exact = lw.b.pyints.get(value.id)
    out = []
    for k, number in enumerate(held.value):
        item = lw.b.const(float(number), held.position)
        if exact is not None:
            lw.b.pyints[item.id] = int(exact[k])
        out.append(item)
    return trees.written(Items(out), "list")


def _leaf(lw, node: ast.expr):
    """An item that is no list display: a number, an array, a list a call returns (the object it is); a new list of
    numbers (``list(range(3))``, ``a + b``) made a list; a list jac held as one array whose object the syntax does
    not show (``A[0]`` of a list it folded), refused."""
    value = lw.expression(node)
    if not isinstance(value, Tracer) or value.ndim == 0 or id(node) not in lw.sequences or id(node) in lw.tuples:
        return value
    fresh = isinstance(node, ast.BinOp) or isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
        and node.func.id in _FRESH_CALLS
    if fresh and value.ndim == 1 and lw.b.nodes[value.id].op == "const" and not is_boolean(lw.b, value) \
            and value.id not in lw.b.typed:
        return numbers(lw, value)
    raise JacValueError(f"{ast.unparse(node)} is a Python list that jac holds as one array, put into a list the text "
                        "writes into item by item: jac cannot follow which lists are one object; name the list where "
                        "it is made, or make it with a display or a comprehension", lw.source.at(node))


# --- an inner list changed in place: R[i].pop(), R[i].insert(k, v), del R[i][j], ... -----------------------

_TAKES = {"pop": (0, 1), "insert": (2, 2), "clear": (0, 0), "reverse": (0, 0), "remove": (1, 1), "sort": (0, 0)}
METHODS = frozenset(_TAKES)  # the changes of an inner list that inner_change makes (append / extend: the parser's)
ORDERING = ("remove", "sort")  # those that compare items, which a flat list of arrays does not take


def inner_change(lw, call: ast.Call, popped: ast.expr | None, position: int) -> bool:
    """``R[i].pop(k)`` (``v = R[i].pop()`` binding ``v``), ``.insert(k, v)``, ``.clear()``, ``.reverse()``,
    ``.remove(v)`` and ``.sort()`` of an inner list of Python's nested lists, as Python changes the one list every
    list and name holding it sees."""
    method = call.func.attr
    what = f"{ast.unparse(call.func)}(...)"
    name, current, direct = lw.inner_list(call.func.value, what, position)
    least, most = _TAKES[method]
    keywords = [k.arg for k in call.keywords]
    if not least <= len(call.args) <= most or keywords and (method != "sort" or keywords != ["reverse"]):
        raise JacValueError(f"{what}: a list's {method} takes {most} argument{'s' * (most != 1)}"
                            f"{' at most' if least != most else ''} by position"
                            f"{' (and reverse=; a key= is not read)' if method == 'sort' else ''}", position)
    items, added = list(current), []
    shown = ast.unparse(call.func.value)
    if method == "pop":
        k = lw.list_index(call.args[0], f"{what}: the index must be one constant integer") if call.args else -1
        if not -len(items) <= k < len(items):
            raise JacValueError(f"{what}: {'pop from empty list' if not items else 'pop index out of range'} "
                                f"({shown} holds {len(items)} item{'s' * (len(items) != 1)}), as Python raises",
                            position)
        items.pop(k)
        if popped is not None:  # v = R[i].pop(k) is v = R[i][k] before the list changes
            read = ast.Subscript(value=call.func.value, slice=call.args[0] if call.args else ast.Constant(value=-1),
                                 ctx=ast.Load())
            taken = ast.Assign(targets=[popped], value=read)
            lw.statement(ast.fix_missing_locations(ast.copy_location(taken, call)))
    elif method == "insert":
        k = lw.list_index(call.args[0], f"{what}: the index must be one constant integer")
        added = [lw.expression(call.args[1])]
        items.insert(k, added[0])
    elif method == "clear":
        items = []
    elif method == "reverse":
        items.reverse()
    elif method == "remove":
        items.pop(_found(lw, items, lw.expression(call.args[0]), what, shown, position))
    else:
        items = _sorted(lw, items, call, what, position)
    lw.changed_inner(current, trees.written(Items(items), "list"), direct, added,
                     method == "insert" and is_copy(call.args[1]))
    return True


def _number(lw, item):
    """The number a list's item is known to be without the values (a constant), None for one the inputs reach."""
    if item is None or isinstance(item, (bool, int, float)):
        return item
    if isinstance(item, Tracer) and lw.b.nodes[item.id].op == "const" and np.ndim(lw.b.nodes[item.id].value) == 0:
        return float(lw.b.nodes[item.id].value)
    return _UNKNOWN


_UNKNOWN = object()


def _found(lw, items: list, value, what: str, shown: str, position: int) -> int:
    """Where ``list.remove(value)`` finds its item: the first equal one, compared as Python compares them, known
    without the values; refused where a comparison reads an item the inputs reach."""
    wanted = _number(lw, value)
    if wanted is _UNKNOWN:
        raise JacValueError(f"{what}: the item to remove is compared by value, and this one depends on the inputs; "
                            f"jac cannot say which item Python removes: write the list without v (del {shown}[k])",
                            position)
    for k, item in enumerate(items):
        have = _number(lw, item)
        if have is _UNKNOWN:
            raise JacValueError(f"{what}: Python compares {shown}[{k}] with the value to remove, and it depends on the "
                                f"inputs (or is a list); jac cannot say which item Python removes: write the list "
                                f"without v (del {shown}[k])", position)
        if have == wanted and (have is None) == (wanted is None):
            return k
    raise JacValueError(f"{what}: list.remove(x): x not in list, as Python raises; write the list without v",
                        position)


def _sorted(lw, items: list, call: ast.Call, what: str, position: int) -> list:
    """``list.sort()`` of numbers known without the values (Python's stable sort); refused for an item the inputs
    reach, whose order would follow the values."""
    keys = [_number(lw, item) for item in items]
    if any(k is _UNKNOWN or k is None for k in keys):
        why = "one is None (TypeError)" if None in keys else "some are lists or depend on the inputs"
        raise JacValueError(f"{what}: Python sorts the list by its items' values, and {why}; jac "
                            "writes a program whose order does not follow the values: sort an array instead "
                            "(torch.sort(torch.stack(...)).values, np.sort(np.array(...)))", position)
    reverse = False
    for k in call.keywords:
        flag = lw.expression(k.value)
        reverse = bool(lw.b.nodes[flag.id].value) if isinstance(flag, Tracer) else bool(flag)
    order = sorted(range(len(items)), key=keys.__getitem__, reverse=reverse)
    return [items[k] for k in order]


def inner_delete(lw, target: ast.Subscript) -> None:
    """``del R[i][j]`` (a constant index or a slice of constants) of Python's nested lists."""
    what = f"del {ast.unparse(target)}"
    position = lw.source.at(target)
    name, current, direct = lw.inner_list(target.value, what, position)
    shown = ast.unparse(target.value)
    items = list(current)
    if isinstance(target.slice, ast.Slice):
        parts = [None if p is None else lw.list_index(p, f"{what}: a slice of constant integers")
                 for p in (target.slice.lower, target.slice.upper, target.slice.step)]
        del items[slice(*parts)]
    else:
        k = lw.list_index(target.slice, f"{what}: an item of {shown} is deleted at one constant integer index")
        if not -len(items) <= k < len(items):
            raise JacValueError(f"{what}: list assignment index out of range ({shown} holds {len(items)} items), as "
                                "Python raises", position)
        del items[k]
    lw.changed_inner(current, trees.written(Items(items), "list"), direct, [], False)


def index_array(lw, items: Items, position: int) -> Tracer:
    """Python's list ``items`` (``R[0]`` of a nested list, ``idx`` appended to) as an index: NumPy makes one integer
    array of it (``x[[2, 1]]`` takes rows 2 and 1), not a tuple of indices; its numbers must be known without the
    values (integer constants, at any depth of equal lengths)."""
    def values(part):
        if isinstance(part, Items):
            return [values(p) for p in part]
        number = _number(lw, part)
        if number is _UNKNOWN or number is None or not float(number).is_integer() \
                or isinstance(part, Tracer) and part.id not in lw.b.pyints:
            raise JacValueError("a Python list as an index is NumPy's index array, and jac reads one of integers "
                                "written in the text (x[[0, 2]]); this one holds another item", position)
        return int(number)
    try:
        array = np.array(values(items), dtype=np.int64)
    except ValueError:
        raise JacValueError("a Python list as an index must be rectangular (NumPy's index array)", position) from None
    out = lw.b.const(array.astype(np.float64), position)
    lw.b.pyints[out.id] = array
    return out
