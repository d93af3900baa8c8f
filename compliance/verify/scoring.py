"""The accuracy command: the benchmark's own accuracy script run on an accuracy log, and the metrics read from it.

The command is a template, like a benchmark command: placeholders ``{accuracy_log}`` (required), ``{output_file}``
(for a script that writes its result to a file instead of stdout, such as rgat's ``accuracy_igbh.py``),
``{python}``, ``{benchmark}``, ``{scenario}``, ``{test}``; values are shell-quoted, so paths with spaces work
(unlike the official TEST07 script, defect 7.12); ``{{`` and ``}}`` are literal braces (7.11). It runs with
``/bin/sh -c`` in a scratch folder of its own (scripts that write into their working folder write there), with
the benchmark's environment, stdin closed, stdout and stderr merged into one file, a timeout and an output limit
(:data:`MAX_OUTPUT_BYTES`). Its exit status is checked (7.2). The output, followed by the output file when the
command names one, is the text the metrics are read from: for each metric the submission checker's rule,
``re.match`` on each line and the last matching line wins (docs/rules.md §2.1 Part III; TEST07's first-match-anywhere
is defect 7.5).

This layer starts no process: the command is run by the :class:`Runner` it is given (the pipeline's,
:func:`compliance.pipeline.process.accuracy_runner`, which ends everything the command started). The command is
given a hard link to the log it scores, in its scratch folder, so a command that deletes its input deletes the link
only; a command that changes it, or deletes it, is named as such.

Whatever the command prints is the submitter's text: :func:`neutralised` makes it unable to forge a verdict line
where it is quoted next to one (7.6).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from compliance.errors import InputError
from compliance.specs import loader, quoting
from compliance.specs.types import Metric

DEFAULT_TIMEOUT_S = 3600.0
OUTPUT_NAME = "output.txt"  # the command's stdout and stderr, in its scratch folder
OUTPUT_FILE_NAME = "output_file.txt"  # what {output_file} names
KEEP_CHARS = 4 << 20  # output kept in memory (and in the verification's files); the metrics are read from all of it
MAX_LINE_CHARS = 1 << 20  # a line is read in pieces of at most this: memory stays bounded on a line of any length
#: What an accuracy command may print (and write to {output_file}): one printing more is stopped, and its output is
#: read no further (an official scorer prints a few lines per metric)
MAX_OUTPUT_BYTES = 16 << 20
INPUT_FOLDER = "input"  # in the scratch folder: the hard link to the log the command scores


class Runner(Protocol):
    """Runs a command with ``/bin/sh -c`` in ``cwd``, with ``env`` added, its stdout and stderr in ``output``, until
    it ends, ``timeout_s`` passes or it prints more than ``limit`` bytes; every process it started ends with it.
    Returns its exit status (negative: the signal that ended it), or why it did not run to its end (a sentence
    naming the accuracy command)."""

    def __call__(
        self, command: str, cwd: Path, env: Mapping[str, str], timeout_s: float, output: Path, limit: int
    ) -> int | str: ...


def neutralised(text: str) -> str:
    """``text`` unable to pass for a verdict line: the submission checker looks for ``TEST PASS`` (any case of
    ours is upper) as a substring of TEST07's file and as a line of TEST01's (docs/rules.md §5.3)."""
    return re.sub(r"(?i)test(\s+)(pass|fail)", lambda m: f"test_{m.group(2)}", text)


def check_template(command: str) -> str:
    """``command`` when it is a usable template; InputError naming the problem otherwise (the command line's
    ``--accuracy-command``; a system spec's is checked by the spec loader)."""
    names, errors = loader.template_fields(command)
    unknown = [n for n in names if n not in loader.ACCURACY_FIELDS]
    if not errors and unknown:
        errors = [
            f"unknown placeholder '{{{unknown[0]}}}'; known: {', '.join('{' + f + '}' for f in loader.ACCURACY_FIELDS)}"
            " (write '{{' and '}}' for literal braces)"
        ]
    if not errors and "accuracy_log" not in names:
        errors = ["must contain the placeholder '{accuracy_log}'"]
    errors = errors or quoting.unquotable(command, raw=())
    if errors:
        raise InputError(f"--accuracy-command {command!r}: {errors[0]}")
    return command


@dataclass(frozen=True)
class Command:
    """An accuracy command and how it runs: the template, the environment added, the timeout, the placeholders'
    values other than the logs (``python``, ``benchmark``, ``scenario``, ``test``)."""

    template: str
    env: Mapping[str, str] = field(default_factory=dict)
    timeout_s: float = DEFAULT_TIMEOUT_S
    values: Mapping[str, str] = field(default_factory=dict)
    runner: Runner | None = None  # who runs it (the pipeline's runner; None: it cannot be run here)

    def resolved(self, accuracy_log: str, output_file: str) -> str:
        values = {"python": sys.executable, "benchmark": "", "scenario": "", "test": "", **self.values}
        values.update(accuracy_log=os.path.abspath(accuracy_log), output_file=os.path.abspath(output_file))
        return quoting.render(self.template, values, raw=())  # each value quoted for its place


@dataclass
class Scored:
    """One run of the accuracy command and the metrics read from its output."""

    command: str  # as run
    returncode: int | None  # None: it did not start or timed out
    output: str  # stdout and stderr, then the output file (at most KEEP_CHARS: the middle is cut)
    values: dict[str, float | None]  # metric -> the value of its last matching line (None: no line matched)
    problems: list[str]  # why the score cannot be trusted (exit status, a metric without a value)
    cut: bool = False  # the output was longer than KEEP_CHARS (its middle is not kept)
    stdout_values: dict[str, float | None] = field(default_factory=dict)  # read from stdout and stderr only

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, object]:
        return {
            "command": self.command,
            "returncode": self.returncode,
            "values": self.values,
            "problems": self.problems,
        }


