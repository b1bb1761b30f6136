"""Tables 2 and 3: grids at the presets, LaTeX in the paper's layouts, the comparison with the paper."""

from __future__ import annotations

import pandas as pd
import pytest

from molpeg_bench.benchmark.experiments import build_grid
from molpeg_bench.results.table2_tex import write_table2
from molpeg_bench.results.table3_tex import write_table3
from tests.support.records import make_record, with_run_id, write_store


def _record(dataset: str, method: str, ratio: float, value: float, metric: str, seed: int = 0) -> dict:
    config = {"dataset": dataset, "method": method, "prune_ratio": ratio, "seed": seed, "preset": "smoke",
              "method_options": {}}
    return {"run_id": f"{dataset}-{method}-{ratio}-{seed}", "config": config, "metric": metric,
            "test_at_best": value, "checkpoint": {"name": "geossl_ddm / moses 5000"}}


def test_table2_bold_is_the_lowest_mae_and_comparison_has_paper_cells(tmp_path):
    records = [_record("qm9_u0", "whole", 0.0, 30.0, "mae_mev"),
               _record("qm9_u0", "random", 0.8, 50.0, "mae_mev"), _record("qm9_u0", "random", 0.8, 52.0, "mae_mev", 1),
               _record("qm9_u0", "molpeg", 0.8, 40.04, "mae_mev"),
               _record("qm9_zpve", "infobatch", 0.4, 2.345, "mae_mev"),
               _record("qm9_zpve", "molpeg", 0.4, 2.5, "mae_mev"),
               _record("hiv", "molpeg", 0.8, 0.9, "roc_auc")]  # another table's run: ignored
    paths = write_table2(records, tmp_path)
    tex = paths["table2.tex"].read_text()
    molpeg = next(line for line in tex.splitlines() if line.startswith("MolPeg"))
    random = next(line for line in tex.splitlines() if line.startswith("Random"))
    assert r"\textbf{40.0}" in molpeg and "51.0" in random and r"\textbf" not in random  # mean of 2 seeds
    infobatch = next(line for line in tex.splitlines() if line.startswith("InfoBatch"))
    assert r"\textbf{2.35}" in infobatch and "2.50" in molpeg  # ZPVE with two decimals
    assert next(line for line in tex.splitlines() if line.startswith("DP")).count("--") == 12
    assert "U0 30.0 meV" in tex
    frame = pd.read_csv(paths["table2_comparison.csv"])
    row = frame[(frame.dataset == "qm9_u0") & (frame.method == "random") & (frame.prune_ratio == 80)].iloc[0]
    assert row.paper_value == 45.7 and row.ours_mean == 51.0 and row.n_seeds == 2
    assert row.ours_minus_paper == pytest.approx(5.3)


def test_table3_rows_deltas_and_paper_random_is_soft_random(tmp_path):
    records = [_record("hiv3d", "whole", 0.0, 0.80, "roc_auc"), _record("hiv3d", "soft_random", 0.6, 0.79, "roc_auc"),
               _record("hiv3d", "molpeg", 0.6, 0.815, "roc_auc")]
    paths = write_table3(records, tmp_path)
    tex = paths["table3.tex"].read_text()
    assert r"Whole Dataset & 80.0" in tex
    assert r"MolPeg &  & \textbf{81.5} {\scriptsize $\uparrow$1.5}" in tex
    assert r"Random &  & 79.0 {\scriptsize $\downarrow$1.0} & -- & --" in tex
    frame = pd.read_csv(paths["table3_comparison.csv"])
    soft = frame[(frame.method == "soft_random") & (frame.prune_ratio == 60)].iloc[0]
    assert soft.paper_value == 80.1 and soft.paper_method == "Random"
    with pytest.raises(ValueError, match="no runs for Table 3"):
        write_table3(records[:0], tmp_path)


def test_3d_grids_at_the_presets():
    smoke = build_grid("table2", "smoke")
    methods = {c.method for c in smoke}
    assert {"whole", "random", "infobatch", "molpeg"} <= methods
    assert len(smoke) == 2 * (1 + 6 * len(methods - {"whole"}))
    assert all(c.model == "painn" and c.emb_dim == 64 and c.epochs == 10 and c.lr_schedule == "cosine"
               and c.data_options == {"train_pool": 2000, "eval_pool": 500} for c in smoke)
    paper = build_grid("table3", "paper", seeds=[0, 1, 2, 3, 4])
    assert len(paper) == 5 * 7 and {c.prune_ratio for c in paper} == {0.0, 0.6, 0.4, 0.2}
    assert all(c.model == "schnet" and c.emb_dim == 300 and c.model_options["num_filters"] == 128 for c in paper)
    pre = build_grid("qm9_pretraining", "smoke", ["ckpt.pt"])
    assert [(c.checkpoint, c.seed) for c in pre] == [(ckpt, s) for ckpt in (None, "ckpt.pt") for s in range(3)]
    with pytest.raises(ValueError, match="no sizing for preset 'demo'"):
        build_grid("table3", "demo")


