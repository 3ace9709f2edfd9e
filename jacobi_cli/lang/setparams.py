"""Values the text writes into a parameter before it is used: ``nn.init.constant_(fc.weight, 0.5)``,
``with torch.no_grad(): fc.weight.copy_(W)``, ``fc.bias.data.zero_()``, ``fc.weight = nn.Parameter(W)``.

A parameter jac makes (a layer's ``fc.weight``, a leaf ``w = torch.randn(3, requires_grad=True)``) is an input
whose value is held in the parser's ``declared`` (:meth:`~jacobi_cli.lang.parser._Lowering.new_input`). PyTorch's
writes that leave the parameter a leaf with new values (``nn.init``'s functions, which run under ``no_grad``; an
in-place method under ``torch.no_grad()`` or on ``.data``; ``.data = ``; a new ``nn.Parameter``) set that held
value here, so the Jacobians are PyTorch's at the values the text gives. The new values must be known without the
inputs (numbers, ``torch.tensor([...])``, the parameter's own values); the parameter must not have been read yet (a
layer called before the write: PyTorch's backward would read the values the layer's forward saved, or refuse);
anything else stays refused where the parser refuses it. Random initializers (``nn.init.normal_``,
``xavier_uniform_``, ``kaiming_normal_``, ...) draw with jac's generator (``--seed``), as the layers' own draws.
"""

from __future__ import annotations

import ast
import math

import numpy as np

from ..errors import JacError, JacValueError
from ..ir.graph import Tracer
from .freeze import leaf_name, reference, set_frozen, value_of, was_read
from .functions import LIBRARIES, MODULES, static, static_int, variant
from .starred import written_out  # nn.init.constant_(w, **kw): written out (session 55)

_INIT = ("nn.init", "torch.nn.init")
MODULES.update(_INIT)  # nn.init.calculate_gain('tanh'): a number (the writes are statements, read above)
LIBRARIES.update(dict.fromkeys(_INIT, "torch.nn.init"))
# in-place methods of a tensor that set values: name -> (positional names, defaults)
_METHODS = {
    "copy_": (("src", "non_blocking"), {"non_blocking": False}), "fill_": (("value",), {}), "zero_": ((), {}),
    "mul_": (("other",), {}), "div_": (("other",), {}), "add_": (("other",), {"alpha": 1.0}),
    "sub_": (("other",), {"alpha": 1.0}), "clamp_": (("min", "max"), {"min": None, "max": None}),
    "normal_": (("mean", "std"), {"mean": 0.0, "std": 1.0}), "uniform_": (("from", "to"), {"from": 0.0, "to": 1.0}),
}
# nn.init's functions (after the tensor): name -> (positional names, defaults)
_INITS = {
    "constant_": (("val",), {}), "zeros_": ((), {}), "ones_": ((), {}), "eye_": ((), {}),
    "normal_": (("mean", "std"), {"mean": 0.0, "std": 1.0}), "uniform_": (("a", "b"), {"a": 0.0, "b": 1.0}),
    "xavier_uniform_": (("gain",), {"gain": 1.0}), "xavier_normal_": (("gain",), {"gain": 1.0}),
    "kaiming_uniform_": (("a", "mode", "nonlinearity"), {"a": 0.0, "mode": "fan_in", "nonlinearity": "leaky_relu"}),
    "kaiming_normal_": (("a", "mode", "nonlinearity"), {"a": 0.0, "mode": "fan_in", "nonlinearity": "leaky_relu"}),
}
_AUGMENTED = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide}
_SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
_PARAMETER = ("nn.Parameter", "torch.nn.Parameter", "nn.parameter.Parameter", "torch.nn.parameter.Parameter")


