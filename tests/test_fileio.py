"""Reading bindings from files and writing ``--out`` files: values, shapes and every refusal."""

from __future__ import annotations

import json
import os
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest
from numpy.lib import format as npy_format

from jacobi_cli.errors import JacError, JacIOError, JacLimitError, JacValueError
from jacobi_cli.lang.fileio import load_array, save_array, to_jsonable


def write(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return str(path)


def assert_same(actual, expected):
    """Same shape, dtype and values, NaN equal to NaN."""
    expected = np.asarray(expected)
    assert actual.shape == expected.shape
    np.testing.assert_array_equal(actual, expected)


# ------------------------------------------------------------------------------ .npy


@pytest.mark.parametrize(
    "array",
    [
        np.arange(12.0).reshape(3, 4) - 5.5,
        np.array(2.5),
        np.array([1.0, np.nan, np.inf, -np.inf]),
        np.arange(24, dtype=np.int32).reshape(2, 3, 4),
        np.array([True, False, True]),
        np.array([1.5, -2.25], dtype=">f4"),
        np.zeros((0, 3)),
    ],
    ids=["matrix", "0-d", "non-finite", "int32-tensor", "bool", "big-endian-f4", "empty"],
)
def test_npy_round_trips_values_and_shape(tmp_path, array):
    path = str(tmp_path / "a.npy")
    np.save(path, array)
    loaded = load_array(path)
    assert loaded.dtype == np.float64
    assert_same(loaded, array.astype(np.float64))


def test_npy_fortran_order_keeps_the_values(tmp_path):
    array = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    path = str(tmp_path / "f.npy")
    np.save(path, array)
    loaded = load_array(path)
    assert_same(loaded, [[0, 1, 2], [3, 4, 5]])
    assert loaded.flags.c_contiguous


def test_npy_version_2_header_and_upper_case_suffix(tmp_path):
    path = tmp_path / "A.NPY"
    with open(path, "wb") as fp:
        npy_format.write_array(fp, np.array([[1.0, 2.0]]), version=(2, 0))
    assert_same(load_array(str(path)), [[1.0, 2.0]])


def test_float32_dtype(tmp_path):
    path = str(tmp_path / "a.npy")
    np.save(path, np.array([0.1, 1e300]))
    loaded = load_array(path, dtype=np.float32)
    assert loaded.dtype == np.float32
    assert loaded[0] == np.float32(0.1)
    assert loaded[1] == np.inf  # beyond float32's range


class MakesMarker:
    """Unpickling this calls os.mkdir(marker): the marker appears if code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_pickled_npy_is_refused_and_runs_no_code(tmp_path):
    marker = tmp_path / "code-ran"
    path = str(tmp_path / "evil.npy")
    np.save(path, np.array([MakesMarker(str(marker))], dtype=object), allow_pickle=True)
    with pytest.raises(JacValueError, match="pickle.*never unpickles") as error:
        load_array(path)
    assert path in error.value.message
    assert not marker.exists()
    np.load(path, allow_pickle=True)  # the payload is live: loading it unsafely runs it
    assert marker.exists()


def npy_with_header(tmp_path, header, data=b""):
    """A version 1.0 .npy file with any header dict, true or not, and any data."""
    path = tmp_path / "h.npy"
    text = repr(header).encode("latin-1")
    text += b" " * (-(len(text) + 11) % 64) + b"\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text + data)
    return str(path)


def test_npy_header_claiming_a_huge_shape_is_refused_without_allocating(tmp_path):
    header = {"descr": "<f8", "fortran_order": False, "shape": (10**12,)}
    path = npy_with_header(tmp_path, header, b"\0" * 64)
    tracemalloc.start()
    try:
        with pytest.raises((JacIOError, JacLimitError), match="truncated") as error:
            load_array(path, max_bytes=10**6)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert path in error.value.message
    assert peak < 10**6


def test_npy_over_max_bytes_is_a_limit_error_naming_the_size(tmp_path):
    path = str(tmp_path / "a.npy")
    np.save(path, np.zeros(100, dtype=np.float32))
    with pytest.raises(JacLimitError, match="800 bytes"):
        load_array(path, max_bytes=799)  # 100 float64 values after conversion
    assert load_array(path, dtype=np.float32, max_bytes=400).shape == (100,)


def test_npy_truncated_and_padded_files_are_io_errors(tmp_path):
    path = str(tmp_path / "a.npy")
    np.save(path, np.arange(10.0))
    data = (tmp_path / "a.npy").read_bytes()
    (tmp_path / "a.npy").write_bytes(data[:-3])
    with pytest.raises(JacIOError, match="truncated"):
        load_array(path)
    (tmp_path / "a.npy").write_bytes(data + b"xx")
    with pytest.raises(JacIOError, match="longer than its header says"):
        load_array(path)


def test_npy_header_over_64_kib_is_refused_before_reading_it(tmp_path):
    path = write(tmp_path, "big.npy", b"\x93NUMPY\x02\x00" + struct.pack("<I", 10**9) + b"{")
    with pytest.raises(JacLimitError, match="header"):
        load_array(path)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"not an npy file at all", "not a .npy file"),
        (b"\x93NUMPY\x09\x00", "version"),
        (b"\x93NUMPY\x01\x00\x10", "truncated"),
        (b"\x93NUMPY\x01\x00\x06\x00{'a':", "malformed"),
        (b"\x93NUMPY\x01\x00\x0a\x00__import__", "malformed"),
    ],
    ids=["magic", "version", "length", "syntax", "call"],
)
def test_malformed_npy_is_an_io_error(tmp_path, content, message):
    path = write(tmp_path, "bad.npy", content)
    with pytest.raises(JacIOError, match=message) as error:
        load_array(path)
    assert path in error.value.message


@pytest.mark.parametrize(
    "header",
    [
        {"descr": "<f8", "fortran_order": False, "shape": (-1,)},
        {"descr": "<f8", "fortran_order": "no", "shape": (2,)},
        {"descr": "<f8", "shape": (2,)},
        {"descr": "not-a-dtype", "fortran_order": False, "shape": (2,)},
    ],
    ids=["negative-shape", "fortran-order", "missing-key", "descr"],
)
def test_npy_bad_header_fields_are_io_errors(tmp_path, header):
    path = npy_with_header(tmp_path, header, b"\0" * 16)
    with pytest.raises(JacIOError, match="header"):
        load_array(path)


@pytest.mark.parametrize(
    "array, message",
    [
        (np.zeros(2, dtype=[("a", "<f8"), ("b", "<i4")]), "structured"),
        (np.array([1 + 2j]), "complex"),
        (np.array(["a", "b"]), "not numbers"),
    ],
    ids=["structured", "complex", "strings"],
)
def test_npy_non_numeric_dtypes_are_value_errors(tmp_path, array, message):
    path = str(tmp_path / "a.npy")
    np.save(path, array)
    with pytest.raises(JacValueError, match=message):
        load_array(path)


# ------------------------------------------------------------------------------ .csv


def test_csv_rows_and_columns_with_header_comments_and_non_finite(tmp_path):
    text = "\ufeffx, y ,z\n# a comment\n1, 2.5, -3e2\n\n  4,nan,-inf\r\n"
    loaded = load_array(write(tmp_path, "a.csv", text))
    assert_same(loaded, [[1, 2.5, -300], [4, np.nan, -np.inf]])


def test_csv_is_always_two_dimensional(tmp_path):
    assert_same(load_array(write(tmp_path, "row.csv", "1,2,3\n")), [[1, 2, 3]])
    assert_same(load_array(write(tmp_path, "col.csv", "1\n2\n3")), [[1], [2], [3]])
    assert_same(load_array(write(tmp_path, "one.csv", "7")), [[7]])


def test_csv_quoted_cells_and_float32(tmp_path):
    loaded = load_array(write(tmp_path, "a.csv", '"a","b"\n"0.1","2"\n'), dtype=np.float32)
    assert loaded.dtype == np.float32
    assert_same(loaded, np.array([[0.1, 2]], dtype=np.float32))


def test_csv_only_the_first_line_can_be_a_header(tmp_path):
    path = write(tmp_path, "a.csv", "1,2\nx,y\n")
    with pytest.raises(JacValueError, match=r"line 2, column 1: 'x' is not a number"):
        load_array(path)


def test_csv_non_numeric_cell_names_line_and_column(tmp_path):
    path = write(tmp_path, "a.csv", "a,b\n1,2\n3,abc\n")
    with pytest.raises(JacValueError) as error:
        load_array(path)
    assert error.value.message == f"'{path}', line 3, column 2: 'abc' is not a number"


@pytest.mark.parametrize(
    "text, message",
    [
        ("1,2\n3\n", "line 2: 1 column, but the rows before have 2"),
        ("1,2,\n", "line 1, column 3: the cell is empty"),
        ("1_000,2\n", "line 1, column 1: '1_000' is not a number"),
        ("# only a comment\n\n", "contains no numbers"),
        ("x,y\n", "contains no numbers"),
    ],
    ids=["ragged", "empty-cell", "underscore", "comments-only", "header-only"],
)
def test_csv_bad_content_is_a_value_error(tmp_path, text, message):
    path = write(tmp_path, "a.csv", text)
    with pytest.raises(JacValueError, match=message) as error:
        load_array(path)
    assert path in error.value.message


def test_csv_over_max_bytes_is_a_limit_error(tmp_path):
    path = write(tmp_path, "a.csv", "1,2,3\n" * 10)
    with pytest.raises(JacLimitError, match="over the limit of 100 bytes"):
        load_array(path, max_bytes=100)
    assert load_array(path, max_bytes=240).shape == (10, 3)


# ------------------------------------------------------------------------------ .txt


def test_txt_shapes_follow_the_lines(tmp_path):
    scalar = load_array(write(tmp_path, "s.txt", "  3.5 \n"))
    assert scalar.shape == () and scalar == 3.5
    assert_same(load_array(write(tmp_path, "v.txt", "1 2\t3\n")), [1, 2, 3])
    matrix = load_array(write(tmp_path, "m.txt", "# m\n1 2\n\n3   inf\n"))
    assert_same(matrix, [[1, 2], [3, np.inf]])
    assert_same(load_array(write(tmp_path, "c.txt", "1\n2\n")), [[1], [2]])


def test_txt_errors_name_line_and_column(tmp_path):
    path = write(tmp_path, "a.txt", "1 2\n3 x\n")
    with pytest.raises(JacValueError, match=r"line 2, column 2: 'x' is not a number"):
        load_array(path)
    with pytest.raises(JacValueError, match=r"line 2: 3 columns"):
        load_array(write(tmp_path, "b.txt", "1 2\n3 4 5\n"))
    with pytest.raises(JacValueError, match="use .csv for commas"):
        load_array(write(tmp_path, "c.txt", "1,2\n"))


# ------------------------------------------------------------------------------ .json


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2.5", np.array(2.5)),
        ("[[1, 2], [3, 4]]", np.array([[1.0, 2.0], [3.0, 4.0]])),
        ("[true, false, 3]", np.array([1.0, 0.0, 3.0])),
        ('[NaN, "NaN", Infinity, "-Infinity"]', np.array([np.nan, np.nan, np.inf, -np.inf])),
        ('{"shape": [2], "kind": "vector", "value": [5, 6]}', np.array([5.0, 6.0])),
        ('{"y": [[1], [2]]}', np.array([[1.0], [2.0]])),
        ("[]", np.zeros(0)),
        ("[[], []]", np.zeros((2, 0))),
    ],
    ids=["number", "matrix", "bool", "non-finite", "value-object", "one-entry", "empty", "2x0"],
)
def test_json_values_and_shapes(tmp_path, text, expected):
    assert_same(load_array(write(tmp_path, "a.json", text)), expected)


@pytest.mark.parametrize(
    "text, message",
    [
        ("[[1, 2], [3]]", r"element \[1\] is a list of length 1, but element \[0\] is a list of le"),
        ("[[1, 2], 3]", r"element \[1\] is '3', but element \[0\] is a list"),
        ("[1, [2]]", r"element \[1\] is a list of length 1, but element \[0\] is a number"),
        ('[[1, 2], [3, "x"]]', r"element \[1\]\[1\]: '\"x\"' is not a number"),
        ("[1, null]", r"element \[1\]: 'null' is not a number"),
        ('{"a": 1, "b": 2}', 'must have a "value" key'),
        ("[1e999999999999999999, 10" + "0" * 400 + "]", r"element \[1\]: .* is too large"),
    ],
    ids=["ragged", "list-then-number", "number-then-list", "string", "null", "object", "huge-int"],
)
def test_json_bad_content_names_the_element(tmp_path, text, message):
    path = write(tmp_path, "a.json", text)
    with pytest.raises(JacValueError, match=message) as error:
        load_array(path)
    assert path in error.value.message


def test_json_syntax_error_and_deep_nesting(tmp_path):
    with pytest.raises(JacIOError, match=r"not valid JSON.*line 1"):
        load_array(write(tmp_path, "a.json", "[1, 2"))
    with pytest.raises(JacValueError, match="nested"):
        load_array(write(tmp_path, "b.json", "[" * 100 + "]" * 100))
    with pytest.raises(JacValueError, match="nested too deeply"):
        load_array(write(tmp_path, "c.json", "[" * 200000 + "]" * 200000))


def test_json_over_max_bytes_is_a_limit_error(tmp_path):
    with pytest.raises(JacLimitError, match="24 bytes"):
        load_array(write(tmp_path, "a.json", "[1, 2, 3]"), max_bytes=16)


# ------------------------------------------------------------------------------ files


def test_missing_file_directory_and_device_are_io_errors(tmp_path):
    missing = str(tmp_path / "missing.csv")
    with pytest.raises(JacIOError, match="no such file") as error:
        load_array(missing)
    assert missing in error.value.message
    directory = tmp_path / "d.npy"
    directory.mkdir()
    with pytest.raises(JacIOError, match="is a directory"):
        load_array(str(directory))
    with pytest.raises(JacIOError):
        load_array("/dev/zero")  # refused by its suffix; with one, by its type:
    link = tmp_path / "zero.npy"
    link.symlink_to("/dev/zero")
    with pytest.raises(JacIOError, match="not a regular file"):
        load_array(str(link))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    with pytest.raises(JacIOError, match="not a regular file"):
        load_array(str(fifo))


def test_unreadable_file_is_an_io_error(tmp_path, monkeypatch):
    path = write(tmp_path, "a.csv", "1,2\n")

    def refuse(*args):  # chmod 0 would not stop root, so the refusal is simulated
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(JacIOError, match="permission denied"):
        load_array(path)


@pytest.mark.parametrize("name", ["a.csv", "a.txt", "a.json", "a.npy"])
def test_empty_file_is_an_io_error(tmp_path, name):
    path = write(tmp_path, name, b"")
    with pytest.raises(JacIOError, match="empty") as error:
        load_array(path)
    assert path in error.value.message


def test_undecodable_text_is_an_io_error_naming_the_line(tmp_path):
    path = write(tmp_path, "a.csv", b"1,2\n3,\xff\n")
    with pytest.raises(JacIOError, match="line 2 is not UTF-8"):
        load_array(path)


def test_json_not_utf8_past_the_first_chunk_is_an_io_error(tmp_path):
    # an object, so the walk stops early and json reads the file; the bad byte lies past the
    # first 256 KiB (it was an internal UnicodeDecodeError, exit 70)
    path = write(tmp_path, "a.json", b'{"a": 1,\n "b": "' + b"x," * 200_000 + b'\xff"}')
    with pytest.raises(JacIOError, match="line 2 is not UTF-8"):
        load_array(path)


def test_text_file_over_256_mib_is_refused_up_front(tmp_path):
    path = tmp_path / "big.txt"
    with open(path, "wb") as fp:
        fp.truncate(256 * 2**20 + 1)  # sparse: nothing is written or read
    with pytest.raises(JacLimitError, match="over the 268435456 bytes"):
        load_array(str(path))


@pytest.mark.parametrize("name", ["a.npz", "a", "a.xlsx"])
def test_unknown_suffix_names_the_accepted_ones(tmp_path, name):
    path = write(tmp_path, name, "1")
    with pytest.raises(JacIOError, match=r"\.npy, \.csv, \.txt or \.json") as error:
        load_array(path)
    assert path in error.value.message


def test_every_failure_is_a_jac_error_never_a_traceback(tmp_path):
    for content in [b"\x00\x01", b"\x93NUMPY", b"[", b"\xff"]:
        for suffix in [".npy", ".csv", ".txt", ".json"]:
            with pytest.raises(JacError):
                load_array(write(tmp_path, "x" + suffix, content))


# ------------------------------------------------------------------------------ writing


def test_save_npy_round_trips(tmp_path):
    path = str(tmp_path / "OUT.NPY")  # np.save would have appended another ".npy"
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    save_array(path, {"y": array})
    loaded = np.load(path, allow_pickle=False)
    assert loaded.dtype == np.float32
    assert_same(loaded, array)
    assert_same(load_array(path), array.astype(np.float64))


def test_save_npy_needs_exactly_one_array(tmp_path):
    path = str(tmp_path / "out.npy")
    with pytest.raises(JacIOError, match="use a .npz file"):
        save_array(path, {"y": np.zeros(2), "J_x": np.zeros((2, 2))})
    assert not os.path.exists(path)


def test_save_npz_round_trips_names_including_numpy_keywords(tmp_path):
    path = str(tmp_path / "out.npz")
    arrays = {"y": np.array(1.5), "file": np.eye(2), "allow_pickle": np.arange(3.0)}
    save_array(path, arrays)
    with np.load(path, allow_pickle=False) as loaded:
        assert sorted(loaded.files) == sorted(arrays)
        for name, array in arrays.items():
            assert_same(loaded[name], array)
    assert zipfile.is_zipfile(path)


def test_save_json_writes_an_object_of_nested_lists(tmp_path):
    path = str(tmp_path / "out.json")
    save_array(path, {"y": np.array(2.0), "J": np.array([[1.0, np.nan], [np.inf, -np.inf]])})
    assert json.loads((tmp_path / "out.json").read_text()) == {
        "y": 2.0, "J": [[1.0, "NaN"], ["Infinity", "-Infinity"]]
    }
    one = str(tmp_path / "one.json")
    save_array(one, {"J": np.array([[1.0, np.nan]])})
    assert_same(load_array(one), [[1.0, np.nan]])  # jac reads back what it writes


@pytest.mark.parametrize("name", ["out.csv", "out"])
def test_save_unknown_suffix_is_an_io_error(tmp_path, name):
    with pytest.raises(JacIOError, match=r"\.npy, \.npz or \.json"):
        save_array(str(tmp_path / name), {"y": np.zeros(1)})


def test_save_into_a_missing_directory_or_a_directory_is_an_io_error(tmp_path):
    path = str(tmp_path / "no" / "such" / "out.json")
    with pytest.raises(JacIOError, match="cannot write .*no such file") as error:
        save_array(path, {"y": np.zeros(1)})
    assert path in error.value.message
    directory = tmp_path / "d.npz"
    directory.mkdir()
    with pytest.raises(JacIOError, match="cannot write"):
        save_array(str(directory), {"y": np.zeros(1)})


def test_to_jsonable():
    assert to_jsonable(np.array(3.0)) == 3.0
    assert to_jsonable(float("-inf")) == "-Infinity"
    assert to_jsonable(np.array(np.nan)) == "NaN"
    assert to_jsonable(np.arange(4.0).reshape(2, 1, 2)) == [[[0.0, 1.0]], [[2.0, 3.0]]]
    assert to_jsonable(np.array([0.1, np.nan], dtype=np.float32)) == [0.1, "NaN"]
    assert to_jsonable(np.array([1, 2])) == [1, 2]
    assert json.dumps(to_jsonable(np.array([[np.inf]]))) == '[["Infinity"]]'


def test_deep_json_is_refused_before_json_recurses_even_with_the_limit_raised(tmp_path):
    """json's C parser recursed once per level and stopped only at the recursion limit: with the
    limit raised (as a deep-stack thread does, for the whole process) 200,000 levels overflowed
    the 8 MiB stack, a segfault in a test run. The depth is now measured first; a subprocess,
    so that a regression is a failed test and not a crashed run."""
    import subprocess
    import sys

    path = write(tmp_path, "deep.json", '{"a": ' + "[" * 200000 + "]" * 200000 + "}")
    code = ("import sys; sys.setrecursionlimit(1_000_000)\n"
            "from jacobi_cli.errors import JacValueError\nfrom jacobi_cli.lang.fileio import load_array\n"
            f"try:\n    load_array({path!r})\nexcept JacValueError as e:\n    print(e.message)\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": root})
    assert done.returncode == 0, (done.returncode, done.stderr[-2000:])
    assert "nested too deeply (200,001 levels; at most 512)" in done.stdout
    ok = write(tmp_path, "ok.json", '{"value": [[1, 2], [3, 4]], "note": "[[[[ \\" ]"}')
    assert load_array(ok).tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_overlapping_deep_stack_calls_leave_the_recursion_limit_as_it_was():
    """Two threads' save-and-restore of the process's recursion limit interleaved and left it
    at 1,000,000 for good; the calls now share one count."""
    import sys
    import threading
    import time

    from jacobi_cli.lang.deep import with_deep_stack

    before = sys.getrecursionlimit()

    def calls(limit):
        for _ in range(10):
            with_deep_stack(lambda: time.sleep(0.005), recursion_limit=limit)

    threads = [threading.Thread(target=calls, args=(200_000 if k % 2 else 1_000_000,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sys.getrecursionlimit() == before


def test_the_json_depth_scan_reads_an_unterminated_string_to_the_end_in_one_match():
    """The string pattern failed on an unterminated string and was retried from every later quote:
    quadratic (40 KB of \\" took 10 s, a 4 MiB file hours). Each match now succeeds and ends at the
    text's end, so the scan is one pass; the file is still refused by json, naming the string."""
    from jacobi_cli.lang.fileio import _JSON_STRING, _json_depth

    for text in ['"' + '\\"' * 1000, '"abc\\', '"[[[', '"\\\\\\"']:
        assert _JSON_STRING.match(text).end() == len(text), text
    assert _json_depth('{"a": "[[[ \\" ]]", "b": [[1]]}') == 3
    assert _json_depth('[["' + '\\"' * 1000) == 2


def test_a_json_file_with_an_unterminated_string_is_an_io_error(tmp_path):
    with pytest.raises(JacIOError, match="Unterminated string"):
        load_array(write(tmp_path, "q.json", '["' + '\\"' * 20000))
