"""What the machine refuses, as doit meets it (issue 24 item 4): a project path longer than SQLite opens, a full disk
under doit's database, a full disk while a step writes. Each is one ``error:`` line naming the file, never a
traceback; nothing committed is lost, and a failed write is never taken for a verdict. doit runs in this process on
a project whose harness copies written logs (tests/helpers/harness.py); the disk is made full by a stand-in for
SQLite's connection or for the writes (the same on a real full disk: tests/integration/test_reliability.py)."""

from __future__ import annotations

import errno
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
from doit.dependency import SqliteDB

from compliance.pipeline import backend
from compliance.verify import output
from tests.helpers import harness as h
from tests.helpers.paths import write_tree
from tests.helpers.projects import doit, executed, make_project, summary_rows, tool

CELL = "box/retinanet/Offline/TEST01"
SYSTEM = (
    "name: box\nround: v5.0\ndivision: closed\nsubmitter: Acme\nsubmission_dir: submission\n"
    "upload: {performance_rules: false}\n"  # a harness of written logs, with LoadGen's default seeds
    "benchmarks:\n  retinanet:\n    scenarios: [Offline]\n    workdir: work\n"
    "    command: '{python} ../harness.py {log_dir} calls/box'\n    results: results/{scenario}\n"
)


def _project(root: Path) -> Path:
    """A project of one TEST01 cell whose harness writes honest logs at once."""
    make_project(root, {"box": SYSTEM})
    write_tree(
        root,
        {
            "harness.py": h.SCRIPT,
            "work": {},
            "attempts": {"box": {"1": h.compliance_logs()}},
            "results": {"Offline": h.results()},
        },
    )
    return root


def _calls(project: Path) -> int:
    folder = project / "work" / "calls" / "box"
    return len(os.listdir(folder)) if folder.is_dir() else 0


def _statuses(project: Path) -> list[str]:
    """The status of the cell in the summary (the system's review row left out)."""
    return [r["status"] for r in summary_rows(project) if r.get("test") == "TEST01"]


def _one_error(text: str) -> list[str]:
    assert "Traceback" not in text, text
    return [line for line in text.splitlines() if line.startswith("error: ")]


def test_a_project_path_longer_than_sqlite_opens_is_one_line(tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*["d" * 60] * 8)  # with build/.doit.db, over SQLite's 504 bytes
    project = _project(deep)
    length = len(os.fsencode(os.path.abspath(project / "build" / ".doit.db")))
    assert length > backend.SQLITE_LONGEST_PATH
    for args in ((), ("list",), ("info", f"run:{CELL}")):
        done = doit(project, *args)
        assert done.returncode == 2
        assert _one_error(done.stderr + done.stdout) == [
            f"error: build/.doit.db: cannot be opened: its path is {length} bytes long, SQLite opens none longer "
            f"than {backend.SQLITE_LONGEST_PATH}: move the project to a shorter path"
        ]
    assert _calls(project) == 0  # nothing ran without its database


class _FillsUp:
    """SQLite's connection on a disk that fills up once ``full[0]`` is set: commits succeed until the task named
    ``full[0]`` has had its values committed, then every one fails as SQLite's does on a full disk."""

    def __init__(self, connection: sqlite3.Connection, full: list[str]):
        self.connection = connection
        self.full = full
        self.task = ""
        self.seen = False

    def execute(self, *args: Any) -> Any:
        if len(args) > 1 and args[1]:
            self.task = str(args[1][0])  # doit's insert: (task id, its values)
        return self.connection.execute(*args)

    def commit(self) -> None:
        if self.full[0] and self.task == self.full[0]:
            self.seen = True
        elif self.full[0] and self.seen:
            raise sqlite3.OperationalError("database or disk is full")
        self.connection.commit()

    def close(self) -> None:
        self.connection.close()


