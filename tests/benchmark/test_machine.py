"""The machine description every timing carries (``benchmark.machine``)."""

from __future__ import annotations

from pathlib import Path

import torch

from molpeg_bench.benchmark import machine


def test_cpu_model_reads_the_model_name_line(monkeypatch, tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel\t\t: 17\nmodel name\t: AMD EPYC 9R14\n")
    real = Path.read_text
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: real(info if str(self) == "/proc/cpuinfo" else self))
    assert machine.cpu_model() == "AMD EPYC 9R14"


def test_machine_names_cpu_cores_and_torch_build():
    described = machine.describe_machine("cpu")
    assert described["cores"] >= 1 and described["torch"] == torch.__version__
    assert described["torch_build"] == (f"cuda {torch.version.cuda}" if torch.version.cuda else "cpu")
    assert "gpu" not in described
    assert machine.machine_line().startswith(described["cpu"])
