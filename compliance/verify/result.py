"""Result objects of a verification: checks, findings, the verdict, and what the official script would say."""

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

    @property
    def passed(self) -> bool:
        return self.outcome is not Outcome.FAIL


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
    # text files of the TEST folder that quote programs' output (an accuracy command's): name -> text; written
    # beside the rendered ones, never part of to_dict()
    attachments: dict[str, str] = field(default_factory=dict)

    @property
    def verdict(self) -> str:
        return "PASS" if all(c.passed for c in self.checks) and self.checks else "FAIL"

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
        return {
            "test": self.test,
            "verdict": self.verdict,
            "scenario": self.scenario,
            "model": self.model,
            "checks": [{**asdict(c), "outcome": c.outcome.value} for c in self.checks],
            "findings": [asdict(f) for f in self.findings],
            "official_verdict": self.official_verdict,
            "official_notes": self.official_notes,
            "inputs": self.inputs,
            "settings": self.settings,
        }
