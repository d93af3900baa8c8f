"""The HTML report of a review, rendered by a real browser (headless Chromium): a finding's text is on the page, and
the filters in the URL's fragment run (its JavaScript hides the rows they exclude).

Skipped, with the reason, only where no Chromium is installed (``.ci/run`` installs Debian's ``chromium``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from compliance.plan import load_specs
from compliance.report.render import render
from compliance.review.engine import Options, review
from compliance.review.output import report
from tests.helpers import reviewtree as rt
from tests.helpers.browser import dump, needs_browser
from tests.helpers.paths import SHIPPED_SPECS

pytestmark = needs_browser


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The HTML report of a tree whose resnet Offline TEST01 is 50% slower than its submission run while its
    verify text says TEST PASS, and a second organisation with an honest cell."""
    folder = tmp_path_factory.mktemp("html")
    files = rt.honest()
    path = f"{rt.COMPLIANCE}/resnet/Offline/TEST01/performance/run_1/mlperf_log_detail.txt"
    files[path] = rt.set_values(files[path], result_samples_per_second=500.0)
    files.update({p.replace("closed/Acme/", "closed/Zeta/"): t for p, t in rt.llama_cell().items()})
    result = review(str(rt.write(folder / "tree", files)), load_specs(str(SHIPPED_SPECS)), Options(jobs=1))
    target = folder / "report.html"
    target.write_text(render(report(result), "html"), encoding="utf-8")
    return target


def test_a_finding_is_read_from_the_rendered_page(page: Path, tmp_path: Path) -> None:
    rows = dump(page, "", tmp_path / "profile")
    assert len(rows.rows) == 14 and all("hidden" not in attrs for attrs, _ in rows.rows)
    text = {attrs["data-test"]: " ".join(t) for attrs, t in rows.rows if attrs["data-status"] == "FAIL"}
    assert "verify_performance.txt says the test passes, but the logs beside it fail it" in text["TEST01"]
    assert re.search(r"result_samples_per_second 500 samples/s is 50\.0% lower", text["TEST01"])
    assert rows.shown_text == "14 of 14 shown"


def test_the_filters_in_the_fragment_hide_the_other_rows(page: Path, tmp_path: Path) -> None:
    rows = dump(page, "organisation=Acme&severity=error", tmp_path / "profile")
    visible = [attrs for attrs, _ in rows.rows if "hidden" not in attrs]
    assert [(a["data-organisation"], a["data-test"]) for a in visible] == [("Acme", "TEST01")]
    assert rows.shown_text == "1 of 14 shown"
    rows = dump(page, "organisation=Zeta", tmp_path / "profile")
    assert {a["data-organisation"] for a, _ in rows.rows if "hidden" not in a} == {"Zeta"}
    assert rows.shown_text == "3 of 14 shown"
