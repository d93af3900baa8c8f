"""A cell's records, read once: the one place that turns a cell's build folder into a state object.

:func:`read_run` reads a run's record, its rerun request and its completion signature; :func:`read_cell` reads
everything of a cell (its runs, its verification, verify.json, its publication, its ledger of attempts);
:func:`read_reference` a submission run's and its copy in the tree. The freshness rule, the summary and the pipeline's
steps take these objects, so a summary reads each record file once. A record that cannot be read is named in the
state (:class:`~compliance.records.io.Bad`): the freshness rule makes its step run again, the summary says why, and
the step sets it aside (:func:`set_aside`) before it writes the record anew.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from compliance.layout import ATTEMPT_JSON
from compliance.plan import CellPlan, ReferencePlan, RunPlan
from compliance.records.io import Bad, BadRecord, a_folder, load_json, move_aside
from compliance.records.stamps import Stamp, stamp
from compliance.records.types import (
    AttemptEntry,
    PublishRecord,
    Record,
    RerunRequest,
    RunRecord,
    TreeCheckRecord,
    TreeCopyRecord,
    VerifyRecord,
)
from compliance.verify.result import Result

R = TypeVar("R", bound=Record)


def _load(kind: type[R], path: str, bad: list[Bad]) -> R | None:
    try:
        return kind.load(path)
    except BadRecord as exc:
        bad.append(Bad(path, str(exc)))
        return None


@dataclass(frozen=True)
class RunState:
    """What the build folder says of a run: how it last ended, whether a rerun was asked for, whether it completed
    (the signature it wrote then), and the records that could not be read."""

    record: RunRecord | None = None
    request: RerunRequest | None = None
    requested: bool = False  # a rerun was asked for (its request may be unreadable)
    signed: str | None = None  # the signature of the run it last completed (logs/.run.signature)
    bad: tuple[Bad, ...] = ()

    def current(self, run: RunPlan) -> RunRecord | None:
        """The record, when it is of this run as the spec now makes it (its signature)."""
        return self.record if self.record is not None and self.record.signature == run.signature else None


def read_run(run: RunPlan) -> RunState:
    """The state of ``run`` from its files in the build folder."""
    bad: list[Bad] = []
    record = _load(RunRecord, run.files.record, bad)
    request = _load(RerunRequest, run.files.rerun_request, bad)
    requested = request is not None or os.path.lexists(run.files.rerun_request)
    signed = None
    folder = a_folder(run.files.logs)
    if folder is not None:
        bad.append(Bad(run.files.logs, folder))
    else:
        signed = _signature(run.files.signature(), bad)
    return RunState(record, request, requested, signed, tuple(bad))


def _signature(path: str, bad: list[Bad]) -> str | None:
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        bad.append(Bad(path, "not a regular file"))
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return f.read(256)
    except (OSError, UnicodeDecodeError):
        return None


@dataclass(frozen=True)
class CellState:
    """What the build folder says of a cell: its runs (the compliance run first, then the submission runs it
    produces, as :meth:`compliance.plan.CellPlan.needed_runs`), its verification and the verify.json it wrote (read
    back as a :class:`Result`), its publication, and its ledger of attempts."""

    runs: tuple[RunState, ...]
    verification: VerifyRecord | None = None
    result: Result | None = None
    verdict_stamp: Stamp | None = None  # of verify.json
    publication: PublishRecord | None = None
    ledger: tuple[AttemptEntry, ...] = ()  # every attempt of the cell, in attempts/
    verdict_attempts: tuple[AttemptEntry, ...] = ()  # the ledger verify.json holds (the attempts of its verdict)
    bad_verification: tuple[Bad, ...] = ()  # verify.meta.json, verify.json, the ledger
    bad_publication: tuple[Bad, ...] = ()  # publish.json

    @property
    def run(self) -> RunState:
        """The compliance run's state."""
        return self.runs[0]


