"""The demo's simulated device (compliance/demo/device.py): its timeline, its completions, its real-time policy.

Timing is asserted only where a busy machine cannot change it: a completion is never reported before its deadline,
work is done in arrival order, and deadlines come from the timeline (arithmetic), not from when a thread woke up."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from compliance.demo import device, harness

T = TypeVar("T")


def test_deadlines_come_from_the_timeline_not_from_wake_ups() -> None:
    dev = device.Device(cpus=[])
    assert dev.reserve(1.0, arrival=10.0) == 11.0
    assert dev.reserve(1.0, arrival=10.5) == 12.0  # arrived while the device was busy: queued behind
    assert dev.reserve(0.5, arrival=20.0) == 20.5  # idle in between: starts on arrival


def test_run_reports_at_its_deadline_and_never_before() -> None:
    dev = device.Device(cpus=[])
    done: list[float] = []
    arrival = time.perf_counter()
    dev.run(0.01, arrival, lambda: done.append(time.perf_counter()))
    assert len(done) == 1 and done[0] >= arrival + 0.01


def test_work_whose_deadline_has_passed_is_reported_at_once() -> None:
    dev = device.Device(cpus=[])
    done: list[str] = []
    dev.run(0.0, time.perf_counter() - 1, lambda: done.append("cached"))
    assert done == ["cached"] and not dev._jobs


def test_waiters_report_submitted_work_in_order_each_at_or_after_its_deadline() -> None:
    done: list[tuple[int, float, float]] = []
    with device.Device(cpus=[None, None]) as dev:
        start = time.perf_counter()
        for i in range(20):
            due = dev.reserve(0, start)  # what submit() will book: read before, the same arithmetic
            dev.submit(0.002, start, lambda i=i, due=due: done.append((i, due + 0.002, time.perf_counter())))
        deadline = time.monotonic() + 30
        while len(done) < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert [i for i, _, _ in done] == list(range(20))
    assert all(at >= due for _, due, at in done)


def test_normal_priority_when_asked(monkeypatch) -> None:
    monkeypatch.setenv(device.REALTIME_ENV, "normal")
    assert _in_thread(device.realtime) is False


def test_a_refused_policy_is_explained(monkeypatch) -> None:
    def refuse(*_: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(device, "_refused", [])
    monkeypatch.setattr(os, "sched_setscheduler", refuse, raising=False)
    assert _in_thread(device.realtime) is False
    assert device.refusal() == "SCHED_FIFO refused: Operation not permitted"


def test_the_calling_thread_takes_sched_fifo_where_allowed_and_its_children_do_not() -> None:
    if not hasattr(os, "sched_setscheduler"):
        pytest.skip("this OS has no sched_setscheduler")
    probe = [sys.executable, "-c", "import os; print(os.sched_getscheduler(0))"]

    def take() -> tuple[bool, int, str]:
        taken = device.realtime()
        return taken, os.sched_getscheduler(0), subprocess.run(probe, capture_output=True, text=True).stdout.strip()

    taken, policy, child = _in_thread(take)
    if not taken:
        pytest.skip(f"real-time policy not allowed here ({device.refusal()})")
    assert policy == os.SCHED_FIFO | os.SCHED_RESET_ON_FORK
    assert child == str(os.SCHED_OTHER)  # a process it starts is ordinary again
    assert os.sched_getscheduler(0) == os.SCHED_OTHER  # and the test's own thread is left as it was


def test_no_cpu_latency_request_when_asked_for_normal_priority(monkeypatch) -> None:
    monkeypatch.setenv(device.REALTIME_ENV, "normal")
    assert device.hold_cpu_latency() is None


def test_a_refused_cpu_latency_request_is_explained(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(device, "_latency_refused", [])
    monkeypatch.setattr(device, "CPU_LATENCY_FILE", str(tmp_path / "absent"))
    assert device.hold_cpu_latency() is None
    assert device.latency_refusal() == f"{tmp_path / 'absent'}: No such file or directory"


def test_the_cpu_latency_request_holds_while_open() -> None:
    """Linux reports the strictest request in force when the file is read: 0 us while ours is open."""
    if not os.access(device.CPU_LATENCY_FILE, os.W_OK):
        pytest.skip(f"{device.CPU_LATENCY_FILE} is absent or not writable here (not Linux, or not root)")

    def in_force() -> int:
        with open(device.CPU_LATENCY_FILE, "rb") as f:
            return int.from_bytes(f.read(4), sys.byteorder, signed=True)

    fd = device.hold_cpu_latency()
    assert fd is not None
    try:
        assert in_force() == 0
    finally:
        os.close(fd)
    with device.Device(cpus=[], real_time=True) as dev:
        assert dev._latency is not None and in_force() == 0
    assert dev._latency is None


def test_the_harness_says_when_it_runs_at_normal_priority(tmp_path: Path) -> None:
    """A real run without the right to the real-time policy: it still completes, and says why on stderr."""
    pytest.importorskip("mlperf_loadgen")
    if not hasattr(os, "sched_setscheduler"):
        pytest.skip("this OS has no sched_setscheduler")
    command = harness.command("resnet", "Offline", "performance", "logs")
    if os.geteuid() == 0:  # root has CAP_SYS_NICE: take it away (setpriv, util-linux)
        if shutil.which("setpriv") is None:
            pytest.skip("as root the policy is always allowed, and setpriv is absent to drop CAP_SYS_NICE")
        done = subprocess.run(
            ["setpriv", "--inh-caps=-sys_nice", "--bounding-set=-sys_nice", *command],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
    else:
        done = subprocess.run(
            command,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_RTPRIO, (0, 0)),
        )
    assert done.returncode == 0, done.stderr
    refused = "demo: warning: the device's threads ran at normal priority (SCHED_FIFO refused: Operation not permitted)"
    assert refused in (done.stderr)
    assert (tmp_path / "logs" / "mlperf_log_detail.txt").is_file()


def _in_thread(fn: Callable[[], T]) -> T:
    """``fn()`` in a new thread (the policy is per thread, and a thread remembers that it asked)."""
    out: list[T] = []
    thread = threading.Thread(target=lambda: out.append(fn()))
    thread.start()
    thread.join()
    return out[0]
