"""The machine a run or a measurement ran on: CPU model, core count, torch build and accelerator.

Every timing the suite writes (run records, benchmarks, figures of time) names its machine with this, so
figures from different CPUs or GPUs are never compared unknowingly.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

import torch


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, ``platform.processor()`` elsewhere)."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return platform.processor() or "unknown CPU"
    names = (line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    return next(names, platform.processor() or "unknown CPU")


def describe_machine(device: str | torch.device = "cpu") -> dict:
    """CPU model, logical cores, torch version and build (CUDA version or ``cpu``), and the GPU's name when
    ``device`` is a CUDA device."""
    device = torch.device(device)
    described = {"cpu": cpu_model(), "cores": os.cpu_count(), "torch": torch.__version__,
                 "torch_build": f"cuda {torch.version.cuda}" if torch.version.cuda else "cpu"}
    if device.type == "cuda":
        described["gpu"] = torch.cuda.get_device_name(device)
    return described


def machine_line(device: str | torch.device = "cpu") -> str:
    """One line naming the machine, for logs and printed tables."""
    m = describe_machine(device)
    gpu = f", GPU {m['gpu']}" if "gpu" in m else ""
    return f"{m['cpu']}, {m['cores']} cores{gpu}, torch {m['torch']} ({m['torch_build']})"
