"""ε-greedy and UCB dynamic pruning (Raju et al. 2021): docs/methods/dynamic.md#epsilon-greedy,
docs/methods/dynamic.md#ucb.

Both keep per-sample statistics of a loss signal, updated from the training losses observed when a
sample is trained (``score_signal="train_loss"``, default) or from a no-grad loss pass over every sample
after each epoch (``"full_pass"``: the loop calls ``score_pass``). Epoch 1, and any epoch whose scores
are all equal, trains on a uniform random subset of k; afterwards:

* ε-greedy: EMA score s ← (1−α)s + α·ℓ; keep the k − ⌊εk⌋ highest s plus ⌊εk⌋ drawn uniformly from the rest.
* UCB: EMA mean and variance, v ← (1−α)v + α(ℓ − μ)², then μ ← (1−α)μ + αℓ; keep the k highest μ + c·σ
  (``bound="std"``) or μ + c·v (``bound="variance"``, the third-party code). A sample never observed has an
  unbounded upper confidence bound (+∞): it ranks above every observed one, so with the training-loss
  signal every sample is trained before exploitation starts (a bound of 0 would re-select the first
  epoch's subset forever).

Ties are broken at random. Weights are 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from molpeg_bench.methods.base import DynamicPruner, EpochPlan, shuffled_plan
from molpeg_bench.methods.options import choice
from molpeg_bench.methods.registry import register
from molpeg_bench.methods.scored import top_k


@dataclass(frozen=True)
class EpsilonGreedyOptions:
    epsilon: float = 0.1  # share of the budget drawn at random
    alpha: float = 0.8  # weight of the newest observation in the EMA
    # "train_loss" or "full_pass" (loss of every sample after each epoch)
    score_signal: str = choice("train_loss", "train_loss", "full_pass")
    initial_score: float = 1.0


@dataclass(frozen=True)
class UCBOptions:
    c: float = 1.0  # exploration weight
    alpha: float = 0.8
    bound: str = choice("std", "std", "variance")  # "std": μ + c·σ; "variance": μ + c·v (third-party code)
    score_signal: str = choice("train_loss", "train_loss", "full_pass")


class _LossBandit(DynamicPruner):
    """Per-sample loss statistics fed by ``observe`` or ``score_pass`` (per ``score_signal``)."""


    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not 0.0 < self.options.alpha <= 1.0:
            raise ValueError(f"{self.name} alpha must be in (0, 1], got {self.options.alpha}")

    @property
    def needs_score_pass(self) -> bool:
        return self.options.score_signal == "full_pass"

    def update(self, indices: np.ndarray, losses: np.ndarray) -> None:
        raise NotImplementedError

    def priority(self) -> np.ndarray:
        raise NotImplementedError

    def observe(self, indices: np.ndarray, losses: torch.Tensor, ref_losses: torch.Tensor | None = None) -> None:
        if not self.needs_score_pass:
            self.update(np.asarray(indices), losses.detach().double().cpu().numpy())

    def score_pass(self, indices: np.ndarray, losses: torch.Tensor) -> None:
        if self.needs_score_pass:
            self.update(np.asarray(indices), losses.detach().double().cpu().numpy())

    def greedy_share(self) -> int:
        return self.k

    def plan_epoch(self, epoch: int) -> EpochPlan:
        rng = self.epoch_rng(epoch)
        priority = self.priority()
        if np.all(priority == priority[0]):
            return shuffled_plan(rng, rng.choice(self.n_samples, self.k, replace=False), exploration="uniform")
        n_greedy = self.greedy_share()
        greedy = top_k(priority, n_greedy, rng, self.keep_highest)
        rest = np.setdiff1d(np.arange(self.n_samples), greedy, assume_unique=True)
        explore = rng.choice(rest, self.k - n_greedy, replace=False)
        return shuffled_plan(rng, np.concatenate([greedy, explore]), exploration="greedy")

    def state_dict(self) -> dict:
        return {name: value.copy() for name, value in vars(self).items() if isinstance(value, np.ndarray)}

    def load_state_dict(self, state: dict) -> None:
        for name, value in state.items():
            setattr(self, name, np.asarray(value, dtype=np.float64).copy())


@register("epsilon_greedy")
class EpsilonGreedy(_LossBandit):
    Options = EpsilonGreedyOptions

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not 0.0 <= self.options.epsilon <= 1.0:
            raise ValueError(f"epsilon_greedy epsilon must be in [0, 1], got {self.options.epsilon}")
        self.scores = np.full(self.n_samples, self.options.initial_score, dtype=np.float64)

    def update(self, indices, losses):
        a = self.options.alpha
        self.scores[indices] = (1 - a) * self.scores[indices] + a * losses

    def priority(self):
        return self.scores

    def greedy_share(self):
        return self.k - int(np.floor(self.options.epsilon * self.k))


@register("ucb")
class UCB(_LossBandit):
    Options = UCBOptions

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.mean = np.zeros(self.n_samples)
        self.var = np.zeros(self.n_samples)
        self.observations = np.zeros(self.n_samples)  # how often each sample's signal was observed

    def update(self, indices, losses):
        a = self.options.alpha
        np.add.at(self.observations, indices, 1.0)
        self.var[indices] = (1 - a) * self.var[indices] + a * (losses - self.mean[indices]) ** 2
        self.mean[indices] = (1 - a) * self.mean[indices] + a * losses

    def priority(self):
        spread = np.sqrt(self.var) if self.options.bound == "std" else self.var
        return np.where(self.observations > 0, self.mean + self.options.c * spread, np.inf)

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        if "observations" not in state:  # a state saved before observations were counted
            self.observations = ((self.mean != 0) | (self.var != 0)).astype(np.float64)
