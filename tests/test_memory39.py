"""Session 39 (h39-memory): the budget against measured peaks, op by op.

Two gaps between a plan's predicted peak and what its run allocates (``benchmarks/memory39_probe.py``):
- a chunked plan's dry run of one chunk ended before its part joined the Jacobian, so the Jacobian that the
  first chunk allocates whole (``JacobianBuilder._add_dense``) was not counted beside the passes after it
  (``irfft(rfft(x) * 1j)``, ``fft2``, ``einsum`` of two matrices: 12-40 % over the budget);
- an op's NumPy impl may copy beyond its result (einsum's optimized path copies its operands, conv1d's
  strided windows at full size: 3x the budget; matrix_exp's Taylor series): ``Op.scratch`` says how much,
  and the dry run counts it.
Peaks are read with tracemalloc (NumPy's arrays are traced), inputs drawn under the trace: values included.
"""

from __future__ import annotations

import numpy as np
import pytest

from tracing import traced_peak as _traced_peak
from jacobi_cli.engine import planner
from jacobi_cli.errors import JacLimitError
from jacobi_cli.ir import ops, structured
from jacobi_cli.ir.ops import OPS
from jacobi_cli.tools import api

MB = 2**20
SLACK = 1.05  # Python's own objects beside the arrays, and the plan's rounding

# (expression, input shapes, budget): each chunked at that budget (checked below), each over it before session 39
CASES = [
    ("np.fft.irfft(np.fft.rfft(x) * 1j)", {"x": (1200,)}, 16 * MB),
    ("np.fft.fft2(X).real", {"X": (30, 30)}, 10 * MB),
    ("np.einsum('ij,jk->ik', A, B)", {"A": (30, 30), "B": (30, 30)}, 16 * MB),
    ("F.conv1d(x, w)", {"x": (1, 2, 400), "w": (2, 2, 5)}, 8 * MB),
    ("scipy.linalg.expm(A / 20)", {"A": (24, 24)}, 4 * MB),
]


def _draw(shapes: dict) -> dict:
    rng = np.random.default_rng(0)
    return {name: rng.standard_normal(shape) for name, shape in shapes.items()}




