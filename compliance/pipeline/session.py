"""The state of one doit process: the chosen specs and systems, the plan loaded from them, the build folder's lock.

Command-line variables: ``specs=DIR`` (default ``specs``), ``system=NAME[,NAME...]`` (default: every system).
"""

from __future__ import annotations

import fcntl
import os
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
    """Refuse a second doit that would execute tasks on this build folder while another one does (a lock this
    process holds already, e.g. taken by ``mlperf-compliance rerun`` before it runs doit, is kept)."""
    words = [a for a in argv if not a.startswith("-") and "=" not in a]
    if words and words[0] in READ_ONLY_COMMANDS:
        return
    if "lock" in _state and _state.get("lock_path") == os.path.realpath(layout.DOIT_LOCK):
        return
    os.makedirs(layout.BUILD, exist_ok=True)
    handle = open(layout.DOIT_LOCK, "w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise Busy(
            f"another doit is running tasks on {layout.BUILD}/ (lock {layout.DOIT_LOCK}); wait for it to "
            "end, or run read-only commands (list, info, summary)"
        ) from None
    _state["lock"], _state["lock_path"] = handle, os.path.realpath(layout.DOIT_LOCK)


def release() -> None:
    """Give up the build folder's lock (and the plan loaded with it: the next doit of this process loads its own)."""
    handle = _state.pop("lock", None)
    _state.pop("lock_path", None)
    _state.pop("plan", None)
    if handle is not None:
        handle.close()


#: the steps of a cell, in order; a step fails doit only when no later step of its cell is to run (see fails_here)
CELL_STEPS = ("reference", "run", "verify", "publish")
#: the checks of each submission tree before upload, after its cells' steps (docs/upload.md)
TREE_STEPS = ("preflight", "checker")
#: the steps of a system, after its cells' (the review of its part of the submission tree)
SYSTEM_STEPS = ("review",)
#: old task ids (release 0.1) -> the step that does their work now
ALIASES = {"stage": "run", "unstage": "run", "audit": "publish"}
#: the default task: every step of every cell, then the verdict of the whole (it fails when a cell does not pass)
OUTCOME = "compliance"


def _requested(argv: list[str]) -> set[str]:
    """The task names and groups given on the command line (the default steps when none is)."""
    words = [
        ALIASES.get(w.split(":")[0], w.split(":")[0]) + (":" + w.split(":", 1)[1] if ":" in w else "")
        for w in argv
        if not w.startswith("-") and "=" not in w
    ]
    if words and words[0] == "run" and not any(w.startswith("run:") for w in words[:1]):
        words = words[1:]  # doit's run command, not the step
    return set(words) or {OUTCOME}


def requested() -> set[str]:
    """The task names and groups this doit was asked for (the default task when none)."""
    import sys

    return _requested(sys.argv[1:])


def fails_here(step: str, cells: list[str], argv: list[str] | None = None, own: str | None = None) -> bool:
    """Whether a failed ``step`` of these cells fails its doit task now, or is recorded for a later task to report.

    doit reports every task that depends on a failed one as an error (exit status 2), so a failure is left to the
    last task asked for: the ``compliance`` task (the default), which fails when a cell does not pass; or the
    latest step of the cell named on the command line. Steps asked for as a group (``doit verify``) fail at once.
    """
    import sys

    requested = _requested(sys.argv[1:] if argv is None else argv)
    if OUTCOME in requested:
        return False
    if step in requested:
        return True
    later = CELL_STEPS[CELL_STEPS.index(step) + 1 :]
    if any(s in requested or f"{s}:{cell}" in requested for s in later for cell in cells):
        return False
    names = [own] if own is not None else cells  # a submission run's own id is not a cell's
    return any(f"{step}:{name}" in requested for name in names)


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
