"""``mlperf-compliance verify TEST ...``: verify a compliance run, write its output folder.

The directory arguments mean what they mean for the official run_verification.py scripts: ``-r RESULTS_DIR`` is
the submission's scenario folder (``accuracy/`` and ``performance/run_1/``), ``-c COMPLIANCE_DIR`` the compliance
run's LoadGen output, or a published TEST folder as it is (its logs in ``performance/run_1/`` and ``accuracy/``),
``-o OUTPUT_DIR`` the folder that receives ``TESTxx/``. Each test's arguments come from its verifier
(:mod:`compliance.verify.registry`).

The folder's scenario (``-s``, else the name of the ``-r`` folder, or of the folder holding a published TEST folder,
when it is a scenario's) is compared with the scenario in the logs. ``--model`` takes an open-division name too
(:func:`compliance.verify.models.resolve`). Exit status: 0 PASS; 1 FAIL or NOT CHECKABLE (a check the logs do not
allow is not a pass); 2 bad input. Output into a closed pipe (``| head``) ends quietly.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from compliance.commands import DEFAULT_SPECS, specs_dir
from compliance.commands.audit_config import model as find_model
from compliance.commands.audit_config import scenario as check_scenario
from compliance.errors import InputError
from compliance.pipeline import process
from compliance.plan import load_specs
from compliance.specs.types import SCENARIOS, Specs, TestSpec
from compliance.verify import models, output, registry, render
from compliance.verify.base import Request
from compliance.verify.result import Kind


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
        else:
            t.add_argument(
                "-s",
                "--scenario",
                help="the folder's scenario, which the logs must show (default: the -r folder's name, or the name "
                "of the folder holding a published TEST folder, when it is a scenario's)",
            )
        t.add_argument(
            "--model",
            help="benchmark name or alias (an open-division name is taken as the model it starts with): its facts "
            "and audit settings come from the specs",
        )
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


def folder_scenario(*folders: Path | None) -> str | None:
    """The scenario a folder's name says (case-insensitive, as published trees spell them: ``offline``), from the
    first of ``folders`` whose name is one."""
    by_lower = {s.lower(): s for s in SCENARIOS}
    for folder in folders:
        if folder is not None and folder.name.lower() in by_lower:
            return by_lower[folder.name.lower()]
    return None


def _model(specs: Specs, test: TestSpec, name: str | None) -> models.ModelMatch | None:
    """The model ``--model`` names: a known one, or an open-division name of a known family (the checks that need
    its facts then say they cannot be made); a name of no known family is refused as a typo would be."""
    if name is None:
        return None
    match = models.resolve(specs.models, name, needs=test.model_fields)
    if match.model is None and not match.family:
        find_model(specs, name)  # raises UnknownName, with a did-you-mean
    return match


def verify(args: argparse.Namespace, out: TextIO) -> int:
    """Run the verification the arguments ask for; print the result; 0 when the test passes, 1 when it fails or
    cannot be checked whole."""
    verifier = registry.get(args.test)
    specs = load_specs(specs_dir(args.specs))
    if verifier.name not in specs.tests:
        raise InputError(f"{specs_dir(args.specs)}: no test spec for {verifier.name} (tests/{verifier.name}.yaml)")
    test = specs.tests[verifier.name]
    results = getattr(args, "results_dir", None)
    comp_dir = Path(args.compliance_dir)
    if args.scenario is not None:
        scenario: str | None = check_scenario(args.scenario)
    else:  # the -r folder, or the scenario folder of a published TEST folder (<scenario>/TESTxx)
        published = comp_dir.resolve().parent if comp_dir.resolve().name.upper().startswith("TEST") else None
        scenario = folder_scenario(Path(results) if results else None, published)
    match = _model(specs, test, args.model)
    model = match.model if match else None
    given = {option.name: getattr(args, option.name) for option in verifier.options}
    start = time.monotonic()
    request = Request(
        test,
        model,
        comp_dir,
        Path(results) if results is not None else None,
        scenario,
        verifier.resolve(test, model, given),
        Path(args.output_dir),  # an accuracy command runs in a scratch folder here, removed afterwards
        runner=process.accuracy_runner,
        model_name=args.model if match is not None and model is None else None,
    )
    result = verifier.verify(request)
    if match is not None and match.note:
        result.note(match.note, kind=Kind.MODEL_MAPPED)
    folder = output.write(args.output_dir, result, verifier)
    try:
        out.write(render.console(result, verifier))
        print(f"  wrote {folder} in {time.monotonic() - start:.1f} s", file=out)
        out.flush()
    except BrokenPipeError:  # `verify ... | head`: the reader has gone; the verdict is written, end quietly
        _quiet_stdout()
    return 0 if result.verdict == "PASS" else 1


def _quiet_stdout() -> None:
    """After a closed pipe: point stdout at /dev/null, so that Python's flush at exit prints no traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # stdout is no real file (a test's capture): nothing will flush into a pipe
        pass
