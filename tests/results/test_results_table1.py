"""Table 1: cells, deltas, bold, grouping, paper order, option filtering and the comparison with the paper."""

from __future__ import annotations

import logging
import re
import shutil
import subprocess

import pandas as pd
import pytest

from molpeg_bench.results.table1 import write_table1
from tests.support.records import make_record, table1_grid


def _row(tex: str, label: str) -> list[str]:
    """The cells of the table row starting with ``label`` (label excluded)."""
    line = next(l for l in tex.splitlines() if l.startswith(f"{label} & "))
    return line.removesuffix(r" \\").split(" & ")[1:]


@pytest.fixture
def table(tmp_path):
    paths = write_table1(table1_grid(), tmp_path)
    return paths, paths["table1.tex"].read_text()


def test_writes_the_three_outputs(table):
    paths, _ = table
    assert set(paths) == {"table1.tex", "table1_comparison.csv", "table1_comparison.md", "table1_claims.csv"}
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths.values())


def test_cell_is_mean_over_seeds_with_delta_to_whole_and_missing_cells_dashed(table):
    _, tex = table
    random = _row(tex, "Random")
    assert len(random) == 12  # HIV then MUV, ratios 90 80 70 60 40 20
    assert random[0] == r"72.0 {\scriptsize $\downarrow$9.0}"  # (70+74)/2 vs whole (80+82)/2
    assert random[1:6] == ["--"] * 5
    assert _row(tex, "MolPeg")[5] == r"\textbf{84.0} {\scriptsize $\uparrow$3.0}"
    assert r"\multicolumn{6}{c}{81.0 $\pm$ 1.4}" in _row(tex, "Whole Dataset")[0]


def test_best_of_each_column_is_bold(table):
    _, tex = table
    assert _row(tex, "MolPeg")[0].startswith(r"\textbf{75.0}")
    assert not _row(tex, "Random")[0].startswith(r"\textbf")


def test_methods_grouped_static_then_dynamic_in_paper_order(tmp_path):
    records = [make_record("hiv", "whole")]
    for method in ("molpeg", "herding", "infobatch", "my_new", "soft_random", "random", "cd"):
        records.append(make_record("hiv", method, 60, family="static" if method == "my_new" else None))
    tex = write_table1(records, tmp_path)["table1.tex"].read_text()
    labels = [l.split(" & ")[0] for l in tex.splitlines() if l.endswith(r"\\") and " & " in l]
    assert labels[2:] == ["Whole Dataset", "Random", "CD", "Herding", r"my\_new", "Soft Random", "InfoBatch",
                          "MolPeg"]
    static, dynamic = tex.index(r"\textit{Static pruning}"), tex.index(r"\textit{Dynamic pruning}")
    assert tex.index("Whole Dataset &") < static < tex.index("Herding &") < dynamic < tex.index("InfoBatch &")
    assert tex.count(r"\midrule") == 3


def test_runs_with_non_default_options_are_left_out(tmp_path):
    records = table1_grid() + [make_record("hiv", "molpeg", 90, s, 0.99, options={"beta": 0.9}) for s in (0, 1)]
    tex = write_table1(records, tmp_path)["table1.tex"].read_text()
    assert _row(tex, "MolPeg")[0].startswith(r"\textbf{75.0}") and "99.0" not in tex
    page = (tmp_path / "table1_comparison.md").read_text()
    assert "Left out: runs that state method options" in page
    assert "- hiv molpeg: 2 runs stating beta" in page and "muv molpeg" not in page


def test_fragment_is_well_formed(table):
    _, tex = table
    unescaped = re.sub(r"\\[{}]", "", tex)
    assert unescaped.count("{") == unescaped.count("}")
    depth = 0
    for ch in unescaped:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert re.findall(r"\\begin\{(\w+)\}", tex) == ["table", "tabular"]
    assert re.findall(r"\\end\{(\w+)\}", tex) == ["tabular", "table"]
    assert r"\begin{tabular}{l" + "c" * 12 + "}" in tex
    for line in tex.splitlines():
        if line.endswith(r"\\") and not line.startswith(r"\multicolumn"):
            spans = sum(int(n) for n in re.findall(r"\\multicolumn\{(\d+)\}", line))
            cells = line.count(" & ") + 1
            assert cells + spans - len(re.findall(r"\\multicolumn", line)) == 13, line
    assert "Preset: smoke" in tex and "Checkpoint: no pretraining" in tex and "mean over 2 seed(s)" in tex


@pytest.mark.latex
@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
def test_fragment_compiles(table, tmp_path):
    _, tex = table
    doc = tmp_path / "doc.tex"
    doc.write_text("\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n" + tex
                   + "\\end{document}\n")
    subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", doc.name], cwd=tmp_path,
                   check=True, capture_output=True, timeout=120)


