"""Arrays from files (bindings ``NAME=@path``) and to files (``jac eval --out FILE``).

Reading dispatches on the suffix, case-insensitively:

- ``.npy``: parsed by hand, never unpickled: object and structured dtypes are refused,
  and the header (at most 64 KiB) must agree with the file's size before any data is read.
- ``.csv``: comma-separated numbers, one row per line, always 2-d ``(rows, columns)``.
  A first line with no number in it, but words, is a header and is skipped.
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
import codecs
import contextlib
import errno
import io
import itertools
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

from ..errors import JacIOError, JacLimitError, JacUsageError, JacValueError
from ..ir.dtypes import exact_array, exact_max, needs_exact
from ..ir.shapes import MAX_RANK, check_array_shape

READ_SUFFIXES = (".npy", ".csv", ".txt", ".json")
WRITE_SUFFIXES = (".npy", ".npz", ".json")
MAX_TEXT_BYTES = 256 * 2**20
PIECE_CHARS = 2**16  # a text line longer than this is read in pieces (~1 MB of strings each)
CHUNK_BYTES = 2**18  # text files are read this much at a time
JSON_FALLBACK_BYTES = 4 * 2**20  # JSON other than nested lists of numbers is read by json (~17x) up to this size
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
            out = _TEXT_READERS[suffix](fp, path, dtype, max_bytes)
            _refuse_rounded_integers(fp, path, out)
            return out
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
    if suffix == ".json":  # checked before the file is opened: a failure leaves no file
        _refuse_shapeless(path, arrays)
        big = MarkedArrays()
        pieces = json_pieces({name: jsonable_or_marked(a, big) for name, a in arrays.items()}, big, ensure_ascii=True)
    try:
        with atomic_writer(path) as fp:
            if suffix == ".json":  # written a block at a time: never one string of the whole text
                for piece in pieces:
                    fp.write(piece.encode("utf-8"))
                fp.write(b"\n")
            elif suffix == ".npy":
                (only,) = arrays.values()
                npy_format.write_array(fp, np.asarray(only), allow_pickle=False)
            else:
                _write_npz(fp, arrays)
    except OSError as error:
        raise _os_error("cannot write", path, error) from None


def _refuse_shapeless(path: str, arrays: dict) -> None:
    """JSON's nested lists end at the first empty axis: a (0, 3) array is ``[]``, which reads back (``np.array``,
    jac's own ``x=@J.json``) as (0,). Such an array is refused rather than written at a shape it does not have;
    an empty last axis, ``[[], []]`` for (2, 0), keeps its shape and is written."""
    for name, a in arrays.items():
        shape = np.shape(a)
        if 0 in shape[:-1]:
            raise JacIOError(
                f"'{path}': {name} has shape {tuple(shape)}, which JSON's nested lists cannot hold (they stop at the "
                f"first empty axis: it would read back as {np.array(to_jsonable(np.asarray(a))).shape}); "
                "write a .npz or .npy file, or use --json, whose \"shape\" keys hold it")


def save_sparse(path: str, rows, cols, values, shape: tuple, also=None) -> None:
    """Write a 2-d sparse matrix to a ``.npz`` file in SciPy's format (COO), without SciPy:
    ``scipy.sparse.load_npz(path)`` reads it back. ``rows[k], cols[k]`` hold ``values[k]``.
    ``also``: more named arrays in the same file (``np.load(path)[name]``), which SciPy's reader skips;
    a name of SciPy's members is refused. They are the sparse matrix made dense, mostly zeros: deflated (a
    3000 x 3000 diagonal's 72 MB take about 0.1 MB), as ``np.savez_compressed`` writes them.
    """
    if _suffix(path, WRITE_SUFFIXES, "writes") != ".npz":
        raise JacIOError(f"'{path}': a sparse matrix is written to a .npz file")
    arrays = {"format": np.array(b"coo"), "shape": np.array(shape, dtype=np.int64),
              "row": np.asarray(rows, dtype=np.int64), "col": np.asarray(cols, dtype=np.int64),
              "data": np.asarray(values)}
    for name, value in (also or {}).items():
        if name in arrays:
            raise JacIOError(f"'{path}': '{name}' is a member of SciPy's sparse format, not a name for another array")
        arrays[name] = value
    try:
        with atomic_writer(path) as fp:
            _write_npz(fp, arrays, deflated=frozenset(also or ()))
    except OSError as error:
        raise _os_error("cannot write", path, error) from None


def write_bytes(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` (a picture, a DOT file); an OS error becomes a JacIOError."""
    try:
        with atomic_writer(path) as fp:
            fp.write(data)
    except OSError as error:
        raise _os_error("cannot write", path, error) from None


