"""Honest retries and reruns on purpose (issue #13 items 4 and 5), through doit, on synthetic and real runs.

The synthetic harness copies, at its n-th call in its working directory, the logs the test wrote for that call
(tests/helpers/logwriter.py): what each attempt measures is fixed, so every verdict here is certain. The real-run
test uses the demo's ``slow_once`` fault: twice the device time in the first compliance run of a cell, a 50% drop
that no noise makes, and none in the second.
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from compliance.verify.render import CHECKER_WORDS
from tests.helpers import logwriter as w
from tests.helpers.paths import write_tree
from tests.helpers.projects import doit, executed, make_project, summary_rows, system_yaml, tool, wait_for

SEED = 720381539243781796
EFFECTIVE = {  # TEST01 of retinanet, as LoadGen logs it with the audit.config applied
    "effective_accuracy_log_rng_seed": SEED,
    "effective_accuracy_log_sampling_target": 256,
    "effective_test_mode": "PerformanceOnly",
}
OUTPUTS = {q: [q, 1, 2] for q in range(8)}
HARNESS = """\
import os, shutil, sys, time
log_dir, calls = sys.argv[1], sys.argv[2]
os.makedirs(calls, exist_ok=True)
n = len(os.listdir(calls)) + 1
open(os.path.join(calls, str(n)), "w").close()
print(f"harness call {n}")
given = os.path.join(os.path.dirname(os.path.abspath(__file__)), "attempts", os.path.basename(calls))
source = os.path.join(given, str(min(n, len(os.listdir(given)))))  # after the last one given, the last again
if os.path.exists(os.path.join(source, "sleep")):
    time.sleep(float(open(os.path.join(source, "sleep")).read() or 60))
if os.path.exists(os.path.join(source, "fail")):
    sys.exit(3)
for name in os.listdir(source):
    shutil.copy(os.path.join(source, name), log_dir)
