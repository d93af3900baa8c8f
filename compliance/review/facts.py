"""What review needs to know about each LoadGen log, read once: its digest and the few records its checks compare.

A detail log is read in blocks: every byte goes into its digest, and only the records review compares are parsed
(the run's settings in force, its identity, seeds, results, the audit warning and errors); the records it does not
need, such as ``loaded_qsl_set`` (1.4 MB on one line for dlrm-v2: review.md §2), are skipped without being held.
A summary log gives its ``key : value`` lines, an accuracy log its size, entry count and whether the submission tools
truncated it. A :class:`FactCache` keeps each file's facts, so the per-folder checks and the cross-folder checks
(copies, run identity, seeds, target QPS) read every log once.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Any

from compliance.layout import ACCURACY, DETAIL, SUMMARY

BLOCK = 1 << 20
#: a record review needs is never this long; a longer line is skipped, and said to be (LoadGen's own are far shorter)
MAX_WANTED_LINE = 1 << 20
_PREFIX = b':::MLLOG {"key": "'
_WANTED_PREFIXES = (b"effective_", b"result_", b"early_stopping_", b"num_errors")
_WANTED_KEYS = {
    b"loadgen_version",
    b"test_datetime",
    b"sut_name",
    b"qsl_reported_total_count",
    b"qsl_reported_performance_count",
    b"requested_scenario",
    b"requested_test_mode",
}
_AUDIT_WARNING = "Found Audit Config file"
#: what the submission tools leave between the kept head and tail of a truncated accuracy log (review.md §2)
TRUNCATION_MARKERS = (b"\n\n...\n\n", b"\r\n\r\n...\r\n\r\n")


@dataclass
class FileFacts:
    """The facts of one file (a detail, summary or accuracy log)."""

    path: str
    kind: str  # detail, summary, accuracy
    size: int = 0
    digest: str = ""  # sha256 of the whole file
    values: dict[str, Any] = field(default_factory=dict)  # detail: records (first value wins); summary: fields
    errors: list[str] = field(default_factory=list)  # detail: LoadGen errors, "key: value"
    audit_warning: bool = False  # detail: LoadGen found an audit.config
    entries: int | None = None  # accuracy: "qsl_idx" keys counted (None: not counted)
    truncated: bool = False  # accuracy: cut by the submission tools
    problem: str = ""  # why the file is not what its name says ("" when it is)
    skipped_long_lines: int = 0  # detail: lines too long to be a record review needs, skipped

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    @property
    def seeds(self) -> tuple[Any, Any, Any] | None:
        """The three LoadGen seeds in force (detail logs), or None when one is not logged."""
        keys = ("effective_qsl_rng_seed", "effective_sample_index_rng_seed", "effective_schedule_rng_seed")
        values = tuple(self.values.get(k) for k in keys)
        return None if any(v is None for v in values) else (values[0], values[1], values[2])

    @property
    def scenario(self) -> str | None:
        value = self.values.get("effective_scenario") if self.kind == "detail" else self.values.get("Scenario")
        return value if isinstance(value, str) else None

    @property
    def identity(self) -> tuple[Any, ...] | None:
        """What makes a run that run: its start time and LoadGen build (detail logs), None when not logged."""
        start = self.values.get("test_datetime")
        return None if not start else (start, self.values.get("loadgen_version"), self.values.get("sut_name"))


def _wanted(key: bytes) -> bool:
    return key in _WANTED_KEYS or key.startswith(_WANTED_PREFIXES)


def _record(line: bytes, facts: FileFacts) -> None:
    """Parse one wanted record into ``facts`` (a line that is not JSON is left alone, as LoadGen's parsers do)."""
    try:
        record = json.loads(line[8:])
    except (ValueError, RecursionError):
        return
    if not isinstance(record, dict) or not isinstance(record.get("key"), str):
        return
    key, value = record["key"], record.get("value")
    facts.values.setdefault(key, value)


def _line(line: bytes, facts: FileFacts) -> None:
    if not line.startswith(_PREFIX):
        return
    end = line.find(b'"', len(_PREFIX))
    key = line[len(_PREFIX) : end]
    tail = line[-200:]
    if b'"is_error": true' in tail:
        try:
            record = json.loads(line[8:])
            facts.errors.append(f"{record.get('key')}: {record.get('value')}")
        except (ValueError, RecursionError):
            facts.errors.append(key.decode("utf-8", "replace"))
    if key == b"warning_generic_message" and _AUDIT_WARNING.encode() in line[:400]:
        facts.audit_warning = True
    elif _wanted(key):
        _record(line, facts)


def read_detail(path: str) -> FileFacts:
    """The facts of a detail log, read in blocks of bounded size (OSError when it cannot be read)."""
    facts = FileFacts(path, "detail")
    digest = hashlib.sha256()
    carry, skipping, first = b"", False, True
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            facts.size += len(block)
            digest.update(block)
            if skipping:
                newline = block.find(b"\n")
                if newline < 0:
                    continue
                block, skipping = block[newline + 1 :], False
            lines = (carry + block).split(b"\n")
            carry = lines.pop()
            if first and lines:
                first = False
                if not lines[0].lstrip(b"\xef\xbb\xbf").startswith(b":::MLLOG"):
                    facts.problem = "its first line is not a ':::MLLOG {...}' record"
            for line in lines:
                _line(line.rstrip(b"\r"), facts)
            if len(carry) > MAX_WANTED_LINE:  # a record review does not need (loaded_qsl_set): not held
                facts.skipped_long_lines += 1
                carry, skipping = b"", True
    if carry and not skipping:
        if first and not carry.startswith(b":::MLLOG"):
            facts.problem = "its first line is not a ':::MLLOG {...}' record"
        _line(carry.rstrip(b"\r"), facts)
    facts.digest = digest.hexdigest()
    if not facts.size:
        facts.problem = "empty file"
    elif not facts.values and not facts.problem:
        facts.problem = "no LoadGen record review reads"
    return facts


def read_summary(path: str) -> FileFacts:
    """The ``key : value`` lines of a summary log (first occurrence wins), as the summary reader takes them."""
    facts = FileFacts(path, "summary")
    with open(path, "rb") as f:
        data = f.read(16 * BLOCK)  # a summary is a few KB; more is not read (and said)
        rest = f.read(1)
    facts.size = len(data) + len(rest) + (os.path.getsize(path) - len(data) - len(rest) if rest else 0)
    facts.digest = hashlib.sha256(data).hexdigest() if not rest else _file_digest(path)
    for raw in data.decode("utf-8", "replace").splitlines():
        if ":" not in raw:
            continue
        key, value = raw.split(":", 1)
        key = key.strip().lstrip("*").strip()
        if key and key not in facts.values:
            facts.values[key] = value.strip()
    if not facts.values:
        facts.problem = "no 'key : value' line" if facts.size else "empty file"
    return facts


def read_accuracy(path: str) -> FileFacts:
    """An accuracy log's size, digest, entry count and truncation (read in blocks)."""
    facts = FileFacts(path, "accuracy", entries=0)
    digest = hashlib.sha256()
    tail = b""
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            facts.size += len(block)
            digest.update(block)
            window = tail + block
            if not facts.truncated and any(m in window for m in TRUNCATION_MARKERS):
                facts.truncated = True
            assert facts.entries is not None
            facts.entries += window.count(b'"qsl_idx"') - tail.count(b'"qsl_idx"')
            tail = block[-16:]
    facts.digest = digest.hexdigest()
    if not facts.size:
        facts.problem = "empty file"
    return facts


def _file_digest(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


READERS = {DETAIL: read_detail, SUMMARY: read_summary, ACCURACY: read_accuracy}


class FactCache:
    """Each file's facts, read at most once (a file that cannot be read gives facts with its problem)."""

    def __init__(self) -> None:
        self.facts: dict[str, FileFacts] = {}

    def get(self, path: str) -> FileFacts | None:
        """The facts of the log at ``path`` (its kind from its name), or None when there is no such file."""
        if path in self.facts:
            return self.facts[path]
        reader = READERS.get(os.path.basename(path))
        if reader is None or not os.path.isfile(path):
            return None
        try:
            facts = reader(path)
        except OSError as exc:
            kind = {DETAIL: "detail", SUMMARY: "summary"}.get(os.path.basename(path), "accuracy")
            facts = FileFacts(path, kind, problem=f"cannot be read ({exc.strerror or exc})")
        self.facts[path] = facts
        return facts
