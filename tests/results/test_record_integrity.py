"""A record edited by hand is left out of every table with its file and the contradicting field named: a run
relabelled as another method or seed (its id is no longer its config's hash), a best value its own epochs
contradict. The best epoch is the training loop's: strict improvement, first best wins, NaN never improves,
regression minimises. The records real runs write pass: their id is rebuilt from what they carry."""

from __future__ import annotations

import json
import logging
import math

import pandas as pd
import pytest
import torch

from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.benchmark.models import GINConfig, GINEncoder
from molpeg_bench.benchmark.run import data_identity, load_run_data, run_finetune
from molpeg_bench.benchmark.tasks import geometry_record, task_split
from molpeg_bench.results.record_integrity import check_integrity
from molpeg_bench.results.record_schema import InvalidRecord
from molpeg_bench.results.report import build_report
from molpeg_bench.results.run_identity import record_run_id
from molpeg_bench.results.store import RunStore
from tests.support.qm9 import QM9_HEADER, QM9_ROWS, qm9_rows, write_csv, write_pyg_raw
from tests.support.records import make_record, with_run_id, write_store

TINY = dict(dataset="nci-tpsa", subsample=200, num_layers=2, emb_dim=16, dropout=0.2, epochs=2, batch_size=64)


def _cell(out, method: str, ratio: int) -> tuple[float, int]:
    frame = pd.read_csv(out / "table1_comparison.csv")
    row = frame[(frame["dataset"] == "hiv") & (frame["method"] == method) & (frame["prune_ratio"] == ratio)].iloc[0]
    return row["ours_mean"], row["n_seeds"]


@pytest.fixture
def store(tmp_path):
    """HIV: whole 80/82, random 90 % 70/74, MolPeg 90 % seed 0 only (75)."""
    return RunStore(write_store(tmp_path / "store", [
        make_record("hiv", "whole", 0, 0, 0.80), make_record("hiv", "whole", 0, 1, 0.82),
        make_record("hiv", "random", 90, 0, 0.70), make_record("hiv", "random", 90, 1, 0.74),
        make_record("hiv", "molpeg", 90, 0, 0.75)]))


def _edit(store: RunStore, seed: int, change) -> str:
    """Apply ``change`` to the random 90 % record of ``seed`` in place, as a hand edit would; its path."""
    path = next(p for p in store.root.glob("*.json")
                if (r := json.loads(p.read_text()))["config"]["method"] == "random" and r["config"]["seed"] == seed)
    record = json.loads(path.read_text())
    change(record)
    path.write_text(json.dumps(record, indent=1))
    return str(path)


def relabel_as_molpeg(record: dict) -> None:
    record["config"]["method"] = "molpeg"
    record["pruner"].update(method="molpeg", family="dynamic")


def test_a_record_relabelled_as_molpeg_does_not_fill_the_molpeg_cell(store, tmp_path, caplog):
    path = _edit(store, 1, relabel_as_molpeg)
    with caplog.at_level(logging.WARNING):
        build_report(store.root, tmp_path / "out", "table1")
    assert _cell(tmp_path / "out", "molpeg", 90) == (pytest.approx(75.0), 1)  # its own seed only
    assert _cell(tmp_path / "out", "random", 90) == (pytest.approx(70.0), 1)
    named = [r.getMessage() for r in caplog.records if path in r.getMessage()]
    assert len(named) == 1 and "run_id" in named[0] and "not the hash of the record's config" in named[0]
    assert not store.has(path.rsplit("/", 1)[1].removesuffix(".json"))  # a sweep computes the real run again


