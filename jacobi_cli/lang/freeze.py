"""A leaf the text makes that stops (or starts again) requiring a gradient before its first use:
``fc.weight.requires_grad_(False)``, ``for p in model.backbone.parameters(): p.requires_grad = False``,
``model.encoder.requires_grad_(False)``, ``w.detach_()``; then ``for p in model.head.parameters(): p.requires_grad =
True``, fine-tuning's usual pair.

A parameter jac makes (a layer's ``fc.weight``, a leaf ``w = torch.randn(3, requires_grad=True)``) is an input of the
graph (:meth:`~jacobi_cli.lang.parser._Lowering.new_input`). Frozen, it is what PyTorch then holds: a tensor that needs
no gradient, so a constant of the graph at the same values; jac prints no Jacobian for it, as ``x.grad`` stays None,
and ``--wrt`` cannot name it. The graph's node is changed in place (an input becomes a constant of its values, and
back), so every reference to the parameter (a layer's, a list's, a loop's) sees the change. That is PyTorch's answer
only while nothing has read the parameter yet: a computation made before the switch would keep the old flag in
PyTorch's graph, so a switch after a read is refused, as lang/setparams.py refuses a write after a read.
"""

from __future__ import annotations

import ast
from types import MappingProxyType

import numpy as np

from ..errors import JacError, JacNameError, JacValueError
from ..ir.graph import Tracer
from ..ir.ops import OPS
from .modules import named_parameters


def statement(p, stmt: ast.stmt) -> bool:
    """Switch the flag ``stmt`` sets (``X.requires_grad_(False)``, ``X.requires_grad = False``, ``X.detach_()``,
    and ``True`` back for a frozen one) of a leaf the text made and say True; False for a statement of another kind
    (the parser goes on with it)."""
    found = _switch(stmt)
    if found is None:
        return False
    target, on, what = found
    value = _reference(p, target)
    if type(value) is not Tracer:
        if hasattr(value, "own_parameters") and what.endswith(f".requires_grad_({on})"):  # named_parameters' kind
            module(p, value, [on], {}, p.source.at(stmt))  # model[0].requires_grad_(False): its parameters
            return True
        return False
    name = leaf_name(p, value)
    if name is None:
        refuse_bound(p, stmt)
        if not on and not p.b.nodes[value.id].requires_grad and p.b.nodes[value.id].op == "const":
            return True  # bn.running_mean.requires_grad_(False), a constant's: PyTorch changes nothing
        if not on and not what.endswith("detach_()") and p.b.nodes[value.id].requires_grad:
            raise JacValueError(f"{what}: {ast.unparse(target)} is computed from the inputs, no leaf; PyTorch says: "
                                f"you can only change requires_grad flags of leaf variables. If you want to use a "
                                f"computed variable in a subgraph that doesn't require differentiation use "
                                f"var_no_grad = var.detach()", p.source.at(stmt))
        return False
    switch(p, name, value, on, what, p.source.at(stmt))
    return True


def refuse_bound(p, stmt: ast.stmt) -> None:
    """Refuse ``x.requires_grad_(False)`` (``x.requires_grad = False``, ``x.detach_()``) of an input bound on the
    command line, saying how to leave it out of the derivatives."""
    found = _switch(stmt)
    if found is None or found[1] or type(found[0]) is not ast.Name:
        return
    value = p.scope.get(found[0].id)
    node = p.b.nodes[value.id] if type(value) is Tracer else None
    if node is not None and node.op == "input" and not (p.declared and node.name in p.declared):
        names = [n for n in p.b.inputs if n != node.name]
        hint = f"to leave it out of the derivatives, name the others: --wrt {' --wrt '.join(names)}" if names \
            else "it is the only input, and nothing would be left to differentiate: delete the line"
        raise JacValueError(f"{found[2]}: '{node.name}' is bound on the command line, an input jac differentiates "
                            f"by default; {hint}", p.source.at(stmt))


