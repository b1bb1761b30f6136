"""Plausible wrong versions of a method, built from its seams: the one place it ranks (``keep_highest``),
its output (budget, loss weights), its updates (``observe`` / ``score_pass``, MolPeg's gap sign and EMA
weight), its warm-up model (``WarmupPruner.warmup_model``: ignored, or one epoch short) and, for the methods
with a ``score_alignment`` option, how its scores reach the positions (``ScoredPruner.attributed``: always
aligned, or one loader order for every warm-up run or epoch). Each mutant patches one registered class for
the duration of a ``with``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from molpeg_bench.methods.base import DynamicPruner, EpochPlan, Pruner
from molpeg_bench.methods.scored import WarmupPruner, warmup_seed_offset


@dataclass(frozen=True)
class Mutant:
    name: str
    applies: Callable[[type[Pruner]], bool]
    patch: Callable[[type[Pruner]], dict[str, object]]  # attribute name -> replacement on the class


@contextlib.contextmanager
def applied(mutant: Mutant, cls: type[Pruner]) -> Iterator[None]:
    patches = mutant.patch(cls)
    saved = {name: cls.__dict__[name] for name in patches if name in cls.__dict__}
    try:
        for name, value in patches.items():
            setattr(cls, name, value)
        yield
    finally:
        for name in patches:
            if name in saved:
                setattr(cls, name, saved[name])
            else:
                delattr(cls, name)


def _after_init(cls: type[Pruner], change: Callable[[Pruner], None]) -> dict[str, object]:
    original = cls.__init__

    @functools.wraps(original)
    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        change(self)

    return {"__init__": init}


def _reverse(pruner: Pruner) -> None:
    pruner.keep_highest = not pruner.keep_highest


def _on_output(cls: type[Pruner], change: Callable[[np.ndarray, np.ndarray, int], tuple]) -> dict[str, object]:
    """Rewrite (indices, weights) of every selection or epoch plan; ``change`` also gets N."""
    name = "plan_epoch" if issubclass(cls, DynamicPruner) else "select"
    original = getattr(cls, name)

    @functools.wraps(original)
    def wrapped(self, *args, **kwargs):
        out = original(self, *args, **kwargs)
        weights = out.weights if out.weights is not None else np.ones(len(out.indices))
        indices, weights = change(np.asarray(out.indices), np.asarray(weights, dtype=np.float64), self.n_samples)
        if isinstance(out, EpochPlan):
            return dataclasses.replace(out, indices=indices, weights=weights.astype(np.float32))
        keep_none = out.weights is None and np.all(weights == 1.0)
        return dataclasses.replace(out, indices=indices, weights=None if keep_none else weights)

    return {name: wrapped}


def _one_less(indices, weights, n):
    return indices[:-1], weights[:-1]


def _one_more(indices, weights, n):
    extra = np.setdiff1d(np.arange(n), indices)[:1]
    return np.concatenate([indices, extra]), np.concatenate([weights, np.ones(len(extra))])


def _weights_dropped(indices, weights, n):
    return indices, np.ones_like(weights)


def _weights_inverted(indices, weights, n):
    return indices, 1.0 / weights


def _frozen_scores(cls: type[Pruner]) -> dict[str, object]:
    """Updates are ignored once an epoch after the first was planned."""
    patches = {}
    plan = cls.plan_epoch

    @functools.wraps(plan)
    def plan_epoch(self, epoch):
        self._mutant_epoch = max(epoch, getattr(self, "_mutant_epoch", 0))
        return plan(self, epoch)

    patches["plan_epoch"] = plan_epoch
    for name in ("observe", "score_pass"):
        original = getattr(cls, name)

        def ignored(self, *args, _original=original, **kwargs):
            if getattr(self, "_mutant_epoch", 0) <= 1:
                return _original(self, *args, **kwargs)

        patches[name] = functools.wraps(original)(ignored)
    return patches


def _frozen_subset(cls: type[Pruner]) -> dict[str, object]:
    """Every epoch trains the first epoch's subset."""
    plan = cls.plan_epoch

    @functools.wraps(plan)
    def plan_epoch(self, epoch):
        if not hasattr(self, "_mutant_first_plan"):
            self._mutant_first_plan = plan(self, epoch)
        return self._mutant_first_plan

    return {"plan_epoch": plan_epoch}


