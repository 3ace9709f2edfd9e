"""The computation graph: a flat, topologically ordered tuple of immutable nodes.

A :class:`Builder` appends nodes and infers each node's shape from its op's shape rule
before any number is computed, so a shape error names the op and the column at once.
:class:`Tracer` is the handle a builder hands out; it overloads the arithmetic operators,
which is how the derivative rules in :mod:`jacobi_cli.ir.ops` build graphs of their own
(the gradient graph that a Hessian differentiates again).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import partial
from operator import attrgetter
from types import MappingProxyType
from typing import NamedTuple

import numpy as np

from ..errors import JacError, JacLimitError, JacShapeError, JacValueError, too_large
from . import dtypes
from .op import Proxy
from .ops import _BLOCKS, OPS, adjacent_index, same_shape
from .shapes import (MAX_ELEMENTS, NUMPY_MAX_RANK, Shape, broadcast, check_array_shape, check_rank, fmt,
                     is_concrete)
from .work import CUBIC, FAST, MAX_FOLD_WORK, RULES, check_time, fold_work, limit_now, title_of

MAX_NODES = 2_000_000
DEFAULT_MAX_BYTES = 2**31  # one array; the memory budget of the commands refines it
LEAF_OPS = ("input", "const")
# Builder._binary's memo of result shapes is filled from this many nodes on: it pays in a long sum of like terms,
# while in a short text (a first call's E1: three products of different ops) each entry, a hashed key and a dict
# insert (~1.3 k instructions), is made and never read
MEMO_AFTER = 16


NODE_FIELDS = ("id", "op", "args", "params", "shape", "name", "position", "requires_grad", "value")
_NO_PARAMS: dict = {}  # shared by the nodes of ops without parameters; never mutated


class _Fields:
    """A node's nine fields as slots, writable: :func:`new_node` fills them, then makes the object a
    :class:`Node`, which refuses writes."""

    __slots__ = NODE_FIELDS


class Node(_Fields):
    """One equation ``id = op(*args; params)``: immutable, and cheap to make and to read.

    ``shape`` is known before evaluation. ``position`` is the 0-based character offset
    of the op in the expression (``None`` for nodes the user did not write). ``value`` is the
    constant of a ``const`` node. ``Node(id, op, args=(), params={}, shape=(), ...)`` makes one;
    :meth:`_replace` a copy with some fields changed; assigning a field raises (nodes are shared
    by graphs and caches). Equality and hash are identity: a node's value may be an array.

    The fields are slots (session 46; a NamedTuple before): Python 3.11 specializes ``node.op`` of a
    slot (~55 instructions), not a NamedTuple's field by name or by index (~185).
    """

    __slots__ = ()

    def __new__(cls, id: int, op: str, args: tuple = (), params: dict = _NO_PARAMS, shape: Shape = (),
                name: str | None = None, position: int | None = None, requires_grad: bool = False,
                value: object = None) -> "Node":
        return new_node(id, op, args, params, shape, name, position, requires_grad, value)

    def __setattr__(self, field: str, value) -> None:
        raise AttributeError(f"a Node is immutable: node.{field} cannot be set (node._replace({field}=...) "
                             "makes a new one)")

    def __delattr__(self, field: str) -> None:
        raise AttributeError(f"a Node is immutable: node.{field} cannot be deleted")

    @property
    def leaf(self) -> bool:
        return self.op in LEAF_OPS

    def fields(self) -> tuple:
        """The nine fields in :data:`NODE_FIELDS`' order (what the NamedTuple was)."""
        return (self.id, self.op, self.args, self.params, self.shape, self.name, self.position, self.requires_grad,
                self.value)

    def _replace(self, **changes) -> "Node":
        """A new node with the fields named in ``changes`` changed (as a NamedTuple's ``_replace``)."""
        fields = dict(zip(NODE_FIELDS, self.fields()))
        unknown = changes.keys() - fields.keys()
        if unknown:
            raise ValueError(f"Got unexpected field names: {sorted(unknown)!r}")
        fields.update(changes)
        return new_node(**fields)

    def __repr__(self) -> str:
        return "Node(" + ", ".join(f"{f}={v!r}" for f, v in zip(NODE_FIELDS, self.fields())) + ")"

    def __reduce__(self):  # pickle and copy: made again by new_node (a write of a field would raise)
        return new_node, self.fields()


def new_node(id: int, op: str, args: tuple = (), params: dict = _NO_PARAMS, shape: Shape = (),
             name: str | None = None, position: int | None = None, requires_grad: bool = False,
             value: object = None) -> Node:
    """A :class:`Node` of these fields (the NamedTuple's defaults), as the builder and the reader make nodes: a
    ``_Fields`` object (no ``__init__`` to call), its slots written, then made a :class:`Node`, which refuses writes
    from then on (the one place a node's fields are written). ~2.5 k instructions with its deallocation, against
    ~1.9 k for the NamedTuple's ``tuple.__new__`` and ~2.7 k for a slots class's Python ``__init__`` (which CPython
    3.11 calls from C, in an interpreter frame of its own); the switch of class is ~0.5 k of it, kept: nodes are
    shared by graphs, the API's cache and compiled functions, and a write would change them all."""
    node = _Fields()
    node.id = id
    node.op = op
    node.args = args
    node.params = params
    node.shape = shape
    node.name = name
    node.position = position
    node.requires_grad = requires_grad
    node.value = value
    node.__class__ = Node  # from now on a field's write raises
    return node