def statement(p, stmt: ast.stmt) -> bool:
    """Set the value of the parameter ``stmt`` writes (see the module's docstring) and say True; False for a
    statement of another kind (the parser goes on with it)."""
    found = _write(p, stmt)
    if found is None:
        return False
    target, make, position, outside = found
    leaf = _leaf(p, target)
    if leaf is None:
        return False
    name, tracer = leaf
    frozen = p.frozen is not None and name in p.frozen  # requires no grad (lang/freeze.py): written anywhere
    if outside is not None and not frozen:
        _leaf_written(target, outside, position)
    _unread(p, name, tracer, position)
    compute = make()
    old = value_of(p, name)
    try:
        with np.errstate(all="ignore"):  # w /= 0 under no_grad: PyTorch's inf, without a warning
            new, drawn = compute(old)
    except JacError:
        raise
    except ValueError as err:  # NumPy's: operands that do not broadcast
        raise JacValueError(f"the values written into '{name}': {err}", position) from None
    new = np.asarray(new, dtype=p.b.dtype)
    if new.shape != old.shape:
        _broadcasts(new.shape, old.shape, name, position)
        new = np.broadcast_to(new, old.shape)
    new = np.array(new)  # its own memory, never a caller's
    new.flags.writeable = False
    if frozen:
        set_frozen(p, name, tracer, new)
    else:
        p.declared[name] = new
    if drawn:
        p.mark_drawn(name)
    elif p.random is not None and not _keeps_draws(compute):
        p.random.discard(name)
    if p.values is not None and name in p.values:
        p.values = {**p.values, name: new}
    return True


def _write(p, stmt: ast.stmt):
    """(the target's expression, a function making the function old value -> (new value, drawn), position) of a
    parameter write, or None (the arguments are read only once the target is known to be a parameter)."""
    if type(stmt) is ast.Expr and type(stmt.value) is ast.Call and type(stmt.value.func) is ast.Attribute:
        call, func = stmt.value, stmt.value.func
        owner = ast.unparse(func.value)
        position = p.source.at(stmt)
        if owner in _INIT and func.attr in _INITS and call.args \
                and (func.value.value.id if type(func.value.value) is ast.Name else "torch") not in p.scope:
            what = f"{owner}.{func.attr}"

            def make():
                written = written_out(p, call)  # nn.init.constant_(w, **kw) (session 55)
                args = _arguments(p, what, _INITS[func.attr], written.args[1:], written.keywords, position)
                return _initializer(p, func.attr, args, what, position)
            return call.args[0], make, position, None
        if func.attr in _METHODS:
            # w.data.fill_(1.).add_(1.): each in-place method returns its tensor, so a chain writes each in turn
            chain, target, data = [call], func.value, False
            while type(target) is ast.Call and type(target.func) is ast.Attribute and target.func.attr in _METHODS:
                chain.append(target)
                target = target.func.value
            chain.reverse()
            first = chain[0].func
            if type(target) is ast.Attribute and target.attr == "data":
                target, data = target.value, True
            if any(type(a) is ast.Starred for c in chain for a in c.args) \
                    or any(k.arg is None for c in chain for k in c.keywords):
                return None
            if type(target) is ast.Subscript and (data or p.grad_off or type(target.value) is ast.Attribute
                                                  and target.value.attr == "data"):  # w[0].fill_(3.), w.data[0]...
                _part_written(p, target, first.attr, position)
            # outside no_grad: PyTorch refuses a leaf that requires grad (what is written then, else None)
            outside = f"{ast.unparse(first)}(...)" if not data and not p.grad_off else None
            return target, lambda: _chain([_method(p, c.func.attr, _arguments(p, f".{c.func.attr}()",
                                                                              _METHODS[c.func.attr], c.args,
                                                                              c.keywords, position), position)
                                           for c in chain]), position, outside
        return None
    if type(stmt) is ast.AugAssign and type(stmt.op) in _AUGMENTED and type(stmt.target) in (ast.Name, ast.Attribute):
        target, position, op = stmt.target, p.source.at(stmt), _AUGMENTED[type(stmt.op)]
        data = type(target) is ast.Attribute and target.attr == "data"
        if data:
            target = target.value
        outside = f"{ast.unparse(target)} {_SYMBOLS[type(stmt.op)]}= ..." if not data and not p.grad_off else None
        value = stmt.value

        def augmented(old):
            return op(old, _constant(p, value, "the values written", position)), False
        augmented.keeps = True
        return target, lambda: augmented, position, outside
    if type(stmt) is ast.Assign and len(stmt.targets) == 1:
        target, position = stmt.targets[0], p.source.at(stmt)
        if type(target) is ast.Attribute and target.attr == "data":  # fc.weight.data = W
            value = stmt.value
            return target.value, lambda: _assigned(p, value, "the values assigned", position), position, None
        if type(target) is ast.Attribute and type(stmt.value) is ast.Call \
                and ast.unparse(stmt.value.func) in _PARAMETER and len(stmt.value.args) == 1 \
                and not stmt.value.keywords:  # fc.weight = nn.Parameter(W)
            value = stmt.value.args[0]
            return target, lambda: _assigned(p, value, "nn.Parameter's values", position), position, None
        if type(target) is ast.Subscript and type(target.value) in (ast.Name, ast.Attribute):
            data = type(target.value) is ast.Attribute and target.value.attr == "data"
            base = target.value.value if data else target.value  # fc.weight[0] = 1 under no_grad
            index, value = target.slice, stmt.value
            outside = f"{ast.unparse(target)} = ..." if not data and not p.grad_off else None

            def written(old):
                new, at = np.array(old), _index(p, index, position)
                values = _constant(p, value, "the values written", position)
                try:
                    new[at] = values
                except (IndexError, ValueError) as err:  # out of bounds, shapes that do not broadcast
                    raise JacValueError(f"{ast.unparse(target)} = ...: {err}", position) from None
                return new, False
            return base, lambda: written, position, outside
    return None


