"""Loss-proportional sampling: a dynamic method that trains, every epoch, the samples it has not seen yet
and then a draw of the others with probability proportional to their latest training loss.

It uses only the suite's public pieces (``DynamicPruner``, ``shuffled_plan``, typed ``Options``), so every
command of the suite can run it: ``--method my_pruner`` once this package is installed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from molpeg_bench.methods.base import DynamicPruner, EpochPlan, shuffled_plan
from molpeg_bench.methods.options import bounded


@dataclass(frozen=True)
class LossProportionalOptions:
    temperature: float = bounded(1.0, 0.01, 100.0)  # p_i ∝ loss_i ** (1 / temperature)


class LossProportional(DynamicPruner):
    Options = LossProportionalOptions

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss = np.full(self.n_samples, np.nan)  # latest training loss of each sample, NaN = unseen

    def rotation_epochs(self) -> int:
        return -(-self.n_samples // self.k)  # the unseen come first: all are trained within ceil(N / k) epochs

    def observe(self, indices: np.ndarray, losses: torch.Tensor, ref_losses: torch.Tensor | None = None) -> None:
        self.loss[np.asarray(indices)] = losses.detach().double().cpu().numpy()

    def plan_epoch(self, epoch: int) -> EpochPlan:
        rng = self.epoch_rng(epoch)
        unseen = np.flatnonzero(np.isnan(self.loss))
        if len(unseen) >= self.k:
            kept = rng.choice(unseen, self.k, replace=False)
        else:
            seen = np.flatnonzero(~np.isnan(self.loss))
            p = np.maximum(self.loss[seen], 1e-12) ** (1.0 / self.options.temperature)
            kept = np.concatenate([unseen, rng.choice(seen, self.k - len(unseen), replace=False, p=p / p.sum())])
        return shuffled_plan(rng, kept, 1.0 / self.keep_ratio)

    def state_dict(self) -> dict:
        return {"loss": self.loss.copy()}

    def load_state_dict(self, state: dict) -> None:
        self.loss = np.asarray(state["loss"], dtype=np.float64).copy()
