"""Soft Random (dynamic): a fresh uniform subset of k samples every epoch (Raju et al.).

``replace=True`` reproduces the official MolPeg ``random`` mode, which draws with replacement and so
visits only about N·(1 - e^-r) distinct molecules per epoch (with ``epoch_seeding="legacy"`` the very
draws of its ``np.random.randint``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from molpeg_bench.methods.base import EPOCH_SEEDING, DynamicPruner, EpochPlan, shuffled_plan
from molpeg_bench.methods.options import choice
from molpeg_bench.methods.registry import register


@dataclass(frozen=True)
class SoftRandomOptions:
    replace: bool = False  # True: draw with replacement (official MolPeg code)
    # "epoch_only": subsets seeded by the epoch alone (code); "legacy": the code's own numpy stream
    epoch_seeding: str = choice("run", *EPOCH_SEEDING)


@register("soft_random")
class SoftRandom(DynamicPruner):
    Options = SoftRandomOptions
    code_options = {"replace": True, "epoch_seeding": "legacy"}
    code_reference = "official MolPeg code: pruning/molpeg.py (random mode)"

    @property
    def draws_with_replacement(self) -> bool:
        return self.options.replace

    def plan_epoch(self, epoch: int) -> EpochPlan:
        rng = self.epoch_rng(epoch)
        if self.options.replace:
            draw = rng.randint if isinstance(rng, np.random.RandomState) else rng.integers
            indices = draw(0, self.n_samples, self.k)
        else:
            indices = rng.choice(self.n_samples, self.k, replace=False)
        return shuffled_plan(rng, indices, 1.0, kept_fraction=len(indices) / self.n_samples,
                             unique_fraction=len(np.unique(indices)) / self.n_samples)
