"""Regression task, 3D runs through the fine-tuning loop, MolPeg on a regression model."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.benchmark.run import run_finetune
from molpeg_bench.benchmark.tasks import BinaryTask, RegressionTask, improves, method_options
from molpeg_bench.benchmark.training import train_epoch
from molpeg_bench.methods import make_pruner
from molpeg_bench.methods.base import shuffled_plan
from molpeg_bench.methods.driving import PrunerDriver
from tests.support.data import needs_shared_data

TINY_PAINN = dict(model="painn", num_layers=1, emb_dim=8, model_options={"num_rbf": 4, "readout_hidden": 4},
                  batch_size=16, eval_batch_size=64, lr=5e-4, lr_schedule="cosine", epochs=3)


def test_regression_loss_and_mae_in_mev_hand_computed():
    task = RegressionTask(mean=2.0, std=4.0)
    outputs = torch.tensor([[0.5], [-1.0]])  # standardised: de-standardised 4.0 and -2.0 eV
    y = torch.tensor([[3.0], [-2.0]])  # standardised targets 0.25 and -1.0
    assert torch.allclose(task.per_sample_loss(outputs, y), torch.tensor([0.25, 0.0]))
    assert torch.allclose(RegressionTask(2.0, 4.0, "mse").per_sample_loss(outputs, y), torch.tensor([0.0625, 0.0]))
    assert task.batch_loss(torch.tensor([0.25, 0.0]), torch.tensor([2.0, 1.0]), y).item() == pytest.approx(0.25)
    assert task.score(y.numpy(), outputs.numpy()) == pytest.approx(500.0)  # (1.0 + 0.0) / 2 eV = 500 meV
    assert improves(task, 1.0, 2.0) and not improves(task, 2.0, 1.0) and not improves(task, 1.0, 1.0)
    assert improves(BinaryTask(), 0.8, 0.7) and improves(task, 3.0, None) and not improves(task, float("nan"), 1.0)
    with pytest.raises(ValueError, match="regression loss"):
        RegressionTask(0.0, 1.0, "huber")
    with pytest.raises(ValueError, match="model must be one of"):
        RunConfig(model="dimenet")


@pytest.fixture
def regression_store(small_store):
    gen = torch.Generator().manual_seed(0)
    pos = torch.randn(len(small_store.x), 3, generator=gen) * 1.5
    n_atoms = (small_store.node_ptr[1:] - small_store.node_ptr[:-1]).float()
    y = (-3.0 * n_atoms + 0.1 * torch.randn(len(small_store), generator=gen))[:, None]  # learnable: atom count
    return dataclasses.replace(small_store.with_positions(pos), y=y, meta={"dataset": "toy3d"})


@needs_shared_data('qm9_3d.csv.xz')
def test_painn_regression_run_selects_test_at_best_validation_mae(regression_store):
    config = RunConfig(dataset="qm9_u0", method="molpeg", prune_ratio=0.5, seed=0, **TINY_PAINN)
    record = run_finetune(config, store=regression_store)
    assert record["metric"] == "mae_mev" and record["task"]["type"] == "regression"
    valid = [e["valid"] for e in record["epochs"]]
    best = int(np.argmin(valid))
    assert record["best_epoch"] == best + 1 and record["test_at_best"] == record["epochs"][best]["test"]
    assert record["geometry"]["model"] == "painn" and record["geometry"]["qm9_variant"] == "correct"
    assert list(record["pruner"]["options"]["shared"]) == ["head", "readout"]
    assert [e["lr"] for e in record["epochs"]] == pytest.approx([5e-4, 3.75e-4, 1.25e-4])  # cosine, T_max 3
    n_train = record["dataset"]["split_sizes"]["train"]
    assert n_train == 110_000 * 120 // 130_831  # the fixed split's proportions on 120 molecules
    assert all(e["n_trained"] == n_train // 2 for e in record["epochs"][1:])
    again = run_finetune(config, store=regression_store)
    assert [e["test"] for e in again["epochs"]] == [e["test"] for e in record["epochs"]]


def test_schnet_binary_run_on_3d_store(small_store):
    store = small_store.with_positions(torch.randn(len(small_store.x), 3, generator=torch.Generator().manual_seed(2)))
    config = RunConfig(dataset="nci-tpsa", method="infobatch", prune_ratio=0.5, model="schnet", num_layers=1, emb_dim=8,
                       model_options={"num_filters": 8, "num_gaussians": 6}, epochs=2, batch_size=32)
    record = run_finetune(config, store=store)
    assert record["metric"] == "roc_auc" and 0.0 <= record["test_at_best"] <= 1.0
    assert record["geometry"]["architecture"]["num_filters"] == 8


def test_molpeg_scores_regression_losses_of_both_models(regression_store):
    """MolPeg's score of a sample is |L1 of the online model - L1 of the EMA reference|; the readout is
    copied into the reference with the head, the encoder averaged."""
    config = RunConfig(dataset="qm9_u0", method="molpeg", prune_ratio=0.5, **TINY_PAINN)
    from molpeg_bench.benchmark.tasks import build_model

    torch.manual_seed(0)
    model = build_model(config, 1)
    pruner = make_pruner("molpeg", n_samples=32, keep_ratio=0.5, seed=0, options=method_options(config))
    pruner.setup(model)
    with torch.no_grad():  # make the reference differ from the online model
        for p in pruner.reference.encoder.parameters():
            p.add_(0.05)
    task = RegressionTask(mean=-40.0, std=10.0)
    train_idx = np.arange(32)
    batch = regression_store.batch(train_idx)
    ref_before = pruner.reference(batch).detach()
    online_before = model(batch).detach()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)  # no update: the scores use these exact outputs
    plan = shuffled_plan(np.random.default_rng(0), np.arange(32))
    train_epoch(model, optimizer, regression_store, train_idx, plan, 32, task, torch.device("cpu"),
                PrunerDriver(pruner))
    expected = (task.per_sample_loss(online_before, batch.y) - task.per_sample_loss(ref_before, batch.y)).abs()
    assert np.allclose(pruner.scores, expected.numpy(), atol=1e-6)
    assert torch.equal(pruner.reference.readout.weight, model.readout.weight)
    enc_ref = pruner.reference.encoder.embedding.weight
    assert not torch.equal(enc_ref, model.encoder.embedding.weight)  # averaged, not copied
