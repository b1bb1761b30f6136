"""MolPeg (Chen et al., NeurIPS 2024): prune by the loss gap between the online model and an EMA
reference of it.

Per batch: the signed gap Δ_i = ℓ_i(online) - ℓ_i(reference) is stored for the batch's samples
(unvisited samples have none). Per epoch: keep the top-k samples (k = budget of r·N) by the
``criterion`` key, weight 1/r:

- ``absolute`` (MolPeg): |Δ_i|, an unvisited sample counts as ``initial_score`` (1, above a typical
  |Δ|, so unvisited samples come first, as in the official code);
- ``hard``: Δ_i (the online model struggles); ``easy``: -Δ_i (it improves easily) — Figure 3's
  comparison criteria, under which an unvisited sample always ranks first.

After every optimizer step the reference follows the online model by EMA over parameters (one fused
``torch._foreach_lerp_`` over all of them). Parameters whose names start with one of ``shared`` (the
head) are copied, not averaged, so the reference uses the online head as in the official code. An
eval-mode reference normalises with its running BatchNorm statistics; ``reference_buffers`` makes them
follow the online model's (EMA with the same weight, or a copy) instead of staying frozen.

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
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from molpeg_bench.methods.base import DynamicPruner, EpochPlan, shuffled_plan
from molpeg_bench.methods.molpeg_options import MolPegOptions
from molpeg_bench.methods.registry import register


def reinitialize(module: nn.Module, skip: tuple[str, ...] = ()) -> None:
    """Draw fresh parameters (and reset running statistics) for every submodule not under a ``skip``
    prefix. A module with its own ``reset_parameters`` owns its whole subtree, so a model can define
    its initialisation (the GIN: xavier-uniform embeddings) instead of PyTorch's per-layer defaults."""
    def visit(mod: nn.Module, name: str) -> None:
        if any(name == p or name.startswith(p + ".") for p in skip):
            return
        if hasattr(mod, "reset_parameters"):
            mod.reset_parameters()
            return
        for child_name, child in mod.named_children():
            visit(child, f"{name}.{child_name}" if name else child_name)

    visit(module, "")


