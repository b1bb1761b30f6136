"""The pieces of the fine-tuning loop shared by the main run and the warm-up of static methods:
one training epoch over a plan, and batched eval-mode prediction."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from molpeg_bench.benchmark.data.graph_store import GraphBatch, GraphStore
from molpeg_bench.benchmark.tasks import Task
from molpeg_bench.methods.base import EpochPlan
from molpeg_bench.methods.driving import BatchForward, PrunerDriver


@dataclass
class EpochStats:
    mean_loss: float = 0.0
    visits: int = 0
    seconds_training: float = 0.0
    seconds_scoring: float = 0.0  # reference forward, observe, EMA: cost charged to the pruner
    extra: dict = field(default_factory=dict)


def train_epoch(model: nn.Module, optimizer: torch.optim.Optimizer, store: GraphStore, train_idx: np.ndarray,
                plan: EpochPlan, batch_size: int, task: Task, device: torch.device,
                driver: PrunerDriver | None = None,
                on_batch: Callable[[np.ndarray, torch.Tensor, torch.Tensor], None] | None = None,
                after_step: Callable[[], None] | None = None) -> EpochStats:
    """One pass over ``plan`` (positions in ``train_idx``), weighting each per-sample loss of ``task``.

    The batches go through ``driver`` (``methods.driving``: a dynamic method's reference forward, ``observe``
    and ``after_step`` around each step; default: no method calls). Per batch: online forward -> (the method's
    calls) -> ``on_batch`` -> backward -> step -> ``after_step`` (a per-step learning-rate schedule) -> (the
    method's ``after_step``).
    """
    driver = driver if driver is not None else PrunerDriver()
    model.train()
    dtype = parameter_dtype(model)
    stats, loss_sum = EpochStats(), torch.zeros((), dtype=torch.float64, device=device)

    def forward(positions: np.ndarray) -> BatchForward:
        t0 = time.perf_counter()
        batch = store.batch(train_idx[positions]).to(device, dtype)
        logits = model(batch)
        losses = task.per_sample_loss(logits, batch.y)
        stats.seconds_training += time.perf_counter() - t0
        return BatchForward(losses, batch, lambda outputs: task.per_sample_loss(outputs, batch.y), logits)

    def step(positions: np.ndarray, weights: np.ndarray, online: BatchForward) -> None:
        nonlocal loss_sum
        if on_batch is not None:
            on_batch(positions, online.outputs.detach(), online.inputs.y)
        t0 = time.perf_counter()
        losses = online.losses
        loss = task.batch_loss(losses, torch.as_tensor(weights, dtype=losses.dtype, device=device), online.inputs.y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if after_step is not None:
            after_step()
        stats.seconds_training += time.perf_counter() - t0
        stats.visits += len(positions)
        loss_sum += losses.detach().sum()  # summed on the device: no host synchronisation per batch

    t0 = time.perf_counter()
    driver.train_batches(plan.batches(batch_size), forward, step, model)
    # reference forward, observe, after_step: the method's cost, charged to its scoring
    stats.seconds_scoring = time.perf_counter() - t0 - stats.seconds_training
    stats.mean_loss = float(loss_sum) / max(1, stats.visits)
    return stats


@torch.inference_mode()
def predict(model: nn.Module, store: GraphStore, indices: np.ndarray, batch_size: int, device: torch.device,
            fn: Callable[[nn.Module, GraphBatch], torch.Tensor] | None = None) -> np.ndarray:
    """Eval-mode outputs of ``fn(model, batch)`` (default: logits) for ``indices``, in that order: float32, or
    float64 for a float64 model."""
    model.eval()
    fn = fn or (lambda m, b: m(b))
    dtype = parameter_dtype(model)
    outs = []
    for start in range(0, len(indices), batch_size):
        out = fn(model, store.batch(indices[start:start + batch_size]).to(device, dtype))
        outs.append(out.to(torch.promote_types(out.dtype, torch.float32)).cpu())
    return torch.cat(outs).numpy() if outs else np.zeros((0, 0), dtype=np.float32)


def parameter_dtype(model: nn.Module) -> torch.dtype:
    """The floating type of ``model``'s parameters (float32 when it has none), to which its inputs are cast."""
    return next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
