"""Synthetic run records with the structure of a real one, and stores written from them."""

from __future__ import annotations

from pathlib import Path

from molpeg_bench.results.record_schema import RECORD_SCHEMA
from molpeg_bench.results.run_identity import record_run_id
from molpeg_bench.results.store import RunStore

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


def table1_grid() -> list[dict]:
    """HIV and MUV, two seeds: whole 80/82, random 90 % 70/74, molpeg 90 % 75/75 and 20 % 83/85."""
    records = []
    for dataset in ("hiv", "muv"):
        for seed, (whole, rnd, peg) in enumerate([(0.80, 0.70, 0.75), (0.82, 0.74, 0.75)]):
            records += [make_record(dataset, "whole", 0, seed, whole),
                        make_record(dataset, "random", 90, seed, rnd),
                        make_record(dataset, "molpeg", 90, seed, peg),
                        make_record(dataset, "molpeg", 20, seed, 0.83 + 0.02 * seed)]
    return records
