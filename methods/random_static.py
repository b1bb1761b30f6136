"""Random (static, "hard random"): k indices uniformly without replacement, chosen once."""

from __future__ import annotations

from dataclasses import dataclass

from molpeg_bench.methods.base import Selection, StaticOptions, StaticPruner
from molpeg_bench.methods.options import choice
from molpeg_bench.methods.registry import register


@dataclass(frozen=True)
class WholeOptions(StaticOptions):
    # "permutation": every sample every epoch in a fresh order; "molpeg": the official code's whole-data
    # run, MolPeg at keep ratio 1 (every sample, ordered by the code's sampler; the runner builds it)
    schedule: str = choice("permutation", "permutation", "molpeg")


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
    Options = WholeOptions
    code_options = {"schedule": "molpeg"}
    code_reference = "official MolPeg code: main.py, pruning/molpeg.py"

    def coreset(self, ctx=None) -> Selection:
        return Selection(indices=self.epoch_rng(0).permutation(self.n_samples).astype("int64"))
