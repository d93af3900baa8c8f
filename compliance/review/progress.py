"""Progress of a long review: a bar redrawn in place on a terminal, a line now and then otherwise."""

from __future__ import annotations

import time
from typing import TextIO


class Progress:
    """Reports ``done`` of ``total`` cells (and the folders in them) to ``out`` (stderr: the report owns stdout)."""

    WIDTH = 30

    def __init__(self, out: TextIO | None, total: int, every_s: float = 10.0, tty: bool | None = None):
        self.out = out
        self.total = total
        self.every_s = every_s
        self.tty = out.isatty() if tty is None and out is not None else bool(tty)
        self.start = time.monotonic()
        self.last = self.start
        self.shown = False

    def update(self, done: int, folders: int) -> None:
        if self.out is None:
            return
        now = time.monotonic()
        if self.tty:
            if now - self.last < 0.1 and done < self.total:
                return
            filled = int(self.WIDTH * done / self.total) if self.total else self.WIDTH
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            self.out.write(f"\rreview [{bar}] {done}/{self.total} cells, {folders} folders, {now - self.start:.1f} s")
            self.shown = True
        elif now - self.last >= self.every_s:
            self.out.write(f"review: {done}/{self.total} cells, {folders} folders, {now - self.start:.0f} s\n")
        else:
            return
        self.last = now
        self.out.flush()

    def close(self) -> None:
        if self.out is not None and self.tty and self.shown:
            self.out.write("\n")
            self.out.flush()
