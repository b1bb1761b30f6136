"""The first step of a run: its data, split, task and model factory, and the check that its metric is defined."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.benchmark.data import GraphStore, load_dataset
from molpeg_bench.benchmark.data.csv_source import CSV_OPTIONS, CSV_PREFIX
from molpeg_bench.benchmark.data.identity import DATA_RULES, checkpoint_sha256, indices_sha256, subsample_indices
from molpeg_bench.benchmark.data.sources_3d import get_3d_source
from molpeg_bench.benchmark.data.splits import Split
from molpeg_bench.benchmark.metric_check import check_metric_defined
from molpeg_bench.benchmark.models import load_encoder_checkpoint
from molpeg_bench.benchmark.models.device import resolve_device
from molpeg_bench.benchmark.tasks import Task, build_model, load_3d_store, make_task, task_split


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


@dataclass
class Prepared:
    """What a run trains on: its data, split and task on ``device``; ``excluded``: the tasks left out of the
    metric (``metric_check``)."""

    config: RunConfig
    device: torch.device
    store: GraphStore
    split: Split
    task: Task
    identity: dict
    excluded: dict = field(default_factory=dict)

    def make_model(self, pretrained: bool = True) -> nn.Module:
        """The run's predictor on its device, from the pretrained encoder (``pretrained``) or random."""
        model = build_model(self.config, self.store.num_tasks)
        if self.config.checkpoint and pretrained:
            load_encoder_checkpoint(model.encoder, self.config.checkpoint)
        return model.to(self.device)

    def train_labels(self):
        return self.store.y[torch.as_tensor(self.split.train)].numpy()


def prepare(config: RunConfig, store: GraphStore | None = None) -> Prepared:
    """Threads, device, data (``store``, or loaded from the config), split and task of ``config``."""
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    device = resolve_device(config.device)
    store = store if store is not None else load_run_data(config)
    split = task_split(config, store)
    task = make_task(config, store)
    return Prepared(config, device, store, split, task, data_identity(config, store, split))


def check_metric(prep: Prepared) -> None:
    """Fill ``prep.excluded``; ``UndefinedMetricError`` when the valid or test metric cannot be computed (a
    regression metric always can)."""
    if prep.task.kind == "binary":
        prep.excluded = check_metric_defined(prep.store.y.numpy(), prep.split,
                                             prep.store.meta.get("task_names") or [], prep.config.dataset,
                                             prep.task.metric)
