import copy

import numpy as np
import pytest
import torch
from torch import nn

from methods import MolPeg, make_pruner


class TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5))
        self.head = nn.Linear(4, 1)

    def forward(self, x):
        return self.head(self.body(x))


def _pruner(n=10, keep=0.4, **options):
    return MolPeg(n, keep, seed=0, options=options)


def test_keeps_exactly_the_top_k_gaps_and_unseen_samples_keep_their_score():
    p = _pruner(n=10, keep=0.4)
    # first epoch: every score is 1 -> stable tie-break trains indices 0..3 (index-chunk sweep)
    assert sorted(p.plan_epoch(1).indices) == [0, 1, 2, 3]
    p.observe(np.array([0, 1, 2, 3]), torch.tensor([0.9, 0.5, 0.2, 0.1]), torch.tensor([0.2, 0.35, 0.1, 0.6]))
    np.testing.assert_allclose(p.scores[:4], [0.7, 0.15, 0.1, 0.5], rtol=1e-6)
    assert (p.scores[4:] == 1.0).all()  # unvisited samples keep the initial score
    # the unvisited (score 1) outrank the visited, ties in index order
    assert sorted(p.plan_epoch(2).indices) == [4, 5, 6, 7]
    p.observe(np.arange(4, 10), torch.full((6,), 0.3), torch.tensor([0.3, 0.3, 0.3, 0.3, 0.35, 0.0]))
    # scores: 0:.7 1:.15 2:.1 3:.5 4-7:0 8:.05 9:.3  -> top-4 = {0, 3, 9, 1}
    plan = p.plan_epoch(3)
    assert sorted(plan.indices) == [0, 1, 3, 9]
    np.testing.assert_allclose(plan.weights, 1 / 0.4)


def test_selection_variants_easiest_and_both():
    scores = np.array([0.5, 0.1, 0.9, 0.3, 0.7, 0.2])
    easy, both = _pruner(6, 0.5, selection="easiest"), _pruner(6, 0.5, selection="both")
    easy.scores[:], both.scores[:] = scores, scores
    assert sorted(easy.plan_epoch(1).indices) == [1, 3, 5]
    assert sorted(both.plan_epoch(1).indices) == [1, 2, 4]  # two hardest + one easiest


def test_random_tie_break_depends_on_seed_and_stable_does_not():
    firsts = {tuple(sorted(MolPeg(100, 0.1, seed=s).plan_epoch(1).indices)) for s in range(3)}
    assert firsts == {tuple(range(10))}
    rand = {tuple(sorted(MolPeg(100, 0.1, seed=s, options={"tie_break": "random"}).plan_epoch(1).indices))
            for s in range(3)}
    assert len(rand) == 3


@pytest.mark.parametrize("convention", ["paper", "code"])
@pytest.mark.parametrize("beta", [0.1, 0.5, 0.9])
def test_ema_matches_the_formula(convention, beta):
    torch.manual_seed(0)
    online = TinyNet()
    p = _pruner(ema_convention=convention, beta=beta)
    p.setup(online)
    xi = {k: v.clone() for k, v in p.reference.named_parameters()}
    with torch.no_grad():
        for param in online.parameters():
            param.add_(torch.randn_like(param))
    p.after_step(online)
    theta = dict(online.named_parameters())
    for name, ref in p.reference.named_parameters():
        if name.startswith("head."):
            expected = theta[name]  # the head is shared: copied, not averaged
        elif convention == "paper":
            expected = beta * theta[name] + (1 - beta) * xi[name]
        else:
            expected = beta * xi[name] + (1 - beta) * theta[name]
        torch.testing.assert_close(ref, expected.detach())


def test_ema_conventions_differ_away_from_half():
    torch.manual_seed(0)
    nets = [TinyNet() for _ in range(2)]
    nets[1].load_state_dict(nets[0].state_dict())
    refs = []
    for conv, net in zip(["paper", "code"], nets, strict=True):
        p = _pruner(beta=0.1, ema_convention=conv)
        p.setup(net)
        with torch.no_grad():
            net.body[0].weight.add_(1.0)
        p.after_step(net)
        refs.append(p.reference.body[0].weight.clone())
    assert not torch.allclose(refs[0], refs[1])


