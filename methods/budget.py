"""The kept-set size k for a keep ratio r: one rounding rule for every method of a run."""

from __future__ import annotations

import math

import numpy as np

ROUNDING_RULES = ("floor", "round")


def budget(n_samples: int, keep_ratio: float, rounding: str = "floor") -> int:
    """k = floor(r·N) (official MolPeg code, default) or round(r·N) (DeepCore); at least 1.

    The product is rounded to 9 decimals first so that, e.g., r = 1 - 0.7 keeps 0.3·N, not one less.
    """
    product = round(keep_ratio * n_samples, 9)
    if rounding == "floor":
        k = math.floor(product)
    elif rounding == "round":
        k = math.floor(product + 0.5)
    else:
        raise ValueError(f"unknown budget rounding {rounding!r}; expected one of {ROUNDING_RULES}")
    return max(1, min(n_samples, k))


def proportional_shares(sizes: np.ndarray, k: int) -> np.ndarray:
    """Shares of k proportional to ``sizes`` (groups of samples), summing to exactly k (largest remainder;
    ties to the earlier group)."""
    sizes = np.asarray(sizes, dtype=np.int64)
    exact = sizes * k / sizes.sum()
    share = np.floor(exact).astype(np.int64)
    share[np.argsort(-(exact - share), kind="stable")[:k - share.sum()]] += 1
    return share
