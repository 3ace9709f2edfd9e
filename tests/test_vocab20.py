"""Functions the twentieth session added, which ``benchmarks/vocab_names.py`` listed as refused by name: the 3-d
layers of torch.nn.functional (conv3d, conv_transpose3d, max_pool3d, avg_pool3d, adaptive_avg_pool3d,
adaptive_max_pool3d, lp_pool3d) and max_unpool1d / 2d / 3d. Without PyTorch: Jacobians against central differences
on random inputs, forward and reverse mode agreeing, shapes, and the refusals through the command line (exit 2, one
message). tests/test_parity_vocab20.py compares them with PyTorch.
"""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from parity import central

rng = np.random.default_rng(2020)
X = rng.uniform(-1, 1, (1, 2, 3, 4, 3))
W = rng.uniform(-1, 1, (2, 1, 2, 2, 2))
WT = rng.uniform(-1, 1, (2, 2, 2, 1, 2))

LAYERS = [  # (expression of x, the input's shape, the result's shape)
    ("F.conv3d(x, W, groups=2, stride=(1, 2, 1), padding=1, dilation=(2, 1, 1))", X.shape, (1, 2, 3, 3, 4)),
    ("torch.conv3d(x[0], W[:, :, :1], padding='same', groups=2)", X.shape, (2, 3, 4, 3)),
    ("F.conv_transpose3d(x, WT, stride=2, padding=(0, 1, 0), output_padding=1, groups=2)", X.shape,
     (1, 4, 7, 6, 7)),
    ("F.max_pool3d(x, 2, stride=1, padding=1)", X.shape, (1, 2, 4, 5, 4)),
    ("torch.max_pool3d(x, (2, 3, 2), (1, 1, 1), 0, (2, 1, 1))", X.shape, (1, 2, 1, 2, 2)),
    ("F.avg_pool3d(x, (2, 2, 3), padding=(1, 1, 1), count_include_pad=False)", X.shape, (1, 2, 2, 3, 1)),
    ("F.avg_pool3d(x[0], 2, stride=1, divisor_override=7)", X.shape, (2, 2, 3, 2)),
    ("F.adaptive_avg_pool3d(x, (2, 3, 2))", X.shape, (1, 2, 2, 3, 2)),
    ("F.adaptive_max_pool3d(x[0], (2, 3, 5))", X.shape, (2, 2, 3, 5)),
    ("F.lp_pool3d(x + 2, 2.5, (1, 2, 2), stride=1)", X.shape, (1, 2, 3, 3, 2)),
    ("F.max_unpool3d(x, i3, 2)", X.shape, (1, 2, 6, 8, 6)),
    ("F.max_unpool2d(x[0, 0], i2, (1, 2), output_size=(4, 7))", X.shape, (3, 4, 7)),
    ("F.max_unpool1d(x[0, 0, 0], i1, 3, 2, 1)", X.shape, (4, 5)),
]
INDICES = {  # distinct in each (N, C) plane of the output
    "i3": np.broadcast_to((np.arange(36.0) * 8).reshape(3, 4, 3), X.shape),
    "i2": np.broadcast_to((np.arange(12.0) * 2).reshape(4, 3), (3, 4, 3)),
    "i1": np.broadcast_to([4.0, 0.0, 2.0], (4, 3)),
}


@pytest.mark.parametrize("case", LAYERS, ids=[c[0] for c in LAYERS])
def test_jacobians_equal_central_differences(case):
    expr, shape, out = case
    x = rng.uniform(-1, 1, shape)
    env = {"W": W, "WT": WT, **INDICES}
    bindings = {"x": x, **{k: v for k, v in env.items() if k in expr}}
    value = np.asarray(api.evaluate(expr, bindings))
    assert value.shape == out
    J = np.asarray(api.jacobian(expr, bindings, wrt=["x"])["x"])
    fd = central(lambda t: api.evaluate(expr, {**bindings, "x": t}), x)
    np.testing.assert_allclose(J, fd, rtol=1e-6, atol=1e-8)
    u, t = rng.standard_normal(out), rng.standard_normal(shape)
    vjp = np.asarray(api.vjp(expr, bindings, v=u, wrt=["x"])["x"])
    jvp = np.asarray(api.jvp(expr, bindings, tangents={"x": t}))
    np.testing.assert_allclose(np.sum(u * jvp), np.sum(vjp * t), rtol=1e-10)  # <u, J t> = <J^T u, t>


