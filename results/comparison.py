"""A paper table side by side with the paper: one row per (dataset, method, ratio) cell with our mean,
spread, 95 % interval, paired tests against the whole dataset and MolPeg, and the paper's number; then
the paper's claims checked on our runs (``results.paper_claims``). Written as CSV and Markdown."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from molpeg_bench.results.cells import WHOLE, Cell, TableData
from molpeg_bench.results.escape import markdown_text
from molpeg_bench.results.frame import LAST_EPOCHS
from molpeg_bench.results.markdown import pipe_table, setting_lines
from molpeg_bench.results.names import dataset_note, paper_dataset, paper_method
from molpeg_bench.results.paper import has_method, paper_cell
from molpeg_bench.results.paper_claims import claims_frame, claims_markdown
from molpeg_bench.results.stats import LEVEL, confidence_interval, contains, paired_t_test

EXTERNAL = "★"  # marks a method from outside the suite
REFERENCE = "molpeg"  # every other pruned cell is also tested against this method at the same ratio
COLUMNS = ["dataset", "paper_dataset", "metric", "family", "method", "paper_method", "prune_ratio",
           "ours_mean", "ours_std", "n_seeds", "few_seeds", "ci_low", "ci_high", "paper_value", "paper_in_ci",
           "ours_minus_paper", "ours_delta_vs_whole", "paper_delta_vs_whole", "n_pairs_vs_whole", "p_vs_whole",
           "n_pairs_vs_molpeg", "p_vs_molpeg", "realised_kept_pct", "sample_visits", "preset", "checkpoint",
           "origin", "degenerate_seeds", "note"]
MARKDOWN_COLUMNS = {"dataset": "dataset", "paper_method": "method", "prune_ratio": "pruned %",
                    "ours_mean": "ours", "ours_std": "± std", "n_seeds": "seeds", "ci": f"{LEVEL:.0%} CI",
                    "paper_value": "paper", "paper_in_ci": "paper in CI", "ours_minus_paper": "ours − paper",
                    "p_whole": "p vs whole", "p_molpeg": "p vs MolPeg", "kept": "kept % (realised)",
                    "visits": "visits", "note": "note"}
TABLE_NOTES = {1: "Test metric (%) at the best validation epoch, mean over seeds. The paper fine-tunes a GraphMAE "
                  "checkpoint with its full settings (see its Table 1)."}
# shown under every table: what makes two cells of one column not the same budget, or two rows one method
CELL_NOTES = ("degenerate: a seed whose run `results/degenerate.py` flags — its selection kept a class below half its "
              "random share, the warm-up model ranks its kept set below chance, or its last epoch tests below "
              "chance (ROC-AUC < 0.5). Such a number says the rule broke the label relation on this task, not how "
              "good the method is; the note names the first reason.",
              "kept % (realised): the share of the training set a dynamic method actually trained per epoch "
              "(sample visits / (epochs · N)), beside its nominal 100 − pruned %. InfoBatch's ratio is nominal: it "
              "prunes only among its below-mean-loss samples, so it trains on more than the nominal share.",
              "Least Confidence and Entropy are one ranking on a single binary task (both are monotone in "
              "|p − ½|): with the shared warm-up they keep the same molecules, so their HIV cells are equal. The "
              "paper's rows differ, most likely because DeepCore trains a warm-up per method; "
              "`--option warmup=per_method` runs that protocol.",
              "MolPeg against the whole-data run depends on `--fidelity` (docs/methods/fidelity.md): on full HIV "
              "(smoke model, 30 epochs, 3 seeds, 60 % pruned) the code-faithful MolPeg ends above its whole-data "
              "run (+0.54 points) and the paper-faithful one just below (−0.12), so only the code variant carries "
              "the paper's claim in the mean — but neither gap is significant (p 0.59, 0.79): both match the "
              "whole-data run within seed noise.")


def _note(dataset: str, method: str, ratio: int, ours: float, paper: float, table: int,
          origin: str | None = None, cell: Cell | None = None) -> str:
    notes = [dataset_note(dataset)]
    if origin:
        notes.append(f"external method: {origin}")
    elif not notes[0] and not has_method(paper_dataset(dataset), method, table):
        notes.append("method not in the paper")
    elif not notes[0] and math.isnan(paper):
        notes.append(f"paper prints no value at {ratio} %")
    if math.isnan(ours):
        notes.append("not run")
    if cell is not None:
        notes.append(cell.degenerate_note())
    return "; ".join(n for n in notes if n)


def _test(cell: Cell | None, other: Cell | None) -> tuple[int, float]:
    if cell is None or other is None:
        return 0, math.nan
    test = paired_t_test(cell.by_seed(), other.by_seed())
    return test.n_pairs, test.p_value


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def comparison_frame(data: TableData) -> pd.DataFrame:
    """Every cell of the table (whole-dataset row at ratio 0 included) with the paper's number beside it."""
    rows = []
    for dataset in data.datasets:
        whole = data.whole(dataset)
        whole_mean = math.nan if whole is None else whole.mean
        preset, checkpoint = data.settings[dataset]
        cells = [("whole", *WHOLE)] + [(f, m, r) for f, ms in data.rows for m in ms for r in data.ratios]
        for family, method, ratio in cells:
            cell = data.cell(dataset, method, ratio)
            ours, std, n = (math.nan, math.nan, 0) if cell is None else (cell.mean, cell.std, cell.n_seeds)
            interval = confidence_interval([v for _, v in cell.values]) if cell else (math.nan, math.nan)
            paper, paper_delta = paper_cell(paper_dataset(dataset), method, ratio, data.table)
            pruned = method != "whole"
            vs_whole = _test(cell, whole) if pruned else (0, math.nan)
            reference = data.cell(dataset, REFERENCE, ratio) if pruned and method != REFERENCE else None
            vs_ref = _test(cell, reference)
            dynamic = family == "dynamic" and cell is not None
            rows.append({
                "realised_kept_pct": 100 * cell.realised_kept if dynamic else math.nan,
                "sample_visits": cell.visits if dynamic else math.nan,
                "dataset": dataset, "paper_dataset": paper_dataset(dataset) or "",
                "metric": data.metric(dataset), "family": family, "method": method,
                "paper_method": paper_method(method), "prune_ratio": ratio,
                "ours_mean": ours, "ours_std": std, "n_seeds": n, "few_seeds": data.few_seeds(dataset, cell),
                "ci_low": interval[0], "ci_high": interval[1], "paper_value": paper,
                "paper_in_ci": _yes_no(contains(interval, paper)),
                "ours_minus_paper": ours - paper, "ours_delta_vs_whole": ours - whole_mean,
                "paper_delta_vs_whole": paper_delta, "n_pairs_vs_whole": vs_whole[0], "p_vs_whole": vs_whole[1],
                "n_pairs_vs_molpeg": vs_ref[0], "p_vs_molpeg": vs_ref[1], "preset": preset,
                "checkpoint": checkpoint, "origin": data.origin(method),
                "note": _note(dataset, method, ratio, ours, paper, data.table, data.origin(method), cell),
                "degenerate_seeds": len(cell.degenerate) if cell is not None else 0,
            })
    return pd.DataFrame(rows, columns=COLUMNS)


