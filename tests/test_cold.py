"""The cold path (parse, bind, plan, first pass) made cheaper must answer as before.

The first call of an expression parses it, dry-runs a pass to plan it and runs the
interpreter; issue 16 item 3 made those steps cheaper without changing what they find.
These tests pin what they find: broadcasting of two shapes against the general rule,
the dry runs' counts (structure, work, predicted peaks) against the numbers the code gave
before (commit 923e1ae), and the messages of refused inputs.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import jacobi_cli
from jacobi_cli.errors import JacError, JacShapeError
from jacobi_cli.engine import planner
from jacobi_cli.ir import ops
from jacobi_cli.ir.graph import Builder
from jacobi_cli.ir.shapes import broadcast, fmt
from jacobi_cli.tools import api


def _broadcast_by_the_general_rule(*shapes):
    """The rule for any number of shapes: per axis, the sizes other than 1 must agree."""
    ndim = max(len(s) for s in shapes)
    out = []
    for axis in range(-ndim, 0):
        dims = {s[axis] for s in shapes if len(s) >= -axis} - {1}
        if len(dims) > 1:
            raise JacShapeError("cannot broadcast shapes " + " and ".join(fmt(s) for s in shapes))
        out.append(dims.pop() if dims else 1)
    return tuple(out)


def _outcome(fn, *shapes):
    try:
        return "ok", fn(*shapes)
    except JacShapeError as err:
        return "error", str(err)


def test_broadcast_of_two_shapes_follows_the_general_rule():
    dims = [0, 1, 2, 3, "n", "m"]
    shapes = [s for rank in range(4) for s in itertools.product(dims, repeat=rank)]
    for a, b in itertools.product(shapes, repeat=2):
        assert _outcome(broadcast, a, b) == _outcome(_broadcast_by_the_general_rule, a, b), (a, b)
    assert broadcast((2, 1), (3,), (1, 3)) == (2, 3)  # three shapes: the general rule itself


# (expr, auto mode, structure, nnz, auto work, auto peak, forward work, forward peak,
#  vjp pass peak, vjp values bytes): found by the code before the cold path was made cheaper; the peaks raised in
#  session 40, where a small Jacobian's dense passes (planner._dense_bytes) and the rules' temporaries
#  (structured.Ledger.rule) are counted, and in session 41, where a product's placed vectors count their index
#  arrays (structured._dry_placed: tanh(A @ x) and A.T @ relu(x) at n = 100)
N10 = [
    # session 57: forward 1528 -> 1762, the structured pass beside the dense part where that holds a NaN
    ("sin(x) * x**2 + exp(-x)", "reverse", "diagonal", 10, 90, 1848, 90, 1762, 480, 560),
    ("x @ A @ x", "reverse", "dense", 10, 83, 3616, 250, 26728, 328, 968),
    ("tanh(A @ x)", "reverse", "dense", 100, 130, 28240, 220, 28240, 240, 1040),
    # session 55: the sum's cotangent copied; session 57: 824 -> 1512, the structured pass a NaN in the dense pass
    # makes it run beside the dense part (planner._dense_parts_bytes) and its listed part's Python objects
    ("sum(x * x)", "reverse", "dense", 10, 42, 1512, 50, 3528, 328, 168),
    ("softmax(x)", "reverse", "dense", 100, 110, 4160, 110, 4160, 160, 160),
    ("sum(tanh(A @ tanh(A @ x)))", "reverse", "dense", 10, 92, 4096, 1330, 29368, 248, 1208),
]
N100 = [
    ("sin(x) * x**2 + exp(-x)", "reverse", "diagonal", 100, 900, 18408, 900, 15208, 4800, 5600),
    # session 56: a forward pass's tangent (B, n) times tanh's slope (n,) counts NumPy's iteration buffer (64 KiB)
    ("tanh(A @ x)", "reverse", "dense", 10000, 10300, 173700, 20200, 312736, 2400, 82400),
    ("softmax(x)", "reverse", "dense", 10000, 10100, 86400, 10100, 86400, 1600, 1600),
    ("x[1:3] * 2", "reverse", "sparse", 2, 104, 5816, 104, 246504, 832, 832),
    ("cumsum(x) @ A", "reverse", "dense", 10000, 20200, 244800, 1010200, 246400, 2400, 83200),
    # session 56: forward mode held 315576 B (tracemalloc), 1.27 times the 248808 predicted before the buffer counted
    ("sum(tanh(A @ tanh(A @ x)))", "reverse", "dense", 100, 902, 328816, 1030300, 314344, 2408, 84008),
    ("sort(x)[:2]", "reverse", "dense", 200, 302, 12072, 10300, 164024, 1616, 2416),
    ("A.T @ relu(x)", "forward", "dense", 10000, 10300, 253700, 10300, 253700, 3200, 162400),
]


@pytest.mark.parametrize("n, case", [(10, c) for c in N10] + [(100, c) for c in N100])
def test_dry_runs_count_as_before(n, case):
    expr, mode, structure, nnz, work, peak, f_work, f_peak, vjp_peak, vjp_values = case
    bindings = {"x": f":{n}", "A": f":{n}x{n}"} if "A" in expr else {"x": f":{n}"}
    api.clear_cache()
    plan = jacobi_cli.plan(expr, bindings, wrt=["x"], max_memory="1G")
    p = plan.inputs["x"]
    assert (p.mode, p.structure, p.nnz, p.work, plan.peak_bytes) == (mode, structure, nnz, work, peak)
    forward = jacobi_cli.plan(expr, bindings, wrt=["x"], mode="forward", max_memory="1G")
    assert (forward.inputs["x"].work, forward.peak_bytes) == (f_work, f_peak)
    product = planner.product_plan(api.prepare(expr, bindings, wrt=["x"]).graph, "vjp")
    assert (product.pass_peak, product.values_bytes, product.exact) == (vjp_peak, vjp_values, True)


@pytest.mark.parametrize("n, case", [(10, c) for c in N10])
def test_a_budget_between_the_values_and_the_peak_is_refused_before_the_pass(n, case):
    expr, *_, vjp_peak, vjp_values = case
    x = np.linspace(-1, 1, n)
    bindings = {"x": x, "A": np.ones((n, n)) / n} if "A" in expr else {"x": x}
    with pytest.raises(JacError, match="over the memory budget"):
        jacobi_cli.vjp(expr, bindings, "ones", wrt=["x"], max_memory=vjp_values + vjp_peak - 1)
    assert jacobi_cli.vjp(expr, bindings, "ones", wrt=["x"], max_memory=vjp_values + vjp_peak)["x"].shape == (n,)


@pytest.mark.parametrize("shape, message", [
    ((2,) * 33, "the input x, shape (2, 2, 2, 2"),
    ((2**40, 2**30), "the input x, shape (1099511627776, 1073741824), has sizes"),
])
def test_a_refused_input_is_named_in_the_message(shape, message):
    with pytest.raises(JacError) as err:
        Builder("x").input("x", shape)
    assert message in str(err.value)


# --- a first call without a plan (planner.unplanned) ----------------------------------------------
#
# A cold Jacobian of a small problem runs the plan's dense passes first and makes no plan when
# their result has no zero and no NaN (then the dry run's structure is certainly dense); a
# product's dry run is skipped when planner.pass_bound fits the budget. These tests pin that
# the answers are the planned path's, bit for bit, structure included, and that the bound is
# never below what a dry run predicts.

from hypothesis import HealthCheck, given, note, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from jacobi_cli.engine import autodiff  # noqa: E402
from jacobi_cli.engine.compiled import Compiled  # noqa: E402
from jacobi_cli.engine.jacobian import SparseJacobian  # noqa: E402
from jacobi_cli.engine.memory import forward_bytes  # noqa: E402

from test_fuzz import INPUTS, typed_expressions  # noqa: E402

SPECIAL = [0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -1e-310, 1e300]
COLD = settings(max_examples=int(__import__("os").environ.get("JAC_FUZZ_EXAMPLES", "150")), deadline=None,
                derandomize=True, database=None, suppress_health_check=list(HealthCheck))


def _environment(seed: int, special: float, dtype) -> dict:
    rng = np.random.default_rng(seed)
    env = {name: rng.uniform(-1, 1, shape) for name, shape in INPUTS.items()}
    if special > 0:  # some entries 0, -0, inf, NaN, subnormal
        for name, value in env.items():
            flat = value.reshape(-1)
            hit = rng.uniform(size=flat.size) < special
            flat[hit] = rng.choice(SPECIAL, size=int(hit.sum()))
    return {name: np.asarray(value, dtype=dtype) for name, value in env.items()}


def _result_or_error(call):
    try:
        return "ok", call()
    except JacError as err:
        return "error", (type(err).__name__, str(err))


def _record(j):
    """Everything an answer says, as bytes: structure, shapes, dtype, entries."""
    if isinstance(j, SparseJacobian):
        return (j.structure, j.shape, j.dtype.str, j.rows.tobytes(), j.cols.tobytes(),
                np.ascontiguousarray(j.values).view(np.uint8).tobytes())
    a = np.ascontiguousarray(j.to_array())
    return j.structure, j.shape, a.dtype.str, a.view(np.uint8).tobytes()


def _compare_cold_with_planned(text: str, env: dict, dtype, mode: str, wrt):
    shapes = {name: value.shape for name, value in env.items()}
    try:
        cold = Compiled(text, shapes, dtype)
        planned = Compiled(text, shapes, dtype)
    except JacError:
        return None
    if cold.graph.several:
        return None
    budget = 2**30

    def first_call():
        return cold.jacobian(env, wrt, mode, budget, structured=True)

    def planned_call():  # the plan made first and kept: the call reads the result off at it
        problem = planned.bind(env, wrt, budget=budget)
        planned.plan_of(problem, mode, budget)
        return planned.jacobian(env, wrt, mode, budget, structured=True)

    got, want = _result_or_error(first_call), _result_or_error(planned_call)
    assert got[0] == want[0], (text, got, want)
    if got[0] == "error":
        assert got == want, text
        return None
    assert list(got[1]) == list(want[1]), text
    for name in want[1]:
        assert _record(got[1][name]) == _record(want[1][name]), (text, name, mode)
    _compare_cold_arrays(text, shapes, env, dtype, mode, wrt, budget, want[1])
    return any(key[0] == "plan" for key in cold._memo)  # True: the first call made the plan after all


def _compare_cold_arrays(text, shapes, env, dtype, mode, wrt, budget, want):
    """A first call's dense arrays (made without Jacobian objects when no plan is needed:
    ``planner._cold_array``) against the planned Jacobians' ``to_array()``: dtype, shape, bytes,
    and never a view of an input."""
    got = Compiled(text, shapes, dtype).jacobian(env, wrt, mode, budget)
    assert list(got) == list(want), text
    for name, j in want.items():
        a, b = got[name], j.to_array()
        assert (a.dtype, a.shape) == (b.dtype, b.shape), (text, name, mode)
        assert np.ascontiguousarray(a).view(np.uint8).tobytes() == np.ascontiguousarray(b).view(np.uint8).tobytes()
        assert not any(np.may_share_memory(a, v) for v in env.values()), (text, name)


@COLD
@given(e=typed_expressions(), seed=st.integers(0, 2**16),
       special=st.sampled_from([0.0, 0.0, 0.2, 0.6]), dtype=st.sampled_from([np.float64, np.float32]),
       mode=st.sampled_from(["auto", "auto", "forward", "reverse"]), few=st.booleans())
def test_a_first_call_without_a_plan_gives_the_planned_answer(e, seed, special, dtype, mode, few):
    """Values, dtype, structure and pattern of every Jacobian, byte for byte, and the same
    errors: a cold call (no plan when its dense passes show the structure) against the call
    whose plan was made first."""
    note(e.text)
    wrt = ["v", "A"] if few else None
    env = _environment(seed, special, dtype)
    _compare_cold_with_planned(e.text, env, dtype, mode, wrt)


CASES_COLD = ["sin(x) * x**2 + exp(-x)", "x @ A @ x", "tanh(A @ x)", "sum(x * x)", "softmax(x)",
              "sum(tanh(A @ tanh(A @ x)))", "A @ x", "x[1:3] * 2", "cumsum(x)", "sort(x)[:2]", "x * 0",
              "where(x > 0, x, 0)", "outer(x, x)", "relu(A @ x)", "x / x", "sum(x) * x", "A.T @ relu(x)"]


@pytest.mark.parametrize("special", [0.0, 0.3])
@pytest.mark.parametrize("expr", CASES_COLD)
def test_a_first_call_without_a_plan_gives_the_planned_answer_here_too(expr, special):
    rng = np.random.default_rng(3)
    for dtype in (np.float64, np.float32):
        env = {"x": rng.uniform(-1, 1, 10), "A": rng.uniform(-1, 1, (10, 10))}
        if special:
            env["x"][::3] = [0.0, np.inf, -0.0, np.nan]
        env = {n: v.astype(dtype) for n, v in env.items() if n in expr}
        for mode in ("auto", "forward", "reverse"):
            _compare_cold_with_planned(expr, env, dtype, mode, None)


@pytest.mark.parametrize("expr", CASES_COLD[1:6])
def test_the_benchmark_cases_make_no_plan_at_their_first_call(expr):
    """E2-E6 at n = 10: dense Jacobians, no zero in them, so no dry run (E1's diagonal has
    zeros: it makes its plan); the second call makes the plan its kernel needs."""
    env = {"x": np.linspace(-1, 1, 10) + 0.05, "A": np.random.default_rng(0).uniform(-1, 1, (10, 10))}
    env = {n: v for n, v in env.items() if n in expr}
    f = Compiled(expr, {n: v.shape for n, v in env.items()})
    first = f.jacobian(env, ["x"])
    assert not any(key[0] == "plan" for key in f._memo)
    second = f.jacobian(env, ["x"])
    assert any(key[0] == "plan" for key in f._memo)
    assert first["x"].tobytes() == second["x"].tobytes()
    assert api.plan(expr, env, wrt=["x"]).inputs["x"].structure == "dense"


def test_a_zero_in_the_dense_pass_makes_the_plan():
    """x[1:3] * 2: the dense pass is zero off two entries, so the plan's dry run says where
    the entries are (a selection), and the pass already run is read off at it."""
    f = Compiled("x[1:3] * 2", {"x": (4,)})
    j = f.jacobian({"x": np.array([1.0, np.inf, 0.0, -2.0])}, structured=True)["x"]
    assert j.structure == "sparse" and j.nnz == 2 and any(key[0] == "plan" for key in f._memo)


def test_an_element_wise_graph_is_diagonal_without_a_plan():
    """sin(x) * x**2: every node on the derivative's way is element-wise over x's shape, so the
    dry run would find the diagonal (planner.elementwise_diagonal): no plan at the first call, and
    the entries off it (NaN at inf: 0 * inf) are left out as the planned call leaves them."""
    f = Compiled("sin(x) * x**2", {"x": (4,)})
    x = np.array([1.0, np.inf, 0.0, -2.0])
    j = f.jacobian({"x": x}, structured=True)["x"]
    assert j.structure == "diagonal" and not any(key[0] == "plan" for key in f._memo)
    assert np.isnan(j.values[1]) and j.values[2] == 0.0 and j.rows.tolist() == j.cols.tolist() == [0, 1, 2, 3]
    planned = Compiled("sin(x) * x**2", {"x": (4,)})
    planned.plan_of(planned.bind({"x": x}), "auto", 2**30)
    assert _record(planned.jacobian({"x": x}, structured=True)["x"]) == _record(j)


@pytest.mark.parametrize("n", [100, 1000, 5000])
def test_an_element_wise_graph_past_the_small_size_is_one_pass_along_ones_without_a_plan(n):
    """E1 past the small size: no dry run and no plan at the first call, the planned call's bytes,
    and a budget that the dense arrays would pass makes the plan, which refuses it as before."""
    x = np.linspace(-3, 3, n)
    x[:7] = [0.0, -0.0, np.inf, np.nan, 5e-324, -1e300, -np.inf]
    f = Compiled("sin(x) * x**2 + exp(-x)", {"x": (n,)})
    j = f.jacobian({"x": x}, structured=True)["x"]
    assert j.structure == "diagonal" and not any(key[0] == "plan" for key in f._memo)
    planned = Compiled("sin(x) * x**2 + exp(-x)", {"x": (n,)})
    assert planned.plan_of(planned.bind({"x": x}), "auto", 2**30).inputs["x"].along_ones
    assert _record(planned.jacobian({"x": x}, structured=True)["x"]) == _record(j)
    dense = Compiled("sin(x) * x**2 + exp(-x)", {"x": (n,)}).jacobian({"x": x})["x"]
    assert dense.tobytes() == j.to_array().tobytes()
    if n == 5000:  # 200 MB dense, a 100 MB budget: refused with the plan's message, nothing computed
        with pytest.raises(JacError, match="memory budget"):
            Compiled("sin(x) * x**2 + exp(-x)", {"x": (n,)}).jacobian({"x": x}, budget=10**8)


def test_the_first_call_takes_the_plan_when_the_bound_passes_the_budget():
    """A budget under the bound: the plan decides (here it refuses), as before."""
    env = {"x": np.ones(10), "A": np.ones((10, 10))}
    f = Compiled("tanh(A @ x)", {"x": (10,), "A": (10, 10)})
    with pytest.raises(JacError, match="memory budget"):
        f.jacobian(env, ["x"], budget=1500)
    assert planner.pass_bound(f.graph, 10) > 10**5


def _bound_holds(graph, values, names):
    """pass_bound is above every dry run's peak: both passes per input, and the products; and the
    values' bytes as make_plan counts them are within what planner.unplanned reads off the facts (each
    value of its node's shape, at most 8 bytes an element)."""
    for node, value in zip(graph.nodes, values):
        assert np.shape(value) == tuple(node.shape), node
    assert planner._values_bytes(values) <= graph.facts.elements * planner._MAX_ITEMSIZE
    for name in names:
        m, n = int(np.prod(graph.output_shape)), int(np.prod(graph.nodes[graph.inputs[name]].shape))
        assert planner.probe_forward(graph, values, name).peak <= planner.pass_bound(graph, n), name
        one = graph.with_wrt([name])
        assert planner.probe_reverse(one, values, [name]).peak <= planner.pass_bound(graph, m), name
    m = int(np.prod(graph.output_shape))
    assert planner.probe_reverse(graph, values, list(names)).peak <= planner.pass_bound(graph, m)  # one pass, all
    vjp = planner.product_plan(graph, "vjp")
    assert vjp.pass_peak <= planner.pass_bound(graph, 1) and vjp.values_bytes == forward_bytes(graph)
    assert planner.product_plan(graph, "jvp", names).pass_peak <= planner.pass_bound(graph, 1)
    if names and all(planner.elementwise_diagonal(graph, name) for name in names):  # a pass along ones
        bound = planner.pass_bound(graph, 1, elementwise=True)
        assert vjp.pass_peak <= bound and planner.product_plan(graph, "jvp", names).pass_peak <= bound