@dataclass(frozen=True, eq=False)
class Graph:
    """Nodes in topological order, the inputs by name, and the output node's id."""

    nodes: tuple
    inputs: dict
    output: int
    source: str = ""
    dtype: type = np.float64
    outputs: tuple = ()  # several outputs (a final tuple): ((name, node id), ...); empty for one
    # built for given input values (x[x > 0], if x.sum() > 0:): valid for those values only; the 0-based columns
    # of the expression where they are read, in order (empty, false: a graph for any values)
    by_value: tuple = ()
    facts: "Facts | None" = None  # what Builder.graph or with_wrt counted of the nodes (see Facts); None: not counted
    # casts of float values to the float width --dtype is not (x.float() under float64), which jac computes in
    # --dtype: ((0-based column, the dtype named), ...), in order; the report warns of them (kind dtype). Session 47:
    # then (column, "float32", None) for an op the library computes in float32 whose constant values float32 does not
    # hold, and (column, "float32", node id) for such an op an input reaches, warned of where the node's values at the
    # given inputs are not float32's (ir/dtypes.narrowed; tools/report.recast_now)
    recast: tuple = ()

    @property
    def several(self) -> bool:
        """Does the expression end in a tuple of outputs?"""
        return len(self.outputs) > 1

    def output_graphs(self) -> list:
        """``[(name, graph)]``: one graph per output (the same nodes, that output's id)."""
        return [(name, dataclasses.replace(self, output=i, outputs=())) for name, i in self.outputs]

    @property
    def output_shape(self) -> Shape:
        return self.nodes[self.output].shape

    def input_shapes(self) -> dict:
        return {name: self.nodes[i].shape for name, i in self.inputs.items()}

    def with_wrt(self, wrt) -> "Graph":
        """The same graph with ``requires_grad`` set for the inputs named in ``wrt``
        and every node that depends on one of them; its :class:`Facts` counted too. A graph
        whose facts say the flags are set for ``wrt`` already is its own answer: a builder's graph
        comes with them set for every input (:meth:`Builder.graph`), the common ``wrt``."""
        wrt = frozenset(self.inputs if wrt is None else wrt)
        facts = self.facts
        if facts is not None and facts[0] == wrt:  # facts.wrt: set for these inputs already (a builder's graph: every input)
            return self
        flags: list[bool] = []
        nodes = []
        keep, flag = nodes.append, flags.append
        for node in self.nodes:  # one pass, O(1) per argument: 300,000 nodes of a long sum
            op, args = node.op, node.args
            if op == "input":
                now = node.name in wrt
            elif op in _NONDIFF or not args:
                now = False
            elif len(args) == 1:  # any(map(...)) of one or two arguments, without making either
                now = flags[args[0]]
            elif len(args) == 2:
                now = flags[args[0]] or flags[args[1]]
            else:
                now = any(map(flags.__getitem__, args))
            flag(now)
            keep(node if node.requires_grad == now else
                 new_node(node.id, op, args, node.params, node.shape, node.name, node.position, now, node.value))
        nodes = tuple(nodes)
        # the fields as they are but the nodes (dataclasses.replace, without its per-field introspection)
        # the elements and itemsize are the shapes' and the dtype's, which flags do not change
        facts = _facts(nodes, wrt, self.dtype) if facts is None else _new_tuple(Facts, (wrt, facts[1], facts[2]))
        return made_graph(nodes, self.inputs, self.output, self.source, self.dtype, self.outputs, self.by_value, facts,
                          self.recast)

    def named_output(self, name: str) -> "Graph":
        """The same graph, its one output called ``name`` (the text's last name, ``t3`` of ``t3 = t2; t3``), as
        ``(t3,)`` names it."""
        return dataclasses.replace(self, outputs=((name, self.output),))

    def with_output(self, output: int) -> "Graph":
        return dataclasses.replace(self, output=output, outputs=())

    def output_ids(self) -> list:
        return [i for _, i in self.outputs] if self.outputs else [self.output]

    def needed(self) -> list:
        """``needed[i]``: does an output depend on node ``i``? (one reverse sweep)"""
        return needed(self.nodes, self.output_ids())

    def is_concrete(self) -> bool:
        return all(is_concrete(n.shape) for n in self.nodes)


_NONDIFF = frozenset(name for name, op in OPS.items() if op.nondiff)  # read-only: OPS is, once imported
_HEAVY = frozenset(CUBIC) | frozenset(RULES)  # the ops whose fold is checked by ir/work.py: read-only
_ndarray = np.ndarray
_new_tuple = tuple.__new__  # Facts(...) without the keyword handling of NamedTuple.__new__: the same tuple


class Facts(NamedTuple):
    """What :meth:`Builder.graph` and :meth:`Graph.with_wrt` count of a graph's nodes, from the shapes
    alone, and the inputs its flags are set for: a first call's checks read them instead of walking the
    nodes again (each walks a graph without them, ``graph.facts is None``, as before;
    ``tests/test_cold.py`` compares the two)."""

    wrt: frozenset  # the inputs requires_grad is set for (planner.elementwise_diagonal reads one's flags)
    elements: int  # of every node: planner.pass_bound's S, a bound of the forward values and of each product
    itemsize: int  # of the graph's dtype


_float64, _float32 = np.float64, np.float32  # read once: np.NAME is a generic lookup in Python 3.11
# the dtypes jac computes in: a plain dict's get, of a dict no one else holds (a mapping proxy's get calls its
# dict's get by name, ~1 k instructions)
_itemsize_of = {np.float64: 8, np.float32: 4}.get


def itemsize(dtype) -> int:
    """``np.dtype(dtype).itemsize``, looked up for jac's own dtypes (``np.dtype`` takes ~1 k instructions)."""
    found = _itemsize_of(dtype)
    return np.dtype(dtype).itemsize if found is None else found


def _facts(nodes: tuple, wrt: frozenset, dtype, size: int | None = None) -> "Facts | None":
    """The :class:`Facts` of ``nodes``; None when a size is symbolic (``jac shape``'s graphs: its product
    is a string, which the sum refuses). ``size``: the dtype's itemsize when the caller knows it.

    The sum of every node's ``math.prod(shape)``, each product taken once per run of nodes holding the
    same shape object (an element-wise op's node holds its argument's shape itself): ``math.prod`` per
    node, by ``sum(map(...))``, was ~1.2 k instructions a node, most of a first call's ``Builder.graph``
    (session 44); the same ints added in the same order."""
    elements = 0
    last = size_of = None
    try:
        for node in nodes:
            shape = node.shape
            if shape is not last:
                last, size_of = shape, math.prod(shape)
            elements += size_of
    except TypeError:
        return None
    return _new_tuple(Facts, (wrt, elements, itemsize(dtype) if size is None else size))  # Facts(...), no __new__


_FLAG = attrgetter("requires_grad")


def made_graph(nodes: tuple, inputs: dict, output: int, source: str, dtype, outputs: tuple, by_value: tuple,
               facts: "Facts | None" = None, recast: tuple = ()) -> Graph:
    """``Graph(nodes, inputs, output, source, dtype, outputs, by_value, facts, recast)`` without the frozen
    dataclass's ``__init__`` (one ``object.__setattr__`` per field, ~13 k instructions): the
    same fields in the same ``__dict__``; Graph has no ``__post_init__`` (tests/test_cold.py)."""
    graph = _new_object(Graph)
    graph.__dict__.update(nodes=nodes, inputs=inputs, output=output, source=source, dtype=dtype, outputs=outputs,
                          by_value=by_value, facts=facts, recast=recast)
    return graph


_new_object = object.__new__


def may_alias_leaf(nodes, i: int) -> bool:
    """Can node ``i``'s value be an input, a constant, or a view of one (a result that must be copied before it
    is handed to a caller: the caller's own array, or one the graph keeps for every call)?"""
    while nodes[i].op not in ("input", "const") and OPS[nodes[i].op].view:
        i = nodes[i].args[0]
    return nodes[i].op in ("input", "const")


def needed(nodes, outputs) -> list:
    """``needed[i]``: does one of the nodes ``outputs`` depend on node ``i``? ``nodes`` are
    in topological order (a graph's, or a builder's while it grows); one reverse sweep."""
    flags = [False] * len(nodes)
    for o in outputs:
        flags[o] = True
    for node in reversed(nodes):
        if flags[node.id]:
            for a in node.args:
                flags[a] = True
    return flags


def last_uses(nodes, keep) -> list:
    """For each node, the id of the last node that reads it (a node no one reads: its own
    id; the ids in ``keep``: -1, never)."""
    last = list(range(len(nodes)))
    for node in nodes:
        for a in node.args:
            last[a] = node.id
    for o in keep:
        last[o] = -1
    return last


def _fold_ints(op, values: list, params: dict):
    """Python ints fold as Python computes them, never wrapping around as int64 does:
    exactly while the result fits, else as a float (``10**19`` is 1e19, ``2**-1`` is 0.5)."""
    with np.errstate(all="ignore"):
        approx = float(op.impl(*[float(v) for v in values], **params))
    negative_power = op.name == "pow" and values[1] < 0
    if op.exact_int and not negative_power and abs(approx) < 2**62:
        return int(op.impl(*values, **params))
    return approx




