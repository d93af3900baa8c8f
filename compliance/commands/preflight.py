"""``mlperf-compliance preflight PATH``: what the official chain after the tool will do to a submission tree (any
tree, the tool's or not), said before it runs: docs/upload.md, docs/rules.md §8.

Exit status: 0 when no finding is at least ``--severity`` severe (error by default) and, with ``--strict``, no check
was NOT CHECKABLE; 1 otherwise; 2 for bad input (no tree there, an unknown round or checker, a round the logs do not
decide).
"""

from __future__ import annotations

from typing import Any, TextIO

from compliance.commands import specs_dir
from compliance.commands.review import emit
from compliance.plan import load_specs
from compliance.report.model import Severity
from compliance.report.render import FORMATS
from compliance.review import chain
from compliance.review.preflight import Options, report
from compliance.review.preflight import preflight as preflight_tree

CHOICES = (*chain.CHECKERS, "both")


def add_arguments(sub: Any, specs_option: Any) -> None:
    p = sub.add_parser(
        "preflight",
        help="foresee what the official truncation, checkers, preprocess and repository checks will do to a tree "
        "(exit 0 clean, 1 findings)",
    )
    p.add_argument("path", metavar="PATH", help="the tree's root, or a folder inside it")
    p.add_argument(
        "--round",
        help="the round (default: told from the compliance runs' LoadGen seeds, else the round of the system specs "
        "named like the tree's systems)",
    )
    p.add_argument(
        "--checker",
        default="both",
        choices=CHOICES,
        help="the checker whose requirements apply: the modular submission_checker, the old one that "
        "preprocess_submission.py runs, or both (default)",
    )
    p.add_argument("--format", default="table", choices=FORMATS, help="output format (default: table)")
    p.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of the standard output")
    p.add_argument(
        "--severity",
        default="error",
        choices=[s.value for s in Severity],
        help="the least severity of a finding that fails the pre-flight (default: error; warning: the files the "
        "submitter still has to add fail too)",
    )
    p.add_argument("--strict", action="store_true", help="a check that could not be made (NOT CHECKABLE) fails too")
    specs_option(p)


def preflight(args: Any, out: TextIO, err: TextIO) -> int:
    """Pre-flight ``args.path``; print or write the report; return the exit status."""
    severity = Severity.parse(args.severity)
    checkers = chain.CHECKERS if args.checker == "both" else (args.checker,)
    specs = load_specs(specs_dir(args.specs))
    # the systems whose spec turns the performance rules off (a demo): not held to them here either (said so)
    exempt = tuple(name for name, system in specs.systems.items() if not system.upload.performance_rules)
    result = preflight_tree(args.path, specs, Options(args.round, checkers, no_performance_rules=exempt))
    return emit(report(result, severity), args, severity, out, err)
