"""The warm-up as a disk artefact shared by runs and processes, and the selection-context services."""

import dataclasses
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.benchmark.losses import per_sample_bce, reduce_batch_loss
from molpeg_bench.benchmark.models import GINConfig, GraphPredictor
from molpeg_bench.benchmark.selection.warmup_cache import WarmupCache, WarmupKey
from molpeg_bench.benchmark.selection.warmup_training import binary_correct, warmup_seed
from molpeg_bench.methods.base import DynamicPruner, Requirements, Selection, StaticPruner, shuffled_plan
from tests.support.data import make_small_store
from tests.support.selection import CONFIG, selection_context


def _warm_in_child(cache_root: str, epochs: int) -> dict:
    torch.set_num_threads(1)
    ctx = selection_context(cache_root)
    ctx.warmup_model(epochs)
    return ctx.describe()["warmups"][0]


def test_key_changes_with_every_determining_field():
    key = WarmupKey("hiv", "abc", 1000, "random", 42, None, {"num_layers": 2}, 1e-3, 256, 0.0, "official", 0)
    changed = {"dataset": "muv", "data_sha256": "abd", "subsample": 999, "split": "scaffold", "split_seed": 1,
               "checkpoint_sha256": "ff", "model": {"num_layers": 3}, "lr": 1e-4, "batch_size": 128,
               "weight_decay": 1e-5, "loss_convention": "clean", "seed": 1, "seed_index": 1, "start": "random",
               "device": "cuda", "trainer_version": 2}
    assert set(changed) == {f.name for f in dataclasses.fields(WarmupKey)}
    digests = {key.digest()} | {dataclasses.replace(key, **{k: v}).digest() for k, v in changed.items()}
    assert len(digests) == 1 + len(changed)
    with pytest.raises(ValueError, match="start"):
        dataclasses.replace(key, start="scratch")


def test_run_key_follows_the_run_config(tmp_path):
    store = make_small_store()
    key = selection_context(tmp_path, store=store).warmups.key_for(0)
    assert selection_context(tmp_path, config=CONFIG.replace(epochs=7, prune_ratio=0.5, method="random"),
                             store=store).warmups.key_for(0) == key  # fine-tuning length and method: not determining
    for change in ({"lr": 1e-3}, {"seed": 4}, {"batch_size": 8}, {"split_seed": 1}, {"dropout": 0.1}):
        assert selection_context(tmp_path, config=CONFIG.replace(**change), store=store).warmups.key_for(0) != key
    other_labels = make_small_store()
    other_labels.y[0, 0] = 1 - other_labels.y[0, 0]
    assert selection_context(tmp_path, store=other_labels).warmups.key_for(0) != key  # the data itself
    assert selection_context(tmp_path, Requirements(6, warmup_start="random"), store=store).warmups.key_for(0) != key


def test_warmup_is_trained_once_and_reused_by_another_context_and_process(tmp_path):
    first = selection_context(tmp_path)
    model = first.warmup_model(6)
    use = first.describe()["warmups"][0]
    assert use["epochs_trained_here"] == 6 and not use["reused"] and use["seconds_charged"] > 0
    second = selection_context(tmp_path)
    again = second.warmup_model(4)
    reused = second.describe()
    assert reused["warmup_reused"] and reused["warmups"][0]["epochs_trained_here"] == 0
    assert reused["warmups"][0]["seconds_charged"] == pytest.approx(sum(
        WarmupCache(tmp_path).load(first.warmups.key_for(0)).seconds[:4]))
    child = multiprocessing.get_context("spawn").Pool(1).apply(_warm_in_child, (str(tmp_path), 6))
    assert child["epochs_trained_here"] == 0 and child["reused"]
    assert not torch.equal(model.head.weight, again.head.weight)  # epoch 6 vs epoch 4