def _part_written(p, target: ast.Subscript, method: str, position) -> None:
    """Refuse ``w[0].fill_(3.)`` (under ``no_grad`` or on ``.data``) where ``w`` is a parameter, saying what jac reads
    instead: it was "this statement's value is never used" (session 53)."""
    base = target.value
    if type(base) is ast.Attribute and base.attr == "data":
        base = base.value
    leaf = _leaf(p, base)
    if leaf is None:
        return
    raise JacValueError(f"{ast.unparse(target)}.{method}(...) writes into part of the parameter '{leaf[0]}', which jac "
                        f"does not read: it reads a write into a parameter's elements as {ast.unparse(target)} = VALUE "
                        f"(numbers or constant tensors), inside 'with torch.no_grad():' or on .data, before the "
                        f"parameter's first use", position)


def _leaf_written(target: ast.expr, what: str, position):
    """Refuse a write into a parameter outside ``torch.no_grad()``, in PyTorch's words."""
    name = ast.unparse(target)
    raise JacValueError(f"{what}: '{name}' is a leaf that requires grad, and PyTorch refuses to write into it "
                        f"in place (\"a leaf Variable that requires grad is being used in an in-place operation\"): "
                        f"to set its values, write inside 'with torch.no_grad():' (or into {name}.data) before its "
                        f"first use; to compute with changed values, write into a copy (w = {name}.clone())",
                        position)


def _leaf(p, target: ast.expr):
    """(name, tracer) of the input the text made that ``target`` is (``fc.weight``, ``w``), or None."""
    if not (p.declared or p.frozen) or not p.leaves or not reference(target):
        return None
    if type(target) is ast.Name and target.id not in p.scope:
        return None
    try:
        value = p.expression(target)
    except Exception:  # noqa: BLE001 - not a parameter write this module reads: the parser's statement says why
        return None
    if type(value) is not Tracer:
        return None
    name = leaf_name(p, value)
    return None if name is None else (name, p.leaves[name])


def _unread(p, name: str, tracer: Tracer, position) -> None:
    """Refuse a write into ``name`` after a computation read it."""
    if was_read(p, tracer):
        raise JacValueError(f"'{name}' is written after it was read (a layer called, or a computation with it): "
                            f"PyTorch's backward would read the values saved then, or refuse; write the "
                            f"parameter's values before its first use", position)


def _arguments(p, what: str, spec, args: list, keywords: list, position) -> dict:
    names, defaults = spec
    if len(args) > len(names):
        raise JacValueError(f"{what} takes {len(names)} argument(s) after the tensor, not {len(args)}", position)
    found = dict(defaults)
    found.update(zip(names, args))
    for k in keywords:
        if k.arg in names[:len(args)]:  # nn.init.constant_(w, 1., val=2.): Python's TypeError, never the last one
            raise JacValueError(f"{what} got multiple values for argument '{k.arg}' (Python's TypeError): give it "
                                f"once", position)
        if k.arg not in names and k.arg not in defaults:
            if k.arg == "generator":
                raise JacValueError(f"{what}: generator= is PyTorch's random state, which jac has none of: jac "
                                    f"draws with --seed", position)
            raise JacValueError(f"{what} has no keyword '{k.arg}'", position)
        found[k.arg] = k.value
    missing = [n for n in names if n not in found]
    if missing:
        raise JacValueError(f"{what} needs its argument '{missing[0]}'", position)
    return found


