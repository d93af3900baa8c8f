"""Progress while work runs (doit's reporter draws it): each running task's elapsed time and what to expect of it,
and what a harness printed that matters.

* **Expected duration** (:func:`expected`): the previous run of the same run took (its record's ``duration_s``),
  else LoadGen's ``min_duration`` where the run's settings say it (the staged audit.config, a declared input ending
  in ``.conf`` such as the harness's user.conf), as a lower bound; else none is claimed.
* **The display** (:class:`Ticker`): on a terminal, one status line at the bottom, redrawn in place every second
  (``running: run demo/resnet/Offline/TEST01 1m05s of ~2m10s | ...``; several tasks at once with ``doit -n``);
  otherwise (a CI log) a plain line per running task every minute. No escape code is written when the output is not
  a terminal, and no colour when ``NO_COLOR`` is set (https://no-color.org) or ``TERM=dumb``.
* **What the harness printed** (:func:`harness_notes`): from the run's output file (``run.log``), written during the
  task: its warnings (lines with ``warning:``, ``WARNING``, ``[WARN]``, ``SomethingWarning:``), each distinct one
  shown once per build, and its last lines when the task failed.

Nothing here depends on the wall clock's speed: the clock and the redraw are given, so tests drive them.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from compliance import auditconfig, records
from compliance.plan import RunPlan
from compliance.records import RunRecord
from compliance.report import escape

#: a line of a harness's output that warns (not LoadGen's "No warnings encountered during test.")
WARNING = re.compile(r"(?i)(?<![a-z])warn(ing)?\s*[:\]]|\b\w+Warning:")
TAIL_LINES = 10  # the last lines of a failed run's output shown
TAIL_BYTES = 16 << 10  # read from the end of the output for them
LINE_CHARS = 200  # a harness line is cut there on the console (the whole is in run.log)
WARNINGS_PER_RUN = 5  # distinct warnings shown per run (the rest counted)
TERMINAL_EVERY_S = 1.0
LOG_EVERY_S = 60.0
QUIET_S = 1.0  # a task shows on the status line once it has run this long (no flicker of quick steps)


@dataclass(frozen=True)
class Expected:
    """What a run is expected to take: ``seconds``, where that comes from, and whether it is only a lower bound."""

    seconds: float
    source: str
    at_least: bool = False


def expected(run: RunPlan, record: RunRecord | None) -> Expected | None:
    """What ``run`` is expected to take, from its previous ``record`` or its LoadGen settings (None: unknown)."""
    if record is not None and record.duration_s > 0:
        return Expected(record.duration_s, "the last run")
    scenario = run.label.split("/")[2] if run.label.count("/") >= 2 else ""
    texts = [("audit.config", run.audit_text or "")]
    texts += [(os.path.basename(p), _small_text(p)) for p in records.expand(run.inputs) if p.endswith(".conf")]
    for name, text in texts:
        value = auditconfig.parse(text).settings(scenario).get("min_duration") if text and scenario else None
        if value:  # milliseconds, LoadGen's unit
            return Expected(float(value) / 1000.0, f"min_duration in {name}", at_least=True)
    return None


def _small_text(path: str, limit: int = 1 << 20) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read(limit)
    except OSError:
        return ""


def duration(seconds: float) -> str:
    """``45s``, ``2m05s``, ``1h02m``."""
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


def said(elapsed: float, hope: Expected | None) -> str:
    """``1m05s of ~2m10s (the last run)``, ``3m00s of at least 10m00s (min_duration in user.conf)``, ``12s``."""
    if hope is None:
        return duration(elapsed)
    bound = "at least " if hope.at_least else "~"
    over = " (over)" if elapsed > hope.seconds and not hope.at_least else ""
    return f"{duration(elapsed)} of {bound}{duration(hope.seconds)}{over} ({hope.source})"


# -- what the harness printed -----------------------------------------------------------------------------------------


@dataclass
class Notes:
    """What a run's output holds that matters: its distinct warnings (in order) and how many more there were, and
    its last lines."""

    warnings: list[str] = field(default_factory=list)
    more_warnings: int = 0
    tail: list[str] = field(default_factory=list)


def _shown(line: str) -> str:
    return escape.one_line(line.rstrip("\r\n"), LINE_CHARS)


def harness_notes(output: str, since: float, tail: bool) -> Notes:
    """The notes of the output file ``output`` when it was written at ``since`` (a time.time()) or later (an older
    file is an earlier run's: nothing); ``tail``: its last lines too. Read line by line (any size)."""
    notes = Notes()
    try:
        if os.stat(output).st_mtime < since - 1:
            return notes
        with open(output, "rb") as f:
            for raw in f:
                line = raw[:4096].decode("utf-8", "replace")
                if WARNING.search(line):
                    text = _shown(line)
                    if text in notes.warnings:
                        continue
                    if len(notes.warnings) < WARNINGS_PER_RUN:
                        notes.warnings.append(text)
                    else:
                        notes.more_warnings += 1
            if tail:
                f.seek(max(0, f.tell() - TAIL_BYTES))
                lines = f.read().decode("utf-8", "replace").splitlines()
                notes.tail = [_shown(x) for x in lines if x.strip()][-TAIL_LINES:]
    except OSError:
        pass
    return notes


# -- the display ------------------------------------------------------------------------------------------------------


def colours_wanted(out: TextIO, environ: dict[str, str] | None = None) -> bool:
    """Colour only on a terminal, and not with ``NO_COLOR`` (any value) or ``TERM=dumb``."""
    env = os.environ if environ is None else environ
    return _is_tty(out) and "NO_COLOR" not in env and env.get("TERM") != "dumb"


def _is_tty(out: TextIO) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False


@dataclass
class _Running:
    title: str
    start: float
    hope: Expected | None
    shown: float  # when its last progress line was written (not on a terminal)


class Ticker:
    """The running tasks and their progress on ``out``; every write of the reporter goes through :meth:`write`, so
    the status line (on a terminal) is cleared before it and drawn again after it."""

    def __init__(
        self,
        out: TextIO,
        tty: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        width: Callable[[], int] = lambda: shutil.get_terminal_size((100, 24)).columns,
    ):
        self.out = out
        self.tty = _is_tty(out) if tty is None else tty
        self.clock = clock
        self.width = width
        self.running: dict[str, _Running] = {}
        self.status = ""  # the status line now on the terminal
        self.midline = False  # a line of the reporter is half written: nothing is drawn until it ends
        self.lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, name: str, title: str, hope: Expected | None) -> None:
        with self.lock:
            now = self.clock()
            self.running[name] = _Running(title, now, hope, now)

    def stop(self, name: str) -> None:
        with self.lock:
            self.running.pop(name, None)

    def write(self, text: str) -> None:
        """Write ``text`` (the reporter's lines), keeping the status line below it on a terminal."""
        with self.lock:
            self._clear()
            self.out.write(text)
            self.midline = bool(text) and not text.endswith("\n")
            if not self.midline:
                self._draw()
            self.out.flush()

    def _clear(self) -> None:
        if self.status:
            self.out.write("\r\x1b[K")
            self.status = ""

    def _draw(self) -> None:
        now = self.clock()
        shown = [r for r in self.running.values() if now - r.start >= QUIET_S]
        if not self.tty or not shown:
            return
        text = "running: " + " | ".join(f"{r.title} {said(now - r.start, r.hope)}" for r in shown)
        width = max(20, self.width() - 1)
        self.status = text if len(text) <= width else text[: width - 1] + "…"
        self.out.write(self.status)

    def tick(self) -> None:
        """Redraw the status line (a terminal), or write a line for each task that ran another minute (otherwise)."""
        with self.lock:
            if self.midline:
                return
            if self.tty:
                self._clear()
                self._draw()
            else:
                now = self.clock()
                for r in self.running.values():
                    if now - r.shown >= LOG_EVERY_S:
                        r.shown = now
                        self.out.write(f"  ... {r.title}: running for {said(now - r.start, r.hope)}\n")
            self.out.flush()

    def begin(self) -> None:
        """Tick in a thread of its own until :meth:`end` (every second on a terminal, else every few seconds)."""
        every = TERMINAL_EVERY_S if self.tty else 5.0

        def loop() -> None:
            while not self._stop.wait(every):
                try:
                    self.tick()
                except (OSError, ValueError):  # the output went away (a closed pipe): progress is a courtesy
                    return

        self._thread = threading.Thread(target=loop, name="progress", daemon=True)
        self._thread.start()

    def end(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        with self.lock:
            self._clear()
            self.out.flush()
