"""Named experiment grids (the run configs behind each table and figure) at a preset."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from benchmark.config import RunConfig
from benchmark.presets import Preset, get_preset

TABLE1_METHODS = ("random", "soft_random", "infobatch", "molpeg")
FIG3_SELECTIONS = ("easiest", "hardest", "both")
FIG6_BETAS = (0.001, 0.01, 0.1, 0.5, 0.9)
FIG6_RATIOS = (0.9, 0.6, 0.2)  # keep ratios 0.1 / 0.4 / 0.8 of the paper's figure


def _config(preset: Preset, dataset: str, method: str, ratio: float, seed: int, checkpoint: str | None,
            **extra) -> RunConfig:
    return RunConfig(dataset=dataset, method=method, prune_ratio=ratio, seed=seed, checkpoint=checkpoint,
                     subsample=preset.subsample.get(dataset), preset=preset.name, **preset.run, **extra)


def _non_default(option: str, value: object) -> dict:
    """MolPeg options as a config states them: a default value is left out, so the run is shared with
    Table 1's default MolPeg run instead of being computed twice."""
    from methods.molpeg import MolPegOptions

    return {} if getattr(MolPegOptions(), option) == value else {option: value}


def table1(preset: Preset, checkpoint: str | None = None, methods: Iterable[str] = TABLE1_METHODS,
           datasets: Iterable[str] | None = None) -> list[RunConfig]:
    """Every method x ratio x seed on each dataset, plus the whole-dataset run per seed."""
    configs = []
    for dataset in datasets or preset.datasets:
        for seed in preset.seeds:
            configs.append(_config(preset, dataset, "whole", 0.0, seed, checkpoint))
            configs += [_config(preset, dataset, m, r, seed, checkpoint) for m in methods for r in preset.ratios]
    return configs


def figure3(preset: Preset, checkpoint: str | None = None, ratios: Iterable[float] = (0.6,)) -> list[RunConfig]:
    """MolPeg on HIV keeping the hardest, the easiest or both extremes of |Δloss|."""
    dataset = preset.datasets[0]
    return [_config(preset, dataset, "molpeg", r, seed, checkpoint, method_options=_non_default("selection", s))
            for s in FIG3_SELECTIONS for r in ratios for seed in preset.seeds]


def figure6(preset: Preset, checkpoint: str | None = None) -> list[RunConfig]:
    """MolPeg's EMA coefficient β at three pruning ratios."""
    dataset = preset.datasets[0]
    return [_config(preset, dataset, "molpeg", r, seed, checkpoint, method_options=_non_default("beta", b))
            for b in FIG6_BETAS for r in FIG6_RATIOS for seed in preset.seeds]


GRIDS: dict[str, Callable[..., list[RunConfig]]] = {"table1": table1, "fig3": figure3, "fig6": figure6}


def build_grid(name: str, preset: str, checkpoint: str | None = None) -> list[RunConfig]:
    if name not in GRIDS:
        raise ValueError(f"unknown grid {name!r}; expected one of {sorted(GRIDS)}")
    return GRIDS[name](get_preset(preset), checkpoint)
