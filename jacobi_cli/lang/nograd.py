"""A write in place into a tensor that is no leaf where PyTorch's gradients are off, or through ``.data`` (session 53).

Under ``torch.no_grad()`` (and in a ``@torch.no_grad()`` function: the parser's ``grad_off``) PyTorch runs a write in
place (``y.sigmoid_()``, ``y[0] = 5.0``, ``y += 1``, ``y.copy_(y.round())``, ``y[0:2].zero_()``) without recording
it: ``y`` holds the new values and its gradient flows through its old graph, as if the write had not happened (the
straight-through estimator quantization-aware training writes as ``with torch.no_grad(): y.copy_(y.round())``). In
jac's terms that is the write through ``y.detach()`` (a view sharing y's buffer and version counter, whose write
changes the values and not the history: lang/views.py's ``straight_through`` root), so :func:`statement` lowers it
so: it binds a hidden name to ``y.detach()``, runs the statement written into that name through the parser's own
write machinery (views of the buffer, aliases, overlaps, and the version check of ir/saved.py: PyTorch bumps the
version, so a tensor an op recorded before saved for backward makes backward raise, as jac then refuses), and unbinds
the hidden name. The names the write rebinds keep their history past the block's end (the parser's ``no_grad``
detaches only what the block assigned: :func:`kept`).

``y.data.<method>_()``, ``y.data[i] = v`` and ``y.data = V`` (inside ``no_grad`` or not) write the same values, but
bump no version counter: PyTorch's backward then reads the new values where an op saved ``y`` (``torch.exp(y)``'s
result, ``y * y``'s operands), a gradient of neither the old nor the new function, silently. jac refuses that case (at
the output, where the saver is on its backward path, as ir/saved.py's check) in its own words, and answers the rest.
``y.data = V`` is read where ``V`` has ``y``'s shape, is a new tensor (no name's buffer, which ``y`` would share from
then on) and no other name views ``y`` (PyTorch's views keep the old buffer).

Leaves (an input of the command line, a tensor the text made with ``requires_grad=True``, a layer's parameter) are
not this module's: lang/setparams.py reads a leaf's values set before its first use, and the parser refuses the rest.
"""

from __future__ import annotations

import ast
import copy

from ..errors import JacError, JacValueError
from ..ir.graph import Tracer

_HIDDEN = "jac_nograd_written"  # the name bound to y.detach() for the statement's write (never the text's: checked)
_VIEW_ATTRIBUTES = frozenset(("T", "mT", "H", "mH"))
_VIEW_METHODS = frozenset(("view", "view_as", "reshape", "detach", "flatten", "ravel", "squeeze", "unsqueeze",
                           "transpose", "swapaxes", "swapdims", "permute", "t", "narrow", "expand", "expand_as",
                           "diagonal", "select", "unflatten", "movedim", "moveaxis", "unfold"))
# the parser's writes of the shape alone, and detach_ (of the tensor itself, not its values): run as outside no_grad
_AS_RECORDED = frozenset(("unsqueeze_", "squeeze_", "t_", "transpose_", "swapdims_", "swapaxes_", "detach_"))
_DATA_BUMP = ("{what}: a write through .data bumps no version counter, so PyTorch's backward silently reads the new "
              "values where {op} saved '{name}' ({kept}) for its derivative: a gradient of neither the old nor the new "
              "function, which jac does not give; write under 'with torch.no_grad():' instead ({name}.{method}, which "
              "PyTorch's backward refuses here), or bind a new name ({name}2 = {name} + ...)")


