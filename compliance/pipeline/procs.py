"""The processes of this machine as /proc shows them (Linux): who is whose child, who is in which session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Process:
    pid: int
    state: str  # R, S, D, Z (zombie), ...
    parent: int
    session: int


def processes() -> Iterator[Process]:
    """Every process /proc lists now (none where there is no /proc); ones that end while we read are skipped."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()  # the command name, in (), may hold spaces
        except (OSError, IndexError):
            continue
        yield Process(int(entry), fields[0], int(fields[1]), int(fields[3]))