def test_conv3d_derivative_by_the_weight_is_the_input_windows():
    bindings = {"x": X, "W": W}
    J = np.asarray(api.jacobian("F.conv3d(x, W, groups=2)", bindings, wrt=["W"])["W"])
    fd = central(lambda w: api.evaluate("F.conv3d(x, W, groups=2)", {"x": X, "W": w}), W)
    np.testing.assert_allclose(J, fd, rtol=1e-6, atol=1e-9)
    assert J[0, 0, 0, 0, 0, 0, 0, 1, 1, 1] == X[0, 0, 1, 1, 1]  # y[0,0,0,0,0] = Σ W[0,0,a,b,c] x[0,0,a,b,c]


def test_max_pool3d_hessian_of_a_square_is_diagonal_and_symmetric():
    expr = "(F.max_pool3d(x, 2, 1) ** 2).sum()"
    H = np.asarray(api.hessian(expr, {"x": X})[("x", "x")]).reshape(X.size, X.size)
    np.testing.assert_array_equal(H, H.T)
    np.testing.assert_array_equal(H, np.diag(np.diag(H)))


runner = CliRunner()
BAD = [
    (["eval", "F.conv3d(x, w)", "x:1,2,4,4", "w:3,2,2,2,2"], "conv3d"),
    (["eval", "F.max_pool3d(x, 2, padding=2)", "x:1,2,4,4,4"], "at most half"),
    (["eval", "F.max_unpool3d(x, i, 2)", "x:1,1,1,1,2", "i=[[[[[0, 0]]]]]"], "more than once"),
    (["eval", "F.adaptive_avg_pool3d(x, (2, 2))", "x:2,3,3,3"], "one integer or 3"),
]


@pytest.mark.parametrize("args, words", BAD, ids=[b[0][1] for b in BAD])
def test_bad_arguments_exit_2_with_one_message(args, words):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.output.count("jac: error") == 1 and words in result.output


# --- np.choose ------------------------------------------------------------------------------------------------------

A, B, C = rng.uniform(-1, 1, (3, 4)), rng.uniform(-1, 1, 4), rng.uniform(-1, 1, (3, 1))
CHOOSE = [  # (code; NumPy's, evaluated on the same arrays, is the reference)
    "np.choose([[0, 1, 2, 1], [2, 2, 0, 0], [1, 0, 1, 2]], [A, B, C])",
    "np.choose(np.array([0, 4, -1, 2]), [A, B, C], mode='wrap')",
    "np.choose(np.array([0, 4, -1, 2]), [A, B, C], mode='clip')",
    "np.choose(A > 0, [A, B])",
    "np.choose((A > 0).astype(int) * 2 - (B > 0).astype(int), [A, B, C], mode='clip')",
    "np.choose((A > 0).astype(int) * 5, [A, B, C], mode='wrap')",
    "np.choose(1, np.stack([A, A * 2]))",
    "jnp.choose(np.array([2, 1, 0, 1]), [A, B, C])",
]


@pytest.mark.parametrize("code", CHOOSE)
def test_choose_is_numpys_and_its_derivative_goes_to_the_choice_picked(code):
    env = {"A": A, "B": B, "C": C}
    theirs = eval(code.replace("jnp.", "np."), {"np": np, **env})  # noqa: S307 - the test's own text
    np.testing.assert_array_equal(api.evaluate(code, env), theirs)
    J = api.jacobian(code, env)
    for name, x in env.items():
        fd = central(lambda t: api.evaluate(code, {**env, name: t}), x)
        np.testing.assert_allclose(J[name], fd, rtol=1e-7, atol=1e-9)


