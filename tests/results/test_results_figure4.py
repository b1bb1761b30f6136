import pandas as pd
import pytest

from molpeg_bench.results.figure4 import efficiency_points, figure4
from molpeg_bench.results.frame import runs_frame
from molpeg_bench.results.report import build_report
from tests.support.records import make_record, write_store


def _timed(method: str, ratio: int, seed: int, test: float, warmup: float, training: float) -> dict:
    record = make_record("hiv", method, ratio, seed=seed, test=test)
    record["timings"] = {"warmup": warmup, "scoring": 0.5, "training": training, "evaluation": 0.5,
                         "total": 99.0}  # total (wall clock) is not what is charged
    return record


def _records() -> list[dict]:
    return [_timed("whole", 0, s, 0.80, 0.0, 9.0) for s in (0, 1)] + \
        [_timed("cd", 60, s, 0.70 + 0.02 * s, 7.0, 2.0) for s in (0, 1)] + \
        [_timed("molpeg", 60, s, 0.78, 0.0, 3.0) for s in (0, 1)] + \
        [_timed("molpeg", 20, 0, 0.79, 0.0, 8.0), _timed("random", 60, 0, 0.75, 0.0, 1.0)]


def test_efficiency_is_1000_over_the_charged_runtime_with_warmup():
    points = efficiency_points(runs_frame(_records())).set_index("method")
    assert list(points.index) == ["whole", "random", "cd", "molpeg"]  # whole first, then Table 1 order
    assert points.loc["cd", "runtime"] == pytest.approx(7.0 + 0.5 + 2.0 + 0.5)
    assert points.loc["cd", "efficiency"] == pytest.approx(100.0)
    assert points.loc["molpeg", "efficiency"] == pytest.approx(1000 / 4.0)  # the 20 % run is not mixed in
    assert points.loc["cd", "test"] == pytest.approx(71.0) and points.loc["cd", "n_seeds"] == 2
    assert points.loc["whole", "family"] == "whole" and points.loc["random", "n_seeds"] == 1


def test_figure4_files_report_hook_and_errors(tmp_path):
    paths = figure4(runs_frame(_records()), tmp_path)
    assert sorted(p.name for p in paths) == ["figure4_hiv.csv", "figure4_hiv.pdf", "figure4_hiv.png"]
    assert all(p.stat().st_size > 0 for p in paths)
    assert set(pd.read_csv(tmp_path / "figure4_hiv.csv")["method"]) == {"whole", "random", "cd", "molpeg"}
    store = write_store(tmp_path / "runs", _records())
    written = build_report(store, tmp_path / "out", "fig4")
    assert {p.name for p in written} == {"figure4_hiv.csv", "figure4_hiv.pdf", "figure4_hiv.png"}
    with pytest.raises(ValueError, match="no runs for Figure 4"):
        efficiency_points(runs_frame(_records()), ratio=40)


def test_a_preset_without_60_percent_draws_its_nearest_ratio():
    """The ci preset prunes 80 % and 40 %: Figure 4 uses 80 % (grid and report), instead of failing."""
    from molpeg_bench.benchmark.experiments import build_grid

    assert {c.prune_ratio for c in build_grid("fig4", "ci")} == {0.0, 0.8}
    assert {c.prune_ratio for c in build_grid("fig4", "smoke")} == {0.0, 0.6}
    records = [_timed("whole", 0, 0, 0.8, 0.0, 9.0), _timed("molpeg", 80, 0, 0.7, 0.0, 2.0),
               _timed("molpeg", 40, 0, 0.75, 0.0, 5.0)]
    points = efficiency_points(runs_frame(records)).set_index("method")
    assert points.attrs["ratio"] == 80 and points.loc["molpeg", "runtime"] == pytest.approx(3.0)
