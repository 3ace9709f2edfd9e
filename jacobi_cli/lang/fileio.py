"""Arrays from files (bindings ``NAME=@path``) and to files (``jac eval --out FILE``).

Reading dispatches on the suffix, case-insensitively:

- ``.npy``: parsed by hand, never unpickled: object and structured dtypes are refused,
  and the header (at most 64 KiB) must agree with the file's size before any data is read.
- ``.csv``: comma-separated numbers, one row per line, always 2-d ``(rows, columns)``.
  A first line with no number in it is a header and is skipped.
- ``.txt``: whitespace-separated numbers: one number is 0-d, one line is 1-d, several
  lines are 2-d ``(lines, columns)``.
- ``.json``: a number or rectangular nested lists; an object ``{"value": ...}`` (what jac
  writes for a value) or an object with a single entry stands for that value.

In text files blank lines and lines starting with ``#`` are skipped, ``nan``, ``inf`` and
``-inf`` are numbers, and JSON also takes ``"NaN"``, ``"Infinity"`` and ``"-Infinity"``.
Every value is converted to the requested dtype: for a file ``x.csv`` holding ``1,2,3``,
``load_array("x.csv", dtype=np.float32)`` is a float32 array of shape ``(1, 3)``.

Every failure is a :class:`JacIOError` (missing, unreadable, malformed file),
:class:`JacLimitError` (too large) or :class:`JacValueError` (not numbers), whose message
names the path and, inside the file, the line and column or the JSON element.
"""

from __future__ import annotations

import array
import ast
import contextlib
import errno
import io
import json
import math
import os
import re
import secrets
import stat
import struct
import zipfile
from typing import Callable, Iterator

import numpy as np
from numpy.lib import format as npy_format

from ..errors import JacIOError, JacLimitError, JacValueError
from ..ir.shapes import MAX_RANK, check_array_shape

READ_SUFFIXES = (".npy", ".csv", ".txt", ".json")
WRITE_SUFFIXES = (".npy", ".npz", ".json")
MAX_TEXT_BYTES = 256 * 2**20
PIECE_CHARS = 2**16  # a text line longer than this is read in pieces (~1 MB of strings each)
_SPACE = re.compile(r"\s")
MAX_NPY_HEADER_BYTES = 64 * 2**10
MAX_NDIM = MAX_RANK  # so that a Jacobian (output dimensions + input dimensions) fits NumPy's 64
NPY_MAGIC = b"\x93NUMPY"
NPY_HEADER_KEYS = {"descr", "fortran_order", "shape"}
JSON_CONSTANTS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


# ---------------------------------------------------------------------------------------
# Public API


def load_array(path: str, dtype=np.float64, max_bytes: int | None = None) -> np.ndarray:
    """Read the array in ``path`` (``.npy``, ``.csv``, ``.txt``, ``.json``) as ``dtype``.

    ``max_bytes`` caps the size of the result (after conversion to ``dtype``); text files
    over 256 MiB are refused whatever the cap. ``load_array("A.csv").shape == (2, 3)``
    for a file of two lines of three numbers.
    """
    suffix = _suffix(path, READ_SUFFIXES, "reads")
    dtype = np.dtype(dtype)
    try:
        with _open_regular_file(path) as fp:
            if suffix == ".npy":
                return _read_npy(fp, path, dtype, max_bytes)
            return _TEXT_READERS[suffix](_read_text(fp, path), path, dtype, max_bytes)
    except OSError as error:
        raise _os_error("cannot read", path, error) from None


def save_array(path: str, arrays: dict[str, np.ndarray]) -> None:
    """Write named arrays to ``path``: ``.npy`` (exactly one), ``.npz`` or ``.json``.

    The JSON file is one object ``{name: nested lists}``, see :func:`to_jsonable`.
    ``save_array("out.npz", {"y": y, "J_x": jac})`` gives ``np.load("out.npz")["J_x"]``.
    """
    suffix = _suffix(path, WRITE_SUFFIXES, "writes")
    if suffix == ".npy" and len(arrays) != 1:
        names = ", ".join(arrays) or "none"
        raise JacIOError(
            f"'{path}': a .npy file holds exactly one array, but there are {len(arrays)} "
            f"({names}); use a .npz file to save several"
        )
    if suffix == ".json":  # converted before the file is opened: a failure leaves no file
        text = json.dumps({name: to_jsonable(a) for name, a in arrays.items()}, allow_nan=False)
    try:
        with atomic_writer(path) as fp:
            if suffix == ".json":
                fp.write((text + "\n").encode("utf-8"))
            elif suffix == ".npy":
                (only,) = arrays.values()
                npy_format.write_array(fp, np.asarray(only), allow_pickle=False)
            else:
                _write_npz(fp, arrays)
    except OSError as error:
        raise _os_error("cannot write", path, error) from None


