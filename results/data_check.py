"""Reading a store for a report: skip invalid, unreadable and failed records with a reason each, and refuse
to put runs on different data (raw file, featurizer, subsample or split; ``record["data_identity"]``) into
one table. Never writes to the store."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from pathlib import Path

from molpeg_bench.results.escape import bounded
from molpeg_bench.results.markdown import table_row
from molpeg_bench.results.record_schema import DATA_IDENTITY
from molpeg_bench.results.store import RunStore

log = logging.getLogger(__name__)

# the data fields that must agree between records of the same dataset and data setting
COMPARED = ("source_sha256", "featurizer", "data_rules", "subsample_sha256", "split_sha256")
# the config fields that legitimately change the data (different presets subsample differently, ...)
DATA_SETTING = ("dataset", "preset", "subsample", "split", "split_seed", "pcba_tasks")


def report_records(store_root: str | Path) -> list[dict]:
    """The complete records under ``store_root``; invalid, unreadable and failed ones are logged with their
    path and reason, and the invalid and unreadable ones counted. A ValueError when records of one dataset
    and data setting were computed on different data."""
    store = RunStore(store_root)
    scan = store.scan()
    for path, reason in scan.invalid.items():
        log.warning("skipped invalid run record %s (%s); a sweep recomputes it", path, reason)
    for path, reason in scan.unreadable.items():
        log.warning("skipped unreadable run record %s (%s); a sweep leaves it alone: its owner can make it "
                    "readable", path, reason)
    if scan.invalid or scan.unreadable:
        log.warning("%s: %d complete run record(s) reported, %d left out as invalid, %d as unreadable",
                    store.root, len(scan.complete), len(scan.invalid), len(scan.unreadable))
    for record in scan.failed:
        log.warning("run %s failed: %s", store.path(record["run_id"]), bounded(record["failure"].get("reason")))
    check_same_data(scan.complete, store)
    return scan.complete


def check_same_data(records: list[dict], store: RunStore) -> None:
    """Raise a ValueError naming the dataset, the differing data and one record of each when records of one
    (dataset, preset, subsample, split, split seed, PCBA tasks) disagree on their data identity."""
    groups: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for record in records:
        setting = json.dumps({k: record["config"].get(k) for k in DATA_SETTING}, sort_keys=True)
        identity = json.dumps({k: record[DATA_IDENTITY].get(k) for k in COMPARED}, sort_keys=True)
        groups[setting][identity].append(record["run_id"])
    for setting, identities in groups.items():
        if len(identities) > 1:
            listed = "; ".join(f"{len(ids)} run(s) on {_short(identity)}, e.g. {store.path(ids[0])}"
                               for identity, ids in identities.items())
            raise ValueError(f"{store.root}: runs of {setting} were computed on different data ({listed}); "
                             "report them from separate stores")


def _short(identity: str) -> str:
    return ", ".join(f"{k} {str(v)[:12]}" for k, v in json.loads(identity).items() if v is not None)


def write_failed_runs(store_root: str | Path, out_dir: str | Path) -> list[Path]:
    """``failed_runs.md`` in ``out_dir``: every run of the store recorded as failed (e.g. an undefined metric),
    with its reason, so a missing table cell is explained rather than shown as not run. None when none (a
    page left by an earlier report is removed)."""
    store = RunStore(store_root)
    failed = store.scan().failed
    path = Path(out_dir) / "failed_runs.md"
    if not failed:
        path.unlink(missing_ok=True)
        return []
    lines = [table_row(("dataset", "method", "prune ratio", "seed", "reason", "record")), "|---|---|---|---|---|---|"]
    for record in sorted(failed, key=lambda r: (r["config"]["dataset"], r["config"]["method"],
                                                r["config"]["prune_ratio"], r["config"]["seed"])):
        c = record["config"]
        lines.append(table_row((c["dataset"], c["method"], f"{c['prune_ratio']:g}", c["seed"],
                                record["failure"].get("reason", ""), store.path(record["run_id"]))))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# Runs recorded as failed\n\n" + "\n".join(lines) + "\n")
    return [path]
