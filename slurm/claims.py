"""Claims: a process computes a run only while it holds that run's claim, so two sweeps over the same
store (a resubmission while earlier arrays still run) never compute the same run.

A claim is an exclusive POSIX record lock (``fcntl.lockf``) on ``<store>/.claims/<run id>.lock``. We use
kernel locks rather than lease files with a heartbeat because the lock dies with its holder: a process
that is killed (SIGKILL, OOM, node failure, a cancelled SLURM job) releases it at once, with no expiry
time to tune and no heartbeat thread competing with training. On a cluster the store lives on a shared
filesystem; NFSv4, Lustre (mounted with ``flock``, the common setting) and GPFS implement these locks
across nodes, and their lock managers release the locks of a dead client. A filesystem without lock
support fails loudly (``ClaimError``) instead of silently letting two sweeps compute the same run.

The lock file holds the holder's host, pid and SLURM job id (for ``status``); the holder removes it on
release. Whether a run is claimed is read with ``F_GETLK``, which never takes the lock itself.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import struct
import time
from pathlib import Path

# struct flock on Linux: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid (+ padding)
_FLOCK = "hhqqi4x"


class ClaimError(OSError):
    """The store's filesystem cannot hold a claim."""


class Claim:
    """A held claim; ``release()`` (or leaving the ``with`` block) removes the file and the lock."""

    def __init__(self, path: Path, fd: int):
        self.path, self._fd = path, fd

    def release(self) -> None:
        if self._fd is None:
            return
        self.path.unlink(missing_ok=True)  # while still locked: a waiter re-checks the inode (see claim)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, *exc) -> None:
        self.release()


class Claims:
    """The claims of one run store."""

    def __init__(self, store_root: str | Path):
        self.root = Path(store_root) / ".claims"

    def path(self, run_id: str) -> Path:
        return self.root / f"{run_id}.lock"

    def claim(self, run_id: str) -> Claim | None:
        """Claim ``run_id`` without waiting; None when another process holds it."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.path(run_id)
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)  # less the umask, as any new file
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                os.close(fd)
                if exc.errno in (errno.EACCES, errno.EAGAIN):
                    return None
                raise ClaimError(exc.errno, f"cannot lock {path}: the run store's filesystem must support "
                                            f"fcntl locks ({exc.strerror})") from exc
            # the previous holder may have removed the file between our open and our lock
            try:
                if os.fstat(fd).st_ino == os.stat(path).st_ino:
                    break
            except FileNotFoundError:
                pass
            os.close(fd)
        owner = {"host": socket.gethostname(), "pid": os.getpid(), "slurm_job": _slurm_job(), "since": time.time()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(owner).encode(), 0)
        return Claim(path, fd)

    def holder(self, run_id: str) -> dict | None:
        """Who holds ``run_id`` ({host, pid, slurm_job, since}), or None when nobody does."""
        try:
            fd = os.open(self.path(run_id), os.O_RDONLY)
        except FileNotFoundError:
            return None
        try:
            query = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
            l_type = struct.unpack(_FLOCK, fcntl.fcntl(fd, fcntl.F_GETLK, query))[0]
            if l_type == fcntl.F_UNLCK:
                return None
            text = os.pread(fd, 4096, 0).decode(errors="replace")
        finally:
            os.close(fd)
        try:
            return json.loads(text)
        except ValueError:  # caught between create and write
            return {}


def _slurm_job() -> str | None:
    array, task = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
    return f"{array}_{task}" if array and task else os.environ.get("SLURM_JOB_ID")
