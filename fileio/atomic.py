"""Files of the shared caches and stores: written whole or not at all, and moved aside when damaged.

``write_atomic`` writes to a temporary file of a unique name in the target's folder, fsyncs it and renames
it onto the target: a reader, or a kill at any moment, sees the old file or the new one, never a torn one,
and processes writing the same file at once never collide (the last rename wins, both files are whole).
The file gets the mode any new file gets, ``0o666`` less the umask (``mkstemp`` alone gives ``0o600``), so
a store or cache shared by a group stays readable by it. A write that runs out of room (full disk, quota,
file size limit) leaves no temporary file and raises ``DiskFull`` naming the file (``fileio.disk_full``).
``move_aside`` keeps a damaged file for diagnosis as ``<name>.corrupt-<UTC time>``, out of the way of the
file that replaces it. Imports neither torch nor RDKit (the run store and the claims use it).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from molpeg_bench.fileio.disk_full import Tally, disk_full, out_of_room


def write_atomic(path: str | Path, write: Callable[[BinaryIO], object]) -> Path:
    """Create or replace ``path`` with what ``write(handle)`` writes to a binary handle."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tally = None
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o666 & ~umask())
            tally = Tally(handle)
            write(tally)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        cause = out_of_room(exc, tally) if tally is not None else None
        if cause is not None:
            raise disk_full(path, tally.attempted, cause) from exc
        raise
    return path


def check_writable(folder: str | Path, what: str, remedy: str) -> None:
    """Raise ``PermissionError`` naming ``folder`` unless a file can be created there (checked before the
    work whose results it will hold)."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".write-check.", dir=folder)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        raise PermissionError(f"{what} {folder} is not writable ({exc.strerror or exc}); {remedy}") from None


def umask() -> int:
    """The process's umask, read from ``/proc`` where it can be (setting it to read it races other threads)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_text_atomic(path: str | Path, text: str) -> Path:
    return write_atomic(path, lambda handle: handle.write(text.encode()))


def move_aside(path: str | Path) -> Path | None:
    """Rename ``path`` to ``<name>.corrupt-<UTC time>`` beside it; None when it is already gone (another
    process moved or replaced it first)."""
    path = Path(path)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target, n = path.with_name(f"{path.name}.corrupt-{stamp}"), 1
    while target.exists():
        target, n = path.with_name(f"{path.name}.corrupt-{stamp}-{n}"), n + 1
    try:
        path.rename(target)
    except FileNotFoundError:
        return None
    return target
