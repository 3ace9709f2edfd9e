"""jac run as a CI pipeline uses it (ci15): stopping a run (Ctrl-C, SIGTERM, a closed pipe, a killed
parent) leaves no worker behind and does not wait for the cases still running; clearer refusals of
suites a CI engineer gets wrong; JUnit reports a CI tool can count."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import app
from jacobi_cli.tools import suite as suites

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()

# A jac run whose cases each take a minute (run_case replaced in the forked workers), every case on
# the pool from the start; each case writes its worker's pid to MARKS/NAME when it starts.
SLOW_RUN = textwrap.dedent("""
    import os, sys, time
    from jacobi_cli.tools import suite
    MARKS = sys.argv.pop(1)

    def slow_case(case):
        with open(os.path.join(MARKS, case.name), "w") as fp:
            fp.write(str(os.getpid()))
        time.sleep(60)

    suite.run_case = slow_case
    suite.pool_pays = lambda *args: True
    from jacobi_cli.cli.entry import main
    sys.argv = ["jac"] + sys.argv[1:]
    sys.exit(main())
""")

CASES = "".join(f'[[case]]\nname = "c{i}"\nexpr = "x*2"\nbindings = {{ x = [1.0] }}\nvalue = [2]\n' for i in range(6))


def _slow_run(tmp_path, *args):
    marks = tmp_path / "marks"
    marks.mkdir()
    suite = tmp_path / "suite.toml"
    suite.write_text(CASES)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", SLOW_RUN, str(marks), "run", str(suite), "--jobs", "2", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while len(list(marks.iterdir())) < 2:  # both workers are inside a case
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    time.sleep(0.1)  # the file is written before its pid: let it be complete
    workers = {int(p.read_text()) for p in marks.iterdir()}
    assert proc.pid not in workers and len(workers) == 2
    return proc, workers


def _alive(pid: int) -> bool:
    """A process that runs (a zombie, dead but not yet reaped by whoever adopted it, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as fp:
            return fp.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _gone(workers, seconds=10.0) -> bool:
    deadline = time.monotonic() + seconds
    while any(_alive(pid) for pid in workers):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _kill(workers):
    for pid in workers:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


pytestmark_linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; fork workers")


@pytestmark_linux
def test_sigterm_kills_the_workers_and_ends_as_sigterm(tmp_path):
    """SIGTERM (a CI job cancelled or timed out, `timeout`, `docker stop`) ended the parent at once and
    left its workers running, adopted by init, for good; they now go with it, and the parent still ends
    by SIGTERM (what its caller saw before)."""
    proc, workers = _slow_run(tmp_path)
    try:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
        assert proc.returncode == -signal.SIGTERM
        assert _gone(workers), "the workers outlived jac run"
    finally:
        _kill(workers)
        proc.kill()


@pytestmark_linux
def test_sigint_to_jac_alone_stops_the_run_at_once(tmp_path):
    """A SIGINT sent to jac alone (a CI runner cancelling a step; a terminal's Ctrl-C reaches the workers
    too) was exit 130 only once every running case had finished: the pool's shutdown waited for them."""
    proc, workers = _slow_run(tmp_path)
    try:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)  # the cases take a minute: before, this timed out
        assert proc.returncode == 130 and b"Traceback" not in err
        assert _gone(workers)
    finally:
        _kill(workers)
        proc.kill()


@pytestmark_linux
def test_ctrl_c_at_the_terminal_is_quiet_in_the_workers(tmp_path):
    """Ctrl-C reaches the whole process group: the workers ignore it (the parent stops them), so no
    worker prints a KeyboardInterrupt traceback."""
    proc, workers = _slow_run(tmp_path)
    try:
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 130 and err == b"", err
        assert _gone(workers)
    finally:
        _kill(workers)
        proc.kill()


@pytestmark_linux
def test_workers_die_with_a_parent_killed_outright(tmp_path):
    """SIGKILL (the OOM killer, a CI runner's last resort) leaves the parent no clean-up: the workers,
    which held their own copy of the queue's pipe and so never saw it go, now get SIGKILL from Linux."""
    proc, workers = _slow_run(tmp_path)
    try:
        proc.kill()
        proc.communicate(timeout=20)
        assert _gone(workers), "the workers outlived a killed jac run"
    finally:
        _kill(workers)


def _sleepy_case(case):
    """run_case in the workers below (module level: the pool pickles it by name)."""
    Path(os.environ["CI15_MARKS"], case.name).write_text("")
    time.sleep(0.3)
    return suites.CaseResult(case.name, case.expr, "passed", 0.3)


