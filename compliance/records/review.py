"""The record of the review of a system's part of the submission tree (``build/<system>/review.json``): when it ran,
what it depended on, the stamps of the tree's files it read, and its report (the review's JSON document,
:func:`compliance.report.jsondoc.document`), or why there is none.

Layer: the records'; the report's findings are read back as the report model's objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from compliance.records.io import REQUIRED, Bad, BadRecord, Fields, sha_value, stamp_value, text_value
from compliance.records.stamps import Stamp
from compliance.records.types import Record
from compliance.report.model import Finding


@dataclass(frozen=True)
class ReviewedFolder:
    """One folder of the review's report: where it is (``path`` relative to the tree's root), its status, and its
    findings."""

    benchmark: str
    scenario: str
    test: str
    path: str
    status: str
    findings: tuple[Finding, ...] = ()


def _folders(report: dict[str, Any]) -> tuple[ReviewedFolder, ...]:
    records = report.get("records")
    if not isinstance(records, list):
        raise BadRecord("report.records: not a list")
    found = []
    for n, item in enumerate(records):
        try:
            found.append(
                ReviewedFolder(
                    str(item.get("benchmark", "")),
                    str(item.get("scenario", "")),
                    str(item.get("test", "")),
                    str(item["path"]),
                    str(item["status"]),
                    tuple(Finding.from_dict(f) for f in item.get("findings", [])),
                )
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise BadRecord(f"report.records[{n}]: not a reviewed folder ({type(exc).__name__}: {exc})") from None
    return tuple(found)


@dataclass(frozen=True)
class ReviewRecord(Record):
    """A review of a system's part of the tree: ``files`` are the stamps of the files it read (relative to the
    tree's root), ``report`` the review's document ({} when ``problem`` says why it could not be made, or ``waiting``
    why there was nothing to review yet)."""

    time: float
    parts: dict[str, str]
    files: dict[str, Stamp | None]
    problem: str = ""
    report: dict[str, Any] = field(default_factory=dict)
    waiting: str = ""
    digests: dict[str, str] = field(default_factory=dict)  # the sha256 of the files read (up to a size)

    @property
    def folders(self) -> tuple[ReviewedFolder, ...]:
        """The reviewed folders of the report (checked when the record was read)."""
        return _folders(self.report) if self.report else ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "parts": self.parts,
            "files": {name: list(s) if s else None for name, s in self.files.items()},
            "problem": self.problem,
            "report": self.report,
            "waiting": self.waiting,
            "digests": self.digests,
        }

    @classmethod
    def read(cls, f: Fields, version: int) -> ReviewRecord:
        report = f.data.get("report") or {}
        if not isinstance(report, dict):
            raise BadRecord("report: not an object")
        record = cls(
            f.time("time", REQUIRED),
            f.mapping("parts", text_value),
            f.mapping("files", stamp_value),
            f.text("problem"),
            report,
            f.text("waiting"),
            f.mapping("digests", sha_value),
        )
        record.folders  # noqa: B018  checked now: a record that cannot be shown is a bad record
        return record


def read_review(path: str) -> tuple[ReviewRecord | None, tuple[Bad, ...]]:
    """The review's record as recorded (None when there is none), and whether it could not be read."""
    try:
        return ReviewRecord.load(path), ()
    except BadRecord as exc:
        return None, (Bad(path, str(exc)),)
