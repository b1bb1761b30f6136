"""The cells of a paper table: mean and std over seeds of the default-option runs per dataset x method x
ratio, with each cell's per-seed values (for intervals and paired tests).

One path for the three tables: ``table`` names the paper table whose numbers and ratios are compared, the
metric's direction says which value is best (lower for an MAE), and Tables 2 and 3 draw a fixed layout
(their datasets, at exactly their ratios) from a store that may hold other runs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from molpeg_bench.results.aggregate import CELL_KEYS, over_seeds
from molpeg_bench.results.frame import STATISTICS, as_runs
from molpeg_bench.results.names import dataset_order, family_order, higher_is_better
from molpeg_bench.results.paper import method_rank
from molpeg_bench.results.select import default_runs, narrow_runs, require_one_setting, require_runs

log = logging.getLogger(__name__)

PAPER_RATIOS = (90, 80, 70, 60, 40, 20)
WHOLE = ("whole", 0)


@dataclass(frozen=True)
class Cell:
    mean: float
    std: float
    n_seeds: int
    values: tuple[tuple[int, float], ...] = ()  # (seed, value), by seed
    realised_kept: float = float("nan")  # mean share of the training set trained per epoch
    visits: float = float("nan")  # mean sample visits (backpropagated molecules) of a run
    degenerate: tuple[tuple[int, str], ...] = ()  # (seed, reasons) of the seeds flagged by results.degenerate

    def degenerate_note(self) -> str:
        """'degenerate in n of m seeds (seed s: reason)', '' when no seed is flagged."""
        if not self.degenerate:
            return ""
        seed, reasons = self.degenerate[0]
        return (f"degenerate in {len(self.degenerate)} of {self.n_seeds} seed(s) "
                f"(seed {seed}: {reasons.split(' | ')[0]})")

    def by_seed(self) -> dict[int, float]:
        return dict(self.values)


@dataclass(frozen=True)
class TableData:
    """The summary over seeds and the table's layout: datasets, ratios (%) and method rows by family."""

    summary: pd.DataFrame
    datasets: list[str]
    ratios: list[int]
    rows: list[tuple[str, list[str]]]  # (family, methods in the paper's order); 'whole' excluded
    settings: dict[str, tuple[str, str]]  # dataset -> (preset, checkpoint)
    cells: dict[tuple[str, str, int], Cell]  # (dataset, method, ratio) -> cell with at least one value
    table: int = 1  # the paper table reproduced
    expected_seeds: dict[str, int | None] | None = None  # dataset -> seeds its preset asks for
    no_value: frozenset[tuple[str, str, int]] = frozenset()  # (dataset, method, ratio) run, but without a value
    left_out: tuple[str, ...] = ()  # runs of the table's datasets not shown: they state method options
    external: Mapping[str, str] | None = None  # method from outside the suite -> where it came from
    statistic: str = "test_at_best"  # the run's value the cells summarise (results.frame.STATISTICS)

    def is_external(self, method: str) -> bool:
        return method in (self.external or {})

    def origin(self, method: str) -> str:
        """Where a method from outside the suite came from ('' for a built-in one)."""
        return (self.external or {}).get(method, "")

    def cell(self, dataset: str, method: str, ratio: int) -> Cell | None:
        return self.cells.get((dataset, method, int(ratio)))

    def ran_without_value(self, dataset: str, method: str, ratio: int) -> bool:
        """Whether the cell was run but none of its runs has a value (e.g. a test set without positives)."""
        return (dataset, method, int(ratio)) in self.no_value

    def whole(self, dataset: str) -> Cell | None:
        return self.cell(dataset, *WHOLE)

    def metric(self, dataset: str) -> str:
        return str(self.summary.loc[self.summary["dataset"] == dataset, "metric"].iloc[0])

    def higher_is_better(self, dataset: str) -> bool:
        return higher_is_better(self.metric(dataset))

    def methods(self, family: str | None = None, *, external: bool = True) -> list[str]:
        """The rows' methods (of ``family``); ``external=False`` leaves out methods from outside the suite."""
        return [m for f, methods in self.rows if family in (None, f) for m in methods
                if external or not self.is_external(m)]

    def seed_counts(self) -> list[int]:
        return sorted({c.n_seeds for c in self.cells.values()})

    def few_seeds(self, dataset: str, cell: Cell | None) -> bool:
        """Whether ``cell`` has fewer seeds than the dataset's preset asks for."""
        expected = (self.expected_seeds or {}).get(dataset)
        return cell is not None and expected is not None and cell.n_seeds < expected


Table1Data = TableData


def _cells(runs: pd.DataFrame, summary: pd.DataFrame, statistic: str) -> dict[tuple[str, str, int], Cell]:
    groups = runs.groupby(["dataset", "method", "prune_ratio"], sort=False)
    values = {key: tuple(sorted((int(s), float(v)) for s, v in zip(g["seed"], g[statistic], strict=True)
                                if pd.notna(v)))
              for key, g in groups}
    means = {key: (_mean(g, "realised_kept"), _mean(g, "sample_visits")) for key, g in groups}
    flagged = {key: tuple(sorted((int(s), str(f)) for s, f in zip(g["seed"], g["degenerate"], strict=True) if f))
               if "degenerate" in g else () for key, g in groups}
    return {(r.dataset, r.method, int(r.prune_ratio)):
            Cell(float(r.mean), float(r.std), int(r.n_seeds), values[(r.dataset, r.method, r.prune_ratio)],
                 *means[(r.dataset, r.method, r.prune_ratio)], flagged[(r.dataset, r.method, r.prune_ratio)])
            for r in summary.itertuples() if r.n_seeds > 0}


