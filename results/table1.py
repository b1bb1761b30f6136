"""Write Table 1 (LaTeX) and its side-by-side comparison with the paper (CSV, Markdown)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from results.cells import table1_data
from results.comparison import comparison_frame, write_comparison
from results.table1_tex import render_table1


def write_table1(records: Iterable[dict] | pd.DataFrame, out_dir: str | Path,
                 datasets: Iterable[str] | None = None, *, preset: str | None = None,
                 checkpoint: str | None = None) -> dict[str, Path]:
    """Write ``table1.tex``, ``table1_comparison.csv`` and ``table1_comparison.md``; returns name -> path.

    Only runs with default method options count; each dataset must come from one setting (narrow with
    ``preset``/``checkpoint`` otherwise). ``datasets`` defaults to those present.
    """
    data = table1_data(records, datasets, preset=preset, checkpoint=checkpoint)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tex = out / "table1.tex"
    tex.write_text(render_table1(data))
    return {"table1.tex": tex, **write_comparison(comparison_frame(data), out)}
