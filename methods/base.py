"""The ``Pruner`` interface: static methods select once, dynamic methods plan every epoch.

A pruner sees only what it is handed: a ``SelectionContext`` (static) or per-batch losses (dynamic).
Sample ids are positions in the training set, 0..n_samples-1. Every option lives in a frozen
``Options`` dataclass whose fields (with defaults) are recorded in each run.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from molpeg_bench.methods.balance import SubsetContext, class_groups, split_selection
from molpeg_bench.methods.budget import budget
from molpeg_bench.methods.options import coerce_options

# how an epoch's RNG is seeded: "run" from (run seed, epoch); "epoch_only" from the epoch alone, so every
# run seed sees the same subsets and order, as the official MolPeg code; "legacy" is the official sampler's
# own stream (numpy's legacy RandomState seeded with epoch - 1, as its np.random.seed before each prune),
# which reproduces its subsets and batch order draw for draw
EPOCH_SEEDING = ("run", "epoch_only", "legacy")


@dataclass(frozen=True)
class Selection:
    """Result of a static selection: ``indices`` int64 [k] (unique), optional per-sample loss
    ``weights`` [k] aligned with them, optional ``scores`` [n_samples], free-form ``meta``."""

    indices: np.ndarray
    weights: np.ndarray | None = None
    scores: np.ndarray | None = None
    meta: dict = field(default_factory=dict)


@dataclass(frozen=True)
class EpochPlan:
    """The samples of one epoch in training order, with a loss weight per sample."""

    indices: np.ndarray
    weights: np.ndarray
    info: dict = field(default_factory=dict)

    def batches(self, batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for start in range(0, len(self.indices), batch_size):
            yield self.indices[start:start + batch_size], self.weights[start:start + batch_size]


@dataclass(frozen=True)
class Requirements:
    """What a static method needs from its selection context (read before anything is computed)."""

    warmup_epochs: int = 0  # largest warm-up length the method asks for
    warmup_seeds: int = 1  # how many independent warm-up runs (seed_index 0..warmup_seeds-1)
    warmup_start: str = "pretrained"  # the warm-up starts from the pretrained encoder, or "random" (official code)
    warmup_seed_offset: int = 0  # first warm-up seed_index (a method's own warm-up runs start elsewhere)
    needs_val: bool = False
    needs_train_dynamics: bool = False
    needs_embeddings: bool = False
    needs_logits: bool = False
    needs_last_layer_grads: bool = False
    needs_input_grads: bool = False
    pretrained_only: bool = False


@dataclass(frozen=True)
class NoOptions:
    """This method has no options."""


@dataclass(frozen=True)
class StaticOptions:
    """Options every static method shares."""

    # select per class of a single-task classification dataset, the budget split in proportion to the
    # class sizes (DeepCore runs every method so); False: over the whole training set (MolPeg, default)
    balance: bool = False


class Pruner:
    """Common base: a name, a family, resolved options and the budget.

    ``n_samples`` is the training-set size, ``keep_ratio`` = 1 - pruning ratio, ``seed`` the run seed.
    """

    name: ClassVar[str] = ""
    family: ClassVar[str] = ""  # "static", "dynamic" or "whole"
    Options: ClassVar[type] = NoOptions
    # the direction of the method's one ranking point: True keeps what its rule prefers (the highest
    # score, the farthest centre, the largest gain, ...); each method reads it in exactly one place, so
    # the mutation check (tests/mutation) can reverse every method's ranking through it
    keep_highest: bool = True
    # the option values that reproduce the official MolPeg code (its ``main.py`` / ``pruning/molpeg.py``);
    # a run with ``fidelity="code"`` fills them in wherever the run's options do not name the option
    code_options: ClassVar[dict[str, Any]] = {}
    # the version of the method's algorithm: bump it when a change to its code or to an option's default
    # changes what it selects. It enters the score-cache key and, from 2 on, the run id (version 1 is left
    # out, so the ids of records made before versions existed stay valid), and every record names it.
    version: ClassVar[int] = 1
    # where a method from outside the suite came from (``methods.external``); None for a built-in one
    origin: ClassVar[dict | None] = None

    def __init__(self, n_samples: int, keep_ratio: float, seed: int = 0, options: Any = None,
                 rounding: str = "floor"):
        if n_samples <= 0:
            raise ValueError(f"n_samples must be positive, got {n_samples}")
        if not 0.0 < keep_ratio <= 1.0:
            raise ValueError(f"keep_ratio must be in (0, 1], got {keep_ratio}")
        self.n_samples, self.keep_ratio, self.seed = n_samples, keep_ratio, seed
        self.options = self.resolve_options(options)
        self.k = budget(n_samples, keep_ratio, rounding)

    @classmethod
    def resolve_options(cls, options: Any) -> Any:
        """Accept an ``Options`` instance, a dict of overrides (coerced to the declared types and checked
        against the allowed values, see ``methods.options``), or None (all defaults)."""
        if isinstance(options, cls.Options):
            return options
        return coerce_options(cls.name, cls.Options, dict(options or {}))

    def describe(self) -> dict:
        """Options and budget as recorded in the run record."""
        return {"method": self.name, "family": self.family, "version": self.version, "k": self.k,
                "keep_ratio": self.keep_ratio, "options": dataclasses.asdict(self.options),
                **({"origin": dict(self.origin)} if self.origin is not None else {})}

    def epoch_rng(self, epoch: int) -> np.random.Generator | np.random.RandomState:
        """RNG of epoch ``epoch`` (1, 2, ...; 0 = static selection) derived from (seed, epoch), or from the
        epoch alone (``epoch_seeding`` ``epoch_only``; ``legacy``: a ``RandomState``, see ``EPOCH_SEEDING``):
        no hidden state to checkpoint or resume."""
        seeding = getattr(self.options, "epoch_seeding", "run")
        if seeding == "legacy":
            return np.random.RandomState(max(epoch - 1, 0))
        return np.random.default_rng([epoch] if seeding == "epoch_only" else [self.seed, epoch])


class StaticPruner(Pruner):
    """Selects a fixed coreset once, before fine-tuning: ``coreset(ctx)`` is the method's rule over all
    of the context's samples; ``select(ctx)`` applies it to the whole set or, with ``options.balance``,
    to each class separately."""

    family = "static"
    requires: ClassVar[Requirements] = Requirements()

    @classmethod
    def requirements(cls, options: Any) -> Requirements:
        """What the context must provide for these (resolved) options; the runner calls
        ``type(pruner).requirements(pruner.options)``."""
        return cls.requires

    def check_context(self, ctx: Any) -> None:
        """Refuse a context these options cannot select from, before anything (a warm-up) is computed:
        ``balance`` needs a single-task classification dataset."""
        if getattr(self.options, "balance", False):
            class_groups(ctx, self.name)

    def select(self, ctx: Any = None) -> Selection:  # ctx: methods.context.SelectionContext
        if not getattr(self.options, "balance", False):
            return self.coreset(ctx)
        return split_selection(class_groups(ctx, self.name), self.k, self.per_class, Selection, ctx)

    def coreset(self, ctx: Any) -> Selection:
        raise NotImplementedError

    def per_class(self, ctx: Any, members: np.ndarray, k: int, group: int) -> Selection:
        """The method's own rule on the class ``members`` (positions) with budget ``k``; ``group`` numbers
        the class (0, 1, ...) and seeds it."""
        part = copy.copy(self)
        part.n_samples, part.k = len(members), k
        part.seed = int(np.random.SeedSequence([self.seed, 0xBA1, group]).generate_state(1)[0])
        return part.coreset(SubsetContext(ctx, members))


class DynamicPruner(Pruner):
    """Plans every epoch and observes the per-sample losses of every forward pass."""

    family = "dynamic"
    needs_reference: ClassVar[bool] = False
    # every epoch trains exactly k samples (False: the method trains a varying share, as InfoBatch)
    exact_budget: ClassVar[bool] = True
    # an epoch's indices may repeat a sample (a draw with replacement, e.g. the official code's random mode);
    # a method whose options decide it overrides this as a property
    draws_with_replacement: bool = False

    def rotation_epochs(self) -> int | None:
        """Epochs within which every sample is trained at least once from the start, whatever the losses;
        None: the method promises no such bound (``check-method`` tests a declared one)."""
        return None

    def setup(self, model: nn.Module, epochs: int | None = None) -> None:
        """Called once with the online model before training (e.g. to copy a reference); ``epochs``: how many
        epochs the loop will run, where it knows (None: open-ended)."""

    def plan_epoch(self, epoch: int) -> EpochPlan:
        raise NotImplementedError

    def reference_forward(self, batch: Any) -> torch.Tensor:
        raise NotImplementedError(f"{self.name} has no reference model")

    def observe(self, indices: np.ndarray, losses: torch.Tensor, ref_losses: torch.Tensor | None = None) -> None:
        """Per-sample (unreduced, detached) losses of the batch ``indices`` before the optimizer step."""

    def after_step(self, model: nn.Module) -> None:
        """Called after every ``optimizer.step()``."""

    @property
    def needs_score_pass(self) -> bool:
        """True if the loop must call ``score_pass`` after every training epoch (before evaluation)."""
        return False

    def score_pass(self, indices: np.ndarray, losses: torch.Tensor) -> None:
        """Per-sample training losses of ``indices`` (all samples) from a no-grad eval-mode pass of the
        online model after the epoch; the same per-sample loss convention as training."""

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, state: dict) -> None:
        pass


def shuffled_plan(rng: np.random.Generator, indices: np.ndarray, weights: np.ndarray | float = 1.0,
                  **info: Any) -> EpochPlan:
    """Shuffle ``indices`` (and their weights) into one epoch's training order."""
    indices = np.asarray(indices, dtype=np.int64)
    weights = np.broadcast_to(np.asarray(weights, dtype=np.float32), indices.shape)
    order = rng.permutation(len(indices))
    return EpochPlan(indices[order], np.ascontiguousarray(weights[order]), info)
