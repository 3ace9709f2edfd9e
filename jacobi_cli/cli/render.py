"""Drawing reports for people (rich) and serialising them for programs (JSON).

This is the only module that imports rich, and only when it draws for a terminal: to a
pipe or a file rich prints plain text, and :class:`Renderer` writes that same text itself
(lines, and the one table it draws), so a ``jac eval`` in a script does not pay rich's
import. Anything it cannot match exactly (a control character, a table wider than the
console, a rich object from another command) goes through rich.
"""

from __future__ import annotations

import math
import os
import re
import sys
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from ..ir.graph import LEAF_OPS
from ..tools.report import GraphResult, JSONReady, case_entry
from ..ir.shapes import fmt, kind

if TYPE_CHECKING:  # rich is imported where it draws, not when this module loads
    from collections.abc import Iterator

    from rich.console import Console
    from rich.table import Table

MAX_PRINTED = 400  # elements; bigger arrays print a summary and point to --out
RICH_ENV = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS", "JUPYTER_LINES")
MAX_TREE_NODES = 200  # lines of the human graph tree; --json and --dot always hold every node
MAX_TREE_DEPTH = 40
INLINE_ELEMENTS = 6  # a gradient up to this size is printed in the tree, else summarised
MAX_NOTES = 3  # kink notes per input in jac check's human output


# --- JSON ----------------------------------------------------------------------------------

def _jsonable(obj, big=None):
    """Reports -> JSON-ready values without recursion over user-sized data (arrays go
    through :func:`to_jsonable`; report dicts are only a few levels deep). With ``big`` (a
    ``fileio.MarkedArrays``), a large array is a marker that :func:`json_pieces` writes in blocks."""
    if type(obj) is JSONReady:  # JSON values already (jac graph's nodes and edges)
        return obj
    if isinstance(obj, dict):
        return {str(k): _jsonable(v, big) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)) and not any(isinstance(v, (np.ndarray, np.generic)) for v in obj):
        return [_jsonable(v, big) for v in obj]
    if type(obj) is int:  # a size past int64 (`jac shape x:10**30`) stays an exact JSON integer
        return obj
    if isinstance(obj, (np.ndarray, np.generic, float, int)) and not isinstance(obj, bool):
        from ..lang.fileio import jsonable_or_marked, to_jsonable

        return to_jsonable(np.asarray(obj)) if big is None else jsonable_or_marked(obj, big)
    return obj


def json_pieces(report) -> Iterator[str]:
    """Pieces whose concatenation is :func:`to_json`'s text, each printable: a large array's
    text made a block of rows at a time (``fileio.json_pieces``), so ``--json`` holds the arrays
    and at most a block's text beside them, never their nested lists or the whole text (session 42:
    ``--max-memory`` bounds the JSON too). Everything that can fail is done before the first piece."""
    from ..lang.fileio import MarkedArrays, json_pieces as pieces

    if isinstance(report, GraphResult):
        graph = _graph_json(report)
        if graph is not None:
            return map(printable, graph)
    data = report.to_json() if hasattr(report, "to_json") else report
    big = MarkedArrays()
    return map(printable, pieces(_jsonable(data, big), big))


def printable(text: str) -> str:
    """``text`` that any UTF-8 stream can print: bytes that were not UTF-8 on the command
    line (Python keeps them as lone surrogates) are shown as ``\\udcff``."""
    if text.isascii():  # nothing to replace (45 MB of jac graph --json: not copied twice)
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def visible(text: str) -> str:
    """``text`` as a terminal shows it without obeying it: control characters other than
    new lines and tabs (an ESC that would recolour or retitle the terminal, a carriage
    return that would overwrite the line) are shown escaped, as Python writes them:
    ``visible("x\\x1b[31m")`` is ``'x\\\\x1b[31m'``."""
    text = printable(text)
    if text.isprintable() and (text.isascii() or _BIDI.isdisjoint(text)):
        return text
    return "".join(c if c.isprintable() or c in "\n\t" or not _control(c) else _escaped(c) for c in text)


def one_line(text: str) -> str:
    """A name as :func:`visible` shows it, on one line: a new line or tab in it (a case name written as a
    TOML multi-line string) shown as ``\\n`` / ``\\t``, so that jac run's one line per case stays one
    line in a CI log and the summary table one row per case."""
    text = visible(text)
    return text.replace("\n", "\\n").replace("\t", "\\t") if "\n" in text or "\t" in text else text


# the marks and overrides of the bidirectional algorithm: printable to Python, but they reorder what a terminal shows
# after them (a case name that shows its FAIL row backwards, "Trojan Source"), so they are shown escaped too
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _control(c: str) -> bool:
    return ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 or c in "\u2028\u2029" or c in _BIDI


def _escaped(c: str) -> str:
    return f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"


def to_json(report) -> str:
    """A result's ``--json`` object (:meth:`~jacobi_cli.tools.report.Result.to_json`) as text: the
    pieces of :func:`json_pieces` joined, the one way the text is made (session 43), without the new
    line that :func:`write_json` and ``print`` add after it. It holds the whole text, never the
    arrays' nested lists."""
    return "".join(json_pieces(report))


def write_json(report, stream) -> None:
    """``print(to_json(report), file=stream)``: the same characters, written piece by piece as
    they are made (:func:`json_pieces`), never joined into one string (nor encoded in one piece):
    45 MB of text for ``jac graph`` on a 300,000-node sum, eight times a Jacobian's bytes for
    ``jac eval --json``."""
    for piece in json_pieces(report):
        stream.write(piece)
    stream.write("\n")


_NODE_JSON = '"op": %s, "name": %s, "shape": %s, "kind": %s, "leaf": %s, "requires_grad": %s, "grad": null}'
JSON_BLOCK = 16384  # nodes per piece of jac graph's --json text


def _graph_json(report) -> Iterator[str] | None:
    """``jac graph --json`` written from the graph, without making the 300,000 records and
    converting them: an iterator of pieces whose concatenation is the text ``json.dumps``
    makes of the records (``", "`` and ``": "`` separators, strings as ``ensure_ascii=False``
    writes them), or None where this does not apply (records already made, gradients, a size
    that is not a Python int, keys in another order), decided before the first piece."""
    import json

    if not report.records_pending() or report.grads:
        return None
    names = list(report.data)
    if "nodes" not in names or "edges" not in names or names.index("nodes") > names.index("edges"):
        return None
    nodes = report.graph.nodes
    listed = list(map(nodes.__getitem__, report.picked))
    if not all(type(d) is int for shape in {n.shape for n in listed} for d in shape):
        return None
    keys = [f"{', ' if k else '{'}{json.dumps(str(name), ensure_ascii=False)}: " for k, name in enumerate(names)]
    # the other keys' text first, a large array (the output's value, per example under --batch) as a marker that
    # fileio.json_pieces writes a block of rows at a time (session 48: json.dumps of its nested lists took some
    # six times the budget that --max-memory had checked): nothing fails once writing began
    values = [None if name in ("nodes", "edges") else _value_pieces(value) for name, value in report.data.items()]
    return _graph_json_pieces(names, keys, values, listed, len(nodes))


def _value_pieces(value) -> Iterator[str]:
    """``json.dumps(_jsonable(value))``'s text in pieces, its large arrays a block at a time."""
    from ..lang.fileio import MarkedArrays, json_pieces as pieces

    big = MarkedArrays()
    return pieces(_jsonable(value, big), big)


