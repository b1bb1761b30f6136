"""Label-free and dynamics scores on constructed cases: Herding, K-Means, CD, Least Confidence, Entropy,
Forgetting; every static method on a regression context reports its adaptation."""

import numpy as np
import pytest

from molpeg_bench.methods import available_methods, get_method, make_pruner
from molpeg_bench.methods.diversity import k_center_greedy
from molpeg_bench.methods.forgetting import forgetting_scores
from molpeg_bench.methods.kmeans import centroid_similarity, prototype_selection
from tests.support.context import FakeContext, linear_head, random_context


def _ctx_with_embeddings(h: np.ndarray) -> FakeContext:
    return FakeContext(h=h, labels=np.zeros((len(h), 1)), head=linear_head(np.zeros((1, h.shape[1])), np.zeros(1)))


def _herding_order(h: np.ndarray, k: int, pick) -> list[int]:
    """Brute force: step t picks ``pick`` (argmax or argmin) over the rest of ‖(t+1)μ − Σ_S h − h_x‖."""
    mu, order = h.mean(axis=0), []
    for t in range(k):
        rest = np.setdiff1d(np.arange(len(h)), order)
        resid = (t + 1) * mu - h[order].sum(axis=0)
        order.append(int(rest[pick(np.linalg.norm(resid - h[rest], axis=1))]))
    return order


def test_herding_default_is_the_argmax_of_the_reference_codes_and_paper_the_argmin():
    rng = np.random.default_rng(0)
    h = rng.normal(size=(50, 4))
    mu = h.mean(axis=0)
    default = make_pruner("herding", n_samples=50, keep_ratio=0.2)
    assert default.version == 2 and default.options.direction == "deepcore"
    order = default.select(_ctx_with_embeddings(h)).meta["order"]
    assert order[0] == int(np.argmax(np.linalg.norm(h - mu, axis=1)))  # the farthest from the mean first
    assert order == _herding_order(h, 10, np.argmax)
    paper = make_pruner("herding", n_samples=50, keep_ratio=0.2, options={"direction": "paper"})
    order = paper.select(_ctx_with_embeddings(h)).meta["order"]
    assert order[0] == int(np.argmin(np.linalg.norm(h - mu, axis=1)))  # the nearest to the mean first
    assert order == _herding_order(h, 10, np.argmin)


def test_kmeans_keeps_points_farthest_from_their_centroid():
    rng = np.random.default_rng(0)
    centres = np.eye(3) * 5.0
    core = np.concatenate([c + 0.05 * rng.normal(size=(20, 3)) for c in centres])
    outliers = np.array([[5.0, 2.5, 0.0], [0.0, 5.0, 2.5], [2.5, 0.0, 5.0]])
    h = np.concatenate([core, outliers])
    ctx = _ctx_with_embeddings(h)
    sel = make_pruner("kmeans", n_samples=63, keep_ratio=3 / 63,
                      options={"n_clusters": 3, "cluster_floor": 0.0}).select(ctx)
    assert sel.indices.tolist() == [60, 61, 62]
    assert ctx.calls == [("pretrained",)]  # no warm-up: the pretrained encoder only
    assert type(make_pruner("kmeans", n_samples=5, keep_ratio=0.5)).requirements(None).pretrained_only


def test_kmeans_per_cluster_floor_and_tanimoto():
    similarity = np.array([0.9, 0.1, 0.5, 0.95, 0.2, 0.8, 0.3, 0.7])
    assign = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    rng = np.random.default_rng(0)
    # floor = ceil(0.5·4·2/8) = 1 per cluster: the hardest of each cluster
    assert prototype_selection(similarity, assign, 2, 0.5, rng).tolist() == [1, 4]
    # k = 3: floors (1 + 1) then the globally hardest leftover (index 6, similarity 0.3)
    assert prototype_selection(similarity, assign, 3, 0.5, rng).tolist() == [1, 4, 6]
    a = np.array([[1.0, 1.0, 0.0]])
    assert centroid_similarity(a, np.array([[1.0, 0.0, 1.0]]), np.array([0]), "tanimoto")[0] == pytest.approx(1 / 3)


