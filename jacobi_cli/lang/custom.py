"""Derivative rules written by hand in the text, honoured: ``class F(torch.autograd.Function)`` with ``forward`` and
``backward`` (``F.apply(x)``), and ``jax.custom_vjp`` with ``f.defvjp(fwd, bwd)``.

The function's value is computed by ordinary nodes (``forward``, or ``f`` itself for JAX); each output becomes a
``custom`` node (:mod:`jacobi_cli.ir.custom`) of that value (detached), the differentiated arguments and the
residuals, whose rules apply the backward, lowered once into a sub-graph of its own (:func:`_backward`: the
parser's lowering swapped onto a builder of its own while it lowers the backward, as the text's derivatives pull
cotangents back on the graph being built). So every derivative jac computes (Jacobian, VJP, JVP, ``jac check``,
``--batch``, ``jax.grad(f)(x)`` written in the text) is the rule's.

Second order follows the library: PyTorch's double backward differentiates ``backward``'s ops, with a saved input
as itself, a saved output through the rule, and other saved tensors as the constants PyTorch's no-grad forward
made them; JAX's differentiates ``fwd``'s formula, which jac refuses (``custom_once``), as it refuses
``once_differentiable``.
"""

from __future__ import annotations

import ast
import re

import numpy as np
from dataclasses import dataclass, field

from ..errors import JacParseError, JacValueError
from ..ir.custom import Rule, linear_in_cotangents
from ..ir.graph import Builder, Tracer
from ..ir.shapes import fmt
from .functions import Items, Static, detached

_FUNCTION_BASES = ("torch.autograd.Function", "autograd.Function", "torch.autograd.function.Function")
_ONCE = ("once_differentiable", "torch.autograd.function.once_differentiable", "function.once_differentiable")
_JAX_RULES = {"jax.custom_vjp": "custom_vjp", "jax.custom_jvp": "custom_jvp"}
_IMPORTED = re.compile(r"from\s+jax\s+import\s+[^\n]*\b(custom_vjp|custom_jvp)\b")
_TORCH_IMPORTED = re.compile(r"from\s+torch\.autograd\s+import\s+[^\n]*\bFunction\b")


@dataclass(eq=False)
class FunctionClass:
    """``class NAME(torch.autograd.Function)``: its static methods."""

    name: str
    methods: dict  # name -> the parser's Function
    once: bool  # backward decorated @once_differentiable
    vmappable: bool = False  # generate_vmap_rule = True


@dataclass(eq=False)
class Apply:
    """``F.apply`` as a value (``f = F.apply``)."""

    cls: FunctionClass


@dataclass(eq=False)
class Ctx:
    """The ``ctx`` a ``forward`` / ``setup_context`` writes and ``backward`` reads."""

    needs_input_grad: tuple
    saved: tuple | None = None
    attributes: dict = field(default_factory=dict)
    non_differentiable: list = field(default_factory=list)
    materialize: bool = True


@dataclass(eq=False)
class CustomVJP:
    """``jax.custom_vjp(f, nondiff_argnums=...)``: ``f`` and, once ``f.defvjp(fwd, bwd)`` ran, its rule."""

    fn: object
    name: str
    nondiff: tuple = ()
    fwd: object = None
    bwd: object = None
    lowering_fwd: bool = False  # its fwd is being lowered: a call of f inside it is f's primal (as JAX's)


@dataclass(eq=False)
class CustomJVP:
    """``jax.custom_jvp(f, nondiff_argnums=...)``: ``f`` and, once ``@f.defjvp`` / ``f.defjvps(...)`` ran, its rule
    (``jvp``: one function of ``(primals, tangents)``; ``jvps``: one function of ``(t, ans, *primals)`` per
    argument, None where the argument's tangent adds nothing)."""

    fn: object
    name: str
    nondiff: tuple = ()
    jvp: object = None
    jvps: tuple | None = None
    lowering_rule: bool = False  # its rule is being lowered: a call of f inside it is f's primal (as JAX's)


VALUES = (FunctionClass, Apply, Ctx, CustomVJP, CustomJVP)
# the imports of what this module reads, which the parser's import check lets through
IMPORTS = frozenset({"torch.autograd.Function", "torch.autograd.function.Function", "jax.custom_vjp", "jax.custom_jvp",
                     "torch.autograd.function.once_differentiable"})
CALLABLE = (Apply, CustomVJP, CustomJVP)


# --- reading the text ----------------------------------------------------------------------------------

def is_function_class(lowering, stmt: ast.stmt) -> bool:
    if not isinstance(stmt, ast.ClassDef) or len(stmt.bases) != 1:
        return False
    path = _dotted(stmt.bases[0])
    return path in _FUNCTION_BASES or path == "Function" and "Function" not in lowering.scope \
        and _TORCH_IMPORTED.search(lowering.source.body) is not None


