"""Table 3 as a LaTeX booktabs fragment in the paper's layout: SchNet fine-tuned on HIV with 3D conformers,
test ROC-AUC (%) of the whole dataset and of Random (the dynamic soft random) and MolPeg at pruning
60 / 40 / 20 %, each with its difference to the whole dataset; the best of a column is bold."""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

from results.latex import delta_tex, escape
from results.tables_3d import Table3DData, table_data, write_table

TABLE3_RATIOS = (60, 40, 20)
TABLE3_METHODS = ("soft_random", "molpeg")
ROW_NAMES = {"soft_random": "Random", "molpeg": "MolPeg"}
DATASET = "hiv3d"


def _cell(data: Table3DData, method: str, ratio: int) -> str:
    cell, whole = data.cell(DATASET, method, ratio), data.cell(DATASET, "whole", 0)
    if cell is None:
        return "--"
    if math.isnan(cell.mean):
        return "n/a"
    text = f"{cell.mean:.1f}"
    if round(cell.mean, 1) == data.best(DATASET, ratio, 1):
        text = rf"\textbf{{{text}}}"
    if whole is None or math.isnan(whole.mean):
        return text
    return f"{text} {delta_tex(round(cell.mean, 1), round(whole.mean, 1))}"


def render_table3(data: Table3DData) -> str:
    whole = data.cell(DATASET, "whole", 0)
    preset, checkpoint = data.settings[DATASET]
    caption = (r"Test ROC-AUC (\%) at the best validation epoch of SchNet fine-tuned on pruned HIV with 3D "
               r"conformers; mean over seeds; $\uparrow$/$\downarrow$: difference to the whole dataset; bold: best "
               r"per column; --: not run; n/a: no value (a test set without positives). "
               rf"Preset {escape(preset)}, checkpoint {escape(checkpoint)}.")
    n = len(data.ratios)
    whole_text = "--" if whole is None else "n/a" if math.isnan(whole.mean) else f"{whole.mean:.1f}"
    lines = [r"\begin{table}[t]", r"\centering", r"\small", rf"\caption{{{caption}}}", r"\label{tab:table3}",
             rf"\begin{{tabular}}{{l{'c' * (n + 1)}}}", r"\toprule",
             " & ".join([r"Pruning ratio (\%)", "0", *(str(r) for r in data.ratios)]) + r" \\", r"\midrule",
             " & ".join(["Whole Dataset", whole_text, *([""] * n)]) + r" \\"]
    for method in data.methods:
        lines.append(" & ".join([ROW_NAMES[method], "", *(_cell(data, method, r) for r in data.ratios)]) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def write_table3(records: Iterable[dict], out_dir: str | Path, *, preset: str | None = None,
                 checkpoint: str | None = None) -> dict[str, Path]:
    """``table3.tex``, ``table3_comparison.csv`` and ``table3_comparison.md`` under ``out_dir``."""
    data = table_data(records, 3, TABLE3_RATIOS, TABLE3_METHODS, preset=preset, checkpoint=checkpoint)
    return write_table(data, out_dir, render_table3)
