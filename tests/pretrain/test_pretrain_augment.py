"""GraphCL augmentations: each changes what it should and returns a valid batch."""

import numpy as np
import pytest
import torch

from molpeg_bench.benchmark.data.dataset import featurize_smiles
from molpeg_bench.benchmark.data.featurize import MASK_ATOM_ID
from molpeg_bench.pretrain.augment import AUGMENTATIONS, augment, drop_nodes_keep, subgraph_keep

SMILES = ["CC(=O)Nc1ccc(O)cc1", "c1ccc2ccccc2c1", "OC(=O)C(N)Cc1ccccc1", "CN1C=NC2=C1C(=O)N(C(=O)N2C)C",
          "CCCCCCCCCCCCCCCC(=O)O", "CCO", "C", "[Na+].[Cl-]", "CC(C)Cc1ccc(cc1)C(C)C(=O)O"]


@pytest.fixture(scope="module")
def batch():
    store = featurize_smiles(SMILES, np.zeros((len(SMILES), 0), np.float32), {})
    return store.batch(range(len(store)))


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def assert_valid(view, num_graphs):
    n = len(view.x)
    assert view.edge_index.shape[0] == 2 and view.edge_attr.shape == (view.edge_index.shape[1], 2)
    assert view.batch.shape == (n,)
    if view.edge_index.numel():
        assert 0 <= int(view.edge_index.min()) and int(view.edge_index.max()) < n
        src, dst = view.edge_index
        assert torch.equal(view.batch[src], view.batch[dst])  # bonds stay within their molecule
    assert (torch.bincount(view.batch, minlength=num_graphs) >= 1).all()
    assert view.num_graphs == num_graphs


def sizes(b):
    return torch.bincount(b.batch, minlength=b.num_graphs)


def bond_set(b):
    return {tuple(e) for e in b.edge_index.T.tolist()}


@pytest.mark.parametrize("name", AUGMENTATIONS)
def test_every_augmentation_keeps_the_batch_valid(batch, name):
    for ratio in (0.2, 0.5):
        view = augment(batch, name, ratio, gen(1))
        assert_valid(view, batch.num_graphs)
        assert torch.equal(view.x, augment(batch, name, ratio, gen(1)).x)  # seeded


def test_node_dropping_removes_ratio_of_atoms_and_their_bonds(batch):
    keep = drop_nodes_keep(batch, 0.2, gen(2))
    view = augment(batch, "dropN", 0.2, gen(2))
    n = sizes(batch)
    assert torch.equal(sizes(view), n - (n * 0.2).long())
    assert torch.equal(view.x, batch.x[keep])
    src, dst = batch.edge_index
    both_kept = keep[src] & keep[dst]
    assert view.edge_index.shape[1] == int(both_kept.sum()) < batch.edge_index.shape[1]
    assert torch.equal(view.edge_attr, batch.edge_attr[both_kept])
    old_id = torch.nonzero(keep).squeeze(1)  # the kept bonds are exactly the original ones, renumbered
    assert {tuple(e) for e in old_id[view.edge_index].T.tolist()} == {
        tuple(e) for e in batch.edge_index[:, both_kept].T.tolist()}


def test_subgraph_keeps_a_connected_subset(batch):
    ratio = 0.5
    keep = subgraph_keep(batch, ratio, gen(3))
    view = augment(batch, "subgraph", ratio, gen(3))
    n = sizes(batch)
    expected = torch.minimum((n * ratio).long() + 1, n)
    expected[SMILES.index("[Na+].[Cl-]")] = 1  # the seed ion's component has one atom
    assert torch.equal(sizes(view), expected)
    assert torch.equal(view.x, batch.x[keep])
    adjacency = {}
    for u, v in view.edge_index.T.tolist():
        adjacency.setdefault(u, set()).add(v)
    starts = torch.cumsum(sizes(view), 0) - sizes(view)
    for g in range(view.num_graphs):  # breadth-first search reaches every kept atom of the molecule
        nodes = set(range(int(starts[g]), int(starts[g] + sizes(view)[g])))
        seen, todo = {min(nodes)}, [min(nodes)]
        while todo:
            for w in adjacency.get(todo.pop(), ()):
                if w not in seen:
                    seen.add(w)
                    todo.append(w)
        assert seen == nodes


