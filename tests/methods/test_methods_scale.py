"""Selection memory of the last-layer-factor methods: O(N·T + N·d), never N×P or N×N."""

import os

import pytest

from molpeg_bench.bench.factor_memory import FACTOR_METHODS, measure, synthetic_context


@pytest.mark.slow
def test_factor_methods_run_on_synthetic_factors_with_memory_linear_in_n():
    small, large = synthetic_context(1500, 16, 20), synthetic_context(6000, 16, 20)
    for method in FACTOR_METHODS:
        options = {"chunk_size": 500} if method == "craig" else None
        a, b = measure(method, small, 0.4, options), measure(method, large, 0.4, options)
        # 4x the samples: at most ~4x the extra memory (an N×N or N×P array would grow 16x)
        assert b["peak_above_inputs_mib"] <= 5 * max(a["peak_above_inputs_mib"], 1.0), (method, a, b)


@pytest.fixture(scope="module")
def pcba_factors():
    return synthetic_context(350_000, 128, 300)


# fewer iterations than the defaults where time grows with them and memory does not
FEWER_ITERATIONS = {"glister": {"picks_per_update": 0.2}, "dp": {"fw_iterations": 3, "restarts": 0, "max_swaps": 3}}


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("MOLPEG_PCBA_SCALE") != "1",
                    reason="PCBA-scale selection (N = 350,000, T = 128, d = 300) takes minutes per method: "
                    "`make bench-memory` or MOLPEG_PCBA_SCALE=1")
@pytest.mark.parametrize("method", FACTOR_METHODS)
def test_pcba_scale_selection_stays_under_2_gb(method, pcba_factors):
    result = measure(method, pcba_factors, 0.4, FEWER_ITERATIONS.get(method))
    assert result["peak_total_mib"] < 2048, result


def test_dp_swap_terms_are_the_inner_products_of_the_parameter_shifts():
    """DP's batched swap terms equal ⟨S_a, S_b⟩ of the explicit shifts S_i = H⁻¹g_i / N, task by task."""
    import numpy as np

    from molpeg_bench.methods.dataset_pruning import ParameterShift
    from molpeg_bench.methods.influence import TrainingFactors

    rng = np.random.default_rng(0)
    n, tasks, dim = 300, 5, 9
    e = rng.normal(size=(n, tasks)).astype(np.float32)
    ht = rng.normal(size=(n, dim)).astype(np.float32)
    h = rng.normal(size=(tasks, dim, dim))
    shift = ParameterShift(TrainingFactors(e, ht, np.linalg.inv(h @ h.transpose(0, 2, 1) + np.eye(dim))))
    a, b = np.array([3, 17, 250]), np.array([0, 17, 99, 299])
    explicit = {i: shift.single(i).ravel() for i in {*a, *b}}
    norm_a, norm_b, cross = shift.swap_terms(a, b)
    np.testing.assert_allclose(norm_a, [explicit[i] @ explicit[i] for i in a], rtol=1e-6)
    np.testing.assert_allclose(norm_b, [explicit[j] @ explicit[j] for j in b], rtol=1e-6)
    np.testing.assert_allclose(cross, [[explicit[i] @ explicit[j] for j in b] for i in a], rtol=1e-6)
