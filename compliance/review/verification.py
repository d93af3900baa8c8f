"""Re-verify a published TEST folder with the same verifier as ``mlperf-compliance verify`` (the registry), reading
from the tree, and turn its result into checks and findings.

The verifier is given the TEST folder as it is (``-c`` takes a published folder: its logs in ``performance/run_1/``
and ``accuracy/``) and the cell's results folder as RESULTS_DIR; the benchmark folder's name is resolved to a model
by :func:`compliance.verify.models.resolve` (an open-division name to its base model, or left unknown, when the
checks that need the model's facts are NOT CHECKABLE). A check the tree does not hold whole comes back NOT CHECKABLE
with its reason and cause (:class:`compliance.verify.result.Cause`), and stays so.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from compliance.errors import InputError
from compliance.report.model import Evidence, Finding
from compliance.review import rules
from compliance.review.outcome import Record
from compliance.specs.types import Specs
from compliance.verify import models, registry
from compliance.verify.base import Request
from compliance.verify.checks import evidence, fallback, performance, runs
from compliance.verify.result import Cause, Kind, Outcome, Result
from compliance.verify.tests import test07

CHECK_VERIFIED = "re-verification"
#: a verifier check -> the rule its failure breaks (any other failed check: test-fails)
RULE_OF_CHECK = {
    evidence.CHECK_APPLIED: "audit-not-in-effect",
    evidence.CHECK_CLEAN_REFERENCES: "submission-run-audited",
    performance.CHECK_SCORE: "performance-out-of-bounds",
    runs.CHECK_MODES: "submission-run-wrong-mode",
    runs.CHECK_SCENARIO: "scenario-mismatch",
    fallback.CHECK_FALLBACK: "fallback-out-of-delta",
}
#: a verifier's finding of a known kind -> the rule it is (any other: verify-note)
RULE_OF_KIND: dict[str, str] = {Kind.TARGET_QPS: "server-target-qps-differs", Kind.MODEL_MAPPED: "benchmark-resolved"}
#: checks that need the benchmark's accuracy script run on the log: review runs no one's code (the tool's promise:
#: never run code the spec's author did not write), so they are NOT CHECKABLE
COMMAND_CHECKS = {"TEST07": (test07.CHECK_SCORE,)}
NO_COMMAND = (
    "review runs no accuracy script (it never runs code it was not given to run): the score is not re-computed, "
    "only read in the verify text"
)
#: figures of a check kept in the report (the rest, e.g. lists of examples, stay in the verifier's own output)
_KEEP = (int, float, str, bool, type(None))


def _figures(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in figures.items() if isinstance(v, _KEEP)}


def translator(root: str) -> Callable[[str], str]:
    """A function that writes a verifier's message with the tree's paths relative to its root."""
    prefix = root.rstrip(os.sep) + os.sep
    return lambda text: text.replace(prefix, "")


def run_verifier(
    record: Record,
    specs: Specs,
    results_dir: str | None,
    scenario: str,
    hints: tuple[str, ...],
    translate: Callable[[str], str],
) -> Result | None:
    """Verify the TEST folder of ``record`` (its test, its cell's benchmark name and the tree's ``hints`` for it);
    add the outcome to ``record``; the result (None when no verification could be made)."""
    test = record.test
    if test not in registry.names():
        record.check(CHECK_VERIFIED, Outcome.NOT_CHECKABLE, f"this tool has no verifier for {test}")
        return None
    spec = specs.tests.get(test)
    if spec is None:
        record.check(CHECK_VERIFIED, Outcome.NOT_CHECKABLE, f"no test spec for {test} (specs/tests/{test}.yaml)")
        return None
    verifier = registry.get(test)
    if verifier.reference_runs and results_dir is None:
        record.check(CHECK_VERIFIED, Outcome.NOT_CHECKABLE, "the tree holds no submission run to compare with")
        return None
    match = models.resolve(specs.models, record.key.benchmark, hints, spec.model_fields)
    record.model = match.model.name if match.model else None
    if match.model is not None and match.note:
        record.add(rules.finding("benchmark-resolved", match.note, translate(record.path)))
    request = Request(
        spec,
        match.model,
        Path(record.path),
        Path(results_dir) if results_dir else None,
        # the runs' scenarios against the folder's are review's own check (it knows the scenarios an edge system may
        # infer), so a test gets the folder's scenario only when it cannot do without
        scenario if verifier.needs_scenario else None,
        verifier.resolve(spec, match.model, {}),
        model_name=None if match.model else record.key.benchmark,
    )
    try:
        return verifier.verify(request)
    except InputError as exc:
        record.check(CHECK_VERIFIED, Outcome.NOT_CHECKABLE, translate(str(exc)))
        return None


def absorb(record: Record, result: Result, where: str, translate: Callable[[str], str]) -> list[dict[str, Any]]:
    """The result's checks into ``record``; failed checks and the verifier's notes as findings; the checks as
    recorded (a check review cannot make here is NOT CHECKABLE)."""
    absorbed = []
    for check in result.checks:
        outcome, reason, cause = check.outcome, translate(check.reason), check.cause
        if check.name in COMMAND_CHECKS.get(record.test, ()):
            outcome, reason, cause = Outcome.NOT_CHECKABLE, NO_COMMAND, "no accuracy script"
        absorbed.append(record.check(check.name, outcome, reason, _figures(check.figures), cause))
        if outcome is Outcome.FAIL:
            record.add(_finding(check.name, reason, where, _evidence(check.name, check.figures, result, translate)))
        if cause == Cause.MODEL_UNKNOWN:
            record.add(
                rules.finding(
                    "benchmark-unresolved",
                    f"'{record.key.benchmark}' is no model of the specs and the tree does not say which it derives "
                    f"from: {check.name} could not be checked",
                    where,
                )
            )
    for note in result.findings:
        record.add(rules.finding(RULE_OF_KIND.get(note.kind, "verify-note"), translate(note.message), where))
    return absorbed


def _evidence(
    check: str, figures: dict[str, Any], result: Result, translate: Callable[[str], str]
) -> list[Evidence] | None:
    """The two runs' scores of a failed performance check, from the logs they were read in (None for another)."""
    if check != performance.CHECK_SCORE or "metric" not in figures:
        return None
    mine, theirs = result.inputs.get("compliance_detail", ""), result.inputs.get("reference_performance_detail", "")
    metric = str(figures["metric"])
    return [
        Evidence(
            translate(mine), metric, figures.get("compliance"), translate(theirs), metric, figures.get("reference")
        )
    ]


def _finding(check: str, reason: str, where: str, evidence: list[Evidence] | None = None) -> Finding:
    rule = RULE_OF_CHECK.get(check, "test-fails")
    return rules.finding(rule, f"{check}: {reason}", where, evidence or [Evidence(where, key=check, value="FAIL")])


def part(checks: list[dict[str, Any]] | None, names: tuple[str, ...] | None) -> tuple[str, list[dict[str, Any]]]:
    """The verdict of the verification's checks (as :func:`absorb` recorded them) that a verify text claims
    (``names``; None: every check but the audit evidence): PASS, FAIL (with the failed checks) or NOT CHECKABLE."""
    if checks is None:
        return "NOT CHECKABLE", []
    skip = (evidence.CHECK_APPLIED, evidence.CHECK_CLEAN_REFERENCES, runs.CHECK_MODES, runs.CHECK_SCENARIO)
    chosen = [c for c in checks if (c["name"] in names if names is not None else c["name"] not in skip)]
    failed = [c for c in chosen if c["outcome"] == Outcome.FAIL.value]
    if failed:
        return "FAIL", failed
    if not chosen or any(c["outcome"] == Outcome.NOT_CHECKABLE.value for c in chosen):
        return "NOT CHECKABLE", []
    return "PASS", []
