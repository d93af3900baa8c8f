"""Readers of LoadGen's logs (docs/rules.md §4): the detail log, the summary log, and the accuracy log as a stream.

Layer: imports only the standard library and :mod:`compliance.logs.scan` (and its compiled twin). Readers turn a
file into plain objects or raise :class:`LogError` naming the file and where it goes wrong; they know nothing of
tests, specs or the pipeline.

Lines of any length are read in bounded memory (:class:`Lines`): a line the reader does not need (LoadGen's
``loaded_qsl_set``, 1.4 MB for dlrm-v2's 204,800 samples, longer for rgat: docs/rules.md §4.1) is read past in
chunks without being held; any other line is held up to :data:`MAX_LINE` bytes, a length no real log's line
reaches, and a longer one is refused with its key named.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from typing import BinaryIO


class LogError(Exception):
    """A log's content is not what LoadGen writes; the message says what and where."""


#: the longest line a reader holds (LoadGen's lines that the tool reads are under a few KB); longer is not LoadGen's
MAX_LINE = 1 << 20
#: a line is read in pieces of this size; a longer one is identified by its first piece (its key)
CHUNK = 1 << 16


class Lines:
    """The numbered lines of a file, each held only when wanted and within :data:`MAX_LINE` bytes.

    The file is read in blocks of :data:`CHUNK` bytes and split in place (a few microseconds a line: a round's
    13,000 logs are read in seconds); a line that a block does not hold whole is identified by its first bytes.

    Args:
        file: the open file (binary).
        path: its name, for messages.
        key_of: the key of a line, from its first bytes (None when it has none).
        skip: keys of lines that are read past, never held (whatever their length).
        head: what a line of the log's own layout holds before its key (e.g. ``:::MLLOG {"key": "``): a line
            that starts with it and a skipped key is read past without calling ``key_of`` (a C-level test).

    After iteration ``skipped`` holds, for each skipped key, the bytes read past.
    """

    def __init__(
        self,
        file: BinaryIO,
        path: str,
        key_of: Callable[[bytes], str | None] = lambda head: None,
        skip: Collection[str] = (),
        head: bytes = b"",
    ):
        self.file, self.path, self.key_of, self.skip = file, path, key_of, skip
        self.skipped: dict[str, int] = {}
        self._prefixes = {head + key.encode() + b'"': key for key in skip} if head else {}
        self._starts = tuple(self._prefixes)

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        number, buf, pos = 0, b"", 0
        while True:
            end = buf.find(b"\n", pos)
            if end < 0:  # the line goes on past the block: keep its start, read on
                more = self.file.read(CHUNK)
                if more and len(buf) - pos < CHUNK:
                    buf, pos = buf[pos:] + more, 0
                    continue
                if not more:
                    if pos < len(buf):
                        number += 1
                        yield from self._line(number, buf[pos:])
                    return
                buf, pos = buf[pos:] + more, 0  # a long line: decide on it from its first CHUNK bytes
                number += 1
                key = self.key_of(buf)
                if key is not None and key in self.skip:
                    buf, pos = self._read_past(key, buf)
                else:
                    line, buf = self._rest(buf, number, key)
                    pos = 0
                    yield number, line
                continue
            number += 1
            line = buf[pos : end + 1]
            pos = end + 1
            if self.skip and self._skipped(line):
                continue
            yield number, line

    def _line(self, number: int, line: bytes) -> Iterator[tuple[int, bytes]]:
        if not (self.skip and self._skipped(line)):
            yield number, line

    def _skipped(self, line: bytes) -> bool:
        """Whether ``line`` (held whole) is one to read past; counted if so."""
        if self._prefixes:
            if not line.startswith(self._starts):
                return False
            key: str | None = next(k for p, k in self._prefixes.items() if line.startswith(p))
        else:
            key = self.key_of(line)
        if key is None or key not in self.skip:
            return False
        self.skipped[key] = self.skipped.get(key, 0) + len(line)
        return True

    def _read_past(self, key: str, buf: bytes) -> tuple[bytes, int]:
        """Read to the end of the line that ``buf`` starts without holding it; the rest of the last block read."""
        size = 0
        while True:
            end = buf.find(b"\n")
            if end >= 0:
                self.skipped[key] = self.skipped.get(key, 0) + size + end + 1
                return buf, end + 1
            size += len(buf)
            buf = self.file.read(CHUNK)
            if not buf:
                self.skipped[key] = self.skipped.get(key, 0) + size
                return b"", 0

    def _rest(self, buf: bytes, number: int, key: str | None) -> tuple[bytes, bytes]:
        """The line that ``buf`` starts, read whole within MAX_LINE bytes; (the line, what follows it)."""
        pieces, size = [], 0
        while True:
            end = buf.find(b"\n")
            if end >= 0:
                pieces.append(buf[: end + 1])
                size += end + 1
            else:
                pieces.append(buf)
                size += len(buf)
            if size > MAX_LINE:
                what = f" (key '{key}')" if key else ""
                raise LogError(
                    f"{self.path}: line {number}{what} is longer than {MAX_LINE} bytes, more than any line of "
                    "LoadGen's logs that this tool reads (is this a LoadGen log?)"
                )
            if end >= 0:
                return b"".join(pieces), buf[end + 1 :]
            buf = self.file.read(CHUNK)
            if not buf:
                return b"".join(pieces), b""


def lines(file: BinaryIO, path: str) -> Iterator[tuple[int, bytes]]:
    """The numbered lines of ``file``, each read within :data:`MAX_LINE` bytes (:class:`Lines` without keys).

    Raises:
        LogError: a line is longer than MAX_LINE.
    """
    return iter(Lines(file, path))