def read_cell(cp: CellPlan, known: dict[str, RunState] | None = None) -> CellState:
    """The state of the cell ``cp``; ``known`` holds the states of runs read already (by record path: a submission
    run is shared by cells), and receives those read here."""
    known = {} if known is None else known
    runs = []
    for _, _, run in cp.needed_runs():
        if run.files.record not in known:
            known[run.files.record] = read_run(run)
        runs.append(known[run.files.record])
    bad: list[Bad] = []
    verification = _load(VerifyRecord, cp.files.verify_meta, bad)
    result, told = _verdict(cp.files.verify_json, bad)
    entries = ledger(cp.files.attempts_dir, bad)
    published: list[Bad] = []
    publication = _load(PublishRecord, cp.files.publish_record, published)
    return CellState(
        tuple(runs),
        verification,
        result,
        stamp(cp.files.verify_json),
        publication,
        tuple(entries),
        told,
        tuple(bad),
        tuple(published),
    )


def _verdict(path: str, bad: list[Bad]) -> tuple[Result | None, tuple[AttemptEntry, ...]]:
    """verify.json read back, and the ledger it holds."""
    try:
        data = load_json(path)
        if data is None:
            return None, ()
        result = Result.from_dict(data)
        told = []
        for i, entry in enumerate(result.attempts):
            try:
                told.append(AttemptEntry.from_dict(entry))
            except BadRecord as exc:
                raise BadRecord(f"attempts[{i}].{exc}") from None
    except (BadRecord, ValueError) as exc:
        bad.append(Bad(path, str(exc)))
        return None, ()
    return result, tuple(told)


def ledger(folder: str, bad: list[Bad]) -> list[AttemptEntry]:
    """The attempts in ``folder`` (a cell's ``attempts/``), oldest first; an attempt folder without an entry is one a
    kill interrupted (skipped), a bad entry or a file in place of the folder is added to ``bad``."""
    problem = a_folder(folder)
    if problem is not None:
        bad.append(Bad(folder, problem))
        return []
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    found = []
    for name in names:
        if name.isdigit():
            entry = _load(AttemptEntry, os.path.join(folder, name, ATTEMPT_JSON), bad)
            if entry is not None:
                found.append(entry)
    return sorted(found, key=lambda e: e.number)


def series(entries: Iterable[AttemptEntry]) -> list[AttemptEntry]:
    """The entries of the last series (the attempts of the last verification)."""
    entries = list(entries)
    last = entries[-1].series if entries else None
    return [e for e in entries if e.series == last]


@dataclass(frozen=True)
class ReferenceState:
    """What the build folder says of a submission run the tool produces, and of its copy in the tree."""

    run: RunState
    copy: TreeCopyRecord | None = None
    bad_copy: tuple[Bad, ...] = ()


def read_reference(ref: ReferencePlan, known: dict[str, RunState] | None = None) -> ReferenceState:
    """The state of the submission run ``ref`` and of its copy in the tree (``known``: as for :func:`read_cell`)."""
    known = {} if known is None else known
    if ref.run.files.record not in known:
        known[ref.run.files.record] = read_run(ref.run)
    bad: list[Bad] = []
    copy = _load(TreeCopyRecord, ref.publish_record, bad) if ref.publish_record else None
    return ReferenceState(known[ref.run.files.record], copy, tuple(bad))


def read_tree_check(path: str) -> tuple[TreeCheckRecord | None, tuple[Bad, ...]]:
    """A check of a submission tree before upload (pre-flight, the official checker) as recorded, and whether its
    record could not be read."""
    bad: list[Bad] = []
    return _load(TreeCheckRecord, path, bad), tuple(bad)


def set_aside(found: Iterable[Bad]) -> list[str]:
    """Rename each bad record (or file where a folder of records must be) to ``<path>.bad``, so its step writes it
    anew; a line for each, saying where it went (or why it could not be moved)."""
    lines = []
    for bad in found:
        if not os.path.lexists(bad.path):
            continue
        try:
            target = move_aside(bad.path)
        except OSError as exc:
            lines.append(f"cannot set aside {bad} : {exc.strerror or exc}")
            continue
        lines.append(f"set aside {bad}: moved to {target}")
    return lines
