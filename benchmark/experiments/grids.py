"""Named experiment grids (the run configs behind each table and figure) at a preset."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.benchmark.experiments.grids_3d import qm9_pretraining, table2, table3
from molpeg_bench.benchmark.experiments.presets import Preset, get_preset
from molpeg_bench.benchmark.experiments.protocols import with_protocol
from molpeg_bench.methods import get_method

# Table 1's rows: static, then dynamic (the row keys of results/names.py)
TABLE1_STATIC = ("random", "cd", "herding", "kmeans", "least_confidence", "entropy", "forgetting", "grand_4",
                 "grand_20", "el2n_20", "deepfool", "craig", "glister", "influence", "dp")
TABLE1_DYNAMIC = ("soft_random", "epsilon_greedy", "ucb", "infobatch", "molpeg")
TABLE1_METHODS = TABLE1_STATIC + TABLE1_DYNAMIC
FIG3_CRITERIA = ("easy", "hard", "absolute")
# Figure 3's caption says 40 % pruned, its text 60 %: both are run, 0.4 is the figure's panel
FIG3_RATIOS = (0.4, 0.6)
FIG6_BETAS = (0.001, 0.01, 0.1, 0.5, 0.9)
FIG6_CONVENTIONS = ("paper", "code")  # they mean opposite things at β != 0.5 (docs/methods/molpeg.md#ema-convention)
FIG6_RATIOS = (0.9, 0.6, 0.2)  # keep ratios 0.1 / 0.4 / 0.8 of the paper's figure


def preset_run(preset: Preset, dataset: str, method: str, ratio: float, seed: int, checkpoint: str | None,
            **extra) -> RunConfig:
    return RunConfig(dataset=dataset, method=method, prune_ratio=ratio, seed=seed, checkpoint=checkpoint,
                     subsample=preset.subsample.get(dataset), preset=preset.name, **preset.run, **extra)


def _non_default(**options: object) -> dict:
    """MolPeg options as a config states them: a default value is left out, so the run is shared with
    Table 1's default MolPeg run instead of being computed twice."""
    from molpeg_bench.methods.molpeg import MolPegOptions

    return {name: value for name, value in options.items() if getattr(MolPegOptions(), name) != value}


def table1(preset: Preset, checkpoint: str | None = None, methods: Iterable[str] = TABLE1_METHODS,
           datasets: Iterable[str] | None = None) -> list[RunConfig]:
    """Every method x ratio x seed on each dataset, plus the whole-dataset run per seed. Datasets alternate
    innermost, so parallel workers start the warm-ups of different datasets instead of waiting on one."""
    datasets = list(datasets or preset.datasets)
    configs = [preset_run(preset, d, "whole", 0.0, seed, checkpoint) for seed in preset.seeds for d in datasets]
    configs += [preset_run(preset, d, m, r, seed, checkpoint)
                for seed in preset.seeds for m in methods for r in preset.ratios for d in datasets]
    return configs


def figure3(preset: Preset, checkpoint: str | None = None, ratios: Iterable[float] = FIG3_RATIOS) -> list[RunConfig]:
    """MolPeg on HIV keeping the k most negative signed gaps Δ (easy), the k most positive (hard) or the
    k largest |Δ| (MolPeg)."""
    dataset = preset.datasets[0]
    return [preset_run(preset, dataset, "molpeg", r, seed, checkpoint, method_options=_non_default(criterion=c))
            for c in FIG3_CRITERIA for r in ratios for seed in preset.seeds]


def figure4(preset: Preset, checkpoint: str | None = None, ratio: float = 0.6) -> list[RunConfig]:
    """Every Table 1 method at pruning ``ratio`` (or the preset's ratio nearest to it, ties: the larger) on the
    first dataset, and the whole dataset (Table 1's runs)."""
    ratio = min(sorted(preset.ratios, reverse=True), key=lambda r: round(abs(r - ratio), 6))
    return [c for c in table1(preset, checkpoint, datasets=preset.datasets[:1]) if c.prune_ratio in (0.0, ratio)]