def test_an_exception_in_on_result_stops_the_queued_cases(tmp_path, monkeypatch):
    """A closed output pipe (`jac run suite.toml | head -1`) raises in on_result: leaving the pool's
    `with` then waited for every case still queued, running them all (60 cases of 0.6 s: 30 s after
    head had gone). Now the cases not yet started never start."""
    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.setenv("CI15_MARKS", str(marks))
    monkeypatch.setattr(suites, "run_case", _sleepy_case)  # the forked workers inherit it
    cases = suites.parse_suite(CASES + CASES.replace('"c', '"d')).cases

    def closed(result):
        raise BrokenPipeError(32, "Broken pipe")

    with pytest.raises(BrokenPipeError):
        suites._run_in_pool(cases, 2, closed)
    assert len(list(marks.iterdir())) < len(cases), "every queued case ran after the output had closed"


def test_a_pool_that_finishes_leaves_no_worker(tmp_path):
    import multiprocessing

    suite = suites.parse_suite(CASES)
    results = suites._run_in_pool(suite.cases, 2, None)
    assert [r.status for r in results] == ["passed"] * 6
    assert multiprocessing.active_children() == []


# --- suites a CI engineer gets wrong --------------------------------------------------------------

def _refusal(tmp_path, text):
    path = tmp_path / "suite.toml"
    path.write_text(textwrap.dedent(text))
    result = runner.invoke(app, ["run", str(path), "--json"])
    assert result.exit_code == 2
    return json.loads(result.stdout)["error"], result.stderr


def test_a_single_bracket_case_table_is_named_not_read_as_no_cases(tmp_path):
    """`[case]` for `[[case]]` said "the suite has no cases", with the case right there."""
    error, stderr = _refusal(tmp_path, '[case]\nname = "a"\nexpr = "x"\nbindings = { x = 1 }\nvalue = 1\n')
    assert error["key"] == "case" and "[[case]]" in error["message"] and "no cases" not in error["message"]
    error, _ = _refusal(tmp_path, "case = 3\n")
    assert "must be an array of tables ([[case]]), not an integer (3)" in error["message"]
    error, _ = _refusal(tmp_path, "case = []\n")
    assert "the suite has no cases" in error["message"]


@pytest.mark.parametrize("name", ["", " ", "\t"])
def test_an_empty_case_name_is_refused(tmp_path, name):
    """An empty name passed: a JUnit testcase without a name, a row without one, matched by any -k."""
    error, _ = _refusal(tmp_path, f'[[case]]\nname = "{name}"\nexpr = "x"\nbindings = {{ x = 1 }}\nvalue = 1\n')
    assert error["case"] == "#1" and error["key"] == "name" and "must not be empty" in error["message"]


@pytest.mark.parametrize("typo", ["tolerence", "tolerance", "Tolerances"])
def test_a_tolerance_key_points_to_rtol_and_atol(tmp_path, typo):
    """`tolerence = 1e-3` listed the 21 known keys; it now says what a tolerance is written as."""
    error, _ = _refusal(tmp_path, f'[[case]]\nname = "a"\nexpr = "x"\nbindings = {{ x = 1 }}\nvalue = 1\n'
                                  f'{typo} = 1e-3\n')
    assert error["key"] == typo and "tolerances are rtol and atol" in error["message"]
    error, _ = _refusal(tmp_path, f'[defaults]\n{typo} = 1e-3\n[[case]]\nname = "a"\nexpr = "x"\n'
                                  f'bindings = {{ x = 1 }}\nvalue = 1\n')
    assert "tolerances are rtol and atol" in error["message"]


def test_a_near_miss_still_gets_the_key_it_resembles(tmp_path):
    error, _ = _refusal(tmp_path, '[[case]]\nname = "a"\nexpr = "x"\nbindings = { x = 1 }\nvalue = 1\nrtoll = 1\n')
    assert "did you mean 'rtol'?" in error["message"]


# --- --timeout: a case that hangs ------------------------------------------------------------------

def _hanging(case):
    time.sleep(30)
    return []


def test_timeout_stops_a_hanging_case_as_a_limit_error_and_the_others_run(tmp_path, monkeypatch):
    """jac run had no time limit: a case that hangs (a check of a big Jacobian by differences) held the
    CI job until the runner's own timeout killed it, with no report. --timeout SECONDS stops it."""
    real = suites._outcomes
    monkeypatch.setattr(suites, "_outcomes", lambda case: _hanging(case) if case.name == "c2" else real(case))
    path = tmp_path / "suite.toml"
    path.write_text(CASES)
    junit = tmp_path / "junit.xml"
    result = runner.invoke(app, ["run", str(path), "--timeout", "0.2", "-j", "1", "--json", "--junit", str(junit)])
    report = json.loads(result.stdout)
    assert result.exit_code == 2 == report["exit_code"]
    statuses = {c["name"]: c["status"] for c in report["cases"]}
    assert statuses == {"c0": "passed", "c1": "passed", "c2": "error", "c3": "passed", "c4": "passed",
                        "c5": "passed"}
    error = report["cases"][2]["error"]
    assert error["kind"] == "limit" and "took more than 0.2 s and was stopped (--timeout 0.2)" in error["message"]
    root = ET.parse(junit).getroot()
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("errors"), suite.get("failures")) == ("6", "1", "0")
    assert [c.find("error").get("type") for c in suite if c.find("error") is not None] == ["limit"]


