"""Every op of the registry against central differences: reverse, forward, second order.

The case table must name every op: a new op without cases fails ``test_every_op_has_cases``.
"""

import re

import numpy as np
import pytest

from jacobi_cli.engine import autodiff, planner
from jacobi_cli.errors import JacError
from jacobi_cli.ir.graph import Builder
from jacobi_cli.tools.numeric import central_jacobian
from jacobi_cli.ir.ops import OPS

S = slice(None)
# op -> list of (argument shapes, params); None as a shape is a fixed argument below.
CASES = {
    "neg": [(((3,),), {})],
    "add": [((2, 3), (3,)), ((), (2,)), ((2, 1), (1, 3))],
    "sub": [((2, 3), (3,)), ((2,), ())],
    "mul": [((2, 3), (3,)), ((), (2, 2)), ((3, 1), (1, 2))],
    "div": [((2, 3), (3,)), ((), (2,))],
    "pow": [((3,), (3,)), ((2, 2), ())],
    "maximum": [((3,), (3,)), ((2, 3), (3,))],
    "minimum": [((3,), (3,)), ((2, 3), ())],
    "where": [(("mask", (3,), (3,)), {})],
    "clip": [(((4,), "lo", "hi"), {}), (((2, 3), "clip_lo", "clip_hi"), {})],  # the second: x inside too
    "broadcast_to": [(((3,),), {"shape": (2, 3)}), (((2, 1),), {"shape": (2, 3)})],
    "sum_to": [(((2, 3),), {"shape": (1, 3)}), (((2, 3),), {"shape": (2, 1)})],
    "reshape": [(((2, 3),), {"shape": (3, 2)}), (((4,),), {"shape": (2, 2)})],
    "transpose": [(((2, 3),), {"axes": (1, 0)}), (((2, 3, 4),), {"axes": (2, 0, 1)})],
    "getitem": [(((4,),), {"index": (slice(1, 3),)}), (((3, 4),), {"index": (S, 0)}),
                (((3, 4),), {"index": (1,)}), (((5,),), {"index": (np.array([0, 2, 2]),)})],
    "scatter": [(((2,),), {"index": (slice(1, 3),), "shape": (4,)}),
                (((3,),), {"index": (np.array([0, 2, 2]),), "shape": (4,)})],
    "sum": [(((2, 3),), {"axes": (0, 1)}), (((2, 3),), {"axes": (1,), "keepdims": True})],
    "mean": [(((2, 3),), {"axes": (0,)}), (((4,),), {"axes": (0,), "keepdims": True})],
    "max": [(((2, 3),), {"axes": (1,)}), (((4,),), {"axes": (0,)})],
    "min": [(((2, 3),), {"axes": (0, 1)})],
    "prod": [(((2, 3),), {"axes": (1,)}), (((4,),), {"axes": (0,)})],
    "prod_except": [(((2, 3),), {"axes": (1,)}), (((4,),), {"axes": (0,)})],
    "norm": [(((3,),), {"axes": (0,)}), (((2, 3),), {"axes": (0, 1)})],
    "logsumexp": [(((4,),), {"axes": (0,)}), (((2, 3),), {"axes": (1,), "keepdims": True})],
    "softmax": [(((4,),), {"axis": 0}), (((2, 3),), {"axis": 1})],
    "softmax_vjp": [(((2, 4), (4,)), {"axis": 0}), (((3, 2, 3), (2, 3)), {"axis": 1})],
    "matmul": [((3, 4), (4, 2)), ((4,), (4, 2)), ((3, 4), (4,)), ((4,), (4,)), ((2, 3, 4), (4, 2))],
    "trace": [(((3, 3),), {})],
    "det": [(("square",), {})],
    "cofactor": [(("square",), {})],
    "cofactor_dir": [(("square", (3, 3)), {}), (("square", (2, 3, 3)), {})],  # det's second derivative (session 40)
    "cofactor_dir2": [(("square", (3, 3), (3, 3)), {}), (("square", (2, 3, 3), (3, 3)), {})],  # det's third (50)
    "inv": [(("square",), {})],
}
for name in ["exp", "log", "log1p", "sqrt", "abs", "sin", "cos", "tan", "tanh", "sinh", "cosh", "arcsin",
             "arccos", "arctan", "sigmoid", "relu", "softplus", "square", "sigmoid_slope", "sech2"]:
    CASES[name] = [(((2, 3),), {})]
NONDIFF = {"sign", "gt", "ge", "eq"}
NONDIFF_UNARY = {"sign"}  # masks of one argument (the others compare two)

# --- PART elementwise -------------------------------------------------------------------------
for name in ["asinh", "acosh", "atanh", "exp2", "expm1", "log2", "log10", "rsqrt", "reciprocal", "erf", "erfc",
             "logit", "lgamma", "digamma", "sinc", "gelu", "gelu_tanh", "silu", "softsign", "logsigmoid", "mish",
             "hardsigmoid", "erfinv", "cbrt", "hardswish", "erfcx", "log_ndtr", "ndtri", "i0", "i0e", "i1", "i1e",
             "expi", "exp1", "dawsn"]:  # (the last three: session 28)
    CASES[name] = [(((2, 3),), {})]
