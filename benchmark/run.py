"""One fine-tuning run end to end, in named steps: ``prepare`` (data, split, task, model factory; the metric
checked defined) -> the method and its selection context -> ``select`` (a static method's subset) ->
``run_fit`` (the epoch loop, ``benchmark.fit``) -> ``fit_record`` (the run record, a JSON dict).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path

import torch
from torch import nn

from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.benchmark.data import GraphStore
from molpeg_bench.benchmark.fidelity import pruner_options
from molpeg_bench.benchmark.fit import Checkpointing, Progress, run_fit, start_fit
from molpeg_bench.benchmark.metric_check import UndefinedMetricError
from molpeg_bench.benchmark.models import describe_checkpoint
from molpeg_bench.benchmark.pruner_calls import check_selected, method_requirements, select_coreset
from molpeg_bench.benchmark.resume import EpochCheckpoint
from molpeg_bench.benchmark.run_prepare import Prepared, check_metric, data_identity, load_run_data, prepare
from molpeg_bench.benchmark.run_record import failed_record, fit_record, library_versions, positives_kept
from molpeg_bench.benchmark.selection.context import FineTuneContext, build_context
from molpeg_bench.benchmark.selection.diagnostics import with_diagnostics
from molpeg_bench.benchmark.tasks import method_options
from molpeg_bench.methods import StaticPruner, make_pruner
from molpeg_bench.methods.base import Selection
from molpeg_bench.methods.guard import MethodError, method_call

log = logging.getLogger(__name__)
# the steps' names, importable from here as before the run was split into them
__all__ = ["run_finetune", "load_run_data", "data_identity", "failed_record", "library_versions", "positives_kept"]


def run_finetune(config: RunConfig, store: GraphStore | None = None,
                 epoch_checkpoint: str | Path | None = None) -> dict:
    """Execute ``config`` and return its run record: complete, or failed with the reason when the valid or
    test metric is undefined (checked before training, and again on the trained model's scores). With
    ``epoch_checkpoint`` the loop's state is saved there after every epoch, and a run that finds a
    checkpoint there resumes from it. A method that fails (``methods.guard.MethodError``) stops the run; when
    its output broke the contract its checkpoint goes too, so no rerun resumes into the same failure."""
    try:
        return _finetune(config, store, epoch_checkpoint)
    except MethodError as exc:
        if exc.broke_contract and epoch_checkpoint is not None:
            Path(epoch_checkpoint).unlink(missing_ok=True)
        raise


def _finetune(config: RunConfig, store: GraphStore | None, epoch_checkpoint: str | Path | None) -> dict:
    started, t_start = datetime.now(UTC).isoformat(timespec="seconds"), time.perf_counter()
    prep = prepare(config, store)
    try:
        check_metric(prep)
    except UndefinedMetricError as exc:
        return failed_record(config, prep.identity, exc, prep.task.metric)
    torch.manual_seed(config.seed)
    model = prep.make_model()
    encoder = describe_checkpoint(config.checkpoint)
    pruner, ctx = make_method(prep, encoder.get("sha256"))
    resume = EpochCheckpoint(epoch_checkpoint, config.run_id()) if epoch_checkpoint else None
    saved = resume.load() if resume is not None else None
    timings = {"warmup": 0.0, "scoring": 0.0, "training": 0.0, "evaluation": 0.0}
    selection = select(prep, pruner, ctx, model, saved, timings)
    context = saved["loop"].context if saved is not None else ctx.describe()
    fit = start_fit(prep, model, pruner, selection, context, timings, t_start, resume, saved)
    run_fit(fit, [Progress(fit), *([Checkpointing(resume)] if resume is not None else [])])
    return fit_record(fit, encoder, started)


def make_method(prep: Prepared, encoder_sha256: str | None) -> tuple[object, FineTuneContext]:
    """The run's pruner (its options resolved for the fidelity) and its selection context."""
    config = prep.config
    method, options = pruner_options(config.method, method_options(config), config.fidelity)
    with method_call(method, "__init__()"):
        pruner = make_pruner(method, n_samples=len(prep.split.train), keep_ratio=config.keep_ratio,
                             seed=config.seed, options=options, rounding=config.budget_rounding)
    ctx = build_context(config, prep.store, prep.split.train, prep.split.valid, prep.make_model, encoder_sha256,
                        method_requirements(pruner), prep.device, task=prep.task)
    return pruner, ctx


def select(prep: Prepared, pruner, ctx: FineTuneContext, model: nn.Module, saved: dict | None,
           timings: dict) -> Selection | None:
    """A static method's selection (read back from ``saved`` when the run resumes, else computed with its
    warm-up and scoring time in ``timings``); None for a dynamic method, which is set up on ``model`` instead."""
    config, n = prep.config, len(prep.split.train)
    if not isinstance(pruner, StaticPruner):
        with method_call(pruner.name, "setup()"):
            pruner.setup(model, epochs=config.epochs)
        return None
    if saved is not None:
        selection = saved["loop"].selection  # chosen before the interruption: no warm-up again
        check_selected(pruner, selection, n)
        return selection
    t0 = time.perf_counter()
    log.info("%s/%s/%g: selecting %d of %d training molecules (warm-up and scoring)", config.dataset,
             config.method, config.prune_ratio, pruner.k, n)
    selection = select_coreset(pruner, ctx, n, prep.device)
    # warm-up: its recorded training cost (trained here or reused); scoring: the rest of the selection
    timings["warmup"] = ctx.warmups.seconds_charged
    timings["scoring"] = time.perf_counter() - t0 - ctx.warmups.seconds_wall
    # judged by the run seed's reference model; in the selection, so the epoch checkpoint keeps it (a
    # selection of the whole training set has nothing to judge and trains no reference model for it)
    if pruner.k < n:
        selection = with_diagnostics(selection, ctx, prep.task, prep.train_labels())
    return selection
