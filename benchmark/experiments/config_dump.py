"""A list of run configs written as a config document (``benchmark.experiments.config_file``), so a named grid
can be printed, copied and edited (``sweep GRID --show-config``) and a file sweep's resolved grid kept.

The document is inferred from the configs (settings shared by all runs go to ``[run]``, those that follow the
dataset to the dataset's table, the rest to the method's) and checked by resolving it again: a grid the format
cannot state is refused rather than written as a different one.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter

from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.benchmark.experiments.config_file import RUN_SETTINGS, resolve
from molpeg_bench.methods import get_method

# settings a reader is likely to edit: written even at RunConfig's default
SHOWN_SETTINGS = ("epochs", "num_layers", "emb_dim", "dropout", "batch_size", "lr", "split")
_DEFAULTS = RunConfig()


def document_from_configs(configs: list[RunConfig], name: str | None = None) -> dict:
    """The config document whose runs are exactly ``configs`` (as a set; ValueError when it has none), in their
    order where a document's ``order`` can state it."""
    if not configs:
        raise ValueError("no runs to write as a config document")
    datasets = list(dict.fromkeys(c.dataset for c in configs))
    common = {k: _common(configs, k) for k in RUN_SETTINGS}
    by_dataset = [k for k in RUN_SETTINGS if common[k] is _VARIES and _follows_dataset(configs, k)]
    by_cell = [k for k in RUN_SETTINGS if common[k] is _VARIES and k not in by_dataset]
    run = {k: v for k, v in common.items() if v is not _VARIES and _written(k, v)}
    run.update({k: _most_common(getattr(c, k) for c in configs) for k in by_cell})
    cells = _cells(configs, by_cell, run)
    seeds = _most_common(tuple(cell["seeds"]) for cell in cells)
    ratios = _most_common(tuple(cell["prune_ratios"]) for cell in cells if cell["name"] != "whole")
    whole = [i for i, cell in enumerate(cells) if cell["name"] == "whole" and tuple(cell["seeds"]) == seeds
             and set(cell) == {"name", "seeds", "prune_ratios"}]
    if whole:
        del cells[whole[0]]
    document = {"name": name} if name else {}
    document.update({"datasets": [_dataset(configs, d, by_dataset) for d in datasets],
                     "prune_ratios": list(ratios or ()), "seeds": list(seeds), "whole": bool(whole), "run": run,
                     "methods": [_method(cell, seeds, ratios) for cell in cells]})
    if not document["prune_ratios"]:
        del document["prune_ratios"]
    _check_round_trip(document, configs)
    return _as_names(_with_order(document, configs))


def dump(document: dict, header: str = "") -> str:
    """``document`` as TOML text, after ``header`` lines written as comments."""
    import tomli_w

    comments = "".join(f"# {line}\n" for line in header.splitlines())
    return comments + tomli_w.dumps(document)


class _Varies:
    pass


_VARIES = _Varies()


def _common(configs: list[RunConfig], key: str) -> object:
    values = {json.dumps(getattr(c, key), sort_keys=True) for c in configs}
    return getattr(configs[0], key) if len(values) == 1 else _VARIES


def _follows_dataset(configs: list[RunConfig], key: str) -> bool:
    seen: dict[str, str] = {}
    return all(seen.setdefault(c.dataset, json.dumps(getattr(c, key))) == json.dumps(getattr(c, key))
               for c in configs)


def _written(key: str, value: object) -> bool:
    return value is not None and (key in SHOWN_SETTINGS or value != getattr(_DEFAULTS, key))


def _most_common(values) -> object:
    counts = Counter(values)
    return max(counts, key=lambda v: counts[v]) if counts else None


def _stated_options(config: RunConfig) -> dict:
    """The options a config states beyond its fidelity's bundle (re-resolving adds the bundle back)."""
    bundle = get_method(config.method).code_options if config.fidelity == "code" else {}
    return {k: v for k, v in config.method_options.items() if not (k in bundle and bundle[k] == v)}


def _cells(configs: list[RunConfig], by_cell: list[str], run: dict) -> list[dict]:
    """One entry per method, stated options and per-cell settings, with its ratios and seeds in order."""
    cells: dict[str, dict] = {}
    for c in configs:
        settings = {k: getattr(c, k) for k in by_cell if getattr(c, k) != run.get(k) and getattr(c, k) is not None}
        entry = {"name": c.method, "options": _stated_options(c), **settings}
        cell = cells.setdefault(json.dumps(entry, sort_keys=True), {**entry, "seeds": [], "prune_ratios": []})
        for key, value in (("seeds", c.seed), ("prune_ratios", c.prune_ratio)):
            if value not in cell[key]:
                cell[key].append(value)
    return [{k: v for k, v in cell.items() if v != {}} for cell in cells.values()]


def _method(cell: dict, seeds: tuple, ratios: tuple | None) -> dict:
    entry = dict(cell)
    if tuple(entry["seeds"]) == seeds:
        del entry["seeds"]
    if entry["name"] == "whole" or tuple(entry["prune_ratios"]) == ratios:
        del entry["prune_ratios"]
    return entry


def _dataset(configs: list[RunConfig], dataset: str, by_dataset: list[str]) -> dict:
    first = next(c for c in configs if c.dataset == dataset)
    return {"name": dataset, **{k: getattr(first, k) for k in by_dataset if getattr(first, k) is not None}}


def _as_names(document: dict) -> dict:
    """Entries that state nothing but a name written as the name; tables for all when one needs a table."""
    for group in ("datasets", "methods"):
        entries = document[group]
        if all(set(e) == {"name"} for e in entries):
            document[group] = [e["name"] for e in entries]
    return document


def _with_order(document: dict, configs: list[RunConfig]) -> dict:
    """``document`` with ``order = "method"`` when that, and not the default seed order, gives ``configs``' order."""
    if resolve(document, "the written grid") == configs:
        return document
    by_method = {**document, "order": "method"}
    if resolve(by_method, "the written grid") != configs:
        return document
    return {k: by_method[k] for k in (*(k for k in document if k not in ("run", "methods")), "order", "run",
                                      "methods") if k in by_method}


def _check_round_trip(document: dict, configs: list[RunConfig]) -> None:
    def key(c: RunConfig) -> str:
        return json.dumps(dataclasses.asdict(c), sort_keys=True)

    if Counter(map(key, resolve(document, "the written grid"))) != Counter(map(key, configs)):
        raise ValueError("these runs do not form a grid a config file can state (every method at each of its "
                         "ratios and seeds on every dataset); write the file by hand from the runs listed by "
                         "--dry-run")
