"""Is a run's metric defined? A validation or test split in which no task has both classes gives an
undefined (NaN) ROC-AUC / average precision; such a run is recorded as failed with the reason instead of
passing ``nan`` off as a result. Checked from the labels before any training."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from molpeg_bench.benchmark.data.splits import Split


class UndefinedMetricError(ValueError):
    """The metric of a split cannot be computed; ``details`` is recorded in the failed run record."""

    def __init__(self, message: str, details: dict):
        super().__init__(message)
        self.details = details


def tasks_without_both_classes(y: np.ndarray, task_names: Sequence[str]) -> list[str]:
    """The tasks whose non-missing labels in ``y`` [N, T] are not both 0 and 1."""
    lacking = []
    for t in range(y.shape[1]):
        labels = y[~np.isnan(y[:, t]), t]
        if not (labels.size and 0 < labels.sum() < labels.size):
            lacking.append(task_names[t] if t < len(task_names) else f"task {t}")
    return lacking


def check_metric_defined(y: np.ndarray, split: Split, task_names: Sequence[str], dataset: str,
                         metric: str) -> dict[str, list[str]]:
    """The tasks left out of each split's mean (no two classes); raises ``UndefinedMetricError`` when the
    valid or test split has no task with both classes (or the data has no task at all)."""
    y = np.asarray(y, dtype=float)
    if y.shape[1] == 0:
        raise UndefinedMetricError(f"{dataset}: the data has no task columns, so there is nothing to predict",
                                   {"split": None, "tasks_without_both_classes": []})
    excluded = {}
    for name in ("valid", "test"):
        idx = getattr(split, name)
        lacking = tasks_without_both_classes(y[idx], task_names)
        if len(lacking) == y.shape[1]:
            shown = lacking if len(lacking) <= 5 else [*lacking[:5], f"... ({len(lacking)} tasks)"]
            raise UndefinedMetricError(
                f"{dataset}: the {name} split ({len(idx)} molecules) has no task with both classes, so its "
                f"{metric} is undefined (tasks without both classes: {', '.join(shown)}); use more molecules "
                "or another split", {"split": name, "n_molecules": len(idx), "tasks_without_both_classes": lacking})
        excluded[name] = lacking
    return excluded
