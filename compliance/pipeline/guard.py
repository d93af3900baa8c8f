"""The guard of one command: the process between doit and a command, which ends everything the command started.

:mod:`compliance.pipeline.process` starts it as ``python -I -S guard.py SPEC`` (standard library only, so it starts
fast and no variable of the spec's environment changes it) in a session of its own. The guard:

* is a child subreaper (Linux ``PR_SET_CHILD_SUBREAPER``): a process the command starts and leaves behind, even one
  that made a session of its own (``setsid``) or daemonised, becomes the guard's child when its parent ends;
* gets SIGTERM when its parent (doit) dies (``PR_SET_PDEATHSIG``), a SIGKILLed doit included; a SIGTERM from doit
  itself means "stop" (Ctrl-C, doit's own SIGTERM);
* runs the command with ``/bin/sh -c`` in a process group of its own, in the given folder, stdin closed;
* stops it at its timeout, when asked, when the parent is gone, or when its output passes the limit (then the
  command's stdout and stderr come through a pipe that the guard copies, up to the limit, into its own stdout, the
  output file): SIGTERM to its group, SIGKILL after the grace period;
* then ends every process still there below it (SIGTERM, then SIGKILL), whichever way the command ended;
* reports on the status descriptor, one JSON object a line: ``{"pid": N}`` once the command started, then the end
  (``exit``: the status, negative for a signal as subprocess gives it; ``timed_out``, ``overflowed``, ``stopped``,
  ``left``: how many processes it ended after the command, ``error``: why the command did not start).

The spec (JSON): ``command``, ``cwd``, ``env`` (added to the guard's environment), ``timeout_s``, ``grace_s``,
``limit`` (bytes of output, or null: the command writes to the output file itself), ``pass_fds`` (descriptors the
command inherits: the run locks), ``status_fd``, ``parent`` (doit's pid).
"""

from __future__ import annotations

import ctypes
import json
import os
import select
import signal
import subprocess
import sys
import time
from typing import Any

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
TICK_S = 0.05
CHUNK = 1 << 16


def _prctl(option: int, value: int) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the process group still applies
        pass


def _die_with_guard() -> None:  # in the command's process, between fork and exec
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _descendants(root: int, depth: int | None = None) -> set[int]:
    """The live processes below ``root`` (zombies excluded), from /proc; ``depth=1``: its children only."""
    parent: dict[int, int] = {}
    state: dict[int, str] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return set()
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        parent[int(entry)], state[int(entry)] = int(fields[1]), fields[0]
    found: set[int] = set()
    todo = [(root, 0)]
    while todo:
        here, level = todo.pop()
        if depth is not None and level >= depth:
            continue
        for pid, ppid in parent.items():
            if ppid == here and pid not in found:
                found.add(pid)
                todo.append((pid, level + 1))
    return {pid for pid in found if state.get(pid) != "Z"}