def _graph_json_pieces(names: list, keys: list, values: list, listed: list, count: int) -> Iterator[str]:
    edges: list = []  # each block's edges, written after the nodes
    for name, key, value in zip(names, keys, values):
        yield key
        if name == "nodes":
            yield "["
            numbers = list(map(str, range(count)))  # every id's text (str of an int is json.dumps's)
            tails: dict = {}  # (op, name, shape, requires_grad) -> the record's text after its id
            for start in range(0, len(listed), JSON_BLOCK):
                rows, edge_text = _graph_block(listed[start:start + JSON_BLOCK], numbers, tails)
                if start:
                    yield ", "
                yield rows
                if edge_text:
                    edges.append(edge_text)
            yield "]"
        elif name == "edges":
            yield "["
            yield ", ".join(edges)
            yield "]"
        else:
            yield from value
    yield "}"


def _graph_block(block: list, numbers: list, tails: dict) -> tuple:
    """``(records, edges)`` of ``block``'s nodes as text, each ``", "``-joined; ``numbers[i]`` is
    ``str(i)``, ``tails`` keeps each distinct record's text after its id."""
    rows, edges = [], []
    row, edge = rows.append, edges.append
    for node in block:
        node_id, op, args = node.id, node.op, node.args
        key = (op, node.name, node.shape, node.requires_grad)
        tail = tails.get(key)
        if tail is None:
            tail = tails[key] = _record_tail(*key)
        i = numbers[node_id]
        row(f'{{"id": {i}, {tail}')
        if args:
            if len(args) == 2:  # most nodes: both edges in one piece of text
                a, b = args
                edge(f"[{numbers[a]}, {i}], [{numbers[b]}, {i}]")
            else:
                edge(", ".join([f"[{numbers[a]}, {i}]" for a in args]))
    return ", ".join(rows), ", ".join(edges)


def _record_tail(op: str, name, shape: tuple, requires_grad) -> str:
    import json

    return _NODE_JSON % (json.dumps(op, ensure_ascii=False), json.dumps(name, ensure_ascii=False),
                         json.dumps(list(shape)), json.dumps(kind(shape)), json.dumps(op in LEAF_OPS),
                         json.dumps(bool(requires_grad)))


def error_json(err) -> str:
    import json

    of = getattr(err, "value_of", None)
    body = {"kind": err.kind, "message": err.message, "position": None if of else err.position}
    if of and err.position is not None:  # the column is in a value (x=VALUE, --v VALUE): the expression has none
        body["value"] = {"of": of, "text": err.source, "position": err.position}
    for extra in ("case", "key"):  # a suite error (jac run) names the case and the key
        if getattr(err, extra, None) is not None:
            body[extra] = getattr(err, extra)
    return printable(json.dumps({"error": body}, ensure_ascii=False))


# --- numbers --------------------------------------------------------------------------------

def format_array(a, width: int = 100) -> str:
    a = np.asarray(a)
    if a.dtype.kind == "f":
        a = a + 0.0  # -0.0 prints as 0: the sign of a zero derivative is noise to a reader
    if a.ndim == 0:
        return _scalar(a.item())
    with np.printoptions(precision=6, suppress=not _hides_a_nonzero(a), floatmode="maxprec", linewidth=width,
                         threshold=10**9):
        return np.array2string(a, separator=" ")


def _hides_a_nonzero(a: np.ndarray) -> bool:
    """Whether fixed-point printing at 6 decimals would show a nonzero finite element of ``a`` as 0 where it is more
    than rounding noise: [1e-09 -1e-12] as [0. -0.], and [3. 3e-08] as [3. 0.], a derivative of zero that is not one.
    Such an array is printed in NumPy's scientific notation ([3.e+00 3.e-08]), as NumPy and PyTorch print it. An
    element within 1000·eps of the largest (1e-16 beside 1: an eigendecomposition's rounding) still prints as 0."""
    if a.dtype.kind != "f" or a.size == 0:
        return False
    magnitudes = np.abs(a[np.isfinite(a)])
    below_one = magnitudes[(magnitudes > 0.0) & (magnitudes < 1.0)]  # only these can round to 0, and rounding
    hidden = below_one[np.round(below_one, 6) == 0.0]  # 1.8e308 scales it by 1e6: NumPy's overflow warning printed
    if hidden.size == 0:
        return False
    return float(hidden.max()) > float(magnitudes.max()) * 1e3 * float(np.finfo(a.dtype).eps)  # Python floats:
    # float32's 3.4e38 times 1e3 overflowed in float32, NumPy's warning printed


def _scalar(v) -> str:
    """A float always looks like one: ``6.0``, and ``-2.0`` for det's -2.0000000000000004 too."""
    if not isinstance(v, float):
        return str(v)
    text = f"{v:.10g}"
    return text + ".0" if text.lstrip("-").isdigit() else text


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


SUMMARY_PIECE = 2**13  # elements summarised at a time: a summary never copies a large array (its temporaries,
# a piece, its mask, its finite part and their absolute values, 2**16 of them held 1.1 MiB past a budget: session 49)


def summary_lines(a, what: str = "it", saved: bool = False) -> list:
    a = np.asarray(a)
    flat = a.reshape(-1)  # a view when it can be; the pieces below are the only temporaries
    count, nnz, low, high, total = 0, 0, np.inf, -np.inf, 0.0
    with np.errstate(all="ignore"):
        for start in range(0, flat.size, SUMMARY_PIECE):
            piece = flat[start:start + SUMMARY_PIECE]
            nnz += int(np.count_nonzero(piece))
            finite = piece[np.isfinite(piece)]
            if finite.size:
                count += finite.size
                low, high = min(low, finite.min()), max(high, finite.max())
                total += float(np.abs(finite).sum(dtype=np.float64))
    mean = np.asarray(total / count, dtype=a.dtype) if count else None
    stats = (f"min {format_array(low)}, max {format_array(high)}, mean |·| {format_array(mean)}") if count \
        else "no finite values"
    # only jac eval's --out saves, and only the Jacobians: the hint named --out for values, Hessians and
    # commands that have no --out (session 39)
    hint = f"save {what} with --out FILE.npy (or .npz, .json), or use --json" if saved else \
        "see every value with --json"
    return [f"{a.size:,} elements ({nnz:,} nonzero): {stats}", f"too large to print; {hint}"]


# --- human output ------------------------------------------------------------------------------

def plain_output(stream) -> bool:
    """Whether rich would print plain text to ``stream``: not a terminal, and nothing in
    the environment that makes rich treat it as one."""
    isatty = getattr(stream, "isatty", None)
    return not (isatty is not None and isatty()) and not any(os.environ.get(k) for k in RICH_ENV)


def console_width() -> int:
    """The width rich's Console takes: the terminal of stdin, stdout or stderr, else 80; ``COLUMNS`` wins."""
    width = 0
    for fd in (0, 1, 2):
        try:
            width = os.get_terminal_size(fd).columns
            break
        except (AttributeError, ValueError, OSError):
            continue
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() else (width or 80)


def _plain_safe(text: str) -> bool:
    """Text that rich prints unchanged: no control characters but newlines."""
    return all(ch >= " " or ch == "\n" for ch in text) and "\x7f" not in text


def _drawing(expr, width: int) -> tuple:
    """A formula as :meth:`Renderer.formula` prints it: ``("drawn", SymPy's pretty text at width)``, or for an
    array too big to draw ``("listed", its nonzero entries' lines, how many are nonzero, how many entries)``."""
    from ..tools.symbolic import drawn, listed, pretty

    if not drawn(expr):
        lines, nonzero = listed(expr)
        return "listed", lines, nonzero, int(np.prod(expr.shape))
    return "drawn", pretty(expr, width)


