"""The inputs of a sweep, made ready before its runs start (below the executors, ``slurm``): ``prepare_data``
featurizes each dataset once, so that workers and array tasks only read the cache; ``check_checkpoints``
loads every pretrained encoder once, so a bad checkpoint is one error for the sweep, not one per run.
"""

from __future__ import annotations

import json

from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.benchmark.models import load_encoder_checkpoint
from molpeg_bench.benchmark.run import load_run_data
from molpeg_bench.benchmark.tasks import build_model


def prepare_data(configs: list[RunConfig]) -> None:
    """Featurize (or find in the cache) every dataset the configs use, once."""
    for key in sorted({(c.dataset, c.data_dir, c.pcba_tasks) for c in configs}, key=str):
        load_run_data(next(c for c in configs if (c.dataset, c.data_dir, c.pcba_tasks) == key))


def check_checkpoints(configs: list[RunConfig]) -> None:
    """Load every distinct (checkpoint, encoder) once before any run, so a missing, unreadable or
    mismatched checkpoint is one error for the sweep, not one per run."""
    seen = set()
    for config in configs:
        key = (config.checkpoint, config.model, config.num_layers, config.emb_dim,
               json.dumps(config.model_options, sort_keys=True))
        if config.checkpoint and key not in seen:
            seen.add(key)
            load_encoder_checkpoint(build_model(config, 1).encoder, config.checkpoint)
