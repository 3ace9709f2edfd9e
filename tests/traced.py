"""Peak memory of one call, traced with tracemalloc (bytes, never time): what the memory tests
compare with the budgets and the sizes of what was read."""

import tracemalloc


def traced_peak(fn):
    """``(fn(), the peak bytes traced while it ran)``."""
    tracemalloc.start()
    try:
        out = fn()
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
