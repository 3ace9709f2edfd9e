"""Decorators on a ``def`` of the text, read as Python applies them: ``@d`` on ``def f`` is ``f = d(f)``, the
decorators nearest the ``def`` first (the parser's ``statement`` calls :func:`decorated`).

- the transforms jac reads as values (:mod:`.derivatives`' ``jax.grad``, ``torch.func.jacrev``...; :mod:`.vmapping`'s
  ``jax.vmap``, ``torch.func.vmap``) and ``functools.partial`` of them with keywords
  (``@partial(jax.vmap, in_axes=(0, None))`` is ``f = jax.vmap(f, in_axes=(0, None))``): the call written out
  and lowered by the parser, as the text's own ``f = jax.vmap(f)`` is; a function of the text too (``@my_deco``);
- what compiles or scripts (``@jax.jit``, ``@partial(jax.jit, static_argnums=1)``, ``@jax.jit(static_argnums=1)``,
  ``@jax.checkpoint``, ``@torch.compile(...)``, ``@torch.jit.script``, ``@torch.jit.ignore``...): the function itself;
- PyTorch's grad modes: ``@torch.no_grad()`` / ``@torch.inference_mode()`` / ``@torch.set_grad_enabled(False)`` make
  a :class:`GradMode` whose call detaches what the function returns (as ``with torch.no_grad():`` detaches what it
  assigns: the parser's ``no_grad``); ``@torch.enable_grad()`` is the function where gradients are on (outside
  every no-grad region) and refused inside one (PyTorch's result would carry the gradient the region drops).

:func:`refuse_custom_rules` refuses, before the walk, every spelling of a derivative rule written by hand that jac
does not read (``jax.custom_gradient``, ``jax.custom_transpose``, ``torch.library.register_autograd``,
``InplaceFunction``...): the library would use the rule, jac the function's own formula. The rules jac honours
(``jax.custom_vjp`` / ``custom_jvp``, ``torch.autograd.Function``) are :mod:`.custom`'s, which
``@jax.custom_vjp`` / ``@f.defjvp`` reach from here (:func:`_applied`).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from ..errors import JacParseError, JacValueError
from ..ir.graph import Tracer
from .functions import Items, detached
from . import inference

# compiling, scripting or saving memory changes no value: the decorated function is the function
SAME = frozenset({"jax.jit", "jit", "jax.checkpoint", "jax.remat", "torch.compile",
                  "torch.jit.script", "torch.jit.ignore", "torch.jit.unused", "torch.jit.export",
                  "torch.jit.script_if_tracing", "torch.compiler.disable", "torch._dynamo.disable"})
# PyTorch's grad modes as decorators: spelling -> whether gradients are on inside the function
_GRAD_MODES = {"no_grad": False, "inference_mode": False, "enable_grad": True}
_GRAD_ROOTS = ("torch.", "torch.autograd.", "torch.autograd.grad_mode.", "")
READ = ("jac reads @jax.jit, @jax.vmap, @jax.grad and the other transforms of jax and torch.func (and "
        "functools.partial of them with keywords), @jax.checkpoint, @torch.compile, @torch.jit.script, "
        "@torch.no_grad(), @torch.enable_grad(), @torch.inference_mode(), @functools.cache, "
        "@functools.lru_cache(maxsize=N) and a function of the text")

# hand-written derivative rules: each name, and what it is
# (jax.custom_vjp / custom_jvp, f.defvjp / defjvp / defjvps, torch.autograd.Function and once_differentiable are
# honoured: lang/custom.py)
_CUSTOM_NAMES = {"custom_gradient": "jax.custom_gradient", "custom_vmap": "jax.custom_batching.custom_vmap",
                 "custom_transpose": "jax.custom_transpose", "def_vmap": "f.def_vmap",
                 "register_autograd": "torch.library.register_autograd",
                 "custom_op": "torch.library.custom_op"}
_FUNCTION_CLASSES = ("InplaceFunction",)
_CUSTOM_WORDS = re.compile(r"\b(?:" + "|".join(sorted(set(_CUSTOM_NAMES) | set(_FUNCTION_CLASSES))) + r")\b")


def custom_rule_message(what: str, library: str) -> str:
    return (f"jac differentiates forward itself; a custom rule ({what}) is not read: {library} would differentiate "
            f"with the rule, jac with the function's own formula, and the two can differ. Write the function alone "
            f"for the derivative of its formula (jax.lax.stop_gradient / .detach() where the rule drops one)")


def refuse_custom_rules(module: ast.Module, source) -> None:
    """Refuse every spelling of a hand-written derivative rule jac does not read, wherever it is in the text:
    ``@jax.custom_gradient``, ``f.def_vmap``, ``torch.library.custom_op``, ``class F(torch.autograd.InplaceFunction)``
    (jax.custom_vjp / custom_jvp and torch.autograd.Function are honoured: lang/custom.py)."""
    if _CUSTOM_WORDS.search(source.body) is None:
        return
    bound = {n.id for n in ast.walk(module) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)} | \
        {n.name for n in ast.walk(module) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    functions = set()  # names imported from torch.autograd that are its Function class
    for node in ast.walk(module):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("torch.autograd"):
            functions.update(a.asname or a.name for a in node.names if a.name in _FUNCTION_CLASSES)
    for node in ast.walk(module):
        if isinstance(node, ast.ClassDef):
            for base in node.bases:
                path = dotted(base) or ""
                if path in functions or path.rsplit(".", 1)[-1] in _FUNCTION_CLASSES and "autograd" in path:
                    raise JacParseError(custom_rule_message(f"class {node.name}({path}) with forward and backward",
                                                            "PyTorch"), source.at(node))
        elif isinstance(node, ast.Attribute) and node.attr in _CUSTOM_NAMES:
            path = dotted(node) or ast.unparse(node)
            library = "PyTorch" if path.startswith("torch") else "JAX"
            raise JacParseError(custom_rule_message(path, library), source.at(node))
        elif isinstance(node, ast.Name) and node.id in _CUSTOM_NAMES and node.id not in bound:
            raise JacParseError(custom_rule_message(f"{node.id}: {_CUSTOM_NAMES[node.id]}",
                                                    "PyTorch" if _CUSTOM_NAMES[node.id].startswith("torch") else "JAX"),
                                source.at(node))


@dataclass(frozen=True, eq=False)
class GradMode:
    """A function decorated with a PyTorch grad mode: ``enabled`` False (``@torch.no_grad()``): its result detached;
    True (``@torch.enable_grad()``): the function, refused where gradients are off."""

    fn: object  # what the parser calls: a Function, or another decorated value
    enabled: bool
    spelling: str  # the decorator as written: torch.no_grad()


def call_grad_mode(lowering, fn: GradMode, args: list, kwargs: dict, position: int):
    """``f(*args, **kwargs)`` of a :class:`GradMode`, through the parser's ``call_value``."""
    if fn.enabled:
        if lowering.grad_off:
            raise JacValueError(f"a function decorated @{fn.spelling} called where gradients are off (inside 'with "
                                "torch.no_grad()' or a @torch.no_grad() function): PyTorch's result of it would carry "
                                "the gradient the region drops, which jac does not follow; call it outside", position)
        return lowering.call_value(fn.fn, args, kwargs, position)
    lowering.grad_off += 1
    try:
        out = lowering.call_value(fn.fn, args, kwargs, position)
    finally:
        lowering.grad_off -= 1
    if isinstance(out, Tracer):
        out = detached(lowering.b, out, position)
    elif isinstance(out, Items) and all(isinstance(v, Tracer) for v in out):
        out = Items([detached(lowering.b, v, position) for v in out])
    else:
        out = None
    if out is not None:
        if "inference_mode" in fn.spelling:  # PyTorch's inference tensors: never saved for backward (.inference)
            inference.mark(lowering, out)
        return out
    raise JacValueError(f"a function decorated @{fn.spelling}: jac reads one that returns an array or a tuple of "
                        "arrays", position)


