"""Session 47, the lead's fixes of the session's fuzz findings that are not a module's own test file."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

X = np.arange(12.0).reshape(3, 4)


@pytest.mark.parametrize("text", [
    "x.at[None, jnp.array([True, False, False]), jnp.array([0, 0])].get()",
    "x.at[None, jnp.array([True, False, False])].set(1.0)",
    "x.at[None, jnp.array([True, False, False]), jnp.array([True, True]), jnp.array([0, 0])].mul(2.0)",
])
def test_a_mask_after_none_in_at_is_refused_not_a_crash(text):
    """index40_fuzz seed 4710: a boolean mask that is not the first part of ``x.at[...]`` (after ``None``) was read
    as if it were, an internal error (AttributeError) instead of the refusal of a mask beside other parts."""
    with pytest.raises(JacError, match="boolean mask must be the whole index"):
        api.evaluate(text, {"x": X})


def test_the_mask_after_none_from_the_shell():
    run = subprocess.run([sys.executable, "-m", "jacobi_cli", "eval",
                          "x.at[None, jnp.array([True, False, False])].set(1.0)", "x:3x4"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "internal error" not in run.stderr and "Traceback" not in run.stderr
    assert run.stderr.startswith("jac: error (value)")
