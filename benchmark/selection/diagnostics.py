"""What a static selection did to the training set, seen through one reference model.

A method's scores can turn against the task (keeping the hardest molecules of a rare-positive task keeps
the ones the model gets wrong, and a model fine-tuned on them learns the label relation inverted), and
nothing in the kept indices says so. ``selection_diagnostics`` measures it where the selection is made:

- ``reference_model``: the model every static row of a run seed is judged by: the shared warm-up run
  (seed index 0, from the pretrained encoder) after the default warm-up length
  (``methods.scored.WarmupOptions.warmup_epochs``, 20; no preset changes it). It is the same model
  whatever the method's own warm-up length, start or per-method runs, so rows are comparable; it is cached
  and shared, so it costs one warm-up per run seed (nothing more in a grid whose methods read it anyway:
  GraNd-20, EL2N-20, DP, ...), then one eval-mode forward pass of the training set per run: at the ``ci``
  preset (480 HIV training molecules, 2-core CPU) 0.02 to 0.3 s with the warm-up cached, and 17 s (60 s on a
  busy machine) for the 20-epoch warm-up where a run is the first of its seed to need it.
- ``kept_metric`` / ``rest_metric``: the reference model's task metric (``task.score``) on the kept
  molecules and on the pruned rest; None where undefined, with the reason in ``*_metric_undefined``.
- ``classes`` (binary tasks; labels summed over tasks, missing ones left out): per class its ``total`` and
  ``kept`` labels, ``kept_share`` = kept / total, ``random_share`` = k / N (what a uniform random subset
  keeps in expectation), ``share_ratio`` = kept_share / random_share, and the reference model's mean
  predicted probability of the class's kept labels (``mean_prob_kept``) against all of them
  (``mean_prob_all``). Regression tasks have no classes: ``classes`` is None.

The diagnostics are outputs: they enter no run id, and they take no draw from the run's random stream.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch

from molpeg_bench.methods.base import Selection
from molpeg_bench.methods.scored import WarmupOptions

REFERENCE_EPOCHS = WarmupOptions().warmup_epochs
REFERENCE_SEED_INDEX = 0
CLASSES = (("negatives", 0.0), ("positives", 1.0))


def with_diagnostics(selection: Selection, ctx: Any, task: Any, labels: np.ndarray) -> Selection:
    """``selection`` with ``meta["diagnostics"]``: the reference model of ``ctx`` (a
    ``benchmark.selection.context.FineTuneContext``) judging it; ``labels`` [N, T] in the store's units."""
    devices = [ctx.features.device] if ctx.features.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):  # building the model draws initial weights
        model, key = ctx.reference_model(REFERENCE_EPOCHS, REFERENCE_SEED_INDEX)
        logits = ctx.logits(model, "train")
    reference = {"warmup_key": key, "epochs": REFERENCE_EPOCHS, "seed_index": REFERENCE_SEED_INDEX,
                 "start": "pretrained"}
    diagnostics = selection_diagnostics(task, labels, logits, selection.indices, reference)
    return dataclasses.replace(selection, meta={**selection.meta, "diagnostics": diagnostics})


def selection_diagnostics(task: Any, labels: np.ndarray, logits: np.ndarray, kept: np.ndarray,
                          reference: dict) -> dict:
    """The diagnostics of keeping training positions ``kept`` (see the module docstring): ``labels`` and
    the reference model's ``logits`` are [N, T] in training-set order; ``task`` scores them."""
    labels, logits = np.asarray(labels, dtype=np.float64), np.asarray(logits, dtype=np.float64)
    if labels.ndim == 1:
        labels, logits = labels[:, None], logits[:, None]
    if labels.shape != logits.shape:
        raise ValueError(f"labels {labels.shape} and reference logits {logits.shape} must have the same shape")
    mask = np.zeros(len(labels), dtype=bool)
    mask[np.asarray(kept, dtype=np.int64)] = True
    kept_metric, kept_undefined = subset_metric(task, labels[mask], logits[mask], "kept")
    rest_metric, rest_undefined = subset_metric(task, labels[~mask], logits[~mask], "pruned")
    return {"reference_model": reference, "task_type": task.kind, "metric": task.metric,
            "n_kept": int(mask.sum()), "n_rest": int((~mask).sum()),
            "kept_metric": kept_metric, "kept_metric_undefined": kept_undefined,
            "rest_metric": rest_metric, "rest_metric_undefined": rest_undefined,
            "classes": class_balance(labels, logits, mask) if task.kind == "binary" else None}


def subset_metric(task: Any, labels: np.ndarray, logits: np.ndarray, name: str) -> tuple[float | None, str | None]:
    """(the task's metric on these rows, None) or (None, why it is undefined)."""
    if len(labels) == 0:
        return None, f"the {name} set is empty"
    value = task.score(labels, logits)
    if np.isfinite(value):
        return float(value), None
    if task.kind == "binary":  # the task's rule: only tasks with both classes are scored
        return None, (f"no task has both classes among the {len(labels)} {name} molecules "
                      f"({int((labels == 1).sum())} positive, {int((labels == 0).sum())} negative labels)")
    return None, f"the {task.metric} of the {len(labels)} {name} molecules is not finite"


def class_balance(labels: np.ndarray, logits: np.ndarray, kept: np.ndarray) -> dict:
    """Per class (labels summed over tasks): how much of it was kept against a random subset, and how
    likely the reference model finds its kept members against all of them."""
    probabilities = 1.0 / (1.0 + np.exp(-logits))
    random_share = float(kept.mean())
    kept_rows = np.broadcast_to(kept[:, None], labels.shape)
    balance = {}
    for name, value in CLASSES:
        members = labels == value
        n_total, n_kept = int(members.sum()), int((members & kept_rows).sum())
        share = n_kept / n_total if n_total else None
        balance[name] = {
            "total": n_total, "kept": n_kept, "kept_share": share, "random_share": random_share,
            "share_ratio": share / random_share if share is not None and random_share > 0 else None,
            "mean_prob_kept": float(probabilities[members & kept_rows].mean()) if n_kept else None,
            "mean_prob_all": float(probabilities[members].mean()) if n_total else None}
    return balance
