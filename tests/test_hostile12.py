"""Defects found by the hostile sweep of branch hhostile12 (benchmarks/hostile12_sweep.py), one
test each: an output option that would overwrite a file the command reads, a C locale without
UTF-8 mode, standard input closed, a byte-order mark in an expression file, quoted CSV cells
holding a comma, JSON objects with a key twice, --strict runs that still wrote --out/--plot,
a full disk's message, a streamed Jacobian's value warnings. Every case runs in this process
through ``entry.main`` (the fast path and typer both), as the command line runs it.
"""

from __future__ import annotations

import io
import json
import os
import sys

import numpy as np
import pytest

from jacobi_cli.cli import entry
from jacobi_cli.errors import JacValueError
from jacobi_cli.lang import fileio


def run(capsys, args) -> tuple:
    """``(exit code, stdout, stderr)`` of ``jac ARGS`` in this process."""
    code = entry.main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and "internal error" not in err, err
    return code, out, err


def refused(capsys, args, kind: str, *words) -> dict:
    """The JSON error of ``jac ARGS --json``: exit 2, one message on stderr, holding ``words``."""
    code, out, err = run(capsys, [*args, "--json"])
    assert code == 2, (code, err)
    assert err.count("jac: error") == 1, err
    error = json.loads(out)["error"]
    assert error["kind"] == kind, error
    for word in words:
        assert word in error["message"], (word, error["message"])
    return error


# --- an output option never replaces a file the command reads ------------------------------------

SUITE = '[[case]]\nname = "a"\nexpr = "x*2"\nbindings = {x = "@data.json"}\nvalue = [2, 4]\n'


@pytest.fixture
def inputs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.save("x.npy", np.arange(3.0))
    (tmp_path / "e.json").write_text("x*2")
    (tmp_path / "data.json").write_text("[1, 2]")
    (tmp_path / "s.toml").write_text(SUITE)
    os.symlink("x.npy", "link.npy")
    os.link("x.npy", "hard.npy")
    return tmp_path


@pytest.mark.parametrize("args, target, what", [
    (["eval", "x*2", "x=@x.npy", "--out", "x.npy"], "x.npy", "input 'x'"),
    (["eval", "x*2", "x= @x.npy", "--out", "./sub/../x.npy"], "x.npy", "input 'x'"),
    (["eval", "x*2", "x=@x.npy", "--out", "link.npy"], "x.npy", "input 'x'"),
    (["eval", "x*2", "x=@x.npy", "--out", "hard.npy"], "x.npy", "input 'x'"),
    (["eval", "x*2", "x=@link.npy", "--out", "x.npy"], "x.npy", "input 'x'"),
    (["eval", "@e.json", "x=1", "--out", "e.json"], "e.json", "the expression"),
    (["eval", "x*2", "x=@x.npy", "--plot", "x.npy"], "x.npy", "input 'x'"),
    (["graph", "@e.json", "x=1", "--out", "e.json"], "e.json", "the expression"),
    (["graph", "x*2", "x=[1,2]", "--backward", "--v", "@data.json", "--out", "data.json"], "data.json", "--v"),
    (["plot", "@e.json", "x=1", "--out", "e.json"], "e.json", "the expression"),
    (["run", "s.toml", "--junit", "s.toml"], "s.toml", "the suite"),
    (["run", "s.toml", "--junit", "data.json"], "data.json", "case 'a' of the suite"),
])
def test_an_output_option_naming_a_file_the_command_reads_is_refused_and_the_file_kept(
        inputs, capsys, args, target, what):
    before = (inputs / target).read_bytes()
    refused(capsys, args, "usage", "that is the file", what)
    assert (inputs / target).read_bytes() == before


def test_outputs_beside_the_inputs_are_still_written(inputs, capsys):
    assert run(capsys, ["eval", "x*2", "x=@x.npy", "--out", "J.npy"])[0] == 0
    assert np.load(inputs / "J.npy").shape == (3, 3)
    assert run(capsys, ["run", "s.toml", "--junit", "report.xml"])[0] == 0
    assert (inputs / "report.xml").read_text().startswith("<?xml")


# --- standard streams ----------------------------------------------------------------------------

