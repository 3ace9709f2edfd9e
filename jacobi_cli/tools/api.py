"""The Python API: the same computations as the commands, returning NumPy arrays.

>>> import numpy as np
>>> jacobian("2 * dot(x, y)", {"x": np.arange(4.0), "y": [3.0, 1.0, 2.0, 5.0]})["x"]
array([ 6.,  2.,  4., 10.])

Bindings are arrays (or anything ``np.asarray`` takes), or strings in the command-line
binding language (``"arange(4.0)"``, ``"@data.npy"``).

Each function is a few lines over a :class:`~jacobi_cli.engine.compiled.Compiled`: the
expression compiled for the input shapes, which owns the graph, plans and kernels. The
functions find it in a small cache (bounded, safe to share between threads); to hold one
yourself, as ``jax.jit`` users hold a compiled function, call :func:`compile`.
"""

from __future__ import annotations

import itertools
import math
import sys
import threading
from time import monotonic_ns

import numpy as np

from typing import TYPE_CHECKING, Literal, Mapping, Sequence, Union

from ..engine import memory
from ..engine.compiled import (UNLIMITED, Compiled, Problem, cotangent, dense, dense_fits, example, hessians,
                               interpreted_jacobian, interpreted_jvp, interpreted_value, interpreted_vjp, jacobians,
                               jvp_of, node_grads, output_problems, tangents_of, vjp_of)
from ..errors import (JacError, JacLimitError, JacNameError, JacShapeError, JacUsageError, JacValueError,
                      did_you_mean, in_api_words, speak_api, unknown_choice)
from ..ir.shapes import fmt
from ..engine.jacobian import Jacobian
from ..engine.planner import MODES, Plan
from ..ir.dtypes import c_ordered, exact_array, held_in, needs_exact
from ..ir.graph import DEFAULT_MAX_BYTES
from ..ir.work import OutOfTime, deadline, limit_now
from ..lang.bindings import (DTYPES, BindingsLike, DType, Value, check_seed, check_wrt, names_given, option_value,
                             resolve_dtype, to_bindings)
from ..lang.deep import fork_safe
from ..lang.parser import NeedsValues
from .bounded import api_timeout, out_of_time

__all__ = ["evaluate", "jacobian", "plan", "vjp", "jvp", "hessian", "diff", "compile", "Compiled",
           "prepare", "Problem", "plan_of", "hessian_plan_of", "jacobians", "dense", "cotangent", "vjp_of",
           "node_grads", "tangents_of", "jvp_of", "hessians", "check_wrt", "to_bindings", "resolve_dtype",
           "derivative", "output_problems", "prepare_batch", "example", "output_cotangents", "batch_tangents"]
CACHE_SIZE = 64
# the bytes the kept compiled functions may hold in all (their constants, a text's own parameters: see
# Compiled.held_bytes): a long-running process calling with many texts of large constants keeps the newest
# within this, not 64 of them (64 texts of a 2000 x 2000 constant held 2 GB)
CACHE_BYTES = 256 * 2**20
_ndarray = np.ndarray  # a global, not np's attribute, in the loops of a repeated call
# each dtype's descriptor, NumPy's own instance: an array of the dtype holds it (an identity test in _hit,
# cheaper than value.dtype.type's two reads); never changed
_DESCRS = {np.float64: np.dtype(np.float64), np.float32: np.dtype(np.float32)}
# a compiled function's calls as the API's functions call them: the methods themselves, without their own
# in_api_words (the function calling them gives their errors in the API's words once; a second wrapper cost a
# repeated evaluate() about 0.08 us of its 1.5)
_VALUE, _JACOBIAN, _VJP, _JVP, _HESSIAN = (getattr(Compiled, m).__wrapped__
                                           for m in ("value", "jacobian", "vjp", "jvp", "hessian"))

if TYPE_CHECKING:
    from .symbolic import Derivative

Wrt = Union[Sequence[str], None]  # the inputs to differentiate (default: every bound input)
Size = Union[int, str, None]  # a memory budget: bytes, "2G", "512M", "50%"; None: half the available memory
Seconds = Union[float, int, None]  # a time limit in seconds; None, 0 or inf: no limit


class CompiledCache:
    """The compiled functions of recent calls, least recently used dropped first: bounded,
    and safe to share between threads.

    A lookup takes no lock: the entries are a dict that is never changed once made (``put``
    replaces it by a changed copy, under the lock), and a hit stamps the entry's last use in a
    dict of its own (one store, atomic; keyed by the compiled function, whose hash is its
    identity, so the key's tuple is hashed once a hit). ``put`` drops the least recently
    stamped entries."""

    def __init__(self, size: int = CACHE_SIZE, max_bytes: int = CACHE_BYTES):
        self.size = size
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._entries: dict = {}  # replaced, never changed: read without the lock
        self._used: dict = {}  # compiled function -> the tick of its last use
        self._held: dict = {}  # compiled function -> the bytes it holds (changed under the lock only)
        self._total = 0  # their sum
        self._ticks = itertools.count()

    def get(self, key) -> Compiled | None:
        found = self._entries.get(key)
        if found is not None:
            self._used[found] = next(self._ticks)
        return found

    def put(self, key, compiled: Compiled) -> Compiled:
        """Keep ``compiled`` under ``key``; a compiled function another thread kept first wins. The least
        recently used others are dropped while there are more than ``size``, or while they hold more than
        ``max_bytes`` in all (the newest is kept even alone over it: its call's budget admitted it). One compiled
        function is put under one key (the API makes one per key): its bytes are kept by the function."""
        with self._lock:
            # the key hashed once here (a tuple's hash is not kept: ~1.5 k instructions a call's key, and the get,
            # the copy's insert and a dict keyed by it made it three): the copy's setdefault, which grows the copy
            # exactly when no compiled function is kept under the key yet
            entries = {**self._entries}
            kept = entries.setdefault(key, compiled)
            if len(entries) > len(self._entries):
                held = compiled.held_bytes()
                self._held[compiled] = held  # by the compiled function (its hash: its identity), kept under one key
                self._total += held
                if len(entries) > self.size or self._total > self.max_bytes:
                    self._evict(entries, key)
                self._entries = entries
            self._used[kept] = next(self._ticks)
            return kept

    def _evict(self, entries: dict, key) -> None:
        """Drop from ``entries`` (a copy, under the lock) the least recently used entries but ``key``'s,
        down to the size and the bytes (a method of its own: its lambda would make cells of ``put``'s
        variables)."""
        used, held = self._used, self._held
        while len(entries) > 1 and (len(entries) > self.size or self._total > self.max_bytes):
            dropped = min(entries, key=lambda k: used.get(entries[k], -1) if k != key else sys.maxsize)
            self._total -= held.pop(entries.pop(dropped))
        self._used = {c: used[c] for c in entries.values() if c in used}

    def held_bytes(self) -> int:
        """The bytes the kept compiled functions hold (see :meth:`Compiled.held_bytes`)."""
        return self._total

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries, self._used, self._held, self._total = {}, {}, {}, 0


_CACHE = CompiledCache()  # bounded and locked: the one place the API keeps anything between calls
fork_safe(_CACHE._lock)  # a fork (jac diff's bounded child) meanwhile waits for a put (lang/deep.fork_safe)


def clear_cache() -> None:
    """Forget the compiled functions of earlier calls (the only thing the API keeps)."""
    _CACHE.clear()


