"""The radius (interaction) graph of a batch of molecules, in plain torch.

``torch_geometric.nn.radius_graph`` needs the compiled ``torch_cluster`` / ``pyg-lib`` extensions,
which are not installed here, so the graph is built from all within-molecule ordered pairs (Σ n²
candidates: ≈43k for a QM9 batch of 128, ≈204k for an HIV batch of 256), vectorised, in a
deterministic order. ``max_num_neighbors`` keeps the nearest neighbours of each target atom, as the
32-neighbour cap of ``torch_cluster.radius_graph`` in the official code (ties by source index).
"""

from __future__ import annotations

import torch

from molpeg_bench.benchmark.data.graph_store import GraphBatch

MIN_DISTANCE = 1e-6
NUM_ELEMENTS = 100  # embedding rows of the 3D encoders (atomic numbers 1..99; 0 = padding)


def atoms_and_positions(batch: GraphBatch, pos: torch.Tensor | None, model: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Atomic numbers and coordinates of ``batch`` (``pos`` overrides the batch's, e.g. a noisy view)."""
    pos = batch.pos if pos is None else pos
    if pos is None:
        raise ValueError(f"{model} needs atom coordinates: the batch has no 'pos' (use a 3D dataset)")
    z = batch.z
    if z.numel() and int(z.max()) >= NUM_ELEMENTS:
        raise ValueError(f"{model} embeds atomic numbers below {NUM_ELEMENTS}; got {int(z.max())}")
    return z, pos


def molecule_pairs(batch: torch.Tensor, num_graphs: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """All ordered pairs (i, j), i ≠ j, of atoms of the same molecule, ordered by (i, j)."""
    device = batch.device
    counts = torch.bincount(batch, minlength=num_graphs or 0)
    ptr = torch.cumsum(counts, 0) - counts
    squares = counts * counts
    total = int(squares.sum())
    g = torch.repeat_interleave(torch.arange(len(counts), device=device), squares, output_size=total)
    k = torch.arange(total, device=device) - (torch.cumsum(squares, 0) - squares)[g]
    n = counts[g]
    i = ptr[g] + torch.div(k, n, rounding_mode="floor")
    j = ptr[g] + k % n
    keep = i != j
    return i[keep], j[keep]


def interaction_graph(pos: torch.Tensor, batch: torch.Tensor, cutoff: float, num_graphs: int | None = None,
                      max_num_neighbors: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Edges j → i between distinct atoms of the same molecule with d_ij < ``cutoff``.

    ``pos`` [n, 3], ``batch`` [n] (graph id per atom, sorted). Returns ``edge_index`` [2, E]
    (row 0 source j, row 1 target i) and distances [E] clamped to at least 1e-6.
    """
    if pos.dim() != 2 or pos.shape[1] != 3 or batch.shape != pos.shape[:1]:
        raise ValueError(f"pos must be [n, 3] and batch [n]; got {tuple(pos.shape)} and {tuple(batch.shape)}")
    i, j = molecule_pairs(batch, num_graphs)
    dist = (pos[i] - pos[j]).norm(dim=-1)
    within = dist < cutoff
    i, j, dist = i[within], j[within], dist[within]
    if max_num_neighbors is not None:
        i, j, dist = _nearest_per_target(i, j, dist, max_num_neighbors)
    return torch.stack([j, i]), dist.clamp(min=MIN_DISTANCE)


def _nearest_per_target(i: torch.Tensor, j: torch.Tensor, dist: torch.Tensor,
                        k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Keep the ``k`` nearest sources of every target, preserving the (target, source) order."""
    if k < 1:
        raise ValueError(f"max_num_neighbors must be >= 1, got {k}")
    # sort by (target, distance); edges are already ordered by (target, source), and a stable sort
    # keeps the source order among equal distances
    order = torch.sort(dist, stable=True).indices
    order = order[torch.sort(i[order], stable=True).indices]
    counts = torch.bincount(i[order])
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.arange(len(order), device=i.device) - starts[i[order]]
    kept = torch.sort(order[rank < k]).values
    return i[kept], j[kept], dist[kept]