def test_two_processes_asking_at_once_train_once(tmp_path):
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        uses = pool.starmap(_warm_in_child, [(str(tmp_path), 3)] * 2)
    assert sorted(u["epochs_trained_here"] for u in uses) == [0, 3]
    assert [p.name for p in sorted(tmp_path.glob("*/epoch_*.pt"))] == [f"epoch_000{e}.pt" for e in (1, 2, 3)]


def test_a_dead_holders_lock_is_taken_over(tmp_path):
    ctx = selection_context(tmp_path)
    lock = WarmupCache(tmp_path).folder(ctx.warmups.key_for(0)) / ".lock"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from benchmark.selection.warmup_cache import _exclusive\n"
        "with _exclusive(Path(sys.argv[1])):\n    time.sleep(600)\n"), str(lock)], cwd=Path(__file__).parents[3])
    deadline = time.time() + 60
    while not (lock.is_file() and str(holder.pid) in lock.read_text()) and time.time() < deadline:
        time.sleep(0.1)
    assert str(holder.pid) in lock.read_text()
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    ctx.warmup_model(2)
    assert ctx.describe()["warmups"][0]["epochs_trained_here"] == 2


def test_epoch_snapshot_equals_a_shorter_run_and_extension_equals_an_uninterrupted_run(tmp_path):
    long = selection_context(tmp_path / "a").warmups
    short = selection_context(tmp_path / "b").warmups
    extended = selection_context(tmp_path / "c").warmups
    full = long.artefact(6)
    four = short.artefact(4)
    extended.artefact(2)
    grown = extended.artefact(6)
    assert extended.uses[0].epochs_trained_here == 6 and full.epochs == grown.epochs == 6
    for a, b in ((full.model_state(4), four.model_state(4)), (full.model_state(6), grown.model_state(6))):
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    for epoch in range(1, 5):
        assert np.array_equal(full.correctness(epoch), four.correctness(epoch))
    assert not all(torch.equal(full.model_state(4)[k], full.model_state(6)[k]) for k in full.model_state(4))


def test_binary_correctness_rule():
    logits = torch.tensor([[2.0, -1.0, 0.0, 0.0], [-3.0, 1.0, 5.0, -0.1]])
    y = torch.tensor([[1.0, 1.0, float("nan"), 1.0], [0.0, 0.0, float("nan"), 0.0]])
    assert binary_correct(logits, y).tolist() == [[True, False, False, True], [True, False, False, True]]


def test_recorded_correctness_equals_a_replay_of_the_warmup(tmp_path):
    ctx = selection_context(tmp_path, Requirements(3, needs_train_dynamics=True))
    recorded = ctx.warmup_correctness(3)
    store, train = ctx.features.store, ctx.features.splits["train"]
    seed = CONFIG.seed
    with torch.random.fork_rng():  # replay: same init and per-epoch seeds, correctness read off each batch
        torch.manual_seed(warmup_seed(seed, 0))
        model = GraphPredictor(2, GINConfig(2, 16, 0.2))
        optimizer = torch.optim.Adam(model.parameters(), lr=CONFIG.lr)
        for epoch in range(1, 4):
            torch.manual_seed(warmup_seed(seed, 0, epoch))
            plan = shuffled_plan(np.random.default_rng(warmup_seed(seed, 0, epoch)), np.arange(len(train)))
            expected = np.zeros((len(train), 2), dtype=bool)
            model.train()
            for positions, weights in plan.batches(CONFIG.batch_size):
                batch = store.batch(train[positions])
                logits = model(batch)
                y = batch.y.numpy()
                expected[positions] = (logits.detach().numpy() >= 0) == (y == 1)
                loss = reduce_batch_loss(per_sample_bce(logits, batch.y), torch.as_tensor(weights), batch.y)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            expected &= ~np.isnan(ctx.labels)
            assert np.array_equal(recorded[epoch - 1], expected), epoch
    assert not recorded[2][np.isnan(ctx.labels)].any()


