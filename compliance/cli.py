"""The ``mlperf-compliance`` command line.

Commands of its own::

    mlperf-compliance init [DIR] [--demo]
    mlperf-compliance validate [--specs DIR] [--system NAME ...]
    mlperf-compliance audit-config TEST --model NAME --scenario SCENARIO [--specs DIR]
    mlperf-compliance verify TEST -c COMPLIANCE_DIR -o OUTPUT_DIR [-r RESULTS_DIR] [-s SCENARIO] [--model M] ...
    mlperf-compliance summary [--format F] [-o FILE] [--specs DIR] [--system NAME ...]
    mlperf-compliance rerun SELECTION... [--submission-runs] [--specs DIR]
    mlperf-compliance review PATH [--round R] [--format F] [-o FILE] [-j N] [--severity S] [--strict]
    mlperf-compliance preflight PATH [--round R] [--checker modular|old|both] [--format F] [-o FILE] [--severity S]
    mlperf-compliance round-data CHECKOUT [--round R ...] [--specs DIR]

Anything else is handed to doit, run on the ``dodo.py`` of the current folder, or without one on the packaged
task loader (:mod:`compliance.pipeline.entry`, what that dodo.py holds), so that ``mlperf-compliance`` alone,
``mlperf-compliance list``, ``mlperf-compliance run TASK``, ``mlperf-compliance info TASK`` ... behave exactly as
``doit`` and the others do in the project root (``doit summary`` included).

Exit status: see :mod:`compliance.errors` (0 success, 1 a test or task failed, 2 bad input, 130/143 interrupted).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from compliance import __version__, errors, startup  # noqa: F401 (first: a Ctrl-C while the rest loads)
from compliance.commands import DEFAULT_SPECS, specs_dir
from compliance.commands.audit_config import audit_config
from compliance.commands.dumpdb import DumpDbCommand
from compliance.commands.init import init
from compliance.commands.preflight import add_arguments as add_preflight_arguments
from compliance.commands.preflight import preflight
from compliance.commands.rerun import rerun
from compliance.commands.review import add_arguments as add_review_arguments
from compliance.commands.review import review
from compliance.commands.round_data import round_data
from compliance.commands.summary import SummaryCommand, summary
from compliance.commands.validate import validate
from compliance.commands.verify import add_arguments as add_verify_arguments
from compliance.commands.verify import verify
from compliance.logs import scan
from compliance.specs.types import SCENARIOS
from compliance.verify import registry
from compliance.verify.base import Verifier

OWN_COMMANDS = ("init", "validate", "audit-config", "verify", "summary", "rerun", "review", "preflight", "round-data")
#: doit's options that name a dodo file (a project that has one: ./dodo.py, or -f FILE)
DODO_OPTIONS = ("-f", "--file", "-d", "--dir", "-k", "--seek-file")


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting on a usage error (the exit status is decided in one place)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        raise errors.InputError(f"{self.prog}: {message}")


_made: list[tuple[tuple[Verifier, ...], argparse.ArgumentParser]] = []  # the last parser, and the tests it has


def _parser() -> argparse.ArgumentParser:
    """The parser, made once per set of registered tests: a command runs once in a process, but tests and tools
    that call :func:`main` many times in one would make it (some 300 arguments) each time."""
    verifiers = registry.all_verifiers()
    if not _made or _made[0][0] != verifiers:
        _made[:] = [(verifiers, _make_parser())]
    return _made[0][1]


def _make_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mlperf-compliance",
        description="Run and verify MLPerf Inference compliance tests from YAML specs. "
        "Commands not listed here (run, list, info, forget, clean, ...) are doit's, run on ./dodo.py "
        "(or, without one, on the packaged tasks); with no command, the whole pipeline runs.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and the accuracy-log scanner")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def specs_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--specs", default=DEFAULT_SPECS, metavar="DIR", help="specs folder (default: %(default)s)")

    def system_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--system", action="append", metavar="NAME", help="only this system (repeatable)")

    p = sub.add_parser("init", help="start a project: specs/systems/ with an example system, dodo.py, .gitignore")
    p.add_argument("folder", nargs="?", default=".", metavar="DIR", help="the project folder (default: .)")
    p.add_argument("--demo", action="store_true", help="write the demo systems instead of the example system")

    p = sub.add_parser("validate", help="load and check every spec; report every problem at once")
    specs_option(p)
    system_option(p)

    p = sub.add_parser("audit-config", help="print the audit.config of a test for a model and scenario")
    p.add_argument("test", help="test id, e.g. TEST01")
    p.add_argument("--model", required=True, help="benchmark name or alias, e.g. resnet")
    p.add_argument("--scenario", required=True, help=f"one of {', '.join(SCENARIOS)}")
    specs_option(p)

    add_verify_arguments(sub)

    p = sub.add_parser("summary", help="the compliance table of every required cell (exit 0 when all pass)")
    p.add_argument("--format", default="plain", help="plain, markdown, html, json, github or junit (default: plain)")
    p.add_argument("-o", "--output", metavar="FILE", default="", help="write the summary to FILE")
    specs_option(p)
    system_option(p)

    p = sub.add_parser(
        "rerun", help="run cells again from scratch on purpose (their ledger keeps the earlier attempts)"
    )
    p.add_argument(
        "selection", nargs="+", help="a cell id or a prefix of one: demo/resnet/Offline/TEST04, demo/resnet, demo"
    )
    p.add_argument(
        "--submission-runs",
        action="store_true",
        help="also rerun the submission runs the system produces for those cells",
    )
    specs_option(p)

    add_review_arguments(sub, specs_option)
    add_preflight_arguments(sub, specs_option)
    p = sub.add_parser(
        "round-data",
        help="print every difference between the specs' round data and a checkout of mlcommons/inference "
        "(exit 1 when there is one)",
    )
    p.add_argument("checkout", help="the root of a checkout of mlcommons/inference")
    p.add_argument("--round", action="append", metavar="R", help="only this round (repeatable), e.g. v6.1")
    specs_option(p)
    for action in sub._choices_actions:  # each command's --help opens with its line of the main --help
        command, line = sub.choices[action.dest], action.help or ""
        command.description = command.description or (line[:1].upper() + line[1:] + ".")
    return parser


def run_doit(argv: Sequence[str]) -> int:
    """Run doit with ``argv`` on ./dodo.py (or the one ``-f`` names), else on the packaged tasks, with our
    commands, and return its exit status."""
    from doit import cmd_run
    from doit.cmd_base import DodoTaskLoader
    from doit.doit_cmd import DoitMain

    from compliance.pipeline.entry import PackagedTaskLoader

    class Main(DoitMain):
        DOIT_CMDS = (*DoitMain.DOIT_CMDS, SummaryCommand, DumpDbCommand)

    dodo = os.path.exists("dodo.py") or any(a.split("=")[0] in DODO_OPTIONS for a in argv)
    outfile = cmd_run.opt_outfile["default"]  # the stdout doit took when it was imported
    cmd_run.opt_outfile["default"] = sys.stdout  # this command's (compliance.errors.guarded: `| head` is quiet)
    try:
        # doit's commands return their status, or None for success (``forget``, ``ignore``)
        return int(Main(DodoTaskLoader() if dodo else PackagedTaskLoader()).run(list(argv)) or 0)
    except SystemExit as exc:  # dodo.py maps bad input to its exit status (compliance.errors.report)
        return exc.code if isinstance(exc.code, int) else errors.EXIT_FAILED
    finally:
        cmd_run.opt_outfile["default"] = outfile


def _version() -> str:
    """The version, and which accuracy-log scanner runs (the compiled one is optional: compliance/logs/scan.py)."""
    if scan.in_use() == "compiled":
        scanner = "compiled"
    else:
        scanner = "regex, " + ("the compiled one was not built" if not scan.COMPILED else f"set by {scan.ENV}")
    return f"mlperf-compliance {__version__} (accuracy-log scanner: {scanner})"


def _main(argv: list[str]) -> int:
    if not argv or (argv[0] not in OWN_COMMANDS and argv[0] not in ("-h", "--help", "--version")):
        return run_doit(argv)
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    if args.version:
        print(_version())
        return 0
    if args.command == "init":
        return init(args.folder, args.demo, sys.stdout)
    if args.command == "validate":
        return validate(args.specs, args.system, sys.stdout, sys.stderr)
    if args.command == "verify":
        return verify(args, sys.stdout)
    if args.command == "summary":
        return summary(args.specs, args.system, args.format, sys.stdout, args.output, sys.stderr)
    if args.command == "review":
        return review(args, sys.stdout, sys.stderr)
    if args.command == "preflight":
        return preflight(args, sys.stdout, sys.stderr)
    if args.command == "round-data":
        return round_data(specs_dir(args.specs), args.checkout, args.round, sys.stdout)
    if args.command == "rerun":
        return rerun(args.specs, args.selection, args.submission_runs, run_doit, sys.stdout)
    return audit_config(specs_dir(args.specs), args.test, args.model, args.scenario, sys.stdout)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit status (the one place bad input becomes status 2)."""
    return errors.guarded(lambda: _main(list(sys.argv[1:] if argv is None else argv)))
