"""Worker processes live no longer than the sweep that started them.

A worker of the local executor asks the kernel for SIGTERM when its parent dies (``prctl(PR_SET_PDEATHSIG)``
on Linux) and also watches its parent's pid from a thread (every platform, and the case where the kernel
signal is lost). SIGTERM in a worker stops the run it computes as an exception (``Stopped``): the claim is
released on the way out, the epoch checkpoint stays for the next sweep, and the worker exits at once instead
of waiting for work that a dead parent will never send.

In the sweep process, SIGTERM raises ``Stopped`` like Ctrl-C raises ``KeyboardInterrupt``, so the
executor can stop its workers before it exits.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import threading
import time

log = logging.getLogger(__name__)
PR_SET_PDEATHSIG = 1
WATCH_INTERVAL_S = 1.0
GRACE_S = 20.0  # after SIGTERM, a worker that has not exited by then is ended without cleanup


class Stopped(KeyboardInterrupt):
    """The process was asked to stop by ``signum`` (SIGTERM, or SIGINT from Ctrl-C)."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


_in_task = threading.Event()


def bind_to_parent(parent_pid: int) -> None:
    """In a worker: end with ``parent_pid``, whatever signal killed it."""
    signal.signal(signal.SIGTERM, _stop_worker)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            log.debug("prctl(PR_SET_PDEATHSIG) failed (errno %d): the watchdog thread alone", ctypes.get_errno())
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="parent-watchdog", daemon=True).start()
    if os.getppid() != parent_pid:  # died before the kernel was told
        os.kill(os.getpid(), signal.SIGTERM)


def run_stoppable(fn, *args):
    """In a worker: ``fn(*args)``; on SIGTERM the run unwinds (claims released) and the worker exits."""
    _in_task.set()
    try:
        return fn(*args)
    except Stopped:
        logging.shutdown()
        os._exit(128 + signal.SIGTERM)
    finally:
        _in_task.clear()


def _stop_worker(signum, frame) -> None:
    if not _in_task.is_set():  # idle, waiting for work: nothing to clean up
        os._exit(128 + signum)
    threading.Thread(target=_exit_after, args=(GRACE_S,), daemon=True).start()
    raise Stopped(signum)


def _exit_after(seconds: float) -> None:
    time.sleep(seconds)
    os._exit(128 + signal.SIGTERM)


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(WATCH_INTERVAL_S)
    os.kill(os.getpid(), signal.SIGTERM)


@contextlib.contextmanager
def sigterm_raises():
    """In the sweep's main thread: SIGTERM raises ``Stopped`` (as Ctrl-C raises KeyboardInterrupt)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Stopped(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
