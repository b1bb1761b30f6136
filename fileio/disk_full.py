"""A write that runs out of room is one error naming the file, the bytes it tried to write and the room left.

Out of room is the disk (``ENOSPC``), the user's quota (``EDQUOT``) or the process's file size limit
(``EFBIG``, ``ulimit -f``). ``torch.save`` hides the first two behind ``RuntimeError: [enforce fail at
inline_container.cc] unexpected pos``, and other writers may hide them too, so the atomic writer hands its
writer a ``Tally`` of the temporary file: it counts the bytes handed to it and keeps the ``OSError`` the file
raised, whatever the writer turns it into. Imports neither torch nor RDKit.
"""

from __future__ import annotations

import errno
import io
import resource
import shutil
from pathlib import Path
from typing import BinaryIO

OUT_OF_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


class DiskFull(OSError):
    """A file that could not be written whole for lack of room; ``path`` is the file, ``errno`` the cause's."""

    def __init__(self, message: str, path: Path, cause_errno: int):
        super().__init__(message)
        self.errno, self.path = cause_errno, path


class Tally(io.RawIOBase):
    """A writable binary handle around the temporary file: ``attempted`` bytes handed to ``write`` (the
    failing call included) and the out-of-room ``error`` the file raised, if any."""

    def __init__(self, handle: BinaryIO):
        super().__init__()
        self._handle, self.attempted, self.error = handle, 0, None

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.attempted += memoryview(data).nbytes
        try:
            return self._handle.write(data)
        except OSError as exc:
            if exc.errno in OUT_OF_ROOM:
                self.error = exc
            raise

    def flush(self) -> None:  # also called by close(): the handle itself is closed by its owner
        if not self._handle.closed:
            self._handle.flush()


def out_of_room(exc: BaseException, tally: Tally) -> OSError | None:
    """The out-of-room ``OSError`` behind ``exc`` (itself, or the one the tally kept), else None."""
    if isinstance(exc, OSError) and exc.errno in OUT_OF_ROOM:
        return exc
    return tally.error


def disk_full(path: Path, attempted: int, cause: OSError) -> DiskFull:
    """The one-line error of ``path`` left unwritten: what it needed, what was there."""
    folder = path.parent
    try:
        free = f"{shutil.disk_usage(folder).free:,} bytes are free in {folder}"
    except OSError:
        free = f"the free space of {folder} is unknown"
    needed = f"it needs {attempted:,} bytes or more"
    if cause.errno == errno.EFBIG:
        limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
        text = (f"file size limit exceeded writing {path}: {needed}, the limit (ulimit -f) is "
                + (f"{limit:,} bytes" if limit != resource.RLIM_INFINITY else "unlimited")
                + f" and {free}; raise the limit and run again")
    else:
        what = "disk quota exceeded" if cause.errno == errno.EDQUOT else "no space left on device"
        text = f"{what} writing {path}: {needed} and {free}; free some space there and run again"
    return DiskFull(text, path, cause.errno)