def _op_case_graphs():
    """``(graph, env, wrt)`` of every op case of tests/test_ops.py (so a new op is checked the moment it
    has cases): the op's graph, its inputs, and the inputs it is differentiable in."""
    from test_ops import CASES, _differentiable, _draw, _graph, _normalize
    from jacobi_cli.ir.ops import OPS

    for name, cases in CASES.items():
        op = OPS[name]
        for case in cases:
            shapes, params = _normalize(case)
            rng = np.random.default_rng(0)
            arrays = [_draw(op, s, rng) for s in shapes]
            graph, env = _graph(name, arrays, params)
            yield graph, env, [f"a{i}" for i in range(len(arrays)) if _differentiable(op, i) and shapes[i] != "mask"]


def test_the_bound_is_above_every_ops_dry_runs():
    for graph, env, wrt in _op_case_graphs():
        if wrt:
            graph = graph.with_wrt(wrt)
            _bound_holds(graph, autodiff.evaluate(graph, env), wrt)


@COLD
@given(e=typed_expressions(), seed=st.integers(0, 2**16))
def test_the_bound_is_above_the_dry_runs_of_expressions(e, seed):
    note(e.text)
    try:
        problem = api.prepare(e.text, _environment(seed, 0.0, np.float64))
    except JacError:
        return
    if problem.graph.several:
        return
    _bound_holds(problem.graph, problem.values, problem.wrt)


