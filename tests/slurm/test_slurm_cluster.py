"""Against a real SLURM cluster (``slurm/local_cluster/start.sh`` in CI): job arrays give the local executor's
table, and a preempted run resumes from its checkpoint with the uninterrupted record.

Skipped when no cluster answers, unless ``MOLPEG_REQUIRE_SLURM=1`` (set by ``.ci/run``), where that fails.
"""

import json
import os
import shutil
import subprocess
import time

import pytest

from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.benchmark.experiments import build_grid
from molpeg_bench.benchmark.run import run_finetune
from molpeg_bench.results.table1 import write_table1
from molpeg_bench.slurm import load_profile, start_sweep
from tests.support.data import needs_shared_data
from tests.support.runs import store_table
from tests.support.user_code import ROOT, TOY


def _cluster_problem() -> str | None:
    if shutil.which("sbatch") is None or shutil.which("sinfo") is None:
        return "no SLURM client (sbatch, sinfo) on PATH; start one with slurm/local_cluster/start.sh"
    try:
        states = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        return f"sinfo failed ({exc}); start a cluster with slurm/local_cluster/start.sh"
    if not {"idle", "mixed", "allocated"} & set(states.split()):
        return f"no SLURM node is up (sinfo: {states.split() or 'nothing'}); see slurm/local_cluster/start.sh"
    return None


PROBLEM = _cluster_problem()
if PROBLEM and os.environ.get("MOLPEG_REQUIRE_SLURM") == "1":
    raise RuntimeError(f"MOLPEG_REQUIRE_SLURM=1 but {PROBLEM}")
pytestmark = [pytest.mark.slurm, pytest.mark.skipif(PROBLEM is not None, reason=PROBLEM or "")]


@needs_shared_data("hiv.csv.gz")
def test_ci_grid_as_job_arrays_gives_the_local_table(tmp_path):
    configs = [c for c in build_grid("table1", "ci") if c.dataset == "hiv"
               and c.method in ("whole", "random", "soft_random", "infobatch", "molpeg")]
    assert len(configs) == 9
    local = start_sweep(configs, tmp_path / "local", executor="local", jobs=2)
    assert len(local.completed) == 9 and not local.failed
    cluster = start_sweep(configs, tmp_path / "slurm", executor="slurm", profile=load_profile("local"),
                          runs_per_task=3, wait=True, name="molpeg-ci-test")
    assert len(cluster.job_ids) == 3 and len({j.split("_")[0] for j in cluster.job_ids}) == 1  # one array of 3
    assert sorted(cluster.completed) == sorted(local.completed) and not cluster.failed
    records = [json.loads(p.read_text()) for p in (tmp_path / "slurm").glob("*.json")]
    assert all(r["environment"]["num_threads"] == 1 for r in records)
    assert store_table(tmp_path / "slurm").equals(store_table(tmp_path / "local"))
    tex = [write_table1(store_table(tmp_path / d), tmp_path / f"out-{d}", preset="ci")["table1.tex"].read_text()
           for d in ("local", "slurm")]
    assert tex[0] == tex[1] and "MolPeg" in tex[0]


def test_preempted_run_resumes_from_its_checkpoint(tmp_path):
    import submitit

    config = RunConfig(dataset="nci-tpsa", method="molpeg", prune_ratio=0.5, subsample=1500, num_layers=2,
                       emb_dim=32, dropout=0.3, epochs=12, batch_size=32, num_threads=1)
    store = tmp_path / "store"
    summary = start_sweep([config], store, executor="slurm", profile=load_profile("local", {"timeout_min": 60}),
                          wait=False, name="molpeg-preempt-test")
    job = submitit.SlurmJob(folder=store / ".submitit" / "%j", job_id=summary.job_ids[0])
    again = start_sweep([config], store, executor="slurm", profile=load_profile("local"), wait=False)
    assert again.submitted == 0 and again.running_elsewhere == 1 and not again.job_ids  # queued: not resubmitted
    checkpoint = store / ".work" / config.run_id() / "checkpoint.pt"
    deadline = time.time() + 240
    while not checkpoint.exists() and time.time() < deadline:
        time.sleep(0.1)
    assert checkpoint.exists(), "the job wrote no checkpoint"
    job._interrupt()  # preemption: submitit checkpoints and requeues the task
    record_path = store / f"{config.run_id()}.json"
    while not record_path.exists() and time.time() < deadline:
        time.sleep(0.5)
    assert record_path.exists(), f"no record after requeue; job log: {job.paths.stdout}"
    record = json.loads(record_path.read_text())
    assert record["environment"]["resumed_after_epochs"], "the run did not resume from its checkpoint"
    assert not checkpoint.exists()
    reference = run_finetune(config)

    def comparable(r):
        return {k: v for k, v in r.items() if k not in {"timings", "started_at", "environment"}}

    assert json.dumps(comparable(record), sort_keys=True) == json.dumps(comparable(reference), sort_keys=True)


def test_an_external_method_runs_in_slurm_workers_as_locally(tmp_path, monkeypatch):
    """A method named module:Class imports in the job array's workers as in local workers: the same run ids,
    origin and metrics, and its row in the table built from the cluster's records."""
    from molpeg_bench.benchmark.cli import main

    folder = tmp_path / "user_code"
    folder.mkdir()
    (folder / "toy_on_slurm.py").write_text(TOY)
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(folder), str(ROOT), os.environ.get("PYTHONPATH", "")]))
    grid = ["table1", "--preset", "ci", "--dataset", "nci-tpsa", "--method", "toy_on_slurm:KeepLast",
            "--only-methods"]
    assert main(["sweep", *grid, "--store", str(tmp_path / "local"), "--executor", "local", "--jobs", "2"]) == 0
    assert main(["sweep", *grid, "--store", str(tmp_path / "slurm"), "--executor", "slurm", "--profile", "local",
                 "--wait"]) == 0
    records = {d: {r["run_id"]: r for r in (json.loads(p.read_text()) for p in (tmp_path / d).glob("*.json"))}
               for d in ("local", "slurm")}
    assert sorted(records["slurm"]) == sorted(records["local"]) and len(records["slurm"]) == 3
    external = [r for r in records["slurm"].values() if r["config"]["method"] == "toy_on_slurm:KeepLast"]
    assert len(external) == 2 and all(r["pruner"]["origin"]["found_by"] == "module" for r in external)
    assert store_table(tmp_path / "slurm").equals(store_table(tmp_path / "local"))
    assert main(["collect", *grid, "--store", str(tmp_path / "slurm"), "--out", str(tmp_path / "out")]) == 0
    assert r"toy\_on\_slurm:KeepLast$^\star$" in (tmp_path / "out" / "table1.tex").read_text()
