import json

import numpy as np
import pytest
import torch

from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.benchmark.experiments import build_grid
from molpeg_bench.benchmark.models import GINConfig, GINEncoder
from molpeg_bench.benchmark.run import run_finetune
from molpeg_bench.results.names import PAPER_METHODS
from molpeg_bench.results.store import RunStore
from molpeg_bench.slurm.sweep import run_sweep
from tests.support.data import needs_shared_data

TINY = dict(dataset="nci-tpsa", subsample=300, num_layers=2, emb_dim=16, dropout=0.2, epochs=2, batch_size=32)


def _comparable(record: dict) -> dict:
    """A record without its wall-clock fields."""
    drop = {"timings", "started_at", "environment"}
    return {k: v for k, v in record.items() if k not in drop}


@pytest.mark.parametrize("method,ratio", [("molpeg", 0.6), ("infobatch", 0.6), ("random", 0.6)])
def test_same_config_and_seed_give_identical_records(method, ratio):
    config = RunConfig(method=method, prune_ratio=ratio, **TINY)
    a, b = run_finetune(config), run_finetune(config)
    assert json.dumps(_comparable(a), sort_keys=True) == json.dumps(_comparable(b), sort_keys=True)
    c = run_finetune(config.replace(seed=1))
    assert [e["train_loss"] for e in c["epochs"]] != [e["train_loss"] for e in a["epochs"]]


def test_record_content_and_best_epoch_rule():
    record = run_finetune(RunConfig(method="molpeg", prune_ratio=0.5, **TINY).replace(epochs=3))
    assert record["status"] == "complete" and record["checkpoint"]["name"] == "no pretraining"
    assert record["pruner"]["k"] == 120 and record["dataset"]["split_sizes"] == {"train": 240, "valid": 30,
                                                                                 "test": 30}
    assert record["sample_visits"] == 3 * 120 == sum(e["n_trained"] for e in record["epochs"])
    valids = [e["valid"] for e in record["epochs"]]
    best = int(np.argmax(valids))  # first best wins
    assert record["best_epoch"] == best + 1 and record["test_at_best"] == record["epochs"][best]["test"]
    assert set(record["timings"]) == {"warmup", "scoring", "training", "evaluation", "total"}
    assert record["pruner"]["options"]["ema_convention"] == "paper"


def test_sweep_resumes_from_the_store_and_reruns_corrupted_records(tmp_path):
    configs = [RunConfig(method="whole", **TINY), RunConfig(method="soft_random", prune_ratio=0.5, **TINY)]
    first = run_sweep(configs, tmp_path)
    assert len(first.completed) == 2 and not first.failed
    before = {p.name: p.read_text() for p in tmp_path.glob("*.json")}
    again = run_sweep(configs, tmp_path)
    assert again.skipped == 2 and again.completed == []
    assert {p.name: p.read_text() for p in tmp_path.glob("*.json")} == before  # nothing recomputed
    victim = RunStore(tmp_path).path(configs[1].run_id())
    victim.write_text('{"run_id": "trunc')
    third = run_sweep(configs, tmp_path)
    assert third.completed == [configs[1].run_id()] and third.skipped == 1
    assert RunStore(tmp_path).get(configs[1].run_id())["status"] == "complete"
    assert len(list(victim.parent.glob(victim.name + ".corrupt-*"))) == 1