def test_qm9_pretraining_comparison_signs(tmp_path):
    from molpeg_bench.results.frame import runs_frame
    from molpeg_bench.results.pretraining import pretraining_3d

    records = []
    for seed, (scratch, pre) in enumerate([(40.0, 35.0), (42.0, 37.0), (44.0, 36.0)]):
        records.append(dict(_record("qm9_u0", "whole", 0.0, scratch, "mae_mev", seed), checkpoint=None))
        records.append(_record("qm9_u0", "whole", 0.0, pre, "mae_mev", seed))
    csv_path, md_path = pretraining_3d(runs_frame(records), tmp_path)
    frame = pd.read_csv(csv_path).set_index("checkpoint")
    assert frame.loc["no pretraining", "mae_mean"] == pytest.approx(42.0)
    assert frame.loc["geossl_ddm / moses 5000", "minus_scratch"] == pytest.approx(36.0 - 42.0)
    assert frame.loc["geossl_ddm / moses 5000", "n_seeds"] == 3 and "-6.00" in md_path.read_text()


def test_tables_2_and_3_are_the_cells_of_the_table1_path(tmp_path):
    """Tables 2 and 3 go records -> frame -> selection -> cells like Table 1: their printed and compared
    numbers are ``table_data``'s cells (MAE kept in meV, ROC-AUC in %), a cell run without a value is n/a."""
    from molpeg_bench.results.cells import table_data
    from molpeg_bench.results.frame import runs_frame
    from molpeg_bench.results.report import build_report

    records = []
    for seed in range(3):
        for dataset, method, ratio, value, metric in (
                ("qm9_u0", "whole", 0, 30.0 + seed, "mae_mev"), ("qm9_u0", "molpeg", 80, 40.0 + 0.5 * seed, "mae_mev"),
                ("qm9_u0", "random", 80, 41.0 - seed, "mae_mev"), ("hiv3d", "whole", 0, 0.80 + 0.01 * seed, "roc_auc"),
                ("hiv3d", "molpeg", 60, 0.82 - 0.02 * seed, "roc_auc"), ("hiv3d", "soft_random", 40, float("nan"),
                                                                       "roc_auc")):
            # one epoch: the best under either metric direction
            record = make_record("hiv", method, ratio, seed, value, family={"whole": "whole"}.get(method, "dynamic"),
                                 n_epochs=1)
            record["config"]["dataset"], record["metric"] = dataset, metric
            if value != value:  # a run validated without a test value
                record["epochs"][0]["valid"] = record["best_valid"] = 0.5
            records.append(with_run_id(record))
    store = write_store(tmp_path / "store", records)
    build_report(store, tmp_path / "out", "table2")
    build_report(store, tmp_path / "out", "table3")
    runs = runs_frame(records)
    for table, among in ((2, ["qm9_u0"]), (3, ["hiv3d"])):
        data = table_data(runs, table=table, among=among)
        frame = pd.read_csv(tmp_path / "out" / f"table{table}_comparison.csv")
        ran = frame[frame["n_seeds"] > 0]
        assert len(ran) == len(data.cells) == {2: 3, 3: 2}[table]
        for row in ran.itertuples():
            cell = data.cell(row.dataset, row.method, row.prune_ratio)
            assert (row.ours_mean, row.n_seeds) == (pytest.approx(cell.mean), cell.n_seeds)
    assert table_data(runs, table=2, among=["qm9_u0"]).whole("qm9_u0").mean == pytest.approx(31.0)  # meV
    tex = (tmp_path / "out" / "table3.tex").read_text().splitlines()
    assert tex[-6:-3] == [r"Whole Dataset & 81.0 &  &  &  \\",
                          r"Random &  & -- & n/a & -- \\",
                          r"MolPeg &  & \textbf{80.0} {\scriptsize $\downarrow$1.0} & -- & -- \\"]
    tex2 = (tmp_path / "out" / "table2.tex").read_text()
    assert r"Random & -- & \textbf{40.0} & -- & -- & -- & -- \\" in tex2 and "U0 31.0 meV" in tex2
    assert r"MolPeg & -- & 40.5 & -- & -- & -- & -- \\" in tex2
