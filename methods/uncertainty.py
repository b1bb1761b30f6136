"""Least Confidence and Entropy (Coleman et al., ICLR 2020; docs/methods/static-scores.md#uncertainty), MolPeg's
binary multi-task adaptation: label-free sums over all T heads of the warm-up model; keep the highest.

LC: Σ_t 1 − max(p_t, 1 − p_t). Entropy: Σ_t H(p_t), H(p) = −p log(p+1e-6) − (1−p) log(1−p+1e-6).
``direction="deepcore"`` reproduces DeepCore's unbalanced branch, which keeps the *most* confident /
lowest-entropy samples. Regression (adapted): both become the MC-dropout predictive standard deviation
(dropout active, BatchNorm frozen, ``mc_passes`` forward passes), summed over targets; keep the highest.

``score_alignment="official_shuffled"`` appends the scores in a shuffled loader's order, as the official
MolPeg code does (``methods.alignment``: its top-k is then a random subset). The code bundle
(``--fidelity code``) is that code's Least Confidence / Entropy: a warm-up from a fresh initialisation (its
EarlyTrain builds a new GNN) and the shuffled attribution; it keeps the least confident, as the default
``direction="paper"`` does (its ``argsort(scores)[::-1]``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from torch import nn

from molpeg_bench.methods.alignment import AlignmentOptions
from molpeg_bench.methods.base import Requirements
from molpeg_bench.methods.options import choice
from molpeg_bench.methods.registry import register
from molpeg_bench.methods.scored import ScoredPruner, WarmupOptions, check_task_type


@dataclass(frozen=True)
class UncertaintyOptions(AlignmentOptions, WarmupOptions):
    # "paper": keep the least confident; "deepcore": keep the most confident
    direction: str = choice("paper", "paper", "deepcore")
    mc_passes: int = 10  # regression only: MC-dropout passes


class MCDropout(nn.Module):
    """Wraps a model so that ``eval()`` keeps dropout active while BatchNorm uses its running statistics."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def train(self, mode: bool = True) -> MCDropout:
        self.model.train(True)
        for module in self.model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.eval()
        return self

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            return getattr(self.model, name)

    def forward(self, *args, **kwargs):
        return self.model(*args, **kwargs)


def mc_dropout_std(ctx, model: nn.Module, passes: int) -> np.ndarray:
    """[N] Σ_t std over ``passes`` dropout-active predictions."""
    if passes < 2:
        raise ValueError(f"mc_passes must be >= 2, got {passes}")
    wrapped = MCDropout(model)
    preds = np.stack([ctx.logits(wrapped) for _ in range(passes)])
    return preds.std(axis=0).sum(axis=1)


class _Uncertainty(ScoredPruner):
    Options = UncertaintyOptions
    requires = Requirements(needs_logits=True)
    code_options = {"warmup_start": "random", "score_alignment": "official_shuffled"}
    code_reference = "official MolPeg code: pruning/deepcore/methods/uncertainty.py"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.keep_highest = self.options.direction == "paper"

    @staticmethod
    def per_head(p: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def score(self, ctx) -> tuple[np.ndarray, dict]:
        model = self.warmup_model(ctx)
        if check_task_type(ctx, self.name):
            return (self.attributed(mc_dropout_std(ctx, model, self.options.mc_passes)),
                    {"adapted": f"regression: MC-dropout predictive std over {self.options.mc_passes} passes"})
        p = 1.0 / (1.0 + np.exp(-ctx.logits(model).astype(np.float64)))
        return self.attributed(self.per_head(p).sum(axis=1)), {"adapted": None}


@register("least_confidence")
class LeastConfidence(_Uncertainty):
    @staticmethod
    def per_head(p):
        return 1.0 - np.maximum(p, 1.0 - p)


@register("entropy")
class Entropy(_Uncertainty):
    @staticmethod
    def per_head(p):
        return -p * np.log(p + 1e-6) - (1.0 - p) * np.log(1.0 - p + 1e-6)
