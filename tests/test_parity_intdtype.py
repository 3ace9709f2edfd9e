"""Constants of integer and boolean dtype against PyTorch and NumPy: jac folds a constant in its library's
dtype (ir/dtypes.py), so overflow wraps, // and % floor, an integer zero has no sign, a float written into an
integer array is truncated, and an integer that --dtype cannot hold exactly is refused, never rounded.

Each case is one Python expression, evaluated by Python with the real libraries and by jac: jac's value must
be the library's (a float result of float32 tensors to float32's rounding: jac computes floats in --dtype),
zeros with their sign, or jac refuses with a JacError where the library raises or the value cannot be held."""

import itertools
import warnings

import numpy as np
import pytest
import torch

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

DTYPES = ["bool", "uint8", "int8", "int32", "int64", "float32", "float64"]
DATA = {  # per dtype: values that overflow, change sign and divide by negatives
    "bool": [True, False, True, True],
    "uint8": [200, 7, 0, 255],
    "int8": [100, -7, 0, -128],
    "int32": [2**31 - 1, -7, 0, 3],
    "int64": [2**40, -7, 0, 5],
    "float32": [1.5, -7.25, -0.0, 2.0],
    "float64": [2.5, -7.0, 0.0, -3.0],
}
OTHER = {"bool": [False, True, True, False], "uint8": [3, 250, 2, 1], "int8": [-3, 2, 5, -1],
         "int32": [2, -2, 3, -5], "int64": [3, 2, -4, -2], "float32": [-0.5, 2.0, 3.0, -1.5],
         "float64": [1.0, -2.0, -0.5, 4.0]}


def const(lib: str, dtype: str, values) -> str:
    mod = "torch" if lib == "torch" else "np"
    return f"{mod}.{'tensor' if lib == 'torch' else 'array'}({values!r}, dtype={mod}.{dtype})"


def reference(expr: str):
    """The library's value; PyTorch's floats made of integers in float64, as jac holds every float
    (``torch.tensor([7]) / 2`` is float32 in PyTorch: jac's float is --dtype)."""
    with warnings.catch_warnings(), _default_float64():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            out = eval(expr, {"torch": torch, "np": np})  # the libraries themselves
    return out.detach().numpy() if isinstance(out, torch.Tensor) else np.asarray(out)


def check(expr: str, allowed_refusal=()):
    """jac's value of ``expr`` is the library's, or jac refuses where the library raises (or in
    ``allowed_refusal``'s words)."""
    try:
        want = reference(expr)
    except Exception:  # the library refuses: so must jac
        with pytest.raises(JacError):
            api.evaluate(expr, {})
        return
    try:
        got = api.evaluate(expr, {})
    except JacError as err:
        if want.dtype.kind in "iu" and want.size and np.abs(want.astype(object)).max() > 2**53:
            return  # an integer float64 cannot hold: refused, never rounded
        if any(words in err.message for words in allowed_refusal):
            return
        raise
    got = np.asarray(got)
    assert got.shape == want.shape, expr
    if want.dtype.kind in "biu":
        np.testing.assert_array_equal(got, want.astype(np.float64), err_msg=expr)
        assert not np.signbit(got).any() or (want < 0).any(), f"{expr}: an integer zero with a sign: {got}"
        np.testing.assert_array_equal(np.signbit(got), want < 0, err_msg=expr)
    elif "%" in expr and "torch" in expr:  # PyTorch's float remainder signs its zeros unlike NumPy's (left)
        np.testing.assert_allclose(got, want.astype(np.float64), rtol=1e-6, atol=0, equal_nan=True, err_msg=expr)
    elif want.dtype == np.float32:
        np.testing.assert_allclose(got, want.astype(np.float64), rtol=1e-6, atol=0, equal_nan=True, err_msg=expr)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want), err_msg=expr)
    else:  # PyTorch's 2.5 / t is 2.5 * (1 / t): the last bit may differ
        np.testing.assert_allclose(got, want, rtol=4e-16, atol=0, equal_nan=True, err_msg=expr)
        np.testing.assert_array_equal(np.signbit(got), np.signbit(want), err_msg=expr)


