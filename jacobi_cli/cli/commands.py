"""What the commands share, without typer: reading ``EXPR``, running a report builder,
turning :class:`~jacobi_cli.errors.JacError` into a message and exit code 2, and the
bodies of ``jac eval`` and ``jac run``.

:mod:`jacobi_cli.cli` (typer) and the fast path of :mod:`jacobi_cli.entry` both call
these, so a command behaves the same whichever parsed its arguments.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from typing import Callable

from ..errors import JacError, JacIOError, JacLimitError, JacParseError, JacUsageError, JacValueError, unknown_choice

MAX_EXPRESSION_FILE = 10 * 2**20


def read_expression(expr: str, command: str = "eval", bindings=None) -> str:
    """``EXPR`` as given, or read from ``@path`` or ``-`` (standard input). An expression indented
    as a whole (``jac eval "  x + 1"``, the lines of a quoted block in a script) is read as the
    parser reads it (``lang.parser.Source``: its common indent removed, as Python's ``eval`` and
    ``textwrap.dedent`` do, instead of "unexpected indent"), so the report holds it as given
    and an error's column counts in what the user typed. A binding given where the expression goes
    (``jac eval x=2``, ``jac eval x:3``: the expression forgotten) is refused saying so (and
    with the command reordered where an expression follows among ``bindings``: ``jac eval x=[1,2] 'sum(x)'``)."""
    _not_a_binding(expr, command, bindings or [])
    return _read_expression(expr)


def _binding_match(text: str):
    """The match of ``text`` as a binding (``x:3``, ``x=[1, 2]``: its name is group 1), else None."""
    import re

    found = re.fullmatch(r"\s*([A-Za-z_]\w*)\s*(?::\s*[\w,() ]+|=(?!=)[-+0-9.eE\[\](),\s]+)", text)
    return found if found and not re.fullmatch(r"\s*\w+\s*=\s*", text) else None


def _not_a_binding(expr: str, command: str, bindings=()) -> None:
    """Refuse an EXPR that is a binding: ``x:3`` (an annotated assignment, never a text jac reads) or ``x=2`` /
    ``x=[1, 2]`` (an assignment of numbers, whose report would be that constant with nothing to differentiate;
    ``y = x ** 2``, which reads a name, is a text as before). Where one of ``bindings`` (the arguments after it)
    is no binding (``sum(x)``, an expression given second), the message gives the command in its order."""
    import shlex

    found = _binding_match(expr)
    if not found:
        return
    later = next((b for b in bindings if isinstance(b, str) and "=" not in b and ":" not in b and b.strip()), None)
    if later is not None:
        given = [b for b in [expr, *bindings] if b is not later]
        raise JacUsageError(f"no expression given: '{expr.strip()}' is a binding of {found[1]}, and the expression "
                            f"'{later.strip()}' comes after it; the expression comes first, then the bindings: "
                            f"jac {command} {' '.join(shlex.quote(b) for b in [later, *given])}")
    raise JacUsageError(f"no expression given: '{expr.strip()}' is a binding of {found[1]}; the expression comes "
                        f"first, then the bindings: jac {command} EXPR {expr.strip()}")


def _read_expression(expr: str) -> str:
    if expr == "-":
        if sys.stdin is None:  # jac started with descriptor 0 closed (``jac eval - <&-``)
            raise JacIOError("cannot read the expression from standard input: it is closed")
        if _is_terminal(sys.stdin):  # nothing piped in: reading would wait for typing, a CI job's hang
            raise JacIOError("'-' reads the expression from standard input, which is a terminal here (nothing "
                             "piped in): pipe the text in (echo 'sum(x**2)' | jac eval - x=[1,2]), read it from a "
                             "file (@FILE) or give it as the argument")
        stream = getattr(sys.stdin, "buffer", None)
        if stream is None:  # a text stream without bytes underneath
            return sys.stdin.read(MAX_EXPRESSION_FILE + 1)
        return _decoded(stream.read(MAX_EXPRESSION_FILE + 1), "standard input")
    if not expr.startswith("@"):
        return expr
    from ..lang.fileio import open_regular_file

    path = expr[1:]
    if not path.strip():  # jac eval @ x=1, jac eval "@ " x=1: no file named, which open() would call '' missing
        raise JacIOError("'@' reads the expression from a file: give its name after it (jac eval @model.py)")
    try:  # a FIFO or a device is refused before it is opened: reading it could wait forever
        with open_regular_file(path, "the expression from") as fp:
            data = fp.read(MAX_EXPRESSION_FILE + 1)
    except JacIOError as err:
        if "\n" not in path:
            raise
        raise JacIOError(f"{err.message}; an EXPR beginning with '@' names a file, so a text that begins with a "
                         "decorator line (@jax.jit) must begin otherwise: with its imports (import jax), or give it "
                         "as a file (@path) or on standard input (-)") from None
    except OSError as err:
        raise JacIOError(f"cannot read the expression from '{path}': {err.strerror or err}") from None
    return _decoded(data, f"the expression file '{path}'")


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # a replaced stream without isatty, a closed one
        return False


def files_read(expr: str, bindings=(), options=()) -> list:
    """``(what, path)`` of each file the command line reads: ``@EXPR``, ``NAME=@FILE`` bindings
    and the values of ``options``, ``(option, text)`` pairs (``("--v", "@v.npy")``, also
    ``OUT=@FILE``), so that no output option writes over one (``fileio.check_output``)."""
    found = [("the expression", expr[1:])] if expr.startswith("@") else []
    for item in bindings or ():
        eq, colon = item.find("="), item.find(":")
        value = item[eq + 1:].strip()
        if eq >= 0 and not 0 <= colon < eq and value.startswith("@"):
            found.append((f"input '{item[:eq].strip()}'", value[1:]))
    for option, text in options:
        value = text.strip()
        if not value.startswith("@") and "=" in value:
            value = value.split("=", 1)[1].strip()
        if value.startswith("@"):
            found.append((option, value[1:]))
    return found


def _decoded(data: bytes, what: str) -> str:
    if len(data) > MAX_EXPRESSION_FILE:
        raise JacLimitError(f"{what} is larger than {MAX_EXPRESSION_FILE:,} bytes")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Windows' "Unicode": a UTF-16 byte-order mark
        raise JacIOError(f"{what} is UTF-16 text (it begins with UTF-16's byte-order mark); save it as UTF-8")
    try:  # "utf-8-sig": a byte-order mark (Notepad writes one) is dropped, as Python drops it from a script
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise JacIOError(f"{what} is not UTF-8 text (byte {err.start}: 0x{data[err.start]:02x})") from None
    if not text or text.isspace():  # the parser's "the expression is empty" would not say where it was read
        raise JacParseError(f"{what} is empty: it holds no expression", 0)  # position 0, as the parser's
    return text


def fail(err: JacError, as_json: bool) -> int:
    """The error on stderr (and as JSON on stdout with ``--json``); returns exit code 2."""
    from .render import Renderer, error_json

    sys.stdout.flush()
    Renderer(stderr=True).error(err)
    if as_json:
        print(error_json(err))
    return 2


@contextlib.contextmanager
def collector_paused():
    """The cyclic garbage collector off for the length of one command, as it was after.

    jac's data (graph nodes, values, reports) hold no reference cycles and reference counting
    frees them; the collector's passes over the long-lived nodes of a big graph only cost time
    (a third of ``jac graph`` on a 300,000-node sum). It is process-wide state, so only the
    command line touches it, never the library; restored after, since ``main()`` also runs
    in-process (tests, docs).

    What the command made and still holds is then promoted to the oldest generation without a
    pass over it (freeze then unfreeze: two list splices), instead of the young collection over
    every object made while paused that the next allocation would start; only when nothing
    else is frozen, so that no one else's frozen objects are unfrozen."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        if was:
            gc.enable()