CASES.update({
    "polygamma": [(((2, 3),), {"n": 1}), (((4,),), {"n": 2})],
    "elu": [(((2, 3),), {"alpha": 1.0}), (((4,),), {"alpha": 1.3, "scale": 1.05})],
    "leaky_relu": [(((2, 3),), {"slope": 0.1})],
    "hardtanh": [(((2, 3),), {"lo": -1.0, "hi": 1.0}), (((4,),), {"lo": 0.0, "hi": 0.5})],
    "atan2": [((2, 3), (3,)), ((), (2,))],
    "hypot": [((2, 3), (3,))],
    "fmod": [((2, 3), (3,)), ((3,), ())],
    "remainder": [((2, 3), (3,)), ((3,), ())],
    "xlogy": [((2, 3), (3,)), ((), (2,))],
    "xlog1py": [((2, 3), (3,))],
    "multiply_no_nan": [((2, 3), (3,)), ((), (2,))],
    "nan_to_num": [(((2, 3),), {"nan": 0.0, "posinf": 5.0, "neginf": -5.0})],
    "logaddexp": [((2, 3), (3,))],
    "logaddexp2": [((2, 3), (3,))],
    "fmax": [((3,), (3,)), ((2, 3), ())],
    "fmin": [((3,), (3,)), ((2, 3), (3,))],
})
NONDIFF |= {"floor", "ceil", "trunc", "round", "floor_divide", "ne", "lt", "le", "isnan", "isinf", "isfinite",
            "detach"}
NONDIFF_UNARY |= {"floor", "ceil", "trunc", "round", "isnan", "isinf", "isfinite", "detach", "signbit"}
NONDIFF.add("signbit")

# --- PART reductions (issue 13): cumulative ops, gathers by an index, p-norms, binary cross-entropy
FIXED = {"idx_take": np.array([[0, 2], [3, 3], [1, 0]]), "idx_rows": np.array([[2, 0, 1, 1]])}
# clip's bounds per column: x drawn (2, 3) from (-2, 2) falls inside one, below three, above two (none near a bound)
FIXED["clip_lo"], FIXED["clip_hi"] = np.array([-1.0, -0.5, 0.0]), np.array([1.5, 0.5, 1.0])
CASES.update({
    "take_along": [(((3, 4), "idx_take"), {"axis": 1}), (((3, 4), "idx_rows"), {"axis": 0})],
    "put_along": [(((3, 2), "idx_take"), {"axis": 1, "shape": (3, 4)}),
                  (((1, 4), "idx_rows"), {"axis": 0, "shape": (3, 4)})],
    "cumsum": [(((2, 3),), {"axis": 1}), (((4,),), {"axis": 0, "reverse": True})],
    "cumprod": [(((2, 3),), {"axis": 1}), (((4,),), {"axis": 0}), (((3, 2),), {"axis": 0})],
    "linrec": [(((4,), (4,)), {"axis": -1}), (((2, 3), (2, 3)), {"axis": -2, "reverse": True}),
               (((3,), (2, 3)), {"axis": -1}), (((4,), (4,)), {"axis": -1, "reverse": True})],
    "pnorm": [(((3,),), {"ord": 3.0, "axes": (0,)}), (((2, 3),), {"ord": 0.5, "axes": (1,), "keepdims": True}),
              (((2, 3),), {"ord": -1.5, "axes": (0, 1)})],
    "bce": [(((2, 3), (2, 3)), {})],
    "xlogx": [(((2, 3),), {})],
})
# --- PART shapes-linalg
CASES.update({
    "einsum": [(((2, 3), (3, 4)), {"spec": "ij,jk->ik"}), (((3,), (3,)), {"spec": "i,i->"}),
               (((2, 3), (4,)), {"spec": "ij,k->ikj"}), (((2, 3, 3), (3, 3)), {"spec": "bij,jk->bik"})],
    "solve": [("square", (3, 2)), ("square", (2, 3, 2))],
    "cholesky": [("spd",)],
    "eigvalsh": [("spd",)],
    "eigh_vectors": [("spd",)],
    "eig_gaps": [((4,),)],
    "logabsdet": [("square",)],
    "matrix_exp": [((3, 3),), ((2, 2, 2),)],
    "svdvals": [((3, 3),), ((4, 2),), ((2, 4),)],
    "svd_u": [((3, 3),), ((4, 2),), ((2, 4),)],
    "svd_vh": [((3, 3),), ((4, 2),), ((2, 4),), ((2, 2, 3),)],
    "svd_inv": [((3,),)],
    # session 32: the singular values' check (the value as it is; refused at a zero singular value: test_svd32.py)
    "svd_zero": [(((3,),), {"size": 4, "vector": True, "what": "svdvals"}),
                 (((2, 3),), {"size": 3, "vector": True, "what": "svdvals"}),
                 (((2,),), {"size": 3, "vector": False, "what": "matrix norm (ord=2)"})],
    "svd_zero_check": [(((2, 3), (3,)), {"size": 4, "vector": True, "what": "svdvals"}),
                       (((4, 2), (2,)), {"size": 3, "vector": False, "what": "matrix norm (ord=2)"})],
    # session 33: repeated eigenvalues / singular values (the values distinct here; refused: test_spectral33.py)
    "spectral_check": [(((2, 3), (3,)), {"size": 3, "tangent": False, "what": "eigenvalues"}),
                       (((3, 3), (3,)), {"size": 3, "tangent": True, "what": "eigenvalues"}),
                       (((2, 2), (2,)), {"size": 4, "tangent": True, "what": "singular values"})],
    # session 49: a derivative through a matrix singular in working precision (well-conditioned here; refused:
    # test_guard49.py)
    "singular_check": [(((2, 3, 3), "square"), {"who": "inv"}), (((3, 2), "square"), {"who": "solve"})],
    "qr_q": [("square",), ((4, 2),)],
    "qr_r": [("square",), ((4, 2),)],
})
# scatter_extreme (scatter_reduce's amax / amin): src (2, 3) into x (4,), two values meeting x[1], none x[3]
CASES.update({"scatter_extreme": [(((4,), (2, 3)), {"targets": np.array([1, 0, 1, 2, 1]), "sources": np.array([0, 1, 2, 3, 5]),
                                                   "minimum": m, "include": inc}) for m in (False, True)
                                  for inc in (True, False)]})
