"""The run store: one JSON record per run, named by the hash of its config, written atomically.

Reading never modifies the store (a report can run on a read-only copy). A record that cannot be read
or does not follow the schema (truncated, not JSON, wrong id, a stub, an older schema; see
``results.record_schema``) is reported with its path and treated as missing, so the sweep runs it
again; the new record then replaces it and the invalid one is kept beside it as
``<id>.json.corrupt-<time>`` (``fileio.atomic.move_aside``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from fileio.atomic import check_writable, move_aside, write_text_atomic
from results.record_schema import InvalidRecord, validate_record

log = logging.getLogger(__name__)


@dataclass
class StoreScan:
    """Every record file of a store, sorted into valid complete, valid failed and invalid ones."""

    complete: list[dict] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    invalid: dict[Path, str] = field(default_factory=dict)  # path -> what is wrong


class RunStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, run_id: str) -> Path:
        return self.root / f"{run_id}.json"

    def read(self, run_id: str) -> dict | None:
        """The valid record of ``run_id`` (complete or failed), None when absent; ``InvalidRecord`` when
        the file is unreadable or does not follow the schema."""
        path = self.path(run_id)
        if not path.is_file():
            return None
        try:
            return validate_record(json.loads(path.read_text()), run_id)
        except (ValueError, OSError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise InvalidRecord(str(exc)) from exc

    def get(self, run_id: str) -> dict | None:
        """The complete record of ``run_id``, or None when absent, failed or invalid (invalid: reported)."""
        try:
            record = self.read(run_id)
        except InvalidRecord as exc:
            log.warning("invalid run record %s (%s): the run will be recomputed", self.path(run_id), exc)
            return None
        return record if record is not None and record["status"] == "complete" else None

    def has(self, run_id: str) -> bool:
        return self.get(run_id) is not None

    def check_writable(self) -> None:
        """Raise ``PermissionError`` naming the store unless a record can be written there (checked before
        any run starts)."""
        check_writable(self.root, "run store", "choose another folder with --store")

    def put(self, record: dict) -> Path:
        """Write ``record`` (must carry ``run_id``) atomically: temp file in the same folder + rename. An
        invalid record it replaces is kept as ``<id>.json.corrupt-<time>``."""
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
            if record is not None:
                (scan.complete if record["status"] == "complete" else scan.failed).append(record)
        return scan

    def records(self) -> Iterator[dict]:
        """Every valid complete record in the store (invalid ones are reported and skipped)."""
        scan = self.scan()
        for path, reason in scan.invalid.items():
            log.warning("invalid run record %s skipped (%s)", path, reason)
        yield from scan.complete
