"""Integers computed from the inputs against PyTorch and NumPy: ``x.long()``, ``(x > 0).sum()``,
``torch.argsort(x)``, ``np.floor_divide(x.astype(int), 2)`` are integers in the libraries, computed by jac in
--dtype and held as the libraries' integers (ir/dtypes.py): a zero has no sign, // and % floor, a value out of a
small dtype's range wraps, and what --dtype cannot keep exact (2**53 and beyond, an integer division by zero,
an undefined cast) is refused, never rounded. Their derivative is 0 (PyTorch's integer tensors carry none).

Each case is one expression of an input x, evaluated by the library itself and by jac: jac's value must be
the library's converted to float64, zeros with their sign, or jac refuses where the library raises."""

import itertools
import warnings

import numpy as np
import pytest
import torch

from jacobi_cli.errors import JacError
from jacobi_cli.lang.bindings import parse_bindings
from jacobi_cli.tools import api
from jacobi_cli.tools.numeric import central_jacobian

X = np.array([-1.5, -0.5, -0.0, 0.0, 0.5, 2.7, -3.2, 7.9])


class _default_float64:  # torch.tensor([7]) / 2 is float32 in PyTorch; jac's floats are --dtype
    def __enter__(self):
        self.before = torch.get_default_dtype()
        torch.set_default_dtype(torch.float64)

    def __exit__(self, *exc):
        torch.set_default_dtype(self.before)


def reference(expr: str, lib: str, x=X):
    scope = {"torch": torch, "np": np, "x": torch.tensor(x) if lib == "torch" else x.copy()}
    with warnings.catch_warnings(), _default_float64(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        out = eval(expr, scope)  # the libraries themselves
    return out.detach().numpy() if isinstance(out, torch.Tensor) else np.asarray(out)


def check(expr: str, lib: str, x=X, allowed_refusal=()):
    """jac's value of ``expr`` is the library's (float64, signed zeros), or both refuse (or jac refuses
    in ``allowed_refusal``'s words)."""
    try:
        want = reference(expr, lib, x)
    except Exception:  # the library raises: so must jac
        with pytest.raises(JacError):
            api.evaluate(expr, {"x": x})
        return
    try:
        got = np.asarray(api.evaluate(expr, {"x": x}))
    except JacError as err:
        if any(words in err.message for words in allowed_refusal):
            return
        raise
    assert got.shape == want.shape, expr
    np.testing.assert_array_equal(got, want.astype(np.float64), err_msg=expr)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want.astype(np.float64)), err_msg=expr)


# --- the sweep: integer sources of x, then arithmetic that signs zeros, floors and wraps ------------------------

SOURCES = {
    "torch": ["x.long()", "x.int()", "x.to(torch.int64)", "x.type(torch.int32)", "(x > 0).long()", "(x > 0)",
              "torch.argsort(x)", "torch.argmax(x)", "(x > 0).sum()", "x.long() // 2",
              "torch.div(x.long(), 2, rounding_mode='trunc')", "torch.div(x.long(), -3, rounding_mode='floor')",
              "torch.sort(x.long()).values", "x.long().abs()", "torch.floor_divide(x.long(), 3)",
              "torch.where(x > 0, x.long(), 1)", "x.long()[[0, 2, 5]]", "x.long().reshape(2, 4)", "x.abs().to(torch.uint8)"],
    "numpy": ["x.astype(int)", "x.astype(np.int32)", "(x > 0).astype(int)", "(x > 0)", "np.argsort(x)",
              "np.argmax(x)", "(x > 0).sum()", "np.floor_divide(x.astype(int), 2)", "np.remainder(x.astype(int), 3)",
              "np.sort(x.astype(int))", "np.where(x > 0, x.astype(int), 1)", "np.int64(x[0]) + x.astype(int)",
              "np.abs(x).astype(np.uint8)", "(x * 10).astype(np.int8)"],
}
FORMS = ["{s} * -1", "{s} * 0", "-{s}", "{s} % -2", "{s} // -2", "{s} % 3", "{s} - {s}", "{s} * {s} * -1",
         "{s}.sum() * -1", "{s} / 2", "{s} ** 2 * -1", "{s} * 100 * 100 * 100", "{m}.cumsum({s}.reshape(-1), 0) * -1",
         "{m}.maximum({s}, {s} * -1) * -1", "{s} + 0.5", "({s} * -1).sum()", "({s} * 0).reshape(-1)"]


def _sweep():
    for lib, source, form in itertools.product(("torch", "numpy"), range(20), FORMS):
        if source >= len(SOURCES[lib]):
            continue
        s = SOURCES[lib][source]
        yield lib, form.format(s=f"({s})", m="torch" if lib == "torch" else "np")


SWEEP = list(_sweep())


@pytest.mark.parametrize("lib, expr", SWEEP, ids=[e for _, e in SWEEP])
def test_sweep(lib, expr):
    # PyTorch wraps -2 into uint8 (254) before % and //: refused for integers computed from inputs
    check(expr, lib, allowed_refusal=("which PyTorch wraps it into first",))


