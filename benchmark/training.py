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
from molpeg_bench.benchmark.tasks import BinaryTask, Task
from molpeg_bench.methods.base import DynamicPruner, EpochPlan
from molpeg_bench.methods.guard import method_call


@dataclass
class EpochStats:
    mean_loss: float = 0.0
    visits: int = 0
    seconds_training: float = 0.0
    seconds_scoring: float = 0.0  # reference forward, observe, EMA: cost charged to the pruner
    extra: dict = field(default_factory=dict)


def train_epoch(model: nn.Module, optimizer: torch.optim.Optimizer, store: GraphStore, train_idx: np.ndarray,
                plan: EpochPlan, batch_size: int, convention: str, device: torch.device,
                pruner: DynamicPruner | None = None,
                on_batch: Callable[[np.ndarray, torch.Tensor, torch.Tensor], None] | None = None,
                task: Task | None = None, after_step: Callable[[], None] | None = None) -> EpochStats:
    """One pass over ``plan`` (positions in ``train_idx``), weighting each per-sample loss of ``task``
    (default: binary classification with ``convention``).

    Order per batch: online forward -> (reference forward) -> ``pruner.observe`` -> ``on_batch`` ->
    backward -> step -> ``after_step`` (a per-step learning-rate schedule) -> ``pruner.after_step``.
    A failure in the pruner's calls names it (``methods.guard``).
    """
    task = task if task is not None else BinaryTask(convention=convention)
    model.train()
    dtype = parameter_dtype(model)
    stats, loss_sum = EpochStats(), torch.zeros((), dtype=torch.float64, device=device)
    for positions, weights in plan.batches(batch_size):
        t0 = time.perf_counter()
        batch = store.batch(train_idx[positions]).to(device, dtype)
        logits = model(batch)
        losses = task.per_sample_loss(logits, batch.y)
        t1 = time.perf_counter()
        if pruner is not None:
            ref = None
            if pruner.needs_reference:
                with method_call(pruner.name, "reference_forward()"):
                    ref_logits = pruner.reference_forward(batch)
                ref = task.per_sample_loss(ref_logits, batch.y)
            with method_call(pruner.name, "observe()"):
                pruner.observe(positions, losses.detach(), ref)
        if on_batch is not None:
            on_batch(positions, logits.detach(), batch.y)
        t2 = time.perf_counter()
        loss = task.batch_loss(losses, torch.as_tensor(weights, dtype=losses.dtype, device=device), batch.y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if after_step is not None:
            after_step()
        t3 = time.perf_counter()
        if pruner is not None:
            with method_call(pruner.name, "after_step()"):
                pruner.after_step(model)
        t4 = time.perf_counter()
        stats.seconds_training += (t1 - t0) + (t3 - t2)
        stats.seconds_scoring += (t2 - t1) + (t4 - t3)
        stats.visits += len(positions)
        loss_sum += losses.detach().sum()  # summed on the device: no host synchronisation per batch
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
