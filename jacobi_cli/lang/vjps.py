"""The transforms written in the text that return a function or a pair with one: ``jax.jvp`` / ``torch.func.jvp``
(``(primals_out, tangents_out)``), ``jax.vjp`` / ``torch.func.vjp`` (``(primals_out, vjp_fn)``) and
``jax.linearize`` / ``torch.func.linearize`` (``(primals_out, f_jvp)``), as JAX and torch.func define them.

``f`` is called once with a fresh node for each leaf of the primals (:meth:`Builder.fresh`, as
:mod:`.derivatives` does for ``jax.grad``). A ``vjp_fn`` (:class:`Pullback`) and an ``f_jvp`` (:class:`Pushforward`)
are values of the text (assigned, unpacked, passed to a function, called more than once): a call pulls its cotangents
back from ``f``'s output nodes by the one reverse pass (:func:`.derivatives.pull`), as nodes of the builder, which jac
differentiates in turn. A tangent ``J·t`` is computed by the same pass, as ``torch.autograd.functional.jvp`` is in
:mod:`.derivatives`: the output's basis pulled back gives ``J`` (:func:`.derivatives.jacobian`), times ``t`` (equal to
the libraries' forward mode up to rounding). So forward over reverse (``jax.jvp(jax.grad(f), ...)``), reverse over
forward (``jax.grad(lambda x: jax.jvp(f, (x,), (v,))[1])``) and ``vjp`` of a ``jvp`` are all nodes of the ops' own
derivative rules.

Pytrees: each primal, tangent or cotangent is an array or a pytree of arrays (dicts, tuples and lists nested, None
leaves: :mod:`.trees`), an output likewise; non-arrays are refused. The checks are the libraries': ``jax.jvp``'s primals and tangents
are tuples or lists (``torch.func.jvp``'s tuples) of the same structure and shapes; a cotangent has its output's
structure and shape; integers and booleans are refused (jac differentiates floats; it has one float dtype, so a
float32 tangent of a float64 primal, which JAX refuses and PyTorch casts, is read as PyTorch reads it).
"""

from __future__ import annotations

import ast

from ..errors import JacShapeError, JacValueError
from ..ir.graph import Tracer
from ..ir.shapes import fmt, size
from .derivatives import _concrete, at_call, traced_call, _float_array, _literal, _syntax_arguments, _zeros, function_of, jacobian, pull
from .functions import Items
from . import trees, whiles
from .trees import unfolded
from . import custom  # refuse_in_transform: a rule the library does not run under a transform

# spelling -> (what it computes, its parameters in the library's order (the primals of vjp / linearize are
# positional after the function), its keywords and the value jac reads for each (None: any literal))
SPELLINGS = {
    "jax.jvp": ("jvp", ("fun", "primals", "tangents", "has_aux"), {"has_aux": None}),
    "torch.func.jvp": ("jvp", ("func", "primals", "tangents"), {"strict": False, "has_aux": None}),
    "jax.vjp": ("vjp", ("fun",), {"has_aux": None, "reduce_axes": ()}),
    "torch.func.vjp": ("vjp", ("func",), {"has_aux": None}),
    "jax.linearize": ("linearize", ("fun",), {"has_aux": None}),
    "torch.func.linearize": ("linearize", ("func",), {}),
}


class Linear:
    """A function a transform of the text returned (``vjp_fn``, ``f_jvp``): the parser's ``call_value`` calls
    :meth:`call`. ``outs``: the output leaves of ``f`` (tracers), ``out_tree``: None for one array, else the
    number of leaves of the tuple; ``ts``: the fresh nodes of the primal leaves, ``in_trees``: each primal's
    (None or its leaf count)."""

    def __init__(self, spelling: str, outs: list, out_tree, ts: list, in_trees: list):
        self.spelling, self.outs, self.out_tree, self.ts, self.in_trees = spelling, outs, out_tree, ts, in_trees

    @property
    def jax(self) -> bool:
        return self.spelling.startswith("jax")


