"""Session 36's distributions (lang/distributions.py): Wishart and LKJCholesky, the mode of Beta, Dirichlet and
Wishart (Kumaraswamy's refused: PyTorch's is NaN at every parameter), and GeneralizedPareto's series at |c| <= 1e-8
(derivatives by the concentration exact to every order jac computes). Values against PyTorch, Jacobians against
torch.autograd.functional.jacobian and central differences (float64), batches, PyTorch's refusals refused. Parity
parts skip without PyTorch."""

import math

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from test_dists33 import _central

pytestmark = pytest.mark.filterwarnings("ignore:Low df values detected")

HEAD = ("import torch\nfrom torch.distributions import Wishart, LKJCholesky, Beta, Dirichlet, Kumaraswamy, "
        "GeneralizedPareto, kl_divergence\n")
S = np.array([[2.0, 0.3], [0.3, 1.0]])
L = np.array([[1.3, 0.0], [0.4, 0.9]])
X = np.array([[2.0, 0.5], [0.5, 1.0]])
C3 = np.array([[1.0, 0.0, 0.0], [0.6, 0.8, 0.0], [0.0, 0.6, 0.8]])
LB = np.stack([L, np.array([[0.7, 0.0], [-0.2, 1.1]])])  # a batch of two factors
XB = np.stack([X, np.array([[1.0, -0.3], [-0.3, 0.5]])])
# (text, values, the inputs to differentiate)
CASES = [
    ("Wishart(df, covariance_matrix=S).log_prob(X)", {"df": np.array(4.0), "S": S, "X": X}, ("df", "S", "X")),
    ("Wishart(df, precision_matrix=S).log_prob(X)", {"df": np.array(3.0), "S": S, "X": X}, ("df", "S", "X")),
    ("Wishart(df, scale_tril=L).log_prob(X)", {"df": np.array([4.0, 2.5]), "L": L, "X": X}, ("df", "L", "X")),
    ("Wishart(df, scale_tril=L).log_prob(X)", {"df": np.array([4.0, 2.5]), "L": LB, "X": XB}, ("df", "L", "X")),
    ("Wishart(3.5, scale_tril=L).log_prob(X)", {"L": LB, "X": X}, ("L", "X")),
    ("Wishart(df, scale_tril=L).entropy()", {"df": np.array([4.0, 1.5]), "L": L}, ("df", "L")),
    ("Wishart(df, covariance_matrix=S).entropy()", {"df": np.array(2.2), "S": S}, ("df", "S")),
    ("Wishart(df, scale_tril=L).mean", {"df": np.array([4.0, 2.5]), "L": L}, ("df", "L")),
    ("Wishart(df, scale_tril=L).variance", {"df": np.array([4.0, 2.5]), "L": LB}, ("df", "L")),
    ("Wishart(df, covariance_matrix=S).stddev", {"df": np.array(4.0), "S": S}, ("df", "S")),
    ("Wishart(df, scale_tril=L).mode", {"df": np.array(4.5), "L": LB}, ("df", "L")),
    ("Wishart(df, scale_tril=L).precision_matrix", {"df": np.array(4.0), "L": L}, ("L",)),
    ("Wishart(df, precision_matrix=S).covariance_matrix", {"df": np.array(4.0), "S": S}, ("S",)),
    ("Wishart(df, covariance_matrix=S).covariance_matrix + Wishart(df, precision_matrix=S).precision_matrix",
     {"df": np.array(4.0), "S": S}, ("S",)),
    ("Wishart(df, covariance_matrix=S).mode", {"df": np.array([4.0, 5.0]), "S": S}, ("df", "S")),
    ("LKJCholesky(3, c).log_prob(V)", {"c": np.array([0.7, 2.0]), "V": C3}, ("c", "V")),
    ("LKJCholesky(2, c).log_prob(V)", {"c": np.array(1.5), "V": np.array([[1.0, 0.0], [0.6, 0.8]])}, ("c", "V")),
    ("LKJCholesky(3).log_prob(V)", {"V": np.stack([C3, np.eye(3)])}, ("V",)),
    ("Beta(a, b).mode", {"a": np.array([2.0, 0.5, 0.5, 3.0, 1.2]), "b": np.array([2.0, 2.0, 0.5, 1.3, 3.0])},
     ("a", "b")),
    ("Dirichlet(c).mode", {"c": np.array([[0.5, 0.3, 0.9], [0.2, 0.3, 2.0], [2.0, 3.0, 1.5], [0.3, 1.2, 4.0]])},
     ("c",)),
]