class _Plain(np.ndarray):
    """An array that is not exactly np.ndarray: the matmul rules take their general path (P's ops)."""


@pytest.mark.parametrize("a_shape, b_shape", [((3, 4), (4,)), ((4,), (4, 3)), ((4,), (4,)), ((3, 4), (4, 2)),
                                              ((1, 4), (4, 1)), ((3, 1), (1,))])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_matmul_rules_on_arrays_make_the_calls_of_their_general_path(a_shape, b_shape, dtype):
    from jacobi_cli.ir.ops import OPS

    rng = np.random.default_rng(7)
    a, b = rng.normal(size=a_shape).astype(dtype), rng.normal(size=b_shape).astype(dtype)
    a.reshape(-1)[::3] = np.array([0.0, -0.0, np.inf, np.nan, 5e-324], dtype)[: a.reshape(-1)[::3].size]
    out_shape = np.matmul(a, b).shape
    g = rng.normal(size=(5,) + out_shape).astype(dtype)
    for i, rule in enumerate(OPS["matmul"].vjp):
        fast = rule(g, None, a, b)
        general = rule(g.view(_Plain), None, a.view(_Plain), b.view(_Plain))
        assert type(fast) is np.ndarray and fast.shape == (5,) + (a_shape, b_shape)[i]
        with np.errstate(all="ignore"):
            assert np.asarray(general).view(np.uint8).tobytes() == fast.view(np.uint8).tobytes()


# --- the diagonal of an element-wise graph, known without a dry run (planner.elementwise_diagonal) -------

