"""What a newcomer pasting PyTorch / NumPy code meets (htrust12): cumprod's derivatives past a NaN, logdet of a
negative determinant, everyday spellings jac refused (positional dtypes, torch.Size, FloatTensor, divmod,
slice objects, conditional expressions) and a sweep of losses, norms and reductions with their options, each
against PyTorch (float64) and central differences."""

from __future__ import annotations

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from parity import assert_parity, central

torch = pytest.importorskip("torch")
F = torch.nn.functional
nan, inf = np.nan, np.inf


def T(a):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


# --- cumprod past a NaN: an entry whose output no NaN reaches is finite, y_i's entries for j > i exact 0 ----

def _exact_cumprod_jacobian(x):
    """d y_i / d x_j = the product of x_k (k <= i, k != j) in IEEE arithmetic, 0 for j > i."""
    n = len(x)
    out = np.zeros((n, n))
    with np.errstate(invalid="ignore"):
        for i in range(n):
            for j in range(i + 1):
                out[i, j] = np.prod([x[k] for k in range(i + 1) if k != j])
    return out


CUMPROD_POINTS = [[2.0, 0.0, nan, 3.0], [nan, 0.0, 2.0, 3.0], [2.0, nan, 0.0, 3.0], [0.0, 2.0, nan],
                  [1.0, 2.0, 0.0, 0.0, 3.0], [1.5, inf, 0.0, 2.0], [-2.0, 3.0, nan]]


@pytest.mark.parametrize("xs", CUMPROD_POINTS, ids=str)
def test_cumprod_jacobian_past_a_nan_is_exact_entry_by_entry(xs):
    x = np.array(xs)
    want = _exact_cumprod_jacobian(x)
    for mode in ("reverse", "forward"):
        got = np.asarray(api.jacobian("torch.cumprod(x, 0)", {"x": x}, mode=mode)["x"])
        assert np.array_equal(got, want, equal_nan=True), (mode, got, want)
    compiled = api.compile("torch.cumprod(x, 0)", {"x": x})
    for _ in range(3):  # the kernel's answers are the interpreter's
        assert np.array_equal(np.asarray(compiled.jacobian({"x": x})["x"]), want, equal_nan=True)
    with np.errstate(invalid="ignore"):
        numeric = central(lambda v: np.cumprod(v), x)
    rows = np.cumsum(~np.isfinite(x)) == 0  # outputs no NaN or inf reaches: central differences agree
    np.testing.assert_allclose(want[rows], numeric[rows], rtol=1e-8, atol=1e-8)


def test_cumprod_past_a_nan_where_pytorch_writes_nan_or_0():
    """PyTorch's rule divides by the zero: d y_1 / d x_1 = x_0 = 2 is NaN there, and d y_3 / d x_3 (a product
    holding the NaN) is 0. jac's entries are the products themselves."""
    x = T([2.0, 0.0, nan, 3.0])
    theirs = torch.autograd.functional.jacobian(lambda t: torch.cumprod(t, 0), x.detach()).numpy()
    ours = np.asarray(api.jacobian("torch.cumprod(x, 0)", {"x": np.array([2.0, 0.0, nan, 3.0])})["x"])
    assert np.isnan(theirs[1, 1]) and ours[1, 1] == 2.0
    assert theirs[3, 3] == 0.0 and np.isnan(ours[3, 3])


def test_cumprod_along_an_axis_of_a_matrix_past_a_nan():
    x = np.array([[2.0, nan], [0.0, 3.0], [nan, 4.0]])
    got = np.asarray(api.jacobian("x.cumprod(dim=0)", {"x": x})["x"])
    for col in range(2):
        assert np.array_equal(got[:, col, :, col], _exact_cumprod_jacobian(x[:, col]), equal_nan=True)
        assert not got[:, col, :, 1 - col].any()


def test_cumprod_vjp_of_a_general_cotangent_is_unchanged():
    x = np.array([0.5, -2.0, 3.0, 0.25])
    assert_parity("torch.cumprod(x, 0)", {"x": x}, lambda x: torch.cumprod(x, 0))
    assert_parity("torch.cumprod(x, 0).sum()", {"x": np.array([1.5, 0.0, 2.0])}, lambda x: torch.cumprod(x, 0).sum())


