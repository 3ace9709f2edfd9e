"""What the twenty-first session's sweeps found, without PyTorch: internal errors on arguments of odd ranks (each
now exit 2 with one message), PyTorch's top-level twins of torch.nn.functional read in ATen's order or refused,
and PyTorch's -1 in broadcast_to. tests/test_parity_nn21.py compares the readings with PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.tools import api
from jacobi_cli.errors import JacError, JacValueError
from jacobi_cli.ir.ops import finite_steps

rng = np.random.default_rng(2122)

REFUSED = [  # (expression, bindings, words of the one message); each was an internal error (exit 70) or wrong
    ("torch.broadcast_to(x, -1)", ["x:()"], "not -1 at one of the input's own axes"),
    ("torch.broadcast_to(x, (-1, 3))", ["x:3"], "not -1 at one of the input's own axes"),
    ("torch.slice_scatter(x, y)", ["x:()", "y:()"], "has no axis to write into"),
    ("torch.diagonal_scatter(x, y)", ["x:3", "y:1"], "has no diagonal to write into"),
    ("torch.unbind(x)", ["x:()"], "a scalar has no axis to split along"),
    ("np.rot90(x, 1, 2)", ["x:2x3x4"], "two axes of an array"),
    ("torch.svd(x, 0)[2]", ["x:2x3"], "write some=True"),
    ("torch.tensordot(x, y, z)", ["x:3", "y:3", "z:3"], "dims must be constants"),
    # ATen's losses: an int reduction, every element's loss when omitted (F's default is the mean); read since
    # session 41 (tests/test_vocab41.py), a code ATen has not refused
    ("torch.kl_div(x, y, 3)", ["x:3", "y:3"], "none of ATen's codes"),
    ("torch.binary_cross_entropy_with_logits(x, y, None, None, 1, 2)", ["x:3", "y:3"], "at most 5 positional"),
    ("torch.hinge_embedding_loss(x, y, 1.0, -1)", ["x:3", "y:3"], "none of ATen's codes"),
    # torch.adaptive_max_pool1d(x, 2): ATen's pair, read since session 52 (tests/test_vocab52.py)
    ("torch.adaptive_max_pool1d(x, 2, True)[0]", ["x:1x2x4"], "at most 2 argument"),
    ("F.cross_entropy(x, y)", ["x:0", "y:0"], "has no classes"),  # was 0; PyTorch's mean is NaN (0 / 0)
    ("torch.linalg.vander(x, N=1)", ["x:3"], "N must be greater than 1"),
    ("torch.linalg.vander(x, 2)", ["x:3"], "N is a keyword"),
    # NumPy and PyTorch read a non-symmetric matrix's lower triangle, JAX (and jac) its symmetric part
    ("torch.linalg.cholesky(A)", ["A=[[4, 1], [0, 3]]"], "the matrix is not symmetric"),
    ("np.linalg.eigvalsh(A)", ["A=[[1, 2], [0, 1]]"], "read its lower triangle"),
    ("torch.linalg.eigh(A)[1]", ["A=[[1, 2], [0, 1]]"], "pass the symmetric matrix you mean"),
    ("np.linalg.outer(x, y)", ["x:2x3", "y:3"], "must be vectors"),  # np.outer flattens; np.linalg.outer refuses
    ("np.concatenate(x)", ["x:0"], "there is no array to join"),  # were IndexError
    ("np.vstack(x)", ["x:0"], "there is no array to join"),
    ("np.ravel_multi_index(x, 1)", ["x:()"], "one array of coordinates per axis"),
]


@pytest.mark.parametrize("expr, bindings, words", REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_with_one_message(expr, bindings, words):
    result = CliRunner().invoke(app, ["eval", expr, *bindings])
    assert result.exit_code == 2, result.output
    assert words in result.output and "internal error" not in result.output


def test_the_same_names_of_torch_nn_functional_keep_their_reading():
    x, y = rng.uniform(0.1, 0.9, 3), rng.uniform(0.1, 0.9, 3)
    np.testing.assert_allclose(api.evaluate("F.kl_div(x, y)", {"x": x, "y": y}), np.mean(y * (np.log(y) - x)))
    assert api.evaluate("F.adaptive_max_pool1d(x, 2)", {"x": rng.uniform(-1, 1, (1, 2, 4))}).shape == (1, 2, 2)


def test_aten_orders_of_batch_norm_instance_norm_and_embedding():
    N, w, c = rng.uniform(-1, 1, (2, 3, 4)), rng.uniform(0.5, 1.5, 3), rng.uniform(-1, 1, 3)
    rm, rv, E = rng.uniform(-1, 1, 3), rng.uniform(0.5, 2, 3), rng.uniform(-1, 1, (5, 3))
    env = {"N": N, "w": w, "c": c, "rm": rm, "rv": rv}
    np.testing.assert_array_equal(api.evaluate("torch.batch_norm(N, w, c, rm, rv, False, 0.1, 1e-5, False)", env),
                                  api.evaluate("F.batch_norm(N, rm, rv, w, c, False, 0.1, 1e-5)", env))
    np.testing.assert_array_equal(
        api.evaluate("torch.instance_norm(N, w, c, None, None, True, 0.1, 1e-5, False)", env),
        api.evaluate("F.instance_norm(N, None, None, w, c, True, 0.1, 1e-5)", env))
    np.testing.assert_array_equal(api.evaluate("torch.embedding(E, torch.tensor([0, 4, 2]))", {"E": E}), E[[0, 4, 2]])
    J = api.jacobian("torch.embedding(E, torch.tensor([4, 1]), 4)", {"E": E})["E"]  # ATen: row 4 gets no gradient
    assert not J[0, :, 4].any() and J[1, 0, 1, 0] == 1.0
    J = api.jacobian("torch.embedding(E, torch.tensor([4, 1]), -1)", {"E": E})["E"]  # ATen's -1: no padding row
    assert J[0, 0, 4, 0] == 1.0


@pytest.mark.parametrize("expr, bindings, shape", [
    ("torch.broadcast_to(x, (2, -1))", {"x": np.arange(3.0)}, (2, 3)),
    ("torch.searchsorted(s, v)", {"s": np.zeros((2, 0)), "v": np.ones((2, 3))}, (2, 3)),
    ("torch.searchsorted(s, v)", {"s": np.ones((2, 3)), "v": np.ones((2, 0))}, (2, 0)),
    ("torch.svd(x, 0)[1]", {"x": np.arange(6.0).reshape(2, 3)}, (2,)),
    ("torch.msort(x)", {"x": np.array(2.0)}, ()),
    ("F.scaled_dot_product_attention(q, q, q)", {"q": np.zeros((2, 0))}, (2, 0)),  # was ZeroDivisionError: 1/√0  # was (1,): msort was registered after 0-d reading's wrapping
])
def test_odd_ranks_that_have_an_answer(expr, bindings, shape):
    assert api.evaluate(expr, bindings).shape == shape


def test_relu6_reads_its_second_argument_as_inplace():
    """F.relu6(x, 1) was hardtanh(x, 1, 6): jac's relu6 took min_val and max_val, PyTorch's second argument is
    inplace. Every F function whose last positional parameter is inplace takes it so (it changes nothing)."""
    x = {"x": np.array([-1.0, 3.0, 7.0])}
    np.testing.assert_array_equal(api.evaluate("F.relu6(x * 1, 1)", x), [0.0, 3.0, 6.0])
    with pytest.raises(JacError, match="a leaf that requires grad"):  # session 55: 1 is inplace's truth, as
        api.evaluate("F.relu6(x, 1)", x)  # PyTorch reads it (it raises; the number was read as no flag)
    np.testing.assert_array_equal(api.evaluate("F.relu(x * 1, True) + F.hardtanh(x * 1, -1., 1., True)", x),
                                  [-1.0, 4.0, 8.0])
    np.testing.assert_array_equal(api.evaluate("F.leaky_relu(x * 1, 0.5, True)", x), [-0.5, 3.0, 7.0])
    with pytest.raises(JacError, match="a leaf that requires grad"):  # in place into the input: PyTorch raises
        api.evaluate("F.leaky_relu(x, 0.5, True)", x)
    result = CliRunner().invoke(app, ["eval", "F.relu(x, True, True)", "x:3"])
    assert result.exit_code == 2 and "at most 1 argument" in result.output


def test_linalg_vander_increases_and_takes_batches():
    x = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 2.0]])
    np.testing.assert_array_equal(api.evaluate("torch.linalg.vander(x)", {"x": x}),
                                  np.stack([np.vander(r, increasing=True) for r in x]))
    np.testing.assert_array_equal(api.evaluate("torch.vander(x[0])", {"x": x}), np.vander(x[0]))  # decreasing


def test_a_symmetric_matrix_up_to_rounding_or_a_finite_difference_step_is_read():
    rng2 = np.random.default_rng(4)
    B = rng2.uniform(-1, 1, (4, 4))
    S = B @ B.T + 4 * np.eye(4)
    S[1, 0] += 1e-3  # a central difference's step: within finite differences, its symmetric part
    with finite_steps():
        L = api.evaluate("torch.linalg.cholesky(S)", {"S": S})
    np.testing.assert_allclose(L @ L.T, (S + S.T) / 2, rtol=1e-12)
    # outside them only rounding is read: PyTorch reads the lower triangle, another value (session 35)
    with pytest.raises(JacValueError, match="not symmetric"):
        api.evaluate("torch.linalg.cholesky(S)", {"S": S})
    S[1, 0] = S[0, 1] + 1e-14  # rounding
    np.testing.assert_allclose(api.evaluate("torch.linalg.cholesky(S)", {"S": S}), np.linalg.cholesky(S), rtol=1e-12)
    assert api.evaluate("torch.linalg.cholesky(B @ B.T + 4 * torch.eye(4))", {"B": B}).shape == (4, 4)


def test_numpy_readings_found_by_the_ranks_sweep():
    X = rng.uniform(-1, 1, (2, 3, 4))
    # NumPy 2's np.linalg.trace sums the diagonals of the LAST two axes (np.trace: the first two); jac gave np.trace's
    np.testing.assert_allclose(api.evaluate("np.linalg.trace(X)", {"X": X}), np.trace(X, axis1=-2, axis2=-1))
    np.testing.assert_allclose(api.evaluate("np.linalg.trace(X, offset=1)", {"X": X}),
                               np.trace(X, 1, axis1=-2, axis2=-1))
    np.testing.assert_allclose(api.evaluate("np.trace(X)", {"X": X}), np.trace(X))
    # NumPy ravels a 0-d array for its cumulative functions and argsort: shape (1,) (PyTorch's stay 0-d)
    two = {"x": np.array(2.0)}
    for expr in ("np.cumsum(x, 0)", "np.cumprod(x)", "np.argsort(x)", "np.ascontiguousarray(x)",
                 "np.sort(x, axis=None)"):
        assert api.evaluate(expr, two).shape == (1,), expr
    assert api.evaluate("torch.cumsum(x, 0)", two).shape == ()


@pytest.mark.parametrize("expr, shape, expected", [
    ("x.det() if x.ndim == 2 and x.shape[0] == x.shape[1] else x.sum()", (3, 3), "det"),
    ("x.det() if x.ndim == 2 and x.shape[0] == x.shape[1] else x.sum()", (3,), "sum"),
    ("x.sum() if x.ndim > 1 and x.shape[1] == 3 else x * 2", (3,), "double"),  # x.shape[1] never read, as Python
    ("x * 2 if x.ndim == 1 or x.shape[1] == 3 else x.sum()", (2, 3), "double"),
    ("x.sum() if not x.ndim == 2 else x.det()", (2, 2), "det"),
])
def test_and_or_not_of_tests_known_without_the_values(expr, shape, expected):
    """Pasted code's `if x.ndim == 2 and x.shape[0] == x.shape[1]:` was refused ('and'/'or' not supported)."""
    x = rng.uniform(-1, 1, shape)
    want = {"det": lambda: np.linalg.det(x), "sum": lambda: x.sum(), "double": lambda: x * 2}[expected]()
    np.testing.assert_allclose(api.evaluate(expr, {"x": x}), want)


