"""A local worker that dies (SIGKILL: the OOM killer, ``kill -9``) fails only the run it was computing: the other
runs of the sweep complete in a fresh pool, and the dead run, tried once more, is reported failed with how its
worker died."""

import json

import pytest

from molpeg_bench.benchmark.cli import main
from tests.support.data import needs_shared_data
from tests.support.user_code import write_module

KILLS_ITS_WORKER = """
import os
import signal

import numpy as np

from molpeg_bench.methods.base import Selection, StaticPruner


class KillsAt80(StaticPruner):
    \"\"\"Keeps the first k molecules, and SIGKILLs its own process when asked to prune 80 %.\"\"\"

    def coreset(self, ctx):
        if round(self.keep_ratio, 6) == 0.2:
            os.kill(os.getpid(), signal.SIGKILL)
        return Selection(np.arange(self.k))
"""


@pytest.mark.slow
@needs_shared_data("hiv.csv.gz")
def test_a_killed_worker_fails_its_own_run_and_the_sweep_goes_on(user_code, tmp_path, capsys, caplog):
    write_module(user_code, "kills_its_worker", KILLS_ITS_WORKER)
    store = tmp_path / "store"
    grid = ["table1", "--preset", "ci", "--dataset", "hiv", "--method", "kills_its_worker:KillsAt80",
            "--only-methods", "--store", str(store)]
    assert main(["sweep", *grid, "--executor", "local", "--jobs", "1"]) == 1
    assert "3 runs, 0 already done, 0 running elsewhere, 2 computed, 1 failed" in capsys.readouterr().out
    records = [json.loads(p.read_text()) for p in store.glob("*.json")]
    assert sorted((r["config"]["method"], r["config"]["prune_ratio"]) for r in records) == [
        ("kills_its_worker:KillsAt80", 0.4), ("whole", 0.0)]
    assert all(r["status"] == "complete" for r in records)
    retried = [r.getMessage() for r in caplog.records
               if r.name == "molpeg_bench.slurm.executors" and r.levelname == "WARNING"]
    assert len(retried) == 1 and "died (worker " in retried[0] and "killed by SIGKILL); running it again" in retried[0]
    assert main(["status", *grid]) == 0
    status = capsys.readouterr().out
    (failed,) = [line for line in status.splitlines() if line.startswith("FAILED")]
    assert "WorkerDied: its worker process died (worker " in failed and "killed by SIGKILL), 2 times" in failed
