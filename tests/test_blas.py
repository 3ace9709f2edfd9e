"""BLAS threads per call (engine/blas.py): which calls run on one thread, and the count restored."""

from contextlib import nullcontext

import numpy as np
import pytest

import jacobi_cli
from jacobi_cli.engine import blas
from jacobi_cli.ir.graph import Builder


def _work(a_shape, b_shape) -> int:
    b = Builder()
    out = b.apply("matmul", b.input("A", a_shape), b.input("x", b_shape))
    return blas.product_work(b.graph(out).nodes)


def test_products_blas_would_split_run_on_one_thread_when_busy_and_tiny_ones_as_blas_is():
    assert isinstance(blas.threads_for(_work((10, 10), (10,))), nullcontext)  # never split by BLAS
    assert isinstance(blas.threads_for(_work((10, 10), (10,)), busy=True), nullcontext)
    for shapes in [((1000, 1000), (1000,)), ((300, 300), (300, 300)),  # a gemv of ~1 ms, a small gemm
                   ((3000, 3000), (3000,)), ((1000, 1000), (1000, 1000))]:  # reads 72 MB; 10⁹ multiply-adds
        assert isinstance(blas.threads_for(_work(*shapes), busy=True), blas.OneThread), shapes  # no stall
        assert isinstance(blas.threads_for(_work(*shapes), busy=False), nullcontext), shapes  # a free core helps


def test_one_thread_inside_and_the_count_restored_after():
    lib = blas._blas()
    if lib is None:
        pytest.skip("no BLAS that threadpoolctl controls")
    before = lib.get_num_threads()
    with blas.OneThread():
        assert lib.get_num_threads() == 1
    assert lib.get_num_threads() == before


def test_a_kernel_with_a_middle_sized_product_gives_the_same_answer_on_one_thread():
    rng = np.random.default_rng(0)
    b = {"x": rng.standard_normal(400), "A": rng.standard_normal((400, 400)) / 20}
    lib = blas._blas()
    before = lib.get_num_threads() if lib is not None else None
    expected = jacobi_cli.vjp("x @ A @ x", b, wrt=["x"])["x"]
    for _ in range(3):  # the third call runs the kernel, whose product is middle-sized
        got = jacobi_cli.vjp("x @ A @ x", b, wrt=["x"])["x"]
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    if lib is not None:  # the count the call found is the count it left
        assert lib.get_num_threads() == before


def test_the_machine_is_busy_when_its_load_average_nears_the_cores_where_linux_does_not_say_more(monkeypatch):
    import os

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(blas, "others_running", lambda: None)
    monkeypatch.setattr(os, "getloadavg", lambda: (1.2, 1.0, 1.0))  # this process and a little more
    assert not blas.machine_busy()
    monkeypatch.setattr(os, "getloadavg", lambda: (1.6, 1.0, 1.0))  # another task on the second core
    assert blas.machine_busy()

    def unknown():
        raise OSError("no load average")

    monkeypatch.setattr(os, "getloadavg", unknown)
    assert blas.machine_busy()  # unknown: one thread, slower at worst, never stalled


def test_the_tasks_runnable_now_decide_and_not_the_lagging_load_average(monkeypatch):
    """The load average lags a minute: after a minute of work a quiet machine still reads 1.6 on two cores, and a
    busy loop started after a quiet minute reads 0.3. The tasks runnable now that are not this process's decide
    (others on more than half a core: one or more of them on two cores, three on four)."""
    import os

    cores = {0, 1}
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: cores, raising=False)
    monkeypatch.setattr(os, "getloadavg", lambda: (1.6, 1.0, 1.0))
    monkeypatch.setattr(blas, "process_time", lambda: 2 * blas.YOUNG)  # an old process: one reading decides
    monkeypatch.setattr(blas, "own_wait_share", lambda: 0.0)  # (never asked there)
    monkeypatch.setattr(blas, "others_running", lambda: 0)
    assert not blas.machine_busy()  # nothing else runs now
    monkeypatch.setattr(os, "getloadavg", lambda: (0.3, 0.1, 0.0))
    monkeypatch.setattr(blas, "others_running", lambda: 1)
    assert blas.machine_busy()  # a busy loop on the other core, started a moment ago
    cores = {0, 1, 2, 3}
    assert not blas.machine_busy()
    monkeypatch.setattr(blas, "others_running", lambda: 3)
    assert blas.machine_busy()


