"""The accuracy command in the pipeline: TEST01's fallback on real LoadGen runs of the demo, reruns, the summary."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.checker import folder_problems
from tests.helpers.projects import DEMO, SCORE, doit, executed, make_project, system_yaml

CELL = "lab/resnet/Offline/TEST01"
TREE = "submission/closed/Acme/results/lab/resnet/Offline/TEST01"
CHECKER_FILES = {"mlperf_log_accuracy.json", "accuracy.txt", "baseline_accuracy.txt", "compliance_accuracy.txt"}


def _project(root: Path, fault: str, command: str = SCORE) -> Path:
    pytest.importorskip("mlperf_loadgen")
    bench = {"scenarios": ["Offline"], "command": f"{DEMO} --fault {fault}", "accuracy_command": command}
    return make_project(root, {"lab": system_yaml("lab", "v6.0", {"resnet": bench})})


def test_nondeterministic_outputs_pass_by_the_fallback_and_rerun_only_on_change(tmp_path: Path) -> None:
    project = _project(tmp_path, "nondeterministic")
    first = doit(project, f"publish:{CELL}")  # the cell's runs, its verification, its copy
    assert first.returncode == 0
    folder = project / TREE
    assert {p.name for p in (folder / "accuracy").iterdir()} == CHECKER_FILES
    assert folder_problems(folder) == []  # what the submission checker requires of a TEST01 folder
    verdict = json.loads((folder / "verify.json").read_text())
    part3 = next(c for c in verdict["checks"] if c["name"] == "accuracy (fallback)")
    assert part3["outcome"] == "PASS" and part3["figures"]["metrics"]["acc"]["delta_percent"] == 0
    assert "TEST PASS" not in [line.strip() for line in (folder / "verify_accuracy.txt").read_text().splitlines()]
    assert not list((project / "build/lab/resnet/Offline/TEST01").glob(".accuracy-*"))  # scratch removed

    summary = doit(project, "summary")
    assert "PASS (fallback): acc" in summary.stdout
    again = doit(project, f"publish:{CELL}")
    assert again.returncode == 0 and executed(again) == set()

    spec = project / "specs/systems/lab.yaml"
    spec.write_text(spec.read_text().replace("{accuracy_log}", "{accuracy_log} --output-file {output_file}"))
    info = doit(project, "info", f"verify:{CELL}")
    assert "verifier options changed" in info.stdout
    changed = doit(project, f"publish:{CELL}")
    assert executed(changed) == {f"verify:{CELL}", f"publish:{CELL}"}


def test_degraded_outputs_fail_the_fallback_too(tmp_path: Path) -> None:
    project = _project(tmp_path, "degraded")
    result = doit(project, f"publish:{CELL}")
    assert result.returncode == 1
    verdict = json.loads((project / "build/lab/resnet/Offline/TEST01/verify/TEST01/verify.json").read_text())
    part3 = next(c for c in verdict["checks"] if c["name"] == "accuracy (fallback)")
    assert part3["outcome"] == "FAIL" and "> the allowed 1%" in part3["reason"]
    assert not (project / TREE).exists()


GPT = "lab/gpt-oss-120b/Offline/TEST07"
GPT_SCORE = "{python} -m compliance.demo.accuracy --benchmark {benchmark} --test {test} {accuracy_log}"


def _gpt_project(root: Path, fault: str | None) -> Path:
    pytest.importorskip("mlperf_loadgen")
    command = f"{DEMO} --test {{test}}" + (f" --fault {fault}" if fault else "")
    bench = {"scenarios": ["Offline"], "command": command, "accuracy_command": GPT_SCORE}
    return make_project(root, {"lab": system_yaml("lab", "v6.0", {"gpt-oss-120b": bench})})


def _test07(project: Path) -> dict:
    return json.loads((project / "build/lab/gpt-oss-120b/Offline/TEST07/verify/TEST07/verify.json").read_text())


def test_test07_low_score_fails_with_its_reason(tmp_path: Path) -> None:
    project = _gpt_project(tmp_path, "low_score")
    assert doit(project, f"verify:{GPT}").returncode == 1
    verdict = _test07(project)
    score = next(c for c in verdict["checks"] if c["name"] == "accuracy score")
    assert score["outcome"] == "FAIL" and "is below the threshold 60.698" in score["reason"]
    assert score["figures"]["score"] < 55
