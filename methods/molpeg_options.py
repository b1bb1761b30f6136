"""MolPeg's options: the paper's choices by default, each with the official code's alternative
(``--fidelity code`` selects those, see ``benchmark.fidelity``)."""

from __future__ import annotations

from dataclasses import dataclass

from molpeg_bench.methods.base import EPOCH_SEEDING
from molpeg_bench.methods.options import bounded, choice

EMA_CONVENTIONS = ("paper", "code")
CRITERIA = ("absolute", "hard", "easy")
RESELECT = ("epoch_end", "before_last_batch")


@dataclass(frozen=True)
class MolPegOptions:
    beta: float = bounded(0.5, 0.0, 1.0)
    # "paper" (Eq. 1): ξ ← β·θ + (1-β)·ξ;  "code": ξ ← β·ξ + (1-β)·θ. Identical at β = 0.5.
    ema_convention: str = choice("paper", *EMA_CONVENTIONS)
    # "pretrained" (paper) or "random" (official code: the reference encoder keeps the initialisation of
    # a freshly built model; a module's own ``reset_parameters`` draws it, e.g. xavier embeddings for the GIN)
    reference_init: str = choice("pretrained", "pretrained", "random")
    reference_mode: str = choice("train", "train", "eval")  # "train" (official code: dropout on, batch stats)
    # running statistics (BatchNorm buffers) of the reference, used in eval mode: "ema" of the online
    # model's with the EMA weight, "copy" of them, or "frozen" (never updated, as the official code)
    reference_buffers: str = choice("ema", "ema", "copy", "frozen")
    initial_score: float = 1.0  # criterion "absolute": key of an unvisited sample (> typical |Δ|)
    tie_break: str = choice("stable", "stable", "random")  # "stable" (index order, official code)
    # "absolute": largest |Δ| (MolPeg); "hard": most positive Δ; "easy": most negative Δ (Figure 3)
    criterion: str = choice("absolute", *CRITERIA)
    # 1/r (paper); "inverse_keep_squared" (code applies it twice); "none"
    loss_weight: str = choice("inverse_keep", "inverse_keep", "inverse_keep_squared", "none")
    # parameter-name prefixes copied from the online model instead of averaged (one shared head, as
    # in the official code); () averages every parameter
    shared: tuple[str, ...] = ("head",)
    # "run": epoch RNG from (seed, epoch); "epoch_only": from the epoch alone; "legacy": the official
    # sampler's numpy stream (its subsets and batch order exactly)
    epoch_seeding: str = choice("run", *EPOCH_SEEDING)
    # when the next epoch is selected: "epoch_end" (after the last batch), or "before_last_batch" as the
    # official sampler (the last, partial batch of an epoch is neither scored for the next selection nor
    # weighted by its own: it carries the next epoch's weights)
    reselect: str = choice("epoch_end", *RESELECT)
