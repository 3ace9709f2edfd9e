"""Plain Python classes of the text (no base, ``object``, another plain class of the text, or a ``@dataclass``):
a Kalman filter's ``kf = Kalman(F, H, Q, R); kf.predict(x, P)``, a counter's ``self.t = self.t + 1``.

An instance is the parser's :class:`~jacobi_cli.lang.parser.Instance` of a :class:`~jacobi_cli.lang.parser.PlainClass`:
one Python object whose ``attributes`` every name holding it shares, so a method that (re)assigns ``self.NAME``
changes what each later call and each other name sees, as Python's objects do. Methods are the text's functions
written out at each call (``_Lowering.call_function``) with ``self`` (or ``cls``) bound; ``@staticmethod``,
``@classmethod``, ``@property``, class attributes (constants), ``__call__``, ``@dataclass`` fields and
``super()`` calls are read; operators, comparisons (``sorted`` / ``min`` / ``max`` of instances run by Python's own
algorithm on the text's comparisons), ``sum``, iteration (``__iter__`` returning ``iter(...)``), ``in``, lists and
dicts an instance holds are Python's; what Python would resolve another way (a metaclass, ``__getattr__``,
descriptors, a generator ``__iter__``, a class attribute changed at run time) is refused where it is written.
"""

from __future__ import annotations

import ast
import sys

import numpy as np

from ..errors import JacError, JacNameError, JacParseError, JacValueError
from ..ir.graph import Tracer
from .copies import is_copy
from .functions import Items, Static
from .trees import Dict

_DATACLASS = ("dataclass", "dataclasses.dataclass")
_DATACLASS_KEYWORDS = ("frozen", "eq", "repr", "order", "unsafe_hash", "init", "kw_only", "slots")
# methods Python never calls by itself in what jac reads (printing, comparing for ==): kept, never run
_IGNORED = frozenset(("__repr__", "__str__", "__format__", "__hash__"))
# what Python resolves another way than jac's plain reading: refused where written
_REFUSED = {
    "__getattr__": "attribute look-ups through __getattr__", "__getattribute__": "attribute look-ups through "
    "__getattribute__", "__setattr__": "attribute writes through __setattr__", "__delattr__": "__delattr__",
    "__get__": "descriptors (__get__)", "__set__": "descriptors (__set__)", "__set_name__": "descriptors",
    "__new__": "__new__", "__init_subclass__": "__init_subclass__", "__class_getitem__": "__class_getitem__",
    "__enter__": "'with' blocks", "__exit__": "'with' blocks", "__next__": "an iterator class (__next__): "
    "write __iter__ as return iter(self.items)", "__setitem__": "writing into an instance", "__delitem__":
    "del of an item", "__bool__": "truth of an instance",
}
# Python's binary operators and the methods that implement them (a + b: a.__add__(b), else b.__radd__(a))
_BINARY = {ast.Add: ("add", "+"), ast.Sub: ("sub", "-"), ast.Mult: ("mul", "*"), ast.MatMult: ("matmul", "@"),
           ast.Div: ("truediv", "/"), ast.FloorDiv: ("floordiv", "//"), ast.Mod: ("mod", "%"), ast.Pow: ("pow", "**"),
           ast.BitAnd: ("and", "&"), ast.BitOr: ("or", "|"), ast.BitXor: ("xor", "^"), ast.LShift: ("lshift", "<<"),
           ast.RShift: ("rshift", ">>")}
_UNARY = {ast.USub: ("__neg__", "-"), ast.UAdd: ("__pos__", "+"), ast.Invert: ("__invert__", "~")}


class Super:
    """``super()`` in a method of ``owner`` with ``self`` (or ``cls``) ``bound``: its base's methods."""

    def __init__(self, owner, bound):
        self.owner, self.bound = owner, bound


class PlainClass:
    """A plain class of the text: its methods' ``def`` nodes (a base's too), how each is called (``kinds``: method,
    static, class, property), the class that defines each (``owners``, for ``super()``), its class attributes
    (``constants``) and dataclass ``fields``; written out at each call, as the parser's ``ModelClass``."""

    entry = "__call__"  # what calling an instance runs

    def __init__(self, name: str, methods: dict):
        self.name, self.methods = name, methods
        self.functions: dict = {}  # method -> the parser's Function, defined once (defaults lowered once)
        self.base, self.dataclass, self.frozen = None, False, False
        self.record = False  # a NamedTuple / namedtuple class: its instances are tuples (Items with record set)
        self.kinds, self.owners, self.constants, self.fields = {}, {}, {}, []
        self.constant_kinds: dict = {}  # class attribute -> the Python sequence (tuple) its array is
        self.generated: dict = {}  # comparison @dataclass wrote (eq, order) -> the fields it compares

    def function(self, lowering, method: str):
        """The method as a Function of ``lowering`` (one object per method and class)."""
        if method not in self.functions:
            self.functions[method] = lowering.define(self.methods[method],
                                                     returns=method not in ("__init__", "__post_init__"))
        return self.functions[method]


def lineage(cls) -> list:
    """``cls`` and its bases, nearest first (``isinstance(obj, Base)``)."""
    out = []
    while cls is not None:
        out.append(cls)
        cls = getattr(cls, "base", None)
    return out


class BoundMethod:
    """``kf.predict`` (or ``Cls.make``, a static or class method) read without a call: called later as the method
    (``f = kf.predict; f(x, P)``, ``rk4(osc.rhs, s, h)``)."""

    def __init__(self, made, name: str):
        self.made, self.name = made, name


class Partial:
    """``functools.partial(f, *args, **kwargs)`` as a value (``tree_map(partial(scale, c=3.0), params)``,
    ``jax.vmap(partial(mlp, params))``): ``f`` called later with these arguments first and the keywords merged, the
    later ones winning, as Python's. A partial of a partial is flattened as Python's ``partial.__new__`` flattens
    it (the inner one's function, its arguments then these, its keywords updated by these), so calling a partial
    of a partial 10,000 deep is one call, not a recursion as deep."""

    def __init__(self, fn, args: list, kwargs: dict):
        if type(fn) is Partial:
            fn, args, kwargs = fn.fn, [*fn.args, *args], {**fn.kwargs, **kwargs}
        self.fn, self.args, self.kwargs = fn, list(args), dict(kwargs)


def _decorator_name(node: ast.expr) -> str:
    return ast.unparse(node.func if isinstance(node, ast.Call) else node)


def declare(lowering, stmt: ast.stmt) -> bool:
    """``class NAME:`` / ``class NAME(object):`` / ``class NAME(Base):`` (Base a plain class of the text) /
    ``@dataclass class NAME:`` at the text's top level: a :class:`PlainClass` bound to NAME. False for a class
    with another base (nn.Module and torch.autograd.Function are read before; the rest is refused as before)."""
    if not isinstance(stmt, ast.ClassDef):
        return False
    position = lowering.source.at(stmt)
    if stmt.keywords:
        raise JacParseError(f"class {stmt.name}({ast.unparse(stmt.keywords[0])}): a metaclass or class keyword is not "
                            "followed; jac reads plain classes (class NAME:, class NAME(Base):) and nn.Module", position)
    base = None
    if len(stmt.bases) > 1:
        raise JacParseError(f"class {stmt.name} has several bases: jac reads one base (a plain class of the text, "
                            "object, or nn.Module)", position)
    if stmt.bases:
        written = stmt.bases[0]
        if isinstance(written, ast.Name) and written.id == "object" and "object" not in lowering.scope:
            pass
        elif isinstance(written, ast.Name) and isinstance(lowering.scope.get(written.id), PlainClass):
            base = lowering.scope[written.id]
        elif spelling(lowering, written) == "typing.NamedTuple":
            return declare_record(lowering, stmt, position)
        else:
            raise JacParseError(f"class {stmt.name}({ast.unparse(written)}): jac reads classes with no base, object, "
                                "a plain class of the text, nn.Module or torch.autograd.Function", position)
    dataclass, frozen, flags = False, False, {"eq": True, "order": False}
    for deco in stmt.decorator_list:
        if _decorator_name(deco) not in _DATACLASS:
            raise JacParseError(f"the decorator @{ast.unparse(deco)} on class {stmt.name} is not followed (jac reads "
                                "@dataclass)", lowering.source.at(deco))
        dataclass = True
        for k in deco.keywords if isinstance(deco, ast.Call) else ():
            if k.arg not in _DATACLASS_KEYWORDS or not isinstance(k.value, ast.Constant):
                raise JacParseError(f"@dataclass({ast.unparse(k)}) is not followed", lowering.source.at(deco))
            if k.arg in ("init", "kw_only", "slots") and k.value.value not in (k.arg == "init", False) \
                    and not (k.arg == "slots" and k.value.value is True):
                raise JacParseError(f"@dataclass({ast.unparse(k)}) is not followed", lowering.source.at(deco))
            frozen = frozen or k.arg == "frozen" and bool(k.value.value)
            if k.arg in flags:
                flags[k.arg] = bool(k.value.value)
    cls = PlainClass(stmt.name, dict(base.methods) if base else {})
    cls.base, cls.dataclass, cls.frozen = base, dataclass or (base.dataclass if base else False), frozen
    cls.kinds = dict(base.kinds) if base else {}
    cls.owners = dict(base.owners) if base else {}
    cls.constants = dict(base.constants) if base else {}
    cls.constant_kinds = dict(base.constant_kinds) if base else {}
    cls.fields = list(base.fields) if base else []
    cls.generated = dict(base.generated) if base else {}
    for item in stmt.body:
        at = lowering.source.at(item)
        if isinstance(item, ast.Pass) or isinstance(item, ast.Expr) and isinstance(item.value, ast.Constant):
            continue
        if isinstance(item, ast.FunctionDef):
            method(lowering, cls, item, at)
            continue
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            if dataclass:
                field(lowering, cls, item, at)
            elif item.value is not None:
                cls.constants[item.target.id] = constant(lowering, cls, item.value, item.target.id, at)
            continue
        if _alias(cls, item, at):  # __rmul__ = __mul__: the one function under two names
            continue
        if isinstance(item, ast.Assign) and len(item.targets) == 1 and isinstance(item.targets[0], ast.Name):
            cls.constants[item.targets[0].id] = constant(lowering, cls, item.value, item.targets[0].id, at)
            continue
        raise JacParseError(f"in class {stmt.name}, jac reads methods, class attributes (NAME = VALUE) and dataclass "
                            f"fields: {ast.unparse(item).splitlines()[0]} is not one", at)
    if dataclass:
        _generated(cls, flags, position)
    lowering.scope[stmt.name] = cls
    return True