def run(as_json: bool, build: Callable[[], object], draw: str, strict: bool = False, pause_collector: bool = True,
        **options) -> tuple:
    """Build a result, then print it (human or JSON) and its warnings (stderr); returns
    ``(exit code, result)``: ``(0, result)``, or ``(2, None)`` for bad input and, under
    ``strict``, for a NaN or infinity in the value or a derivative. ``options`` go to the
    renderer's ``draw`` method (``latex=``, ``max_nodes=``). The collector is paused meanwhile
    (:func:`collector_paused`) unless ``pause_collector`` is False (``jac run``, whose forked
    workers would inherit a paused collector for a whole suite)."""
    with collector_paused() if pause_collector else contextlib.nullcontext():
        return _run(as_json, build, draw, strict, **options)


def _run(as_json: bool, build: Callable[[], object], draw: str, strict: bool = False, **options) -> tuple:
    import numpy as np

    try:
        try:
            report = build()
        except MemoryError:
            raise JacLimitError("not enough memory for this computation; try smaller inputs") from None
        except np.linalg.LinAlgError as err:
            raise JacValueError(f"linear algebra failed: {err}") from None
        warnings = report.get("warnings") or []
        if strict:
            refuse_nonfinite(report)
        from .render import Renderer, write_json

        renderer = Renderer()
        prepare = None if as_json else getattr(renderer, f"prepare_{draw}", None)
        if prepare is not None:  # work of the drawing that may fail (jac diff's --timeout): before any output
            prepare(report, **options)
    except JacError as err:
        return fail(err, as_json), None

    if as_json:
        write_json(report, sys.stdout)
    else:
        getattr(renderer, draw)(report, **options)
    sys.stdout.flush()
    stderr = Renderer(stderr=True)
    for warning in warnings:
        stderr.warning(warning, report.get("expression"))
    for line in getattr(report, "wrote", ()):  # files written beside the report (eval --plot): on stderr,
        print(line, file=sys.stderr)          # so that --json keeps stdout to its one object
    return 0, report