def _root(stmt: ast.stmt):
    """The node naming the tensor a write statement writes into (``y`` or ``y.data``, below the indices and views of
    ``y[0].T.mul_(2)``), or None for a statement that writes no tensor this way."""
    if type(stmt) is ast.AugAssign:
        node = stmt.target
    elif type(stmt) is ast.Assign and len(stmt.targets) == 1 and type(stmt.targets[0]) in (ast.Subscript,
                                                                                           ast.Attribute):
        node = stmt.targets[0]
        if type(node) is ast.Attribute and node.attr != "data":
            return None
    elif type(stmt) is ast.Expr and type(stmt.value) is ast.Call and type(stmt.value.func) is ast.Attribute \
            and stmt.value.func.attr.endswith("_") and not stmt.value.func.attr.startswith("_"):
        node = stmt.value.func.value
    else:
        return None
    while True:
        if type(node) is ast.Name or type(node) is ast.Attribute and node.attr == "data" \
                and type(node.value) is ast.Name:
            return node
        if type(node) is ast.Subscript or type(node) is ast.Attribute and node.attr in _VIEW_ATTRIBUTES:
            node = node.value
        elif type(node) is ast.Call and type(node.func) is ast.Attribute and node.func.attr in _VIEW_METHODS:
            node = node.func.value
        else:
            return None


def _path(stmt: ast.stmt, target: ast.AST) -> list | None:
    """The fields and indices from ``stmt`` down to the node ``target`` (to find its copy in a deep copy)."""
    for field, value in ast.iter_fields(stmt):
        items = value if isinstance(value, list) else [value]
        for i, item in enumerate(items):
            if item is target:
                return [(field, i if isinstance(value, list) else None)]
            if isinstance(item, ast.AST):
                found = _path(item, target)
                if found is not None:
                    return [(field, i if isinstance(value, list) else None)] + found
    return None


def _replaced(stmt: ast.stmt, target: ast.AST, new: ast.expr) -> ast.stmt:
    """A copy of ``stmt`` with ``target`` (a node in it) replaced by ``new``."""
    path = _path(stmt, target)
    out = copy.deepcopy(stmt)
    parent = out
    for field, index in path[:-1]:
        parent = getattr(parent, field) if index is None else getattr(parent, field)[index]
    field, index = path[-1]
    if index is None:
        setattr(parent, field, new)
    else:
        getattr(parent, field)[index] = new
    return out


def _leaf(p, name: str) -> bool:
    """Does ``name`` reach an input's buffer (a leaf, or a view of one: the parser's refusals and lang/setparams.py
    are its)?"""
    return any(token[0] == "input" for token in p.memory.tokens.get(name, ()) if type(token) is tuple)


def statement(p, stmt: ast.stmt, where: str | None) -> bool:
    """Lower ``stmt`` if it is a write into a tensor that is no leaf under ``torch.no_grad()`` (``where``, with the
    parser's ``grad_off``) or through ``.data``; False for any other statement (the parser's own ways then)."""
    if stmt is p.nograd_running:
        return False
    node = _root(stmt)
    if node is None:
        return _other(p, stmt, where)
    data = type(node) is ast.Attribute
    name = node.value.id if data else node.id
    if not data and not (p.grad_off and where is not None):
        return False
    method = stmt.value.func.attr if type(stmt) is ast.Expr else None
    if method in _AS_RECORDED and (data or p.grad_off):  # t.unsqueeze_(0): the shape, exact either way; t.detach_()
        if not data:  # t.data.unsqueeze_(0) changes the shape of a tensor no name holds (.data's own), not t's
            before = dict(p.scope)
            _running(p, stmt)
            _track(p, before, p.source.at(stmt))
        return True
    value = p.scope.get(name)
    if type(value) is not Tracer or name == _HIDDEN:
        return False
    if _leaf(p, name):
        if data or not p.grad_off:
            return False
        raise JacValueError(f"writing into '{name}' {where}: '{name}' is an input (a leaf tensor) or a view of one, "
                            f"whose values jac does not change (PyTorch would change the leaf itself, its gradient "
                            f"then taken at the new values); compute the new values as an array of their own "
                            f"({name}2 = ...)", p.source.at(stmt))
    if where is not None and p.locals is not None and p.locals[0] == where and name not in p.locals[1] \
            and not p.python_container(name):
        return False  # a write into the caller's array from a function: the parser refuses it saying why
    if _HIDDEN in p.scope:
        raise JacValueError(f"'{_HIDDEN}' is a name jac keeps for a write in place under torch.no_grad(): rename "
                            "it in the text", p.source.at(stmt))
    spelled = f"{name}.data" if data else name
    position = p.source.at(stmt)
    shown = None
    if type(stmt) is ast.Assign and type(stmt.targets[0]) is ast.Attribute:  # y.data = V
        shown = f"{spelled} = {ast.unparse(stmt.value)}"
        stmt = _set_data(p, stmt, name, value, position)
    before = dict(p.scope)
    stale = len(p.b.stale)
    if p.view_family(name) is None:
        # c[0] = 5.0 of c = torch.zeros(3), a write into a sort's result: no view of the buffer but the name's own
        written = _replaced(stmt, node, node.value) if data else stmt
        try:
            p.run(written)
        except JacError as err:
            raise err.reword(err.message if shown is None else err.message.replace(f"{name}.copy_(...)", shown)) \
                from None
        _kept_history(p, before, position)
        _renamed(p, stale, spelled, name, data, shown)
        _track(p, before, position)
        return True
    _through_hidden(p, stmt, node, name, spelled, shown)
    _renamed(p, stale, spelled, name, data, shown)
    _track(p, before, position)
    return True


