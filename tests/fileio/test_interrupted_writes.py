"""A write that runs out of room (full disk, quota, file size limit) is one error naming the file, the bytes it
needed and the room there, with nothing half-written; SIGTERM during ``run`` unwinds like Ctrl-C, so the record
being written leaves no temporary file behind."""

import errno
import functools
import io
import os
import resource
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from molpeg_bench.benchmark.data import load_dataset
from molpeg_bench.fileio import atomic
from molpeg_bench.fileio.atomic import write_atomic
from molpeg_bench.fileio.disk_full import DiskFull, Tally, disk_full, out_of_room
from tests.support.data import needs_shared_data

ROOT = Path(__file__).resolve().parents[2]
RUN = ["run", "--preset", "ci", "--dataset", "hiv", "--method", "random", "--prune-ratio", "0.4"]
DYNAMIC_RUN = [*RUN[:5], "--method", "soft_random", *RUN[7:]]  # trains no warm-up: its first big file is the run's


def _cli(script: str, tmp_path: Path, limit_bytes: int | None = None) -> subprocess.CompletedProcess:
    """``script`` in a fresh interpreter (``store`` is bound to a store folder), optionally under a file size
    limit (RLIMIT_FSIZE): the suite's writers meet EFBIG as they would meet a full disk."""
    store = tmp_path / "store"
    code = f"store = {str(store)!r}\n" + textwrap.dedent(script)
    limit = (lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))) if limit_bytes else None
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=300, preexec_fn=limit)


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if " ERROR " in line]


@needs_shared_data("hiv.csv.gz")
def test_a_checkpoint_beyond_the_file_size_limit_is_one_line_and_leaves_nothing(tmp_path):
    load_dataset("hiv")  # featurized into the test cache before the limit: only the run's own files are written
    done = _cli(f"""
        from molpeg_bench.benchmark.cli import main
        raise SystemExit(main({[*DYNAMIC_RUN, "--store", str(tmp_path / "store")]!r}))
    """, tmp_path, limit_bytes=20_000)  # a claim file fits, the GIN's epoch checkpoint does not
    assert done.returncode == 2, done.stderr
    (error,) = _errors(done.stderr)
    assert "file size limit exceeded writing " in error and "/checkpoint.pt: it needs " in error
    assert "bytes or more, the limit (ulimit -f) is 20,000 bytes and " in error and " bytes are free in " in error
    assert "Traceback" not in done.stderr
    store = tmp_path / "store"
    # no record, no checkpoint, no .tmp: only the claim and the run's log up to the failure (status shows its tail)
    left = [p for p in store.rglob("*") if p.is_file() and p.parent.name != ".claims"]
    assert [p.relative_to(store).parts[::2] for p in left] == [(".work", "run.log")], left
    assert "epoch 1/2" in left[0].read_text()


def test_out_of_room_in_any_writer_names_the_file_and_removes_the_temporary(tmp_path, monkeypatch):
    def disk_full_at_fsync(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic.os, "fsync", disk_full_at_fsync)
    target = tmp_path / "cache" / "graphs.pt"
    with pytest.raises(DiskFull) as caught:
        write_atomic(target, functools.partial(torch.save, {"x": torch.zeros(1000)}))
    message = str(caught.value)
    assert message.startswith(f"no space left on device writing {target}: it needs ")
    assert message.endswith("free some space there and run again") and "\n" not in message
    assert caught.value.errno == errno.ENOSPC and caught.value.path == target
    assert list(target.parent.iterdir()) == []


class FillingDisk(io.RawIOBase):
    """A file on a disk with ``room`` bytes left: a write beyond it fails with ENOSPC."""

    def __init__(self, room: int):
        super().__init__()
        self.room = room

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if memoryview(data).nbytes > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room -= memoryview(data).nbytes
        return memoryview(data).nbytes


def test_torch_hides_a_full_disk_and_the_tally_finds_it(tmp_path):
    """torch.save turns a disk that fills mid-archive into 'RuntimeError: ... unexpected pos'; the tally keeps
    the cause."""
    tally = Tally(FillingDisk(room=2000))
    with pytest.raises(RuntimeError, match="unexpected pos") as caught:
        torch.save({"x": torch.zeros(1000), "y": torch.ones(3000)}, tally)
    cause = out_of_room(caught.value, tally)
    assert cause is not None and cause.errno == errno.ENOSPC
    assert tally.attempted > 4000  # the first tensor's bytes were handed to the file
    error = disk_full(tmp_path / "checkpoint.pt", tally.attempted, cause)
    assert str(error).startswith(f"no space left on device writing {tmp_path / 'checkpoint.pt'}: it needs "
                                 f"{tally.attempted:,} bytes or more and ")


@needs_shared_data("hiv.csv.gz")
def test_sigterm_while_run_writes_its_record_leaves_no_temporary_file(tmp_path):
    load_dataset("hiv")
    done = _cli(f"""
        import os, signal, time
        import molpeg_bench.results.store
        from molpeg_bench.benchmark.cli import main
        from molpeg_bench.fileio.atomic import write_atomic

        def write_then_get_stopped(path, text):
            def write(handle):
                handle.write(text[:100].encode())
                os.kill(os.getpid(), signal.SIGTERM)  # lands in the middle of the record
                time.sleep(60)
            return write_atomic(path, write)

        molpeg_bench.results.store.write_text_atomic = write_then_get_stopped
        raise SystemExit(main({[*RUN, "--store", str(tmp_path / "store")]!r}))
    """, tmp_path)
    assert done.returncode == 128 + signal.SIGTERM, done.stderr
    assert "stopped by SIGTERM" in done.stderr
    store = tmp_path / "store"
    assert not list(store.rglob("*.tmp")) and not list(store.glob("*.json"))
    assert not list(store.glob(".claims/*.lock"))  # the claim was released on the way out