@dataclass(frozen=True)
class EarlyReselectPlan(EpochPlan):
    """An epoch plan whose last, partial batch is weighted by ``reselect()`` (the weights of all samples
    under the next epoch's selection, made when that batch is reached), as the official sampler."""

    reselect: Callable[[], np.ndarray] | None = None

    def batches(self, batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        n = len(self.indices)
        for start in range(0, n, batch_size):
            idx = self.indices[start:start + batch_size]
            if len(idx) < batch_size and self.reselect is not None:
                yield idx, self.reselect()[idx]
            else:
                yield idx, self.weights[start:start + batch_size]


@register("molpeg")
class MolPeg(DynamicPruner):
    Options = MolPegOptions
    needs_reference = True
    code_options = {"reference_init": "random", "reference_mode": "train", "reference_buffers": "frozen",
                    "ema_convention": "code", "loss_weight": "inverse_keep_squared", "tie_break": "stable",
                    "initial_score": 1.0, "epoch_seeding": "legacy", "reselect": "before_last_batch"}
    code_reference = "official MolPeg code: main.py, pruning/molpeg.py"

    def __init__(self, n_samples: int, keep_ratio: float, seed: int = 0, options: Any = None,
                 rounding: str = "floor"):
        super().__init__(n_samples, keep_ratio, seed, options, rounding)
        # signed Δ of each sample's latest visit, NaN = never scored; kept on the losses' device so that
        # observing a batch needs no host synchronisation
        self.delta = torch.full((n_samples,), float("nan"), dtype=torch.float64)
        self.reference: nn.Module | None = None
        self._pending_reference: dict | None = None  # a state loaded before setup()
        self._ema: tuple | None = None  # (online model, averaged, copied, float buffer, count buffer lists)
        self._next: tuple[int, EpochPlan] | None = None  # a plan selected early (reselect="before_last_batch")
        self.epochs: int | None = None  # the loop's epoch count, where setup() was told it

    # -- reference model -------------------------------------------------------------------------
    def setup(self, model: nn.Module, epochs: int | None = None) -> None:
        self.epochs = epochs
        self._warn_unmatched_shared(model)
        self.reference = copy.deepcopy(model)
        for p in self.reference.parameters():
            p.requires_grad_(False)
        self.reference.train(self.options.reference_mode == "train")
        if self.options.reference_init == "random":
            # a seed of its own, and a forked RNG so the caller's stream (dropout, ...) is untouched; drawn in
            # float32 whatever the model's type, so a float64 run gets the float32 run's reference
            dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(int(np.random.SeedSequence([self.seed, 0xEF]).generate_state(1)[0]))
                reinitialize(self.reference.float(), skip=self.options.shared)
            self.reference.to(dtype)
            online = dict(model.named_parameters())
            with torch.no_grad():  # the shared parameters exactly as the online model's after the round trip
                for name, p in self.reference.named_parameters():
                    if self._is_shared(name):
                        p.copy_(online[name])
        if self._pending_reference is not None:
            self.reference.load_state_dict(self._pending_reference)
            self._pending_reference = None
        self._ema = None

    def _is_shared(self, name: str) -> bool:
        return any(name.startswith(prefix + ".") or name == prefix for prefix in self.options.shared)

    def _warn_unmatched_shared(self, model: nn.Module) -> None:
        """Warn (once per pruner) when the ``shared`` option names a head the model does not have: then every
        parameter, the classifier's too, is averaged into the reference, silently unlike the paper's setup."""
        names = [name for name, _ in model.named_parameters()]
        missing = [p for p in self.options.shared if not any(n.startswith(p + ".") or n == p for n in names)]
        if missing and not getattr(self, "_warned_shared", False):
            self._warned_shared = True
            warnings.warn(f"MolPeg option 'shared'={list(self.options.shared)}: no parameter of the model is named "
                          f"{' or '.join(repr(p) for p in missing)} (its top-level modules: "
                          f"{sorted({n.split('.')[0] for n in names})}); every parameter is averaged into the "
                          "reference. Pass options={'shared': ('<your head>',)} to copy the head as the paper does, "
                          "or shared=() to average everything without this warning.", UserWarning, stacklevel=3)

    def reference_forward(self, batch: Any) -> torch.Tensor:
        if self.reference is None:
            raise RuntimeError("MolPeg.setup(model) must be called before reference_forward")
        with torch.inference_mode():
            return self.reference(batch)

    def _ema_pairs(self, model: nn.Module) -> tuple:
        """Reference/online tensor lists, built once per online model."""
        if self._ema is None or self._ema[0] is not model:
            online = dict(model.named_parameters())
            averaged, shared = ([], []), ([], [])
            for name, ref in self.reference.named_parameters():
                target = shared if self._is_shared(name) else averaged
                target[0].append(ref)
                target[1].append(online[name].detach())
            online_buffers = dict(model.named_buffers())
            buffers = [(ref, online_buffers[name]) for name, ref in self.reference.named_buffers()
                       if name in online_buffers]
            floats = [pair for pair in buffers if pair[0].is_floating_point()]
            counts = [pair for pair in buffers if not pair[0].is_floating_point()]
            floats, counts = (tuple(map(list, zip(*pairs, strict=True))) if pairs else ([], [])
                              for pairs in (floats, counts))
            self._ema = (model, averaged, shared, floats, counts)
        return self._ema

    @torch.no_grad()
    def after_step(self, model: nn.Module) -> None:
        """EMA of the online parameters into the reference (shared parameters are copied); in eval mode
        the running statistics follow ``reference_buffers``."""
        if self.reference is None:
            raise RuntimeError("MolPeg.setup(model) must be called before after_step")
        o = self.options
        w_online = o.beta if o.ema_convention == "paper" else 1.0 - o.beta
        _, averaged, shared, floats, counts = self._ema_pairs(model)
        if averaged[0]:
            torch._foreach_lerp_(averaged[0], averaged[1], w_online)
        if shared[0]:
            torch._foreach_copy_(shared[0], shared[1])
        if o.reference_mode == "eval" and o.reference_buffers != "frozen":
            # (in train mode the reference normalises with batch statistics: its buffers are unused)
            if floats[0]:
                if o.reference_buffers == "ema":
                    torch._foreach_lerp_(floats[0], floats[1], w_online)
                else:
                    torch._foreach_copy_(floats[0], floats[1])
            if counts[0]:
                torch._foreach_copy_(counts[0], counts[1])

    # -- scores and selection --------------------------------------------------------------------
    def observe(self, indices: np.ndarray, losses: torch.Tensor, ref_losses: torch.Tensor | None = None) -> None:
        if ref_losses is None:
            raise ValueError("MolPeg.observe needs the reference losses of the batch")
        if self.delta.device != losses.device:
            self.delta = self.delta.to(losses.device)
        idx = torch.as_tensor(np.asarray(indices), dtype=torch.long).to(losses.device, non_blocking=True)
        self.delta.index_copy_(0, idx, losses.detach().double() - ref_losses.detach().double())

    @property
    def scores(self) -> np.ndarray:
        """The ranking key of every sample under ``criterion`` (higher = kept first)."""
        delta = self.delta.cpu().numpy()
        visited = ~np.isnan(delta)
        if self.options.criterion == "absolute":
            return np.where(visited, np.abs(delta), self.options.initial_score)
        signed = delta if self.options.criterion == "hard" else -delta
        return np.where(visited, signed, np.inf)

    def _ranking(self, rng: np.random.Generator) -> np.ndarray:
        """Sample ids from highest to lowest key; ties by index (stable) or at random."""
        key = self.scores if self.keep_highest else -self.scores
        if self.options.tie_break == "random":
            perm = rng.permutation(self.n_samples)
            return perm[np.argsort(-key[perm], kind="stable")]
        return np.argsort(-key, kind="stable")

    def plan_epoch(self, epoch: int) -> EpochPlan:
        if self._next is not None and self._next[0] == epoch:
            plan = self._next[1]
        else:
            plan = self._select(epoch)
        self._next = None
        if self.options.reselect == "epoch_end":
            return plan
        return EarlyReselectPlan(plan.indices, plan.weights, plan.info,
                                 reselect=lambda: self._reselect_early(epoch + 1))

    def _select(self, epoch: int) -> EpochPlan:
        rng = self.epoch_rng(epoch)
        kept = self._ranking(rng)[:self.k]
        weight = {"inverse_keep": 1.0 / self.keep_ratio, "inverse_keep_squared": self.keep_ratio ** -2,
                  "none": 1.0}[self.options.loss_weight]
        return shuffled_plan(rng, kept, weight, kept_fraction=len(kept) / self.n_samples,
                             distinct_scored_before=self.n_distinct_scored())

    def _reselect_early(self, epoch: int) -> np.ndarray:
        """Select ``epoch`` now; every sample's weight under it (1 outside the kept set). After the loop's
        last epoch the official sampler stops pruning and resets every weight to 1: so does this."""
        if self.epochs is not None and epoch > self.epochs:
            return np.ones(self.n_samples, dtype=np.float32)
        plan = self._select(epoch)
        self._next = (epoch, plan)
        weights = np.ones(self.n_samples, dtype=np.float32)
        weights[plan.indices] = plan.weights
        return weights

    def n_distinct_scored(self) -> int:
        """Samples scored (hence trained) at least once so far."""
        return int((~torch.isnan(self.delta)).sum())

    def describe(self) -> dict:
        return super().describe() | {"distinct_trained": self.n_distinct_scored()}

    def state_dict(self) -> dict:
        reference = self._pending_reference if self.reference is None else self.reference.state_dict()
        early = None if self._next is None else {"epoch": self._next[0], "indices": self._next[1].indices.copy(),
                                                  "weights": self._next[1].weights.copy(), "info": self._next[1].info}
        return {"delta": self.delta.cpu().numpy().copy(), "early_plan": early,
                "reference": None if reference is None else copy.deepcopy(reference)}

    def load_state_dict(self, state: dict) -> None:
        """Restores the scores and the reference; before ``setup`` the reference is kept and loaded there."""
        delta = np.asarray(state["delta"], dtype=np.float64)
        if delta.shape != (self.n_samples,):
            raise ValueError(f"MolPeg state has {delta.shape} scores, expected ({self.n_samples},)")
        self.delta = torch.from_numpy(delta.copy()).to(self.delta.device)
        early = state.get("early_plan")
        self._next = None if early is None else (int(early["epoch"]), EpochPlan(
            np.asarray(early["indices"], dtype=np.int64), np.asarray(early["weights"], dtype=np.float32),
            dict(early["info"])))
        reference = state.get("reference")
        if reference is not None and self.reference is not None:
            self.reference.load_state_dict(reference)
        elif reference is not None:
            self._pending_reference = copy.deepcopy(reference)
