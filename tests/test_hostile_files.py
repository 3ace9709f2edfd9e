"""Hostile files through the command line: bindings (``x=@file``), ``@expression-file`` and ``-``.

tests/test_fileio.py checks the reader; here every case goes through ``jac eval`` as a user
runs it: exit 2, one message that names the file, the JSON error object, no traceback, and
no code run.
"""

import json
import os
import struct

import numpy as np
import pytest
from typer.testing import CliRunner

from jacobi_cli.cli.app import MAX_EXPRESSION_FILE, app

runner = CliRunner()


class MakesMarker:
    """Unpickling this calls os.mkdir(marker): the marker appears if code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def npy_with_header(path, header, data=b""):
    text = repr(header).encode("latin-1")
    text += b" " * (-(len(text) + 11) % 64) + b"\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + data)


def make(tmp_path, case):
    """Create the hostile file of ``case``; return its path."""
    path = tmp_path / {"pickle": "evil.npy", "huge-shape": "huge.npy", "huge-header": "hdr.npy",
                       "truncated": "cut.npy", "ragged-csv": "a.csv", "text-csv": "b.csv", "bad-json": "a.json",
                       "deep-json": "deep.json", "ragged-json": "r.json", "directory": "d.npy", "fifo": "pipe.txt",
                       "device": "zero.npy", "missing": "missing.csv", "suffix": "a.xlsx", "empty": "e.json",
                       "not-utf8": "u.txt", "big-text": "big.txt", "complex": "c.npy"}[case]
    if case == "pickle":
        np.save(path, np.array([MakesMarker(str(tmp_path / "code-ran"))], dtype=object), allow_pickle=True)
    elif case == "huge-shape":
        npy_with_header(path, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}, b"\0" * 64)
    elif case == "huge-header":
        path.write_bytes(b"\x93NUMPY\x02\x00" + struct.pack("<I", 10**9) + b"{")
    elif case == "truncated":
        np.save(path, np.arange(10.0))
        path.write_bytes(path.read_bytes()[:-3])
    elif case == "ragged-csv":
        path.write_text("1,2\n3\n")
    elif case == "text-csv":
        path.write_text("a,b\n1,2\n3,abc\n")
    elif case == "bad-json":
        path.write_text("[1, 2")
    elif case == "deep-json":
        path.write_text("[" * 100000 + "]" * 100000)
    elif case == "ragged-json":
        path.write_text("[[1, 2], [3]]")
    elif case == "directory":
        path.mkdir()
    elif case == "fifo":
        os.mkfifo(path)
    elif case == "device":
        path.symlink_to("/dev/zero")
    elif case in ("suffix",):
        path.write_text("1")
    elif case == "empty":
        path.write_bytes(b"")
    elif case == "not-utf8":
        path.write_bytes(b"1 2\n3 \xff\n")
    elif case == "big-text":
        with open(path, "wb") as fp:
            fp.truncate(256 * 2**20 + 1)  # sparse: nothing is written or read
    elif case == "complex":
        np.save(path, np.array([1 + 2j]))
    return path


# case -> (error kind, words of the message)
BINDING_CASES = {
    "pickle": ("value", ["never unpickles"]),
    "huge-shape": ("io", ["truncated"]),
    "huge-header": ("limit", ["header"]),
    "truncated": ("io", ["truncated"]),
    "ragged-csv": ("value", ["line 2", "1 column"]),
    "text-csv": ("value", ["line 3, column 2", "'abc' is not a number"]),
    "bad-json": ("io", ["not valid JSON", "line 1"]),
    "deep-json": ("value", ["nested"]),
    "ragged-json": ("value", ["not rectangular", "element [1]"]),
    "directory": ("io", ["is a directory"]),
    "fifo": ("io", ["not a regular file"]),
    "device": ("io", ["not a regular file"]),
    "missing": ("io", ["no such file"]),
    "suffix": ("io", [".npy, .csv, .txt or .json"]),
    "empty": ("io", ["empty"]),
    "not-utf8": ("io", ["line 2 is not UTF-8"]),
    "big-text": ("limit", ["268435456 bytes"]),
    "complex": ("value", ["complex"]),
}


@pytest.mark.parametrize("case", sorted(BINDING_CASES))
def test_hostile_binding_file_is_exit_2_with_one_message(tmp_path, case):
    if case == "fifo" and not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    path = make(tmp_path, case)
    kind, words = BINDING_CASES[case]
    result = runner.invoke(app, ["eval", "--json", "x * 2", f"x=@{path}"])
    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == kind
    assert error["message"].startswith(f"x: ") and str(path) in error["message"]
    for word in words:
        assert word in error["message"]
    assert result.stderr.startswith(f"jac: error ({kind}): x: ")
    assert len(result.stderr.strip().splitlines()) == 1  # one message (no caret: it is not the expression)
    assert "Traceback" not in result.output
    assert not (tmp_path / "code-ran").exists()


def test_a_good_file_still_works(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.array([1.0, 2.0]))
    result = runner.invoke(app, ["eval", "--json", "x * 2", f"x=@{path}"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["output"]["value"] == [2.0, 4.0]


# --- @expression-file and - (standard input) -----------------------------------------------------

def expression_file(tmp_path, case):
    path = tmp_path / "expr.txt"
    if case == "missing":
        pass
    elif case == "directory":
        path.mkdir()
    elif case == "fifo":
        os.mkfifo(path)  # no writer: opening it would wait forever
    elif case == "not-utf8":
        path.write_bytes(b"x + \xff")
    elif case == "too-big":
        with open(path, "wb") as fp:
            fp.truncate(MAX_EXPRESSION_FILE + 1)
    elif case == "nul":
        path.write_bytes(b"x\x00")
    elif case == "empty":
        path.write_bytes(b"")
    elif case == "syntax":
        path.write_text("F = x * 2\nG = F +* 1\nG")
    return path


EXPRESSION_CASES = {
    "missing": ("io", ["cannot read the expression from", "no such file"], None),
    "directory": ("io", ["is a directory"], None),
    "fifo": ("io", ["not a regular file"], None),
    "not-utf8": ("io", ["not UTF-8", "byte 4: 0xff"], None),
    "too-big": ("limit", [f"{MAX_EXPRESSION_FILE:,} bytes"], None),
    "nul": ("parse", ["NUL"], 1),
    "empty": ("parse", ["empty"], 0),
    "syntax": ("parse", ["invalid syntax"], 17),  # the "*" of line 2
}


@pytest.mark.parametrize("case", sorted(EXPRESSION_CASES))
def test_hostile_expression_file_is_exit_2_with_one_message(tmp_path, case):
    path = expression_file(tmp_path, case)
    kind, words, position = EXPRESSION_CASES[case]
    result = runner.invoke(app, ["eval", "--json", f"@{path}", "x=1"])
    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert (error["kind"], error["position"]) == (kind, position)
    for word in words:
        assert word in error["message"]
    assert result.stderr.startswith(f"jac: error ({kind}): ") and "Traceback" not in result.output


def test_expression_file_and_stdin_work(tmp_path):
    path = tmp_path / "expr.txt"
    path.write_text("F = x * 2\nsum(F)\n")
    for args, stdin in ((["eval", "--json", f"@{path}", "x=[1, 2]"], None),
                        (["eval", "--json", "-", "x=[1, 2]"], path.read_bytes())):
        result = runner.invoke(app, args, input=stdin)
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["output"]["value"] == 6.0


@pytest.mark.parametrize("stdin, kind, words", [
    (b"x + \xff\xfe", "io", ["standard input is not UTF-8", "byte 4"]),
    (b"", "parse", ["empty"]),
    (b"x +* 2", "parse", ["invalid syntax"]),
    (b"x" * (MAX_EXPRESSION_FILE + 1), "limit", ["standard input", "bytes"]),
])
def test_hostile_standard_input_is_exit_2(stdin, kind, words):
    result = runner.invoke(app, ["eval", "--json", "-", "x=1"], input=stdin)
    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == kind
    for word in words:
        assert word in error["message"]


def test_undecodable_command_line_bytes_are_a_parse_error_not_a_crash():
    bad = b"x\xff".decode("utf-8", "surrogateescape")  # what Python makes of such argv bytes
    for args in (["eval", "--json", bad, "x=1"], ["eval", "--json", "x", "x=" + bad]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        error = json.loads(result.stdout)["error"]
        assert error["kind"] == "parse" and "not UTF-8" in error["message"] and "0xff" in error["message"]
        assert "\\udcff" in result.stderr  # shown, not a UnicodeEncodeError


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_out_to_a_fifo_nobody_reads_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "out.json"
    os.mkfifo(fifo)
    result = runner.invoke(app, ["eval", "--json", "x", "x=1", "--out", str(fifo)])
    assert result.exit_code == 2, result.output
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == "io" and "FIFO" in error["message"] and str(fifo) in error["message"]


def test_out_to_a_directory_is_an_io_error(tmp_path):
    target = tmp_path / "d.npy"
    target.mkdir()
    result = runner.invoke(app, ["eval", "--json", "x", "x=1", "--out", str(target)])
    assert result.exit_code == 2 and json.loads(result.stdout)["error"]["kind"] == "io"