# --- logdet of a negative determinant: NaN and a NaN derivative (PyTorch: NaN and 0); slogdet is PyTorch's --

NEGATIVE = np.array([[1.0, 2.0], [3.0, 1.0]])  # det = -5


def test_logdet_of_a_negative_determinant_has_a_nan_derivative():
    for expr in ("torch.logdet(A)", "A.logdet()", "torch.logdet(A) + A.sum()"):
        assert np.isnan(api.evaluate(expr, {"A": NEGATIVE}))
        assert np.isnan(np.asarray(api.jacobian(expr, {"A": NEGATIVE})["A"])).all(), expr
        assert np.isnan(np.asarray(api.hessian(expr, {"A": NEGATIVE})["A", "A"])).all(), expr
    with np.errstate(invalid="ignore"):  # central differences: log of a negative number on both sides
        assert np.isnan(central(lambda a: np.log(np.linalg.det(a)), NEGATIVE)).all()
    A = T(NEGATIVE)
    torch.logdet(A).backward()
    assert not A.grad.numpy().any()  # PyTorch's documented difference: a zero gradient at a NaN value


def test_logdet_elsewhere_is_pytorch_s():
    pos = np.array([[2.0, 0.5], [0.3, 1.0]])
    assert_parity("torch.logdet(A)", {"A": pos}, lambda A: torch.logdet(A))
    batch = np.stack([pos, NEGATIVE, 2 * pos])
    got = np.asarray(api.jacobian("torch.logdet(A)", {"A": batch})["A"])
    A = T(batch)
    want = torch.autograd.functional.jacobian(torch.logdet, A.detach()).numpy()
    for k in (0, 2):  # each matrix's own derivatives, PyTorch's; the negative one's NaN row stays its own
        np.testing.assert_allclose(got[k], want[k], rtol=1e-12)
    assert np.isnan(got[1, 1]).all() and not got[1, 0].any() and not got[1, 2].any()
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    assert api.evaluate("torch.logdet(A)", {"A": singular}) == -inf == torch.logdet(torch.tensor(singular)).item()


@pytest.mark.parametrize("expr,fn", [
    ("torch.slogdet(A)[1]", lambda A: torch.slogdet(A)[1]),
    ("torch.linalg.slogdet(A).logabsdet * 2", lambda A: torch.linalg.slogdet(A).logabsdet * 2),
    ("torch.linalg.slogdet(A).sign * A.sum()", lambda A: torch.linalg.slogdet(A).sign * A.sum()),
    ("s, l = torch.slogdet(A); s * torch.exp(l)", lambda A: torch.det(A)),
])
def test_slogdet_of_a_negative_determinant_is_pytorch_s(expr, fn):
    assert_parity(expr, {"A": NEGATIVE}, fn)


# --- everyday spellings jac refused: each as PyTorch / NumPy defines it --------------------------------

X6 = np.array([1.5, -2.0, 3.0, 0.5, 4.0, -1.0])
A2 = np.array([7.0, -7.5, 5.0])
B2 = np.array([2.0, 2.0, -3.0])

