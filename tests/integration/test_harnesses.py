"""Harnesses as they are: mode words instead of shell tricks, declared inputs that rerun what depends on them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compliance.plan import build_plan, load_specs
from tests.helpers.projects import DEMO, doit, executed, make_project, summary_rows

# A harness with its own command line: --accuracy as a flag (the MLCommons reference style) or --mode perf|acc
HARNESS = """import argparse, subprocess, sys
p = argparse.ArgumentParser()
p.add_argument("--benchmark"); p.add_argument("--scenario"); p.add_argument("--log-dir")
p.add_argument("--accuracy", action="store_true")
p.add_argument("--mode", choices=["perf", "acc"])
a = p.parse_args()
mode = "accuracy" if a.accuracy or a.mode == "acc" else "performance"
sys.exit(subprocess.call([sys.executable, "-m", "compliance.demo", "--benchmark", a.benchmark, "--scenario",
                          a.scenario, "--mode", mode, "--log-dir", a.log_dir]))
"""


def _system(root: Path, benchmarks: str, inputs: str = "") -> Path:
    text = (
        "name: box\nround: v5.0\ndivision: closed\nsubmitter: Acme\nsubmission_dir: submission\ntimeout: 120\n"
        "upload: {performance_rules: false}\n" + inputs + "benchmarks:\n" + benchmarks
    )
    return make_project(root, {"box": text})


def _mode(log: Path) -> str:
    for line in log.read_text().splitlines():
        record = json.loads(line.split(" ", 1)[1])
        if record["key"] == "effective_test_mode":
            return str(record["value"])
    raise AssertionError(f"no effective_test_mode in {log}")


TASKS = (
    "reference:box/resnet/Offline/accuracy",
    "reference:box/resnet/Offline/performance",
    "run:box/resnet/Offline/TEST04",
)


@pytest.mark.parametrize(
    ("modes", "style"),
    [("{accuracy: --accuracy, performance: ''}", "flag"), ("{accuracy: acc, performance: perf}", "word")],
)
def test_mode_words_without_shell_tricks(tmp_path: Path, modes: str, style: str) -> None:
    pytest.importorskip("mlperf_loadgen")
    harness = tmp_path / "harness.py"
    harness.write_text(HARNESS)
    option = "{mode}" if style == "flag" else "--mode {mode}"
    command = f"{{python}} {harness} --benchmark {{benchmark}} --scenario {{scenario}} --log-dir {{log_dir}} {option}"
    project = _system(
        tmp_path / "p",
        f"  resnet:\n    scenarios: [Offline]\n    workdir: work\n"
        f"    command: {json.dumps(command)}\n    modes: {modes}\n    reference: {{}}\n",
    )
    plan = build_plan(load_specs(project / "specs"))
    commands = {ref.mode: ref.run.command for ref in plan.references}
    commands["TEST04"] = next(cp.run.command for cp in plan.cells if cp.cell.test == "TEST04")
    words = {"accuracy": "--accuracy", "performance": "", "TEST04": ""}  # compliance runs are performance runs
    if style == "word":
        words = {"accuracy": "--mode acc", "performance": "--mode perf", "TEST04": "--mode perf"}
    for what, word in words.items():  # the word, as the spec writes it, after the last placeholder
        assert commands[what].split("--log-dir ", 1)[1].partition(" ")[2].strip() == word, commands[what]
    shown = doit(project, "info", TASKS[0]).stdout
    assert ("--accuracy" if style == "flag" else "--mode acc") in shown and "workdir" in shown
    if style == "word":
        return  # the flag style, with its empty word, is run for real: LoadGen's mode shows in each log
    assert doit(project, *TASKS).returncode == 0
    base = project / "build/box/resnet/Offline"
    assert _mode(base / "reference/accuracy/mlperf_log_detail.txt") == "AccuracyOnly"
    assert _mode(base / "reference/performance/run_1/mlperf_log_detail.txt") == "PerformanceOnly"
    assert _mode(base / "TEST04/logs/mlperf_log_detail.txt") == "PerformanceOnly"  # compliance runs: performance


def test_editing_a_declared_input_reruns_exactly_the_runs_that_declare_it(tmp_path: Path) -> None:
    pytest.importorskip("mlperf_loadgen")
    benchmarks = (
        f"  llama2-70b-99:\n    scenarios: [Offline, Server]\n    workdir: work/llama\n"
        f"    command: {json.dumps(DEMO)}\n    inputs: [conf/user.conf]\n"
        f"  mixtral-8x7b:\n    scenarios: [Offline]\n    workdir: work/mixtral\n"
        f"    command: {json.dumps(DEMO)}\n"
    )
    project = _system(tmp_path, benchmarks)
    (project / "conf").mkdir()
    conf = project / "conf/user.conf"
    conf.write_text("*.Offline.target_qps = 1\n")
    assert doit(project).returncode == 0
    assert executed(doit(project)) == set()
    conf.write_text("*.Offline.target_qps = 2\n")
    info = doit(project, "info", "run:box/llama2-70b-99/Offline/TEST06").stdout
    assert "the declared input conf/user.conf changed since the last run" in info
    rows = {(r["benchmark"], r["scenario"]): r for r in summary_rows(project)}
    assert rows[("llama2-70b-99", "Offline")]["status"] == "STALE"
    assert "conf/user.conf changed" in rows[("llama2-70b-99", "Offline")]["reason"]
    assert rows[("mixtral-8x7b", "Offline")]["status"] == "PASS"
    again = doit(project)
    assert {t for t in executed(again) if t.startswith("run:")} == {
        "run:box/llama2-70b-99/Offline/TEST06",
        "run:box/llama2-70b-99/Server/TEST06",
    }
    conf.touch()  # the same content, a new time: nothing to do
    assert executed(doit(project)) == set()


def test_each_run_writes_its_own_output_and_the_last_five_are_kept(tmp_path: Path) -> None:
    """run.log is the newest run's output; the runs before it are run.log.1 (the one before) ... run.log.5."""
    command = "n=$(cat ../count 2>/dev/null || echo 0); n=$((n+1)); echo $n > ../count; echo attempt $n; exit 3"
    project = _system(
        tmp_path / "p",
        f"  resnet:\n    scenarios: [Offline]\n    workdir: work\n    command: {json.dumps(command)}\n"
        "    reference: {}\n",
    )
    for _ in range(7):  # a failed run runs again at the next doit
        assert doit(project, "run:box/resnet/Offline/TEST04").returncode == 1
    cell = project / "build/box/resnet/Offline/TEST04"

    def attempt(name: str) -> str:
        return (cell / name).read_text().splitlines()[-1]

    assert attempt("run.log") == "attempt 7"
    assert [attempt(f"run.log.{n}") for n in range(1, 6)] == [f"attempt {n}" for n in (6, 5, 4, 3, 2)]
    assert not (cell / "run.log.6").exists()
    assert "exit status 3" in json.loads((cell / "run.json").read_text())["reason"]