def test_context_lends_only_what_is_declared(tmp_path):
    ctx = selection_context(tmp_path, Requirements(warmup_epochs=2))
    with pytest.raises(PermissionError, match="warmup_epochs=2"):
        ctx.warmup_model(3)
    with pytest.raises(PermissionError, match="warmup_seeds=1"):
        ctx.warmup_model(2, seed_index=1)
    with pytest.raises(PermissionError, match="needs_train_dynamics"):
        ctx.warmup_correctness(2)
    with pytest.raises(PermissionError, match="needs_val"):
        ctx.logits(ctx.pretrained_model(), "valid")
    with pytest.raises(PermissionError, match="needs_input_grads"):
        ctx.input_embedding_batches(ctx.pretrained_model(), 8)
    assert ctx.valid_labels is None and ctx.describe()["warmups"] == [] and ctx.describe()["warmup_reused"] is None


def test_valid_split_factors_and_regression_branch(tmp_path):
    ctx = selection_context(tmp_path, Requirements(needs_val=True))
    model = ctx.pretrained_model()
    e, h1 = ctx.last_layer_factors(model, "valid")
    z = ctx.logits(model, "valid")
    y = ctx.valid_labels
    assert e.shape == z.shape == y.shape and h1.shape == (len(y), 17) and np.all(h1[:, -1] == 1)
    expected = np.where(np.isnan(y), 0.0, 1 / (1 + np.exp(-z)) - np.nan_to_num(y))
    assert np.allclose(e, expected, atol=1e-5)
    ctx.features.task_type = "regression"
    e_reg, _ = ctx.last_layer_factors(model, "valid")
    assert np.allclose(e_reg, np.where(np.isnan(y), 0.0, z - np.nan_to_num(y)), atol=1e-5)
    assert ctx.smiles == [ctx.features.store.smiles[i] for i in ctx.features.splits["train"]]


def test_input_embedding_forward_equals_the_model_forward(tmp_path):
    ctx = selection_context(tmp_path, Requirements(needs_input_grads=True))
    model = ctx.pretrained_model()
    batches = list(ctx.input_embedding_batches(model, 16))
    assert np.array_equal(np.concatenate([b.indices for b in batches]), np.arange(ctx.n_samples))
    out = torch.cat([b.forward(b.node_embeddings) for b in batches]).detach().numpy()
    assert np.allclose(out, ctx.logits(model), atol=1e-5)
    b = batches[0]
    u = b.node_embeddings.clone().requires_grad_(True)
    b.forward(u).sum().backward()
    assert u.grad is not None and u.grad.abs().sum() > 0 and len(b.node_graph) == len(u)
    assert int(b.node_graph.max()) == len(b.indices) - 1
    part = b.subset(torch.tensor([1, 4, 5]))  # those molecules alone, nodes in the same order
    assert part.indices.tolist() == [b.indices[1], b.indices[4], b.indices[5]]
    nodes = torch.isin(b.node_graph, torch.tensor([1, 4, 5]))
    assert torch.equal(part.node_embeddings, b.node_embeddings[nodes])
    assert torch.allclose(part.forward(part.node_embeddings), b.forward(b.node_embeddings)[[1, 4, 5]], atol=1e-6)


class FakeStatic(StaticPruner):
    """Asks for two warm-up seeds of 3 epochs, the dynamics and the validation split; keeps the k lowest
    margins of warm-up seed 1."""

    name = "fake_static"
    seen: dict = {}

    @classmethod
    def requirements(cls, options) -> Requirements:
        return Requirements(warmup_epochs=3, warmup_seeds=2, needs_val=True, needs_train_dynamics=True)

    def select(self, ctx) -> Selection:
        model = ctx.warmup_model(3, seed_index=1)
        dynamics = ctx.warmup_correctness(3)
        valid = ctx.logits(model, "valid")
        FakeStatic.seen = {"dynamics": len(dynamics), "valid": valid.shape, "labels": ctx.valid_labels.shape}
        return Selection(np.sort(np.argsort(np.abs(ctx.logits(model)).sum(1))[:self.k]))


