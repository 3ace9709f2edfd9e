"""Dicts and pytrees, as JAX's and torch.func's tutorials keep parameters: ``params = {'W': W, 'b': b}``,
``[(W1, b1), (W2, b2)]``, ``jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, params, grads)``.

A :class:`Dict` is a value of the text as a tuple of arrays (:class:`~.functions.Items`) is: a structure holding
arrays, never an array itself. Its keys are string or integer constants, in insertion order (Python's); the text is
functional, so ``d['W'] = v`` binds the name to a new dict. A pytree is an array (a leaf), None (no leaves, as JAX
treats it), a tuple or list (``Items``) or a dict of pytrees; :func:`flatten` gives its leaves in JAX's order (a
dict's by sorted keys, as ``jax.tree_util`` sorts them; a tuple's in order) and its :class:`TreeDef`, which
:func:`unflatten` fills again. The transforms of :mod:`.derivatives` and :mod:`.vjps` differentiate each leaf of a
pytree argument and give results of its structure through these two; :func:`lower` reads ``jax.tree_util.*`` and
``jax.tree.*``; :func:`paths` names a pytree output's leaves as ``jax.tree_util.keystr`` does (``['W']``, ``[0][1]``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..errors import JacLimitError, JacShapeError, JacValueError
from ..ir import dtypes
from ..ir.graph import Tracer
from ..ir.shapes import fmt
from .functions import FUNCTIONS, Items, Static, tensor
from .modules import Listed

MAX_DEPTH = 64  # a pytree nested deeper is refused (flatten and unflatten recurse once per level)
MAX_KEYS = 100_000  # a dict with more keys is refused: jac writes each value out as nodes


def _too_many(position: int | None) -> JacLimitError:
    return JacLimitError(f"a dict of more than {MAX_KEYS:,} keys: jac writes each value out; keep the arrays in a few "
                         f"keys (stack them)", position)


class Dict:
    """A dict of the text: keys (str or int) in insertion order to values (arrays, tuples, dicts, None). Read only:
    every change makes a new one (:meth:`with_item`)."""

    __slots__ = ("_map",)

    def __init__(self, pairs, position: int | None = None):
        self._map = {}
        for key, value in pairs:
            self._map[key] = value
            if len(self._map) > MAX_KEYS:
                raise _too_many(position)

    def __len__(self) -> int:
        return len(self._map)

    def __contains__(self, key) -> bool:
        return key in self._map

    def keys(self) -> list:
        return list(self._map)

    def values(self) -> list:
        return list(self._map.values())

    def items(self) -> list:
        return list(self._map.items())

    def get(self, key, position: int):
        if key not in self._map:
            known = ", ".join(repr(k) for k in list(self._map)[:8]) + (", ..." if len(self._map) > 8 else "")
            raise JacValueError(f"KeyError: {key!r}, as Python raises: the dict has no key {key!r} (its keys: "
                                f"{known or 'none'})", position)
        return self._map[key]

    def without(self, key, position: int) -> "Dict":
        """A new dict without ``key`` (``del d['W']``); a key it does not have refused as :meth:`get` does."""
        self.get(key, position)
        new = object.__new__(Dict)
        new._map = {k: v for k, v in self._map.items() if k != key}
        return new

    def with_item(self, key, value, position: int | None = None) -> "Dict":
        """A new dict with ``key`` set: a C copy of the map (a loop writing 10,000 keys one by one copies 10,000
        times; key by key through ``__init__`` that took 13 s)."""
        new = object.__new__(Dict)
        new._map = dict(self._map)
        new._map[key] = value
        if len(new._map) > MAX_KEYS:
            raise _too_many(position)
        return new


@dataclass(frozen=True)
class TreeDef:
    """A pytree's structure (``jax.tree_util.tree_structure``): ``kind`` is ``leaf``, ``none``, ``tuple`` or
    ``dict`` (a tuple's and a list's are one kind: jac holds both as a tuple), ``keys`` a dict's in flatten's order,
    ``children`` their TreeDefs."""

    kind: str
    keys: tuple = ()
    children: tuple = ()

    @property
    def num_leaves(self) -> int:
        if self.kind == "leaf":
            return 1
        return sum(c.num_leaves for c in self.children)

    def __str__(self) -> str:
        if self.kind == "leaf":
            return "*"
        if self.kind == "none":
            return "None"
        if self.kind == "tuple":
            return "(" + ", ".join(map(str, self.children)) + ("," if len(self.children) == 1 else "") + ")"
        return "{" + ", ".join(f"{k!r}: {c}" for k, c in zip(self.keys, self.children)) + "}"


LEAF = TreeDef("leaf")


def is_tree(value) -> bool:
    """Does ``value`` hold structure (a dict, a tuple or list, None) rather than being one array?"""
    return isinstance(value, (Dict, Items)) or value is None


def key_order(d: Dict, position: int) -> list:
    """A dict's keys in JAX's order (sorted; keys of one type, as ``jax.tree_util`` requires)."""
    keys = d.keys()
    if len({type(k) for k in keys}) > 1:
        raise JacValueError("a dict whose keys are of different types (strings and integers) is no pytree JAX "
                            "flattens (it sorts the keys): use keys of one type", position)
    return sorted(keys)


def flatten(value, what: str, position: int, is_leaf=None, depth: int = 0, sort: bool = True,
            folded=frozenset()) -> tuple:
    """``(leaves, treedef)`` of the pytree ``value``: a dict's in JAX's order (sorted keys), or with ``sort=False``
    in torch.utils._pytree's (insertion order; torch.func's results keep the argument's key order, and a text's
    ``torch.cat([g.flatten() for g in grads.values()])`` reads it). ``is_leaf(subtree) -> bool`` stops there.
    ``folded``: the ids of constants the parser made one array of a list or tuple display (``[jnp.ones(3),
    jnp.zeros(3)]``), refused as a leaf: JAX's pytree of them has a leaf per element, and jac's array has lost that.
    """
    if depth > MAX_DEPTH:
        raise JacLimitError(f"{what} is nested more than {MAX_DEPTH} levels deep: jac reads pytrees up to that",
                            position)
    if is_leaf is not None and is_leaf(value):  # of None too, as JAX asks it (lambda n: n is None)
        return [value], LEAF
    if value is None:
        return [], TreeDef("none")
    if isinstance(value, Dict):
        keys = key_order(value, position) if sort else value.keys()
        leaves, children = [], []
        for k in keys:
            found, tree = flatten(value.get(k, position), what, position, is_leaf, depth + 1, sort, folded)
            leaves += found
            children.append(tree)
        return leaves, TreeDef("dict", tuple(keys), tuple(children))
    if isinstance(value, Items):
        leaves, children = [], []
        for v in value:
            found, tree = flatten(v, what, position, is_leaf, depth + 1, sort, folded)
            leaves += found
            children.append(tree)
        return leaves, TreeDef("tuple", (), tuple(children))
    if isinstance(value, Static) and type(value.value) is tuple and all(v is None for v in value.value):
        return [], TreeDef("tuple", (), (TreeDef("none"),) * len(value.value))  # (None,): the parser's sizes
    if isinstance(value, Tracer):
        if value.id in folded:
            raise JacValueError(f"{what} holds a list or tuple of constants, which jac holds as one array, so its "
                                f"structure is lost (JAX's pytree has a leaf per element): bind the arrays as inputs "
                                f"(W:2x3), or write jnp.array([...]) where one array is meant", position)
        return [value], LEAF
    kind = f"the string {value.value!r}" if isinstance(value, Static) and isinstance(value.value, str) else \
        f"a {type(value).__name__}"
    raise JacValueError(f"{what} holds {kind}: jac's pytrees hold arrays (in dicts, tuples and lists, or None)",
                        position)


def unflatten(tree: TreeDef, leaves: list):
    """The pytree of structure ``tree`` with ``leaves`` (any values) in its leaves' places."""
    if len(leaves) != tree.num_leaves:
        raise JacValueError(f"tree_unflatten: the structure {tree} has {tree.num_leaves} leaves and "
                            f"{len(leaves)} were given", None)
    out, _ = _filled(tree, leaves, 0)
    return out