def _running(p, stmt: ast.stmt) -> None:
    """``stmt`` run by the parser's ``run`` as outside ``no_grad`` (this module passed over for it)."""
    outer, p.nograd_running = p.nograd_running, stmt
    try:
        p.run(stmt)
    finally:
        p.nograd_running = outer


def _other(p, stmt: ast.stmt, where: str | None) -> bool:
    """Any other simple statement under ``no_grad`` (``F.relu(t, inplace=True)``, ``act(t)`` of an ``nn.ReLU(inplace=
    True)``, ``u = F.relu(t, inplace=True)``, a call of a function of the text writing into ``t``): run as the parser
    runs it, then each name it rebound without assigning it (a write in place) keeps its old derivative, and a name it
    assigned the written tensor itself (PyTorch's in-place calls return their argument) is that tensor."""
    if not p.grad_off or where is None or type(stmt) not in (ast.Expr, ast.Assign, ast.AnnAssign):
        return False
    if _in_place_call(p, stmt, where):
        return True
    before = dict(p.scope)
    outer, p.nograd_running = p.nograd_running, stmt
    try:
        p.run(stmt, where)
    finally:
        p.nograd_running = outer
    assigned = set().union(*(_bound(t) for t in (stmt.targets if type(stmt) is ast.Assign
                                                 else [getattr(stmt, "target", None)])))
    written = {n: before[n] for n in p.scope if n not in assigned and p.scope[n] is not before.get(n)}
    if not written:
        return True
    position = p.source.at(stmt)
    made = _kept_history(p, before, position, written)
    for n in assigned:  # u = F.relu(t, inplace=True): PyTorch's call returns t itself
        if type(p.scope.get(n)) is Tracer and id(p.scope[n]) in made:
            p.scope[n] = made[id(p.scope[n])]
            p.memory.rebind(n, p.scope[n])
    _track(p, before, position)
    return True


def _in_place_call(p, stmt: ast.stmt, where: str) -> bool:
    """``F.relu(t, inplace=True)`` (and ``torch.relu_(t)``, rewritten so; ``act(t)`` of an ``nn.ReLU(inplace=True)``;
    ``u = ...`` of either) under ``no_grad`` where other names view t's buffer (``v = t[1:3]``, ``v = t.detach()``,
    ``u = t``) and lang/views.py follows them (session 54): the call written into a hidden name bound to
    ``t.detach()``, as :func:`statement` writes a method's, so every name viewing the buffer sees the new values with
    its old derivative and stays a view of it for a later write; an assigned name holds t itself (PyTorch's
    in-place call returns its argument). False for any other statement (:func:`_other`'s own way then)."""
    call = stmt.value
    if type(call) is not ast.Call or not call.args or type(call.args[0]) is not ast.Name:
        return False
    if not p.writes_inplace(call) and not p.module_in_place(call):
        return False
    name = call.args[0].id
    value = p.scope.get(name)
    if type(value) is not Tracer or name == _HIDDEN or _leaf(p, name) or not p.b.nodes[value.id].requires_grad \
            or p.view_family(name) is None:
        return False
    if where is not None and p.locals is not None and p.locals[0] == where and name not in p.locals[1] \
            and not p.python_container(name):
        return False  # a write into the caller's array from a function: the parser's own ways
    if _HIDDEN in p.scope:
        raise JacValueError(f"'{_HIDDEN}' is a name jac keeps for a write in place under torch.no_grad(): rename "
                            "it in the text", p.source.at(stmt))
    assigned = set().union(*(_bound(t) for t in (stmt.targets if type(stmt) is ast.Assign
                                                 else [getattr(stmt, "target", None)])))
    before = dict(p.scope)
    stale = len(p.b.stale)
    position = p.source.at(stmt)
    _through_hidden(p, stmt, call.args[0], name, name, None)
    for n in assigned:  # u = F.relu(t, inplace=True): t itself
        if n != name and n in p.scope:
            p.scope[n] = p.scope[name]
            p.memory.tokens[n] = p.memory.tokens[name]
            p.memory.rebind(n, p.scope[name])
    _renamed(p, stale, name, name, False, None)
    _track(p, before, position)
    return True


