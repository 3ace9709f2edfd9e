"""``*seq`` and ``**mapping`` in a call (session 54): the call written out with what they hold, as Python passes it.

The parser's walk lowers a call's arguments first; where one is ``*seq`` or ``**mapping`` and jac knows what it
holds (a tuple or list of known length: a display, a name holding one, a function's ``*args``, a constant vector's
numbers, an array's rows; a dict display or a function's ``**kwargs``, of string keys), :func:`expand` makes the
call Python makes, ``f(a, b, k=v)``, a new ``ast.Call`` with one argument and one keyword per element, and those
values, which every call path then reads as if the text had written them (library functions, the text's functions,
methods, module constructors and calls). Python's own errors where Python raises: a key given twice, a key that is
no string, ``**`` of something that is no mapping, ``*`` of something that is no sequence.
"""

from __future__ import annotations

import ast

import numpy as np

from ..errors import JacLimitError, JacValueError
from .functions import Items, Static, Tracer
from .modules import Listed
from .trees import Dict


MAX_ARGUMENTS = 10_000  # the arguments one '*' of a string may make (the parser's arrays: its _MAX_UNROLLED)


def has_stars(node: ast.Call) -> bool:
    """Does the call unpack anything (``f(*a)``, ``f(**k)``)?"""
    return any(type(a) is ast.Starred for a in node.args) or any(k.arg is None for k in node.keywords)


def _kind(value) -> str:
    """Python's type name of ``value`` for an error message."""
    if type(value) is bool:
        return "bool"
    if value is None:
        return "NoneType"
    if type(value) is Static:
        return type(value.value).__name__
    if type(value) is Tracer:
        return "Tensor" if value.ndim else "float"
    if isinstance(value, (Items, Listed)):
        return getattr(value, "display", None) or "tuple"
    return type(value).__name__


def _element_node(source: ast.expr, index, shown: list | None, i: int) -> ast.expr:
    """The syntax of one element of ``source`` (a display's own element where the text wrote one, else
    ``source[index]``), placed where ``source`` is, so that positions and errors point into the text."""
    if shown is not None:
        return shown[i]
    index = ast.copy_location(ast.Constant(index), source)
    return ast.copy_location(ast.Subscript(value=source, slice=index, ctx=ast.Load()), source)


def pure(node: ast.expr) -> bool:
    """A name or a chain of attributes of one (``kw``, ``self.opts``): read again, the very value, nothing made."""
    while type(node) is ast.Attribute:
        node = node.value
    return type(node) is ast.Name