def _filled(tree: TreeDef, leaves: list, k: int) -> tuple:
    if tree.kind == "leaf":
        return leaves[k], k + 1
    if tree.kind == "none":
        return None, k
    parts = []
    for child in tree.children:
        part, k = _filled(child, leaves, k)
        parts.append(part)
    if tree.kind == "tuple":
        return Items(parts), k
    return Dict(zip(tree.keys, parts)), k


def paths(tree: TreeDef) -> list:
    """Each leaf's path as ``jax.tree_util.keystr`` writes it: ``['W']``, ``[0][1]``."""
    out, todo = [], [("", tree)]
    while todo:
        prefix, t = todo.pop()
        if t.kind == "leaf":
            out.append(prefix)
        elif t.kind == "tuple":
            todo.extend((f"{prefix}[{i}]", c) for i, c in reversed(list(enumerate(t.children))))
        elif t.kind == "dict":
            todo.extend((f"{prefix}[{k!r}]", c) for k, c in reversed(list(zip(t.keys, t.children))))
    return out


def same_structure(trees: list, what: str, position: int) -> None:
    """Refuse pytrees whose structures differ (``tree_map`` of several, a cotangent of an output's structure)."""
    first = trees[0]
    for k, t in enumerate(trees[1:], 1):
        if t != first:
            raise JacValueError(f"{what}: the pytrees' structures differ ({first} and {t}); they must match, as JAX "
                                f"requires", position)


