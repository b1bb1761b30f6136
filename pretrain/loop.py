"""The seeded, resumable epoch loop every pretraining run shares (GraphMAE / GraphCL in ``pretrain.train``,
GeoSSL-DDM in ``pretrain.geossl_train``).

Each epoch's molecule order and its masking / augmentation / noise draws come from a CPU generator seeded by
(seed, epoch); after every epoch the model, the optimizer, the RNG states and the progress are saved to
``<out_dir>/<name>.resume.pt``, so a run stopped after any epoch and rerun ends bitwise where an uninterrupted
one does. A run's config is a ``RunSettings`` with ``seed``, ``batch_size`` and ``lr``; all its fields but
``RESUMABLE`` are the settings a rerun must share.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from molpeg_bench.benchmark.data.graph_store import GraphStore
from molpeg_bench.pretrain.checkpoint import load_resume_state, save_resume_state, set_rng_states

log = logging.getLogger(__name__)


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0]))


def epoch_batches(n: int, batch_size: int, generator: torch.Generator) -> list[torch.Tensor]:
    """A shuffled split into batches; a trailing single molecule joins the previous batch (one
    molecule has no contrastive negatives, and one atom breaks BatchNorm)."""
    chunks = list(torch.randperm(n, generator=generator).split(batch_size))
    if len(chunks) > 1 and len(chunks[-1]) == 1:
        chunks[-2:] = [torch.cat(chunks[-2:])]
    return chunks


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, store: GraphStore, indices: torch.Tensor,
               generator: torch.Generator) -> float:
    loss = model.loss(store.batch(indices), generator)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    return float(loss.detach())


def train_epoch(model: nn.Module, optimizer: torch.optim.Optimizer, store: GraphStore, cfg: Any,
                epoch: int, desc: str = "") -> tuple[float, int, float]:
    """One pass over ``store`` in the (seed, epoch) order; returns (mean loss, steps, seconds)."""
    generator = epoch_generator(cfg.seed, epoch)
    batches = epoch_batches(len(store), cfg.batch_size, generator)
    model.train()
    start, total = time.perf_counter(), 0.0
    bar = tqdm(batches, desc=f"{desc} epoch {epoch + 1}/{cfg.epochs}", disable=not sys.stderr.isatty())
    for step, indices in enumerate(bar, 1):
        total += train_step(model, optimizer, store, indices, generator)
        bar.set_postfix(loss=f"{total / step:.4f}")
    return total / len(batches), len(batches), time.perf_counter() - start


@dataclass(frozen=True, kw_only=True)
class RunSettings:
    """The settings every pretraining run has beside its method's (``PretrainConfig``, ``GeoSSLConfig``): the
    corpus size, the epochs and the weight decay, and the execution settings. ``device`` ("auto": CUDA when
    available, else the CPU) and ``num_threads`` (torch's CPU threads during the run; None: torch's choice)
    may change on resume (results then agree up to floating-point summation order), ``epochs`` may grow."""

    max_molecules: int | None = None
    epochs: int = 100
    weight_decay: float = 0.0
    device: str = "cpu"
    num_threads: int | None = None
    preset: str | None = None


RESUMABLE = ("epochs", "device", "num_threads", "preset")  # what a rerun may change and still resume


@contextmanager
def cpu_threads(n: int | None) -> Iterator[None]:
    """Run with ``n`` torch CPU threads (None: unchanged), restoring the previous count."""
    previous = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def resume_settings(cfg: RunSettings, store: GraphStore) -> dict:
    """What a rerun must share with the saved run to continue it (all settings but ``RESUMABLE``)."""
    settings = {k: v for k, v in asdict(cfg).items() if k not in RESUMABLE}
    return dict(settings, corpus_sha256=store.meta.get("source_sha256"), n_molecules=len(store))


def _with_new_fields(saved: dict, current: dict, defaults: dict) -> dict:
    """``saved`` settings plus the fields added to the config since they were written, at their defaults
    (recursively into nested architectures), so an older resume state of a default run still continues."""
    out = dict(saved)
    for key, value in current.items():
        if key not in out and key in defaults:
            out[key] = defaults[key]
        elif isinstance(value, dict) and isinstance(out.get(key), dict) and isinstance(defaults.get(key), dict):
            out[key] = _with_new_fields(out[key], value, defaults[key])
    return out


def load_progress(path: Path, model: nn.Module, optimizer: torch.optim.Optimizer, settings: dict,
                  epochs: int, defaults: dict | None = None) -> dict:
    """Load a resume state into ``model``, ``optimizer`` and the RNGs; returns its progress. ``defaults``:
    the config's default settings, standing in for fields the saved state predates."""
    state = load_resume_state(path)
    saved = _with_new_fields(state["settings"], settings, defaults or {})
    if saved != settings:
        diff = sorted(k for k in settings.keys() | saved.keys() if settings.get(k) != saved.get(k))
        raise ValueError(f"{path} belongs to a run with other settings (differing: {diff}); "
                         "use another output directory or --restart")
    if state["progress"]["epoch"] > epochs:
        raise ValueError(f"{path} is already at epoch {state['progress']['epoch']} > {epochs}")
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    set_rng_states(state["rng"])
    return state["progress"]


