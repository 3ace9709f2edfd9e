"""What a newcomer pasting PyTorch / NumPy code meets (htrust11): last session's leftovers (computed integer
indices, the message of torch.var of integers, the sparse header's count, jac diff's unused bindings,
derivatives at special points) and a sweep of everyday snippets, each against PyTorch / NumPy."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from parity import assert_parity

torch = pytest.importorskip("torch")
F = torch.nn.functional
runner = CliRunner()


def T(a):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


# --- the message of a mean inside another function names the function written ---------------------

@pytest.mark.parametrize("expr,named", [("torch.var(x.long())", "torch.var"), ("torch.std(x.long())", "torch.std"),
                                        ("x.long().var(dim=0)", "torch.var"), ("torch.var_mean(x.long())",
                                                                               "torch.var_mean")])
def test_a_refused_mean_of_integers_names_the_function_written(expr, named):
    with pytest.raises(JacError) as err:
        api.evaluate(expr, {"x": np.array([1.0, 3.0, 2.0])})
    assert err.value.message.startswith(f"{named} of an integer tensor") and "x.float()" in err.value.message
    with pytest.raises(RuntimeError):  # PyTorch refuses them too
        eval(expr.replace("x.long()", "torch.tensor([1, 3, 2])"))


def test_torch_mean_of_integers_still_says_mean():
    with pytest.raises(JacError, match=r"^mean: PyTorch does not support the mean of an integer tensor"):
        api.evaluate("torch.mean(x.long())", {"x": np.array([1.0, 3.0])})


# --- the sparse header counts stored entries, not nonzeros -------------------------------------------

def test_the_sparse_header_says_it_counts_stored_entries():
    out = runner.invoke(app, ["eval", "torch.max(A, dim=1).values", "A=[[1, 5, 5], [4, 2, 0]]"])
    assert out.exit_code == 0
    assert "∂y/∂A: vector by matrix, sparse (6 stored entries)," in out.stdout  # 2 nonzeros, 6 stored
    assert "nnz" not in out.stdout
    explained = runner.invoke(app, ["eval", "x[1:] - x[:-1]", "x:100", "--explain"]).stdout
    assert "sparse (198 stored entries)" in explained and "nnz" not in explained


# --- jac diff names a bound input the expression does not use, as jac eval does -------------------

def test_jac_diff_warns_about_an_unused_binding_as_eval_does():
    for command in ("eval", "diff"):
        out = runner.invoke(app, [command, "x**2", "x=1", "y=2"])
        assert out.exit_code == 0
        assert "jac: warning (unused): the input 'y' is not used by the expression: its derivatives are zero" \
            in out.stderr, command
        assert "warning" not in runner.invoke(app, [command, "x**2 + y", "x=1", "y=2"]).stderr
    report = json.loads(runner.invoke(app, ["diff", "x**2, x*z", "x=1", "y=2", "z=3", "--json"]).stdout)
    assert [w["in"] for w in report["warnings"]] == ["y"]


def test_jac_diff_does_not_take_unpacked_names_for_inputs():
    report = json.loads(runner.invoke(app, ["diff", "a, b = x**2, x*z; a, b", "x=1", "z=3", "--json"]).stdout)
    assert list(report["inputs"]) == ["x", "z"] and "warnings" not in report  # a and b were symbols, ∂a/∂a = 0
    assert list(report["derivatives"]["a"]) == ["x", "z"]


# --- an index computed by argmax / argmin: the element at it, its derivative there, as PyTorch's ------

ARGMAX_CASES = [
    ("x[torch.argmax(x)]", lambda x, A: x[torch.argmax(x)]),
    ("x[np.argmax(x)] * 2", lambda x, A: x[torch.argmax(x)] * 2),
    ("x[x.argmin()] ** 2 + x.sum()", lambda x, A: x[x.argmin()] ** 2 + x.sum()),
    ("A[torch.argmax(x[:2])]", lambda x, A: A[torch.argmax(x[:2])]),
    ("A[A[:, 0].argmax(), 1:]", lambda x, A: A[A[:, 0].argmax(), 1:]),
    ("A[torch.argmin(A[:, 2], dim=0), 0] * x[0]", lambda x, A: A[torch.argmin(A[:, 2], dim=0), 0] * x[0]),
]


@pytest.mark.parametrize("expr,fn", ARGMAX_CASES, ids=[c[0] for c in ARGMAX_CASES])
@pytest.mark.parametrize("xs", [[1.0, 3.0, 2.0], [3.0, 3.0, -1.0], [-5.0, 0.5, 7.0]])
def test_an_argmax_index_is_pytorch_s(expr, fn, xs):
    A = np.array([[1.0, -2.0, 3.0], [4.0, 0.5, -6.0]]) * xs[0]
    assert_parity(expr, {"x": np.array(xs), "A": A}, fn)


def test_an_argmax_index_compiled_once_follows_the_values():
    compiled = api.compile("x[torch.argmax(x)] * 3", {"x": np.array([1.0, 3.0, 2.0])})
    for xs in ([1.0, 3.0, 2.0], [5.0, 1.0, 2.0], [0.0, 1.0, 9.0], [1.0, 3.0, 2.0], [np.nan, 1.0, 2.0]):
        x = T(xs)
        y = x[torch.argmax(x)] * 3
        y.backward()
        assert np.array_equal(compiled.value({"x": np.array(xs)}), y.detach().numpy(), equal_nan=True)
        assert np.array_equal(compiled.jacobian({"x": np.array(xs)})["x"], x.grad.numpy()), xs


def test_an_index_computed_from_the_values_is_taken_at_them_as_numpy_and_pytorch_index():  # session 33
    x, a = np.array([1.0, -3.0, 2.0]), np.arange(6.0).reshape(3, 2) % 4
    assert api.evaluate("x[(x > 0).sum()]", {"x": x}) == x[2]  # PyTorch's x[tensor(2)]
    lone = np.array([[0.0, 2.0], [1.0, 0.5], [0.0, 0.0]])  # the flat argmax 1: NumPy's row 1, not the element 2
    np.testing.assert_array_equal(api.evaluate("A[np.argmax(A)]", {"A": lone}), lone[np.argmax(lone)])
    assert np.argmax(lone) == 1
    with pytest.raises(JacError, match="out of bounds"):  # argmax of 6 elements for an axis of 3: NumPy's IndexError
        api.evaluate("A[np.argmax(A)]", {"A": a})
    with pytest.raises(JacError, match="out of bounds"):
        api.evaluate("x[(x > 0).sum()]", {"x": np.abs(x)})


@pytest.mark.parametrize("expr,says", [
    ("x[torch.argmax(x), None]", "taken first and alone"),
    ("x[x.argmax(), 0]", "too many indices"),
])
def test_other_computed_indices_are_refused_saying_what_to_write(expr, says):
    with pytest.raises(JacError, match=says):
        api.evaluate(expr, {"x": np.array([1.0, 3.0, 2.0]), "A": np.ones((2, 3))})


# --- derivatives at special points: PyTorch's where jac's rule was merely written otherwise ---------

nan, inf = np.nan, np.inf


def _diagonal_grads(expr, fn, xs):
    """jac's and PyTorch's derivative of an element-wise ``expr`` at each point (a sum's gradient: the
    diagonal of the Jacobian, without PyTorch's 0 · inf = NaN off the diagonal)."""
    ours = np.asarray(api.vjp(expr, {"x": np.array(xs)}, v=np.ones(len(xs)))["x"])
    x = T(xs)
    fn(x).sum().backward()
    return ours, x.grad.numpy()


SPECIAL_POINTS = [
    ("x ** 0.5", lambda x: x ** 0.5, [-0.0, 0.0, 4.0, 2.0]),              # -inf at -0 (PyTorch: 0.5 · rsqrt(-0))
    ("torch.pow(x, 0.5)", lambda x: torch.pow(x, 0.5), [-0.0, 0.0, 0.3]),
    ("torch.rsqrt(x)", lambda x: torch.rsqrt(x), [-0.0, 0.0, 4.0, 0.3]),  # +inf at -0 (-ans³ / 2)
    ("torch.special.i1(x)", lambda x: torch.special.i1(x), [nan, 0.0, 0.5, -1.0]),  # 1/2 at NaN
    ("torch.special.i1e(x)", lambda x: torch.special.i1e(x), [nan, 0.0, 0.5, -1.0]),
    ("F.hardtanh(x)", lambda x: F.hardtanh(x), [nan, 1.0, -1.0, 0.5, 2.0]),  # 1 at NaN
    ("F.relu6(x)", lambda x: F.relu6(x), [nan, 0.0, 6.0, 3.0]),
    ("F.softshrink(x)", lambda x: F.softshrink(x), [nan, 0.5, -0.5, 0.2, -0.0, 2.0, -2.0]),
    ("F.elu(x)", lambda x: F.elu(x), [nan, 0.0, -1.0, 2.0]),
    ("F.selu(x)", lambda x: F.selu(x), [nan, 0.0, -1.0, 2.0]),
    ("F.celu(x, 0.5)", lambda x: F.celu(x, 0.5), [nan, 0.0, -1.0, 2.0]),
]


@pytest.mark.parametrize("expr,fn,xs", SPECIAL_POINTS, ids=[c[0] for c in SPECIAL_POINTS])
def test_derivatives_at_special_points_are_pytorch_s(expr, fn, xs):
    ours, theirs = _diagonal_grads(expr, fn, xs)
    np.testing.assert_allclose(ours, theirs, rtol=1e-14, atol=0)
    assert np.array_equal(np.signbit(ours), np.signbit(theirs)), (ours, theirs)
    value = np.asarray(api.evaluate(expr, {"x": np.array(xs)}))
    want = fn(T(xs)).detach().numpy()
    # within an ulp or two: PyTorch's AVX-512 kernels round x ** 0.5 at 2 one ulp below the correctly rounded
    # sqrt(2) that NumPy (and PyTorch's AVX2 kernels) give; the zeros, signs and NaNs are exact
    np.testing.assert_allclose(value, want, rtol=1e-15, atol=0, equal_nan=True)
    assert np.array_equal(np.isnan(value), np.isnan(want)) and np.array_equal(
        np.signbit(value[~np.isnan(value)]), np.signbit(want[~np.isnan(want)]))
    compiled = api.compile(expr, {"x": np.array(xs)})  # a compiled kernel's answers are the interpreter's
    for _ in range(3):
        got = np.asarray(compiled.vjp({"x": np.array(xs)}, np.ones(len(xs)))["x"])
        assert got.tobytes() == ours.tobytes()


def test_documented_differences_at_special_points():
    """docs/vocabulary-elementwise.md and vocabulary-reductions.md list these: jac's value is the exact one."""
    d = api.jacobian("torch.copysign(x, y)", {"x": np.array([inf, -inf, 2.0]), "y": np.array([1.0, -2.0, -inf])})
    assert np.array_equal(np.diag(np.asarray(d["x"])), [1.0, 1.0, -1.0])  # sign(x) · sign(y)
    x = T([inf, -inf, 2.0])
    torch.copysign(x, torch.tensor([1.0, -2.0, -inf], dtype=torch.float64)).sum().backward()
    assert np.isnan(x.grad.numpy()[:2]).all()  # PyTorch: result / x
    assert np.array_equal(np.asarray(api.jacobian("torch.prod(x)", {"x": np.array([1.0, nan, 3.0])})["x"]),
                          [nan, 3.0, nan], equal_nan=True)
    assert np.asarray(api.evaluate("x ** -0.5", {"x": np.array([-0.0])}))[0] == inf  # NumPy's pow; PyTorch: -inf
    assert np.asarray(api.evaluate("torch.rsqrt(x)", {"x": np.array([-0.0])}))[0] == -inf


# --- Python's + and * of lists and tuples: repetition and concatenation, as the pasted code means ---------

X14 = np.array([[1.0, 2.0, 3.0, 4.0]])

SEQUENCES = [  # each was an element-wise product or sum, silently (or a confusing shape error)
    ("torch.tensor([1, 2] * 2) * x[0]", lambda x: torch.tensor([1, 2] * 2) * x[0]),
    ("torch.tensor([0.5] * 4) * x", lambda x: torch.tensor([0.5] * 4) * x),
    ("np.array([1, 2] + [3, 4]) * x", lambda x: torch.tensor([1, 2] + [3, 4]) * x),
    # floats: PyTorch refuses Long @ Float, and so does jac (tests/test_dtype16.py)
    ("torch.tensor([[1., 2.]] * 2) @ x[:, :2].T", lambda x: torch.tensor([[1., 2.]] * 2, dtype=torch.float64) @ x[:, :2].T),
    ("x.reshape((2,) * 2)", lambda x: x.reshape((2,) * 2)),
    ("x.reshape(x.shape + (1,))", lambda x: x.reshape(x.shape + (1,))),
    ("x.view(x.shape[:-1] + (2, -1))", lambda x: x.view(x.shape[:-1] + (2, -1))),
    ("s = x.shape; x.reshape(s + (1,)) * 2", lambda x: x.reshape(x.shape + (1,)) * 2),
    ("torch.zeros(x.shape * 2) + x.sum()", lambda x: torch.zeros(x.shape * 2, dtype=torch.float64) + x.sum()),
    ("torch.cat([x] * 3)", lambda x: torch.cat([x] * 3)),
    ("torch.cat([x] + [2 * x], 1)", lambda x: torch.cat([x] + [2 * x], 1)),
    ("torch.stack([x, -x] * 2)", lambda x: torch.stack([x, -x] * 2)),
    ("torch.tensor([0.0] * len(x)) + x[:, 0]", lambda x: torch.tensor([0.0] * len(x)) + x[:, 0]),
    ("np.tile(x, [1] * 2)", lambda x: x.tile([1] * 2)),
    ("y = [1.0, 2.0]; y += [3.0, 4.0]; torch.tensor(y) * x", lambda x: torch.tensor([1.0, 2.0, 3.0, 4.0]) * x),
    ("y = [1.0, 2.0]; y *= 2; torch.tensor(y) * x", lambda x: torch.tensor([1.0, 2.0, 1.0, 2.0]) * x),
    ("s = x.shape; s += (1,); x.reshape(s)", lambda x: x.reshape(x.shape + (1,))),
    ("x.view(x.size()[:-1] + (2, 2))", lambda x: x.view(x.size()[:-1] + (2, 2))),
    ("torch.tensor(x.size() + (1,)) * x.sum()", lambda x: torch.tensor(x.size() + (1,)) * x.sum()),
    ("x.reshape(list(x.shape[:1]) + [-1])", lambda x: x.reshape(list(x.shape[:1]) + [-1])),
    ("x.reshape(tuple(x.shape) + (1,))", lambda x: x.reshape(tuple(x.shape) + (1,))),
    ("x[list(range(1)), 0]", lambda x: x[list(range(1)), 0]),
    ("idx = (0, 1); x[idx]", lambda x: x[0, 1]),  # a tuple index is one index per axis; a list picks rows
    ("idx = [0, 0]; x[idx]", lambda x: x[[0, 0]]),
    ("x[tuple([0, 2])]", lambda x: x[0, 2]),
    ("s = x.shape; x[s[:1] * 0] * 2", lambda x: x[()] * 2),  # x[()] is x
]


@pytest.mark.parametrize("expr,fn", SEQUENCES, ids=[c[0] for c in SEQUENCES])
def test_python_sequence_arithmetic_is_python_s(expr, fn):
    assert_parity(expr, {"x": X14}, fn)


@pytest.mark.parametrize("expr", ["torch.tensor([1., 2.]) * 2", "np.array([1, 2]) + [3, 4]", "np.asarray((1, 2)) * 2",
                                  "torch.tensor(x.shape) * 2", "np.array(x.shape) + 1", "x * (1, 2, 3, 4)",
                                  "[1, 2, 3, 4] + x", "np.copy([1, 2]) * 2", "np.array([1, 2])[:] * 2"])
def test_arrays_made_of_lists_keep_element_wise_arithmetic(expr):
    got = np.asarray(api.evaluate(expr, {"x": X14}))
    want = eval(expr, {"np": np, "torch": torch, "x": torch.tensor(X14) if "torch" in expr else X14})
    assert np.array_equal(got, np.asarray(want, dtype=float))


@pytest.mark.parametrize("expr,says", [("[1, 2] + 1", "list plus a number"), ("[1.0] * 2.5", "list times a number"),
                                       ("x.shape + 1", "tuple plus a number"), ("(1, 2) * (1, 2)", "times another")])
def test_what_python_refuses_of_sequences_is_refused(expr, says):
    with pytest.raises(JacError, match=says):
        api.evaluate(expr, {"x": X14})


# --- dtype= of a reduction or softmax casts the input first, as PyTorch and NumPy (it was refused) -------

X23 = np.array([[1.5, -2.5, 3.0], [0.5, 4.0, -1.0]])


@pytest.mark.parametrize("expr,fn", [
    ("x.sum(dtype=torch.float64)", lambda x: x.sum(dtype=torch.float64)),
    ("torch.sum(x, 1, dtype=torch.float64) * x[:, 0]", lambda x: torch.sum(x, 1, dtype=torch.float64) * x[:, 0]),
    ("x.mean(0, dtype=torch.float64)", lambda x: x.mean(0, dtype=torch.float64)),
    ("torch.softmax(x, -1, dtype=torch.float64)", lambda x: torch.softmax(x, -1, dtype=torch.float64)),
    ("F.log_softmax(x, dim=1, dtype=torch.float64)", lambda x: F.log_softmax(x, dim=1, dtype=torch.float64)),
    ("x.prod(1, dtype=torch.float64)", lambda x: x.prod(1, dtype=torch.float64)),
    ("torch.cumsum(x, 1, dtype=torch.float64)", lambda x: torch.cumsum(x, 1, dtype=torch.float64)),
])
def test_dtype_of_a_reduction_is_pytorch_s(expr, fn):
    assert_parity(expr, {"x": X23}, fn)


@pytest.mark.parametrize("expr,want", [
    ("x.sum(dtype=torch.long) * 1.0", torch.tensor(X23).sum(dtype=torch.long).numpy()),  # truncated first: 3
    ("torch.cumsum(x, 1, dtype=torch.int32) * 1.0", torch.cumsum(torch.tensor(X23), 1, dtype=torch.int32).numpy()),
    ("np.sum(x, axis=0, dtype=int) * 1.0", np.sum(X23, axis=0, dtype=int)),
    ("np.prod(x, dtype=np.int64) * 1.0", np.prod(X23, dtype=np.int64)),
])
def test_an_integer_dtype_truncates_before_the_sum(expr, want):
    assert np.array_equal(np.asarray(api.evaluate(expr, {"x": X23})), want)


def test_an_integer_dtype_of_a_mean_is_refused_as_pytorch_does():
    with pytest.raises(JacError, match=r"mean\(dtype=long\)"):
        api.evaluate("x.mean(dtype=torch.long)", {"x": X23})


# --- Python's range(): the idiom logp[range(n), targets] (it was "the function 'range' is not supported") ---

LOGP = np.log(np.array([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]]))


