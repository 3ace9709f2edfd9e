"""Work with a time limit: symbolic differentiation (SymPy) in a process that can be stopped.

SymPy has no way to be interrupted from inside, and a Python thread cannot be killed: a
``det`` of a 6×6 symbolic matrix simplifies for minutes. So :func:`call` runs the work in
a forked child process, takes its result back through a pipe, and kills the child (and
waits for it) when the time is up, when the caller is interrupted (Ctrl-C) or fails: no
stray work survives the call. The result and any exception must pickle; a
:class:`~jacobi_cli.errors.JacError` comes back as the same error.

``call(lambda: 6 * 7, 5.0, "the answer")`` is 42; the same with an endless loop raises a
:class:`~jacobi_cli.errors.JacLimitError` after 5 s.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Callable

from ..errors import JacLimitError, JacUsageError
from ..ir.work import Alarm, OutOfTime, holding

DEFAULT_TIMEOUT = 30.0  # seconds; `jac diff --timeout 0` lifts the limit
NO_LIMIT_PAST = 365 * 24 * 3600.0  # a --timeout of a year or more is read as no limit


def parse_timeout(text) -> float | None:
    """``--timeout SECONDS``: a number of seconds, 0 for no limit (None), default 30. Every command reads it here,
    its digits as ``--max-memory`` reads them (ASCII: no ``1_0``, no full-width digits). NaN and negative numbers are
    refused; 0, ``inf`` and anything from a year on are no limit (None); any other
    positive number is a limit, however small (``1e-300`` stops the work at its first step)."""
    import re

    from ..engine.memory import DECIMAL

    if text is None:
        return DEFAULT_TIMEOUT
    # the digits --max-memory reads (engine/memory.DECIMAL), not all of float()'s forms: `1_0`, full-width `５`
    # and `0x10` are refused by both; `inf` (no limit) and `nan` (refused below) are words of --timeout's own
    shown = str(text)
    if not re.fullmatch(r"\s*(?:" + DECIMAL + r"|[+-]?(?:inf|infinity|nan))\s*", shown, re.IGNORECASE):
        raise JacUsageError(f"--timeout {text!r} is not a number of seconds (e.g. --timeout 120; 0: no limit)")
    seconds = float(shown)
    if math.isnan(seconds) or seconds < 0:
        raise JacUsageError(f"--timeout {text!r}: give a number of seconds, 0 or more (0: no limit)")
    # past a year the wait is no limit at all (and a selector's wait overflows at 1e23 s)
    return None if seconds == 0 or seconds >= NO_LIMIT_PAST else seconds


def out_of_time(what: str, seconds: float, phase: str | None) -> JacLimitError:
    """The ``limit`` error of a command (or an API call) stopped at its time limit: what, the limit, and what was
    running (``phase``, :func:`~jacobi_cli.ir.work.phase_of`)."""
    during = f" during {phase}" if phase else ""
    return JacLimitError(f"{what} took more than {seconds:g} s and was stopped (--timeout {seconds:g}){during}; "
                         "allow more time with --timeout SECONDS (0: no limit), or use smaller inputs")


def api_timeout(timeout) -> float | None:
    """The API's ``timeout=``: seconds as a real number (an int or a float, NumPy's too), read as
    :func:`parse_timeout` reads ``--timeout`` (None, 0, inf, a year or more: no limit; NaN, negative: refused);
    anything else (a string, a bool) refused."""
    import numbers

    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real):
        raise JacUsageError(f"timeout= is a number of seconds (None or 0: no limit), not {timeout!r}")
    seconds = float(timeout)
    if math.isnan(seconds) or seconds < 0:
        raise JacUsageError(f"timeout={timeout!r}: give a number of seconds, 0 or more (None or 0: no limit)")
    return None if seconds == 0 or seconds >= NO_LIMIT_PAST else seconds


@contextmanager
def time_limit(seconds: float | None, given: float | None = None):
    """Raise :class:`~jacobi_cli.ir.work.OutOfTime` in this (the main) thread after ``seconds`` of wall-clock time
    (None: no limit): at the next Python step, so a single long NumPy call finishes first, which is why a pass
    whose products could not fit is refused before it runs (``ir/work.refuse_past_deadline``, which reads the
    :class:`~jacobi_cli.ir.work.Alarm` installed here). ``given``: the --timeout as given, where ``seconds`` is
    what is left of it. Elsewhere than the main thread of a process with SIGALRM a signal cannot stop the work, and
    it is refused rather than run without its limit. The timer and the handler before are restored on leaving."""
    if seconds is None:
        yield None
        return
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        raise JacUsageError("--timeout needs the main thread of a process with SIGALRM (POSIX): run it from the "
                            "main thread, or without a time limit")
    alarm = Alarm(seconds, given)
    before = signal.signal(signal.SIGALRM, alarm)
    try:  # armed inside: a tiny limit fires at once, and the handler before is restored all the same
        # setitimer rounds a positive time below its microsecond up to one: a tiny limit still stops the work
        signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-6))
        with holding(alarm):  # the passes read it: a pass that cannot fit is refused, and checked between ops
            yield alarm
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)


def call(fn: Callable[[], object], seconds: float | None, what: str, hint: str = "", limit: float | None = None):
    """``fn()``, computed in a child process that is killed after ``seconds`` (None: no
    limit, run here). A timeout is a JacLimitError that names ``what``, the limit (``limit``,
    the --timeout given, where ``seconds`` is what is left of it) and ``hint`` (how to get an
    answer anyway)."""
    import multiprocessing

    if seconds is None or "fork" not in multiprocessing.get_all_start_methods():
        return fn()
    context = multiprocessing.get_context("fork")  # the child inherits fn: nothing to pickle on the way in
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(fn, sender), daemon=True)
    try:
        _start(child)
        sender.close()
        if not receiver.poll(seconds):
            given = seconds if limit is None else limit
            raise JacLimitError(f"{what} took more than {given:g} s and was stopped (--timeout {given:g}); "
                                f"{hint + '; ' if hint else ''}or allow more time with --timeout SECONDS "
                                f"(0: no limit)")
        ok, payload = receiver.recv()
    except EOFError:  # the child died without an answer: killed by the OS, out of memory
        raise JacLimitError(f"{what} stopped without an answer (exit code {child.exitcode}); "
                            f"it may have run out of memory") from None
    finally:
        if child.is_alive():
            child.kill()
        if child.pid is not None:
            child.join()
        receiver.close()
    if ok:
        return payload
    raise payload


def _start(child) -> None:
    """``child.start()`` with Ctrl-C and SIGTERM held back until the parent knows the child: a KeyboardInterrupt
    (or the command line's ``Terminated``) between the fork and ``child.pid`` would otherwise leave the child
    running to its timeout (holding the output pipes) while the parent exits. Each signal is noted meanwhile and
    raised again once the child is known (a signal mask would not do: the kernel hands a signal to any thread not
    masking it, OpenBLAS's included, and Python runs the handler in the main thread all the same). The forked
    child inherits the noting handlers: a Ctrl-C at the terminal, or a SIGTERM to the process group, is the
    parent's to act on, by killing it."""
    import signal

    held: list = []
    before = {}
    try:
        for signum in (signal.SIGINT, signal.SIGTERM):
            before[signum] = signal.signal(signum, lambda signum, frame: held.append(signum))
    except ValueError:  # not the main thread: no signal is raised here
        child.start()
        return
    try:
        child.start()
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)
        for signum in held:
            signal.raise_signal(signum)  # as it came, to the handler before: now the child is known


def _child(fn, sender) -> None:
    try:
        result = (True, fn())
    except BaseException as error:  # noqa: BLE001  (handed to the parent, which raises it)
        result = (False, error)
    try:
        sender.send(result)
    except Exception as error:  # noqa: BLE001  (an unpicklable result or exception)
        sender.send((False, RuntimeError(f"{type(error).__name__}: {error}")))
    finally:
        sender.close()
