"""Running deeply recursive library code (Python's parser, SymPy) without overflowing."""

from __future__ import annotations

import os
import sys
import threading

from ..ir.work import holding, limit_now


THREAD_NAME = "jac-deep-stack"
DEEP_STACK = 512 * 1024 * 1024  # the stack of a deep-stack thread


def fork_safe(lock):
    """``lock``, taken before any fork of this process and released after it in the parent and the child
    (``os.register_at_fork``, as CPython's own logging does): a fork (``jac diff``'s bounded child, ``jac run``'s
    workers) while another thread held it left the child's copy held for good, and the child waited on it until
    its time limit ("took more than 30 s") for work of milliseconds. For jac's few process-wide locks, none of
    which is held while waiting for another."""
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(before=lock.acquire, after_in_parent=lock.release, after_in_child=lock.release)
    return lock


class _SharedLimit:
    """The interpreter's recursion limit, raised while any deep-stack thread runs and put back
    when the last one ends. The limit is the whole process's (``sys.setrecursionlimit``), so
    the threads raising it must agree: two overlapping calls that each saved and restored it
    left it raised for good (the first saved 1,000 and restored it under the second; the second
    then restored the 1,000,000 it had found), and a C parser on another thread's 8 MiB stack
    (json) then overflowed instead of raising RecursionError."""

    def __init__(self):
        self._lock = fork_safe(threading.Lock())
        self._holders = 0
        self._saved = 0

    def raise_to(self, limit: int) -> None:
        with self._lock:
            if self._holders == 0:
                self._saved = sys.getrecursionlimit()
            self._holders += 1
            sys.setrecursionlimit(max(sys.getrecursionlimit(), limit))

    def release(self) -> None:
        with self._lock:
            self._holders -= 1
            if self._holders == 0:
                sys.setrecursionlimit(self._saved)


# Process state by nature (the recursion limit is one per interpreter), so one coordinator per process.
_LIMIT = _SharedLimit()
# The stack size of threads started from now on is the process's too (threading.stack_size): it is set for a
# deep-stack thread's start only, under this lock. Set around start and join by each caller, two overlapping
# calls left it at 512 MiB for good (the second saved the first's setting and restored it last: every thread
# the program started afterwards reserved 512 MiB), or put it back to the default between another call's
# setting and its start (a raised recursion limit on an 8 MiB stack: a crash where RecursionError was due).
_STACK = fork_safe(threading.Lock())


def with_deep_stack(fn, recursion_limit: int = 200_000):
    """``fn()`` on a thread with a 512 MiB stack and a raised recursion limit; its result,
    or its exception re-raised in the caller's thread. Called on such a thread already (a
    formula printed while derivatives are taken), it runs ``fn`` there: a thread per call
    cost ~0.5 ms, seconds for the 10,000 entries of a 100 × 100 Jacobian."""
    if threading.current_thread().name == THREAD_NAME and sys.getrecursionlimit() >= recursion_limit:
        return fn()
    result: dict = {}
    limit = limit_now()  # the caller's time limit holds on the worker too (a new thread starts without it)

    def run():
        _LIMIT.raise_to(recursion_limit)
        try:
            if limit is None:
                result["value"] = fn()
            else:
                with holding(limit):
                    result["value"] = fn()
        except BaseException as err:  # handed to the caller's thread
            result["error"] = err
        finally:
            _LIMIT.release()

    worker = threading.Thread(target=run, name=THREAD_NAME)
    with _STACK:  # a thread's stack is the size set when it starts: set for the start, put back at once
        old = threading.stack_size(DEEP_STACK)
        try:
            worker.start()
        finally:
            threading.stack_size(old)
    worker.join()
    if "error" in result:
        raise result["error"]
    return result["value"]
