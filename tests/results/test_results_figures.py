"""Figures 3, 5, 6 and the report glue: files written, clear errors without data."""

from __future__ import annotations

import pytest

from molpeg_bench.results.figures import beta_panels, figure3, figure5, figure6
from molpeg_bench.results.frame import epochs_frame, runs_frame
from molpeg_bench.results.report import build_report
from molpeg_bench.results.select import option_sweep
from tests.support.records import make_record, write_store


def _records() -> list[dict]:
    records = []
    for seed in (0, 1):
        records += [make_record("hiv", "whole", 0, seed, 0.80), make_record("hiv", "random", 60, seed, 0.75),
                    make_record("hiv", "molpeg", 60, seed, 0.78)]  # default: absolute, beta 0.5
        records += [make_record("hiv", "molpeg", 60, seed, 0.7 + 0.01 * seed, options={"criterion": c})
                    for c in ("easy", "hard")]
        records += [make_record("hiv", "molpeg", r, seed, 0.7 + b / 10, options={"beta": b})
                    for b in (0.01, 0.9) for r in (20, 90)]
        records += [make_record("hiv", "molpeg", r, seed, 0.6 + b / 10, options={"beta": b, "ema_convention": "code"})
                    for b in (0.01, 0.9) for r in (20, 90)]
        records += [make_record("hiv", m, r, seed, 0.72, checkpoint="graphcl")
                    for m, r in (("whole", 0), ("random", 40), ("random", 80))]
    return records


def _assert_png_pdf(paths, stem):
    assert sorted(p.name for p in paths) == [f"{stem}.pdf", f"{stem}.png"]
    assert all(p.stat().st_size > 1000 for p in paths)


def test_figures_write_png_and_pdf(tmp_path):
    records = _records()
    runs, epochs = runs_frame(records), epochs_frame(records)
    _assert_png_pdf(figure3(runs, epochs, tmp_path, checkpoint="no pretraining"), "figure3_hiv")
    _assert_png_pdf(figure5(runs, tmp_path, "hiv"), "figure5_hiv")
    _assert_png_pdf(figure6(runs, tmp_path, checkpoint="no pretraining"), "figure6")


def test_figures_raise_clear_errors(tmp_path):
    records = [make_record("hiv", "whole"), make_record("hiv", "random", 40)]
    runs, epochs = runs_frame(records), epochs_frame(records)
    with pytest.raises(ValueError, match="no runs for Figure 3"):
        figure3(runs, epochs, tmp_path)
    with pytest.raises(ValueError, match="no runs for Figure 5 .* on muv"):
        figure5(runs, tmp_path, "muv")
    with pytest.raises(ValueError, match="no runs for Figure 6"):
        figure6(runs, tmp_path)
    with pytest.raises(ValueError, match="several settings"):  # default molpeg runs under two checkpoints
        figure6(runs_frame(_records() + [make_record("hiv", "molpeg", 90, checkpoint="graphcl")]), tmp_path)
    assert not list(tmp_path.iterdir())


def test_build_report_all_and_errors(tmp_path):
    store = write_store(tmp_path / "store", [r for r in _records() if r["checkpoint"]["name"] != "graphcl"])
    paths = build_report(store, tmp_path / "out", "all")
    assert {p.name for p in paths} >= {"table1.tex", "table1_comparison.csv", "table1_comparison.md",
                                       "figure3_hiv.png", "figure5_hiv.pdf", "figure6.png"}
    assert all(p.is_file() for p in paths)
    with pytest.raises(ValueError, match="unknown report"):
        build_report(store, tmp_path / "out", "fig7")
    only_whole = write_store(tmp_path / "whole", [make_record("hiv", "whole")])
    with pytest.raises(ValueError, match="nothing to report.*no runs for Figure 3"):
        build_report(only_whole, tmp_path / "out2", "fig3")
    with pytest.raises(ValueError, match="no complete run records"):
        build_report(tmp_path / "empty", tmp_path / "out3")


def test_the_command_line_offers_the_reports_build_report_knows():
    from molpeg_bench.benchmark.cli import build_parser
    from molpeg_bench.results.report import WHAT

    commands = next(a for a in build_parser()._actions if a.dest == "command")
    report = next(a for a in commands.choices["report"]._actions if a.dest == "what")
    assert tuple(report.choices) == WHAT


def test_option_sweep_keeps_the_sweep_grid_and_the_default_run():
    records = _records() + [
        make_record("hiv", "molpeg", 90, 0, 0.7),  # a Table 1 run, outside Figure 3's grid
        make_record("hiv", "molpeg", 60, 0, 0.7, options={"criterion": "absolute"}),  # states the default
    ]
    sweep = option_sweep(runs_frame(records), "molpeg", {"criterion"})
    assert set(sweep["prune_ratio"]) == {60}
    assert sorted(sweep["opt_criterion"]) == ["absolute", "absolute", "easy", "easy", "hard", "hard"]
    defaults = runs_frame([make_record("hiv", "molpeg", r) for r in (20, 90)])
    assert option_sweep(defaults, "molpeg", {"beta"}).empty  # Table 1's default runs alone are no sweep


def test_figure5_draws_a_panel_per_checkpoint_with_pruned_runs(tmp_path):
    records = [make_record("hiv", "whole", 0, 0, 0.8, checkpoint=c) for c in ("a/graphmae.pt", "b/graphcl.pt")]
    records += [make_record("hiv", "molpeg", r, 0, 0.7, checkpoint="a/graphmae.pt") for r in (20, 60)]
    paths = figure5(runs_frame(records), tmp_path)
    assert {p.suffix for p in paths} == {".png", ".pdf"}
    with pytest.raises(ValueError, match="pruned runs"):
        figure5(runs_frame(records[:2]), tmp_path)


def test_figure6_has_a_labelled_panel_per_ema_convention_sharing_the_beta_half_runs():
    defaults = [make_record("hiv", "molpeg", r, seed, 0.75) for r in (20, 90) for seed in (0, 1)]
    sweep = option_sweep(runs_frame(_records() + defaults), "molpeg", {"beta", "ema_convention"})
    cells = beta_panels(sweep[sweep["checkpoint"] == "no pretraining"])
    assert [(d, c) for d, c, _ in cells] == [("hiv", "paper"), ("hiv", "code")]
    for _, conv, panel in cells:
        assert set(panel["opt_beta"]) == {0.01, 0.5, 0.9}
        assert set(panel.loc[panel["opt_beta"] != 0.5, "opt_ema_convention"]) == {conv}
        assert len(panel[panel["opt_beta"] == 0.5]) == 4  # one default run per ratio and seed, in both panels
