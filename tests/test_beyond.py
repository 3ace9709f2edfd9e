"""Issue 14: batches (vmap), several outputs, derivatives of any order.

Each part is checked against central differences (always) and against PyTorch
(``torch.func.vmap``, ``torch.autograd.backward`` with several tensors, nested
``jacfwd(jacrev)``) when it is installed.
"""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.engine import higher
from jacobi_cli.errors import JacLimitError, JacNameError, JacShapeError, JacUsageError, JacValueError
from jacobi_cli.lang.parser import parse, parse_value, split_outputs
from jacobi_cli.tools import api
from jacobi_cli.tools.report import derivative_report, eval_report, hessian_report, jvp_report, vjp_report
from parity import central

runner = CliRunner()
RNG = np.random.default_rng(14)


def jac(*args, code=0):
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result


def jac_json(*args):
    return json.loads(jac(*args, "--json").stdout)


# --- several outputs ---------------------------------------------------------------------------

def test_a_final_tuple_is_several_outputs_named_by_variable_or_position():
    g = parse("a = sin(x) * y; b = sum(x**2); a, b", {"x": (3,), "y": (3,)})
    assert [n for n, _ in g.outputs] == ["a", "b"]
    g = parse("x * 2, sum(x)", {"x": (3,)})
    assert [n for n, _ in g.outputs] == ["y0", "y1"]
    # constants are outputs too, as the contract reads a final tuple: neither stacked into one vector
    # (torch.tensor(1.), torch.tensor(2.) came out as [1, 2]) nor refused as a ragged list
    for text in ("1, 2", "(1, 2)", "torch.tensor(1.), torch.tensor(2.)", "a = 2; a, 3", "ones(3), zeros(2)"):
        g = parse(text, {})
        assert g.several and [g.nodes[i].shape for _, i in g.outputs] in ([(), ()], [(3,), (2,)]), text
    assert parse_value("1, 2").tolist() == [1.0, 2.0]  # a binding's value x=1,2 is still the vector
    with pytest.raises(JacNameError, match="two outputs are named 'a'"):
        parse("a = x * 2; a, a", {"x": (2,)})
    assert split_outputs("a = x * 2; a, sum(a)") == [("a", "a = x * 2; a"), ("y1", "a = x * 2; sum(a)")]


def test_one_output_keeps_the_json_exactly():
    out = jac_json("eval", "sin(x)", "x=[1, 2]")
    assert "output" in out and "jacobian" in out and "outputs" not in out and "batch" not in out


def test_eval_of_several_outputs_is_each_outputs_jacobian():
    x, y = RNG.normal(size=3), RNG.normal(size=3)
    out = jac_json("eval", "a = sin(x) * y; b = sum(x**2); a, b", f"x={x.tolist()}", f"y={y.tolist()}")
    assert [o["name"] for o in out["outputs"]] == ["a", "b"] and "output" not in out
    assert np.allclose(out["jacobians"]["a"]["x"]["value"], central(lambda x: np.sin(x) * y, x), atol=1e-8)
    assert np.allclose(out["jacobians"]["a"]["y"]["value"], np.diag(np.sin(x)))
    assert np.allclose(out["jacobians"]["b"]["x"]["value"], 2 * x)
    assert out["jacobians"]["b"]["x"]["math_shape"] == [1, 3]  # each pair keeps its row of the shape table


def test_vjp_of_several_outputs_adds_the_pullbacks_and_zero_for_those_left_out():
    x, y = RNG.normal(size=3), RNG.normal(size=3)
    binds = [f"x={x.tolist()}", f"y={y.tolist()}"]
    expr = "a = sin(x) * y; b = sum(x**2); a, b"
    va = RNG.normal(size=3)
    out = jac_json("vjp", expr, *binds, "--v", f"a={va.tolist()}", "--v", "b=2")
    assert np.allclose(out["vjp"]["x"]["value"], va * np.cos(x) * y + 2 * 2 * x)
    only_a = jac_json("vjp", expr, *binds, "--v", f"a={va.tolist()}")
    assert np.allclose(only_a["vjp"]["x"]["value"], va * np.cos(x) * y)
    assert only_a["v"]["b"]["value"] == 0
    err = jac("vjp", expr, *binds, code=2)  # a has 3 elements: it needs a v
    assert "--v a=VALUE" in err.output
    both_scalar = jac_json("vjp", "a = sum(x); b = sum(x**2); a, b", "x=[1, 2]")
    assert both_scalar["vjp"]["x"]["value"] == [3.0, 5.0]  # each one-element output gets 1, as backward([a, b])


