"""Matrix calculus on jac's graph: a derivative in matrix form, composed from one rule per op.

SymPy's own matrix derivative (``expr.diff(X)``) knows products, traces and inverses, but not
``det`` (it leaves ``Derivative(Determinant(A), A)``), softmax, logsumexp or norms, and it answers
element-wise functions of vectors with array expressions. Expanding such ops into components
instead explodes: ``det`` of a symbolic 6×6 matrix has 720 terms, and its derivative 720 more per
entry. So this module differentiates the graph itself, node by node, on the nodes' matrix forms
(:func:`jacobi_cli.tools.symbolic.translate` with ``as_components=False``), with the identities of
matrix calculus:

- a **scalar output** in reverse mode: each node's adjoint ``G = ∂y/∂v`` has the node's shape
  (vectors as columns), so matrices on the way are fine: ``d det A = det A · A⁻ᵀ``,
  ``d A⁻¹ = -A⁻ᵀ G A⁻ᵀ``, ``G_A = G Bᵀ`` for ``A @ B``, ``G ∘ f'.(u)`` for ``f.(u)``;
- a **vector output** by a scalar or vector input in forward mode: each node's tangent is its
  Jacobian ``∂v/∂x`` (rows: the node's elements; columns: x's), e.g. softmax's
  ``(diag(s) - s sᵀ) T``; a matrix-valued node that depends on x has no such form.

Every answer is checked against the automatic derivative before it is shown (``symbolic``'s
``_agrees``); an op without a rule here raises :class:`~jacobi_cli.tools.symbolic.NoMatrixForm`. The
first parameter of every function here is the module ``symbolic`` itself (``S``), as for the ops'
translations.
"""

from __future__ import annotations


def derivative(S, graph, values: list, leaves: dict, name: str):
    """d output / d ``name`` in matrix form (array layout: a gradient has the input's shape,
    a vector by a vector is m × n), or raise :class:`NoMatrixForm`. ``S`` is
    :mod:`jacobi_cli.tools.symbolic` (handed in, as to the ops' translations: this module imports
    nothing of it, so the two import no cycle); every rule below takes it first."""
    y_shape, x_shape = tuple(graph.output_shape), tuple(graph.nodes[graph.inputs[name]].shape)
    if y_shape == ():
        return _reverse(S, graph, values, name)
    if len(y_shape) == 1 and len(x_shape) <= 1:
        return _forward(S, graph, values, leaves, name)
    raise S.NoMatrixForm(f"a {len(y_shape) + len(x_shape)}-d derivative")


def depends(graph, name: str) -> list:
    """``on[i]``: does node ``i`` depend on input ``name``?"""
    on = [False] * len(graph.nodes)
    for node in graph.nodes:
        on[node.id] = (node.op == "input" and node.name == name) or any(on[a] for a in node.args)
    return on


def _rule(S, table, op):
    """The op's rule in ``table``; None for an element-wise op without one (its f' is read off its
    translation: :func:`partials`); else NoMatrixForm."""
    from ..ir.ops import OPS

    if op in table:
        return table[op]
    if OPS[op].elementwise:
        return None
    raise S.NoMatrixForm(f"no matrix-calculus rule for {op}")


# --- reverse mode: the gradient of a scalar output -------------------------------------------

def _reverse(S, graph, values, name):
    sp = S._sp()
    on = depends(graph, name)
    adjoint: dict = {graph.output: sp.Integer(1)}
    for node in reversed(graph.nodes):
        g = adjoint.pop(node.id, None)
        if g is None or node.op in ("input", "const") or not on[node.id]:
            if node.op == "input" and node.name == name:
                return g if g is not None else _zero(S, node.shape)
            continue
        args = [values[a] for a in node.args]
        rule = _rule(S, _VJP, node.op)
        grads = rule(S, S.Value(g, tuple(node.shape)), values[node.id], *args, **node.params) if rule else \
            _elementwise_vjp(S, node, S.Value(g, tuple(node.shape)), args, [on[a] for a in node.args])
        for a, ga in zip(node.args, grads):
            if ga is not None and on[a]:
                ga = _fit(S, ga, tuple(graph.nodes[a].shape))
                adjoint[a] = ga if a not in adjoint else _plus(S, adjoint[a], ga, tuple(graph.nodes[a].shape))
    return _zero(S, graph.nodes[graph.inputs[name]].shape)