@in_api_words
def compile(expr: str, bindings: BindingsLike = None, dtype: DType = "float64", seed: int = 0,
            max_memory: Size = None) -> Compiled:
    """``expr`` compiled for the shapes of ``bindings`` (values, or shapes as ``":3x4"``):
    hold it and call its ``value``, ``jacobian``, ``vjp``, ``jvp`` and ``hessian`` with input
    arrays of those shapes, as ``jax.jit(f).lower(x).compile()``.

    >>> f = compile("tanh(W @ x)", {"W": ":2x3", "x": ":3"})
    >>> J = f.jacobian({"W": np.ones((2, 3)), "x": np.zeros(3)}, wrt=["x"])["x"]
    >>> J.shape, J[0].tolist()
    ((2, 3), [1.0, 1.0, 1.0])
    """
    dtype = resolve_dtype(dtype)
    limit = memory.budget(max_memory)
    shapes = to_bindings(bindings, dtype, check_seed(seed), min(limit, DEFAULT_MAX_BYTES)).shapes
    return Compiled(expr, shapes, dtype, seed, min(limit, DEFAULT_MAX_BYTES))


def _converted_env(bindings: dict, dtype, key: list) -> tuple:
    """``({name: array of dtype}, the cache key's list)`` for a dict of arrays or numbers (``key``
    holds the key's first four items, see :func:`_cache_key`), else ``(None, None)`` (the full
    path parses binding strings and reports bad values)."""
    env = {}
    for name, value in bindings.items():
        if isinstance(value, str) or type(name) is not str:  # a name of another type: not a key's item
            return None, None
        if hasattr(value, "detach") or np.ma.isMaskedArray(value):  # a tensor, a masked array: to_bindings reads them
            return None, None
        try:
            value = np.asarray(value)
        except ValueError:  # [1, [2]]: to_bindings says what is wrong
            return None, None
        if value.dtype.kind not in "biuf":
            return None, None
        if needs_exact(value.dtype):  # np.array([2**53 + 1]), a long double 0.1: refused, never rounded
            exact_array(value, f"'{name}'", np.dtype(dtype))
        # NumPy's own descriptor kept; another (a byte-swapped >f8) converted: a kernel reads it as the interpreter does
        env[name] = c_ordered(value if value.dtype is _DESCRS.get(dtype) else held_in(value, dtype))
        key.append(name)
        key += value.shape
    return env, key


def _cache_key(expr: str, dtype, seed: int, max_bytes: int, shapes: dict) -> tuple:
    """The cache's key: ``(expr, dtype, seed, max_bytes, name, *shape, name, *shape, ...)``, flat
    (names are ``str`` and sizes ints, so it reads one way only): a hit compares items that are
    mostly the same objects, where nested ``(name, shape)`` tuples were compared and hashed level
    by level. Names of another type (``{3: ...}``, which could read as a size) make the nested
    key ``(expr, dtype, seed, max_bytes, ((name, shape), ...))``, equal to no flat one."""
    if not all(type(name) is str for name in shapes):
        return expr, dtype, seed, max_bytes, tuple((name, tuple(shape)) for name, shape in shapes.items())
    key = [expr, dtype, seed, max_bytes]
    for name, shape in shapes.items():
        key.append(name)
        key += shape
    return tuple(key)


def _hit(expr: str, bindings: dict, dtype, seed, max_bytes: int):
    """A repeated call's lookup of a dict of arrays of the dtype, the one copy of the cache key's loop
    (:func:`jacobian`, :func:`vjp` and :func:`_compiled` call it): the compiled function kept under the key
    (stamped, as :meth:`CompiledCache.get` stamps it); the key (:func:`_cache_key`'s) when none is, which a
    miss passes on to :func:`_compiled`; None when a value is no ndarray of the dtype's own descriptor or a
    name no str, or an array not in C order (``_compiled`` converts them, or the full path reads them). A dtype instance that is not
    NumPy's own (byte-swapped ``>f8``, one with metadata) is no hit here: ``_compiled`` keeps the array, and a
    kernel's typed check hands it to the interpreter, as before."""
    descr = _DESCRS.get(dtype)
    key = [expr, dtype, seed, max_bytes]
    for name in bindings:  # a name, then its value: a dict's items view and their tuples cost more
        value = bindings[name]
        if type(value) is not _ndarray or value.dtype is not descr or type(name) is not str \
                or not value.flags.c_contiguous:  # A.T, A[:, 0]: _compiled's _converted_env lays it out in C order
            return None
        key.append(name)
        key += value.shape
    key = tuple(key)
    found = _CACHE._entries.get(key)
    if found is None:
        return key
    _CACHE._used[found] = next(_CACHE._ticks)
    return found


def _shapes_of(values: dict, names) -> dict:
    """``{name: the shape of its value}`` (a function of its own: a comprehension in :func:`_compiled`
    would make a cell of its ``values`` at each call)."""
    return {n: np.shape(values[n]) for n in names}


def _compiled(expr: str, bindings, dtype, seed: int, max_bytes: int, wrt=None, missed=None) -> tuple:
    """``(compiled function, input arrays)`` for a call: from the cache when the shapes were
    seen, else the bindings are parsed and checked and the expression compiled, its graph's
    flags set for the call's ``wrt`` (``Compiled``'s). ``missed``: the key jacobian() or vjp() made of
    ``bindings`` (a dict of arrays of the dtype, :func:`_hit`) and found nothing under, not made again."""
    env = None
    if missed is not None:  # jacobian()'s and vjp()'s own lookup missed: these arrays, that key
        env, key = bindings, missed
    elif type(bindings) is dict:  # a repeated call's common case: a dict of arrays or numbers
        found = _hit(expr, bindings, dtype, seed, max_bytes)
        if type(found) is Compiled:
            return found, found.with_declared(bindings) if found.declared else bindings
        if found is not None:  # arrays of the dtype: the dict is its own env, nothing copied, nothing kept past the call
            env, key = bindings, found
        else:
            env, key = _converted_env(bindings, dtype, [expr, dtype, seed, max_bytes])
            if env is not None:  # CompiledCache.get, inline
                key = tuple(key)
                found = _CACHE._entries.get(key)
                if found is not None:
                    _CACHE._used[found] = next(_CACHE._ticks)
                    return found, found.with_declared(env) if found.declared else env
    if env is not None and env is bindings:  # arrays of the dtype: what to_bindings and realize give (no copy)
        values, shapes = env, {}
        for name, value in env.items():  # a loop, not a comprehension (a function made and called at each call)
            shapes[name] = value.shape
        if type(seed) is int and seed >= 0:  # check_seed gives it back: the key just looked up is _cache_key's
            found = None  # (a compiled function another thread keeps meanwhile wins in put)
        else:
            seed = check_seed(seed)
            key = _cache_key(expr, dtype, seed, max_bytes, shapes)
            found = _CACHE.get(key)
    else:
        seed = check_seed(seed)
        bound = to_bindings(bindings, dtype, seed, max_bytes).realize(dtype, seed, max_bytes)
        values, shapes = bound.values, bound.shapes
        key = _cache_key(expr, dtype, seed, max_bytes, _shapes_of(values, shapes))
        found = _CACHE.get(key)
    if found is None:
        try:
            found = _CACHE.put(key, Compiled(expr, shapes, dtype, seed, max_bytes, checked=False, wrt=wrt))
        except NeedsValues:  # x[x > 0]: compiled for these values only, never kept
            found = Compiled(expr, shapes, dtype, seed, max_bytes, values=values, checked=False, wrt=wrt)
            return found, found.with_declared(values)
    return found, found.with_declared(values) if found.declared else values


