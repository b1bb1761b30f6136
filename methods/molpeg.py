"""MolPeg (Chen et al., NeurIPS 2024): prune by the loss gap between the online model and an EMA
reference of it.

Per batch: s_i = |ℓ_i(online) - ℓ_i(reference)| for the batch's samples (unvisited samples keep
their score, initially 1). Per epoch: keep the top-k scores (k = budget of r·N), weight 1/r. After
every optimizer step the reference follows the online model by EMA over parameters (buffers are
not averaged). Parameters whose names start with one of ``shared`` (e.g. the head) are copied, not
averaged, so the reference uses the online head as in the official code.

Works in any PyTorch loop::

    pruner = MolPeg(n_samples=len(train_set), keep_ratio=0.4, options={"shared": ("head",)})
    pruner.setup(model)
    for epoch in range(epochs):
        for idx, w in pruner.plan_epoch(epoch).batches(256):
            x, y = get_batch(idx)
            loss = loss_fn(model(x), y)                         # per-sample, shape [B]
            ref_loss = loss_fn(pruner.reference_forward(x), y)  # no grad
            pruner.observe(idx, loss.detach(), ref_loss)
            (loss * torch.as_tensor(w)).mean().backward()
            optimizer.step(); optimizer.zero_grad()
            pruner.after_step(model)
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from methods.base import DynamicPruner, EpochPlan, shuffled_plan
from methods.options import bounded, choice
from methods.registry import register

EMA_CONVENTIONS = ("paper", "code")


@dataclass(frozen=True)
class MolPegOptions:
    beta: float = bounded(0.5, 0.0, 1.0)
    # "paper" (Eq. 1): ξ ← β·θ + (1-β)·ξ;  "code": ξ ← β·ξ + (1-β)·θ. Identical at β = 0.5.
    ema_convention: str = choice("paper", *EMA_CONVENTIONS)
    reference_init: str = choice("pretrained", "pretrained", "random")  # paper / official code
    reference_mode: str = choice("train", "train", "eval")  # "train" (official code: dropout on, batch stats)
    initial_score: float = 1.0  # > typical |Δloss|: unvisited samples are trained first
    tie_break: str = choice("stable", "stable", "random")  # "stable" (index order, official code)
    selection: str = choice("hardest", "hardest", "easiest", "both")  # top |Δloss|, bottom, or half each
    # 1/r (paper); "inverse_keep_squared" (code applies it twice); "none"
    loss_weight: str = choice("inverse_keep", "inverse_keep", "inverse_keep_squared", "none")
    # parameter-name prefixes copied from the online model instead of averaged (one shared head, as
    # in the official code); () averages every parameter
    shared: tuple[str, ...] = ("head",)


def _check(name: str, value: Any, allowed: tuple) -> None:
    if value not in allowed:
        raise ValueError(f"molpeg option {name} must be one of {allowed}, got {value!r}")


@register("molpeg")
class MolPeg(DynamicPruner):
    Options = MolPegOptions
    needs_reference = True

    def __init__(self, n_samples: int, keep_ratio: float, seed: int = 0, options: Any = None,
                 rounding: str = "floor"):
        super().__init__(n_samples, keep_ratio, seed, options, rounding)
        o = self.options
        _check("ema_convention", o.ema_convention, EMA_CONVENTIONS)
        _check("reference_init", o.reference_init, ("pretrained", "random"))
        _check("reference_mode", o.reference_mode, ("train", "eval"))
        _check("tie_break", o.tie_break, ("stable", "random"))
        _check("selection", o.selection, ("hardest", "easiest", "both"))
        _check("loss_weight", o.loss_weight, ("inverse_keep", "inverse_keep_squared", "none"))
        if not 0.0 <= o.beta <= 1.0:
            raise ValueError(f"molpeg option beta must be in [0, 1], got {o.beta}")
        self.scores = np.full(n_samples, o.initial_score, dtype=np.float64)
        self.reference: nn.Module | None = None

    # -- reference model -------------------------------------------------------------------------
    def setup(self, model: nn.Module) -> None:
        self.reference = copy.deepcopy(model)
        for p in self.reference.parameters():
            p.requires_grad_(False)
        if self.options.reference_init == "random":
            # a seed of its own, and a forked RNG so the caller's stream (dropout, ...) is untouched
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(int(np.random.SeedSequence([self.seed, 0xEF]).generate_state(1)[0]))
                for name, module in self.reference.named_modules():
                    if hasattr(module, "reset_parameters") and not self._is_shared(name):
                        module.reset_parameters()

    def _is_shared(self, name: str) -> bool:
        return any(name.startswith(prefix + ".") or name == prefix for prefix in self.options.shared)

    def reference_forward(self, batch: Any) -> torch.Tensor:
        if self.reference is None:
            raise RuntimeError("MolPeg.setup(model) must be called before reference_forward")
        self.reference.train(self.options.reference_mode == "train")
        with torch.inference_mode():
            return self.reference(batch)

    @torch.no_grad()
    def after_step(self, model: nn.Module) -> None:
        """EMA of the online parameters into the reference (shared parameters are copied)."""
        beta = self.options.beta
        w_online = beta if self.options.ema_convention == "paper" else 1.0 - beta
        online = dict(model.named_parameters())
        for name, ref in self.reference.named_parameters():
            if self._is_shared(name):
                ref.copy_(online[name])
            else:
                ref.mul_(1.0 - w_online).add_(online[name].detach(), alpha=w_online)

    # -- scores and selection --------------------------------------------------------------------
    def observe(self, indices: np.ndarray, losses: torch.Tensor, ref_losses: torch.Tensor | None = None) -> None:
        if ref_losses is None:
            raise ValueError("MolPeg.observe needs the reference losses of the batch")
        gap = (losses.detach().double() - ref_losses.detach().double()).abs().cpu().numpy()
        self.scores[np.asarray(indices)] = gap

    def _ranking(self, rng: np.random.Generator) -> np.ndarray:
        """Sample ids from highest to lowest score; ties by index (stable) or at random."""
        if self.options.tie_break == "random":
            perm = rng.permutation(self.n_samples)
            return perm[np.argsort(-self.scores[perm], kind="stable")]
        return np.argsort(-self.scores, kind="stable")

    def plan_epoch(self, epoch: int) -> EpochPlan:
        rng = self.epoch_rng(epoch)
        ranking = self._ranking(rng)
        if self.options.selection == "hardest":
            kept = ranking[:self.k]
        elif self.options.selection == "easiest":
            kept = ranking[::-1][:self.k]
        else:
            n_top = self.k - self.k // 2
            kept = np.concatenate([ranking[:n_top], ranking[::-1][:self.k // 2]])
        weight = {"inverse_keep": 1.0 / self.keep_ratio, "inverse_keep_squared": self.keep_ratio ** -2,
                  "none": 1.0}[self.options.loss_weight]
        return shuffled_plan(rng, kept, weight, kept_fraction=len(kept) / self.n_samples)

    def state_dict(self) -> dict:
        return {"scores": self.scores.copy(),
                "reference": None if self.reference is None else copy.deepcopy(self.reference.state_dict())}

    def load_state_dict(self, state: dict) -> None:
        self.scores = np.asarray(state["scores"], dtype=np.float64).copy()
        if state.get("reference") is not None and self.reference is not None:
            self.reference.load_state_dict(state["reference"])
