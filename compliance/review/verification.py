"""Re-verify a published TEST folder with the same verifier as ``mlperf-compliance verify`` (the registry), reading
from the tree, and turn its result into checks and findings.

A published TEST folder keeps the compliance run's logs in ``performance/run_1/`` and ``accuracy/`` (the official
scripts' layout, docs/rules.md §2.1); the verifier is given a view of them as LoadGen wrote them (one folder holding
the detail, summary and accuracy logs, as links), and the cell's results folder as RESULTS_DIR. A check the tree
does not hold whole comes back NOT CHECKABLE with its reason, and stays so.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from compliance.errors import InputError
from compliance.layout import ACCURACY, DETAIL, SUMMARY
from compliance.report.model import Evidence, Finding
from compliance.review import rules
from compliance.review.outcome import Record
from compliance.specs.types import Model, TestSpec
from compliance.verify import evidence, performance, registry, test07
from compliance.verify.base import Request
from compliance.verify.result import Outcome, Result

CHECK_VERIFIED = "re-verification"
#: a verifier check -> the rule its failure breaks (any other failed check: test-fails)
RULE_OF_CHECK = {
    evidence.CHECK_APPLIED: "audit-not-in-effect",
    evidence.CHECK_CLEAN_REFERENCES: "submission-run-audited",
    performance.CHECK_SCORE: "performance-out-of-bounds",
}
#: checks whose verdict rests on the model's facts, by test: unknown model -> NOT CHECKABLE
MODEL_FACT_CHECKS = {"TEST06": ("EOS",)}
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


def log_view(logs: dict[str, str], scratch: str) -> str:
    """A folder holding the compliance run's logs under LoadGen's names (links into the tree), as the verifiers
    read a compliance run; made in ``scratch``."""
    view = tempfile.mkdtemp(prefix="run-", dir=scratch)
    for role, name in (("detail", DETAIL), ("summary", SUMMARY), ("accuracy", ACCURACY)):
        if role in logs:
            os.symlink(os.path.abspath(logs[role]), os.path.join(view, name))
    return view


def translator(record: Record, view: str, root: str) -> Callable[[str], str]:
    """A function that writes a verifier's message with the tree's paths (relative to its root) instead of the
    links of the view (:func:`log_view`)."""
    pairs = [
        (os.path.join(view, name), os.path.relpath(record.logs.get(role, os.path.join(record.path, name)), root))
        for role, name in (("detail", DETAIL), ("summary", SUMMARY), ("accuracy", ACCURACY))
    ]
    pairs += [(view, os.path.relpath(record.path, root)), (root.rstrip(os.sep) + os.sep, "")]

    def translate(text: str) -> str:
        for old, new in pairs:
            text = text.replace(old, new)
        return text

    return translate


def run_verifier(
    record: Record,
    test: str,
    spec: TestSpec | None,
    model: Model | None,
    results_dir: str | None,
    scenario: str,
    view: str,
    translate: Callable[[str], str],
) -> Result | None:
    """Verify the folder (its logs seen in ``view``, :func:`log_view`); add the outcome to ``record``; the result
    (None when no verification could be made). ``translate`` writes a message with the tree's paths."""
    if test not in registry.names():
        record.check(CHECK_VERIFIED, Outcome.NOT_CHECKABLE, f"this tool has no verifier for {test}")
        return None
    if spec is None:
        record.check(CHECK_VERIFIED, Outcome.NOT_CHECKABLE, f"no test spec for {test} (specs/tests/{test}.yaml)")
        return None
    verifier = registry.get(test)
    if verifier.reference_runs and results_dir is None:
        record.check(CHECK_VERIFIED, Outcome.NOT_CHECKABLE, "the tree holds no submission run to compare with")
        return None
    request = Request(
        spec,
        model,
        Path(view),
        Path(results_dir) if results_dir else None,
        scenario,
        verifier.resolve(spec, model, {}),
    )
    try:
        result = verifier.verify(request)
    except InputError as exc:
        record.check(CHECK_VERIFIED, Outcome.NOT_CHECKABLE, translate(str(exc)))
        return None
    return result


def absorb(
    record: Record, result: Result, test: str, where: str, model_known: bool, translate: Callable[[str], str]
) -> list[dict[str, Any]]:
    """The result's checks into ``record``; failed checks and the verifier's notes as findings; the checks as
    recorded (a check review cannot make here is NOT CHECKABLE)."""
    absorbed = []
    for check in result.checks:
        outcome, reason = check.outcome, translate(check.reason)
        if not model_known and check.name in MODEL_FACT_CHECKS.get(test, ()):
            outcome = Outcome.NOT_CHECKABLE
            reason = "the benchmark's model is unknown, so is its EOS token: the check was not made"
        elif check.name in COMMAND_CHECKS.get(test, ()):
            outcome, reason = Outcome.NOT_CHECKABLE, NO_COMMAND
        absorbed.append(record.check(check.name, outcome, reason, _figures(check.figures)))
        if outcome is Outcome.FAIL:
            record.add(_finding(check.name, reason, where))
    for note in result.findings:
        record.add(rules.finding("verify-note", translate(note.message), where))
    return absorbed


def _finding(check: str, reason: str, where: str) -> Finding:
    rule = RULE_OF_CHECK.get(check, "test-fails")
    return rules.finding(rule, f"{check}: {reason}", where, [Evidence(where, key=check, value="FAIL")])


def part(checks: list[dict[str, Any]] | None, names: tuple[str, ...] | None) -> tuple[str, list[dict[str, Any]]]:
    """The verdict of the verification's checks (as :func:`absorb` recorded them) that a verify text claims
    (``names``; None: every check but the audit evidence): PASS, FAIL (with the failed checks) or NOT CHECKABLE."""
    if checks is None:
        return "NOT CHECKABLE", []
    skip = (evidence.CHECK_APPLIED, evidence.CHECK_CLEAN_REFERENCES)
    chosen = [c for c in checks if (c["name"] in names if names is not None else c["name"] not in skip)]
    failed = [c for c in chosen if c["outcome"] == Outcome.FAIL.value]
    if failed:
        return "FAIL", failed
    if not chosen or any(c["outcome"] == Outcome.NOT_CHECKABLE.value for c in chosen):
        return "NOT CHECKABLE", []
    return "PASS", []
