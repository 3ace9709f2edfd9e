"""PyTorch's saved tensors: what its backward pass reads back, and refuses when a write in place changed it.

Autograd keeps some tensors of the forward pass for the derivative (``torch.exp`` its result, ``torch.sin`` its
input, ``a * b`` each operand where the other requires grad: ``derivatives.yaml``) and checks their version when
backward unpacks them: a write in place between the two (``h = torch.exp(x); h.add_(1); h.sum()``) makes backward
raise "one of the variables needed for gradient computation has been modified by an inplace operation", where the
mathematics (and jac, before session 35) has an answer. jac refuses such a text, PyTorch-spelled, for the documented
set below, where it knows exactly what PyTorch saves (``tests/test_raises35.py`` checks each entry against PyTorch
itself); other ops are answered as before (a text whose write changes a tensor saved by another op, say
``h.prod()``, is answered: PyTorch would raise).

The parser registers a node as a saver only where the text spells the op itself (:data:`SAVES`: ``torch.exp(h)``,
``h.exp()``, ``h * y``, ``torch.dot(h, y)``), never an op inside another function's lowering; a write in place
(``h.add_(1)``, ``h += 1``, ``h[0] = 0``) records the savers that saved the buffer it changes (its node, or a view
of it: a transpose, ``detach``, a basic index, ``expand``), and :meth:`~.graph.Builder.graph` refuses the output
when one of them is on its backward path (reached from an output through nodes that require grad), as PyTorch's
backward would run it."""

from __future__ import annotations

from ..errors import JacValueError

# the ops PyTorch saves the result of (exp's derivative is grad * result), and those it saves the input of
RESULT = frozenset(("exp", "exp2", "expm1", "tanh", "sigmoid", "sqrt", "rsqrt", "relu", "reciprocal", "tan"))
_INPUT = frozenset(("sin", "cos", "log", "log1p", "log2", "log10", "abs", "square", "arctan", "sinh", "cosh",
                    "asinh", "erf"))
# spelling (a torch function, a method, an operator) -> jac's op it lowers to
SAVES = {**{name: name for name in RESULT | _INPUT - {"arctan"}}, "atan": "arctan", "arctan": "arctan",
         "mul": "mul", "multiply": "mul", "div": "div", "divide": "div", "true_divide": "div",
         "matmul": "matmul", "mm": "matmul", "mv": "matmul", "dot": "matmul", "pow": "pow"}
# Session 37: the spellings above that are methods of PyTorch's Tensor alone (NumPy's ndarray, JAX's Array and Python's
# containers have none of them: x.exp() raises AttributeError there), so a text naming no library that calls one on
# an array (t = x.exp(); t -= x) runs in PyTorch alone, and its writes get PyTorch's saved-tensor checks
# (tests/test_inplace37.py recomputes this set from the three libraries)
TORCH_METHODS = frozenset((
    "abs", "acos", "acosh", "addcmul", "addmm", "addmv", "amax", "amin", "aminmax", "arccos", "arccosh", "arcsin",
    "arctan", "arctan2", "arctanh", "asin", "asinh", "atan", "atan2", "atanh", "baddbmm", "bmm", "clamp", "clamp_max",
    "clamp_min", "copysign", "cos", "cosh", "cross", "cummax", "cummin", "det", "digamma", "dist", "div", "divide",
    "erf", "erfc", "erfinv", "exp", "exp2", "expm1", "float_power", "fmax", "fmin", "gather", "ger", "hypot", "i0",
    "inner", "inverse", "kron", "kthvalue", "lgamma", "log", "log10", "log1p", "log2", "log_softmax", "logaddexp",
    "logaddexp2", "logcumsumexp", "logdet", "logit", "logsumexp", "masked_select", "matmul", "maximum", "median",
    "minimum", "mm", "mode", "mul", "multiply", "mv", "nan_to_num", "nanmean", "nanmedian", "nansum", "norm", "outer",
    "pow", "prelu", "qr", "reciprocal", "relu", "rsqrt", "sigmoid", "sin", "sinc", "sinh", "slogdet", "softmax", "sqrt",
    "square", "svd", "take_along_dim", "tan", "tanh", "topk", "true_divide", "vdot", "xlogy",
    "cholesky", "matrix_exp", "solve"))  # session 57 (h57-fuzz2): with their KEPT entries
