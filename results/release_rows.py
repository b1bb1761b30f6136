"""A release's rows side by side: every method under the suite's defaults and under ``--fidelity code`` (and
any stated option variant, e.g. Herding's argmin), each with both statistics (test at the best validation
epoch, mean test over the last epochs), the paired tests against MolPeg, the degenerate runs and the paper's
number. What Table 1 alone cannot show: a row's fidelity variants and why a low cell is low."""

from __future__ import annotations

import json
import math

import pandas as pd

from molpeg_bench.results.escape import markdown_text
from molpeg_bench.results.frame import LAST_EPOCHS
from molpeg_bench.results.names import paper_dataset, paper_method
from molpeg_bench.results.paper import method_rank, paper_cell
from molpeg_bench.results.stats import paired_t_test

REFERENCE = ("molpeg", "paper", "{}")  # every row is tested against MolPeg under the paper's text
COLUMNS = ["method", "fidelity", "options", "seeds", "best_mean", "best_std", "last_mean", "last_std",
           "p_best_vs_molpeg", "p_last_vs_molpeg", "paper", "degenerate_seeds", "degenerate_first"]


def by_seed(group: pd.DataFrame, column: str) -> dict[int, float]:
    return {int(s): float(v) for s, v in zip(group["seed"], group[column], strict=True) if pd.notna(v)}


def release_rows(runs: pd.DataFrame, dataset: str = "hiv") -> pd.DataFrame:
    """One row per (method, fidelity, stated options) of ``runs`` (a runs frame with a ``fidelity`` column):
    the whole data first, then Table 1's methods in the paper's order, each under the paper's text first."""
    groups = {key: g for key, g in runs.groupby(["method", "fidelity", "options"], sort=False)}
    reference = groups.get(REFERENCE)
    rows = []
    for (method, fidelity, options), group in groups.items():
        tests = {column: paired_t_test(by_seed(group, column), by_seed(reference, column))
                 if reference is not None and (method, fidelity, options) != REFERENCE else None
                 for column in ("test_at_best", "test_last_mean")}
        flagged = group[group["degenerate"].fillna("") != ""] if "degenerate" in group else group.iloc[:0]
        ratio = int(group["prune_ratio"].iloc[0])
        rows.append({
            "method": method, "fidelity": fidelity, "options": options, "seeds": group["seed"].nunique(),
            "best_mean": group["test_at_best"].mean(), "best_std": group["test_at_best"].std(ddof=1),
            "last_mean": group["test_last_mean"].mean(), "last_std": group["test_last_mean"].std(ddof=1),
            "p_best_vs_molpeg": math.nan if tests["test_at_best"] is None else tests["test_at_best"].p_value,
            "p_last_vs_molpeg": math.nan if tests["test_last_mean"] is None else tests["test_last_mean"].p_value,
            "paper": paper_cell(paper_dataset(dataset), method, ratio)[0] if fidelity == "paper" and options == "{}"
            else math.nan,
            "degenerate_seeds": len(flagged),
            "degenerate_first": "" if flagged.empty else
            f"seed {int(flagged['seed'].iloc[0])}: {flagged['degenerate'].iloc[0].split(' | ')[0]}"})
    frame = pd.DataFrame(rows, columns=COLUMNS)
    order = [row_order(m, f, o) for m, f, o in zip(frame["method"], frame["fidelity"], frame["options"], strict=True)]
    return frame.iloc[sorted(range(len(frame)), key=order.__getitem__)].reset_index(drop=True)


def row_order(method: str, fidelity: str, options: str) -> tuple:
    """Sort key of a release row: the whole data first, then the paper's row order, each method under the
    paper's text first and its stated option variants after its defaults."""
    return method != "whole", method_rank(method), fidelity != "paper", options != "{}", options


def _mean_sd(mean: float, sd: float) -> str:
    if math.isnan(mean):
        return ""
    return f"{mean:.2f}" + ("" if math.isnan(sd) else f" ± {sd:.2f}")


def p_short(value: float) -> str:
    """A p-value as the release tables print it."""
    return "" if math.isnan(value) else ("< 0.001" if value < 0.001 else f"{value:.3f}")


def variant_label(fidelity: str, options: str) -> str:
    """A row's run in words: its fidelity and the options it states (``options``: canonical JSON)."""
    stated = json.loads(options)
    return fidelity + "".join(f", {k}={v}" for k, v in sorted(stated.items()))


def release_rows_markdown(rows: pd.DataFrame) -> list[str]:
    """The section of ``release.md``: one line per row and variant."""
    lines = ["## Every row under both fidelities and both statistics", "",
             f"Test ROC-AUC (%): at the best validation epoch (the paper's statistic) and the mean over each run's "
             f"last {LAST_EPOCHS} epochs, mean ± sd over seeds; p: two-sided paired t-test over common seeds against "
             "MolPeg under the paper's text. `code`: `--fidelity code`, the implementation the paper's number most "
             "plausibly came from. Degenerate: seeds whose run is flagged (`results/degenerate.py`), with the "
             "first reason.", "",
             "| method | run | seeds | at best | last epochs | p vs MolPeg (best / last) | paper | degenerate |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows.itertuples(index=False):
        flags = "" if not r.degenerate_seeds else f"{r.degenerate_seeds}: {r.degenerate_first}"
        paper = "" if math.isnan(r.paper) else f"{r.paper:.1f}"
        p = "" if math.isnan(r.p_best_vs_molpeg) else f"{p_short(r.p_best_vs_molpeg)} / {p_short(r.p_last_vs_molpeg)}"
        lines.append("| " + " | ".join(markdown_text(str(v)) for v in (
            paper_method(r.method), variant_label(r.fidelity, r.options), r.seeds, _mean_sd(r.best_mean, r.best_std),
            _mean_sd(r.last_mean, r.last_std), p, paper, flags)) + " |")
    return lines + [""]
