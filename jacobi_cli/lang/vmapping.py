"""vmap and JAX's loops written in the text, read as written: ``jax.vmap(f, in_axes=(None, 0))(w, X)``,
``torch.func.vmap(f, in_dims)``, ``jax.lax.map``, ``jax.lax.scan``, ``jax.lax.fori_loop``, ``jax.lax.cond``,
``jax.lax.switch``; and the wrappers that change no value: ``jax.jit(f)``, ``jax.checkpoint(f)`` (a
:class:`Staged`, traced with abstract values as JAX traces it: :func:`.whiles.call_staged`), ``torch.compile(f)``
and ``torch.utils.checkpoint.checkpoint(f, *args)`` (read as the function itself, eager as PyTorch runs them).

Each is written out at parse time, as a ``for`` loop is: a vmapped function is called once per example on the
slices of its mapped arguments (``getitem`` along each one's axis) and the results stacked along ``out_axes``; a
scan or fori_loop calls its body once per step with the carry of the step before. So the graph is made of the ops
the function calls, plus slices and stacks, and jac differentiates it by its inputs as JAX differentiates
``vmap(f)`` itself (``jacrev(vmap(f))``, ``vmap(grad(f))`` compose through the parser's ``call_value``). Every call
written out counts against the for loop's budget of 10,000 (``_Lowering.unrolled``); a batch over that is refused
pointing at ``--batch``, which maps an input without writing anything out. A ``cond`` / ``switch`` chooses its
branch at parse time, so its predicate must be known without the values (a constant, ``x.ndim == 1``); JAX traces
every branch and refuses branches of different shapes, and so does jac.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

import numpy as np

from ..errors import JacLimitError, JacShapeError, JacValueError
from ..ir import dtypes
from ..ir.graph import Tracer
from ..ir.shapes import fmt, is_concrete
from .derivatives import LibraryFunction, _literal, _syntax_arguments, at_call, function_of
from .functions import FUNCTIONS, Items, Static, static_int
from .trees import Dict
from . import custom  # refuse_in_transform: a rule the library does not run under a transform
from . import implicit, scans, whiles, windows

# spelling -> what it is: a transform (vmap), a loop, a branch, or a wrapper read as its function
SPELLINGS = {"jax.vmap": "vmap", "torch.func.vmap": "vmap", "torch.vmap": "vmap",
             "jax.lax.map": "map", "jax.lax.scan": "scan", "jax.lax.fori_loop": "fori_loop",
             "jax.lax.cond": "cond", "jax.lax.switch": "switch", "torch.cond": "torch_cond",
             "numpy.vectorize": "vectorize", "jax.numpy.vectorize": "vectorize",
             "jax.jit": "same", "jax.checkpoint": "same", "jax.remat": "same", "torch.compile": "same",
             "torch.utils.checkpoint.checkpoint": "checkpoint",
             "jax.lax.while_loop": "while_loop", "torch.while_loop": "torch_while_loop",  # (.whiles)
             "jax.lax.associative_scan": "associative_scan",  # (.scans)
             "jax.lax.custom_linear_solve": "custom_linear_solve",  # (.implicit)
             "jax.lax.custom_root": "custom_root",  # (.implicit)
             "jax.lax.reduce": "reduce", "jax.lax.reduce_window": "reduce_window",  # (.windows)
             "numpy.apply_along_axis": "along", "jax.numpy.apply_along_axis": "along",
             "numpy.apply_over_axes": "over", "jax.numpy.apply_over_axes": "over",
             "numpy.piecewise": "piecewise", "jax.numpy.piecewise": "piecewise"}
LAST_NAMES = frozenset(s.rsplit(".", 1)[1] for s in SPELLINGS)
# each spelling's parameters, in the library's order (the first is the function, or the loop's first argument)
_PARAMETERS = {"jax.vmap": ("fun", "in_axes", "out_axes", "axis_name", "axis_size", "spmd_axis_name"),
               "torch.func.vmap": ("func", "in_dims", "out_dims", "randomness", "chunk_size"),
               "jax.lax.map": ("f", "xs", "batch_size"),
               "jax.lax.scan": ("f", "init", "xs", "length", "reverse", "unroll", "_split_transpose"),
               "jax.lax.fori_loop": ("lower", "upper", "body_fun", "init_val", "unroll"),
               "jax.jit": ("fun",), "jax.checkpoint": ("fun",), "torch.compile": ("model",),
               "numpy.vectorize": ("pyfunc", "otypes", "doc", "excluded", "cache", "signature"),
               "jax.numpy.vectorize": ("pyfunc", "excluded", "signature")}
_PARAMETERS["torch.vmap"] = _PARAMETERS["torch.func.vmap"]
_PARAMETERS["jax.lax.while_loop"] = whiles.PARAMETERS
_PARAMETERS["torch.while_loop"] = whiles.TORCH_PARAMETERS
_PARAMETERS["jax.lax.associative_scan"] = scans.PARAMETERS
_PARAMETERS["jax.lax.custom_linear_solve"] = implicit.PARAMETERS
_PARAMETERS["jax.lax.custom_root"] = implicit.ROOT_PARAMETERS
_PARAMETERS["jax.lax.reduce"] = windows.REDUCE
_PARAMETERS["jax.lax.reduce_window"] = windows.REDUCE_WINDOW
_PARAMETERS["jax.remat"] = _PARAMETERS["jax.checkpoint"]
# torch.utils.checkpoint.checkpoint's own keywords: any other is the function's
_CHECKPOINT_KEYWORDS = frozenset({"use_reentrant", "context_fn", "determinism_check", "debug", "preserve_rng_state"})
_BATCH = ("a batch that large is an input with --batch NAME (the expression written for one example), which jac "
          "maps without writing it out")


def imported(module: ast.Module) -> dict:
    """``from torch.func import vmap, grad``, ``from jax import vmap as v``, ``from jax.lax import scan``: each name
    bound to the whole spelling it stands for, of the transforms, loops and derivatives jac reads."""
    from .derivatives import SPELLINGS as DERIVATIVES
    from .trees import SPELLINGS as TREES

    found = {}
    for node in ast.walk(module):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                path = spelling_of(f"{node.module}.{alias.name}")
                path = path or (f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in DERIVATIVES else None)
                path = path or (f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in TREES else None)
                if path is not None:
                    found[alias.asname or alias.name] = path
                elif f"{node.module}.{alias.name}" in ("jax.tree_util", "jax.tree"):  # from jax import tree_util
                    found[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):  # import jax.tree_util as jtu (lang/trees.py)
            found.update((a.asname, a.name) for a in node.names if a.asname and a.name in ("jax.tree_util", "jax.tree"))
    return found


def spelling_of(path: str | None) -> str | None:
    """``jax.vmap``, ``lax.scan`` (jax.lax under its usual alias)...: the spelling of :data:`SPELLINGS`, or None."""
    if path is None:
        return None
    path = "jax." + path if path.startswith("lax.") else path
    path = _ALIASES.get(path, path)
    return path if path in SPELLINGS else None


_ALIASES = {"np.vectorize": "numpy.vectorize", "jnp.vectorize": "jax.numpy.vectorize"}  # their usual aliases
_ALIASES.update({f"{short}.{name}": f"{long}.{name}" for short, long in (("np", "numpy"), ("jnp", "jax.numpy"))
                 for name in ("apply_along_axis", "apply_over_axes", "piecewise")})


@dataclass(frozen=True, eq=False)
class Mapped:
    """``jax.vmap(f, in_axes, out_axes)``: a function of the text, called as one (``jax.vmap(f)(x)``)."""

    spelling: str
    fn: object  # what the parser calls: a Function, module, Instance, LibraryFunction, Transform or Mapped
    in_axes: object  # int, None, or a tuple (list) of them per positional argument, nested for a tuple argument
    out_axes: object  # int, or a tuple of them per output
    axis_size: int | None
    randomness: str = "error"  # torch.func.vmap's: what a draw inside does ("different": each example its own)
    axis_name: str | None = None  # jax.vmap's: the name its collectives (jax.lax.psum ...) reduce over (NamedAxis)


def lower(lowering, spelling: str, node: ast.Call, position: int):
    """The value of the call ``node`` of ``spelling``: a :class:`Mapped`, the function itself, or the loop's
    or branch's result."""
    return at_call(_lowered, lowering, spelling, node, position)


