"""The run store: one JSON record per run, named by the hash of its config, written atomically.

Reading never modifies the store (a report can run on a read-only copy). Every record read is checked:
the schema (``results.record_schema``), then, for a complete record, that its run id is its config's hash
and its best epoch its epochs' best (``results.record_integrity``). A record that fails (truncated, not
JSON, a stub, an older schema, edited by hand, over ``MAX_RECORD_BYTES``) is ``InvalidRecord``: reported
with its path and treated as missing, so the sweep runs it again; the new record then replaces it and the
invalid one is kept beside it as ``<id>.json.corrupt-<time>`` (``fileio.atomic.move_aside``).

A record that exists but cannot be read (another user's file of mode 0600, an I/O error) is not invalid:
nothing is known of its content. It is ``UnreadableRecord``, reported with its owner and mode, and left
exactly as it is: never moved aside, replaced or recomputed.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from molpeg_bench.fileio.atomic import check_writable, move_aside, write_text_atomic
from molpeg_bench.fileio.reading import FileTooLarge, read_bounded, unreadable_reason
from molpeg_bench.results.record_integrity import check_integrity
from molpeg_bench.results.record_schema import InvalidRecord, validate_record

log = logging.getLogger(__name__)

# the largest records are tens of KB (the release's: 11 KB at 30 epochs); a file far over it is no record
MAX_RECORD_BYTES = 32 * 2**20


class UnreadableRecord(PermissionError):
    """A record file that exists but cannot be read (permission denied, or an I/O error): its content is
    unknown, so it is neither valid nor invalid, and it must be left as it is."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"run record {path} is unreadable: {reason}; left as it is and not recomputed (its "
                         "owner can make it readable, e.g. chmod a+r)")
        self.path, self.reason = path, reason


@dataclass
class StoreScan:
    """Every record file of a store, sorted into valid complete, valid failed, invalid and unreadable ones."""

    complete: list[dict] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    invalid: dict[Path, str] = field(default_factory=dict)  # path -> what is wrong
    unreadable: dict[Path, str] = field(default_factory=dict)  # path -> why it cannot be read


class RunStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, run_id: str) -> Path:
        return self.root / f"{run_id}.json"

    def read(self, run_id: str) -> dict | None:
        """The valid record of ``run_id`` (complete or failed), None when absent; ``InvalidRecord`` when its
        content is not a valid record, ``UnreadableRecord`` when it exists but cannot be read."""
        path = self.path(run_id)
        try:
            if not stat.S_ISREG(os.stat(path).st_mode):
                return None
            text = read_bounded(path, MAX_RECORD_BYTES).decode()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except FileTooLarge as exc:
            raise InvalidRecord(str(exc).removeprefix(f"{path} ")) from None
        except OSError as exc:
            raise UnreadableRecord(path, unreadable_reason(path, exc)) from None
        except UnicodeDecodeError as exc:
            raise InvalidRecord(f"not UTF-8 text ({exc})") from None
        try:
            record = validate_record(json.loads(text), run_id)
        except ValueError as exc:  # JSONDecodeError too
            raise InvalidRecord(str(exc)) from exc
        return check_integrity(record) if record["status"] == "complete" else record

    def get(self, run_id: str) -> dict | None:
        """The complete record of ``run_id``, or None when absent, failed or invalid (invalid: reported);
        ``UnreadableRecord`` when it exists but cannot be read (the caller leaves that run alone)."""
        try:
            record = self.read(run_id)
        except InvalidRecord as exc:
            log.warning("invalid run record %s (%s): the run will be recomputed", self.path(run_id), exc)
            return None
        return record if record is not None and record["status"] == "complete" else None

    def has(self, run_id: str) -> bool:
        """Whether a valid complete record of ``run_id`` is stored (``UnreadableRecord`` as ``get``)."""
        return self.get(run_id) is not None

    def check_writable(self) -> None:
        """Raise ``PermissionError`` naming the store unless a record can be written there (checked before
        any run starts)."""
        check_writable(self.root, "run store", "choose another folder with --store")

    def put(self, record: dict) -> Path:
        """Write ``record`` (must carry ``run_id``) atomically: temp file in the same folder + rename. An
        invalid record it replaces is kept as ``<id>.json.corrupt-<time>``; an unreadable one is never
        replaced (``UnreadableRecord``)."""
        run_id = record["run_id"]
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            self.read(run_id)
        except InvalidRecord:
            move_aside(self.path(run_id))
        return write_text_atomic(self.path(run_id), json.dumps(record, indent=1, sort_keys=True, allow_nan=True))

    def scan(self) -> StoreScan:
        """Read every record file once, without changing anything."""
        scan = StoreScan()
        for path in sorted(self.root.glob("*.json")):
            try:
                record = self.read(path.stem)
            except InvalidRecord as exc:
                scan.invalid[path] = str(exc)
                continue
            except UnreadableRecord as exc:
                scan.unreadable[path] = exc.reason
                continue
            if record is not None:
                (scan.complete if record["status"] == "complete" else scan.failed).append(record)
        return scan

    def records(self) -> Iterator[dict]:
        """Every valid complete record in the store (invalid and unreadable ones are reported and skipped)."""
        scan = self.scan()
        for path, reason in scan.invalid.items():
            log.warning("invalid run record %s skipped (%s)", path, reason)
        for path, reason in scan.unreadable.items():
            log.warning("unreadable run record %s skipped (%s)", path, reason)
        yield from scan.complete
