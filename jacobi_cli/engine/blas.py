"""BLAS threads, chosen per call: one thread on a busy machine, for every product BLAS would split.

NumPy's OpenBLAS splits a product over every core once it has ~10⁴ multiply-adds, each thread
taking a part fixed in advance, and the calling thread then waits for the others. On a machine
whose other cores are busy the part of a thread that shares its core with other work waits for
that core's next time slice, and the call stalls for 8, 16 or 32 ms (E2's VJP and E6's Jacobian
at n = 1000 took 45-51 × a quiet run; a 300 × 300 matrix product took 28 ms with two threads and
1.6 ms with one). So when the machine is busy a call whose largest product BLAS would split runs
with one BLAS thread; products too small to be split are left alone (setting the count costs
~4 us). Until session 44 the large products (from ``8·10⁷``: a 3000 × 3000 matrix-vector product,
which reads 72 MB, a 1000 × 1000 matrix product) kept BLAS's count whatever the load; beside one
busy process their two threads' medians drew lots (E6's Jacobian at n = 3000: 9.8-16 ms over six
runs, 32 ms at p90) where one thread took 11-14 ms (p90 12-18), and a matrix product lost nothing
(1000 × 1000: 30 against 36 ms; 2000 × 2000: 241 against 233), benchmarks/RESULTS.md.

On a quiet machine the second thread is free and every product BLAS splits gains from it, so the
one-thread choice is made only when the machine is busy: when other processes took the cores this
process may use over the last second (:func:`others_busy`, from ``/proc/stat`` less this process's
own CPU time), or, without a reading a second old (a process's first second) or ``/proc/stat``,
when other tasks are runnable now (:func:`machine_busy`: ``/proc/loadavg``'s count less this
process's running threads; the load average only where Linux does not say). The load average
counts this process's own threads too: a long run of products with two BLAS threads (or
PyTorch's or XLA's threads in the same process) raised it past the mark within a minute, and jac
then ran on one thread beside a free core (E6's VJP at n = 1000: 988 us against 538 us). Once a
call runs on one thread beside a busy process, that process has its core to itself, so the
reading stays busy while it runs: the choice does not flip from call to call.

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
from threading import current_thread, main_thread
from time import monotonic, process_time

SPLIT = 16 * 9216  # below this cost OpenBLAS runs one thread anyway (m·n < 9216 for a gemv)
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
    of every node (``graph.facts``, counted by ``Builder.graph`` or ``graph.with_wrt``), a product of
    ``(..., m, k)`` and ``(..., k, n)`` costs ``size(out)·k + READ·(size(a) + size(b)) <= S·S + 2·READ·S``
    (each size at most S, ``a`` and ``b`` perhaps one node; k at most ``size(a)`` unless that is 0, and then
    so is the output)."""
    facts = graph.facts
    if facts is not None:
        s = facts[1]  # facts.elements (a field by name is a generic lookup)
        if s * s + 2 * READ * s < SPLIT:
            return 0
    return product_work(graph.nodes)


def explained(graph) -> str | None:
    """How BLAS's threads run ``graph``'s products, in words (``--explain``'s ``BLAS threads:`` line); None
    when no product is large enough for BLAS to split (``SPLIT``: it runs one thread anyway)."""
    work = graph_work(graph)
    if work < SPLIT:
        return None
    count = blas_threads()
    own = f"BLAS's {count} thread{'s' if count != 1 else ''}"
    if count < 2:
        return f"{own} (OPENBLAS_NUM_THREADS or a threadpoolctl limit)"
    cost = f"the largest product costs {work:,} multiply-adds and element reads"
    now = "busy" if busy_in_second(int(monotonic())) else "not busy"
    return f"one while other processes keep the cores busy (now: {now}), else {own}; {cost}"


def blas_threads() -> int:
    """BLAS's thread count now (1 where it is unknown)."""
    return _counts()[0]() or 1


def _counts():
    """``(get, set)``: the functions that read and set BLAS's thread count from this thread. On the main
    thread OpenBLAS's own (:func:`_openblas_counts`), elsewhere threadpoolctl's; ``(_one, None)``
    without a BLAS threadpoolctl knows (its count then reads 1, and nothing is set)."""
    raw = _openblas_counts() if current_thread() is main_thread() else None
    if raw is not None:
        return raw
    lib = _blas()
    return (lib.get_num_threads, lib.set_num_threads) if lib is not None else (_one, None)


def _size(shape) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n


