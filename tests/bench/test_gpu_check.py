"""``make gpu-check`` at the ci preset on the CPU: the same script a GPU runs, in seconds."""

from __future__ import annotations

import json

import pytest

from molpeg_bench.bench.gpu_check import main, slurm_profile
from tests.support.data import SHARED_DATA, needs_shared_data


@pytest.mark.slow
@needs_shared_data("hiv.csv.gz")
def test_gpu_check_at_the_ci_preset_on_cpu(tmp_path, capsys):
    out = tmp_path / "gpu_check.json"
    assert main(["--preset", "ci", "--device", "cpu", "--epochs", "1", "--data-dir", str(SHARED_DATA),
                 "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    runs = {r["method"]: r for r in report["runs"]}
    assert set(runs) == {"whole", "molpeg", "el2n_20"}
    assert all(r["same_record_twice"] for r in runs.values())  # CPU: the same seed gives the same record
    assert all(r["epoch_s"] > 0 and r["eval_molecules_per_s"] > 0 for r in runs.values())
    assert runs["el2n_20"]["warmup_s"] > 0 and runs["whole"]["warmup_s"] == 0
    assert "gpus_per_node: 1" in report["slurm_profile"] and "cpu" in report["machine"]
    assert "same record twice: True" in capsys.readouterr().out


def test_slurm_profile_is_sized_from_the_slowest_run_and_the_peak_memory():
    runs = [{"epoch_s": 30.0, "warmup_s": 60.0, "epochs": 2, "peak_gpu_gib": 10.0},  # 3000 s + 20 epochs warm-up
            {"epoch_s": 10.0, "warmup_s": 0.0, "epochs": 2, "peak_gpu_gib": float("nan")}]
    profile = slurm_profile(runs)
    assert "mem_gb: 40" in profile and "timeout_min: 90" in profile  # 1 h x 1.5
