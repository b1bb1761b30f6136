"""The setting of a run: everything that determines its result except the table cell and the seed.

Runs are averaged over seeds only within one setting. The setting holds every config field that is
neither the cell (dataset, method, ratio, method options), the seed, nor an execution detail, plus the
checkpoint's *content* (its sha256; the path when a record names no hash) and the record's data
identity section when it has one (raw-file hash, featurizer, subsample and split; paths left out). Data
options that only say where the data was read from (QM9's ``qm9_source``) are left out too: the data identity
names what was read.
``setting_id`` is a short hash of it, ``checkpoint_label`` a checkpoint's readable name with a sha256
prefix, so two checkpoints sharing a name stay apart in tables and messages.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from molpeg_bench.results.record_schema import DATA_IDENTITY, LOCATION_DATA_OPTIONS

NO_PRETRAINING = "no pretraining"
# config fields outside the setting: the cell, the seed, the checkpoint path (its content counts), execution
NOT_SETTING = ("dataset", "method", "prune_ratio", "seed", "method_options", "checkpoint",
               "device", "num_threads", "preset", "data_dir")
SHA_PREFIX = 8


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def checkpoint_sha256(record: dict) -> str | None:
    return (record.get("checkpoint") or {}).get("sha256") or None


def _data_identity(record: dict) -> dict | None:
    section = record.get(DATA_IDENTITY)
    if not isinstance(section, dict):
        return None
    return {k: v for k, v in section.items() if not (k in ("path", "file") or k.endswith(("_path", "_file")))}


def _data_options(config: dict) -> dict:
    """``{"data_options": ...}`` without the location options; nothing when none are left."""
    if "data_options" not in config:
        return {}
    options = config["data_options"]
    if isinstance(options, dict) and set(options) & set(LOCATION_DATA_OPTIONS):
        options = {k: v for k, v in options.items() if k not in LOCATION_DATA_OPTIONS}
        if not options:
            return {}
    return {"data_options": options}


def setting_fields(record: dict) -> dict:
    """The fields of ``record`` that every run of one table cell must share (see the module docstring)."""
    config = record["config"]
    fields = {k: v for k, v in config.items() if k not in NOT_SETTING and k != "data_options"}
    fields.update(_data_options(config))
    if config.get("checkpoint"):
        fields["checkpoint_sha256"] = checkpoint_sha256(record) or f"path:{config['checkpoint']}"
    identity = _data_identity(record)
    if identity is not None:
        fields[DATA_IDENTITY] = identity
    return fields


def setting_id(fields: dict) -> str:
    """Short hash of a run's setting fields."""
    return hashlib.sha256(canonical(fields).encode()).hexdigest()[:SHA_PREFIX]


def checkpoint_name(record: dict) -> str:
    """The checkpoint's readable name as recorded (file stem, or 'no pretraining')."""
    name = (record.get("checkpoint") or {}).get("name")
    if name:
        return str(name)
    path = record["config"].get("checkpoint")
    return Path(path).stem if path else NO_PRETRAINING


def checkpoint_label(record: dict) -> str:
    """The checkpoint's name with ``@<sha256 prefix>`` (unless the name already shows it)."""
    name, sha = checkpoint_name(record), checkpoint_sha256(record)
    if sha is None or sha[:SHA_PREFIX] in name:
        return name
    return f"{name} @{sha[:SHA_PREFIX]}"


def differing_fields(settings: list[dict]) -> list[str]:
    """The (dotted, for nested sections) field names whose values are not the same in all ``settings``."""
    def flat(fields: dict, prefix: str = "") -> dict:
        out = {}
        for key, value in fields.items():
            if isinstance(value, dict) and key == DATA_IDENTITY:
                out.update(flat(value, f"{key}."))
            else:
                out[prefix + key] = canonical(value)
        return out

    flats = [flat(s) for s in settings]
    keys = sorted({k for f in flats for k in f})
    return [k for k in keys if len({f.get(k) for f in flats}) > 1]

