"""The two scanners of wanted qsl_idx keys (compiled and regex) give the same answers, and the right ones."""

from __future__ import annotations

import random

import pytest

from compliance.logs import scan
from compliance.logs.scan import CompiledScanner, RegexScanner

needs_compiled = pytest.mark.skipif(
    not scan.COMPILED,
    reason="the compiled scanner was not built (no C compiler at install); the regex scanner is tested alone",
)

WANTED = [0, 7, 42, 1234, 99999, 10**19 - 1]
# Pieces that make keys, near-keys, and the numbers and characters that decide a match
PIECES = [
    b'"qsl_idx" : ',
    b'"qsl_idx":',
    b'"qsl_idx" : ',
    b'"qsl_idx"',
    b'"qsl_idx"qsl_idx"',
    b"qsl_idx",
    b'"qsl_id"',
    b'"',
    b"q",
    b" ",
    b"\t",
    b"\n",
    b"\r",
    b"\v",
    b"\f",
    b":",
    b" : ",
    b"0",
    b"00",
    b"7",
    b"42",
    b"042",
    b"1234",
    b"12345",
    b"99999",
    b"9999999999999999999",
    b"99999999999999999999",
    b"18446744073709551623",
    b".",
    b"e",
    b"E",
    b"-",
    b",",
    b"{",
    b"}",
    b"AB",
    b'"data" : "0A"',
]


def _answers(block: bytes, start: int, wanted: list[int]) -> list[tuple[int, int, int]]:
    """The answer of each scanner there is: the regex one, then the compiled one when it was built."""
    scanners = [RegexScanner(wanted)] + ([CompiledScanner(wanted)] if scan.COMPILED else [])
    return [scanner.search(block, start) for scanner in scanners]


@needs_compiled
@pytest.mark.parametrize(
    ("wanted", "bitmap"),
    [(WANTED, False), (WANTED[:-1], True), ([42], True), ([7, 99999], True)],
    ids=["binary search (a 19-digit number)", "bitmap", "bitmap of one", "bitmap edges"],
)
def test_random_blocks_agree(wanted: list[int], bitmap: bool) -> None:
    assert bool(CompiledScanner(wanted).bitmap) is bitmap  # both ways of looking a number up are tested
    rng = random.Random(7)
    matched = 0
    for _ in range(20000):
        block = b"".join(rng.choice(PIECES) for _ in range(rng.randrange(1, 30)))
        start = rng.randrange(len(block) + 1)
        regex, compiled = _answers(block, start, wanted)
        assert compiled == regex, (block, start)
        matched += regex[0] >= 0
    assert matched > 100  # the pieces do make wanted keys often


@pytest.mark.parametrize(
    ("block", "start", "expected"),
    [
        (b'{ "qsl_idx" : 42, "data" : "AB" }', 0, (2, 16, 0)),
        (b'{ "qsl_idx" : 41 }, { "qsl_idx" : 42 }', 0, (22, 36, 1)),
        (b'{ "qsl_idx" : 42 }', 3, (-1, -1, 0)),  # the key starts before `start`
        (b'{ "qsl_idx" : 4', 0, (-1, -1, 1)),  # not wanted (yet): the reader reads on
        (b'{ "qsl_idx" : 42', 0, (2, 16, 0)),  # the number may go on in the next block: match_end == len
        (b'"qsl_idx"\n:\v7}', 0, (0, 13, 0)),
        (b'"qsl_idx" : 042', 0, (-1, -1, 1)),  # not the decimal form of a number
        (b'"qsl_idx" : 42.0', 0, (-1, -1, 1)),  # not an integer
        (b'"qsl_idx" : 42e1', 0, (-1, -1, 1)),
        (b'"qsl_idx" : -42', 0, (-1, -1, 1)),
        (b'"qsl_idx" : 9999999999999999999', 0, (0, 31, 0)),  # 19 digits: the largest the compiled scanner holds
        (b'"qsl_idx" : 18446744073709551623', 0, (-1, -1, 1)),  # 20 digits, 7 modulo 2**64: not wanted
        (b'"qsl_idx"qsl_idx" : 7', 0, (8, 21, 0)),  # overlapping keys: bytes.count counts neither before the match
        (b'"qsl_idx", "qsl_idx" : 7', 0, (11, 24, 1)),
        (b"", 0, (-1, -1, 0)),
    ],
)
def test_known_answers(block: bytes, start: int, expected: tuple) -> None:
    answers = _answers(block, start, WANTED)
    assert answers == [expected] * len(answers)


def test_empty_wanted_never_matches() -> None:
    answers = _answers(b'"qsl_idx" : 0, "qsl_idx" : 1', 0, [])
    assert answers == [(-1, -1, 2)] * len(answers)


def test_numbers_beyond_the_compiled_range_use_the_regex() -> None:
    chosen = scan.scanner([10**20, 5])
    assert isinstance(chosen, RegexScanner)
    assert chosen.search(b'"qsl_idx" : 100000000000000000000}', 0) == (0, 33, 0)
    assert isinstance(scan.scanner([5]), CompiledScanner if scan.COMPILED else RegexScanner)


def test_the_environment_can_set_the_compiled_scanner_aside(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(scan.ENV, "regex")
    assert scan.in_use() == "regex" and isinstance(scan.scanner([5]), RegexScanner)
    monkeypatch.delenv(scan.ENV)
    assert scan.in_use() == ("compiled" if scan.COMPILED else "regex")


def test_wanted_numbers_are_the_non_negative_integers() -> None:
    assert scan.wanted_numbers([3, 1, 3, -1, "2", 2.0, None]) == [1, 3]


@needs_compiled
def test_compiled_scanner_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="start out of range"):
        CompiledScanner([1]).search(b"abc", 4)
    with pytest.raises(ValueError, match="uint64"):
        scan._scan.search(b"abc", 0, b"1234567")
