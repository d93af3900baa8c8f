"""The upload form of what the tool writes into a submission tree, and the content identity of each file.

A TEST folder goes into the tree as the mandatory truncation would leave it (docs/rules.md §8.2), so that running
the official truncation after the tool changes nothing (:mod:`compliance.submission.truncation`):

* TEST01, TEST07, TEST09: ``accuracy/mlperf_log_accuracy.json`` cut (first and last 4096 characters); TEST01's
  ``accuracy/accuracy.txt`` is what the verification wrote there (the fallback's accuracy output, or nothing) with
  ``\\nhash=<sha256 of the full log>\\n`` appended, as the script appends it (a TEST01 folder without it is moved to
  open by preprocess, and skipped by the truncation at b66003e); TEST07's and TEST09's ``accuracy.txt`` is
  ``hash=<sha256 of the cut log>\\n``, the fixed point of the script, which writes it anew on each run (C3); the form
  it leaves from a full log, ``hash=<sha256 of the full log>\\n``, is accepted as equally current;
* every other file as the verification wrote it (TEST06 and TEST08 logs are never cut by the official chain).

A submission run copied into the tree's results layout (``reference: {publish: true}``) goes as it is: its
``accuracy/accuracy.txt`` is the submitter's (the accuracy script's output), so the tool cannot write the hash there.
Once the user adds it, the truncation appends the hash and cuts the log: the cut form of the log is accepted as the
tool's own, and the user's files (:data:`USER_FILES`) are neither foreign nor overwritten.

Each file the tool writes has a :class:`Identity`: the sha256 of the bytes it wrote, the sha256 of every other form
the official chain may leave of it, and the stamp it had when written (an unchanged stamp spares reading it again).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from compliance.layout import ACCURACY, RESULT_RUNS, TEST_ACCURACY_LOG
from compliance.logs import LogError
from compliance.logs.accuracy import AccuracyLog
from compliance.submission import truncation
from compliance.submission.truncation import Cut

ACCURACY_TXT = "accuracy.txt"
TEST_ACCURACY_TXT = f"accuracy/{ACCURACY_TXT}"
#: submission run -> the files of its results folder that are the submitter's (docs/rules.md §8.3)
USER_FILES: Mapping[str, tuple[str, ...]] = {"accuracy": (ACCURACY_TXT,), "performance": ()}
#: (mtime, size)
Stamp = tuple[float, float]


class Change(StrEnum):
    """How a file the tool wrote differs from every form it may have (for machines; :func:`describe` says it)."""

    MISSING = "missing"
    EDITED = "edited"
    CUT_OTHERWISE = "cut otherwise"
    WHOLE = "whole"  # the full log where the upload form has it cut
    NOT_A_FILE = "not a file"
    EXTRA = "extra"  # a file the tool did not write, in a folder it writes whole


@dataclass(frozen=True)
class Identity:
    """The content identity of a file the tool wrote: the sha256 of its bytes, the sha256 of the other forms the
    official chain may leave of it (each as current as the tool's), the stamp it had when written, and whether it
    is an accuracy log (a changed one is told apart: cut otherwise, or whole)."""

    sha256: str
    accepted: tuple[str, ...] = ()
    stamp: Stamp | None = None
    log: bool = False
    whole: str = ""  # an accuracy log written cut: the sha256 of the full log

    def holds(self, sha256: str | None) -> bool:
        return sha256 is not None and (sha256 == self.sha256 or sha256 in self.accepted)

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"sha256": self.sha256}
        if self.accepted:
            out["accepted"] = list(self.accepted)
        if self.stamp is not None:
            out["stamp"] = list(self.stamp)
        if self.log:
            out["log"] = True
        if self.whole:
            out["whole"] = self.whole
        return out

    def with_stamp(self, stamp: Stamp | None) -> Identity:
        return Identity(self.sha256, self.accepted, stamp, self.log, self.whole)


@dataclass(frozen=True)
class Planned:
    """One file of a folder's upload form: its path in the folder, and either a file to copy as it is (``source``)
    or the bytes to write (``data``), with its identity."""

    name: str
    identity: Identity
    source: str | None = None
    data: bytes | None = None


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def test_folder(test: str, folder: str, names: Iterable[str]) -> list[Planned]:
    """The upload form of the verified TEST folder ``folder`` of ``test`` (its files ``names``, relative to it).

    Raises:
        OSError: a file cannot be read.
        truncation.NotText: its accuracy log is not UTF-8 text (the official script could not cut it either).
    """
    names = list(names)
    if test not in truncation.CUT_TESTS or TEST_ACCURACY_LOG not in names:
        return [_as_is(name, os.path.join(folder, name)) for name in names]
    log = truncation.cut(os.path.join(folder, TEST_ACCURACY_LOG))
    planned = [_cut_log(log, os.path.join(folder, TEST_ACCURACY_LOG))]
    if test in truncation.REHASHED_TESTS:
        text = truncation.rewritten(log.form_sha256).encode()
        first = truncation.rewritten(log.sha256).encode()  # the script's first pass over a full log
        other = (truncation.sha256_bytes(first),) if first != text else ()
        planned.append(Planned(TEST_ACCURACY_TXT, Identity(truncation.sha256_bytes(text), other), data=text))
    else:
        own = os.path.join(folder, TEST_ACCURACY_TXT)
        before = _read(own).decode("utf-8") if TEST_ACCURACY_TXT in names else ""
        text = truncation.appended(before, log.sha256).encode("utf-8")
        planned.append(Planned(TEST_ACCURACY_TXT, Identity(truncation.sha256_bytes(text)), data=text))
    done = {TEST_ACCURACY_LOG, TEST_ACCURACY_TXT}
    return planned + [_as_is(name, os.path.join(folder, name)) for name in names if name not in done]


def _cut_log(log: Cut, source: str) -> Planned:
    name = TEST_ACCURACY_LOG
    if log.data is None:
        return Planned(name, Identity(log.sha256, log=True), source=source)
    return Planned(name, Identity(log.form_sha256, log=True, whole=log.sha256), data=log.data)


def _as_is(name: str, path: str) -> Planned:
    return Planned(name, Identity(truncation.sha256_file(path), log=os.path.basename(name) == ACCURACY), source=path)


def results_folder(run: str, logs: Iterable[str]) -> list[Planned]:
    """The files of a submission run's results folder (``run``: accuracy or performance): its LoadGen logs as they
    are; in the accuracy run's folder, the cut form of the accuracy log is accepted as the same (the truncation cuts
    it once the submitter has added ``accuracy.txt``).

    Raises:
        OSError: a log cannot be read.
    """
    planned = []
    for path in logs:
        name = os.path.basename(path)
        try:
            log = truncation.cut(path) if run == "accuracy" and name == ACCURACY else None
        except truncation.NotText:  # the official script cannot cut it either: only the log as it is is the tool's
            log = None
        if log is None:
            planned.append(_as_is(name, path))
        else:
            other = (log.form_sha256,) if log.data is not None else ()
            planned.append(Planned(name, Identity(log.sha256, other, log=True), source=path))
    return planned


def user_file(run: str, name: str) -> bool:
    """Whether ``name`` (relative to the results folder of submission run ``run``) is a file the submitter adds."""
    return name in USER_FILES.get(run, ()) and run in RESULT_RUNS


def _sha(path: str) -> str | None:
    try:
        return truncation.sha256_file(path)
    except OSError:
        return None


def change(path: str, identity: Identity, stamp: Stamp | None) -> Change | None:
    """How the file at ``path`` (its ``stamp`` now) differs from every form the tool may have written there; None
    when it holds one (a file whose stamp is the one recorded is taken as unchanged, unread)."""
    if stamp is None:
        return Change.NOT_A_FILE if os.path.lexists(path) else Change.MISSING
    if identity.stamp is not None and stamp == identity.stamp:
        return None
    digest = _sha(path)
    if identity.holds(digest):
        return None
    if not identity.log:
        return Change.EDITED
    if identity.whole and digest == identity.whole:
        return Change.WHOLE
    return Change.CUT_OTHERWISE if _truncated(path) else Change.EDITED


def file_stamp(path: str) -> Stamp | None:
    """(mtime, size) of a regular file (a link is followed); None when there is none there."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return (info.st_mtime, float(info.st_size)) if stat.S_ISREG(info.st_mode) else None


