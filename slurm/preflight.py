"""Before a SLURM sweep does any work: is there a cluster, and does the profile fit it?

Asks ``sinfo`` for the partitions, their GPUs (GRES) and state, and checks the profile's partition and GPU
request against them, so a sweep that cannot be submitted fails in a second with one line saying what to
change, instead of after featurizing the data with sbatch's traceback.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

from molpeg_bench.slurm.profile import ClusterProfile

FIX_PROFILE = "PROFILE=slurm/profiles/local.toml (make) / --profile local (CLI)"


class ClusterUnfit(ValueError):
    """No SLURM cluster answers, or the cluster profile asks for what it does not have."""


@dataclass(frozen=True)
class Partition:
    name: str
    default: bool
    gpus: bool
    up: bool


def partitions(timeout_s: float = 20.0) -> list[Partition]:
    """The cluster's partitions from ``sinfo``; ``ClusterUnfit`` when there is no SLURM client or controller."""
    missing = [tool for tool in ("sbatch", "sinfo") if shutil.which(tool) is None]
    if missing:
        raise ClusterUnfit(f"--executor slurm: no {' or '.join(missing)} on PATH (no SLURM client on this machine); "
                           "run from a cluster login node, or use --executor local (EXECUTOR=local, unset "
                           "MOLPEG_EXECUTOR)")
    try:
        out = subprocess.run(["sinfo", "--noheader", "--format=%P|%G|%a"], capture_output=True, text=True,
                             timeout=timeout_s)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ClusterUnfit(f"--executor slurm: sinfo did not answer ({exc}); is the SLURM controller up?") from exc
    if out.returncode != 0 or not out.stdout.strip():
        reason = (out.stderr.strip().splitlines() or ["no partition listed"])[-1]
        raise ClusterUnfit(f"--executor slurm: the SLURM controller does not answer (sinfo: {reason}); start it "
                           "(test cluster: slurm/local_cluster/start.sh) or use --executor local")
    found: dict[str, Partition] = {}
    for line in out.stdout.split("\n"):
        if line.count("|") != 2:
            continue
        name, gres, avail = line.split("|")
        part = Partition(name.rstrip("*"), name.endswith("*"), "gpu" in gres, avail == "up")
        if part.name in found:  # one line per node group: the partition has GPUs if any group has
            old = found[part.name]
            part = Partition(part.name, part.default, old.gpus or part.gpus, old.up or part.up)
        found[part.name] = part
    return list(found.values())


def check_profile(profile: ClusterProfile, available: list[Partition]) -> None:
    """One ``ClusterUnfit`` line naming every way ``profile`` does not fit the ``available`` partitions."""
    names = sorted(p.name for p in available)
    chosen = [p for p in available if (p.name == profile.partition if profile.partition else p.default)]
    problems, fixes = [], []
    if profile.partition and not chosen:
        problems.append(f"partition {profile.partition!r} does not exist (partitions: {', '.join(names)})")
        fixes.append(f"--cluster partition={names[0]}" if names else "")
    elif not chosen:
        problems.append(f"no partition given and the cluster has no default (partitions: {', '.join(names)})")
        fixes.append(f"--cluster partition={names[0]}" if names else "")
    elif not chosen[0].up:
        problems.append(f"partition {chosen[0].name!r} is not up")
    if profile.gpus_per_task and not any(p.gpus for p in (chosen or available)):
        where = f"partition {chosen[0].name!r}" if chosen else "the cluster"
        problems.append(f"it asks gpus_per_task={profile.gpus_per_task} but {where} has no GPU (sinfo GRES)")
        fixes.append("--cluster gpus_per_task=0")
    if problems:
        fix = " ".join(f for f in fixes if f)
        raise ClusterUnfit(f"the cluster profile does not fit this cluster: {'; '.join(problems)}. Use "
                           f"{FIX_PROFILE}" + (f", or {fix}" if fix else ""))


def check_cluster(profile: ClusterProfile) -> None:
    """``ClusterUnfit`` unless a SLURM cluster answers and ``profile`` fits it."""
    check_profile(profile, partitions())
