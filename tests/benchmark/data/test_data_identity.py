"""A run id covers the data (raw file content, featurizer, subsample and split rules, checkpoint) and the
record's ``data_identity`` section carries it, so a report refuses to mix runs on different data."""

from __future__ import annotations

import logging

import pytest

from molpeg_bench.benchmark.cli import main
from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.benchmark.data.featurize import FEATURIZER_VERSION
from molpeg_bench.results.data_check import report_records
from molpeg_bench.results.store import RunStore
from molpeg_bench.slurm.sweep import run_sweep
from tests.support.data import write_hiv

TINY = dict(dataset="hiv", num_layers=2, emb_dim=16, dropout=0.2, epochs=1, batch_size=32)


def test_run_id_follows_the_data_file_content(tmp_path):
    path = write_hiv(tmp_path / "a")
    config = RunConfig(method="whole", data_dir=str(tmp_path / "a"), **TINY)
    first = config.run_id()
    assert config.replace(data_dir=str(tmp_path / "a")).run_id() == first  # same content: same run
    write_hiv(tmp_path / "b")
    assert config.replace(data_dir=str(tmp_path / "b")).run_id() == first  # data_dir itself is not hashed
    path.write_text(path.read_text().replace("CCO,0", "CCO,1", 1))  # one label flipped
    assert config.run_id() != first
    assert config.replace(subsample=30).run_id() != config.run_id()


def test_record_carries_the_data_identity(tmp_path):
    write_hiv(tmp_path / "data")
    config = RunConfig(method="whole", data_dir=str(tmp_path / "data"), subsample=55, **TINY)
    run_sweep([config], tmp_path / "store")
    record = RunStore(tmp_path / "store").get(config.run_id())
    identity = record["data_identity"]
    assert identity["source_sha256"] == record["dataset"]["source_sha256"] and len(identity["source_sha256"]) == 64
    assert identity["featurizer"] == FEATURIZER_VERSION and identity["n_molecules"] == 60
    assert identity["n_used"] == 55 and identity["subsample"] == 55 and len(identity["subsample_sha256"]) == 16
    assert identity["split"] == "random" and len(identity["split_sha256"]) == 16
    assert identity["checkpoint_sha256"] is None


def test_a_sweep_on_a_changed_file_recomputes_and_report_refuses_to_mix(tmp_path, caplog):
    """The scenario of a sweep on a corrupted file, then on the real one: both are computed (not reused) and
    the report names the two data versions instead of averaging them."""
    path = write_hiv(tmp_path / "data")
    config = RunConfig(method="whole", data_dir=str(tmp_path / "data"), **TINY)
    assert len(run_sweep([config], tmp_path / "store").completed) == 1
    path.write_text(path.read_text().replace("CCO,0", "CCO,1", 1))
    changed = run_sweep([config], tmp_path / "store")
    assert len(changed.completed) == 1 and changed.skipped == 0
    with pytest.raises(ValueError, match="computed on different data .*source_sha256"):
        report_records(tmp_path / "store")
    with caplog.at_level(logging.ERROR):
        code = main(["report", "table1", "--store", str(tmp_path / "store"), "--out", str(tmp_path / "out")])
    assert code == 2 and "different data" in caplog.text and str(tmp_path / "store") in caplog.text