class Renderer:
    """Draws reports: through rich for a terminal (or a ``console`` passed in), as the same
    plain text written directly otherwise. ``self.console`` is a rich Console, made on first use."""

    def __init__(self, console=None, stderr: bool = False):
        self._console = console
        self.stderr = stderr
        self.batched = False  # set by header: a --batch report, whose printed arrays carry the example first
        self.plain = console is None and plain_output(sys.stderr if stderr else sys.stdout)
        self._drawings: dict = {}  # id of a SymPy formula -> its drawing, made within jac diff's --timeout

    @property
    def console(self):
        if self._console is None:
            from rich.console import Console

            self._console = Console(highlight=False, emoji=False, stderr=self.stderr)
        return self._console

    @property
    def width(self) -> int:
        return console_width() if self.plain else self.console.width

    def write(self, text: str) -> None:
        (sys.stderr if self.stderr else sys.stdout).write(text + "\n")

    def line(self, text: str = "", style: str | None = None) -> None:
        text = visible(text)
        if self.plain and _plain_safe(text):
            self.write(text)
            return
        from rich.markup import escape

        text = escape(text)
        self.console.print(text if style is None else f"[{style}]{text}[/]", soft_wrap=True)

    def table(self, title: str, columns: tuple, rows: list) -> None:
        """A table as rich draws ``Table(title, title_justify="left", show_edge=False, pad_edge=False)``."""
        title, columns = visible(title), tuple(visible(c) for c in columns)
        rows = [tuple(visible(c) for c in row) for row in rows]
        text = plain_table(title, columns, rows, self.width) if self.plain else None
        if text is not None:
            self.write(text)
            return
        from rich.markup import escape
        from rich.table import Table

        table = Table(title=escape(title), title_justify="left", show_edge=False, pad_edge=False)
        for col in columns:
            table.add_column(col)
        for row in rows:
            table.add_row(*row)
        self.console.print(table)

    def value(self, a, label: str, indent: str = "  ", what: str = "it", saved: bool = False) -> None:
        """An array, or its summary when large (``saved``: jac eval's --out can save it: a Jacobian)."""
        a = np.asarray(a)
        width = max(self.width - len(indent), 40)
        lines = array_lines(a, label, width) if a.size <= MAX_PRINTED else summary_lines(a, what, saved)
        for text in lines:
            self.line(indent + text)

    def legend(self, text: str) -> None:
        """A block's index legend, which describes one example: with --batch the array printed below it carries
        the example first (J[0, :, :] is example 0's J[:, :]), and the legend says so."""
        self.line(f"  {text}" + ("; below, the first index is the example" if self.batched else ""), "dim")

    def header(self, report: dict, on: str = "requires grad", off: str = "constant (not in --wrt)") -> None:
        self.line(echo(report["expression"]), "bold")
        batch = report.get("batch")
        self.batched = bool(batch)
        drawn = getattr(report, "drawn", {})  # NAME:SHAPE inputs: their values, which nothing else shows
        made = getattr(report, "made", ())  # inputs the text makes (requires_grad=True): their values too
        random = getattr(report, "random", ())  # those of them that hold jac's draws (torch.randn, nn.Linear)
        for name, info in report["inputs"].items():
            grad = on if info["requires_grad"] else off
            batched = bool(batch) and name in batch["inputs"]
            axis = f", batched along axis {batch['inputs'][name]}" if batched else \
                ", shared by every example" if batch else ""
            value = drawn.get(name)
            shown = value is not None and np.size(value) <= MAX_PRINTED
            what = "" if value is None else (", made in the text" + (
                ", drawn by jac (--seed), not PyTorch's numbers" if name in random else "")
                if name in made else ", drawn from N(0, 1)") + (
                f" (all {batch['size']:,} examples, shape {fmt(np.shape(value))})" if batched else ""
            ) + (":" if shown else "")
            self.line(f"  input  {name}: {info['kind']} {fmt(tuple(info['shape']))}, {grad}{axis}{what}", "dim")
            if shown:
                self.value(value, name, indent="    ")
        for name, value in getattr(report, "frozen", {}).items():  # fc.weight.requires_grad_(False): a constant
            shown = np.size(value) <= MAX_PRINTED
            what = ", drawn by jac (--seed), not PyTorch's numbers" if name in random else ""
            self.line(f"  const  {name}: {kind(np.shape(value))} {fmt(np.shape(value))}, requires_grad=False in the "
                      f"text (no derivative){what}" + (":" if shown else ""), "dim")
            if shown:
                self.value(value, name, indent="    ")
        if batch:
            plural = "" if batch["size"] == 1 else "s"
            rest = ("; formulas too, the same for every example" if report.get("command") == "diff" else
                    "" if report.get("command") == "shape" else "; every value and result carries the batch axis first")
            self.line(f"  batch  {batch['size']:,} example{plural}: shapes are one example's{rest}", "dim")
        if getattr(report, "text_gradient", False) and report["command"] != "vjp":
            self.line("  note   the text calls backward(gradient=V): jac vjp prints what it leaves in each x.grad "
                      "(Vᵀ·J); this prints the whole Jacobians", "dim")

    def output(self, report: dict) -> None:
        out = report["output"]
        self.line()
        per = " per example" if report.get("batch") else ""
        self.line(f"{out['name']} = value: {out['kind']}, shape {fmt(tuple(out['shape']))}{per}", "bold cyan")
        self.value(out["value"], out["name"], what="the value")

    def shape_table(self, rows: list, title: str = "Derivative shapes") -> None:
        cells = [(name, f"{kind(x_shape)} {fmt(x_shape)}", f"{kind(y_shape)} {fmt(y_shape)}", fmt(array_shape),
                  fmt(m_shape)) for name, x_shape, y_shape, array_shape, m_shape in rows]
        self.line()
        self.table(title, ("input", "input kind", "output kind", "array shape", "math_shape"), cells)

    # one method per command ------------------------------------------------------------------

    def eval(self, report: dict) -> None:
        self.header(report)
        for sub in per_output(report, "jacobian", "jacobians"):
            self.eval_output(sub)

    def eval_output(self, report: dict) -> None:
        self.output(report)
        if report["output"].get("expr"):
            if report["output"].get("note"):
                self.line(f"  note: {report['output']['note']}", "yellow")
            self.line("  formula:", "dim")
            self.formula(report.formulas["output"], report["output"]["latex"], indent="    ")
        y_shape = tuple(report["output"]["shape"])
        y = report["output"]["name"]
        rows = []
        for name, block in report["jacobian"].items():
            x_shape = tuple(report["inputs"][name]["shape"])
            jac = report.jacobians.get(name)
            structure = jac.describe() if jac is not None else block["structure"]
            self.line()
            self.line(f"∂{y}/∂{name}: {block['cell']}, {structure}, {block['layout']} layout "
                      f"{fmt(tuple(block['shape']))}, math_shape {fmt(tuple(block['math_shape']))}", "bold green")
            self.legend(block["legend"])
            if "value" in block:
                self.value(block["value"], "J", what="the Jacobian", saved=True)
            elif "file" in block:
                self.line(f"  streamed to {block['file']['path']} ({block['file']['bytes']:,} bytes): larger than the "
                          "memory budget, it was never whole in memory")
            else:
                self.structured(jac, block["layout"], alone=len(report["jacobian"]) == 1)
            if "expr" in block:
                self.eval_formula(block, report.formulas[name])
            rows.append((name, x_shape, y_shape, y_shape + x_shape, tuple(block["math_shape"])))
        if not rows:
            self.line("\nno inputs to differentiate (bind one, or check --wrt)")
        else:
            self.shape_table(rows)

    def structured(self, jac, layout: str, alone: bool = True) -> None:
        """A diagonal, sparse or zero Jacobian: whole when small, else what it stores. ``alone``: the only
        Jacobian of the report (else ``--out FILE.npz`` keeps it sparse only with ``--wrt`` naming it)."""
        if jac.size <= MAX_PRINTED:
            self.value(jac.to_array(layout), "J", what="the Jacobian", saved=True)
        elif jac.structure == "zero":
            self.line(f"  all {jac.size:,} elements are 0: the output does not depend on {jac.name}")
        elif jac.structure == "diagonal" and jac.nnz <= MAX_PRINTED:
            self.line(f"  the diagonal (J[i, i], shaped like {jac.name}), the rest is 0:")
            self.value(jac.diagonal(), "diag")
        else:
            what = "on the diagonal" if jac.structure == "diagonal" else "stored"
            self.line(f"  {jac.nnz:,} values {what}, of {jac.size:,} elements (the rest is 0): "
                      + summary_lines(jac.values)[0].split(": ", 1)[1])
            wrt = "" if alone else f" --wrt {jac.name}"
            self.line(f"  save it with --out FILE.npz{wrt} (a SciPy sparse matrix), or see its entries with --json --sparse")

    def plan(self, plan) -> None:
        """``--explain``: the plan, before it runs."""
        lines = plan.explain()
        self.line(lines[0], "bold")
        for text in lines[1:]:
            self.line(text, "dim" if text.lstrip().startswith("why:") else None)
        self.line()

    def eval_formula(self, block: dict, formula) -> None:
        if block["expr"] is None:
            self.line(f"  {block['note']}", "dim")
            return
        if block.get("note"):
            self.line(f"  note: {block['note']}", "yellow")
        self.line("  formula:", "dim")
        self.formula(formula, block["latex"], indent="    ")

    def vjp(self, report: dict) -> None:
        self.header(report)
        names = []
        for sub in per_output(report, "v", "v"):
            self.output(sub)
            self.line()
            y = sub["output"]["name"]
            names.append(y)
            self.line(f"v (as in {y}.backward(gradient=v)): shape {fmt(tuple(sub['v']['shape']))}", "bold")
            self.value(sub["v"]["value"], "v")
        of = names[0] if len(names) == 1 else f"({', '.join(names)})"
        for name, block in report["vjp"].items():
            self.line()
            self.line(f"{name}.grad = vᵀ·∂{of}/∂{name}: shape {fmt(tuple(block['shape']))}", "bold green")
            self.value(block["value"], f"{name}.grad")

    def jvp(self, report: dict) -> None:
        self.header(report)
        for name, block in report["tangent"].items():
            self.line()
            self.line(f"tangent for {name}: shape {fmt(tuple(block['shape']))}", "bold")
            self.value(block["value"], f"t_{name}")
        for sub in per_output(report, "jvp", "jvps"):
            self.output(sub)
            self.line()
            y = sub["output"]["name"]
            self.line(f"jvp = Σₓ ∂{y}/∂x · t_x: shape {fmt(tuple(sub['jvp']['shape']))}", "bold green")
            self.value(sub["jvp"]["value"], "jvp")

    def hessian(self, report: dict) -> None:
        self.header(report)
        for sub in per_output(report, "hessian", "hessians"):
            self.hessian_output(sub)

    def derivative(self, report: dict) -> None:
        self.header(report)
        for sub in per_output(report, "derivative", "derivatives"):
            self.output(sub)
            for name, block in sub["derivative"].items():
                self.line()
                k, y = block["order"], sub["output"]["name"]
                power = "" if k == 1 else "".join("⁰¹²³⁴⁵⁶⁷⁸⁹"[int(c)] for c in str(k))
                self.line(f"∂{power}{y}/∂{name}{power}: order {k}, shape {fmt(tuple(block['shape']))}, "
                          f"{block['structure']}", "bold green")
                self.legend(block["legend"])
                if "value" in block:
                    self.value(block["value"], "D", what="the derivative")
                else:
                    self.line("  the diagonal D[i, i, ..., i] (shaped like the output), the rest is 0:")
                    self.value(block["diagonal"], "diag")

    def hessian_output(self, report: dict) -> None:
        self.output(report)
        for pair, block in report["hessian"].items():
            a, b = pair.split(",")
            self.line()
            self.line(f"∂²{report['output']['name']}/∂{a}∂{b}: shape {fmt(tuple(block['shape']))}, math_shape "
                      f"{fmt(tuple(block['math_shape']))}", "bold green")
            self.legend(block["legend"])
            self.value(block["value"], "H", what="the Hessian")

    def shape(self, report: dict) -> None:
        self.header(report)
        for sub in per_output(report, "derivatives", "derivatives"):
            self.shape_output(sub)

    def shape_output(self, report: dict) -> None:
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

    def formula(self, expr, latex: str, as_latex: bool = False, indent: str = "  ", label: str = "J") -> None:
        """A SymPy formula: SymPy's pretty printer (Unicode, 2-d), or its LaTeX; an array too big
        to draw is listed, its nonzero entries one a line (``J[0, 1] = cos(x[1])``)."""
        if as_latex:
            self.line(indent + latex)
            return
        drawing = self._drawings.get(id(expr)) or _drawing(expr, max(self.console.width - len(indent), 40))
        if drawing[0] == "listed":
            _, lines, nonzero, total = drawing
            self.line(f"{indent}{total:,} entries, {nonzero:,} nonzero"
                      + (f", the first {len(lines):,} listed" if len(lines) < nonzero else "")
                      + " (entries not listed are 0; every entry: --json \"entries\")", "dim")
            for text in lines:
                self.line(indent + label + text)
            return
        for text in drawing[1].splitlines():
            self.line(indent + text)

    def prepare_diff(self, report, latex: bool = False) -> None:
        """Draw the formulas of :meth:`diff` (SymPy's pretty printer, or the entry list of a big array)
        before printing any, within what is left of ``jac diff``'s --timeout (``report.deadline``): the
        contract's "symbolic work stops at --timeout" covers the drawing, which for a large formula takes
        longer than the derivative itself ((inv(A) @ A) @ A at 3 x 3: 3.5 s after 1.9 s). One child
        process for all of them (tools/bounded.py); none without a deadline or with --latex (the LaTeX
        was made with the derivative). commands.run calls it where a JacLimitError is exit 2."""
        from ..tools import bounded

        if latex or report.deadline is None:
            return
        formulas = list(report.formulas.values()) if "outputs" not in report else \
            [f for output, derivatives in report.by_output.values() for f in (output, *derivatives.values())]
        if not formulas:
            return
        import time

        width = max(self.console.width - 2, 40)  # formula()'s default indent
        drawings = bounded.call(lambda: [_drawing(f, width) for f in formulas],
                                max(report.deadline - time.monotonic(), 0.001),
                                "the symbolic derivative with its drawing",
                                "--latex or --json print the formulas without drawing them", limit=report.timeout)
        self._drawings.update(zip(map(id, formulas), drawings))

    def latex_line(self, expr, latex: str, indent: str = "  ") -> None:
        """The LaTeX of a formula drawn above, on one line (none for an array listed entry by entry:
        its LaTeX is --json's "latex")."""
        from ..tools.symbolic import drawn

        if drawn(expr):
            self.line(f"{indent}LaTeX: {latex}", "dim")

    def diff(self, report, latex: bool = False) -> None:
        self.header(report, on="symbol, differentiated", off="symbol, held constant (not in --wrt)")
        if "outputs" not in report:
            self.diff_output(report, report.formulas, latex)
            return
        for entry in report["outputs"]:
            output, derivatives = report.by_output[entry["name"]]
            sub = replace(report, data={**report.data, "output": entry,
                                        "derivative": report["derivatives"][entry["name"]]})
            self.diff_output(sub, {"output": output, **derivatives}, latex)

    def diff_output(self, report, formulas: dict, as_latex: bool = False) -> None:
        order = report.get("order", 1)
        power = "" if order == 1 else "".join("⁰¹²³⁴⁵⁶⁷⁸⁹"[int(c)] for c in str(order))
        out = report["output"]
        y_shape = tuple(out["shape"])
        self.line()
        self.line(f"{out['name']}: {out['kind']}, shape {fmt(y_shape)}", "bold cyan")
        self.formula(formulas["output"], out["latex"], as_latex, label=out["name"])
        for line in _output_where(str(formulas["output"]), report["derivative"].values()):
            self.line(f"  where {line}", "dim")
        if "value" in out:
            self.line(f"  at {_point_text(report['at'])}:", "dim")
            self.value(out["value"], out["name"], indent="    ")
        rows = []
        for name, block in report["derivative"].items():
            x_shape = tuple(report["inputs"][name]["shape"])
            self.line()
            form = {"matrix": "matrix form, ", "index": "index form (one entry), ",
                    "components": "components, " if block["shape"] else ""}[block["form"]]
            self.line(f"∂{power}{out['name']}/∂{name}{power}: {block['cell']}, {form}"
                      f"shape {fmt(tuple(block['shape']))}, math_shape {fmt(tuple(block['math_shape']))}", "bold green")
            if block.get("note"):
                self.line(f"  {block['note']}", "yellow")
            self.line(f"  {block['legend']}", "dim")  # formulas of one example: no batch axis
            if "differential" in block:
                self.line(f"  d{out['name']} = {block['differential']}", "dim")
            if block["form"] == "matrix" and not y_shape and x_shape:
                self.line(f"  (the gradient, shaped like {name}; math_shape is its transpose)", "dim")
            self.formula(formulas[name], block["latex"], as_latex)
            if not as_latex:  # the contract's "plain and LaTeX": both by default, --latex for LaTeX alone
                self.latex_line(formulas[name], block["latex"])
            for line in block.get("where", ()):
                self.line(f"  where {line}", "dim")
            if "value" in block:
                self.line(f"  at {_point_text(report['at'])}:", "dim")
                self.value(block["value"], "J", indent="    ", what="the derivative")
            rows.append((name, x_shape, y_shape, tuple(block["shape"]), tuple(block["math_shape"])))
        if rows and order == 1:
            self.shape_table(rows)

    def check(self, report: dict) -> None:
        from rich.markup import escape
        from rich.table import Table

        self.header(report)
        names = []
        for sub in per_output(report, "checks", "checks"):
            self.output(sub)
            names.append(sub["output"]["name"])
        y = names[0] if len(names) == 1 else f"({', '.join(names)})"
        if len(names) > 1:
            self.line()
            self.line(f"each input's worst result over the outputs {', '.join(names)} (every one in --json "
                      "\"checks\")", "dim")
        if report.get("batch"):
            failed = report["batch"]["failed"]
            size = report["batch"]["size"]
            self.line(f"each input's worst result over {size:,} example{'' if size == 1 else 's'}; "
                      + (f"failed: examples {', '.join(map(str, failed[:20]))}{' ...' if len(failed) > 20 else ''}"
                         if failed else "every example passed"), "dim")
        method = "central differences" if report["method"] == "central" else "Richardson-extrapolated differences"
        self.line()
        self.line(f"reverse (jacrev) and forward (jacfwd) mode against {method}; {report['dtype']}, "
                  f"rtol {report['rtol']:g}, atol {report['atol']:g}", "bold")
        table = Table(show_edge=False, pad_edge=False)
        for col in ("input", "shape", "max abs error", "max rel error", "forward vs reverse", "result"):
            table.add_column(col)
        notes = []
        for name, info in report["inputs"].items():
            if info["passed"] is None:
                table.add_row(name, fmt(tuple(info["shape"])), "—", "—", "—", "[dim]not checked (not in --wrt)[/]")
                continue
            modes = info["forward_vs_reverse"]
            empty = info.get("compared") == 0  # an empty Jacobian: no error was measured
            table.add_row(escape(visible(name)), fmt(tuple(info["shape"])),
                          "—" if empty else _short(info["max_abs_error"]),
                          "—" if empty else _short(info["max_rel_error"]), "—" if empty else "agree" if modes["passed"] else
                          f"[red]differ ({_short(modes['max_abs_error'])})[/]",
                          "[bold red]FAIL[/]" if not info["passed"] else
                          "[yellow]PASS (empty)[/]" if empty else "[green]PASS[/]")
            notes.extend(_check_notes(name, info, y, dtype=report.get("dtype")))
        if report["inputs"]:
            self.console.print(table)
        else:
            self.line("no inputs to check: bind one (x=1, x:3)", "yellow")
        for note in notes:
            self.line("  note: " + note, "yellow")
        if "limit" in report:
            self.limit(report)
        self.line()
        loose = [n for n, info in report["inputs"].items() if (info.get("conditioning") or {}).get("needed")]
        if report["passed"] and report["inputs"] and report.get("compared") == 0:
            self.line("PASS, vacuously: every Jacobian is empty, so no entry was compared", "bold yellow")
        elif report["passed"] and loose:
            self.line(f"PASS, within the conditioning allowance of {', '.join(loose)}: at this ill-conditioned point "
                      "the check cannot tell errors below it from rounding (see the note)", "bold yellow")
        elif report["passed"]:
            self.line("PASS: the automatic derivatives agree with the finite differences", "bold green")
        else:
            self.line("FAIL: the automatic derivatives and the finite differences disagree beyond the tolerance "
                      "(see --rtol, --atol)", "bold red")

    def limit(self, report: dict) -> None:
        from rich.table import Table

        name, x = report.limit_at
        self.line()
        self.line(f"the difference quotient (f({name}+h) - f({name}))/h as h → 0, at {name} = {_g(x)}:", "bold")
        table = Table(show_edge=False, pad_edge=False)
        for col in ("h", "quotient", "quotient - derivative"):
            table.add_column(col, justify="right")
        for row in report["limit"]:
            table.add_row(f"{row['h']:g}", _num(row["quotient"]), _short(row["error"]))
        self.console.print(table)
        self.line(f"  → {_num(report['derivative'])}, the derivative d{report['output']['name']}/d{name}", "green")

    def graph(self, report, max_nodes: int = MAX_TREE_NODES) -> None:

        self.header(report)
        outputs = report["outputs"] if "outputs" in report else [report["output"]]
        if report.get("backward"):
            what = (f"{outputs[0]['name']}.backward(gradient=v)" if len(outputs) == 1 else
                    f"torch.autograd.backward([{', '.join(o['name'] for o in outputs)}], [v...])")
            self.line(f"after {what}, with retain_grad() on every node: "
                      "leaves show .grad, the others the gradient retain_grad() keeps", "dim")
        drawn: set = set()
        arguments = _arguments(report)
        for entry in outputs:
            self.line()
            tree, _ = graph_tree(replace(report, data={**report.data, "output": entry}), max_nodes, drawn=drawn,
                                 arguments=arguments)
            self.console.print(tree)
        roots = {o["id"] for o in outputs} - arguments
        used = len(arguments) + len(roots)  # the nodes another reads, and the outputs (no copy of 300,000 ids)
        hidden = used - sum(1 for i in drawn if i in arguments or i in roots)
        unused = [name for name, i in report.graph.inputs.items() if i not in arguments and i not in roots]
        if unused:
            self.line(f"not used by the output: {', '.join(unused)}", "dim")
        if hidden:
            self.line(f"... {hidden:,} of {used:,} nodes not shown; --max-nodes N shows more, "
                      "--json or --dot shows them all", "yellow")

    def dot(self, report: dict) -> None:
        self.console.file.write(to_dot(report))

    def plot(self, report: dict) -> None:
        from ..tools.plot import tangent_equation

        point, tangent, (lo, hi) = report["point"], report["tangent"], report["range"]
        y, x = report["output"]["name"], point["name"]
        batch = report.get("batch")
        many = f", one curve per example ({batch['size']:,})" if batch else ""
        self.line(f"wrote {report['out']}: {y} = {echo(report['expression'])} for {x} in [{_g(lo)}, {_g(hi)}]{many}")
        rows = zip(*(v if batch else [v] for v in (point["x"], tangent["slope"], tangent["intercept"])))
        for b, (x0, slope, intercept) in enumerate(rows):
            which = f"example {b}: " if batch else ""
            self.line(f"  {which}tangent at {x} = {_g(x0)}: {tangent_equation(slope, intercept, x)}"
                      f"   (slope d{y}/d{x} = {_g(slope)})", "green")

    def run(self, report: dict) -> None:
        """The summary table, every case that did not pass in full, and the totals."""
        if report["cases"]:
            text = _plain_run_table(report, self.width) if self.plain else None
            if text is not None:  # the same text, without building a rich Table (ms per row for 1,000 cases)
                self.write(text)
            else:
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
        self.line(f"{STATUS_WORD[case['status']]} {one_line(case['name'])}: {echo(case['expression'])}",
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
        """One message on stderr: what, where, and a caret under the column. The message is one
        line: a new line in it (a file name holding one) is shown as ``\\n``, so that a log
        reader of ``jac: error`` lines gets all of it."""
        self.line(f"jac: error ({err.kind}): {err.message}".replace("\n", "\\n"), "bold red")
        self.caret(err.source, err.position, "red")

    def warning(self, warning: dict, source: str) -> None:
        """A ``"warnings"`` entry of a report (a NaN or infinity and the op that made it)."""
        self.line(f"jac: warning ({warning['kind']}): {warning['message']}", "bold yellow")
        self.caret(source, warning["position"], "yellow")

    def caret(self, source, position, style: str) -> None:
        if position is not None and source:
            text, caret = caret_lines(source, position)
            self.line("  " + text)
            self.line("  " + caret, style)


def per_output(report, one: str, several: str):
    """The result as one result per output (``"output"`` and ``one`` each) when it has several."""
    if "outputs" not in report:
        yield report
        return
    for entry in report["outputs"]:
        name = entry["name"]
        sub = replace(report, data={**report.data, "output": entry, one: report[several][name]})
        if isinstance(getattr(report, "by_output", None), dict) and hasattr(sub, "jacobians"):
            sub = replace(sub, jacobians=report.by_output.get(name, {}))
        yield sub


def plain_table(title: str, columns: tuple, rows: list, width: int, right: tuple = ()) -> str | None:
    """The text rich prints for our table to a pipe, or None where only rich knows it
    (cells that are not printable ASCII, or a table wider than the console); the columns
    numbered in ``right`` are right-justified."""
    cells = [tuple(columns)] + [tuple(r) for r in rows]
    if not all(c.isascii() and c.isprintable() for row in cells for c in row) or not title.isascii():
        return None
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    total = sum(widths) + 3 * (len(widths) - 1)  # " ┃ " between columns, no outer padding
    if total > width or len(title) > total:
        return None

    def joined(row, sep):
        return sep.join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths)))

    rule = "╇".join("━" * (w + (1 if i in (0, len(widths) - 1) else 2)) for i, w in enumerate(widths))
    body = [joined(r, " │ ") for r in cells[1:]]
    return "\n".join([title.ljust(total), joined(cells[0], " ┃ "), rule] + body)