def key_of(b, value, position: int):
    """A dict key written in the text: a string or an integer constant."""
    if isinstance(value, Static) and isinstance(value.value, str):
        return value.value
    if isinstance(value, Tracer) and type(b.pyints.get(value.id)) is int:
        return b.pyints[value.id]
    raise JacValueError("a dict key is a string or an integer written as a constant ('W', 0), not an array, a "
                        "float or an expression of the inputs", position)


def display(lowering, node: ast.Dict, kids: list, position: int) -> Dict:
    """``{'W': W, 'b': b}`` and ``{**a, 'c': c}``: ``kids`` the lowered keys (those written) then values."""
    written = [k for k in node.keys if k is not None]
    keys = iter(kids[:len(written)])
    pairs = []
    for key, value in zip(node.keys, kids[len(written):]):
        if key is None:  # {**a, ...}
            if not isinstance(value, Dict):
                raise JacValueError("'**' in a dict unpacks a dict", lowering.source.at(node))
            pairs += value.items()
        else:
            pairs.append((key_of(lowering.b, next(keys), lowering.source.at(key)), value))
    return Dict(pairs, position)


def comprehension(lowering, node: ast.DictComp, position: int) -> Dict:
    """``{k: v for k, v in ...}``: written out as a list comprehension is (the parser's ``comprehension``)."""
    def element(_):
        return key_of(lowering.b, lowering.expression(node.key), lowering.source.at(node.key)), \
            lowering.expression(node.value)
    return Dict(lowering.comprehension(node, position, element), position)


def pairs_of(lowering, value, position: int) -> list:
    """The (key, value) pairs of ``dict(value)``: a dict, or a list of pairs (``zip(keys, values)``,
    ``model.named_parameters()``)."""
    if isinstance(value, Dict):
        return value.items()
    if isinstance(value, (Items, Listed)) and all(isinstance(p, tuple) and len(p) == 2 for p in value):
        return [(key_of(lowering.b, k, position), v) for k, v in value]
    raise JacValueError("dict(...) takes a dict, a list of (key, value) pairs (zip(keys, values), "
                        "model.named_parameters()) or keywords (dict(W=W, b=b))", position)


def make(lowering, args: list, kwargs: dict, position: int) -> Dict:
    """Python's ``dict(...)``."""
    if len(args) > 1:
        raise JacValueError("dict() takes at most one positional argument", position)
    pairs = pairs_of(lowering, args[0], position) if args else []
    return Dict(pairs + list(kwargs.items()), position)


def method(lowering, d: Dict, name: str, args: list, kwargs: dict, position: int):
    """``d.keys()``, ``values()``, ``items()``, ``get(key[, default])``, ``copy()``; others refused."""
    if name in ("keys", "values", "items", "copy") and not args and not kwargs:
        if name == "keys":
            return Listed(_key_value(k) for k in d.keys())
        if name == "values":
            return Items(d.values())
        if name == "items":
            return Listed((_key_value(k), v) for k, v in d.items())
        return Dict(d.items(), position)  # a new dict: a write into d is not seen through it (Python's copy)
    if name == "get" and 1 <= len(args) <= 2 and not kwargs:
        key = key_of(lowering.b, args[0], position)
        return d.get(key, position) if key in d else (args[1] if len(args) == 2 else None)
    if name in ("update", "pop", "setdefault", "clear", "popitem"):
        refuse_statement(name, position)
    raise JacValueError(f"a dict has no method '.{name}()' jac reads (it reads keys(), values(), items(), get(), "
                        f"copy())", position)


