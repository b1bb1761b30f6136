"""The last step of a run: its record (a JSON dict), complete or failed with the reason."""

from __future__ import annotations

import math
import os
import platform
from datetime import UTC, datetime

import numpy as np
import torch

from molpeg_bench._version import suite_version
from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.benchmark.data import GraphStore
from molpeg_bench.benchmark.data.identity import indices_sha256
from molpeg_bench.benchmark.fit import Fit
from molpeg_bench.benchmark.machine import describe_machine
from molpeg_bench.benchmark.metric_check import UndefinedMetricError
from molpeg_bench.benchmark.pruner_calls import describe_pruner
from molpeg_bench.benchmark.tasks import Task, geometry_record
from molpeg_bench.methods import get_method
from molpeg_bench.results.record_schema import DATA_IDENTITY, RECORD_SCHEMA

STORE_META = ("dataset", "source_file", "source_sha256", "n_molecules", "n_unsanitized_kept", "n_skipped_unparsable",
              "unsanitized_policy", "featurizer", "task_names")


def library_versions() -> dict:
    import rdkit
    import sklearn
    import torch_geometric

    return {"python": platform.python_version(), "torch": torch.__version__, "torch_geometric":
            torch_geometric.__version__, "rdkit": rdkit.__version__, "numpy": np.__version__,
            "scikit-learn": sklearn.__version__, "molpeg-bench": suite_version()}


def failed_record(config: RunConfig, identity: dict, error: UndefinedMetricError, metric: str) -> dict:
    """The record of a run whose metric is undefined: the reason instead of a NaN result."""
    return {"schema": RECORD_SCHEMA, "run_id": config.run_id(), "status": "failed", "config": config.to_dict(),
            DATA_IDENTITY: identity, "metric": metric, "failure": {"reason": str(error), **error.details},
            "environment": {"versions": library_versions(), "host": platform.node()},
            "started_at": datetime.now(UTC).isoformat(timespec="seconds")}


def fit_record(fit: Fit, encoder: dict, started: str) -> dict:
    """The record of a finished fit: complete, or failed when no epoch had a finite valid and test metric.
    ``encoder``: the pretrained encoder's description (``models.describe_checkpoint``)."""
    prep, best = fit.prep, fit.best
    config, metric = prep.config, prep.task.metric
    if best["valid"] is None or not math.isfinite(best["valid"]) or not math.isfinite(best["test"]):
        error = UndefinedMetricError(f"{config.dataset}: the valid or test {metric} was undefined at every epoch "
                                     "(non-finite predictions)", {"split": "valid/test", "epochs": fit.epochs})
        return failed_record(config, prep.identity, error, metric)
    store, split, selection = prep.store, prep.split, fit.selection
    return {
        "schema": RECORD_SCHEMA, "run_id": config.run_id(), "status": "complete", "config": config.to_dict(),
        # the values --fidelity code filled in: with them a code run counts as that setting's default run
        "code_options": dict(get_method(config.method).code_options) if config.fidelity == "code" else {},
        "pruner": describe_pruner(fit.pruner, config.method), "fidelity": config.fidelity,
        "checkpoint": encoder, "metric": metric,
        "dataset": {k: store.meta.get(k) for k in STORE_META} | {"n_used": len(store), "split_sizes": split.sizes()},
        "selection": None if selection is None else {"n_selected": len(selection.indices),
                                                      "indices_sha256": indices_sha256(selection.indices),
                                                      **positives_kept(prep.task, store, split.train,
                                                                       selection.indices),
                                                      **selection.meta},
        DATA_IDENTITY: prep.identity, "tasks_left_out_of_metric": prep.excluded,
        "task": prep.task.describe(), "geometry": geometry_record(config, store, split),
        "context": fit.context, "epochs": fit.epochs, "best_epoch": best["epoch"], "best_valid": best["valid"],
        "test_at_best": best["test"], "sample_visits": fit.visits, "timings": fit.timings,
        "environment": {"versions": library_versions(), "device": str(prep.device),
                        "machine": describe_machine(prep.device), "num_threads": torch.get_num_threads(),
                        "host": platform.node(), "pid": os.getpid(), "resumed_after_epochs": fit.started.resumed_from},
        "started_at": started,
    }


def positives_kept(task: Task, store: GraphStore, train_idx: np.ndarray, kept: np.ndarray) -> dict:
    """Positive labels (summed over tasks) among the kept training molecules and in the whole training set;
    None for regression. A label-free method at a high pruning ratio can keep almost none of a rare class."""
    if task.kind != "binary":
        return {"kept_positives": None, "train_positives": None}
    y = store.y[torch.as_tensor(train_idx)].numpy()
    return {"kept_positives": int((y[np.asarray(kept)] == 1).sum()), "train_positives": int((y == 1).sum())}
