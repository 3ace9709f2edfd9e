"""Parity with PyTorch 2.13 for the functions the twentieth session added (see tests/parity.py): the 3-d layers of
torch.nn.functional (conv3d, conv_transpose3d, max_pool3d, avg_pool3d, adaptive_avg_pool3d, adaptive_max_pool3d,
lp_pool3d) with their torch.* spellings, and max_unpool1d / 2d / 3d. Values, Jacobians, a VJP and (for a scalar) the
Hessian in float64 over several geometries (stride, padding, dilation, groups, ceil_mode, batched and unbatched),
ties and NaN in max pooling; values and Jacobians in float32."""

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from parity import assert_parity

torch = pytest.importorskip("torch")
F = torch.nn.functional
rng = np.random.default_rng(20)
X = rng.uniform(-1, 1, (2, 4, 4, 5, 3))       # (N, C, D, H, W)
W = rng.uniform(-1, 1, (6, 2, 2, 3, 2))       # 6 outputs, 4 channels in 2 groups
WT = rng.uniform(-1, 1, (4, 3, 2, 2, 3))      # transposed: (C, out / groups, kD, kH, kW)
c6 = rng.uniform(-1, 1, 6)
S = rng.uniform(-1, 1, (1, 2, 3, 4, 4))       # small, for Hessians
TIES3 = np.round(rng.uniform(-1, 1, (1, 2, 4, 4, 4)) * 2) / 2   # many ties inside and across windows
NANS3 = TIES3.copy()
NANS3[0, 0, 1, 1, [0, 1]] = np.nan            # two NaN in one window: PyTorch's scan picks the last
NANS3[0, 1, 0, 0, 0] = np.nan

