"""The neutral model every report is rendered from: a report of items (rows), each with a status and findings.

Vocabulary: an *item* is one row (a TEST folder, a submission run, a cell of the summary); its *fields* are the
values of the report's columns (organisation, system, benchmark, scenario, test ...); its *status* is one word of
:data:`STATUSES` (the summary's and the review's: PASS, FAIL, NOT CHECKABLE, STALE, NOT RUN, NOT REQUIRED); a
*finding* is something found about the item, with a stable rule id, a :class:`Severity`, the evidence (file, key,
the values on both sides), the rule it rests on and a remedy; an item may also have *measures* (its figures against
their bounds: :class:`~compliance.report.measure.Measure`), *attempts* (a cell the pipeline ran more than once) and
*links* (its logs, its folders). Every renderer (:mod:`compliance.report.render`) reads
these objects only, so one producer (``review``, the summary) feeds every output the same facts.

Layer: below everything that makes reports; imports nothing of the project but its version.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from compliance.report.measure import Measure


class Severity(str, Enum):
    """How much a finding matters: an error fails, a warning asks a look, an info says what the rules allow."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """2 for an error, 1 for a warning, 0 for an info: ``a.rank >= b.rank`` means a is at least as severe."""
        return {"error": 2, "warning": 1, "info": 0}[self.value]

    @classmethod
    def parse(cls, word: str) -> Severity:
        """The severity named ``word`` (ValueError otherwise)."""
        return cls(word.strip().lower())


PASS, FAIL, NOT_CHECKABLE = "PASS", "FAIL", "NOT CHECKABLE"
STALE, NOT_RUN, NOT_REQUIRED = "STALE", "NOT RUN", "NOT REQUIRED"
#: every status a row may have, worst first (the order of the totals)
STATUSES = (FAIL, STALE, NOT_CHECKABLE, NOT_RUN, PASS, NOT_REQUIRED)


@dataclass(frozen=True)
class Evidence:
    """What a finding rests on: a file, the key read there and its value, and what it was compared with."""

    file: str
    key: str = ""
    value: Any = None
    other_file: str = ""  # the other side of a comparison ("" when the other side is a rule's value)
    other_key: str = ""
    other_value: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in ("", None)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evidence:
        """The evidence in ``data`` (a :meth:`to_dict`)."""
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass(frozen=True)
class Finding:
    """One thing found about one item, by one rule (the same object feeds every output)."""

    rule: str  # a stable id from a catalogue, e.g. test-missing
    severity: Severity
    title: str  # the rule's title, a few words
    message: str  # this finding, in a sentence or two
    path: str = ""  # the folder or file it is about, relative to the reviewed root
    evidence: tuple[Evidence, ...] = ()
    rests_on: str = ""  # the rule it rests on (docs/rules.md §N, or the official rule)
    remedy: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity.value,
            "title": self.title,
            "message": self.message,
            "path": self.path,
            "evidence": [e.to_dict() for e in self.evidence],
            "rests_on": self.rests_on,
            "remedy": self.remedy,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        """The finding in ``data`` (a :meth:`to_dict`, e.g. read back from a report's JSON).

        Raises:
            KeyError, TypeError, ValueError: ``data`` is not such a dict.
        """
        return cls(
            str(data["rule"]),
            Severity.parse(str(data["severity"])),
            str(data["title"]),
            str(data["message"]),
            str(data.get("path", "")),
            tuple(Evidence.from_dict(e) for e in data.get("evidence", [])),
            str(data.get("rests_on", "")),
            str(data.get("remedy", "")),
        )


@dataclass(frozen=True)
class Link:
    """A file or folder an item points to (a log, a TEST folder): ``path`` as the report's reader reaches it
    (relative to where the report is written, or absolute)."""

    label: str
    path: str

    def to_dict(self) -> dict[str, str]:
        return {"label": self.label, "path": self.path}


@dataclass(frozen=True)
class Attempt:
    """One attempt of an item that took several (a cell the pipeline ran again), oldest first."""

    number: int
    of: int
    verdict: str  # PASS, FAIL, NOT CHECKABLE, or NOT VERIFIED
    reason: str = ""  # what it fell short by ("" for the one that passed)
    figures: str = ""
    folder: str = ""  # where its logs are kept

    def to_dict(self) -> dict[str, Any]:
        return {
            "attempt": self.number,
            "of": self.of,
            "verdict": self.verdict,
            "reason": self.reason,
            "figures": self.figures,
            "folder": self.folder,
        }


@dataclass
class Item:
    """One row: its column values, status, reason and figures, and its findings."""

    fields: dict[str, str]
    status: str
    reason: str = ""
    figures: str = ""
    path: str = ""
    findings: list[Finding] = field(default_factory=list)
    #: machine-readable details for the JSON output (numbers stay numbers), e.g. each check of a verification
    data: dict[str, Any] = field(default_factory=dict)
    measures: tuple[Measure, ...] = ()  # its figures against their bounds
    attempts: tuple[Attempt, ...] = ()  # when it took more than one
    links: tuple[Link, ...] = ()  # its logs and folders

    @property
    def worst(self) -> Severity | None:
        """The most severe of its findings (None without findings)."""
        return max((f.severity for f in self.findings), key=lambda s: s.rank, default=None)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.fields,
            "status": self.status,
            "reason": self.reason,
            "figures": self.figures,
            "path": self.path,
            "findings": [f.to_dict() for f in self.findings],
            "measures": [m.to_dict() for m in self.measures],
            "attempts": [a.to_dict() for a in self.attempts],
            "links": [link.to_dict() for link in self.links],
            **self.data,
        }


@dataclass(frozen=True)
class Column:
    """A column of the report: the key of :attr:`Item.fields` and its heading; ``filter``: the HTML report offers a
    filter on it."""

    key: str
    label: str
    filter: bool = False


@dataclass
class Report:
    """Everything a renderer needs."""

    title: str
    columns: tuple[Column, ...]
    items: list[Item]
    tool: str = "mlperf-compliance"
    version: str = ""
    created: float = field(default_factory=time.time)  # seconds since the epoch
    #: lines said before the table (what was reviewed, how the round was decided ...)
    preamble: list[str] = field(default_factory=list)
    #: machine-readable facts about the whole run for the JSON output (round, root, duration ...)
    meta: dict[str, Any] = field(default_factory=dict)
    #: the least severity that fails (renderers mark findings at or above it)
    fail_at: Severity = Severity.ERROR
    noun: str = "items"  # what an item is, for the totals ("folders", "cells")

    def __post_init__(self) -> None:
        if not self.version:
            from compliance import __version__

            self.version = __version__

    @property
    def when(self) -> str:
        """The creation time as people read it (UTC)."""
        return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.created))

    def status_counts(self) -> dict[str, int]:
        """Items per status, worst first, only the statuses present."""
        counts = Counter(item.status for item in self.items)
        return {s: counts[s] for s in (*STATUSES, *sorted(set(counts) - set(STATUSES))) if counts[s]}

    def severity_counts(self) -> dict[str, int]:
        """Findings per severity, worst first (every severity, zero included)."""
        counts = Counter(f.severity for item in self.items for f in item.findings)
        return {s.value: counts[s] for s in Severity}

    def findings(self, at_least: Severity = Severity.INFO) -> list[tuple[Item, Finding]]:
        """Every finding at least that severe, with its item, most severe first (stable otherwise)."""
        found = [(item, f) for item in self.items for f in item.findings if f.severity.rank >= at_least.rank]
        return sorted(found, key=lambda pair: -pair[1].severity.rank)

    def totals_line(self) -> str:
        """``1495 items: 1200 PASS, 3 FAIL ...; findings: 3 errors, 12 warnings, 40 infos``."""
        statuses = ", ".join(f"{n} {s}" for s, n in self.status_counts().items()) or "none"
        severities = ", ".join(f"{n} {s}{'' if n == 1 else 's'}" for s, n in self.severity_counts().items())
        noun = self.noun if len(self.items) != 1 else self.noun.removesuffix("s")
        return f"{len(self.items)} {noun}: {statuses}; findings: {severities}"
