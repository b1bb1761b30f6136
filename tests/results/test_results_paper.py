"""The bundled copy of the paper's numbers and the name mapping onto it."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from molpeg_bench.results.names import dataset_note, paper_dataset, paper_method
from molpeg_bench.results.paper import method_order, paper_cell, reported

SHARED_CSV = Path(__file__).resolve().parents[3] / "shared" / "paper" / "reported_results.csv"


def test_bundled_csv_has_every_printed_cell():
    frame = reported()
    assert len(frame) == 297 and set(frame["table"]) == {1, 2, 3}
    if SHARED_CSV.is_file():
        pd.testing.assert_frame_equal(frame, pd.read_csv(SHARED_CSV))


def test_paper_order_and_lookups():
    order = method_order(1)
    assert order[:3] == ("Random", "CD", "Herding") and order[-1] == "Whole Dataset"
    assert order.index("DP") < order.index("Soft Random") < order.index("InfoBatch") < order.index("MolPeg")
    assert paper_cell("HIV", "random", 90) == (77.7, -7.4)
    assert paper_cell("PCBA", "molpeg", 20)[0] == pytest.approx(27.0)
    assert all(math.isnan(v) for v in paper_cell(None, "random", 90))
    assert paper_method("epsilon_greedy") == "epsilon-greedy" and paper_method("new_thing") == "new_thing"
    assert all(paper_method(m) in order for m in ("grand_4", "el2n_20", "kmeans", "least_confidence", "ucb"))
    assert paper_dataset("hiv") == "HIV" and paper_dataset("muv") is None
    assert dataset_note("muv") == "paper reports PCBA; MUV is a stand-in" and dataset_note("pcba") == ""