def expand(lowering, node: ast.Call, kids: list, unpacked_type, unpacked) -> tuple:
    """``node`` (a call with ``*`` or ``**``) and its lowered ``kids`` (its owner, if any, then its arguments and
    keywords' values, a ``*seq`` as an ``unpacked_type``), as the call written without them and its kids; the
    elements of a ``*seq`` by ``unpacked`` (the parser's rule: a sequence's items, a constant vector's numbers, an
    array's rows). ``node`` and ``kids`` unchanged where the kids are not laid out so (a call read off the text)."""
    owner = len(kids) - len(node.args) - len(node.keywords)
    if owner not in (0, 1):
        return node, kids
    spelled = ast.unparse(node.func)
    position = lowering.source.at(node)
    args, values = [], list(kids[:owner])
    for argument, value in zip(node.args, kids[owner:]):
        if type(argument) is not ast.Starred:
            args.append(argument)
            values.append(value)
            continue
        if type(value) is not unpacked_type:
            return node, kids
        held = value.value
        if type(held) is Dict:  # *d: its keys, as Python iterates a dict
            elements = [Static(k) if type(k) is str else lowering.number(k, value.position) for k in held.keys()]
        elif type(held) is Static and type(held.value) is str:  # *'ab': its characters
            if len(held.value) > MAX_ARGUMENTS:
                raise JacLimitError(f"'*' unpacks a string of {len(held.value):,} characters into {spelled}() (jac "
                                    f"writes out up to {MAX_ARGUMENTS:,} arguments)", lowering.source.at(argument))
            elements = [Static(c) for c in held.value]
        elif held is None or type(held) is bool or type(held) is Static or type(held) is Tracer and held.ndim == 0:
            what = "a number or a 0-d array (PyTorch: 'iteration over a 0-d tensor')" \
                if type(held) is Tracer else _kind(held)
            raise JacValueError(f"{spelled}() argument after * must be an iterable, not {what}",
                                lowering.source.at(argument))
        else:
            elements = unpacked([value])
            kinds = lowering.held.get(held.id) if type(held) is Tracer else None
            if kinds is not None and len(kinds) == len(elements):  # *(x, True): Python's bool, a tuple, as held
                elements = [lowering.held_item(e, k) if type(e) is Tracer else e for e, k in zip(elements, kinds)]
        written = argument.value
        shown = list(written.elts) if type(written) in (ast.Tuple, ast.List) and len(written.elts) == len(elements) \
            and not any(type(e) is ast.Starred for e in written.elts) else None
        for i, element in enumerate(elements):
            args.append(_element_node(written, i, shown, i))
            if shown is None and pure(written) and type(held) is not Dict and type(held) is not Static:
                # *t: t[i] read as the text's own subscript is (a tuple in it marked one), the very value
                element = lowering.expression(args[-1])
            values.append(element)
    keywords, given = [], set()
    for keyword, value in zip(node.keywords, kids[owner + len(node.args):]):
        if keyword.arg is not None:
            pairs = [(keyword.arg, keyword.value, value)]
        else:
            if type(value) is not Dict:
                what = lowering.python_kind(keyword.value, value) if type(value) is Tracer else None
                raise JacValueError(f"{spelled}() argument after ** must be a mapping, not "
                                    f"{what if what in ('tuple', 'list', 'range') else _kind(value)}",
                                    lowering.source.at(keyword.value))
            written = keyword.value
            shown = dict(zip((k.value for k in written.keys), written.values)) if type(written) is ast.Dict and all(
                type(k) is ast.Constant for k in written.keys) else {}
            pairs = []
            for key, item in value.items():
                if type(key) is not str:
                    raise JacValueError(f"{spelled}(): keywords must be strings (Python's TypeError), not "
                                        f"{type(key).__name__} {key!r}", lowering.source.at(keyword.value))
                found = shown.get(key)
                if found is None and pure(written):  # **kw: kw['s'] read as the text's own subscript would be,
                    found = _element_node(written, key, None, 0)  # a tuple marked as one (a name has no effects)
                    item = lowering.expression(found)
                pairs.append((key, found if found is not None else _element_node(written, key, None, 0), item))
        for key, syntax, item in pairs:
            if key in given:
                raise JacValueError(f"{spelled}() got multiple values for keyword argument '{key}'", position)
            given.add(key)
            keywords.append(ast.copy_location(ast.keyword(arg=key, value=syntax), syntax))
            values.append(item)
    call = ast.copy_location(ast.Call(func=node.func, args=args, keywords=keywords), node)
    call.unpacked = node  # what the text wrote: a check of its syntax (inplace=True written) reads that
    kept = lowering.__dict__.setdefault("written_calls", [])  # the nodes made kept, so that no later node of the
    kept.append(call)  # parse is given one of their ids (the walk's sets of sequences hold ids)
    return call, values


def _literal_node(lowering, value, at: ast.AST) -> ast.expr | None:
    """The literal a Python value jac holds is written as (a number, a tuple of numbers, a bool, a string, None:
    what ``ast.literal_eval`` reads back), placed at ``at``; None for any other value (an array of the inputs, a
    function, a module)."""
    if type(value) is Static:
        value = value.value
    if value is None or type(value) in (bool, str, int, float):
        return ast.copy_location(ast.Constant(value), at)
    if type(value) is Items:
        items = [_literal_node(lowering, v, at) for v in value]
        return None if any(i is None for i in items) else ast.copy_location(ast.Tuple(items, ast.Load()), at)
    if type(value) is not Tracer or value.ndim > 1:
        return None
    node = lowering.b.nodes[value.id]
    if node.op != "const":
        return None
    numbers = np.asarray(node.value).reshape(-1)
    if numbers.dtype.kind not in "biuf" or (numbers.dtype.kind == "f" and not np.isfinite(numbers).all()):
        return None
    floats = value.id in lowering.b.floats or numbers.dtype.kind == "f" and bool((numbers != np.round(numbers)).any())
    kind = bool if numbers.dtype.kind == "b" else float if floats else int
    items = [ast.copy_location(ast.Constant(kind(v)), at) for v in numbers.tolist()]
    return items[0] if value.ndim == 0 else ast.copy_location(ast.Tuple(items, ast.Load()), at)


