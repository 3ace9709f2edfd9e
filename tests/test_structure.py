"""Structured Jacobians, plans, chunking and the memory budget (issue 3).

Every structured result is checked against a dense Jacobian computed the old way (one
pass with a dense identity seed), in both modes and both layouts; the plan's dry-run
prediction against what the real pass finds.
"""

import tracemalloc

import numpy as np
import pytest

from jacobi_cli.engine.jacobian import Jacobian
from jacobi_cli.tools import api

from jacobi_cli.engine import autodiff, memory, planner
from jacobi_cli.errors import JacLimitError, JacUsageError
from jacobi_cli.engine.jacobian import SparseJacobian

RNG = np.random.default_rng(7)
N = 12
ENV = {"x": RNG.normal(size=N), "y": RNG.normal(size=N), "A": RNG.normal(size=(4, N)), "S": RNG.normal(size=(N, N)),
       "M": RNG.normal(size=(3, 5)), "p": np.abs(RNG.normal(size=N)) + 0.5, "s": np.float64(0.7)}

# expression, inputs to differentiate, the structure of each block
CASES = [
    ("sin(x) * x**2 + exp(-x)", ["x"], {"x": "diagonal"}),
    ("x * y", ["x", "y"], {"x": "diagonal", "y": "diagonal"}),
    ("tanh(sigmoid(x) / p) - log(p) * relu(x)", ["x", "p"], {"x": "diagonal", "p": "diagonal"}),
    ("x[::-1]", ["x"], {"x": "sparse"}),
    ("x[1:] - x[:-1]", ["x"], {"x": "sparse"}),
    ("x[[0, 2, 2]]", ["x"], {"x": "sparse"}),
    ("x.reshape(3, 4).T", ["x"], {"x": "sparse"}),
    ("M.T * 2", ["M"], {"M": "sparse"}),
    ("x + s", ["x", "s"], {"x": "diagonal", "s": "dense"}),
    ("x * 0 + y", ["x"], {"x": "diagonal"}),
    ("y * 2", ["x", "y"], {"x": "zero", "y": "diagonal"}),
    ("A @ x", ["x"], {"x": "dense"}),
    ("tanh(A @ x)", ["x", "A"], {"x": "dense", "A": "sparse"}),
    ("S @ x + x", ["x"], {"x": "dense"}),
    ("x @ S @ x", ["x", "S"], {"x": "dense", "S": "dense"}),
    ("sum(x * x)", ["x"], {"x": "dense"}),
    ("softmax(x)", ["x"], {"x": "dense"}),
    ("softmax(M, axis=0)", ["M"], {"M": "dense"}),
    ("sum(tanh(S @ tanh(S @ x)))", ["x"], {"x": "dense"}),
    ("mean(M, axis=1) * M[:, 0]", ["M"], {"M": "sparse"}),  # 15 of 45 nonzero: sparse, whatever its size
    ("M[:, 1:] * M[:, :1]", ["M"], {"M": "sparse"}),
    ("maximum(x, y) + minimum(x, 0.1)", ["x", "y"], {"x": "diagonal", "y": "diagonal"}),
    ("clip(x, -0.5, 0.5)", ["x"], {"x": "diagonal"}),
    ("outer(x, y)", ["x"], {"x": "sparse"}),
    ("x[:, None] * y", ["x", "y"], {"x": "sparse", "y": "sparse"}),
    ("(M @ M.T) * 1", ["M"], {"M": "dense"}),
    ("trace(S) * x", ["x", "S"], {"x": "diagonal", "S": "dense"}),  # the zeros of eye(n) are values, not structure
]
# --- PART elementwise: the element-wise vocabulary keeps diagonals diagonal; masks and detach carry nothing
CASES += [
    ("erf(x) * lgamma(p) + F.gelu(x) + torch.atan2(x, y) + hypot(x, y) + sinc(x)", ["x", "y", "p"],
     {"x": "diagonal", "y": "diagonal", "p": "diagonal"}),
    ("torch.where(x > 0, x, y ** 2) + fmod(x, p) + x % p + xlogy(p, p)", ["x", "y", "p"],
     {"x": "diagonal", "y": "diagonal", "p": "diagonal"}),
    ("F.elu(x) + F.leaky_relu(x) + F.hardtanh(x) + logaddexp(x, y) + fmax(x, y)", ["x", "y"],
     {"x": "diagonal", "y": "diagonal"}),
    ("x.detach() * y + floor(x) + (x > 0)", ["x", "y"], {"x": "zero", "y": "diagonal"}),
    ("nan_to_num(log(x)) + x.masked_fill(x < 0, 1.0)", ["x"], {"x": "diagonal"}),
    ("x[x > 0] * 2", ["x"], {"x": "sparse"}),
]
# PART reductions (issue 13): selections keep a pattern that does not depend on the values
# (every element of the line the index could pick), so plans and kernels kept per shapes stay right.
CASES += [
    ("torch.max(A, 0).values", ["A"], {"A": "sparse"}),
    ("torch.sort(M, dim=0).values * 2", ["M"], {"M": "sparse"}),
    ("torch.topk(A, 2, dim=0).values", ["A"], {"A": "sparse"}),
    ("torch.median(A, 0).values + A[0]", ["A"], {"A": "sparse"}),
    ("torch.sort(x).values", ["x"], {"x": "dense"}),
    ("sum(torch.sort(A, 0)[0], 0)", ["A"], {"A": "sparse"}),
]
# --- PART shapes-linalg: assembly and selections stay sparse
CASES += [
    ("torch.cat([x, x * y])", ["x", "y"], {"x": "sparse", "y": "sparse"}),
    ("torch.stack([x, y], 1)", ["x"], {"x": "sparse"}),
    ("torch.flip(x, (0,))", ["x"], {"x": "sparse"}),
    ("torch.roll(x, 3)", ["x"], {"x": "sparse"}),
    ("torch.tril(S)", ["S"], {"S": "diagonal"}),
    ("torch.diag(x)", ["x"], {"x": "sparse"}),
    ("torch.diagonal(S, 1)", ["S"], {"S": "sparse"}),
    ("torch.gather(M, 1, [[0, 4], [1, 1], [2, 3]])", ["M"], {"M": "sparse"}),
    ("F.pad(x, (1, 2), value=1)", ["x"], {"x": "sparse"}),
    ("torch.tile(M, (2, 1))", ["M"], {"M": "sparse"}),
    ("x.repeat_interleave(2)", ["x"], {"x": "sparse"}),
    ("torch.split(x, 5)[1] * 2", ["x"], {"x": "sparse"}),
]