def test_kmeans_fingerprint_features_cluster_smiles():
    smiles = ["CCO", "CCCO", "CCCCO", "c1ccccc1", "c1ccccc1C", "c1ccccc1CC"]
    ctx = _ctx_with_embeddings(np.zeros((6, 2)))
    ctx.smiles = smiles
    sel = make_pruner("kmeans", n_samples=6, keep_ratio=0.5,
                      options={"n_clusters": 2, "features": "fingerprint"}).select(ctx)
    assert len(sel.indices) == 3 and np.all((sel.scores >= 0) & (sel.scores <= 1))


def _sym_kl(p: np.ndarray, q: np.ndarray) -> float:
    def kl(a, b):
        return a * np.log(a / b) + (1 - a) * np.log((1 - a) / (1 - b))
    return float(np.sum(0.5 * (kl(p, q) + kl(q, p))))


def test_cd_is_k_center_greedy_under_bernoulli_symmetric_kl():
    ctx = random_context(n=30, d=3, t=2, seed=4)
    pruner = make_pruner("cd", n_samples=30, keep_ratio=0.2, seed=1)
    sel = pruner.select(ctx)
    p = 1 / (1 + np.exp(-ctx.logits(ctx.head)))
    dist = np.array([[_sym_kl(p[i], p[j]) for j in range(30)] for i in range(30)])
    chosen = [sel.meta["first_centre"]]
    while len(chosen) < pruner.k:  # brute-force k-centre with the full distance matrix
        nearest = dist[:, chosen].min(axis=1)
        nearest[chosen] = -1
        chosen.append(int(np.argmax(nearest)))
    assert sorted(chosen) == sel.indices.tolist()
    assert k_center_greedy(lambda j: dist[j], 30, 1, 7).tolist() == [7]


def _prob_ctx(p: np.ndarray) -> FakeContext:
    """Logits chosen so that σ(z) = p exactly (weights 0, one sample per row via the bias is impossible,
    so the embeddings carry the logit and the head is the identity)."""
    z = np.log(p) - np.log1p(-p)
    t = p.shape[1]
    return FakeContext(h=z, labels=np.full(p.shape, np.nan), head=linear_head(np.eye(t), np.zeros(t)))


def test_least_confidence_and_entropy_on_known_probabilities():
    p = np.array([[0.5, 0.99], [0.9, 0.9], [0.6, 0.4], [0.99, 0.01], [0.7, 0.5]])
    lc = make_pruner("least_confidence", n_samples=5, keep_ratio=0.4).select(_prob_ctx(p))
    assert np.allclose(lc.scores, (1 - np.maximum(p, 1 - p)).sum(axis=1))
    assert lc.indices.tolist() == [2, 4]  # 0.8 and 0.8 vs 0.51, 0.2, 0.02
    ent = make_pruner("entropy", n_samples=5, keep_ratio=0.4).select(_prob_ctx(p))
    h = -(p * np.log(p + 1e-6) + (1 - p) * np.log(1 - p + 1e-6))
    assert np.allclose(ent.scores, h.sum(axis=1)) and ent.indices.tolist() == [2, 4]
    deepcore = make_pruner("entropy", n_samples=5, keep_ratio=0.4, options={"direction": "deepcore"})
    assert deepcore.select(_prob_ctx(p)).indices.tolist() == [1, 3]  # the most confident