def written_out(lowering, node: ast.Call) -> ast.Call:
    """``node`` (a call read off its syntax: a transform, ``jax.grad(f, **kw)``; an initializer, ``nn.init.
    constant_(w, **kw)``; ``operator.add(*t)``) with each ``*seq`` and ``**mapping`` written out, session 55: a
    display's own elements, or of a name (an attribute chain) each ``name[i]`` / ``name['k']`` read as the text's
    subscript is, written as its literal where it is a Python value (``argnums=1``, ``(0, 1)``, ``True``) so that
    what reads literals reads it. Only the unpacked values are read here (once more where the call reads them);
    an unpacking of anything else (a call, an expression) is refused, as Python's errors are (lang/starred.py)."""
    if not has_stars(node):
        return node
    spelled = ast.unparse(node.func)
    position = lowering.source.at(node)
    args, keywords, given = [], [], set()
    for argument in node.args:
        if type(argument) is not ast.Starred:
            args.append(argument)
            continue
        written = argument.value
        if type(written) in (ast.Tuple, ast.List) and not any(type(e) is ast.Starred for e in written.elts):
            args.extend(written.elts)
            continue
        if not pure(written):
            raise JacValueError(f"'*{ast.unparse(written)}' in {spelled}(...): jac writes out a '*' of a tuple or a "
                                f"list written there or held by a name here (t = (...); {spelled}(*t))",
                                lowering.source.at(argument))
        value = lowering.expression(written)
        if type(value) is Items or type(value) is Tracer and value.ndim:
            count = len(value) if type(value) is Items else value.shape[0]
        elif type(value) is Dict:
            count = len(value)
        else:
            raise JacValueError(f"{spelled}() argument after * must be an iterable, not {_kind(value)}",
                                lowering.source.at(argument))
        if count > MAX_ARGUMENTS:
            raise JacLimitError(f"'*' unpacks {count:,} items into {spelled}() (jac writes out up to "
                                f"{MAX_ARGUMENTS:,} arguments)", lowering.source.at(argument))
        keys = list(value.keys()) if type(value) is Dict else range(count)
        for key in keys:
            if type(value) is Dict:  # *d: its keys
                args.append(_literal_node(lowering, key, written) or _element_node(written, key, None, 0))
                continue
            element = _element_node(written, key, None, 0)
            args.append(_literal_node(lowering, lowering.expression(element), written) or element)
    for keyword in node.keywords:
        if keyword.arg is not None:
            pairs = [(keyword.arg, keyword.value)]
        elif type(keyword.value) is ast.Dict and all(type(k) is ast.Constant and type(k.value) is str
                                                     for k in keyword.value.keys):
            pairs = [(k.value, v) for k, v in zip(keyword.value.keys, keyword.value.values)]
        elif pure(keyword.value):
            value = lowering.expression(keyword.value)
            if type(value) is not Dict:
                raise JacValueError(f"{spelled}() argument after ** must be a mapping, not {_kind(value)}",
                                    lowering.source.at(keyword.value))
            pairs = []
            for key in value.keys():
                if type(key) is not str:
                    raise JacValueError(f"{spelled}(): keywords must be strings (Python's TypeError), not "
                                        f"{type(key).__name__} {key!r}", lowering.source.at(keyword.value))
                element = _element_node(keyword.value, key, None, 0)
                pairs.append((key, _literal_node(lowering, lowering.expression(element), keyword.value) or element))
        else:
            raise JacValueError(f"'**{ast.unparse(keyword.value)}' in {spelled}(...): jac writes out a '**' of a dict "
                                f"written there or held by a name here (kw = dict(...); {spelled}(**kw))",
                                lowering.source.at(keyword.value))
        for key, syntax in pairs:
            if key in given:
                raise JacValueError(f"{spelled}() got multiple values for keyword argument '{key}'", position)
            given.add(key)
            keywords.append(ast.copy_location(ast.keyword(arg=key, value=syntax), syntax))
    call = ast.copy_location(ast.Call(func=node.func, args=args, keywords=keywords), node)
    lowering.__dict__.setdefault("written_calls", []).append(call)  # kept, as expand keeps its calls
    return call