def check_output(path: str | None, option: str, reads=()) -> None:
    """Refuse, before any work, an output option given an empty name (``--out ''``), a
    target that is not a regular file (a FIFO, a device, a folder), or a file the command
    reads: ``reads`` holds ``(what, path)`` of each (``("input 'x'", "x.npy")``), and
    writing over one would lose it (``jac eval x*2 x=@x.npy --out x.npy``)."""
    if path is None:
        return
    if not path:
        raise JacUsageError(f"{option} '': the file name is empty; give a file name or leave {option} out")
    if path.isspace():  # --junit "$REPORT" of a blank variable: a file named ' ' is nobody's intent
        raise JacUsageError(f"{option} {path!r}: the file name is only white space; give a file name or leave "
                            f"{option} out")
    if path == "-":  # the usual spelling of standard output, which holds the report: never a file named -
        raise JacUsageError(f"{option} -: jac writes {option} to a file, not to standard output (where the "
                            f"report goes); give a file name (./- for a file named -)")
    try:  # the file system's refusal (io), naming the option as every other refusal of its value does
        target = _writable_target(path)
        _temporary_made_beside(target, path)
    except JacIOError as err:
        raise err.reword(f"{option}: {err.message}") from None
    for what, read in reads:
        if _same_file(target, read):
            raise JacUsageError(f"{option} {path}: that is the file {what} is read from, which writing "
                                f"{option} would replace; give {option} another file name")
    stream = _standard_stream(path)
    if stream:  # /dev/stdout onto a file, or --out j.npy > j.npy: the report would go to the replaced file
        raise JacUsageError(f"{option} {path}: that is the file {stream}, which writing {option} would "
                            f"replace (or make anew where it was deleted); give {option} another file name")