def _constant(p, node, what: str, position):
    """The value of ``node`` (an AST node or a default) known without the inputs, as a NumPy array: numbers, a
    constant array, or another parameter (or leaf) of the text as it holds now."""
    if not isinstance(node, ast.AST):
        return node
    if type(node) in (ast.List, ast.Tuple, ast.ListComp) or type(node) is ast.Name and node.id in p.sequence_names:
        kind = "tuple" if type(node) is ast.Tuple or type(node) is ast.Name and node.id in p.tuple_names else "list"
        raise JacValueError(f"{what}: a Python {kind}, where PyTorch takes a tensor or a number (it raises TypeError, "
                            f"as in \"must be Tensor, not {kind}\"): write torch.tensor({ast.unparse(node)})",
                            p.source.at(node))
    value = p.expression(node)
    if isinstance(value, (bool, int, float)):
        return np.asarray(value, dtype=p.b.dtype)
    if type(value) is not Tracer:
        raise JacValueError(f"{what} must be numbers (a number, a list of numbers, a tensor), not "
                            f"{ast.unparse(node)}", p.source.at(node))
    made = p.b.nodes[value.id]
    if made.op == "const":
        return np.asarray(made.value, dtype=p.b.dtype)
    for name, tracer in (p.leaves or {}).items():  # lin2.weight.copy_(lin1.weight): its values as they are now
        if tracer.id == value.id and name in p.declared:
            return p.declared[name]
    raise JacValueError(f"{what} must be known without the inputs (numbers, torch.tensor([...]), a parameter as it "
                        f"is): jac holds a parameter's values fixed, and its inputs' values change from call to call",
                        p.source.at(node))


def _number(p, node, what: str, position) -> float:
    value = _constant(p, node, what, position)
    if np.ndim(value):
        raise JacValueError(f"{what} must be a number, not an array of shape {np.shape(value)}", position)
    return float(value)


def _normal(p, mean: float, std: float, shape: tuple, position):
    """jac's draws of N(mean, std²), refused as PyTorch's normal_ refuses a negative std."""
    if not std >= 0:
        raise JacValueError(f"normal expects std >= 0.0, but found std {std:g} (PyTorch's error)", position)
    return mean + std * p.b.rng.standard_normal(shape)


def _uniform(p, low: float, high: float, shape: tuple, position):
    """jac's draws of U(low, high), refused as PyTorch's uniform_ refuses an empty or unbounded range."""
    if not low <= high:
        raise JacValueError(f"uniform_ expects to return a [from, to) range, but found from={low:g} > to={high:g} "
                            f"(PyTorch's error)", position)
    if not np.isfinite(high - low):
        raise JacValueError(f"uniform_ expects to-from <= the largest double, but found to={high:g} and "
                            f"from={low:g} (PyTorch's error)", position)
    return p.b.rng.uniform(low, high, shape)


def _assigned(p, node, what: str, position):
    """The new value of ``w.data = V`` or ``fc.weight = nn.Parameter(V)``: V itself, of the parameter's shape (PyTorch
    would give the parameter V's shape, which the layer was not made for: refused)."""
    def compute(old):
        value = _constant(p, node, what, position)
        if np.shape(value) != old.shape:
            raise JacValueError(f"{what} have shape {np.shape(value)}, not the parameter's {old.shape}: PyTorch "
                                f"would change the parameter's shape, which jac keeps as the layer made it",
                                position)
        return value, False
    return compute


def _static(p, node, what: str, position):
    """A Python number or string argument (a gain, a mode)."""
    if not isinstance(node, ast.AST):
        return node
    try:
        return ast.literal_eval(node)
    except (TypeError, MemoryError, RecursionError):  # {[]: 1}, {1, []}: unhashable (Python's TypeError)
        raise JacValueError(f"{what} must be a number or a string, not {ast.unparse(node)[:80]}", position) from None
    except ValueError:
        return float(_constant(p, node, what, position))