def refuse_nonfinite(report) -> None:
    """``--strict``: the first NaN or infinity the report warns of, as a JacValueError."""
    from ..tools.report import refuse_nonfinite as refuse

    refuse(report.get("warnings"), report.get("expression"))


def plan_printer(explain: bool, as_json: bool):
    """``--explain``: the callback that prints a plan before it runs (the human output only)."""
    def show_plan(plan):
        if explain and not as_json:
            from .render import Renderer

            Renderer().plan(plan)

    return show_plan


def with_plan(report, explain: bool, as_json: bool):
    """``--explain --json``: the plan the result followed, as its ``"plan"`` key."""
    if explain and as_json:
        report["plan"] = report.plan.to_dict()
    return report


def graph_build(expr: str, bindings, wrt=None, as_json: bool = False, dtype: str = "float64", seed: int = 0,
                backward: bool = False, v: list | None = None, dot: bool = False, out: str | None = None,
                max_nodes: int = 200, max_memory: str | None = None, batch: list | None = None,
                timeout: str | None = None) -> tuple:
    """``jac graph``: ``(build, draw, options)`` for :func:`run` (the report builder, the
    renderer's method and its options)."""
    import os

    def build():
        from ..tools.report import graph_report

        if out is not None:  # fileio brings json, zipfile and secrets: only when writing
            from ..lang.fileio import check_output

            check_output(out, "--out", files_read(expr, bindings, [("--v", t) for t in v or ()]))
        if out and os.path.splitext(out)[1].lower() not in (".dot", ".gv"):
            raise JacUsageError(f"--out {out}: the graph is written as Graphviz DOT, to a .dot or .gv file")
        if dot and not out and as_json:
            raise JacUsageError("--dot prints DOT on standard output, where --json prints JSON: "
                                "write the DOT to a file with --out FILE.dot")
        if max_nodes < 1:
            raise JacUsageError(f"--max-nodes must be at least 1, not {max_nodes}")
        report = graph_report(read_expression(expr, "graph", bindings), bindings or [], wrt, dtype, seed, backward, v, max_memory,
                              batch)
        if out:
            from ..lang.fileio import write_bytes
            from .render import to_dot
            write_bytes(out, to_dot(report).encode("utf-8"))
            report.wrote.append(f"wrote {out}: the graph in Graphviz DOT")
        return report

    build = limited(build, timeout, "jac graph")
    if dot and not out:
        return build, "dot", {}
    return build, "graph", {"max_nodes": max_nodes}


