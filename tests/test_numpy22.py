"""What the twenty-second session's NumPy sweep (benchmarks/numpy22_sweep.py) found: keywords jac ignored or read
otherwise than NumPy (dtype= of a sum in bool, of np.cumulative_sum and np.linalg.trace; diff's n=0 with prepend;
rollaxis' negative start; hermitian=True). NumPy is the reference: each case is
compared with NumPy's own answer, and derivatives with central differences of NumPy's function."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.errors import JacError, JacShapeError
from jacobi_cli.tools import api

rng = np.random.default_rng(2222)
X = np.array([[0.3, 0.0, 1.9, 0.0], [0.0, 0.0, 2.7, -0.4], [1.2, 0.0, 0.0, 0.8]])
A = rng.uniform(0.2, 0.9, (3, 3))  # not symmetric: hermitian=True reads its lower triangle
STACK = rng.uniform(0.2, 0.9, (2, 3, 3))
NEAR = A + A.T + np.triu(np.full((3, 3), 1e-4), 1)  # within ASYMMETRY of symmetric: NumPy reads its lower triangle
V = rng.uniform(0.2, 0.9, 3)
ENV = {"x": X, "A": A, "B": STACK, "v": V, "c": rng.uniform(0.2, 0.9, (2, 3, 4)), "N": NEAR}

SAME_AS_NUMPY = [
    # a sum in bool is NumPy's add of booleans, an or (np.any); jac counted the true elements
    "np.sum(x, dtype=bool)", "np.sum(x, 0, dtype=bool)", "np.nansum(x, 1, dtype=bool, keepdims=True)",
    "np.cumsum(x, 1, dtype=bool)", "np.cumsum(x, dtype=bool)", "x.sum(dtype=bool)", "x.cumsum(0, dtype=bool)",
    "np.prod(x, 1, dtype=bool)", "np.sum(x, 1, dtype=int)",
    # np.cumulative_sum / cumulative_prod read no dtype=
    "np.cumulative_sum(x, axis=1, dtype=int)", "np.cumulative_sum(x, axis=0, dtype=bool)",
    "np.cumulative_prod(x, axis=1, dtype=int)", "np.cumulative_prod(x, axis=0, dtype=bool, include_initial=True)",
    "np.cumulative_sum(x, axis=0, dtype=bool, include_initial=True)",
    # np.linalg.trace read no dtype=
    "np.linalg.trace(x[:, :3], dtype=int)", "np.linalg.trace(B * 3, dtype=int)", "np.linalg.trace(x, dtype=bool)",
    "np.linalg.trace(B * 3, offset=1, dtype=int)",
    # diff with n=0 is x itself: prepend and append were joined
    "np.diff(x, 0, prepend=0.5)", "np.diff(x, 0, append=x)", "np.diff(v, n=0, prepend=1)",
    # rollaxis: a negative start is start + ndim (jac took it modulo ndim + 1)
    "np.rollaxis(c, 0, -1)", "np.rollaxis(c, 1, -1)", "np.rollaxis(c, 2, -2)", "np.rollaxis(c, 0, -3)",
    "np.rollaxis(c, 2, -3)", "np.rollaxis(A, 0, start=-1)",
    # hermitian=True: the lower triangle's symmetric matrix (jac ignored the flag)
    "np.linalg.pinv(N, hermitian=True)", "np.linalg.pinv(B + np.swapaxes(B, 1, 2), hermitian=True)",
    "np.linalg.pinv(A + A.T, hermitian=True)", "np.linalg.svd(N, compute_uv=False, hermitian=True)",
    "np.linalg.matrix_rank(np.tril(A) @ np.tril(A).T - 0.5, hermitian=True)",
    "np.linalg.matrix_rank(np.array([[1.0, 5.0], [0.5, 0.25]]) * v[0], hermitian=True)",  # 1 (2 without hermitian)
    "np.linalg.matrix_rank(v, hermitian=True)",  # a vector's rank: hermitian unread (NumPy)
    # NumPy's third positional argument of a sum, product or mean is dtype (jac read PyTorch's keepdim), of
    # max, min, all, any, argmax, median out
    "np.sum(x * 3, 0, int)", "np.sum(x, 1, float)", "np.prod(x + 1, 0, int)", "np.nansum(x * 3, 1, np.int32)",
    "np.mean(x, 0, np.float64)", "np.nanmean(x, 1, float)", "x.sum(0, int)", "x.mean(1, float)",
    "x.prod(0, bool)", "np.sum(x * 3, 0, int, None, True)", "np.max(x, 0, None, True)", "x.max(1, None, True)",
    "np.any(x, 0, None, True)", "np.ptp(x, 0, None, True)", "np.argmax(x, 1, None)", "np.median(x, 0, None)",
    # NumPy's third argument of sort and argsort is kind (jac read PyTorch's descending: a reversed sort)
    "np.sort(c, -1, 'stable')", "np.sort(c, 0, 'heapsort')", "np.argsort(c, 1, 'mergesort')",
    "np.argsort(c, -1, None, None)", "np.sort(v, 0, 'quicksort')", "np.sort(c, None, 'stable')",
    # a ufunc's reduce(array, axis, dtype, out, keepdims) and accumulate(array, axis, dtype, out): dtype third
    "np.multiply.reduce(x + 1, 0, int)", "np.add.reduce(x * 3, 1, int, None, True)", "np.add.reduce(x, 0, bool)",
    "np.add.accumulate(x * 3, 1, int)", "np.add.reduce(x, 1, None, None, True)",
]


TIES = np.random.default_rng(22).integers(0, 3, (2, 40)).astype(float)  # NumPy's SIMD quicksort: not stable


@pytest.mark.parametrize("expr", ["np.argsort(t)", "np.argsort(t, 0)", "np.argsort(t, kind='heapsort')",
                                  "np.argsort(t, kind='stable')", "np.argsort(t, stable=True)",
                                  "np.argsort(t, None)", "import numpy as np\nt.argsort()",
                                  "jnp.argsort(t, stable=True)", "jnp.argsort(t)", "import jax.numpy as jnp\nt.argsort()"])
def test_argsort_orders_ties_as_numpy(expr):
    """np.argsort's default kind (quicksort) orders ties otherwise than the stable sort jac used for it."""
    expected = np.argsort(TIES, **({"axis": 0} if ", 0)" in expr else {"axis": None} if "None" in expr else {}),
                          **({"kind": "heapsort"} if "heap" in expr else {"kind": "stable"} if "stable" in expr
                             or "jnp" in expr else {}))  # JAX's argsort is stable
    np.testing.assert_array_equal(api.evaluate(expr, {"t": TIES}), expected)


