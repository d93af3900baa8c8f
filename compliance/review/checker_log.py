"""The official submission checker's verdict per cell, read from its log (docs/upload.md, "The official checker").

Both checkers (the modular ``submission_checker`` and the single-file one of earlier commits) log through Python's
logging (``[time file:line LEVEL] message``), and end with a line per result: ``Results <performance folder>
<metric>`` for an accepted one, ``NoResults <performance folder>`` for a rejected one. A cell is accepted when a
``Results`` line names its results folder; rejected when a ``NoResults`` line does; its messages are the ERROR lines
that name one of its folders (its results, its compliance folder, its measurements) or its benchmark folder (the
scenario coverage), one line each. A checker that ended without a verdict for a cell (a traceback, a system it
skipped) gives no status: the cell's row then says why, with the last line of the traceback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: a logged line: ``LEVEL:name:message`` (logging's default) or ``[time file:line LEVEL] message`` (the checkers')
_LINE = re.compile(
    r"^(?:\[[^\]]* (DEBUG|INFO|WARNING|ERROR|CRITICAL)\]|(DEBUG|INFO|WARNING|ERROR|CRITICAL):[^:]*:)\s?(.*)$"
)
_RESULT = re.compile(r"^(No)?Results (\S+)")
ACCEPTED, REJECTED, NO_VERDICT = "PASS", "FAIL", "NOT CHECKABLE"


@dataclass(frozen=True)
class CellPlace:
    """A cell as the tree spells it: its division, organisation, system, benchmark and scenario folder."""

    division: str
    org: str
    system: str
    benchmark: str
    scenario: str

    def folders(self) -> tuple[str, ...]:
        """The folders of the cell the checker names in its messages (relative to the tree)."""
        tail = f"{self.system}/{self.benchmark}/{self.scenario}"
        base = f"{self.division}/{self.org}"
        return tuple(f"{base}/{where}/{tail}" for where in ("results", "compliance", "measurements"))

    def benchmark_folder(self) -> str:
        return f"{self.division}/{self.org}/results/{self.system}/{self.benchmark}"


@dataclass
class Verdict:
    """The checker's verdict on one cell: its status, the ERROR lines about it, and why there is none."""

    status: str = NO_VERDICT
    messages: list[str] = field(default_factory=list)
    why: str = ""


def _names(message: str, folder: str, under: bool = True) -> bool:
    """Whether a message names ``folder`` (or, with ``under``, a path under it), not merely a folder whose name
    starts alike."""
    after = " /'\",):;" if under else " '\",):;"
    at = message.find(folder)
    while at >= 0:
        end = at + len(folder)
        before = message[at - 1] if at else " "
        if before in " '\"(=/" and (end == len(message) or message[end] in after):
            return True
        at = message.find(folder, at + 1)
    return False


def verdicts(log: str, cells: list[CellPlace], returncode: int) -> dict[CellPlace, Verdict]:
    """The verdict on each of ``cells`` from the checker's output ``log`` (its exit status ``returncode``)."""
    found = {cell: Verdict() for cell in cells}
    last = ""
    for raw in log.splitlines():
        line = raw.rstrip()
        if line.strip():
            last = line.strip()
        match = _LINE.match(line)
        if match is None:
            continue
        level, message = match.group(1) or match.group(2), match.group(3).strip()
        result = _RESULT.match(message)
        for cell, verdict in found.items():
            if result is not None and any(_names(result.group(2), f) for f in cell.folders()[:1]):
                verdict.status = REJECTED if result.group(1) else ACCEPTED
            elif level in ("ERROR", "CRITICAL") and result is None:
                own = any(_names(message, folder) for folder in cell.folders())
                if own or _names(message, cell.benchmark_folder(), under=False):
                    verdict.messages.append(message)
    for verdict in found.values():
        if verdict.status == NO_VERDICT:
            ended = f"the checker ended with status {returncode}" + (f" ({last})" if returncode else "")
            verdict.why = f"no verdict for this cell in the checker's log; {ended}"
    return found
