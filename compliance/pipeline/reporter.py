"""doit reporter: a line when a task starts and when it ends, and a one-line total that counts right.

    [3/45] run demo/resnet/Offline/TEST01 ...
    [3/45] run demo/resnet/Offline/TEST01 ... ok 1.2 s
    [9/45] verify demo/resnet/Offline/TEST04 ... FAILED 0.1 s: performance: ... (log: build/.../verify.json)
    45 tasks: 12 ran (11 ok, 1 failed), 33 up to date, in 14.9 s
    compliance table (13 PASS, 1 FAIL): doit summary

A step's outcome is the one it recorded (its doit values): a run that failed is FAILED even when doit carries on
to the step that reports it. Tasks never started (a dependency failed, or doit was stopped) and interrupted ones are
counted apart. Up-to-date tasks count towards k silently (doit's ``-v 2`` shows everything the tasks print); the
output of failed tasks is printed at the end, as doit does.
"""

from __future__ import annotations

import time
from typing import Any

from doit.reporter import ConsoleReporter

from compliance import status
from compliance.errors import InputError, SpecError
from compliance.pipeline import session
from compliance.pipeline.steps import StepFailed
from compliance.verify.result import Verdict


def _crash(fail: Any) -> str:
    """``: it crashed: <the exception>`` for a step that raised one (its traceback follows at the end), so no failure
    is shown without its reason; ``: <file>: <what the system said>`` for a step the machine stopped (a full disk);
    "" for a step that failed by its result (it printed why)."""
    if isinstance(fail, StepFailed):
        return f": {fail.message}"
    lines = "".join(getattr(fail, "traceback", None) or []).strip().splitlines()
    return f": it crashed: {lines[-1]}" if lines else ""


class ProgressReporter(ConsoleReporter):
    desc = "progress lines: [k/N] step cell ... ok 1.2 s"

    def __init__(self, outstream: Any, options: dict[str, Any]):
        super().__init__(outstream, options)
        self.total = 0
        self.done = 0
        self.ok = 0
        self.failed = 0
        self.not_started = 0
        self.started: dict[str, tuple[int, float]] = {}
        self.begin = time.monotonic()

    def initialize(self, tasks: dict[str, Any], selected_tasks: list[str]) -> None:
        """Count the tasks with actions that the selection reaches (task_dep, setup, and file_dep on targets)."""
        producer = {target: name for name, task in tasks.items() for target in task.targets}
        seen: set[str] = set()
        todo = list(selected_tasks)
        while todo:
            name = todo.pop()
            if name in seen or name not in tasks:
                continue
            seen.add(name)
            task = tasks[name]
            todo += list(task.task_dep) + list(task.setup_tasks)
            todo += [producer[dep] for dep in task.file_dep if dep in producer]
        self.total = sum(1 for name in seen if self._counted(tasks[name]))

    @staticmethod
    def _counted(task: Any) -> bool:
        """Steps count; the closing ``compliance`` task (the verdict of the whole) prints only when it fails."""
        return bool(task.actions) and not task.name.startswith("_") and not (task.meta or {}).get("verdict")

    def _title(self, task: Any) -> str:
        step, _, name = task.name.partition(":")
        return f"{step} {name}" if name else step

    def execute_task(self, task: Any) -> None:
        if not self._counted(task):
            return
        self.done += 1
        self.started[task.name] = (self.done, time.monotonic())
        self.write(f"[{self.done}/{self.total}] {self._title(task)} ...\n")
        self.outstream.flush()

    def _end(self, task: Any, outcome: str) -> None:
        number, start = self.started.pop(task.name, (self.done, time.monotonic()))
        self.write(f"[{number}/{self.total}] {self._title(task)} ... {outcome} {time.monotonic() - start:.1f} s")

    def add_success(self, task: Any) -> None:
        if not self._counted(task):
            return
        values = task.values or {}
        if values.get("outcome") == Verdict.FAIL:  # recorded for the next step of the cell to report
            self.failed += 1
            self._end(task, "FAILED")
            log = (task.meta or {}).get("log")
            self.write(f": {values.get('reason', '')}" + (f" (log: {log})\n" if log else "\n"))
            return
        self.ok += 1
        self._end(task, "ok")
        self.write("\n")

    def add_failure(self, task: Any, fail: Any) -> None:
        if not self._counted(task) and (task.meta or {}).get("verdict"):
            self.failures.append({"task": task, "exception": fail})
            return
        if task.name in self.started:
            self.failed += 1
            self._end(task, "FAILED")
            log = (task.meta or {}).get("log")
            self.write(_crash(fail) + (f" (log: {log})\n" if log else "\n"))
        else:  # never started: a dependency failed, or doit could not check it
            self.not_started += 1
            self.write(f"[-/{self.total}] {self._title(task)} ... not started: {fail.get_name()}\n")
        if fail.report:
            self.failures.append({"task": task, "exception": fail})

    def skip_uptodate(self, task: Any) -> None:
        if self._counted(task):
            self.done += 1

    def complete_run(self) -> None:
        super().complete_run()
        interrupted = len(self.started)  # started, never ended: Ctrl-C or SIGTERM
        ran = self.ok + self.failed + interrupted
        up_to_date = self.done - ran
        left = self.total - self.done - self.not_started
        parts = [f"{self.ok} ok", f"{self.failed} failed"] + ([f"{interrupted} interrupted"] if interrupted else [])
        extra = [f"{self.not_started} not started (a step they need failed)"] if self.not_started else []
        extra += [f"{left} not reached"] if left > 0 else []
        self.write(
            f"{self.total} tasks: {ran} ran ({', '.join(parts)}), {up_to_date} up to date"
            + "".join(f", {e}" for e in extra)
            + f", in {time.monotonic() - self.begin:.1f} s\n"
        )
        self.write(self._summary_line())

    def _summary_line(self) -> str:
        """Where to read the results, with the counts of the compliance table."""
        try:
            found = status.rows(session.load_plan())
        except (SpecError, InputError):  # the table is a courtesy here; `doit summary` reports any problem
            return "compliance table: doit summary\n"
        return f"compliance table ({status.counts(found)}): doit summary\n"