def declare_class(lowering, stmt: ast.stmt) -> bool:
    """``class F(torch.autograd.Function)`` with static ``forward`` / ``backward`` (``setup_context``,
    ``vjp`` for ``backward``): a :class:`FunctionClass`. False for any other statement."""
    if not is_function_class(lowering, stmt):
        return False
    position = lowering.source.at(stmt)
    if stmt.keywords or stmt.decorator_list:
        raise JacParseError(f"class {stmt.name}: jac reads a torch.autograd.Function subclass without decorators "
                            f"or keywords", position)
    methods, once, vmappable = {}, False, False
    for item in stmt.body:
        if isinstance(item, ast.Expr) and isinstance(item.value, ast.Constant) or isinstance(item, ast.Pass):
            continue
        if isinstance(item, ast.Assign) and all(isinstance(t, ast.Name) for t in item.targets) \
                and isinstance(item.value, ast.Constant) and [t.id for t in item.targets] == ["generate_vmap_rule"]:
            vmappable = item.value.value is True
            continue
        if not isinstance(item, ast.FunctionDef):
            raise JacParseError(f"in class {stmt.name}(torch.autograd.Function), jac reads static methods (forward, "
                                f"backward, setup_context): {ast.unparse(item).splitlines()[0]} is not one",
                                lowering.source.at(item))
        names = [_dotted(d) for d in item.decorator_list]
        if "staticmethod" not in names or any(n not in ("staticmethod",) + _ONCE for n in names):
            raise JacParseError(f"{stmt.name}.{item.name}: jac reads @staticmethod methods (and "
                                f"@once_differentiable on backward), as PyTorch requires", lowering.source.at(item))
        kind = "backward" if item.name == "vjp" else item.name
        if kind not in ("forward", "backward", "setup_context"):
            what = "its jvp (forward-mode) rule, which jac does not read: jac's every derivative is the backward's" \
                if item.name == "jvp" else f"the method {item.name}"
            raise JacParseError(f"{stmt.name}.{item.name}: {what}; write the class with forward and backward only",
                                lowering.source.at(item))
        if any(n in _ONCE for n in names):
            if kind != "backward":
                raise JacParseError(f"@once_differentiable on {stmt.name}.{item.name}: PyTorch's decorator is for "
                                    f"backward", lowering.source.at(item))
            once = True
        methods[kind] = lowering.define(item, returns=kind != "setup_context")
    for needed in ("forward", "backward"):
        if needed not in methods:
            raise JacParseError(f"class {stmt.name}(torch.autograd.Function) has no {needed} static method",
                                position)
    lowering.scope[stmt.name] = FunctionClass(stmt.name, methods, once, vmappable)
    return True


def spelling(lowering, func: ast.expr) -> str | None:
    """``jax.custom_vjp`` (or ``custom_vjp`` imported from jax) as written, else None."""
    path = _dotted(func)
    if path is None or path.split(".")[0] in lowering.scope:
        return None
    if path in _JAX_RULES:
        return path
    if path in ("custom_vjp", "custom_jvp") and any(m.group(1) == path for m in _IMPORTED.finditer(lowering.source.body)):
        return "jax." + path
    return None


def make_vjp(lowering, args: list, kwargs: dict, position: int, text: str) -> CustomVJP:
    """``jax.custom_vjp(f)`` / ``jax.custom_vjp(f, nondiff_argnums=(0,))``."""
    if len(args) != 1 or set(kwargs) - {"nondiff_argnums"}:
        raise JacValueError(f"{text}(f, nondiff_argnums=()): jac reads the function and nondiff_argnums", position)
    fn = args[0]
    if not lowering.is_callable(fn):
        raise JacValueError(f"{text}(f): f must be a function of the text", position)
    nondiff = _ints(lowering, kwargs.get("nondiff_argnums", ()), "nondiff_argnums", position)
    made = CustomJVP if text.endswith("custom_jvp") else CustomVJP
    return made(fn, getattr(fn, "name", "f"), nondiff)


def decorator(lowering, node: ast.expr, name: str, value, position: int):
    """``@jax.custom_vjp`` / ``@partial(jax.custom_vjp, nondiff_argnums=...)`` on ``def name`` (and the custom_jvp
    spellings), or ``@f.defjvp`` of a custom_jvp ``f`` (the rule set, the function itself the value), or None."""
    if isinstance(node, ast.Attribute) and node.attr == "defjvp" and isinstance(node.value, ast.Name) \
            and isinstance(lowering.scope.get(node.value.id), CustomJVP):
        lowering.scope[node.value.id].jvp = value
        return value
    keywords = []
    if isinstance(node, ast.Call) and _dotted(node.func) in ("partial", "functools.partial") and node.args:
        keywords, node = node.keywords, node.args[0]
        if len(keywords) != sum(1 for _ in keywords):
            return None
    text = spelling(lowering, node)
    if text is None:
        return None
    kwargs = {k.arg: lowering.expression(k.value) for k in keywords}
    return make_vjp(lowering, [value], kwargs, position, text)


