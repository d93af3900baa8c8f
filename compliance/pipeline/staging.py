"""The one owner of audit.config in working directories: preparing the directory, placing, recognising, removing.

A file in a working directory is *ours* only when this project recorded placing it: :func:`place` writes a record
(the path and the sha256 of the exact text) in the build folder before it writes the file, and :func:`remove`
deletes the file only while it still holds that text. Anything else (a file placed by hand, even one rendered by
``mlperf-compliance audit-config`` with our marker comment; a file the harness wrote over ours; a file another copy
of the project placed) is foreign: it is never deleted, and it stops every run there until the user moves it.
LoadGen reads ``audit.config``; whisper's reference harness reads ``audit.conf`` (docs/rules.md §1.2): both count.

The rules are one table, :data:`RULES`: each says what it looks at (a :class:`Check`), what follows when it fires
(an :class:`Outcome`) and the sentence the user reads. The steps here (:func:`before`, :func:`place`,
:func:`remove`) apply the table in Python for local runs; a Slurm job applies the same table as shell, generated
from it (:mod:`compliance.pipeline.launch.slurm.script`; each check is a function of ``stage.sh``), with the same
sentences, which it receives as data. ``tests/unit/test_staging.py`` runs both on the same folders and compares.

Each step returns a :class:`Problem` (the rule and its sentence) or None. They are called under the run locks
(:mod:`compliance.pipeline.locks`), so no other run of the directory is going on.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from compliance import layout
from compliance.auditconfig import AUDIT_CONFIG
from compliance.fsutil import write_atomic
from compliance.plan import RunPlan
from compliance.records.io import BadRecord, load_json, save_json

AUDIT_NAMES = (AUDIT_CONFIG, "audit.conf")


class Phase(str, Enum):
    BEFORE = "before"  # before the command starts: the folder, stale and foreign files
    PLACE = "place"  # placing the run's audit.config (from then on, whatever happens removes it)
    AFTER = "after"  # after the command ended: removing it


class Outcome(str, Enum):
    REFUSED = "refused"  # the run does not start: something in the way is the user's to move
    FAILED = "failed"  # the run does not start: the folder or the file cannot be made
    NOTE = "note"  # said, and the run goes on
    AFTERMATH = "aftermath"  # found after the command ended: the run fails with it


class Check(str, Enum):
    """What a rule looks at; each is implemented twice, here (:data:`CHECKS`) and as ``stage_<value>`` in the
    job's ``stage.sh``. It *fires* when the rule's outcome follows."""

    FOREIGN_FOLDER = "foreign_folder"  # the (isolated) folder exists without our marker
    MAKE_FOLDER = "make_folder"  # the folder cannot be made (isolated: afresh, with our marker) and entered
    STALE = "stale"  # the file holds a text we recorded placing (an interrupted run left it): it is removed
    PRESENT = "present"  # something by that name is there (a file we did not place)
    PLACE = "place"  # our text cannot be written to the file (a temporary file, then a rename)
    REPLACED = "replaced"  # the file no longer holds our text (the command wrote over it): it is left


class Applies(str, Enum):
    ALWAYS = "always"
    ISOLATED = "isolated"  # an isolated working directory (a fresh folder of ours)
    COMPLIANCE = "compliance"  # a compliance run (it has an audit.config)
    SUBMISSION = "submission"  # a submission run (it must have none)


@dataclass(frozen=True)
class Rule:
    """One staging rule: its id (in the job's status file), when it is looked at, what it checks, what follows,
    and what the user reads (``{workdir}``, ``{path}`` of ``file``, ``{marker}``, ``{where}``: " on <node>" in
    a job, "" here)."""

    id: str
    phase: Phase
    check: Check
    outcome: Outcome
    text: str
    file: str = ""  # the file of the working directory it concerns ("": the folder)
    applies: Applies = Applies.ALWAYS

    def applies_to(self, run: RunPlan) -> bool:
        return {
            Applies.ALWAYS: True,
            Applies.ISOLATED: run.isolated,
            Applies.COMPLIANCE: run.audit_text is not None,
            Applies.SUBMISSION: run.audit_text is None,
        }[self.applies]

    def message(self, run: RunPlan, where: str = "") -> str:
        path = os.path.join(run.workdir, self.file) if self.file else run.workdir
        return self.text.format(workdir=run.workdir, path=path, marker=layout.ISOLATED_MARKER, where=where)


RULES: tuple[Rule, ...] = (
    Rule(
        "foreign-folder",
        Phase.BEFORE,
        Check.FOREIGN_FOLDER,
        Outcome.REFUSED,
        "{workdir} exists and is not a working directory made by mlperf-compliance (no {marker} in it): "
        "move it away, then rerun",
        applies=Applies.ISOLATED,
    ),
    Rule(
        "make-folder",
        Phase.BEFORE,
        Check.MAKE_FOLDER,
        Outcome.FAILED,
        "cannot make the working directory {workdir}{where}",
    ),
    Rule("stale", Phase.BEFORE, Check.STALE, Outcome.NOTE, "removed {path}, left by an interrupted run", AUDIT_CONFIG),
    *(
        Rule(
            f"audited:{name}",
            Phase.BEFORE,
            Check.PRESENT,
            Outcome.REFUSED,
            "{path} exists: this submission run would be audited. Remove it (an interrupted compliance run may "
            "have left it), then rerun",
            name,
            Applies.SUBMISSION,
        )
        for name in AUDIT_NAMES
    ),
    *(
        Rule(
            f"foreign:{name}",
            Phase.BEFORE,
            Check.PRESENT,
            Outcome.REFUSED,
            "{path} exists and was not placed by this project's runs: it would be used by this run and by any "
            "submission run there; move it away, then rerun",
            name,
            Applies.COMPLIANCE,
        )
        for name in AUDIT_NAMES
    ),
    Rule(
        "place",
        Phase.PLACE,
        Check.PLACE,
        Outcome.FAILED,
        "cannot write {path}{where}",
        AUDIT_CONFIG,
        Applies.COMPLIANCE,
    ),
    Rule(
        "replaced",
        Phase.AFTER,
        Check.REPLACED,
        Outcome.AFTERMATH,
        "the command replaced the staged audit.config with its own, and left it in {workdir}: remove it before "
        "any submission run there",
        AUDIT_CONFIG,
        Applies.COMPLIANCE,
    ),
)
BY_ID = {rule.id: rule for rule in RULES}


@dataclass(frozen=True)
class Problem:
    """A rule that fired and stops (or fails) the run, with its sentence."""

    rule: Rule
    message: str

    @property
    def outcome(self) -> Outcome:
        return self.rule.outcome


# -- the records of what we placed ---------------------------------------------------------------------------------


def staged_path(run: RunPlan) -> Path:
    """Where the run's audit.config is placed."""
    return Path(run.workdir) / AUDIT_CONFIG


def record_path(run: RunPlan) -> str:
    return layout.staged_record(os.path.realpath(run.workdir))


def _records(run: RunPlan) -> dict[str, dict[str, str]]:
    """Our records for the run's working directory: file path -> {sha256, earlier, label, since}."""
    try:
        data = load_json(record_path(run)) or {}
    except BadRecord:  # unreadable: nothing is known as ours there (a file then is refused, never deleted)
        return {}
    return {k: v for k, v in data.items() if isinstance(v, dict)}


def _save(run: RunPlan, found: dict[str, dict[str, str]]) -> None:
    path = record_path(run)
    if not found:
        Path(path).unlink(missing_ok=True)
        return
    save_json(path, found)


def _sha(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def text_sha(run: RunPlan) -> str:
    """The sha256 of the run's audit.config text ("" for a submission run)."""
    return hashlib.sha256(run.audit_text.encode()).hexdigest() if run.audit_text is not None else ""


def _known(record: dict[str, str]) -> set[str]:
    return {record.get("sha256", "")} | set(record.get("earlier", "").split()) - {""}


# -- the checks, in Python (each one's twin is stage_<check> in the job's stage.sh) --------------------------------


def _file(run: RunPlan, rule: Rule) -> Path:
    return Path(run.workdir) / rule.file


def _foreign_folder(run: RunPlan, rule: Rule) -> bool:
    folder = Path(run.workdir)
    return os.path.lexists(folder) and not os.path.lexists(folder / layout.ISOLATED_MARKER)


def _make_folder(run: RunPlan, rule: Rule) -> bool:
    folder = Path(run.workdir)
    try:
        if run.isolated:
            if os.path.lexists(folder):
                shutil.rmtree(folder)  # ours (the rule before checked the marker), from an earlier run: afresh
            folder.mkdir(parents=True)
            (folder / layout.ISOLATED_MARKER).write_text(f"working directory of {run.label}\n", encoding="utf-8")
        else:
            folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return True
    return not folder.is_dir()  # (a folder that cannot be entered stops the command's start, which says so)


def _stale(run: RunPlan, rule: Rule) -> bool:
    path = _file(run, rule)
    found = _records(run)
    record = found.pop(str(path), None)
    _save(run, found)
    if record is None or not path.is_file() or path.is_symlink() or _sha(path) not in _known(record):
        return False
    path.unlink()
    return True


def _present(run: RunPlan, rule: Rule) -> bool:
    return os.path.lexists(_file(run, rule))


def _place(run: RunPlan, rule: Rule) -> bool:
    assert run.audit_text is not None
    path = _file(run, rule)
    found = _records(run)
    found[str(path)] = {"sha256": text_sha(run), "label": run.label, "since": time.strftime("%Y-%m-%d %H:%M:%S")}
    _save(run, found)  # recorded first: from now on the file is known as ours
    try:
        write_atomic(path, run.audit_text)
    except OSError:
        return True
    return False


def _replaced(run: RunPlan, rule: Rule) -> bool:
    path = _file(run, rule)
    found = _records(run)
    record = found.pop(str(path), None)
    _save(run, found)
    if not os.path.lexists(path):
        return False
    if record is not None and not path.is_symlink() and _sha(path) == record.get("sha256"):
        path.unlink()
        return False
    return True


CHECKS: dict[Check, Callable[[RunPlan, Rule], bool]] = {
    Check.FOREIGN_FOLDER: _foreign_folder,
    Check.MAKE_FOLDER: _make_folder,
    Check.STALE: _stale,
    Check.PRESENT: _present,
    Check.PLACE: _place,
    Check.REPLACED: _replaced,
}


def _apply(run: RunPlan, phase: Phase, say: Callable[[str], None]) -> Problem | None:
    for rule in RULES:
        if rule.phase is not phase or not rule.applies_to(run) or not CHECKS[rule.check](run, rule):
            continue
        if rule.outcome is Outcome.NOTE:
            say(f"  {rule.message(run)}")
            continue
        return Problem(rule, rule.message(run))
    return None


def before(run: RunPlan, say: Callable[[str], None] = print) -> Problem | None:
    """Prepare the working directory for the run: make it, remove a file of ours an interrupted run left, refuse a
    foreign one."""
    return _apply(run, Phase.BEFORE, say)


def place(run: RunPlan) -> Problem | None:
    """Write the run's audit.config into the directory, atomically, recording it first (so it is known as ours)."""
    return _apply(run, Phase.PLACE, print)


def remove(run: RunPlan) -> Problem | None:
    """Remove the run's audit.config; never a file that no longer holds our text (the harness replaced it)."""
    return _apply(run, Phase.AFTER, print)


# -- a batch job stages on its node (compliance.pipeline.launch.slurm) ----------------------------------------------
# The job cannot write the record: the controller records the text before it submits (expect) and updates the record
# from what the job reported (settle), under the directory's lock.


def expect(run: RunPlan) -> None:
    """Record the run's audit.config as ours before a batch job places it.

    The texts recorded earlier for the path stay known as ours (``earlier``), so the job still removes a file an
    interrupted run of another cell left there, as the ``stale`` rule does here.
    """
    if run.audit_text is None:
        return
    path = str(Path(run.workdir) / AUDIT_CONFIG)
    found = _records(run)
    sha = text_sha(run)
    earlier = _known(found.get(path, {})) - {sha}
    found[path] = {"sha256": sha, "label": run.label, "since": time.strftime("%Y-%m-%d %H:%M:%S")}
    if earlier:
        found[path]["earlier"] = " ".join(sorted(earlier))
    _save(run, found)


def settle(run: RunPlan, gone: bool) -> None:
    """After a batch job: forget the run's audit.config once the job reported it gone (removed, never placed, or
    left replaced by the command, as :func:`remove` forgets it); keep the record when the job could not say (it was
    killed), so the next run there removes the file."""
    if run.audit_text is None or not gone:
        return
    path = str(Path(run.workdir) / AUDIT_CONFIG)
    found = _records(run)
    record = found.get(path)
    if record is not None and record.get("sha256") == text_sha(run):
        found.pop(path)
        _save(run, found)
