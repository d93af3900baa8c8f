"""doit reporter: a line when a task starts and when it ends, and a one-line total.

    [3/45] run demo/resnet/Offline/TEST01 ...
    [3/45] run demo/resnet/Offline/TEST01 ... ok 1.2 s
    [9/45] verify demo/resnet/Offline/TEST04 ... FAILED 0.1 s (see build/demo/resnet/Offline/TEST04/verify/TEST04/verify.json)
    45 tasks: 12 ran (11 ok, 1 failed), 33 up to date, in 14.9 s

Up-to-date tasks count towards k silently (doit's ``-v 2`` shows everything the tasks print). Task output is
captured or shown as doit's verbosity says; the output of failed tasks is printed at the end, as doit does.
"""

from __future__ import annotations

import time
from typing import Any

from doit.reporter import ConsoleReporter

from compliance import status
from compliance.errors import InputError, SpecError
from compliance.pipeline import session


class ProgressReporter(ConsoleReporter):
    desc = "progress lines: [k/N] step cell ... ok 1.2 s"

    def __init__(self, outstream: Any, options: dict):
        super().__init__(outstream, options)
        self.total = 0
        self.done = 0
        self.ran = 0
        self.failed = 0
        self.started: dict[str, tuple[int, float]] = {}
        self.begin = time.monotonic()

    def initialize(self, tasks: dict, selected_tasks: list[str]) -> None:
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
        self.total = sum(1 for name in seen if tasks[name].actions and not name.startswith("_"))

    def _title(self, task: Any) -> str:
        step, _, name = task.name.partition(":")
        return f"{step} {name}" if name else step

    def execute_task(self, task: Any) -> None:
        if not task.actions or task.name.startswith("_"):
            return
        self.done += 1
        self.ran += 1
        self.started[task.name] = (self.done, time.monotonic())
        self.write(f"[{self.done}/{self.total}] {self._title(task)} ...\n")
        self.outstream.flush()

    def _end(self, task: Any, outcome: str) -> None:
        number, start = self.started.pop(task.name, (self.done, time.monotonic()))
        self.write(f"[{number}/{self.total}] {self._title(task)} ... {outcome} {time.monotonic() - start:.1f} s")

    def add_success(self, task: Any) -> None:
        if task.actions and not task.name.startswith("_"):
            self._end(task, "ok")
            self.write("\n")

    def add_failure(self, task: Any, fail: Any) -> None:
        self.failed += 1
        if task.name in self.started:
            self._end(task, "FAILED")
            log = (task.meta or {}).get("log")
            self.write(f" (see {log})\n" if log else "\n")
        else:  # never started: a dependency failed, or doit could not check it
            self.write(f"[-/{self.total}] {self._title(task)} ... not run: {fail.get_name()}\n")
        if fail.report:
            self.failures.append({"task": task, "exception": fail})

    def skip_uptodate(self, task: Any) -> None:
        if task.actions and not task.name.startswith("_"):
            self.done += 1

    def complete_run(self) -> None:
        super().complete_run()
        up_to_date = self.done - self.ran
        self.write(f"{self.total} tasks: {self.ran} ran ({self.ran - self.failed} ok, {self.failed} failed), "
                   f"{up_to_date} up to date, in {time.monotonic() - self.begin:.1f} s\n")
        self.write(self._summary_line())

    def _summary_line(self) -> str:
        """Where to read the results, with the counts of the compliance table."""
        try:
            found = status.rows(session.load_plan())
        except (SpecError, InputError):  # the table is a courtesy here; `doit summary` reports any problem
            return "compliance table: doit summary\n"
        return f"compliance table ({status.counts(found)}): doit summary\n"
