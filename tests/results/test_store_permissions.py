"""A shared store read by a user who may not read every record: a colleague's records of mode 0600 are
reported as unreadable (owner and mode named), never treated as corrupt, moved aside, replaced or
recomputed; ``report`` and ``status`` count them apart. A store the reader cannot write is refused only
when there is something to run.

The colleague's files belong to another uid, as on a lab's shared filesystem; the reader is a child
process held to the file permissions (``setpriv`` drops the capabilities by which root reads and writes
any file; its uid stays root's, so it can still run the interpreter installed under root's home)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.benchmark.run import run_finetune
from molpeg_bench.results.store import RunStore

ROOT = Path(__file__).resolve().parents[2]
COLLEAGUE = 4242  # a uid without a name on this machine
# what makes root a user bound by file permissions: no overriding of modes, of reading folders, of ownership
HELD_TO_PERMISSIONS = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--"]
TINY = dict(dataset="nci-tpsa", subsample=200, num_layers=2, emb_dim=16, dropout=0.2, epochs=2, batch_size=64)
RUNS = [RunConfig(method="whole", **TINY), RunConfig(method="random", prune_ratio=0.5, **TINY),
        RunConfig(method="soft_random", prune_ratio=0.5, **TINY)]
CHILD = """
import json, logging, sys
logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(message)s")
from molpeg_bench.benchmark.config import RunConfig
action, store, configs = sys.argv[1], sys.argv[2], [RunConfig.from_dict(c) for c in json.loads(sys.argv[3])]
if action == "sweep":
    from molpeg_bench.slurm.sweep import start_sweep
    s = start_sweep(configs, store, executor="debug", threads=1)
    print(json.dumps({"completed": s.completed, "skipped": s.skipped, "unreadable": s.unreadable}))
elif action == "report":
    from molpeg_bench.results.data_check import report_records
    print(json.dumps([r["run_id"] for r in report_records(store)]))
elif action == "status":
    from molpeg_bench.slurm import run_states, status_report
    print(status_report(run_states(configs, store)))
elif action == "put":
    from molpeg_bench.results.store import RunStore
    RunStore(store).put(json.loads(open(sys.argv[4]).read()))
"""

pytestmark = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root and setpriv: to write records as another uid with mode 0600, and to read them from a "
           "process held to the file permissions")


def as_reader(action: str, store: Path, configs: list[RunConfig], *extra: str) -> subprocess.CompletedProcess:
    """Run ``action`` of ``CHILD`` in a process held to the file permissions (stdout, stderr as text)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([*HELD_TO_PERMISSIONS, sys.executable, "-c", CHILD, action, str(store),
                           json.dumps([c.to_dict() for c in configs]), *extra],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)


def colleagues_store(folder: Path, configs: list[RunConfig], mode: int, folder_mode: int) -> RunStore:
    """The records of ``configs`` written by the colleague with ``mode``, in their folder of ``folder_mode``."""
    store = RunStore(folder / "store")
    for config in configs:
        path = store.put(run_finetune(config))
        os.chown(path, COLLEAGUE, COLLEAGUE)
        path.chmod(mode)
    os.chown(store.root, COLLEAGUE, COLLEAGUE)
    store.root.chmod(folder_mode)
    return store


def snapshot(store: RunStore) -> dict[str, tuple[bytes, int, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_uid, p.stat().st_mode & 0o777) for p in store.root.iterdir()
            if p.is_file()}


def test_a_colleagues_0600_records_are_unreadable_not_corrupt(tmp_path):
    # a group-shared folder without the sticky bit: the reader may rename and replace files in it
    store = colleagues_store(tmp_path, RUNS[:2], mode=0o600, folder_mode=0o777)
    theirs = {c.run_id(): store.path(c.run_id()) for c in RUNS[:2]}
    before = snapshot(store)

    sweep = as_reader("sweep", store.root, RUNS)
    assert sweep.returncode == 0, sweep.stderr
    summary = json.loads(sweep.stdout.splitlines()[-1])
    assert summary["completed"] == [RUNS[2].run_id()] and summary["skipped"] == 0
    assert set(summary["unreadable"]) == set(theirs)
    for reason in summary["unreadable"].values():
        assert reason == f"permission denied (owner uid {COLLEAGUE}, mode 0600)"
    after = snapshot(store)
    assert {name: after[name] for name in before} == before  # same bytes, names, owner and mode
    assert not list(store.root.glob("*.corrupt-*")) and set(after) == {*before, store.path(RUNS[2].run_id()).name}
    for path in theirs.values():
        assert f"run record {path} is unreadable: permission denied" in sweep.stderr

    report = as_reader("report", store.root, RUNS)
    assert report.returncode == 0, report.stderr
    assert json.loads(report.stdout) == [RUNS[2].run_id()]
    for path in theirs.values():
        assert f"skipped unreadable run record {path} (permission denied (owner uid {COLLEAGUE}" in report.stderr
    assert "1 complete run record(s) reported, 0 left out as invalid, 2 as unreadable" in report.stderr

    status = as_reader("status", store.root, RUNS)
    lines = [" ".join(line.split()) for line in status.stdout.splitlines()]
    assert lines[0] == "experiment done unreadable running failed pending" and "total 1 2 0 0 0" in lines
    assert sum(line.startswith("unreadable ") and "permission denied" in line for line in lines) == 2


def test_a_record_that_cannot_be_read_is_never_replaced(tmp_path):
    store = colleagues_store(tmp_path, RUNS[:1], mode=0o600, folder_mode=0o777)
    before = snapshot(store)
    mine = tmp_path / "mine.json"
    mine.write_text(json.dumps(run_finetune(RUNS[0])))
    put = as_reader("put", store.root, [], str(mine))
    assert put.returncode != 0 and "UnreadableRecord" in put.stderr and "permission denied" in put.stderr
    assert snapshot(store) == before and not list(store.root.glob("*.corrupt-*"))


def test_a_read_only_store_is_refused_only_when_there_is_something_to_run(tmp_path):
    store = colleagues_store(tmp_path, RUNS[:2], mode=0o644, folder_mode=0o755)  # readable, not writable
    done = as_reader("sweep", store.root, RUNS[:2])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == {"completed": [], "skipped": 2, "unreadable": {}}
    more = as_reader("sweep", store.root, RUNS)
    assert more.returncode != 0 and f"run store {store.root} is not writable" in more.stderr
