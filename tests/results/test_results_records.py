"""The tidy frames built from synthetic run records (``tests.support.records``, the structure of a real
record), and a file too large to be a record."""

from __future__ import annotations

import logging
import math

import pytest

from molpeg_bench.results.data_check import report_records
from molpeg_bench.results.frame import RUN_COLUMNS, epochs_frame, runs_frame
from molpeg_bench.results.store import MAX_RECORD_BYTES, RunStore
from tests.support.records import make_record, write_store


def test_runs_frame_one_row_per_run_in_percent_with_flattened_options():
    records = [make_record(method="whole", test=0.812),
               make_record(method="molpeg", ratio=60, seed=1, test=0.75, options={"beta": 0.9})]
    runs = runs_frame(records)
    assert list(runs.columns[: len(RUN_COLUMNS)]) == list(RUN_COLUMNS)
    whole, molpeg = runs.iloc[0], runs.iloc[1]
    assert whole["test_at_best"] == pytest.approx(81.2) and whole["default_options"]
    assert whole["checkpoint"] == "no pretraining" and whole["time_total"] == 1.5
    assert molpeg["prune_ratio"] == 60 and molpeg["family"] == "dynamic" and molpeg["seed"] == 1
    assert molpeg["opt_beta"] == 0.9 and molpeg["opt_criterion"] == "absolute"
    assert molpeg["opt_shared"] == '["head"]' and not molpeg["default_options"]
    assert molpeg["options"] == '{"beta": 0.9}'
    assert math.isnan(whole["opt_beta"])
    assert whole["setting"] == molpeg["setting"]  # same experiment, different cells
    other = runs_frame([make_record(method="whole", n_epochs=5)]).iloc[0]
    assert other["setting"] != whole["setting"]


def test_epochs_frame_long_format_in_percent():
    epochs = epochs_frame([make_record(method="random", ratio=40, test=0.8, n_epochs=3)])
    assert list(epochs["epoch"]) == [1, 2, 3]
    assert epochs["test"].tolist() == pytest.approx([76.0, 78.0, 80.0])
    assert epochs["kept_fraction"].tolist() == pytest.approx([0.6] * 3)
    assert epochs_frame([]).empty and runs_frame([]).empty


def test_a_record_file_over_the_size_bound_is_refused_without_reading_it(tmp_path, caplog):
    """A record symlinked to a huge file (sparse here) is named as too large, not read whole."""
    store = RunStore(write_store(tmp_path / "store", [make_record()]))
    huge = tmp_path / "huge.bin"
    with open(huge, "wb") as handle:
        handle.truncate(MAX_RECORD_BYTES + 1)
    link = store.path("f" * 20)
    link.symlink_to(huge)
    with caplog.at_level(logging.WARNING):
        assert len(report_records(store.root)) == 1
    expected = f"holds {MAX_RECORD_BYTES + 1} bytes, more than the {MAX_RECORD_BYTES} bytes a file of its kind may have"
    assert [r.getMessage() for r in caplog.records if str(link) in r.getMessage() and expected in r.getMessage()]
    assert huge.stat().st_size == MAX_RECORD_BYTES + 1 and link.is_symlink()  # reading changed nothing
