"""Pruning methods from outside the suite, named like built-in ones everywhere a method is named.

Two ways to name one:

- an installed distribution declares an entry point in the group ``molpeg_bench.methods``
  (``my_pruner = my_package.module:MyPruner``) and the method is called by that name;
- ``module.path:ClassName``, importable from the current environment (installed, or on ``PYTHONPATH``).

The class subclasses one of the suite's bases (``StaticPruner``, ``ScoredPruner``, ``DynamicPruner``, ...). It is
loaded once per process, registered under the name it was called by, and carries its ``origin``: how it was
found, the distribution's name and version, and the sha256 of its module's source. The origin enters the run
id (``RunConfig.run_id``), so editing the method's code names new runs. Worker processes (local or SLURM)
resolve the name the same way, by importing it.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata as metadata
import inspect
import traceback
from functools import cache
from typing import Any

ENTRY_POINT_GROUP = "molpeg_bench.methods"


class ExternalMethodError(ValueError):
    """An external method that cannot be used; the message names it and, for an import error, holds the
    method's own traceback."""


@cache
def _entry_points() -> dict[str, metadata.EntryPoint]:
    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def entry_point_names() -> list[str]:
    return sorted(_entry_points())


def clash(name: str) -> str | None:
    """The one-line refusal when an installed entry point takes a built-in method's ``name``, else None."""
    ep = _entry_points().get(name)
    if ep is None:
        return None
    dist = ep.dist.name if ep.dist is not None else "an installed distribution"
    return (f"entry point {name!r} ({ep.value}, from {dist}) clashes with the built-in method {name!r}: "
            f"rename it in {dist}'s [project.entry-points.\"{ENTRY_POINT_GROUP}\"]")


def is_external_name(name: str) -> bool:
    return ":" in name or name in _entry_points()


def load(name: str) -> type | None:
    """The class named by ``name`` (an entry point or ``module:Class``), or None when ``name`` is neither."""
    if ":" in name:
        module_name, _, attr = name.partition(":")
        how = {"found_by": "module", "spec": name}
    elif name in _entry_points():
        ep = _entry_points()[name]
        module_name, attr = ep.module, ep.attr
        how = {"found_by": "entry_point", "spec": ep.value}
        if ep.dist is not None:  # the distribution that declares the entry point
            how |= {"distribution": ep.dist.name, "distribution_version": ep.dist.version}
    else:
        return None
    if not module_name or not attr:
        raise ExternalMethodError(f"method {name!r}: expected module.path:ClassName")
    try:
        module = importlib.import_module(module_name)
    except (Exception, SystemExit) as exc:  # the user's code (sys.exit too): show its own traceback
        how_failed = "called sys.exit" if isinstance(exc, SystemExit) else "failed"
        raise ExternalMethodError(f"method {name!r}: importing module {module_name!r} {how_failed}:\n"
                                  f"{traceback.format_exc().rstrip()}") from exc
    cls = module
    for part in attr.split("."):
        cls = getattr(cls, part, None)
        if cls is None:
            raise ExternalMethodError(f"method {name!r}: module {module_name!r} has no attribute {attr!r}")
    _check_class(name, cls)
    cls.name = name
    cls.origin = {**distribution_of(module_name), **how, "source_sha256": source_sha256(module)}
    return cls


def _check_class(name: str, cls: Any) -> None:
    from molpeg_bench.methods.base import DynamicPruner, StaticPruner

    if not (isinstance(cls, type) and issubclass(cls, (StaticPruner, DynamicPruner))):
        raise ExternalMethodError(f"method {name!r}: {cls!r} is not a subclass of methods.base.StaticPruner or "
                                  "DynamicPruner")


def distribution_of(module_name: str) -> dict:
    """The installed distribution that provides ``module_name``'s top-level package (name, version), if any."""
    top = module_name.split(".")[0]
    names = metadata.packages_distributions().get(top, [])
    for name in names:  # a name the metadata lists but cannot look up (a broken install) names no version
        try:
            return {"distribution": name, "distribution_version": metadata.version(name)}
        except metadata.PackageNotFoundError:
            continue
    return {"distribution": names[0] if names else None, "distribution_version": None}


def source_sha256(module: Any) -> str:
    """sha256 of the module's source text (its file's bytes where it has one)."""
    path = getattr(module, "__file__", None)
    if path:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    return hashlib.sha256(inspect.getsource(module).encode()).hexdigest()
