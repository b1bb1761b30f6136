"""The warm-up run of static methods as a cached artefact on disk, shared by runs and processes.

One folder per ``WarmupKey`` (everything that determines the run) under ``$MOLPEG_CACHE_DIR/warmups``:
the content-keyed cache beside the featurized graphs, so every grid, preset folder and process that
asks for the same warm-up finds it (a run store is one grid's output and is cleaned with it).

    key.json                  the key, readable
    epoch_0004.pt             model state_dict after epoch 4 (one per epoch, never rewritten)
    correct_0004.npy          per-sample correctness [N, T] of epoch 4, np.packbits of the flat array
    resume_0020.pt            optimizer state after the last epoch (to extend the run)
    manifest.json             epochs done, seconds per epoch; written last, atomically: the truth
    <file>.sha256             sha256 of each .pt / .npy file, written after it (``fileio.checksums``)

A longer request extends the cached run from its last epoch (same per-epoch seeds, restored optimizer),
so epochs 1..4 of a 20-epoch run are the 4-epoch run. Writers hold an exclusive ``fcntl.flock`` on
``.lock``: one process trains, the others block and then reuse. The kernel drops the lock when its
holder dies, so a stale lock of a killed process is taken over by the next caller (the lock file keeps
the holder's pid and host for diagnosis). Readers of an already long-enough artefact take no lock:
files are written to a temp name and renamed, and the manifest is renamed last.

Every file a request needs is verified against its sha256 before it is used (older files without one are
hashed on first read, see ``fileio.checksums``). A damaged file or manifest is named in one log
line, moved aside as ``<name>.corrupt-<time>``, and the run is trained again from scratch under the lock
(an epoch cannot be rebuilt alone: the optimizer state of earlier epochs is not kept); when it cannot be
moved aside, the error names the folder to delete.
"""

from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import logging
import os
import platform
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

from molpeg_bench.benchmark.data.sources import default_cache_dir
from molpeg_bench.fileio.atomic import write_text_atomic
from molpeg_bench.fileio.checksums import DamagedFile, load_verified, save_verified, set_aside, verify_file

log = logging.getLogger(__name__)
WARMUP_STARTS = ("pretrained", "random")