def test_forgetting_counts_transitions_and_never_learned_per_option():
    # 4 epochs, 4 samples, 2 tasks; sample 3's task 1 is missing
    c = np.array([
        [[1, 1], [1, 0], [0, 0], [1, 0]],
        [[0, 1], [1, 0], [0, 0], [0, 0]],
        [[1, 0], [1, 0], [0, 0], [1, 1]],
        [[0, 1], [1, 0], [0, 0], [0, 0]],
    ], dtype=bool)
    valid = np.array([[1, 1], [1, 1], [1, 1], [1, 0]], dtype=bool)
    steps = list(c)
    per_task = forgetting_scores(steps, valid, "per_task", "infinite")
    # sample 0: task0 1→0, 1→0 (2), task1 1→0 (1) = 3; sample 1: task 1 never correct -> ∞;
    # sample 2: never correct -> ∞; sample 3: task0 1→0 twice = 2 (task 1 missing: its 1 is ignored)
    assert per_task.tolist() == [3, np.inf, np.inf, 2]
    assert forgetting_scores(steps, valid, "per_task", "zero").tolist() == [3, 0, 0, 2]
    # MolPeg count: #correct per epoch; sample 0: 2,1,1,1 -> 1 event; sample 1: 1,1,1,1 -> 0; sample 2 never
    assert forgetting_scores(steps, valid, "count", "infinite").tolist() == [1, 0, np.inf, 2]
    ctx = FakeContext(h=np.zeros((4, 1)), labels=np.where(valid, 1.0, np.nan),
                      head=linear_head(np.zeros((2, 1)), np.zeros(2)), correctness=steps)
    sel = make_pruner("forgetting", n_samples=4, keep_ratio=0.5, options={"warmup_epochs": 4}).select(ctx)
    assert sel.indices.tolist() == [1, 2] and ("correctness", 4, 0) in ctx.calls
    sel = make_pruner("forgetting", n_samples=4, keep_ratio=0.5,
                      options={"warmup_epochs": 4, "never_learned": "zero"}).select(ctx)
    assert sel.indices.tolist() == [0, 3]


@pytest.mark.parametrize("name", [n for n in available_methods() if get_method(n).family == "static"])
def test_every_static_method_selects_k_on_regression_and_names_its_adaptation(name):
    ctx = random_context(n=24, d=3, t=2, task_type="regression")
    ctx.smiles = ["CCO"] * 24
    if name == "deepfool":
        pytest.skip("DeepFool needs input-embedding batches (tests/methods/test_methods_deepfool.py)")
    pruner = make_pruner(name, n_samples=24, keep_ratio=0.5)
    if name == "forgetting":  # no correctness is defined for regression: refused, not adapted
        with pytest.raises(ValueError, match="forgetting is not defined for regression"):
            pruner.select(ctx)
        return
    sel = pruner.select(ctx)
    assert len(np.unique(sel.indices)) == pruner.k == 12
    label_free = name in ("herding", "kmeans", "random", "whole")
    assert (pruner.describe().get("adapted") is None) == label_free


def test_per_method_warmup_gives_each_method_warmup_runs_of_its_own():
    from molpeg_bench.benchmark.selection.context import Provided
    from molpeg_bench.methods.scored import warmup_seed_offset

    ctx = random_context(n=24, d=3, t=1)
    for name in ("least_confidence", "entropy"):
        make_pruner(name, n_samples=24, keep_ratio=0.5, options={"warmup": "per_method"}).select(ctx)
        make_pruner(name, n_samples=24, keep_ratio=0.5).select(ctx)
    warmups = [c for c in ctx.calls if c[0] == "warmup"]
    lc, entropy = (warmup_seed_offset(n, get_method(n).Options(warmup="per_method")) for n in ("least_confidence",
                                                                                              "entropy"))
    assert warmups == [("warmup", 20, lc), ("warmup", 20, 0), ("warmup", 20, entropy), ("warmup", 20, 0)]
    assert lc != entropy and min(lc, entropy) >= 1000
    requirements = get_method("entropy").requirements(get_method("entropy").Options(warmup="per_method"))
    assert list(Provided.from_requirements(requirements).warmup_indices()) == [entropy]
