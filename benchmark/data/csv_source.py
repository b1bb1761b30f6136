"""Any molecule CSV as a dataset: ``--dataset csv:PATH``.

Defaults: the SMILES column is the one named ``smiles`` (any case); every other numeric column is a task
and an empty cell a missing label. When every task column holds only 0 and 1 the dataset is binary
classification (ROC-AUC for one task, average precision for several, as HIV and PCBA); otherwise it is
regression (MAE in the columns' own units; targets standardised on the training split). The run's
``data_options`` override each choice: ``smiles_column``, ``label_columns`` (a list, or comma-separated
text), ``task_type`` (``classification`` / ``regression``) and ``metric`` (``roc_auc``,
``average_precision`` or ``mae``); they are hashed into the run id and recorded. A bad file gets the same
one-line errors as the built-in datasets.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from molpeg_bench.benchmark.data.tables import Table, read_table

CSV_PREFIX = "csv:"
CSV_OPTIONS = ("smiles_column", "label_columns", "task_type", "metric")
TASK_TYPES = ("auto", "classification", "regression")
METRICS = {"classification": ("roc_auc", "average_precision"), "regression": ("mae",)}


def csv_path(dataset: str) -> Path:
    """The file of a ``csv:PATH`` dataset name (``~`` expanded, relative to the working directory)."""
    text = dataset[len(CSV_PREFIX):].strip()
    if not text:
        raise ValueError(f"dataset {dataset!r}: expected csv:PATH, the path of a CSV file")
    return Path(text).expanduser().resolve()


def _columns(value: object) -> list[str] | None:
    if value is None:
        return None
    return [c.strip() for c in value.split(",") if c.strip()] if isinstance(value, str) else [str(c) for c in value]


def _smiles_column(df: pd.DataFrame, chosen: str | None, source: str) -> str:
    if chosen is not None:
        if chosen not in df.columns:
            raise ValueError(f"{source}: smiles_column {chosen!r} not found; columns are {list(df.columns)}")
        return chosen
    named = [c for c in df.columns if str(c).strip().lower() == "smiles"]
    if len(named) != 1:
        raise ValueError(f"{source}: expected one column named 'smiles' (any case), found {len(named)}; columns are "
                         f"{list(df.columns)} (set data option smiles_column)")
    return named[0]


def _task_columns(df: pd.DataFrame, smiles: str, chosen: list[str] | None, source: str) -> list[str]:
    if chosen is not None:
        missing = [c for c in chosen if c not in df.columns]
        if missing:
            raise ValueError(f"{source}: label_columns {missing} not found; columns are {list(df.columns)}")
        return chosen
    numeric = [c for c in df.columns if c != smiles and pd.to_numeric(df[c], errors="coerce").notna().sum()
               == df[c].notna().sum() and df[c].notna().any()]
    if not numeric:
        raise ValueError(f"{source}: no numeric label column besides {smiles!r}; columns are {list(df.columns)}")
    return numeric


def decide_task(labels: pd.DataFrame, task_type: str, metric: str | None, source: str) -> tuple[str, str]:
    """(task type, metric): binary when every label is 0 or 1, else regression, unless ``task_type`` says."""
    if task_type not in TASK_TYPES:
        raise ValueError(f"{source}: task_type must be one of {TASK_TYPES}, got {task_type!r}")
    values = labels.to_numpy(dtype=np.float64)
    binary = bool(np.isin(values[~np.isnan(values)], [0.0, 1.0]).all())
    kind = ("classification" if binary else "regression") if task_type == "auto" else task_type
    if kind == "classification" and not binary:
        bad = [c for c in labels.columns if not labels[c].dropna().isin([0, 1]).all()]
        raise ValueError(f"{source}: task_type classification needs labels 0, 1 or empty; column(s) {bad} hold "
                         "other values")
    default = ("roc_auc" if labels.shape[1] == 1 else "average_precision") if kind == "classification" else "mae"
    metric = metric or default
    if metric not in METRICS[kind]:
        raise ValueError(f"{source}: metric {metric!r} does not fit a {kind} dataset; expected one of {METRICS[kind]}")
    return kind, metric


def parse_csv(path: Path, smiles_column: str | None = None, label_columns: object = None,
              task_type: str = "auto", metric: str | None = None, **_: object):
    """The ``Table`` of a molecule CSV (see the module docstring); ``notes`` carry the task type and metric."""
    source = str(path)
    df = read_table(path)
    smiles = _smiles_column(df, smiles_column, source)
    tasks = _task_columns(df, smiles, _columns(label_columns), source)
    empty = df[smiles].isna() | (df[smiles].astype(str).str.strip() == "")
    if empty.any():
        lines = ", ".join(str(int(i) + 2) for i in np.flatnonzero(empty.to_numpy())[:5])
        raise ValueError(f"{source}: empty SMILES in column {smiles!r} at line(s) {lines}")
    numeric = df[tasks].apply(pd.to_numeric, errors="coerce")
    text = numeric.isna() & df[tasks].notna()
    if text.any().any():
        col = text.any().idxmax()
        row = int(np.flatnonzero(text[col].to_numpy())[0])
        raise ValueError(f"{source}: column {col!r} holds {df[col].iloc[row]!r} at line {row + 2}; labels must be "
                         "numbers or empty")
    kind, metric = decide_task(numeric, task_type, metric, source)
    notes = {"task_type": "binary" if kind == "classification" else "regression", "metric": metric,
             "smiles_column": smiles}
    return Table(df[smiles].astype(str).tolist(), numeric.to_numpy(dtype=np.float32), list(map(str, tasks)), notes)
