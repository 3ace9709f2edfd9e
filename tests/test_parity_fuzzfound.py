"""What the differential fuzz (benchmarks/torch_fuzz.py: random programs in PyTorch spelling, run by PyTorch
and by jac) found jac answering differently from PyTorch, each against PyTorch (tests/parity.py) and at the
values that showed it.

- A kernel dropped ``x + 0`` as an identity: at x = -0 it is +0, so from the third call on (a compiled
  kernel, checked against the interpreter at other values) ``1 / (x + 0)`` was -inf where PyTorch, and
  jac's own first call, give inf.
- An integer cast (``x.long()``, ``x.int()``, ``x.to(torch.int64)``, ``int(t)``) truncated to -0 at
  -1 < x < 0: an integer has no -0 (``1 / x.long()`` is inf in PyTorch, was -inf).
- Two booleans added (``(x > 0) + (x > 1)``) gave 2 where PyTorch and NumPy give True (their logical or).
- A mask cast to numbers (``(x > 0).float()``, ``.double()``, ``.long()``, ``.to(torch.float64)``,
  ``.type_as(x)``) stayed a boolean: ``scaled_dot_product_attention`` read it as a boolean mask where PyTorch
  adds its 0s and 1s to the scores.
"""

import numpy as np
import pytest

from jacobi_cli.tools import api
from parity import assert_parity

torch = pytest.importorskip("torch")
F = torch.nn.functional
rng = np.random.default_rng(11)


def _torch_value(fn, **inputs):
    return fn(**{n: torch.tensor(np.asarray(v, dtype=np.float64)) for n, v in inputs.items()}).detach().numpy()


def _same_bits(ours, theirs):
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-15, atol=0)  # infinities equal, signs included
    assert (np.signbit(ours) == np.signbit(theirs)).all(), (ours, theirs)


# --- x + 0 is not x at x = -0 (compiled kernels) ---------------------------------------------------------

@pytest.mark.parametrize("expr, fn", [
    ("1 / (x + 0)", lambda x: 1 / (x + 0)),
    ("1 / (0.0 + x)", lambda x: 1 / (0.0 + x)),
    ("1 / (x + torch.zeros(2))", lambda x: 1 / (x + torch.zeros(2))),
    ("torch.atan2(x + 0, -torch.ones_like(x))", lambda x: torch.atan2(x + 0, -torch.ones_like(x))),
])
def test_a_repeated_call_keeps_x_plus_0_at_minus_0(expr, fn):
    api.clear_cache()
    with np.errstate(divide="ignore"):
        for x in ([1.0, 2.0], [1.0, 2.0], [1.0, 2.0], [-0.0, -0.0], [-0.0, 3.0]):
            x = np.array(x)
            _same_bits(api.evaluate(expr, {"x": x}), _torch_value(fn, x=x))


def test_a_repeated_jacobian_keeps_x_plus_0_at_minus_0():
    # d/dy ((x + 0) * y) = x + 0: +0 at x = -0, as PyTorch's
    api.clear_cache()
    for x in ([1.0, 2.0], [1.0, 2.0], [1.0, 2.0], [-0.0, -0.0]):
        x, y = np.array(x), np.array([3.0, 4.0])
        ours = api.jacobian("(x + 0) * y", {"x": x, "y": y})["y"]
        X, Y = torch.tensor(x), torch.tensor(y)
        theirs = torch.autograd.functional.jacobian(lambda y: (X + 0) * y, Y).numpy()
        _same_bits(np.diagonal(ours), np.diagonal(theirs))
        assert_parity("(x + 0) * y", {"x": x, "y": y}, lambda x, y: (x + 0) * y)


# --- integer casts have no -0 ------------------------------------------------------------------------------

X = np.array([-0.5, 0.5, -1.5, 2.5, -0.0, -0.9])


@pytest.mark.parametrize("expr, fn", [
    ("1 / x.long()", lambda x: 1 / x.long()),
    ("1 / x.int()", lambda x: 1 / x.int()),
    ("1 / x.to(torch.int64)", lambda x: 1 / x.to(torch.int64)),
    ("torch.atan2(x.long() * 1.0, -torch.ones_like(x))", lambda x: torch.atan2(x.long() * 1.0, -torch.ones_like(x))),
    ("x.int().signbit().double()", lambda x: x.int().signbit().double()),
    ("torch.copysign(torch.ones_like(x), x.long())", lambda x: torch.copysign(torch.ones_like(x), x.long())),
])
def test_an_integer_cast_has_no_minus_0(expr, fn):
    with np.errstate(divide="ignore"):
        for _ in range(3):  # the interpreter, then the compiled kernel
            _same_bits(api.evaluate(expr, {"x": X}), _torch_value(fn, x=X))
    assert_parity(expr, {"x": X}, fn)


