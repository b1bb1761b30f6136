"""Progress you can see without a terminal: a log line per epoch in each run's log, a line per finished run
from a sweep, and the epoch of each running run in `status`."""

import logging
import re
import subprocess
import sys
from pathlib import Path

from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.slurm import run_states, start_sweep, status_report
from molpeg_bench.slurm.task import RunFolder, execute_run
from tests.support.runs import TINY, run_killed_after

ROOT = Path(__file__).resolve().parents[2]
HOLD = "from slurm.claims import Claims; c = Claims({root!r}).claim({run_id!r}); print('claimed', flush=True); " \
       "import time; time.sleep(120)"
EPOCH_LINE = re.compile(r"nci-tpsa/molpeg/0.5 epoch (\d)/4: train loss \d\.\d{4}, valid roc_auc \d\.\d{4}, "
                        r"test \d\.\d{4}, kept 0\.5\d\d, \d+\.\d s$")


def test_run_log_has_a_line_per_epoch(tmp_path):
    config = RunConfig(method="molpeg", prune_ratio=0.5, **TINY)
    assert execute_run(config, tmp_path) == "computed"
    lines = RunFolder(tmp_path, config.run_id()).log.read_text().splitlines()
    epochs = [int(m.group(1)) for line in lines if (m := EPOCH_LINE.search(line))]
    assert epochs == [1, 2, 3, 4], lines


def test_sweep_logs_a_line_as_runs_finish(tmp_path, caplog):
    configs = [RunConfig(method="random", prune_ratio=0.5, seed=s, **(TINY | {"epochs": 1})) for s in (0, 1)]
    with caplog.at_level(logging.INFO, logger="molpeg_bench.slurm.progress"):
        start_sweep(configs, tmp_path, executor="debug", threads=1, name="t")
    lines = [r.getMessage() for r in caplog.records if r.name == "molpeg_bench.slurm.progress"]
    assert re.fullmatch(r"sweep t: 1/2 done, 0 failed, 0 running, ETA \dm\d\ds", lines[0]), lines
    assert re.fullmatch(r"sweep t: 2/2 done, 0 failed, 0 running, took \dm\d\ds", lines[-1]), lines


def test_status_shows_the_epoch_of_a_running_run(tmp_path, monkeypatch):
    config = RunConfig(method="molpeg", prune_ratio=0.5, **TINY)
    run_killed_after(monkeypatch, config, RunFolder(tmp_path, config.run_id()).epoch_checkpoint, 2)
    holder = subprocess.Popen([sys.executable, "-c", HOLD.format(root=str(tmp_path), run_id=config.run_id())],
                              stdout=subprocess.PIPE, text=True, cwd=ROOT)  # as the computing process would
    try:
        assert holder.stdout.readline().strip() == "claimed"
        text = status_report(run_states([config], tmp_path))
    finally:
        holder.kill()
        holder.wait()
    assert re.search(rf"running {config.run_id()} \(nci-tpsa molpeg 0.5 seed 0\) on .* pid \d+: epoch 2/4 done",
                     text), text