def test_every_element_wise_op_keeps_the_seeds_pattern_in_its_dry_runs():
    """Each differentiable element-wise op (every case of tests/test_ops.py, so a new op is
    checked the moment it has cases), with the input in each argument position of the result's
    shape and in several at once, the others inputs of their own: the dry runs of both modes find
    the diagonal that elementwise_diagonal claims, rows and columns 0..n-1."""
    from test_ops import CASES, _differentiable, _draw, _normalize
    from jacobi_cli.ir.ops import OPS

    checked = set()
    for name, cases in CASES.items():
        op = OPS[name]
        if not op.elementwise or op.nondiff:
            continue
        for case in cases:
            shapes, params = _normalize(case)
            rng = np.random.default_rng(0)
            arrays = [np.asarray(_draw(op, s, rng), dtype=np.float64) for s in shapes]
            out = np.broadcast_shapes(*[a.shape for a in arrays])
            spots = [i for i, a in enumerate(arrays) if _differentiable(op, i) and a.shape == out]
            for r in range(1, len(spots) + 1):
                for chosen in itertools.combinations(spots, r):
                    b = Builder()
                    x = b.input("x", out)
                    args = [x if i in chosen else b.input(f"a{i}", a.shape) for i, a in enumerate(arrays)]
                    graph = b.graph(b.apply(name, *args, **params)).with_wrt(["x"])
                    if int(np.prod(out)) < 2:
                        assert not planner.elementwise_diagonal(graph, "x")
                        continue
                    assert planner.elementwise_diagonal(graph, "x"), (name, chosen)
                    env = {"x": arrays[chosen[0]], **{f"a{i}": a for i, a in enumerate(arrays) if i not in chosen}}
                    values = autodiff.evaluate(graph, env)
                    for mode in ("reverse", "forward"):
                        p = planner.make_plan(graph, values, ["x"], mode, 2**30).inputs["x"]
                        n = int(np.prod(out))
                        assert p.structure == "diagonal" and p.nnz == n, (name, chosen, mode)
                        assert p.pattern[0].tolist() == p.pattern[1].tolist() == list(range(n))
                    checked.add(name)
    assert {"sin", "mul", "add", "sub", "div", "pow", "neg", "where", "clip", "maximum"} <= checked


UNARY_EW = ["sin", "cos", "exp", "tanh", "sigmoid", "relu", "abs", "sqrt", "log", "log1p", "expm1", "softplus",
            "torch.special.erf", "square", "reciprocal", "F.gelu", "F.silu", "sign", "floor", "torch.detach"]
BINARY_EW = ["+", "-", "*", "/", "**"]
CALL2_EW = ["maximum", "minimum", "atan2", "hypot", "logaddexp", "fmod"]


@st.composite
def elementwise_texts(draw, depth=3):
    """Expressions over x, y (shape (2, 3)), a row r (3,), numbers and, rarely, one that is not
    element-wise (a sum, a slice, a transpose, a product): the cases elementwise_diagonal takes
    and those next to them it must refuse."""
    def term(d):
        if d == 0:
            return draw(st.sampled_from(["x", "x", "y", "r", "2.5", "-0.0", "x"]))
        kind = draw(st.integers(0, 9))
        a = term(d - 1)
        if kind <= 3:
            return f"{draw(st.sampled_from(UNARY_EW))}({a})"
        if kind <= 6:
            return f"({a} {draw(st.sampled_from(BINARY_EW))} {term(d - 1)})"
        if kind == 7:
            return f"{draw(st.sampled_from(CALL2_EW))}({a}, {term(d - 1)})"
        if kind == 8:
            return draw(st.sampled_from([f"where({a} > 0, {term(d - 1)}, 0)", f"clip({a}, -0.5, 0.5)",
                                         f"where(x > 0, 1.0, {a})"]))
        return draw(st.sampled_from([f"({a} * sum(x))", f"({a})[::-1, :]", f"({a} + x[:, :1])",
                                     f"(({a}).T).T", f"(({a}) @ eye(3))"]))
    return term(draw(st.integers(1, depth)))


def _element_wise_environment(seed, special, dtype, rows=2):
    """x, y of shape (rows, 3) and a row r, with ``special`` of their entries 0, -0, inf, NaN, ..."""
    rng = np.random.default_rng(seed)
    env = {"x": rng.uniform(-1, 1, (rows, 3)), "y": rng.uniform(-1, 1, (rows, 3)), "r": rng.uniform(-1, 1, 3)}
    for value in env.values():
        flat = value.reshape(-1)
        hit = rng.uniform(size=flat.size) < special
        flat[hit] = rng.choice(SPECIAL, size=int(hit.sum()))
    return {n: v.astype(dtype) for n, v in env.items()}


@COLD
@given(text=elementwise_texts(), seed=st.integers(0, 2**16), special=st.sampled_from([0.0, 0.3, 0.7]),
       dtype=st.sampled_from([np.float64, np.float32]), mode=st.sampled_from(["auto", "forward", "reverse"]),
       both=st.booleans(), rows=st.sampled_from([2, 2, 400]))
def test_an_element_wise_first_call_gives_the_planned_answer(text, seed, special, dtype, mode, both, rows):
    """Element-wise compositions, with 0, -0, inf, NaN and subnormals: the first call (the
    diagonal along ones, or the dense check, or a plan) against the planned call, byte for byte,
    structure and pattern included, for x alone and for x and y; small, and past the small size
    (400 x 3: 1,440,000 entries, where the plan's passes would be structured ones)."""
    note(text)
    env = _element_wise_environment(seed, special, dtype, rows)
    _compare_cold_with_planned(text, env, dtype, mode, ["x", "y"] if both else ["x"])


@COLD
@given(text=elementwise_texts(), seed=st.integers(0, 2**16), special=st.sampled_from([0.0, 0.3, 0.7]),
       dtype=st.sampled_from([np.float64, np.float32]), both=st.booleans())
def test_the_pass_along_ones_is_the_diagonal_of_the_pass_over_the_basis(text, seed, special, dtype, both):
    """planner.along_ones (the first call's and the plan's answer for an element-wise graph) against
    the diagonal of the dense pass over the whole basis, both modes: the same values bit for bit
    (-0 included), NaN at the same entries (the sign bit of a NaN is the loops' own: NumPy's SIMD
    body and its tail propagate the first or the second operand's NaN, and a basis of n vectors
    puts entry (j, j) in another part of the loop than a vector of ones puts entry j)."""
    note(text)
    env = _element_wise_environment(seed, special, dtype)
    wrt = ["x", "y"] if both else ["x"]
    try:
        problem = api.prepare(text, {n: v for n, v in env.items() if n in text} | {"x": env["x"]}, dtype=dtype)
    except JacError:
        return
    wrt = [n for n in wrt if n in problem.graph.inputs]
    graph = problem.graph.with_wrt(wrt)
    ones = [n for n in wrt if planner.elementwise_diagonal(graph, n)]
    if not ones:
        return
    values = autodiff.evaluate(graph, problem.env)
    for mode in ("reverse", "forward"):
        got = planner.along_ones(graph, values, dict.fromkeys(ones, mode), len(wrt))
        full = planner._dense_passes(graph, values, dict.fromkeys(wrt, mode))
        for name in ones:
            n = got[name].size
            flat = np.asarray(full[name]).reshape(n, n)
            want = (flat.T if mode == "forward" else flat).diagonal()
            a = got[name]
            assert a.dtype == want.dtype and not any(np.may_share_memory(a, v) for v in values), (text, name)
            assert np.array_equal(np.isnan(a), np.isnan(want)), (text, name, mode)
            keep = ~np.isnan(a)
            assert a[keep].tobytes() == want[keep].tobytes(), (text, name, mode)


