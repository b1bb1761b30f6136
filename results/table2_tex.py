"""Table 2 as a LaTeX booktabs fragment in the paper's layout: PaiNN fine-tuned on QM9, test MAE (meV) of
U0 and ZPVE at six pruning ratios; rows grouped into static and dynamic methods; the lowest printed value
of a column is bold (U0 with one decimal, ZPVE with two, as the paper prints them)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

from results.latex import escape, method_tex
from results.names import family_label
from results.tables_3d import Table3DData, table_data, write_table

TABLE2_RATIOS = (90, 80, 70, 60, 40, 20)
TABLE2_ROWS = (("static", ("random", "dp")), ("dynamic", ("infobatch", "molpeg")))
DIGITS = {"qm9_u0": 1, "qm9_zpve": 2}
LABELS = {"qm9_u0": "U0", "qm9_zpve": "ZPVE"}


def _cell(data: Table3DData, dataset: str, method: str, ratio: int) -> str:
    cell = data.cell(dataset, method, ratio)
    if cell is None:
        return "--"
    if math.isnan(cell.mean):
        return "n/a"
    digits = DIGITS[dataset]
    text = f"{cell.mean:.{digits}f}"
    return rf"\textbf{{{text}}}" if round(cell.mean, digits) == data.best(dataset, ratio, digits) else text


def _whole(data: Table3DData, dataset: str) -> str:
    cell = data.cell(dataset, "whole", 0)
    return "not run" if cell is None else f"{cell.mean:.{DIGITS[dataset]}f} meV"


def render_table2(data: Table3DData) -> str:
    n = len(data.ratios)
    ncols = 1 + n * len(data.datasets)
    settings = "; ".join(f"{escape(LABELS[d])}: preset {escape(p)}, checkpoint {escape(c)}"
                         for d, (p, c) in data.settings.items())
    wholes = ", ".join(f"{LABELS[d]} {_whole(data, d)}" for d in data.datasets)
    caption = (r"Test MAE (meV, lower is better) at the best validation epoch of PaiNN fine-tuned on pruned QM9; "
               r"mean over seeds; bold: best per column; --: not run; n/a: no value. "
               rf"Whole training set: {escape(wholes)}. {settings}.")
    lines = [r"\begin{table}[t]", r"\centering", r"\small", r"\setlength{\tabcolsep}{3pt}",
             rf"\caption{{{caption}}}", r"\label{tab:table2}", rf"\begin{{tabular}}{{l{'c' * (ncols - 1)}}}",
             r"\toprule",
             " & ".join(["", *(rf"\multicolumn{{{n}}}{{c}}{{{LABELS[d]}}}" for d in data.datasets)]) + r" \\",
             " ".join(rf"\cmidrule(lr){{{2 + i * n}-{1 + (i + 1) * n}}}" for i in range(len(data.datasets))),
             " & ".join([r"Pruning ratio (\%)", *(str(r) for _ in data.datasets for r in data.ratios)]) + r" \\"]
    for family, methods in TABLE2_ROWS:
        lines += [r"\midrule", rf"\multicolumn{{{ncols}}}{{l}}{{\textit{{{escape(family_label(family))}}}}} \\"]
        for method in methods:
            cells = [_cell(data, d, method, r) for d in data.datasets for r in data.ratios]
            lines.append(" & ".join([method_tex(method), *cells]) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def write_table2(records: Iterable[dict], out_dir: str | Path, *, preset: str | None = None,
                 checkpoint: str | None = None) -> dict[str, Path]:
    """``table2.tex``, ``table2_comparison.csv`` and ``table2_comparison.md`` under ``out_dir``."""
    methods = [m for _, ms in TABLE2_ROWS for m in ms]
    data = table_data(records, 2, TABLE2_RATIOS, methods, preset=preset, checkpoint=checkpoint)
    return write_table(data, out_dir, render_table2)
