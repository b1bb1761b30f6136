"""Which molecule a score is written to: its own (``"aligned"``, the methods' definition) or, as the official
MolPeg code writes it, the position the molecule took in a shuffled loader (``"official_shuffled"``).

The official code scores GraNd, Least Confidence / Entropy and Forgetting through ``shuffle=True`` loaders
and stores the scores by batch position: GraNd writes batch i of the shuffled loader to rows
i·bs..(i+1)·bs of its score matrix, the uncertainty scores are appended in the shuffled loader's order,
and Forgetting's warm-up pairs each shuffled batch with the batch indices of an independent numpy
permutation. So training position j receives the score of molecule ``order[j]``, where ``order`` is the
loader's draw, and the code's top-k keeps exactly {j : order[j] in the true top-k}: a uniformly random
subset of size k, independent of the scores. Forgetting draws a new pairing every warm-up epoch, so each
epoch's correctness is attributed through a permutation of its own before the forgetting events are
counted (the composition of two independent uniform permutations is a uniform permutation).

``official_shuffled`` reproduces this with ``loader_order``: a permutation seeded from the run seed, the
method's name and the draw (a warm-up run of GraNd, a warm-up epoch of Forgetting) on a stream of its own,
so it shifts no other draw of the run. The methods apply ``attribute`` (through
``ScoredPruner.attributed``) to what they score, before the scores are cached and ranked.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from molpeg_bench.methods.options import choice

SCORE_ALIGNMENTS = ("aligned", "official_shuffled")
_STREAM = 0x5C0DE  # the loader orders' own stream: no other draw of a run is seeded with it


@dataclass(frozen=True)
class AlignmentOptions:
    """The option of the methods the official code scores through a shuffled loader."""

    # "aligned": every molecule gets its own score; "official_shuffled": the official code's attribution by
    # shuffled-loader position (a random subset whatever the scores; see methods.alignment)
    score_alignment: str = choice("aligned", *SCORE_ALIGNMENTS)


def loader_order(seed: int, method: str, n: int, draw: int = 0) -> np.ndarray:
    """[n] the shuffled loader's order of draw ``draw`` of ``method`` in the run seeded ``seed``: position j of
    the loader holds molecule ``order[j]``."""
    return np.random.default_rng([seed, _STREAM, zlib.crc32(method.encode()), draw]).permutation(n)


def attribute(values: np.ndarray, alignment: str, seed: int, method: str, draw: int = 0) -> np.ndarray:
    """``values`` [N, ...] (one row per molecule) as the method sees them: unchanged when ``aligned``; under
    ``official_shuffled`` row j holds the row of molecule ``loader_order(seed, method, N, draw)[j]``."""
    if alignment == "aligned":
        return values
    if alignment != "official_shuffled":
        raise ValueError(f"{method}: score_alignment must be one of {SCORE_ALIGNMENTS}, got {alignment!r}")
    values = np.asarray(values)
    return values[loader_order(seed, method, len(values), draw)]
