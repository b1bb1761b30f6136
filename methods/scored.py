"""Shared pieces of the score-then-keep static methods: the warm-up options, seeded top-k with random
tie-breaking, the label mask and the record of a regression adaptation."""

from __future__ import annotations

import dataclasses
import json
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from molpeg_bench.methods.alignment import attribute
from molpeg_bench.methods.balance import class_groups, split_selection
from molpeg_bench.methods.base import Requirements, Selection, StaticOptions, StaticPruner
from molpeg_bench.methods.options import choice


@dataclass(frozen=True)
class WarmupOptions(StaticOptions):
    """Options shared by every method scored with the warm-up model (docs/methods/index.md#warm-up-model)."""

    warmup_epochs: int = 20  # E_w: epochs of full-data fine-tuning before scoring
    # the warm-up starts from the pretrained encoder (the paper's setting) or from a fresh initialisation
    # (the released EarlyTrain builds a new GNN and never loads the checkpoint)
    warmup_start: str = choice("pretrained", "pretrained", "random")
    # "shared": one warm-up run serves every method of the run's seed (GraNd-4 reads epoch 4 of GraNd-20's);
    # "per_method": the method trains warm-up runs of its own, as DeepCore does for every method
    warmup: str = choice("shared", "shared", "per_method")


def memo_name(pruner: Any) -> str:
    """What a method's budget-independent results depend on besides the context: its name, its algorithm's
    ``version`` and every option with its resolved value, defaults included, so a changed default names a
    new entry (``balance`` only splits the budget)."""
    chosen = {k: v for k, v in sorted(dataclasses.asdict(pruner.options).items()) if k != "balance"}
    return f"{pruner.name} v{pruner.version} {json.dumps(chosen, sort_keys=True, default=str)}"


def warmup_seed_offset(method: str, options: Any) -> int:
    """First warm-up ``seed_index`` of ``method``: 0 when shared, else a stable number of its own."""
    if getattr(options, "warmup", "shared") != "per_method":
        return 0
    return 1000 + zlib.crc32(method.encode()) % 1_000_000


def top_k(scores: np.ndarray, k: int, rng: np.random.Generator, highest: bool = True) -> np.ndarray:
    """Positions of the ``k`` highest (or lowest) scores; ties broken by a seeded shuffle, not by index."""
    scores = np.asarray(scores, dtype=np.float64)
    if np.isnan(scores).any():
        raise ValueError("scores contain NaN; expected finite values or ±inf")
    order = rng.permutation(len(scores))
    key = -scores[order] if highest else scores[order]
    return np.sort(order[np.argsort(key, kind="stable")[:k]]).astype(np.int64)


def label_mask(labels: np.ndarray) -> np.ndarray:
    """[N, T] bool: which labels are present (NaN = missing)."""
    labels = np.asarray(labels)
    return ~np.isnan(labels if labels.dtype.kind == "f" else labels.astype(np.float64))  # no float64 copy


def check_task_type(ctx: Any, method: str) -> bool:
    """True for regression, False for binary; anything else is an error naming the method."""
    if ctx.task_type not in ("binary", "regression"):
        raise ValueError(f"{method}: task_type must be 'binary' or 'regression', got {ctx.task_type!r}")
    return ctx.task_type == "regression"


class WarmupPruner(StaticPruner):
    """A static method whose warm-up length (``options.warmup_epochs``) and number of warm-up runs
    (``options.repeats``, default 1) come from its options. ``self.adapted`` names a regression
    adaptation that is not part of the original method (recorded in ``describe()``)."""

    @classmethod
    def requirements(cls, options: Any) -> Requirements:
        return dataclasses.replace(cls.requires, warmup_epochs=getattr(options, "warmup_epochs", 0),
                                   warmup_seeds=getattr(options, "repeats", 1),
                                   warmup_start=getattr(options, "warmup_start", "pretrained"),
                                   warmup_seed_offset=warmup_seed_offset(cls.name, options))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.adapted: str | None = None

    def describe(self) -> dict:
        return {**super().describe(), "adapted": self.adapted}

    def warmup_model(self, ctx: Any, seed_index: int = 0) -> Any:
        """The scoring model: warm-up run ``seed_index`` of this method after ``warmup_epochs`` (the one
        place a method takes its warm-up model from)."""
        return ctx.warmup_model(self.options.warmup_epochs, warmup_seed_offset(self.name, self.options) + seed_index)

    def warmup_correctness(self, ctx: Any, seed_index: int = 0) -> list[np.ndarray]:
        """Training dynamics of the same warm-up run (Forgetting)."""
        return ctx.warmup_correctness(self.options.warmup_epochs,
                                      warmup_seed_offset(self.name, self.options) + seed_index)


class ScoredPruner(WarmupPruner):
    """Scores every sample once and keeps the top k (``keep_highest``) or the bottom k.

    Subclasses implement ``score(ctx) -> (scores [N], meta)``; ``meta["adapted"]`` is recorded. The scores
    and their meta are shared by every budget (cached); what depends on the budget ``k`` belongs in
    ``at_budget(meta)``, evaluated at every selection.
    """

    keep_highest: bool = True

    def score(self, ctx: Any) -> tuple[np.ndarray, dict]:
        raise NotImplementedError

    def attributed(self, values: np.ndarray, draw: int = 0) -> np.ndarray:
        """``values`` (one row per molecule) as this method writes them under its ``score_alignment`` option
        (``methods.alignment``): unchanged for a method without it."""
        return attribute(values, getattr(self.options, "score_alignment", "aligned"), self.seed, self.name, draw)

    def at_budget(self, meta: dict) -> dict:
        """The record's meta of a selection at this pruner's budget from the scores' (budget-free) meta."""
        return meta

    def scores_once(self, ctx: Any) -> tuple[np.ndarray, dict]:
        """``score(ctx)``, through the context's ``memo`` when it offers one: scores do not depend on the
        budget, so every pruning ratio of a run's setting shares them."""
        memo = getattr(ctx, "memo", None)
        if memo is None:
            return self.score(ctx)

        def compute() -> tuple[dict[str, np.ndarray], dict]:
            scores, meta = self.score(ctx)
            return {"scores": np.asarray(scores, dtype=np.float64)}, meta

        arrays, meta = memo(memo_name(self), compute)
        return arrays["scores"], meta

    def coreset(self, ctx: Any) -> Selection:
        scores, meta = self.scores_once(ctx)
        self.adapted, meta = meta.get("adapted"), self.at_budget(meta)
        indices = top_k(scores, self.k, self.epoch_rng(0), self.keep_highest)
        return Selection(indices=indices, scores=np.asarray(scores, dtype=np.float64), meta=meta)

    def select(self, ctx: Any = None) -> Selection:
        """Balanced: the scores are computed once, then ranked within each class."""
        if not self.options.balance:
            return self.coreset(ctx)
        groups = class_groups(ctx, self.name)
        scores, meta = self.scores_once(ctx)
        self.adapted, meta = meta.get("adapted"), self.at_budget(meta)
        scores = np.asarray(scores, dtype=np.float64)

        def rank_class(_, members: np.ndarray, k: int, group: int) -> Selection:
            rng = np.random.default_rng([self.seed, 0, group])
            return Selection(indices=top_k(scores[members], k, rng, self.keep_highest), scores=scores[members])

        selection = split_selection(groups, self.k, rank_class, Selection)
        return dataclasses.replace(selection, meta={**meta, **selection.meta})