def _pretrained_for_warmup(cls: type[Pruner]) -> dict[str, object]:
    return {"warmup_model": lambda self, ctx, seed_index=0: ctx.pretrained_model()}


def _warmup_one_epoch_short(cls: type[Pruner]) -> dict[str, object]:
    """The warm-up model (or training dynamics) of the epoch before the declared one."""
    def short(self) -> int:
        return max(self.options.warmup_epochs - 1, 1)

    def offset(self) -> int:
        return warmup_seed_offset(self.name, self.options)

    return {"warmup_model": lambda self, ctx, seed_index=0: ctx.warmup_model(short(self), offset(self) + seed_index),
            "warmup_correctness": lambda self, ctx, seed_index=0:
                ctx.warmup_correctness(short(self), offset(self) + seed_index)}


def _gap_flipped(cls: type[Pruner]) -> dict[str, object]:
    """MolPeg's signed gap stored as reference − online."""
    original = cls.observe

    @functools.wraps(original)
    def observe(self, indices, losses, ref_losses=None):
        return original(self, indices, ref_losses, losses)

    return {"observe": observe}


def _ema_weights_swapped(pruner: Pruner) -> None:
    """β and 1 − β exchanged in the reference's EMA (the other convention's update)."""
    other = "code" if pruner.options.ema_convention == "paper" else "paper"
    pruner.options = dataclasses.replace(pruner.options, ema_convention=other)


def _always_aligned(cls: type[Pruner]) -> dict[str, object]:
    return {"attributed": lambda self, values, draw=0: values}


def _one_loader_order(cls: type[Pruner]) -> dict[str, object]:
    """Every draw (warm-up run, warm-up epoch) attributed through the first draw's loader order."""
    original = cls.attributed
    return {"attributed": lambda self, values, draw=0: original(self, values, 0)}


def _aligns_scores(cls: type[Pruner]) -> bool:
    options = cls.Options
    return dataclasses.is_dataclass(options) and "score_alignment" in {f.name for f in dataclasses.fields(options)}


RANKED = lambda cls: cls.name not in ("random", "whole", "soft_random")  # noqa: E731
WEIGHTED = ("craig", "infobatch", "molpeg")
SCORED_DYNAMIC = ("epsilon_greedy", "ucb", "infobatch", "molpeg")
SEVERAL_DRAWS = ("grand_4", "grand_20", "forgetting")  # a loader order per warm-up run / epoch

MUTANTS = (
    Mutant("reversed ranking", RANKED, lambda cls: _after_init(cls, _reverse)),
    Mutant("budget - 1", lambda cls: True, lambda cls: _on_output(cls, _one_less)),
    Mutant("budget + 1", lambda cls: cls.family != "whole", lambda cls: _on_output(cls, _one_more)),
    Mutant("weights dropped", lambda cls: cls.name in WEIGHTED, lambda cls: _on_output(cls, _weights_dropped)),
    Mutant("weights inverted", lambda cls: cls.name in WEIGHTED, lambda cls: _on_output(cls, _weights_inverted)),
    Mutant("scores frozen after epoch 1", lambda cls: cls.name in SCORED_DYNAMIC, _frozen_scores),
    Mutant("same subset every epoch", lambda cls: issubclass(cls, DynamicPruner), _frozen_subset),
    Mutant("warm-up ignored (pretrained model)", lambda cls: issubclass(cls, WarmupPruner) and cls.name != "forgetting",
           _pretrained_for_warmup),
    Mutant("warm-up one epoch short", lambda cls: issubclass(cls, WarmupPruner), _warmup_one_epoch_short),
    Mutant("score_alignment ignored (always aligned)", _aligns_scores, _always_aligned),
    Mutant("one loader order for every draw", lambda cls: _aligns_scores(cls) and cls.name in SEVERAL_DRAWS,
           _one_loader_order),
    Mutant("signed gap flipped", lambda cls: cls.name == "molpeg", _gap_flipped),
    Mutant("EMA beta and 1 - beta swapped", lambda cls: cls.name == "molpeg",
           lambda cls: _after_init(cls, _ema_weights_swapped)),
)


def mutants_for(cls: type[Pruner]) -> list[Mutant]:
    return [m for m in MUTANTS if m.applies(cls)]

