"""The records the pipeline writes, as typed objects: each with ``load(path)``, ``save(path)`` and a version.

* :class:`RunRecord` (``run.json``, ``reference-<mode>.json``): how a run ended, its signature and the fields it is
  made of, its declared inputs, the time, and where it ran;
* :class:`VerifyRecord` (``verify.meta.json``): a verification's outcome (a :class:`Verdict`, or not verified when a
  run it needs failed), the digests of what it depended on and the stamps of its inputs;
* :class:`PublishRecord` (``publish.json``): whether the TEST folder was copied into the tree or withdrawn, and the
  content identity of each file written there (:class:`compliance.submission.upload.Identity`: its sha256, and those
  of the forms the official truncation may leave of it);
* :class:`TreeCopyRecord` (``reference-<mode>.publish.json``): a submission run's copy in the tree's results layout,
  with the stamps and the content identities of the files the tool wrote there (what makes the folder the tool's
  own);
* :class:`AttemptEntry` (``attempts/<n>/attempt.json``): an attempt's entry in the cell's ledger;
* :class:`RerunRequest` (``run.rerun``): a rerun asked for, when and by what.

Version 0 is a record without ``version`` (release 0.2 and before): its fields are those of version 1 but
``where``, and each missing field reads as its default. A record of a newer version than this release knows is bad.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Self

from compliance.records.io import REQUIRED, BadRecord, Fields, load_json, save_json, sha_value, stamp_value, text_value
from compliance.records.stamps import InputStamp, Stamp
from compliance.submission.upload import Identity
from compliance.verify.result import Verdict

#: the word a record writes for a verification that could not be made (a run it needs failed or never ran)
NOT_VERIFIED = "NOT VERIFIED"


class VerifyKind(StrEnum):
    """What a verification's outcome is: a verdict (only it has a verify.json), or why there is none."""

    VERDICT = "verdict"
    INPUT = "input"  # bad input: the logs or the results could not be read
    CRASH = "crash"  # a bug of the verifier
    PREREQUISITE = "prerequisite"  # a run it needs failed or never ran: not verified


class PublishState(StrEnum):
    """What the submission tree holds for a cell, or for a submission run's copy."""

    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"  # moved to build/withdrawn/
    ABSENT = "absent"  # nothing to withdraw
    COPY_FAILED = "copy failed"
    WRITING = "writing"  # a copy being written (interrupted when read back)
    REFUSED = "refused"  # a folder not ours is in the way


@dataclass(frozen=True)
class Where:
    """Where a run ran: the host that ran the command and, under a scheduler, its job id and node ("" unknown)."""

    host: str = ""
    job_id: str = ""
    node: str = ""


class Record:
    """What every record has: a version, ``load`` and ``save``, and the conversion of older versions."""

    VERSION: ClassVar[int] = 1

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def read(cls, f: Fields, version: int) -> Self:
        raise NotImplementedError

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Self:
        """The record in ``data``, converted from an older version.

        Raises:
            BadRecord: a value is missing or of the wrong kind, or the version is newer than this release's.
        """
        version = data.get("version", 0)
        if not isinstance(version, int) or isinstance(version, bool) or version < 0:
            raise BadRecord(f"version: not a version number ({version!r})")
        if version > cls.VERSION:
            raise BadRecord(f"version {version}: written by a newer release of mlperf-compliance")
        return cls.read(Fields(data), version)

    @classmethod
    def load(cls, path: str) -> Self | None:
        """The record in ``path``; None when there is none.

        Raises:
            BadRecord: there is something there that is not a valid record.
        """
        data = load_json(path)
        return None if data is None else cls.from_dict(data)

    def save(self, path: str) -> None:
        save_json(path, {"version": self.VERSION, **self.to_dict()})


def _verdict(value: str, allowed: tuple[Verdict, ...], key: str = "status") -> Verdict:
    try:
        verdict = Verdict(value)
    except ValueError:
        verdict = None
    if verdict not in allowed:
        raise BadRecord(f"{key}: not one of {', '.join(allowed)} ({value!r})")
    return verdict