def figure6(preset: Preset, checkpoint: str | None = None) -> list[RunConfig]:
    """MolPeg's EMA coefficient β at three pruning ratios, under both EMA conventions (one run at β = 0.5,
    where they coincide)."""
    dataset = preset.datasets[0]
    return [preset_run(preset, dataset, "molpeg", r, seed, checkpoint,
                    method_options=_non_default(beta=b, ema_convention=conv))
            for conv in FIG6_CONVENTIONS for b in FIG6_BETAS if not (b == 0.5 and conv != "paper")
            for r in FIG6_RATIOS for seed in preset.seeds]


def figure5(preset: Preset, checkpoints: list[str]) -> list[RunConfig]:
    """The Table 1 methods on the first dataset, once per pretrained checkpoint (GraphMAE, GraphCL)."""
    if not checkpoints:
        raise ValueError("grid 'fig5' needs at least one --checkpoint (e.g. the GraphMAE and GraphCL ones)")
    return [c for ckpt in checkpoints for c in table1(preset, ckpt, datasets=preset.datasets[:1])]


def with_and_without_pretraining(preset: Preset, checkpoints: list[str],
                                 seeds: Iterable[int] = (0, 1, 2)) -> list[RunConfig]:
    """The 'pretraining' grid (does pretraining help?): whole-dataset fine-tuning from each checkpoint and from
    random initialisation, >= 3 seeds."""
    return [preset_run(preset, preset.datasets[0], "whole", 0.0, seed, ckpt)
            for ckpt in [None, *checkpoints] for seed in sorted(set(seeds) | set(preset.seeds))]


def release(preset: Preset, checkpoint: str | None = None) -> list[RunConfig]:
    """The published reproduction: Table 1's methods and the whole dataset on the preset's first dataset,
    plus MolPeg under ``fidelity="code"``. Ordered cell by cell (every seed of a cell before the next cell;
    whole and MolPeg first, then the dynamic and the static rows), so a sweep stopped part-way leaves complete
    cells rather than one seed of every cell."""
    dataset = preset.datasets[0]
    cells = [("whole", 0.0, "paper")] + [("molpeg", r, f) for r in preset.ratios for f in ("paper", "code")]
    cells += [(m, r, "paper") for r in preset.ratios for m in (*TABLE1_DYNAMIC, *TABLE1_STATIC) if m != "molpeg"]
    return [preset_run(preset, dataset, m, r, seed, checkpoint, fidelity=f)
            for m, r, f in cells for seed in preset.seeds]


# the rows the paper's three claims rest on (whole, Random, the dynamic rows, MolPeg, the best static rows of the
# first release: Forgetting and CD, 0.04 apart), given RELEASE_CLAIM_SEEDS seeds in release v2; every other row
# RELEASE_SEEDS
RELEASE_CLAIM_ROWS = ("whole", "molpeg", "random", "soft_random", "epsilon_greedy", "ucb", "infobatch", "forgetting",
                      "cd")
RELEASE_CLAIM_SEEDS, RELEASE_SEEDS = 10, 5


def differs_under_code(method: str) -> bool:
    """Whether ``--fidelity code`` runs ``method`` differently from its defaults (its bundle changes an option)."""
    cls = get_method(method)
    return bool(cls.code_options) and cls.resolve_options(dict(cls.code_options)) != cls.resolve_options({})


def release_v2(preset: Preset, checkpoint: str | None = None) -> list[RunConfig]:
    """Release v2 of the full-HIV column: every Table 1 row under the suite's defaults and, where the official
    code's bundle changes it, under ``fidelity="code"``, with RELEASE_SEEDS seeds; the claim rows with
    RELEASE_CLAIM_SEEDS. Besides: MolPeg under ``code`` with each seed's own epoch stream
    (``epoch_seeding=run``, the claim row: the code's legacy seeding gives every seed the same epoch subsets and
    order) next to the legacy one, and Herding under Welling's argmin beside the default argmax. Claim rows come
    first, cell by cell, so a sweep stopped part-way has decided what it can."""
    ratio = preset.ratios[0]
    cells: list[tuple[str, str, dict, int]] = [("whole", "paper", {}, RELEASE_CLAIM_SEEDS),
                                               ("molpeg", "code", {"epoch_seeding": "run"}, RELEASE_CLAIM_SEEDS)]
    cells += [(m, "paper", {}, RELEASE_CLAIM_SEEDS) for m in RELEASE_CLAIM_ROWS if m != "whole"]
    cells += [(m, "paper", {}, RELEASE_SEEDS) for m in TABLE1_METHODS if m not in RELEASE_CLAIM_ROWS]
    cells += [("molpeg", "code", {}, RELEASE_SEEDS), ("herding", "paper", {"direction": "paper"}, RELEASE_SEEDS)]
    cells += [(m, "code", {}, RELEASE_SEEDS) for m in ("whole", *TABLE1_METHODS)
              if m != "molpeg" and differs_under_code(m)]
    return [preset_run(preset, preset.datasets[0], m, 0.0 if m == "whole" else ratio, seed, checkpoint,
                       fidelity=fidelity, method_options=options)
            for m, fidelity, options, seeds in cells for seed in range(seeds)]


