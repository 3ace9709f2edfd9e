"""What a run allocates at most, traced by tracemalloc (NumPy's buffers included), for the memory tests."""

from __future__ import annotations

import gc
import tracemalloc


def traced_peak(run) -> int:
    """The most that ``run()`` held at once beyond what was held before it, in bytes."""
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        run()
        return tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()


def run_case(case, budget=None):
    """A ``jac run`` case run alone under ``budget`` (its own ``max_memory``; None: no budget)."""
    import dataclasses

    from jacobi_cli.tools import suite

    return suite.run_case(dataclasses.replace(case, budget=budget))


def case_peak(case, budget=None) -> tuple:
    """``(peak, result)``: the most a case's run held at once (a run before it does the imports and the
    first-use caches; the API's cache cleared before and after), and the run's result."""
    from jacobi_cli.tools import api

    got = []
    run_case(case, budget)
    api.clear_cache()
    try:
        return traced_peak(lambda: got.append(run_case(case, budget))), got[0]
    finally:
        api.clear_cache()