_FLOAT_BITS = 1024  # an int of 2**1024 or more has no float


def _python_int(name: str, ints: list):
    """An op on Python ints as Python computes it (exact, floored ``//`` and ``%``, ``/`` correctly rounded), or
    None where Python's result is a float's op (``2 ** -1``); Python's ZeroDivisionError and an int past a
    float's range (OverflowError) raised for the caller to refuse."""
    if len(ints) == 1:
        a = ints[0]
        return -a if name == "neg" else abs(a) if name == "abs" else a * a if name == "square" else None
    if len(ints) != 2:
        return None
    a, b = ints
    if name in ("floor_divide", "remainder"):  # 1 // 0: Python's ZeroDivisionError (the caller refuses it)
        return a // b if name == "floor_divide" else a % b
    if name == "div":  # Python's true division of ints: correctly rounded, which float(a) / float(b) is not
        return a / b
    if name == "pow":
        if b < 0:
            return 0 ** b if a == 0 else None  # 0 ** -1 raises; 2 ** -1 is float's pow
        if abs(a) >= 2 and (a.bit_length() - 1) * b >= _FLOAT_BITS:
            raise OverflowError  # refused before the work of computing it
        return a ** b
    op = {"add": int.__add__, "sub": int.__sub__, "mul": int.__mul__, "maximum": max, "minimum": min}.get(name)
    return op(a, b) if op is not None else None


def _ints_of(pyints: dict, tracers) -> str:
    shown = [str(pyints[t.id]) for t in tracers]
    return " and ".join(v if len(v) < 30 else f"{v[:12]}...({len(v)} digits)" for v in shown)


_EMPTY = MappingProxyType({})  # the empty dicts a Builder reads through its class until it writes its own (own)
_NO_SHAPES: dict = {}  # Builder._binary_shapes until a builder's first entry (its own dict); never mutated
_OPS = _BLOCKS  # OPS's own dict, read as OPS reads it (a mapping proxy's lookup costs a call more)
_INDEX_OPS = dtypes.INDEX_OPS


class Tracer(Proxy):
    """A node under construction: carries the shape and builds graph nodes on arithmetic."""

    __slots__ = ("builder", "id", "shape")
    __array_priority__ = 1000  # numpy defers to our operators
    traces = True

    def bind(self, op, args: tuple, params: dict):
        return self.builder.apply(op.name, *args, **params)

    @property
    def dtype(self):
        return self.builder.dtype

    def __init__(self, builder: "Builder", id: int, shape: Shape):
        self.builder = builder
        self.id = id
        self.shape = shape

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def node(self) -> Node:
        return self.builder.nodes[self.id]

    def _bin(self, op, other, reverse=False):
        args = (other, self) if reverse else (self, other)
        return self.builder.apply(op, *args)

    def __add__(self, o): return self._bin("add", o)
    def __radd__(self, o): return self._bin("add", o, True)
    def __sub__(self, o): return self._bin("sub", o)
    def __rsub__(self, o): return self._bin("sub", o, True)
    def __mul__(self, o): return self._bin("mul", o)
    def __rmul__(self, o): return self._bin("mul", o, True)
    def __truediv__(self, o): return self._bin("div", o)
    def __rtruediv__(self, o): return self._bin("div", o, True)
    def __pow__(self, o): return self._bin("pow", o)
    def __rpow__(self, o): return self._bin("pow", o, True)
    def __matmul__(self, o): return self._bin("matmul", o)
    def __rmatmul__(self, o): return self._bin("matmul", o, True)
    def __neg__(self): return self.builder.apply("neg", self)

    def __repr__(self) -> str:
        return f"Tracer({self.node.op}#{self.id}, shape={self.shape})"


