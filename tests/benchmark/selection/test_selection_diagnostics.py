"""``benchmark.selection.diagnostics``: what a static selection kept of each class and how the run seed's
reference model scores the kept set and the pruned rest; carried by the record, and kept across a resume."""

import json

import numpy as np
import pytest
import torch

from molpeg_bench.benchmark import run
from molpeg_bench.benchmark.experiments.grids import preset_run
from molpeg_bench.benchmark.experiments.presets import get_preset
from molpeg_bench.benchmark.selection.context import FineTuneContext
from molpeg_bench.benchmark.selection.diagnostics import selection_diagnostics
from molpeg_bench.benchmark.tasks import BinaryTask, RegressionTask
from tests.support.data import needs_shared_data
from tests.support.runs import comparable, run_killed_after

REFERENCE = {"warmup_key": "k", "epochs": 20, "seed_index": 0, "start": "pretrained"}
LOGIT_3_4 = np.log(3.0)  # sigmoid = 0.75


def test_class_counts_sum_over_tasks_and_leave_missing_labels_out():
    labels = np.array([[1, 0], [0, np.nan], [0, 1], [1, 0], [0, 0]], dtype=float)
    logits = np.array([[LOGIT_3_4, 0], [0, 5], [-LOGIT_3_4, LOGIT_3_4], [0, 0], [0, 0]])
    kept = np.array([0, 2])  # rows 0 and 2: positives (0, t0) and (2, t1), negatives (0, t1) and (2, t0)
    classes = selection_diagnostics(BinaryTask(), labels, logits, kept, REFERENCE)["classes"]
    positives, negatives = classes["positives"], classes["negatives"]
    assert (positives["total"], positives["kept"], negatives["total"], negatives["kept"]) == (3, 2, 6, 2)
    assert positives["random_share"] == negatives["random_share"] == pytest.approx(0.4)
    assert positives["kept_share"] == pytest.approx(2 / 3) and positives["share_ratio"] == pytest.approx(2 / 3 / 0.4)
    assert negatives["share_ratio"] == pytest.approx(1 / 3 / 0.4)
    assert positives["mean_prob_kept"] == pytest.approx(0.75) and positives["mean_prob_all"] == pytest.approx(2 / 3)
    assert negatives["mean_prob_kept"] == pytest.approx(0.375)  # (0.5 + 0.25) / 2


def test_kept_and_rest_metrics_are_the_tasks_own_scores():
    labels = np.array([0, 1, 0, 1, 0, 1, 0, 1], dtype=float)[:, None]
    logits = np.where(labels == 1, 1.0, -1.0)
    logits[:4] *= -1  # the model ranks the first four molecules inverted
    diagnostics = selection_diagnostics(BinaryTask("roc_auc"), labels, logits, np.arange(4), REFERENCE)
    assert diagnostics["kept_metric"] == 0.0 and diagnostics["rest_metric"] == 1.0
    assert diagnostics["kept_metric_undefined"] is None and diagnostics["metric"] == "roc_auc"
    assert (diagnostics["n_kept"], diagnostics["n_rest"], diagnostics["reference_model"]) == (4, 4, REFERENCE)


def test_a_metric_undefined_on_one_class_is_none_with_the_reason():
    labels = np.array([0, 0, 0, 1, 0, 1], dtype=float)[:, None]
    diagnostics = selection_diagnostics(BinaryTask(), labels, np.zeros((6, 1)), np.arange(3), REFERENCE)
    assert diagnostics["kept_metric"] is None
    assert diagnostics["kept_metric_undefined"] == ("no task has both classes among the 3 kept molecules "
                                                    "(0 positive, 3 negative labels)")
    assert diagnostics["classes"]["positives"]["mean_prob_kept"] is None
    assert diagnostics["rest_metric"] == 0.5 and diagnostics["rest_metric_undefined"] is None