def _zero(S, shape):
    sp = S._sp()
    return sp.ZeroMatrix(*S._dims(shape)) if shape else sp.Integer(0)


def _plus(S, a, b, shape):
    return S.add(S.Value(a, shape), S.Value(b, shape))


def _fit(S, expr, shape):
    """An adjoint in the matrix form of ``shape``: a row becomes a column; 1 × 1 stays."""
    if not S._is_matrix(expr):
        if shape:
            raise S.NoMatrixForm(f"a scalar adjoint for shape {shape}")
        return expr
    want = S._dims(shape)
    if tuple(expr.shape) == want:
        return expr
    if tuple(expr.T.shape) == want and 1 in want:
        return expr.T
    raise S.NoMatrixForm(f"an adjoint of shape {tuple(expr.shape)} for {shape}")


def _unbroadcast(S, g, shape):
    """Sum ``g`` (shape ``g.shape``) over the axes NumPy broadcast to reach it from ``shape``."""
    if tuple(g.shape) == tuple(shape):
        return g.expr
    lead = len(g.shape) - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, d in enumerate(shape) if d == 1 and g.shape[lead + i] != 1)
    kept = S.total(g, axes, keepdims=True)
    if len(g.shape) > 2:
        raise S.NoMatrixForm("broadcasting over a tensor")
    return _reshaped(S, kept, tuple(d for i, d in enumerate(g.shape) if i >= lead), shape)


def _reshaped(S, expr, have, shape):
    """``expr`` (matrix form of ``have``) as the matrix form of ``shape`` (the same elements)."""
    if not S._is_matrix(expr):
        return expr
    want = S._dims(shape)
    if tuple(expr.shape) == want:
        return expr
    if tuple(expr.T.shape) == want and 1 in want:  # a row and a column hold the same elements
        return expr.T
    if want == (1, 1) and shape == ():
        return expr
    raise S.NoMatrixForm(f"reshape {have} to {shape}")


def _expand(S, g, a, axes, keepdims):
    """``g``, the adjoint of a reduction of ``a`` over ``axes``, broadcast back to ``a``'s shape."""
    shape = tuple(a.shape)
    kept = tuple(1 if i in axes else d for i, d in enumerate(shape))
    e = g.expr
    if S._is_matrix(e) and len(shape) <= 2:
        e = _reshaped(S, e, g.shape, kept) if kept else e
    return S.to_matrix(S.Value(e, kept), shape) if shape else e


def _scalar(S, e):
    """A 1 × 1 matrix as a scalar (its trace); a scalar as it is."""
    return S._sp().Trace(e) if S._is_matrix(e) else e


def _times(S, g, v):
    """The element-wise product ``g ∘ v`` of an adjoint and a value, written without an all-ones
    factor (``c·ones ∘ v`` is ``c·v``: what a sum's adjoint leaves) where the shapes agree."""
    sp = S._sp()
    e = g.expr
    coeff, ones = (e.args[0], e.args[1]) if isinstance(e, sp.MatMul) and len(e.args) == 2 and \
        not S._is_matrix(e.args[0]) else (1, e)
    if isinstance(ones, sp.OneMatrix) and S._is_matrix(v.expr) and tuple(ones.shape) == tuple(v.expr.shape):
        return coeff * v.expr
    return S.mul(g, v)


def _matmul_vjp(S, g, ans, a, b):
    if len(a.shape) > 2 or len(b.shape) > 2:
        raise S.NoMatrixForm("a batched matmul")
    A, B, G = a.expr, b.expr, g.expr
    if len(a.shape) == 1 and len(b.shape) == 1:  # a·b
        return [S.mul(g, b), S.mul(g, a)]
    if len(a.shape) == 1:  # aᵀB: G is the column (c,)
        return [B * G, A * G.T]
    if len(b.shape) == 1:  # A b: G is the column (r,)
        return [G * B.T, A.T * G]
    return [G * B.T, A.T * G]