CASES = [
    ("F.conv3d(X, W)", {"X": X, "W": W[:, :, :, :, :1].repeat(2, axis=1)},
     lambda X, W: F.conv3d(X, W)),
    ("F.conv3d(X, W, c, groups=2)", {"X": X, "W": W, "c": c6}, lambda X, W, c: F.conv3d(X, W, c, groups=2)),
    ("F.conv3d(X, W, stride=(2, 1, 2), padding=(1, 0, 2), dilation=(1, 2, 1), groups=2)", {"X": X, "W": W},
     lambda X, W: F.conv3d(X, W, stride=(2, 1, 2), padding=(1, 0, 2), dilation=(1, 2, 1), groups=2)),
    ("F.conv3d(X[0], W, padding='same', groups=2)", {"X": X, "W": W},
     lambda X, W: F.conv3d(X[0], W, padding="same", groups=2)),
    ("torch.conv3d(X, W, None, 2, 1, 1, 2)", {"X": X, "W": W},
     lambda X, W: torch.conv3d(X, W, None, 2, 1, 1, 2)),
    ("F.conv3d(X, W, padding='valid', groups=4)", {"X": X, "W": W[:4, :1]},
     lambda X, W: F.conv3d(X, W, padding="valid", groups=4)),
    ("(F.conv3d(S, W[:2, :1], groups=2) ** 2).sum()", {"S": S, "W": W},
     lambda S, W: (F.conv3d(S, W[:2, :1], groups=2) ** 2).sum()),
    ("F.conv_transpose3d(X, WT)", {"X": X, "WT": WT}, lambda X, WT: F.conv_transpose3d(X, WT)),
    ("F.conv_transpose3d(X, WT, c[:6], stride=(2, 1, 2), padding=(1, 0, 1), output_padding=(1, 0, 1), groups=2, "
     "dilation=(1, 2, 1))", {"X": X, "WT": WT, "c": c6},
     lambda X, WT, c: F.conv_transpose3d(X, WT, c[:6], stride=(2, 1, 2), padding=(1, 0, 1), output_padding=(1, 0, 1),
                                         groups=2, dilation=(1, 2, 1))),
    ("torch.conv_transpose3d(X[0], WT, None, 2, 0, 1, 4)", {"X": X, "WT": WT[:, :1]},
     lambda X, WT: torch.conv_transpose3d(X[0], WT[:, :1], None, 2, 0, 1, 4)),
    ("(F.conv_transpose3d(S, WT[:2], stride=2) ** 2).sum()", {"S": S, "WT": WT},
     lambda S, WT: (F.conv_transpose3d(S, WT[:2], stride=2) ** 2).sum()),
    ("F.max_pool3d(X, 2)", {"X": X}, lambda X: F.max_pool3d(X, 2)),
    ("torch.max_pool3d(X, (3, 2, 3), (1, 2, 2), (1, 1, 0), (1, 2, 1))", {"X": X},
     lambda X: torch.max_pool3d(X, (3, 2, 3), (1, 2, 2), (1, 1, 0), (1, 2, 1))),
    ("F.max_pool3d(X[0], 2, stride=1, padding=1)", {"X": X}, lambda X: F.max_pool3d(X[0], 2, stride=1, padding=1)),
    ("F.max_pool3d(X, 2, 1)", {"X": TIES3}, lambda X: F.max_pool3d(X, 2, 1)),
    ("F.max_pool3d(X, 3, 2, 1)", {"X": TIES3}, lambda X: F.max_pool3d(X, 3, 2, 1)),
    ("F.max_pool3d(X, 2, 1)", {"X": NANS3}, lambda X: F.max_pool3d(X, 2, 1)),
    ("F.max_pool3d(X, 2, ceil_mode=True)", {"X": TIES3}, lambda X: F.max_pool3d(X, 2, ceil_mode=True)),
    ("(F.max_pool3d(S, 2, 1) ** 2).sum()", {"S": S}, lambda S: (F.max_pool3d(S, 2, 1) ** 2).sum()),
    ("F.avg_pool3d(X, 2)", {"X": X}, lambda X: F.avg_pool3d(X, 2)),
    ("F.avg_pool3d(X, (3, 2, 2), stride=(1, 2, 1), padding=(1, 1, 0), count_include_pad=False)", {"X": X},
     lambda X: F.avg_pool3d(X, (3, 2, 2), stride=(1, 2, 1), padding=(1, 1, 0), count_include_pad=False)),
    ("F.avg_pool3d(X[0], 2, padding=1, divisor_override=3)", {"X": X},
     lambda X: F.avg_pool3d(X[0], 2, padding=1, divisor_override=3)),
    ("F.avg_pool3d(X, 2, 1, ceil_mode=True)", {"X": X}, lambda X: F.avg_pool3d(X, 2, 1, ceil_mode=True)),
    ("F.adaptive_avg_pool3d(X, (3, 2, 2))", {"X": X}, lambda X: F.adaptive_avg_pool3d(X, (3, 2, 2))),
    ("F.adaptive_avg_pool3d(X[1], 2)", {"X": X}, lambda X: F.adaptive_avg_pool3d(X[1], 2)),
    ("F.adaptive_avg_pool3d(X, (5, 7, 1))", {"X": X}, lambda X: F.adaptive_avg_pool3d(X, (5, 7, 1))),
    ("F.adaptive_max_pool3d(X, (3, 2, 2))", {"X": X}, lambda X: F.adaptive_max_pool3d(X, (3, 2, 2))),
    ("F.adaptive_max_pool3d(X, (3, 3, 3))", {"X": TIES3}, lambda X: F.adaptive_max_pool3d(X, (3, 3, 3))),
    ("F.adaptive_max_pool3d(X[0], 2)", {"X": NANS3}, lambda X: F.adaptive_max_pool3d(X[0], 2)),
    ("(F.adaptive_avg_pool3d(S, (2, 3, 2)) ** 2).sum()", {"S": S},
     lambda S: (F.adaptive_avg_pool3d(S, (2, 3, 2)) ** 2).sum()),
    ("F.lp_pool3d(X, 2, (2, 3, 2))", {"X": X + 2}, lambda X: F.lp_pool3d(X, 2, (2, 3, 2))),
    ("F.lp_pool3d(X, 3.0, 2, stride=1)", {"X": X + 2}, lambda X: F.lp_pool3d(X, 3.0, 2, stride=1)),
    ("F.lp_pool3d(X[0], 1.5, (1, 2, 3))", {"X": X + 2}, lambda X: F.lp_pool3d(X[0], 1.5, (1, 2, 3))),
    ("F.lp_pool3d(X, float('inf'), 2)", {"X": X}, lambda X: F.lp_pool3d(X, float("inf"), 2)),
]


@pytest.mark.parametrize("case", CASES, ids=[f"{i}:{c[0]}" for i, c in enumerate(CASES)])
def test_the_3d_layers_match_pytorch(case):
    expr, inputs, fn = case
    assert_parity(expr, inputs, fn)


FLOAT32 = [c for c in CASES if "**" not in c[0] and "nan" not in str(c[1].get("X", 0))]


