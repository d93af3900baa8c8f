"""doit's task objects as its reporter sees them, for tests that feed a reporter as doit does (no doit run)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Action:
    out: str = ""
    err: str = ""


@dataclass
class Task:
    """What the reporter reads of a doit task: its name, values and meta, its actions and dependencies."""

    name: str
    values: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    actions: tuple[Action, ...] = (Action(),)
    task_dep: list[str] = field(default_factory=list)
    setup_tasks: list[str] = field(default_factory=list)
    file_dep: set[str] = field(default_factory=set)
    targets: list[str] = field(default_factory=list)
    executed: bool = True
    verbosity: int = 1