def refuse_statement(name: str, position: int) -> None:
    """``d.update(...)`` / ``d.keys()`` as a statement of its own: a change in place, or a value never used."""
    if name in ("update", "pop", "setdefault", "clear", "popitem"):
        raise JacValueError(f"d.{name}(...) changes the dict in place: jac's texts are functional; write a new dict "
                            f"({{**d, 'c': c}}, or d['c'] = c, which binds d to a new one)", position)
    raise JacValueError(f"d.{name}(...) as a statement of its own: its value is never used (name it, v = "
                        f"d.{name}(...))", position)


def _key_value(key):
    return Static(key) if isinstance(key, str) else key


def refuse_array_use(args, what: str, position: int) -> None:
    """A dict given where an array is read (``np.array(d)``, ``d + 1``, ``jnp.sum(d)``): refused saying so."""
    if any(isinstance(a, Dict) for a in args):
        raise JacValueError(f"{what}: a dict is a structure holding arrays, not an array; pick one (d['W']), or "
                            f"map over its arrays with jax.tree_util.tree_map", position)


# jax.tree_util's functions and jax.tree's (the newer spelling): spelling -> what jac computes
SPELLINGS = {**{f"jax.tree_util.tree_{n}": n for n in ("map", "leaves", "flatten", "unflatten", "structure",
                                                        "reduce", "transpose")},
             **{f"jax.tree.{n}": n for n in ("map", "leaves", "flatten", "unflatten", "structure", "reduce",
                                             "transpose")}}
SPELLINGS["jax.flatten_util.ravel_pytree"] = "ravel"
SPELLINGS["torch.func.functional_call"] = "functional_call"
SPELLINGS["torch.nn.utils.stateless.functional_call"] = "functional_call"
LAST_NAMES = frozenset(s.rsplit(".", 1)[1] for s in SPELLINGS)


def lower(lowering, spelling: str, args: list, kwargs: dict, position: int):
    """``jax.tree_util.tree_map(f, tree, *rest, is_leaf=None)`` and the others of :data:`SPELLINGS`."""
    what = SPELLINGS[spelling]
    if what == "functional_call":
        return functional_call(lowering, spelling, args, kwargs, position)
    extra = set(kwargs) - ({"is_leaf"} if what in ("map", "leaves", "flatten", "structure", "reduce") else set()) \
        - ({"initializer"} if what == "reduce" else set())
    if extra:
        raise JacValueError(f"{spelling}() has no argument {sorted(extra)[0]!r} jac reads", position)
    is_leaf = _predicate(lowering, kwargs.get("is_leaf"), spelling, position)
    args = [unfolded(lowering, a) for a in args]  # p = [jnp.ones(3), jnp.zeros(3)]: two leaves, as JAX's
    need = {"map": 2, "leaves": 1, "flatten": 1, "unflatten": 2, "structure": 1, "reduce": 2, "transpose": 3,
            "ravel": 1}[what]
    if len(args) < need or what != "map" and len(args) > need + (what == "reduce"):
        raise JacValueError(f"{spelling}() takes {need} positional arguments"
                            f"{' (the function, then the trees)' if what == 'map' else ''}", position)
    if what == "map":
        return tree_map(lowering, spelling, args[0], args[1:], is_leaf, position)
    if what in ("leaves", "flatten", "structure"):
        leaves, tree = flatten(args[0], f"{spelling}'s tree", position, is_leaf, folded=lowering.folded)
        return Items(leaves) if what == "leaves" else tree if what == "structure" else Items([Items(leaves), tree])
    if what == "unflatten":
        tree, leaves = args
        if not isinstance(tree, TreeDef) or not isinstance(leaves, (Items, Listed)):
            raise JacValueError(f"{spelling}(treedef, leaves): the structure tree_flatten gave, and a list of "
                                f"leaves", position)
        return unflatten(tree, list(leaves))
    if what == "reduce":
        return tree_reduce(lowering, spelling, args, kwargs, is_leaf, position)
    if what == "ravel":
        return ravel(lowering, spelling, args[0], position)
    return transpose(spelling, args, position)


