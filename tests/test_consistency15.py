"""The same object along jac's routes (cons15): eval against vjp rows, jvp columns, derivative --order 1,
check's automatic side, --mode, --layout numerator, the text report, --out files, the Python API's first,
compiled and kernel calls, --batch, several outputs, --wrt subsets, graph --backward; hessian against
derivative --order 2. The routes are ``benchmarks/consistency15_sweep.py``'s (the big sweep runs there);
here a few expressions at random and special points, and the defects the sweep found."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))

import consistency15_sweep as sweep  # noqa: E402
from jacobi_cli.tools import api  # noqa: E402

INF, NAN = np.inf, np.nan
RNG = np.random.default_rng(15)

SAMPLE = [  # (expression, inputs): shapes that meet every kind of the contract's table
    ("torch.tanh(W @ x + b)", {"W": RNG.uniform(-1, 1, (3, 4)), "x": RNG.uniform(-1, 1, 4),
                               "b": RNG.uniform(-1, 1, 3)}),
    ("a[:, None].expand(-1, 4) * A", {"a": RNG.uniform(-1, 1, 3), "A": RNG.uniform(-1, 1, (3, 4))}),
    ("torch.std(A, 1)", {"A": RNG.uniform(-1, 1, (2, 3))}),
    ("F.softmax(x, dim=0) * s", {"x": RNG.uniform(-1, 1, 4), "s": np.array(0.7)}),
    ("(x * y).sum()", {"x": RNG.uniform(-1, 1, 3), "y": RNG.uniform(-1, 1, 3)}),
]


def _bad(case) -> list:
    return [r for r in case.results if r[1] in ("differ", "inexact", "refusal", "crash")]


@pytest.mark.parametrize("point", ["random", "zeros", "inf", "nan", "int"])
@pytest.mark.parametrize("expr,inputs", SAMPLE, ids=[e for e, _ in SAMPLE])
def test_every_route_gives_eval_s_answer(expr, inputs, point):
    routes = [sweep.route_modes, sweep.route_derivative1, sweep.route_check, sweep.route_hessian,
              sweep.route_files, sweep.route_text, sweep.route_several, sweep.route_wrt, sweep.route_graph]
    if point in ("random", "inf"):
        routes += [sweep.route_products, sweep.route_api, sweep.route_batch]
    with sweep._typer_group_once():
        case = sweep.run_case(expr, inputs, point, sweep.at("random", inputs), routes)
    assert case.ok, case.err
    assert len(case.results) > 10
    assert not _bad(case), _bad(case)[:5]


def test_the_routes_tell_a_wrong_answer():
    """The comparisons can fail: a permuted block is not the numerator layout, a NaN is not 0."""
    J = np.arange(6.0).reshape(2, 3)
    assert sweep.how(J, J) == "exact"
    assert sweep.how(J, J + 1e-14) == "close"
    assert sweep.how(J, J.T.reshape(2, 3)).startswith("differ")
    assert sweep.how(np.array([NAN, 1.0]), np.array([0.0, 1.0])).startswith("differ")
    assert sweep.how(np.array([-0.0]), np.array([0.0])) == "close"
    assert sweep.numerator(np.arange(6.0).reshape(2, 3), (), (2, 3)).shape == (3, 2)
    assert sweep.printed_agree(np.array([0.333333]), np.array([1 / 3])) == "exact"
    assert sweep.printed_agree(np.array([0.33334]), np.array([1 / 3])) == "differ"


# --- derivative --order 1 is jac eval's Jacobian ------------------------------------------------------

ORDER_ONE = [  # where the traced reverse pass (dense basis) met an infinite partial
    ("a[:, None].expand(-1, 4) * A", {"a": np.array([INF, 1.0, 2.0]),
                                      "A": np.array([[INF, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0], [5, 6, 7, 8.0]])}, "a"),
    ("a.addmv(A, c)", {"a": np.array([INF, 1.0]), "A": np.array([[INF, 1.0], [2.0, 3.0]]),
                       "c": np.array([INF, 1.0])}, "A"),
    ("torch.std(A, 1)", {"A": np.array([[INF, 1.0, 2.0], [3.0, 4.0, 5.0]])}, "A"),
]


@pytest.mark.parametrize("expr,inputs,name", ORDER_ONE, ids=[c[0] for c in ORDER_ONE])
def test_derivative_of_order_1_is_eval_s_jacobian_bit_for_bit(expr, inputs, name):
    """Before: ∂y[0, 1]/∂a[0] = A[0, 1] = 2 came out NaN (0 · inf from A[0, 0] in the dense reverse pass,
    summed by expand's rule), and entries of outputs that do not depend on the input NaN, where jac eval
    gives 2 and 0."""
    code, obj, _, err = sweep.jac(["derivative", expr, *sweep.bindings(inputs), "--json", "--order", "1",
                                   "--wrt", name])
    assert code == 0, err
    code, eobj, _, err = sweep.jac(["eval", expr, *sweep.bindings(inputs), "--json", "--wrt", name])
    assert code == 0, err
    D = sweep.array(obj["derivative"][name]["value"])
    J = sweep.array(eobj["jacobian"][name]["value"])
    assert sweep.same_bits(D, J)
    assert sweep.same_bits(api.derivative(expr, inputs, order=1, wrt=[name]), J)


def test_expand_times_a_row_with_an_infinity_keeps_the_finite_partials():
    inputs = ORDER_ONE[0][1]
    D = api.derivative(ORDER_ONE[0][0], inputs, order=1, wrt=["a"])
    assert D[0, 1, 0] == 2.0 and D[0, 3, 0] == 4.0 and D[1, 2, 1] == 3.0
    assert D[0, 0, 0] == INF and not np.isnan(D).any()


# --- hessian and derivative --order K: 0 where the output does not depend ----------------------------

ZEROS = [  # (expression, inputs, input): outputs that do not depend on an input element get an exact 0
    ("p.log10()", {"p": np.zeros(3)}, "p"),
    ("torch.sqrt(x ** 2 + y ** 2)", {"x": np.zeros(3), "y": np.zeros(3)}, "x"),
    ("torch.std(A, 1)", {"A": np.array([[INF, 1.0, 2.0], [3.0, 4.0, 5.0]])}, "A"),
    ("x * y.sum()", {"x": np.array([1.0, 2.0]), "y": np.array([NAN, 1.0])}, "x"),
]


def _independent(expr, inputs, name):
    """(output, input) pairs with no dependence, by central differences of the value itself: y[r] does
    not move when x[c] moves (at a finite point near the given one)."""
    x = np.nan_to_num(np.asarray(inputs[name], dtype=np.float64), posinf=3.0) + 0.5
    base = {n: np.nan_to_num(np.asarray(v, dtype=np.float64), nan=0.25, posinf=3.0) + 0.5 for n, v in inputs.items()}
    y0 = np.asarray(api.evaluate(expr, {**base, name: x})).ravel()
    found = np.zeros((y0.size, x.size), dtype=bool)
    for c in range(x.size):
        for h in (0.3, -0.7):
            moved = x.copy().ravel()
            moved[c] += h
            y = np.asarray(api.evaluate(expr, {**base, name: moved.reshape(x.shape)})).ravel()
            found[:, c] |= y != y0
    return ~found


@pytest.mark.parametrize("expr,inputs,name", ZEROS, ids=[c[0] for c in ZEROS])
def test_second_derivatives_are_0_where_the_output_does_not_depend(expr, inputs, name):
    """Before: jac hessian (and derivative --order 2 off element-wise graphs) wrote NaN there, 0 · inf from
    the dense basis of the traced reverse pass, against docs/batches-outputs-orders.md's exact 0."""
    H = api.hessian(expr, inputs, wrt=[name])[(name, name)]
    D = api.derivative(expr, inputs, order=2, wrt=[name])
    assert sweep.same_bits(H, D)
    m, n = np.size(api.evaluate(expr, inputs)), np.size(inputs[name])
    flat = H.reshape(m, n, n)
    free = _independent(expr, inputs, name)
    assert free.any()
    for r, c in zip(*np.nonzero(free)):
        assert (flat[r, c, :] == 0).all() and (flat[r, :, c] == 0).all(), (r, c, flat[r])
    code, obj, _, err = sweep.jac(["hessian", expr, *sweep.bindings(inputs), "--json", "--wrt", name])
    assert code == 0, err
    assert sweep.same_bits(sweep.array(obj["hessian"][f"{name},{name}"]["value"]), H)


def test_third_derivative_off_an_elementwise_graph_is_0_where_the_output_does_not_depend():
    expr, inputs = "torch.std(A, 1)", {"A": np.array([[INF, 1.0, 2.0], [3.0, 4.0, 5.0]])}
    D = api.derivative(expr, inputs, order=3, wrt=["A"]).reshape(2, 6, 6, 6)
    assert (D[1, :3] == 0).all() and (D[1, :, :3] == 0).all() and (D[1, :, :, :3] == 0).all()
    assert (D[0, 3:] == 0).all()
    assert np.isfinite(D[1, 3:, 3:, 3:]).all()


def test_hessian_of_a_batch_holds_each_example_s_zeros():
    expr, y = "torch.sqrt(x ** 2 + y ** 2)", np.zeros(3)
    x = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 0.5]])
    code, obj, _, err = sweep.jac(["hessian", expr, f"x={sweep.literal(x)}", f"y={sweep.literal(y)}", "--json",
                                   "--batch", "x", "--wrt", "x"])
    assert code == 0, err
    batched = sweep.array(obj["hessian"]["x,x"]["value"])
    for k in (0, 1):
        alone = api.hessian(expr, {"x": x[k], "y": y}, wrt=["x"])[("x", "x")]
        assert sweep.same_bits(batched[k], alone)
        off = ~np.eye(3, dtype=bool)
        assert (alone[off[:, :, None] & np.ones((3, 3, 3), dtype=bool)] == 0).all()


