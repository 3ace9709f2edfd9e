"""A write in place whose operand is a view of the very tensor it writes (session 38, h38-views).

``t[0:2] += t[1:]`` reads elements the same write changes. PyTorch's TensorIterator (``copy_``, ``add_``, ``mul_``,
``index_put_``, ...) checks the written-to tensor against each input (``assert_no_partial_overlap``): where both are
non-overlapping and dense and their memory ranges meet without being the same tensor, it raises "unsupported
operation: some elements of the input tensor and the written-to tensor refer to a single memory location"; where
either is not dense (a column ``t[:, 0]``, ``t[1:, 1:]``) the check gives up ("too hard") and the kernel runs, reading
elements its own loop may have written already: the result depends on the order it visits them. jac computes every
write as if its operands were read first, so it answers only where that order cannot matter (each shared element read
at the very position it is written: ``t += t``, ``t[0] += t[:, 0]``), refuses with PyTorch's words where PyTorch
raises, and refuses with its own where PyTorch's answer would depend on its loop. ``tests/test_views38.py`` checks
each form against PyTorch.

The element identities come from the strides PyTorch gives the written tensor (``functions._stand_in``), replayed
through the view ops of jac's graph (transpose, basic index, expand, detach, a reshape that needs no copy).
"""

from __future__ import annotations

import numpy as np

from ..errors import JacValueError
from .functions import dense

MESSAGE = ("unsupported operation: some elements of the input tensor and the written-to tensor refer to a single "
           "memory location. Please clone() the tensor before performing the operation.")
_VIEWS = frozenset(("transpose", "broadcast_to", "detach", "getitem", "reshape"))


def chain(b, i: int, base: int, trusted=frozenset()) -> list | None:
    """The view nodes from ``base`` (exclusive) to node ``i`` (inclusive), in the order they apply, or None where
    ``i`` is no view of ``base``'s tensor (a copy, an op) or ``base`` itself ([]). ``trusted``: nodes known to be views
    whatever their layout says (a name's view, whose node a later ``clone`` marked: ``g = d.clone()``)."""
    from .functions import _basic_index
    nodes = []
    copied = b.layouts or {}  # torch.flip(t) lowered onto a reversed index, t.clone() onto t's node: copies
    while i != base:
        node = b.nodes[i]
        layout = copied.get(i)
        if not is_view(node, None if i in trusted and layout in ("like", "fresh") else layout, _basic_index):
            return None
        nodes.append(node)
        i = node.args[0]
    return nodes[::-1]


def is_view(node, layout, basic) -> bool:
    """Is ``node`` (``layout``: its entry in ``Builder.layouts``) a view op of its first argument that this module
    replays: a transpose, expand, detach, basic index, reshape, or the index of a diagonal (``t.diagonal()``)?"""
    if node.op not in _VIEWS or not node.args:
        return False
    if layout is not None:
        return layout == "diagonal"
    return node.op != "getitem" or basic(node.params.get("index"))


def identities(b, base: int):
    """Each element of node ``base``'s tensor as its offset in its buffer, laid out with the strides PyTorch gives it
    (an int64 array viewing a buffer of offsets), or None where those strides are not known."""
    from .functions import _stand_in
    stand_in = _stand_in(b, base)
    if stand_in is None or stand_in.size == 0:
        return None
    if any(s < 0 for s in stand_in.strides):
        return None
    extent = 1 + sum((n - 1) * s for n, s in zip(stand_in.shape, stand_in.strides))
    return np.lib.stride_tricks.as_strided(np.arange(extent, dtype=np.int64), stand_in.shape,
                                           tuple(8 * s for s in stand_in.strides))


def viewed(ids, nodes: list):
    """``ids`` through the view nodes ``nodes`` (None where a reshape copies: a tensor of its own in PyTorch)."""
    from .functions import _basic_index, diagonal_view
    for node in nodes:
        if node.op == "transpose":
            ids = ids.transpose(node.params["axes"])
        elif node.op == "broadcast_to":
            ids = np.broadcast_to(ids, node.params["shape"])
        elif node.op == "getitem" and _basic_index(node.params["index"]):
            ids = ids[node.params["index"]]
        elif node.op == "getitem":  # a diagonal (chain lets no other index through): its strides kept
            ids = diagonal_view(ids, node.params["index"])
        elif node.op == "reshape":
            try:
                ids = ids.reshape(node.params["shape"], copy=False)
            except ValueError:
                return None
    return ids


def order_matters(written, read) -> bool:
    """Does some position read (``read`` broadcast to ``written``'s shape) an element the write changes at another
    position?"""
    try:
        read = np.broadcast_to(read, written.shape)
    except ValueError:
        return False
    flat_written, flat_read = written.reshape(-1), read.reshape(-1)
    where = np.full(int(max(flat_written.max(), flat_read.max())) + 1, -1, np.int64)
    where[flat_written] = np.arange(flat_written.size)
    found = where[flat_read]
    return bool(np.any((found >= 0) & (found != np.arange(flat_read.size))))


