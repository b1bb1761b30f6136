"""Figures 3, 5 and 6 of the paper from the runs and epochs frames (``results.frame``), as PNG and PDF.

Each raises a ValueError naming what is missing when it has no data at all, or when its runs mix several
experimental settings (narrow them with ``preset``/``checkpoint``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from molpeg_bench.results.aggregate import over_seeds
from molpeg_bench.results.escape import plot_text
from molpeg_bench.results.names import dataset_label, dataset_order, file_slug, metric_label, paper_method
from molpeg_bench.results.paper import method_rank
from molpeg_bench.results.plotting import mean_std_line, panels, save
from molpeg_bench.results.select import (
    default_runs,
    filter_runs,
    narrow_runs,
    option_sweep,
    require_one_setting,
    require_runs,
    with_option,
)

CRITERIA = {"easy": "easy (most negative Δ)", "hard": "hard (most positive Δ)",
            "absolute": "MolPeg (largest |Δ|)"}
EMA_CONVENTIONS = {"paper": "EMA as the paper: ξ ← βθ + (1−β)ξ", "code": "EMA as the code: ξ ← βξ + (1−β)θ"}


def _ylabel(runs: pd.DataFrame) -> str:
    return plot_text(f"test {metric_label(str(runs['metric'].iloc[0]))} (%)")


def figure3(runs: pd.DataFrame, epochs: pd.DataFrame, out_dir: str | Path, dataset: str = "hiv", *,
            preset: str | None = None, checkpoint: str | None = None) -> list[Path]:
    """Test metric per epoch of MolPeg keeping the k most negative signed gaps Δ (easy), the k most
    positive (hard) or the k largest |Δ| (MolPeg) (mean ± std over seeds), one panel per pruning ratio."""
    what = f"Figure 3 (MolPeg with criterion easy/hard/absolute on {dataset})"
    selected = filter_runs(runs, dataset=dataset, preset=preset, checkpoint=checkpoint)
    variants = with_option(option_sweep(selected, "molpeg", {"criterion"}), "criterion", CRITERIA)
    sweep = require_runs(variants, what)
    require_one_setting(sweep, what)
    merged = require_runs(epochs.merge(sweep[["run_id", "prune_ratio", "opt_criterion"]], on="run_id"),
                          f"{what}: per-epoch metrics")
    curves = over_seeds(merged, value="test", by=("prune_ratio", "opt_criterion", "epoch"))
    ratios = sorted(curves["prune_ratio"].unique())
    fig, axes = panels(len(ratios))
    for ax, ratio in zip(axes, ratios, strict=True):
        for criterion, label in CRITERIA.items():
            curve = curves[(curves["prune_ratio"] == ratio) & (curves["opt_criterion"] == criterion)]
            if not curve.empty:
                mean_std_line(ax, curve["epoch"], curve["mean"], curve["std"], label)
        ax.set(title=plot_text(f"{dataset_label(dataset)}, {ratio} % pruned"), xlabel="epoch", ylabel=_ylabel(sweep))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize=8)
    return save(fig, out_dir, f"figure3_{file_slug(dataset)}")


def figure5(runs: pd.DataFrame, out_dir: str | Path, dataset: str = "hiv", *, preset: str | None = None,
            checkpoints: Iterable[str] | None = None) -> list[Path]:
    """Test metric vs pruning ratio, one line per method (default options) and a dashed whole-dataset
    level, one panel per checkpoint (default: each checkpoint with pruned runs)."""
    what = f"Figure 5 (runs with default method options on {dataset})"
    narrowed = narrow_runs(runs, f"Figure 5 (runs on {dataset})", dataset=dataset, preset=preset)
    selected = require_runs(default_runs(narrowed), what)
    if checkpoints is None:  # every checkpoint with a pruning trajectory (whole-only runs make no panel)
        names = sorted(selected.loc[selected["method"] != "whole", "checkpoint"].unique())
        require_runs(selected[selected["method"] != "whole"], f"{what}: pruned runs")
    else:
        names = list(checkpoints)
    fig, axes = panels(len(names))
    for ax, name in zip(axes, names, strict=True):
        panel = require_runs(selected[selected["checkpoint"] == name], f"{what} with checkpoint {name!r}")
        require_one_setting(panel, f"{what} with checkpoint {name!r}")
        summary = over_seeds(panel)
        pruned = summary[summary["method"] != "whole"]
        for method in sorted(pruned["method"].unique(), key=method_rank):
            line = pruned[pruned["method"] == method].sort_values("prune_ratio")
            mean_std_line(ax, line["prune_ratio"], line["mean"], line["std"], plot_text(paper_method(method)))
        whole = summary[summary["method"] == "whole"]
        if not whole.empty:
            ax.axhline(whole["mean"].iloc[0], linestyle="--", color="black", label=paper_method("whole"))
        ax.set(title=plot_text(f"{dataset_label(dataset)}, {name}"), xlabel="pruning ratio (%)", ylabel=_ylabel(panel))
        ax.set_xticks(sorted(pruned["prune_ratio"].unique()))
        ax.legend(fontsize=7)
    return save(fig, out_dir, f"figure5_{file_slug(dataset)}")


def _beta_bars(ax: Axes, bars: pd.DataFrame) -> None:
    """Grouped bars: x = pruning ratio, one bar per β, error bars = std over seeds."""
    ratios, betas = sorted(bars["prune_ratio"].unique()), sorted(bars["opt_beta"].unique())
    width = 0.8 / len(betas)
    for j, beta in enumerate(betas):
        group = bars[bars["opt_beta"] == beta]
        x = np.array([ratios.index(r) for r in group["prune_ratio"]]) - 0.4 + width * (j + 0.5)
        ax.bar(x, group["mean"], width, yerr=group["std"].fillna(0.0), capsize=2, label=f"β = {beta:g}")
    ax.set_xticks(range(len(ratios)), [f"{r} %\n(keep {100 - r} %)" for r in ratios])
    spread = bars["std"].fillna(0.0)
    low, high = (bars["mean"] - spread).min(), (bars["mean"] + spread).max()
    pad = max(1.0, 0.1 * (high - low))
    ax.set_ylim(max(0.0, low - pad), min(100.0, high + 4 * pad))  # headroom for the legend
    ax.legend(fontsize=7, ncols=min(len(betas), 3), loc="upper center", frameon=False)


def figure6(runs: pd.DataFrame, out_dir: str | Path, datasets: Iterable[str] | None = None, *,
            preset: str | None = None, checkpoint: str | None = None) -> list[Path]:
    """MolPeg's sensitivity to β: bars of the mean test metric per β, grouped by pruning ratio, one
    panel per dataset and EMA convention (the runs at β = 0.5, where the conventions coincide, in both)."""
    what = "Figure 6 (MolPeg runs varying beta)"
    selected = filter_runs(runs, preset=preset, checkpoint=checkpoint)
    sweep = with_option(option_sweep(selected, "molpeg", {"beta", "ema_convention"}), "beta")
    if datasets is not None:
        sweep = sweep[sweep["dataset"].isin(list(datasets))]
    cells = beta_panels(require_runs(sweep, what))
    fig, axes = panels(len(cells), width=5.0)
    for ax, (dataset, conv, panel) in zip(axes, cells, strict=True):
        require_one_setting(panel, f"{what} on {dataset}")
        _beta_bars(ax, over_seeds(panel, by=("prune_ratio", "opt_beta")))
        ax.set(title=plot_text(f"{dataset_label(dataset)}\n{EMA_CONVENTIONS[conv]}"), xlabel="pruning ratio (%)",
               ylabel=_ylabel(panel))
    return save(fig, out_dir, "figure6")


def beta_panels(sweep: pd.DataFrame) -> list[tuple[str, str, pd.DataFrame]]:
    """(dataset, EMA convention, runs) of each Figure 6 panel: a convention gets a panel where it has a
    run at β != 0.5; the runs at β = 0.5 (identical under both conventions) join every panel, once."""
    convention = sweep.get("opt_ema_convention", pd.Series("paper", index=sweep.index)).fillna("paper")
    cells = []
    for dataset in dataset_order(sweep["dataset"].unique()):
        rows = sweep["dataset"] == dataset
        convs = [c for c in EMA_CONVENTIONS if (rows & (convention == c) & (sweep["opt_beta"] != 0.5)).any()]
        for conv in convs or ["paper"]:
            panel = sweep[rows & ((convention == conv) | (sweep["opt_beta"] == 0.5))]
            cells.append((dataset, conv, panel.drop_duplicates(["prune_ratio", "seed", "opt_beta"])))
    return cells