def _generated(cls, flags: dict, position: int) -> None:
    """The comparisons ``@dataclass`` writes into the class (``eq=True`` by default: ``__eq__``; ``order=True``:
    ``__lt__`` ... ``__ge__``), each comparing the tuples of the fields when both sides are of the one class; an
    ``__eq__`` the class body defines is kept, an order method it defines is Python's TypeError."""
    names = tuple(n for n, _ in cls.fields)
    own = {n for n, owner in cls.owners.items() if owner is cls}
    if flags["eq"] and "__eq__" not in own:
        cls.methods.pop("__eq__", None)
        cls.generated["__eq__"] = names
    if flags["order"]:
        for name in _ORDER_METHODS:
            if name in own:
                raise JacValueError(f"TypeError: Cannot overwrite attribute {name} in class {cls.name}. Consider using "
                                    "functools.total_ordering, as Python raises", position)
            cls.methods.pop(name, None)
            cls.generated[name] = names


def method(lowering, cls, item: ast.FunctionDef, at: int) -> None:
    """A ``def`` in the class body: a method, ``@staticmethod``, ``@classmethod`` or ``@property``."""
    name = item.name
    if name in _REFUSED:
        raise JacParseError(f"{cls.name}.{name}: jac does not follow {_REFUSED[name]}; write the operation as a "
                            f"method and call it (a.plus(b)), or a function of the text", at)
    if len(item.decorator_list) > 1:
        raise JacParseError(f"{cls.name}.{name}: one decorator at most (@staticmethod, @classmethod, @property)", at)
    kind = "method"
    if item.decorator_list:
        kind = {"staticmethod": "static", "classmethod": "class", "property": "property",
                "functools.cached_property": "property", "cached_property": "property"}.get(
            ast.unparse(item.decorator_list[0]))
        if kind is None:
            raise JacParseError(f"{cls.name}.{name}: the decorator @{ast.unparse(item.decorator_list[0])} is not "
                                "followed (jac reads @staticmethod, @classmethod, @property)", at)
    if name in _IGNORED:
        return
    if kind != "static" and not (item.args.posonlyargs + item.args.args):
        raise JacValueError(f"{cls.name}.{name}() takes no 'self': Python passes the instance (or the class) first; "
                            "mark it @staticmethod", at)
    if name == "__iter__" and any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in ast.walk(item)):
        raise JacParseError(f"{cls.name}.__iter__ is a generator (yield): jac does not run generators; write "
                            "return iter(self.items) (a list the instance holds)", at)
    cls.methods[name] = item
    cls.kinds[name] = kind
    cls.owners[name] = cls
    cls.functions.pop(name, None)
    cls.generated.pop(name, None)


def _alias(cls, item: ast.stmt, at: int) -> bool:
    """``NAME = METHOD`` in a class body, METHOD a method defined above it (``__rmul__ = __mul__``): NAME is the
    same function."""
    if not (isinstance(item, ast.Assign) and len(item.targets) == 1 and isinstance(item.targets[0], ast.Name)
            and isinstance(item.value, ast.Name) and item.value.id in cls.methods):
        return False
    name, source = item.targets[0].id, item.value.id
    if name in _REFUSED:
        raise JacParseError(f"{cls.name}.{name}: jac does not follow {_REFUSED[name]}", at)
    cls.methods[name] = cls.methods[source]
    cls.kinds[name] = cls.kinds.get(source, "method")
    cls.owners[name] = cls
    cls.functions.pop(name, None)
    cls.generated.pop(name, None)
    return True


def constant(lowering, cls, value: ast.expr, name: str, at: int):
    """A class attribute: evaluated once, when the class is made; a list or dict (shared by every instance,
    changed in place through any) refused."""
    if isinstance(value, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp)):
        raise JacValueError(f"{cls.name}.{name} is a list or dict shared by every instance (Python's class "
                            f"attribute): set it in __init__ (self.{name} = ...) instead", at)
    out = lowering.expression(value)
    kind = lowering.python_kind(value, out)
    if type(out) is Tracer and kind is not None:  # DIMS = (2, 3): DIMS + (4,) is a tuple's +
        cls.constant_kinds[name] = kind
    else:
        cls.constant_kinds.pop(name, None)
    return out


def field(lowering, cls, item: ast.AnnAssign, at: int) -> None:
    """``NAME: TYPE`` or ``NAME: TYPE = DEFAULT`` of a ``@dataclass``: an ``__init__`` parameter."""
    name = item.target.id
    if "ClassVar" in ast.unparse(item.annotation):
        if item.value is not None:
            cls.constants[name] = constant(lowering, cls, item.value, name, at)
        return
    default = None
    if item.value is not None:
        if isinstance(item.value, ast.Call) and _decorator_name(item.value) in ("field", "dataclasses.field"):
            raise JacParseError(f"{cls.name}.{name} = field(...) is not followed: write a default value, or set it "
                                "in __post_init__", at)
        default = constant(lowering, cls, item.value, name, at)
    elif any(d is not None for _, d in cls.fields):
        raise JacValueError(f"{cls.name}: non-default argument '{name}' follows default argument (Python's "
                            "TypeError)", at)
    cls.fields = [(n, d) for n, d in cls.fields if n != name] + [(name, default)]


def make(lowering, made, args: list, kwargs: dict, position: int, kinds: tuple = ((), {})):
    """``cls(*args, **kwargs)`` of ``made``, the parser's new ``Instance`` of a :class:`PlainClass`: its
    ``__init__`` run (a dataclass's made of its fields, then its ``__post_init__``); ``kinds``: the Python sequence
    each argument is where jac holds it as one array (a dataclass's field keeps it)."""
    cls = made.cls
    made.depth = len(lowering.sharing)  # the calls it was made inside (a transform's: its own)
    if cls.record:
        names = [n for n, _ in cls.fields]
        given_kinds = {**dict(zip(names, kinds[0])), **kinds[1]}
        _no_sequences(cls, {n: given_kinds.get(n) if n in given_kinds else cls.constant_kinds.get(n) for n in names},
                       position)
        return record(cls, _fields_given(cls, args, kwargs, position))
    if cls.dataclass and "__init__" not in cls.methods:
        names = [n for n, _ in cls.fields]
        if len(args) > len(names):
            raise JacValueError(f"{cls.name}() takes {len(names)} positional arguments but {len(args)} were given",
                                position)
        given = dict(zip(names, args))
        given_kinds = {**dict(zip(names, kinds[0])), **kinds[1]}
        for key, value in kwargs.items():
            if key not in names:
                raise JacValueError(f"{cls.name}() got an unexpected keyword argument '{key}'", position)
            if key in given:
                raise JacValueError(f"{cls.name}() got multiple values for argument '{key}'", position)
            given[key] = value
        for name, default in cls.fields:
            if name not in given and default is None:
                raise JacValueError(f"{cls.name}() missing required argument: '{name}'", position)
            kind = given_kinds.get(name) if name in given else cls.constant_kinds.get(name)
            set_attribute(lowering, made, name, given.get(name, default), position, initial=True, kind=kind)
        if "__post_init__" in cls.methods:
            call(lowering, made, "__post_init__", [], {}, position, initial=True)
        return made
    if "__init__" not in cls.methods:
        if args or kwargs:
            raise JacValueError(f"{cls.name}() takes no arguments (it has no __init__)", position)
        return made
    call(lowering, made, "__init__", args, kwargs, position, initial=True)
    return made


def call(lowering, made, name: str, args: list, kwargs: dict, position: int, owner=None, initial: bool = False):
    """``made.name(*args)``: a method of the instance (or, ``made`` a class, a static or class method), its body
    written out with ``self`` / ``cls`` bound; ``owner``: the class whose definition to run (``super()``'s)."""
    if type(made) is Items and name == "_replace":  # f = s._replace; f(x=v): refused
        return record_method(lowering, made, name, args, kwargs, position)
    cls = made if isinstance(made, PlainClass) else class_of(made)
    owner = owner or cls
    if name not in owner.methods:
        where = f"{owner.name}'s base" if owner is not cls else cls.name
        if name == "__call__":
            raise JacValueError(f"TypeError: '{cls.name}' object is not callable (it has no __call__ method), as "
                                "Python raises", position)
        raise JacNameError(f"{where} has no method '{name}' (jac reads the methods its class statement defines)",
                           position)
    node, given = getattr(lowering, "plain_call", None) or (None, None)
    lowering.plain_call = None
    if given is not args:  # called another way than as written (a transform's, a container's): no marks
        node = None
    kind = owner.kinds.get(name, "method")
    if kind == "property":
        raise JacValueError(f"{cls.name}.{name} is a property: read it without calling it", position)
    skipped = 0
    if kind == "method" and made is cls:
        if not args:
            raise JacValueError(f"{cls.name}.{name}() needs an instance first (Python's TypeError)", position)
        made, args, skipped = args[0], list(args[1:]), 1
    defining = owner.owners[name]
    fn = defining.function(lowering, name)
    first = [] if kind == "static" else [cls if kind == "class" else made]
    saved = getattr(lowering, "plain_owners", ())
    lowering.plain_owners = saved + ((defining, made),)
    initial_saved = getattr(lowering, "plain_making", ())
    frames = getattr(lowering, "plain_frames", frozenset())
    lowering.plain_frames = frames | {len(lowering.sharing)}  # the call's frame: a method's, no transform's
    if initial:
        lowering.plain_making = initial_saved + (made,)
    marks, passed, copied = ((), ()), None, frozenset()
    if node is not None:  # as the parser's call_text_function: f(x, x.shape) keeps s + (1,) a tuple's +
        params = fn.positional[len(first):]
        pairs = [*zip(params, node.args[skipped:]), *((k.arg, k.value) for k in node.keywords)]
        marks = ([n for n, a in pairs if id(a) in lowering.sequences], [n for n, a in pairs if id(a) in lowering.tuples])
        passed = {p: a.id for p, a in pairs if type(a) is ast.Name}
        copied = frozenset(p for p, a in pairs if is_copy(a))
    try:
        found = lowering.call_function(fn, first + list(args), kwargs, position, marks, direct=node is not None,
                                       passed=passed, copied=copied)
        result = lowering.returned if fn.early else fn.result
        if node is not None and result is not None and id(result) in lowering.sequences:
            lowering.mark(node, "tuple" if id(result) in lowering.tuples else "list")  # obj.dims() + (1,)
        return found
    finally:
        lowering.plain_owners = saved
        lowering.plain_making = initial_saved
        lowering.plain_frames = frames
        held(lowering)


def _in_transform(lowering, made) -> bool:
    """Is a call of a transform (jax.vmap, lax.scan, jax.grad, a callback of the library) running, entered after
    ``made`` was made? jac writes such a function out once per element or per step where the library traces it
    once, so a write into the instance would happen a different number of times (and JAX's would leak a tracer)."""
    frames = getattr(lowering, "plain_frames", frozenset())
    return any(not frame[0] and i not in frames for i, frame in enumerate(lowering.sharing)
               if i >= getattr(made, "depth", 0))


