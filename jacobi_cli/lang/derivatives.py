"""Derivatives written in the text: ``jax.grad(f)(x)``, ``torch.func.jacrev(f)(x)``, ``torch.autograd.grad(y, x)``,
``torch.autograd.functional.jacobian(f, x)``...

Such an expression's value at the point is the derivative, and here it is nodes of the graph being built: the
cotangents of the chosen nodes are pulled back from the output node by the one reverse pass
(:func:`~jacobi_cli.ir.reverse.pullback`, the loop the engine's VJP runs) with a seed of constants (ones for a scalar;
the output's basis, batched, for a Jacobian, whose result is reshaped to ``(*y.shape, *x.shape)``), through the ops'
own VJP rules applied to tracers. So jac differentiates the result in turn: the Jacobian jac prints of
``jax.grad(f)(x)`` is f's Hessian, and ``jax.grad(jax.grad(f))`` composes as in JAX. Forward mode (``jacfwd``,
``torch.autograd.functional.jvp``) is computed by the same reverse pass: the same matrix (a JVP is the Jacobian
times the tangent, equal to the libraries' forward mode up to rounding).

A transform's function sees a fresh node for each differentiated argument (:meth:`Builder.fresh`), so a closure's
other use of the same array is not differentiated (``jax.grad(lambda t: t * x)(x)`` is ``x``), as JAX and
``torch.autograd.functional`` do. PyTorch's ``torch.autograd.grad`` differentiates by the nodes named, as PyTorch
does, and its result without ``create_graph=True`` is detached (a constant of the derivatives, as ``.detach()``);
``torch.autograd.functional``'s results are detached likewise unless ``create_graph=True``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

import numpy as np

from ..errors import JacError, JacParseError, JacShapeError, JacValueError
from ..ir.graph import Builder, Tracer
from ..ir.ops import OPS, P
from ..ir.reverse import pullback
from ..ir.shapes import fmt, is_concrete, size
from .functions import Items, Refused, detached
from . import trees, whiles
from . import starred  # '*' and '**' in a call read off its syntax, written out
from . import custom  # refuse_in_transform: a rule the library does not run under a transform

# transforms of a function, whose results are differentiable (JAX's and torch.func's): spelling -> what it computes
TRANSFORMS = {"jax.grad": "grad", "jax.value_and_grad": "value_and_grad", "jax.jacrev": "jacobian",
              "jax.jacfwd": "jacobian", "jax.jacobian": "jacobian", "jax.hessian": "hessian",
              "torch.func.grad": "grad", "torch.func.grad_and_value": "grad_and_value",
              "torch.func.jacrev": "jacobian", "torch.func.jacfwd": "jacobian", "torch.func.hessian": "hessian"}
# each transform's keywords, and the value jac reads for the flags it does not have (holomorphic=True...)
_TRANSFORM_KEYWORDS = {"jax": {"argnums": None, "has_aux": None, "holomorphic": False, "allow_int": False,
                               "reduce_axes": ()},
                       "torch.func": {"argnums": None, "has_aux": None, "chunk_size": "any", "randomness": "any",
                                      "_preallocate_and_copy": "any"}}
# PyTorch's functions that compute a derivative when called (their parameters in PyTorch's order)
CALLS = {"torch.autograd.grad": ("outputs", "inputs", "grad_outputs", "retain_graph", "create_graph", "only_inputs",
                                 "allow_unused", "is_grads_batched", "materialize_grads"),
         "torch.autograd.functional.jacobian": ("func", "inputs", "create_graph", "strict", "vectorize", "strategy"),
         "torch.autograd.functional.hessian": ("func", "inputs", "create_graph", "strict", "vectorize",
                                               "outer_jacobian_strategy"),
         "torch.autograd.functional.vjp": ("func", "inputs", "v", "create_graph", "strict"),
         "torch.autograd.functional.jvp": ("func", "inputs", "v", "create_graph", "strict")}
# the transforms that return a function or a pair with one (jax.vjp, torch.func.jvp...): lowered by lang/vjps.py,
# which the parser calls for them
LINEAR = ("jax.jvp", "jax.vjp", "jax.linearize", "torch.func.jvp", "torch.func.vjp", "torch.func.linearize")
SPELLINGS = frozenset(TRANSFORMS) | frozenset(CALLS) | frozenset(LINEAR)
LAST_NAMES = frozenset(s.rsplit(".", 1)[1] for s in SPELLINGS)
# the modules those live in: another autodiff name of theirs (torch.autograd.functional.vhp) is refused naming what
# jac reads (READ: the one list, which every such refusal quotes)
FAMILIES = frozenset({"jax", "torch.func", "torch.autograd", "torch.autograd.functional", "functorch"})


def _listed(spellings) -> str:
    """``jax.grad, value_and_grad; torch.func.grad``: the spellings by module, in their tables' order."""
    modules: dict = {}
    for s in spellings:
        module, name = s.rsplit(".", 1)
        modules.setdefault(module, []).append(name)
    return "; ".join(f"{module}.{', '.join(names)}" for module, names in modules.items())


