"""GraphCL's four molecular graph augmentations, applied to every molecule of a ``GraphBatch``.

Names and counts follow GraphCL's transfer-learning code (``transferLearning_MoleculeNet_PPI/chem``):
``dropN`` drops ``int(n * ratio)`` atoms and their bonds; ``subgraph`` keeps ``int(n * ratio) + 1``
atoms grown from a random seed atom through random neighbours (a connected subgraph); ``permE``
moves ``int(m * ratio)`` of the ``m`` bonds; ``maskN`` masks ``int(n * ratio)`` atoms; ``random``
(the chem default for both views) picks ``dropN`` or ``subgraph`` per molecule with equal chance.

Written here because the reference versions loop over one PyG ``Data`` at a time and have flaws
that would break this featurization: ``permE`` leaves ``edge_attr`` aligned with the old edges
and adds one-directional edges; ``maskN`` assigns a float mean-feature token to the node features,
which raises on this integer (categorical) featurization, so it never ran on molecules there.
Here ``permE`` re-attaches each moved bond, attributes and both directions kept, between two random
atoms of the same molecule; ``maskN`` writes the mask token (atom type 119, chirality 0) used by the
Hu et al. featurization. Every output is a valid batch: edge ids in range, one attribute row per
edge, at least one atom per molecule.

``subgraph`` has two modes (``SUBGRAPH_MODES``). ``grow`` (default) is what the GraphCL paper
describes: the subgraph grows through the neighbours of every atom taken so far. ``official`` is what
the reference code does and what trained the published checkpoints: its neighbour set is never
updated (the ``set.union`` result is discarded), so only the seed atom's direct neighbours can join;
views then keep fewer atoms and often stop short of the target size.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from molpeg_bench.benchmark.data.featurize import MASK_ATOM_ID
from molpeg_bench.benchmark.data.graph_store import GraphBatch
from molpeg_bench.pretrain.graph_ops import choose_per_group, group_sizes, grow_subgraph, induced_subgraph, random_rank

AUGMENTATIONS = ("none", "dropN", "subgraph", "permE", "maskN", "random")
SUBGRAPH_MODES = ("grow", "official")


def _per_graph(batch: GraphBatch, ratio: float) -> tuple[torch.Tensor, torch.Tensor]:
    n = group_sizes(batch.batch, batch.num_graphs)
    return n, (n * ratio).long()


def _randint_below(high: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Uniform integers in ``0 .. high - 1``, elementwise."""
    return torch.minimum((torch.rand(len(high), generator=generator) * high).long(), high - 1)


def drop_nodes_keep(batch: GraphBatch, ratio: float, generator: torch.Generator) -> torch.Tensor:
    """Node mask of ``dropN``: all but ``int(n * ratio)`` random atoms of each molecule."""
    _, k = _per_graph(batch, ratio)
    return ~choose_per_group(batch.batch, batch.num_graphs, k, generator)


def _seed_neighbours_keep(batch: GraphBatch, taken: torch.Tensor, target: torch.Tensor,
                          generator: torch.Generator) -> torch.Tensor:
    """``official`` subgraph: the seed atoms plus up to ``target - 1`` of their direct neighbours,
    chosen uniformly without replacement."""
    src, dst = batch.edge_index
    neighbour = torch.zeros_like(taken)
    neighbour[dst[taken[src]]] = True
    neighbour &= ~taken
    candidates = torch.nonzero(neighbour).squeeze(1)
    rank = random_rank(batch.batch[candidates], batch.num_graphs, generator)
    taken = taken.clone()
    taken[candidates[rank < (target - 1)[batch.batch[candidates]]]] = True
    return taken