def _div_vjp(S, g, ans, a, b):
    sp = S._sp()
    out = tuple(g.shape)
    ga = S.div(g, b)
    gb = S.neg(S.Value(S.div(S.Value(S.mul(g, a), out), S.Value(S.power(b, S.Value(sp.Integer(2), ())), b.shape)), out))
    return [_unbroadcast(S, S.Value(ga, out), a.shape), _unbroadcast(S, S.Value(gb, out), b.shape)]


def _pow_vjp(S, g, ans, a, b):
    sp = S._sp()
    if S._is_matrix(b.expr) or not b.expr.is_number:
        raise S.NoMatrixForm("a power with a variable exponent")
    d = S.power(a, S.Value(b.expr - 1, ()))  # b a^(b-1)
    slope = S.Value(b.expr * d if not S._is_matrix(d) else sp.MatMul(b.expr, d), a.shape)
    return [_unbroadcast(S, S.Value(S.mul(g, slope), tuple(g.shape)), a.shape), None]


def _sum_vjp(S, g, ans, a, axes, keepdims=False):
    return [_expand(S, g, a, tuple(axes), keepdims)]


def _mean_vjp(S, g, ans, a, axes, keepdims=False):
    return [_expand(S, g, a, tuple(axes), keepdims) / S.count(a.shape, tuple(axes))]


def _logsumexp_vjp(S, g, ans, a, axes, keepdims=False):
    S.whole_vector(a, axes, keepdims, "logsumexp")
    return [_times(S, g, S.Value(softmax_of(S, a, ans.expr), a.shape))]


def softmax_of(S, a, lse):
    """``exp.(x - lse)``, the softmax of a vector whose logsumexp is the scalar ``lse``."""
    sp = S._sp()
    return S._apply(sp.exp, a.expr) * sp.exp(-_scalar(S, lse))


def _norm_vjp(S, g, ans, a, axes, keepdims=False):
    S.whole_vector(a, axes, keepdims, "norm")
    return [_times(S, g, S.Value(a.expr * (1 / _scalar(S, ans.expr)), a.shape))]


def _pnorm_slope(S, a, ans, ord):
    """∂‖x‖_p/∂x = sign.(x) ∘ |x|.^(p-1) / ‖x‖_p^(p-1)."""
    sp = S._sp()
    p = sp.nsimplify(ord)
    return S._apply(lambda v: sp.sign(v) * sp.Abs(v) ** (p - 1), a.expr) * _scalar(S, ans.expr) ** (1 - p)


def _pnorm_vjp(S, g, ans, a, ord, axes, keepdims=False):
    S.whole_vector(a, axes, keepdims, "a p-norm")
    return [_times(S, g, S.Value(_pnorm_slope(S, a, ans, ord), a.shape))]


def _pnorm_jvp(S, ts, ans, out, a, ord, axes, keepdims=False):
    S.whole_vector(a, axes, keepdims, "a p-norm")
    return _pnorm_slope(S, a, ans, ord).T * ts[0]


def _softmax_vjp(S, g, ans, a, axis):
    sp = S._sp()
    if len(a.shape) != 1:
        raise S.NoMatrixForm("softmax other than of a vector")
    s, G = ans.expr, g.expr
    return [sp.HadamardProduct(s, G) - s * (s.T * G)]


def _det_vjp(S, g, ans, a):
    sp = S._sp()
    return [S.mul(g, S.Value(ans.expr * sp.Inverse(a.expr).T, a.shape))]


def _logabsdet_vjp(S, g, ans, a):
    sp = S._sp()
    return [S.mul(g, S.Value(sp.Inverse(a.expr).T, a.shape))]


def _inv_vjp(S, g, ans, a):
    c = ans.expr.T
    return [-(c * g.expr * c)]


def _trace_vjp(S, g, ans, a):
    sp = S._sp()
    return [S.mul(g, S.Value(sp.Identity(S._dims(a.shape)[0]), a.shape))]


def _solve_vjp(S, g, ans, a, b, who="solve"):
    sp = S._sp()
    if len(a.shape) != 2 or len(b.shape) > 2:
        raise S.NoMatrixForm("a batched solve")
    gb = sp.Inverse(a.expr).T * g.expr
    return [-(gb * ans.expr.T), gb]


