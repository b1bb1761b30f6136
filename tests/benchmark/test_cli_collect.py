"""`collect` right after a SLURM submission: partial results are normal, so it reports what it can and exits 0."""

import pytest

from molpeg_bench.benchmark.cli import main
from molpeg_bench.benchmark.experiments import build_grid
from molpeg_bench.benchmark.run import run_finetune
from molpeg_bench.results.store import RunStore
from tests.support.data import needs_shared_data


@needs_shared_data("hiv.csv.gz")
@needs_shared_data("muv.csv.gz")
def test_collect_of_a_partly_done_grid_exits_0_and_says_so(tmp_path, capsys):
    whole = next(c for c in build_grid("fig4", "ci") if c.method == "whole")
    RunStore(tmp_path).put(run_finetune(whole))  # only the reference run is done: no point to draw yet
    assert main(["collect", "fig4", "--preset", "ci", "--store", str(tmp_path), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "1 done, 0 running, 0 failed, 20 pending" in out
    assert "nothing to report yet" in out and "collect again when runs are done" in out
    assert main(["collect", "table1", "--preset", "ci", "--store", str(tmp_path), "--out", str(tmp_path / "o")]) == 0
    assert "partial report: 81 run(s) not done yet" in capsys.readouterr().out
    assert (tmp_path / "o" / "table1.tex").is_file()


@pytest.mark.parametrize("flag", ["WAIT=1"])
def test_make_passes_wait_to_the_sweep(flag):
    import subprocess

    out = subprocess.run(["make", "-n", "--no-print-directory", "table1", "EXECUTOR=slurm", flag],
                         capture_output=True, text=True,
                         cwd=__import__("pathlib").Path(__file__).resolve().parents[2]).stdout
    sweep = next(line for line in out.splitlines() if "molpeg-bench sweep" in line)  # also when run inside make
    assert "--executor slurm" in sweep and "--wait" in sweep
