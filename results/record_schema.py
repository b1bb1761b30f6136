"""The run record's schema: its version and the fields a record of each status must carry.

A record is checked when read, so a stub (``{"run_id": ..., "status": "complete"}``), a record of an
older schema or one whose fields have the wrong type (``"test_at_best": "0.8"``) is reported with its path
and recomputed instead of counting as done.
"""

from __future__ import annotations

RECORD_SCHEMA = 2  # 2: run ids cover the data; records carry ``data_identity``; failed runs are recorded

# the record section naming the data a run saw (see benchmark.data.identity)
DATA_IDENTITY = "data_identity"
# data options that say where the data is read from: the run id hashes the content read (the data identity)
# instead, so a CSV run names the same run with or without ``qm9_source="csv"``, and a PyG root at any path;
# a record's setting leaves them out for the same reason
LOCATION_DATA_OPTIONS = ("qm9_source",)
REQUIRED = {
    "complete": ("schema", "run_id", "status", "config", DATA_IDENTITY, "metric", "pruner", "epochs",
                 "best_epoch", "best_valid", "test_at_best"),
    "failed": ("schema", "run_id", "status", "config", DATA_IDENTITY, "failure"),
}
REQUIRED_CONFIG = ("dataset", "method", "prune_ratio", "seed")
NUMBER = (int, float)
TYPES = {"schema": int, "run_id": str, "status": str, "config": dict, DATA_IDENTITY: dict, "metric": str,
         "pruner": dict, "epochs": list, "best_epoch": int, "best_valid": NUMBER, "test_at_best": NUMBER,
         "failure": dict, "config.dataset": str, "config.method": str, "config.prune_ratio": NUMBER,
         "config.seed": int}


class InvalidRecord(ValueError):
    """A record that does not follow the schema."""


def validate_record(record: object, run_id: str) -> dict:
    """``record`` when it is a valid record of ``run_id``; else ``InvalidRecord`` saying what is wrong."""
    if not isinstance(record, dict):
        raise InvalidRecord(f"not a JSON object but {type(record).__name__}")
    if record.get("schema") != RECORD_SCHEMA:
        raise InvalidRecord(f"schema {record.get('schema')!r}, expected {RECORD_SCHEMA}")
    if record.get("run_id") != run_id:
        raise InvalidRecord(f"run_id {record.get('run_id')!r} does not match the file name {run_id!r}")
    status = record.get("status")
    if status not in REQUIRED:
        raise InvalidRecord(f"status {status!r}, expected one of {sorted(REQUIRED)}")
    missing = [k for k in REQUIRED[status] if k not in record]
    config = record.get("config")
    if isinstance(config, dict):
        missing += [f"config.{k}" for k in REQUIRED_CONFIG if k not in config]
    elif "config" not in missing:
        missing.append("config (not an object)")
    if missing:
        raise InvalidRecord(f"{status} record lacks {', '.join(missing)}")
    fields = {**{k: record[k] for k in REQUIRED[status]}, **{f"config.{k}": config[k] for k in REQUIRED_CONFIG}}
    wrong = [f"{name} {value!r} (expected {_type_name(TYPES[name])})" for name, value in fields.items()
             if isinstance(value, bool) or not isinstance(value, TYPES[name])]
    if wrong:
        raise InvalidRecord(f"wrong type of {', '.join(wrong)}")
    return record


def _type_name(kind: type | tuple[type, ...]) -> str:
    return "a number" if kind == NUMBER else {int: "an integer", str: "a string", dict: "an object",
                                              list: "a list"}[kind]