# --- an integer constant through a structured matmul -----------------------------------------------------

def test_argsort_matmul_hessian_and_check_do_not_crash():
    """Before: the structured matmul rule scaled the rows of an integer constant (argsort's indices) in place by
    the float basis values: NumPy's casting error, exit 70 from jac check and jac hessian."""
    rng = np.random.default_rng(1)
    inputs = {"A": rng.standard_normal((3, 4)), "B": rng.standard_normal((4, 4))}
    expr = "np.argsort(A, axis=-1) @ B"  # NumPy's reading: PyTorch refuses Long @ Float (tests/test_dtype16.py)
    H = api.hessian(expr, inputs)
    assert all((block == 0).all() for block in H.values())  # linear in B, A only through its order
    J = api.jacobian(expr, inputs, wrt=["B"], mode="reverse")["B"]
    assert sweep.same_bits(J, api.jacobian(expr, inputs, wrt=["B"], mode="forward")["B"])
    idx = np.argsort(inputs["A"], -1).astype(np.float64)
    assert sweep.same_bits(J, np.einsum("ik,jl->ijkl", idx, np.eye(4)))
    code, _, _, err = sweep.jac(["check", "np.cumprod((np.argsort(A, axis=-1) @ B)[-1], axis=0)",
                                 *sweep.bindings({n: np.zeros_like(v) for n, v in inputs.items()}), "--wrt", "B"])
    assert code == 0, err
