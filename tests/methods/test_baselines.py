import numpy as np
import pytest
import torch

from molpeg_bench.methods import budget, make_pruner


def test_budget_rounding_rules():
    assert budget(32901, 0.1) == 3290 and budget(32901, 0.1, "round") == 3290
    assert budget(10, 1 - 0.7) == 3  # 0.30000000000000004 / 0.29999999999999993 both give 3
    assert budget(15, 0.5, "floor") == 7 and budget(15, 0.5, "round") == 8
    with pytest.raises(ValueError, match="rounding"):
        budget(10, 0.5, "ceil")


def test_infobatch_keeps_all_above_mean_and_reweights_kept_below_mean():
    p = make_pruner("infobatch", n_samples=10, keep_ratio=0.5, seed=0)
    # epoch 1: all scores equal -> nothing is below the mean -> all data, weight 1
    first = p.plan_epoch(1)
    assert sorted(first.indices) == list(range(10)) and np.all(first.weights == 1.0)
    losses = torch.tensor([0.1, 0.2, 0.1, 0.2, 0.1, 0.2, 2.0, 3.0, 4.0, 5.0])  # mean 1.31
    p.observe(np.arange(10), losses)
    plan = p.plan_epoch(2)
    w = dict(zip(plan.indices.tolist(), plan.weights.tolist(), strict=True))
    assert {6, 7, 8, 9} <= set(w) and all(w[i] == 1.0 for i in (6, 7, 8, 9))
    low = [i for i in w if i < 6]
    assert len(low) == int(0.5 * 6) and all(w[i] == pytest.approx(2.0) for i in low)  # 1/(1-r)
    assert plan.info["kept_fraction"] == pytest.approx(0.7)  # nominal r: 30 % pruned, not 50 %
    assert len(set(plan.indices.tolist())) == len(plan.indices)


def test_infobatch_prune_ratio_is_clipped_and_matched_budget_reaches_target():
    nominal = make_pruner("infobatch", n_samples=100, keep_ratio=0.05, seed=0)
    matched = make_pruner("infobatch", n_samples=100, keep_ratio=0.4, seed=0, options={"budget": "matched"})
    scores = torch.linspace(0, 1, 100) ** 4  # skewed: most samples below the mean
    for p in (nominal, matched):
        p.observe(np.arange(100), scores)
    assert nominal.plan_epoch(2).info["prune_probability"] == pytest.approx(0.9)
    plan = matched.plan_epoch(2)
    assert len(plan.indices) == pytest.approx(40, abs=1)
    assert set(range(70, 100)) & set(plan.indices.tolist()) == set(range(70, 100)) - set()  # high losses kept


def test_soft_random_without_and_with_replacement():
    p = make_pruner("soft_random", n_samples=50, keep_ratio=0.4, seed=3)
    a, b = p.plan_epoch(1), p.plan_epoch(2)
    assert len(a.indices) == 20 == len(set(a.indices.tolist()))
    assert set(a.indices.tolist()) != set(b.indices.tolist())
    assert np.array_equal(a.indices, p.plan_epoch(1).indices)  # per-epoch RNG: reproducible
    q = make_pruner("soft_random", n_samples=50, keep_ratio=0.8, seed=3, options={"replace": True})
    plan = q.plan_epoch(1)
    assert len(plan.indices) == 40 and plan.info["unique_fraction"] < 0.8


def test_static_random_selects_k_unique_seeded():
    sel = make_pruner("random", n_samples=100, keep_ratio=0.3, seed=1).select()
    assert len(sel.indices) == 30 == len(np.unique(sel.indices))
    again = make_pruner("random", n_samples=100, keep_ratio=0.3, seed=1).select()
    other = make_pruner("random", n_samples=100, keep_ratio=0.3, seed=2).select()
    assert np.array_equal(sel.indices, again.indices) and not np.array_equal(sel.indices, other.indices)


def test_unknown_method_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown method 'molpig'"):
        make_pruner("molpig", n_samples=10, keep_ratio=0.5)
