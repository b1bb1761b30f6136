"""Table 1 as a LaTeX booktabs fragment in the paper's layout (needs only the booktabs package).

Rows: the whole-dataset reference, then the static and the dynamic methods in the paper's order; columns:
dataset x pruning ratio. A cell is the mean over seeds (%) with its difference to the whole-dataset mean,
both from the printed (one-decimal) values as in the paper; the best cell of a column is bold (the
smallest for an error metric). With ``spread`` a cell also prints its std over seeds; a dagger marks a
cell with fewer seeds than its preset asks for.
"""

from __future__ import annotations

from results.cells import Cell, Table1Data
from results.names import dataset_label, family_label, metric_label, paper_method

_LATEX_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                   "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
_TEX_NAMES = {"epsilon-greedy": r"$\epsilon$-greedy"}
FEW_SEEDS = r"$^\dagger$"


def escape(text: str) -> str:
    return "".join(_LATEX_SPECIALS.get(ch, ch) for ch in str(text))


def method_tex(method: str) -> str:
    name = paper_method(method)
    return _TEX_NAMES.get(name, escape(name))


def _printed(cell: Cell | None) -> float | None:
    return None if cell is None else round(cell.mean, 1)


def delta_tex(value: float, whole: float) -> str:
    """The signed difference of two printed values as {\\scriptsize $\\uparrow$x.x} / $\\downarrow$x.x."""
    delta = round(value - whole, 1)
    arrow = r"\uparrow" if delta >= 0 else r"\downarrow"
    return rf"{{\scriptsize ${arrow}${abs(delta):.1f}}}"


def _spread(cell: Cell) -> str:
    return "" if cell.n_seeds < 2 else rf" $\pm$ {cell.std:.1f}"


def cell_tex(cell: Cell | None, whole: Cell | None, best: float | None, *, spread: bool = False,
             few_seeds: bool = False) -> str:
    value = _printed(cell)
    if value is None:
        return "--"
    text = f"{value:.1f}"
    if best is not None and value == best:
        text = rf"\textbf{{{text}}}"
    if spread:
        text += _spread(cell)
    if few_seeds:
        text += FEW_SEEDS
    return text if whole is None else f"{text} {delta_tex(value, round(whole.mean, 1))}"


def _whole_tex(cell: Cell | None, few_seeds: bool = False) -> str:
    if cell is None:
        return "--"
    return f"{cell.mean:.1f}{_spread(cell)}{FEW_SEEDS if few_seeds else ''}"


def _best(data: Table1Data, dataset: str, ratio: int) -> float | None:
    values = [v for m in data.methods() if (v := _printed(data.cell(dataset, m, ratio))) is not None]
    pick = max if data.higher_is_better(dataset) else min
    return pick(values, default=None)


# methods whose pruning ratio is nominal: they train on more than the printed share (footnoted)
NOMINAL_BUDGET = {"infobatch": r"\textsuperscript{$\ddagger$}"}


def _method_cell(data: Table1Data, dataset: str, method: str, ratio: int, spread: bool) -> str:
    cell = data.cell(dataset, method, ratio)
    text = cell_tex(cell, data.whole(dataset), _best(data, dataset, ratio), spread=spread,
                    few_seeds=data.few_seeds(dataset, cell))
    return text + NOMINAL_BUDGET[method] if method in NOMINAL_BUDGET and cell is not None else text


def _any_few_seeds(data: Table1Data) -> bool:
    return any(data.few_seeds(d, c) for (d, _, _), c in data.cells.items())


def _caption(data: Table1Data, spread: bool) -> str:
    metrics = ", ".join(f"{dataset_label(d)}: {metric_label(data.metric(d))}" for d in data.datasets)
    presets = ", ".join(dict.fromkeys(escape(p) for p, _ in data.settings.values()))
    checkpoints = ", ".join(dict.fromkeys(escape(c) for _, c in data.settings.values()))
    counts = data.seed_counts()
    seeds = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}--{counts[-1]}"
    expected = sorted({n for n in (data.expected_seeds or {}).values() if n is not None})
    few = (rf" {FEW_SEEDS}: fewer seeds than the preset's {'/'.join(map(str, expected))}."
           if _any_few_seeds(data) else "")
    statistic = r"mean $\pm$ std" if spread else "mean"
    nominal = (r" $\ddagger$: nominal ratio; InfoBatch prunes only among its below-mean-loss molecules and trains on "
               r"more than the printed share (realised share on the comparison page)."
               if any(m in NOMINAL_BUDGET for m in data.methods()) else "")
    return (rf"Test metric (\%) at the best validation epoch when fine-tuning on pruned data ({metrics}): "
            rf"{statistic} over {seeds} seed(s); $\uparrow$/$\downarrow$: difference "
            rf"to the whole dataset; bold: best per column; --: not run.{few}{nominal} Preset: {presets}. "
            rf"Checkpoint: {checkpoints}.")


def render_table1(data: Table1Data, spread: bool = False) -> str:
    """The LaTeX source of Table 1 (``spread``: mean ± std per cell instead of the paper's mean only)."""
    n = len(data.ratios)
    ncols = 1 + n * len(data.datasets)
    lines = [r"\begin{table}[t]", r"\centering", r"\small", r"\setlength{\tabcolsep}{3pt}",
             rf"\caption{{{_caption(data, spread)}}}", r"\label{tab:table1}",
             rf"\begin{{tabular}}{{l{'c' * (n * len(data.datasets))}}}", r"\toprule"]
    headers = [rf"\multicolumn{{{n}}}{{c}}{{{escape(dataset_label(d))} ({metric_label(data.metric(d))}, \%)}}"
               for d in data.datasets]
    lines.append(" & ".join(["", *headers]) + r" \\")
    lines.append(" ".join(rf"\cmidrule(lr){{{2 + i * n}-{1 + (i + 1) * n}}}"
                          for i in range(len(data.datasets))))
    lines.append(" & ".join([r"Pruning ratio (\%)", *(str(r) for _ in data.datasets for r in data.ratios)])
                 + r" \\")
    lines.append(r"\midrule")
    wholes = [rf"\multicolumn{{{n}}}{{c}}{{{_whole_tex(data.whole(d), data.few_seeds(d, data.whole(d)))}}}"
              for d in data.datasets]
    lines.append(" & ".join([method_tex("whole"), *wholes]) + r" \\")
    for family, methods in data.rows:
        label = rf"\textit{{{escape(family_label(family))}}}"
        lines += [r"\midrule", rf"\multicolumn{{{ncols}}}{{l}}{{{label}}} \\"]
        for method in methods:
            cells = [_method_cell(data, d, method, r, spread) for d in data.datasets for r in data.ratios]
            lines.append(" & ".join([method_tex(method), *cells]) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines) + "\n"