@pytest.mark.parametrize("expr,fn", [
    ("-lp[range(3), [1, 0, 1]].mean()", lambda lp: -lp[range(3), [1, 0, 1]].mean()),
    ("lp[range(len(lp)), torch.tensor([1, 0, 1])].sum()", lambda lp: lp[range(len(lp)), torch.tensor([1, 0, 1])].sum()),
    ("lp[range(1, 3)] * 2", lambda lp: lp[range(1, 3)] * 2),
    ("torch.tensor(range(2)) * lp[0]", lambda lp: torch.tensor(range(2)) * lp[0]),
    ("lp[:, range(1, -1, -1)]", lambda lp: lp[:, range(1, -1, -1)]),
])
def test_python_range_is_python_s(expr, fn):
    assert_parity(expr, {"lp": LOGP}, fn)


@pytest.mark.parametrize("expr", ["range(2.5)", "range(1, 2, 0)", "range()"])
def test_range_refuses_what_python_refuses(expr):
    with pytest.raises(JacError, match="range"):
        api.evaluate(expr, {})


# --- Python's max(a, b) / min of numbers and 0-d arrays (max(loss, 0) read 0 as an axis: loss itself) ------

@pytest.mark.parametrize("expr,fn", [
    ("max(x[0, 1], 0)", lambda x: torch.clamp(x[0, 1], min=0) if x[0, 1] > 0 else x[0, 1] * 0),
    ("max(x[1, 0] - 3, 0) * x", lambda x: max(x[1, 0] - 3, 0) * x),
    ("min(x[0, 1], x[0, 0], -1)", lambda x: min(x[0, 1], x[0, 0], -1)),
    ("max(2, 3) * x", lambda x: 3 * x),
    ("min(x.shape[0], 1) * x", lambda x: 1 * x),
])
def test_python_max_of_numbers_is_python_s(expr, fn):
    x = np.array([[1.0, -2.0], [3.0, 4.0]])
    value = np.asarray(api.evaluate(expr, {"x": x}))
    t = T(x)
    want = torch.as_tensor(fn(t), dtype=torch.float64)
    assert np.allclose(value, want.detach().numpy())
    grad = torch.autograd.functional.jacobian(lambda u: torch.as_tensor(fn(u), dtype=torch.float64), T(x))
    assert np.allclose(np.asarray(api.jacobian(expr, {"x": x})["x"]), grad.numpy())


