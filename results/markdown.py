"""Markdown pipe tables without extra dependencies (pandas' ``to_markdown`` needs ``tabulate``)."""

from __future__ import annotations

import math

import pandas as pd


def fmt(value: object) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.1f}"
    return str(value)


def pipe_table(frame: pd.DataFrame, headers: dict[str, str] | None = None) -> list[str]:
    """Lines of a pipe table of ``frame``'s columns (or of ``headers``' keys, titled by its values)."""
    headers = headers or {c: c for c in frame.columns}
    lines = ["| " + " | ".join(headers.values()) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in frame[list(headers)].itertuples(index=False)]
    return lines
