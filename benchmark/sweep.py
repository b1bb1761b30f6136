"""Run a list of run configs, skipping those whose record already exists.

The executors (in process, worker processes, SLURM job arrays) live in ``slurm``; ``run_sweep`` is the
in-process entry point kept for scripts and tests and goes through the same code path
(``slurm.sweep.start_sweep``). ``prepare_data`` featurizes each dataset once before the runs start, so
that workers and array tasks only read the cache.
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmark.config import RunConfig
from benchmark.run import load_run_data


def prepare_data(configs: list[RunConfig]) -> None:
    """Featurize (or find in the cache) every dataset the configs use, once."""
    for key in sorted({(c.dataset, c.data_dir, c.pcba_tasks) for c in configs}, key=str):
        load_run_data(next(c for c in configs if (c.dataset, c.data_dir, c.pcba_tasks) == key))


def check_checkpoints(configs: list[RunConfig]) -> None:
    """Load every distinct (checkpoint, encoder) once before any run, so a missing, unreadable or
    mismatched checkpoint is one error for the sweep, not one per run."""
    from benchmark.models import load_encoder_checkpoint
    from benchmark.tasks import build_model

    seen = set()
    for config in configs:
        key = (config.checkpoint, config.model, config.num_layers, config.emb_dim,
               json.dumps(config.model_options, sort_keys=True))
        if config.checkpoint and key not in seen:
            seen.add(key)
            load_encoder_checkpoint(build_model(config, 1).encoder, config.checkpoint)


def run_sweep(configs: list[RunConfig], store_root: str | Path, jobs: int = 1):
    """Run the configs without a record: in this process (``jobs`` <= 1) or in ``jobs`` worker processes.
    Returns a ``slurm.sweep.SweepSummary``."""
    from slurm.sweep import start_sweep  # the executors sit above the fine-tuning package

    return start_sweep(configs, store_root, executor="debug" if jobs <= 1 else "local", jobs=jobs)
