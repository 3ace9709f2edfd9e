"""The ``jac`` command: thin typer commands that hand typed arguments to the library.

Errors are the library's :class:`~jacobi_cli.errors.JacError`; :func:`_run` is the one
place that turns them into a message on stderr (and a JSON error object with
``--json``) and exit code 2.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated, Callable, Optional

import typer
from typer.core import TyperGroup

from .. import __version__
from . import commands
from .completion import CHOICES, COMPLETE_VAR, SHELLS, conventions
from .commands import MAX_EXPRESSION_FILE, read_expression  # noqa: F401  (MAX_EXPRESSION_FILE: kept for importers)
from ..errors import JacError, JacUsageError

EXIT_CODES = "Exit codes: 0 success; 1 a check or an expectation failed; 2 bad input (one message, never a " \
             "traceback); 130 interrupted; 141 output pipe closed; 143 terminated (SIGTERM, worker processes " \
             "stopped first)."


class JacGroup(TyperGroup):
    """typer's group with jac's help and completion conventions on every command
    (:func:`jacobi_cli.cli.completion.conventions`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        conventions(self)
        for command in self.commands.values():
            conventions(command)


app = typer.Typer(
    name="jac",
    cls=JacGroup,
    help="Jacobians, VJPs, JVPs, Hessians and derivative shapes of NumPy/PyTorch-style expressions.\n\n"
         "Example: jac eval \"2 * torch.dot(x, y)\" x=\"arange(4.0)\" y=\"[3, 1, 2, 5]\"\n\n" + EXIT_CODES,
    no_args_is_help=True,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# --- shared options ----------------------------------------------------------------------------

Expr = Annotated[str, typer.Argument(help="The expression, @FILE to read it from a file, or - for stdin.",
                                     show_default=False, metavar="EXPR")]
BindingArgs = Annotated[Optional[list[str]], typer.Argument(
    help="Inputs: NAME=VALUE (x=2, x=[1,2,3], A=\"eye(3)\", x=@data.npy) or NAME:SHAPE for seeded random "
         "values (x:3, A:3x4, s:()).", show_default=False, metavar="BINDING")]
Wrt = Annotated[Optional[list[str]], typer.Option("--wrt", help="Differentiate with respect to NAME "
                                                  "(repeatable; default: every bound input).")]
OneWrt = Annotated[Optional[list[str]], typer.Option("--wrt", metavar="NAME", help="The one input the derivative is "
                                                     "taken by (needed when several are bound; a derivative of any "
                                                     "order is by one input: mixed ones are jac hessian's).")]
Json = Annotated[bool, typer.Option("--json", help="Print one JSON object (its keys: docs/json.md; its schema: jac schema COMMAND).")]
Dtype = Annotated[str, typer.Option("--dtype", help="float64 or float32.")]
class _Refused(ValueError):
    """An option's value the option cannot take; ``str()`` is what it must be (``an integer``)."""


def _whole(text) -> int:
    """An integer option's value read as Python's ``int()`` and click's ``INT`` read it, and as the entry
    point's fast path does: ``3``, `` 3``, ``1_0``; ``3.0`` and ``1e3`` are not integers (typer's own int
    took ``--order 3.0`` as 3: one rule for every integer option)."""
    if isinstance(text, int):
        return text
    try:
        return int(text)
    except ValueError:
        raise _Refused("an integer") from None


class _AsTyped(float):
    """A number option's value that keeps the text typed (``typed``), so that the library's refusal of its
    range quotes it: ``--rtol 1e309`` is "not '1e309'", where the float alone said "not inf"."""

    def __new__(cls, text: str):
        number = super().__new__(cls, text)
        number.typed = text
        return number


def _number(text) -> float:
    """``--rtol`` / ``--atol``: a number as ``float()`` reads it, kept with its text (:class:`_AsTyped`); its
    range is the library's to check (``report._tolerance``), with the --json error object either way."""
    if isinstance(text, float):
        return text
    try:
        return _AsTyped(text)
    except ValueError:
        raise _Refused("a number") from None


Seed = Annotated[int, typer.Option("--seed", parser=_whole, help="Seed for NAME:SHAPE and rand/randn values.")]
MaxMemory = Annotated[Optional[str], typer.Option("--max-memory", help="Memory budget: 2G, 512M, 50% (default: half "
                                                 "the available memory). Bigger plans are chunked, or refused with "
                                                 "exit 2.")]
BatchOpt = Annotated[Optional[list[str]], typer.Option("--batch", help="NAME or NAME:AXIS: that axis of input NAME "
                                                     "holds a batch of examples, as torch.func.vmap's in_dims "
                                                     "(repeatable); results per example, batch axis first; inputs "
                                                     "not named are shared.", metavar="NAME[:AXIS]")]
ShapeBatchOpt = Annotated[Optional[list[str]], typer.Option("--batch", help="NAME or NAME:AXIS: that axis of input "
                                                          "NAME holds a batch of examples, as torch.func.vmap's "
                                                          "in_dims (repeatable); what is printed is one example's, "
                                                          "the same for every example; inputs not named are shared.",
                                                          metavar="NAME[:AXIS]")]
Timeout = Annotated[Optional[str], typer.Option("--timeout", help="Seconds that the symbolic derivative (SymPy) "
                                               "and drawing it may take before they are stopped with a limit error "
                                               "(default 30; 0 or inf: no limit).", metavar="SECONDS")]
EvalTimeout = Annotated[Optional[str], typer.Option("--timeout", help="Seconds the whole command may take (the "
                                                   "numbers too): past it, a limit error (exit 2), no file written. "
                                                   "Without it only --symbolic is limited, to 30 s. 0 or inf: no "
                                                   "limit.", metavar="SECONDS")]
CommandTimeout = Annotated[Optional[str], typer.Option("--timeout", help="Seconds the whole command may take: "
                                                      "past it, a limit error (exit 2) saying what was running. "
                                                      "Default, 0 or inf: no limit.", metavar="SECONDS")]
Strict = Annotated[bool, typer.Option("--strict", help="Exit 2 when the value or a derivative holds NaN or "
                                      "infinities (otherwise a warning on stderr names the op that made them).")]


def _fail(err: JacError, as_json: bool) -> None:
    raise typer.Exit(commands.fail(err, as_json))


def _run(as_json: bool, build: Callable[[], object], draw: str, strict: bool = False, **options):
    """Build a result, then print it (human or JSON; ``options`` go to the renderer) and its
    warnings and return it; bad input exits 2, and so does a non-finite result under ``--strict``."""
    code, report = commands.run(as_json, build, draw, strict, **options)
    if code:
        raise typer.Exit(code)
    return report


# --- commands -------------------------------------------------------------------------------------

@app.command("eval", epilog="Examples:  jac eval \"2 * torch.dot(x, y)\" x=\"arange(4.0)\" y=\"[3, 1, 2, 5]\"  ·  "
                            "jac eval \"A @ x\" A:3x4 x:4 --layout numerator  ·  jac eval \"x**2\" x=\"[2, 3]\" --json  ·  "
                            "jac eval \"sin(x) * y\" x=\"[0, 1]\" y=\"[2, 3]\" --symbolic")
def eval_command(
    expr: Expr, bindings: BindingArgs = None, wrt: Wrt = None, as_json: Json = False,
    dtype: Dtype = "float64", seed: Seed = 0,
    layout: Annotated[str, typer.Option("--layout", help="array (y.shape + x.shape, as torch/jax) or "
                                        "numerator (the math_shape of the table).")] = "array",
    out: Annotated[Optional[str], typer.Option("--out", help="Save the Jacobians: .npy (one input), .npz "
                                               "(one array per input; a SciPy sparse matrix for one "
                                               "structured Jacobian), .json.")] = None,
    symbolic: Annotated[bool, typer.Option("--symbolic", help="Also show each Jacobian as formulas (SymPy), "
                                           "for Jacobians of up to 64 entries.")] = False,
    plot: Annotated[Optional[str], typer.Option("--plot", help="Draw each Jacobian as a heatmap with its "
                                                "sparsity pattern to FILE.png or FILE.svg (needs matplotlib).")] = None,
    mode: Annotated[str, typer.Option("--mode", help="auto (per input, the cheaper of forward and reverse), "
                                      "forward or reverse.")] = "auto",
    explain: Annotated[bool, typer.Option("--explain", help="Print the plan before running it: mode per input, "
                                          "passes and batch size, structure, predicted peak memory.")] = False,
    sparse: Annotated[bool, typer.Option("--sparse", help="With --json: a diagonal or sparse Jacobian as "
                                         "\"coo\": {indices, values} instead of a dense \"value\".")] = False,
    max_memory: MaxMemory = None,
    strict: Strict = False,
    batch: BatchOpt = None,
    timeout: EvalTimeout = None,
):
    """The output value, the full Jacobian for every input, and the derivative-shape table."""
    _run(as_json, commands.eval_build(expr, bindings, wrt, as_json, dtype, seed, layout, out, mode, explain, sparse,
                                      max_memory, symbolic, plot, batch, timeout, strict), "eval", strict)


@app.command("vjp", epilog="Examples:  jac vjp \"x * y\" x=\"[1, 2, 3, 4]\" y=\"[3, 4, 5, 6]\" --v \"[2, 3, 4, 5]\"  ·  "
                           "jac vjp \"(x * y).sum()\" x=\"[1, 2]\" y=\"[3, 4]\"")
def vjp_command(
    expr: Expr, bindings: BindingArgs = None, wrt: Wrt = None, as_json: Json = False,
    dtype: Dtype = "float64", seed: Seed = 0,
    v: Annotated[Optional[list[str]], typer.Option("--v", help="The vector v of y.backward(gradient=v), shaped like "
                                                   "the output; 'ones' for all ones. Optional for a one-element "
                                                   "output. With several outputs: OUT=VALUE, once per output "
                                                   "(those left out count as zero), or 'ones' for all.")] = None,
    strict: Strict = False,
    batch: BatchOpt = None,
    max_memory: MaxMemory = None,
    timeout: CommandTimeout = None,
):
    """What y.backward(gradient=v) leaves in x.grad for each input: vᵀ·J."""
    from ..tools.report import vjp_report

    _run(as_json, commands.limited(lambda: vjp_report(read_expression(expr, "vjp", bindings), bindings or [], v, wrt,
                                                      dtype, seed, batch=batch, max_memory=max_memory),
                                   timeout, "jac vjp"), "vjp", strict)


@app.command("jvp", epilog="Example:  jac jvp \"sin(x) * y\" x=\"[0, 1]\" y=\"[2, 3]\" --tangent x=\"[1, 0]\"")
def jvp_command(
    expr: Expr, bindings: BindingArgs = None, wrt: Wrt = None, as_json: Json = False,
    dtype: Dtype = "float64", seed: Seed = 0,
    tangent: Annotated[Optional[list[str]], typer.Option("--tangent", help="NAME=VALUE: the direction for an "
                                                         "input (repeatable; 'ones' allowed).")] = None,
    strict: Strict = False,
    batch: BatchOpt = None,
    max_memory: MaxMemory = None,
    timeout: CommandTimeout = None,
):
    """The Jacobian-vector product J·t (forward mode) along the given tangents."""
    from ..tools.report import jvp_report

    def build():
        tangents = {}
        for item in tangent or []:
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                raise JacUsageError(f"--tangent '{item}' must be NAME=VALUE, the input it moves first"
                                    f"{_tangent_hint(bindings, item if not sep else value)}")
            if name.strip() in tangents:  # as a binding or --v given twice: never one silently replacing the other
                raise JacUsageError(f"--tangent {name.strip()} is given twice")
            tangents[name.strip()] = value
        if not tangents:
            raise JacUsageError("jvp needs at least one --tangent NAME=VALUE (t of J·t: the direction an input moves in)"
                                f"{_tangent_hint(bindings, 'VALUE')}")
        return jvp_report(read_expression(expr, "jvp", bindings), bindings or [], tangents, wrt, dtype, seed, batch=batch,
                          max_memory=max_memory)

    _run(as_json, commands.limited(build, timeout, "jac jvp"), "jvp", strict)


def _tangent_hint(bindings, value: str) -> str:
    """``: write --tangent x=VALUE`` for the names the command line binds (NAME=VALUE, NAME:SHAPE), for a jvp's
    refusal of a missing or unnamed tangent; nothing when it binds none (the text makes its inputs)."""
    names = [b[:min(i for i in (b.find("="), b.find(":")) if i >= 0)] for b in bindings or []
             if isinstance(b, str) and ("=" in b or ":" in b)]
    names = [n for n in names if n.isidentifier()]
    if not names:
        return ""
    value = f'"{value}"' if " " in value else value
    shown = " or ".join(f"--tangent {n}={value}" for n in names[:3])
    return f": write {shown}" + (" (one per input that moves; 'ones' is a tangent of ones)" if len(names) > 1 else "")


@app.command("hessian", epilog="Example:  jac hessian \"x @ A @ x\" x=\"[1, 2]\" A=\"[[1, 2], [3, 4]]\" --wrt x")
def hessian_command(
    expr: Expr, bindings: BindingArgs = None, wrt: Wrt = None, as_json: Json = False,
    dtype: Dtype = "float64", seed: Seed = 0,
    explain: Annotated[bool, typer.Option("--explain", help="Print the plan before running it: the blocks, passes "
                                          "and basis vectors per pass, predicted peak memory.")] = False,
    max_memory: MaxMemory = None,
    strict: Strict = False,
    batch: BatchOpt = None,
    timeout: CommandTimeout = None,
):
    """Second derivatives, one block per pair of inputs: y.shape + x_i.shape + x_j.shape."""
    from ..tools.report import hessian_report

    show_plan = commands.plan_printer(explain, as_json)

    def build():
        report = hessian_report(read_expression(expr, "hessian", bindings), bindings or [], wrt, dtype, seed, max_memory, show_plan,
                                batch, few_blocks=not as_json)
        return commands.with_plan(report, explain, as_json)

    _run(as_json, commands.limited(build, timeout, "jac hessian"), "hessian", strict)


@app.command("derivative", epilog="Examples:  jac derivative \"x**3\" x=2 --order 3  ·  "
                                  "jac derivative \"tanh(x)\" x:1000 --order 4 --sparse --json  ·  "
                                  "jac derivative \"sin(A @ x)\" A:2x3 x:3 --wrt x --order 3")
def derivative_command(
    expr: Expr, bindings: BindingArgs = None, wrt: OneWrt = None, as_json: Json = False,
    dtype: Dtype = "float64", seed: Seed = 0,
    order: Annotated[int, typer.Option("--order", parser=_whole, help="K from 1 to 32: the K-th derivative, shape "
                                       "y.shape + x.shape * K (without --order: 2, the block jac hessian --wrt NAME "
                                       "gives; jac diff's default is 1).")] = 2,
    sparse: Annotated[bool, typer.Option("--sparse", help="For an element-wise output, give only the diagonal "
                                         "D\\[i, i, ..., i] (shaped like y) instead of the dense tensor.")] = False,
    explain: Annotated[bool, typer.Option("--explain", help="Print the plan before running it: the passes, "
                                          "structure, predicted memory.")] = False,
    max_memory: MaxMemory = None,
    strict: Strict = False,
    batch: BatchOpt = None,
    timeout: CommandTimeout = None,
):
    """The K-th derivative with respect to one input (--wrt NAME): forward over reverse, no finite differences."""
    from ..tools.report import derivative_report

    show_plan = commands.plan_printer(explain, as_json)

    def build():
        report = derivative_report(read_expression(expr, "derivative", bindings), bindings or [], order, wrt, dtype, seed, max_memory,
                                   sparse, show_plan, batch)
        return commands.with_plan(report, explain, as_json)

    _run(as_json, commands.limited(build, timeout, "jac derivative"), "derivative", strict)


@app.command("shape", epilog="Examples:  jac shape \"A @ x\" A:3x4 x:4  ·  jac shape \"x.T @ A @ x\" x:n A:nxn")
def shape_command(expr: Expr, bindings: BindingArgs = None, wrt: Wrt = None, as_json: Json = False,
                  batch: ShapeBatchOpt = None, max_memory: MaxMemory = None, dtype: Dtype = "float64", seed: Seed = 0,
                  timeout: CommandTimeout = None):
    """Shapes only: the output's kind and shape and each derivative's shape; no values.

    Sizes may be letters (x:n, A:nxm) and stay symbolic. With --batch, the shapes of one example."""
    from ..tools.report import shape_report

    _run(as_json, commands.limited(lambda: shape_report(read_expression(expr, "shape", bindings), bindings or [], wrt, batch,
                                                        max_memory, dtype, seed), timeout, "jac shape"), "shape")


@app.command("diff", epilog="Examples:  jac diff \"3*x**2 - 4*x\" --wrt x --at x=1  ·  "
                            "jac diff \"x.T @ A @ x\" --wrt x x:n A:nxn  ·  jac diff \"sin(x) * y\" --wrt x x:3 y:3  ·  "
                            "jac diff \"2 * dot(x, w)\" --wrt w --latex")
def diff_command(
    expr: Expr, bindings: BindingArgs = None, wrt: Wrt = None, as_json: Json = False,
    at: Annotated[Optional[list[str]], typer.Option("--at", help="NAME=VALUE: evaluate the derivatives there "
                                                    "(repeatable; every input needs a value).")] = None,
    latex: Annotated[bool, typer.Option("--latex", help="Print the formulas as LaTeX alone (without it: "
                                                                  "each derivative drawn, then its LaTeX).")] = False,
    order: Annotated[int, typer.Option("--order", parser=_whole, help="K from 1 to 32: the K-th derivative's formulas "
                                       "(K > 1 needs concrete sizes: x:3 or values).")] = 1,
    timeout: Timeout = None,
    max_memory: MaxMemory = None,
    batch: ShapeBatchOpt = None,
    dtype: Dtype = "float64", seed: Seed = 0,
):
    """The symbolic derivative (SymPy): a formula per input, plain and LaTeX.

    Sizes may be letters (x:n, A:nxm): the derivative is then a matrix expression (A*x + A.T*x).
    At concrete sizes (x:3 or values) it is the Jacobian as formulas of the components x[0], x[1], ...
    Names bound nowhere are scalar symbols. With --batch (shapes only), the formulas of one example."""
    from ..tools.report import diff_report

    def build():
        from ..tools.bounded import parse_timeout

        return diff_report(read_expression(expr, "diff", bindings), bindings or [], wrt, at, order=order, timeout=parse_timeout(timeout),
                           max_memory=max_memory, batch=batch, dtype=dtype, seed=seed)

    _run(as_json, build, "diff", latex=latex)


@app.command("check", epilog="Examples:  jac check \"3*x**2 - 4*x\" x=1 --limit  ·  "
                             "jac check \"tanh(A @ x)\" A:3x4 x:4 --method richardson  ·  "
                             "jac check \"abs(x)\" x=\"[0, 1]\" --json   (exit 1 when a derivative disagrees)")
def check_command(
    expr: Expr, bindings: BindingArgs = None, wrt: Wrt = None, as_json: Json = False,
    dtype: Dtype = "float64", seed: Seed = 0,
    method: Annotated[str, typer.Option("--method", help="central (error O(h²)) or richardson "
                                        "(extrapolated, O(h⁶), as numdifftools).")] = "central",
    rtol: Annotated[Optional[float], typer.Option("--rtol", parser=_number, help="Relative tolerance (default 1e-5; "
                                                  "float32: 2e-3).", show_default=False)] = None,
    atol: Annotated[Optional[float], typer.Option("--atol", parser=_number, help="Absolute tolerance (default 1e-8; "
                                                  "float32: 1e-4).", show_default=False)] = None,
    limit: Annotated[bool, typer.Option("--limit", help="For a scalar function of a scalar, also the table "
                                        "of (f(x+h) - f(x))/h for h = 0.1 ... 1e-5.")] = False,
    batch: BatchOpt = None,
    max_memory: MaxMemory = None,
    timeout: CommandTimeout = None,
):
    """Automatic derivatives (reverse and forward mode) against finite differences; exit 1 on a mismatch."""
    from ..tools.report import check_report

    report = _run(as_json, commands.limited(lambda: check_report(read_expression(expr, "check", bindings), bindings or [], wrt,
                                                                 dtype, seed, method, rtol, atol, limit, batch=batch,
                                                                 max_memory=max_memory), timeout, "jac check"), "check")
    if not report["passed"]:
        raise typer.Exit(1)


@app.command("graph", epilog="Examples:  jac graph \"F = a * b; G = 2 * F; G.sum()\" a=\"[1, 2]\" b=\"[3, 4]\" "
                             "--backward  ·  jac graph \"A @ x\" A:2x3 x:3 --dot --out graph.dot  ·  "
                             "jac graph \"sin(x) * x\" x=2 --json")
def graph_command(
    expr: Expr, bindings: BindingArgs = None, wrt: Wrt = None, as_json: Json = False,
    dtype: Dtype = "float64", seed: Seed = 0,
    backward: Annotated[bool, typer.Option("--backward", help="Run y.backward(gradient=v) and show every "
                                           "node's gradient (.grad for leaves, retain_grad() for the others).")] = False,
    v: Annotated[Optional[list[str]], typer.Option("--v", help="With --backward: the gradient passed to backward, "
                                                   "shaped like the output ('ones' allowed; optional for one "
                                                   "element); OUT=VALUE per output when there are several.")] = None,
    dot: Annotated[bool, typer.Option("--dot", help="Print Graphviz DOT instead of the tree.")] = False,
    out: Annotated[Optional[str], typer.Option("--out", help="Write the DOT to FILE.dot (implies --dot).")] = None,
    max_nodes: Annotated[int, typer.Option("--max-nodes", parser=_whole, help="Nodes drawn in the tree; --json and --dot "
                                           "always hold them all.")] = 200,
    max_memory: MaxMemory = None,
    batch: BatchOpt = None,
    timeout: CommandTimeout = None,
):
    """The computation graph from the output down: op, name, shape, kind, leaf, requires-grad, gradient.

    With --batch, the graph of one example (its shapes); the outputs' values and, with --backward, every
    node's gradient per example, batch axis first."""
    build, draw, options = commands.graph_build(expr, bindings, wrt, as_json, dtype, seed, backward, v, dot, out,
                                                max_nodes, max_memory, batch, timeout)
    _run(as_json, build, draw, **options)


@app.command("plot", epilog="Examples:  jac plot \"3*x**2 - 4*x\" x=1 --out tangent.png  ·  "
                            "jac plot \"sin(x)\" x=0.5 --range=-pi:pi --out sin.svg")
def plot_command(
    expr: Expr, bindings: BindingArgs = None, wrt: Wrt = None, as_json: Json = False,
    dtype: Dtype = "float64", seed: Seed = 0,
    out: Annotated[str, typer.Option("--out", help="The picture: FILE.png or FILE.svg.", show_default=False)] = ...,
    span: Annotated[Optional[str], typer.Option("--range", help="LO:HI, the x-axis (default: the point ± "
                                                "2·max(1, |x|)); --range=-1:3 for a negative LO.")] = None,
    max_memory: MaxMemory = None,
    batch: BatchOpt = None,
    timeout: CommandTimeout = None,
):
    """A scalar function of one scalar and its tangent line at the point, drawn to a file (needs matplotlib).

    With --batch, one curve and tangent line per example (at most 100), in one picture."""
    from ..tools.report import parse_range, plot_report

    def build():
        from ..tools.plot import check_path, require_matplotlib, tangent_plot

        from ..lang.fileio import check_output

        check_output(out, "--out", commands.files_read(expr, bindings))
        check_path(out)
        require_matplotlib()
        report = plot_report(read_expression(expr, "plot", bindings), bindings or [], wrt, dtype, seed,
                             parse_range(span) if span is not None else None, max_memory=max_memory, batch=batch)
        tangent_plot(report, out)
        report["out"] = out
        return report

    _run(as_json, commands.limited(build, timeout, "jac plot"), "plot")


@app.command("run", epilog="Examples:  jac run examples/seeds.toml  ·  jac run suite.toml -k jacobian --junit "
                           "report.xml  ·  jac run suite.toml --shard 2/4 --json  (the suite format: "
                           "docs/suites.md)")
def run_command(
    suite: Annotated[str, typer.Argument(help="The suite file (TOML): \\[\\[case]] tables with an expression, "
                                         "bindings and expectations.", show_default=False)],
    k: Annotated[Optional[list[str]], typer.Option("-k", help="Run only the cases whose name contains PATTERN "
                                                  "(ignoring case; repeatable: a case runs if any matches).",
                                                  metavar="PATTERN")] = None,
    shard: Annotated[Optional[str], typer.Option("--shard", help="K/N: run every N-th case, starting with the "
                                                 "K-th (1-based), to split a suite across CI machines.", metavar="K/N")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", parser=_whole, help="Worker processes (0: one per core).")] = 0,
    junit: Annotated[Optional[str], typer.Option("--junit", help="Also write a JUnit XML report to FILE.",
                                                 metavar="FILE")] = None,
    as_json: Json = False,
    max_memory: Annotated[Optional[str], typer.Option("--max-memory", help="Memory budget: 2G, 512M, 50% "
                                                     "(default: half the available memory), for the values the "
                                                     "suite loads and, shared among the --jobs workers, each "
                                                     "case; a case over it is a limit error (exit 2).")] = None,
    timeout: Annotated[Optional[str], typer.Option("--timeout", help="Seconds each case may take (default, 0 or "
                                                  "inf: no limit); a case past it is stopped, a limit error (exit "
                                                  "2), and the others run on.", metavar="SECONDS")] = None,
):
    """Run a suite of derivative tests; exit 1 if an expectation fails, 2 if the suite is bad."""
    report = _run(as_json, lambda: commands.run_suite(suite, k or [], shard, jobs, junit, as_json, max_memory,
                                                      timeout), "run",
                  pause_collector=False)  # its forked workers would inherit a paused collector
    raise typer.Exit(report["exit_code"])


@app.command("schema", epilog="Examples:  jac schema eval  ·  jac schema error  ·  jac schema run > run.schema.json")
def schema_command(
    command: Annotated[Optional[str], typer.Argument(help="eval, vjp, jvp, hessian, derivative, shape, diff, "
                                                     "check, graph, plot, run, or error (the object printed on bad "
                                                     "input).",
                                                     show_default=False)] = None,
):
    """Print the JSON Schema of a command's --json output; without COMMAND, list them."""
    import json

    from . import schema

    try:
        text = "\n".join(schema.names()) if command is None else json.dumps(schema.load(command), indent=2,
                                                                            ensure_ascii=False)
    except JacError as err:
        _fail(err, False)
    print(text)


def _version(value: bool):
    if value:
        print(f"jac {__version__}")
        raise typer.Exit()


@app.command("completion", epilog="Examples:  eval \"$(jac completion bash)\"  (in ~/.bashrc)  ·  "
                                  "jac completion zsh > \"${fpath[1]}/_jac\"  ·  "
                                  "jac completion fish > ~/.config/fish/completions/jac.fish")
def completion_command(
    shell: Annotated[str, typer.Argument(help="bash, zsh or fish.", show_default=False, metavar="SHELL")],
):
    """Print the shell completion script: commands, options, option values and input names."""
    from .completion import script

    if shell not in SHELLS:
        _fail(JacUsageError(f"jac completion: the shell must be bash, zsh or fish, not {shell!r}"), False)
    print(script(shell))


@app.callback()
def _root(version: Annotated[Optional[bool], typer.Option("--version", "-V", callback=_version, is_eager=True,
                                                          help="Show the version and exit.")] = None):
    """Jacobians and derivative shapes from the shell."""


def expression_first(args: list, group=None) -> list:
    """The command line with an argument that begins with ``-`` but is none of the command's
    options (``jac eval "-x" x=1``, ``"-(a + b)"``) read as an argument, as the contract says:
    the options (with their values) go first and the arguments after a ``--``, in their order.
    Unknown ``--long`` options stay options, so typer reports them. ``group``: the click group
    of ``app`` when the caller has it (making it takes longer than most commands run)."""
    command = (group or typer.main.get_command(app)).commands.get(args[0]) if args else None
    if command is None:
        return args
    takes_value = {o: not p.is_flag for p in command.params if p.param_type_name == "option" for o in p.opts}
    takes_value.update({"-h": False, "--help": False})
    options, positional, rest, moved = [], [], iter(args[1:]), False
    for token in rest:
        name = token.partition("=")[0]
        if token == "--":
            positional.extend(rest)
        elif name in takes_value or token.startswith("--"):
            options.append(token)
            value = next(rest, None) if takes_value.get(name) and "=" not in token else None
            if value is not None:
                options.append(value)
        else:
            moved = moved or (token.startswith("-") and token != "-")
            positional.append(token)
    return [args[0], *options, "--", *positional] if moved else args


def given_twice(args: list, group=None) -> str | None:
    """The message for an option that takes one value given more than once (``--dtype float32
    --dtype float64``), or None: click would keep the last silently, and a CI line that sets an
    option twice has one of them wrong (as a binding or a ``--tangent`` given twice)."""
    command = (group or typer.main.get_command(app)).commands.get(args[0]) if args else None
    if command is None:
        return None
    single = {o: p for p in command.params if p.param_type_name == "option" and not p.is_flag and not p.multiple
              for o in p.opts}
    takes_value = {o: not p.is_flag for p in command.params if p.param_type_name == "option" for o in p.opts}
    seen: dict = {}
    rest = iter(args[1:])
    for token in rest:
        if token == "--":
            break
        name, eq, inline = token.partition("=")
        if name not in takes_value:
            continue
        value = inline if eq else next(rest, None) if takes_value[name] else None
        param = single.get(name)
        if param is None:
            continue
        if param.name in seen:
            return f"{name} is given twice ({seen[param.name]!r}, then {value!r}); give it once"
        seen[param.name] = value
    return None


def main(argv: list | None = None) -> int:
    """The console entry point: typer's usage errors become exit 2 with our message."""
    from typer._click.exceptions import ClickException, UsageError

    args = sys.argv[1:] if argv is None else list(argv)
    if os.environ.get(COMPLETE_VAR):
        from typer._completion_classes import completion_init

        completion_init()
    group = typer.main.get_command(app)  # once: typer builds it from the signatures, 0.1 s and more
    args = expression_first(args, group)
    options = args[:args.index("--")] if "--" in args else args
    twice = given_twice(args, group)
    if twice is not None and not {"-h", "--help"} & set(options):
        return commands.fail(JacUsageError(twice), "--json" in options)
    try:
        code = group.main(args=args, prog_name="jac", standalone_mode=False)
    except UsageError as err:
        _fail_usage(err, "--json" in options, group, args)
        return 2
    except ClickException as err:
        err.show()
        return err.exit_code
    except typer.Exit as err:
        return err.exit_code
    except KeyboardInterrupt:
        return 130
    return code if isinstance(code, int) else 0


# what a value of each typer-parsed type must be, by pydantic's error type (typer's own words name neither
# the value nor what to write: "Input should be a valid integer, unable to parse string as an integer")
_PARSED = {"int_parsing": "an integer", "int_from_float": "an integer", "float_parsing": "a number"}


def _option_message(err, args) -> str | None:
    """jac's words for click's refusals of an option's value, naming the option as typed and the value
    (``--seed must be an integer, not '1.5'``, ``--json takes no value, not '1'``), as jac's own checks
    of a value out of range do; None for the others (click's message stands)."""
    from typer._click.exceptions import BadOptionUsage, BadParameter

    param, option = getattr(err, "param", None), getattr(err, "option_name", None)
    if isinstance(err, BadParameter) and param is not None and getattr(param, "opts", None):
        found = getattr(err.__cause__, "errors", lambda: [])()
        what = _PARSED.get(found[0].get("type")) if found else None
        refused = found[0].get("ctx", {}).get("error") if found else None
        if isinstance(refused, _Refused):
            what = str(refused)
        if what is None:
            return None
        typed = [t.partition("=")[0] for t in args if t.partition("=")[0] in (*param.opts, *param.secondary_opts)]
        return f"{typed[-1] if typed else param.opts[0]} must be {what}, not {found[0].get('input')!r}"
    if isinstance(err, BadOptionUsage) and option:
        given = [t.partition("=")[2] for t in args if t.startswith(option + "=")]
        if "does not take a value" in err.format_message():
            return f"{option} is a flag and takes no value" + (f", not {given[-1]!r}" if given else "") + \
                f": write {option} alone"
        if "requires an argument" in err.format_message():
            choices = CHOICES.get(option)
            return f"{option} needs a value" + (f": {' or '.join(choices)}" if choices and len(choices) > 1 else "")
    return None


def _other_case(option: str, args, commands) -> str | None:
    """The command's option that ``option`` spells in other letter cases (``--WRT`` → ``--wrt``), or None."""
    command = commands.get(args[0]) if args else None
    opts = [o for p in getattr(command, "params", ()) for o in getattr(p, "opts", ())]
    return next((o for o in opts if o.lower() == option.lower() and o != option), None)


def _fail_usage(err, as_json: bool, group=None, args=()) -> None:
    from typer._click.exceptions import MissingParameter, NoSuchOption

    commands = (group or typer.main.get_command(app)).commands
    names = list(commands)
    message = _option_message(err, args) or err.format_message() or \
        f"a command is needed: {', '.join(names[:-1])} or {names[-1]}"
    option = getattr(err, "option_name", None)
    takers = [name for name, command in commands.items()  # only for an unknown option: not --wrt without a value
              if any(option in getattr(p, "opts", ()) for p in command.params)] \
        if option and isinstance(err, NoSuchOption) else []
    if takers:  # an option of other commands (jac vjp --layout), not an expression read as an option
        message += f"; {', '.join('jac ' + name for name in takers)} {'takes' if len(takers) == 1 else 'take'} it"
    elif option and isinstance(err, NoSuchOption) and option.lstrip("-") in commands:  # jac eval ... --vjp
        bare = option.lstrip("-")
        message += f"; {bare} is a command of its own: jac {bare} EXPR BINDINGS..."
    elif option and isinstance(err, NoSuchOption) and _other_case(option, args, commands):  # --WRT: click's
        message += f"; did you mean {_other_case(option, args, commands)}? Options are lower case"  # difflib misses it
    elif "No such option: -" in message and "Possible options" not in message:  # --wtr is a typo of --wrt
        message += "; a suite file whose name begins with - goes after --, as in jac run -- -suite.toml" \
            if args and args[0] == "run" else "; an expression that begins with - and could be read as an " \
            "option goes after --, as in jac eval -- \"-x\" x=1"
    ctx = getattr(err, "ctx", None)
    path = ctx.command_path if ctx is not None and ctx.parent is not None else \
        f"jac {args[0]}" if args and args[0] in commands else "jac"  # the command's own help (click's
    # BadOptionUsage, --json=1, comes without its context)
    if isinstance(err, MissingParameter) and ctx is not None:  # jac eval: say what the command line looks like
        message += " " + ctx.get_usage().strip().replace("{", "").replace("}", "")  # typer marks required ones {EXPR}
    usage = JacUsageError(message + f" (see {path} --help)")
    try:
        _fail(usage, as_json)
    except typer.Exit:
        pass
