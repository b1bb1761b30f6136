"""K-Means self-supervised prototypes (Sorscher et al., NeurIPS 2022), docs/methods/static-geometry.md#kmeans.

Cluster label-free features of the **pretrained** model (no warm-up, no labels) into K clusters and keep
the hardest samples: lowest similarity to their own centroid. MolPeg's per-cluster floor: each cluster c
first contributes its ceil(cluster_floor·|c|·k/N) hardest members, the rest of the budget goes to the globally
hardest leftovers; if the floors alone exceed k, a seeded random k of them is kept.

``features="embedding"`` (default): L2-normalised pooled embeddings, cosine similarity.
``features="fingerprint"``: Morgan fingerprints (radius 2, 1024 bits) with Tanimoto similarity to the
centroid, a·c / (‖a‖² + ‖c‖² − a·c) (the squared-norm form; the MolPeg helper uses plain norms).
Clustering is scikit-learn's KMeans (MiniBatchKMeans above ``minibatch_above`` samples).

The code bundle (``--fidelity code``) follows the official MolPeg code's ``mini_kmeans.KMeans`` and
``PrototypesGetHardExamples``: its K (100), ``max_iter`` (100), floor share (0.5, with the same ceiling) and
hardest-first order are already the defaults; it starts from random rows rather than k-means++
(``init="random"``). Not reproduced: it assigns by cosine similarity to the raw (unnormalised) centroids,
where the Euclidean assignment of the normalised embeddings here weighs a centroid's norm too, and its
``tol`` bounds the mean squared centroid move rather than scikit-learn's relative shift.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from molpeg_bench.methods.base import Requirements, Selection, StaticOptions, StaticPruner
from molpeg_bench.methods.options import choice
from molpeg_bench.methods.registry import register
from molpeg_bench.methods.scored import top_k


@dataclass(frozen=True)
class KMeansOptions(StaticOptions):
    n_clusters: int = 100  # K (MolPeg --K 100)
    cluster_floor: float = 0.5  # per-cluster floor share (MolPeg's ``balance=0.5``)
    # "embedding" (pretrained encoder, cosine) or "fingerprint" (Morgan, Tanimoto)
    features: str = choice("embedding", "embedding", "fingerprint")
    max_iter: int = 100
    tol: float = 1e-4
    minibatch_above: int = 100_000  # use MiniBatchKMeans for larger training sets
    # centroid initialisation: "k-means++" or "random" rows (the official code's mini_kmeans default)
    init: str = choice("k-means++", "k-means++", "random")


def morgan_fingerprints(smiles: list[str], radius: int = 2, n_bits: int = 1024) -> np.ndarray:
    """[N, n_bits] float32 Morgan bit vectors (all zero for an unparsable SMILES)."""
    from rdkit import Chem, RDLogger
    from rdkit.Chem import rdFingerprintGenerator

    RDLogger.DisableLog("rdApp.*")
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)
    out = np.zeros((len(smiles), n_bits), dtype=np.float32)
    for i, smi in enumerate(smiles):
        mol = Chem.MolFromSmiles(smi)
        if mol is not None:
            out[i] = generator.GetFingerprintAsNumPy(mol)
    return out


def centroid_similarity(x: np.ndarray, centroids: np.ndarray, assign: np.ndarray, kind: str) -> np.ndarray:
    """[N] similarity of each row of ``x`` to its own centroid (cosine or Tanimoto)."""
    c = centroids[assign]
    dot = np.einsum("id,id->i", x, c)
    if kind == "cosine":
        return dot / np.maximum(np.linalg.norm(x, axis=1) * np.linalg.norm(c, axis=1), 1e-12)
    return dot / np.maximum(np.einsum("id,id->i", x, x) + np.einsum("id,id->i", c, c) - dot, 1e-12)


def prototype_selection(similarity: np.ndarray, assign: np.ndarray, k: int, floor_share: float,
                        rng: np.random.Generator, hardest: bool = True) -> np.ndarray:
    """Hardest-first (lowest similarity) selection with MolPeg's per-cluster floor (module docstring)."""
    n = len(similarity)
    floored = []
    for c in np.unique(assign):
        members = np.flatnonzero(assign == c)
        floor = min(len(members), math.ceil(floor_share * len(members) * k / n))
        floored.append(members[top_k(similarity[members], floor, rng, highest=not hardest)])
    floored = np.concatenate(floored) if floored else np.zeros(0, dtype=np.int64)
    if len(floored) >= k:
        return np.sort(rng.choice(floored, k, replace=False)).astype(np.int64)
    rest = np.setdiff1d(np.arange(n), floored)
    fill = rest[top_k(similarity[rest], k - len(floored), rng, highest=not hardest)]
    return np.sort(np.concatenate([floored, fill])).astype(np.int64)


@register("kmeans")
class KMeansPrototypes(StaticPruner):
    Options = KMeansOptions
    requires = Requirements(needs_embeddings=True, pretrained_only=True)
    keep_highest = True  # the hardest: the lowest similarity to their own centroid
    code_options = {"init": "random"}
    code_reference = "official MolPeg code: pruning/mini_kmeans.py, utils.py"

    def coreset(self, ctx) -> Selection:
        if self.options.features == "embedding":
            x = ctx.embeddings(ctx.pretrained_model()).astype(np.float64)
            x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        else:
            x = morgan_fingerprints(list(ctx.smiles)).astype(np.float64)
        n_clusters = min(self.options.n_clusters, self.n_samples)
        seed = int(self.epoch_rng(0).integers(2 ** 31))
        common = {"n_clusters": n_clusters, "max_iter": self.options.max_iter, "random_state": seed,
                  "init": self.options.init}
        if self.n_samples > self.options.minibatch_above:
            from sklearn.cluster import MiniBatchKMeans  # here: scikit-learn imports pandas when it is installed

            model = MiniBatchKMeans(batch_size=4096, n_init=3, tol=self.options.tol, **common)
        else:
            from sklearn.cluster import KMeans

            model = KMeans(n_init=1, tol=self.options.tol, **common)
        assign = model.fit_predict(x)
        kind = "cosine" if self.options.features == "embedding" else "tanimoto"
        sim = centroid_similarity(x, model.cluster_centers_, assign, kind)
        indices = prototype_selection(sim, assign, self.k, self.options.cluster_floor, self.epoch_rng(0),
                                      hardest=self.keep_highest)
        return Selection(indices=indices, scores=sim, meta={"n_clusters": n_clusters,
                                                           "inertia": float(model.inertia_)})
