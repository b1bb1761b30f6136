"""Markdown pipe tables without extra dependencies (pandas' ``to_markdown`` needs ``tabulate``); every cell is
escaped (``results.escape.markdown_text``), so a name with a ``|``, a line break or HTML stays in its cell."""

from __future__ import annotations

import math
from collections.abc import Iterable

import pandas as pd

from molpeg_bench.results.escape import markdown_code, markdown_text


def fmt(value: object) -> str:
    """A cell's text: floats with one decimal (NaN: empty)."""
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.1f}"
    return str(value)


def pipe_table(frame: pd.DataFrame, headers: dict[str, str] | None = None) -> list[str]:
    """Lines of a pipe table of ``frame``'s columns (or of ``headers``' keys, titled by its values)."""
    headers = headers or {c: c for c in frame.columns}
    lines = [table_row(headers.values()), "|" + "|".join("---" for _ in headers) + "|"]
    return lines + [table_row(map(fmt, row)) for row in frame[list(headers)].itertuples(index=False)]


def table_row(cells: Iterable[object]) -> str:
    """One line of a pipe table, each cell escaped."""
    return "| " + " | ".join(markdown_text(c) for c in cells) + " |"


def setting_lines(settings: pd.DataFrame) -> list[str]:
    """One list item per (dataset, preset, checkpoint) row of ``settings``."""
    return [f"- {markdown_text(d)}: preset {markdown_code(p)}, checkpoint {markdown_code(c)}"
            for d, p, c in settings[["dataset", "preset", "checkpoint"]].itertuples(index=False)]
