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
    """autodiff.holds_nan, the scan of every kernel's answer (session 49), reads a float array's dot with
    itself: it must say what ``np.isnan(a).any()`` says, with infinities, overflowing squares and strides."""
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
    both = np.array([np.inf, -np.inf, 1e200])  # a sum of squares never makes inf - inf
    assert not autodiff.holds_nan(both) and autodiff.holds_nan(np.array([np.inf, np.nan]))