@pytest.fixture(params=["sparse passes", "small dense passes"], autouse=True)
def passes(request, monkeypatch):
    """Every test runs with sparse batches, and with the dense passes small Jacobians take."""
    if request.param == "sparse passes":
        monkeypatch.setattr(planner, "SMALL", 0)
        monkeypatch.setattr(planner, "FEW", 0)
    return request.param


def _problem(expr, wrt):
    return api.prepare(expr, {k: v for k, v in ENV.items() if k in expr or k == "x"}, wrt)


def _dense_reference(problem, name):
    """dy/d name by a forward pass with a dense identity seed: no structure involved."""
    g = problem.graph
    shape = tuple(g.nodes[g.inputs[name]].shape)
    n = int(np.prod(shape, dtype=int))
    seed = np.eye(n).reshape((n,) + shape)
    t = np.asarray(autodiff.jvp(g, problem.values, {name: seed})[g.output])
    return np.moveaxis(t.reshape((n,) + tuple(g.output_shape)), 0, -1).reshape(tuple(g.output_shape) + shape)


@pytest.mark.parametrize("expr,wrt,structures", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("mode", ["forward", "reverse", "auto"])
def test_structured_equals_dense_in_both_layouts(expr, wrt, structures, mode):
    problem = _problem(expr, wrt)
    found = api.jacobians(problem, api.plan_of(problem, mode))
    for name in wrt:
        ref = _dense_reference(problem, name)
        j = found[name]
        np.testing.assert_allclose(j.to_array(), ref, rtol=1e-12, atol=1e-12, err_msg=f"{expr} d/d{name}")
        dense = Jacobian(name, j.y_shape, j.x_shape, ref)
        np.testing.assert_allclose(j.to_array("numerator"), dense.to_array("numerator"), rtol=1e-12, atol=1e-12)
        assert j.to_array("numerator").shape == j.math_shape


@pytest.mark.parametrize("expr,wrt,structures", CASES, ids=[c[0] for c in CASES])
def test_structure_is_found_and_predicted(expr, wrt, structures):
    problem = _problem(expr, wrt)
    for mode in ("auto", "forward", "reverse"):
        plan = api.plan_of(problem, mode)
        found = api.jacobians(problem, plan)
        for name, structure in structures.items():
            if mode == "auto":
                assert found[name].structure == structure, name
            assert plan.inputs[name].structure == found[name].structure, (mode, name)  # the dry run saw it coming
            assert plan.inputs[name].nnz == found[name].nnz, (mode, name)


def test_diagonal_of_an_elementwise_chain_is_O_n():
    n = 200_000  # dense this would be 320 GB
    x = np.linspace(-1, 1, n)
    j = api.jacobian("sin(x) * x**2 + exp(-x)", {"x": x}, structured=True)["x"]
    assert j.structure == "diagonal" and j.nnz == n
    np.testing.assert_allclose(j.diagonal(), np.cos(x) * x**2 + 2 * x * np.sin(x) - np.exp(-x), rtol=1e-12, atol=1e-15)


def test_a_constant_matrix_times_x_gives_the_matrix_itself():
    A = RNG.normal(size=(5, 4))
    for mode in ("forward", "reverse"):
        j = api.jacobian("A @ x", {"A": A, "x": np.ones(4)}, wrt=["x"], mode=mode, structured=True)["x"]
        np.testing.assert_array_equal(j.to_array(), A)


def test_tanh_of_a_matrix_product_is_row_scaled():
    A, x = RNG.normal(size=(7, 7)), RNG.normal(size=7)
    j = api.jacobian("tanh(A @ x)", {"A": A, "x": x}, wrt=["x"])["x"]
    np.testing.assert_allclose(j, (1 - np.tanh(A @ x) ** 2)[:, None] * A, rtol=1e-12)


def test_coo_round_trips_in_both_layouts():
    problem = _problem("M.T[:, 1:] * 3", ["M"])
    j = api.jacobians(problem)["M"]
    assert isinstance(j, SparseJacobian) and j.structure == "sparse"
    for layout in ("array", "numerator"):
        indices, values = j.coo(layout)
        rebuilt = np.zeros(j.layout_shape(layout))
        rebuilt[tuple(indices)] = values
        np.testing.assert_array_equal(rebuilt, j.to_array(layout))


def test_auto_mode_picks_the_cheaper_side():
    def mode(expr, **env):
        return api.plan_of(api.prepare(expr, env, ["x"])).inputs["x"].mode

    assert mode("sum(tanh(A @ tanh(A @ x)))", A=np.eye(30), x=np.ones(30)) == "reverse"  # scalar output
    assert mode("outer(x, w)", x=np.ones(3), w=np.ones(40)) == "forward"  # 120 outputs, 3 inputs
    assert mode("x[0] * x", x=np.ones(30)) == "forward"


def test_explain_states_mode_passes_structure_and_memory():
    plan = api.plan("sin(x) * x", {"x": np.ones(50)})
    text = "\n".join(plan.explain())
    assert "x (50,):" in text and "reverse mode, 1 pass along ones" in text
    assert "structure diagonal" in text and "predicted peak memory" in text and "budget" in text
    assert plan.to_dict()["inputs"]["x"]["structure"] == "diagonal" and plan.to_dict()["inputs"]["x"]["along_ones"]
    plan = api.plan("cumsum(x)", {"x": np.ones(50)})  # not element-wise: a pass over the basis
    text = "\n".join(plan.explain())
    assert "x (50,):" in text and "mode, 1 pass of 50 basis vectors" in text
    assert not plan.to_dict()["inputs"]["x"]["along_ones"]


# --- memory budget ----------------------------------------------------------------------------

def test_chunked_equals_unchunked_in_both_modes():
    env = {"A": RNG.normal(size=(40, 40)), "x": RNG.normal(size=40)}
    # two layers of tanh, not one: since session 39 a chunked plan counts the Jacobian it fills beside each chunk,
    # and tanh(A @ x)'s reverse pass holds little more than that Jacobian, so no budget chunks it usefully
    for expr in ("tanh(A @ tanh(A @ x))", "softmax(A @ x) * x", "x[::-1] * sum(x)"):
        problem = api.prepare(expr, env, ["x"])
        for mode in ("forward", "reverse"):
            whole = api.jacobians(problem, api.plan_of(problem, mode))["x"].to_array()
            plan = api.plan_of(problem, mode, budget=_tight(problem, mode))
            assert plan.inputs["x"].passes > 1 and plan.notes, (expr, mode)
            assert plan.peak_bytes <= plan.budget
            chunked = api.jacobians(problem, plan)["x"].to_array()
            np.testing.assert_allclose(chunked, whole, rtol=1e-13, atol=1e-14, err_msg=f"{expr} {mode}")


def _tight(problem, mode):
    """A budget between the results and the unchunked plan's peak (halfway since session 57, whose plan counts each
    pass's Python objects: a third of the way fitted no pass of x[::-1] * sum(x) in reverse mode)."""
    plan = api.plan_of(problem, mode)
    floor = plan.values_bytes + plan.result_bytes
    return floor + (plan.peak_bytes - floor) // 2


def test_a_jacobian_that_cannot_fit_is_refused_before_allocation():
    x = np.ones(1_000_000)
    tracemalloc.start()
    try:
        with pytest.raises(JacLimitError) as err:
            api.jacobian("sum(x) * x", {"x": x}, max_memory="1G")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "8,000,000,000,000 bytes" in err.value.message and "1,000,000 × 1,000,000" in err.value.message
    assert peak < 200 * 2**20  # the inputs, the pattern of one pass: nothing of the 8 TB


def test_densifying_a_structured_jacobian_respects_the_budget():
    with pytest.raises(JacLimitError, match="as a dense array"):
        api.jacobian("sin(x)", {"x": np.ones(100_000)}, max_memory="100M")
    j = api.jacobian("sin(x)", {"x": np.ones(100_000)}, max_memory="100M", structured=True)["x"]
    assert j.structure == "diagonal"


def test_memory_sizes():
    assert memory.parse_size("2G") == 2 * 2**30 and memory.parse_size("512MiB") == 512 * 2**20
    assert memory.parse_size("1.5k") == 1536 and memory.parse_size("100") == 100
    assert memory.budget(12345) == 12345 and 0 < memory.budget("50%") <= (memory.available_bytes() or 2**62)
    assert memory.default_budget() > 0
    for bad in ("lots", "-1G", "0", "150%"):
        with pytest.raises(JacUsageError):
            memory.budget(bad)


def test_mode_is_checked():
    with pytest.raises(JacUsageError, match="mode= must be auto, forward or reverse"):
        api.jacobian("x", {"x": 1.0}, mode="sideways")


def test_dry_run_predicts_the_peak_of_a_dense_pass():
    """The ledger's prediction for one reverse pass of tanh(A @ x) is the Jacobian plus small change."""
    problem = api.prepare("tanh(A @ x)", {"A": RNG.normal(size=(300, 300)), "x": np.ones(300)}, ["x"])
    probe = planner.probe_reverse(problem.graph, problem.values, ["x"])
    assert 300 * 300 * 8 <= probe.peak <= 1.1 * 300 * 300 * 8


def test_inputs_are_not_copied_and_results_do_not_alias_them():
    A, x = RNG.normal(size=(5, 4)), np.ones(4)
    j = api.jacobian("A @ x", {"A": A, "x": x}, wrt=["x"])["x"]
    np.testing.assert_array_equal(j, A)
    A[0, 0] = 99.0
    assert j[0, 0] != 99.0  # J was A itself inside; the caller gets its own copy
