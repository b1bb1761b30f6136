"""Influence (Koh & Liang, ICML 2017), docs/methods/static-scores.md#influence, restricted to the last linear layer.

I_i = −ḡ_valᵀ H⁻¹ g_i: the first-order change of the mean validation loss when sample i is up-weighted
(removing i changes it by ≈ −I_i/N). Keep the lowest (most negative) I_i: the samples whose removal would
hurt validation most. H is the damped, task-block-diagonal Hessian of the mean training loss (see last_layer), so
H⁻¹ costs T inverses of size d+1 and the scores cost O(N·T·d); building H costs O(N·T·d²), so above
``hessian_samples`` rows it is estimated on a seeded random subset (an implementation choice).
``variant="self"`` scores g_iᵀH⁻¹g_i and keeps the highest (self-influence, mentioned as an alternative).
``validation="train"`` uses the mean training gradient in place of the validation gradient (DeepCore's
default for ``dst_val``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from molpeg_bench.methods.base import Requirements
from molpeg_bench.methods.last_layer import (
    CHUNK,
    apply_blocks,
    check_factors,
    hessian_weights,
    inverse_task_hessians,
    project,
    weighted_gradient_sum,
)
from molpeg_bench.methods.options import choice
from molpeg_bench.methods.registry import register
from molpeg_bench.methods.scored import ScoredPruner, WarmupOptions, check_task_type, label_mask


@dataclass(frozen=True)
class InfluenceOptions(WarmupOptions):
    damping: float = 0.01  # λ added to each (mean-loss) Hessian block
    # "validation" (−ḡ_valᵀH⁻¹g_i, keep lowest) or "self" (g_iᵀH⁻¹g_i, keep highest)
    variant: str = choice("validation", "validation", "self")
    validation: str = choice("valid", "valid", "train")  # "valid" split (paper) or "train" (DeepCore's default)
    hessian_samples: int = 50_000  # the Hessian (O(N·T·d²)) is averaged over this many random samples; 0 = all


@dataclass(frozen=True)
class TrainingFactors:
    """Masked last-layer factors of the training set and the inverse task blocks of the damped Hessian."""

    e: np.ndarray  # [N, T]
    ht: np.ndarray  # [N, d+1]
    h_inv: np.ndarray  # [T, d+1, d+1]


def training_factors(ctx, model, damping: float, where: str, hessian_samples: int = 0,
                     rng: np.random.Generator | None = None) -> TrainingFactors:
    """Masked factors and the damped inverse Hessian blocks, estimated on ``hessian_samples`` seeded
    random rows when the training set is larger (0 = every row)."""
    regression = check_task_type(ctx, where)
    e, ht = ctx.last_layer_factors(model)
    check_factors(e, ht, where)
    rows = slice(None)
    if 0 < hessian_samples < len(e):
        rows = np.sort((rng or np.random.default_rng(0)).choice(len(e), hessian_samples, replace=False))
    weights = hessian_weights(ctx.logits(model)[rows], ctx.labels[rows], regression)
    h_inv = inverse_task_hessians(weights, ht[rows], damping)
    return TrainingFactors(np.where(label_mask(ctx.labels), e, 0.0), ht, h_inv)


def mean_gradient(ctx, model, split: str) -> np.ndarray:
    """[T, d+1] mean masked last-layer gradient over ``split`` ("valid" or "train")."""
    if split not in ("valid", "train"):
        raise ValueError(f"validation must be 'valid' or 'train', got {split!r}")
    labels = ctx.valid_labels if split == "valid" else ctx.labels
    e, ht = ctx.last_layer_factors(model, split)
    e = np.where(label_mask(labels), e, 0.0)
    return weighted_gradient_sum(np.full(len(e), 1.0 / len(e)), e, ht)


def self_influence(f: TrainingFactors) -> np.ndarray:
    """[N] g_iᵀ H⁻¹ g_i = Σ_t e_it² h̃_iᵀ H_t⁻¹ h̃_i (O(N·T·d²), chunked)."""
    out = np.zeros(len(f.e))
    for t in range(f.e.shape[1]):
        for start in range(0, len(f.e), CHUNK):
            s = slice(start, start + CHUNK)
            h = f.ht[s].astype(np.float64)
            out[s] += f.e[s, t] ** 2 * np.einsum("id,id->i", h @ f.h_inv[t], h)
    return out


@register("influence")
class Influence(ScoredPruner):
    Options = InfluenceOptions
    requires = Requirements(needs_val=True, needs_logits=True, needs_last_layer_grads=True)
    code_reference = None  # neither the official MolPeg code nor DeepCore ships it
    keep_highest = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.keep_highest = self.options.variant == "self"

    def score(self, ctx) -> tuple[np.ndarray, dict]:
        model = self.warmup_model(ctx)
        f = training_factors(ctx, model, self.options.damping, self.name, self.options.hessian_samples,
                             self.epoch_rng(0))
        adapted = "regression: MSE gradients and Hessian" if ctx.task_type == "regression" else None
        if self.options.variant == "self":
            return self_influence(f), {"adapted": adapted}
        direction = apply_blocks(f.h_inv, mean_gradient(ctx, model, self.options.validation))
        return -project(f.e, f.ht, direction), {"adapted": adapted}
