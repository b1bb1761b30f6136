"""A method's output is checked by the run with the rules ``check-method`` uses, before it is trained: a broken
rule, an exception or ``sys.exit`` in method code is one error naming the method and what broke (exit code 2);
nothing is stored and no epoch checkpoint is left to resume into the same failure. A sweep goes on without the
failed run."""

import json
import textwrap

import pytest

from molpeg_bench.benchmark.cli import main
from molpeg_bench.methods.budget import budget
from tests.support.data import needs_shared_data
from tests.support.runs import Killed
from tests.support.user_code import write_module

N_TRAIN = 480  # the ci preset's 600 HIV molecules, 80 % of them in the training split
K = budget(N_TRAIN, 0.6)  # kept at --prune-ratio 0.4
RUN = ["run", "--preset", "ci", "--dataset", "hiv", "--prune-ratio", "0.4"]
HEADER = """
import os
import signal
import sys

import numpy as np

from molpeg_bench.methods.base import DynamicPruner, EpochPlan, Selection, StaticPruner, shuffled_plan


def weights_with(value, k):
    weights = np.ones(k)
    weights[3] = value
    return weights


class NanBatches(EpochPlan):
    # a plan that makes its own batches, the way MolPeg weighs its last batch when it is reached

    def batches(self, batch_size):
        for start in range(0, len(self.indices), batch_size):
            positions = self.indices[start:start + batch_size]
            yield positions, np.full(len(positions), np.nan)
"""
STATIC = {  # class name -> (coreset body, what the error says)
    "NegativeWeight": ("Selection(np.arange(self.k), weights_with(-0.5, self.k))",
                       "select() returned a weight of -0.5 at position 3; expected finite positive weights"),
    "ZeroWeight": ("Selection(np.arange(self.k), weights_with(0.0, self.k))",
                   "select() returned a weight of 0 at position 3; expected finite positive weights"),
    "NanWeight": ("Selection(np.arange(self.k), weights_with(np.nan, self.k))",
                  "select() returned a weight of nan at position 3; expected finite positive weights"),
    "Duplicate": ("Selection(np.r_[0, np.arange(self.k - 1)])",
                  f"select() returned duplicate indices (0 appears twice); expected unique indices in [0, {N_TRAIN})"),
    "OutOfRange": ("Selection(np.arange(self.n_samples - self.k + 1, self.n_samples + 1))",
                   f"select() returned an index out of range ({N_TRAIN}); expected indices in [0, {N_TRAIN})"),
    "FloatIndices": ("Selection(np.arange(self.k, dtype=float))",
                     "select() returned indices of dtype float64; expected an integer array"),
    "TooMany": ("Selection(np.arange(self.k + 1))",
                f"select() returned {K + 1} indices; expected exactly k = {K} (the budget)"),
}
DYNAMIC = {  # class name -> (plan_epoch body, what the error says)
    "DuplicateInEpoch2": ("idx = np.arange(self.k)\n"
                          "if epoch == 2 and self.k > 1:\n    idx[-1] = 0\n"
                          "return shuffled_plan(self.epoch_rng(epoch), idx)",
                          f"plan_epoch(2) returned duplicate indices (0 appears twice); expected unique indices in "
                          f"[0, {N_TRAIN})"),
    "Negative": ("return shuffled_plan(self.epoch_rng(epoch), np.arange(-1, self.k - 1))",
                 f"plan_epoch(1) returned an index out of range (-1); expected indices in [0, {N_TRAIN})"),
    "TooManyInEpoch": ("return shuffled_plan(self.epoch_rng(epoch), np.arange(self.k + 2))",
                       f"plan_epoch(1) returned {K + 2} indices; expected exactly k = {K} (the budget)"),
    "FloatInEpoch": ("return EpochPlan(np.arange(self.k, dtype=float), np.ones(self.k))",
                     "plan_epoch(1) returned indices of dtype float64; expected an integer array"),
    "NanInItsBatches": ("return NanBatches(np.arange(self.k), np.ones(self.k))",
                        "plan_epoch(1) returned a plan whose batches carry a weight of nan at position 0, and 63 more; "
                        "expected finite positive weights"),
    # rewrites the plan's array after the first batch: every later batch would train sample 0 again and again
    "RewritesPlan": ("self.plan = np.arange(self.k)\n"
                     "return EpochPlan(self.plan, np.ones(self.k, dtype=np.float32))",
                     "plan_epoch(1) returned a plan whose indices it changed during the epoch"),
}
REWRITE = """
    def observe(self, indices, losses, ref_losses=None):
        self.plan[:] = 0
"""


