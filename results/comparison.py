"""Table 1 side by side with the paper: one row per (dataset, method, ratio) cell, as CSV and Markdown."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from results.cells import Table1Data
from results.markdown import pipe_table
from results.names import dataset_note, paper_dataset, paper_method
from results.paper import has_method, paper_cell

COLUMNS = ["dataset", "paper_dataset", "metric", "family", "method", "paper_method", "prune_ratio",
           "ours_mean", "ours_std", "n_seeds", "paper_value", "ours_minus_paper", "ours_delta_vs_whole",
           "paper_delta_vs_whole", "preset", "checkpoint", "note"]
MARKDOWN_COLUMNS = {"dataset": "dataset", "paper_method": "method", "prune_ratio": "pruned %",
                    "ours_mean": "ours", "ours_std": "± std", "n_seeds": "seeds", "paper_value": "paper",
                    "ours_minus_paper": "ours − paper", "note": "note"}


def _note(dataset: str, method: str, ratio: int, ours: float, paper: float) -> str:
    notes = [dataset_note(dataset)]
    if not notes[0] and not has_method(paper_dataset(dataset), method):
        notes.append("method not in the paper")
    elif not notes[0] and math.isnan(paper):
        notes.append(f"paper prints no value at {ratio} %")
    if math.isnan(ours):
        notes.append("not run")
    return "; ".join(n for n in notes if n)


def comparison_frame(data: Table1Data) -> pd.DataFrame:
    """Every cell of Table 1 (whole-dataset row at ratio 0 included) with the paper's number beside it."""
    rows = []
    for dataset in data.datasets:
        whole = data.whole(dataset)
        whole_mean = math.nan if whole is None else whole.mean
        preset, checkpoint = data.settings[dataset]
        cells = [("whole", "whole", 0)] + [(f, m, r) for f, ms in data.rows for m in ms for r in data.ratios]
        for family, method, ratio in cells:
            cell = data.cell(dataset, method, ratio)
            ours, std, n = (math.nan, math.nan, 0) if cell is None else (cell.mean, cell.std, cell.n_seeds)
            paper, paper_delta = paper_cell(paper_dataset(dataset), method, ratio)
            rows.append({
                "dataset": dataset, "paper_dataset": paper_dataset(dataset) or "",
                "metric": data.metric(dataset), "family": family, "method": method,
                "paper_method": paper_method(method), "prune_ratio": ratio,
                "ours_mean": ours, "ours_std": std, "n_seeds": n, "paper_value": paper,
                "ours_minus_paper": ours - paper, "ours_delta_vs_whole": ours - whole_mean,
                "paper_delta_vs_whole": paper_delta, "preset": preset, "checkpoint": checkpoint,
                "note": _note(dataset, method, ratio, ours, paper),
            })
    return pd.DataFrame(rows, columns=COLUMNS)


def to_markdown(frame: pd.DataFrame) -> str:
    """A Markdown page: the settings compared, then a pipe table of the main columns (cells with neither
    our value nor the paper's are left to the CSV)."""
    frame = frame[(frame["n_seeds"] > 0) | frame["paper_value"].notna()]
    settings = frame[["dataset", "preset", "checkpoint"]].drop_duplicates()
    lines = ["# Table 1: ours vs the paper", "",
             "Test metric (%) at the best validation epoch, mean over seeds. The paper fine-tunes a GraphMAE "
             "checkpoint with its full settings (see its Table 1).", ""]
    lines += [f"- {d}: preset `{p}`, checkpoint `{c}`" for d, p, c in settings.itertuples(index=False)]
    lines += [""] + pipe_table(frame, MARKDOWN_COLUMNS)
    return "\n".join(lines) + "\n"


def write_comparison(frame: pd.DataFrame, out_dir: Path) -> dict[str, Path]:
    """``table1_comparison.csv`` and ``table1_comparison.md`` under ``out_dir``."""
    csv_path, md_path = out_dir / "table1_comparison.csv", out_dir / "table1_comparison.md"
    frame.to_csv(csv_path, index=False, float_format="%.6g")
    md_path.write_text(to_markdown(frame))
    return {"table1_comparison.csv": csv_path, "table1_comparison.md": md_path}
