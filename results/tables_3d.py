"""The cells of Tables 2 (QM9, MAE in meV, lower is better) and 3 (HIV-3D, ROC-AUC in %, higher is better):
mean and std over seeds of the default-option runs, and their side-by-side comparison with the paper.

Values are taken from the run records directly: MAE stays in meV, ROC-AUC becomes %.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from results.cells import Cell
from results.markdown import pipe_table
from results.names import paper_method
from results.paper import paper_cell
from results.select import narrow_runs

TABLE2_DATASETS = {"qm9_u0": "QM9-U0", "qm9_zpve": "QM9-ZPVE"}
TABLE3_DATASETS = {"hiv3d": "HIV-3D (SchNet)"}
# Table 3's "Random" is the dynamic soft random of the suite
TABLE3_PAPER_METHOD = {"soft_random": "random"}
METRIC_SCALE = {"mae_mev": 1.0, "roc_auc": 100.0}
LOWER_IS_BETTER = {"mae_mev"}


@dataclass(frozen=True)
class Table3DData:
    table: int
    datasets: list[str]
    ratios: list[int]  # pruning ratios (%) in the paper's column order
    methods: list[str]  # pruning methods in the paper's row order
    metrics: dict[str, str]
    settings: dict[str, tuple[str, str]]  # dataset -> (preset, checkpoint)
    cells: dict[tuple[str, str, int], Cell]

    def cell(self, dataset: str, method: str, ratio: int) -> Cell | None:
        return self.cells.get((dataset, method, int(ratio)))

    def best(self, dataset: str, ratio: int, digits: int) -> float | None:
        """The best printed value of a column (min for MAE, max otherwise)."""
        values = [round(c.mean, digits) for m in self.methods
                  if (c := self.cell(dataset, m, ratio)) and not math.isnan(c.mean)]
        if not values:
            return None
        return min(values) if self.metrics[dataset] in LOWER_IS_BETTER else max(values)


def _rows(records: Iterable[dict], datasets: Iterable[str]) -> pd.DataFrame:
    wanted = set(datasets)
    rows = []
    for r in records:
        config = r["config"]
        if config["dataset"] not in wanted or config.get("method_options"):
            continue
        metric = r.get("metric")
        value = r.get("test_at_best")
        rows.append({"dataset": config["dataset"], "method": config["method"],
                     "ratio": int(round(100 * float(config["prune_ratio"]))), "seed": config.get("seed"),
                     "preset": config.get("preset", "custom"),
                     "checkpoint": (r.get("checkpoint") or {}).get("name") or "no pretraining", "metric": metric,
                     "value": math.nan if value is None else METRIC_SCALE.get(metric, 1.0) * float(value)})
    return pd.DataFrame(rows, columns=["dataset", "method", "ratio", "seed", "preset", "checkpoint", "metric",
                                       "value"])


def table_data(records: Iterable[dict], table: int, ratios: Iterable[int], methods: Iterable[str], *,
               preset: str | None = None, checkpoint: str | None = None) -> Table3DData:
    """Cells of Table ``table`` (2 or 3) from ``records``; one (preset, checkpoint) setting per dataset."""
    names = TABLE2_DATASETS if table == 2 else TABLE3_DATASETS
    runs = _rows(records, names)
    runs = narrow_runs(runs, f"Table {table}", preset=preset)
    if checkpoint is not None:
        runs = runs[runs["checkpoint"] == checkpoint]
    datasets = [d for d in names if d in set(runs["dataset"])]
    if not datasets:
        raise ValueError(f"no Table {table} runs (default method options) for {sorted(names)}; "
                         f"run `python -m benchmark sweep table{table}` first")
    settings = {}
    for d in datasets:
        found = runs.loc[runs["dataset"] == d, ["preset", "checkpoint"]].drop_duplicates()
        if len(found) > 1:
            raise ValueError(f"Table {table} on {d}: runs from several settings {found.values.tolist()}; "
                             "narrow with --preset / --checkpoint-name")
        settings[d] = tuple(found.iloc[0])
    summary = runs.groupby(["dataset", "method", "ratio"])["value"].agg(["mean", "std", "count"]).reset_index()
    cells = {(r.dataset, r.method, int(r.ratio)): Cell(float(r.mean), float(r.std) if r.count > 1 else math.nan,
                                                         int(r.count)) for r in summary.itertuples()}
    metrics = {d: str(runs.loc[runs["dataset"] == d, "metric"].iloc[0]) for d in datasets}
    return Table3DData(table, datasets, list(ratios), list(methods), metrics, settings, cells)


def _paper(data: Table3DData, dataset: str, method: str, ratio: int) -> float:
    names = TABLE2_DATASETS if data.table == 2 else TABLE3_DATASETS
    looked_up = TABLE3_PAPER_METHOD.get(method, method) if data.table == 3 else method
    return paper_cell(names[dataset], looked_up, ratio, table=data.table)[0]


def comparison_frame(data: Table3DData) -> pd.DataFrame:
    """Every cell (the whole-data run at ratio 0 included) with the paper's value beside it."""
    rows = []
    for dataset in data.datasets:
        preset, checkpoint = data.settings[dataset]
        for method, ratio in [("whole", 0)] + [(m, r) for m in data.methods for r in data.ratios]:
            cell = data.cell(dataset, method, ratio)
            ours, std, n = (math.nan, math.nan, 0) if cell is None else (cell.mean, cell.std, cell.n_seeds)
            paper = _paper(data, dataset, method, ratio)
            note = "not run" if n == 0 else ("paper prints no value" if math.isnan(paper) else "")
            rows.append({"dataset": dataset, "metric": data.metrics[dataset], "method": method,
                         "paper_method": paper_method(TABLE3_PAPER_METHOD.get(method, method))
                         if data.table == 3 else paper_method(method),
                         "prune_ratio": ratio, "ours_mean": ours, "ours_std": std, "n_seeds": n,
                         "paper_value": paper, "ours_minus_paper": ours - paper, "preset": preset,
                         "checkpoint": checkpoint, "note": note})
    return pd.DataFrame(rows)


