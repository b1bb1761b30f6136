"""Executors, grouping, status and resubmission; a local sweep SIGKILLed three times ends as an uninterrupted one,
and a sweep killed alone (SIGTERM or SIGKILL to its process, not its group) leaves no worker behind."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.benchmark.data import load_dataset
from molpeg_bench.slurm import load_profile, run_states, start_sweep, status_report
from molpeg_bench.slurm.sweep import group_runs, load_manifest
from tests.support.data import needs_shared_data
from tests.support.runs import store_table

ROOT = Path(__file__).resolve().parents[2]
TINY = dict(dataset="nci-tpsa", subsample=300, num_layers=2, emb_dim=16, dropout=0.2, epochs=2, batch_size=32)
GRID = [RunConfig(method="whole", **TINY)] + [RunConfig(method=m, prune_ratio=r, **TINY)
                                              for m in ("random", "soft_random", "molpeg", "infobatch")
                                              for r in (0.4, 0.8)]


def test_grouping_and_profiles(tmp_path):
    assert [len(g) for g in group_runs(GRID, 4)] == [4, 4, 1]
    profile = load_profile("local", {"runs_per_task": 5, "partition": "cpu"})
    assert (profile.runs_per_task, profile.partition, profile.gpus_per_task) == (5, "cpu", 0)
    assert load_profile().gpus_per_task == 1  # the default profile asks for a GPU
    with pytest.raises(ValueError, match="unknown field.*'gpu'"):
        load_profile("local", {"gpu": 2})
    with pytest.raises(ValueError, match="runs_per_task must be >= 1"):
        load_profile("local", {"runs_per_task": 0})
    (tmp_path / "mine.toml").write_text('partition = "a100"\ntimeout_min = 30\n')
    assert load_profile(tmp_path / "mine.toml").timeout_min == 30
    with pytest.raises(FileNotFoundError, match="cluster profile 'nope' not found"):
        load_profile("nope")


def test_status_shows_failures_and_resubmission_runs_only_missing_or_failed(tmp_path, monkeypatch):
    from molpeg_bench.slurm import task

    good = GRID[:3]
    bad = RunConfig(method="molpeg", prune_ratio=0.5, seed=99, **TINY)
    real = task.run_finetune

    def fail_seed_99(config, **kwargs):
        if config.seed == 99:
            raise FileNotFoundError("checkpoint missing.pt does not exist")  # a failure inside the run
        return real(config, **kwargs)

    monkeypatch.setattr(task, "run_finetune", fail_seed_99)
    first = start_sweep([*good, bad], tmp_path / "store", executor="debug", threads=1, runs_per_task=2)
    assert sorted(first.completed) == sorted(c.run_id() for c in good) and list(first.failed) == [bad.run_id()]
    assert load_manifest(tmp_path / "store", first.sweep_id)["groups"] == [[c.run_id() for c in good[:2]],
                                                                           [good[2].run_id(), bad.run_id()]]
    states = run_states([*good, bad, GRID[3]], tmp_path / "store")
    assert [s.state for s in states] == ["done", "done", "done", "failed", "pending"]
    text = status_report(states)
    assert "nci-tpsa molpeg" in text and "missing.pt" in text and f"FAILED {bad.run_id()}" in text
    assert "  | " in text and "Traceback" in text  # the run's log tail, with the error's traceback
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "store").glob("*.json")}
    again = start_sweep([*good, bad, GRID[3]], tmp_path / "store", executor="debug", threads=1)
    assert again.skipped == 3 and again.submitted == 2 and again.completed == [GRID[3].run_id()]
    assert list(again.failed) == [bad.run_id()]
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "store").glob("*.json")
            if p.name in before} == before
    assert not (tmp_path / "store" / ".work" / GRID[3].run_id() / "checkpoint.pt").exists()  # deleted once stored


def test_local_and_debug_executors_store_the_same_runs(tmp_path):
    local = start_sweep(GRID[:4], tmp_path / "local", executor="local", jobs=2)
    debug = start_sweep(GRID[:4], tmp_path / "debug", executor="debug", threads=1)
    assert sorted(local.completed) == sorted(debug.completed) == sorted(c.run_id() for c in GRID[:4])
    assert store_table(tmp_path / "local").equals(store_table(tmp_path / "debug"))


SWEEP = """
from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.slurm.sweep import start_sweep
configs = [RunConfig.from_dict(c) for c in {configs!r}]
start_sweep(configs, {store!r}, executor="local", jobs=2)
"""


def _snapshot(store: Path) -> dict:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in store.glob("*.json")}


@pytest.mark.slow
def test_local_sweep_killed_three_times_ends_like_an_uninterrupted_one(tmp_path):
    configs = [c.replace(epochs=12, subsample=600) for c in GRID[1:]]
    load_dataset("nci-tpsa")
    store, rng = tmp_path / "store", random.Random(0)
    code = SWEEP.format(configs=[c.to_dict() for c in configs], store=str(store))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    kept: dict = {}
    for kill in range(4):
        kept |= _snapshot(store)
        sweep = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT, start_new_session=True)
        if kill == 3:
            assert sweep.wait(600) == 0
            break
        deadline = time.time() + 300
        while sweep.poll() is None and not list(store.glob(".work/*/checkpoint.pt")) and time.time() < deadline:
            time.sleep(0.05)  # until training has started
        time.sleep(rng.uniform(0.0, 1.0))
        os.killpg(sweep.pid, signal.SIGKILL)  # the sweep and its workers, at a random point
        assert sweep.wait() == -signal.SIGKILL, "the sweep ended before it was killed"
    assert {k: v for k, v in _snapshot(store).items() if k in kept} == kept  # no finished run recomputed
    records = [json.loads(p.read_text()) for p in store.glob("*.json")]
    assert sorted(r["run_id"] for r in records) == sorted(c.run_id() for c in configs)  # each once
    assert any(r["environment"]["resumed_after_epochs"] for r in records)
    start_sweep(configs, tmp_path / "reference", executor="debug", threads=1)
    assert store_table(store).equals(store_table(tmp_path / "reference"))


@needs_shared_data('hiv.csv.gz')
@needs_shared_data('muv.csv.gz')
def test_cli_status_and_collect_of_an_empty_store(tmp_path, capsys):
    from molpeg_bench.benchmark.cli import main

    assert main(["status", "table1", "--preset", "ci", "--store", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["experiment", "done", "running", "failed", "pending"]
    assert "hiv molpeg 0 0 0 2" in [" ".join(line.split()) for line in lines]
    assert "total 0 0 0 82" in [" ".join(line.split()) for line in lines]
    assert main(["collect", "table1", "--preset", "ci", "--store", str(tmp_path)]) == 0
    assert "0 done, 0 running, 0 failed, 82 pending" in capsys.readouterr().out


def _session(sid: int) -> list[int]:
    """Live processes of session ``sid`` (the sweep, its workers, the multiprocessing resource tracker)."""
    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if os.getsid(int(proc.name)) == sid and "Z" not in (proc / "stat").read_text().rsplit(")", 1)[1][:3]:
                pids.append(int(proc.name))
        except (OSError, IndexError):
            pass
    return pids


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="lists processes from /proc")
def test_workers_end_with_their_sweep_and_the_next_sweep_resumes(tmp_path):
    configs = [c.replace(epochs=12, subsample=600) for c in (GRID[1], GRID[4], GRID[6], GRID[8])]
    load_dataset("nci-tpsa")
    store = tmp_path / "store"
    code = SWEEP.format(configs=[c.to_dict() for c in configs], store=str(store))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for sig in (signal.SIGTERM, signal.SIGKILL):
        started = time.time()
        sweep = subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT, start_new_session=True,
                                 stderr=subprocess.DEVNULL)
        while sweep.poll() is None and time.time() < started + 300 and not any(
                p.stat().st_mtime > started for p in store.glob(".work/*/checkpoint.pt")):
            time.sleep(0.05)  # until this sweep's workers train
        assert len(_session(sweep.pid)) >= 3, "expected the sweep, its workers and the resource tracker"
        os.kill(sweep.pid, sig)  # the sweep alone, as `kill` or the OOM killer would
        sweep.wait(60)
        deadline = time.time() + 10
        while _session(sweep.pid) and time.time() < deadline:
            time.sleep(0.1)
        assert not _session(sweep.pid), f"processes left after {sig.name}: {_session(sweep.pid)}"
        if sig == signal.SIGTERM:  # stopped cleanly: claims released, checkpoints kept
            assert not list(store.glob(".claims/*.lock"))
            assert list(store.glob(".work/*/checkpoint.pt"))
    assert start_sweep(configs, store, executor="local", jobs=2).failed == {}
    records = [json.loads(p.read_text()) for p in store.glob("*.json")]
    assert sorted(r["run_id"] for r in records) == sorted(c.run_id() for c in configs)
    assert any(r["environment"]["resumed_after_epochs"] for r in records)
    start_sweep(configs, tmp_path / "reference", executor="debug", threads=1)
    assert store_table(store).equals(store_table(tmp_path / "reference"))