class _default_float64:
    def __enter__(self):
        self.before = torch.get_default_dtype()
        torch.set_default_dtype(torch.float64)

    def __exit__(self, *exc):
        torch.set_default_dtype(self.before)


# --- the cases found by hand (each wrong before integer constants kept their dtype) ---------------------------

X = np.array([0.125, -0.875, 0.5])


@pytest.mark.parametrize("expr, lib", [
    ("z = torch.zeros(3, dtype=torch.long); z[0] = 1.7; z * x", "torch"),
    ("z = np.zeros(3, dtype=int); z[1] = -2.5; z * x", "numpy"),
    ("torch.tensor([200], dtype=torch.uint8) + 100 + x", "torch"),
    ("np.array([200], dtype=np.uint8) + 100 + x", "numpy"),
    ("np.int8(100) * 2 + x", "numpy"),
    ("torch.arange(3) * -1 * x", "torch"),
    ("(torch.tensor([7, -7]) // 2)[[0, 1, 1]] * x", "torch"),
    ("(torch.tensor([7, -7]) % 3)[[0, 1, 1]] * x", "torch"),
    ("torch.tensor(5) / torch.tensor(2) * x", "torch"),
    ("z = torch.arange(3); z[1] = 2.9; z.sum() * x", "torch"),
    ("torch.tensor([100], dtype=torch.int8) + torch.tensor(100) + x", "torch"),
    ("np.array([100], dtype=np.int8) + np.array(100) + x", "numpy"),
])
def test_integer_constants_beside_an_input(expr, lib):
    """Values and Jacobians against the library's own (autograd for PyTorch)."""
    statements = expr.split("; ")
    scope = {"torch": torch, "np": np}
    if lib == "torch":
        xt = torch.tensor(X, requires_grad=True)
        scope["x"] = xt
        for s in statements[:-1]:
            exec(s, scope)
        want = eval(statements[-1], scope)
        jac = torch.autograd.functional.jacobian(lambda v: eval(statements[-1], {**scope, "x": v}), xt)
        want, jac = want.detach().numpy(), jac.numpy()
    else:
        scope["x"] = X
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for s in statements[:-1]:
                exec(s, scope)
            want = eval(statements[-1], scope)
            ones = eval(statements[-1], {**scope, "x": np.ones(3)}) - eval(statements[-1], {**scope, "x": np.zeros(3)})
        jac = np.diag(np.broadcast_to(ones, X.shape).astype(float))
    np.testing.assert_array_equal(api.evaluate(expr, {"x": X}), want)
    np.testing.assert_array_equal(np.signbit(api.evaluate(expr, {"x": X})), np.signbit(want))
    np.testing.assert_array_equal(api.jacobian(expr, {"x": X})["x"], jac)


@pytest.mark.parametrize("expr", [
    "torch.tensor([2**60]) + 1", "np.array([2**60]) + 1", "torch.tensor(2**62) * 2 - 1",
    "torch.tensor([2**60 + 1]) * 1",
])
def test_integers_float64_cannot_hold_are_refused(expr):
    with pytest.raises(JacError) as err:
        api.evaluate(expr, {})
    assert "cannot hold exactly" in err.value.message


@pytest.mark.parametrize("expr, want", [
    ("torch.tensor([2**60]) - 2**60 + 1", [1.0]),  # exact on the way, small at the end
    ("torch.arange(3) * -1", [0.0, -1.0, -2.0]),
    ("torch.tensor([7, -7]) // 2", [3.0, -4.0]),
    ("torch.tensor([7, -7]) % 3", [1.0, 2.0]),
    ("np.arange(4) // -2", [0.0, -1.0, -1.0, -2.0]),
    ("torch.tensor(5) / torch.tensor(2)", 2.5),
    ("np.int8(100) * 2", -56.0),
    ("np.uint8(3) - np.uint8(5)", 254.0),
    ("torch.tensor([1, 2, 3]).sum()", 6.0),
    ("np.array([1, 2]).mean()", 1.5),
])
def test_exact_integer_folds(expr, want):
    got = api.evaluate(expr, {})
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(np.asarray(want)))
    check(expr)


