"""reference: {publish: true}: the submission runs the tool produced are copied into the tree's results layout,
never over a results folder the tool did not write, and withdrawn when they stop passing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.projects import doit, executed, make_project, system_yaml, tool

RESULTS = "submission/closed/Acme/results/box/resnet/Offline"
LOGS = ["mlperf_log_accuracy.json", "mlperf_log_detail.txt", "mlperf_log_summary.txt"]


def _project(root: Path) -> Path:
    text = system_yaml("box", "v5.0", {"resnet": {"scenarios": ["Offline"]}}).replace(
        "    reference: {}\n", "    reference: {publish: true}\n"
    )
    return make_project(root, {"box": text})


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def _summary(project: Path) -> dict[str, dict]:
    result = doit(project, "summary", "--format", "json")
    return {f"{r['benchmark']}/{r['scenario']}/{r['test']}": r for r in json.loads(result.stdout)["rows"]}


def test_produced_runs_appear_in_the_results_layout(tmp_path: Path) -> None:
    pytest.importorskip("mlperf_loadgen")
    project = _project(tmp_path / "p")
    assert doit(project).returncode == 0
    results = project / RESULTS
    assert _files(results) == [f"accuracy/{n}" for n in LOGS] + [f"performance/run_1/{n}" for n in LOGS]
    built = project / "build/box/resnet/Offline/reference/performance/run_1/mlperf_log_detail.txt"
    assert (results / "performance/run_1/mlperf_log_detail.txt").read_bytes() == built.read_bytes()
    rows = _summary(project)
    assert rows["resnet/Offline/accuracy"]["status"] == rows["resnet/Offline/performance"]["status"] == "PASS"

    again = doit(project)
    assert again.returncode == 0 and executed(again) == set()  # a second doit runs nothing

    # a rerun with the submission runs copies the new runs into the tree too, and shows their rows
    before = (results / "performance/run_1/mlperf_log_detail.txt").read_bytes()
    done = tool(project, "rerun", "box/resnet/Offline", "--submission-runs")
    assert done.returncode == 0 and "2 cells: 2 PASS; submission runs in the tree: 2 PASS" in done.stdout
    assert {"publish:box/resnet/Offline/accuracy", "publish:box/resnet/Offline/performance"} <= executed(done)
    assert (results / "performance/run_1/mlperf_log_detail.txt").read_bytes() != before  # the new run's log
    assert (results / "performance/run_1/mlperf_log_detail.txt").read_bytes() == built.read_bytes()
    assert executed(doit(project)) == set()

    (results / "accuracy/mlperf_log_detail.txt").unlink()  # a file the tool wrote, gone: copied again
    assert executed(doit(project)) == {"publish:box/resnet/Offline/accuracy"}
    assert (results / "accuracy/mlperf_log_detail.txt").exists()

    # the run fails now (a new command): its copy is withdrawn from the tree (moved, never deleted)
    spec = project / "specs/systems/box.yaml"
    spec.write_text(spec.read_text().replace('command: "{python}', 'command: "exit 3; {python}'))
    assert doit(project).returncode == 1
    assert not (results / "accuracy").exists() and not (results / "performance/run_1").exists()
    kept = list((project / "build/withdrawn/box/resnet/Offline/reference-accuracy").glob("*/mlperf_log_detail.txt"))
    assert len(kept) == 1
    assert _summary(project)["resnet/Offline/accuracy"]["status"] == "FAIL"


def test_a_results_folder_the_tool_did_not_write_is_never_touched(tmp_path: Path) -> None:
    pytest.importorskip("mlperf_loadgen")
    project = _project(tmp_path / "p")
    theirs = project / RESULTS / "performance/run_1"
    theirs.mkdir(parents=True)
    (theirs / "mlperf_log_detail.txt").write_text("the user's own run\n")
    before = (theirs / "mlperf_log_detail.txt").stat()

    first = doit(project)
    assert first.returncode == 1
    assert _files(theirs) == ["mlperf_log_detail.txt"]
    assert (theirs / "mlperf_log_detail.txt").read_text() == "the user's own run\n"
    assert (theirs / "mlperf_log_detail.txt").stat().st_mtime_ns == before.st_mtime_ns
    assert _files(project / RESULTS / "accuracy") == LOGS  # the other run is published
    row = _summary(project)["resnet/Offline/performance"]
    assert row["status"] == "FAIL" and "holds results the tool did not write (mlperf_log_detail.txt)" in row["reason"]
    assert "left as it is; move it away" in row["reason"]
    # the cells still pass: they compare with the runs in build/, not with the tree
    assert _summary(project)["resnet/Offline/TEST01"]["status"] == "PASS"

    # the user moves their folder away: the next doit copies the run there
    theirs.rename(tmp_path / "moved")
    assert doit(project).returncode == 0
    assert _files(theirs) == LOGS
    assert (tmp_path / "moved/mlperf_log_detail.txt").read_text() == "the user's own run\n"