MESSAGE = "one of the variables needed for gradient computation has been modified by an inplace operation"

# Session 36: the spellings whose lowering is no single op of the same name (a composite, extra arguments,
# keywords), read off the call: spelling (a torch / F / torch.linalg / torch.special function, or a method) ->
# what PyTorch keeps, each checked against PyTorch by tests/test_saved36.py:
#   "result": its result; "input": its first operand; "both": its first operand and its result;
#   "operands": every tensor operand, whenever the call requires grad (a clamp's tensor bounds too);
#   "operands+result": every tensor operand and the result; "own+result": each operand that requires grad itself,
#   and the result; "first+result": the first operand and the result where the first requires grad; "pow": every
#   tensor operand, the result too where the exponent requires grad; "crossed": each of two operands where the other
#   requires grad (a product; "crossed12": the second and third operands, addmm's matrices, addcmul's factors).
# kron keeps its operands as "crossed" without PyTorch's version check: its backward reads what a later write left
# (a gradient other than the text's, silently), which jac refuses too (UNCHECKED).
KEPT = {
    **dict.fromkeys(("softmax", "log_softmax", "softmin", "inverse", "inv"), "result"),
    **dict.fromkeys(("softplus", "gelu", "leaky_relu", "elu", "silu", "mish", "selu", "hardtanh", "relu6",
                     "logsigmoid", "softsign", "hardswish", "erfc", "lgamma", "digamma", "sinc", "asin", "arcsin",
                     "acos", "arccos", "atanh", "arctanh", "acosh", "arccosh", "erfinv", "logit", "nan_to_num", "i0",
                     "entr", "normalize", "nanmean", "nansum", "var", "logdet", "float_power",
                     "clamp_min", "clamp_max", "masked_select", "take",
                     "threshold", "hardsigmoid", "celu", "rrelu"), "input"),  # session 55
    **dict.fromkeys(("prod", "amax", "amin", "norm", "vector_norm", "matrix_norm", "logsumexp", "cumprod",
                     "logcumsumexp", "std", "det", "erfcx", "log_ndtr", "i1"), "both"),
    "solve": "both",  # torch.linalg.solve(A, B): A and the result, B not (session 57, torchprog37 seed 5768)
    # session 57 (h57-fuzz2): linear algebra, each checked against PyTorch in tests/test_saved36.py
    **dict.fromkeys(("cholesky", "eigvalsh", "svdvals"), "result"), "pinv": "both", "matrix_exp": "input",
    "solve_triangular": "both",
    **dict.fromkeys(("maximum", "minimum", "fmax", "fmin", "atan2", "arctan2", "xlogy", "xlog1py", "logaddexp",
                     "logaddexp2", "mse_loss", "smooth_l1_loss", "huber_loss", "clamp", "clip"), "operands"),
    **dict.fromkeys(("dist", "cdist"), "operands+result"),
    "hypot": "own+result", "copysign": "first+result", "pow": "pow",
    **dict.fromkeys(("outer", "ger", "inner", "vdot", "tensordot", "cross", "bmm", "linear", "einsum", "kron"),
                    "crossed"),
    **dict.fromkeys(("addcmul", "addmm", "addmv", "baddbmm"), "crossed12"),
    # session 37 (tests/test_saved36.py, tests/test_dtypes37.py): layers, losses and pools, "named" (NAMED)
    **dict.fromkeys(("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
                     "batch_norm", "torch.batch_norm", "layer_norm", "group_norm", "instance_norm",
                     "torch.instance_norm", "nll_loss", "cross_entropy", "binary_cross_entropy",
                     "binary_cross_entropy_with_logits", "prelu", "max_pool1d", "max_pool2d", "avg_pool1d",
                     "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d"), "named"),
    **dict.fromkeys(("gather", "take_along_dim"), "input"),
    "pairwise_distance": "result", "cosine_similarity": "own",
}
UNCHECKED = frozenset(("kron",))
# Session 37: PyTorch's calls of several results (a (values, indices) pair, a named tuple): spelling -> (whether it
# keeps its first operand, the positions of the results it keeps). One backward node computes every part, so a
# write into a kept tensor makes backward raise through any differentiable part (torch.var_mean(h)[1] too); each
# entry checked against PyTorch by tests/test_views37.py. The indices of max / sort / topk are kept (a write into
# them raises), cummax and cummin keep their operand as well (their old "input" entry in KEPT, which this table made
# dead, is gone since session 38: tests/test_views38.py keeps session 36's checks of them against this table).
PARTS = {
    **dict.fromkeys(("max", "min", "sort", "topk", "median", "nanmedian", "mode", "kthvalue"), (False, (1,))),
    **dict.fromkeys(("cummax", "cummin"), (True, (1,))),
    "var_mean": (True, ()), "std_mean": (True, (0,)), "aminmax": (True, (0, 1)), "slogdet": (True, (0,)),
    "eigh": (False, (0, 1)), "qr": (False, (0, 1)), "svd": (False, (0, 1, 2)),
}
# "named" spellings: (their parameters in order, the ones PyTorch keeps whenever the call requires grad, whichever
# of them requires grad: a convolution keeps its input and weight, never its bias; batch_norm its input and weight;
# layer_norm its bias too; instance_norm its input alone; cross_entropy its weight alone, nll_loss its input and
# weight). torch.batch_norm and torch.instance_norm take their weight and bias before the running statistics.
_CONV = (("input", "weight", "bias"), ("input", "weight"))
_POOL = (("input",), ("input",))
NAMED = {
    **dict.fromkeys(("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d"), _CONV),
    "batch_norm": (("input", "running_mean", "running_var", "weight", "bias"), ("input", "weight")),
    "torch.batch_norm": (("input", "weight", "bias", "running_mean", "running_var"), ("input", "weight")),
    "layer_norm": (("input", "normalized_shape", "weight", "bias"), ("input", "weight", "bias")),
    "group_norm": (("input", "num_groups", "weight", "bias"), ("input", "weight")),
    "instance_norm": (("input", "running_mean", "running_var", "weight", "bias"), ("input",)),
    "torch.instance_norm": (("input", "weight", "bias", "running_mean", "running_var"), ("input",)),
    "nll_loss": (("input", "target", "weight"), ("input", "weight")),
    "cross_entropy": (("input", "target", "weight"), ("weight",)),
    "binary_cross_entropy": (("input", "target", "weight"), ("input", "target", "weight")),
    "binary_cross_entropy_with_logits": (("input", "target", "weight", "size_average", "reduce", "reduction",
                                          "pos_weight"), ("input", "target", "weight", "pos_weight")),
    "prelu": (("input", "weight"), ("input", "weight")),
    **dict.fromkeys(("max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d",
                     "adaptive_avg_pool2d", "adaptive_max_pool1d"), _POOL),
}
# max and min: of one tensor (h.max()) a reduction keeping its operand and result; of two (torch.max(h, y)) as
# maximum; with a dim (torch.max(h, 0)) a (values, indices) pair, which keeps only the indices
_EXTREMES = ("max", "min", "median")


