"""``jax.lax.while_loop(cond_fun, body_fun, init_val)`` and ``torch.while_loop`` written out as the text is read.

Each step calls ``cond_fun`` on the carry; its result must be a boolean scalar, and while it is true ``body_fun`` is
written out once more, as :func:`.vmapping._fori_loop` writes its steps. A condition known without the values (a
counter in the carry compared with a constant: the fori-like form) gives a graph for any values; one of the inputs'
values is taken at the given values (session 33, ``_Lowering.value_of``), the steps those values take, as JAX and
PyTorch run them: the graph is then ``by_value``, holding for those values only (jac shape and jac diff refuse it,
a compiled function refuses other values). ``jax.vmap`` of such a loop runs each example's own steps (JAX runs the
batch until every example is done, each one frozen after its last step: the same values and derivatives). JAX's
forward mode (``jax.jacfwd``) differentiates the loop it ran, and jac's Jacobians equal those; JAX's reverse mode
refuses any while_loop, so a reverse transform written in the text over one (``jax.grad``, ``jax.jacrev``,
``jax.hessian``, ``jax.vjp``) is refused as JAX refuses it (:func:`refuse_reverse`, which :mod:`.derivatives` and
:mod:`.vjps` call with the parser's count of loops written, ``_Lowering.while_loops``).
"""

from __future__ import annotations

import numpy as np

from ..errors import JacError, JacLimitError, JacValueError
from ..ir import dtypes
from ..ir.graph import Tracer
from ..ir.shapes import fmt
from .functions import DYNAMIC, Items, Static, record_read

SPELLING = "jax.lax.while_loop"
PARAMETERS = ("cond_fun", "body_fun", "init_val")
# JAX's own refusal (jax.grad of a while_loop raises ValueError with these words)
REVERSE = ("Reverse-mode differentiation does not work for lax.while_loop (JAX raises ValueError, whatever the "
           "trip count); jax.jacfwd / jax.jvp differentiate it, or write the steps as jax.lax.fori_loop(0, n, "
           "body_fun, x) with constant bounds, or jax.lax.scan, which JAX differentiates in reverse mode")
_FORWARD = ("jax.jacfwd", "jax.jvp", "jax.linearize")  # JAX's forward-mode transforms, which differentiate it
_VALUES = (f"{SPELLING} with a condition of the inputs' values: jac runs the steps the given values take, as JAX "
           f"does when it runs, and the result holds for those values only (jac eval, vjp, jvp, hessian, check compute "
           f"it; jac shape, jac diff and a compiled function cannot); with a counter in the carry compared with a "
           f"constant (lambda c: c[0] < 10), or jax.lax.fori_loop(0, n, body_fun, x), the steps hold for any values")


def while_loop(lowering, given: dict, position: int, function, same_structure, initial):
    """The carry after the last step: ``body_fun`` applied while ``cond_fun`` of the carry is true. ``function``
    reads a function argument, ``same_structure`` checks the carry keeps its structure, ``initial`` reads the first
    carry as fori_loop's and scan's (a tuple display a pytree: vmapping's helpers)."""
    missing = [k for k in PARAMETERS if k not in given]
    if missing:
        raise JacValueError(f"{SPELLING}() needs {', '.join(missing)}", position)
    cond = function(lowering, given["cond_fun"], SPELLING, position)
    body = function(lowering, given["body_fun"], SPELLING, position)
    value = initial(lowering, given["init_val"])
    lowering.while_loops += 1
    return _written_out(lowering, cond, body, value, position, SPELLING, False, same_structure,
                        f"{SPELLING}: the loop's value", ", or write jax.lax.fori_loop(0, n, body_fun, x)")


