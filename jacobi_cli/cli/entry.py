"""The ``jac`` command's entry point, with a fast path for ``jac eval``, ``jac graph`` and ``jac run``.

Importing typer (and the pydantic it brings) costs about as much as NumPy, more than a
small ``jac eval`` computes, a third of a quick 1,000-case ``jac run`` and a fifth of ``jac graph``
on 300,000 nodes. So :func:`main` parses the common, well-formed ``jac eval``, ``jac graph`` and
``jac run`` command lines itself and runs the same command bodies (:mod:`jacobi_cli.commands`)
that the typer commands run. Anything else -- another command, ``--help``, an unknown or
malformed option, a missing argument -- goes to typer (:func:`jacobi_cli.cli.main`), so help
and usage errors always come from typer. ``tests/test_entry.py`` checks that both paths print
the same and that these tables match the typer commands' options.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys

# jac eval's options: name -> (parameter, kind); kind is "flag", "value", "int" or "many"
EVAL_OPTIONS = {
    "--wrt": ("wrt", "many"), "--json": ("as_json", "flag"), "--dtype": ("dtype", "value"),
    "--seed": ("seed", "int"), "--layout": ("layout", "value"), "--out": ("out", "value"),
    "--mode": ("mode", "value"), "--explain": ("explain", "flag"), "--sparse": ("sparse", "flag"),
    "--max-memory": ("max_memory", "value"), "--symbolic": ("symbolic", "flag"), "--plot": ("plot", "value"),
    "--strict": ("strict", "flag"), "--batch": ("batch", "many"), "--timeout": ("timeout", "value"),
}
# jac graph's, the same way: a graph of 300,000 nodes is drawn in about a second, typer takes a fifth of that
GRAPH_OPTIONS = {
    "--wrt": ("wrt", "many"), "--json": ("as_json", "flag"), "--dtype": ("dtype", "value"),
    "--seed": ("seed", "int"), "--backward": ("backward", "flag"), "--v": ("v", "many"), "--dot": ("dot", "flag"),
    "--out": ("out", "value"), "--max-nodes": ("max_nodes", "int"), "--max-memory": ("max_memory", "value"),
    "--batch": ("batch", "many"), "--timeout": ("timeout", "value"),
}
FAST_COMMANDS = {"eval": EVAL_OPTIONS, "graph": GRAPH_OPTIONS}

# jac run's options (every spelling), as EVAL_OPTIONS
RUN_OPTIONS = {
    "-k": ("k", "many"), "--shard": ("shard", "value"), "--jobs": ("jobs", "int"), "-j": ("jobs", "int"),
    "--junit": ("junit", "value"), "--json": ("as_json", "flag"), "--max-memory": ("max_memory", "value"),
    "--timeout": ("timeout", "value"),
}


PIPE_CLOSED = 141  # 128 + SIGPIPE: what a shell reports for a tool killed by a closed pipe
INTERRUPTED = 130  # 128 + SIGINT
TERMINATED = 143  # 128 + SIGTERM, should re-sending SIGTERM to itself not end the process
INTERNAL = 70  # EX_SOFTWARE: a bug in jac, never bad input (2) nor a failed check (1)


class OutputError(Exception):
    """Writing standard output failed (full, closed, a pipe whose reader left). Not an
    OSError, so that no library code on the way (click turns EPIPE into exit 1) takes it."""

    def __init__(self, error: OSError):
        super().__init__(error.strerror or str(error))
        self.errno = error.errno


class _Stdout:
    """Standard output whose write errors become :class:`OutputError`; a closed one
    (``>&-``) fails on the first write, like a full disk, instead of going nowhere."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        return self._call("write", text)

    def flush(self):
        return self._call("flush")

    def _call(self, method, *args):
        try:
            if self._stream is None:
                raise OSError(errno.EBADF, "standard output is closed")
            return getattr(self._stream, method)(*args)
        except OSError as error:
            raise OutputError(error) from None

    def __getattr__(self, name):
        if self._stream is None:  # closed (>&-): what a stream is asked, answered; anything else is absent
            if name in _CLOSED_STREAM_ATTRIBUTES:
                return _CLOSED_STREAM_ATTRIBUTES[name]
            if name == "buffer":  # binary writes fail as text writes do
                return self
            if name == "fileno":
                return _closed_fileno
            # (it answered every name with a function: rich took one for its proxied file, exit 70)
            raise AttributeError(name)
        return getattr(self._stream, name)


_CLOSED_STREAM_ATTRIBUTES = {"isatty": lambda: False, "encoding": "utf-8", "errors": "strict", "closed": False,
                             "writable": lambda: True, "readable": lambda: False, "seekable": lambda: False}


def _closed_fileno():
    raise OSError(errno.EBADF, "standard output is closed")


