"""The suite's version: the distribution's own build metadata, plus the commit of the suite's checkout when it
runs from one (an editable install), never the commit of a git repository it merely sits inside.

A wheel carries its version from the build (setuptools-scm: ``0.1.devN+g<commit>``, ``.dirty`` when built from a
modified tree). An editable install's metadata is as old as its ``pip install``, so there the checkout is
asked instead (``git describe``, ``+dirty`` for uncommitted changes), but only when the package's folder is
the top of a checkout of this suite (its ``pyproject.toml`` names ``molpeg-bench``): installed into a venv
inside a user's own project, the user's commit is not the suite's. Hand-written because setuptools-scm's
runtime lookup has no such guard.
"""

from __future__ import annotations

import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

DISTRIBUTION = "molpeg-bench"
CHECKOUT = Path(__file__).resolve().parents[1]


def _installed() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown"


def _own_checkout() -> bool:
    pyproject = CHECKOUT / "pyproject.toml"
    try:
        return f'name = "{DISTRIBUTION}"' in pyproject.read_text() and (CHECKOUT / ".git").exists()
    except OSError:
        return False


def _checkout_commit() -> str | None:
    """``g<commit>`` (``.dirty`` with uncommitted changes to tracked files) of the suite's own checkout."""
    try:
        out = subprocess.run(["git", "-C", str(CHECKOUT), "describe", "--always", "--dirty=.dirty", "--abbrev=12",
                              "--exclude", "*"], capture_output=True, text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"g{out}" if out else None


def suite_version() -> str:
    """The version every run record names: the build's, with the checkout's commit where it runs from one."""
    installed = _installed()
    if not _own_checkout():
        return installed
    commit = _checkout_commit()
    return f"{installed.split('+')[0]}+{commit}" if commit else installed
