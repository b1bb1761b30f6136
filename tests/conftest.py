"""Fixtures of every test: a private cache dir per test session, a small labelled store, a folder for a
user's own method code."""

from __future__ import annotations

import os

import pytest

from molpeg_bench.methods import external
from tests.support.data import make_small_store, missing_shared_data
from tests.support.user_code import ROOT


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """A test marked ``shared_data`` runs only where every dataset file it names is present; with
    ``MOLPEG_REQUIRE_DATA=1`` (CI) a missing file fails it instead, so no test on the real data skips unseen."""
    for mark in item.iter_markers("shared_data"):
        missing = missing_shared_data(mark.args)
        if missing and os.environ.get("MOLPEG_REQUIRE_DATA") == "1":
            pytest.fail(f"{missing[0]} not present and MOLPEG_REQUIRE_DATA=1: point MOLPEG_DATA_DIR at the datasets")
        if missing:
            pytest.skip(f"{missing[0]} not present")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("MOLPEG_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture
def small_store():
    return make_small_store()


@pytest.fixture
def user_code(tmp_path, monkeypatch):
    """A folder on sys.path (this process) and PYTHONPATH (workers), with the entry-point cache reset."""
    folder = tmp_path / "user_code"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(folder), str(ROOT), os.environ.get("PYTHONPATH", "")]))
    external._entry_points.cache_clear()
    yield folder
    external._entry_points.cache_clear()