class _Stderr(_Stdout):
    """Standard error that never fails: a message that cannot be shown must not change
    the exit code (``2> /dev/full`` keeps exit 2)."""

    def _call(self, method, *args):
        try:
            return super()._call(method, *args)
        except OutputError:
            return None


def main(argv: list | None = None) -> int:
    """Run ``jac`` with ``argv`` (default: the command line); returns the exit code.

    Whatever the command, a closed output pipe ends quietly with 141, Ctrl-C with 130, a
    standard output that cannot be written (full, closed) with one message and exit 2,
    and an error that is a bug in jac with one message and exit 70, never a traceback
    (``JAC_DEBUG=1`` shows it)."""
    arrived: list = []  # the Ctrl-Cs of this call (a library may turn one into its own error)
    previous = _interruptible(arrived)
    if argv is None:
        _terminable()
    try:
        return _main(sys.argv[1:] if argv is None else list(argv), process=argv is None, arrived=arrived)
    except KeyboardInterrupt:  # Ctrl-C in a handler below, or before its try: still quiet
        return INTERRUPTED
    except Terminated:  # the work is undone (every finally ran): end as SIGTERM would have
        _restore_sigint(signal.SIG_IGN)
        _die_of_sigterm()
        return TERMINATED
    finally:
        # the work is over: a Ctrl-C from now on (the exit's flush) changes nothing. The
        # process entry keeps ignoring it to the end; an in-process caller gets its handler back
        _restore_sigint(signal.SIG_IGN if argv is None else previous)
        if argv is None:  # and a SIGTERM ends the process as Python's default does (no exception left to catch)
            with contextlib.suppress(ValueError):
                signal.signal(signal.SIGTERM, signal.SIG_DFL)


class Terminated(BaseException):
    """SIGTERM arrived (a CI job cancelled or timed out, ``timeout``, ``docker stop``): raised so that
    the work is undone on the way out as for Ctrl-C (temporary files, ``jac run``'s worker
    processes, the forked SymPy child), after which the process ends by SIGTERM as it would have."""


def _terminable() -> None:
    """The command line's SIGTERM raises :class:`Terminated` (Python's default ends the process at
    once, leaving its worker processes running: they outlived ``jac run`` for good)."""

    def terminate(signum, frame):
        if _unraisable(frame):  # as for SIGINT: Python would drop an exception raised there
            _again(signum)
            return
        raise Terminated

    with contextlib.suppress(ValueError):  # not the main thread: not ours to handle
        signal.signal(signal.SIGTERM, terminate)


def _die_of_sigterm() -> None:
    """End the process by SIGTERM, as Python's default handling would have: what a caller sees
    (``$?`` 143, killed by signal 15) is unchanged; only the clean-up before it is new."""
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def _interruptible(arrived: list):
    """SIGINT raises KeyboardInterrupt (which every command turns into exit 130, cleaning up
    on the way: temporary files, the forked SymPy child), whatever handler came before (the
    quiet exit ``python -m jacobi_cli`` installs while it imports), and is noted in ``arrived``:
    a library that catches it in its import and raises an error of its own (NumPy's C modules
    do, without chaining it) still ends the command with 130. Returns the handler before."""

    def interrupted(signum, frame):
        arrived.append(signum)
        if _unraisable(frame):  # raised there, Python would print it as "Exception ignored" and drop it
            _again(signum)  # so this handler runs again at the next check, past that callback
            return
        raise KeyboardInterrupt

    try:
        return signal.signal(signal.SIGINT, interrupted)
    except ValueError:  # not the main thread: signals are not ours to handle
        return None


def _again(signum: int) -> None:
    """Have ``signum``'s handler called again soon, from a thread of its own: a signal sent again from
    inside the handler (``signal.raise_signal``, ``_thread.interrupt_main``) is handled at once, inside
    the handler itself, whose frame is not the callback's, and KeyboardInterrupt was raised inside the
    callback after all. Sent 2 ms later the callback has returned, or the handler sees it and waits again.
    Only built-in modules: this runs inside the import system."""
    import _thread

    def later():
        pause = _thread.allocate_lock()
        pause.acquire()
        pause.acquire(timeout=0.002)
        _thread.interrupt_main(signum)

    _thread.start_new_thread(later, ())


def _unraisable(frame) -> bool:
    """Is ``frame`` a callback whose exceptions Python reports and drops (``Exception ignored in``)?
    The import system's weak-reference callback that removes a module's lock (seen at a Ctrl-C 200 ms
    into start-up), which runs whenever a lock is freed, inside any import."""
    code = getattr(frame, "f_code", None)
    return code is not None and code.co_name == "cb" and code.co_filename == "<frozen importlib._bootstrap>"


def _restore_sigint(handler) -> None:
    if handler is not None:
        with contextlib.suppress(ValueError, TypeError):
            signal.signal(signal.SIGINT, handler)


