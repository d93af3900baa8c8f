"""The accuracy log (docs/rules.md §4.3) as a stream: a JSON array of flat objects, read one entry at a time.

Memory stays bounded whatever the size of the file or of one entry. Hex strings are never held whole: each becomes
a :class:`HexField` (its file offset, length, first and last characters, and its text only when short), and a
caller may receive the chunks of a string as they are read. Entries whose ``qsl_idx`` is not wanted are skipped
unparsed (found by :mod:`compliance.logs.scan`).

A log cut by the submission tools (``truncate_accuracy_log.py``: the first and the last 4096 characters with
``\n\n...\n\n`` between, ``\r\n\r\n...\r\n\r\n`` where the file had CRLF line ends; docs/rules.md §4.3) is
read as far as it goes: the whole entries of its head and of its tail are returned, the ones cut by the marker are
not, and :attr:`AccuracyLog.truncation` says where it was cut. When the original was shorter than 8 KiB, its head
and tail overlap: the tail's entries already read in the head are counted once (``Truncation.overlap``).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

from compliance.logs import LogError
from compliance.logs.scan import KEY, scanner

TRUNCATION_MARKER = b"\n\n...\n\n"
#: the marker as the truncation tool writes it on either line ending (text mode: CRLF on Windows)
_MARKER = re.compile(rb"\r?\n\r?\n\.\.\.\r?\n\r?\n")
_MARKER_MAX = len(b"\r\n\r\n...\r\n\r\n")
#: entries remembered before a truncation marker, to recognise a tail that overlaps the head (4 KiB holds fewer)
_OVERLAP_KEYS = 512
BLOCK = 1 << 20
MAX_NUMBER_CHARS = 40  # longer is no number LoadGen writes (and Python refuses ints of over 4300 digits)
KEEP_HEX = 4096  # hex characters of a string kept in memory whole
EDGE_HEX = 64  # hex characters kept from each end of a longer string
_HEX_CHARS = b"0123456789abcdefABCDEF"
_WS = b" \t\r\n"
_SPACE = re.compile(rb"[ \t\r\n]*")  # skipped in C: a log of 300 MB of whitespace is read in a second
_NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
# LoadGen's own layout of a short entry (docs/rules.md §4.3), with the token fields of the LLM benchmarks when they
# are there, read in one match; anything else takes the general parser, which gives the same fields for this layout
_UINT = rb"(0|[1-9][0-9]{0,19})"
_LOADGEN_ENTRY = re.compile(
    rb'\{ "seq_id" : %s, "qsl_idx" : %s, "data" : "([0-9A-Fa-f]{0,%d})"' % (_UINT, _UINT, KEEP_HEX)
    + rb'(?:, "token_data" : "([0-9A-Fa-f]{0,%d})")?(?:, "token_count" : %s)? \}' % (KEEP_HEX, _UINT)
)
_LOADGEN_STRINGS = (("data", 3), ("token_data", 4))  # the string fields of that layout, and their groups


@dataclass
class HexField:
    """A string field of an accuracy-log entry, summarised in bounded memory."""

    offset: int  # file offset of its first character
    length: int = 0  # characters
    head: bytes = b""  # the first EDGE_HEX characters
    tail: bytes = b""  # the last EDGE_HEX characters
    text: bytes | None = b""  # the whole string while it is at most KEEP_HEX characters
    bad_at: int | None = None  # position of the first non-hex character seen

    def add(self, chunk: bytes, check_all: bool) -> None:
        if len(self.head) < EDGE_HEX:
            self.head += chunk[: EDGE_HEX - len(self.head)]
        self.tail = (self.tail + chunk)[-EDGE_HEX:] if len(chunk) < EDGE_HEX else chunk[-EDGE_HEX:]
        if self.bad_at is None and (check_all or self.length < EDGE_HEX or self.text is not None):
            rest = chunk.translate(None, _HEX_CHARS)
            if rest:
                self.bad_at = self.length + chunk.index(rest[:1])
        if self.text is not None:
            self.text = self.text + chunk if self.length + len(chunk) <= KEEP_HEX else None
        self.length += len(chunk)

    @property
    def problem(self) -> str | None:
        """Why this is not the hex LoadGen writes, or None."""
        if self.bad_at is not None:
            return f"non-hex character at position {self.bad_at}"
        if self.length % 2:
            return f"odd number of hex digits ({self.length})"
        return None

    @property
    def n_bytes(self) -> int:
        return self.length // 2

    def first_bytes(self, count: int) -> bytes:
        """The first ``count`` decoded bytes (fewer when the field is shorter)."""
        return bytes.fromhex(self.head[: 2 * count].decode("ascii"))

    def last_bytes(self, count: int) -> bytes:
        """The last ``count`` decoded bytes (fewer when the field is shorter)."""
        keep = min(2 * count, self.length - self.length % 2, len(self.tail) - len(self.tail) % 2)
        return bytes.fromhex(self.tail[len(self.tail) - keep :].decode("ascii")) if keep else b""


@dataclass(frozen=True)
class Truncation:
    """Where the submission tools cut a log: the marker's byte offset and text, and the number of the tail's
    entries that repeat the head's (the original was under 8 KiB; they are read once)."""

    offset: int
    marker: bytes
    overlap: int = 0

    @property
    def crlf(self) -> bool:
        return self.marker.startswith(b"\r")