@pytest.mark.parametrize("expr, lib", [
    ("x.long() % -2", "torch"), ("x.long() * 0", "torch"), ("(x > 0) * -1", "torch"),
    ("(x > 10).sum() * -1", "torch"), ("torch.argsort(x) * -1", "torch"), ("-x.long()", "torch"),
    ("torch.clamp(x.long(), -1, 1) * 0", "torch"), ("x.astype(int) * -1", "numpy"),
    ("np.argsort(x) * -1", "numpy"), ("(x > 0).astype(int) * -1", "numpy"),
    ("(x.long() + 200).to(torch.uint8) + 100", "torch"), ("x.long().to(torch.int8) * 100", "torch"),
    ("torch.div(x.long(), 2, rounding_mode='trunc') * -1", "torch"),
    ("torch.tensor([1, -1, 7]).div(2, rounding_mode='trunc') * -1 * (x[:3] * 0 + 1)", "torch"),
    ("torch.argsort(torch.tensor([3., 1., 2.])) * -1 + x[:3]", "torch"),
    ("torch.argsort(torch.tensor([3., 1., 2.])) // -2 + x[:3]", "torch"),
    ("np.argmax(np.array([3., 1., 2.])) * -1", "numpy"),
    ("torch.argmax(torch.tensor([1., 3.])) * torch.tensor([0], dtype=torch.uint8) * -1 + x[:1] * 0", "torch"),
])
def test_each_was_wrong_before(expr, lib):
    """Each gave -0 where the library gives integer 0, or failed to wrap, before integers computed from
    inputs (and index results of float constants) kept their dtype."""
    check(expr, lib)


# --- refusals: what the library raises, and what --dtype cannot keep exact ----------------------------------------

@pytest.mark.parametrize("expr, words", [
    ("x.long() // 0", "division by zero"), ("x.long() % 0", "division by zero"),
    ("torch.div(x.long(), x.long(), rounding_mode='trunc')", "division by zero"),
    ("x.long() * 2**52 * 4", "cannot hold exactly"), ("(x.long() + 2**53) - 2**53", "cannot hold exactly"),
    ("(x * 1e300).long()", "undefined"), ("(x / 0).long()", "undefined"), ("(x * 1e3).to(torch.int8)", "undefined"),
    ("x.long() ** -1", "negative"),
])
def test_refused_rather_than_wrong(expr, words):
    with pytest.raises(JacError) as err:
        api.evaluate(expr, {"x": X})
    assert words in err.value.message


def test_a_sum_whose_partial_sums_pass_2_53_is_refused():
    """The result is small, but float64's running sum lost the 1: int64 gives 1."""
    x = np.array([2.0**52, 2.0**52, 1.0, -(2.0**52), -(2.0**52)])
    with pytest.raises(JacError, match="cannot hold exactly"):
        api.evaluate("x.long().sum()", {"x": x})
    assert api.evaluate("x.long().sum()", {"x": x / 4}) == np.sum((x / 4).astype(np.int64))


def test_refused_at_every_call_of_a_compiled_graph():
    """The check runs with the values: a graph kept for the shapes (and its kernel) refuses as the first call."""
    expr = "x.long() // (x.long() - 1) * -1"
    fine, zero = np.array([3.5, -2.5, 0.25]), np.array([3.5, 1.5, 0.25])
    for _ in range(3):
        got = api.evaluate(expr, {"x": fine})
        np.testing.assert_array_equal(got, reference(expr, "torch", fine))
        np.testing.assert_array_equal(np.signbit(got), got < 0)
    with pytest.raises(JacError, match="division by zero"):
        api.evaluate(expr, {"x": zero})
    np.testing.assert_array_equal(api.jacobian(f"x * ({expr})", {"x": fine})["x"],
                                  np.diag(reference(expr, "torch", fine)))


# --- derivatives: 0 through every integer, the float parts as PyTorch's autograd ---------------------------------

DERIVATIVES = ["x.long() * x", "x * (x > 0).sum()", "x * torch.argmax(x)", "x * (x.long() % 3)",
               "torch.sin(x) * torch.div(x.long(), 2, rounding_mode='floor')", "x ** (x.long().abs() % 3 + 1)",
               "(x.long() * -1).float() * x", "x / (1 + (x > 0).long())", "x.long() * 1.0"]


@pytest.mark.parametrize("expr", DERIVATIVES)
def test_derivatives_against_autograd_and_central_differences(expr):
    x = np.array([-1.7, -0.4, 0.3, 2.6, 1.2])  # away from integers: .long() is locally constant
    xt = torch.tensor(x, requires_grad=True)
    with _default_float64():
        want = torch.autograd.functional.jacobian(lambda v: eval(expr, {"torch": torch, "x": v}) * 1.0, xt).numpy()
    got = api.jacobian(expr, {"x": x})["x"]
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)
    numeric = central_jacobian(lambda v: np.asarray(api.evaluate(expr, {"x": v}), dtype=np.float64), x)
    np.testing.assert_allclose(got, numeric, rtol=1e-6, atol=1e-7)