def _extreme_vjp(largest: bool):
    """max(A) (min(A)) of a whole vector or matrix: G times the indicator of the elements equal to it,
    θ.(A - max(A)) with θ(0) = 1 (which element autodiff credits at a tie is its own choice: the
    formula is checked away from ties)."""
    def rule(S, g, ans, a, axes, keepdims=False, nan_share=False):
        sp = S._sp()
        if not a.shape:
            return [g.expr]
        S.whole_array(a, axes, keepdims)
        m = _scalar(S, ans.expr) * sp.OneMatrix(*a.expr.shape)
        gap = a.expr - m if largest else m - a.expr
        return [S.mul(g, S.Value(S._apply(lambda d: sp.Heaviside(d, 1), gap), a.shape))]
    return rule


def _transpose_vjp(S, g, ans, a, axes):
    return [g.expr.T if tuple(axes) == (1, 0) else g.expr]


_VJP = {
    "neg": lambda S, g, ans, a: [-g.expr],
    "add": lambda S, g, ans, a, b: [_unbroadcast(S, g, a.shape), _unbroadcast(S, g, b.shape)],
    "sub": lambda S, g, ans, a, b: [_unbroadcast(S, g, a.shape), _unbroadcast(S, S.Value(-g.expr, g.shape), b.shape)],
    "mul": lambda S, g, ans, a, b: [_unbroadcast(S, S.Value(_times(S, g, b), g.shape), a.shape),
                                 _unbroadcast(S, S.Value(_times(S, g, a), g.shape), b.shape)],
    "div": _div_vjp,
    "pow": _pow_vjp,
    "matmul": _matmul_vjp,
    "transpose": _transpose_vjp,
    "reshape": lambda S, g, ans, a, shape: [_reshaped(S, g.expr, g.shape, a.shape)],
    "sum": _sum_vjp,
    "mean": _mean_vjp,
    "logsumexp": _logsumexp_vjp,
    "norm": _norm_vjp,
    "softmax": lambda S, g, ans, a, axis: _softmax_vjp(S, g, ans, a, axis),
    "det": _det_vjp,
    "logabsdet": _logabsdet_vjp,
    "inv": _inv_vjp,
    "trace": _trace_vjp,
    "solve": _solve_vjp,
    "pnorm": _pnorm_vjp,
    "detsign": lambda S, g, ans, a, undefined=None: [None],  # the sign of det(A): constant where it is defined
    "singular_check": lambda S, g, ans, d, a, who: [g.expr, None],  # a rule's check (session 49): d as it is
    "max": _extreme_vjp(True),
    "min": _extreme_vjp(False),
}


def partials(S, node, form: str, which=None):
    """The partial derivatives of an element-wise op (``Op.elementwise``) read off its SymPy translation
    of scalars: ``(f, dummies, dfs)``, one real Dummy per argument, ``dfs[m] = ∂f/∂a_m`` for ``m`` in
    ``which`` (default: all), None for the others; else NoMatrixForm naming ``form`` ("matrix-calculus",
    "index-form"). Both forms of ``jac diff`` derive element-wise ops here (:mod:`jacobi_cli.tools.indexform`
    too)."""
    from ..ir.ops import OPS

    sp = S._sp()
    op = OPS[node.op]
    if not op.elementwise or op.sympy is None:
        raise S.NoMatrixForm(f"no {form} rule for {node.op}")
    n = len(node.args)
    dummies = [sp.Dummy(f"a{m}", real=True) for m in range(n)]
    try:
        f = op.sympy(S, *[S.Value(d, ()) for d in dummies], **node.params)
    except Exception:  # noqa: BLE001 - a translation that needs more than scalars gives no rule
        raise S.NoMatrixForm(f"no {form} rule for {node.op}") from None
    if not isinstance(f, sp.Expr) or S._is_matrix(f) or f.free_symbols - set(dummies):
        raise S.NoMatrixForm(f"no {form} rule for {node.op}")
    dfs = [None] * n
    for m in range(n) if which is None else which:
        dfs[m] = sp.diff(f, dummies[m])
        if dfs[m].has(sp.Derivative, sp.Subs):
            raise S.NoMatrixForm(f"SymPy leaves the derivative of {node.op} unevaluated")
    return f, dummies, dfs


