"""InfoBatch (Qin et al., ICLR 2024) without annealing, as in the MolPeg paper's Table 1.

Every sample's score is its last observed training loss. At the start of each epoch the
well-learned samples (score below the mean) are pruned at random with probability r; the kept
well-learned samples are weighted 1/(1-r) so the expected gradient is unchanged; all samples at or
above the mean are kept with weight 1.

``budget="nominal"`` (default) uses r = pruning ratio, as a drop-in use of the package would; the
realised pruned fraction r·|W|/N is then below the nominal ratio and is recorded per epoch.
``budget="matched"`` chooses r each epoch so that r·|W| = p·N; when that needs r above
``max_prune`` the candidate pool is enlarged to the lowest-loss samples (our extension, not
InfoBatch's).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from molpeg_bench.methods.base import DynamicPruner, EpochPlan, shuffled_plan
from molpeg_bench.methods.options import bounded, choice
from molpeg_bench.methods.registry import register


@dataclass(frozen=True)
class InfoBatchOptions:
    budget: str = choice("nominal", "nominal", "matched")  # "nominal" (r = p) or "matched" (r_e·|W_e| = p·N)
    initial_score: float = 3.0  # any constant: epoch 1 then trains on all data
    max_prune: float = bounded(0.9, 0.0, 0.99)  # r is clipped so that the keep probability 1 - r stays >= 0.1


@register("infobatch")
class InfoBatch(DynamicPruner):
    Options = InfoBatchOptions
    exact_budget = False  # prunes only among the below-mean-loss samples: more than k train in an epoch

    def rotation_epochs(self) -> int:
        return 1  # every unscored sample has initial_score: epoch 1 trains all data

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.options.budget not in ("nominal", "matched"):
            raise ValueError(f"infobatch budget must be 'nominal' or 'matched', got {self.options.budget!r}")
        self.scores = np.full(self.n_samples, self.options.initial_score, dtype=np.float64)

    def _pool_and_ratio(self) -> tuple[np.ndarray, float]:
        prune_target = 1.0 - self.keep_ratio
        below = self.scores < self.scores.mean() if self.keep_highest else self.scores > self.scores.mean()
        pool = np.flatnonzero(below)  # the well-learned samples, candidates for pruning
        if self.options.budget == "nominal":
            return pool, min(prune_target, self.options.max_prune)
        n_prune = prune_target * self.n_samples
        if n_prune > self.options.max_prune * len(pool):
            size = min(self.n_samples, math.ceil(n_prune / self.options.max_prune))
            pool = np.argsort(self.scores if self.keep_highest else -self.scores, kind="stable")[:size]
        ratio = min(self.options.max_prune, n_prune / len(pool)) if len(pool) else 0.0
        return pool, ratio

    def plan_epoch(self, epoch: int) -> EpochPlan:
        rng = self.epoch_rng(epoch)
        pool, ratio = self._pool_and_ratio()
        n_keep = int((1.0 - ratio) * len(pool))
        kept_from_pool = rng.choice(pool, n_keep, replace=False)
        rest = np.setdiff1d(np.arange(self.n_samples), pool, assume_unique=True)
        indices = np.concatenate([rest, kept_from_pool])
        weights = np.concatenate([np.ones(len(rest)), np.full(n_keep, 1.0 / (1.0 - ratio))])
        return shuffled_plan(rng, indices, weights, kept_fraction=len(indices) / self.n_samples,
                             well_learned_fraction=len(pool) / self.n_samples, prune_probability=ratio)

    def observe(self, indices: np.ndarray, losses: torch.Tensor, ref_losses: torch.Tensor | None = None) -> None:
        self.scores[np.asarray(indices)] = losses.detach().double().cpu().numpy()

    def state_dict(self) -> dict:
        return {"scores": self.scores.copy()}

    def load_state_dict(self, state: dict) -> None:
        self.scores = np.asarray(state["scores"], dtype=np.float64).copy()
