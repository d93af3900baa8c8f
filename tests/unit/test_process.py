"""The process runner (compliance.pipeline.process and its guard): what a command starts ends with it, whatever
happens to it or to the process that runs it; its time and output are bounded; only the pipeline starts processes."""

from __future__ import annotations

import ast
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from compliance.pipeline import process
from tests.helpers.paths import PROJECT

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="subreapers and /proc are Linux facts")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _pid(path: Path, seconds: float = 20) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return int(path.read_text())
        time.sleep(0.02)
    raise AssertionError(f"{path} was not written")


def _gone(pid: int, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def _run(tmp_path: Path, shell: str, timeout: float = 60, env: dict | None = None, **extra: Any) -> process.Ran:
    return process.run(process.Command(shell, str(tmp_path), env or {}, timeout, str(tmp_path / "out.txt"), **extra))


def test_exit_status_signal_and_output(tmp_path: Path) -> None:
    ran = _run(tmp_path, "echo hello; echo err >&2; exit 3", header="$ header\n")
    assert (ran.returncode, ran.timed_out, ran.left, ran.error) == (3, False, 0, None)
    assert (tmp_path / "out.txt").read_text() == "$ header\nhello\nerr\n"
    assert _run(tmp_path, "kill -9 $$").returncode == -9
    assert _run(tmp_path, "echo $X", env={"X": "from the spec"}).returncode == 0
    assert (tmp_path / "out.txt").read_text() == "from the spec\n"


def test_the_command_starts_with_every_signal_at_its_default(tmp_path: Path) -> None:
    """Nothing ignored or blocked is inherited from doit or the guard (Python ignores SIGPIPE; the guard handles
    SIGTERM, SIGINT, SIGHUP and SIGCHLD), nor from what started doit (``su`` and ``runuser`` ignore SIGQUIT)."""
    before = signal.signal(signal.SIGQUIT, signal.SIG_IGN)
    try:
        assert _run(tmp_path, "grep -E 'SigIgn|SigBlk' /proc/self/status").returncode == 0
    finally:
        signal.signal(signal.SIGQUIT, before)
    assert (tmp_path / "out.txt").read_text() == "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n"


def test_a_command_that_cannot_start_says_why(tmp_path: Path) -> None:
    ran = process.run(process.Command("true", str(tmp_path / "nowhere"), {}, 10, str(tmp_path / "out.txt")))
    assert ran.returncode is None and ran.error is not None
    assert ran.error.startswith(f"cannot start the command in {tmp_path / 'nowhere'}: No such file")


def test_the_timeout_stops_the_command_and_what_it_started(tmp_path: Path) -> None:
    start = time.monotonic()
    ran = _run(tmp_path, "sleep 60 & echo $! > child; sleep 60", timeout=0.5)
    assert ran.timed_out and ran.returncode == -signal.SIGTERM
    assert time.monotonic() - start < 10
    assert not _alive(_pid(tmp_path / "child"))


def test_output_past_the_limit_stops_the_command_and_is_cut(tmp_path: Path) -> None:
    start = time.monotonic()
    ran = _run(tmp_path, "yes 'a line printed without end'", output_limit=1 << 20)
    assert ran.overflowed and not ran.timed_out and ran.returncode is not None and ran.returncode < 0
    assert (tmp_path / "out.txt").stat().st_size == 1 << 20
    assert time.monotonic() - start < 10


def test_processes_that_leave_the_session_end_with_the_command(tmp_path: Path) -> None:
    """A daemon (setsid, double fork) is not in the command's group or session: the guard, its subreaper, ends it."""
    ran = _run(tmp_path, "setsid sh -c 'sh -c \"echo \\$\\$ > daemon; exec sleep 60\" &' ; sleep 0.3")
    assert ran.returncode == 0 and ran.left >= 1
    assert not _alive(_pid(tmp_path / "daemon"))


def test_descriptors_are_passed_to_the_command(tmp_path: Path) -> None:
    fd = os.open(tmp_path / "held", os.O_RDWR | os.O_CREAT)
    try:
        assert _run(tmp_path, f"echo inherited > /dev/fd/{fd}", pass_fds=(fd,)).returncode == 0
    finally:
        os.close(fd)
    assert (tmp_path / "held").read_text() == "inherited\n"


DRIVER = """
import sys
from compliance.pipeline import process
shell = "setsid sh -c 'echo $$ > daemon; exec sleep 60' & echo $! > child; exec sleep 60"
try:
    process.run(process.Command(shell, sys.argv[1], {}, 120, sys.argv[1] + "/out.txt"), started=print)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    raise SystemExit(130)
"""


@pytest.mark.parametrize("how", ["SIGKILL", "SIGINT"])
def test_a_killed_or_interrupted_runner_leaves_nothing_running(tmp_path: Path, how: str) -> None:
    """doit SIGKILLed (the guard gets SIGTERM when its parent dies) or Ctrl-C (doit asks the guard to stop): the
    command and its daemon end too."""
    driver = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(DRIVER), str(tmp_path)],
        cwd=PROJECT,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    daemon, child = _pid(tmp_path / "daemon"), _pid(tmp_path / "child")
    assert _alive(daemon) and _alive(child)
    driver.send_signal(getattr(signal, how))
    out, _ = driver.communicate(timeout=60)
    assert driver.returncode == (-9 if how == "SIGKILL" else 130), out
    assert _gone(daemon) and _gone(child)


FORBIDDEN_CALLS = {"fork", "forkpty", "system", "popen", "posix_spawn", "posix_spawnp", "execv", "execve", "execvp"}
#: modules outside the pipeline that start processes of this tool's own Python code (no command of the user's)
OWN_WORKERS = {"compliance/review/engine.py": "a pool of workers reviewing a round's folders in parallel"}


def test_only_the_pipeline_starts_processes() -> None:
    """docs/architecture.md: only compliance/pipeline starts processes (the demo is a harness, not the tool)."""
    found = []
    for path in sorted((PROJECT / "compliance").rglob("*.py")):
        relative = path.relative_to(PROJECT).as_posix()
        if relative.startswith(("compliance/pipeline/", "compliance/demo/")) or relative in OWN_WORKERS:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                if any(n.split(".")[0] in ("subprocess", "multiprocessing", "pty") for n in names):
                    found.append(f"{relative}:{node.lineno}: imports a process module")
            if (
                isinstance(node, ast.Attribute)
                and node.attr in FORBIDDEN_CALLS
                and getattr(node.value, "id", "") == "os"
            ):
                found.append(f"{relative}:{node.lineno}: os.{node.attr}")
    assert found == []
