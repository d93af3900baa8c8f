"""Result objects of a verification: checks, findings, the verdict, and what the official script would say.

A failed check may be one that noise can cause (``noise``: a performance comparison within reach of a disturbed
run, a run LoadGen called INVALID); the verifier that makes the check says so. A result whose every failed check is
of that kind is ``retryable``: the pipeline may run the cell again when its spec allows more attempts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any


class Outcome(str, Enum):
    """The outcome of one check."""

    PASS = "PASS"
    FAIL = "FAIL"
    SKIPPED = "SKIPPED"


@dataclass
class Check:
    """One rule checked, with the figures it looked at and, unless it passed, why."""

    name: str
    outcome: Outcome
    reason: str = ""
    figures: dict[str, Any] = field(default_factory=dict)
    noise: bool = False  # a failure that noise can cause (another run may pass): set by the check that fails

    @property
    def passed(self) -> bool:
        return self.outcome is not Outcome.FAIL

    def to_dict(self) -> dict[str, Any]:
        data = {**asdict(self), "outcome": self.outcome.value}
        if not self.noise:
            del data["noise"]  # said only when true: a verify.json of a cell without such a failure is as before
        return data


@dataclass
class Finding:
    """Something worth knowing that did not (by itself) decide the verdict."""

    message: str
    check: str = ""


@dataclass
class Result:
    """Everything a verification concluded. Text files, verify.json, console and exit status derive from it."""

    test: str
    scenario: str | None = None
    model: str | None = None
    checks: list[Check] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    official_verdict: str = "FAIL"
    official_notes: list[str] = field(default_factory=list)
    inputs: dict[str, str] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    #: the attempts of the cell, oldest first, the last one this result's (the pipeline's ledger; empty outside it)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    # text files of the TEST folder that quote programs' output (an accuracy command's): name -> text; written
    # beside the rendered ones, never part of to_dict()
    attachments: dict[str, str] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return "PASS" if all(c.passed for c in self.checks) and self.checks else "FAIL"

    @property
    def retryable(self) -> bool:
        """Whether the result fails only by checks that noise can cause (so another run may pass)."""
        failed = [c for c in self.checks if not c.passed]
        return bool(failed) and all(c.noise for c in failed)

    def check(self, name: str) -> Check | None:
        return next((c for c in self.checks if c.name == name), None)

    def passed(self, *names: str) -> bool:
        """Whether the named checks (all checks when none are named) passed or were skipped."""
        chosen = [c for c in self.checks if not names or c.name in names]
        return all(c.passed for c in chosen)

    def add(self, check: Check) -> Check:
        self.checks.append(check)
        return check

    def note(self, message: str, check: str = "") -> None:
        self.findings.append(Finding(message, check))

    def to_dict(self) -> dict[str, Any]:
        data = {
            "test": self.test,
            "verdict": self.verdict,
            "scenario": self.scenario,
            "model": self.model,
            "checks": [c.to_dict() for c in self.checks],
            "findings": [asdict(f) for f in self.findings],
            "official_verdict": self.official_verdict,
            "official_notes": self.official_notes,
            "inputs": self.inputs,
            "settings": self.settings,
        }
        if len(self.attempts) > 1:  # the ledger, once there is more than this attempt to tell
            data["attempts"] = self.attempts
        return data
