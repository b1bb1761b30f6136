"""`sweep --config`, `sweep GRID --show-config`, `run --config RECORD`, `status` / `collect --config` and `report
release --config`: grids and runs from files, through the same sweep, run and report machinery as the named grids."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from molpeg_bench.benchmark.cli import main
from molpeg_bench.benchmark.experiments import build_grid
from molpeg_bench.benchmark.experiments.config_dump import document_from_configs
from molpeg_bench.benchmark.experiments.config_file import ConfigFileError, load_document, resolve
from tests.support.data import needs_shared_data

ROOT = Path(__file__).resolve().parents[2]
V2_CHECKPOINT = "results/releases/hiv-cpu-v2/checkpoint/graphmae.pt"
TINY = """name = "tiny"
datasets = ["nci-tpsa"]
prune_ratios = [0.5]
seeds = [0]
methods = ["random"]
[run]
preset = "ci"
epochs = 4
"""


@needs_shared_data("hiv.csv.gz")
@needs_shared_data("muv.csv.gz")
def test_table1_printed_as_a_file_gives_the_grids_run_ids(tmp_path, capsys):
    assert main(["sweep", "table1", "--preset", "ci", "--show-config"]) == 0
    path = tmp_path / "table1.toml"
    path.write_text(capsys.readouterr().out)
    from_file = resolve(load_document(path), str(path))
    assert [c.run_id() for c in from_file] == [c.run_id() for c in build_grid("table1", "ci")]


@needs_shared_data("hiv.csv.gz")
def test_the_release_v2_file_states_the_release_v2_grid(monkeypatch):
    monkeypatch.chdir(ROOT)  # its checkpoint path is relative to the repository root, as the grid's is
    path = ROOT / "results" / "releases" / "hiv-cpu-v2" / "grid.toml"
    from_file = resolve(load_document(path), str(path))
    grid = build_grid("release_v2", "release", [V2_CHECKPOINT])
    # the same runs in the same order: the claim rows' cells first, each cell's seeds together
    assert [c.run_id() for c in from_file] == [c.run_id() for c in grid]


def test_order_method_runs_each_entry_before_the_next_and_a_printed_grid_keeps_its_order(tmp_path):
    document = {"datasets": ["hiv"], "prune_ratios": [0.6], "seeds": [0, 1], "whole": False,
                "methods": ["random", {"name": "molpeg", "seeds": [0, 1, 2]}]}
    by_seed = [(c.method, c.seed) for c in resolve(document)]
    assert by_seed == [("random", 0), ("molpeg", 0), ("random", 1), ("molpeg", 1), ("molpeg", 2)]
    by_method = resolve({**document, "order": "method"})
    assert [(c.method, c.seed) for c in by_method] == [("random", 0), ("random", 1), ("molpeg", 0), ("molpeg", 1),
                                                       ("molpeg", 2)]
    assert document_from_configs(by_method)["order"] == "method"
    assert "order" not in document_from_configs(resolve(document))  # the default order is not written
    assert resolve(document_from_configs(by_method)) == by_method
    with pytest.raises(ConfigFileError, match="'order' must be one of"):
        resolve({**document, "order": "cell"})


def test_a_file_sweep_hands_its_grid_to_the_sweep_and_keeps_its_resolved_form(tmp_path, monkeypatch, capsys):
    import molpeg_bench.slurm.sweep as sweep_module

    swept: list[tuple] = []

    def start_sweep(configs, store_root, **kwargs):  # the sweep machinery, its runs left out (seconds, not minutes)
        swept.append((configs, Path(store_root), kwargs["name"]))
        return sweep_module.SweepSummary(sweep_id="s", total=len(configs), finished=True)

    monkeypatch.setattr(sweep_module, "start_sweep", start_sweep)
    config, store = tmp_path / "tiny.toml", tmp_path / "store"
    config.write_text(TINY)
    assert main(["sweep", "--config", str(config), "--set", "epochs=2", "--store", str(store)]) == 0
    ((configs, root, name),) = swept
    assert (root, name) == (store, "tiny")
    assert [(c.dataset, c.method, c.prune_ratio, c.epochs, c.preset) for c in configs] == [
        ("nci-tpsa", "whole", 0.0, 2, "ci"), ("nci-tpsa", "random", 0.5, 2, "ci")]
    (kept,) = (store / ".configs").glob("*.toml")
    assert tomllib.loads(kept.read_text())["run"] == {"preset": "ci", "epochs": 2}
    assert main(["sweep", "--config", str(kept), "--store", str(store)]) == 0
    assert swept[1][0] == configs  # the kept file repeats the same sweep
    assert len(list((store / ".configs").glob("*.toml"))) == 1  # and is kept once


def test_a_file_sweep_refuses_the_flags_of_a_named_grid(tmp_path, caplog):
    config = tmp_path / "tiny.toml"
    config.write_text(TINY)
    assert main(["sweep", "table1", "--config", str(config), "--dry-run"]) == 2
    assert "drop table1" in caplog.text
    assert main(["sweep", "--config", str(config), "--seeds", "1", "--dry-run"]) == 2
    assert "drop --seeds" in caplog.text and "--set" in caplog.text
    assert main(["sweep", "table1", "--set", "epochs=1", "--dry-run"]) == 2
    assert "use it with --config" in caplog.text
    assert not (tmp_path / "runs").exists()


def test_rerunning_a_stored_record_reproduces_its_metrics(tmp_path):
    first, again = tmp_path / "first", tmp_path / "again"
    assert main(["run", "--preset", "ci", "--dataset", "nci-tpsa", "--method", "molpeg", "--prune-ratio", "0.5",
                 "--epochs", "3", "--store", str(first)]) == 0
    (path,) = first.glob("*.json")
    record = json.loads(path.read_text())
    assert main(["run", "--config", str(path), "--store", str(again)]) == 0
    rerun = json.loads((again / path.name).read_text())
    assert rerun["run_id"] == record["run_id"]
    assert rerun["test_at_best"] == record["test_at_best"]
    assert ([(e["valid"], e["test"]) for e in rerun["epochs"]] == [(e["valid"], e["test"]) for e in record["epochs"]])


def test_run_config_refuses_flags_that_would_change_the_record(tmp_path, caplog):
    record = tmp_path / "r.json"
    record.write_text(json.dumps({"config": {"dataset": "nci-tpsa", "method": "whole", "epochs": 1}}))
    assert main(["run", "--config", str(record), "--epochs", "2", "--store", str(tmp_path / "s")]) == 2
    assert "drop --epochs" in caplog.text
    record.write_text(json.dumps({"config": {"dataset": "nci-tpsa", "epoch": 1}}))
    assert main(["run", "--config", str(record), "--store", str(tmp_path / "s")]) == 2
    assert "unknown run-config field(s) ['epoch']" in caplog.text
    assert not (tmp_path / "s").exists()


@pytest.mark.slow
def test_status_and_collect_read_a_file_sweeps_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the default store runs/<name> and report folder out/<name>
    Path("tiny.toml").write_text(TINY)
    file_grid = ["--config", "tiny.toml", "--set", "epochs=1"]
    assert main(["status", *file_grid]) == 0
    assert capsys.readouterr().out.split("\n")[-2].split() == ["total", "0", "0", "0", "2"]
    assert main(["sweep", *file_grid, "--jobs", "1"]) == 0
    assert main(["status", *file_grid]) == 0
    assert capsys.readouterr().out.split("\n")[-2].split() == ["total", "2", "0", "0", "0"]
    assert main(["status", "--config", "tiny.toml"]) == 0  # 4 epochs: other runs, none of them done
    assert capsys.readouterr().out.split("\n")[-2].split() == ["total", "0", "0", "0", "2"]
    assert main(["collect", *file_grid]) == 0
    assert capsys.readouterr().out.startswith("tiny: 2 done, 0 running, 0 failed, 0 pending")
    comparison = Path("out/tiny/table1_comparison.md").read_text()  # the file's preset (ci), not the default
    assert "| nci-tpsa | Random | 50 |" in comparison
    assert main(["status", "table1", "--config", "tiny.toml"]) == 2
    assert main(["status"]) == 2


def test_a_release_reads_the_cells_it_expects_from_its_grid_file(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    store = "results/releases/hiv-cpu-v2"
    pages = {}
    for how, flags in (("file", ["--config", f"{store}/grid.toml"]), ("grid", ["--grid", "release_v2"])):
        out = tmp_path / how
        assert main(["report", "release", "--preset", "release", "--store", store, "--out", str(out), *flags]) == 0
        pages[how] = (out / "release.md").read_text()
    assert pages["file"] == pages["grid"]
    assert "## Cells with fewer seeds than the release asks for" in pages["file"]
