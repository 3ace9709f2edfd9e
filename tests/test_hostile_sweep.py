"""The hostile sweep (benchmarks/hostile_sweep.py) in this process: every case that needs no
real process (no FIFO, closed or full stream) and no large memory runs through ``entry.main``
in a folder of hostile files, and must end with no traceback and an exit code it allows.
The full sweep, with real processes, timeouts and max RSS, is ``python benchmarks/hostile_sweep.py``."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))
import hostile_sweep  # noqa: E402

from jacobi_cli.cli import entry  # noqa: E402

LIGHT = [c for c in hostile_sweep.cases() if not hostile_sweep.needs_real_process(c)]


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("hostile")
    hostile_sweep.make_files(str(path))
    yield path
    os.chmod(path / "unreadable.csv", 0o600)


def test_the_sweep_has_its_150_and_more_cases():
    assert len(hostile_sweep.cases()) >= 150 and len(LIGHT) >= 150


@pytest.mark.parametrize("index", range(len(LIGHT)))
def test_hostile_case_in_process(folder, monkeypatch, capsys, index):
    case = LIGHT[index]
    monkeypatch.chdir(folder)
    monkeypatch.setenv("COLUMNS", "100")
    code = entry.main(list(case.args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err, (case.args, err[-500:])
    assert "internal error" not in err, (case.args, err[-500:])
    assert code in case.codes, (case.args, code, err[-300:])
