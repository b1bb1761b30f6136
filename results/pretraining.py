"""Does pretraining help? Whole-dataset fine-tuning per checkpoint (and "no pretraining"), mean ± std
over seeds, as a Markdown table and a CSV: one row per setting (a checkpoint labelled by name and sha256
prefix, so a re-pretrained checkpoint gets its own row; two records of one setting and seed are refused)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from results.markdown import pipe_table
from results.select import require_distinct_seeds

KEYS = ["dataset", "preset", "checkpoint", "setting"]


def pretraining_table(runs: pd.DataFrame, out_dir: str | Path) -> list[Path]:
    whole = runs[(runs["method"] == "whole") & runs["default_options"]]
    if whole.empty:
        raise ValueError("no whole-dataset runs: run the 'pretraining' grid first")
    table = (require_distinct_seeds(whole, KEYS).groupby(KEYS)
             .agg(n_seeds=("seed", "nunique"), test_mean=("test_at_best", "mean"), test_std=("test_at_best", "std"),
                  valid_mean=("best_valid", "mean"), seeds=("seed", lambda s: ",".join(map(str, sorted(s)))))
             .round(2).reset_index())
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "pretraining.csv", out / "pretraining.md"]
    table.to_csv(paths[0], index=False)
    paths[1].write_text("\n".join(["# Fine-tuning from each checkpoint (whole training set)", "",
                                    "Test metric (%) at the best validation epoch.", "", *pipe_table(table)]) + "\n")
    return paths