@pytest.mark.parametrize("expr", [
    "torch.tensor([1, 2]).mean()",  # PyTorch: mean of an integer tensor is an error
    "torch.tensor([7]) // 0", "np.array([7]) % 0",  # integer division by zero
    "np.array([200], dtype=np.uint8) + 300",  # NumPy 2: OverflowError
    "torch.tensor([2]) ** -1",  # integers to negative powers
    "z = torch.zeros(3, dtype=torch.long); z += 1.5; z",  # a float result written in place into a long tensor
    "z = np.zeros(3, dtype=int); z += 1.5; z",
    "np.int8(200)",
    "torch.tensor([2.0**63]).long()", "np.array([float('nan')]).astype(int)",  # casts undefined in both
])
def test_what_the_libraries_refuse_jac_refuses(expr):
    with pytest.raises(JacError):
        api.evaluate(expr, {})


@pytest.mark.parametrize("expr", [
    "torch.full((3,), 7) * -1", "np.full(3, 7) * -1", "torch.ones(3, dtype=torch.int32) * -1",
    "torch.arange(0, 10, 3) // -4", "torch.arange(3.0) * -1", "torch.zeros_like(torch.arange(3)) * -1",
    "np.ones_like(np.arange(3)) * -1", "torch.arange(3).float() * -1", "torch.tensor([1, 2]).double() / 3",
    "torch.where(torch.arange(3) > 0, torch.arange(3), 0) * -1", "z = torch.arange(4); z[z > 1] = 0.5; z",
    "torch.arange(6).reshape(2, 3).T * -1", "torch.tensor([3]) ** 2", "abs(np.int8(-128))", "np.arange(5) % 3 - 1",
    "torch.arange(5).sum() / 2", "torch.tensor([250], dtype=torch.uint8).sum() * 300", "torch.arange(4).max() * -1",
    "np.arange(4).astype(np.uint8) - 1", "torch.arange(4).to(torch.uint8) - 1", "torch.arange(4).to(torch.int8) * 100",
    "np.arange(4).astype(float) * -0", "(torch.arange(3) - 1).abs() * -1", "torch.arange(3).clone() * -1",
    "torch.tensor(True) + torch.tensor(True)", "(torch.arange(4) > 1).sum() * -1", "torch.arange(4)[1:] * -1",
    "np.array([3, 4]) @ np.array([1, -1])", "torch.dot(torch.tensor([1, 2]), torch.tensor([0, 0])) * -1",
    "torch.arange(3).neg()", "torch.maximum(torch.arange(3), torch.tensor(1)) * -1",
    "torch.tensor([[1, 2], [3, 4]]) @ torch.tensor([[0, 0], [0, 0]]) * -1",
    "torch.tensor([-7, 7]).div(2, rounding_mode='floor')", "torch.tensor([-7, 7]).div(2, rounding_mode='trunc') * -1",
    "torch.remainder(torch.tensor([-7, 7]), 3)", "torch.fmod(torch.tensor([-7, 7]), 3)", "np.fmod(np.array([-7, 7]), 3)",
    "torch.floor_divide(torch.tensor([-7, 7]), 2)", "np.cumprod(np.array([100, 100, 100], dtype=np.int8))",
    "torch.cumsum(torch.tensor([100, 100], dtype=torch.int8), 0)", "np.square(np.int8(100))",
    "torch.square(torch.tensor([100], dtype=torch.int8))", "torch.sign(torch.arange(3) - 1) * 0",
    "torch.clamp(torch.arange(5), 1, 3) * -1", "torch.round(torch.tensor([1, 2])) * -1",
    "torch.arange(4).masked_fill(torch.arange(4) > 1, 2.7) * -1",
    "torch.arange(4).masked_fill(torch.arange(4) > 1, -0.5) * 1",
])
def test_everyday_spellings(expr):
    """Constructors, casts, methods and functions of integer constants as users write them."""
    statements = expr.split("; ")
    if len(statements) == 1:
        check(expr)
        return
    scope = {"torch": torch, "np": np}
    for s in statements[:-1]:
        exec(s, scope)
    want = np.asarray(eval(statements[-1], scope))
    got = api.evaluate(expr, {})
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), want < 0)