def _through_hidden(p, stmt: ast.stmt, node: ast.AST, name: str, spelled: str, shown: str | None) -> None:
    """``stmt`` run with ``node`` (the written name, or ``name.data``) replaced by a hidden name bound to
    ``name.detach()``: a write that changes the buffer's values and no name's history (lang/views.py's
    ``straight_through`` root), every view of the buffer replayed on it."""
    hidden = ast.copy_location(ast.Name(id=_HIDDEN, ctx=ast.Load()), node)
    written = _replaced(stmt, node, hidden)
    bind = ast.copy_location(ast.Assign(targets=[ast.copy_location(ast.Name(id=_HIDDEN, ctx=ast.Store()), node)],
                                        value=ast.copy_location(ast.Call(
                                            func=ast.copy_location(ast.Attribute(
                                                value=ast.copy_location(ast.Name(id=name, ctx=ast.Load()), node),
                                                attr="detach", ctx=ast.Load()), node),
                                            args=[], keywords=[]), node), lineno=stmt.lineno), stmt)
    try:
        p.statement(bind)
        p.run(written)
    except JacError as err:
        message = err.message.replace(_HIDDEN, spelled)
        raise err.reword(message if shown is None else message.replace(f"{spelled}.copy_(...)", shown)) from None
    finally:
        if _HIDDEN in p.scope:
            p.scope.pop(_HIDDEN)
            p.memory.tokens.pop(_HIDDEN, None)
        for level in p.sharing or ():  # a write inside a call: the hidden name is no caller's (written_outside)
            level[4].pop(_HIDDEN, None)


def _bound(target) -> set:
    """The names an assignment's target binds (``u``, ``a, b``), not those it writes into (``t[0], t[1] = ...``)."""
    if type(target) is ast.Name:
        return {target.id}
    if type(target) in (ast.Tuple, ast.List):
        return set().union(*(_bound(t) for t in target.elts))
    return _bound(target.value) if type(target) is ast.Starred else set()


def _set_data(p, stmt: ast.Assign, name: str, value: Tracer, position: int) -> ast.stmt:
    """``y.data = V`` as ``y.data.copy_(V)`` where that is what PyTorch computes; refused otherwise."""
    text = ast.unparse(stmt.value)
    literal = stmt.value.operand if type(stmt.value) is ast.UnaryOp else stmt.value
    if type(literal) in (ast.Constant, ast.List, ast.Tuple):  # y.data = 0: PyTorch's TypeError
        kind = type(literal.value).__name__ if type(literal) is ast.Constant else type(literal).__name__.lower()
        raise JacValueError(f"{name}.data = {text}: PyTorch raises \"TypeError: Variable data has to be a tensor, but "
                            f"got {kind}\" (write {name}.data.fill_({text}) or {name}.data = torch.tensor(...))",
                            position)
    new = p.expression(stmt.value)
    if type(new) is not Tracer or tuple(new.shape) != tuple(value.shape):
        shape = f"shape {tuple(new.shape)}" if type(new) is Tracer else "no tensor"
        raise JacValueError(f"{name}.data = {text}: the new value has {shape}, not {name}'s {tuple(value.shape)}, "
                            f"and PyTorch then changes what {name} is (its shape), which jac does not follow: bind a "
                            f"new name ({name}2 = ...)", position)
    if not p.new_buffer(stmt.value, new) and (type(stmt.value) is ast.Name or _root_name(stmt.value) is not None):
        raise JacValueError(f"{name}.data = {text}: {name} then shares {text}'s memory (a write into either changes "
                            f"both), which jac does not follow: write {name}.data = {text}.clone()", position)
    others = [n for n in p.memory.aliases(name) if n != name and p.scope.get(n) is value]
    found = p.view_family(name)
    if found is not None:
        others += [n for n in list(found.paths) + list(found.stale) if n != name]
    if others:
        raise JacValueError(f"{name}.data = {text}: '{others[0]}' shares {name}'s memory, and PyTorch gives {name} "
                            f"a new memory while '{others[0]}' keeps the old one, which jac does not follow: write "
                            f"{name}.data.copy_({text}) (every view then sees it), or bind a new name", position)
    func = ast.copy_location(ast.Attribute(value=stmt.targets[0], attr="copy_", ctx=ast.Load()), stmt.targets[0])
    call = ast.Call(func=func, args=[stmt.value], keywords=[])
    return ast.copy_location(ast.Expr(value=ast.copy_location(call, stmt)), stmt)


