"""The second statistic (mean test over the last epochs) and the smallest difference a claim's seeds detect."""

from __future__ import annotations

import math

import pytest

from molpeg_bench.results.cells import table1_data
from molpeg_bench.results.frame import last_epochs_mean, runs_frame
from molpeg_bench.results.paper_claims import claims_frame
from molpeg_bench.results.stats import detectable_difference, paired_t_test
from tests.support.records import make_record


def test_detectable_difference_known_answer():
    # differences 1, 2, 3: sd 1, n 3, t(0.975, 2) = 4.3027, t(0.8, 2) = 1.0607 -> 5.3633 / sqrt(3)
    assert detectable_difference([1.0, 2.0, 3.0]) == pytest.approx(3.0965, abs=1e-3)
    assert math.isnan(detectable_difference([1.0]))
    # it shrinks as 1/sqrt(n) at a fixed spread (and the t quantiles fall with more seeds)
    assert detectable_difference([1.0, 3.0] * 8) < detectable_difference([1.0, 3.0]) / 2


def test_paired_test_carries_the_detectable_difference():
    test = paired_t_test({0: 1.0, 1: 2.0, 2: 3.0}, {0: 0.0, 1: 0.0, 2: 0.0})
    assert test.detectable == pytest.approx(3.0965, abs=1e-3)


def _with_epochs(record: dict, tests: list[float]) -> dict:
    record["epochs"] = [{"epoch": i + 1, "valid": 0.5, "test": t, "train_loss": 0.1, "n_trained": 10}
                        for i, t in enumerate(tests)]
    return record


def test_last_epochs_mean_reads_the_closing_epochs():
    record = _with_epochs({}, [0.1] * 5 + [0.8] * 10)
    assert last_epochs_mean(record) == pytest.approx(0.8)
    assert last_epochs_mean(_with_epochs({}, [0.2, 0.4])) == pytest.approx(0.3)  # fewer epochs: all of them
    assert last_epochs_mean(_with_epochs({}, [float("nan"), 0.4])) == pytest.approx(0.4)
    assert last_epochs_mean({"epochs": []}) is None


def test_claims_are_checked_under_both_statistics():
    records = []
    for seed in range(3):
        for method, ratio, at_best, closing in (("whole", 0, 0.80, 0.70), ("molpeg", 60, 0.85, 0.60),
                                                ("random", 60, 0.75, 0.75)):
            record = make_record(method=method, ratio=ratio, seed=seed, test=at_best + 0.001 * seed)
            records.append(_with_epochs(record, [closing + 0.002 * seed] * 12))
    runs = runs_frame(records)
    assert runs.set_index(["method", "seed"]).loc[("molpeg", 1), "test_last_mean"] == pytest.approx(60.2)
    data = [table1_data(runs, statistic=s) for s in ("test_at_best", "test_last_mean")]
    claims = claims_frame(*data)
    whole = claims[claims["claim"].str.contains("whole")]
    # MolPeg beats the whole data at its best epoch (85 vs 80) and loses to it over the last epochs (60 vs 70)
    assert list(whole["statistic"]) == ["test at the best validation epoch", "mean test over the last 10 epochs"]
    verdicts = list(whole["verdict"])
    assert verdicts[0] != verdicts[1]
    with pytest.raises(ValueError, match="statistic must be one of"):
        table1_data(runs, statistic="median")