class Builder:
    """Appends nodes; folds ops whose arguments are all constants."""

    # settings most builders keep as they are (a builder sets its own): read here until then
    seed = 0
    _rng = None
    draws = 0  # how many times the generator was asked for (rng): a value made meanwhile holds jac's draws
    folded_work = 0  # the multiply-adds of the products and decompositions folded so far (ir/work.py)
    constant_bytes = 0  # the bytes the constants made so far hold (_held)
    # the constants that hold jac's draws (rand, randn) or are folded from one: their values are not another
    # library's numbers (a leaf made of one says so)
    random = frozenset()
    by_value = ()  # where the parse read the input values (x[x > 0], an if of them): their columns, in order
    recast = ()  # casts of float values to the other float width, computed in --dtype (Graph.recast)
    # the nodes of narrow (below) an input reaches, whose values the report checks ([(column, "float32", node id)],
    # Graph.recast): ir/dtypes.narrowed
    checks = ()
    # the parser lowering into this builder (set by it): its ``masked(value, [mask], position)``, x[mask], for a
    # function whose result's shape is read off a mask's values as x[mask]'s is (masked_select), and its
    # ``value_of(t, position, what)``, node t's values for the given inputs (the graph then holds for them only:
    # np.nonzero, np.unique)
    lowering = None
    binding = False  # a binding's value: an integer --dtype cannot hold exactly is refused
    # the inputs whose requires_grad is set, and so every node's that depends on one (a frozenset of names;
    # None: every input); the graph's facts say which (graph.with_wrt of them is the graph itself)
    wrt = None
    library = None  # the library of the call the parser is lowering ("torch", "numpy", "method", None)
    call = None  # that call's name as written (torch.var, .var()): a refusal of an op inside it names it
    # PyTorch's saved tensors (ir/saved.py): the nodes a PyTorch-spelled text made that keep tensors for backward
    # (node id -> the ids kept), and the writes in place that changed one: made per builder when first needed
    savers = None
    stale = ()
    # PyTorch's layouts the graph does not show (lang/functions._stand_in): node id -> "like" (a copy in the
    # layout of its operand, clone's preserve_format) or "fresh" (a contiguous result); made when first needed
    layouts = None
    # dicts most builders never write: read here (empty, read-only) until a builder's first write makes its own
    # (``own``; session 44: five empty dicts made and freed per builder were ~3 k instructions of a first call).
    # a constant folded from a view op (reshape, transpose, any index) -> its argument's node: the libraries'
    # view of a constant, which the fold may have copied (np.diagonal's index), for the parser's Memory
    folded_views: dict = _EMPTY
    # the same constants -> (op name, params) of their view op, which lang/views.py replays on the buffer's root after
    # a write into a constant that names view (session 54: t = torch.zeros(4) + 0.5; v = t[1:3]; t.mul_(x))
    folded_ops: dict = _EMPTY
    # (op, shape, shape) -> the result shape of an element-wise binary op, its shape rule and
    # size check passed: a long sum of like terms applies the rule once, not per node
    _binary_shapes: dict = _NO_SHAPES  # (a plain dict: _binary's get of a read-only proxy would cost a call more)
    # float literals (``1.0``, ``-1.0``, ``(0, 1.0)``): where an integer is needed the libraries raise TypeError
    # even at a whole value (lang/functions.written_as_float); a dict used as a set
    floats: dict = _EMPTY
    # comparisons of two Python numbers (``2.0 > 0.5``, ``x.shape[0] == 3``): Python bools, no tensors, which PyTorch
    # refuses as a mask or a condition (lang/argspec._python_number, session 48); a dict used as a set
    pybools: dict = _EMPTY
    # list and tuple displays made constants (``(0, 1)``, ``[0.5, 2]``) not yet passed through ``torch.tensor`` /
    # ``np.asarray`` (lang/functions.written_as_sequence): PyTorch takes no tuple where a tensor is needed
    displays: dict = _EMPTY
    # vectors whose signs are another library's (PyTorch's svd and eigh): key -> {"nodes": [(id, axis)],
    # "count": batch shape + (k,), "what", "message"}; graph() refuses an output that depends on them
    signs: dict = _EMPTY

    def __init__(self, source: str = "", dtype=np.float64, fold: bool = True, seed: int = 0,
                 max_bytes: int = DEFAULT_MAX_BYTES, shapes_only: bool = False):
        self.nodes: list[Node] = []
        self.inputs: dict[str, int] = {}
        self.source = source
        if dtype is _float64 or dtype is _float32:  # np.dtype(dtype) below, without its call
            self.dtype, self._itemsize = dtype, 8 if dtype is _float64 else 4
        else:
            dtype = np.dtype(dtype)
            self.dtype, self._itemsize = dtype.type, dtype.itemsize
        # fold, shapes_only and typing are read for every node: instance attributes (Python 3.11 specializes
        # a read of the instance's own attribute; a class default read through the instance is a generic lookup)
        self.fold = fold
        if type(seed) is not int or seed:
            self.seed = seed
        self.max_bytes = max_bytes  # per array: constants, and each node's result unless shapes_only
        self.shapes_only = shapes_only  # ``jac shape``: results are never computed, only constants
        # nodes an input reaches whose result the libraries hold as integers or booleans are tracked only by
        # the parser's builder (it sets ``typing``; see ir/dtypes.py)
        self.typing = False
        self.booleans: set[int] = set()  # nodes holding booleans (0/1 masks), for ~ & | and x[mask]
        # the result shapes check_size passed (its answer depends on the shape alone): asked once each (a dict
        # used as a set: {} is ~0.8 k instructions cheaper than set() in every builder). A scalar passes it
        # under any limit of 64 bytes or more (check_size's second test), and an input's vector or matrix
        # shape once input() has counted its bytes: known passed, never asked (tests/test_cold43.py)
        self._sized: dict = {(): None} if max_bytes is None or max_bytes >= 64 else {}
        # constants of an integer or boolean dtype: node id -> (NumPy dtype, library), their values held
        # exactly in --dtype; and integer literals: node id -> the Python int (see ir/dtypes.py)
        self.typed: dict[int, tuple] = {}
        self.pyints: dict[int, object] = {}
        # nodes an input reaches whose result the libraries hold as integers or booleans: node id ->
        # (NumPy dtype, library) (see ir/dtypes.py)
        self.integral: dict[int, tuple] = {}
        # nodes the library holds in float32 under --dtype float64: node id -> (library, warned) (ir/dtypes.narrowed);
        # None until the first (lang/functions.float32_made). An instance attribute, read for every node
        self.narrow: dict | None = None

    def own(self, name: str) -> dict:
        """The builder's own dict ``name`` (one of those read through the class while empty: ``folded_views``,
        ``folded_ops``, ``_binary_shapes``, ``floats``, ``pybools``, ``displays``, ``signs``), made at its first
        write."""
        found = self.__dict__.get(name)
        if found is None:
            found = self.__dict__[name] = {}
        return found

    @property
    def rng(self) -> np.random.Generator:
        """The generator behind ``rand``/``randn``, seeded by ``--seed``; each use counted (:attr:`draws`)."""
        self.draws += 1
        if self._rng is None:
            self._rng = np.random.default_rng(self.seed)
        return self._rng

    def check_nodes(self, count: int, what: str, position: int | None = None) -> None:
        """Refuse, before any is made, a lowering that writes ``count`` nodes past :data:`MAX_NODES` (a
        loop of the library's written out per element: building them first would take seconds)."""
        if len(self.nodes) + count > MAX_NODES:
            raise JacLimitError(f"{what} would need {count:,} graph nodes (jac writes its loop out), over the limit "
                                f"of {MAX_NODES:,}", position)

    def check_size(self, shape: Shape, what, position: int | None = None) -> None:
        """Refuse, before it is allocated, an array of ``shape`` over ``max_bytes``;
        ``what`` names it (a callable is called only then)."""
        if len(shape) > NUMPY_MAX_RANK:  # a traced pass adds a batch axis: inputs and outputs have MAX_RANK
            raise JacShapeError(f"{what() if callable(what) else what} has {len(shape)} dimensions, more than "
                                f"NumPy's {NUMPY_MAX_RANK}", position)
        if not shape and (self.max_bytes is None or self.max_bytes >= 64):  # a scalar fits (a long sum's nodes)
            return
        if not is_concrete(shape):
            return
        count = math.prod(shape)
        if self.max_bytes is not None and count * self._itemsize > self.max_bytes:
            raise too_large(what() if callable(what) else what, count, self.dtype, self.max_bytes, position)
        if (count or math.prod(d for d in shape if d)) > MAX_ELEMENTS:  # NumPy counts sizes without the zeros
            check_array_shape(shape, what() if callable(what) else what, position)

    def _append(self, op: str, args: tuple = (), params: dict = _NO_PARAMS, shape: Shape = (), name=None,
                position=None, value=None) -> Tracer:
        nodes = self.nodes
        i = len(nodes)
        if i >= MAX_NODES:
            raise JacLimitError(f"the expression needs more than {MAX_NODES:,} graph nodes")
        # requires_grad as with_wrt sets it (see graph()): an argument's, unless the op is nondiff (no list made
        # for the common arities: a constant has no argument, most ops one or two)
        if not args or op in _NONDIFF:
            flag = False
        elif len(args) == 1:
            flag = nodes[args[0]].requires_grad
        elif len(args) == 2:
            flag = nodes[args[0]].requires_grad or nodes[args[1]].requires_grad
        else:
            flag = any(map(_FLAG, map(nodes.__getitem__, args)))  # no comprehension: nodes stays a local
        if type(value) is _ndarray and value.base is None:  # a constant owning its memory: counted (a view is not)
            self._held(value.nbytes, shape, position)
        nodes.append(new_node(i, op, args, params, shape, name, position, flag, value))
        tracer = _new_object(Tracer)  # Tracer(self, i, shape) without its __init__ call
        tracer.builder, tracer.id, tracer.shape = self, i, shape
        return tracer

    def _held(self, nbytes: int, shape: Shape, position, made: bool = True) -> None:
        """Count a constant of ``nbytes`` (``made``; else refuse, before it is made, one that would not fit):
        every constant the text makes stays in the graph being built, the folds' intermediate ones too, so
        their total is what reading the text holds, and it is bounded as the inputs are, by ``max_bytes``."""
        total = self.constant_bytes + nbytes
        if self.max_bytes is not None and total > self.max_bytes:
            raise JacLimitError(f"the constants of the text would hold {total:,} bytes with this one (shape "
                                f"{fmt(shape)}), over the limit of {self.max_bytes:,} bytes for them in total (the "
                                "memory budget, --max-memory, up to 2 GiB); nothing more was computed. Every constant "
                                "a text makes, each step of a computation on constants included, is kept while the "
                                "text is read: use smaller constants, or make the large ones inputs (NAME=@file.npy "
                                "or NAME:SHAPE)", position)
        if made:
            self.constant_bytes = total

    def input(self, name: str, shape: Shape, position: int | None = None) -> Tracer:
        if type(shape) is not tuple:  # tuple() of a tuple is the tuple itself, after a call
            shape = tuple(shape)
        rank = len(shape)
        # a scalar, or a vector or matrix of positive int sizes of at most MAX_ELEMENTS elements, passes both
        # checks below: known without their two calls (~3 k instructions an input of a first call)
        if rank == 1 and type(shape[0]) is int and 0 < shape[0] <= MAX_ELEMENTS:
            count = shape[0]
        elif rank == 2 and type(shape[0]) is int and type(shape[1]) is int and shape[0] > 0 and shape[1] > 0 \
                and shape[0] * shape[1] <= MAX_ELEMENTS:
            count = shape[0] * shape[1]
        else:
            count = None
            if rank != 0:
                self._check_input(name, shape, position)
        if count is not None and (self.max_bytes is None or count * self._itemsize <= self.max_bytes):
            self._sized[shape] = None  # check_size's answer for a node of this shape: passed (its tests, in short)
        nodes = self.nodes  # self._append("input", (), _NO_PARAMS, shape, name, position), inline
        i = len(nodes)
        if i >= MAX_NODES:
            raise JacLimitError(f"the expression needs more than {MAX_NODES:,} graph nodes")
        nodes.append(new_node(i, "input", (), _NO_PARAMS, shape, name, position, self.wrt is None or name in self.wrt,
                              None))
        tracer = _new_object(Tracer)
        tracer.builder, tracer.id, tracer.shape = self, i, shape
        self.inputs[name] = i
        return tracer

    def switch_leaf(self, i: int, name: str | None, value=None) -> None:
        """Node ``i``, an input or a constant no node reads yet, made the input ``name`` (``value`` None) or a
        constant of ``value`` (``name`` None): a leaf the text freezes or thaws (lang/freeze.py). The node is
        replaced, not written (its graph is not made yet), and :attr:`inputs` keeps the order of the nodes."""
        old = self.nodes[i]
        if name is None:
            self.inputs.pop(old.name, None)
            self.nodes[i] = new_node(i, "const", (), old.params, old.shape, None, old.position, False, value)
            return
        self.nodes[i] = new_node(i, "input", (), old.params, old.shape, name, old.position,
                                 self.wrt is None or name in self.wrt, None)
        self.inputs[name] = i
        ordered = sorted(self.inputs.items(), key=lambda item: item[1])
        self.inputs.clear()
        self.inputs.update(ordered)

    def _check_input(self, name: str, shape: Shape, position: int | None) -> None:
        """Refuse an input's shape that jac (``check_rank``) or NumPy (``check_array_shape``) cannot hold."""
        check = check_rank if self.shapes_only else check_array_shape
        try:  # the message is made only for a shape the check refuses
            check(shape, "", position)
        except JacError:
            check(shape, f"the input {name}, shape {fmt(shape) if len(shape) < 40 else '(...)'},", position)
            raise

    def const(self, value, position: int | None = None) -> Tracer:
        if type(value) is float:  # a number of the expression: the common case, shape ()
            return self._append("const", (), _NO_PARAMS, (), None, position, value)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            if not isinstance(value, (list, tuple)):
                _require_number(value, position)
            if type(value) is bool:  # True beside an integer constant: a weak Python bool (ir/dtypes.py)
                out = self._append("const", (), _NO_PARAMS, (), None, position, np.asarray(value).astype(self.dtype))
                self.pyints[out.id] = value
                return out
            value = np.asarray(value)
            if value.dtype == object:  # [x, y] of arrays where one array is needed
                raise JacValueError("a list or tuple of arrays is not one array: make one with stack([...]) or "
                                    "cat([...]), or index it (parts[0])", position)
            if value.dtype.kind in "biuf" and value.dtype != self.dtype:
                with np.errstate(over="ignore"):  # [1e39] in float32 is inf, as PyTorch's; warned as a value
                    value = value.astype(self.dtype)
        return self._append("const", shape=tuple(np.shape(value)), value=value, position=position)

    def lift(self, value) -> Tracer:
        return value if isinstance(value, Tracer) else self.const(value)

    def apply(self, op_name: str, *args, position: int | None = None, name: str | None = None, **params) -> Tracer:
        """Add ``op_name(*args; params)``; its shape comes from the op's shape rule."""
        if len(args) == 2 and not params:
            a, b = args
            if type(a) is Tracer and type(b) is Tracer:
                return self._binary(op_name, a, b, position, name)
        if (op_name == "getitem" or op_name == "scatter") and len(args) == 1 and isinstance(args[0], Tracer):
            ndim = args[0].ndim if op_name == "getitem" else len(params["shape"])
            adjacent = adjacent_index(params["index"], ndim)
            if adjacent is not None:
                return self._adjacent(op_name, args[0], adjacent, params, position, name)
        return self._apply(op_name, args, position, name, params)

    def _adjacent(self, op_name: str, x: Tracer, adjacent: tuple, params: dict, position, name) -> Tracer:
        """``x[index]`` (or its scatter) whose advanced parts are apart (``x[0, :, [1, 2]]``), as a transpose
        and an index whose parts are adjacent: the same elements in the same layout, and one that the
        derivative rules can batch (ops.adjacent_index)."""
        perm, index = adjacent
        if op_name == "getitem":
            moved = self._apply("transpose", (x,), position, None, {"axes": perm})
            return self._apply("getitem", (moved,), position, name, {"index": index})
        shape = tuple(params["shape"])
        placed = self._apply("scatter", (x,), position, None, {"index": index, "shape": tuple(shape[p] for p in perm)})
        return self._apply("transpose", (placed,), position, name, {"axes": tuple(int(k) for k in np.argsort(perm))})

    def binary(self, op_name: str, a, b, position: int | None = None) -> Tracer:
        """``apply(op_name, a, b, position=position)`` for an op without parameters, with less
        ceremony when both are tracers (the parser's long chains)."""
        if type(self) is not Builder or type(a) is not Tracer or type(b) is not Tracer:
            return self.apply(op_name, a, b, position=position)  # a subclass's apply may do more
        return self._binary(op_name, a, b, position, None)

    def _binary(self, op_name: str, a: Tracer, b: Tracer, position: int | None, name: str | None) -> Tracer:
        """``apply(op_name, a, b)`` without parameters. For an element-wise op whose result
        shape for these argument shapes is known (:meth:`_apply_id`'s memo: its shape rule and size
        check passed before, ``x*1 + x*2 + ...``), the node is appended at once, the node ``_apply_id``
        makes (tests/test_chain.py compares them); else ``_apply_id``'s. The one append of an op's node
        beside ``_apply_id``'s, kept for long chains: through ``_apply_id`` the parse of a sum of 300
        products took 10-13 % more instructions (session 46)."""
        shape = self._binary_shapes.get((op_name, a.shape, b.shape))
        if shape is None or (self.fold and self.nodes[a.id].op == "const" and self.nodes[b.id].op == "const"):
            i = self._apply_id(op_name, (a.id, b.id), position, name, _NO_PARAMS)  # _apply's node, without its call
            out = _new_object(Tracer)
            out.builder, out.id, out.shape = self, i, self.nodes[i].shape
            return out
        nodes = self.nodes  # self._append(op_name, (a.id, b.id), _NO_PARAMS, shape, name, position), inline
        i = len(nodes)
        if i >= MAX_NODES:
            raise JacLimitError(f"the expression needs more than {MAX_NODES:,} graph nodes")
        x, y = a.id, b.id
        nodes.append(new_node(i, op_name, (x, y), _NO_PARAMS, shape, name, position,
                              op_name not in _NONDIFF and (nodes[x].requires_grad or nodes[y].requires_grad), None))
        out = _new_object(Tracer)
        out.builder, out.id, out.shape = self, i, shape
        if self.typing and (self.integral or self.booleans):
            out = dtypes.track(self, out, position)
        if self.narrow:
            dtypes.narrowed(self, op_name, out.id, (x, y), position)
        return out

    def _apply(self, op_name: str, args: tuple, position, name, params: dict) -> Tracer:
        """``op_name(*args; params)``'s Tracer: :meth:`_apply_id`'s node for one tracer or two, else :meth:`_apply_any`."""
        if len(args) == 1 and isinstance(args[0], Tracer):
            i = self._apply_id(op_name, (args[0].id,), position, name, params)
        elif len(args) == 2 and type(args[0]) is Tracer and type(args[1]) is Tracer:
            i = self._apply_id(op_name, (args[0].id, args[1].id), position, name, params)
        else:
            return self._apply_any(_OPS[op_name], op_name, args, position, name, params)
        out = _new_object(Tracer)  # self.tracer_of(i) without its calls
        out.builder, out.id, out.shape = self, i, self.nodes[i].shape
        return out

    def _apply_id(self, op_name: str, args: tuple, position, name, params: dict) -> int:
        """The id of the node ``op_name(*args; params)`` of one or two nodes, ``args`` their ids: its shape from the
        op's shape rule (an error worded by ``_shape_error``), constants folded (``_fold``), the result's size checked
        (once per shape: ``_sized``), a binary op's result shape remembered for ``_binary`` (from ``MEMO_AFTER``
        nodes on), ``MAX_NODES``, ``requires_grad`` as ``with_wrt`` sets it, and the integer and boolean typing
        (``dtypes.track``, which may append an ``integer`` node after it: its id is the answer then). The one place
        of these guards: :meth:`_apply` is its Tracer's wrapper, and the short reader (lang/short.py), whose values
        are node ids, calls it itself."""
        op = _OPS[op_name]
        nodes = self.nodes
        rule = op.shape  # read, then called: 3.11 never specializes a method call of an instance's attribute
        held = nodes[args[0]]
        shape = held.shape
        key = None  # a binary op's entry in the memo of result shapes, past MEMO_AFTER nodes (see there)
        if len(args) == 1:
            if params or rule is not same_shape:
                try:
                    shape = rule(shape, **params) if params else rule(shape)
                except JacError as err:
                    raise _shape_error(err, op, op_name, position)
            folds = self.fold and held.op == "const"
            flag = held.requires_grad
            if op_name == "exp" and held.op == "add":  # exp(log_softmax(x)) as PyTorch and JAX spell it: softmax(x)
                found = self._softmax_of_exp(args[0], position, name)
                if found is not None:
                    return found
        else:
            other = nodes[args[1]]
            left, right = shape, other.shape
            if not (rule is broadcast and not params and type(left) is tuple and (left == right or not right)):
                try:  # (else broadcast's first answer, equal shapes or a scalar beside, without its call)
                    shape = rule(left, right, **params) if params else rule(left, right)
                except JacError as err:
                    raise _shape_error(err, op, op_name, position)
            folds = self.fold and held.op == "const" and other.op == "const"
            flag = held.requires_grad or other.requires_grad
            if op.broadcasting and not params and len(nodes) >= MEMO_AFTER:
                key = (op_name, left, right)
        if folds:
            self.check_size(shape, partial(_result_named, op, shape), position)
            return self._fold(op, list(map(self.tracer_of, args)), params, position).id
        if not self.shapes_only and shape not in self._sized:
            self.check_size(shape, partial(_result_named, op, shape), position)
            self._sized[shape] = None
        if key is not None:
            memo = self._binary_shapes
            if memo is _NO_SHAPES:  # the class's empty one, never written: this builder's first entry
                memo = self._binary_shapes = {}
            memo[key] = shape  # checked: see above
        i = len(nodes)
        if i >= MAX_NODES:
            raise JacLimitError(f"the expression needs more than {MAX_NODES:,} graph nodes")
        nodes.append(new_node(i, op_name, args, params or _NO_PARAMS, shape, name, position, not op.nondiff and flag,
                              None))
        if self.typing and (self.integral or self.booleans or op_name in _INDEX_OPS):
            i = dtypes.track(self, self.tracer_of(i), position).id
        if self.narrow:  # a float32 argument under --dtype float64 (ir/dtypes.narrowed)
            dtypes.narrowed(self, op_name, i, args, position)
        return i

    def _softmax_of_exp(self, i: int, position, name):
        """The id of ``softmax(x)`` over one axis where node ``i`` is PyTorch's or JAX's ``log_softmax(x)``
        (``functions.log_softmax_of`` and ``nan_at_infinite_max``: ((x - c) - logsumexp(x - c)) + (m - m), m the
        max), else None. exp of it is softmax, whose rules are exact where a cotangent is one number along the
        axis (``ops.softmax_vjp_of_one``, session 52); the composed form's reverse pass adds g and -Σg · s, which
        rounds where g ∝ s, log_softmax's null space: the Hessian of ``torch.sum(torch.exp(torch.log_softmax(
        ...)))``, 0 for every input, was 6.8e284 at logits x · y with x ≈ 1e150 (session 53). The NaN of a slice
        whose max is +inf or NaN is softmax's too (x - max is NaN there); a bare or NumPy-spelled log_softmax
        (no m - m: SciPy's -inf at the finite elements) is not matched, nor one PyTorch saved for backward in a text
        that writes in place (ir/saved.py): softmax(x) would bypass it, so a write into it (``t.exp_()``, or
        ``t.mul_(2)`` after ``u = t.exp()``) went unseen where PyTorch's backward raises (session 56)."""
        nodes = self.nodes
        if self.savers and i in self.savers:
            return None
        ls, mm = (nodes[j] for j in nodes[i].args)
        if ls.op != "sub" or mm.op != "sub" or mm.args[0] != mm.args[1]:
            return None
        m, (z_id, lse_id) = nodes[mm.args[0]], ls.args
        lse, z = nodes[lse_id], nodes[z_id]
        if m.op != "max" or lse.op != "logsumexp" or lse.args[0] != z_id or z.op != "sub":
            return None
        x_id, c_id = z.args
        axes = lse.params.get("axes")
        if nodes[c_id].op != "log_softmax_shift" or nodes[c_id].args[0] != x_id or m.args[0] != x_id \
                or not lse.params.get("keepdims") or len(axes) != 1 or tuple(m.params.get("axes", ())) != tuple(axes) \
                or tuple(nodes[c_id].params.get("axes", ())) != tuple(axes):
            return None
        return self._apply_id("softmax", (x_id,), position, name, {"axis": axes[0]})

    def _apply_any(self, op, op_name: str, args: tuple, position, name, params: dict) -> Tracer:
        """:meth:`_apply` of any arguments (constants lifted): a method of its own, as its comprehensions
        would make cells of ``_apply``'s variables, read more slowly in its common paths above."""
        nodes = self.nodes
        tracers = [a if isinstance(a, Tracer) else self.const(a, position) for a in args]
        try:
            shape = op.shape(*[t.shape for t in tracers], **params)
        except JacError as err:
            raise _shape_error(err, op, op_name, position)
        folds = self.fold and all([nodes[t.id].op == "const" for t in tracers])
        if folds or not self.shapes_only:  # before anything is allocated: x[:, None] * x at x:100000
            self.check_size(shape, partial(_result_named, op, shape),
                            position)
        if folds:
            return self._fold(op, tracers, params, position)
        out = self._append(op_name, tuple([t.id for t in tracers]), params or _NO_PARAMS, shape, name, position)
        if self.typing and (self.integral or self.booleans or op_name in _INDEX_OPS):
            out = dtypes.track(self, out, position)
        if self.narrow:
            dtypes.narrowed(self, op_name, out.id, [t.id for t in tracers], position)
        return out

    def _fold(self, op, tracers, params, position) -> Tracer:
        if op.name in _HEAVY:
            self._check_work(op, tracers, params, position)
        if self.constant_bytes and op.view is None and self.max_bytes is not None:  # before it is computed
            shape = op.shape(*[t.shape for t in tracers], **params)
            if is_concrete(shape):
                self._held(math.prod(shape) * self._itemsize, shape, position, made=False)
        folded = self._fold_typed(op, tracers, params, position) if self.typed or self.pyints else None
        if folded is None:
            folded = self._fold_float(op, tracers, params, position)
            if self.random and any([t.id in self.random for t in tracers]):
                self.random = self.random | {folded.id}
        if op.view is not None and tracers:
            self.own("folded_views")[folded.id] = tracers[0].id
            self.own("folded_ops")[folded.id] = (op.name, params)
        if self.narrow:
            dtypes.narrowed(self, op.name, folded.id, [t.id for t in tracers], position)
        return folded

    def _check_work(self, op, tracers, params, position) -> None:
        """Refuse a fold of constants that would bring the text's products and decompositions of constants
        past ``work.MAX_FOLD_WORK`` multiply-adds, before it runs (``ir/work.py``)."""
        values = [self.nodes[t.id].value for t in tracers]
        work = fold_work(op.name, values, params, op.shape(*[t.shape for t in tracers], **params))
        if self.folded_work + work > MAX_FOLD_WORK:
            shapes = " and ".join(fmt(t.shape) for t in tracers)
            before = f" (after {self.folded_work:,} in the constants before it)" if self.folded_work else ""
            raise JacLimitError(f"{title_of(op)} of constants of shape {shapes} is about {work:,} multiply-adds"
                                f"{before}, over the {MAX_FOLD_WORK:,} (about ten seconds) jac computes for the "
                                "constants of a text; nothing was computed. Constants are computed while the text is "
                                "read, by every command (jac shape too) and before --timeout can stop them: use "
                                "smaller constants, or make the matrix an input (NAME=@file.npy or NAME:SHAPE), which "
                                "only the commands that compute compute", position)
        limit = limit_now()  # under a time limit: a fold that could not finish in the time left is refused first
        if limit is not None:
            check_time(limit)  # the time is up already: stopped, not refused as work that could never fit
        if limit is not None and work > max(limit.left(), 0.0) * FAST:
            shapes = " and ".join(fmt(t.shape) for t in tracers)
            raise JacLimitError(f"{title_of(op)} of constants of shape {shapes} is about {work:,} multiply-adds, "
                                f"more than even {FAST:,} a second would do within --timeout {limit.given:g}; nothing "
                                "was computed: allow more time with --timeout SECONDS (0: no limit), or use smaller "
                                "constants", position)
        self.folded_work += work

    def _fold_typed(self, op, tracers, params, position):
        """The fold of integer constants (see ``ir/dtypes.py``), or None for the fold in --dtype."""
        typed, pyints = self.typed, self.pyints
        if any(t.id in typed for t in tracers):
            return dtypes.fold(self, op, tracers, params, position,
                               lambda: self._fold_float(op, tracers, params, position))
        if op.name == "getitem" and len(tracers) == 1 and isinstance(pyints.get(tracers[0].id), np.ndarray):
            exact = pyints[tracers[0].id][params["index"]]  # x.shape[0]: a Python int still, (2, 3)[::-1] a tuple
            out = self._fold_float(op, tracers, params, position)
            # an object array holds Python's own ints (2 ** 62 past a float's exact range): already an int
            scalar = isinstance(exact, (np.generic, np.ndarray)) and np.ndim(exact) == 0
            pyints[out.id] = exact.item() if scalar else exact
            return out
        if tracers and all(type(pyints.get(t.id)) is int for t in tracers):
            try:
                exact = _python_int(op.name, [pyints[t.id] for t in tracers]) if not params else None
                if type(exact) is int:
                    float(exact)  # OverflowError past a float's range
            except ZeroDivisionError as err:
                raise JacValueError(f"{op.title} of the Python ints {_ints_of(pyints, tracers)}: Python raises "
                                    f"ZeroDivisionError: {err}", position) from None
            except OverflowError:
                raise JacValueError(f"{op.title} of the Python ints {_ints_of(pyints, tracers)} is past a float's "
                                    "range: jac holds numbers as floats, not Python's exact ints", position) from None
            if type(exact) is float:  # 7 / 2
                return self.const(exact, position)
            if type(exact) is int:
                if self.binding:
                    dtypes.exact_literal(self, exact, f"the result of {op.title}", position)
                out = self.const(float(exact), position)
                pyints[out.id] = exact
                return out
        return None

    def _fold_float(self, op, tracers, params, position) -> Tracer:
        values = [self.nodes[t.id].value for t in tracers]
        if values and all(type(v) is int for v in values):
            return self.const(_fold_ints(op, values, params), position)
        try:
            with np.errstate(all="ignore"):
                value = op.impl(*values, **params)
        except np.linalg.LinAlgError as err:  # LAPACK refusing a constant (eigenvalues of inf do not converge)
            raise JacValueError(f"{op.title}: linear algebra failed on these values ({err})", position) from None
        if self.typing and op.name in dtypes.INDEX_OPS:  # argsort of a float constant: int64, as the libraries
            out = self.const(dtypes.held(self, np.asarray(value), f"the result of {op.title}", position), position)
            self.typed[out.id] = (np.dtype(np.int64), self.library if self.library in ("torch", "numpy") else None)
            return out
        if all(isinstance(v, (int, float)) for v in values) and np.ndim(value) == 0:
            value = value.item() if hasattr(value, "item") else value
            if value != value and op.name == "pow" and values[0] == values[0] and values[1] == values[1]:
                raise JacValueError(f"{op.title} of {values[0]!r} and {values[1]!r}: a negative number to a fractional "
                                    "power is complex in Python (NaN in NumPy and PyTorch), and jac is real-valued: "
                                    "for a real root write np.cbrt(v) or -(8.0 ** (1 / 3))", position)
        return self.const(value, position)

    def name(self, tracer: Tracer, name: str) -> Tracer:
        """Give an assigned name to the node ``tracer`` stands for (``F = a * b``)."""
        node = self.nodes[tracer.id]
        if node.op != "input" and node.name is None:
            self.nodes[tracer.id] = node._replace(name=name)
        return tracer

    def _named(self, outputs: tuple) -> tuple:
        """``((name, node id), ...)`` of several outputs (a method of its own: its generator would make a
        cell of ``graph``'s ``self``)."""
        return tuple((name, self.lift(t).id) for name, t in outputs)

    def fresh(self, t: Tracer, position: int | None = None) -> Tracer:
        """A node holding ``t``'s values that nothing else reads: the parameter a derivative written in the
        text (``jax.grad(f)(x)``) differentiates by, so that ``f``'s other uses of ``x`` (a closure) are not
        reached. Never folded, even of a constant: ``f`` of it must stay nodes to be differentiated."""
        return self._append("reshape", (t.id,), {"shape": tuple(t.shape)}, tuple(t.shape), None, position)

    def tracer_of(self, node_id: int) -> Tracer:
        return Tracer(self, node_id, self.nodes[node_id].shape)

    def sign_free(self, key, node: Tracer, axis: int, what: str, message: str, spectrum=None) -> None:
        """Register ``node`` (vectors in its columns, ``axis=-1``, or rows, ``axis=-2``) as holding signs jac
        cannot reproduce, in the group ``key`` whose vectors flip together (U and Vh of one matrix): an output
        that depends on them is refused (:mod:`.signs`). ``spectrum``: ``(values, size, message)``, the sorted
        eigenvalues or singular values of the group, where repeated ones leave the basis of their eigenspace to
        LAPACK too: an output that depends on that choice is refused with ``message``."""
        group = self.own("signs").setdefault(key, {"nodes": [], "what": what, "message": message,
                                            "count": tuple(node.shape[:-2]) + (node.shape[axis],)})
        if spectrum is not None:
            group["spectrum"] = (spectrum[0].id,) + tuple(spectrum[1:])
        if (node.id, axis) not in group["nodes"]:
            group["nodes"].append((node.id, axis))

    def retype(self, old: Tracer, new: Tracer) -> None:
        """``new`` holds ``old``'s values: the same integer or boolean typing."""
        if old.id in self.integral:
            self.integral[new.id] = self.integral[old.id]
        if old.id in self.booleans:
            self.booleans.add(new.id)

    def graph(self, output: Tracer, outputs: tuple = ()) -> Graph:
        """The graph of the nodes so far; ``outputs`` (``((name, tracer), ...)``) when the
        expression ends in a tuple of several outputs (``output`` is then the first). Its nodes'
        ``requires_grad`` are set for :attr:`wrt` (default: every input) as they were made, which its
        facts say: ``with_wrt`` of those inputs, the call's own, then gives the graph itself."""
        if self.signs:  # outputs that depend on signs jac cannot reproduce are refused at evaluation
            from .signs import sign_checked
            if outputs:
                checked = sign_checked(self, [self.lift(t) for _, t in outputs])
                outputs = tuple((name, t) for (name, _), t in zip(outputs, checked))
                output = outputs[0][1]
            else:
                output = sign_checked(self, [self.lift(output)])[0]
        if self.stale:  # a tensor PyTorch saved for backward, changed in place before it (ir/saved.py)
            from .saved import check
            check(self, [self.lift(t).id for _, t in outputs] if outputs else [self.lift(output).id])
        return self.graph_of(output.id if type(output) is Tracer else self.lift(output).id,
                             self._named(outputs) if outputs else ())

    def graph_of(self, output: int, named: tuple = ()) -> Graph:
        """:meth:`graph` of the node ``output`` (an id), its outputs ``named`` (``((name, node id), ...)``), once
        the checks of signs and saved tensors are passed: the short reader's values are node ids (lang/short.py),
        and a graph of one is made without a Tracer."""
        nodes = tuple(self.nodes)
        inputs = self.inputs
        wrt = self.wrt  # the inputs the flags are set for: a wrt that names bound inputs only is its own intersection
        if wrt is None:
            wrt = frozenset(inputs)
        else:
            for name in wrt:  # wrt <= inputs.keys(), without the view and its comparison's calls (a wrt is short)
                if name not in inputs:
                    wrt = wrt.intersection(inputs)
                    break
        return made_graph(nodes, dict(inputs), output, self.source, self.dtype, named, self.by_value,
                          _facts(nodes, wrt, self.dtype, self._itemsize),
                          self.recast + tuple(self.checks) if self.narrow and self.checks else self.recast)


