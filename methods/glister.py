"""Glister (Killamsetty et al., AAAI 2021), docs/methods/static-optimisation.md#glister, one-shot on the last layer.

Greedy: add the samples with the largest gain η·⟨∇L_val(θ_S), g_e⟩ (the first-order decrease of the mean
validation loss after a step −η·g_e), then virtually update the head θ_S = θ − η·mean_{j∈S} g_j and
recompute the validation gradient at θ_S from the stored validation logits and embeddings (exact for a
linear head). ``picks_per_update`` is the fraction of k added between two updates (0: one sample per
update, the original greedy; the default 1 % keeps the cost at ~100 passes of O(N·T·d)).
``update=False`` is DeepCore's behaviour (the update callback is never applied: top-k by the initial
gain); ``validation="train"`` is DeepCore's default validation set (the training set itself).

The step η is ``lr`` (0: the fine-tuning learning rate). With Adam's 1e-3 the virtual SGD step on the head
is tiny (on HIV the validation loss moved by ~1e-6) and the picks are those without update. So every selection
records what the update did: η (``lr``), the validation-loss change between θ and θ_S
(``validation_loss_change``), how many of the k picks differ from the top k by the initial gains
(``update_changed_picks``) and ``update_effective`` (some pick differs). The code bundle (``--fidelity
code``) is DeepCore's Glister, which the official MolPeg code does not ship: class-balanced (its main.py's
``balance=true``), the training set as validation set, no update.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from molpeg_bench.methods.base import Requirements, Selection
from molpeg_bench.methods.last_layer import check_factors, project, weighted_gradient_sum
from molpeg_bench.methods.options import choice
from molpeg_bench.methods.registry import register
from molpeg_bench.methods.scored import WarmupOptions, WarmupPruner, check_task_type, label_mask


@dataclass(frozen=True)
class GlisterOptions(WarmupOptions):
    update: bool = True  # re-evaluate the validation gradient at θ_S (paper); False = DeepCore (never updated)
    validation: str = choice("valid", "valid", "train")  # "valid" split (paper) or "train" (DeepCore's default)
    picks_per_update: float = 0.01  # fraction of k added between updates; 0 = one at a time
    lr: float = 0.0  # η, the step of the virtual update; 0 = the fine-tuning learning rate of the context


class ValidationLoss:
    """Mean masked validation loss of a linear head as a function of a last-layer shift Δ [T, d+1]:
    logits z_v − h̃_v·Δ_t. Provides the loss and its gradient (task blocks) at any Δ."""

    def __init__(self, logits: np.ndarray, ht: np.ndarray, labels: np.ndarray, regression: bool):
        self.z, self.ht, self.regression = logits.astype(np.float64), ht, regression
        self.mask = label_mask(labels)
        self.y = np.nan_to_num(np.asarray(labels, dtype=np.float64))

    def _logits(self, delta: np.ndarray) -> np.ndarray:
        return self.z - self.ht @ delta.T.astype(self.ht.dtype)

    def errors(self, delta: np.ndarray) -> np.ndarray:
        z = self._logits(delta)
        out = z - self.y if self.regression else 1.0 / (1.0 + np.exp(-z)) - self.y
        return np.where(self.mask, out, 0.0)

    def loss(self, delta: np.ndarray) -> float:
        z = self._logits(delta)
        per = 0.5 * (z - self.y) ** 2 if self.regression else np.logaddexp(0.0, z) - self.y * z
        return float(np.where(self.mask, per, 0.0).sum() / len(z))

    def gradient(self, delta: np.ndarray) -> np.ndarray:
        """[T, d+1] gradient w.r.t. the head parameters (θ = θ₀ − Δ) of the mean validation loss."""
        return weighted_gradient_sum(np.full(len(self.z), 1.0 / len(self.z)), self.errors(delta), self.ht)


@register("glister")
class Glister(WarmupPruner):
    Options = GlisterOptions
    requires = Requirements(needs_val=True, needs_logits=True, needs_last_layer_grads=True)
    code_options = {"balance": True, "validation": "train", "update": False}
    code_reference = "DeepCore: main.py defaults, deepcore/methods/glister.py"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not 0.0 <= self.options.picks_per_update <= 1.0:
            raise ValueError(f"glister picks_per_update must be in [0, 1], got {self.options.picks_per_update}")
        if self.options.lr < 0.0:
            raise ValueError(f"glister lr must be >= 0 (0: the fine-tuning learning rate), got {self.options.lr}")

    def validation_loss(self, ctx, model) -> ValidationLoss:
        split = self.options.validation
        labels = ctx.valid_labels if split == "valid" else ctx.labels
        _, ht = ctx.last_layer_factors(model, split)
        return ValidationLoss(ctx.logits(model, split), ht, labels, ctx.task_type == "regression")

    def coreset(self, ctx) -> Selection:
        regression = check_task_type(ctx, self.name)
        self.adapted = "regression: MSE gradients and validation loss" if regression else None
        eta = self.options.lr or ctx.lr
        model = self.warmup_model(ctx)
        e, ht = ctx.last_layer_factors(model)
        check_factors(e, ht, self.name)
        e = np.where(label_mask(ctx.labels), e, 0.0)
        val = self.validation_loss(ctx, model)
        chosen, delta, first_gain, without_update = self.greedy(e, ht, val, eta)
        changed = self.k - len(np.intersect1d(chosen, without_update))
        before, after = val.loss(np.zeros_like(delta)), val.loss(delta)
        meta = {"adapted": self.adapted, "lr": eta, "validation_loss_before": before,
                "validation_loss_after": after, "validation_loss_change": after - before,
                "update_changed_picks": int(changed), "update_effective": bool(changed > 0)}
        return Selection(indices=chosen, scores=first_gain, meta=meta)

    def greedy(self, e: np.ndarray, ht: np.ndarray, val: ValidationLoss,
               eta: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(the k picks, the head shift Δ of θ_S = θ − Δ, the initial gains [N], the k picks without update:
        the top k by the initial gains with the same tie-breaking, what ``update=False`` selects)."""
        step = self.k if not self.options.update else max(1, math.ceil(self.options.picks_per_update * self.k))
        rng = self.epoch_rng(0)
        chosen = np.zeros(self.n_samples, dtype=bool)
        delta = np.zeros((e.shape[1], ht.shape[1]))
        picked_sum = np.zeros_like(delta)  # Σ_{j∈S} g_j, grown by the new picks only
        first_gain = without_update = None
        while chosen.sum() < self.k:
            gains = eta * project(e, ht, val.gradient(delta))
            order = rng.permutation(self.n_samples)  # random tie-breaking
            if first_gain is None:
                first_gain, without_update = gains, self.best(gains, chosen, order, self.k)
            take = self.best(gains, chosen, order, min(step, self.k - int(chosen.sum())))
            chosen[take] = True
            picked_sum += weighted_gradient_sum(np.ones(len(take)), e[take], ht[take])
            delta = eta * picked_sum / chosen.sum()  # θ_S = θ − η·mean_{j∈S} g_j
        return np.flatnonzero(chosen).astype(np.int64), delta, first_gain, np.sort(without_update)

    def best(self, gains: np.ndarray, chosen: np.ndarray, order: np.ndarray, count: int) -> np.ndarray:
        """The ``count`` unchosen samples of largest gain (smallest when the ranking is reversed), ties in
        ``order``."""
        key = np.where(chosen, np.inf, -gains if self.keep_highest else gains)[order]
        return order[np.argsort(key, kind="stable")[:count]]