def _written_out(lowering, cond, body, value, position: int, spelling: str, spread: bool, same_structure,
                 what: str, hint: str):
    """The loop both spellings share: while ``cond`` of the carry holds (known without the values), the carry
    is ``body`` of it, each step written out; ``spread``: the carry is a tuple passed as separate arguments
    (PyTorch's), else one argument (JAX's); ``same_structure`` checks each step keeps the carry's structure."""
    while _holds(lowering, traced(lowering, cond, list(value) if spread else [value], spelling, position),
                 position, spelling):
        lowering.unrolled += 1
        if lowering.unrolled > lowering.max_unrolled:
            raise JacLimitError(f"{spelling}: its condition still holds after jac wrote out steps up to its limit "
                                f"of {lowering.max_unrolled:,} (the for loop's): an endless loop, or one too long "
                                f"to write out; check the condition{hint}", position)
        out = traced(lowering, body, list(value) if spread else [value], spelling, position)
        out = _torch_carried(out, value, position) if spread else out
        same_structure(value, out, what, position)
        value = out
    return value


TORCH_SPELLING = "torch.while_loop"
TORCH_PARAMETERS = ("cond_fn", "body_fn", "carried_inputs")
_TORCH_VALUES = (f"{TORCH_SPELLING} with a condition of the inputs' values: jac runs the steps the given values "
                 f"take, as PyTorch does when it runs, and the result holds for those values only (jac eval, vjp, jvp, "
                 f"hessian, check compute it; jac shape, jac diff and a compiled function cannot); with a counter "
                 f"among the carried tensors compared with a constant (lambda i, x: i < 10), the steps hold for any "
                 f"values")


def torch_while_loop(lowering, given: dict, position: int, function, same_structure):
    """PyTorch's ``torch.while_loop(cond_fn, body_fn, carried_inputs)`` (session 29), written out as
    :func:`while_loop` writes JAX's: the carried tensors passed as separate arguments (``cond_fn(*carried)``,
    ``body_fn(*carried)`` returning a tuple of the same structure), the condition known without the values. PyTorch
    differentiates the loop it ran (its autograd of while_loop), and jac's derivatives are those of the steps."""
    missing = [k for k in TORCH_PARAMETERS if k not in given]
    if missing:
        raise JacValueError(f"{TORCH_SPELLING}() needs {', '.join(missing)}", position)
    cond = function(lowering, given["cond_fn"], TORCH_SPELLING, position)
    body = function(lowering, given["body_fn"], TORCH_SPELLING, position)
    value = lowering.expression(given["carried_inputs"])
    if not isinstance(value, (Items, tuple, list)) or not all(isinstance(v, Tracer) for v in value):
        raise JacValueError(f"{TORCH_SPELLING}: carried_inputs must be a tuple of tensors, as PyTorch requires (jac "
                            f"reads a tuple holding one tensor of the inputs at least; of constants only, write the "
                            f"loop's result)", position)
    return Items(_written_out(lowering, cond, body, tuple(value), position, TORCH_SPELLING, True, same_structure,
                              f"{TORCH_SPELLING}: the carried tensors", ""))


def traced(lowering, fn, args: list, spelling: str, position: int, kwargs: dict | None = None):
    """``fn(*args)`` called as ``spelling`` traces it, with abstract values (a loop's body or condition, a cond's
    branch, a jitted function): a Python read of the arguments' values inside (an if / while test, int(), a
    boolean mask) is refused, as the library raises there (:data:`ABSTRACT`); under JAX's staging transforms
    (:data:`STAGED`) a read of any value computed inside, a closure's included."""
    tests, start = len(lowering.value_tests), len(lowering.b.nodes)
    try:
        out = lowering.call_value(fn, args, kwargs or {}, position)
    except JacError:  # a read without the values (jac shape), or refused after it: JAX raised at the read first
        refuse_value_tests(lowering, tests, _tracers([*args, *(kwargs or {}).values()]), spelling, position, start)
        raise
    refuse_value_tests(lowering, tests, _tracers([*args, *(kwargs or {}).values()]), spelling, position, start)
    return out


# the wrappers of JAX that trace their function at each call as jit does (session 33: read as the function before,
# so a test of the values under them answered where JAX raises); torch.compile falls back to eager where the text
# tests the values (a graph break) and torch.utils.checkpoint runs eagerly: both read as the function
STAGING = frozenset({"jax.jit", "jax.checkpoint", "jax.remat"})