def test_a_full_disk_under_doits_database_is_one_line_and_loses_nothing_committed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project(tmp_path / "p")
    full = [f"run:{CELL}"]  # the run's values are committed, then the disk is full
    monkeypatch.setattr(
        backend.PerTaskSqliteDB, "_sqlite3", lambda self, name: _FillsUp(SqliteDB._sqlite3(self, name), full)
    )
    real_statvfs = os.statvfs

    class Full:
        f_bavail, f_frsize = 0, 4096

    monkeypatch.setattr(os, "statvfs", lambda path: Full())
    done = doit(project)
    assert done.returncode == 2
    assert _one_error(done.stderr + done.stdout) == [
        "error: build/.doit.db: cannot be written: no space left on the device (0 bytes free; SQLite said: "
        "database or disk is full)"
    ]
    assert _calls(project) == 1
    monkeypatch.setattr(os, "statvfs", real_statvfs)
    full[0] = ""  # space is made: the next doit finishes the work without running the benchmark again
    again = doit(project)
    assert again.returncode == 0 and _calls(project) == 1
    assert f"run:{CELL}" not in executed(again)
    assert _statuses(project) == ["PASS"]
    assert executed(doit(project)) == set()


def test_a_full_disk_in_a_step_is_one_line_and_no_verdict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path / "p")
    real = output.replace_folder

    def full(target: Any, fill: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")  # as f.write says it: no file named

    monkeypatch.setattr(output, "replace_folder", full)
    done = doit(project)
    verify_dir = f"build/{CELL}/verify"
    assert done.returncode == 2  # as for a file the tool cannot use
    assert f"verify {CELL} ... FAILED" in done.stdout
    assert f"{verify_dir}: No space left on device" in done.stdout
    assert _one_error(done.stderr) == [f"error: {verify_dir}: No space left on device"]
    assert _statuses(project) != ["FAIL"]  # a full disk is no verdict
    monkeypatch.setattr(output, "replace_folder", real)
    again = doit(project)
    assert again.returncode == 0 and f"verify:{CELL}" in executed(again)
    assert _statuses(project) == ["PASS"] and _calls(project) == 1


def test_a_record_the_disk_has_no_room_for_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from compliance.records import io

    project = _project(tmp_path / "p")
    real = io.write_atomic

    def full(path: Any, text: str) -> None:
        if str(path).endswith("publish.json"):
            raise OSError(errno.EDQUOT, "Disk quota exceeded")
        real(path, text)

    monkeypatch.setattr(io, "write_atomic", full)
    done = doit(project)
    record = f"build/{CELL}/publish.json"
    assert done.returncode == 2
    assert f"publish {CELL} ... FAILED 0.0 s: {record}: Disk quota exceeded" in done.stdout
    assert _one_error(done.stderr) == [f"error: {record}: Disk quota exceeded"]
    monkeypatch.setattr(io, "write_atomic", real)
    assert doit(project).returncode == 0
    assert _statuses(project) == ["PASS"]


def test_a_command_the_disk_has_no_room_for_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from compliance.records import io

    project = _project(tmp_path / "p")
    assert doit(project).returncode == 0
    real = io.write_atomic

    def full(path: Any, text: str) -> None:
        if str(path).endswith(".rerun"):
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, text)

    monkeypatch.setattr(io, "write_atomic", full)
    done = tool(project, "rerun", "box")
    assert done.returncode == 2
    assert _one_error(done.stderr + done.stdout) == [f"error: build/{CELL}/run.rerun: No space left on device"]
    assert _calls(project) == 1  # nothing ran


def test_a_full_disk_while_the_verifier_works_is_no_verdict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # e.g. the scratch folder of an accuracy command on a full disk: a verdict "the verifier crashed" would stick
    from dataclasses import replace

    from compliance import records
    from compliance.pipeline import actions
    from compliance.pipeline.steps import Step, StepFailed
    from tests.helpers import pipeline as p

    monkeypatch.setattr(sys, "argv", ["doit"])
    cp = p.cell(p.plan(p.system("box", "v5.0", p.bench("resnet"))), "box/resnet/Offline/TEST04")
    for _, _, run in cp.needed_runs():
        p.ran(run)

    def full(request: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device", str(request.scratch_dir))

    done = Step(actions.verify)(replace(cp, verifier=replace(cp.verifier, verify=full)))
    assert isinstance(done, StepFailed) and done.message.endswith(": No space left on device")
    assert records.read_cell(cp).verification is None  # nothing recorded: the next doit verifies again
