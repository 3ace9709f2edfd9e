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
#  vjp pass peak, vjp values bytes): found by the code before the cold path was made cheaper
N10 = [
    ("sin(x) * x**2 + exp(-x)", "reverse", "diagonal", 10, 90, 1528, 90, 1528, 480, 560),
    ("x @ A @ x", "reverse", "dense", 10, 83, 1784, 250, 2248, 328, 968),
    ("tanh(A @ x)", "reverse", "dense", 100, 130, 2320, 220, 2800, 240, 1040),
    ("sum(x * x)", "reverse", "dense", 10, 42, 824, 50, 808, 248, 168),
    ("softmax(x)", "reverse", "dense", 100, 110, 1120, 110, 1120, 160, 160),
    ("sum(tanh(A @ tanh(A @ x)))", "reverse", "dense", 10, 92, 1864, 1330, 2968, 248, 1208),
]
N100 = [
    ("sin(x) * x**2 + exp(-x)", "reverse", "diagonal", 100, 900, 15208, 900, 15208, 4800, 5600),
    ("tanh(A @ x)", "reverse", "dense", 10000, 10300, 167200, 20200, 244000, 2400, 82400),
    ("softmax(x)", "reverse", "dense", 10000, 10100, 83200, 10100, 83200, 1600, 1600),
    ("x[1:3] * 2", "reverse", "sparse", 2, 104, 2520, 104, 2520, 832, 832),
    ("cumsum(x) @ A", "reverse", "dense", 10000, 20200, 244800, 1010200, 246400, 2400, 83200),
    ("sum(tanh(A @ tanh(A @ x)))", "reverse", "dense", 100, 902, 90424, 1030300, 245608, 2408, 84008),
    ("sort(x)[:2]", "reverse", "dense", 200, 302, 7256, 10300, 164024, 1616, 2416),
    ("A.T @ relu(x)", "forward", "dense", 10000, 10300, 247200, 10300, 247200, 3200, 162400),
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
