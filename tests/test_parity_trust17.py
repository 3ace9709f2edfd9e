"""The seventeenth session's silent differences from PyTorch, JAX and NumPy, found by torch_fuzz, numpy_fuzz and
pasted code, each now the library's answer or a refusal:

- a float written into an integer or boolean array (``F.pad(..., value=0.5)``, ``index_fill``, ``scatter``'s
  value, ``masked_fill`` of a mask) is written in the array's dtype, as both libraries write it; a float
  added into one (``scatter_add``, ``index_add``) and ``m += 0.5`` into a mask are refused, as both refuse them;
- PyTorch's pairs (``torch.max(A, 0)``, ``torch.std_mean``, ``torch.aminmax``) are tuples there: as an output
  jac refuses them instead of showing the first part alone;
- a zero remainder of ``torch.remainder``, a tensor's ``%`` and ``jnp.remainder`` has the dividend's sign;
- ``np.nanvar`` / ``np.nanstd`` are NaN where the degrees of freedom are 0 or fewer;
- PyTorch's and JAX's ``log_softmax`` are NaN across a slice whose maximum is +inf.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api
from test_jax16 import jax_process, jax_reference  # noqa: F401 - the fixture is used by name

torch = pytest.importorskip("torch")
F = torch.nn.functional

INF = np.inf
X4 = np.array([3.0, 1.0, 2.0, -1.5])


def torch_value(code: str, inputs: dict) -> np.ndarray:
    """The value of ``code`` run by PyTorch in float64, as a float array."""
    scope = {"torch": torch, "F": F, **{k: torch.tensor(np.asarray(v, dtype=float)) for k, v in inputs.items()}}
    lines = code.split("; ")
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)  # torch.zeros(3) as jac reads it
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec("\n".join(lines[:-1]), scope)
            return eval(lines[-1], scope).double().numpy()
    finally:
        torch.set_default_dtype(default)


def assert_same(ours, theirs) -> None:
    """Equal, NaN where NaN, and every zero and infinity of the same sign."""
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    np.testing.assert_allclose(ours, theirs, rtol=1e-15, atol=0)
    seen = ~np.isnan(ours)
    np.testing.assert_array_equal(np.signbit(ours[seen]), np.signbit(theirs[seen]))


# --- writing a float into integers and booleans ----------------------------------------------------------

WRITES = [
    "F.pad(torch.argsort(x), (1, 2), value=0.5)",
    "F.pad(torch.argsort(x), (1, 2), value=-1.7)",
    "F.pad(torch.argsort(x), (1, 2), value=2.5) / 2",
    "F.pad(x > 1, (1, 2), value=0.5)",
    "F.pad(x > 1, (2, 0), value=-3)",
    "~F.pad(x > 1, (1, 2), value=1)",
    "F.pad(x.int(), (1, 1), value=2.9) * x[:1]",
    "F.pad(x.int(), (1, 1), value=2.9) // 2",
    "F.pad(x, (1, 1), value=2.9)",
    "(x > 1).masked_fill(x < 2, 0.5)",
    "torch.masked_fill(x > 1, x < 2, -0.25) * 3",
    "torch.index_fill(x > 1, 0, torch.tensor([1]), 0.5)",
    "torch.zeros(4, dtype=torch.int64).index_fill(0, torch.tensor([1]), 2.5)",
    "torch.zeros(4, dtype=torch.int64).index_fill(0, torch.tensor([1]), -2.5) + x",
    "torch.zeros(4, dtype=torch.bool).scatter(0, torch.tensor([1]), 0.5)",
    "torch.zeros(4, dtype=torch.int64).scatter(0, torch.tensor([1, 2]), 1.5)",
    "t = x > 1; t[1] = 0.5; t",
    "t = torch.argsort(x); t[0] = 1.9; t * x",
]


@pytest.mark.parametrize("code", WRITES)
def test_a_float_written_into_integers_or_booleans_takes_their_dtype(code):
    assert_same(api.evaluate(code, {"x": X4}), torch_value(code, {"x": X4}))


def test_a_write_into_integers_keeps_the_derivatives_of_the_float_operands():
    code = "F.pad(torch.argsort(x), (1, 1), value=0.5) * x[:1] + x.sum()"
    tx = torch.tensor(X4, requires_grad=True)
    theirs = torch.autograd.functional.jacobian(
        lambda t: F.pad(torch.argsort(t), (1, 1), value=0.5) * t[:1] + t.sum(), tx).numpy()
    np.testing.assert_allclose(api.jacobian(code, {"x": X4})["x"], theirs, rtol=1e-15)


@pytest.mark.parametrize("code, words", [
    ("F.pad(torch.argsort(x), (1, 2), value=float('nan'))", ["nan", "int64"]),
    ("F.pad(torch.argsort(x), (1, 2), value=1e30)", ["int64"]),
    ("torch.zeros(4, dtype=torch.int64).scatter_add(0, torch.tensor([1, 1]), x[:2])", ["float", "int64", ".float()"]),
    ("torch.zeros(4, dtype=torch.int64).index_add(0, torch.tensor([1]), x[:1])", ["float", "int64", ".float()"]),
    ("m = x > 1; m += 0.5; m", ["boolean", "m = m + ..."]),
    ("m = x > 1; m *= 2; m", ["boolean"]),
])
def test_what_no_library_writes_into_integers_or_booleans_is_refused(code, words):
    with pytest.raises(JacError) as err:
        api.evaluate(code, {"x": X4})
    for word in words:
        assert word in str(err.value)


def test_masks_still_combine_in_place():
    assert_same(api.evaluate("m = x > 1; m += x < 0; m", {"x": X4}), [1.0, 0.0, 1.0, 1.0])


def test_the_data_attribute_is_a_detached_copy_as_in_pytorch():
    tx = torch.tensor(X4, requires_grad=True)
    theirs = torch.autograd.functional.jacobian(lambda t: t.data * t + (t > 0).data.double() * t, tx).numpy()
    code = "x.data * x + (x > 0).data.double() * x"
    assert_same(api.evaluate(code, {"x": X4}), torch_value(code, {"x": X4}))
    np.testing.assert_array_equal(api.jacobian(code, {"x": X4})["x"], theirs)


@pytest.mark.parametrize("mode", ["use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                                  "donot_use_mm_for_euclid_dist"])
def test_cdist_takes_pytorchs_compute_mode(mode):
    X, Y = np.arange(6.0).reshape(2, 3), np.array([[0.5, -1.0, 2.0], [3.0, 0.0, 1.0], [1.0, 1.0, 1.0]])
    code = f"torch.cdist(X, Y, compute_mode='{mode}')"
    np.testing.assert_allclose(api.evaluate(code, {"X": X, "Y": Y}), torch_value(code, {"X": X, "Y": Y}), rtol=1e-14)


@pytest.mark.parametrize("code", ["(x > 0).detach() + (x > 1)", "~(x > 0).detach()", "(x > 0).data + (x > 1)",
                                  "torch.tensor(x > 0) + (x > 1)", "x[(x > 0).detach()]",
                                  "with torch.no_grad():\n    m = x > 0\nm + (x > 1)"])
def test_a_detached_mask_stays_a_mask(code):
    ours = api.evaluate(code, {"x": X4})
    tx = torch.tensor(X4)
    with torch.no_grad():
        m = tx > 0
    theirs = {"(x > 0).detach() + (x > 1)": (tx > 0).detach() + (tx > 1), "~(x > 0).detach()": ~(tx > 0).detach(),
              "(x > 0).data + (x > 1)": (tx > 0).data + (tx > 1), "torch.tensor(x > 0) + (x > 1)": (tx > 0) + (tx > 1),
              "x[(x > 0).detach()]": tx[(tx > 0).detach()]}.get(code, m + (tx > 1))  # bool + bool: their or
    assert_same(ours, theirs.double().numpy())


# --- PyTorch's pairs are tuples ----------------------------------------------------------------------------

@pytest.mark.parametrize("code, part", [
    ("torch.std_mean(A, dim=1)", "[0] for the std, [1] for the mean"),
    ("torch.var_mean(A)", "(var, mean)"),
    ("torch.max(A, 0), A", "output 0 is the pair"),
])
def test_a_pytorch_pair_is_no_single_output(code, part):
    with pytest.raises(JacError) as err:
        api.evaluate(code, {"A": np.arange(6.0).reshape(2, 3)})
    assert "a tuple in PyTorch" in str(err.value) and part in str(err.value)


@pytest.mark.parametrize("code, fields", [("torch.max(A, 0)", ("values", "indices")),
                                          ("torch.sort(A)", ("values", "indices")),
                                          ("torch.aminmax(A)", ("min", "max"))])
def test_a_named_pair_last_is_its_fields_as_outputs(code, fields):  # session 28: as PyTorch names them
    A = np.array([[1.0, 5.0, 2.0], [4.0, 0.5, 3.0]])
    values = api.evaluate(code, {"A": A})
    theirs = eval(code, {"torch": torch, "A": torch.tensor(A)})  # noqa: S307 - the test's own text
    assert list(api.jacobian(code, {"A": A})) == list(fields)
    for ours, field in zip(values, fields):
        assert_same(ours, getattr(theirs, field).numpy())


def test_the_parts_of_a_pair_and_numpys_reading_still_answer():
    A = np.array([[1.0, 5.0, 2.0], [4.0, 0.5, 3.0]])
    s, m = torch.std_mean(torch.tensor(A), dim=1)
    assert_same(api.evaluate("torch.std_mean(A, dim=1)[0]", {"A": A}), s.numpy())
    assert_same(api.evaluate("s, m = torch.std_mean(A, dim=1); m", {"A": A}), m.numpy())
    assert_same(api.evaluate("torch.max(A, 0).values", {"A": A}), [4.0, 5.0, 3.0])
    assert_same(api.evaluate("A.max(0)", {"A": A}), [4.0, 5.0, 3.0])  # NumPy's max along axis 0: an array


# --- the sign of a zero remainder --------------------------------------------------------------------------

REM_X = np.array([4.0, -4.0, 0.0, -0.0, 3.0, -3.0, 5.5, -5.5, INF, 1.0, 2.0])
REM_Y = np.array([-2.0, 2.0, 2.0, -2.0, 1.5, 1.5, 2.0, -2.0, 2.0, INF, 0.0])


@pytest.mark.parametrize("code", [
    "torch.remainder(x, y)", "1 / torch.remainder(x, y)", "x.remainder(y)", "torch.sin(x) * 0 + 1 / (x % y)",
    "t = torch.zeros(11); t += x; t %= y; 1 / t", "torch.remainder(x, 2.0)", "torch.fmod(x, y)",
])
def test_pytorchs_zero_remainder_has_the_dividends_sign(code):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_same(api.evaluate(code, {"x": REM_X, "y": REM_Y}), torch_value(code, {"x": REM_X, "y": REM_Y}))


@pytest.mark.parametrize("code", ["np.remainder(x, y)", "1 / (x % y)", "np.mod(x, y)", "1 / (np.sin(x) * 0 + x % y)"])
def test_numpys_zero_remainder_has_the_divisors_sign(code):
    with np.errstate(all="ignore"):
        theirs = eval(code, {"np": np, "x": REM_X, "y": REM_Y})
        assert_same(api.evaluate(code, {"x": REM_X, "y": REM_Y}), theirs)


@pytest.mark.parametrize("code, f", [
    ("torch.remainder(x, y)", lambda x, y: torch.remainder(x, y)),
    ("torch.sin(x) % y", lambda x, y: torch.sin(x) % y),
])
def test_pytorchs_remainder_keeps_its_derivatives(code, f):
    x, y = np.array([4.0, -4.0, 3.0, -3.0, 5.5]), np.array([-2.0, 2.0, 1.5, 1.5, 2.0])
    theirs = torch.autograd.functional.jacobian(f, (torch.tensor(x), torch.tensor(y)))
    ours = api.jacobian(code, {"x": x, "y": y})
    for k, name in enumerate("xy"):
        np.testing.assert_array_equal(ours[name], theirs[k].numpy())


@pytest.mark.parametrize("code", ["jnp.remainder(x, y)", "jnp.mod(x, y)", "jnp.sin(x) * 0 + x % y"])
def test_jax_zero_remainder_has_the_dividends_sign(jax_process, code):  # noqa: F811 - the fixture
    x, y = REM_X[:6], REM_Y[:6]
    theirs = jax_process.submit(jax_reference, code, {"x": x, "y": y}).result()["value"]
    assert_same(api.evaluate(code, {"x": x, "y": y}), theirs)


# --- PyTorch's running sum starts from +0 ------------------------------------------------------------------

@pytest.mark.parametrize("code", ["torch.cumsum(A, 1)", "A.cumsum(1) * torch.ones(1)", "torch.cumsum(A, 0)",
                                  "1 / torch.cumsum(A, 1)"])
def test_pytorchs_running_sum_of_negative_zeros_is_positive_zero(code):
    A = np.array([[-0.0, -0.0, 1.0, -1.0], [-0.0, 2.0, -2.0, -0.0], [1e-300, -1e-300, -0.0, 3.0]])
    assert_same(api.evaluate(code, {"A": A}), torch_value(code, {"A": A}))


def test_numpys_running_sum_keeps_its_negative_zeros():
    A = np.array([[-0.0, -0.0, 1.0]])
    assert_same(api.evaluate("np.cumsum(A, 1)", {"A": A}), np.cumsum(A, 1))


# --- nanvar and nanstd without degrees of freedom ----------------------------------------------------------

@pytest.mark.parametrize("values", [[np.nan], [2.0], [2.0, np.nan, 3.0], [np.nan, np.nan]])
@pytest.mark.parametrize("ddof", [0, 1, 2])
@pytest.mark.parametrize("fname", ["nanvar", "nanstd"])
def test_nanvar_without_degrees_of_freedom_is_nan(values, ddof, fname):
    x = np.array(values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = getattr(np, fname)(x, ddof=ddof)
    assert_same(api.evaluate(f"np.{fname}(x, ddof={ddof})", {"x": x}), theirs)


def test_nanvar_per_axis_and_its_derivative():
    A = np.array([[1.0, np.nan, 2.0], [np.nan, np.nan, np.nan], [0.5, 4.0, np.nan]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for axis in (0, 1):
            assert_same(api.evaluate(f"np.nanvar(A, axis={axis}, ddof=1)", {"A": A}), np.nanvar(A, axis=axis, ddof=1))
    np.testing.assert_allclose(api.jacobian("np.nanstd(x, ddof=1)", {"x": np.array([1.0, np.nan, 3.0])})["x"],
                               [-np.sqrt(0.5), 0.0, np.sqrt(0.5)], rtol=1e-15)


# --- log_softmax at +inf -----------------------------------------------------------------------------------

SLICES = [[INF, 1.0, 2.0], [INF, INF, 1.0], [-INF, 1.0, 2.0], [-INF, -INF, -INF], [np.nan, 1.0, 2.0],
          [INF, -INF, 0.0], [-0.0], [[1.0, INF], [2.0, 3.0]], [[-0.0], [INF]]]


@pytest.mark.parametrize("values", SLICES, ids=str)
@pytest.mark.parametrize("code", ["torch.log_softmax(x, 0)", "F.log_softmax(x, dim=-1)", "x.log_softmax(-1)"])
def test_pytorchs_log_softmax_is_nan_in_a_slice_whose_maximum_is_inf(values, code):
    x = np.array(values)
    theirs = torch_value(code, {"x": x})
    ours = api.evaluate(code, {"x": x})
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
    np.testing.assert_allclose(ours, theirs, rtol=1e-14)


@pytest.mark.parametrize("values", SLICES[:6], ids=str)
def test_jax_log_softmax_is_nan_in_a_slice_whose_maximum_is_inf(jax_process, values):  # noqa: F811
    x = np.array(values)
    for code in ("jax.nn.log_softmax(x)", "jax.nn.log_softmax(x, axis=None)"):
        theirs = jax_process.submit(jax_reference, code, {"x": x}).result()["value"]
        ours = api.evaluate(code, {"x": x})
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs))
        np.testing.assert_allclose(ours, theirs, rtol=1e-14)


def test_scipys_log_softmax_keeps_its_own_answer_at_inf():
    x = np.array([INF, 1.0, 2.0])
    assert_same(api.evaluate("scipy.special.log_softmax(x)", {"x": x}), [np.nan, -INF, -INF])


def test_pytorchs_log_softmax_keeps_its_derivatives():
    x = np.array([[0.3, -1.2, 2.0], [1.0, 1.0, -0.5]])
    theirs = torch.autograd.functional.jacobian(lambda t: torch.log_softmax(t, 1), torch.tensor(x)).numpy()
    np.testing.assert_allclose(api.jacobian("torch.log_softmax(x, 1)", {"x": x})["x"], theirs, rtol=1e-13,
                               atol=1e-15)


# --- pinv, lstsq and polyfit of ill-conditioned matrices ---------------------------------------------------

def _exact_pinv(A: np.ndarray) -> np.ndarray:
    """A⁺ of a full-rank A in 60 digits (mpmath, SymPy's own dependency), rounded to float64."""
    import mpmath

    with mpmath.workdps(60):
        M = mpmath.matrix(A.tolist())
        P = (M.T * M) ** -1 * M.T if A.shape[0] >= A.shape[1] else M.T * (M * M.T) ** -1
        return np.array([[float(P[i, j]) for j in range(P.cols)] for i in range(P.rows)])


HILBERT8 = 1.0 / (np.arange(8)[:, None] + np.arange(8)[None, :] + 1)  # cond 1.5e10


@pytest.mark.parametrize("rows, cols", [(8, 8), (8, 7), (7, 8), (6, 6)])
@pytest.mark.parametrize("spelling", ["np.linalg.pinv(H)", "torch.linalg.pinv(H)", "lstsq"])
def test_pinv_and_lstsq_of_an_ill_conditioned_matrix_are_as_accurate_as_numpys(rows, cols, spelling):
    H = HILBERT8[:rows, :cols]
    exact = _exact_pinv(H)
    if spelling == "lstsq":
        y = np.arange(rows, dtype=float)
        ours, exact, numpys = (api.evaluate("np.linalg.lstsq(H, y, rcond=None)[0]", {"H": H, "y": y}), exact @ y,
                               np.linalg.lstsq(H, y, rcond=None)[0])
    else:
        ours, numpys = api.evaluate(spelling, {"H": H}), np.linalg.pinv(H)
    scale = np.abs(exact).max()
    numpy_error = np.abs(numpys - exact).max() / scale
    # the normal equations jac used before had no digit right at (8, 8) and errors 1e-4 at (6, 6)
    assert np.abs(ours - exact).max() / scale <= max(10 * numpy_error, 1e-14)


def test_polyfit_of_a_high_degree_is_as_accurate_as_numpys():
    import mpmath

    x = np.linspace(0, 1, 30)
    y = np.cos(3 * x) + 0.1 * x
    with mpmath.workdps(50):
        V = mpmath.matrix([[mpmath.mpf(float(t)) ** (12 - k) for k in range(13)] for t in x])
        exact = np.array([float(c) for c in mpmath.lu_solve(V.T * V, V.T * mpmath.matrix(y.tolist()))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        numpys = np.polyfit(x, y, 12)
    scale = np.abs(exact).max()
    assert np.abs(api.evaluate("np.polyfit(x, y, 12)", {"x": x, "y": y}) - exact).max() / scale <= \
        10 * np.abs(numpys - exact).max() / scale  # the normal equations' error was 0.5


def test_pinv_and_lstsq_keep_pytorchs_derivatives_on_an_ill_conditioned_matrix():
    H = HILBERT8[:5, :4]  # cond 1.5e4
    tH = torch.tensor(H)
    theirs = torch.autograd.functional.jacobian(torch.linalg.pinv, tH).numpy()
    np.testing.assert_allclose(api.jacobian("torch.linalg.pinv(H)", {"H": H})["H"], theirs, rtol=1e-7,
                               atol=1e-7 * np.abs(theirs).max())
    y = np.linspace(-1, 1, 5)
    theirs = torch.autograd.functional.jacobian(lambda A, b: torch.linalg.lstsq(A, b[:, None]).solution[:, 0],
                                                (tH, torch.tensor(y)))
    ours = api.jacobian("torch.linalg.lstsq(H, y[:, None]).solution[:, 0]", {"H": H, "y": y})
    for k, name in enumerate("Hy"):
        np.testing.assert_allclose(ours[name], theirs[k].numpy(), rtol=1e-7, atol=1e-7 * np.abs(theirs[k].numpy()).max())


@pytest.mark.parametrize("code, words", [
    ("np.linalg.lstsq(A, y, rcond=None)[0]", ["lstsq", "singular value", "full rank"]),
    ("torch.linalg.lstsq(A, y[:, None]).solution", ["lstsq", "singular value"]),
    ("np.linalg.pinv(A)", ["pinv", "singular value"]),
    ("np.polyfit(x * 0 + 1, y, 1)", ["not unique"]),
    ("np.polyfit(x[:2], y[:2], 2)", ["not unique"]),
])
def test_a_rank_deficient_least_squares_problem_is_refused(code, words):
    A = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])  # rank 1
    with pytest.raises(JacError) as err:
        api.evaluate(code, {"A": A, "y": np.array([1.0, 0.0, 2.0]), "x": np.array([0.5, 1.0, 2.0])})
    for word in words:
        assert word in str(err.value)
