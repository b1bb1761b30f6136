"""Eval-mode passes over the train / valid split that a selection context lends a method: embeddings,
logits, last-layer gradient factors and the node input embeddings DeepFool perturbs."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import numpy as np
import torch
from torch import nn

from molpeg_bench.benchmark.data.graph_store import GraphStore
from molpeg_bench.benchmark.training import parameter_dtype, predict
from molpeg_bench.methods.context import InputEmbeddingBatch


class SplitFeatures:
    """Eval-mode features of the samples of each split, in split order."""

    def __init__(self, store: GraphStore, splits: dict[str, np.ndarray], task_type: str, device: torch.device,
                 eval_batch_size: int = 1024, standardisation: tuple[float, float] | None = None):
        """``standardisation``: (mean, std) of a regression target; labels are lent standardised, as the
        model predicts them."""
        self.store, self.splits, self.task_type = store, splits, task_type
        self.device, self.eval_batch_size, self.standardisation = device, eval_batch_size, standardisation

    def indices(self, split: str) -> np.ndarray:
        if split not in self.splits:
            raise ValueError(f"split must be one of {sorted(self.splits)}, got {split!r}")
        return self.splits[split]

    def labels(self, split: str) -> np.ndarray:
        y = self.store.y[torch.as_tensor(self.indices(split))].numpy()
        if self.standardisation is None:
            return y
        mean, std = self.standardisation
        return ((y - mean) / std).astype(y.dtype)

    def embeddings(self, model: nn.Module, split: str = "train") -> np.ndarray:
        return predict(model, self.store, self.indices(split), self.eval_batch_size, self.device,
                       lambda m, b: m.embed(b))

    def logits(self, model: nn.Module, split: str = "train") -> np.ndarray:
        return predict(model, self.store, self.indices(split), self.eval_batch_size, self.device)

    def last_layer_factors(self, model: nn.Module, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
        """e [N, T] (binary: m·(σ(z) − y); regression: m·(ŷ − y)) and h̃ = [h ; 1] [N, d+1]."""
        h = self.embeddings(model, split)
        z = h @ model.head.weight.detach().cpu().numpy().T + model.head.bias.detach().cpu().numpy()
        y = self.labels(split)
        mask = ~np.isnan(y)
        prediction = 1.0 / (1.0 + np.exp(-z)) if self.task_type == "binary" else z
        e = np.where(mask, prediction - np.nan_to_num(y), 0.0).astype(h.dtype)
        return e, np.hstack([h, np.ones((len(h), 1), dtype=h.dtype)])

    def input_embedding_batches(self, model: nn.Module, batch_size: int,
                                split: str = "train") -> Iterator[InputEmbeddingBatch]:
        """Batches of the split in order: node input embeddings u (a detached leaf) and u -> logits."""
        idx = self.indices(split)
        model.eval()

        def exposed(positions: np.ndarray) -> InputEmbeddingBatch:
            batch = self.store.batch(idx[positions]).to(self.device, parameter_dtype(model))
            with torch.no_grad():
                u = model.encoder.embed_atoms(batch.x)
            return InputEmbeddingBatch(positions, u.detach(), batch.batch, partial(model, batch),
                                       lambda graphs: exposed(positions[graphs.cpu().numpy()]))

        for start in range(0, len(idx), batch_size):
            yield exposed(np.arange(start, min(start + batch_size, len(idx))))