def attribute(lowering, value, attr: str, position: int):
    """``ctx.saved_tensors``, ``ctx.k``, ``ctx.needs_input_grad``, ``F.apply``, ``f.defvjp``."""
    if isinstance(value, FunctionClass):
        if attr == "apply":
            return Apply(value)
        raise JacValueError(f"{value.name}.{attr}: jac reads {value.name}.apply(...) of a torch.autograd.Function",
                            position)
    if isinstance(value, Ctx):
        if attr in ("saved_tensors", "saved_variables"):
            if value.saved is None:
                raise JacValueError("ctx.saved_tensors read, but forward saved nothing (ctx.save_for_backward(...))",
                                    position)
            return Items(value.saved)
        if attr == "needs_input_grad":
            return Items(value.needs_input_grad)  # indexed as a tuple is: ctx.needs_input_grad[0]
        if attr in value.attributes:
            return value.attributes[attr]
        raise JacValueError(f"ctx.{attr} is not set (forward sets it: ctx.{attr} = ...)", position)
    raise JacValueError(f"{value.name}.{attr}: jac reads {value.name}.defvjp(fwd, bwd) of a jax.custom_vjp function",
                        position)


def statement(lowering, stmt: ast.stmt) -> bool:
    """The statements of a rule: ``ctx.save_for_backward(a, b)``, ``ctx.k = v``, ``ctx.mark_non_differentiable(y)``,
    ``ctx.set_materialize_grads(False)``, ``f.defvjp(fwd, bwd)``. False for any other statement."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Attribute) \
            and isinstance(stmt.targets[0].value, ast.Name) \
            and isinstance(lowering.scope.get(stmt.targets[0].value.id), Ctx):
        ctx = lowering.scope[stmt.targets[0].value.id]
        ctx.attributes[stmt.targets[0].attr] = lowering.expression(stmt.value)
        return True
    if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
            and isinstance(stmt.value.func, ast.Attribute) and isinstance(stmt.value.func.value, ast.Name)):
        return False
    owner = lowering.scope.get(stmt.value.func.value.id)
    if not isinstance(owner, (Ctx, CustomVJP, CustomJVP)):
        return False
    call, method = stmt.value, stmt.value.func.attr
    position = lowering.source.end(call.func) - len(method)
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        raise JacParseError(f"{ast.unparse(call.func)}(...) with * or ** is not supported", position)
    args = [lowering.expression(a) for a in call.args]
    kwargs = {k.arg: lowering.expression(k.value) for k in call.keywords}
    if isinstance(owner, CustomJVP):
        if method == "defjvp" and len(args) == 1 and not kwargs and lowering.is_callable(args[0]):
            owner.jvp = args[0]
            return True
        if method != "defjvps" or kwargs or not all(a is None or lowering.is_callable(a) for a in args):
            raise JacValueError(f"{ast.unparse(call.func)}: jac reads f.defjvp(jvp) and f.defjvps(jvp_0, ...) of a "
                                f"jax.custom_jvp function", position)
        owner.jvps = tuple(args)
        return True
    if isinstance(owner, CustomVJP):
        if method != "defvjp" or len(args) + len(kwargs) < 2 or set(kwargs) - {"fwd", "bwd"} \
                or len(args) > 2 or kwargs.get("symbolic_zeros") is not None:
            raise JacValueError(f"{ast.unparse(call.func)}: jac reads f.defvjp(fwd, bwd) of a jax.custom_vjp "
                                f"function", position)
        given = dict(zip(("fwd", "bwd"), args)) | kwargs
        for key in ("fwd", "bwd"):
            if not lowering.is_callable(given.get(key)):
                raise JacValueError(f"f.defvjp(fwd, bwd): {key} must be a function of the text", position)
        owner.fwd, owner.bwd = given["fwd"], given["bwd"]
        return True
    if method == "save_for_backward":
        if kwargs or not all(a is None or type(a) is Tracer for a in args):
            raise JacValueError("ctx.save_for_backward(...) takes tensors (or None), as PyTorch", position)
        owner.saved = tuple(args)
        return True
    if method == "mark_non_differentiable":
        owner.non_differentiable.extend(a for a in args if type(a) is Tracer)
        return True
    if method == "set_materialize_grads":
        if len(args) != 1 or not isinstance(args[0], bool) and not _python_bool(lowering, args[0]):
            raise JacValueError("ctx.set_materialize_grads(value): jac reads True or False", position)
        owner.materialize = bool(_python_bool(lowering, args[0]))
        return True
    raise JacValueError(f"ctx.{method}(...) is not read: jac reads ctx.save_for_backward, ctx.saved_tensors, "
                        f"attributes set on ctx, ctx.needs_input_grad, ctx.mark_non_differentiable and "
                        f"ctx.set_materialize_grads", position)


# --- calling ---------------------------------------------------------------------------------------------

def call(lowering, fn, args: list, kwargs: dict, position: int):
    """``F.apply(*args)`` or ``f(*args)`` of a ``jax.custom_vjp`` function."""
    if isinstance(fn, Apply):
        return _apply(lowering, fn.cls, args, kwargs, position)
    if isinstance(fn, CustomJVP):
        return _call_jvp(lowering, fn, args, kwargs, position)
    return _call_vjp(lowering, fn, args, kwargs, position)


def _apply(lowering, cls: FunctionClass, args: list, kwargs: dict, position: int):
    if kwargs:
        raise JacValueError(f"{cls.name}.apply() takes no keyword arguments (PyTorch: 'apply' passes its arguments "
                            f"to forward by position)", position)
    for a in args:
        if isinstance(a, (Items, list)) and any(type(v) is Tracer for v in a):
            raise JacValueError(f"{cls.name}.apply(...): a list of tensors is no tensor to PyTorch (its gradient "
                                f"is not computed): pass each tensor as an argument", position)
    b = lowering.b
    ctx = Ctx(tuple(type(a) is Tracer and b.nodes[a.id].requires_grad for a in args))
    forward, setup = cls.methods["forward"], cls.methods.get("setup_context")
    lowering.grad_off += 1  # PyTorch runs forward with gradients off
    try:
        if setup is None:
            out = lowering.call_function(forward, [ctx] + list(args), {}, position)
        else:
            out = lowering.call_function(forward, list(args), {}, position)
            lowering.call_function(setup, [ctx, _tuple(args), out], {}, position)
    finally:
        lowering.grad_off -= 1
    outputs = _outputs(out, f"{cls.name}.forward", position)
    if not ctx.materialize and len(outputs) > 1:
        raise JacValueError(f"{cls.name}: ctx.set_materialize_grads(False) with several outputs (backward then "
                            f"gets None for an unused output's gradient) is not supported; leave it out", position)
    # the tensors that require grad: PyTorch drops what backward returns for any other (a constant, 3.0)
    primals = [i for i, a in enumerate(args) if type(a) is Tracer and b.nodes[a.id].requires_grad]
    ids = {a.id: i for i, a in enumerate(args) if type(a) is Tracer}
    out_ids = {o.id: k for k, o in enumerate(outputs)}
    residuals = _tracers([ctx.saved, ctx.attributes])
    # PyTorch's double backward: a saved input is itself, a saved output goes through the rule, any other saved
    # tensor is the constant the no-grad forward made
    kinds = []
    for r in residuals:
        if r.id in ids:
            kinds.append(("arg", r))
        elif r.id in out_ids:
            kinds.append(("ans", out_ids[r.id]))
        else:
            kinds.append(("arg", detached(b, r, position)))

    def backward(sub_lowering, residual_inputs, cotangents):
        mapping = {r.id: s for r, s in zip(residuals, residual_inputs)}
        inner = Ctx(ctx.needs_input_grad, _swapped(ctx.saved, mapping),
                    {k: _swapped(v, mapping) for k, v in ctx.attributes.items()}, [], ctx.materialize)
        result = sub_lowering.call_function(cls.methods["backward"], [inner] + list(cotangents), {}, position)
        results = list(result) if isinstance(result, (Items, tuple)) else [result]
        if len(results) != len(args) and not (len(results) > len(args) and all(r is None
                                                                                 for r in results[len(args):])):
            raise JacValueError(f"function {cls.name}Backward returned an incorrect number of gradients (expected "
                                f"{len(args)}, got {len(results)}): backward returns one per argument of forward "
                                f"(None for one that is no tensor)", position)
        for i, (a, r) in enumerate(zip(args, results)):
            if type(a) is not Tracer and r is not None:
                raise JacValueError(f"function {cls.name}Backward returned a gradient different than None at "
                                    f"position {i + 1}, but the corresponding forward input was not a tensor",
                                    position)
        return [results[i] for i in primals], f"function {cls.name}Backward returned an invalid gradient at index"

    non_diff = {t.id for t in ctx.non_differentiable}
    return _custom_nodes(lowering, cls.name, "torch", [args[i] for i in primals], outputs, kinds, backward,
                         cls.once, non_diff, position, out, ("setup_context" in cls.methods, cls.vmappable))


def _nondiff(fn, args: list, kwargs: dict, kind: str, position: int) -> set:
    """The positions of a ``jax.custom_vjp`` / ``custom_jvp`` call's ``nondiff_argnums`` (checked as JAX checks
    them), of a call by position (the only one jac reads)."""
    if kwargs:
        raise JacValueError(f"{fn.name}(): jac reads a jax.custom_{kind} function called with its arguments by "
                            f"position", position)
    for n in fn.nondiff:
        if not -len(args) <= n < len(args):
            raise JacValueError(f"nondiff_argnums {n} is out of range for {len(args)} arguments", position)
    return {n % len(args) for n in fn.nondiff}


def _call_vjp(lowering, fn: CustomVJP, args: list, kwargs: dict, position: int):
    if fn.fwd is None:
        raise JacValueError(f"{fn.name}() is a jax.custom_vjp function without its rule: call {fn.name}.defvjp(fwd, "
                            f"bwd) before calling it", position)
    nondiff = _nondiff(fn, args, kwargs, "vjp", position)
    value = lowering.call_value(fn.fn, list(args), {}, position)
    if fn.lowering_fwd:  # f called inside its own fwd: the primal, whose value is all the fwd's output gives
        return value
    fn.lowering_fwd = True
    try:
        both = lowering.call_value(fn.fwd, list(args), {}, position)
    finally:
        fn.lowering_fwd = False
    if not (isinstance(both, (Items, tuple)) and len(both) == 2):
        raise JacValueError(f"the fwd of {fn.name} must return a pair (output, residuals), as JAX's custom_vjp "
                            f"requires", position)
    outputs = _outputs(value, fn.name, position)
    fwd_out = _outputs(both[0], f"the fwd of {fn.name}", position)
    if [o.shape for o in fwd_out] != [o.shape for o in outputs]:
        raise JacValueError(f"the fwd of {fn.name} returns outputs of shapes "
                            f"{', '.join(fmt(o.shape) for o in fwd_out)}, {fn.name} of "
                            f"{', '.join(fmt(o.shape) for o in outputs)}: JAX requires them equal", position)
    res = both[1]
    residuals = _tracers([res, [args[i] for i in sorted(nondiff)]])  # nondiff arrays reach bwd as residuals
    kinds = [("arg", r) for r in residuals]
    diff = [i for i in range(len(args)) if i not in nondiff]
    _refuse_tree_arguments(lowering, fn.name, "vjp", args, diff, position)
    primals = [i for i in diff if type(args[i]) is Tracer]
    several = isinstance(value, (Items, tuple))

    def backward(sub_lowering, residual_inputs, cotangents):
        mapping = {r.id: s for r, s in zip(residuals, residual_inputs)}
        g = Items(cotangents) if several else cotangents[0]
        given = [_swapped(args[i], mapping) for i in sorted(nondiff)] + [_swapped(res, mapping), g]
        result = sub_lowering.call_value(fn.bwd, given, {}, position)
        if not isinstance(result, (Items, tuple)):
            raise JacValueError(f"the bwd of {fn.name} must return a tuple (one cotangent per differentiated "
                                f"argument), as JAX's custom_vjp requires: write 'return (ct,)'", position)
        if len(result) != len(diff):
            raise JacValueError(f"the bwd of {fn.name} returns {len(result)} cotangents for {len(diff)} "
                                f"differentiated arguments: JAX requires one per argument not in nondiff_argnums",
                                position)
        by = dict(zip(diff, result))
        return [by[i] for i in primals], f"the bwd of {fn.name} returned an invalid cotangent at index"

    return _custom_nodes(lowering, fn.name, "jax", [args[i] for i in primals], outputs, kinds, backward, True,
                         set(), position, value)


def _call_jvp(lowering, fn: CustomJVP, args: list, kwargs: dict, position: int):
    """``f(*args)`` of a ``jax.custom_jvp`` function: its value, and ``custom`` nodes whose rules push tangents
    through its jvp (lowered into a sub-graph as a backward is) and pull cotangents back through its transpose."""
    if fn.jvp is None and fn.jvps is None:
        raise JacValueError(f"{fn.name}() is a jax.custom_jvp function without its rule: define it with "
                            f"@{fn.name}.defjvp (or {fn.name}.defjvps(...)) before calling it", position)
    nondiff = _nondiff(fn, args, kwargs, "jvp", position)
    value = lowering.call_value(fn.fn, list(args), {}, position)
    if fn.lowering_rule:  # f called inside its own rule: the primal
        return value
    outputs = _outputs(value, fn.name, position)
    diff = [i for i in range(len(args)) if i not in nondiff]
    _refuse_tree_arguments(lowering, fn.name, "jvp", args, diff, position)
    if fn.jvps is not None and len(fn.jvps) != len(diff):
        raise JacValueError(f"{fn.name}.defjvps(...) gives {len(fn.jvps)} functions for {len(diff)} differentiated "
                            f"arguments: JAX requires one per argument (None for one that adds nothing)", position)
    primals = [i for i in diff if type(args[i]) is Tracer]
    residuals = _tracers([list(args)] + ([outputs] if fn.jvps is not None else []))
    kinds = [("arg", r) for r in residuals]
    several = isinstance(value, (Items, tuple))

    def rule(sub_lowering, residual_inputs, tangents):
        mapping = {r.id: s for r, s in zip(residuals, residual_inputs)}
        moved = [_swapped(a, mapping) for a in args]
        by = dict(zip(primals, tangents))
        zero = [by.get(i) if i in by else sub_lowering.b.const(0.0, position) for i in diff]
        fn.lowering_rule = True
        try:
            if fn.jvp is not None:
                given = [moved[i] for i in sorted(nondiff)] + [_tuple([moved[i] for i in diff]), _tuple(zero)]
                pair = sub_lowering.call_value(fn.jvp, given, {}, position)
                if not (isinstance(pair, (Items, tuple)) and len(pair) == 2):
                    raise JacValueError(f"the jvp rule of {fn.name} must return a pair (primal_out, tangent_out), as "
                                        f"JAX requires", position)
                tangent = pair[1]
            else:
                ans = _swapped(Items(outputs) if several else outputs[0], mapping)
                tangent = None
                for i, jvp_i, t in zip(diff, fn.jvps, zero):
                    if jvp_i is None:
                        continue
                    part = sub_lowering.call_value(jvp_i, [t, ans] + [moved[k] for k in diff], {}, position)
                    tangent = part if tangent is None else _added(sub_lowering, tangent, part, position)
                if tangent is None:
                    tangent = Items([sub_lowering.b.const(0.0, position)] * len(outputs)) if several else \
                        sub_lowering.b.const(0.0, position)
        finally:
            fn.lowering_rule = False
        found = list(tangent) if several and isinstance(tangent, (Items, tuple)) else [tangent]
        if len(found) != len(outputs):
            raise JacValueError(f"the jvp rule of {fn.name} returns {len(found)} tangents for {len(outputs)} outputs",
                                position)
        return found, f"the jvp rule of {fn.name} returned an invalid tangent for output"

    return _custom_nodes(lowering, fn.name, "jax", [args[i] for i in primals], outputs, kinds, rule, True, set(),
                         position, value, kind="jvp")


def _refuse_tree_arguments(lowering, name: str, kind: str, args: list, diff: list, position: int) -> None:
    """Refuse a differentiated argument of a ``jax.custom_vjp`` / ``custom_jvp`` function that is a pytree holding
    arrays computed from the inputs (a dict, tuple or list of them): jac's rule takes arrays, and such an argument
    would carry no derivative (its derivative was silently 0 before session 36); one of constants carries none."""
    for i in diff:
        if type(args[i]) is not Tracer and any(lowering.b.nodes[t.id].op != "const" for t in _tracers([args[i]])):
            raise JacValueError(f"{name}(): argument {i} is a pytree (a dict, tuple or list of arrays); jac reads a "
                                f"jax.custom_{kind} function of arrays only: pass the arrays as arguments of their own "
                                f"(f(d['a'], d['b'])), or mark the argument in nondiff_argnums if no derivative flows "
                                f"through it", position)


def _added(lowering, a, b, position):
    if isinstance(a, (Items, tuple)):
        return Items(lowering.b.apply("add", x, y, position=position) for x, y in zip(a, b))
    return lowering.b.apply("add", a, b, position=position)


def _custom_nodes(lowering, name, library, primals, outputs, kinds, backward, once, non_diff, position, out,
                  functorch=(False, False), kind="vjp"):
    """One ``custom`` node per output (those marked non-differentiable: the value, detached), the backward lowered
    into a sub-graph of its own."""
    b = lowering.b
    residuals = [r for kind, r in kinds if kind == "arg"]
    primal_shapes = tuple(tuple(p.shape) for p in primals)
    seeds = [o.shape for o in outputs] if kind == "vjp" else list(primal_shapes)
    nodes, residual_ids, cotangent_ids, results, closures = _backward(lowering, kinds, outputs, backward, position,
                                                                      seeds)
    found = []
    for p, (r, shape) in enumerate(zip(results, primal_shapes if kind == "vjp" else
                                       [tuple(o.shape) for o in outputs])):
        if r is None:
            found.append(None)
            continue
        if tuple(nodes[r].shape) != shape:
            got = list(nodes[r].shape)
            raise JacValueError(f"{_where(results, p)} {p} - got {got} but expected shape compatible with "
                                f"{list(shape)}: " + ("a cotangent has its argument's shape" if kind == "vjp" else
                                                      "a tangent has its output's shape, as JAX requires"), position)
        found.append(r)
    # the sub-graph's nodes the results need (an unused closure or residual is no argument of the node)
    keep = _needed(nodes, [r for r in found if r is not None])
    residual_from, args_residual, slot = [], [], 0
    kinds_all = list(kinds) + [("arg", t) for t in closures]
    used_ids = []
    for (source, r), sub_id in zip(kinds_all, residual_ids):
        if sub_id not in keep or nodes[sub_id].op == "const":
            continue
        used_ids.append(sub_id)
        if source == "ans":
            residual_from.append((slot, r))
            args_residual.append(detached(b, outputs[r], position))
        else:
            residual_from.append((slot, None))
            args_residual.append(r)
        slot += 1
    kept = tuple(n for n in nodes if n.id in keep or n.id in cotangent_ids)
    linear = linear_in_cotangents(kept, cotangent_ids, found)
    if kind == "jvp" and not linear:
        raise JacValueError(f"the jvp rule of {name} is not linear in its tangents: JAX requires it (it transposes "
                            f"the rule for reverse mode), and jac reads a linear one", position)
    if len(outputs) > 1 and not linear:
        raise JacValueError(f"the backward of {name} is not linear in its gradients, and {name} has several "
                            f"outputs: jac applies such a backward to one output's gradient at a time, the library "
                            f"to all at once; write the backward linear in the gradients", position)
    once = once or library == "torch" and len(outputs) > 1 and any(k == "ans" for k, _ in kinds)
    message = (f"a second derivative through the jax.custom_jvp function {name}: JAX differentiates its jvp rule "
               f"there, which jac does not; jac computes first derivatives by the rule" if kind == "jvp" else
               f"a second derivative through the jax.custom_vjp function {name}: JAX differentiates its fwd's "
               f"formula there, which jac does not follow; jac computes first derivatives by the rule"
               if library == "jax" else
               f"a second derivative through {name}, whose backward is @once_differentiable: PyTorch refuses it too"
               if once else "")
    rule = Rule(name, library, kept, tuple(used_ids), tuple(cotangent_ids), tuple(found), tuple(residual_from),
                tuple(tuple(o.shape) for o in outputs), primal_shapes, linear, once, message, *functorch, kind)
    made = []
    for k, o in enumerate(outputs):
        value = detached(b, o, position)
        if o.id in non_diff or not primals:
            made.append(value)
            continue
        made.append(b.apply("custom", value, *primals, *args_residual, rule=rule, output=k, position=position))
    return Items(made) if isinstance(out, (Items, tuple)) else made[0]


def _backward(lowering, kinds, outputs, backward, position, seeds):
    """The backward lowered into a builder of its own: returns its nodes, the input ids of the residuals (then of
    the closures: arrays of the text it reads by name), of the cotangents, the result ids per primal (None: no
    cotangent), and the closures' arrays."""
    from .scatter import Memory

    main = lowering.b
    sub = Builder(main.source, dtype=main.dtype, max_bytes=main.max_bytes)
    sub.lowering = lowering
    shapes = [outputs[r].shape if kind == "ans" else r.shape for kind, r in kinds]
    residual_inputs = [_constant(main, sub, r) if kind == "arg" and main.nodes[r.id].op == "const" else
                       sub.input(f"#residual{j}", s) for j, ((kind, r), s) in enumerate(zip(kinds, shapes))]
    cotangents = [sub.input(f"#cotangent{k}", s) for k, s in enumerate(seeds)]  # (a jvp's: its tangents)
    closures, scope = [], {}
    for key, v in lowering.scope.items():
        if type(v) is Tracer and main.nodes[v.id].op == "const":
            scope[key] = _constant(main, sub, v)
        elif type(v) is Tracer:  # an array of the text read by name: an input of the sub-graph, passed as a residual
            closures.append(v)
            scope[key] = sub.input(f"#closure{len(closures)}", v.shape)
        elif not _holds_tracer(v):
            scope[key] = v
    saved = (lowering.b, lowering.scope, lowering.memory, lowering.stacked, lowering.folded, lowering.values)
    lowering.b, lowering.scope = sub, scope
    lowering.backwards = getattr(lowering, "backwards", 0) + 1
    lowering.memory = Memory(sub, {k: v for k, v in scope.items() if type(v) is Tracer})
    lowering.stacked, lowering.folded, lowering.values = set(), set(), None
    try:
        results, where = backward(lowering, residual_inputs, cotangents)
        ids = []
        for r in results:
            if r is None:
                ids.append(None)
            elif type(r) is Tracer and r.builder is sub:
                ids.append(r.id)
            elif isinstance(r, (int, float)) and not isinstance(r, bool):
                ids.append(sub.const(float(r), position).id)
            else:
                raise JacValueError(f"{where.rsplit(' at index', 1)[0].replace('returned an invalid', 'returned a')}"
                                    f" that is no array", position)
    finally:
        lowering.b, lowering.scope, lowering.memory, lowering.stacked, lowering.folded, lowering.values = saved
        lowering.backwards -= 1
    ids = _Results(ids, where)
    inputs = [t.id for t in residual_inputs] + [sub.inputs[f"#closure{j + 1}"] for j in range(len(closures))]
    return tuple(sub.nodes), inputs, [t.id for t in cotangents], ids, closures


