"""What each static row of a release kept: kept positives, class shares against random, the reference model's
AUC on the kept set and the rest, its mean probabilities, and what Glister and DP report, on constructed
selections whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from molpeg_bench.benchmark.selection.diagnostics import selection_diagnostics
from molpeg_bench.benchmark.tasks import BinaryTask
from molpeg_bench.results.release_selections import selection_markdown, selection_rows
from tests.support.records import make_record

N, POSITIVES = 1000, 100
LABELS = (np.arange(N) < POSITIVES).astype(np.float64)[:, None]  # the first 100 molecules are positive
LOGITS = np.where(LABELS == 1, 1.0, -1.0) + np.random.default_rng(0).normal(0, 1, (N, 1))
REFERENCE = {"warmup_key": "k", "epochs": 20, "seed_index": 0, "start": "pretrained"}
STRATIFIED = np.sort(np.concatenate([np.arange(40), np.arange(POSITIVES, POSITIVES + 360)]))  # 40 % of each class
# a hardness rule: the 80 positives the model rates least positive and the 320 negatives it rates most positive
HARDEST = np.sort(np.concatenate([np.argsort(LOGITS[:POSITIVES, 0])[:80],
                                  POSITIVES + np.argsort(-LOGITS[POSITIVES:, 0])[:320]]))


def _static(method: str, seed: int, kept: np.ndarray, fidelity: str = "paper", **meta) -> dict:
    record = make_record(method=method, ratio=60, seed=seed, family="static")
    record["config"]["fidelity"] = fidelity
    record["selection"] = {"n_selected": len(kept), "kept_positives": int(LABELS[kept].sum()),
                           "train_positives": POSITIVES, **meta,
                           "diagnostics": selection_diagnostics(BinaryTask("roc_auc"), LABELS, LOGITS, kept,
                                                                REFERENCE)}
    return record


def _dp_meta(winner: int, converged: tuple[bool, bool], kind: str = "random") -> dict:
    return {"winning_start": winner, "starts": [{"start": "frank_wolfe", "converged": converged[0]},
                                                {"start": kind, "converged": converged[1]}]}


@pytest.fixture(scope="module")
def records() -> list[dict]:
    records = [make_record(method="molpeg", ratio=60, seed=0)]  # dynamic: no diagnostics, no row
    for seed in (0, 1):
        records += [
            _static("grand_4", seed, HARDEST), _static("random", seed, STRATIFIED),
            _static("herding", seed, STRATIFIED, fidelity="code"),
            _static("glister", seed, STRATIFIED, lr=0.001, validation_loss_change=-2e-6 * (seed + 1),
                    update_effective=seed == 1, update_changed_picks=3 * seed),
            _static("dp", seed, STRATIFIED, **_dp_meta(seed, (True, seed == 0)))]
    return records


def test_one_row_per_static_variant_in_the_papers_order(records):
    rows = selection_rows(records)
    assert list(zip(rows["method"], rows["fidelity"], strict=True)) == [
        ("random", "paper"), ("herding", "code"), ("grand_4", "paper"), ("glister", "paper"), ("dp", "paper")]
    assert set(rows["seeds"]) == {2}


def test_a_hardness_rule_shows_over_kept_positives_and_a_kept_set_harder_than_the_rest(records):
    rows = selection_rows(records).set_index("method")
    hard, random = rows.loc["grand_4"], rows.loc["random"]
    assert (hard["positives_kept_min"], hard["positives_kept_max"]) == (80, 80)
    assert hard["positives_share_ratio"] == pytest.approx(2.0)  # 80 positives where a random 40 % keeps 40
    assert hard["negatives_share_ratio"] == pytest.approx(320 / 900 / 0.4)
    assert hard["kept_auc"] < random["kept_auc"] - 5 < hard["rest_auc"] - 5  # low-rated pos., high-rated neg.
    assert hard["prob_kept_negatives"] > 1.5 * hard["prob_all_negatives"]
    assert hard["prob_kept_positives"] < hard["prob_all_positives"]
    assert random["positives_share_ratio"] == pytest.approx(1.0) and random["negatives_share_ratio"] == 1.0
    positives = 1 / (1 + np.exp(-LOGITS[:POSITIVES, 0]))
    assert random["prob_kept_positives"] == pytest.approx(positives[:40].mean())
    assert random["prob_all_positives"] == pytest.approx(positives.mean())


def test_glister_and_dp_report_their_search_over_seeds(records):
    rows = selection_rows(records).set_index("method")
    assert rows.loc["glister", "method_report"] == (
        "validation loss change -3.0e-06 (step 0.001); the update changed a pick in 1 of 2 seeds (0–3 of 400 picks)")
    assert rows.loc["dp", "method_report"] == "3 of 4 swap searches converged; won: frank_wolfe 1×, random 1×"
    assert rows.loc["random", "method_report"] == ""


def test_the_page_section_escapes_what_a_record_says():
    hostile = [_static("dp", 0, STRATIFIED, **_dp_meta(1, (True, True), kind="<script>alert(1)</script>|x"))]
    text = "\n".join(selection_markdown(selection_rows(hostile)))
    line = next(row for row in text.splitlines() if row.startswith("| DP |"))
    assert "<script>" not in text and line.count(" | ") == 8  # nine cells: the pipe stays inside its cell
    assert "| DP | paper | 1 | 40 of 100 | 1.00 / 1.00 |" in line


def test_a_release_without_static_records_has_no_section():
    assert selection_markdown(selection_rows([make_record(method="whole")])) == []
