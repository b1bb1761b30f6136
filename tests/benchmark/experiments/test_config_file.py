"""Experiments as files: a TOML grid resolves to exactly the runs it states, refuses what it cannot mean, and
a named grid printed as such a file resolves back to the same runs."""

from __future__ import annotations

import tomllib

import pytest

from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.benchmark.experiments.config_dump import document_from_configs, dump
from molpeg_bench.benchmark.experiments.config_file import ConfigFileError, apply_sets, resolve

GRID = {
    "datasets": ["nci-tpsa", {"name": "hiv", "subsample": 300}],
    "prune_ratios": [0.5],
    "seeds": [0],
    "run": {"epochs": 3, "lr": 1, "preset": "ci"},
    "methods": ["random", {"name": "herding", "options": {"direction": "paper"}, "seeds": [0, 1], "epochs": 5}],
}


def _cells(configs: list[RunConfig]) -> list[tuple]:
    return [(c.dataset, c.method, c.prune_ratio, c.seed, c.method_options, c.epochs, c.subsample) for c in configs]


def test_a_grid_resolves_to_whole_runs_then_each_seed_method_ratio_and_dataset():
    configs = resolve(GRID)
    assert _cells(configs) == [
        ("nci-tpsa", "whole", 0.0, 0, {}, 3, None), ("hiv", "whole", 0.0, 0, {}, 3, 300),
        ("nci-tpsa", "random", 0.5, 0, {}, 3, None), ("hiv", "random", 0.5, 0, {}, 3, 300),
        ("nci-tpsa", "herding", 0.5, 0, {"direction": "paper"}, 5, None),
        ("hiv", "herding", 0.5, 0, {"direction": "paper"}, 5, 300),
        ("nci-tpsa", "herding", 0.5, 1, {"direction": "paper"}, 5, None),
        ("hiv", "herding", 0.5, 1, {"direction": "paper"}, 5, 300)]
    assert {c.lr for c in configs} == {1.0} and all(isinstance(c.lr, float) for c in configs)
    assert {c.preset for c in configs} == {"ci"}


def test_whole_false_and_a_whole_entry_with_its_own_seeds():
    configs = resolve({**GRID, "whole": False, "methods": [{"name": "whole", "seeds": [3], "fidelity": "code"}]})
    assert [(c.dataset, c.method, c.seed, c.fidelity) for c in configs] == [
        ("nci-tpsa", "whole", 3, "code"), ("hiv", "whole", 3, "code")]


@pytest.mark.parametrize("document, words", [
    ({**GRID, "seed": [0]}, ["'seed'", "the grid", "'seeds'"]),
    ({**GRID, "run": {"epoch": 2}}, ["'epoch'", "[run]", "'epochs'"]),
    ({**GRID, "methods": [{"name": "random", "option": {}}]}, ["'option'", "methods entry 'random'", "'options'"]),
    ({**GRID, "datasets": [{"name": "hiv", "seeds": [1]}]}, ["'seeds'", "datasets entry 'hiv'"]),
])
def test_an_unknown_key_is_refused_naming_it_where_and_what_is_allowed(document, words):
    with pytest.raises(ConfigFileError) as caught:
        resolve(document, "exp.toml")
    message = str(caught.value)
    assert message.startswith("exp.toml: unknown key")
    assert all(word in message for word in words), message


@pytest.mark.parametrize("document, words", [
    ({**GRID, "run": {"epochs": "two"}}, ["'epochs'", "int", "'two'"]),
    ({**GRID, "run": {"dropout": True}}, ["'dropout'", "float"]),
    ({**GRID, "seeds": [-1]}, ["'seeds'", "integers >= 0"]),
    ({**GRID, "prune_ratios": [1.5]}, ["'prune_ratios'", "(0, 1)"]),
    ({k: v for k, v in GRID.items() if k != "datasets"}, ["missing 'datasets'"]),
    ({**GRID, "methods": ["random"], "prune_ratios": None}, ["'random' has no prune ratios"]),
    ({**GRID, "methods": [{"name": "random", "options": {"no_such": 1}}]}, ["method 'random'", "no_such"]),
])
def test_a_value_of_the_wrong_kind_is_refused_naming_the_key(document, words):
    document = {k: v for k, v in document.items() if v is not None}
    with pytest.raises(ConfigFileError) as caught:
        resolve(document, "exp.toml")
    assert all(word in str(caught.value) for word in words), str(caught.value)


def test_set_overrides_a_run_setting_everywhere_and_a_grid_key():
    document = apply_sets(GRID, ["epochs=1", "seeds=[0, 2]", "split=scaffold", "subsample=0"])
    configs = resolve(document)
    assert {c.epochs for c in configs} == {1}  # the herding entry's own epochs = 5 is overridden too
    assert {c.split for c in configs} == {"scaffold"} and {c.subsample for c in configs} == {None}
    assert sorted({c.seed for c in configs if c.method == "random"}) == [0, 2]
    assert GRID["run"] == {"epochs": 3, "lr": 1, "preset": "ci"}  # the document given is left as it was
    with pytest.raises(ConfigFileError, match="unknown key 'epoch'.*'epochs'"):
        apply_sets(GRID, ["epoch=1"])
    with pytest.raises(ConfigFileError, match="expected KEY=VALUE"):
        apply_sets(GRID, ["epochs"])


def test_configs_written_as_a_document_resolve_to_the_same_runs():
    configs = resolve(GRID)
    text = dump(document_from_configs(configs, "mine"), "a header")
    assert text.startswith("# a header\n")
    assert resolve(tomllib.loads(text)) == configs


def test_runs_that_are_no_grid_are_refused_rather_than_written_as_another():
    configs = [RunConfig(dataset="nci-tpsa", method="random", prune_ratio=0.5, seed=0),
               RunConfig(dataset="hiv", method="random", prune_ratio=0.4, seed=0)]
    with pytest.raises(ValueError, match="do not form a grid"):
        document_from_configs(configs)
