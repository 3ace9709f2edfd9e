"""Command-line bindings: ``NAME=VALUE``, ``NAME=@file`` and ``NAME:SHAPE``.

>>> b = parse_bindings(["x=[1, 2]", "A:2x3"])
>>> b.values["x"].tolist(), b.shapes["A"]
([1.0, 2.0], (2, 3))
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence, Union

import numpy as np

from ..errors import (JacError, JacLimitError, JacNameError, JacParseError, JacUsageError, JacValueError, did_you_mean,
                      not_ascii, too_large, unknown_choice)
from ..ir.dtypes import c_ordered, exact_array, held_in, needs_exact
from ..ir.graph import DEFAULT_MAX_BYTES
from ..ir.shapes import check_array_shape, fmt

_NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*\Z")
_DIM = re.compile(r"[0-9]+|[A-Za-z][A-Za-z_0-9]*")


@dataclass
class Bindings:
    """Input values and declared shapes, in the order given.

    ``shapes`` holds every input's shape (symbolic sizes as strings); ``values`` holds
    arrays for inputs that have them (all of them once :meth:`realize` has run).
    """

    shapes: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)
    random: set = field(default_factory=set)

    def realize(self, dtype=np.float64, seed: int = 0, max_bytes: int | None = DEFAULT_MAX_BYTES) -> "Bindings":
        """Draw the ``NAME:SHAPE`` inputs: N(0, 1) samples from a generator seeded by ``seed``.

        A shape over ``max_bytes`` is refused before anything is drawn."""
        left = None if max_bytes is None else max_bytes - sum(v.nbytes for v in self.values.values())
        for name, shape in self.shapes.items():
            if name not in self.values and max_bytes is not None and all(isinstance(d, int) for d in shape):
                count = math.prod(shape)
                if count * np.dtype(dtype).itemsize > left:
                    raise _in_total(lambda: _raise(too_large(f"{name}:{_fmt_spec(shape)}", count, dtype, left, hint=(
                        "use a smaller shape (`jac shape` needs no values and takes any size)"))), left, max_bytes)
                left -= count * np.dtype(dtype).itemsize
            if name not in self.values:
                check_array_shape(shape, f"{name}:{_fmt_spec(shape) if len(shape) < 40 else '...'}")
        rng = None  # made on first use: numpy.random costs ~10 ms to import
        for name, shape in self.shapes.items():
            if name in self.values:
                continue
            symbolic = [d for d in shape if not isinstance(d, int)]
            if symbolic:
                raise JacValueError(f"{name}:{_fmt_spec(shape)} has symbolic size {symbolic[0]!r}; numbers are "
                                    f"needed to compute values (symbolic sizes work with `jac shape` and `jac diff`)")
            rng = rng or np.random.default_rng(seed)
            self.values[name] = rng.standard_normal(shape).astype(dtype, copy=False)
        return self


# The types of the Python API's arguments (:mod:`jacobi_cli.tools.api`).
Value = Union[np.ndarray, float, int, Sequence[Any], str]
"""An input's value: an array, a number, nested lists, or text of the binding language
(``"arange(4.0)"``, ``"@data.npy"``, ``":3x4"`` for seeded random values)."""
BindingsLike = Union[Mapping[str, Value], Sequence[str], Bindings, None]
"""``{name: value}``, command-line bindings (``["x=[1, 2]", "A:3x4"]``), or None for none."""
DType = Union[str, type, np.dtype]
"""``"float64"`` (default) or ``"float32"``, or the NumPy type."""


def _raise(error: Exception):
    raise error


def _fmt_spec(shape) -> str:
    return "x".join(str(d) for d in shape) if shape else "()"


def parse_shape(spec: str, name: str = "", symbolic: bool = True) -> tuple:
    """``3x4`` -> (3, 4); ``()`` or ``scalar`` -> (); ``n`` / ``nxm`` -> symbolic sizes, their
    case kept (``N`` and ``n`` are two sizes); ``X`` separates as ``x`` does. Nothing after
    the colon (``x:``, a shape forgotten) is refused, not read as a scalar."""
    if not spec.strip():
        raise JacValueError(f"'{name}:' has no shape after the colon: write {name}:() for a scalar, {name}:3 for a "
                            f"vector, {name}:3x4 for a matrix (or {name}=VALUE for a value)")
    if spec.startswith("="):  # x:=1, Python's walrus: a value meant
        raise JacValueError(f"'{name}:{spec}' is neither a value nor a shape: a value is given with '=' alone "
                            f"({name}={spec[1:].strip()}), a shape with ':' ({name}:3)")
    spec_read = re.sub(r",\s*(?=[)\]]?\s*$)", "", spec)  # (3,): Python's tuple of one size, as PyTorch prints it
    text = spec_read.strip().replace("×", "x").replace("X", "x").replace("*", "x").replace(",", "x")
    text = text.strip("()[] ")
    if text.lower() in ("", "scalar"):
        return ()
    dims = []
    for part in text.split("x") if not _is_single_symbol(text) else [text]:
        part = part.strip()
        if not _DIM.fullmatch(part):
            raise JacValueError(f"shape of '{name}': '{spec}' is not a shape like 3, 3x4, () or n x m")
        if part.isdigit():
            dims.append(int(part))
        elif symbolic:
            dims.append(part)
        else:
            raise JacValueError(f"shape of '{name}': symbolic size '{part}' needs `jac shape` or `jac diff`")
    return tuple(dims)


def drawn_names(items) -> list:
    """The names that ``items`` (command-line bindings, or :class:`Bindings`) bind by ``NAME:SHAPE``,
    whose values are drawn rather than given; none for other kinds of bindings (a dict of values)."""
    if isinstance(items, Bindings):
        return [name for name in items.shapes if name in items.random]
    if not isinstance(items, (list, tuple)):
        return []
    names = []
    for item in items:
        if isinstance(item, str):
            name, sep, _ = _split(item)
            if sep == ":":
                names.append(name)
    return names


def _is_single_symbol(text: str) -> bool:
    return text.isalpha() and len(text) > 1 and "x" not in text


def parse_bindings(items, dtype=np.float64, seed: int = 0, max_bytes: int = DEFAULT_MAX_BYTES,
                   symbolic: bool = True) -> Bindings:
    """Parse command-line bindings. Values are converted to ``dtype``."""
    out = Bindings()
    _check_shell_split(list(items))
    for item in items:
        name, sep, rest = _split(item)
        if name in out.shapes:
            raise JacUsageError(f"'{name}' is bound twice")
        if sep == ":":
            out.shapes[name] = parse_shape(rest, name, symbolic)
            out.random.add(name)
            continue
        left = None if max_bytes is None else max_bytes - sum(v.nbytes for v in out.values.values())
        if left is not None and left <= 0:
            raise JacLimitError(f"the inputs bound before '{name}' already take the {max_bytes:,} bytes allowed "
                                f"for all inputs; use smaller inputs or raise --max-memory")
        value = _in_total(lambda: _value(name, rest, dtype, seed, left), left, max_bytes)
        out.values[name] = value
        out.shapes[name] = value.shape
    return out


def _check_shell_split(items: list) -> None:
    """A value the shell split at its spaces (``x=[2, 3]`` unquoted arrives as ``x=[2,`` and
    ``3]``) is refused with the quoted binding to write instead."""
    for i, item in enumerate(items):
        _check_spaced_equals(items, i)
        if not isinstance(item, str) or "=" not in item:
            continue
        depth = sum(item.count(c) for c in "([{") - sum(item.count(c) for c in ")]}")
        for j in range(i + 1, len(items) if depth > 0 else i + 1):
            part = items[j]
            if not isinstance(part, str) or "=" in part or ":" in part:
                break
            depth += sum(part.count(c) for c in "([{") - sum(part.count(c) for c in ")]}")
            if depth <= 0:
                name, _, value = item.partition("=")
                joined = " ".join([value, *items[i + 1:j + 1]])
                raise JacUsageError(f"the shell split the value of '{name}' at its spaces "
                                    f"({' '.join(repr(t) for t in items[i:j + 1])}): quote it, {name}=\"{joined}\"")


def _check_spaced_equals(items: list, i: int) -> None:
    """``x = 3``, ``x= 3`` or ``x =3`` (spaces around ``=``, as Python code is written) arrive as
    pieces: refused with the binding to write instead, ``x=3``."""
    item, rest = items[i], items[i + 1:i + 3]
    if not isinstance(item, str) or not rest or not all(isinstance(t, str) for t in rest):
        return
    if _NAME.match(item) and rest[0] == "=" and len(rest) == 2:
        name, value, pieces = item, rest[1], [item, *rest]
    elif _NAME.match(item) and rest[0].startswith("=") and len(rest[0]) > 1:
        name, value, pieces = item, rest[0][1:], [item, rest[0]]
    elif item.endswith("=") and _NAME.match(item[:-1]) and "=" not in rest[0] and ":" not in rest[0]:
        name, value, pieces = item[:-1], rest[0], [item, rest[0]]
    else:
        return
    quoted = f'"{value}"' if any(c in value for c in " ()[]*,") else value
    raise JacUsageError(f"a binding has no spaces around '=' ({' '.join(repr(t) for t in pieces)} arrived "
                        f"as {len(pieces)} pieces): write {name}={quoted}")


def _in_total(make, left: int | None, max_bytes: int | None):
    """``make()`` with the room the inputs bound before left (the cap holds for the inputs
    in total, not one by one: four ``ones(2**27)`` are refused at the second under 1G)."""
    try:
        return make()
    except JacLimitError as err:
        if left is not None and left < max_bytes:
            err.reword(f"{err.message} (the inputs bound before it take {max_bytes - left:,} of the "
                       f"{max_bytes:,} bytes allowed for all inputs)")
        raise


def _split(item: str):
    eq, colon = item.find("="), item.find(":")
    cut = min(i for i in (eq, colon) if i >= 0) if max(eq, colon) >= 0 else -1
    if item[:1] in "\u2013\u2014\u2212" and item[1:2].isalpha() or item[:2] in ("\u2013-", "-\u2013"):
        fixed = "--" + item.lstrip("-\u2013\u2014\u2212")  # —json, –-json: a dash a web page or editor typeset
        raise JacUsageError(f"'{item}' begins with a typeset dash ({item[0] if item[0] != '-' else item[1]!r}), "
                            f"not two hyphens: write {fixed}")
    if cut < 0:
        if item.startswith("-"):  # jac eval x x:3 -k: an option that does not exist, read as a binding
            raise JacUsageError(f"'{item}' is neither an option of this command (see its --help) nor a binding "
                                "(NAME=VALUE, NAME=@FILE or NAME:SHAPE)")
        raise JacUsageError(f"'{item}' is not a binding: write NAME=VALUE, NAME=@FILE or NAME:SHAPE{_not_a_binding(item)}")
    name = item[:cut].strip()
    if not _NAME.match(name):
        odd = f": it holds {not_ascii(name)}" if not name.isascii() else ""
        raise JacNameError(f"'{name}' in '{item}' is not a valid input name (ASCII letters, digits and _, not "
                           f"beginning with a digit){odd}")
    return name, item[cut], item[cut + 1:]


_EXPRESSION_LIKE = re.compile(r"[*+/@()\[\]]|\*\*|^-|\.\w+\(")


def _not_a_binding(item: str) -> str:
    """What a word that is no binding most likely is, for its message: a file name the shell put there (an unquoted
    ``*`` of the expression, ``jac eval 2 * x x=3``, expanded to the files it matches), or the expression itself
    written after a binding (``jac eval x=2 "x**2"``)."""
    import os

    if os.path.lexists(item) and not _EXPRESSION_LIKE.search(item):
        return (f" ('{item}' is a file here: the shell expands an unquoted * in the expression into the file names "
                "it matches; quote the expression, jac eval \"2 * x\" x=3)")
    if _EXPRESSION_LIKE.search(item):
        return " (the expression comes first, then the bindings: jac COMMAND EXPR [BINDING ...])"
    if _NAME.match(item):  # jac diff "sin(x)" x, as sympy.diff(f, x) is written
        return (f" (a name alone binds nothing: {item}=1.5 or {item}:3; jac diff reads a name left unbound as a "
                f"scalar symbol, and --wrt {item} picks the input to differentiate by)")
    return ""


def _value(name: str, text: str, dtype, seed: int, max_bytes: int, option: str | None = None) -> np.ndarray:
    """The array of ``NAME=VALUE``; ``option`` (``--tangent x``) names where the text came from
    in errors when it is not a binding."""
    from .parser import parse_value

    text = text.strip()
    if not text:
        raise JacValueError(f"'{option or name + '='}' has no value")
    if option is None and text.startswith("=") and not text.startswith("=="):  # x==1: one '=' too many
        raise JacParseError(f"'{name}={text}' has two '=': a binding is {name}={text[1:].strip()}", 0,
                            text).in_value(name)
    if text.startswith("@"):
        from .fileio import load_array
        try:
            return np.asarray(load_array(text[1:], dtype=dtype, max_bytes=max_bytes))
        except JacError as err:
            err.reword(f"{option or name}: {err.message}")
            raise
    try:
        value = parse_value(text, dtype=dtype, seed=seed, max_bytes=max_bytes)
    except JacError as err:
        err.reword(f"in {option or f'the value of {name!r}'}: {err.message}")
        raise err.with_source(text).in_value(option or name)
    return value


OPTION_VALUE_SLACK = 2**20  # bytes an option's VALUE may take past its shape's (ones(100).sum() for a scalar)


def option_value(option: str, text: str, dtype=np.float64, shape: tuple | None = None) -> np.ndarray:
    """The VALUE of an option (``--tangent x=VALUE``, ``--v VALUE``) as a binding's value is
    read, its errors naming the option: "in the value of 'x'" read as the binding x. ``shape``:
    the largest shape the value may have (the output's or the input's, with a batch axis):
    arrays much past its size are refused before they are made, whatever --max-memory allows
    (``--v "ones(10**8)"`` for a vector of 3 would take 800 MB only to be refused)."""
    if shape is None:
        return _value("v", text, dtype, 0, DEFAULT_MAX_BYTES, option)
    room = min(DEFAULT_MAX_BYTES, max(int(np.prod(shape, dtype=np.float64)) * np.dtype(dtype).itemsize,
                                      OPTION_VALUE_SLACK))
    try:
        return _value("v", text, dtype, 0, room, option)
    except JacLimitError as err:
        err.reword(f"{err.message} ({option} must have shape {fmt(tuple(shape))})")
        raise


def describe(shapes: dict) -> str:
    return ", ".join(f"{n}: {fmt(s)}" for n, s in shapes.items())


DTYPES = {"float64": np.float64, "float32": np.float32}


def resolve_dtype(dtype, option: str = "dtype=") -> type:
    """The API's ``dtype=`` (``--dtype`` on the command line: ``option`` names it as the caller spells it):
    ``"float64"`` or ``"float32"``, or a NumPy spelling of one of them (``np.float32``, ``np.dtype("float64")``).
    Anything else is refused as the option's bad value (kind ``usage``, as every option's): jac computes and
    checks in those two only, and an integer or half-precision dtype gave silently wrong numbers (``sin`` of
    1.1 held in int32 is 0)."""
    if isinstance(dtype, str):
        if dtype not in DTYPES:
            raise unknown_choice(option, dtype, DTYPES, suggest=not _numpy_dtype(dtype))
        return DTYPES[dtype]
    try:
        found = np.dtype(dtype).type
    except TypeError:
        found = None
    if found is not np.float64 and found is not np.float32:
        shown = np.dtype(found).name if found is not None else repr(dtype)
        raise JacUsageError(f"{option} must be float64 or float32, not {shown}")
    return found


def _numpy_dtype(name: str) -> bool:
    """Whether ``name`` is a dtype NumPy knows (``float16``, ``int32``): a dtype jac does not compute in,
    not a typo of one it does (no "did you mean")."""
    try:
        np.dtype(name)
    except (TypeError, ValueError):
        return False
    return True


def to_bindings(bindings, dtype=np.float64, seed: int = 0, max_bytes: int = DEFAULT_MAX_BYTES) -> Bindings:
    """Bindings from a dict (arrays or binding strings), a list of CLI strings, or Bindings."""
    if isinstance(bindings, Bindings):
        return bindings
    if bindings is None:
        return Bindings()
    if isinstance(bindings, dict):
        out = Bindings()
        for name, value in bindings.items():
            if type(name) is not str:
                raise JacUsageError(f"a binding's name is the input's name as a string ('x'), not {name!r}")
            if isinstance(value, str):
                sep = ":" if value.startswith(":") else "="
                parsed = parse_bindings([f"{name}{sep}{value.lstrip(':')}"], dtype, seed, max_bytes)
                out.shapes.update(parsed.shapes)
                out.values.update(parsed.values)
                continue
            array = numeric(f"'{name}'", given_array(name, value), value)
            if needs_exact(array.dtype):  # np.array([2**53 + 1]), a long double 0.1: refused as a .npy file's
                exact_array(array, f"'{name}'", np.dtype(dtype))
            out.values[name] = c_ordered(held_in(array, dtype))  # read, never written: no copy of a big A in C order
            out.shapes[name] = out.values[name].shape
        return out
    if isinstance(bindings, str):  # one binding string, not its characters
        bindings = [bindings]
    try:
        items = list(bindings)
    except TypeError:
        items = None
    wrong = next((b for b in items if not isinstance(b, str)), None) if items is not None else bindings
    if items is None or wrong is not None:
        raise JacUsageError(f"bindings are a dict of values by input name ({{'x': [1, 2]}}) or a list of binding "
                            f"strings (['x=[1, 2]', 'A:3x4']), not {_what(bindings)}"
                            + (f" holding {wrong!r} ({type(wrong).__name__})" if items is not None else ""))
    return parse_bindings(items, dtype, seed, max_bytes)


def _what(value) -> str:
    """``a list``, ``an int``, ``None``: a value's type as a message names it."""
    if value is None:
        return "None"
    kind = type(value).__name__
    return f"{'an' if kind[0] in 'aeiou' else 'a'} {kind}"


