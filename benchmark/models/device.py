"""Device names as the configs give them: "cpu", "cuda", "cuda:N" or "auto" (CUDA when available)."""

from __future__ import annotations

import re

import torch

DEVICES = "cpu, cuda, cuda:N or auto"


def resolve_device(name: str) -> torch.device:
    """The torch device ``name``; a ValueError naming it when it is unknown or unavailable here."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not re.fullmatch(r"cpu|cuda(:\d+)?", name):
        raise ValueError(f"unknown device {name!r}; expected {DEVICES}")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"device {name!r} requested but CUDA is not available on this machine; "
                             "use --device cpu or auto")
        index = int(name.split(":")[1]) if ":" in name else 0
        if index >= torch.cuda.device_count():
            raise ValueError(f"device {name!r} requested but this machine has {torch.cuda.device_count()} "
                             "CUDA device(s)")
    return torch.device(name)
