"""Higher orders, batches and several outputs (horder14) through ``jac ... --json``, against ``torch.func``
(PyTorch 2.13): ``jac hessian`` of non-scalar outputs with every cross block, ``jac derivative --order K``
(K = 1..4) against nested ``jacfwd(jacrev)``, ``--batch NAME[:AXIS]`` on every command against
``torch.func.vmap`` (per-example gradients of shared weights), several outputs (vjp with ``--v OUT=VALUE``,
the others zero; ``jvps``; ``hessians``), a few in float32. The harness is ``tests/orders14.py``;
``benchmarks/orders14_sweep.py`` runs the same cases at special points (zeros, ties, ±inf, NaN) and tallies
them (benchmarks/RESULTS.md). The checks against PyTorch's create_graph autograd that take seconds run with
``JAC_SLOW=1``.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

pytest.importorskip("torch")

from orders14 import (  # noqa: E402
    array, autograd_reference, batch_pairs, compare, inputs_of, jac_args, reference, run, several_pairs)

SLOW = os.environ.get("JAC_SLOW") == "1"

# jac hessian: expressions with non-scalar outputs and several inputs (every block "IN,IN2")
HESSIAN = [
    "torch.tanh(W @ x + b)",
    "F.relu(W @ x + b) * c",
    "F.softplus(W @ x + b)",
    "torch.sigmoid(W @ x) * b",
    "F.softplus(x, beta=2.0) * y",
    "F.softmax(W @ x, dim=0)",
    "F.log_softmax(W @ x, dim=0)",
    "F.log_softmax(L, dim=1)",
    "F.cross_entropy(X @ W.T + b, torch.tensor([0, 2]))",
    "F.cross_entropy(X @ W.T, torch.tensor([1, 1]), reduction='none')",
    "F.mse_loss(torch.tanh(X @ W.T + b), T)",
    "F.mse_loss(torch.sigmoid(X @ W.T), T, reduction='none')",
    "torch.logsumexp(L, dim=1)",
    "torch.logsumexp(W * x, 1) * b",
    "torch.linalg.norm(x) * y",
    "torch.linalg.vector_norm(W @ x)",
    "torch.linalg.norm(W, dim=1)",
    "torch.linalg.norm(A)",
    "x / torch.linalg.norm(x)",
    "torch.linalg.det(A)",
    "torch.linalg.det(A) * b",
    "torch.linalg.inv(A)",
    "torch.linalg.inv(A) @ b",
    "torch.linalg.solve(A, b)",
    "torch.linalg.solve(A, B)",
    "torch.trace(A @ B)",
    "torch.trace(A @ A) * b",
    "A @ B @ b",
    "W.T @ A @ W",
    "torch.einsum('ij,jk->ik', A, B)",
    "torch.einsum('i,ij,j->', b, A, c)",
    "torch.einsum('ij,j->i', W, x * y)",
    "x[1:3] * y[0]",
    "A[:, 0] * A[1] * b",
    "A[[0, 2]] ** 2",
    "(A ** 2)[torch.tensor([2, 0, 2])]",
    "torch.max(x) * x",
    "x.max(dim=0).values * y",
    "torch.amax(A, dim=1) * b",
    "torch.min(A, dim=0).values ** 2",
    "torch.amin(x * y)",
    "torch.cumsum(x * y, 0)",
    "torch.cumprod(x, 0)",
    "torch.cumprod(A, dim=1)",
    "torch.where(x > 0, x ** 2, torch.sin(x)) * y",
    "torch.clamp(x * y, -0.2, 0.3) ** 2",
    "torch.clamp(x, min=y) ** 2",
    "torch.abs(x) ** 3 * y",
    "torch.prod(x)",
    "b @ P @ b",
    "torch.sqrt(x ** 2 + y ** 2)",
    "torch.exp(s * x) * torch.cos(t * y)",
    "s * t ** 3",
]

# jac derivative --order K --wrt NAME, K = 1..4 (against jacrev then K - 1 jacfwd)
DERIVATIVE = [
    ("torch.tanh(W @ x + b)", "x"),
    ("torch.tanh(W @ x + b)", "b"),
    ("F.softmax(x, dim=0)", "x"),
    ("F.log_softmax(x, dim=0)", "x"),
    ("torch.logsumexp(x, 0)", "x"),
    ("F.softplus(x * s)", "s"),
    ("torch.sigmoid(x) * y", "x"),
    ("x ** 3", "x"),
    ("torch.sin(x) * torch.exp(x)", "x"),
    ("torch.prod(x)", "x"),
    ("torch.cumprod(x, 0)", "x"),
    ("torch.linalg.norm(x)", "x"),
    ("b @ P @ b", "b"),
    ("torch.linalg.det(A)", "A"),
    ("torch.linalg.inv(A)", "A"),
    ("torch.linalg.solve(A, b)", "A"),
    ("F.relu(x) ** 3", "x"),
    ("torch.abs(x) ** 3", "x"),
    ("torch.where(x > 0, x ** 3, x ** 2)", "x"),
    ("torch.clamp(x, -0.5, 0.5) ** 3", "x"),
    ("1 / p", "p"),
    ("torch.log(p) * p", "p"),
    ("torch.sqrt(p)", "p"),
    ("torch.max(x) ** 2", "x"),
    ("F.cross_entropy(X @ W.T, torch.tensor([0, 2]))", "W"),
    ("a = torch.tanh(x); b = (x ** 3).sum(); a, b", "x"),
    ("s ** 4 * t", "s"),
]
ORDERS = {"torch.linalg.inv(A)": 3, "torch.linalg.solve(A, b)": 3, "F.cross_entropy(X @ W.T, torch.tensor([0, 2]))": 3}

RNG = np.random.default_rng(1414)
# --batch: (expression, {input: batch axis}, {input: its batched value}); the other inputs are shared
BATCH = [
    ("torch.tanh(W @ x + b)", {"x": 0}, {"x": RNG.uniform(-1, 1, (3, 4))}),
    ("F.log_softmax(W @ x, dim=0)[0]", {"x": 0}, {"x": RNG.uniform(-1, 1, (3, 4))}),
    ("F.cross_entropy((W @ x + b)[None], torch.tensor([1]))", {"x": 0}, {"x": RNG.uniform(-1, 1, (3, 4))}),
    ("(w * x).sum()", {"x": 1}, {"x": RNG.uniform(-1, 1, (4, 3))}),
    ("F.softmax(x, dim=0) * w", {"x": 0}, {"x": RNG.uniform(-1, 1, (2, 4))}),
    ("torch.linalg.det(A)", {"A": 0}, {"A": RNG.uniform(-1, 1, (2, 3, 3)) + 3 * np.eye(3)}),
    ("torch.linalg.solve(A, b)", {"A": 0, "b": 0}, {"A": RNG.uniform(-1, 1, (2, 3, 3)) + 3 * np.eye(3),
                                                     "b": RNG.uniform(-1, 1, (2, 3))}),
    ("torch.linalg.solve(A, b)", {"b": 1}, {"b": RNG.uniform(-1, 1, (3, 2))}),
    ("torch.max(x) * w", {"x": 0}, {"x": np.array([[0.5, 0.5, -1.0, 0.25], [1.0, 0.0, 1.0, 1.0]])}),
    ("A @ b", {"A": 2}, {"A": RNG.uniform(-1, 1, (3, 3, 2))}),
    ("torch.cumprod(x * w, 0)", {"x": 0, "w": 0}, {"x": RNG.uniform(-1, 1, (3, 4)), "w": RNG.uniform(-1, 1, (3, 4))}),
    ("torch.clamp(x, -0.5, 0.5) * s", {"s": 0}, {"s": np.array([0.5, -2.0, 0.0])}),
    ("a = torch.tanh(W @ x); b = (x ** 2).sum(); a, b", {"x": 0}, {"x": RNG.uniform(-1, 1, (2, 4))}),
]

# several outputs: (expression, the --v of some outputs only)
SEVERAL = [
    "a = torch.tanh(W @ x); b = (x ** 2).sum(); a, b",
    "F.softmax(x, 0), torch.logsumexp(x, 0)",
    "l = F.mse_loss(W @ x, b); r = W.pow(2).sum(); l, r",
    "torch.linalg.inv(A), torch.linalg.det(A)",
    "m = torch.max(x); n = torch.amin(x); m, n * y",
]

# --dtype float32: jac hessian against PyTorch in float32
FLOAT32 = [
    "torch.tanh(W @ x + b)",
    "F.log_softmax(W @ x, dim=0)",
    "torch.linalg.inv(A) @ b",
    "F.cross_entropy(X @ W.T + b, torch.tensor([0, 2]))",
    "a = torch.tanh(W @ x); b = (x ** 2).sum(); a, b",
]

POINTS = {
    "zeros": np.zeros_like,
    "ties": lambda v: np.round(np.asarray(v) * 2) / 2,
}


def torch_func_is_wrong(command: str, expr: str, order, batch) -> bool:
    """Where ``torch.func`` (2.13) itself is wrong, checked here against central differences and PyTorch's
    create_graph autograd instead (see the tests below and benchmarks/RESULTS.md, horder14): the forward-over-
    reverse derivatives of ``det`` past order 2 and of ``solve`` by its matrix past order 2, and ``vmap`` of
    either's Hessian (``det``'s off by 900 in the second example of ``vmap(jacfwd(jacrev(det)))``)."""
    order = order or (2 if command == "hessian" else 1)
    linalg = "det(" in expr or "solve(" in expr
    return linalg and command in ("hessian", "derivative") and (order >= 3 or (batch and order >= 2))


def agrees(command, expr, inputs, **options):
    kind, detail = compare(command, expr, inputs, second_opinion=False, **options)
    assert kind == "agree", f"jac {command} {expr} {options.get('order') or ''}: {kind}: {detail}"


@pytest.mark.parametrize("expr", HESSIAN)
def test_hessian_blocks_of_any_output_are_jacfwd_of_jacrev(expr):
    agrees("hessian", expr, inputs_of(expr))


TIES = [e for e in HESSIAN if any(w in e for w in ("max", "min", "amax", "clamp", "where", "relu", "abs", "cum"))]


@pytest.mark.parametrize("expr", TIES)
def test_hessian_at_ties_and_kinks_is_pytorch_s(expr):
    if expr == "torch.clamp(x, min=y) ** 2":  # at x == y torch.func's forward rule and its reverse rule differ
        pytest.skip("tie of clamp with a tensor bound: jac follows the reverse rule (see the test below)")
    agrees("hessian", expr, {n: POINTS["ties"](v) for n, v in inputs_of(expr).items()})


@pytest.mark.parametrize("expr, name", DERIVATIVE)
def test_derivative_of_order_1_to_4_is_nested_jacfwd_of_jacrev(expr, name):
    for order in range(1, ORDERS.get(expr, 4) + 1):
        if not torch_func_is_wrong("derivative", expr, order, None):
            agrees("derivative", expr, inputs_of(expr), order=order, wrt=[name])


@pytest.mark.parametrize("expr, batch, values", BATCH, ids=[f"{e} {b}" for e, b, _ in BATCH])
def test_batch_on_every_command_is_vmap(expr, batch, values):
    rng = np.random.default_rng(7)
    for _, _, label, command, _, inputs, options in batch_pairs("batch", "random", expr, {**inputs_of(expr), **values},
                                                                  batch, rng):
        if not torch_func_is_wrong(command, expr, options.get("order"), batch):
            agrees(command, expr, inputs, **options)


@pytest.mark.parametrize("expr", SEVERAL)
def test_several_outputs_vjp_jvp_hessian_and_with_a_batch(expr):
    rng = np.random.default_rng(8)
    for _, _, label, command, _, inputs, options in several_pairs("random", expr, inputs_of(expr), rng):
        if not torch_func_is_wrong(command, expr, options.get("order"), options.get("batch")):
            agrees(command, expr, inputs, **options)


@pytest.mark.parametrize("expr", FLOAT32)
def test_float32_hessians_are_pytorch_s_in_float32(expr):
    agrees("hessian", expr, inputs_of(expr), dtype="float32")


# --- special points ------------------------------------------------------------------------------------------

SPECIAL = [  # (command, expression, point, options): jac equal to PyTorch there too
    ("hessian", "F.log_softmax(W @ x, dim=0)", "zeros", {}),
    ("hessian", "torch.logsumexp(L, dim=1)", "ties", {}),
    ("hessian", "F.cross_entropy(X @ W.T + b, torch.tensor([0, 2]))", "zeros", {}),
    ("hessian", "torch.linalg.inv(A) @ b", "ties", {}),
    ("hessian", "torch.cumprod(x, 0)", "zeros", {}),
    ("hessian", "torch.prod(x)", "zeros", {}),
    ("derivative", "torch.prod(x)", "zeros", {"order": 3, "wrt": ["x"]}),
    ("derivative", "torch.cumprod(x, 0)", "ties", {"order": 3, "wrt": ["x"]}),
    ("derivative", "F.relu(x) ** 3", "zeros", {"order": 3, "wrt": ["x"]}),
    ("derivative", "torch.max(x) ** 2", "ties", {"order": 2, "wrt": ["x"]}),
    ("derivative", "torch.where(x > 0, x ** 3, x ** 2)", "zeros", {"order": 4, "wrt": ["x"]}),
    ("derivative", "F.softmax(x, dim=0)", "zeros", {"order": 4, "wrt": ["x"]}),
]


@pytest.mark.parametrize("command, expr, point, options", SPECIAL, ids=[f"{c} {e} {p}" for c, e, p, _ in SPECIAL])
def test_orders_at_zeros_ties_and_kinks_are_pytorch_s(command, expr, point, options):
    agrees(command, expr, {n: POINTS[point](v) for n, v in inputs_of(expr).items()}, **options)


@pytest.mark.parametrize("command, options", [("hessian", {}), ("derivative", {"order": 3, "wrt": ["x"]}),
                                              ("vjp", {"v": {None: np.ones((3, 3))}}), ("eval", {})])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_non_finite_example_leaves_the_other_examples_as_they_are_alone(command, options, bad):
    """The second example holds NaN (or inf): the first and the third are what each gives alone, bit for bit,
    and PyTorch's. (The second's Hessian keeps exact zeros where no path joins an output to an input, where
    PyTorch's dense passes write 0 · NaN = NaN: the structure convention of docs/how-it-works.md.)"""
    x = np.random.default_rng(9).uniform(-1, 1, (3, 4))
    x[1, 2] = bad
    expr, inputs = "torch.tanh(W @ x + b)", {**inputs_of("torch.tanh(W @ x + b)"), "x": x}
    code, whole, err = run(jac_args(command, expr, inputs, batch={"x": 0}, **options))
    assert code == 0 and ("example 1" in err or not np.isnan(bad)), err  # tanh(±inf) = ±1: finite derivatives
    key = {"hessian": ("hessian", "x,W"), "derivative": ("derivative", "x"), "vjp": ("vjp", "W"),
           "eval": ("jacobian", "W")}[command]
    for e in (0, 2):
        one = {**inputs, "x": x[e]}
        alone_options = {k: ({None: v[None][e]} if k == "v" else v) for k, v in options.items()}
        _, alone, _ = run(jac_args(command, expr, one, **alone_options))
        assert np.array_equal(array(whole[key[0]][key[1]]["value"])[e], array(alone[key[0]][key[1]]["value"]))
        agrees(command, expr, one, **alone_options)


