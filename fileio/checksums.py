"""Cached artefacts verified on load against the sha256 written with them.

``save_verified`` writes an artefact atomically, then, AFTER it and also atomically, its sidecar
``<name>.sha256`` in ``sha256sum`` format (``sha256sum -c`` checks it by hand): a sidecar only ever
describes a whole file. ``load_verified`` / ``verify_file`` compare the file's sha256 with its sidecar
before it is used; a missing file, an unreadable sidecar or a mismatch raise ``DamagedFile``, which the
cache that owns the file answers with ``set_aside`` and a rebuild.

Artefacts written before the hashes existed (no sidecar) are hashed on first read: the file is loaded
(a truncated or torn one fails to load and is ``DamagedFile`` too) and the sidecar written then (skipped
when the cache is read-only). Damage done to such a file before that first read cannot be told from its
content; rebuilding every older cache instead would cost hours for the conformer stores.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, TypeVar

from molpeg_bench.fileio.atomic import move_aside, write_atomic, write_text_atomic

log = logging.getLogger(__name__)
T = TypeVar("T")


class DamagedFile(ValueError):
    """A cached file that is missing, unreadable or not the content its sidecar records."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"damaged cache file {path}: {reason}")
        self.path, self.reason = Path(path), reason


@lru_cache(maxsize=1024)
def _sha256(path: str, mtime_ns: int, size: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def file_sha256(path: str | Path) -> str:
    """sha256 of a file's content, memoised on (path, mtime, size)."""
    stat = Path(path).stat()
    return _sha256(str(Path(path).resolve()), stat.st_mtime_ns, stat.st_size)


def sidecar(path: Path) -> Path:
    return path.with_name(f"{path.name}.sha256")


def save_verified(path: str | Path, write: Callable[[BinaryIO], object]) -> None:
    """Write ``path`` atomically with ``write(handle)``, then its sidecar."""
    path = write_atomic(path, write)
    _write_sidecar(path)


def verify_file(path: str | Path, load: Callable[[Path], object]) -> None:
    """Raise ``DamagedFile`` unless ``path`` matches its sidecar (no sidecar: unless ``load(path)`` works;
    its sidecar is written then)."""
    load_verified(path, load, hashed_only=True)


def load_verified(path: str | Path, load: Callable[[Path], T], hashed_only: bool = False) -> T | None:
    """``load(path)`` after checking the file against its sidecar (see the module docstring)."""
    path = Path(path)
    recorded = _recorded(path)
    if recorded is None:
        value = _load(path, load)
        try:
            _write_sidecar(path)
        except OSError as exc:  # a read-only cache: verified again on the next read
            log.debug("cannot record the sha256 of %s (%s)", path, exc)
        return value
    if file_sha256(path) != recorded:
        raise DamagedFile(path, f"content does not match the sha256 in {sidecar(path).name}")
    return None if hashed_only else _load(path, load)


def set_aside(damage: DamagedFile, folder: Path, then: str) -> Path | None:
    """Move the damaged file aside (its sidecar is dropped) and log it in one line ending with ``then``;
    a ``ValueError`` naming ``folder`` to delete when that is impossible."""
    try:
        aside = move_aside(damage.path)
        sidecar(damage.path).unlink(missing_ok=True)
    except OSError as exc:
        raise ValueError(f"{damage}; it cannot be moved aside and rebuilt ({exc.strerror or exc}): delete "
                         f"{folder} and run again") from None
    log.warning("%s; %s%s", damage, f"moved aside as {aside.name}, " if aside else "", then)
    return aside


def _recorded(path: Path) -> str | None:
    if not path.is_file():
        raise DamagedFile(path, "missing")
    try:
        text = sidecar(path).read_text()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise DamagedFile(path, f"unreadable {sidecar(path).name} ({exc})") from None
    digest = (text.split() or [""])[0].lower()
    if len(digest) != 64 or set(digest) - set("0123456789abcdef"):
        raise DamagedFile(path, f"{sidecar(path).name} holds no sha256")
    return digest


def _load(path: Path, load: Callable[[Path], T]) -> T:
    try:
        return load(path)
    except Exception as exc:  # truncated, torn or foreign: all unusable
        first_line = (str(exc).splitlines() or [""])[0]
        raise DamagedFile(path, f"unreadable ({type(exc).__name__}: {first_line})") from None


def _write_sidecar(path: Path) -> None:
    write_text_atomic(sidecar(path), f"{file_sha256(path)}  {path.name}\n")