def test_and_or_not_of_arrays_are_refused():
    for expr, words in (("(x > 0) and (x < 1)", "for arrays write & and |"), ("not x", "write ~(x > 0)")):
        result = CliRunner().invoke(app, ["eval", expr, "x:3"])
        assert result.exit_code == 2 and words in result.output


@pytest.mark.parametrize("expr, shape", [
    ("x.permute(*reversed(range(x.ndim)))", (3, 4, 2)),
    ("x.permute(tuple(reversed(range(x.ndim))))", (3, 4, 2)),
    ("x.reshape(sorted(x.shape))", (2, 3, 4)),
    ("x.reshape(*sorted(x.shape, reverse=True))", (4, 3, 2)),
    ("torch.stack(list(reversed(list(x))))", (2, 4, 3)),
    ("x * sorted([0.5, 0.2, 0.1])[0]", (2, 4, 3)),
])
def test_python_reversed_and_sorted_of_numbers_known_without_the_values(expr, shape):
    x = np.arange(24.0).reshape(2, 4, 3)
    out = api.evaluate(expr, {"x": x})
    assert out.shape == shape
    if "stack" in expr:
        np.testing.assert_array_equal(out, x[::-1])
    if "0.5" in expr:
        np.testing.assert_array_equal(out, x * 0.1)
    result = CliRunner().invoke(app, ["eval", "sorted(x)", "x:3"])
    assert result.exit_code == 2 and "would compare their values" in result.output


def test_multi_margin_loss_skips_a_nan_term_as_pytorch_kernel_does():
    """PyTorch adds a margin term only where z > 0, so a NaN input adds nothing; jac's relu kept the NaN."""
    x = np.array([[0.1, np.nan, 0.3], [0.2, 0.5, 0.1]])
    loss = api.evaluate("F.multi_margin_loss(x, torch.tensor([0, 2]), reduction='none')", {"x": x})
    np.testing.assert_allclose(loss, [0.4, 0.8 + 1 / 30], rtol=1e-12)
    g = api.vjp("F.multi_margin_loss(x, torch.tensor([0, 2]), reduction='sum')", {"x": x}, np.array(1.0))["x"]
    np.testing.assert_allclose(g, [[-1 / 3, 0, 1 / 3], [1 / 3, 1 / 3, -2 / 3]], rtol=1e-12)