# what every refusal of an autodiff name jac does not read quotes (parser._foreign_path, _module_message): made
# from the tables above, so it lists what jac reads and nothing else
READ = (f"the derivatives jac reads written in the text are {_listed([*TRANSFORMS, *LINEAR, *CALLS])}; or write the "
        f"expression itself: jac eval prints its Jacobians, jac vjp --v V what y.backward(gradient=V) leaves in x.grad")


@dataclass(frozen=True, eq=False)
class Transform:
    """``jax.grad(f, argnums=1)``: a function of the text, called as one (``jax.grad(f)(x, y)``)."""

    spelling: str
    kind: str  # grad, value_and_grad, grad_and_value, jacobian
    fn: object  # what the parser calls: a Function, module, Instance, LibraryFunction or Transform
    argnums: object  # an int or a tuple of ints
    has_aux: bool


@dataclass(frozen=True)
class LibraryFunction:
    """``jnp.sin`` given to a transform (``jax.grad(jnp.sin)(x)``): called through the parser's lookup."""

    module: str
    name: str


def lower(lowering, spelling: str, node: ast.Call, position: int):
    """The value of the call ``node`` of ``spelling`` (one of :data:`SPELLINGS`): a :class:`Transform`, or the
    derivatives (``torch.autograd.grad``, ``torch.autograd.functional.*``)."""
    if spelling not in SPELLINGS:  # torch.autograd.functional.vhp, torch.autograd.backward
        raise JacParseError(f"'{spelling}' is not supported by jac: {READ}", position)
    return at_call(_lowered, lowering, spelling, node, position)


def at_call(lowered, lowering, spelling: str, node: ast.Call, position: int):
    """``lowered(lowering, spelling, node, position)``, the lowering of a transform's call written in the text
    (here, in :mod:`.vjps` and :mod:`.vmapping`), with ``*`` and ``**`` written out and a refusal that
    points nowhere pointing at the call."""
    try:
        node = starred.written_out(lowering, node)  # jax.grad(f, **kw), torch.func.vmap(f, *opts) (session 55)
        return lowered(lowering, spelling, node, position)
    except JacError as err:
        err.position = position if err.position is None else err.position
        raise


def _lowered(lowering, spelling: str, node: ast.Call, position: int):
    if spelling in TRANSFORMS:
        family = spelling.rsplit(".", 1)[0]
        known = _TRANSFORM_KEYWORDS[family]
        given = _syntax_arguments(spelling, node, ("fun",) + tuple(known), position)
        if "fun" not in given:
            raise JacValueError(f"{spelling}() needs the function to differentiate", position)
        fn = function_of(lowering, given["fun"], spelling, position)
        for key, default in known.items():
            if key in given and default not in (None, "any") and _literal(given[key], spelling, key) != default:
                raise JacValueError(f"{spelling}(..., {key}={ast.unparse(given[key])}) is not supported: jac reads "
                                    f"{key}={default!r}", lowering.source.at(given[key]))
        argnums = _literal(given["argnums"], spelling, "argnums") if "argnums" in given else 0
        if not (type(argnums) is int or type(argnums) is tuple and argnums
                and all(type(k) is int for k in argnums)):
            raise JacValueError(f"{spelling}: argnums is an int or a tuple of ints (got {ast.unparse(given['argnums'])})",
                                position)
        has_aux = bool(_literal(given["has_aux"], spelling, "has_aux")) if "has_aux" in given else False
        kind = TRANSFORMS[spelling]
        if kind == "hessian":  # jacfwd(jacrev(f, argnums, has_aux), argnums, has_aux), as JAX defines it
            inner = Transform(spelling, "jacobian", fn, argnums, has_aux)
            return Transform(spelling, "jacobian", inner, argnums, has_aux)
        return Transform(spelling, kind, fn, argnums, has_aux)
    given = _syntax_arguments(spelling, node, CALLS[spelling], position)
    if spelling == "torch.autograd.grad":
        return _autograd_grad(lowering, given, position)
    return _functional(lowering, spelling, given, position)


