"""Each method under both fidelities side by side: the paired difference of the code variant from the paper-text
one under both statistics, and whether each variant's interval holds the paper's number."""

from __future__ import annotations

import pandas as pd
import pytest

from molpeg_bench.results.frame import runs_frame
from molpeg_bench.results.release_pairs import fidelity_pairs, fidelity_pairs_markdown
from tests.support.records import make_record


def _record(method: str, seed: int, test: float, fidelity: str, options: dict | None = None) -> dict:
    record = make_record(method=method, ratio=60, seed=seed, test=test, options=options,
                         family="static" if method in ("grand_20", "random") else None)
    record["config"]["fidelity"] = fidelity
    return record


def _runs(records: list[dict]) -> pd.DataFrame:
    return pd.concat([runs_frame([r for r in records if r["config"]["fidelity"] == f]).assign(fidelity=f)
                      for f in ("paper", "code")], ignore_index=True)


@pytest.fixture()
def runs() -> pd.DataFrame:
    records = []
    for seed in range(4):
        # GraNd: the code variant sits 5 points above the paper-text one in every seed, around the paper's 83.9
        records += [_record("grand_20", seed, 0.78 + 0.004 * seed, "paper"),
                    _record("grand_20", seed, 0.83 + 0.004 * seed + 0.001 * (seed % 2), "code"),
                    _record("molpeg", seed, 0.84 + 0.01 * seed, "paper"),
                    _record("molpeg", seed, 0.84 + 0.01 * seed, "code"),
                    _record("molpeg", seed, 0.80, "code", {"epoch_seeding": "run"}),
                    _record("random", seed, 0.81, "paper")]  # no code variant: no pair
    return _runs(records)


def test_each_method_with_both_fidelities_is_paired_seed_by_seed(runs):
    pairs = fidelity_pairs(runs).set_index("method")
    assert list(pairs.index) == ["grand_20", "molpeg"]  # the paper's row order; Random has no code variant
    grand = pairs.loc["grand_20"]
    assert grand["diff_best"] == pytest.approx(5.05) and grand["p_best"] < 0.001
    assert grand["text_best"] == pytest.approx(78.6) and grand["seeds_code"] == 4
    assert grand["paper"] == 83.9 and grand["paper_inside_code"] and not grand["paper_inside_text"]
    assert grand["code_best_low"] < 83.9 < grand["code_best_high"] and grand["text_best_high"] < 83.9
    molpeg = pairs.loc["molpeg"]  # the default code variant, not the epoch_seeding=run one
    assert molpeg["diff_best"] == 0 and molpeg["p_best"] == 1.0
    assert molpeg["paper_inside_code"] and molpeg["paper_inside_text"]  # 84 / 85 / 86 / 87 around the paper's 85.5


def test_an_interval_that_misses_the_papers_number_says_so_and_the_section_names_it(runs):
    cd = [_record("cd", seed, value, fidelity) for seed in range(3)
          for value, fidelity in ((0.835 + 0.001 * seed, "paper"), (0.811 + 0.002 * seed, "code"))]
    pairs = fidelity_pairs(pd.concat([runs, _runs(cd)], ignore_index=True))
    row = pairs.set_index("method").loc["cd"]
    assert not row["paper_inside_code"] and row["code_best_high"] < 82.7 and not row["paper_inside_text"]
    text = "\n".join(fidelity_pairs_markdown(pairs))
    assert "| CD | 3 / 3 | 83.60 / 81.60 | 81.30 / 79.30 | -2.30 / -2.30 |" in text
    assert "| 82.7 | no [83.4, 83.8] | no [" in text and "| GraNd-20 | 4 / 4 |" in text and "| Random |" not in text


def test_a_release_without_code_runs_says_so():
    text = "\n".join(fidelity_pairs_markdown(fidelity_pairs(_runs([_record("random", 0, 0.8, "paper")]))))
    assert "no method holds runs under both fidelities yet" in text
