"""Does pretraining help? Whole-dataset fine-tuning per checkpoint (and "no pretraining"), mean ± std
over seeds, as a Markdown table and a CSV: one row per setting (a checkpoint labelled by name and sha256
prefix, so a re-pretrained checkpoint gets its own row; two records of one setting and seed are refused).
``pretraining_3d``: the same question on QM9 (MAE in meV), with each checkpoint's difference to scratch."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from molpeg_bench.results.markdown import pipe_table
from molpeg_bench.results.select import require_distinct_seeds
from molpeg_bench.results.settings import NO_PRETRAINING

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


QM9_DATASETS = ("qm9_u0", "qm9_zpve")


def pretraining_3d(runs: pd.DataFrame, out_dir: str | Path) -> list[Path]:
    """Whole-data QM9 runs per checkpoint (mean ± std MAE over seeds, meV) and each checkpoint's
    difference to training from scratch (negative: pretraining helps), as CSV and Markdown."""
    runs = runs[runs["dataset"].isin(QM9_DATASETS) & (runs["method"] == "whole") & runs["default_options"]]
    if runs.empty:
        raise ValueError("no whole-data QM9 runs: run the 'qm9_pretraining' grid first")
    table = (runs.groupby(["dataset", "preset", "checkpoint"])
             .agg(n_seeds=("seed", "nunique"), mae_mean=("test_at_best", "mean"), mae_std=("test_at_best", "std"),
                  seeds=("seed", lambda s: ",".join(map(str, sorted(s))))).reset_index())
    scratch = table[table["checkpoint"] == NO_PRETRAINING].set_index(["dataset", "preset"])["mae_mean"]
    table["minus_scratch"] = [row.mae_mean - scratch.get((row.dataset, row.preset), math.nan)
                              for row in table.itertuples()]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "qm9_pretraining.csv", out / "qm9_pretraining.md"]
    table.to_csv(paths[0], index=False, float_format="%.6g")
    shown = table.copy()
    for col in ("mae_mean", "mae_std", "minus_scratch"):
        shown[col] = [("" if math.isnan(v) else f"{v:.2f}") for v in shown[col]]
    paths[1].write_text("\n".join(["# QM9: fine-tuning the whole training set from each checkpoint", "",
                                    "Test MAE (meV) at the best validation epoch; minus_scratch < 0: the checkpoint "
                                    "beats training from scratch.", "", *pipe_table(shown)]) + "\n")
    return paths