def _torch_eval(text, values, **override):
    torch = pytest.importorskip("torch")
    import torch.distributions as dists
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        env = {"torch": torch, **{k: getattr(dists, k) for k in dists.__all__},
               **{k: torch.tensor(v) for k, v in values.items()}, **override}
        return eval(text, env)  # noqa: S307 - the test's own texts
    finally:
        torch.set_default_dtype(default)


@pytest.mark.parametrize("text, values, wrt", CASES, ids=[f"{t[:60]}-{i}" for i, (t, _, _) in enumerate(CASES)])
def test_values_and_jacobians_are_pytorchs_and_the_slopes(text, values, wrt):
    torch = pytest.importorskip("torch")
    ours = np.asarray(api.evaluate(HEAD + text, values))
    theirs = _torch_eval(text, values).detach().numpy()
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-13)
    jac = api.jacobian(HEAD + text, values, wrt=list(wrt))
    for k in wrt:
        expect = torch.autograd.functional.jacobian(lambda v, k=k: _torch_eval(text, values, **{k: v}),
                                                    torch.tensor(values[k])).numpy()
        np.testing.assert_allclose(jac[k], expect, rtol=1e-8, atol=1e-10, err_msg=k)
        if k == "L":  # a factor's entries above its diagonal are refused (cholesky_solve): the triangle's alone
            lower = np.broadcast_to(np.tril(np.ones(L.shape, dtype=bool)), values[k].shape)
            ours, slopes = jac[k][..., lower], _central_at(HEAD + text, values, k, lower)
        else:  # a Cholesky factor of a correlation moved off its rows' unit norm: PyTorch's check off
            plain = text.replace(")", ", validate_args=False)", 1) if "LKJ" in text else text
            ours, slopes = jac[k], _central(HEAD + plain, values, k)
        np.testing.assert_allclose(ours, slopes, rtol=1e-5, atol=1e-6, err_msg=k)


def _central_at(code, values, name, mask, h=1e-6):
    """Central differences by the entries of input ``name`` where ``mask`` holds, stacked on the last axis."""
    out = []
    for index in zip(*np.nonzero(mask)):
        up, down = values[name].copy(), values[name].copy()
        up[index] += h
        down[index] -= h
        f = [np.asarray(api.evaluate(code, {**values, name: v})) for v in (up, down)]
        out.append((f[0] - f[1]) / (2 * h))
    return np.stack(out, axis=-1)


def test_the_modes_edges_are_pytorchs_nan_and_one_hot_and_their_derivatives_its_where_defined():
    """Beta / Dirichlet: clamp(c - 1, 0) normalised; 0 / 0 (NaN) where no concentration passes 1 but one is 1; the
    first category where all are below 1 (PyTorch's argmax of a NaN row). The derivative of each element is
    PyTorch's (grad of the sum: the elements are independent), NaN where the mode is 0 / 0."""
    torch = pytest.importorskip("torch")
    values = {"a": np.array([1.0, 1.0, 0.7, 0.5, 2.0, 1.0]), "b": np.array([1.0, 0.3, 1.0, 0.5, 1.0, 2.0])}
    ours = api.evaluate(HEAD + "Beta(a, b).mode", values)
    np.testing.assert_array_equal(ours, [np.nan, np.nan, np.nan, 1.0, 1.0, 0.0])
    jac = api.jacobian(HEAD + "Beta(a, b).mode", values)
    ta, tb = (torch.tensor(values[k], requires_grad=True) for k in "ab")
    _torch_eval("Beta(a, b).mode", {}, a=ta, b=tb).sum().backward()
    np.testing.assert_array_equal(np.diag(jac["a"]), ta.grad.numpy())
    np.testing.assert_array_equal(np.diag(jac["b"]), tb.grad.numpy())
    rows = np.array([[0.2, 0.9], [1.0, 1.0], [1.0, 0.5], [0.5, 3.0]])
    np.testing.assert_array_equal(api.evaluate(HEAD + "Dirichlet(c).mode", {"c": rows}),
                                  [[1.0, 0.0], [np.nan, np.nan], [np.nan, np.nan], [0.0, 1.0]])


