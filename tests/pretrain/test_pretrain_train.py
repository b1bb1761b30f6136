"""Pretraining runs: bitwise resume, checkpoint files loadable by the fine-tuning code, the CLI."""

import hashlib
import json

import pytest
import torch

from molpeg_bench.benchmark.models import GINConfig, GINEncoder, load_encoder_checkpoint
from molpeg_bench.pretrain.__main__ import main, parse_args
from molpeg_bench.pretrain.corpus import load_corpus
from molpeg_bench.pretrain.train import PRESETS, measure_throughput, preset_config, pretrain

TINY = dict(num_layers=2, emb_dim=16, dropout=0.2, batch_size=16, epochs=2)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return load_corpus("nci", max_molecules=40, seed=0, cache_dir=tmp_path_factory.mktemp("cache"))


class Interrupt(Exception):
    pass


def stop_after_first_epoch(epoch, loss):
    if epoch == 1:
        raise Interrupt


@pytest.mark.parametrize("method", ["graphmae", "graphcl"])
def test_resumed_run_equals_uninterrupted_run_bitwise(tmp_path, store, method):
    cfg = preset_config("smoke", method, **TINY)
    whole = pretrain(cfg, tmp_path / "whole", store=store)
    with pytest.raises(Interrupt):
        pretrain(cfg, tmp_path / "cut", store=store, on_epoch_end=stop_after_first_epoch)
    assert not (tmp_path / "cut" / f"{method}.pt").exists()
    assert (tmp_path / "cut" / f"{method}.resume.pt").exists()
    resumed = pretrain(cfg, tmp_path / "cut", store=store)
    a, b = torch.load(whole, weights_only=True), torch.load(resumed, weights_only=True)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    meta_a, meta_b = (json.loads(p.with_suffix(".json").read_text()) for p in (whole, resumed))
    assert meta_a["epoch_losses"] == meta_b["epoch_losses"] and meta_b["epochs"] == 2
    assert meta_a["steps"] == meta_b["steps"] == 2 * 3  # 40 molecules, batch 16 -> 3 batches


def test_checkpoint_loads_strictly_and_describes_itself(tmp_path, store):
    cfg = preset_config("smoke", "graphmae", **dict(TINY, epochs=1))
    path = pretrain(cfg, tmp_path, store=store)
    encoder = GINEncoder(GINConfig(num_layers=2, emb_dim=16))
    described = load_encoder_checkpoint(encoder, path)
    assert described["method"] == "graphmae" and described["corpus"] == "nci"
    assert described["name"] == "graphmae / nci 40"
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["weights_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest() == described["sha256"]
    assert meta["architecture"] == {"num_layers": 2, "emb_dim": 16, "dropout": 0.2, "jk": "last"}
    assert meta["corpus"]["sha256"] == store.meta["source_sha256"] and meta["corpus"]["path"].endswith(".smi")
    assert meta["n_molecules"] == 40 and meta["seed"] == 0
    assert meta["featurizer"] and set(meta["versions"]) >= {"torch", "torch_geometric", "rdkit", "python"}
    assert len(meta["epoch_losses"]) == 1 and meta["final_loss"] == meta["epoch_losses"][-1]
    with pytest.raises(ValueError, match="does not match the encoder"):
        load_encoder_checkpoint(GINEncoder(GINConfig(num_layers=2, emb_dim=32)), path)
    with pytest.raises(ValueError, match="missing keys"):
        load_encoder_checkpoint(GINEncoder(GINConfig(num_layers=3, emb_dim=16)), path)


def test_resume_refuses_other_settings(tmp_path, store):
    pretrain(preset_config("smoke", "graphcl", **dict(TINY, epochs=1)), tmp_path, store=store)
    with pytest.raises(ValueError, match="other settings.*lr"):
        pretrain(preset_config("smoke", "graphcl", **dict(TINY, lr=0.01)), tmp_path, store=store)


def test_graphcl_subgraph_mode_is_recorded_and_part_of_the_run(tmp_path, store):
    official = preset_config("smoke", "graphcl", **dict(TINY, epochs=1, subgraph_mode="official"))
    path = pretrain(official, tmp_path, store=store)
    meta = json.loads(path.with_suffix(".json").read_text())
    assert meta["hyperparameters"]["subgraph_mode"] == "official"
    assert preset_config("smoke", "graphcl").method_hyperparameters()["subgraph_mode"] == "grow"
    with pytest.raises(ValueError, match="other settings.*subgraph_mode"):
        pretrain(preset_config("smoke", "graphcl", **dict(TINY, epochs=1)), tmp_path, store=store)


def test_presets_follow_the_papers():
    mae, cl = preset_config("paper", "graphmae"), preset_config("paper", "graphcl")
    assert (mae.epochs, mae.batch_size, mae.lr, mae.mask_rate, mae.gamma) == (100, 256, 1e-3, 0.25, 1.0)
    assert (cl.batch_size, cl.lr, cl.aug1, cl.aug2, cl.aug_ratio, cl.temperature) == (
        256, 1e-3, "random", "random", 0.2, 0.1)
    assert mae.gin == cl.gin == GINConfig(num_layers=5, emb_dim=300, dropout=0.0)
    assert mae.corpus == "pcqm4mv2" and mae.device == "auto"
    smoke = preset_config("smoke", "graphmae", epochs=1)
    assert smoke.corpus == "nci" and smoke.gin == GINConfig(num_layers=3, emb_dim=64, dropout=0.2)
    assert smoke.epochs == 1 and set(PRESETS) == {"smoke", "paper", "release"}
    release = preset_config("release", "graphmae")
    assert (release.corpus, release.max_molecules, release.epochs, release.num_threads) == ("moses", 100_000, 20, 1)
    assert release.gin == smoke.gin and release.device == "cpu"


def test_cli_writes_both_checkpoints(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--help"])
    assert exit_info.value.code == 0 and "--max-molecules" in capsys.readouterr().out
    main(["--max-molecules", "24", "--epochs", "1", "--num-layers", "2", "--emb-dim", "8",
          "--batch-size", "12", "--out", str(tmp_path / "ckpt"), "--cache-dir", str(tmp_path / "cache")])
    for method in ("graphmae", "graphcl"):
        meta = json.loads((tmp_path / "ckpt" / f"{method}.json").read_text())
        assert meta["method"] == method and meta["n_molecules"] == 24 and meta["preset"] == "smoke"
        encoder = GINEncoder(GINConfig(num_layers=2, emb_dim=8))
        load_encoder_checkpoint(encoder, tmp_path / "ckpt" / f"{method}.pt")


def test_measure_throughput(store):
    for method in ("graphmae", "graphcl"):
        assert measure_throughput(method, steps=1, store=store, batch_size=16, num_layers=2, emb_dim=8) > 0


def test_cli_checks_the_cache_and_checkpoint_folders_before_featurizing(tmp_path, monkeypatch):
    (tmp_path / "blocker").write_text("")  # a folder below a regular file cannot be created (even as root)
    monkeypatch.setattr("molpeg_bench.pretrain.train.load_corpus", lambda *a, **k: pytest.fail("featurizing started"))
    for flag in ("--cache-dir", "--out"):
        folders = {"--cache-dir": str(tmp_path / "cache"), "--out": str(tmp_path / "ckpt"),
                   flag: str(tmp_path / "blocker" / "x")}
        with pytest.raises(SystemExit) as exit_info:
            main(["--max-molecules", "24", "--epochs", "1", *[a for item in folders.items() for a in item]])
        assert str(tmp_path / "blocker" / "x") in str(exit_info.value.code) and "not writable" in str(
            exit_info.value.code)
