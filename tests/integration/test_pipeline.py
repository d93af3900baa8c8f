"""The doit pipeline end to end, in a scratch project: real LoadGen runs of the demo harness, reruns, safety."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.projects import DEMO, audit_configs, doit, executed, make_project, system_yaml, wait_for

LAB5 = system_yaml(
    "lab5",
    "v5.0",
    {"resnet": {"scenarios": ["Offline", "SingleStream"]}, "llama2-70b-99": {"scenarios": ["Offline", "Server"]}},
)
LAB6 = system_yaml(
    "lab6",
    "v6.0",
    {"resnet": {"scenarios": ["Offline"]}, "llama2-70b-99": {"scenarios": ["Interactive"]}},
    submission_dir="submission-v6.0",  # one tree per round
)
TEST01_FILES = [  # the upload form: accuracy.txt with the log's hash line (docs/rules.md §8.2)
    "accuracy/accuracy.txt",
    "accuracy/mlperf_log_accuracy.json",
    "performance/run_1/mlperf_log_detail.txt",
    "performance/run_1/mlperf_log_summary.txt",
    "verify.json",
    "verify_accuracy.txt",
    "verify_performance.txt",
]
TEST04_FILES = [
    "performance/run_1/mlperf_log_detail.txt",
    "performance/run_1/mlperf_log_summary.txt",
    "verify.json",
    "verify_performance.txt",
]
TEST06_FILES = ["accuracy/mlperf_log_accuracy.json", "verify.json", "verify_accuracy.txt"]


def expected_tree() -> dict[str, list[str]]:
    tree = {}
    for scenario in ("Offline", "SingleStream"):
        tree[f"submission/closed/Acme/compliance/lab5/resnet/{scenario}/TEST01"] = TEST01_FILES
        tree[f"submission/closed/Acme/compliance/lab5/resnet/{scenario}/TEST04"] = TEST04_FILES
    for scenario in ("Offline", "Server"):
        tree[f"submission/closed/Acme/compliance/lab5/llama2-70b-99/{scenario}/TEST06"] = TEST06_FILES
    tree["submission-v6.0/closed/Acme/results/lab6/resnet/Offline/TEST01"] = TEST01_FILES
    tree["submission-v6.0/closed/Acme/results/lab6/resnet/Offline/TEST04"] = TEST04_FILES
    tree["submission-v6.0/closed/Acme/results/lab6/llama2-70b-99/Interactive/TEST06"] = TEST06_FILES
    return tree


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("mlperf_loadgen")
    project = make_project(tmp_path_factory.mktemp("lab"), {"lab5": LAB5, "lab6": LAB6})
    first = doit(project)
    assert first.returncode == 0
    return project


def test_end_to_end_submission_tree(lab: Path) -> None:
    trees = [lab / "submission", lab / "submission-v6.0"]  # one per round
    files = sorted(str(p.relative_to(lab)) for tree in trees for p in tree.rglob("*") if p.is_file())
    expected = sorted(f"{folder}/{name}" for folder, names in expected_tree().items() for name in names)
    assert files == expected
    for folder in expected_tree():
        test = folder.rsplit("/", 1)[1]
        verdict = json.loads((lab / folder / "verify.json").read_text())
        assert verdict["verdict"] == "PASS" and verdict["test"] == test
        if test == "TEST01":
            assert "TEST PASS" in (lab / folder / "verify_accuracy.txt").read_text().splitlines()
        if test == "TEST06":
            assert "EOS check pass: True" in (lab / folder / "verify_accuracy.txt").read_text()
    assert audit_configs(lab) == []


def test_reruns_do_only_what_changed(lab: Path) -> None:
    again = doit(lab)
    assert again.returncode == 0 and executed(again) == set()
    assert re.search(r"^(\d+) tasks: 0 ran \(0 ok, 0 failed\), \1 up to date", again.stdout, re.M)

    perf_log = lab / "build/lab5/resnet/Offline/reference/performance/run_1/mlperf_log_detail.txt"
    os.utime(perf_log, (time.time() + 5, time.time() + 5))
    touched = doit(lab)
    assert executed(touched) == {
        "verify:lab5/resnet/Offline/TEST01",
        "verify:lab5/resnet/Offline/TEST04",
        "publish:lab5/resnet/Offline/TEST01",
        "publish:lab5/resnet/Offline/TEST04",
    }

    spec = lab / "specs/systems/lab6.yaml"
    text = spec.read_text()
    head, llama = text.split("  llama2-70b-99:\n")
    spec.write_text(head + "  llama2-70b-99:\n" + llama.replace('command: "{python}', 'command: "DEMO_FAULT= {python}'))
    edited = doit(lab)
    assert executed(edited) and all(t.split(":", 1)[1].startswith("lab6/llama2-70b-99/") for t in executed(edited))
    assert "run:lab6/llama2-70b-99/Interactive/TEST06" in executed(edited)

    test04 = lab / "specs/tests/TEST04.yaml"
    test04.write_text(test04.read_text().replace("  tolerance: 0.10\n", "  tolerance: 0.12\n"))
    threshold = doit(lab)
    assert {t.split(":")[0] for t in executed(threshold)} == {"verify", "publish"}
    assert {t.split(":", 1)[1] for t in executed(threshold)} == {
        "lab5/resnet/Offline/TEST04",
        "lab5/resnet/SingleStream/TEST04",
        "lab6/resnet/Offline/TEST04",
    }

    removed = lab / "submission-v6.0/closed/Acme/results/lab6/resnet/Offline/TEST01/verify_accuracy.txt"
    removed.unlink()
    recopied = doit(lab)
    assert executed(recopied) == {"publish:lab6/resnet/Offline/TEST01"} and removed.exists()


def test_doit_commands(lab: Path) -> None:
    listed = doit(lab, "list", "--all")
    for step in ("reference", "run", "verify", "publish"):
        assert f"{step}:lab5/resnet/Offline/" in listed.stdout
    for old in ("stage", "unstage", "audit"):  # the ids of release 0.1 still work
        assert f"{old}:lab5/resnet/Offline/TEST01" in listed.stdout
    info = doit(lab, "info", "run:lab5/resnet/Offline/TEST01")
    assert info.returncode == 0 and "status     : up-to-date" in info.stdout
    dumped = doit(lab, "dumpdb")  # read-only, on our SQLite database
    assert dumped.returncode == 0 and "run:lab5/resnet/Offline/TEST01: " in dumped.stdout
    (lab / "build/lab5/resnet/Offline/TEST01/logs/.run.signature").unlink()
    info = doit(lab, "info", "run:lab5/resnet/Offline/TEST01")
    assert info.returncode == 1 and "the last run did not finish (interrupted)" in info.stdout  # says why
    assert executed(doit(lab)) == {f"{step}:lab5/resnet/Offline/TEST01" for step in ("run", "verify", "publish")}

    assert doit(lab, "forget", "run:lab6/llama2-70b-99/Interactive/TEST06").returncode == 0
    assert "run:lab6/llama2-70b-99/Interactive/TEST06" in executed(doit(lab))

    assert doit(lab, "clean", "verify:lab5/llama2-70b-99/Server/TEST06").returncode == 0
    assert not (lab / "build/lab5/llama2-70b-99/Server/TEST06/verify/TEST06/verify.json").exists()
    assert executed(doit(lab)) == {
        "verify:lab5/llama2-70b-99/Server/TEST06",
        "publish:lab5/llama2-70b-99/Server/TEST06",
    }


# -- safety ----------------------------------------------------------------------------------------------------------


def _safety_project(root: Path, command: str, **spec: object) -> Path:
    return make_project(
        root,
        {"box": system_yaml("box", "v5.0", {"llama2-70b-99": {"scenarios": ["Offline"], "command": command, **spec}})},
    )


@pytest.mark.parametrize(
    ("command", "spec", "message"),
    [
        ("exit 3", {}, "exit status 3"),
        ("sleep 60", {"timeout": 1}, "timed out after 1 s"),
    ],
)
def test_failing_and_hanging_commands_leave_no_audit_config(
    tmp_path: Path, command: str, spec: dict, message: str
) -> None:
    project = _safety_project(tmp_path, command, **spec)
    start = time.monotonic()
    result = doit(project, "run:box/llama2-70b-99/Offline/TEST06")
    assert result.returncode != 0 and message in result.stdout
    assert time.monotonic() - start < 30
    assert audit_configs(project) == []


def _sleeping_run(root: Path) -> tuple[Path, subprocess.Popen[str]]:
    """A doit whose benchmark sleeps, started and waited for until its audit.config is staged."""
    project = _safety_project(root, "sleep 60")
    proc = subprocess.Popen(
        [sys.executable, "-m", "doit", "run:box/llama2-70b-99/Offline/TEST06"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    wait_for(project / "work/box/llama2-70b-99/audit.config")
    return project, proc


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signals_to_doit_leave_no_audit_config(tmp_path: Path, sig: int) -> None:
    project, proc = _sleeping_run(tmp_path)
    time.sleep(0.3)
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=30)
    print(out)
    assert proc.returncode != 0
    assert audit_configs(project) == []
    assert not (project / "build/box/llama2-70b-99/Offline/TEST06/logs/.run.signature").exists()


def _with_stale_config(root: Path, text: str) -> tuple[Path, Path, subprocess.CompletedProcess[str]]:
    """A project whose resnet working directory holds an audit.config, and a reference run started there."""
    project = make_project(
        root, {"box": system_yaml("box", "v5.0", {"resnet": {"scenarios": ["Offline"], "command": "exit 0"}})}
    )
    stale = project / "work/box/resnet/audit.config"
    stale.parent.mkdir(parents=True)
    stale.write_text(text)
    return project, stale, doit(project, "reference:box/resnet/Offline/performance")


def test_stale_audit_config_blocks_a_reference_run(tmp_path: Path) -> None:
    project, stale, result = _with_stale_config(tmp_path, "*.*.mode = 2\n")
    assert (
        result.returncode != 0
        and "work/box/resnet/audit.config exists: this submission run would be audited" in result.stdout
    )
    assert stale.read_text() == "*.*.mode = 2\n"  # not ours: left for the user, never deleted


def test_harness_that_ignores_audit_config_fails_the_run(tmp_path: Path) -> None:
    pytest.importorskip("mlperf_loadgen")
    project = _safety_project(tmp_path, DEMO + " --fault ignore_audit")
    result = doit(project, "run:box/llama2-70b-99/Offline/TEST06")
    assert result.returncode != 0 and "did not find an audit.config" in result.stdout
    assert audit_configs(project) == []


RECORD = """import subprocess, sys, time
start = time.time()
code = subprocess.call(sys.argv[2:])
with open(sys.argv[1], "a") as f:
    f.write(f"{start} {time.time()}\\n")