def _point_text(point: dict) -> str:
    """``x = 1, A = [[1, 2], [3, 4]]`` (long values are abbreviated)."""
    parts = []
    for name, value in point.items():
        value = np.asarray(value)  # only its start is shown: format no more than that (4M numbers took 37 s)
        head = value[tuple(slice(0, 16) for _ in value.shape)] if value.size > 256 else value
        text = " ".join(format_array(head).split())
        text = text if head is value else text + "..."
        parts.append(f"{name} = {text if len(text) <= 40 else text[:37] + '...'}")
    return ", ".join(parts)


ECHO_CHARS = 200  # an expression longer than this is echoed shortened (@file may hold megabytes)


def echo(expression: str) -> str:
    """The expression as a report shows it: a long one cut to its start, with its length, so
    ``jac eval @big.txt`` does not print the file before the answer."""
    text = expression.strip()
    if len(text) <= ECHO_CHARS:
        return text
    return f"{text[:ECHO_CHARS].rstrip()}… ({len(text):,} characters)"


def caret_lines(source: str, position: int) -> tuple:
    """The line of ``source`` holding ``position`` and a caret under that column."""
    position = max(0, min(position, len(source)))
    start = source.rfind("\n", 0, position) + 1
    end = source.find("\n", position)
    line = source[start:end if end >= 0 else len(source)]
    col = len(visible(line[:position - start]))  # the caret under the character as it is shown
    line = visible(line)
    if len(line) > 100:  # show a window around a long line
        lo = max(0, col - 50)
        line, col = ("…" if lo else "") + line[lo:lo + 100], col - lo + (1 if lo else 0)
    return line, "".join("\t" if c == "\t" else " " for c in line[:col]) + "^"  # a tab under a tab: aligned