def _reap() -> None:
    """Collect every ended child (orphans come to us as the subreaper)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _signal(pids: set[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


class Guard:
    def __init__(self, spec: dict[str, Any]):
        self.spec = spec
        self.status_fd: int = spec["status_fd"]
        self.grace: float = float(spec["grace_s"])
        self.limit: int | None = spec["limit"]
        self.stop_reason: str | None = None
        self.proc: subprocess.Popen[bytes] | None = None
        self.written = 0
        self.overflowed = False

    def report(self, data: dict[str, Any]) -> None:
        try:
            os.write(self.status_fd, (json.dumps(data) + "\n").encode())
        except OSError:  # doit is gone: nobody reads it
            pass

    def on_sigterm(self, signum: int, frame: object) -> None:
        self.stop_reason = "parent" if os.getppid() != self.spec["parent"] else "asked"

    def start(self) -> tuple[subprocess.Popen[bytes] | None, int | None]:
        """Start the command; (its process, the read end of its output pipe when the output is limited)."""
        env = {**os.environ, **self.spec["env"]}
        reader = writer = None
        if self.limit is not None:
            reader, writer = os.pipe()
        out = writer if writer is not None else sys.stdout.fileno()
        try:
            proc = subprocess.Popen(
                ["/bin/sh", "-c", self.spec["command"]],
                cwd=self.spec["cwd"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                pass_fds=tuple(self.spec["pass_fds"]),
                process_group=0,
                preexec_fn=_die_with_guard,
            )
        except OSError as exc:
            self.report({"error": f"cannot start the command in {self.spec['cwd']}: {exc.strerror or exc}"})
            for fd in (reader, writer):
                if fd is not None:
                    os.close(fd)
            return None, None
        finally:
            if writer is not None:
                os.close(writer)
        self.report({"pid": proc.pid})
        return proc, reader

    def copy(self, reader: int, wait: float) -> bool:
        """Copy what the command printed (up to the limit) into the output; False at the end of its output."""
        ready, _, _ = select.select([reader], [], [], wait)
        if not ready:
            return True
        try:
            data = os.read(reader, CHUNK)
        except OSError:
            return False
        if not data:
            return False
        assert self.limit is not None
        room = self.limit - self.written
        if room > 0:
            os.write(sys.stdout.fileno(), data[:room])
        self.written += len(data)
        if self.written > self.limit and not self.overflowed:
            self.overflowed = True
            self.stop_reason = self.stop_reason or "overflow"
        return True

    def stop_group(self, proc: subprocess.Popen[bytes], reader: int | None) -> None:
        """SIGTERM to the command's group, SIGKILL after the grace period."""
        for sig, wait in ((signal.SIGTERM, self.grace), (signal.SIGKILL, self.grace)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + wait
            while proc.poll() is None and time.monotonic() < deadline:
                if reader is not None:
                    self.copy(reader, TICK_S)
                else:
                    time.sleep(TICK_S)
            if proc.poll() is not None:
                return

    def end_leftovers(self, proc: subprocess.Popen[bytes]) -> int:
        """End every process still below the guard (its group, and what left it); how many the command left (the
        guard's children then: an orphan's own children are counted with it)."""
        me = os.getpid()
        count = len(_descendants(me, depth=1))
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        left = _descendants(me)
        deadline = time.monotonic() + self.grace
        while left and time.monotonic() < deadline:
            _signal(left, signal.SIGTERM)
            time.sleep(TICK_S)
            _reap()
            left = _descendants(me)
        for _ in range(50):  # SIGKILL what is still there; new ones may appear while a parent forks
            if not left:
                break
            _signal(left, signal.SIGKILL)
            time.sleep(TICK_S)
            _reap()
            left = _descendants(me)
        _reap()
        return count

    def run(self) -> None:
        if self.stop_reason is not None:  # doit is gone already: nothing to start
            self.report({"exit": None, "timed_out": False, "overflowed": False, "stopped": "parent", "left": 0})
            return
        proc, reader = self.start()
        if proc is None:
            return
        deadline = time.monotonic() + float(self.spec["timeout_s"])
        timed_out = False
        open_output = reader is not None
        while proc.poll() is None:
            if self.stop_reason is None and time.monotonic() >= deadline:
                timed_out = True
                self.stop_reason = "timeout"
            if self.stop_reason is not None:
                self.stop_group(proc, reader if open_output else None)
                break
            if open_output and reader is not None:
                open_output = self.copy(reader, min(TICK_S, max(0.0, deadline - time.monotonic())))
            else:
                time.sleep(min(TICK_S, max(0.0, deadline - time.monotonic())))
        left = self.end_leftovers(proc)
        if reader is not None:  # what was printed before the end (every writer is gone now: bounded anyway)
            drain_until = time.monotonic() + self.grace
            while open_output and not self.overflowed and time.monotonic() < drain_until:
                open_output = self.copy(reader, TICK_S)
            os.close(reader)
        self.report(
            {
                "exit": proc.returncode,
                "timed_out": timed_out,
                "overflowed": self.overflowed,
                "stopped": self.stop_reason if self.stop_reason not in (None, "timeout", "overflow") else None,
                "left": left,
            }
        )


def main(argv: list[str]) -> int:
    spec = json.loads(argv[1])
    guard = Guard(spec)
    signal.signal(signal.SIGTERM, guard.on_sigterm)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches doit, which asks the guard to stop
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != spec["parent"]:  # doit died before the line above
        guard.stop_reason = "parent"
    guard.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
