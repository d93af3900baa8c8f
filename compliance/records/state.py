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
from functools import cached_property
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


class CellState:
    """What the build folder says of a cell: its runs (the compliance run first, then the submission runs it
    produces, as :meth:`compliance.plan.CellPlan.needed_runs`), its verification and the verify.json it wrote (read
    back as a :class:`Result`), its publication, and its ledger of attempts.

    Each part is read when it is first asked for, and once: a summary row asks for all of them, doit's check of a
    step only for what its step depends on."""

    def __init__(self, cp: CellPlan, known: dict[str, RunState] | None = None):
        self._plan = cp
        self._known = {} if known is None else known

    @cached_property
    def runs(self) -> tuple[RunState, ...]:
        found = []
        for _, _, run in self._plan.needed_runs():
            if run.files.record not in self._known:
                self._known[run.files.record] = read_run(run)
            found.append(self._known[run.files.record])
        return tuple(found)

    @property
    def run(self) -> RunState:
        """The compliance run's state."""
        return self.runs[0]

    @cached_property
    def _meta(self) -> tuple[VerifyRecord | None, tuple[Bad, ...]]:
        bad: list[Bad] = []
        return _load(VerifyRecord, self._plan.files.verify_meta, bad), tuple(bad)

    @cached_property
    def _verdict(self) -> tuple[Result | None, tuple[AttemptEntry, ...], tuple[Bad, ...]]:
        bad: list[Bad] = []
        result, told = _verdict(self._plan.files.verify_json, bad)
        return result, told, tuple(bad)

    @cached_property
    def _ledger(self) -> tuple[tuple[AttemptEntry, ...], tuple[Bad, ...]]:
        bad: list[Bad] = []
        return tuple(ledger(self._plan.files.attempts_dir, bad)), tuple(bad)

    @cached_property
    def _publication(self) -> tuple[PublishRecord | None, tuple[Bad, ...]]:
        bad: list[Bad] = []
        return _load(PublishRecord, self._plan.files.publish_record, bad), tuple(bad)

    @property
    def verification(self) -> VerifyRecord | None:
        """verify.meta.json."""
        return self._meta[0]

    @property
    def result(self) -> Result | None:
        """verify.json, read back."""
        return self._verdict[0]

    @property
    def verdict_attempts(self) -> tuple[AttemptEntry, ...]:
        """The ledger verify.json holds (the attempts of its verdict)."""
        return self._verdict[1]

    @cached_property
    def verdict_stamp(self) -> Stamp | None:
        """The stamp of verify.json (None: there is none)."""
        return stamp(self._plan.files.verify_json)

    @property
    def ledger(self) -> tuple[AttemptEntry, ...]:
        """Every attempt of the cell, in attempts/, oldest first."""
        return self._ledger[0]

    @property
    def publication(self) -> PublishRecord | None:
        """publish.json."""
        return self._publication[0]

    @property
    def bad_verification(self) -> tuple[Bad, ...]:
        """The verification's records that cannot be read: verify.meta.json, verify.json, the ledger."""
        return self._meta[1] + self._verdict[2] + self._ledger[1]

    @property
    def bad_publication(self) -> tuple[Bad, ...]:
        """publish.json, when it cannot be read."""
        return self._publication[1]


def read_cell(cp: CellPlan, known: dict[str, RunState] | None = None) -> CellState:
    """The state of the cell ``cp``, each record read once, when first asked for; ``known`` holds the states of runs
    read already (by record path: a submission run is shared by cells), and receives those read here."""
    return CellState(cp, known)


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
