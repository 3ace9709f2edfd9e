"""Session 41: hostile input, another round (benchmarks/hostile41_fuzz.py runs the sweep through real processes).

- ``jac eval -`` with a terminal on standard input waited for typing forever (a CI job run under ``docker -t``
  hangs): it is refused, saying how to pipe the text in;
- an output option given a name of white space (``--junit "$REPORT"`` of a blank variable) wrote a file named
  ``' '``: refused as the empty name is;
- a name typed with a letter of another script that looks like an ASCII one (Cyrillic ``а`` for ``a``) was
  "unknown" with the advice to bind it as ``а=VALUE``, which the binding then refused: the message names the
  character, the ASCII name it looks like, and suggests that input.
"""

import io
import json
import os
import pty
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli import commands
from jacobi_cli.cli.app import app
from jacobi_cli.errors import JacIOError, ascii_lookalike, not_ascii

runner = CliRunner()
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _error(args, *words, kind=None):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("jac: error")]
    assert len(lines) == 1 and result.stderr.startswith("jac: error"), result.stderr
    assert "Traceback" not in result.output
    if kind:
        assert lines[0].startswith(f"jac: error ({kind})"), lines[0]
    for w in words:
        assert w in result.stderr, result.stderr
    return result


# --- standard input that is a terminal -------------------------------------------------------------------------------


class _Terminal(io.TextIOWrapper):
    def isatty(self):
        return True


def test_dash_with_a_terminal_on_stdin_is_refused_before_reading(monkeypatch):
    stream = _Terminal(io.BytesIO(b"sum(x)\n"))
    monkeypatch.setattr(sys, "stdin", stream)
    with pytest.raises(JacIOError, match="standard input, which is a terminal here") as err:
        commands._read_expression("-")
    assert "pipe the text in" in err.value.message
    assert stream.buffer.tell() == 0  # nothing read: typing would have been waited for


def test_dash_reads_a_pipe_as_before(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"sum(x**2)\r\n")))
    assert commands._read_expression("-") == "sum(x**2)\r\n"


def test_a_stream_whose_isatty_fails_is_no_terminal():
    class Closed:
        def isatty(self):
            raise ValueError("I/O operation on closed file")

    assert commands._is_terminal(Closed()) is False
    assert commands._is_terminal(object()) is False


@pytest.mark.parametrize("argv", [["eval", "-", "x=[1,2]"], ["shape", "-", "x:3", "--json"]])
def test_the_real_command_with_a_pseudo_terminal_on_stdin_ends_at_once(argv):
    master, slave = pty.openpty()
    try:
        env = dict(os.environ, PYTHONPATH=ROOT)
        done = subprocess.run([sys.executable, "-m", "jacobi_cli", *argv], stdin=slave, capture_output=True,
                              env=env, timeout=120, start_new_session=True)
    finally:
        os.close(master)
        os.close(slave)
    assert done.returncode == 2
    assert done.stderr.decode().startswith("jac: error (io): '-' reads the expression from standard input")
    assert b"Traceback" not in done.stderr
    if "--json" in argv:
        assert b'"kind": "io"' in done.stdout


# --- output names of white space -------------------------------------------------------------------------------------


SUITE = '[[case]]\nname = "a"\nexpr = "sum(x**2)"\nbindings = { x = [1, 2] }\nvalue = 5\n'


@pytest.mark.parametrize("name", [" ", "\t", "  \n"])
def test_a_junit_name_of_white_space_is_refused_and_nothing_written(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text(SUITE)
    _error(["run", "s.toml", "--junit", name], "--junit", "only white space", kind="usage")
    assert sorted(os.listdir(tmp_path)) == ["s.toml"]


@pytest.mark.parametrize("option", ["--out", "--plot"])
def test_an_out_name_of_white_space_is_refused(tmp_path, monkeypatch, option):
    monkeypatch.chdir(tmp_path)
    _error(["eval", "x * 2", "x=[1,2]", option, " "], option, "only white space", kind="usage")
    assert os.listdir(tmp_path) == []


def test_a_name_beginning_with_a_space_is_still_a_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["eval", "x * 2", "x=[1,2]", "--out", " o.npy"])
    assert result.exit_code == 0, result.output
    assert os.listdir(tmp_path) == [" o.npy"]


# --- lookalike letters -----------------------------------------------------------------------------------------------


def test_lookalikes_are_named_with_their_ascii_reading():
    assert ascii_lookalike("\u0430") == "a"  # Cyrillic a
    assert ascii_lookalike("\u0445\u0443") == "xy"
    assert ascii_lookalike("\u03bf") == "o"  # Greek omicron
    assert ascii_lookalike("\u03b1") is None  # alpha is drawn as no ASCII letter
    assert ascii_lookalike("x") is None
    assert not_ascii("x") == ""
    assert not_ascii("\u0430") == "U+0430 CYRILLIC SMALL LETTER A, which looks like 'a'"
    assert not_ascii("\u03b1b") == "U+03B1 GREEK SMALL LETTER ALPHA"


def test_a_cyrillic_a_in_the_text_suggests_the_input_a():
    result = _error(["eval", "sin(\u0430).sum()", "a=[1,2]"], "U+0430 CYRILLIC SMALL LETTER A", "looks like 'a'",
                    "did you mean 'a'?", kind="name")
    assert "\u0430=VALUE" not in result.stderr  # a binding that the binding itself would refuse


def test_a_greek_name_that_looks_like_nothing_bound_is_named_without_a_suggestion():
    result = _error(["eval", "\u03b1 * x", "x=1"], "U+03B1 GREEK SMALL LETTER ALPHA",
                    "a binding of the command line names an input in ASCII")
    assert "did you mean" not in result.stderr


