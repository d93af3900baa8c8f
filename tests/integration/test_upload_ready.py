"""The quick start's trees are upload-ready (issue 21): the official truncation after the tool changes nothing and the
tool after it runs nothing; with the submitter's files added and the truncation run, the summary is green; a file
edited, deleted or cut by hand is STALE, named, and ``doit`` puts the tool's version back; a new verification
publishes the upload form again (never the full log).

The truncation here is tests/helpers/officialchain.py, written from the script's documented behaviour (docs/rules.md
§8.1) at the v5.0 round's commit (``round``) and at b66003e (``head``); tests/integration/test_official_chain.py runs
the real script when a checkout is given. The build is made once; the tests then run in order on it."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.helpers import officialchain
from tests.helpers.projects import DemoBuild, doit, executed, summary_rows

TREES = {"build/submission-v5.0": ("v5.0", ("round", "head")), "build/submission-v6.0": ("v6.0", ("head",))}
V5 = "build/submission-v5.0/closed/Demo/compliance/demo"
V6 = "build/submission-v6.0/closed/Demo/results/demo-v6"


@pytest.fixture(scope="module")
def demo(demo_build: DemoBuild) -> Path:
    return demo_build.project


def _truncate_all(project: Path) -> dict[str, list[str]]:
    told = {}
    for tree, (_, eras) in TREES.items():
        for era in eras:
            told[f"{tree} {era}"] = officialchain.truncate_tree(project / tree, "Demo", era)
    return told


def _snapshot(project: Path) -> dict[str, bytes]:
    return {tree: officialchain.snapshot(project / tree) for tree in TREES}  # type: ignore[misc]


def _rows(project: Path) -> dict[tuple[str, str, str, str], dict[str, str]]:
    return {(r["system"], r["benchmark"], r["scenario"], r["test"]): r for r in summary_rows(project, trees=True)}


def _rules(row: dict) -> set[str]:
    """The rules of a summary row's findings (the JSON summary's objects)."""
    return {f["rule"] for f in row["findings"]}


def test_the_truncation_after_the_tool_changes_nothing_and_the_tool_after_it_runs_nothing(demo: Path) -> None:
    before = _snapshot(demo)
    told = _truncate_all(demo)
    assert _snapshot(demo) == before, told
    assert any("already has hash and size seems truncated" in line for line in told["build/submission-v6.0 head"])
    again = doit(demo)
    assert again.returncode == 0 and executed(again) == set()  # the checks of the trees may look again
    rows = _rows(demo)
    assert rows and all(r["status"] == "PASS" for r in rows.values())
    _truncate_all(demo)
    assert _snapshot(demo) == before


def _complete(project: Path) -> None:
    """The submitter's files, as bench/official_chain.py adds them (accuracy.txt, measurements, systems, code)."""
    from bench.official_chain import complete
    from compliance.plan import load_specs

    specs = load_specs(project / "specs")
    for tree, (round_, _) in TREES.items():
        systems = [s for s in specs.systems.values() if s.round == round_]
        complete(project / tree, systems, specs.rounds[round_])


def test_with_the_submitters_files_and_the_truncation_the_summary_is_green(demo: Path) -> None:
    results_log = demo / V6 / "gpt-oss-120b/Offline/accuracy/mlperf_log_accuracy.json"
    assert results_log.stat().st_size > 50 << 20
    rows = _rows(demo)
    assert "truncation-pending" in _rules(rows[("demo-v6", "gpt-oss-120b", "Offline", "pre-flight")])
    _complete(demo)
    told = _truncate_all(demo)
    assert results_log.stat().st_size == 8199, told
    accuracy_txt = (results_log.parent / "accuracy.txt").read_text()
    assert accuracy_txt.count("hash=") == 1  # appended to the submitter's text
    after = _snapshot(demo)
    again = doit(demo)
    # the tree changed (the submitter's files, the results logs cut): its review and pre-flight look again, no cell
    assert again.returncode == 0 and executed(again) == {"review:demo", "review:demo-v6"}
    assert "preflight:build/submission-v6.0" in executed(again, trees=True)
    rows = _rows(demo)
    assert all(r["status"] == "PASS" for r in rows.values()), [r for r in rows.values() if r["status"] != "PASS"]
    preflight = [r for key, r in rows.items() if key[3] == "pre-flight"]
    assert preflight and not any("user-file-missing" in _rules(r) for r in preflight)
    assert not any("truncation-pending" in _rules(r) for r in preflight)
    row = rows[("demo-v6", "gpt-oss-120b", "Offline", "pre-flight")]
    assert any("C1: preprocess_submission.py crashes" in f["message"] for f in row["findings"])
    _truncate_all(demo)
    assert _snapshot(demo) == after