def prepare(expr: str, bindings=None, wrt=None, dtype="float64", seed: int = 0,
            max_bytes: int = DEFAULT_MAX_BYTES, several: bool = False, budget: int | None = None,
            product: tuple | None = None) -> Problem:
    """Parse, bind and evaluate: the common first step of every computing command.

    The compiled function for the expression and input shapes is cached, so calling again
    with new values of the same shapes only evaluates. ``max_bytes`` caps each array and the
    inputs in total; the forward values must fit ``budget`` (default: the default budget)
    before they are computed. An expression that ends in a tuple of several outputs is
    refused unless the caller handles them (``several``, then :func:`output_problems`).
    ``product`` (``("vjp", None)``, ``("jvp", names)``): the values and that pass must fit
    ``budget`` together (:meth:`Compiled.product_plan`).
    """
    dtype = resolve_dtype(dtype)
    compiled, env = _compiled(expr, bindings, dtype, seed, max_bytes, wrt)
    return compiled.bind(env, wrt, several, budget, product)


def prepare_batch(expr: str, bindings, batch, wrt=None, dtype="float64", seed: int = 0,
                  max_bytes: int = DEFAULT_MAX_BYTES, several: bool = False, budget: int | None = None,
                  product: tuple | None = None) -> tuple:
    """``(problem of example 0, Batch, split inputs)`` for ``--batch`` specs (``["x", "W:1"]``):
    compiled and planned once for the shapes of one example; :func:`example` gives the others
    (see :mod:`jacobi_cli.engine.batching`)."""
    from ..engine import batching

    dtype = resolve_dtype(dtype)
    seed = check_seed(seed)
    bound = to_bindings(bindings, dtype, seed, max_bytes).realize(dtype, seed, max_bytes)
    found = batching.batch_of(bound.shapes, batching.parse_specs(batch), expr)
    if found.size == 0:
        raise JacShapeError(f"the batch is empty (size 0 along {', '.join(found.axes)}): there is no example to compute")
    split = found.split(bound.values)
    one = found.example(split, 0)
    try:
        compiled, env = _compiled(expr, one, dtype, seed, max_bytes, wrt)
        try:
            problem = compiled.bind(env, wrt, several, budget, product)
        except JacValueError as err:  # a value of example 0 refused (a matrix not positive definite)
            raise found.in_example(err, 0) from None
    except JacShapeError as err:  # x.sum(dim=1) of a batch of vectors: the shapes seen are one example's
        seen = ", ".join(f"{name} {fmt(np.shape(one[name]))}" for name in found.axes)
        err.reword(f"{err.message} (with --batch, the expression is written for one example: it sees {seen})")
        raise
    if problem.graph.by_value:  # built for example 0's values: the others may select other elements
        raise JacValueError("the expression reads its inputs' values here (a mask such as x[x > 0], an if / while "
                            "test of their values, an index or integer taken from them (an index bound as an input: "
                            "write its values into the text), a Cholesky factor checked triangular), so it cannot take --batch: each example may take its own branch or select "
                            "its own elements, with results of other shapes or formulas; call it once per example, "
                            "or keep one formula (where(mask, x, 0) chooses element by element)",
                            problem.graph.by_value[0], expr)
    return problem, found, split


def plan_of(problem: Problem, mode: str = "auto", budget: int | None = None):
    """How the Jacobians of ``problem`` will be computed (see :mod:`jacobi_cli.engine.planner`)."""
    return problem.compiled.plan_of(problem, mode, budget)


def hessian_plan_of(problem: Problem, budget: int | None = None):
    """How the Hessian of ``problem`` will be computed (see :class:`~jacobi_cli.engine.planner.HessianPlan`)."""
    return problem.compiled.hessian_plan_of(problem, budget)


# --- the public one-call functions -------------------------------------------------------
#
# Each is one command: the same parsing, bindings, --wrt, --dtype and --seed, the same
# errors (JacError subclasses, which the commands turn into exit 2), NumPy arrays back.

def evaluate(expr: str, bindings: BindingsLike = None, dtype: DType = "float64", seed: int = 0,
             timeout: Seconds = None) -> np.ndarray:
    """The value of ``expr`` (``output.value`` of ``jac eval``).

    >>> evaluate("x * y", {"x": [1.0, 2.0], "y": "[3, 4]"})
    array([3., 8.])

    ``timeout``: seconds the call may take (None, 0: no limit), in any thread: past it,
    :class:`~jacobi_cli.errors.JacLimitError` (see :func:`jacobian`).
    """
    try:  # not @in_api_words: its frame would cost a repeated call (errors.in_api_words)
        dtype = resolve_dtype(dtype)
        if timeout is not None:
            return _within(api_timeout(timeout), "evaluate()", _evaluated, expr, bindings, dtype, seed)
        compiled, env = _compiled(expr, bindings, dtype, seed, DEFAULT_MAX_BYTES)
        return _VALUE(compiled, env)
    except JacError as err:
        speak_api(err)
        raise