def test_failed_run_leaves_no_record(tmp_path, monkeypatch):
    bad = RunConfig(method="molpeg", prune_ratio=0.5, checkpoint=str(tmp_path / "missing.pt"), **TINY)
    with pytest.raises(FileNotFoundError, match="missing.pt"):  # checked once, before any run
        run_sweep([bad], tmp_path / "store")
    assert not list((tmp_path / "store").glob("*.json"))

    def crash(config, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr("molpeg_bench.slurm.task.run_finetune", crash)
    config = RunConfig(method="whole", **TINY)
    summary = run_sweep([config], tmp_path / "store")
    assert list(summary.failed) == [config.run_id()]
    assert "RuntimeError: out of memory" in summary.failed[config.run_id()]
    assert not list((tmp_path / "store").glob("*.json"))


def test_checkpoint_loads_strictly_and_mismatch_lists_keys(tmp_path):
    encoder = GINEncoder(GINConfig(2, 16))
    torch.save(encoder.state_dict(), tmp_path / "enc.pt")
    record = run_finetune(RunConfig(method="whole", checkpoint=str(tmp_path / "enc.pt"), **TINY))
    sha = record["checkpoint"]["sha256"]
    assert len(sha) == 64 and record["checkpoint"]["name"] == f"enc ({sha[:8]})"
    torch.save({"gnn." + k: v for k, v in encoder.state_dict().items()}, tmp_path / "prefixed.pt")
    run_finetune(RunConfig(method="whole", checkpoint=str(tmp_path / "prefixed.pt"), **TINY))
    wrong = RunConfig(method="whole", checkpoint=str(tmp_path / "enc.pt"), **{**TINY, "emb_dim": 32})
    with pytest.raises(ValueError, match=r"shape mismatches: \['batch_norms.0.bias"):
        run_finetune(wrong)
    deeper = RunConfig(method="whole", checkpoint=str(tmp_path / "enc.pt"), **{**TINY, "num_layers": 3})
    with pytest.raises(ValueError, match=r"missing keys: \['batch_norms.2.bias"):
        run_finetune(deeper)


@needs_shared_data('hiv.csv.gz')
def test_config_validation_and_hash():
    with pytest.raises(ValueError, match="prune_ratio"):
        RunConfig(method="molpeg", prune_ratio=1.2)
    with pytest.raises(ValueError, match="needs a prune_ratio"):
        RunConfig(method="molpeg")
    with pytest.raises(ValueError, match="unknown run-config field"):
        RunConfig.from_dict({"datset": "hiv"})
    a = RunConfig(method="molpeg", prune_ratio=0.6)
    assert a.run_id() == a.replace(device="cuda", num_threads=4).run_id()  # execution fields not hashed
    assert a.run_id() != a.replace(method_options={"beta": 0.1}).run_id()


@needs_shared_data('hiv.csv.gz')
@needs_shared_data('muv.csv.gz')
def test_grids_cover_methods_ratios_and_whole():
    grid = build_grid("table1", "smoke")
    assert len(grid) == 2 * (1 + 20 * 6)
    assert list(dict.fromkeys(c.method for c in grid if c.method != "whole")) == \
        [m for m in PAPER_METHODS if m != "whole"]  # Table 1's rows, static then dynamic
    assert {(c.dataset, c.method) for c in grid if c.prune_ratio == 0} == {("hiv", "whole"), ("muv", "whole")}
    fig6 = build_grid("fig6", "smoke")
    assert {c.method_options.get("beta", 0.5) for c in fig6} == {0.001, 0.01, 0.1, 0.5, 0.9}
    # the default β run is Table 1's MolPeg run, not a second copy
    assert {c.run_id() for c in fig6 if not c.method_options} <= {c.run_id() for c in grid}


def test_run_id_follows_the_checkpoint_content(tmp_path):
    path = tmp_path / "enc.pt"
    torch.save(GINEncoder(GINConfig(2, 16)).state_dict(), path)
    config = RunConfig(method="whole", checkpoint=str(path), **TINY)
    first = config.run_id()
    torch.manual_seed(123)
    torch.save(GINEncoder(GINConfig(2, 16)).state_dict(), path)
    assert config.run_id() != first


def test_seeds_override_and_pretraining_grid(tmp_path):
    grid = build_grid("table1", "smoke", seeds=[3, 4])
    assert {c.seed for c in grid} == {3, 4} and len(grid) == 2 * 2 * 121
    pre = build_grid("pretraining", "smoke", [str(tmp_path / "a.pt"), str(tmp_path / "b.pt")])
    assert {c.checkpoint for c in pre} == {None, str(tmp_path / "a.pt"), str(tmp_path / "b.pt")}
    assert {c.seed for c in pre} == {0, 1, 2} and {c.method for c in pre} == {"whole"}
    with pytest.raises(ValueError, match="at most one --checkpoint"):
        build_grid("table1", "smoke", ["a.pt", "b.pt"])
