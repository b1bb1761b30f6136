"""The folded eval path (``benchmark.models.gin_inference``) gives the logits of the model it folds, and
only takes over where it is exact."""

from __future__ import annotations

import copy

import pytest
import torch

from molpeg_bench.benchmark.models import GINConfig, GraphPredictor
from molpeg_bench.benchmark.models.gin_inference import evaluation_logits, foldable, folded_logits
from tests.support.data import make_small_store


def _trained_like(config: GINConfig, num_tasks: int = 2) -> GraphPredictor:
    """A predictor whose BatchNorms hold non-trivial running statistics and affine parameters."""
    torch.manual_seed(0)
    model = GraphPredictor(num_tasks, config)
    for bn in model.encoder.batch_norms:
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.data.uniform_(0.5, 1.5)
        bn.bias.data.uniform_(-0.3, 0.3)
    return model.eval()


@pytest.mark.parametrize("config", [GINConfig(5, 32, 0.5), GINConfig(2, 16, 0.0)], ids=["5x32", "2x16"])
def test_folded_logits_equal_the_model_in_eval_mode(config):
    store = make_small_store()
    model = _trained_like(config)
    batch = store.batch(list(range(len(store))))
    with torch.inference_mode():
        expected = model(batch)
    got = folded_logits(model, batch)
    assert got.shape == expected.shape == (len(store), 2)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)


def test_a_molecule_without_atoms_gets_the_head_of_a_zero_embedding():
    store = make_small_store()
    model = _trained_like(GINConfig(3, 16, 0.0))
    batch = store.batch([0, 1])
    empty = copy.copy(batch)
    empty.num_graphs = 3  # a third molecule with no atoms: mean pooling gives it 0, as in forward
    with torch.inference_mode():
        expected = model(empty)
    torch.testing.assert_close(folded_logits(model, empty), expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(expected[2], model.head.bias.detach())


def test_only_an_eval_mode_last_layer_gin_is_folded():
    model = _trained_like(GINConfig(3, 16, 0.0))
    assert foldable(model)
    assert not foldable(copy.deepcopy(model).train())
    assert not foldable(_trained_like(GINConfig(3, 16, 0.0, jk="sum")))
    stats_free = copy.deepcopy(model)
    stats_free.encoder.batch_norms[1].running_mean = None
    assert not foldable(stats_free)
    summed = _trained_like(GINConfig(3, 16, 0.0, jk="sum"))
    batch = make_small_store().batch([0, 1, 2])
    with torch.inference_mode():
        torch.testing.assert_close(evaluation_logits(summed, batch), summed(batch))
