"""A killed doit loses nothing that finished, and no run ever overlaps another of its working directory.

The cells are TEST06 cells (no performance comparison), so their verdicts do not depend on the machine's load. Each
run of a harness that writes honest TEST06 logs (tests/helpers/harness.py: what is tested here is doit, not LoadGen)
goes through a recorder that appends its start, its end and its pid to a file.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from compliance.pipeline import process, procs
from compliance.records import RunRecord
from tests.helpers import harness as h
from tests.helpers.projects import audit_configs, doit, make_project, system_yaml

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="process groups and /proc are Linux facts here")

RECORD = """import os, subprocess, sys, time
start = time.time()
with open(sys.argv[1], "a") as f:
    f.write(f"start {sys.argv[2]} {start} {os.getpid()}\\n")
code = subprocess.call(sys.argv[3:])
with open(sys.argv[1], "a") as f:
    f.write(f"end {sys.argv[2]} {time.time()} {os.getpid()}\\n")
sys.exit(code)
"""
CELLS = [
    ("llama2-70b-99", "Offline"),
    ("llama2-70b-99", "Server"),
    ("mixtral-8x7b", "Offline"),
    ("mixtral-8x7b", "Server"),
]


def _project(root: Path, name: str = "box", workdir: str | None = None, demo: str | None = None) -> tuple[Path, Path]:
    demo = demo or h.test06_harness(root)
    record = root / "record.py"
    record.write_text(RECORD)
    times = root / f"{name}.times"
    command = f"{{python}} {record} {times} {{benchmark}}/{{scenario}}/{{mode}}/{{test}} " + demo
    spec = {"scenarios": ["Offline", "Server"], "command": command}
    if workdir is not None:
        spec["workdir"] = workdir
    project = make_project(
        root / name, {name: system_yaml(name, "v5.0", {"llama2-70b-99": spec, "mixtral-8x7b": dict(spec)})}
    )
    return project, times


def _spans(times: Path) -> dict[int, list]:
    """pid -> [label, start, end or None] for every recorded run."""
    found: dict[int, list] = {}
    if not times.exists():
        return found
    for line in times.read_text().splitlines():
        kind, label, when, pid = line.split()
        if kind == "start":
            found[int(pid)] = [label, float(when), None]
        elif int(pid) in found:
            found[int(pid)][2] = float(when)
    return found


def _no_overlap(spans: dict[int, list], now: float) -> None:
    ordered = sorted((start, end or now, label) for label, start, end in spans.values())
    for (_, end, first), (start, _, second) in zip(ordered, ordered[1:], strict=False):
        assert start >= end, f"{second} started before {first} ended"


def _passed(project: Path, name: str = "box") -> dict[str, bool]:
    found = {}
    for bench, scenario in CELLS:
        record = RunRecord.load(str(project / f"build/{name}/{bench}/{scenario}/TEST06/run.json"))
        found[f"{bench}/{scenario}"] = record is not None and record.passed
    return found


#: the k-th task start at which doit is killed: the 12 tasks are 4 runs (1-4), 4 verifications (5-8), 4 copies
#: (9-12): during the first run and the last, the first verification, the first copy and a later one; None: after the
#: last task
MOMENTS = [1, 4, 5, 9, 11, None]


@pytest.mark.parametrize("moment", MOMENTS, ids=[f"task-{m}" if m else "after-the-last" for m in MOMENTS])
def test_sigkill_of_doit_at_any_moment_loses_no_finished_run(tmp_path: Path, moment: int | None) -> None:
    """Kill doit as it starts its k-th task (runs, verifications, copies), or once it is done, then run doit."""
    project, times = _project(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "doit"], cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    seen = 0
    for line in proc.stdout:
        if moment is not None and line.startswith("[") and line.rstrip().endswith("..."):
            seen += 1
            if seen == moment:
                break
    if moment is None:
        proc.wait(timeout=120)
    proc.kill()  # doit only: its guard ends what it started (test_a_killed_doit_leaves_nothing_running)
    proc.wait(timeout=30)
    finished = {label for label, ok in _passed(project).items() if ok}
    before = {pid for pid, (label, _, end) in _spans(times).items()}
    again = doit(project)
    assert again.returncode == 0, again.stdout[-3000:]
    spans = _spans(times)
    redone = [
        label
        for pid, (label, _, _) in spans.items()
        if pid not in before and "/".join(label.split("/")[:2]) in finished and label.endswith("TEST06")
    ]
    assert redone == [], f"finished runs were redone: {redone}"
    _no_overlap(spans, time.time())
    assert all(_passed(project).values())
    verdicts = [
        json.loads((project / f"build/box/{b}/{s}/TEST06/verify/TEST06/verify.json").read_text())["verdict"]
        for b, s in CELLS
    ]
    assert verdicts == ["PASS"] * 4
    assert audit_configs(project) == []


DAEMON = "setsid sh -c 'echo $$ > {pidfile}; exec sleep 300' & "  # a process that leaves the run's session


def _guards_of(pid: int) -> list[int]:
    """The guard processes (compliance/pipeline/guard.py) doit ``pid`` started."""
    found = []
    for p in procs.processes():
        if p.parent != pid:
            continue
        try:
            cmdline = Path(f"/proc/{p.pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"guard.py" in cmdline:
            found.append(p.pid)
    return found


def _wait_for_file(path: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not (path.exists() and path.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.exists(), f"{path} did not appear"


def _alive(pid: int) -> bool:
    return any(p.pid == pid and p.state != "Z" for p in procs.processes())


def test_a_killed_doit_leaves_nothing_running(tmp_path: Path) -> None:
    """SIGKILL to doit: its guard ends the benchmark and everything it started (a daemon in a session of its
    own included) within the grace periods; the next doit runs everything cleanly."""
    pidfile = tmp_path / "daemon.pid"
    project, times = _project(
        tmp_path, demo=DAEMON.format(pidfile=pidfile) + "sleep 300; " + h.test06_harness(tmp_path)
    )
    proc = subprocess.Popen([sys.executable, "-m", "doit"], cwd=project, stdout=subprocess.DEVNULL)
    _wait_for_file(pidfile)
    daemon = int(pidfile.read_text())
    proc.kill()
    proc.wait(timeout=30)
    deadline = time.monotonic() + 4 * process.GRACE_S
    while _alive(daemon) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(daemon), "a daemon of the killed run is still running"
    assert not [pid for pid, (_, _, end) in _spans(times).items() if end is None and _alive(pid)]


def test_an_orphan_of_a_killed_doit_and_guard_is_waited_for(tmp_path: Path) -> None:
    """doit and its guard both SIGKILLed: the benchmark's child (it did not inherit the lock descriptors) outlives
    them; the next doit waits for it (it is in the run's recorded session), and says so, and never overlaps it."""
    slow_once = f"if mkdir {tmp_path / 'slow-once'} 2>/dev/null; then sleep 3; fi"  # the first run only
    project, times = _project(tmp_path, demo=f'sh -c \'{slow_once}; exec "$0" "$@"\' ' + h.test06_harness(tmp_path))
    proc = subprocess.Popen(
        [sys.executable, "-m", "doit"], cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while not _spans(times) and time.monotonic() < deadline:
        time.sleep(0.05)
    guards = _guards_of(proc.pid)
    assert guards
    # both die at once: stopped first, so that neither can act on the other's death (the guard ends the
    # benchmark's processes when doit dies: on a busy machine it did so before a SIGKILL sent it just after doit's)
    for pid in (proc.pid, *guards):
        os.kill(pid, signal.SIGSTOP)
    for pid in (proc.pid, *guards):
        os.kill(pid, signal.SIGKILL)
    proc.wait(timeout=30)
    again = doit(project)
    assert again.returncode == 0, again.stdout[-3000:]
    assert "waiting for the" in again.stderr  # said at once (not captured): a lock still held, or its session
    _no_overlap(_spans(times), time.time())
    assert audit_configs(project) == []


def test_two_copies_of_a_project_sharing_a_working_directory_never_overlap(tmp_path: Path) -> None:
    shared = tmp_path / "shared-work"
    first, times_a = _project(tmp_path, "alpha", workdir=str(shared))
    second, times_b = _project(tmp_path, "beta", workdir=str(shared))
    env = {**os.environ}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "doit"], cwd=p, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        for p in (first, second)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    spans = {**_spans(times_a), **_spans(times_b)}
    assert len(spans) == 8
    _no_overlap(spans, time.time())
    assert not list(shared.glob("audit.conf*"))


def test_ctrl_c_and_sigterm_print_one_line(tmp_path: Path) -> None:
    project, _ = _project(tmp_path, demo="sleep 30")
    for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        proc = subprocess.Popen(
            [sys.executable, "-m", "doit"], cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 30
        while not list((project / "work").rglob("audit.config")) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == code, (out, err)
        assert "Traceback" not in out + err
        assert (
            f"interrupted by {sig.name} during run box/llama2-70b-99/Offline/TEST06; its audit.config was removed"
            in err
        ), err
        assert "1 interrupted" in out
        assert audit_configs(project) == []
        assert not (project / "build/box/llama2-70b-99/Offline/TEST06/logs/.run.signature").exists()