def test_an_integer_output_has_a_zero_jacobian():
    for expr in ("x.long() * -1", "(x > 0).sum()", "torch.argsort(x)"):
        j = api.jacobian(expr, {"x": X})["x"]
        assert not np.any(j), expr


# --- bindings: an integer --dtype cannot hold exactly is refused in every spelling --------------------------------

@pytest.mark.parametrize("value", ["[2**53 + 1]", "[[1, 2**53 + 1]]", "9007199254740993", "2**53 + 1",
                                   "np.array([2**53 + 1])", "torch.tensor([2**60 + 1])", "-(2**53) - 1",
                                   "[1, 2, 9007199254740993]", "arange(2**53, 2**53 + 3)"])
def test_bindings_refuse_integers_float64_cannot_hold(value):
    """np.array and torch.tensor were refused before; the literals, lists and arithmetic were rounded."""
    with pytest.raises(JacError) as err:
        parse_bindings([f"x={value}"])
    assert "cannot hold exactly" in err.value.message and "'x'" in err.value.message


@pytest.mark.parametrize("value", ["[2**24 + 1]", "16777217", "np.array([2**24 + 1])", "torch.tensor([2**25 + 1])"])
def test_bindings_refuse_integers_float32_cannot_hold(value):
    with pytest.raises(JacError, match="float32 cannot hold it exactly|float32 cannot hold exactly"):
        parse_bindings([f"x={value}"], dtype=np.float32)


@pytest.mark.parametrize("value, want", [("[2**53, 1]", [2.0**53, 1.0]), ("[2**60]", [2.0**60]),
                                          ("2**53 + 2", 2.0**53 + 2), ("[2**53 + 1.0]", [2.0**53])])
def test_integers_held_exactly_still_convert(value, want):
    """CONTRACT: every value is converted to --dtype; an integer it holds exactly converts (a float
    literal, 2**53 + 1.0, is rounded by Python itself, as the libraries read it)."""
    np.testing.assert_array_equal(parse_bindings([f"x={value}"]).values["x"], want)


def test_npy_files_of_integers_float64_cannot_hold_are_refused(tmp_path):
    big, fine = tmp_path / "big.npy", tmp_path / "fine.npy"
    np.save(big, np.array([[1, 2], [3, 2**53 + 1]]))
    np.save(fine, np.array([1, 2**60, -(2**53)]))
    with pytest.raises(JacError, match=r"element 3 \(flat\).*9007199254740993.*cannot hold exactly"):
        parse_bindings([f"x=@{big}"])
    np.testing.assert_array_equal(parse_bindings([f"x=@{fine}"]).values["x"], [1.0, 2.0**60, -(2.0**53)])
    np.save(fine, np.array([1, 2**60, 2**24 + 1]))
    with pytest.raises(JacError, match="float32 cannot hold exactly"):
        parse_bindings([f"x=@{fine}"], dtype=np.float32)


def test_an_index_result_cast_to_a_small_dtype_wraps():
    """argsort of 300 elements holds 299: uint8 and int8 wrap it, as PyTorch's cast (it stayed 299 before)."""
    x = np.random.default_rng(0).normal(size=300)
    for expr in ("torch.argsort(x).to(torch.uint8) * 1", "torch.argsort(x).to(torch.int8) - 1"):
        check(expr, "torch", x)


@pytest.mark.parametrize("expr", ["x.long().masked_fill(x > 0, 2.7) * -1", "y = x.long(); y[0] = 2.5; y * -1",
                                  "y = x.long(); y[1] = -0.5; y * 1", "y = x.long(); y += 1; y * -1",
                                  "torch.sign(x.long()) * 0", "y = x.to(torch.int8); y[0] = 130.5; y"])
def test_writes_into_integers_computed_from_inputs(expr):
    """A float written into x.long() is truncated, as into an integer constant (it stayed 2.7 before)."""
    statements = expr.split("; ")
    scope = {"torch": torch, "x": torch.tensor(X)}
    try:
        for s in statements[:-1]:
            exec(s, scope)
        want = eval(statements[-1], scope).numpy().astype(np.float64)
    except Exception:  # noqa: BLE001 - the library raises: so must jac
        with pytest.raises(JacError):
            api.evaluate(expr, {"x": X})
        return
    got = api.evaluate(expr, {"x": X})
    np.testing.assert_array_equal(got, want, err_msg=expr)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want), err_msg=expr)


def test_jac_diff_still_reads_integers_made_of_masks():
    """The check after (x > 0) * -1 is int64 below 2**53: SymPy's formula of its argument is its value."""
    from jacobi_cli.tools import report

    x = np.array([1.5, -1.0])
    got = report.diff_report("((x > 0) * -1) * x + (x > 0).sum() * x", ["x:2"], at=["x=[1.5, -1]"])
    np.testing.assert_array_equal(np.asarray(got.to_json()["derivative"]["x"]["value"], dtype=float),
                                  api.jacobian("((x > 0) * -1) * x + (x > 0).sum() * x", {"x": x})["x"])
