"""The committed release (``results/releases/hiv-cpu-v1``): its files are those its manifest lists, its
records pass the store's validation, belong to the release grid, share one checkpoint, and its report builds
from them alone (offline, no data). A copy with one record changed, removed or added is refused by name."""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from molpeg_bench.benchmark.cli import main
from molpeg_bench.benchmark.config import EXECUTION_FIELDS, RunConfig
from molpeg_bench.benchmark.experiments import build_grid
from molpeg_bench.results.manifest import MANIFEST, ManifestMismatch, sha256_of, verify_manifest, write_manifest
from molpeg_bench.results.release import write_release
from molpeg_bench.results.store import RunStore

RELEASE = Path(__file__).resolve().parents[2] / "results" / "releases" / "hiv-cpu-v1"
CHECKPOINT = "checkpoints/release/graphmae.pt"
SEEDS = 3


def cell_key(config: RunConfig) -> str:
    """A config without its execution fields (what the run computes)."""
    return json.dumps({k: v for k, v in config.to_dict().items() if k not in EXECUTION_FIELDS}, sort_keys=True)


def cell(config: RunConfig) -> tuple[str, int, str]:
    return config.method, int(round(100 * config.prune_ratio)), config.fidelity


@pytest.fixture(scope="module")
def records() -> list[dict]:
    verify_manifest(RELEASE)  # the published files, none changed, missing or added
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
    assert f"`{MANIFEST}` (sha256 `{sha256_of(RELEASE / MANIFEST)}`)" in page
    listed = [line for line in page.splitlines() if line.startswith("- ") and " seeds" in line and " of " in line]
    short = [c for c in dict.fromkeys(expected) if len(seeds_of.get(c, {})) < SEEDS]
    assert len(listed) == len(short)
    # every record with selection diagnostics is summed up in one static row of the selections table
    selections = pd.read_csv(paths["release_selections.csv"])
    assert selections["seeds"].sum() == sum(bool((r.get("selection") or {}).get("diagnostics")) for r in records)


def test_the_manifest_lists_every_published_file():
    listed = (RELEASE / MANIFEST).read_text().splitlines()
    assert len(listed) == len(list(RELEASE.glob("*.json"))) + 1  # the records and the checkpoint's metadata
    assert verify_manifest(RELEASE) == sha256_of(RELEASE / MANIFEST)


def _first_record(release: Path) -> Path:
    return sorted(release.glob("*.json"))[0]


def _changed_number(release: Path) -> str:
    path = _first_record(release)
    record = json.loads(path.read_text())
    last = record["epochs"][-1]  # a better last epoch, best values to match: only the manifest tells
    last.update(valid=1.0, test=0.99)
    record.update(best_epoch=last["epoch"], best_valid=1.0, test_at_best=0.99)
    path.write_text(json.dumps(record, indent=1))
    return f"changed since the manifest: {path.name}"


def _missing(release: Path) -> str:
    path = _first_record(release)
    path.unlink()
    return f"missing: {path.name}"


def _added(release: Path) -> str:
    shutil.copy(_first_record(release), release / "0000000000extra00000.json")
    return "not in the manifest: 0000000000extra00000.json"


def _changed_checkpoint(release: Path) -> str:
    (release / "checkpoint" / "graphmae.json").write_text("{}")
    return "changed since the manifest: checkpoint/graphmae.json"


@pytest.mark.parametrize("tamper", [_changed_number, _missing, _added, _changed_checkpoint])
def test_a_release_that_differs_from_its_manifest_is_refused_by_name(tmp_path, caplog, tamper):
    copy = tmp_path / RELEASE.name
    shutil.copytree(RELEASE, copy)
    named = tamper(copy)
    with pytest.raises(ManifestMismatch, match=named):
        verify_manifest(copy)
    with pytest.raises(ManifestMismatch, match=named):
        write_release(copy, tmp_path / "out", seeds=SEEDS)
    with caplog.at_level(logging.ERROR):
        code = main(["report", "release", "--preset", "release", "--store", str(copy), "--out", str(tmp_path / "cli")])
    assert code != 0 and named in caplog.text
    assert not (tmp_path / "out" / "release.md").exists() and not (tmp_path / "cli" / "release.md").exists()


def test_a_new_release_gets_its_manifest_written(tmp_path):
    release = tmp_path / "hiv-cpu-v2"
    shutil.copytree(RELEASE, release, ignore=shutil.ignore_patterns(MANIFEST))
    (release / ".sweeps").mkdir()
    (release / ".sweeps" / "20270101-000000-abcdef.json").write_text("{}")  # a sweep's working state: not published
    with pytest.raises(ManifestMismatch, match=f"has no {MANIFEST}"):
        verify_manifest(release)
    path = write_manifest(release)
    assert path.read_text() == (RELEASE / MANIFEST).read_text()  # the same files, the same lines
    assert verify_manifest(release) == sha256_of(path)