def test_python_int_of_a_tensor_has_no_minus_0():
    # int(t) is a Python int: int(-0.5) is 0, so copysign reads +0
    _same_bits(api.evaluate("torch.copysign(x, int(x[0]))", {"x": X}),
               _torch_value(lambda x: torch.copysign(x, int(x[0])), x=X))


# --- booleans added are their logical or ---------------------------------------------------------------

V = rng.uniform(-2, 2, 6)


@pytest.mark.parametrize("expr, fn", [
    ("((x > 0) + (x > 1)).double()", lambda x: ((x > 0) + (x > 1)).double()),
    ("((x > 0) + True).double() * x", lambda x: ((x > 0) + True).double() * x),
    ("((x > 0) * (x < 1)).double() * x", lambda x: ((x > 0) * (x < 1)).double() * x),
    ("m = x > 0; m += x < -1; m.double() * x", lambda x: ((x > 0) + (x < -1)).double() * x),
    ("torch.where((x > 0) + (x < -1), x, 2 * x)", lambda x: torch.where((x > 0) + (x < -1), x, 2 * x)),
    ("np.where((x > 0) + (x < -1), x, 2 * x)", lambda x: torch.where((x > 0) + (x < -1), x, 2 * x)),
    ("(x > 0).double() + (x > 1)", lambda x: (x > 0).double() + (x > 1)),
    ("(x > 0).float() + (x > 1).float()", lambda x: (x > 0).double() + (x > 1).double()),
    ("(x > 0).long() + (x > 1)", lambda x: ((x > 0).long() + (x > 1)).double()),
    ("(x > 0).to(torch.float64) + (x > 1)", lambda x: (x > 0).to(torch.float64) + (x > 1)),
    ("(x > 0).type_as(x) * x + (x > 1)", lambda x: (x > 0).type_as(x) * x + (x > 1)),
    ("(x > 0) + (x > 1) + x", lambda x: (x > 0) + (x > 1) + x),
    # the operators as functions and methods: the same rule (torch.add of two masks gave 2)
    ("torch.add(x > 0, x > 1).double() * x", lambda x: torch.add(x > 0, x > 1).double() * x),
    ("np.add(x > 0, x > 1) * x", lambda x: torch.add(x > 0, x > 1) * x),
    ("torch.mul(x > 0, x < 1).double() * x", lambda x: torch.mul(x > 0, x < 1).double() * x),
    ("(x > 0).add(x > 1).double() * x", lambda x: (x > 0).add(x > 1).double() * x),
])
def test_two_booleans_added_are_their_logical_or(expr, fn):
    assert_parity(expr, {"x": V}, fn)


def test_a_mask_cast_to_numbers_is_added_to_the_attention_scores():
    q, k, v = rng.standard_normal((3, 4)), rng.standard_normal((5, 4)), rng.standard_normal((5, 2))
    m = rng.uniform(-1, 1, (3, 5))
    for cast in (".float()", ".double()", ".to(torch.float64)"):
        expr = f"F.scaled_dot_product_attention(q, k, v, attn_mask=(m > 0){cast})"
        assert_parity(expr, {"q": q, "k": k, "v": v, "m": m},
                      lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=(m > 0).double()))
    # a boolean mask keeps where true, as before
    assert_parity("F.scaled_dot_product_attention(q, k, v, attn_mask=m > 0)", {"q": q, "k": k, "v": v, "m": m},
                  lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m > 0))


# --- logcumsumexp shifts each prefix by its own maximum ----------------------------------------------------

@pytest.mark.parametrize("values", [[1.0, 1000.0, 2.0], [-800.0, 5.0, -3.0, 700.0], [0.3, -0.2, 1.5, 0.7],
                                    [-1000.0, -1001.0], [np.inf, 1.0], [1.0, -np.inf, 2.0]])
def test_logcumsumexp_does_not_underflow_a_prefix_far_below_the_lines_maximum(values):
    # the line was shifted by its maximum: logcumsumexp([1, 1000, 2])[0] was -inf (and its derivative 0)
    x = np.array(values)
    assert_parity("torch.logcumsumexp(x, 0)", {"x": x}, lambda x: torch.logcumsumexp(x, 0), differs=("hessian",))


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_logcumsumexp_along_each_dim_of_a_wide_range(dim):
    A = rng.standard_normal((3, 4, 2)) * 300
    assert_parity(f"torch.logcumsumexp(A, {dim})", {"A": A}, lambda A: torch.logcumsumexp(A, dim), rtol=1e-9)


# --- a boolean array holds booleans -----------------------------------------------------------------------

@pytest.mark.parametrize("expr, fn", [
    ("m = x > 0; m[0] = s; m.double() * x", "m[0] = s"),
    ("m = x > 0; m[1] = 0.5; m.double() * x", "m[1] = 0.5"),
    ("m = x > 0; m[2:] = x[:2]; m.double() * x", "m[2:] = x[:2]"),
    ("m = x > 0; m[0] = 2.5; (m & (x < 1)).double()", "m[0] = 2.5"),
])
def test_a_number_written_into_a_boolean_array_is_its_truth(expr, fn):
    x, s = np.array([-0.5, 0.5, -1.5, 2.0]), np.array(-0.3)

    def reference(x, s):
        m = (x > 0).clone()
        exec(fn, {"m": m, "x": x, "s": s})
        return eval(expr.split("; ")[-1], {"m": m, "x": x, "torch": torch})

    assert_parity(expr, {"x": x, "s": s}, reference)


