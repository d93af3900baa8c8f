"""Progress while work runs (compliance/pipeline/progress.py, drawn by the reporter): each running task's elapsed time
and expected duration, in place on a terminal and a line a minute otherwise, no escape code off a terminal, no
colour with NO_COLOR; what a harness printed that matters reaches the console once. The clock is a fake one: no
test waits for time to pass."""

from __future__ import annotations

import io
import os
import time
from dataclasses import replace
from pathlib import Path

import pytest

from compliance.pipeline import progress, reporter, session
from compliance.pipeline.progress import Expected, Ticker
from compliance.records import RunRecord
from compliance.verify.result import Verdict
from tests.helpers import harness as h
from tests.helpers import pipeline as p
from tests.helpers.doittasks import Task
from tests.helpers.paths import write_tree
from tests.helpers.projects import doit, make_project


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_off_a_terminal_a_line_per_running_task_every_minute_and_no_escape_code() -> None:
    out, clock = io.StringIO(), Clock()
    ticker = Ticker(out, clock=clock)
    assert not ticker.tty
    ticker.start("run:a", "run box/resnet/Offline/TEST01", Expected(130, "the last run"))
    ticker.start("run:b", "reference box/resnet/Offline/performance", Expected(600, "min_duration in user.conf", True))
    for now in (1030.0, 1059.0):
        clock.now = now
        ticker.tick()
    assert out.getvalue() == ""
    clock.now = 1060.0
    ticker.tick()
    clock.now = 1090.0
    ticker.tick()
    ticker.stop("run:a")
    clock.now = 1200.0
    ticker.tick()
    assert out.getvalue().splitlines() == [
        "  ... run box/resnet/Offline/TEST01: running for 1m00s of ~2m10s (the last run)",
        "  ... reference box/resnet/Offline/performance: running for 1m00s of at least 10m00s (min_duration in "
        "user.conf)",
        "  ... reference box/resnet/Offline/performance: running for 3m20s of at least 10m00s (min_duration in "
        "user.conf)",
    ]
    assert "\x1b" not in out.getvalue()


def test_on_a_terminal_one_status_line_redrawn_in_place_below_the_reporters_lines() -> None:
    out, clock = Terminal(), Clock()
    ticker = Ticker(out, clock=clock, width=lambda: 80)
    ticker.start("run:a", "run box/resnet/Offline/TEST01", None)
    ticker.tick()
    assert out.getvalue() == ""  # a quick step does not flicker
    clock.now += 5
    ticker.tick()
    assert out.getvalue() == "running: run box/resnet/Offline/TEST01 5s"
    ticker.write("[2/9] verify box ...")  # a line begins: the status line goes, and stays away until it ends
    clock.now += 60
    ticker.tick()
    ticker.write(" ok 0.1 s\n")
    assert out.getvalue().endswith(
        "\r\x1b[K[2/9] verify box ... ok 0.1 s\nrunning: run box/resnet/Offline/TEST01 1m05s"
    )
    ticker.start("run:b", "run box/resnet/SingleStream/TEST04 with a long name", Expected(3000, "the last run"))
    clock.now += 3
    ticker.tick()
    status = out.getvalue().rsplit("\r\x1b[K", 1)[1]
    assert status.startswith("running: run box/resnet/Offline/TEST01 1m08s | run box/") and len(status) == 79
    ticker.end()
    assert out.getvalue().endswith("\r\x1b[K")  # nothing of it is left behind


def test_expected_duration_from_the_last_run_or_loadgen_settings(tmp_path: Path) -> None:
    plan = p.plan(p.system("box", "v5.0", p.bench("resnet")))
    cp = p.cell(plan, "box/resnet/Offline/TEST01")
    record = p.ran(cp.run)
    assert progress.expected(cp.run, replace(record, duration_s=75.5)) == Expected(75.5, "the last run")
    assert progress.expected(cp.run, record) is None  # a record of release 0.2 says no duration; TEST01 sets none
    conf = tmp_path / "user.conf"
    conf.write_text("*.Offline.min_duration = 600000\nresnet50.Server.min_duration = 1\n", encoding="utf-8")
    run = replace(cp.run, inputs=(str(conf),))
    assert progress.expected(run, None) == Expected(600.0, "min_duration in user.conf", at_least=True)
    audited = replace(cp.run, audit_text="*.Offline.min_duration = 0\n*.*.min_duration = 120000\n")
    assert progress.expected(audited, None) is None  # LoadGen takes the scenario's own 0: nothing to claim
    audited = replace(cp.run, audit_text="*.*.min_duration = 120000\n")
    assert progress.said(30, progress.expected(audited, None)) == "30s of at least 2m00s (min_duration in audit.config)"
    assert progress.said(200, Expected(130, "the last run")) == "3m20s of ~2m10s (over) (the last run)"
    assert progress.duration(3725) == "1h02m"