def _method(p, name: str, args: dict, position):
    """The new value of an in-place method ``name`` on the parameter's old values."""
    def value(key):
        return _constant(p, args[key], f".{name}()'s {key}", position)

    def number(key):
        return _number(p, args[key], f".{name}()'s {key}", position)

    def compute(old):
        if name == "copy_":
            return value("src"), False
        if name == "fill_":
            v = value("value")
            if np.ndim(v):
                raise JacValueError(f".fill_() takes a number or a 0-d tensor, not shape {np.shape(v)}", position)
            return np.full(old.shape, v), False
        if name == "zero_":
            return np.zeros(old.shape), False
        if name in ("mul_", "div_"):
            return (old * value("other") if name == "mul_" else old / value("other")), False
        if name in ("add_", "sub_"):
            step = number("alpha") * value("other")
            return (old + step if name == "add_" else old - step), False
        if name == "clamp_":
            lo, hi = (None if args[k] is None else value(k) for k in ("min", "max"))
            if lo is None and hi is None:
                raise JacValueError("clamp_(): at least one of min and max must not be None (PyTorch's error)",
                                    position)
            return np.clip(old, lo, hi), False
        if name == "normal_":
            return _normal(p, number("mean"), number("std"), old.shape, position), True
        return _uniform(p, number("from"), number("to"), old.shape, position), True
    compute.keeps = name in ("mul_", "div_", "add_", "sub_", "clamp_")
    return compute


def _chain(computes: list):
    """The writes of a chain of in-place methods (``w.data.normal_().mul_(0.1)``) made one, each on the values the
    one before wrote: jac's draws when the last drawing write is followed only by writes that keep draws."""
    if len(computes) == 1:
        return computes[0]

    def compute(old):
        drawn = None  # None: as the values before (every write so far keeps them)
        for step in computes:
            old, made = step(old)
            drawn = True if made else drawn if _keeps_draws(step) else False
        return old, bool(drawn)
    compute.keeps = all(_keeps_draws(step) for step in computes)
    return compute


def _keeps_draws(compute) -> bool:
    """Does the write keep jac's draws in the values (a scaled draw is still jac's draw, not PyTorch's)?"""
    return getattr(compute, "keeps", False)


def _fans(shape: tuple, what: str, position) -> tuple:
    if len(shape) < 2:
        raise JacValueError(f"{what}: Fan in and fan out can not be computed for tensor with fewer than 2 "
                            f"dimensions (PyTorch's error; the tensor's shape is {shape})", position)
    field = math.prod(shape[2:])
    return shape[1] * field, shape[0] * field


def _gain(nonlinearity: str, a, what: str, position) -> float:
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                        "conv_transpose3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        try:
            return math.sqrt(2.0 / (1 + float(a) ** 2))
        except OverflowError:  # a = 1e200: PyTorch's own float arithmetic raises the same
            raise JacValueError(f"{what}: the negative slope {float(a):g} squared is past a float's range "
                                f"(PyTorch raises OverflowError: (34, 'Numerical result out of range'))",
                                position) from None
    if nonlinearity == "selu":
        return 3.0 / 4
    raise JacValueError(f"{what}: Unsupported nonlinearity {nonlinearity} (PyTorch's error)", position)


def _in_expression(name: str):
    """nn.init.NAME(w, ...) inside an expression (a lambda's body, a value used): refused, saying where it is read."""
    def lower(b, args, kwargs, position):
        if name in _INITS:
            raise JacValueError(f"nn.init.{name}(w, ...) changes w in place: jac reads it as a line of its own (in a "
                                f"def, not a lambda), before the layer's first call", position)
        raise JacValueError(f"nn.init.{name}(w, ...) changes w in place, which jac does not read (it reads nn.init's "
                            f"{', '.join(_INITS)}): bind the values as inputs and write the layer's function "
                            f"(F.linear(x, W, b))", position)
    return lower


for _name in (*_INITS, "trunc_normal_", "orthogonal_", "dirac_", "sparse_"):
    variant("torch.nn.init", _name)(_in_expression(_name))