def test_timeout_zero_or_absent_is_no_limit_and_a_bad_value_is_a_usage_error(tmp_path):
    path = tmp_path / "suite.toml"
    path.write_text(CASES)
    for extra in ([], ["--timeout", "0"], ["--timeout", "inf"]):
        assert runner.invoke(app, ["run", str(path), "-j", "1", *extra]).exit_code == 0
    result = runner.invoke(app, ["run", str(path), "--timeout", "soon", "--json"])
    assert result.exit_code == 2 and json.loads(result.stdout)["error"]["kind"] == "usage"


def test_a_time_limit_outside_the_main_thread_is_refused_not_ignored():
    import dataclasses
    import threading

    case = dataclasses.replace(suites.parse_suite(CASES).cases[0], timeout=5.0)
    got = []
    thread = threading.Thread(target=lambda: got.append(suites.run_case(case)))
    thread.start()
    thread.join()
    assert got[0].status == "error" and got[0].error["kind"] == "usage" and "main thread" in got[0].error["message"]
    assert suites.run_case(case).status == "passed"  # in the main thread, the same case runs, and the alarm is off
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


# --- reports a CI log and a CI tool read ---------------------------------------------------------

def test_a_case_name_with_a_new_line_stays_on_one_line_of_the_log(tmp_path):
    """A name written as a TOML multi-line string split jac run's one line per case in two, and the
    summary table's row; a JUnit report keeps the name as it is (XML escapes it)."""
    path = tmp_path / "suite.toml"
    path.write_text('[[case]]\nname = """two\nlines\tand a tab"""\nexpr = "x*2"\nbindings = { x = [1.0] }\n'
                    'value = [3]\n')
    junit = tmp_path / "j.xml"
    result = runner.invoke(app, ["run", str(path), "--junit", str(junit)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("[1/1] FAIL  two\\nlines\\tand a tab (")
    assert "FAIL two\\nlines\\tand a tab: x*2" in lines
    assert not any(line.strip() in ("lines", "lines\tand a tab") or line.startswith("lines") for line in lines)
    case = ET.parse(junit).getroot().find("testsuite/testcase")
    assert case.get("name") == "two\nlines\tand a tab" and case.find("failure") is not None


def test_a_shape_mismatch_of_the_same_values_says_so(tmp_path):
    """`value = 2` for an output of shape (1,) said only "shape (1,), expected ()"."""
    path = tmp_path / "suite.toml"
    path.write_text('[[case]]\nname = "a"\nexpr = "x*2"\nbindings = { x = [1.0] }\nvalue = 2\n'
                    '[[case]]\nname = "b"\nexpr = "x*2"\nbindings = { x = [1.0] }\nvalue = 3\n'
                    '[[case]]\nname = "c"\nexpr = "x*2"\nbindings = { x = [1.0, 2.0] }\nvalue = [[2, 4, 6]]\n')
    result = runner.invoke(app, ["run", str(path), "--json"])
    messages = [c["expectations"][0]["message"] for c in json.loads(result.stdout)["cases"]]
    assert messages[0].startswith("shape (1,), expected (): the same 1 element in another shape (their values "
                                  "match); shapes are compared as they are, without broadcasting: write the "
                                  "expectation with shape (1,)")
    assert "in another shape; shapes are compared" in messages[1] and "values match" not in messages[1]
    assert messages[2] == "shape (2,), expected (1, 3)"


def test_junit_counts_add_up_and_an_error_is_not_a_failure(tmp_path):
    """One passing, one failing (a wrong derivative), one erring (bad input in one case), one expected
    error met: JUnit's counts, elements and escaping as CI tools read them."""
    path = tmp_path / "suite.toml"
    path.write_text(textwrap.dedent('''
        name = "ci <suite> & \\"co\\" ]]>"
        [[case]]
        name = "ok"
        expr = "x**2"
        bindings = { x = [2.0] }
        jacobian.x = [[4]]
        [[case]]
        name = "wrong ]]> <d/dx> \\u0001"
        expr = "sin(x)"
        bindings = { x = [0.0] }
        jacobian.x = { expected = [[0.5]], rtol = 0, atol = 1e-3 }
        [[case]]
        name = "bad v"
        expr = "x*2"
        bindings = { x = [1.0, 2.0] }
        [[case.vjp]]
        v = [1, 2, 3]
        [[case]]
        name = "expected error"
        expr = "x @ y"
        bindings = { x = [1.0, 2.0], y = [1.0, 2.0, 3.0] }
        error = "shape"
    '''))
    junit = tmp_path / "j.xml"
    result = runner.invoke(app, ["run", str(path), "--junit", str(junit)])
    assert result.exit_code == 2  # a case that could not run wins over a failure
    text = junit.read_text("utf-8")
    assert "\x01" not in text
    root = ET.fromstring(text.encode("utf-8"))
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    kinds = [[child.tag for child in case if child.tag != "system-out"] for case in cases]
    assert kinds == [[], ["failure"], ["error"], []]
    assert suite.get("name") == 'ci <suite> & "co" ]]>' == cases[0].get("classname")
    assert cases[1].get("name") == "wrong ]]> <d/dx> \\x01"
    failure = cases[1].find("failure")
    assert "expected 0.5, got 1" in failure.get("message") and "atol=0.001" in failure.get("message")
    assert cases[2].find("error").get("type") == "shape"
    for node in (root, suite):
        counts = {key: int(node.get(key)) for key in ("tests", "failures", "errors")}
        assert counts == {"tests": 4, "failures": 1, "errors": 1}
    assert int(suite.get("skipped")) == 0 and float(suite.get("time")) >= 0


@pytestmark_linux
def test_sigterm_stops_the_forked_symbolic_child_too(tmp_path):
    """bounded.call's forked child (SymPy's work, jac diff) outlived a SIGTERM of jac as well."""
    script = textwrap.dedent("""
        import os, sys, time
        from jacobi_cli.tools import bounded
        from jacobi_cli.cli import entry
        MARK = sys.argv.pop(1)

        def work():
            open(MARK, "w").write(str(os.getpid()))
            time.sleep(60)

        entry._dispatch = lambda args: bounded.call(work, 100.0, "the work")
        sys.exit(entry.main())
    """)
    mark = tmp_path / "child"
    proc = subprocess.Popen([sys.executable, "-c", script, str(mark)], env=dict(os.environ, PYTHONPATH=str(ROOT)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    deadline = time.monotonic() + 60
    while not (mark.exists() and mark.read_text()):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    child = {int(mark.read_text())}
    try:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == -signal.SIGTERM and err == b""
        assert _gone(child), "the forked child outlived jac"
    finally:
        _kill(child)
        proc.kill()


def test_a_signal_in_the_import_lock_callback_is_raised_past_it_for_real():
    """The handler sent SIGINT again with signal.raise_signal, which runs the handler at once, inside
    itself: the second call saw its own frame, not the callback's, and raised KeyboardInterrupt inside
    the callback after all ("Exception ignored ... Traceback", seen once in a run of test_signals). The
    test there replaces the re-send; this one sends a real SIGINT inside a callback of that name."""
    from jacobi_cli.cli import entry

    namespace = {"signal": signal, "done": []}
    exec(compile("def cb(ref=None):\n    signal.raise_signal(signal.SIGINT)\n    x = 0\n    for i in range(100):\n"
                 "        x += i\n    done.append(x)\n", "<frozen importlib._bootstrap>", "exec"), namespace)
    arrived = []
    previous = entry._interruptible(arrived)
    try:
        with pytest.raises(KeyboardInterrupt):
            namespace["cb"]()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:  # the next checks, past the callback
                pass
        assert namespace["done"] == [4950], "KeyboardInterrupt was raised inside the callback"
        assert arrived and set(arrived) == {signal.SIGINT}
    finally:
        entry._restore_sigint(previous)


def test_sigterm_is_python_s_default_again_once_the_command_is_over(monkeypatch):
    """The handler raising Terminated is the command's: left installed past main(), a SIGTERM during the
    interpreter's exit would have raised where nothing catches it (a traceback)."""
    from jacobi_cli.cli import entry

    previous, interrupt = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    seen = []
    monkeypatch.setattr(entry, "_main", lambda *args, **kw: seen.append(signal.getsignal(signal.SIGTERM)) or 0)
    monkeypatch.setattr(sys, "argv", ["jac", "--version"])
    try:
        assert entry.main() == 0
        assert callable(seen[0]) and seen[0] not in (signal.SIG_DFL, signal.SIG_IGN)  # raised Terminated meanwhile
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, interrupt)