def _lowered(lowering, spelling: str, node: ast.Call, position: int):
    kind = SPELLINGS[spelling]
    if kind == "checkpoint":
        return _checkpoint(lowering, node, position)
    if kind == "cond":
        return _cond(lowering, node, position)
    if kind == "switch":
        return _switch(lowering, node, position)
    if kind == "torch_cond":
        return _torch_cond(lowering, node, position)
    if kind == "piecewise":
        return _piecewise(lowering, spelling, node, position)
    if kind in ("along", "over"):  # np.apply_along_axis(f, axis, arr), np.apply_over_axes(f, a, axes)
        return (_along if kind == "along" else _over)(lowering, spelling, node, position)
    if spelling in whiles.STAGING:  # jax.jit(f, static_argnums=1): traced with abstract values at each call
        return staged(lowering, spelling, node, position)
    if kind == "same":  # torch.compile(f): eager where it breaks its graph (a test of the values); keywords unread
        if not node.args and not node.keywords:
            raise JacValueError(f"{spelling}() needs the function", position)
        fn = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg in ("fun", "model")), None)
        if fn is None:
            raise JacValueError(f"{spelling}() needs the function as its first argument", position)
        return _function(lowering, fn, spelling, position)
    given = _syntax_arguments(spelling, node, _PARAMETERS[spelling], position)
    if kind == "vectorize":
        return _vectorize(lowering, spelling, given, position)
    if kind == "vmap":
        return _vmap(lowering, spelling, given, position)
    if kind == "map":
        for key in ("f", "xs"):
            if key not in given:
                raise JacValueError(f"jax.lax.map() needs {key}", position)
        fn = _function(lowering, given["f"], spelling, position)
        if "batch_size" in given:  # JAX's batch_size changes how many run at once, not the value
            _literal(given["batch_size"], spelling, "batch_size")
        xs = lowering.expression(given["xs"])
        return mapped(lowering, fn, [xs], [0], 0, None, spelling, position)
    if kind == "scan":
        return _scan(lowering, given, position)
    if kind == "while_loop":
        return whiles.while_loop(lowering, given, position, _function, _same_structure, _initial)
    if kind == "torch_while_loop":
        return whiles.torch_while_loop(lowering, given, position, _function, _same_structure)
    if kind == "associative_scan":
        return scans.associative_scan(lowering, given, position, _literal)
    if kind == "custom_linear_solve":
        return implicit.custom_linear_solve(lowering, given, position, _function, _literal)
    if kind == "custom_root":
        return implicit.custom_root(lowering, given, position, _function, _literal)
    if kind in ("reduce", "reduce_window"):
        return getattr(windows, kind)(lowering, given, position, scans._combination)
    return _fori_loop(lowering, given, position)


def _vmap(lowering, spelling: str, given: dict, position: int) -> Mapped:
    torch = spelling.startswith("torch")
    fkey, ikey, okey = ("func", "in_dims", "out_dims") if torch else ("fun", "in_axes", "out_axes")
    if fkey not in given:
        raise JacValueError(f"{spelling}() needs the function to map", position)
    fn = _function(lowering, given[fkey], spelling, position)
    in_axes = _literal(given[ikey], spelling, ikey) if ikey in given else 0
    out_axes = _literal(given[okey], spelling, okey) if okey in given else 0
    if torch and isinstance(in_axes, list):
        raise JacValueError(f"{spelling}(..., {ikey}={in_axes!r}): PyTorch takes an int or a tuple, not a list "
                            f"(write {tuple(in_axes)!r})", position)
    if not _axes_spec(in_axes):
        raise JacValueError(f"{spelling}(..., {ikey}={ast.unparse(given[ikey])}): jac reads an int, None, or a tuple "
                            f"of them per positional argument", position)
    if not _axes_spec(out_axes, none=False):
        raise JacValueError(f"{spelling}(..., {okey}={ast.unparse(given[okey])}): jac reads an int, or a tuple of "
                            f"ints per output (None, an output that is not mapped, is not read)", position)
    axis_name = _literal(given["axis_name"], spelling, "axis_name") if "axis_name" in given else None
    if axis_name is not None and type(axis_name) is not str:
        raise JacValueError(f"{spelling}(..., axis_name={axis_name!r}): jac reads a name written as a string "
                            f"(axis_name='i'), which the collectives inside name (jax.lax.psum(x, 'i'))", position)
    if "spmd_axis_name" in given:  # a mesh axis for sharding, which jac has not: no value changes
        _literal(given["spmd_axis_name"], spelling, "spmd_axis_name")
    randomness = _literal(given["randomness"], spelling, "randomness") if "randomness" in given else "error"
    if randomness not in ("error", "different", "same"):
        raise JacValueError(f"{spelling}(..., randomness={randomness!r}): PyTorch reads 'error', 'different' or "
                            f"'same'", position)
    if "chunk_size" in given:  # how many run at once: not the value
        _literal(given["chunk_size"], spelling, "chunk_size")
    size = _literal(given["axis_size"], spelling, "axis_size") if "axis_size" in given else None
    if size is not None and (type(size) is not int or size < 0):
        raise JacValueError(f"{spelling}(..., axis_size={size!r}): an int >= 0", position)
    return Mapped(spelling, fn, in_axes, out_axes, size, randomness, axis_name)


def _axes_spec(spec, none: bool = True) -> bool:
    if spec is None:
        return none
    if type(spec) is int:
        return True
    if isinstance(spec, dict):  # a dict argument's axes by key (lang/trees.py)
        return all(type(k) in (str, int) and _axes_spec(s, none) for k, s in spec.items())
    return isinstance(spec, (tuple, list)) and all(_axes_spec(s, none) for s in spec)


@dataclass(frozen=True, eq=False)
class Vectorized(Mapped):
    """``np.vectorize(f, excluded, signature)`` / ``jnp.vectorize``: f called on each element (or each core block
    of the signature) of its broadcast arguments (:func:`call_vectorized`)."""

    excluded: frozenset = frozenset()  # positions and keyword names passed through as they are
    cores: tuple = ()  # the signature's core dimension names: (inputs, outputs), each a tuple of tuples; () none


@dataclass(frozen=True, eq=False)
class Staged(Mapped):
    """``jax.jit(f, static_argnums=, static_argnames=)``, ``jax.checkpoint`` / ``jax.remat(f, static_argnums=)``
    (session 33): f called at each call as JAX traces it, with abstract values, the arguments marked static
    concrete (:func:`.whiles.call_staged`)."""

    static_argnums: tuple = ()
    static_argnames: tuple = ()


def staged(lowering, spelling: str, node: ast.Call, position: int) -> Staged:
    """``jax.jit(f, ...)`` / ``jax.checkpoint(f, ...)``: f and the arguments it marks static; the other keywords
    (shardings, donation, ``prevent_cse``, ``policy``) change how the value is computed, not the value, and are not
    read."""
    if not node.args and not any(k.arg == "fun" for k in node.keywords):
        raise JacValueError(f"{spelling}() needs the function as its first argument", position)
    fn = _function(lowering, node.args[0] if node.args else next(k.value for k in node.keywords if k.arg == "fun"),
                   spelling, position)
    return make_staged(spelling, fn, [k for k in node.keywords if k.arg != "fun"], position)


def make_staged(spelling: str, fn, keywords: list, position: int) -> Staged:
    """A :class:`Staged` of ``fn`` with ``keywords`` (syntax) given to ``spelling`` (as a decorator's too)."""
    given = {k.arg: _literal(k.value, spelling, k.arg) for k in keywords if k.arg in ("static_argnums",
                                                                                      "static_argnames")}
    nums = given.get("static_argnums") or ()
    nums = (nums,) if type(nums) is int else nums
    names = given.get("static_argnames") or ()
    names = (names,) if type(names) is str else names
    if not isinstance(nums, (tuple, list)) or not all(type(k) is int for k in nums):
        raise JacValueError(f"{spelling}(..., static_argnums={nums!r}): an int or a tuple of ints, as JAX reads",
                            position)
    if not isinstance(names, (tuple, list)) or not all(type(k) is str for k in names):
        raise JacValueError(f"{spelling}(..., static_argnames={names!r}): a name or a tuple of names, as JAX reads",
                            position)
    return Staged(spelling, fn, None, 0, None, static_argnums=tuple(nums), static_argnames=tuple(names))


