"""One fine-tuning run end to end: config -> data -> pruner -> loop -> run record (a JSON dict).

The reported test metric is the one at the epoch with the best validation metric (strict
improvement, first best wins); every epoch is evaluated.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from benchmark.config import RunConfig
from benchmark.data import GraphStore, load_dataset, make_split
from benchmark.metrics import multitask_score
from benchmark.models import GINConfig, GraphPredictor, describe_checkpoint, load_encoder_checkpoint
from benchmark.models.device import resolve_device
from benchmark.resume import EpochCheckpoint, LoopState
from benchmark.selection_context import FineTuneContext
from benchmark.training import predict, train_epoch
from methods import DynamicPruner, StaticPruner, make_pruner
from methods.base import shuffled_plan

log = logging.getLogger(__name__)
RECORD_SCHEMA = 1


def library_versions() -> dict:
    import rdkit
    import sklearn
    import torch_geometric

    return {"python": platform.python_version(), "torch": torch.__version__, "torch_geometric":
            torch_geometric.__version__, "rdkit": rdkit.__version__, "numpy": np.__version__,
            "scikit-learn": sklearn.__version__, "molpeg-bench": _suite_version()}


def _suite_version() -> str:
    """The package version, plus the git commit when running from a checkout."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        text = version("molpeg-bench")
    except PackageNotFoundError:
        text = "unknown"
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).parent, timeout=5, check=True).stdout.strip()
        return f"{text}+g{commit}" if commit else text
    except (OSError, subprocess.SubprocessError):
        return text


def load_run_data(config: RunConfig) -> GraphStore:
    options = {"pcba_tasks": config.pcba_tasks} if config.dataset == "pcba" else {}
    store = load_dataset(config.dataset, data_dir=config.data_dir, **options)
    if config.subsample is not None and config.subsample < len(store):
        rng = np.random.default_rng(config.split_seed)
        store = store.subset(np.sort(rng.choice(len(store), config.subsample, replace=False)))
    return store