def _input_value(value: Any) -> InputStamp:
    if not isinstance(value, list) or len(value) != 2 or not (value[1] is None or isinstance(value[1], str)):
        raise BadRecord("not [stamp, digest]")
    return stamp_value(value[0]), value[1]


def identity_value(value: Any) -> Identity:
    """A file's content identity as recorded: ``{"sha256", "accepted", "stamp", "log", "whole"}``."""
    if not isinstance(value, dict):
        raise BadRecord("not an object")
    f = Fields(value)
    accepted = value.get("accepted", [])
    if not isinstance(accepted, list):
        raise BadRecord("accepted: not a list")
    whole = f.text("whole")
    return Identity(
        sha_value(value.get("sha256")),
        tuple(sha_value(a) for a in accepted),
        stamp_value(value.get("stamp")),
        f.flag("log"),
        sha_value(whole) if whole else "",
    )


def _identities(found: dict[str, Identity]) -> dict[str, Any]:
    return {name: identity.to_dict() for name, identity in found.items()}


@dataclass(frozen=True)
class RunRecord(Record):
    """How a run ended (``kind``: how it failed: a launcher's ending, ``logs`` or ``evidence``; "" when it passed)."""

    status: Verdict  # PASS or FAIL
    reason: str = ""
    kind: str = ""
    signature: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, InputStamp] = field(default_factory=dict)
    time: float = 0.0
    where: Where = Where()
    duration_s: float = 0.0  # how long the command ran (0: not recorded, e.g. a record of release 0.2)

    @property
    def passed(self) -> bool:
        return self.status is Verdict.PASS

    @classmethod
    def ended(
        cls,
        signature: str,
        fields: dict[str, str],
        problem: str | None,
        kind: str,
        inputs: dict[str, InputStamp],
        where: Where,
        duration_s: float = 0.0,
    ) -> RunRecord:
        """The record of a run that ended now, with ``problem`` (None: it passed), which took ``duration_s``."""
        status = Verdict.FAIL if problem else Verdict.PASS
        return cls(
            status, problem or "", kind if problem else "", signature, fields, inputs, time.time(), where, duration_s
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "reason": self.reason,
            "kind": self.kind,
            "signature": self.signature,
            "fields": self.fields,
            "inputs": {path: [list(s) if s else None, d] for path, (s, d) in self.inputs.items()},
            "time": self.time,
            "where": {"host": self.where.host, "job_id": self.where.job_id, "node": self.where.node},
            "duration_s": self.duration_s,
        }

    @classmethod
    def read(cls, f: Fields, version: int) -> RunRecord:
        where = f.mapping("where", text_value) if version >= 1 else {}
        return cls(
            _verdict(f.text("status", REQUIRED), (Verdict.PASS, Verdict.FAIL)),
            f.text("reason"),
            f.text("kind"),
            f.text("signature"),
            f.mapping("fields", text_value),
            f.mapping("inputs", _input_value),
            f.time("time"),
            Where(where.get("host", ""), where.get("job_id", ""), where.get("node", "")),
            f.seconds("duration_s"),
        )


@dataclass(frozen=True)
class VerifyRecord(Record):
    """A verification's outcome: its verdict (None: not verified), the reason, what it depended on (``parts``, by
    name) and the stamps of its inputs."""

    verdict: Verdict | None
    reason: str = ""
    kind: VerifyKind = VerifyKind.VERDICT
    parts: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, Stamp | None] = field(default_factory=dict)
    time: float = 0.0

    @property
    def status(self) -> str:
        """The verdict as written (``NOT VERIFIED`` when there is none)."""
        return NOT_VERIFIED if self.verdict is None else self.verdict.value

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "reason": self.reason,
            "kind": self.kind.value,
            "parts": self.parts,
            "inputs": {path: list(s) if s else None for path, s in self.inputs.items()},
            "time": self.time,
        }

    @classmethod
    def read(cls, f: Fields, version: int) -> VerifyRecord:
        status = f.text("status", REQUIRED)
        kind = f.text("kind", VerifyKind.VERDICT.value)
        if kind not in set(VerifyKind):
            raise BadRecord(f"kind: not one of {', '.join(VerifyKind)} ({kind!r})")
        return cls(
            None if status == NOT_VERIFIED else _verdict(status, tuple(Verdict)),
            f.text("reason"),
            VerifyKind(kind),
            f.mapping("parts", text_value),
            f.mapping("inputs", stamp_value),
            f.time("time"),
        )


