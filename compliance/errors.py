"""Problems in user input, the project's exceptions, and the one place that maps them to messages and exit codes.

Layer: the bottom one; imports nothing of the project.

Exit status of every entry point (``mlperf-compliance ...``, ``doit`` on our dodo.py):

====  =====================================================================================================
0     success: the specs are valid, the test passes, every task did its job and every cell passes
1     a test or a task failed (the reason is printed above, and in ``doit summary``)
2     bad input: invalid specs, an unknown name, a bad command line, a missing or unreadable file, a file the
      machine will not let the tool write (a full disk, a read-only folder, a path longer than SQLite opens);
      one ``error:`` line (or one line per spec problem) says what and where
130   interrupted by Ctrl-C (SIGINT); 143: stopped by SIGTERM. One line says what was interrupted.
====  =====================================================================================================

doit's own codes, which only a plain ``doit`` can return: 2 "error while executing a task" (a step the machine
stopped, said in its ``error:`` line, and the steps after it; anything else means a bug: our tasks record
failures instead) and 3 "error before task execution" (e.g. an unknown task name: doit prints ``ERROR: ...``).

When the reader of the output goes away (``... | head``), ``mlperf-compliance`` drops the rest of the output and
ends with its own status; ``doit`` on a dodo.py ends at its next write, quietly, as a Unix tool does.
"""

from __future__ import annotations

import atexit
import contextlib
import difflib
import errno
import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

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
    """Run an entry point's body and map the project's exceptions, and what the machine refuses (a full disk...),
    to their exit status (see :func:`report`); a reader of its output that went away (``| head``) drops the rest
    of the output, never the status."""
    with output_may_close():
        try:
            code = function()
            sys.stdout.flush()  # here, where a Ctrl-C is still one line (not in the interpreter's last flush)
            return code
        except (SpecError, InputError, KeyboardInterrupt, Interrupted) as exc:
            return report(exc, err or sys.stderr)
        except OSError as exc:
            why = os_problem(exc)
            if why is None:  # a bug: its traceback is wanted
                raise
            return report(InputError(why), err or sys.stderr)


# -- the machine: a full disk, a read-only folder, a path too long -----------------------------------------------------

#: what the system answers when the machine, not the tool, stops a write (or a read): said in one line, no traceback
MACHINE_ERRNOS = frozenset(
    {
        errno.ENOSPC,  # no space left on device
        errno.EDQUOT,  # disk quota exceeded
        errno.EROFS,  # read-only file system
        errno.EACCES,  # permission denied
        errno.EPERM,  # operation not permitted
        errno.ENAMETOOLONG,  # file name too long
        errno.EFBIG,  # file too large
        errno.EIO,  # input/output error
        errno.EMFILE,  # too many open files
        errno.ENFILE,
    }
)


def os_problem(exc: BaseException) -> str | None:
    """``<file>: <what the system said>`` for an error the machine caused (:data:`MACHINE_ERRNOS`); None for any
    other exception (a bug: its traceback is wanted)."""
    if not isinstance(exc, OSError) or exc.errno not in MACHINE_ERRNOS:
        return None
    what = exc.strerror or os.strerror(exc.errno or 0)
    named: BaseException | None = exc
    for _ in range(8):  # a write without a name (f.write) names no file: the error it followed may
        if not isinstance(named, OSError) or named.filename is not None:
            break
        named = named.__cause__ or named.__context__
    source = named if isinstance(named, OSError) and named.errno == exc.errno else exc
    files = [str(f) for f in (source.filename, source.filename2) if f is not None]
    return f"{' -> '.join(files)}: {what}" if files else what


# -- a closed pipe: `... | head` ---------------------------------------------------------------------------------------


class _Droppable:
    """A text stream whose output is dropped once its reader has gone (a closed pipe), instead of raising
    BrokenPipeError at every later write and at the interpreter's final flush."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.reader_gone = False

    def _gone(self) -> None:
        self.reader_gone = True
        try:  # the final flush of the interpreter goes to /dev/null, not into the closed pipe
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):  # not a real file (a test's capture)
            pass

    def write(self, text: str) -> int:
        if not self.reader_gone:
            try:
                return self.stream.write(text)
            except BrokenPipeError:
                self._gone()
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        if not self.reader_gone:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._gone()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


@contextlib.contextmanager
def output_may_close() -> Iterator[None]:
    """Within the block, ``sys.stdout`` drops its output once the reader has gone (``| head``): the work goes on and
    ends with its own status, quietly."""
    if isinstance(sys.stdout, _Droppable):
        yield
        return
    before = sys.stdout
    sys.stdout = _Droppable(before)
    try:
        yield
    finally:
        sys.stdout = before


def closed_pipe_ends_process() -> None:
    """A ``doit`` on a dodo.py, whose commands (list, info, a run's progress) write to the stdout doit took before
    our code ran: when its reader goes away, the process ends at its next write, quietly, as a Unix tool does
    (SIGPIPE; between two tasks a run loses nothing: doit's database and every record are written at once). Only
    for the process's own stdout (not a test's capture, not :func:`output_may_close`'s)."""
    if sys.stdout is not sys.__stdout__:
        return
    with contextlib.suppress(ValueError, AttributeError):  # not the main thread; a system without SIGPIPE
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)


# -- Ctrl-C and SIGTERM ------------------------------------------------------------------------------------------------


def quiet_interrupt_hook() -> None:
    """Make a Ctrl-C (or :class:`Interrupted`) that reaches the top of the process end with one line and its exit
    status, not a traceback: for the time before an entry point's own handling starts (its modules loading, doit
    reading the specs) and for entry points we do not own (doit's ``doit`` command). Installed once."""
    if getattr(sys.excepthook, "quiet_interrupt", False):
        return
    previous = sys.excepthook

    def hook(kind: type[BaseException], exc: BaseException, tb: object) -> None:
        if isinstance(exc, (KeyboardInterrupt, Interrupted)):
            code = report(exc, sys.stderr)
            with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more to say
                sys.stderr.flush()
                sys.stdout.flush()
            os._exit(code)
        previous(kind, exc, tb)  # type: ignore[arg-type]

    hook.quiet_interrupt = True  # type: ignore[attr-defined]
    sys.excepthook = hook
    # the interpreter's last steps run no code of ours: a Ctrl-C there, once the work and its status are done,
    # would end the process by the signal, silently; it changes nothing then
    atexit.unregister(_ignore_sigint)
    atexit.register(_ignore_sigint)


def _ignore_sigint() -> None:
    with contextlib.suppress(ValueError):  # not the main thread
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def exit_quietly_on_interrupt() -> None:
    """:func:`quiet_interrupt_hook`, and SIGTERM raised as :class:`Interrupted` so cleanup code runs on the way out
    (a run in progress replaces this handler with one that names it)."""

    def on_sigterm(signum: int, frame: object) -> None:
        raise Interrupted("SIGTERM")

    try:
        signal.signal(signal.SIGTERM, on_sigterm)
    except ValueError:  # not the main thread
        pass
    quiet_interrupt_hook()
