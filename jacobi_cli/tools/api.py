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

import threading
from collections import OrderedDict

import numpy as np

from typing import TYPE_CHECKING, Literal, Mapping, Sequence, Union

from ..engine import memory
from ..engine.compiled import (Compiled, Problem, cotangent, dense, hessians, jacobians, jvp_of, node_grads,
                               tangents_of, vjp_of)
from ..engine.jacobian import Jacobian
from ..engine.planner import Plan
from ..errors import JacValueError
from ..ir.graph import DEFAULT_MAX_BYTES
from ..lang.bindings import BindingsLike, DType, Value, check_seed, check_wrt, resolve_dtype, to_bindings

__all__ = ["evaluate", "jacobian", "plan", "vjp", "jvp", "hessian", "diff", "compile", "Compiled",
           "prepare", "Problem", "plan_of", "hessian_plan_of", "jacobians", "dense", "cotangent", "vjp_of",
           "node_grads", "tangents_of", "jvp_of", "hessians", "check_wrt", "to_bindings", "resolve_dtype"]
CACHE_SIZE = 64

if TYPE_CHECKING:
    from .symbolic import Derivative

Wrt = Union[Sequence[str], None]  # the inputs to differentiate (default: every bound input)
Size = Union[int, str, None]  # a memory budget: bytes, "2G", "512M", "50%"; None: half the available memory


class CompiledCache:
    """The compiled functions of recent calls, least recently used dropped first: bounded,
    and safe to share between threads (one lock around the dict)."""

    def __init__(self, size: int = CACHE_SIZE):
        self.size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict = OrderedDict()

    def get(self, key) -> Compiled | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key, compiled: Compiled) -> Compiled:
        """Keep ``compiled`` under ``key``; a compiled function another thread kept first wins."""
        with self._lock:
            kept = self._entries.setdefault(key, compiled)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
            return kept

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_CACHE = CompiledCache()  # bounded and locked: the one place the API keeps anything between calls


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


def _fast_env(bindings, dtype) -> dict | None:
    """``{name: array}`` for bindings that are a dict of arrays or numbers, else None (the
    full path parses binding strings and reports bad values)."""
    if type(bindings) is not dict:
        return None
    env = {}
    for name, value in bindings.items():
        if type(value) is not np.ndarray:
            if isinstance(value, str):
                return None
            value = np.asarray(value)
        if value.dtype.kind not in "biuf":
            return None
        env[name] = value if value.dtype.type is dtype else value.astype(dtype)
    return env


def _compiled(expr: str, bindings, dtype, seed: int, max_bytes: int) -> tuple:
    """``(compiled function, input arrays)`` for a call: from the cache when the shapes were
    seen, else the bindings are parsed and checked and the expression compiled."""
    env = _fast_env(bindings, dtype)
    if env is not None:
        key = (expr, tuple((n, a.shape) for n, a in env.items()), np.dtype(dtype).str, seed, max_bytes)
        found = _CACHE.get(key)
        if found is not None:
            return found, env
    seed = check_seed(seed)
    bound = to_bindings(bindings, dtype, seed, max_bytes).realize(dtype, seed, max_bytes)
    key = (expr, tuple((n, np.shape(bound.values[n])) for n in bound.shapes), np.dtype(dtype).str, seed, max_bytes)
    found = _CACHE.get(key)
    if found is None:
        found = _CACHE.put(key, Compiled(expr, bound.shapes, dtype, seed, max_bytes))
    return found, bound.values


def prepare(expr: str, bindings=None, wrt=None, dtype="float64", seed: int = 0,
            max_bytes: int = DEFAULT_MAX_BYTES) -> Problem:
    """Parse, bind and evaluate: the common first step of every computing command.

    The compiled function for the expression and input shapes is cached, so calling again
    with new values of the same shapes only evaluates.
    """
    dtype = resolve_dtype(dtype)
    compiled, env = _compiled(expr, bindings, dtype, seed, max_bytes)
    return compiled.bind(env, wrt)


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

def evaluate(expr: str, bindings: BindingsLike = None, dtype: DType = "float64", seed: int = 0) -> np.ndarray:
    """The value of ``expr`` (``output.value`` of ``jac eval``).

    >>> evaluate("x * y", {"x": [1.0, 2.0], "y": "[3, 4]"})
    array([3., 8.])
    """
    dtype = resolve_dtype(dtype)
    compiled, env = _compiled(expr, bindings, dtype, seed, DEFAULT_MAX_BYTES)
    return compiled.value(env)