class FakeScorePass(DynamicPruner):
    name = "fake_pass"
    needs_score_pass = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.passes = []

    def plan_epoch(self, epoch: int):
        return shuffled_plan(self.epoch_rng(epoch), np.arange(self.k))

    def score_pass(self, indices, losses) -> None:
        self.passes.append((indices, losses))


def test_runner_provides_the_requirements_and_charges_reused_warmups(tmp_path, monkeypatch):
    from molpeg_bench.benchmark import run

    monkeypatch.setattr(run, "make_pruner", lambda name, **kw: FakeStatic(**kw))
    monkeypatch.setenv("MOLPEG_CACHE_DIR", str(tmp_path))
    config = RunConfig(method="random", prune_ratio=0.5, dataset="nci-tpsa", subsample=200, num_layers=2,
                       emb_dim=16, epochs=2, batch_size=32)
    first = run.run_finetune(config)
    second = run.run_finetune(config)
    assert FakeStatic.seen == {"dynamics": 3, "valid": (20, 1), "labels": (20, 1)}
    a, b = first["context"], second["context"]
    assert [u["seed_index"] for u in a["warmups"]] == [0, 1]  # both declared seeds prepared
    assert [u["epochs_trained_here"] for u in a["warmups"]] == [3, 3] and a["warmup_reused"] is False
    assert [u["epochs_trained_here"] for u in b["warmups"]] == [0, 0] and b["warmup_reused"]
    assert first["timings"]["warmup"] > 0
    assert second["timings"]["warmup"] == pytest.approx(first["timings"]["warmup"])  # reused: still charged
    assert first["timings"]["scoring"] >= 0 and second["timings"]["scoring"] >= 0
    assert first["test_at_best"] == second["test_at_best"]  # reuse changes no metric
    assert first["selection"]["indices_sha256"] == second["selection"]["indices_sha256"]


def test_runner_calls_the_score_pass_after_each_epoch(monkeypatch):
    from molpeg_bench.benchmark import run

    pruners = []

    def make(name, **kw):
        pruners.append(FakeScorePass(**kw))
        return pruners[-1]

    monkeypatch.setattr(run, "make_pruner", make)
    record = run.run_finetune(RunConfig(method="soft_random", prune_ratio=0.5, dataset="nci-tpsa", subsample=200,
                                        num_layers=2, emb_dim=16, epochs=3, batch_size=32))
    passes = pruners[0].passes
    assert len(passes) == 3 and all(np.array_equal(i, np.arange(160)) for i, _ in passes)
    assert all(loss.shape == (160,) and torch.isfinite(loss).all() for _, loss in passes)
    assert not torch.equal(passes[0][1], passes[2][1]) and record["timings"]["scoring"] > 0


FORGETTING = RunConfig(method="forgetting", prune_ratio=0.5, dataset="nci-tpsa", subsample=200, num_layers=2,
                       emb_dim=16, epochs=1, batch_size=32, method_options={"warmup_epochs": 4})


def _warmup_folder(cache_root: Path) -> Path:
    (folder,) = (cache_root / "warmups").iterdir()
    return folder