def call_staged(lowering, m, args: list, kwargs: dict, position: int, kinds: dict | None = None):
    """``jax.jit(f, static_argnums=, static_argnames=)(*args, **kwargs)`` (a :class:`.vmapping.Staged` ``m``): f
    called as JAX traces it, every operation inside staged (:data:`STAGED`), so a Python read of a value computed
    inside is refused; the arguments marked static (by position or name, each read as the other through f's
    signature, as JAX does) are concrete: a test of one is read, and under jax.jit one that is a list or an array is
    refused, as JAX raises (it hashes them; jax.checkpoint and remat do not; ``kinds``: argument (position or name) -> what Python's value is, "tuple", "list",
    "range", as the parser reads the call's syntax). A value computed before the call and closed over is concrete
    too."""
    positional = list(getattr(m.fn, "positional", ()))  # a function of the text's parameters, by position
    count = len(positional) if positional else len(args)
    nums = {k + count if k < 0 else k for k in m.static_argnums}
    names = set(m.static_argnames) | {positional[k] for k in nums if 0 <= k < len(positional)}
    nums |= {positional.index(n) for n in m.static_argnames if n in positional}
    if positional and any(k >= count or k < 0 for k in nums) and not getattr(m.fn, "varargs", None):
        raise JacValueError(f"{m.spelling}(..., static_argnums={m.static_argnums}): {m.fn.name} takes {count} "
                            f"positional arguments (JAX raises ValueError)", position)
    for key, value in [*((k, a) for k, a in enumerate(args)), *kwargs.items()]:
        static = key in nums if type(key) is int else key in names
        if static and m.spelling == "jax.jit" and not _hashable(lowering, value, (kinds or {}).get(key)):
            # (jax.checkpoint / remat do not hash their static arguments: a list or array is read, as JAX 0.10 does)
            raise JacValueError(f"{m.spelling}: the argument {key if type(key) is str else f'at position {key}'} is "
                                f"marked static and is an array or a list: JAX raises (ValueError: Non-hashable "
                                f"static arguments are not supported); pass it traced, or a number or tuple as "
                                f"static", position)
        if not static and isinstance(value, Static) and isinstance(value.value, str):
            raise JacValueError(f"{m.spelling}: the string argument {value.value!r} is traced: JAX raises "
                                f"(TypeError: it is not a valid JAX type); mark it static (static_argnums= or "
                                f"static_argnames=)", position)
    # the arguments not marked static are traced: a Python number or list of them is a tracer inside, as JAX makes it
    args = [a if k in nums else traced_constant(lowering, a, position) for k, a in enumerate(args)]
    kwargs = {k: a if k in names else traced_constant(lowering, a, position) for k, a in kwargs.items()}
    return traced(lowering, m.fn, args, m.spelling, position, kwargs)


def _hashable(lowering, value, kind: str | None = None) -> bool:
    """Whether JAX can hash a static argument: a Python number, string, None or a tuple of them, a function, not
    an array or a list (``kind``: what Python's value is, as the parser's ``python_kind`` reads the argument's
    syntax: "tuple", "list", "range", "value" for none of them, or None: not known, the display read)."""
    if isinstance(value, Tracer):
        node = lowering.b.nodes[value.id]
        # a Python number or tuple of numbers the text wrote (the parser makes such a tuple one constant; a
        # constant array a library made holds its library, an array of the inputs is no constant); a constant of
        # one dimension or more is hashable only as a tuple (or range): a list (JAX: <class 'list'>) and an array
        # NumPy or jnp made (np.array((1., 2.))) are not
        if node.op != "const" or lowering.b.typed.get(value.id, (None, None))[1] is not None:
            return False
        shown = lowering.displays.get(value.id)
        kind = kind or getattr(shown, "display", None)
        if not value.ndim or kind not in ("tuple", "range"):
            return not value.ndim
        return shown is None or all(_hashable(lowering, v) for v in shown)  # ([1., 2.], [3., 4.]) is not
    if isinstance(value, (Items, list)):
        return False
    if isinstance(value, tuple):
        return all(_hashable(lowering, v) for v in value)
    return not callable(getattr(value, "values", None))  # the text's dicts (trees.Dict) are not hashable