def test_several_outputs_against_torch_backward():
    torch = pytest.importorskip("torch")
    x, y = RNG.normal(size=4), RNG.normal(size=4)
    va, vb = RNG.normal(size=4), 1.5
    tx, ty = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
    a, b = torch.tanh(tx) * ty, (tx ** 2).sum()
    torch.autograd.backward([a, b], [torch.tensor(va), torch.tensor(vb, dtype=torch.float64)])
    got = api.vjp("a = tanh(x) * y; b = sum(x**2); a, b", {"x": x, "y": y}, v={"a": va, "b": vb})
    assert np.allclose(got["x"], tx.grad.numpy()) and np.allclose(got["y"], ty.grad.numpy())


def test_jvp_and_hessian_of_several_outputs():
    x = RNG.normal(size=3)
    t = RNG.normal(size=3)
    out = jac_json("jvp", "a = sin(x); b = sum(x**3); a, b", f"x={x.tolist()}", "--tangent", f"x={t.tolist()}")
    assert np.allclose(out["jvps"]["a"]["value"], np.cos(x) * t)
    assert np.allclose(out["jvps"]["b"]["value"], 3 * x**2 @ t)
    h = jac_json("hessian", "a = sin(x); b = sum(x**3); a, b", f"x={x.tolist()}")
    assert np.allclose(h["hessians"]["b"]["x,x"]["value"], np.diag(6 * x))
    assert h["hessians"]["a"]["x,x"]["shape"] == [3, 3, 3]
    assert np.allclose(h["hessians"]["a"]["x,x"]["value"], central(lambda x: np.diag(np.cos(x)), x), atol=1e-7)


def test_api_jacobian_of_several_outputs_is_nested_by_output():
    got = api.jacobian("a = x * y; b = sum(x); a, b", {"x": [1.0, 2.0], "y": [3.0, 4.0]})
    assert set(got) == {"a", "b"} and set(got["a"]) == {"x", "y"}
    assert got["b"]["y"].tolist() == [0.0, 0.0]
    assert isinstance(api.evaluate("a = x * 2; a, sum(x)", {"x": [1.0, 2.0]}), tuple)


def test_check_graph_and_diff_of_several_outputs():
    out = jac_json("check", "a = sin(x) * y; b = sum(x**2); a, b", "x:3", "y:3")
    assert out["passed"] and set(out["checks"]) == {"a", "b"}
    g = jac_json("graph", "a = sin(x); a, sum(x**2)", "x=[1, 2]", "--backward", "--v", "a=[1, 0]")
    grads = {n["name"]: n["grad"] for n in g["nodes"] if n["op"] == "input"}
    assert np.allclose(grads["x"], [np.cos(1.0), 0.0])  # y1 is left out: it counts as zero
    d = jac_json("diff", "a = sin(x); a, sum(x**2)", "x:2")
    assert [o["name"] for o in d["outputs"]] == ["a", "y1"] and d["derivatives"]["y1"]["x"]["shape"] == [2]


def test_commands_that_take_one_output_say_so():
    with pytest.raises(JacUsageError, match="tuple of 2 outputs"):
        api.prepare("a = sin(x); a, cos(x)", {"x": 1.0})
    err = jac("eval", "a = sin(x); a, cos(x)", "x=1", "--symbolic", code=2)
    assert "--symbolic" in err.output


