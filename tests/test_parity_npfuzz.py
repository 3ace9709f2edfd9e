"""What the differential fuzz in NumPy spelling (benchmarks/numpy_fuzz.py: random programs run by NumPy and by
jac) found jac answering differently from NumPy, each checked against NumPy itself at the values that showed it
(bit for bit: NaN, infinities and the sign of zeros included), and against PyTorch where a derivative is involved.

- ``np.heaviside(NaN, v)`` was 0 (PyTorch's ``torch.heaviside``, which stays so); NumPy's and JAX's is NaN.
- ``np.quantile`` / ``np.percentile`` / ``torch.quantile`` interpolated ``lo + (hi - lo)·t`` at every t: NaN
  where an end is infinite (NumPy and PyTorch: -inf for ``[-inf, 0, 1]`` at 0.3), and another last bit than
  NumPy's for t ≥ 0.5. Both libraries lerp from the nearer end. (Left alone: at a q that lands exactly on an
  element NumPy still lerps to the next one with t = 0, NaN when that one is infinite; PyTorch and jac give the
  element.)
- ``np.clip(x, lo, hi)`` / ``torch.clamp`` at a tie of zeros (``x = -0``, ``lo = 0``) gave the bound's zero
  (``np.maximum``'s, which is the platform's); PyTorch keeps x, as NumPy's two-sided clip with number bounds.
- ``np.kron`` / ``torch.kron`` were an einsum, which sums each product onto +0: -0 · 1 gave +0.
- ``np.cov`` / ``np.corrcoef`` / ``torch.cov`` of a matrix of one row (one variable) had shape (1, 1); NumPy
  squeezes it to 0-d, as PyTorch.
- ``y[mask] = v`` (and ``y[mask] += v``) into an array whose values are known without the inputs (a folded
  constant: ``t = np.copy(np.log(np.full((3, 4), 0.5))); t[t < 0] = 0``) raised KeyError: the mask's
  positions were read back from the read's node, which had folded into a constant.
"""

import numpy as np
import pytest

from jacobi_cli.tools import api


def _same_bits(ours, theirs):
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    assert ours.shape == theirs.shape
    same = (ours == theirs) & (np.signbit(ours) == np.signbit(theirs)) | np.isnan(ours) & np.isnan(theirs)
    assert same.all(), (ours, theirs)


def _numpy(program: str, **inputs):
    """NumPy's value of a test's own program text (written here, never user input)."""
    lines = program.split("; ")
    ns = {"np": np, **{n: np.array(v, dtype=np.float64) for n, v in inputs.items()}}
    with np.errstate(all="ignore"):
        exec("\n".join(lines[:-1]), ns)
        return eval(lines[-1], ns)


def _check(program: str, **inputs):
    for _ in range(3):  # the interpreter, then the compiled kernel
        _same_bits(api.evaluate(program, {n: np.array(v, dtype=np.float64) for n, v in inputs.items()}),
                   _numpy(program, **inputs))


def _derivative_as_central_differences(program: str, h: float = 1e-6, **inputs):
    for name, v in inputs.items():
        v = np.array(v, dtype=np.float64)
        ours = np.asarray(api.jacobian(program, {n: np.array(w, dtype=np.float64) for n, w in inputs.items()})[name])
        cols = []
        for j in range(v.size):
            e = np.zeros(v.size)
            e[j] = h
            plus = _numpy(program, **{**inputs, name: v + e.reshape(v.shape)})
            minus = _numpy(program, **{**inputs, name: v - e.reshape(v.shape)})
            cols.append((np.asarray(plus) - np.asarray(minus)) / (2 * h))
        np.testing.assert_allclose(ours, np.stack(cols, -1).reshape(ours.shape), rtol=1e-6, atol=1e-8)


# --- a masked write into a folded constant --------------------------------------------------------------------

Y = [0.23, -0.58, -0.0078, 2.1]


@pytest.mark.parametrize("program", [
    "t = np.copy(np.expand_dims(np.log(np.full((3, 4), 0.5)), -1)); t[t < 0] = 0; t.sum() * y",
    "t = np.copy(np.log(np.full((3, 4), 0.5))); t[t < -0.5] += 1; t * y",
    "t = np.arange(4.0) - 1.5; t[t > 0] *= y[t > 0]; t",
])
def test_a_masked_write_into_a_constant(program):
    _check(program, y=Y)
    _derivative_as_central_differences(program, y=Y)


# --- np.heaviside(NaN) is NaN (torch.heaviside's is 0) --------------------------------------------------------

H = [np.nan, -0.0, 0.0, 1.5, -2.0, np.inf, -np.inf]


@pytest.mark.parametrize("program", ["np.heaviside(x, 0.5)", "np.heaviside(x, y)", "jnp.heaviside(x, 0.5) * 1",
                                     "numpy.heaviside(x, y)"])
