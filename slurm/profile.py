"""Cluster profiles: what a SLURM array task asks for, read from a TOML file with command-line overrides.

``slurm/profiles/default.toml`` (the default) suits a typical GPU cluster; ``local.toml`` is the
single-node test cluster. Any field can be overridden with ``--cluster NAME=VALUE``.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

PROFILES_DIR = Path(__file__).parent / "profiles"


@dataclass(frozen=True)
class ClusterProfile:
    partition: str | None = None  # None: the cluster's default partition
    gpus_per_task: int = 1
    cpus_per_task: int = 8  # also the torch threads of each run
    mem_gb: float = 32.0  # 0: do not ask for memory (the partition's default)
    timeout_min: int = 240  # per array task; a task that times out is requeued and resumes its runs
    array_parallelism: int = 32  # array tasks running at once
    runs_per_task: int = 8  # runs executed one after another by one array task
    max_requeues: int = 3  # timeouts / preemptions a task may be requeued after
    signal_delay_s: int = 120  # the checkpoint signal comes this long before the time limit
    account: str | None = None
    qos: str | None = None
    setup: tuple[str, ...] = ()  # shell lines run before each task (module load ..., source venv)
    extra: dict = field(default_factory=dict)  # any other sbatch option, e.g. {constraint = "a100"}

    def __post_init__(self) -> None:
        for name in ("gpus_per_task", "mem_gb", "max_requeues", "signal_delay_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"cluster profile: {name} must be >= 0, got {getattr(self, name)}")
        for name in ("cpus_per_task", "timeout_min", "array_parallelism", "runs_per_task"):
            if getattr(self, name) < 1:
                raise ValueError(f"cluster profile: {name} must be >= 1, got {getattr(self, name)}")

    def with_overrides(self, overrides: dict[str, object]) -> ClusterProfile:
        return _build(dataclasses.asdict(self) | overrides, "command line")


def load_profile(path: str | Path | None = None, overrides: dict[str, object] | None = None) -> ClusterProfile:
    """The profile in ``path`` (a file, or the name of one in ``slurm/profiles``; default ``default``)."""
    path = Path(path or "default")
    if not path.is_file():
        named = PROFILES_DIR / f"{path.name}.toml"
        if not named.is_file():
            raise FileNotFoundError(f"cluster profile {str(path)!r} not found (a TOML file, or one of "
                                    f"{sorted(p.stem for p in PROFILES_DIR.glob('*.toml'))})")
        path = named
    with path.open("rb") as f:
        return _build(tomllib.load(f), str(path)).with_overrides(overrides or {})


def _build(fields: dict, source: str) -> ClusterProfile:
    known = {f.name for f in dataclasses.fields(ClusterProfile)}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise ValueError(f"cluster profile {source}: unknown field(s) {unknown}; expected some of {sorted(known)}")
    if "setup" in fields:
        fields = fields | {"setup": tuple(fields["setup"])}
    return ClusterProfile(**fields)
