"""Table 3 as a LaTeX booktabs fragment in the paper's layout: SchNet fine-tuned on HIV with 3D conformers,
test ROC-AUC (%) of the whole dataset and of Random (the dynamic soft random) and MolPeg at pruning
60 / 40 / 20 %, each with its difference to the whole dataset; the best of a column is bold."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from molpeg_bench.results import latex
from molpeg_bench.results.cells import TableData, table_data
from molpeg_bench.results.comparison_3d import TABLE_DATASETS, write_comparison

TABLE3_RATIOS = (60, 40, 20)
TABLE3_METHODS = ("soft_random", "molpeg")
ROW_NAMES = {"soft_random": "Random", "molpeg": "MolPeg"}
DATASET = "hiv3d"


def _cell(data: TableData, method: str, ratio: int) -> str:
    cell, whole = data.cell(DATASET, method, ratio), data.whole(DATASET)
    if cell is None:
        return latex.absent_tex(data, DATASET, method, ratio)
    return latex.value_tex(cell.mean, best=latex.best_of(data, DATASET, ratio, TABLE3_METHODS),
                     whole=None if whole is None else whole.mean)


def render_table3(data: TableData) -> str:
    whole = data.whole(DATASET)
    preset, checkpoint = data.settings[DATASET]
    setting = latex.setting_tex(preset, checkpoint)
    caption = (rf"Test ROC-AUC (\%) {latex.AT_BEST} of SchNet fine-tuned on pruned HIV with 3D "
               rf"conformers; mean over seeds; {latex.DELTAS}; {latex.BOLD_BEST}; "
               rf"n/a: no value (a test set without positives). "
               rf"{setting[0].upper()}{setting[1:]}.")
    n = len(data.ratios)
    whole_text = latex.absent_tex(data, DATASET, "whole", 0) if whole is None else f"{whole.mean:.1f}"
    lines = latex.begin(caption, "table3", n + 1, narrow=False)
    lines += [latex.row(r"Pruning ratio (\%)", "0", *(str(r) for r in data.ratios)), r"\midrule",
              latex.row("Whole Dataset", whole_text, *([""] * n))]
    lines += [latex.row(ROW_NAMES[m], "", *(_cell(data, m, r) for r in data.ratios)) for m in TABLE3_METHODS]
    return latex.source(lines + latex.end())


def write_table3(runs: Iterable[dict] | pd.DataFrame, out_dir: str | Path, *, preset: str | None = None,
                 checkpoint: str | None = None, setting: str | None = None) -> dict[str, Path]:
    """``table3.tex``, ``table3_comparison.csv`` and ``table3_comparison.md`` under ``out_dir`` from run records
    or a runs frame (the default-option runs of HIV-3D; one setting)."""
    data = table_data(runs, table=3, among=TABLE_DATASETS[3], ratios=TABLE3_RATIOS, more_ratios=False,
                      preset=preset, checkpoint=checkpoint, setting=setting)
    return {**latex.write_tex(3, render_table3(data), out_dir), **write_comparison(data, TABLE3_METHODS, out_dir)}
