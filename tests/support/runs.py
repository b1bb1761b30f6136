"""Runs stopped and compared: a tiny fine-tuning config, a run "killed" right after an epoch's checkpoint,
records compared without their timings, and a store's runs as one table."""

from __future__ import annotations

from pathlib import Path

import pytest

from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.benchmark.resume import EpochCheckpoint
from molpeg_bench.benchmark.run import run_finetune
from molpeg_bench.results.frame import runs_frame
from molpeg_bench.results.store import RunStore

TINY = dict(dataset="nci-tpsa", subsample=300, num_layers=2, emb_dim=16, dropout=0.3, epochs=4, batch_size=32,
            num_threads=1)


class Killed(BaseException):
    """Stands for the process being killed right after a checkpoint was written."""


def comparable(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in {"timings", "started_at", "environment"}}


def run_killed_after(monkeypatch, config: RunConfig, path, epoch: int) -> None:
    """Run ``config`` with its checkpoint at ``path`` and 'kill' it right after epoch ``epoch`` was saved."""
    original = EpochCheckpoint.save

    def save_then_die(self, state, *args):
        original(self, state, *args)
        if state.epoch == epoch:
            raise Killed

    with monkeypatch.context() as m:
        m.setattr(EpochCheckpoint, "save", save_then_die)
        with pytest.raises(Killed):
            run_finetune(config, epoch_checkpoint=path)


def store_table(store: Path):
    frame = runs_frame(RunStore(store).records())
    return frame.drop(columns=[c for c in frame if c.startswith("time_")]).sort_values("run_id").reset_index(drop=True)