CHOOSE_REFUSED = [
    ("np.choose([0, 3, 1, 0], [A, B, C])", "invalid entry 3"),
    ("np.choose([0.0, 1.0, 1.0, 0.0], [A, B])", "floats"),
    ("np.choose((A > 0).astype(int), [A, B])", "mode='clip' or mode='wrap'"),
    ("np.choose(A * 0, [A, B], mode='clip')", "float computed from the inputs"),
    ("np.choose([0, 1], [A, B])", "do not broadcast"),
    ("np.choose([0, 1, 0, 1], [A, B], mode='bad')", "mode must be"),
]


@pytest.mark.parametrize("code, words", CHOOSE_REFUSED, ids=[c[0] for c in CHOOSE_REFUSED])
def test_choose_refuses_what_numpy_refuses_and_what_jac_cannot_check(code, words):
    with pytest.raises(JacError, match=words):
        api.evaluate(code, {"A": A, "B": B, "C": C})


# --- gcd, lcm and the shifts: integers only, read at build time, no derivative ---------------------------------------

I = np.array([12.0, -18.0, 0.0, 7.0, 5.0, -100.0])
K = np.array([18.0, 12.0, 0.0, 0.0, -3.0, 7.0])
INTEGER_FUNCTIONS = [
    ("np.gcd(i.astype(int), k.astype(int))", lambda i, k: np.gcd(i, k)),
    ("np.lcm(i.astype(int), k.astype(int))", lambda i, k: np.lcm(i, k)),
    ("np.lcm(i.astype(np.int8), k.astype(np.int8))", lambda i, k: np.lcm(i.astype(np.int8), k.astype(np.int8))),
    ("np.left_shift(i.astype(int), np.abs(k).astype(int))", lambda i, k: np.left_shift(i, np.abs(k))),
    ("np.bitwise_right_shift(i.astype(int), 2)", lambda i, k: np.right_shift(i, 2)),
    ("np.right_shift(i.astype(np.int8), 70 - np.abs(k).astype(np.int8) * 10)",
     lambda i, k: np.right_shift(i.astype(np.int8), (70 - np.abs(k) * 10).astype(np.int8))),
    ("np.gcd(12, 18) + np.lcm(4, 6)", lambda i, k: np.int64(18)),
]


@pytest.mark.parametrize("code, numpy_fn", INTEGER_FUNCTIONS, ids=[c[0] for c in INTEGER_FUNCTIONS])
def test_integer_functions_are_numpys(code, numpy_fn):
    theirs = numpy_fn(I.astype(np.int64), K.astype(np.int64))
    np.testing.assert_array_equal(api.evaluate(code, {"i": I, "k": K}), theirs)
    J = api.jacobian(f"({code}) * i", {"i": I, "k": K})
    np.testing.assert_array_equal(J["i"], np.diag(np.broadcast_to(theirs, I.shape)).astype(float))
    assert not np.asarray(J["k"]).any()


INTEGER_REFUSED = [
    ("np.gcd(i, 2)", "integers only"),
    ("torch.lcm(i.long(), 3)", "not a number"),
    ("torch.bitwise_left_shift(i > 0, 1)", "bool tensors"),
    ("np.gcd(i > 0, k > 0)", "NumPy refuses these dtypes"),
    ("np.left_shift(i.astype(np.int8), 300)", "out of range for int8"),
]


@pytest.mark.parametrize("code, words", INTEGER_REFUSED, ids=[c[0] for c in INTEGER_REFUSED])
def test_integer_functions_refuse_what_the_libraries_refuse(code, words):
    with pytest.raises(JacError, match=words):
        api.evaluate(code, {"i": I, "k": K})


