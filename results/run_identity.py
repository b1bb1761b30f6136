"""A run's id: the hash of what the run computes, built from its config, its data and its method.

``benchmark.config.RunConfig.run_id`` builds the hashed body from a live config (hashing the data files and
the checkpoint as it goes); ``record_run_id`` builds the same body from a stored record (its config, its
``data_identity``, its ``geometry`` and its ``pruner`` sections), so the store can check that a record's run
id is the hash of the config it carries and not a label written by hand. Both go through ``hashed_body`` and
``run_hash``: one definition of the id, byte for byte.
"""

from __future__ import annotations

import hashlib
import json

from molpeg_bench.results.record_schema import DATA_IDENTITY, LOCATION_DATA_OPTIONS

# config fields that describe where/how a run executes, not what it computes: not hashed
EXECUTION_FIELDS = ("device", "num_threads", "preset", "data_dir")
# the fields of a record's data identity that the id hashes (the others, split and subsample hashes, follow
# from the config and these)
HASHED_DATA_FIELDS = ("source_sha256", "featurizer", "data_rules")
# the location kind every QM9 record had before other locations existed: left out of the id (see qm9_identity)
DEFAULT_LOCATION = "csv"
_ABSENT = object()


def hashed_body(config: dict, data_identity: dict, *, checkpoint_sha256: object = _ABSENT, method_version: int = 1,
                method_origin: dict | None = None) -> dict:
    """What a run id hashes: ``config`` (a ``RunConfig.to_dict()``) without its execution fields and location
    options, the data identity, the checkpoint's sha256 (given only when the config names a checkpoint), the
    method's version from 2 on (earlier ids stay valid) and a method's origin from outside the suite."""
    body = {k: v for k, v in config.items() if k not in EXECUTION_FIELDS}
    data_options = {k: v for k, v in (body.pop("data_options", None) or {}).items() if k not in LOCATION_DATA_OPTIONS}
    if data_options:
        body["data_options"] = data_options
    body["data_identity"] = data_identity
    if checkpoint_sha256 is not _ABSENT:
        body["checkpoint_sha256"] = checkpoint_sha256
    if method_version != 1:
        body["method_version"] = method_version
    if method_origin is not None:
        body["method_origin"] = method_origin
    return body


def run_hash(body: dict) -> str:
    """sha256 (first 20 hex digits) of the canonical JSON of ``body``."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=list).encode()).hexdigest()[:20]


def record_run_id(record: dict) -> str:
    """The id the config of complete ``record`` hashes to, from what the record carries."""
    config, identity = record["config"], record[DATA_IDENTITY]
    data = {k: identity.get(k) for k in HASHED_DATA_FIELDS}
    geometry = record.get("geometry") or {}
    data.update({k: geometry[k] for k in LOCATION_DATA_OPTIONS if geometry.get(k) not in (None, DEFAULT_LOCATION)})
    pruner = record.get("pruner") or {}
    # a whole-data run made as MolPeg (``made_as``) records MolPeg's version; the id has the whole-data
    # method's, which has no algorithm to change (version 1)
    version = 1 if "made_as" in pruner else pruner.get("version", 1)
    checkpoint = {} if config.get("checkpoint") is None else {"checkpoint_sha256": identity.get("checkpoint_sha256")}
    return run_hash(hashed_body(config, data, method_version=version, method_origin=pruner.get("origin"),
                                **checkpoint))