SPELLINGS = [  # expression, PyTorch's function of x (float64)
    ("np.array(x, float) * x", lambda x: x * x),
    ("np.asarray(x, np.float64) ** 2", lambda x: x ** 2),
    ("np.asarray(x, 'float64').sum()", lambda x: x.sum()),
    ("np.array([1.7, -2.5, 3.2, 0.0, 1.0, 2.0], np.int64) * x",
     lambda x: torch.tensor([1, -2, 3, 0, 1, 2], dtype=torch.float64) * x),
    ("np.ascontiguousarray(x, np.float32) * 2", lambda x: x * 2),  # float32: jac's one dtype, as x.astype
    ("torch.tensor([1.5, 2.0], dtype=torch.float64) @ x[:2]", lambda x: torch.tensor([1.5, 2.0], dtype=torch.float64) @ x[:2]),
    ("torch.tensor([1, 2, 3, 4, 5, 6], dtype=torch.float64) * x", lambda x: torch.arange(1.0, 7.0, dtype=torch.float64) * x),
    ("x.reshape(torch.Size([2, 3])).sum(0)", lambda x: x.reshape(torch.Size([2, 3])).sum(0)),
    ("x.view(torch.Size([3, 2])) * 2", lambda x: x.view(torch.Size([3, 2])) * 2),
    ("x.reshape(torch.Size(x.shape[:1]) + (1,))", lambda x: x.reshape(torch.Size(x.shape[:1]) + (1,))),
    ("torch.zeros(torch.Size([2, 3])) + x.reshape(2, 3)", lambda x: torch.zeros(torch.Size([2, 3]), dtype=torch.float64) + x.reshape(2, 3)),
    ("x.reshape(2, 3).expand(torch.Size([2, 2, 3])).sum(0)", lambda x: x.reshape(2, 3).expand(torch.Size([2, 2, 3])).sum(0)),
    ("(x.shape == torch.Size([6])) * x", lambda x: (x.shape == torch.Size([6])) * x),
    ("(x.shape == (6, 6)) * x + 1", lambda x: (x.shape == (6, 6)) * x + 1),  # Python's ==: one False, not [1, 1]
    ("(x.reshape(2, 3).shape == (2, 3)) * x", lambda x: (x.reshape(2, 3).shape == (2, 3)) * x),
    ("(x.shape == [6]) + x", lambda x: (x.shape == [6]) + x),  # a tuple never equals a list
    ("(x.size() != torch.Size([6])) + x", lambda x: (x.size() != torch.Size([6])) + x),
    ("torch.DoubleTensor(x) * x", lambda x: torch.DoubleTensor(x) * x),
    ("torch.DoubleTensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]) * x", lambda x: torch.DoubleTensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]) * x),
    ("torch.FloatTensor([0.5, 2.0, 1.0, 1.0, 1.0, 3.0]) * x", lambda x: torch.tensor([0.5, 2.0, 1.0, 1.0, 1.0, 3.0], dtype=torch.float64) * x),
    ("torch.LongTensor([1.7, -2.5, 3.0, 0.0, 1.0, 2.0]) * x", lambda x: torch.LongTensor([1.7, -2.5, 3.0, 0.0, 1.0, 2.0]) * x),
    ("x[torch.LongTensor([2, 0])]", lambda x: x[torch.LongTensor([2, 0])]),
    ("x[torch.BoolTensor([1, 0, 1, 0, 0, 1])]", lambda x: x[torch.BoolTensor([1, 0, 1, 0, 0, 1])]),
    ("x[slice(1, 3)]", lambda x: x[slice(1, 3)]),
    ("x[slice(4)] * 2", lambda x: x[slice(4)] * 2),
    ("x.reshape(2, 3)[slice(None), slice(0, 3, 2)]", lambda x: x.reshape(2, 3)[slice(None), slice(0, 3, 2)]),
    ("s = slice(1, 5, 2); x[s] ** 2", lambda x: x[1:5:2] ** 2),
    ("x[np.s_[1:3]]", lambda x: x[1:3]),
    ("x.reshape(3, 2)[np.s_[1:, 0]]", lambda x: x.reshape(3, 2)[1:, 0]),
    ("x.reshape(3, 2)[np.index_exp[:2]]", lambda x: x.reshape(3, 2)[:2]),
    ("idx = np.s_[::2]; x[idx] * x[1::2]", lambda x: x[::2] * x[1::2]),
    ("x if x.ndim == 1 else x.sum(0)", lambda x: x if x.ndim == 1 else x.sum(0)),
    ("x.reshape(2, 3) if x.ndim == 2 else x.sum() * 2", lambda x: x.reshape(2, 3) if x.ndim == 2 else x.sum() * 2),
    ("x * 2 if x.shape[0] > 3 else x", lambda x: x * 2 if x.shape[0] > 3 else x),
    ("(x if True else -x) + (x if 0 else 2 * x)", lambda x: x + 2 * x),
    ("y = x if x.shape == torch.Size([6]) else x.sum(1); y.exp()", lambda x: x.exp()),
    ("x.sum() if len(x) == 6 else x.prod()", lambda x: x.sum()),
    ("x if x.dim() == 2 else x[:, None] * x", lambda x: x[:, None] * x),  # the other branch would fail: not lowered
    ("x[0] if x.numel() > 10 else x[-1] ** 2", lambda x: x[-1] ** 2),
]


@pytest.mark.parametrize("expr,fn", SPELLINGS, ids=[c[0] for c in SPELLINGS])
def test_everyday_spellings_are_pytorch_s(expr, fn):
    assert_parity(expr, {"x": X6}, fn)