def _standard_stream(path: str) -> str:
    """Which standard stream of this process ``path`` is the file of ("standard output goes to"), or "".
    The kernel follows ``/dev/stdout`` → ``/proc/self/fd/1`` to the open file itself, which ``realpath``
    cannot (a deleted file's link reads ``/tmp/#123 (deleted)``), so the two are compared by device and inode."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return ""
    if not stat.S_ISREG(info.st_mode):
        return ""
    for fd, what in ((1, "standard output goes to"), (2, "standard error goes to"), (0, "standard input reads")):
        try:
            mine = os.fstat(fd)
        except OSError:  # closed
            continue
        if (mine.st_dev, mine.st_ino) == (info.st_dev, info.st_ino):
            return what
    return ""


def _temporary_made_beside(target: str, path: str) -> None:
    """Refuse, before any work, a target whose folder takes no temporary file (/proc, a read-only mount, a name too
    long for the temporary file's prefix): :func:`atomic_writer` would fail only once the work was done, after
    a ``jac run`` had printed its cases. The file made to try is removed at once."""
    folder, name = os.path.split(target)
    probe = os.path.join(folder, f".{name}.{secrets.token_hex(6)}.probe")  # its own suffix: no write's temporary
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    not_created = False
    try:  # one try from the open on, as atomic_writer's: a Ctrl-C just after os.open returns still removes it
        try:
            fd = os.open(probe, flags, 0o600)
        except OSError as error:
            not_created = True
            failed = _os_error("cannot write", path, error)
            raise JacIOError(f"{failed.message} (making the temporary file beside it, which is renamed over it "
                             f"when complete)") from None
        os.close(fd)
    finally:
        if not not_created:
            with contextlib.suppress(OSError):
                os.unlink(probe)


def _same_file(target: str, read: str) -> bool:
    """Whether ``read`` names the existing file ``target`` (through links, hard links included)."""
    try:
        mine, theirs = os.stat(target), os.stat(read)
    except (OSError, ValueError):  # either missing (nothing to lose; a missing input is its reader's error)
        return False
    return (mine.st_dev, mine.st_ino) == (theirs.st_dev, theirs.st_ino)


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


JSON_BLOCK_ELEMENTS = 512  # elements of a large array turned into JSON text at a time (about 0.1 MB in flight)


class MarkedArrays(list):
    """The large arrays of one JSON text, in the order their markers were made; ``nonce`` makes
    the markers of this text unlike any string a report could hold."""

    def __init__(self):
        super().__init__()
        self.nonce = secrets.token_hex(8)


def jsonable_or_marked(value, big: MarkedArrays) -> object:
    """:func:`to_jsonable` of ``value``, or, for an array of more than ``JSON_BLOCK_ELEMENTS``
    elements, a marker string standing for it (the array appended to ``big``), which
    :func:`json_pieces` replaces by the array's text written a block of rows at a time. A dtype
    JSON cannot hold is refused here, before any text is written."""
    a = np.asarray(value)
    if a.size <= JSON_BLOCK_ELEMENTS:
        return to_jsonable(a)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"cannot write {a.dtype} values as JSON numbers")
    big.append(a)
    return f"\x00jac-json-array-{len(big) - 1}-{big.nonce}"


def json_pieces(data, big: MarkedArrays, ensure_ascii: bool = False) -> Iterator[str]:
    """Pieces whose concatenation is ``json.dumps(D, ensure_ascii=..., allow_nan=False)``, D being
    ``data`` with each marker of :func:`jsonable_or_marked` replaced by ``to_jsonable`` of its array:
    the same text, byte for byte, but no array's nested lists nor its whole text is ever made (a
    block of ``JSON_BLOCK_ELEMENTS`` elements at a time, a float's text ``float.__repr__``'s as in
    ``json.dumps``). The small parts are made first: nothing fails once the first piece is out."""
    text = json.dumps(data, ensure_ascii=ensure_ascii, allow_nan=False)
    if not big:
        return iter((text,))
    parts = re.split(r'"\\u0000jac-json-array-(\d+)-%s"' % big.nonce, text)  # text, index, text, ... text
    if len(parts) != 2 * len(big) + 1 or [int(i) for i in parts[1::2]] != list(range(len(big))):
        raise AssertionError("a JSON array marker was not found where it was put")  # a string held the marker
    return _marked_pieces(parts, big)


def _marked_pieces(parts: list, big: list) -> Iterator[str]:
    for k, part in enumerate(parts):
        if k % 2 == 0:
            yield part
        else:
            yield from _array_pieces(big[int(part)])


def _array_pieces(a: np.ndarray) -> Iterator[str]:
    """The text of ``json.dumps(to_jsonable(a))``, a block of leading rows at a time; a row itself
    bigger than a block is written row by row of its own (depth at most ``a.ndim``)."""
    if a.ndim == 0 or a.size <= JSON_BLOCK_ELEMENTS:
        yield json.dumps(to_jsonable(a), allow_nan=False)
        return
    per_row = a.size // a.shape[0]
    yield "["
    if per_row <= JSON_BLOCK_ELEMENTS:
        step = JSON_BLOCK_ELEMENTS // per_row
        for start in range(0, a.shape[0], step):
            text = json.dumps(to_jsonable(a[start:start + step]), allow_nan=False)
            yield f", {text[1:-1]}" if start else text[1:-1]
    else:
        for i in range(a.shape[0]):
            if i:
                yield ", "
            yield from _array_pieces(a[i])
    yield "]"


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
    temp = os.path.join(folder, f".{name}.{secrets.token_hex(6)}.tmp")
    not_created = False
    try:  # one try from the open on: a Ctrl-C just after os.open returns still removes the file
        try:
            fd = os.open(temp, flags, 0o666)  # 0o666 minus the umask, as open() would create it
        except OSError as error:
            not_created = True
            failed = _os_error("cannot write", path, error)  # /proc/version: a file whose folder takes no new one
            raise JacIOError(f"{failed.message} (making the temporary file beside it, which is renamed over it "
                             f"when complete)") from None
        with os.fdopen(fd, "wb") as fp:
            _keep_mode(target, fd)
            yield fp
            fp.flush()
            os.fsync(fp.fileno())
        os.replace(temp, target)
    except BaseException:
        if not not_created:
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
    except FileNotFoundError:  # a new file: its folder must exist and take it (known before any work, not after)
        with contextlib.suppress(OSError):  # /dev/stdout onto a pipe: realpath ends at /proc/PID/fd/pipe:[N],
            _require_regular(os.stat(path), path, "cannot write")  # which the kernel follows and realpath cannot
        folder = os.path.dirname(target)
        if not os.path.isdir(folder):
            where = f"it is a symbolic link to '{os.readlink(path)}', whose folder '{folder}'" if os.path.islink(path) \
                else f"the folder '{os.path.dirname(path)}'"  # dangling.json -> /gone/x.json: not the folder ''
            raise JacIOError(f"cannot write '{path}': no such file or directory ({where} does not exist)") from None
        if not os.access(folder, os.W_OK | os.X_OK):
            raise JacIOError(f"cannot write '{path}': permission denied (the folder is not writable)") from None
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
    if error.errno == errno.EFBIG:
        reason = "the file would pass the file size limit (ulimit -f)"
    if error.errno == errno.ELOOP:  # loop.json -> loop.json
        reason = "its symbolic links form a loop (too many levels of symbolic links)"
    short = re.fullmatch(r"(\d+) requested and (\d+) written", reason) if error.errno is None else None
    if short:  # NumPy's tofile stopped short and lost the errno
        reason = (f"the disk is full (or the file size limit was reached): {int(short[2]):,} of "
                  f"{int(short[1]):,} bytes written")
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
    flat = np.frombuffer(values, dtype=np.float64) if isinstance(values, array.array) else np.asarray(values)
    with np.errstate(over="ignore"):  # a float64 beyond float32's range becomes inf
        out = flat.reshape(shape, order=order).astype(dtype, order="C", copy=False)
    # text read into an array of doubles is used in place (no second copy); it must be writable
    return out if out.flags.writeable else out.copy()


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
    if needs_exact(file_dtype):  # an int64 past 2**53, a long double 0.1: refused, never rounded
        exact_array(flat, f"'{path}'", dtype)
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


def _text_chunks(fp: io.BufferedReader, path: str) -> Iterator[str]:
    """The file's text, decoded, about CHUNK_BYTES at a time (never the whole file: the bytes
    and their str would be twice its size), with ``\r\n`` and ``\r`` read as ``\n``."""
    size = os.fstat(fp.fileno()).st_size
    if size > MAX_TEXT_BYTES:
        raise _text_too_large(path, size)
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    total, lines, held = 0, 0, ""
    while True:
        raw = fp.read(CHUNK_BYTES)
        total += len(raw)
        if total > MAX_TEXT_BYTES:  # it grew while read
            raise _text_too_large(path, total)
        if not total:
            raise JacIOError(f"cannot read '{path}': the file is empty")
        try:
            text = held + decoder.decode(raw, final=not raw)
        except UnicodeDecodeError as error:
            line = lines + error.object.count(b"\n", 0, error.start) + 1
            raise JacIOError(f"cannot read '{path}': line {line} is not UTF-8 text "
                             f"(byte 0x{error.object[error.start]:02x})") from None
        held = "\r" if raw and text.endswith("\r") else ""  # a "\r\n" cut in two stays one line end
        text = text[:-1] if held else text
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines += text.count("\n")
        if text:
            yield text
        if not raw:
            return


_INTEGER_TOKEN = re.compile(r"(?<![\w.+-])[-+]?\d+(?![\w.])")  # 16777217, not 1.5, 1e20, 2e-16777217
_TOKEN_TAIL = re.compile(r"[-+]?\d*$")


def _refuse_rounded_integers(fp: io.BufferedReader, path: str, out: np.ndarray) -> None:
    """Refuse an integer of a text file that ``out``'s dtype holds only rounded (``9007199254740993`` in float64,
    ``16777217`` in float32), as a binding's literal and a ``.npy`` of integers are (``ir/dtypes.exact_literal``):
    the file would be read as another number, silently. Only a file with a value at or past the dtype's exact
    integers (2**53, 2**24) is read again, for its integer tokens; ``16777217.0``, a float, is rounded as floats are."""
    limit = exact_max(out.dtype)
    flat = out.reshape(-1)
    if not flat.size or max(abs(np.fmax.reduce(flat)), abs(np.fmin.reduce(flat))) < limit:  # no temporaries
        return  # (NaN everywhere compares False too)
    with np.errstate(invalid="ignore"):
        suspects = flat[np.isfinite(flat) & (np.abs(flat) >= limit)]
    if not suspects.size:
        return
    held, digits = set(suspects.tolist()), len(str(limit))
    fp.seek(0)
    carry, lines = "", 1
    for chunk in itertools.chain(_text_chunks(fp, path), [""]):
        text = carry + chunk
        cut = _TOKEN_TAIL.search(text).start() if chunk else len(text)  # a number cut by the chunk's end waits
        text, carry = text[:cut], text[cut:]
        for found in _INTEGER_TOKEN.finditer(text):
            token = found.group()
            if not digits <= len(token.lstrip("+-")) <= 308:  # shorter: exact; longer: past a float's range
                continue
            value = int(token)
            with np.errstate(over="ignore"):  # past float32's range: inf, which the input's warning names
                rounded = float(out.dtype.type(float(value)))
            if rounded in held and math.isfinite(rounded) and int(rounded) != value:
                line = lines + text.count("\n", 0, found.start())
                raise JacValueError(f"'{path}', line {line}: the integer {token}, which {out.dtype} cannot hold "
                                    f"exactly (beyond 2**{np.finfo(out.dtype).nmant + 1}): jac holds every value "
                                    f"in --dtype, so it refuses rather than round (write {token}.0 to accept the "
                                    "rounding of a float)")
        lines += text.count("\n")


def _text_too_large(path: str, size: int) -> JacLimitError:
    return JacLimitError(f"cannot read '{path}': it has {size} bytes, over the {MAX_TEXT_BYTES} bytes jac reads "
                         "from a text file (use .npy for large arrays)")


def _line_pieces(chunks: Iterator[str], cut: Callable[[str], int]) -> Iterator[tuple[int, str, bool, bool]]:
    """``(line number, piece, first, last)``: every line of the text, a long one in pieces
    cut by ``cut(text)`` (the index of the last separator, which is dropped; -1: none), so
    that no piece holds more than about CHUNK_BYTES characters and no cell is cut in two."""
    number, carry, first = 1, "", True
    for text in chunks:
        text, start = carry + text, 0
        while True:
            end = text.find("\n", start)
            if end < 0:
                break
            yield number, text[start:end], first, True
            number, first, start = number + 1, True, end + 1
        carry = text[start:]
        if len(carry) > PIECE_CHARS:
            at = cut(carry)
            if at > 0:
                yield number, carry[:at], first, False
                first, carry = False, carry[at + 1:]
    if carry or not first:
        yield number, carry, first, True


def _last_comma(text: str) -> int:
    return text.rfind(",")


def _last_space(text: str) -> int:
    return max(text.rfind(" "), text.rfind("\t"))


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


def _numeric(cell: str) -> bool:
    """A number, or one written with a decimal comma (``1,5``): no header cell (refused as not a
    number once read as a row, with the hint, instead of skipped as a header)."""
    return _is_number(cell) or ("," in cell and _is_number(cell.replace(",", ".", 1)))


def _raise_not_a_number(cells: list[str], where: str, hint: str) -> None:
    column, cell = next((i, c) for i, c in enumerate(cells, start=1) if not _is_number(c))
    what = "the cell is empty" if not cell else f"{_show(cell)} is not a number"
    raise JacValueError(f"{where}, column {column}: {what}{_hint_for(cell, hint)}")


def _hint_for(cell: str, hint: str) -> str:
    """What the file's own separators suggest of a cell that is not a number: a decimal comma, or in a .csv
    cells separated by semicolons or tabs (as a spreadsheet in some locales exports them)."""
    if ',' in cell:
        return hint
    if hint is CSV_HINT and re.fullmatch(r"[-+.0-9eE]+(?:\s*[;\t]\s*[-+.0-9eE]+)+", cell.strip()):
        return (" (a .csv file separates its cells by commas, and this one by "
                f"{'semicolons' if ';' in cell else 'tabs'}: write commas, or save it as .txt, whose numbers are "
                "separated by spaces or tabs)")
    return ""


def _read_table(
    fp: io.BufferedReader, path: str, dtype: np.dtype, max_bytes: int | None,
    split: Callable[[str], list[str]], skip_header: bool, hint: str,
) -> tuple[array.array, int, int]:
    """All numbers of a table, flat, with its number of rows and columns; the file is read
    in chunks and each line's numbers go straight into one array of doubles."""
    values, rows, width = array.array("d"), 0, 0
    comma = split is _csv_cells
    state = None  # a long line in progress: [cells so far], or "skip" (a comment, a header)
    blank = False  # the pieces of this long line so far were blank: the next one is its start
    try:
        lines = _line_pieces(_text_chunks(fp, path), _last_comma if comma else _last_space)
        for line_number, piece, first, last in lines:
            where = f"'{path}', line {line_number}"
            first, blank = first or blank, False
            if first and last:
                line = piece.strip()
                if not line or line.startswith("#"):
                    continue
                if len(line) > PIECE_CHARS:
                    state = _long_line_start(line, split, skip_header)
                    skip_header = False
                    count = 0 if state == "skip" else _read_long_line(line, split, values, where, hint)
                else:
                    cells = split(line)
                    # a header names its columns: a line of digits and separators (1;2;3) is a row, refused
                    is_header = skip_header and not any(_numeric(cell) for cell in cells) \
                        and any(ch.isalpha() for ch in line)
                    skip_header = False  # only the first line can be a header
                    if is_header:
                        continue
                    if rows and len(cells) != width:  # before the numbers: a short row is named as such
                        raise _width_error(where, len(cells), width)
                    try:  # the fast path; the loop below finds the culprit
                        values.extend([float(cell) for cell in cells] if "_" not in line else ())
                    except ValueError:
                        pass
                    if len(values) != rows * width + len(cells):
                        _raise_not_a_number(cells, where, hint)
                    count = len(cells)
                if state == "skip":
                    state = None
                    continue
            else:  # a long line, in pieces
                if first:
                    piece = piece.lstrip()
                    if not piece and not last:
                        blank = True
                        continue
                    if not piece or piece.startswith("#"):
                        state = None if last else "skip"
                        continue
                    state = _long_line_start(piece, split, skip_header)
                    skip_header = False
                    state = "skip" if state == "skip" else [0]
                if state == "skip":
                    state = None if last else state
                    continue
                state[0] += _read_long_line(piece.rstrip() if last else piece, split, values, where, hint, state[0])
                if not last:
                    _limit_error(path, len(values), dtype, max_bytes)
                    continue
                count, state = state[0], None
            if rows and count != width:  # a long line's count is known only once it is read
                raise _width_error(where, count, width)
            width, rows = count, rows + 1
            _limit_error(path, len(values), dtype, max_bytes)
    except _MalformedQuotes:
        raise JacValueError(f"{where}: a cell's quotes are malformed (a quote not closed on its line, or "
                            "text beside a quoted part); jac reads a cell as one number, quoted whole "
                            "(\"1.5\") or not") from None
    if not rows:
        raise JacValueError(f"'{path}' contains no numbers")
    return values, rows, width


