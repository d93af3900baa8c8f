"""The summary's HTML report, rendered by a real browser (headless Chromium): the page has its title and totals,
each row its figures drawn against their bounds (a speed-up of 145.57 beyond the 1.10 its band ends at, a ratio of
1.000 within [0.90, 1.10]), its attempts and links to its logs, and the filters in the URL's fragment run.

Skipped, with the reason, only where no Chromium is installed (``.ci/run`` installs Debian's ``chromium``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance import summary
from tests.helpers.browser import dump, needs_browser
from tests.helpers.summaryrows import table

pytestmark = needs_browser


def _number(value: str | None) -> float:
    assert value is not None
    return float(value)


@pytest.fixture
def page(tmp_path: Path) -> Path:
    target = tmp_path / "summary.html"
    target.write_text(summary.render(table(), "html", project=".", specs="specs"), encoding="utf-8")
    return target


def test_figures_are_drawn_against_their_bounds_with_attempts_and_links(page: Path, tmp_path: Path) -> None:
    rows = dump(page, "", tmp_path / "profile")
    assert rows.title.startswith("mlperf-compliance summary of ")
    assert rows.shown_text == "2 of 2 shown"
    by_test = {attrs["data-test"]: (text, inside) for (attrs, text), inside in zip(rows.rows, rows.inside, strict=True)}
    text, inside = by_test["TEST04"]
    [bar] = [a for tag, a in inside if tag == "svg"]
    low, high = (float(v) for v in str(bar["data-band"]).split(","))
    assert bar["data-passed"] == "false" and bar["data-beyond"] == "true" and _number(bar["data-x"]) > high
    assert [tag for tag, a in inside if a.get("class") == "marker"] == ["polygon"]  # an arrow at the edge
    assert "speed-up 145.57 > 1.10" in " ".join(text) and "speed-up: 144.47 beyond the bound" in " ".join(text)
    text, inside = by_test["TEST01"]
    [bar] = [a for tag, a in inside if tag == "svg"]
    low, high = (float(v) for v in str(bar["data-band"]).split(","))
    assert bar["data-passed"] == "true" and low < _number(bar["data-x"]) < high
    assert "perf 1.000 in [0.90, 1.10]" in " ".join(text) and "perf: 0.100 within the bound" in " ".join(text)
    attempts = [a.get("data-verdict") for tag, a in inside if tag == "li" and a.get("data-verdict")]
    assert attempts == ["FAIL", "PASS"] and "attempt 1 of 2" in " ".join(text)
    links = [a["href"] for tag, a in inside if tag == "a"]
    assert "build/box/resnet/Offline/TEST01/run.log" in links


def test_the_filters_in_the_fragment_hide_the_other_rows(page: Path, tmp_path: Path) -> None:
    rows = dump(page, "status=FAIL", tmp_path / "profile")
    visible = [attrs["data-test"] for attrs, _ in rows.rows if "hidden" not in attrs]
    assert visible == ["TEST04"] and rows.shown_text == "1 of 2 shown"
