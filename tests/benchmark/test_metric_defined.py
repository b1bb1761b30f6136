"""A run whose valid or test metric is undefined is recorded as failed with the reason (which split, which
tasks lack both classes), never as a complete run with ``nan``."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from molpeg_bench.benchmark.cli import main
from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.benchmark.data.identity import subsample_indices
from molpeg_bench.benchmark.data.sources import SOURCES
from molpeg_bench.benchmark.data.splits import make_split
from molpeg_bench.benchmark.experiments.presets import get_preset
from molpeg_bench.benchmark.metric_check import UndefinedMetricError, check_metric_defined
from molpeg_bench.benchmark.run import run_finetune
from molpeg_bench.results.data_check import write_failed_runs
from molpeg_bench.results.store import RunStore
from molpeg_bench.slurm.sweep import run_sweep
from tests.support.data import N_ROWS, SHARED_DATA, SMILES, needs_shared_data, write_hiv

TINY = dict(dataset="hiv", num_layers=2, emb_dim=16, dropout=0.2, epochs=1, batch_size=32)


def test_check_names_the_split_and_the_tasks():
    split = make_split("random", ["C"] * 20)
    y = np.zeros((20, 2))
    y[split.train[:3], 0] = 1
    y[split.valid[0], 1] = 1
    with pytest.raises(UndefinedMetricError, match="the test split .2 molecules. has no task with both classes.*"
                                                   "a, b") as info:
        check_metric_defined(y, split, ["a", "b"], "toy", "roc_auc")
    assert info.value.details == {"split": "test", "n_molecules": 2, "tasks_without_both_classes": ["a", "b"]}
    y[split.test[0], 1] = 1
    assert check_metric_defined(y, split, ["a", "b"], "toy", "roc_auc") == {"valid": ["a"], "test": ["a"]}


def test_one_class_labels_give_a_failed_record_and_exit_code_2(tmp_path, caplog):
    write_hiv(tmp_path / "data", [f"{SMILES[i % 12]},0" for i in range(N_ROWS)])
    with caplog.at_level(logging.ERROR):
        code = main(["run", "--preset", "ci", "--dataset", "hiv", "--data-dir", str(tmp_path / "data"), "--store",
                     str(tmp_path / "store"), "--epochs", "1"])
    assert code == 2 and "the valid split (6 molecules) has no task with both classes" in caplog.text
    assert "HIV_active" in caplog.text
    [path] = (tmp_path / "store").glob("*.json")
    record = RunStore(tmp_path / "store").read(path.stem)
    assert record["status"] == "failed" and record["failure"]["split"] == "valid"
    assert record["failure"]["tasks_without_both_classes"] == ["HIV_active"] and "test_at_best" not in record
    assert not RunStore(tmp_path / "store").has(path.stem)  # not complete: a sweep tries again


def test_a_test_split_without_positives_fails_in_a_sweep(tmp_path):
    """Labels 1 only on training molecules: valid and test hold a single class."""
    split = make_split("random", ["C"] * N_ROWS)
    rows = [f"{SMILES[i % 12]},{int(i in set(split.train[:10]))}" for i in range(N_ROWS)]
    write_hiv(tmp_path / "data", rows)
    config = RunConfig(method="whole", data_dir=str(tmp_path / "data"), **TINY)
    summary = run_sweep([config], tmp_path / "store")
    assert summary.completed == [] and "has no task with both classes" in summary.failed[config.run_id()]
    assert RunStore(tmp_path / "store").read(config.run_id())["status"] == "failed"
    # the report explains the missing cell: the run, its reason and its record, instead of "not run"
    good = RunConfig(method="whole", **TINY).replace(dataset="nci-tpsa", subsample=200)
    run_sweep([good], tmp_path / "store")
    assert main(["report", "table1", "--store", str(tmp_path / "store"), "--out", str(tmp_path / "out")]) == 0
    failed = (tmp_path / "out" / "failed_runs.md").read_text()
    assert "| hiv | whole | 0 | 0 |" in failed and "has no task with both classes" in failed
    assert str(RunStore(tmp_path / "store").path(config.run_id())) in failed
    RunStore(tmp_path / "store").path(config.run_id()).unlink()  # the failure is gone: so is its page
    assert write_failed_runs(tmp_path / "store", tmp_path / "out") == []
    assert not (tmp_path / "out" / "failed_runs.md").exists()


def test_complete_records_name_the_tasks_left_out_of_the_metric(tmp_path):
    write_hiv(tmp_path / "data")
    record = run_finetune(RunConfig(method="whole", data_dir=str(tmp_path / "data"), **TINY))
    assert record["status"] == "complete" and np.isfinite(record["test_at_best"])
    assert record["tasks_left_out_of_metric"] == {"valid": [], "test": []}


@needs_shared_data("muv.csv.gz")
def test_ci_preset_muv_runs_have_a_defined_metric():
    """On the labels of the real MUV file (every SMILES featurizes, so rows are the store's molecules)."""
    table = SOURCES["muv"].parse(SHARED_DATA / "muv.csv.gz")
    preset = get_preset("ci")
    config = RunConfig(dataset="muv", subsample=preset.subsample["muv"], **preset.run)
    kept = subsample_indices(len(table.smiles), config.subsample, config.split_seed)
    split = make_split(config.split, [table.smiles[i] for i in kept], config.split_seed)
    excluded = check_metric_defined(table.labels[kept], split, table.task_names, "muv", "average_precision")
    assert len(excluded["valid"]) < 17 and len(excluded["test"]) < 17
    old = subsample_indices(len(table.smiles), 600, config.split_seed)  # the former size: undefined
    with pytest.raises(UndefinedMetricError, match="test split"):
        check_metric_defined(table.labels[old], make_split("random", [table.smiles[i] for i in old]),
                             table.task_names, "muv", "average_precision")