def layer_keeps(cls: str, fname: str | None, kwargs: dict, recurrent, layers, norms) -> tuple:
    """Session 38: ``(keeps its input, keeps its result)`` for a call of the module ``nn.<cls>`` (``fname``: the
    function a parameter-free module calls, ``kwargs`` its constructor's). A layer with parameters (``layers``: Linear,
    the convolutions, Bilinear; ``recurrent``: the RNN cells and layers, MultiheadAttention, all of which multiply
    their tensor arguments by a weight that requires grad) and a norm (``norms``: its input, :data:`NAMED`) keep
    their arguments; an activation keeps what its function keeps (:data:`RESULT`, :data:`KEPT`); an embedding, a
    dropout, a pad or a module jac does not know here keeps nothing it can tell (answered, as before)."""
    if cls in layers or cls in recurrent or cls in norms:
        return cls != "Embedding", False
    if fname is None or kwargs.get("inplace") not in (None, False):
        return False, False
    kept = "result" if fname in RESULT else "input" if fname in _INPUT else KEPT.get(fname)
    if kept == "named":  # nn.NLLLoss keeps its input, nn.CrossEntropyLoss its weight alone
        return "input" in NAMED[fname][1], False
    return kept in ("input", "both", "operands", "operands+result"), kept in ("result", "both", "operands+result")


def rule(spelling: str | None, op: str) -> str | None:
    """The op ``spelling`` names, if it is ``op`` (the node the text's call made) and one of :data:`SAVES`."""
    return op if spelling is not None and SAVES.get(spelling) == op else None