# --- cummax / cummin: every NaN takes over -----------------------------------------------------------------

@pytest.mark.parametrize("fname", ["cummax", "cummin"])
@pytest.mark.parametrize("values", [[1.0, 2.0, np.nan, 3.0, np.nan, 0.5], [np.nan, np.nan, 1.0], [np.nan, 1.0, 2.0],
                                    [1.0, np.nan, 2.0, np.nan, np.nan]])
def test_cummax_and_cummin_take_the_latest_nan_as_pytorch(fname, values):
    # the first NaN was kept: torch.cummax([1, 2, nan, 3, nan]) has indices [0, 1, 2, 2, 4], jac said [.., 2, 2, 2];
    # the derivative of the values went to the first NaN, PyTorch's to the latest
    x = np.array(values)
    fn = getattr(torch, fname)
    ours = api.evaluate(f"torch.{fname}(x, 0)[1]", {"x": x})
    np.testing.assert_array_equal(ours, fn(torch.tensor(x), 0).indices.numpy())
    assert_parity(f"torch.{fname}(x, 0)[0]", {"x": x}, lambda x: fn(x, 0).values, differs=("hessian",))
    X = np.array([values, values[::-1]]).T
    assert_parity(f"torch.{fname}(X, 0).indices * 1.0", {"X": X}, lambda X: fn(X, 0).indices * 1.0)


# --- the sign of a NaN: refused, not guessed ---------------------------------------------------------------
# torch_fuzz seed 2603: torch.signbit(B ** 1.5) of a 4x4 B with negative elements was 0 in PyTorch (its
# vectorized pow makes +NaN) and 1 in jac (NumPy's makes -NaN); a 0-d tensor gives -NaN in PyTorch too

@pytest.mark.parametrize("expr", ["torch.signbit(B ** 1.5)", "(B ** 1.5).signbit()", "np.signbit(B ** 1.5)",
                                  "jnp.signbit(jnp.sqrt(B))", "torch.copysign(B, B ** 1.5)",
                                  "np.copysign(1.0, np.log(B)) * B", "B.copysign(B ** 0.5).sum()"])
def test_the_sign_of_a_nan_is_refused(expr):
    from jacobi_cli.errors import JacValueError

    B = np.array([[0.5, -0.7], [1.5, -2.0]])
    with pytest.raises(JacValueError, match="the sign of a NaN is not specified"):
        api.evaluate(expr, {"B": B})
    assert np.isfinite(api.evaluate(expr, {"B": np.abs(B)})).all()  # no NaN: answered


def test_an_input_nan_has_the_sign_it_was_given():
    # a NaN bound as an input is the user's, the same bits in every library: its sign is read, not refused
    y = np.array([np.nan, -np.nan, 1.0])
    np.testing.assert_array_equal(api.evaluate("np.copysign(x, y)", {"x": np.full(3, 2.0), "y": y}),
                                  np.copysign(2.0, y))
    np.testing.assert_array_equal(api.evaluate("torch.signbit(y)", {"y": y}), torch.signbit(torch.tensor(y)).numpy())
    from jacobi_cli.errors import JacValueError
    with pytest.raises(JacValueError, match="the sign of a NaN"):  # computed from it: refused
        api.evaluate("torch.signbit(y * 2)", {"y": y})


@pytest.mark.parametrize("expr, fn", [
    ("torch.signbit(torch.where(torch.isnan(B ** 1.5), 0.0, B ** 1.5)) * B",
     lambda B: torch.signbit(torch.where(torch.isnan(B ** 1.5), 0.0, B ** 1.5)) * B),
    ("torch.signbit(torch.nan_to_num(B ** 1.5) - 1) * B", lambda B: torch.signbit(torch.nan_to_num(B ** 1.5) - 1) * B),
    ("torch.copysign(B, -B) + torch.signbit(B * 0)", lambda B: torch.copysign(B, -B) + torch.signbit(B * 0)),
    ("torch.signbit((B - 1) * torch.inf)", lambda B: torch.signbit((B - 1) * torch.inf)),
    ("torch.copysign(B, torch.tensor([-0.0, 0.0]))", lambda B: torch.copysign(B, torch.tensor([-0.0, 0.0]))),
    ("torch.copysign(torch.tensor(2.0), B) * B", lambda B: torch.copysign(torch.tensor(2.0), B) * B),
])
def test_signbit_and_copysign_without_nans_are_pytorchs(expr, fn):
    assert_parity(expr, {"B": np.array([[0.5, -0.7], [-0.0, 3.0]])}, fn)