def test_a_unary_function_of_one_array_lowers_as_its_general_path():
    """f(x) with one array argument skips arguments() and tensor(): the same node (op, args,
    shape, position) as f(x=x), the general path, for every element-wise spelling."""
    from jacobi_cli.lang.functions import FUNCTIONS

    unary = {name: fn for name, fn in FUNCTIONS.items() if fn.__qualname__ == "_unary.<locals>.lower"}
    assert {"sin", "exp", "tanh", "sigmoid"} <= set(unary)
    for name, lower in unary.items():
        built = []
        for call in (lambda b, x: lower(b, [x], {}, 7), lambda b, x: lower(b, [], {"x": x}, 7)):
            b = Builder("f(x)")
            try:
                out = call(b, b.input("x", (3, 2)))
                built.append(("ok", [n.fields() for n in b.nodes], out.shape))
            except JacError as err:
                built.append(("error", type(err).__name__, str(err), err.position))
        assert built[0] == built[1], name


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_dict_of_arrays_is_its_own_bindings_at_a_first_call(dtype):
    """api._compiled takes a dict of arrays of the dtype as to_bindings and realize would give
    it (no copy): the same compiled shapes, answers and errors as the same values given as lists."""
    x = np.array([0.5, -0.0, np.inf, 2.0], dtype=dtype)
    A = np.arange(8.0, dtype=dtype).reshape(2, 4)
    for expr in ("A @ sin(x)", "sin(x) * x**2", "x[x > 1] * 2"):
        got, want = [], []
        for bindings, out in (({"x": x, "A": A}, got), ({"x": x.tolist(), "A": A.tolist()}, want)):
            api.clear_cache()
            compiled, env = api._compiled(expr, bindings, np.dtype(dtype).type, 0, 2**30)
            out.append(compiled.shapes)
            out.append({n: (v.dtype.str, v.tobytes()) for n, v in env.items()})
            out.append(_result_or_error(lambda: {n: j.tobytes() for n, j in
                                                 jacobi_cli.jacobian(expr, bindings, dtype=dtype).items()}))
            out.append(_result_or_error(lambda: jacobi_cli.jacobian(expr, bindings, dtype=dtype, seed=-1)))
        assert got == want, expr
    api.clear_cache()
    assert api.evaluate("ones(2) * 2", None, dtype=dtype).tolist() == [2.0, 2.0]  # no bindings: not a dict of arrays


# --- hcold7's fast paths, each against the general path it stands for ------------------------

def _general_apply(b, op_name, args, position, params):
    """``Builder._apply``'s general path (lists of tracers and shapes), as it was before its fast
    paths for one and two tracers."""
    from jacobi_cli.ir.graph import Tracer, _NO_PARAMS
    from jacobi_cli.ir.ops import OPS

    op = OPS[op_name]
    tracers = [a if isinstance(a, Tracer) else b.const(a, position) for a in args]
    try:
        shape = op.shape(*[t.shape for t in tracers], **params)
    except JacError as err:
        if err.position is None:
            err.position = position
        if not err.message.startswith(op_name):
            err.message = f"{op.title}: {err.message}"
            err.args = (err.message,)
        raise
    folds = b.fold and all([b.nodes[t.id].op == "const" for t in tracers])
    if folds or not b.shapes_only:
        b.check_size(shape, lambda: f"the result of {op.title}, shape {fmt(shape)},", position)
    if folds:
        return b._fold(op, tracers, params, position)
    return b._append(op_name, tuple([t.id for t in tracers]), params or _NO_PARAMS, shape, None, position)


def _built(make):
    """(the nodes, or the error's kind, message and position) of ``make(builder, x, A, c)``."""
    for shapes_only in (False, True):
        b = Builder("x", max_bytes=10_000, shapes_only=shapes_only)
        x, A, c = b.input("x", (3,)), b.input("A", (2, 3)), b.const(2.0, 0)
        big = b.input("big", (40, 40))
        try:
            out = make(b, x, A, c, big)
            yield [(n.op, n.args, n.params, n.shape, n.position, n.value) for n in b.nodes], out.id
        except JacError as err:
            yield type(err).__name__, err.message, err.position
        except Exception as err:  # noqa: BLE001 - NumPy's own, folding a constant: the same from both paths
            yield type(err).__name__, str(err)


@pytest.mark.parametrize("op_name,params", [("sin", {}), ("neg", {}), ("exp", {}), ("sum", {"axes": (0,), "keepdims": False}),
                                            ("softmax", {"axis": 0}), ("reshape", {"shape": (3, 1)}),
                                            ("reshape", {"shape": (2, 2)}), ("transpose", {"axes": (0,)})])
@pytest.mark.parametrize("arg", ["x", "A", "c", "big"])
def test_apply_of_one_tracer_is_the_general_path(op_name, params, arg):
    def fast(b, x, A, c, big):
        return b._apply(op_name, ({"x": x, "A": A, "c": c, "big": big}[arg],), 7, None, dict(params))

    def general(b, x, A, c, big):
        return _general_apply(b, op_name, ({"x": x, "A": A, "c": c, "big": big}[arg],), 7, dict(params))

    assert list(_built(fast)) == list(_built(general))


@pytest.mark.parametrize("op_name", ["add", "mul", "pow", "matmul", "maximum", "atan2"])
@pytest.mark.parametrize("left,right", list(itertools.product(["x", "A", "c", "big"], repeat=2)))
def test_apply_of_two_tracers_is_the_general_path(op_name, left, right):
    def pick(x, A, c, big, name):
        return {"x": x, "A": A, "c": c, "big": big}[name]

    def fast(b, x, A, c, big):
        return b._apply(op_name, (pick(x, A, c, big, left), pick(x, A, c, big, right)), 3, None, {})

    def general(b, x, A, c, big):
        return _general_apply(b, op_name, (pick(x, A, c, big, left), pick(x, A, c, big, right)), 3, {})

    assert list(_built(fast)) == list(_built(general))


@pytest.mark.parametrize("short,general", [("sum(x)", "sum(x, None)"), ("sum(x)", "sum(x, None, False)"),
                                           ("mean(A)", "mean(A, None)"), ("prod(x)", "prod(x, axis=None)"),
                                           ("softmax(x)", "softmax(x, -1)"), ("softmax(A)", "softmax(A, axis=-1)"),
                                           ("softmax(s)", "softmax(s, -1)"), ("max(A)", "max(A, (0, 1))"),
                                           ("logsumexp(s)", "logsumexp(s, None)")])
def test_one_argument_reductions_are_the_general_lowering(short, general):
    from jacobi_cli.lang.parser import parse

    def outcome(text):
        try:
            g = parse(text, {"x": (4,), "A": (2, 3), "s": ()})
        except JacError as err:
            return type(err).__name__, err.message, err.position
        # the written arguments add constant nodes (-1, None's folding) that no other node reads
        kept = [n for n in g.nodes if n.op != "const"]
        index = {n.id: k for k, n in enumerate(kept)}
        return [(n.op, tuple(index[a] for a in n.args), n.params, n.shape, n.position) for n in kept], \
            index[g.output]

    assert outcome(short) == outcome(general)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("in_shape,axes,keepdims", [((5,), (0,), False), ((2, 3), (0, 1), False), ((2, 3), (1,), True),
                                                    ((2, 3), (0,), False), ((70, 70), (0, 1), False),
                                                    ((4,), (0,), True)])
def test_expand_reduced_copies_the_values_broadcast_to_gives(dtype, in_shape, axes, keepdims):
    from jacobi_cli.ir.ops import expand_reduced
    from jacobi_cli.ir.shapes import reduce as reduce_shape

    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -1.5, 1e300], dtype)
    kept = reduce_shape(in_shape, axes, keepdims)
    for batch in (1, 3):
        g = np.resize(specials, (batch,) + kept)
        got = expand_reduced(g, in_shape, axes, keepdims)
        full = g if keepdims else g.reshape((batch,) + reduce_shape(in_shape, axes, True))
        want = np.broadcast_to(full, (batch,) + in_shape)
        assert got.shape == want.shape and got.dtype == want.dtype
        assert np.ascontiguousarray(got).tobytes() == np.ascontiguousarray(want).tobytes()


