"""``mlperf-compliance verify TEST ...``: verify a compliance run, write its output folder.

The directory arguments mean what they mean for the official run_verification.py scripts: ``-r RESULTS_DIR`` is
the submission's scenario folder (``accuracy/`` and ``performance/run_1/``), ``-c COMPLIANCE_DIR`` the compliance
run's LoadGen output, ``-o OUTPUT_DIR`` the folder that receives ``TESTxx/``. Each test's arguments come from its
verifier (:mod:`compliance.verify.registry`).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any, TextIO

from compliance.commands import DEFAULT_SPECS, specs_dir
from compliance.commands.audit_config import model as find_model
from compliance.commands.audit_config import scenario as check_scenario
from compliance.errors import InputError
from compliance.pipeline import process
from compliance.plan import load_specs
from compliance.specs.types import SCENARIOS
from compliance.verify import output, registry, render
from compliance.verify.base import Request


def _escaped(text: str) -> str:
    """Help text as argparse wants it (it %-formats help strings)."""
    return text.replace("%", "%%")


def add_arguments(sub: Any) -> None:
    """Add the ``verify`` command and one sub-command per registered test."""
    p = sub.add_parser("verify", help="verify a compliance run (exit 0 pass, 1 fail, 2 bad input)")
    tests = p.add_subparsers(dest="test", metavar="TEST", required=True)
    for verifier in registry.all_verifiers():
        t = tests.add_parser(verifier.name, help=_escaped(verifier.summary))
        if verifier.reference_runs:
            t.add_argument("-r", "--results-dir", required=True, help="the submission's scenario folder")
        t.add_argument("-c", "--compliance-dir", required=True, help="the compliance run's LoadGen output folder")
        t.add_argument("-o", "--output-dir", required=True, help="receives the TEST folder")
        if verifier.needs_scenario:
            t.add_argument("-s", "--scenario", required=True, help=f"one of {', '.join(SCENARIOS)}")
        t.add_argument("--model", help="benchmark name or alias: its facts and audit settings come from the specs")
        t.add_argument("--specs", default=DEFAULT_SPECS, metavar="DIR", help="specs folder (default: %(default)s)")
        for option in verifier.options:
            if option.switch:
                t.add_argument(
                    option.flag, dest=option.name, action="store_true", default=None, help=_escaped(option.help)
                )
            else:
                t.add_argument(
                    option.flag, dest=option.name, type=option.type, choices=option.choices, help=_escaped(option.help)
                )


def verify(args: argparse.Namespace, out: TextIO) -> int:
    """Run the verification the arguments ask for; print the result; 0 when the test passes, 1 when it fails."""
    verifier = registry.get(args.test)
    scenario = check_scenario(args.scenario) if verifier.needs_scenario else None
    specs = load_specs(specs_dir(args.specs))
    if verifier.name not in specs.tests:
        raise InputError(f"{specs_dir(args.specs)}: no test spec for {verifier.name} (tests/{verifier.name}.yaml)")
    test = specs.tests[verifier.name]
    model = find_model(specs, args.model) if args.model is not None else None
    given = {option.name: getattr(args, option.name) for option in verifier.options}
    start = time.monotonic()
    results = getattr(args, "results_dir", None)
    request = Request(
        test,
        model,
        Path(args.compliance_dir),
        Path(results) if results is not None else None,
        scenario,
        verifier.resolve(test, model, given),
        Path(args.output_dir),  # an accuracy command runs in a scratch folder here, removed afterwards
        process.accuracy_runner,
    )
    result = verifier.verify(request)
    folder = output.write(args.output_dir, result, verifier)
    out.write(render.console(result, verifier))
    print(f"  wrote {folder} in {time.monotonic() - start:.1f} s", file=out)
    return 0 if result.verdict == "PASS" else 1
