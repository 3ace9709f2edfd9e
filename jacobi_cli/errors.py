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


# The Python API's words for the command line's: a library function raises its errors naming the options as the
# command line spells them (``--wrt z: no input named 'z' is bound``); an API entry point (``tools/api.py``'s
# functions, a compiled function's calls: ``api_words``) gives them in the keywords its caller wrote
# (``wrt=['z']: ...``). The option → (keyword, how its value is written: a list of names, a dict by input name,
# v, a string, a value as it is).
API_KEYWORDS = {"--wrt": ("wrt", "names"), "--batch": ("batch", "names"), "--tangent": ("tangents", "mapping"),
                "--at": ("at", "mapping"), "--v": ("v", "v"), "--dtype": ("dtype", "text"),
                "--mode": ("mode", "text"), "--layout": ("layout", "text"), "--seed": ("seed", "value"),
                "--order": ("order", "value"), "--max-memory": ("max_memory", "value"),
                "--timeout": ("timeout", "value")}
# the commands a message sends the reader to, as the API's functions
API_COMMANDS = {"jac eval": "jacobian()", "jac vjp": "vjp()", "jac jvp": "jvp()", "jac hessian": "hessian()",
                "jac derivative": "derivative()", "jac diff": "diff()"}
# what the command line's grammar says, as the API's (an option repeated is a list there)
API_PHRASES = {"takes one name and is repeated": "takes a list of names"}
_PLACEHOLDERS = ("VALUE", "NAME", "OUT", "V", "K")  # what messages write in place of a value (--v VALUE, --order K)
_OPTION_NAMES = "|".join(sorted((o[2:] for o in API_KEYWORDS), key=len, reverse=True))


def api_words(message: str) -> str:
    """``message`` with the command line's options in the Python API's keywords: ``--wrt z`` → ``wrt=['z']``,
    ``--wrt a --wrt b`` → ``wrt=['a', 'b']``, ``--tangent x`` → ``tangents['x']``, ``--v OUT=VALUE`` →
    ``v={'OUT': VALUE}``, ``--v ones`` → ``v='ones'``, ``--dtype float32`` → ``dtype='float32'``,
    ``--max-memory`` → ``max_memory=``; ``jac hessian`` → ``hessian()``. Idempotent (nothing of the command
    line's is left to change); options the API has no keyword for (``--json``, ``--out``) stay as they are."""
    import re

    option = re.compile(r"--(" + _OPTION_NAMES + r")\b(?!-)"
                        r"(?: ('[^']*'|\"[^\"]*\"|(?:[^\s,;:()'\"]|,(?=\S))+))?(?P<after>(?=[:;,)]|\s--|$))?")
    repeated = re.compile(r"--(wrt|batch) ([^\s,;:()'\"]+)(?: --\1 [^\s,;:()'\"]+)+")
    message = repeated.sub(lambda m: _names_list(m), message)
    out, at = [], 0
    for m in option.finditer(message):
        out.append(message[at:m.start()])
        out.append(_keyword(m))
        at = m.end(2) if m.group(2) is not None and _is_value(m) else m.end(1)
    out.append(message[at:])
    text = "".join(out)
    for phrase, spoken in API_PHRASES.items():
        text = text.replace(phrase, spoken)
    for command, function in API_COMMANDS.items():
        text = re.sub(re.escape(command) + r"\b", function, text)
    return text


def _names_list(m) -> str:
    import re

    keyword = API_KEYWORDS["--" + m.group(1)][0]
    names = re.findall(r"--" + m.group(1) + r" ([^\s,;:()'\"]+)", m.group(0))
    return f"{keyword}={names!r}"


def _is_value(m) -> bool:
    token = m.group(2)
    if token is None:
        return False
    return (token[0] in "'\"" or token.isupper() or any(c in token for c in "=[@.") or
            any(c.isdigit() for c in token) or m.group("after") is not None or token == "ones")


