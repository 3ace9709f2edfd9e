"""Running deeply recursive library code (Python's parser, SymPy) without overflowing."""

from __future__ import annotations

import sys
import threading


THREAD_NAME = "jac-deep-stack"


def with_deep_stack(fn, recursion_limit: int = 200_000):
    """``fn()`` on a thread with a 512 MiB stack and a raised recursion limit; its result,
    or its exception re-raised in the caller's thread. Called on such a thread already (a
    formula printed while derivatives are taken), it runs ``fn`` there: a thread per call
    cost ~0.5 ms, seconds for the 10,000 entries of a 100 × 100 Jacobian."""
    if threading.current_thread().name == THREAD_NAME and sys.getrecursionlimit() >= recursion_limit:
        return fn()
    result: dict = {}

    def run():
        limit = sys.getrecursionlimit()
        try:
            sys.setrecursionlimit(max(limit, recursion_limit))
            result["value"] = fn()
        except BaseException as err:  # handed to the caller's thread
            result["error"] = err
        finally:
            sys.setrecursionlimit(limit)

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
