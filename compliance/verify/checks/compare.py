"""TEST01's output comparison: each compliance-run entry against the accuracy run's entry of the same qsl_idx.

Memory stays bounded whatever the logs' size: the compliance log (a sample of the run, thousands of entries) is
scanned first and each entry kept as a summary (first element, length, text when short, file offset); the
reference accuracy log is then streamed with only the wanted qsl_idx parsed, and long outputs are compared chunk
by chunk against the compliance file at the recorded offset, in the same pass.

Two comparisons are made: the official one (the first element under the dtype; docs/rules.md §2.1) decides the verdict,
and a strict one over the full output bytes reports entries that differ later (a failure with ``strict``).

Either log may be truncated by the submission tools (docs/rules.md §4.3: every published accuracy log is): the whole
entries that survive are compared, and the counts say how many could not be (:attr:`Comparison.complete`).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from compliance.logs import LogError
from compliance.logs.accuracy import AccuracyLog, HexField
from compliance.verify import official

#: dtype name -> struct format of one element (little-endian, as LoadGen's hosts write them)
DTYPES = {
    "byte": "b",
    "int8": "b",
    "uint8": "B",
    "int16": "<h",
    "int32": "<i",
    "int64": "<q",
    "float16": "<e",
    "float32": "<f",
    "float64": "<d",
}


def first_element(data: HexField, dtype: str) -> Any:
    """The first element of ``data`` under ``dtype`` (None when empty). Raises ValueError naming the problem."""
    if data.problem:
        raise ValueError(data.problem)
    size = struct.calcsize(DTYPES[dtype])
    if data.n_bytes % size:
        raise ValueError(f"{data.n_bytes} bytes is not a whole number of {dtype} elements")
    if data.n_bytes == 0:
        return None
    return struct.unpack(DTYPES[dtype], data.first_bytes(size))[0]


@dataclass
class _Sample:
    """One compliance-log entry."""

    ordinal: int
    qsl_idx: int
    data: HexField
    problem: str | None = None
    first: Any = None
    differs: bool = False  # the full output differs from the accuracy run's


class _StreamCompare:
    """Compares a string arriving in chunks with a stretch of a file, in bounded memory."""

    def __init__(self, file: BinaryIO, offset: int, length: int):
        self.file, self.offset, self.length = file, offset, length
        self.pos = 0
        self.equal = True

    def __call__(self, chunk: bytes) -> None:
        if not self.equal:
            return
        if self.pos + len(chunk) > self.length:
            self.equal = False
            return
        self.file.seek(self.offset + self.pos)
        other = self.file.read(len(chunk))
        if other != chunk and other.upper() != chunk.upper():
            self.equal = False
        self.pos += len(chunk)

    @property
    def result(self) -> bool:
        return self.equal and self.pos == self.length


def _same(a: HexField, a_file: BinaryIO, b: HexField, b_file: BinaryIO) -> bool:
    """Whether two strings are the same hex (case-insensitive), reading long ones back in chunks."""
    if a.length != b.length:
        return False
    if a.text is not None and b.text is not None:
        return a.text == b.text or a.text.upper() == b.text.upper()
    compare = _StreamCompare(b_file, b.offset, b.length)
    for start in range(0, a.length, 1 << 20):
        a_file.seek(a.offset + start)
        compare(a_file.read(min(1 << 20, a.length - start)))
    return compare.result


@dataclass
class Comparison:
    """Counts and findings of the output comparison."""

    dtype: str
    compliance_entries: int = 0
    reference_entries: int = 0
    matched: int = 0
    missing: int = 0
    duplicate_keys: int = 0
    duplicate_mismatches: int = 0
    first_element_mismatches: int = 0
    strict_mismatches: int = 0  # same first element, different output
    invalid: int = 0
    reference_truncated: bool = False
    compliance_truncated: bool = False
    examples: list[str] = field(default_factory=list)
    official: tuple[str, str] = ("FAIL", "")

    def example(self, text: str) -> None:
        if len(self.examples) < 5:
            self.examples.append(text)

    @property
    def truncated(self) -> bool:
        return self.reference_truncated or self.compliance_truncated

    @property
    def complete(self) -> bool:
        """Whether every compliance entry was compared: no log truncated, or a truncated accuracy log that still
        holds every (whole) compliance entry's sample."""
        return not self.compliance_truncated and (not self.reference_truncated or self.missing == 0)


def compare(reference_path: str, compliance_path: str, dtype: str) -> Comparison:
    """Compare the compliance run's accuracy log with the accuracy run's.

    Raises:
        LogError: when a log cannot be read as an accuracy log (a truncated one can).
    """
    out = Comparison(dtype)
    samples, by_qsl = _read_compliance(compliance_path, dtype, out)
    with open(compliance_path, "rb") as comp_file, open(reference_path, "rb") as ref_file:
        firsts = _scan_reference(reference_path, by_qsl, comp_file, ref_file, out)
        _official(samples, firsts, dtype, out)
    return out