def test_shape_describes_one_example_and_each_output():
    out = jac_json("shape", "a = A @ x; a, sum(a)", "A:3x4", "x:10x4", "--batch", "x")
    assert out["batch"] == {"size": 10, "inputs": {"x": 0}} and out["inputs"]["x"]["shape"] == [4]
    assert out["derivatives"]["a"]["A"]["shape"] == [3, 3, 4] and out["derivatives"]["y1"]["x"]["math_shape"] == [1, 4]


# --- any order -----------------------------------------------------------------------------------

def test_x_cubed_at_2_gives_12_12_6():
    for k, want in ((1, 12.0), (2, 12.0), (3, 6.0), (4, 0.0)):
        assert jac_json("derivative", "x**3", "x=2", "--order", str(k))["derivative"]["x"]["value"] == want


def test_derivative_of_order_k_is_the_central_difference_of_order_k_minus_1():
    A, x = RNG.normal(size=(2, 3)), RNG.normal(size=3)
    graph = parse("sin(A @ x) * x[0]", {"A": (2, 3), "x": (3,)})
    env = {"A": A, "x": x}
    for k in (2, 3):
        lower = higher.plan_derivative(graph, "x", k - 1, False, 2**30)
        dk = higher.run(higher.plan_derivative(graph, "x", k, False, 2**30), env)
        assert dk.shape == (2,) + (3,) * k
        fd = central(lambda x: higher.run(lower, {"A": A, "x": x}), x)
        assert np.allclose(dk, fd, atol=1e-6)
        assert np.allclose(dk, np.swapaxes(dk, -1, -2))  # symmetric in the last two indices


def test_element_wise_derivatives_are_diagonal_and_agree_with_the_dense_composition():
    x = RNG.normal(size=5)
    graph = parse("tanh(x) * x + exp(x)", {"x": (5,)})
    for k in (1, 2, 3, 4):
        diag = higher.plan_derivative(graph, "x", k, True, 2**30)
        dense = higher.plan_derivative(graph, "x", k, False, 2**30)
        assert np.allclose(higher.run(diag, {"x": x}), higher.run(dense, {"x": x}), atol=1e-10)
    out = jac_json("derivative", "tanh(x)", "x:2000", "--order", "4", "--sparse")
    block = out["derivative"]["x"]
    assert block["structure"] == "diagonal" and np.shape(block["diagonal"]) == (2000,)  # O(n), not O(n^4)


def test_derivative_against_nested_torch_jacobians():
    torch = pytest.importorskip("torch")
    from torch.autograd.functional import jacobian as tjac

    A, x = RNG.normal(size=(2, 3)), RNG.normal(size=3)
    f = lambda x: torch.sin(torch.tensor(A) @ x) * x[0]  # noqa: E731
    want = tjac(lambda x: tjac(lambda x: tjac(f, x, create_graph=True), x, create_graph=True), torch.tensor(x))
    got = api.derivative("sin(A @ x) * x[0]", {"A": A, "x": x}, 3, wrt=["x"])
    assert np.allclose(got, want.numpy(), atol=1e-12)
    h = api.hessian("x**3 * sum(x)", {"x": x})[("x", "x")]  # a vector output: jacfwd(jacrev(f))
    th = torch.func.jacfwd(torch.func.jacrev(lambda x: x**3 * x.sum()))(torch.tensor(x))
    assert np.allclose(h, th.numpy())