def jacobian(expr: str, bindings: BindingsLike = None, wrt: Wrt = None, dtype: DType = "float64", seed: int = 0,
             layout: Literal["array", "numerator"] = "array", mode: Literal["auto", "forward", "reverse"] = "auto",
             max_memory: Size = None, structured: bool = False) -> dict[str, Union[np.ndarray, Jacobian]]:
    """``{name: dy/dx}`` for every input in ``wrt`` (default: all), as ``jac eval``.

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
    """
    if layout not in ("array", "numerator"):
        raise JacValueError(f"layout must be array or numerator, not {layout!r}")
    limit = memory.budget(max_memory)
    dtype = resolve_dtype(dtype)
    compiled, env = _compiled(expr, bindings, dtype, seed, min(limit, DEFAULT_MAX_BYTES))
    return compiled.jacobian(env, wrt, mode, limit, structured, layout)


def plan(expr: str, bindings: BindingsLike = None, wrt: Wrt = None, dtype: DType = "float64", seed: int = 0,
         mode: Literal["auto", "forward", "reverse"] = "auto", max_memory: Size = None) -> Plan:
    """The plan :func:`jacobian` would follow: mode, chunks, structure and predicted memory per input.

    >>> print("\\n".join(plan("tanh(A @ x)", {"A": "eye(3)", "x": "ones(3)"}, wrt=["x"]).explain()[:2]))
    ... # doctest: +ELLIPSIS
    plan (--mode auto): output (3,), 3 elements
      x (3,): ... mode, 1 pass of 3 basis vectors; structure dense, ...
    """
    limit = memory.budget(max_memory)
    problem = prepare(expr, bindings, wrt, dtype, seed, max_bytes=min(limit, DEFAULT_MAX_BYTES))
    return problem.compiled.plan_of(problem, mode, limit)


def vjp(expr: str, bindings: BindingsLike = None, v: Value | None = None, wrt: Wrt = None, dtype: DType = "float64",
        seed: int = 0) -> dict[str, np.ndarray]:
    """``{name: x.grad}`` after ``y.backward(gradient=v)``, as ``jac vjp``: each shaped like its input.

    ``v`` is shaped like the output, or ``"ones"``; it may be omitted only for a one-element
    output (otherwise :class:`~jacobi_cli.errors.JacValueError`, as PyTorch refuses).

    >>> vjp("x * y", {"x": [1.0, 2.0], "y": [3.0, 4.0]}, v=[2.0, 3.0])["x"]
    array([ 6., 12.])
    """
    dtype = resolve_dtype(dtype)
    compiled, env = _compiled(expr, bindings, dtype, seed, DEFAULT_MAX_BYTES)
    return compiled.vjp(env, v, wrt)


def jvp(expr: str, bindings: BindingsLike = None, tangents: Mapping[str, Value] | None = None, dtype: DType = "float64",
        seed: int = 0) -> np.ndarray:
    """J·t, shaped like the output, for ``tangents = {name: t}`` (inputs not named get none), as ``jac jvp``.

    >>> jvp("sin(x) * y", {"x": [0.0, 1.0], "y": [2.0, 3.0]}, {"x": [1.0, 0.0]})
    array([2., 0.])
    """
    dtype = resolve_dtype(dtype)
    compiled, env = _compiled(expr, bindings, dtype, seed, DEFAULT_MAX_BYTES)
    return compiled.jvp(env, tangents)


def hessian(expr: str, bindings: BindingsLike = None, wrt: Wrt = None, dtype: DType = "float64", seed: int = 0,
            max_memory: Size = None) -> dict[tuple[str, str], np.ndarray]:
    """``{(a, b): d²y / da db}`` with shape ``a.shape + b.shape`` for a scalar output, as ``jac hessian``.

    >>> hessian("x @ A @ x", {"x": [1.0, 2.0], "A": [[1.0, 2.0], [3.0, 4.0]]}, wrt=["x"])[("x", "x")]
    array([[2., 5.],
           [5., 8.]])

    ``max_memory`` is the budget, as for :func:`jacobian` (bytes or ``"2G"``; default half the
    available memory): the passes over an input's basis are chunked to fit it, and blocks that
    cannot fit raise :class:`~jacobi_cli.errors.JacLimitError` before anything is allocated.
    """
    limit = memory.budget(max_memory)
    dtype = resolve_dtype(dtype)
    compiled, env = _compiled(expr, bindings, dtype, seed, min(limit, DEFAULT_MAX_BYTES))
    return compiled.hessian(env, wrt, limit)


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

    return differentiate(expr, bindings, wrt, at).derivatives

