"""The fit loop of a run: one epoch after another (train the epoch's plan through the method's driver,
evaluate valid and test, keep the best), with the per-epoch concerns (progress line, epoch checkpoint) as
hooks called after each epoch.

The reported test metric is the one at the epoch with the best validation metric (strict improvement,
first best wins); every epoch is evaluated.
"""

from __future__ import annotations

import logging
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from molpeg_bench.benchmark.config import PER_STEP_SCHEDULES
from molpeg_bench.benchmark.models.gin_inference import evaluation_logits
from molpeg_bench.benchmark.pruner_calls import RunDriver
from molpeg_bench.benchmark.resume import EpochCheckpoint, LoopState
from molpeg_bench.benchmark.run_prepare import Prepared
from molpeg_bench.benchmark.tasks import improves, make_scheduler
from molpeg_bench.benchmark.training import predict, train_epoch
from molpeg_bench.methods.base import Selection

log = logging.getLogger(__name__)


@dataclass
class Fit:
    """The loop's state: what trains, and what it has trained so far (restored from an epoch checkpoint
    when the run resumes); ``started`` holds where this process took over (epoch, earlier seconds, resumes)."""

    prep: Prepared
    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any
    pruner: Any
    driver: RunDriver
    selection: Selection | None
    context: dict
    timings: dict
    t_start: float
    started: LoopState = field(default_factory=LoopState)
    epochs: list[dict] = field(default_factory=list)
    best: dict = field(default_factory=lambda: {"epoch": -1, "valid": None, "test": math.nan})
    visits: int = 0

    @property
    def per_step(self) -> bool:
        return self.prep.config.lr_schedule in PER_STEP_SCHEDULES

    def elapsed(self) -> float:
        return self.started.elapsed + time.perf_counter() - self.t_start

    def loop_state(self, epoch: int) -> LoopState:
        return LoopState(epoch, self.epochs, self.best, self.visits, self.timings, self.elapsed(), self.selection,
                         self.context, self.started.resumed_from)


# called after each epoch with the loop, that epoch's row and its seconds
EpochHook = Callable[[Fit, dict, float], None]


def start_fit(prep: Prepared, model: nn.Module, pruner: Any, selection: Selection | None, context: dict,
              timings: dict, t_start: float, resume: EpochCheckpoint | None, saved: dict | None) -> Fit:
    """The optimizer and schedule; with ``saved`` (an epoch checkpoint's payload) the loop where it stopped."""
    config = prep.config
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    fit = Fit(prep, model, optimizer, make_scheduler(config, optimizer), pruner,
              RunDriver(pruner, selection, len(prep.split.train)), selection, context, timings, t_start)
    if saved is not None:
        state = fit.started = resume.restore(saved, model, optimizer, pruner)
        fit.epochs, fit.best, fit.visits, fit.timings = state.epochs, state.best, state.visits, state.timings
        done = (sum(math.ceil(e["n_trained"] / config.batch_size) for e in fit.epochs) if fit.per_step
                else state.epoch)
        for _ in range(done if fit.scheduler is not None else 0):  # the schedule where it stopped
            fit.scheduler.step()
    return fit


def run_fit(fit: Fit, hooks: Sequence[EpochHook]) -> None:
    """Epochs after the last one done up to the config's, each followed by ``hooks``; then the total time."""
    for epoch in range(fit.started.epoch + 1, fit.prep.config.epochs + 1):
        t0 = time.perf_counter()
        row = fit_epoch(fit, epoch)
        for hook in hooks:
            hook(fit, row, time.perf_counter() - t0)
    fit.timings["total"] = fit.elapsed()


def fit_epoch(fit: Fit, epoch: int) -> dict:
    """Train epoch ``epoch`` (plan, batches, score pass: ``RunDriver``), evaluate it, keep the best; its row."""
    prep, timings = fit.prep, fit.timings
    t0 = time.perf_counter()
    after_step = fit.scheduler.step if fit.per_step else None
    plan, stats = fit.driver.epoch(
        epoch, lambda plan: train_epoch(fit.model, fit.optimizer, prep.store, prep.split.train, plan,
                                        prep.config.batch_size, prep.task, prep.device, fit.driver,
                                        after_step=after_step),
        lambda: training_losses(fit))
    timings["training"] += stats.seconds_training
    timings["scoring"] += time.perf_counter() - t0 - stats.seconds_training  # plan, method calls, score pass
    fit.visits += stats.visits
    t0 = time.perf_counter()
    scores = {name: evaluate(fit, idx) for name, idx in (("valid", prep.split.valid), ("test", prep.split.test))}
    timings["evaluation"] += time.perf_counter() - t0
    row = {"epoch": epoch, "train_loss": stats.mean_loss, "n_trained": stats.visits,
           "valid": scores["valid"], "test": scores["test"], **plan.info}
    fit.epochs.append(row)
    if improves(prep.task, scores["valid"], fit.best["valid"]):
        fit.best = {"epoch": epoch, "valid": scores["valid"], "test": scores["test"]}
    if fit.scheduler is not None:  # the rate in effect at the epoch's end (per epoch: the one it trained with)
        row["lr"] = fit.optimizer.param_groups[0]["lr"]
        if not fit.per_step:
            fit.scheduler.step()
    return row


def evaluate(fit: Fit, indices) -> float:
    prep = fit.prep
    logits = predict(fit.model, prep.store, indices, prep.config.eval_batch_size, prep.device, fn=evaluation_logits)
    return prep.task.score(prep.store.y[torch.as_tensor(indices)].numpy(), logits)


def training_losses(fit: Fit) -> torch.Tensor:
    """Per-sample training losses of every training sample (eval mode), for a method's score pass."""
    prep = fit.prep
    logits = torch.from_numpy(predict(fit.model, prep.store, prep.split.train, prep.config.eval_batch_size,
                                      prep.device))
    return prep.task.per_sample_loss(logits, prep.store.y[torch.as_tensor(prep.split.train)])


class Progress:
    """Hook: the progress bar (on a terminal) and one log line per epoch."""

    def __init__(self, fit: Fit):
        config = fit.prep.config
        self.label = f"{config.dataset}/{config.method}/{config.prune_ratio:g}"
        self.bar = tqdm(total=config.epochs - fit.started.epoch, desc=self.label, disable=not sys.stderr.isatty(),
                        leave=False)

    def __call__(self, fit: Fit, row: dict, seconds: float) -> None:
        self.bar.update(1)
        self.bar.set_postfix(valid=f"{row['valid']:.3f}", test=f"{row['test']:.3f}")
        log.info("%s epoch %d/%d: train loss %.4f, valid %s %.4f, test %.4f, kept %.3f, %.1f s", self.label,
                 row["epoch"], fit.prep.config.epochs, row["train_loss"], fit.prep.task.metric, row["valid"],
                 row["test"], row["n_trained"] / max(1, len(fit.prep.split.train)), seconds)


class Checkpointing:
    """Hook: the loop's state saved to the run's epoch checkpoint after every epoch."""

    def __init__(self, resume: EpochCheckpoint):
        self.resume = resume

    def __call__(self, fit: Fit, row: dict, seconds: float) -> None:
        self.resume.save(fit.loop_state(row["epoch"]), fit.model, fit.optimizer, fit.pruner)