def test_wishart_mode_is_nan_where_df_is_at_most_p_plus_1_and_its_derivatives_finite_elsewhere():
    """PyTorch's Jacobian by a factor the batch shares is NaN in every row (0 · NaN from the NaN element); jac's rows
    of the element whose mode is a number are its derivative."""
    values = {"df": np.array([4.0, 2.5]), "L": L}
    mode = api.evaluate(HEAD + "Wishart(df, scale_tril=L).mode", values)
    assert np.isnan(mode[1]).all() and np.isfinite(mode[0]).all()
    jac = api.jacobian(HEAD + "Wishart(df, scale_tril=L).mode", values, wrt=["L"])["L"]
    lower = np.tril(np.ones((2, 2), dtype=bool))
    np.testing.assert_allclose(jac[0][..., lower], _central_at(HEAD + "Wishart(df, scale_tril=L).mode", values, "L",
                                                               lower)[0], rtol=1e-6)
    assert np.isnan(jac[1]).all()


REFUSED = [  # PyTorch raises at these values or for these methods: jac refuses
    ("Wishart(df, covariance_matrix=S).log_prob(X)", {"df": np.array(0.5)}, "greater than ndim - 1 = 1"),
    ("Wishart(df, covariance_matrix=S, validate_args=False).log_prob(X)", {"df": np.array([3.0, 1.0])},
     "greater than ndim - 1 = 1"),
    ("Wishart(df, covariance_matrix=S).log_prob(X)", {"S": np.array([[1.0, 2.0], [2.0, 1.0]])}, "PositiveDefinite"),
    ("Wishart(df, covariance_matrix=S).mean", {"S": np.array([[1.0, 0.2], [0.3, 1.0]])}, "PositiveDefinite"),
    ("Wishart(df, covariance_matrix=S, validate_args=False).log_prob(X)", {"S": np.array([[1.0, 2.0], [2.0, 1.0]])},
     "not positive definite"),
    ("Wishart(df, scale_tril=S).entropy()", {"S": np.array([[-1.0, 0.0], [0.2, 1.0]])}, "LowerCholesky"),
    ("Wishart(df, covariance_matrix=S).log_prob(X)", {"X": np.array([[1.0, 2.0], [2.0, 1.0]])}, "support"),
    ("Wishart(df, covariance_matrix=S).log_prob(X)", {"X": np.eye(3)}, "event's"),
    ("Wishart(df, covariance_matrix=S, scale_tril=S).mean", {}, "Exactly one"),
    ("Wishart(df, covariance_matrix=df).mean", {}, "two-dimensional"),
    ("Wishart(df, covariance_matrix=S).cdf(X)", {}, "NotImplementedError"),
    ("Wishart(df, covariance_matrix=S).rsample()", {}, "Bartlett"),
    ("Wishart(df, covariance_matrix=S).sample()", {}, "bind the draw"),
    ("kl_divergence(Wishart(df, covariance_matrix=S), Wishart(df, covariance_matrix=X))", {}, "Bregman"),
    ("LKJCholesky(1, c).log_prob(V)", {"V": np.ones((1, 1))}, "greater than or equal to 2"),
    ("LKJCholesky(2, c).log_prob(V)", {"c": np.array(-1.0)}, "Dirichlet"),
    ("LKJCholesky(2, c, validate_args=False).log_prob(V)", {"c": np.array([1.0, 0.0])}, "Dirichlet"),
    ("LKJCholesky(2, c).log_prob(V)", {"V": np.array([[1.0, 0.0], [0.6, 0.9]])}, "CorrCholesky"),
    ("LKJCholesky(2, c).log_prob(V)", {"V": np.array([[1.0, 0.1], [0.6, 0.8]])}, "CorrCholesky"),
    ("LKJCholesky(2, c).log_prob(V)", {"V": np.array([[-1.0, 0.0], [0.6, 0.8]])}, "CorrCholesky"),
    ("LKJCholesky(2, c).log_prob(V)", {"V": C3}, "event's"),
    ("LKJCholesky(2, c).mean", {}, "NotImplementedError"),
    ("LKJCholesky(2, c).entropy()", {}, "NotImplementedError"),
    ("LKJCholesky(2, c).mode", {}, "NotImplementedError"),
    ("LKJCholesky(2, c).rsample()", {}, "NotImplementedError"),
    ("kl_divergence(LKJCholesky(2, c), LKJCholesky(2, c))", {}, "NotImplementedError"),
]


