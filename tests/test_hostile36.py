"""Session 36: hostile files, time and memory (benchmarks/hostile36_fuzz.py runs the full sweep).

- ``jac check`` of an input of millions of elements (or of a batch of 100,000 examples) evaluated the expression
  six times per element: hours of work with no message, as if it had hung. It is refused at once, from the
  shapes, with a ``limit`` error naming the count, the biggest input and the ways around.
- An empty (or white-space) expression file or standard input says which was empty; a UTF-16 file (Windows'
  "Unicode") says so instead of "byte 0: 0xff".
"""

import json
import time

import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.errors import JacLimitError
from jacobi_cli.tools import api, check, report

runner = CliRunner()


def _error(result):
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("jac: error")]
    assert len(lines) == 1 and result.stderr.startswith("jac: error"), result.stderr
    return lines[0]


# --- jac check's work, bounded before it starts ----------------------------------------------------------------


def test_a_check_of_two_million_elements_is_refused_at_once_from_the_shapes():
    start = time.perf_counter()
    with pytest.raises(JacLimitError, match=r"12,000,000 times .*'x' has 2,000,000 elements.*--wrt"):
        report.check_report("x.sum()", ["x:2000000"])
    assert time.perf_counter() - start < 30  # it ran for hours; the refusal needs no evaluation (no timing asserted
    # beyond "not the work itself")


def test_a_check_of_a_huge_batch_names_the_examples():
    with pytest.raises(JacLimitError, match=r"for each of 100,000 examples; 'x' has 3 elements"):
        report.check_report("sin(x).sum()", ["x:100000x3"], batch=["x"])


def test_several_outputs_count_once_each():
    with pytest.raises(JacLimitError, match=r"for each of 2 outputs"):
        report.check_report("a = sin(x); b = x.sum(); a, b", ["x:30000"])


def test_richardson_counts_ten_evaluations_per_element():
    problem = api.prepare("x.sum()", {"x": "ones(45000)"})
    check.refuse_long(problem, "central")  # 6 per element: 2.7e10 element operations, under the bound
    with pytest.raises(JacLimitError, match=r"450,000 times \(10 per element"):
        check.refuse_long(problem, "richardson")


def test_the_bound_counts_what_a_check_does():
    """Each term of the estimate is what the check's loops do: EVALUATIONS_PER_ELEMENT evaluations per element,
    each of every node's elements plus NODE_WORK, a shifted copy of x each, CHECK_ARRAYS output-sized arrays per
    element, CHECK_CALL_WORK per check."""
    problem = api.prepare("sin(x) * 2", {"x": "ones(100)"})
    nodes = [n for n in problem.graph.nodes if n.op != "const"]
    per_evaluation = 100 * len(nodes) + check.NODE_WORK * len(nodes)
    expected = 6 * 100 * per_evaluation + 6 * 100 * 100 + check.CHECK_ARRAYS * 100 * 100 + check.CHECK_CALL_WORK
    limit = check.MAX_CHECK_WORK
    try:
        check.MAX_CHECK_WORK = expected
        check.refuse_long(problem, "central")
        check.MAX_CHECK_WORK = expected - 1
        with pytest.raises(JacLimitError, match=f"about {expected:,} element operations"):
            check.refuse_long(problem, "central")
    finally:
        check.MAX_CHECK_WORK = limit


def test_checks_within_the_bound_still_run():
    result = report.check_report("x * 2", ["x:2000"])
    assert result.to_json()["passed"] is True


def test_the_refusal_is_exit_2_with_the_json_error():
    result = runner.invoke(app, ["check", "x.sum()", "x:2000000", "--json"])
    assert "jac check would evaluate the expression" in _error(result)
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == "limit" and "2,000,000 elements" in error["message"]


# --- the expression file: empty, UTF-16 ------------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"   \n\n", b"\r\n"])
def test_an_empty_expression_file_is_named(tmp_path, monkeypatch, content):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f.py").write_bytes(content)
    line = _error(runner.invoke(app, ["eval", "@f.py", "x=1"]))
    assert line == "jac: error (parse): the expression file 'f.py' is empty: it holds no expression"


