"""The streaming text readers (.csv, .txt, .json): the same arrays and errors as before,
whatever the chunk and piece sizes, and a peak within ~3x the result's bytes (tracemalloc)."""

import json

import numpy as np
import pytest
from traced import traced_peak

from jacobi_cli.errors import JacError, JacLimitError, JacValueError
from jacobi_cli.lang import fileio

ARRAYS = [np.array(2.5), np.arange(7.0) - 3, np.array([[1.5, -2e-7, 3e300], [4.0, 0.0, -0.0]]),
          np.linspace(-1, 1, 24).reshape(2, 3, 4), np.array([[1.0, np.nan, np.inf, -np.inf]])]


def _forms(a: np.ndarray) -> dict:
    """{suffix-tag: text} for ``a`` in every text form jac reads."""
    rows = a.reshape(1, -1) if a.ndim < 2 else a.reshape(a.shape[0], -1)
    forms = {}
    if np.all(np.isfinite(a)):
        if a.ndim == 2:
            forms["csv"] = "# a comment\n\n" + "\r\n".join(",".join(repr(float(v)) for v in r) for r in rows) + "\n"
            forms["h.csv"] = "a,b,c\n" + "\n".join(", ".join(repr(float(v)) for v in r) for r in rows)
            forms["txt"] = "\n".join("  ".join(repr(float(v)) for v in r) for r in rows) + "\n\n"
        elif a.ndim == 1:
            forms["txt"] = "\t".join(repr(float(v)) for v in a)
    listed = json.loads(json.dumps(a.tolist()).replace("NaN", '"NaN"').replace("-Infinity", '"-Infinity"')
                        .replace(" Infinity", ' "Infinity"'))
    forms["json"] = json.dumps(listed)
    forms["pretty.json"] = json.dumps(listed, indent=3)
    forms["wrapped.json"] = json.dumps({"value": listed}, indent=1)
    forms["ints.json"] = json.dumps(listed).replace(".0,", ",").replace(".0]", "]")
    return forms


@pytest.mark.parametrize("chunk, piece", [(fileio.CHUNK_BYTES, fileio.PIECE_CHARS), (7, 5), (3, 2), (64, 11)])
@pytest.mark.parametrize("index", range(len(ARRAYS)))
def test_every_form_reads_the_same_array_whatever_the_chunks(tmp_path, monkeypatch, chunk, piece, index):
    monkeypatch.setattr(fileio, "CHUNK_BYTES", chunk)
    monkeypatch.setattr(fileio, "PIECE_CHARS", piece)
    a = ARRAYS[index]
    for tag, text in _forms(a).items():
        path = tmp_path / f"a.{tag}"
        path.write_text(text)
        got = fileio.load_array(str(path))
        expected = a if not tag.endswith("csv") or a.ndim == 2 else a.reshape(1, -1)
        assert got.shape == expected.shape, (tag, got.shape)
        np.testing.assert_array_equal(got, expected, err_msg=tag)
        assert got.flags.writeable and got.flags.c_contiguous


BAD_JSON = ["[1,]", "[,1]", "[[1],[2,3]]", "[[1],2]", "[1,[2]]", "[1] [2]", "[1],[2]", "[[1]]]", "[[1]",
            "[1 2]", '["a"]', "[01]", "[" + "9" * 400 + "]", "[" * 40 + "1" + "]" * 40, '{"a": [1], "b": [2]}',
            '{"a": [1]', "[1] x", "[null]", "[true]"]


