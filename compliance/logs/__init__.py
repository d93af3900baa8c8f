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

    Args:
        file: the open file (binary).
        path: its name, for messages.
        key_of: the key of a line, from its first bytes (None when it has none).
        skip: keys of lines that are read past, never held (whatever their length).

    After iteration ``skipped`` holds, for each skipped key, the bytes read past.
    """

    def __init__(
        self,
        file: BinaryIO,
        path: str,
        key_of: Callable[[bytes], str | None] = lambda head: None,
        skip: Collection[str] = (),
    ):
        self.file, self.path, self.key_of, self.skip = file, path, key_of, skip
        self.skipped: dict[str, int] = {}

    def __iter__(self) -> Iterator[tuple[int, bytes]]:
        number = 0
        while True:
            raw = self.file.readline(CHUNK)
            if not raw:
                return
            number += 1
            whole = raw.endswith(b"\n") or len(raw) < CHUNK
            key = self.key_of(raw) if self.skip or not whole else None
            if key is not None and key in self.skip:
                self.skipped[key] = self.skipped.get(key, 0) + len(raw) + (0 if whole else self._read_past())
                continue
            yield number, raw if whole else self._rest(raw, number, key)

    def _read_past(self) -> int:
        """Read to the end of the current line without holding it; the bytes read."""
        size = 0
        while True:
            piece = self.file.readline(CHUNK)
            size += len(piece)
            if not piece or piece.endswith(b"\n"):
                return size

    def _rest(self, head: bytes, number: int, key: str | None) -> bytes:
        """The line that starts with ``head``, read whole within MAX_LINE bytes."""
        pieces, size = [head], len(head)
        while True:
            piece = self.file.readline(CHUNK)
            size += len(piece)
            if size > MAX_LINE:
                what = f" (key '{key}')" if key else ""
                raise LogError(
                    f"{self.path}: line {number}{what} is longer than {MAX_LINE} bytes, more than any line of "
                    "LoadGen's logs that this tool reads (is this a LoadGen log?)"
                )
            pieces.append(piece)
            if not piece or piece.endswith(b"\n"):
                return b"".join(pieces)


def lines(file: BinaryIO, path: str) -> Iterator[tuple[int, bytes]]:
    """The numbered lines of ``file``, each read within :data:`MAX_LINE` bytes (:class:`Lines` without keys).

    Raises:
        LogError: a line is longer than MAX_LINE.
    """
    return iter(Lines(file, path))