def function_of(lowering, node: ast.expr, spelling: str, position: int):
    """The function given to a transform: one of the text's (a ``def``, a ``lambda``, a module, a model, another
    transform) or a library's (``jnp.sin``)."""
    if isinstance(node, ast.Attribute) and lowering.module_path(node.value) is not None:
        return LibraryFunction(lowering.module_path(node.value), node.attr)
    value = lowering.expression(node)
    if not lowering.is_callable(value):
        raise JacValueError(f"{spelling}(...) takes a function: a def or lambda of the text, a module, or a "
                            f"library's function (jnp.sin)", lowering.source.at(node))
    return value


def traced_call(lowering, fn, args: list, kwargs: dict, position: int):
    """``fn(*args, **kwargs)`` called for a derivative transform (here, :mod:`.vjps`, :mod:`.implicit`):
    ``lowering.transforms`` counts the calls open, so that a collective inside one over a vmap's axis outside it
    is refused (:class:`.vmapping.NamedAxis`: JAX's derivative sums the cotangents over that axis)."""
    lowering.transforms = getattr(lowering, "transforms", 0) + 1
    try:
        return lowering.call_value(fn, args, kwargs, position)
    finally:
        lowering.transforms -= 1


def call_transform(lowering, tr: Transform, args: list, kwargs: dict, position: int):
    """``jax.grad(f, argnums)(*args, **kwargs)``: ``f`` called with a fresh node for each differentiated argument,
    and the derivative of its output by those nodes."""
    b = lowering.b
    nums = (tr.argnums,) if type(tr.argnums) is int else tr.argnums
    for k in nums:
        if not -len(args) <= k < len(args):
            raise JacValueError(f"{tr.spelling}(..., argnums={tr.argnums}) of a call with {len(args)} positional "
                                f"argument{'s' * (len(args) != 1)}: argnums counts the positional arguments", position)
    nums = tuple(k % len(args) for k in nums)
    # a pytree argument (a dict, tuple or list of arrays: lang/trees.py): a fresh node per leaf, its derivatives
    # given back in its structure (in_trees[i], the i-th differentiated argument's)
    ts, in_trees, called, jax = [], [], list(args), tr.spelling.startswith("jax")
    for k in nums:
        arg = trees.unfolded(lowering, args[k])  # [jnp.ones(3), jnp.zeros(3)]: a list of two leaves, as JAX
        leaves, tree = trees.flatten(arg, f"{tr.spelling}(...)'s argument {k}", position, sort=jax,
                                     folded=lowering.folded)
        fresh = [b.fresh(_float_array(b, x, f"{tr.spelling}(...)'s argument {k}", position), position)
                 for x in leaves]
        ts += fresh
        in_trees.append(tree)
        called[k] = trees.unflatten(tree, fresh)
    start = len(b.nodes)
    loops, tests = lowering.while_loops, len(lowering.value_tests)
    out = traced_call(lowering, tr.fn, called, kwargs, position)
    whiles.refuse_tangent_reads(lowering, tests, ts, tr.spelling, position)  # float(v) of a JVP tracer raises
    custom.refuse_in_transform(lowering, tr.spelling, start, position)  # jax.jacfwd of a custom_vjp (lang/custom.py)
    whiles.refuse_reverse(lowering, loops, tr.spelling, position)  # JAX's reverse mode refuses a while_loop
    aux = None
    if tr.has_aux:
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise JacValueError(f"{tr.spelling}(..., has_aux=True): the function returns a pair (output, aux)",
                                position)
        out, aux = out
    single = type(tr.argnums) is int

    def structured(parts: list):  # one derivative per leaf of ts: in the arguments' structures
        grouped, k = [], 0
        for tree in in_trees:
            grouped.append(trees.unflatten(tree, parts[k:k + tree.num_leaves]))
            k += tree.num_leaves
        return grouped[0] if single else Items(grouped)

    if tr.kind == "jacobian":  # JAX's nesting: the output's structure outside, the arguments' inside
        outs, out_tree = trees.flatten(out, f"{tr.spelling}(...)'s function's output", position, sort=jax)
        found = []
        for o in outs:
            o = _float_array(b, o, f"{tr.spelling}(...)'s function's output", position)
            found.append(structured(jacobian(b, o, ts, tr.spelling, position)))
        result = trees.unflatten(out_tree, found)
        return Items([result, aux]) if tr.has_aux else result
    out = _float_array(b, out, f"{tr.spelling}(...)'s function's output", position)
    if out.shape != ():
        raise JacShapeError(f"{tr.spelling}(...): the function's output has shape {fmt(out.shape)}, and a gradient "
                            f"is only for a scalar output, as {'JAX' if tr.spelling.startswith('jax') else 'PyTorch'} "
                            f"refuses it (its jacrev gives the Jacobian)", position)
    grad = structured(gradients(b, out, ts, tr.spelling, position))
    value = Items([out, aux]) if tr.has_aux else out
    if tr.kind == "value_and_grad":
        return Items([value, grad])
    if tr.kind == "grad_and_value":  # torch.func's order: the gradient first
        return Items([grad, value])
    return Items([grad, aux]) if tr.has_aux else grad


