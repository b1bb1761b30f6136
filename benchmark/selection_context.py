"""The suite's implementation of ``methods.context.SelectionContext``: warm-up training, embeddings,
logits and last-layer gradient factors, lent to static methods on request.

Warm-up models are cached per (epochs) within a run, so methods that share a warm-up length share
the model; the time spent is reported separately from scoring.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from benchmark.data.graph_store import GraphStore
from benchmark.training import predict, train_epoch
from methods.base import shuffled_plan


class FineTuneContext:
    def __init__(self, store: GraphStore, train_idx: np.ndarray, valid_idx: np.ndarray,
                 make_model: Callable[[], nn.Module], *, seed: int, batch_size: int, lr: float,
                 weight_decay: float, convention: str, device: torch.device, eval_batch_size: int = 1024):
        self.store, self.train_idx, self.valid_idx = store, train_idx, valid_idx
        self.make_model = make_model
        self.seed, self.batch_size, self.lr, self.weight_decay = seed, batch_size, lr, weight_decay
        self.convention, self.device, self.eval_batch_size = convention, device, eval_batch_size
        self.n_samples = len(train_idx)
        self.num_tasks = store.num_tasks
        self.task_type = "binary"
        self.labels = store.y[torch.as_tensor(train_idx)].numpy()
        self.rng = np.random.default_rng([seed, 7919])
        self._warm: dict[int, nn.Module] = {}
        self.seconds_warmup = 0.0

    def pretrained_model(self) -> nn.Module:
        return self.make_model()

    def warmup_model(self, epochs: int, on_batch=None) -> nn.Module:
        if epochs in self._warm and on_batch is None:
            return copy.deepcopy(self._warm[epochs])  # a copy: the cached model stays as trained
        t0 = time.perf_counter()
        torch.manual_seed(self.seed)
        model = self.make_model()
        optimizer = torch.optim.Adam(model.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        for epoch in range(epochs):
            plan = shuffled_plan(np.random.default_rng([self.seed, 104729, epoch]), np.arange(self.n_samples))
            train_epoch(model, optimizer, self.store, self.train_idx, plan, self.batch_size, self.convention,
                        self.device, on_batch=on_batch)
        model.eval()
        self._warm[epochs] = model
        self.seconds_warmup += time.perf_counter() - t0
        return copy.deepcopy(model)

    def _predict(self, model: nn.Module, fn, split: str = "train") -> np.ndarray:
        idx = self.train_idx if split == "train" else self.valid_idx
        return predict(model, self.store, idx, self.eval_batch_size, self.device, fn)

    def embeddings(self, model: nn.Module, split: str = "train") -> np.ndarray:
        return self._predict(model, lambda m, b: m.embed(b), split)

    def logits(self, model: nn.Module, split: str = "train") -> np.ndarray:
        return self._predict(model, None, split)

    def last_layer_factors(self, model: nn.Module, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
        """e = m·(σ(z) - y) [N, T] (sum-reduced masked BCE) and h̃ = [h ; 1] [N, d+1]."""
        idx = self.train_idx if split == "train" else self.valid_idx
        h = self.embeddings(model, split)
        z = h @ model.head.weight.detach().cpu().numpy().T + model.head.bias.detach().cpu().numpy()
        y = self.store.y[torch.as_tensor(idx)].numpy()
        mask = ~np.isnan(y)
        e = np.where(mask, 1.0 / (1.0 + np.exp(-z)) - np.nan_to_num(y), 0.0)
        return e, np.hstack([h, np.ones((len(h), 1), dtype=h.dtype)])

    def describe(self) -> dict:
        return {"warmup_epochs_trained": sorted(self._warm), "seconds_warmup": self.seconds_warmup}
