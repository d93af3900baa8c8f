"""reference: {publish: true} on real runs: the submission runs the tool produced are copied into the tree's results
layout, copied again when rerun, and withdrawn when they stop passing. A folder the tool did not write is refused and
never touched: tests/unit/test_actions.py."""

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
    result = doit(project, "summary", "--format", "json")  # doit's summary command: the same table
    return {f"{r['benchmark']}/{r['scenario']}/{r['test']}": r for r in json.loads(result.stdout)["records"]}


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

    # a rerun with its submission run (TEST04 needs the performance run): it runs again, every cell that compares
    # with it is verified again, and the new run is copied into the tree, its row shown
    before = (results / "performance/run_1/mlperf_log_detail.txt").read_bytes()
    done = tool(project, "rerun", "box/resnet/Offline/TEST04", "--submission-runs")
    assert done.returncode == 0 and "2 cells: 2 PASS; submission runs in the tree: 1 PASS" in done.stdout
    assert "re-verified with the new submission runs: box/resnet/Offline/TEST01" in done.stdout
    assert executed(done) == {
        "reference:box/resnet/Offline/performance",
        "run:box/resnet/Offline/TEST04",
        "verify:box/resnet/Offline/TEST04",
        "publish:box/resnet/Offline/TEST04",
        "verify:box/resnet/Offline/TEST01",
        "publish:box/resnet/Offline/TEST01",
        "publish:box/resnet/Offline/performance",
        "review:box",  # the system's part of the tree changed
    }
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