def _tracers(value) -> list:
    """The arrays a Python structure of arguments holds (tuples, lists, the text's dicts), in order."""
    if isinstance(value, Tracer):
        return [value]
    if not isinstance(value, (tuple, list)) and callable(getattr(value, "values", None)):  # trees.Dict
        value = list(value.values())
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _tracers(v)]
    return []


def _torch_carried(out, value: tuple, position: int) -> tuple:
    """body_fn's result as the carried tuple (one tensor returned alone for a carry of one)."""
    out = (out,) if isinstance(out, Tracer) and len(value) == 1 else out
    if not isinstance(out, (Items, tuple, list)):
        raise JacValueError(f"{TORCH_SPELLING}: body_fn must return a tuple of tensors like carried_inputs", position)
    return tuple(out)


def _holds(lowering, pred, position: int, spelling: str = SPELLING) -> bool:
    """``cond_fun``'s result as a Python bool: a boolean scalar known without the values, as JAX requires."""
    if isinstance(pred, Static):
        pred = pred.value
    if isinstance(pred, (bool, np.bool_)):
        return bool(pred)
    if not isinstance(pred, Tracer):
        raise JacValueError(f"{spelling}: cond_fun must return a boolean scalar (a comparison), as JAX requires; got "
                            f"{type(pred).__name__} {pred!r}", position)
    b = lowering.b
    held = b.nodes[pred.id]
    dtype = b.typed.get(pred.id, (None,))[0]
    boolean = pred.id in b.booleans or dtype is not None and np.dtype(dtype) == np.bool_
    if pred.ndim or (held.op == "const" and np.size(held.value) != 1) or not boolean:
        raise JacValueError(f"{spelling}: cond_fun must return a boolean scalar (a comparison), as JAX requires; "
                            f"got {'a boolean' if boolean else 'a number'} of shape {fmt(pred.shape)}", position)
    if held.op != "const":  # of the inputs' values: the steps these values take, as the library runs them
        return bool(np.asarray(lowering.value_of(pred, position, message=_VALUES if spelling == SPELLING
                                                 else _TORCH_VALUES)).item())
    return bool(np.asarray(held.value).item())


def refuse_reverse(lowering, before: int, spelling: str, position: int) -> None:
    """Refuse a reverse-mode transform of JAX (``spelling``) whose function wrote out a while_loop: the parser's
    count went past ``before`` while it was called."""
    if lowering.while_loops > before and spelling.startswith("jax") and spelling not in _FORWARD:
        raise JacValueError(f"{spelling}(...) of a function with a {SPELLING}: {REVERSE}", position)


# where the library traces a function with abstract values, so that a Python if / while of them raises
# (session 33): JAX's vmap, jit-like loops and branches (jax.grad, jacrev, jacfwd, hessian, jvp, vjp and linearize
# trace with the concrete values and run Python's control flow, as PyTorch's autograd and torch.func.grad do)
ABSTRACT = {"jax.vmap": "vmap", "jax.numpy.vectorize": "vmap", "jax.lax.map": "map", "jax.lax.scan": "scan",
            "jax.lax.fori_loop": "fori_loop", "jax.lax.while_loop": "while_loop", "jax.lax.cond": "cond",
            "jax.lax.switch": "switch", "torch.func.vmap": "vmap", "torch.vmap": "vmap", "torch.cond": "cond",
            "torch.while_loop": "while_loop", "torch.func.linearize": "linearize", "jax.jit": "jit",
            "jax.checkpoint": "checkpoint", "jax.remat": "remat", "jax.numpy.piecewise": "vmap"}
