"""Result objects of a verification: checks, findings, the verdict, and what the official script would say.

A check whose input the logs do not hold whole (a truncated accuracy log, a detail log the tree does not keep) is
NOT CHECKABLE, with the reason and its :class:`Cause`: neither a pass nor a failure. A result with such a check and
no failed one has the verdict NOT CHECKABLE (:class:`Verdict`); it passes nothing (docs/rules.md: a real log is
never bad input, and what it cannot show is said, not assumed).

A failed check may be one that noise can cause (``noise``: a performance comparison within reach of a disturbed
run, a run LoadGen called INVALID); the verifier that makes the check says so. A result whose every failed check is
of that kind is ``retryable``: the pipeline may run the cell again when its spec allows more attempts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum, StrEnum
from typing import Any


class Verdict(StrEnum):
    """The verdict of a verification: the one vocabulary of verdicts (verify.json, records, the summary, review)."""

    PASS = "PASS"
    FAIL = "FAIL"
    NOT_CHECKABLE = "NOT CHECKABLE"  # no check failed, but one could not be made from what the logs hold


class Cause(StrEnum):
    """Why a check is NOT CHECKABLE (:attr:`Check.cause`): a stable word for counting and for the review's rules."""

    TRUNCATED_LOG = "truncated accuracy log"  # the submission tools kept its first and last 4 KiB
    NO_DETAIL_LOG = "no detail log"  # a published TEST06 folder keeps only the accuracy log
    MODEL_UNKNOWN = "model facts unknown"  # an open-division name that maps to no model spec


class Outcome(str, Enum):
    """The outcome of one check."""

    PASS = "PASS"
    FAIL = "FAIL"
    SKIPPED = "SKIPPED"
    NOT_CHECKABLE = "NOT CHECKABLE"  # its input is not whole (e.g. a truncated log); the reason says which and why


@dataclass
class Check:
    """One rule checked, with the figures it looked at and, unless it passed, why."""

    name: str
    outcome: Outcome
    reason: str = ""
    figures: dict[str, Any] = field(default_factory=dict)
    noise: bool = False  # a failure that noise can cause (another run may pass): set by the check that fails
    cause: str = ""  # a NOT CHECKABLE check's :class:`Cause`

    @property
    def passed(self) -> bool:
        """Passed or skipped (a check that could not be made has not passed)."""
        return self.outcome in (Outcome.PASS, Outcome.SKIPPED)

    @property
    def failed(self) -> bool:
        return self.outcome is Outcome.FAIL

    def to_dict(self) -> dict[str, Any]:
        data = {**asdict(self), "outcome": self.outcome.value}
        if not self.noise:
            del data["noise"]  # said only when true: a verify.json of a cell without such a failure is as before
        if not self.cause:
            del data["cause"]  # said only for a NOT CHECKABLE check
        return data


#: how many failing items a check's reason and figures quote as examples
EXAMPLES = 5


@dataclass
class Tally:
    """How many items failed one rule, with the first few as examples (quoted by the check's reason)."""

    count: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, example: str) -> None:
        self.count += 1
        if len(self.examples) < EXAMPLES:
            self.examples.append(example)


@dataclass
class Finding:
    """Something worth knowing that did not (by itself) decide the verdict; ``kind`` names the known ones
    (:class:`Kind`) for machines (the review's rules)."""

    message: str
    check: str = ""
    kind: str = ""

    def to_dict(self) -> dict[str, str]:
        data = asdict(self)
        if not self.kind:
            del data["kind"]  # said only for a known kind: the findings of verify.json are otherwise as before
        return data


