"""``mlperf-compliance verify TEST01|TEST04|TEST06``: verify a compliance run, write its output folder.

The directory arguments mean what they mean for the official run_verification.py scripts: ``-r RESULTS_DIR`` is
the submission's scenario folder (``accuracy/`` and ``performance/run_1/``), ``-c COMPLIANCE_DIR`` the compliance
run's LoadGen output, ``-o OUTPUT_DIR`` the folder that receives ``TESTxx/``.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import TextIO

from compliance.commands import load_or_report
from compliance.errors import EXIT_BAD_INPUT, InputError, did_you_mean
from compliance.spectypes import SCENARIOS, Model, Specs, TestSpec
from compliance.verify import output, render
from compliance.verify.accuracy import DTYPES
from compliance.verify.dispatch import verify_test
from compliance.verify.test06 import TOKEN_FORMATS

DEFAULT_SPECS = "specs"


def add_arguments(sub: argparse._SubParsersAction) -> None:
    """Add the ``verify`` command and its three tests to the command line."""
    p = sub.add_parser("verify", help="verify a compliance run (exit 0 pass, 1 fail, 2 bad input)")
    tests = p.add_subparsers(dest="test", metavar="TEST", required=True)
    for name, help_text in (("TEST01", "outputs in performance mode equal the accuracy run's; performance within 10%"),
                            ("TEST04", "repeating one sample is not faster (no result caching)"),
                            ("TEST06", "LLM outputs: one trailing EOS, first token, token count")):
        t = tests.add_parser(name, help=help_text)
        if name != "TEST06":
            t.add_argument("-r", "--results-dir", required=True, help="the submission's scenario folder")
        t.add_argument("-c", "--compliance-dir", required=True, help="the compliance run's LoadGen output folder")
        t.add_argument("-o", "--output-dir", required=True, help="receives the TEST folder")
        t.add_argument("--model", help="benchmark name or alias: dtype, EOS id and audit settings from the specs")
        t.add_argument("--specs", default=DEFAULT_SPECS, metavar="DIR", help="specs folder (default: %(default)s)")
        if name == "TEST01":
            t.add_argument("--dtype", choices=sorted(DTYPES), help="output element type (default: the model's, else byte)")
            t.add_argument("--strict", action="store_true", help="fail when outputs differ after their first element")
        if name == "TEST06":
            t.add_argument("-s", "--scenario", required=True, help=f"one of {', '.join(SCENARIOS)}")
            t.add_argument("--eos-token-id", type=int, help="EOS token id (default: the model's, else 2)")
            t.add_argument("--dtype", choices=sorted(TOKEN_FORMATS), help="token type (default: the model's, else int32)")


def _specs_dir(requested: str) -> str:
    """``--specs``; by default ./specs, else the specs beside the package (an editable install in a clone)."""
    if requested != DEFAULT_SPECS or os.path.isdir(requested):
        return requested
    beside = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "specs")
    return beside if os.path.isdir(beside) else requested


def _context(args: argparse.Namespace, err: TextIO) -> tuple[TestSpec, Model | None] | None:
    """The test spec (thresholds, audit settings) and the model, from the specs."""
    specs: Specs | None = load_or_report(_specs_dir(args.specs), err)
    if specs is None:
        return None
    model = None
    if args.model is not None:
        try:
            model = specs.model(args.model)
        except KeyError:
            names = list(specs.models) + [a for m in specs.models.values() for a in m.aliases]
            print(f"error: unknown model '{args.model}'{did_you_mean(args.model, names)}", file=err)
            return None
    return specs.tests[args.test], model


def verify(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Run the verification the arguments ask for; print the result; return 0, 1 or 2."""
    if args.test == "TEST06" and args.scenario not in SCENARIOS:
        print(f"error: unknown scenario '{args.scenario}'{did_you_mean(args.scenario, SCENARIOS)}; "
              f"known: {', '.join(SCENARIOS)}", file=err)
        return EXIT_BAD_INPUT
    context = _context(args, err)
    if context is None:
        return EXIT_BAD_INPUT
    test, model = context
    start = time.monotonic()
    try:
        result = verify_test(test, model, getattr(args, "results_dir", None), args.compliance_dir,
                             getattr(args, "scenario", None), dtype=args.dtype if args.test != "TEST04" else None,
                             strict=True if getattr(args, "strict", False) else None,
                             eos_token_id=getattr(args, "eos_token_id", None))
        folder = output.write(args.output_dir, result)
    except InputError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_BAD_INPUT
    out.write(render.console(result))
    print(f"  wrote {folder} in {time.monotonic() - start:.1f} s", file=out)
    return 0 if result.verdict == "PASS" else 1
