"""GraphMAE and GraphCL objectives: masking, decoder re-masking, the two losses against hand values."""

import math

import numpy as np
import pytest
import torch

from molpeg_bench.benchmark.data.dataset import featurize_smiles
from molpeg_bench.benchmark.data.featurize import MASK_ATOM_ID
from molpeg_bench.benchmark.models.gin import GINConfig
from molpeg_bench.pretrain.graphcl import GraphCL, nt_xent
from molpeg_bench.pretrain.graphmae import (
    NUM_TARGET_TYPES,
    AtomDecoder,
    GraphMAE,
    choose_masked_atoms,
    reconstruction_loss,
    sce_loss,
)

SMILES = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "C1CCCCC1N", "[Na+].[Cl-]", "C", "OC(=O)C(N)Cc1ccccc1",
          "CN1C=NC2=C1C(=O)N(C(=O)N2C)C"]
TINY = GINConfig(num_layers=2, emb_dim=16, dropout=0.0)


@pytest.fixture(scope="module")
def batch():
    store = featurize_smiles(SMILES, np.zeros((len(SMILES), 0), np.float32), {})
    return store.batch(range(len(store)))


def test_sce_loss_matches_formula_on_hand_example():
    pred = torch.tensor([[1.0, 0.0], [1.0, 1.0], [0.0, 2.0]])
    target = torch.tensor([[3.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    cos = [1.0, 1 / math.sqrt(2), 0.0]
    for gamma in (1.0, 2.0, 3.0):
        expected = sum((1 - c) ** gamma for c in cos) / 3
        assert sce_loss(pred, target, gamma).item() == pytest.approx(expected, abs=1e-6)


def test_reconstruction_loss_only_sees_masked_atoms():
    g = torch.Generator().manual_seed(0)
    pred = torch.randn(10, NUM_TARGET_TYPES, generator=g)
    atom_type = torch.randint(0, 118, (10,), generator=g)
    masked = torch.zeros(10, dtype=torch.bool)
    masked[[1, 4, 7]] = True
    loss = reconstruction_loss(pred, atom_type, masked)
    other = pred.clone()
    other[~masked] = torch.randn(7, NUM_TARGET_TYPES, generator=g)
    assert torch.equal(reconstruction_loss(other, atom_type, masked), loss)
    other[4] += 1.0
    assert reconstruction_loss(other, atom_type, masked) != loss
    onehot = torch.nn.functional.one_hot(atom_type[masked], NUM_TARGET_TYPES).float()
    expected = sce_loss(pred[masked], onehot)
    assert torch.allclose(loss, expected)


def test_masking_count_and_mask_token(batch):
    model = GraphMAE(TINY)
    seen = {}
    model.encoder.register_forward_pre_hook(lambda _, args: seen.update(x=args[0].x.clone()))
    model.loss(batch, torch.Generator().manual_seed(3))
    masked = choose_masked_atoms(batch, 0.25, torch.Generator().manual_seed(3))  # the same draw
    n = torch.bincount(batch.batch)
    assert torch.equal(torch.bincount(batch.batch[masked], minlength=len(n)), (n * 0.25 + 1).long())
    assert (seen["x"][masked] == torch.tensor([MASK_ATOM_ID, 0])).all()
    assert torch.equal(seen["x"][~masked], batch.x[~masked])


def test_decoder_remasks_hidden_states_and_outputs_atom_types(batch):
    decoder = AtomDecoder(16)
    masked = choose_masked_atoms(batch, 0.25, torch.Generator().manual_seed(0))
    h = torch.randn(len(batch.x), 16)
    out = decoder(h, batch.edge_index, batch.edge_attr, masked)
    assert out.shape == (len(batch.x), NUM_TARGET_TYPES)
    h2 = h.clone()
    h2[masked] = torch.randn(int(masked.sum()), 16)  # masked atoms' states never reach the decoder GIN
    assert torch.equal(decoder(h2, batch.edge_index, batch.edge_attr, masked), out)


def test_graphmae_loss_backpropagates_into_encoder(batch):
    model = GraphMAE(TINY)
    loss = model.loss(batch, torch.Generator().manual_seed(0))
    loss.backward()
    assert 0 < loss.item() <= 2
    assert model.encoder.x_embedding1.weight.grad.abs().sum() > 0


def test_nt_xent_matches_hand_computation():
    z1 = torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    z2 = torch.tensor([[2.0, 0.0], [1.0, 1.0], [-1.0, 0.0]])
    t = 0.5

    def cos(a, b):
        return sum(x * y for x, y in zip(a, b, strict=True)) / math.hypot(*a) / math.hypot(*b)

    expected = 0.0
    for i in range(3):
        pos = math.exp(cos(z1[i].tolist(), z2[i].tolist()) / t)
        neg = sum(math.exp(cos(z1[i].tolist(), z2[j].tolist()) / t) for j in range(3) if j != i)
        expected += -math.log(pos / neg) / 3
    assert nt_xent(z1, z2, t).item() == pytest.approx(expected, rel=1e-6)
    # two pairs: loss_i = -(s_ii - s_ij) / t
    two = -((cos([1, 0], [2, 0]) - cos([1, 0], [1, 1]))
            + (cos([0, 2], [1, 1]) - cos([0, 2], [2, 0]))) / (2 * t)
    assert nt_xent(z1[:2], z2[:2], t).item() == pytest.approx(two, rel=1e-6)
    with pytest.raises(ValueError):
        nt_xent(z1[:1], z2[:1])


def test_graphcl_defaults_and_loss(batch):
    model = GraphCL(TINY)
    assert model.augs == ("random", "random") and model.aug_ratio == 0.2 and model.temperature == 0.1
    assert [type(m).__name__ for m in model.projection_head] == ["Linear", "ReLU", "Linear"]
    loss = model.loss(batch, torch.Generator().manual_seed(0))
    loss.backward()
    assert torch.isfinite(loss) and model.encoder.x_embedding1.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="unknown augmentation"):
        GraphCL(TINY, aug1="rotate")