def jacobian(expr: str, bindings: BindingsLike = None, wrt: Wrt = None, dtype: DType = "float64", seed: int = 0,
             layout: Literal["array", "numerator"] = "array", mode: Literal["auto", "forward", "reverse"] = "auto",
             max_memory: Size = None, structured: bool = False,
             batch: Sequence[str] | None = None, timeout: Seconds = None) -> dict[str, Union[np.ndarray, Jacobian]]:
    """``{name: dy/dx}`` for every input in ``wrt`` (default: all), as ``jac eval``.

    An expression that ends in a tuple of several outputs gives ``{output: {name: dy/dx}}``
    (as ``jax.jacrev`` of a function returning a tuple). ``batch`` (``["x"]``, ``["x:1"]``)
    marks batch axes as ``torch.func.vmap``'s ``in_dims``: each block is then ``(B, *y, *x)``,
    per example (an input not batched is shared: per-example gradients of weights):

    >>> J = jacobian("a = x * 2; a, sum(x)", {"x": [1.0, 2.0]})
    >>> J["a"]["x"].tolist(), J["y1"]["x"].tolist()
    ([[2.0, 0.0], [0.0, 2.0]], [1.0, 1.0])
    >>> jacobian("w * x", {"x": [[1.0], [2.0], [3.0]], "w": 2.0}, batch=["x"])["w"].ravel().tolist()
    [1.0, 2.0, 3.0]

    The ``array`` layout is ``y.shape + x.shape`` (as ``torch.autograd.functional.jacobian``
    and ``jax.jacrev``); ``layout="numerator"`` gives the ``math_shape`` of the table.

    >>> J = jacobian("A @ x", {"A": [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], "x": [1.0, 1.0]})
    >>> J["x"].shape, J["A"].shape, jacobian("sum(X)", {"X": ":3x2"}, layout="numerator")["X"].shape
    ((3, 2), (3, 3, 2), (2, 3))

    ``mode`` is ``"auto"`` (per input, the cheaper of forward and reverse), ``"forward"`` or
    ``"reverse"``; ``max_memory`` the budget (bytes or ``"2G"``; default half the available
    memory): passes are chunked to fit it, and a result that cannot fit raises
    :class:`~jacobi_cli.errors.JacLimitError` before anything is allocated. With
    ``structured=True`` the values are :class:`~jacobi_cli.engine.jacobian.Jacobian` objects that
    keep their structure (``.structure``, ``.to_array(layout)``, ``np.asarray(J)``):

    >>> J = jacobian("sin(x) * x**2", {"x": [1.0, 2.0, 3.0]}, structured=True)["x"]
    >>> J.structure, J.diagonal().round(3).tolist()
    ('diagonal', [2.223, 1.973, -8.063])

    ``timeout`` is the seconds the call may take (None, 0 or inf: no limit), as ``--timeout``: past
    it, :class:`~jacobi_cli.errors.JacLimitError` saying what was running. It works in any thread (a
    deadline of this call alone, checked between the ops of every pass, never a signal), and a pass
    whose products could not fit the time left is refused before it runs. A call with a limit runs
    the interpreter, never a compiled kernel (which nothing can stop midway).
    """
    try:  # not @in_api_words: its frame would cost a repeated call (errors.in_api_words)
        if wrt is not None and type(wrt) is not list:  # wrt="x": the input x, never its letters
            wrt = names_given(wrt)
        if batch is not None and type(batch) is not list:
            batch = names_given(batch, "--batch")
        if structured is not False and structured is not True:  # structured="no" is truthy: refused, not taken
            raise JacUsageError(f"structured= is True or False, not {structured!r}")
        if layout != "array" and layout != "numerator":
            raise unknown_choice("layout=", layout, ("array", "numerator"), JacValueError)
        if mode != "auto" and mode != "forward" and mode != "reverse":
            raise unknown_choice("mode=", mode, MODES)
        # memory.default_budget() (whole seconds without int()), resolve_dtype(dtype), min(): inline for a repeated call
        limit = memory.budget_in_second(monotonic_ns() // 1_000_000_000) if max_memory is None else \
            memory.budget(max_memory)
        dtype = DTYPES[dtype] if type(dtype) is str and dtype in DTYPES else resolve_dtype(dtype)
        if timeout is not None:
            return _within(api_timeout(timeout), "jacobian()", _jacobian_limited, expr, bindings, wrt, dtype, seed,
                           layout, mode, limit, structured, batch)
        if batch:
            return _batched_jacobian(expr, bindings, batch, wrt, dtype, seed, layout, mode, limit)
        max_bytes = limit if limit < DEFAULT_MAX_BYTES else DEFAULT_MAX_BYTES
        missed = None
        if type(bindings) is dict:  # _compiled's lookup, without its frame and its answer's tuple (~1 k a call)
            missed = _hit(expr, bindings, dtype, seed, max_bytes)
            if type(missed) is Compiled:
                return _JACOBIAN(missed, missed.with_declared(bindings) if missed.declared else bindings, wrt, mode,
                                 limit, structured, layout)
        compiled, env = _compiled(expr, bindings, dtype, seed, max_bytes, wrt, missed)
        return _JACOBIAN(compiled, env, wrt, mode, limit, structured, layout)
    except JacError as err:
        speak_api(err)
        raise


@in_api_words
def plan(expr: str, bindings: BindingsLike = None, wrt: Wrt = None, dtype: DType = "float64", seed: int = 0,
         mode: Literal["auto", "forward", "reverse"] = "auto", max_memory: Size = None) -> Plan:
    """The plan :func:`jacobian` would follow: mode, chunks, structure and predicted memory per input,
    and whether calls repeated with these shapes run a compiled kernel (``plan.kernel``, the
    ``kernel:`` line of ``explain()``).

    >>> print("\\n".join(plan("tanh(A @ x)", {"A": "eye(3)", "x": "ones(3)"}, wrt=["x"]).explain()[:2]))
    ... # doctest: +ELLIPSIS
    plan (--mode auto): output (3,), 3 elements
      x (3,): ... mode, 1 pass of 3 basis vectors; structure dense, ...
    """
    if mode not in MODES:
        raise unknown_choice("mode=", mode, MODES)
    wrt = names_given(wrt)
    limit = memory.budget(max_memory)
    problem = prepare(expr, bindings, wrt, dtype, seed, max_bytes=min(limit, DEFAULT_MAX_BYTES))
    return problem.compiled.explained(problem, problem.compiled.plan_of(problem, mode, limit))


def vjp(expr: str, bindings: BindingsLike = None, v: Value | None = None, wrt: Wrt = None, dtype: DType = "float64",
        seed: int = 0, max_memory: Size = None, timeout: Seconds = None,
        batch: Sequence[str] | None = None) -> dict[str, np.ndarray]:
    """``{name: x.grad}`` after ``y.backward(gradient=v)``, as ``jac vjp``: each shaped like its input.

    ``v`` is shaped like the output, or ``"ones"``; it may be omitted only for a one-element
    output (otherwise :class:`~jacobi_cli.errors.JacValueError`, as PyTorch refuses). With
    several outputs ``v`` is ``{output: v}``, as ``torch.autograd.backward([outs], [vs])``.

    >>> vjp("x * y", {"x": [1.0, 2.0], "y": [3.0, 4.0]}, v=[2.0, 3.0])["x"]
    array([ 6., 12.])

    ``max_memory`` is the budget, as for :func:`jacobian`: the forward values and the pass
    (planned from the shapes by a dry run) must fit it, or :class:`~jacobi_cli.errors.JacLimitError`
    is raised before they are computed. ``timeout``: seconds, as for :func:`jacobian`. ``batch``: as for
    :func:`jacobian` (:func:`_batched_command`); ``v`` then carries the output's batch axis first (or is
    ``"ones"``), and each gradient is ``(B, *x)`` for a batched input, per example for a shared one.
    """
    try:  # not @in_api_words: its frame would cost a repeated call (errors.in_api_words)
        if batch:
            return _batched_command("vjp", expr, bindings, dtype, seed, max_memory, timeout, batch, v=v, wrt=wrt)
        # memory.default_budget() (whole seconds without int()), resolve_dtype(dtype), min(): inline for a repeated call
        limit = memory.budget_in_second(monotonic_ns() // 1_000_000_000) if max_memory is None else \
            memory.budget(max_memory)
        dtype = DTYPES[dtype] if type(dtype) is str and dtype in DTYPES else resolve_dtype(dtype)
        max_bytes = limit if limit < DEFAULT_MAX_BYTES else DEFAULT_MAX_BYTES
        if wrt is not None and type(wrt) is not list:
            wrt = names_given(wrt)
        if timeout is not None:
            return _within(api_timeout(timeout), "vjp()", _vjp_limited, expr, bindings, v, wrt, dtype, seed, max_bytes,
                           limit)
        missed = None
        if type(bindings) is dict:  # _compiled's lookup, as jacobian() makes it
            missed = _hit(expr, bindings, dtype, seed, max_bytes)
            if type(missed) is Compiled:
                return _VJP(missed, missed.with_declared(bindings) if missed.declared else bindings, v, wrt, limit)
        compiled, env = _compiled(expr, bindings, dtype, seed, max_bytes, wrt, missed)
        return _VJP(compiled, env, v, wrt, limit)
    except JacError as err:
        speak_api(err)
        raise


def jvp(expr: str, bindings: BindingsLike = None, tangents: Mapping[str, Value] | None = None, dtype: DType = "float64",
        seed: int = 0, max_memory: Size = None, timeout: Seconds = None,
        batch: Sequence[str] | None = None) -> np.ndarray:
    """J·t, shaped like the output, for ``tangents = {name: t}`` (inputs not named get none), as ``jac jvp``.

    >>> jvp("sin(x) * y", {"x": [0.0, 1.0], "y": [2.0, 3.0]}, {"x": [1.0, 0.0]})
    array([2., 0.])

    ``max_memory``: the budget, checked as :func:`vjp` checks it; ``timeout``: seconds, as for :func:`jacobian`.
    ``batch``: as for :func:`jacobian` (:func:`_batched_command`); a tangent of a batched input then carries its
    batch axis first, and J·t is ``(B, *y)``.
    """
    try:  # not @in_api_words: its frame would cost a repeated call (errors.in_api_words)
        if batch:
            return _batched_command("jvp", expr, bindings, dtype, seed, max_memory, timeout, batch, tangents=tangents)
        limit = memory.budget(max_memory)
        dtype = resolve_dtype(dtype)
        if timeout is not None:
            return _within(api_timeout(timeout), "jvp()", _jvp_limited, expr, bindings, tangents, dtype, seed, limit)
        compiled, env = _compiled(expr, bindings, dtype, seed, min(limit, DEFAULT_MAX_BYTES))
        return _JVP(compiled, env, tangents, limit)
    except JacError as err:
        speak_api(err)
        raise


def hessian(expr: str, bindings: BindingsLike = None, wrt: Wrt = None, dtype: DType = "float64", seed: int = 0,
            max_memory: Size = None, timeout: Seconds = None, batch: Sequence[str] | None = None) -> dict:
    """``{(a, b): d²y / da db}`` with shape ``y.shape + a.shape + b.shape``, as ``jac hessian``.

    >>> hessian("x @ A @ x", {"x": [1.0, 2.0], "A": [[1.0, 2.0], [3.0, 4.0]]}, wrt=["x"])[("x", "x")]
    array([[2., 5.],
           [5., 8.]])

    ``max_memory`` is the budget, as for :func:`jacobian` (bytes or ``"2G"``; default half the
    available memory): the passes over an input's basis are chunked to fit it, and blocks that
    cannot fit raise :class:`~jacobi_cli.errors.JacLimitError` before anything is allocated.
    ``timeout``: seconds, as for :func:`jacobian`. ``batch``: as for :func:`jacobian` (:func:`_batched_command`);
    each block is then ``(B, *y, *a, *b)``, ``a`` and ``b`` one example's shapes of batched inputs.
    """
    try:  # not @in_api_words: its frame would cost a repeated call (errors.in_api_words)
        if batch:
            return _batched_command("hessian", expr, bindings, dtype, seed, max_memory, timeout, batch, wrt=wrt)
        limit = memory.budget(max_memory)
        dtype = resolve_dtype(dtype)
        wrt = names_given(wrt)
        if timeout is not None:
            return _within(api_timeout(timeout), "hessian()", _hessian_limited, expr, bindings, wrt, dtype, seed, limit)
        compiled, env = _compiled(expr, bindings, dtype, seed, min(limit, DEFAULT_MAX_BYTES), wrt)
        return _HESSIAN(compiled, env, wrt, limit)
    except JacError as err:
        speak_api(err)
        raise


def _batched_command(command: str, expr: str, bindings, dtype, seed: int, max_memory, timeout, batch, **given):
    """:func:`vjp`, :func:`jvp`, :func:`hessian` or :func:`derivative` (``command``) with ``batch=``: as the command
    line's ``--batch`` computes it (``tools/report`` formats what the same loops give: :func:`stacked_vjp`,
    :func:`stacked_jvp`, :func:`stacked_hessians`, :func:`stacked_derivatives`), parsed and planned once, every
    example in turn, stacked batch axis first, the stacks counted against the budget before example 1. Several
    outputs give ``{output: ...}`` as without a batch."""
    if type(batch) is not list:
        batch = names_given(batch, "--batch")
    wrt = names_given(given["wrt"]) if given.get("wrt") is not None else None
    limit = memory.budget(max_memory)
    dtype = resolve_dtype(dtype)

    def run():
        product = {"vjp": ("vjp", None), "jvp": ("jvp", tuple(given.get("tangents") or ()))}.get(command)
        problem, found, split = prepare_batch(expr, bindings, batch, wrt, dtype, seed, min(limit, DEFAULT_MAX_BYTES),
                                              several=True, budget=limit, product=product)
        units = output_problems(problem)
        if command == "vjp":
            if problem.compiled.made.gradient is not None:
                raise JacUsageError("batch= with the text's y.backward(gradient=V): give each example's v with v= (its "
                                    "batch axis first) and write y.backward() in the text")
            stacked_fits(problem, found, limit, "vjp")
            v = given["v"]
            v = np.asarray(v, dtype=np.float64) if isinstance(v, (list, tuple)) else v  # one value, not --v options
            stack = stacked_vjp(problem, found, split, output_cotangents(units, v, found, "y"))
            return {name: stack[("grad", name)] for name in problem.wrt}
        if command == "jvp":
            stacked_fits(problem, found, limit, "jvp", tuple(given["tangents"] or ()))
            stack = stacked_jvp(problem, found, split, batch_tangents(problem, given["tangents"], found))
            out = {o: stack[("jvp", o)] for o, _ in units}
        elif command == "hessian":
            plans = {o: hessian_plan_of(p, limit) for o, p in units}
            refuse_unfit(batch_jacobian_plan(plans, found, limit, units, False))
            stack = stacked_hessians(problem, found, split, plans)
            out = {o: {(a, c): stack[(o, (a, c))] for a in problem.wrt for c in problem.wrt} for o, _ in units}
        else:
            name = derivative_input(problem)
            plans = {o: derivative_plan(p, name, given["order"], limit) for o, p in units}  # checked by derivative()
            refuse_unfit(batch_jacobian_plan(plans, found, limit, units, False))
            stack = stacked_derivatives(problem, found, split, plans)
            out = {o: stack[(o, "d")] for o, _ in units}
        return out[None] if None in out else out

    return _within(api_timeout(timeout) if timeout is not None else None, f"{command}()", run)


def refuse_unfit(plan) -> None:
    """Raise a plan's refusal (a :class:`~jacobi_cli.engine.batching.BatchPlan` over the budget)."""
    if plan.refusal:
        raise JacLimitError(plan.refusal)


def each_example(problem: Problem, batch, split, watch=None):
    """Each example's problem, in order (only ``problem`` without a batch); ``watch`` (a
    :class:`~jacobi_cli.engine.conditioning.Watch`) keeps what each gives the watched nodes."""
    for b in range(batch.size if batch else 1):
        one = problem if b == 0 else example(problem, batch, split, b)
        if watch:
            watch.add(one.values)
        yield one


def stacked_fits(problem: Problem, batch, budget: int, kind: str, names=None) -> None:
    """A batch holds its results (outputs and gradients or tangents) stacked for every example beside one
    example's pass: refuse before the first if :func:`stacked_need` does not fit ``budget`` (one example's values
    and pass were checked by :func:`prepare_batch`)."""
    if batch is None:
        return
    from ..engine import planner

    plan = problem.compiled.product_plan(problem.wrt, kind, names)  # the one prepare_batch checked: kept
    held = stacked_need(problem, batch, kind, names) - plan.peak_bytes
    planner.check_product(plan, budget, f"jac {kind} --batch", held, batch.size)


def stacked_vjp(problem: Problem, batch, split, cot: dict, watch=None):
    """``jac vjp``'s results per example (``batch`` None: the one problem), as a
    :class:`~jacobi_cli.engine.batching.Stacked`: ``(o,)`` each output's value, ``("grad", name)`` each gradient of
    ``torch.autograd.backward([outs], [cot[o]])`` (``cot`` from :func:`output_cotangents`, the batch axis first);
    a lone output's examples after the first run a compiled kernel checked against the first."""
    from ..engine import autodiff
    from ..engine.batching import Stacked

    stack, fast = Stacked(batch.size if batch else None), None
    for b, one in enumerate(each_example(problem, batch, split, watch)):
        seeds = {}
        for o, p in output_problems(one):
            stack.put((o,), b, p.output)
            vb, key = (cot[o][b] if batch else cot[o])[None], p.graph.output
            seeds[key] = vb if key not in seeds else seeds[key] + vb  # one node listed twice (x, x): they add
        grads = fast(one.env, cot[None][b]) if fast is not None else None  # a checked kernel
        if grads is None:
            grads = {n: g[0] for n, g in autodiff.vjp_read(one.graph, one.values, seeds).items()}
            if b == 0 and batch is not None and None in cot:
                fast = example_vjp_kernel(one, cot[None][0], {n: np.asarray(grads[n]) for n in problem.wrt})
        for name in problem.wrt:
            stack.put(("grad", name), b, np.asarray(grads[name]))
    return stack


def stacked_jvp(problem: Problem, batch, split, given: dict, watch=None):
    """``jac jvp``'s results per example: ``(o,)`` each output's value, ``("jvp", o)`` its J·t for ``given``
    (``{name: (tangent, per_example)}``, :func:`batch_tangents`)."""
    from ..engine import autodiff
    from ..engine.batching import Stacked

    ids = {o: p.graph.output for o, p in output_problems(problem)}
    stack = Stacked(batch.size if batch else None)
    for b, one in enumerate(each_example(problem, batch, split, watch)):
        t_b = tangents_of(one, {n: t[b] if per else t for n, (t, per) in given.items()})
        if t_b:
            found = autodiff.jvp_read(one.graph, one.values, {n: t[None] for n, t in t_b.items()},
                                 outputs=list(dict.fromkeys(ids.values())))
        for o, i in ids.items():
            stack.put((o,), b, np.asarray(one.values[i], dtype=one.graph.dtype))
            shape = tuple(one.graph.nodes[i].shape)
            stack.put(("jvp", o), b, np.asarray(found[i][0]) if t_b else np.zeros(shape, one.graph.dtype))
    return stack


def stacked_hessians(problem: Problem, batch, split, plans: dict, watch=None):
    """``jac hessian``'s results per example: ``(o,)`` each output's value, ``(o, (a, b))`` its blocks, by
    ``plans`` (:func:`hessian_plan_of` per output)."""
    from ..engine.batching import Stacked

    stack = Stacked(batch.size if batch else None)
    for b, one in enumerate(each_example(problem, batch, split, watch)):
        for o, p in output_problems(one):
            stack.put((o,), b, p.output)
            for pair, h in hessians(p, plans[o]).items():
                stack.put((o, pair), b, h)
    return stack


def stacked_derivatives(problem: Problem, batch, split, plans: dict, watch=None):
    """``jac derivative``'s results per example: ``(o,)`` each output's value, ``(o, "d")`` its derivative by
    ``plans`` (:func:`derivative_plan` per output)."""
    from ..engine import higher
    from ..engine.batching import Stacked

    stack = Stacked(batch.size if batch else None)
    for b, one in enumerate(each_example(problem, batch, split, watch)):
        for o, p in output_problems(one):
            stack.put((o,), b, p.output)
            stack.put((o, "d"), b, higher.run(plans[o], p.env))
    return stack


# --- calls under a time limit (timeout=) ---------------------------------------------------------

def _within(seconds: float | None, what: str, call, *args):
    """``call(*args)`` under a limit of ``seconds`` (None: none) in this thread (``ir/work.deadline``: the
    passes check it between their ops and chunks), its end a ``limit`` error naming ``what`` and what was
    running. ``call`` runs the interpreter (``engine/compiled.interpreted_*``) under a limit, the usual path
    without one (timeout=0)."""
    if seconds is None:
        return call(*args)
    with deadline(seconds, seconds):
        try:
            return call(*args)
        except OutOfTime as stopped:
            raise out_of_time(what, seconds, stopped.phase) from None


def _evaluated(expr, bindings, dtype, seed):
    compiled, env = _compiled(expr, bindings, dtype, seed, DEFAULT_MAX_BYTES)
    return interpreted_value(compiled, env) if limit_now() is not None else _VALUE(compiled, env)


def _jacobian_limited(expr, bindings, wrt, dtype, seed, layout, mode, limit, structured, batch):
    if batch:
        return _batched_jacobian(expr, bindings, batch, wrt, dtype, seed, layout, mode, limit)
    compiled, env = _compiled(expr, bindings, dtype, seed, min(limit, DEFAULT_MAX_BYTES), wrt)
    if limit_now() is None:
        return _JACOBIAN(compiled, env, wrt, mode, limit, structured, layout)
    return interpreted_jacobian(compiled, env, wrt, mode, limit, structured, layout)


def _vjp_limited(expr, bindings, v, wrt, dtype, seed, max_bytes, limit):
    compiled, env = _compiled(expr, bindings, dtype, seed, max_bytes, wrt)
    return interpreted_vjp(compiled, env, v, wrt, limit) if limit_now() is not None else \
        _VJP(compiled, env, v, wrt, limit)


def _jvp_limited(expr, bindings, tangents, dtype, seed, limit):
    compiled, env = _compiled(expr, bindings, dtype, seed, min(limit, DEFAULT_MAX_BYTES))
    return interpreted_jvp(compiled, env, tangents, limit) if limit_now() is not None else \
        _JVP(compiled, env, tangents, limit)


def _hessian_limited(expr, bindings, wrt, dtype, seed, limit):
    compiled, env = _compiled(expr, bindings, dtype, seed, min(limit, DEFAULT_MAX_BYTES), wrt)
    return _HESSIAN(compiled, env, wrt, limit)  # no kernel: its passes check the limit themselves


# --- several outputs, batches, any order (issue 14) -------------------------------------------

def output_cotangents(units: list, v, batch=None, name: str = "y") -> dict:
    """``{output: v}`` for ``y.backward`` of several outputs or of a batch (``units`` from
    :func:`output_problems`). ``v``: None, or the ``--v`` strings: one VALUE for a lone output,
    ``OUT=VALUE`` per output when there are several (the outputs left out get zeros, as
    ``torch.autograd.backward([outs], [vs])`` counts a tensor it is not given). Without any
    ``--v`` every output must have one element (each gets 1); ``--v ones`` alone is ones for all. With a batch, each v carries
    the batch axis first: ``(B, *y.shape)``. ``name`` is what messages call a lone output (each of
    several is called by its own name)."""
    shapes = {o: tuple(p.graph.output_shape) for o, p in units}
    dtype = units[0][1].graph.dtype
    lead = (batch.size,) if batch else ()
    if isinstance(v, Mapping):  # the API's {output: v} (vjp(..., batch=)), as compiled.vjp_several reads it
        if units[0][0] is None:
            raise JacValueError("the expression has one output: v is its value (or \"ones\"), not a dict")
        unknown = [o for o in v if o not in shapes]
        if unknown:
            raise JacNameError(f"v names no output {unknown[0]!r} (outputs: {', '.join(shapes)})")
        return {o: _one_cotangent(dict(units)[o], v[o], batch, f"v[{o!r}]", o) if o in v else
                np.zeros(lead + shapes[o], dtype=dtype) for o in shapes}
    if isinstance(v, np.ndarray) and units[0][0] is not None:
        raise JacValueError(f"with several outputs ({', '.join(shapes)}), v is a dict {{output: v}}")
    items = [] if v is None else [v] if isinstance(v, (str, np.ndarray)) else list(v)
    if units[0][0] is None:  # one output
        if len(items) > 1:
            raise JacUsageError("--v is given more than once, but the expression has one output")
        return {None: _one_cotangent(units[0][1], items[0] if items else None, batch, name=name)}
    if not items:
        wide = [o for o, shape in shapes.items() if size_of(shape) != 1]
        if wide:
            each = f" per example, so it needs a vector: pass --v {wide[0]}=VALUE of shape " \
                f"{fmt(lead + shapes[wide[0]])}, the batch axis first" if batch else \
                f", so it needs a vector: pass --v {wide[0]}=VALUE"
            raise JacValueError(f"output {wide[0]} has shape {fmt(shapes[wide[0]])}{each} (outputs left out count as "
                                "zero). PyTorch says: grad can be implicitly created only for scalar outputs")
        return {o: np.ones(lead + shape, dtype=dtype) for o, shape in shapes.items()}
    if len(items) == 1 and str(items[0]).strip() == "ones":  # the shorthand: every output's v is ones
        if "ones" in shapes:  # an output named ones: "ones for all" or "output ones" (its VALUE left out)?
            others = " ".join(f"--v {o}=ones" for o in shapes if o != "ones")
            raise JacUsageError(f"--v ones is ambiguous here: an output is named ones. For all ones give each output "
                                f"its v (--v ones=ones {others}); for the output ones alone, --v ones=ones (the "
                                f"others count as zero)")
        return {o: np.ones(lead + shape, dtype=dtype) for o, shape in shapes.items()}
    found = {}
    for item in items:
        name, sep, text = str(item).partition("=")
        name = name.strip()
        if not sep or name not in shapes:
            positional = len(items) == len(shapes) and not any(str(i).partition("=")[0].strip() in shapes for i in items)
            order = (" (in the outputs' order, as torch.autograd.backward([outs], [vs]) pairs them: "
                     + " ".join(f"--v {_shell_word(f'{o}={str(i).strip()}')}" for o, i in zip(shapes, items)) + ")"
                     ) if positional else ""
            raise JacUsageError(f"--v {item}: with several outputs each --v is OUT=VALUE, OUT one of "
                                f"{', '.join(shapes)}{order}")
        if name in found:
            raise JacUsageError(f"--v {name}= is given twice")
        found[name] = _one_cotangent(dict(units)[name], text, batch, f"--v {name}", name)
    return {o: found[o] if o in found else np.zeros(lead + shapes[o], dtype=dtype) for o in shapes}


def _shell_word(text: str) -> str:
    """``text`` as one shell word, quoted only where it must be (``y0='[1, 1]'`` stays copyable)."""
    import shlex

    return shlex.quote(text)


def _one_cotangent(problem: Problem, v, batch, what: str = "v", name: str = "y") -> np.ndarray:
    if batch is None:
        return cotangent(problem, v, name, "--v" if what == "v" else what)
    from ..engine.batching import per_example

    y_shape = tuple(problem.graph.output_shape)
    dtype = problem.graph.dtype
    if v is None and size_of(y_shape) != 1:  # cotangent's refusal, with the batch's shape of v
        raise JacValueError(f"the output {name} has shape {fmt(y_shape)} per example, so a vector v is needed: pass "
                            f"--v VALUE of shape {fmt((batch.size,) + y_shape)}, the batch axis first (or --v ones)."
                            " PyTorch says: grad can be implicitly created only for scalar outputs")
    if v is None or (isinstance(v, str) and v.strip() == "ones"):
        return np.ones((batch.size,) + y_shape, dtype=dtype)
    if isinstance(v, str):
        v = option_value("--v" if what == "v" else what, v, dtype, (batch.size,) + y_shape)
    return per_example(np.asarray(v, dtype=dtype), batch, None, y_shape, what)


def batch_tangents(problem: Problem, tangents: dict, batch) -> dict:
    """``--tangent`` values under ``--batch``: ``{name: (array, per_example)}``: ``(B, *x)``
    per example for a batched input (given with its batch axis where the input has it), and
    for a shared input either its own shape (the same tangent for every example, ``per_example``
    False) or ``(B, *x)``."""
    from ..engine.batching import per_example

    g = problem.graph
    out = {}
    for name, t in tangents.items():
        if name not in g.inputs:
            raise JacNameError(f"--tangent {name}: no input named '{name}' is bound (inputs: {', '.join(g.inputs)})"
                               f"{did_you_mean(name, g.inputs)}")
        shape = tuple(g.nodes[g.inputs[name]].shape)
        if isinstance(t, str) and t.strip() == "ones":
            out[name] = (np.ones(shape, dtype=g.dtype), False)
            continue
        if isinstance(t, str):
            t = option_value(f"--tangent {name}", t, g.dtype, (batch.size,) + shape)
        t = np.asarray(t, dtype=g.dtype)
        shared = name not in batch.axes and t.shape == shape
        out[name] = (t, False) if shared else (per_example(t, batch, name if name in batch.axes else None, shape,
                                                           f"the tangent for '{name}'"), True)
    return out


def size_of(shape) -> int:
    return int(np.prod(shape, dtype=np.int64))


def _batched_jacobian(expr, bindings, batch, wrt, dtype, seed, layout, mode, limit) -> dict:
    """:func:`jacobian` with ``batch``: parsed and planned once, each example in turn, stacked."""
    from ..engine.batching import Stacked

    problem, found, split = prepare_batch(expr, bindings, batch, wrt, dtype, seed, min(limit, DEFAULT_MAX_BYTES),
                                          several=True)
    units = output_problems(problem)
    plans = {o: plan_of(p, mode, limit) for o, p in units}
    # under a time limit: never a kernel
    planned = batch_jacobian_plan(plans, found, limit, units, layout == "array" and limit_now() is None)
    if planned.refusal:
        raise JacLimitError(planned.refusal)
    stack, kernels = Stacked(found.size), {}
    for b in range(found.size):
        for o, p in output_problems(problem if b == 0 else example(problem, found, split, b)):
            fast = kernels.get(o)
            got = fast(p.env) if fast is not None else None
            if got is None:
                got = jacobians(p, plans[o])
                if b == 0 and planned.kernel_bytes:
                    kernels[o] = example_kernel(p, plans[o], got, limit)
                got = {name: dense(j, layout, limit) for name, j in got.items()}
            for name, a in got.items():
                stack.put((o, name), b, a)
    out = {o: {name: stack[(o, name)] for name in problem.wrt} for o, _ in units}
    return out[None] if None in out else out


def batch_jacobian_plan(plans: dict, batch, budget: int, units, kernel: bool):
    """The :class:`~jacobi_cli.engine.batching.BatchPlan` of a batch of Jacobians (``plans`` per
    output, ``units`` the outputs' problems of example 0); with ``kernel``, the examples' compiled
    kernel (:func:`example_kernel`) counted in its peak when its bound fits the budget beside the
    rest, else left out (``kernel_bytes`` 0: the interpreter runs every example)."""
    from dataclasses import replace

    from ..engine.batching import BatchPlan

    itemsize = np.dtype(units[0][1].graph.dtype).itemsize
    base = BatchPlan(plans, batch, budget, sum(p.output.nbytes for _, p in units), itemsize)
    if not (kernel and batch):
        return base
    bound = max(example_kernel_bytes(p, plans[o]) for o, p in units)
    if bound and base.peak_bytes + bound <= budget:
        return replace(base, kernel_bytes=bound)
    return base


def stacked_need(problem, batch, kind: str, names=None) -> int:
    """The predicted peak of a batched vjp or jvp (``names``: the tangents' inputs), what
    ``stacked_fits`` checks (session 42): one example's pass (its
    :class:`~jacobi_cli.engine.planner.ProductPlan`); the stacked results (a vjp's outputs and
    gradients, a jvp's outputs and products); the cotangents or tangents with the batch axis (a
    vjp's as large as the outputs, a jvp's as its inputs); the other examples' inputs; example
    0's values (its problem, kept for the report) and the previous example's while the next
    one's are made; and the mask ``first_nonfinite`` makes of the stack (a byte per element)."""
    plan = problem.compiled.product_plan(problem.wrt, kind, names)
    outputs = shapes_nbytes(problem, [p.graph.output_shape for _, p in output_problems(problem)])
    if kind == "vjp":
        per_example, given = outputs + shapes_nbytes(problem, [problem.env[n].shape for n in problem.wrt]), outputs
    else:
        per_example = 2 * outputs
        given = shapes_nbytes(problem, [problem.env[n].shape for n in names or () if n in problem.env])
    inputs = sum(problem.env[n].nbytes for n in batch.axes if n in problem.env)  # example 0's are in the plan
    stacked = batch.size * per_example
    return (plan.peak_bytes + stacked + batch.size * given + (batch.size - 1) * inputs + 2 * plan.values_bytes
            + stacked // np.dtype(problem.graph.dtype).itemsize)


def shapes_nbytes(problem, shapes) -> int:
    """The bytes of arrays of these ``shapes`` in ``problem``'s dtype."""
    return sum(math.prod(s) for s in shapes) * np.dtype(problem.graph.dtype).itemsize


def example_kernel_bytes(problem: Problem, plan) -> int:
    """A bound of :func:`example_kernel`'s peak: every node's value, one cotangent or tangent per node
    for every basis vector, the dense results and the interpreter's made dense to compare; 0 where
    no kernel is tried (a refused plan, several passes, no input)."""
    g = problem.graph
    if plan.refusal or any(p.passes > 1 for p in plan.inputs.values()) or not plan.inputs:
        return 0
    itemsize = np.dtype(g.dtype).itemsize
    basis = max(p.basis for p in plan.inputs.values())
    node_bytes = sum(int(np.prod(n.shape, dtype=np.int64)) for n in g.nodes) * itemsize
    dense_results = sum(int(np.prod(g.output_shape, dtype=np.int64)) * int(np.prod(p.x_shape, dtype=np.int64))
                        for p in plan.inputs.values()) * itemsize
    return node_bytes * (basis + 1) + 2 * dense_results


def example_kernel(problem: Problem, plan, found: dict, budget: int):
    """For the examples of a batch: ``env -> {name: dense array}``, the plan's passes run
    dense (one over the output's basis for the reverse inputs, one over each forward input's)
    and compiled into a kernel, as a repeated call compiles one. Kept only when its answer for
    ``problem`` is the interpreter's ``found``, and when a bound of its peak fits ``budget``:
    every node's value, and one cotangent or tangent per node for every basis vector; else
    None (every example then runs the interpreter's plan). The callable returns None for an
    example the kernel fails on (the interpreter then computes that one)."""
    g = problem.graph
    bound = example_kernel_bytes(problem, plan)
    if not bound or bound > budget:
        return None
    from ..engine.compiled import _compile, _run, same

    kernel = _compile("jacobian_kernel", g, plan, True)
    if kernel is None:
        return None
    got = _run(kernel, problem.env, False)
    if got is None or not same({n: j.to_array() for n, j in found.items()}, got):
        return None
    return lambda env: kernel.nan_free(_run(kernel, env, False))


def example_vjp_kernel(problem: Problem, v, found: dict):
    """For the examples of a batch of one output: ``(env, v) -> {name: x.grad}``, the VJP
    compiled into a kernel and kept only when its answer for ``problem`` and ``v`` is the
    interpreter's ``found``; else None. The callable returns None where the kernel fails."""
    from ..engine.compiled import _compile, _nan_free, _run, same

    kernel = _compile("vjp_kernel", problem.graph, problem.wrt)
    if kernel is None or not problem.wrt:
        return None
    got = _nan_free(_run(kernel, problem.env, v))
    if got is None or not same(found, dict(zip(problem.wrt, got))):
        return None

    def run(env, v):
        got = _nan_free(_run(kernel, env, v))
        return None if got is None else dict(zip(problem.wrt, got))

    return run


@in_api_words
def derivative(expr: str, bindings: BindingsLike = None, order: int = 2, wrt: Wrt = None, dtype: DType = "float64",
               seed: int = 0, max_memory: Size = None, timeout: Seconds = None,
               batch: Sequence[str] | None = None) -> Union[np.ndarray, dict]:
    """The ``order``-th derivative with respect to one input, shape ``y.shape + x.shape * order``,
    as ``jac derivative`` (forward over reverse; diagonal for element-wise functions).

    >>> [float(derivative("x**3", {"x": 2.0}, k)) for k in (1, 2, 3)]
    [12.0, 12.0, 6.0]

    Several outputs give ``{output: derivative}``. ``max_memory`` as for :func:`jacobian`: a
    derivative that cannot fit raises :class:`~jacobi_cli.errors.JacLimitError` before it is computed.
    ``timeout``: seconds, as for :func:`jacobian`. ``batch``: as for :func:`jacobian` (:func:`_batched_command`):
    the derivative is then ``(B, *y, *x * order)``.
    """
    from ..engine import higher

    order = higher.check_order(order)
    if batch:
        return _batched_command("derivative", expr, bindings, dtype, seed, max_memory, timeout, batch, wrt=wrt,
                                order=order)
    wrt = names_given(wrt)
    limit = memory.budget(max_memory)
    return _within(api_timeout(timeout), "derivative()", _derivative, expr, bindings, order, wrt, dtype, seed, limit)


def _derivative(expr, bindings, order, wrt, dtype, seed, limit):
    from ..engine import higher

    problem = prepare(expr, bindings, wrt, dtype, seed, max_bytes=min(limit, DEFAULT_MAX_BYTES), several=True)
    name = derivative_input(problem)
    out = {o: higher.run(derivative_plan(p, name, order, limit), p.env) for o, p in output_problems(problem)}
    return out[None] if None in out else out


def derivative_input(problem: Problem) -> str:
    """The one input a derivative of any order is taken by (``--wrt``, or the only input)."""
    if not problem.wrt:
        raise JacUsageError("a derivative of any order is taken with respect to one input, and this expression "
                            "has none to differentiate")
    if len(problem.wrt) != 1:  # the inputs by default, or several --wrt: either way, one must be chosen
        raise JacUsageError(f"a derivative of any order is taken with respect to one input, not {len(problem.wrt)} "
                            f"({', '.join(problem.wrt)}): name one with --wrt (mixed second derivatives, every "
                            "pair of inputs: jac hessian)")
    return problem.wrt[0]


def derivative_plan(problem: Problem, name: str, order: int, budget: int, sparse: bool | None = None):
    """The :class:`~jacobi_cli.engine.higher.DerivativePlan` of one output: diagonal when the
    Jacobian's dry run finds ``y`` element-wise in ``name`` (from the sparsity pattern alone); ``sparse``:
    ``jac derivative``'s ``--sparse`` (None: the caller has no such option, so a refusal does not offer it)."""
    from ..engine import higher

    diagonal = (plan_of(problem, "auto", UNLIMITED).inputs[name].structure == "diagonal"
                and int(np.size(problem.env[name])) > 1)
    return higher.plan_derivative(problem.graph, name, order, diagonal, budget, dense=not (sparse and diagonal),
                                  max_bytes=min(budget, DEFAULT_MAX_BYTES), offers_sparse=sparse is not None)


@in_api_words
def diff(expr: str, bindings: BindingsLike = None, wrt: Wrt = None,
         at: Mapping[str, Value] | Sequence[str] | None = None) -> dict[str, Derivative]:
    """``{name: Derivative}``: symbolic derivatives by SymPy (imported on first call).

    ``bindings`` may keep sizes symbolic (``{"x": ":n"}``); names bound nowhere are scalar
    symbols; ``at`` (``{name: value}`` or ``["x=1"]``) also evaluates each derivative there.
    Each :class:`~jacobi_cli.symbolic.Derivative` has ``expr`` (SymPy, array layout),
    ``form`` (``"matrix"`` or ``"components"``), ``shape``, ``math_shape`` and ``value``.

    >>> str(diff("3*x**2 - 4*x")["x"].expr)
    '6*x - 4'
    """
    from .symbolic import differentiate

    return differentiate(expr, bindings, names_given(wrt), at).derivatives

