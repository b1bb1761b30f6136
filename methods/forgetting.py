"""Forgetting (Toneva et al., ICLR 2019; docs/methods/static-scores.md#forgetting): count correct → incorrect
transitions between consecutive presentations of each sample during the warm-up run; keep the most forgotten.

``events="per_task"`` (default, closest to the original): events are counted per (sample, valid task)
and summed; a sample is never learned if some valid task was never correct. ``events="count"`` is
MolPeg's adaptation: the per-sample number of correct valid tasks, one event per decrease; never learned
if that count is never positive. Never-learned samples score ``+∞`` (paper: always kept) or ``0``
(``never_learned="zero"``, DeepCore: pruned with the unforgettable). Ties are broken at random.
Regression is refused: forgetting needs a notion of a correct prediction, and the suite's warm-up records
correctness for classification only (a threshold-based adaptation is not implemented).

When more samples were never learned than the budget keeps, the selection is a random draw among them:
the record says so (``never_learned_count``, ``never_learned_exceeds_budget``) and a warning is logged.

``score_alignment="official_shuffled"`` is the official MolPeg code's attribution (``methods.alignment``):
its warm-up pairs each shuffled batch with the indices of an independent permutation, so every epoch's
correctness (with its label mask) reaches the counting at the positions of a permutation of its own.
The code bundle (``--fidelity code``) is that code's Forgetting: a warm-up from a fresh initialisation,
one event per decrease of the number of correct valid tasks (``events="count"``), never-forgotten and
never-learned samples alike at 0 (``never_learned="zero"``), and the shuffled attribution.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from molpeg_bench.methods.alignment import AlignmentOptions
from molpeg_bench.methods.base import Requirements
from molpeg_bench.methods.options import choice
from molpeg_bench.methods.registry import register
from molpeg_bench.methods.scored import ScoredPruner, WarmupOptions, check_task_type, label_mask

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ForgettingOptions(AlignmentOptions, WarmupOptions):
    never_learned: str = choice("infinite", "infinite", "zero")  # "infinite" (paper: always kept) or "zero" (DeepCore)
    # "per_task" (sum over valid tasks) or "count" (MolPeg: decreases of #correct tasks)
    events: str = choice("per_task", "per_task", "count")


def forgetting_scores(correct: list[np.ndarray], valid: np.ndarray | list[np.ndarray], events: str,
                      never_learned: str) -> np.ndarray:
    """[N] forgetting events from per-epoch correctness [N, T], masked by ``valid`` [N, T] or by one mask per
    epoch (what each presentation at a position had labelled; a task is valid where some epoch's mask says so)."""
    if not correct:
        raise ValueError("forgetting needs at least one epoch of warm-up correctness")
    masks = valid if isinstance(valid, list) else [valid] * len(correct)
    if len(masks) != len(correct):
        raise ValueError(f"forgetting: {len(masks)} label masks for {len(correct)} epochs of correctness")
    steps = [np.asarray(c, dtype=bool) & m for c, m in zip(correct, masks, strict=True)]
    labelled = np.logical_or.reduce(masks)
    if events == "per_task":
        counts = sum(((a & ~b).sum(axis=1) for a, b in zip(steps, steps[1:], strict=False)),
                     np.zeros(len(labelled)))
        ever = np.logical_or.reduce(steps)
        never = (labelled & ~ever).any(axis=1)
    elif events == "count":
        n_correct = np.stack([s.sum(axis=1) for s in steps])  # [epochs, N]
        counts = (np.diff(n_correct, axis=0) < 0).sum(axis=0).astype(np.float64)
        never = (n_correct.max(axis=0) == 0) & labelled.any(axis=1)
    else:
        raise ValueError(f"forgetting events must be 'per_task' or 'count', got {events!r}")
    if never_learned not in ("infinite", "zero"):
        raise ValueError(f"forgetting never_learned must be 'infinite' or 'zero', got {never_learned!r}")
    return np.where(never, np.inf if never_learned == "infinite" else 0.0, counts.astype(np.float64))


@register("forgetting")
class Forgetting(ScoredPruner):
    Options = ForgettingOptions
    requires = Requirements(needs_train_dynamics=True)
    code_options = {"warmup_start": "random", "events": "count", "never_learned": "zero",
                    "score_alignment": "official_shuffled"}
    code_reference = "official MolPeg code: pruning/deepcore/methods/forgetting.py, earlytrain.py"

    def score(self, ctx) -> tuple[np.ndarray, dict]:
        if check_task_type(ctx, self.name):
            raise ValueError("forgetting is not defined for regression: the warm-up records no correctness for "
                             "a regression task; choose another method")
        correct, valid = self.warmup_correctness(ctx), label_mask(ctx.labels)
        # each epoch's presentations as attributed to positions (unchanged when aligned)
        correct = [self.attributed(c, draw=epoch) for epoch, c in enumerate(correct)]
        masks = [self.attributed(valid, draw=epoch) for epoch in range(len(correct))]
        scores = forgetting_scores(correct, masks, self.options.events, self.options.never_learned)
        return scores, {"adapted": None, "never_learned_count": int(np.isinf(scores).sum())}

    def at_budget(self, meta: dict) -> dict:
        """Whether the never-learned outnumber this budget: decided at every selection, as the scores (and
        their count) are shared by every pruning ratio."""
        never = meta["never_learned_count"]
        if never > self.k:
            log.warning("forgetting: %d samples were never learned, more than the budget k = %d: the selection "
                        "is a random draw among them", never, self.k)
        return {**meta, "never_learned_exceeds_budget": never > self.k}