def _constant(main, sub, t):
    """The constant ``t`` of the text's builder made in the backward's (its integer typing kept)."""
    out = sub.const(main.nodes[t.id].value)
    if t.id in main.pyints:
        sub.pyints[out.id] = main.pyints[t.id]
    if t.id in main.typed:
        sub.typed[out.id] = main.typed[t.id]
    if t.id in main.booleans:
        sub.booleans.add(out.id)
    return out


class _Results(list):
    def __init__(self, ids, where):
        super().__init__(ids)
        self.where = where


def _where(results, index) -> str:
    return results.where


def _needed(nodes, results) -> set:
    keep, stack = set(), list(results)
    while stack:
        i = stack.pop()
        if i in keep:
            continue
        keep.add(i)
        stack.extend(nodes[i].args)
    return keep


_JAX_FORWARD = ("jax.jacfwd", "jax.hessian", "jax.jvp", "jax.linearize")
_TORCH_FORWARD = ("torch.func.jacfwd", "torch.func.hessian", "torch.func.jvp", "torch.func.linearize")


def refuse_in_transform(lowering, spelling: str, start: int, position: int) -> None:
    """Refuse, as the library raises, a transform written in the text (``spelling``) of a function whose call made
    the builder's nodes from ``start`` on, when one is a rule the library does not run under it: JAX's forward mode
    of a custom_vjp (TypeError); torch.func's transforms of an autograd.Function without ``setup_context``, its
    forward mode (no ``jvp`` read) and its vmap without ``generate_vmap_rule = True``."""
    for node in lowering.b.nodes[start:]:
        if node.op != "custom":
            continue
        rule = node.params["rule"]
        if rule.library == "jax" and rule.kind == "vjp" and spelling in _JAX_FORWARD:
            raise JacValueError(f"{spelling} of the jax.custom_vjp function {rule.name}: JAX raises a TypeError there "
                                f"(can't apply forward-mode autodiff (jvp) to a custom_vjp function); jax.jacrev, "
                                f"jax.grad and jax.vjp use its rule", position)
        if rule.library != "torch" or not spelling.startswith("torch."):
            continue
        if not rule.functorch:
            raise JacValueError(f"{spelling} of {rule.name}.apply: PyTorch raises there (an autograd.Function under "
                                f"torch.func's transforms must override the setup_context staticmethod: forward(x) "
                                f"without ctx, setup_context(ctx, inputs, output))", position)
        if spelling in _TORCH_FORWARD:
            raise JacValueError(f"{spelling} of {rule.name}.apply: forward mode runs the class's jvp staticmethod, "
                                f"which jac does not read; torch.func.grad / jacrev / vjp use its backward", position)
        if "vmap" in spelling and not rule.vmappable:
            raise JacValueError(f"{spelling} of {rule.name}.apply: PyTorch raises there unless the class sets "
                                f"generate_vmap_rule = True (or has a vmap staticmethod, which jac does not read)",
                                position)


