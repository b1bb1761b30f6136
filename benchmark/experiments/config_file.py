"""Experiments as files: a TOML document describing a grid, resolved into the run configs a sweep runs.

A grid in a file can be edited, reviewed, committed beside its results and repeated, where the named grids of
``benchmark.experiments.grids`` are Python code. The document only produces a list of ``RunConfig``; the sweep
machinery that runs it is the same. Shape (every key but ``datasets`` and ``seeds`` optional)::

    name = "my-grid"                       # the sweep's name and default store runs/<name>
    datasets = ["hiv", {name = "muv", subsample = 5000}]   # a name, or a table: name + run settings
    prune_ratios = [0.8, 0.4]
    seeds = [0, 1]
    whole = true                           # a whole-data run per dataset and seed (Table 1's reference)
    order = "seed"                         # "seed": seed by seed (Table 1's order); "method": entry by entry
    [run]                                  # any RunConfig setting, for every run
    epochs = 2
    [[methods]]                            # a name, or a table: name, options, seeds, prune_ratios + run settings
    name = "herding"
    options = {direction = "paper"}

``order`` is the order the sweep starts the runs in (the runs are the same): ``seed`` runs seed 0 of every method
before seed 1 of any, so a table fills row by row; ``method`` runs every seed of the first method entry before the
next, so a sweep stopped part-way has whole cells (a release puts the rows its claims need first).
A setting is looked up in the method's table, then the dataset's, then ``[run]``, then RunConfig's default.
Paths (``checkpoint``, ``data_dir``) are kept as written, relative to the working directory as on the command
line: the checkpoint's path is part of the run id. TOML has no null: 0 or "" in a setting that may be unset
(``subsample``, ``checkpoint``, ``num_threads``) means unset (``subsample = 0``: every molecule).
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
from collections.abc import Iterable
from pathlib import Path

from molpeg_bench.benchmark.config import RunConfig

PER_RUN_FIELDS = ("dataset", "method", "prune_ratio", "seed", "method_options")  # what the grid varies
RUN_SETTINGS = tuple(f.name for f in dataclasses.fields(RunConfig) if f.name not in PER_RUN_FIELDS)
GRID_KEYS = ("name", "datasets", "methods", "prune_ratios", "seeds", "whole", "order", "run")
ORDERS = ("seed", "method")
DATASET_KEYS = ("name", *RUN_SETTINGS)
METHOD_KEYS = ("name", "options", "seeds", "prune_ratios", *RUN_SETTINGS)
_TYPES = {"int": int, "float": float, "str": str, "dict": dict, "bool": bool, "None": types.NoneType}
_FIELD_TYPES = {f.name: tuple(_TYPES[t.strip()] for t in str(f.type).split("|")) for f in dataclasses.fields(RunConfig)}


class ConfigFileError(ValueError):
    """A config document that does not describe a grid: the message names the document and the key."""

    def __init__(self, source: str, message: str) -> None:
        super().__init__(f"{source}: {message}")


@dataclasses.dataclass(frozen=True)
class _Entry:
    """A dataset or method of the grid with the settings it states (seeds / ratios: None = the grid's)."""

    name: str
    settings: dict
    options: dict = dataclasses.field(default_factory=dict)
    seeds: tuple[int, ...] | None = None
    ratios: tuple[float, ...] | None = None


def load_document(path: str | Path) -> dict:
    """The TOML document at ``path``, as read (``resolve`` checks it)."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError(str(path), f"not valid TOML: {exc}") from None


def parse_value(text: str) -> object:
    """A ``--set`` value read as a TOML value (``1``, ``[0,1]``, ``"a"``, ``{k = 1}``); a bare word is a string."""
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def apply_sets(document: dict, assignments: Iterable[str], source: str = "--set") -> dict:
    """``document`` with each ``KEY=VALUE`` applied: a grid key replaces the grid's; a run setting goes into
    ``[run]`` and is removed from every dataset and method table, so it holds for every run."""
    document = {**document, "run": dict(document.get("run") or {})}
    for text in assignments:
        key, sep, value = text.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigFileError(source, f"expected KEY=VALUE, got {text!r}")
        if key in RUN_SETTINGS:
            document["run"][key] = parse_value(value)
            for group in ("datasets", "methods"):
                document[group] = [{k: v for k, v in e.items() if k != key} if isinstance(e, dict) else e
                                   for e in document.get(group) or []]
        elif key in GRID_KEYS and key != "run":
            document[key] = parse_value(value)
        else:
            raise ConfigFileError(source, f"unknown key {key!r}; allowed: grid keys {list(GRID_KEYS[:-1])} or run "
                                          f"settings {list(RUN_SETTINGS)}")
    return document


def resolve(document: dict, source: str = "config") -> list[RunConfig]:
    """The run configs ``document`` describes: the whole-data runs (each seed, each dataset), then each seed,
    method, ratio and dataset, datasets innermost as in Table 1's grid (``order = "method"``: each method entry,
    then its seeds, ratios and datasets)."""
    _refuse_unknown(document, GRID_KEYS, source)
    run = _settings(document.get("run") or {}, "[run]", source, allowed=RUN_SETTINGS)
    datasets = [_entry(e, "datasets", DATASET_KEYS, source) for e in _list(document, "datasets", source)]
    methods = [_entry(e, "methods", METHOD_KEYS, source) for e in _list(document, "methods", source, required=False)]
    if not datasets:
        raise ConfigFileError(source, "'datasets' is empty; name at least one dataset")
    seeds = _seeds(document.get("seeds"), "seeds", source)
    ratios = _ratios(document.get("prune_ratios"), "prune_ratios", source)
    whole = document.get("whole", True)
    if not isinstance(whole, bool):
        raise ConfigFileError(source, f"'whole' must be true or false, got {whole!r}")
    order = document.get("order", "seed")
    if order not in ORDERS:
        raise ConfigFileError(source, f"'order' must be one of {list(ORDERS)}, got {order!r}")

    def build(dataset: _Entry, method: _Entry, ratio: float, seed: int) -> RunConfig:
        fields = {**run, **dataset.settings, **method.settings}
        try:
            return RunConfig(dataset=dataset.name, method=method.name, prune_ratio=ratio, seed=seed,
                             method_options=dict(method.options), **fields)
        except (ValueError, TypeError) as exc:
            raise ConfigFileError(source, f"method {method.name!r} on {dataset.name!r}: {exc}") from None

    configs = [build(d, _Entry("whole", {}), 0.0, s) for s in seeds for d in datasets] if whole else []
    all_seeds = list(dict.fromkeys([*seeds, *(s for m in methods for s in m.seeds or ())]))
    for method in methods:
        if method.ratios is None and method.name != "whole" and ratios is None:
            raise ConfigFileError(source, f"method {method.name!r} has no prune ratios: give 'prune_ratios' "
                                          "for the grid or for the method")

    def cell(m: _Entry, seed: int) -> list[RunConfig]:
        if seed not in (m.seeds if m.seeds is not None else seeds):
            return []
        return [build(d, m, 0.0 if m.name == "whole" else r, seed)
                for r in ((0.0,) if m.name == "whole" else m.ratios or ratios) for d in datasets]

    pairs = ((m, s) for m in methods for s in all_seeds) if order == "method" else \
        ((m, s) for s in all_seeds for m in methods)
    return configs + [c for m, s in pairs for c in cell(m, s)]


def _refuse_unknown(table: dict, allowed: Iterable[str], source: str, where: str = "the grid") -> None:
    unknown = [k for k in table if k not in allowed]
    if unknown:
        raise ConfigFileError(source, f"unknown key {unknown[0]!r} in {where}; allowed: {list(allowed)}")


def _list(document: dict, key: str, source: str, required: bool = True) -> list:
    if key not in document:
        if required:
            raise ConfigFileError(source, f"missing {key!r} (a list)")
        return []
    if not isinstance(document[key], list):
        raise ConfigFileError(source, f"{key!r} must be a list, got {document[key]!r}")
    return document[key]


def _entry(item: object, group: str, allowed: tuple[str, ...], source: str) -> _Entry:
    """A dataset or method: a name, or a table with ``name`` and what it states."""
    if isinstance(item, str):
        return _Entry(item, {})
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise ConfigFileError(source, f"each of {group!r} is a name or a table with a 'name', got {item!r}")
    where = f"{group} entry {item['name']!r}"
    _refuse_unknown(item, allowed, source, where)
    options = item.get("options", {})
    if not isinstance(options, dict):
        raise ConfigFileError(source, f"'options' of {where} must be a table, got {options!r}")
    stated = {k: v for k, v in item.items() if k in RUN_SETTINGS}
    return _Entry(item["name"], _settings(stated, where, source), options,
                  _seeds(item.get("seeds"), f"seeds of {where}", source, required=False),
                  _ratios(item.get("prune_ratios"), f"prune_ratios of {where}", source))


def _settings(table: dict, where: str, source: str, allowed: Iterable[str] = RUN_SETTINGS) -> dict:
    """Run settings checked against RunConfig's field types (ints given for floats become floats, so
    ``lr = 1`` names the same run as ``lr = 1.0``; 0 or "" in a field that may be unset means unset)."""
    _refuse_unknown(table, allowed, source, where)
    checked = {}
    for key, value in table.items():
        accepted = _FIELD_TYPES[key]
        if types.NoneType in accepted and value in (0, "") and not isinstance(value, bool):
            value = None
        elif float in accepted and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, accepted) or (isinstance(value, bool) and bool not in accepted):
            names = " or ".join(t.__name__ for t in accepted if t is not types.NoneType)
            raise ConfigFileError(source, f"{key!r} in {where} must be {names}, got {value!r}")
        checked[key] = value
    return checked


def _seeds(value: object, key: str, source: str, required: bool = True) -> tuple[int, ...] | None:
    if value is None and not required:
        return None
    if (not isinstance(value, list) or not value
            or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in value)):
        raise ConfigFileError(source, f"{key!r} must be a non-empty list of integers >= 0, got {value!r}")
    return tuple(value)


def _ratios(value: object, key: str, source: str) -> tuple[float, ...] | None:
    if value is None:
        return None
    if (not isinstance(value, list) or not value
            or not all(isinstance(r, int | float) and not isinstance(r, bool) and 0 < r < 1 for r in value)):
        raise ConfigFileError(source, f"{key!r} must be a non-empty list of fractions in (0, 1), got {value!r}")
    return tuple(float(r) for r in value)