def _hostile_module(folder) -> str:
    source = HEADER
    for name, (body, _) in STATIC.items():
        source += f"\n\nclass {name}(StaticPruner):\n    def coreset(self, ctx):\n        return {body}\n"
    for name, (body, _) in DYNAMIC.items():
        source += (f"\n\nclass {name}(DynamicPruner):\n    def plan_epoch(self, epoch):\n"
                   + textwrap.indent(body, " " * 8) + "\n" + (REWRITE if name == "RewritesPlan" else ""))
    write_module(folder, "hostile", source)
    return "hostile"


def _errors(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]


def _left_behind(store) -> list[str]:
    """Records and epoch checkpoints (or their temporary files) in the store."""
    return sorted(p.name for p in [*store.glob("*.json"), *store.glob(".work/*/*checkpoint*")])


@needs_shared_data("hiv.csv.gz")
@pytest.mark.parametrize("name", [*STATIC, *DYNAMIC])
def test_a_method_output_breaking_the_contract_fails_the_run_in_one_line(name, user_code, tmp_path, caplog):
    method = f"{_hostile_module(user_code)}:{name}"
    store = tmp_path / "store"
    assert main([*RUN, "--method", method, "--store", str(store)]) == 2
    (error,) = _errors(caplog)
    expected = {**STATIC, **DYNAMIC}[name][1]
    assert error.startswith(f"method {method!r}: {expected}"), error
    assert "\n" not in error
    assert _left_behind(store) == []


SYS_EXIT = {
    "import": "sys.exit(0)\n",
    "select": "class Exits(StaticPruner):\n    def coreset(self, ctx):\n        sys.exit(0)\n",
    "plan_epoch": "class Exits(DynamicPruner):\n    def plan_epoch(self, epoch):\n        sys.exit(0)\n",
}


@needs_shared_data("hiv.csv.gz")
@pytest.mark.parametrize("where", sorted(SYS_EXIT))
def test_sys_exit_in_method_code_fails_the_run(where, user_code, tmp_path, caplog):
    write_module(user_code, f"exits_in_{where}", HEADER + SYS_EXIT[where])
    method = f"exits_in_{where}:Exits"
    assert main([*RUN, "--method", method, "--store", str(tmp_path / "store")]) == 2
    (error,) = _errors(caplog)
    call = {"import": "importing module 'exits_in_import' called sys.exit", "select": "select() called sys.exit(0)",
            "plan_epoch": "plan_epoch(1) called sys.exit(0)"}[where]
    assert error.startswith(f"method {method!r}: {call}"), error
    assert not list((tmp_path / "store").glob("*.json"))


def test_check_method_reports_sys_exit_as_a_broken_property(user_code, capsys):
    write_module(user_code, "exits_checked", HEADER + SYS_EXIT["select"])
    assert main(["check-method", "exits_checked:Exits"]) == 1
    out = capsys.readouterr().out
    assert "✗ exact budget at several ratios (1 sample ... N - 1): called sys.exit(0)" in out
    assert "exits_checked:Exits: 2 of 4 properties hold" in out


def test_check_method_and_the_run_name_a_broken_rule_alike(user_code, capsys):
    """One implementation of the rules: check-method's line carries the run's words."""
    method = f"{_hostile_module(user_code)}:DuplicateInEpoch2"
    assert main(["check-method", method]) == 1
    (line,) = [line for line in capsys.readouterr().out.splitlines() if line.startswith("✗")]
    assert "plan_epoch(2) returned duplicate indices (0 appears twice); expected unique indices in [0, 60)" in line


RAISES = """
class Raises(DynamicPruner):
    def plan_epoch(self, epoch):
        return shuffled_plan(self.epoch_rng(epoch), np.arange(self.k))

    def observe(self, indices, losses, ref_losses=None):
        raise KeyError("score_of_" + str(len(indices)))
"""