def _read_compliance(path: str, dtype: str, out: Comparison) -> tuple[list[_Sample], dict[int, list[_Sample]]]:
    samples: list[_Sample] = []
    by_qsl: dict[int, list[_Sample]] = {}
    log = AccuracyLog(path, check_all_hex=True)
    for entry in log:
        qsl, data = entry.qsl_idx, entry.fields.get("data")
        if not isinstance(qsl, int) or isinstance(qsl, bool):
            raise LogError(f"{path}: entry {entry.ordinal} has a qsl_idx that is not an integer ({qsl!r})")
        if not isinstance(data, HexField):
            raise LogError(f"{path}: entry {entry.ordinal} (qsl_idx {qsl}) has no 'data' string")
        sample = _Sample(entry.ordinal, qsl, data)
        try:
            sample.first = first_element(data, dtype)
        except ValueError as exc:
            sample.problem = str(exc)
        samples.append(sample)
        by_qsl.setdefault(qsl, []).append(sample)
    out.compliance_entries = log.entries
    out.compliance_truncated = log.truncated
    return samples, by_qsl


def _scan_reference(
    path: str, by_qsl: dict[int, list[_Sample]], comp_file: BinaryIO, ref_file: BinaryIO, out: Comparison
) -> dict[int, HexField]:
    """Stream the accuracy run's log; compare each wanted entry's output with the compliance entries'."""
    firsts: dict[int, HexField] = {}
    pending: dict[int, tuple[dict, list[tuple[_Sample | None, _StreamCompare]]]] = {}

    def sink_factory(fields: dict[str, Any], key: str) -> Callable[[bytes], None] | None:
        qsl = fields.get("qsl_idx")
        if key != "data" or not isinstance(qsl, int) or qsl not in by_qsl:  # a HexField is no sample number
            return None
        comps: list[tuple[_Sample | None, _StreamCompare]]
        if qsl in firsts:  # a duplicate: compare with the first occurrence
            first = firsts[qsl]
            comps = [(None, _StreamCompare(ref_file, first.offset, first.length))] if first.text is None else []
        else:
            comps = [
                (s, _StreamCompare(comp_file, s.data.offset, s.data.length)) for s in by_qsl[qsl] if s.data.text is None
            ]
        pending[id(fields)] = (fields, comps)

        def feed(chunk: bytes) -> None:
            for _, compare in comps:
                compare(chunk)

        return feed if comps else None

    log = AccuracyLog(path, wanted=set(by_qsl), check_all_hex=False, sink_factory=sink_factory)
    for entry in log:
        data = entry.fields.get("data")
        _, comps = pending.pop(id(entry.fields), (None, []))
        pending.clear()  # entries cut by a truncation marker never complete
        streamed = {id(s): c.result for s, c in comps if s is not None}
        qsl = entry.qsl_idx
        if isinstance(qsl, bool) or not isinstance(qsl, int):  # true == 1 in Python: never a qsl_idx
            out.example(f"reference entry {entry.ordinal} has a qsl_idx that is not an integer ({qsl!r})")
            continue
        if not isinstance(data, HexField):
            out.example(f"reference entry {entry.ordinal} (qsl_idx {qsl}) has no 'data' string")
            continue
        if qsl in firsts:
            out.duplicate_keys += 1
            same = comps[0][1].result if comps else _same(data, ref_file, firsts[qsl], ref_file)
            out.duplicate_mismatches += 0 if same else 1
            continue
        firsts[qsl] = data
        for sample in by_qsl[qsl]:
            streamed_same = streamed.get(id(sample))
            same = _same(sample.data, comp_file, data, ref_file) if streamed_same is None else streamed_same
            sample.differs = not same
    out.reference_entries = log.entries
    out.reference_truncated = log.truncated
    return firsts


def _official(samples: list[_Sample], firsts: dict[int, HexField], dtype: str, out: Comparison) -> None:
    """Our counts (compare with the accuracy run) and, from the same pass, the official script's verdict
    (:func:`compliance.verify.official.test01_accuracy`)."""
    official_crash = ""
    accuracy_values: dict[int, Any] = {}  # the accuracy run's first elements: what every entry is compared with
    for qsl, data in firsts.items():
        try:
            accuracy_values[qsl] = first_element(data, dtype)
        except ValueError as exc:
            accuracy_values[qsl] = exc
    compared: list[tuple[int, Any]] = []  # the entries the official script compares, in order
    for sample in samples:
        if sample.problem and not official_crash:
            official_crash = f"np.frombuffer raises on entry {sample.ordinal} ({sample.problem})"
        if sample.qsl_idx not in firsts:
            out.missing += 1
            continue
        out.matched += 1
        reference = accuracy_values[sample.qsl_idx]
        if sample.problem or isinstance(reference, ValueError):
            out.invalid += 1
            why = sample.problem or f"the accuracy run's output is invalid ({reference})"
            out.example(f"qsl_idx {sample.qsl_idx}: {why}")
            if isinstance(reference, ValueError) and not official_crash:
                official_crash = f"np.frombuffer raises on the accuracy entry of qsl_idx {sample.qsl_idx}"
            continue
        if not _equal(sample.first, reference):
            out.first_element_mismatches += 1
            out.example(
                f"qsl_idx {sample.qsl_idx}: first element {sample.first!r} vs {reference!r} in the accuracy run"
            )
        elif sample.differs:
            out.strict_mismatches += 1  # only the strict comparison sees these
            out.example(f"qsl_idx {sample.qsl_idx}: same first element, the output differs later")
        compared.append((sample.qsl_idx, sample.first))
    out.official = official.test01_accuracy(compared, accuracy_values, official_crash, out.truncated)


def _equal(a: Any, b: Any) -> bool:
    """Element equality as numpy's: NaN equals nothing; an empty output equals only an empty one."""
    return a == b