@dataclass(frozen=True)
class WarmupKey:
    """Everything that determines a warm-up run (``seed``: the run seed; ``seed_index``: which of its
    independent warm-up runs; ``data_sha256``: hash of the training molecules and labels in order;
    ``device``: the device type, as CPU and GPU arithmetic differ; ``trainer_version``: the version of the
    code that trains it)."""

    dataset: str
    data_sha256: str
    subsample: int | None
    split: str
    split_seed: int
    checkpoint_sha256: str | None
    model: dict
    lr: float
    batch_size: int
    weight_decay: float
    loss_convention: str
    seed: int
    seed_index: int = 0
    start: str = "pretrained"
    device: str = "cpu"
    trainer_version: int = 1  # ``benchmark.selection.warmup_training.WARMUP_TRAINER_VERSION``

    def __post_init__(self) -> None:
        if self.start not in WARMUP_STARTS:
            raise ValueError(f"warm-up start must be one of {WARMUP_STARTS}, got {self.start!r}")
        if self.seed_index < 0:
            raise ValueError(f"warm-up seed_index must be >= 0, got {self.seed_index}")

    @classmethod
    def of(cls, config: Any, data_sha256: str, checkpoint_sha256: str | None, model: dict, seed_index: int = 0,
           start: str = "pretrained", device: str = "cpu", trainer_version: int = 1) -> WarmupKey:
        """The key of warm-up run ``seed_index`` of run ``config`` (a ``RunConfig``): the config's data,
        split and fine-tuning settings, with what the run derived (its training rows' hash, the encoder's
        hash, the model's description)."""
        return cls(config.dataset, data_sha256, config.subsample, config.split, config.split_seed, checkpoint_sha256,
                   model, config.lr, config.batch_size, config.weight_decay, config.loss_convention, config.seed,
                   seed_index, start, device, trainer_version)

    def digest(self) -> str:
        text = json.dumps(dataclasses.asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class EpochResult:
    """What one warm-up epoch leaves behind."""

    model_state: dict
    optimizer_state: dict
    correct: np.ndarray | None  # bool [N, T], None when not defined (regression)
    seconds: float


# trains epochs start+1..end from (model_state, optimizer_state) of epoch ``start`` (None, None: from scratch)
Trainer = Callable[[int, int, dict | None, dict | None], Iterator[EpochResult]]


@dataclass(frozen=True)
class WarmupArtefact:
    """A read-only view of a cached warm-up run of ``epochs`` epochs."""

    folder: Path
    epochs: int
    seconds: tuple[float, ...]  # training seconds of each epoch
    correct_shape: tuple[int, int] | None

    def model_state(self, epoch: int) -> dict:
        self._check(epoch)
        return load_verified(self._snapshot(epoch), _load)

    def correctness(self, epoch: int) -> np.ndarray:
        self._check(epoch)
        if self.correct_shape is None:
            raise ValueError(f"warm-up {self.folder.name} recorded no correctness (regression task)")
        n, t = self.correct_shape
        packed = load_verified(self._correct(epoch), self._load_packed)
        return np.unpackbits(packed, count=n * t).astype(bool).reshape(n, t)

    def optimizer_state(self) -> dict:
        """The optimizer state after the last epoch (to extend the run)."""
        return load_verified(self.folder / f"resume_{self.epochs:04d}.pt", _load)

    def verify(self, epochs: int) -> None:
        """Raise ``DamagedFile`` unless the files of epochs 1..``epochs`` match their sha256."""
        for epoch in range(1, epochs + 1):
            verify_file(self._snapshot(epoch), _load)
            if self.correct_shape is not None:
                verify_file(self._correct(epoch), self._load_packed)

    def _snapshot(self, epoch: int) -> Path:
        return self.folder / f"epoch_{epoch:04d}.pt"

    def _correct(self, epoch: int) -> Path:
        return self.folder / f"correct_{epoch:04d}.npy"

    def _load_packed(self, path: Path) -> np.ndarray:
        packed = np.load(path)
        n, t = self.correct_shape
        if packed.shape != ((n * t + 7) // 8,) or packed.dtype != np.uint8:
            raise ValueError(f"packed correctness of shape {packed.shape} {packed.dtype}, expected "
                             f"({(n * t + 7) // 8},) uint8")
        return packed

    def cost(self, epochs: int) -> float:
        """Training seconds of the first ``epochs`` epochs."""
        self._check(epochs)
        return float(sum(self.seconds[:epochs]))

    def _check(self, epoch: int) -> None:
        if not 1 <= epoch <= self.epochs:
            raise ValueError(f"warm-up {self.folder.name} has epochs 1..{self.epochs}, asked for {epoch}")


@dataclass(frozen=True)
class Fetched:
    """The artefact and what this call did: epochs trained here, their seconds, seconds spent waiting."""

    artefact: WarmupArtefact
    epochs_trained: int
    seconds_trained: float
    seconds_waited: float


class WarmupCache:
    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else default_cache_dir() / "warmups"

    def folder(self, key: WarmupKey) -> Path:
        return self.root / key.digest()

    def load(self, key: WarmupKey) -> WarmupArtefact | None:
        """The artefact its manifest describes, None without one; ``DamagedFile`` for a bad manifest."""
        manifest = self.folder(key) / "manifest.json"
        if not manifest.is_file():
            return None
        try:
            data = json.loads(manifest.read_text())
            shape = data.get("correct_shape")
            artefact = WarmupArtefact(self.folder(key), int(data["epochs"]), tuple(float(s) for s in data["seconds"]),
                                      tuple(int(d) for d in shape) if shape else None)
        except FileNotFoundError:  # replaced by a repair since is_file
            return None
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            raise DamagedFile(manifest, f"not a warm-up manifest ({type(exc).__name__}: {exc})") from None
        if len(artefact.seconds) != artefact.epochs or artefact.epochs < 1 or (shape and len(shape) != 2):
            raise DamagedFile(manifest, f"not a warm-up manifest ({artefact.epochs} epochs, "
                                        f"{len(artefact.seconds)} times, correct_shape {shape})")
        return artefact

    def fetch(self, key: WarmupKey, epochs: int, trainer: Trainer) -> Fetched:
        """The artefact of ``key`` with at least ``epochs`` epochs, verified, training (or extending, or
        repairing) it when needed."""
        if epochs < 1:
            raise ValueError(f"warm-up epochs must be >= 1, got {epochs}")
        try:
            found = self._verified(key, epochs)
        except DamagedFile:
            found = None  # repaired under the lock (after another process may have done it)
        if found is not None and found.epochs >= epochs:
            return Fetched(found, 0, 0.0, 0.0)
        folder = self.folder(key)
        t0 = time.perf_counter()
        with _exclusive(folder / ".lock"):
            waited = time.perf_counter() - t0
            try:
                found = self._verified(key, epochs)  # another process may have trained it while we waited
                if found is not None and found.epochs >= epochs:
                    return Fetched(found, 0, 0.0, waited)
                start = (found.model_state(found.epochs), found.optimizer_state()) if found else (None, None)
            except DamagedFile as damage:
                set_aside(damage, folder, "training the warm-up again")
                stale = [folder / "manifest.json", *folder.glob("resume_*.pt"), *folder.glob("resume_*.pt.sha256")]
                for path in stale:  # from scratch: see the module docstring
                    path.unlink(missing_ok=True)
                found, start = None, (None, None)
            write_text_atomic(folder / "key.json", json.dumps(dataclasses.asdict(key), indent=1, sort_keys=True))
            done = found.epochs if found else 0
            seconds = list(found.seconds) if found else []
            shape = found.correct_shape if found else None
            for epoch, result in enumerate(trainer(done, epochs, *start), start=done + 1):
                save_verified(folder / f"epoch_{epoch:04d}.pt", partial(torch.save, result.model_state))
                if result.correct is not None:
                    shape = tuple(result.correct.shape)
                    packed = np.packbits(result.correct.reshape(-1))
                    save_verified(folder / f"correct_{epoch:04d}.npy", partial(_save_npy, packed))
                save_verified(folder / f"resume_{epoch:04d}.pt", partial(torch.save, result.optimizer_state))
                seconds.append(result.seconds)
                manifest = {"epochs": epoch, "seconds": seconds, "correct_shape": shape,
                            "written_by": {"pid": os.getpid(), "host": platform.node()}}
                write_text_atomic(folder / "manifest.json", json.dumps(manifest, indent=1))
                for old in (f"resume_{epoch - 1:04d}.pt", f"resume_{epoch - 1:04d}.pt.sha256"):
                    (folder / old).unlink(missing_ok=True)
            artefact = self.load(key)
        if artefact is None or artefact.epochs < epochs:
            raise RuntimeError(f"warm-up trainer stopped before epoch {epochs} for {folder}")
        return Fetched(artefact, epochs - done, float(sum(seconds[done:epochs])), waited)

    def _verified(self, key: WarmupKey, epochs: int) -> WarmupArtefact | None:
        found = self.load(key)
        if found is not None:
            found.verify(min(epochs, found.epochs))
        return found


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        if not _try_lock(handle):
            log.info("warm-up %s is being trained by %s; waiting", path.parent.name, _holder(path))
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()} {platform.node()}\n")
            handle.flush()
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _try_lock(handle) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _holder(path: Path) -> str:
    try:
        return path.read_text().strip() or "another process"
    except OSError:
        return "another process"


def _save_npy(array: np.ndarray, handle) -> None:
    np.save(handle, array)


def _load(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)