def pull(b: Builder, seeds: dict, wrt: list, spelling: str, position: int) -> list:
    """The cotangents ``(B, *t.shape)`` of the nodes ``wrt`` pulled back from the seeds ``{output tracer: (B,
    *output.shape)}``, as nodes of ``b``; None for a node no output reaches."""
    _concrete(list(seeds) + list(wrt), spelling, position)
    nodes = b.nodes
    ids = {t.id for t in wrt}
    stop = min(ids)
    top = max(o.id for o in seeds)
    flags = [False] * len(nodes)
    for i in range(stop, top + 1):  # the nodes a chosen one reaches: the reverse pass visits only those
        node = nodes[i]
        args = node.args
        flags[i] = i in ids or bool(args) and not OPS[node.op].nondiff and any(flags[a] for a in args)
    if not any(flags[o.id] for o in seeds):
        return [None] * len(wrt)
    values = [Tracer(b, i, nodes[i].shape) for i in range(top + 1)]
    ct: dict = {}
    for o, seed in seeds.items():
        ct[o.id] = seed if o.id not in ct else P.add(ct[o.id], seed)
    kept = {}

    def keep(nid, g):
        if nid in ids:
            kept[nid] = g

    try:
        pullback(nodes, values, ct, flags, keep, stop)
    except JacError:
        raise
    except Exception as err:  # a rule that runs on values only: never reached by a test of every op, but refused
        raise JacValueError(f"{spelling}: jac cannot write this derivative as graph nodes (a derivative rule here "
                            f"needs values: {type(err).__name__})", position) from None
    return [b.lift(kept[t.id]) if t.id in kept else None for t in wrt]


def gradients(b: Builder, out: Tracer, wrt: list, spelling: str, position: int, seed=None) -> list:
    """d out / d t for each ``t`` of ``wrt``, shaped as ``t`` (zeros where ``out`` does not depend on it):
    ``out`` has one element, or ``seed`` is the cotangent, of ``out``'s shape."""
    _concrete([out] + list(wrt), spelling, position)
    if seed is None:
        seed = b.const(np.ones((1,) + tuple(out.shape), dtype=b.dtype), position)
    else:
        seed = b.apply("reshape", seed, shape=(1,) + tuple(out.shape), position=position)
    found = pull(b, {out: seed}, wrt, spelling, position)
    return [_zeros(b, t.shape, position) if g is None else b.apply("reshape", g, shape=tuple(t.shape),
                                                                   position=position)
            for g, t in zip(found, wrt)]


