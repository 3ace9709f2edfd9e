"""Drawing reports for people (rich) and serialising them for programs (JSON).

This is the only module that imports rich.
"""

from __future__ import annotations

import json
import re

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .fileio import to_jsonable
from .report import case_entry, public
from .shapes import fmt, kind

MAX_PRINTED = 400  # elements; bigger arrays print a summary and point to --out


# --- JSON ----------------------------------------------------------------------------------

def _jsonable(obj):
    """Reports -> JSON-ready values without recursion over user-sized data (arrays go
    through :func:`to_jsonable`; report dicts are only a few levels deep)."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)) and not any(isinstance(v, (np.ndarray, np.generic)) for v in obj):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.ndarray, np.generic, float, int)) and not isinstance(obj, bool):
        return to_jsonable(np.asarray(obj))
    return obj


def to_json(report: dict) -> str:
    return json.dumps(_jsonable(public(report)), ensure_ascii=False, allow_nan=False)


def error_json(err) -> str:
    body = {"kind": err.kind, "message": err.message, "position": err.position}
    for extra in ("case", "key"):  # a suite error (jac run) names the case and the key
        if getattr(err, extra, None) is not None:
            body[extra] = getattr(err, extra)
    return json.dumps({"error": body}, ensure_ascii=False)


# --- numbers --------------------------------------------------------------------------------

def format_array(a, width: int = 100) -> str:
    a = np.asarray(a)
    if a.ndim == 0:
        return _scalar(a.item())
    with np.printoptions(precision=6, suppress=True, floatmode="maxprec", linewidth=width, threshold=10**9):
        return np.array2string(a, separator=" ")


def _scalar(v) -> str:
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return f"{v:.1f}"
    return f"{v:.10g}" if isinstance(v, float) else str(v)


def array_lines(a, label: str = "J", width: int = 100) -> list:
    """An array as text: whole up to 2-d, as labelled 2-d slices for 3-d and 4-d."""
    a = np.asarray(a)
    if a.ndim <= 2:
        return format_array(a, width).splitlines()
    lines = []
    for lead in np.ndindex(*a.shape[:-2]):
        head = ", ".join(str(i) for i in lead)
        lines.append(f"{label}[{head}, :, :] =")
        lines.extend("  " + line for line in format_array(a[lead], width).splitlines())
    return lines


def summary_lines(a, what: str = "it") -> list:
    a = np.asarray(a)
    finite = a[np.isfinite(a)]
    nnz = int(np.count_nonzero(a))
    stats = (f"min {format_array(finite.min())}, max {format_array(finite.max())}, "
             f"mean |·| {format_array(np.abs(finite).mean())}") if finite.size else "no finite values"
    return [f"{a.size:,} elements ({nnz:,} nonzero): {stats}",
            f"too large to print; save {what} with --out FILE.npy (or .npz, .json), or use --json"]


# --- human output ------------------------------------------------------------------------------

class Renderer:
    def __init__(self, console: Console | None = None):
        self.console = console or Console(highlight=False)

    def line(self, text: str = "", style: str | None = None) -> None:
        self.console.print(escape(text) if style is None else f"[{style}]{escape(text)}[/]", soft_wrap=True)

    def value(self, a, label: str, indent: str = "  ", what: str = "it") -> None:
        a = np.asarray(a)
        width = max(self.console.width - len(indent), 40)
        lines = array_lines(a, label, width) if a.size <= MAX_PRINTED else summary_lines(a, what)
        for text in lines:
            self.line(indent + text)

    def header(self, report: dict) -> None:
        self.line(report["expression"].strip(), "bold")
        for name, info in report["inputs"].items():
            grad = "requires grad" if info["requires_grad"] else "constant (not in --wrt)"
            self.line(f"  input  {name}: {info['kind']} {fmt(tuple(info['shape']))}, {grad}", "dim")

    def output(self, report: dict) -> None:
        out = report["output"]
        self.line()
        self.line(f"{out['name']} = value: {out['kind']}, shape {fmt(tuple(out['shape']))}", "bold cyan")
        self.value(out["value"], out["name"], what="the value")

    def shape_table(self, rows: list, title: str = "Derivative shapes") -> None:
        table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
        for col in ("input", "input kind", "output kind", "array shape", "math_shape"):
            table.add_column(col)
        for name, x_shape, y_shape, array_shape, m_shape in rows:
            table.add_row(name, f"{kind(x_shape)} {fmt(x_shape)}", f"{kind(y_shape)} {fmt(y_shape)}",
                          fmt(array_shape), fmt(m_shape))
        self.line()
        self.console.print(table)

    # one method per command ------------------------------------------------------------------

    def eval(self, report: dict) -> None:
        self.header(report)
        self.output(report)
        y_shape = tuple(report["output"]["shape"])
        y = report["output"]["name"]
        rows = []
        for name, block in report["jacobian"].items():
            x_shape = tuple(report["inputs"][name]["shape"])
            self.line()
            self.line(f"∂{y}/∂{name}: {block['cell']}, {block['structure']}, {block['layout']} layout "
                      f"{fmt(tuple(block['shape']))}, math_shape {fmt(tuple(block['math_shape']))}", "bold green")
            self.line(f"  {block['legend']}", "dim")
            self.value(block["value"], "J", what="the Jacobian")
            rows.append((name, x_shape, y_shape, y_shape + x_shape, tuple(block["math_shape"])))
        if not rows:
            self.line("\nno inputs to differentiate (bind one, or check --wrt)")
        else:
            self.shape_table(rows)

    def vjp(self, report: dict) -> None:
        self.header(report)
        self.output(report)
        self.line()
        y = report["output"]["name"]
        self.line(f"v (as in {y}.backward(gradient=v)): shape {fmt(tuple(report['v']['shape']))}", "bold")
        self.value(report["v"]["value"], "v")
        for name, block in report["vjp"].items():
            self.line()
            self.line(f"{name}.grad = vᵀ·∂{report['output']['name']}/∂{name}: shape {fmt(tuple(block['shape']))}", "bold green")
            self.value(block["value"], f"{name}.grad")

    def jvp(self, report: dict) -> None:
        self.header(report)
        self.output(report)
        for name, block in report["tangent"].items():
            self.line()
            self.line(f"tangent for {name}: shape {fmt(tuple(block['shape']))}", "bold")
            self.value(block["value"], f"t_{name}")
        self.line()
        y = report["output"]["name"]
        self.line(f"jvp = Σₓ ∂{y}/∂x · t_x: shape {fmt(tuple(report['jvp']['shape']))}", "bold green")
        self.value(report["jvp"]["value"], "jvp")

    def hessian(self, report: dict) -> None:
        self.header(report)
        self.output(report)
        for pair, block in report["hessian"].items():
            a, b = pair.split(",")
            self.line()
            self.line(f"∂²{report['output']['name']}/∂{a}∂{b}: shape {fmt(tuple(block['shape']))}, math_shape "
                      f"{fmt(tuple(block['math_shape']))}", "bold green")
            self.line(f"  {block['legend']}", "dim")
            self.value(block["value"], "H", what="the Hessian")

    def shape(self, report: dict) -> None:
        self.header(report)
        out = report["output"]
        self.line()
        self.line(f"{out['name']}: {out['kind']}, shape {fmt(tuple(out['shape']))}", "bold cyan")
        y_shape = tuple(out["shape"])
        rows = []
        for name, d in report["derivatives"].items():
            x_shape = tuple(report["inputs"][name]["shape"])
            self.line(f"  ∂{out['name']}/∂{name}: {d['cell']}, shape {fmt(tuple(d['shape']))}, "
                      f"math_shape {fmt(tuple(d['math_shape']))}   {d['legend']}")
            rows.append((name, x_shape, y_shape, tuple(d["shape"]), tuple(d["math_shape"])))
        if rows:
            self.shape_table(rows)

    def run(self, report: dict) -> None:
        """The summary table, every case that did not pass in full, and the totals."""
        if report["cases"]:
            self.console.print(_run_summary_table(report, self.console.width))
        else:
            self.line("no cases in this selection", "yellow")
        for case in report["cases"]:
            if case["status"] != "passed":
                self.case_details(case)
        self.line()
        self.line(_run_totals(report), "bold green" if report["passed"] else "bold red")

    def case_details(self, case: dict) -> None:
        self.line()
        self.line(f"{STATUS_WORD[case['status']]} {case['name']}: {case['expression'].strip()}",
                  STATUS_STYLE[case["status"]])
        for item in case["expectations"]:
            if not item["passed"]:
                self.line(f"  {item['key']}: {item['message']}")
        err = case["error"]
        if err:
            self.line(f"  {first_problem(case)}")
            if err.get("position") is not None:
                text, caret = caret_lines(case["expression"], err["position"])
                self.line("    " + text)
                self.line("    " + caret, "red")

    def error(self, err) -> None:
        """One message on stderr: what, where, and a caret under the column."""
        self.line(f"jac: error ({err.kind}): {err.message}", "bold red")
        if err.position is not None and err.source:
            text, caret = caret_lines(err.source, err.position)
            self.line("  " + text)
            self.line("  " + caret, "red")


def caret_lines(source: str, position: int) -> tuple:
    """The line of ``source`` holding ``position`` and a caret under that column."""
    position = max(0, min(position, len(source)))
    start = source.rfind("\n", 0, position) + 1
    end = source.find("\n", position)
    line = source[start:end if end >= 0 else len(source)]
    col = position - start
    if len(line) > 100:  # show a window around a long line
        lo = max(0, col - 50)
        line, col = ("…" if lo else "") + line[lo:lo + 100], col - lo + (1 if lo else 0)
    return line, " " * col + "^"


# --- jac run ----------------------------------------------------------------------------------------

STATUS_STYLE = {"passed": "green", "failed": "bold red", "error": "bold magenta"}
STATUS_WORD = {"passed": "PASS", "failed": "FAIL", "error": "ERROR"}


def first_problem(case: dict) -> str:
    """One line on why a case did not pass ('' if it did)."""
    if case["error"]:
        err = case["error"]
        return f"{err['kind']} error{' at ' + err['key'] if err.get('key') else ''}: {err['message']}"
    failing = [e for e in case["expectations"] if not e["passed"]]
    return f"{failing[0]['key']}: {failing[0]['message']}" if failing else ""


class RunProgress:
    """Cases as they finish: a rich progress bar on an interactive terminal (failures
    printed above it), one plain line per case otherwise (CI logs)."""

    def __init__(self, total: int, console: Console | None = None):
        self.console = console or Console(highlight=False)
        self.total, self.done, self.failed = total, 0, 0
        self.bar = None

    def __enter__(self) -> "RunProgress":
        if self.console.is_interactive and self.total:
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                                       TimeElapsedColumn)

            self.bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("{task.fields[failed]}"), TimeElapsedColumn(), console=self.console,
                                transient=True)
            self.bar.start()
            self.task = self.bar.add_task("running", total=self.total, failed="")
        return self

    def __call__(self, result) -> None:
        self.done += 1
        case = case_entry(result)
        self.failed += case["status"] != "passed"
        line = self._line(case)
        if self.bar is None:
            Renderer(self.console).line(line)
            return
        if case["status"] != "passed":
            self.bar.console.print(f"[{STATUS_STYLE[case['status']]}]{escape(line)}[/]", soft_wrap=True)
        self.bar.update(self.task, advance=1, failed=f"[red]{self.failed} not passed[/]" if self.failed else "")

    def _line(self, case: dict) -> str:
        width = len(str(self.total))
        text = f"[{self.done:>{width}}/{self.total}] {STATUS_WORD[case['status']]:<5} {case['name']} " \
               f"({_duration(case['seconds'])})"
        problem = first_problem(case)
        return f"{text}: {problem}" if problem else text

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _run_summary_table(report: dict, width: int) -> Table:
    table = Table(title=f"{report['name']}: {_plural(report['summary']['cases'], 'case')}", title_justify="left",
                  show_edge=False, pad_edge=False)
    details = [first_problem(c) or _plural(len(c["expectations"]), "expectation") + " met" for c in report["cases"]]
    room = width - 22  # result and time columns, separators
    longest = max(len(c["name"]) for c in report["cases"])
    name_width = min(longest, max(12, room - min(max(map(len, details)), room // 2)))
    table.add_column("case", overflow="fold", max_width=name_width)
    table.add_column("result", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    # one line per case; the full text follows the table
    table.add_column("detail", no_wrap=True, overflow="ellipsis", max_width=max(16, room - name_width))
    for case, detail in zip(report["cases"], details):
        status = case["status"]
        table.add_row(escape(case["name"]), f"[{STATUS_STYLE[status]}]{STATUS_WORD[status]}[/]",
                      _duration(case["seconds"]), escape(detail))
    return table


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _run_totals(report: dict) -> str:
    s = report["summary"]
    shard = report["selection"]["shard"]
    where = f", shard {shard[0]}/{shard[1]}" if shard else ""
    return (f"{s['passed']} passed, {s['failed']} failed, {_plural(s['errors'], 'error')} in {s['seconds']:.2f} s "
            f"({s['cases']} of {s['in_suite']} cases{where}, {_plural(s['jobs'], 'worker')})")


# --- JUnit XML --------------------------------------------------------------------------------------

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text) -> str:
    """Text that XML 1.0 can hold: control characters are written as \\xNN."""
    return _NOT_XML.sub(lambda m: f"\\x{ord(m[0]):02x}", str(text))


def junit_xml(report: dict) -> str:
    """The report of ``jac run`` as JUnit XML: one <testsuite>, one <testcase> per case,
    <failure> for unmet expectations, <error> for a case that could not run."""
    import xml.etree.ElementTree as ET

    s = report["summary"]
    counts = {"tests": str(s["cases"]), "failures": str(s["failed"]), "errors": str(s["errors"]),
              "time": f"{s['seconds']:.3f}"}
    root = ET.Element("testsuites", name="jac run", **counts)
    suite = ET.SubElement(root, "testsuite", name=_xml(report["name"]), skipped="0", **counts)
    for case in report["cases"]:
        node = ET.SubElement(suite, "testcase", classname=_xml(report["name"]), name=_xml(case["name"]),
                             time=f"{case['seconds']:.3f}")
        failing = [e for e in case["expectations"] if not e["passed"]]
        if case["error"]:
            ET.SubElement(node, "error", message=_xml(first_problem(case)), type=case["error"]["kind"]).text = \
                _xml(first_problem(case))
        elif failing:
            ET.SubElement(node, "failure", message=_xml(first_problem(case)), type="expectation").text = \
                _xml("\n".join(f"{e['key']}: {e['message']}" for e in failing))
        ET.SubElement(node, "system-out").text = _xml("\n".join(
            [f"expression: {case['expression']}"] +
            [f"{'ok  ' if e['passed'] else 'FAIL'} {e['key']}: {e['message']}" for e in case["expectations"]]))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
