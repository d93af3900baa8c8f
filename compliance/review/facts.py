"""What review needs to know about each LoadGen log, read once: its digest and the few records its checks compare.

A detail or summary log is parsed by the same reader as every verifier's (:mod:`compliance.logs`), memoized within
the cell a worker reviews (:mod:`compliance.logs.memo`), so the verifications of the cell and review's own checks
share one parse; review keeps the records it compares (the run's settings in force, its identity, seeds, results,
the audit warning and errors) and the file's sha256. An accuracy log gives its size, entry count and whether the
submission tools truncated it. A :class:`FactCache` keeps each file's facts, so the per-folder checks and the
cross-folder checks (copies, run identity, seeds, target QPS) read every log once.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Any

from compliance.layout import ACCURACY, DETAIL, SUMMARY
from compliance.logs import LogError, detail, summary

BLOCK = 1 << 20
#: the records review keeps of a detail log (the run's settings in force, identity, results)
_WANTED_PREFIXES = ("effective_", "result_", "early_stopping_", "num_errors")
_WANTED_KEYS = {
    "loadgen_version",
    "test_datetime",
    "sut_name",
    "qsl_reported_total_count",
    "qsl_reported_performance_count",
    "requested_scenario",
    "requested_test_mode",
}
#: what the submission tools leave between the kept head and tail of a truncated accuracy log (review.md §2)
TRUNCATION_MARKERS = (b"\n\n...\n\n", b"\r\n\r\n...\r\n\r\n")


@dataclass
class FileFacts:
    """The facts of one file (a detail, summary or accuracy log)."""

    path: str
    kind: str  # detail, summary, accuracy
    size: int = 0
    digest: str = ""  # sha256 of the whole file, once asked for (:func:`same_bytes`)
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


def _wanted(key: str) -> bool:
    return key in _WANTED_KEYS or key.startswith(_WANTED_PREFIXES)


def _digest(path: str) -> tuple[str, int]:
    """sha256 and size of a file, read in blocks."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def digest(facts: FileFacts) -> str:
    """The file's sha256, read when first asked for (OSError when it cannot be read)."""
    if not facts.digest:
        facts.digest = _digest(facts.path)[0]
    return facts.digest


def same_bytes(a: FileFacts, b: FileFacts) -> bool:
    """Whether two logs are byte-identical: the same size, then the same sha256 (a file of a size no other log has
    is never hashed)."""
    return a.size == b.size and digest(a) == digest(b)


def read_detail(path: str) -> FileFacts:
    """The facts of a detail log: the records review compares, from the reader every verifier uses (memoized
    within a cell: :mod:`compliance.logs.memo`), and its size (OSError when it cannot be read)."""
    facts = FileFacts(path, "detail", size=os.path.getsize(path))
    try:
        log = detail.read_detail(path)
    except LogError as exc:
        facts.problem = str(exc).removeprefix(f"{path}: ")
        return facts
    facts.values = {k: v for k, v in log.values.items() if _wanted(k)}
    facts.errors = [f"{k}: {v}" for k, v in log.errors]
    facts.audit_warning = log.audit_config_found
    facts.skipped_long_lines = len(log.unread)
    if not facts.values:
        facts.problem = "no LoadGen record review reads"
    return facts


def read_summary(path: str) -> FileFacts:
    """The ``key : value`` lines of a summary log, from the summary reader (memoized within a cell), and its digest."""
    facts = FileFacts(path, "summary", size=os.path.getsize(path))
    try:
        facts.values = dict(summary.read_summary(path).fields)
    except LogError as exc:
        facts.problem = str(exc).removeprefix(f"{path}: ")
    return facts


def read_accuracy(path: str) -> FileFacts:
    """An accuracy log's size, entry count and truncation (read in blocks)."""
    facts = FileFacts(path, "accuracy", entries=0)
    tail = b""
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            facts.size += len(block)
            window = tail + block
            if not facts.truncated and any(m in window for m in TRUNCATION_MARKERS):
                facts.truncated = True
            assert facts.entries is not None
            facts.entries += window.count(b'"qsl_idx"') - tail.count(b'"qsl_idx"')
            tail = block[-16:]
    if not facts.size:
        facts.problem = "empty file"
    return facts


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