def run_finetune(config: RunConfig, store: GraphStore | None = None,
                 checkpoint_path: str | Path | None = None) -> dict:
    """Execute ``config`` and return its complete run record. With ``checkpoint_path`` the loop's state is
    saved there after every epoch, and a run that finds a checkpoint there resumes from it."""
    started, t_start = datetime.now(UTC).isoformat(timespec="seconds"), time.perf_counter()
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    device = resolve_device(config.device)
    store = store if store is not None else load_run_data(config)
    split = make_split(config.split, store.smiles, config.split_seed)
    metric = store.meta.get("metric", "roc_auc")
    gin = GINConfig(config.num_layers, config.emb_dim, config.dropout)

    def make_model() -> GraphPredictor:
        model = GraphPredictor(store.num_tasks, gin)
        if config.checkpoint:
            load_encoder_checkpoint(model.encoder, config.checkpoint)
        return model.to(device)

    torch.manual_seed(config.seed)
    model = make_model()
    checkpoint = describe_checkpoint(config.checkpoint)
    pruner = make_pruner(config.method, n_samples=len(split.train), keep_ratio=config.keep_ratio,
                         seed=config.seed, options=config.method_options, rounding=config.budget_rounding)
    ctx = FineTuneContext(store, split.train, split.valid, make_model, seed=config.seed,
                          batch_size=config.batch_size, lr=config.lr, weight_decay=config.weight_decay,
                          convention=config.loss_convention, device=device,
                          eval_batch_size=config.eval_batch_size)
    timings = {"warmup": 0.0, "scoring": 0.0, "training": 0.0, "evaluation": 0.0}
    selection = None
    resume = EpochCheckpoint(checkpoint_path, config.run_id()) if checkpoint_path else None
    saved = resume.load() if resume is not None else None
    if saved is not None and isinstance(pruner, StaticPruner):
        selection = saved["loop"].selection  # chosen before the interruption: no warm-up again
    elif isinstance(pruner, StaticPruner):
        t0 = time.perf_counter()
        selection = pruner.select(ctx)
        timings["warmup"] = ctx.seconds_warmup
        timings["scoring"] = time.perf_counter() - t0 - ctx.seconds_warmup
        _check_selection(selection.indices, pruner.k, len(split.train), config.method)
    else:
        pruner.setup(model)

    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    epochs, best = [], {"epoch": -1, "valid": -math.inf, "test": math.nan}
    visits = 0
    context = saved["loop"].context if saved is not None else ctx.describe()
    state = LoopState()
    if saved is not None:
        state = resume.restore(saved, model, optimizer, pruner)
        epochs, best, visits, timings = state.epochs, state.best, state.visits, state.timings
    bar = tqdm(range(state.epoch + 1, config.epochs + 1),
               desc=f"{config.dataset}/{config.method}/{config.prune_ratio:g}",
               disable=not sys.stderr.isatty(), leave=False)
    for epoch in bar:
        t0 = time.perf_counter()
        if selection is not None:
            weights = 1.0 if selection.weights is None else selection.weights
            plan = shuffled_plan(pruner.epoch_rng(epoch), selection.indices, weights)
        else:
            plan = pruner.plan_epoch(epoch)
        timings["scoring"] += time.perf_counter() - t0
        stats = train_epoch(model, optimizer, store, split.train, plan, config.batch_size,
                            config.loss_convention, device, pruner if isinstance(pruner, DynamicPruner) else None)
        timings["training"] += stats.seconds_training
        timings["scoring"] += stats.seconds_scoring
        visits += stats.visits
        t0 = time.perf_counter()
        scores = {}
        for name, idx in (("valid", split.valid), ("test", split.test)):
            logits = predict(model, store, idx, config.eval_batch_size, device)
            scores[name] = multitask_score(store.y[torch.as_tensor(idx)].numpy(), logits, metric)
        timings["evaluation"] += time.perf_counter() - t0
        epochs.append({"epoch": epoch, "train_loss": stats.mean_loss, "n_trained": stats.visits,
                       "valid": scores["valid"], "test": scores["test"], **plan.info})
        if scores["valid"] > best["valid"]:
            best = {"epoch": epoch, "valid": scores["valid"], "test": scores["test"]}
        bar.set_postfix(valid=f"{scores['valid']:.3f}", test=f"{scores['test']:.3f}")
        if resume is not None:
            resume.save(LoopState(epoch, epochs, best, visits, timings, state.elapsed + time.perf_counter() - t_start,
                                  selection, context, state.resumed_from), model, optimizer, pruner)
    timings["total"] = state.elapsed + time.perf_counter() - t_start

    return {
        "schema": RECORD_SCHEMA, "run_id": config.run_id(), "status": "complete", "config": config.to_dict(),
        "pruner": pruner.describe(), "checkpoint": checkpoint, "metric": metric,
        "dataset": {k: store.meta.get(k) for k in ("dataset", "source_file", "source_sha256", "n_molecules",
                                                     "n_unsanitized_kept", "n_skipped_unparsable",
                                                     "unsanitized_policy", "featurizer", "task_names")}
        | {"n_used": len(store), "split_sizes": split.sizes()},
        "selection": None if selection is None else {"n_selected": len(selection.indices),
                                                      "indices_sha256": _hash_indices(selection.indices),
                                                      **selection.meta},
        "context": context, "epochs": epochs, "best_epoch": best["epoch"], "best_valid": best["valid"],
        "test_at_best": best["test"], "sample_visits": visits, "timings": timings,
        "environment": {"versions": library_versions(), "device": str(device),
                        "num_threads": torch.get_num_threads(), "host": platform.node(), "pid": os.getpid(),
                        "resumed_after_epochs": state.resumed_from},
        "started_at": started,
    }


def _check_selection(indices: np.ndarray, k: int, n: int, method: str) -> None:
    idx = np.asarray(indices)
    if len(idx) != k or len(np.unique(idx)) != k or idx.min() < 0 or idx.max() >= n:
        raise RuntimeError(f"method {method!r} must select exactly {k} unique indices in [0, {n}); "
                           f"got {len(idx)} ({len(np.unique(idx))} unique)")


def _hash_indices(indices: np.ndarray) -> str:
    return hashlib.sha256(np.asarray(indices, dtype=np.int64).tobytes()).hexdigest()[:16]
