"""Review on real published folders (``../shared/fixtures/published``: TEST folders of rounds v4.1 and v5.1 with their
cells' submission runs, chosen to hold no known defect). Skipped when ``../shared`` is absent.

They are a subset of their trees: a cell may miss a TEST folder the round requires (its other folders were not
copied), and the orphan TEST folders of a withdrawn cell are kept; nothing else may be found wrong in them.
"""

from __future__ import annotations

import pytest

from compliance.plan import load_specs
from compliance.review.engine import Options, Review, review
from tests.helpers.paths import PUBLISHED, SHIPPED_SPECS

pytestmark = pytest.mark.skipif(not PUBLISHED.is_dir(), reason="../shared/fixtures/published is not here")
SPECS = load_specs(str(SHIPPED_SPECS))
#: what the subset itself makes (missing folders, withdrawn cells), and the infos of what the rules allow
SUBSET = {"test-missing", "orphan-test-folder"}


@pytest.fixture(scope="module", params=["v4.1", "v5.1"])
def reviewed(request: pytest.FixtureRequest) -> Review:
    if request.param not in SPECS.rounds:
        pytest.skip(f"no round spec {request.param} here")
    return review(str(PUBLISHED / request.param), SPECS, Options(jobs=2))


def checks(result: Review, test: str) -> list[dict[str, dict]]:
    return [{c["name"]: c for c in r.checks} for r in result.records if r.test == test and r.kind == "test"]


def test_the_round_is_told_by_the_logs(reviewed: Review) -> None:
    assert reviewed.root.endswith(reviewed.round) and reviewed.round_evidence.startswith(
        f"the seeds of {reviewed.round} in "
    )


def test_every_folder_is_reviewed_and_nothing_is_refused(reviewed: Review) -> None:
    rules = {f.rule for r in reviewed.records for f in r.findings}
    assert not rules & {"review-crashed", "log-unreadable", "test-files-missing", "verify-text-pass-over-fail"}
    assert len([r for r in reviewed.records if r.kind == "test"]) >= 30


def test_nothing_is_wrong_but_what_the_subset_makes(reviewed: Review) -> None:
    errors = [(f.rule, f.path) for r in reviewed.records for f in r.findings if f.severity.value != "info"]
    assert {rule for rule, _ in errors} <= SUBSET, errors


def test_every_test01_gets_performance_evidence_and_cleanliness_checked(reviewed: Review) -> None:
    found = checks(reviewed, "TEST01")
    assert found
    for named in found:
        if "performance" not in named:  # a withdrawn cell: nothing to compare with, said so
            assert named["re-verification"]["outcome"] == "NOT CHECKABLE"
            continue
        assert named["performance"]["outcome"] == "PASS"
        assert named["audit config in effect"]["outcome"] == "PASS"
        assert named["submission runs without audit config"]["outcome"] == "PASS"
        accuracy = named["accuracy"]
        assert accuracy["outcome"] in ("PASS", "NOT CHECKABLE")
        if accuracy["outcome"] == "NOT CHECKABLE":
            assert accuracy["cause"] == "truncated accuracy log"


def test_test06_folders_without_their_run_s_log_say_so(reviewed: Review) -> None:
    for named in checks(reviewed, "TEST06"):
        evidence = named["audit config in effect"]
        assert evidence["outcome"] in ("PASS", "NOT CHECKABLE")
        if evidence["outcome"] == "NOT CHECKABLE":
            assert evidence["cause"] == "no detail log"
        assert all(c["outcome"] != "FAIL" for c in named.values())
