import copy

import numpy as np
import pytest
import torch
from torch import nn

from molpeg_bench.methods import MolPeg, make_pruner


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


def _visited(n, keep, delta, **options):
    p = _pruner(n, keep, **options)
    p.observe(np.arange(n), torch.tensor(delta, dtype=torch.float64), torch.zeros(n, dtype=torch.float64))
    return p


def test_criteria_rank_the_signed_gap():
    delta = [0.5, -0.4, 0.1, -0.05, 0.3, -0.6]
    # Δ = ℓ(online) - ℓ(reference) is stored with its sign
    np.testing.assert_allclose(_visited(6, 1 / 3, delta).delta.numpy(), delta)
    assert sorted(_visited(6, 1 / 3, delta, criterion="hard").plan_epoch(1).indices) == [0, 4]
    assert sorted(_visited(6, 1 / 3, delta, criterion="easy").plan_epoch(1).indices) == [1, 5]
    assert sorted(_visited(6, 1 / 3, delta, criterion="absolute").plan_epoch(1).indices) == [0, 5]
    with pytest.raises(ValueError, match="criterion"):
        _pruner(criterion="easiest")


@pytest.mark.parametrize("criterion", ["absolute", "hard", "easy"])
def test_every_criterion_ranks_unvisited_samples_first_and_rotates(criterion):
    n, keep, epochs = 1000, 0.4, 20
    p = _pruner(n, keep, criterion=criterion)
    rng = np.random.default_rng(0)
    trained = np.zeros(n, dtype=bool)
    for epoch in range(1, epochs + 1):
        kept = p.plan_epoch(epoch).indices
        if epoch == 2:
            assert not trained[kept].any()  # never-scored samples come before every scored one
        trained[kept] = True
        gaps = torch.as_tensor(rng.uniform(-0.3, 0.3, len(kept)))
        p.observe(kept, gaps, torch.zeros(len(kept), dtype=torch.float64))
    assert trained.all() and p.describe()["distinct_trained"] == n > p.k


def test_unvisited_samples_precede_even_extreme_signed_gaps():
    p = _pruner(4, 0.5, criterion="easy")
    p.observe(np.array([0, 1]), torch.tensor([-5.0, -9.0]), torch.zeros(2))
    plan = p.plan_epoch(2)
    assert sorted(plan.indices) == [2, 3] and plan.info["distinct_scored_before"] == 2


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


class NormNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
        self.head = nn.Linear(4, 1)

    def forward(self, x):
        return self.head(self.body(x))


def _moved_statistics(net):
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(torch.randn(32, 3) * 3 + 2)  # the online model's running statistics move
    net.eval()


@pytest.mark.parametrize("buffers", ["ema", "copy"])
def test_eval_reference_running_statistics_follow_the_online_model(buffers):
    torch.manual_seed(0)
    net = NormNet()
    p = _pruner(reference_mode="eval", reference_buffers=buffers, beta=0.3)
    p.setup(net)
    before = p.reference.body[1].running_mean.clone()
    _moved_statistics(net)
    p.after_step(net)
    online = net.body[1].running_mean
    expected = online if buffers == "copy" else 0.3 * online + 0.7 * before
    torch.testing.assert_close(p.reference.body[1].running_mean, expected)
    assert p.reference.body[1].num_batches_tracked == net.body[1].num_batches_tracked
    assert p.describe()["options"]["reference_buffers"] == buffers


def test_eval_reference_with_beta_one_predicts_as_the_online_model():
    torch.manual_seed(0)
    net = NormNet()
    p = _pruner(reference_mode="eval", beta=1.0)
    p.setup(net)
    _moved_statistics(net)
    p.after_step(net)
    x = torch.randn(16, 3)
    with torch.no_grad():
        torch.testing.assert_close(p.reference_forward(x), net(x))
    frozen = _pruner(reference_mode="eval", beta=1.0, reference_buffers="frozen")
    frozen.setup(NormNet())
    frozen.after_step(net)
    assert torch.equal(frozen.reference.body[1].running_mean, torch.zeros(4))