@pytest.mark.parametrize("case", FLOAT32, ids=[f"{i}:{c[0]}" for i, c in enumerate(FLOAT32)])
def test_the_3d_layers_match_pytorch_in_float32(case):
    expr, inputs, fn = case
    value = np.asarray(api.evaluate(expr, inputs, dtype="float32"))
    assert value.dtype == np.float32
    tensors = {k: torch.tensor(v, dtype=torch.float32) for k, v in inputs.items()}
    theirs = fn(**tensors).numpy()
    np.testing.assert_allclose(value, theirs, rtol=2e-5, atol=2e-6, equal_nan=True)
    name = next(iter(inputs))
    ours = np.asarray(api.jacobian(expr, inputs, wrt=[name], dtype="float32")[name])
    rest = {k: t for k, t in tensors.items() if k != name}
    J = torch.autograd.functional.jacobian(lambda t: fn(**{name: t}, **rest), tensors[name]).numpy()
    np.testing.assert_allclose(ours, J, rtol=2e-5, atol=2e-6, equal_nan=True)


def _pooled(nd: int, x: np.ndarray, **kw):
    y, i = getattr(F, f"max_pool{nd}d")(torch.tensor(x), return_indices=True, **kw)
    return y.numpy(), i.numpy().astype(np.float64)


UNPOOL = [  # (nd, max_pool's geometry, the unpool's arguments after (y, i), the input's shape)
    (1, {"kernel_size": 2}, "2", (2, 3, 8)),
    (1, {"kernel_size": 3, "stride": 3, "padding": 1}, "3, 3, 1, output_size=[8]", (3, 8)),
    (1, {"kernel_size": 2}, "2, output_size=[9]", (2, 3, 8)),
    (2, {"kernel_size": 2}, "2", (2, 3, 4, 6)),
    (2, {"kernel_size": (2, 3), "stride": (2, 3)}, "(2, 3), output_size=(5, 7)", (1, 2, 4, 6)),
    (2, {"kernel_size": 3, "stride": 3, "padding": 1}, "3, 3, 1, output_size=(5, 5)", (2, 5, 5)),
    (3, {"kernel_size": 2}, "2", (1, 2, 4, 4, 4)),
    (3, {"kernel_size": 2}, "2, output_size=(1, 2, 5, 4, 5)", (1, 2, 4, 4, 4)),
    (3, {"kernel_size": (1, 2, 2), "stride": (1, 2, 2)}, "(1, 2, 2)", (2, 3, 4, 4)),
]


@pytest.mark.parametrize("case", UNPOOL, ids=[f"{c[0]}d:{c[2]}" for c in UNPOOL])
def test_max_unpool_matches_pytorch(case):
    nd, pool, written, shape = case
    y, i = _pooled(nd, rng.uniform(-1, 1, shape), **pool)
    expr = f"F.max_unpool{nd}d(y, i, {written})"
    ti = torch.tensor(i.astype(np.int64))
    call = eval(f"lambda y: F.max_unpool{nd}d(y, ti, {written})", {"F": F, "ti": ti})  # noqa: S307 - the test's own
    assert_parity(expr, {"y": y, "i": i}, lambda y, i: call(y), differs=("hessian",))
    J = np.asarray(api.jacobian(expr, {"y": y, "i": i}, wrt=["i"])["i"])
    assert not J.any()  # the indices carry no derivative


def test_max_unpool_after_overlapping_windows_refuses_a_repeated_index():
    y, i = _pooled(1, np.array([[0.0, 3.0, 1.0, 0.5, 0.2]]), kernel_size=2, stride=1)  # 3.0 wins two windows
    assert (np.bincount(i.astype(int).ravel()) > 1).any()
    with pytest.raises(JacError, match="appears more than once"):
        api.evaluate("F.max_unpool1d(y, i, 2, 1)", {"y": y, "i": i})