def test_the_api_binds_a_greek_name_and_names_an_unknown_one():
    from jacobi_cli import evaluate

    assert float(evaluate("\u03b1 * 2", {"\u03b1": 1.5})) == 3.0
    with pytest.raises(Exception, match="U\\+03B2 GREEK SMALL LETTER BETA"):
        evaluate("\u03b2 * 2", {"\u03b1": 1.5})


def test_a_lookalike_in_a_value_is_named():
    _error(["eval", "x", "x=\u0430"], "in the value of 'x'", "U+0430 CYRILLIC SMALL LETTER A")


def test_a_lookalike_binding_name_says_which_letter_it_is():
    _error(["eval", "sin(x).sum()", "\u0445=[1,2]"], "is not a valid input name", "U+0445 CYRILLIC SMALL LETTER HA",
           "looks like 'x'", kind="name")


def test_an_unknown_ascii_name_keeps_its_message():
    result = _error(["eval", "sin(y)", "x=1"], "unknown name 'y'", "give it a value with y=VALUE")
    assert "U+" not in result.stderr


# --- integers a text file holds that --dtype holds only rounded ------------------------------------------------------

from jacobi_cli.errors import JacSuiteError, JacValueError  # noqa: E402
from jacobi_cli.lang import fileio  # noqa: E402
from jacobi_cli.tools import suite  # noqa: E402

BEYOND = 2**53 + 1  # float64 holds 2**53 and 2**53 + 2, not this


@pytest.mark.parametrize("name, text", [("a.json", f"[1, {BEYOND}]"), ("a.csv", f"1,{BEYOND}\n"),
                                        ("a.txt", f"1 {BEYOND}\n"), ("a.json", f'{{"x": [[1], [-{BEYOND}]]}}'),
                                        ("a.csv", f"a,b\n1,2\r\n3,+{BEYOND}\r\n")])
def test_an_integer_past_the_exact_ones_in_a_text_file_is_refused(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(JacValueError, match=f"the integer [-+]?{BEYOND}, which float64 cannot hold exactly"):
        fileio.load_array(str(path))


def test_float32_refuses_past_2_to_the_24_and_names_the_line(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("1,2\n3,16777217\n")
    with pytest.raises(JacValueError, match=r"line 2: the integer 16777217, which float32"):
        fileio.load_array(str(path), np.float32)
    assert fileio.load_array(str(path))[1, 1] == 16777217  # float64 holds it


@pytest.mark.parametrize("text", [f"[{BEYOND}.0, 1]", f"[{BEYOND - 1}, {BEYOND + 1}]", "[1e300, 2]",
                                  f"[9.007199254740993e15, 1]", '[1, "NaN", 5e-324]'])
def test_floats_and_exact_integers_are_read_as_before(tmp_path, text):
    path = tmp_path / "a.json"
    path.write_text(text)
    assert np.array_equal(fileio.load_array(str(path)), np.array(json.loads(text.replace('"NaN"', "NaN")),
                                                                  dtype=float), equal_nan=True)


def test_a_comment_holding_such_an_integer_is_not_the_culprit(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(f"# id {BEYOND}\n1 2\n")
    assert fileio.load_array(str(path)).tolist() == [1.0, 2.0]


def test_an_integer_cut_by_the_chunk_boundary_is_found(tmp_path):
    head = "1," * ((fileio.CHUNK_BYTES - 8) // 2)
    text = "[" + head + str(BEYOND) + ", 1]"
    assert text.index(str(BEYOND)) < fileio.CHUNK_BYTES < text.index(str(BEYOND)) + len(str(BEYOND))
    path = tmp_path / "a.json"
    path.write_text(text)
    with pytest.raises(JacValueError, match=f"line 1: the integer {BEYOND}"):
        fileio.load_array(str(path))


def test_the_command_line_refuses_it_as_the_literal_is(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.json").write_text(f"[{BEYOND}, 1]")
    _error(["eval", "x * 2", "x=@a.json"], "x: 'a.json', line 1: the integer", kind="value")
    _error(["eval", "x * 2", f"x=[{BEYOND}, 1]"], "the literal is the integer", kind="value")
    _error(["vjp", "x * 2", "x=[1, 2]", "--v", "@a.json"], "the integer", kind="value")


def _suite(tmp_path, values, dtype="float64"):
    path = tmp_path / "s.toml"
    path.write_text(f'[[case]]\nname = "a"\nexpr = "x"\ndtype = "{dtype}"\nbindings = {{ x = {values} }}\n'
                    f'value = {values}\n')
    return str(path)


def test_a_suite_binding_of_such_an_integer_is_refused(tmp_path):
    with pytest.raises(JacSuiteError, match=f"key 'bindings.x': the integer {BEYOND}, which float64"):
        suite.load_suite(_suite(tmp_path, f"[[1, {BEYOND}]]"))
    with pytest.raises(JacSuiteError, match="the integer 16777217, which float32"):
        suite.load_suite(_suite(tmp_path, "[16777217, 2]", "float32"))


def test_a_suite_binding_of_exact_integers_and_floats_is_read(tmp_path):
    cases = suite.load_suite(_suite(tmp_path, f"[16777217, {BEYOND}.0, 1e300]")).cases
    assert cases[0].bindings.values["x"].tolist() == [16777217.0, float(BEYOND), 1e300]


def test_an_integer_past_float32s_range_is_inf_as_before_not_a_crash(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("1" + "0" * 300 + ",16777216\n")
    out = fileio.load_array(str(path), np.float32)  # 16777216 sends it to the check, which meets 10**300 too
    assert np.isinf(out[0, 0]) and out[0, 1] == 16777216