# --- where torch.func is wrong: central differences and create_graph autograd decide ---------------------------

def _levi_civita_third(A):
    """∂³det(A)/∂A[a]∂A[b]∂A[c] of a 3 × 3 matrix: ε(rows) ε(columns) when both are permutations."""
    D = np.zeros((3, 3) * 3)
    for idx in np.ndindex(*(3, 3) * 3):
        rows, cols = idx[0::2], idx[1::2]
        if sorted(rows) == [0, 1, 2] and sorted(cols) == [0, 1, 2]:
            D[idx] = np.linalg.det(np.eye(3)[list(rows)]) * np.linalg.det(np.eye(3)[list(cols)])
    return D


def test_det_past_order_two_is_exact_where_torch_func_is_not():
    """det of a 3 × 3 matrix is a cubic: its third derivative is ±1 or 0 (the signs of the permutations), its
    fourth 0. jac's are; torch.func's jacfwd(jacfwd(jacrev(det))) gives entries up to 30.9 (2.13)."""
    inputs = inputs_of("torch.linalg.det(A)")
    _, third, _ = run(jac_args("derivative", "torch.linalg.det(A)", inputs, order=3, wrt=["A"]))
    np.testing.assert_allclose(array(third["derivative"]["A"]["value"]), _levi_civita_third(inputs["A"]),
                               rtol=0, atol=1e-12)
    _, fourth, _ = run(jac_args("derivative", "torch.linalg.det(A)", inputs, order=4, wrt=["A"]))
    np.testing.assert_allclose(array(fourth["derivative"]["A"]["value"]), 0, atol=1e-12)
    theirs = reference("derivative", "torch.linalg.det(A)", inputs, order=3, wrt=["A"])[(None, "A")]
    assert np.abs(theirs - _levi_civita_third(inputs["A"])).max() > 1  # PyTorch's bug: when fixed, drop the rule