def module(p, owner, args: list, kwargs: dict, position: int) -> None:
    """``model.requires_grad_(requires_grad=True)``: every parameter of the module (PyTorch's
    ``Module.requires_grad_``) switched."""
    given = {**dict(zip(("requires_grad",), args)), **kwargs}
    if len(args) > 1 or set(kwargs) - {"requires_grad"} or len(given) < len(args) + len(kwargs):
        raise JacValueError(".requires_grad_() of a module takes one argument, requires_grad (True or False)",
                            position)
    on = given.get("requires_grad", True)
    if type(on) is not bool:
        raise JacValueError(".requires_grad_(requires_grad) of a module: requires_grad must be True or False",
                            position)
    for name, tracer in named_parameters(owner):
        leaf = leaf_name(p, tracer)
        if leaf is not None:
            switch(p, leaf, tracer, on, f"{owner_label(owner)}.requires_grad_({on})", position)


def owner_label(owner) -> str:
    prefix = getattr(owner, "prefix", None)
    return prefix if prefix else "the module"


def switch(p, name: str, tracer: Tracer, on: bool, what: str, position) -> None:
    """Make the leaf ``name`` (whose node is ``tracer``'s) an input (``on``) or a constant of its values."""
    frozen = p.frozen or {}
    if on == (name not in frozen):  # as it is already: requires_grad_() of a leaf, False of a frozen one
        return
    _unread(p, name, tracer, what, position)
    b = p.b
    if not on:
        value = p.declared.pop(name)
        if p.values is not None and name in p.values:
            p.values = {k: v for k, v in p.values.items() if k != name}
        b.switch_leaf(tracer.id, None, value)
        if p.memory.tokens.get(name) == frozenset((("input", name),)):  # w: a tensor of its own, no input now
            p.memory.tokens[name] = p.memory.by_node[tracer.id] = frozenset((object(),))
        _keep(p, {**frozen, name: value})
        return
    value = frozen[name]
    made_again(p, name)
    b.switch_leaf(tracer.id, name)
    if name in p.memory.tokens:
        p.memory.input(name, tracer)
    p.declared[name] = value
    ordered = sorted(p.declared.items(), key=lambda item: p.leaves[item[0]].id)  # the parse's Made holds this dict
    p.declared.clear()
    p.declared.update(ordered)
    if p.values is not None:
        p.values = {**p.values, name: value}


def made_again(p, name: str) -> None:
    """``name``, frozen, is made an input anew (``w.requires_grad_()`` after a read of the frozen ``w``: PyTorch's
    leaf from here on; the parser's ``declare_marked``): no longer a frozen leaf."""
    if p.frozen and name in p.frozen:
        _keep(p, {k: v for k, v in p.frozen.items() if k != name})


def value_of(p, name: str) -> np.ndarray | None:
    """The values of ``name``, a leaf the text made, frozen or not (None for another name)."""
    if p.declared and name in p.declared:
        return p.declared[name]
    return (p.frozen or {}).get(name)


def set_frozen(p, name: str, tracer: Tracer, value: np.ndarray) -> None:
    """New values of the frozen leaf ``name`` (a write lang/setparams.py read): its constant's."""
    p.b.switch_leaf(tracer.id, None, value)
    _keep(p, {**p.frozen, name: value})


def _keep(p, frozen: dict) -> None:
    """The frozen leaves, name -> values, held by the lowering and the parse's :class:`Made`."""
    p.frozen = frozen
    if p.made is not None:
        p.made.frozen = MappingProxyType(frozen)


def _switch(stmt: ast.stmt):
    """(target, on, what) of ``T.requires_grad_(B)``, ``T.requires_grad = B`` or ``T.detach_()`` as a statement
    (B a literal True or False, or left out: True); else None."""
    if type(stmt) is ast.Expr and type(stmt.value) is ast.Call and type(stmt.value.func) is ast.Attribute:
        call, func = stmt.value, stmt.value.func
        if func.attr == "detach_" and not call.args and not call.keywords:
            return func.value, False, f"{ast.unparse(func.value)}.detach_()"
        if func.attr != "requires_grad_" or len(call.args) + len(call.keywords) > 1:
            return None
        given = call.args[0] if call.args else call.keywords[0].value if call.keywords else None
        if call.keywords and call.keywords[0].arg != "requires_grad":
            return None
        on = _literal(given)
        return None if on is None else (func.value, on, f"{ast.unparse(func.value)}.requires_grad_({on})")
    if type(stmt) is ast.Assign and len(stmt.targets) == 1 and type(stmt.targets[0]) is ast.Attribute \
            and stmt.targets[0].attr == "requires_grad":
        on = _literal(stmt.value)
        target = stmt.targets[0].value
        return None if on is None else (target, on, f"{ast.unparse(target)}.requires_grad = {on}")
    return None


