"""A real selection context over the small store: a GIN model, its random split and a warm-up cache."""

from __future__ import annotations

import torch

from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.benchmark.data.splits import random_split
from molpeg_bench.benchmark.models import GINConfig, GraphPredictor
from molpeg_bench.benchmark.selection.context import build_context
from molpeg_bench.benchmark.selection.warmup_cache import WarmupCache
from molpeg_bench.methods.base import Requirements
from tests.support.data import make_small_store

CONFIG = RunConfig(dataset="toy", num_layers=2, emb_dim=16, dropout=0.2, batch_size=16, lr=1e-2, seed=3)
CPU = torch.device("cpu")
WARMUP_6_WITH_DYNAMICS = Requirements(warmup_epochs=6, needs_train_dynamics=True)


def selection_context(cache_root, needs=WARMUP_6_WITH_DYNAMICS, config=CONFIG, store=None):
    store = store if store is not None else make_small_store()
    split = random_split(len(store), 42)

    def make_model(pretrained: bool = True) -> GraphPredictor:
        return GraphPredictor(store.num_tasks, GINConfig(config.num_layers, config.emb_dim, config.dropout))

    return build_context(config, store, split.train, split.valid, make_model, None, needs, CPU,
                         WarmupCache(cache_root))