@dataclass
class Entry:
    """One accuracy-log entry: numbers as ints, strings as :class:`HexField`."""

    ordinal: int
    offset: int
    fields: dict[str, Any]

    @property
    def qsl_idx(self) -> Any:
        return self.fields.get("qsl_idx")


Sink = Callable[[bytes], None]
SinkFactory = Callable[[dict[str, Any], str], "Sink | None"]


class AccuracyLog:
    """Iterate over the entries of an accuracy log in bounded memory.

    Args:
        path: the ``mlperf_log_accuracy.json`` file.
        wanted: when given, only entries whose ``qsl_idx`` is in it are returned; the others are counted only.
        check_all_hex: check every character of every string (else only short strings and both ends).
        sink_factory: called when a string value starts, with the fields read so far and the key; a callable it
            returns receives the string's chunks (raw text) as they are read.

    After iteration, ``entries`` is the number of (whole) entries in the file; ``truncation`` says where the
    submission tools cut it (None when they did not: ``truncated``), in which case ``entries`` counts the whole
    entries that survive. A malformed file raises :class:`LogError` naming the byte offset.
    """

    def __init__(
        self,
        path: str | Path,
        wanted: Collection[int] | None = None,
        check_all_hex: bool = True,
        sink_factory: SinkFactory | None = None,
    ):
        self.path = str(path)
        self.wanted = wanted
        self.check_all_hex = check_all_hex
        self.sink_factory = sink_factory
        self.entries = 0
        self.truncation: Truncation | None = None
        self._scanner = scanner(wanted) if wanted is not None else None
        self._file: BinaryIO
        self._buf, self._pos, self._base, self._dots = b"", 0, 0, False
        self._marker_at = -1  # file offset of a truncation marker in the buffer (-1: none)
        self._recent: deque[tuple[object, object]] = deque(maxlen=_OVERLAP_KEYS)  # keys of the last entries
        self._in_tail = False  # after a marker, while the tail's entries may repeat the head's

    @property
    def truncated(self) -> bool:
        """Whether the submission tools cut the file (the entries read are those that survive)."""
        return self.truncation is not None

    # -- buffer --------------------------------------------------------------------------------------------
    def _fill(self) -> bool:
        """Append the next block to the buffer (dropping what was consumed); False at end of file."""
        block = self._file.read(BLOCK)
        if not block:
            return False
        self._base += self._pos
        self._buf = self._buf[self._pos :] + block
        self._pos = 0
        # '.' never occurs in LoadGen's accuracy log; where it does, the truncation marker may (a memchr test)
        self._dots = b"." in self._buf
        marker = _MARKER.search(self._buf) if self._dots else None
        self._marker_at = self._base + marker.start() if marker else -1
        return True

    def _peek(self) -> int | None:
        """The next non-whitespace byte (not consumed), or None at end of file."""
        while True:
            if self._pos < len(self._buf) and self._buf[self._pos] in _WS:
                self._pos = _SPACE.match(self._buf, self._pos).end()  # type: ignore[union-attr]  # (matches always)
            if self._pos < len(self._buf):
                return self._buf[self._pos]
            if not self._fill():
                return None

    def _where(self) -> str:
        return f"{self.path}: byte {self._base + self._pos}"

    def _expect(self, char: bytes, what: str) -> None:
        got = self._peek()
        if got != char[0]:
            self._fail(f"expected {what}")
        self._pos += 1

    def _fail(self, message: str) -> NoReturn:
        got = self._peek()
        if got is None:
            raise LogError(f"{self._where()}: the file ends in the middle of an entry ({message})")
        if got == ord(".") or (self._dots and _MARKER.search(self._buf, self._pos, self._pos + 2 * _MARKER_MAX)):
            raise _Truncated  # the marker, here or a few bytes on (a word such as 'true' cut by it)
        raise LogError(f"{self._where()}: {message}, found {chr(got)!r}")

    # -- iteration -----------------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Entry]:
        with open(self.path, "rb") as self._file:
            self._buf, self._pos, self._base, self._dots, self._marker_at = b"", 0, 0, False, -1
            self.entries, self.truncation, self._in_tail = 0, None, False
            self._recent.clear()
            first = self._peek()
            if first is None:
                raise LogError(f"{self.path}: empty file; an accuracy log is at least '[]'")
            if first != ord("["):
                raise LogError(f"{self._where()}: not a JSON array (an accuracy log starts with '[')")
            self._pos += 1
            if self._peek() == ord("]"):
                self._pos += 1
                self._end()
                return
            while True:
                try:
                    yield from self._next_entries()
                    after = self._peek()
                    if after == ord(","):
                        self._pos += 1
                        continue
                    if after == ord("]"):
                        self._pos += 1
                        self._end()
                        return
                    self._fail("expected ',' or ']' after an entry")
                except _Truncated:
                    if not self._resync():
                        return

    def _end(self) -> None:
        if self._peek() is not None:
            self._fail("expected the end of the file after ']'")

    def _resync(self) -> bool:
        """After a truncation marker: skip to the first whole entry of the tail; False when there is none."""
        where = self._where()
        if self.truncation is not None:
            raise LogError(f"{where}: a second truncation marker (the submission tools cut a log once)")
        while True:
            found = _MARKER.search(self._buf, max(0, self._pos - _MARKER_MAX))
            if found is not None:
                break
            self._pos = max(self._pos, len(self._buf) - _MARKER_MAX)  # bounded memory while looking
            if not self._fill():
                raise LogError(
                    f"{where}: invalid JSON (a line break in a string or a '.' where a value belongs, "
                    "and no truncation marker after it)"
                )
        self.truncation = Truncation(self._base + found.start(), found.group())
        self._in_tail = True
        self._pos = found.end()
        while True:
            brace = self._buf.find(b"{", self._pos)
            if brace >= 0:
                self._pos = brace
                return True
            self._pos = len(self._buf)
            if not self._fill():
                return False

    def _next_entries(self) -> Iterator[Entry]:
        """Yield the next wanted entry, after counting the unwanted ones before it."""
        if self._scanner is not None and not self._in_tail:
            self._skip_unwanted()
        entry = self._entry()
        key = (entry.fields.get("seq_id"), entry.fields.get("qsl_idx"))
        key = key if all(isinstance(k, (int, str, float, type(None))) for k in key) else (id(entry), None)
        if self._in_tail:
            if key in self._recent:  # the original was under 8 KiB: its head and tail overlap
                self.entries -= 1
                assert self.truncation is not None
                self.truncation = _replace(self.truncation, overlap=self.truncation.overlap + 1)
                return
            self._in_tail = False
        elif self.truncation is None:
            self._recent.append(key)
        if self.wanted is None or _is_wanted(entry.qsl_idx, self.wanted):
            yield entry

    def _skip_unwanted(self) -> None:
        """Jump over whole entries whose qsl_idx is not wanted, counting them, without parsing them."""
        assert self._scanner is not None
        if self._marker_at >= self._base + self._pos:
            return  # a truncation marker ahead: parse every entry up to it (a tail may repeat them)
        while True:
            start = self._pos
            found, found_end, keys = self._scanner.search(self._buf, start)
            inside = found >= 0 and found_end < len(self._buf)  # else the number may go on in the next block
            if inside:
                stop = self._buf.rfind(b"{", start, found)
            else:  # skip every entry that ends in the buffer; keep the one it cuts for the next block
                last_end = self._buf.rfind(b"}", start)
                stop = -1 if last_end < 0 else self._buf.find(b"{", last_end)
                if last_end >= 0 and stop < 0:  # the buffer ends between two entries: keep the last whole one
                    stop = self._buf.rfind(b"{", start, last_end)
            if stop <= start:
                return  # the next entry is the wanted one, or it does not end in the buffer: parse it
            if self._dots and _MARKER.search(self._buf, start, stop + _MARKER_MAX):
                return  # let the parser meet the marker
            # keys == count(KEY, start, end); correct it to the range skipped, [start, stop), counting only a few
            # bytes (one entry) again; no key spans the '{' at stop
            end = found if found >= 0 else len(self._buf)
            if stop <= end:
                self.entries += keys - self._buf.count(KEY, stop, end)
            else:
                self.entries += keys + self._buf.count(KEY, end, stop)
            self._pos = stop
            if inside:
                return
            if not self._fill():
                return

    def _entry(self) -> Entry:
        if self._peek() == ord("{"):
            match = _LOADGEN_ENTRY.match(self._buf, self._pos)
            if match is not None:
                return self._loadgen_entry(match)
        self._expect(b"{", "'{' (an entry)")
        entry = Entry(self.entries, self._base + self._pos - 1, {})
        if self._peek() == ord("}"):
            self._pos += 1
        else:
            while True:
                key = self._key()
                self._expect(b":", "':' after a key")
                entry.fields[key] = self._value(entry.fields, key)
                sep = self._peek()
                self._pos += 1
                if sep == ord("}"):
                    break
                if sep != ord(","):
                    self._pos -= 1
                    self._fail("expected ',' or '}' in an entry")
        self.entries += 1
        return entry

    def _loadgen_entry(self, match: re.Match[bytes]) -> Entry:
        """An entry in LoadGen's layout, from one match (the same fields and sink calls as the general parser)."""
        entry = Entry(self.entries, self._base + self._pos, {})
        entry.fields["seq_id"] = int(match.group(1))
        entry.fields["qsl_idx"] = int(match.group(2))
        for key, group in _LOADGEN_STRINGS:
            text = match.group(group)
            if text is None:
                continue
            sink = self.sink_factory(entry.fields, key) if self.sink_factory else None
            if text and sink is not None:
                sink(text)
            start = self._base + match.start(group)
            entry.fields[key] = HexField(start, len(text), text[:EDGE_HEX], text[-EDGE_HEX:], text)
        if match.group(5) is not None:
            entry.fields["token_count"] = int(match.group(5))
        self._pos = match.end()
        self.entries += 1
        return entry

    def _key(self) -> str:
        if self._peek() != ord('"'):
            self._fail("expected a key")
        string = self._string(None, check=False)
        if string.text is None:
            raise LogError(f"{self._where()}: a key longer than {KEEP_HEX} characters")
        return string.text.decode("utf-8", errors="replace")

    def _value(self, fields: dict[str, Any], key: str) -> Any:
        got = self._peek()
        if got == ord('"'):
            sink = self.sink_factory(fields, key) if self.sink_factory else None
            return self._string(sink, check=self.check_all_hex)
        while len(self._buf) - self._pos < 64 and self._fill():
            pass
        for word, value in ((b"true", True), (b"false", False), (b"null", None)):
            if self._buf.startswith(word, self._pos):
                self._pos += len(word)
                return value
        match = _NUMBER.match(self._buf, self._pos)
        if match is None:
            self._fail(f"expected a value for '{key}'")
        if match.end() - match.start() > MAX_NUMBER_CHARS:  # LoadGen writes 64-bit numbers: 20 digits at most
            raise LogError(f"{self._where()}: '{key}' is a number of more than {MAX_NUMBER_CHARS} characters")
        self._pos = match.end()
        text = match.group()
        return int(text) if text.lstrip(b"-").isdigit() else float(text)

    def _string(self, sink: Sink | None, check: bool) -> HexField:
        self._pos += 1  # the opening quote
        hexfield = HexField(self._base + self._pos)
        while True:
            end = self._buf.find(b'"', self._pos)
            chunk = self._buf[self._pos : end if end >= 0 else len(self._buf)]
            if b"\\" in chunk:
                raise LogError(f"{self._where()}: escape sequences are not expected in an accuracy log string")
            if b"\n" in chunk:  # JSON strings hold no line breaks: the truncation tool cut here, or the file is broken
                self._pos += chunk.index(b"\n")
                raise _Truncated
            if chunk:
                hexfield.add(chunk, check)
                if sink is not None:
                    sink(chunk)
            if end >= 0:
                self._pos = end + 1
                return hexfield
            self._pos = len(self._buf)
            if not self._fill():
                raise LogError(f"{self._where()}: the file ends inside a string")


def _is_wanted(qsl_idx: object, wanted: Collection[int]) -> bool:
    """Whether an entry's qsl_idx is wanted: only a sample number can be (a string or an object never is)."""
    return isinstance(qsl_idx, int) and not isinstance(qsl_idx, bool) and qsl_idx in wanted


def _replace(truncation: Truncation, **changes: int) -> Truncation:
    return Truncation(**{**truncation.__dict__, **changes})


class _Truncated(Exception):
    """The parser met the truncation tool's marker (or a cut it explains)."""