def test_edge_perturbation_moves_ratio_of_bonds(batch):
    view = augment(batch, "permE", 0.2, gen(4))
    assert torch.equal(view.x, batch.x)
    assert view.edge_index.shape == batch.edge_index.shape
    src, dst = view.edge_index
    assert (src != dst).all()
    assert torch.equal(view.edge_index[:, 0::2].flip(0), view.edge_index[:, 1::2])  # both directions kept
    assert torch.equal(view.edge_attr[0::2], view.edge_attr[1::2])
    assert sorted(map(tuple, view.edge_attr.tolist())) == sorted(map(tuple, batch.edge_attr.tolist()))
    bonds = torch.bincount(batch.batch[batch.edge_index[0, 0::2]], minlength=batch.num_graphs)
    moved = int((bonds * 0.2).long().sum())
    assert moved > 0
    kept = bond_set(view) & bond_set(batch)
    assert len(bond_set(batch) - kept) >= 1  # edges changed
    assert len(kept) >= batch.edge_index.shape[1] - 2 * moved


def test_attribute_masking_sets_mask_token_on_ratio_of_atoms(batch):
    view = augment(batch, "maskN", 0.2, gen(5))
    masked = (view.x != batch.x).any(1)
    assert torch.equal(torch.bincount(batch.batch[masked], minlength=batch.num_graphs),
                       (sizes(batch) * 0.2).long())
    assert (view.x[masked] == torch.tensor([MASK_ATOM_ID, 0])).all()
    assert torch.equal(view.edge_index, batch.edge_index) and torch.equal(view.edge_attr, batch.edge_attr)
    assert not torch.equal(batch.x, view.x) and (batch.x != MASK_ATOM_ID).all()  # input untouched


def test_random_picks_node_dropping_or_subgraph_per_molecule():
    store = featurize_smiles(SMILES, np.zeros((len(SMILES), 0), np.float32), {})
    batch = store.batch(list(range(len(store))) * 4)
    view = augment(batch, "random", 0.2, gen(6))
    n, got = sizes(batch), sizes(view)
    dropped = n - (n * 0.2).long()
    sub = torch.minimum((n * 0.2).long() + 1, n)
    assert ((got == dropped) | (got == sub) | (got == 1)).all()
    big = n >= 10
    assert (got[big] == dropped[big]).any() and (got[big] == sub[big]).any()


def test_official_subgraph_takes_the_seed_and_only_its_direct_neighbours(batch):
    ratio = 0.5
    keep = subgraph_keep(batch, ratio, gen(7), mode="official")
    n = sizes(batch)
    target = torch.minimum((n * ratio).long() + 1, n)
    src, dst = batch.edge_index
    degree = torch.bincount(src, minlength=len(batch.x))
    kept_per_graph = torch.bincount(batch.batch[keep], minlength=batch.num_graphs)
    for g in range(batch.num_graphs):
        atoms = torch.nonzero(keep & (batch.batch == g)).squeeze(1).tolist()
        # one kept atom (the seed) is bonded to every other kept atom
        hubs = [a for a in atoms if set(atoms) - {a} <= set(dst[src == a].tolist())]
        assert hubs, f"molecule {SMILES[g]}: kept atoms {atoms} are not a seed and its neighbours"
        assert any(kept_per_graph[g] == min(int(target[g]), 1 + int(degree[h])) for h in hubs)
    grown = sizes(augment(batch, "subgraph", ratio, gen(7)))
    official = sizes(augment(batch, "subgraph", ratio, gen(7), subgraph_mode="official"))
    assert official.sum() < grown.sum()  # chains and rings stop short of the target
    with pytest.raises(ValueError, match="subgraph mode"):
        subgraph_keep(batch, ratio, gen(7), mode="paper")
