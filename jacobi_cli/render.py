"""Drawing reports for people (rich) and serialising them for programs (JSON).

This is the only module that imports rich.
"""

from __future__ import annotations

import json

import numpy as np
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .fileio import to_jsonable
from .report import public
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
