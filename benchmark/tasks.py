"""Task types of a fine-tuning run: the per-sample loss, its batch reduction, the reported metric and its
direction, and the data and model each run needs.

* binary classification (HIV, PCBA, MUV, HIV-3D): masked BCE, ROC-AUC / AP, higher is better;
* regression (QM9 U0, ZPVE): L1 (or MSE) on targets standardised with the full training split's mean
  and unbiased standard deviation; MAE of the de-standardised predictions in meV, lower is better.

Datasets: the 2D datasets of ``benchmark.data`` and the registered 3D sources of ``benchmark.data.sources_3d``
(``qm9_u0`` / ``qm9_zpve``: the fixed split, ``data_options`` ``train_pool`` / ``eval_pool`` keep the first
molecules of its training / validation and test parts, ``qm9_source`` reads ``qm9_3d.csv.xz`` or PyG's QM9 root;
``hiv3d``: the 2D suite's HIV split, ``data_options`` ``conformer_mode`` / ``conformer_failure``). A 3D source
declares its loader, split, task and record fields; nothing here names one."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.benchmark.data import GraphStore, make_split
from molpeg_bench.benchmark.data.sources_3d import (
    DataRequest,
    Source3D,
    geometry_fields,
    get_3d_source,
    standardisation,
)
from molpeg_bench.benchmark.data.splits import Split
from molpeg_bench.benchmark.experiments.protocols import protocol_of
from molpeg_bench.benchmark.losses import per_sample_bce, reduce_batch_loss
from molpeg_bench.benchmark.metrics import multitask_score
from molpeg_bench.benchmark.models import GINConfig, GraphPredictor
from molpeg_bench.benchmark.models.painn import PaiNNConfig, PaiNNPredictor
from molpeg_bench.benchmark.models.schnet import SchNetConfig, SchNetPredictor

EV_TO_MEV = 1000.0


@dataclass(frozen=True)
class BinaryTask:
    """Multi-task binary labels with missing entries; the suite's original task."""

    metric: str = "roc_auc"
    convention: str = "official"
    higher_is_better: bool = True
    kind = "binary"  # the selection context's task_type (methods.context)

    def per_sample_loss(self, outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return per_sample_bce(outputs, y, self.convention)

    def batch_loss(self, losses: torch.Tensor, weights: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return reduce_batch_loss(losses, weights, y, self.convention)

    def score(self, y_true: np.ndarray, outputs: np.ndarray) -> float:
        return multitask_score(y_true, outputs, self.metric)

    def describe(self) -> dict:
        return {"type": self.kind, "metric": self.metric}


@dataclass(frozen=True)
class RegressionTask:
    """Outputs are standardised predictions; ``y`` stays in its own units in the store (QM9: eV, reported in
    meV). ``mean`` / ``std`` are one value or one per target; missing targets (NaN) are left out of the
    loss and the metric (MAE per target over its present values, averaged over targets)."""

    mean: float | tuple[float, ...]
    std: float | tuple[float, ...]
    loss: str = "l1"
    metric: str = "mae_mev"
    higher_is_better: bool = False
    kind = "regression"

    def __post_init__(self) -> None:
        if self.loss not in ("l1", "mse"):
            raise ValueError(f"regression loss must be 'l1' or 'mse', got {self.loss!r}")
        if not np.all(np.asarray(self.std) > 0):
            raise ValueError(f"target standard deviation must be > 0, got {self.std}")

    @property
    def unit_scale(self) -> float:
        return EV_TO_MEV if self.metric == "mae_mev" else 1.0

    def per_sample_loss(self, outputs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if outputs.shape != y.shape:
            raise ValueError(f"outputs {tuple(outputs.shape)} and targets {tuple(y.shape)} must have the same shape")
        y = y.to(outputs.dtype)
        mean, std = (torch.as_tensor(np.asarray(v), dtype=y.dtype, device=y.device) for v in (self.mean, self.std))
        present = ~torch.isnan(y)
        diff = torch.where(present, outputs - (y - mean) / std, torch.zeros_like(outputs))
        per_entry = diff.abs() if self.loss == "l1" else diff**2
        return per_entry.sum(dim=1) / present.sum(dim=1).clamp_min(1)

    def batch_loss(self, losses: torch.Tensor, weights: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return (losses * weights).sum() / max(1, len(losses))

    def score(self, y_true: np.ndarray, outputs: np.ndarray) -> float:
        """MAE of the de-standardised predictions (QM9: in meV), per target over present values, averaged."""
        y = np.asarray(y_true, dtype=np.float64)
        pred = np.asarray(outputs, dtype=np.float64) * np.asarray(self.std) + np.asarray(self.mean)
        errors = np.where(np.isnan(y), np.nan, np.abs(pred - y))
        return float(np.nanmean(np.nanmean(errors, axis=0)) * self.unit_scale)

    def describe(self) -> dict:
        if self.metric == "mae_mev":
            return {"type": self.kind, "metric": self.metric, "loss": self.loss, "target_mean_ev": self.mean,
                    "target_std_ev": self.std, "normalisation": "full training split, unbiased std"}
        return {"type": self.kind, "metric": self.metric, "loss": self.loss, "target_mean": self.mean,
                "target_std": self.std, "normalisation": "training split, unbiased std, per target"}


Task = BinaryTask | RegressionTask


def improves(task: Task, new: float, best: float | None) -> bool:
    """Strict improvement (the first best wins); NaN never improves."""
    if math.isnan(new):
        return False
    if best is None or math.isnan(best):
        return True
    return new > best if task.higher_is_better else new < best


def data_request(config: RunConfig) -> DataRequest:
    """The data fields of ``config``, as a 3D source's loader and identity read them."""
    return DataRequest(config.dataset, config.data_dir, dict(config.data_options), config.subsample,
                       config.split_seed)


def load_3d_store(config: RunConfig) -> GraphStore:
    """The store of a registered 3D dataset (its source's loader)."""
    source = get_3d_source(config.dataset)
    if source is None:
        raise ValueError(f"{config.dataset!r} is not a registered 3D dataset (benchmark.data.sources_3d)")
    return source.load(data_request(config))


def task_split(config: RunConfig, store: GraphStore) -> Split:
    """A source with a fixed split: that split, cut to the ``train_pool`` / ``eval_pool`` first molecules when
    given; any other dataset: the suite's split."""
    source = get_3d_source(config.dataset)
    if source is None or source.split is None:
        return make_split(config.split, store.smiles, config.split_seed, name=config.dataset)
    split = source.split(len(store), config.split_seed)
    train_pool, eval_pool = config.data_options.get("train_pool"), config.data_options.get("eval_pool")
    return Split(split.train[:train_pool], split.valid[:eval_pool], split.test[:eval_pool])


def make_task(config: RunConfig, store: GraphStore) -> Task:
    """A 3D source: its declared task; regression is standardised with the training part of the whole split
    (before any pool or pruning)."""
    source = get_3d_source(config.dataset)
    if source is not None:
        return _source_task(source, config, store)
    if store.meta.get("task_type") == "regression":  # a molecule CSV of numbers (benchmark.data.csv_source)
        y = store.y[torch.as_tensor(task_split(config, store).train)].numpy().astype(np.float64)
        mean, std = np.nanmean(y, axis=0), np.nanstd(y, axis=0, ddof=1)
        if not np.all(np.isfinite(std) & (std > 0)):
            raise ValueError(f"{config.dataset}: every regression target needs two different training values; "
                             f"standard deviations {std.tolist()}")
        return RegressionTask(tuple(mean.tolist()), tuple(std.tolist()), config.regression_loss, metric="mae")
    return BinaryTask(store.meta.get("metric", "roc_auc"), config.loss_convention)


def _source_task(source: Source3D, config: RunConfig, store: GraphStore) -> Task:
    if source.task.kind == "binary":
        return BinaryTask(source.task.metric, config.loss_convention)
    whole = source.split(len(store), config.split_seed) if source.split is not None else task_split(config, store)
    mean, std = standardisation(store.y[torch.as_tensor(whole.train)].numpy())
    return RegressionTask(mean, std, config.regression_loss, metric=source.task.metric)


def build_model(config: RunConfig, num_tasks: int) -> nn.Module:
    """The predictor named by ``config.model`` in ``config.dtype``: built (initialised) in float32 and then
    converted, so a float64 run starts from the float32 run's weights; ``num_layers`` / ``emb_dim`` size every
    encoder."""
    return _predictor(config, num_tasks).to(getattr(torch, config.dtype))


def _predictor(config: RunConfig, num_tasks: int) -> nn.Module:
    extra = dict(config.model_options)
    if config.model == "painn":
        return PaiNNPredictor(num_tasks, PaiNNConfig(hidden=config.emb_dim, num_layers=config.num_layers, **extra))
    if config.model == "schnet":
        return SchNetPredictor(num_tasks, SchNetConfig(hidden=config.emb_dim, num_interactions=config.num_layers,
                                                       **extra))
    if extra:
        raise ValueError(f"model_options {sorted(extra)} apply to the 3D encoders only, not to {config.model!r}")
    return GraphPredictor(num_tasks, GINConfig(config.num_layers, config.emb_dim, config.dropout))


def method_options(config: RunConfig) -> dict:
    """The pruner options: PaiNN's readout layer belongs to the head, so MolPeg's reference shares it
    (the EMA covers the encoder only) unless the config says otherwise."""
    options = dict(config.method_options)
    if config.model == "painn" and config.method == "molpeg" and "shared" not in options:
        options["shared"] = ["head", "readout"]
    return options


WARMUP_STEPS, COSINE_STEPS = 10_000, 400_000  # MolScaling main_3d.py


def warmup_cosine_factor(step: int, warmup: int = WARMUP_STEPS, total: int = COSINE_STEPS) -> float:
    """The rate factor of optimizer step ``step`` (0-based): linear warm-up to 1 over ``warmup`` steps, then
    a cosine to 0 at step ``total``, 0 after it."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def make_scheduler(config: RunConfig, optimizer: torch.optim.Optimizer):
    """``lr_schedule``: cosine = per-epoch ``CosineAnnealingLR(T_max=epochs)``; warmup_cosine = a per-step
    ``LambdaLR`` of ``warmup_cosine_factor``; none = None."""
    if config.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
    if config.lr_schedule == "warmup_cosine":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_cosine_factor)
    return None


def geometry_record(config: RunConfig, store: GraphStore, split: Split) -> dict:
    """What a 3D run records beside the 2D fields (empty for 2D runs): the encoder, the protocol, the fields
    every 3D source adds (this run's source filled in), the split sizes and the target."""
    source = get_3d_source(config.dataset)
    if config.model == "gin" and source is None:
        return {}
    model_cfg = build_model(config, 1).encoder.config
    return {"model": config.model, "architecture": dataclasses.asdict(model_cfg),
            "max_num_neighbors": model_cfg.max_num_neighbors, "atom_index": model_cfg.atom_index,
            "protocol": protocol_of(config), **geometry_fields(source, store), "subset_sizes": split.sizes(),
            "target": store.meta.get("target")}