def test_bare_max_of_an_array_is_still_numpy_s():
    x = np.array([[1.0, -2.0], [3.0, 4.0]])
    assert np.array_equal(api.evaluate("max(x, 1)", {"x": x}), [1.0, 4.0])
    assert api.evaluate("max(x)", {"x": x}) == 4.0


# --- '*' unpacking in calls, lists and indices (it was "'*' unpacking are not part of jac's expression language") ---

X234 = np.arange(24.0).reshape(2, 3, 4) / 7


@pytest.mark.parametrize("expr,fn", [
    ("x.view(*x.shape[:-1], 2, -1)", lambda x: x.view(*x.shape[:-1], 2, -1)),
    ("x.reshape(-1, *x.shape[1:])", lambda x: x.reshape(-1, *x.shape[1:])),
    ("x.permute(*range(2, -1, -1))", lambda x: x.permute(*range(2, -1, -1))),
    ("torch.zeros(*x.shape, dtype=torch.float64) + x", lambda x: torch.zeros(*x.shape, dtype=torch.float64) + x),
    ("torch.stack([*x]) * 2", lambda x: torch.stack([*x]) * 2),
    ("torch.maximum(*x)", lambda x: torch.maximum(*x)),
    ("x[*[1, 2]]", lambda x: x[1, 2]),
    ("torch.ones((*x.shape[:1], 3), dtype=torch.float64) @ x[0]",
     lambda x: torch.ones((*x.shape[:1], 3), dtype=torch.float64) @ x[0]),
])
def test_star_unpacking_is_python_s(expr, fn):
    assert_parity(expr, {"x": X234}, fn)