def held(lowering) -> None:
    """The arrays the instances hold, as names of the memory again (a call's end forgets the names bound in it):
    a later write into an array an instance holds (``x[0] = 5`` after ``self.x = x``) is refused as shared."""
    for key, value in getattr(lowering, "plain_held", {}).items():
        if key not in lowering.memory.tokens:
            _bind(lowering, key, value)


def attribute(lowering, value, name: str, position: int):
    """``inst.NAME`` (an attribute, a property run, a class attribute) or ``Cls.NAME`` (a class attribute)."""
    if isinstance(value, Super):
        return _super_attribute(lowering, name, position)
    cls = value if isinstance(value, PlainClass) else value.cls
    if value is not cls and name in value.attributes:
        return value.attributes[name]
    if value is not cls and cls.kinds.get(name) == "property":
        return _property(lowering, value, name, position)
    if name in cls.constants:
        return cls.constants[name]
    if name in cls.methods:
        if value is cls and cls.kinds.get(name) == "method":
            raise JacValueError(f"{cls.name}.{name} is a method of its instances: call it on one (obj.{name}(...))",
                                position)
        return BoundMethod(value, name)
    raise JacNameError(f"AttributeError: '{cls.name}' object has no attribute '{name}', as Python raises (set it in "
                       f"__init__ as self.{name} = ..., or make it a class attribute or a @property)", position)


def _super_attribute(lowering, name: str, position: int):
    """``super().NAME`` read without a call in a method: the base's property run with the same ``self``, or its class
    attribute."""
    stack = getattr(lowering, "plain_owners", ())
    base = stack[-1][0].base if stack else None
    if base is not None and base.kinds.get(name) == "property":
        return _property(lowering, stack[-1][1], name, position, base.owners[name])
    if base is not None and name in base.constants and name not in base.methods:
        return base.constants[name]
    raise JacParseError(f"super().{name}: jac reads super().METHOD(...) calls, and a base's property or class attribute "
                        "read through super()", position)


def _property(lowering, made, name: str, position: int, owner=None):
    """``inst.NAME`` of a ``@property``: its body run with ``self`` bound (``owner``: the class whose definition runs,
    ``super()``'s)."""
    owner = owner or class_of(made).owners[name]
    fn = owner.function(lowering, name)
    saved, frames = getattr(lowering, "plain_owners", ()), getattr(lowering, "plain_frames", frozenset())
    lowering.plain_owners = saved + ((owner, made),)
    lowering.plain_frames = frames | {len(lowering.sharing)}
    try:
        return lowering.call_function(fn, [made], {}, position)
    finally:
        lowering.plain_owners = saved
        lowering.plain_frames = frames


def set_attribute(lowering, made, name: str, value, position: int, initial: bool = False, kind=None) -> None:
    """``made.NAME = value``: the one object changed, so every name holding it sees the new value; ``kind``: the
    Python sequence the value is where jac holds it as one array (``lowering.python_kind``: "tuple", "list")."""
    if isinstance(made, PlainClass):
        raise JacValueError(f"{made.name}.{name} = ...: a class attribute changed at run time is not followed "
                            f"(every instance would see it); keep it on the instance (self.{name} = ...)", position)
    if made.cls.frozen and not initial and made not in getattr(lowering, "plain_making", ()):
        raise JacValueError(f"cannot assign to field '{name}' (Python's FrozenInstanceError: {made.cls.name} is a "
                            "frozen dataclass)", position)
    if _in_transform(lowering, made):
        raise JacValueError(f"self.{name} = ... inside a function a transform calls (jax.vmap, lax.scan, jax.grad, "
                            f"...): the library traces it once, jac writes it out per element or step, so the "
                            f"{made.cls.name} instance would change a different number of times; return the new value "
                            f"from the function and assign it outside", position)
    if made.cls.kinds.get(name) == "property":
        raise JacValueError(f"{made.cls.name}.{name} is a property without a setter (Python's AttributeError)",
                            position)
    made.attributes[name] = value
    kinds = _kinds(lowering)
    if type(value) is Tracer and kind is not None:  # self.shape = x.shape, self.c = [1.0, 2.0]: self.c + [3.0]
        # is Python's concatenation, as for a name holding it
        kinds[(id(made), name)] = kind
    else:
        kinds.pop((id(made), name), None)
    if getattr(lowering, "plain_held", None) is None:
        lowering.plain_held, lowering.plain_keys = {}, {}
    if id(made) not in lowering.plain_keys:  # the name the instance was made as (kf), once per instance
        taken = {k for k, _ in lowering.plain_keys.values()}
        base = made.prefix if made.prefix and made.prefix.isidentifier() else made.cls.name
        found = next(f"{base}{'' if k == 0 else f' ({k + 1})'}" for k in range(len(taken) + 1)
                     if f"{base}{'' if k == 0 else f' ({k + 1})'}" not in taken)
        lowering.plain_keys[id(made)] = (found, made)  # the instance kept: its id names no other
    key = f"{lowering.plain_keys[id(made)][0]}.{name}"
    lowering.plain_held.pop(key, None)
    lowering.memory.tokens.pop(key, None)
    if type(value) in (Tracer, Items, Dict):  # a write into an array it holds (x[0] = 5 after self.x = x,
        lowering.plain_held[key] = value  # after self.history.append(x), or self.params = {'w': x}) is refused as
        _bind(lowering, key, value)  # shared


def _bind(lowering, key: str, value) -> None:
    """The memory's name ``key`` (``kf.params``) for the arrays ``value`` holds (a dict's at any depth)."""
    if type(value) is not Dict:
        lowering.memory.bind(key, value, False)
        return
    arrays, pending = [], [value]
    while pending:
        item = pending.pop()
        if type(item) is Tracer:
            arrays.append(item)
        elif type(item) is Dict:
            pending.extend(item.values())
        elif type(item) is Items:
            pending.extend(item)
    lowering.memory.tokens[key] = frozenset().union(*(lowering.memory._base(a) for a in arrays))


def plain_instance(value) -> bool:
    """Is ``value`` the parser's ``Instance`` of a plain class?"""
    return isinstance(getattr(value, "cls", None), PlainClass) and hasattr(value, "attributes")


def copied(lowering, made, deep: bool, position: int, memo: dict | None = None):
    """``copy.copy(obj)`` (a new instance holding the same attribute values) or ``copy.deepcopy(obj)`` (the
    instances it holds copied too, each once)."""
    memo = {} if memo is None else memo
    if id(made) in memo:
        return memo[id(made)]
    out = memo[id(made)] = type(made)(made.cls, made.prefix, lowering)
    out.depth = len(lowering.sharing)
    for key, value in made.attributes.items():
        kind = python_kind(lowering, made, key)
        if deep and plain_instance(value):
            value = copied(lowering, value, True, position, memo)
        elif deep and type(value) in (Items, Dict):  # deepcopy makes new lists and dicts (and tuples holding them)
            value = _deep_items(lowering, value, position, memo)
        elif deep and type(value) is Tracer and kind == "list" and value.shape == (0,):
            value = _empty_list()  # an empty list given to __init__: a new one
        set_attribute(lowering, out, key, value, position, initial=True, kind=kind)
    return out


def _deep_items(lowering, value: Items, position: int, memo: dict) -> Items:
    """``copy.deepcopy`` of a list or tuple an instance holds: new lists (one per list, shared ones once), the
    instances in it copied."""
    if id(value) in memo:
        return memo[id(value)]
    if type(value) is Dict:  # self.params = {...}: a new dict of the values copied
        out = memo[id(value)] = Dict([(k, copied(lowering, v, True, position, memo) if plain_instance(v) else
                                      _deep_items(lowering, v, position, memo) if type(v) in (Items, Dict) else v)
                                     for k, v in value.items()], position)
        return out
    parts = [copied(lowering, p, True, position, memo) if plain_instance(p) else
             _deep_items(lowering, p, position, memo) if type(p) in (Items, Dict) else p for p in value]
    out = Items(parts)
    out.display, out.fields, out.record = value.display, value.fields, value.record
    memo[id(value)] = out
    return out


def owner_of(lowering, node: ast.expr):
    """The plain instance (or class, or ``super()``) an attribute chain written ``node`` reaches without running
    anything (``self``, ``kf``, ``self.inner``), else None."""
    if isinstance(node, ast.Name):
        value = lowering.scope.get(node.id)
    elif isinstance(node, ast.Attribute):
        base = owner_of(lowering, node.value)
        value = base.attributes.get(node.attr) if base is not None and not isinstance(base, (PlainClass, Super)) \
            else None
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super":
        return Super(None, None)
    elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) \
            and isinstance(node.value, (ast.Name, ast.Attribute, ast.Subscript)):  # t[0].bump(): read, no effect
        base = node.value
        while isinstance(base, (ast.Attribute, ast.Subscript)):
            base = base.value
        if not isinstance(base, ast.Name) or base.id not in lowering.scope:
            return None
        try:
            value = lowering.expression(node)
        except JacError:
            return None
    else:
        return None
    return value if plain_instance(value) or isinstance(value, PlainClass) else None


