"""Which embedding row each atom of a 3D encoder reads (docs/3d.md).

``atomic_number`` (default): row Z, so every element, H included, has a trained embedding (row 0 is
padding and unused). The Geom3D family indexes atoms so that H lands on row 0, the padding row of
``nn.Embedding(padding_idx=0)``, whose vector is zero and never updated:

* ``geossl_vocabulary``: GeoSSL's vocabulary H, C, N, O, F, P, S, Cl → rows 0..7, any other element → 8;
* ``atomic_number_minus_1``: MoleculeSDE's Z − 1 (an atom outside the featurizer's vocabulary, Z = 0,
  reads row 0 too).
"""

from __future__ import annotations

import torch

ATOM_INDICES = ("atomic_number", "geossl_vocabulary", "atomic_number_minus_1")
GEOSSL_VOCABULARY = (1, 6, 7, 8, 9, 15, 16, 17)  # row of the i-th element; unknown elements share the next row


def check_atom_index(atom_index: str) -> None:
    if atom_index not in ATOM_INDICES:
        raise ValueError(f"atom_index must be one of {ATOM_INDICES}, got {atom_index!r}")


def embedding_rows(z: torch.Tensor, atom_index: str) -> torch.Tensor:
    """The embedding row of each atom with atomic number ``z`` under ``atom_index``."""
    if atom_index == "atomic_number":
        return z
    if atom_index == "atomic_number_minus_1":
        return (z - 1).clamp(min=0)
    check_atom_index(atom_index)
    lookup = torch.full((int(z.max()) + 1 if z.numel() else 1,), len(GEOSSL_VOCABULARY), dtype=z.dtype,
                        device=z.device)
    for row, element in enumerate(GEOSSL_VOCABULARY):
        if element < len(lookup):
            lookup[element] = row
    return lookup[z]