def test_star_unpacking_of_a_number_is_refused():
    with pytest.raises(JacError, match="'\\*' unpacks"):
        api.evaluate("[*x.sum()]", {"x": X234})


# --- a pasted first line that sets a library's global state says what jac has instead -------------------

@pytest.mark.parametrize("expr,says", [("torch.manual_seed(0); x * 2", "seed="), ("np.random.seed(1)\nx * 2", "seed="),
                                       ("torch.set_default_dtype(torch.float16); x", "dtype=")])  # the API's words
def test_a_global_setting_line_names_jacs_option(expr, says):
    # torch.set_default_dtype(torch.float64) / (torch.float32) are read since session 37: they set the dtype of the
    # text's constructors (tests/test_dtypes37.py); a half-precision default is still what jac has instead of
    with pytest.raises(JacError, match="is not needed") as err:
        api.evaluate(expr, {"x": np.array(1.0)})
    assert says in err.value.message and "never used" not in err.value.message


# --- index arrays of two or more dimensions (refused as "indices must be integer constants") -----------

@pytest.mark.parametrize("expr,fn", [
    ("x[np.array([[0, 2]]), 1]", lambda x: x[torch.tensor([[0, 2]]), 1]),
    ("x[:, [[0], [3]]]", lambda x: x[:, [[0], [3]]]),
    ("x[torch.tensor([[0, 1], [2, 2]])]", lambda x: x[torch.tensor([[0, 1], [2, 2]])]),
])
def test_index_arrays_of_two_dimensions_are_pytorch_s(expr, fn):
    assert_parity(expr, {"x": np.arange(12.0).reshape(3, 4) / 5}, fn)


def test_a_nested_list_as_the_only_index_is_refused_naming_both_readings():
    with pytest.raises(JacError, match="reads two ways"):
        api.evaluate("x[[[0, 1], [1, 2]]]", {"x": np.ones((3, 4))})
