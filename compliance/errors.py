"""Problems in user input, the project's exceptions, and the one place that maps them to messages and exit codes.

Layer: the bottom one; imports nothing of the project.

Exit status of every entry point (``mlperf-compliance ...``, ``doit`` on our dodo.py):

====  =====================================================================================================
0     success: the specs are valid, the test passes, every task did its job and every cell passes
1     a test or a task failed (the reason is printed above, and in ``doit summary``)
2     bad input: invalid specs, an unknown name, a bad command line, a missing or unreadable file;
      one ``error:`` line (or one line per spec problem) says what and where
130   interrupted by Ctrl-C (SIGINT); 143: stopped by SIGTERM. One line says what was interrupted.
====  =====================================================================================================

doit's own codes, which only a plain ``doit`` can return: 2 "error while executing a task" (a task's
dependency failed; our tasks record failures instead, so this means a bug) and 3 "error before task execution"
(e.g. an unknown task name: doit prints ``ERROR: ...``).
"""

from __future__ import annotations

import difflib
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TextIO

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_SIGINT = 130
EXIT_SIGTERM = 143

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


def plural(count: int, noun: str) -> str:
    """``1 problem``, ``2 problems``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


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

    def __init__(self, problems: Sequence[Problem], where: str = ""):
        self.problems = sorted(set(problems))
        self.where = where  # the specs folder, for the closing line
        super().__init__("\n".join(str(p) for p in self.problems))


class InputError(Exception):
    """A command's input is missing, unreadable or contradictory (exit status 2); the message names the file."""


class UnknownName(InputError):
    """A name given on the command line or in a spec is not known (a test, a model, a scenario...)."""


class Interrupted(BaseException):
    """A signal stopped the work (raised like KeyboardInterrupt, so cleanup code runs on the way out).

    ``what`` says what was going on (e.g. ``run demo/resnet/Offline/TEST01``) and ``cleaned`` what was made safe.
    """

    def __init__(self, signal_name: str, what: str = "", cleaned: str = ""):
        self.signal_name = signal_name
        self.what = what
        self.cleaned = cleaned
        super().__init__(signal_name)


def interrupted_line(exc: BaseException) -> str:
    """The one line printed for Ctrl-C or SIGTERM."""
    if isinstance(exc, Interrupted):
        what = f" during {exc.what}" if exc.what else ""
        cleaned = f"; {exc.cleaned}" if exc.cleaned else ""
        return f"interrupted by {exc.signal_name}{what}{cleaned}; run the same command again to resume"
    return "interrupted by SIGINT; run the same command again to resume"


def report(exc: BaseException, err: TextIO) -> int:
    """Print what ``exc`` means for a user (no traceback for anything expected) and return the exit status.

    Unexpected exceptions are bugs: they are re-raised, so their traceback is shown.
    """
    if isinstance(exc, SpecError):
        for problem in exc.problems:
            print(problem, file=err)
        where = f" in {exc.where}" if exc.where else ""
        print(f"error: {plural(len(exc.problems), 'problem')}{where}; nothing was run", file=err)
        return EXIT_BAD_INPUT
    if isinstance(exc, InputError):
        print(f"error: {exc}", file=err)
        return EXIT_BAD_INPUT
    if isinstance(exc, (KeyboardInterrupt, Interrupted)):
        print(interrupted_line(exc), file=err)
        return EXIT_SIGTERM if isinstance(exc, Interrupted) and exc.signal_name == "SIGTERM" else EXIT_SIGINT
    raise exc


def guarded(function: Callable[[], int], err: TextIO | None = None) -> int:
    """Run an entry point's body and map the project's exceptions to their exit status (see :func:`report`)."""
    try:
        return function()
    except (SpecError, InputError, KeyboardInterrupt, Interrupted) as exc:
        return report(exc, err or sys.stderr)


def exit_quietly_on_interrupt() -> None:
    """Make an interruption that reaches the top of the process (Ctrl-C, SIGTERM) end with one line and its exit
    status, not a traceback (for entry points we do not own, such as doit's own ``doit`` command). SIGTERM is raised
    as :class:`Interrupted` so cleanup code runs on the way out (a run in progress replaces this handler with one
    that names it)."""
    import signal

    def on_sigterm(signum: int, frame: object) -> None:
        raise Interrupted("SIGTERM")

    try:
        signal.signal(signal.SIGTERM, on_sigterm)
    except ValueError:  # not the main thread
        pass
    previous = sys.excepthook

    def hook(kind: type[BaseException], exc: BaseException, tb: object) -> None:
        if isinstance(exc, (KeyboardInterrupt, Interrupted)):
            code = report(exc, sys.stderr)
            sys.stderr.flush()
            sys.stdout.flush()
            os._exit(code)
        previous(kind, exc, tb)  # type: ignore[arg-type]

    sys.excepthook = hook
