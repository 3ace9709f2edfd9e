"""Session 50 (h50-precision): derivatives at extreme magnitudes that lost precision without a word.

Session 49's fuzz found ``jac hessian "torch.sqrt(y) * y" y=1e308`` = 1e-154, the truth 7.5e-155 (PyTorch's):
sqrt's rule was ``g · (0.5 / sqrt(y))``, whose derivative holds (0.5 / sqrt(y)) / sqrt(y) = 5e-309 times sqrt'(y),
which underflows to 0 before the upstream y multiplies it. ``benchmarks/extreme50_probe.py`` found the kind: every
rule written as ``g · (c / h)`` (sqrt, log, log1p, log2, log10, arctan) lost the second derivative of ``f(y) · y``
at 1e200 and past (log(y) · y: 2e-300 for 1e-300, twice the truth). Those rules now divide the cotangent or tangent,
``(g · c) / h`` (``ops.unary``'s ``over=``), as PyTorch's backward formulas do. Every path (the interpreter, the
compiled kernels, a chunked plan, ``derivative``, the command line) gives the same bits. Below 5.6e-309, where
1 / x overflowed, log's divisor is ±0: the ±inf or NaN jac warns of, as before (tests/test_nan39.py). The probe's
other find: atanh's divisor is 1 - x·x below |x| = 0.5 (its Hessian was 0 below 1e-16).
"""

from __future__ import annotations

import contextlib
import io
import json

import mpmath
import numpy as np
import pytest

from jacobi_cli.cli import entry
from jacobi_cli.tools import api

mpmath.mp.dps = 50


def _log_b(b):
    return lambda y: 1 / (y * mpmath.log(b))


# (expression of y, point, exact second derivative as a function of the mpf point)
HESSIANS = [
    ("torch.sqrt(y) * y", 1e308, lambda y: mpmath.mpf(3) / 4 / mpmath.sqrt(y)),  # the session-49 case
    ("torch.sqrt(y) * y", 1e300, lambda y: mpmath.mpf(3) / 4 / mpmath.sqrt(y)),
    ("torch.log(y) * y", 1e300, lambda y: 1 / y),
    ("torch.log(y) * y", 1e200, lambda y: 1 / y),
    ("torch.log1p(y) * y", 1e300, lambda y: (2 + y) / (1 + y) ** 2),
    ("torch.log2(y) * y", 1e300, _log_b(2)),
    ("torch.log10(y) * y", 1e200, _log_b(10)),
    ("torch.log(y) * torch.sqrt(y)", 1e200, lambda y: -mpmath.log(y) / (4 * y ** mpmath.mpf(1.5))),
    ("torch.atan(y) * y", 1e100, lambda y: 2 / (1 + y ** 2) ** 2),  # 2e-400: 0 in float64 (it was 2e-200)
    # atanh's divisor (1 - y)(1 + y) has the tangent (1 - y)t - (1 + y)t, 0 where 1 ± y round to 1
    ("torch.atanh(y)", 1e-20, lambda y: 2 * y / (1 - y ** 2) ** 2),
    ("torch.atanh(y)", -3.75e-262, lambda y: 2 * y / (1 - y ** 2) ** 2),
]


def _truth(f, point) -> float:
    return float(f(mpmath.mpf(point)))


def _close(got, want, rtol=1e-13) -> bool:
    return abs(float(got) - want) <= rtol * abs(want)


def _cli(*args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = entry.main([str(a) for a in args])
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue())


@pytest.mark.parametrize("expr,point,second", HESSIANS)
def test_hessian_against_the_truth_on_every_path(expr, point, second):
    want = _truth(second, point)
    api.clear_cache()
    first = api.hessian(expr, {"y": repr(point)})[("y", "y")]
    assert _close(first, want), (expr, float(first), want)
    again = api.hessian(expr, {"y": repr(point)})[("y", "y")]  # the repeated call's kernel
    derivative = api.derivative(expr, {"y": repr(point)}, order=2)
    compiled = api.compile(expr, {"y": ":()"})
    calls = [compiled.hessian({"y": np.float64(point)})[("y", "y")] for _ in range(3)]
    obj = _cli("hessian", expr, f"y={point!r}", "--json")
    cli = obj["hessian"]["y,y"]["value"]
    for other in [again, np.asarray(derivative["y"] if isinstance(derivative, dict) else derivative), *calls]:
        assert np.asarray(other, dtype=np.float64).tobytes() == np.asarray(first).tobytes(), expr
    assert cli == float(first)
    assert not [w for w in obj.get("warnings", []) if w["in"].startswith("∂²")]


def test_vector_hessian_every_plan_agrees():
    """sum(sqrt(x) · x) over [1e308, 1e300, 4]: a diagonal Hessian 0.75 / sqrt(x), the chunked plan's too."""
    x = [1e308, 1e300, 4.0]
    want = np.diag([0.75 / np.sqrt(v) for v in x])
    expr = "torch.sum(torch.sqrt(x) * x)"
    api.clear_cache()
    full = api.hessian(expr, {"x": repr(x)})[("x", "x")]
    chunked = api.hessian(expr, {"x": repr(x)}, max_memory="2K")[("x", "x")]
    assert np.allclose(full, want, rtol=1e-14, atol=0)
    assert full.tobytes() == chunked.tobytes()