def statement(lowering, stmt: ast.stmt) -> bool:
    """An assignment to a plain instance's attribute (``self.t = self.t + 1``, ``self.F, self.H = F, H``,
    ``self.t += 1``) or a method called for what it changes (``kf.step(z)``): done; False for any other."""
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Attribute) \
            and owner_of(lowering, stmt.value.func.value) is not None:
        lowering.expression(stmt.value)  # its value (None, most often) dropped, as Python drops it
        return True
    if isinstance(stmt, ast.AugAssign) and augmented(lowering, stmt):  # d += e of a Dual: __iadd__ or __add__
        return True
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Name) \
            and (plain_instance(lowering.scope.get(stmt.value.func.id)) or stmt.value.func.id == "setattr"
                 and "setattr" not in lowering.scope):  # rnn(xs) called for what it records, setattr(obj, k, v)
        lowering.expression(stmt.value)
        return True
    if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Attribute) \
            and owner_of(lowering, stmt.target.value) is not None:
        position = lowering.source.at(stmt)
        owner = lowering.expression(stmt.target.value)
        kind = python_kind(lowering, owner, stmt.target.attr)
        if kind == "list":  # Python's list += extends the one list in place (every name holding it sees it)
            if not isinstance(stmt.op, ast.Add) or _held_list(lowering, stmt.target) is None:
                raise JacValueError(f"{ast.unparse(stmt).split('=')[0].strip()}= ...: a list an instance holds "
                                    "changed in place this way is not followed; write "
                                    f"{ast.unparse(stmt.target)}.extend(...) for +=, or assign a new list", position)
            extend = ast.Expr(value=ast.Call(func=ast.Attribute(value=stmt.target, attr="extend", ctx=ast.Load()),
                                             args=[stmt.value], keywords=[]))
            return held_list_statement(lowering, ast.fix_missing_locations(ast.copy_location(extend, stmt)))
        current = attribute(lowering, owner, stmt.target.attr, position)
        if type(current) is Tracer and (current.ndim > 0 or lowering.library_made.get(current.id) in ("array", "torch")):
            # an array's += writes into it: exact as a new value only where no input, no other name and no other
            # attribute holds its memory (scatter.Memory), as for a name's y += v
            held(lowering)
            key = next((k for k, v in getattr(lowering, "plain_held", {}).items() if v is current
                        and k.endswith(f".{stmt.target.attr}")), None)
            spelled = ast.unparse(stmt.target)
            longhand = ast.unparse(ast.BinOp(left=stmt.target, op=stmt.op, right=ast.Name(id="v")))
            if key is None:
                raise JacValueError(f"{ast.unparse(stmt).split('=')[0].strip()}= v: the array {spelled} holds is "
                                    f"changed in place, which jac does not follow here; write "
                                    f"{spelled} = {longhand}", position)
            lowering.memory.check(key, f"{ast.unparse(stmt).split('=')[0].strip()}= ... (in place)", position)
        read = ast.copy_location(ast.Attribute(value=stmt.target.value, attr=stmt.target.attr, ctx=ast.Load()),
                                 stmt.target)
        combined = ast.fix_missing_locations(ast.copy_location(ast.BinOp(left=read, op=stmt.op, right=stmt.value),
                                                               stmt))
        set_attribute(lowering, owner, stmt.target.attr, lowering.expression(combined), position)
        return True
    if held_list_statement(lowering, stmt):  # self.history.append(v), self.hs[0] = v (a list an instance holds)
        return True
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) \
            and isinstance(stmt.value, ast.Call) and spelling(lowering, stmt.value.func) == "collections.namedtuple":
        call_node = stmt.value  # S = namedtuple('S', 'x v'): the class, bound to S
        kids = [lowering.expression(a) for a in call_node.args + [k.value for k in call_node.keywords]]
        lowering.scope[stmt.targets[0].id] = namedtuple(lowering, call_node, kids, stmt.targets[0].id,
                                                        lowering.source.at(call_node))
        return True
    for target in _targets(stmt) if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)) else ():
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) \
                and is_record(lowering.scope.get(target.value.id)):
            raise JacValueError(f"AttributeError: can't set attribute '{target.attr}' of a "
                                f"{lowering.scope[target.value.id].record.name} (a NamedTuple), as Python raises; "
                                f"make a new one: {target.value.id} = {target.value.id}._replace({target.attr}=...)",
                                lowering.source.at(target))
    if not (isinstance(stmt, (ast.Assign, ast.AnnAssign)) and any(_reaches(lowering, t) for t in _targets(stmt))):
        return False
    if isinstance(stmt, ast.AnnAssign) and stmt.value is None:
        return True
    targets = _targets(stmt)
    if len(targets) == 1 and isinstance(targets[0], (ast.Tuple, ast.List)) and isinstance(stmt.value, ast.Tuple) \
            and len(stmt.value.elts) == len(targets[0].elts) \
            and not any(isinstance(e, ast.Starred) for e in stmt.value.elts + targets[0].elts):
        values = [_value(lowering, e) for e in stmt.value.elts]  # self.v, self.nxt = v, nxt: each its own value
        for target, e, value in zip(targets[0].elts, stmt.value.elts, values):  # (an instance beside an array), all
            bind(lowering, target, value, e, lowering.source.at(target))  # before any binding
        return True
    value = _value(lowering, stmt.value)
    for target in targets:
        bind(lowering, target, value, stmt.value, lowering.source.at(target))
    return True


def _value(lowering, node: ast.expr):
    """The right side of ``self.NAME = node``: an empty list (``[]``, ``list()``) Python's list of no items, which
    ``self.NAME.append(v)`` fills; else the expression's value."""
    if isinstance(node, ast.List) and not node.elts or isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
            and node.func.id == "list" and not node.args and not node.keywords and "list" not in lowering.scope:
        return _empty_list()
    return lowering.expression(node)


def _empty_list() -> Items:
    out = Items(())
    out.display = "list"
    return out


def _kinds(lowering) -> dict:
    """(id of an instance, attribute) -> the Python sequence its array is (tuple, list, range), for this parse."""
    if getattr(lowering, "plain_kinds", None) is None:
        lowering.plain_kinds = {}
    return lowering.plain_kinds


def python_kind(lowering, value, name: str):
    """The Python sequence (tuple, list, range) ``value.NAME`` (an instance's or a class's attribute) is where jac holds
    it as one array, else None."""
    if isinstance(value, PlainClass):
        return value.constant_kinds.get(name)
    if plain_instance(value) and name in value.attributes:
        held = value.attributes[name]
        if type(held) is Items and held.display in ("list", "tuple"):  # self.h + [v]: Python's concatenation
            return held.display
        return _kinds(lowering).get((id(value), name))
    if plain_instance(value) and value.cls.kinds.get(name) == "property":  # just read: its return's
        fn = value.cls.owners[name].function(lowering, name)
        result = lowering.returned if fn.early else fn.result
        if result is not None and id(result) in lowering.sequences:
            return "tuple" if id(result) in lowering.tuples else "list"
    return None


_DICT_METHODS = ("update", "setdefault", "clear", "popitem")  # a dict's changes in place (pop: a list's too)
_LIST_METHODS = ("append", "extend", "insert", "pop", "clear", "reverse", "sort", "remove")


def _held_list(lowering, node: ast.expr):
    """``node`` is ``OWNER.NAME`` of a plain instance holding Python's list (``self.history``): (instance, NAME)."""
    if not isinstance(node, ast.Attribute):
        return None
    owner = owner_of(lowering, node.value)
    if owner is None or isinstance(owner, (PlainClass, Super)):
        return None
    value = owner.attributes.get(node.attr)
    empty = type(value) is Tracer and value.shape == (0,) and python_kind(lowering, owner, node.attr) == "list"
    return (owner, node.attr) if type(value) is Items and value.display == "list" or empty else None


def _held_dict(lowering, node: ast.expr):
    """``node`` is ``OWNER.NAME`` of a plain instance holding a dict (``self.params``): (instance, NAME)."""
    if not isinstance(node, ast.Attribute):
        return None
    owner = owner_of(lowering, node.value)
    if owner is None or isinstance(owner, (PlainClass, Super)):
        return None
    return (owner, node.attr) if type(owner.attributes.get(node.attr)) is Dict else None


def held_list_statement(lowering, stmt: ast.stmt) -> bool:
    """``self.history.append(v)`` (``extend``, ``insert``, ``pop``, ``clear``, ``reverse``, ``v = self.hs.pop()``)
    and ``self.hs[i] = v`` of a list an instance holds: the statement run on a name bound to that list (the parser's
    own list changes, which change the one list every name holding it sees, :func:`swapped` the instances'
    attributes), the attribute then the changed list."""
    call = stmt.value if isinstance(stmt, (ast.Expr, ast.Assign)) else None
    if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in _DICT_METHODS \
            and _held_dict(lowering, call.func.value) is not None:  # self.params.update(...): as for a name's
        from .trees import refuse_statement
        refuse_statement(call.func.attr, lowering.source.at(call))
    if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in _LIST_METHODS:
        found, spot = _held_list(lowering, call.func.value), call.func
    elif isinstance(stmt, (ast.Assign, ast.AugAssign)) and len(_targets(stmt)) == 1 \
            and isinstance(_targets(stmt)[0], ast.Subscript):  # self.hs[0] = v, self.params['w'] = v
        spot = _targets(stmt)[0]
        found = _held_list(lowering, spot.value) or _held_dict(lowering, spot.value)
    else:
        return False
    if found is None:
        owner = owner_of(lowering, spot.value.value) if isinstance(spot.value, ast.Attribute) else None
        if owner is not None and not isinstance(owner, (PlainClass, Super)) \
                and python_kind(lowering, owner, spot.value.attr) == "list":
            raise JacValueError(f"{ast.unparse(spot)}: the list of numbers {ast.unparse(spot.value)} is held as one "
                                f"array, which jac does not change in place; assign it anew ({ast.unparse(spot.value)}"
                                f" = {ast.unparse(spot.value)} + [v])", lowering.source.at(spot))
        return False
    made, name = found
    spelled = ast.unparse(spot.value)  # self.history: a name no identifier can be
    current = made.attributes[name]
    renamed = ast.fix_missing_locations(_renamed(stmt, spot, spelled))
    key = f"{lowering.plain_keys[id(made)][0]}.{name}" if id(made) in getattr(lowering, "plain_keys", {}) else None
    tokens = lowering.memory.tokens.pop(key, None)  # the instance's own name of the container: one of its holders,
    if tokens is not None:  # written through spelled (held() names it again after)
        lowering.memory.tokens[spelled] = tokens
    lowering.scope[spelled] = current
    if type(current) is not Dict:
        lowering.sequence_names.add(spelled)
    saved = lowering.locals
    if saved is not None:  # a name of the method's own (the instance is seen through swapped, not as a caller's)
        lowering.locals = (saved[0], saved[1] | {spelled})
    try:
        lowering.run(renamed)
        new = lowering.scope[spelled]
    finally:
        lowering.locals = saved
        lowering.scope.pop(spelled, None)
        lowering.memory.tokens.pop(spelled, None)
        lowering.sequence_names.discard(spelled)
        held(lowering)  # the instances' arrays and lists as names of the memory again (o.h may be spelled so)
    if made.attributes.get(name) is not new:  # a change the parser made without swapping (none known): kept
        set_attribute(lowering, made, name, new, lowering.source.at(stmt))
    return True


def _renamed(stmt: ast.stmt, spot: ast.expr, spelled: str) -> ast.stmt:
    """``stmt`` with ``spot.value`` (``self.history``) read as the name ``spelled``, at the same place."""
    import copy

    out = copy.copy(stmt)
    name = ast.copy_location(ast.Name(id=spelled, ctx=ast.Load()), spot.value)
    inner = copy.copy(spot)
    inner.value = name
    if isinstance(stmt, ast.AugAssign) or isinstance(stmt, ast.Assign) and spot is stmt.targets[0]:
        out.targets = [inner] if isinstance(stmt, ast.Assign) else None
        if isinstance(stmt, ast.AugAssign):
            out.target = inner
        return out
    call = copy.copy(stmt.value)
    call.func = inner
    out.value = call
    return out


def swapped(lowering, old, new) -> None:
    """Python's list ``old`` changed in place into ``new`` (the parser's ``swap_inside``): each instance attribute
    holding it holds ``new``, as the one object changed; one holding it inside a tuple or another list, refused."""
    for _, made in list(getattr(lowering, "plain_keys", {}).values()):
        for name, value in list(made.attributes.items()):
            if value is old:
                set_attribute(lowering, made, name, new, None, initial=True)
            elif type(value) in (Items, Dict) and holds_inside(value, old):
                kind = "dict" if type(old) is Dict else "list"
                raise JacValueError(f"a {kind} that {made.cls.name}.{name} holds inside a tuple, list or dict is changed "
                                    f"in place, which jac does not follow there; hold the {kind} as an attribute of its "
                                    "own", None)