def _state(f: Fields, allowed: tuple[PublishState, ...]) -> PublishState:
    state = f.text("state", REQUIRED)
    if state not in allowed:
        raise BadRecord(f"state: not one of {', '.join(allowed)} ({state!r})")
    return PublishState(state)


@dataclass(frozen=True)
class PublishRecord(Record):
    """What the tree holds for a cell (``state``), for which verification (its record's time, and the stamp of its
    verify.json), where a withdrawn folder went, why a copy failed, and the content identity of each file written
    (by its path in the TEST folder; empty in a record of an earlier release: the identities are then those of
    the verified folder's upload form now)."""

    state: PublishState
    verify: float | None = None
    verdict: Stamp | None = None
    moved_to: str = ""
    reason: str = ""
    time: float = 0.0
    files: dict[str, Identity] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "verify": self.verify,
            "verdict": list(self.verdict) if self.verdict else None,
            "moved_to": self.moved_to,
            "reason": self.reason,
            "time": self.time,
            "files": _identities(self.files),
        }

    @classmethod
    def read(cls, f: Fields, version: int) -> PublishRecord:
        states = (PublishState.PUBLISHED, PublishState.WITHDRAWN, PublishState.ABSENT, PublishState.COPY_FAILED)
        return cls(
            _state(f, states),
            f.maybe_time("verify"),
            stamp_value(f.data.get("verdict")) if "verdict" in f.data else None,
            f.text("moved_to"),
            f.text("reason"),
            f.time("time"),
            f.mapping("files", identity_value),
        )


@dataclass(frozen=True)
class Source:
    """What a submission run's copy in the tree comes from: the run's record (its time and signature) and the
    stamps of its logs in the build folder."""

    run: float | None = None
    signature: str | None = None
    logs: dict[str, Stamp | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "signature": self.signature,
            "logs": {n: list(s) if s else None for n, s in self.logs.items()},
        }


@dataclass(frozen=True)
class TreeCopyRecord(Record):
    """A submission run's copy in the tree's results layout: the folder, its state, the stamps of the files the tool
    wrote there (``files``; ``previous``: what it held before a copy that was interrupted), the run it came from, and
    the content identity of each file the tool wrote or is writing (``identities``; empty in a record of an earlier
    release, whose stamps alone tell)."""

    tree: str
    state: PublishState
    files: dict[str, Stamp | None] = field(default_factory=dict)
    previous: dict[str, Stamp | None] | None = None
    source: Source | None = None
    reason: str = ""
    moved_to: str = ""
    identities: dict[str, Identity] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        def stamps(found: dict[str, Stamp | None]) -> dict[str, Any]:
            return {n: list(s) if s else None for n, s in found.items()}

        return {
            "tree": self.tree,
            "state": self.state.value,
            "files": stamps(self.files),
            "previous": None if self.previous is None else stamps(self.previous),
            "source": None if self.source is None else self.source.to_dict(),
            "reason": self.reason,
            "moved_to": self.moved_to,
            "identities": _identities(self.identities),
        }

    @classmethod
    def read(cls, f: Fields, version: int) -> TreeCopyRecord:
        source = f.data.get("source")
        if source is not None and not isinstance(source, dict):
            raise BadRecord(f"source: not an object ({source!r})")
        src = Fields(source) if source is not None else None
        origin = None
        if src is not None:
            origin = Source(src.maybe_time("run"), src.maybe_text("signature"), src.mapping("logs", stamp_value))
        return cls(
            f.text("tree", REQUIRED),
            _state(f, tuple(PublishState)),
            f.mapping("files", stamp_value),
            f.mapping("previous", stamp_value) if f.data.get("previous") is not None else None,
            origin,
            f.text("reason"),
            f.text("moved_to"),
            f.mapping("identities", identity_value),
        )


