"""Class-balanced static selection (DeepCore's ``balance=True``, docs/methods/index.md#class-balance).

The budget k is split over the classes of a single-task classification dataset in proportion to their
sizes (largest remainder, so the shares sum to exactly k), and each class is selected by the method's own
rule on a ``SubsetContext``: the training-set context seen through the class's positions. Methods that
score every sample once rank inside each class instead (``ScoredPruner``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

from molpeg_bench.methods.budget import proportional_shares


def class_groups(ctx: Any, method: str) -> list[np.ndarray]:
    """Positions of each class (label 0, label 1, then missing labels if any) of a single-task
    classification context; anything else is an error naming the method."""
    labels = np.asarray(ctx.labels, dtype=np.float64)
    if ctx.task_type != "binary" or labels.ndim != 2 or labels.shape[1] != 1:
        raise ValueError(f"{method}: balance=true needs a single-task classification dataset; this one is "
                         f"{ctx.task_type} with {labels.shape[1] if labels.ndim == 2 else '?'} tasks")
    y = labels[:, 0]
    groups = [np.flatnonzero(y == 0), np.flatnonzero(y == 1), np.flatnonzero(np.isnan(y))]
    return [g for g in groups if len(g)]


def split_selection(groups: list[np.ndarray], k: int, select_in: Callable[[Any, np.ndarray, int, int], Any],
                    selection_type: type, ctx: Any = None) -> Any:
    """Join the per-class selections ``select_in(ctx, members, k_class, group)`` into one selection of
    exactly k positions (weights and scores mapped back to training-set positions)."""
    shares = proportional_shares(np.array([len(g) for g in groups]), k)
    indices, weights, scores, weighted, meta = [], [], None, False, {"balance": []}
    for group, (members, share) in enumerate(zip(groups, shares, strict=True)):
        meta["balance"].append({"size": int(len(members)), "kept": int(share)})
        if share == 0:
            continue
        part = select_in(ctx, members, int(share), group)
        indices.append(members[np.asarray(part.indices)])
        weighted |= part.weights is not None
        weights.append(np.ones(int(share)) if part.weights is None else np.asarray(part.weights, dtype=np.float64))
        if part.scores is not None:
            scores = np.full(sum(len(g) for g in groups), np.nan) if scores is None else scores
            scores[members] = part.scores
        meta.setdefault("per_class", []).append(part.meta)
    indices, weights = np.concatenate(indices), np.concatenate(weights)
    order = np.argsort(indices)
    return selection_type(indices=indices[order].astype(np.int64), weights=weights[order] if weighted else None,
                          scores=scores, meta=meta)


class SubsetContext:
    """A ``SelectionContext`` restricted to the training positions ``members``: per-sample arrays are
    sliced and renumbered 0..len(members)-1; models, warm-ups and the validation split are shared."""

    def __init__(self, ctx: Any, members: np.ndarray):
        self.ctx, self.members = ctx, np.asarray(members, dtype=np.int64)
        self.n_samples, self.num_tasks = len(self.members), ctx.num_tasks
        self.task_type, self.lr, self.rng = ctx.task_type, ctx.lr, ctx.rng
        self.labels = np.asarray(ctx.labels)[self.members]
        self.valid_labels = ctx.valid_labels
        self.smiles = [ctx.smiles[i] for i in self.members] if len(ctx.smiles) else []

    def pretrained_model(self):
        return self.ctx.pretrained_model()

    def warmup_model(self, epochs: int, seed_index: int = 0):
        return self.ctx.warmup_model(epochs, seed_index)

    def warmup_correctness(self, epochs: int, seed_index: int = 0) -> list[np.ndarray]:
        return [c[self.members] for c in self.ctx.warmup_correctness(epochs, seed_index)]

    def _rows(self, array: np.ndarray, split: str) -> np.ndarray:
        return array[self.members] if split == "train" else array

    def embeddings(self, model, split: str = "train") -> np.ndarray:
        return self._rows(self.ctx.embeddings(model, split), split)

    def logits(self, model, split: str = "train") -> np.ndarray:
        return self._rows(self.ctx.logits(model, split), split)

    def last_layer_factors(self, model, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
        e, ht = self.ctx.last_layer_factors(model, split)
        return self._rows(e, split), self._rows(ht, split)

    def input_embedding_batches(self, model, batch_size: int) -> Iterator[Any]:
        """The context's batches cut down to the members (needs batches that offer ``subset``)."""
        local = np.full(self.ctx.n_samples, -1, dtype=np.int64)
        local[self.members] = np.arange(len(self.members))
        for batch in self.ctx.input_embedding_batches(model, batch_size):
            keep = np.flatnonzero(local[np.asarray(batch.indices)] >= 0)
            if len(keep) == 0:
                continue
            if len(keep) < len(batch.indices):
                if batch.subset is None:
                    raise ValueError("balance=true with input-embedding batches needs batches that offer subset")
                batch = batch.subset(torch.as_tensor(keep))
            yield dataclasses.replace(batch, indices=local[np.asarray(batch.indices)])

    def describe(self) -> dict:
        return self.ctx.describe()