class Pullback(Linear):
    """``vjp_fn`` of ``y, vjp_fn = jax.vjp(f, *primals)``: ``vjp_fn(ct)`` is a tuple, one cotangent per primal."""

    @property
    def example(self) -> str:
        return f"y, vjp_fn = {self.spelling}(f, x); vjp_fn(v)[0]"

    def call(self, lowering, args: list, kwargs: dict, position: int):
        name = f"{self.spelling}'s vjp_fn"
        allowed = () if self.jax else ("retain_graph", "create_graph")  # PyTorch's wrapper's keywords: no value
        extra = [k for k in kwargs if k not in allowed]
        if len(args) != 1 or extra:
            raise JacValueError(f"{name} takes one cotangent, of the function's output's structure (a tuple for a "
                                f"tuple output){': no keyword ' + repr(extra[0]) if extra else ''}; it was given "
                                f"{len(args)} positional arguments", position)
        b = lowering.b
        cts = _leaves(unfolded(lowering, args[0]), self.out_tree, f"{name}'s cotangent", "the function's output",
                      position, self.jax)
        seeds: dict = {}
        paths = trees.paths(self.out_tree) if self.out_tree is not None else [""]
        for k, (ct, o) in enumerate(zip(cts, self.outs)):
            where = f"{name}'s cotangent" + paths[k]
            ct = _float_array(b, ct, where, position)
            if tuple(ct.shape) != tuple(o.shape):
                raise JacShapeError(f"{where} has shape {fmt(ct.shape)} and the function's output"
                                    f"{paths[k]} {fmt(o.shape)}: they must match, "
                                    f"as {'JAX' if self.jax else 'PyTorch'} refuses", position)
            seed = b.apply("reshape", ct, shape=(1,) + tuple(o.shape), position=position)
            seeds[o] = seed if o not in seeds else b.apply("add", seeds[o], seed, position=position)
        _concrete(self.outs + self.ts + cts, self.spelling, position)
        found = pull(b, seeds, self.ts, self.spelling, position)
        grads = [_zeros(b, t.shape, position) if g is None else b.apply("reshape", g, shape=tuple(t.shape),
                                                                        position=position)
                 for g, t in zip(found, self.ts)]
        return Items(_trees(grads, self.in_trees))


class Pushforward(Linear):
    """``f_jvp`` of ``y, f_jvp = jax.linearize(f, *primals)``: ``f_jvp(*tangents)`` is ``J·t``, of the output's
    structure."""

    @property
    def example(self) -> str:
        return f"y, f_jvp = {self.spelling}(f, x); f_jvp(v)"

    def call(self, lowering, args: list, kwargs: dict, position: int):
        name = f"{self.spelling}'s jvp function"
        if kwargs or len(args) != len(self.in_trees):
            raise JacValueError(f"{name} takes one tangent per primal ({len(self.in_trees)}), positional; it was "
                                f"given {len(args)}{' and keywords' * bool(kwargs)}", position)
        tangents = []
        for k, (t, tree) in enumerate(zip(args, self.in_trees)):
            tangents += _leaves(unfolded(lowering, t), tree, f"{name}'s tangent {k}", f"primal {k}", position,
                                self.jax)
        return tangent_out(lowering.b, self, tangents, name, position)


def lower(lowering, spelling: str, node: ast.Call, position: int):
    """``jax.jvp(f, primals, tangents)``, ``jax.vjp(f, *primals)``, ``jax.linearize(f, *primals)`` and
    torch.func's: their value (a tuple holding arrays and a :class:`Linear`)."""
    return at_call(_lowered, lowering, spelling, node, position)


