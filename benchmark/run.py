"""One fine-tuning run end to end: config -> data -> pruner -> loop -> run record (a JSON dict).

The reported test metric is the one at the epoch with the best validation metric (strict
improvement, first best wins); every epoch is evaluated.
"""

from __future__ import annotations

import logging
import math
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from molpeg_bench._version import suite_version
from molpeg_bench.benchmark.config import PER_STEP_SCHEDULES, RunConfig
from molpeg_bench.benchmark.data import GraphStore, load_dataset
from molpeg_bench.benchmark.data.csv_source import CSV_OPTIONS, CSV_PREFIX
from molpeg_bench.benchmark.data.identity import DATA_RULES, checkpoint_sha256, indices_sha256, subsample_indices
from molpeg_bench.benchmark.data.sources_3d import get_3d_source
from molpeg_bench.benchmark.data.splits import Split
from molpeg_bench.benchmark.fidelity import pruner_options
from molpeg_bench.benchmark.machine import describe_machine
from molpeg_bench.benchmark.metric_check import UndefinedMetricError, check_metric_defined
from molpeg_bench.benchmark.models import describe_checkpoint, load_encoder_checkpoint
from molpeg_bench.benchmark.models.device import resolve_device
from molpeg_bench.benchmark.models.gin_inference import evaluation_logits
from molpeg_bench.benchmark.pruner_calls import (
    check_plan_kept,
    check_selected,
    describe_pruner,
    epoch_plan,
    method_requirements,
    needs_score_pass,
    score_pass,
    select_coreset,
)
from molpeg_bench.benchmark.resume import EpochCheckpoint, LoopState
from molpeg_bench.benchmark.selection.context import build_context
from molpeg_bench.benchmark.selection.diagnostics import with_diagnostics
from molpeg_bench.benchmark.tasks import (
    Task,
    build_model,
    geometry_record,
    improves,
    load_3d_store,
    make_scheduler,
    make_task,
    method_options,
    task_split,
)
from molpeg_bench.benchmark.training import predict, train_epoch
from molpeg_bench.methods import DynamicPruner, StaticPruner, get_method, make_pruner
from molpeg_bench.methods.guard import MethodError, method_call
from molpeg_bench.results.record_schema import DATA_IDENTITY, RECORD_SCHEMA

log = logging.getLogger(__name__)


def library_versions() -> dict:
    import rdkit
    import sklearn
    import torch_geometric

    return {"python": platform.python_version(), "torch": torch.__version__, "torch_geometric":
            torch_geometric.__version__, "rdkit": rdkit.__version__, "numpy": np.__version__,
            "scikit-learn": sklearn.__version__, "molpeg-bench": suite_version()}


def load_run_data(config: RunConfig) -> GraphStore:
    if get_3d_source(config.dataset) is not None:
        return load_3d_store(config)
    options = {"pcba_tasks": config.pcba_tasks} if config.dataset == "pcba" else {}
    if config.dataset.startswith(CSV_PREFIX):
        options = {k: v for k, v in config.data_options.items() if k in CSV_OPTIONS}
    store = load_dataset(config.dataset, data_dir=config.data_dir, **options)
    kept = subsample_indices(len(store), config.subsample, config.split_seed)
    if kept is not None:
        store = store.subset(kept)
        store.meta["subsample_sha256"] = indices_sha256(kept)
    return store


def data_identity(config: RunConfig, store: GraphStore, split: Split) -> dict:
    """The record's ``data_identity`` section: what besides the config determined the result."""
    return {"dataset": config.dataset, "source_file": store.meta.get("source_file"),
            "source_sha256": store.meta.get("source_sha256"), "featurizer": store.meta.get("featurizer"),
            "data_rules": DATA_RULES, "n_molecules": store.meta.get("n_molecules"), "n_used": len(store),
            "subsample": config.subsample, "subsample_sha256": store.meta.get("subsample_sha256"),
            "split": config.split, "split_seed": config.split_seed,
            "split_sha256": indices_sha256(split.train, split.valid, split.test),
            "checkpoint_sha256": checkpoint_sha256(config.checkpoint)}


def failed_record(config: RunConfig, identity: dict, error: UndefinedMetricError, metric: str) -> dict:
    """The record of a run whose metric is undefined: the reason instead of a NaN result."""
    return {"schema": RECORD_SCHEMA, "run_id": config.run_id(), "status": "failed", "config": config.to_dict(),
            DATA_IDENTITY: identity, "metric": metric, "failure": {"reason": str(error), **error.details},
            "environment": {"versions": library_versions(), "host": platform.node()},
            "started_at": datetime.now(UTC).isoformat(timespec="seconds")}