# JAX's transforms that stage every operation into a jaxpr (omnistaging): inside them an operation on a closure's
# concrete array gives a tracer too, so a read of any value computed inside raises, not only of the arguments
# (checked in JAX 0.10: jax.jit(lambda v: v if x.sum() > 0 else -v)(x) raises; jax.vmap of it does not)
STAGED = frozenset({"jax.jit", "jax.checkpoint", "jax.remat", "jax.lax.map", "jax.lax.scan", "jax.lax.fori_loop",
                    "jax.lax.while_loop", "jax.lax.cond", "jax.lax.switch"})
# each kind of read the parser records in value_tests: what it is, and what JAX raises at it under a trace
READS = {"test": ("an if / while test, or bool()", "TracerBoolConversionError"),
         "int": ("int() / .item(), or an integer where a constant one is needed", "ConcretizationTypeError"),
         "mask": ("a boolean mask x[mask]", "NonConcreteBooleanIndexError"),
         "float": ("float() / .tolist()", "ConcretizationTypeError"),
         "array": ("np.asarray / np.array of it", "TracerArrayConversionError"),
         "index": ("range() of it, or a Python list or tuple indexed by it", "TracerIntegerConversionError"),
         "slice": ("a slice bound x[:n]", "IndexError: Slice entries must be static integers"),
         "numpy": ("NumPy's own function of it (np.sin(v), np.float64(v)), which makes a NumPy array of it",
                   "TracerArrayConversionError"),
         "ufunc": ("a NumPy ufunc's method of it (np.add.reduce(v), np.multiply.outer(v, w)), which makes a NumPy "
                   "array of it", "TracerArrayConversionError"),
         "scipy": ("SciPy's function of it (scipy.special.erf(v), scipy.linalg.det(A)), which makes a NumPy array of it",
                   "TracerArrayConversionError"),
         "shape": ("a size of a shape, jnp.ones(n) or x.reshape(n, -1)",
                   "TypeError: Shapes must be 1D sequences of concrete values of integer type")}
_HINTS = {"test": "write jnp.where(test, a, b) or jax.lax.cond to choose by the values",
          "int": "compute it outside, or pass it as a static argument (static_argnums)",
          "mask": "write jnp.where(mask, x, 0), or jnp.nonzero(mask, size=n) for the positions",
          "float": "keep it an array (jnp.asarray), or compute it outside",
          "array": "write jnp.asarray / jnp.array, which JAX traces",
          "index": "pass it as a static argument (static_argnums), or index an array (jnp.array(l)[i])",
          "slice": "pass it as a static argument (static_argnums), or write jax.lax.dynamic_slice(x, (i,), (size,))",
          "shape": "pass it as a static argument (static_argnums): a shape is known when JAX traces",
          "numpy": "write jax.numpy's function (jnp.sin), which JAX traces",
          "ufunc": "write jax.numpy's ufunc (jnp.add.reduce, jnp.multiply.outer), which JAX traces",
          "scipy": "write jax.scipy's function of the same name (jax.scipy.special.erf), which JAX traces"}
# the reads a derivative transform of JAX raises at too (ConcretizationTypeError, TracerArrayConversionError), of a
# value carrying a tangent: float() and .tolist() of a float array, np.asarray / np.array (int(), .item(), bool()
# and a test read the concrete value under jax.grad; checked in JAX 0.10)
TANGENT_READS = frozenset({"float", "array", "numpy", "ufunc", "scipy"})
# NumPy's functions that call their first argument's own method when it is no NumPy array (numpy/_core/fromnumeric.py's
# _wrapfunc / _wrapreduction, np.flip's indexing, np.moveaxis's transpose): of a JAX tracer they give JAX's method's
# traced result, where NumPy's other functions make a NumPy array of it (__array__: TracerArrayConversionError). Found
# by running each under jax.jit, jax.grad and jax.vmap (JAX 0.10, NumPy 2.4; tests/test_jaxtrace35.py runs them
# again); np.clip, np.take, np.sort, np.ravel, np.diagonal, np.trace and np.ptp are not among them
NUMPY_DISPATCHED = frozenset({"reshape", "repeat", "swapaxes", "transpose", "permute_dims", "argmax", "argmin",
                              "searchsorted", "squeeze", "nonzero", "shape", "ndim", "size", "sum", "prod", "any",
                              "all", "max", "amax", "min", "amin", "mean", "std", "var", "cumsum", "cumprod", "round",
                              "around", "flip", "moveaxis", "real", "imag"})
