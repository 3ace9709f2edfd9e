"""Ctrl-C to ``jac run`` on a pool: Python's exit hook raced the pool's manager thread (ctrlc54).

CPython 3.11's ``concurrent.futures.process._python_exit`` checks that a manager thread's wake-up pipe
is open and then writes to it, without a lock; the thread, still ending after ``_stop`` killed the
workers, closed the pipe in between about one run in three, and stderr held "Exception ignored in:
<module 'threading'> ... OSError: [Errno 9] Bad file descriptor" after the exit code 130. The tests
here widen that window (the thread's clean-up and the hook's write each wait) so the race is lost
every time unless ``_stop`` lets the thread end first."""

import signal
import textwrap

from test_ci15 import SLOW_RUN, _gone, _kill, _slow_run, pytestmark_linux

import test_ci15

# Before the run: the manager thread's clean-up starts 2 s late (so it still runs when the old code
# exited), and the exit hook, past its check that the pipe is open, writes only once that clean-up
# (which closes the pipe) is done: the race lost every time the thread outlives _stop.
WIDE_WINDOW = textwrap.dedent("""
    import concurrent.futures.process as _process, threading as _threading, time as _time
    _cleaned = _threading.Event()
    _internals = _process._ExecutorManagerThread.join_executor_internals
    def _late_internals(self):
        _time.sleep(2.0)
        _internals(self)
        _cleaned.set()
    _process._ExecutorManagerThread.join_executor_internals = _late_internals
    def _late_wakeup(self):
        if not self._closed:
            if _process._global_shutdown:  # the exit hook's call, not shutdown()'s
                _cleaned.wait(10)
            self._writer.send_bytes(b"")
    _process._ThreadWakeup.wakeup = _late_wakeup
""")



@pytestmark_linux
def test_ctrl_c_ends_quietly_however_late_the_pools_thread_ends(tmp_path, monkeypatch):
    monkeypatch.setattr(test_ci15, "SLOW_RUN", WIDE_WINDOW + SLOW_RUN)
    proc, workers = _slow_run(tmp_path)
    try:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 130, err
        assert b"Exception ignored" not in err and b"Traceback" not in err, err.decode()
        assert _gone(workers)
    finally:
        _kill(workers)
        proc.kill()


@pytestmark_linux
def test_the_pools_thread_is_ended_before_stop_returns():
    """In-process: after ``_stop`` the manager thread is gone and its pipe closed, so nothing of the
    pool is left for the exit hook to write to."""
    from concurrent.futures import ProcessPoolExecutor

    from jacobi_cli.tools import suite

    pool = ProcessPoolExecutor(max_workers=2)
    future = pool.submit(_sleep, 30)
    while not pool._processes:  # the workers start with the first submit
        pass
    manager = pool._executor_manager_thread
    wakeup = pool._executor_manager_thread_wakeup
    suite._stop(pool)
    assert not manager.is_alive() and wakeup._closed
    assert future.cancelled() or future.done()


def _sleep(seconds):
    import time

    time.sleep(seconds)