def _mean(group: pd.DataFrame, column: str) -> float:
    return float(pd.to_numeric(group[column], errors="coerce").mean()) if column in group else float("nan")


def table_data(data: Iterable[dict] | pd.DataFrame, datasets: Iterable[str] | None = None, *, table: int = 1,
               preset: str | None = None, checkpoint: str | None = None, setting: str | None = None,
               ratios: Iterable[int] = PAPER_RATIOS, more_ratios: bool = True, among: Collection[str] | None = None,
               seeds_per_preset: Mapping[str, int] | None = None, statistic: str = "test_at_best") -> TableData:
    """Select the default-option runs (one setting per dataset) and summarise them over seeds.

    ``datasets``: those to show (default: every one present); ``among``: the only datasets the table is
    drawn from (Tables 2 and 3; None: any). ``ratios``: the pruning ratios (%) shown, with any other stored
    one when ``more_ratios`` (Table 1), else exactly these in this order. ``seeds_per_preset``: how many seeds
    each preset asks for (the caller knows its presets); a cell with fewer is marked. None, or a preset it
    does not name: no cell is marked. ``statistic``: the run's value a cell summarises, a key of
    ``results.frame.STATISTICS`` (the paper's test at the best validation epoch by default)."""
    if statistic not in STATISTICS:
        raise ValueError(f"statistic must be one of {sorted(STATISTICS)}, got {statistic!r}")
    runs = as_runs(data)
    if among is not None:
        runs = runs[runs["dataset"].isin(list(among))]
    narrowed = narrow_runs(runs, f"Table {table}", preset=preset, checkpoint=checkpoint, setting=setting)
    what = f"Table {table} (runs with default method options" + (f" on {', '.join(among)})" if among else ")")
    defaults = default_runs(narrowed)
    runs = require_runs(defaults, what)
    present = dataset_order(runs["dataset"].unique())
    datasets = present if datasets is None else list(datasets)
    missing = [d for d in datasets if d not in present]
    if missing:
        raise ValueError(f"no {what} for dataset(s) {missing}; present: {present}")
    runs = runs[runs["dataset"].isin(datasets)]
    settings = {d: require_one_setting(runs[runs["dataset"] == d], f"Table {table} on {d}") for d in datasets}
    summary = over_seeds(runs, value=statistic, by=CELL_KEYS)
    pruned = summary[summary["method"] != "whole"]
    ratios = list(ratios)
    if more_ratios:
        ratios = sorted(set(ratios) | {int(r) for r in pruned["prune_ratio"]}, reverse=True)
    families = pruned.groupby("family")["method"].unique()
    rows = [(f, sorted(families[f], key=lambda m: method_rank(m, table))) for f in family_order(families.index)]
    expected = {d: (seeds_per_preset or {}).get(p) for d, (p, _) in settings.items()}
    no_value = frozenset((r.dataset, r.method, int(r.prune_ratio)) for r in summary.itertuples() if r.n_seeds == 0)
    optioned = narrowed[narrowed["dataset"].isin(datasets) & ~narrowed.index.isin(defaults.index)]
    return TableData(summary, datasets, ratios, rows, settings, _cells(runs, summary, statistic), table, expected,
                     no_value, left_out(optioned, f"Table {table}"), _external(runs), statistic)


def _external(runs: pd.DataFrame) -> dict[str, str]:
    """method -> origin of each method from outside the suite among ``runs``."""
    if "origin" not in runs:
        return {}
    found = runs[runs["origin"].fillna("") != ""]
    return {m: "; ".join(sorted(set(g["origin"]))) for m, g in found.groupby("method")}


def left_out(runs: pd.DataFrame, what: str) -> tuple[str, ...]:
    """``dataset method: n runs stating <option names>`` for each method whose runs a table leaves out for
    stating method options (also logged), so a run never leaves a table without a word."""
    found = []
    for (dataset, method), group in runs.groupby(["dataset", "method"]) if len(runs) else []:
        names = sorted({name for options in group["options"] for name in json.loads(options)})
        found.append(f"{dataset} {method}: {len(group)} run{'' if len(group) == 1 else 's'} stating "
                     f"{', '.join(names)}")
    if found:
        log.info("%s shows the runs with default method options; left out: %s", what, "; ".join(found))
    return tuple(found)


def table1_data(data: Iterable[dict] | pd.DataFrame, datasets: Iterable[str] | None = None, *,
                preset: str | None = None, checkpoint: str | None = None,
                setting: str | None = None, seeds_per_preset: Mapping[str, int] | None = None,
                statistic: str = "test_at_best") -> TableData:
    """Table 1's cells (see ``table_data``)."""
    return table_data(data, datasets, table=1, preset=preset, checkpoint=checkpoint, setting=setting,
                      seeds_per_preset=seeds_per_preset, statistic=statistic)
