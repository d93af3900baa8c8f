"""The summary log (docs/rules.md §4.2): ``key : value`` text lines."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from compliance.logs import LogError, lines
from compliance.logs.memo import memoized


@dataclass
class SummaryLog:
    """The ``key : value`` lines of a ``mlperf_log_summary.txt`` (first occurrence wins)."""

    path: str
    fields: dict[str, str] = field(default_factory=dict)

    def get(self, key: str) -> str | None:
        return self.fields.get(key)

    def find(self, pattern: str) -> tuple[str, str] | None:
        """The first ``(key, value)`` whose key matches the regex ``pattern`` (re.match)."""
        regex = re.compile(pattern)
        return next(((k, v) for k, v in self.fields.items() if regex.match(k)), None)


@memoized  # read once within a scope (review: compliance/logs/memo.py)
def read_summary(path: str | Path) -> SummaryLog:
    """Read a summary log. Raises OSError when it cannot be read, LogError when it has no ``key : value`` line."""
    log = SummaryLog(str(path))
    with open(path, "rb") as f:
        for _, raw in lines(f, str(path)):
            line = raw.decode("utf-8", errors="replace")
            if ":" not in line:
                continue
            key, value = line.split(":", 1)
            key = key.strip().lstrip("*").strip()
            if key and key not in log.fields:
                log.fields[key] = value.strip()
    if not log.fields:
        raise LogError(f"{path}: no 'key : value' lines; is this mlperf_log_summary.txt?")
    return log