sys.exit(code)
"""


def test_runs_of_one_system_never_overlap(tmp_path: Path) -> None:
    pytest.importorskip("mlperf_loadgen")
    (tmp_path / "record.py").write_text(RECORD)
    systems = {}
    for name in ("alpha", "beta"):
        command = f"{{python}} {tmp_path / 'record.py'} {tmp_path / (name + '.times')} " + DEMO
        systems[name] = system_yaml(
            name,
            "v5.0",
            {
                "llama2-70b-99": {"scenarios": ["Offline", "Server"], "command": command},
                "mixtral-8x7b": {"scenarios": ["Offline", "Server"], "command": command},
            },
        )
    project = make_project(tmp_path, systems)
    result = doit(project, "-n", "4")
    assert result.returncode == 0
    for name in ("alpha", "beta"):
        spans = sorted(
            tuple(map(float, line.split())) for line in (tmp_path / f"{name}.times").read_text().splitlines()
        )
        assert len(spans) == 4
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            assert start >= end, f"two runs of {name} overlapped"


def test_logs_written_by_the_harness_elsewhere_are_collected(tmp_path: Path) -> None:
    pytest.importorskip("mlperf_loadgen")
    command = DEMO.replace("{log_dir}", "harness-logs/{test}")
    project = _safety_project(tmp_path, command, log_dir="harness-logs/{test}")
    result = doit(project, "verify:box/llama2-70b-99/Offline/TEST06")
    assert result.returncode == 0
    build_logs = project / "build/box/llama2-70b-99/Offline/TEST06/logs"
    harness_logs = project / "work/box/llama2-70b-99/harness-logs/TEST06"
    for name in ("mlperf_log_detail.txt", "mlperf_log_summary.txt", "mlperf_log_accuracy.json"):
        assert (build_logs / name).read_bytes() == (harness_logs / name).read_bytes()


def test_a_marked_audit_config_placed_by_hand_is_never_deleted(tmp_path: Path) -> None:
    """Only a file this project recorded placing is ours: one rendered by `audit-config` and copied by hand (it
    carries our marker comment) is refused, and left where it is."""
    marked = "# mlperf-compliance: TEST04 resnet Offline cell=box/resnet/Offline/TEST04\n*.*.mode = 2\n"
    project, stale, result = _with_stale_config(tmp_path, marked)
    assert result.returncode != 0 and "this submission run would be audited" in result.stdout
    assert stale.read_text() == marked


def test_a_second_doit_on_the_same_build_folder_refuses(tmp_path: Path) -> None:
    project, first = _sleeping_run(tmp_path)
    try:
        second = doit(project)
        assert second.returncode == 2 and "another doit is running tasks on build/" in second.stderr
        listed = doit(project, "list")  # read-only commands still work
        assert listed.returncode == 0
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=30)
    assert audit_configs(project) == []


def test_isolated_runs_get_a_fresh_folder_of_their_own(tmp_path: Path) -> None:
    pytest.importorskip("mlperf_loadgen")
    project = make_project(
        tmp_path,
        {
            "box": system_yaml(
                "box",
                "v5.0",
                {"llama2-70b-99": {"scenarios": ["Offline"], "isolated": True, "command": DEMO + " && touch leftover"}},
            )
        },
    )
    result = doit(project, "verify:box/llama2-70b-99/Offline/TEST06")
    assert result.returncode == 0
    work = project / "build/box/llama2-70b-99/Offline/TEST06/work"
    assert (work / ".mlperf-compliance-workdir").exists() and (work / "leftover").exists()
    assert not (work / "audit.config").exists()
    (work / "stale").write_text("left by an earlier run")
    assert doit(project, "forget", "run:box/llama2-70b-99/Offline/TEST06").returncode == 0
    assert doit(project, "verify:box/llama2-70b-99/Offline/TEST06").returncode == 0
    assert not (work / "stale").exists()  # every run starts in an empty folder


def test_an_isolated_folder_that_is_not_ours_is_refused(tmp_path: Path) -> None:
    project = make_project(
        tmp_path,
        {
            "box": system_yaml(
                "box", "v5.0", {"llama2-70b-99": {"scenarios": ["Offline"], "isolated": True, "command": "exit 0"}}
            )
        },
    )
    foreign = project / "build/box/llama2-70b-99/Offline/TEST06/work"
    foreign.mkdir(parents=True)
    (foreign / "precious.txt").write_text("not ours")
    result = doit(project, "run:box/llama2-70b-99/Offline/TEST06")
    assert result.returncode != 0 and "is not a working directory made by mlperf-compliance" in result.stdout
    assert (foreign / "precious.txt").read_text() == "not ours"


def test_a_foreign_audit_conf_blocks_a_compliance_run(tmp_path: Path) -> None:
    """whisper's reference harness reads audit.conf: one we did not place is refused like audit.config."""
    project = _safety_project(tmp_path, "exit 0")
    foreign = project / "work/box/llama2-70b-99/audit.conf"
    foreign.parent.mkdir(parents=True)
    foreign.write_text("*.*.mode = 2\n")
    result = doit(project, "run:box/llama2-70b-99/Offline/TEST06")
    assert result.returncode == 1 and "audit.conf exists and was not placed by this project's runs" in result.stdout
    assert foreign.read_text() == "*.*.mode = 2\n"
