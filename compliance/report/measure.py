"""A figure measured against its bounds (a TEST01 performance ratio within [0.90, 1.10], a TEST04 speed-up up to
1.10, a TEST09 mean length within its model's bounds): one object for the tables' few words, the HTML report's bar
and the JSON's numbers.

A passing figure reads as the condition it meets (``perf 1.000 in [0.90, 1.10]``, ``speed-up 1.000 <= 1.10``); a
failing one as the condition it broke (``speed-up 145.57 > 1.10``, ``perf 0.87 < 0.90``), its value with as many
decimals as it takes to differ from the bound it broke (``speed-up 1.1004 > 1.10``).

Layer: the report's; it imports nothing of the project.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

#: the most decimals a failing value is given to tell it from its bound (then all it has)
_MOST_DIGITS = 6


def number(value: float, digits: int | None) -> str:
    """``value`` with ``digits`` decimals, or in its shortest form (``:g``) when ``digits`` is None."""
    if not math.isfinite(value):
        return str(value)
    return f"{value:g}" if digits is None else f"{value:.{digits}f}"


@dataclass(frozen=True)
class Measure:
    """A figure and its bounds: ``low <= value <= high`` (``high_strict``: ``value < high``); a bound that is None
    does not apply. ``passed`` is the check's own outcome (the verifier's verdict, not recomputed here)."""

    name: str  # e.g. "perf", "speed-up", "mean length"
    value: float
    passed: bool
    low: float | None = None
    high: float | None = None
    high_strict: bool = False
    digits: int | None = 3  # decimals of the value (None: its shortest form)
    bound_digits: int | None = 2  # decimals of the bounds
    unit: str = ""  # what the value counts ("" for a ratio)

    def _bound(self, bound: float) -> str:
        return number(bound, self.bound_digits)

    def _apart(self, bound: float) -> str:
        """The value with enough decimals (as many as it shows passing, at most 2 to begin with) that it does not
        read as the bound it broke."""
        shown = self._bound(bound)
        if self.digits is None and number(self.value, None) != shown:
            return number(self.value, None)
        for digits in range(min(2, 2 if self.digits is None else self.digits), _MOST_DIGITS + 1):
            text = number(self.value, digits)
            if text != shown and float(text) != bound:
                return text
        return f"{self.value:.12g}"

    def text(self) -> str:
        """The figure in a few words: the condition it meets, or the one it broke."""
        value, low, high = self.value, self.low, self.high
        if self.passed:
            shown = number(value, self.digits)
            if low is not None and high is not None:
                return f"{self.name} {shown} in [{self._bound(low)}, {self._bound(high)}]"
            if high is not None:
                return f"{self.name} {shown} {'<' if self.high_strict else '<='} {self._bound(high)}"
            if low is not None:
                return f"{self.name} {shown} >= {self._bound(low)}"
            return f"{self.name} {shown}"
        if low is not None and value < low:
            return f"{self.name} {self._apart(low)} < {self._bound(low)}"
        if high is not None and value > high:
            return f"{self.name} {self._apart(high)} > {self._bound(high)}"
        if high is not None and self.high_strict and value >= high:
            return f"{self.name} {number(value, self.digits)} >= {self._bound(high)}"
        # failed by the check's own arithmetic, yet the rounded numbers do not show it: say both
        bounds = [
            f">= {self._bound(low)}" if low is not None else "",
            f"<= {self._bound(high)}" if high is not None else "",
        ]
        wanted = " and ".join(b for b in bounds if b)
        return f"{self.name} {value:.12g} fails" + (f" (needs {wanted})" if wanted else "")

    @property
    def margin(self) -> float | None:
        """How far the value is inside its nearest bound (negative: how far beyond it); None without bounds."""
        inside = [self.value - self.low] if self.low is not None else []
        inside += [self.high - self.value] if self.high is not None else []
        return min(inside) if inside else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "low": self.low,
            "high": self.high,
            "high_strict": self.high_strict,
            "passed": self.passed,
            "margin": self.margin,
            "unit": self.unit,
            "text": self.text(),
        }