def _main(args: list, process: bool = False, arrived: tuple | list = ()) -> int:
    """The command's body; ``process``: this is the command line itself, not ``main()`` run
    in-process (see :func:`_before_exit`)."""
    _reserve_standard_fds()
    for stream in (sys.stdout, sys.stderr):
        _escape_unencodable(stream)
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Stdout(saved[0]), _Stderr(saved[1])
    try:
        code = _dispatch(args)
        sys.stdout.flush()
        if process:
            _before_exit()
        return code
    except OutputError as error:
        if error.errno == errno.EPIPE:
            return PIPE_CLOSED
        sys.stderr.write(f"jac: error (io): cannot write to standard output: {error}\n")
        return 2
    except KeyboardInterrupt:
        return INTERRUPTED
    except Exception as error:  # noqa: BLE001  (the last resort: one line, not a traceback)
        if arrived or _caused_by_interrupt(error):  # Ctrl-C inside NumPy's import comes back as its ImportError
            return INTERRUPTED
        if os.environ.get("JAC_DEBUG"):
            raise
        sys.stderr.write(f"jac: internal error ({type(error).__name__}: {error}); this is a bug in jac, "
                         f"please report it with the command line (JAC_DEBUG=1 shows the traceback)\n")
        return INTERNAL
    finally:
        _silence_stdout()
        sys.stdout, sys.stderr = saved  # as they were: main() may run in-process (tests, docs)


def _caused_by_interrupt(error: BaseException) -> bool:
    """Whether ``error`` was raised while handling a KeyboardInterrupt (its cause or context)."""
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def _before_exit() -> None:
    """The process ends after its one command: drop the compiled functions the API keeps, so
    that the interpreter's last collection does not walk them (a 300,000-node graph twice over:
    half a second). Only for the command line itself (``argv`` None), not for ``main()`` run
    in-process, whose caller may still want them."""
    api = sys.modules.get("jacobi_cli.tools.api")  # loaded by any command that computed
    if api is not None:
        api.clear_cache()


def _escape_unencodable(stream) -> None:
    """A stream whose encoding cannot hold what jac prints (``∂`` with PYTHONIOENCODING=ascii or
    a C locale) writes those characters escaped (``\u2202``) instead of failing. A C locale
    without Python's UTF-8 mode (``LC_ALL=C PYTHONUTF8=0``) opens stdout as ASCII with
    ``surrogateescape``, which fails on ``∂`` just the same."""
    if getattr(stream, "errors", None) in ("strict", "surrogateescape"):
        with contextlib.suppress(AttributeError, ValueError, OSError):
            stream.reconfigure(errors="backslashreplace")