def numeric(what: str, array: np.ndarray, given=None) -> np.ndarray:
    """``array`` (``given`` as :func:`given_array` read it) when it holds real numbers (bool, int, float), else
    refused saying what it holds: None, another Python object, strings, complex numbers, objects
    (``np.array([1, 'a'], dtype=object)``: PyTorch's ``torch.tensor`` refuses such an array too). ``what``
    names it: ``'x'``, ``v``, ``the tangent of 'x'``."""
    kind = array.dtype.kind
    if kind in "biuf":
        return array
    if given is None and kind == "O" and array.ndim == 0:
        given = array.item()
    if kind == "O" and array.ndim == 0 and not isinstance(given, np.ndarray):
        raise JacValueError(f"{what} is {_what(given)}, not a number or an array of numbers: give an array, a "
                            f"list of numbers, a number, or a value as text ('[1, 2]', ':3')")
    if kind == "O":
        raise JacValueError(f"{what} is an array of Python objects (dtype object), not of numbers: give a "
                            f"float array (np.asarray(..., dtype=float) where its items are numbers), as "
                            f"torch.tensor refuses such an array too")
    if kind in "US":
        raise JacValueError(f"{what} holds strings (dtype {array.dtype}), not real numbers: give numbers, or the whole "
                            f"value as one string of text ('[1, 2]')")
    if kind == "c":
        raise JacValueError(f"{what} is complex (dtype {array.dtype}): jac differentiates real arrays only; give "
                            f"its real and imaginary parts as two real inputs")
    raise JacValueError(f"{what} must be numeric (bool, integer or float), got dtype {array.dtype}")