def test_numpy_heaviside_of_nan_is_nan(program):
    y = [0.5, 2.0, -1.0, np.nan, 0.0, 1.0, 3.0]
    ns = program.replace("jnp.", "np.").replace("numpy.", "np.")
    with np.errstate(all="ignore"):
        _same_bits(api.evaluate(program, {"x": np.array(H), "y": np.array(y)}),
                   _numpy(ns, x=H, y=y))


def test_torch_heaviside_of_nan_stays_0():
    torch = pytest.importorskip("torch")
    x = torch.tensor(H, dtype=torch.float64)
    _same_bits(api.evaluate("torch.heaviside(x, torch.tensor(0.5))", {"x": np.array(H)}),
               torch.heaviside(x, torch.tensor(0.5, dtype=torch.float64)).numpy())


# --- quantile's interpolation from the nearer end (NumPy's and PyTorch's lerp) ----------------------------------

Q = [[-0.0, 0.0, np.nan, 1.0], [1.0, 1.0, -0.0, -np.inf], [np.inf, -np.inf, 2.0, 2.0]]
RQ = np.random.default_rng(5).standard_normal((5, 7)).tolist()


@pytest.mark.parametrize("program", ["np.percentile(A, 30, axis=0)", "np.quantile(A, 0.8, axis=1)",
                                     "np.quantile(A, 0.9, axis=0, method='midpoint')", "np.percentile(A, 70)",
                                     "np.quantile(A, [0.25, 0.75], axis=0)", "np.quantile(A, 0.6, axis=0)"])
@pytest.mark.parametrize("values", [Q, RQ], ids=["infinities", "random"])
def test_quantile_interpolates_as_numpy(program, values):
    # an infinite end gave NaN (-inf + (0 - -inf) * 0.6), and q ≥ 0.5 differed in the last bit
    _check(program, A=values)


@pytest.mark.parametrize("q", [0.3, 0.8, 0.6])
def test_quantile_interpolates_as_torch(q):
    torch = pytest.importorskip("torch")
    A = np.array(Q)
    _same_bits(api.evaluate(f"torch.quantile(A, {q}, dim=0)", {"A": A}),
               torch.quantile(torch.tensor(A), q, dim=0).numpy())
    A = np.array(RQ)  # PyTorch's lerp rounds its own way (a fused multiply-add): equal to rounding
    np.testing.assert_allclose(api.evaluate(f"torch.quantile(A, {q}, dim=0)", {"A": A}),
                               torch.quantile(torch.tensor(A), q, dim=0).numpy(), rtol=1e-15, atol=1e-16)
    _derivative_as_central_differences(f"np.quantile(A, {q}, axis=1)", A=RQ)


# --- clip keeps x, and its sign of zero, where x equals a bound ----------------------------------------------

Z = [-0.0, 0.0, -np.inf, -1.0, np.nan, 2.0, np.inf]


@pytest.mark.parametrize("program", ["np.clip(x, -0.0, 0.0)", "np.clip(x, 0.0, -0.0)", "x.clip(0.0, 1.0)",
                                     "np.clip(x, -0.0, 1.0)", "1 / np.clip(x, -0.0, 2.0)"])
def test_clip_keeps_x_at_a_tie_as_numpy(program):
    # NumPy's two-sided clip with number bounds (x86); with one bound it is np.maximum / np.minimum, and with
    # array bounds a loop, which give the bound at a tie: NumPy leaves a tie's sign of zero to the path taken
    _check(program, x=Z)


@pytest.mark.parametrize("lo, hi", [(-0.0, 0.0), (0.0, -0.0), (0.0, None), (None, -0.0), (-0.0, 1.0)])
def test_clamp_keeps_x_at_a_tie_as_torch(lo, hi):
    torch = pytest.importorskip("torch")
    x = torch.tensor(Z, dtype=torch.float64)
    _same_bits(api.evaluate(f"torch.clamp(x, {lo}, {hi})", {"x": np.array(Z)}), torch.clamp(x, lo, hi).numpy())
    lo_t, hi_t = (None if v is None else torch.full((7,), v, dtype=torch.float64) for v in (lo, hi))
    bounds = {n: np.full(7, v) for n, v in (("lo", lo), ("hi", hi)) if v is not None}
    expr = f"torch.clamp(x, {'lo' if lo is not None else None}, {'hi' if hi is not None else None})"
    _same_bits(api.evaluate(expr, {"x": np.array(Z), **bounds}), torch.clamp(x, lo_t, hi_t).numpy())


# --- kron: one product per entry, a product's -0 kept ------------------------------------------------------

K = [[-0.0, 0.0, np.nan, 1.0], [1.0, -1.5, -0.0, -0.0], [np.inf, -np.inf, 2.0, 0.5]]


@pytest.mark.parametrize("program", ["np.kron(A, A[:2, :2])", "np.kron(A[0], A[1])", "np.kron(A[1, :2], A)",
                                     "1 / np.kron(A[1], A[0])"])
