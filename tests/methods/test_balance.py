"""Class-balanced static selection (``balance=true``): the budget split over the classes in proportion to
their sizes, each class selected by the method's own rule."""

from __future__ import annotations

import numpy as np
import pytest

from molpeg_bench.methods import available_methods, get_method, make_pruner
from tests.support.context import FakeContext, linear_head
from tests.support.data import write_multitask_csv
from tests.support.input_batches import embedding_batch, linear_in_u

STATIC = [n for n in available_methods() if get_method(n).family == "static"]


def imbalanced_context() -> FakeContext:
    """100 molecules, 10 positives, all confidently predicted: a label-free method keeps none of them."""
    rng = np.random.default_rng(0)
    y = np.zeros(100)
    y[::10] = 1.0
    z = np.where(y == 1, 8.0, rng.uniform(-2.0, 2.0, 100))  # the negatives are the uncertain ones
    h = np.stack([z, rng.normal(size=100)], 1)
    ctx = FakeContext(h=h, labels=y[:, None], head=linear_head(np.array([[1.0, 0.0]]), np.zeros(1)),
                      h_valid=h[:30], valid_labels=y[:30, None], smiles=["CCO", "c1ccccc1"] * 50)
    ctx.correctness = [rng.random((100, 1)) > 0.3 for _ in range(20)]
    ctx.batches = [embedding_batch([2] * 50, 3, linear_in_u, seed=s, start=50 * s, subsettable=True) for s in (0, 1)]
    return ctx


@pytest.mark.parametrize("name", STATIC)
def test_balance_splits_the_budget_over_the_classes(name):
    ctx = imbalanced_context()
    pruner = make_pruner(name, n_samples=100, keep_ratio=0.2, options={"balance": True})
    sel = pruner.select(ctx)
    assert len(sel.indices) == 20 == len(np.unique(sel.indices))
    assert int((ctx.labels[sel.indices, 0] == 1).sum()) == 2  # 20 · 10/100
    assert [c["kept"] for c in sel.meta["balance"]] == [18, 2]


def test_balanced_least_confidence_ranks_within_each_class():
    ctx = imbalanced_context()
    unbalanced = make_pruner("least_confidence", n_samples=100, keep_ratio=0.2).select(ctx)
    assert (ctx.labels[unbalanced.indices, 0] == 1).sum() == 0  # label-free: no positive survives
    balanced = make_pruner("least_confidence", n_samples=100, keep_ratio=0.2, options={"balance": True}).select(ctx)
    negatives = np.flatnonzero(ctx.labels[:, 0] == 0)
    z = ctx.h[:, 0]
    expected = set(negatives[np.argsort(np.abs(z[negatives]))[:18]].tolist())
    assert expected <= set(balanced.indices.tolist())


def test_balance_needs_a_single_task_classification_dataset():
    ctx = FakeContext(h=np.zeros((10, 1)), labels=np.zeros((10, 2)), head=linear_head(np.zeros((2, 1)), np.zeros(2)))
    with pytest.raises(ValueError, match="random: balance=true needs a single-task classification dataset"):
        make_pruner("random", n_samples=10, keep_ratio=0.5, options={"balance": True}).select(ctx)


def test_balance_on_a_dataset_it_cannot_split_is_refused_before_the_warmup(tmp_path, monkeypatch):
    """A three-task CSV dataset with balance=true: one line naming the method, no warm-up trained."""
    from molpeg_bench.benchmark import run
    from molpeg_bench.benchmark.config import RunConfig

    monkeypatch.setenv("MOLPEG_CACHE_DIR", str(tmp_path / "cache"))
    config = RunConfig(method="el2n_20", prune_ratio=0.6, dataset=f"csv:{write_multitask_csv(tmp_path)}",
                       num_layers=2, emb_dim=16, epochs=1, batch_size=32,
                       method_options={"warmup_epochs": 2, "balance": True})
    with pytest.raises(ValueError, match="el2n_20: balance=true needs a single-task classification dataset"):
        run.run_finetune(config)
    warmups = tmp_path / "cache" / "warmups"
    assert not warmups.exists() or not any(warmups.iterdir())