def ravel(lowering, spelling: str, value, position: int) -> Items:
    """``flat, unravel = jax.flatten_util.ravel_pytree(tree)``: the leaves (in :func:`flatten`'s order) raveled and
    concatenated into one vector, and :class:`Unravel`, which cuts a vector of that length into the tree again."""
    b = lowering.b
    leaves, tree = flatten(value, f"{spelling}'s tree", position, folded=lowering.folded)
    if not leaves:
        raise JacValueError(f"{spelling}() of a tree without leaves: its vector is empty (JAX gives float32), "
                            f"which jac has no use for", position)
    arrays = [tensor(b, leaf, spelling, position) for leaf in leaves]
    if any(dtypes.kind_of(b, a.id) is not None for a in arrays):  # unravel casts back: flat * 0.5 truncated
        raise JacValueError(f"{spelling}() of a tree with an integer or boolean leaf: JAX's unravel casts that part "
                            f"back to its dtype (a step flat - lr * g would be truncated there); keep such values "
                            f"out of the tree, or make them float (x.astype(float))", position)
    parts = [a if a.ndim == 1 else b.apply("reshape", a, shape=(_count(a.shape),), position=position) for a in arrays]
    flat = FUNCTIONS["concatenate"](b, [Items(parts)], {}, position) if len(parts) > 1 else parts[0]
    return Items([flat, Unravel(spelling, tree, [tuple(a.shape) for a in arrays])])


class Unravel:
    """``unravel`` of ``flat, unravel = ravel_pytree(tree)``: a vector of the flat length cut into the leaves'
    shapes, in the tree's structure (the parser's ``call_value`` calls :meth:`call`)."""

    def __init__(self, spelling: str, tree: TreeDef, shapes: list):
        self.spelling, self.tree, self.shapes = spelling, tree, shapes

    def call(self, lowering, args: list, kwargs: dict, position: int):
        b, total = lowering.b, sum(_count(s) for s in self.shapes)
        if len(args) != 1 or kwargs:
            raise JacValueError(f"{self.spelling}'s unravel takes one vector of length {total}", position)
        flat = tensor(b, args[0], "unravel", position)
        if tuple(flat.shape) != (total,):
            raise JacShapeError(f"{self.spelling}'s unravel expects an array of shape ({total},), got "
                                f"{fmt(flat.shape)}: JAX raises there (ValueError)", position)
        leaves, start = [], 0
        for shape in self.shapes:
            n = _count(shape)
            part = b.apply("getitem", flat, index=(slice(start, start + n),), position=position)
            leaves.append(part if len(shape) == 1 else b.apply("reshape", part, shape=shape, position=position))
            start += n
        return unflatten(self.tree, leaves)


def _count(shape: tuple) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def _predicate(lowering, fn, spelling: str, position: int):
    """``is_leaf=`` as a Python predicate: the text's function called on a subtree, its answer a bool."""
    if fn is None:
        return None

    def test(subtree) -> bool:
        answer = lowering.call_value(fn, [subtree], {}, position)
        if not isinstance(answer, bool):
            raise JacValueError(f"{spelling}(..., is_leaf=f): f answers True or False without the arrays' values "
                                f"(isinstance(n, tuple), isinstance(n, dict), n is None); it gave "
                                f"{type(answer).__name__}", position)
        return answer
    return test


def tree_map(lowering, spelling: str, fn, trees: list, is_leaf, position: int):
    """``f`` called on each leaf of the first tree with the others' leaves in the same places, as JAX's."""
    leaves, tree = flatten(trees[0], f"{spelling}'s tree", position, is_leaf, folded=lowering.folded)
    columns = [leaves]
    for k, other in enumerate(trees[1:], 1):
        found, its = flatten(other, f"{spelling}'s tree {k}", position, is_leaf, folded=lowering.folded)
        same_structure([tree, its], spelling, position)
        columns.append(found)
    if not lowering.is_callable_value(fn):
        raise JacValueError(f"{spelling}(f, tree, ...) takes a function first (a lambda or def of the text, or a "
                            f"library's function: jnp.zeros_like)", position)
    return unflatten(tree, [lowering.call_value(fn, list(row), {}, position) for row in zip(*columns)])


