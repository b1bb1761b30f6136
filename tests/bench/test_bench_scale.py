"""The PCBA-sized dataset generator and the scale runner's plan, at a small size."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd

from molpeg_bench.bench.pcba_like import build
from molpeg_bench.bench.scale import steps
from molpeg_bench.benchmark.data.csv_source import parse_csv
from tests.support.data import SMILES


def test_a_pcba_like_file_has_pcba_shape_and_reads_as_a_multitask_ap_set(tmp_path):
    source = tmp_path / "moses_train.csv.gz"
    pool = [f"{s}{'C' * (i % 7)}" if "." not in s else s for i, s in enumerate(SMILES * 400)]
    with gzip.open(source, "wt") as handle:
        pd.DataFrame({"SMILES": pool}).to_csv(handle, index=False)
    table = build(source, molecules=3000, tasks=16, positive_rate=0.02, missing=0.4, seed=0)
    assert list(table.columns) == ["smiles"] + [f"task_{t:03d}" for t in range(16)]
    assert len(table) == 3000 and set(table["smiles"]) <= set(pool)
    labels = table.iloc[:, 1:].to_numpy(np.float32)
    present = ~np.isnan(labels)
    assert abs(1 - present.mean() - 0.4) < 0.02  # the missing rate
    rates = np.nansum(labels, 0) / present.sum(0)
    assert 0.02 / 3 - 0.01 < rates.min() and rates.max() < 0.06 + 0.01 and 0.01 < rates.mean() < 0.04
    path = tmp_path / "pcba_like.csv"
    table.to_csv(path, index=False)
    parsed = parse_csv(path)
    assert parsed.notes["metric"] == "average_precision" and parsed.notes["task_type"] == "binary"
    np.testing.assert_array_equal(np.isnan(parsed.labels), ~present)
    # the same seed gives the same file
    pd.testing.assert_frame_equal(build(source, 3000, 16, 0.02, 0.4, seed=0), table)


def test_the_scale_plan_runs_the_users_commands_and_shares_the_warmup(tmp_path):
    plan = steps("data.csv", tmp_path / "store", tmp_path / "out", 0.6, 1, ("grand_4", "dp"))
    names = [s.name for s in plan]
    assert names == ["featurize", "whole", "molpeg", "infobatch", "grand_4", "dp", "report"]
    for step in plan[1:-1]:
        argv = " ".join(step.argv)
        assert "-m molpeg_bench run --preset paper" in argv and "--dataset csv:data.csv" in argv
        assert "--epochs 1" in argv
    assert all("warmup_epochs=1" in " ".join(s.argv) for s in plan[4:6])
