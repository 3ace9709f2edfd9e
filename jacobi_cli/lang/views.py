"""Names that view one buffer (session 39, h39-views): a write through any of them is seen by all.

In PyTorch ``d = t.diagonal(); d.mul_(2)`` doubles t's diagonal, and after ``v = t[0]; t.add_(1)`` v holds the new
row: the names are views of one buffer. jac rebinds a written name to a new node (``lang/scatter.Memory``), which is
what the library computes only where no other name sees that buffer; sessions 37-38 refused the rest. Here
:func:`family` finds, for a write into a name, every name whose buffer it shares, where each is a chain of view ops
(basic index, transpose, expand, a reshape that needs no copy, a diagonal: ``overlap.chain``) from one root node
that holds the whole buffer, and the offsets of the root's elements are known (``overlap.identities``);
:func:`written` computes the root as the write leaves it (the written view's new elements put back at the offsets
it views) and each name's new value: its chain of view ops replayed on that root. Where some name sharing the
buffer is no such view (a list or dict holding it, an input, a layout jac does not replay, a call jac lowers onto its
operand's node that the library may answer with a copy: ``g = u.float()``, ``Memory.second``), there is no family
and ``Memory.check`` refuses the write as before.

Round 2 (h39-views2): a ``.detach()`` in a name's chain is a view autograd does not see through: a write through it
changes the values and keeps the root's derivative (``straight_through``); a part of a broadcast view holding each
element once is written (:func:`part_of`); the views of a split / chunk part are refused at their next use once the
buffer is written (``Family.stale``), as PyTorch raises there.

Only PyTorch texts (``_Lowering.torch_writes``) take this path. ``tests/test_views39.py`` and
``benchmarks/views39_probe.py`` check it against PyTorch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import JacValueError
from ..ir.graph import Tracer
from . import overlap

MORE_THAN_ONE = ("unsupported operation: more than one element of the written-to tensor refers to a single memory "
                 "location. Please clone() the tensor before performing the operation.")


@dataclass(frozen=True)
class Family:
    """The names viewing one buffer: ``root``, the node holding all of it; ``ids``, each of its elements' offset;
    ``paths``, each name's view nodes from the root to its value (``[]``: the root itself)."""
    root: int
    ids: np.ndarray
    paths: dict
    stale: frozenset = frozenset()  # views of a split / chunk / unbind part: unusable once the buffer is written
    held: tuple = ()  # (name, k, path): a flat list or tuple ``name`` whose item k is a view of the buffer by ``path``


def root_of(b, i: int, trusted=frozenset()) -> int:
    """The node below node ``i``'s chain of view ops: the tensor whose buffer ``i`` views (``trusted``: as
    ``overlap.chain``'s)."""
    while True:
        node = _view_node(b, i, trusted)
        if node is None:
            return i
        i = node.args[0]


def _view_node(b, i: int, trusted):
    """Node ``i`` where it is a view op ``overlap.chain`` follows; for a constant folded from one (``v = t[1:3]`` of a
    constant ``t``: ``Builder.folded_ops``), a node of that view op on the constant it was folded from (the replay's
    own, not the graph's); else None."""
    from ..ir.graph import new_node
    from .functions import _basic_index
    copied = b.layouts or {}
    layout = copied.get(i)
    layout = None if i in trusted and layout in ("like", "fresh") else layout
    node = b.nodes[i]
    if node.op == "const" and i in b.folded_ops and i in b.folded_views:
        op, params = b.folded_ops[i]
        node = new_node(i, op, (b.folded_views[i],), params, node.shape, node.name, node.position)
    return node if overlap.is_view(node, layout, _basic_index) else None


def chain(b, i: int, base: int, trusted=frozenset()) -> list | None:
    """``overlap.chain``, through the views of a constant the builder folded too (:func:`_view_node`)."""
    nodes = []
    while i != base:
        node = _view_node(b, i, trusted)
        if node is None:
            return None
        nodes.append(node)
        i = node.args[0]
    return nodes[::-1]


