"""The guard of one command: the process between doit and a command, which ends everything the command started.

:mod:`compliance.pipeline.process` starts it as ``python -I -S guard.py ARGS`` in a session of its own. It imports
only a few modules of the standard library (no ``subprocess``, no ``json``: it starts in a few milliseconds, and no
variable of the spec's environment changes it). The guard:

* is a child subreaper (Linux ``PR_SET_CHILD_SUBREAPER``): a process the command starts and leaves behind, even one
  that made a session of its own (``setsid``) or daemonised, becomes the guard's child when its parent ends;
* gets SIGTERM when its parent (doit) dies (``PR_SET_PDEATHSIG``), a SIGKILLed doit included; a SIGTERM (or
  SIGINT) from doit itself means "stop" (Ctrl-C, doit's own SIGTERM);
* runs the command with ``/bin/sh -c`` in a process group of its own, in the given folder, stdin closed, signals at
  their defaults, only the given descriptors inherited;
* stops it at its timeout, when asked, when the parent is gone, or when its output passes the limit (then the
  command's stdout and stderr come through a pipe that the guard copies, up to the limit, into its own stdout, the
  output file): SIGTERM to its group, SIGKILL after the grace period;
* then ends every process still there below it (SIGTERM, then SIGKILL), whichever way the command ended;
* reports on the status descriptor, one Python literal a line: ``{'pid': N}`` once the command started, then the
  end (``exit``: the status, negative for a signal; ``timed_out``, ``overflowed``, ``stopped``, ``left``: how many
  processes the command left, ``error``: why the command did not start).

Arguments: the folder, the timeout (s), the grace period (s), the output limit (bytes, or -1: the command writes to
the output file itself), the status descriptor, doit's pid, the descriptors to pass (comma-separated), ``--``, the
command, then ``NAME=VALUE`` for each variable added to the environment.
"""

from __future__ import annotations

import ctypes
import os
import select
import signal
import sys
import time

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
TICK_S = 0.05
CHUNK = 1 << 16


def _prctl(option: int, value: int) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the process group still applies
        pass


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


