"""Table 2 as a LaTeX booktabs fragment in the paper's layout: PaiNN fine-tuned on QM9, test MAE (meV) of
U0 and ZPVE at six pruning ratios; rows grouped into static and dynamic methods; the lowest printed value
of a column is bold (U0 with one decimal, ZPVE with two, as the paper prints them)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from molpeg_bench.results import latex
from molpeg_bench.results.cells import TableData, table_data
from molpeg_bench.results.comparison_3d import TABLE_DATASETS, write_comparison
from molpeg_bench.results.escape import latex_text

TABLE2_RATIOS = (90, 80, 70, 60, 40, 20)
TABLE2_ROWS = (("static", ("random", "dp")), ("dynamic", ("infobatch", "molpeg")))
METHODS = tuple(m for _, methods in TABLE2_ROWS for m in methods)
DIGITS = {"qm9_u0": 1, "qm9_zpve": 2}
LABELS = {"qm9_u0": "U0", "qm9_zpve": "ZPVE"}


def _cell(data: TableData, dataset: str, method: str, ratio: int) -> str:
    cell = data.cell(dataset, method, ratio)
    if cell is None:
        return latex.absent_tex(data, dataset, method, ratio)
    digits = DIGITS[dataset]
    return latex.value_tex(cell.mean, digits, best=latex.best_of(data, dataset, ratio, METHODS, digits))


def _whole(data: TableData, dataset: str) -> str:
    cell = data.whole(dataset)
    if cell is None:
        return latex.NO_VALUE if data.ran_without_value(dataset, "whole", 0) else "not run"
    return f"{cell.mean:.{DIGITS[dataset]}f} meV"


def render_table2(data: TableData) -> str:
    ncols = 1 + len(data.ratios) * len(data.datasets)
    settings = "; ".join(f"{latex_text(LABELS[d])}: {latex.setting_tex(p, c)}"
                         for d, (p, c) in data.settings.items())
    wholes = ", ".join(f"{LABELS[d]} {_whole(data, d)}" for d in data.datasets)
    caption = (rf"Test MAE (meV, lower is better) {latex.AT_BEST} of PaiNN fine-tuned on pruned QM9; "
               rf"mean over seeds; {latex.BOLD_BEST}; n/a: no value. "
               rf"Whole training set: {latex_text(wholes)}. {settings}.")
    lines = latex.begin(caption, "table2", ncols - 1)
    lines += latex.dataset_header([LABELS[d] for d in data.datasets], data.ratios)
    for family, methods in TABLE2_ROWS:
        lines += latex.family_header(family, ncols)
        for method in methods:
            lines.append(latex.row(latex.method_tex(method), *(_cell(data, d, method, r)
                                                               for d in data.datasets for r in data.ratios)))
    return latex.source(lines + latex.end())


def write_table2(runs: Iterable[dict] | pd.DataFrame, out_dir: str | Path, *, preset: str | None = None,
                 checkpoint: str | None = None, setting: str | None = None) -> dict[str, Path]:
    """``table2.tex``, ``table2_comparison.csv`` and ``table2_comparison.md`` under ``out_dir`` from run records
    or a runs frame (the default-option runs of U0 and ZPVE; one setting per dataset)."""
    data = table_data(runs, table=2, among=TABLE_DATASETS[2], ratios=TABLE2_RATIOS, more_ratios=False,
                      preset=preset, checkpoint=checkpoint, setting=setting)
    return {**latex.write_tex(2, render_table2(data), out_dir), **write_comparison(data, METHODS, out_dir)}
