"""All graphs of a dataset in flat tensors with offsets; a batch is gathered from an index list.

PyG's ``InMemoryDataset`` + ``DataLoader`` collate a Python list of ``Data`` objects per batch; the
pruners hand out arbitrary index lists every epoch, so the store gathers a batch with a few
vectorised tensor ops instead (no per-graph Python work).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch

from molpeg_bench.benchmark.data.featurize import MASK_ATOM_ID, MolGraph
from molpeg_bench.fileio.atomic import write_atomic


@dataclass
class GraphBatch:
    """A batch of ``num_graphs`` molecules.

    x [n_nodes, 2] long, edge_index [2, n_edges] long (batch-global node ids), edge_attr [n_edges, 2]
    long, batch [n_nodes] long (graph id of each node), y [num_graphs, T] float (NaN = missing),
    indices [num_graphs] long (the store indices the batch was built from), pos [n_nodes, 3] float
    (Å) for 3D stores, else None.
    """

    x: torch.Tensor
    edge_index: torch.Tensor
    edge_attr: torch.Tensor
    batch: torch.Tensor
    y: torch.Tensor
    indices: torch.Tensor
    num_graphs: int
    pos: torch.Tensor | None = None

    def to(self, device: torch.device | str, dtype: torch.dtype | None = None) -> GraphBatch:
        """The batch on ``device``; ``dtype`` (a model's floating type) casts the float fields ``y`` and ``pos``."""
        return GraphBatch(
            self.x.to(device), self.edge_index.to(device), self.edge_attr.to(device),
            self.batch.to(device), self.y.to(device, dtype), self.indices.to(device), self.num_graphs,
            None if self.pos is None else self.pos.to(device, dtype),
        )

    @property
    def z(self) -> torch.Tensor:
        """Atomic numbers [n_nodes] (0 for an atom outside the vocabulary)."""
        return atomic_numbers(self.x)


def atomic_numbers(x: torch.Tensor) -> torch.Tensor:
    """Atomic numbers from the Hu atom-type column (type = Z - 1; the mask/unknown id maps to 0)."""
    return torch.where(x[:, 0] == MASK_ATOM_ID, 0, x[:, 0] + 1)


def _segment_gather(ptr: torch.Tensor, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Positions of all elements of segments ``idx`` in a flat array with offsets ``ptr``,
    and the segment lengths."""
    starts, counts = ptr[idx], ptr[idx + 1] - ptr[idx]
    total = int(counts.sum())
    seg_of = torch.repeat_interleave(torch.arange(len(idx)), counts, output_size=total)
    first_out = torch.cumsum(counts, 0) - counts
    pos = torch.arange(total) - first_out[seg_of] + starts[seg_of]
    return pos, counts


@dataclass
class GraphStore:
    """Flat storage of ``len(self)`` molecular graphs with labels.

    Edge indices are stored local to their molecule (0-based per graph) so any subset can be batched.
    ``y`` is [N, T] float32 with NaN for a missing label. ``meta`` records provenance (source file,
    hash, featurizer version, number of unsanitized / skipped molecules, task names). ``pos``
    [n_nodes, 3] float32 holds atom coordinates (Å) of a 3D dataset, aligned with ``x``.
    """

    x: torch.Tensor
    edge_index: torch.Tensor
    edge_attr: torch.Tensor
    node_ptr: torch.Tensor
    edge_ptr: torch.Tensor
    y: torch.Tensor
    smiles: list[str]
    meta: dict = field(default_factory=dict)
    pos: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.node_ptr) - 1

    @property
    def num_tasks(self) -> int:
        return self.y.shape[1]

    @classmethod
    def from_graphs(cls, graphs: Sequence[MolGraph], y: np.ndarray, smiles: Sequence[str],
                    meta: dict | None = None) -> GraphStore:
        if len(graphs) != len(y) or len(graphs) != len(smiles):
            raise ValueError(f"graphs ({len(graphs)}), labels ({len(y)}) and smiles ({len(smiles)}) "
                             "must have the same length")
        n_nodes = np.array([g.x.shape[0] for g in graphs], dtype=np.int64)
        n_edges = np.array([g.edge_index.shape[1] for g in graphs], dtype=np.int64)
        empty2 = np.zeros((0, 2), dtype=np.int64)
        return cls(
            x=torch.from_numpy(np.concatenate([g.x for g in graphs]) if graphs else empty2),
            edge_index=torch.from_numpy(np.concatenate([g.edge_index for g in graphs], axis=1)
                                        if graphs else empty2.T.copy()),
            edge_attr=torch.from_numpy(np.concatenate([g.edge_attr for g in graphs]) if graphs else empty2),
            node_ptr=torch.from_numpy(np.concatenate([[0], np.cumsum(n_nodes)])),
            edge_ptr=torch.from_numpy(np.concatenate([[0], np.cumsum(n_edges)])),
            y=torch.as_tensor(np.asarray(y, dtype=np.float32).reshape(len(graphs), -1)),
            smiles=list(smiles),
            meta=dict(meta or {}),
        )

    def batch(self, indices: Sequence[int] | np.ndarray | torch.Tensor) -> GraphBatch:
        """Gather the graphs ``indices`` (in that order) into one batch."""
        idx = torch.as_tensor(np.asarray(indices), dtype=torch.long).reshape(-1)
        if len(idx) and (int(idx.min()) < 0 or int(idx.max()) >= len(self)):
            raise IndexError(f"batch indices must lie in [0, {len(self)}), got min {int(idx.min())} "
                             f"max {int(idx.max())}")
        node_pos, node_counts = _segment_gather(self.node_ptr, idx)
        edge_pos, edge_counts = _segment_gather(self.edge_ptr, idx)
        node_offset = torch.cumsum(node_counts, 0) - node_counts
        edge_graph = torch.repeat_interleave(torch.arange(len(idx)), edge_counts)
        return GraphBatch(
            x=self.x[node_pos],
            edge_index=self.edge_index[:, edge_pos] + node_offset[edge_graph],
            edge_attr=self.edge_attr[edge_pos],
            batch=torch.repeat_interleave(torch.arange(len(idx)), node_counts),
            y=self.y[idx],
            indices=idx,
            num_graphs=len(idx),
            pos=None if self.pos is None else self.pos[node_pos],
        )

    def subset(self, indices: Sequence[int] | np.ndarray) -> GraphStore:
        """A new store with the graphs ``indices`` (used to subsample a dataset reproducibly)."""
        idx = np.asarray(indices, dtype=np.int64)
        b = self.batch(idx)
        node_counts = (self.node_ptr[1:] - self.node_ptr[:-1])[idx]
        edge_counts = (self.edge_ptr[1:] - self.edge_ptr[:-1])[idx]
        node_offset = torch.cumsum(node_counts, 0) - node_counts
        edge_graph = torch.repeat_interleave(torch.arange(len(idx)), edge_counts)
        return GraphStore(
            x=b.x, edge_index=b.edge_index - node_offset[edge_graph], edge_attr=b.edge_attr,
            node_ptr=torch.cat([torch.zeros(1, dtype=torch.long), torch.cumsum(node_counts, 0)]),
            edge_ptr=torch.cat([torch.zeros(1, dtype=torch.long), torch.cumsum(edge_counts, 0)]),
            y=b.y, smiles=[self.smiles[i] for i in idx], meta=dict(self.meta, subset_of=len(self)), pos=b.pos,
        )

    def with_positions(self, pos: torch.Tensor, meta: dict | None = None) -> GraphStore:
        """The same graphs with atom coordinates ``pos`` [n_nodes, 3] (and ``meta`` merged in)."""
        pos = torch.as_tensor(pos, dtype=torch.float32)
        if pos.shape != (len(self.x), 3):
            raise ValueError(f"pos must have shape ({len(self.x)}, 3) (one row per atom), got {tuple(pos.shape)}")
        return dataclasses.replace(self, pos=pos, meta=dict(self.meta, **(meta or {})))

    def save(self, path: str | Path) -> None:
        """Write atomically (``fileio.atomic``): processes featurizing the same dataset at once
        never collide."""
        write_atomic(path, self.write)

    def write(self, handle: BinaryIO) -> None:
        """Serialise to an open binary file (``load`` reads it back)."""
        torch.save({k: getattr(self, k) for k in
                    ("x", "edge_index", "edge_attr", "node_ptr", "edge_ptr", "y", "smiles", "meta", "pos")}, handle)

    @classmethod
    def load(cls, path: str | Path) -> GraphStore:
        return cls(**torch.load(path, weights_only=False))