@pytest.mark.parametrize("text, extra, words", REFUSED, ids=[f"{t[:60]}-{i}" for i, (t, _, _) in enumerate(REFUSED)])
def test_what_pytorch_refuses_is_refused(text, extra, words):
    values = {"df": np.array(4.0), "S": S, "X": X, "c": np.array(1.5), "V": np.array([[1.0, 0.0], [0.6, 0.8]]),
              **extra}
    with pytest.raises(JacError, match=words):
        api.evaluate(HEAD + text, values)
    if pytest.importorskip("torch") and "sample" not in text and "kl_divergence(Wishart" not in text:
        with pytest.raises(Exception):  # noqa: B017, PT011 - PyTorch's own ValueError / NotImplementedError
            _torch_eval(text, values)


def test_validate_args_false_answers_where_pytorch_answers():
    for text, extra in (("Wishart(df, scale_tril=L, validate_args=False).log_prob(X)",
                         {"X": np.array([[1.0, 2.0], [2.0, 1.0]])}),
                        ("LKJCholesky(2, c, validate_args=False).log_prob(V)",
                         {"V": np.array([[1.0, 0.0], [0.6, 0.9]])})):
        values = {"df": np.array(3.0), "L": L, "c": np.array(1.5), **extra}
        np.testing.assert_allclose(api.evaluate(HEAD + text, values), _torch_eval(text, values).numpy(), rtol=1e-13)


def test_kumaraswamy_mode_is_refused_saying_pytorchs_is_nan():
    torch = pytest.importorskip("torch")
    values = {"a": np.array([3.0, 1.0, 3.0]), "b": np.array([1.0, 3.0, 5.0])}
    assert torch.isnan(_torch_eval("Kumaraswamy(a, b).mode", values)).all()  # drop the refusal once PyTorch's is not
    with pytest.raises(JacError, match="NaN at every parameter"):
        api.evaluate(HEAD + "Kumaraswamy(a, b).mode", values)


# --- GeneralizedPareto at |concentration| <= 1e-8 ------------------------------------------------------------------

def _gpd_exact(method: str, z: float, log1m: float, k: int) -> float:
    """The k-th derivative by c at c = 0 of log_prob (-(1/c + 1) log1p(c z) - log scale, scale 1) and icdf (loc +
    expm1(-c L) / c), from their Taylor coefficients."""
    if method == "log_prob":
        return -math.factorial(k) * ((-1) ** k * z ** (k + 1) / (k + 1) + (-1) ** (k + 1) * z ** k / k)
    return math.factorial(k) * (-log1m) ** (k + 1) / math.factorial(k + 1)


@pytest.mark.parametrize("method", ["log_prob", "icdf"])
@pytest.mark.parametrize("order", [1, 2, 3, 4, 6])
def test_generalized_pareto_derivatives_by_the_concentration_at_zero_are_the_functions_to_high_orders(method, order):
    """Session 35 gave the first and second derivatives; the third and higher were 0 (the series stopped at c²)."""
    values = {"m": np.array(0.5), "s": np.array(1.0), "c": np.array(0.0), "x": np.array(1.7), "p": np.array(0.3)}
    code = HEAD + f"GeneralizedPareto(m, s, c).{method}({'x' if method == 'log_prob' else 'p'})"
    got = float(np.asarray(api.derivative(code, values, order=order, wrt=["c"])))
    np.testing.assert_allclose(got, _gpd_exact(method, 1.2, math.log1p(-0.3), order), rtol=1e-9, atol=1e-13)


def test_generalized_pareto_series_near_zero_agree_with_central_differences_of_the_closed_form():
    """At c = 5e-9 (PyTorch's branch without c) the third derivative by c is the closed form's, whose differences
    at c = 1e-3 steps stand in for it (the closed form is smooth through 0)."""
    for method, arg, value in (("log_prob", "x", 3.0), ("cdf", "x", 3.0), ("icdf", "p", 0.6)):
        values = {"m": np.array(0.5), "s": np.array(1.3), "c": np.array(5e-9), arg: np.array(value)}
        code = HEAD + f"GeneralizedPareto(m, s, c).{method}({arg})"
        h = 1e-3
        f = {k: float(api.evaluate(code, {**values, "c": np.array(k * h)})) for k in (-2, -1, 1, 2)}
        third = (f[2] - 2 * f[1] + 2 * f[-1] - f[-2]) / (2 * h ** 3)
        got = float(np.asarray(api.derivative(code, values, order=3, wrt=["c"])))
        np.testing.assert_allclose(got, third, rtol=1e-4, err_msg=method)


