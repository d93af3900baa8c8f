"""The one owner of audit.config in working directories: preparing the directory, placing, recognising, removing.

A file in a working directory is *ours* only when this project recorded placing it: :func:`place` writes a record
(the path and the exact text) in the build folder before it writes the file, and :func:`remove` deletes the file
only while it still holds that text. Anything else (a file placed by hand, even one rendered by
``mlperf-compliance audit-config`` with our marker comment; a file the harness wrote over ours; a file another copy
of the project placed) is foreign: it is never deleted, and it stops every run there until the user moves it.
LoadGen reads ``audit.config``; whisper's reference harness reads ``audit.conf`` (docs/rules.md §1.2): both count.

Each step returns a problem (a sentence for the user) or None. They are called under the run locks
(:mod:`compliance.pipeline.locks`), so no other run of the directory is going on.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

from compliance import layout
from compliance.auditconfig import AUDIT_CONFIG
from compliance.fsutil import write_atomic
from compliance.plan import RunPlan

AUDIT_NAMES = (AUDIT_CONFIG, "audit.conf")
STAGED = os.path.join(layout.BUILD, ".staged")  # records of the files we placed, one per working directory


def _record_path(run: RunPlan) -> Path:
    real = os.path.realpath(run.workdir)
    return Path(STAGED) / (hashlib.sha256(real.encode()).hexdigest()[:16] + ".json")


def _records(run: RunPlan) -> dict[str, dict[str, str]]:
    """Our records for the run's working directory: file path -> {sha256, label, since}."""
    try:
        data = json.loads(_record_path(run).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save(run: RunPlan, records: dict[str, dict[str, str]]) -> None:
    path = _record_path(run)
    if not records:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(records, indent=1) + "\n")


def _sha(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def staged_path(run: RunPlan) -> Path:
    return Path(run.workdir) / AUDIT_CONFIG


def prepare_workdir(run: RunPlan) -> str | None:
    """Create the working directory; an isolated one must be ours (marker file) or new, and starts empty."""
    folder = Path(run.workdir)
    if not run.isolated:
        folder.mkdir(parents=True, exist_ok=True)
        return None
    if folder.exists() and not (folder / layout.ISOLATED_MARKER).exists():
        return (f"{folder} exists and is not a working directory made by mlperf-compliance (no "
                f"{layout.ISOLATED_MARKER} in it): move it away, then rerun")
    if folder.exists():
        shutil.rmtree(folder)  # ours, from an earlier run: start afresh
    folder.mkdir(parents=True)
    (folder / layout.ISOLATED_MARKER).write_text(f"working directory of {run.label}\n", encoding="utf-8")
    return None


def clear_stale(run: RunPlan) -> str | None:
    """Remove files we placed in the directory and an interrupted run left behind (they still hold our text)."""
    records = _records(run)
    for name, record in list(records.items()):
        path = Path(name)
        if path.exists() and _sha(path) == record.get("sha256"):
            path.unlink()
            print(f"  removed {os.path.relpath(path)}, left by an interrupted run ({record.get('label')})")
        records.pop(name)
    _save(run, records)
    return None


def refuse_foreign(run: RunPlan) -> str | None:
    """Refuse to run while an audit.config (or audit.conf) that is not ours lies in the directory."""
    for name in AUDIT_NAMES:
        path = Path(run.workdir) / name
        if not path.exists():
            continue
        if run.audit_text is None:
            return (f"{path} exists: this submission run would be audited. Remove it (an interrupted compliance "
                    "run may have left it), then rerun")
        return (f"{path} exists and was not placed by this project's runs: it would be used by this run and by "
                "any submission run there; move it away, then rerun")
    return None


def place(run: RunPlan) -> str | None:
    """Write the run's audit.config into the directory, atomically, recording it first (so it is known as ours)."""
    if run.audit_text is None:
        return None
    path = staged_path(run)
    records = _records(run)
    records[str(path)] = {"sha256": hashlib.sha256(run.audit_text.encode()).hexdigest(), "label": run.label,
                          "since": time.strftime("%Y-%m-%d %H:%M:%S")}
    _save(run, records)
    try:
        write_atomic(path, run.audit_text)
    except OSError as exc:
        return f"cannot write {path}: {exc.strerror or exc}"
    return None


def remove(run: RunPlan) -> str | None:
    """Remove the run's audit.config; never a file that no longer holds our text (the harness replaced it)."""
    if run.audit_text is None:
        return None
    path = staged_path(run)
    records = _records(run)
    record = records.pop(str(path), None)
    problem = None
    if path.exists():
        if record is not None and _sha(path) == record["sha256"]:
            path.unlink()
        else:
            problem = (f"the command replaced the staged audit.config with its own, and left it in {run.workdir}: "
                       "remove it before any submission run there")
    _save(run, records)
    return problem


def is_ours(run: RunPlan, path: Path) -> bool:
    """Whether ``path`` is a file this project placed and that still holds our text."""
    record = _records(run).get(str(path))
    return record is not None and _sha(path) == record["sha256"]