def _literal(node) -> bool | None:
    if node is None:
        return True
    if type(node) is ast.Constant and type(node.value) is bool:
        return node.value
    return None


def _reference(p, target: ast.expr):
    """The value ``target`` names, if it is a :func:`reference` to a name in scope; else None (a statement the
    parser reads otherwise, and refuses there if it must)."""
    if not reference(target):
        return None
    node = target
    while type(node) is not ast.Name:
        node = node.value
    if node.id not in p.scope:
        return None
    try:
        return p.expression(target)
    except JacError:
        return None


def reference(node: ast.expr) -> bool:
    """Is ``node`` a reference that reading twice changes nothing (``w``, ``fc.weight``, ``model[0].weight``,
    ``self.layers[i].bias``): names, attributes and indices, no call?"""
    while True:
        if type(node) is ast.Name:
            return True
        if type(node) is ast.Attribute:
            node = node.value
        elif type(node) is ast.Subscript and type(node.slice) in (ast.Constant, ast.Name, ast.UnaryOp):
            node = node.value
        else:
            return False


def leaf_name(p, value: Tracer) -> str | None:
    """The name of the leaf the text made that ``value`` is (a parameter, ``w = torch.randn(3,
    requires_grad=True)``), frozen or not; else None."""
    for name, tracer in (p.leaves or {}).items():
        if tracer.id == value.id and (p.declared and name in p.declared or p.frozen and name in p.frozen):
            return name
    return None


def was_read(p, tracer: Tracer) -> bool:
    """Has a computation read the leaf ``tracer`` (an alias's ``name`` node is no read)?"""
    key = tracer.id
    return any(key in node.args and node.op != "name" for node in p.b.nodes[key + 1:])


def _unread(p, name: str, tracer: Tracer, what: str, position) -> None:
    """Refuse a switch after a computation read the leaf."""
    if was_read(p, tracer):
        raise JacValueError(f"{what}: '{name}' was read before (a layer called, or a computation with it): "
                            f"PyTorch's graph keeps the flag it had then; set requires_grad before the "
                            f"parameter's first use", position)


def flag(b, value: Tracer, attr: str) -> bool:
    """PyTorch's ``t.requires_grad`` (or ``t.is_leaf``) of ``value``: does an input reach it through ops that carry a
    gradient (a comparison's, an argmax's, a detached value's do not)? Every input counts, whatever ``--wrt`` says
    (the text's graph serves every wrt): a leaf the text froze is a constant and reaches nothing."""
    nodes, seen, todo = b.nodes, set(), [value.id]
    reached = False
    while todo and not reached:
        node = nodes[todo.pop()]
        if node.op == "input":
            reached = True
        elif node.id not in seen and not getattr(OPS.get(node.op), "nondiff", False):  # const, name: no op
            seen.add(node.id)
            todo.extend(node.args)
    if attr == "requires_grad":
        return reached
    return not reached or nodes[value.id].op == "input"  # PyTorch: a tensor needing no gradient is a leaf too


def refuse_wrt(frozen, wrt) -> None:
    """Refuse ``--wrt`` naming a leaf the text froze, in PyTorch's words."""
    for name in wrt or ():
        if isinstance(name, str) and name in frozen:
            raise JacNameError(f"--wrt {name}: the text sets {name}'s requires_grad to False, so it is a constant "
                               f"(PyTorch says: One of the differentiated Tensors does not require grad); drop "
                               f"--wrt {name} or the line that freezes it")