def test_same_size_damage_to_a_correctness_array_is_detected_and_the_selection_recomputed(tmp_path, monkeypatch,
                                                                                          caplog):
    from molpeg_bench.benchmark import run

    monkeypatch.setenv("MOLPEG_CACHE_DIR", str(tmp_path))
    first = run.run_finetune(FORGETTING)
    target = _warmup_folder(tmp_path) / "correct_0002.npy"
    size, header = target.stat().st_size, len(target.read_bytes()) - np.load(target).nbytes
    target.write_bytes(target.read_bytes()[:header] + bytes(size - header))  # same size, every sample wrong
    second = run.run_finetune(FORGETTING)
    assert second["selection"]["indices_sha256"] == first["selection"]["indices_sha256"]
    assert second["test_at_best"] == first["test_at_best"]
    assert second["context"]["warmups"][0]["epochs_trained_here"] == 4  # trained again, not trusted
    damaged = [r.getMessage() for r in caplog.records if "correct_0002.npy" in r.getMessage()]
    assert len(damaged) == 1 and "moved aside" in damaged[0]
    assert len(list(target.parent.glob("correct_0002.npy.corrupt-*"))) == 1


def test_a_truncated_snapshot_is_trained_again_and_named_in_one_line(tmp_path, caplog):
    first = selection_context(tmp_path, Requirements(3))
    expected = first.warmup_model(3).state_dict()
    snapshot = WarmupCache(tmp_path).folder(first.warmups.key_for(0)) / "epoch_0003.pt"
    snapshot.write_bytes(snapshot.read_bytes()[:100])
    second = selection_context(tmp_path, Requirements(3))
    again = second.warmup_model(3).state_dict()
    assert all(torch.equal(expected[k], again[k]) for k in expected)
    assert second.describe()["warmups"][0]["epochs_trained_here"] == 3
    lines = [r.getMessage() for r in caplog.records if "epoch_0003.pt" in r.getMessage()]
    assert len(lines) == 1 and str(snapshot) in lines[0], lines


@pytest.mark.parametrize("damage", [lambda text: text[:len(text) // 2], lambda text: '{"epochs": "many"}'])
def test_a_damaged_manifest_names_the_folder_and_the_warmup_is_trained_again(tmp_path, caplog, damage):
    ctx = selection_context(tmp_path, Requirements(2))
    ctx.warmup_model(2)
    manifest = WarmupCache(tmp_path).folder(ctx.warmups.key_for(0)) / "manifest.json"
    manifest.write_text(damage(manifest.read_text()))
    again = selection_context(tmp_path, Requirements(2))
    again.warmup_model(2)
    assert again.describe()["warmups"][0]["epochs_trained_here"] == 2
    lines = [r.getMessage() for r in caplog.records if "manifest.json" in r.getMessage()]
    assert len(lines) == 1 and str(manifest.parent) in lines[0] and "warm-up manifest" in lines[0]


def test_a_damaged_warmup_that_cannot_be_moved_aside_names_the_folder_to_delete(tmp_path, monkeypatch):
    from molpeg_bench.fileio import checksums

    ctx = selection_context(tmp_path, Requirements(2))
    ctx.warmup_model(2)
    folder = WarmupCache(tmp_path).folder(ctx.warmups.key_for(0))
    (folder / "epoch_0001.pt").write_bytes(b"x")

    def read_only(path):  # a cache on a read-only filesystem (the tests may run as root)
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(checksums, "move_aside", read_only)
    with pytest.raises(ValueError, match=f"epoch_0001.pt.*Permission denied.*delete {folder} and run again"):
        selection_context(tmp_path, Requirements(2)).warmup_model(2)


def test_older_warmups_without_hashes_are_hashed_on_first_read(tmp_path):
    ctx = selection_context(tmp_path, Requirements(2, needs_train_dynamics=True))
    ctx.warmup_correctness(2)
    folder = WarmupCache(tmp_path).folder(ctx.warmups.key_for(0))
    for sidecar in folder.glob("*.sha256"):
        sidecar.unlink()
    again = selection_context(tmp_path, Requirements(2, needs_train_dynamics=True))
    again.warmup_correctness(2)
    assert again.describe()["warmups"][0]["epochs_trained_here"] == 0
    assert sorted(p.name for p in folder.glob("*.sha256")) == [
        "correct_0001.npy.sha256", "correct_0002.npy.sha256", "epoch_0001.pt.sha256", "epoch_0002.pt.sha256"]
