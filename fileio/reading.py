"""Reading files of a folder several users share: a file is read only up to a size bound, and a file that
cannot be read is described by its owner and mode, so that the reader can tell "not mine to read" from
"damaged" and say whom to ask.

A permission error is not damage: the caller reports it and leaves the file alone (a file another user
wrote with mode 0600 is whole, only not readable to us). A file over the bound (a record symlinked to a
large file, say) is refused before any of it is read.
"""

from __future__ import annotations

import os
import pwd
import stat
from pathlib import Path


class FileTooLarge(ValueError):
    """A file over the size a reader accepts; nothing of it was read."""

    def __init__(self, path: Path, size: int, limit: int):
        super().__init__(f"{path} holds {size} bytes, more than the {limit} bytes a file of its kind may have: "
                         "not read")
        self.path, self.size, self.limit = path, size, limit


def read_bounded(path: str | Path, limit: int) -> bytes:
    """The bytes of ``path``; ``FileTooLarge`` when it holds more than ``limit`` bytes (also when it grows while
    read); an ``OSError`` (e.g. ``PermissionError``) as ``open`` raises it."""
    path = Path(path)
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > limit:
            raise FileTooLarge(path, size, limit)
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise FileTooLarge(path, len(data), limit)
    return data


def owner_and_mode(path: str | Path) -> str:
    """``owner alice (uid 1001), mode 0600`` of ``path``, or why not even that can be known."""
    try:
        info = os.stat(path)
    except OSError as exc:
        return f"owner and mode unknown: {exc.strerror or exc}"
    try:
        owner = f"{pwd.getpwuid(info.st_uid).pw_name} (uid {info.st_uid})"
    except KeyError:  # a uid without a name here (another machine's user, a container)
        owner = f"uid {info.st_uid}"
    return f"owner {owner}, mode {stat.S_IMODE(info.st_mode):04o}"


def unreadable_reason(path: str | Path, error: OSError) -> str:
    """Why ``path`` could not be read, in words: ``permission denied (owner alice (uid 1001), mode 0600)``."""
    what = "permission denied" if isinstance(error, PermissionError) else (error.strerror or str(error)).lower()
    return f"{what} ({owner_and_mode(path)})"