# --- helpers ---------------------------------------------------------------------------------------------

def _outputs(out, what: str, position: int) -> list:
    if type(out) is Tracer:
        return [out]
    if isinstance(out, (Items, tuple)) and out and all(type(o) is Tracer for o in out):
        return list(out)
    raise JacValueError(f"{what} returns what is no array nor tuple of arrays: jac reads a rule of a function whose "
                        f"outputs are arrays", position)


def _tracers(values) -> list:
    """The distinct arrays in ``values`` (tuples, lists, dicts, pytrees), in order."""
    from .trees import Dict

    found, seen = [], set()

    def walk(v):
        if type(v) is Tracer:
            if v.id not in seen:
                seen.add(v.id)
                found.append(v)
        elif isinstance(v, (Items, tuple, list)):
            for x in v:
                walk(x)
        elif type(v) is Dict or type(v) is dict:
            for x in v.values():
                walk(x)
    walk(values)
    return found


def _swapped(value, mapping: dict):
    """``value`` with each array replaced by its sub-graph input."""
    from .trees import Dict

    if type(value) is Tracer:
        return mapping[value.id]
    if isinstance(value, Items):
        out = Items(_swapped(v, mapping) for v in value)
        out.fields = value.fields
        return out
    if isinstance(value, tuple):
        return tuple(_swapped(v, mapping) for v in value)
    if isinstance(value, list):
        return [_swapped(v, mapping) for v in value]
    if type(value) is Dict:
        return Dict([(k, _swapped(v, mapping)) for k, v in value.items()])
    return value


