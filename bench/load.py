"""Load that keeps the machine busy while a benchmark measures (``with Load(count, kind):``).

Two kinds of work compete differently for the CPU, and the demo must hold against both:

* ``spin``: ``count`` processes ``python3 -c 'while True: pass'``. CPU-bound: a thread that wakes from a sleep
  preempts them, since they are owed no CPU time.
* ``fork``: ``count`` shells that start short processes back to back (``while :; do /bin/true; done``), as a test
  suite or a build does. Their tasks sleep and wake as often as ours and are new, so they are owed CPU time as much
  as ours: a wake-up can wait out their time slices. This is what a shared CI machine does to a sleeping thread.
* ``mixed``: both, ``count`` of each.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

KINDS = ("spin", "fork", "mixed")


def commands(count: int, kind: str) -> list[list[str]]:
    spin = [[sys.executable, "-c", "while True: pass"]] * (count if kind in ("spin", "mixed") else 0)
    fork = [["sh", "-c", "while :; do /bin/true; done"]] * (count if kind in ("fork", "mixed") else 0)
    return spin + fork


def describe(count: int, kind: str) -> str:
    if not count:
        return "no load"
    what = {"spin": "busy loops", "fork": "shells starting short processes", "mixed": "busy loops and forking shells"}
    return f"{count} {what[kind]}" + (" each" if kind == "mixed" else "")


class Load:
    """The processes of :func:`commands`, for the duration of a ``with`` block."""

    def __init__(self, count: int, kind: str = "spin"):
        if kind not in KINDS:
            raise ValueError(f"unknown load kind {kind!r} (one of {', '.join(KINDS)})")
        self.count, self.kind = count, kind
        self.procs: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> Load:
        # a SIGTERM to the benchmark ends the block too (SystemExit), so that the load does not outlive it
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
        self.procs = [subprocess.Popen(c) for c in commands(self.count, self.kind)]
        time.sleep(0.3 if self.procs else 0)
        return self

    def __exit__(self, *exc: object) -> None:
        for p in self.procs:  # a shell's last short child ends by itself
            p.kill()
        for p in self.procs:
            p.wait()