def folder_changes(
    folder: str,
    identities: Mapping[str, Identity],
    theirs: Callable[[str], bool] | None = None,
) -> list[tuple[str, Change]]:
    """(path, change) of each file the tool wrote in ``folder`` that holds none of its forms, then, when ``theirs``
    is given, of each file there the tool did not write and ``theirs`` (its path in the folder) does not claim."""
    out = []
    for name in sorted(identities):
        path = os.path.join(folder, name)
        found = change(path, identities[name], file_stamp(path))
        if found is not None:
            out.append((path, found))
    if theirs is None:
        return out
    for top, _, files in sorted(os.walk(folder)):
        for name in sorted(files):
            path = os.path.join(top, name)
            inner = os.path.relpath(path, folder)
            if inner not in identities and not theirs(inner):
                out.append((path, Change.EXTRA))
    return out


def _truncated(path: str) -> bool:
    """Whether an accuracy log holds a truncation marker (read by the logs' reader, the one owner of the format)."""
    reader = AccuracyLog(path, wanted=(), check_all_hex=False)
    try:
        for _ in reader:
            pass
    except (OSError, LogError):
        return False
    return reader.truncated


def describe(kind: Change) -> str:
    """The change in words, after the file's path."""
    return {
        Change.MISSING: "is missing from the submission tree",
        Change.NOT_A_FILE: "is not a file any more",
        Change.EDITED: "changed in the submission tree since it was written (edited)",
        Change.CUT_OTHERWISE: "was cut otherwise than the official truncation cuts it",
        Change.WHOLE: "holds the full log where the upload form has it cut (restored from a backup?)",
        Change.EXTRA: "is not a file the tool wrote there",
    }[kind]
