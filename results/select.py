"""Choosing the runs behind a table or figure: filters, default options, option sweeps, one setting."""

from __future__ import annotations

import json
from collections.abc import Collection

import pandas as pd

SETTING_COLUMNS = ["preset", "checkpoint", "setting"]


def filter_runs(runs: pd.DataFrame, *, dataset: str | None = None, preset: str | None = None,
                checkpoint: str | None = None) -> pd.DataFrame:
    """The runs matching every given value (None: any)."""
    keep = pd.Series(True, index=runs.index)
    for column, value in (("dataset", dataset), ("preset", preset), ("checkpoint", checkpoint)):
        if value is not None:
            keep &= runs[column] == value
    return runs[keep]


def default_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs whose config states no method option (the methods' defaults)."""
    return runs[runs["default_options"].astype(bool)]


def option_sweep(runs: pd.DataFrame, method: str, options: Collection[str]) -> pd.DataFrame:
    """Runs of ``method`` that state no option outside ``options`` (the default run included), one per
    distinct (setting, resolved options, ratio, seed), at the (dataset, ratio) pairs where some run states
    one of ``options`` (the sweep's grid; none when no run does: Table 1's default runs alone are no
    sweep)."""
    stated = runs["options"].map(lambda text: set(json.loads(text)))
    sweep = runs[(runs["method"] == method) & stated.map(lambda keys: keys <= set(options))]
    cells = list(zip(sweep["dataset"], sweep["prune_ratio"], strict=True))
    grid = {cell for cell, explicit in zip(cells, sweep["options"] != "{}", strict=True) if explicit}
    sweep = sweep[[cell in grid for cell in cells]]
    opt_columns = [c for c in sweep.columns if c.startswith("opt_")]
    key = ["dataset", *SETTING_COLUMNS, "prune_ratio", "seed", *opt_columns]
    return sweep.drop_duplicates(subset=key)


def require_runs(runs: pd.DataFrame, what: str) -> pd.DataFrame:
    """``runs`` unless empty; then a ValueError naming what is missing."""
    if runs.empty:
        raise ValueError(f"no runs for {what}")
    return runs


def require_one_setting(runs: pd.DataFrame, what: str) -> tuple[str, str]:
    """The (preset, checkpoint) of ``runs``; a ValueError when they mix several experimental settings."""
    settings = runs[SETTING_COLUMNS].drop_duplicates()
    if len(settings) > 1:
        listed = "; ".join(f"preset {p}, checkpoint {c}, setting {s}"
                           for p, c, s in settings.itertuples(index=False))
        raise ValueError(f"{what} mixes runs of several settings ({listed}): "
                         "choose one with preset=/checkpoint=")
    preset, checkpoint, _ = settings.iloc[0]
    return str(preset), str(checkpoint)


def with_option(runs: pd.DataFrame, name: str, values: Collection | None = None) -> pd.DataFrame:
    """Runs whose resolved option ``name`` is set (and in ``values`` when given)."""
    column = f"opt_{name}"
    if column not in runs.columns:
        return runs.iloc[0:0]
    return runs[runs[column].notna() if values is None else runs[column].isin(list(values))]
