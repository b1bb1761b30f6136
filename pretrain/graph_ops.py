"""Random per-molecule choices and induced subgraphs on a whole ``GraphBatch`` at once.

GraphMAE's masking, GraphCL's augmentations and GeoSSL's subgraph masking pick a number of atoms
(or bonds) in every molecule. The reference implementations do this per molecule in Python inside the
data loader; here it is a few tensor ops over the batch, so the choice costs little next to the GNN
step. All randomness comes from the ``torch.Generator`` passed in (on the CPU), so a run is
reproducible on any device.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from molpeg_bench.benchmark.data.graph_store import GraphBatch


def group_sizes(group: torch.Tensor, num_groups: int) -> torch.Tensor:
    """Number of elements in each group (``group`` holds the group id of every element)."""
    return torch.bincount(group, minlength=num_groups)


def random_rank(group: torch.Tensor, num_groups: int, generator: torch.Generator,
                last: torch.Tensor | None = None) -> torch.Tensor:
    """A uniformly random order within each group: ``rank[i]`` in ``0 .. size(group[i]) - 1``.
    Elements flagged in the boolean ``last`` are ranked after every other element of their group."""
    key = torch.rand(len(group), generator=generator)
    if last is not None:
        key = key + last.to(key.dtype)
    order = torch.argsort(key)
    order = order[torch.sort(group[order], stable=True).indices]
    sizes = group_sizes(group, num_groups)
    starts = torch.cumsum(sizes, 0) - sizes
    rank = torch.empty_like(order)
    rank[order] = torch.arange(len(group)) - starts[group[order]]
    return rank


def choose_per_group(group: torch.Tensor, num_groups: int, counts: torch.Tensor,
                     generator: torch.Generator, last: torch.Tensor | None = None) -> torch.Tensor:
    """Boolean mask choosing ``counts[g]`` elements of every group ``g`` uniformly at random
    (without replacement; ``last`` elements only once the others are used up)."""
    return random_rank(group, num_groups, generator, last) < counts[group]


def grow_subgraph(batch: GraphBatch, taken: torch.Tensor, target: torch.Tensor, generator: torch.Generator,
                  jump: bool = False) -> torch.Tensor:
    """Grow the node mask ``taken`` one atom per molecule and step until molecule ``g`` holds
    ``target[g]`` atoms. Each step adds an atom drawn uniformly from the molecule's frontier (atoms
    bonded to a taken one, not taken yet). A molecule whose frontier is empty stops there, or with
    ``jump`` adds a uniformly random untaken atom (one of another fragment) and grows on from it."""
    src, dst = batch.edge_index
    taken = taken.clone()
    while True:
        growing = group_sizes(batch.batch[taken], batch.num_graphs) < target
        frontier = torch.zeros_like(taken)
        frontier[dst[taken[src] & ~taken[dst]]] = True
        if jump:
            stuck = growing & (group_sizes(batch.batch[frontier], batch.num_graphs) == 0)
            frontier |= stuck[batch.batch] & ~taken
        candidates = torch.nonzero(frontier & growing[batch.batch]).squeeze(1)
        if len(candidates) == 0:
            return taken
        rank = random_rank(batch.batch[candidates], batch.num_graphs, generator)
        taken[candidates[rank == 0]] = True


def induced_subgraph(batch: GraphBatch, keep: torch.Tensor) -> GraphBatch:
    """The batch restricted to the nodes with ``keep`` True and the edges between them (node ids
    renumbered; edge attributes and positions stay aligned; the directed-pair order of the edges is
    preserved)."""
    new_id = torch.cumsum(keep, 0) - 1
    src, dst = batch.edge_index
    edge_keep = keep[src] & keep[dst]
    return replace(batch, x=batch.x[keep], edge_index=new_id[batch.edge_index[:, edge_keep]],
                   edge_attr=batch.edge_attr[edge_keep], batch=batch.batch[keep],
                   pos=None if batch.pos is None else batch.pos[keep])
