"""`molpeg-bench run` resumes a killed run from its epoch checkpoint, as a sweep task does."""

import json

import pytest

from molpeg_bench.benchmark.cli import main
from molpeg_bench.benchmark.resume import EpochCheckpoint
from molpeg_bench.slurm.task import RunFolder
from tests.support.runs import Killed, comparable

ARGS = ["run", "--preset", "ci", "--dataset", "nci-tpsa", "--method", "molpeg", "--prune-ratio", "0.5", "--epochs",
        "3"]


def _record(store) -> dict:
    (path,) = store.glob("*.json")
    return json.loads(path.read_text())


def test_killed_run_resumes_with_the_uninterrupted_record(tmp_path, monkeypatch):
    assert main([*ARGS, "--store", str(tmp_path / "reference")]) == 0
    reference = _record(tmp_path / "reference")
    original = EpochCheckpoint.save

    def save_then_die(self, state, *args):
        original(self, state, *args)
        if state.epoch == 2:
            raise Killed  # the process dies right after the epoch-2 checkpoint

    store = tmp_path / "store"
    with monkeypatch.context() as m:
        m.setattr(EpochCheckpoint, "save", save_then_die)
        with pytest.raises(Killed):
            main([*ARGS, "--store", str(store)])
    folder = RunFolder(store, reference["run_id"])
    assert folder.epoch_checkpoint.is_file() and not list(store.glob("*.json"))
    assert main([*ARGS, "--store", str(store)]) == 0
    resumed = _record(store)
    assert resumed["environment"]["resumed_after_epochs"] == [2]
    assert json.dumps(comparable(resumed), sort_keys=True) == json.dumps(comparable(reference), sort_keys=True)
    assert not folder.epoch_checkpoint.exists()  # deleted once the record is stored
