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
import shlex
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
        return (
            f"{folder} exists and is not a working directory made by mlperf-compliance (no "
            f"{layout.ISOLATED_MARKER} in it): move it away, then rerun"
        )
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
            return (
                f"{path} exists: this submission run would be audited. Remove it (an interrupted compliance "
                "run may have left it), then rerun"
            )
        return (
            f"{path} exists and was not placed by this project's runs: it would be used by this run and by "
            "any submission run there; move it away, then rerun"
        )
    return None


def place(run: RunPlan) -> str | None:
    """Write the run's audit.config into the directory, atomically, recording it first (so it is known as ours)."""
    if run.audit_text is None:
        return None
    path = staged_path(run)
    records = _records(run)
    records[str(path)] = {
        "sha256": hashlib.sha256(run.audit_text.encode()).hexdigest(),
        "label": run.label,
        "since": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
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
            problem = (
                f"the command replaced the staged audit.config with its own, and left it in {run.workdir}: "
                "remove it before any submission run there"
            )
    _save(run, records)
    return problem


# -- the same rules inside a batch job (compliance.pipeline.launch.slurm) ----------------------------------------
# A batch job stages on its node, where this process cannot look: the controller records the text before it submits
# (expect), the job script runs the steps above as shell (job_shell), and the controller updates the record from
# what the job reported (settle). The messages are the ones of the Python steps.


def expect(run: RunPlan) -> None:
    """Record the run's audit.config as ours before a batch job places it (the job cannot write the record).

    The texts recorded earlier for the path stay known as ours (``earlier``), so the job still removes a file an
    interrupted run of another cell left there, as :func:`clear_stale` would. Called under the directory's lock.
    """
    if run.audit_text is None:
        return
    path = str(staged_path(run))
    records = _records(run)
    sha = hashlib.sha256(run.audit_text.encode()).hexdigest()
    old = records.get(path, {})
    earlier = set(old.get("earlier", "").split()) | ({old["sha256"]} if "sha256" in old else set())
    earlier.discard(sha)
    records[path] = {"sha256": sha, "label": run.label, "since": time.strftime("%Y-%m-%d %H:%M:%S")}
    if earlier:
        records[path]["earlier"] = " ".join(sorted(earlier))
    _save(run, records)


def settle(run: RunPlan, gone: bool) -> None:
    """After a batch job: forget the run's audit.config once the job reported it gone (removed, never placed, or
    left replaced by the command, as :func:`remove` forgets it); keep the record when the job could not say (it was
    killed), so the next run there removes the file. Called under the directory's lock."""
    if run.audit_text is None or not gone:
        return
    path = str(staged_path(run))
    records = _records(run)
    record = records.get(path)
    if record is not None and record.get("sha256") == hashlib.sha256(run.audit_text.encode()).hexdigest():
        records.pop(path)
        _save(run, records)


def job_shell(run: RunPlan) -> str:
    """The staging steps as POSIX shell for a batch job script: two functions, run on the node.

    ``stage_in`` does :func:`prepare_workdir`, :func:`clear_stale`, :func:`refuse_foreign` and :func:`place` and
    leaves the shell in the working directory; it returns 0, or 1 with ``STAGE_PROBLEM`` set (refused, as the
    Python steps refuse), or 2 with ``STAGE_FAILED`` set (the directory cannot be made or written). A file counts
    as ours when its sha256 is in this project's record of the directory (:func:`expect` wrote it, on the shared
    build folder), and it is placed atomically (a temporary file in the directory, then ``mv``).

    ``stage_out`` does :func:`remove`: it deletes the audit.config only while it holds our text, and sets
    ``STAGE_AUDIT`` to ``none`` (nothing was placed), ``removed``, ``absent`` (the command deleted it) or
    ``replaced`` (left, with ``STAGE_AFTERMATH`` saying so). The script needs ``sha256sum``, ``grep``, ``mkdir``,
    ``mv``, ``rm`` on the node. Messages name the node ``$STAGE_HOST`` (default: its host name).
    """
    workdir = os.path.abspath(run.workdir)
    q = shlex.quote
    ours = hashlib.sha256(run.audit_text.encode()).hexdigest() if run.audit_text is not None else ""
    refusals = []
    for name in AUDIT_NAMES:
        path = os.path.join(run.workdir, name)
        if run.audit_text is None:
            message = (
                f"{path} exists: this submission run would be audited. Remove it (an interrupted compliance "
                "run may have left it), then rerun"
            )
        else:
            message = (
                f"{path} exists and was not placed by this project's runs: it would be used by this run and "
                "by any submission run there; move it away, then rerun"
            )
        refusals.append(f"    if [ -e {q(name)} ]; then STAGE_PROBLEM={q(message)}; return 1; fi")
    if run.isolated:
        foreign = (
            f"{run.workdir} exists and is not a working directory made by mlperf-compliance (no "
            f"{layout.ISOLATED_MARKER} in it): move it away, then rerun"
        )
        prepare = "\n".join(
            [
                f'    if [ -e "$STAGE_WORKDIR" ] && [ ! -e "$STAGE_WORKDIR"/{q(layout.ISOLATED_MARKER)} ]; then',
                f"        STAGE_PROBLEM={q(foreign)}; return 1",
                "    fi",
                '    rm -rf "$STAGE_WORKDIR" && mkdir -p "$STAGE_WORKDIR" \\',
                f'        && printf "%s\\n" {q("working directory of " + run.label)} \\',
                f'            >"$STAGE_WORKDIR"/{q(layout.ISOLATED_MARKER)} \\',
                '        || { STAGE_FAILED="cannot make the working directory $STAGE_WORKDIR on $STAGE_HOST"; '
                "return 2; }",
            ]
        )
    else:
        prepare = (
            '    mkdir -p "$STAGE_WORKDIR" 2>/dev/null'
            ' || { STAGE_FAILED="cannot make the working directory $STAGE_WORKDIR on $STAGE_HOST"; return 2; }'
        )
    place = "    :"
    if run.audit_text is not None:
        place = "\n".join(
            [
                '    stage_tmp=".audit.config.mlperf-compliance.$$"',
                f'    if printf "%s" {q(run.audit_text)} >"$stage_tmp" && mv -f "$stage_tmp" {q(AUDIT_CONFIG)}; then',
                "        STAGE_PLACED=1",
                "    else",
                '        rm -f "$stage_tmp"',
                f'        STAGE_FAILED="cannot write $STAGE_WORKDIR/{AUDIT_CONFIG} on $STAGE_HOST"; return 2',
                "    fi",
            ]
        )
    replaced = (
        f"the command replaced the staged audit.config with its own, and left it in {run.workdir}: "
        "remove it before any submission run there"
    )
    return "\n".join(
        [
            "# -- staging: the rules of compliance/pipeline/staging.py, as shell (staging.job_shell) --",
            f"STAGE_WORKDIR={q(workdir)}",
            f"STAGE_RECORD={q(os.path.abspath(_record_path(run)))}",
            f"STAGE_OURS={q(ours)}",
            "STAGE_HOST=${STAGE_HOST:-$(hostname)}  # the node, in messages",
            "STAGE_PROBLEM= STAGE_FAILED= STAGE_AFTERMATH= STAGE_PLACED= STAGE_AUDIT=none",
            'stage_sha() { sha256sum <"$1" 2>/dev/null | cut -d" " -f1; }',
            "stage_in() {",
            prepare,
            '    cd "$STAGE_WORKDIR" \\',
            '        || { STAGE_FAILED="cannot enter the working directory $STAGE_WORKDIR on $STAGE_HOST"; return 2; }',
            f"    if [ -f {q(AUDIT_CONFIG)} ]; then  # clear_stale: a file holding a text we recorded placing here",
            f"        stage_old=$(stage_sha {q(AUDIT_CONFIG)})",
            '        if [ -n "$stage_old" ] && grep -qF "$stage_old" "$STAGE_RECORD" 2>/dev/null; then',
            f"            rm -f {q(AUDIT_CONFIG)} \\",
            f'                && echo "  removed $STAGE_WORKDIR/{AUDIT_CONFIG}, left by an interrupted run"',
            "        fi",
            "    fi",
            *refusals,
            place,
            "    return 0",
            "}",
            "stage_out() {",
            '    [ -n "$STAGE_PLACED" ] || { STAGE_AUDIT=none; return 0; }',
            f'    stage_file="$STAGE_WORKDIR"/{q(AUDIT_CONFIG)}',
            '    if [ ! -e "$stage_file" ]; then STAGE_AUDIT=absent',
            '    elif [ "$(stage_sha "$stage_file")" = "$STAGE_OURS" ]; then',
            '        rm -f "$stage_file" && STAGE_AUDIT=removed',
            f"    else STAGE_AUDIT=replaced; STAGE_AFTERMATH={q(replaced)}",
            "    fi",
            "}",
            "",
        ]
    )