def test_a_c_locale_without_utf8_mode_prints_escapes_not_an_internal_error():
    """``LC_ALL=C PYTHONUTF8=0``: Python opens stdout as ASCII with surrogateescape, not strict."""
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding="ascii", errors="surrogateescape")
    entry._escape_unencodable(stream)
    stream.write("∂y/∂x\n")
    stream.flush()
    assert raw.getvalue() == b"\\u2202y/\\u2202x\n"


def test_an_expression_from_a_closed_standard_input_is_an_io_error(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", None)  # what Python sets when descriptor 0 is closed
    refused(capsys, ["eval", "-", "x=1"], "io", "standard input", "closed")


def test_a_byte_order_mark_before_an_expression_is_dropped(tmp_path, capsys, monkeypatch):
    (tmp_path / "e.txt").write_bytes(b"\xef\xbb\xbfx * 2\r\n")
    code, out, _ = run(capsys, ["eval", f"@{tmp_path / 'e.txt'}", "x=3", "--json"])
    assert code == 0 and json.loads(out)["output"]["value"] == 6.0
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\xef\xbb\xbfx * 2")))
    code, out, _ = run(capsys, ["eval", "-", "x=3", "--json"])
    assert code == 0 and json.loads(out)["output"]["value"] == 6.0


# --- files read ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, words", [
    ('"1,5","2,5"\n', ["column 1", "'1,5' is not a number", "decimal point"]),   # was [1, 5, 2, 5]
    ('"1,5","2,5"\n"3,5","4,5"\n', ["line 1", "'1,5' is not a number"]),  # was 2 x 4
    ('"1,2\n3,4\n', ["line 1", "quotes are malformed"]),                       # was [[1, 2], [3, 4]]
    ('a,b\n"1"2,3\n', ["line 2", "quotes are malformed"]),
    ('1,2\n3,"4\n', ["line 2", "quotes are malformed"]),
])
def test_a_quoted_csv_cell_holding_a_comma_is_one_cell_not_two_numbers(tmp_path, text, words):
    path = tmp_path / "a.csv"
    path.write_text(text)
    with pytest.raises(JacValueError) as error:
        fileio.load_array(str(path))
    for word in words:
        assert word in error.value.message


