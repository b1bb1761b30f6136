"""What the three LaTeX tables share: method names, printed values with the bold best of a column
and the difference to the whole dataset, the booktabs frame and header rows, caption pieces, the file.

A value is compared as printed (rounded to the table's decimals), as the paper does: the best of a column
is the best printed value, and a difference is taken between printed values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

from molpeg_bench.results.cells import TableData
from molpeg_bench.results.escape import latex_text
from molpeg_bench.results.names import family_label, paper_method

_TEX_NAMES = {"epsilon-greedy": r"$\epsilon$-greedy"}
NOT_RUN, NO_VALUE = "--", "n/a"
# caption pieces
AT_BEST = "at the best validation epoch"
DELTAS = r"$\uparrow$/$\downarrow$: difference to the whole dataset"
BOLD_BEST = "bold: best per column; --: not run"


def method_tex(method: str) -> str:
    name = paper_method(method)
    return _TEX_NAMES.get(name, latex_text(name))


def bold(text: str) -> str:
    return rf"\textbf{{{text}}}"


def delta_tex(value: float, whole: float) -> str:
    """The signed difference of two printed values as {\\scriptsize $\\uparrow$x.x} / $\\downarrow$x.x."""
    delta = round(value - whole, 1)
    arrow = r"\uparrow" if delta >= 0 else r"\downarrow"
    return rf"{{\scriptsize ${arrow}${abs(delta):.1f}}}"


def column_best(means: Iterable[float], digits: int, higher_is_better: bool) -> float | None:
    """The best printed value (``digits`` decimals) of a column's means; None when it has none."""
    values = [round(m, digits) for m in means if not math.isnan(m)]
    return (max if higher_is_better else min)(values, default=None)


def best_of(data: TableData, dataset: str, ratio: int, methods: Iterable[str], digits: int = 1) -> float | None:
    """The best printed value among ``methods``' cells of one column."""
    means = [c.mean for m in methods if (c := data.cell(dataset, m, ratio)) is not None]
    return column_best(means, digits, data.higher_is_better(dataset))


def value_tex(value: float, digits: int = 1, *, best: float | None = None, marks: str = "",
              whole: float | None = None) -> str:
    """``value`` printed with ``digits`` decimals, bold when it is the column's ``best``, then ``marks``, then its
    difference to the printed ``whole`` value (none when ``whole`` is None)."""
    text = f"{value:.{digits}f}"
    if best is not None and round(value, digits) == best:
        text = bold(text)
    text += marks
    return text if whole is None else f"{text} {delta_tex(round(value, digits), round(whole, digits))}"


def absent_tex(data: TableData, dataset: str, method: str, ratio: int) -> str:
    """An empty cell: n/a when it was run without a value, -- when not run."""
    return NO_VALUE if data.ran_without_value(dataset, method, ratio) else NOT_RUN


def setting_tex(preset: str, checkpoint: str) -> str:
    return f"preset {latex_text(preset)}, checkpoint {latex_text(checkpoint)}"


def row(*cells: str) -> str:
    return " & ".join(cells) + r" \\"


def begin(caption: str, label: str, columns: int, *, narrow: bool = True) -> list[str]:
    """``\\begin{table}`` to ``\\toprule`` of a table with a label column and ``columns`` value columns."""
    return [r"\begin{table}[t]", r"\centering", r"\small", *([r"\setlength{\tabcolsep}{3pt}"] if narrow else []),
            rf"\caption{{{caption}}}", rf"\label{{tab:{label}}}", rf"\begin{{tabular}}{{l{'c' * columns}}}",
            r"\toprule"]


def dataset_header(labels: list[str], ratios: list[int]) -> list[str]:
    """One column group per dataset (``labels``), ruled, then the pruning ratios under each."""
    n = len(ratios)
    return [row("", *(rf"\multicolumn{{{n}}}{{c}}{{{label}}}" for label in labels)),
            " ".join(rf"\cmidrule(lr){{{2 + i * n}-{1 + (i + 1) * n}}}" for i in range(len(labels))),
            row(r"Pruning ratio (\%)", *(str(r) for _ in labels for r in ratios))]


def family_header(family: str, columns: int) -> list[str]:
    return [r"\midrule", rf"\multicolumn{{{columns}}}{{l}}{{\textit{{{latex_text(family_label(family))}}}}} \\"]


def end() -> list[str]:
    return [r"\bottomrule", r"\end{tabular}", r"\end{table}"]


def source(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


def write_tex(table: int, text: str, out_dir: str | Path) -> dict[str, Path]:
    """``table<N>.tex`` under ``out_dir``: {name: path}."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"table{table}.tex"
    path.write_text(text)
    return {path.name: path}