@pytest.mark.parametrize("text", BAD_JSON)
@pytest.mark.parametrize("small", [True, False])
def test_json_that_is_not_nested_lists_of_numbers_is_refused(tmp_path, monkeypatch, text, small):
    """Small files are explained by json; past JSON_FALLBACK_BYTES the stream walker refuses
    itself, with a line: never a wrong array, never ~17x the file."""
    if not small:
        monkeypatch.setattr(fileio, "JSON_FALLBACK_BYTES", 0)
        monkeypatch.setattr(fileio, "PIECE_CHARS", 3)
    path = tmp_path / "bad.json"
    path.write_text(text)
    if text == "[true]" and small:  # json reads true as 1.0, as before
        assert fileio.load_array(str(path)).tolist() == [1.0]
        return
    with pytest.raises(JacError) as info:
        fileio.load_array(str(path))
    assert "bad.json" in str(info.value)
    if not small:
        assert "line 1" in str(info.value)


def test_long_lines_keep_header_comment_and_blank_rules(tmp_path, monkeypatch):
    monkeypatch.setattr(fileio, "PIECE_CHARS", 8)
    monkeypatch.setattr(fileio, "CHUNK_BYTES", 5)
    p = tmp_path / "t.csv"
    p.write_text("# " + "comment, " * 20 + "\n" + ",".join(f"c{i}" for i in range(20)) + "\n"
                 + ",".join(str(i) for i in range(20)) + "\n")
    assert fileio.load_array(str(p)).tolist() == [list(map(float, range(20)))]
    t = tmp_path / "t.txt"
    t.write_text(" " * 50 + " ".join(str(i) for i in range(30)) + "\n")  # a long blank start, then numbers
    assert fileio.load_array(str(t)).tolist() == list(map(float, range(30)))
    bad = tmp_path / "bad.csv"
    bad.write_text(",".join(str(i) for i in range(30)) + ",x," + ",".join(str(i) for i in range(30)) + "\n")
    with pytest.raises(JacValueError, match=r"line 1, column 31: 'x' is not a number"):
        fileio.load_array(str(bad))


def test_a_byte_that_is_not_utf8_is_named_with_its_line_in_any_chunk(tmp_path, monkeypatch):
    monkeypatch.setattr(fileio, "CHUNK_BYTES", 4)
    p = tmp_path / "a.csv"
    p.write_bytes(b"1,2\n3,4\n5,\xff\n")
    with pytest.raises(JacError, match=r"line 3 is not UTF-8 text \(byte 0xff\)"):
        fileio.load_array(str(p))


def test_the_result_cap_is_checked_while_reading(tmp_path):
    p = tmp_path / "big.json"
    p.write_text(json.dumps(list(range(100_000))))
    with pytest.raises(JacLimitError):
        fileio.load_array(str(p), max_bytes=8000)


FORMS = {
    "one-line.csv": lambda x: ",".join(map(repr, x.tolist())) + "\n",
    "rows.txt": lambda x: "\n".join(" ".join(map(repr, r)) for r in x.reshape(-1, 500).tolist()),
    "pretty.json": lambda x: json.dumps(x.reshape(-1, 500).tolist(), indent=2),
    "mixed.json": lambda x: json.dumps([int(v) if i % 2 else v for i, v in enumerate((x * 1000).tolist())]),
    "exponents.json": lambda x: "[" + ", ".join(f"{v:.6e}" for v in x.tolist()) + "]",
    "cube.json": lambda x: json.dumps(x[:125_000].reshape(50, 50, 50).tolist(), indent=1),
    "wrapped.json": lambda x: json.dumps({"value": x.reshape(-1, 1000).tolist()}),
}


@pytest.mark.parametrize("name", FORMS)
def test_reading_a_text_file_peaks_within_three_times_the_result(tmp_path, name):
    """A few-MB file of each form: the peak (tracemalloc) is at most 3x the array's bytes
    (it was 4.5-6.3x: the whole file as bytes and as str, then a copy of the numbers)."""
    x = -np.random.default_rng(1).standard_normal(400_000)
    path = tmp_path / name
    path.write_text(FORMS[name](x))
    got, peak = traced_peak(lambda: fileio.load_array(str(path)))
    assert peak <= 3 * got.nbytes, (peak, got.nbytes, peak / got.nbytes)