def test_comparison_pairs_hiv_with_the_paper_and_gives_muv_none(table):
    paths, _ = table
    frame = pd.read_csv(paths["table1_comparison.csv"])
    random_hiv = frame[(frame["dataset"] == "hiv") & (frame["method"] == "random")].set_index("prune_ratio")
    hiv = random_hiv.loc[90]
    assert hiv["paper_value"] == 77.7 and hiv["paper_dataset"] == "HIV" and hiv["paper_method"] == "Random"
    assert hiv["ours_mean"] == pytest.approx(72.0) and hiv["n_seeds"] == 2
    assert hiv["ours_std"] == pytest.approx(2.828, abs=1e-3)
    assert hiv["ours_minus_paper"] == pytest.approx(72.0 - 77.7)
    whole = frame[(frame["dataset"] == "hiv") & (frame["method"] == "whole")].iloc[0]
    assert whole["prune_ratio"] == 0 and whole["paper_value"] == 85.1
    assert random_hiv.loc[80, "n_seeds"] == 0 and "not run" in random_hiv.loc[80, "note"]
    muv = frame[frame["dataset"] == "muv"]
    assert len(muv) == 1 + 2 * 6 and muv["paper_value"].isna().all()
    assert muv["note"].str.contains("paper reports PCBA; MUV is a stand-in").all()
    md = paths["table1_comparison.md"].read_text()
    # 95 % CI 72 ± t(0.975, 1) 2.83 / sqrt(2); p vs whole: differences -10, -8 -> t = -9, df 1
    assert ("| hiv | Random | 90 | 72.0 | 2.8 | 2 | [46.6, 97.4] | 77.7 | yes | -5.7 | 0.0704 (n=2) | 0.374 (n=2) |  |"
            in md)


def test_selection_errors_and_filters(tmp_path):
    with pytest.raises(ValueError, match="default method options"):
        write_table1([make_record("hiv", "molpeg", 60, options={"beta": 0.1})], tmp_path)
    with pytest.raises(ValueError, match="pcba"):
        write_table1(table1_grid(), tmp_path, datasets=["hiv", "pcba"])
    mixed = table1_grid() + [make_record("hiv", "whole", preset="paper", test=0.5)]
    with pytest.raises(ValueError, match="several settings"):
        write_table1(mixed, tmp_path)
    tex = write_table1(mixed, tmp_path, datasets=["hiv"], preset="smoke")["table1.tex"].read_text()
    assert r"\multicolumn{6}{c}{81.0 $\pm$ 1.4}" in tex and "MUV" not in tex


def test_single_seed_and_missing_whole(tmp_path):
    tex = write_table1([make_record("hiv", "random", 40, test=0.7)], tmp_path)["table1.tex"].read_text()
    assert _row(tex, "Random")[4] == r"\textbf{70.0}" and _row(tex, "Whole Dataset")[0].endswith("{--}")
    assert "mean over 1 seed(s)" in tex


def test_dynamic_cells_show_their_realised_share_and_infobatch_is_footnoted(tmp_path):
    records = table1_grid()
    for seed in (0, 1):  # nominal 60 % pruned, but 80 of 100 training molecules trained per epoch
        record = make_record("hiv", "infobatch", 60, seed, 0.78)
        record["dataset"] = {"split_sizes": {"train": 100, "valid": 10, "test": 10}}
        record["sample_visits"] = 80 * 3
        records.append(record)
    paths = write_table1(records, tmp_path)
    frame = pd.read_csv(paths["table1_comparison.csv"]).set_index(["dataset", "method", "prune_ratio"])
    assert frame.loc[("hiv", "infobatch", 60), "realised_kept_pct"] == pytest.approx(80.0)
    assert frame.loc[("hiv", "infobatch", 60), "sample_visits"] == 240
    assert pd.isna(frame.loc[("hiv", "random", 90), "realised_kept_pct"])  # static cells: the nominal share
    md = paths["table1_comparison.md"].read_text()
    assert "| 80.0 | 240 |" in md and "kept % (realised)" in md and "Least Confidence and Entropy" in md
    tex = paths["table1.tex"].read_text()
    assert _row(tex, "InfoBatch")[3].endswith(r"\textsuperscript{$\ddagger$}") and "nominal ratio" in tex
    if shutil.which("pdflatex"):
        doc = tmp_path / "doc.tex"
        doc.write_text("\\documentclass{article}\n\\usepackage{booktabs}\n\\begin{document}\n" + tex
                       + "\\end{document}\n")
        subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", doc.name], cwd=tmp_path,
                       check=True, capture_output=True, timeout=120)


def test_report_of_a_preset_the_store_does_not_hold_says_so(tmp_path, caplog):
    from molpeg_bench.benchmark.cli import main
    from molpeg_bench.results.store import RunStore

    store = RunStore(tmp_path / "store")
    for record in table1_grid():
        store.put({**record, "config": {**record["config"], "preset": "ci"}})
    with caplog.at_level(logging.ERROR):
        code = main(["report", "table1", "--preset", "smoke", "--store", str(store.root), "--out", str(tmp_path)])
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert code == 2 and len(errors) == 1, errors
    assert "no run has preset 'smoke' (the runs have preset ci)" in errors[0] and str(store.root) in errors[0]
    assert "method options" not in errors[0]
