"""Method options are coerced to their declared types and checked against their allowed values."""

from __future__ import annotations

import logging

import pytest

from molpeg_bench.benchmark.cli import main
from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.methods import InfoBatch, MolPeg, SoftRandom


@pytest.mark.parametrize("method,option,value,expected", [
    ("soft_random", "replace", "no", "is not a boolean (true or false)"),
    ("molpeg", "beta", "abc", "is not a number"),
    ("molpeg", "beta", 1.5, "out of range; expected a number in [0.0, 1.0]"),
    ("molpeg", "criterion", "hardest", "expected one of ['absolute', 'hard', 'easy']"),
    ("molpeg", "shared", [1, 2], "is not a list of str"),
    ("infobatch", "max_prune", "abc", "is not a number"),
    ("infobatch", "initial_score", "abc", "is not a number"),
    ("infobatch", "budget", "exact", "expected one of ['nominal', 'matched']"),
    ("entropy", "score_alignment", "shuffled", "expected one of ['aligned', 'official_shuffled']"),
    ("herding", "direction", "argmax", "expected one of ['deepcore', 'paper']"),
    ("kmeans", "init", "kmeans++", "expected one of ['k-means++', 'random']"),
    ("dp", "swap_block", "many", "is not an integer"),
])
def test_bad_values_name_method_option_value_and_expectation(method, option, value, expected):
    with pytest.raises(ValueError) as info:
        RunConfig(method=method, prune_ratio=0.5, method_options={option: value})
    assert f"method {method!r}: option {option}={value!r}" in str(info.value) and expected in str(info.value)


def test_text_values_are_coerced_to_the_declared_types():
    assert SoftRandom(100, 0.5, options={"replace": "true"}).options.replace is True
    assert SoftRandom(100, 0.5, options={"replace": "false"}).options.replace is False
    peg = MolPeg(100, 0.5, options={"beta": "0.25", "shared": "head,gnn", "initial_score": 2})
    assert peg.options.beta == 0.25 and peg.options.shared == ("head", "gnn")
    assert isinstance(peg.options.initial_score, float)
    assert InfoBatch(100, 0.5, options={"max_prune": "0.5"}).options.max_prune == 0.5


def test_explicit_default_names_the_same_run_as_leaving_it_out():
    plain = RunConfig(dataset="nci-tpsa", method="molpeg", prune_ratio=0.6)
    for options in ({"beta": 0.5}, {"beta": "0.5"}, {"criterion": "absolute", "shared": ["head"]}):
        explicit = plain.replace(method_options=options)
        assert explicit.method_options == {} and explicit.run_id() == plain.run_id()
    other = plain.replace(method_options={"beta": "0.1"})
    assert other.method_options == {"beta": 0.1} and other.run_id() != plain.run_id()


def test_cli_rejects_a_mistyped_option_with_exit_code_2(caplog, tmp_path):
    with caplog.at_level(logging.ERROR):
        code = main(["run", "--preset", "ci", "--dataset", "nci-tpsa", "--method", "soft_random", "--prune-ratio",
                     "0.5", "--option", "replace=no", "--store", str(tmp_path / "store")])
    assert code == 2 and "option replace='no' is not a boolean" in caplog.text
    assert not (tmp_path / "store").exists() or not list((tmp_path / "store").iterdir())
