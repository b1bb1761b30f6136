"""Mean, standard deviation and count over seeds of runs that share every other key."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

CELL_KEYS = ("dataset", "metric", "family", "method", "prune_ratio", "preset", "checkpoint", "setting")


def over_seeds(frame: pd.DataFrame, value: str = "test_at_best",
               by: Sequence[str] = CELL_KEYS) -> pd.DataFrame:
    """One row per group of ``by``: ``mean``, ``std`` (sample std, NaN for one seed) and ``n_seeds``
    (non-missing values) of ``value``."""
    grouped = frame.groupby(list(by), dropna=False, sort=True)[value]
    return grouped.agg(mean="mean", std="std", n_seeds="count").reset_index()
