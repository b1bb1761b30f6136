import numpy as np
import pytest
import torch

from molpeg_bench.benchmark.data.featurize import MASK_ATOM_ID, smiles_to_graph
from molpeg_bench.benchmark.data.graph_store import GraphStore


def test_hu_scheme_atoms_bonds_and_chirality():
    g = smiles_to_graph("C[C@H](N)c1ccccc1")
    assert g.sanitized
    assert g.x[:, 0].tolist() == [5, 5, 6] + [5] * 6  # atomic number - 1
    assert g.x[1, 1] in (1, 2) and g.x[0, 1] == 0  # the stereocentre carries a chirality tag
    assert g.edge_index.shape == (2, 18) and g.edge_attr.shape == (18, 2)
    # ring bonds are aromatic (3), chain bonds single (0); both directions present with equal features
    assert sorted(set(g.edge_attr[:, 0].tolist())) == [0, 3]
    assert (g.edge_attr[0::2] == g.edge_attr[1::2]).all()
    assert (g.edge_index[:, 0::2] == g.edge_index[::-1, 1::2]).all()


def test_bond_types_and_dummy_atom_maps_to_unknown_id():
    g = smiles_to_graph("C=CC#N")
    assert g.edge_attr[0::2, 0].tolist() == [1, 0, 2]
    assert smiles_to_graph("*CC").x[0, 0] == MASK_ATOM_ID


def test_unsanitizable_smiles_kept_with_fallback_and_garbage_rejected():
    g = smiles_to_graph("CC(C)(C)(C)(C)C")  # pentavalent carbon: fails sanitization, parses without
    assert g is not None and not g.sanitized and g.x.shape[0] == 7
    assert smiles_to_graph("not a smiles((") is None


def test_batch_gathers_the_requested_graphs_with_offsets(small_store):
    b = small_store.batch([3, 0, 3])
    sizes = [small_store.node_ptr[i + 1] - small_store.node_ptr[i] for i in (3, 0, 3)]
    assert b.num_graphs == 3 and b.x.shape[0] == sum(sizes)
    assert torch.equal(torch.bincount(b.batch), torch.tensor(sizes))
    # every edge connects two nodes of the same graph
    assert torch.equal(b.batch[b.edge_index[0]], b.batch[b.edge_index[1]])
    expected = smiles_to_graph(small_store.smiles[3])
    assert torch.equal(b.x[: sizes[0]], torch.from_numpy(expected.x))
    assert torch.equal(b.edge_index[:, : expected.edge_index.shape[1]], torch.from_numpy(expected.edge_index))
    assert np.array_equal(b.y[1].numpy(), small_store.y[0].numpy(), equal_nan=True)
    with pytest.raises(IndexError, match="batch indices"):
        small_store.batch([len(small_store)])


def test_subset_and_save_load_roundtrip(small_store, tmp_path):
    sub = small_store.subset([5, 2])
    assert sub.smiles == [small_store.smiles[5], small_store.smiles[2]]
    assert torch.equal(sub.batch([0]).x, small_store.batch([5]).x)
    assert torch.equal(sub.batch([1]).edge_index, small_store.batch([2]).edge_index)
    sub.save(tmp_path / "s.pt")
    back = GraphStore.load(tmp_path / "s.pt")
    assert back.smiles == sub.smiles and torch.equal(back.edge_attr, sub.edge_attr)
    assert np.array_equal(back.y.numpy(), sub.y.numpy(), equal_nan=True)