def decorated(lowering, stmt: ast.FunctionDef, fn):
    """The value the name of ``def`` ``stmt`` holds once its decorators are applied to ``fn``, its function."""
    value = fn
    for decorator in reversed(stmt.decorator_list):
        value = _applied(lowering, decorator, stmt.name, value)
        lowering.scope[stmt.name] = value
    return value


def _applied(lowering, decorator: ast.expr, name: str, value):
    position = lowering.source.at(decorator)
    text = ast.unparse(decorator)
    mode = _grad_mode(lowering, decorator, position)
    if mode is not None:
        return GradMode(value, mode, text)
    from . import custom
    found = custom.decorator(lowering, decorator, name, value, position)  # @jax.custom_vjp (lang/custom.py)
    if found is not None:
        return found
    found = _staged(lowering, decorator, value, position)
    if found is not None:  # @jax.jit, @partial(jax.jit, static_argnums=1): traced with abstract values
        return found
    if _same(lowering, decorator):
        return value
    from . import pyiter
    found = pyiter.cached(lowering, decorator, value, position)
    if found is not None:  # @functools.cache, @lru_cache(maxsize=N): results kept as Python keeps them
        return found
    func, keywords = decorator, []
    if isinstance(decorator, ast.Call) and dotted(decorator.func) in ("partial", "functools.partial"):
        if len(decorator.args) != 1 or any(k.arg is None for k in decorator.keywords):
            raise JacParseError(f"a decorator @{text}: jac reads partial(transform, keyword=value, ...), the "
                                "function given after the transform (JAX's and torch.func's take it first)", position)
        func, keywords = decorator.args[0], decorator.keywords
    spelling = lowering.derivative_spelling(func)
    if isinstance(func, ast.Call) and not func.args and _is_transform(lowering.derivative_spelling(func.func) or ""):
        given = ", ".join(ast.unparse(k) for k in func.keywords)
        raise JacParseError(f"a decorator @{text}: {ast.unparse(func.func)} takes the function first (JAX's and "
                            f"torch.func's transforms are no decorator factories): write "
                            f"@functools.partial({ast.unparse(func.func)}, {given})", position)
    if not (spelling is not None and _is_transform(spelling) or isinstance(func, ast.Name)
            and lowering.is_callable(lowering.scope.get(func.id))):
        raise JacParseError(f"a decorator (@{text}) is not read: {READ}; write the function without it", position)
    call = ast.Call(func=func, args=[ast.copy_location(ast.Name(id=name, ctx=ast.Load()), decorator)],
                    keywords=keywords)
    ast.copy_location(call, decorator)
    return lowering.expression(call)


