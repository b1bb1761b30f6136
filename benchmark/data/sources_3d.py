"""The 3D datasets, each a registered source as a 2D dataset is a ``DatasetSource`` row: a run config names
one by its ``dataset``, and the generic code (``benchmark.tasks``, ``benchmark.run``,
``benchmark.data.identity``) looks it up here instead of checking names. A source declares

* ``load``: the store a run's ``DataRequest`` (the data fields of its config) reads;
* ``split``: a fixed split of the whole store from the split seed (QM9's 110k/10k/10k), which the data options
  ``train_pool`` / ``eval_pool`` cut to their first molecules; None: the suite's split (random / scaffold);
* ``task``: its target, the unit of the target in the store, the kind (regression, standardised over the
  training part of the whole split; or binary) and the metric;
* ``identity``: what the run id hashes of its data: the files it reads (``source_sha256``), the featurizer, and
  the options that name what is read (QM9's ``qm9_source``; the other data options enter the id as config);
* ``record`` / ``record_meta``: the fields it adds to a run's ``geometry`` record, fixed values and entries of
  the store's meta. Every geometry record carries the fields of every source, None where they are another's.

A new 3D dataset is one ``Source3D`` row in ``SOURCES_3D`` (or ``register_3d_source``) plus its loader.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import torch

from molpeg_bench.benchmark.data.conformers import ConformerOptions
from molpeg_bench.benchmark.data.dataset import source_file_identity
from molpeg_bench.benchmark.data.graph_store import GraphStore
from molpeg_bench.benchmark.data.hiv3d import load_hiv3d
from molpeg_bench.benchmark.data.qm9 import (
    QM9_VARIANT,
    load_qm9,
    parse_source_option,
    qm9_identity,
    qm9_split,
    select_target,
)
from molpeg_bench.benchmark.data.sources import SOURCES
from molpeg_bench.benchmark.data.splits import Split

TASK_KINDS = ("regression", "binary")


@dataclass(frozen=True)
class DataRequest:
    """What a run asks of its data: the data fields of its config."""

    dataset: str
    data_dir: str | None = None
    options: Mapping = field(default_factory=dict)  # the config's data_options
    subsample: int | None = None
    split_seed: int = 42


@dataclass(frozen=True)
class TaskSpec:
    """``kind``: regression or binary; ``metric``: ``mae_mev`` (targets in eV, reported in meV), ``mae``
    (in the target's unit), ``roc_auc`` or ``average_precision``; ``unit``: of the target in the store."""

    kind: str
    metric: str
    target: str
    unit: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in TASK_KINDS:
            raise ValueError(f"task kind must be one of {TASK_KINDS}, got {self.kind!r}")
        if self.metric == "mae_mev" and self.unit != "eV":
            raise ValueError(f"metric 'mae_mev' reports targets stored in eV, not in {self.unit!r}")


@dataclass(frozen=True)
class Source3D:
    name: str
    description: str
    load: Callable[[DataRequest], GraphStore]
    identity: Callable[[DataRequest], dict]
    task: TaskSpec
    split: Callable[[int, int], Split] | None = None  # (number of molecules, split seed) -> the whole split
    record: Mapping = field(default_factory=dict)  # geometry-record fields of a fixed value
    record_meta: tuple[str, ...] = ()  # store meta entries copied into the geometry record

    def record_fields(self) -> tuple[str, ...]:
        return (*self.record, *self.record_meta)


def load_qm9_target(request: DataRequest, target: str) -> GraphStore:
    """QM9 with the single label column ``target``, read from the files ``qm9_source`` names."""
    source, pyg_root = parse_source_option(request.options.get("qm9_source"))
    return select_target(load_qm9(request.data_dir, source=source, pyg_root=pyg_root), target)


def load_hiv_conformers(request: DataRequest) -> GraphStore:
    """HIV-3D with the ``conformer_mode`` / ``conformer_failure`` options, subsampled before the conformers."""
    conformers = ConformerOptions(mode=request.options.get("conformer_mode", "etkdg_mmff"))
    return load_hiv3d(request.data_dir, options=conformers, failure=request.options.get("conformer_failure", "2d"),
                      subsample=request.subsample, subsample_seed=request.split_seed)


def _qm9(name: str, target: str) -> Source3D:
    return Source3D(name, f"QM9 {target} (eV, reported in meV) with the DFT geometries; the fixed split",
                    partial(load_qm9_target, target=target), lambda r: qm9_identity(r.data_dir, r.options),
                    TaskSpec("regression", "mae_mev", target, "eV"), qm9_split,
                    {"qm9_variant": QM9_VARIANT}, ("qm9_source",))


SOURCES_3D: dict[str, Source3D] = {
    s.name: s
    for s in [
        _qm9("qm9_u0", "U0"),
        _qm9("qm9_zpve", "zpve"),
        Source3D("hiv3d", "HIV with RDKit conformers (heavy atoms); the 2D suite's split", load_hiv_conformers,
                 lambda r: source_file_identity("hiv", r.data_dir), TaskSpec("binary", "roc_auc", "HIV_active"),
                 record_meta=("conformer_mode", "conformer_tiers", "conformer_failure")),
    ]
}


def get_3d_source(name: str) -> Source3D | None:
    """The registered 3D source ``name``; None for a 2D dataset."""
    return SOURCES_3D.get(name)


def register_3d_source(source: Source3D) -> Source3D:
    """Add ``source`` to the registry; its name must be new among the 2D and the 3D datasets."""
    if source.name in SOURCES_3D or source.name in SOURCES:
        raise ValueError(f"dataset {source.name!r} is registered already")
    SOURCES_3D[source.name] = source
    return source


def geometry_fields(source: Source3D | None, store: GraphStore) -> dict:
    """The geometry-record fields of every registered source, filled in for ``source`` from ``store``."""
    fields: dict = {name: None for s in SOURCES_3D.values() for name in s.record_fields()}
    if source is not None:
        fields.update(source.record)
        fields.update({key: store.meta.get(key) for key in source.record_meta})
    return fields


def standardisation(y_train: np.ndarray | torch.Tensor) -> tuple[float, float]:
    """Mean and unbiased standard deviation of the training targets (shared by every method)."""
    y = np.asarray(y_train, dtype=np.float64).reshape(-1)
    if len(y) < 2:
        raise ValueError(f"standardisation needs at least 2 training targets, got {len(y)}")
    return float(y.mean()), float(y.std(ddof=1))
