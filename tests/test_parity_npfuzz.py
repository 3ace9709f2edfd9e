"""What the differential fuzz in NumPy spelling (benchmarks/numpy_fuzz.py: random programs run by NumPy and by
jac) found jac answering differently from NumPy, each checked against NumPy itself at the values that showed it
(bit for bit: NaN, infinities and the sign of zeros included), and against PyTorch where a derivative is involved.

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
