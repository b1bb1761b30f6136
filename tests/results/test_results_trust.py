"""Results you can trust: one setting per cell (checkpoint content and data identity included), distinct
seeds, spread, intervals, paired tests and the paper's claims on constructed records."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import pandas as pd
import pytest

from molpeg_bench.benchmark.cli import main
from molpeg_bench.results.cells import table1_data
from molpeg_bench.results.frame import runs_frame
from molpeg_bench.results.paper_claims import CONTRADICTED, SUPPORTED, UNDECIDED, claims_frame
from molpeg_bench.results.pretraining import pretraining_table
from molpeg_bench.results.report import build_report
from molpeg_bench.results.stats import confidence_interval, paired_t_test
from molpeg_bench.results.table1 import write_table1
from tests.support.records import make_record, with_run_id, write_store

NAME = "graphmae / moses 500"


def with_checkpoint(record: dict, path: str | Path, sha: str) -> dict:
    """``record`` fine-tuned from the checkpoint file ``path`` whose content hashes to ``sha``."""
    record["config"]["checkpoint"] = str(path)
    record["checkpoint"] = {"name": NAME, "path": str(path), "sha256": sha}
    record["data_identity"]["checkpoint_sha256"] = sha
    return with_run_id(record)


@pytest.fixture
def two_checkpoints(tmp_path):
    """Two checkpoint files with the same name in their metadata (re-pretrained), seed 0 of each."""
    files = {}
    for tag, content in (("a", b"first pretraining"), ("b", b"second pretraining")):
        files[tag] = tmp_path / f"{tag}.pt"
        files[tag].write_bytes(content)
    sha = {tag: hashlib.sha256(f.read_bytes()).hexdigest() for tag, f in files.items()}
    records = []
    for tag, whole, rnd in (("a", 0.80, 0.70), ("b", 0.90, 0.75)):
        records += [with_checkpoint(make_record("hiv", "whole", 0, 0, whole), files[tag], sha[tag]),
                    with_checkpoint(make_record("hiv", "random", 60, 0, rnd), files[tag], sha[tag])]
    return records, files, sha


def test_two_checkpoints_sharing_a_name_are_kept_apart_and_the_table_refuses_to_mix(two_checkpoints, tmp_path):
    records, files, sha = two_checkpoints
    runs = runs_frame(records)
    assert set(runs["checkpoint"]) == {f"{NAME} @{sha['a'][:8]}", f"{NAME} @{sha['b'][:8]}"}
    assert runs["setting"].nunique() == 2
    with pytest.raises(ValueError, match="several settings") as error:
        write_table1(records, tmp_path / "out")
    message = str(error.value)
    assert str(files["a"]) in message and str(files["b"]) in message and "checkpoint_sha256" in message
    with pytest.raises(ValueError, match="several settings"):  # the shared name does not choose one
        write_table1(records, tmp_path / "out", checkpoint=NAME)
    store = write_store(tmp_path / "store", records)
    with pytest.raises(ValueError, match=rf"(?s)nothing to report.*{files['a']}.*{files['b']}"):
        build_report(store, tmp_path / "out", "table1")
    # choosing one by sha256 prefix (or, on the command line, by its file) gives that checkpoint's runs only
    data = table1_data(records, checkpoint=sha["b"][:8])
    assert data.whole("hiv").mean == pytest.approx(90.0) and data.whole("hiv").n_seeds == 1
    assert data.settings["hiv"] == ("smoke", f"{NAME} @{sha['b'][:8]}")
    out = tmp_path / "cli"
    assert main(["report", "table1", "--store", str(store), "--out", str(out), "--checkpoint", str(files["a"])]) == 0
    frame = pd.read_csv(out / "table1_comparison.csv")
    whole = frame[frame["method"] == "whole"].iloc[0]
    assert whole["ours_mean"] == pytest.approx(80.0) and whole["n_seeds"] == 1
    assert whole["checkpoint"] == f"{NAME} @{sha['a'][:8]}"


def test_pretraining_table_gives_each_checkpoint_its_own_row(two_checkpoints, tmp_path):
    records, _, sha = two_checkpoints
    table = pd.read_csv(pretraining_table(runs_frame(records), tmp_path)[0])
    assert sorted(table["checkpoint"]) == [f"{NAME} @{sha['a'][:8]}", f"{NAME} @{sha['b'][:8]}"]
    assert table["seeds"].astype(str).tolist() == ["0", "0"] and sorted(table["test_mean"]) == [80.0, 90.0]


def test_two_records_of_the_same_setting_and_seed_fail_loudly_naming_both_files(tmp_path):
    sha = "c" * 64  # the same checkpoint content at two paths: same setting, two run ids
    records = [with_checkpoint(make_record("hiv", "whole", 0, 0, 0.80), "/ckpt/a.pt", sha),
               with_checkpoint(make_record("hiv", "whole", 0, 0, 0.90), "/copy/a.pt", sha),
               with_checkpoint(make_record("hiv", "whole", 0, 1, 0.85), "/ckpt/a.pt", sha)]
    store = write_store(tmp_path / "store", records)
    files = [str(store / f"{r['run_id']}.json") for r in records[:2]]
    with pytest.raises(ValueError, match="same setting and seed") as error:
        write_table1(runs_frame(records, store), tmp_path / "out")
    assert all(f in str(error.value) for f in files) and "seed 0" in str(error.value)
    with pytest.raises(ValueError, match="same setting and seed"):
        pretraining_table(runs_frame(records, store), tmp_path)
    with pytest.raises(ValueError, match=rf"(?s)nothing to report.*same setting and seed.*{records[0]['run_id']}"):
        build_report(store, tmp_path / "out", "table1")


def test_data_identity_is_part_of_the_setting_except_paths(tmp_path):
    records = [make_record("hiv", "whole", 0, s, 0.8) for s in (0, 1)]
    for record, subsample in zip(records, ("1111", "2222"), strict=True):
        record["data_identity"] = {"source_sha256": "ab" * 32, "subsample_sha256": subsample,
                                   "source_path": f"/data/{subsample}/hiv.csv"}
    with pytest.raises(ValueError, match="differ in: data_identity.subsample_sha256\n"):
        write_table1(records, tmp_path)
    records[1]["data_identity"]["subsample_sha256"] = "1111"  # only the path differs now
    assert table1_data(records).whole("hiv").n_seeds == 2


def test_paired_t_test_matches_a_hand_computation():
    # differences 1, 2, 3: mean 2, sd 1, t = 2 / (1 / sqrt 3) = 2 sqrt 3 with 2 degrees of freedom, whose
    # CDF is 1/2 + t / (2 sqrt(2 + t^2)), so the two-sided p-value is 1 - t / sqrt(2 + t^2)
    t = 2 * math.sqrt(3)
    test = paired_t_test({0: 81.0, 1: 83.0, 2: 85.0, 7: 99.0}, {0: 80.0, 1: 81.0, 2: 82.0, 5: 1.0})
    assert test.n_pairs == 3 and test.mean_difference == pytest.approx(2.0)
    assert test.p_value == pytest.approx(1 - t / math.sqrt(2 + t * t), rel=1e-9)  # 0.0742
    assert paired_t_test({0: 1.0, 1: 2.0}, {0: 1.0, 1: 2.0}).p_value == 1.0  # no difference at all
    assert math.isnan(paired_t_test({0: 2.0, 1: 3.0}, {0: 1.0, 1: 2.0}).p_value)  # no spread to judge by
    assert math.isnan(paired_t_test({0: 2.0}, {0: 1.0}).p_value)
    assert paired_t_test({0: 2.0}, {1: 1.0}).n_pairs == 0


def test_confidence_interval_matches_a_hand_computation():
    # 81, 83, 85: mean 83, sd 2; the 97.5 % quantile of t with 2 df is 0.95 / sqrt(2 * 0.975 * 0.025)
    half = 0.95 / math.sqrt(2 * 0.975 * 0.025) * 2 / math.sqrt(3)
    assert confidence_interval([81.0, 83.0, 85.0]) == pytest.approx((83 - half, 83 + half))
    assert all(math.isnan(v) for v in confidence_interval([81.0]))


def test_comparison_page_has_spread_interval_and_paired_p_values(tmp_path):
    records = []
    for seed, (whole, peg, rnd) in enumerate([(0.80, 0.81, 0.79), (0.81, 0.83, 0.80), (0.82, 0.85, 0.80)]):
        records += [make_record("hiv", "whole", 0, seed, whole), make_record("hiv", "molpeg", 60, seed, peg),
                    make_record("hiv", "random", 60, seed, rnd)]
    paths = write_table1(records, tmp_path, preset="smoke")
    frame = pd.read_csv(paths["table1_comparison.csv"]).set_index(["method", "prune_ratio"])
    peg, rnd = frame.loc[("molpeg", 60)], frame.loc[("random", 60)]
    t = 2 * math.sqrt(3)
    assert peg["p_vs_whole"] == pytest.approx(1 - t / math.sqrt(2 + t * t), rel=1e-6)
    assert peg["n_pairs_vs_whole"] == 3 and math.isnan(peg["p_vs_molpeg"])
    half = 0.95 / math.sqrt(2 * 0.975 * 0.025) * 2 / math.sqrt(3)
    assert (peg["ci_low"], peg["ci_high"]) == pytest.approx((83 - half, 83 + half), rel=1e-5)
    assert peg["paper_value"] == 85.5 and peg["paper_in_ci"] == "yes" and peg["n_seeds"] == 3
    # random - molpeg: -2, -3, -5
    expected = paired_t_test({0: 79.0, 1: 80.0, 2: 80.0}, {0: 81.0, 1: 83.0, 2: 85.0}).p_value
    assert rnd["p_vs_molpeg"] == pytest.approx(expected, rel=1e-6) and rnd["n_pairs_vs_molpeg"] == 3
    md = paths["table1_comparison.md"].read_text()
    assert "| hiv | MolPeg | 60 | 83.0 | 2.0 | 3 | [78.0, 88.0] | 85.5 | yes | -2.5 | 0.0742 (n=3) |  |" in md
    assert "## The paper's claims on our runs" in md and "MolPeg is the best pruning method" in md


def _claims_records(metric: str | None = None) -> list[dict]:
    """HIV, 5 seeds: at 60 % MolPeg (85) > InfoBatch (75) > Random (70), MolPeg above whole (80); at 40 %
    MolPeg (75) > Random (71) but below whole; seed noise differs per method."""
    noise = {"whole": [0.0, 0.3, -0.2, 0.1, -0.4], "molpeg": [0.2, -0.3, 0.4, 0.0, -0.1],
             "infobatch": [-0.1, 0.2, 0.0, -0.4, 0.3], "random": [0.3, 0.0, -0.3, 0.2, -0.2]}
    cells = [("whole", 0, 80.0), ("molpeg", 60, 85.0), ("infobatch", 60, 75.0), ("random", 60, 70.0),
             ("molpeg", 40, 75.0), ("random", 40, 71.0)]
    records = []
    for method, ratio, level in cells:
        for seed, e in enumerate(noise[method]):
            record = make_record("hiv", method, ratio, seed, (level + e) / 100, preset="paper")
            record["metric"] = metric or record["metric"]
            records.append(record)
    return records


def _verdicts(records: list[dict]) -> dict[str, str]:
    claims = claims_frame(table1_data(records))
    return {row.claim.split(" ")[0] + ("_whole" if "whole" in row.claim else ""): row.verdict
            for row in claims.itertuples()}


def test_claims_supported_contradicted_or_undecided():
    verdicts = _verdicts(_claims_records())
    assert verdicts == {"Dynamic": SUPPORTED, "MolPeg": SUPPORTED, "MolPeg_whole": CONTRADICTED}
    claims = claims_frame(table1_data(_claims_records()))
    whole = claims[claims["claim"].str.contains("whole")].iloc[0]
    assert whole["details"].startswith("60 %: supported") and "40 %: contradicted" in whole["details"]
    one_seed = [r for r in _claims_records() if r["config"]["seed"] == 0]
    assert set(_verdicts(one_seed).values()) == {UNDECIDED}
    muv = [make_record("muv", "molpeg", 60, s, 0.8 + s / 100) for s in range(3)]
    assert list(claims_frame(table1_data(muv))["claim"].str.contains("whole")) == [False, False]  # HIV only


def test_lower_is_better_metrics_flip_claims_and_bold(tmp_path):
    records = _claims_records(metric="mae")
    verdicts = _verdicts(records)
    assert verdicts == {"Dynamic": CONTRADICTED, "MolPeg": CONTRADICTED, "MolPeg_whole": CONTRADICTED}
    tex = write_table1(records, tmp_path)["table1.tex"].read_text()
    random = next(line for line in tex.splitlines() if line.startswith("Random & "))
    assert r"\textbf{0.7}" in random  # the smallest error of the 60 % column, in the metric's own units


def test_latex_spread_option_and_few_seeds_marker(tmp_path):
    records = _claims_records()
    few = [r for r in records if r["config"]["seed"] < 2]  # the paper preset asks for 5 seeds
    tex = write_table1(few, tmp_path / "mean", seeds_per_preset={"paper": 5})["table1.tex"].read_text()
    random = next(line for line in tex.splitlines() if line.startswith("Random & "))
    assert r"70.2$^\dagger$ {\scriptsize $\downarrow$" in random and r"$\pm$" not in random
    assert r"$^\dagger$: fewer seeds than the preset's 5" in tex
    # results knows no preset: the caller hands the seed counts (the command line those of its presets)
    assert r"\dagger" not in write_table1(few, tmp_path / "plain")["table1.tex"].read_text()
    store, cli = write_store(tmp_path / "store", few), tmp_path / "cli"
    assert main(["report", "table1", "--preset", "paper", "--store", str(store), "--out", str(cli)]) == 0
    assert (cli / "table1.tex").read_text() == tex
    tex = write_table1(records, tmp_path / "spread", spread=True)["table1.tex"].read_text()
    random = next(line for line in tex.splitlines() if line.startswith("Random & "))
    assert r"70.0 $\pm$ 0.3 {\scriptsize $\downarrow$10.0}" in random and r"\dagger" not in tex
    assert r"mean $\pm$ std over 5 seed(s)" in tex


def test_figure5_panels_follow_the_checkpoint_chosen_by_name_or_sha(two_checkpoints, tmp_path):
    records, _, sha = two_checkpoints
    store = write_store(tmp_path / "store", records)
    paths = build_report(store, tmp_path / "one", "fig5", checkpoint=sha["a"][:8])
    assert {p.name for p in paths} == {"figure5_hiv.png", "figure5_hiv.pdf"}
    paths = build_report(store, tmp_path / "both", "fig5", checkpoint=NAME)  # one panel per checkpoint
    assert {p.name for p in paths} == {"figure5_hiv.png", "figure5_hiv.pdf"}