def save_sparse(path: str, rows, cols, values, shape: tuple) -> None:
    """Write a 2-d sparse matrix to a ``.npz`` file in SciPy's format (COO), without SciPy:
    ``scipy.sparse.load_npz(path)`` reads it back. ``rows[k], cols[k]`` hold ``values[k]``.
    """
    if _suffix(path, WRITE_SUFFIXES, "writes") != ".npz":
        raise JacIOError(f"'{path}': a sparse matrix is written to a .npz file")
    arrays = {"format": np.array(b"coo"), "shape": np.array(shape, dtype=np.int64),
              "row": np.asarray(rows, dtype=np.int64), "col": np.asarray(cols, dtype=np.int64),
              "data": np.asarray(values)}
    try:
        with atomic_writer(path) as fp:
            _write_npz(fp, arrays)
    except OSError as error:
        raise _os_error("cannot write", path, error) from None


def write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` (a picture, a DOT file); an OS error becomes a JacIOError."""
    try:
        with atomic_writer(path) as fp:
            fp.write(data)
    except OSError as error:
        raise _os_error("cannot write", path, error) from None


def check_output(path: str | None, option: str) -> None:
    """Refuse, before any work, an output option given an empty name (``--out ''``) or a
    target that is not a regular file (a FIFO, a device, a folder)."""
    if path is None:
        return
    if not path:
        raise JacIOError(f"{option} '': the file name is empty; give a file name or leave {option} out")
    _writable_target(path)


def to_jsonable(value) -> object:
    """An array or number as JSON data: nested lists of numbers, a bare number for 0-d.

    NaN and infinities become the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``;
    float32 values are written with their shortest float32 digits (``0.1``, not
    ``0.10000000149011612``). ``to_jsonable(np.array([1.5, np.inf])) == [1.5, "Infinity"]``.
    """
    a = np.asarray(value)
    if a.dtype.kind in "biu":
        return a.tolist()
    if a.dtype.kind != "f":
        raise TypeError(f"cannot write {a.dtype} values as JSON numbers")
    if a.dtype.itemsize < 8:  # str() of a float32 is its shortest round-tripping form
        a = np.array([float(s) for s in a.ravel().astype(str)]).reshape(a.shape)
    a = a.astype(np.float64, copy=False)
    if np.isfinite(a).all():
        return a.tolist()
    out = a.astype(object)
    out[np.isnan(a)] = "NaN"
    out[np.isposinf(a)] = "Infinity"
    out[np.isneginf(a)] = "-Infinity"
    return out.tolist()


# ---------------------------------------------------------------------------------------
# Files and errors


def _suffix(path: str, accepted: tuple[str, ...], verb: str) -> str:
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in accepted:
        found = f"'{suffix}'" if suffix else "a file without a suffix"
        raise JacIOError(
            f"'{path}': jac {verb} {', '.join(accepted[:-1])} or {accepted[-1]} files, not {found}"
        )
    return suffix


def open_regular_file(path: str, what: str = "") -> io.BufferedReader:
    """Open ``path`` for reading in binary, refusing (a :class:`JacIOError` that says
    "cannot read {what} '{path}'") a directory, FIFO or device before it could block."""
    return _open_regular_file(path, what)


@contextlib.contextmanager
def atomic_writer(path: str) -> Iterator[io.BufferedWriter]:
    """A binary file to write that replaces ``path`` only when complete, as git and pip write.

    The data goes to a new temporary file beside the target (same folder, so the rename
    cannot cross file systems), is flushed and fsynced, and is renamed over ``path`` only
    when the block ends without an error: a full disk, a file-size limit, an exception or
    Ctrl-C leaves the old file byte for byte as it was, and no temporary file behind.
    A target that exists and is not a regular file (a FIFO, a device, a folder) is refused
    before anything is written: writing to it could block forever or reach a device.
    ``with atomic_writer("J.npy") as fp: fp.write(data)``.
    """
    target = _writable_target(path)
    folder, name = os.path.split(target)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        temp = os.path.join(folder, f".{name}.{secrets.token_hex(6)}.tmp")
        fd = os.open(temp, flags, 0o666)  # 0o666 minus the umask, as open() would create it
    except OSError as error:
        raise _os_error("cannot write", path, error) from None
    try:
        with os.fdopen(fd, "wb") as fp:
            _keep_mode(target, fd)
            yield fp
            fp.flush()
            os.fsync(fp.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _writable_target(path: str) -> str:
    """The real path to replace (a symlink is followed: its target is rewritten, the link
    kept), refused when it names a folder, FIFO, device or socket, or nothing."""
    if not path:
        raise JacIOError("cannot write to '': the file name is empty")
    if "\0" in path:
        raise JacIOError(f"cannot write {path!r}: the path contains a NUL byte")
    target = os.path.realpath(path)
    try:
        info = os.stat(target)
    except FileNotFoundError:
        return target
    except OSError as error:
        raise _os_error("cannot write", path, error) from None
    _require_regular(info, path, "cannot write")
    return target


def _keep_mode(target: str, fd: int) -> None:
    """Give the new file the permissions of the file it replaces."""
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        return
    with contextlib.suppress(OSError):
        os.fchmod(fd, mode)


def _open_regular_file(path: str, what: str = "") -> io.BufferedReader:
    """Open for reading, refusing directories, FIFOs and devices before and after opening."""
    verb = f"cannot read {what}".rstrip()
    try:
        _require_regular(os.stat(path), path, verb)
        # O_NONBLOCK: should the path become a FIFO after the stat, open() must not wait.
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
        fd = os.open(path, flags | getattr(os, "O_NOCTTY", 0))
    except OSError as error:
        raise _os_error(verb, path, error) from None
    except ValueError:  # an embedded NUL byte
        raise JacIOError(f"{verb} '{path}': the path contains a NUL byte") from None
    try:
        _require_regular(os.fstat(fd), path, verb)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def _require_regular(info: os.stat_result, path: str, verb: str = "cannot read") -> None:
    if stat.S_ISDIR(info.st_mode):
        raise JacIOError(f"{verb} '{path}': it is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise JacIOError(
            f"{verb} '{path}': it is not a regular file (a FIFO, device or socket)"
        )


def _os_error(what: str, path: str, error: OSError) -> JacIOError:
    reasons = {
        FileNotFoundError: "no such file or directory",
        NotADirectoryError: "a part of the path is not a directory",
        PermissionError: "permission denied",
        IsADirectoryError: "it is a directory",
    }
    reason = reasons.get(type(error)) or error.strerror or str(error)
    if error.errno == errno.ENXIO:
        reason = "it is a FIFO (or device) that nothing reads"
    return JacIOError(f"{what} '{path}': {reason}")


def _limit_error(path: str, count: int, dtype: np.dtype, max_bytes: int | None) -> None:
    """Refuse an array of ``count`` elements of ``dtype`` over ``max_bytes``."""
    nbytes = count * dtype.itemsize
    if max_bytes is not None and nbytes > max_bytes:
        raise JacLimitError(
            f"'{path}' holds {count} values, {nbytes} bytes as {dtype}: "
            f"over the limit of {max_bytes} bytes"
        )


def _finish(values, shape: tuple[int, ...], dtype: np.dtype, order: str = "C") -> np.ndarray:
    """The flat ``values`` (read in ``order``) as a C-ordered array of ``shape`` and ``dtype``."""
    flat = np.asarray(values)
    with np.errstate(over="ignore"):  # a float64 beyond float32's range becomes inf
        return flat.reshape(shape, order=order).astype(dtype, order="C")


# ---------------------------------------------------------------------------------------
# .npy


def _read_npy(fp: io.BufferedReader, path: str, dtype: np.dtype, max_bytes: int | None):
    file_size = os.fstat(fp.fileno()).st_size
    if file_size == 0:
        raise JacIOError(f"cannot read '{path}': the file is empty")
    shape, fortran_order, file_dtype = _npy_fields(_npy_header(fp, path), path)
    count = math.prod(shape)
    expected = fp.tell() + count * file_dtype.itemsize
    if file_size != expected:
        state = "truncated" if file_size < expected else "longer than its header says"
        raise JacIOError(
            f"cannot read '{path}': the file is {state}: shape {shape} of {file_dtype} needs "
            f"{expected} bytes, the file has {file_size}"
        )
    _limit_error(path, count, dtype, max_bytes)
    flat = np.fromfile(fp, dtype=file_dtype, count=count)
    if flat.size != count:  # the file shrank since its size was checked
        raise JacIOError(f"cannot read '{path}': the file is truncated")
    return _finish(flat, shape, dtype, order="F" if fortran_order else "C")


def _npy_header(fp: io.BufferedReader, path: str) -> object:
    """The header's literal, read only after its declared length is checked."""
    magic = fp.read(len(NPY_MAGIC) + 2)
    if len(magic) < len(NPY_MAGIC) + 2 or not magic.startswith(NPY_MAGIC):
        raise JacIOError(f"cannot read '{path}': it is not a .npy file (no .npy magic bytes)")
    version = (magic[-2], magic[-1])
    if version not in ((1, 0), (2, 0), (3, 0)):
        raise JacIOError(f"cannot read '{path}': unknown .npy format version {version}")
    length_format = "<H" if version == (1, 0) else "<I"
    raw_length = fp.read(struct.calcsize(length_format))
    if len(raw_length) != struct.calcsize(length_format):
        raise JacIOError(f"cannot read '{path}': the file is truncated inside the .npy header")
    (length,) = struct.unpack(length_format, raw_length)
    if length > MAX_NPY_HEADER_BYTES:
        raise JacLimitError(
            f"cannot read '{path}': its .npy header claims {length} bytes, "
            f"over the {MAX_NPY_HEADER_BYTES} bytes jac reads"
        )
    raw = fp.read(length)
    if len(raw) != length:
        raise JacIOError(f"cannot read '{path}': the file is truncated inside the .npy header")
    try:  # literal_eval builds literals only: it calls nothing
        return ast.literal_eval(raw.decode("utf-8" if version == (3, 0) else "latin-1"))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError, UnicodeError):
        raise JacIOError(f"cannot read '{path}': its .npy header is malformed") from None


def _npy_fields(header: object, path: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    """``shape``, ``fortran_order`` and a numeric dtype from a header dict, checked."""
    if not isinstance(header, dict) or set(header) != NPY_HEADER_KEYS:
        raise JacIOError(f"cannot read '{path}': its .npy header is malformed")
    shape, fortran_order, descr = header["shape"], header["fortran_order"], header["descr"]
    if not (
        isinstance(shape, tuple)
        and all(type(d) is int and d >= 0 for d in shape)
        and isinstance(fortran_order, bool)
    ):
        raise JacIOError(f"cannot read '{path}': its .npy header is malformed")
    check_array_shape(shape, f"the array in '{path}'")
    if not isinstance(descr, str):
        raise JacValueError(f"'{path}' holds a structured array; jac reads plain numeric arrays")
    try:
        file_dtype = np.dtype(descr)
    except (TypeError, ValueError, SyntaxError):
        raise JacIOError(f"cannot read '{path}': unknown dtype {descr!r} in its header") from None
    _require_numeric_dtype(file_dtype, path)
    return shape, fortran_order, file_dtype


def _require_numeric_dtype(dtype: np.dtype, path: str) -> None:
    if dtype.hasobject:
        raise JacValueError(
            f"'{path}' contains Python objects (pickle); jac never unpickles files"
        )
    if dtype.names is not None or dtype.subdtype is not None:
        raise JacValueError(f"'{path}' holds a structured array; jac reads plain numeric arrays")
    if dtype.kind == "c":
        raise JacValueError(f"'{path}' holds complex numbers; jac works with real numbers")
    if dtype.kind not in "biuf":
        raise JacValueError(f"'{path}' holds {dtype} values, not numbers")


# ---------------------------------------------------------------------------------------
# Text: .csv, .txt, .json


def _read_text(fp: io.BufferedReader, path: str) -> str:
    size = os.fstat(fp.fileno()).st_size
    # read(n) allocates n bytes at once: ask for what the file holds (+1 to see it grow)
    data = fp.read((size or MAX_TEXT_BYTES) + 1) if size <= MAX_TEXT_BYTES else b""
    if size > MAX_TEXT_BYTES or len(data) > MAX_TEXT_BYTES:
        raise JacLimitError(
            f"cannot read '{path}': it has {max(size, len(data))} bytes, over the "
            f"{MAX_TEXT_BYTES} bytes jac reads from a text file (use .npy for large arrays)"
        )
    if not data:
        raise JacIOError(f"cannot read '{path}': the file is empty")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise JacIOError(
            f"cannot read '{path}': line {line} is not UTF-8 text "
            f"(byte 0x{data[error.start]:02x})"
        ) from None


def _data_lines(text: str) -> Iterator[tuple[int, str]]:
    """``(line number, stripped line)``, skipping blank lines and ``#`` comments; one line
    at a time, never a copy of the whole text (a StringIO holds 4 bytes per character)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    start, number = 0, 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        number += 1
        line = text[start:end].strip()
        start = end + 1
        if line and not line.startswith("#"):
            yield number, line


def _pieces(line: str, comma: bool) -> Iterator[tuple[int, str]]:
    """A long line in pieces of about PIECE_CHARS, cut between cells: ``(cells before,
    piece)``. Splitting a 50 MB line at once makes millions of strings at ~50 bytes each."""
    start, before = 0, 0
    while start <= len(line):
        cut = start + PIECE_CHARS
        if cut >= len(line):
            yield before, line[start:]
            return
        end = line.find(",", cut) if comma else _space(line, cut)
        if end < 0:
            yield before, line[start:]
            return
        piece = line[start:end]
        yield before, piece
        before += piece.count(",") + 1 if comma else len(piece.split())
        start = end + 1


def _space(line: str, at: int) -> int:
    match = _SPACE.search(line, at)
    return match.start() if match else -1


def _show(cell: str) -> str:
    return repr(cell if len(cell) <= 40 else cell[:37] + "...")


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return "_" not in cell  # float() takes "1_000"; a data file should not


def _raise_not_a_number(cells: list[str], where: str, hint: str) -> None:
    column, cell = next((i, c) for i, c in enumerate(cells, start=1) if not _is_number(c))
    what = "the cell is empty" if not cell else f"{_show(cell)} is not a number"
    raise JacValueError(f"{where}, column {column}: {what}{hint if ',' in cell else ''}")


def _read_table(
    text: str, path: str, dtype: np.dtype, max_bytes: int | None,
    split: Callable[[str], list[str]], skip_header: bool, hint: str,
) -> tuple[array.array, int, int]:
    """All numbers of a table, flat, with its number of rows and columns."""
    values, rows, width = array.array("d"), 0, 0
    for line_number, line in _data_lines(text):
        if len(line) > PIECE_CHARS:
            is_header = skip_header and not any(_is_number(cell) for cell in split(next(_pieces(line, True))[1]))
            skip_header = False
            if is_header:
                continue
            count = _read_long_line(line, split, values, f"'{path}', line {line_number}", hint)
            if rows and count != width:
                raise JacValueError(f"'{path}', line {line_number}: {count} columns, but the rows before have {width}")
            width, rows = count, rows + 1
            _limit_error(path, len(values), dtype, max_bytes)
            continue
        cells = split(line)
        is_header = skip_header and not any(_is_number(cell) for cell in cells)
        skip_header = False  # only the first line can be a header
        if is_header:
            continue
        if rows and len(cells) != width:
            raise JacValueError(
                f"'{path}', line {line_number}: {len(cells)} column{'s' * (len(cells) != 1)}, "
                f"but the rows before have {width}"
            )
        width, rows = len(cells), rows + 1
        try:  # the fast path; the loop below finds the culprit
            values.extend([float(cell) for cell in cells] if "_" not in line else ())
        except ValueError:
            pass
        if len(values) != rows * width:
            _raise_not_a_number(cells, f"'{path}', line {line_number}", hint)
        _limit_error(path, len(values), dtype, max_bytes)
    if not rows:
        raise JacValueError(f"'{path}' contains no numbers")
    return values, rows, width


def _read_long_line(line: str, split, values: array.array, where: str, hint: str) -> int:
    """The numbers of one long line appended to ``values``, a piece at a time; their count."""
    count, base = 0, len(values)
    for before, piece in _pieces(line, split is _csv_cells):
        cells = split(piece)
        try:
            values.extend([float(cell) for cell in cells] if "_" not in piece else ())
        except ValueError:
            pass
        count += len(cells)
        if len(values) - base != count:
            column, cell = next((i, c) for i, c in enumerate(cells, start=1) if not _is_number(c))
            what = "the cell is empty" if not cell else f"{_show(cell)} is not a number"
            raise JacValueError(f"{where}, column {before + column}: {what}{hint if ',' in cell else ''}")
    return count


def _csv_cells(line: str) -> list[str]:
    return [cell.strip().strip('"').strip() for cell in line.split(",")]


def _read_csv(text: str, path: str, dtype: np.dtype, max_bytes: int | None) -> np.ndarray:
    values, rows, width = _read_table(text, path, dtype, max_bytes, _csv_cells, True, "")
    return _finish(values, (rows, width), dtype)


def _read_txt(text: str, path: str, dtype: np.dtype, max_bytes: int | None) -> np.ndarray:
    hint = " (a .txt file separates numbers by spaces; use .csv for commas)"
    values, rows, width = _read_table(text, path, dtype, max_bytes, str.split, False, hint)
    if rows > 1:
        return _finish(values, (rows, width), dtype)
    return _finish(values, (width,) if width > 1 else (), dtype)


def _read_json(text: str, path: str, dtype: np.dtype, max_bytes: int | None) -> np.ndarray:
    fast = _json_lists(text)
    if fast is not None and len(fast[1]) <= MAX_NDIM:
        values, shape = fast
        _limit_error(path, len(values), dtype, max_bytes)
        return _finish(values, shape, dtype)
    try:
        data = json.loads(text, parse_constant=JSON_CONSTANTS.__getitem__)
    except json.JSONDecodeError as error:
        raise JacIOError(
            f"cannot read '{path}': not valid JSON: {error.msg} "
            f"(line {error.lineno}, column {error.colno})"
        ) from None
    except RecursionError:
        raise JacValueError(f"'{path}': the JSON is nested too deeply") from None
    except ValueError:  # an integer with more digits than Python converts (4300)
        raise JacValueError(f"'{path}': a number in it has too many digits") from None
    data = _json_unwrap(data, path)
    shape, leaves = _json_leaves(data, path)
    _limit_error(path, len(leaves), dtype, max_bytes)
    values = np.empty(len(leaves))
    for index, leaf in enumerate(leaves):
        values[index] = _json_number(leaf, path, shape, index)
    return _finish(values, shape, dtype)


_JSON_CELL = r'\s*(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|"NaN"|"Infinity"|"-Infinity")\s*'
_JSON_ROW = re.compile(rf"(?:{_JSON_CELL}(?:,{_JSON_CELL})*)?\s*")
_JSON_WRAPPER = re.compile(r'\{\s*"[A-Za-z0-9_ ]*"\s*:\s*(\[.*\])\s*\}', re.DOTALL)


def _json_lists(text: str) -> tuple | None:
    """``(flat values, shape)`` of rectangular nested lists of numbers (bare, or the one
    entry of an object), read without making a Python object per number (``json.loads``
    takes ~17 times the file); None for anything else, which :mod:`json` then reads and
    explains. Only brackets are walked one by one; the numbers of a row are checked by
    one regular expression and converted a piece at a time."""
    body = text.strip()
    wrapped = _JSON_WRAPPER.fullmatch(body) if body.startswith("{") else None
    body = wrapped.group(1) if wrapped else body
    if not body.startswith("["):
        return None
    values, lengths, stack = array.array("d"), {}, []
    leaf_level, previous, end = None, None, 0
    for bracket in re.finditer(r"[\[\]]", body):
        between, char = body[end:bracket.start()], bracket.group()
        if previous == "[" and char == "]":  # an innermost list: a row of numbers
            count = _json_row(between, values)
            if count is None or leaf_level not in (None, len(stack) - 1):
                return None
            leaf_level, stack[-1] = len(stack) - 1, count
        elif between.strip() != ("," if previous == "]" and char == "[" else ""):
            return None
        if char == "[":
            if stack:
                stack[-1] += 1
            stack.append(0)
        else:
            if not stack:
                return None
            count = stack.pop()
            if lengths.setdefault(len(stack), count) != count:
                return None
        previous, end = char, bracket.end()
    if stack or body[end:].strip() or leaf_level is None:
        return None
    shape = tuple(lengths[level] for level in range(leaf_level + 1))
    return (values, shape) if math.prod(shape) == len(values) else None


def _json_row(row: str, values: array.array) -> int | None:
    """Append the numbers of ``1, 2.5, "NaN"`` to ``values``; their count, or None."""
    count = 0
    for _, piece in _pieces(row, True):
        if not _JSON_ROW.fullmatch(piece):
            return None
        cells = [cell.strip() for cell in piece.split(",")] if piece.strip() else []
        numbers = [JSON_CONSTANTS[c[1:-1]] if c.startswith('"') else float(c) for c in cells]
        if any(math.isinf(v) and not cells[i].startswith('"') and not any(ch in cells[i] for ch in ".eE")
               for i, v in enumerate(numbers) if math.isinf(v)):
            return None  # an integer too large for a float: json's reader says so
        values.extend(numbers)
        count += len(cells)
    return count


def _json_unwrap(data: object, path: str) -> object:
    """The value of ``{"value": ...}`` (jac's own output) or of a one-entry object."""
    if not isinstance(data, dict):
        return data
    if "value" in data:
        return data["value"]
    if len(data) == 1:
        return next(iter(data.values()))
    keys = ", ".join(json.dumps(key) for key in list(data)[:5]) or "none"
    raise JacValueError(
        f"'{path}': a JSON object must have a \"value\" key or a single entry (keys: {keys})"
    )


def _json_leaves(data: object, path: str) -> tuple[tuple[int, ...], list]:
    """The shape of rectangular nested lists (from their first elements) and their leaves."""
    shape, node = [], data
    while isinstance(node, list):
        shape.append(len(node))
        if len(shape) > MAX_NDIM:
            raise JacValueError(f"'{path}': the lists are nested deeper than {MAX_NDIM} levels")
        node = node[0] if node else None
    level = [data]  # walked one depth at a time, in row-major order: no recursion
    for depth, length in enumerate(shape):
        next_level = []
        for index, node in enumerate(level):
            if not isinstance(node, list) or len(node) != length:
                raise _ragged(path, shape[:depth], index, node, length)
            next_level.extend(node)
        level = next_level
    return tuple(shape), level


def _element(shape: tuple[int, ...], index: int) -> str:
    """The JSON element path ``[2][1]`` of the ``index``-th entry of ``shape``, row-major."""
    if not shape:
        return "the value"
    return "element " + "".join(f"[{i}]" for i in np.unravel_index(index, shape))


def _describe(node: object) -> str:
    if isinstance(node, list):
        return f"a list of length {len(node)}"
    return _show(json.dumps(node))


def _ragged(path: str, outer: list[int], index: int, node: object, length: int):
    first = _element(tuple(outer), 0)
    return JacValueError(
        f"'{path}': the lists are not rectangular: {_element(tuple(outer), index)} is "
        f"{_describe(node)}, but {first} is a list of length {length}"
    )


def _json_number(leaf: object, path: str, shape: tuple[int, ...], index: int) -> float:
    if isinstance(leaf, str) and leaf in JSON_CONSTANTS:
        return JSON_CONSTANTS[leaf]
    if isinstance(leaf, (bool, int, float)):
        try:
            return float(leaf)
        except OverflowError:
            raise JacValueError(
                f"'{path}', {_element(shape, index)}: {_show(str(leaf))} is too large"
            ) from None
    if isinstance(leaf, list):
        raise JacValueError(
            f"'{path}': the lists are not rectangular: {_element(shape, index)} is "
            f"{_describe(leaf)}, but {_element(shape, 0)} is a number"
        )
    raise JacValueError(f"'{path}', {_element(shape, index)}: {_describe(leaf)} is not a number")


_TEXT_READERS = {".csv": _read_csv, ".txt": _read_txt, ".json": _read_json}


# ---------------------------------------------------------------------------------------
# .npz


def _write_npz(fp, arrays: dict[str, np.ndarray]) -> None:
    """What ``np.savez`` writes, without its keyword names (``file``) clashing with ours."""
    with zipfile.ZipFile(fp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, value in arrays.items():
            with archive.open(name + ".npy", "w", force_zip64=True) as member:
                npy_format.write_array(member, np.asarray(value), allow_pickle=False)