# --- the teaching and debugging views ----------------------------------------------------------


def _num(v) -> str:
    return _scalar(float(v)) if v is not None else "—"


def _short(v) -> str:
    """A number for a table: 4 significant digits, exponent when needed."""
    if v is None:
        return "—"
    v = float(v)
    return "0" if v == 0 else f"{v:.3g}" if 1e-3 <= abs(v) < 1e4 or not np.isfinite(v) else f"{v:.2e}"


def _element(name: str, index) -> str:
    return f"{name}[{', '.join(str(i) for i in index)}]" if index else name


def inline(a) -> str:
    """An array on one line when small, else its shape and range."""
    a = np.asarray(a)
    if a.size <= INLINE_ELEMENTS:
        return " ".join(format_array(a).split())
    finite = a[np.isfinite(a)]
    span = f"min {_num(finite.min())}, max {_num(finite.max())}" if finite.size else "no finite values"
    return f"{fmt(a.shape)} array, {span}"


def _g(v) -> str:
    """A number in a sentence: four significant digits."""
    return "—" if v is None else f"{float(v):.4g}"


def _output_where(named: str, blocks) -> list:
    """The ``where`` lines of jac diff's derivatives that define an output without a formula (a
    sort's values, ``v1[i] = x[sigma[i]]``) and the names that definition reads (``sigma = ...``)."""
    import re

    lines = list(dict.fromkeys(line for block in blocks for line in block.get("where", ())))
    defined = {line.split(" = ")[0].split("[")[0]: line for line in lines}
    if named not in defined:
        return []
    read = set(re.findall(r"[A-Za-z_]\w*", defined[named].split(" = ", 1)[1]))
    return [defined[named]] + [line for name, line in defined.items() if name in read and name != named]


