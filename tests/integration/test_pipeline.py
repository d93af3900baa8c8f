"""The doit pipeline in a scratch project, where a real process or real runs are needed: runs of one system never
overlap under ``doit -n``, a second doit on a busy build folder is refused, a harness's logs are collected from its
own folder, isolated runs get a fresh folder. The rules themselves are tested on records (tests/unit/)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import harness as h
from tests.helpers.projects import DEMO, audit_configs, doit, doit_process, make_project, system_yaml, wait_for

# -- safety ----------------------------------------------------------------------------------------------------------


def _safety_project(root: Path, command: str, **spec: object) -> Path:
    return make_project(
        root,
        {"box": system_yaml("box", "v5.0", {"llama2-70b-99": {"scenarios": ["Offline"], "command": command, **spec}})},
    )


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
        command = f"{{python}} {tmp_path / 'record.py'} {tmp_path / (name + '.times')} " + h.test06_harness(tmp_path)
        systems[name] = system_yaml(
            name,
            "v5.0",
            {
                "llama2-70b-99": {"scenarios": ["Offline", "Server"], "command": command},
                "mixtral-8x7b": {"scenarios": ["Offline", "Server"], "command": command},
            },
        )
    project = make_project(tmp_path, systems)
    result = doit_process(project, "-n", "4")  # doit's own processes
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