def threads_for(work: int, busy: bool | None = None):
    """A context in which a call whose largest product costs ``work`` runs: one BLAS thread
    for a product BLAS would split (``work >= SPLIT``) when the machine is ``busy`` (default:
    :func:`busy_in_second`), else BLAS as it is. On a quiet machine the second thread is free and
    the product gains from it (1.6-1.7 x at n = 1000 in benchmarks/blas_bench.py), so it keeps it."""
    if work < SPLIT:
        return _IDLE
    if busy is None:
        return load_threads()
    return OneThread() if busy else _IDLE


_IDLE = nullcontext()  # BLAS as it is: a nullcontext holds nothing a call changes, so one serves every call


def load_threads():
    """:func:`threads_for`'s context for a product BLAS would split (``work >= SPLIT``): one BLAS
    thread when the machine is busy (:func:`busy_in_second`), else BLAS as it is. A compiled kernel
    of such a product calls it at each call (engine/kernels.py)."""
    return OneThread() if busy_in_second(int(monotonic())) else _IDLE


@lru_cache(maxsize=1)  # locked by lru_cache itself: threads share it safely
def busy_in_second(second: int) -> bool:
    """Whether the machine is busy, judged at most once a second (``second = int(time.monotonic())``):
    a reading's system calls (~10 us) would be a sixth of a repeated call of E2 at n = 100, which
    asks at every call. :func:`others_busy` between this second's reading and the last second's,
    when both exist and lie a quarter second or more apart; else :func:`machine_busy`."""
    import os

    pid = os.getpid()  # a forked child's CPU time starts again: its parent's readings are not its own
    before, now = cpu_reading(second - 1, pid), cpu_reading(second, pid)
    if before is not None and now is not None and now[0] - before[0] >= 0.25:
        return others_busy(before, now)
    return machine_busy()


@lru_cache(maxsize=2)  # this second's reading and the last one's; locked by lru_cache itself
def cpu_reading(second: int, pid: int):
    """``(wall, busy, own, cores)`` taken the first time ``second`` is asked for by process ``pid``: the monotonic
    clock, the CPU seconds the cores this process may use spent on anything but idling
    (``/proc/stat``: user, nice, system, irq, softirq and steal, the last being time another
    virtual machine took), this process's CPU seconds (every thread), and those cores' number;
    None where ``/proc/stat`` cannot be read (not Linux)."""
    import os

    try:
        cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
        with open("/proc/stat", "rb") as f:
            text = f.read()
        tick = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        return None
    busy = 0
    count = 0
    for line in text.split(b"\n"):
        if not line.startswith(b"cpu") or line[3:4] in (b" ", b""):
            continue  # the first line sums every core, including those this process may not use
        name, *fields = line.split()
        try:
            core = int(name[3:])
            user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
        except ValueError:
            return None
        if cores is None or core in cores:
            busy += user + nice + system + irq + softirq + steal
            count += 1
    if not count or tick <= 0:
        return None
    return monotonic(), busy / tick, process_time(), count


def others_busy(before, now) -> bool:
    """Whether other processes kept the cores busy between two :func:`cpu_reading`: the CPU they
    took (every core's busy time less this process's) above the cores but one and a half, as
    :func:`machine_busy` judges the load average with this process's thread in it (on 2 cores:
    more than half a core taken by others)."""
    wall = now[0] - before[0]
    others = ((now[1] - before[1]) - (now[2] - before[2])) / wall
    return others > now[3] - 1.5


YOUNG = 2.0  # CPU seconds: a process younger than this has its threads' waits for a core as machine_busy's evidence
WAITED = 0.02  # ... busy when they waited more than this share of their CPU time (quiet 0.001, beside a loop 0.7)


def machine_busy() -> bool:
    """Whether the cores this process may use are taken by other work, without a reading of
    :func:`cpu_reading` a second old (a process's first second, calls less than a quarter second
    apart across a second's turn): where Linux says it, the tasks runnable now that are not this
    process's threads (:func:`others_running`) past all the cores but one and a half, as
    :func:`others_busy` judges their CPU time; elsewhere the 1-minute load average (which counts
    this process's running thread too) within half a task of their number. The load average lags a
    minute behind either way: a machine quiet after a minute of work read as busy (E6's Jacobian at
    n = 3000 on one thread beside a free core: 11 ms against 5.7), and a busy loop started after a
    quiet minute read as quiet (E3's VJP at n = 3000 stalled to 16 ms in 12 calls of that first
    second). Reads of /proc/loadavg and of this process's threads (~30 us, at most once a second);
    where neither is known, busy (one thread is slower on a quiet machine, never stalled on a
    busy one).

    The tasks runnable now are an instant's: on a quiet machine a fresh process read another task
    runnable in 4 of 10 first seconds (a kernel thread's few microseconds, ``rcu_preempt``, waiting
    while this process's main thread and its BLAS worker, which spins for a while after it starts,
    hold both cores), and ran its products on one thread (E2's gradient at n = 1000: 0.48 ms
    against 0.31). So in a process of less than :data:`YOUNG` CPU seconds (every ``jac`` command)
    such a reading is checked against its threads' lifetime waits for a core
    (:func:`own_wait_share`): beside a busy loop they waited 0.67-0.82 of their CPU time, quiet
    0.000-0.001. In an older process a lifetime share would lag behind the machine as the load
    average does, and one reading decides (for a second: a second's calls then judge by
    :func:`others_busy`)."""
    import os

    try:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        now = others_running()
        if now is not None:
            if now <= cores - 1.5:
                return False
            if process_time() < YOUNG:  # see above: an instant's other task, or a wait of this process's own
                waited = own_wait_share()
                return waited is None or waited > WAITED
            return True
        load = os.getloadavg()[0]
    except OSError:
        return True
    return load > cores - 0.5


