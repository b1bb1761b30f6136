"""The cells of Table 1: mean and std over seeds of the default-option runs per dataset x method x ratio."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from results.aggregate import over_seeds
from results.frame import as_runs
from results.names import dataset_order, family_order
from results.paper import method_rank
from results.select import default_runs, filter_runs, require_one_setting, require_runs

PAPER_RATIOS = (90, 80, 70, 60, 40, 20)


@dataclass(frozen=True)
class Cell:
    mean: float
    std: float
    n_seeds: int


@dataclass(frozen=True)
class Table1Data:
    """The summary over seeds and the table's layout: datasets, ratios (%) and method rows by family."""

    summary: pd.DataFrame
    datasets: list[str]
    ratios: list[int]
    rows: list[tuple[str, list[str]]]  # (family, methods in the paper's order); 'whole' excluded
    settings: dict[str, tuple[str, str]]  # dataset -> (preset, checkpoint)
    cells: dict[tuple[str, str, int], Cell]  # (dataset, method, ratio) -> cell with at least one value

    def cell(self, dataset: str, method: str, ratio: int) -> Cell | None:
        return self.cells.get((dataset, method, int(ratio)))

    def whole(self, dataset: str) -> Cell | None:
        return self.cell(dataset, "whole", 0)

    def metric(self, dataset: str) -> str:
        return str(self.summary.loc[self.summary["dataset"] == dataset, "metric"].iloc[0])

    def methods(self) -> list[str]:
        return [m for _, methods in self.rows for m in methods]

    def seed_counts(self) -> list[int]:
        return sorted({c.n_seeds for c in self.cells.values()})


def table1_data(data: Iterable[dict] | pd.DataFrame, datasets: Iterable[str] | None = None, *,
                preset: str | None = None, checkpoint: str | None = None) -> Table1Data:
    """Select the default-option runs (one setting per dataset) and summarise them over seeds."""
    runs = require_runs(default_runs(filter_runs(as_runs(data), preset=preset, checkpoint=checkpoint)),
                        "Table 1 (runs with default method options)")
    present = dataset_order(runs["dataset"].unique())
    datasets = present if datasets is None else list(datasets)
    missing = [d for d in datasets if d not in present]
    if missing:
        raise ValueError(f"no Table 1 runs (default method options) for dataset(s) {missing}; "
                         f"present: {present}")
    runs = runs[runs["dataset"].isin(datasets)]
    settings = {d: require_one_setting(runs[runs["dataset"] == d], f"Table 1 on {d}") for d in datasets}
    summary = over_seeds(runs)
    pruned = summary[summary["method"] != "whole"]
    ratios = sorted(set(PAPER_RATIOS) | {int(r) for r in pruned["prune_ratio"]}, reverse=True)
    families = pruned.groupby("family")["method"].unique()
    rows = [(f, sorted(families[f], key=method_rank)) for f in family_order(families.index)]
    cells = {(r.dataset, r.method, int(r.prune_ratio)): Cell(float(r.mean), float(r.std), int(r.n_seeds))
             for r in summary.itertuples() if r.n_seeds > 0}
    return Table1Data(summary, datasets, ratios, rows, settings, cells)