def _kept_history(p, before: dict, position: int, only=None) -> dict:
    """Each name the write rebound (the written name, its Python aliases, the views lang/views.py follows; ``only``:
    those names alone): its new values with its old derivative (``straight_through``), as PyTorch leaves a write it
    does not record. Returns id(new tracer) -> the tracer made of it."""
    b, made = p.b, {}
    done = _kept_family(p, before, position, only, made)
    for n, new in list(p.scope.items()):
        old = before.get(n)
        if new is old or type(new) is not Tracer or type(old) is not Tracer or only is not None and n not in only \
                or n in done:
            continue
        if id(new) not in made and tuple(new.shape) != tuple(old.shape):
            from .views import chain
            if chain(b, new.id, old.id) is not None:  # g(t) of a function writing s.unsqueeze_(0): the shape alone,
                made[id(new)] = new  # recorded (exact, as _AS_RECORDED's)
            else:
                raise JacValueError(f"this write under torch.no_grad() changes both the shape of '{n}' (from "
                                    f"{tuple(old.shape)} to {tuple(new.shape)}) and its values, which jac does not "
                                    f"follow as PyTorch leaves it; write the shape change outside the no_grad block "
                                    f"({n} = {n}.unsqueeze(0), ...)", position)
        if id(new) not in made:
            kept = b.apply("straight_through", b.apply("detach", new, position=position), old, position=position)
            made[id(new)] = b.name(kept, n)
        p.scope[n] = made[id(new)]
        p.memory.rebind(n, made[id(new)])
        if p.sharing and p.sharing[-1][4].get(n) is new:  # a caller's name a call writes into (written_outside)
            p.sharing[-1][4][n] = made[id(new)]
    return made


def _kept_family(p, before: dict, position: int, only, made: dict) -> set:
    """The names viewing one buffer that the statement wrote (lang/views.py's family, still one after the write:
    ``g(t)`` of a function writing its argument, ``t[0], t[1] = ...``, beside ``v = t[1:3]`` or ``v = t.detach()``),
    kept one family (session 54): the buffer's new root with the old root's derivative (``straight_through``, as
    :func:`statement`'s hidden ``t.detach()`` leaves it) and each name's view replayed on it, so a later write into
    any of them is followed too. Each name must have been a view of the old root by the same ops; else none (the
    names one by one, :func:`_kept_history`). Fills ``made`` (id(new tracer) -> the tracer made of it); returns the
    names bound."""
    from . import views
    b = p.b
    for n, new in list(p.scope.items()):
        old = before.get(n)
        if new is old or type(new) is not Tracer or type(old) is not Tracer or only is not None and n not in only:
            continue
        found = p.view_family(n)
        if found is None or len(found.paths) < 2 or found.stale:
            return set()
        old_root = views.root_of(b, old.id, frozenset(v.id for v in before.values() if type(v) is Tracer))
        if b.nodes[old_root].shape != b.nodes[found.root].shape:
            return set()
        values, keyed = {}, {(): None}
        for m, path in found.paths.items():
            held = before.get(m)
            if p.scope[m] is held or type(held) is not Tracer and not any(
                    p.scope[m] is p.scope[k] and type(before.get(k)) is Tracer for k in found.paths):
                return set()  # a name the write did not rebind, or a new name holding no written one
            if type(held) is Tracer:
                was = views.chain(b, held.id, old_root)
                if was is None or [(v.op, v.params) for v in was] != [(v.op, v.params) for v in path]:
                    return set()
        root = b.apply("straight_through", b.apply("detach", b.tracer_of(found.root), position=position),
                       b.tracer_of(old_root), position=position)
        keyed[()] = root
        for m, path in found.paths.items():
            values[m] = views._replayed(b, path, keyed, position)
            made[id(p.scope[m])] = values[m]
        p.bind_written(n, p.scope[n], found, root, values, held_now=True)
        for m in found.paths:
            if p.sharing and p.sharing[-1][4].get(m) is not None:  # a caller's name (written_outside)
                p.sharing[-1][4][m] = p.scope[m]
        return set(found.paths)
    return set()