def call_mapped(lowering, m: Mapped, args: list, kwargs: dict, position: int):
    """``jax.vmap(f, in_axes, out_axes)(*args)``: f called once per example, the results stacked."""
    if isinstance(m, Vectorized):
        return call_vectorized(lowering, m, args, kwargs, position)
    if isinstance(m, Staged):
        return whiles.call_staged(lowering, m, args, kwargs, position)
    if kwargs:
        raise JacValueError(f"{m.spelling}(f)(..., {next(iter(kwargs))}=...): pass the arguments of a vmapped "
                            f"function by position (JAX maps keyword arguments along axis 0, PyTorch does not map "
                            f"them: jac reads neither)", position)
    if isinstance(m.in_axes, (tuple, list)):
        if len(m.in_axes) != len(args):
            raise JacValueError(f"{m.spelling}: {'in_dims' if m.spelling.startswith('torch') else 'in_axes'} has "
                                f"{len(m.in_axes)} entries for a call with {len(args)} positional arguments: one "
                                f"per argument, as the library requires", position)
        axes = list(m.in_axes)
    else:
        axes = [m.in_axes] * len(args)
    drawn = lowering.b.draws  # the builder's random draws so far (torch.randn and its kin, seeded by --seed)
    out = mapped(lowering, m.fn, args, axes, m.out_axes, m.axis_size, m.spelling, position, m.axis_name)
    if lowering.b.draws != drawn and m.randomness != "different":
        raise JacValueError(f"{m.spelling}: the function draws random values (torch.randn...), which jac draws anew "
                            f"for each example: PyTorch's randomness='different' (its default 'error' refuses a "
                            f"draw, 'same' draws once for all); write randomness='different', or draw outside and "
                            f"pass the values in", position)
    return out


def mapped(lowering, fn, args: list, axes: list, out_axes, axis_size, spelling: str, position: int,
           axis_name: str | None = None):
    """``fn`` called on the ``i``-th slice of each argument along its axis (None: the argument itself), for
    each ``i`` of the mapped size, and the results stacked along ``out_axes``. With ``axis_name`` (jax.vmap's),
    the collectives inside that name it reduce over the examples (:class:`NamedAxis`)."""
    b = lowering.b
    leaves = []  # (argument k, path of parts, tracer, axis)
    for k, (arg, axis) in enumerate(zip(args, axes)):
        _leaves(arg, axis, (k,), leaves, spelling, position)
    sizes = {}
    for k, path, t, axis in leaves:
        if not -t.ndim <= axis < t.ndim:
            raise JacShapeError(f"{spelling}: argument {k} has shape {fmt(t.shape)} and is mapped along axis "
                                f"{axis}, which it does not have (its rank must be at least "
                                f"{max(axis, -axis - 1) + 1})",
                                position)
        n = t.shape[axis % t.ndim]
        if not is_concrete((n,)):
            raise JacShapeError(f"{spelling}: the mapped axis of argument {k} has the symbolic size {n}: jac writes "
                                f"each example out, at numeric sizes (x:4x3, not x:nx3); or bind the batch with --batch "
                                f"NAME and "
                                f"write the expression for one example", position)
        sizes.setdefault(n, (k, t.shape, axis))
    if axis_size is not None:
        sizes.setdefault(axis_size, ("axis_size", (), None))
    if len(sizes) > 1:
        found = "; ".join(f"size {n} (argument {k} of shape {fmt(s)}, axis {a})" if k != "axis_size"
                          else f"size {n} (axis_size)" for n, (k, s, a) in sizes.items())
        raise JacShapeError(f"{spelling}: the mapped axes have different sizes, which JAX and PyTorch refuse: "
                            f"{found}", position)
    if not sizes:
        raise JacValueError(f"{spelling}: no argument is mapped (every axis None): JAX and PyTorch refuse it "
                            f"(give an axis, or JAX's axis_size)", position)
    count = next(iter(sizes))
    if count == 0:
        raise JacShapeError(_EMPTY.format(spelling), position)
    written(lowering, count, spelling, position)
    axis = None if axis_name is None else NamedAxis(axis_name, count, spelling, position)
    while True:
        slices = {}
        results = []
        for i in range(count):
            for k, path, t, along in leaves:
                index = (slice(None),) * (along % t.ndim) + (i,)
                # a constant mapped is traced too (JAX's BatchTracer, PyTorch's BatchedTensor): not folded, so a
                # Python read of it is recorded and refused as the libraries raise there
                slices[path] = whiles.traced_constant(lowering, b.apply("getitem", t, index=index, position=position),
                                                      position)
            called = [_rebuilt(arg, along, (k,), slices) for k, (arg, along) in enumerate(zip(args, axes))]
            start, tests = len(b.nodes), len(lowering.value_tests)
            if axis is None:
                out = lowering.call_value(fn, called, {}, position)
            else:
                out = axis.call(lowering, fn, called, i, position)
                if out is _PENDING:
                    continue
            custom.refuse_in_transform(lowering, spelling, start, position)  # an autograd.Function (lang/custom.py)
            whiles.refuse_value_tests(lowering, tests, list(slices.values()), spelling, position)  # an 'if' of them
            _no_numbers(lowering, fn, out, None, spelling, position)
            results.append(out)
        if axis is None or not axis.resolve(lowering):
            return _stacked(b, results, out_axes, spelling, position)


_PENDING = object()  # an example stopped at a collective whose operands are not all known yet (NamedAxis.call)


class _Collective(BaseException):
    """Raised by a collective whose result is not known yet, caught by its own :class:`NamedAxis`'s loop (a
    BaseException: no ``except Exception`` of the parser between them turns it into an error; every ``finally``
    restores the parser's scopes on the way)."""

    def __init__(self, axis: "NamedAxis"):
        super().__init__(axis.name)
        self.axis = axis


class NamedAxis:
    """``jax.vmap(f, axis_name='i')``: the collectives ``f`` calls (``jax.lax.psum(x, 'i')``, ``pmean``,
    ``pmax``, ``pmin``, ``all_gather``, ``axis_index``: lang/names30.py) reduce over the examples, as JAX's vmap
    batches them. jac writes each example out, so a collective's result needs every example's operand: the
    examples are written out in passes, each stopping at the first collective not resolved yet (raising
    :class:`_Collective`) and recording its operand; the operands of that collective (the same call, in the same
    order, in every example, as JAX traces the function once) are then reduced as graph nodes, and the next pass
    reads the result and goes on to the next collective. The nodes of the stopped passes are read by nothing.
    Held on the parser's lowering (``named_axes``, innermost last) while the vmap runs: no state outside it."""

    MAX_COLLECTIVES = 64

    def __init__(self, name: str, count: int, spelling: str, position: int):
        self.name, self.count, self.spelling, self.position = name, count, spelling, position
        self.resolved: list = []  # per collective, in call order: (kind, operand shape, its result per example)
        self.pending: dict = {}  # example -> (kind, operand, options) of the first unresolved collective
        self.example, self.calls, self.transforms = 0, 0, 0

    def call(self, lowering, fn, called: list, i: int, position: int):
        self.example, self.calls = i, 0
        self.transforms = getattr(lowering, "transforms", 0)
        outer = getattr(lowering, "named_axes", ())
        lowering.named_axes = outer + (self,)
        try:
            return lowering.call_value(fn, called, {}, position)
        except _Collective as stop:
            if stop.axis is not self:
                raise
            return _PENDING
        finally:
            lowering.named_axes = outer

    def collective(self, lowering, kind: str, x, options: tuple, position: int):
        """The result of the collective ``kind`` of ``x`` for the example being written out, or a stop."""
        if getattr(lowering, "transforms", 0) > self.transforms:
            raise JacValueError(f"jax.lax.{kind} over the axis '{self.name}' inside a derivative (jax.grad, "
                                f"jax.jacrev, jax.vjp ...) taken inside the {self.spelling}: JAX's derivative there "
                                f"sums the cotangents of every example over the axis (the collective's transpose), "
                                f"which jac, writing each example out, does not follow; take the derivative of the "
                                f"whole vmap instead (jax.grad(lambda x: jnp.sum(jax.vmap(f, axis_name="
                                f"'{self.name}')(x)))) or move the collective outside the derivative", position)
        k = self.calls
        self.calls += 1
        shape = None if x is None else tuple(x.shape)
        if k < len(self.resolved):
            known, known_shape, results = self.resolved[k]
            if (known[0], known_shape) != (kind, shape) or known[1] != options:
                raise JacValueError(f"{self.spelling}: example {self.example} calls jax.lax.{kind} of shape {shape} "
                                    f"where example 0 called jax.lax.{known[0]} of shape {known_shape}: JAX traces "
                                    f"the function once, so every example makes the same collectives in the same "
                                    f"order; jac cannot follow examples that branch on their values", position)
            return results[self.example]
        if k >= self.MAX_COLLECTIVES:
            raise JacValueError(f"{self.spelling}: more than {self.MAX_COLLECTIVES} collectives over the axis "
                                f"'{self.name}' (jac writes the examples out once per collective)", position)
        self.pending[self.example] = (kind, x, options, position)
        raise _Collective(self)

    def resolve(self, lowering) -> bool:
        """After a pass: reduce the pending collective's operands (True), or False when no example stopped."""
        if not self.pending:
            return False
        kinds = {(kind, options, None if x is None else tuple(x.shape)) for kind, x, options, _ in
                 self.pending.values()}
        if len(self.pending) != self.count or len(kinds) != 1:
            raise JacValueError(f"{self.spelling}: the examples make different collectives over the axis "
                                f"'{self.name}' (or some none): JAX traces the function once, so every example "
                                f"makes the same ones in the same order; jac cannot follow examples that branch on "
                                f"their values", self.position)
        kind, options, shape = next(iter(kinds))
        operands = [self.pending[i][1] for i in range(self.count)]
        position = self.pending[0][3]
        self.resolved.append(((kind, options), shape, _reduced(lowering.b, kind, operands, options, position)))
        self.pending = {}
        return True