def _targets(stmt) -> list:
    return stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]


def _reaches(lowering, target: ast.expr) -> bool:
    if isinstance(target, ast.Attribute):
        return owner_of(lowering, target.value) is not None
    if isinstance(target, (ast.Tuple, ast.List)):
        return any(_reaches(lowering, t) for t in target.elts)
    return False


def bind(lowering, target: ast.expr, value, written: ast.expr | None, position: int) -> None:
    """``target = value`` (value already computed, as Python computes the right side first)."""
    if isinstance(target, ast.Attribute):
        owner = lowering.expression(target.value)
        if isinstance(owner, Super):
            raise JacParseError("an assignment to super().NAME is not followed", position)
        kind = lowering.python_kind(written, value) if written is not None else None
        set_attribute(lowering, owner, target.attr, value, position, kind=kind)
        return
    if isinstance(target, (ast.Tuple, ast.List)):
        if any(isinstance(t, ast.Starred) for t in target.elts):
            raise JacParseError("a starred target beside an attribute (self.a, *rest = ...) is not followed", position)
        if isinstance(value, Items):
            parts = list(value)
        elif type(value) is Tracer and value.ndim > 0:
            parts = [lowering.b.apply("getitem", value, index=(k,), position=position) for k in range(value.shape[0])]
        else:
            raise JacValueError(f"cannot unpack a {type(value).__name__} into {ast.unparse(target)}", position)
        if len(parts) != len(target.elts):
            raise JacValueError(f"{ast.unparse(target)} = ...: {len(parts)} values to unpack into "
                                f"{len(target.elts)} names (Python's ValueError)", position)
        for t, part in zip(target.elts, parts):
            bind(lowering, t, part, None, position)
        return
    if isinstance(target, ast.Name):
        temp = f"plain value {id(value)}"
        lowering.scope[temp] = value
        try:
            lowering.statement(ast.copy_location(ast.Assign(targets=[target], value=ast.copy_location(
                ast.Name(id=temp, ctx=ast.Load()), target)), target))
        finally:
            lowering.scope.pop(temp, None)
            lowering.memory.tokens.pop(temp, None)
        return
    raise JacParseError(f"{ast.unparse(target)} beside an attribute in one assignment is not followed: assign it on "
                        "a line of its own", position)


def super_call(lowering, node: ast.Call, kids: list, fname: str, position: int):
    """``super().NAME(args)`` in a method: the base's NAME with the same ``self`` (or ``cls``)."""
    stack = getattr(lowering, "plain_owners", ())
    if not stack:
        raise JacParseError("super() outside a method of a class of the text", position)
    defining, made = stack[-1]
    if defining.base is None:
        if fname == "__init__":
            return None  # object.__init__(): nothing
        raise JacNameError(f"super().{fname}: {defining.name} has no base class with it", position)
    args = kids[1: len(kids) - len(node.keywords)]
    kwargs = {k.arg: v for k, v in zip(node.keywords, kids[len(kids) - len(node.keywords):])}
    if fname == "__init__" and "__init__" not in defining.base.methods and defining.base.dataclass:
        fresh = make(lowering, type(made)(defining.base, made.prefix, lowering), args, kwargs, position)
        for key, value in fresh.attributes.items():
            set_attribute(lowering, made, key, value, position, initial=True)
        return None
    if fname == "__init__" and "__init__" not in defining.base.methods:
        if args or kwargs:
            raise JacValueError(f"{defining.base.name}.__init__() takes no arguments", position)
        return None
    return call(lowering, made, fname, args, kwargs, position, owner=defining.base, initial=fname == "__init__")


def holds_inside(container, value) -> bool:
    """Does the tuple, list or dict ``container`` hold ``value``, at any depth?"""
    pending = [container]
    while pending:
        item = pending.pop()
        parts = item.values() if type(item) is Dict else item
        if any(part is value for part in parts):
            return True
        pending.extend(part for part in parts if type(part) in (Items, Dict))
    return False


# --- operators, len(), abs(), obj[i], getattr / setattr / hasattr: Python's protocols on a plain instance ---------------

def _type_name(lowering, value) -> str:
    """Python's name of ``value``'s type, as its TypeError says it."""
    if plain_instance(value):
        return value.cls.name
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return type(value).__name__
    if type(value) is Tracer:
        if _python_number(lowering, value):
            return "int" if lowering.b.pyints.get(value.id) is not None or isinstance(
                lowering.b.nodes[value.id].value, int) else "float"
        return {"torch": "Tensor", "jax": "Array"}.get(lowering.library_made.get(value.id), "numpy.ndarray")
    return type(value).__name__


def _python_number(lowering, value) -> bool:
    """Is ``value`` a Python int or float of the text (3, 0.5), whose operators give way to an instance's reflected
    method (int.__mul__(dual) is NotImplemented: Python calls dual.__rmul__(3))?"""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return True
    if type(value) is not Tracer or lowering.library_made.get(value.id) is not None:
        return False
    node = lowering.b.nodes[value.id]
    return node.op == "const" and not isinstance(node.value, np.ndarray)


def binary(lowering, node: ast.BinOp, kids: list, position: int):
    """``a OP b`` where one side is a plain instance: ``a.__op__(b)``, else ``b.__rop__(a)``, as Python resolves it
    (the reflected method first where b's class is a subclass of a's that overrides it)."""
    name, symbol = _BINARY[type(node.op)]
    left, right = kids
    lcls = left.cls if plain_instance(left) else None
    if lcls is None or f"__{name}__" not in lcls.methods:  # Python asks the left operand first: an array's own
        value = left if lcls is None else right  # operator (NumPy's, PyTorch's) would see the instance
        if not plain_instance(value) and not _python_number(lowering, value):
            other = right if value is left else left
            raise JacValueError(f"{_type_name(lowering, left)} {symbol} {_type_name(lowering, right)}: an array beside "
                                f"a {other.cls.name} instance is read differently by NumPy (an array of objects, "
                                f"calling the method per element) and PyTorch (the {other.cls.name}'s method on the "
                                f"whole tensor), so jac does not guess; call the method yourself "
                                f"({other.cls.name}.__{name}__ / __r{name}__)", position)
    rcls = right.cls if plain_instance(right) else None
    forward, reflected = f"__{name}__", f"__r{name}__"
    if rcls is not None and lcls is not None and rcls is not lcls and lcls in lineage(rcls) \
            and reflected in rcls.methods and rcls.owners[reflected] is rcls:
        raise JacValueError(f"{lcls.name} {symbol} {rcls.name}: Python tries the subclass's {reflected} first; jac "
                            "does not follow that order: call the method yourself", position)
    if lcls is not None and forward in lcls.methods:
        return call(lowering, left, forward, [right], {}, position)
    if rcls is not None and (rcls is not lcls) and reflected in rcls.methods:
        return call(lowering, right, reflected, [left], {}, position)
    raise JacValueError(f"TypeError: unsupported operand type(s) for {symbol}: '{_type_name(lowering, left)}' and "
                        f"'{_type_name(lowering, right)}', as Python raises (the class defines no {forward}"
                        f"{'' if rcls is None else f' / {reflected}'})", position)


def augmented(lowering, stmt: ast.AugAssign) -> bool:
    """``d += e`` of a name holding a plain instance (or a number the right side's instance meets): its
    ``__iadd__`` where the class has one, else ``d = d + e`` (Python's fallback); False for any other."""
    if not isinstance(stmt.target, ast.Name) or type(stmt.op) not in _BINARY:
        return False
    current = lowering.scope.get(stmt.target.id)
    if not plain_instance(current) and not plain_instance(_peek(lowering, stmt.value)):
        return False
    position = lowering.source.at(stmt)
    name, _ = _BINARY[type(stmt.op)]
    if plain_instance(current) and f"__i{name}__" in current.cls.methods:
        value = call(lowering, current, f"__i{name}__", [lowering.expression(stmt.value)], {}, position)
    else:
        value = binary(lowering, ast.BinOp(left=stmt.target, op=stmt.op, right=stmt.value),
                       [current, lowering.expression(stmt.value)], position)
    bind(lowering, stmt.target, value, None, position)
    return True


def _peek(lowering, node: ast.expr):
    """The value a name written ``node`` holds, without running anything (None for another expression)."""
    return lowering.scope.get(node.id) if isinstance(node, ast.Name) else None


def unary(lowering, node: ast.UnaryOp, operand, position: int):
    """``-d``, ``+d``, ``~d`` of a plain instance: its ``__neg__`` / ``__pos__`` / ``__invert__``."""
    method, symbol = _UNARY[type(node.op)]
    if method not in operand.cls.methods:
        raise JacValueError(f"TypeError: bad operand type for unary {symbol}: '{operand.cls.name}', as Python raises "
                            f"(the class defines no {method})", position)
    return call(lowering, operand, method, [], {}, position)


def getitem(lowering, made, index, position: int):
    """``obj[i]`` of a plain instance: its ``__getitem__(i)``."""
    if "__getitem__" not in made.cls.methods:
        raise JacValueError(f"TypeError: '{made.cls.name}' object is not subscriptable, as Python raises (the class "
                            "defines no __getitem__)", position)
    return call(lowering, made, "__getitem__", [index], {}, position)


# --- comparisons, sorted / min / max, sum, iteration, 'in': Python's protocols on plain instances ------------------------

_ORDER_METHODS = ("__lt__", "__le__", "__gt__", "__ge__")
# Python's rich comparisons: the method, its reflection (a < b is b.__gt__(a) where a's gives way), the operator
_COMPARE = {ast.Lt: ("__lt__", "__gt__", "<"), ast.LtE: ("__le__", "__ge__", "<="), ast.Gt: ("__gt__", "__lt__", ">"),
            ast.GtE: ("__ge__", "__le__", ">="), ast.Eq: ("__eq__", "__eq__", "=="),
            ast.NotEq: ("__ne__", "__ne__", "!=")}
_MISSING = object()  # a comparison method the class does not have, or Python's NotImplemented


def compares(kids: list) -> bool:
    """Does the comparison of ``kids`` meet a plain instance (a side, or an item of a list searched by 'in')?"""
    return any(plain_instance(k) or isinstance(k, tuple) and any(plain_instance(i) for i in k) for k in kids)


def compare(lowering, node: ast.Compare, kids: list):
    """``a OP b`` (one comparison) where a side is a plain instance, as Python resolves it: ``is`` by identity,
    ``in`` by ``__contains__``, the others by :func:`rich`."""
    op, (left, right) = type(node.ops[0]), kids
    if op in (ast.Is, ast.IsNot):
        return (left is right) == (op is ast.Is)
    if op in (ast.In, ast.NotIn):
        found = contains(lowering, right, left, node)
        return found if op is ast.In else not found
    return rich(lowering, op, left, right, node)


