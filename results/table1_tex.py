"""Table 1 as a LaTeX booktabs fragment in the paper's layout (needs only the booktabs package).

Rows: the whole-dataset reference, then the static and the dynamic methods in the paper's order; columns:
dataset x pruning ratio. A cell is the mean over seeds (%) with its difference to the whole-dataset mean,
both from the printed (one-decimal) values as in the paper; the best cell of a column is bold (the
smallest for an error metric). With ``spread`` a cell also prints its std over seeds; a dagger marks a
cell with fewer seeds than its preset asks for; a section sign a cell with a degenerate run
(``results.degenerate``); a star marks a method from outside the suite.
"""

from __future__ import annotations

from molpeg_bench.results.cells import Cell, TableData
from molpeg_bench.results.escape import latex_text
from molpeg_bench.results.latex import (
    AT_BEST,
    BOLD_BEST,
    DELTAS,
    NOT_RUN,
    begin,
    best_of,
    dataset_header,
    end,
    family_header,
    method_tex,
    row,
    source,
    value_tex,
)
from molpeg_bench.results.names import dataset_label, metric_label

FEW_SEEDS = r"$^\dagger$"
DEGENERATE = r"$^\S$"  # a seed of the cell is flagged by results.degenerate (reasons on the comparison page)
EXTERNAL = r"$^\star$"  # a method from outside the suite (its origin is on the comparison page)
# methods whose pruning ratio is nominal: they train on more than the printed share (footnoted)
NOMINAL_BUDGET = {"infobatch": r"\textsuperscript{$\ddagger$}"}


def _spread(cell: Cell) -> str:
    return "" if cell.n_seeds < 2 else rf" $\pm$ {cell.std:.1f}"


def cell_tex(cell: Cell | None, whole: Cell | None, best: float | None, *, spread: bool = False,
             few_seeds: bool = False) -> str:
    if cell is None:
        return NOT_RUN
    marks = (_spread(cell) if spread else "") + (FEW_SEEDS if few_seeds else "") + (DEGENERATE if cell.degenerate
                                                                                     else "")
    return value_tex(cell.mean, best=best, marks=marks, whole=None if whole is None else whole.mean)


def _whole_tex(cell: Cell | None, few_seeds: bool = False) -> str:
    if cell is None:
        return NOT_RUN
    return f"{cell.mean:.1f}{_spread(cell)}{FEW_SEEDS if few_seeds else ''}"


def _method_cell(data: TableData, dataset: str, method: str, ratio: int, spread: bool) -> str:
    cell = data.cell(dataset, method, ratio)
    text = cell_tex(cell, data.whole(dataset), best_of(data, dataset, ratio, data.methods()), spread=spread,
                    few_seeds=data.few_seeds(dataset, cell))
    return text + NOMINAL_BUDGET[method] if method in NOMINAL_BUDGET and cell is not None else text


def _any_few_seeds(data: TableData) -> bool:
    return any(data.few_seeds(d, c) for (d, _, _), c in data.cells.items())


def _dataset_metric(data: TableData, dataset: str) -> tuple[str, str]:
    """A dataset's label and its metric's, as LaTeX text."""
    return latex_text(dataset_label(dataset)), latex_text(metric_label(data.metric(dataset)))


def _caption(data: TableData, spread: bool) -> str:
    metrics = ", ".join("{}: {}".format(*_dataset_metric(data, d)) for d in data.datasets)
    presets = ", ".join(dict.fromkeys(latex_text(p) for p, _ in data.settings.values()))
    checkpoints = ", ".join(dict.fromkeys(latex_text(c) for _, c in data.settings.values()))
    counts = data.seed_counts()
    seeds = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}--{counts[-1]}"
    expected = sorted({n for n in (data.expected_seeds or {}).values() if n is not None})
    few = (rf" {FEW_SEEDS}: fewer seeds than the preset's {'/'.join(map(str, expected))}."
           if _any_few_seeds(data) else "")
    statistic = r"mean $\pm$ std" if spread else "mean"
    external = (rf" {EXTERNAL}: a method from outside the suite (origin on the comparison page)."
                if data.external else "")
    degenerate = (rf" {DEGENERATE}: a degenerate run among the seeds (a class kept below half its random share, a "
                  r"kept set or a last epoch below chance; reasons on the comparison page)."
                  if any(c.degenerate for c in data.cells.values()) else "")
    nominal = (r" $\ddagger$: nominal ratio; InfoBatch prunes only among its below-mean-loss molecules and trains on "
               r"more than the printed share (realised share on the comparison page)."
               if any(m in NOMINAL_BUDGET for m in data.methods()) else "")
    return (rf"Test metric (\%) {AT_BEST} when fine-tuning on pruned data ({metrics}): "
            rf"{statistic} over {seeds} seed(s); {DELTAS}; {BOLD_BEST}.{few}{degenerate}{nominal}{external} "
            rf"Preset: {presets}. Checkpoint: {checkpoints}.")


def render_table1(data: TableData, spread: bool = False) -> str:
    """The LaTeX source of Table 1 (``spread``: mean ± std per cell instead of the paper's mean only)."""
    n = len(data.ratios)
    ncols = 1 + n * len(data.datasets)
    lines = begin(_caption(data, spread), "table1", n * len(data.datasets))
    lines += dataset_header(["{} ({}, \\%)".format(*_dataset_metric(data, d)) for d in data.datasets], data.ratios)
    lines.append(r"\midrule")
    wholes = [rf"\multicolumn{{{n}}}{{c}}{{{_whole_tex(data.whole(d), data.few_seeds(d, data.whole(d)))}}}"
              for d in data.datasets]
    lines.append(row(method_tex("whole"), *wholes))
    for family, methods in data.rows:
        lines += family_header(family, ncols)
        for method in methods:
            name = method_tex(method) + (EXTERNAL if data.is_external(method) else "")
            lines.append(row(name, *(_method_cell(data, d, method, r, spread)
                                     for d in data.datasets for r in data.ratios)))
    return source(lines + end())
