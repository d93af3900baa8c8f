"""Run locks on a shared machine: a second user runs the pipeline after root has run it (the locks root's run left
are usable by everyone, and still keep runs of one system apart), and a lock that cannot be taken is one clear
line on the console and a FAIL with its reason in the summary.

The second user is made for the test when the tests run as root (``useradd``), as in CI; without root the test
skips, saying why. It runs the same interpreter with ``setpriv``; pytest's temporary folder is private to root
(0700), so the user gets CAP_DAC_READ_SEARCH (it may read and traverse folders, never write what is not its own):
what decides here, opening and creating lock files, is writing.
"""

from __future__ import annotations

import fcntl
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from compliance.pipeline import locks
from tests.helpers.projects import DEMO, make_project, summary_rows, system_yaml

USER = "mlperf-compliance-test"
CELL = "demo/llama2-70b-99/Offline/TEST06"


def _spec(workdir: Path) -> str:
    return system_yaml("demo", "v5.0", {"llama2-70b-99": {"scenarios": ["Offline"], "workdir": str(workdir)}})


def _second_user() -> tuple[int, int]:
    """(uid, gid) of the test's second user, made when absent; skips when that cannot be."""
    if os.geteuid() != 0:
        pytest.skip("running as a second user needs root (to make the user and switch to it); CI runs as root")
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed: no way to run a command as the second user")
    try:
        entry = pwd.getpwnam(USER)
    except KeyError:
        made = subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER],
            capture_output=True,
            text=True,
        )
        if made.returncode != 0:
            pytest.skip(f"cannot make the test user {USER}: {made.stderr.strip()}")
        entry = pwd.getpwnam(USER)
    return entry.pw_uid, entry.pw_gid


def _as_user(uid: int, gid: int, args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [
        "setpriv",
        f"--reuid={uid}",
        f"--regid={gid}",
        "--clear-groups",
        "--inh-caps=+dac_read_search",
        "--ambient-caps=+dac_read_search",
        *args,
    ]
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    print(result.stdout[-5000:], result.stderr[-3000:])
    return result


def _chown_tree(root: Path, uid: int, gid: int) -> None:
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            os.chown(os.path.join(folder, name), uid, gid, follow_symlinks=False)
    os.chown(root, uid, gid)


def test_a_second_user_runs_after_root_and_runs_of_one_system_stay_apart(tmp_path: Path) -> None:
    pytest.importorskip("mlperf_loadgen")
    uid, gid = _second_user()
    shared = tmp_path / "shared"
    work, lock_dir = shared / "work", shared / "locks"
    work.mkdir(parents=True)
    os.chmod(shared, 0o755)
    os.chmod(work, 0o777)  # the harness folder both users run in
    env = {**os.environ, locks.ENV: str(lock_dir)}

    mine = make_project(tmp_path / "root-project", {"demo": _spec(work)})
    first = subprocess.run([sys.executable, "-m", "doit"], cwd=mine, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stdout[-3000:]
    assert stat.S_IMODE(lock_dir.stat().st_mode) == 0o1777
    made = sorted(lock_dir.iterdir())
    assert [p.name for p in made][0] == "system-demo.lock" and len(made) == 2
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o666 and p.stat().st_uid == 0 for p in made)
    # a lock file an older release made (0644, root's): the second user can only read it, and flock needs no more
    os.chmod(made[1], 0o644)

    theirs = make_project(tmp_path / "user-project", {"demo": _spec(work)})
    _chown_tree(theirs, uid, gid)
    result = _as_user(uid, gid, [sys.executable, "-m", "doit"], theirs, {**env, "HOME": str(theirs)})
    assert result.returncode == 0, "the second user's run failed"
    assert "PermissionError" not in result.stdout + result.stderr
    assert json.loads((theirs / "build" / CELL / "run.json").read_text())["status"] == "PASS"

    # the same lock keeps the two users' runs of system demo apart: held by root, the user's run waits for it
    held = locks.open_lock(str(lock_dir / "system-demo.lock"))
    fcntl.flock(held, fcntl.LOCK_EX)
    try:
        probe = _as_user(
            uid,
            gid,
            [sys.executable, "-c", "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); "
             "fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)", str(lock_dir / "system-demo.lock")],
            theirs,
            env,
        )  # fmt: skip
    finally:
        os.close(held)
    assert probe.returncode != 0 and "BlockingIOError" in probe.stderr


def test_a_lock_folder_the_user_cannot_write_fails_the_run_with_one_line(tmp_path: Path) -> None:
    """A lock folder another user made private (0755): the second user's run fails with the reason, on the
    console and in the summary, and never ran."""
    pytest.importorskip("mlperf_loadgen")
    uid, gid = _second_user()
    lock_dir = tmp_path / "private-locks"
    lock_dir.mkdir(mode=0o755)
    os.chmod(lock_dir, 0o755)
    project = make_project(tmp_path / "user-project", {"demo": _spec(tmp_path / "user-project" / "work")})
    _chown_tree(project, uid, gid)
    env = {**os.environ, locks.ENV: str(lock_dir), "HOME": str(project)}
    result = _as_user(uid, gid, [sys.executable, "-m", "doit", f"run:{CELL}"], project, env)
    assert result.returncode == 1
    line = f"error: run {CELL}: cannot create the lock file {lock_dir}/system-demo.lock: Permission denied"
    assert line in result.stdout and f"'chmod 1777 {lock_dir}'" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr and result.stdout.count(line) == 1
    assert not (project / "build" / CELL / "run.log").exists()  # nothing ran
    [row] = [r for r in summary_rows(project) if r.get("test") == "TEST06"]
    assert "FAIL" in json.dumps(row) and "cannot create the lock file" in json.dumps(row)


def test_a_lock_folder_that_cannot_be_made_fails_the_run_with_one_line(tmp_path: Path) -> None:
    """Also as root: the lock folder's place is a file."""
    pytest.importorskip("mlperf_loadgen")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    project = make_project(tmp_path / "p", {"demo": _spec(tmp_path / "p" / "work")})
    env = {**os.environ, locks.ENV: str(blocker / "locks")}
    result = subprocess.run(
        [sys.executable, "-m", "doit", f"run:{CELL}"], cwd=project, env=env, capture_output=True, text=True
    )
    print(result.stdout, result.stderr)
    assert result.returncode == 1
    assert f"error: run {CELL}: cannot make the lock folder {blocker}/locks: Not a directory" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert DEMO  # the demo harness never started: its log would be there
    assert not (project / "build" / CELL / "logs" / "mlperf_log_detail.txt").exists()
