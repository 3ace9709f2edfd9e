"""The library's own exceptions.

Every error a user can cause is a :class:`JacError` with a ``kind`` from the contract
(``parse``, ``name``, ``shape``, ``value``, ``io``, ``limit``, ``usage``), a message that
says what is wrong, and, where the input has one, the 0-based character offset into
the expression (``position``). The CLI turns them into exit code 2 in one place.
"""

from __future__ import annotations


class JacError(Exception):
    """Base class: bad input that the user can fix."""

    kind = "value"

    def __init__(self, message: str, position: int | None = None, source: str | None = None):
        super().__init__(message)
        self.message = message
        self.position = position
        self.source = source
        self.value_of = None  # set by in_value: position and source are a value's (x=VALUE, --v VALUE)

    def __reduce__(self):  # pickled whole (a symbolic child process hands its errors back)
        return _restore, (type(self), self.message, dict(self.__dict__))

    def reword(self, message: str) -> "JacError":
        """Replace the message (and ``args``, which ``str(err)`` reads), as a caller that adds what it
        knows does (``f"{path}: {err.message}"``); position and source stay."""
        self.message = message
        self.args = (message,)
        return self

    def in_value(self, of: str) -> "JacError":
        """Say that ``position`` and ``source`` are those of a value given on the command line, not of the
        expression (``of``: the binding's name ``x``, or the option, ``--v``, ``--tangent x``): the caret goes
        under the value, and ``--json``'s ``"position"``, an offset into the expression, is null."""
        if self.value_of is None:
            self.value_of = of
        return self

    def with_source(self, source: str) -> "JacError":
        """Attach the text that ``position`` points into, unless one is already attached."""
        if self.source is None:
            self.source = source
        return self


def _restore(cls, message: str, state: dict) -> JacError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    error.value_of = None  # a state pickled before the attribute existed has none
    error.__dict__.update(state)
    return error


class JacParseError(JacError):
    kind = "parse"


class JacNameError(JacError):
    kind = "name"


class JacShapeError(JacError):
    kind = "shape"


class JacValueError(JacError):
    kind = "value"


class JacIOError(JacError):
    kind = "io"


class JacLimitError(JacError):
    kind = "limit"


class JacUsageError(JacError):
    kind = "usage"


class JacSuiteError(JacError):
    """A suite file (``jac run``) that cannot be run; names the case and the key.

    ``kind`` is the kind of the underlying problem: ``parse`` for TOML syntax or an
    expression that does not parse, ``name`` for an unknown input, ``value`` for a key
    of the wrong type or an unknown key, and so on.
    """

    def __init__(self, message: str, case: str | None = None, key: str | None = None, kind: str = "value",
                 position: int | None = None, source: str | None = None):
        where = ", ".join(part for part in (f"case '{case}'" if case is not None else "",
                                            f"key '{key}'" if key else "") if part)
        super().__init__(f"{where}: {message}" if where else message, position, source)
        self.case, self.key, self.kind = case, key, kind


def unknown_choice(option: str, value, choices, cls=JacUsageError, suggest: bool = True) -> JacError:
    """The refusal of an option's value that is none of its ``choices`` (``--mode revers``), with the close
    choice as argparse gives it since Python 3.12 (``difflib``, case and spaces aside):
    ``--mode must be auto, forward or reverse, not 'revers'; did you mean 'reverse'?``. ``option`` is the
    option as the caller spells it (``--dtype`` on the command line, ``dtype=`` in the Python API)."""
    words = [str(c) for c in choices]
    listed = words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"
    message = f"{option} must be {listed}, not {value!r}"
    close = close_choice(value, words) if suggest else None
    return cls(message + (f"; did you mean {close!r}?" if close else ""))


def close_choice(value, words: list) -> str | None:
    """The one of ``words`` that ``value`` was likely meant to be (``'FLOAT32'``, ``'flot32'`` → ``'float32'``), or None."""
    if not isinstance(value, str):
        return None
    import difflib

    typed = value.strip().lower()
    exact = [w for w in words if w.lower() == typed]
    found = exact or difflib.get_close_matches(typed, words, n=1)
    return found[0] if found else None


def too_large(what: str, count, dtype, limit: int, position: int | None = None,
              hint: str = "use smaller sizes (`jac shape` computes nothing and takes any size)") -> JacLimitError:
    """The refusal of an array over the memory limit, with its size in bytes and the way around it."""
    import numpy as np

    itemsize = np.dtype(dtype).itemsize
    nbytes = count * itemsize
    exact = count < 10**18
    values = f"{count:,}" if exact else _approx(count)
    size = f"{nbytes:,}" if exact else _approx(nbytes)
    return JacLimitError(f"{what} would hold {values} {np.dtype(dtype).name} values ({size} bytes), over the "
                         f"limit of {limit:,} bytes per array; {hint}", position)


def _approx(n: int) -> str:
    """``8e+308``-style text of an integer too large for a float (``float(n)`` overflows)."""
    digits = str(abs(int(n)))
    lead, exponent = int(digits[:3].ljust(3, "0")), len(digits) - 1
    if len(digits) > 3 and digits[3] >= "5":  # rounded to three digits, as "%.3g" does
        lead += 1
    if lead == 1000:
        lead, exponent = 100, exponent + 1
    text = str(lead)
    mantissa = text[0] + ("." + text[1:].rstrip("0") if text[1:].strip("0") else "")
    return f"{'-' if n < 0 else ''}{mantissa}e+{exponent:02d}"