def test_a_young_process_checks_a_busy_reading_against_its_threads_waits_for_a_core(monkeypatch):
    """An instant's reading on a quiet machine may hold a kernel thread's few microseconds (4 of 10 fresh
    processes read busy): in a young process (every jac command) its threads' waits for a core decide."""
    import os

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(blas, "process_time", lambda: blas.YOUNG / 10)
    monkeypatch.setattr(blas, "others_running", lambda: 1)
    monkeypatch.setattr(blas, "own_wait_share", lambda: 0.001)  # measured quiet: 0.000-0.001
    assert not blas.machine_busy()
    monkeypatch.setattr(blas, "own_wait_share", lambda: 0.7)  # beside a busy loop: 0.67-0.82
    assert blas.machine_busy()
    monkeypatch.setattr(blas, "own_wait_share", lambda: None)  # Linux does not say: the reading decides
    assert blas.machine_busy()
    monkeypatch.setattr(blas, "own_wait_share", lambda: 0.001)
    monkeypatch.setattr(blas, "process_time", lambda: 2 * blas.YOUNG)  # an old process: a lifetime share lags
    assert blas.machine_busy()
    monkeypatch.setattr(blas, "others_running", lambda: 0)
    monkeypatch.setattr(blas, "process_time", lambda: blas.YOUNG / 10)
    monkeypatch.setattr(blas, "own_wait_share", lambda: 0.7)  # nothing else runnable now: quiet, whatever it waited
    assert not blas.machine_busy()


def test_own_wait_share_sums_the_threads_run_queue_time_over_their_cpu_time(tmp_path):
    tasks = tmp_path / "self" / "task"
    for tid, stat in [(11, "3000000 1000000 40\n"), (12, "1000000 0 7\n")]:
        (tasks / str(tid)).mkdir(parents=True)
        (tasks / str(tid) / "schedstat").write_text(stat)
    assert blas.own_wait_share(str(tmp_path)) == 0.25
    (tasks / "13").mkdir()  # a thread that ended meanwhile: no file, left out
    assert blas.own_wait_share(str(tmp_path)) == 0.25
    (tasks / "12" / "schedstat").write_text("garbled")
    assert blas.own_wait_share(str(tmp_path)) is None
    assert blas.own_wait_share(str(tmp_path / "absent")) is None
    import os

    if os.path.exists("/proc/self/task"):
        share = blas.own_wait_share()
        assert share is None or share >= 0


def test_others_running_leaves_out_this_processs_own_running_threads(tmp_path):
    (tmp_path / "loadavg").write_text("2.10 1.50 1.00 4/123 4567\n")
    tasks = tmp_path / "self" / "task"
    for tid, stat in [(11, "11 (python) R 1 11"), (12, "12 (OpenBLAS (blas)) R 1 11"), (13, "13 (python) S 1 11")]:
        (tasks / str(tid)).mkdir(parents=True)
        (tasks / str(tid) / "stat").write_text(stat)
    assert blas.others_running(str(tmp_path)) == 2  # 4 runnable, two of them this process's threads
    (tasks / "12" / "stat").write_text("12 (OpenBLAS (blas)) S 1 11")
    (tasks / "11" / "stat").write_text("11 (python) S 1 11")
    assert blas.others_running(str(tmp_path)) == 3  # this thread, asking, runs at least
    (tmp_path / "loadavg").write_text("garbled")
    assert blas.others_running(str(tmp_path)) is None
    assert blas.others_running(str(tmp_path / "absent")) is None
    import os

    if os.path.exists("/proc/loadavg") and os.path.exists("/proc/self/task"):
        assert isinstance(blas.others_running(), int)


def test_one_thread_from_another_thread_goes_through_threadpoolctl_and_restores_the_count():
    import threading

    lib = blas._blas()
    if lib is None:
        pytest.skip("no BLAS that threadpoolctl controls")
    before = lib.get_num_threads()
    seen = []

    def body():
        with blas.OneThread():
            seen.append(lib.get_num_threads())

    worker = threading.Thread(target=body)
    worker.start()
    worker.join()
    assert lib.get_num_threads() == before
    # threadpoolctl lets one thread at a time set the count: the worker's switch is made or left alone
    assert seen[0] in (1, before)


def test_openblas_own_counts_are_the_counts_threadpoolctl_reads():
    raw = blas._openblas_counts()
    lib = blas._blas()
    if raw is None:
        assert lib is None or lib.internal_api != "openblas" or lib.threading_layer != "pthreads"
        pytest.skip("not an OpenBLAS with its own thread pool")
    get, set_ = raw
    before = lib.get_num_threads()
    assert get() == before
    set_(1)
    try:
        assert lib.get_num_threads() == 1
    finally:
        set_(before)
    assert lib.get_num_threads() == before


def test_the_load_average_is_read_once_a_second(monkeypatch):
    calls = []
    monkeypatch.setattr(blas, "machine_busy", lambda: calls.append(1) or True)
    blas.busy_in_second.cache_clear()
    try:
        assert blas.busy_in_second(10**9) and blas.busy_in_second(10**9)
        assert len(calls) == 1
        assert blas.busy_in_second(10**9 + 1) and len(calls) == 2
    finally:
        blas.busy_in_second.cache_clear()


