"""The code bundles of Table 1's static rows: the official MolPeg code where it ships the method, DeepCore's
main.py defaults where only DeepCore does, none where neither does. Each resolves to exactly its options,
round-trips through a record, lets explicit options win and leaves the paper-fidelity run untouched."""

from __future__ import annotations

import numpy as np
import pytest

from molpeg_bench.benchmark.cli import main
from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.benchmark.experiments import TABLE1_STATIC
from molpeg_bench.benchmark.fidelity import describe_bundle, pruner_options
from molpeg_bench.methods import get_method, make_pruner
from tests.support.context import FakeContext, linear_head

OFFICIAL_WARMUP = {"warmup_start": "random", "score_alignment": "official_shuffled"}
BUNDLES = {
    # the official MolPeg code (its EarlyTrain warm-up builds a fresh GNN)
    "herding": {"direction": "deepcore", "warmup_start": "random"},
    "grand_4": OFFICIAL_WARMUP, "grand_20": OFFICIAL_WARMUP,
    "least_confidence": OFFICIAL_WARMUP, "entropy": OFFICIAL_WARMUP,
    "forgetting": {**OFFICIAL_WARMUP, "events": "count", "never_learned": "zero"},
    "kmeans": {"init": "random"},
    # DeepCore's main.py: every method class-balanced
    "cd": {"balance": True},
    "craig": {"balance": True, "weight_convention": "deepcore"},
    "deepfool": {"balance": True, "overshoot": 0.0},
    "glister": {"balance": True, "validation": "train", "update": False},
}
NO_REFERENCE = ("dp", "el2n_20", "influence")


@pytest.mark.parametrize("name", sorted(BUNDLES))
def test_code_fidelity_resolves_each_static_bundle_and_round_trips(name):
    config = RunConfig(method=name, prune_ratio=0.6, fidelity="code")
    assert config.method_options == BUNDLES[name]
    assert RunConfig.from_dict(config.to_dict()).method_options == BUNDLES[name]  # a record read back
    assert config.replace(seed=3).method_options == BUNDLES[name]
    assert RunConfig.from_dict(config.to_dict()).run_id() == config.run_id()
    paper = RunConfig(method=name, prune_ratio=0.6)
    assert paper.method_options == {} and paper.run_id() != config.run_id()
    method, options = pruner_options(name, config.method_options, "code")
    pruner = make_pruner(method, n_samples=50, keep_ratio=0.4, options=options)
    assert {k: getattr(pruner.options, k) for k in BUNDLES[name]} == BUNDLES[name]
    if "warmup_start" in BUNDLES[name]:  # the context trains the warm-up from a fresh initialisation
        assert type(pruner).requirements(pruner.options).warmup_start == "random"


def test_explicit_options_win_over_a_static_bundle():
    config = RunConfig(method="forgetting", prune_ratio=0.6, fidelity="code",
                       method_options={"score_alignment": "aligned", "events": "per_task"})
    expected = {"score_alignment": "aligned", "events": "per_task", "warmup_start": "random", "never_learned": "zero"}
    assert config.method_options == expected
    assert RunConfig.from_dict(config.to_dict()).method_options == expected
    glister = RunConfig(method="glister", prune_ratio=0.6, fidelity="code", method_options={"balance": False})
    assert glister.method_options == {"balance": False, "validation": "train", "update": False}


def test_rows_without_a_reference_implementation_get_no_bundle_and_are_named(capsys):
    for name in NO_REFERENCE:
        cls = get_method(name)
        assert cls.code_options == {} and cls.code_reference is None
        assert RunConfig(method=name, prune_ratio=0.6, fidelity="code").method_options == {}
    # every static row of Table 1 with options either has a bundle or says it has no reference
    assert set(TABLE1_STATIC) - {"random"} == set(BUNDLES) | set(NO_REFERENCE)
    lines = describe_bundle()
    assert "    no reference implementation, so no bundle (run as under paper): dp, el2n_20, influence" in lines
    source = {line.split(":")[0].strip(): line for line in lines if line.startswith("    ")}
    assert all("[official MolPeg code:" in source[n] for n in ("herding", "grand_4", "forgetting", "kmeans"))
    assert all("[DeepCore:" in source[n] for n in ("cd", "craig", "deepfool", "glister"))
    assert main(["methods"]) == 0
    out = capsys.readouterr().out
    assert "herding: direction=deepcore, warmup_start=random" in out and "no reference implementation" in out


def test_kmeans_init_reaches_the_clustering():
    rng = np.random.default_rng(0)
    h = rng.normal(size=(200, 3))
    ctx = FakeContext(h=h, labels=np.ones((200, 1)), head=linear_head(np.zeros((1, 3)), np.zeros(1)))
    inertia = {init: make_pruner("kmeans", n_samples=200, keep_ratio=0.2,
                                 options={"n_clusters": 8, "max_iter": 1, "init": init}).select(ctx).meta["inertia"]
               for init in ("k-means++", "random")}
    assert inertia["k-means++"] != inertia["random"]  # one Lloyd step from different starts