def _reduced(b, kind: str, operands: list, options: tuple, position: int) -> list:
    """Each example's result of the collective over all examples' operands."""
    count = len(operands)
    if kind == "axis_index":
        return [b.const(np.asarray(i, dtype=np.int64), position) for i in range(count)]
    if kind == "all_gather":
        axis, tiled = options
        join = "concatenate" if tiled else "stack"
        whole = FUNCTIONS[join](b, [Items(tuple(operands))], {"axis": axis}, position)
        return [whole] * count
    if kind in ("ppermute", "pshuffle"):  # options: (source, destination) pairs; no pair sends: zeros
        sent = {dst: src for src, dst in options}
        zero = None
        out = []
        for i in range(count):
            if i in sent:
                out.append(b.apply("add", operands[sent[i]], 0.0, position=position))
            else:
                if zero is None:
                    zero = b.const(np.zeros(tuple(operands[0].shape), dtype=b.dtype), position)
                out.append(zero)
        return out
    stacked = FUNCTIONS["stack"](b, [Items(tuple(operands))], {"axis": 0}, position)
    if kind in ("psum", "pmean"):
        total = FUNCTIONS["sum"](b, [stacked], {"axis": 0}, position)
        if kind == "pmean":
            total = b.apply("div", total, float(count), position=position)
    else:
        total = FUNCTIONS["amax" if kind == "pmax" else "amin"](b, [stacked], {"axis": 0}, position)
    return [total] * count


def _dict_axes(arg, axis, spelling: str, position: int) -> list:
    """A dict argument's axes, one per key (in its order): one axis for all, or a dict of them by key (lang/trees.py)."""
    if not isinstance(axis, dict):
        return [axis] * len(arg)
    if set(axis) != set(arg.keys()):
        raise JacValueError(f"{spelling}: an axis spec of keys {sorted(axis)} for a dict of keys {sorted(arg.keys())}",
                            position)
    return [axis[k] for k in arg.keys()]


def _leaves(arg, axis, path: tuple, leaves: list, spelling: str, position: int) -> None:
    """The mapped arrays of ``arg`` (an array, or a tuple of them: JAX's pytree of one level and more)."""
    if isinstance(arg, Dict):  # params = {'W': W, 'b': b} with in_axes None or 0 (lang/trees.py)
        for key, part, a in zip(arg.keys(), arg.values(), _dict_axes(arg, axis, spelling, position)):
            _leaves(part, a, path + (key,), leaves, spelling, position)
        return
    if isinstance(arg, Items):
        parts = axis if isinstance(axis, (tuple, list)) else [axis] * len(arg)
        if len(parts) != len(arg):
            raise JacValueError(f"{spelling}: an axis spec of {len(parts)} entries for a tuple of {len(arg)} "
                                f"arrays", position)
        for j, (part, a) in enumerate(zip(arg, parts)):
            _leaves(part, a, path + (j,), leaves, spelling, position)
        return
    if axis is None:
        return
    if isinstance(axis, (tuple, list, dict)):
        raise JacValueError(f"{spelling}: a {'dict' if isinstance(axis, dict) else 'tuple'} of axes for argument "
                            f"{path[0]}, which is one array", position)
    if not isinstance(arg, Tracer):
        raise JacValueError(f"{spelling}: argument {path[0]} is mapped (axis {axis}) but is not an array", position)
    leaves.append((path[0], path, arg, axis))


def _rebuilt(arg, axis, path: tuple, slices: dict):
    if isinstance(arg, Dict):
        return Dict((k, _rebuilt(p, a, path + (k,), slices))
                    for k, p, a in zip(arg.keys(), arg.values(), _dict_axes(arg, axis, "", None)))
    if isinstance(arg, Items):
        parts = axis if isinstance(axis, (tuple, list)) else [axis] * len(arg)
        return Items([_rebuilt(p, a, path + (j,), slices) for j, (p, a) in enumerate(zip(arg, parts))])
    return slices.get(path, arg) if axis is not None else arg


def _stacked(b, results: list, out_axes, spelling: str, position: int):
    """The per-example results stacked: an array along its out axis, a tuple part by part."""
    first = results[0]
    if isinstance(first, Dict):  # torch.func.vmap(torch.func.grad(loss))(params, ...): a dict of stacked leaves
        if any(not isinstance(r, Dict) or r.keys() != first.keys() for r in results):
            raise JacValueError(f"{spelling}: the function returns dicts of different keys", position)
        axes = _dict_axes(first, out_axes, spelling, position)
        return Dict((k, _stacked(b, [r.get(k, position) for r in results], a, spelling, position))
                    for k, a in zip(first.keys(), axes))
    if isinstance(first, Items):
        axes = out_axes if isinstance(out_axes, (tuple, list)) else [out_axes] * len(first)
        if len(axes) != len(first) or any(not isinstance(r, Items) or len(r) != len(first) for r in results):
            raise JacValueError(f"{spelling}: out_axes has {len(axes)} entries for an output of {len(first)} parts",
                                position)
        return Items([_stacked(b, [r[j] for r in results], a, spelling, position) for j, a in enumerate(axes)])
    if isinstance(out_axes, (tuple, list)):
        raise JacValueError(f"{spelling}: a tuple of out axes for an output that is one array", position)
    if not all(isinstance(r, Tracer) for r in results):
        raise JacValueError(f"{spelling}: the function returns something other than arrays (or tuples of them)",
                            position)
    rank = first.ndim + 1
    if not -rank <= out_axes < rank:
        raise JacShapeError(f"{spelling}: out axis {out_axes} of an output of shape {fmt(first.shape)} stacked "
                            f"(rank {rank})", position)
    return FUNCTIONS["stack"](b, [Items(results)], {"axis": out_axes % rank}, position)


# a mapped axis (or scan's xs) of size 0: JAX traces f without calling it and so knows the stacked result's shape
_EMPTY = ("{}: the mapped axis has size 0: jac writes each call out, and with none it has no result to take the "
          "shape of (JAX and torch.func trace the function without calling it); map an axis of size 1 or more")


def written(lowering, count: int, spelling: str, position: int) -> None:
    """``count`` more calls written out, against the for loop's budget."""
    lowering.unrolled += count
    if lowering.unrolled > lowering.max_unrolled:
        raise JacLimitError(f"{spelling}: jac writes each call out, and more than {lowering.max_unrolled:,} in all is "
                            f"over "
                            f"its limit (the for loop's); {_BATCH}", position)


