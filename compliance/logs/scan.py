"""Find the entries an accuracy-log reader wants among millions it skips: the first wanted ``"qsl_idx"`` key of a block.

A scanner is built for a set of wanted ``qsl_idx`` values and called once per block of the log:
``scanner.search(block, start) -> (match_start, match_end, count)``, where the match is the first
``"qsl_idx" : N`` key with N wanted (``match_start`` is -1 when there is none; ``match_end`` may be the end of the
block, when the number may go on in the next one) and ``count`` is the number of ``"qsl_idx"`` keys before it (to
the end of the block when there is none), so that the reader can count the entries it skips.

Two implementations give the same answers (tests/test_scan.py checks it on random and on adversarial blocks): a
compiled one (``compliance/_scan.c``, memchr-based, built at install when a C compiler is there) and a regex one
(the standard library only, about 3 times slower on logs of small entries: docs/performance.md).
"""

from __future__ import annotations

import os
import re
from array import array
from collections.abc import Collection

try:
    from compliance.logs import _scan  # type: ignore[attr-defined]
except ImportError:  # installed without a C compiler: the regex scanner gives the same answers, more slowly
    _scan = None

KEY = b'"qsl_idx"'
ENV = "MLPERF_COMPLIANCE_SCANNER"  # "regex" sets the compiled scanner aside (to compare, or to rule it out)
COMPILED = _scan is not None
_MAX_COMPILED = 10**19 - 1  # the compiled scanner holds numbers of at most 19 digits (uint64)


def wanted_numbers(wanted: Collection[object]) -> list[int]:
    """The ``qsl_idx`` values a key can match: non-negative integers, sorted, without repeats."""
    return sorted({int(n) for n in wanted if isinstance(n, int) and n >= 0})


class RegexScanner:
    """The standard-library scanner: one regex, a trie of the wanted numbers' digits, then ``bytes.count``."""

    def __init__(self, numbers: list[int]):
        """``numbers``: the wanted ones, as :func:`wanted_numbers` gives them."""
        self.pattern = _wanted_regex(numbers)

    def search(self, block: bytes, start: int) -> tuple[int, int, int]:
        match = self.pattern.search(block, start)
        if match is None:
            return -1, -1, block.count(KEY, start)
        return match.start(), match.end(), block.count(KEY, start, match.start())


#: the compiled scanner looks the wanted numbers up in a bitmap when the largest is below this (a bitmap of at most
#: 8 MB; qsl_idx values are sample numbers, well below it), else by a binary search
BITMAP_LIMIT = 1 << 26


class CompiledScanner:
    """The compiled scanner (``compliance._scan``): memchr for each key, then a bitmap (or a binary search) of the
    wanted numbers."""

    def __init__(self, numbers: list[int]):
        """``numbers``: the wanted ones, as :func:`wanted_numbers` gives them (at most 19 digits)."""
        self.wanted = array("Q", numbers)
        bits = bytearray((numbers[-1] >> 3) + 1 if numbers and numbers[-1] < BITMAP_LIMIT else 0)
        for n in numbers if bits else ():
            bits[n >> 3] |= 1 << (n & 7)
        self.bitmap = bytes(bits)

    def search(self, block: bytes, start: int) -> tuple[int, int, int]:
        return _scan.search(block, start, self.wanted, self.bitmap)


def in_use() -> str:
    """The scanner used for wanted numbers of up to 19 digits: ``compiled`` or ``regex`` (not built, or set aside)."""
    return "compiled" if COMPILED and os.environ.get(ENV, "").lower() != "regex" else "regex"


def scanner(wanted: Collection[object]) -> RegexScanner | CompiledScanner:
    """The fastest scanner that can hold these wanted numbers."""
    numbers = wanted_numbers(wanted)
    if in_use() == "compiled" and (not numbers or numbers[-1] <= _MAX_COMPILED):
        return CompiledScanner(numbers)
    return RegexScanner(numbers)


def _wanted_regex(numbers: list[int]) -> re.Pattern[bytes]:
    """A regex matching ``"qsl_idx" : N`` for the wanted N only, as a trie of their digits (fast in C)."""
    trie: dict = {}
    for number in numbers:
        node = trie
        for digit in str(number):
            node = node.setdefault(digit, {})
        node[""] = {}

    def pattern(node: dict) -> str:
        ends = "" in node
        parts = [digit + pattern(child) for digit, child in sorted(node.items()) if digit]
        if not parts:
            return ""
        body = parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"
        return f"(?:{body})?" if ends else body

    body = pattern(trie) or "(?!)"
    return re.compile(KEY + rb"\s*:\s*" + body.encode() + rb"(?![0-9.eE])")
