"""Training the warm-up run of static methods: fine-tune a copy on the full training set, epoch by
epoch, recording each sample's correctness at its presentation (Forgetting's training dynamics).

Every epoch draws its order and its dropout from seeds derived from (run seed, warm-up seed index,
epoch), inside ``torch.random.fork_rng``: the run's own random stream is untouched (a run that reuses a
cached warm-up computes what a run that trained it computes), and a run extended from its epoch-4
state continues exactly as an uninterrupted one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from molpeg_bench.benchmark.data.graph_store import GraphStore
from molpeg_bench.benchmark.selection.warmup_cache import EpochResult
from molpeg_bench.benchmark.tasks import BinaryTask
from molpeg_bench.benchmark.training import train_epoch
from molpeg_bench.methods.base import shuffled_plan

# bump when a change here (order, seeding, correctness, loss) changes what a warm-up run computes: it is
# part of every ``WarmupKey``, so cached runs of the old code are never reused
WARMUP_TRAINER_VERSION = 1


@dataclass(frozen=True)
class WarmupSetup:
    """The data and hyper-parameters of a warm-up run (the same as the run's fine-tuning)."""

    store: GraphStore
    train_idx: np.ndarray
    batch_size: int
    lr: float
    weight_decay: float
    convention: str
    device: torch.device
    task_type: str = "binary"
    task: Any = None  # the run's task (benchmark.tasks); None: binary classification with ``convention``

    def run_task(self) -> Any:
        return self.task if self.task is not None else BinaryTask(convention=self.convention)


def warmup_seed(seed: int, seed_index: int, epoch: int = 0) -> int:
    """Seed of warm-up run ``seed_index`` of run seed ``seed`` (epoch 0: initialisation)."""
    return int(np.random.SeedSequence([seed, 7919, seed_index, epoch]).generate_state(1)[0])


def binary_correct(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """[B, T] bool: σ(z) >= 0.5 ⇔ label 1, False where the label is missing."""
    return ((logits >= 0) == (y == 1)) & ~torch.isnan(y)


def train_warmup(setup: WarmupSetup, make_model: Callable[[], nn.Module], seed: int, seed_index: int,
                 start: int, end: int, model_state: dict | None = None,
                 optimizer_state: dict | None = None) -> Iterator[EpochResult]:
    """Epochs ``start + 1 .. end`` of the warm-up, from the state after epoch ``start`` (``start`` = 0:
    a model fresh from ``make_model``). Each yielded state is valid until the next epoch starts."""
    n, num_tasks = len(setup.train_idx), setup.store.num_tasks
    devices = [setup.device] if setup.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices, device_type=setup.device.type):
        torch.manual_seed(warmup_seed(seed, seed_index))
        model = make_model()
        if model_state is not None:
            model.load_state_dict(model_state)
        optimizer = torch.optim.Adam(model.parameters(), lr=setup.lr, weight_decay=setup.weight_decay)
        if optimizer_state is not None:
            optimizer.load_state_dict(optimizer_state)
        for epoch in range(start + 1, end + 1):
            torch.manual_seed(warmup_seed(seed, seed_index, epoch))
            plan = shuffled_plan(np.random.default_rng(warmup_seed(seed, seed_index, epoch)), np.arange(n))
            correct = np.zeros((n, num_tasks), dtype=bool) if setup.task_type == "binary" else None

            def record(positions: np.ndarray, logits: torch.Tensor, y: torch.Tensor, out=correct) -> None:
                out[positions] = binary_correct(logits, y).cpu().numpy()

            t0 = time.perf_counter()
            train_epoch(model, optimizer, setup.store, setup.train_idx, plan, setup.batch_size, setup.run_task(),
                        setup.device, on_batch=None if correct is None else record)
            seconds = time.perf_counter() - t0
            state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
            yield EpochResult(state, optimizer.state_dict(), correct, seconds)
