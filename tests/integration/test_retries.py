"""Retries and reruns through doit (issue #13 items 4 and 5): what a second doit and ``mlperf-compliance rerun`` run
again, on synthetic runs whose verdicts are certain (the harness of tests/helpers/harness.py copies, at its n-th call,
the logs the test wrote for that call); a real run the demo makes slow once (``slow_once``: twice the device time in
the first compliance run of a cell, a 50% drop that no noise makes); a killed doit. What is retried, and the ledger,
are tested through the steps themselves in tests/unit/test_attempts.py."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import harness as h
from tests.helpers.paths import write_tree
from tests.helpers.projects import doit, executed, make_project, summary_rows, system_yaml, tool, wait_for

#: system -> (its spec lines beyond the command, what the harness does at each call)
CASES: dict[str, tuple[str, list[dict[str, str]]]] = {
    "perf": ("attempts: 3\n", [h.compliance_logs(800.0), h.compliance_logs()]),
    "accuracy": ("attempts: 3\n", [h.compliance_logs(differ=True), h.compliance_logs()]),
    "harness": ("attempts: 3\n", [{"fail": ""}, h.compliance_logs()]),
}


def _system(name: str, extra: str) -> str:
    return (
        f"name: {name}\nround: v5.0\ndivision: closed\nsubmitter: Acme\nsubmission_dir: submission\n"
        f"upload: {{performance_rules: false}}\n{extra}"
        "benchmarks:\n  retinanet:\n    scenarios: [Offline]\n    workdir: work\n"
        f"    command: '{{python}} ../harness.py {{log_dir}} calls/{name}'\n"
        "    results: results/{scenario}\n"
    )


def _project(root: Path, cases: dict[str, tuple[str, list[dict[str, str]]]]) -> Path:
    """A project of one system per case, each running the synthetic harness in ``work/``."""
    make_project(root, {name: _system(name, extra) for name, (extra, _) in cases.items()})
    write_tree(
        root,
        {
            "harness.py": h.SCRIPT,
            "work": {},
            "attempts": {
                name: {str(i + 1): files for i, files in enumerate(calls)} for name, (_, calls) in cases.items()
            },
            "results": {"Offline": h.results()},
        },
    )
    return root


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = _project(tmp_path_factory.mktemp("retries"), CASES)
    first = doit(root)
    assert first.returncode == 1  # the cells that must fail do
    return root


def _calls(project: Path, system: str) -> int:
    folder = project / "work" / "calls" / system
    return len(os.listdir(folder)) if folder.is_dir() else 0


def _cell(project: Path, system: str) -> Path:
    return project / "build" / system / "retinanet" / "Offline" / "TEST01"


def _verify_json(project: Path, system: str) -> dict:
    return json.loads((_cell(project, system) / "verify" / "TEST01" / "verify.json").read_text())


def _rows(project: Path) -> dict[str, dict]:
    return {f"{row['system']}/{row['test']}": row for row in summary_rows(project)}


def test_a_second_doit_runs_only_the_run_that_failed(project: Path) -> None:
    """Cells that passed, or failed by their verdict, stay as they are; a failed run runs again, as before."""
    again = doit(project)
    cell = "harness/retinanet/Offline/TEST01"
    assert executed(again) == {f"{step}:{cell}" for step in ("run", "verify", "publish")} | {"review:harness"}
    assert executed(doit(project)) == set()


def test_rerun_runs_a_cell_again_and_keeps_its_ledger(project: Path) -> None:
    done = tool(project, "rerun", "perf/retinanet")
    assert done.returncode == 0  # the third call passes at once (the harness repeats its last logs)
    assert _calls(project, "perf") == 3
    assert "run perf/retinanet/Offline/TEST01" in done.stdout and "1 cell: 1 PASS" in done.stdout
    ledger = _verify_json(project, "perf")["attempts"]
    assert [(e["series"], e["attempt"], e["verdict"]) for e in ledger] == [
        (1, 1, "FAIL"),
        (1, 2, "PASS"),
        (2, 1, "PASS"),
    ]
    assert _rows(project)["perf/TEST01"]["reason"] == ""  # the last verification took one attempt
    assert executed(doit(project)) == set()


def test_a_rerun_asked_for_is_the_reason_doit_info_gives(project: Path) -> None:
    request = _cell(project, "accuracy") / "run.rerun"
    request.write_text('{"by": "a test"}\n')
    try:
        info = doit(project, "info", "run:accuracy/retinanet/Offline/TEST01")
        assert "a rerun was asked for (a test)" in info.stdout
        assert "a rerun was asked for (a test)" in _rows(project)["accuracy/TEST01"]["reason"]
    finally:
        request.unlink()


def test_rerun_of_nothing_or_on_a_busy_build_folder_exits_2(project: Path) -> None:
    def rerun(*selection: str) -> subprocess.CompletedProcess[str]:
        return tool(project, "rerun", *selection)

    unknown = rerun("perf/retinanet/Ofline")
    assert unknown.returncode == 2
    assert unknown.stderr.strip().splitlines() == [
        "error: no cell matches 'perf/retinanet/Ofline' (did you mean 'perf/retinanet/Offline'?); give a system, "
        "system/benchmark, system/benchmark/scenario or a cell id (doit list run)"
    ]
    with open(project / "build" / ".doit.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        busy = rerun("perf")
    assert busy.returncode == 2 and "another doit is running tasks on build/" in busy.stderr
    assert not (_cell(project, "perf") / "run.rerun").exists()  # nothing asked for while another doit works


def test_a_real_run_slow_once_passes_on_its_second_attempt(tmp_path: Path) -> None:
    pytest.importorskip("mlperf_loadgen")
    spec = system_yaml("flaky", "v5.0", {"resnet": {"scenarios": ["Offline"], "env": {"DEMO_FAULT": "slow_once"}}})
    project = make_project(tmp_path, {"flaky": spec.replace("benchmarks:", "attempts: 2\nbenchmarks:")})
    task = "publish:flaky/resnet/Offline/TEST01"  # its runs, its verification and its copy (TEST04 is not needed)
    assert doit(project, task).returncode == 0
    cell = project / "build" / "flaky" / "resnet" / "Offline" / "TEST01"
    ledger = json.loads((cell / "verify" / "TEST01" / "verify.json").read_text())["attempts"]
    assert [(e["attempt"], e["verdict"]) for e in ledger] == [(1, "FAIL"), (2, "PASS")]
    assert ledger[0]["short"].startswith("perf ratio 0.")  # about 0.5: twice the device time
    assert "fault=slow_audit" in (cell / "attempts" / "1" / "run.log").read_text()  # the demo says it was slow
    assert "fault=" not in (cell / "attempts" / "2" / "run.log").read_text()
    row = _rows(project)["flaky/TEST01"]
    assert row["status"] == "PASS" and row["reason"].startswith("PASS on attempt 2 of 2; attempt 1: perf ratio 0.")
    tree = project / "submission" / "closed" / "Acme" / "compliance" / "flaky" / "resnet" / "Offline" / "TEST01"
    text = (tree / "verify_performance.txt").read_text()
    assert "TEST PASS" in text and "Earlier attempt 1 of 2" in text
    assert (tree / "performance" / "run_1" / "mlperf_log_detail.txt").read_bytes() == (
        cell / "attempts" / "2" / "logs" / "mlperf_log_detail.txt"
    ).read_bytes()  # the TEST folder holds the logs of the attempt its verdict comes from
    assert executed(doit(project, task)) == set()


def test_a_killed_doit_loses_only_the_attempt_it_was_running(tmp_path: Path) -> None:
    project = _project(
        tmp_path, {"killed": ("attempts: 3\n", [h.compliance_logs(800.0), {"sleep": "3"}, h.compliance_logs()])}
    )
    proc = subprocess.Popen(  # a process of its own, to be killed
        [sys.executable, "-m", "doit"], cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_for(project / "work" / "calls" / "killed" / "2", 60)  # attempt 2 runs
    proc.kill()  # doit only: the sleeping harness is waited for by the next run
    proc.wait(timeout=30)
    assert doit(project).returncode == 0
    ledger = _verify_json(project, "killed")["attempts"]
    assert [(e["series"], e["attempt"], e["verdict"]) for e in ledger] == [(1, 1, "FAIL"), (2, 1, "PASS")]
    assert sorted(os.listdir(_cell(project, "killed") / "attempts")) == ["1", "2"]
    assert executed(doit(project)) == set()
