"""ε-greedy and UCB: epoch 1 is a uniform random subset; then the hardest by score plus exploration."""

import numpy as np
import pytest
import torch

from molpeg_bench.methods import make_pruner


def test_epsilon_greedy_first_epoch_uniform_then_hardest_plus_random():
    p = make_pruner("epsilon_greedy", n_samples=100, keep_ratio=0.2, seed=4)
    first = p.plan_epoch(1)
    assert len(set(first.indices.tolist())) == 20 and first.info["exploration"] == "uniform"
    assert set(first.indices.tolist()) != set(range(20))  # not argsort order
    losses = np.linspace(0.0, 1.0, 100)
    p.observe(np.arange(100), torch.tensor(losses))
    assert np.allclose(p.scores, 0.2 * 1.0 + 0.8 * losses)  # EMA with α = 0.8 from the initial score 1
    plan = p.plan_epoch(2)
    kept = set(plan.indices.tolist())
    assert len(kept) == 20 and set(range(82, 100)) <= kept  # 18 greedy = the highest scores
    assert len(kept - set(range(82, 100))) == 2  # ⌊0.1·20⌋ explored elsewhere
    seen = set()
    for epoch in range(3, 40):
        seen |= set(p.plan_epoch(epoch).indices.tolist()) - set(range(82, 100))
    assert len(seen) > 30  # exploration is random across epochs


def test_ucb_bound_and_update_order():
    p = make_pruner("ucb", n_samples=6, keep_ratio=0.5, seed=0)
    assert p.plan_epoch(1).info["exploration"] == "uniform"
    p.observe(np.arange(6), torch.tensor([1.0, 1.0, 1.0, 0.0, 0.0, 0.0]))
    p.observe(np.arange(6), torch.tensor([1.0, 0.0, 3.0, 0.0, 2.0, 0.0]))
    mu1, v1 = 0.8 * np.array([1, 1, 1, 0, 0, 0.0]), 0.8 * np.array([1, 1, 1, 0, 0, 0.0])
    x = np.array([1.0, 0.0, 3.0, 0.0, 2.0, 0.0])
    v2 = 0.2 * v1 + 0.8 * (x - mu1) ** 2  # variance with the pre-update mean
    mu2 = 0.2 * mu1 + 0.8 * x
    assert np.allclose(p.var, v2) and np.allclose(p.mean, mu2)
    bound = mu2 + np.sqrt(v2)
    assert set(p.plan_epoch(2).indices.tolist()) == set(np.argsort(-bound)[:3].tolist())
    q = make_pruner("ucb", n_samples=6, keep_ratio=0.5, options={"bound": "variance", "c": 2.0})
    q.load_state_dict(p.state_dict())
    assert set(q.plan_epoch(2).indices.tolist()) == set(np.argsort(-(mu2 + 2 * v2))[:3].tolist())


@pytest.mark.parametrize("name", ["epsilon_greedy", "ucb"])
def test_full_pass_signal_reads_only_the_score_pass(name):
    p = make_pruner(name, n_samples=10, keep_ratio=0.3, options={"score_signal": "full_pass"})
    assert p.needs_score_pass
    state = p.state_dict()
    p.observe(np.arange(10), torch.arange(10.0))
    assert all(np.array_equal(state[k], v) for k, v in p.state_dict().items())
    p.score_pass(np.arange(10), torch.arange(10.0))
    assert set(p.plan_epoch(2).indices.tolist()) >= {9, 8}
    assert not make_pruner(name, n_samples=10, keep_ratio=0.3).needs_score_pass


def test_bad_options_are_rejected():
    with pytest.raises(ValueError, match="score_signal"):
        make_pruner("ucb", n_samples=10, keep_ratio=0.3, options={"score_signal": "loss"})
    with pytest.raises(ValueError, match="epsilon"):
        make_pruner("epsilon_greedy", n_samples=10, keep_ratio=0.3, options={"epsilon": 1.5})
