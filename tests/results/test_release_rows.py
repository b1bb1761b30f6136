"""A release's rows: each method under both fidelities and its option variants, both statistics, the paired tests
against MolPeg and the degenerate runs, in the paper's order."""

from __future__ import annotations

import pandas as pd
import pytest

from molpeg_bench.results.frame import runs_frame
from molpeg_bench.results.release import missing_cells
from molpeg_bench.results.release_rows import release_rows, release_rows_markdown
from tests.support.records import make_record


def _record(method: str, seed: int, test: float, fidelity: str = "paper", options: dict | None = None,
            ratio: int = 60, last: float | None = None) -> dict:
    record = make_record(method=method, ratio=0 if method == "whole" else ratio, seed=seed, test=test,
                         options=options, family="static" if method in ("herding", "random") else None)
    record["config"]["fidelity"] = fidelity
    if last is not None:
        record["epochs"][-1]["test"] = last
    return record


@pytest.fixture()
def runs() -> pd.DataFrame:
    records = []
    for seed in range(3):
        records += [_record("whole", seed, 0.85), _record("molpeg", seed, 0.84 + 0.01 * seed),
                    _record("molpeg", seed, 0.83, "code"), _record("herding", seed, 0.76 - 0.002 * seed),
                    _record("herding", seed, 0.66, options={"direction": "paper"}),
                    _record("random", seed, 0.82, last=0.3 if seed == 2 else None)]
    frames = [runs_frame([r for r in records if r["config"]["fidelity"] == f]).assign(fidelity=f)
              for f in ("paper", "code")]
    return pd.concat(frames, ignore_index=True)


def test_each_variant_is_a_row_in_the_papers_order_with_both_statistics(runs):
    rows = release_rows(runs)
    assert [(m, f, o) for m, f, o in zip(rows["method"], rows["fidelity"], rows["options"], strict=True)] == [
        ("whole", "paper", "{}"), ("random", "paper", "{}"), ("herding", "paper", "{}"),
        ("herding", "paper", '{"direction": "paper"}'), ("molpeg", "paper", "{}"), ("molpeg", "code", "{}")]
    herding = rows.set_index(["method", "options"]).loc[("herding", "{}")]
    assert herding["best_mean"] == pytest.approx(75.8) and herding["paper"] == 76.9
    assert herding["p_best_vs_molpeg"] < 0.05 and herding["seeds"] == 3
    argmin = rows.set_index(["method", "options"]).loc[("herding", '{"direction": "paper"}')]
    assert pd.isna(argmin["paper"])  # the paper's number belongs to the default row only
    random = rows.set_index("method").loc["random"]
    assert random["degenerate_seeds"] == 1 and "below chance" in random["degenerate_first"]
    assert random["last_mean"] < random["best_mean"]


def test_the_page_section_names_each_variant(runs):
    text = "\n".join(release_rows_markdown(release_rows(runs)))
    assert "| Herding | paper, direction=paper | 3 |" in text and "| MolPeg | code | 3 |" in text
    assert "1: seed 2: test ROC-AUC at the last epoch" in text


def test_a_cell_short_of_the_seeds_its_grid_asks_for_is_listed(runs):
    expected = {("molpeg", 60, "paper", "{}"): 10, ("herding", 60, "paper", "{}"): 3,
                ("ucb", 60, "paper", "{}"): 5}
    listed = missing_cells(runs, 3, expected)
    assert listed == ["MolPeg at 60 % (paper): 3 of 10 seeds", "UCB at 60 % (paper): 0 of 5 seeds"]


def test_the_fidelity_table_keeps_each_option_variant_apart_and_refuses_a_seed_run_twice():
    from molpeg_bench.results.release import fidelity_frame

    def frame(records: list[dict], fidelity: str) -> pd.DataFrame:
        return runs_frame(records).assign(fidelity=fidelity)

    paper = frame([_record("whole", s, 0.84) for s in range(3)] + [_record("molpeg", s, 0.85) for s in range(3)],
                  "paper")
    code = frame([_record("molpeg", s, 0.83, "code") for s in range(3)]
                 + [_record("molpeg", s, 0.80, "code", {"epoch_seeding": "run"}) for s in range(3)]
                 + [_record("whole", s, 0.845, "code") for s in range(2)], "code")
    table = fidelity_frame(paper, code, 60).set_index("run")
    assert table.loc["MolPeg, `--fidelity code`", "mean"] == pytest.approx(83.0)
    assert table.loc["MolPeg, `--fidelity code`, `epoch_seeding=run`", "mean"] == pytest.approx(80.0)
    assert table.loc["MolPeg, `--fidelity code`, `epoch_seeding=run`", "minus_whole"] == pytest.approx(-4.0)
    assert table.loc["whole, `--fidelity code`", "seeds"] == 2
    assert table.loc["whole, `--fidelity code`", "minus_whole"] == pytest.approx(0.5)
    twice = pd.concat([code, frame([_record("molpeg", 1, 0.70, "code")], "code")], ignore_index=True)
    with pytest.raises(ValueError, match=r"molpeg \(\{\}\): more than one run at seed\(s\) \[1\]"):
        fidelity_frame(paper, twice, 60)
