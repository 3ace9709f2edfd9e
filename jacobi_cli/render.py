"""Drawing reports for people (rich) and serialising them for programs (JSON).

This is the only module that imports rich, and only when it draws for a terminal: to a
pipe or a file rich prints plain text, and :class:`Renderer` writes that same text itself
(lines, and the one table it draws), so a ``jac eval`` in a script does not pay rich's
import. Anything it cannot match exactly (a control character, a table wider than the
console, a rich object from another command) goes through rich.
"""

from __future__ import annotations

import os
import sys

import numpy as np

from .report import public
from .shapes import fmt, kind

MAX_PRINTED = 400  # elements; bigger arrays print a summary and point to --out
RICH_ENV = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS", "JUPYTER_LINES")


# --- JSON ----------------------------------------------------------------------------------

def _jsonable(obj):
    """Reports -> JSON-ready values without recursion over user-sized data (arrays go
    through :func:`to_jsonable`; report dicts are only a few levels deep)."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)) and not any(isinstance(v, (np.ndarray, np.generic)) for v in obj):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.ndarray, np.generic, float, int)) and not isinstance(obj, bool):
        from .fileio import to_jsonable

        return to_jsonable(np.asarray(obj))
    return obj


def to_json(report: dict) -> str:
    import json

    return json.dumps(_jsonable(public(report)), ensure_ascii=False, allow_nan=False)


def error_json(err) -> str:
    import json

    return json.dumps({"error": {"kind": err.kind, "message": err.message, "position": err.position}},
                      ensure_ascii=False)


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


class Renderer:
    """Draws reports: through rich for a terminal (or a ``console`` passed in), as the same
    plain text written directly otherwise. ``self.console`` is a rich Console, made on first use."""

    def __init__(self, console=None, stderr: bool = False):
        self._console = console
        self.stderr = stderr
        self.plain = console is None and plain_output(sys.stderr if stderr else sys.stdout)

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
        if self.plain and _plain_safe(text):
            self.write(text)
            return
        from rich.markup import escape

        self.console.print(escape(text) if style is None else f"[{style}]{escape(text)}[/]", soft_wrap=True)

    def table(self, title: str, columns: tuple, rows: list) -> None:
        """A table as rich draws ``Table(title, title_justify="left", show_edge=False, pad_edge=False)``."""
        text = plain_table(title, columns, rows, self.width) if self.plain else None
        if text is not None:
            self.write(text)
            return
        from rich.table import Table

        table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
        for col in columns:
            table.add_column(col)
        for row in rows:
            table.add_row(*row)
        self.console.print(table)

    def value(self, a, label: str, indent: str = "  ", what: str = "it") -> None:
        a = np.asarray(a)
        width = max(self.width - len(indent), 40)
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
        cells = [(name, f"{kind(x_shape)} {fmt(x_shape)}", f"{kind(y_shape)} {fmt(y_shape)}", fmt(array_shape),
                  fmt(m_shape)) for name, x_shape, y_shape, array_shape, m_shape in rows]
        self.line()
        self.table(title, ("input", "input kind", "output kind", "array shape", "math_shape"), cells)

    # one method per command ------------------------------------------------------------------

    def eval(self, report: dict) -> None:
        self.header(report)
        self.output(report)
        y_shape = tuple(report["output"]["shape"])
        y = report["output"]["name"]
        rows = []
        for name, block in report["jacobian"].items():
            x_shape = tuple(report["inputs"][name]["shape"])
            jac = report.get("_jacobians", {}).get(name)
            structure = jac.describe() if jac is not None else block["structure"]
            self.line()
            self.line(f"∂{y}/∂{name}: {block['cell']}, {structure}, {block['layout']} layout "
                      f"{fmt(tuple(block['shape']))}, math_shape {fmt(tuple(block['math_shape']))}", "bold green")
            self.line(f"  {block['legend']}", "dim")
            if "value" in block:
                self.value(block["value"], "J", what="the Jacobian")
            else:
                self.structured(jac, block["layout"])
            rows.append((name, x_shape, y_shape, y_shape + x_shape, tuple(block["math_shape"])))
        if not rows:
            self.line("\nno inputs to differentiate (bind one, or check --wrt)")
        else:
            self.shape_table(rows)

    def structured(self, jac, layout: str) -> None:
        """A diagonal, sparse or zero Jacobian: whole when small, else what it stores."""
        if jac.size <= MAX_PRINTED:
            self.value(jac.to_array(layout), "J", what="the Jacobian")
        elif jac.structure == "zero":
            self.line(f"  all {jac.size:,} elements are 0: the output does not depend on {jac.name}")
        elif jac.structure == "diagonal":
            self.line(f"  the diagonal (J[i, i], shaped like {jac.name}), the rest is 0:")
            self.value(jac.diagonal(), "diag", what="the Jacobian (a .npz is a SciPy sparse matrix)")
        else:
            self.line(f"  {jac.nnz:,} stored values of {jac.size:,} elements (the rest is 0)")
            for text in summary_lines(jac.values, "the Jacobian with --out FILE.npz (a SciPy sparse matrix)")[:1]:
                self.line("  " + text)
            self.line("  save it with --out FILE.npz (a SciPy sparse matrix), or see its entries with --json --sparse")

    def plan(self, plan) -> None:
        """``--explain``: the plan, before it runs."""
        lines = plan.explain()
        self.line(lines[0], "bold")
        for text in lines[1:]:
            self.line(text, "dim" if text.lstrip().startswith("why:") else None)
        self.line()

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

    def error(self, err) -> None:
        """One message on stderr: what, where, and a caret under the column."""
        self.line(f"jac: error ({err.kind}): {err.message}", "bold red")
        if err.position is not None and err.source:
            text, caret = caret_lines(err.source, err.position)
            self.line("  " + text)
            self.line("  " + caret, "red")


def plain_table(title: str, columns: tuple, rows: list, width: int) -> str | None:
    """The text rich prints for our table to a pipe, or None where only rich knows it
    (cells that are not printable ASCII, or a table wider than the console)."""
    cells = [tuple(columns)] + [tuple(r) for r in rows]
    if not all(c.isascii() and c.isprintable() for row in cells for c in row) or not title.isascii():
        return None
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    total = sum(widths) + 3 * (len(widths) - 1)  # " ┃ " between columns, no outer padding
    if total > width or len(title) > total:
        return None

    def joined(row, sep):
        return sep.join(c.ljust(w) for c, w in zip(row, widths))

    rule = "╇".join("━" * (w + (1 if i in (0, len(widths) - 1) else 2)) for i, w in enumerate(widths))
    body = [joined(r, " │ ") for r in cells[1:]]
    return "\n".join([title.ljust(total), joined(cells[0], " ┃ "), rule] + body)


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