def numeric_value(what: str, value, dtype) -> np.ndarray:
    """A v or a tangent given as an array (a list, a tensor), as :func:`numeric` reads it, in ``dtype``."""
    # an ndarray itself is given_array's answer (no tensor, no mask: np.asarray of it is it), without its tests
    array = numeric(what, value if type(value) is np.ndarray else given_array(what, value, what), value)
    return c_ordered(array if array.dtype.type is dtype else held_in(array, dtype))


def names_given(names, option: str = "--wrt"):
    """The API's ``wrt=`` / ``batch=`` as a list of names (None stays None): one string is one name (``wrt='xy'``
    is the input xy, never x and y); anything but strings refused (``option``: the command line's spelling, which
    an API entry point gives in its own words)."""
    if names is None or type(names) is list and all(type(n) is str for n in names):
        return names
    if isinstance(names, str):
        return [names]
    try:
        items = list(names)
    except TypeError:
        raise JacUsageError(f"{option} takes the names of inputs ('x' or ['x', 'y']), not {_what(names)}") from None
    for name in items:
        if not isinstance(name, str):
            raise JacUsageError(f"{option} takes the names of inputs as strings ('x' or ['x', 'y']), not "
                                f"{name!r} ({type(name).__name__})")
    return items


def given_array(name: str, value, what: str | None = None) -> np.ndarray:
    """An array the API is given, as NumPy holds it: a PyTorch tensor's values (detached, as ``.grad`` reads
    them; bfloat16 widened exactly), a masked array only with nothing masked (jac has no missing values), a
    ragged list refused as a value error. The API's functions and a compiled function's calls read their
    arrays through it. ``what``: how messages name the value (default ``'name'``)."""
    what = what or f"'{name}'"
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # torch.ones(2, requires_grad=True)
        value = value.detach()
        if getattr(value, "is_meta", False):
            raise JacValueError(f"{what} is a tensor on PyTorch's meta device: it has a shape but no values; "
                                f"give a tensor with values (or a shape as text, ':3x4')")
        if str(getattr(value, "layout", "torch.strided")) != "torch.strided":  # sparse: its values, made dense
            value = value.to_dense()
        value = value.cpu()
        if str(value.dtype) == "torch.bfloat16":  # NumPy has no bfloat16; float32 holds each one exactly
            value = value.float()
        value = value.numpy()
    if np.ma.isMaskedArray(value):
        masked = int(np.ma.count_masked(value))
        if masked:
            raise JacValueError(f"{what} is a masked array with {masked:,} masked element(s): jac has no missing "
                                f"values, so it would compute with the numbers under the mask; pass "
                                f"{name}.filled(VALUE), or {name}.data to use them")
        value = np.ma.getdata(value)
    try:
        return np.asarray(value)
    except ValueError as error:  # [1, [2]]: NumPy refuses an inhomogeneous shape
        raise JacValueError(f"{what}: the nested lists are not rectangular (every row the same length) "
                            f"({str(error).split('.')[0]})") from None