def _check_notes(name: str, info: dict, y: str, shown: int = MAX_NOTES, dtype: str | None = None) -> list:
    """What a person needs to read the numbers of one input honestly."""
    notes = []
    kinks = list({(k["where"], tuple(k["input_index"])): k for k in reversed(info.get("kinks", []))}.values())
    for k in reversed(kinks[-shown:]):  # one note per input element, the biggest jump first
        where = f"∂{_element(y, k['output_index'])}/∂{_element(name, k['input_index'])}"
        auto, num = _g(k["automatic"]), _g(k["numeric"])
        if k["where"] == "at_point":
            notes.append(f"{where}: {y} has a kink here and is not differentiable: its slope is {_g(k['left'])} "
                         f"from the left and {_g(k['right'])} from the right. jac uses {auto} (PyTorch's choice), "
                         f"central differences give {num}, " + ("and they agree." if k["passed"] else
                         "so they disagree: at a kink no derivative is right. Move the point off the kink, "
                         "or accept the convention."))
        else:
            small = k.get("numeric_small_step")
            agrees = small is not None and np.isclose(float(small), float(k["automatic"]), rtol=1e-3, atol=1e-6)
            notes.append(f"{where}: a kink lies within the finite-difference step (h = {_g(k['step'])}): the "
                         f"estimates jump as the step shrinks; at smaller steps it is {_g(small)}, "
                         + (f"which matches jac's {auto}." if agrees else f"and jac says {auto}."))
    worst = info.get("worst")
    if worst and not any((k["output_index"], k["input_index"]) == (worst["output_index"], worst["input_index"])
                         for k in kinks):  # a kink's note says it of its own entry
        notes.insert(0, _worst_note(name, info, y, worst))
    if info.get("kink_count", 0) > min(shown, len(kinks)):
        notes.append(f"{info['kink_count']} element(s) of ∂{y}/∂{name} in all are at a kink; --json lists "
                     "up to 10")
    if info.get("nonfinite_automatic"):
        notes.append(f"{info['nonfinite_automatic']} element(s) of ∂{y}/∂{name} are NaN or infinite: the "
                     "derivative is not a finite number there (sqrt or log at 0). A zero times an infinite "
                     "derivative is NaN, as in PyTorch, so forward and reverse mode can put the NaNs in "
                     "different places; they are compared where both are finite.")
    if info.get("nonfinite_numeric"):
        notes.append(f"{info['nonfinite_numeric']} finite-difference estimate(s) are NaN or infinite: {y} is not "
                     "finite on both sides of the point (a domain edge), so there is nothing to compare there.")
    if info.get("detached"):
        where = ", ".join(f"column {p}" if p is not None else "a value jac made" for p in info["detached"][:3])
        notes.append(f"{y} reads {name} through a detached value ({where}: .detach(), .item(), float(), "
                     f"torch.no_grad(), stop_gradient): the automatic derivatives hold it constant, as PyTorch's "
                     f"and JAX's do, while finite differences follow it, so they differ by its part; that part is "
                     f"not in any library's gradient.")
    if info.get("forward_vs_reverse") and not info["forward_vs_reverse"]["passed"]:
        notes.append(_modes_note(info, dtype))
    c = info.get("conditioning") or {}
    if c.get("needed"):  # else: --json's only
        notes.append(_conditioning_note(name, c, info.get("max_abs_derivative") or 0.0, True))
    elif c.get("capped") and info.get("passed") is False:  # first: the notes below (kinks, modes) may be rounding too
        notes.insert(0, _conditioning_note(name, c, info.get("max_abs_derivative") or 0.0, False))
    return notes


