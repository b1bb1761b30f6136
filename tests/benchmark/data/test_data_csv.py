"""Any molecule CSV as a dataset (``csv:PATH``): defaults, options, the task type, and bad files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.benchmark.data import load_dataset
from molpeg_bench.benchmark.run import run_finetune
from tests.support.data import SMILES, write_multitask_csv
from tests.support.records import make_record

SMILES_96 = SMILES * 8


def _write(tmp_path, name: str, frame: pd.DataFrame):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def test_defaults_smiles_column_numeric_tasks_missing_cells_and_metric(tmp_path):
    store = load_dataset(f"csv:{write_multitask_csv(tmp_path)}", cache_dir=tmp_path / "cache")
    assert len(store) == 96 and store.num_tasks == 3
    assert store.meta["task_names"] == ["task0", "task1", "task2"]
    assert store.meta["task_type"] == "binary" and store.meta["metric"] == "average_precision"
    assert np.isnan(store.y.numpy()).mean() == pytest.approx(0.25, abs=0.06)
    one = _write(tmp_path, "one.csv", pd.DataFrame({"smiles": SMILES_96, "active": [0, 1] * 48}))
    assert load_dataset(f"csv:{one}", cache_dir=tmp_path / "cache").meta["metric"] == "roc_auc"


def test_options_choose_columns_task_type_and_metric(tmp_path):
    path = _write(tmp_path, "mixed.csv", pd.DataFrame({"mol": SMILES_96, "a": [0, 1] * 48, "b": [0.5, 2.0] * 48}))
    store = load_dataset(f"csv:{path}", cache_dir=tmp_path / "cache", smiles_column="mol", label_columns="a",
                         metric="average_precision")
    assert store.num_tasks == 1 and store.meta["metric"] == "average_precision"
    regression = load_dataset(f"csv:{path}", cache_dir=tmp_path / "cache", smiles_column="mol")
    assert regression.meta["task_type"] == "regression" and regression.meta["metric"] == "mae"


@pytest.mark.parametrize("frame,message", [
    (pd.DataFrame({"molecule": ["CCO"], "y": [1]}), "expected one column named 'smiles'"),
    (pd.DataFrame({"smiles": ["CCO", ""], "y": [1, 0]}), "empty SMILES in column 'smiles' at line"),
    (pd.DataFrame({"smiles": ["CCO", "CC"], "y": ["1", "active"]}), "no numeric label column"),
    (pd.DataFrame({"smiles": ["CCO", "CC"], "y": [1, 0], "z": ["1", "oops"]}), "column 'z' holds 'oops' at line 3"),
])
def test_bad_files_get_one_line_naming_the_file(tmp_path, frame, message):
    path = _write(tmp_path, "bad.csv", frame)
    options = {"label_columns": "y,z"} if "z" in frame else {}
    with pytest.raises(ValueError, match=message) as info:
        load_dataset(f"csv:{path}", cache_dir=tmp_path / "cache", **options)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_missing_file_and_wrong_task_type_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv is not a file"):
        load_dataset(f"csv:{tmp_path / 'nope.csv'}", cache_dir=tmp_path / "cache")
    path = _write(tmp_path, "reg.csv", pd.DataFrame({"smiles": SMILES_96, "y": np.linspace(0, 1, 96)}))
    with pytest.raises(ValueError, match="task_type classification needs labels 0, 1 or empty"):
        load_dataset(f"csv:{path}", cache_dir=tmp_path / "cache", task_type="classification")


def _config(path, method: str, ratio: float, **fields) -> RunConfig:
    return RunConfig(dataset=f"csv:{path}", method=method, prune_ratio=ratio, num_layers=2, emb_dim=16, epochs=2,
                     batch_size=16, **fields)


def test_a_molpeg_run_on_a_multitask_csv_stores_a_complete_record(tmp_path, monkeypatch):
    monkeypatch.setenv("MOLPEG_CACHE_DIR", str(tmp_path / "cache"))
    record = run_finetune(_config(write_multitask_csv(tmp_path), "molpeg", 0.4))
    assert record["status"] == "complete" and record["metric"] == "average_precision"
    assert record["dataset"]["task_names"] == ["task0", "task1", "task2"]
    assert 0.0 <= record["test_at_best"] <= 1.0 and record["data_identity"]["source_sha256"]


def test_regression_csv_with_a_scaffold_split_reports_mae_in_its_units(tmp_path, monkeypatch):
    monkeypatch.setenv("MOLPEG_CACHE_DIR", str(tmp_path / "cache"))
    y = np.linspace(-3.0, 3.0, 96)
    y[::9] = np.nan
    path = _write(tmp_path, "logs.csv", pd.DataFrame({"smiles": SMILES_96, "logS": y}))
    config = _config(path, "soft_random", 0.5, split="scaffold")
    record = run_finetune(config)
    assert record["status"] == "complete" and record["metric"] == "mae" and record["task"]["type"] == "regression"
    assert record["task"]["target_mean"][0] == pytest.approx(np.nanmean(y), abs=1.0)
    assert 0.0 < record["test_at_best"] < 10.0  # in the column's units, not meV
    assert config.run_id() != _config(path, "soft_random", 0.5).run_id()  # the split is part of the run


def test_a_regression_csv_table_prints_mae_in_the_columns_units(tmp_path):
    from molpeg_bench.results.frame import runs_frame

    record = make_record("hiv", "whole", 0, 0, 0.42)
    record["config"]["dataset"], record["metric"] = "csv:/data/logs.csv", "mae"
    assert runs_frame([record])["test_at_best"].iloc[0] == pytest.approx(0.42)  # not 42 %
