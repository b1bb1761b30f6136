"""Records are validated on read; invalid ones are reported with their path and recomputed; reading (the
report) never modifies the store; the featurization cache writes under unique temporary names."""

from __future__ import annotations

import json
import logging
import os
import pathlib
import tempfile
import threading

import pytest

from molpeg_bench.benchmark.data import GraphStore
from molpeg_bench.results.data_check import report_records
from molpeg_bench.results.record_schema import RECORD_SCHEMA, InvalidRecord, validate_record
from molpeg_bench.results.report import build_report
from molpeg_bench.results.store import RunStore
from tests.support.records import make_record, table1_grid


@pytest.mark.parametrize("record,reason", [
    ({"run_id": "ID", "status": "complete"}, "schema None, expected"),
    ({"schema": 1, "run_id": "ID", "status": "complete"}, "schema 1, expected"),
    ({"schema": RECORD_SCHEMA, "run_id": "ID", "status": "complete"}, "complete record lacks config, data_identity"),
    ({"schema": RECORD_SCHEMA, "run_id": "OTHER", "status": "complete"}, "does not match the file name"),
    ({"schema": RECORD_SCHEMA, "run_id": "ID", "status": "done"}, "status 'done'"),
    ([1, 2], "not a JSON object"),
])
def test_invalid_records_say_what_is_wrong(record, reason):
    with pytest.raises(InvalidRecord, match=reason.replace("(", r"\(").replace("[", r"\[")):
        validate_record(record, "ID")


def test_stub_record_is_reported_with_its_path_and_recomputed(tmp_path, caplog):
    store = RunStore(tmp_path)
    good = make_record()
    store.put(good)
    replacement = make_record(seed=7)
    run_id = replacement["run_id"]
    stub = store.path(run_id)
    stub.write_text(json.dumps({"run_id": run_id, "status": "complete"}))
    with caplog.at_level(logging.WARNING):
        assert not store.has(run_id) and store.has(good["run_id"])
    assert str(stub) in caplog.text and "schema None" in caplog.text
    assert stub.is_file()  # reading changes nothing
    store.put(replacement)
    assert store.get(run_id)["config"]["seed"] == 7 and len(list(tmp_path.glob(stub.name + ".corrupt-*"))) == 1


def test_report_never_writes_to_the_store(tmp_path, monkeypatch, caplog):
    """A report on a store with a stub, a torn and a failed record: it writes its outputs, names what it
    skipped, and the store is unchanged (every write primitive fails on it, as on a read-only store)."""
    store = RunStore(tmp_path / "store")
    for record in table1_grid():
        store.put(record)
    store.path("b" * 20).write_text(json.dumps({"run_id": "b" * 20, "status": "complete"}))
    store.path("c" * 20).write_text('{"run_id": "trunc')
    failed = {"schema": RECORD_SCHEMA, "run_id": "d" * 20, "status": "failed", "config": make_record()["config"],
              "data_identity": {}, "failure": {"reason": "hiv: the test split (6 molecules) has no task ..."}}
    store.put(failed)
    before = {p.name: p.read_bytes() for p in store.root.iterdir()}
    store_root = str(store.root.resolve())

    real = {"replace": pathlib.Path.replace, "mkstemp": tempfile.mkstemp, "os_replace": os.replace}
    for name, target, attr in (("replace", pathlib.Path, "replace"), ("mkstemp", tempfile, "mkstemp"),
                               ("os_replace", os, "replace")):
        def guard(*args, _name=name, **kwargs):
            if any(str(a).startswith(store_root) for a in (*args, *kwargs.values())):
                raise PermissionError(f"read-only store ({_name})")
            return real[_name](*args, **kwargs)
        monkeypatch.setattr(target, attr, guard)
    with caplog.at_level(logging.WARNING):
        paths = build_report(store.root, tmp_path / "out", "table1")
    assert paths and {p.name: p.read_bytes() for p in store.root.iterdir()} == before
    for name in ("b" * 20, "c" * 20, "d" * 20):
        assert str(store.path(name)) in caplog.text
    assert "has no task" in caplog.text
    assert len(report_records(store.root)) == len(table1_grid())


def test_featurization_cache_uses_unique_temporary_names(tmp_path, small_store):
    target = tmp_path / "graphs" / "toy.pt"
    target.parent.mkdir()
    (tmp_path / "graphs" / "toy.pt.tmp").mkdir()  # the fixed temporary name of another writer, blocked
    small_store.save(target)
    errors = []

    def save():
        try:
            for _ in range(5):
                small_store.save(target)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=save) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(GraphStore.load(target)) == len(small_store)
    assert sorted(p.name for p in target.parent.iterdir()) == ["toy.pt", "toy.pt.tmp"]


@pytest.mark.parametrize("field,value,named", [
    ("test_at_best", "0.8", "test_at_best '0.8' (expected a number)"),
    ("best_epoch", 2.5, "best_epoch 2.5 (expected an integer)"),
    ("config.prune_ratio", "0.9", "config.prune_ratio '0.9' (expected a number)"),
    ("config.seed", True, "config.seed True (expected an integer)"),
    ("epochs", {}, "epochs {} (expected a list)"),
])
def test_a_wrong_typed_field_is_reported_with_the_record_file(tmp_path, caplog, field, value, named):
    store = RunStore(tmp_path / "store")
    for record in table1_grid():
        store.put(record)
    victim = store.path(table1_grid()[1]["run_id"])
    record = json.loads(victim.read_text())
    section, _, key = field.rpartition(".")
    (record[section] if section else record)[key] = value
    victim.write_text(json.dumps(record))
    with caplog.at_level(logging.WARNING):
        build_report(store.root, tmp_path / "out", "table1")
    lines = [r.getMessage() for r in caplog.records if str(victim) in r.getMessage()]
    assert len(lines) == 1 and named in lines[0], lines
    assert not store.has(victim.stem)  # the next sweep recomputes it
