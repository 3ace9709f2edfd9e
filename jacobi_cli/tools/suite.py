"""Derivative test suites: the library behind ``jac run SUITE.toml``.

A suite is a TOML file of ``[[case]]`` tables. Each case names an expression, its
bindings, and what to expect of it: the value, Jacobian blocks, VJPs for given vectors,
JVPs for given tangents, Hessian blocks, shapes and math_shapes, an error, or
``check = true`` (the automatic Jacobian against central differences and forward mode).
The format is documented in docs/suites.md.

>>> suite = parse_suite('''
... [[case]]
... name = "square"
... expr = "x**2"
... bindings = { x = [2, 3] }
... jacobian.x = [[4, 0], [0, 6]]
... ''')
>>> [result.status for result in run_cases(suite.cases)]
['passed']

Loading checks everything that can be checked without computing: TOML syntax, every
key and its type (unknown keys are errors, so a typo cannot pass silently), the
bindings, the expression (parsed, shapes inferred) and every input name an expectation
refers to. Its errors are :class:`~jacobi_cli.errors.JacSuiteError` naming the case and
the key. Running a case never raises: a :class:`CaseResult` says passed, failed or error.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import api
from ..lang.bindings import Bindings
from ..errors import JacError, JacIOError, JacLimitError, JacSuiteError, JacUsageError, JacValueError, close_choice
from .numeric import METHODS
from ..lang.parser import NeedsValues, parse, parse_value
from ..ir.shapes import fmt, math_shape
from ..ir.work import OutOfTime

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

MAX_SUITE_BYTES = 64 * 2**20
# a TOML parser's time grows with the items it reads: 1,000,000 one-line cases took rtoml 30 s and tomllib 120 s,
# 5,000,000 numbers in one array 12 s and 83 s (a loaded 2-core machine, session 40), before any case ran; so a
# suite is counted before it is parsed (commas and lines; [[case]] headers) and refused past these
MAX_CASES = 100_000
MAX_SUITE_ITEMS = 2_000_000
_CASE_HEADER = re.compile(rb"^[ \t]*\[\[[ \t]*case[ \t]*\]\]", re.MULTILINE)
MATCH_SECONDS = 1.0  # the time an error.match regular expression may take on one message
DTYPES = ("float64", "float32")
ERROR_KINDS = ("parse", "name", "shape", "value", "io", "limit", "usage")

# Default tolerances of expectations per dtype, as (rtol, atol): those of
# torch.testing.assert_close. ``check = true`` is ``jac check``, with its own defaults.
EXACT_TOLERANCE = {"float64": (1e-7, 1e-7), "float32": (1.3e-6, 1e-5)}

SUITE_KEYS = ("name", "defaults", "case")
DEFAULT_KEYS = ("dtype", "seed", "rtol", "atol")
EXPECTATION_KEYS = ("value", "jacobian", "vjp", "jvp", "hessian", "derivative", "output_shape", "jacobian_shape",
                    "math_shape", "check", "error")
CASE_KEYS = ("name", "description", "expr", "bindings", "wrt", "dtype", "seed", "rtol", "atol",
             "layout", "batch") + EXPECTATION_KEYS
VALUED_KEYS = ("value", "jacobian", "vjp", "jvp", "hessian", "derivative", "check")  # need numbers, not just shapes


# --- what a suite is -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Tolerance:
    rtol: float
    atol: float


@dataclass(frozen=True)
class Expected:
    """An expected array (float64) and the tolerance it is compared with."""

    value: np.ndarray
    tolerance: Tolerance


@dataclass
class VjpExpectation:
    """One ``[[case.vjp]]``: ``v`` (None, ``"ones"`` or an array) and ``{name: x.grad}``."""

    v: object
    grad: dict


@dataclass
class JvpExpectation:
    """One ``[[case.jvp]]``: ``{name: tangent}`` and the expected J·t (or None)."""

    tangent: dict
    expected: Expected | None


@dataclass
class DerivativeExpectation:
    """One ``[[case.derivative]]``: the ``order``-th derivative by the input ``wrt`` (None: the case's one input),
    as ``jac derivative --order K --wrt NAME`` gives it, shape ``y.shape + x.shape * order``; ``expected`` an
    :class:`Expected`, or ``{output: Expected}`` with several outputs (outputs left out are not checked)."""

    order: int
    wrt: str | None
    expected: object


@dataclass(frozen=True)
class CheckSpec:
    """``check = true`` or ``{ rtol, atol, method }``: ``jac check`` (None: its defaults for the dtype)."""

    rtol: float | None = None
    atol: float | None = None
    method: str = "central"


@dataclass(frozen=True)
class ErrorExpectation:
    kind: str
    match: str | None = None


@dataclass
class Case:
    """One ``[[case]]`` of a suite, checked and ready to run (picklable)."""

    name: str
    expr: str
    bindings: Bindings
    wrt: list | None = None
    dtype: str = "float64"
    seed: int = 0
    layout: str = "array"
    description: str = ""
    value: Expected | None = None
    jacobian: dict = field(default_factory=dict)
    vjp: list = field(default_factory=list)
    jvp: list = field(default_factory=list)
    hessian: dict = field(default_factory=dict)  # (a, b) -> Expected
    derivative: list = field(default_factory=list)  # DerivativeExpectation, [[case.derivative]] in file order
    output_shape: tuple | None = None
    jacobian_shape: dict = field(default_factory=dict)
    math_shape: dict = field(default_factory=dict)
    check: CheckSpec | None = None
    error: ErrorExpectation | None = None
    batch: list = field(default_factory=list)  # --batch specs: "x", "x:1"; expectations are then per example
    # the output names of an expression with several outputs (a final tuple, a dict, a named tuple), else None;
    # then value, output_shape and jvp's expected are {output: ...}, jacobian, hessian, jacobian_shape and
    # math_shape {output: {input or pair: ...}}, and a vjp's v None, "ones" or {output: array or "ones"}
    outputs: tuple | None = None
    budget: int | None = None  # jac run --max-memory's share for one case, bytes (None: the default budget)
    timeout: float | None = None  # jac run --timeout: seconds the case may take (None: no limit)

    @property
    def needs_values(self) -> bool:
        """False for a case that expects only shapes: it runs without values (sizes may be symbolic)."""
        return any(getattr(self, key) for key in VALUED_KEYS)


@dataclass
class Suite:
    name: str
    path: str
    cases: list
    files: list = field(default_factory=list)  # (case name, path) of each @file the cases read


# --- results -------------------------------------------------------------------------------------

@dataclass
class Outcome:
    """One expectation's result; ``key`` is its place in the case (``jacobian.x``, ``vjp[0].grad.y``)."""

    key: str
    passed: bool
    message: str = ""
    max_abs_error: float | None = None
    max_rel_error: float | None = None
    output: str | None = None  # in a case of several outputs: the output it is about (None: one output, a vjp)


@dataclass
class CaseResult:
    """``status`` is ``passed``, ``failed`` (an expectation not met) or ``error`` (the case
    could not run: ``error`` holds ``kind``, ``message``, ``position``, ``key``)."""

    name: str
    expression: str
    status: str
    seconds: float
    outcomes: list = field(default_factory=list)
    error: dict | None = None

    @property
    def failures(self) -> list:
        return [o for o in self.outcomes if not o.passed]


# --- loading -------------------------------------------------------------------------------------

def load_suite(path: str, budget: int | None = None) -> Suite:
    """Read and check the suite file at ``path``; relative ``@file`` paths in it are
    relative to the suite file's folder. ``budget`` (bytes, ``--max-memory``) bounds the
    values of all cases together, made while it loads (None: the default budget)."""
    from ..lang.fileio import open_regular_file

    try:  # a FIFO or a device is refused before it is opened: reading it could wait forever
        with open_regular_file(path, "the suite") as fp:
            data = fp.read(MAX_SUITE_BYTES + 1)
    except OSError as err:
        raise JacIOError(f"cannot read the suite '{path}': {err.strerror or err}") from None
    if len(data) > MAX_SUITE_BYTES:
        raise JacLimitError(f"the suite '{path}' is larger than {MAX_SUITE_BYTES:,} bytes")
    _refuse_long(data, path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise JacIOError(f"the suite '{path}' is not UTF-8 text (byte {err.start})") from None
    try:
        return parse_suite(text, Path(path).stem, str(Path(path).parent), path, budget)
    except JacError as err:
        err.reword(f"{path}: {err.message}")
        raise


def _refuse_long(data: bytes, path: str) -> None:
    """Refuse, before the TOML parser reads it for minutes, a suite of more than ``MAX_CASES`` ``[[case]]``
    headers or ``MAX_SUITE_ITEMS`` commas and lines (values of inline arrays, keys): counted on the bytes."""
    # "[[" in any place (a matrix [[1, 2], [3, 4]] too) bounds the headers: the pattern runs only past it
    cases = len(_CASE_HEADER.findall(data)) if data.count(b"[[") > MAX_CASES else 0
    if cases > MAX_CASES:
        raise JacLimitError(f"the suite '{path}' has {cases:,} cases, more than the {MAX_CASES:,} jac runs from one "
                            "file (reading it alone would take minutes); nothing was run: split it into several "
                            "suites")
    items = data.count(b",") + data.count(b"\n")
    if items > MAX_SUITE_ITEMS:
        raise JacLimitError(f"the suite '{path}' holds about {items:,} values and lines, more than the "
                            f"{MAX_SUITE_ITEMS:,} jac reads from one file (a TOML parser takes minutes over it); "
                            "nothing was run: keep large arrays in .npy files (\"@data/x.npy\", relative to the "
                            "suite) or split the suite")


def parse_suite(text: str, name: str = "suite", base_dir: str = ".", path: str = "",
                budget: int | None = None) -> Suite:
    """A suite from TOML text (see :func:`load_suite`)."""
    try:
        data = _toml(text)
    except tomllib.TOMLDecodeError as err:
        raise JacSuiteError(f"not valid TOML: {err}", kind="parse") from None
    except RecursionError:  # tomllib recurses into nested arrays and tables
        raise JacSuiteError("the TOML is nested too deeply (arrays or tables inside each other)",
                            kind="parse") from None
    _known(data, SUITE_KEYS, None, "")
    name = _string(data, "name", None, "") or name
    defaults = _defaults(data.get("defaults", {}))
    cases = data.get("case")
    if isinstance(cases, dict):  # [case] written for [[case]]: one table, read as no cases before
        raise JacSuiteError("is a single table, [case]: write [[case]], with two brackets, before each case "
                            "(an array of tables)", key="case")
    if cases is not None and not isinstance(cases, list):
        raise JacSuiteError(f"must be an array of tables ([[case]]), not {_describe(cases)}", key="case")
    if not cases:
        raise JacSuiteError("the suite has no cases: add [[case]] tables", key="case")
    if len(cases) > MAX_CASES:  # an inline array of tables, which load_suite's count of [[case]] headers misses
        raise JacSuiteError(f"has {len(cases):,} cases, more than the {MAX_CASES:,} jac runs from one file; "
                            "nothing was run: split it into several suites", key="case", kind="limit")
    room = [_values_room(budget)]  # bytes the bound values of all cases may still take, while loading
    graphs: dict = {}  # (expr, shapes, dtype, seed) -> graph: one parse for the cases that share them
    loaded = [_case(table, i, defaults, base_dir, room, graphs) for i, table in enumerate(cases)]
    _unique([case.name for case in loaded])
    return Suite(name, path, loaded, _files(cases, base_dir))


def _files(cases: list, base_dir: str) -> list:
    """``(case name, path)`` of each ``"@file"`` string the cases' values hold (bindings, expected
    arrays, ``v`` and tangents), resolved as loading resolved them."""
    found = []
    for table in cases:
        stack = [value for key, value in table.items() if key not in ("name", "description", "expr", "error")]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, str) and item.strip().startswith("@"):
                found.append((table["name"], _resolve(item.strip()[1:], base_dir)))
    return found


def _toml(text: str) -> dict:
    """The TOML document as tomllib reads it. rtoml (a Rust parser, a dependency for this) reads
    it when it can: 1,000 cases of 10 x 10 arrays take it 0.1 s where tomllib takes 0.6-1 s, most
    of a quick suite's time. A document rtoml refuses (or without rtoml) is read by tomllib, which
    decides and words any error, so every suite reads the same and fails with the same message.
    rtoml also reads TOML 1.1, which tomllib (TOML 1.0) refuses: a document that may use it
    (:func:`_may_be_toml_1_1`) is read by tomllib alone."""
    try:
        import rtoml
    except ImportError:
        return tomllib.loads(text)
    if _may_be_toml_1_1(text):
        return tomllib.loads(text)
    try:
        return rtoml.loads(text)
    except Exception:  # noqa: BLE001 - tomllib decides, and words the error
        return tomllib.loads(text)


# What TOML 1.1 added, which rtoml 0.14 reads and tomllib refuses (every other invalid document
# tried, from toml-test's kinds of invalid cases, both refuse): the escapes \e and \xHH, times
# without seconds (07:32, also in a date-time), and inline tables over several lines (comments
# inside) or with a trailing comma. These patterns find every such document, and a few others (a
# \x in a literal string or a comment, a slice x[10:20], an offset +07:00), which only cost
# tomllib's time: a suite of numbers, names and expressions is still read by rtoml.
_NEW_ESCAPE = re.compile(r"\\[ex]")
_MINUTES = re.compile(r":\d\d(?!:\d)")  # of HH:MM without :SS (a colon first: quick to find among numbers)
# a basic string, or an unterminated one up to the line's end (invalid TOML either way, and one
# forward pass: a pattern failing on it was retried from each later quote, 40 KB of \" taking 10 s)
_ONE_LINE_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*(?:"|\\?\Z)|\'[^\'\n]*\'')


def _may_be_toml_1_1(text: str) -> bool:
    """Whether the TOML ``text`` may use what TOML 1.1 added (see above): a superset, by patterns."""
    if _NEW_ESCAPE.search(text) or any(_hours_before(text, m.start()) for m in _MINUTES.finditer(text)):
        return True
    at = text.find("{")
    while at >= 0:
        start, end = text.rfind("\n", 0, at) + 1, text.find("\n", at)
        end = len(text) if end < 0 else end
        if _inline_table_may_go_on(text, start, end):
            return True
        at = text.find("{", end)
    return False


def _hours_before(text: str, colon: int) -> bool:
    """Two digits, and no digit or colon before them, end at ``colon``: the HH of HH:MM."""
    return (colon >= 2 and text[colon - 2:colon].isdigit()
            and (colon == 2 or not (text[colon - 3].isdigit() or text[colon - 3] == ":")))


def _inline_table_may_go_on(text: str, start: int, end: int) -> bool:
    """Whether an inline table opened on the line ``text[start:end]`` may go on past it, or end in
    a comma. The first line of a table that does opens more tables than it closes; its strings
    (unless a multi-line string begins or ends there) and its comment are left out of the count.
    (Read in place: the lines of a big suite hold its arrays.)"""
    if text.find('"', start, end) >= 0 or text.find("'", start, end) >= 0:
        line = text[start:end]
        if '"""' in line or "'''" in line:
            return True
        text = _ONE_LINE_STRING.sub("s", line)
        start, end = 0, len(text)
    comment = text.find("#", start, end)
    end = end if comment < 0 else comment
    if text.count("{", start, end) != text.count("}", start, end):
        return True
    close = text.find("}", start, end)
    while close >= 0:  # a trailing comma: "," then only spaces before a "}"
        before = close - 1
        while before >= start and text[before] in " \t\r":
            before -= 1
        if before >= start and text[before] == ",":
            return True
        close = text.find("}", close + 1, end)
    return False


def _defaults(spec) -> dict:
    """``[defaults]``: dtype, seed, rtol, atol for every case that does not set its own."""
    table = _table(spec, DEFAULT_KEYS, None, "defaults.")
    _string(table, "dtype", None, "defaults.", choices=DTYPES)
    if "seed" in table:
        _integer(table, "seed", None, "defaults.")
    _tolerance(table, None, "defaults.", Tolerance(0.0, 0.0))
    return table


def _unique(names: list) -> None:
    seen = set()
    for name in names:
        if name in seen:
            raise JacSuiteError("two cases have this name; names must be unique", name, "name")
        seen.add(name)


def _values_room(budget: int | None = None) -> int:
    """What the input values of a whole suite may take: they are made while it loads."""
    from ..engine import memory
    from ..ir.graph import DEFAULT_MAX_BYTES

    return min(DEFAULT_MAX_BYTES, memory.default_budget() if budget is None else budget)


def _max_bytes(case: Case) -> int:
    """The cap on one array of ``case`` (its budget's, or the default cap)."""
    from ..ir.graph import DEFAULT_MAX_BYTES

    return DEFAULT_MAX_BYTES if case.budget is None else min(DEFAULT_MAX_BYTES, case.budget)


def _case(table, index: int, defaults: dict, base_dir: str, room: list, graphs: dict | None = None) -> Case:
    label = table.get("name") if isinstance(table, dict) and isinstance(table.get("name"), str) else f"#{index + 1}"
    _table(table, CASE_KEYS, label, "")
    name = _string(table, "name", label, "", required=True)
    if not name.strip():  # what -k, the reports and JUnit's testcase name it by
        raise JacSuiteError("must not be empty: a case's name is what -k matches and the reports show",
                            f"#{index + 1}", "name")
    dtype = _string(table, "dtype", name, "", choices=DTYPES) or defaults.get("dtype", "float64")
    seed = _integer(table, "seed", name, "") if "seed" in table else defaults.get("seed", 0)
    exact = _tolerance(table, name, "", _tolerance(defaults, None, "defaults.", Tolerance(*EXACT_TOLERANCE[dtype])))
    case = Case(name=name, expr=_string(table, "expr", name, "", required=True),
                bindings=_bindings(table.get("bindings", {}), name, dtype, seed, base_dir, room),
                wrt=_wrt(table.get("wrt"), name), dtype=dtype, seed=seed,
                layout=_string(table, "layout", name, "", choices=("array", "numerator")) or "array",
                description=_string(table, "description", name, "") or "", batch=_batch(table.get("batch"), name))
    try:  # parsed first, for the names of several outputs; its error told after the expectations' own, as before
        graph, problem = _graph_of(case, graphs), None
    except JacSuiteError as err:
        graph, problem = None, err
    if problem is not None and "error" not in table:  # the expression's error first: the keys may be read per
        raise problem  # output of an expression that never parsed
    if graph is not None and graph.several:
        case.outputs = tuple(name for name, _ in graph.outputs)
    _expectations(case, table, exact, base_dir)
    if problem is not None and case.error is None:  # else the error may be the one expected
        raise problem
    if graph is not None:
        _check_against_graph(case, graph)
    return case


def _expectations(case: Case, table: dict, exact: Tolerance, base_dir: str) -> None:
    name = case.name
    if case.outputs:
        _several_expectations(case, table, exact, base_dir)
    elif "value" in table:
        case.value = _expected(table["value"], name, "value", exact, base_dir)
    if not case.outputs:
        case.jacobian = _named_expected(table, "jacobian", name, exact, base_dir)
        case.vjp = [_vjp(item, name, f"vjp[{i}]", exact, base_dir) for i, item in enumerate(_list(table, "vjp", name))]
        case.jvp = [_jvp(item, name, f"jvp[{i}]", exact, base_dir) for i, item in enumerate(_list(table, "jvp", name))]
        case.hessian = {_pair(key, name): block for key, block in
                        _named_expected(table, "hessian", name, exact, base_dir).items()}
        case.derivative = [_derivative(item, name, f"derivative[{i}]", exact, base_dir)
                           for i, item in enumerate(_derivatives(table, name))]
        if "output_shape" in table:
            case.output_shape = _shape(table["output_shape"], name, "output_shape")
        for key in ("jacobian_shape", "math_shape"):
            shapes = _table(table.get(key, {}), None, name, f"{key}.")
            setattr(case, key, {n: _shape(s, name, f"{key}.{n}") for n, s in shapes.items()})
    if "check" in table:
        case.check = _check(table["check"], name)
    if "error" in table:
        case.error = _error(table["error"], name)
    if not (case.needs_values or case.output_shape is not None or case.jacobian_shape or case.math_shape
            or case.error):
        raise JacSuiteError("the case expects nothing: add one of " + ", ".join(EXPECTATION_KEYS), name,
                            "check" if "check" in table else None)


def _several_expectations(case: Case, table: dict, exact: Tolerance, base_dir: str) -> None:
    """The expectations of a case whose expression has several outputs (``case.outputs``), each given per output
    as the contract's JSON gives them: ``value.OUT``, ``jacobian.OUT.IN``, ``hessian.OUT."IN,IN2"``,
    ``output_shape.OUT``, ``jacobian_shape.OUT.IN``, ``math_shape.OUT.IN``, a vjp's ``v.OUT`` (outputs left out
    count as zero) and a jvp's ``expected.OUT``."""
    name = case.name

    def per_output(spec, key: str) -> dict:
        listed = ", ".join(case.outputs)
        if not isinstance(spec, dict):
            raise JacSuiteError(f"the expression has {len(case.outputs)} outputs ({listed}): give each output its "
                                f"own, {key}.{_toml_key(case.outputs[0])} = ... (outputs left out are not checked)",
                                name, key)
        for k in spec:
            if k not in case.outputs:
                hint = difflib.get_close_matches(k, case.outputs, 1)
                why = f"'{k}' is an input: " if k in case.bindings.shapes else \
                    "an expectation table goes under each output: " if k in ("expected", "rtol", "atol") else ""
                raise JacSuiteError(f"no output named '{k}' (outputs: {listed}"
                                    f"{f'; did you mean {hint[0]!r}' if hint else ''}): {why}with several outputs "
                                    f"the keys are {key}.OUT{'.IN' if key in _BY_INPUT else ''}", name, f"{key}.{k}")
        return spec

    def blocks(key: str, inner) -> dict:
        return {o: {k: inner(v, f"{key}.{o}.{k}", k) for k, v in _table(spec, None, name, f"{key}.{o}.").items()}
                for o, spec in per_output(table[key], key).items()} if key in table else {}

    if "value" in table:
        case.value = {o: _expected(v, name, f"value.{o}", exact, base_dir)
                      for o, v in per_output(table["value"], "value").items()}
    case.jacobian = blocks("jacobian", lambda v, key, _: _expected(v, name, key, exact, base_dir))
    case.hessian = {o: {_pair(k, name, f"hessian.{o}.{k}"): e for k, e in found.items()}
                    for o, found in blocks("hessian", lambda v, key, _: _expected(v, name, key, exact,
                                                                                   base_dir)).items()}
    if "output_shape" in table:
        case.output_shape = {o: _shape(v, name, f"output_shape.{o}")
                             for o, v in per_output(table["output_shape"], "output_shape").items()}
    case.jacobian_shape = blocks("jacobian_shape", lambda v, key, _: _shape(v, name, key))
    case.math_shape = blocks("math_shape", lambda v, key, _: _shape(v, name, key))
    case.vjp = []
    for i, item in enumerate(_list(table, "vjp", name)):
        key = f"vjp[{i}]"
        v = item.get("v") if isinstance(item, dict) else None
        if isinstance(item, dict) and v is not None and not (isinstance(v, str) and v.strip() == "ones"):
            v = {o: "ones" if isinstance(t, str) and t.strip() == "ones" else _array(t, name, f"{key}.v.{o}", base_dir)
                 for o, t in per_output(v, f"{key}.v").items()}
            item = {**item, "v": None}
        found = _vjp(item, name, key, exact, base_dir)
        case.vjp.append(VjpExpectation(v if isinstance(v, dict) else found.v, found.grad))
    case.jvp = []
    for i, item in enumerate(_list(table, "jvp", name)):
        key = f"jvp[{i}]"
        expected = item.get("expected") if isinstance(item, dict) else None
        found = _jvp({k: v for k, v in item.items() if k != "expected"} if isinstance(item, dict) else item,
                     name, key, exact, base_dir)
        if expected is not None:
            tolerance = _tolerance(item, name, key + ".", exact)
            found.expected = {o: _expected(e, name, f"{key}.expected.{o}", tolerance, base_dir)
                              for o, e in per_output(expected, f"{key}.expected").items()}
        case.jvp.append(found)
    case.derivative = []
    for i, item in enumerate(_derivatives(table, name)):
        key = f"derivative[{i}]"
        expected = item.get("expected")
        found = _derivative({k: v for k, v in item.items() if k != "expected"}, name, key, exact, base_dir,
                            required=False)
        if expected is None:
            raise JacSuiteError("is required: the derivative of each output to check, expected.OUT = ...", name,
                                f"{key}.expected")
        tolerance = _tolerance(item, name, key + ".", exact)
        found.expected = {o: _expected(e, name, f"{key}.expected.{o}", tolerance, base_dir)
                          for o, e in per_output(expected, f"{key}.expected").items()}
        case.derivative.append(found)


_BY_INPUT = ("jacobian", "hessian", "jacobian_shape", "math_shape")  # blocks per output and input


def _toml_key(name: str) -> str:
    """An output's name as a TOML key: bare where TOML allows, else quoted (``"y['a']"``)."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- typed access that names the case and key ---------------------------------------------------

_HIGHER_WORDS = ("derivatives", "order")
_TOLERANCE_WORDS = ("tolerance", "tolerances", "tol", "abs_tol", "rel_tol", "abstol", "reltol")


def _known(table: dict, allowed, case, prefix: str) -> None:
    for key in table:
        if key not in allowed:
            hint = difflib.get_close_matches(key, allowed, 1)
            if not hint and "rtol" in allowed and difflib.get_close_matches(key.lower(), _TOLERANCE_WORDS, 1):
                also = " (tolerances are rtol and atol: |actual - expected| <= atol + rtol·|expected|)"
            elif key in _HIGHER_WORDS and "hessian" in allowed and not prefix:
                also = ("; a K-th derivative, jac derivative --order K's, is a [[case.derivative]] table: "
                        "order = K, wrt = \"x\" (with several inputs) and expected = ...")
            else:
                also = f" (did you mean '{hint[0]}'?)" if hint else f"; known keys: {', '.join(allowed)}"
            raise JacSuiteError(f"unknown key{also}", case, prefix + key)


def _table(value, allowed, case, prefix: str) -> dict:
    """``value`` checked to be a table (``allowed`` keys only, unless None)."""
    if not isinstance(value, dict):
        raise JacSuiteError(f"must be a table, not {_describe(value)}", case, prefix.rstrip(".") or None)
    if allowed is not None:
        _known(value, allowed, case, prefix)
    return value


def _list(table: dict, key: str, case) -> list:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise JacSuiteError(f"must be an array of tables ([[case.{key}]]), not {_describe(value)}", case, key)
    return value


def _string(table: dict, key: str, case, prefix: str, required: bool = False, choices=None):
    value = table.get(key)
    if value is None:
        if required:
            raise JacSuiteError("is required", case, prefix + key)
        return None
    if not isinstance(value, str):
        raise JacSuiteError(f"must be a string, not {_describe(value)}", case, prefix + key)
    if choices and value not in choices:
        close = close_choice(value, list(choices))
        raise JacSuiteError(f"must be one of {', '.join(choices)}, not {value!r}" +
                            (f"; did you mean {close!r}?" if close else ""), case, prefix + key)
    return value


def _integer(table: dict, key: str, case, prefix: str) -> int:
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise JacSuiteError(f"must be a non-negative integer, not {_describe(value)}", case, prefix + key)
    return value


def _nonnegative(value, case, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0 or math.isinf(value):
        raise JacSuiteError(f"must be a finite number >= 0, not {_describe(value)}", case, key)
    return float(value)


def _tolerance(table: dict, case, prefix: str, fallback: Tolerance) -> Tolerance:
    rtol = _nonnegative(table["rtol"], case, prefix + "rtol") if "rtol" in table else fallback.rtol
    atol = _nonnegative(table["atol"], case, prefix + "atol") if "atol" in table else fallback.atol
    return Tolerance(rtol, atol)


def _describe(value) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "an array",
             dict: "a table"}
    return names.get(type(value), type(value).__name__) + (f" ({value!r})" if isinstance(value, (bool, int, float, str)) else "")


# --- values, bindings, shapes -------------------------------------------------------------------

def _array(spec, case, key: str, base_dir: str, dtype=np.float64) -> np.ndarray:
    """A number, a rectangular array of numbers, or a string in the binding language."""
    if isinstance(spec, str):
        return _parsed(spec, case, key, base_dir, dtype)
    if isinstance(spec, bool) or not isinstance(spec, (int, float, list)) or _has_non_number(spec):
        raise JacSuiteError("must be a number, an array of numbers or a string such as \"arange(4.0)\", "
                            f"not {_describe(spec)}", case, key)
    try:
        return np.array(spec, dtype=dtype)
    except ValueError:
        raise JacSuiteError("the nested arrays are ragged: every row must have the same length", case, key) from None


_PLAIN_NUMBERS = frozenset({int, float})


def _has_non_number(spec) -> bool:
    stack = [spec]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            if set(map(type, item)) <= _PLAIN_NUMBERS:  # a row of numbers, checked at C speed (1,000 cases of
                continue                               # 10 x 10 values took 0.2 s one by one)
            stack.extend(item)
        elif isinstance(item, bool) or not isinstance(item, (int, float)):
            return True
    return False


def _parsed(text: str, case, key: str, base_dir: str, dtype) -> np.ndarray:
    try:
        if text.strip().startswith("@"):
            from ..lang.fileio import load_array
            return np.asarray(load_array(_resolve(text.strip()[1:], base_dir), dtype=dtype))
        return parse_value(text, dtype=dtype)
    except JacError as err:
        raise JacSuiteError(err.message, case, key, err.kind) from None


def _resolve(path: str, base_dir: str) -> str:
    return path if os.path.isabs(path) else os.path.join(base_dir, path)


def _bindings(spec, case: str, dtype: str, seed: int, base_dir: str, room: list) -> Bindings:
    """``{NAME: number | array | "VALUE" | "@file" | ":SHAPE"}`` as :class:`Bindings`; the
    values take from ``room[0]``, the bytes left for the values of the whole suite."""
    out = Bindings()
    for name, value in _table(spec, None, case, "bindings.").items():
        if isinstance(value, str) and value.strip().startswith("@"):
            value = "@" + _resolve(value.strip()[1:], base_dir)
        elif not isinstance(value, str):
            given, value = value, _array(value, case, f"bindings.{name}", base_dir)
            _refuse_rounded(value, given, dtype, case, f"bindings.{name}")
        try:
            if room[0] <= 0:
                raise JacLimitError("the values bound by the cases before take all the memory a suite's values "
                                    "may take; bind smaller values or split the suite")
            bound = api.to_bindings({name: value}, api.resolve_dtype(dtype), seed, room[0])
        except JacError as err:
            raise JacSuiteError(err.message, case, f"bindings.{name}", err.kind) from None
        room[0] -= sum(v.nbytes for v in bound.values.values())
        out.shapes.update(bound.shapes)
        out.values.update(bound.values)
        out.random.update(bound.random)
    return out


def _refuse_rounded(array: np.ndarray, spec, dtype: str, case: str, key: str) -> None:
    """Refuse a TOML integer of a binding that the case's dtype holds only rounded (``9007199254740993``), as
    the command line refuses ``x=9007199254740993`` (``ir/dtypes.exact_literal``); only an array with a value at or
    past the dtype's exact integers is walked."""
    from ..ir.dtypes import exact_max

    kind = np.dtype(api.resolve_dtype(dtype))
    limit = exact_max(kind)
    finite = array[np.isfinite(array)]
    if not finite.size or not (np.abs(finite) >= limit).any():
        return
    stack = [spec]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif type(item) is int and abs(item) > limit and not _held(kind, item):
            raise JacSuiteError(f"the integer {item}, which {kind} cannot hold exactly (beyond "
                                f"2**{np.finfo(kind).nmant + 1}): jac holds every value in the case's dtype, so it "
                                f"refuses rather than round (write {item}.0 to accept the rounding of a float)",
                                case, key, "value")


def _held(kind: np.dtype, value: int) -> bool:
    with np.errstate(over="ignore"):
        rounded = kind.type(float(value)) if abs(value) < 2**1000 else np.inf
    return bool(np.isfinite(rounded)) and int(rounded) == value


def _wrt(spec, case: str) -> list | None:
    if spec is None:
        return None
    names = [spec] if isinstance(spec, str) else spec
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise JacSuiteError("must be an input name or a non-empty array of names", case, "wrt")
    return list(dict.fromkeys(names))


def _batch(spec, case: str) -> list:
    """``batch = "x"`` or ``["x", "W:1"]``: the batch axes, as ``--batch``."""
    from ..engine.batching import parse_specs

    if spec is None:
        return []
    specs = [spec] if isinstance(spec, str) else spec
    if not isinstance(specs, list) or not specs or not all(isinstance(s, str) for s in specs):
        raise JacSuiteError("must be NAME[:AXIS] or a non-empty array of them", case, "batch")
    try:
        parse_specs(specs)
    except JacError as err:
        raise JacSuiteError(err.message, case, "batch", err.kind) from None
    return list(specs)


def _example_shapes(case: Case) -> dict:
    """The input shapes of one example (the batch axes removed), checked as ``--batch`` does."""
    from ..engine.batching import batch_of, parse_specs

    shapes = dict(case.bindings.shapes)
    if not case.batch:
        return shapes
    try:
        found = batch_of(shapes, parse_specs(case.batch))
    except JacError as err:
        raise JacSuiteError(err.message, case.name, "batch", err.kind) from None
    return {n: tuple(d for i, d in enumerate(s) if n not in found.axes or i != found.axes[n])
            for n, s in shapes.items()}


def _shape(spec, case: str, key: str) -> tuple:
    ok = isinstance(spec, list) and all(
        (isinstance(d, int) and not isinstance(d, bool) and d >= 0) or (isinstance(d, str) and d.isidentifier())
        for d in spec)
    if not ok:
        raise JacSuiteError("must be a shape: an array of sizes such as [3, 4], [] for a scalar, or "
                            "[\"n\"] for a symbolic size", case, key)
    return tuple(spec)


# --- expectations --------------------------------------------------------------------------------

def _expected(spec, case: str, key: str, tolerance: Tolerance, base_dir: str) -> Expected:
    """A bare value, or ``{expected = VALUE, rtol = ..., atol = ...}``."""
    if isinstance(spec, dict):
        _known(spec, ("expected", "rtol", "atol"), case, key + ".")
        if "expected" not in spec:
            raise JacSuiteError("is required in an expectation table", case, key + ".expected")
        tolerance = _tolerance(spec, case, key + ".", tolerance)
        spec = spec["expected"]
        key += ".expected"
    return Expected(_array(spec, case, key, base_dir), tolerance)


def _named_expected(table: dict, key: str, case: str, tolerance: Tolerance, base_dir: str) -> dict:
    blocks = _table(table.get(key, {}), None, case, f"{key}.")
    return {name: _expected(spec, case, f"{key}.{name}", tolerance, base_dir) for name, spec in blocks.items()}


def _pair(key: str, case: str, where: str | None = None) -> tuple:
    parts = [p.strip() for p in key.split(",")]
    if len(parts) != 2 or not all(p.isidentifier() for p in parts):
        raise JacSuiteError('Hessian blocks are named "a,b" (two input names)', case, where or f"hessian.{key}")
    return tuple(parts)


def _vjp(table: dict, case: str, key: str, exact: Tolerance, base_dir: str) -> VjpExpectation:
    _known(table, ("v", "grad", "rtol", "atol"), case, key + ".")
    tolerance = _tolerance(table, case, key + ".", exact)
    v = table.get("v")
    if v is not None and not (isinstance(v, str) and v.strip() == "ones"):
        v = _array(v, case, f"{key}.v", base_dir)
    grads = _table(table.get("grad", {}), None, case, f"{key}.grad.")
    return VjpExpectation(v, {name: _expected(spec, case, f"{key}.grad.{name}", tolerance, base_dir)
                              for name, spec in grads.items()})


def _jvp(table: dict, case: str, key: str, exact: Tolerance, base_dir: str) -> JvpExpectation:
    _known(table, ("tangent", "expected", "rtol", "atol"), case, key + ".")
    tangents = _table(table.get("tangent"), None, case, f"{key}.tangent.")
    if not tangents:
        raise JacSuiteError("needs at least one tangent: tangent = { x = [...] }", case, f"{key}.tangent")
    tangents = {name: t if isinstance(t, str) and t.strip() == "ones" else _array(t, case, f"{key}.tangent.{name}", base_dir)
                for name, t in tangents.items()}
    tolerance = _tolerance(table, case, key + ".", exact)
    expected = _expected(table["expected"], case, f"{key}.expected", tolerance, base_dir) if "expected" in table else None
    return JvpExpectation(tangents, expected)


def _derivatives(table: dict, case: str) -> list:
    """The ``[[case.derivative]]`` tables; ``derivative.x = 6`` (a table, as ``jacobian.x`` is) is told the form."""
    if isinstance(table.get("derivative"), dict):
        raise JacSuiteError("a K-th derivative is a [[case.derivative]] table of its own, one per order: "
                            "order = K, wrt = \"x\" (with several inputs) and expected = ... (jac derivative "
                            "--order K --wrt x's value)", case, "derivative")
    return _list(table, "derivative", case)


def _derivative(table: dict, case: str, key: str, exact: Tolerance, base_dir: str,
                required: bool = True) -> DerivativeExpectation:
    """One ``[[case.derivative]]``: ``order`` (1 to 32, required), ``wrt`` (the input; optional where the case
    has one), ``expected`` (required; per output with several, read by the caller), ``rtol``, ``atol``."""
    from ..engine.higher import MAX_ORDER

    _known(table, ("order", "wrt", "expected", "rtol", "atol"), case, key + ".")
    if "order" not in table:
        raise JacSuiteError(f"is required: the derivative's order, 1 to {MAX_ORDER} (2 is the Hessian's block)",
                            case, key + ".order")
    order = table["order"]
    if isinstance(order, bool) or not isinstance(order, int) or not 1 <= order <= MAX_ORDER:
        raise JacSuiteError(f"must be a whole number from 1 to {MAX_ORDER}, not {_describe(order)}", case,
                            key + ".order")
    wrt = _string(table, "wrt", case, key + ".")
    if wrt is not None and not wrt.strip().isidentifier():
        raise JacSuiteError(f"must be one input's name (a derivative of any order is taken by one input), not "
                            f"{wrt!r}", case, key + ".wrt")
    expected = None
    if required:
        if "expected" not in table:
            raise JacSuiteError("is required: the derivative's value, shape y.shape + x.shape * order", case,
                                key + ".expected")
        expected = _expected(table["expected"], case, f"{key}.expected", _tolerance(table, case, key + ".", exact),
                             base_dir)
    return DerivativeExpectation(order, wrt.strip() if wrt is not None else None, expected)


def _check(spec, case: str) -> CheckSpec | None:
    if isinstance(spec, bool):
        return CheckSpec() if spec else None
    if isinstance(spec, dict):
        _known(spec, ("rtol", "atol", "method"), case, "check.")
        rtol = _nonnegative(spec["rtol"], case, "check.rtol") if "rtol" in spec else None
        atol = _nonnegative(spec["atol"], case, "check.atol") if "atol" in spec else None
        return CheckSpec(rtol, atol, _string(spec, "method", case, "check.", choices=METHODS) or "central")
    raise JacSuiteError("must be true, false or { rtol = ..., atol = ..., method = ... }, not "
                        f"{_describe(spec)}", case, "check")


def _error(spec, case: str) -> ErrorExpectation:
    if isinstance(spec, str):
        spec = {"kind": spec}
    if not isinstance(spec, dict):
        raise JacSuiteError(f"must be an error kind or {{ kind = ..., match = ... }}, not {_describe(spec)}",
                            case, "error")
    _known(spec, ("kind", "match"), case, "error.")
    kind = _string(spec, "kind", case, "error.", required=True, choices=ERROR_KINDS)
    match = _string(spec, "match", case, "error.")
    if match is not None:
        import regex

        try:
            regex.compile(match)
        except regex.error as err:
            raise JacSuiteError(f"not a regular expression: {err}", case, "error.match") from None
    return ErrorExpectation(kind, match)


# --- checks against the graph (still before anything is computed) --------------------------------

def _graph_of(case: Case, graphs: dict | None = None):
    """The case's graph, parsed once per expression, shapes, dtype and seed (``graphs``); None where parsing fails
    and the case expects an error (the error may be the one expected)."""
    try:
        shapes = _example_shapes(case)
        key = (case.expr, tuple(shapes.items()), case.dtype, case.seed)
        graph = graphs.get(key) if graphs is not None else None
        if graph is None:
            try:
                graph = parse(case.expr, shapes, dtype=api.resolve_dtype(case.dtype), seed=case.seed)
            except NeedsValues:  # a test or mask of the values: the case's own graph, never shared with another
                return _graph_at_values(case, shapes)
            if graphs is not None:
                graphs[key] = graph
    except JacSuiteError:
        if case.error is not None:
            return
        raise
    except JacError as err:
        if case.error is not None:
            return  # the error may be the one expected
        raise JacSuiteError(err.message, case.name, "expr", err.kind, err.position, err.source) from None
    return graph


def _graph_at_values(case: Case, shapes: dict):
    """The graph of a case whose expression tests its inputs' values (``if x.norm() > 1:``, ``x[x > 0]``), built at
    the case's values, as ``jac eval`` builds it; None with ``batch`` (each example its own branch: the case's
    run refuses it, as ``--batch`` does, and the suite's other cases run); with symbolic sizes (no values) the
    parse's refusal stands."""
    if case.batch:
        return None
    dtype = api.resolve_dtype(case.dtype)
    try:
        values = case.bindings.realize(dtype, case.seed, _max_bytes(case)).values
    except JacError:
        return parse(case.expr, shapes, dtype=dtype, seed=case.seed)  # raises NeedsValues again
    return parse(case.expr, shapes, dtype=dtype, seed=case.seed, values=values)


def _check_against_graph(case: Case, graph) -> None:
    """Check every input name the case refers to against the graph."""
    inputs = list(graph.inputs)
    for i, item in enumerate(case.jvp):
        for name in item.tangent:
            if name not in inputs:
                raise JacSuiteError(f"no input named '{name}' is bound (inputs: {', '.join(inputs) or 'none'})",
                                    case.name, f"jvp[{i}].tangent.{name}", "name")
    for name in case.wrt or []:
        if name not in inputs:
            raise JacSuiteError(f"no input named '{name}' is bound (inputs: {', '.join(inputs) or 'none'})",
                                case.name, "wrt", "name")
    wrt = case.wrt or inputs
    for i, item in enumerate(case.derivative):
        if item.wrt is None and len(wrt) != 1:  # jac derivative's --wrt: one input, named where there are several
            raise JacSuiteError("a derivative of any order is taken by one input, and this case has "
                                + (f"{len(wrt)} ({', '.join(wrt)}): name it, wrt = \"{wrt[0]}\"" if wrt else
                                   "none to differentiate"), case.name, f"derivative[{i}].wrt",
                                "name" if not wrt else "value")
    for key, name in _referenced_names(case):
        if name not in wrt:
            why = "is not in wrt" if name in inputs else f"is not bound (inputs: {', '.join(inputs) or 'none'})"
            raise JacSuiteError(f"'{name}' {why}", case.name, key, "name")
    if case.needs_values:
        _require_concrete(case)


def _referenced_names(case: Case):
    for key in ("jacobian", "jacobian_shape", "math_shape"):
        for name, named in _per_output(case, getattr(case, key)):
            for n in named:
                yield f"{key}.{name}{n}", n
    for name, named in _per_output(case, case.hessian):
        for (a, b) in named:
            yield f"hessian.{name}{a},{b}", a
            yield f"hessian.{name}{a},{b}", b
    for i, item in enumerate(case.vjp):
        for name in item.grad:
            yield f"vjp[{i}].grad.{name}", name
    for i, item in enumerate(case.derivative):
        if item.wrt is not None:
            yield f"derivative[{i}].wrt", item.wrt


def _per_output(case: Case, blocks: dict) -> list:
    """``[(key prefix, {input: ...})]``: ``[("", blocks)]`` for one output, ``[("OUT.", blocks[OUT]), ...]``."""
    return [(f"{o}.", named) for o, named in blocks.items()] if case.outputs else [("", blocks)]


def _require_concrete(case: Case) -> None:
    for name, shape in case.bindings.shapes.items():
        symbolic = [d for d in shape if not isinstance(d, int)]
        if symbolic:
            raise JacSuiteError(f"symbolic size {symbolic[0]!r} needs numbers for value, jacobian, vjp, jvp, "
                                "hessian, derivative or check; a case with only shape expectations may keep it symbolic",
                                case.name, f"bindings.{name}")


# --- selecting -----------------------------------------------------------------------------------

def parse_shard(text: str) -> tuple:
    """``"K/N"`` -> ``(K, N)`` with 1 <= K <= N."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise JacUsageError(f"--shard must be K/N with 1 <= K <= N (e.g. 1/4), not {text!r}")
    return int(match[1]), int(match[2])


def matches(name: str, pattern: str) -> bool:
    """``-k``: the pattern occurs in the name, ignoring case (names such as ``x**2``
    hold ``*``, so the pattern is plain text, not a glob)."""
    return pattern.lower() in name.lower()


def select(cases: list, patterns=(), shard: tuple | None = None) -> list:
    """The cases whose name matches any pattern (all without patterns), then every N-th
    of those, starting at the K-th, for ``shard = (K, N)``."""
    chosen = [c for c in cases if not patterns or any(matches(c.name, p) for p in patterns)]
    if patterns and not chosen:
        raise JacUsageError(f"-k {' -k '.join(patterns)}: no case matches (cases: "
                            f"{', '.join(c.name for c in cases[:10])}{', ...' if len(cases) > 10 else ''})")
    if shard:
        k, n = shard
        chosen = chosen[k - 1::n]
    return chosen


# --- running ------------------------------------------------------------------------------------

def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


IN_PROCESS_SECONDS = 0.5  # a pool's workers take about this long to start (each imports NumPy and jac)


def run_cases(cases: list, jobs: int = 1, on_result=None, in_process: float = IN_PROCESS_SECONDS) -> list:
    """Run every case, on ``jobs`` processes; ``on_result(result)`` is called (in this
    process) as each case finishes. Results come back in the order of ``cases``.

    With several jobs, cases first run in this process for up to ``in_process`` seconds (what a
    pool of workers takes to start): a suite of quick cases is done before a pool would have
    started. Past that, the rest goes to the pool only when the pool would finish it sooner
    (:func:`pool_pays`), so a quick suite of many cases is not slowed by workers starting."""
    import time

    results = []
    start = time.perf_counter()
    for case in cases:
        if jobs > 1 and len(cases) - len(results) > 1 and \
                pool_pays(time.perf_counter() - start, len(results), len(cases) - len(results), jobs, in_process):
            break
        results.append(run_case(case))
        if on_result:
            on_result(results[-1])
    rest = cases[len(results):]
    if rest:
        results += _run_in_pool(rest, min(jobs, len(rest)), on_result)
    return results


def pool_pays(elapsed: float, done: int, left: int, jobs: int, startup: float) -> bool:
    """After ``elapsed`` seconds and ``done`` cases in this process: would a pool of ``jobs``
    workers, which takes ``startup`` seconds to start, finish the ``left`` cases sooner than this
    process at its pace so far?"""
    if elapsed < startup:
        return False
    rest = elapsed / max(done, 1) * left
    return rest > startup + rest / jobs


def _run_in_pool(cases: list, jobs: int, on_result) -> list:
    """The cases on ``jobs`` worker processes. Whatever stops the loop early (Ctrl-C, a closed
    output pipe in ``on_result``, SIGTERM turned into an exception by the CLI) kills the workers
    before it goes on: leaving the pool's ``with`` or its shutdown waits for every case still
    queued or running, and a worker on a case that takes minutes kept ``jac run`` from exiting
    that long (or, killed by SIGTERM, the workers outlived it)."""
    from concurrent.futures import ProcessPoolExecutor, as_completed

    results = [None] * len(cases)
    pool = ProcessPoolExecutor(max_workers=jobs, initializer=_worker_started, initargs=(os.getpid(),))
    try:
        futures = {pool.submit(run_case, case): i for i, case in enumerate(cases)}
        for future in as_completed(futures):
            i = futures[future]
            results[i] = _result_of(future, cases[i])
            if on_result:
                on_result(results[i])
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown()
    return results


def _stop(pool) -> None:
    """Stop ``pool`` now: its queued cases dropped, its workers killed and reaped, and its manager
    thread ended. That thread closes its wake-up pipe as it ends; left running, it raced Python's
    exit, whose hook (``concurrent.futures.process._python_exit``, CPython 3.11) checks that the
    pipe is open and then writes to it without a lock: closed in between, the write printed an
    "Exception ignored ... Bad file descriptor" traceback after Ctrl-C (about one run in three)."""
    workers = list((getattr(pool, "_processes", None) or {}).values())  # ProcessPoolExecutor's own record
    manager = getattr(pool, "_executor_manager_thread", None)  # shutdown() forgets it
    for worker in workers:
        with _quiet():
            worker.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        with _quiet():
            worker.join(5)
    if manager is not None:
        manager.join(5)  # it sees the killed workers at once; 5 s bounds a stuck queue feeder


@contextmanager
def _quiet():
    try:
        yield
    except (OSError, ValueError, AssertionError):  # already gone, or closed
        pass


def _worker_started(parent: int) -> None:
    """A worker's start (``initializer``): Ctrl-C is the parent's to handle (it kills the workers;
    a KeyboardInterrupt in a worker only printed a traceback), SIGTERM ends the worker as it would
    any process, and on Linux the worker is killed when the parent dies, however it dies (SIGKILL,
    the OOM killer): a forked worker holds its own copy of the queue's pipe, so it never sees the
    parent go and waited for work forever."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before the request above was made
        os._exit(1)


def _die_with_parent() -> None:
    """Ask Linux to send SIGKILL to this process when its parent dies (prctl PR_SET_PDEATHSIG)."""
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, 9, 0, 0, 0)  # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):  # no libc to ask: the parent's own clean-up still kills the workers
        pass


def _result_of(future, case: Case) -> CaseResult:
    try:
        return future.result()
    except Exception as err:  # the worker process died (killed, out of memory)
        return CaseResult(case.name, case.expr, "error", 0.0,
                          error={"kind": "internal", "message": f"the worker process failed: {err!r}",
                                 "position": None, "key": None})


def run_case(case: Case) -> CaseResult:
    """Run one case; never raises (a bug in jac is reported as an ``internal`` error). A case
    past ``case.timeout`` seconds is stopped and reported as a ``limit`` error."""
    start = time.perf_counter()
    try:
        with _time_limit(case.timeout):
            outcomes = _error_outcomes(case) if case.error else _computed(case)
    except _OutOfTime:
        return _errored(case, start, "limit", f"the case took more than {case.timeout:g} s and was stopped "
                                              f"(--timeout {case.timeout:g}); allow more time with --timeout "
                                              f"SECONDS (0: no limit), or make the case smaller", None, None)
    except JacError as err:
        return _errored(case, start, err.kind, err.message, err.position, getattr(err, "suite_key", None))
    except Exception as err:  # noqa: BLE001 - a bug; reported, not fatal to the other cases
        return _errored(case, start, "internal", f"a bug in jac: {type(err).__name__}: {err}", None, None)
    status = "passed" if all(o.passed for o in outcomes) else "failed"
    return CaseResult(case.name, case.expr, status, time.perf_counter() - start, outcomes)


_OutOfTime = OutOfTime  # a case's time is up: ir/work.py's, raised by the Alarm bounded.time_limit installs


def _time_limit(seconds: float | None):
    """A case's time limit: :func:`~jacobi_cli.tools.bounded.time_limit` (the main thread of the process running
    the case; elsewhere the case is refused rather than run without its limit)."""
    from .bounded import time_limit

    return time_limit(seconds)


def _errored(case, start, kind, message, position, key) -> CaseResult:
    return CaseResult(case.name, case.expr, "error", time.perf_counter() - start,
                      error={"kind": kind, "message": message, "position": position, "key": key})


def exit_code(results: list) -> int:
    """2 if a case could not run for bad input, else 1 if any failed (or hit a bug), else 0."""
    if any(r.status == "error" and r.error["kind"] != "internal" for r in results):
        return 2
    return 1 if any(r.status != "passed" for r in results) else 0


@contextmanager
def _at(key: str):
    """Tags a JacError raised inside with the suite key being checked."""
    try:
        yield
    except JacError as err:
        if not hasattr(err, "suite_key"):
            err.suite_key = key
        raise


def _computed(case: Case) -> list:
    """The outcomes of a case; NumPy's failures become JacErrors, as in the commands."""
    try:
        return _outcomes(case)
    except MemoryError:
        raise JacLimitError("not enough memory for this case; try smaller inputs") from None
    except np.linalg.LinAlgError as err:
        raise JacValueError(f"linear algebra failed: {err}") from None


def _search(pattern: str, text: str) -> bool:
    """``re.search`` with a time bound: a pattern such as ``(a+)+$`` can backtrack for
    minutes on a long message, so it is stopped (TimeoutError) after MATCH_SECONDS."""
    import regex

    return regex.search(pattern, text, timeout=MATCH_SECONDS) is not None


def _error_outcomes(case: Case) -> list:
    expected = case.error
    try:
        _computed(case)
    except JacError as err:
        kind_ok = err.kind == expected.kind
        try:
            match_ok = expected.match is None or _search(expected.match, err.message)
        except TimeoutError:
            return [Outcome("error", False, f"error.match {expected.match!r} took more than {MATCH_SECONDS:g} s "
                                            f"against a message of {len(err.message):,} characters and was "
                                            f"stopped: it backtracks (nested repeats such as (a+)+); simplify it. "
                                            f"The {err.kind} error was: {err.message[:200]}")]
        verdict = "" if kind_ok and match_ok else (
            f"expected a {expected.kind} error" + (f" matching {expected.match!r}" if expected.match else "") + ", got ")
        return [Outcome("error", kind_ok and match_ok, f"{verdict}{err.kind} error: {err.message}")]
    return [Outcome("error", False, f"expected a {expected.kind} error, but the case ran without one")]


def _outcomes(case: Case) -> list:
    if not case.needs_values:
        with _at("expr"):
            graph = parse(case.expr, _example_shapes(case), dtype=api.resolve_dtype(case.dtype), seed=case.seed,
                          max_bytes=_max_bytes(case))
        return _shape_outcomes(case, graph, api.check_wrt(case.wrt, graph.inputs))
    if case.outputs:
        return _several_outcomes(case)
    if case.batch:
        return _batched_outcomes(case)
    with _at("expr"):
        problem = api.prepare(case.expr, case.bindings, case.wrt, case.dtype, case.seed, _max_bytes(case),
                              budget=case.budget)
    outcomes = _shape_outcomes(case, problem.graph, problem.wrt)
    _compare_fits(case, problem)
    if case.value is not None:
        outcomes.append(compare("value", problem.output, case.value))
    # through the compiled function, as the API's jacobian(): the cases of a suite that share an expression
    # and shapes run its kernel from the third on (checked once against the interpreter); the problem's
    # values are read, not evaluated again
    # (__wrapped__: the method itself, whose errors name the command line's options, not the API's keywords)
    method = type(problem.compiled).jacobian
    method = getattr(method, "__wrapped__", method)  # a method put in its place (a test's) has none
    jacobians = (method(problem.compiled, problem.env, problem.wrt, layout=case.layout, problem=problem,
                        budget=case.budget) if case.jacobian else {})
    for name, expected in case.jacobian.items():
        outcomes.append(compare(f"jacobian.{name}", jacobians[name], expected))
    outcomes += _vjp_outcomes(case, problem) + _jvp_outcomes(case, problem) + _hessian_outcomes(case, problem)
    outcomes += [compare(f"derivative[{i}].expected", _derivative_of(case, problem, i), item.expected)
                 for i, item in enumerate(case.derivative)]
    if case.check:
        outcomes += _check_outcomes(problem, case.check, case.budget)
    return outcomes


def _batched_outcomes(case: Case) -> list:
    """A case with ``batch``: every example computed with one parse and plan, the results
    stacked batch axis first and compared with the expectations (which carry it too: ``value``
    ``(B, *y)``, ``jacobian`` ``(B, *y, *x)``, ``vjp`` v and grads, ``jvp`` tangents of a
    batched input and the expected products); ``check`` passes when every example does."""
    from ..engine.batching import Stacked, per_example

    with _at("batch"):
        problem, found, split = api.prepare_batch(case.expr, case.bindings, case.batch, case.wrt, case.dtype,
                                                  case.seed, _max_bytes(case), budget=case.budget)
    outcomes = _shape_outcomes(case, problem.graph, problem.wrt)
    y_shape = tuple(problem.graph.output_shape)
    cots = []
    for i, item in enumerate(case.vjp):
        with _at(f"vjp[{i}].v"):
            v = item.v
            ones = v is None or (isinstance(v, str) and v.strip() == "ones")
            cots.append(None if ones else per_example(np.asarray(v, dtype=problem.graph.dtype), found, None, y_shape,
                                                      f"vjp[{i}].v"))
    tangents = []
    for i, item in enumerate(case.jvp):
        with _at(f"jvp[{i}].tangent"):
            tangents.append(api.batch_tangents(problem, item.tangent, found))
    with _at("batch"):
        _batch_fits(case, problem, found, tangents)
    stack = Stacked(found.size)
    failed = {}
    for b in range(found.size):
        p = problem if b == 0 else api.example(problem, found, split, b)
        stack.put("value", b, p.output)
        js = api.jacobians(p, api.plan_of(p, budget=case.budget)) if case.jacobian else {}
        for name in case.jacobian:
            stack.put(("jacobian", name), b, js[name].to_array(case.layout))
        for i, item in enumerate(case.vjp):
            with _at(f"vjp[{i}].v"):
                grads = api.vjp_of(p, api.cotangent(p, item.v if cots[i] is None else cots[i][b]))
            for name in item.grad:
                stack.put(("vjp", i, name), b, grads[name])
        for i, given in enumerate(tangents):
            t_b = api.tangents_of(p, {n: t[b] if per else t for n, (t, per) in given.items()})
            stack.put(("jvp", i), b, api.jvp_of(p, t_b))
        if case.hessian:
            with _at("hessian"):
                blocks = api.hessians(p, budget=case.budget)
            for pair in case.hessian:
                stack.put(("hessian", pair), b, blocks[pair])
        for i in range(len(case.derivative)):
            stack.put(("derivative", i), b, _derivative_of(case, p, i))
        if case.check:
            from . import check

            for name, result in check.check(p, case.check.method, case.check.rtol, case.check.atol,
                                            case.budget).items():
                if not result.passed and name not in failed:
                    failed[name] = (b, result)
    if case.value is not None:
        outcomes.append(compare("value", stack["value"], case.value))
    outcomes += [compare(f"jacobian.{n}", stack[("jacobian", n)], e) for n, e in case.jacobian.items()]
    for i, item in enumerate(case.vjp):
        outcomes += [compare(f"vjp[{i}].grad.{n}", stack[("vjp", i, n)], e) for n, e in item.grad.items()]
    for i, item in enumerate(case.jvp):
        if item.expected is not None:
            outcomes.append(compare(f"jvp[{i}].expected", stack[("jvp", i)], item.expected))
    outcomes += [compare(f"hessian.{a},{b}", stack[("hessian", (a, b))], e) for (a, b), e in case.hessian.items()]
    outcomes += [compare(f"derivative[{i}].expected", stack[("derivative", i)], item.expected)
                 for i, item in enumerate(case.derivative)]
    if case.check:
        for name in problem.wrt:
            if name in failed:
                b, result = failed[name]
                bad = _check_outcome(f"check.{name}", result)
                outcomes.append(Outcome(bad.key, False, f"example {b}: {bad.message}", bad.max_abs_error,
                                        bad.max_rel_error))
            else:
                outcomes.append(Outcome(f"check.{name}", True, f"every one of {found.size:,} examples passed"))
    return outcomes


def _batch_fits(case: Case, problem, found, tangents: list) -> None:
    """Refuse, before example 1 is computed, a batched case whose stacked results do not fit its budget,
    counted as the command line counts ``--batch`` (session 42): the value and Jacobian and Hessian plans of one
    example with what the batch holds beside them (:func:`~jacobi_cli.tools.api.batch_jacobian_plan`, no
    compiled kernel: a case's examples run the interpreter's plan), and what its vjps, jvps and comparisons add
    (:func:`_case_need`, :attr:`~jacobi_cli.engine.batching.BatchPlan.case_bytes`). A plan refused on its own is
    left to the example's call, which refuses it with its own message."""
    planned = _batch_plan(case, problem, found, tangents)
    if planned is not None and planned.refusal:
        raise JacLimitError(planned.refusal)


def _batch_plan(case: Case, problem, found, tangents: list):
    """The :class:`~jacobi_cli.engine.batching.BatchPlan` :func:`_batch_fits` checks, or None where a plan
    of one example is refused on its own (``benchmarks/runbatch43_probe.py`` compares its peak with the
    measured one). A case looks for no NaN in its stacks: no mask of them is counted (``nan_mask``)."""
    from dataclasses import replace

    from ..engine import memory

    budget = memory.default_budget() if case.budget is None else case.budget
    units = api.output_problems(problem)
    plans = {}
    for o, p in units:
        if case.jacobian.get(o) if case.outputs else case.jacobian:
            plans[o] = api.plan_of(p, budget=case.budget)
        if case.hessian.get(o) if case.outputs else case.hessian:
            plans[("hessian", o)] = api.hessian_plan_of(p, case.budget)
    if any(p.refusal for p in plans.values()):
        return None
    planned = replace(api.batch_jacobian_plan(plans, found, budget, units, False), nan_mask=False)
    return replace(planned, case_bytes=_case_need(case, problem, found, tangents, planned))


def _case_need(case: Case, problem, found, tangents: list, planned) -> int:
    """What a batched case holds beyond ``planned`` (its values, Jacobian and Hessian plans, their stacks and
    two examples' values): the other examples' inputs; each vjp's stacked gradients (the names it expects) and
    v with the batch axis, each jvp's stacked products and tangents given per example; the product passes'
    values where no plan counted them (example 0's, the previous and the current example's); and, one at a time,
    the largest product pass (:class:`~jacobi_cli.engine.planner.ProductPlan`) or, after the last example,
    :func:`compare`'s block (:func:`compare_bytes`), each beside the last example's gradients and tangents.
    Session 42 counted each vjp and jvp as a command of its own (``api.stacked_need``: its pass, example values,
    inputs and a NaN mask each time) and a comparison's block per plan: 1.3-2.3 times the measured peak."""
    batch, dtype = found.size, problem.graph.dtype
    units = api.output_problems(problem)
    outputs = api.shapes_nbytes(problem, [p.graph.output_shape for _, p in units])
    x = {n: problem.env[n].nbytes for n in problem.wrt if n in problem.env}
    stacks = given = last = 0
    passes = []
    for item in case.vjp:
        stacks += batch * sum(x.get(n, 0) for n in item.grad)
        given += sum(batch * p.output.nbytes for o, p in units  # several outputs: {output: v}, an output left out
                     if _made(item.v.get(o) if isinstance(item.v, dict) else item.v, dtype))
    if case.vjp:
        passes.append(problem.compiled.product_plan(problem.wrt, "vjp"))
        last += sum(x.values())  # the last vjp's gradients of every input, alive to the end
    for item, given_tangents in zip(case.jvp, tangents):
        stacks += batch * outputs
        given += sum(t.nbytes for n, (t, per) in given_tangents.items()
                     if per and not _shares(t, item.tangent.get(n)))
        passes.append(problem.compiled.product_plan(problem.wrt, "jvp", tuple(given_tangents)))
        last += sum(x.get(n, 0) for n in given_tangents)
    for item in case.derivative:  # each [[case.derivative]]'s stacked results (its pass is planned per example)
        n = problem.env[item.wrt or problem.wrt[0]].size
        stacks += batch * sum(p.output.nbytes * n ** item.order for o, p in units
                              if not isinstance(item.expected, dict) or o in item.expected)
    values = max((p.values_bytes for p in passes), default=0)
    counted = 3 * max((getattr(p, "values_bytes", 0) for p in planned.plans.values()), default=0)
    # the other examples' inputs, where the batch was made for the case (the suite's loaded values are counted
    # as it loads them, against the suite's share of --max-memory)
    inputs = (batch - 1) * sum(problem.env[n].nbytes for n in found.axes
                               if n in problem.env and not _shares(problem.env[n], case.bindings.values.get(n)))
    transient = max([p.pass_peak for p in passes] + [compare_bytes(case)])
    return inputs + stacks + given + max(0, 3 * values - counted) + last + transient


def _compare_fits(case: Case, problem) -> None:
    """Refuse, before any derivative is computed, an unbatched case whose comparisons would pass its budget
    (session 43; a batched case's are counted by :func:`_batch_fits`): :func:`compare`'s block of temporaries for
    the expectation with the largest one, beside what the case holds then (:func:`_compare_held`). A result
    that does not fit beside the values on its own is left to its own call, which refuses it in its words."""
    from ..engine.memory import default_budget, fmt_bytes

    budget = default_budget() if case.budget is None else case.budget
    temporaries = compare_bytes(case)
    held, largest = _compare_held(case, problem)
    if not temporaries or held + temporaries <= budget or largest > budget:
        return
    key, expected = max(_compared(case), key=lambda item: compare_block(np.shape(item[1].value)))
    block = compare_block(np.shape(expected.value))
    with _at(key):
        raise JacLimitError(
            f"comparing {key} with its expectation works {block:,} elements at a time (whole rows of its first "
            f"axis): {fmt_bytes(temporaries)} of temporaries beside the case's values and results "
            f"({fmt_bytes(held)}), {fmt_bytes(held + temporaries)} in all, more than the case's memory budget of "
            f"{fmt_bytes(budget)}; refused before any derivative was computed. Raise --max-memory, or split the "
            f"expectation's rows")


def _compare_held(case: Case, problem) -> tuple:
    """``(bytes, largest)``: what an unbatched case holds at most while it compares, read off the shapes: its
    values (but the suite's bound values, loaded and counted before any case ran) and the results alive then,
    every Jacobian it computes (one per input, each output with expectations) and either one vjp's gradients,
    one jvp's product or the Hessian's blocks (with several outputs every result: they are kept together until
    compared); ``largest``, the values and the largest of those results alone."""
    itemsize = np.dtype(problem.graph.dtype).itemsize
    x = sum(math.prod(problem.env[n].shape) for n in problem.wrt if n in problem.env)
    ys = {o: p.output.size for o, p in api.output_problems(problem)}
    several = case.outputs is not None
    jacobian = sum(y * x for o, y in ys.items() if (case.jacobian.get(o) if several else case.jacobian))
    hessian = sum(y * x * x for o, y in ys.items() if (case.hessian.get(o) if several else case.hessian))
    sizes = {n: math.prod(problem.env[n].shape) for n in problem.wrt if n in problem.env}
    derivatives = [sum(y * sizes.get(item.wrt or problem.wrt[0], 0) ** item.order for o, y in ys.items()
                       if not several or o in item.expected) for item in case.derivative]
    products = [x] * len(case.vjp) + [sum(ys.values())] * len(case.jvp) + [hessian] + derivatives
    results = jacobian + (sum(products) + (x if case.vjp else 0) if several else max(products))
    bound = list(case.bindings.values.values())  # the suite's, loaded and counted before any case ran
    values = sum(v.nbytes for v in problem.values if isinstance(v, np.ndarray) and not any(_shares(v, b) for b in bound))
    return values + results * itemsize, values + max(products + [jacobian]) * itemsize


def _shape_outcomes(case: Case, graph, wrt: list) -> list:
    x_shapes = graph.input_shapes()
    outcomes = []
    if case.outputs:  # several: each output's expectations under its name
        units = graph.output_graphs()
        shapes = {o: tuple(g.output_shape) for o, g in units}
        for o, expected in (case.output_shape or {}).items():
            outcomes.append(_about(o, compare_shape(f"output_shape.{o}", shapes[o], expected)))
        for o, _ in units:
            for name, expected in case.jacobian_shape.get(o, {}).items():
                outcomes.append(_about(o, compare_shape(f"jacobian_shape.{o}.{name}",
                                                        shapes[o] + tuple(x_shapes[name]), expected)))
            for name, expected in case.math_shape.get(o, {}).items():
                outcomes.append(_about(o, compare_shape(f"math_shape.{o}.{name}",
                                                        math_shape(shapes[o], tuple(x_shapes[name])), expected)))
        return outcomes
    y_shape = tuple(graph.output_shape)
    if case.output_shape is not None:
        outcomes.append(compare_shape("output_shape", y_shape, case.output_shape))
    for name, expected in case.jacobian_shape.items():
        outcomes.append(compare_shape(f"jacobian_shape.{name}", y_shape + tuple(x_shapes[name]), expected))
    for name, expected in case.math_shape.items():
        outcomes.append(compare_shape(f"math_shape.{name}", math_shape(y_shape, tuple(x_shapes[name])), expected))
    return outcomes


def _several_outcomes(case: Case) -> list:
    """A case whose expression has several outputs: each output's expectations (``value.OUT``, ``jacobian.OUT.IN``,
    ``hessian.OUT."IN,IN2"``, a jvp's ``expected.OUT``) against that output, a vjp's grads against
    ``torch.autograd.backward([outs], [vs])`` (``v.OUT``; outputs left out count as zero), ``check`` of every output
    (``check.OUT.IN``); with ``batch`` per example, stacked batch axis first, as ``jac eval --batch`` gives them."""
    from ..engine.batching import Stacked, per_example
    from ..engine.compiled import vjp_several

    found = split = None
    if case.batch:
        with _at("batch"):
            problem, found, split = api.prepare_batch(case.expr, case.bindings, case.batch, case.wrt, case.dtype,
                                                      case.seed, _max_bytes(case), several=True, budget=case.budget)
    else:
        with _at("expr"):
            problem = api.prepare(case.expr, case.bindings, case.wrt, case.dtype, case.seed, _max_bytes(case),
                                  several=True, budget=case.budget)
    if found is None:
        _compare_fits(case, problem)
    outcomes = _shape_outcomes(case, problem.graph, problem.wrt)
    units = dict(api.output_problems(problem))
    dtype = problem.graph.dtype
    cots = []  # per vjp: None (every output one element: 1 each), or {output: "ones" | array}
    for i, item in enumerate(case.vjp):
        v = item.v
        if isinstance(v, str):
            v = {o: "ones" for o in units}
        if isinstance(v, dict) and found is not None:
            with _at(f"vjp[{i}].v"):
                v = {o: t if isinstance(t, str) else per_example(np.asarray(t, dtype=dtype), found, None,
                                                                 tuple(units[o].graph.output_shape), f"v.{o}")
                     for o, t in v.items()}
        cots.append(v)
    tangents = []
    for i, item in enumerate(case.jvp):
        with _at(f"jvp[{i}].tangent"):
            tangents.append(api.batch_tangents(problem, item.tangent, found) if found is not None else None)
    if found is not None:
        with _at("batch"):
            _batch_fits(case, problem, found, tangents)
    stack = Stacked(found.size if found is not None else None)
    failed = {}
    for b in range(found.size if found is not None else 1):
        example = problem if b == 0 else api.example(problem, found, split, b)
        for o, p in api.output_problems(example):
            stack.put(("value", o), b, p.output)
            if case.jacobian.get(o):
                js = api.jacobians(p, api.plan_of(p, budget=case.budget))
                for name in case.jacobian[o]:
                    stack.put(("jacobian", o, name), b, js[name].to_array(case.layout))
            for i, item in enumerate(case.jvp):
                with _at(f"jvp[{i}].tangent"):
                    given = item.tangent if found is None else \
                        {n: t[b] if per else t for n, (t, per) in tangents[i].items()}
                    stack.put(("jvp", i, o), b, api.jvp_of(p, api.tangents_of(p, given)))
            if case.hessian.get(o):
                with _at(f"hessian.{o}"):
                    blocks = api.hessians(p, budget=case.budget)
                for pair in case.hessian[o]:
                    stack.put(("hessian", o, pair), b, blocks[pair])
            for i, item in enumerate(case.derivative):
                if o in item.expected:
                    stack.put(("derivative", i, o), b, _derivative_of(case, p, i))
            if case.check:
                from . import check

                for name, result in check.check(p, case.check.method, case.check.rtol, case.check.atol,
                                                case.budget).items():
                    if (o, name) not in failed or failed[(o, name)][1].passed and not result.passed:
                        failed[(o, name)] = (b, result)  # the first failing example's, else example 0's
        for i, item in enumerate(case.vjp):
            v = cots[i]
            if isinstance(v, dict) and found is not None:
                v = {o: t if isinstance(t, str) else t[b] for o, t in v.items()}
            with _at(f"vjp[{i}].v"):
                grads = vjp_several(example, v)
            for name in item.grad:
                stack.put(("vjp", i, name), b, grads[name])
    for o, expected in (case.value or {}).items():
        outcomes.append(_about(o, compare(f"value.{o}", stack[("value", o)], expected)))
    for o in units:
        outcomes += [_about(o, compare(f"jacobian.{o}.{n}", stack[("jacobian", o, n)], e))
                     for n, e in case.jacobian.get(o, {}).items()]
    for i, item in enumerate(case.vjp):  # of every output at once: about none of them alone
        outcomes += [compare(f"vjp[{i}].grad.{n}", stack[("vjp", i, n)], e) for n, e in item.grad.items()]
    for i, item in enumerate(case.jvp):
        outcomes += [_about(o, compare(f"jvp[{i}].expected.{o}", stack[("jvp", i, o)], e))
                     for o, e in (item.expected or {}).items()]
    for o in units:
        outcomes += [_about(o, compare(f"hessian.{o}.{a},{c}", stack[("hessian", o, (a, c))], e))
                     for (a, c), e in case.hessian.get(o, {}).items()]
    for i, item in enumerate(case.derivative):
        outcomes += [_about(o, compare(f"derivative[{i}].expected.{o}", stack[("derivative", i, o)], e))
                     for o, e in item.expected.items()]
    if case.check:
        for (o, name), (b, result) in failed.items():
            got = _about(o, _check_outcome(f"check.{o}.{name}", result))
            if found is not None:  # per example, as _batched_outcomes says it
                got.message = f"example {b}: {got.message}" if not got.passed else \
                    f"every one of {found.size:,} examples passed"
            outcomes.append(got)
    return outcomes


def _about(output: str, outcome: Outcome) -> Outcome:
    """``outcome``, marked as about ``output`` (``--json``'s ``"output"``: a name may hold dots, its key's
    ``value.OUT`` alone cannot always be split)."""
    outcome.output = output
    return outcome


def _vjp_outcomes(case: Case, problem) -> list:
    outcomes = []
    for i, item in enumerate(case.vjp):
        with _at(f"vjp[{i}].v"):
            grads = api.vjp_of(problem, api.cotangent(problem, item.v))
        outcomes += [compare(f"vjp[{i}].grad.{name}", grads[name], expected) for name, expected in item.grad.items()]
    return outcomes


def _jvp_outcomes(case: Case, problem) -> list:
    outcomes = []
    for i, item in enumerate(case.jvp):
        with _at(f"jvp[{i}].tangent"):
            out = api.jvp_of(problem, api.tangents_of(problem, item.tangent))
        if item.expected is not None:
            outcomes.append(compare(f"jvp[{i}].expected", out, item.expected))
    return outcomes


def _hessian_outcomes(case: Case, problem) -> list:
    if not case.hessian:
        return []
    with _at("hessian"):
        blocks = api.hessians(problem, budget=case.budget)
    return [compare(f"hessian.{a},{b}", blocks[(a, b)], expected) for (a, b), expected in case.hessian.items()]


def _derivative_of(case: Case, problem, i: int) -> np.ndarray:
    """The ``[[case.derivative]]`` number ``i`` of ``problem`` (one output's): ``jac derivative --order K --wrt
    NAME``'s value, planned against the case's budget (a derivative that cannot fit is refused before it is
    computed, in jac derivative's words)."""
    from ..engine import higher
    from ..engine.memory import default_budget

    item = case.derivative[i]
    with _at(f"derivative[{i}]"):
        plan = api.derivative_plan(problem, item.wrt or problem.wrt[0], item.order,
                                   default_budget() if case.budget is None else case.budget)
        return higher.run(plan, problem.env)


def _check_outcomes(problem, spec: CheckSpec, budget: int | None = None) -> list:
    """``jac check`` per input: reverse and forward mode against finite differences and each other."""
    from . import check

    results = check.check(problem, spec.method, spec.rtol, spec.atol, budget)
    return [_check_outcome(f"check.{name}", result) for name, result in results.items()]


def _check_outcome(key: str, result) -> Outcome:
    errors = (result.max_abs_error, result.max_rel_error)
    if result.passed:
        return Outcome(key, True, f"max abs error {errors[0]:.3g}", *errors)
    parts = [f"{what} disagree (max abs error {c.max_abs_error:.3g}, max rel error {c.max_rel_error:.3g})"
             for what, c in (("reverse mode and finite differences", result.reverse),
                             ("forward mode and finite differences", result.forward),
                             ("forward and reverse mode", result.modes)) if not c.passed]
    if result.rounding_sized:
        parts.append(f"forward and reverse mode differ by {result.modes.max_abs_error / result.scale:.3g} of the "
                     f"largest entry ({result.scale:.3g}): the size of rounding at an ill-conditioned point, which "
                     "every library's derivative has there; loosen the check's atol if that accuracy is enough")
    w = result.worst
    if w is not None and not any(k["input_index"] == w["input_index"] and k["output_index"] == w["output_index"]
                                 for k in result.kinks[:1]):  # the kink's own words below
        of = f" of output element {w['output_index']}" if w["output_index"] else ""
        parts.append(f"worst at {result.name}{w['input_index']}{of} (of {result.failing:,} failing): jac gives "
                     f"{_num(w['reverse'])}, the differences {_num(w['numeric'])}")
    for kink in result.kinks[:1]:
        parts.append(f"{result.name}{kink['input_index']} is at a kink (slope {_num(kink['left'])} from the left, "
                     f"{_num(kink['right'])} from the right): jac gives {_num(kink['automatic'])}, the "
                     f"differences {_num(kink['numeric'])}")
    if result.nonfinite_automatic:
        parts.append(f"{result.nonfinite_automatic} element(s) of the derivative are NaN or infinite")
    return Outcome(key, False, "; ".join(parts), *errors)


# --- comparing -----------------------------------------------------------------------------------

COMPARE_BLOCK = 8192  # elements compared at once (whole rows of axis 0): about 0.5 MB of temporaries
# bytes compare holds per element of its block at most, eight float64s' worth: 59.7 measured (an actual of float32,
# int or bool made float64 a block at a time beside the float64 expectation), 51.7 for float64 (session 43)
COMPARE_TEMPORARIES = 64


def _made(v, dtype) -> bool:
    """Is a vjp's v with the batch axis an array made for the case (not the suite's own array of the dtype)?"""
    return v is not None and not isinstance(v, str) and not (isinstance(v, np.ndarray) and v.dtype == dtype)


def _shares(a, b) -> bool:
    """Is ``a`` a view of the array ``b`` (arrays allocated apart never overlap: the bounds tell)?"""
    return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.may_share_memory(a, b)


def compare_block(shape: tuple) -> int:
    """The elements :func:`compare` works at once for an expectation of ``shape`` (whole rows of axis 0:
    :data:`COMPARE_BLOCK` elements, or one row), at most all of them."""
    row = max(1, math.prod(shape[1:]))
    return min(math.prod(shape), max(1, COMPARE_BLOCK // row) * row)


def compare_bytes(case: Case) -> int:
    """The most :func:`compare`'s temporaries hold for any expectation of ``case``: its block is read off the
    expectation's shape alone (an actual of another shape is compared only when it has as many elements, as
    the expectation's shape)."""
    return COMPARE_TEMPORARIES * max((compare_block(np.shape(e.value)) for _, e in _compared(case)), default=0)


def _compared(case: Case):
    """``(key, Expected)`` of every array ``case`` compares (its value, Jacobians, vjps' gradients, jvps'
    products, Hessian blocks), several outputs' too."""
    tables = [("value", case.value), ("jacobian", case.jacobian), ("hessian", case.hessian)]
    tables += [(f"vjp[{i}].grad", item.grad) for i, item in enumerate(case.vjp)]
    tables += [(f"jvp[{i}].expected", item.expected) for i, item in enumerate(case.jvp)]
    tables += [(f"derivative[{i}].expected", item.expected) for i, item in enumerate(case.derivative)]
    while tables:
        key, table = tables.pop()
        if isinstance(table, Expected):
            yield key, table
        elif isinstance(table, dict):
            tables += [(f"{key}.{k if isinstance(k, str) else ','.join(k)}", t) for k, t in table.items()]


def compare(key: str, actual, expected: Expected) -> Outcome:
    """``|actual - expected| <= atol + rtol * |expected|`` element-wise, shapes equal.

    NaN matches NaN and an infinity only itself, as written in the suite. Compared a block of
    rows of axis 0 at a time (:data:`COMPARE_BLOCK` elements, or one row): the temporaries
    stay small whatever the arrays' size (a batch's stacked results are compared after they are
    counted against the case's budget; h42-runbatch), with the same answer as all at once.
    """
    a = np.asarray(actual)
    e = np.asarray(expected.value)
    tol = expected.tolerance
    if a.shape != e.shape:
        hint = ""
        if a.size == e.size:  # [[14]] for 14, [2] for 2: say whether only the shape is wrong
            same = compare(key, a.reshape(e.shape), expected).passed
            hint = (f": the same {_plural(a.size, 'element')} in another shape{' (their values match)' if same else ''}"
                    f"; shapes are compared as they are, without broadcasting: write the expectation with shape "
                    f"{fmt(a.shape)}")
        return Outcome(key, False, f"shape {fmt(a.shape)}, expected {fmt(e.shape)}{hint}")
    rows_a, rows_e = (a.reshape(1), e.reshape(1)) if a.ndim == 0 else (a, e)
    row = max(1, math.prod(rows_a.shape[1:]))
    step = max(1, COMPARE_BLOCK // row)
    max_abs = max_rel = 0.0
    bad_count, worst, worst_excess = 0, None, -np.inf
    for start in range(0, rows_a.shape[0], step):
        ab = np.asarray(rows_a[start:start + step], dtype=np.float64)
        eb = np.asarray(rows_e[start:start + step], dtype=np.float64)
        with np.errstate(all="ignore"):
            same = (ab == eb) | (np.isnan(ab) & np.isnan(eb))
            diff = np.where(same, 0.0, np.abs(ab - eb))
            diff = np.where(np.isnan(diff), np.inf, diff)
            allowed = np.where(np.isfinite(eb), tol.atol + tol.rtol * np.abs(eb), 0.0)
            rel = np.where(diff == 0, 0.0, diff / np.abs(eb))
        if diff.size:  # np.maximum: a NaN ratio (inf / inf) is kept, as diff.max() of the whole kept it
            max_abs, max_rel = float(np.maximum(max_abs, diff.max())), float(np.maximum(max_rel, rel.max()))
        bad = diff > allowed
        count = int(bad.sum())
        if not count:
            continue
        bad_count += count
        excess = np.where(bad, diff - allowed, -np.inf)
        i = np.unravel_index(int(np.argmax(excess)), ab.shape)
        if excess[i] > worst_excess:  # strictly: the first of equal ones, as one argmax over all finds it
            worst_excess = excess[i]
            worst = ((start + int(i[0]),) + tuple(map(int, i[1:])), eb[i], ab[i], diff[i])
    if not bad_count:
        return Outcome(key, True, f"max abs error {max_abs:.3g}", max_abs, max_rel)
    (at, want, got, off) = worst
    where = f" at {list(at)}" if a.ndim else ""
    return Outcome(key, False, f"{bad_count} of {a.size} elements differ beyond atol={tol.atol:g} + "
                               f"rtol={tol.rtol:g}·|expected|; worst{where}: expected {_num(want)}, got "
                               f"{_num(got)} (abs error {_num(off)})", max_abs, max_rel)


def compare_shape(key: str, actual: tuple, expected: tuple) -> Outcome:
    actual, expected = tuple(actual), tuple(expected)
    if actual == expected:
        return Outcome(key, True, f"{fmt(actual)}")
    return Outcome(key, False, f"shape {fmt(actual)}, expected {fmt(expected)}")


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _num(x) -> str:
    return f"{float(x):.10g}"


def write_text(path: str, text: str) -> None:
    """Write a report file (``--junit``); a failure is a JacIOError naming the path."""
    from ..lang.fileio import atomic_writer

    try:
        with atomic_writer(path) as fp:
            fp.write(text.encode("utf-8"))
    except OSError as err:
        raise JacIOError(f"cannot write '{path}': {err.strerror or err}") from None