def check_seed(seed, option: str = "seed=") -> int:
    """The API's ``seed=`` (``--seed``: ``option``): a non-negative integer, as NumPy's generators take (any size)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise JacUsageError(f"{option} must be an integer >= 0, not {seed!r}")
    return int(seed)


def check_wrt(wrt, inputs) -> list:
    """``--wrt`` names, checked against the bound inputs (default: all of them)."""
    if not wrt:
        return list(inputs)
    if type(wrt) is list and len(wrt) == 1:  # the API's wrt=["x"]: an identifier bound passes every test below
        name = wrt[0]
        if type(name) is str and name in inputs and name.isidentifier():
            return [name]
    for name in wrt:
        if not isinstance(name, str):  # the API's wrt=[0]
            raise JacUsageError(f"--wrt takes the names of inputs as strings ('x'), not {name!r} "
                                f"({type(name).__name__}) (inputs: {', '.join(inputs) or 'none'})")
        if not str(name).strip():  # a missing value, as --batch '' (usage), not a name that is not bound
            raise JacUsageError(f"--wrt {name!r}: the name is empty; give an input's name "
                                f"(inputs: {', '.join(inputs) or 'none'})")
        if name not in inputs and name.strip() != name:  # the option's value is malformed (usage), as --batch's
            raise JacUsageError(f"--wrt {name!r}: spaces around the name; write --wrt {name.strip()}")
        if name not in inputs:
            listed = ", ".join(inputs) or "none"
            parts = [p for p in re.split(r"[,\s]+", name) if p]
            hint = f"; --wrt takes one name and is repeated: {' '.join('--wrt ' + p for p in parts)}" \
                if len(parts) > 1 and all(p in inputs for p in parts) else ""
            raise JacNameError(f"--wrt {name}: no input named '{name}' is bound (inputs: {listed})"
                               f"{hint or did_you_mean(name, inputs)}")
    return list(dict.fromkeys(wrt))
