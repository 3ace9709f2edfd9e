"""Session 49 (lead): a derivative refused for its size points to ``--sparse`` only where the caller has it."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.errors import JacLimitError
from jacobi_cli.tools import api

ARGS = ["sin(x)", "x=ones(60)", "--order", "3", "--max-memory", "1M"]


def test_jac_derivative_offers_sparse_for_a_diagonal_derivative_past_the_budget():
    result = CliRunner().invoke(app, ["derivative", *ARGS])
    assert result.exit_code == 2
    assert "It is diagonal: --sparse gives its diagonal alone" in result.output
    result = CliRunner().invoke(app, ["derivative", *ARGS, "--sparse"])
    assert result.exit_code == 0, result.output


def test_the_api_which_has_no_sparse_keyword_says_what_it_can_change():
    with pytest.raises(JacLimitError) as caught:
        api.derivative("sin(x)", {"x": "ones(60)"}, order=3, max_memory="1M")
    message = str(caught.value)
    assert "sparse" not in message
    assert "Lower order=" in message and "raise max_memory=" in message


def test_a_suite_case_which_has_no_sparse_key_says_what_it_can_change(tmp_path):
    path = tmp_path / "big.toml"
    path.write_text('[[case]]\nname = "big"\nexpr = "sin(x)"\nbindings = { x = "ones(60)" }\n'
                    '[[case.derivative]]\norder = 3\nexpected = 0\n')
    result = CliRunner().invoke(app, ["run", str(path), "--max-memory", "1M", "--json"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)["cases"][0]["error"]
    assert error["kind"] == "limit" and error["key"] == "derivative[0]"
    assert "sparse" not in error["message"] and "raise --max-memory" in error["message"]


def test_holds_nan_is_isnan_any_for_every_dtype_and_layout():
    """autodiff.holds_nan, the scan of every kernel's answer (session 49), reads a float array's maximum: it must
    say what ``np.isnan(a).any()`` says, with infinities, huge values and strides, and never raise or warn under a
    caller's ``np.seterr(all='raise')`` (a dot of squares did: overflow)."""
    from jacobi_cli.engine import autodiff

    rng = np.random.default_rng(49)
    for dtype in (np.float16, np.float32, np.float64, np.complex128):
        for shape in ((), (0,), (1,), (7,), (3, 4), (2, 3, 5)):
            for fill in (None, np.nan, np.inf, -np.inf, 1e300, -3e38):
                a = rng.standard_normal(shape).astype(dtype) if shape else np.asarray(rng.standard_normal(), dtype)
                if fill is not None and a.size:
                    with np.errstate(over="ignore"):
                        a.reshape(-1)[rng.integers(a.size)] = fill
                for b in (a, a.T, a[..., ::2] if a.ndim else a):
                    assert autodiff.holds_nan(b) == bool(np.isnan(b).any()), (dtype, shape, fill)
    with np.errstate(all="raise"):
        assert not autodiff.holds_nan(np.array([np.inf, -np.inf, 1e200, 1e300]))
        assert autodiff.holds_nan(np.array([1e300, np.nan])) and autodiff.holds_nan(np.full((3, 3), np.nan))


def test_the_lu_clearance_never_clears_a_matrix_the_singular_values_call_singular():
    """ops.near_singular clears a matrix (of 32 or more rows, or in a stack of few) by an LU and LAPACK's condition
    estimate before any SVD (session 49): it must flag exactly the matrices the singular values flag, around the cut n·eps."""
    from jacobi_cli.ir import ops

    rng = np.random.default_rng(4949)
    cleared = 0
    for trial in range(120):
        n = int(rng.integers(2, 72))
        dtype = (np.float64, np.float32)[trial % 2]
        u, _ = np.linalg.qr(rng.standard_normal((n, n)))
        w, _ = np.linalg.qr(rng.standard_normal((n, n)))
        smallest = n * np.finfo(dtype).eps * 10.0 ** rng.uniform(-3, 6)  # either side of the cut
        s = np.geomspace(1, smallest, n) if trial % 3 else np.r_[np.ones(n - 1), smallest]
        a = ((u * s) @ w.T).astype(dtype)
        if trial % 5 == 0:
            a = np.stack([a, 2 * a])
        values = np.linalg.svd(a, compute_uv=False)
        truth = bool(np.any(values.min(-1) <= n * np.finfo(dtype).eps * values.max(-1)))
        assert ops.near_singular(a)[0] == truth, (trial, n, dtype, smallest)
        cleared += bool(ops._clearly_regular(a.reshape((-1, n, n))).all())
    assert cleared  # the clearance itself ran: well-conditioned draws are cleared without the SVD
    exact = np.ones((40, 40))  # an exact zero pivot: the SVD decides
    assert not ops._clearly_regular(exact[None]).any() and ops.near_singular(exact)[0]
