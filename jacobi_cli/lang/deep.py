"""Running deeply recursive library code (Python's parser, SymPy) without overflowing."""

from __future__ import annotations

import sys
import threading

from ..ir.work import holding, limit_now


THREAD_NAME = "jac-deep-stack"


class _SharedLimit:
    """The interpreter's recursion limit, raised while any deep-stack thread runs and put back
    when the last one ends. The limit is the whole process's (``sys.setrecursionlimit``), so
    the threads raising it must agree: two overlapping calls that each saved and restored it
    left it raised for good (the first saved 1,000 and restored it under the second; the second
    then restored the 1,000,000 it had found), and a C parser on another thread's 8 MiB stack
    (json) then overflowed instead of raising RecursionError."""

    def __init__(self):
        self._lock = threading.Lock()
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

    old = threading.stack_size()
    threading.stack_size(512 * 1024 * 1024)
    try:
        worker = threading.Thread(target=run, name=THREAD_NAME)
        worker.start()
        worker.join()
    finally:
        threading.stack_size(old)
    if "error" in result:
        raise result["error"]
    return result["value"]
