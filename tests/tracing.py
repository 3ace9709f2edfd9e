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