def jacobian(b: Builder, out: Tracer, wrt: list, spelling: str, position: int, strict: bool = False) -> list:
    """d out / d t ``(*out.shape, *t.shape)`` for each ``t`` of ``wrt``: one pass whose seed is out's basis."""
    _concrete([out] + list(wrt), spelling, position)
    m = size(out.shape)
    b.check_size((m,) + tuple(out.shape), f"the basis {spelling} differentiates {fmt(out.shape)} by", position)
    seed = b.const(np.eye(m, dtype=b.dtype).reshape((m,) + tuple(out.shape)), position)
    found = pull(b, {out: seed}, wrt, spelling, position)
    parts = []
    for g, t in zip(found, wrt):
        shape = tuple(out.shape) + tuple(t.shape)
        if g is None:
            if strict:
                raise JacValueError(f"{spelling}(..., strict=True): the output does not depend on an input, as "
                                    "PyTorch raises", position)
            parts.append(_zeros(b, shape, position))
        else:
            parts.append(b.apply("reshape", g, shape=shape, position=position))
    return parts


def _concrete(tracers: list, spelling: str, position: int) -> None:
    for t in tracers:
        if not is_concrete(t.shape):
            raise JacShapeError(f"{spelling}: a derivative written in the text is computed at numeric sizes (x:3, "
                                f"not x:n): shape {fmt(t.shape)} has a symbolic size", position)


def _zeros(b: Builder, shape: tuple, position: int) -> Tracer:
    b.check_size(tuple(shape), "a derivative of zeros", position)
    return b.const(np.zeros(tuple(shape), dtype=b.dtype), position)


def _float_array(b: Builder, value, what: str, position: int) -> Tracer:
    """``value`` as the array a derivative is taken of or by: refused unless one array of floats (JAX and PyTorch
    differentiate floats only)."""
    if not isinstance(value, Tracer):
        kind = "a list or tuple" if isinstance(value, (tuple, list)) else "not an array"
        raise JacValueError(f"{what} is {kind}: jac differentiates one array at a time here", position)
    held = b.typed.get(value.id) or b.integral.get(value.id)  # (NumPy dtype, library) of an integer node
    if value.id in b.booleans or type(b.pyints.get(value.id)) is int or held is not None and held[0].kind in "biu":
        raise JacValueError(f"{what} holds integers or booleans: JAX and PyTorch differentiate floats only (write "
                            f"2.0, not 2; x.float())", position)
    return value


def _syntax_arguments(spelling: str, node: ast.Call, names: tuple, position: int) -> dict:
    """The call's arguments as syntax, by parameter name (PyTorch's and JAX's order)."""
    if len(node.args) > len(names):
        raise JacValueError(f"{spelling}() takes at most {len(names)} positional arguments", position)
    given = dict(zip(names, node.args))
    for k in node.keywords:
        if k.arg not in names:
            raise JacValueError(f"{spelling}() has no argument '{k.arg}' jac reads (it reads "
                                f"{', '.join(names)})", position)
        if k.arg in given:
            raise JacValueError(f"{spelling}() got '{k.arg}' twice", position)
        given[k.arg] = k.value
    return given


def _literal(node: ast.expr, spelling: str, key: str):
    """A keyword's value written as a literal (argnums=(0, 1), create_graph=True); refused pointing at the call
    (the parser's position, which the caller's JacError gets from the statement otherwise)."""
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise JacValueError(f"{spelling}(..., {key}={ast.unparse(node)}): write its value itself (a number, a "
                            f"tuple, True or False)", None) from None


def _flag(given: dict, key: str, spelling: str, default):
    return _literal(given[key], spelling, key) if key in given else default


def _arrays(lowering, node: ast.expr) -> tuple:
    """A tensor or a sequence of them (a list or tuple written out, ``model.parameters()``): (list, is a
    sequence); a sequence's element may be None (grad_outputs)."""
    if isinstance(node, (ast.List, ast.Tuple)):
        return [None if isinstance(e, ast.Constant) and e.value is None else lowering.expression(e)
                for e in node.elts], True
    value = lowering.expression(node)
    if isinstance(value, (tuple, list)):
        return list(value), True
    return [value], False


