"""NaN, inf and zero artefacts against PyTorch (session 39, benchmarks/nan39_fuzz.py).

- ``torch.xlogy(a, b)`` and ``torch.special.xlog1py`` by ``a``: PyTorch's backward (and forward) rule is
  ``xlogy(grad, b)`` masked where ``a == 0`` and ``b <= 0``, so a cotangent that is exactly 0 gives 0 where
  ``log b`` is -inf or NaN. jac multiplied, ``grad · log b``: 0 · -inf = NaN at ``exp(xlogy(x, |y|))`` with
  ``y = 0`` (PyTorch 0), and through every lowering that uses xlogy (Poisson / Gamma / Beta log_prob).
  The rule is xlogy of the cotangent itself, which keeps the sparse pattern (``structured.xlogy_rule``); the
  compiled kernel gives the interpreter's bits.
"""

import numpy as np
import pytest

from jacobi_cli.tools import api

CASES = [  # text, x, y: PyTorch's reverse-mode Jacobians by x and y are numbers at every entry of the x column
    ("torch.exp(torch.xlogy(x, torch.abs(y)))", [1.0, 2.0, 0.5], [0.0, 3.0, -0.0]),
    ("torch.exp(torch.special.xlog1py(x, y))", [1.0, 2.0, 0.5], [-1.0, 3.0, 0.25]),
    ("torch.relu(-torch.xlogy(x, y) - 1.0)", [1.0, 2.0, 3.0], [-1.0, 0.0, 0.5]),
    ("torch.sigmoid(torch.xlogy(x, torch.abs(y)) * 1e3)", [1.0, 2.0, 3.0], [0.0, 0.0, 0.5]),
    ("torch.clamp(torch.special.xlog1py(x, y), min=0.0)", [1.0, 2.0, 3.0], [-1.0, -2.0, 0.5]),
]


