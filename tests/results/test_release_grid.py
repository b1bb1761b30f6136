"""Release v2's grid: every Table 1 row with enough seeds to decide, both fidelities where they differ, the
claim rows first, from the checkpoint committed beside its records."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from molpeg_bench.benchmark.experiments import build_grid
from molpeg_bench.benchmark.experiments.grids import (
    RELEASE_CLAIM_ROWS,
    RELEASE_CLAIM_SEEDS,
    RELEASE_SEEDS,
    TABLE1_METHODS,
    differs_under_code,
)
from molpeg_bench.fileio.checksums import file_sha256
from molpeg_bench.methods import get_method

V2 = Path(__file__).resolve().parents[2] / "results" / "releases" / "hiv-cpu-v2"
V2_CHECKPOINT = Path("results/releases/hiv-cpu-v2/checkpoint/graphmae.pt")  # as the grid names it (relative)
CHECKPOINT = "checkpoints/release/graphmae.pt"


def _cell(config) -> tuple:
    """(method, fidelity, the options it states beyond its fidelity's defaults)."""
    bundle = get_method(config.method).code_options if config.fidelity == "code" else {}
    stated = {k: v for k, v in config.method_options.items() if not (k in bundle and bundle[k] == v)}
    return config.method, config.fidelity, tuple(sorted(stated.items()))


def test_every_row_has_its_seeds_and_the_claim_rows_ten():
    grid = build_grid("release_v2", "release", [CHECKPOINT])
    seeds = Counter(_cell(c) for c in grid)
    assert len(set(c.run_id() for c in grid)) == len(grid)
    for method in ("whole", *TABLE1_METHODS):
        want = RELEASE_CLAIM_SEEDS if method in RELEASE_CLAIM_ROWS else RELEASE_SEEDS
        assert seeds[(method, "paper", ())] == want, method
    assert seeds[("molpeg", "code", (("epoch_seeding", "run"),))] == RELEASE_CLAIM_SEEDS
    assert seeds[("molpeg", "code", ())] == RELEASE_SEEDS
    assert seeds[("herding", "paper", (("direction", "paper"),))] == RELEASE_SEEDS
    assert {c.prune_ratio for c in grid if c.method != "whole"} == {0.6}


def test_a_code_row_exactly_where_the_code_bundle_changes_the_method():
    grid = build_grid("release_v2", "release", [CHECKPOINT])
    code_rows = {method for method, fidelity, stated in map(_cell, grid) if fidelity == "code" and not stated}
    for method in ("whole", *TABLE1_METHODS):
        if method == "molpeg":
            continue
        assert (method in code_rows) == differs_under_code(method), method
    assert differs_under_code("soft_random") and not differs_under_code("ucb")
    assert not get_method("ucb").code_options  # a method without a bundle never differs


def test_claim_rows_come_first():
    grid = build_grid("release_v2", "release", [CHECKPOINT])
    first_other = next(i for i, c in enumerate(grid) if c.method not in RELEASE_CLAIM_ROWS)
    assert all(c.method not in RELEASE_CLAIM_ROWS or c.fidelity == "code" or c.method_options
               for c in grid[first_other:])


def test_the_release_names_its_committed_checkpoint_and_its_bytes():
    """Release v2 runs from the checkpoint committed with it: a rebuild on another CPU family gives other
    bytes (float summation order), and the run ids hash the checkpoint's content."""
    meta = json.loads((V2 / "checkpoint" / "graphmae.json").read_text())
    assert file_sha256(V2 / "checkpoint" / "graphmae.pt") == meta["weights_sha256"]
    assert meta["preset"] == "release" and meta["n_molecules"] == 100_000 and meta["epochs"] == 20


def test_the_committed_v2_records_match_the_manifest_and_belong_to_the_grid():
    from molpeg_bench.benchmark.config import EXECUTION_FIELDS, RunConfig
    from molpeg_bench.results.manifest import verify_manifest
    from molpeg_bench.results.store import RunStore

    verify_manifest(V2)  # the published files: records, grid file, checkpoint
    scan = RunStore(V2).scan()
    assert not scan.invalid and not scan.failed

    def key(config: dict) -> str:
        return json.dumps({k: v for k, v in config.items() if k not in EXECUTION_FIELDS}, sort_keys=True)

    grid = {key(c.to_dict()) for c in build_grid("release_v2", "release", [str(V2_CHECKPOINT)])}
    sha = json.loads((V2 / "checkpoint" / "graphmae.json").read_text())["weights_sha256"]
    for record in scan.complete:
        assert key(RunConfig.from_dict(record["config"]).to_dict()) in grid, record["run_id"]
        assert record["checkpoint"]["sha256"] == sha
        if record["pruner"]["family"] == "static":
            assert "diagnostics" in record["selection"], record["run_id"]


def test_the_committed_v2_is_complete_and_its_report_shows_both_fidelities(tmp_path, monkeypatch):
    from molpeg_bench.benchmark.cli import main
    from molpeg_bench.results.store import RunStore

    monkeypatch.chdir(V2.parents[2])  # the grid names its checkpoint relative to the repository root
    grid = build_grid("release_v2", "release", [str(V2_CHECKPOINT)])
    assert {r["run_id"] for r in RunStore(V2).scan().complete} == {c.run_id() for c in grid}  # every run, no other
    assert main(["report", "release", "--preset", "release", "--store", str(V2), "--config", str(V2 / "grid.toml"),
                 "--out", str(tmp_path)]) == 0
    page = (tmp_path / "release.md").read_text()
    assert "- none: every cell holds every seed" in page
    pairs = (tmp_path / "release_pairs.csv").read_text().splitlines()
    assert len(pairs) - 1 == sum(differs_under_code(m) for m in ("whole", *TABLE1_METHODS))  # each code row paired
    assert "| Glister | code | 5 |" in page and "| MolPeg | code, epoch_seeding=run | 10 |" in page
