"""PyTorch's values where they differ from NumPy's: torch.linspace and a float torch.arange as PyTorch computes them
(np.linspace and np.arange as NumPy does), and sgn / sign at NaN by the text's library.

PyTorch's CPU kernel makes ``start + step * i`` for the first half and ``end - step * (steps - 1 - i)`` for the
rest, each a fused multiply-add (its AVX2 and AVX-512 builds agree); NumPy's ``start + i * step``, then the end.
They differ by an ulp here and there, which a discontinuous function shows whole: ``(torch.linspace(-1, 1, 4) *
3).int()`` is ``[-3, -1, 1, 3]`` in PyTorch and was ``[-3, -1, 0, 3]`` in jac (found by benchmarks/torch_fuzz.py).
A float ``torch.arange`` makes blocks of 4 values (8 in float32) from a base, each a fused multiply-add.

These are the values of PyTorch's AVX2 kernels (which AVX-512 machines run too); its kernels for CPUs without AVX2
round otherwise, so the comparisons with PyTorch run where it reports AVX2 or AVX-512.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.lang.functions import TORCH_ONE_THREAD, _to_float32, torch_arange, torch_linspace
from jacobi_cli.tools import api

torch = pytest.importorskip("torch")
avx2 = pytest.mark.skipif(torch.backends.cpu.get_cpu_capability() not in ("AVX2", "AVX512"),
                          reason="PyTorch's CPU kernels without AVX2 round otherwise (no fused multiply-add)")

TORCH_DTYPES = {"float64": torch.float64, "float32": torch.float32}


def _bounds(count: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    cases = []
    for i in range(count):
        a, b = rng.normal(0, 10, 2) * 10.0 ** rng.integers(-3, 4, 2)
        if i % 3 == 0:
            a, b = rng.integers(-50, 50, 2)
        if i % 5 == 0:
            a, b = rng.integers(-5, 5) / 8, rng.integers(-5, 5) / 3
        if i % 7 == 0:
            a, b = rng.normal(0, 1e-30, 2)
        cases.append((float(a), float(b), int(rng.integers(0, 300))))
    return cases


@avx2
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_torch_linspace_is_pytorch_s_bit_for_bit(dtype):
    for start, end, steps in _bounds(400, 16):
        want = torch.linspace(start, end, steps, dtype=TORCH_DTYPES[dtype]).numpy()
        got = torch_linspace(start, end, steps, np.dtype(dtype))
        assert got.dtype == want.dtype and np.array_equal(got, want), (start, end, steps)
        assert np.array_equal(np.signbit(got), np.signbit(want)), (start, end, steps)


@avx2
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("start, end", [(0.0, np.inf), (-np.inf, np.inf), (np.nan, 1.0), (0.0, 1e-320),
                                        (1e-45, 1e-44), (3e38, -3e38), (5.0, 5.0), (-0.0, 0.0)])
def test_torch_linspace_at_the_edges(start, end, dtype):
    if dtype == "float64" and start == 3e38:
        start, end = 1e300, -1e300
    if dtype == "float32" and start == 0.0 and end == 1e-320:
        end = 1e-44
    with np.errstate(all="ignore"):
        got = torch_linspace(start, end, 7, np.dtype(dtype))
    want = torch.linspace(start, end, 7, dtype=TORCH_DTYPES[dtype]).numpy()
    assert np.array_equal(got, want, equal_nan=True)


def test_a_float32_quotient_on_a_midpoint_takes_the_exact_value_s_side():
    # 1 + 2**-24 is halfway between the float32 values 1 and 1 + 2**-23; just above it, the float64 rounding
    # lands on the midpoint, whose own rounding (ties to even) would give 1
    den = 2 ** 90
    above, below, on = den + 2 ** 66 + 1, den + 2 ** 66 - 1, den + 2 ** 66
    q = np.array([above / den, below / den, on / den])
    assert q[0] == q[1] == q[2] == 1 + 2 ** -24
    got = _to_float32(q, [above, below, on], den)
    assert got.tolist() == [1 + 2 ** -23, 1.0, 1.0]


@avx2
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_expression_reads_torch_linspace_as_pytorch(dtype):
    expr = "(torch.linspace(-1, 1, 4) * 3).int()"
    torch.set_default_dtype(TORCH_DTYPES[dtype])
    try:
        want = (torch.linspace(-1, 1, 4) * 3).int().numpy()
    finally:
        torch.set_default_dtype(torch.float32)
    assert api.evaluate(expr, {}, dtype=dtype).tolist() == want.tolist() == \
        ([-3, -1, 1, 3] if dtype == "float64" else [-3, 0, 0, 3])
    x = np.array([0.5, -2.0, 3.0])
    J = api.jacobian("x * torch.linspace(0.1, 0.7, 3)", {"x": x}, wrt=["x"], dtype=dtype)["x"]
    assert np.array_equal(np.diag(J), torch_linspace(0.1, 0.7, 3, np.dtype(dtype)))


def test_pytorch_s_keywords_and_numpy_s_reading():
    assert api.evaluate("torch.linspace(0, 1, steps=5)", {}).tolist() == [0, 0.25, 0.5, 0.75, 1]
    assert api.evaluate("torch.linspace(start=0, end=2, steps=3, dtype=torch.float64)", {}).tolist() == [0, 1, 2]
    with pytest.raises(JacError, match="no argument 'endpoint'"):
        api.evaluate("torch.linspace(0, 1, 5, endpoint=False)", {})
    for spelling in ("np.linspace", "linspace"):  # NumPy's values
        assert np.array_equal(api.evaluate(f"{spelling}(-1, 1, 4)", {}), np.linspace(-1, 1, 4))
    t = np.arange(4) * (1 / 3)  # jnp.linspace is JAX's formula, start * (1 - t) + stop * t (session 45), t as XLA
    assert np.array_equal(api.evaluate("jnp.linspace(-1, 1, 4)", {}), -1 * (1 - t) + 1 * t)
    assert np.array_equal(api.evaluate("np.linspace(0, 1, 4, endpoint=False)", {}), np.linspace(0, 1, 4, endpoint=False))


@avx2
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_float_torch_arange_is_pytorch_s_bit_for_bit(dtype):
    rng = np.random.default_rng(1616)
    for i in range(600):
        start, step = float(rng.normal(0, 5)), float(rng.uniform(0.01, 2)) * (1 if i % 5 else -1)
        if i % 2:
            start, step = float(rng.integers(-5, 5)), float(rng.choice([0.1, 0.2, 0.25, 0.3, 1 / 3, 0.7, -0.1]))
        if i % 11 == 0:
            start, step = float(rng.normal(0, 1e6)), float(rng.uniform(1e-3, 1))
        end = start + step * float(rng.integers(1, 200)) + step * 0.5
        want = torch.arange(start, end, step, dtype=TORCH_DTYPES[dtype]).numpy()
        got = torch_arange(start, step, max(0, math.ceil((end - start) / step)), np.dtype(dtype))
        assert got.dtype == want.dtype and np.array_equal(got, want), (start, end, step)


@avx2
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_the_expression_reads_a_float_torch_arange_as_pytorch(dtype):
    torch.set_default_dtype(TORCH_DTYPES[dtype])
    try:
        want = torch.arange(-1.3, 2.9, 0.3).numpy()
        floors = torch.floor(torch.arange(0.0, 3.0, 0.1) * 10).numpy()
    finally:
        torch.set_default_dtype(torch.float32)
    assert np.array_equal(api.evaluate("torch.arange(-1.3, 2.9, 0.3)", {}, dtype=dtype), want)
    assert np.array_equal(api.evaluate("torch.floor(torch.arange(0.0, 3.0, 0.1) * 10)", {}, dtype=dtype), floors)
    # NumPy's spelling stays NumPy's; whole numbers are exact either way
    assert np.array_equal(api.evaluate("np.arange(-1.3, 2.9, 0.3)", {}), np.arange(-1.3, 2.9, 0.3))
    assert api.evaluate("torch.arange(5)", {}).tolist() == [0, 1, 2, 3, 4]
    # past PyTorch's grain its values depend on its thread count: NumPy's there (documented)
    n = TORCH_ONE_THREAD + 8
    assert np.array_equal(api.evaluate(f"torch.arange(0.0, {n * 0.1}, 0.1)", {}), np.arange(0.0, n * 0.1, 0.1))


def test_sgn_is_pytorch_s_and_sign_follows_the_text_s_library():
    # found by benchmarks/torch_fuzz.py: (x ** 1.5).sgn() gave NaN where PyTorch gives 0 (NumPy has no sgn)
    x = np.array([np.nan, -1.0, 2.0])
    t = torch.tensor(x)
    for expr, want in [("x.sgn()", t.sgn()), ("torch.sgn(x)", torch.sgn(t)), ("sgn(x)", torch.sgn(t)),
                       ("torch.nan_to_num(x) + x.sign()", torch.nan_to_num(t) + t.sign()),
                       ("np.nan_to_num(x) + x.sign()", np.nan_to_num(x) + np.sign(x)),
                       ("x.sign()", np.sign(x)), ("sign(x)", np.sign(x)), ("np.sign(x)", np.sign(x))]:
        assert np.array_equal(api.evaluate(expr, {"x": x}), np.asarray(want), equal_nan=True), expr
