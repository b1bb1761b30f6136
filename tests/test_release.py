"""The committed release (``results/releases/hiv-cpu-v1``): its records pass the store's validation, belong
to the release grid, share one checkpoint, and its report builds from them alone (offline, no data)."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from benchmark.config import EXECUTION_FIELDS, RunConfig
from benchmark.experiments import build_grid
from results.release import write_release
from results.store import RunStore

RELEASE = Path(__file__).resolve().parents[1] / "results" / "releases" / "hiv-cpu-v1"
CHECKPOINT = "checkpoints/release/graphmae.pt"
SEEDS = 3


def cell_key(config: RunConfig) -> str:
    """A config without its execution fields (what the run computes)."""
    return json.dumps({k: v for k, v in config.to_dict().items() if k not in EXECUTION_FIELDS}, sort_keys=True)


def cell(config: RunConfig) -> tuple[str, int, str]:
    return config.method, int(round(100 * config.prune_ratio)), config.fidelity


@pytest.fixture(scope="module")
def records() -> list[dict]:
    scan = RunStore(RELEASE).scan()
    assert not scan.invalid, f"invalid committed records: {scan.invalid}"
    assert not scan.failed, f"failed runs committed: {[r['run_id'] for r in scan.failed]}"
    assert scan.complete, f"no complete records under {RELEASE}"
    return scan.complete


def test_every_record_is_a_cell_of_the_release_grid_on_one_checkpoint(records):
    grid = {cell_key(c) for c in build_grid("release", "release", [CHECKPOINT])}
    for record in records:
        config = RunConfig.from_dict(record["config"])
        assert cell_key(config) in grid, f"{record['run_id']}: not a run of the release grid"
    meta = json.loads((RELEASE / "checkpoint" / "graphmae.json").read_text())
    assert {r["checkpoint"]["sha256"] for r in records} == {meta["weights_sha256"]}
    assert len({r["run_id"] for r in records}) == len(records)


def test_report_builds_from_the_committed_records_alone(records, tmp_path):
    expected = [cell(c) for c in build_grid("release", "release")]
    started = time.perf_counter()
    paths = write_release(RELEASE, tmp_path, seeds=SEEDS, expected=expected)
    assert time.perf_counter() - started < 60
    assert {"table1.tex", "table1_comparison.md", "table1_claims.csv", "release.md"} <= set(paths)
    if any(r["config"]["method"] != "whole" and r["config"].get("fidelity", "paper") == "paper" for r in records):
        assert "figure4_hiv.png" in paths
    # the fidelity rows are the records' own means
    seeds_of = defaultdict(dict)
    for r in records:
        seeds_of[cell(RunConfig.from_dict(r["config"]))][r["config"]["seed"]] = 100 * r["test_at_best"]
    fidelity = pd.read_csv(paths["release_fidelity.csv"]).set_index("run")
    whole = seeds_of[("whole", 0, "paper")]
    whole_mean = sum(whole.values()) / len(whole)  # the CSV rounds to 2 decimals
    assert fidelity.loc["whole, `--fidelity paper`", "mean"] == pytest.approx(whole_mean, abs=0.005)
    # every grid cell short of its seeds is listed, and no other
    page = paths["release.md"].read_text()
    listed = [line for line in page.splitlines() if line.startswith("- ") and " seeds" in line and " of " in line]
    short = [c for c in dict.fromkeys(expected) if len(seeds_of.get(c, {})) < SEEDS]
    assert len(listed) == len(short)