@pytest.mark.skipif(not SLOW, reason="about 10 s of nested create_graph Jacobians: JAC_SLOW=1")
def test_solve_third_derivative_is_create_graph_autograd_s_and_central_differences():
    expr = "torch.linalg.solve(A, b)"
    inputs = inputs_of(expr)
    _, ours, _ = run(jac_args("derivative", expr, inputs, order=3, wrt=["A"]))
    ours = array(ours["derivative"]["A"]["value"])
    np.testing.assert_allclose(ours, autograd_reference("derivative", expr, inputs, order=3, wrt=["A"])[(None, "A")],
                               rtol=1e-9, atol=1e-12)
    h, A = 1e-5, inputs["A"]
    for idx in [(0, 0), (1, 2), (2, 1)]:  # central differences of jac's second derivative along three entries
        E = np.zeros((3, 3))
        E[idx] = h
        up, down = ({**inputs, "A": A + s * E} for s in (1, -1))
        second = [array(run(jac_args("derivative", expr, p, order=2, wrt=["A"]))[1]["derivative"]["A"]["value"])
                  for p in (up, down)]
        np.testing.assert_allclose(ours[(...,) + idx], (second[0] - second[1]) / (2 * h), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("expr, batch, values", [c for c in BATCH if "det(" in c[0] or "solve(" in c[0]],
                         ids=lambda c: str(c)[:40])
def test_batched_det_and_solve_hessians_are_each_example_s(expr, batch, values):
    """vmap(jacfwd(jacrev(det))) is wrong in 2.13 (900 off in the second example): each example alone,
    by torch.func without vmap, is the reference."""
    inputs = {**inputs_of(expr), **values}
    _, whole, _ = run(jac_args("hessian", expr, inputs, batch=batch))
    size = np.shape(next(iter(values.values())))[next(iter(batch.values()))]
    for e in range(size):
        one = {n: np.take(v, e, axis=batch[n]) if n in batch else v for n, v in inputs.items()}
        theirs = reference("hessian", expr, one)
        for key, block in whole["hessian"].items():
            np.testing.assert_allclose(array(block["value"])[e], theirs[(None, key)], rtol=1e-9, atol=1e-11)


# --- exit codes and messages -----------------------------------------------------------------------------------

REFUSED = [  # (arguments, error kind, words of the message): exit 2, one message, the JSON error
    (["derivative", "x**3", "x=[1, 2]", "--order", "0"], "usage", ["--order", "1 to 32"]),
    (["derivative", "x**3", "x=[1, 2]", "--order", "1.5"], "usage", ["--order"]),
    (["derivative", "x*y", "x=[1, 2]", "y=[1, 2]", "--order", "3"], "usage", ["one input", "--wrt"]),
    (["hessian", "x*y", "x=[[1, 2]]", "y=[1, 2, 3]", "--batch", "x", "--batch", "y"], "shape", ["batch size"]),
    (["hessian", "x*2", "x=[1, 2]", "--batch", "x:1"], "shape", ["x:1", "no axis 1"]),
    (["derivative", "x**2", "x=zeros((0, 2))", "--batch", "x", "--order", "3"], "shape", ["empty"]),
    (["vjp", "a = x*2; b = x.sum(); a, b", "x=[1, 2]", "--v", "c=[1, 2]"], "usage", ["OUT=VALUE", "a, b"]),
    (["vjp", "a = x*2; b = x.sum(); a, b", "x=[1, 2]"], "value", ["output a", "--v a=VALUE"]),
    (["vjp", "a = x*2; b = x.sum(); a, b", "x=[[1, 2], [3, 4]]", "--batch", "x", "--v", "a=[1, 2]"], "shape",
     ["--v a", "(2, 2)"]),
    (["jvp", "x*w", "x=[[1, 2], [3, 4]]", "w=[1, 1]", "--batch", "x", "--tangent", "w=[[1, 2], [3, 4], [5, 6]]"],
     "shape", ["'w'", "(2, 2)"]),
    # the output named in a shape error of --v is the one the --v is for (was "the output y", an output
    # that did not exist, with several outputs and with a batch of one named output)
    (["vjp", "a = x*2; b = x.sum(); a, b", "x=[1, 2]", "--v", "b=[1, 2, 3]"], "shape",
     ["output b has shape ()", "b.backward"]),
    (["vjp", "a = x*2; b = x.sum(); a, b", "x=[1, 2]", "--v", "a=[1, 2, 3]"], "shape", ["output a has shape (2,)"]),
    (["vjp", "z = x*2; z", "x=[[1, 2]]", "--batch", "x"], "value", ["the output z has shape (2,)"]),
]


@pytest.mark.parametrize("args, kind, words", REFUSED, ids=[" ".join(a[:2]) for a, _, _ in REFUSED])
def test_bad_orders_batches_and_cotangents_exit_2_with_one_message(args, kind, words):
    code, obj, err = run([*args, "--json"])
    assert code == 2 and "Traceback" not in err and err.count("jac: error") == 1, err
    assert obj["error"]["kind"] == kind, obj
    for word in words:
        assert word in obj["error"]["message"], (word, obj["error"]["message"])


@pytest.mark.skipif(not SLOW, reason="about 10 s of nested create_graph Jacobians: JAC_SLOW=1")
@pytest.mark.parametrize("expr", ["torch.linalg.cholesky(P)", "torch.linalg.eigvalsh(P)"])
def test_cholesky_and_eigvalsh_hessians_are_create_graph_autograd_s(expr):
    """torch.func's jacfwd(jacrev) of these differs from PyTorch's own create_graph autograd (by 0.15 and 0.72
    here); jac follows the latter."""
    inputs = inputs_of(expr)
    assert compare("hessian", expr, inputs)[0] == "torch-func"


def _cumprod_derivative(x, order):
    """∂^K cumprod(x)[k] / ∂x[i1] ... ∂x[iK]: the product of the other x[j], j ≤ k, when the i are distinct
    and ≤ k."""
    n = len(x)
    D = np.zeros((n,) * (order + 1))
    for idx in np.ndindex(*(n,) * (order + 1)):
        k, picked = idx[0], idx[1:]
        if len(set(picked)) == order and max(picked) <= k:
            D[idx] = np.prod([x[j] for j in range(k + 1) if j not in picked])
    return D


@pytest.mark.parametrize("point", ["zeros", "ties"])
def test_prod_and_cumprod_past_order_three_are_exact_at_zeros_and_ties(point):
    """torch.func's fourth derivatives of prod and cumprod are wrong at zeros (1.0 and 2.0 off); jac's are
    the products of the other elements, exactly."""
    x = POINTS[point](inputs_of("torch.prod(x)")["x"])
    exact = _cumprod_derivative(x, 4)
    for expr, exact in [("torch.cumprod(x, 0)", exact), ("torch.prod(x)", exact[-1])]:
        _, ours, _ = run(jac_args("derivative", expr, {"x": x}, order=4, wrt=["x"]))
        np.testing.assert_array_equal(array(ours["derivative"]["x"]["value"]), exact)