def test_empty_standard_input_is_named():
    line = _error(runner.invoke(app, ["vjp", "-", "x=1"], input=b""))
    assert line == "jac: error (parse): standard input is empty: it holds no expression"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_a_utf16_expression_file_is_named_as_such(tmp_path, monkeypatch, encoding):
    monkeypatch.chdir(tmp_path)
    text = "sin(x).sum()"
    data = text.encode(encoding) if encoding == "utf-16" else b"\xfe\xff" + text.encode(encoding)
    (tmp_path / "f.py").write_bytes(data)
    line = _error(runner.invoke(app, ["eval", "@f.py", "x=1"]))
    assert "'f.py' is UTF-16 text" in line and "save it as UTF-8" in line


def test_crlf_and_a_utf8_bom_are_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "f.py").write_bytes(b"\xef\xbb\xbfa = sin(x)\r\nb = a * 2\r\nb.sum()\r\n")
    result = runner.invoke(app, ["eval", "@f.py", "x=0", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["jacobian"]["x"]["value"] == 2.0


# --- an output option onto the file a standard stream goes to ------------------------------------------------

SUITE = """[[case]]
name = "dot"
expr = "2 * torch.dot(x, y)"
bindings = { x = "arange(4.0)", y = [3.0, 1.0, 2.0, 5.0] }
value = 40
"""


def _jac(args, cwd, stdout):
    import os
    import subprocess
    import sys

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root)
    return subprocess.run([sys.executable, "-m", "jacobi_cli", *args], cwd=cwd, stdout=stdout,
                          stderr=subprocess.PIPE, env=env, timeout=120)


def test_junit_onto_dev_stdout_redirected_to_a_file_is_refused(tmp_path):
    """``jac run s.toml --junit /dev/stdout > out.txt`` replaced out.txt with the XML, and the report went to the
    replaced (deleted) file; with standard output an unlinked file, it made a file named '#INODE (deleted)'
    beside where it had been."""
    (tmp_path / "s.toml").write_text(SUITE)
    with open(tmp_path / "out.txt", "wb") as out:
        done = _jac(["run", "s.toml", "--junit", "/dev/stdout"], tmp_path, out)
    assert done.returncode == 2
    assert done.stderr.decode().startswith("jac: error (usage): --junit /dev/stdout: that is the file standard "
                                           "output goes to")
    assert (tmp_path / "out.txt").read_bytes() == b""
    (tmp_path / "gone").mkdir()
    with open(tmp_path / "gone" / "out.txt", "wb") as out:
        (tmp_path / "gone" / "out.txt").unlink()
        done = _jac(["run", "s.toml", "--junit", "/dev/stdout"], tmp_path, out)
    assert done.returncode == 2 and list((tmp_path / "gone").iterdir()) == []


def test_out_onto_the_file_standard_output_goes_to_is_refused(tmp_path):
    with open(tmp_path / "j.npy", "wb") as out:
        done = _jac(["eval", "x * 2", "x=1", "--out", "j.npy"], tmp_path, out)
    assert done.returncode == 2 and b"that is the file standard output goes to" in done.stderr
    with open(tmp_path / "report.txt", "wb") as out:  # another file is written as before
        done = _jac(["eval", "x * 2", "x=1", "--out", "j.npy"], tmp_path, out)
    assert done.returncode == 0 and (tmp_path / "j.npy").stat().st_size > 0


def test_a_streamed_out_past_the_file_size_limit_is_exit_2_and_keeps_the_old_file(tmp_path):
    """The stream sizes its file at once; past ``ulimit -f`` that ftruncate raised EFBIG unwrapped: exit 70."""
    import os
    import shutil
    import subprocess
    import sys

    if shutil.which("prlimit") is None:
        pytest.skip("needs util-linux's prlimit")
    (tmp_path / "J.npy").write_bytes(b"old")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run(["prlimit", "--fsize=65536", sys.executable, "-m", "jacobi_cli", "eval", "x * x.sum()",
                           "x:3000", "--out", "J.npy", "--max-memory", "20M"], cwd=tmp_path, capture_output=True,
                          env=dict(os.environ, PYTHONPATH=root), timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stderr.decode() == ("jac: error (io): cannot write 'J.npy': the file would pass the file size limit "
                                    "(ulimit -f)\n")
    assert (tmp_path / "J.npy").read_bytes() == b"old" and sorted(os.listdir(tmp_path)) == ["J.npy"]
