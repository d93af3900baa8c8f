"""A figure drawn against its bounds, for the HTML report: a small inline SVG bar (no script, no network).

The bar shows a scale around the bounds: the allowed band in green, each bound as a tick, and the value as a marker
(green inside its band, red beyond it). A two-sided band (TEST01's [0.90, 1.10]) takes the middle third of the
scale; a one-sided one (TEST04's speed-up up to 1.10, TEST07's score from its threshold) runs from 0 to twice its
bound. A value beyond the scale (a speed-up of 145) sits at its edge with an arrow, and the words say how far.
The SVG's ``data-*`` attributes give the numbers and the marker's place, for machines (the browser test reads them).
"""

from __future__ import annotations

from compliance.report import escape
from compliance.report.measure import Measure, number

WIDTH, HEIGHT, PAD = 160, 16, 6
GREEN, RED, BAND, TRACK, TICK = "#1a7f37", "#cf222e", "#aceebb", "#eaeef2", "#57606a"


def scale(m: Measure) -> tuple[float, float] | None:
    """The values at the left and right ends of the bar (None without a bound)."""
    if m.low is not None and m.high is not None:
        span = (m.high - m.low) or abs(m.high) or 1.0
        return m.low - span, m.high + span
    bound = m.high if m.high is not None else m.low
    if bound is None:
        return None
    if bound > 0:
        return 0.0, 2 * bound
    return bound - 1.0, bound + 1.0  # a bound at 0 or below: a unit either side


def _x(value: float, ends: tuple[float, float]) -> float:
    """Where ``value`` is on the bar, in pixels (clamped to the ends)."""
    left, right = ends
    share = (value - left) / (right - left) if right > left else 0.5
    return PAD + max(0.0, min(1.0, share)) * (WIDTH - 2 * PAD)


def margin_words(m: Measure) -> str:
    """How far the value is from its nearest bound: ``0.100 within the bound``, ``144.47 beyond the bound``."""
    margin = m.margin
    if margin is None:
        return ""
    digits = m.digits if m.digits is None or margin >= 0 else min(2, m.digits)
    shown = number(abs(margin), digits)
    return f"{shown}{m.unit and ' ' + m.unit} {'within' if margin >= 0 else 'beyond'} the bound"


def svg(m: Measure) -> str:
    """The bar of one measure, with its words beside it ("" when it has no bound)."""
    ends = scale(m)
    if ends is None:
        return ""
    colour = GREEN if m.passed else RED
    band_left = _x(m.low, ends) if m.low is not None else PAD
    band_right = _x(m.high, ends) if m.high is not None else WIDTH - PAD
    x = _x(m.value, ends)
    beyond = not (ends[0] <= m.value <= ends[1])
    ticks = "".join(
        f'<line x1="{_x(b, ends):.1f}" y1="1" x2="{_x(b, ends):.1f}" y2="{HEIGHT - 1}" stroke="{TICK}"/>'
        for b in (m.low, m.high)
        if b is not None
    )
    if beyond:  # an arrow at the edge it went past
        tip, back = (WIDTH - 1, WIDTH - PAD) if m.value > ends[1] else (1, PAD)
        marker = f'<polygon class="marker" points="{back},{2} {tip},{HEIGHT / 2} {back},{HEIGHT - 2}" fill="{colour}"/>'
    else:
        marker = f'<circle class="marker" cx="{x:.1f}" cy="{HEIGHT / 2}" r="4" fill="{colour}"/>'
    title = escape.html(f"{m.text()} ({margin_words(m)})")
    attributes = (
        f'data-value="{m.value!r}" data-low="{"" if m.low is None else repr(m.low)}" '
        f'data-high="{"" if m.high is None else repr(m.high)}" data-passed="{str(m.passed).lower()}" '
        f'data-x="{x:.1f}" data-band="{band_left:.1f},{band_right:.1f}" data-beyond="{str(beyond).lower()}"'
    )
    return (
        f'<div class="measure"><svg class="bar" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{title}" {attributes}><title>{title}</title>'
        f'<rect x="{PAD}" y="5" width="{WIDTH - 2 * PAD}" height="{HEIGHT - 10}" fill="{TRACK}"/>'
        f'<rect class="band" x="{band_left:.1f}" y="4" width="{band_right - band_left:.1f}" height="{HEIGHT - 8}" '
        f'fill="{BAND}"/>{ticks}{marker}</svg> '
        f'<span class="margin" style="color:{colour}">{escape.html(m.name)}: {escape.html(margin_words(m))}</span>'
        "</div>"
    )