@needs_shared_data("hiv.csv.gz")
def test_an_exception_inside_a_method_names_the_method_the_call_and_the_line(user_code, tmp_path, caplog):
    path = write_module(user_code, "raises_in_observe", HEADER + RAISES)
    assert main([*RUN, "--method", "raises_in_observe:Raises", "--store", str(tmp_path / "store")]) == 2
    (error,) = _errors(caplog)
    assert error.startswith("method 'raises_in_observe:Raises': observe() raised KeyError: 'score_of_64' (at "
                            f"{path}:"), error


SWEEP_EXIT = """
class ExitsAt80(DynamicPruner):
    def plan_epoch(self, epoch):
        if round(self.keep_ratio, 6) == 0.2:
            sys.exit(0)
        return shuffled_plan(self.epoch_rng(epoch), np.arange(self.k))
"""


@needs_shared_data("hiv.csv.gz")
def test_a_sweep_goes_on_past_a_method_that_exits(user_code, tmp_path, capsys):
    write_module(user_code, "exits_in_sweep", HEADER + SWEEP_EXIT)
    store = tmp_path / "store"
    grid = ["sweep", "table1", "--preset", "ci", "--dataset", "hiv", "--method", "exits_in_sweep:ExitsAt80",
            "--only-methods", "--executor", "debug", "--store", str(store)]
    assert main(grid) == 1
    assert "3 runs, 0 already done, 0 running elsewhere, 2 computed, 1 failed" in capsys.readouterr().out
    records = [json.loads(p.read_text()) for p in store.glob("*.json")]
    assert sorted(r["config"]["prune_ratio"] for r in records) == [0.0, 0.4]
    (failure,) = [json.loads(p.read_text()) for p in store.glob(".work/*/failure.json")]
    assert "method 'exits_in_sweep:ExitsAt80': plan_epoch(1) called sys.exit(0)" in failure["error"]


@needs_shared_data("hiv.csv.gz")
def test_a_checkpoint_holding_a_selection_that_breaks_the_contract_is_refused_and_deleted(tmp_path, monkeypatch,
                                                                                           caplog):
    """A checkpoint written before the selection was checked (float indices) would replay its crash on every
    rerun: the run checks the selection it reads back and deletes the checkpoint."""
    import dataclasses

    import torch

    from molpeg_bench.benchmark.resume import EpochCheckpoint

    original = EpochCheckpoint.save

    def save_then_die(self, state, *args):
        original(self, state, *args)
        raise Killed  # the process dies right after the epoch-1 checkpoint

    args = [*RUN, "--method", "random", "--store", str(tmp_path / "store")]
    with monkeypatch.context() as m:
        m.setattr(EpochCheckpoint, "save", save_then_die)
        with pytest.raises(Killed):
            main(args)
    (path,) = (tmp_path / "store").glob(".work/*/checkpoint.pt")
    payload = torch.load(path, weights_only=False)
    selection = payload["loop"].selection
    payload["loop"].selection = dataclasses.replace(selection, indices=selection.indices.astype(float))
    torch.save(payload, path)
    assert main(args) == 2
    (error,) = _errors(caplog)
    assert error == ("method 'random': select() returned indices of dtype float64; expected an integer array")
    assert not path.exists()


@needs_shared_data("hiv.csv.gz")
def test_a_plan_drawn_with_replacement_trains_when_the_method_declares_it(tmp_path):
    """Soft Random's code bundle (``replace=true``, the official code's random mode) repeats samples within an epoch:
    the run trains it, because the method declares the draw, while a repeat from any other method is refused (above)."""
    store = tmp_path / "store"
    assert main([*RUN, "--method", "soft_random", "--fidelity", "code", "--store", str(store)]) == 0
    (record,) = [json.loads(p.read_text()) for p in store.glob("*.json")]
    assert record["config"]["method_options"]["replace"] is True
    epochs = record["epochs"]
    assert all(e["kept_fraction"] == pytest.approx(K / N_TRAIN) for e in epochs)
    assert any(e["unique_fraction"] < e["kept_fraction"] for e in epochs)  # some sample was drawn twice
