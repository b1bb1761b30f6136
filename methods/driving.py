"""The order of calls that drives a dynamic pruner through training, written once.

Per epoch: ``plan_epoch`` (the subset and its weights) -> per batch: the online forward, the reference
forward when the method has one, ``observe`` with the detached per-sample losses, the optimizer step,
``after_step`` (e.g. MolPeg's EMA update) -> after the epoch, ``score_pass`` with every sample's loss when
the method asks for one. The suite's fine-tuning run, ``check-method`` and a loop of your own all use
``PrunerDriver``; the suite's run guards each call and checks each plan by overriding ``plan`` and
``trained``. With ``pruner=None`` the driver trains a given plan with no method calls (a static selection,
a warm-up run).

    driver = PrunerDriver(pruner)
    def forward(idx):
        return BatchForward(loss_fn(model(x[idx]), y[idx]), x[idx], lambda out: loss_fn(out, y[idx]))
    def step(idx, w, fwd):
        (fwd.losses * torch.as_tensor(w)).mean().backward(); optimizer.step(); optimizer.zero_grad()
    for epoch in range(1, epochs + 1):
        driver.epoch(epoch, lambda plan: driver.train_batches(plan.batches(256), forward, step, model),
                     lambda: loss_fn(model(x), y))
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import torch
from torch import nn

from molpeg_bench.methods.base import EpochPlan

T = TypeVar("T")


@dataclass
class BatchForward:
    """One batch's online forward: per-sample ``losses`` (with their graph), the ``inputs`` a reference model
    takes, ``loss_of(outputs)`` the per-sample losses of any model's outputs on them, and the online
    ``outputs`` themselves (for a caller's own bookkeeping)."""

    losses: torch.Tensor
    inputs: Any
    loss_of: Callable[[torch.Tensor], torch.Tensor]
    outputs: Any = None


def _unguarded(call: str) -> contextlib.AbstractContextManager:
    return contextlib.nullcontext()


class PrunerDriver:
    """Drives ``pruner`` (a ``DynamicPruner``, or None) in the one order of calls above. ``call(name)`` is a
    context manager around each call into the method (default: none)."""

    def __init__(self, pruner: Any = None, call: Callable[[str], contextlib.AbstractContextManager] = _unguarded):
        self.pruner, self.call = pruner, call

    def plan(self, epoch: int) -> EpochPlan:
        """The epoch's plan, as trained."""
        with self.call(f"plan_epoch({epoch})"):
            return self.pruner.plan_epoch(epoch)

    def trained(self, epoch: int, plan: EpochPlan) -> None:
        """After the epoch's batches, before the score pass (the run checks the plan was left unchanged)."""

    def train_batches(self, batches: Iterable[tuple[np.ndarray, np.ndarray]],
                      forward: Callable[[np.ndarray], BatchForward],
                      step: Callable[[np.ndarray, np.ndarray, BatchForward], None], model: nn.Module) -> None:
        """Per batch: ``forward(positions)``, the method's reference forward and ``observe``, ``step(positions,
        weights, forward)`` (backward and optimizer step), the method's ``after_step``."""
        pruner = self.pruner
        for positions, weights in batches:
            online = forward(positions)
            if pruner is not None:
                reference = None
                if pruner.needs_reference:
                    with torch.no_grad():
                        with self.call("reference_forward()"):
                            outputs = pruner.reference_forward(online.inputs)
                        reference = online.loss_of(outputs)
                with self.call("observe()"):
                    pruner.observe(positions, online.losses.detach(), reference)
            step(positions, weights, online)
            if pruner is not None:
                with self.call("after_step()"):
                    pruner.after_step(model)

    def score_pass(self, losses_of_all: Callable[[], torch.Tensor]) -> None:
        """Every sample's loss (no gradients) handed to ``score_pass``, when the method asks for one."""
        if self.pruner is None:
            return
        with self.call("needs_score_pass"):
            needed = bool(self.pruner.needs_score_pass)
        if needed:
            with torch.no_grad():
                losses = losses_of_all()
            with self.call("score_pass()"):
                self.pruner.score_pass(np.arange(len(losses)), losses)

    def epoch(self, epoch: int, train: Callable[[EpochPlan], T],
              losses_of_all: Callable[[], torch.Tensor]) -> tuple[EpochPlan, T]:
        """One epoch in order: plan, ``train(plan)`` (which calls ``train_batches``), ``trained``, score pass."""
        plan = self.plan(epoch)
        result = train(plan)
        self.trained(epoch, plan)
        self.score_pass(losses_of_all)
        return plan, result
