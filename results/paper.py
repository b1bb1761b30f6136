"""The paper's reported numbers (Tables 1-3, bundled as ``paper/reported_results.csv``) and look-ups."""

from __future__ import annotations

import math
from functools import cache
from importlib import resources

import pandas as pd

from molpeg_bench.results.names import paper_method

PAPER_CSV = "reported_results.csv"


@cache
def _reported() -> pd.DataFrame:
    with resources.as_file(resources.files("molpeg_bench.results") / "paper" / PAPER_CSV) as path:
        return pd.read_csv(path)


def reported() -> pd.DataFrame:
    """Every printed cell: table, dataset, metric, family, method, prune_ratio (%), value, delta_vs_whole."""
    return _reported().copy()


@cache
def _index(table: int) -> dict[tuple[str, str, int], tuple[float, float]]:
    rows = _reported()[_reported()["table"] == table]
    return {(r.dataset, r.method, int(r.prune_ratio)): (float(r.value), float(r.delta_vs_whole))
            for r in rows.itertuples()}


def paper_cell(paper_dataset: str | None, method: str, prune_ratio: int,
               table: int = 1) -> tuple[float, float]:
    """(value, delta_vs_whole) the paper prints for our ``method`` (registry name) at ``prune_ratio`` %;
    NaNs when it prints none."""
    return _index(table).get((paper_dataset, paper_method(method), int(prune_ratio)), (math.nan, math.nan))


def has_method(paper_dataset: str | None, method: str, table: int = 1) -> bool:
    name = paper_method(method)
    return any(d == paper_dataset and m == name for d, m, _ in _index(table))


@cache
def method_order(table: int = 1) -> tuple[str, ...]:
    """The paper's method names in the order the table prints them."""
    rows = _reported()[_reported()["table"] == table]
    return tuple(dict.fromkeys(rows["method"]))


def method_rank(method: str, table: int = 1) -> tuple[int, str]:
    """Sort key of a registry method: the paper's row order, unknown methods last, alphabetically."""
    order = method_order(table)
    name = paper_method(method)
    return (order.index(name) if name in order else len(order), name)