def rich(lowering, op: type, left, right, test: ast.AST):
    """Python's rich comparison ``left OP right`` (``test``: where it is written): the right side's reflected method
    first where its class is a subclass of the left's that defines it, then ``left.__op__(right)``, then
    ``right.__reflected__(left)``; ``==`` / ``!=`` fall back to identity; else Python's TypeError. Of two values
    neither of which is an instance, the parser's own comparison."""
    if not (plain_instance(left) or plain_instance(right)):
        pair = [ast.copy_location(ast.Name(id="_", ctx=ast.Load()), test) for _ in range(2)]
        return lowering.compare(ast.copy_location(ast.Compare(left=pair[0], ops=[op()], comparators=[pair[1]]), test),
                                [left, right])
    forward, reflected, symbol = _COMPARE[op]
    if _array_like(lowering, left):  # Python asks the array first: NumPy's and PyTorch's own comparison
        _beside_array(lowering, left, right, symbol, test)
    lcls = left.cls if plain_instance(left) else None
    rcls = right.cls if plain_instance(right) else None
    if lcls is not None and rcls is not None and rcls is not lcls and lcls in lineage(rcls) \
            and (rcls.owners.get(reflected) is rcls or rcls.generated.get(reflected) is not None
                 and reflected not in lcls.generated):
        found = _compared(lowering, right, reflected, left, test)
        if found is not _MISSING:
            return found
    for made, name, other in ((left, forward, right), (right, reflected, left)):
        if plain_instance(made):
            found = _compared(lowering, made, name, other, test)
            if found is not _MISSING:
                return found
        elif _array_like(lowering, made):  # inst == arr without __eq__: the array's own == (element by element)
            _beside_array(lowering, left, right, symbol, test)
    if op in (ast.Eq, ast.NotEq):
        return (left is right) == (op is ast.Eq)
    raise JacValueError(f"TypeError: '{symbol}' not supported between instances of '{_type_name(lowering, left)}' and "
                        f"'{_type_name(lowering, right)}', as Python raises (the class defines no {forward}"
                        f"{'' if forward == reflected else f' / {reflected}'})", lowering.source.at(test))


def _array_like(lowering, value) -> bool:
    """Is ``value`` neither a plain instance nor one of Python's numbers, bools, strings or None (an array, a list)?"""
    return not plain_instance(value) and not _python_number(lowering, value) and type(value) not in (bool, Static) \
        and value is not None


def _beside_array(lowering, left, right, symbol: str, test: ast.AST):
    """Refuse a comparison Python would hand to an array's own operator, with an instance on the other side."""
    other = left if plain_instance(left) else right
    raise JacValueError(f"{_type_name(lowering, left)} {symbol} {_type_name(lowering, right)}: an array beside a "
                        f"{other.cls.name} instance is compared by the array's own operator, differently by NumPy "
                        "(element by element, an array of objects) and PyTorch, so jac does not guess; compare a "
                        "number the instance holds, or define the method on the class", lowering.source.at(test))


def _compared(lowering, made, name: str, other, test: ast.AST):
    """``made.NAME(other)`` for a comparison: the class's method, the one ``@dataclass`` wrote, object's ``__ne__``
    (not ``__eq__``) or ``__eq__`` (identity); :data:`_MISSING` where Python's answer is NotImplemented."""
    cls, position = made.cls, lowering.source.at(test)
    if name in cls.methods:
        return call(lowering, made, name, [other], {}, position)
    if name in cls.generated:  # (self.a, self.b) < (other.a, other.b), of one class only
        if not plain_instance(other) or other.cls is not cls:
            return _MISSING
        return _fields_compared(lowering, name, made, other, cls.generated[name], test)
    if name == "__ne__":  # object.__ne__: the truth of __eq__, inverted
        found = _compared(lowering, made, "__eq__", other, test)
        return found if found is _MISSING else not _truth(lowering, test, found, "'!='")
    if name == "__eq__":  # object.__eq__: identity, else NotImplemented
        return True if made is other else _MISSING
    return _MISSING


def _fields_compared(lowering, name: str, made, other, fields: tuple, test: ast.AST):
    """A dataclass's comparison: its fields' tuples compared as Python compares tuples (the first pair not equal
    decides, by its own comparison)."""
    op = next(k for k, v in _COMPARE.items() if v[0] == name)
    position = lowering.source.at(test)
    for field_name in fields:
        a, b = attribute(lowering, made, field_name, position), attribute(lowering, other, field_name, position)
        if not equal(lowering, a, b, test):
            return op is ast.NotEq if op in (ast.Eq, ast.NotEq) else rich(lowering, op, a, b, test)
    return op in (ast.Eq, ast.LtE, ast.GtE)


def equal(lowering, a, b, test: ast.AST) -> bool:
    """Python's ``PyObject_RichCompareBool(a, b, ==)``: True for one object, else the truth of ``a == b``."""
    return a is b or _truth(lowering, test, rich(lowering, ast.Eq, a, b, test), "'=='")


def contains(lowering, container, item, test: ast.AST) -> bool:
    """``item in container``: a plain instance's ``__contains__`` (its truth), or a list or tuple's items compared
    with ``==`` (identity first), as Python searches them."""
    position = lowering.source.at(test)
    if isinstance(container, tuple):  # a list or tuple (of modules or instances: the parser's Listed)
        return any(equal(lowering, part, item, test) for part in container)
    if not plain_instance(container):
        raise JacValueError(f"'in' of a {_type_name(lowering, container)} and a {item.cls.name} instance is not "
                            "followed: search a list of instances, or a class with __contains__", position)
    cls = container.cls
    if "__contains__" in cls.methods:
        return _truth(lowering, test, call(lowering, container, "__contains__", [item], {}, position), "'in'")
    if "__iter__" in cls.methods or "__getitem__" in cls.methods:
        raise JacValueError(f"'in' of a {cls.name} without __contains__ (Python iterates it, comparing each item with "
                            "==) is not followed: define __contains__", position)
    raise JacValueError(f"TypeError: argument of type '{cls.name}' is not iterable, as Python raises (the class "
                        "defines no __contains__ / __iter__)", position)


def _truth(lowering, test: ast.AST, value, what: str) -> bool:
    """Python's truth of a comparison's result, read where ``test`` is written (a node of its own: the written one may
    be a list's, whose truth is its length)."""
    return lowering.truth(ast.copy_location(ast.Constant(value=None), test), value, what)


class _Key:
    """An item (or its key) of ``sorted`` / ``min`` / ``max`` as Python's own algorithm compares it: its ``<`` and
    ``>`` the text's comparison, taken at its truth (so the order of the calls, stability and ties are Python's)."""

    __slots__ = ("value", "lowering", "test", "what")

    def __init__(self, value, lowering, test, what):
        self.value, self.lowering, self.test, self.what = value, lowering, test, what

    def __lt__(self, other):
        return _truth(self.lowering, self.test, rich(self.lowering, ast.Lt, self.value, other.value, self.test), self.what)

    def __gt__(self, other):
        return _truth(self.lowering, self.test, rich(self.lowering, ast.Gt, self.value, other.value, self.test), self.what)


class Iterator:
    """``iter(seq)`` in the text: the items it gives, read once where the text iterates it (a for loop, list(),
    sum(), sorted(); an instance's ``__iter__`` returning it)."""

    def __init__(self, items: list):
        self.items = items

    def taken(self) -> list:
        found, self.items = self.items, []  # an iterator gives its items once
        return found


def iterated(lowering, value, position: int) -> list:
    """The items ``for v in value`` gives, ``value`` a plain instance (its ``__iter__``) or an iterator."""
    if type(value) is Iterator:
        return value.taken()
    cls = value.cls
    if "__iter__" in cls.methods:
        found = call(lowering, value, "__iter__", [], {}, position)
        if type(found) is Iterator:
            return found.taken()
        shown = found.display or "tuple" if type(found) is Items else _type_name(lowering, found)
        raise JacValueError(f"TypeError: iter() returned non-iterator of type '{shown}', as Python raises "
                            f"({cls.name}.__iter__ must return an iterator: return iter(self.items))", position)
    if "__getitem__" in cls.methods:
        raise JacValueError(f"iterating a {cls.name} through __getitem__ (Python calls obj[0], obj[1], ... until "
                            "IndexError) is not followed: define __iter__ (return iter(self.items)), or loop over "
                            "range(len(obj))", position)
    raise JacValueError(f"TypeError: '{cls.name}' object is not iterable, as Python raises (the class defines no "
                        "__iter__)", position)


ITERATING = ("iter", "list", "tuple", "sorted", "min", "max", "sum")


def iterating(node: ast.Call, kids: list) -> bool:
    """Is ``node`` (``iter``, ``list``, ``sorted``, ``min``, ``max``, ``sum``, bare) one of Python's builtins given a
    plain instance, an iterator, or a list of instances (``sorted(cands)``, ``sum(duals)``, ``iter(self.items)``)?"""
    fname, args = node.func.id, kids[:len(node.args)]
    if fname == "iter" or not args:
        return fname == "iter"
    if plain_instance(args[0]) or type(args[0]) is Iterator:
        return True
    many = args if fname in ("min", "max") and len(args) > 1 else args[0] if isinstance(args[0], tuple) else ()
    return fname not in ("list", "tuple") and any(plain_instance(i) for i in many)


def builtin_iterating(lowering, node: ast.Call, kids: list):
    """``iter(seq)``, ``list(obj)``, ``tuple(obj)``, ``sorted(...)``, ``min(...)``, ``max(...)``, ``sum(...)`` of
    plain instances (see :func:`iterating`), as Python runs them."""
    fname, position = node.func.id, lowering.source.at(node)
    if any(k.arg is None for k in node.keywords) or any(isinstance(a, ast.Starred) for a in node.args):
        raise JacParseError(f"'*' and '**' unpacking in {fname}() of instances are not followed", position)
    args = kids[:len(node.args)]
    kwargs = {k.arg: v for k, v in zip(node.keywords, kids[len(node.args):])}
    if fname == "iter":
        if len(args) != 1 or kwargs:
            raise JacValueError("iter() is read with one argument (iter(callable, sentinel) is not followed)", position)
        return Iterator(lowering.items_in(args[0], node.args[0], "iter()", position))
    if fname in ("list", "tuple"):
        if len(args) != 1 or kwargs:
            raise JacValueError(f"TypeError: {fname}() takes one iterable here", position)
        out = Items(lowering.items_in(args[0], node.args[0], f"{fname}()", position))
        out.display = fname
        return out
    if fname == "sum":
        return _summed(lowering, node, args, kwargs, position)
    return ordered(lowering, node, fname, args, kwargs, position)


