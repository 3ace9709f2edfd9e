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
import errno
import io
import json
import math
import os
import stat
import struct
import zipfile
from typing import Callable, Iterator

import numpy as np
from numpy.lib import format as npy_format

from ..errors import JacIOError, JacLimitError, JacValueError

READ_SUFFIXES = (".npy", ".csv", ".txt", ".json")
WRITE_SUFFIXES = (".npy", ".npz", ".json")
MAX_TEXT_BYTES = 256 * 2**20
MAX_NPY_HEADER_BYTES = 64 * 2**10
MAX_NDIM = 64  # NumPy's own limit
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
        with _open_for_writing(path) as fp:
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
        with _open_for_writing(path) as fp:
            _write_npz(fp, arrays)
    except OSError as error:
        raise _os_error("cannot write", path, error) from None


def write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` (a picture, a DOT file); an OS error becomes a JacIOError."""
    try:
        with _open_for_writing(path) as fp:
            fp.write(data)
    except OSError as error:
        raise _os_error("cannot write", path, error) from None


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


def _open_for_writing(path: str) -> io.BufferedWriter:
    """Open ``path`` to write without ever waiting: a FIFO that nobody reads is refused at
    once (ENXIO) instead of blocking ``open()`` forever."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags, 0o666)
    except ValueError:  # an embedded NUL byte
        raise JacIOError(f"cannot write '{path}': the path contains a NUL byte") from None
    os.set_blocking(fd, True)
    return os.fdopen(fd, "wb")


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
        and len(shape) <= MAX_NDIM
        and all(type(d) is int and d >= 0 for d in shape)
        and isinstance(fortran_order, bool)
    ):
        raise JacIOError(f"cannot read '{path}': its .npy header is malformed")
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
    data = fp.read(MAX_TEXT_BYTES + 1) if size <= MAX_TEXT_BYTES else b""
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
    """``(line number, stripped line)``, skipping blank lines and ``#`` comments."""
    for number, line in enumerate(io.StringIO(text, newline=None), start=1):
        line = line.strip()
        if line and not line.startswith("#"):
            yield number, line


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


class NpyStream:
    """A ``.npy`` file of ``shape`` (C order) written block by block, for an array that need not
    fit in memory: the header first, then rows or columns as they are computed.

    Written like every file jac writes: to a temporary file beside ``path``, moved into place by
    :meth:`commit` only when complete (flushed and synced); :meth:`abort` (or an exception
    in a ``with`` block) removes it and leaves ``path`` as it was. The file is sized at once
    (sparse where the file system allows), so a full disk shows at the first block.

    >>> with NpyStream("J.npy", (2, 3), np.float64) as out:   # doctest: +SKIP
    ...     out.write_rows(0, np.ones((2, 3)))
    """

    def __init__(self, path: str, shape: tuple, dtype, rows: int | None = None):
        if _suffix(path, WRITE_SUFFIXES, "writes") != ".npy":
            raise JacIOError(f"'{path}': an array is streamed to a .npy file only")
        self.path, self.shape, self.dtype = path, tuple(int(d) for d in shape), np.dtype(dtype)
        self.rows = rows if rows is not None else self.shape[0] if self.shape else 1  # seen as (rows, -1)
        self.row_bytes = math.prod(self.shape) // max(self.rows, 1) * self.dtype.itemsize
        self.fd = None
        directory, name = os.path.split(os.path.abspath(path))
        import tempfile

        try:
            self.fd, self.tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=directory)
        except OSError as error:
            raise _os_error("cannot write", path, error) from None
        try:
            os.fchmod(self.fd, 0o666 & ~_umask())  # as open() would have made it, not mkstemp's 0600
            header = io.BytesIO()
            fields = {"descr": npy_format.dtype_to_descr(self.dtype), "fortran_order": False, "shape": self.shape}
            npy_format.write_array_header_2_0(header, fields) if _header_too_long(fields) else \
                npy_format.write_array_header_1_0(header, fields)
            self.start = header.tell()
            self._write(header.getvalue(), 0)
            os.ftruncate(self.fd, self.start + self.rows * self.row_bytes)
        except BaseException:
            self.abort()
            raise

    @property
    def nbytes(self) -> int:
        """The bytes of the file, header included."""
        return self.start + self.rows * self.row_bytes

    def write_rows(self, first: int, block: np.ndarray) -> None:
        """Rows ``first, first + 1, ...`` (along the first axis): one contiguous write."""
        block = np.ascontiguousarray(block, dtype=self.dtype)
        self._write(memoryview(block).cast("B"), self.start + first * self.row_bytes)

    def write_columns(self, first: int, block: np.ndarray) -> None:
        """Columns ``first, ...`` of the array seen as ``(rows, -1)``: ``block`` is ``(rows, k)``."""
        block = np.ascontiguousarray(block, dtype=self.dtype).reshape(self.rows, -1)
        if block.shape[1] * self.dtype.itemsize == self.row_bytes:
            self.write_rows(0, block)
            return
        offset = self.start + first * self.dtype.itemsize
        for i in range(self.rows):  # one write per row: the block's part of it is contiguous
            self._write(memoryview(block[i]).cast("B"), offset + i * self.row_bytes)

    def _write(self, data, offset: int) -> None:
        view = memoryview(data)
        try:
            while len(view):
                done = os.pwrite(self.fd, view, offset)
                view, offset = view[done:], offset + done
        except OSError as error:
            raise _os_error("cannot write", self.path, error) from None

    def commit(self) -> None:
        """Sync the file and move it into place."""
        try:
            os.fsync(self.fd)
            os.close(self.fd)
            self.fd = None
            os.replace(self.tmp, self.path)
        except OSError as error:
            self.abort()
            raise _os_error("cannot write", self.path, error) from None

    def abort(self) -> None:
        """Remove the temporary file; the target is left as it was."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        try:
            os.unlink(self.tmp)
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, kind, error, trace):
        if kind is None:
            self.commit()
        else:
            self.abort()
        return False


def _umask() -> int:
    """The process's umask, read without setting it (os.umask would, for every thread)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def _header_too_long(fields: dict) -> bool:
    """Does the header need format 2.0 (over 65,535 bytes: a shape of very many axes)?"""
    return len(repr(fields)) > 60000
