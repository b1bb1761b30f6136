"""Run records -> tidy pandas frames: one row per run, and one row per (run, epoch).

Metrics are in % (x100). ``opt_<name>`` columns hold the resolved method options (defaults filled in),
``options`` the options the config states (canonical JSON, "{}" for the defaults) and ``setting`` a short
hash of the config fields that are neither the cell (dataset, method, ratio, seed, options) nor execution
details, so that only runs of the same experiment are averaged together.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

TIMINGS = ("warmup", "scoring", "training", "evaluation", "total")
# config fields outside the ``setting`` hash: the cell itself, the checkpoint (named separately), execution
_NOT_SETTING = ("dataset", "method", "prune_ratio", "seed", "method_options", "checkpoint",
                "device", "num_threads", "preset", "data_dir")
RUN_COLUMNS = ("run_id", "dataset", "method", "family", "prune_ratio", "seed", "preset", "checkpoint",
               "setting", "options", "default_options", "metric", "epochs", "test_at_best", "best_valid",
               "best_epoch", "sample_visits", *(f"time_{t}" for t in TIMINGS))
EPOCH_COLUMNS = ("run_id", "epoch", "train_loss", "n_trained", "valid", "test", "kept_fraction")
PERCENT_KEYS = ("valid", "test")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _percent(value: Any) -> float:
    return float("nan") if value is None else 100.0 * float(value)


def _scalar(value: Any) -> Any:
    """Lists and dicts as canonical JSON, so option columns stay hashable."""
    return value if value is None or isinstance(value, bool | int | float | str) else _canonical(value)


def _checkpoint_name(record: dict) -> str:
    name = (record.get("checkpoint") or {}).get("name")
    if name:
        return str(name)
    path = record["config"].get("checkpoint")
    return Path(path).stem if path else "no pretraining"


def setting_id(config: dict) -> str:
    """Short hash of the config fields shared by every cell of one experiment."""
    body = {k: v for k, v in config.items() if k not in _NOT_SETTING}
    return hashlib.sha256(_canonical(body).encode()).hexdigest()[:8]


def run_row(record: dict) -> dict:
    """The tidy row of one run record."""
    config, pruner = record["config"], record.get("pruner") or {}
    explicit = config.get("method_options") or {}
    timings = record.get("timings") or {}
    row = {
        "run_id": record["run_id"],
        "dataset": config["dataset"],
        "method": config["method"],
        "family": pruner.get("family", "whole" if config["method"] == "whole" else "unknown"),
        "prune_ratio": int(round(100 * float(config["prune_ratio"]))),
        "seed": config.get("seed"),
        "preset": config.get("preset", "custom"),
        "checkpoint": _checkpoint_name(record),
        "setting": setting_id(config),
        "options": _canonical(explicit),
        "default_options": not explicit,
        "metric": record.get("metric"),
        "epochs": config.get("epochs"),
        "test_at_best": _percent(record.get("test_at_best")),
        "best_valid": _percent(record.get("best_valid")),
        "best_epoch": record.get("best_epoch"),
        "sample_visits": record.get("sample_visits"),
    }
    row.update({f"time_{t}": timings.get(t) for t in TIMINGS})
    options = {**(pruner.get("options") or {}), **explicit}
    row.update({f"opt_{k}": _scalar(v) for k, v in sorted(options.items())})
    return row


def runs_frame(records: Iterable[dict]) -> pd.DataFrame:
    """One row per run (columns ``RUN_COLUMNS`` then the ``opt_*`` columns)."""
    rows = [run_row(r) for r in records]
    frame = pd.DataFrame(rows, columns=list(dict.fromkeys([*RUN_COLUMNS, *(k for r in rows for k in r)])))
    return frame.astype({"prune_ratio": int, "default_options": bool}) if rows else frame


def epochs_frame(records: Iterable[dict]) -> pd.DataFrame:
    """One row per (run, epoch): ``EPOCH_COLUMNS`` plus any other per-epoch entry; valid/test in %."""
    rows = []
    for record in records:
        for entry in record.get("epochs") or []:
            row = {"run_id": record["run_id"], **entry}
            row.update({k: _percent(entry.get(k)) for k in PERCENT_KEYS})
            rows.append(row)
    return pd.DataFrame(rows, columns=list(dict.fromkeys([*EPOCH_COLUMNS, *(k for r in rows for k in r)])))


def as_runs(data: Iterable[dict] | pd.DataFrame) -> pd.DataFrame:
    """A runs frame as is, or the runs frame of an iterable of records."""
    return data if isinstance(data, pd.DataFrame) else runs_frame(data)