def test_kron_keeps_minus_0_as_numpy(program):
    _check(program, A=K)


def test_kron_as_torch():
    torch = pytest.importorskip("torch")
    A = np.array(K)
    _same_bits(api.evaluate("torch.kron(A, A[:2, :2])", {"A": A}),
               torch.kron(torch.tensor(A), torch.tensor(A[:2, :2])).numpy())
    _derivative_as_central_differences("np.kron(A, A[:2, :2])", A=RQ[:3])


# --- cov and corrcoef of one variable are 0-d ------------------------------------------------------------

@pytest.mark.parametrize("program", ["np.cov(A[-1:])", "np.corrcoef(A[:1])", "np.cov(A[:, :1], rowvar=False)",
                                     "np.corrcoef(A[:, 2:3], rowvar=False)", "np.cov(A[0])", "np.cov(A)",
                                     "np.corrcoef(A)", "np.cov(A[:1], ddof=0)"])
def test_cov_of_one_variable_is_0_d_as_numpy(program):
    # NumPy multiplies by 1 / (n - ddof) where jac divides: equal to rounding, not bitwise
    ours, theirs = api.evaluate(program, {"A": np.array(RQ[:3])}), _numpy(program, A=RQ[:3])
    assert np.shape(ours) == np.shape(theirs)
    np.testing.assert_allclose(ours, theirs, rtol=1e-14)


def test_cov_of_one_row_is_0_d_as_torch():
    torch = pytest.importorskip("torch")
    A = np.array(RQ[:3])
    for fn in ("cov", "corrcoef"):
        ours = api.evaluate(f"torch.{fn}(A[:1])", {"A": A})
        theirs = getattr(torch, fn)(torch.tensor(A[:1])).numpy()
        assert np.shape(ours) == theirs.shape == ()
        np.testing.assert_allclose(ours, theirs, rtol=1e-15)


# np.median is NumPy's mean of the middle element(s), summed from +0: the middle of an odd count was (lo + lo) / 2,
# inf at 1e308 (NumPy: 1e308), and a -0 middle stayed -0 (NumPy: +0); torch.median picks the element, -0 kept
@pytest.mark.parametrize("program, inputs", [
    ("np.median(x)", {"x": [1e308, 1e308, 1e308]}),
    ("np.median(x)", {"x": [1.0, -0.0, -1.0]}),
    ("np.median(x)", {"x": [-0.0, -0.0]}),
    ("np.median(x)", {"x": [-0.0, 2.0, 5.0, -3.0]}),
    ("np.median(x)", {"x": [3.0, np.nan, 1.0]}),
    ("np.median(A, axis=0)", {"A": [[-0.0, 1e308, 1.0], [-0.0, 1e308, 2.0], [-0.0, 1e308, np.inf]]}),
    ("np.median(A, axis=1)", {"A": [[-0.0, -0.0], [1.5, -1e308]]}),
    # np.nanmedian: the same mean, of the elements that are not NaN (their count known from the values only)
    ("np.nanmedian(x)", {"x": [1e308, np.nan, 1e308, 1e308]}),
    ("np.nanmedian(x)", {"x": [1.0, -0.0, np.nan, -1.0]}),
    ("np.nanmedian(x)", {"x": [1.0, 2.0, np.nan, 4.0, 3.0]}),
    # along an axis of a 2-d array NumPy takes np.ma.median's (0 + lo + hi) / 2 below 600 elements (inf at 1e308)
    ("np.nanmedian(A, axis=1)", {"A": [[1e308, 1e308, 1e308], [np.nan, -0.0, -0.0], [1.0, np.nan, np.nan]]}),
    ("np.nanmedian(A, axis=0)", {"A": [[1e308, -0.0], [1e308, np.nan], [1e308, -0.0]]}),
    ("np.nanmedian(A, axis=1)", {"A": np.concatenate([np.full((2, 601), 1e308), [[-0.0] * 600 + [np.nan]] * 2])
                                 .reshape(2, 1202)}),  # 600 or more: np.median of each line, 1e308
    ("np.nanmedian(x, axis=0)", {"x": [1e308, np.nan, 1e308, 1e308]}),  # a 1-d array: np.median's path
])
def test_np_median_is_numpys_mean_of_the_middle(program, inputs):
    _check(program, **inputs)


def test_torch_median_keeps_the_elements_zero_sign():
    torch = pytest.importorskip("torch")
    x = np.array([1.0, -0.0, -1.0])
    _same_bits(api.evaluate("torch.median(x)", {"x": x}), torch.median(torch.tensor(x)).numpy())


def test_np_median_derivative_is_unchanged():
    _derivative_as_central_differences("np.median(x)", x=[0.3, -1.2, 2.5])
    _derivative_as_central_differences("np.median(x)", x=[0.3, -1.2, 2.5, 0.9])