"""


def _compliance_logs(score: float = 1000.0, valid: bool = True, differ: bool = False) -> dict[str, str]:
    """The logs of one synthetic TEST01 run (score in samples/s; outputs that differ in their first element)."""
    detail = w.perf_detail("Offline", score, audit=True, valid=valid, **EFFECTIVE)
    shift = 100 if differ else 0
    entries = (
        w.accuracy_entry(i, q, w.hexdata([OUTPUTS[q][0] + shift, *OUTPUTS[q][1:]])) for i, q in enumerate((1, 3))
    )
    return {
        "mlperf_log_detail.txt": detail,
        "mlperf_log_summary.txt": w.summary_log("Offline", score, valid),
        "mlperf_log_accuracy.json": w.accuracy_log(entries),
    }


#: system -> (its spec lines beyond the command, what the harness does at each call)
CASES: dict[str, tuple[str, list[dict[str, str]]]] = {
    "perf": ("attempts: 3\nattempt_pause: 1\n", [_compliance_logs(800.0), _compliance_logs()]),
    "single": ("", [_compliance_logs(800.0), _compliance_logs()]),
    "accuracy": ("attempts: 3\n", [_compliance_logs(differ=True), _compliance_logs()]),
    "invalid": ("attempts: 2\n", [_compliance_logs(valid=False), _compliance_logs()]),
    "timeout": ("attempts: 2\ntimeout: 2\n", [{"sleep": ""}, _compliance_logs()]),
    "harness": ("attempts: 3\n", [{"fail": ""}, _compliance_logs()]),
    "stubborn": ("attempts: 2\n", [_compliance_logs(800.0), _compliance_logs(1150.0)]),
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
    reference = (w.accuracy_entry(i, q, w.hexdata(v)) for i, (q, v) in enumerate(OUTPUTS.items()))
    write_tree(
        root,
        {
            "harness.py": HARNESS,
            "work": {},
            "attempts": {
                name: {str(i + 1): files for i, files in enumerate(calls)} for name, (_, calls) in cases.items()
            },
            "results": {
                "Offline": {
                    "accuracy": {"mlperf_log_accuracy.json": w.accuracy_log(reference)},
                    "performance": {
                        "run_1": {
                            "mlperf_log_detail.txt": w.perf_detail("Offline", 1000.0),
                            "mlperf_log_summary.txt": w.summary_log("Offline", 1000.0),
                        }
                    },
                }
            },
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


def test_a_performance_failure_then_a_pass_shows_pass_with_a_two_attempt_ledger(project: Path) -> None:
    assert _calls(project, "perf") == 2
    data = _verify_json(project, "perf")
    assert data["verdict"] == "PASS"
    ledger = data["attempts"]
    assert [(e["attempt"], e["of"], e["verdict"], e["retried"]) for e in ledger] == [
        (1, 3, "FAIL", True),
        (2, 3, "PASS", False),
    ]
    assert ledger[0]["short"] == "perf ratio 0.800 outside [0.90, 1.10]"
    assert "perf 0.800" in ledger[0]["figures"] and "perf 1.000" in ledger[1]["figures"]
    assert ledger[1]["time"] - ledger[0]["time"] >= 1  # attempt_pause: 1
    # each attempt keeps its logs and its verdict in its own folder
    for entry, score in zip(ledger, ("800", "1000"), strict=True):
        folder = project / entry["folder"]
        assert f"Samples per second: {score}" in (folder / "logs" / "mlperf_log_summary.txt").read_text()
        assert json.loads((folder / "verify.json").read_text())["verdict"] == entry["verdict"]
        assert f"harness call {entry['attempt']}" in (folder / "run.log").read_text()
    assert _rows(project)["perf/TEST01"]["status"] == "PASS"
    assert (
        _rows(project)["perf/TEST01"]["reason"]
        == "PASS on attempt 2 of 3; attempt 1: perf ratio 0.800 outside [0.90, 1.10]"
    )
    # the TEST folder in the submission tree: the last attempt's logs, and the ledger for a reviewer
    tree = project / "submission" / "closed" / "Acme" / "compliance" / "perf" / "retinanet" / "Offline" / "TEST01"
    assert "Samples per second: 1000" in (tree / "performance" / "run_1" / "mlperf_log_summary.txt").read_text()
    for name in ("verify_accuracy.txt", "verify_performance.txt"):
        text = (tree / name).read_text()
        told = text[text.index("This verdict is attempt 2 of 3") :].splitlines()
        assert any("Earlier attempt 1 of 3" in line and "perf ratio 0.800" in line for line in told)
        assert not any(word in line for line in told for word in CHECKER_WORDS)
        assert "TEST PASS" in text


def test_a_harness_error_is_not_retried(project: Path) -> None:
    assert _calls(project, "harness") == 1
    row = _rows(project)["harness/TEST01"]
    assert row["status"] == "FAIL" and "exit status 3" in row["reason"]


def test_a_second_doit_runs_only_the_run_that_failed(project: Path) -> None:
    """Cells that passed, or failed by their verdict, stay as they are; a failed run runs again, as before."""
    again = doit(project)
    assert executed(again) == {f"{step}:harness/retinanet/Offline/TEST01" for step in ("run", "verify", "publish")}
    assert executed(doit(project)) == set()


def test_an_accuracy_failure_is_not_retried(project: Path) -> None:
    assert _calls(project, "accuracy") == 1
    row = _rows(project)["accuracy/TEST01"]
    assert row["status"] == "FAIL" and row["reason"].startswith("accuracy:") and "attempt" not in row["reason"]


def test_a_single_attempt_behaves_as_before(project: Path) -> None:
    assert _calls(project, "single") == 1
    data = _verify_json(project, "single")
    assert data["verdict"] == "FAIL" and "attempts" not in data
    assert not any("noise" not in c for c in data["checks"] if c["outcome"] == "FAIL")  # said, not acted on
    row = _rows(project)["single/TEST01"]
    assert row["status"] == "FAIL" and row["reason"].startswith("performance:") and "attempt" not in row["reason"]
    text = (_cell(project, "single") / "verify" / "TEST01" / "verify_performance.txt").read_text()
    assert "attempt" not in text


def test_a_cell_that_fails_every_attempt_says_so(project: Path) -> None:
    assert _calls(project, "stubborn") == 2
    row = _rows(project)["stubborn/TEST01"]
    assert row["status"] == "FAIL" and row["reason"].startswith("performance: result_samples_per_second 1150")
    assert row["reason"].endswith("(FAIL on attempt 2 of 2; attempt 1: perf ratio 0.800 outside [0.90, 1.10])")
    assert [e["verdict"] for e in _verify_json(project, "stubborn")["attempts"]] == ["FAIL", "FAIL"]


def test_an_invalid_run_and_a_timed_out_run_are_retried(project: Path) -> None:
    for system, first in (("invalid", "runs comparable: the compliance run is INVALID"), ("timeout", "timed out")):
        assert _calls(project, system) == 2
        ledger = _verify_json(project, system)["attempts"]
        assert [e["verdict"] for e in ledger] == [("FAIL" if system == "invalid" else "NOT VERIFIED"), "PASS"]
        assert first in ledger[0]["short"]
        assert _rows(project)[system + "/TEST01"]["status"] == "PASS"


def test_rerun_runs_a_cell_again_and_keeps_its_ledger(project: Path) -> None:
    done = tool(project, "rerun", "perf/retinanet")
    assert done.returncode == 0  # the third call passes at once (the harness repeats its last logs)
    assert _calls(project, "perf") == 3
    assert "run perf/retinanet/Offline/TEST01" in done.stdout and "1 cells: 1 PASS" in done.stdout
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
    assert doit(project).returncode == 0
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
    assert executed(doit(project)) == set()
    # a rerun with its submission run (TEST04 needs the performance run): it runs again, and every cell that
    # compares with it is verified again
    done = tool(project, "rerun", "flaky/resnet/Offline/TEST04", "--submission-runs")
    assert done.returncode == 0 and "2 cells: 2 PASS" in done.stdout
    assert "re-verified with the new submission runs: flaky/resnet/Offline/TEST01" in done.stdout
    assert executed(done) == {
        "reference:flaky/resnet/Offline/performance",
        "run:flaky/resnet/Offline/TEST04",
        "verify:flaky/resnet/Offline/TEST04",
        "publish:flaky/resnet/Offline/TEST04",
        "verify:flaky/resnet/Offline/TEST01",
        "publish:flaky/resnet/Offline/TEST01",
    }
    assert executed(doit(project)) == set()


def test_a_killed_doit_loses_only_the_attempt_it_was_running(tmp_path: Path) -> None:
    project = _project(
        tmp_path, {"killed": ("attempts: 3\n", [_compliance_logs(800.0), {"sleep": "3"}, _compliance_logs()])}
    )
    proc = subprocess.Popen(
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