def _lowered(lowering, spelling: str, node: ast.Call, position: int):
    kind, names, known = SPELLINGS[spelling]
    b, jax = lowering.b, spelling.startswith("jax")
    given = _syntax_arguments(spelling, node, names + tuple(known), position) if kind == "jvp" else \
        _syntax_arguments(spelling, ast.Call(node.func, node.args[:1], node.keywords), names + tuple(known), position)
    if names[0] not in given:
        raise JacValueError(f"{spelling}() needs the function to differentiate", position)
    for key, default in known.items():
        if key in given and default is not None and _literal(given[key], spelling, key) != default:
            raise JacValueError(f"{spelling}(..., {key}={ast.unparse(given[key])}) is not supported: jac reads "
                                f"{key}={default!r}", lowering.source.at(given[key]))
    has_aux = bool(_literal(given["has_aux"], spelling, "has_aux")) if "has_aux" in given else False
    fn = function_of(lowering, given[names[0]], spelling, position)
    if kind == "jvp":
        for key in ("primals", "tangents"):
            if key not in given:
                raise JacValueError(f"{spelling}() needs {key}: {spelling}(f, primals, tangents), each a tuple "
                                    f"(primals=(x,), tangents=(v,))", position)
        primals = _sequence(lowering, given["primals"], spelling, "primals", position)
        tangents = _sequence(lowering, given["tangents"], spelling, "tangents", position)
        if len(tangents) != len(primals):
            raise JacValueError(f"{spelling}: {len(primals)} primals and {len(tangents)} tangents: one tangent per "
                                f"primal, as {'JAX' if spelling.startswith('jax') else 'PyTorch'} requires", position)
    else:
        primals = [_written(lowering, a, f"{spelling}'s primal {k}") for k, a in enumerate(node.args[1:])]
        if not primals:
            raise JacValueError(f"{spelling}(f, *primals) needs at least one primal (the point)", position)
    leaves, trees = [], []
    for k, p in enumerate(primals):
        tree = _tree(p, jax)
        found = _leaves(p, tree, f"{spelling}'s primal {k}", "", position, jax)
        leaves += [_float_array(b, x, f"{spelling}'s primal {k}", position) for x in found]
        trees.append(tree)
    _concrete(leaves, spelling, position)
    ts = [b.fresh(x, position) for x in leaves]
    start = len(b.nodes)
    loops, tests = lowering.while_loops, len(lowering.value_tests)
    out = unfolded(lowering, traced_call(lowering, fn, _trees(ts, trees), {}, position))
    custom.refuse_in_transform(lowering, spelling, start, position)  # jax.jvp of a custom_vjp (lang/custom.py)
    whiles.refuse_reverse(lowering, loops, spelling, position)  # jax.vjp: JAX's reverse mode refuses a while_loop
    whiles.refuse_value_tests(lowering, tests, ts, spelling, position)  # torch.func.linearize's if refused
    whiles.refuse_tangent_reads(lowering, tests, ts, spelling, position)  # float(v) of a JVP tracer raises
    aux = None
    if has_aux:
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise JacValueError(f"{spelling}(..., has_aux=True): the function returns a pair (output, aux)",
                                position)
        out, aux = out
    out_tree = _tree(out, jax)
    outs = [_float_array(b, o, f"{spelling}'s function's output", position)
            for o in _leaves(out, out_tree, f"{spelling}'s function's output", "", position, jax)]
    made = (Pullback if kind == "vjp" else Pushforward)(spelling, outs, out_tree, ts, trees)
    if kind == "jvp":
        flat = []
        for k, (t, tree) in enumerate(zip(tangents, trees)):
            flat += _leaves(t, tree, f"{spelling}'s tangent {k}", f"primal {k}", position, jax)
        second = tangent_out(b, made, flat, f"{spelling}'s tangents", position)
    else:
        second = made
    return Items([out, second, aux] if has_aux else [out, second])


def tangent_out(b, made: Linear, tangents: list, name: str, position: int):
    """``J·t``, of the output's structure: for each output leaf, the sum over the primal leaves of its Jacobian
    by that leaf ``(m, n)`` times the leaf's tangent ``(n,)`` (the Jacobian by the one reverse pass)."""
    for k, (v, t) in enumerate(zip(tangents, made.ts)):
        v = _float_array(b, v, f"{name} (leaf {k})", position)
        if tuple(v.shape) != tuple(t.shape):
            raise JacShapeError(f"{name}: leaf {k} has shape {fmt(v.shape)} and its primal {fmt(t.shape)}: they "
                                f"must match, as {'JAX' if made.jax else 'PyTorch'} refuses", position)
        tangents[k] = v
    _concrete(made.outs + made.ts + tangents, made.spelling, position)
    results = []
    for o in made.outs:
        m = size(o.shape)
        total = None
        for j, v, t in zip(jacobian(b, o, made.ts, made.spelling, position), tangents, made.ts):
            n = size(t.shape)
            flat = b.apply("matmul", b.apply("reshape", j, shape=(m, n), position=position),
                           b.apply("reshape", v, shape=(n,), position=position), position=position)
            total = flat if total is None else b.apply("add", total, flat, position=position)
        results.append(b.apply("reshape", total, shape=tuple(o.shape), position=position))
    return results[0] if made.out_tree is None else trees.unflatten(made.out_tree, results)


