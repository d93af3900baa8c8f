"""TEST01 Part III's baseline: the accuracy run's entries of exactly the samples the compliance run logged.

The official ``create_accuracy_baseline.sh`` greps LoadGen's text layout and collapses repeated samples (defects
P.1-P.3 in docs/rules.md §2.1); here both logs are parsed (:class:`compliance.logs.accuracy.AccuracyLog`, whose
compiled scanner skips unwanted entries unparsed) and the baseline holds the same multiset as the compliance log:
a qsl_idx the compliance run logged k times is written k times, so a script that does not de-duplicate scores the
same samples on both sides. Memory stays bounded: only the compliance log's qsl_idx counts are held, and each
wanted entry is copied field by field from the accuracy log, long strings in chunks.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from compliance.logs import LogError
from compliance.logs.accuracy import AccuracyLog, HexField

CHUNK = 1 << 20


class Truncated(LogError):
    """The compliance log is truncated (as the submission tools leave it): its samples are not all known."""


@dataclass
class Baseline:
    """What was written, or why no baseline can be made (``problem``; ``truncated``: the accuracy log is)."""

    path: str
    entries: int = 0  # entries written (the compliance log's count when complete)
    samples: int = 0  # distinct qsl_idx
    problem: str | None = None
    truncated: bool = False


def compliance_samples(path: str) -> Counter[int]:
    """How many times the compliance log holds each qsl_idx.

    Raises:
        Truncated: the log is truncated.
        LogError: the log is malformed, or has an entry without an integer qsl_idx.
    """
    counts: Counter[int] = Counter()
    log = AccuracyLog(path, check_all_hex=False)
    for entry in log:
        qsl = entry.qsl_idx
        if isinstance(qsl, bool) or not isinstance(qsl, int):
            raise LogError(f"{path}: entry {entry.ordinal} has a qsl_idx that is not an integer ({qsl!r})")
        counts[qsl] += 1
    if log.truncated:
        raise Truncated(
            f"{path}: the compliance run's accuracy log is truncated (the submission tools keep its first and last "
            "4 KiB): the samples it logged are not all known"
        )
    return counts


def _copy_string(source: BinaryIO, field: HexField, out: BinaryIO) -> None:
    out.write(b'"')
    if field.text is not None:
        out.write(field.text)
    else:
        for start in range(0, field.length, CHUNK):
            source.seek(field.offset + start)
            out.write(source.read(min(CHUNK, field.length - start)))
    out.write(b'"')


def _write_entry(source: BinaryIO, fields: dict[str, Any], out: BinaryIO) -> None:
    """One entry in LoadGen's layout (``{ "seq_id" : 1, "qsl_idx" : 2, "data" : "..." }``)."""
    out.write(b"{ ")
    for i, (key, value) in enumerate(fields.items()):
        out.write((", " if i else "").encode() + json.dumps(key).encode() + b" : ")
        if isinstance(value, HexField):
            _copy_string(source, value, out)
        else:
            out.write(json.dumps(value).encode())
    out.write(b" }")


def write(reference_path: str, wanted: Counter[int], out_path: str | Path) -> Baseline:
    """Write the baseline of ``wanted`` (qsl_idx -> count) from the accuracy run's log ``reference_path``.

    A truncated accuracy log, or one missing a wanted sample, gives no baseline (``problem`` says why; the file
    is removed): scored on fewer samples it would not be the compliance run's baseline.

    Raises:
        LogError: the accuracy log is malformed.
    """
    out_path = Path(out_path)
    result = Baseline(str(out_path))
    seen: set[int] = set()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    log = AccuracyLog(reference_path, wanted=set(wanted), check_all_hex=False)
    with open(reference_path, "rb") as source, open(out_path, "wb") as out:
        out.write(b"[\n")
        for entry in log:
            qsl = entry.qsl_idx
            if isinstance(qsl, bool) or not isinstance(qsl, int) or qsl in seen:
                continue  # a repeated sample of the accuracy run: its first entry is the one compared (TEST01)
            seen.add(qsl)
            for _ in range(wanted[qsl]):
                if result.entries:
                    out.write(b",\n")
                _write_entry(source, entry.fields, out)
                result.entries += 1
        out.write(b"\n]\n" if result.entries else b"]\n")
    result.samples = len(seen)
    result.truncated = log.truncated
    if log.truncated:
        result.problem = (
            f"{reference_path} is truncated (as the submission tools leave it): the baseline needs the accuracy "
            "run's whole log"
        )
    elif len(seen) < len(wanted):
        missing = sorted(set(wanted) - seen)
        result.problem = (
            f"{len(missing)} of the compliance run's {len(wanted)} samples are not in the accuracy run's log "
            f"{reference_path} (e.g. qsl_idx {missing[0]}): no baseline of the same samples can be made"
        )
    if result.problem:
        out_path.unlink(missing_ok=True)
    return result
