"""Task metrics: ROC-AUC (HIV) and average precision (PCBA, MUV), averaged over the tasks whose
valid labels contain both classes (the rule of the official code and OGB's evaluator)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score

METRICS = {"roc_auc": roc_auc_score, "average_precision": average_precision_score}


def multitask_score(y_true: np.ndarray, y_score: np.ndarray, metric: str) -> float:
    """Mean of ``metric`` over tasks; y_true [N, T] with NaN = missing, y_score [N, T]. NaN when no task
    has both classes."""
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; expected one of {sorted(METRICS)}")
    y_true, y_score = np.asarray(y_true, dtype=float), np.asarray(y_score, dtype=float)
    if y_true.ndim == 1:
        y_true, y_score = y_true[:, None], y_score[:, None]
    if y_true.shape != y_score.shape:
        raise ValueError(f"y_true {y_true.shape} and y_score {y_score.shape} must have the same shape")
    values = []
    for t in range(y_true.shape[1]):
        valid = ~np.isnan(y_true[:, t])
        labels = y_true[valid, t]
        if labels.size and 0 < labels.sum() < labels.size:
            values.append(METRICS[metric](labels, y_score[valid, t]))
    return float(np.mean(values)) if values else float("nan")
