"""The ``jac`` command: thin typer commands that hand typed arguments to the library.

Errors are the library's :class:`~jacobi_cli.errors.JacError`; :func:`_run` is the one
place that turns them into a message on stderr (and a JSON error object with
``--json``) and exit code 2.
"""

from __future__ import annotations

import sys
from typing import Annotated, Callable, Optional

import typer

from . import __version__, commands
from .commands import MAX_EXPRESSION_FILE, read_expression  # noqa: F401  (MAX_EXPRESSION_FILE: kept for importers)
from .errors import JacError, JacUsageError

app = typer.Typer(
    name="jac",
    help="Jacobians, VJPs, JVPs, Hessians and derivative shapes of NumPy/PyTorch-style expressions.\n\n"
         "Example: jac eval \"2 * torch.dot(x, y)\" x=\"arange(4.0)\" y=\"[3, 1, 2, 5]\"",
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
Json = Annotated[bool, typer.Option("--json", help="Print one JSON object (see the README for its keys).")]
Dtype = Annotated[str, typer.Option("--dtype", help="float64 or float32.")]
Seed = Annotated[int, typer.Option("--seed", help="Seed for NAME:SHAPE and rand/randn values.")]


def _fail(err: JacError, as_json: bool) -> None:
    raise typer.Exit(commands.fail(err, as_json))


def _run(as_json: bool, build: Callable[[], dict], draw: str) -> None:
    """Build a report, then print it (human or JSON); bad input exits 2."""
    code = commands.run(as_json, build, draw)
    if code:
        raise typer.Exit(code)


# --- commands -------------------------------------------------------------------------------------

@app.command("eval", epilog="Examples:  jac eval \"2 * torch.dot(x, y)\" x=\"arange(4.0)\" y=\"[3, 1, 2, 5]\"  ·  "
                            "jac eval \"A @ x\" A:3x4 x:4 --layout numerator  ·  jac eval \"x**2\" x=\"[2, 3]\" --json")
def eval_command(
    expr: Expr, bindings: BindingArgs = None, wrt: Wrt = None, as_json: Json = False,
    dtype: Dtype = "float64", seed: Seed = 0,
    layout: Annotated[str, typer.Option("--layout", help="array (y.shape + x.shape, as torch/jax) or "
                                        "numerator (the math_shape of the table).")] = "array",
    out: Annotated[Optional[str], typer.Option("--out", help="Save the Jacobians: .npy (one input), .npz "
                                               "(one array per input; a SciPy sparse matrix for one "
                                               "structured Jacobian), .json.")] = None,
    mode: Annotated[str, typer.Option("--mode", help="auto (per input, the cheaper of forward and reverse), "
                                      "forward or reverse.")] = "auto",
    explain: Annotated[bool, typer.Option("--explain", help="Print the plan before running it: mode per input, "
                                          "passes and batch size, structure, predicted peak memory.")] = False,
    sparse: Annotated[bool, typer.Option("--sparse", help="With --json: a diagonal or sparse Jacobian as "
                                         "\"coo\": {indices, values} instead of a dense \"value\".")] = False,
    max_memory: Annotated[Optional[str], typer.Option("--max-memory", help="Memory budget: 2G, 512M, 50% "
                                                      "(default: half the available memory). Bigger plans are "
                                                      "chunked, or refused with exit 2.")] = None,
):
    """The output value, the full Jacobian for every input, and the derivative-shape table."""
    _run(as_json, commands.eval_build(expr, bindings, wrt, as_json, dtype, seed, layout, out, mode, explain, sparse,
                                      max_memory), "eval")


@app.command("vjp", epilog="Examples:  jac vjp \"x * y\" x=\"[1, 2, 3, 4]\" y=\"[3, 4, 5, 6]\" --v \"[2, 3, 4, 5]\"  ·  "
                           "jac vjp \"(x * y).sum()\" x=\"[1, 2]\" y=\"[3, 4]\"")
def vjp_command(
    expr: Expr, bindings: BindingArgs = None, wrt: Wrt = None, as_json: Json = False,
    dtype: Dtype = "float64", seed: Seed = 0,
    v: Annotated[Optional[str], typer.Option("--v", help="The vector v of y.backward(gradient=v), shaped like "
                                             "the output; 'ones' for all ones. Optional for a one-element output.")] = None,
):
    """What y.backward(gradient=v) leaves in x.grad for each input: vᵀ·J."""
    from .report import vjp_report

    _run(as_json, lambda: vjp_report(read_expression(expr), bindings or [], v, wrt, dtype, seed), "vjp")


@app.command("jvp", epilog="Example:  jac jvp \"sin(x) * y\" x=\"[0, 1]\" y=\"[2, 3]\" --tangent x=\"[1, 0]\"")
def jvp_command(
    expr: Expr, bindings: BindingArgs = None, wrt: Wrt = None, as_json: Json = False,
    dtype: Dtype = "float64", seed: Seed = 0,
    tangent: Annotated[Optional[list[str]], typer.Option("--tangent", help="NAME=VALUE: the direction for an "
                                                         "input (repeatable; 'ones' allowed).")] = None,
):
    """The Jacobian-vector product J·t (forward mode) along the given tangents."""
    from .report import jvp_report

    def build():
        tangents = {}
        for item in tangent or []:
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                raise JacUsageError(f"--tangent '{item}' must be NAME=VALUE")
            tangents[name.strip()] = value
        if not tangents:
            raise JacUsageError("jvp needs at least one --tangent NAME=VALUE")
        return jvp_report(read_expression(expr), bindings or [], tangents, wrt, dtype, seed)

    _run(as_json, build, "jvp")


@app.command("hessian", epilog="Example:  jac hessian \"x @ A @ x\" x=\"[1, 2]\" A=\"[[1, 2], [3, 4]]\" --wrt x")
def hessian_command(
    expr: Expr, bindings: BindingArgs = None, wrt: Wrt = None, as_json: Json = False,
    dtype: Dtype = "float64", seed: Seed = 0,
):
    """Second derivatives of a scalar output, one block per pair of inputs."""
    from .report import hessian_report

    _run(as_json, lambda: hessian_report(read_expression(expr), bindings or [], wrt, dtype, seed), "hessian")


@app.command("shape", epilog="Examples:  jac shape \"A @ x\" A:3x4 x:4  ·  jac shape \"x.T @ A @ x\" x:n A:nxn")
def shape_command(expr: Expr, bindings: BindingArgs = None, wrt: Wrt = None, as_json: Json = False):
    """Shapes only: the output's kind and shape and each derivative's shape; no values.

    Sizes may be letters (x:n, A:nxm) and stay symbolic."""
    from .report import shape_report

    _run(as_json, lambda: shape_report(read_expression(expr), bindings or [], wrt), "shape")


def _version(value: bool):
    if value:
        print(f"jac {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[Optional[bool], typer.Option("--version", callback=_version, is_eager=True,
                                                          help="Show the version and exit.")] = None):
    """Jacobians and derivative shapes from the shell."""


def main(argv: list | None = None) -> int:
    """The console entry point: typer's usage errors become exit 2 with our message."""
    from typer._click.exceptions import ClickException, UsageError

    args = sys.argv[1:] if argv is None else list(argv)
    try:
        code = app(args=args, prog_name="jac", standalone_mode=False)
    except UsageError as err:
        _fail_usage(err, "--json" in args)
        return 2
    except ClickException as err:
        err.show()
        return err.exit_code
    except typer.Exit as err:
        return err.exit_code
    except KeyboardInterrupt:
        return 130
    return code if isinstance(code, int) else 0


def _fail_usage(err, as_json: bool) -> None:
    usage = JacUsageError(err.format_message() + " (see jac --help)")
    try:
        _fail(usage, as_json)
    except typer.Exit:
        pass