def test_argsort_ties_differ_between_numpy_and_pytorch():
    stable = np.argsort(TIES, kind="stable")
    np.testing.assert_array_equal(api.evaluate("torch.argsort(t, stable=True)", {"t": TIES}), stable)
    with pytest.raises(JacError, match="PyTorch's order of equal elements is unspecified"):  # 40 elements: past 16
        api.evaluate("torch.argsort(t)", {"t": TIES})
    if np.array_equal(np.argsort(TIES), stable):  # NumPy's build sorts these ties stably (no SIMD sort)
        pytest.skip("NumPy's default quicksort keeps these ties in order on this machine")
    assert not np.array_equal(api.evaluate("np.argsort(t)", {"t": TIES}), stable)


@pytest.mark.parametrize("expr", SAME_AS_NUMPY)
def test_the_keyword_is_read_as_numpy_reads_it(expr):
    text = expr if "np." in expr else "import numpy as np\n" + expr
    expected = eval(expr, {"np": np}, {k: v.copy() for k, v in ENV.items()})
    got = api.evaluate(text, ENV)
    assert got.shape == np.shape(expected)
    np.testing.assert_allclose(got, np.asarray(expected, dtype=float), rtol=1e-12, atol=1e-12)


def central(f, x, v, h=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (np.sum(v * f(x + e)) - np.sum(v * f(x - e))) / (2 * h)
    return g


@pytest.mark.parametrize("expr, f", [
    # hermitian=True at a symmetric matrix: the derivative of the function of the whole matrix (PyTorch's, and
    # jac's eigh's), not of its lower triangle alone
    ("np.linalg.pinv(A, hermitian=True)", np.linalg.pinv),
    ("np.linalg.svd(A, compute_uv=False, hermitian=True)", lambda a: np.linalg.svd(a, compute_uv=False)),
    ("np.diff(A, 0, prepend=0.5)", lambda a: np.diff(a, 0, prepend=0.5)),
    ("np.rollaxis(A, 0, -1)", lambda a: np.rollaxis(a, 0, -1)),
])
def test_the_derivative_is_numpys_functions(expr, f):
    s = A + A.T
    out = f(s)
    v = rng.standard_normal(out.shape)
    np.testing.assert_allclose(api.vjp(expr, {"A": s}, v=v)["A"], central(f, s, v), rtol=1e-6, atol=1e-7)


REFUSED = [  # (expression, bindings, words of the one message)
    ("np.linalg.svd(A, hermitian=True)[0]", ["A:3x3"], "write np.linalg.eigh(A)"),
    ("np.linalg.pinv(A, hermitian=True)", ["A:2x3"], "needs square matrices"),
    ("np.linalg.pinv(A, hermitian=True)", ["A=[[1, 2], [0, 1]]"], "pass the symmetric matrix you mean"),
    ("torch.linalg.pinv(A, hermitian=True)", ["A=[[1, 2], [0, 1]]"], "pass the symmetric matrix you mean"),
    ("np.linalg.svd(A, compute_uv=False, hermitian=True)", ["A=[[1, 2], [0, 1]]"], "the matrix is not symmetric"),
    ("np.cumulative_sum(x, axis=0, out=x)", ["x:3"], "out= writes into an array"),
    ("torch.cumsum(x, 0, dtype=torch.bool)", ["x:3"], "PyTorch has no cumsum in bool"),
    ("np.gradient(x, 0, edge_order=2)", ["x:4"], "a spacing of 0 with edge_order=2"),  # was ZeroDivisionError
    ("np.sum(x, 0, None, x)", ["x:2x3"], "out= writes into an array"),
    ("np.median(x, 0, True)", ["x:2x3"], "out= writes into an array"),
    ("x.sum(0, int)", ["x:2x3"], "PyTorch's third is keepdim"),  # no library named: PyTorch raises, NumPy's dtype
    ("torch.sum(x, 0, torch.float64)", ["x:2x3"], "PyTorch's third is keepdim"),
    ("x.sort(0, 'stable')", ["x:2x3"], "a string third argument is NumPy's kind"),
    ("np.add.reduce(x, 0, None, x)", ["x:2x3"], "out= writes into an array"),
    ("np.maximum.reduce(x, 0, int)", ["x:2x3"], "dtype= is not supported by jac here"),
    ("np.sort(x, -1, None, 'f')", ["x:2x3"], "sorts structured arrays by field"),
]


@pytest.mark.parametrize("expr, bindings, words", REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_with_one_message(expr, bindings, words):
    result = CliRunner().invoke(app, ["eval", expr, *bindings])
    assert result.exit_code == 2, result.output
    assert words in result.output and "internal error" not in result.output


def test_squeeze_method_in_a_numpy_text_is_numpys():
    """x.squeeze(0) of an axis longer than 1: NumPy raises, PyTorch leaves x as it is; the text's library decides."""
    x = np.ones((2, 1, 3))
    with pytest.raises(JacShapeError, match="not of length 1"):
        api.evaluate("import numpy as np\nx.squeeze(0)", {"x": x})
    assert api.evaluate("import numpy as np\nx.squeeze(1)", {"x": x}).shape == (2, 3)
    assert api.evaluate("import torch\nx.squeeze(0)", {"x": x}).shape == (2, 1, 3)