def family(memory, scope: dict, b, name: str, multi=frozenset(), containers: bool = False) -> Family | None:
    """The names sharing ``name``'s buffer, each a view jac replays from one root, or None where ``name`` is the only
    one, or where some name sharing it is not such a view (then the write is refused by ``Memory.check``).
    ``containers`` (session 55): a flat list or tuple holding one item of the buffer (``ys = [t]``, ``ts = [u, t[0]]``
    of another ``u``) is a member too, that item a view replayed as a name's (:func:`held_item`)."""
    tokens = memory.tokens.get(name)
    value = scope.get(name)
    if not tokens or type(value) is not Tracer:
        return None
    if name in memory.read_only or any(type(t) is tuple for t in tokens):
        return None
    members = [n for n, t in memory.tokens.items() if t & tokens]
    if len(members) < 2:
        return None
    held = {}
    for n in members:
        if containers and n not in memory.maybe_copies and n not in memory.read_only:
            item = held_item(memory, scope.get(n), tokens)
            if item is not None:
                held[n] = item
                continue
        if memory.tokens[n] != tokens or type(scope.get(n)) is not Tracer \
                or n in memory.maybe_copies:
            return None
    members = [n for n in members if n not in held]
    own = frozenset([scope[n].id for n in members] + [scope[n][k].id for n, k in held.items()])  # the names' own
    # nodes (and the held items'): views, though a clone of one marks it
    root = root_of(b, value.id, own)
    if not tokens <= memory.by_node.get(root, frozenset()):  # the root is no tensor of this buffer
        return None
    ids = overlap.identities(b, root)
    if ids is None:
        ids = fresh_ids(b, root)
    if ids is None:
        return None
    paths, stale = {}, set()
    for n in members:
        path = chain(b, scope[n].id, root, own)
        if path is None or overlap.viewed(ids, path) is None:
            return None
        if not path and memory.second(n):  # g = u.float(): u's node, maybe a copy of u's buffer in the library
            return None
        if any(node.id in multi for node in path):  # a, b = t.chunk(2): PyTorch raises at a's next use once t is
            stale.add(n)  # written (a write into a itself: check_multiple)
            continue
        paths[n] = path
    if name in stale or not paths:
        return None
    kept = []
    for n, k in held.items():
        path = chain(b, scope[n][k].id, root, own)
        if path is None or overlap.viewed(ids, path) is None or detached_at(path) is not None \
                or any(node.id in multi for node in path):
            return None
        kept.append((n, k, tuple(path)))
    return Family(root, ids, paths, frozenset(stale), tuple(kept))


def held_item(memory, value, tokens) -> int | None:
    """The position of the one item of the flat list or tuple ``value`` (a plain one: no named tuple) holding the
    buffer of ``tokens`` and nothing else, where no other item (nor anything deeper) reaches it; else None. One item
    alone: a loop over the list (``for t in ts: t.add_(1)``) reads each item as the list was, so a second item of the
    same buffer would be read stale after the first one's write."""
    from .functions import Items
    if type(value) is not Items or value.display not in ("list", "tuple") or value.fields or value.record is not None:
        return None
    found = None
    for k, item in enumerate(value):
        if type(item) is Tracer:
            mine = memory._base(item)
            if not mine & tokens:
                continue
            if mine != tokens or found is not None:
                return None
            found = k
        elif isinstance(item, (list, tuple)) or type(item).__name__ == "Dict":
            from .scatter import held_arrays
            if any(memory._base(a) & tokens for a in held_arrays(item)):
                return None
        elif isinstance(item, Tracer):  # a Pair or another kind of array: not replayed
            if memory._base(item) & tokens:
                return None
    return found