def _error_state():
    return np.geterr(), np.getbufsize(), np.geterrcall()


@pytest.mark.parametrize("outer", [{}, {"all": "ignore"}, {"divide": "raise", "over": "warn"}, {"bufsize": 16},
                                   {"call": print, "all": "call"}])
def test_a_pass_ignores_errors_as_errstate_does(outer):
    """autodiff.errors_ignored (the passes' cheap np.errstate(all="ignore")): inside it the error
    modes, buffer size and callback are errstate's, from NumPy's default state, from "ignore
    all", and from a caller's own state (which goes through errstate itself); left, the state
    is the caller's again."""
    from jacobi_cli.engine import autodiff

    bufsize = outer.pop("bufsize", None)
    with np.errstate(**outer):
        previous = np.setbufsize(bufsize) if bufsize else None
        before = _error_state()
        with np.errstate(all="ignore"):
            want = _error_state()
        entered = autodiff.errors_ignored()
        try:
            got = _error_state()
        finally:
            autodiff.errors_restored(entered)
        assert got == want and _error_state() == before
        if previous:
            np.setbufsize(previous)
    with pytest.raises(FloatingPointError):  # and a pass leaves it as it found it, errors or not
        with np.errstate(divide="raise"):
            with pytest.raises(JacError):
                autodiff.evaluate(Compiled("inv(A)", {"A": (2, 2)}).graph, {"A": np.zeros((2, 2))})
            np.array(1.0) / 0.0


