"""Concurrency of the run store: claims, many writers, two sweeps over one store."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from molpeg_bench.benchmark.data import load_dataset
from molpeg_bench.results.store import RunStore
from molpeg_bench.slurm.claims import Claims
from tests.support.records import make_record

ROOT = Path(__file__).resolve().parents[2]
TINY = dict(dataset="nci-tpsa", subsample=200, num_layers=2, emb_dim=16, dropout=0.2, epochs=2, batch_size=32)


def _python(code: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT, **kwargs)


def test_a_claim_is_exclusive_and_dies_with_its_holder(tmp_path):
    claims = Claims(tmp_path)
    holder = _python(f"from slurm.claims import Claims; import time; c = Claims({str(tmp_path)!r}).claim('r1'); "
                     "print('held', flush=True); time.sleep(60)", stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert claims.claim("r1") is None  # another process holds it
        owner = claims.holder("r1")
        assert owner["pid"] == holder.pid and owner["host"]
        assert claims.holder("r1")["pid"] == holder.pid  # looking never takes the lock
        other = claims.claim("r2")
        assert other is not None and claims.holder("r2") is None  # our own claim does not block us
        other.release()
        assert not claims.path("r2").exists()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert claims.holder("r1") is None  # the kernel released the dead holder's lock
    with claims.claim("r1") as again:
        assert again is not None
    assert not claims.path("r1").exists()


WRITER = """
import json, os, time
from molpeg_bench.results.store import RunStore
records = json.loads(open({records!r}).read())
open({go!r} + f".ready{worker}", "w").close()
while not os.path.exists({go!r}):
    time.sleep(0.005)
store = RunStore({root!r})
for record in records:
    store.put(record)
"""


def _writer_records(worker: int) -> list[dict]:
    """40 valid records, the odd ones shared by every writer (same run id, another worker's content)."""
    return [dict(make_record(seed=i if i % 2 else 1000 * (worker + 1) + i), worker=worker, payload="x" * 20000)
            for i in range(40)]


def test_sixteen_concurrent_writers_lose_and_tear_nothing(tmp_path):
    go = tmp_path.parent / f"{tmp_path.name}-go"
    writers = []
    for w in range(16):
        records = tmp_path.parent / f"{tmp_path.name}-records{w}"
        records.write_text(json.dumps(_writer_records(w)))
        writers.append(_python(WRITER.format(go=str(go), root=str(tmp_path), worker=w, records=str(records))))
    deadline = time.time() + 60
    while len(list(tmp_path.parent.glob(f"{go.name}.ready*"))) < 16 and time.time() < deadline:
        time.sleep(0.01)
    go.touch()  # all 16 started, released together
    assert [p.wait(120) for p in writers] == [0] * 16
    store = RunStore(tmp_path)
    ids = sorted(p.stem for p in tmp_path.glob("*.json"))
    expected = sorted({r["run_id"] for w in range(16) for r in _writer_records(w)})
    assert len(ids) == 20 + 16 * 20 and ids == expected  # 20 shared + 16 x 20 own records
    for run_id in ids:
        record = store.get(run_id)  # parses completely: no torn write
        assert record is not None and len(record["payload"]) == 20000
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*")) and not list(tmp_path.glob("*.corrupt*"))


SWEEP = """
import json, sys
from molpeg_bench.benchmark.config import RunConfig
from molpeg_bench.slurm.sweep import start_sweep
import os, time
open({go!r} + f".ready{{os.getpid()}}", "w").close()
while not os.path.exists({go!r}):
    time.sleep(0.01)
configs = [RunConfig(method=m, prune_ratio=r, **{tiny!r}) for m in ("random", "soft_random", "molpeg", "infobatch")
           for r in (0.4, 0.8)]
s = start_sweep(configs, {store!r}, executor="debug", threads=1)
print(json.dumps({{"completed": s.completed, "elsewhere": s.running_elsewhere, "skipped": s.skipped,
                  "failed": s.failed}}))
"""


def test_two_identical_sweeps_started_together_compute_each_run_once(tmp_path):
    store, go = tmp_path / "store", tmp_path / "go"
    code = SWEEP.format(go=str(go), tiny=TINY, store=str(store))
    load_dataset("nci-tpsa")  # featurized once, before both sweeps
    sweeps = [_python(code, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    deadline = time.time() + 120
    while len(list(tmp_path.glob("go.ready*"))) < 2 and time.time() < deadline:
        time.sleep(0.05)
    go.touch()  # both imported: released together
    results = [json.loads(p.communicate(timeout=300)[0].strip().splitlines()[-1]) for p in sweeps]
    a, b = (set(r["completed"]) for r in results)
    assert not results[0]["failed"] and not results[1]["failed"]
    assert a and b and not a & b  # both worked, never on the same run
    assert len(a | b) == 8 and len(list(store.glob("*.json"))) == 8
    pids = {json.loads(p.read_text())["environment"]["pid"] for p in store.glob("*.json")}
    assert pids == {p.pid for p in sweeps}