def _items(lowering, value, written: ast.expr, what: str, position: int) -> list:
    return list(value) if isinstance(value, tuple) else lowering.items_in(value, written, what, position)


def _summed(lowering, node: ast.Call, args: list, kwargs: dict, position: int):
    """``sum(items, start=0)``: ``start + item`` for each item in turn, as Python adds them (``0 + d`` is
    ``d.__radd__(0)``)."""
    if not 1 <= len(args) <= 2 or set(kwargs) - {"start"} or len(args) == 2 and kwargs:
        raise JacValueError("TypeError: sum() takes an iterable and start (sum(items, start)), as Python", position)
    total = args[1] if len(args) == 2 else kwargs.get("start", lowering.number(0, position))
    add = ast.copy_location(ast.BinOp(left=node, op=ast.Add(), right=node), node)
    for item in _items(lowering, args[0], node.args[0], "sum()", position):
        if plain_instance(total) or plain_instance(item):
            total = binary(lowering, add, [total, item], position)
        else:
            total = lowering.arithmetic("add", total, item, position)
    return total


def ordered(lowering, node: ast.Call, fname: str, args: list, kwargs: dict, position: int):
    """``sorted(items, key=None, reverse=False)``, ``min`` / ``max`` (of one iterable or several arguments,
    ``key=``, ``default=``) where the items are plain instances: Python's own algorithm run on the items, each
    comparison the text's (:class:`_Key`), so the order, the ties and the errors are Python's."""
    from .functions import static

    allowed = ("key", "reverse") if fname == "sorted" else ("key", "default")
    unknown = [k for k in kwargs if k not in allowed]
    if unknown:
        raise JacValueError(f"TypeError: {fname}() got an unexpected keyword argument '{unknown[0]}', as Python raises",
                            position)
    if fname == "sorted" and len(args) != 1:
        raise JacValueError(f"TypeError: sorted expected 1 argument, got {len(args)}, as Python raises", position)
    if len(args) > 1 and "default" in kwargs:
        raise JacValueError(f"TypeError: Cannot specify a default for {fname}() with multiple positional arguments, "
                            "as Python raises", position)
    items = list(args) if len(args) > 1 else _items(lowering, args[0], node.args[0], f"{fname}()", position)
    given = kwargs.get("key")

    def key(i):  # called by Python's own sorted / min / max, when and as often as they call a key
        return _Key(items[i] if given is None else lowering.call_value(given, [items[i]], {}, position), lowering, node,
                    f"{fname}()")
    if fname == "sorted":
        backwards = static(lowering.b, kwargs["reverse"], "reverse", position) if "reverse" in kwargs else False
        order = sorted(range(len(items)), key=key, reverse=bool(backwards))
        out = Items([items[i] for i in order])
        out.display = "list"
        return out
    if not items:
        if "default" in kwargs:
            return kwargs["default"]
        raise JacValueError(f"ValueError: {fname}() iterable argument is empty, as Python raises", position)
    pick = (min if fname == "min" else max)(range(len(items)), key=key)
    return items[pick]


BUILTINS = ("len", "abs", "getattr", "setattr", "hasattr")


def builtin(lowering, node: ast.Call, kids: list):
    """``len(obj)``, ``abs(obj)``, ``getattr(obj, 'name'[, default])``, ``setattr(obj, 'name', v)``,
    ``hasattr(obj, 'name')`` of a plain instance (or class): as Python runs them; None for any other call."""
    if type(node.func) is not ast.Name or node.func.id not in BUILTINS or node.func.id in lowering.scope \
            or not kids or not (plain_instance(kids[0]) or isinstance(kids[0], PlainClass)):
        return None
    fname, position = node.func.id, lowering.source.at(node)
    if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
        raise JacParseError(f"{fname}() takes its arguments by position", position)
    made = kids[0]
    if fname in ("len", "abs"):
        if len(kids) != 1 or isinstance(made, PlainClass):
            raise JacValueError(f"{fname}() takes one instance here", position)
        method = f"__{fname}__"
        if method not in made.cls.methods:
            said = f"object of type '{made.cls.name}' has no len()" if fname == "len" else \
                f"bad operand type for abs(): '{made.cls.name}'"
            raise JacValueError(f"TypeError: {said}, as Python raises (the class defines no {method})", position)
        found = call(lowering, made, method, [], {}, position)
        if fname == "len":
            return _length(lowering, found, made.cls.name, position)
        return found
    takes = {"getattr": (2, 3), "setattr": (3, 3), "hasattr": (2, 2)}[fname]
    if not takes[0] <= len(kids) <= takes[1]:
        raise JacValueError(f"TypeError: {fname} expected {takes[1]} arguments, got {len(kids)}", position)
    from .functions import static

    name = static(lowering.b, kids[1], f"{fname}()'s attribute name", position)
    if not isinstance(name, str):
        raise JacValueError(f"TypeError: attribute name must be string, not '{type(name).__name__}'", position)
    if fname == "setattr":
        set_attribute(lowering, made, name, kids[2], position)
        return None
    if fname == "hasattr":  # Python's hasattr runs a property, and is False where it raises AttributeError
        cls = made if isinstance(made, PlainClass) else made.cls
        if cls.kinds.get(name) == "property" and not isinstance(made, PlainClass):
            attribute(lowering, made, name, position)
            return True
        return name in cls.constants or name in cls.methods or not isinstance(made, PlainClass) \
            and name in made.attributes
    try:
        found = attribute(lowering, made, name, position)
    except JacNameError:
        if fname == "hasattr":
            return False
        if len(kids) == 3:
            return kids[2]
        raise
    return True if fname == "hasattr" else found


def _length(lowering, found, cls_name: str, position: int):
    """``__len__``'s result as Python's len() takes it: a non-negative int."""
    value = lowering.python_int_or_bool(found) if type(found) is Tracer else found
    if type(value) is not int:
        shown = "float" if type(found) is Tracer else type(found).__name__
        raise JacValueError(f"TypeError: '{shown}' object cannot be interpreted as an integer ({cls_name}.__len__ "
                            "returned it), as Python raises", position)
    if value < 0:
        raise JacValueError(f"ValueError: __len__() should return >= 0 ({cls_name}.__len__ returned {value}), as "
                            "Python raises", position)
    if value > sys.maxsize:  # len() past an index-sized integer is Python's OverflowError, never the number
        raise JacValueError(f"OverflowError: cannot fit 'int' into an index-sized integer ({cls_name}.__len__ "
                            f"returned {value:.3g}), as Python raises", position)
    return lowering.number(value, position)


def makes_callable(lowering, func: ast.expr) -> bool:
    """Is ``func`` (a call, itself called) ``getattr(obj, ...)`` or a method of a plain instance or class
    (``p.deriv()``), whose result may be called in turn (``getattr(act, 'tanh')(x)``, ``p.deriv()(2.0)``)?"""
    if isinstance(func, (ast.BinOp, ast.UnaryOp)):  # (p * q)(0.5) of a class with __mul__ and __call__
        return any(isinstance(v, PlainClass) and "__call__" in v.methods for v in lowering.scope.values())
    if not isinstance(func, ast.Call):
        return False
    if isinstance(func.func, ast.Name):
        return func.func.id == "getattr" and "getattr" not in lowering.scope
    return isinstance(func.func, ast.Attribute) and owner_of(lowering, func.func.value) is not None



# --- NamedTuple classes, collections.namedtuple, _replace, dataclasses.replace ----------------------------------------

_SPELLINGS = {"typing.NamedTuple": "typing.NamedTuple", "collections.namedtuple": "collections.namedtuple",
              "dataclasses.replace": "dataclasses.replace"}
_MODULES = ("typing", "collections", "dataclasses")
SPELLED = ("NamedTuple", "namedtuple", "replace")  # the last names spelling() reads
# names of typing that pasted code imports for its annotations, which jac does not read
TYPING = ("typing.NamedTuple", "typing.Optional", "typing.Any", "typing.Tuple", "typing.List", "typing.Dict",
          "typing.Union", "typing.Callable", "typing.Sequence", "typing.ClassVar", "collections.namedtuple",
          "dataclasses.replace")


def _imports(lowering) -> dict:
    """The text's ``from typing import NamedTuple`` / ``import collections as c``...: name -> path, read once."""
    found = getattr(lowering, "plain_imports", None)
    if found is None:
        found = {}
        body = lowering.source.body
        if "import" in body and any(m in body for m in _MODULES):  # parsed again only where they are imported
            for node in ast.walk(ast.parse(lowering.source.body)):
                if isinstance(node, ast.ImportFrom) and node.module in _MODULES and not node.level:
                    found.update((a.asname or a.name, f"{node.module}.{a.name}") for a in node.names)
                elif isinstance(node, ast.Import):
                    found.update((a.asname or a.name, a.name) for a in node.names if a.name in _MODULES)
        lowering.plain_imports = found
    return found


def spelling(lowering, func: ast.expr):
    """``NamedTuple`` / ``typing.NamedTuple`` / ``namedtuple`` / ``collections.namedtuple`` / ``replace`` /
    ``dataclasses.replace`` as the text imported it: its full spelling, else None."""
    if isinstance(func, ast.Name):
        path = _imports(lowering).get(func.id) if func.id not in lowering.scope else None
    elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id not in lowering.scope:
        root = _imports(lowering).get(func.value.id)
        path = f"{root}.{func.attr}" if root in _MODULES else None
    else:
        return None
    return _SPELLINGS.get(path)


def class_of(made):
    """The class of a plain instance, or of a NamedTuple's instance (an Items with its ``record``)."""
    return made.record if type(made) is Items else made.cls


def is_record(value) -> bool:
    """Is ``value`` an instance of a NamedTuple class of the text?"""
    return type(value) is Items and value.record is not None


def record(cls, values: list) -> Items:
    """A NamedTuple's instance: a tuple of its fields' values, named."""
    out = Items.named(values, tuple(n for n, _ in cls.fields))
    out.display, out.record = "tuple", cls
    return out


def _fields_given(cls, args: list, kwargs: dict, position: int) -> list:
    """The values of ``cls``'s fields for ``cls(*args, **kwargs)``, defaults filled, as Python binds them."""
    names = [n for n, _ in cls.fields]
    if len(args) > len(names):
        raise JacValueError(f"TypeError: {cls.name}() takes {len(names)} positional arguments but {len(args)} were "
                            "given, as Python raises", position)
    given = dict(zip(names, args))
    for key, value in kwargs.items():
        if key not in names:
            raise JacValueError(f"TypeError: {cls.name}() got an unexpected keyword argument '{key}', as Python "
                                "raises", position)
        if key in given:
            raise JacValueError(f"TypeError: {cls.name}() got multiple values for argument '{key}', as Python raises",
                                position)
        given[key] = value
    missing = [n for n, d in cls.fields if n not in given and d is None]
    if missing:
        raise JacValueError(f"TypeError: {cls.name}() missing required argument: '{missing[0]}', as Python raises",
                            position)
    return [given.get(n, d) for n, d in cls.fields]


