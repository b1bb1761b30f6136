"""Run a list of run configs on this machine, skipping those whose record already exists.

Datasets are featurized once in the parent (so workers only read the cache); runs are spread over
``jobs`` worker processes, each with ``cpu_count // jobs`` torch threads. A failed run leaves no
record and is reported; the others go on. (The SLURM executors live in ``slurm``.)
"""

from __future__ import annotations

import logging
import os
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from tqdm.auto import tqdm

from benchmark.config import RunConfig
from benchmark.run import load_run_data, run_finetune
from results.store import RunStore

log = logging.getLogger(__name__)


@dataclass
class SweepSummary:
    total: int = 0
    skipped: int = 0
    completed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


class RunFailed(RuntimeError):
    """A run ended with a failed record (e.g. an undefined metric); the message is its reason."""


def execute_config(config: RunConfig, store_root: str) -> str:
    """Run one config and store its record; returns the run id, or raises ``RunFailed`` with the reason
    after storing a failed record. (Also the unit a SLURM job runs.)"""
    record = run_finetune(config)
    RunStore(store_root).put(record)
    if record["status"] != "complete":
        raise RunFailed(record["failure"]["reason"])
    return record["run_id"]


def check_checkpoints(configs: list[RunConfig]) -> None:
    """Load every distinct (checkpoint, architecture) once before any run, so a missing, unreadable or
    mismatched checkpoint is one error for the sweep, not one per run."""
    from benchmark.models import GINConfig, GINEncoder, load_encoder_checkpoint

    for path, layers, width in sorted({(c.checkpoint, c.num_layers, c.emb_dim) for c in configs if c.checkpoint}):
        load_encoder_checkpoint(GINEncoder(GINConfig(layers, width)), path)


def _worker_init(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    logging.basicConfig(level=logging.WARNING)


def pending(configs: list[RunConfig], store: RunStore) -> list[RunConfig]:
    """Configs without a complete record (duplicates removed, order kept)."""
    seen, todo = set(), []
    for c in configs:
        rid = c.run_id()
        if rid not in seen and not store.has(rid):
            todo.append(c)
        seen.add(rid)
    return todo


def run_sweep(configs: list[RunConfig], store_root: str | Path, jobs: int = 1) -> SweepSummary:
    store = RunStore(store_root)
    store.check_writable()
    check_checkpoints(configs)
    todo = pending(configs, store)
    summary = SweepSummary(total=len({c.run_id() for c in configs}))
    summary.skipped = summary.total - len(todo)
    log.info("sweep: %d runs, %d already in %s, %d to run with %d job(s)", summary.total, summary.skipped,
             store_root, len(todo), jobs)
    for key in sorted({(c.dataset, c.data_dir, c.pcba_tasks) for c in todo}):
        load_run_data(next(c for c in todo if (c.dataset, c.data_dir, c.pcba_tasks) == key))
    bar = tqdm(total=len(todo), desc="runs", disable=not sys.stderr.isatty())
    if jobs <= 1:
        for c in todo:
            _collect(summary, c, lambda c=c: execute_config(c, str(store_root)))
            bar.update()
    else:
        threads = max(1, (os.cpu_count() or 1) // jobs)
        with ProcessPoolExecutor(jobs, mp_context=get_context("spawn"), initializer=_worker_init,
                                 initargs=(threads,)) as pool:
            futures = {pool.submit(execute_config, c, str(store_root)): c for c in todo}
            for future in as_completed(futures):
                _collect(summary, futures[future], future.result)
                bar.update()
    bar.close()
    for rid, err in summary.failed.items():
        log.error("run %s failed: %s", rid, err)
    return summary


def _collect(summary: SweepSummary, config: RunConfig, result) -> None:
    try:
        summary.completed.append(result())
    except Exception as exc:  # one failed run must not stop the sweep
        summary.failed[config.run_id()] = f"{type(exc).__name__}: {exc}"
