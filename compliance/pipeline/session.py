"""The state of one doit process: the chosen specs and systems, the plan loaded from them, the build folder's lock.

Command-line variables: ``specs=DIR`` (default ``specs``), ``system=NAME[,NAME...]`` (default: every system).
"""

from __future__ import annotations

import fcntl
from typing import Any

from doit import get_var

from compliance import layout
from compliance.errors import InputError
from compliance.plan import Plan, build_plan, load_specs

#: doit commands that only read: they may run while another doit executes tasks
READ_ONLY_COMMANDS = {"list", "info", "help", "summary", "dumpdb", "strace", "tabcompletion", "auto", "ignore"}

_state: dict[str, Any] = {}


class Busy(InputError):
    """Another doit is executing tasks on this build folder."""


def exclusive(argv: list[str]) -> None:
    """Refuse a second doit that would execute tasks on this build folder while another one does."""
    words = [a for a in argv if not a.startswith("-") and "=" not in a]
    if words and words[0] in READ_ONLY_COMMANDS:
        return
    handle = open(layout.DOIT_LOCK, "w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise Busy(f"another doit is running tasks on {layout.BUILD}/ (lock {layout.DOIT_LOCK}); wait for it to "
                   "end, or run read-only commands (list, info, summary)") from None
    _state["lock"] = handle


def selection() -> tuple[str, list[str] | None]:
    """The specs folder and the systems chosen on the command line (``specs=DIR``, ``system=A,B``)."""
    systems = get_var("system", None)
    return get_var("specs", "specs") or "specs", [s for s in systems.split(",") if s] if systems else None


def load_plan() -> Plan:
    """The plan of the chosen specs and systems (loaded once per process).

    Raises:
        SpecError: the specs are invalid.
        UnknownName: a chosen system does not exist.
    """
    if "plan" not in _state:
        folder, systems = selection()
        _state["plan"] = build_plan(load_specs(folder), systems)
    plan: Plan = _state["plan"]
    return plan