def own_wait_share(proc: str = "/proc") -> float | None:
    """This process's threads' time waiting for a core over their CPU time, since each began
    (``/proc/self/task/*/schedstat``: CPU and run-queue nanoseconds); None where Linux does not
    say."""
    cpu = waited = 0
    try:
        for text in _own_tasks(proc, "schedstat"):
            ran, wait = text.split()[:2]
            cpu += int(ran)
            waited += int(wait)
    except (OSError, ValueError):
        return None
    return waited / cpu if cpu > 0 else None


def _own_tasks(proc: str, name: str):
    """The file ``name`` (``stat``, ``schedstat``) of each of this process's threads, read (``/proc/self/task``);
    a thread that ended meanwhile is left out. An unreadable task directory raises OSError."""
    import os

    for task in os.listdir(f"{proc}/self/task"):
        try:
            with open(f"{proc}/self/task/{task}/{name}", "rb") as f:
                text = f.read()
        except OSError:  # a thread that ended meanwhile
            continue
        yield text


def others_running(proc: str = "/proc") -> int | None:
    """The tasks runnable now (running or waiting for a core) that are not this process's
    threads: ``/proc/loadavg``'s fourth field less this process's threads in state R
    (``/proc/self/task``, this one at least); None where Linux does not say."""
    try:
        with open(f"{proc}/loadavg", "rb") as f:
            runnable = int(f.read().split()[3].split(b"/")[0])
        own = 0
        for stat in _own_tasks(proc, "stat"):
            end = stat.rfind(b")")  # the name in parentheses may hold spaces and parentheses
            own += stat[end + 2:end + 3] == b"R"
    except (OSError, ValueError, IndexError):
        return None
    return runnable - max(own, 1)


class OneThread:
    """``with OneThread():`` runs its body with one BLAS thread, then restores the count.

    On the main thread, with an OpenBLAS of its own thread pool (not OpenMP's), the count is read
    and set by OpenBLAS's two functions themselves (:func:`_openblas_counts`): ~1 us for both
    switches, where threadpoolctl's ``set_num_threads`` (its symbol lookups, its lock and the
    thread that controls the pool) took ~5.5 us, a quarter of a repeated call of E2 at n = 100
    on a busy machine. Other threads go through threadpoolctl, which lets one thread at a time
    set a process-wide count. Either way a switch only ever restores the count it read, so
    the count a call found is the count it leaves."""

    __slots__ = ("_set", "_before")

    def __enter__(self):
        get, self._set = _counts()
        self._before = get() or 1
        if self._before > 1:
            self._set(1)
        return self

    def __exit__(self, *exc):
        if self._before > 1:
            self._set(self._before)
        return False


def _one() -> int:
    return 1


@lru_cache(maxsize=1)
def _openblas_counts():
    """``(get, set)``: OpenBLAS's ``openblas_get_num_threads`` and ``openblas_set_num_threads``
    (with the prefix and suffix of NumPy's build, as threadpoolctl found them), or None where
    NumPy's BLAS is not an OpenBLAS with a thread pool of its own (OpenMP's counts are per thread:
    threadpoolctl's route) or the symbols are not found."""
    lib = _blas()
    if lib is None or getattr(lib, "internal_api", None) != "openblas" or \
            getattr(lib, "threading_layer", None) != "pthreads":
        return None
    dynlib = getattr(lib, "dynlib", None)
    for prefix in ("", "scipy_"):
        for suffix in ("", "64_", "_64"):
            get = getattr(dynlib, f"{prefix}openblas_get_num_threads{suffix}", None)
            set_ = getattr(dynlib, f"{prefix}openblas_set_num_threads{suffix}", None)
            if get is not None and set_ is not None:
                return get, set_
    return None


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