def test_others_busy_counts_other_processes_and_not_this_ones_own_threads():
    # (wall, busy CPU seconds of the allowed cores, this process's CPU seconds, cores)
    before = (100.0, 500.0, 10.0, 2)
    # this process kept both cores busy itself (two BLAS threads, or PyTorch's beside jac): quiet
    assert not blas.others_busy(before, (101.0, 502.0, 12.0, 2))
    # another process took a core for the whole second while this one used one: busy
    assert blas.others_busy(before, (101.0, 502.0, 11.0, 2))
    # a little of another core (0.4 of it): still quiet, as a load average of 1.4 was
    assert not blas.others_busy(before, (101.0, 501.4, 11.0, 2))
    # four cores, others on 2.6 of them: busy; on two: quiet
    assert blas.others_busy((0.0, 0.0, 0.0, 4), (1.0, 3.6, 1.0, 4))
    assert not blas.others_busy((0.0, 0.0, 0.0, 4), (1.0, 3.0, 1.0, 4))


def test_busy_in_second_reads_the_cpu_a_second_apart_and_else_the_load_average(monkeypatch):
    readings = {7: (7.1, 100.0, 1.0, 2), 8: (8.2, 101.1, 1.1, 2), 9: (9.3, 103.3, 3.2, 2)}
    monkeypatch.setattr(blas, "cpu_reading", lambda second, pid: readings.get(second))
    load = []
    monkeypatch.setattr(blas, "machine_busy", lambda: load.append(1) or True)
    blas.busy_in_second.cache_clear()
    try:
        assert blas.busy_in_second(8)  # others took 1.0 of the 1.1 s: busy, from the readings
        blas.busy_in_second.cache_clear()
        assert not blas.busy_in_second(9)  # this process's own 2.1 CPU seconds of 2.2: quiet
        assert not load
        blas.busy_in_second.cache_clear()
        assert blas.busy_in_second(7) and load == [1]  # no reading a second before: the load average
        readings[10] = (9.4, 103.4, 3.3, 2)  # a tenth of a second after the last: too short to judge
        blas.busy_in_second.cache_clear()
        assert blas.busy_in_second(10) and load == [1, 1]
    finally:
        blas.busy_in_second.cache_clear()


def test_cpu_reading_is_this_machines_counters():
    import os

    blas.cpu_reading.cache_clear()
    reading = blas.cpu_reading(-1, os.getpid())
    blas.cpu_reading.cache_clear()
    if not os.path.exists("/proc/stat"):
        assert reading is None
        return
    wall, busy, own, cores = reading
    assert cores == len(os.sched_getaffinity(0))
    assert busy > 0 and 0 < own <= busy + 1  # this process's CPU time is part of the machine's


def test_a_forked_child_takes_its_own_readings():
    import os

    if not hasattr(os, "fork") or not os.path.exists("/proc/stat"):
        pytest.skip("no fork or no /proc/stat")
    import time

    blas.cpu_reading.cache_clear()
    second = int(time.monotonic())
    parent = blas.cpu_reading(second, os.getpid())
    pid = os.fork()
    if pid == 0:  # the child: its own reading, not the parent's cached one
        mine = blas.cpu_reading(second, os.getpid())
        os._exit(0 if mine is not parent and mine[2] < parent[2] + 1 else 1)
    _, status = os.waitpid(pid, 0)
    blas.cpu_reading.cache_clear()
    assert os.waitstatus_to_exitcode(status) == 0


def test_another_process_on_the_cores_makes_the_machine_busy_within_seconds():
    import os
    import subprocess
    import sys
    import time

    if not os.path.exists("/proc/stat"):
        pytest.skip("no /proc/stat: the load average decides")
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
             for _ in range(len(os.sched_getaffinity(0)))]  # every core taken, whatever else runs
    try:
        seen = False
        deadline = time.monotonic() + 10
        while not seen and time.monotonic() < deadline:
            blas.busy_in_second.cache_clear()  # as a call in a new second would find it
            seen = blas.busy_in_second(int(time.monotonic()))
            time.sleep(0.2)
        assert seen
    finally:
        for p in loops:
            p.kill()
            p.wait()
        blas.busy_in_second.cache_clear()
        blas.cpu_reading.cache_clear()


def _plan(n):
    rng = np.random.default_rng(0)
    return jacobi_cli.plan("sum(tanh(A @ tanh(A @ x)))", {"A": rng.standard_normal((n, n)), "x": rng.standard_normal(n)},
                           wrt=["x"])


def test_explain_says_how_blas_threads_run_the_products(monkeypatch):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    assert _plan(10).threads is None  # too small for BLAS to split: no line
    monkeypatch.setattr(blas, "busy_in_second", lambda second: True)
    middle = _plan(1000)
    assert "  BLAS threads: " + middle.threads in middle.explain()
    assert middle.to_dict()["threads"] == middle.threads
    if blas.blas_threads() >= 2:
        assert middle.threads.startswith("one while other processes keep the cores busy (now: busy), else BLAS's")
        assert _plan(2200).threads.startswith("one while other processes keep the cores busy (now: busy), else")
        monkeypatch.setattr(blas, "busy_in_second", lambda second: False)
        assert "(now: not busy)" in _plan(1000).threads
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        assert _plan(1000).threads == "BLAS's 1 thread (OPENBLAS_NUM_THREADS or a threadpoolctl limit)"