def _torch_jacobians(text, x, y):
    torch = pytest.importorskip("torch")
    import torch.nn.functional as F

    def f(a, b):
        return eval(text, {"torch": torch, "F": F}, {"x": a, "y": b})
    xt, yt = torch.tensor(x, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
    return [j.numpy() for j in torch.autograd.functional.jacobian(f, (xt, yt))]


@pytest.mark.parametrize("text, x, y", CASES)
def test_xlogy_by_its_first_argument_is_pytorchs_guarded_rule(text, x, y):
    jx, _ = _torch_jacobians(text, x, y)
    b = {"x": np.array(x), "y": np.array(y)}
    for mode in ("reverse", "forward"):
        ours = api.jacobian(text, b, mode=mode, wrt=["x"])["x"]
        if mode == "reverse":
            np.testing.assert_array_equal(ours, jx)  # NaN, signs of 0 and bits included
        else:  # forward mode: the same numbers where the tangent's chain has no 0 · inf (PyTorch's forward too)
            finite = np.isfinite(ours)
            np.testing.assert_array_equal(ours[finite], jx[finite])
    g = api.vjp(text, b, v=np.ones(len(x)), wrt=["x"])["x"]
    np.testing.assert_array_equal(g, jx.sum(0))


def test_the_zero_cotangent_case_is_zero_and_the_others_are_log_y():
    # exp(xlogy(x, |y|)) = |y|^x: by x, |y|^x log|y|, 0 at y = 0 (x > 0) as PyTorch's; before: NaN
    b = {"x": np.array([1.0, 2.0, 0.5]), "y": np.array([0.0, 3.0, 2.0])}
    j = api.jacobian("torch.exp(torch.xlogy(x, torch.abs(y)))", b, wrt=["x"])["x"]
    want = np.abs(b["y"]) ** b["x"] * np.log(np.abs(b["y"]), where=b["y"] != 0, out=np.zeros(3))
    np.testing.assert_allclose(np.diag(j), want, rtol=1e-15)
    assert j[0, 0] == 0.0 and not np.isnan(j).any()


def test_a_nonzero_cotangent_still_meets_log_y():
    # xlogy(x, y) itself: by x, log y: -inf at y = 0 (x != 0), NaN at y < 0, 0 where x = 0 and y <= 0 (mask)
    b = {"x": np.array([1.0, 2.0, 0.0, 0.0, 3.0]), "y": np.array([0.0, -1.0, 0.0, -2.0, np.e])}
    d = np.diag(api.jacobian("torch.xlogy(x, y)", b, wrt=["x"])["x"])
    assert d[0] == -np.inf and np.isnan(d[1]) and d[2] == 0.0 and d[3] == 0.0 and d[4] == 1.0


@pytest.mark.parametrize("fn", ["xlogy", "xlog1py"])
def test_the_rule_keeps_the_diagonal_structure(fn):
    spell = "torch.xlogy" if fn == "xlogy" else "torch.special.xlog1py"
    text = f"torch.exp({spell}(x, y))"
    n = 50
    rng = np.random.default_rng(39)
    b = {"x": rng.uniform(0.5, 2.0, n), "y": np.where(np.arange(n) % 3 == 0, -1.0 if fn == "xlog1py" else 0.0,
                                                       rng.uniform(0.5, 2.0, n))}
    j = api.jacobian(text, b, wrt=["x"], structured=True)["x"]
    assert j.structure == "diagonal" and j.nnz == n
    dense = api.jacobian(text, b, wrt=["x"])["x"]
    np.testing.assert_array_equal(np.diag(dense), j.diagonal())
    assert (np.diag(dense)[::3] == 0.0).all() and not np.isnan(dense).any()


@pytest.mark.parametrize("fn", ["torch.xlogy", "torch.special.xlog1py"])
def test_the_compiled_kernel_gives_the_interpreters_bits(fn):
    text = f"torch.exp({fn}(x, y)) * x"
    values = {"x": np.array([1.0, 2.0, 0.0, 0.5]), "y": np.array([0.0, -1.0, 0.0, 3.0])}
    f = api.compile(text, values)
    runs = []
    for _ in range(4):  # the first calls interpreted, then the planned / kernel path
        jac = f.jacobian(values)
        runs.append([(jac[n].shape, jac[n].tobytes()) for n in sorted(jac)])
        g = f.vjp(values, np.ones(4))
        runs[-1] += [g[n].tobytes() for n in sorted(g)]
    assert all(r == runs[0] for r in runs)


@pytest.mark.parametrize("text, x, y", [
    ("torch.xlogy(x, y)", [0.3, 1.7, 0.9], [0.4, 2.5, 1.1]),
    ("torch.special.xlog1py(x, y)", [0.3, 1.7, 0.9], [0.4, 2.5, -0.5]),
    ("torch.exp(torch.xlogy(x, y)) * y", [0.3, 1.7, 0.9], [0.4, 2.5, 1.1]),
])
def test_smooth_points_against_central_differences_to_second_order(text, x, y):
    b = {"x": np.array(x), "y": np.array(y)}
    s = f"torch.sum(({text}) * w)"
    w = np.array([0.7, -1.3, 0.4])
    h = api.hessian(s, {**b, "w": w}, wrt=["x", "y"])
    g = api.jacobian(s, {**b, "w": w}, wrt=["x", "y"])
    eps = 1e-6

    def grad(name, at):
        return np.asarray(api.jacobian(s, {**at, "w": w}, wrt=[name])[name])
    for p in "xy":
        for q in "xy":
            num = np.empty((3, 3))
            for k in range(3):
                up, down = {**b}, {**b}
                up[q], down[q] = b[q].copy(), b[q].copy()
                up[q][k] += eps
                down[q][k] -= eps
                num[:, k] = (grad(p, up) - grad(p, down)) / (2 * eps)
            np.testing.assert_allclose(h[(p, q)], num, rtol=1e-6, atol=1e-7)
    fx = np.array([(api.evaluate(s, {**b, "x": b["x"] + eps * e, "w": w}) -
                    api.evaluate(s, {**b, "x": b["x"] - eps * e, "w": w})) / (2 * eps) for e in np.eye(3)])
    np.testing.assert_allclose(g["x"], fx, rtol=1e-7, atol=1e-9)


def test_hessian_matches_pytorch_where_pytorch_has_numbers():
    torch = pytest.importorskip("torch")
    text = "torch.exp(torch.xlogy(x, torch.abs(y)))"
    x, y, w = [1.0, 2.0], [0.0, 3.0], [1.0, 1.0]
    xt, yt, wt = (torch.tensor(v, dtype=torch.float64) for v in (x, y, w))
    th = torch.autograd.functional.hessian(
        lambda a, c: torch.sum(eval(text, {"torch": torch}, {"x": a, "y": c}) * wt), (xt, yt))
    ours = api.hessian(f"torch.sum(({text}) * w)", {"x": x, "y": y, "w": w}, wrt=["x"])[("x", "x")]
    np.testing.assert_allclose(ours, th[0][0].numpy(), rtol=1e-14)  # PyTorch: [[0, 0], [0, 10.86]]; jac had a NaN


# --- log, log1p, log2, log10 at a subnormal x: never a finite wrong number ------------------------------------
# The branch first divided the cotangent by x (PyTorch's grad / x) so that a 0 cotangent at a subnormal x gave 0
# above cumsum's diagonal, where g · (1 / x) is 0 · inf = NaN. The lead reverted it at merge: where the cotangent is
# itself a subnormal rounding (logcumsumexp's weight 5e-324 / 3 rounds to 5e-324) g / x is a finite wrong number,
# 1.0 where the derivative is 1/3 (PyTorch 0), with no warning; g · (1 / x) holds inf or NaN there, which jac warns of.

def test_log_at_a_subnormal_x_gives_no_finite_wrong_derivative():
    x = np.array([1.0, 5e-324, 2.0])
    j = api.jacobian("torch.logcumsumexp(torch.nan_to_num(torch.log(x)), 0)", {"x": x})["x"]
    # column 1: d/dx1 log(1 + x1) = 1 and d/dx1 log(3 + x1) = 1/3, each weight rounded to a subnormal times 1 / x1
    assert not np.isfinite(j[1:, 1]).any()
    np.testing.assert_allclose(j[:, [0, 2]], [[1.0, 0.0], [1.0, 0.0], [1 / 3, 1 / 3]], rtol=1e-15)


@pytest.mark.parametrize("fn", ["torch.log", "torch.log2", "torch.log10"])
def test_a_subnormal_xs_column_is_nonfinite_and_the_others_are_pytorchs(fn):
    y = np.array([2.0, 0.5, 3.0, 5e-324])
    j = api.jacobian(f"torch.cumsum({fn}(y), 0)", {"y": y})["y"]
    assert j[3, 3] == np.inf and np.isnan(j[:3, 3]).all()  # 0 · inf above the diagonal: NaN, warned of
    jx = _torch_jacobians(f"torch.cumsum({fn}(y), 0) + 0 * x", [0.0] * 4, y.tolist())[1]
    np.testing.assert_allclose(j[:, :3], jx[:, :3], rtol=1e-15)


def test_log1p_at_minus_one_plus_a_subnormal():
    torch = pytest.importorskip("torch")
    y = np.array([-1.0 + 2.0 ** -52, 0.5])  # 1 + y = 2^-52: fine; and the point of the rule, a 0 cotangent
    j = api.jacobian("torch.cumsum(torch.log1p(y), 0)", {"y": y})["y"]
    t = torch.autograd.functional.jacobian(lambda v: torch.cumsum(torch.log1p(v), 0), torch.tensor(y)).numpy()
    np.testing.assert_array_equal(j, t)


@pytest.mark.parametrize("text", ["torch.sum(torch.log(x) * w)", "torch.sum(torch.log2(x) * w)",
                                  "torch.sum(torch.log10(x) * w)", "torch.sum(torch.log1p(x) * w)"])
def test_log_family_against_central_differences_to_second_order(text):
    x, w = np.array([0.3, 1.7, 2.9]), np.array([0.7, -1.3, 0.4])
    g = api.jacobian(text, {"x": x, "w": w}, wrt=["x"])["x"]
    h = api.hessian(text, {"x": x, "w": w}, wrt=["x"])[("x", "x")]
    eps = 1e-6
    num_g = np.array([(api.evaluate(text, {"x": x + eps * e, "w": w}) - api.evaluate(text, {"x": x - eps * e, "w": w}))
                      / (2 * eps) for e in np.eye(3)])
    np.testing.assert_allclose(g, num_g, rtol=1e-7)
    num_h = np.array([(api.jacobian(text, {"x": x + eps * e, "w": w}, wrt=["x"])["x"] -
                       api.jacobian(text, {"x": x - eps * e, "w": w}, wrt=["x"])["x"]) / (2 * eps) for e in np.eye(3)])
    np.testing.assert_allclose(h, num_h, rtol=1e-6, atol=1e-8)
    jv = api.jvp(text, {"x": x, "w": w}, {"x": np.array([1.0, -2.0, 0.5]), "w": np.zeros(3)})
    assert jv == pytest.approx(g @ np.array([1.0, -2.0, 0.5]), rel=1e-14)


# --- the infinity norm at a NaN: PyTorch's backward gives no element a derivative ------------------------------

@pytest.mark.parametrize("order", ["float('inf')", "float('-inf')"])
def test_infinity_norm_at_a_nan_has_pytorchs_zero_derivative(order):
    text = f"torch.linalg.vector_norm(x, {order}) + 0 * y.sum()"
    x, y = [0.5, -1.0, float("nan"), 2.0], [1.0, 1.0, 1.0, 1.0]
    jx, _ = _torch_jacobians(text, x, y)
    assert np.isnan(api.evaluate(text, {"x": x, "y": y}))
    for mode in ("reverse", "forward"):
        np.testing.assert_array_equal(api.jacobian(text, {"x": x, "y": y}, mode=mode, wrt=["x"])["x"], jx)
    assert (jx == 0).all()


@pytest.mark.parametrize("order", ["float('inf')", "float('-inf')", "1", "2"])
def test_infinity_norm_without_nan_is_unchanged(order):
    text = f"torch.linalg.vector_norm(x * y, {order})"
    x, y = [0.5, -3.0, 1.5, 2.0], [1.0, 1.0, -2.0, 1.0]
    jx, jy = _torch_jacobians(text, x, y)
    ours = api.jacobian(text, {"x": x, "y": y})
    np.testing.assert_allclose(ours["x"], jx, rtol=1e-15)
    np.testing.assert_allclose(ours["y"], jy, rtol=1e-15)
    assert api.evaluate(text, {"x": x, "y": y}) == pytest.approx(float(np.linalg.norm(np.multiply(x, y),
                                                                                      float(eval(order)))), rel=1e-15)


# --- the nonfinite warning names what the Jacobian holds -----------------------------------------------------

def test_a_diagonal_jacobians_warning_names_its_own_kinds_not_the_dense_pass():
    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app
    result = CliRunner().invoke(app, ["eval", "torch.cumsum(torch.log2(y), 0) * x", "x=[1.,2.,3.]",
                                      "y=[0.,3.,5e-324]"])
    assert result.exit_code == 0
    err = result.stderr if hasattr(result, "stderr") else result.output
    # the Jacobian by x is diag(-inf): the dense pass along e0 holds 0 · -inf = NaN off it, which the warning
    # named ("is NaN and -inf")
    assert "∂z/∂x: the derivative of mul at column 31 is -inf at mul(-inf, 1)" in err
    assert "column 19 is inf at log2(0)" in err and "NaN" not in err


@pytest.mark.parametrize("text", ["jnp.linalg.norm(x, jnp.inf)", "np.linalg.norm(x, np.inf)"])
def test_jax_and_numpy_infinity_norms_keep_jaxs_nan(text):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    x = np.array([0.5, -1.0, np.nan, 2.0])
    theirs = np.asarray(jax.grad(lambda v: jnp.linalg.norm(v, jnp.inf))(x))
    ours = api.jacobian(text, {"x": x})["x"]
    assert np.isnan(theirs).all() and np.isnan(ours).all()


@pytest.mark.parametrize("text", ["torch.linalg.norm(x, float('inf'))", "x.norm(float('inf'))",
                                  "torch.norm(x, p=float('-inf'))", "torch.dist(x, 0 * x, float('inf'))"])
def test_every_pytorch_spelling_of_the_infinity_norm(text):
    torch = pytest.importorskip("torch")
    x = np.array([0.5, -1.0, np.nan, 2.0])
    t = torch.tensor(x, requires_grad=True)
    eval(text, {"torch": torch}, {"x": t}).backward()
    np.testing.assert_array_equal(api.jacobian(text, {"x": x})["x"], t.grad.numpy())
