"""Figure 4 of the paper: test metric vs time efficiency (1000 / runtime in seconds) of every method at
one pruning ratio (default 60 %, or the stored ratio nearest to it when a small preset has no 60 % runs) on
one dataset, with the whole-dataset run as reference.

The runtime of a run is what its record charges: warm-up (the recorded cost of the warm-up run it used,
whether trained by this run or reused from the cache) + scoring + training + evaluation, so a method's
shared warm-up is attributed in full to each of its runs, not hidden. Means over seeds.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from molpeg_bench.results.escape import plot_text
from molpeg_bench.results.names import dataset_label, file_slug, metric_label, paper_method
from molpeg_bench.results.paper import method_rank
from molpeg_bench.results.plotting import panels, save
from molpeg_bench.results.select import default_runs, narrow_runs, require_one_setting, require_runs

RUNTIME_PARTS = ("time_warmup", "time_scoring", "time_training", "time_evaluation")
MARKERS = {"static": "o", "dynamic": "s", "whole": "*"}


def efficiency_points(runs: pd.DataFrame, dataset: str = "hiv", ratio: int | None = None, *,
                      preset: str | None = None, checkpoint: str | None = None) -> pd.DataFrame:
    """One row per method (default options) at ``ratio`` % pruning (None: 60, or the stored ratio nearest to
    it), plus the whole dataset: mean and std of the test metric, mean runtime (s), efficiency = 1000 /
    runtime, and the number of seeds."""
    selected = default_runs(narrow_runs(runs, f"Figure 4 (default runs on {dataset})", dataset=dataset,
                                        preset=preset, checkpoint=checkpoint))
    ratio = ratio if ratio is not None else nearest_ratio(selected)
    what = f"Figure 4 (default runs at {ratio} % pruning on {dataset})"
    cell = selected[(selected["prune_ratio"] == ratio) | (selected["method"] == "whole")]
    require_runs(cell[cell["method"] != "whole"], what)
    require_one_setting(cell, what)
    cell = cell.assign(runtime=cell[list(RUNTIME_PARTS)].astype(float).sum(axis=1, min_count=len(RUNTIME_PARTS)))
    points = cell.groupby(["method", "family"], sort=False).agg(
        test=("test_at_best", "mean"), test_std=("test_at_best", "std"), runtime=("runtime", "mean"),
        n_seeds=("test_at_best", "count")).reset_index()
    points["efficiency"] = 1000.0 / points["runtime"]
    order = sorted(points["method"], key=lambda m: (m != "whole", method_rank(m)))
    points = points.set_index("method").loc[order].reset_index()
    points.attrs["ratio"] = ratio
    return points


def nearest_ratio(runs: pd.DataFrame, target: int = 60) -> int:
    """The paper's 60 % when stored, else the stored pruning ratio (in %) nearest to it (ties: the larger)."""
    ratios = sorted(set(runs.loc[runs["method"] != "whole", "prune_ratio"]), reverse=True)
    return min(ratios, key=lambda r: abs(r - target)) if ratios else target


def figure4(runs: pd.DataFrame, out_dir: str | Path, dataset: str = "hiv", ratio: int | None = None, *,
            preset: str | None = None, checkpoint: str | None = None, subtitle: str | None = None) -> list[Path]:
    """Scatter of test metric (± std over seeds) vs time efficiency; also writes the points as CSV.
    ``subtitle``: a second title line (e.g. the machine that measured the times)."""
    points = efficiency_points(runs, dataset, ratio, preset=preset, checkpoint=checkpoint)
    ratio = points.attrs["ratio"]
    metric = metric_label(str(runs.loc[runs["dataset"] == dataset, "metric"].iloc[0]))
    fig, (ax,) = panels(1, width=7.0, height=5.0)
    for family, marker in MARKERS.items():
        group = points[points["family"] == family]
        if not group.empty:
            ax.errorbar(group["efficiency"], group["test"], yerr=group["test_std"].fillna(0.0), fmt=marker,
                        markersize=9 if family == "whole" else 6, capsize=2, linestyle="none",
                        label="whole dataset" if family == "whole" else f"{family} pruning")
    for row in points.itertuples():
        ax.annotate(plot_text(paper_method(row.method)), (row.efficiency, row.test), fontsize=7, xytext=(4, 3),
                    textcoords="offset points")
    ax.set_xscale("log")
    title = plot_text(f"{dataset_label(dataset)}, {ratio} % pruned" + (f"\n{subtitle}" if subtitle else ""))
    ax.set(title=title, xlabel="time efficiency (1000 / runtime in s)",
           ylabel=plot_text(f"test {metric} (%)"))
    ax.legend(fontsize=8)
    stem = f"figure4_{file_slug(dataset)}"
    paths = save(fig, out_dir, stem)
    csv = Path(out_dir) / f"{stem}.csv"
    points.to_csv(csv, index=False, float_format="%.4g")
    return [*paths, csv]
