"""The detail log (docs/rules.md §4.1): ``:::MLLOG {json}`` records.

The first value of a key wins (as the official parser); errors and warnings are collected from the metadata; lines
that are not records are skipped, but a first line that is not a record means the file is not a detail log.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compliance.logs import Lines, LogError
from compliance.logs.memo import memoized

AUDIT_WARNING = "Found Audit Config file"
#: records no reader needs, read past without being held: the loaded sample set, one number per sample (1.4 MB
#: for dlrm-v2, longer for rgat; docs/rules.md §4.1)
UNREAD_KEYS = frozenset({"loaded_qsl_set"})
_LOADGEN_HEAD = b':::MLLOG {"key": "'  # how LoadGen starts each record's line
_KEY = re.compile(rb':::MLLOG\s*\{\s*"key"\s*:\s*"([^"\\]{1,200})"')


@dataclass
class DetailLog:
    """The records of a ``mlperf_log_detail.txt``."""

    path: str
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[tuple[str, Any]] = field(default_factory=list)
    warnings: list[tuple[str, Any]] = field(default_factory=list)
    duplicate_keys: list[str] = field(default_factory=list)
    skipped_lines: int = 0
    #: records read past (:data:`UNREAD_KEYS`): key -> bytes
    unread: dict[str, int] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    @property
    def num_errors(self) -> int:
        """LoadGen's ``num_errors`` record when present, else the records flagged as errors."""
        value = self.values.get("num_errors")
        return value if isinstance(value, int) and not isinstance(value, bool) else len(self.errors)

    @property
    def scenario(self) -> str | None:
        """``effective_scenario`` when it is a name (anything else reads as unknown)."""
        value = self.values.get("effective_scenario")
        return value if isinstance(value, str) else None

    @property
    def audit_config_found(self) -> bool:
        """Whether LoadGen logged that it found an audit.config (docs/rules.md §1.3)."""
        return any(isinstance(v, str) and v.startswith(AUDIT_WARNING) for _, v in self.warnings)

    def error_messages(self, key: str | None = None) -> list[str]:
        return [str(v) for k, v in self.errors if key is None or k == key]


@memoized  # read once within a scope (review: compliance/logs/memo.py)
def read_detail(path: str | Path) -> DetailLog:
    """Read a detail log.

    Records of :data:`UNREAD_KEYS` are read past, never held (``unread`` says how many bytes each had).

    Raises:
        OSError: the file cannot be read.
        LogError: the file is empty, its first line is not a ``:::MLLOG`` record, or a line longer than
            :data:`compliance.logs.MAX_LINE` is not one of UNREAD_KEYS (the message names its key).
    """
    log = DetailLog(str(path))
    with open(path, "rb") as f:
        reader = Lines(f, str(path), record_key, UNREAD_KEYS, _LOADGEN_HEAD)
        for number, raw in reader:
            line = raw.decode("utf-8", errors="replace").strip()
            record = _record(line)
            if record is None:
                if number == 1:
                    raise LogError(f"{path}: line 1 is not a ':::MLLOG {{...}}' record; is this mlperf_log_detail.txt?")
                log.skipped_lines += 1
                continue
            key, value, meta = record
            if meta.get("is_error"):
                log.errors.append((key, value))
            if meta.get("is_warning"):
                log.warnings.append((key, value))
            if key in log.values:
                log.duplicate_keys.append(key)
            else:
                log.values[key] = value
        log.unread = reader.skipped
    if not log.values:
        raise LogError(f"{path}: empty file; LoadGen writes at least its version records")
    return log


_DECODER = json.JSONDecoder()


def record_key(head: bytes) -> str | None:
    """The key of a ``:::MLLOG`` record from the first bytes of its line (LoadGen writes ``"key"`` first)."""
    if head.startswith(_LOADGEN_HEAD):  # LoadGen's own layout, without a regex (called for every line)
        end = head.find(b'"', len(_LOADGEN_HEAD), len(_LOADGEN_HEAD) + 200)
        if end > 0 and b"\\" not in head[len(_LOADGEN_HEAD) : end]:
            return head[len(_LOADGEN_HEAD) : end].decode("utf-8", errors="replace")
    match = _KEY.match(head.lstrip())
    return match.group(1).decode("utf-8", errors="replace") if match else None


_HEAD = _LOADGEN_HEAD.decode()
_VALUE = '", "value": '
_REST = ', "time_ms": '


def _loadgen_record(line: str) -> tuple[str, Any, dict] | None:
    """A record in LoadGen's own layout (key, value, time_ms, namespace, event_type, metadata of flags and places),
    read without decoding what follows the value: its flags are found as text (three times as fast on a round's
    half-million records). None when the line is laid out otherwise (the general parser decides)."""
    end_key = line.find('"', len(_HEAD))
    if end_key < 0 or not line.startswith(_VALUE, end_key) or "\\" in line[len(_HEAD) : end_key]:
        return None
    try:
        value, end = _DECODER.raw_decode(line, end_key + len(_VALUE))
    except (ValueError, RecursionError):
        return None
    if not line.startswith(_REST, end) or not line.endswith("}}") or '"metadata": {' not in line[end:]:
        return None
    rest = line[end:]
    return (
        line[len(_HEAD) : end_key],
        value,
        {"is_error": '"is_error": true' in rest, "is_warning": '"is_warning": true' in rest},
    )


def _record(line: str) -> tuple[str, Any, dict] | None:
    """(key, value, metadata) of a record line, or None when the line is not a record."""
    if line.startswith(_HEAD):
        fast = _loadgen_record(line)
        if fast is not None:
            return fast
    return _general_record(line)


def _general_record(line: str) -> tuple[str, Any, dict] | None:
    if not line.startswith(":::MLLOG"):
        return None
    start = line.find("{", len(":::MLLOG"))
    if start < 0 or line[len(":::MLLOG") : start].strip():
        return None
    try:
        record, end = _DECODER.raw_decode(line, start)
    except (ValueError, RecursionError):  # not JSON, or nested beyond reason: not one of LoadGen's records
        return None
    if line[end:].strip():  # something after the record: not one of LoadGen's lines
        return None
    if not isinstance(record, dict) or not isinstance(record.get("key"), str):
        return None
    meta = record.get("metadata")
    return record["key"], record.get("value"), meta if isinstance(meta, dict) else {}
