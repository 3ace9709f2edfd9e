"""Shell completion (bash, zsh, fish) and the help conventions of the typer commands.

The shell calls ``jac`` with ``_JAC_COMPLETE`` set and the words typed so far; typer's
completion machinery answers from the click commands. This module adds what typer cannot
know: the choices of options typed as plain strings (``--layout array|numerator``) and the
input names of the expression typed so far (``jac eval "A @ x" <TAB>`` offers ``A=`` and
``x=``; ``--wrt <TAB>`` offers ``A`` and ``x``). Nothing here runs for ``jac eval`` itself:
the entry point's fast path never imports typer.
"""

from __future__ import annotations

import ast

COMPLETE_VAR = "_JAC_COMPLETE"
SHELLS = ("bash", "zsh", "fish")

# options whose value is one of a few words: shown as [a|b] in --help, offered by completion
CHOICES = {
    "--dtype": ("float64", "float32"),
    "--layout": ("array", "numerator"),
    "--mode": ("auto", "forward", "reverse"),
    "--method": ("central", "richardson"),
    "--v": ("ones",),
}
# what the value of an option is, in --help (instead of <str>)
METAVARS = {"--wrt": "NAME", "--out": "FILE", "--plot": "FILE", "--seed": "N", "--max-memory": "SIZE",
            "--tangent": "NAME=VALUE", "--at": "NAME=VALUE", "--range": "LO:HI", "--max-nodes": "N",
            "--rtol": "RTOL", "--atol": "ATOL", "--jobs": "N", "--order": "K"}
# arguments of a few words: (command, argument) -> a function giving the words
ARGUMENT_CHOICES = {("completion", "shell"): lambda: SHELLS, ("schema", "command"): lambda: _schema_names()}
# options whose value names an input of the expression
NAME_OPTIONS = ("--wrt", "--batch")


def input_names(expr: str) -> list:
    """The names an expression reads and does not assign or know as a function, constant or
    module, in order of appearance; [] when it does not parse (completion never fails)."""
    from ..lang.functions import CONSTANTS, FUNCTIONS, MODULES

    try:
        tree = ast.parse(expr)
    except (SyntaxError, ValueError):
        return []
    known = set(FUNCTIONS) | set(CONSTANTS) | {m.split(".")[0] for m in MODULES}
    assigned = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    names = [n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)]
    return list(dict.fromkeys(n for n in names if n not in known | assigned | called))


def _expression(ctx) -> str:
    """The expression typed so far: parsed by click, or, when an option still waits for its
    value (``--wrt <TAB>``, where click's resilient parse gives up), read off the words the
    shell passed (``COMP_WORDS`` for bash, ``_TYPER_COMPLETE_ARGS`` for zsh and fish)."""
    expr = ctx.params.get("expr") or _first_argument(ctx)
    return "" if expr.startswith("@") or expr == "-" else expr


def _first_argument(ctx) -> str:
    import os

    from typer._click.shell_completion import split_arg_string

    words = split_arg_string(os.environ.get("COMP_WORDS") or os.environ.get("_TYPER_COMPLETE_ARGS") or "")
    takes_value = {o for p in ctx.command.params if p.param_type_name == "option" and not p.is_flag for o in p.opts}
    rest = iter(words[2:])
    for word in rest:
        if word in takes_value:
            next(rest, None)
        elif not word.startswith("--"):
            return word
    return ""


def complete_bindings(ctx, param, incomplete: str) -> list:
    """``NAME=`` for each input of the expression not bound yet (``NAME:`` for ``jac shape``,
    which takes shapes)."""
    from typer._click.shell_completion import CompletionItem

    if "=" in incomplete or ":" in incomplete:
        return []
    sep = ":" if ctx.command.name == "shape" else "="
    bound = {b.replace(":", "=").partition("=")[0] for b in ctx.params.get(param.name) or []}
    return [CompletionItem(f"{name}{sep}", type="plain") for name in input_names(_expression(ctx))
            if name not in bound and name.startswith(incomplete)]


def complete_names(ctx, param, incomplete: str) -> list:
    from typer._click.shell_completion import CompletionItem

    return [CompletionItem(name) for name in input_names(_expression(ctx)) if name.startswith(incomplete)]


def complete_choices(choices: tuple):
    def complete(ctx, param, incomplete: str) -> list:
        from typer._click.shell_completion import CompletionItem

        return [CompletionItem(c) for c in choices if c.startswith(incomplete)]
    return complete


def complete_lazy(words):
    def complete(ctx, param, incomplete: str) -> list:
        from typer._click.shell_completion import CompletionItem

        return [CompletionItem(w) for w in words() if w.startswith(incomplete)]
    return complete


def _schema_names() -> list:
    from .schema import names

    return names()


def conventions(command) -> None:
    """Give a click command's parameters jac's help and completion: a flag shows no type
    (``--json``, not ``--json <bool>``), an option with choices lists them
    (``--layout [array|numerator]``) and completes them, ``--wrt`` and the bindings
    complete the expression's input names."""
    _flag_help_option(command)
    for param in command.params:
        opts = getattr(param, "opts", [])
        name = next((o for o in opts if o in CHOICES), None)
        if getattr(param, "is_flag", False):
            param.metavar = ""
        elif param.param_type_name == "argument":
            # the help text says what an argument is; typer's ``<str>``/``<list[str]>`` says nothing
            param.display_type_rich = lambda ctx: None
            if param.metavar is None:
                param.metavar = param.name.upper()
        elif param.param_type_name == "option" and param.metavar is None and not name:
            param.metavar = METAVARS.get(opts[0], param.name.upper())
        if name and not getattr(param, "is_flag", False):
            param.metavar = "[" + "|".join(CHOICES[name]) + "]" if name != "--v" else "VALUE|ones"
            param.shell_complete = _completer(complete_choices(CHOICES[name]), param)
        elif any(o in NAME_OPTIONS for o in opts):
            param.shell_complete = _completer(complete_names, param)
        elif param.param_type_name == "argument" and param.name == "bindings":
            param.shell_complete = _completer(complete_bindings, param)
        elif param.param_type_name == "argument" and (command.name, param.name) in ARGUMENT_CHOICES:
            param.shell_complete = _completer(complete_lazy(ARGUMENT_CHOICES[command.name, param.name]), param)


def _flag_help_option(command) -> None:
    """``--help`` is made per context by click; it is a flag too."""
    made = command.get_help_option

    def get_help_option(ctx):
        option = made(ctx)
        if option is not None:
            option.metavar = ""
        return option

    command.get_help_option = get_help_option


def _completer(fn, param):
    """The parameter's ``shell_complete(ctx, incomplete)``, answering with ``fn``."""
    return lambda ctx, incomplete: fn(ctx, param, incomplete)


def script(shell: str) -> str:
    """The completion script for ``shell``, to source from the shell's start-up file."""
    from typer._completion_classes import completion_init
    from typer._completion_shared import get_completion_script

    completion_init()
    return get_completion_script(prog_name="jac", complete_var=COMPLETE_VAR, shell=shell)
