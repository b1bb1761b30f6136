"""The paper's claims about a table, checked against our runs: supported, contradicted, or cannot decide.

A claim is a set of comparisons "cell A is better than cell B" per dataset and pruning ratio (better in
the metric's direction: lower for an MAE). A comparison is *supported* when A is better and the paired
t-test over seeds (``results.stats``) gives p < 0.05, *contradicted* when B is better with p < 0.05, and
*cannot decide* otherwise (too few seeds, a difference within seed noise, or a cell not run). A ratio
supports the claim when all its comparisons do and contradicts it when any does; the claim holds "at
every ratio" when every ratio with runs supports it, and is contradicted when any ratio contradicts it.
Comparisons against the best method of a family pick that method by its mean, so they favour it a little.
The claims are about the paper's methods: a method from outside the suite is compared on the comparison
page (its p-values against MolPeg and the whole data), not counted here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from molpeg_bench.results.cells import WHOLE, Cell, TableData
from molpeg_bench.results.escape import markdown_text
from molpeg_bench.results.frame import STATISTICS
from molpeg_bench.results.names import paper_dataset, paper_method
from molpeg_bench.results.stats import ALPHA, POWER, paired_t_test

SUPPORTED, CONTRADICTED, UNDECIDED = "supported", "contradicted", "cannot decide"
COLUMNS = ["claim", "dataset", "statistic", "verdict", "n_seeds", "details"]

Side = tuple[str, int]  # (method, ratio)
Pairs = Callable[[TableData, str, int], list[tuple[Side, Side]] | None]


@dataclass(frozen=True)
class Claim:
    """``pairs(data, dataset, ratio)``: the (better, worse) cells the claim asserts at a ratio (None when
    the claim says nothing there, e.g. a family without runs)."""

    text: str
    pairs: Pairs
    paper_datasets: tuple[str, ...] | None = None  # the paper's datasets it is about (None: all)
    ratios: tuple[int, int] | None = None  # inclusive range of pruning ratios (%) it is about


def _better(data: TableData, dataset: str, a: Cell, b: Cell) -> bool:
    return a.mean > b.mean if data.higher_is_better(dataset) else a.mean < b.mean


def _best(data: TableData, dataset: str, ratio: int, family: str) -> str | None:
    cells = [(m, c) for m in data.methods(family, external=False) if (c := data.cell(dataset, m, ratio)) is not None]
    best = None
    for method, cell in cells:
        if best is None or _better(data, dataset, cell, best[1]):
            best = (method, cell)
    return None if best is None else best[0]


def _dynamic_beats_static(data: TableData, dataset: str, ratio: int) -> list[tuple[Side, Side]] | None:
    dynamic, static = _best(data, dataset, ratio, "dynamic"), _best(data, dataset, ratio, "static")
    return None if dynamic is None or static is None else [((dynamic, ratio), (static, ratio))]


def _molpeg_best(data: TableData, dataset: str, ratio: int) -> list[tuple[Side, Side]] | None:
    others = [m for m in data.methods(external=False) if m != "molpeg" and data.cell(dataset, m, ratio) is not None]
    if data.cell(dataset, "molpeg", ratio) is None or not others:
        return None
    return [(("molpeg", ratio), (m, ratio)) for m in others]


def _molpeg_vs_whole(data: TableData, dataset: str, ratio: int) -> list[tuple[Side, Side]] | None:
    return [(("molpeg", ratio), WHOLE)]


DYNAMIC_BEATS_STATIC = Claim("Dynamic pruning beats static pruning at every ratio (best of each family)",
                             _dynamic_beats_static)
MOLPEG_BEST = Claim("MolPeg is the best pruning method at every ratio", _molpeg_best)
MOLPEG_NOT_WORSE_THAN_WHOLE = Claim("MolPeg matches or beats the whole dataset at 40-60 % pruned on HIV",
                                    _molpeg_vs_whole, paper_datasets=("HIV",), ratios=(40, 60))
TABLE_CLAIMS = {1: (DYNAMIC_BEATS_STATIC, MOLPEG_BEST, MOLPEG_NOT_WORSE_THAN_WHOLE)}


def _compare(data: TableData, dataset: str, better: Side, worse: Side) -> tuple[str, str]:
    a, b = data.cell(dataset, *better), data.cell(dataset, *worse)
    label = f"{paper_method(better[0])} vs {paper_method(worse[0])}"
    if a is None or b is None:
        return UNDECIDED, f"{label}: not run"
    test = paired_t_test(a.by_seed(), b.by_seed())
    sign = 1.0 if data.higher_is_better(dataset) else -1.0
    p = f"p={test.p_value:.3g}" if not math.isnan(test.p_value) else "no p-value"
    detectable = "" if math.isnan(test.detectable) else f", detectable ≥ {test.detectable:.2f}"
    text = f"{label}: {test.mean_difference:+.2f} over {test.n_pairs} seed(s), {p}{detectable}"
    if test.p_value < ALPHA:
        return (SUPPORTED if sign * test.mean_difference > 0 else CONTRADICTED), text
    return UNDECIDED, text


def _combine(verdicts: list[str]) -> str:
    if not verdicts:
        return UNDECIDED
    if CONTRADICTED in verdicts:
        return CONTRADICTED
    return SUPPORTED if all(v == SUPPORTED for v in verdicts) else UNDECIDED


def _applies(claim: Claim, dataset: str) -> bool:
    return claim.paper_datasets is None or paper_dataset(dataset) in claim.paper_datasets


def check_claim(claim: Claim, data: TableData, dataset: str) -> dict:
    """The claim's verdict on ``dataset`` with one detail per ratio and comparison."""
    low, high = claim.ratios or (-math.inf, math.inf)
    ratio_verdicts, details = [], []
    for ratio in sorted((r for r in data.ratios if low <= r <= high), reverse=True):
        pairs = claim.pairs(data, dataset, ratio)
        if pairs is None:
            continue
        results = [_compare(data, dataset, better, worse) for better, worse in pairs]
        if all(text.endswith("not run") for _, text in results):
            continue
        verdict = _combine([v for v, _ in results])
        ratio_verdicts.append(verdict)
        details.append(f"{ratio} %: {verdict} ({'; '.join(text for _, text in results)})")
    seeds = sorted({c.n_seeds for (d, _, _), c in data.cells.items() if d == dataset}) or [0]
    return {"claim": claim.text, "dataset": dataset, "statistic": STATISTICS[data.statistic],
            "verdict": _combine(ratio_verdicts),
            "n_seeds": str(seeds[0]) if seeds[0] == seeds[-1] else f"{seeds[0]}-{seeds[-1]}",
            "details": " | ".join(details) or "no runs to compare"}