def test_a_regression_task_has_metrics_and_no_class_section():
    task = RegressionTask(mean=10.0, std=2.0, metric="mae")
    labels = np.array([10.0, 12.0, 14.0, 8.0])[:, None]
    outputs = np.array([0.0, 1.0, 1.0, 0.0])[:, None]  # predictions 10, 12, 12, 10 in the label's units
    diagnostics = selection_diagnostics(task, labels, outputs, np.array([0, 1]), REFERENCE)
    assert diagnostics["classes"] is None and diagnostics["task_type"] == "regression"
    assert diagnostics["kept_metric"] == 0.0 and diagnostics["rest_metric"] == pytest.approx(2.0)


def test_labels_and_logits_of_different_shapes_are_refused():
    with pytest.raises(ValueError, match=r"labels \(3, 1\) and reference logits \(2, 1\) must have the same shape"):
        selection_diagnostics(BinaryTask(), np.zeros((3, 1)), np.zeros((2, 1)), np.arange(1), REFERENCE)


CI = get_preset("ci")


def _ci(method: str):
    return preset_run(CI, "hiv", method, 0.8, 0, None)


@needs_shared_data("hiv.csv.gz")
def test_static_ci_records_carry_diagnostics_from_one_shared_reference():
    records = {m: run.run_finetune(_ci(m)) for m in ("random", "grand_4")}
    assert {m: r["run_id"] for m, r in records.items()} == {"random": "4ea6ba2de43f90a062e1",
                                                            "grand_4": "72785f3e67a2ff0606f4"}  # as before
    references = [r["selection"]["diagnostics"]["reference_model"] for r in records.values()]
    assert references[0] == references[1] and references[0]["epochs"] == 20 and references[0]["seed_index"] == 0
    for record in records.values():
        selection = record["selection"]
        positives = selection["diagnostics"]["classes"]["positives"]
        assert (positives["kept"], positives["total"]) == (selection["kept_positives"], selection["train_positives"])
        assert selection["diagnostics"]["n_kept"] == selection["n_selected"]
        assert "diagnostics" not in record["config"]
    # GraNd keeps the molecules with the largest gradients: none of the 22 positives at this size
    assert records["grand_4"]["selection"]["diagnostics"]["kept_metric"] is None


@needs_shared_data("hiv.csv.gz")
def test_diagnostics_leave_the_training_unchanged(monkeypatch):
    diagnosed = run.run_finetune(_ci("random"))
    monkeypatch.setattr(run, "with_diagnostics", lambda selection, *args: selection)
    plain = run.run_finetune(_ci("random"))
    del diagnosed["selection"]["diagnostics"]
    assert json.dumps(comparable(diagnosed), sort_keys=True) == json.dumps(comparable(plain), sort_keys=True)


@needs_shared_data("hiv.csv.gz")
def test_a_resumed_run_records_the_diagnostics_of_its_selection(tmp_path, monkeypatch):
    config = _ci("grand_4")
    uninterrupted = run.run_finetune(config)
    path = tmp_path / "checkpoint.pt"
    run_killed_after(monkeypatch, config, path, 1)

    def no_reference(*args, **kwargs):
        raise AssertionError("the diagnostics must come from the checkpoint")

    monkeypatch.setattr(FineTuneContext, "reference_model", no_reference)
    torch.manual_seed(12345)
    resumed = run.run_finetune(config, epoch_checkpoint=path)
    assert resumed["environment"]["resumed_after_epochs"] == [1]
    assert resumed["selection"]["diagnostics"] == uninterrupted["selection"]["diagnostics"]


@needs_shared_data("hiv.csv.gz")
def test_a_whole_data_run_trains_no_reference_model(monkeypatch):
    def no_reference(*args, **kwargs):
        raise AssertionError("a selection of every training molecule has nothing to judge")

    monkeypatch.setattr(FineTuneContext, "reference_model", no_reference)
    record = run.run_finetune(preset_run(CI, "hiv", "whole", 0.0, 0, None))
    assert "diagnostics" not in record["selection"] and record["timings"]["warmup"] == 0.0