def _autograd_grad(lowering, given: dict, position: int):
    """``torch.autograd.grad(outputs, inputs, grad_outputs=None, ...)``: a tuple of d(sum of outputs · their
    grad_outputs) / d input, by the nodes named; detached unless ``create_graph=True``."""
    spelling = "torch.autograd.grad"
    b = lowering.b
    for key in ("outputs", "inputs"):
        if key not in given:
            raise JacValueError(f"{spelling}() needs {key}", position)
    outs, _ = _arrays(lowering, given["outputs"])
    xs, _ = _arrays(lowering, given["inputs"])
    outs = [_float_array(b, o, f"{spelling}'s output", position) for o in outs]
    xs = [_float_array(b, x, f"{spelling}'s input", position) for x in xs]
    create = bool(_flag(given, "create_graph", spelling, False))
    allow_unused = bool(_flag(given, "allow_unused", spelling, None))
    batched = bool(_flag(given, "is_grads_batched", spelling, False))
    materialize = bool(_flag(given, "materialize_grads", spelling, False))
    _flag(given, "retain_graph", spelling, None)  # read (a literal), and changes no value
    _flag(given, "only_inputs", spelling, True)
    if "grad_outputs" in given and not (isinstance(given["grad_outputs"], ast.Constant)
                                        and given["grad_outputs"].value is None):
        vs, _ = _arrays(lowering, given["grad_outputs"])
        if len(vs) != len(outs):
            raise JacValueError(f"{spelling}: {len(vs)} grad_outputs for {len(outs)} outputs", position)
    else:
        vs = [None] * len(outs)
    _concrete(outs + xs + [v for v in vs if isinstance(v, Tracer)], spelling, position)
    seeds: dict = {}
    count = None
    for k, (o, v) in enumerate(zip(outs, vs)):
        if v is None:
            if batched:
                raise JacValueError(f"{spelling}(..., is_grads_batched=True) needs grad_outputs", position)
            if size(o.shape) != 1:
                raise JacShapeError(f"{spelling}: output {k} has shape {fmt(o.shape)}; without grad_outputs its "
                                    f"gradient is only for one element, as PyTorch's 'grad can be implicitly created "
                                    f"only for scalar outputs' (give grad_outputs=v of its shape)", position)
            seed = b.const(np.ones((1,) + tuple(o.shape), dtype=b.dtype), position)
        else:
            v = _float_array(b, v, f"{spelling}'s grad_outputs[{k}]", position)
            want = tuple(v.shape[1:]) if batched else tuple(v.shape)
            if want != tuple(o.shape) or batched and not v.shape:
                raise JacShapeError(f"{spelling}: grad_outputs[{k}] has shape {fmt(v.shape)} and output {k} "
                                    f"{fmt(o.shape)}: they must match{' after the batch axis' * batched}", position)
            seed = v if batched else b.apply("reshape", v, shape=(1,) + tuple(o.shape), position=position)
            if batched:
                if count is not None and v.shape[0] != count:
                    raise JacShapeError(f"{spelling}: the grad_outputs' batch sizes differ", position)
                count = v.shape[0]
        seeds[o] = seed if o not in seeds else b.apply("add", seeds[o], seed, position=position)
    found = pull(b, seeds, xs, spelling, position)
    results = []
    for k, (g, x) in enumerate(zip(found, xs)):
        shape = ((count,) if batched else (1,)) + tuple(x.shape)
        if g is None:
            if materialize or _in_graph(b, x, list(seeds)):  # torch.floor(x): zeros, as PyTorch's
                results.append(_zeros(b, shape[0 if batched else 1:], position))
                continue
            unused = (f"{spelling}: the outputs do not depend on inputs[{k}]: PyTorch raises 'One of the "
                      f"differentiated Tensors appears to not have been used in the graph'")
            if allow_unused:
                results.append(Refused(f"{unused[:unused.index(':')]}: inputs[{k}] is unused, so PyTorch's gradient "
                                       f"(allow_unused=True) is None, which is not an array (materialize_grads=True "
                                       f"gives zeros)"))
                continue
            raise JacValueError(unused + " (allow_unused=True gives None, materialize_grads=True zeros)", position)
        g = b.apply("reshape", g, shape=shape[0 if batched else 1:], position=position)
        results.append(g if create else detached(b, g, position))
    return Items(results)


# ops whose derivative is 0 and which PyTorch keeps in its graph (a float result with a grad_fn): an output that
# reaches an input only through them uses it, and torch.autograd.grad gives zeros there, not "unused"
_ZERO_IN_GRAPH = frozenset({"sign", "floor", "ceil", "trunc", "round", "floor_divide"})