def fresh_ids(b, root: int):
    """The offsets of node ``root``'s elements where ``overlap.identities`` does not know its layout but any dense
    layout is the contiguous one (session 54): the root of a family holds its whole buffer (``Memory``'s fresh buffer,
    no view: a sort's values, a gather's result, a constant), a tensor PyTorch allocates dense, and with at most one
    axis longer than 1 every dense layout puts element k at offset k. None for more axes (a constant folded from an
    element-wise op of a transpose keeps that transpose's strides in PyTorch) and for a folded view of a constant
    (which may be a part of its buffer)."""
    folded = b.folded_ops.get(root) if root in b.folded_views else None
    if root in b.folded_views and (folded is None or folded[0] in ("transpose", "broadcast_to", "getitem", "reshape")
                                   or b.nodes[b.folded_views[root]].shape != b.nodes[root].shape):
        return None  # a part of another constant's buffer (straight_through's fold, the same buffer, is the whole)
    return line_ids(b.nodes[root].shape)


def line_ids(shape):
    """Element k at offset k, for a tensor of ``shape`` with at most one axis longer than 1 and some element, whose
    every dense layout is that one (else None)."""
    if not shape or not all(type(n) is int for n in shape) or sum(n > 1 for n in shape) > 1 or 0 in shape:
        return None
    return np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)


def stale_view(name: str) -> str:
    """PyTorch's error at the use of ``name``, a view a function of several made (``a, b = t.chunk(2)``), after a write
    into the tensor it views."""
    return (f"'{name}': PyTorch raises \"... is a view and its base or another view of its base has been "
            "modified inplace. This view is the output of a function that returns multiple views. Such functions do "
            "not allow the output views to be modified inplace.\" at its use after the write (split, chunk, unbind, "
            "iterating a tensor); take the part after the write, or .clone() it before")


def check_multiple(b, i: int, multi, what: str, position, shares=None) -> None:
    """Refuse, with PyTorch's words, a write into a view (node ``i``) of one of the views a function of several made
    (``multi``: ``a, b = t.chunk(2)``, ``t.unbind(0)``), which PyTorch forbids. ``shares`` (session 57): where given,
    refuse only if ``shares(part)`` says the written tensor shares that part's memory (a shape write, ``a[0].t_()``:
    jac's view nodes include a tensor of its own in PyTorch, ``torch.stack((a,))``)."""
    if not multi:
        return
    from .functions import _basic_index
    layouts = b.layouts or {}
    while i not in multi:
        if not overlap.is_view(b.nodes[i], layouts.get(i), _basic_index):
            return
        i = b.nodes[i].args[0]
    if shares is not None and not shares(i):
        return
    raise JacValueError(f"{what}: PyTorch raises \"... is a view and is being modified inplace. This view is the "
                        "output of a function that returns multiple views. Such functions do not allow the output "
                        "views to be modified inplace.\" (split, chunk, unbind, iterating a tensor); write into a "
                        ".clone() of the part", position)


def numpy_alike(b, found: Family, name: str | None = None) -> bool:
    """Does NumPy hold these names as PyTorch does: views by basic indices and transposes alone, none of them 0-d
    (NumPy's integer index of every axis is a scalar of its own; its diagonal and broadcast are read-only)? A name
    other than the one written (``name``) may be a diagonal too: NumPy's read-only view sees the write as PyTorch's."""
    from .functions import _basic_index
    layouts = b.layouts or {}
    for n, path in found.paths.items():
        if path and not path[-1].shape:
            return False
        for node in path:
            if node.op == "getitem" and n != name and name is not None and layouts.get(node.id) == "diagonal":
                continue
            if node.op != "transpose" and (node.op != "getitem" or node.id in layouts
                                           or not _basic_index(node.params.get("index"))):
                return False
    return True


def check_written(found: Family, name: str, what: str, position, whole: bool = True) -> None:
    """Refuse a write into ``name`` where two of its elements are one element of the buffer (``e = t[0].expand(3,
    3)``): with PyTorch's words where the write changes all of it (``e.add_(1)``, ``whole``); with jac's where it
    changes a part (``e[0] = 5``, which PyTorch makes where that part holds each element once)."""
    viewed = overlap.viewed(found.ids, found.paths[name])
    if len(np.unique(viewed)) == viewed.size:
        return
    if whole:
        raise JacValueError(f"{what}: PyTorch raises \"{MORE_THAN_ONE}\"", position)
    raise JacValueError(f"{what}: '{name}' is a broadcast view (expand), two of whose elements are one element of "
                        "the tensor it views; jac does not follow a write into a part of it: write into that tensor "
                        "itself", position)


