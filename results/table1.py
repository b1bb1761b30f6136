"""Write Table 1 (LaTeX), its side-by-side comparison with the paper (CSV, Markdown) and its claims (CSV)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from molpeg_bench.results.cells import table1_data
from molpeg_bench.results.comparison import write_comparison
from molpeg_bench.results.frame import as_runs
from molpeg_bench.results.table1_tex import render_table1


def write_table1(records: Iterable[dict] | pd.DataFrame, out_dir: str | Path,
                 datasets: Iterable[str] | None = None, *, preset: str | None = None,
                 checkpoint: str | None = None, setting: str | None = None,
                 spread: bool = False, seeds_per_preset: Mapping[str, int] | None = None) -> dict[str, Path]:
    """Write ``table1.tex``, ``table1_comparison.csv``/``.md`` and ``table1_claims.csv``; returns name -> path.

    Only runs with default method options count; each dataset must come from one setting (narrow with
    ``preset``/``checkpoint``/``setting`` otherwise). ``datasets`` defaults to those present. ``spread``:
    the LaTeX cells print mean ± std instead of the paper's mean only. ``seeds_per_preset``: how many seeds
    each preset asks for; cells with fewer are marked (none when not given).
    """
    runs = as_runs(records)
    data, last = (table1_data(runs, datasets, preset=preset, checkpoint=checkpoint, setting=setting,
                              seeds_per_preset=seeds_per_preset, statistic=statistic)
                  for statistic in ("test_at_best", "test_last_mean"))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tex = out / "table1.tex"
    tex.write_text(render_table1(data, spread))
    return {"table1.tex": tex, **write_comparison(data, out, last)}