def subgraph_keep(batch: GraphBatch, ratio: float, generator: torch.Generator, mode: str = "grow") -> torch.Tensor:
    """Node mask of ``subgraph``: from a random seed atom, add one random atom adjacent to the
    atoms taken so far (``grow``; with ``official``: adjacent to the seed atom) until
    ``int(n * ratio) + 1`` are taken (fewer if the seed's connected component, or with ``official``
    its neighbourhood, is smaller)."""
    if mode not in SUBGRAPH_MODES:
        raise ValueError(f"unknown subgraph mode {mode!r}; expected one of {SUBGRAPH_MODES}")
    n, k = _per_graph(batch, ratio)
    target = torch.minimum(k + 1, n)
    taken = choose_per_group(batch.batch, batch.num_graphs, torch.ones_like(n), generator)
    if mode == "official":
        return _seed_neighbours_keep(batch, taken, target, generator)
    return grow_subgraph(batch, taken, target, generator)


def permute_edges(batch: GraphBatch, ratio: float, generator: torch.Generator) -> GraphBatch:
    """``permE``: move ``int(m * ratio)`` random bonds of each molecule to random atom pairs.
    Needs the layout of ``GraphStore.batch``: each molecule's atoms contiguous, the two directions
    of a bond at edge positions 2k and 2k+1."""
    fwd = batch.edge_index[:, 0::2]
    if not torch.equal(fwd.flip(0), batch.edge_index[:, 1::2]):
        raise ValueError("permE expects both directions of each bond at positions 2k, 2k+1")
    bond_graph = batch.batch[fwd[0]]
    m = group_sizes(bond_graph, batch.num_graphs)
    moved = choose_per_group(bond_graph, batch.num_graphs, (m * ratio).long(), generator)
    g = bond_graph[moved]
    n = group_sizes(batch.batch, batch.num_graphs)
    start = torch.cumsum(n, 0) - n
    u = _randint_below(n[g], generator)
    v = (u + 1 + _randint_below(n[g] - 1, generator)) % n[g]  # v != u (a bonded molecule has n >= 2)
    u, v = u + start[g], v + start[g]
    new = torch.stack([torch.stack([u, v], 1).reshape(-1), torch.stack([v, u], 1).reshape(-1)])
    keep = (~moved).repeat_interleave(2)
    new_attr = batch.edge_attr[0::2][moved].repeat_interleave(2, 0)
    return replace(batch, edge_index=torch.cat([batch.edge_index[:, keep], new], 1),
                   edge_attr=torch.cat([batch.edge_attr[keep], new_attr]))


def mask_nodes(batch: GraphBatch, ratio: float, generator: torch.Generator) -> GraphBatch:
    """``maskN``: ``int(n * ratio)`` random atoms of each molecule become the mask token."""
    _, k = _per_graph(batch, ratio)
    masked = choose_per_group(batch.batch, batch.num_graphs, k, generator)
    x = batch.x.clone()
    x[masked] = torch.tensor([MASK_ATOM_ID, 0], dtype=x.dtype)
    return replace(batch, x=x)


def augment(batch: GraphBatch, name: str, ratio: float, generator: torch.Generator,
            subgraph_mode: str = "grow") -> GraphBatch:
    """One augmented view of every molecule of ``batch`` (``name`` in ``AUGMENTATIONS``; ``subgraph_mode``
    in ``SUBGRAPH_MODES``)."""
    if name == "none":
        return batch
    if name == "dropN":
        return induced_subgraph(batch, drop_nodes_keep(batch, ratio, generator))
    if name == "subgraph":
        return induced_subgraph(batch, subgraph_keep(batch, ratio, generator, subgraph_mode))
    if name == "random":
        use_sub = torch.rand(batch.num_graphs, generator=generator) < 0.5
        keep = torch.where(use_sub[batch.batch], subgraph_keep(batch, ratio, generator, subgraph_mode),
                           drop_nodes_keep(batch, ratio, generator))
        return induced_subgraph(batch, keep)
    if name == "permE":
        return permute_edges(batch, ratio, generator)
    if name == "maskN":
        return mask_nodes(batch, ratio, generator)
    raise ValueError(f"unknown augmentation {name!r}; expected one of {AUGMENTATIONS}")