def _written_as(path: str | None, option: str, what: str, suffixes: tuple) -> None:
    """Refuse, before any work, an output file name whose suffix the option does not write (a usage error,
    as --plot's and jac graph's --out: the option's value is wrong, no file system said no)."""
    if path is not None and os.path.splitext(path)[1].lower() not in suffixes:
        found = f"'{os.path.splitext(path)[1]}'" if os.path.splitext(path)[1] else "a file without a suffix"
        raise JacUsageError(f"{option} {path}: {what} to a {', '.join(suffixes[:-1])} or {suffixes[-1]} file, "
                            f"not {found}")


def eval_build(expr: str, bindings, wrt=None, as_json: bool = False, dtype: str = "float64", seed: int = 0,
               layout: str = "array", out: str | None = None, mode: str = "auto", explain: bool = False,
               sparse: bool = False, max_memory: str | None = None, symbolic: bool = False,
               plot: str | None = None, batch: list | None = None,
               timeout: str | None = None, strict: bool = False) -> Callable[[], object]:
    """The report builder of ``jac eval``, for :func:`run`. ``strict``: a NaN or infinity is
    refused before ``--out`` and ``--plot`` are written (a refused run writes no file)."""
    from ..tools.report import eval_report, save_arrays

    show_plan = plan_printer(explain, as_json)

    def build():
        if layout not in ("array", "numerator"):
            raise unknown_choice("--layout", layout, ("array", "numerator"))
        if sparse and not as_json:  # it was ignored: the text shows the structure anyway (as --v needs --backward)
            raise JacUsageError("--sparse changes only --json's output (a diagonal or sparse Jacobian as \"coo\" "
                                "entries): add --json; to keep one structured Jacobian sparse in a file, "
                                "--out FILE.npz")
        if out is not None or plot is not None:  # fileio brings json and zipfile: only when writing
            from ..lang.fileio import check_output

            reads = files_read(expr, bindings)
            check_output(out, "--out", reads)
            check_output(plot, "--plot", reads)
            _written_as(out, "--out", "the Jacobians are written", (".npy", ".npz", ".json"))
        if plot is not None:
            from ..tools.plot import check_path, require_matplotlib
            check_path(plot, "--plot")
            require_matplotlib()
        values = ("coo" if sparse else "dense") if as_json else "none"
        from ..tools.bounded import parse_timeout

        seconds = parse_timeout(timeout)
        # a --timeout given bounds the whole command (the numbers too); without one, only --symbolic's SymPy, at 30 s
        with whole_command(seconds if timeout is not None else None, "jac eval"):
            return computed(seconds, values)

    def computed(seconds, values):
        report = eval_report(read_expression(expr, "eval", bindings), bindings or [], wrt, dtype, seed, layout, symbolic, mode=mode,
                             max_memory=max_memory, values=values, on_plan=show_plan, batch=batch, timeout=seconds,
                             out=None if plot else out,  # a plot needs the Jacobian in memory: no streaming
                             explain=explain, strict=strict)
        with_plan(report, explain, as_json)
        if strict:
            refuse_nonfinite(report)
        if out is not None and report.streamed is None:
            report.wrote.append(f"wrote {out}: {save_arrays(out, report, layout)}")
        if plot is not None:
            if "jacobian" not in report or "batch" in report:
                raise JacUsageError("--plot draws the Jacobians of one output without a batch")
            from ..tools.plot import jacobian_plot
            jacobian_plot(report, plot)
            report.wrote.append(f"wrote {plot}: the Jacobian{'s' if len(report['jacobian']) != 1 else ''} of "
                                f"{', '.join(report['jacobian'])} as heatmaps with their sparsity patterns")
        return report

    return build