def check_own_overlap(b, i: int, name: str, what: str, position, whole: bool) -> None:
    """Refuse a write into ``name`` (node ``i``), which no other name's view shares, where two of its elements are one
    element of its buffer as PyTorch lays it out (``u = torch.sin(x).expand(3, 3)``, whose unnamed base jac's graph
    shows no name of): PyTorch's words where the write changes all of it (``whole``), jac's where a part (``u[0] =
    v`` changes every row in PyTorch, which jac's write of one row did not follow: a wrong answer before session 56)."""
    ids = overlap.identities(b, i)
    if ids is None or len(np.unique(ids)) == ids.size:
        return
    if whole and any(s == 0 and n > 1 for n, s in zip(ids.shape, ids.strides)):  # (PyTorch's internal overlap
        raise JacValueError(f"{what}: PyTorch raises \"{MORE_THAN_ONE}\"", position)  # check: a broadcast axis)
    raise JacValueError(f"{what}: '{name}' is a view (expand, unfold) two of whose elements are one element of the "
                        "tensor it views, which PyTorch's write changes through both; jac does not follow it: write "
                        "into a .clone() of it", position)


def part_of(found: Family, name: str, path: list, what: str, position):
    """The offsets in the buffer of the part ``path`` (view nodes from ``name``'s value) of ``name``, a broadcast view
    (``e = t[0].expand(3, 3)``) whose part ``e[0]`` holds each element once, which PyTorch writes (a part holding one
    element twice, ``e[:, 0]``, is PyTorch's "more than one element" error); None where ``name`` holds each element
    once (the write is no part write)."""
    viewed = overlap.viewed(found.ids, found.paths[name])
    if viewed is None or len(np.unique(viewed)) == viewed.size:
        return None
    part = overlap.viewed(viewed, path)
    if part is None:
        raise JacValueError(f"{what}: jac does not know which elements of '{name}' this part reaches", position)
    if len(np.unique(part)) != part.size:
        raise JacValueError(f"{what}: PyTorch raises \"{MORE_THAN_ONE}\"", position)
    return part


def written(b, found: Family, name: str, new, position, part=None) -> tuple:
    """The root as the write of ``new`` into ``name`` leaves it, and each name's new value (name -> tracer): its
    view ops replayed on that root. A write through ``.detach()`` (``d = t.detach(); d.mul_(2)``) changes the values
    alone: the root keeps its derivative (``straight_through``), and the names below that detach, which autograd
    sees the write through, take the derivative of ``new`` (:func:`_detached_side`)."""
    path = found.paths[name]
    if part is not None:  # e[0] = v of e = t[0].expand(3, 3): the part's elements (offsets, new values) alone
        where = np.empty(int(found.ids.max()) + 1, np.intp)
        where[found.ids.reshape(-1)] = np.arange(found.ids.size)
        root = put_values_(b, b.tracer_of(found.root), where[part[0]], part[1], f"{name} = ...", position)
    else:
        root = new if not path else _put(b, b.tracer_of(found.root), found.ids, found.ids, path, new, name, position)
    cut = detached_at(path)
    if cut is not None:  # PyTorch: t's values change, its autograd history does not (no derivative through d)
        root = b.apply("straight_through", b.apply("detach", root, position=position), b.tracer_of(found.root),
                       position=position)
    values, made = {}, {(): root}
    side = _detached_side(b, found, name, new, cut, position, part) if cut is not None else {}
    for n, nodes in found.paths.items():
        values[n] = side[n] if n in side else _replayed(b, nodes, made, position)
    for n, k, nodes in found.held:  # ys = [t]: the list's item, t's new value (no detach on its path: family)
        values[(n, k)] = side[n] if n in side else _replayed(b, list(nodes), made, position)
    return root, values


