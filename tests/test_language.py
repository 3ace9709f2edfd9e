"""The expression language: every spelling of the contract evaluates as NumPy does, and
its Jacobian matches central differences."""

import numpy as np
import pytest

from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian
from jacobi_cli.lang.parser import parse, parse_value

rng = np.random.default_rng(7)
X = rng.uniform(0.2, 0.9, 4)
Y = rng.uniform(0.2, 0.9, 4)
A = rng.uniform(-1, 1, (3, 4))
S = rng.uniform(-1, 1, (3, 3)) + 3 * np.eye(3)
ENV = {"x": X, "y": Y, "A": A, "S": S, "s": np.float64(0.7)}


def _softmax(v, axis=-1):
    e = np.exp(v - v.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# expression -> what NumPy computes
EXPRESSIONS = {
    "x + y * 2 - y / 3": X + Y * 2 - Y / 3,
    "-x ** 2": -X ** 2,
    "x ** y": X ** Y,
    "2 ** x": 2 ** X,
    "A @ x": A @ X,
    "x @ x": X @ X,
    "S @ S": S @ S,
    "exp(x) + log(x) + log1p(x) + sqrt(x) + abs(x)": np.exp(X) + np.log(X) + np.log1p(X) + np.sqrt(X) + np.abs(X),
    "sin(x) * cos(x) + tan(x) + tanh(x) + sinh(x) - cosh(x)":
        np.sin(X) * np.cos(X) + np.tan(X) + np.tanh(X) + np.sinh(X) - np.cosh(X),
    "arcsin(x) + arccos(x) + arctan(x)": np.arcsin(X) + np.arccos(X) + np.arctan(X),
    "torch.asin(x) + torch.atan(x)": np.arcsin(X) + np.arctan(X),
    "sigmoid(x) + relu(x - 0.5) + softplus(x) + square(x)":
        1 / (1 + np.exp(-X)) + np.maximum(X - 0.5, 0) + np.log1p(np.exp(X)) + X ** 2,
    "pow(x, 3)": X ** 3,
    "maximum(x, y) + minimum(x, y)": np.maximum(X, Y) + np.minimum(X, Y),
    "clip(x, 0.3, 0.6)": np.clip(X, 0.3, 0.6),
    "torch.clamp(x, min=0.4)": np.maximum(X, 0.4),
    "sum(A) + mean(A) + prod(x) + max(A) + min(A)": A.sum() + A.mean() + X.prod() + A.max() + A.min(),
    "sum(A, axis=0)": A.sum(axis=0),
    "torch.sum(A, dim=1, keepdim=True)": A.sum(axis=1, keepdims=True),
    "A.mean(axis=1)": A.mean(axis=1),
    "A.max(axis=0)": A.max(axis=0),
    "torch.max(x, y)": np.maximum(X, Y),
    "norm(x)": np.linalg.norm(X),
    "np.linalg.norm(A)": np.linalg.norm(A),
    "norm(A, axis=1)": np.linalg.norm(A, axis=1),
    "norm(x, 1)": np.abs(X).sum(),
    "norm(x, inf)": np.abs(X).max(),
    "logsumexp(x)": np.log(np.exp(X).sum()),
    "softmax(x)": _softmax(X),
    "softmax(A, axis=0)": _softmax(A, axis=0),
    "F.softmax(A, dim=1)": _softmax(A, axis=1),
    "dot(x, y) + x.dot(y)": 2 * X @ Y,
    "mm(A.T, A)": A.T @ A,
    "mv(A, x)": A @ X,
    "matmul(x, A.T)": X @ A.T,
    "outer(x, y)": np.outer(X, Y),
    "trace(S)": np.trace(S),
    "det(S)": np.linalg.det(S),
    "torch.linalg.inv(S)": np.linalg.inv(S),
    "transpose(A)": A.T,
    "A.transpose(1, 0)": A.T,
    "A.reshape(2, 6)": A.reshape(2, 6),
    "A.reshape(-1)": A.reshape(-1),
    "np.reshape(A, (4, 3))": A.reshape(4, 3),
    "A.flatten()": A.ravel(),
    "x[0] + x[-1]": X[0] + X[-1],
    "x[1:3]": X[1:3],
    "x[::-1]": X[::-1],
    "A[:, 0]": A[:, 0],
    "A[1]": A[1],
    "A[1, 2:]": A[1, 2:],
    "A[..., 1]": A[..., 1],
    "x[[0, 2, 2]]": X[[0, 2, 2]],
    "x[None, :] * y[:, None]": X[None, :] * Y[:, None],
    "F = x * y; G = 2 * F; G.sum()": (2 * X * Y).sum(),
    "a = x + 1\nb = a * a\nb.sum()": ((X + 1) ** 2).sum(),
    "x * pi + e": X * np.pi + np.e,
    "x * eye(4)": X * np.eye(4),
    "x + ones(4) + zeros(4) + full(4, 2.0) + arange(4) + linspace(0, 1, 4)":
        X + 1 + 0 + 2 + np.arange(4) + np.linspace(0, 1, 4),
    "s * x": 0.7 * X,
    "x.T": X,
    "A.T @ A": A.T @ A,
}


@pytest.mark.parametrize("expr", list(EXPRESSIONS))
def test_value_matches_numpy(expr):
    np.testing.assert_allclose(api.evaluate(expr, ENV), EXPRESSIONS[expr], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("expr", list(EXPRESSIONS))
def test_jacobian_matches_central_differences(expr):
    problem = api.prepare(expr, ENV)
    jacobians = api.jacobians(problem)
    for name in problem.wrt:
        def f(v, name=name):
            env = dict(ENV)
            env[name] = v
            return api.evaluate(expr, env)

        numeric = central_jacobian(f, np.asarray(ENV[name], dtype=np.float64))
        np.testing.assert_allclose(jacobians[name].to_array(), numeric, rtol=1e-6, atol=1e-6, err_msg=name)


def test_forward_and_reverse_agree_on_every_expression():
    from jacobi_cli.engine import autodiff

    for expr in EXPRESSIONS:
        problem = api.prepare(expr, ENV)
        rev = autodiff.jacrev(problem.graph, problem.values)
        fwd = autodiff.jacfwd(problem.graph, problem.values, problem.wrt)
        for name in problem.wrt:
            np.testing.assert_allclose(rev[name], fwd[name], rtol=1e-12, atol=1e-12, err_msg=f"{expr}: {name}")


@pytest.mark.parametrize("text,expected", [
    ("2", 2.0), ("[1, 2, 3]", [1, 2, 3]), ("[[1, 2], [3, 4]]", [[1, 2], [3, 4]]),
    ("arange(4.0)", [0, 1, 2, 3]), ("arange(6).reshape(2, 3)", [[0, 1, 2], [3, 4, 5]]),
    ("eye(2)", [[1, 0], [0, 1]]), ("2 * ones(2) - 1", [1, 1]), ("-1.5", -1.5),
    ("linspace(0, 1, 3)", [0, 0.5, 1]), ("full((2,), 7)", [7, 7]), ("np.pi", np.pi),
])
def test_binding_values(text, expected):
    value = parse_value(text)
    assert value.dtype == np.float64
    np.testing.assert_allclose(value, expected)


def test_random_constructors_follow_the_seed():
    a, b, c = parse_value("randn(3)", seed=1), parse_value("randn(3)", seed=1), parse_value("randn(3)", seed=2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.all((parse_value("rand(5)") >= 0) & (parse_value("rand(5)") < 1))


def test_rand_like_is_rand_of_the_shape_with_the_same_seed():
    from jacobi_cli.tools import api

    x = np.arange(6.0).reshape(2, 3)
    for like, plain in (("torch.rand_like(x)", "torch.rand(2, 3)"), ("torch.randn_like(x)", "torch.randn(2, 3)")):
        np.testing.assert_array_equal(api.evaluate(f"{like} * x", {"x": x}, seed=3),
                                      api.evaluate(f"{plain} * x", {"x": x}, seed=3))
    assert np.all(api.jacobian("torch.rand_like(x)", {"x": x})["x"] == 0)  # a constant, as PyTorch's


def test_np_random_spells_the_seeded_constructors_and_nothing_else():
    np.testing.assert_array_equal(parse_value("np.random.randn(2, 3)", seed=4), parse_value("randn(2, 3)", seed=4))
    np.testing.assert_array_equal(parse_value("numpy.random.rand(3)", seed=4), parse_value("rand(3)", seed=4))
    from jacobi_cli.errors import JacNameError
    for text in ("np.random.normal(size=3)", "np.random.sin(3)"):
        with pytest.raises(JacNameError, match="jac has rand and randn"):
            parse_value(text)


def test_float32_everywhere():
    out = api.jacobian("sin(x) * 2 + eye(3) @ x", {"x": [1, 2, 3]}, dtype="float32")["x"]
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, np.diag(2 * np.cos([1, 2, 3])) + np.eye(3), rtol=1e-6)


def test_assigned_names_are_non_leaf_nodes():
    graph = parse("F = a * b; G = 2 * F; G.sum()", {"a": (2,), "b": (2,)}).with_wrt(None)
    named = {n.name: n for n in graph.nodes if n.name}
    assert named["a"].leaf and named["b"].leaf
    assert not named["F"].leaf and not named["G"].leaf
    assert named["F"].requires_grad and named["G"].requires_grad
    assert graph.with_wrt(["a"]).nodes[named["b"].id].requires_grad is False


def test_shapes_are_known_before_values():
    graph = parse("softmax(A @ x) * sum(x)", {"A": ("m", "n"), "x": ("n",)})
    assert graph.output_shape == ("m",)


def test_hessian_is_exact():
    x, y = ENV["x"], ENV["y"]
    H = api.hessian("sum(x ** 3) + x @ x * sum(y)", ENV, wrt=["x", "y"])
    np.testing.assert_allclose(H[("x", "x")], np.diag(6 * x) + 2 * np.eye(4) * y.sum(), rtol=1e-12)
    np.testing.assert_allclose(H[("x", "y")], np.outer(2 * x, np.ones(4)), rtol=1e-12)
    np.testing.assert_allclose(H[("y", "y")], np.zeros((4, 4)))


def test_hessian_blocks_are_transposes_of_each_other():
    env = {"x": X, "A": rng.normal(size=(4, 4))}
    H = api.hessian("x @ A @ x + sum(tanh(A @ x))", env)
    np.testing.assert_allclose(H[("x", "x")], H[("x", "x")].T, atol=1e-12)
    np.testing.assert_allclose(H[("x", "A")], np.transpose(H[("A", "x")], (2, 0, 1)), atol=1e-12)
    assert H[("A", "A")].shape == (4, 4, 4, 4)


def test_long_flat_expression_parses_without_recursion():
    expr = " + ".join(["x"] * 50_000)
    out = api.jacobian(expr, {"x": 1.0})
    assert out["x"] == 50_000


@pytest.mark.parametrize("expr", ["(" * 3000 + "x" + ")" * 3000, "-" * 100_000 + "x",
                                  "sin(" * 5000 + "x" + ")" * 5000])
def test_deep_nesting_is_a_limit_error(expr):
    from jacobi_cli.errors import JacLimitError

    with pytest.raises(JacLimitError):
        api.evaluate(expr, {"x": 1.0})


def test_deep_but_allowed_nesting_works():
    out = api.jacobian("sin(" * 150 + "x" + ")" * 150, {"x": 0.5})
    assert 0 < out["x"] < 1


@pytest.mark.parametrize("expr, operand", [("A.transpose(0, 1)", "A"), ("(A + B).transpose(0, 1)", "(A + B)"),
                                           ("sin(A).T.transpose(0, 1)", "sin(A).T")])
def test_the_ambiguous_transpose_names_the_real_operand(expr, operand):
    """It said "x.transpose(0, 1)" whatever the operand was."""
    from jacobi_cli.errors import JacValueError
    from jacobi_cli.tools import api

    with pytest.raises(JacValueError) as info:
        api.prepare(expr, {"A": ":2x2", "B": ":2x2"})
    message = info.value.message
    assert message.startswith(f"{operand}.transpose(") and f"({operand} unchanged)" in message
    assert "x.T" not in message


def test_a_value_from_a_read_only_view_is_a_writable_array():
    # broadcast_to gives a read-only view with stride 0; the value a caller gets is its own array
    from jacobi_cli.lang.parser import parse_value

    value = parse_value("broadcast_to(ones(3), (2, 3))")
    assert value.flags.writeable and value.strides == (24, 8)
    value[0, 0] = 5.0
    assert value.tolist() == [[5.0, 1.0, 1.0], [1.0, 1.0, 1.0]]


# --- imports pasted with PyTorch / NumPy code ------------------------------------------------------------------

PASTED = """import torch
import numpy as np
import torch.nn.functional as F
from torch.nn import functional as F
import math, scipy.special

h = F.relu(A @ x)
torch.log(np.sum(h) + math.pi) + scipy.special.expit(x).sum()
"""


def test_imports_of_the_modules_jac_reads_are_skipped():
    # pasted code's imports were refused ("not 'import' statements") although they name what jac reads anyway
    body = PASTED[PASTED.index("h = "):]
    env = {"A": A, "x": X}
    assert api.evaluate(PASTED, env) == api.evaluate(body, env)
    np.testing.assert_array_equal(api.jacobian(PASTED, env)["x"], api.jacobian(body, env)["x"])


@pytest.mark.parametrize("expr, words", [  # import torch as T, from torch import sin are read (tests/test_snippets33.py)
    ("import numpy as torch; torch.sum(x)", ["reads numpy as 'np' only"]),  # would change what torch.sum means
    # from torch.autograd import grad is read (tests/test_vmap25.py); an 'import' of the function is not
    ("import torch.autograd.grad; x", ["not followed", "write torch.autograd.grad(...) where it is used"]),
    ("from numpy import *; x", ["import *", "np.sin(x)"]),
    ("import os; x", ["jac has no module 'os'"]),
    ("import torch", ["the last statement is the output", "not an import"]),
])
def test_imports_that_would_change_the_meaning_are_refused(expr, words):
    from jacobi_cli.errors import JacParseError

    with pytest.raises(JacParseError) as err:
        api.evaluate(expr, {"x": X})
    for word in words:
        assert word in str(err.value), (word, str(err.value))
    assert err.value.position == 0


def test_unpacking_an_array_takes_its_rows_as_python_does():
    # B, T, C = x.shape (every attention block starts so) and a, b = x were "only a tuple result can be unpacked"
    T = rng.uniform(-1, 1, (2, 3, 4))
    np.testing.assert_array_equal(api.evaluate("B, T, C = x.shape; x.reshape(B * T, C).sum(0) * C", {"x": T}),
                                  T.reshape(6, 4).sum(0) * 4)
    np.testing.assert_array_equal(api.evaluate("a, b = A; a * b", {"A": S[:2]}), S[0] * S[1])
    J = api.jacobian("a, b = A; a * b", {"A": S[:2]})["A"]
    np.testing.assert_array_equal(J[:, 0, :], np.diag(S[1]))
    np.testing.assert_array_equal(J[:, 1, :], np.diag(S[0]))


@pytest.mark.parametrize("expr, words", [
    ("a, b, c = A; a", ["3 names for an array of 2 rows", "(2, 3)"]),
    ("a, b = A.sum(); a", ["0-d array cannot be unpacked"]),
])
def test_unpacking_the_wrong_number_of_rows_is_refused(expr, words):
    from jacobi_cli.errors import JacValueError

    with pytest.raises(JacValueError) as err:
        api.evaluate(expr, {"A": S[:2]})
    for word in words:
        assert word in str(err.value)


@pytest.mark.parametrize("expr, expected", [
    # pasted code's dtype=x.dtype, device=x.device were "the attribute '.dtype' is not supported by jac"
    ("torch.ones(4, dtype=x.dtype, device=x.device) * x", X),
    ("x.to(y.device) + y.to(x.dtype)", X + Y),
    ("m = x > 0.5; m.to(x.dtype) * x", (X > 0.5) * X),
    # an integer constant's own dtype: uint8 wraps 100 + 200 to 44, as PyTorch
    ("t = torch.tensor([200, 1, 2, 3], dtype=torch.uint8); torch.full((4,), 100, dtype=t.dtype) + t + x",
     np.array([44.0, 101, 102, 103]) + X),
])
def test_dtype_and_device_attributes_are_what_jac_computes_with(expr, expected):
    np.testing.assert_array_equal(api.evaluate(expr, ENV), expected)
    assert api.evaluate("torch.ones(2, dtype=x.dtype) * x", {"x": X[:2]}, dtype="float32").dtype == np.float32


def test_an_input_s_name_can_be_rebound_as_in_python():
    # x = x.view(B, -1), x = F.relu(x): pasted forward code was "'x' is an input; an assignment cannot replace it".
    # The input stays the leaf: derivatives are by it, and the output is not named after it
    M = rng.uniform(-1, 1, (2, 3))
    expr = "x = x.reshape(3, 2); x = torch.tanh(x @ A[:2, :2]); x.sum()"
    np.testing.assert_allclose(api.evaluate(expr, {"x": M, "A": A}), np.tanh(M.reshape(3, 2) @ A[:2, :2]).sum())
    np.testing.assert_allclose(api.jacobian(expr, {"x": M, "A": A})["x"],
                               api.jacobian("h = x.reshape(3, 2); h = torch.tanh(h @ A[:2, :2]); h.sum()",
                                            {"x": M, "A": A})["x"], rtol=0, atol=0)
    from jacobi_cli.tools.report import eval_report

    report = eval_report("x = x * 2; x", ["x=[1, 2]"]).data
    assert report["output"]["name"] == "y"
    np.testing.assert_array_equal(report["jacobian"]["x"]["value"], [[2.0, 0.0], [0.0, 2.0]])
    with pytest.raises(Exception, match="leaf that requires grad"):  # a view of the input is still the input
        api.evaluate("x = x.reshape(2, 3); x[0] = 5; x", {"x": M.ravel()})