def test_generalized_pareto_series_cover_the_orders_jac_computes():
    from jacobi_cli.engine.higher import MAX_ORDER
    from jacobi_cli.lang.distributions import GPD_ORDERS
    assert GPD_ORDERS >= MAX_ORDER


def test_generalized_pareto_at_zero_keeps_pytorchs_infinities_and_refuses_beyond_the_series_reach():
    inf = {"m": np.array(0.0), "s": np.array(1.0), "c": np.array(0.0), "x": np.array(np.inf), "p": np.array(1.0)}
    assert api.evaluate(HEAD + "GeneralizedPareto(m, s, c).log_prob(x)", inf) == -np.inf  # was NaN
    assert api.evaluate(HEAD + "GeneralizedPareto(m, s, c).cdf(x)", inf) == 1.0
    assert api.evaluate(HEAD + "GeneralizedPareto(m, s, c).icdf(p)", {**inf, "c": np.array(1e-9)}) == np.inf
    far = {"m": np.array(0.0), "s": np.array(1.0), "c": np.array(1e-9), "x": np.array(2e7)}
    with pytest.raises(JacError, match="series"):
        api.evaluate(HEAD + "GeneralizedPareto(m, s, c).log_prob(x)", far)
    assert api.evaluate(HEAD + "GeneralizedPareto(m, s, c).log_prob(x)", {**far, "c": np.array(0.0)}) == -2e7


def test_the_refusal_of_an_unread_class_counts_classes_and_functions():
    with pytest.raises(JacError, match=r"jac reads \d+ classes and functions"):
        api.evaluate("import torch\ntorch.distributions.LKJCorr(2, 1.0).mean", {})


def test_the_submodule_spellings_are_pytorchs_own_and_read_as_the_package_names():
    """from torch.distributions.multivariate_normal import MultivariateNormal (and torch.distributions.normal.Normal)
    read as torch.distributions.MultivariateNormal; each submodule has only its own names."""
    import importlib

    pytest.importorskip("torch")
    from jacobi_cli.lang.distributions import SUBMODULES
    for name, sub in SUBMODULES.items():
        module = importlib.import_module(f"torch.distributions.{sub}")
        assert getattr(module, name) is getattr(importlib.import_module("torch.distributions"), name), name
    values = {"x": np.array([0.3, -0.2]), "m": np.array(0.5)}
    plain = api.evaluate("import torch\ntorch.distributions.MultivariateNormal(m * torch.ones(2), torch.eye(2))"
                         ".log_prob(x)", values)
    for text in ("from torch.distributions.multivariate_normal import MultivariateNormal\nMultivariateNormal(m * "
                 "torch.ones(2), torch.eye(2)).log_prob(x)",
                 "torch.distributions.multivariate_normal.MultivariateNormal(m * torch.ones(2), torch.eye(2))"
                 ".log_prob(x)"):
        assert api.evaluate("import torch\n" + text, values) == plain
    with pytest.raises(JacError, match="of torch.distributions.normal, jac reads Normal"):
        api.evaluate("import torch\ntorch.distributions.normal.Gamma(m, 1.0).mean", values)


def test_weibull_mode_is_nan_where_the_concentration_is_below_1_not_pytorchs_wrong_numbers():
    """PyTorch 2.13: scale ((k - 1) / k) ** (1 / k) for every k: NaN below 1 but where 1 / k is an integer, 2.0 at
    k = 0.5, 162 at 0.25, -2048 (outside the support) at 0.2 (pytorch/pytorch#198186). jac: NaN below 1."""
    values = {"s": np.array([2.0, 2.0, 2.0, 2.0, 2.0]), "k": np.array([0.7, 0.5, 0.25, 0.2, 1.5])}
    ours = api.evaluate("import torch\ntorch.distributions.Weibull(s, k).mode", values)
    assert np.isnan(ours[:4]).all()
    np.testing.assert_allclose(ours[4], 2.0 * (1 / 3) ** (1 / 1.5), rtol=1e-15)
    theirs = _torch_eval("Weibull(s, k).mode", values).numpy()
    np.testing.assert_allclose(theirs[1:4], [2.0, 162.0, -2048.0])  # drop the pin once PyTorch's is fixed