def test_reference_init_and_mode_options():
    torch.manual_seed(0)
    net = TinyNet()
    pre = _pruner()
    pre.setup(net)
    assert torch.equal(pre.reference.body[0].weight, net.body[0].weight)
    rnd = _pruner(reference_init="random")
    rnd.setup(net)
    assert not torch.equal(rnd.reference.body[0].weight, net.body[0].weight)
    assert torch.equal(rnd.reference.head.weight, net.head.weight)  # shared head untouched
    x = torch.randn(64, 3)
    train_mode = [pre.reference_forward(x) for _ in range(2)]
    assert not torch.equal(*train_mode)  # dropout active in the reference (official code)
    ev = _pruner(reference_mode="eval")
    ev.setup(net)
    assert torch.equal(ev.reference_forward(x), ev.reference_forward(x))
    assert not any(p.requires_grad for p in ev.reference.parameters())


def test_loss_weight_options_and_validation():
    assert np.allclose(_pruner(keep=0.4, loss_weight="none").plan_epoch(1).weights, 1.0)
    assert np.allclose(_pruner(keep=0.4, loss_weight="inverse_keep_squared").plan_epoch(1).weights, 6.25)
    with pytest.raises(ValueError, match="ema_convention"):
        _pruner(ema_convention="sideways")
    with pytest.raises(ValueError, match="unknown option"):
        make_pruner("molpeg", n_samples=10, keep_ratio=0.5, options={"betta": 0.1})


def test_state_dict_roundtrip_restores_scores_and_reference():
    torch.manual_seed(0)
    net = TinyNet()
    p = _pruner()
    p.setup(net)
    p.observe(np.array([1, 2]), torch.tensor([0.5, 0.5]), torch.tensor([0.1, 0.2]))
    state = copy.deepcopy(p.state_dict())
    q = _pruner()
    q.setup(TinyNet())
    q.load_state_dict(state)
    assert np.array_equal(q.scores, p.scores)
    assert torch.equal(q.reference.body[0].weight, p.reference.body[0].weight)


def test_standalone_loop_from_the_readme():
    """The README example: MolPeg in a plain PyTorch loop on tensors, no suite code."""
    torch.manual_seed(0)
    x, y = torch.randn(200, 3), (torch.rand(200) < 0.3).float()
    model = TinyNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = nn.BCEWithLogitsLoss(reduction="none")

    pruner = MolPeg(n_samples=len(x), keep_ratio=0.5)
    pruner.setup(model)
    seen = np.zeros(len(x), dtype=int)
    for epoch in range(1, 5):
        for idx, w in pruner.plan_epoch(epoch).batches(32):
            loss = loss_fn(model(x[idx]).squeeze(1), y[idx])
            ref_loss = loss_fn(pruner.reference_forward(x[idx]).squeeze(1), y[idx])
            pruner.observe(idx, loss.detach(), ref_loss)
            (loss * torch.as_tensor(w)).mean().backward()
            optimizer.step()
            optimizer.zero_grad()
            pruner.after_step(model)
            seen[idx] += 1
    assert seen.sum() == 4 * 100
    assert (seen[:100] >= 1).all() and (seen[100:] >= 1).all()  # the first two epochs sweep all data
    assert (pruner.scores < 1.0).all()


def test_initial_score_zero_ranks_unvisited_samples_last():
    p = _pruner(n=6, keep=0.5, initial_score=0.0)
    p.observe(np.array([4, 5]), torch.tensor([0.5, 0.9]), torch.tensor([0.4, 0.1]))
    assert sorted(p.plan_epoch(2).indices) == [0, 4, 5]  # both visited, then index order among zeros


def test_no_shared_prefix_averages_the_head_too():
    torch.manual_seed(0)
    net = TinyNet()
    p = _pruner(shared=[], beta=0.5)  # lists from JSON configs are accepted
    p.setup(net)
    before = p.reference.head.weight.clone()
    with torch.no_grad():
        net.head.weight.add_(2.0)
    p.after_step(net)
    torch.testing.assert_close(p.reference.head.weight, before + 1.0)