@dataclass(frozen=True)
class AttemptEntry(Record):
    """An attempt's entry in the cell's ledger: its number in the cell, its verification (``series``) and its rank
    there (``attempt`` of ``of``), the time, the verdict (None: not verified), why, and its folder."""

    number: int
    series: int
    attempt: int
    of: int
    time: float
    verdict: Verdict | None
    reason: str = ""
    short: str = ""
    figures: str = ""
    retried: bool = False
    folder: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The entry as verify.json's ledger holds it (:attr:`compliance.verify.result.Result.attempts`)."""
        return {
            "number": self.number,
            "series": self.series,
            "attempt": self.attempt,
            "of": self.of,
            "time": self.time,
            "verdict": NOT_VERIFIED if self.verdict is None else self.verdict.value,
            "reason": self.reason,
            "short": self.short,
            "figures": self.figures,
            "retried": self.retried,
            "folder": self.folder,
        }

    @classmethod
    def read(cls, f: Fields, version: int) -> AttemptEntry:
        verdict = f.text("verdict", REQUIRED)
        return cls(
            f.count("number"),
            f.count("series"),
            f.count("attempt"),
            f.count("of"),
            f.time("time", REQUIRED),
            None if verdict == NOT_VERIFIED else _verdict(verdict, tuple(Verdict), "verdict"),
            f.text("reason"),
            f.text("short"),
            f.text("figures"),
            f.flag("retried"),
            f.text("folder"),
        )


@dataclass(frozen=True)
class RerunRequest(Record):
    """A rerun asked for (``mlperf-compliance rerun``): by what, and when."""

    by: str = ""
    time: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"by": self.by, "time": self.time}

    @classmethod
    def read(cls, f: Fields, version: int) -> RerunRequest:
        return cls(f.text("by"), f.time("time"))


@dataclass(frozen=True)
class CheckRow:
    """One row of a check of a submission tree before upload (pre-flight, the official checker): the cell it is
    about (benchmark and scenario "" for a system's or the tree's own row), its status, why, and its findings as
    (severity, rule, message)."""

    system: str
    benchmark: str
    scenario: str
    status: str
    reason: str = ""
    findings: tuple[tuple[str, str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "findings": [list(f) for f in self.findings]}


def _row(value: Any) -> CheckRow:
    if not isinstance(value, dict):
        raise BadRecord("not an object")
    f = Fields(value)
    found = value.get("findings", [])
    if not isinstance(found, list) or not all(
        isinstance(x, list) and len(x) == 3 and all(isinstance(y, str) for y in x) for x in found
    ):
        raise BadRecord("findings: not a list of [severity, rule, message]")
    return CheckRow(
        f.text("system"),
        f.text("benchmark"),
        f.text("scenario"),
        f.text("status", REQUIRED),
        f.text("reason"),
        tuple((a, b, c) for a, b, c in found),
    )


@dataclass(frozen=True)
class TreeCheckRecord(Record):
    """A check of a submission tree before upload (``kind``: preflight or checker): when it ran, what it depended on
    (``parts``, and the stamps of the tree's files), what it concluded (``rows``), and why it concluded nothing
    (``problem``: the tree is not there, the checkout is not one, the official script failed)."""

    kind: str
    time: float
    parts: dict[str, str] = field(default_factory=dict)
    tree: dict[str, Stamp | None] = field(default_factory=dict)
    rows: tuple[CheckRow, ...] = ()
    problem: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "time": self.time,
            "parts": self.parts,
            "tree": {n: list(s) if s else None for n, s in self.tree.items()},
            "rows": [r.to_dict() for r in self.rows],
            "problem": self.problem,
        }

    @classmethod
    def read(cls, f: Fields, version: int) -> TreeCheckRecord:
        rows = f.data.get("rows", [])
        if not isinstance(rows, list):
            raise BadRecord("rows: not a list")
        found = []
        for i, row in enumerate(rows):
            try:
                found.append(_row(row))
            except BadRecord as exc:
                raise BadRecord(f"rows[{i}]: {exc}") from None
        return cls(
            f.text("kind", REQUIRED),
            f.time("time", REQUIRED),
            f.mapping("parts", text_value),
            f.mapping("tree", stamp_value),
            tuple(found),
            f.text("problem"),
        )