@pytest.mark.parametrize("change,named", [
    (lambda r: r.update(test_at_best=0.99), "test_at_best 0.99 (its epochs give 0.74)"),
    (lambda r: r.update(best_epoch=1), "best_epoch 1 (its epochs give 3)"),
    (lambda r: r.update(best_valid=0.9), "best_valid 0.9 (its epochs give 0.74)"),
    (lambda r: r["epochs"][0].update(valid=0.95), "best_epoch 3 (its epochs give 1)"),
    (lambda r: r["config"].update(seed=7), "run_id"),
    (lambda r: r["data_identity"].update(source_sha256="another file"), "run_id"),
])
def test_an_edited_number_is_named_and_left_out_of_the_table(store, tmp_path, caplog, change, named):
    path = _edit(store, 1, change)
    with caplog.at_level(logging.WARNING):
        build_report(store.root, tmp_path / "out", "table1")
    assert _cell(tmp_path / "out", "random", 90) == (pytest.approx(70.0), 1)  # seed 1's 74 is left out
    lines = [r.getMessage() for r in caplog.records if path in r.getMessage()]
    assert len(lines) == 1 and named in lines[0], lines


def _record(valids: list[float], tests: list[float], best: int, metric: str = "roc_auc",
            task: str | None = None) -> dict:
    record = make_record("hiv", "random", 60, 0, 0.5, n_epochs=len(valids))
    record["epochs"] = [dict(e, valid=v, test=t) for e, v, t in zip(record["epochs"], valids, tests, strict=True)]
    record["metric"] = metric
    if task:
        record["task"] = {"type": task, "metric": metric}
    record.update(best_epoch=best, best_valid=valids[best - 1], test_at_best=tests[best - 1])
    return with_run_id(record)


@pytest.mark.parametrize("valids,right,wrong,metric,task", [
    ([0.7, 0.8, 0.8], 2, 3, "roc_auc", "binary"),  # first best wins
    ([math.nan, 0.6, math.nan], 2, 1, "roc_auc", None),  # NaN never improves
    ([5.0, 3.0, 4.0], 2, 1, "mae_mev", "regression"),  # regression minimises
    ([5.0, 3.0, 4.0], 2, 1, "mae", None),  # an error metric minimises without a task section too
])
def test_best_epoch_follows_the_training_loops_rule(valids, right, wrong, metric, task):
    tests = [0.1 * (i + 1) for i in range(len(valids))]
    assert check_integrity(_record(valids, tests, right, metric, task))["best_epoch"] == right
    with pytest.raises(InvalidRecord, match=rf"best_epoch {wrong} \(its epochs give {right}\)"):
        check_integrity(_record(valids, tests, wrong, metric, task))


def test_a_record_without_any_validation_value_is_refused():
    with pytest.raises(InvalidRecord, match="no epoch has a validation value"):
        check_integrity(_record([math.nan, math.nan], [0.1, 0.2], 1))


def test_the_records_of_real_runs_pass_and_are_found_again(tmp_path):
    """A dynamic method, a whole-data run made as MolPeg (``--fidelity code``), a run from a checkpoint."""
    torch.save(GINEncoder(GINConfig(2, 16)).state_dict(), tmp_path / "enc.pt")
    store = RunStore(tmp_path / "store")
    for config in (RunConfig(method="molpeg", prune_ratio=0.5, **TINY), RunConfig(fidelity="code", **TINY),
                   RunConfig(method="random", prune_ratio=0.5, checkpoint=str(tmp_path / "enc.pt"), **TINY)):
        record = run_finetune(config)
        assert record["run_id"] == config.run_id() == record_run_id(record)
        store.put(check_integrity(record))
        assert store.has(config.run_id())


@pytest.mark.parametrize("qm9_source", [None, "csv", "pyg"])
def test_a_qm9_record_rebuilds_its_id_from_the_files_it_read(tmp_path, qm9_source):
    """The sections a QM9 run records (the CSV, or a PyG root, which its id names) give back its id."""
    rows = qm9_rows(QM9_HEADER + QM9_ROWS)
    write_csv(rows, tmp_path / "data")
    write_pyg_raw(rows, tmp_path / "data" / "QM9")
    config = RunConfig(dataset="qm9_u0", model="painn", data_dir=str(tmp_path / "data"),
                       data_options={"qm9_source": qm9_source} if qm9_source else {})
    data = load_run_data(config)
    split = task_split(config, data)
    record = {"config": config.to_dict(), "data_identity": data_identity(config, data, split),
              "geometry": geometry_record(config, data, split), "pruner": {"method": "whole", "version": 1}}
    assert record_run_id(record) == config.run_id()