def test_the_harness_output_s_warnings_once_and_its_last_lines(tmp_path: Path) -> None:
    output = tmp_path / "run.log"
    lines = ["$ cd work && harness", "demo: warning: SCHED_FIFO refused: Operation not permitted"] * 3
    lines += ["No warnings encountered during test.", "x.py:3: DeprecationWarning: old", "[WARN] \x1b[31mred\x1b[0m"]
    lines += [f"WARNING: {n}" for n in range(6)] + ["y" * 5000, "Traceback (most recent call last):", "ValueError: no"]
    output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    notes = progress.harness_notes(str(output), time.time(), tail=True)
    assert notes.warnings == [
        "demo: warning: SCHED_FIFO refused: Operation not permitted",
        "x.py:3: DeprecationWarning: old",
        "[WARN] \\x1b[31mred\\x1b[0m",  # a log's control characters shown, not obeyed
        "WARNING: 0",
        "WARNING: 1",
    ]
    assert notes.more_warnings == 4
    assert notes.tail[-2:] == ["Traceback (most recent call last):", "ValueError: no"]
    assert len(notes.tail) == progress.TAIL_LINES and len(notes.tail[-3]) == progress.LINE_CHARS
    assert progress.harness_notes(str(output), time.time(), tail=False).tail == []
    os.utime(output, (time.time() - 100, time.time() - 100))  # an earlier run's output: nothing of it
    assert progress.harness_notes(str(output), time.time(), tail=True) == progress.Notes()


def test_colour_only_on_a_terminal_without_no_color() -> None:
    assert progress.colours_wanted(Terminal(), {"TERM": "xterm"})
    assert not progress.colours_wanted(Terminal(), {"NO_COLOR": "", "TERM": "xterm"})
    assert not progress.colours_wanted(Terminal(), {"TERM": "dumb"})
    assert not progress.colours_wanted(io.StringIO(), {"TERM": "xterm"})


# -- the reporter ---------------------------------------------------------------------------------------------------


def test_the_reporter_shows_a_failed_run_s_last_lines_and_each_warning_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    plan = p.plan(p.system("box", "v5.0", p.bench("resnet")))
    monkeypatch.setattr(session, "load_plan", lambda: plan)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setattr(Ticker, "begin", lambda self: None)  # no thread: the test draws when it says
    out = Terminal()
    report = reporter.ProgressReporter(out, {})
    tasks = [
        Task(f"run:box/resnet/Offline/{t}", meta={"log": str(tmp_path / f"{t}.log")}) for t in ("TEST01", "TEST04")
    ]
    report.initialize({t.name: t for t in tasks}, [t.name for t in tasks])
    warning = "demo: warning: the device's threads ran at normal priority (SCHED_FIFO refused)"
    for task, tail in zip(tasks, ("", "Traceback (most recent call last):\nValueError: no model\n"), strict=True):
        report.execute_task(task)
        Path(task.meta["log"]).write_text(f"{warning}\n{warning}\n{tail}", encoding="utf-8")
    report.add_success(tasks[0])
    tasks[1].values = {"outcome": Verdict.FAIL.value, "reason": "exit status 2"}
    report.add_success(tasks[1])
    report.complete_run()
    text = out.getvalue()
    assert [line for line in text.splitlines() if line.startswith("    warning (")] == [
        f"    warning (run box/resnet/Offline/TEST01): {warning}"  # once per build, then counted at the end
    ]
    assert f"the same harness warning came from 2 runs (shown once above): {warning}\n" in text
    assert f"    the last lines of {tasks[1].meta['log']}:\n" in text
    assert "    | Traceback (most recent call last):\n    | ValueError: no model\n" in text
    assert "\x1b[3" not in text  # NO_COLOR: no colour, though a terminal


def test_a_real_doit_with_two_processes_off_a_terminal(tmp_path: Path) -> None:
    """``doit -n 2`` into a pipe (a CI log): a harness that warns on every call and one that fails show their
    warning once and their last lines, with no escape code."""
    harness = 'import sys\nprint("harness: warning: no GPU found, running on the CPU")\nif "fail" in sys.argv:\n'
    harness += '    print("loading the model")\n    print("RuntimeError: the model file is missing")\n    sys.exit(2)\n'
    systems = {}
    for name, extra in (("good", ""), ("bad", " fail")):
        systems[name] = (
            f"name: {name}\nround: v5.0\ndivision: closed\nsubmitter: Acme\nsubmission_dir: submission-{name}\n"
            "benchmarks:\n  retinanet:\n    scenarios: [Offline]\n    workdir: work\n"
            f"    command: '{{python}} ../harness.py{extra}'\n    results: results/{{scenario}}\n"
        )
    root = make_project(tmp_path / "p", systems)
    write_tree(root, {"harness.py": harness, "work": {}, "results": {"Offline": h.results()}})
    done = doit(root, "-n", "2", "run")
    assert "\x1b" not in done.stdout + done.stderr
    shown = [line for line in done.stdout.splitlines() if line.startswith("    warning (")]
    assert len(shown) == 1 and shown[0].endswith("): harness: warning: no GPU found, running on the CPU")
    assert "the same harness warning came from 2 runs" in done.stdout
    assert "    | RuntimeError: the model file is missing\n" in done.stdout
    record = RunRecord.load(str(root / "build/good/retinanet/Offline/TEST01/run.json"))
    assert record is not None and record.duration_s > 0  # what the next run of the cell is expected to take
