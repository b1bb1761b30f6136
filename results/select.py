"""Choosing the runs behind a table or figure: filters, default options, option sweeps, one setting."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Sequence

import pandas as pd

from molpeg_bench.results.settings import differing_fields

SETTING_COLUMNS = ["preset", "checkpoint", "setting"]
_SHA_PREFIX = re.compile(r"[0-9a-f]{6,64}")


def matches_checkpoint(runs: pd.DataFrame, checkpoint: str) -> pd.Series:
    """Runs whose checkpoint is ``checkpoint``: its label, its name, its path in the config, or a prefix
    (6+ hex digits) of its sha256."""
    keep = runs["checkpoint"].eq(checkpoint) | runs["checkpoint_name"].eq(checkpoint)
    keep |= runs["checkpoint_path"].eq(checkpoint)
    if _SHA_PREFIX.fullmatch(checkpoint):
        keep |= runs["checkpoint_sha256"].fillna("").str.startswith(checkpoint)
    return keep


def filter_runs(runs: pd.DataFrame, *, dataset: str | None = None, preset: str | None = None,
                checkpoint: str | None = None, setting: str | None = None) -> pd.DataFrame:
    """The runs matching every given value (None: any; ``checkpoint`` as in ``matches_checkpoint``)."""
    keep = pd.Series(True, index=runs.index)
    for column, value in (("dataset", dataset), ("preset", preset), ("setting", setting)):
        if value is not None:
            keep &= runs[column] == value
    if checkpoint is not None:
        keep &= matches_checkpoint(runs, checkpoint)
    return runs[keep]


def narrow_runs(runs: pd.DataFrame, what: str, **narrow: str | None) -> pd.DataFrame:
    """``filter_runs(runs, **narrow)``; when that leaves none, a ValueError naming the given value that no
    run matches and the values the runs have instead (e.g. a smoke report on a store of ci runs)."""
    kept = filter_runs(runs, **narrow)
    if kept.empty and not runs.empty:
        for name, value in narrow.items():
            if value is not None and filter_runs(runs, **{name: value}).empty:
                held = ", ".join(sorted(runs[name].dropna().astype(str).unique()))
                raise ValueError(f"no runs for {what}: no run has {name} {value!r} (the runs have {name} {held})")
    return kept


def default_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs whose config states no method option (the methods' defaults)."""
    return runs[runs["default_options"].astype(bool)]


def option_sweep(runs: pd.DataFrame, method: str, options: Collection[str]) -> pd.DataFrame:
    """Runs of ``method`` that state no option outside ``options`` (the default run included), one per
    distinct (setting, resolved options, ratio, seed), at the (dataset, ratio) pairs where some run states
    one of ``options`` (the sweep's grid; none when no run does: Table 1's default runs alone are no
    sweep)."""
    stated = runs["options"].map(lambda text: set(json.loads(text)))
    sweep = runs[(runs["method"] == method) & stated.map(lambda keys: keys <= set(options))]
    cells = list(zip(sweep["dataset"], sweep["prune_ratio"], strict=True))
    grid = {cell for cell, explicit in zip(cells, sweep["options"] != "{}", strict=True) if explicit}
    sweep = sweep.loc[[cell in grid for cell in cells]]  # .loc: an empty list selects no rows, not no columns
    opt_columns = [c for c in sweep.columns if c.startswith("opt_")]
    key = ["dataset", *SETTING_COLUMNS, "prune_ratio", "seed", *opt_columns]
    return sweep.drop_duplicates(subset=key)


def require_runs(runs: pd.DataFrame, what: str) -> pd.DataFrame:
    """``runs`` unless empty; then a ValueError naming what is missing."""
    if runs.empty:
        raise ValueError(f"no runs for {what}")
    return runs


def _settings_listing(groups: list[tuple[tuple, pd.DataFrame]]) -> str:
    """The fields in which the settings differ, then one line per setting: preset, checkpoint label and
    file(s), setting id, number of runs and one record file."""
    differ = differing_fields([json.loads(g["setting_fields"].iloc[0]) for _, g in groups])
    if len({preset for (preset, _, _), _ in groups}) > 1:
        differ = ["preset", *differ]
    lines = [f"they differ in: {', '.join(differ) or 'the checkpoint label'}"]
    for (preset, checkpoint, setting), group in groups:
        paths = sorted(group["checkpoint_path"].dropna().astype(str).unique())
        source = f" from {', '.join(paths)}" if paths else ""
        lines.append(f"  - preset {preset}, checkpoint '{checkpoint}'{source}, setting {setting}: "
                     f"{len(group)} run(s), e.g. {group['file'].iloc[0]}")
    return "\n".join(lines)


def require_one_setting(runs: pd.DataFrame, what: str) -> tuple[str, str]:
    """The (preset, checkpoint) of ``runs`` (a runs frame); a ValueError when they mix several experimental
    settings, listing each and the fields in which they differ."""
    groups = list(runs.groupby(SETTING_COLUMNS, sort=True, dropna=False))
    if len(groups) > 1:
        raise ValueError(f"{what} mixes runs of several settings ({len(groups)}), which are not averaged together; "
                         f"{_settings_listing(groups)}\nchoose one with --preset / --checkpoint "
                         "NAME|SHA256-PREFIX|PATH / --setting ID (preset=/checkpoint=/setting= in Python)")
    preset, checkpoint, _ = groups[0][0]
    return str(preset), str(checkpoint)


def require_distinct_seeds(runs: pd.DataFrame, by: Sequence[str]) -> pd.DataFrame:
    """``runs`` unless two of them claim the same seed in one group of ``by`` (the same setting and cell);
    then a ValueError naming both record files."""
    key = [*by, "seed"]
    clash = runs[runs.duplicated(subset=key, keep=False)]
    if not clash.empty:
        _, first = next(iter(clash.groupby(key, dropna=False, sort=True)))
        files = list(first["file"])
        row = first.iloc[0]
        raise ValueError(f"two run records claim the same setting and seed ({row.get('dataset')} "
                         f"{row.get('method')} {row.get('prune_ratio')} % pruned, setting {row.get('setting')}, "
                         f"seed {row['seed']}): {files[0]} and {files[1]}; remove one of them "
                         f"({len(clash)} records in such clashes)")
    return runs


def with_option(runs: pd.DataFrame, name: str, values: Collection | None = None) -> pd.DataFrame:
    """Runs whose resolved option ``name`` is set (and in ``values`` when given)."""
    column = f"opt_{name}"
    if column not in runs.columns:
        return runs.iloc[0:0]
    return runs[runs[column].notna() if values is None else runs[column].isin(list(values))]