MARKDOWN_COLUMNS = {"dataset": "dataset", "paper_method": "method", "prune_ratio": "pruned %", "ours_mean": "ours",
                    "ours_std": "± std", "n_seeds": "seeds", "paper": "paper", "diff": "ours − paper",
                    "note": "note"}


def write_table(data: Table3DData, out_dir: str | Path, render: Callable[[Table3DData], str]) -> dict[str, Path]:
    """``table{N}.tex`` (from ``render``) and its comparison with the paper under ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tex = out / f"table{data.table}.tex"
    tex.write_text(render(data))
    return {tex.name: tex, **write_comparison(comparison_frame(data), out, data.table)}


def write_comparison(frame: pd.DataFrame, out_dir: Path, table: int) -> dict[str, Path]:
    """``table{N}_comparison.csv`` and ``.md`` (MAE in meV with 2 decimals, ROC-AUC in % with 1)."""
    stem = f"table{table}_comparison"
    csv_path, md_path = out_dir / f"{stem}.csv", out_dir / f"{stem}.md"
    frame.to_csv(csv_path, index=False, float_format="%.6g")
    shown = frame[(frame["n_seeds"] > 0) | frame["paper_value"].notna()].copy()
    digits = 2 if table == 2 else 1
    for src, dst in (("ours_mean", "ours_mean"), ("ours_std", "ours_std"), ("paper_value", "paper"),
                     ("ours_minus_paper", "diff")):
        shown[dst] = [("" if math.isnan(v) else f"{v:.{digits}f}") for v in shown[src]]
    unit = "MAE (meV), lower is better" if table == 2 else "ROC-AUC (%), higher is better"
    settings = shown[["dataset", "preset", "checkpoint"]].drop_duplicates()
    lines = [f"# Table {table}: ours vs the paper", "", f"Test {unit}, at the best validation epoch; mean over "
             "seeds. The paper fine-tunes GeoSSL-pretrained encoders with its full settings.", ""]
    lines += [f"- {d}: preset `{p}`, checkpoint `{c}`" for d, p, c in settings.itertuples(index=False)]
    lines += [""] + pipe_table(shown, MARKDOWN_COLUMNS)
    md_path.write_text("\n".join(lines) + "\n")
    return {csv_path.name: csv_path, md_path.name: md_path}


def pretraining_3d(records: Iterable[dict], out_dir: str | Path) -> list[Path]:
    """Whole-data QM9 runs per checkpoint (mean ± std MAE over seeds, meV) and each checkpoint's
    difference to training from scratch (negative: pretraining helps), as CSV and Markdown."""
    runs = _rows(records, TABLE2_DATASETS)
    runs = runs[runs["method"] == "whole"]
    if runs.empty:
        raise ValueError("no whole-data QM9 runs: run the 'qm9_pretraining' grid first")
    table = (runs.groupby(["dataset", "preset", "checkpoint"])
             .agg(n_seeds=("seed", "nunique"), mae_mean=("value", "mean"), mae_std=("value", "std"),
                  seeds=("seed", lambda s: ",".join(map(str, sorted(s))))).reset_index())
    scratch = table[table["checkpoint"] == "no pretraining"].set_index(["dataset", "preset"])["mae_mean"]
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
