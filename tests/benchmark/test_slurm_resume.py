"""A run interrupted after any epoch resumes from its checkpoint and ends with the uninterrupted record."""

import json

import pytest
import torch

from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.benchmark.run import run_finetune
from molpeg_bench.methods.random_static import RandomStatic
from tests.support.runs import TINY, comparable, run_killed_after


@pytest.mark.parametrize("method,ratio,stop", [("molpeg", 0.6, 2), ("infobatch", 0.6, 1), ("random", 0.6, 3),
                                               ("soft_random", 0.4, 1)])
def test_resumed_run_ends_with_the_uninterrupted_record(tmp_path, monkeypatch, method, ratio, stop):
    config = RunConfig(method=method, prune_ratio=ratio, **TINY)
    reference = run_finetune(config)
    path = tmp_path / "checkpoint.pt"
    run_killed_after(monkeypatch, config, path, stop)
    saved = torch.load(path, weights_only=False)
    assert saved["loop"].epoch == stop and len(saved["loop"].epochs) == stop
    torch.manual_seed(12345)  # a different global RNG in the new process must not matter
    resumed = run_finetune(config, epoch_checkpoint=path)
    assert resumed["environment"]["resumed_after_epochs"] == [stop]
    assert json.dumps(comparable(resumed), sort_keys=True) == json.dumps(comparable(reference), sort_keys=True)
    assert resumed["timings"]["total"] > 0


def test_static_selection_is_restored_not_recomputed(tmp_path, monkeypatch):
    config = RunConfig(method="random", prune_ratio=0.5, **TINY)
    path = tmp_path / "checkpoint.pt"
    run_killed_after(monkeypatch, config, path, 1)

    def no_second_selection(self, ctx=None):
        raise AssertionError("the selection must come from the checkpoint")

    monkeypatch.setattr(RandomStatic, "select", no_second_selection)
    record = run_finetune(config, epoch_checkpoint=path)
    assert record["selection"]["n_selected"] == 120 and len(record["epochs"]) == 4


def test_checkpoint_of_another_run_is_ignored(tmp_path, monkeypatch):
    a = RunConfig(method="molpeg", prune_ratio=0.5, **TINY)
    path = tmp_path / "checkpoint.pt"
    run_killed_after(monkeypatch, a, path, 1)
    b = a.replace(seed=1)
    record = run_finetune(b, epoch_checkpoint=path)
    assert record["environment"]["resumed_after_epochs"] == []
    assert comparable(record) == comparable(run_finetune(b))


def test_per_step_schedule_resumes_at_its_step(tmp_path, monkeypatch):
    """InfoBatch trains a different number of batches each epoch: the schedule is replayed batch by batch."""
    config = RunConfig(method="infobatch", prune_ratio=0.6, lr_schedule="warmup_cosine", **TINY)
    reference = run_finetune(config)
    run_killed_after(monkeypatch, config, tmp_path / "checkpoint.pt", 2)
    resumed = run_finetune(config, epoch_checkpoint=tmp_path / "checkpoint.pt")
    assert resumed["environment"]["resumed_after_epochs"] == [2]
    assert json.dumps(comparable(resumed), sort_keys=True) == json.dumps(comparable(reference), sort_keys=True)