def _worst_note(name: str, info: dict, y: str, w: dict) -> str:
    """Where a failing input fails: the entry farthest from its finite difference, in the sentence a reader
    of the table needs to find the wrong rule (what a suite's "worst at [1]" says of an expectation)."""
    where = f"∂{_element(visible(w.get('output', y)), w['output_index'])}/∂{_element(name, w['input_index'])}"
    example = f" in example {w['example']} of the batch" if "example" in w else ""
    auto = (f"{w['reverse']:.10g} (reverse and forward mode)" if w["reverse"] == w["forward"] else
            f"{w['reverse']:.10g} by reverse mode, {w['forward']:.10g} by forward mode")
    count = info.get("failing", 1)
    of = "the only failing entry" if count == 1 else f"the farthest of {count:,} failing entries"
    return (f"{where}{example} is {of}: jac gives {auto}, the finite differences {w['numeric']:.10g} "
            f"(abs error {_short(w['abs_error'])})")


def _conditioning_note(name: str, c: dict, scale: float, needed: bool) -> str:
    """The allowance an ill-conditioned op at the point gave the check, and what it means for the verdict
    (``needed``: it passed only with it; else it failed with an allowance ``capped`` below rounding's size)."""
    where = f"{c['op']}" + (f" (column {c['position']})" if c.get("position") is not None else "")
    head = (f"{name} reaches {where}, whose condition number here is {_short(c['condition_number'])}: the "
            f"automatic derivatives and the finite differences both lose digits (terms about cond² times the "
            f"result cancel), so each element was allowed {_short(c['allowance'])} of the largest entry "
            f"({_short(c['allowance'] * scale)}) besides --rtol and --atol.")
    if not needed:  # failed, the allowance capped: rounding alone may be larger than it
        return head + (" Rounding here may be larger than that (the allowance is capped at a tenth of the largest "
                       "entry, so that a wrong sign or a factor of 2 still fails), so this failure may be rounding "
                       "alone: move the point away from the singular matrix to check it.")
    return head + (" The check passes only with it: errors smaller than that cannot be told from rounding here; "
                   "move the point away from the singular matrix to check more tightly.")


def _modes_note(info: dict, dtype: str | None) -> str:
    """Why forward and reverse mode differ: their rules, or (a difference the size of rounding, relative to the
    largest entry) terms that cancel at an ill-conditioned point, which every library's derivative has there."""
    from ..tools.check import rounding_sized

    error, scale = info["forward_vs_reverse"]["max_abs_error"], info.get("max_abs_derivative") or 0.0
    if (info.get("conditioning") or {}).get("capped"):  # rounding there may be larger than any allowance
        return (f"forward and reverse mode disagree (max abs error {_short(error)}), at a point so ill-conditioned "
                f"that rounding alone may be that large (see the note on the condition number).")
    if not rounding_sized(error, scale, dtype or "float64"):
        return f"forward and reverse mode disagree (max abs error {_short(error)}): an op's JVP and VJP rules differ."
    worst = max(error, info.get("max_abs_error") or 0.0)
    atol = 10.0 ** math.ceil(math.log10(worst)) if worst > 0 else 0.0
    return (f"forward and reverse mode differ by {_short(error)}, {_short(error / scale)} of the largest entry "
            f"({_short(scale)}): a difference the size of rounding, where terms that cancel are much larger than "
            f"the result (an ill-conditioned point: a nearly singular matrix), which PyTorch's and JAX's "
            f"derivatives have there too, while rules that differ usually differ by more. Finite differences cannot "
            f"settle entries that small either: move the point, or if that accuracy is enough, --atol {atol:g}.")


