"""Random (static, "hard random"): k indices uniformly without replacement, chosen once."""

from __future__ import annotations

from methods.base import Selection, StaticOptions, StaticPruner
from methods.registry import register


@register("random")
class RandomStatic(StaticPruner):
    Options = StaticOptions

    def coreset(self, ctx=None) -> Selection:
        rng = self.epoch_rng(0)
        return Selection(indices=rng.choice(self.n_samples, self.k, replace=False).astype("int64"))


@register("whole")
class WholeDataset(StaticPruner):
    """No pruning: the whole-dataset reference run (keep ratio 1)."""

    family = "whole"

    def coreset(self, ctx=None) -> Selection:
        return Selection(indices=self.epoch_rng(0).permutation(self.n_samples).astype("int64"))
