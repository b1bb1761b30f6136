"""Interaction graph against an O(n²) loop; PaiNN and SchNet invariance and equivariance."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from molpeg_bench.benchmark.models.atom_index import embedding_rows
from molpeg_bench.benchmark.models.interaction_graph import interaction_graph
from molpeg_bench.benchmark.models.painn import PaiNNConfig, PaiNNPredictor
from molpeg_bench.benchmark.models.schnet import SchNetConfig, SchNetPredictor


def _reference_graph(pos: torch.Tensor, batch: torch.Tensor, cutoff: float, cap: int | None) -> list[tuple]:
    edges = []
    for i in range(len(pos)):
        cand = [(float((pos[i] - pos[j]).norm()), j) for j in range(len(pos))
                if j != i and batch[j] == batch[i] and float((pos[i] - pos[j]).norm()) < cutoff]
        if cap is not None:
            cand = sorted(cand)[:cap]
        edges += [(j, i) for _, j in sorted(cand, key=lambda t: t[1])]
    return edges


@pytest.mark.parametrize("cap", [None, 3])
def test_interaction_graph_equals_quadratic_loop(cap):
    gen = torch.Generator().manual_seed(0)
    counts = [5, 1, 9, 4]
    batch = torch.repeat_interleave(torch.arange(4), torch.tensor(counts))
    pos = torch.rand(sum(counts), 3, generator=gen) * 4
    edge_index, dist = interaction_graph(pos, batch, cutoff=2.5, num_graphs=4, max_num_neighbors=cap)
    expected = _reference_graph(pos, batch, 2.5, cap)
    assert [tuple(e) for e in edge_index.T.tolist()] == expected
    assert torch.allclose(dist, (pos[edge_index[0]] - pos[edge_index[1]]).norm(dim=-1))
    if cap is not None:
        assert torch.bincount(edge_index[1]).max() <= cap
    assert len(expected) > 10  # the case exercises both the cutoff and the cap


def test_interaction_graph_clamps_coincident_atoms_and_rejects_bad_shapes():
    pos = torch.zeros(2, 3)
    _, dist = interaction_graph(pos, torch.zeros(2, dtype=torch.long), cutoff=1.0)
    assert torch.equal(dist, torch.full((2,), 1e-6))
    with pytest.raises(ValueError, match="pos must be"):
        interaction_graph(torch.zeros(2, 2), torch.zeros(2, dtype=torch.long), cutoff=1.0)


def _random_rotation(seed: int) -> torch.Tensor:
    q, _ = torch.linalg.qr(torch.randn(3, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64))
    return q * torch.sign(torch.det(q))


@pytest.fixture
def batch3d(small_store):
    gen = torch.Generator().manual_seed(1)
    store = small_store.with_positions(torch.randn(len(small_store.x), 3, generator=gen) * 1.5)
    return store.batch(np.arange(6))


def _moved(batch, rotation, shift):
    moved = batch.to("cpu")
    moved.pos = batch.pos.double() @ rotation.T + shift
    return moved


@pytest.mark.parametrize("kind", ["painn", "schnet"])
def test_outputs_invariant_to_rotation_and_translation(batch3d, kind):
    torch.manual_seed(0)
    model = (PaiNNPredictor(1, PaiNNConfig(hidden=16, num_layers=2, num_rbf=8)) if kind == "painn"
             else SchNetPredictor(1, SchNetConfig(hidden=16, num_filters=16, num_interactions=2, num_gaussians=10,
                                                  cutoff=5.0))).double()
    batch3d.pos = batch3d.pos.double()
    rotation = _random_rotation(3)
    out = model(batch3d)
    moved = model(_moved(batch3d, rotation, torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)))
    assert out.shape == (6, 1)
    assert torch.allclose(out, moved, atol=1e-9)
    assert torch.equal(model.head(model.embed(batch3d)), out)
    # a deformation (not a rigid motion) changes the output: the test can fail
    deformed = _moved(batch3d, torch.diag(torch.tensor([1.3, 1.0, 0.7], dtype=torch.float64)), 0.0)
    assert not torch.allclose(out, model(deformed), atol=1e-6)


def test_painn_vector_features_rotate_with_the_input(batch3d):
    torch.manual_seed(0)
    encoder = PaiNNPredictor(1, PaiNNConfig(hidden=8, num_layers=2, num_rbf=8)).double().encoder
    batch3d.pos = batch3d.pos.double()
    rotation = _random_rotation(5)
    s, v = encoder.atom_features(batch3d)
    s2, v2 = encoder.atom_features(_moved(batch3d, rotation, torch.tensor([3.0, 0.0, -1.0], dtype=torch.float64)))
    assert v.abs().max() > 1e-3  # non-trivial vector features
    assert torch.allclose(s, s2, atol=1e-9)
    assert torch.allclose(torch.einsum("ij,njf->nif", rotation, v), v2, atol=1e-9)


def test_3d_models_need_positions(small_store):
    with pytest.raises(ValueError, match="needs atom coordinates"):
        SchNetPredictor(1, SchNetConfig(hidden=8, num_filters=8, num_interactions=1))(small_store.batch([0]))


def test_atom_index_rows_of_each_indexing():
    z = torch.tensor([1, 6, 7, 8, 9, 15, 16, 17, 35, 0])  # H ... Cl, Br (outside GeoSSL's list), unknown
    assert embedding_rows(z, "atomic_number").tolist() == z.tolist()
    assert embedding_rows(z, "geossl_vocabulary").tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 8]
    assert embedding_rows(z, "atomic_number_minus_1").tolist() == [0, 5, 6, 7, 8, 14, 15, 16, 34, 0]
    with pytest.raises(ValueError, match="atom_index must be one of"):
        PaiNNConfig(atom_index="geom3d")


@pytest.mark.parametrize("atom_index", ["geossl_vocabulary", "atomic_number_minus_1"])
def test_geom3d_indexing_gives_hydrogen_a_frozen_zero_embedding(batch3d, atom_index):
    batch3d.x = batch3d.x.clone()
    batch3d.x[::3, 0] = 0  # every third atom becomes H (type id = Z - 1)
    torch.manual_seed(0)
    model = PaiNNPredictor(1, PaiNNConfig(hidden=8, num_layers=1, num_rbf=8, atom_index=atom_index))
    model(batch3d).sum().backward()
    weight = model.encoder.embedding.weight
    assert torch.equal(weight[0], torch.zeros(8)) and torch.equal(weight.grad[0], torch.zeros(8))
    carbon = embedding_rows(torch.tensor([6]), atom_index)
    assert weight.grad[carbon].abs().sum() > 0  # the other elements train
    # under the default indexing H has its own trained row
    default = PaiNNPredictor(1, PaiNNConfig(hidden=8, num_layers=1, num_rbf=8))
    default(batch3d).sum().backward()
    assert default.encoder.embedding.weight.grad[1].abs().sum() > 0


def test_checkpoint_of_another_atom_indexing_is_refused(tmp_path):
    from molpeg_bench.benchmark.models import load_encoder_checkpoint
    from molpeg_bench.pretrain.checkpoint import save_pretrained

    config = SchNetConfig(hidden=8, num_filters=8, num_interactions=1, num_gaussians=5)
    path = save_pretrained(SchNetPredictor(1, config).encoder, tmp_path / "enc.pt", {"atom_index": "atomic_number"})
    load_encoder_checkpoint(SchNetPredictor(1, config).encoder, path)
    other = SchNetPredictor(1, SchNetConfig(8, 8, 1, 5, atom_index="atomic_number_minus_1")).encoder
    with pytest.raises(ValueError, match="pretrained with atom_index='atomic_number'"):
        load_encoder_checkpoint(other, path)