NUMPY_MODULES = frozenset({"np", "numpy", "np.linalg", "numpy.linalg"})


def numpy_reads(lowering, module: str | None, fname: str, args: list, kwargs: dict, position: int,
                kind: str = "numpy") -> None:
    """Record NumPy's own function (``module``, not jnp's), a NumPy ufunc's method (``kind`` "ufunc":
    ``np.add.reduce``) or SciPy's function (``scipy.special.erf``, ``scipy.linalg.det``: SciPy's, not jax.scipy's) of
    an array the text computes as a read of its values (the parser's ``value_tests``): of a JAX tracer (under jit,
    vmap, a loop's body, or carrying a derivative under jax.grad) NumPy makes a NumPy array of it, and JAX raises
    (TracerArrayConversionError; every one of scipy.special, scipy.linalg and scipy.stats tried in JAX 0.10 and
    SciPy 1.16 raises, logsumexp and softmax included). The function of :data:`NUMPY_DISPATCHED` of an array is JAX's
    own array method, its arguments passed on: no read."""
    if module is not None and (module == "scipy" or module.startswith("scipy.")):
        kind = "scipy"
    elif module not in NUMPY_MODULES or kind == "numpy" and fname in NUMPY_DISPATCHED and module in ("np", "numpy") \
            and args and isinstance(args[0], Tracer):
        return
    for value in (*args, *kwargs.values()):
        for t in _tracers(value):
            record_read(lowering.b, t, position, kind)

def traced_constant(lowering, value, position: int):
    """``value`` as JAX traces it though jac knows it (a Python number or list passed to a jitted function without
    static_argnums, fori_loop's index): each constant array in a node of its own that is not folded
    (:meth:`Builder.fresh`), typed as the constant (integers, booleans), so that a Python read of it is recorded
    (``value_tests``) and refused under the trace as JAX raises; its value is the same at any inputs
    (``_Lowering.of_inputs``: read without them, the graph not by_value)."""
    b = lowering.b
    if isinstance(value, (bool, np.bool_)):
        value = b.const(float(value), position)
        b.booleans.add(value.id)
    if isinstance(value, Tracer) and b.nodes[value.id].op == "const":
        kind = dtypes.kind_of(b, value.id)
        if kind is None and value.id in b.pyints:  # a Python int: JAX's weakly typed int
            kind = (np.dtype(np.int64), None)
        out = b.fresh(value, position)
        if kind is not None and kind[0] == np.bool_:
            b.booleans.add(out.id)
        elif kind is not None:
            b.integral[out.id] = kind
        return out
    if isinstance(value, Items):
        out = Items(traced_constant(lowering, v, position) for v in value)
        out.__dict__.update(getattr(value, "__dict__", {}))
        return out
    if type(value) in (tuple, list):
        return type(value)(traced_constant(lowering, v, position) for v in value)
    return value


def refuse_value_tests(lowering, before: int, fresh: list, spelling: str, position: int,
                       start: int | None = None) -> None:
    """Refuse a call of a function that ``spelling`` traces with abstract values (:data:`ABSTRACT`: vmap, jit,
    the bodies of JAX's loops, the branches of a cond) whose Python code read the values of its traced arguments
    (``fresh``: their nodes) or, under :data:`STAGED` (``start``: the first node the call made), of any value it
    computed, as the library raises there (JAX's TracerBoolConversionError, ConcretizationTypeError,
    NonConcreteBooleanIndexError; torch.func.vmap's data-dependent control flow), where jac would read the given
    values (the parser's ``value_tests`` after ``before``). The derivative transforms (jax.grad, jax.jvp,
    torch.func.grad ...) trace with the concrete values and run the code as PyTorch does: read, not refused."""
    if len(lowering.value_tests) <= before or spelling not in ABSTRACT:
        return
    targets = frozenset(t.id for t in fresh if isinstance(t, Tracer))
    if start is not None and spelling in STAGED:
        for test, at, kind in lowering.value_tests[before:]:
            if kind != DYNAMIC and (test >= start or test in targets):
                raise JacValueError(_refusal(spelling, kind), at)
        return
    if not targets:
        return
    nodes, lowest = lowering.b.nodes, min(targets)
    for test, at, kind in lowering.value_tests[before:]:
        if kind == DYNAMIC:
            continue
        pending, seen = [test], set()
        while pending:
            i = pending.pop()
            if i in targets:
                raise JacValueError(_refusal(spelling, kind), at)
            if i >= lowest and i not in seen:
                seen.add(i)
                pending.extend(nodes[i].args)


