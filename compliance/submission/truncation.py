"""The official truncation of accuracy logs, as facts the tool writes by (docs/rules.md §4.3 and §8).

``tools/submission/truncate_accuracy_log.py`` of mlcommons/inference is mandatory before upload. What it does, at the
v5.0 round's commit c0b60cdb and at b66003e (the v6.x rounds' commits do the same; docs/rules.md §8.1):

* **The cut.** A log of :data:`VIEWABLE_SIZE` (4096) bytes or more becomes its first 4096 characters,
  :data:`MARKER` and its last 4096 characters, read and written in text mode (UTF-8 with universal newlines, the
  tail read from byte ``size - 4096``); a shorter log is left as it is. Cutting a cut log gives it back unchanged
  (its first and last 4096 characters are the halves it holds), so a cut log is a fixed point.
* **The hash.** Before the cut it hashes the log (sha256 of its bytes). It appends ``\\nhash=<sha256>\\n`` to
  ``accuracy.txt`` (creating it when absent: exactly :data:`NEW_HASH_FILE_BYTES` bytes), except in TEST07 and
  TEST09, whose ``accuracy.txt`` it writes anew as ``hash=<sha256>\\n`` of whatever log is there (defect C3).
* **The skip.** A folder whose ``accuracy.txt`` has a line ``hash=<word>`` (the first such line, matched as
  :data:`HASH_LINE`) and whose log is under :data:`KEEP_UNDER` (10 KiB) is left alone; TEST07 and TEST09 never are
  (C3: run twice, the truncation records the hash of the cut log). So in TEST07/TEST09 the chain's fixed point is
  ``hash=<sha256 of the cut log>``; a folder the script processed once from a full log holds the full log's.
* **The folders.** A results ``accuracy/`` folder only with its ``accuracy.txt`` (without: "missing, generate to
  continue", left whole); TEST01's ``accuracy/`` (c0b60cdb: under ``compliance/``, in closed and network, and it
  creates ``accuracy.txt`` there; b66003e: under ``results/`` only, and a TEST01 folder without ``accuracy.txt`` is
  skipped); TEST07 and TEST09 (b66003e, under ``results/``). TEST06 and TEST08 logs are never cut.

Everything here is pure: :func:`cut` reads a log once (its hash, its head and tail), the rest works on text.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
from dataclasses import dataclass

from compliance.logs.accuracy import TRUNCATION_MARKER

#: characters kept from each end of a cut log
VIEWABLE_SIZE = 4096
#: a log under this size whose accuracy.txt has a hash line is taken as cut already
KEEP_UNDER = 10 * 1024
#: what the official script writes between the two halves (text mode: the platform's line ends)
MARKER = TRUNCATION_MARKER.decode("ascii")
#: the line of accuracy.txt the script reads a hash from (``re.match`` on each line, its line end included)
HASH_LINE = re.compile(r"^hash=([\w\d]+)$")
#: the tests whose accuracy.txt is rewritten on every run, with the hash of the log there (defect C3)
REHASHED_TESTS = ("TEST07", "TEST09")
#: the tests whose accuracy log the script cuts (b66003e; c0b60cdb: TEST01 only)
CUT_TESTS = ("TEST01", *REHASHED_TESTS)
#: the size of an accuracy.txt the script creates: "\nhash=" + 64 hex digits + "\n"
NEW_HASH_FILE_BYTES = 71
_BLOCK = 1 << 20


class NotText(ValueError):
    """The log is not UTF-8 text: the official script cannot cut it (it stops with a UnicodeDecodeError)."""


@dataclass(frozen=True)
class Cut:
    """An accuracy log and its cut form: the sha256 and size of the log, and the bytes the official script leaves
    (None: the log is under :data:`VIEWABLE_SIZE` and stays whole)."""

    sha256: str
    size: int
    data: bytes | None

    @property
    def form_sha256(self) -> str:
        """The sha256 of the log as the tree holds it after the truncation (the log's own when it stays whole)."""
        return self.sha256 if self.data is None else sha256_bytes(self.data)

    @property
    def form_size(self) -> int:
        return self.size if self.data is None else len(self.data)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str) -> str:
    """The sha256 of a file's bytes, read in blocks.

    Raises:
        OSError: it cannot be read.
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_BLOCK), b""):
            h.update(block)
    return h.hexdigest()


def _text(raw: bytes) -> str:
    """Bytes read as the script reads them: UTF-8 with universal newlines (``\\r\\n`` and ``\\r`` become ``\\n``)."""
    try:
        return io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8", newline=None).read()
    except UnicodeDecodeError as exc:
        raise NotText(str(exc)) from None


def cut(path: str) -> Cut:
    """Read the log at ``path`` once: its sha256, its size and the form the official truncation gives it.

    Raises:
        OSError: it cannot be read.
        NotText: it is not UTF-8 text where the script reads it.
    """
    h = hashlib.sha256()
    head = b""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        for block in iter(lambda: f.read(_BLOCK), b""):
            h.update(block)
            if len(head) < 4 * VIEWABLE_SIZE + 4:  # 4096 characters of UTF-8 are at most 4 bytes each
                head += block[: 4 * VIEWABLE_SIZE + 4 - len(head)]
        if size < VIEWABLE_SIZE:
            return Cut(h.hexdigest(), size, None)
        f.seek(size - VIEWABLE_SIZE)
        tail = f.read(VIEWABLE_SIZE)
    return Cut(h.hexdigest(), size, cut_bytes(head, tail))


def cut_bytes(head: bytes, tail: bytes) -> bytes:
    """The cut form from the log's first bytes (at least 4 x 4096 + 4 of them, or all) and its last 4096 bytes."""
    start = _text(head)[:VIEWABLE_SIZE]
    end = _text(tail)[:VIEWABLE_SIZE]
    return (start + MARKER + end).replace("\n", os.linesep).encode("utf-8")


def cut_data(data: bytes) -> bytes:
    """The cut form of a whole log held in memory (a short one: tests, small logs)."""
    if len(data) < VIEWABLE_SIZE:
        return data
    return cut_bytes(data[: 4 * VIEWABLE_SIZE + 4], data[len(data) - VIEWABLE_SIZE :])


def recorded_hash(text: str) -> str | None:
    """The hash the script reads from an accuracy.txt: the first line matching :data:`HASH_LINE`, or None."""
    for line in io.StringIO(text, newline=None):
        found = HASH_LINE.match(line)
        if found:
            return found.group(1)
    return None


def appended(text: str, sha256: str) -> str:
    """accuracy.txt after the script appended the hash of a log (``text``: what it held; "" when absent)."""
    return f"{text}\nhash={sha256}\n"


def rewritten(sha256: str) -> str:
    """TEST07's and TEST09's accuracy.txt as the script writes it anew (C3)."""
    return f"hash={sha256}\n"