def test_integer_functions_need_values_for_jac_shape():
    result = runner.invoke(app, ["shape", "np.gcd(i.astype(int), 4)", "i:3"])
    assert result.exit_code == 2 and "known only for given values" in result.output


# --- torch.special's orthogonal polynomials: exact derivatives by x (PyTorch has none), degree constant ---------------

POLYNOMIALS = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
               "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
               "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
               "laguerre_polynomial_l", "legendre_polynomial_p"]
P_X = np.array([-1.0, -0.93, -0.4, 0.0, 0.27, 0.5, 0.81, 1.0, 1.3, -1.7])


@pytest.mark.parametrize("name", POLYNOMIALS)
@pytest.mark.parametrize("n", [0, 1, 3, 7, 12])
def test_polynomial_derivatives_equal_central_differences(name, n):
    code = f"torch.special.{name}(x, {n})"
    x = P_X / 2 + 0.5 if name.startswith("shifted") else P_X  # the shifted ones' [-1, 1] is [0, 1]
    J = np.asarray(api.jacobian(code, {"x": x})["x"])
    fd = central(lambda t: api.evaluate(code, {"x": t}), x, h=1e-6)
    np.testing.assert_allclose(J, fd, rtol=1e-6, atol=1e-6 * max(1.0, np.abs(fd).max()))
    H = np.asarray(api.hessian(f"{code}.sum()", {"x": x})[("x", "x")])
    fd2 = central(lambda t: np.asarray(api.jacobian(code, {"x": t})["x"]).sum(axis=0), x, h=1e-6)
    np.testing.assert_allclose(H, fd2, rtol=1e-5, atol=1e-5 * max(1.0, np.abs(fd2).max()))


def test_chebyshev_t_derivative_is_n_times_u_at_the_ends_too():
    x = np.array([-1.0, -0.5, 0.3, 1.0, 2.0])
    for n in (3, 9):
        J = np.diag(np.asarray(api.jacobian(f"torch.special.chebyshev_polynomial_t(x, {n})", {"x": x})["x"]))
        u = np.asarray(api.evaluate(f"torch.special.chebyshev_polynomial_u(x, {n - 1})", {"x": x}))
        np.testing.assert_allclose(J, n * u, rtol=1e-12, atol=1e-12)  # T_n' = n U_{n-1}: n² at x = 1


def test_polynomial_degrees_per_element_broadcast():
    x = np.array([[0.3], [-0.6]])
    n = "torch.tensor([0, 2, 9, -1])"
    value = np.asarray(api.evaluate(f"torch.special.legendre_polynomial_p(x, {n})", {"x": x}))
    assert value.shape == (2, 4)
    for j, k in enumerate([0, 2, 9, -1]):
        single = api.evaluate(f"torch.special.legendre_polynomial_p(x, {k})", {"x": x[:, 0]})
        np.testing.assert_array_equal(value[:, j], single)


@pytest.mark.parametrize("code, words", [
    ("torch.special.chebyshev_polynomial_t(x, m)", "constant integer"),
    ("torch.special.chebyshev_polynomial_t(x, 2.5)", "must hold integers"),
    ("torch.special.hermite_polynomial_h(x, 5000)", "above 2000"),
    ("torch.special.legendre_polynomial_p(torch.arange(3), 2)", "x holds integers"),
])
def test_polynomials_refuse_a_degree_that_is_no_constant_integer(code, words):
    with pytest.raises(JacError, match=words):
        api.evaluate(code, {"x": P_X, "m": np.array(2.0)})


def test_hermite_beyond_pytorchs_limit_is_nan():
    assert np.isnan(api.evaluate("torch.special.hermite_polynomial_h(x, 513)", {"x": P_X})).all()
    assert np.isnan(api.evaluate("torch.special.hermite_polynomial_he(x, 129)", {"x": P_X}, dtype="float32")).all()
    assert not np.isnan(api.evaluate("torch.special.hermite_polynomial_he(x, 150)", {"x": P_X[:3]})).any()
