"""Known answers for every dynamic method, driven like the training loop drives them: plan an epoch, observe
the per-sample losses of what it trains, plan the next. Each method must rotate through the whole training
set and follow its scores as they change; ``python -m tests.mutation`` checks that a reversed ranking, a
budget off by one, scores frozen after the first epoch, a frozen subset or dropped / inverted loss weights
all fail here."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from molpeg_bench.methods import make_pruner
from tests.mutation.registry import known_answer


def plan_sets(pruner, epochs: int, loss_of) -> list[set[int]]:
    """Drive ``pruner`` for ``epochs`` epochs; ``loss_of(indices, epoch)`` gives the observed losses."""
    sets = []
    for epoch in range(1, epochs + 1):
        plan = pruner.plan_epoch(epoch)
        assert len(plan.indices) == pruner.k == len(np.unique(plan.indices)), "not exactly k unique samples"
        sets.append(set(plan.indices.tolist()))
        pruner.observe(plan.indices, torch.as_tensor(loss_of(plan.indices, epoch)))
    return sets


def decaying_losses(n: int, seed: int = 0):
    """A loss per sample that shrinks each time the sample is trained, plus noise: what training does."""
    rng = np.random.default_rng(seed)
    base, trained = rng.uniform(0.2, 2.0, n), np.zeros(n)

    def loss_of(indices: np.ndarray, epoch: int) -> np.ndarray:
        trained[indices] += 1
        return base[indices] * 0.8 ** trained[indices] + rng.uniform(0, 0.05, len(indices))

    return loss_of


def assert_rotates(sets: list[set[int]], n: int) -> None:
    assert set().union(*sets) == set(range(n)), "some samples were never trained"
    assert all(a != b for a, b in zip(sets, sets[1:], strict=False)), "two consecutive epochs kept the same set"


@known_answer("ucb")
def test_ucb_trains_every_sample_and_never_repeats_an_epoch():
    pruner = make_pruner("ucb", n_samples=2000, keep_ratio=0.4, seed=0)
    sets = plan_sets(pruner, 20, decaying_losses(2000))
    assert_rotates(sets, 2000)
    assert len(sets[0] | sets[1] | sets[2]) == 2000  # unseen samples first: everything within ⌈1/r⌉ epochs


@known_answer("ucb")
def test_ucb_keeps_the_highest_upper_bounds_once_everything_was_seen():
    pruner = make_pruner("ucb", n_samples=10, keep_ratio=0.5, seed=1)
    losses = np.arange(10) / 10.0
    first, second = plan_sets(pruner, 2, lambda idx, e: losses[idx])
    assert first | second == set(range(10)) and not first & second  # the unseen half comes second
    # every sample seen once: μ = 0.8ℓ, v = 0.8ℓ², bound = (0.8 + √0.8)ℓ, increasing in ℓ
    assert set(pruner.plan_epoch(3).indices.tolist()) == {5, 6, 7, 8, 9}
    new = losses[::-1].copy()
    pruner.observe(np.arange(10), torch.as_tensor(new))  # v uses the pre-update mean, then μ moves
    mean, var = 0.8 * losses, 0.8 * losses ** 2
    bound = 0.2 * mean + 0.8 * new + np.sqrt(0.2 * var + 0.8 * (new - mean) ** 2)
    assert set(pruner.plan_epoch(4).indices.tolist()) == set(np.argsort(-bound)[:5].tolist()) == {0, 1, 2, 3, 9}


@known_answer("epsilon_greedy")
def test_epsilon_greedy_follows_the_scores_and_explores():
    pruner = make_pruner("epsilon_greedy", n_samples=20, keep_ratio=0.5, seed=2, options={"epsilon": 0.2})
    assert len(pruner.plan_epoch(1).indices) == 10
    losses = np.arange(20) / 20.0
    pruner.observe(np.arange(20), torch.as_tensor(losses))
    kept = set(pruner.plan_epoch(2).indices.tolist())
    assert len(kept) == 10 and set(range(12, 20)) <= kept  # 8 greedy = highest EMA scores, 2 explored
    pruner.observe(np.arange(20), torch.as_tensor(losses[::-1].copy()))  # scores 0.2·0.2ℓ + 0.8ℓ' reverse the order
    kept = set(pruner.plan_epoch(3).indices.tolist())
    assert len(kept) == 10 and set(range(0, 8)) <= kept
    sets = plan_sets(make_pruner("epsilon_greedy", n_samples=200, keep_ratio=0.3, seed=3), 12, decaying_losses(200))
    assert_rotates(sets, 200)


@known_answer("infobatch")
def test_infobatch_prunes_only_well_learned_samples_and_reweights_them():
    keep = 0.3  # r = 0.7: the weight 1/(1 − r) = 1/0.3, not 1/r
    pruner = make_pruner("infobatch", n_samples=20, keep_ratio=keep, seed=4)
    first = pruner.plan_epoch(1)
    assert sorted(first.indices.tolist()) == list(range(20)) and np.all(first.weights == 1.0)
    losses = np.where(np.arange(20) < 14, 0.1, 2.0)  # 14 well learned (below the mean)
    pruner.observe(np.arange(20), torch.as_tensor(losses))
    plan = pruner.plan_epoch(2)
    weights = dict(zip(plan.indices.tolist(), plan.weights.tolist(), strict=True))
    assert all(weights.get(i) == 1.0 for i in range(14, 20))
    low = [i for i in weights if i < 14]
    assert len(low) == int(0.3 * 14) == 4 and np.allclose([weights[i] for i in low], 1 / 0.3)
    assert plan.info["kept_fraction"] == pytest.approx(10 / 20)
    pruner.observe(np.arange(20), torch.as_tensor(losses[::-1].copy()))  # now the first six are the hard ones
    plan = pruner.plan_epoch(3)
    assert set(range(6)) <= set(plan.indices.tolist()) and len(plan.indices) == 6 + int(0.3 * 14)
    seen = set()
    for epoch in range(4, 30):  # the kept well-learned share rotates
        seen |= set(pruner.plan_epoch(epoch).indices.tolist())
    assert seen == set(range(20))


@known_answer("molpeg")
def test_molpeg_sweeps_unvisited_samples_then_keeps_both_ends_of_the_gap():
    pruner = make_pruner("molpeg", n_samples=10, keep_ratio=0.4, seed=5)
    pruner.setup(torch.nn.Linear(1, 1))
    delta = np.array([0.5, -0.6, 0.01, 0.02, -0.03, 0.04, 0.7, -0.05, 0.02, -0.4])

    def observe(plan) -> None:
        idx = plan.indices
        pruner.observe(idx, torch.as_tensor(delta[idx] + 1.0), torch.full((len(idx),), 1.0, dtype=torch.float64))

    plans = []
    for epoch in (1, 2, 3):
        plans.append(pruner.plan_epoch(epoch))
        observe(plans[-1])
    assert [sorted(p.indices.tolist()) for p in plans[:2]] == [[0, 1, 2, 3], [4, 5, 6, 7]]  # unvisited first
    assert set(plans[2].indices.tolist()) == {8, 9, 6, 1}  # the last unvisited, then the largest |Δ|
    assert all(np.allclose(p.weights, 1 / 0.4) for p in plans)
    assert set(pruner.plan_epoch(4).indices.tolist()) == {6, 1, 0, 9}  # both ends: Δ 0.7, −0.6, 0.5, −0.4
    delta[:] = 0.01
    delta[[2, 3]] = [0.9, -0.9]
    observe(pruner.plan_epoch(4))  # the gaps of what it trained changed
    assert {7, 5, 4} <= set(pruner.plan_epoch(5).indices.tolist())  # 2 and 3 not re-observed: old, small gaps
    pruner.observe(np.arange(10), torch.as_tensor(delta + 1.0), torch.ones(10, dtype=torch.float64))
    assert {2, 3} <= set(pruner.plan_epoch(6).indices.tolist())


@known_answer("soft_random")
def test_soft_random_draws_a_fresh_uniform_subset_every_epoch():
    pruner = make_pruner("soft_random", n_samples=50, keep_ratio=0.4, seed=6)
    sets = plan_sets(pruner, 30, lambda idx, e: np.ones(len(idx)))
    assert_rotates(sets, 50)
    counts = np.bincount(np.concatenate([list(s) for s in sets]), minlength=50)
    assert counts.min() >= 4 and counts.max() <= 22  # about 0.4 · 30 = 12 visits each


class _EncoderHead(torch.nn.Module):
    """f(x) = head · encoder · x with scalar weights: the EMA of each is one number to follow by hand."""

    def __init__(self, encoder: float, head: float):
        super().__init__()
        self.encoder, self.head = torch.nn.Linear(1, 1, bias=False), torch.nn.Linear(1, 1, bias=False)
        self.set(encoder, head)

    def set(self, encoder: float, head: float) -> None:
        with torch.no_grad():
            self.encoder.weight.fill_(encoder)
            self.head.weight.fill_(head)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder(x))


def check_reference_ema(convention: str, expected: list[float]) -> None:
    """Three optimizer steps of a two-parameter model at β = 0.25: the reference's encoder weight after each,
    its copied head and its forward pass."""
    online = _EncoderHead(1.0, 1.0)
    pruner = make_pruner("molpeg", n_samples=4, keep_ratio=0.5, options={"beta": 0.25, "ema_convention": convention})
    pruner.setup(online)
    x = torch.tensor([[1.0], [2.0]])
    for step, (theta, head) in enumerate([(3.0, 2.0), (5.0, 0.5), (5.0, 4.0)]):
        online.set(theta, head)
        pruner.after_step(online)
        assert pruner.reference.encoder.weight.item() == expected[step]  # exact in binary: no rounding
        assert pruner.reference.head.weight.item() == head  # the shared head is copied, not averaged
        assert torch.equal(pruner.reference_forward(x), head * expected[step] * x)


@known_answer("molpeg")
def test_molpeg_reference_follows_eq1_step_by_step_at_beta_one_quarter():
    # paper (Eq. 1), ξ ← β·θ + (1 − β)·ξ with β = 0.25 from ξ = 1: θ = 3 → 1.5, 5 → 2.375, 5 → 3.03125
    check_reference_ema("paper", [1.5, 2.375, 3.03125])


@known_answer("molpeg")
def test_molpeg_reference_follows_the_codes_ema_step_by_step_at_beta_one_quarter():
    # official code, ξ ← β·ξ + (1 − β)·θ: 3 → 2.5, 5 → 4.375, 5 → 4.84375
    check_reference_ema("code", [2.5, 4.375, 4.84375])


@known_answer("molpeg")
def test_molpeg_hard_and_easy_keep_the_signed_ends_of_online_minus_reference():
    """Figure 3's criteria read the sign of Δ = ℓ(online) − ℓ(reference): hard keeps the most positive,
    easy the most negative; an unvisited sample comes first under both."""
    delta = np.array([0.3, -0.5, 0.1, -0.2, 0.4, 0.0])
    reference = np.array([1.0, 2.0, 0.5, 1.5, 0.2, 0.7])
    for criterion, expected in (("hard", {4, 0}), ("easy", {1, 3})):
        pruner = make_pruner("molpeg", n_samples=7, keep_ratio=3 / 7, options={"criterion": criterion})
        pruner.setup(torch.nn.Linear(1, 1))
        pruner.observe(np.arange(6), torch.as_tensor(reference + delta), torch.as_tensor(reference))
        assert set(pruner.plan_epoch(1).indices.tolist()) == expected | {6}