def _slopes(S, node, args, which):
    """``∂f/∂a_m`` of an element-wise op at its arguments, ``f_m'.(u, c, ...)`` in matrix form, for ``m`` in
    ``which`` (None for the others): one argument a matrix, the others scalars (``maximum(x, 0.5)``); a
    Piecewise ``f`` (``where``, masks) has none here."""
    sp = S._sp()
    f, dummies, dfs = partials(S, node, "matrix-calculus", which)
    if f.has(sp.Piecewise):
        raise S.NoMatrixForm(f"no matrix-calculus rule for {node.op}")
    out = tuple(node.shape)
    return [None if df is None else
            S.Value(S.elementwise(lambda *u, df=df: df.xreplace(dict(zip(dummies, u))), *args), out) for df in dfs]


def _elementwise_vjp(S, node, g, args, varies):
    """``G ∘ f_m'.(u, ...)`` for each varying argument, summed over the axes it was broadcast along."""
    slopes = _slopes(S, node, args, [m for m, v in enumerate(varies) if v])
    return [None if s is None else _unbroadcast(S, S.Value(_times(S, g, s), tuple(node.shape)), a.shape)
            for s, a in zip(slopes, args)]


# --- forward mode: the Jacobian of a vector output -------------------------------------------------

def _forward(S, graph, values, leaves, name):
    sp = S._sp()
    on = depends(graph, name)
    x_shape = tuple(graph.nodes[graph.inputs[name]].shape)
    n = S._dims(x_shape)[0] if x_shape else 1
    tangent: dict = {}
    for node in graph.nodes:
        if not on[node.id]:
            continue
        if node.op == "input":
            tangent[node.id] = sp.Identity(n)
            continue
        if not _column(node.shape):
            raise S.NoMatrixForm(f"{node.op} makes a matrix that depends on {name}")
        args = [values[a] for a in node.args]
        ts = [tangent.get(a) if on[a] else None for a in node.args]
        rule = _rule(S, _JVP, node.op)
        tangent[node.id] = rule(S, ts, values[node.id], tuple(node.shape), *args, **node.params) if rule else \
            _elementwise_jvp(S, node, ts, args)
    return tangent.get(graph.output, sp.ZeroMatrix(S._dims(graph.output_shape)[0], n))


def _column(shape) -> bool:
    """A shape whose matrix form is a column (or a scalar): (), (k,), (k, 1)."""
    return len(shape) <= 1 or (len(shape) == 2 and shape[1] == 1)


def _rows(S, t, arg_shape, out_shape):
    """A tangent of an argument broadcast to the output: a scalar's row repeated for each element."""
    sp = S._sp()
    if t is None:
        return None
    if not _column(arg_shape):
        raise S.NoMatrixForm("a matrix argument that depends on the input")
    if S._dims(arg_shape) == S._dims(out_shape) or not out_shape:
        return t
    return sp.OneMatrix(S._dims(out_shape)[0], 1) * t


def _diag(S, v, out_shape):
    """The element-wise product by ``v`` as a matrix acting on tangents: diag(v), or a scalar."""
    sp = S._sp()
    if not v.shape or not out_shape:
        return _scalar(S, v.expr)
    if not _column(v.shape):
        raise S.NoMatrixForm("an element-wise product by a matrix")
    return sp.DiagMatrix(S.to_matrix(v, out_shape))


def _sum_terms(S, terms):
    terms = [t for t in terms if t is not None]
    if not terms:
        return None
    out = terms[0]
    for t in terms[1:]:
        out = out + t
    return out


def _product_jvp(S, ts, out_shape, args, partials):
    """Σ_k diag(∂f/∂a_k) T_k for an element-wise f with partials ``partials`` (Values)."""
    return _sum_terms(S, [None if t is None else _diag(S, p, out_shape) * _rows(S, t, a.shape, out_shape)
                       for t, a, p in zip(ts, args, partials)])


def _mul_jvp(S, ts, ans, out, a, b):
    return _product_jvp(S, ts, out, [a, b], [b, a])


def _add_jvp(sign):
    def rule(S, ts, ans, out, a, b):
        ta, tb = _rows(S, ts[0], a.shape, out), _rows(S, ts[1], b.shape, out)
        return _sum_terms(S, [ta, None if tb is None else sign * tb])
    return rule


