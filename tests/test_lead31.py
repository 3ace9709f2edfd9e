"""The lead's fixes of the thirty-first session that have no file of their own."""
from __future__ import annotations

import os

import pytest

from jacobi_cli.lang import fileio


def test_a_ctrl_c_as_the_out_targets_probe_is_closed_leaves_no_file(tmp_path, monkeypatch):
    """The folder's probe (made and removed before any work: h30-contract's early refusal of a target whose folder
    takes no temporary file) is removed whatever interrupts it; and it is no '.tmp', which is the write's own."""
    made = []
    real_open, real_close = os.open, os.close

    def spy_open(path, *args):
        made.append(path)
        return real_open(path, *args)

    def interrupted(fd):
        real_close(fd)
        raise KeyboardInterrupt

    monkeypatch.setattr(fileio.os, "open", spy_open)
    monkeypatch.setattr(fileio.os, "close", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fileio._temporary_made_beside(str(tmp_path / "J.npz"), "J.npz")
    assert made and not made[0].endswith(".tmp")
    assert os.listdir(tmp_path) == []
