"""The base of the 3D encoders' configs (``PaiNNConfig``, ``SchNetConfig``): the fields both have beside their
own sizes, keyword-only so that each encoder's sizes keep their positions."""

from __future__ import annotations

from dataclasses import dataclass

from molpeg_bench.benchmark.models.atom_index import check_atom_index


@dataclass(frozen=True, kw_only=True)
class Encoder3DConfig:
    max_num_neighbors: int | None = None  # None: uncapped; 32 as torch_cluster in the official code
    atom_index: str = "atomic_number"  # embedding rows (benchmark.models.atom_index)

    def __post_init__(self) -> None:
        check_atom_index(self.atom_index)