def refuse_tangent_reads(lowering, before: int, fresh: list, spelling: str, position: int) -> None:
    """Refuse a JAX derivative transform (``jax.grad``, ``jacrev``, ``jacfwd``, ``hessian``, ``jvp``, ``vjp``,
    ``linearize``) whose function made a Python float (``float()``, ``.tolist()``) or a NumPy array (``np.asarray``)
    of a float value carrying a tangent: one the differentiated arguments (``fresh``) reach through ops that carry
    derivatives (not through ``stop_gradient``, an integer, a comparison), as JAX raises there
    (ConcretizationTypeError, TracerArrayConversionError; checked in JAX 0.10). ``int()``, ``.item()``, ``bool()``
    and tests read the concrete value under these transforms, as JAX does."""
    from ..ir.ops import OPS

    reads = [(test, at, kind) for test, at, kind in lowering.value_tests[before:] if kind in TANGENT_READS]
    if not reads or not spelling.startswith("jax"):
        return
    b, targets = lowering.b, frozenset(t.id for t in fresh if isinstance(t, Tracer))
    lowest = min(targets, default=0)

    def carries(i: int) -> bool:  # whether a derivative reaches node i from the targets
        return i not in b.integral and i not in b.booleans and i not in b.typed

    for test, at, kind in reads:
        pending, seen = [test] if carries(test) else [], set()
        while pending:
            i = pending.pop()
            if i in targets:
                what, error = READS[kind]
                raise JacValueError(f"{spelling}(...) of a function that makes a Python number or NumPy array of a "
                                    f"value it differentiates ({what}): JAX raises there ({error}: the value is a "
                                    f"tracer carrying a derivative); {_HINTS[kind]}, or read it through "
                                    f"jax.lax.stop_gradient (int(), .item() and tests read the value)", at)
            node = b.nodes[i]
            if i >= lowest and i not in seen and not getattr(OPS.get(node.op), "nondiff", True):
                seen.add(i)
                pending.extend(a for a in node.args if carries(a))


def _refusal(spelling: str, kind: str) -> str:
    """The refusal of a read (``kind``: :data:`READS`'s, or the name of a function whose result's shape is read
    off the values, jnp.nonzero without size=) under ``spelling``'s abstract trace."""
    what, error = READS.get(kind, (f"{kind} without size=, whose result's shape is read off the values",
                                   "ConcretizationTypeError"))
    where = ABSTRACT[spelling]
    if spelling.startswith("jax"):
        hint = _HINTS.get(kind, f"give size= (jnp.nonzero(m, size=n)), as JAX requires under {where}")
        inside = "values computed inside it" if spelling in STAGED else "its traced argument's values"
        why = (f"JAX raises there ({error}: {spelling} traces its function with abstract values, and {inside} are "
               f"tracers); {hint}")
        if where in ("jit", "checkpoint", "remat"):
            why += (f" (an argument {spelling} marks static, static_argnums=, is read; a value computed before the "
                    f"call and closed over is concrete)")
    elif where == "vmap":
        why = "torch.func.vmap raises there (data-dependent control flow is not supported in vmap); write torch.where"
    else:
        why = (f"PyTorch raises there ({spelling} traces its function with fake tensors: data-dependent control flow "
               f"is not supported); write torch.where")
    return f"{spelling}(...) of a function whose Python code reads a traced value ({what}): {why}"