@pytest.mark.parametrize("expr, fn, shape", [
    ("x.prod()", lambda x: x.prod(), (4,)),
    ("torch.sin(x).prod(dim=1)", lambda x: torch_module().sin(x).prod(dim=1), (2, 3)),
    ("np.prod(x, axis=(0, 2), keepdims=True)", lambda x: x.prod(dim=2, keepdim=True).prod(dim=0, keepdim=True), (2, 2, 3)),
    ("(x * (x - 1)).prod()", lambda x: (x * (x - 1)).prod(), (3,)),  # a zero in the group
])
def test_derivatives_of_a_product_of_any_order(expr, fn, shape):
    # jac derivative --order 2 of x.prod() was an internal error (prod_except's JVP ran NumPy on a tracer)
    torch = torch_module()
    from torch.autograd.functional import jacobian as tjac

    x = RNG.uniform(0.5, 1.5, shape).round(1)
    if expr.startswith("(x * (x - 1))"):
        x[0] = 1.0
    t = torch.tensor(x)
    d2 = tjac(lambda x: tjac(fn, x, create_graph=True), t)
    d3 = tjac(lambda x: tjac(lambda x: tjac(fn, x, create_graph=True), x, create_graph=True), t)
    np.testing.assert_allclose(api.derivative(expr, {"x": x}, 2), d2.numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(api.derivative(expr, {"x": x}, 3), d3.numpy(), rtol=1e-12, atol=1e-13)
    batched = np.stack([x, x[::-1].copy() if len(shape) == 1 else x * 2])
    out = json.loads(jac("derivative", expr, "x=" + json.dumps(batched.tolist()), "--batch", "x", "--order", "2",
                         "--json").stdout)["derivative"]["x"]["value"]
    np.testing.assert_allclose(np.array(out)[0], d2.numpy(), rtol=1e-12, atol=1e-13)


def torch_module():
    return pytest.importorskip("torch")


def test_derivative_is_planned_against_the_budget():
    with pytest.raises(JacLimitError, match="--sparse gives its diagonal"):
        derivative_report("tanh(x)", ["x:200"], 4, max_memory="100M")  # 200^5 values, 12.8 GB
    err = jac("derivative", "sin(A @ x)", "A:30x30", "x:30", "--wrt", "x", "--order", "4", "--max-memory", "1M", code=2)
    assert "nothing was allocated" in err.output and "memory budget of 1.0 MiB" in err.output
    # past jac's cap on one array, raising --max-memory cannot help: the message names the cap, not the budget
    err = jac("derivative", "sin(x)", "x:50", "--order", "6", "--max-memory", "20T", code=2)
    assert "jac's limit of 2.0 GiB for one array (whatever --max-memory)" in err.output
    assert "memory budget" not in err.output
    assert jac("derivative", "x", "x=1", "--order", "0", code=2)
    with pytest.raises(JacUsageError, match=r"one input, not 2 \(x, y\): name one with wrt= .*hessian\(\)"):
        api.derivative("x * y", {"x": 1.0, "y": 2.0})
    err = jac("derivative", "x * y", "x=1", "y=2", "--order", "2", "--wrt", "x", "--wrt", "y", code=2)
    assert "not 2 (x, y): name one with --wrt" in err.output


def test_diff_order_k_is_the_symbolic_counterpart():
    d = jac_json("diff", "x**3", "--wrt", "x", "--order", "3", "--at", "x=2")
    assert d["derivative"]["x"]["expr"] == "6" and d["derivative"]["x"]["value"] == 6.0
    d = jac_json("diff", "sin(x) * y", "x:2", "y:2", "--wrt", "x", "--order", "2", "--at", "x=[1, 2]", "--at",
                 "y=[3, 4]")
    want = api.derivative("sin(x) * y", {"x": [1.0, 2.0], "y": [3.0, 4.0]}, 2, wrt=["x"])
    assert np.allclose(d["derivative"]["x"]["value"], want)
    assert jac("diff", "x.T @ A @ x", "x:n", "A:nxn", "--wrt", "x", "--order", "2", code=2)


def test_hessian_of_any_output_has_blocks_y_a_b():
    x, w = RNG.normal(size=3), RNG.normal(size=2)
    out = jac_json("hessian", "outer(x, w)**2", f"x={x.tolist()}", f"w={w.tolist()}")
    assert out["hessian"]["x,w"]["shape"] == [3, 2, 3, 2]
    grad_w = lambda x: central(lambda w: np.outer(x, w)**2, w)  # noqa: E731
    assert np.allclose(out["hessian"]["w,x"]["value"], central(grad_w, x), atol=1e-6)


# --- batches -------------------------------------------------------------------------------------

def test_batched_eval_is_per_example_with_shared_weights():
    X, W = RNG.normal(size=(5, 3)), RNG.normal(size=(2, 3))
    out = jac_json("eval", "tanh(W @ x)", f"x={X.tolist()}", f"W={W.tolist()}", "--batch", "x")
    assert out["batch"] == {"size": 5, "inputs": {"x": 0}}
    assert out["inputs"]["x"]["shape"] == [3] and out["jacobian"]["x"]["shape"] == [2, 3]  # one example's
    Jx, JW = np.array(out["jacobian"]["x"]["value"]), np.array(out["jacobian"]["W"]["value"])
    assert Jx.shape == (5, 2, 3) and JW.shape == (5, 2, 2, 3)
    for b in range(5):
        assert np.allclose(Jx[b], central(lambda x: np.tanh(W @ x), X[b]), atol=1e-8)
        assert np.allclose(JW[b], central(lambda W: np.tanh(W @ X[b]), W), atol=1e-8)


def test_batch_axis_other_than_zero_and_errors():
    X = RNG.normal(size=(3, 4))  # 4 examples along axis 1
    out = jac_json("eval", "x**2", f"x={X.tolist()}", "--batch", "x:1")
    J = np.array(out["jacobian"]["x"]["value"])
    assert J.shape == (4, 3, 3) and np.allclose(J[2], np.diag(2 * X[:, 2]))
    assert "disagree on the batch size" in jac("eval", "x + y", "x:3x2", "y:4x2", "--batch", "x", "--batch", "y",
                                               code=2).output
    assert "no input named 'z'" in jac("eval", "x", "x:3", "--batch", "z", code=2).output
    assert "whole number" in jac("eval", "x", "x:3", "--batch", "x:a", code=2).output


def test_a_shape_error_under_batch_says_the_expression_sees_one_example():
    out = jac("eval", "x.sum(dim=1)", "x=[[1, 2], [3, 4], [5, 6]]", "--batch", "x", code=2).output
    assert "axis 1 is out of range" in out and "written for one example: it sees x (2,)" in out
    out = jac("eval", "x + W", "x:5x3", "W:5x3x2", "--batch", "x", "--batch", "W", code=2).output
    assert "it sees x (3,), W (3, 2)" in " ".join(out.split())
    with pytest.raises(JacShapeError, match=r"one example: it sees x \(3,\)"):
        api.jacobian("x @ y", {"x": np.ones((4, 3)), "y": np.ones(4)}, batch=["x"])


def test_batched_results_against_torch_vmap():
    torch = pytest.importorskip("torch")
    from torch.func import grad, hessian, jacrev, jvp, vmap

    X, W = RNG.normal(size=(6, 4)), RNG.normal(size=(3, 4))
    f = lambda W, x: torch.softmax(W @ x, 0)  # noqa: E731
    tX, tW = torch.tensor(X), torch.tensor(W)
    J = api.jacobian("softmax(W @ x)", {"x": X, "W": W}, batch=["x"])
    assert np.allclose(J["x"], vmap(jacrev(f, argnums=1), in_dims=(None, 0))(tW, tX).numpy())
    assert np.allclose(J["W"], vmap(jacrev(f, argnums=0), in_dims=(None, 0))(tW, tX).numpy())
    loss = lambda W, x: torch.log(torch.softmax(W @ x, 0)[0])  # noqa: E731
    per_sample = vmap(grad(loss), in_dims=(None, 0))(tW, tX).numpy()  # per-sample gradients
    got = vjp_report("log(softmax(W @ x)[0])", {"x": X, "W": W}, batch=["x"])
    assert np.allclose(got["vjp"]["W"]["value"], per_sample)
    T = RNG.normal(size=(6, 4))
    got = jvp_report("softmax(W @ x)", {"x": X, "W": W}, {"x": T}, batch=["x"])
    want = vmap(lambda x, t: jvp(lambda x: f(tW, x), (x,), (t,))[1])(tX, torch.tensor(T))
    assert np.allclose(got["jvp"]["value"], want.numpy())
    h = hessian_report("log(sum(exp(W @ x)))", {"x": X, "W": W}, wrt=["x"], batch=["x"])
    want = vmap(hessian(lambda x: torch.logsumexp(tW @ x, 0)))(tX)
    assert np.allclose(h["hessian"]["x,x"]["value"], want.numpy())


def test_batched_vjp_and_tangent_values_carry_the_batch_axis():
    X = RNG.normal(size=(4, 3))
    V = RNG.normal(size=(4, 3))
    out = jac_json("vjp", "sin(x)", f"x={X.tolist()}", "--batch", "x", "--v", f"{V.tolist()}")
    assert np.allclose(out["vjp"]["x"]["value"], V * np.cos(X))
    err = jac("vjp", "sin(x)", f"x={X.tolist()}", "--batch", "x", "--v", "[1, 2, 3]", code=2)
    assert "batch axis" in err.output
    out = jac_json("jvp", "sin(x) * w", f"x={X.tolist()}", "w=[1, 2, 3]", "--batch", "x", "--tangent", "w=[1, 0, 0]")
    assert np.allclose(out["jvp"]["value"], np.sin(X) * [1, 0, 0])  # a shared input's tangent, shared


def test_batched_derivative_and_check():
    X = RNG.normal(size=(3, 2))
    out = jac_json("derivative", "x**3", f"x={X.tolist()}", "--batch", "x", "--order", "3")
    D = np.array(out["derivative"]["x"]["value"])
    assert D.shape == (3, 2, 2, 2, 2) and np.allclose(D[:, 0, 0, 0, 0], 6) and np.allclose(D[:, 0, 1, 1, 1], 0)
    out = jac_json("check", "tanh(W @ x)", "x:4x3", "W:2x3", "--batch", "x")
    assert out["passed"] and out["batch"]["failed"] == []


def test_batch_results_are_refused_before_allocation_and_explained():
    with pytest.raises(JacLimitError, match="batch of 2,000 examples"):
        eval_report("tanh(W @ x)", ["x:2000x50", "W:50x50"], batch=["x"], max_memory="20M")
    # dW of one example is structured (10,000 stored of 1,000,000), but the batch stacks it dense: 8 GB
    with pytest.raises(JacLimitError, match="batch of 1,000 examples"):
        eval_report("tanh(W @ x)", ["x:1000x100", "W:100x100"], batch=["x"], max_memory="1G")
    out = jac("eval", "tanh(W @ x)", "x:10x5", "W:5x5", "--batch", "x", "--explain")
    assert "batch: 10 examples" in out.stdout and "stacked" in out.stdout


def test_batch_warnings_name_the_example():
    out = jac_json("eval", "log(x)", "x=[[1.0], [-1.0]]", "--batch", "x")
    assert out["warnings"][0]["message"].startswith("example 1: log")
    assert jac("eval", "log(x)", "x=[[1.0], [-1.0]]", "--batch", "x", "--strict", code=2)


def test_empty_batch_and_zero_d_input_are_refused():
    with pytest.raises(JacShapeError, match="empty"):
        api.jacobian("x * 2", {"x": np.zeros((0, 3))}, batch=["x"])
    with pytest.raises(JacValueError):
        vjp_report("x * 2", ["x:4x3"], batch=["x"])  # (3,) per example: v is needed


SUITE = '''
name = "batches"

[[case]]
name = "per-example jacobians"
expr = "tanh(W @ x)"
bindings = { x = [[1.0, 2.0], [0.5, -1.0], [0.0, 0.0]], W = [[1.0, 0.0], [0.0, 2.0]] }
batch = ["x"]
jacobian_shape = { x = [2, 2] }
value = [[0.7615941559557649, 0.999329299739067], [0.46211715726000974, -0.9640275800758169], [0.0, 0.0]]
check = true

[[case]]
name = "per-sample gradients"
expr = "sum(w * x)"
bindings = { x = [[1.0, 2.0], [3.0, 4.0]], w = [10.0, 20.0] }
batch = "x"
vjp = [{ grad = { w = [[1.0, 2.0], [3.0, 4.0]], x = [[10.0, 20.0], [10.0, 20.0]] } }]
jvp = [{ tangent = { x = [[1.0, 0.0], [0.0, 1.0]] }, expected = [10.0, 20.0] }]
hessian = { "x,x" = [[[0.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]] }
jacobian = { w = [[1.0, 2.0], [3.0, 4.0]] }
'''


def test_suites_take_batch(tmp_path):
    path = tmp_path / "suite.toml"
    path.write_text(SUITE)
    out = jac_json("run", str(path), "-j", "1")
    assert out["passed"] and [len(c["expectations"]) for c in out["cases"]] == [4, 5]
    path.write_text(SUITE.replace("w = [[1.0, 2.0], [3.0, 4.0]] }\n'", "w = [[1.0, 2.0], [3.0, 5.0]] }\n'")
                    .replace('jacobian = { w = [[1.0, 2.0], [3.0, 4.0]] }', 'jacobian = { w = [[1.0, 2.0], [3.0, 5.0]] }'))
    assert not jac("run", str(path), "-j", "1", "--json", code=1).stdout.count('"passed": true, "exit_code"')
    path.write_text(SUITE.replace('batch = "x"', 'batch = "y"'))
    assert "key 'batch'" in jac("run", str(path), code=2).output


def test_a_batch_of_several_outputs_against_torch():
    torch = pytest.importorskip("torch")
    from torch.func import grad, hessian, jacfwd, jacrev, vmap

    X, W = RNG.normal(size=(5, 3)), RNG.normal(size=(2, 3))
    tX, tW = torch.tensor(X), torch.tensor(W)
    expr = "a = tanh(W @ x); b = sum(a**2); a, b"
    fa = lambda x: torch.tanh(tW @ x)  # noqa: E731
    fb = lambda W, x: (torch.tanh(W @ x) ** 2).sum()  # noqa: E731
    r = eval_report(expr, {"x": X, "W": W}, batch=["x"])
    assert np.allclose(r["jacobians"]["a"]["x"]["value"], vmap(jacrev(fa))(tX).numpy())
    assert np.shape(r["outputs"][1]["value"]) == (5,)
    h = hessian_report(expr, {"x": X, "W": W}, wrt=["x"], batch=["x"])
    assert np.allclose(h["hessians"]["a"]["x,x"]["value"], vmap(jacfwd(jacrev(fa)))(tX).numpy())
    assert np.allclose(h["hessians"]["b"]["x,x"]["value"], vmap(hessian(lambda x: fb(tW, x)))(tX).numpy())
    v = vjp_report(expr, {"x": X, "W": W}, v=["b=ones"], batch=["x"])
    assert np.allclose(v["vjp"]["W"]["value"], vmap(grad(fb), in_dims=(None, 0))(tW, tX).numpy())
    d = derivative_report(expr, {"x": X, "W": W}, 3, wrt=["x"], batch=["x"])
    want = vmap(jacfwd(jacfwd(jacrev(lambda x: fb(tW, x)))))(tX).numpy()
    assert np.allclose(d["derivatives"]["b"]["x"]["value"], want)


def test_high_orders_stay_small_and_exact():
    # d^n/dx^n e^x sin x = 2^(n/2) e^x sin(x + n pi/4): the nested traces are pruned and merged per level
    graph = parse("sin(x) * exp(x)", {"x": ()})
    for n in (5, 8):
        plan = higher.plan_derivative(graph, "x", n, False, 2**30)
        assert len(plan.graph.nodes) < 2000
        assert np.isclose(higher.run(plan, {"x": np.array(1.0)}), 2 ** (n / 2) * np.e * np.sin(1 + n * np.pi / 4))