def _partial(a, b) -> bool:
    """PyTorch's ``get_overlap_status(a, b) == PARTIAL`` for two dense tensors of one buffer."""
    low_a, high_a, low_b, high_b = a.min(), a.max(), b.min(), b.max()
    if high_a < low_b or high_b < low_a:
        return False
    return not (low_a == low_b and high_a == high_b and _strides(a) == _strides(b))


def _strides(a) -> tuple:
    """PyTorch's strides of the view ``a`` (in elements; a dimension of size 1 has the stride PyTorch gives it, the
    product of the sizes after it, where NumPy's may differ)."""
    out, inner = [], 1
    for n, s in zip(a.shape[::-1], a.strides[::-1]):
        out.append(inner if n == 1 else s // 8)
        inner = (s // 8) * n if n != 1 else inner
    return tuple(out[::-1])


def check(b, base: int, target: int | None, operand: int, fill: bool, what: str, position) -> None:
    """Refuse the write ``what`` into node ``base``'s tensor (the view ``target`` of it, or its element-picking index
    where ``target`` is None: ``index_put_``) whose operand, node ``operand``, reads that tensor's memory, where
    PyTorch raises or where its result would depend on its loop's order. ``fill``: a plain ``=`` of a 0-d operand
    (PyTorch's ``fill_``, which reads the value once)."""
    path = chain(b, operand, base)
    if path is None or fill:
        return
    ids = identities(b, base)
    if ids is None:
        if path or target is not None and chain(b, target, base):
            _refuse(what, position, None)
        return
    read = viewed(ids, path)
    if read is None or read.size == 0:
        return
    if target is None:  # t[[0, 1]] = t[1:]: index_put_ checks the whole tensor against its values
        _refuse(what, position, dense(ids) and dense(read) and _partial(ids, read))
    target_path = chain(b, target, base)
    written = viewed(ids, target_path) if target_path is not None else None
    if written is None or written.size == 0:
        return
    raises = dense(written) and dense(read) and _partial(written, read)  # whatever the order: t.unsqueeze(0).mul_(t)
    if raises or order_matters(written, read):
        _refuse(what, position, raises)


def check_index_put(b, base: int, self_view: int | None, picked: int | None, operand: int, what: str,
                    position) -> None:
    """PyTorch's checks of ``index_put_`` (``t[0, [0, 1]] = v``, ``t.index_put_(indices, v)``): the tensor it writes
    is ``self_view`` (node ``base``'s tensor with the index's basic parts applied, its advanced ones left whole:
    PyTorch's ``applySlicing``), and ``at::assert_no_overlap(self, value)`` raises where both are dense and share an
    element (the same elements too, unlike a TensorIterator's check). Where either is not dense PyTorch's check gives
    up: answered where no element the write changes (``picked``: the node reading them, ``t[0, [0, 1]]``; None where
    unknown) is read at another position, else refused with jac's words."""
    path = chain(b, operand, base)
    if path is None:
        return
    ids = identities(b, base)
    if ids is None:
        _refuse(what, position, None)
    read = viewed(ids, path)
    if read is None or read.size == 0:
        return
    target = chain(b, self_view, base) if self_view is not None else None
    written = viewed(ids, target) if target is not None else None
    if written is None:
        _refuse(what, position, None)
    if not np.intersect1d(written, read).size:
        return
    if dense(written) and dense(read):
        _refuse(what, position, True)
    found = _picked(b, picked, base, ids) if picked is not None else None
    if found is None or order_matters(found, read):
        _refuse(what, position, False)


def _picked(b, i: int, base: int, ids):
    """``ids`` through the transposes and indices (any index of constants: ``t[[0, 1], 1:]``) from node ``base`` to
    node ``i``, or None where another op is met."""
    from .functions import _basic_index, diagonal_view
    nodes = []
    layouts = b.layouts or {}
    while i != base:
        node = b.nodes[i]
        if node.op not in ("transpose", "getitem", "reshape") or not node.args or layouts.get(i, "diagonal") != \
                "diagonal":
            return None
        nodes.append(node)
        i = node.args[0]
    for node in reversed(nodes):
        if node.op == "transpose":
            ids = ids.transpose(node.params["axes"])
        elif node.op == "reshape":
            ids = ids.reshape(node.params["shape"])
        elif node.id in layouts:
            ids = diagonal_view(ids, node.params["index"])
        else:
            try:
                ids = ids[node.params["index"]]
            except (IndexError, TypeError, ValueError):
                return None
    return ids


def _refuse(what: str, position, raises) -> None:
    if raises:
        raise JacValueError(f"{what}: PyTorch raises \"{MESSAGE}\"", position)
    raise JacValueError(f"{what}: the operand reads elements this write changes at other positions; PyTorch does not "
                        "check that here (a view that is not dense) and its result depends on the order its loop "
                        "writes them, which jac does not follow: write into a copy of the operand (.clone())",
                        position)