CASES.update({"igamma": [((2, 3), (3,))], "igammac": [((2, 3), (2, 3))], "zeta": [((2, 3), (3,))]})
REFUSED = set()  # every argument's derivative refused (nextafter's until session 52, PyTorch 2.13 has one)
CASES.update({"nextafter": [((2, 3), (3,)), ((4,), (4,))]})  # PyTorch 2.13's rule: 1 by x off the ties, 0 by y
NONDIFF |= REFUSED
CASES.update({"mvlgamma": [(((2, 3),), {"p": 1}), (((4,),), {"p": 3})]})
CASES.update({"lu": [(("square",), {"part": "L"}), (("square",), {"part": "U"}), (((2, 3, 3),), {"part": "U"})]})
# session 52: expand, broadcast_to's values in a new C-ordered array (a reduction's cotangent in a traced pass)
CASES.update({"expand": [(((3,),), {"shape": (2, 3)}), (((2, 1),), {"shape": (2, 3)})]})
# the sign of det(A) and LU's pivots: no derivative, tested through slogdet / lu in the parity tests
MATRIX_NONDIFF = {"detsign", "lu_pivots", "pivot_matrix"}
NONDIFF |= MATRIX_NONDIFF

# --- PART hvocab10: SciPy's Bessel functions, frexp's mantissa, NumPy's where= / initial= reductions
for name in ["j0", "j1", "y0", "y1", "k0", "k1", "k0e", "k1e", "frexp_mantissa", "airy_ai", "airy_ai_prime"]:
    CASES[name] = [(((2, 3),), {})]
