"""What review concludes about one folder (a TEST folder, a submission run) and about one cell: plain, picklable
objects that a worker process returns and every output is made from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from compliance.report.model import FAIL, NOT_CHECKABLE, PASS, Finding, Severity
from compliance.review.facts import FileFacts
from compliance.review.tree import CellKey
from compliance.verify.result import Outcome

#: kinds of records
TEST, RUN, MISSING, STRAY = "test", "run", "missing", "stray"


@dataclass
class Record:
    """One reviewed folder: its checks (each with its outcome), its findings and its key figures."""

    key: CellKey
    test: str  # TESTxx, or the submission run (accuracy, performance), or "logs" for logs outside a TEST folder
    path: str  # absolute
    kind: str
    checks: list[dict[str, Any]] = field(default_factory=list)  # name, outcome, reason, figures
    findings: list[Finding] = field(default_factory=list)
    figures: str = ""
    model: str | None = None  # the model whose facts were used (None: unknown)
    logs: dict[str, str] = field(default_factory=dict)  # detail, summary, accuracy -> path

    def check(
        self, name: str, outcome: Outcome, reason: str = "", figures: dict[str, Any] | None = None, cause: str = ""
    ) -> dict[str, Any]:
        """Record a check (``cause``: why a NOT CHECKABLE one could not be made, a stable word for counting)."""
        entry: dict[str, Any] = {"name": name, "outcome": outcome.value, "reason": reason}
        if figures:
            entry["figures"] = figures
        if cause:
            entry["cause"] = str(cause)
        self.checks.append(entry)
        return entry

    def add(self, *findings: Finding) -> None:
        for finding in findings:
            if not any(f.rule == finding.rule and f.message == finding.message for f in self.findings):
                self.findings.append(finding)

    @property
    def status(self) -> str:
        """FAIL with an error finding; else NOT CHECKABLE when a check could not be made; else PASS."""
        if any(f.severity is Severity.ERROR for f in self.findings):
            return FAIL
        if any(c["outcome"] == Outcome.NOT_CHECKABLE.value for c in self.checks):
            return NOT_CHECKABLE
        return PASS

    @property
    def reason(self) -> str:
        """Why the status is not PASS: the first error, else the first check that could not be made."""
        for f in self.findings:
            if f.severity is Severity.ERROR:
                return f.message
        for c in self.checks:
            if c["outcome"] == Outcome.NOT_CHECKABLE.value:
                return f"{c['name']}: {c['reason']}"
        return ""


@dataclass
class CellOutcome:
    """Everything a worker concluded about one cell, with the facts of every log it read."""

    key: CellKey
    records: list[Record] = field(default_factory=list)
    facts: dict[str, FileFacts] = field(default_factory=dict)
    seconds: float = 0.0