def with_methods(configs: list[RunConfig], grid: str, methods: list[str], only: bool = False) -> list[RunConfig]:
    """A Table 1-shaped grid with ``methods`` (built-in or external) run in every cell of its rows (the cells of
    its Random row: each dataset, ratio and seed); ``only``: those methods and the whole-data runs alone."""
    template = [c for c in configs if c.method == "random"]
    if not template:
        raise ValueError("--method adds rows to a grid of Table 1's rows (table1, fig4, fig5, release, release_v2), "
                         f"not to {grid!r}")
    for name in methods:
        get_method(name)  # an unknown name or a broken import is refused before anything runs
    added = [c.replace(method=name, method_options={}) for name in methods for c in template]
    kept = [c for c in configs if c.method == "whole"] if only else configs
    return kept + [c for c in added if c not in kept]


SINGLE_CHECKPOINT_GRIDS: dict[str, Callable[..., list[RunConfig]]] = {
    "table1": table1, "fig3": figure3, "fig4": figure4, "fig6": figure6, "release": release,
    "release_v2": release_v2, "table2": table2,
    "table3": table3}
MULTI_CHECKPOINT_GRIDS: dict[str, Callable[..., list[RunConfig]]] = {
    "fig5": figure5, "pretraining": with_and_without_pretraining, "qm9_pretraining": qm9_pretraining}
GRIDS = {**SINGLE_CHECKPOINT_GRIDS, **MULTI_CHECKPOINT_GRIDS}


def build_grid(name: str, preset: str, checkpoints: list[str] | None = None,
               seeds: Iterable[int] | None = None, protocol: str = "geossl",
               datasets: Iterable[str] | None = None) -> list[RunConfig]:
    """The run configs of grid ``name``; ``checkpoints``: pretrained encoders (fig5 / pretraining take
    several, the others at most one; none = no pretraining); ``seeds`` replaces the preset's seeds;
    ``protocol``: table2's QM9 fine-tuning protocol (``benchmark.experiments.protocols``); ``datasets`` replaces the
    preset's datasets of the 2D grids (e.g. ``csv:PATH``)."""
    if protocol != "geossl":
        if name != "table2":
            raise ValueError(f"--protocol {protocol} applies to grid 'table2' only, not to {name!r}")
        return [with_protocol(c, protocol) for c in build_grid(name, preset, checkpoints, seeds)]
    checkpoints = list(checkpoints or [])
    chosen = get_preset(preset)
    if seeds is not None:
        chosen = dataclasses.replace(chosen, seeds=tuple(seeds))
    if datasets:
        chosen = dataclasses.replace(chosen, datasets=tuple(datasets))
    if name in MULTI_CHECKPOINT_GRIDS:
        return MULTI_CHECKPOINT_GRIDS[name](chosen, checkpoints)
    if name not in SINGLE_CHECKPOINT_GRIDS:
        raise ValueError(f"unknown grid {name!r}; expected one of {sorted(GRIDS)}")
    if len(checkpoints) > 1:
        raise ValueError(f"grid {name!r} takes at most one --checkpoint, got {len(checkpoints)}")
    return SINGLE_CHECKPOINT_GRIDS[name](chosen, checkpoints[0] if checkpoints else None)
