"""DLRMv3 accuracy-log entries (docs/rules.md §2.5): float32 ``data`` read in bounded memory.

The accuracy run logs ``[ts_idx, query_idx, predictions(n), labels(n), weights(n), n]``, the performance run
``[ts_idx, query_idx, predictions(n)]``. An entry's *key* is ``(ts_idx, query_idx)``; it is *exact* when both are
integers below 2^24, the largest range in which float32 tells every integer apart (above it 16777217 reads as
16777216). Only entries whose values are asked for are decoded; of the others only the key and the length are read
(from both ends of the hex string, which :class:`compliance.logs.accuracy.HexField` keeps).
"""

from __future__ import annotations

import math
import struct
import sys
from array import array
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compliance.logs.accuracy import AccuracyLog, HexField

KEY_LIMIT = 1 << 24
MAX_DATA_HEX = 64 << 20  # hex characters of one entry's data decoded at most (8 M float32 values)
Key = tuple[int, int]


@dataclass
class DlrmEntry:
    """One entry: its LoadGen fields, its key, and its float32 values when they were asked for."""

    ordinal: int
    qsl_idx: Any
    key: Key | None  # None when the data has no exact key (see ``problem``)
    n_values: int  # float32 values in data
    values: array | None  # all of them, when asked for and readable
    problem: str | None  # why the data is not an entry of the expected layout

    @property
    def where(self) -> str:
        return f"entry {self.ordinal} (qsl_idx {self.qsl_idx!r})"


def exact_key(ts_idx: float, query_idx: float) -> Key | None:
    """The key when both numbers are integers in [0, 2^24), else None."""
    for value in (ts_idx, query_idx):
        if not math.isfinite(value) or value != int(value) or not 0 <= value < KEY_LIMIT:
            return None
    return int(ts_idx), int(query_idx)


def _floats(raw: bytes) -> tuple[float, ...]:
    return struct.unpack(f"<{len(raw) // 4}f", raw[: len(raw) - len(raw) % 4])


class _Collector:
    """Receives the chunks of one data string; keeps them only while ``keep(key)`` says so (decided once the key's
    16 hex characters have arrived) and the string stays below MAX_DATA_HEX."""

    def __init__(self, keep: Callable[[Key | None], bool] | None):
        self.keep = keep
        self.chunks: list[bytes] | None = []
        self.size, self.decided, self.too_long = 0, keep is None, False

    def __call__(self, chunk: bytes) -> None:
        if self.chunks is None:
            return
        self.chunks.append(chunk)
        self.size += len(chunk)
        if self.size > MAX_DATA_HEX:
            self.chunks, self.too_long = None, True
            return
        if not self.decided and self.size >= 16:
            self.decided = True
            head = b"".join(self.chunks)[:16]
            try:
                key = exact_key(*_floats(bytes.fromhex(head.decode("ascii"))))
            except ValueError:
                key = None
            if self.keep is not None and not self.keep(key):
                self.chunks = None

    def text(self) -> bytes | None:
        return b"".join(self.chunks) if self.chunks is not None and self.decided else None


class DlrmLog:
    """The entries of a DLRMv3 accuracy log, read once per iteration.

    Args:
        path: the ``mlperf_log_accuracy.json``.
        accuracy_layout: entries are in the accuracy run's layout (else the performance run's).
        wanted: only entries of these ``qsl_idx`` (the others are skipped unparsed and not returned).
        keep: decode the values of entries whose key it accepts (None: of every entry returned).

    After iteration, ``entries`` is the number of entries in the file and ``truncated`` whether the submission
    tools cut it; iterating raises LogError (naming the file and the byte) when the file is not an accuracy log.
    """

    def __init__(
        self,
        path: str | Path,
        accuracy_layout: bool,
        wanted: Collection[int] | None = None,
        keep: Callable[[Key | None], bool] | None = None,
    ):
        self.accuracy_layout, self.keep = accuracy_layout, keep
        self._collector: list[_Collector] = []
        self._log = AccuracyLog(path, wanted=wanted, check_all_hex=True, sink_factory=self._sink)

    @property
    def entries(self) -> int:
        return self._log.entries

    @property
    def truncated(self) -> bool:
        return self._log.truncated

    def _sink(self, fields: dict[str, Any], key: str) -> _Collector | None:
        if key != "data":
            return None
        self._collector[:] = [_Collector(self.keep)]
        return self._collector[0]

    def __iter__(self) -> Iterator[DlrmEntry]:
        for entry in self._log:
            got = self._collector.pop() if self._collector else None
            yield _entry(entry.ordinal, entry.qsl_idx, entry.fields.get("data"), got, self.accuracy_layout)


def _entry(ordinal: int, qsl_idx: Any, data: Any, got: _Collector | None, accuracy_layout: bool) -> DlrmEntry:
    if not isinstance(qsl_idx, int) or isinstance(qsl_idx, bool) or qsl_idx < 0:
        shown = qsl_idx if isinstance(qsl_idx, (int, float, bool, type(None))) else "a string"
        return DlrmEntry(ordinal, shown, None, 0, None, "qsl_idx is not a sample number")
    if not isinstance(data, HexField):
        return DlrmEntry(ordinal, qsl_idx, None, 0, None, "no 'data'")
    if data.problem:
        return DlrmEntry(ordinal, qsl_idx, None, 0, None, f"data: {data.problem}")
    if data.n_bytes % 4:
        return DlrmEntry(ordinal, qsl_idx, None, 0, None, f"{data.n_bytes} bytes is not a whole number of float32")
    n_values = data.n_bytes // 4
    least = 4 if accuracy_layout else 3
    if n_values < least:
        return DlrmEntry(ordinal, qsl_idx, None, n_values, None, f"{n_values} float32 values, fewer than {least}")
    key = exact_key(*_floats(data.first_bytes(8)))
    if key is None:
        ts, q = _floats(data.first_bytes(8))
        problem = f"key ({ts!r}, {q!r}) is not two integers in [0, 2^24) (float32 tells no larger ones apart)"
        return DlrmEntry(ordinal, qsl_idx, None, n_values, None, problem)
    if accuracy_layout:
        (n,) = _floats(data.last_bytes(4))
        if not (math.isfinite(n) and n == int(n) and n >= 1 and n_values == 3 + 3 * int(n)):
            problem = (
                f"{n_values} values do not fit the accuracy layout [ts, query, preds(n), labels(n), weights(n), n]"
            )
            return DlrmEntry(ordinal, qsl_idx, key, n_values, None, problem + f" with n = {n!r}")
    values = None
    text = got.text() if got is not None else None
    if got is not None and got.too_long:
        return DlrmEntry(ordinal, qsl_idx, key, n_values, None, f"data longer than {MAX_DATA_HEX} hex characters")
    if text is not None:
        values = array("f")
        values.frombytes(bytes.fromhex(text.decode("ascii")))
        if sys.byteorder == "big":  # LoadGen logs the bytes of little-endian float32
            values.byteswap()
    return DlrmEntry(ordinal, qsl_idx, key, n_values, values, None)
