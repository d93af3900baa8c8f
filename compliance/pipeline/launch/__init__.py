"""The launcher table: each kind of launcher, by the name a system spec gives it (``launcher: {kind: local}``).

The guarantees every launcher keeps are in :mod:`compliance.pipeline.launch.base`.
"""

from __future__ import annotations

from compliance.errors import UnknownName, did_you_mean
from compliance.pipeline.launch import local, slurm
from compliance.pipeline.launch.base import Launcher

LAUNCHERS: dict[str, Launcher] = {
    local.LocalLauncher.kind: local.LocalLauncher(),
    slurm.SlurmLauncher.kind: slurm.SlurmLauncher(),
}


def get(kind: str) -> Launcher:
    """The launcher of ``kind``.

    Raises:
        UnknownName: no launcher has that kind.
    """
    try:
        return LAUNCHERS[kind]
    except KeyError:
        raise UnknownName(
            f"unknown launcher '{kind}'{did_you_mean(kind, LAUNCHERS)}; known: {', '.join(sorted(LAUNCHERS))}"
        ) from None