def _div_jvp(S, ts, ans, out, a, b):
    sp = S._sp()
    inv_b = S.Value(S.power(b, S.Value(sp.Integer(-1), ())), b.shape)
    minus = S.Value(S.neg(S.Value(S.div(a, S.Value(S.power(b, S.Value(sp.Integer(2), ())), b.shape)), out)), out)
    return _product_jvp(S, ts, out, [a, b], [inv_b, minus])


def _pow_jvp(S, ts, ans, out, a, b):
    if ts[1] is not None or S._is_matrix(b.expr) or not b.expr.is_number:
        raise S.NoMatrixForm("a power with a variable exponent")
    d = S.power(a, S.Value(b.expr - 1, ()))
    return _product_jvp(S, ts[:1], out, [a], [S.Value(b.expr * d, a.shape)])


def _matmul_jvp(S, ts, ans, out, a, b):
    ta, tb = ts
    if len(a.shape) == 1 and len(b.shape) == 1:  # a·b
        return _sum_terms(S, [None if ta is None else b.expr.T * ta, None if tb is None else a.expr.T * tb])
    if len(a.shape) == 1 and len(b.shape) == 2 and tb is None:  # aᵀB: (Bᵀ) T_a
        return b.expr.T * ta
    if len(a.shape) == 2 and ta is None and _column(b.shape):  # A b
        return a.expr * tb
    raise S.NoMatrixForm("a product with a matrix that depends on the input")


def _sum_jvp(S, ts, ans, out, a, axes, keepdims=False):
    sp = S._sp()
    if not _column(a.shape) or not a.shape or out:
        raise S.NoMatrixForm("a sum other than of a whole vector")
    return sp.OneMatrix(1, S._dims(a.shape)[0]) * ts[0]


def _mean_jvp(S, ts, ans, out, a, axes, keepdims=False):
    return _sum_jvp(S, ts, ans, out, a, axes, keepdims) / S.count(a.shape, tuple(axes))


def _softmax_jvp(S, ts, ans, out, a, axis):
    sp = S._sp()
    if len(a.shape) != 1:
        raise S.NoMatrixForm("softmax other than of a vector")
    s = ans.expr
    return (sp.DiagMatrix(s) - s * s.T) * ts[0]


def _logsumexp_jvp(S, ts, ans, out, a, axes, keepdims=False):
    S.whole_vector(a, axes, keepdims, "logsumexp")
    return softmax_of(S, a, ans.expr).T * ts[0]


def _norm_jvp(S, ts, ans, out, a, axes, keepdims=False):
    S.whole_vector(a, axes, keepdims, "norm")
    return (a.expr.T * (1 / _scalar(S, ans.expr))) * ts[0]


def _solve_jvp(S, ts, ans, out, a, b, who="solve"):
    sp = S._sp()
    if ts[0] is not None or len(a.shape) != 2 or not _column(b.shape):
        raise S.NoMatrixForm("a solve whose matrix depends on the input")
    return sp.Inverse(a.expr) * ts[1]


def _same_elements(S, ts, ans, out, a, *rest, **params):
    if not _column(a.shape) or not _column(out):
        raise S.NoMatrixForm("a reshape of a matrix")
    return ts[0]


_JVP = {
    "neg": lambda S, ts, ans, out, a: -ts[0],
    "add": _add_jvp(1),
    "sub": _add_jvp(-1),
    "mul": _mul_jvp,
    "div": _div_jvp,
    "pow": _pow_jvp,
    "matmul": _matmul_jvp,
    "transpose": _same_elements,
    "reshape": _same_elements,
    "sum": _sum_jvp,
    "mean": _mean_jvp,
    "softmax": _softmax_jvp,
    "logsumexp": _logsumexp_jvp,
    "norm": _norm_jvp,
    "pnorm": _pnorm_jvp,
    "solve": _solve_jvp,
    "singular_check": lambda S, ts, ans, out, d, a, who: ts[0],  # a rule's check (session 49): d's tangent
}


def _elementwise_jvp(S, node, ts, args):
    slopes = _slopes(S, node, args, [m for m, t in enumerate(ts) if t is not None])
    return _product_jvp(S, ts, tuple(node.shape), args, slopes)
