"""Files written by pretraining, each atomically (temp file + rename).

* ``<name>.pt``: the encoder's ``state_dict`` in the Hu et al. key layout, loadable with
  ``benchmark.models.load_encoder_checkpoint``; ``<name>.json`` beside it: how it was made
  (read by ``benchmark.models.describe_checkpoint``), with the weights' sha256.
* ``<name>.resume.pt``: after every epoch, what a rerun needs to continue bitwise identically
  (model, optimizer, RNG states, epoch, losses, the run's settings).
"""

from __future__ import annotations

import json
import platform
from functools import partial
from pathlib import Path

import torch
from torch import nn

from molpeg_bench.fileio.atomic import write_atomic, write_text_atomic
from molpeg_bench.fileio.checksums import file_sha256


def library_versions() -> dict[str, str]:
    import numpy
    import rdkit
    import torch_geometric

    return {"python": platform.python_version(), "torch": torch.__version__,
            "torch_geometric": torch_geometric.__version__, "rdkit": rdkit.__version__,
            "numpy": numpy.__version__}


def save_pretrained(encoder: nn.Module, path: str | Path, metadata: dict) -> Path:
    """Write the encoder weights to ``path`` and ``metadata`` (plus the weights' sha256 and the
    library versions) to ``path.with_suffix('.json')``; returns ``path``."""
    path = Path(path)
    state = {k: v.detach().cpu() for k, v in encoder.state_dict().items()}
    write_atomic(path, partial(torch.save, state))
    meta = dict(metadata, weights_file=path.name,
                weights_sha256=file_sha256(path), versions=library_versions())
    write_text_atomic(path.with_suffix(".json"), json.dumps(meta, indent=2, sort_keys=False) + "\n")
    return path


def rng_states() -> dict:
    state = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_states(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_resume_state(path: Path, model: nn.Module, optimizer: torch.optim.Optimizer, progress: dict,
                      settings: dict) -> None:
    """``progress``: epochs done, steps, per-epoch losses and seconds; ``settings``: what must match
    for a rerun to continue this run."""
    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "rng": rng_states(),
             "progress": progress, "settings": settings}
    write_atomic(path, partial(torch.save, state))


def load_resume_state(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=False)
