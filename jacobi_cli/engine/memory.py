"""The memory budget: how many bytes a computation may use, read and written as people do.

The default is half of what the machine can give now: ``MemAvailable`` of
``/proc/meminfo``, or the cgroup's limit less its usage when that is smaller (a
container is killed at its cgroup limit, not at the machine's). Plans that would pass the
budget are chunked or refused before anything is allocated (:mod:`jacobi_cli.planner`).

>>> parse_size("1.5G"), parse_size("512MiB"), fmt_bytes(3 * 2**30)
(1610612736, 536870912, '3.0 GiB')
"""

from __future__ import annotations

import functools
import math
import re
import sys
import time

import numpy as np

from ..errors import JacLimitError, JacUsageError

SAFE_FRACTION = 0.5
FALLBACK_BYTES = 2 * 2**30  # when the machine does not say
_UNITS = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40, "p": 2**50}
# A number as --max-memory and --timeout both read it (tools/bounded.parse_timeout): ASCII decimal digits, a point,
# an exponent, a sign; never Python float()'s other forms (``1_0``, full-width or Arabic-Indic digits, ``0x10``)
DECIMAL = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?"
_SIZE = re.compile(r"\s*(" + DECIMAL + r")\s*([kmgtp]?)(?:i?b)?\s*\Z", re.IGNORECASE)
_NUMBER = re.compile(DECIMAL + r"\Z", re.IGNORECASE)
_CGROUP_FILES = (("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
                 ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"))


def available_bytes() -> int | None:
    """Bytes this process can still get: ``MemAvailable``, capped by a cgroup limit; None if unknown."""
    known = [n for n in (_meminfo_available(), _cgroup_room()) if n is not None]
    return min(known) if known else None


def default_budget() -> int:
    """A safe fraction of :func:`available_bytes` (2 GiB when the machine does not say),
    read at most once a second."""
    return budget_in_second(int(time.monotonic()))


@functools.lru_cache(maxsize=1)  # locked by lru_cache itself: threads share it safely
def budget_in_second(second: int) -> int:
    """:func:`default_budget` for ``second = int(time.monotonic())``: a repeated API call
    calls it itself, one Python frame fewer."""
    available = available_bytes()
    return steady(int(available * SAFE_FRACTION)) if available else FALLBACK_BYTES


STEADY_BITS = 7  # a budget read off the machine keeps its 7 leading bits: at most 1/64 (1.6 %) below the reading


def steady(n: int) -> int:
    """``n`` bytes read off the machine (the default budget, a share such as ``"50%"``) rounded down to its
    :data:`STEADY_BITS` leading bits, so that it holds while the free memory moves by a few pages. The API keys
    its compiled functions by the limit per array, ``min(budget, 2 GiB)``: below 2 GiB a budget that changed at
    every reading made every second (every call, for a share) a new key, parsing and compiling again and
    crowding the cache with copies (tests/test_threads41.py)."""
    shift = n.bit_length() - STEADY_BITS
    return n >> shift << shift if shift > 0 else n


def budget(max_memory=None) -> int:
    """The budget in bytes for ``--max-memory``: None for the default, a whole number of bytes,
    a size such as ``"2G"`` / ``"512MiB"`` / ``"1.5G"`` (a fraction of a unit is rounded down to whole
    bytes), or a share of the available memory (``"80%"``). A number of bytes that is not whole
    (``1.5``: it was read as 1 byte), or a budget of less than one byte, is refused."""
    if max_memory is None:
        return default_budget()
    if isinstance(max_memory, (int, float, np.integer, np.floating)) and not isinstance(max_memory, bool):
        return _whole_bytes(float(max_memory) if isinstance(max_memory, (float, np.floating)) else int(max_memory),
                            f"max_memory={max_memory!r}")  # a number: only a Python caller passes one
    text = str(max_memory).strip()
    if text.endswith("%"):
        return _percent(text)
    return parse_size(text)


FORMS = "a size such as 2G, 512M or 1.5GiB, a share of the available memory such as 50%, or a whole number of bytes"


def parse_size(text: str) -> int:
    """``"2G"`` → 2 GiB in bytes; units k, M, G, T, P are powers of 1024, with an optional ``B``/``iB``;
    without a unit (or with ``B``) a whole number of bytes."""
    match = _SIZE.match(text)
    if not match:
        raise JacUsageError(f"--max-memory {text!r} is not {FORMS}")
    unit = _UNITS[match.group(2).lower()]
    size = float(match.group(1)) * unit
    if not math.isfinite(size):  # one rule for every unit: the bytes a float holds (1e308 is a size, 1e308G is not)
        raise JacUsageError(f"--max-memory {text!r} is too large to be a size: a size is at most "
                            f"{sys.float_info.max:.4g} bytes, the largest number a float holds, with or without a unit "
                            f"(1e308 and 1e299G are sizes, 1e308G is not); a size past the machine's memory is "
                            f"already a budget larger than any machine: give {FORMS}")
    if size < 0:
        raise JacUsageError(f"--max-memory {text!r} is negative: give {FORMS}")
    if unit == 1:
        return _whole_bytes(size, f"--max-memory {text!r}")
    if size < 1:
        raise JacUsageError(f"--max-memory {text!r} is less than one byte: give {FORMS}")
    return int(size)


def fmt_bytes(n: int) -> str:
    """``1536`` → ``"1.5 KiB"``."""
    value, unit = float(n), "B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if abs(value) < 1024 or unit == "EiB":
            break
        value /= 1024
    return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"


def _percent(text: str) -> int:
    number = text[:-1].strip()
    if not _NUMBER.match(number):
        raise JacUsageError(f"--max-memory {text!r} is not a percentage such as 50%: give {FORMS}")
    share = float(number) / 100
    if not 0 < share <= 1:
        raise JacUsageError(f"--max-memory {text!r}: a share of the available memory is more than 0% and at most "
                            f"100%")
    n = steady(int((available_bytes() or FALLBACK_BYTES) * share))
    if n < 1:
        raise JacUsageError(f"--max-memory {text!r} is less than one byte of the available memory: give {FORMS}")
    return n


def _whole_bytes(size, shown: str) -> int:
    """A number of bytes without a unit: whole and at least 1 (``1.5`` was read as 1 byte, ``0.5`` as none)."""
    if isinstance(size, float) and not (math.isfinite(size) and size.is_integer()):
        raise JacUsageError(f"{shown} is not a whole number of bytes: give {FORMS}")
    if size < 1:
        raise JacUsageError(f"{shown}: the budget must be at least 1 byte: give {FORMS}")
    return int(size)


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as fp:
            for line in fp:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_room() -> int | None:
    for limit_file, usage_file in _CGROUP_FILES:
        try:
            with open(limit_file, encoding="ascii") as fp:
                limit = fp.read().strip()
            with open(usage_file, encoding="ascii") as fp:
                usage = int(fp.read().strip())
        except (OSError, ValueError):
            continue
        if limit.isdigit() and int(limit) < 2**60:
            return max(int(limit) - usage, 0)
    return None


def forward_bytes(graph) -> int:
    """The bytes the forward pass keeps: every node value the output needs (the reverse
    pass reads them all), the inputs included; constants are already allocated. Known
    from the shapes alone, so it is checked before anything is computed."""
    import math

    itemsize = np.dtype(graph.dtype).itemsize
    needed = graph.needed()
    sizes: dict = {}  # shape -> its number of elements (a long sum has a few shapes, 300,000 nodes)
    total = 0
    for node, need in zip(graph.nodes, needed):
        if need and node.op != "const":
            count = sizes.get(node.shape)
            if count is None:
                count = sizes[node.shape] = math.prod(node.shape)
            total += count
    return total * itemsize


def forward_fits(graph, budget: int) -> bool:
    """Does :func:`forward_bytes` certainly fit ``budget``, known without counting it? Every node's
    elements (``graph.facts``, counted by ``Builder.graph`` or ``graph.with_wrt``) are at least those the forward pass
    keeps; False when they do not fit or are not counted (then count: a refusal says the bytes)."""
    facts = graph.facts
    return facts is not None and facts[1] * facts[2] <= budget  # elements · itemsize (fields by index: see planner)


def require(nbytes: int, budget: int, what: str, position: int | None = None) -> None:
    """Refuse, before it is allocated, work that needs ``nbytes`` over ``budget``."""
    if nbytes > budget:
        raise JacLimitError(f"{what} needs about {fmt_bytes(nbytes)}, over the memory budget of "
                            f"{fmt_bytes(budget)}; nothing was computed. Use smaller inputs, or raise "
                            f"the budget with --max-memory", position)
