"""The ``jac`` command's entry point, with a fast path for ``jac eval``.

Importing typer (and the pydantic it brings) costs about as much as NumPy, more than a
small ``jac eval`` computes. So :func:`main` parses the common, well-formed ``jac eval``
command line itself and runs the same command body (:mod:`jacobi_cli.commands`) that the
typer command runs. Anything else -- another command, ``--help``, an unknown or
malformed option, a missing argument -- goes to typer (:func:`jacobi_cli.cli.main`), so
help and usage errors always come from typer. ``tests/test_entry.py`` checks that both
paths print the same and that this table matches the typer command's options.
"""

from __future__ import annotations

import os
import sys

# jac eval's options: name -> (parameter, kind); kind is "flag", "value", "int" or "many"
EVAL_OPTIONS = {
    "--wrt": ("wrt", "many"), "--json": ("as_json", "flag"), "--dtype": ("dtype", "value"),
    "--seed": ("seed", "int"), "--layout": ("layout", "value"), "--out": ("out", "value"),
    "--mode": ("mode", "value"), "--explain": ("explain", "flag"), "--sparse": ("sparse", "flag"),
    "--max-memory": ("max_memory", "value"), "--symbolic": ("symbolic", "flag"), "--plot": ("plot", "value"),
    "--strict": ("strict", "flag"), "--batch": ("batch", "many"),
}


def main(argv: list | None = None) -> int:
    """Run ``jac`` with ``argv`` (default: the command line); returns the exit code."""
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        return _dispatch(args)
    except BrokenPipeError:  # the reader went away (jac ... | head): stop quietly, as other tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _dispatch(args: list) -> int:
    parsed = None if os.environ.get("_JAC_COMPLETE") else parse_eval(args)
    if parsed is None:
        from .app import main as typer_main

        return typer_main(args)
    from . import commands

    try:
        strict = parsed.pop("strict", False)
        return commands.run(parsed.get("as_json", False), commands.eval_build(**parsed), "eval", strict)[0]
    except KeyboardInterrupt:
        return 130


def parse_eval(args: list) -> dict | None:
    """The keyword arguments of :func:`jacobi_cli.commands.eval_build` for a well-formed
    ``jac eval`` command line, or None for anything the fast path leaves to typer."""
    if not args or args[0] != "eval":
        return None
    found: dict = {"wrt": None}
    positional: list = []
    rest = iter(args[1:])
    for token in rest:
        if token == "--":
            positional.extend(rest)
            break
        if not token.startswith("-") or token == "-" or _argument_like(token):
            positional.append(token)
        elif not _option(token, rest, found):
            return None
    if not positional:
        return None
    return {"expr": positional[0], "bindings": positional[1:] or None, **found}


def _argument_like(token: str) -> bool:
    """``-x``, ``-(a + b)``: an argument that begins with ``-``, as :func:`jacobi_cli.cli.app.expression_first`
    reads it (a single dash and none of eval's options; ``-h`` is help)."""
    return not token.startswith("--") and token != "-h" and token.partition("=")[0] not in EVAL_OPTIONS


def _option(token: str, rest, found: dict) -> bool:
    """Take one option (and its value) into ``found``; False when typer must handle it."""
    name, eq, inline = token.partition("=")
    if name not in EVAL_OPTIONS:
        return False
    param, kind = EVAL_OPTIONS[name]
    if kind == "flag":
        found[param] = True
        return not eq
    value = inline if eq else next(rest, None)
    if value is None or (not eq and value.startswith("-") and value != "-"):
        return False
    if kind == "int":
        try:
            value = int(value)
        except ValueError:
            return False
    if kind == "many":
        found[param] = (found.get(param) or []) + [value]
    else:
        found[param] = value
    return True
