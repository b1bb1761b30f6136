"""Synthetic run records (the structure of a real record), the tidy frames built from them, and a file too
large to be a record."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import pytest

from molpeg_bench.results.data_check import report_records
from molpeg_bench.results.frame import RUN_COLUMNS, epochs_frame, runs_frame
from molpeg_bench.results.record_schema import RECORD_SCHEMA
from molpeg_bench.results.run_identity import record_run_id
from molpeg_bench.results.store import MAX_RECORD_BYTES, RunStore

FAMILIES = {"whole": "whole", "random": "static", "cd": "static", "herding": "static",
            "soft_random": "dynamic", "infobatch": "dynamic", "molpeg": "dynamic"}
METRICS = {"hiv": "roc_auc", "muv": "average_precision", "pcba": "average_precision"}
MOLPEG_DEFAULTS = {"beta": 0.5, "ema_convention": "paper", "criterion": "absolute", "shared": ["head"]}


def make_record(dataset: str = "hiv", method: str = "whole", ratio: int = 0, seed: int = 0, test: float = 0.8,
                options: dict | None = None, preset: str = "smoke", checkpoint: str | None = None,
                family: str | None = None, n_epochs: int = 3) -> dict:
    """A complete run record; ``ratio`` in %, ``test`` the test metric at the best epoch (fraction)."""
    options = dict(options or {})
    config = {"dataset": dataset, "method": method, "prune_ratio": ratio / 100, "seed": seed,
              "method_options": options, "split": "random", "split_seed": 42, "subsample": 1000,
              "pcba_tasks": 128, "num_layers": 2, "emb_dim": 32, "dropout": 0.2,
              "checkpoint": None if checkpoint is None else f"/ckpt/{checkpoint}.pt", "epochs": n_epochs,
              "batch_size": 128, "lr": 0.001, "weight_decay": 0.0, "eval_batch_size": 1024,
              "loss_convention": "official", "budget_rounding": "floor", "device": "cpu", "num_threads": None,
              "preset": preset, "data_dir": None}
    resolved = {**MOLPEG_DEFAULTS, **options} if method == "molpeg" else options
    epochs = [{"epoch": e, "train_loss": 1.0 / e, "n_trained": 100, "valid": test - 0.01 * (n_epochs - e),
               "test": test - 0.02 * (n_epochs - e), "kept_fraction": 1 - ratio / 100}
              for e in range(1, n_epochs + 1)]
    record = {
        "schema": RECORD_SCHEMA, "status": "complete", "config": config,
        "data_identity": {"dataset": dataset, "source_sha256": f"sha-of-{dataset}", "featurizer": "hu2020-v1",
                          "data_rules": "v1", "subsample_sha256": f"subsample-of-{dataset}",
                          "split_sha256": f"split-of-{dataset}", "checkpoint_sha256": None},
        "pruner": {"method": method, "family": family or FAMILIES[method], "k": 100,
                   "keep_ratio": 1 - ratio / 100, "options": resolved},
        "checkpoint": {"name": checkpoint or "no pretraining"}, "metric": METRICS[dataset],
        "epochs": epochs, "best_epoch": n_epochs, "best_valid": epochs[-1]["valid"], "test_at_best": test,
        "sample_visits": 100 * n_epochs,
        "timings": {"warmup": 0.0, "scoring": 0.1, "training": 1.0, "evaluation": 0.2, "total": 1.5},
    }
    return with_run_id(record)


def with_run_id(record: dict) -> dict:
    """``record`` named by the hash of its config and data, as a run names it (after a test changed them)."""
    record["run_id"] = record_run_id(record)
    return record


def write_store(root: Path, records: list[dict]) -> Path:
    store = RunStore(root)
    for record in records:
        store.put(record)
    return root


def test_runs_frame_one_row_per_run_in_percent_with_flattened_options():
    records = [make_record(method="whole", test=0.812),
               make_record(method="molpeg", ratio=60, seed=1, test=0.75, options={"beta": 0.9})]
    runs = runs_frame(records)
    assert list(runs.columns[: len(RUN_COLUMNS)]) == list(RUN_COLUMNS)
    whole, molpeg = runs.iloc[0], runs.iloc[1]
    assert whole["test_at_best"] == pytest.approx(81.2) and whole["default_options"]
    assert whole["checkpoint"] == "no pretraining" and whole["time_total"] == 1.5
    assert molpeg["prune_ratio"] == 60 and molpeg["family"] == "dynamic" and molpeg["seed"] == 1
    assert molpeg["opt_beta"] == 0.9 and molpeg["opt_criterion"] == "absolute"
    assert molpeg["opt_shared"] == '["head"]' and not molpeg["default_options"]
    assert molpeg["options"] == '{"beta": 0.9}'
    assert math.isnan(whole["opt_beta"])
    assert whole["setting"] == molpeg["setting"]  # same experiment, different cells
    other = runs_frame([make_record(method="whole", n_epochs=5)]).iloc[0]
    assert other["setting"] != whole["setting"]


def test_epochs_frame_long_format_in_percent():
    epochs = epochs_frame([make_record(method="random", ratio=40, test=0.8, n_epochs=3)])
    assert list(epochs["epoch"]) == [1, 2, 3]
    assert epochs["test"].tolist() == pytest.approx([76.0, 78.0, 80.0])
    assert epochs["kept_fraction"].tolist() == pytest.approx([0.6] * 3)
    assert epochs_frame([]).empty and runs_frame([]).empty


def test_a_record_file_over_the_size_bound_is_refused_without_reading_it(tmp_path, caplog):
    """A record symlinked to a huge file (sparse here) is named as too large, not read whole."""
    store = RunStore(write_store(tmp_path / "store", [make_record()]))
    huge = tmp_path / "huge.bin"
    with open(huge, "wb") as handle:
        handle.truncate(MAX_RECORD_BYTES + 1)
    link = store.path("f" * 20)
    link.symlink_to(huge)
    with caplog.at_level(logging.WARNING):
        assert len(report_records(store.root)) == 1
    expected = f"holds {MAX_RECORD_BYTES + 1} bytes, more than the {MAX_RECORD_BYTES} bytes a file of its kind may have"
    assert [r.getMessage() for r in caplog.records if str(link) in r.getMessage() and expected in r.getMessage()]
    assert huge.stat().st_size == MAX_RECORD_BYTES + 1 and link.is_symlink()  # reading changed nothing