def _graph_label(node: dict, report) -> str:
    from rich.markup import escape

    shape = f"[cyan]{node['kind']} {escape(fmt(tuple(node['shape'])))}[/]"
    if node["op"] == "input":
        head = f"[bold]{escape(node['name'])}[/] input"
    elif node["op"] == "const":
        value = report.constant(node["id"])
        head = "const" + (f" {escape(inline(value))}" if value is not None and np.size(value) <= INLINE_ELEMENTS else "")
    else:
        name = node["name"] or (report["output"]["name"] if node["id"] == report["output"]["id"] else None)
        head = f"[bold]{escape(name)}[/] = {node['op']}" if name else node["op"]
    flags = ["leaf" if node["leaf"] else "non-leaf"]
    flags.append("requires grad" if node["requires_grad"] else "no grad")
    label = f"[dim]#{node['id']}[/] {head}  {shape}  [dim]{', '.join(flags)}[/]"
    if report.get("backward") and node["grad"] is not None:
        what = ".grad" if node["leaf"] else "grad"
        label += f"  [green]{what} = {escape(inline(node['grad']))}[/]"
    return label


def graph_tree(report: dict, max_nodes: int = MAX_TREE_NODES, max_depth: int = MAX_TREE_DEPTH, drawn=None,
               arguments: set | None = None):
    """The graph as a rich Tree from the output down, built with an explicit stack.

    A node used twice is drawn once; later uses point back to it. Returns the tree and
    how many nodes were left out by ``max_nodes`` / ``max_depth``. ``drawn`` (a set) collects
    the ids drawn, shared by the trees of several outputs. Only the nodes drawn are read (as
    ``report.record(i)``, the entry of ``"nodes"``): a 300,000-node graph draws 200.
    ``arguments``: :func:`_arguments` of the report, when the caller has it."""
    from rich.markup import escape
    from rich.tree import Tree

    graph_nodes = report.graph.nodes
    root_id = report["output"]["id"]
    root = Tree(_graph_label(report.record(root_id), report), guide_style="dim")
    drawn = set() if drawn is None else drawn
    start = len(drawn)
    drawn.add(root_id)
    stack = [(a, root, 1) for a in reversed(graph_nodes[root_id].args)]
    while stack and len(drawn) - start < max_nodes:
        i, parent, depth = stack.pop()
        node = report.record(i)
        if i in drawn:
            parent.add(f"[dim]#{i} {escape(node['name'] or node['op'])} (shown above)[/]")
            continue
        drawn.add(i)
        branch = parent.add(_graph_label(node, report))
        kids = graph_nodes[i].args  # the edges into node i, in order
        if kids and depth >= max_depth:
            branch.add(f"[dim]... {len(kids)} argument(s) deeper than {max_depth} levels[/]")
            continue
        stack.extend((a, branch, depth + 1) for a in reversed(kids))
    arguments = _arguments(report) if arguments is None else arguments
    shown = sum(1 for i in drawn if i in arguments)  # len(arguments - drawn), without copying 300,000 ids
    return root, len(arguments) - shown + (root_id not in arguments and root_id not in drawn)


def _arguments(report) -> set:
    """The ids of every node listed that another one reads (the tails of ``"edges"``)."""
    from itertools import chain
    from operator import attrgetter

    nodes = report.graph.nodes
    return set(chain.from_iterable(map(attrgetter("args"), map(nodes.__getitem__, report.picked))))


def to_dot(report: dict) -> str:
    """Graphviz DOT: one box per node, edges from each argument to its op (data flow).
    Leaves that require grad are blue and the output green, as torchviz draws them."""
    lines = ["digraph jac {", '  node [shape=box, style="rounded,filled", fillcolor=white, fontname="Helvetica"];']
    outputs = report["outputs"] if "outputs" in report else [report["output"]]
    out_names = {o["id"]: o["name"] for o in reversed(outputs)}
    for node in report["nodes"]:
        name = node["name"] or out_names.get(node["id"])
        head = f"{name} = {node['op']}" if name and node["op"] not in ("input",) else (name or node["op"])
        if node["op"] == "const" and np.size(report.constant(node["id"])) <= INLINE_ELEMENTS:
            head = f"const {inline(report.constant(node['id']))}"
        parts = [head, f"{node['kind']} {fmt(tuple(node['shape']))}",
                 ("leaf" if node["leaf"] else "non-leaf") + (", requires grad" if node["requires_grad"] else "")]
        if report.get("backward") and node["grad"] is not None:
            parts.append(f"grad = {inline(node['grad'])}")
        label = "\\n".join(_dot_escape(p) for p in parts)
        color = ("palegreen" if node["id"] in out_names else
                 "lightblue" if node["leaf"] and node["requires_grad"] else "white")
        lines.append(f'  n{node["id"]} [label="{label}", fillcolor={color}];')
    lines.extend(f"  n{a} -> n{i};" for a, i in report["edges"])
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

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
        # one Renderer draws every line: to a pipe or a file, plain text without rich (~0.1 ms a line)
        self.out = Renderer(console)
        self.total, self.done, self.failed = total, 0, 0
        self.bar = None

    def __enter__(self) -> "RunProgress":
        if not self.out.plain and self.total and self.out.console.is_interactive:
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                                       TimeElapsedColumn)

            self.bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("{task.fields[failed]}"), TimeElapsedColumn(), console=self.out.console,
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
            self.out.line(line)
            return
        if case["status"] != "passed":  # above the bar: the bar's console is the renderer's
            self.out.line(line, STATUS_STYLE[case["status"]])
        self.bar.update(self.task, advance=1, failed=f"[red]{self.failed} not passed[/]" if self.failed else "")

    def _line(self, case: dict) -> str:
        width = len(str(self.total))
        text = f"[{self.done:>{width}}/{self.total}] {STATUS_WORD[case['status']]:<5} {one_line(case['name'])} " \
               f"({_duration(case['seconds'])})"
        problem = first_problem(case)
        return f"{text}: {problem}" if problem else text

    def __exit__(self, *exc) -> None:
        if self.bar is not None:
            self.bar.stop()


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _run_table_layout(report: dict, width: int) -> tuple:
    """``(title, details, name_width, detail_width)`` of the summary table of ``jac run``, with
    terminal escapes in names and messages shown escaped."""
    details = [visible(first_problem(c) or _plural(len(c["expectations"]), "expectation") + " met")
               for c in report["cases"]]
    room = width - 22  # result and time columns, separators
    longest = max(len(one_line(c["name"])) for c in report["cases"])
    name_width = min(longest, max(12, room - min(max(map(len, details)), room // 2)))
    title = f"{one_line(report['name'])}: {_plural(report['summary']['cases'], 'case')}"
    return title, details, name_width, max(16, room - name_width)


def _plain_run_table(report: dict, width: int) -> str | None:
    """The text rich prints for the summary table to a pipe, when no cell is folded or cut."""
    title, details, name_width, detail_width = _run_table_layout(report, width)
    rows = [(one_line(c["name"]), STATUS_WORD[c["status"]], _duration(c["seconds"]), d)
            for c, d in zip(report["cases"], details)]
    if any(len(r[0]) > name_width or len(r[3]) > detail_width for r in rows):
        return None
    return plain_table(title, ("case", "result", "time", "detail"), rows, width, right=(2,))


def _run_summary_table(report: dict, width: int) -> Table:
    from rich.markup import escape
    from rich.table import Table

    title, details, name_width, detail_width = _run_table_layout(report, width)
    table = Table(title=escape(title), title_justify="left", show_edge=False, pad_edge=False)
    table.add_column("case", overflow="fold", max_width=name_width)
    table.add_column("result", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    # one line per case; the full text follows the table
    table.add_column("detail", no_wrap=True, overflow="ellipsis", max_width=detail_width)
    for case, detail in zip(report["cases"], details):
        status = case["status"]
        table.add_row(escape(one_line(case["name"])), f"[{STATUS_STYLE[status]}]{STATUS_WORD[status]}[/]",
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