def _no_sequences(cls, kinds: dict, position: int) -> None:
    """Refuse a NamedTuple field given a Python tuple or list of numbers, which jac holds as one array and a
    field read would not keep as Python's sequence (s.dims + (1,) would add where Python concatenates)."""
    for name, kind in kinds.items():
        if kind is not None:
            raise JacValueError(f"{cls.name}.{name} given a Python {kind} of numbers: jac holds it as one array, "
                                f"which a NamedTuple's field does not keep as Python's {kind}; give np.array(...) or "
                                "keep it outside the tuple", position)


def declare_record(lowering, stmt: ast.ClassDef, position: int) -> bool:
    """``class State(NamedTuple): x: T; v: T = DEFAULT`` (and methods, properties, class attributes): a class whose
    instances are tuples with named fields, made once and never changed."""
    cls = PlainClass(stmt.name, {})
    cls.record = True
    if stmt.decorator_list:
        raise JacParseError(f"a decorator on the NamedTuple class {stmt.name} is not followed", position)
    for item in stmt.body:
        at = lowering.source.at(item)
        if isinstance(item, ast.Pass) or isinstance(item, ast.Expr) and isinstance(item.value, ast.Constant):
            continue
        if isinstance(item, ast.FunctionDef):
            if item.name in ("__init__", "__new__"):
                raise JacValueError(f"AttributeError: Cannot overwrite NamedTuple attribute {item.name}, as Python "
                                    "raises", at)
            method(lowering, cls, item, at)
            continue
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            field(lowering, cls, item, at)
            continue
        if isinstance(item, ast.Assign) and len(item.targets) == 1 and isinstance(item.targets[0], ast.Name):
            cls.constants[item.targets[0].id] = constant(lowering, cls, item.value, item.targets[0].id, at)
            continue
        raise JacParseError(f"in the NamedTuple class {stmt.name}, jac reads fields (NAME: TYPE = DEFAULT), class "
                            f"attributes and methods: {ast.unparse(item).splitlines()[0]} is not one", at)
    lowering.scope[stmt.name] = cls
    return True


def namedtuple(lowering, node: ast.Call, kids: list, name: str, position: int) -> PlainClass:
    """``collections.namedtuple('S', 'x v')`` (or ``['x', 'v']``, ``defaults=(...)``): the class."""
    from .functions import static

    if len(node.args) != 2 or any(k.arg not in ("defaults", "rename", "module") for k in node.keywords):
        raise JacParseError("namedtuple(typename, field_names, defaults=...) is read with those arguments", position)
    title = static(lowering.b, kids[0], "namedtuple()'s typename", position)
    written = node.args[1]
    if isinstance(written, ast.Constant) and isinstance(written.value, str):
        names = written.value.replace(",", " ").split()
    elif isinstance(written, (ast.List, ast.Tuple)) and all(isinstance(e, ast.Constant) and isinstance(e.value, str)
                                                            for e in written.elts):
        names = [e.value for e in written.elts]
    else:
        raise JacParseError("namedtuple()'s field names are read from a string ('x v') or a list of strings",
                            lowering.source.at(written))
    if not isinstance(title, str) or not all(n.isidentifier() and not n.startswith("_") for n in names) \
            or len(set(names)) != len(names):
        raise JacValueError(f"ValueError: namedtuple field names must be distinct identifiers not starting with an "
                            f"underscore ({names}), as Python raises", position)
    defaults = []
    for k, value in zip(node.keywords, kids[2:]):
        if k.arg == "defaults":
            defaults = list(value) if isinstance(value, Items) else _sequence_items(lowering, value, k.value, position)
        elif k.arg == "rename" and static(lowering.b, value, "rename", position):
            raise JacParseError("namedtuple(..., rename=True) is not followed", position)
    if len(defaults) > len(names):
        raise JacValueError("TypeError: Got more default values than field names, as Python raises", position)
    cls = PlainClass(title, {})
    cls.record = True
    cls.fields = [(n, None) for n in names[:len(names) - len(defaults)]] + list(zip(names[len(names) - len(defaults):],
                                                                                  defaults))
    return cls


def _sequence_items(lowering, value, node: ast.expr, position: int) -> list:
    """The items of a tuple or list of numbers jac holds as one array (``defaults=(0.0, 1.0)``)."""
    if type(value) is Tracer and value.ndim == 1 and isinstance(node, (ast.Tuple, ast.List)):
        return [lowering.b.apply("getitem", value, index=(k,), position=position) for k in range(value.shape[0])]
    raise JacParseError("namedtuple()'s defaults are read from a tuple or list written in the call", position)


def record_attribute(lowering, made: Items, name: str, position: int):
    """``s.NAME`` of a NamedTuple's instance: a field, a property, a class attribute or a method."""
    cls = made.record
    if name in made.fields:
        return made.field(name, position)
    if cls.kinds.get(name) == "property":
        return _property(lowering, made, name, position)
    if name in cls.constants:
        return cls.constants[name]
    if name in cls.methods or name == "_replace":
        return BoundMethod(made, name)
    raise JacNameError(f"AttributeError: '{cls.name}' object has no attribute '{name}', as Python raises", position)


def record_method(lowering, made: Items, name: str, args: list, kwargs: dict, position: int, node=None):
    """``s.NAME(...)`` of a NamedTuple's instance: ``_replace(field=value)`` (a new tuple), or a method; ``node``
    the call as written (which arguments are Python sequences), None where it is called through a name."""
    if name != "_replace":
        return call(lowering, made, name, args, kwargs, position)
    if node is None:
        raise JacParseError(f"{made.record.name}._replace read as a value and called later is not followed: call "
                            "s._replace(field=value) where it is written", position)
    _no_sequences(made.record, {k.arg: lowering.python_kind(k.value, kwargs[k.arg]) for k in node.keywords
                                if k.arg in kwargs}, position)
    if args:
        raise JacValueError(f"TypeError: {made.record.name}._replace() takes 1 positional argument but "
                            f"{len(args) + 1} were given, as Python raises", position)
    unknown = [k for k in kwargs if k not in made.fields]
    if unknown:
        raise JacValueError(f"ValueError: Got unexpected field names: {unknown!r}, as Python raises", position)
    return record(made.record, [kwargs.get(n, v) for n, v in zip(made.fields, made)])


def special_call(lowering, node: ast.Call, kids: list, path: str, position: int):
    """``dataclasses.replace(obj, **changes)`` (a new instance: the class called again with the fields, changed,
    so ``__post_init__`` runs again, as Python's does) or ``collections.namedtuple(...)`` (a class)."""
    if path == "collections.namedtuple":
        raise JacParseError("collections.namedtuple(...) makes a class: assign it to a name of its own "
                            "(S = namedtuple('S', 'x v'))", position)
    if path == "typing.NamedTuple":
        raise JacParseError("typing.NamedTuple('S', [...]) is not read: write the class form (class S(NamedTuple): "
                            "x: float)", position)
    args = kids[: len(kids) - len(node.keywords)]
    kwargs = {k.arg: v for k, v in zip(node.keywords, kids[len(args):])}
    if any(k.arg is None for k in node.keywords) or len(args) != 1:
        raise JacValueError("TypeError: replace() takes the instance by position and the changes by keyword (replace("
                            "obj, field=value)), as Python's dataclasses.replace", position)
    made = args[0]
    if not plain_instance(made) or not made.cls.dataclass:
        raise JacValueError("TypeError: replace() should be called on dataclass instances, as Python raises",
                            position)
    names = [n for n, _ in made.cls.fields]
    unknown = [k for k in kwargs if k not in names]
    if unknown:
        raise JacValueError(f"TypeError: {made.cls.name}.__init__() got an unexpected keyword argument "
                            f"'{unknown[0]}', as Python raises", position)
    given = {n: kwargs[n] if n in kwargs else attribute(lowering, made, n, position) for n in names}
    written = {k.arg: lowering.python_kind(k.value, kwargs[k.arg]) for k in node.keywords}
    kinds = {n: written[n] if n in kwargs else python_kind(lowering, made, n) for n in names}
    fresh = type(made)(made.cls, made.prefix, lowering)
    return make(lowering, fresh, [], given, position, ((), kinds))


_NUMBERS = ("int", "float", "bool", "complex")


def instance_test(lowering, value, written: ast.expr, classes: ast.expr, position: int):
    """``isinstance(value, (int, float))`` (Python's number classes, beside the text's plain classes and tuple /
    list / dict), as Python answers it: a Python number of the text by its type, an array or an instance no number,
    an instance by its class's lineage; a 0-d array computed from the inputs is refused for ``float`` (NumPy's
    scalar is a float, PyTorch's tensor is not). None where the classes are others (the parser's own test)."""
    from .trees import instance_of

    nodes = classes.elts if isinstance(classes, ast.Tuple) else [classes]
    names = [n.id if isinstance(n, ast.Name) and n.id not in lowering.scope and n.id in _NUMBERS + ("tuple", "list",
             "dict") else lowering.scope.get(n.id) if isinstance(n, ast.Name) else None for n in nodes]
    if not any(isinstance(n, str) and n in _NUMBERS for n in names) \
            or not all(isinstance(n, str) or isinstance(n, PlainClass) for n in names):
        return None
    plain_classes = [n for n in names if isinstance(n, PlainClass)]
    builtins = frozenset(n for n in names if isinstance(n, str))
    if plain_instance(value) or is_record(value):
        return any(c in lineage(class_of(value)) for c in plain_classes) or is_record(value) and "tuple" in builtins
    if isinstance(value, (PlainClass, BoundMethod, Super)):
        return False
    kind = lowering.python_kind(written, value)
    if type(value) is bool or kind == "bool":
        return bool(builtins & {"bool", "int"})
    if kind in ("tuple", "list", "range"):
        return kind in builtins
    if type(value) is not Tracer:
        sequences = builtins & {"tuple", "list", "dict"}
        return bool(sequences) and instance_of(value, sequences, position)
    if value.ndim:
        return False  # an array is no Python number (nor a tuple or list)
    if _python_number(lowering, value):
        exact = lowering.python_int_or_bool(value)
        return bool(builtins & ({"int"} if type(exact) is int else {"float"}))
    if "float" in builtins or "complex" in builtins:
        raise JacValueError("isinstance(..., float) of a 0-d array computed from the inputs: NumPy's scalar "
                            "(np.float64) is a float, PyTorch's and JAX's 0-d arrays are not, so jac does not guess; "
                            "test isinstance(v, Dual) (the class of the text) instead", position)
    return False  # NumPy's integer scalars and the libraries' 0-d arrays are no int or bool
