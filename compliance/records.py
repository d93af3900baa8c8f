"""What the pipeline records in the build folder about each step, and how the freshness rule and the status read it.

* a run's record (``run.json``, ``reference-<mode>.json``): how the run ended (``status`` PASS or FAIL, ``reason``,
  ``kind``), its signature and the resolved fields the signature is made of (so a change can be named), the time;
* a verification's record (``verify.meta.json``): its outcome (``status``: PASS, FAIL, or NOT VERIFIED when a run
  it needs failed; ``reason``), the digests of what it depended on, and the stamps of its inputs;
* a publication's record (``publish.json``): whether the TEST folder was copied into the tree or withdrawn, the
  stamp of the verdict it came from, where a withdrawn folder was moved;
* a submission run's copy in the tree (``reference-<mode>.publish.json``, ``reference: {publish: true}``): the tree
  folder, the stamps of the files the tool wrote there (what makes the folder the tool's own), the run it came from;
* the verdict itself is the TEST folder's ``verify.json`` (:mod:`compliance.verify.render`);
* an attempt's entry in the cell's ledger (``attempts/<n>/attempt.json``): its number in its series (the runs one
  verification made, ``attempt`` of ``of``), the series, the time, the verdict, the reason and the figures, whether
  it was retried, and its folder (which holds its logs and verify.json);
* a rerun asked for (``run.rerun``): when, and by what.

Every record is written atomically and read back tolerantly (a missing or broken record reads as None).

Layer: above :mod:`compliance.plan` (paths), below the freshness rule, the status and the pipeline.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import time
from typing import Any

from compliance.fsutil import write_atomic
from compliance.layout import ATTEMPT_JSON, CellFiles, RunFiles

PASS, FAIL, NOT_VERIFIED = "PASS", "FAIL", "NOT VERIFIED"
PUBLISHED, WITHDRAWN, ABSENT, COPY_FAILED = "published", "withdrawn", "absent", "copy failed"
WRITING, REFUSED = "writing", "refused"  # a submission run's copy: being written; refused (a folder not ours)


def read_json(path: str) -> dict[str, Any] | None:
    """A JSON object from ``path``, or None when it is missing, unreadable or not an object."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def write_json(path: str, data: dict[str, Any]) -> None:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    write_atomic(path, json.dumps(data, indent=1, sort_keys=True, default=str) + "\n")


def stamp(path: str) -> list[float] | None:
    """What tells a file changed: [mtime, size], or None when it is missing."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime, float(st.st_size)]


def tree_stamps(folder: str) -> dict[str, list[float] | None]:
    """relative path -> stamp of every file under ``folder`` (links and folders are named too, as they are not
    ours to overlook); empty when ``folder`` does not exist."""
    out: dict[str, list[float] | None] = {}
    for top, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = os.path.join(top, name)
            out[os.path.relpath(path, folder)] = None if os.path.isdir(path) or os.path.islink(path) else stamp(path)
    return out


def digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16]


def write_run(
    files: RunFiles,
    signature: str,
    fields: dict[str, str],
    problem: str | None,
    kind: str = "",
    inputs: dict[str, Any] | None = None,
) -> None:
    """Record how a run ended (``kind`` names the kind of failure, e.g. exit, timeout, refused, evidence), and the
    declared inputs it ran with (:func:`input_stamps`)."""
    write_json(
        files.record,
        {
            "status": FAIL if problem else PASS,
            "reason": problem or "",
            "kind": kind,
            "signature": signature,
            "fields": fields,
            "inputs": inputs or {},
            "time": time.time(),
        },
    )


def expand(patterns: tuple[str, ...]) -> list[str]:
    """The files the declared input patterns name now (a pattern without wildcards names itself)."""
    found: set[str] = set()
    for pattern in patterns:
        matches = glob.glob(pattern, recursive=True) if glob.has_magic(pattern) else [pattern]
        found.update(m for m in matches if not os.path.isdir(m))
    return sorted(found)


def content_digest(path: str) -> str | None:
    """sha256 of a file's content (read in blocks), or None when it cannot be read."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return None
    return h.hexdigest()


def input_stamps(patterns: tuple[str, ...], known: dict[str, Any] | None = None) -> dict[str, Any]:
    """path -> [stamp, content digest] of the declared inputs; a file whose stamp is unchanged since ``known`` keeps
    its known digest (a multi-GB model is not read again on every check)."""
    out: dict[str, Any] = {}
    for path in expand(patterns):
        now = stamp(path)
        before = (known or {}).get(path)
        if isinstance(before, list) and len(before) == 2 and before[0] == now:
            out[path] = before
        else:
            out[path] = [now, content_digest(path)]
    return out


def read_run(files: RunFiles) -> dict[str, Any] | None:
    return read_json(files.record)


def write_verify(
    path: str, status: str, reason: str, parts: dict[str, str], inputs: list[str], kind: str = "verdict"
) -> None:
    """Record a verification's outcome (``kind``: verdict, input, crash or prerequisite: only a verdict has a
    verify.json), the digests of what it depended on and the stamps of its inputs."""
    write_json(
        path,
        {
            "status": status,
            "reason": reason,
            "kind": kind,
            "parts": parts,
            "inputs": {p: stamp(p) for p in inputs},
            "time": time.time(),
        },
    )


def write_publish(
    path: str, state: str, verify_time: Any, verdict_stamp: list[float] | None, moved_to: str = "", reason: str = ""
) -> None:
    """Record what the tree holds for a cell (``state``), for which verification, where a withdrawn folder went, and
    why a copy failed."""
    write_json(
        path,
        {
            "state": state,
            "verify": verify_time,
            "verdict": verdict_stamp,
            "moved_to": moved_to,
            "reason": reason,
            "time": time.time(),
        },
    )


def ledger(files: CellFiles) -> list[dict[str, Any]]:
    """The cell's attempts, oldest first (an attempt folder without a readable entry is one a kill interrupted)."""
    try:
        names = os.listdir(files.attempts_dir)
    except OSError:
        return []
    found = []
    for name in names:
        entry = read_json(os.path.join(files.attempts_dir, name, ATTEMPT_JSON)) if name.isdigit() else None
        if entry is not None and isinstance(entry.get("number"), int):
            found.append(entry)
    return sorted(found, key=lambda e: e["number"])


def series(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries of the last series (the attempts of the last verification)."""
    last = entries[-1].get("series") if entries else None
    return [e for e in entries if e.get("series") == last]


def write_rerun_request(files: RunFiles, by: str) -> None:
    """Ask for a run to run again (the freshness rule says so until the run starts)."""
    write_json(files.rerun_request, {"by": by, "time": time.time()})
