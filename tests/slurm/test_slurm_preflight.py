"""A SLURM sweep checks for a cluster and for a profile that fits it before any work, in one line."""

import os
import resource
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.slurm import load_profile, start_sweep
from molpeg_bench.slurm.preflight import ClusterUnfit, Partition, check_profile

ROOT = Path(__file__).resolve().parents[2]
CPU_ONLY = [Partition("debug", default=True, gpus=False, up=True)]
TINY = RunConfig(dataset="nci-tpsa", subsample=300, num_layers=2, emb_dim=16, epochs=1, method="random",
                 prune_ratio=0.5)


def _bin(tmp_path: Path, **scripts: str) -> str:
    """A PATH holding only the given shell scripts (e.g. a fake sinfo)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for name, body in scripts.items():
        (folder / name).write_text(f"#!/bin/sh\n{body}\n")
        (folder / name).chmod(stat.S_IRWXU)
    return str(folder)


def test_cli_without_slurm_says_so_in_one_line_before_any_work(tmp_path):
    store = tmp_path / "store"
    env = {**os.environ, "PATH": _bin(tmp_path), "MOLPEG_EXECUTOR": "slurm", "PYTHONPATH": str(ROOT)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([sys.executable, "-m", "molpeg_bench", "sweep", "table1", "--preset", "ci", "--store",
                          str(store)], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU seconds, not wall: the same on a loaded shared machine (mostly Python and torch starting up)
    seconds = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    lines = [line for line in (out.stdout + out.stderr).splitlines() if line.strip()]
    assert out.returncode == 2 and len(lines) == 1, lines
    assert "no sbatch or sinfo on PATH" in lines[0] and "--executor local" in lines[0]
    assert seconds < 5, f"took {seconds:.1f} CPU s: work was done before the check"
    assert not store.exists()  # no sweep file, no store


def test_default_profile_on_a_cpu_cluster_names_the_gpu_request():
    with pytest.raises(ClusterUnfit) as err:
        check_profile(load_profile(), CPU_ONLY)
    message = str(err.value)
    assert "\n" not in message
    assert "gpus_per_task=1" in message and "partition 'gpu' does not exist (partitions: debug)" in message
    assert "PROFILE=slurm/profiles/local.toml" in message and "--cluster gpus_per_task=0" in message
    check_profile(load_profile("local"), CPU_ONLY)  # fits: the default partition, no GPU
    check_profile(load_profile(), [Partition("gpu", default=False, gpus=True, up=True)] + CPU_ONLY)
    with pytest.raises(ClusterUnfit, match="partition 'debug' has no GPU"):
        check_profile(load_profile(overrides={"partition": "debug"}), CPU_ONLY)


def test_refused_submission_leaves_no_sweep_file(tmp_path, monkeypatch):
    # submitit looks for srun before it submits: a fake one, so the test holds where SLURM is not installed
    monkeypatch.setenv("PATH", _bin(tmp_path, sinfo="echo 'debug*|(null)|up'", srun="exit 1",
                                    sbatch="echo 'sbatch: error: Batch job submission failed: Invalid account' >&2\n"
                                           "exit 1") + os.pathsep + os.environ["PATH"])
    with pytest.raises(ClusterUnfit, match="^sbatch refused the job array: sbatch: error: .*Invalid account$"):
        start_sweep([TINY], tmp_path / "store", executor="slurm", profile=load_profile("local"))
    assert not list((tmp_path / "store").glob(".sweeps/*"))