def saved_ids(nodes, i: int) -> tuple:
    """The nodes saver ``i`` keeps for its derivative, as PyTorch's ``derivatives.yaml`` says (each operand
    of a product where the other requires grad; a power's base and exponent, its result too where the exponent
    requires grad)."""
    node = nodes[i]
    op, args = node.op, node.args
    if op in RESULT:
        return (i,)
    if op in _INPUT:
        return args[:1]
    grad = [nodes[a].requires_grad for a in args]
    if op in ("mul", "matmul"):
        return tuple(a for a, other in ((args[0], grad[1]), (args[1], grad[0])) if other)
    if op == "div":
        return ((args[1],) if grad[0] else ()) + (tuple(args) if grad[1] else ())
    if op == "pow":
        return tuple(args) + ((i,) if grad[1] else ())
    return ()


def kept_by_call(spelling: str, operands: list, grads: list, keywords: tuple):
    """What the call ``spelling(*operands)`` (:data:`KEPT`; ``operands`` its tensors and numbers as the text passes
    them, the method's owner first, ``grads[k]`` whether operand k requires grad, ``keywords``: the names of the last
    ones, passed by keyword) keeps: ``(result, positions)``, or None where jac does not know (it is then answered,
    as before)."""
    kind = KEPT.get(spelling)
    if kind == "named":
        parameters, kept = NAMED[spelling]
        named = list(parameters[:len(operands) - len(keywords)]) + list(keywords)
        return False, tuple(k for k, g in enumerate(grads) if g is not None and k < len(named) and named[k] in kept)
    if spelling in _EXTREMES:
        kind = "both" if len(operands) == 1 else "operands" if spelling != "median" and len(operands) == 2 \
            and not keywords and grads[1] is not None else None
    tensors = [k for k, g in enumerate(grads) if g is not None]
    if kind is None or not tensors or tensors[0] != 0 and spelling not in ("einsum", "pow"):
        return None
    if kind == "result":
        return True, ()
    if kind in ("input", "both"):
        return kind == "both", (0,)
    if kind in ("operands", "operands+result"):
        return kind == "operands+result", tuple(tensors)
    if kind in ("own+result", "own"):
        return kind == "own+result", tuple(k for k in tensors if grads[k])
    if kind == "first+result":
        return (True, (0,)) if grads[0] else None
    if kind == "pow":
        return len(grads) == 2 and bool(grads[1]), tuple(tensors)
    pair = tensors if spelling == "einsum" else [k for k in tensors if k in (1, 2)] if kind == "crossed12" \
        else tensors[:2]
    if len(pair) != 2 or spelling == "einsum" and (len(operands) != 3 or keywords):
        return None  # a product of two tensors, positionally (einsum: its equation and two operands)
    a, b = pair
    return False, tuple(k for k, other in ((a, b), (b, a)) if grads[other])


def in_place_kept(spelling: str, operands: list, grads: list, keywords: bool) -> tuple:
    """The operands (positions past 0, the written tensor) PyTorch's in-place ``y.<spelling>_(...)`` (``y *= v``:
    ``mul``) keeps for its derivative: those the op itself keeps, but not y's old value, which autograd copies
    before the write (``t.mul_(y)`` is answered). An operand sharing y's buffer (``t.mul_(t)``, ``t /= t``,
    ``t.mul_(t.detach())``, ``t.addcmul_(t, y)``, ``t.pow_(t)``, ``t.clamp_(min=t)``) is changed by the very write:
    PyTorch's backward raises (session 37, checked against PyTorch by tests/test_torchprog37.py)."""
    op = SAVES.get(spelling)
    if op in ("mul", "div", "pow") and len(grads) == 2:
        g0, g1 = bool(grads[0]), bool(grads[1])
        kept = {"mul": (1,) if g0 else (), "div": (1,) if g0 or g1 else (), "pow": (1,)}[op]
    else:
        found = kept_by_call(spelling, operands, grads, keywords) if spelling in KEPT else None
        kept = () if found is None else found[1]
    return tuple(k for k in kept if k != 0)


def changed_by_itself(b, i: int, written: frozenset, name: str, what: str, position, spelling: str) -> None:
    """Node ``i``, a write in place into ``name`` (``what``), keeps an operand sharing the buffers ``written`` it
    changes (:func:`in_place_kept`): a saver made stale by its own write, refused by :func:`check` where backward
    reaches it."""
    register(b, i, frozenset(), written, spelling)
    b.stale.append((i, name, what, position, spelling, False))