@pytest.mark.parametrize("expr,shapes,budget", CASES, ids=[c[0] for c in CASES])
def test_a_chunked_jacobian_keeps_its_budget(expr, shapes, budget):
    p = api.prepare(expr, _draw(shapes))
    plan = planner.check(planner.make_plan(p.graph, p.values, p.wrt, "auto", budget))
    assert any(i.passes > 1 for i in plan.inputs.values())  # the case is chunked: what it tests
    found = {}
    peak = _traced_peak(lambda: found.update(api.jacobian(expr, _draw(shapes), max_memory=budget)))
    assert peak <= budget * SLACK, f"{peak / MB:.2f} MiB traced against a budget of {budget / MB:.2f} MiB"
    # and the same answer as without a budget (the chunks change how, not what)
    whole = api.jacobian(expr, _draw(shapes))
    for name in whole:
        np.testing.assert_allclose(found[name], whole[name], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("expr,shapes,budget", CASES, ids=[c[0] for c in CASES])
def test_the_predicted_peak_covers_the_traced_one(expr, shapes, budget):
    p = api.prepare(expr, _draw(shapes))
    plan = planner.check(planner.make_plan(p.graph, p.values, p.wrt, "auto", budget))
    peak = _traced_peak(lambda: planner.run(plan, p.graph, p.values))
    assert peak <= plan.pass_peak * SLACK


def test_a_chunk_counts_the_jacobian_earlier_chunks_filled():
    p = api.prepare("np.fft.irfft(np.fft.rfft(x) * 1j)", _draw({"x": (600,)}))
    graph = p.graph.with_wrt(["x"])
    probe = planner.probe_reverse(graph, p.values, ["x"], 100)
    held = 600 * 600 * 8
    assert probe.pass_peak <= probe.peak  # the pass's own peak comes before its part joins the Jacobian
    assert planner.chunked_peak(probe, held) == max(probe.peak, probe.pass_peak + held)
    assert planner.chunked_peak(probe, held) > probe.peak  # a dense Jacobian beside a later chunk's pass
    assert planner.chunked_peak(probe, 0) == probe.peak


def test_one_vector_per_pass_over_the_budget_is_refused_before_it_runs():
    """The least a chunked plan needs (one basis vector per pass beside the Jacobian it fills): one byte
    less is refused up front with the memory message; a little more answers within the budget."""
    expr, shapes = "np.fft.irfft(np.fft.rfft(x) * 1j)", {"x": (1200,)}
    p = api.prepare(expr, _draw(shapes))
    graph = p.graph.with_wrt(["x"])
    plan = planner.make_plan(p.graph, p.values, p.wrt, "reverse", 2**40)
    least = plan.values_bytes + planner.chunked_peak(planner.probe_reverse(graph, p.values, ["x"], 1),
                                                     plan.inputs["x"].result_bytes)
    refused = planner.make_plan(p.graph, p.values, p.wrt, "reverse", least - 1)
    assert refused.refusal and "even one basis vector per pass" in refused.refusal
    with pytest.raises(JacLimitError, match="memory budget"):
        api.jacobian(expr, _draw(shapes), mode="reverse", max_memory=least - 1)
    budget = least + 256 * 1024
    peak = _traced_peak(lambda: api.jacobian(expr, _draw(shapes), mode="reverse", max_memory=budget))
    assert peak <= budget * SLACK


def test_the_frechet_blocks_of_matrix_exp_are_not_made_at_the_batch_size():
    """exp's derivative puts A twice in a (2n, 2n) block matrix: at A's size, the batch's E beside them."""
    p = api.prepare("scipy.linalg.expm(A / 20)", _draw({"A": (24, 24)}))
    peak = _traced_peak(lambda: planner.probe_forward(p.graph, p.values, "A"))
    assert peak < 576 * 48 * 48 * 8  # one array of the batch's (2n, 2n) blocks: the dry run held three


# (op, arguments as a batched pass gives them, params): the impl's traced peak stays within its result and
# the scratch its block declares
def _windows():
    t = np.random.default_rng(0).standard_normal((64, 1, 4, 300))
    return np.lib.stride_tricks.sliding_window_view(t, 5, axis=-1)[:, None]


SCRATCH = [
    ("einsum", lambda: (_windows(), np.ones((1, 4, 4, 5))), {"spec": "zngcok,gfck->zngof"}),
    ("einsum", lambda: (np.ones((100, 40, 40)), np.ones((40, 40))), {"spec": "zik,ij->zjk"}),
    ("matrix_exp", lambda: (np.random.default_rng(0).standard_normal((30, 40, 40)) / 40,), {}),
    # det's second derivative (session 40): a batch of tangents beside one matrix, and a stack of matrices
    ("cofactor_dir", lambda: (np.random.default_rng(0).standard_normal((40, 40)),
                              np.random.default_rng(1).standard_normal((200, 40, 40))), {}),
    ("cofactor_dir", lambda: (np.random.default_rng(0).standard_normal((50, 30, 30)),
                              np.random.default_rng(1).standard_normal((50, 30, 30))), {}),
] + [("fftmap", lambda shape=shape: (np.random.default_rng(0).standard_normal(shape),),
      dict(kind=kind, axis=1, n=1200, m=m, norm=None, part=part, imag=imag, adjoint=adjoint))
     for shape, kind, m, part, imag, adjoint in [
         ((200, 1200), "rfft", 1200, "re", False, False), ((200, 601), "irfft", 601, "re", True, False),
         ((200, 1200), "irfft", 601, "re", True, True), ((200, 601), "rfft", 1200, "im", False, True),
         ((2000, 1200), "irfft", 601, "re", True, True), ((20, 1200), "fft", 1200, "im", True, False),
         ((20, 1200), "fft", 1200, "im", True, True)]]


@pytest.mark.parametrize("name,args,params", SCRATCH, ids=[s[0] + str(i) for i, s in enumerate(SCRATCH)])
def test_an_impl_stays_within_its_declared_scratch(name, args, params):
    op = OPS[name]
    arrays = args()
    box = []
    peak = _traced_peak(lambda: box.append(op.impl(*arrays, **params)))
    out = box[0]
    if op.scratch_of is not None:  # read off the shapes and params (einsum's subscripts, session 57)
        declared = out.nbytes + op.scratch_of([a.shape for a in arrays], out.nbytes, out.itemsize, **params)
    else:
        declared = out.nbytes + op.scratch(out.itemsize * sum(a.size for a in arrays), out.nbytes)
    assert peak <= declared * SLACK


def test_the_dry_run_charges_the_declared_scratch():
    a = structured.ShapeOnly((10, 6, 6), np.float64)
    with structured.dry_run() as ledger:
        base = ledger.live
        structured.apply(OPS["matrix_exp"], (a,), {})
        assert ledger.peak - base == 8 * 360 * (1 + 3)  # the result, and three arrays of the argument's size
    assert OPS["add"].scratch is None


def test_matrix_exp_in_place_gives_the_same_bits_as_before():
    a = np.random.default_rng(3).standard_normal((5, 7, 7)) / 5
    norm = float(np.max(np.sum(np.abs(a), axis=-2)))
    s = max(0, int(np.ceil(np.log2(norm))) + 1)
    assert s >= 1
    x = np.ldexp(a, -s)
    term = np.broadcast_to(np.eye(7), a.shape).copy()
    out = term.copy()
    for k in range(1, 25):  # the series as session 38 wrote it
        term = term @ x / k
        out = out + term
    for _ in range(s):
        out = out @ out
    assert np.array_equal(ops._expm(a), out)