def tree_reduce(lowering, spelling: str, args: list, kwargs: dict, is_leaf, position: int):
    """``tree_reduce(f, tree[, initializer])``: Python's ``functools.reduce`` over the leaves."""
    fn, tree = args[0], args[1]
    if not lowering.is_callable_value(fn):
        raise JacValueError(f"{spelling}(f, tree) takes a function first (a lambda or def of the text, or a library's "
                            f"function: jnp.add)", position)
    leaves, _ = flatten(tree, f"{spelling}'s tree", position, is_leaf, folded=lowering.folded)
    start = args[2] if len(args) > 2 else kwargs.get("initializer")
    has_start = len(args) > 2 or "initializer" in kwargs
    if not leaves and not has_start:
        raise JacValueError(f"{spelling}() of a tree without leaves needs an initializer, as Python's reduce",
                            position)
    total, rest = (start, leaves) if has_start else (leaves[0], leaves[1:])
    for leaf in rest:
        total = lowering.call_value(fn, [total, leaf], {}, position)
    return total


def transpose(spelling: str, args: list, position: int):
    """``tree_transpose(outer, inner, tree)``: a tree of ``outer`` whose leaves are ``inner`` trees, made an
    ``inner`` tree of ``outer`` trees."""
    outer, inner, value = args
    if not isinstance(outer, TreeDef) or not isinstance(inner, TreeDef):
        raise JacValueError(f"{spelling}(outer_treedef, inner_treedef, tree): the two structures first", position)
    subtrees, _ = flatten(value, f"{spelling}'s tree", position,
                          is_leaf=lambda t: flatten(t, spelling, position)[1] == inner)
    if len(subtrees) != outer.num_leaves:
        raise JacValueError(f"{spelling}: the tree is not the outer structure {outer} of inner trees {inner}",
                            position)
    columns = [flatten(s, spelling, position)[0] for s in subtrees]
    for s in subtrees:
        same_structure([inner, flatten(s, spelling, position)[1]], spelling, position)
    return unflatten(inner, [unflatten(outer, [c[j] for c in columns]) for j in range(inner.num_leaves)])


def functional_call(lowering, spelling: str, args: list, kwargs: dict, position: int):
    """``torch.func.functional_call(model, params, args, kwargs=None, *, tie_weights=True, strict=False)``: the
    model called with the parameters named in ``params`` (a dict, or a tuple of dicts: parameters and buffers, as
    ``dict(model.named_parameters())`` names them) in place of its own, each restored after the call. A name that is
    no parameter of the model is refused (jac's modules keep no buffers a dict could replace)."""
    given = dict(zip(("module", "parameter_and_buffer_dicts", "args", "kwargs"), args))
    for key in ("module", "parameter_and_buffer_dicts", "args", "kwargs", "tie_weights", "strict"):
        if key in kwargs:
            given[key] = kwargs.pop(key)
    if kwargs or len(args) > 4 or "module" not in given or "parameter_and_buffer_dicts" not in given:
        raise JacValueError(f"{spelling}(module, parameters, args, kwargs=None): the model, a dict of its "
                            f"parameters by name, and its arguments", position)
    if given.get("strict") is True:
        raise JacValueError(f"{spelling}(..., strict=True) is not read: jac reads strict=False", position)
    module, dicts = given["module"], given["parameter_and_buffer_dicts"]
    if not hasattr(module, "own_parameters"):
        raise JacValueError(f"{spelling}: the first argument is a model of the text (nn.Linear(3, 2), a model "
                            f"class's instance)", position)
    dicts = list(dicts) if isinstance(dicts, Items) else [dicts]
    if not all(isinstance(d, Dict) for d in dicts):
        raise JacValueError(f"{spelling}: the parameters are a dict (dict(model.named_parameters())) or a tuple of "
                            f"dicts", position)
    new = {}
    for d in dicts:
        for k, v in d.items():
            if not isinstance(k, str) or not isinstance(v, Tracer):
                raise JacValueError(f"{spelling}: the parameters' dict maps names (strings) to arrays", position)
            if k in new:
                raise JacValueError(f"{spelling}: {k!r} is given twice, as PyTorch refuses", position)
            new[k] = v
    called = given.get("args", ())
    called = list(called) if isinstance(called, Items) else [called]
    extra = given.get("kwargs") or Dict([])
    if not isinstance(extra, Dict):
        raise JacValueError(f"{spelling}: kwargs is a dict of the model's keyword arguments", position)
    slots = _slots(module)
    unknown = [k for k in new if k not in slots]
    if unknown:
        raise JacValueError(f"{spelling}: {unknown[0]!r} is not a parameter of the model (its parameters: "
                            f"{', '.join(list(slots)[:8])}); jac replaces parameters only", position)
    for k, v in new.items():
        old = slots[k][2]
        if tuple(v.shape) != tuple(old.shape):
            raise JacValueError(f"{spelling}: {k!r} has shape {tuple(v.shape)} and the model's parameter "
                                f"{tuple(old.shape)}", position)
    swapped = [(slots[k], v) for k, v in new.items()]
    try:
        for (owner, key, old), v in swapped:
            _set(owner, key, old, v)
        return lowering.call_module(module, called, dict(extra.items()), position)
    finally:
        for (owner, key, old), v in swapped:
            _set(owner, key, v, old)


