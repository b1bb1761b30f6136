"""A degenerate run is flagged where a reader looks: the comparison page's note, Table 1's mark and caption,
and the results page; a sound cell carries no flag."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from molpeg_bench.benchmark.selection.diagnostics import selection_diagnostics
from molpeg_bench.benchmark.tasks import BinaryTask
from molpeg_bench.results.table1 import write_table1
from tests.support.records import make_record

N, POSITIVES = 1000, 100
LABELS = (np.arange(N) < POSITIVES).astype(np.float64)[:, None]
INFORMATIVE = np.where(LABELS == 1, 2.0, -2.0) + np.random.default_rng(0).normal(0, 1, (N, 1))
REFERENCE = {"warmup_key": "k", "epochs": 20, "seed_index": 0, "start": "pretrained"}
STRATIFIED = np.sort(np.concatenate([np.arange(40), np.arange(POSITIVES, POSITIVES + 360)]))  # 40 % of each class
NO_POSITIVES = np.arange(POSITIVES, POSITIVES + 400)
INVERTED = np.where(np.isin(np.arange(N), STRATIFIED)[:, None], -INFORMATIVE, INFORMATIVE)

# method -> (kept positions, reference logits, last epoch's test ROC-AUC) of its seed 1; seed 0 is sound
KINDS = {"glister": (NO_POSITIVES, INFORMATIVE, 0.8, "positives kept at 0.00x their random share"),
         "influence": (STRATIFIED, INVERTED, 0.8, "ranks the kept set below chance"),
         "herding": (STRATIFIED, INFORMATIVE, 0.3, "test ROC-AUC at the last epoch (3) is 0.30, below chance"),
         "cd": (STRATIFIED, INFORMATIVE, 0.8, None)}


def _static(method: str, seed: int, kept, logits, last_test: float) -> dict:
    record = make_record(method=method, ratio=60, seed=seed, test=0.8, family="static")
    record["epochs"][-1]["test"] = last_test
    record["selection"] = {"n_selected": len(kept), "kept_positives": int(LABELS[kept].sum()),
                           "train_positives": POSITIVES,
                           "diagnostics": selection_diagnostics(BinaryTask("roc_auc"), LABELS, logits, kept,
                                                                REFERENCE)}
    return record


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    records = [make_record(method="whole", seed=s) for s in (0, 1)]
    for method, (kept, logits, last, _) in KINDS.items():
        records += [_static(method, 0, STRATIFIED, INFORMATIVE, 0.8), _static(method, 1, kept, logits, last)]
    out = tmp_path_factory.mktemp("degenerate")
    return write_table1(records, out), out


@pytest.mark.parametrize("method", [m for m, kind in KINDS.items() if kind[3]])
def test_each_kind_of_degenerate_selection_is_flagged_on_the_comparison_page(pages, method):
    paths, _ = pages
    frame = pd.read_csv(paths["table1_comparison.csv"], keep_default_na=False)
    row = frame[(frame["method"] == method) & (frame["prune_ratio"] == 60)].iloc[0]
    assert row["degenerate_seeds"] == 1
    assert "degenerate in 1 of 2 seed(s) (seed 1: " in row["note"] and KINDS[method][3] in row["note"]
    page = paths["table1_comparison.md"].read_text()
    assert KINDS[method][3] in page


def test_a_sound_cell_carries_no_flag(pages):
    paths, _ = pages
    frame = pd.read_csv(paths["table1_comparison.csv"], keep_default_na=False)
    cd = frame[(frame["method"] == "cd") & (frame["prune_ratio"] == 60)].iloc[0]
    assert cd["degenerate_seeds"] == 0 and "degenerate" not in cd["note"]


def test_table1_marks_the_flagged_cells_and_says_why(pages):
    paths, _ = pages
    tex = paths["table1.tex"].read_text()
    rows = {line.split("&")[0].strip(): line for line in tex.splitlines() if "&" in line}
    marked = {name for name, line in rows.items() if r"$^\S$" in line}
    assert marked == {"Glister", "Influence", "Herding"}
    assert "a degenerate run among the seeds" in tex


@pytest.mark.latex
@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
def test_the_marked_table_compiles(pages, tmp_path):
    paths, _ = pages
    doc = tmp_path / "doc.tex"
    doc.write_text("\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n"
                   + paths["table1.tex"].read_text() + "\\end{document}\n")
    subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", doc.name], cwd=tmp_path,
                   check=True, capture_output=True, timeout=120)


def test_the_results_page_shows_the_flags(pages):
    from molpeg_bench.results.html_page import render_page

    _, out = pages
    html = render_page(out, [], "flags")
    assert "positives kept at 0.00x their random share" in html and "degenerate in 1 of 2 seed(s)" in html