FIXED["mask23"] = np.array([[1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
FIXED["ints3"] = np.array([-2.0, 0.0, 3.0])
CASES["ldexp"] = [(((2, 3), "ints3"), {})]
# splice (cumprod's reverse rule): x before position k along the axis, y from k on; k is no input to differentiate
FIXED["k_lanes"] = np.array([[2.0], [0.0], [4.0]])
FIXED["k_columns"] = np.array([[[1.0, 3.0]], [[0.0, 2.0]]])
# take_shared (torch.median(x)'s selection): one element along the axis, the derivative shared among its ties
FIXED["idx_one"] = np.array([[1], [3], [0]])
CASES["take_shared"] = [(((3, 4), "idx_one"), {"axis": 1}), (((3, 4), "idx_rows"), {"axis": 0})]
CASES["splice"] = [(((3, 4), (3, 4), "k_lanes"), {"axis": -1}), (((2, 3, 2), (3, 1), "k_columns"), {"axis": -2})]  # the exponent's derivative refused: NumPy's are integers
CASES["reduce_where"] = [(((2, 3), "mask23"), {"ufunc": u, "axes": axes, "keepdims": k, "initial": i})
                         for u, i in (("add", None), ("add", 0.5), ("multiply", None), ("multiply", 2.0),
                                      ("maximum", 0.0), ("minimum", 5.0))
                         for axes, k in (((1,), False), ((0, 1), True))]


def _normalize(case):
    """A case is ``(shapes, params)``, or just ``shapes`` for an op without params."""
    return case if len(case) == 2 and isinstance(case[1], dict) else (case, {})


def _draw(op, shape, rng):
    lo, hi = op.domain
    if isinstance(shape, str) and shape in FIXED:
        return FIXED[shape]
    if shape == "square":
        return rng.uniform(-1, 1, (3, 3)) + 3 * np.eye(3)
    if shape == "spd":  # symmetric positive definite, eigenvalues apart
        m = rng.uniform(-1, 1, (3, 3))
        return m @ m.T + np.diag([1.0, 2.5, 4.0])
    if shape == "mask":
        return np.array([1.0, 0.0, 1.0])
    if shape == "lo":
        return np.full(4, -0.5)
    if shape == "hi":
        return np.full(4, 0.5)
    x = rng.uniform(lo, hi, shape)
    if op.name in ("abs", "relu"):  # keep away from the kink at 0
        x = np.where(np.abs(x) < 0.1, 0.5, x)
    return x


def _graph(op_name, arrays, params):
    b = Builder()
    tracers = [b.input(f"a{i}", np.shape(a)) for i, a in enumerate(arrays)]
    out = b.apply(op_name, *tracers, **params)
    env = {f"a{i}": np.asarray(a, dtype=np.float64) for i, a in enumerate(arrays)}
    return b.graph(out), env


def _differentiable(op, i):  # a rule that refuses (ops.refused: PyTorch has no such derivative) is tested apart
    return i < len(op.vjp) and op.vjp[i] is not None and not hasattr(op.vjp[i], "refuses")


def _cases():
    for name, cases in CASES.items():
        for k, case in enumerate(cases):
            yield pytest.param(name, case, id=f"{name}-{k}")


def _second_order_cases():  # prod_except is reached through prod's JVP rules (see _weighted_sum)
    return [c for c in _cases() if c.values[0] not in ("prod_except",)]


def _mask_names():
    """The masks: ops without derivative read off one array or two compared (the index ops, with cases of their
    own in FLAG_CASES, are tested with their parities)."""
    return sorted(n for n in NONDIFF - MATRIX_NONDIFF - REFUSED if n not in FLAG_CASES or n in NONDIFF_UNARY)


# test -> (argument names, its cases), read when pytest collects the module, after the whole file ran: the tables
# above grow further down (each session appends its ops). A decorator's list is taken where the decorator stands,
# before those lines ran: sessions 28-36 appended 127 ops whose derivatives were never checked that way.
def _refusing_cases():
    return [c for c in _cases() if any(hasattr(rule, "refuses") for rule in OPS[c.values[0]].vjp if rule)]


PARAMETRIZED = {
    "test_first_order_against_central_differences": ("name,case", lambda: list(_cases())),
    "test_refused_derivatives_raise": ("name,case", _refusing_cases),
    "test_second_order_against_central_differences": ("name,case", _second_order_cases),
    "test_second_order_in_chunks_as_planned": ("name,case", _second_order_cases),
    "test_masks_carry_no_derivative": ("name", _mask_names),
}


def pytest_generate_tests(metafunc):
    if metafunc.function.__name__ in PARAMETRIZED:
        argnames, cases = PARAMETRIZED[metafunc.function.__name__]
        metafunc.parametrize(argnames, cases())


def test_every_case_reaches_every_parametrized_test(request):
    """The module collected afresh: each parametrized test has one item per case of the tables as they end."""
    ids = {}
    for item in request.node.getparent(pytest.Module).collect():
        if hasattr(item, "callspec"):
            ids.setdefault(item.originalname, set()).add(item.callspec.id)
    every = {f"{name}-{k}" for name, cases in CASES.items() for k in range(len(cases))}
    assert len(every) == sum(len(cases) for cases in CASES.values()) > 0
    assert ids["test_first_order_against_central_differences"] == every
    for test in ("test_second_order_against_central_differences", "test_second_order_in_chunks_as_planned"):
        assert ids[test] == {i for i in every if not i.startswith("prod_except-")}, test
    assert ids["test_refused_derivatives_raise"] == {c.id for c in _refusing_cases()} >= {"jv-0", "betainc-0"}
    assert ids["test_masks_carry_no_derivative"] == set(_mask_names())
    assert {"floor", "signbit", "frexp_exponent"} <= ids["test_masks_carry_no_derivative"]  # the last: below the tests


def test_every_op_has_cases():
    # custom and custom_once (a rule written in the text) have the rule's derivative, not their impl's: by
    # definition not central differences of the value; tests/test_custom27.py checks them against the libraries
    # straight_through (session 39, a write through .detach()) has its source's derivative, not its value's: checked
    # against PyTorch in tests/test_views2_39.py
    assert set(OPS) - NONDIFF - {"custom", "custom_once", "straight_through"} == set(CASES)


def test_first_order_against_central_differences(name, case):
    op = OPS[name]
    shapes, params = _normalize(case)
    rng = np.random.default_rng(0)
    arrays = [_draw(op, s, rng) for s in shapes]
    graph, env = _graph(name, arrays, params)
    wrt = [f"a{i}" for i in range(len(arrays)) if _differentiable(op, i) and shapes[i] not in ("mask",)]
    graph = graph.with_wrt(wrt)
    values = autodiff.evaluate(graph, env)
    rev = autodiff.jacrev(graph, values)
    fwd = autodiff.jacfwd(graph, values, wrt)
    for i, name_i in enumerate(f"a{i}" for i in range(len(arrays))):
        if name_i not in wrt:
            continue

        def f(x, i=i):
            args = list(arrays)
            args[i] = x
            return op.impl(*args, **params)

        numeric = central_jacobian(f, np.asarray(arrays[i], dtype=np.float64))
        np.testing.assert_allclose(rev[name_i], numeric, rtol=1e-6, atol=1e-7, err_msg=f"{name} VJP arg {i}")
        np.testing.assert_allclose(fwd[name_i], numeric, rtol=1e-6, atol=1e-7, err_msg=f"{name} JVP arg {i}")


def test_refused_derivatives_raise(name, case):
    """An argument whose rule refuses (an order, a shape parameter: PyTorch, JAX and SciPy have no derivative by it)
    is refused when asked for, in reverse and forward mode, with jac's error: never a silent number."""
    op = OPS[name]
    shapes, params = _normalize(case)
    arrays = [_draw(op, s, np.random.default_rng(0)) for s in shapes]
    graph, env = _graph(name, arrays, params)
    for i, rule in enumerate(op.vjp):
        if rule is None or not hasattr(rule, "refuses"):
            continue
        g = graph.with_wrt([f"a{i}"])
        values = autodiff.evaluate(g, env)
        with pytest.raises(JacError, match=re.escape(rule.refuses)):
            autodiff.jacrev(g, values)
        with pytest.raises(JacError):
            autodiff.jacfwd(g, values, [f"a{i}"])


def test_every_derivative_is_checked_somewhere_it_is_not_zero():
    """Each argument an op is differentiated by has a case where its central differences are not all zero: a rule
    giving 0 always (clip's by x, drawn outside its bounds only, before session 36) would pass every check."""
    seen = {}
    for name, cases in CASES.items():
        op = OPS[name]
        for case in cases:
            shapes, params = _normalize(case)
            arrays = [_draw(op, s, np.random.default_rng(0)) for s in shapes]
            for i in range(len(arrays)):
                if not _differentiable(op, i) or shapes[i] == "mask":
                    continue

                def f(x, i=i):
                    args = list(arrays)
                    args[i] = x
                    return op.impl(*args, **params)

                nonzero = bool(np.any(central_jacobian(f, np.asarray(arrays[i], dtype=np.float64)) != 0))
                seen[(name, i)] = seen.get((name, i), False) or nonzero
    assert len(seen) > 300
    assert [key for key, nonzero in seen.items() if not nonzero] == []


def _weighted_sum(name, case):
    """``(graph, env, wrt)`` of sum(w * op(args)): a scalar whose Hessian reaches the op's JVP rules
    through the traced reverse pass (``prod``'s brings in ``prod_except``)."""
    op = OPS[name]
    shapes, params = _normalize(case)
    rng = np.random.default_rng(1)
    arrays = [_draw(op, s, rng) for s in shapes]
    graph, env = _graph(name, arrays, params)
    out_shape = graph.output_shape
    w = rng.uniform(0.5, 1.5, out_shape)
    b = Builder()
    tracers = [b.input(f"a{i}", np.shape(a)) for i, a in enumerate(arrays)]
    y = b.apply("sum", b.apply("mul", b.apply(name, *tracers, **params), w), axes=tuple(range(len(out_shape))))
    wrt = [f"a{i}" for i in range(len(arrays)) if _differentiable(op, i) and shapes[i] != "mask"]
    return b.graph(y), env, wrt


# ops whose first derivatives are exact but whose second jac refuses: the refusal is what is checked (session 37's
# R_D and R_J are read to every order since session 38: carlson_integral)
SECOND_ORDER_REFUSED: dict = {}


def test_second_order_against_central_differences(name, case):
    """d²/dx² of sum(w * op(x)): the traced reverse pass differentiated forward."""
    scalar, env, wrt = _weighted_sum(name, case)
    if name in SECOND_ORDER_REFUSED:
        with pytest.raises(JacError, match=SECOND_ORDER_REFUSED[name]):
            autodiff.hessian(scalar.with_wrt(wrt), env, wrt)
        return
    blocks = autodiff.hessian(scalar.with_wrt(wrt), env, wrt)
    for name_i in wrt:
        i = int(name_i[1:])

        def grad(x, i=i):
            env2 = dict(env)
            env2[name_i] = x
            g = scalar.with_wrt(wrt)
            return autodiff.jacrev(g, autodiff.evaluate(g, env2))[name_i]

        numeric = central_jacobian(grad, env[name_i])
        np.testing.assert_allclose(blocks[(name_i, name_i)], numeric, rtol=1e-5, atol=1e-6,
                                   err_msg=f"{name} second derivative arg {i}")


def test_second_order_in_chunks_as_planned(name, case):
    """The Hessian passes one basis vector at a time equal the passes over the whole basis,
    and the dry run that plans them runs through the op's JVP rules without values."""
    scalar, env, wrt = _weighted_sum(name, case)
    if name in SECOND_ORDER_REFUSED:
        with pytest.raises(JacError, match=SECOND_ORDER_REFUSED[name]):
            g2, grad_ids = autodiff.grad_graph(scalar.with_wrt(wrt))
            autodiff.hessian_blocks(g2, autodiff.evaluate(g2, env), grad_ids, wrt)
        return
    g2, grad_ids = autodiff.grad_graph(scalar.with_wrt(wrt))
    values = autodiff.evaluate(g2, env)
    for name_i in wrt:
        assert planner.probe_hessian(g2, values, name_i, [grad_ids[a] for a in wrt]) > 0
    whole = autodiff.hessian_blocks(g2, values, grad_ids, wrt)
    chunked = autodiff.hessian_blocks(g2, values, grad_ids, wrt, batch={a: 1 for a in wrt})
    for key, block in whole.items():
        np.testing.assert_allclose(chunked[key], block, rtol=1e-12, atol=1e-14, err_msg=f"{name} {key}")


def test_masks_carry_no_derivative(name):
    assert OPS[name].nondiff
    b = Builder()
    x = b.input("x", (3,))
    g = b.graph(b.apply("mul", x, b.apply(name, x) if name in NONDIFF_UNARY else b.apply(name, x, 0.0)))
    env = {"x": np.array([-1.0, 0.5, 2.0])}
    g = g.with_wrt(["x"])
    jac = autodiff.jacrev(g, autodiff.evaluate(g, env))["x"]
    mask = OPS[name].impl(env["x"]) if name in NONDIFF_UNARY else OPS[name].impl(env["x"], 0.0)
    np.testing.assert_array_equal(jac, np.diag(mask))


def test_vjp_and_jvp_agree_on_random_directions():
    """<u, J v> = <Jᵀ u, v> for a composite expression."""
    from jacobi_cli.lang.parser import parse

    rng = np.random.default_rng(3)
    env = {"x": rng.normal(size=4), "A": rng.normal(size=(3, 4))}
    graph = parse("tanh(A @ x) * sum(x**2) + softmax(A @ x)", {k: v.shape for k, v in env.items()}).with_wrt(None)
    values = autodiff.evaluate(graph, env)
    u = rng.normal(size=(1, 3))
    v = {"x": rng.normal(size=(1, 4)), "A": rng.normal(size=(1, 3, 4))}
    jv = autodiff.jvp(graph, values, v)[graph.output]
    jtu = autodiff.vjp(graph, values, u)
    lhs = float(np.sum(u * jv))
    rhs = sum(float(np.sum(jtu[k] * v[k])) for k in v)
    assert lhs == pytest.approx(rhs, rel=1e-12)


# --- PART reductions (issue 13): index ops, never differentiated (tests/test_reductions.py)
NONDIFF |= {"argmax", "argmin", "argsort", "argmedian", "argcum", "one_hot", "clamp_excess"}
# np.histogram's check of a range found from the data (0, or refused where NaN or inf)
NONDIFF.add("finite_range")
NONDIFF.add("integer")  # an integer computed from inputs, checked (ir/dtypes.py): PyTorch's integers carry no derivative
NONDIFF |= {"searchsorted", "digitize", "histc", "argquantile", "argmode"}  # tests/test_parity_lu_search.py


# --- the element-wise flag: what the symbolic forms read f' off (never a hand-kept list of names)
FLAG_CASES = {  # cases for the ops without derivative cases above: (shapes, params)
    "argmax": [(((2, 3),), {"axis": 1})], "argmin": [(((2, 3),), {"axis": 0})],
    "argsort": [(((2, 3),), {"axis": 1})], "argmedian": [(((2, 3),), {"axis": 1})],
    "argcum": [(((2, 3),), {"axis": 1})], "one_hot": [((None,), {"classes": 3, "axis": -1})],
    "detsign": [(("square",), {})], "clamp_excess": [(((2, 3), (3,)), {})],
    "finite_range": [(((), ()), {"message": "[{lo}, {hi}]"}), (((2, 3), (3,)), {"message": "[{lo}, {hi}]"})],
    "integer": [((None,), {"dtype": "int64"}), ((None, None), {"dtype": "uint8"}), ((None,), {"dtype": "bool"})],
    "lu_pivots": [(("square",), {})], "pivot_matrix": [((None,), {"m": 4})],
    "searchsorted": [(((4,), (2, 3)), {"right": True}), (((2, 4), (2, 3)), {})],
    "digitize": [(((2, 3), (4,)), {})], "histc": [(((2, 3),), {"bins": 4, "lo": -1.0, "hi": 1.0})],
    "argquantile": [(((2, 3),), {"axis": 1, "q": 0.3, "rank": "higher"})], "argmode": [(((2, 3),), {"axis": 0})],
}


def _flag_cases(name):
    if name in CASES:
        return CASES[name]
    if name in FLAG_CASES:
        return FLAG_CASES[name]
    return [(((2, 3),), {})] if name in NONDIFF_UNARY else [(((2, 3), (3,)), {})]  # masks: one or two arrays


def _one_by_one(op, arrays, params):
    """``op`` on each position's elements (the arrays broadcast), one call per element."""
    shape = np.broadcast_shapes(*[np.shape(a) for a in arrays])
    wide = [np.broadcast_to(np.asarray(a, dtype=np.float64), shape) for a in arrays]
    return np.array([op.impl(*[w[i] for w in wide], **params) for i in np.ndindex(shape)],
                    dtype=np.float64).reshape(shape)


def _acts_element_by_element(op, case, rng) -> bool:
    shapes, params = _normalize(case)
    arrays = [np.array([0.0, 2.0, 1.0, 0.0]) if s is None else _draw(op, s, rng) for s in shapes]
    try:
        whole = np.asarray(op.impl(*arrays, **params), dtype=np.float64)
        parts = _one_by_one(op, arrays, params)
    except Exception:  # noqa: BLE001 - an op that refuses scalars is not element-wise
        return False
    return whole.shape == parts.shape and bool(np.allclose(whole, parts, rtol=1e-12, atol=0, equal_nan=True))


# straight_through (session 39, a write through .detach()) gives its first argument back whole, so it passes the
# element-by-element test, but its derivative is its second argument's: it is left unflagged on purpose, so that
# neither the planner's diagonal reading (elementwise_diagonal) nor the symbolic forms' f.(u) ever read it as a
# function of its value (test_straight_through_is_never_read_as_element_wise)
@pytest.mark.parametrize("name", sorted(set(OPS) - {"straight_through"}))
def test_the_elementwise_flag_says_whether_the_op_acts_element_by_element(name):
    """``Op.elementwise`` is set exactly for the ops that are the same function applied at each position:
    ``op(a)[i] == op(a[i])`` on every case (the symbolic forms treat a flagged op as f.(u))."""
    op, rng = OPS[name], np.random.default_rng(7)
    acts = all(_acts_element_by_element(op, case, rng) for case in _flag_cases(name))
    assert op.elementwise == acts


def test_straight_through_is_never_read_as_element_wise():
    op = OPS["straight_through"]
    assert not op.elementwise and op.vjp[0] is None and op.jvp[0] is None and op.sympy is None


# --- PART hvocab10: frexp's exponent, NumPy's argpartition and lexsort (tests/test_parity_vocab10.py)
NONDIFF |= {"frexp_exponent", "argpartition", "lexsort"}
NONDIFF_UNARY.add("frexp_exponent")  # a step function of one array, like floor: a mask
FLAG_CASES.update({"frexp_exponent": [(((2, 3),), {})], "argpartition": [(((2, 3),), {"kth": 1, "axis": 1})],
                   "lexsort": [(((4,), (4,)), {})]})

# --- session 28: SciPy's gamma family (scipy.special.gamma, rgamma, beta, betaln, binom, poch)
for name in ["gamma", "rgamma"]:
    CASES[name] = [(((2, 3),), {})]
# 1/Γ at Γ's poles 0, -1, -2, -3 (its zeros, where its rule takes the reflection formula's branch) and beside them
FIXED["gamma_poles"] = np.array([[0.0, -1.0, -2.0], [-3.0, 0.5, -4.5]])
CASES["rgamma"].append((("gamma_poles",), {}))
for name in ["beta", "betaln", "binom", "poch"]:
    CASES[name] = [((2, 3), (3,))]
for name in ["ellipk", "ellipe", "ellipkm1"]:
    CASES[name] = [(((2, 3),), {})]

# --- session 29: more of scipy.special (lang/specials29.py): the orders of the integer-order functions fixed
FIXED["orders3"] = np.array([0.0, 1.0, 2.0])
FIXED["orders3_from1"] = np.array([1.0, 2.0, 4.0])
for name in ["jv", "yv", "iv", "kv", "jve", "yve", "ive", "kve", "struve", "modstruve", "hyp0f1", "gammaincinv",
             "gammainccinv"]:
    CASES[name] = [(((3,), (2, 3)), {})]
for name in ["yn", "kn", "spherical_jn", "spherical_yn", "spherical_in", "spherical_kn", "spherical_jn_d",
             "spherical_yn_d", "spherical_in_d", "spherical_kn_d"]:
    CASES[name] = [((("orders3", (2, 3))), {})]
CASES["expn"] = [((("orders3_from1", (2, 3))), {}), ((("orders3", (2, 3))), {})]
for name in ["spence", "fresnel_s", "fresnel_c", "sici_si", "sici_ci", "shichi_shi", "shichi_chi", "lambertw",
             "lambertw_m1", "sindg", "cosdg", "tandg", "cotdg", "erfi"]:
    CASES[name] = [(((2, 3),), {})]
CASES["owens_t"] = [((2, 3), (3,))]
for name in ["betainc", "betaincc", "betaincinv", "betainccinv", "hyp1f1"]:
    CASES[name] = [((3,), (3,), (2, 3))]
CASES["hyp2f1"] = [((3,), (3,), (3,), (2, 3))]
for name in ["ellipkinc", "ellipeinc", "stdtr", "stdtrit", "chdtr", "chdtrc", "chdtri", "pdtr", "pdtrc"]:
    CASES[name] = [((2, 3), (3,))]
for name in ["wrightomega", "ndtri_exp"]:
    CASES[name] = [(((2, 3),), {})]
for name in ["hyperu", "gdtr", "gdtrc", "fdtr", "fdtrc"]:
    CASES[name] = [((3,), (3,), (2, 3))]
FIXED["counts3"] = np.array([0.0, 2.0, 4.0])
FIXED["trials3"] = np.array([3.0, 5.0, 6.0])
for name in ["bdtr", "bdtrc", "nbdtr", "nbdtrc"]:
    CASES[name] = [(("counts3", "trials3", (2, 3)), {})]

# --- session 36: the rest of scipy.special (lang/specials36.py)
for name in ["ber", "bei", "ker", "kei", "berp", "beip", "kerp", "keip", "airy_sp_ai", "airy_sp_aip", "airy_sp_bi",
             "airy_sp_bip", "airye_ai", "airye_aip", "airye_bi", "airye_bip", "itj0y0_j", "itj0y0_y", "iti0k0_i",
             "iti0k0_k", "it2j0y0_j", "it2j0y0_y", "it2i0k0_i", "it2i0k0_k", "itstruve0", "it2struve0", "itmodstruve0"]:
    CASES[name] = [(((2, 3),), {})]
for name in ["ellipj_sn", "ellipj_cn", "ellipj_dn", "ellipj_ph", "agm"]:
    CASES[name] = [((2, 3), (3,))]
CASES["faddeeva_re"] = CASES["faddeeva_im"] = [((2, 3), (3,))]
for name in ["pbdv_value", "pbdv_slope", "pbvv_value", "pbvv_slope", "pbwa_value", "pbwa_slope"]:
    CASES[name] = [((3,), (2, 3))]
CASES["lpmv"] = [(("orders3", (3,), (2, 3)), {})]
CASES["pdtri"] = [(("counts3", (2, 3)), {})]
CASES["tklmbda"] = [((2, 3), (3,))]
for name in ["bdtri", "nbdtri"]:
    CASES[name] = [(("counts3", "trials3", (2, 3)), {})]
for name in ["wright_bessel", "log_wright_bessel", "voigt_profile", "gdtrix", "gdtria", "fdtri", "nrdtrimn",
             "nrdtrisd"]:
    CASES[name] = [((3,), (3,), (2, 3))]

# --- session 37: Carlson's integrals, diric, Jacobi and Gegenbauer polynomials (lang/specials37.py)
for name in ["elliprf", "elliprd", "elliprg"]:
    CASES[name] = [((2, 3), (3,), (3,))]
CASES["elliprc"] = [((2, 3), (3,))]
CASES["elliprj"] = [((3,), (3,), (3,), (2, 3))]
CASES["elliprd_slope"] = [(((2, 3), (3,), (3,)), {"index": i}) for i in range(3)]
CASES["elliprj_slope"] = [(((3,), (3,), (3,), (2, 3)), {"index": i}) for i in range(4)]
# session 38: the derivatives of R_D and R_J of order two and more (a quadrature of their integrals, exact to rounding)
# session 38: zeta's derivatives by x (Euler–Maclaurin), Riemann's zeta and zetac
CASES["zeta_dx"] = [(((2, 3), (3,)), {"order": 1}), (((3,), (2, 3)), {"order": 2})]
CASES["riemann_zeta"] = [((2, 3),)]
CASES["zetac"] = [((2, 3),)]
CASES["carlson_integral"] = [(((2, 3), (3,), (3,)), {"fname": "elliprd", "b": (1.5, 0.5, 2.5), "c": 0.75}),
                             (((3,), (3,), (3,), (2, 3)), {"fname": "elliprj", "b": (0.5, 1.5, 0.5, 2.0), "c": -1.5})]
CASES["diric"] = [(((2, 3),), {"n": 5}), (((2, 3),), {"n": 4})]
CASES["diric_slope"] = [(((2, 3),), {"n": 5, "order": 1}), (((2, 3),), {"n": 4, "order": 2})]
CASES["eval_jacobi"] = [(((3,), (3,), (2, 3)), {"n": 3.0}), (((3,), (3,), (2, 3)), {"n": 2.5})]
CASES["eval_sh_jacobi"] = [((("orders3_from1", (3,), (2, 3))), {"n": 4.0})]
CASES["eval_gegenbauer"] = [(((3,), (2, 3)), {"n": 3.0}), (((3,), (2, 3)), {"n": 1.5})]

# --- session 35: the quantile of SciPy's discrete distributions (a count: no derivative), drawn in (0.2, 0.8)
NONDIFF.add("discrete_quantile")
FLAG_CASES["discrete_quantile"] = [(((2, 3), (3,)), {}), (((2, 3), (3,), (3,)), {"dist": "binom", "upper": True})]

# --- session 36: a Fourier transform's values as np.fft gives them (lang/fourier.py adds the derivative by products
# --- with cos / sin matrices, tests/test_fft36.py); a real signal or its real and imaginary parts
NONDIFF.add("dft")
FLAG_CASES["dft"] = [(((2, 5),), {"kind": "rfft", "axis": 1, "n": 5, "norm": None, "part": "im"}),
                     (((2, 5), (2, 5)), {"kind": "fft", "axis": 0, "n": 3, "norm": "ortho", "part": "re"}),
                     (((2, 3), (2, 3)), {"kind": "irfft", "axis": 1, "n": 4, "norm": None, "part": "re"})]

# --- session 37: a transform's derivative past MATRIX_LENGTH points (lang/fourier.py): the real-linear map of one part
# --- of the signal, and its adjoint (tests/test_fft37.py checks ⟨g, L x⟩ = ⟨Lᵀ g, x⟩ for every kind)
CASES["fftmap"] = [(((2, 5),), {"kind": "rfft", "axis": 1, "n": 6, "m": 5, "norm": None, "part": "im", "imag": False,
                                "adjoint": False}),
                   (((3, 2),), {"kind": "fft", "axis": 0, "n": 3, "m": 3, "norm": "ortho", "part": "re", "imag": True,
                                "adjoint": True}),
                   (((2, 3),), {"kind": "irfft", "axis": 1, "n": 4, "m": 3, "norm": "forward", "part": "re",
                                "imag": True, "adjoint": False}),
                   (((2, 4),), {"kind": "hfft", "axis": 1, "n": 4, "m": 3, "norm": None, "part": "re", "imag": True,
                                "adjoint": True})]
# session 39: gammainc / gammaincc as SciPy and JAX spell them (by a: igamma_grad_a, whose own derivative by a is
# refused, as JAX's); the domain (0.5, 3) reaches both the series (x <= max(a, 1)) and the continued fraction
CASES.update({"gammainc": [((2, 3), (3,))], "gammaincc": [((2, 3), (2, 3))], "igamma_grad_a": [((2, 3), (3,))]})
SECOND_ORDER_REFUSED.update({"gammainc": "igamma_grad_a", "gammaincc": "igamma_grad_a"})  # by a twice, as JAX
# session 39: a value whose every derivative is refused (torch.histogram's; no case: the refusal is
# checked in tests/test_special39.py against PyTorch's own)
REFUSED.add("no_derivative")
NONDIFF.add("no_derivative")
# session 39: hyp1f1 by a and b (hyp1f1_slope, ir/kummer.py), whose own derivatives are refused
REFUSED.add("hyp1f1_slope")
NONDIFF.add("hyp1f1_slope")
FLAG_CASES["hyp1f1_slope"] = [(((3,), (3,), (2, 3)), {"index": 0}), (((3,), (3,), (2, 3)), {"index": 1})]
SECOND_ORDER_REFUSED["hyp1f1"] = "through its parameters is not supported"

# --- session 40: square_scale, the constant the norm layers divide by before they square (no derivative)
NONDIFF.add("square_scale")
FLAG_CASES["square_scale"] = [(((2, 3),), {"axes": (1,)}), (((2, 3),), {"axes": (0, 1)})]

# --- session 41: basis_turn, ir/signs.py's other basis of repeated eigenvalues' eigenspaces (no derivative)
FIXED["tied3"] = np.array([1.0, 1.0, 2.0])
NONDIFF.add("basis_turn")
FLAG_CASES["basis_turn"] = [(("square", "tied3"), {"axis": -1, "size": 3}), (("square", "tied3"), {"axis": -2, "size": 3})]

# --- session 49: log_softmax_shift, the finite maximum a log_softmax subtracts first (no derivative)
NONDIFF.add("log_softmax_shift")
FLAG_CASES["log_softmax_shift"] = [(((2, 3),), {"axes": (1,), "keepdims": True}), (((2, 3),), {"axes": (0, 1), "keepdims": False})]

# --- session 52: softmax_common, the constant a slice of softmax's cotangent holds, which the rule's derivatives
# subtract first (no derivative); (2, 3) along both axes, and a slice of one element
NONDIFF.add("softmax_common")
FLAG_CASES["softmax_common"] = [(((2, 3),), {"axis": 1}), (((2, 3),), {"axis": 0}), (((3, 1),), {"axis": 1})]