def _signal(pids: set[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def _exec(command: str, cwd: str, env: dict[str, str], out: int, keep: set[int], errors: int) -> None:
    """In the forked child: become the command (or write why not to ``errors`` and exit 127)."""
    try:
        os.setpgid(0, 0)
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # the guard gone (SIGKILLed itself): the command goes too
        signal.set_wakeup_fd(-1)
        for sig in signal.valid_signals():  # every one at its default, also one ignored before doit (su ignores QUIT)
            if sig not in (signal.SIGKILL, signal.SIGSTOP):
                try:
                    signal.signal(sig, signal.SIG_DFL)
                except (OSError, ValueError):  # one the system keeps (32, 33: the C library's own)
                    pass
        signal.pthread_sigmask(signal.SIG_SETMASK, set())
        os.chdir(cwd)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        for fd in keep:
            os.set_inheritable(fd, True)
        for name in os.listdir("/proc/self/fd"):
            fd = int(name)
            if fd > 2 and fd not in keep and fd != errors:
                try:
                    os.close(fd)
                except OSError:
                    pass
        os.execve("/bin/sh", ["/bin/sh", "-c", command], env)
    except OSError as exc:
        os.write(errors, (exc.strerror or str(exc)).encode("utf-8", "replace"))
    finally:
        os._exit(127)


class Guard:
    def __init__(self, argv: list[str]):
        split = argv.index("--")
        cwd, timeout, grace, limit, status_fd, parent, pass_fds = argv[1:split]
        self.cwd = cwd
        self.timeout = float(timeout)
        self.grace = float(grace)
        self.limit: int | None = int(limit) if int(limit) >= 0 else None
        self.status_fd = int(status_fd)
        self.parent = int(parent)
        self.pass_fds = {int(fd) for fd in pass_fds.split(",") if fd}
        self.command = argv[split + 1]
        self.env = {**os.environ, **dict(item.split("=", 1) for item in argv[split + 2 :])}
        self.stop_reason: str | None = None
        self.written = 0
        self.overflowed = False
        self.pid = 0
        self.returncode: int | None = None
        self.wakeup = -1

    def report(self, data: dict[str, object]) -> None:
        try:
            os.write(self.status_fd, (repr(data) + "\n").encode())
        except OSError:  # doit is gone: nobody reads it
            pass

    def on_signal(self, signum: int, frame: object) -> None:
        self.stop_reason = "parent" if os.getppid() != self.parent else "asked"

    def reap(self) -> None:
        """Collect every ended child (orphans come to us as the subreaper), the command's status kept."""
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == self.pid and self.returncode is None:
                self.returncode = os.waitstatus_to_exitcode(status)

    def poll(self) -> bool:
        """Whether the command has ended (its status then in ``returncode``)."""
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode is not None

    def start(self) -> int | None:
        """Start the command; the read end of its output pipe when the output is limited (else None)."""
        reader = writer = None
        if self.limit is not None:
            reader, writer = os.pipe()
        out = writer if writer is not None else sys.stdout.fileno()
        errors_r, errors_w = os.pipe()  # closed on exec: empty when the command started
        pid = os.fork()
        if pid == 0:
            _exec(self.command, self.cwd, self.env, out, self.pass_fds, errors_w)
        os.close(errors_w)
        if writer is not None:
            os.close(writer)
        why = b""
        while chunk := os.read(errors_r, 4096):
            why += chunk
        os.close(errors_r)
        self.pid = pid
        if why:
            os.waitpid(pid, 0)
            if reader is not None:
                os.close(reader)
            self.report({"error": f"cannot start the command in {self.cwd}: {why.decode('utf-8', 'replace')}"})
            self.pid = 0
            return None
        self.report({"pid": pid})
        return reader

    def copy(self, reader: int) -> bool:
        """Copy what the command printed (up to the limit) into the output; False at the end of its output."""
        try:
            data = os.read(reader, CHUNK)
        except BlockingIOError:
            return True
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

    def wait(self, reader: int | None, until: float) -> bool:
        """Wait for an event (the command's end, a signal, output) until ``until``; False at the end of output."""
        watched = [self.wakeup] + ([reader] if reader is not None else [])
        ready, _, _ = select.select(watched, [], [], max(0.0, min(until - time.monotonic(), 1.0)))
        if self.wakeup in ready:
            try:
                while os.read(self.wakeup, 512):
                    pass
            except BlockingIOError:
                pass
        if reader is not None and reader in ready:
            return self.copy(reader)
        return True

    def stop_group(self, reader: int | None) -> int | None:
        """SIGTERM to the command's group, SIGKILL after the grace period."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.pid, sig)
            except ProcessLookupError:
                return reader
            deadline = time.monotonic() + self.grace
            while not self.poll() and time.monotonic() < deadline:
                if not self.wait(reader, deadline) and reader is not None:
                    os.close(reader)
                    reader = None
            if self.returncode is not None:
                return reader
        return reader

    def end_leftovers(self) -> int:
        """End every process still below the guard (its group, and what left it); how many the command left (the
        guard's children then: an orphan's own children are counted with it)."""
        me = os.getpid()
        count = len(_descendants(me, depth=1))
        if not count:
            return 0
        try:
            os.killpg(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        left = _descendants(me)
        deadline = time.monotonic() + self.grace
        while left and time.monotonic() < deadline:
            _signal(left, signal.SIGTERM)
            time.sleep(TICK_S)
            self.reap()
            left = _descendants(me)
        for _ in range(50):  # SIGKILL what is still there; new ones may appear while a parent forks
            if not left:
                break
            _signal(left, signal.SIGKILL)
            time.sleep(TICK_S)
            self.reap()
            left = _descendants(me)
        self.reap()
        return count

    def run(self) -> None:
        if self.stop_reason is not None:  # doit is gone already: nothing to start
            self.report({"exit": None, "timed_out": False, "overflowed": False, "stopped": "parent", "left": 0})
            return
        reader = self.start()
        if not self.pid:
            return
        deadline = time.monotonic() + self.timeout
        timed_out = False
        while not self.poll():
            if self.stop_reason is None and time.monotonic() >= deadline:
                timed_out = True
                self.stop_reason = "timeout"
            if self.stop_reason is not None:
                reader = self.stop_group(reader)
                break
            if not self.wait(reader, deadline) and reader is not None:
                os.close(reader)
                reader = None
        left = self.end_leftovers()
        if reader is not None:  # what was printed before the end (every writer is gone now: bounded anyway)
            os.set_blocking(reader, False)
            drain_until = time.monotonic() + self.grace
            while not self.overflowed and time.monotonic() < drain_until and self.copy(reader):
                pass
            os.close(reader)
        self.report(
            {
                "exit": self.returncode,
                "timed_out": timed_out,
                "overflowed": self.overflowed,
                "stopped": self.stop_reason if self.stop_reason not in (None, "timeout", "overflow") else None,
                "left": left,
            }
        )


def main(argv: list[str]) -> int:
    guard = Guard(argv)
    wakeup_r, wakeup_w = os.pipe()
    os.set_blocking(wakeup_r, False)
    os.set_blocking(wakeup_w, False)
    guard.wakeup = wakeup_r
    signal.set_wakeup_fd(wakeup_w)  # a signal (the command's end, a stop) ends the wait at once
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, guard.on_signal)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != guard.parent:  # doit died before the line above
        guard.stop_reason = "parent"
    guard.run()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
