"""The lead's changes of session 50 (see CHANGELOG.md, "Fiftieth session")."""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest


def test_holds_nan_finds_a_nan_at_every_position_and_in_every_float_dtype():
    """autodiff.holds_nan reads the element a float argmax points at (session 50): NumPy's argmax must stop at a
    NaN wherever it stands (first, last, after an inf, among several), in every float dtype and layout, and say
    nothing of a NaN-free array of infinities and huge values, under a caller's ``np.seterr(all='raise')``."""
    from jacobi_cli.engine import autodiff

    dtypes = [np.float16, np.float32, np.float64, np.longdouble]
    with np.errstate(all="raise"):
        for dtype in dtypes:
            base = np.array([1.0, -np.inf, np.inf, 0.0, -0.0, 5.0, np.finfo(dtype).max], dtype)
            assert not autodiff.holds_nan(base) and not autodiff.holds_nan(base[::-1])
            for at in range(base.size):
                a = base.copy()
                a[at] = np.nan
                for b in (a, a[::-1], a.reshape(7, 1).T, np.stack([a, a[::-1]]).T):
                    assert autodiff.holds_nan(b), (dtype, at, b)
                a[(at + 3) % a.size] = -np.nan
                assert autodiff.holds_nan(a), (dtype, at)
            assert autodiff.holds_nan(np.full((2, 3), np.nan, dtype)[:, ::2])
            assert not autodiff.holds_nan(np.zeros((0, 3), dtype))


# --- a function given a copy writes into it; a write into a tuple's item says what jac follows --------------------

COPIES = [  # a parameter given a copy is a buffer of its own, as u = t.clone() is: the write is the function's alone
    "t3 = x * 1\ndef g(v):\n    v.mul_(2)\n    return v\nt4 = g(t3.clone())\nt3 + t4",
    "t3 = x * 1\ndef g(v, u):\n    v.mul_(2)\n    return v + u\nt4 = g(t3.clone(), t3)\nt3 + t4",
    "t3 = x * 1\ndef g(v):\n    v[0] = v[1] * 3\n    return v\nt4 = g(t3.clone())\nt3 * t4",
    "t3 = x * 1\ndef g(v):\n    v.tanh_()\n    return v\nt4 = g(v=torch.clone(t3))\nt4 * t3",
    "t3 = x * 1\nclass M:\n    def f(self, v):\n        v.mul_(2)\n        return v\nt4 = M().f(t3.clone())\nt3 + t4",
    "t3 = x * 1\ndef g(v):\n    v.mul_(2)\n    return v\nt4 = g(t3)\nt3 + t4",  # no copy: the caller's t3 doubles too
    # session 55 (h55-layout): a tuple of *args holding the copy is followed (it was refused, "make it a list")
    "t3 = x * 1\ndef g(*args):\n    args[0].mul_(3)\n    return args[0]\ng(t3.clone())",
]


@pytest.mark.parametrize("text", COPIES)
def test_a_function_given_a_copy_writes_into_the_copy_alone(text):
    """``g(t.clone())`` with ``v.mul_(2)`` inside g was refused ("'v' shares its memory with 't'", session 49's
    leftover): the parameter was bound to the argument's node, which a clone shares in jac's graph. It is PyTorch's."""
    from test_inplace47 import check_torch

    check_torch(text)


@pytest.mark.parametrize("text", [
    "ts = (x * 1, x * 2)\nts[0].add_(1)\nts[0] * ts[1]",
    "p = torch.sort(x)\np[0] = x * 2\np[0]",
])
def test_a_write_into_a_tuples_item_says_a_list_is_followed(text):
    """A write into a tuple's item was refused with "'ts' is a tuple of arrays; index it first (parts[0])", though
    the text had indexed it. The refusal now says what jac follows (a list's item) and what to write."""
    from jacobi_cli import evaluate
    from jacobi_cli.errors import JacError

    with pytest.raises(JacError, match="not an item of a tuple: make it a list"):
        evaluate(text, {"x": [[0.5, 1.0], [-0.3, 0.8]]})


@pytest.mark.parametrize("text", ["p = torch.sort(x[0])\np[0][0] = 1\np[0]", "p = (x * 1, x * 2)\np[0][0] = 1\np[0]"])
def test_a_write_into_an_element_of_a_tuples_array_names_the_tuple(text):
    """``p = torch.sort(x); p[0][0] = 1`` said "'p' is an array, not a Python list", and of a tuple display "an array
    held in the list 'p'": both now say 'p' is a tuple and how to write (name its arrays where it is made)."""
    from jacobi_cli import evaluate
    from jacobi_cli.errors import JacError

    with pytest.raises(JacError, match="'p' is a (named )?tuple (\\(values, indices\\) )?of arrays, .* name its "
                                       "arrays where it is made"):
        evaluate(text, {"x": [[0.5, 1.0], [-0.3, 0.8]]})


