"""Session 47, the lead's fixes of the session's fuzz findings that are not a module's own test file."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from jacobi_cli.errors import JacError
from jacobi_cli.tools import api

X = np.arange(12.0).reshape(3, 4)


@pytest.mark.parametrize("text, shape", [
    ("x.at[None, jnp.array([True, False, False]), jnp.array([0, 0])].get()", (1, 2)),
    ("x.at[None, jnp.array([True, False, False])].set(1.0)", (3, 4)),
])
def test_a_mask_after_none_in_at_is_read_where_it_stands_not_a_crash(text, shape):
    """index40_fuzz seed 4710: a boolean mask that is not the first part of ``x.at[...]`` (after ``None``) was read
    as if it were, an internal error (AttributeError); then refused as a mask beside other parts; since h48-npfuzz
    read as JAX reads it, the mask's nonzero arrays where it stands (tests/test_npfuzz48.py compares with JAX)."""
    assert api.evaluate(text, {"x": X}).shape == shape


def test_a_mask_that_does_not_fit_its_axes_after_none_is_refused():
    """JAX raises (too many indices): the second mask stands on no axis of its length."""
    with pytest.raises(JacError, match="boolean mask has shape"):
        api.evaluate("x.at[None, jnp.array([True, False, False]), jnp.array([True, True]), jnp.array([0, 0])]"
                     ".mul(2.0)", {"x": X})


def test_the_mask_after_none_from_the_shell():
    run = subprocess.run([sys.executable, "-m", "jacobi_cli", "eval",
                          "x.at[None, jnp.array([True, False, False]), jnp.array([True, True])].set(1.0)", "x:3x4"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "internal error" not in run.stderr and "Traceback" not in run.stderr
    assert run.stderr.startswith("jac: error (shape)")
