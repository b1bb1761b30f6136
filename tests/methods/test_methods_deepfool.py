"""DeepFool perturbs the node input embeddings: analytic distance on a model linear in u, sign flips
on a small nonlinear GNN-like model, valid-head restriction, and selection through a context."""

import numpy as np
import pytest
import torch

from molpeg_bench.methods import make_pruner
from molpeg_bench.methods.deepfool import deepfool_batch
from tests.support.context import FakeContext, linear_head
from tests.support.input_batches import W, embedding_batch, linear_in_u, sum_pool


def test_score_equals_analytic_distance_on_a_model_linear_in_u():
    sizes = [1, 3, 5, 2]
    batch = embedding_batch(sizes, 3, linear_in_u)
    z = linear_in_u(batch.node_embeddings, batch.node_graph, 4)
    # ∇_u z_bt = w_t on every node of b ⇒ distance² to the boundary of head t = z_bt² / (n_b ‖w_t‖²)
    analytic = (z ** 2 / (torch.tensor(sizes)[:, None] * (W ** 2).sum(dim=1)[None])).min(dim=1).values.numpy()
    heads = torch.ones(4, 2, dtype=torch.bool)
    scores, _ = deepfool_batch(batch, heads, max_iter=50, overshoot=0.0)
    assert np.allclose(scores, analytic, rtol=1e-6)
    scores, r = deepfool_batch(batch, heads, max_iter=50, overshoot=0.02)
    assert np.allclose(scores, 1.02 ** 2 * analytic, rtol=1e-6)
    z_new = linear_in_u(batch.node_embeddings + r, batch.node_graph, 4)
    assert bool(((z_new * z) < 0).any(dim=1).all())  # every molecule crossed a boundary
    # the perturbation lives on the nodes: spread equally over a molecule's atoms for a linear model
    assert torch.allclose(r[1:4], r[1:2].expand(3, 3))


def test_valid_heads_only_are_considered():
    batch = embedding_batch([2, 2], 3, linear_in_u, seed=1)
    z = linear_in_u(batch.node_embeddings, batch.node_graph, 2)
    dist = (z ** 2 / (2 * (W ** 2).sum(dim=1)[None])).numpy()
    only_head1 = torch.tensor([[False, True], [False, True]])
    scores, _ = deepfool_batch(batch, only_head1, max_iter=50, overshoot=0.0)
    assert np.allclose(scores, dist[:, 1], rtol=1e-6)


class TinyGNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.node = torch.nn.Linear(3, 8).double()
        self.head = torch.nn.Linear(8, 2).double()

    def forward(self, u, node_graph, n_graphs):
        return self.head(sum_pool(torch.tanh(self.node(u)), node_graph, n_graphs) / 3)


def test_nonlinear_model_is_flipped_and_selection_keeps_smallest_perturbations():
    model = TinyGNN()
    batches = [embedding_batch([2, 3, 4], 3, model, seed=s, start=3 * s) for s in range(3)]
    heads = torch.ones(3, 2, dtype=torch.bool)
    for b in batches:
        scores, r = deepfool_batch(b, heads, max_iter=50, overshoot=0.02)
        z0 = b.forward(b.node_embeddings)
        z1 = b.forward(b.node_embeddings + r)
        assert bool(((z0 * z1) < 0).any(dim=1).all()) and np.all(scores > 0)
    labels = np.ones((9, 2))
    ctx = FakeContext(h=np.zeros((9, 1)), labels=labels, head=linear_head(np.zeros((2, 1)), np.zeros(2)),
                      batches=batches)
    pruner = make_pruner("deepfool", n_samples=9, keep_ratio=1 / 3)
    sel = pruner.select(ctx)
    assert set(sel.indices) == set(np.argsort(sel.scores)[:3].tolist())
    assert type(pruner).requirements(pruner.options).needs_input_grads


def test_molecules_that_crossed_stop_being_computed_with_the_same_result():
    model, computed = TinyGNN(), []

    def counting(u, node_graph, n_graphs):
        computed.append(n_graphs)
        return model(u, node_graph, n_graphs)

    sizes = [2, 3, 4, 1, 5, 2, 3]
    whole = deepfool_batch(embedding_batch(sizes, 3, counting, seed=4), torch.ones(7, 2, dtype=torch.bool), 50, 0.02)
    graphs_whole, computed[:] = sum(computed), []
    parts = deepfool_batch(embedding_batch(sizes, 3, counting, seed=4, subsettable=True),
                           torch.ones(7, 2, dtype=torch.bool), 50, 0.02)
    assert np.allclose(parts[0], whole[0], rtol=1e-12) and torch.allclose(parts[1], whole[1], rtol=1e-12)
    assert computed[0] == 7 and sum(computed) < graphs_whole  # later passes skip the molecules that stopped


def test_missing_batches_are_an_error():
    ctx = FakeContext(h=np.zeros((4, 1)), labels=np.ones((4, 2)), head=linear_head(np.zeros((2, 1)), np.zeros(2)),
                      batches=[embedding_batch([2, 2], 3, linear_in_u)])
    with pytest.raises(ValueError, match="missed 2 training samples"):
        make_pruner("deepfool", n_samples=4, keep_ratio=0.5).select(ctx)


def test_regression_adaptation_is_inverse_input_sensitivity():
    sizes = [1, 4]
    ctx = FakeContext(h=np.zeros((2, 1)), labels=np.ones((2, 2)), head=linear_head(np.zeros((2, 1)), np.zeros(2)),
                      batches=[embedding_batch(sizes, 3, linear_in_u)], task_type="regression")
    pruner = make_pruner("deepfool", n_samples=2, keep_ratio=0.5)
    sel = pruner.select(ctx)
    expected = 1 / (np.sqrt(sizes) * float(torch.linalg.norm(W, dim=1).max()))
    assert np.allclose(sel.scores, expected) and sel.indices.tolist() == [1]
    assert "adapted" in pruner.describe() and pruner.describe()["adapted"].startswith("regression")