def test_random_reference_init_is_the_official_gin_init():
    from molpeg_bench.benchmark.models import GINConfig, GraphPredictor

    torch.manual_seed(0)
    net = GraphPredictor(1, GINConfig(2, 300, 0.5))
    with torch.no_grad():
        for param in net.encoder.parameters():
            param.add_(1.0)  # a "pretrained" encoder, far from any initialisation
        net.encoder.batch_norms[0].running_mean.fill_(5.0)
    p = _pruner(reference_init="random")
    p.setup(net)
    enc = p.reference.encoder
    # official model/gnn.py: xavier-uniform atom/bond embeddings, std = sqrt(2 / (fan_in + fan_out))
    for emb in (enc.x_embedding1, enc.x_embedding2, enc.gnns[0].edge_embedding1, enc.gnns[1].edge_embedding2):
        rows, cols = emb.weight.shape
        bound = (6 / (rows + cols)) ** 0.5
        assert emb.weight.abs().max() <= bound
        assert abs(emb.weight.std().item() - bound / 3 ** 0.5) < 0.15 * bound
    lin = enc.gnns[1].mlp[2]  # PyTorch's Linear default: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    assert lin.weight.abs().max() <= 1 / lin.in_features ** 0.5
    assert torch.equal(enc.batch_norms[0].running_mean, torch.zeros(300))
    assert torch.equal(enc.batch_norms[0].weight, torch.ones(300))
    assert torch.equal(p.reference.head.weight, net.head.weight)  # the shared head is not redrawn


def test_loss_weight_options_and_validation():
    assert np.allclose(_pruner(keep=0.4, loss_weight="none").plan_epoch(1).weights, 1.0)
    assert np.allclose(_pruner(keep=0.4, loss_weight="inverse_keep_squared").plan_epoch(1).weights, 6.25)
    with pytest.raises(ValueError, match="ema_convention"):
        _pruner(ema_convention="sideways")
    with pytest.raises(ValueError, match="unknown option"):
        make_pruner("molpeg", n_samples=10, keep_ratio=0.5, options={"betta": 0.1})


def test_load_state_dict_before_setup_restores_the_reference():
    torch.manual_seed(0)
    p = _pruner()
    p.setup(TinyNet())
    p.observe(np.array([1, 2]), torch.tensor([0.5, 0.5]), torch.tensor([0.1, 0.7]))
    state = copy.deepcopy(p.state_dict())
    q = _pruner()
    q.load_state_dict(state)  # resume order: pruner state first, model afterwards
    assert torch.equal(q.state_dict()["reference"]["body.0.weight"], p.reference.body[0].weight)
    q.setup(TinyNet())
    assert torch.equal(q.reference.body[0].weight, p.reference.body[0].weight)
    np.testing.assert_array_equal(q.delta.numpy(), p.delta.numpy())


def test_epoch_seeding_epoch_only_gives_every_run_seed_the_same_epochs():
    from molpeg_bench.methods import SoftRandom

    def plans(seeding, cls, **options):
        return [tuple(cls(50, 0.4, seed=s, options={"epoch_seeding": seeding, **options}).plan_epoch(3).indices)
                for s in (0, 1)]

    for cls, options in ((MolPeg, {"tie_break": "random"}), (SoftRandom, {})):
        same, different = plans("epoch_only", cls, **options), plans("run", cls, **options)
        assert same[0] == same[1] and different[0] != different[1]
    assert MolPeg(5, 0.4, options={"epoch_seeding": "epoch_only"}).describe()["options"]["epoch_seeding"] \
        == "epoch_only"
    with pytest.raises(ValueError, match="epoch_seeding"):
        MolPeg(5, 0.4, options={"epoch_seeding": "global"})


def test_state_dict_roundtrip_restores_scores_and_reference():
    torch.manual_seed(0)
    net = TinyNet()
    p = _pruner()
    p.setup(net)
    p.observe(np.array([1, 2]), torch.tensor([0.5, 0.5]), torch.tensor([0.1, 0.7]))
    state = copy.deepcopy(p.state_dict())
    q = _pruner()
    q.setup(TinyNet())
    q.load_state_dict(state)
    assert np.array_equal(q.scores, p.scores)
    assert torch.equal(q.reference.body[0].weight, p.reference.body[0].weight)