REFUSED = [  # what PyTorch 2.13 refuses, jac refuses naming the argument
    ("F.conv3d(X, W)", "groups=1 must divide"),
    ("F.conv3d(X[0, 0], W)", "must be \\(N, C, D, H, W\\)"),
    ("F.conv3d(X, W[0], groups=2)", "5 dimensions"),
    ("F.conv3d(X, W, groups=2, stride=(1, 2))", "stride must be one integer or 3"),
    ("F.conv3d(X, W, groups=2, padding='same', stride=2)", "padding='same' is not supported for strided"),
    ("F.conv3d(X, W, groups=2, dilation=0)", "dilation must be >= 1"),
    ("F.conv_transpose3d(X, WT, output_padding=1)", "output padding must be smaller"),
    ("F.conv_transpose3d(X, W)", "first dimension must be the input's 4 channels"),
    ("F.max_pool3d(X, 2, padding=2)", "at most half"),
    ("F.max_pool3d(X, 6)", "more than"),
    ("F.avg_pool3d(X, 2, divisor_override=0)", "divisor_override"),
    ("F.adaptive_avg_pool3d(X, (2, 2))", "one integer or 3"),
    ("F.adaptive_max_pool3d(X, 0)", ">= 1"),
    ("F.lp_pool3d(X, 0, 2)", "norm_type"),
    ("F.max_unpool2d(Y, I, 2)", "indices must have the input's shape"),
    ("F.max_unpool2d(Y, torch.tensor([[[16, 0], [1, 2]]]), 2)", "invalid max index 16"),
    ("F.max_unpool2d(Y, torch.tensor([[[0, -1], [1, 2]]]), 2)", "invalid max index -1"),
    ("F.max_unpool2d(Y, [[[0, 0.5], [1, 2]]], 2)", "integers"),
    ("F.max_unpool2d(Y, I[0], 2, output_size=(6, 5))", "between 2 and 6"),
    ("F.max_unpool2d(Y, I[0], 2, output_size=(4,))", "2 or 4 integers"),
    ("F.max_unpool2d(Y, Y * 0, 2)", "constant array of integers"),
]
VALUES = {"X": X, "W": W, "WT": WT, "Y": np.ones((1, 2, 2)), "I": np.zeros((2, 1, 2, 2))}


@pytest.mark.parametrize("expr, words", REFUSED, ids=[c[0] for c in REFUSED])
def test_what_pytorch_refuses_is_refused_naming_the_argument(expr, words):
    with pytest.raises(JacError, match=words):
        api.evaluate(expr, {k: v for k, v in VALUES.items() if k in expr})


I = np.array([12.0, -18.0, 0.0, 7.0, 5.0, -100.0, 64.0])
K = np.array([18.0, 12.0, 0.0, 0.0, -3.0, 7.0, 70.0])
INTEGER = [  # PyTorch's integer functions of integers computed from the inputs: values to the bit, dtype kept
    ("torch.gcd(i.long(), k.long())", lambda i, k: torch.gcd(i.long(), k.long())),
    ("torch.lcm(i.long(), k.long())", lambda i, k: torch.lcm(i.long(), k.long())),
    ("torch.lcm(i.to(torch.int8), k.to(torch.int8))", lambda i, k: torch.lcm(i.to(torch.int8), k.to(torch.int8))),
    ("i.long().gcd(torch.tensor(4))", lambda i, k: i.long().gcd(torch.tensor(4))),
    ("torch.bitwise_left_shift(i.long(), k.long().abs())", lambda i, k: torch.bitwise_left_shift(i.long(),
                                                                                                 k.long().abs())),
    ("torch.bitwise_left_shift(i.to(torch.int8), 3)", lambda i, k: torch.bitwise_left_shift(i.to(torch.int8), 3)),
    ("torch.bitwise_right_shift(i.long(), k.long())", lambda i, k: torch.bitwise_right_shift(i.long(), k.long())),
    ("i.int().bitwise_right_shift(40)", lambda i, k: i.int().bitwise_right_shift(40)),
    ("torch.gcd(i.long(), k.long()) // 4", lambda i, k: torch.gcd(i.long(), k.long()) // 4),
]


@pytest.mark.parametrize("code, fn", INTEGER, ids=[c[0] for c in INTEGER])
def test_integer_functions_are_pytorchs(code, fn):
    theirs = fn(torch.tensor(I), torch.tensor(K))
    assert theirs.dtype != torch.float64
    np.testing.assert_array_equal(api.evaluate(code, {"i": I, "k": K}), theirs.numpy().astype(np.float64))
    J = api.jacobian(f"({code}) * i", {"i": I, "k": K})
    np.testing.assert_array_equal(J["i"], np.diag(theirs.numpy().astype(np.float64)))


def test_gcd_and_lcm_at_the_dtypes_minimum_are_pytorchs_own():
    """PyTorch's Euclid runs on |a| with C's remainder, so the minimum (its own absolute value) gives gcd(6, -128)
    = -2 for int8 tensors where NumPy gives 2; jac computes each library's."""
    for dtype in ("int8", "int16", "int32", "int64"):
        low = np.iinfo(dtype).min
        a, b = [low, low, low, 0, 6, 10, low], [0, low, 3, low, low, -4, 2]
        code = f"torch.{{}}(torch.tensor({a}, dtype=torch.{dtype}), torch.tensor({b}, dtype=torch.{dtype}))"
        for f in ("gcd", "lcm"):
            theirs = getattr(torch, f)(torch.tensor(a, dtype=getattr(torch, dtype)),
                                       torch.tensor(b, dtype=getattr(torch, dtype))).numpy()
            np.testing.assert_array_equal(api.evaluate(code.format(f)), theirs.astype(np.float64))
        np.testing.assert_array_equal(api.evaluate(code.format("gcd").replace("torch.", "np.")),
                                      np.gcd(np.array(a, dtype), np.array(b, dtype)).astype(np.float64))


def test_lcm_where_pytorch_divides_the_minimum_by_minus_one_is_refused():
    # gcd(-2**63, 7) is -1 in PyTorch's loop (2**63 = 1 mod 7), and its lcm divides -2**63 by -1: SIGFPE
    with pytest.raises(JacError, match="SIGFPE"):
        api.evaluate("torch.lcm(torch.tensor([-2**63]), torch.tensor([7]))")


POLYNOMIALS = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
               "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
               "shifted_chebyshev_polynomial_w", "hermite_polynomial_h", "hermite_polynomial_he",
               "laguerre_polynomial_l", "legendre_polynomial_p"]