def _replayed(b, nodes: list, made: dict, position):
    """The view ops ``nodes`` replayed on ``made[()]`` (the new root), each prefix of the chain once (``made``: prefix
    of node ids -> tracer): an alias (``e = d``) is one tracer, and ``v = d[0]`` stays a view of ``d`` (one detach
    node under both: the tensor autograd sees a later write below it into)."""
    key = ()
    for k, node in enumerate(nodes):
        longer = key + (node.id,)
        if longer not in made:
            made[longer] = replay(b, nodes[k:k + 1], made[key], position)
        key = longer
    return made[key]


def detached_at(path: list) -> int | None:
    """The position in ``path`` of its last ``detach`` (the tensor autograd sees a write below it into), or None."""
    found = [k for k, node in enumerate(path) if node.op == "detach"]
    return found[-1] if found else None


def _put(b, base, base_ids, ids, path, new, name, position):
    """``base`` (whose elements are at the offsets ``base_ids``) with the elements ``path`` views of the buffer
    (``ids``: the root's offsets) set to ``new``."""
    where = np.empty(int(ids.max()) + 1, np.intp)
    where[base_ids.reshape(-1)] = np.arange(base_ids.size)
    return put_values_(b, base, where[overlap.viewed(ids, path)], new, f"{name} = ...", position)


def put_values_(b, base, targets, new, what, position):
    from .scatter import put_values
    return put_values(b, base, targets, new, False, what, position)


def _detached_side(b, found: Family, name: str, new, cut: int, position, part=None) -> dict:
    """The new values of the names autograd sees a write through ``d = t.detach()`` into (``name``'s, ``new`` carrying
    a derivative: ``d.add_(x[0])``): those below that same detach, views of the tensor ``d`` made as the write leaves
    it. Where ``new`` has no derivative, none (the replay on the root, detached, is theirs: PyTorch's too)."""
    if not b.nodes[new.id].requires_grad:
        return {}
    path = found.paths[name]
    base = path[:cut + 1]
    base_key = tuple(node.id for node in base)
    base_ids = overlap.viewed(found.ids, base)
    if len(np.unique(base_ids)) != base_ids.size:  # d = t[0].expand(3, 3).detach(): autograd replays the write on d
        raise JacValueError(f"{name} = ...: a write that carries a derivative into a view of a detached broadcast "
                            f"tensor: PyTorch raises \"{MORE_THAN_ONE}\" where '{name}' is used after it; write into "
                            "a .clone() of it", position)
    if part is not None:  # e[0] = v of e = d[0].expand(3, 3): the part's elements alone
        where = np.empty(int(found.ids.max()) + 1, np.intp)
        where[overlap.viewed(found.ids, base).reshape(-1)] = np.arange(int(np.prod(path[cut].shape, dtype=np.int64)))
        tensor = put_values_(b, b.tracer_of(path[cut].id), where[part[0]], part[1], f"{name} = ...", position)
    elif len(path) == cut + 1:
        tensor = new
    else:
        tensor = _put(b, b.tracer_of(path[cut].id), overlap.viewed(found.ids, base), found.ids, path, new, name,
                      position)
    side = {}
    for n, nodes in found.paths.items():
        if tuple(node.id for node in nodes[:cut + 1]) == base_key and detached_at(nodes) == cut:
            side[n] = replay(b, nodes[cut + 1:], tensor, position)
    return side


def replay(b, nodes: list, root, position):
    """The view ops ``nodes`` applied again, to ``root``."""
    from .functions import copied_layout
    x = root
    for node in nodes:
        x = b.apply(node.op, x, position=position, **node.params)
        if b.layouts and b.layouts.get(node.id) == "diagonal" and b.nodes[x.id].op == "getitem":
            copied_layout(b, x, "diagonal")
    return x
