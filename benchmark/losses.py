"""Per-sample masked BCE for multi-task binary labels with missing entries (NaN), two conventions.

``official`` (MolPeg code): ℓ_i = (1/T) Σ_t m_it·BCE_it; batch loss Σ_i w_i ℓ_i / #valid entries.
``clean``: ℓ_i = Σ_t m_it·BCE_it / max(1, Σ_t m_it); batch loss Σ_i w_i ℓ_i / B.
Both coincide on single-task data without missing labels (HIV).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

LOSS_CONVENTIONS = ("official", "clean")


def per_sample_bce(logits: torch.Tensor, y: torch.Tensor, convention: str = "official") -> torch.Tensor:
    """logits, y: [B, T] (y NaN = missing) -> per-sample losses [B]."""
    if logits.shape != y.shape:
        raise ValueError(f"logits {tuple(logits.shape)} and labels {tuple(y.shape)} must have the same shape")
    y = y.to(logits.dtype)  # labels are 0/1 (exact in any float type); BCE would cast float64 logits down
    mask = ~torch.isnan(y)
    bce = F.binary_cross_entropy_with_logits(logits, torch.where(mask, y, 0.0), reduction="none") * mask
    if convention == "official":
        return bce.sum(1) / y.shape[1]
    if convention == "clean":
        return bce.sum(1) / mask.sum(1).clamp(min=1)
    raise ValueError(f"unknown loss convention {convention!r}; expected one of {LOSS_CONVENTIONS}")


def reduce_batch_loss(losses: torch.Tensor, weights: torch.Tensor, y: torch.Tensor,
                      convention: str = "official") -> torch.Tensor:
    """The back-propagated batch loss from per-sample losses and per-sample weights."""
    total = (losses * weights).sum()
    if convention == "official":
        return total / (~torch.isnan(y)).sum().clamp(min=1)
    return total / max(1, len(losses))