def _keyword(m) -> str:
    """The API's spelling of one option (and its value, when it has one)."""
    keyword, form = API_KEYWORDS["--" + m.group(1)]
    if not _is_value(m):  # in --v: ... → in v: ...; raise --max-memory → raise max_memory=
        return keyword if m.string.startswith(":", m.end(1)) else f"{keyword}="
    token = m.group(2)
    text = token[1:-1] if token[0] in "'\"" and len(token) > 1 else token
    # a message's placeholder, written as it is; a name (an input A, W) is a name: NAME alone where names go
    placeholders = ("NAME",) if form in ("names", "mapping") else _PLACEHOLDERS
    placeholder = text in placeholders
    if form == "names":
        return f"{keyword}=[{text}]" if placeholder else f"{keyword}={[text]!r}"
    if form == "mapping" or (form == "v" and "=" in text):
        name, sep, value = text.partition("=")
        shown = name if name in placeholders else repr(name)
        return f"{keyword}={{{shown}: {value}}}" if sep else f"{keyword}[{shown}]"
    if form == "v" and text.isidentifier() and not placeholder and text != "ones":  # one of several outputs
        return f"{keyword}[{text!r}]"
    if form == "text" or (form == "v" and text == "ones"):
        return f"{keyword}={text}" if placeholder else f"{keyword}={text!r}"
    return f"{keyword}={token}"


def in_api_words(function):
    """``function`` (an API entry point) with the :class:`JacError` it raises given in the API's words
    (:func:`speak_api`). The repeated calls (``tools/api.py``'s evaluate, jacobian, vjp, jvp, hessian) call
    :func:`speak_api` in a ``try`` of their own instead: this wrapper's frame and argument packing cost a
    repeated call at n = 10 about 2,800 of its 70,000 instructions; a ``try`` costs nothing until it catches."""
    import functools

    @functools.wraps(function)
    def spoken(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except JacError as err:
            speak_api(err)
            raise

    return spoken


def speak_api(err: "JacError") -> None:
    """``err``, a library error naming the command line's options, given in the API's words (:func:`api_words`):
    the one place a command-line option's name becomes the keyword the caller wrote."""
    worded = api_words(err.message)
    if worded != err.message:
        err.reword(worded)
    if err.value_of is not None:  # the option whose value the position points into: --v → v=
        err.value_of = api_words(err.value_of)


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


def did_you_mean(value, words) -> str:
    """``; did you mean 'xx'?`` when ``value`` (a name that names nothing) is close to one of ``words``, else ``""``."""
    close = close_choice(value, list(words))
    return f"; did you mean {close!r}?" if close is not None and close != value else ""


# Letters of other scripts drawn like ASCII ones (Unicode's confusables, the letters a text pasted from a chat or a
# PDF carries): Cyrillic, then Greek. Python reads each as a letter of its own, so ``а`` (U+0430) is not ``a``.
_LOOKALIKE_PAIRS = ("аa еe оo рp сc хx уy іi јj ѕs һh ԁd ԛq ԝw ӏl АA ВB ЕE КK МM НH ОO РP СC ТT ХX ІI ЈJ ЅS "
                    "οo νv ιi κk ρp τt υu χx ΑA ΒB ΕE ΖZ ΗH ΙI ΚK ΜM ΝN ΟO ΡP ΤT ΥY ΧX")
_LOOKALIKES = {ord(pair[0]): pair[1] for pair in _LOOKALIKE_PAIRS.split()}


def not_ascii(name: str) -> str:
    """What a name's non-ASCII characters are, for a message: ``'U+0430 CYRILLIC SMALL LETTER A'``, and the ASCII
    name it looks like where every such character is a lookalike (``", which looks like 'a'"``); "" for ASCII."""
    import unicodedata

    odd = [c for c in dict.fromkeys(name) if not c.isascii()]
    if not odd:
        return ""
    chars = ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, 'a character without a name')}" for c in odd)
    look = name.translate(_LOOKALIKES)
    return f"{chars}{f', which looks like {look!r}' if look.isascii() else ''}"


def ascii_lookalike(name: str) -> str | None:
    """The ASCII name ``name`` is drawn like (``'а'``, Cyrillic, → ``'a'``), or None."""
    look = name.translate(_LOOKALIKES)
    return look if look != name and look.isascii() else None


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