def _width_error(where: str, count: int, width: int) -> JacValueError:
    return JacValueError(f"{where}: {count} column{'s' * (count != 1)}, but the rows before have {width}")


def _long_line_start(start: str, split, skip_header: bool):
    """``"skip"`` when the long line that begins with ``start`` is a header, else None."""
    header = skip_header and not any(_numeric(cell) for cell in split(next(_pieces(start, True))[1]))
    return "skip" if header else None


def _read_long_line(line: str, split, values: array.array, where: str, hint: str, before0: int = 0) -> int:
    """The numbers of one long line (or a piece of it, after ``before0`` cells) appended to
    ``values``, a piece at a time; their count."""
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
            raise JacValueError(f"{where}, column {before0 + before + column}: {what}{_hint_for(cell, hint)}")
    return count


def _csv_cells(line: str) -> list[str]:
    if '"' not in line:
        return [cell.strip() for cell in line.split(",")]
    return _quoted_cells(line)


class _MalformedQuotes(ValueError):
    """A CSV line whose quotes do not enclose whole cells (``_read_table`` names the line)."""


_CSV_CELL = re.compile(r'\s*(?:"([^"]*)"|([^,"]*?))\s*(,|$)')


def _quoted_cells(line: str) -> list[str]:
    """The cells of a CSV line with quotes, as the CSV format reads them: a comma inside quotes
    is part of its cell, so ``"1,5"`` is one cell (a decimal comma, refused as not a number),
    never the two numbers 1 and 5. A cell is quoted whole or not at all; anything else (a quote
    not closed on the line, ``"1"2``) is :class:`_MalformedQuotes`."""
    cells, at = [], 0
    while True:
        match = _CSV_CELL.match(line, at)
        if match is None:
            raise _MalformedQuotes(line)
        quoted, plain, comma = match.groups()
        cells.append((plain if quoted is None else quoted).strip())
        if not comma:
            return cells
        at = match.end()


