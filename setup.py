"""The version scheme, the one thing pyproject.toml cannot say: setuptools-scm's version with the commit as the
local part and ``.dirty`` when built from a modified tree (``0.1.devN+g<commit>`` / ``+g<commit>.dirty``)."""

from setuptools import setup


def commit_and_dirty(version) -> str:
    if version.node is None:
        return "+dirty" if version.dirty else ""
    return f"+{version.node[:13]}" + (".dirty" if version.dirty else "")  # g + 12 hex digits, as in a checkout


setup(use_scm_version={"local_scheme": commit_and_dirty, "fallback_version": "0.1.0"})