def register(b, i: int, results: frozenset, arguments: frozenset, spelling: str | None = None) -> None:
    """Node ``i`` (which the text spelled as one of :data:`SAVES`, and which requires grad) keeps the buffers
    ``results`` (its result's, where it saves it) and ``arguments`` (those of the operands it saves: the tokens
    of ``lang.scatter.Memory``, so a copy that shares the node, ``h2 = h.clone()``, is a buffer of its own)."""
    if b.savers is None:
        b.savers, b.stale = {}, []
    b.savers[i] = (results, arguments, spelling)


def overwritten(b, written: frozenset, name: str, what: str, position) -> None:
    """A write in place into the buffers ``written`` (the name ``name``'s, a view's base's too): the savers that
    kept one of them are remembered, with the write, for :func:`check`."""
    for saver, (results, arguments, spelling) in (b.savers or {}).items():
        if written & results or written & arguments:
            b.stale.append((saver, name, what, position, spelling or b.nodes[saver].op, bool(written & results)))


# ops of derivative zero that PyTorch still records (RoundBackward0, SignBackward0, ...: a float result with a grad_fn),
# so its backward walks through them to what they read, and a saver there is checked (jac's nondiff ops otherwise)
_ZERO_BACKWARD = frozenset(("round", "sign", "floor", "ceil", "trunc"))


def check(b, outputs: list) -> None:
    """Refuse the outputs when a saver whose tensor a later write changed is on their backward path."""
    nodes = b.nodes
    stale = {}
    for entry in b.stale:
        stale.setdefault(entry[0], entry)
    reached = set(outputs)
    first = min(stale)
    recorded = _recorded(b, first, max(reached))
    for i in range(max(reached), first - 1, -1):
        if i not in reached or not recorded(i):
            continue
        if i in stale:
            _refuse(stale[i])
        reached.update(a for a in nodes[i].args if recorded(a))


def _recorded(b, first: int, last: int):
    """Whether node ``i`` is on PyTorch's backward graph (a function of ``i``): it requires grad, or it is one of
    :data:`_ZERO_BACKWARD` (a float result: PyTorch records it with a derivative of zeros, jac's graph gives it none)
    of a node on that graph, or any other differentiable op of one (``v = t[1:3]`` of ``t.sign_()``'s result);
    below node ``first`` (no stale saver there) a node's own ``requires_grad`` or op says (session 54)."""
    from .ops import OPS
    nodes, integral = b.nodes, b.integral
    known = {}

    def below(a):
        node = nodes[a]
        return node.requires_grad or node.op in _ZERO_BACKWARD and a not in integral

    for i in range(first, last + 1):
        node = nodes[i]
        rule = OPS.get(node.op)  # None: a leaf, stale itself when a write of no element left it as it was
        if node.requires_grad:
            known[i] = rule is None or not rule.nondiff or node.op in _ZERO_BACKWARD
        elif i in integral or rule is None or rule.nondiff and node.op not in _ZERO_BACKWARD:
            known[i] = False
        else:
            known[i] = any(known[a] if a >= first else below(a) for a in node.args)
    return lambda a: known[a] if a >= first else below(a)


def _refuse(entry) -> None:
    saver, name, what, position, op, result = entry[:6]
    if len(entry) > 6:  # a write through .data (lang/nograd.py): no version bumped, PyTorch answers silently
        raise JacValueError(entry[6], position)
    kept = "its result" if result else "its argument"
    if op in UNCHECKED:
        raise JacValueError(f"{what}: PyTorch's {op} keeps '{name}' ({kept}) for its derivative without checking that "
                            "it is unchanged: its backward pass would read the values this write leaves and give "
                            "another gradient than the text's, silently; jac refuses it. Write into a copy "
                            f"({name} = {name}.clone() before the write) or bind a new name ({name}2 = {name} + ...)",
                            position)
    raise JacValueError(f"{what}: PyTorch's backward pass raises here (\"{MESSAGE}\"): {op} saved '{name}' "
                        f"({kept}) for its derivative, and this write changes it before backward; write into a copy "
                        f"({name} = {name}.clone() before the write) or bind a new name ({name}2 = {name} + ...)",
                        position)