def _in_graph(b: Builder, x: Tracer, outs: list) -> bool:
    """Whether an output reaches ``x`` in PyTorch's graph, through ops of derivative 0 (``torch.floor``) too."""
    nodes = b.nodes
    top = max(o.id for o in outs)
    reach = [False] * (top + 1)
    for i in range(x.id, top + 1):
        node = nodes[i]
        args = node.args
        reach[i] = i == x.id or bool(args) and (not OPS[node.op].nondiff or node.op in _ZERO_IN_GRAPH) \
            and any(a >= x.id and reach[a] for a in args)
    return any(reach[o.id] for o in outs)


def _functional(lowering, spelling: str, given: dict, position: int):
    """``torch.autograd.functional.jacobian / hessian / vjp / jvp(func, inputs, ...)``: the inputs given to
    ``func`` as fresh leaves; the results detached unless ``create_graph=True`` (PyTorch's own reading)."""
    b = lowering.b
    what = spelling.rsplit(".", 1)[1]
    for key in ("func", "inputs"):
        if key not in given:
            raise JacValueError(f"{spelling}() needs {key}", position)
    fn = function_of(lowering, given["func"], spelling, position)
    xs, several = _arrays(lowering, given["inputs"])
    xs = [_float_array(b, x, f"{spelling}'s input", position) for x in xs]
    create = bool(_flag(given, "create_graph", spelling, False))
    strict = bool(_flag(given, "strict", spelling, False))
    for key in ("vectorize", "strategy", "outer_jacobian_strategy"):
        _flag(given, key, spelling, None)  # read (literals), and change no value
    ts = [b.fresh(x, position) for x in xs]
    out = traced_call(lowering, fn, list(ts), {}, position)

    def done(t):
        return t if create or not isinstance(t, Tracer) else detached(b, t, position)

    def package(parts):
        return Items(parts) if several else parts[0]

    if what == "jacobian":
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        found = [package([done(j) for j in jacobian(
            b, _float_array(b, o, f"{spelling}'s function's output", position), ts, spelling, position, strict)])
            for o in outs]
        return Items(found) if isinstance(out, (tuple, list)) else found[0]
    out = _float_array(b, out, f"{spelling}'s function's output", position)
    if what == "hessian":
        if size(out.shape) != 1:
            raise JacShapeError(f"{spelling}: the function's output has shape {fmt(out.shape)}: PyTorch's hessian "
                                "needs a function with a single element output", position)
        grads = gradients(b, out, ts, spelling, position)
        rows = [package([done(h) for h in jacobian(b, g, ts, spelling, position, strict)]) for g in grads]
        return Items(rows) if several else rows[0]
    v_node = given.get("v")
    vs = None
    if v_node is not None and not (isinstance(v_node, ast.Constant) and v_node.value is None):
        vs, _ = _arrays(lowering, v_node)
        vs = [_float_array(b, v, f"{spelling}'s v", position) for v in vs]
    if what == "vjp":
        if vs is None and size(out.shape) != 1:
            raise JacShapeError(f"{spelling}: v can be left out only for a function with a single element output "
                                f"(its output has shape {fmt(out.shape)})", position)
        if vs is not None and (len(vs) != 1 or tuple(vs[0].shape) != tuple(out.shape)):
            raise JacShapeError(f"{spelling}: v must have the output's shape {fmt(out.shape)}", position)
        grads = gradients(b, out, ts, spelling, position, None if vs is None else vs[0])
        return Items([done(out), package([done(g) for g in grads])])
    if vs is None:  # jvp
        if len(ts) != 1 or size(ts[0].shape) != 1:
            raise JacShapeError(f"{spelling}: v can be left out only for a single input of one element", position)
        vs = [b.const(np.ones(tuple(ts[0].shape), dtype=b.dtype), position)]
    if len(vs) != len(ts) or any(tuple(v.shape) != tuple(t.shape) for v, t in zip(vs, ts)):
        raise JacShapeError(f"{spelling}: v must have the inputs' shapes", position)
    m = size(out.shape)
    total = None
    for j, v, t in zip(jacobian(b, out, ts, spelling, position, strict), vs, ts):
        n = size(t.shape)
        flat = b.apply("matmul", b.apply("reshape", j, shape=(m, n), position=position),
                       b.apply("reshape", v, shape=(n,), position=position), position=position)
        total = flat if total is None else b.apply("add", total, flat, position=position)
    return Items([done(out), done(b.apply("reshape", total, shape=tuple(out.shape), position=position))])