def _scan(lowering, given: dict, position: int):
    """``jax.lax.scan(f, init, xs, length, reverse)``: ``(carry, ys)``, f written out once per step."""
    spelling = "jax.lax.scan"
    b = lowering.b
    for key in ("f", "init"):
        if key not in given:
            raise JacValueError(f"{spelling}() needs {key}", position)
    fn = _function(lowering, given["f"], spelling, position)
    carry = _initial(lowering, given["init"])
    xs = lowering.expression(given["xs"]) if "xs" in given else None
    length = _static_int(lowering, given["length"], spelling, "length") if "length" in given else None
    reverse = bool(_literal(given["reverse"], spelling, "reverse")) if "reverse" in given else False
    for key in ("unroll", "_split_transpose"):  # how it is compiled, not the value
        if key in given:
            _literal(given[key], spelling, key)
    leaves = []
    if xs is not None:
        _leaves(xs, 0, (0,), leaves, spelling, position)
    counts = {t.shape[0] for _, _, t, _ in leaves}
    if length is not None:
        counts.add(length)
    if not counts:
        raise JacValueError(f"{spelling}: xs=None needs length=", position)
    if len(counts) != 1 or not is_concrete(tuple(counts)):
        raise JacShapeError(f"{spelling}: the leading sizes of xs and length differ or are symbolic "
                            f"({', '.join(str(c) for c in counts)}): JAX refuses it", position)
    count = counts.pop()
    if count == 0:
        raise JacShapeError(_EMPTY.format(spelling), position)
    written(lowering, count, spelling, position)
    ys = [None] * count
    for i in (reversed(range(count)) if reverse else range(count)):
        x = _rebuilt(xs, 0, (0,), {p: b.apply("getitem", t, index=(i,), position=position)
                                   for _, p, t, _ in leaves}) if xs is not None else None
        # the carry and the slices of xs are tracers in JAX though they be constants (jnp.arange(3.0) as xs)
        carry, x = whiles.traced_constant(lowering, carry, position), whiles.traced_constant(lowering, x, position)
        out = whiles.traced(lowering, fn, [carry, x], spelling, position)
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise JacValueError(f"{spelling}: the function returns a pair (carry, y)", position)
        _same_structure(carry, out[0], f"{spelling}: the carry", position)
        _no_numbers(lowering, fn, out, 1, spelling, position)
        carry, ys[i] = out
    if all(y is None for y in ys):
        return Items([carry, None])
    return Items([carry, _stacked(b, ys, 0, spelling, position)])


def _fori_loop(lowering, given: dict, position: int):
    """``jax.lax.fori_loop(lower, upper, body_fun, init_val)``: body_fun written out for i = lower .. upper - 1."""
    spelling = "jax.lax.fori_loop"
    for key in ("lower", "upper", "body_fun", "init_val"):
        if key not in given:
            raise JacValueError(f"{spelling}() needs {key}", position)
    lo = _static_int(lowering, given["lower"], spelling, "lower")
    hi = _static_int(lowering, given["upper"], spelling, "upper")
    fn = _function(lowering, given["body_fun"], spelling, position)
    if "unroll" in given:
        _literal(given["unroll"], spelling, "unroll")
    value = _initial(lowering, given["init_val"])
    written(lowering, max(hi - lo, 0), spelling, position)
    for i in range(lo, hi):
        index = whiles.traced_constant(lowering, lowering.number(i, position), position)  # a tracer in JAX
        value = whiles.traced_constant(lowering, value, position)  # so is the loop's value, a constant's too
        out = whiles.traced(lowering, fn, [index, value], spelling, position)
        _same_structure(value, out, f"{spelling}: the loop's value", position)
        value = out
    return value


def _cond(lowering, node: ast.Call, position: int):
    """``jax.lax.cond(pred, true_fun, false_fun, *operands)``: the branch the predicate picks, the predicate known
    without the values; both branches traced, as JAX traces them, and refused where their outputs differ."""
    spelling = "jax.lax.cond"
    given, operands = _leading(spelling, node, ("pred", "true_fun", "false_fun"), position)
    pred = _known(lowering, given["pred"], spelling, "pred", position)
    fns = [_function(lowering, given[k], spelling, position) for k in ("true_fun", "false_fun")]
    return _branch(lowering, fns, 0 if pred else 1, operands, spelling, position)


def _switch(lowering, node: ast.Call, position: int):
    """``jax.lax.switch(index, branches, *operands)``: ``branches[clamp(index, 0, n - 1)]``, as JAX clamps it."""
    spelling = "jax.lax.switch"
    given, operands = _leading(spelling, node, ("index", "branches"), position)
    index = _known(lowering, given["index"], spelling, "index", position)
    if not isinstance(given["branches"], (ast.List, ast.Tuple)) or not given["branches"].elts:
        raise JacValueError(f"{spelling}: write the branches as a list of functions ([f, g, lambda v: ...])", position)
    if isinstance(index, bool) or not float(index).is_integer():
        raise JacValueError(f"{spelling}: the index is an integer (got {index!r})", position)
    fns = [_function(lowering, e, spelling, position) for e in given["branches"].elts]
    return _branch(lowering, fns, min(max(int(index), 0), len(fns) - 1), operands, spelling, position)


def _torch_cond(lowering, node: ast.Call, position: int):
    """``torch.cond(pred, true_fn, false_fn, operands=())``: a Python bool or number as ``pred`` calls the branch it
    picks and no other, as PyTorch does; a constant tensor traces both, refused where their outputs differ (as
    PyTorch's tracing refuses them); a predicate of the inputs' values is refused as ``jax.lax.cond``'s is."""
    spelling = "torch.cond"
    given = _syntax_arguments(spelling, node, ("pred", "true_fn", "false_fn", "operands"), position)
    missing = [k for k in ("pred", "true_fn", "false_fn") if k not in given]
    if missing:
        raise JacValueError(f"{spelling}(pred, true_fn, false_fn, operands) is PyTorch's control flow and needs "
                            f"{', '.join(missing)}; the condition number of a matrix is torch.linalg.cond(A), and a "
                            f"choice between two values torch.where(pred, a, b)", position)
    operands = given.get("operands")
    if operands is None:
        operands = []
    elif isinstance(operands, (ast.Tuple, ast.List)):
        operands = list(operands.elts)
    else:
        raise JacValueError(f"{spelling}: write the operands as a tuple or list ((x,) or [x, y]), as PyTorch "
                            f"requires", position)
    python = lowering.expression(given["pred"])
    pred = _known(lowering, given["pred"], spelling, "pred", position)
    fns = [_function(lowering, given[k], spelling, position) for k in ("true_fn", "false_fn")]
    chosen = 0 if pred else 1
    if isinstance(python, (bool, int, float)):  # PyTorch calls the branch a Python predicate picks, and no other
        return lowering.call_value(fns[chosen], [lowering.expression(o) for o in operands], {}, position)
    return _branch(lowering, fns, chosen, operands, spelling, position)


def _branch(lowering, fns: list, chosen: int, operands: list, spelling: str, position: int):
    args = [lowering.expression(o) for o in operands]
    outs = [whiles.traced(lowering, fn, list(args), spelling, position) for fn in fns]
    for k, out in enumerate(outs):
        _same_structure(outs[0], out, f"{spelling}: branch {k}'s output against branch 0's", position)
    return outs[chosen]


def _known(lowering, node: ast.expr, spelling: str, what: str, position: int):
    """The predicate or index as a Python number: known without the values (a number, a bool, ``x.ndim == 1``),
    or of the inputs' values, taken at the given values as the library takes it when it runs (the graph then
    holds for those values only). JAX and PyTorch differentiate the branch taken, under jax.grad and jax.vmap
    alike (vmap's batched predicate selects each example's branch and stops the others' gradients), so no
    transform refuses it, unlike a Python ``if`` of a traced value."""
    value = lowering.expression(node)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, Static) and isinstance(value.value, (bool, int, float)):
        return value.value
    held = lowering.b.nodes[value.id] if isinstance(value, Tracer) else None
    if held is None:
        raise JacValueError(f"{spelling}: {what} is a number or a comparison", position)
    count = int(np.prod(value.shape)) if is_concrete(value.shape) else None
    if (count is not None and count != 1) or (value.ndim and spelling != "torch.cond"):
        library = "PyTorch requires one element" if spelling == "torch.cond" else "JAX requires"
        raise JacValueError(f"{spelling}: {what} must be a scalar (it has shape {fmt(value.shape)}), as "
                            f"{library}", position)
    if what == "index":
        kind = dtypes.kind_of(lowering.b, value.id)
        if held.op == "const" and kind is None and value.id in lowering.b.pyints:
            kind = (np.dtype(np.int64), None)
        if kind is None or kind[0].kind not in "iu":
            got = "a bool" if kind is not None and kind[0].kind == "b" else "a float"
            raise JacValueError(f"{spelling}: the index must be an integer, as JAX requires (TypeError: Index type "
                                f"must be an integer); got {got}", position)
    if held.op != "const":
        found = lowering.value_of(value, position, message=(
            f"{spelling} with {'a pred' if what == 'pred' else 'an index'} of the inputs' values: jac takes the "
            f"branch the given values choose, as {_library(spelling)} does when it runs, and the result holds for "
            f"those values only (jac eval, vjp, jvp, hessian, check compute it; jac shape, jac diff and a compiled "
            f"function cannot; {'torch' if spelling == 'torch.cond' else 'jnp'}.where chooses for any values)"))
        return np.asarray(found).item()
    return lowering.b.pyints.get(value.id, np.asarray(held.value).item())