# --- the systematic sweep ---------------------------------------------------------------------------------

BINARY = ["+", "-", "*", "/", "//", "%", "**"]


def _binary_cases():
    for lib, d1, d2, op in itertools.product(("torch", "numpy"), DTYPES, DTYPES, BINARY):
        b = OTHER[d2] if op != "**" else [abs(v) % 3 if not isinstance(v, bool) else v for v in OTHER[d2]]
        yield f"{const(lib, d1, DATA[d1])} {op} {const(lib, d2, b)}"


def _scalar_cases():
    for lib, d, op, s in itertools.product(("torch", "numpy"), DTYPES, BINARY, ["2", "-1", "2.5", "100", "300",
                                                                                  "True"]):
        if op == "**" and s in ("-1", "300", "100"):
            continue
        if lib == "torch" and op == "-" and s == "True" and d.startswith("float"):
            continue  # PyTorch refuses t - True for a float t too; jac (which holds floats untyped) answers t - 1
        yield f"{const(lib, d, DATA[d])} {op} {s}"
        if op != "**":
            yield f"{s} {op} {const(lib, d, DATA[d])}"


def _zero_dim_cases():
    for lib, d1, d2, op in itertools.product(("torch", "numpy"), DTYPES, ("int64", "uint8", "bool", "float64"),
                                             ("+", "*", "-")):
        mod = "torch" if lib == "torch" else "np"
        value = {"int64": 100, "uint8": 100, "bool": True, "float64": 1.5}[d2]
        zero_d = f"{mod}.{'tensor' if lib == 'torch' else 'array'}({value!r}, dtype={mod}.{d2})"
        yield f"{const(lib, d1, DATA[d1])} {op} {zero_d}"


def _unary_cases():
    for lib, d in itertools.product(("torch", "numpy"), DTYPES):
        c = const(lib, d, DATA[d])
        mod = "torch" if lib == "torch" else "np"
        for form in [f"-{c}", f"abs({c})", f"{c}.sum()", f"{mod}.cumsum({c}, 0)", f"{c}.prod()", f"{c}.max()",
                     f"{c}.min()", f"{c}.mean()", f"{c} * -1", f"{c} * 0",
                     f"{mod}.where({c} > 1, {c}, {const(lib, d, OTHER[d])})",
                     ]:
            yield form
        c = const(lib, d, [abs(v) if v == 0 else v for v in DATA[d]])  # a constant cat of -0.0: see below
        for form in [f"{mod}.{'cat' if lib == 'torch' else 'concatenate'}([{c}, {const(lib, 'int8', DATA['int8'])}])",
                     f"{mod}.stack([{c}, {const(lib, 'uint8', DATA['uint8'])}])"]:
            yield form


def _write_cases():
    for lib, d, v in itertools.product(("torch", "numpy"), DTYPES, ["1.7", "-2.5", "7", "True", "-0.0"]):
        c = const(lib, d, DATA[d])
        yield f"z = {c}; z[1] = {v}; z"
        yield f"z = {c}; z[1:3] = {v}; z"


CASES = list(_binary_cases()) + list(_scalar_cases()) + list(_zero_dim_cases()) + list(_unary_cases())


@pytest.mark.parametrize("expr", CASES, ids=CASES)
def test_sweep(expr):
    check(expr, allowed_refusal=("integer division by zero", "compute this differently", "out of range for"))


@pytest.mark.parametrize("expr", list(_write_cases()))
def test_sweep_writes(expr):
    statements = expr.split("; ")
    scope = {"torch": torch, "np": np}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for s in statements[:-1]:
                exec(s, scope)
        want = np.asarray(scope["z"].numpy() if isinstance(scope["z"], torch.Tensor) else scope["z"])
    except Exception:
        with pytest.raises(JacError):
            api.evaluate(expr, {})
        return
    got = api.evaluate(expr, {})
    np.testing.assert_allclose(got, want.astype(np.float64), rtol=1e-6 if want.dtype == np.float32 else 0,
                               err_msg=expr)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want) if want.dtype.kind == "f" else want < 0,
                                  err_msg=expr)
