"""GeoSSL-DDM's optional masking: every molecule keeps a random connected-first subgraph of its atoms.

With N atoms and mask ratio m a molecule keeps ⌊(1 − m)·N⌋ + 1 atoms (at most N): start from a
uniformly random atom, then repeatedly add an atom drawn uniformly from the frontier (bonded
neighbours of the kept atoms); when the frontier is empty (a salt's other ion, any disconnected
fragment) add a uniformly random atom not kept yet and grow on from it. Both DDM views are then
built from the kept atoms' positions. GeoSSL (``Molecule3DMaskingDataset``) redraws this per molecule
at every access in its data loader; no library samples such subgraphs on a batched graph, so it is
written here on the whole ``GraphBatch`` at once (``pretrain.graph_ops.grow_subgraph``, the growth
GraphCL's ``subgraph`` uses, with the jump to another fragment), all randomness from the CPU
generator of the training step, so a run and its resume stay bitwise reproducible.
"""

from __future__ import annotations

import torch

from molpeg_bench.benchmark.data.graph_store import GraphBatch
from molpeg_bench.pretrain.graph_ops import choose_per_group, group_sizes, grow_subgraph, induced_subgraph


def check_mask_ratio(mask_ratio: float, name: str = "mask ratio") -> float:
    """``mask_ratio`` if it lies in [0, 1), else a ValueError naming it ``name``."""
    if not 0.0 <= mask_ratio < 1.0:
        raise ValueError(f"{name} must lie in [0, 1) (0: no masking), got {mask_ratio!r}")
    return mask_ratio


def kept_counts(n: torch.Tensor, mask_ratio: float) -> torch.Tensor:
    """⌊(1 − m)·N⌋ + 1 atoms per molecule (at most N), the product in float64 as GeoSSL computes it."""
    check_mask_ratio(mask_ratio)
    return torch.minimum((n.double() * (1.0 - mask_ratio)).long() + 1, n)


def subgraph_mask_keep(batch: GraphBatch, mask_ratio: float, generator: torch.Generator) -> torch.Tensor:
    """Node mask [n_nodes] of the atoms every molecule keeps (``batch`` on the CPU)."""
    n = group_sizes(batch.batch, batch.num_graphs)
    seed = choose_per_group(batch.batch, batch.num_graphs, torch.ones_like(n), generator)
    return grow_subgraph(batch, seed, kept_counts(n, mask_ratio), generator, jump=True)


def subgraph_mask(batch: GraphBatch, mask_ratio: float, generator: torch.Generator) -> GraphBatch:
    """``batch`` restricted to the kept atoms: x, pos and the batch vector filtered, the bonds between
    kept atoms relabelled, molecules (y, indices, num_graphs) unchanged."""
    return induced_subgraph(batch, subgraph_mask_keep(batch, mask_ratio, generator))
