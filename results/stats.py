"""Spread and significance over seeds: a t confidence interval of a cell's mean and a paired t-test of
two cells over their common seeds (SciPy).

Why a paired t-test and not an exact sign-flip permutation test: the paper's protocol has 5 seeds, and
an exact sign-flip test over 5 paired differences has only 2^5 = 32 equally likely sign patterns, so its
smallest two-sided p-value is 2/32 = 0.0625: it could never call a difference significant at 5 %, however
consistent. The t-test uses the size of the differences as well as their signs and reaches p < 0.05 with 5
pairs when the differences are consistent; its price is the assumption that the seed-to-seed differences
are roughly normal, which 5 values cannot check (so p-values near the threshold deserve caution).
Pairing is by seed: within one setting, the same seed means the same split, subsample and initialisation.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

LEVEL = 0.95
ALPHA = 0.05
POWER = 0.8  # the detection probability behind a claim's smallest detectable difference


def confidence_interval(values: Sequence[float], level: float = LEVEL) -> tuple[float, float]:
    """Two-sided t interval of the mean of ``values`` (NaNs for fewer than two values)."""
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        return math.nan, math.nan
    half = stats.t.ppf(0.5 + level / 2, df=len(x) - 1) * x.std(ddof=1) / math.sqrt(len(x))
    return float(x.mean() - half), float(x.mean() + half)


def contains(interval: tuple[float, float], value: float) -> bool | None:
    """Whether ``value`` lies in ``interval`` (None when either is undefined)."""
    low, high = interval
    if any(math.isnan(v) for v in (low, high, value)):
        return None
    return low <= value <= high


@dataclass(frozen=True)
class PairedTest:
    """``a`` minus ``b`` over their common seeds: count, mean difference, two-sided p-value (NaN for
    fewer than two pairs) and the smallest difference these seeds could detect (``detectable_difference``)."""

    n_pairs: int
    mean_difference: float
    p_value: float
    detectable: float = math.nan


def detectable_difference(differences: Sequence[float], alpha: float = ALPHA, power: float = POWER) -> float:
    """The smallest true mean difference a two-sided paired t-test at level ``alpha`` would detect with
    probability ``power``, given the measured spread of the paired ``differences``:
    (t_{1-α/2, n-1} + t_{power, n-1}) · sd / √n (the usual normal-theory approximation with t quantiles).
    NaN for fewer than two pairs. A verdict of "cannot decide" means little when this exceeds the difference
    that matters; it says how many more seeds a claim would need (the bound shrinks as 1/√n)."""
    d = np.asarray(differences, dtype=float)
    if len(d) < 2:
        return math.nan
    df = len(d) - 1
    return float((stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df)) * d.std(ddof=1) / math.sqrt(len(d)))


def paired_t_test(a: Mapping[int, float], b: Mapping[int, float]) -> PairedTest:
    """Paired t-test of per-seed values ``a`` vs ``b`` (seed -> value) over the seeds both have.

    Identical differences in every pair leave the test without a noise estimate: p = 1 when they are all
    zero (no difference at all), NaN otherwise (undecidable, rather than the degenerate p = 0)."""
    seeds = sorted(set(a) & set(b))
    diff = np.array([a[s] - b[s] for s in seeds], dtype=float)
    if len(diff) == 0:
        return PairedTest(0, math.nan, math.nan)
    mean = float(diff.mean())
    if len(diff) < 2:
        return PairedTest(1, mean, math.nan)
    if np.all(diff == diff[0]):
        return PairedTest(len(diff), mean, 1.0 if diff[0] == 0 else math.nan, 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        p = stats.ttest_rel([a[s] for s in seeds], [b[s] for s in seeds]).pvalue
    return PairedTest(len(diff), mean, float(p), detectable_difference(diff))