CSV_HINT = " (a quoted cell holds a comma: jac reads numbers with a decimal point, 1.5, and commas only between cells)"


def _read_csv(fp: io.BufferedReader, path: str, dtype: np.dtype, max_bytes: int | None) -> np.ndarray:
    values, rows, width = _read_table(fp, path, dtype, max_bytes, _csv_cells, True, CSV_HINT)
    return _finish(values, (rows, width), dtype)


def _read_txt(fp: io.BufferedReader, path: str, dtype: np.dtype, max_bytes: int | None) -> np.ndarray:
    hint = " (a .txt file separates numbers by spaces; use .csv for commas)"
    values, rows, width = _read_table(fp, path, dtype, max_bytes, str.split, False, hint)
    if rows > 1:
        return _finish(values, (rows, width), dtype)
    return _finish(values, (width,) if width > 1 else (), dtype)


def _read_json(fp: io.BufferedReader, path: str, dtype: np.dtype, max_bytes: int | None) -> np.ndarray:
    walk = _JsonWalk(path, dtype, max_bytes)
    for piece in _json_pieces(_text_chunks(fp, path)):
        if not walk.feed(piece):
            break
    found = walk.finish()
    if found is not None:
        values, shape = found
        return _finish(values, shape, dtype)
    size = os.fstat(fp.fileno()).st_size
    if size > JSON_FALLBACK_BYTES:  # json.loads would take ~17 times the file
        raise JacValueError(f"'{path}', line {walk.line}: {walk.why}; a JSON file over "
                            f"{JSON_FALLBACK_BYTES // 2**20} MiB is read only as nested lists of numbers "
                            "(rectangular, at most 32 deep, optionally the one entry of an object); "
                            "save a large array as .npy")
    fp.seek(0)
    text = "".join(_text_chunks(fp, path))  # decoded as the walk read it, with its error for a byte not UTF-8
    return _read_json_text(text, path, dtype, max_bytes)