def _holds_tracer(value) -> bool:
    return bool(_tracers([value])) or not isinstance(value, (int, float, bool, str, type(None), Static, tuple,
                                                             FunctionClass, CustomVJP, CustomJVP, Apply)) \
        and type(value).__name__ not in ("Function", "Transform", "LibraryFunction", "Mapped", "GradMode",
                                         "Module", "Ufunc")


def _tuple(args) -> object:
    return Items(args) if all(type(a) is Tracer for a in args) else tuple(args)


def _ints(lowering, value, what: str, position: int) -> tuple:
    items = value if isinstance(value, (tuple, list, Items)) else (value,)
    out = []
    for v in items:
        if isinstance(v, int) and not isinstance(v, bool):
            out.append(v)
            continue
        node = lowering.b.nodes[v.id] if type(v) is Tracer else None
        values = np.ravel(node.value) if node is not None and node.op == "const" and node.value is not None else None
        if values is None or not np.all(values == np.round(values)):
            raise JacValueError(f"{what}: jac reads integers (a tuple of them)", position)
        out.extend(int(k) for k in values)
    return tuple(out)


def _python_bool(lowering, value):
    if isinstance(value, bool):
        return value
    node = lowering.b.nodes[value.id] if type(value) is Tracer else None
    if node is not None and node.op == "const" and node.value is not None and node.value.size == 1 \
            if hasattr(node.value, "size") else node is not None and node.op == "const":
        return bool(node.value)
    return None


def in_backward(lowering) -> bool:
    """Is the lowering inside a backward (where ``gx = None`` says: no gradient)?"""
    return getattr(lowering, "backwards", 0) > 0


def _dotted(node) -> str | None:
    """``a.b.c`` of an attribute chain on a name, or None (``decorators.dotted``'s reading, which imports this
    module): walked, never unparsed (the parser asks it of every call's callee, ``x.sum().sum()...`` 18,000 deep)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return ".".join([node.id] + parts[::-1]) if isinstance(node, ast.Name) else None