def test_edited_deleted_and_hand_cut_files_are_stale_and_doit_restores_them(demo: Path) -> None:
    before = _snapshot(demo)
    edited = demo / V5 / "resnet/Offline/TEST04/verify_performance.txt"
    edited.write_text(edited.read_text().replace("TEST PASS", "TEST FAIL"))
    deleted = demo / V6 / "resnet/Offline/TEST01/accuracy/accuracy.txt"
    deleted.unlink()
    cut = demo / V6 / "gpt-oss-120b/Offline/TEST09/accuracy/mlperf_log_accuracy.json"
    text = cut.read_bytes()
    cut.write_bytes(text[:3000] + b"\n\n...\n\n" + text[-3000:])
    run_log = demo / V6 / "resnet/Offline/performance/run_1/mlperf_log_summary.txt"
    run_log.write_text(run_log.read_text() + "an edit\n")
    rows = _rows(demo)
    stale = {key: r["reason"] for key, r in rows.items() if r["status"] == "STALE"}
    assert stale[("demo", "resnet", "Offline", "TEST04")].endswith(
        f"{edited.relative_to(demo)} changed in the submission tree since it was written (edited)"
    )
    assert stale[("demo-v6", "resnet", "Offline", "TEST01")].endswith(
        f"{deleted.relative_to(demo)} is missing from the submission tree"
    )
    assert stale[("demo-v6", "gpt-oss-120b", "Offline", "TEST09")].endswith(
        f"{cut.relative_to(demo)} was cut otherwise than the official truncation cuts it"
    )
    assert stale[("demo-v6", "resnet", "Offline", "performance")].startswith(f"{run_log.relative_to(demo)} changed")
    restored = doit(demo)
    assert restored.returncode == 0 and executed(restored) == {
        "publish:demo/resnet/Offline/TEST04",
        "publish:demo-v6/resnet/Offline/TEST01",
        "publish:demo-v6/gpt-oss-120b/Offline/TEST09",
        "publish:demo-v6/resnet/Offline/performance",
    }
    assert _snapshot(demo) == before
    assert all(r["status"] == "PASS" for r in _rows(demo).values())


def test_a_new_verification_publishes_the_upload_form_again(demo: Path) -> None:
    """The loop with the mandatory truncation is gone: re-verified, TEST09 goes back into the tree cut, with its hash
    line (and the tree as the truncation leaves it is the tool's)."""
    detail = demo / "build/demo-v6/gpt-oss-120b/Offline/TEST09/logs/mlperf_log_detail.txt"
    later = time.time() + 5
    os.utime(detail, (later, later))
    tree_log = demo / V6 / "gpt-oss-120b/Offline/TEST09/accuracy/mlperf_log_accuracy.json"
    before = tree_log.read_bytes()
    again = doit(demo)
    assert {"verify:demo-v6/gpt-oss-120b/Offline/TEST09", "publish:demo-v6/gpt-oss-120b/Offline/TEST09"} <= executed(
        again
    )
    assert tree_log.read_bytes() == before and len(before) == 8199
    full = demo / "build/demo-v6/gpt-oss-120b/Offline/TEST09/verify/TEST09/accuracy/mlperf_log_accuracy.json"
    assert full.stat().st_size > 50 << 20  # the full log stays in build/
    record = json.loads((demo / "build/demo-v6/gpt-oss-120b/Offline/TEST09/publish.json").read_text())
    identity = record["files"]["accuracy/mlperf_log_accuracy.json"]
    assert identity["log"] is True and len(identity["sha256"]) == 64 and len(identity["whole"]) == 64
