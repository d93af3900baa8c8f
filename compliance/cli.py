"""The ``mlperf-compliance`` command line.

Commands of its own::

    mlperf-compliance validate [--specs DIR]
    mlperf-compliance audit-config TEST --model NAME --scenario SCENARIO [--specs DIR]
    mlperf-compliance verify TEST01 -r RESULTS_DIR -c COMPLIANCE_DIR -o OUTPUT_DIR [--dtype T] [--model M] [--strict]
    mlperf-compliance verify TEST04 -r RESULTS_DIR -c COMPLIANCE_DIR -o OUTPUT_DIR [--model M]
    mlperf-compliance verify TEST06 -c COMPLIANCE_DIR -o OUTPUT_DIR -s SCENARIO [--eos-token-id N] [--dtype T] [--model M]
    mlperf-compliance summary [--format plain|github|markdown|html|json] [--specs DIR]

Anything else is handed to doit, run on the ``dodo.py`` of the current folder, so that
``mlperf-compliance list``, ``mlperf-compliance run TASK``, ``mlperf-compliance info TASK`` ... behave exactly
as ``doit list`` and the others do in the project root.

Exit status:
    0  success (validate: the specs are valid; verify: the test passes)
    1  a check failed (verify: the test fails; doit: a task failed)
    2  bad input: invalid specs, an unknown name, a bad command line, a missing or unreadable file;
       one ``error:`` line says what
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from compliance import __version__, scan
from compliance.commands.audit_config import audit_config
from compliance.commands.summary import summary
from compliance.commands.validate import validate
from compliance.commands.verify import add_arguments as add_verify_arguments
from compliance.commands.verify import verify
from compliance.errors import EXIT_BAD_INPUT
from compliance.spectypes import SCENARIOS

DEFAULT_SPECS = "specs"
OWN_COMMANDS = ("validate", "audit-config", "verify", "summary")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mlperf-compliance",
        description="Run and verify MLPerf Inference compliance tests from YAML specs. "
                    "Commands not listed here (run, list, info, forget, clean, ...) are doit's, run on ./dodo.py.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and the accuracy-log scanner")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("validate", help="load and check every spec; report every problem at once")
    p.add_argument("--specs", default=DEFAULT_SPECS, metavar="DIR", help="specs folder (default: %(default)s)")

    p = sub.add_parser("audit-config", help="print the audit.config of a test for a model and scenario")
    p.add_argument("test", help="test id, e.g. TEST01")
    p.add_argument("--model", required=True, help="benchmark name or alias, e.g. resnet")
    p.add_argument("--scenario", required=True, help=f"one of {', '.join(SCENARIOS)}")
    p.add_argument("--specs", default=DEFAULT_SPECS, metavar="DIR", help="specs folder (default: %(default)s)")

    add_verify_arguments(sub)

    p = sub.add_parser("summary", help="the compliance table of every required cell (exit 0 when all pass)")
    p.add_argument("--format", default="plain", help="plain, github, markdown, html or json (default: plain)")
    p.add_argument("--specs", default=DEFAULT_SPECS, metavar="DIR", help="specs folder (default: %(default)s)")
    return parser


def run_doit(argv: Sequence[str]) -> int:
    """Run doit with ``argv`` on ./dodo.py and return its exit status (doit.run would call sys.exit)."""
    from doit.cmd_base import DodoTaskLoader
    from doit.doit_cmd import DoitMain

    try:
        return DoitMain(DodoTaskLoader()).run(list(argv))
    except SystemExit as exc:  # invalid specs stop the task loading with status 2 (compliance.tasks.plan)
        return exc.code if isinstance(exc.code, int) else 1


def _version() -> str:
    """The version, and which accuracy-log scanner runs (the compiled one is optional: compliance/scan.py)."""
    if scan.in_use() == "compiled":
        scanner = "compiled"
    else:
        scanner = "regex, " + ("the compiled one was not built" if not scan.COMPILED else f"set by {scan.ENV}")
    return f"mlperf-compliance {__version__} (accuracy-log scanner: {scanner})"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] not in OWN_COMMANDS and args_list[0] not in ("-h", "--help", "--version"):
        return run_doit(args_list)
    if not args_list:
        return run_doit([])
    try:
        args = _parser().parse_args(args_list)
    except SystemExit as exc:  # argparse exits on --help (0) and on usage errors (2)
        return int(exc.code or 0) if exc.code in (0, None) else EXIT_BAD_INPUT
    if args.version:
        print(_version())
        return 0
    if args.command == "validate":
        return validate(args.specs, sys.stdout, sys.stderr)
    if args.command == "verify":
        return verify(args, sys.stdout, sys.stderr)
    if args.command == "summary":
        return summary(args.specs, args.format, sys.stdout, sys.stderr)
    return audit_config(args.specs, args.test, args.model, args.scenario, sys.stdout, sys.stderr)