def with_second_statistic(frame: pd.DataFrame, last: TableData) -> pd.DataFrame:
    """``frame`` with the same cells summarised by ``last``'s statistic (mean test over the last epochs): its
    mean, std and paired p-values against the whole dataset and MolPeg."""
    other = comparison_frame(last).set_index(["dataset", "method", "prune_ratio"])
    key = pd.MultiIndex.from_frame(frame[["dataset", "method", "prune_ratio"]])
    for column, source in (("last_mean", "ours_mean"), ("last_std", "ours_std"), ("p_vs_whole_last", "p_vs_whole"),
                           ("p_vs_molpeg_last", "p_vs_molpeg")):
        frame[column] = other[source].reindex(key).to_numpy()
    return frame


def p_text(value: float, n_pairs: int) -> str:
    return "" if math.isnan(value) else f"{value:.3g} (n={n_pairs})"


def ci_text(low: float, high: float, digits: int = 1) -> str:
    return "" if math.isnan(low) else f"[{low:.{digits}f}, {high:.{digits}f}]"


def to_markdown(frame: pd.DataFrame, claims: pd.DataFrame | None = None, table: int = 1,
                left_out: tuple[str, ...] = ()) -> str:
    """A Markdown page: the settings compared (and the runs left out for stating method options), a pipe
    table of the main columns (cells with neither our value nor the paper's are left to the CSV), then the
    paper's claims checked on our runs."""
    frame = frame[(frame["n_seeds"] > 0) | frame["paper_value"].notna()].copy()
    settings = frame[["dataset", "preset", "checkpoint"]].drop_duplicates()
    frame["ci"] = [ci_text(lo, hi) for lo, hi in zip(frame["ci_low"], frame["ci_high"], strict=True)]
    frame["p_whole"] = [p_text(p, n) for p, n in zip(frame["p_vs_whole"], frame["n_pairs_vs_whole"], strict=True)]
    frame["p_molpeg"] = [p_text(p, n) for p, n in zip(frame["p_vs_molpeg"], frame["n_pairs_vs_molpeg"], strict=True)]
    columns = dict(MARKDOWN_COLUMNS)
    if "last_mean" in frame:
        frame["last"] = ["" if math.isnan(m) else f"{m:.2f} ± {s:.2f}" for m, s in zip(frame["last_mean"],
                                                                                       frame["last_std"], strict=True)]
        frame["p_molpeg_last"] = [p_text(p, n) for p, n in zip(frame["p_vs_molpeg_last"], frame["n_pairs_vs_molpeg"],
                                                               strict=True)]
        columns = {**columns, "last": f"last {LAST_EPOCHS} epochs", "p_molpeg_last": "p vs MolPeg (last)"}
    frame["paper_method"] = [f"{m} {EXTERNAL}" if o else m for m, o in zip(frame["paper_method"], frame["origin"],
                                                                        strict=True)]
    frame["kept"] = ["" if math.isnan(k) else f"{k:.1f}" for k in frame["realised_kept_pct"]]
    frame["visits"] = ["" if math.isnan(v) else f"{v:,.0f}" for v in frame["sample_visits"]]
    frame["n_seeds"] = [f"{n}*" if few else str(n) for n, few in zip(frame["n_seeds"], frame["few_seeds"],
                                                                      strict=True)]
    lines = [f"# Table {table}: ours vs the paper", "", TABLE_NOTES.get(table, "Mean over seeds."), "",
             f"Spread: sample std and {LEVEL:.0%} t confidence interval of the mean over seeds; seeds marked * are "
             "fewer than the preset asks for. p: two-sided paired t-test over common seeds (n pairs) against the "
             "whole dataset and against MolPeg at the same ratio (see `results/stats.py` for why a t-test).", ""]
    lines += setting_lines(settings)
    if left_out:
        lines += ["", "Left out: runs that state method options (the table shows the methods' defaults; "
                      "MolPeg's option sweeps are Figures 3 and 6):"]
        lines += [f"- {markdown_text(item)}" for item in left_out]
    lines += [""] + [f"- {note}" for note in CELL_NOTES]
    if frame["origin"].astype(bool).any():
        lines += [f"- {EXTERNAL}: a method from outside the suite (its origin is in the note); the paper's claims "
                  "are checked on the suite's methods only."]
    if "last_mean" in frame:
        lines += [f"- last {LAST_EPOCHS} epochs: the second statistic, the mean test metric over each run's last "
                  f"{LAST_EPOCHS} epochs (mean ± std over seeds) and its paired p-value against MolPeg; it does not "
                  "hang on one validation epoch."]
    lines += [""] + pipe_table(frame, columns) + [""]
    if claims is not None:
        lines += claims_markdown(claims)
    return "\n".join(lines).rstrip("\n") + "\n"


def write_comparison(data: TableData, out_dir: Path, last: TableData | None = None) -> dict[str, Path]:
    """``table<N>_comparison.csv`` / ``.md`` and ``table<N>_claims.csv`` under ``out_dir``; ``last``: the same
    runs under the second statistic (mean test over the last epochs), shown beside the paper's and checked
    against the claims too."""
    frame, claims = comparison_frame(data), claims_frame(data, *([last] if last is not None else []))
    if last is not None:
        frame = with_second_statistic(frame, last)
    stem = f"table{data.table}"
    paths = {f"{stem}_comparison.csv": out_dir / f"{stem}_comparison.csv",
             f"{stem}_comparison.md": out_dir / f"{stem}_comparison.md",
             f"{stem}_claims.csv": out_dir / f"{stem}_claims.csv"}
    frame.to_csv(paths[f"{stem}_comparison.csv"], index=False, float_format="%.6g")
    paths[f"{stem}_comparison.md"].write_text(to_markdown(frame, claims, data.table, data.left_out))
    claims.to_csv(paths[f"{stem}_claims.csv"], index=False)
    return paths
