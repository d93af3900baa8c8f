"""The published verify texts of a TEST folder: whether each passes by the checker's rule, and the figures it prints.

The checker's rules (docs/rules.md §5.3, domain.md §5.3 item 3-4): TEST01 ``verify_accuracy.txt`` passes on a line
that is exactly ``TEST PASS`` once stripped; every ``verify_performance.txt`` on ``TEST PASS`` anywhere in a line;
TEST06 ``verify_accuracy.txt`` on the three lines ``First token check pass: True`` (or ``Skipped``), ``EOS check
pass: True`` and ``Sample length check pass: True``; TEST07 and TEST09 on the substring; TEST08 on an exact line.
The figures: ``reference score = X`` and ``test score = Y`` (``Reference``/``Test`` in newer TEST01 texts) of a
performance text, and the ``num_* = N`` counts of TEST01's accuracy text.
"""

from __future__ import annotations

import re

from compliance.layout import VERIFY_ACCURACY, VERIFY_OUTPUT_LEN, VERIFY_PERFORMANCE

#: the most of a verify text that is read (they are a few hundred bytes; a longer one is read this far)
MAX_TEXT = 1 << 20
TEST06_LINES = (
    ("First token check pass: True", "First token check pass: Skipped"),
    ("EOS check pass: True",),
    ("Sample length check pass: True",),
)
_EXACT_LINE = {("TEST01", VERIFY_ACCURACY), ("TEST08", VERIFY_ACCURACY)}
_SCORE = re.compile(r"^\s*(reference|test) score\s*=\s*(\S+)\s*$", re.IGNORECASE | re.MULTILINE)
_COUNT = re.compile(r"^\s*(num_[a-z_]+)\s*=\s*(-?\d+)\s*$", re.MULTILINE)


def text_files(test: str) -> tuple[str, ...]:
    """The verify texts the checker reads in a folder of ``test`` (domain.md §5.3)."""
    return {
        "TEST01": (VERIFY_ACCURACY, VERIFY_PERFORMANCE),
        "TEST04": (VERIFY_PERFORMANCE,),
        "TEST05": (VERIFY_PERFORMANCE,),
        "TEST06": (VERIFY_ACCURACY,),
        "TEST07": (VERIFY_ACCURACY,),
        "TEST08": (VERIFY_ACCURACY,),
        "TEST09": (VERIFY_OUTPUT_LEN,),
    }.get(test, ())


def read(path: str) -> str | None:
    """A verify text (None when it is not there or cannot be read)."""
    try:
        with open(path, "rb") as f:
            return f.read(MAX_TEXT).decode("utf-8", "replace")
    except OSError:
        return None


def passes(test: str, name: str, text: str) -> bool:
    """Whether the checker passes this text."""
    lines = [line.strip() for line in text.splitlines()]
    if test == "TEST06" and name == VERIFY_ACCURACY:
        return all(any(choice in lines for choice in choices) for choices in TEST06_LINES)
    if (test, name) in _EXACT_LINE:
        return "TEST PASS" in lines
    return "TEST PASS" in text


def scores(text: str) -> dict[str, tuple[float, float]]:
    """``reference`` and ``test`` scores of a performance text (those it prints as numbers), each with the
    precision it was printed with (:func:`printed_precision`)."""
    found: dict[str, tuple[float, float]] = {}
    for match in _SCORE.finditer(text):
        try:
            found.setdefault(match.group(1).lower(), (float(match.group(2)), printed_precision(match.group(2))))
        except ValueError:
            continue
    return found


def counts(text: str) -> dict[str, int]:
    """The ``num_* = N`` counts of TEST01's accuracy text."""
    found: dict[str, int] = {}
    for match in _COUNT.finditer(text):
        found.setdefault(match.group(1), int(match.group(2)))
    return found


def printed_precision(text_value: str) -> float:
    """Half a unit of the last digit a number was printed with (``18.5856`` -> 0.00005; ``5.1789e+06`` -> 50)."""
    mantissa, _, exponent = text_value.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    return 0.5 * 10 ** (-decimals + (int(exponent) if exponent.lstrip("+-").isdigit() else 0))


def same_number(printed: float, actual: float, precision: float = 0.0) -> bool:
    """Whether a printed figure is ``actual`` as printed (its rounding, or 1e-4 relative)."""
    return abs(printed - actual) <= max(precision, 1e-4 * abs(actual), 1e-9)
