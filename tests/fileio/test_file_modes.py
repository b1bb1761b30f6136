"""Files of the shared stores and caches follow the umask like any other new file (not mkstemp's 0600),
so a run store or cache shared by a group stays readable by it."""

from __future__ import annotations

import os
import stat

import pytest
import torch

from molpeg_bench.benchmark.data.dataset import cached_store
from molpeg_bench.benchmark.resume import EpochCheckpoint, LoopState
from molpeg_bench.methods.base import Requirements
from molpeg_bench.results.store import RunStore
from molpeg_bench.slurm.claims import Claims
from tests.support.records import make_record
from tests.support.selection import selection_context


@pytest.fixture(params=[0o022, 0o002])
def mask(request):
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_records_warmups_caches_checkpoints_and_claims_follow_the_umask(tmp_path, small_store, mask):
    written = [RunStore(tmp_path / "store").put(make_record())]
    claim = Claims(tmp_path / "store").claim("a" * 20)
    written.append(claim.path)
    ctx = selection_context(tmp_path / "warmups", Requirements(1, needs_train_dynamics=True))
    ctx.warmup_correctness(1)
    written += [p for p in (tmp_path / "warmups").glob("*/*") if p.name != ".lock"]
    cached_store("toy", "0" * 64, {}, tmp_path / "cache", lambda: small_store)
    written += list((tmp_path / "cache" / "graphs").iterdir())
    model = torch.nn.Linear(2, 1)
    checkpoint = EpochCheckpoint(tmp_path / "run" / "checkpoint.pt", "a" * 20)
    checkpoint.save(LoopState(), model, torch.optim.Adam(model.parameters()), None)
    written.append(checkpoint.path)
    assert len(written) >= 10
    assert {p.name: oct(_mode(p)) for p in written} == {p.name: oct(0o666 & ~mask) for p in written}
    assert all(_mode(p) & 0o044 == 0o044 for p in written)  # readable by the group and others
    claim.release()