def test_quoted_csv_cells_and_a_quoted_header_still_read(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('"mass, kg", "b"\n"0.5", 2\n 3 ,"4"\n')
    np.testing.assert_array_equal(fileio.load_array(str(path)), [[0.5, 2], [3, 4]])


def test_a_long_csv_line_with_a_quoted_comma_is_refused(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text(",".join(["1"] * 40_000) + ',"1,5",' + ",".join(["2"] * 40_000) + "\n")
    with pytest.raises(JacValueError, match="quote|not a number"):
        fileio.load_array(str(path))


@pytest.mark.parametrize("text, key", [('{"a": [1], "a": [2]}', '"a"'), ('{"value": 1, "value": 2}', '"value"'),
                                       ('{"a": {"b": 1, "b": 2}}', '"b"')])
def test_a_json_object_with_a_key_twice_is_refused(tmp_path, text, key):
    path = tmp_path / "a.json"
    path.write_text(text)
    with pytest.raises(JacValueError, match=f"the key {key} appears twice"):
        fileio.load_array(str(path))


# --- --strict writes nothing; a full disk says so ------------------------------------------------

@pytest.mark.parametrize("option, name", [("--out", "J.npy"), ("--plot", "J.svg")])
def test_strict_refuses_before_writing_out_or_plot(tmp_path, capsys, option, name):
    if option == "--plot":
        pytest.importorskip("matplotlib")
    target = tmp_path / name
    target.write_bytes(b"the previous file")
    refused(capsys, ["eval", "log(x)", "x=[-1, 2]", "--strict", option, str(target)], "value", "--strict")
    assert target.read_bytes() == b"the previous file"
    fresh = tmp_path / ("new" + name)
    refused(capsys, ["eval", "log(x)", "x=[-1, 2]", "--strict", option, str(fresh)], "value")
    assert not fresh.exists()


def test_a_short_write_of_numpy_says_the_disk_is_full():
    """NumPy's tofile raises OSError("N requested and M written") without an errno."""
    error = fileio._os_error("cannot write", "J.npy", OSError("10000 requested and 8176 written"))
    assert "disk is full" in error.message and "8,176 of 10,000 bytes" in error.message


def test_a_streamed_jacobian_still_warns_of_a_nan_value(tmp_path, capsys):
    out = tmp_path / "J.npy"
    code, _, err = run(capsys, ["eval", "log(x) * x.sum()", "x=arange(-1.0, 599)", "--max-memory", "1M",
                                "--out", str(out)])
    assert code == 0 and out.exists() and np.load(out, mmap_mode="r").shape == (600, 600)
    assert "warning (nonfinite)" in err and "log(-1) = NaN" in err


# --- messages that said the wrong thing ----------------------------------------------------------

def test_jac_check_past_its_budget_names_the_budget_given_not_a_negative_remainder(capsys):
    error = refused(capsys, ["check", "x", "x:10", "--max-memory", "100"], "limit", "budget of 100 bytes")
    assert "-1" not in error["message"]  # was "more than the memory budget of -140 bytes"
    error = refused(capsys, ["check", "x", "x:10", "--max-memory", "300"], "limit", "budget of 300 bytes")


def test_a_shape_binding_with_nothing_after_the_colon_is_refused_not_a_random_scalar(capsys):
    refused(capsys, ["eval", "x", "x:"], "value", "'x:' has no shape", "x:()")
    assert run(capsys, ["eval", "x", "x:()", "--json"])[0] == 0


@pytest.mark.parametrize("args, words", [
    (["jvp", "x*2", "x=[1, 2]", "--tangent", "x=[1, nan]"], ["jvp holds NaN", "--tangent x given holds NaN"]),
    (["jvp", "x*y", "x=1", "y=2", "--tangent", "x=1", "--tangent", "y=inf"], ["--tangent y given holds inf"]),
    (["vjp", "x*2", "x=[1, 2]", "--v", "[1, inf]"], ["x.grad holds inf", "--v given holds inf"]),
])
def test_a_nan_in_the_given_vector_is_named_not_called_an_overflow(capsys, args, words):
    code, out, err = run(capsys, [*args, "--json"])
    (warning,) = json.loads(out)["warnings"]
    assert code == 0 and "overflowed" not in warning["message"]
    for word in words:
        assert word in warning["message"]


def test_a_file_name_with_a_new_line_keeps_the_error_on_one_line(tmp_path, capsys):
    code, out, err = run(capsys, ["eval", "x", "x=1", "--out", str(tmp_path / "no\ndir" / "J.npy")])
    assert code == 2 and err.count("\n") == 1 and "no\\ndir" in err, err
    code, out, err = run(capsys, ["eval", "x", "x=@" + str(tmp_path / "no\nfile.npy")])
    assert code == 2 and err.count("\n") == 1, err


@pytest.mark.parametrize("expr", [" x * 2", "\tx * 2", "\n    a = x * 2\n    a\n"])
def test_an_expression_indented_as_a_whole_is_read_not_an_unexpected_indent(capsys, expr):
    code, out, err = run(capsys, ["eval", expr, "x=3", "--json"])
    assert code == 0 and json.loads(out)["output"]["value"] == 6.0, err


def test_an_expression_indented_unevenly_is_still_a_parse_error(capsys):
    refused(capsys, ["eval", "  a = x * 2\n    a", "x=3"], "parse", "unexpected indent")


@pytest.mark.parametrize("expr", [" x * 2", "\tx * 2", "\n    a = x * 2\n    a\n", "  a = x * 2\n\n  a, a * 2"])
def test_an_indented_expression_is_reported_as_given(capsys, expr):
    """The contract's "expression" is the text as given: it showed the dedented text (htrust13)."""
    for command in (["eval"], ["vjp"], ["hessian"], ["shape"]):
        code, out, err = run(capsys, [*command, expr, "x=3" if command != ["shape"] else "x:()", "--json"])
        assert code == 0 and json.loads(out)["expression"] == expr, (command, out, err)


@pytest.mark.parametrize("expr,kind,at", [
    ("   x * foo(2)", "name", 7),                          # was 4: a column of the dedented text
    ("   x * * 2", "parse", 7),
    ("\t\tx + foo(1)", "name", 6),
    ("  a = x * 2\n  b = foo(a)\n  b", "name", 18),
    ("\n    a = x\n\n    b = a * * 2\n    b", "parse", 24),
    ("  a = x * 2\n    a", "parse", 15),                   # unexpected indent: inside the second line's indent
    ("  é = x * 2\n  é + foo(x)", "name", 18),              # a non-ASCII line: characters, not bytes
])
def test_an_error_in_an_indented_expression_points_at_the_column_typed(capsys, expr, kind, at):
    error = refused(capsys, ["eval", expr, "x=3"], kind)
    assert error["position"] == at, (error, expr[at:])


def test_a_warning_in_an_indented_expression_points_at_the_column_typed(capsys):
    expr = "\n\t  a = x * 2\n  \n\t  a, log(-a)"
    code, out, err = run(capsys, ["eval", expr, "x=3", "--json"])
    (warning,) = json.loads(out)["warnings"]
    assert code == 0 and warning["position"] == expr.index("log"), warning
    code, out, err = run(capsys, ["eval", expr, "x=3"])
    line, caret = err.splitlines()[1:3]
    assert line.index("log") == caret.index("^"), err  # the tab is shown as a tab under a tab


def test_the_library_reads_an_indented_expression_as_the_command_line_does():
    from jacobi_cli.tools import api

    assert api.evaluate("  x * 2", {"x": 3.0}) == 6.0
    assert api.evaluate("\n    a = x * 2\n\n    a + 1\n", {"x": 3.0}) == 7.0


@pytest.mark.parametrize("args", [["eval", "sin(x)", "x:3", "--out", "{d}/no/J.npy"],
                                  ["graph", "x", "x=1", "--out", "{d}/no/g.dot"],
                                  ["run", "{suite}", "--junit", "{d}/no/j.xml"]])
def test_an_output_into_a_missing_folder_is_refused_before_any_work(tmp_path, capsys, args):
    """Was found only when writing, after the work: a whole suite ran, then --junit failed."""
    suite = tmp_path / "s.toml"
    suite.write_text('[[case]]\nname = "a"\nexpr = "x*2"\nbindings = {x = "1"}\nvalue = 2\n')
    code, out, err = run(capsys, [a.format(d=tmp_path, suite=suite) for a in args])
    assert code == 2 and "the folder" in err and "does not exist" in err
    assert "PASS" not in out and "input" not in out  # nothing ran, nothing printed


def test_an_output_into_a_folder_it_cannot_write_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    folder = str(tmp_path / "ro")
    os.mkdir(folder)
    real = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: False if path == folder else real(path, mode))
    error = refused(capsys, ["eval", "sin(x)", "x:3", "--out", os.path.join(folder, "J.npy")], "io", "permission denied")
    assert "not writable" in error["message"]


@pytest.mark.parametrize("text", [" x", "\tx", "  a\n    b\n  c", "\n\n  a\n \t \n  b\n", "\t a\n\t b", "\t a\n \tb",
                                  "  a\r\n  b\r\n", "   a\n  \n b", "  é\n  ü"])
def test_the_parser_removes_what_textwrap_dedent_removes(text):
    import textwrap

    from jacobi_cli.lang.parser import Source

    assert Source(text).body == textwrap.dedent(text)


def test_an_indented_expression_file_with_a_bom_is_read_and_reported_as_written(tmp_path, capsys):
    path = tmp_path / "e.py"
    path.write_bytes(b"\xef\xbb\xbf  a = x * 2\n  a + 1\n")
    code, out, err = run(capsys, ["eval", f"@{path}", "x=3", "--json"])
    report = json.loads(out)
    assert code == 0 and report["output"]["value"] == 7.0 and report["expression"] == "  a = x * 2\n  a + 1\n"
    path.write_bytes(b"\xef\xbb\xbf  a = x * 2\n  foo(a)\n")
    assert refused(capsys, ["eval", f"@{path}", "x=3"], "name")["position"] == 14  # foo, the BOM not counted