@dataclass
class ResumableRun:
    """One pretraining run's model, optimizer and corpus, resumed from and saved to ``<out_dir>/<name>.resume.pt``."""

    name: str
    cfg: Any
    model: nn.Module
    optimizer: torch.optim.Optimizer
    store: GraphStore
    out_dir: Path

    @classmethod
    def build(cls, name: str, cfg: Any, build_model: Callable[[Any], nn.Module], store: GraphStore, out_dir: Path,
              device: torch.device) -> ResumableRun:
        """The run of ``cfg``: its model built from the config's seed on ``device``, Adam at its learning rate
        and weight decay."""
        torch.manual_seed(cfg.seed)
        model = build_model(cfg).to(device)
        optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        return cls(name, cfg, model, optimizer, store, out_dir)

    @property
    def resume_file(self) -> Path:
        return self.out_dir / f"{self.name}.resume.pt"

    def resume_or_start(self, restart: bool, defaults: dict, **fields: object) -> dict:
        """The progress to continue from: the resume file's, loaded into the model, the optimizer and the RNGs,
        when there is one and not ``restart``; else a fresh start (epoch 0, plus ``fields``)."""
        if restart or not self.resume_file.is_file():
            return {"epoch": 0, "steps": 0, "losses": [], "seconds": [], **fields}
        progress = load_progress(self.resume_file, self.model, self.optimizer, resume_settings(self.cfg, self.store),
                                 self.cfg.epochs, defaults)
        log.info("%s: resuming after epoch %d from %s", self.name, progress["epoch"], self.resume_file)
        return progress

    def epochs(self, progress: dict, on_epoch_end: Callable[[int, float], None] | None = None,
               before_epoch: Callable[[int], None] | None = None,
               after_epoch: Callable[[dict, int, float], dict] | None = None) -> dict:
        """Train the epochs from ``progress`` to ``cfg.epochs``, saving the resume state after each; returns the
        final progress. ``before_epoch(epoch)`` runs before an epoch (0-based); ``after_epoch(progress, epoch,
        loss)`` gives the fields it adds to the progress (from the progress before the epoch);
        ``on_epoch_end(epoch, loss)`` runs once the epoch's state is saved (1-based)."""
        settings = resume_settings(self.cfg, self.store)
        for epoch in range(progress["epoch"], self.cfg.epochs):
            if before_epoch is not None:
                before_epoch(epoch)
            loss, steps, seconds = train_epoch(self.model, self.optimizer, self.store, self.cfg, epoch, desc=self.name)
            added = after_epoch(progress, epoch, loss) if after_epoch is not None else {}
            progress = {"epoch": epoch + 1, "steps": progress["steps"] + steps, "losses": [*progress["losses"], loss],
                        "seconds": [*progress["seconds"], seconds], **added}
            save_resume_state(self.resume_file, self.model, self.optimizer, progress, settings)
            log.info("%s epoch %d/%d: loss %.4f, %.1f s (%.0f molecules/s)", self.name, epoch + 1, self.cfg.epochs,
                     loss, seconds, len(self.store) / seconds)
            if on_epoch_end is not None:
                on_epoch_end(epoch + 1, loss)
        return progress