def limited(build: Callable[[], object], timeout: str | None, what: str) -> Callable[[], object]:
    """``build`` under the command's ``--timeout`` (as given; None: no limit), read by ``bounded.parse_timeout``
    (0, inf, a year or more: no limit; NaN, negative: refused) before any work: the whole command, as
    :func:`whole_command` bounds ``jac eval``'s."""
    if timeout is None:
        return build

    def bounded_build():
        from ..tools.bounded import parse_timeout

        with whole_command(parse_timeout(timeout), what):
            return build()

    return bounded_build


@contextlib.contextmanager
def whole_command(seconds: float | None, what: str):
    """A command under its --timeout (``seconds``; None: no limit): stopped at the next Python step past it
    (``bounded.time_limit``; a pass whose products cannot fit is refused before it runs), as a ``limit`` error.
    A file the command writes is moved into place only when complete, so a stopped command leaves none."""
    if seconds is None:
        yield
        return
    from ..ir.work import OutOfTime
    from ..tools.bounded import out_of_time, time_limit

    try:
        with time_limit(seconds):
            yield
    except OutOfTime as stopped:
        raise out_of_time(what, seconds, stopped.phase) from None



def run_suite(path: str, patterns: list, shard_text, jobs: int, junit, as_json: bool, max_memory=None,
              timeout=None) -> dict:
    """The body of ``jac run``: load, select, run and report a suite (the typer command and the
    fast path of :mod:`jacobi_cli.cli.entry` both call it). ``max_memory`` bounds the values the
    suite loads (all cases together) and, shared among the workers running at once, each case;
    ``timeout`` (``--timeout SECONDS``, 0: none) the time each case may take."""
    import dataclasses
    import time

    from ..tools import suite as suites
    from .render import RunProgress, junit_xml
    from ..tools.report import run_report

    if jobs < 0:
        raise JacUsageError(f"--jobs must be 0 (one per core) or more, not {jobs}")
    from ..lang.fileio import check_output

    check_output(junit, "--junit")
    shard = suites.parse_shard(shard_text) if shard_text is not None else None
    seconds = None
    if timeout is not None:
        from ..tools.bounded import parse_timeout

        seconds = parse_timeout(timeout)
    budget = None
    if max_memory is not None:
        from ..engine import memory

        budget = memory.budget(max_memory)
    check_output(junit, "--junit", [("the suite", path)])
    loaded = suites.load_suite(path, budget)
    check_output(junit, "--junit", [(f"case '{name}' of the suite", read) for name, read in loaded.files])
    cases = suites.select(loaded.cases, patterns, shard)
    workers = max(1, min(jobs or suites.default_jobs(), suites.default_jobs(), len(cases) or 1))  # at most the cores
    if budget is not None:  # cases run at once on the workers share it (a suite has no per-case setting)
        cases = [dataclasses.replace(case, budget=budget // workers) for case in cases]
    if seconds is not None:
        cases = [dataclasses.replace(case, timeout=seconds) for case in cases]
    start = time.perf_counter()
    if as_json:
        results = suites.run_cases(cases, workers)
    else:
        with RunProgress(len(cases)) as progress:
            results = suites.run_cases(cases, workers, progress)
    report = run_report(loaded, results, time.perf_counter() - start, workers, patterns, shard)
    if junit is not None:
        suites.write_text(junit, junit_xml(report))
    return report