def _sequence(lowering, node: ast.expr, spelling: str, key: str, position: int) -> list:
    """jvp's primals or tangents: a tuple (or, JAX's, a list) of primals, each an array or a tuple of them."""
    torch = spelling.startswith("torch")
    if torch and isinstance(node, ast.List):
        raise JacValueError(f"{spelling}: {key} is a tuple ({key}=(x,)), as PyTorch requires ('Expected {key} to "
                            f"be a tuple')", lowering.source.at(node))
    value = _written(lowering, node, f"{spelling}'s {key}")
    if not isinstance(value, (tuple, list)):
        raise JacValueError(f"{spelling}: {key} is a tuple{'' if torch else ' or list'} of arrays, one per argument "
                            f"of the function ({key}=(x,), not {key}=x), as "
                            f"{'PyTorch' if torch else 'JAX'} requires", lowering.source.at(node))
    return list(value)


def _written(lowering, node: ast.expr, what: str):
    """The value of ``node``, a tuple or list written out read as one of its elements' values (the parser reads
    ``(jnp.ones(3),)`` as a constant array: a pytree's structure would be lost). A name assigned a tuple of
    constants (``v = (jnp.ones(3),)``) is refused: its structure is gone."""
    if isinstance(node, (ast.Tuple, ast.List)):
        return Items([_written(lowering, e, what) for e in node.elts])
    value = unfolded(lowering, lowering.expression(node))  # p = [jnp.ones(3), jnp.zeros(3)]: two leaves
    if isinstance(node, ast.Name) and isinstance(value, Tracer) and node.id in lowering.sequence_names:
        raise JacValueError(f"{what}: '{node.id}' was assigned a tuple or list of constants, which jac holds as one "
                            f"array: write the tuple itself in the call, as (jnp.ones(3),), not a name",
                            lowering.source.at(node))
    return value


def _tree(value, sort: bool):
    """A value's structure: None for one array, else its pytree's :class:`~.trees.TreeDef` (dicts, tuples and lists
    nested, None leaves as JAX reads them: lang/trees.py)."""
    return None if isinstance(value, Tracer) else trees.flatten(value, "the pytree", None, sort=sort)[1]


def _leaves(value, tree, what: str, like: str, position: int, sort: bool) -> list:
    """The arrays of ``value``, whose structure must be ``tree`` (:func:`_tree`; ``like`` names what gave it); a
    dict's in JAX's order (``sort``: JAX's spellings) or torch.func's (insertion)."""
    if isinstance(value, Tracer):
        found, its = [value], None
    elif trees.is_tree(value):
        found, its = trees.flatten(value, what, position, sort=sort)
        its = None if its == trees.LEAF else its
    else:
        raise JacValueError(f"{what} is not an array: jac reads an array or a pytree of arrays here (a tuple, list "
                            f"or dict of them)", position)
    if like and its != tree:
        def shape(t):
            return "one array" if t is None else f"the pytree {t}"
        raise JacValueError(f"{what} is {shape(its)} and {like} {shape(tree)}: their structures must match",
                            position)
    return found


def _trees(leaves: list, structures: list) -> list:
    """``leaves`` put back in the structures ``structures``: one value per structure."""
    out, k = [], 0
    for tree in structures:
        if tree is None:
            out.append(leaves[k])
            k += 1
        else:
            out.append(trees.unflatten(tree, leaves[k:k + tree.num_leaves]))
            k += tree.num_leaves
    return out
