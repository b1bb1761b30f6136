"""``results.degenerate``: each kind of degenerate run gives its reason with its numbers; a sound one none."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from molpeg_bench.benchmark.selection.diagnostics import selection_diagnostics
from molpeg_bench.benchmark.tasks import BinaryTask
from molpeg_bench.results.degenerate import degenerate_reasons

N, POSITIVES = 1000, 100
LABELS = (np.arange(N) < POSITIVES).astype(np.float64)[:, None]  # the first 100 molecules are positive
INFORMATIVE = np.where(LABELS == 1, 2.0, -2.0) + np.random.default_rng(0).normal(0, 1, (N, 1))
REFERENCE = {"warmup_key": "k", "epochs": 20, "seed_index": 0, "start": "pretrained"}


def _record(kept, logits=INFORMATIVE, last_test=0.8, metric="roc_auc") -> dict:
    """A complete static record of keeping ``kept`` (positions), judged by a model with ``logits``."""
    diagnostics = selection_diagnostics(BinaryTask(metric), LABELS, logits, np.asarray(kept), REFERENCE)
    epochs = [{"epoch": 1, "test": 0.7}, {"epoch": 2, "test": last_test}]
    return {"status": "complete", "metric": metric, "epochs": epochs,
            "selection": {"n_selected": len(kept), "diagnostics": diagnostics}}


def _stratified(share: float, seed: int = 0) -> np.ndarray:
    """A random subset keeping exactly ``share`` of each class."""
    rng = np.random.default_rng(seed)
    positives, negatives = np.arange(POSITIVES), np.arange(POSITIVES, N)
    return np.sort(np.concatenate([rng.choice(positives, round(share * POSITIVES), replace=False),
                                   rng.choice(negatives, round(share * (N - POSITIVES)), replace=False)]))


def test_a_balanced_random_selection_gives_no_reason():
    assert degenerate_reasons(_record(_stratified(0.4))) == []
    assert degenerate_reasons(_record(np.random.default_rng(1).choice(N, 200, replace=False))) == []


def test_a_class_kept_at_zero_is_named_with_its_counts():
    only_negatives = np.arange(POSITIVES, POSITIVES + 400)
    assert degenerate_reasons(_record(only_negatives)) == [
        "positives kept at 0.00x their random share (0 of 100; a random subset keeps about 40)"]


def test_an_over_kept_class_is_not_degenerate_but_its_starved_partner_is():
    # every positive kept (5x its share) rebalances the classes: the hardness rules do this on a rare-positive task
    every_positive = np.concatenate([np.arange(POSITIVES), np.arange(POSITIVES, 2 * POSITIVES)])  # k = 200 of 1000
    assert degenerate_reasons(_record(every_positive)) == []
    # ... while a selection of positives alone starves the negatives
    assert degenerate_reasons(_record(np.arange(POSITIVES))) == [
        "negatives kept at 0.00x their random share (0 of 900; a random subset keeps about 90)"]


def test_a_kept_set_the_reference_ranks_below_chance_is_named():
    kept = _stratified(0.4)
    inverted = INFORMATIVE.copy()
    inverted[kept] *= -1  # the model gets exactly the kept molecules wrong
    assert degenerate_reasons(_record(kept, inverted)) == [
        "the reference model ranks the kept set below chance (ROC-AUC 0.00 on the kept set, 1.00 on the pruned rest)"]


def test_a_last_epoch_below_chance_is_named_for_any_record():
    reason = "test ROC-AUC at the last epoch (2) is 0.27, below chance (0.5)"
    assert degenerate_reasons(_record(_stratified(0.4), last_test=0.27)) == [reason]
    dynamic = {"status": "complete", "metric": "roc_auc", "selection": None,
               "epochs": [{"epoch": 1, "test": 0.6}, {"epoch": 2, "test": 0.27}]}
    assert degenerate_reasons(dynamic) == [reason]
    assert degenerate_reasons({**dynamic, "metric": "average_precision"}) == []  # chance is not 0.5 there
    assert degenerate_reasons({**dynamic, "status": "failed"}) == []


def test_an_older_record_is_judged_on_its_positive_counts():
    older = {"status": "complete", "metric": "roc_auc", "epochs": [{"epoch": 30, "test": 0.55}],
             "dataset": {"split_sizes": {"train": 32901, "valid": 4112, "test": 4114}},
             "selection": {"n_selected": 13160, "kept_positives": 0, "train_positives": 1151}}
    assert degenerate_reasons(older) == [
        "positives kept at 0.00x their random share (0 of 1151; a random subset keeps about 460)"]
    fair = {**older, "selection": {**older["selection"], "kept_positives": 470}}
    assert degenerate_reasons(fair) == []


def test_a_small_class_is_not_flagged_for_what_chance_gives():
    """22 positives at a 0.2 share: a random subset keeps at most one of them 5 % of the time, none 0.7 %."""
    selection = {"n_selected": 96, "train_positives": 22}
    base = {"status": "complete", "metric": "roc_auc", "dataset": {"split_sizes": {"train": 480}}}
    assert degenerate_reasons({**base, "selection": {**selection, "kept_positives": 1}}) == []
    assert degenerate_reasons({**base, "selection": {**selection, "kept_positives": 0}}) == [
        "positives kept at 0.00x their random share (0 of 22; a random subset keeps about 4)"]


def test_a_regression_record_has_no_class_or_chance_rule():
    record = {"status": "complete", "metric": "mae", "epochs": [{"epoch": 1, "test": 0.1}],
              "selection": {"kept_positives": None, "train_positives": None, "diagnostics": {
                  "metric": "mae", "kept_metric": 0.1, "rest_metric": 0.2, "classes": None}}}
    assert degenerate_reasons(record) == []


def test_a_record_that_is_not_a_dict_is_refused():
    with pytest.raises(TypeError, match=r"record must be a run record \(a dict\), got list"):
        degenerate_reasons([])


def test_the_module_imports_no_torch_or_scipy():
    code = "import sys, results.degenerate; print(sorted({'torch', 'scipy'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"