@contextmanager
def scratch(parent: str | Path) -> Iterator[Path]:
    """A fresh folder inside ``parent`` (created if needed), removed afterwards whatever happens.

    Raises:
        InputError: the folder cannot be made there.
    """
    try:
        os.makedirs(parent, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=".accuracy-", dir=parent))
    except OSError as exc:
        raise InputError(f"{parent}: cannot make a folder for the accuracy command ({exc.strerror or exc})") from None
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


Values = dict[str, float | None]


def read_metrics(paths: list[Path], metrics: tuple[Metric, ...]) -> tuple[Values, list[str], str, bool]:
    """(values, problems, kept text, cut) of the text in ``paths``, read line by line (bounded memory)."""
    compiled = [(m, re.compile(m.pattern)) for m in metrics]
    last: dict[str, str | None] = {m.name: None for m in metrics}
    head: list[str] = []
    tail: deque[str] = deque()
    kept = tail_chars = 0
    cut = False
    for path in paths:
        if not path.is_file():
            continue
        with open(path, encoding="utf-8", errors="replace", newline="") as text:
            starts_line = True
            while piece := text.readline(MAX_LINE_CHARS):  # a line longer than that is read in pieces
                if starts_line:  # re.match: only a line's start can match (a longer line's first piece)
                    bare = piece.rstrip("\r\n")
                    for metric, pattern in compiled:
                        match = pattern.match(bare)
                        if match is not None:
                            last[metric.name] = match.group(1)
                starts_line = piece.endswith("\n")
                if not tail and kept + len(piece) <= KEEP_CHARS // 2:
                    head.append(piece)
                    kept += len(piece)
                    continue
                tail.append(piece)
                tail_chars += len(piece)
                while tail_chars > KEEP_CHARS // 2 and len(tail) > 1:
                    tail_chars -= len(tail.popleft())
                    cut = True
    if cut:
        head.append("\n[... mlperf-compliance: the middle of a long output is not kept ...]\n")
    kept_text = "".join(head) + "".join(tail)
    values: dict[str, float | None] = {}
    problems = []
    for metric in metrics:
        raw = last[metric.name]
        if raw is None:
            values[metric.name] = None
            problems.append(f"no line of its output matches the pattern of {metric.name} ({metric.pattern})")
            continue
        try:
            values[metric.name] = float(raw)
        except ValueError:
            values[metric.name] = None
            problems.append(f"the last line matching {metric.name} gives {raw!r}, not a number")
    return values, problems, kept_text, cut