def _is_transform(spelling: str) -> bool:
    from . import derivatives, vmapping

    return spelling in derivatives.TRANSFORMS or vmapping.SPELLINGS.get(spelling) in ("vmap", "same")


def _staged(lowering, decorator: ast.expr, value, position: int):
    """``@jax.jit``, ``@jax.jit(static_argnums=1)``, ``@partial(jax.jit, static_argnames='n')``, ``@jax.checkpoint``,
    ``@jax.remat``: a :class:`.vmapping.Staged` of the function (its call traced as JAX traces it); else None."""
    from . import vmapping, whiles

    keywords = []
    if isinstance(decorator, ast.Call) and dotted(decorator.func) in ("partial", "functools.partial") \
            and len(decorator.args) == 1:
        decorator, keywords = decorator.args[0], decorator.keywords
    if isinstance(decorator, ast.Call) and not decorator.args:
        decorator, keywords = decorator.func, [*keywords, *decorator.keywords]
    path = dotted(decorator)
    if path is None or path.split(".")[0] in lowering.scope:
        return None
    spelling = "jax.jit" if path == "jit" else lowering.imported.get(path) or vmapping.spelling_of(path)
    if spelling not in whiles.STAGING:
        return None
    return vmapping.make_staged(spelling, value, keywords, position)


def _same(lowering, decorator: ast.expr) -> bool:
    """``@jax.jit``, ``@jax.jit(static_argnums=1)``, ``@partial(jax.jit, ...)``, ``@torch.compile(mode=...)``,
    ``@torch.jit.script``: compiling changes no value."""
    if isinstance(decorator, ast.Call) and dotted(decorator.func) in ("partial", "functools.partial") \
            and decorator.args:
        decorator = decorator.args[0]
    if isinstance(decorator, ast.Call) and not decorator.args:
        decorator = decorator.func
    path = dotted(decorator)
    if path is None or path.split(".")[0] in lowering.scope:
        return False
    return path in SAME or lowering.imported.get(path) in SAME


def _grad_mode(lowering, decorator: ast.expr, position: int) -> bool | None:
    """Whether gradients are on inside a function decorated ``decorator`` when it is a PyTorch grad mode
    (``torch.no_grad()`` or ``torch.no_grad``, ``torch.set_grad_enabled(False)``...), else None."""
    call = decorator if isinstance(decorator, ast.Call) else None
    path = dotted(call.func if call is not None else decorator)
    if path is None or path.split(".")[0] in lowering.scope:
        return None
    root, _, last = path.rpartition(".")
    if (root + "." if root else "") not in _GRAD_ROOTS:  # torch.no_grad, or no_grad imported from torch
        return None
    if last == "set_grad_enabled":
        if call is None or len(call.args) != 1 or call.keywords or not isinstance(call.args[0], ast.Constant) \
                or not isinstance(call.args[0].value, bool):
            raise JacParseError("@torch.set_grad_enabled(mode): jac reads it with True or False written", position)
        return call.args[0].value
    if last not in _GRAD_MODES:
        return None
    if call is not None and (call.keywords and not (last == "inference_mode" and [k.arg for k in call.keywords]
                                                     == ["mode"]) or call.args):
        given = call.args[0] if call.args else call.keywords[0].value
        if not (last == "inference_mode" and isinstance(given, ast.Constant) and given.value is True):
            raise JacParseError(f"@{ast.unparse(decorator)}: jac reads @torch.{last}() without arguments", position)
    return _GRAD_MODES[last]


def dotted(node: ast.AST) -> str | None:
    """``a.b.c`` of an attribute chain on a name, or None (the parser's too)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return ".".join([node.id] + parts[::-1]) if isinstance(node, ast.Name) else None


def refuse_ending_definition(stmt: ast.FunctionDef, position: int) -> None:
    """A text whose last statement is a decorated ``def`` that is no plain function (``@jax.grad``, ``@jax.vmap``,
    ``@torch.no_grad()``; the parser calls a plain one, ``@jax.jit``'s, with the inputs named as its parameters, as
    an undecorated one): refused, saying to end with the call."""
    given = stmt.args.posonlyargs + stmt.args.args
    names = [a.arg for a in given[:len(given) - len(stmt.args.defaults)]]  # the parameters without a default
    call = f"{stmt.name}({', '.join(names)})"
    raise JacValueError(f"the text ends with the definition of {stmt.name} (decorated @"
                        f"{ast.unparse(stmt.decorator_list[0])}), not an expression: jac prints the value of the "
                        f"last statement, so call it: end the text with {call}", position)
