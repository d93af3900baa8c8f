"""Readers of LoadGen's logs (docs/rules.md §4): the detail log, the summary log, and the accuracy log as a stream.

Layer: imports only the standard library and :mod:`compliance.logs.scan` (and its compiled twin). Readers turn a
file into plain objects or raise :class:`LogError` naming the file and where it goes wrong; they know nothing of
tests, specs or the pipeline.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO


class LogError(Exception):
    """A log's content is not what LoadGen writes; the message says what and where."""


#: the longest line a detail or summary log may have (LoadGen's are under a few KB); longer is not LoadGen's log
MAX_LINE = 1 << 20


def lines(file: BinaryIO, path: str) -> Iterator[tuple[int, bytes]]:
    """The numbered lines of ``file``, each read within :data:`MAX_LINE` bytes (memory stays bounded).

    Raises:
        LogError: a line is longer than MAX_LINE.
    """
    number = 0
    while True:
        raw = file.readline(MAX_LINE + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE:
            raise LogError(
                f"{path}: line {number} is longer than {MAX_LINE} bytes; LoadGen's log lines are short "
                "(is this a LoadGen log?)"
            )
        yield number, raw