def _stamp(path: str) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def _linked(log: str, folder: Path) -> str:
    """A hard link to ``log`` in the scratch folder, for the command to read (the log itself when none can be made:
    another filesystem)."""
    link = folder / INPUT_FOLDER / os.path.basename(log)
    try:
        link.parent.mkdir(parents=True, exist_ok=True)
        os.link(log, link)
    except OSError:
        return os.path.abspath(log)
    return str(link)


def _input_problems(log: str, before: tuple[int, int, int] | None, link: str) -> list[str]:
    """What the command did to the log it scores (it must only read it)."""
    after = _stamp(log)
    if before is not None and after is None:
        return [f"the accuracy command deleted the log it scores ({log})"]
    if before is not None and after != before:
        return [f"the accuracy command changed the log it scores ({log}): the score is not of the run's log"]
    if link != os.path.abspath(log) and not os.path.exists(link):
        return [f"the accuracy command deleted the log it was given to score (a link to {log}, which is kept)"]
    return []


def score(command: Command, accuracy_log: str, metrics: tuple[Metric, ...], folder: Path) -> Scored:
    """Run ``command`` on ``accuracy_log`` in ``folder`` (a scratch folder) and read ``metrics`` from its output.

    Every way the score cannot be trusted is a problem naming what happened: it did not start, timed out, printed
    too much, exited non-zero or was killed (even after printing a good score), printed no score, or deleted or
    changed the log it scores.
    """
    out_path, output_file = folder / OUTPUT_NAME, folder / OUTPUT_FILE_NAME
    before = _stamp(accuracy_log)
    link = _linked(accuracy_log, folder) if before is not None else os.path.abspath(accuracy_log)
    resolved = command.resolved(link, str(output_file))
    if command.runner is None:
        status: int | str = "the accuracy command cannot be run here (no process runner was given to the verifier)"
    else:
        status = command.runner(resolved, folder, command.env, command.timeout_s, out_path, MAX_OUTPUT_BYTES)
    inputs = [out_path]
    oversized = output_file.is_file() and output_file.stat().st_size > MAX_OUTPUT_BYTES
    if not oversized:
        inputs.append(output_file)
    values, problems, text, cut = read_metrics(inputs, metrics)
    stdout_values = read_metrics([out_path], metrics)[0] if output_file.is_file() else dict(values)
    if not metrics:
        problems = ["the model spec defines no accuracy metric (accuracy_metrics) to read from the output"]
    elif all(v is None for v in values.values()):
        problems = [f"the accuracy command printed no score: {p}" for p in problems]
    lead = _input_problems(accuracy_log, before, link)
    if oversized:
        lead.append(f"the accuracy command wrote more than {MAX_OUTPUT_BYTES >> 20} MB to {{output_file}}: not read")
    if isinstance(status, str):
        lead.insert(0, status)
        returncode = None
    else:
        returncode = status
        if status:
            why = f"was killed by signal {-status}" if status < 0 else f"exited with status {status}"
            scored = [m.name for m in metrics if values.get(m.name) is not None]
            after = (
                f" after printing a score ({', '.join(scored)}): a failing scorer's score is not used" if scored else ""
            )
            lead.insert(0, f"the accuracy command {why}{after}")
    return Scored(resolved, returncode, text, values, lead + problems, cut, stdout_values)