def run_finetune(config: RunConfig, store: GraphStore | None = None,
                 checkpoint_path: str | Path | None = None) -> dict:
    """Execute ``config`` and return its run record: complete, or failed with the reason when the valid or
    test metric is undefined (checked before training, and again on the trained model's scores). With
    ``checkpoint_path`` the loop's state is saved there after every epoch, and a run that finds a
    checkpoint there resumes from it. A method that fails (``methods.guard.MethodError``) stops the run; when
    its output broke the contract its checkpoint goes too, so no rerun resumes into the same failure."""
    try:
        return _finetune(config, store, checkpoint_path)
    except MethodError as exc:
        if exc.broke_contract and checkpoint_path is not None:
            Path(checkpoint_path).unlink(missing_ok=True)
        raise


def _finetune(config: RunConfig, store: GraphStore | None, checkpoint_path: str | Path | None) -> dict:
    started, t_start = datetime.now(UTC).isoformat(timespec="seconds"), time.perf_counter()
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    device = resolve_device(config.device)
    store = store if store is not None else load_run_data(config)
    split = task_split(config, store)
    task = make_task(config, store)
    metric = task.metric
    identity = data_identity(config, store, split)
    excluded: dict = {}
    if task.kind == "binary":  # a regression metric is always defined
        try:
            excluded = check_metric_defined(store.y.numpy(), split, store.meta.get("task_names") or [],
                                            config.dataset, metric)
        except UndefinedMetricError as exc:
            return failed_record(config, identity, exc, metric)

    def make_model(pretrained: bool = True) -> nn.Module:
        model = build_model(config, store.num_tasks)
        if config.checkpoint and pretrained:
            load_encoder_checkpoint(model.encoder, config.checkpoint)
        return model.to(device)

    torch.manual_seed(config.seed)
    model = make_model()
    checkpoint = describe_checkpoint(config.checkpoint)
    method, options = pruner_options(config.method, method_options(config), config.fidelity)
    with method_call(method, "__init__()"):
        pruner = make_pruner(method, n_samples=len(split.train), keep_ratio=config.keep_ratio,
                             seed=config.seed, options=options, rounding=config.budget_rounding)
    ctx = build_context(config, store, split.train, split.valid, make_model, checkpoint.get("sha256"),
                        method_requirements(pruner), device, task=task)
    timings = {"warmup": 0.0, "scoring": 0.0, "training": 0.0, "evaluation": 0.0}
    selection = None
    resume = EpochCheckpoint(checkpoint_path, config.run_id()) if checkpoint_path else None
    saved = resume.load() if resume is not None else None
    if saved is not None and isinstance(pruner, StaticPruner):
        selection = saved["loop"].selection  # chosen before the interruption: no warm-up again
        check_selected(pruner, selection, len(split.train))
    elif isinstance(pruner, StaticPruner):
        t0 = time.perf_counter()
        log.info("%s/%s/%g: selecting %d of %d training molecules (warm-up and scoring)", config.dataset,
                 config.method, config.prune_ratio, pruner.k, len(split.train))
        selection = select_coreset(pruner, ctx, len(split.train), device)
        # warm-up: its recorded training cost (trained here or reused); scoring: the rest of the selection
        timings["warmup"] = ctx.warmups.seconds_charged
        timings["scoring"] = time.perf_counter() - t0 - ctx.warmups.seconds_wall
        # judged by the run seed's reference model; in the selection, so the epoch checkpoint keeps it (a
        # selection of the whole training set has nothing to judge and trains no reference model for it)
        if pruner.k < len(split.train):
            selection = with_diagnostics(selection, ctx, task, store.y[torch.as_tensor(split.train)].numpy())
    else:
        with method_call(pruner.name, "setup()"):
            pruner.setup(model, epochs=config.epochs)

    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = make_scheduler(config, optimizer)
    per_step = config.lr_schedule in PER_STEP_SCHEDULES
    epochs, best = [], {"epoch": -1, "valid": None, "test": math.nan}
    visits = 0
    context = saved["loop"].context if saved is not None else ctx.describe()
    state = LoopState()
    if saved is not None:
        state = resume.restore(saved, model, optimizer, pruner)
        epochs, best, visits, timings = state.epochs, state.best, state.visits, state.timings
        done = sum(math.ceil(e["n_trained"] / config.batch_size) for e in epochs) if per_step else state.epoch
        for _ in range(done if scheduler is not None else 0):  # the schedule where it stopped
            scheduler.step()
    label = f"{config.dataset}/{config.method}/{config.prune_ratio:g}"
    bar = tqdm(range(state.epoch + 1, config.epochs + 1), desc=label, disable=not sys.stderr.isatty(), leave=False)
    for epoch in bar:
        t0 = t0_epoch = time.perf_counter()
        returned, plan = epoch_plan(pruner, epoch, selection, len(split.train))
        timings["scoring"] += time.perf_counter() - t0
        stats = train_epoch(model, optimizer, store, split.train, plan, config.batch_size,
                            config.loss_convention, device, pruner if isinstance(pruner, DynamicPruner) else None,
                            task=task, after_step=scheduler.step if per_step else None)
        check_plan_kept(pruner, epoch, returned, plan)
        timings["training"] += stats.seconds_training
        timings["scoring"] += stats.seconds_scoring
        visits += stats.visits
        if needs_score_pass(pruner):
            timings["scoring"] += _score_pass(pruner, model, store, split.train, task, config, device)
        t0 = time.perf_counter()
        scores = {}
        for name, idx in (("valid", split.valid), ("test", split.test)):
            logits = predict(model, store, idx, config.eval_batch_size, device, fn=evaluation_logits)
            scores[name] = task.score(store.y[torch.as_tensor(idx)].numpy(), logits)
        timings["evaluation"] += time.perf_counter() - t0
        epochs.append({"epoch": epoch, "train_loss": stats.mean_loss, "n_trained": stats.visits,
                       "valid": scores["valid"], "test": scores["test"], **plan.info})
        if improves(task, scores["valid"], best["valid"]):
            best = {"epoch": epoch, "valid": scores["valid"], "test": scores["test"]}
        bar.set_postfix(valid=f"{scores['valid']:.3f}", test=f"{scores['test']:.3f}")
        log.info("%s epoch %d/%d: train loss %.4f, valid %s %.4f, test %.4f, kept %.3f, %.1f s", label, epoch,
                 config.epochs, stats.mean_loss, metric, scores["valid"], scores["test"],
                 stats.visits / max(1, len(split.train)), time.perf_counter() - t0_epoch)
        if scheduler is not None:  # the rate in effect at the epoch's end (per epoch: the one it trained with)
            epochs[-1]["lr"] = optimizer.param_groups[0]["lr"]
            if not per_step:
                scheduler.step()
        if resume is not None:
            resume.save(LoopState(epoch, epochs, best, visits, timings, state.elapsed + time.perf_counter() - t_start,
                                  selection, context, state.resumed_from), model, optimizer, pruner)
    timings["total"] = state.elapsed + time.perf_counter() - t_start
    if best["valid"] is None or not math.isfinite(best["valid"]) or not math.isfinite(best["test"]):
        error = UndefinedMetricError(f"{config.dataset}: the valid or test {metric} was undefined at every epoch "
                                     "(non-finite predictions)", {"split": "valid/test", "epochs": epochs})
        return failed_record(config, identity, error, metric)

    return {
        "schema": RECORD_SCHEMA, "run_id": config.run_id(), "status": "complete", "config": config.to_dict(),
        # the values --fidelity code filled in: with them a code run counts as that setting's default run
        "code_options": dict(get_method(config.method).code_options) if config.fidelity == "code" else {},
        "pruner": describe_pruner(pruner, config.method), "fidelity": config.fidelity,
        "checkpoint": checkpoint, "metric": metric,
        "dataset": {k: store.meta.get(k) for k in ("dataset", "source_file", "source_sha256", "n_molecules",
                                                     "n_unsanitized_kept", "n_skipped_unparsable",
                                                     "unsanitized_policy", "featurizer", "task_names")}
        | {"n_used": len(store), "split_sizes": split.sizes()},
        "selection": None if selection is None else {"n_selected": len(selection.indices),
                                                      "indices_sha256": indices_sha256(selection.indices),
                                                      **positives_kept(task, store, split.train, selection.indices),
                                                      **selection.meta},
        DATA_IDENTITY: identity, "tasks_left_out_of_metric": excluded,
        "task": task.describe(), "geometry": geometry_record(config, store, split),
        "context": context, "epochs": epochs, "best_epoch": best["epoch"], "best_valid": best["valid"],
        "test_at_best": best["test"], "sample_visits": visits, "timings": timings,
        "environment": {"versions": library_versions(), "device": str(device), "machine": describe_machine(device),
                        "num_threads": torch.get_num_threads(), "host": platform.node(), "pid": os.getpid(),
                        "resumed_after_epochs": state.resumed_from},
        "started_at": started,
    }


def positives_kept(task: Task, store: GraphStore, train_idx: np.ndarray, kept: np.ndarray) -> dict:
    """Positive labels (summed over tasks) among the kept training molecules and in the whole training set;
    None for regression. A label-free method at a high pruning ratio can keep almost none of a rare class."""
    if task.kind != "binary":
        return {"kept_positives": None, "train_positives": None}
    y = store.y[torch.as_tensor(train_idx)].numpy()
    return {"kept_positives": int((y[np.asarray(kept)] == 1).sum()), "train_positives": int((y == 1).sum())}


def _score_pass(pruner: DynamicPruner, model: torch.nn.Module, store: GraphStore, train_idx: np.ndarray,
                task: Task, config: RunConfig, device: torch.device) -> float:
    """Per-sample training losses of every training sample (eval mode, no gradients) handed to
    ``pruner.score_pass``; returns the seconds it took."""
    t0 = time.perf_counter()
    logits = torch.from_numpy(predict(model, store, train_idx, config.eval_batch_size, device))
    losses = task.per_sample_loss(logits, store.y[torch.as_tensor(train_idx)])
    score_pass(pruner, losses)
    return time.perf_counter() - t0