def test_nan_in_says_what_isnan_any_says_of_every_array_a_kernel_may_answer():
    """autodiff.nan_in, the hot path's scan of a kernel's answers (session 50), reads the element an argmax points
    at and asks whether it is unequal to itself: it must agree with ``np.isnan(a).any()`` for float, complex (a NaN
    in either part), integer and bool arrays, 0-d, empty and strided ones, and NumPy scalars, and never raise."""
    from jacobi_cli.engine import autodiff

    rng = np.random.default_rng(50)
    cases = []
    for dtype in (np.float16, np.float32, np.float64, np.complex64, np.complex128):
        for shape in ((), (0,), (1,), (5,), (3, 4), (0, 3)):
            for fill in (None, np.nan, complex(0, np.nan), np.inf, -np.inf):
                a = np.asarray(rng.standard_normal(shape)).astype(dtype)
                if fill is not None and a.size:
                    if isinstance(fill, complex) and a.dtype.kind != "c":
                        continue
                    a.reshape(-1)[rng.integers(a.size)] = fill
                cases += [a, a.T, a[..., ::2] if a.ndim else a]
    cases += [np.arange(6).reshape(2, 3), np.array([True, False]), np.float64(np.nan), np.float32(2.0)]
    with np.errstate(all="raise"):
        for a in cases:
            want = bool(np.isnan(a).any())
            assert autodiff.nan_in([a]) == want, (a.dtype, np.shape(a), a)
            assert autodiff.nan_in([np.zeros(2), a, np.ones(1)]) == want
    assert not autodiff.nan_in([])


DIVISIONS = [(1.0, 2.0, 1e200, -3e199), (1.0, 2.0, 1e-200, -3e-201), (-3.0, 0.5, 2.0, -0.75), (1e300, 1e300, 3e299, 1e299),
             (1e-300, 2e-300, 1e-300, 1e-300), (0.0, 1.0, 5e-324, 0.0), (2.0, -1.0, 0.0, 0.0), (0.0, 0.0, 0.0, 0.0),
             (1.0, 0.0, 0.0, 0.0), (4.0, 3.0, -0.0, 1e-310)]


@pytest.mark.parametrize("a, b, c, d", DIVISIONS)
def test_a_complex_division_is_the_libraries_at_every_magnitude(a, b, c, d):
    """(a + bi) / (c + di) was (a·c + b·d) / (c² + d²): c² + d² overflowed to inf at |c| = 1e200 (the quotient 0,
    silently) and underflowed to 0 at 1e-200 (inf), and at c = d = 0 it was 0/0 = NaN where NumPy, PyTorch and JAX
    give C99's ±inf (fft36 seed 4973). Now scaled by hypot(c, d): the exact quotient within 4 ulps (or the same
    infinity; at 0 NumPy's ±inf / NaN), and its derivatives central differences' (within 1e-6) where those are finite."""
    from jacobi_cli import evaluate, jacobian

    text = "torch.view_as_real(torch.complex(p, q) / torch.complex(r, s))"
    values = {"p": a, "q": b, "r": c, "s": d}
    if c == 0 and d == 0:  # C99's Annex G, as NumPy, PyTorch and JAX divide
        with np.errstate(all="ignore"):
            want = complex(a, b) / np.complex128(complex(c, d))
    else:  # the exact quotient, rounded once (where the libraries' own scaling may overflow: NaN for 1j / 5e-324)
        def rounded(q):
            try:
                return float(q)
            except OverflowError:
                return math.inf if q > 0 else -math.inf
        a_, b_, c_, d_ = (Fraction(v) for v in (a, b, c, d))
        n = c_ * c_ + d_ * d_
        want = complex(rounded((a_ * c_ + b_ * d_) / n), rounded((b_ * c_ - a_ * d_) / n))
    got = evaluate(text, values)
    for part, w in zip(got, (want.real, want.imag)):
        if np.isfinite(w):
            assert abs(part - w) <= 4 * np.spacing(abs(w)) or abs(part - w) <= 1e-320, (got, want)
        else:
            assert str(part) == str(w), (got, want)  # the same infinity, or NaN
    if c == 0 and d == 0:
        return
    J = jacobian(text, values)
    for name in values:
        h = 1e-6 * max(abs(values[name]), 1e-300)
        up, down = dict(values), dict(values)
        up[name] += h
        down[name] -= h
        with np.errstate(all="ignore"):
            fd = (evaluate(text, up) - evaluate(text, down)) / (2 * h)
        if not np.isfinite(fd).all():  # 1 / (1e-200)²: the derivative itself overflows
            continue
        scale = max(np.max(np.abs(fd)), np.finfo(float).tiny)
        np.testing.assert_allclose(J[name], fd, rtol=1e-6, atol=1e-6 * scale)