@variant("torch.nn.init", "calculate_gain")
def _calculate_gain(b, args, kwargs, position):
    """nn.init.calculate_gain(nonlinearity, param=None): PyTorch's recommended gain, a Python number."""
    given = {**dict(zip(("nonlinearity", "param"), args)), **kwargs}
    if not 1 <= len(args) + len(kwargs) <= 2 or set(given) - {"nonlinearity", "param"} \
            or len(given) != len(args) + len(kwargs) or "nonlinearity" not in given:
        raise JacValueError("nn.init.calculate_gain(nonlinearity, param=None) takes a nonlinearity's name", position)
    nonlinearity = static(b, given["nonlinearity"], "calculate_gain's nonlinearity", position)
    param = static(b, given.get("param"), "calculate_gain's param", position) if given.get("param") is not None \
        else None
    if nonlinearity == "leaky_relu" and param is not None and (type(param) is bool
                                                               or not isinstance(param, (int, float))):
        raise JacValueError(f"calculate_gain: negative_slope {param} not a valid number (PyTorch's error)", position)
    return _gain(nonlinearity, 0.01 if param is None else param, "nn.init.calculate_gain", position)


def _initializer(p, name: str, args: dict, what: str, position):
    """The new value of ``nn.init.NAME(w, ...)`` on the parameter's old values."""
    def number(key):
        return _number(p, args[key], f"{what}'s {key}", position)

    def compute(old):
        shape = old.shape
        if name == "constant_":
            return np.full(shape, number("val")), False
        if name in ("zeros_", "ones_"):
            return np.full(shape, 0.0 if name == "zeros_" else 1.0), False
        if name == "eye_":
            if len(shape) != 2:
                raise JacValueError(f"{what}: Only tensors with 2 dimensions are supported (PyTorch's error; the "
                                    f"tensor's shape is {shape})", position)
            return np.eye(*shape), False
        if name == "normal_":
            return _normal(p, number("mean"), number("std"), shape, position), True
        if name == "uniform_":
            return _uniform(p, number("a"), number("b"), shape, position), True
        fan_in, fan_out = _fans(shape, what, position)
        if name.startswith("xavier"):
            gain = number("gain")
            if name == "xavier_uniform_":
                bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
                return _uniform(p, -bound, bound, shape, position), True
            return _normal(p, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), shape, position), True
        mode = _static(p, args["mode"], f"{what}'s mode", position)
        if mode not in ("fan_in", "fan_out"):
            raise JacValueError(f"{what}: Mode {mode} not supported, please use one of fan_in, fan_out (PyTorch's "
                                "error)", position)
        gain = _gain(_static(p, args["nonlinearity"], f"{what}'s nonlinearity", position), number("a"), what,
                     position)
        std = gain / math.sqrt(fan_in if mode == "fan_in" else fan_out)
        if name == "kaiming_uniform_":
            bound = math.sqrt(3.0) * std
            return _uniform(p, -bound, bound, shape, position), True
        return _normal(p, 0.0, std, shape, position), True
    return compute


def _broadcasts(shape: tuple, target: tuple, name: str, position) -> bool:
    """True where values of ``shape`` broadcast to the parameter's ``target`` shape (copy_'s rule); else refused."""
    try:
        if np.broadcast_shapes(shape, target) == target:
            return True
    except ValueError:
        pass
    raise JacValueError(f"the values written into '{name}' have shape {shape}, which does not broadcast to the "
                        f"parameter's shape {target}", position)


def _index(p, node: ast.expr, position):
    """A constant index (integers, slices of them, ..., None; a tuple of them) as Python's."""
    def one(n):
        if type(n) is ast.Slice:
            return slice(*(None if part is None else _int(part) for part in (n.lower, n.upper, n.step)))
        if type(n) is ast.Constant and (n.value is Ellipsis or n.value is None):
            return n.value
        return _int(n)

    def _int(n):
        try:
            return static_int(p.b, p.expression(n), "an index of a parameter's write", p.source.at(n))
        except JacError:
            raise JacValueError(f"a write into a parameter's elements takes integer indices and slices known "
                                f"without the inputs, not '{ast.unparse(n)}'", p.source.at(n)) from None
    return tuple(one(e) for e in node.elts) if type(node) is ast.Tuple else one(node)