def readme_loop(pruner, model, optimizer, loss_fn, x, y, epochs: int, seen=None) -> None:
    """The README's loop, as a user writes it (``seen`` counts each sample's visits)."""
    for epoch in range(1, epochs + 1):
        for idx, w in pruner.plan_epoch(epoch).batches(32):
            loss = loss_fn(model(x[idx]).squeeze(1), y[idx])
            ref_loss = loss_fn(pruner.reference_forward(x[idx]).squeeze(1), y[idx])
            pruner.observe(idx, loss.detach(), ref_loss)
            (loss * torch.as_tensor(w)).mean().backward()
            optimizer.step()
            optimizer.zero_grad()
            pruner.after_step(model)
            if seen is not None:
                seen[idx] += 1


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
    readme_loop(pruner, model, optimizer, loss_fn, x, y, epochs=4, seen=seen)
    assert seen.sum() == 4 * 100
    assert (seen[:100] >= 1).all() and (seen[100:] >= 1).all()  # the first two epochs sweep all data
    assert (pruner.scores < 1.0).all() and not torch.isnan(pruner.delta).any()


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


def test_a_model_without_the_shared_head_is_warned_about_once_naming_the_option():
    plain = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))  # no submodule named "head"
    pruner = MolPeg(n_samples=10, keep_ratio=0.5)
    with pytest.warns(UserWarning, match=r"'shared'=\['head'\]: no parameter of the model is named 'head'"):
        pruner.setup(plain)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pruner.setup(plain)  # once per pruner
        MolPeg(n_samples=10, keep_ratio=0.5, options={"shared": ()}).setup(plain)  # averaging all, on purpose

        class Headed(nn.Module):
            def __init__(self):
                super().__init__()
                self.encoder, self.head = nn.Linear(3, 4), nn.Linear(4, 1)

        MolPeg(n_samples=10, keep_ratio=0.5).setup(Headed())


def test_the_readme_loop_makes_the_calls_of_the_one_driver():
    """The loop a user writes by hand (the README's) and ``PrunerDriver``, which drives every dynamic method in
    the suite's runs and in check-method, train the same model and leave the same scores: one order of calls."""
    from molpeg_bench.methods.driving import BatchForward, PrunerDriver

    def setup():
        torch.manual_seed(0)
        x, y = torch.randn(120, 3), (torch.rand(120) < 0.3).float()
        model = TinyNet()
        pruner = MolPeg(n_samples=len(x), keep_ratio=0.5)
        pruner.setup(model)
        return x, y, model, torch.optim.Adam(model.parameters(), lr=1e-2), pruner

    loss_fn = nn.BCEWithLogitsLoss(reduction="none")
    x, y, by_hand, optimizer, pruner = setup()
    readme_loop(pruner, by_hand, optimizer, loss_fn, x, y, epochs=3)

    x, y, driven, optimizer2, pruner2 = setup()
    driver = PrunerDriver(pruner2)

    def forward(idx):
        return BatchForward(loss_fn(driven(x[idx]).squeeze(1), y[idx]), x[idx],
                            lambda out: loss_fn(out.squeeze(1), y[idx]))

    def step(idx, w, fwd):
        (fwd.losses * torch.as_tensor(w)).mean().backward()
        optimizer2.step()
        optimizer2.zero_grad()

    for epoch in range(1, 4):
        driver.epoch(epoch, lambda plan: driver.train_batches(plan.batches(32), forward, step, driven),
                     lambda: loss_fn(driven(x).squeeze(1), y))
    assert np.array_equal(pruner.scores, pruner2.scores)
    for a, b in zip(by_hand.parameters(), driven.parameters(), strict=True):
        assert torch.equal(a, b)
    assert np.array_equal(pruner.plan_epoch(4).indices, pruner2.plan_epoch(4).indices)