def _checkpoint(lowering, node: ast.Call, position: int):
    """``torch.utils.checkpoint.checkpoint(f, *args, use_reentrant=False)``: ``f(*args)``, which it computes
    (recomputing in the backward pass changes no value); its other keywords are f's."""
    spelling = "torch.utils.checkpoint.checkpoint"
    if not node.args:
        raise JacValueError(f"{spelling}() needs the function as its first argument", position)
    fn = _function(lowering, node.args[0], spelling, position)
    kwargs = {}
    for k in node.keywords:
        if k.arg in _CHECKPOINT_KEYWORDS:
            if k.arg != "context_fn":
                _literal(k.value, spelling, k.arg)
            else:
                raise JacValueError(f"{spelling}(..., context_fn=...) is not read: drop it", position)
            continue
        kwargs[k.arg] = lowering.expression(k.value)
    args = [lowering.expression(a) for a in node.args[1:]]
    return lowering.call_value(fn, args, kwargs, position)


def _no_numbers(lowering, fn, out, part, spelling: str, position: int) -> None:
    """Refuse a result that is a Python tuple of numbers (``r.shape``, ``jnp.shape``, ``[1.0, 2.0]``), which jac holds
    as an array: JAX stacks each number into an array of its own (a tuple of arrays), so stacking jac's array
    would lay the numbers out otherwise."""
    results = getattr(fn, "result", None)  # a function of the text (the parser's Function): its returned syntax
    results = results if isinstance(results, ast.expr) else None
    if part is not None:  # scan's (carry, y): the y written as the returned tuple's second element
        results = results.elts[part] if isinstance(results, (ast.Tuple, ast.List)) and len(results.elts) == 2 else None
        out = out[part]
    found = isinstance(fn, LibraryFunction) and fn.name in ("shape",) and part is None
    if results is not None:
        nodes = results.elts if isinstance(results, (ast.Tuple, ast.List)) and isinstance(out, Items) else [results]
        values = list(out) if isinstance(out, Items) and len(nodes) == len(out) else [out]
        found = any(isinstance(v, Tracer) and id(n) in lowering.sequences for n, v in zip(nodes, values))
    if found:
        raise JacValueError(f"{spelling}: the function returns a Python tuple of numbers (a shape, [1.0, 2.0]), "
                            f"which JAX stacks into a tuple of arrays, one per number: return an array "
                            f"(jnp.array(r.shape))", position)


def _initial(lowering, node: ast.expr):
    """A loop's first carry: one written as a tuple or list display is a pytree of its elements, as JAX reads it
    (``(0.0, 1.0)`` two leaves, where jac's expression of it is one array of two numbers), so a body returning
    ``(m, P)`` keeps the carry's structure."""
    if isinstance(node, (ast.Tuple, ast.List)) and node.elts and not any(isinstance(e, ast.Starred)
                                                                        for e in node.elts):
        out = Items(_initial(lowering, e) for e in node.elts)
        out.display = "tuple" if isinstance(node, ast.Tuple) else "list"
        return out
    return lowering.expression(node)


def _same_structure(before, after, what: str, position: int) -> None:
    """JAX's rule for a carry and for branches: the same tuple structure and shapes."""
    if isinstance(before, (tuple, list)) or isinstance(after, (tuple, list)):
        kinds = {getattr(v, "display", None) for v in (before, after)}
        if not (isinstance(before, (tuple, list)) and isinstance(after, (tuple, list)) and len(before) == len(after)
                and not kinds >= {"tuple", "list"}):  # JAX's pytrees: a list is no tuple
            raise JacValueError(f"{what} changes its structure (a tuple of the same length each time), which "
                                f"{_library(what)} refuses", position)
        for p, q in zip(before, after):
            _same_structure(p, q, what, position)
        return
    if (before is None) != (after is None):
        raise JacValueError(f"{what} changes its structure (None against an array), which {_library(what)} refuses",
                            position)
    if isinstance(before, Tracer) and isinstance(after, Tracer) and tuple(before.shape) != tuple(after.shape):
        raise JacShapeError(f"{what} has shape {fmt(after.shape)} for {fmt(before.shape)}: it must keep its shape, "
                            f"as {_library(what)} requires", position)


def _library(what: str) -> str:
    return "PyTorch" if what.startswith("torch") else "JAX"


def _function(lowering, node: ast.expr, spelling: str, position: int):

    return function_of(lowering, node, spelling, position)


def _leading(spelling: str, node: ast.Call, names: tuple, position: int):
    """The leading parameters by name, and the operands after them (positional only, as JAX's)."""
    given = dict(zip(names, node.args))
    operands = list(node.args[len(names):])
    for k in node.keywords:
        if k.arg in names and k.arg not in given:
            given[k.arg] = k.value
        elif k.arg == "operand" and not operands:  # JAX's old spelling, cond(pred, t, f, operand=x)
            operands = [k.value]
        else:
            raise JacValueError(f"{spelling}() has no argument '{k.arg}' jac reads (it reads {', '.join(names)}, "
                                f"then the operands by position)", position)
    missing = [n for n in names if n not in given]
    if missing:
        raise JacValueError(f"{spelling}() needs {', '.join(missing)}", position)
    return given, operands


def _static_int(lowering, node: ast.expr, spelling: str, key: str) -> int:
    """A loop's bound or length known without the values (3, n_steps of the text, x.shape[0])."""
    return static_int(lowering.b, lowering.expression(node), f"{spelling}'s {key}", lowering.source.at(node))


_CORE = r"\((?:\w+(?:,\w+)*)?\)"
_SIGNATURE = re.compile(rf"{_CORE}(?:,{_CORE})*->{_CORE}(?:,{_CORE})*")


def _cores(text: str) -> tuple:
    """``'(n),(n)->()'`` as ``((('n',), ('n',)), ((),))``: NumPy's gufunc signature."""
    compact = text.replace(" ", "")
    if not _SIGNATURE.fullmatch(compact):
        raise ValueError(text)
    ins, outs = compact.split("->")
    part = lambda side: tuple(tuple(d for d in core.split(",") if d) for core in re.findall(r"\(([^)]*)\)", side))
    return part(ins), part(outs)


def _vectorize(lowering, spelling: str, given: dict, position: int) -> Vectorized:
    """``np.vectorize(pyfunc, otypes=None, doc=None, excluded=None, cache=False, signature=None)`` and
    ``jnp.vectorize(pyfunc, excluded=frozenset(), signature=None)``."""
    key = "pyfunc"
    if key not in given:
        raise JacValueError(f"{spelling}() needs the function", position)
    fn = _function(lowering, given[key], spelling, position)
    if "otypes" in given and not _float_types(given["otypes"]):
        raise JacValueError(f"{spelling}(..., otypes={ast.unparse(given['otypes'])}): jac reads float otypes only "
                            f"([float], 'd', [np.float64]): another type changes the values (otypes=[int] truncates, "
                            f"'f' rounds to float32); leave it out, and cast the result (.astype(int)) if that is "
                            f"meant", position)
    for flag in ("doc", "cache"):
        if flag in given:
            _literal(given[flag], spelling, flag)  # a docstring and caching change no value
    excluded = _literal(given["excluded"], spelling, "excluded") if given.get("excluded") is not None else ()
    if not isinstance(excluded, (set, frozenset, list, tuple)) or \
            not all(isinstance(e, (int, str)) and not isinstance(e, bool) for e in excluded):
        raise JacValueError(f"{spelling}(..., excluded=...): a set of argument positions and keyword names", position)
    cores = ()
    signature = _literal(given["signature"], spelling, "signature") if given.get("signature") is not None else None
    if signature is not None:
        try:
            cores = _cores(signature) if isinstance(signature, str) else _cores("")
        except ValueError:
            raise JacValueError(f"{spelling}: signature {signature!r} is not a gufunc signature such as "
                                f"'(n),(n)->()'", position) from None
    return Vectorized(spelling, fn, 0, 0, None, excluded=frozenset(excluded), cores=cores)


