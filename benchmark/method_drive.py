"""check-method's drive of a dynamic method: a small logistic model trained through the loop's own driver
(``methods.driving``), each epoch's plan recorded, and the loop's state saved and resumed mid-run."""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from molpeg_bench.methods import DynamicPruner, make_pruner
from molpeg_bench.methods.contract import ContractViolation, check_unchanged, frozen_plan
from molpeg_bench.methods.driving import BatchForward, PrunerDriver


class _LogisticModel(nn.Module):
    """A two-layer model with an ``encoder`` and a ``head``, as the suite's predictors."""

    def __init__(self, d: int = 4):
        super().__init__()
        self.encoder, self.head = nn.Linear(d, 8), nn.Linear(8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.tanh(self.encoder(x)))


@dataclass
class DrivenRun:
    """A dynamic method driven like the loop drives it; ``plans[e]`` = (indices, weights) of epoch e + 1 as
    ``plan_epoch`` returned them, ``rewrites`` the epochs whose plan the method changed while it trained."""

    pruner: DynamicPruner
    model: nn.Module
    optimizer: torch.optim.Optimizer
    plans: list = dataclasses.field(default_factory=list)
    rewrites: list = dataclasses.field(default_factory=list)


def _data(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=gen)
    y = ((x[:, :1] + 0.5 * torch.randn(n, 1, generator=gen)) > 0).float()
    return x, y


def _bce(outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return nn.functional.binary_cross_entropy_with_logits(outputs, y, reduction="none")[:, 0]


def _losses(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return _bce(model(x), y)


def start_run(name: str, options: dict, n: int, keep: float, epochs: int, seed: int = 0) -> DrivenRun:
    torch.manual_seed(seed)
    model = _LogisticModel()
    pruner = make_pruner(name, n_samples=n, keep_ratio=keep, seed=seed, options=options)
    pruner.setup(model, epochs=epochs)
    return DrivenRun(pruner, model, torch.optim.Adam(model.parameters(), lr=0.05))


class _CheckedDriver(PrunerDriver):
    """Trains a frozen copy of each plan and notes the epochs whose plan the method rewrote meanwhile."""

    def __init__(self, run: DrivenRun):
        super().__init__(run.pruner)
        self.run, self.returned = run, None

    def plan(self, epoch: int):
        self.returned = super().plan(epoch)
        return frozen_plan(self.returned)

    def trained(self, epoch: int, plan) -> None:
        self.run.plans.append((plan.indices, plan.weights))
        try:
            check_unchanged(self.returned, plan)
        except ContractViolation as exc:
            self.run.rewrites.append(f"plan_epoch({epoch}) returned {exc}")


def drive(run: DrivenRun, first: int, last: int, batch_size: int = 16) -> DrivenRun:
    """Epochs ``first`` .. ``last`` of the loop (``methods.driving``, the loop's order of calls; it trains a
    copy of each plan)."""
    x, y = _data(run.pruner.n_samples)
    driver = _CheckedDriver(run)

    def forward(idx) -> BatchForward:
        idx = np.asarray(idx)
        return BatchForward(_losses(run.model, x[idx], y[idx]), x[idx], lambda out: _bce(out, y[idx]))

    def step(idx, w, online: BatchForward) -> None:
        (online.losses * torch.as_tensor(np.asarray(w), dtype=online.losses.dtype)).mean().backward()
        run.optimizer.step()
        run.optimizer.zero_grad()

    for epoch in range(first, last + 1):
        driver.epoch(epoch, lambda plan: driver.train_batches(plan.batches(batch_size), forward, step, run.model),
                     lambda: _losses(run.model, x, y))
    return run


def resumed(name: str, options: dict, n: int, keep: float, epochs: int, after: int) -> DrivenRun:
    """Run ``after`` epochs, save the loop's state (pruner, model, optimizer), restore it into fresh objects
    as the loop's resume does, and run the remaining epochs."""
    first = drive(start_run(name, options, n, keep, epochs), 1, after)
    saved = copy.deepcopy({"pruner": first.pruner.state_dict(), "model": first.model.state_dict(),
                           "optimizer": first.optimizer.state_dict()})
    again = start_run(name, options, n, keep, epochs, seed=0)
    again.model.load_state_dict(saved["model"])
    again.optimizer.load_state_dict(saved["optimizer"])
    again.pruner.setup(again.model, epochs=epochs)
    again.pruner.load_state_dict(saved["pruner"])
    again.plans = list(first.plans)
    return drive(again, after + 1, epochs)
