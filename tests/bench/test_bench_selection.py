import pytest

from molpeg_bench.bench.selection import MethodCost, grid_share


def test_grid_share_counts_each_shared_warmup_once_at_its_longest_length():
    costs = {"grand_4": MethodCost("static", 0.5, 1.0, (("k0", 4),)),
             "grand_20": MethodCost("static", 0.5, 1.0, (("k0", 20),)),
             "molpeg": MethodCost("dynamic", 0.4, 1.0)}
    share = grid_share(costs, epochs=10, ratios=(0.5,), evaluation=0.0, warmup_epoch=1.0)
    # whole 10 + three runs 10 * 0.5 each = 25 training; warm-up 20; static scoring 1; dynamic 10 * 0.5 * 0.4 = 2
    total = 25 + 20 + 1 + 2
    assert share == pytest.approx({"warmup": 20 / total, "static_scoring": 1 / total, "dynamic_scoring": 2 / total})
    longer = grid_share(costs, epochs=100, ratios=(0.5,), evaluation=0.0, warmup_epoch=1.0)
    assert longer["warmup"] < share["warmup"]  # the warm-up is fixed, training grows with E
    with_eval = grid_share(costs, epochs=10, ratios=(0.5,), evaluation=0.1, warmup_epoch=1.0)
    assert with_eval["warmup"] == pytest.approx(20 / (total + 0.1 * 10 * 4))


def test_static_scoring_per_run_counts_the_first_ratio_once_and_reuses_after():
    deepfool = MethodCost("static", 3.6, 1.0, (("k0", 20),), scoring_reused=0.06)
    assert deepfool.scoring_per_run(6) == pytest.approx((3.6 + 5 * 0.06) / 6)
    assert MethodCost("static", 0.5, 1.0).scoring_per_run(6) == pytest.approx(0.5)  # nothing reused: as before
