"""Mean, standard deviation and count over seeds of runs that share every other key."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from molpeg_bench.results.select import require_distinct_seeds

CELL_KEYS = ("dataset", "metric", "family", "method", "prune_ratio", "preset", "checkpoint", "setting")


def over_seeds(frame: pd.DataFrame, value: str = "test_at_best",
               by: Sequence[str] = CELL_KEYS) -> pd.DataFrame:
    """One row per group of ``by``: ``mean``, ``std`` (sample std, NaN for one seed) and ``n_seeds``
    (non-missing values) of ``value``. A frame with a ``seed`` column must hold each seed once per group
    (else a ValueError naming the clashing records), so ``n_seeds`` counts distinct seeds."""
    if "seed" in frame.columns:
        require_distinct_seeds(frame, by)
    grouped = frame.groupby(list(by), dropna=False, sort=True)[value]
    return grouped.agg(mean="mean", std="std", n_seeds="count").reset_index()
