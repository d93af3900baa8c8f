"""The review in the build (``review:<system>``, issue 20 item 5): after a system's publish tasks, doit reviews the
system's part of the submission tree, the user's own files in it included, and reruns the review only when a file
there changed; an error fails the review's row (and doit), a warning is shown as a finding, a check the tree does
not allow (NOT CHECKABLE) fails nothing.

The system runs the synthetic harness of tests/helpers/harness.py (written LoadGen logs of retinanet's TEST01: the
verdicts are certain), its submission's results given by the user inside the tree. The demo's own trees are
reviewed in tests/integration/test_quick_start.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import harness as h
from tests.helpers.paths import write_tree
from tests.helpers.projects import doit, executed, make_project, summary_rows

pytestmark = pytest.mark.slow

SYSTEM = (
    "name: rev\nround: v5.0\ndivision: closed\nsubmitter: Acme\nsubmission_dir: submission\n"
    "upload: {performance_rules: false}\n"  # a harness of written logs, with LoadGen's default seeds
    "benchmarks:\n  retinanet:\n    scenarios: [Offline]\n    workdir: work\n"
    "    command: '{python} ../harness.py {log_dir} calls/rev'\n"
    "    results: submission/closed/Acme/results/rev/retinanet/{scenario}\n"
)
CELLS = "submission/closed/Acme/compliance/rev/retinanet"


def _review(project: Path) -> dict:
    [row] = [r for r in summary_rows(project) if r["test"] == "review"]
    return row


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_project(tmp_path_factory.mktemp("review-task"), {"rev": SYSTEM})
    results = {"closed": {"Acme": {"results": {"rev": {"retinanet": {"Offline": h.results()}}}}}}
    logs = h.compliance_logs(995.0)  # a run of its own: not a byte copy of the submission's
    write_tree(root, {"harness.py": h.SCRIPT, "work": {}, "attempts": {"rev": {"1": logs}}, "submission": results})
    built = doit(root)
    assert built.returncode == 0 and "review:rev" in executed(built)
    return root


def test_the_review_follows_publishing_and_passes_an_honest_tree(project: Path) -> None:
    row = _review(project)
    assert (row["system"], row["benchmark"], row["scenario"], row["status"]) == ("rev", "-", "-", "PASS")
    # the TEST folder and the user's two results folders; the accuracy run's folder holds no detail log
    assert row["figures"] == "3 folders reviewed: 2 PASS, 1 NOT CHECKABLE"
    assert {f["severity"] for f in row["findings"]} == {"info"}
    assert row["links"] == [{"label": "review.json", "path": "build/rev/review.json"}]
    again = doit(project)
    assert again.returncode == 0 and executed(again) == set()


def test_files_copied_by_hand_are_reviewed_and_an_error_fails_the_row(project: Path) -> None:
    cells = project / CELLS
    shutil.copytree(cells / "Offline/TEST01", cells / "Server/TEST01")  # a TEST folder copied by hand
    try:
        found = doit(project)
        assert found.returncode == 1 and executed(found) == {"review:rev"}  # nothing else reruns
        assert "FAIL     rev/-/-/review: TEST01 retinanet/" in found.stdout
        row = _review(project)
        assert row["status"] == "FAIL" and row["kind"] == "verification"
        rules = {(f["severity"], f["rule"], f["path"].removeprefix(CELLS + "/")) for f in row["findings"]}
        assert ("error", "scenario-mismatch", "Server/TEST01/performance/run_1/mlperf_log_detail.txt") in rules
        assert ("warning", "orphan-test-folder", "Server/TEST01") in rules
        (project / "build/rev/review.json").unlink()
        alone = doit(project, "review:rev")  # asked for on its own, the task itself fails
        assert alone.returncode == 1 and executed(alone) == {"review:rev"}
        assert "review:rev: 3 findings of severity error (doit summary)" in alone.stderr  # 2 copies, 1 mismatch
    finally:
        shutil.rmtree(cells / "Server")
    mended = doit(project)
    assert mended.returncode == 0 and executed(mended) == {"review:rev"} and _review(project)["status"] == "PASS"


def test_a_warning_is_a_finding_and_changes_elsewhere_review_nothing(project: Path) -> None:
    stray = project / CELLS / "Offline" / "mlperf_log_summary.txt"  # a log left outside its TEST folder
    stray.write_text(h.compliance_logs(990.0)["mlperf_log_summary.txt"], encoding="utf-8")
    try:
        assert executed(doit(project)) == {"review:rev"}
        row = _review(project)
        found = {(f["severity"], f["rule"]) for f in row["findings"]}
        assert row["status"] == "PASS" and ("warning", "logs-misfiled") in found and "error" not in str(found)
    finally:
        stray.unlink()
    write_tree(project, {"submission": {"closed": {"Other": {"notes.txt": "another organisation's"}}}})
    assert executed(doit(project)) == {"review:rev"}  # the stray log went: reviewed again
    assert executed(doit(project)) == set()  # another organisation's file is not the system's part of the tree