P_EDGES = np.array([1.0, -1.0, 0.0, -0.0, 0.5, 1e-300, 2.0, -3.0, 1 - 2**-53, -1 + 2**-53, 1 - 2**-40, -1 + 2**-40,
                    np.inf, -np.inf])


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomial_values_are_pytorchs(name, dtype):
    """Within rounding of PyTorch's (its recurrences, closed forms for a large degree, and the ends), over random
    points in and beyond [-1, 1] (the shifted ones' [0, 1]) and the edges; both NaN where PyTorch's is."""
    x = np.concatenate([rng.uniform(-1.3, 1.3, 60), rng.uniform(-0.2, 1.2, 30), P_EDGES]).astype(dtype)
    f = getattr(torch.special, name)
    for n in [-2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 30, 100, "torch.tensor([[1], [7], [12]])"]:
        degree = torch.tensor([[1], [7], [12]]) if isinstance(n, str) else n
        theirs = f(torch.tensor(x), degree).numpy()
        ours = np.asarray(api.evaluate(f"torch.special.{name}(x, {n})", {"x": x}, dtype=dtype))
        assert ours.dtype == np.dtype(dtype) and ours.shape == theirs.shape
        tol = 5e-13 if dtype == "float64" else 2e-4
        both = np.isfinite(theirs)
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs), err_msg=f"{name} n={n}")
        scale = max(1, n if isinstance(n, int) else 12)  # rounding grows with the degree (and at the ends, where
        np.testing.assert_allclose(ours[both], theirs[both], rtol=tol * scale, atol=tol,  # PyTorch gives ±1's value)
                                   err_msg=f"{name} n={n}")


@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomial_derivative_by_x_is_the_next_polynomials(name):
    """PyTorch has no derivative of them ("not implemented"); jac's, checked against the classical identities
    computed by PyTorch: T' = n U_{n-1}, U' = ((n+1) T_{n+1} - x U_n) / (x² - 1), H' = 2n H_{n-1}, He' = n He_{n-1},
    L' = (n L_n - n L_{n-1}) / x, P' = n (x P_n - P_{n-1}) / (x² - 1); V, W and the shifted ones by central
    differences of PyTorch's values."""
    x = np.array([-0.83, -0.31, 0.12, 0.58, 0.94]) if not name.startswith("shifted") else \
        np.array([0.04, 0.31, 0.52, 0.77, 0.93])
    f = getattr(torch.special, name)
    for n in (2, 5, 9, 14):
        J = np.diag(np.asarray(api.jacobian(f"torch.special.{name}(x, {n})", {"x": x})["x"]))
        X = torch.tensor(x)

        def p(k):
            return f(X, k).numpy()
        expected = {
            "chebyshev_polynomial_t": lambda: n * torch.special.chebyshev_polynomial_u(X, n - 1).numpy(),
            "chebyshev_polynomial_u": lambda: ((n + 1) * torch.special.chebyshev_polynomial_t(X, n + 1).numpy()
                                               - x * p(n)) / (x ** 2 - 1),
            "hermite_polynomial_h": lambda: 2 * n * p(n - 1),
            "hermite_polynomial_he": lambda: n * p(n - 1),
            "laguerre_polynomial_l": lambda: n * (p(n) - p(n - 1)) / x,
            "legendre_polynomial_p": lambda: n * (x * p(n) - p(n - 1)) / (x ** 2 - 1),
        }.get(name, lambda: (f(X + 1e-6, n).numpy() - f(X - 1e-6, n).numpy()) / 2e-6)()
        np.testing.assert_allclose(J, expected, rtol=1e-6 if name not in ("chebyshev_polynomial_t",
                                   "hermite_polynomial_h", "hermite_polynomial_he") else 1e-12, atol=1e-7)
