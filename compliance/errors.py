"""Problems found in user input (specs, command lines, logs), reported as `file:line: $.path: message`."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: Exit status for bad input or specs (documented in compliance.cli).
EXIT_BAD_INPUT = 2

PathPart = str | int


def json_path(parts: Sequence[PathPart]) -> str:
    """Render a path into a document the way jsonschema's ``error.json_path`` does (``$.a.b[0]``)."""
    out = ["$"]
    for part in parts:
        out.append(f"[{part}]" if isinstance(part, int) else f".{part}")
    return "".join(out)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """Return `` (did you mean 'x'?)`` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(str(word), sorted(set(choices)), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one input file."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class SpecError(Exception):
    """Raised with every problem found at once; nothing may run when this is raised."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))


class InputError(Exception):
    """A command's input is missing, unreadable or contradictory (exit status 2); the message names the file."""
