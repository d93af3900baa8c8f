"""The progress lines and the closing total of doit's reporter (compliance/pipeline/reporter.py), fed as doit feeds
it: each failure with its reason (a crash too), tasks that never started counted apart, the table's counts last."""

from __future__ import annotations

import io

import pytest
from doit.exceptions import TaskError, TaskFailed

from compliance.pipeline import reporter, session
from tests.helpers import pipeline as p
from tests.helpers.doittasks import Task


def _crash() -> TaskError:
    try:
        raise NotADirectoryError(20, "Not a directory", "build/x/attempts")
    except OSError as exc:
        return TaskError("PythonAction Error", exc)


@pytest.fixture
def plan(monkeypatch: pytest.MonkeyPatch):
    found = p.plan(p.system("box", "v5.0", p.bench("resnet")))
    monkeypatch.setattr(session, "load_plan", lambda: found)
    return found


def test_each_task_gets_a_line_and_the_total_counts_right(plan) -> None:
    out = io.StringIO()
    report = reporter.ProgressReporter(out, {})
    run = Task("run:box/resnet/Offline/TEST04", meta={"log": "build/x/run.log"})
    verify = Task("verify:box/resnet/Offline/TEST04", meta={"log": "build/x/verify.json"})
    crashed = Task("publish:box/resnet/Offline/TEST04")
    ok = Task("run:box/resnet/Offline/TEST01")
    later = Task("verify:box/resnet/Offline/TEST01")
    fresh = Task("reference:box/resnet/Offline/accuracy")
    closing = Task("compliance", meta={"verdict": True})
    tasks = {t.name: t for t in (run, verify, crashed, ok, later, fresh, closing)}
    closing.task_dep = [t for t in tasks if t != "compliance"]
    report.initialize(tasks, ["compliance"])
    report.skip_uptodate(fresh)
    for task in (run, verify, crashed, ok):
        report.execute_task(task)
    run.values = {"outcome": "FAIL", "reason": "exit status 3"}
    report.add_success(run)  # recorded for the next step to report
    report.add_failure(verify, TaskFailed("returned False"))
    report.add_failure(crashed, _crash())
    report.add_success(ok)
    report.add_failure(later, TaskError("dependent task failed"))  # never started
    report.complete_run()
    text = out.getvalue()
    assert "[2/6] run box/resnet/Offline/TEST04 ... FAILED" in text and ": exit status 3 (log: build/x/run.log)" in text
    assert "verify box/resnet/Offline/TEST04 ... FAILED" in text and "(log: build/x/verify.json)" in text
    # an exception inside a step is never a silent FAILED: its message is on the line
    assert ": it crashed: NotADirectoryError: [Errno 20] Not a directory: 'build/x/attempts'" in text
    assert "[-/6] verify box/resnet/Offline/TEST01 ... not started: TaskError" in text
    assert "6 tasks: 4 ran (1 ok, 3 failed), 1 up to date, 1 not started (a step they need failed), in " in text
    assert text.rstrip().splitlines()[-1] == "compliance table (2 NOT RUN; review: 1 NOT RUN): doit summary"


def test_interrupted_tasks_and_specs_that_cannot_be_read_are_said(monkeypatch: pytest.MonkeyPatch, plan) -> None:
    out = io.StringIO()
    report = reporter.ProgressReporter(out, {})
    task = Task("run:box/resnet/Offline/TEST04")
    report.initialize({task.name: task}, [task.name])
    report.execute_task(task)  # then Ctrl-C: it never ends
    report.complete_run()
    assert "1 tasks: 1 ran (0 ok, 0 failed, 1 interrupted), 0 up to date, in " in out.getvalue()

    def broken():
        raise session.Busy("another doit")

    monkeypatch.setattr(session, "load_plan", broken)
    assert report._summary_line() == "compliance table: doit summary\n"
