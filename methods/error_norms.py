"""GraNd and EL2N (Paul et al., NeurIPS 2021; docs/methods/static-scores.md#grand,
docs/methods/static-scores.md#el2n): keep the samples with the largest early-training error, scored with the
warm-up model and averaged over ``repeats`` warm-up runs.

GraNd: ‖g_i‖ of the last layer (bias + weight) = ‖e_i‖·sqrt(1 + ‖h_i‖²), as DeepCore/MolPeg (the paper's
full-parameter norm is not implemented). EL2N: ‖e_i‖₂ = sqrt(Σ_t m_it (p_it − y_it)²) over valid tasks,
optionally divided by sqrt(#valid tasks). Regression: e = ŷ − y (the MSE gradient), recorded as adapted.
GraNd-4 and GraNd-20 are one class with different default warm-up lengths.

GraNd's ``score_alignment="official_shuffled"`` writes each warm-up run's norms by shuffled-loader position
as the official MolPeg code does (``methods.alignment``: its top-k is then a random subset); each warm-up
run has a loader draw of its own. The code bundle (``--fidelity code``) is that code's GraNd: a warm-up from
a fresh initialisation (its EarlyTrain builds a new GNN) and the shuffled attribution. EL2N has no reference
implementation in either code base, hence no bundle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from molpeg_bench.methods.alignment import AlignmentOptions
from molpeg_bench.methods.base import Requirements
from molpeg_bench.methods.last_layer import gradient_norms
from molpeg_bench.methods.registry import register
from molpeg_bench.methods.scored import ScoredPruner, WarmupOptions, check_task_type, label_mask


@dataclass(frozen=True)
class RepeatOptions(WarmupOptions):
    repeats: int = 1  # warm-up runs averaged (MolPeg 1; the paper and DeepCore 10)


@dataclass(frozen=True)
class GraNdOptions(AlignmentOptions, RepeatOptions):
    """GraNd's options: the warm-up runs averaged (as EL2N's) and the official code's attribution."""


@dataclass(frozen=True)
class GraNd4Options(GraNdOptions):
    warmup_epochs: int = 4


@dataclass(frozen=True)
class EL2NOptions(RepeatOptions):
    normalize_by_valid: bool = False  # divide by sqrt(#valid tasks) so sparsely labelled molecules are not "easy"


class _ErrorNorm(ScoredPruner):
    """Average over warm-up runs of a per-sample norm of the last-layer factors; keep the highest."""

    requires = Requirements(needs_last_layer_grads=True)

    def norm(self, e: np.ndarray, ht: np.ndarray, valid: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def score(self, ctx) -> tuple[np.ndarray, dict]:
        if self.options.repeats < 1:
            raise ValueError(f"{self.name}: repeats must be >= 1, got {self.options.repeats}")
        regression = check_task_type(ctx, self.name)
        valid = label_mask(ctx.labels)
        total = np.zeros(ctx.n_samples)
        for seed_index in range(self.options.repeats):
            model = self.warmup_model(ctx, seed_index)
            e, ht = ctx.last_layer_factors(model)
            total += self.attributed(self.norm(np.where(valid, e, 0.0), ht, valid), draw=seed_index)
        adapted = "regression: MSE-gradient error e = ŷ − y" if regression else None
        return total / self.options.repeats, {"adapted": adapted}


@register("grand_20")
class GraNd(_ErrorNorm):
    Options = GraNdOptions
    code_options = {"warmup_start": "random", "score_alignment": "official_shuffled"}
    code_reference = "official MolPeg code: pruning/deepcore/methods/grand.py"

    def norm(self, e, ht, valid):
        return gradient_norms(e, ht)


@register("grand_4")
class GraNd4(GraNd):
    Options = GraNd4Options


@register("el2n_20")
class EL2N(_ErrorNorm):
    Options = EL2NOptions
    code_reference = None  # neither the official MolPeg code nor DeepCore ships EL2N

    def norm(self, e, ht, valid):
        norms = np.sqrt(np.einsum("it,it->i", e, e, dtype=np.float64))
        if self.options.normalize_by_valid:
            norms /= np.sqrt(np.maximum(valid.sum(axis=1), 1))
        return norms