JSON_MAX_DEPTH = 512  # arrays and objects inside each other that json.loads is given


def _read_json_text(text: str, path: str, dtype: np.dtype, max_bytes: int | None) -> np.ndarray:
    """A small JSON file that is not plain nested lists: :mod:`json` reads it and explains.

    Its nesting is measured first: json's C parser recurses once per level on the caller's
    stack and stops only at the recursion limit, which is the whole process's (a thread of
    :func:`~jacobi_cli.lang.deep.with_deep_stack` raises it meanwhile): 200,000 levels then
    overflow an 8 MiB stack (a segfault, seen in a test run) instead of raising RecursionError."""
    depth = _json_depth(text)
    if depth > JSON_MAX_DEPTH:
        raise JacValueError(f"'{path}': the JSON is nested too deeply ({depth:,} levels; at most "
                            f"{JSON_MAX_DEPTH})")
    try:
        data = json.loads(text, parse_constant=JSON_CONSTANTS.__getitem__, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as error:
        raise JacIOError(
            f"cannot read '{path}': not valid JSON: {error.msg} "
            f"(line {error.lineno}, column {error.colno})"
        ) from None
    except _DuplicateKey as error:
        raise JacValueError(f"'{path}': the key {json.dumps(error.args[0])} appears twice in one object: "
                            "which value is meant? (json.loads would keep the last one silently)") from None
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


class _DuplicateKey(ValueError):
    """A JSON object holding one key twice (its first argument)."""


def _unique_keys(pairs: list) -> dict:
    """``json.loads``'s ``object_pairs_hook``: the object, refused when a key appears twice
    (``{"x": [1], "x": [2]}``: JSON leaves it open which one counts)."""
    data = dict(pairs)
    if len(data) != len(pairs):
        seen = set()
        raise _DuplicateKey(next(key for key, _ in pairs if key in seen or seen.add(key)))
    return data


_JSON_CELL = r'\s*(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|"NaN"|"Infinity"|"-Infinity")\s*'
_JSON_ROW = re.compile(rf"(?:{_JSON_CELL}(?:,{_JSON_CELL})*)?\s*")
_JSON_WRAPPER = re.compile(r'\s*\{\s*"[A-Za-z0-9_ ]*"\s*:\s*')
_JSON_BRACKET = re.compile(r"[\[\]]")


def _json_pieces(chunks: Iterator[str]) -> Iterator[str]:
    """The text in pieces of at most about PIECE_CHARS, each cut just before a comma or a
    bracket, so that no number is cut in two (a piece may start with the comma)."""
    carry = ""
    for text in chunks:
        text = carry + text
        start = 0
        while len(text) - start > PIECE_CHARS:
            stop = start + PIECE_CHARS
            cut = max(text.rfind(",", start + 1, stop), text.rfind("[", start + 1, stop), text.rfind("]", start + 1, stop))
            if cut < 0:  # no separator in a whole piece: take the next one after it
                found = [i for i in (text.find(c, stop) for c in ",[]") if i >= 0]
                if not found:
                    break
                cut = min(found)
            yield text[start:cut]
            start = cut
        carry = text[start:]
    if carry:
        yield carry


class _JsonWalk:
    """Nested lists of numbers read as they stream past, without a Python object per number
    (``json.loads`` takes ~17 times the file): the brackets give the shape, the numbers of each
    innermost list go into one array of doubles. ``finish()`` is ``(values, shape)``, or None
    with ``why`` and ``line`` saying what is not plain nested lists of numbers."""

    def __init__(self, path: str, dtype, max_bytes):
        self.path, self.dtype, self.max_bytes = path, dtype, max_bytes
        self.values, self.lengths, self.stack = array.array("d"), {}, []
        self.leaf_level, self.previous = None, None
        self.row = None  # cells of the list opened last, while no bracket has followed
        self.between = ""  # what stands between two brackets outside a row, stripped
        self.line, self.why = 1, None
        self.started, self.wrapped, self.done = False, False, False

    def fail(self, why: str) -> bool:
        self.why = self.why or why
        return False

    def feed(self, piece: str) -> bool:
        if not self.started:
            piece = self._start(piece)
            if piece is None:
                return False
        end = 0
        for match in _JSON_BRACKET.finditer(piece):
            if not self._text(piece[end:match.start()]) or not self._bracket(match.group()):
                return False
            end = match.end()
        ok = self._text(piece[end:])
        self.line += piece.count("\n")
        return ok

    def _start(self, piece: str):
        stripped = piece.lstrip()
        if not stripped:
            return ""
        self.started = True
        if stripped.startswith("{"):
            match = _JSON_WRAPPER.match(piece)
            if not match:
                return self.fail("an object other than one entry holding the lists") or None
            self.wrapped = True
            return piece[match.end():]
        if not stripped.startswith("["):
            return self.fail("it is not a list of numbers") or None
        return piece

    def _text(self, text: str) -> bool:
        if not text:
            return True
        if self.done:  # after the outermost list: nothing, or the wrapper's closing brace
            rest = self.between + text.strip()
            self.between = rest
            if rest in ("", "}") and (self.wrapped or rest == ""):
                return True
            return self.fail("the object holds more than one entry" if self.wrapped and rest.startswith(",")
                             else "there is more after the lists")
        if self.row is not None:  # inside an innermost list (so far)
            if self.row and text.lstrip().startswith(","):  # the rest of a long row
                text = text.lstrip()[1:]
                if not text.strip():
                    return self.fail("a list has an empty element")
            elif self.row:
                return self.fail("a list holds something that is not a number")
            count = _json_row(text, self.values)
            if count is None:
                return self.fail("a list holds something other than numbers")
            self.row += count
            if self.max_bytes is not None and len(self.values) * self.dtype.itemsize > self.max_bytes:
                _limit_error(self.path, len(self.values), self.dtype, self.max_bytes)
            return True
        self.between += text.strip()
        return len(self.between) <= 1 or self.fail("something other than a comma stands between two lists")

    def _bracket(self, char: str) -> bool:
        if self.done:
            return self.fail("the object holds more than one entry" if self.wrapped and self.between.startswith(",")
                             else "there is more after the lists")
        if char == "[":
            if self.row:  # numbers, then a list: not rectangular
                return self.fail("a list holds both numbers and lists")
            if self.previous == "]" and self.between != ",":
                return self.fail("two lists are not separated by a comma")
            if self.previous is not None and not self.stack:
                return self.fail("there is more after the lists")
            if self.stack:
                self.stack[-1] += 1
            self.stack.append(0)
            if len(self.stack) > MAX_NDIM:
                return self.fail(f"the lists are nested deeper than {MAX_NDIM} levels")
            self.row = 0
        else:
            if not self.stack:
                return self.fail("a ] closes no list")
            if self.row is not None:  # an innermost list: a row of numbers
                if self.leaf_level not in (None, len(self.stack) - 1):
                    return self.fail("the lists are not rectangular (numbers at different depths)")
                self.leaf_level, self.stack[-1] = len(self.stack) - 1, self.row
            elif self.between:
                return self.fail("a list ends with a comma")
            count = self.stack.pop()
            if self.lengths.setdefault(len(self.stack), count) != count:
                return self.fail("the lists are not rectangular (lists of different lengths)")
            self.row = None
            self.done = not self.stack
        self.previous, self.between = char, ""
        return True

    def finish(self):
        if self.why is not None:
            return None
        if not self.done or self.stack or self.leaf_level is None or (self.wrapped and self.between != "}"):
            self.fail("the lists are not closed" if not self.done else "the object is not closed")
            return None
        shape = tuple(self.lengths[level] for level in range(self.leaf_level + 1))
        if math.prod(shape) != len(self.values):
            self.fail("the lists are not rectangular")
            return None
        return self.values, shape


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


# A string, or an unterminated one up to the end: every match succeeds in one forward pass, so the
# scan is linear (a pattern that failed on an unterminated string was retried from each later
# quote: 40 KB of \" took 10 s)
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*(?:"|\\?\Z)')


def _json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in ``text`` (brackets inside strings skipped;
    a stray bracket or an unterminated string only miscounts text that json refuses anyway)."""
    raw = np.frombuffer(_JSON_STRING.sub("", text).encode("utf-8"), dtype=np.uint8)
    if raw.size == 0:
        return 0
    steps = ((raw == ord("[")) | (raw == ord("{"))).astype(np.int32) - ((raw == ord("]")) | (raw == ord("}")))
    return int(np.cumsum(steps).max())


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


def _write_npz(fp, arrays: dict[str, np.ndarray], deflated=frozenset()) -> None:
    """What ``np.savez`` writes, without its keyword names (``file``) clashing with ours; the members named in
    ``deflated`` compressed (zlib, level 1), as ``np.savez_compressed`` writes them (``np.load`` reads both).

    The archive is closed only when every member is written; on any exception (a Ctrl-C
    among them) it is abandoned and the caller removes the temporary file.
    """
    archive = _Archive(fp, "w", compression=zipfile.ZIP_STORED, allowZip64=True)
    for name, value in arrays.items():
        # ZipFile.open("w") takes the archive's compression as it is when the member is opened
        archive.compression = zipfile.ZIP_DEFLATED if name in deflated else zipfile.ZIP_STORED
        archive.compresslevel = 1 if name in deflated else None
        with archive.open(name + ".npy", "w", force_zip64=True) as member:
            npy_format.write_array(member, np.asarray(value), allow_pickle=False)
    archive.close()


class _Archive(zipfile.ZipFile):
    """A ZipFile that is never closed by the garbage collector. ``ZipFile.__del__`` closes an
    abandoned archive, and a Ctrl-C can leave one half made: inside ``__init__`` before
    ``_writing`` exists, or inside ``open`` after the archive is marked busy but before the
    member is returned. Closing it then raises, printed as "Exception ignored ... Traceback"
    after the quiet exit 130 (both seen in CI runs of tests/test_signals.py)."""

    def __del__(self):
        pass


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
            try:  # past a file size limit (ulimit -f): EFBIG here, before any block is computed
                os.ftruncate(self.fd, self.start + self.rows * self.row_bytes)
            except OSError as error:
                raise _os_error("cannot write", path, error) from None
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