def test_made_graph_is_the_dataclass_constructor():
    """graph.made_graph (Builder.graph's and with_wrt's Graph without the frozen dataclass's
    __init__): the same fields, in the same order, and nothing else the constructor does."""
    import dataclasses

    from jacobi_cli.ir.graph import Graph, made_graph

    g = Compiled("sin(x) * x**2 + sum(A @ x)", {"x": (3,), "A": (2, 3)}).graph
    fields = [getattr(g, f.name) for f in dataclasses.fields(Graph)]
    made, constructed = made_graph(*fields), Graph(*fields)
    assert type(made) is Graph and list(vars(made).items()) == list(vars(constructed).items())
    assert [f.name for f in dataclasses.fields(Graph)] == list(vars(made))
    assert not hasattr(Graph, "__post_init__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.output = 0
    wrt = g.with_wrt(("x",))
    assert type(wrt) is Graph and list(vars(wrt)) == list(vars(g))


# --- what with_wrt counts of a graph (Graph.facts), against the walks it spares --------------------------
#
# pass_bound, the forward-values check, the BLAS thread choice and elementwise_diagonal read graph.facts
# (counted by with_wrt) when a graph has them; each walks the nodes otherwise, as before. These tests run
# both on the same graphs: every op case, the fuzz grammar, planted specials in the dense check.

import dataclasses  # noqa: E402

from jacobi_cli.engine import blas, memory  # noqa: E402


def _facts_agree(graph, names):
    """Each reader of ``graph.facts`` against its walk of the same graph without them."""
    plain = dataclasses.replace(graph, facts=None)
    facts = graph.facts
    assert facts is not None and facts.wrt == frozenset(names)
    assert facts.elements == sum(int(np.prod(n.shape)) for n in graph.nodes)
    assert facts.itemsize == np.dtype(graph.dtype).itemsize
    for batch in (1, 3, 100):
        assert planner.pass_bound(graph, batch) == planner.pass_bound(plain, batch)
    exact = forward_bytes(graph)
    assert exact == forward_bytes(plain) <= facts.elements * facts.itemsize
    for budget in (exact - 1, exact, facts.elements * facts.itemsize, facts.elements * facts.itemsize - 1):
        if memory.forward_fits(graph, budget):  # the bound fits: so does the count
            assert exact <= budget
    assert not memory.forward_fits(plain, 2**62)  # no facts: counted
    work = blas.product_work(graph.nodes)
    assert blas.graph_work(plain) == work
    assert blas.graph_work(graph) in (work, 0) and (blas.graph_work(graph) == work or work < blas.SPLIT)
    for name in names:
        assert planner.elementwise_diagonal(graph, name) == planner.elementwise_diagonal(plain, name), name


def test_the_facts_of_every_ops_cases_are_what_the_walks_count():
    for graph, _, wrt in _op_case_graphs():
        for chosen in ([wrt[:1]] if wrt else []) + ([wrt] if len(wrt) > 1 else []):
            _facts_agree(graph.with_wrt(chosen), chosen)


@COLD
@given(e=typed_expressions(), few=st.booleans(), dtype=st.sampled_from([np.float64, np.float32]))
def test_the_facts_of_expressions_are_what_the_walks_count(e, few, dtype):
    note(e.text)
    try:
        graph = Compiled(e.text, INPUTS, dtype).graph
    except JacError:
        return
    names = [n for n in graph.inputs if n in ("v", "A")] if few else list(graph.inputs)
    for g in [graph] + [g for _, g in graph.output_graphs()]:
        _facts_agree(g.with_wrt(names), names)
        for name in names:  # one input: elementwise_diagonal reads its requires_grad flags
            _facts_agree(g.with_wrt([name]), [name])


def _same_nodes(a: tuple, b: tuple) -> bool:
    """Node by node, field by field: the same objects (parameters and constants, which may hold NaN or
    arrays, by identity: the walk keeps them), the same ids, ops, shapes and flags."""
    a, b = [n.fields() for n in a], [n.fields() for n in b]
    return len(a) == len(b) and all(x[:8] == y[:8] or (x[:3] == y[:3] and x[4:8] == y[4:8] and x[3] is y[3])
                                    for x, y in zip(a, b)) and all(x[8] is y[8] for x, y in zip(a, b))


def _flags_as_walked(graph):
    """A builder's graph against ``with_wrt(None)`` of the same graph without its facts (the walk
    that sets every flag): the same nodes, flags included, and the same facts."""
    walked = dataclasses.replace(graph, facts=None).with_wrt(None)
    assert graph.facts is not None and graph.facts.wrt == frozenset(graph.inputs)
    assert _same_nodes(graph.nodes, walked.nodes)
    assert graph.facts == walked.facts
    assert graph.with_wrt(None) is graph and graph.with_wrt(list(graph.inputs)) is graph


def test_a_builders_graph_has_every_inputs_flags_as_with_wrt_sets_them_for_every_op_case():
    for graph, _, _ in _op_case_graphs():
        _flags_as_walked(graph)


@COLD
@given(e=typed_expressions(), dtype=st.sampled_from([np.float64, np.float32]))
def test_a_builders_graph_has_every_inputs_flags_as_with_wrt_sets_them_for_expressions(e, dtype):
    note(e.text)
    try:
        graph = Compiled(e.text, INPUTS, dtype).graph
    except JacError:
        return
    _flags_as_walked(graph)
    for name in graph.inputs:  # a subset walks, and keeps the counts
        g = graph.with_wrt([name])
        assert _same_nodes(g.nodes, dataclasses.replace(graph, facts=None).with_wrt([name]).nodes)
        assert g.facts == (frozenset([name]), graph.facts.elements, graph.facts.itemsize)


def _built_for(text: str, shapes: dict, dtype, names: list):
    """A graph built for ``names`` against the walk of the graph built for every input: the same nodes,
    flags included, and facts; ``with_wrt`` of those names is the graph itself."""
    built = Compiled(text, shapes, dtype, wrt=names).graph
    walked = Compiled(text, shapes, dtype).graph.with_wrt(names)
    assert built.facts == walked.facts and built.facts.wrt == frozenset(names)
    assert _like_nodes(built.nodes, walked.nodes)
    assert built.with_wrt(names) is built and built.with_wrt(list(reversed(names))) is built
    assert _like_nodes(built.with_wrt(None).nodes, Compiled(text, shapes, dtype).graph.nodes)


def _like_nodes(a: tuple, b: tuple) -> bool:
    """:func:`_same_nodes` of two graphs built apart: parameters by their text, constants by their bytes."""
    def value(v):
        return None if v is None else (type(v).__name__, np.asarray(v).dtype.str, np.shape(v), np.asarray(v).tobytes())
    a, b = [n.fields() for n in a], [n.fields() for n in b]
    return len(a) == len(b) and all(x[:3] == y[:3] and x[4:8] == y[4:8] and repr(x[3]) == repr(y[3])
                                    and value(x[8]) == value(y[8]) for x, y in zip(a, b))


@COLD
@given(e=typed_expressions(), dtype=st.sampled_from([np.float64, np.float32]), data=st.data())
def test_a_graph_built_for_some_inputs_has_the_flags_with_wrt_sets_for_them(e, dtype, data):
    note(e.text)
    try:
        Compiled(e.text, INPUTS, dtype)
    except JacError:
        return
    names = data.draw(st.lists(st.sampled_from(sorted(INPUTS)), min_size=1, max_size=len(INPUTS), unique=True))
    _built_for(e.text, INPUTS, dtype, names)


@pytest.mark.parametrize("text", ["sign(x) * y + floor(y) + 2", "x @ A @ x", "where(x > 0, y, x) + sum(A, 0)",
                                  "a = exp(y); b = A @ x; sin(x) * 2", "torch.cat([x, y]) * 3", "x[0] * y.max() + A.T @ y",
                                  "softmax(A @ x, -1) @ y", "x.detach() * y + A.sum()", "1.0 + 2.0"])
def test_a_graph_built_for_some_inputs_by_the_parser_and_by_ast(text):
    shapes = {"x": (3,), "y": (3,), "A": (3, 3)}
    for names in (["x"], ["y"], ["A"], ["x", "A"], ["A", "y", "x"]):
        _built_for(text, shapes, np.float64, names)


def test_a_compiled_function_built_for_one_wrt_answers_every_other_as_one_built_for_it():
    """The API builds the graph for the first call's wrt (A bound, x differentiated); later calls with
    other wrt, or none, walk it, with the answers of a function built for them."""
    from jacobi_cli.tools import api

    rng = np.random.default_rng(3)
    env = {"x": rng.standard_normal(4), "A": rng.standard_normal((4, 4))}
    text = "sum(tanh(A @ tanh(A @ x))) * x[0]"
    shapes = {n: v.shape for n, v in env.items()}
    first = Compiled(text, shapes, np.float64, wrt=["x"])
    assert first.graph.facts.wrt == {"x"} and not first.graph.nodes[first.graph.inputs["A"]].requires_grad
    for wrt in (["x"], ["A"], None, ["A", "x"]):
        fresh = Compiled(text, shapes, np.float64, wrt=wrt)
        plain = Compiled(text, shapes, np.float64)
        got, want = first.jacobian(env, wrt), plain.jacobian(env, wrt)
        assert got.keys() == want.keys() and all(_bits(got[k]) == _bits(want[k]) for k in got)
        assert all(_bits(fresh.jacobian(env, wrt)[k]) == _bits(want[k]) for k in want)
        v = np.ones(())
        got, want = first.vjp(env, v, wrt), plain.vjp(env, v, wrt)
        assert all(_bits(got[k]) == _bits(want[k]) for k in want)
    assert _bits(first.value(env)) == _bits(Compiled(text, shapes).value(env))
    api._CACHE.clear()
    try:  # the API's first call builds for its wrt; a second call with every input answers as a fresh one
        assert api.jacobian(text, env, wrt=["x"])["x"].tobytes() == Compiled(text, shapes).jacobian(env, ["x"])["x"].tobytes()
        both = api.jacobian(text, env)
        assert all(both[k].tobytes() == Compiled(text, shapes).jacobian(env)[k].tobytes() for k in both)
    finally:
        api._CACHE.clear()


def _bits(a) -> bytes:
    a = np.asarray(a)
    return a.dtype.str.encode() + str(a.shape).encode() + a.tobytes()


def test_nondiff_ops_and_constants_stop_the_flags_as_they_are_built():
    graph = Compiled("sign(x) * y + floor(y) + 2", {"x": (3,), "y": (3,)}).graph
    _flags_as_walked(graph)
    flags = {n.op: n.requires_grad for n in graph.nodes}
    assert flags["input"] and not flags["sign"] and not flags["floor"] and not flags["const"] and flags["mul"]


def test_a_graph_with_a_symbolic_size_has_no_facts_and_a_graph_with_dead_nodes_counts_them_out():
    from jacobi_cli.lang.parser import parse

    g = parse("sin(x) * 2", {"x": ("n",)}).with_wrt(["x"])
    assert g.facts is None
    g = Compiled("a = exp(y); b = A @ x; sin(x) * 2", {"x": (4,), "y": (5,), "A": (3, 4)}).graph.with_wrt(["x"])
    _facts_agree(g, ["x"])
    # x, sin(x), sin(x) * 2 needed; x, y, A, exp(y), A @ x, sin(x), 2, sin(x) * 2 counted
    assert forward_bytes(g) == 3 * 4 * 8 and g.facts.elements == 4 + 5 + 12 + 5 + 3 + 4 + 1 + 4


def test_small_matmuls_stay_under_split_by_the_elements_alone():
    """graph_work's 0 for a small graph: the largest product of graphs just under the bound, and over it."""
    for k in (1, 10, 60, 100, 300):
        for expr in ("x @ x", "A @ x", "x @ A @ x", "A @ A", "sum(A @ A.T)"):
            g = Compiled(expr, {"x": (k,), "A": (k, k)}).graph.with_wrt(["x"] if "x" in expr else ["A"])
            _facts_agree(g, list(g.facts.wrt))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_dense_check_is_the_reductions_it_replaced(dtype):
    """planner._no_zero_no_nan against a.all() and a.sum() (the check before): the same answer wherever
    +inf and -inf do not meet (there the sum is NaN, and the new check reads the entries: no NaN)."""
    specials = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 5e-324, -1e-310, 1e300, 1.0, -2.5], dtype)
    rng = np.random.default_rng(5)
    for shape in [(1, 1), (3, 4), (10, 10), (2, 3, 2), (4, 0)]:
        for _ in range(200):
            a = rng.uniform(-1, 1, shape).astype(dtype)
            flat = a.reshape(-1)
            hit = rng.uniform(size=flat.size) < rng.choice([0.0, 0.05, 0.5])
            flat[hit] = rng.choice(specials, size=int(hit.sum()))
            for view in (a, a.T, np.broadcast_to(a[:1], a.shape) if a.shape[0] else a):
                with np.errstate(all="ignore"):
                    total = view.sum()
                before = bool(view.all() and total == total)
                got = planner._no_zero_no_nan(view)
                want = bool(view.all()) and not np.isnan(view).any()
                assert got == want
                if not (np.isposinf(view).any() and np.isneginf(view).any()):
                    assert got == before