def _root_name(node: ast.expr) -> str | None:
    """The name a chain of views written in the text is taken of, or None."""
    while True:
        if type(node) is ast.Subscript or type(node) is ast.Attribute and node.attr in _VIEW_ATTRIBUTES | {"data"}:
            node = node.value
        elif type(node) is ast.Call and type(node.func) is ast.Attribute and node.func.attr in _VIEW_METHODS:
            node = node.func.value
        else:
            return node.id if type(node) is ast.Name else None


def _renamed(p, start: int, spelled: str, name: str, data: bool, shown: str | None) -> None:
    """The savers the write made stale (ir/saved.py's version check): named by the text's name; a ``.data`` write's
    refused in its own words (PyTorch bumps no version there: its backward reads the new values silently)."""
    stale = p.b.stale
    if not stale:
        return
    for k in range(start, len(stale)):
        saver, who, what, position, op, result = stale[k][:6]
        who, what = who.replace(_HIDDEN, name), shown or what.replace(_HIDDEN, spelled)
        if data and what.startswith(name) and not what.startswith(spelled):  # y.mul_(...) of y.data.mul_(2)
            what = spelled + what[len(name):]
        if data:
            kept = "its result" if result else "its argument"
            method = what.split(".data.", 1)[1] if ".data." in what else "copy_(...)"
            stale[k] = (saver, who, what, position, op, result,
                        _DATA_BUMP.format(what=what, op=op, name=who, kept=kept, method=method))
        else:
            stale[k] = (saver, who, what, position, op, result)


def _track(p, before: dict, position: int) -> None:
    """Remember each name the write rebound (the written one, its aliases and views), so that the end of a
    ``no_grad`` block keeps its history (:func:`kept`); refuse a name that did not require grad and now would (a
    view through the text's own ``.detach()`` written with a value that requires grad: PyTorch records nothing)."""
    nodes = p.b.nodes
    for n, new in list(p.scope.items()):
        old = before.get(n)
        if new is old or type(new) is not Tracer or type(old) is not Tracer:
            continue
        if nodes[new.id].requires_grad and not nodes[old.id].requires_grad:
            raise JacValueError(f"'{n}' did not require grad, and this write under torch.no_grad() (which PyTorch "
                                f"does not record) would give it a derivative in jac's lowering: write into a copy "
                                f"({n} = {n}.clone()) or compute the values as an array of their own", position)
        p.nograd_writes[id(new)] = (new, old)


def kept(p, name: str, value, before: dict) -> bool:
    """Does ``name``, bound to ``value`` at the end of a ``no_grad`` block, hold what in-place writes inside made of the
    tensor it held before the block (its history kept, as PyTorch's), rather than an array the block assigned?"""
    writes, held = p.nograd_writes, {id(v) for v in before.values()}  # u = t inside: PyTorch's u is t itself
    while id(value) not in held:
        step = writes.get(id(value))
        if step is None or step[0] is not value:
            return False
        value = step[1]
    return True