def _result_named(op, shape: Shape) -> str:
    """What a size check names a node by (made only when it refuses); :meth:`Builder._apply` passes it
    as a ``partial``, not a lambda, which would make cells of its variables at each of its calls."""
    return f"the result of {op.title}, shape {fmt(shape)},"


def _shape_error(err: JacError, op, op_name: str, position: int | None) -> JacError:
    """A shape rule's error as :meth:`Builder._apply` raises it: at ``position`` unless it has one,
    its message led by the op's title."""
    if err.position is None:
        err.position = position
    if not err.message.startswith(op_name):
        err.reword(f"{op.title}: {err.message}")
    return err


def _require_number(value, position: int | None) -> None:
    """Refuse an operand that is not a number or an array of numbers: a string, None,
    ``...`` (the parser keeps them for arguments such as ``norm(x, 'fro')``)."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biuf":
            return
    elif isinstance(value, (bool, int, float, np.generic)) and np.asarray(value).dtype.kind in "biuf":
        return
    raw = getattr(value, "value", value)  # lang.functions.Static holds a string
    if raw is Ellipsis:
        what = "'...' (Ellipsis)"
    elif raw is None:
        what = "None"
    elif isinstance(raw, str):
        what = f"the string {raw[:40]!r}"
    else:
        what = f"a {type(raw).__name__}"
    raise JacValueError(f"{what} is not a number: an operand must be a number or an array of numbers", position)


def output_name(graph) -> str:
    """What to call the output (the report's headings, the planner's refusals): its assigned name (``G = ...``),
    else the first of ``y``, ``z``, ``f``, ``out``, ... that no input or assigned node already has (in
    ``y = x * 2; z = y ** 2; z.sum()`` the output is ``f``)."""
    if len(graph.outputs) == 1:  # one leaf of a pytree, {'z': x}: named by its path, y['z']
        return graph.outputs[0][0]
    node = graph.nodes[graph.output]
    if node.name and node.op != "input" and node.name not in graph.inputs:  # x = x * 2; x: not ∂x/∂x
        return node.name
    taken = set(graph.inputs) | set(filter(None, map(attrgetter("name"), graph.nodes)))  # assigned names (C loop)
    candidates = ("y", "z", "f", "out", "output")
    return next((n for n in candidates if n not in taken),
                next(f"output{i}" for i in range(1, len(taken) + 2) if f"output{i}" not in taken))