def claims_frame(*data: TableData, claims: tuple[Claim, ...] | None = None) -> pd.DataFrame:
    """Every claim of the paper table (or ``claims``) on every dataset it is about, once per ``data`` (the
    same runs summarised by different statistics: test at the best validation epoch, mean of the last
    epochs), claim by claim."""
    rows = [check_claim(c, d, dataset) for c in (TABLE_CLAIMS.get(data[0].table, ()) if claims is None else claims)
            for dataset in data[0].datasets if _applies(c, dataset) for d in data]
    return pd.DataFrame(rows, columns=COLUMNS)


def claims_markdown(claims: pd.DataFrame) -> list[str]:
    """The claims section of the comparison page."""
    lines = ["## The paper's claims on our runs", "",
             f"Supported / contradicted: the paired t-test over seeds gives p < {ALPHA:g} in the claimed / the "
             "opposite direction at every ratio / at some ratio; otherwise we cannot decide at this number of "
             f"seeds. Detectable: the smallest mean difference these seeds would detect with {POWER:.0%} "
             f"probability at p < {ALPHA:g}, from the measured paired spread.", ""]
    if claims.empty:
        return lines + ["No claim of the paper concerns these datasets.", ""]
    for row in claims.itertuples(index=False):
        dataset = markdown_text(row.dataset)
        lines.append(f"- **{row.claim}** on {dataset}, {row.statistic} ({row.n_seeds} seed(s)): "
                     f"**{row.verdict}**")
        for detail in row.details.split(" | "):  # a ratio: its verdict, then one line per comparison
            head, _, comparisons = detail.partition(" (")
            lines.append(f"    - {markdown_text(head)}")
            lines += [f"        - {markdown_text(c)}" for c in comparisons.removesuffix(")").split("; ") if c]
    return lines + [""]