def _float_types(node: ast.expr) -> bool:
    """np.vectorize's otypes that change no value jac computes: None, or float64 types ('d', [float], [np.float64])."""
    if isinstance(node, ast.Constant):
        return node.value is None or isinstance(node.value, str) and set(node.value) <= {"d"}
    if isinstance(node, (ast.List, ast.Tuple)):
        return all(isinstance(e, ast.Constant) and e.value in ("d", "float64") or ast.unparse(e) in
                   ("float", "np.float64", "numpy.float64", "np.double") for e in node.elts)
    return False


def call_vectorized(lowering, v: Vectorized, args: list, kwargs: dict, position: int):
    """``np.vectorize(f)(*args)``: the arguments (those not excluded) broadcast over their loop dimensions (all but
    the signature's core ones: all of them without a signature), f called on each loop element's blocks (a
    0-d array each without a signature), and the results stacked back into the loop's shape."""
    b, what = lowering.b, v.spelling
    if kwargs:
        raise JacValueError(f"{what}(f)(..., {next(iter(kwargs))}=...): jac reads the arguments of a vectorized "
                            f"function by position (excluded= names positions to pass unmapped)", position)
    mapped_at = [i for i in range(len(args)) if i not in v.excluded]
    cores_in, cores_out = v.cores if v.cores else (((),) * len(mapped_at), None)
    if len(cores_in) != len(mapped_at):
        raise JacValueError(f"{what}: the signature has {len(cores_in)} inputs and the call {len(mapped_at)} mapped "
                            f"arguments", position)
    sizes, loops, flat = {}, [], list(args)
    for i, core in zip(mapped_at, cores_in):
        t = args[i]
        if type(t) in (int, float):  # a Python number: a 0-d array, broadcast
            t = b.lift(float(t))
        if not isinstance(t, Tracer) or not is_concrete(tuple(t.shape)):
            raise JacValueError(f"{what}: argument {i} is an array of numeric shape (or name it in excluded=)",
                                position)
        if t.ndim < len(core):
            raise JacShapeError(f"{what}: argument {i} has shape {fmt(t.shape)}, fewer axes than its core "
                                f"dimensions ({','.join(core)}) in the signature", position)
        for name, n in zip(core, t.shape[t.ndim - len(core):]):
            if sizes.setdefault(name, n) != n:
                raise JacShapeError(f"{what}: core dimension {name} is {sizes[name]} and {n}: they must match",
                                    position)
        flat[i] = t
        loops.append(tuple(t.shape[:t.ndim - len(core)]))
    try:
        loop = tuple(np.broadcast_shapes(*loops)) if loops else ()
    except ValueError:
        raise JacShapeError(f"{what}: the arguments' shapes do not broadcast ({', '.join(map(fmt, loops))})",
                            position) from None
    count = int(np.prod(loop, dtype=np.int64))
    if not mapped_at or count == 0:
        raise JacValueError(f"{what}: " + ("no argument is mapped" if not mapped_at else
                                           "an empty array: NumPy needs otypes= to call it on no elements, and JAX "
                                           "calls f once to learn its output"), position)
    for i, core in zip(mapped_at, cores_in):
        t = flat[i]
        core_shape = tuple(t.shape[t.ndim - len(core):])
        if tuple(t.shape) != loop + core_shape:
            t = b.apply("broadcast_to", t, shape=loop + core_shape, position=position)
        flat[i] = b.apply("reshape", t, shape=(count,) + core_shape, position=position)
    axes = [0 if i in mapped_at else None for i in range(len(args))]
    out = mapped(lowering, v.fn, flat, axes, 0, None, what, position)
    outs = list(out) if isinstance(out, Items) else [out]
    free = cores_out is None and what.startswith("jax")  # jnp.vectorize without a signature keeps f's axes, last
    if cores_out is None:
        cores_out = ((),) * len(outs)
    if len(outs) != len(cores_out) or not all(isinstance(o, Tracer) for o in outs):
        raise JacValueError(f"{what}: f returns {len(outs)} arrays and the signature has {len(cores_out)} outputs"
                            if v.cores else f"{what}: without signature=, f returns one number per element (a "
                            f"signature such as '(n)->(n)' says which axes it returns)", position)
    shaped = []
    for o, core in zip(outs, cores_out):
        block = tuple(o.shape[1:])
        if len(block) != len(core) and not free:
            raise JacShapeError(f"{what}: f returns shape {fmt(block)} " + (f"where the signature has ({','.join(core)})"
                                if v.cores else "where it is called on numbers: without signature=, f returns one "
                                "number per element"), position)
        for name, n in zip(core, block):
            if sizes.setdefault(name, n) != n:
                raise JacShapeError(f"{what}: core dimension {name} is {sizes[name]} and {n}: they must match",
                                    position)
        shaped.append(b.apply("reshape", o, shape=loop + block, position=position))
    return Items(shaped) if isinstance(out, Items) else shaped[0]


# --- np.apply_along_axis / np.apply_over_axes (session 27): f of the text or a library's, written out ---

def _along(lowering, spelling: str, node: ast.Call, position: int):
    """``np.apply_along_axis(func1d, axis, arr, *args)``: ``func1d`` called on each 1-d slice of ``arr`` along
    ``axis`` (the extra arguments passed to every call), as NumPy's loop; its results (each of one shape) in place
    of that axis: ``arr.shape[:axis] + result.shape + arr.shape[axis + 1:]``."""
    b = lowering.b
    if any(k.arg not in ("func1d", "axis", "arr") for k in node.keywords) or len(node.args) < 3 and node.keywords:
        raise JacValueError(f"{spelling}(func1d, axis, arr, *args): jac reads them positionally, without keywords "
                            "for func1d", position)
    if len(node.args) < 3:
        raise JacValueError(f"{spelling}() needs func1d, axis and arr", position)
    fn = _function(lowering, node.args[0], spelling, position)
    axis = _static_int(lowering, node.args[1], spelling, "axis")
    arr = lowering.expression(node.args[2])
    extra = [lowering.expression(a) for a in node.args[3:]]
    if not isinstance(arr, Tracer) or arr.ndim == 0:
        raise JacValueError(f"{spelling}: arr is an array of at least one axis", position)
    if not -arr.ndim <= axis < arr.ndim:
        raise JacShapeError(f"{spelling}: axis {axis} is out of bounds for an array of rank {arr.ndim}", position)
    axis %= arr.ndim
    if not is_concrete(tuple(arr.shape)):
        raise JacShapeError(f"{spelling}: jac writes each call out, at numeric sizes (not {fmt(arr.shape)})",
                            position)
    rest = tuple(arr.shape[:axis]) + tuple(arr.shape[axis + 1:])
    count = int(np.prod(rest, dtype=np.int64))
    moved = FUNCTIONS["moveaxis"](b, [arr, axis, -1], {}, position) if axis != arr.ndim - 1 else arr
    rows = b.apply("reshape", moved, shape=(count, arr.shape[axis]), position=position)
    out = mapped(lowering, fn, [rows] + extra, [0] + [None] * len(extra), 0, None, spelling, position)
    if not isinstance(out, Tracer):
        raise JacValueError(f"{spelling}: func1d returns one array (or number) per slice", position)
    core = tuple(out.shape[1:])
    out = b.apply("reshape", out, shape=rest + core, position=position)
    if core and axis != len(rest):  # the result's axes where arr's axis was
        order = tuple(range(axis)) + tuple(range(len(rest), len(rest) + len(core))) + tuple(range(axis, len(rest)))
        out = b.apply("transpose", out, axes=order, position=position)
    return out


