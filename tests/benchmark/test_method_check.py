"""``check-method``: every built-in method keeps the contract, and a planted defect in a method from outside
the suite is caught, by the property it breaks."""

from __future__ import annotations

import textwrap

import pytest

from molpeg_bench.benchmark.cli import main
from molpeg_bench.benchmark.method_check import check_method
from molpeg_bench.methods import available_methods

TOY_HEADER = """
import numpy as np
from molpeg_bench.methods.base import DynamicPruner, Selection, StaticPruner, StaticOptions, shuffled_plan
"""

DEFECTS = {
    # one sample too many at every budget
    "budget": ("""
class Toy(StaticPruner):
    Options = StaticOptions
    def coreset(self, ctx):
        return Selection(indices=np.arange(min(self.k + 1, self.n_samples)))
""", "exact budget"),
    # draws from numpy's global stream instead of its seed
    "unseeded": ("""
class Toy(StaticPruner):
    Options = StaticOptions
    def coreset(self, ctx):
        return Selection(indices=np.sort(np.random.permutation(self.n_samples)[:self.k]))
""", "deterministic under the seed"),
    # rotates through the data with a counter it does not save: a resumed run starts over
    "unsaved_state": ("""
class Toy(DynamicPruner):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.offset = 0
    def rotation_epochs(self):
        return -(-self.n_samples // self.k)
    def plan_epoch(self, epoch):
        idx = (self.offset + np.arange(self.k)) % self.n_samples
        self.offset += self.k
        return shuffled_plan(self.epoch_rng(epoch), idx, 1.0)
""", "state saved and resumed"),
    # promises to visit everyone within ceil(N / k) epochs but keeps the first k forever
    "no_rotation": ("""
class Toy(DynamicPruner):
    def rotation_epochs(self):
        return -(-self.n_samples // self.k)
    def plan_epoch(self, epoch):
        return shuffled_plan(self.epoch_rng(epoch), np.arange(self.k), 1.0)
""", "rotation bound"),
    # a zero weight
    "zero_weight": ("""
class Toy(DynamicPruner):
    def plan_epoch(self, epoch):
        idx = self.epoch_rng(epoch).permutation(self.n_samples)[:self.k]
        return shuffled_plan(self.epoch_rng(epoch), idx, np.arange(self.k, dtype=float))
""", "weights finite and positive"),
}


@pytest.mark.parametrize("name", available_methods())
def test_every_built_in_method_keeps_the_contract(name):
    outcomes = check_method(name)
    assert all(o.ok for o in outcomes), [o.line() for o in outcomes if not o.ok]
    assert len(outcomes) >= 4


def write_module(tmp_path, monkeypatch, module: str, body: str) -> str:
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(TOY_HEADER + body))
    monkeypatch.syspath_prepend(str(tmp_path))
    return f"{module}:Toy"


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_a_planted_defect_fails_the_property_it_breaks(defect, tmp_path, monkeypatch, capsys):
    body, broken = DEFECTS[defect]
    spec = write_module(tmp_path, monkeypatch, f"toy_{defect}", body)
    assert main(["check-method", spec]) == 1
    out = capsys.readouterr().out
    failed = [line for line in out.splitlines() if line.startswith("✗")]
    assert failed and all(broken in line for line in failed), out
    assert "the method loads" in out and "properties hold" in out


def test_a_correct_external_method_passes(tmp_path, monkeypatch, capsys):
    spec = write_module(tmp_path, monkeypatch, "toy_fine", """
class Toy(DynamicPruner):
    def rotation_epochs(self):
        return 1 if self.k == self.n_samples else None
    def plan_epoch(self, epoch):
        idx = self.epoch_rng(epoch).permutation(self.n_samples)[:self.k]
        return shuffled_plan(self.epoch_rng(epoch), idx, 1.0)
""")
    assert main(["check-method", spec]) == 0
    assert "from module toy_fine:Toy" in capsys.readouterr().out
