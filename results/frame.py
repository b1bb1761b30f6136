"""Run records -> tidy pandas frames: one row per run, and one row per (run, epoch).

Metrics are in % (x100), energies in meV (``results.names.metric_scale``). ``opt_<name>`` columns hold the
resolved method options (defaults filled in), ``options`` the options the config states (canonical JSON, "{}"
for the defaults), ``setting`` a short hash of everything else that determines a run except its seed
(``results.settings``; the checkpoint's content included) and ``setting_fields`` those fields as JSON, so that
only runs of the same experiment are averaged together. ``checkpoint`` is the checkpoint's label (name and
sha256 prefix) and ``file`` the record's file (under the store root when one is given).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from molpeg_bench.results.degenerate import degenerate_reasons
from molpeg_bench.results.names import metric_scale
from molpeg_bench.results.settings import (
    canonical,
    checkpoint_label,
    checkpoint_name,
    checkpoint_sha256,
    setting_fields,
    setting_id,
)

TIMINGS = ("warmup", "scoring", "training", "evaluation", "total")
RUN_COLUMNS = ("run_id", "dataset", "method", "family", "prune_ratio", "seed", "preset", "checkpoint",
               "setting", "options", "default_options", "origin", "metric", "epochs", "test_at_best", "test_last_mean",
               "best_valid", "best_epoch", "sample_visits", *(f"time_{t}" for t in TIMINGS), "checkpoint_name",
               "checkpoint_sha256", "checkpoint_path", "setting_fields", "file")
EPOCH_COLUMNS = ("run_id", "epoch", "train_loss", "n_trained", "valid", "test", "kept_fraction")
SCALED_KEYS = ("valid", "test")
# the second statistic: mean test metric over the last LAST_EPOCHS epochs (all epochs of a shorter run)
LAST_EPOCHS = 10
STATISTICS = {"test_at_best": "test at the best validation epoch",
              "test_last_mean": f"mean test over the last {LAST_EPOCHS} epochs"}


def _scaled(value: Any, metric: str | None) -> float:
    return float("nan") if value is None else metric_scale(metric) * float(value)


def _scalar(value: Any) -> Any:
    """Lists and dicts as canonical JSON, so option columns stay hashable."""
    return value if value is None or isinstance(value, bool | int | float | str) else canonical(value)


def realised_kept(record: dict) -> float | None:
    """Share of the training set trained per epoch, from the visits actually made (a dynamic method's
    nominal ratio can differ: InfoBatch prunes only among its below-mean-loss samples)."""
    n_train = ((record.get("dataset") or {}).get("split_sizes") or {}).get("train")
    epochs, visits = len(record.get("epochs") or []), record.get("sample_visits")
    return visits / (epochs * n_train) if n_train and epochs and visits is not None else None


def origin_label(origin: dict | None) -> str:
    """Where a method from outside the suite came from, in words ('' for a built-in method)."""
    if not origin:
        return ""
    how = "entry point" if origin.get("found_by") == "entry_point" else "module"
    dist = origin.get("distribution")
    version = f" {origin['distribution_version']}" if dist and origin.get("distribution_version") else ""
    return f"{how} {origin.get('spec')}" + (f" ({dist}{version})" if dist else "")


def stated_options(record: dict) -> dict:
    """The method options a run states beyond its fidelity's defaults: under ``fidelity="code"`` the values
    of the code bundle (recorded as ``code_options``) are that run's defaults, so its tables take it."""
    config = record["config"]
    explicit = config.get("method_options") or {}
    if config.get("fidelity", "paper") != "code":
        return explicit
    bundle = record.get("code_options") or {}
    return {k: v for k, v in explicit.items() if not (k in bundle and bundle[k] == v)}


def last_epochs_mean(record: dict, key: str = "test", last: int = LAST_EPOCHS) -> float | None:
    """Mean of ``key`` over the record's last ``last`` epochs (None when it has no finite value there).

    Test at the best validation epoch picks one epoch by a noisy criterion (a one-epoch validation spike
    decides it); the mean over the closing epochs averages that noise out, at the price of reading the
    model where training ended rather than where validation says to stop."""
    values = [e.get(key) for e in (record.get("epochs") or [])[-last:]]
    values = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    return sum(values) / len(values) if values else None


def run_row(record: dict, root: str | Path | None = None) -> dict:
    """The tidy row of one run record (``root``: the store folder holding its file)."""
    config, pruner = record["config"], record.get("pruner") or {}
    explicit = stated_options(record)
    timings = record.get("timings") or {}
    setting = setting_fields(record)
    file = f"{record['run_id']}.json"
    row = {
        "run_id": record["run_id"],
        "dataset": config["dataset"],
        "method": config["method"],
        "family": pruner.get("family", "whole" if config["method"] == "whole" else "unknown"),
        "prune_ratio": int(round(100 * float(config["prune_ratio"]))),
        "seed": config.get("seed"),
        "preset": config.get("preset", "custom"),
        "checkpoint": checkpoint_label(record),
        "setting": setting_id(setting),
        "options": canonical(explicit),
        "default_options": not explicit,
        "origin": origin_label(pruner.get("origin")),
        "metric": record.get("metric"),
        "epochs": config.get("epochs"),
        "test_at_best": _scaled(record.get("test_at_best"), record.get("metric")),
        "test_last_mean": _scaled(last_epochs_mean(record), record.get("metric")),
        "best_valid": _scaled(record.get("best_valid"), record.get("metric")),
        "best_epoch": record.get("best_epoch"),
        "sample_visits": record.get("sample_visits"),
        "realised_kept": realised_kept(record),
        "degenerate": " | ".join(degenerate_reasons(record)),
    }
    row.update({f"time_{t}": timings.get(t) for t in TIMINGS})
    row.update({"checkpoint_name": checkpoint_name(record), "checkpoint_sha256": checkpoint_sha256(record),
                "checkpoint_path": config.get("checkpoint"), "setting_fields": canonical(setting),
                "file": file if root is None else str(Path(root) / file)})
    options = {**(pruner.get("options") or {}), **explicit}
    row.update({f"opt_{k}": _scalar(v) for k, v in sorted(options.items())})
    return row


def runs_frame(records: Iterable[dict], root: str | Path | None = None) -> pd.DataFrame:
    """One row per run (columns ``RUN_COLUMNS`` then the ``opt_*`` columns); ``root``: the store folder."""
    rows = [run_row(r, root) for r in records]
    frame = pd.DataFrame(rows, columns=list(dict.fromkeys([*RUN_COLUMNS, *(k for r in rows for k in r)])))
    return frame.astype({"prune_ratio": int, "default_options": bool}) if rows else frame


def epochs_frame(records: Iterable[dict]) -> pd.DataFrame:
    """One row per (run, epoch): ``EPOCH_COLUMNS`` plus any other per-epoch entry; valid/test in the tables'
    unit (% or meV)."""
    rows = []
    for record in records:
        for entry in record.get("epochs") or []:
            row = {"run_id": record["run_id"], **entry}
            row.update({k: _scaled(entry.get(k), record.get("metric")) for k in SCALED_KEYS})
            rows.append(row)
    return pd.DataFrame(rows, columns=list(dict.fromkeys([*EPOCH_COLUMNS, *(k for r in rows for k in r)])))


def as_runs(data: Iterable[dict] | pd.DataFrame) -> pd.DataFrame:
    """A runs frame as is, or the runs frame of an iterable of records."""
    return data if isinstance(data, pd.DataFrame) else runs_frame(data)
