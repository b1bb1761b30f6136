"""Each method of a release under the paper's text and under ``--fidelity code``, side by side.

The rows table lists every variant on its own line; this pairs a method's two fidelities (each at its
default options) seed by seed: the code variant minus the paper-text one at the best validation epoch and
over the last epochs, with its paired p-value and the smallest difference those seeds could detect, and
whether the 95 % interval of each variant's mean holds the number the paper reports. It answers whether
the implementation the paper's number most plausibly came from reproduces that number where the suite's
defaults do not, and whether the two differ at all.
"""

from __future__ import annotations

import math

import pandas as pd

from molpeg_bench.results.comparison import ci_text
from molpeg_bench.results.escape import markdown_text
from molpeg_bench.results.frame import LAST_EPOCHS
from molpeg_bench.results.names import paper_dataset, paper_method
from molpeg_bench.results.paper import paper_cell
from molpeg_bench.results.release_rows import by_seed, p_short, row_order
from molpeg_bench.results.stats import confidence_interval, contains, paired_t_test

STATISTICS = {"best": "test_at_best", "last": "test_last_mean"}
FIDELITIES = ("text", "code")
COLUMNS = ["method", "seeds_text", "seeds_code", "paper",
           *(f"{f}_best_{k}" for f in FIDELITIES for k in ("low", "high")), "paper_inside_text", "paper_inside_code",
           *(f"{f}_{s}" for s in STATISTICS for f in FIDELITIES),
           *(f"{k}_{s}" for s in STATISTICS for k in ("diff", "p", "detectable"))]


def fidelity_pairs(runs: pd.DataFrame, dataset: str = "hiv") -> pd.DataFrame:
    """One row per method that ``runs`` (a runs frame with a ``fidelity`` column) holds under both fidelities
    at its default options, in the release's row order."""
    defaults = runs[runs["options"] == "{}"]
    groups = {key: g for key, g in defaults.groupby(["method", "fidelity"], sort=False)}
    rows = []
    for method in sorted({m for m, f in groups if f == "code" and (m, "paper") in groups},
                         key=lambda m: row_order(m, "paper", "{}")):
        text, code = groups[(method, "paper")], groups[(method, "code")]
        reported = paper_cell(paper_dataset(dataset), method, int(text["prune_ratio"].iloc[0]))[0]
        row = {"method": method, "seeds_text": text["seed"].nunique(), "seeds_code": code["seed"].nunique(),
               "paper": reported}
        for fidelity, group in zip(FIDELITIES, (text, code), strict=True):
            interval = confidence_interval(group["test_at_best"].dropna().to_list())
            row |= {f"{fidelity}_best_low": interval[0], f"{fidelity}_best_high": interval[1],
                    f"paper_inside_{fidelity}": contains(interval, reported)}
        for name, column in STATISTICS.items():
            test = paired_t_test(by_seed(code, column), by_seed(text, column))
            row |= {f"text_{name}": text[column].mean(), f"code_{name}": code[column].mean(),
                    f"diff_{name}": test.mean_difference, f"p_{name}": test.p_value,
                    f"detectable_{name}": test.detectable}
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS)


def _number(value: float, form: str = ".2f") -> str:
    return "" if value is None or math.isnan(value) else format(value, form)


def _holds(row, fidelity: str) -> str:
    inside = getattr(row, f"paper_inside_{fidelity}")
    if inside is None or (isinstance(inside, float) and math.isnan(inside)):
        return ""
    low, high = getattr(row, f"{fidelity}_best_low"), getattr(row, f"{fidelity}_best_high")
    return ("yes " if inside else "no ") + ci_text(low, high)


def fidelity_pairs_markdown(pairs: pd.DataFrame) -> list[str]:
    """The section of ``release.md``: one line per method run under both fidelities."""
    lines = ["## Each method under the paper's text and under the code, side by side", "",
             "Test ROC-AUC (%), mean over seeds, at the best validation epoch / over each run's last "
             f"{LAST_EPOCHS} epochs; text: the suite's defaults (the paper's text), code: `--fidelity code`; "
             "code − text and its p: paired over the seeds both hold (so it can differ from the difference of the "
             "two means where one fidelity has more seeds), with the smallest difference those seeds detect "
             "(α 0.05, 80 % power); the last columns: whether the 95 % interval of each variant's mean at the "
             "best epoch holds the paper's number.", "",
             "| method | seeds (text / code) | text | code | code − text | p | detectable | paper | "
             "paper's number in text's interval | in code's interval |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in pairs.itertuples(index=False):
        cells = (paper_method(r.method), f"{r.seeds_text} / {r.seeds_code}",
                 f"{_number(r.text_best)} / {_number(r.text_last)}", f"{_number(r.code_best)} / {_number(r.code_last)}",
                 f"{_number(r.diff_best, '+.2f')} / {_number(r.diff_last, '+.2f')}",
                 f"{p_short(r.p_best)} / {p_short(r.p_last)}",
                 f"{_number(r.detectable_best)} / {_number(r.detectable_last)}",
                 _number(r.paper, ".1f"), _holds(r, "text"), _holds(r, "code"))
        lines.append("| " + " | ".join(markdown_text(str(c)) for c in cells) + " |")
    if pairs.empty:
        lines.append("| no method holds runs under both fidelities yet | | | | | | | | | |")
    return lines + [""]
