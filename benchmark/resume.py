"""Resumable fine-tuning: an atomic checkpoint of the loop's whole state at the end of every epoch.

A run restarted from its checkpoint continues with the same model, optimizer, pruner state (MolPeg's
reference model and scores, InfoBatch's scores), torch RNG states (dropout draws from them),
best-so-far, per-epoch history, sample visits and timings, and for static methods the selection and
the selection context's description (so the warm-up is not redone). On CPU it ends with the same
metrics as an uninterrupted run.

The file is written atomically (``fileio.atomic``), so a kill at any moment leaves either the
previous checkpoint or the new one, never a torn file. It is our own file,
read back with ``weights_only=False`` because it holds numpy arrays and plain dicts besides tensors.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import torch
from torch import nn

from molpeg_bench.fileio.atomic import write_atomic
from molpeg_bench.methods import DynamicPruner, Pruner
from molpeg_bench.methods.base import Selection
from molpeg_bench.methods.guard import method_call

log = logging.getLogger(__name__)
CHECKPOINT_FORMAT = 1


@dataclass
class LoopState:
    """What the fine-tuning loop carries from one epoch to the next (besides model and optimizer)."""

    epoch: int = 0  # last completed epoch
    epochs: list[dict] = field(default_factory=list)
    best: dict = field(default_factory=lambda: {"epoch": -1, "valid": -float("inf"), "test": float("nan")})
    visits: int = 0
    timings: dict = field(default_factory=lambda: {"warmup": 0.0, "scoring": 0.0, "training": 0.0,
                                                   "evaluation": 0.0})
    elapsed: float = 0.0  # wall seconds spent in earlier processes (added to the record's total)
    selection: Selection | None = None
    context: dict | None = None  # the selection context's description (static methods)
    resumed_from: list[int] = field(default_factory=list)  # epochs this run was resumed after


class EpochCheckpoint:
    """The checkpoint file of one run (``path``), tied to its ``run_id``."""

    def __init__(self, path: str | Path, run_id: str):
        self.path, self.run_id = Path(path), run_id

    def exists(self) -> bool:
        return self.path.is_file()

    def save(self, state: LoopState, model: nn.Module, optimizer: torch.optim.Optimizer, pruner: Pruner) -> None:
        pruner_state = None
        if isinstance(pruner, DynamicPruner):
            with method_call(pruner.name, "state_dict()"):
                pruner_state = pruner.state_dict()
        payload = {
            "format": CHECKPOINT_FORMAT, "run_id": self.run_id, "loop": state,
            "model": model.state_dict(), "optimizer": optimizer.state_dict(), "pruner": pruner_state,
            "rng_cpu": torch.get_rng_state(),
            "rng_cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None,
        }
        write_atomic(self.path, partial(torch.save, payload))

    def load(self) -> dict | None:
        """The saved payload, or None when there is none or it belongs to another run / format."""
        if not self.exists():
            return None
        try:
            payload = torch.load(self.path, map_location="cpu", weights_only=False)
        except Exception as exc:  # an unreadable checkpoint only costs the epochs it held
            log.warning("unreadable checkpoint %s (%s): starting the run from scratch", self.path, exc)
            return None
        if payload.get("format") != CHECKPOINT_FORMAT or payload.get("run_id") != self.run_id:
            log.warning("checkpoint %s belongs to run %s (format %s), not %s: ignored", self.path,
                        payload.get("run_id"), payload.get("format"), self.run_id)
            return None
        return payload

    def restore(self, payload: dict, model: nn.Module, optimizer: torch.optim.Optimizer,
                pruner: Pruner) -> LoopState:
        """Load ``payload`` into the model, optimizer, pruner (after its ``setup``) and torch RNGs."""
        model.load_state_dict(payload["model"])
        optimizer.load_state_dict(payload["optimizer"])
        if isinstance(pruner, DynamicPruner):
            with method_call(pruner.name, "load_state_dict()"):
                pruner.load_state_dict(payload["pruner"])
        torch.set_rng_state(payload["rng_cpu"])
        if payload["rng_cuda"] is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(payload["rng_cuda"])
        state: LoopState = payload["loop"]
        state.resumed_from.append(state.epoch)
        log.info("run %s resumed after epoch %d from %s", self.run_id, state.epoch, self.path)
        return state

    def completed_epoch(self) -> int | None:
        """The last epoch saved, read without loading the tensors (memory-mapped); None without a checkpoint."""
        try:
            return torch.load(self.path, map_location="cpu", weights_only=False, mmap=True)["loop"].epoch
        except Exception:  # absent, or replaced while we read it: no progress to show
            return None

    def delete(self) -> None:
        self.path.unlink(missing_ok=True)

