"""The featurized graph cache (2D stores, conformer stores) is verified against its sha256 on load: a
damaged store is named, moved aside and built again; an older one without a hash is hashed on first read."""

from __future__ import annotations

import torch

from molpeg_bench.benchmark.data.dataset import cached_store


def _cached(tmp_path, store, builds: list):
    def build():
        builds.append(1)
        return store

    return cached_store("toy", "0" * 64, {"subsample": None}, tmp_path, build)


def test_a_damaged_graph_store_is_moved_aside_and_built_again(tmp_path, small_store, caplog):
    builds = []
    _cached(tmp_path, small_store, builds)
    (cache_file,) = (tmp_path / "graphs").glob("*.pt")
    data = bytearray(cache_file.read_bytes())
    data[len(data) // 2:len(data) // 2 + 512] = bytes(512)  # same size: torch.load would not notice
    cache_file.write_bytes(bytes(data))
    again = _cached(tmp_path, small_store, builds)
    assert len(builds) == 2 and torch.equal(again.x, small_store.x) and torch.equal(again.edge_index,
                                                                                      small_store.edge_index)
    lines = [r.getMessage() for r in caplog.records if str(cache_file) in r.getMessage()]
    assert len(lines) == 1 and "sha256" in lines[0] and "featurizing again" in lines[0]
    assert len(list(cache_file.parent.glob(f"{cache_file.name}.corrupt-*"))) == 1
    assert torch.equal(_cached(tmp_path, small_store, builds).x, small_store.x) and len(builds) == 2


def test_an_older_graph_store_without_a_hash_is_hashed_on_first_read(tmp_path, small_store):
    builds = []
    _cached(tmp_path, small_store, builds)
    (cache_file,) = (tmp_path / "graphs").glob("*.pt")
    sidecar = cache_file.with_name(cache_file.name + ".sha256")
    recorded = sidecar.read_text()
    sidecar.unlink()
    assert len(_cached(tmp_path, small_store, builds)) == len(small_store) and len(builds) == 1
    assert sidecar.read_text() == recorded
    sidecar.unlink()
    cache_file.write_bytes(cache_file.read_bytes()[:1000])  # older and truncated: unreadable, built again
    assert len(_cached(tmp_path, small_store, builds)) == len(small_store) and len(builds) == 2