@pytest.mark.parametrize("shape", [(), (1,), (0,), (5,), (2, 3), (3, 0), (1, 1, 1), (2, 2, 2)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_basis_is_np_eye_reshaped(shape, dtype):
    n = int(np.prod(shape))
    got, want = autodiff.basis(shape, dtype), np.eye(n, dtype=dtype).reshape((n,) + shape)
    assert (got.dtype, got.shape, got.flags.c_contiguous, got.flags.writeable) == (want.dtype, want.shape, True, True)
    assert got.tobytes() == want.tobytes() and (n == 0 or got.strides == want.strides)  # no element: no stride read


def test_a_miss_keeps_the_key_a_second_call_finds():
    """The API's miss reuses the key it looked up (a seed check_seed gives back as it is); a seed of
    another type is checked and its key made by _cache_key: the same entry either way."""
    x = np.linspace(-1, 1, 5)
    api.clear_cache()
    first = jacobi_cli.jacobian("sin(x) * x", {"x": x})["x"]
    assert len(api._CACHE) == 1
    again = jacobi_cli.jacobian("sin(x) * x", {"x": x}, seed=np.int64(0))["x"]
    assert len(api._CACHE) == 1 and first.tobytes() == again.tobytes()
    api.clear_cache()
    jacobi_cli.jacobian("sin(x) * x", {"x": x}, seed=np.int64(0))
    jacobi_cli.jacobian("sin(x) * x", {"x": x})
    assert len(api._CACHE) == 1
    with pytest.raises(JacError, match="seed= must be an integer"):
        jacobi_cli.jacobian("sin(x) * x", {"x": x}, seed=-1)
    with pytest.raises(JacError, match="seed= must be an integer"):
        jacobi_cli.jacobian("sin(x) * x", {"x": x}, seed=True)


def _same(got, want) -> bool:
    """The same type, dtype, shape and bytes (NaN's sign bit and -0 included)."""
    return type(got) is type(want) and np.shape(got) == np.shape(want) and \
        np.asarray(got).dtype == np.asarray(want).dtype and np.asarray(got).tobytes() == np.asarray(want).tobytes()


_SPECIALS = [0.0, -0.0, 1.5, -2.0, np.inf, -np.inf, np.nan, -np.nan, 5e-324]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_prims_short_paths_give_what_the_general_path_gives(dtype):
    """``P.op(array)``, ``P.op(array, array)``, ``P.op(array, float)`` and ``P.op(float, array)`` call the
    impl at once (the rules' common calls): the answer of the general path (``impl`` then ``_weak``),
    bit for bit, for every op of one or two arguments without parameters, specials planted, 0-d arrays
    and float32 arrays (a Python float is weak) included."""
    vector = np.array(_SPECIALS, dtype=dtype)
    other = np.array(_SPECIALS[::-1], dtype=dtype)
    scalar = np.array(-0.0, dtype=dtype)
    cases = [(vector,), (scalar,), (vector, other), (scalar, vector), (vector, scalar), (vector, 2.0), (0.5, vector),
             (scalar, -0.0), (np.nan, scalar), (vector, np.float64(2.0)), (2, vector)]
    checked = 0
    for name, op in ops.OPS.items():
        prim = getattr(ops.P, name, None)
        if prim is None:
            continue
        for args in cases:
            with np.errstate(all="ignore"):
                try:
                    want = ops._weak(op.impl(*args), args)
                except Exception as err:  # noqa: BLE001 - an op of other arity or that refuses: the same
                    with pytest.raises(type(err)):
                        prim(*args)
                    continue
                got = prim(*args)
            assert _same(got, want), (name, args)
            checked += 1
    assert checked > 200


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), [2, 3], (1, 3), (3, 1)])
def test_unbroadcast_and_expand_reduced_short_paths_are_the_general_ones(shape):
    """``unbroadcast`` of an array already of ``(B, *shape)`` is that array (a tuple shape or a list);
    ``expand_reduced`` of an array is P.reshape's array broadcast: as before, values and dtype."""
    g = np.resize(np.array(_SPECIALS, dtype=np.float32), (2,) + tuple(shape))
    assert ops.unbroadcast(g, shape) is g
    assert ops.unbroadcast(g, tuple(shape)) is g
    full = (2, 3)
    for axes, keepdims in [((0,), False), ((1,), False), ((0, 1), False), ((1,), True), ((), False)]:
        kept = tuple(1 if a in axes else d for a, d in enumerate(full))
        cot = np.resize(np.array([np.nan, -0.0, np.inf, 1.0, -np.inf, 2.0]), (2,) + kept)
        if not keepdims:
            cot = cot.reshape((2,) + tuple(d for a, d in enumerate(full) if a not in axes))
        got = ops.expand_reduced(cot, full, axes, keepdims)
        want = np.broadcast_to(cot.reshape((2,) + kept), (2,) + full)
        assert got.shape == want.shape and got.dtype == want.dtype and got.tobytes() == want.tobytes()


def test_the_dense_check_and_the_unaliased_copy_call_numpys_c_functions_as_numpy_does():
    """``_no_zero_no_nan`` calls NumPy's C ``count_nonzero`` and ``vdot`` for an ndarray and NumPy's
    public functions for anything else (a subclass): the same answers; ``_unaliased_arrays``
    copies exactly the arrays that share memory with an input."""
    from jacobi_cli.engine.compiled import _unaliased_arrays

    def _unaliased_array(array, env):
        return _unaliased_arrays({"x": array}, env)["x"]

    for values in ([1.0, -2.0, np.inf], [1.0, -0.0, 3.0], [np.nan, 1.0, 2.0], [np.inf, -np.inf, 1.0], [5e-324, 1.0, 1.0]):
        want = bool(np.all(values)) and not np.isnan(values).any()
        for a in (np.array(values), np.array(values).view(np.matrix), np.array([values, values]).T):
            assert planner._no_zero_no_nan(a) == want, (values, type(a))
    x = np.arange(6.0)
    env = {"x": x, "y": np.ones(3)}
    view = x.reshape(2, 3)
    assert _unaliased_array(view, env) is not view and _unaliased_array(view, env).tobytes() == view.tobytes()
    assert not np.may_share_memory(_unaliased_array(view, env), x)
    other = np.zeros((2, 3))
    assert _unaliased_array(other, env) is other


@pytest.mark.parametrize("text", ["x", "x * 1", "-x", "sin(x) * x**2 + exp(-x)", "where(x > 0, x, 0)"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("how", [{}, {"structured": True}, {"layout": "numerator"}])
def test_a_first_jacobian_of_diagonals_only_is_new_memory(text, dtype, how):
    """A first call whose Jacobians are all diagonal returns without the alias test (its arrays are
    made by ``_diagonal_array`` / ``_diagonal_jacobian``): never a view of the caller's input, so
    writing the input afterwards changes nothing; the bits are the planned (second) call's."""
    x = np.array([0.5, -1.25, 2.0, 0.0, -0.0, 3.5], dtype=dtype)
    api.clear_cache()
    cold = jacobi_cli.jacobian(text, {"x": x}, dtype=dtype, **how)["x"]
    cold_array = np.asarray(cold)
    assert not np.may_share_memory(cold_array, x), text
    kept = cold_array.copy()
    warm = np.asarray(jacobi_cli.jacobian(text, {"x": x}, dtype=dtype, **how)["x"])
    assert warm.tobytes() == kept.tobytes() and warm.dtype == kept.dtype, text
    x += 7.0
    assert np.asarray(cold).tobytes() == kept.tobytes(), text