class Kind(StrEnum):
    """Findings that a machine may want to tell apart (:attr:`Finding.kind`)."""

    TARGET_QPS = "target QPS differs"  # a Server compliance run at another target QPS than the submission's
    LOG_ERRORS = "LoadGen errors"  # a run logged LoadGen errors
    CONFIG_ERROR_APPLIED = "config error, settings applied"  # error_invalid_config, yet the audit settings apply
    SAMPLES_SHORT = "fewer samples logged"  # TEST06: fewer entries than its settings log
    MODEL_MAPPED = "model mapped"  # an open-division benchmark name taken as its base model


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
    def verdict(self) -> Verdict:
        """FAIL when a check failed (or none was made), else NOT CHECKABLE when a check could not be made, else PASS."""
        if not self.checks or any(c.failed for c in self.checks):
            return Verdict.FAIL
        if any(c.outcome is Outcome.NOT_CHECKABLE for c in self.checks):
            return Verdict.NOT_CHECKABLE
        return Verdict.PASS

    @property
    def retryable(self) -> bool:
        """Whether the result fails only by checks that noise can cause (so another run may pass)."""
        failed = [c for c in self.checks if c.failed]
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

    def note(self, message: str, check: str = "", kind: str = "") -> None:
        self.findings.append(Finding(message, check, kind))

    def to_dict(self) -> dict[str, Any]:
        data = {
            "test": self.test,
            "verdict": self.verdict,
            "scenario": self.scenario,
            "model": self.model,
            "checks": [c.to_dict() for c in self.checks],
            "findings": [f.to_dict() for f in self.findings],
            "official_verdict": self.official_verdict,
            "official_notes": self.official_notes,
            "inputs": self.inputs,
            "settings": self.settings,
        }
        if len(self.attempts) > 1:  # the ledger, once there is more than this attempt to tell
            data["attempts"] = self.attempts
        return data

    @classmethod
    def from_dict(cls, data: Any) -> Result:
        """A result read back from :meth:`to_dict` (a verify.json): the verdict is recomputed from the checks.

        Raises:
            ValueError: ``data`` is not such a dict (the message names the key and what is wrong).
        """
        return cls(
            test=_typed(data, "test", str),
            scenario=_typed(data, "scenario", str, optional=True),
            model=_typed(data, "model", str, optional=True),
            checks=[_check(c, f"checks[{i}]") for i, c in enumerate(_typed(data, "checks", list, []))],
            findings=[_finding(f, f"findings[{i}]") for i, f in enumerate(_typed(data, "findings", list, []))],
            official_verdict=_typed(data, "official_verdict", str, "FAIL"),
            official_notes=[str(n) for n in _typed(data, "official_notes", list, [])],
            inputs={str(k): str(v) for k, v in _typed(data, "inputs", dict, {}).items()},
            settings=dict(_typed(data, "settings", dict, {})),
            attempts=[_entry(e, f"attempts[{i}]") for i, e in enumerate(_typed(data, "attempts", list, []))],
        )


_MISSING: Any = object()


def _typed(data: Any, key: str, kind: type, default: Any = _MISSING, where: str = "", optional: bool = False) -> Any:
    """``data[key]`` when it is a ``kind`` (or None when ``optional``); ``default`` when absent."""
    name = f"{where}.{key}" if where else key
    if not isinstance(data, dict):
        raise ValueError(f"{where or 'the document'}: not an object")
    if key not in data:
        if default is _MISSING and not optional:
            raise ValueError(f"{name}: missing")
        return None if default is _MISSING else default
    value = data[key]
    if value is None and optional:
        return None
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ValueError(f"{name}: not a {kind.__name__} ({type(value).__name__})")
    return value


def _entry(data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValueError(f"{where}: not an object")
    return data


def _finding(data: Any, where: str) -> Finding:
    return Finding(_typed(data, "message", str, where=where), _typed(data, "check", str, "", where))


def _check(data: Any, where: str) -> Check:
    outcome = _typed(data, "outcome", str, where=where)
    try:
        parsed = Outcome(outcome)
    except ValueError:
        raise ValueError(f"{where}.outcome: unknown outcome {outcome!r}") from None
    return Check(
        _typed(data, "name", str, where=where),
        parsed,
        _typed(data, "reason", str, "", where),
        dict(_typed(data, "figures", dict, {}, where)),
        _typed(data, "noise", bool, False, where),
    )