def _reserve_standard_fds() -> None:
    """Point closed descriptors 0-2 at /dev/null, so that no file jac opens later gets
    number 1 and receives what was meant for standard output."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)


def _silence_stdout() -> None:
    """After an output error, let the interpreter's final flush of what is left in the
    buffer go to /dev/null instead of printing "Exception ignored" and exiting 120."""
    try:
        sys.stdout.flush()
    except OutputError:
        stream = getattr(sys.stdout, "_stream", None)
        try:
            real = stream is not None and stream.fileno() == 1
        except (OSError, ValueError, AttributeError):
            real = False  # an in-process stream (a test's capture): nothing to redirect
        if real:
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
                stream.flush()


# characters that word processors, chat tools and some keyboards put where "-" or "--" was typed
DASH_LOOKALIKES = {"\u2014": "an em dash", "\u2013": "an en dash", "\u2212": "a minus sign", "\u2012": "a figure dash",
                   "\u2015": "a horizontal bar", "\u2010": "a Unicode hyphen", "\u2011": "a non-breaking hyphen"}
# every option of every command (tests/test_leftovers32.py compares it with the typer commands'), --help, -V
OPTION_NAMES = frozenset((
    "--at", "--atol", "--backward", "--batch", "--dot", "--dtype", "--explain", "--jobs", "--json", "--junit", "--latex",
    "--layout", "--limit", "--max-memory", "--max-nodes", "--method", "--mode", "--order", "--out", "--plot", "--range",
    "--rtol", "--seed", "--shard", "--sparse", "--strict", "--symbolic", "--tangent", "--timeout", "--v", "--wrt", "-j",
    "-k", "--help", "-h", "--version", "-V"))


def dash_lookalike(args: list) -> str | None:
    """The usage error of an option written with a dash that is no ASCII hyphen (``jac run —json s.toml``: an em
    dash an editor made of ``--``), before ``--``; None when there is none. Read as a path or an expression, it gave a
    message about something else (typer's "unexpected extra argument"). Only an option's name is caught: an
    expression may begin with the typeset minus sign or an en dash (``jac eval "−x"``), which the parser reads as -."""
    for arg in args:
        if arg == "--":
            return None
        if not arg or arg[0] not in DASH_LOOKALIKES:
            continue
        rest = arg.lstrip("".join(DASH_LOOKALIKES) + "-")
        name = rest.split("=", 1)[0]
        meant = next((o for o in (f"--{name}", f"-{name}") if o in OPTION_NAMES), None)
        if meant is not None:
            hyphens = "two hyphens" if meant.startswith("--") else "a hyphen"
            fixed = meant + rest[len(name):]
            return (f"unknown argument '{arg}': did you mean {fixed}? It begins with a typeset dash ('{arg[0]}', "
                    f"{DASH_LOOKALIKES[arg[0]]}), not {hyphens}: write {fixed}")
    return None


def _dispatch(args: list) -> int:
    lookalike = dash_lookalike(args)
    if lookalike is not None:
        from ..errors import JacUsageError
        from .commands import fail

        options = args[:args.index("--")] if "--" in args else args
        return fail(JacUsageError(lookalike), "--json" in options)  # a real --json: '—json' asked for none
    completing = os.environ.get("_JAC_COMPLETE")
    parsed = None if completing else parse_command(args)
    suite = None if completing or parsed is not None else parse_run(args)
    if parsed is None and suite is None:
        from .app import main as typer_main

        return typer_main(args)
    from . import commands

    if suite is not None:
        as_json = suite.pop("as_json", False)
        code, report = commands.run(as_json, lambda: commands.run_suite(as_json=as_json, **suite), "run",
                                    pause_collector=False)  # its forked workers would inherit a paused collector
        return code or report["exit_code"]
    if args[0] == "graph":
        build, draw, options = commands.graph_build(**parsed)
        return commands.run(parsed.get("as_json", False), build, draw, **options)[0]
    strict = parsed.pop("strict", False)
    return commands.run(parsed.get("as_json", False), commands.eval_build(**parsed, strict=strict), "eval", strict)[0]


def parse_run(args: list) -> dict | None:
    """The keyword arguments of :func:`jacobi_cli.cli.commands.run_suite` for a well-formed
    ``jac run SUITE`` command line, or None for anything left to typer."""
    if not args or args[0] != "run":
        return None
    found: dict = {"k": None}
    positional = _scan(args[1:], RUN_OPTIONS, found, lambda token: False)
    if positional is None or len(positional) != 1:
        return None
    return {"path": positional[0], "patterns": found.pop("k") or [], "shard_text": found.pop("shard", None),
            "jobs": found.pop("jobs", 0), "junit": found.pop("junit", None), **found}


def _scan(tokens: list, table: dict, found: dict, argument_like) -> list | None:
    """The positional arguments of ``tokens``, the options of ``table`` put into ``found``;
    None at an option the fast path leaves to typer. Everything after ``--`` is positional,
    as is ``-`` and a token ``argument_like`` says is one (an expression starting with ``-``)."""
    positional: list = []
    rest = iter(tokens)
    for token in rest:
        if token == "--":
            positional.extend(rest)
            break
        if not token.startswith("-") or token == "-" or argument_like(token):
            positional.append(token)
        elif not _option(token, rest, found, table):
            return None
    return positional


def parse_eval(args: list) -> dict | None:
    """The keyword arguments of :func:`jacobi_cli.commands.eval_build` for a well-formed
    ``jac eval`` command line, or None for anything the fast path leaves to typer."""
    return parse_command(args) if args and args[0] == "eval" else None


def parse_command(args: list) -> dict | None:
    """The keyword arguments of the command body (:func:`jacobi_cli.commands.eval_build`,
    :func:`~jacobi_cli.commands.graph_build`) for a well-formed ``jac eval`` or ``jac graph``
    command line, or None for anything the fast path leaves to typer."""
    if not args or args[0] not in FAST_COMMANDS:
        return None
    table = FAST_COMMANDS[args[0]]
    found: dict = {"wrt": None}
    positional = _scan(args[1:], table, found, lambda token: _argument_like(token, table))
    if not positional:
        return None
    return {"expr": positional[0], "bindings": positional[1:] or None, **found}


def _argument_like(token: str, table: dict) -> bool:
    """``-x``, ``-(a + b)``: an argument that begins with ``-``, as :func:`jacobi_cli.cli.app.expression_first`
    reads it (a single dash and none of the command's options; ``-h`` is help)."""
    return not token.startswith("--") and token != "-h" and token.partition("=")[0] not in table


def _option(token: str, rest, found: dict, options: dict) -> bool:
    """Take one option (and its value) into ``found``; False when typer must handle it."""
    name, eq, inline = token.partition("=")
    if name not in options:
        return False
    param, kind = options[name]
    if kind == "flag":
        found[param] = True
        return not eq
    if kind != "many" and param in found:  # given twice: typer's path refuses it (app.given_twice)
        return False
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
