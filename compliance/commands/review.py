"""``mlperf-compliance review PATH``: re-verify a submission tree (or any folder inside it) from its own logs.

Exit status: 0 when no finding is at least ``--severity`` severe (error by default) and, with ``--strict``, no
check was NOT CHECKABLE; 1 otherwise; 2 for bad input (no tree there, an unknown round, a round the logs do not
decide). Output into a closed pipe (``| head``) ends quietly.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from compliance.commands import specs_dir
from compliance.errors import InputError, Interrupted
from compliance.plan import load_specs
from compliance.report import github, output
from compliance.report.model import NOT_CHECKABLE, Report, Severity
from compliance.report.render import FORMATS, render
from compliance.review.engine import Options
from compliance.review.engine import review as review_tree
from compliance.review.output import report as to_report


def add_arguments(sub: Any, specs_option: Any) -> None:
    p = sub.add_parser(
        "review",
        help="re-verify a submission tree, or a folder inside it, from its own logs (exit 0 clean, 1 findings)",
    )
    p.add_argument(
        "path",
        metavar="PATH",
        help="the tree's root, or a division, organisation, system, benchmark, scenario or TEST folder inside it",
    )
    p.add_argument(
        "--round",
        help="the round (default: told from the logs' LoadGen seeds, else the round of the system specs "
        "named like the tree's systems)",
    )
    p.add_argument("--format", default="table", choices=FORMATS, help="output format (default: table)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of the standard output")
    p.add_argument("-j", "--jobs", type=int, default=0, metavar="N", help="processes (default: one per core)")
    p.add_argument(
        "--severity",
        default="error",
        choices=[s.value for s in Severity],
        help="the least severity of a finding that fails the review (default: error)",
    )
    p.add_argument("--strict", action="store_true", help="a check that could not be made (NOT CHECKABLE) fails too")
    p.add_argument("--no-progress", action="store_true", help="no progress on the standard error")
    specs_option(p)


def failed(report: Report, severity: Severity, strict: bool) -> bool:
    """Whether the review fails: a finding at least ``severity`` severe, or (strict) a NOT CHECKABLE folder."""
    if report.findings(severity):
        return True
    return strict and any(item.status == NOT_CHECKABLE for item in report.items)


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM ends the review as Ctrl-C does (its workers are stopped, one line, status 143), where it is allowed."""

    def on_sigterm(signum: int, frame: object) -> None:
        raise Interrupted("SIGTERM", "review")

    try:
        previous = signal.signal(signal.SIGTERM, on_sigterm)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def review(args: Any, out: TextIO, err: TextIO) -> int:
    """Review ``args.path``; print or write the report; return the exit status."""
    if args.jobs < 0:
        raise InputError(f"-j {args.jobs}: the number of processes cannot be negative")
    severity = Severity.parse(args.severity)
    specs = load_specs(specs_dir(args.specs))
    progress = None if args.no_progress else err
    with _sigterm_interrupts():
        result = review_tree(args.path, specs, Options(args.round, args.jobs, progress))
    return emit(to_report(result, severity), args, severity, out, err)


def emit(report: Report, args: Any, severity: Severity, out: TextIO, err: TextIO) -> int:
    """Print the report (or write it to ``args.output``) in ``args.format``, as review and pre-flight do (in GitHub
    Actions also the job summary and annotations); the exit status (``args.strict``: a NOT CHECKABLE item fails)."""
    show = severity if severity.rank < Severity.WARNING.rank else Severity.WARNING
    text = render(report, args.format, show)
    status = 1 if failed(report, severity, args.strict) else 0
    actions = github.in_actions()
    if actions:
        github.write_job_summary(report, show)
    if args.output:
        output.write_file(args.output, text)
        print(f"{getattr(args, 'command', 'review')}: {report.totals_line()}; report in {args.output}", file=err)
        text = ""
    if actions and args.format == "table":
        text += github.workflow_commands(report, show)
    output.write_out(out, text)  # into a closed pipe (| head): quietly, with the status
    return status
