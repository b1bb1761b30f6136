"""The run store: one JSON record per run, named by the hash of its config, written atomically.

A record that cannot be read (truncated, not JSON, wrong id) is reported, moved aside as
``<id>.json.corrupt`` and treated as missing, so the sweep runs it again.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)


class RunStore:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, run_id: str) -> Path:
        return self.root / f"{run_id}.json"

    def get(self, run_id: str) -> dict | None:
        """The record of ``run_id``, or None when absent or corrupted (then moved aside)."""
        path = self.path(run_id)
        if not path.is_file():
            return None
        try:
            record = json.loads(path.read_text())
            if record.get("run_id") != run_id or record.get("status") != "complete":
                raise ValueError(f"run_id/status mismatch: {record.get('run_id')!r}, {record.get('status')!r}")
            return record
        except (ValueError, AttributeError) as exc:
            log.warning("corrupted run record %s (%s): moved aside, the run will be recomputed", path, exc)
            path.replace(path.with_suffix(".json.corrupt"))
            return None

    def has(self, run_id: str) -> bool:
        return self.get(run_id) is not None

    def put(self, record: dict) -> Path:
        """Write ``record`` (must carry ``run_id``) atomically: temp file in the same folder + rename."""
        run_id = record["run_id"]
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{run_id}.", suffix=".tmp", dir=self.root)
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(record, f, indent=1, sort_keys=True, allow_nan=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path(run_id))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return self.path(run_id)

    def records(self) -> Iterator[dict]:
        """Every readable record in the store (corrupted ones are reported and skipped)."""
        for path in sorted(self.root.glob("*.json")):
            record = self.get(path.stem)
            if record is not None:
                yield record
