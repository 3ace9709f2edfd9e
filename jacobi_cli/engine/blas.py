"""BLAS threads, chosen per call: one thread for the products that do not profit from two.

NumPy's OpenBLAS splits a product over every core once it has ~10⁴ multiply-adds. A
matrix-vector product is bound by memory, and on a machine whose other cores are busy the
split costs more than it saves: the first thread waits for the second one's time slice and
the call stalls for 8, 16 or 32 ms (E2's VJP and E6's Jacobian at n = 1000 took 45-51 × a
quiet run; a 300 × 300 matrix product took 28 ms with two threads and 1.6 ms with one). So
a call whose largest product would take a few milliseconds at most on one core runs with
one BLAS thread; products too small to be split are left alone (setting the count costs
~4 us), and products that take longer (a 3000 × 3000 matrix-vector product reads 72 MB, a
1000 × 1000 matrix product is 10⁹ multiply-adds) keep BLAS's own count: they gain from the
second core even when it is shared, and a stall is small beside them.

On a quiet machine the second thread is free, and a middle-sized product gains from it, so the
one-thread choice is made only when the machine is busy (:func:`machine_busy`: the load average
near the number of cores this process may use).

The cost of a product is counted in multiply-adds plus 16 per operand element read (on this
kind of machine one core does ~2·10¹⁰ multiply-adds a second from cache and reads ~10¹⁰
bytes a second from memory).

The switch goes through ``threadpoolctl`` (a dependency for this): it finds the BLAS that
NumPy loaded, whatever its vendor and symbol names, and lets one Python thread at a time
control a process-wide pool, so threads using jac at once do not fight over the count (a
thread that is not in control leaves the count as it is: slower, never wrong).
"""

from __future__ import annotations

from contextlib import nullcontext
from functools import lru_cache

SPLIT = 16 * 9216  # below this cost OpenBLAS runs one thread anyway (m·n < 9216 for a gemv)
LARGE = 8 * 10**7  # from this cost (~4 ms on one core) a product keeps every BLAS thread
READ = 16  # the cost of reading one operand element, in multiply-adds


def product_work(nodes, need=None) -> int:
    """The cost of the largest ``matmul`` among ``nodes`` (all, or those ``need`` marks):
    multiply-adds plus ``READ`` per operand element."""
    work = 0
    for node in nodes:
        if node.op == "matmul" and (need is None or need[node.id]):
            a, b = (nodes[i].shape for i in node.args[:2])
            inner = int(a[-1]) if a else 1
            work = max(work, _size(node.shape) * inner + READ * (_size(a) + _size(b)))
    return work


def graph_work(graph) -> int:
    """``product_work(graph.nodes)``, or 0 when the graph is too small for a product to reach
    ``SPLIT`` (where :func:`threads_for` answers for 0 as for the work itself): with S the elements
    of every node (``graph.facts``, counted by ``graph.with_wrt``), a product of ``(..., m, k)`` and
    ``(..., k, n)`` costs ``size(out)·k + READ·(size(a) + size(b)) <= S·S + 2·READ·S`` (each size at most
    S, ``a`` and ``b`` perhaps one node; k at most ``size(a)`` unless that is 0, and then so is the output)."""
    facts = graph.facts
    if facts is not None:
        s = facts.elements
        if s * s + 2 * READ * s < SPLIT:
            return 0
    return product_work(graph.nodes)


def _size(shape) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def threads_for(work: int, busy: bool | None = None):
    """A context in which a call whose largest product costs ``work`` runs: one BLAS thread
    for middle-sized products when the machine is ``busy`` (default: :func:`machine_busy`),
    else BLAS as it is. On a quiet machine the second thread is free and a middle-sized
    product gains from it (1.6-1.7 x at n = 1000 in benchmarks/blas_bench.py), so it keeps it."""
    if work < SPLIT or work >= LARGE:
        return nullcontext()
    if busy is None:
        busy = machine_busy()
    return OneThread() if busy else nullcontext()


def machine_busy() -> bool:
    """Whether the cores this process may use are taken by other work: the 1-minute load
    average (which counts this process's running thread too) within half a task of their
    number. A read of /proc/loadavg (~2 us); where the load average is unknown, busy (one
    thread is slower on a quiet machine, never stalled on a busy one)."""
    import os

    try:
        load = os.getloadavg()[0]
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    except OSError:
        return True
    return load > cores - 0.5


class OneThread:
    """``with OneThread():`` runs its body with one BLAS thread, then restores the count."""

    __slots__ = ("_lib", "_before")

    def __enter__(self):
        self._lib = _blas()
        self._before = self._lib.get_num_threads() if self._lib is not None else 1
        if self._before > 1:
            self._lib.set_num_threads(1)
        return self

    def __exit__(self, *exc):
        if self._before > 1:
            self._lib.set_num_threads(self._before)
        return False


@lru_cache(maxsize=1)
def _blas():
    """NumPy's BLAS as threadpoolctl controls it, found once per process (the search reads
    every loaded library: ~10 ms), or None without threadpoolctl or a known BLAS."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    for lib in ThreadpoolController().lib_controllers:
        if lib.user_api == "blas" and hasattr(lib, "set_num_threads") and hasattr(lib, "get_num_threads"):
            return lib
    return None