def test_divmod_is_numpy_s():
    q, r = np.divmod(A2, B2)
    for expr, want, d in (("divmod(a, b)[0]", q, 0.0), ("divmod(a, b)[1] * 2", 2 * r, 2.0),
                          ("q, r = divmod(a, 2.0); q + r", np.divmod(A2, 2.0)[0] + np.divmod(A2, 2.0)[1], 1.0)):
        assert np.array_equal(api.evaluate(expr, {"a": A2, "b": B2}), want), expr
        assert np.array_equal(np.diag(np.asarray(api.jacobian(expr, {"a": A2, "b": B2})["a"])), np.full(3, d)), expr
    assert np.array_equal(api.evaluate("divmod(a, b)[1]", {"a": A2, "b": B2}),
                          api.evaluate("np.divmod(a, b)[1]", {"a": A2, "b": B2}))
    with pytest.raises(TypeError):  # PyTorch's tensors have no divmod: NumPy's is the one meaning
        divmod(torch.tensor(A2), torch.tensor(B2))


@pytest.mark.parametrize("expr,says", [
    ("x if x.sum() > 0 else -x", "torch.where(test, a, b) or np.where(test, a, b)"),
    ("x if x[0] > 0 else -x", "torch.where(test, a, b) or np.where(test, a, b)"),
    ("y = x * 2 if (x > 0).any() else x; y", "torch.where(test, a, b) or np.where(test, a, b)"),
    ("x if np.array([1.0, 2.0]) else -x", "ambiguous"),
    ("torch.FloatTensor(x)", "t.to(torch.float32)"),  # PyTorch: a float64 tensor is not cast
    ("torch.LongTensor(x)", "t.to(torch.int64)"),
    ("torch.FloatTensor(2, 3)", "torch.zeros(2, 3)"),
    ("torch.Size(x)", "torch.Size([2, 3])"),
    ("x.reshape(torch.Size([2.0, 3]))", "integers"),
    ("x.shape < [6]", "between a tuple and a list"),
    ("x[slice(1, 3, 0)]", "step must not be 0"),
    ("torch.as_tensor(x, torch.float64)", "at most 1 argument"),  # PyTorch: as_tensor takes dtype by keyword
    ("torch.tensor(x, torch.float64)", "at most 1 argument"),
])
def test_spellings_that_stay_refused_say_why(expr, says):
    with pytest.raises(JacError) as err:
        api.evaluate(expr, {"x": X6})
    assert says in err.value.message, err.value.message


def test_refusals_match_pytorch_s():
    x = torch.tensor(X6)
    for fn in (lambda: torch.FloatTensor(x), lambda: torch.Size([2.0, 3]), lambda: torch.as_tensor(x, torch.float64),
               lambda: torch.tensor(x, torch.float64)):
        with pytest.raises(TypeError):
            fn()
    with pytest.raises(RuntimeError):  # a tensor of several elements has no truth value
        bool(x > 0)


def test_a_conditional_lowers_only_the_branch_taken():
    """x.sum(1) of a vector is an error: in the branch not taken it is never lowered, as Python never runs it."""
    assert np.array_equal(api.evaluate("x if x.ndim == 1 else x.sum(1)", {"x": X6}), X6)
    with pytest.raises(JacError, match="dim"):
        api.evaluate("x.sum(1) if x.ndim == 1 else x", {"x": X6})
    compiled = api.compile("x * 2 if x.shape[0] > 3 else x", {"x": X6})
    assert np.array_equal(compiled.value({"x": -X6}), -2 * X6)
    short = np.array([1.0, 2.0])
    assert np.array_equal(api.evaluate("x * 2 if x.shape[0] > 3 else x", {"x": short}), short)  # new shape: new graph


def test_conditionals_and_spellings_on_the_command_line():
    from typer.testing import CliRunner

    from jacobi_cli.cli.app import app

    out = CliRunner().invoke(app, ["eval", "x if x.ndim == 1 else x.sum(0)", "x=[1, 2]"])
    assert out.exit_code == 0 and "∂y/∂x" in out.stdout
    out = CliRunner().invoke(app, ["eval", "x if x.sum() > 0 else -x", "x=[1, 2]"])
    assert out.exit_code == 2 and "torch.where" in out.stderr