def _over(lowering, spelling: str, node: ast.Call, position: int):
    """``np.apply_over_axes(func, a, axes)``: ``a = func(a, axis)`` for each axis in turn, a result of one axis
    fewer given it back (``expand_dims``), as NumPy's loop."""
    b = lowering.b
    if node.keywords or len(node.args) != 3:
        raise JacValueError(f"{spelling}(func, a, axes) takes its three arguments positionally", position)
    fn = _function(lowering, node.args[0], spelling, position)
    a = lowering.expression(node.args[1])
    try:
        axes = ast.literal_eval(node.args[2])
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise JacValueError(f"{spelling}: axes is an int or a tuple of ints written in the text", position) from None
    if type(axes) is int and spelling.startswith("jax"):
        raise JacValueError(f"{spelling}: axes is a list or tuple of ints (JAX iterates it: 'int' object is not "
                            "iterable)", position)
    axes = (axes,) if type(axes) is int else axes
    if not isinstance(a, Tracer) or not isinstance(axes, (tuple, list)) or not all(type(k) is int for k in axes):
        raise JacValueError(f"{spelling}(func, a, axes): a is an array and axes an int or a tuple of ints", position)
    for k in axes:
        if not -a.ndim <= k < a.ndim:
            raise JacShapeError(f"{spelling}: axis {k} is out of bounds for an array of rank {a.ndim}", position)
        k %= a.ndim
        res = lowering.call_value(fn, [a, lowering.number(k, position)], {}, position)
        if not isinstance(res, Tracer) or res.ndim not in (a.ndim, a.ndim - 1):
            raise JacValueError(f"{spelling}: function is not returning an array of the correct shape (as NumPy "
                                "says): of a's rank or one fewer", position)
        a = res if res.ndim == a.ndim else b.apply("reshape", res, shape=tuple(res.shape[:k]) + (1,) +
                                                   tuple(res.shape[k:]), position=position)
    return a


def _piecewise(lowering, spelling: str, node: ast.Call, position: int):
    """``np.piecewise(x, condlist, funclist, *args, **kw)`` as NumPy's loop runs it: ``y = zeros_like(x)``, then for
    each condition in turn ``y[cond] = f(x[cond], *args, **kw)`` (a number in funclist: ``y[cond] = number``; one
    function more than conditions: the last is for where none holds), a later condition's values written over an
    earlier's. Each function sees only the elements its condition selects, so a NaN or inf of it elsewhere (sqrt
    of the negatives) never reaches the value or the derivatives. Conditions of the inputs' values are read at the
    given values (x[mask], the graph by_value). ``jnp.piecewise`` calls each function on every element alone
    (JAX's switch under vmap): called so here, one element at a time, its Python reads of the values refused as
    JAX's vmap refuses them."""
    b = lowering.b
    names = ("x", "condlist", "funclist")
    given = dict(zip(names, node.args))
    kwargs = {}
    for k in node.keywords:
        if k.arg in names and k.arg not in given:
            given[k.arg] = k.value
        elif k.arg is None:
            raise JacValueError(f"{spelling}(..., **kw): write the keywords out", position)
        else:
            kwargs[k.arg] = lowering.expression(k.value)
    missing = [n for n in names if n not in given]
    if missing:
        raise JacValueError(f"{spelling}(x, condlist, funclist, *args, **kw) needs {', '.join(missing)}", position)
    x = lowering.expression(given["x"])
    if isinstance(x, (bool, int, float)):
        x = lowering.number(x, position)
    if not isinstance(x, Tracer) or not is_concrete(tuple(x.shape)):
        raise JacValueError(f"{spelling}: x is an array of numeric sizes", position)
    if dtypes.kind_of(b, x.id) is not None:
        raise JacValueError(f"{spelling}: x holds integers, and NumPy's result takes x's dtype (each value written "
                            f"truncated): give x as floats (x.astype(float))", position)
    extra = [lowering.expression(a) for a in node.args[3:]]
    conds = given["condlist"].elts if isinstance(given["condlist"], (ast.List, ast.Tuple)) else [given["condlist"]]
    if not isinstance(given["funclist"], (ast.List, ast.Tuple)):
        raise JacValueError(f"{spelling}: write funclist as a list of functions and numbers ([np.sin, lambda v: "
                            f"v ** 2, 0.0])", position)
    pieces = given["funclist"].elts
    if len(pieces) not in (len(conds), len(conds) + 1):
        raise JacValueError(f"{spelling}: with {len(conds)} condition(s), either {len(conds)} or {len(conds) + 1} "
                            f"functions are expected (NumPy's ValueError)", position)
    shape = tuple(x.shape)
    flags = []
    for c in conds:
        value = lowering.expression(c)
        if isinstance(value, (bool, np.bool_)) and not shape:
            flags.append(np.asarray(bool(value)))
            continue
        if not isinstance(value, Tracer) or tuple(value.shape) != shape:
            got = fmt(value.shape) if isinstance(value, Tracer) else type(value).__name__
            raise JacShapeError(f"{spelling}: each condition is a boolean array of x's shape {fmt(shape)} (got "
                                f"{got})", lowering.source.at(c))
        flags.append(np.asarray(lowering.value_of(value, lowering.source.at(c))) != 0)
    if len(pieces) == len(conds) + 1:  # NumPy's otherwise: where no condition holds
        flags.append(~np.any(np.stack(flags), axis=0) if flags else np.ones(shape, dtype=bool))
    size = int(np.prod(shape, dtype=np.int64))
    flat = b.apply("reshape", x, shape=(size,), position=position)
    parts = [b.const(np.zeros(1), position)]  # position 0 of the gathered values: NumPy's zeros where none holds
    where = np.zeros(size, dtype=np.intp)  # each element's position among the parts' values
    offset = 1
    for piece, held in zip(pieces, flags):
        chosen = np.flatnonzero(held.reshape(-1))
        fn = _piece(lowering, piece, spelling)
        if fn is None:  # a number: written where its condition holds
            number = lowering.expression(piece)
            if isinstance(number, (bool, int, float)):
                number = lowering.number(number, position)
            if not isinstance(number, Tracer) or number.ndim:
                raise JacValueError(f"{spelling}: each piece of funclist is a function or a number (a lambda, "
                                    f"np.sin, 0.0)", lowering.source.at(piece))
            value = b.apply("broadcast_to", number, shape=(len(chosen),), position=position) if len(chosen) else None
        elif len(chosen):  # NumPy calls a function only where its condition selects elements
            vals = b.apply("getitem", flat, index=(chosen,), position=position)
            if spelling.startswith("jax"):
                if kwargs:
                    raise JacValueError(f"{spelling}(..., {next(iter(kwargs))}=...): pass the functions' extra "
                                        f"arguments by position", position)
                value = mapped(lowering, fn, [vals, *extra], [0] + [None] * len(extra), 0, None, spelling,
                               position)
            else:
                value = lowering.call_value(fn, [vals, *extra], dict(kwargs), position)
            if isinstance(value, (bool, int, float)):
                value = lowering.number(value, position)
            if not isinstance(value, Tracer):
                raise JacValueError(f"{spelling}: a function of funclist returns an array or a number", position)
            try:
                value = b.apply("broadcast_to", value, shape=(len(chosen),), position=position)
            except JacShapeError:
                raise JacShapeError(f"{spelling}: a function returned shape {fmt(value.shape)} for the "
                                    f"{len(chosen)} elements its condition selects (NumPy's y[cond] = f(x[cond]))",
                                    position) from None
        else:
            value = None
        if value is not None:
            parts.append(value)
            where[chosen] = offset + np.arange(len(chosen))
            offset += len(chosen)
    joined = FUNCTIONS["concatenate"](b, [Items(parts)], {}, position) if len(parts) > 1 else parts[0]
    out = b.apply("getitem", joined, index=(where,), position=position)
    return b.apply("reshape", out, shape=shape, position=position)


def _piece(lowering, node: ast.expr, spelling: str):
    """A function of funclist (a lambda, a def, a library's function), or None for a number."""
    if isinstance(node, ast.Attribute) and lowering.module_path(node.value) is not None:
        return LibraryFunction(lowering.module_path(node.value), node.attr)
    if isinstance(node, (ast.Lambda, ast.Name)):
        value = lowering.expression(node)
        if lowering.is_callable(value):
            return value
    return None
