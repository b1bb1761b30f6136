"""GeoSSL-DDM's subgraph masking on constructed molecules: sizes, connectivity, the jump between fragments,
batch bookkeeping and seeding."""

from __future__ import annotations

import pytest
import torch

from molpeg_bench.benchmark.data.graph_store import GraphBatch
from molpeg_bench.pretrain.graph_ops import grow_subgraph
from molpeg_bench.pretrain.subgraph_mask import kept_counts, subgraph_mask, subgraph_mask_keep


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def chain(n: int) -> tuple[int, list[tuple[int, int]]]:
    return n, [(i, i + 1) for i in range(n - 1)]


def ring(n: int) -> tuple[int, list[tuple[int, int]]]:
    return n, [(i, (i + 1) % n) for i in range(n)]


def salt(a: int, b: int) -> tuple[int, list[tuple[int, int]]]:
    """Two fragments: a chain of ``a`` atoms and a chain of ``b`` atoms (atoms a .. a + b - 1)."""
    return a + b, chain(a)[1] + [(a + i, a + i + 1) for i in range(b - 1)]


def molecules(*mols: tuple[int, list[tuple[int, int]]]) -> GraphBatch:
    """A batch of (n_atoms, bonds) molecules: both directions of every bond (its edge_attr the bond's
    batch-global edge id), distinct positions and atom types per atom."""
    sizes = torch.tensor([n for n, _ in mols])
    offsets = torch.cumsum(sizes, 0) - sizes
    edges = [(int(o) + u, int(o) + v) for (_, bonds), o in zip(mols, offsets, strict=True) for u, v in bonds]
    edge_index = torch.tensor([e for u, v in edges for e in ((u, v), (v, u))], dtype=torch.long).reshape(-1, 2).T
    n = int(sizes.sum())
    return GraphBatch(x=torch.stack([torch.arange(n) % 100, torch.zeros(n, dtype=torch.long)], 1),
                      edge_index=edge_index, edge_attr=torch.arange(edge_index.shape[1])[:, None].repeat(1, 2),
                      batch=torch.repeat_interleave(torch.arange(len(mols)), sizes),
                      y=torch.zeros(len(mols), 0), indices=torch.arange(len(mols)), num_graphs=len(mols),
                      pos=torch.arange(3 * n, dtype=torch.float32).reshape(n, 3))


def components(view: GraphBatch) -> list[set[int]]:
    """Connected components of the view's bond graph (node ids of the view)."""
    neighbours: dict[int, set[int]] = {i: set() for i in range(len(view.x))}
    for u, v in view.edge_index.T.tolist():
        neighbours[u].add(v)
    seen: set[int] = set()
    out = []
    for start in neighbours:
        if start in seen:
            continue
        comp, todo = {start}, [start]
        while todo:
            for v in neighbours[todo.pop()] - comp:
                comp.add(v)
                todo.append(v)
        seen |= comp
        out.append(comp)
    return out


def test_kept_counts_are_floor_of_the_kept_share_plus_one_as_python_computes_them():
    n = torch.arange(1, 200)
    for m in (0.1, 0.3, 0.5, 0.9):
        assert kept_counts(n, m).tolist() == [min(int(k * (1 - m)) + 1, k) for k in range(1, 200)]
    assert kept_counts(torch.tensor([10, 7, 90, 1]), 0.3).tolist() == [8, 5, 63, 1]  # 90 · 0.7 < 63 in float64
    assert torch.equal(kept_counts(n, 0.0), n)
    for bad in (-0.1, 1.0):
        with pytest.raises(ValueError, match="mask ratio must lie in"):
            kept_counts(n, bad)


@pytest.mark.parametrize("mol", [chain(10), ring(7), chain(23), ring(20)])
def test_chain_and_ring_keep_a_connected_subgraph_of_the_right_size(mol):
    n, _ = mol
    for seed in range(25):
        view = subgraph_mask(molecules(mol), 0.3, gen(seed))
        assert len(view.x) == int(n * 0.7) + 1
        assert len(components(view)) == 1


def test_salt_jumps_to_the_other_fragment_once_the_first_is_used_up():
    """6 + 4 atoms, 8 kept: whichever fragment the seed lies in is taken whole, then the BFS jumps and
    grows a connected piece of the other one."""
    batch = molecules(salt(6, 4))
    first, second = set(range(6)), set(range(6, 10))
    starts = set()
    for seed in range(40):
        keep = subgraph_mask_keep(batch, 0.3, gen(seed))
        kept = set(torch.nonzero(keep).squeeze(1).tolist())
        assert len(kept) == 8
        whole = first if first <= kept else second
        assert whole <= kept, kept
        rest = sorted(kept - whole)
        assert rest == list(range(rest[0], rest[0] + len(rest)))  # a connected piece of the other chain
        starts.add(len(rest))
    assert starts == {2, 4}  # seeds in both fragments occurred
    # without the jump the growth stops at the seed's fragment
    grown = grow_subgraph(batch, torch.tensor([True] + [False] * 9), torch.tensor([8]), gen(0))
    assert grown.tolist() == [True] * 6 + [False] * 4


def test_atoms_without_bonds_are_taken_by_jumps():
    view = subgraph_mask(molecules((2, [])), 0.3, gen(0))  # [Na+].[Cl-]: ⌊1.4⌋ + 1 = 2 atoms
    assert len(view.x) == 2 and view.edge_index.shape == (2, 0)


def test_batch_bookkeeping_of_the_kept_atoms():
    batch = molecules(chain(10), ring(7), (1, []), salt(6, 4), chain(3), (2, []))
    for seed in range(10):
        keep = subgraph_mask_keep(batch, 0.3, gen(seed))
        view = subgraph_mask(batch, 0.3, gen(seed))
        assert torch.bincount(view.batch, minlength=6).tolist() == [8, 5, 1, 8, 3, 2]
        assert torch.equal(view.x, batch.x[keep]) and torch.equal(view.pos, batch.pos[keep])
        assert torch.equal(view.batch, batch.batch[keep])
        assert view.num_graphs == 6 and torch.equal(view.y, batch.y) and torch.equal(view.indices, batch.indices)
        # the view's bonds are exactly the bonds between kept atoms, relabelled, attributes aligned
        old_id = torch.nonzero(keep).squeeze(1)
        src, dst = batch.edge_index
        between = keep[src] & keep[dst]
        assert torch.equal(old_id[view.edge_index], batch.edge_index[:, between])
        assert torch.equal(view.edge_attr, batch.edge_attr[between])
        assert torch.equal(view.batch[view.edge_index[0]], view.batch[view.edge_index[1]])


def test_same_seed_same_atoms_other_seed_other_atoms():
    batch = molecules(*[chain(10)] * 32)  # 6 of 10 kept: 5 possible intervals per molecule, 32 molecules
    a, b = (subgraph_mask_keep(batch, 0.5, gen(s)) for s in (1, 1))
    assert torch.equal(a, b)
    assert not torch.equal(a, subgraph_mask_keep(batch, 0.5, gen(2)))