def _slots(root) -> dict:
    """Each parameter of ``root`` by its ``named_parameters()`` name: (the module holding it, its key, its value)."""
    found, todo = {}, [("", root)]
    while todo:
        name, module = todo.pop()
        for key, tracer in module.own_parameters():
            found.setdefault(f"{name}.{key}" if name else key, (module, key, tracer))
        todo.extend(reversed([(f"{name}.{key}" if name else key, child) for key, child in module.children()]))
    return found


def _set(owner, key: str, old, new) -> None:
    """The parameter ``key`` of ``owner`` (a module's, or a model class's attribute) set to ``new``."""
    held = getattr(owner, "params", None)
    if isinstance(held, dict) and held.get(key) is old:
        held[key] = new
        kwargs = getattr(owner, "kwargs", None)
        if isinstance(kwargs, dict) and kwargs.get(key) is old:
            kwargs[key] = new
    else:
        owner.attributes[key] = new


def unfolded(lowering, value, depth: int = 0):
    """``value`` with each constant the parser folded from a list or tuple display (``[jnp.ones(3), jnp.zeros(3)]``,
    one (2, 3) array to jac) given back as the display's elements, nested: the pytree JAX and torch.func see (a
    list of two leaves). Dicts and tuples are walked, up to :data:`MAX_DEPTH` levels as :func:`flatten` reads
    them (a dict nested 3,000 deep was Python's RecursionError); an array made otherwise is one leaf, as it is."""
    if depth > MAX_DEPTH:
        raise JacLimitError(f"a pytree nested more than {MAX_DEPTH} levels deep: jac reads pytrees up to that", None)
    if isinstance(value, Tracer):
        elements = lowering.displays.get(value.id) if value.id in lowering.folded else None
        return value if elements is None else written([unfolded(lowering, e, depth + 1) for e in elements],
                                                      elements.display)
    if isinstance(value, Items):
        return written([unfolded(lowering, v, depth + 1) for v in value], value.display) if not value.fields \
            else value
    if isinstance(value, Dict):
        return Dict([(k, unfolded(lowering, v, depth + 1)) for k, v in value.items()])
    return value


def written(items, display: str | None) -> Items:
    """``items`` as the tuple or list (``display``) the text wrote, which ``isinstance`` reads (:func:`instance_of`);
    None: not known (a function's result, a tree_map's)."""
    out = Items(items)
    out.display = display
    return out


_CLASSES = {"tuple": "tuple", "list": "list", "dict": "dict"}


def builtin_classes(node: ast.expr) -> frozenset | None:
    """The classes of ``isinstance(n, tuple)`` / ``(tuple, list)`` / ``dict`` (an is_leaf predicate's), or None
    when the second argument names another class (a module's: the parser's instance_test)."""
    found = node.elts if isinstance(node, ast.Tuple) else [node]
    if not found or not all(isinstance(n, ast.Name) and n.id in _CLASSES for n in found):
        return None
    return frozenset(n.id for n in found)


def instance_of(value, classes: frozenset, position: int) -> bool:
    """``isinstance(value, classes)`` as Python answers it of the text's value: a dict of the text is a dict, an array
    none of them, a tuple or list as the text wrote it; a sequence jac did not see written (a function's result)
    only when both tuple and list are asked."""
    if isinstance(value, Dict):
        return "dict" in classes
    if isinstance(value, Items):
        if {"tuple", "list"} <= classes:
            return True
        if value.display is None:
            raise JacValueError(f"isinstance(..., {' or '.join(sorted(classes))}) of a sequence jac did not see "
                                f"written as a tuple or a list (a function's result): write isinstance(n, (tuple, "
                                f"list))", position)
        return value.display in classes
    if value is None or isinstance(value, Tracer):
        return False
    raise JacValueError(f"isinstance(..., {' or '.join(sorted(classes))}) of a {type(value).__name__}: jac reads "
                        f"it of arrays, tuples, lists, dicts and None", position)
