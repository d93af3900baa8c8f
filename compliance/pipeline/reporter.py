"""doit reporter: a line when a task starts and when it ends, progress while it runs, what its harness printed that
matters, and a one-line total that counts right.

    [3/45] run demo/resnet/Offline/TEST01 ...
    [3/45] run demo/resnet/Offline/TEST01 ... ok 1.2 s
    [9/45] verify demo/resnet/Offline/TEST04 ... FAILED 0.1 s: performance: ... (log: build/.../verify.json)
    45 tasks: 12 ran (11 ok, 1 failed), 33 up to date, in 14.9 s
    compliance table (13 PASS, 1 FAIL): doit summary

A step's outcome is the one it recorded (its doit values): a run that failed is FAILED even when doit carries on
to the step that reports it. Tasks never started (a dependency failed, or doit was stopped) and interrupted ones are
counted apart. Up-to-date tasks count towards k silently (doit's ``-v 2`` shows everything the tasks print); the
output of failed tasks is printed at the end, as doit does.

While tasks run, :class:`compliance.pipeline.progress.Ticker` shows each one's elapsed time and expected duration (a
status line redrawn in place on a terminal, a line a minute otherwise); when a run ends, the warnings its harness
printed (each distinct one once per build) and, when it failed, the last lines of its output are shown, from its
``run.log`` (:func:`compliance.pipeline.progress.harness_notes`)::

    [3/45] run demo/resnet/Offline/TEST01 ... FAILED 1.2 s: exit status 2 (log: build/demo/.../run.log)
        | Traceback (most recent call last):
        | ValueError: no such model
"""

from __future__ import annotations

import time
from typing import Any

from doit.reporter import ConsoleReporter

from compliance import records, status
from compliance.errors import InputError, SpecError
from compliance.pipeline import progress, session
from compliance.plan import RunPlan
from compliance.verify.result import Verdict

GREEN, RED, YELLOW, PLAIN = "\x1b[32m", "\x1b[31m", "\x1b[33m", "\x1b[0m"


def _crash(fail: Any) -> str:
    """``: it crashed: <the exception>`` for a step that raised one (its traceback follows at the end), so no failure
    is shown without its reason; "" for a step that failed by its result (it printed why)."""
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
        self.ticker = progress.Ticker(outstream)
        self.colour = progress.colours_wanted(outstream)
        self.since: dict[str, float] = {}  # task -> when it started (wall clock: the output file's mtime is one)
        self.warned: dict[str, int] = {}  # a harness's warning -> how many runs gave it
        self._runs: dict[str, RunPlan] | None = None

    def write(self, text: str) -> None:
        self.ticker.write(text)

    def _paint(self, word: str, colour: str) -> str:
        return f"{colour}{word}{PLAIN}" if self.colour else word

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
        self.ticker.begin()

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
        self.since[task.name] = time.time()
        self.ticker.start(task.name, self._title(task), self._expected(task.name))
        self.write(f"[{self.done}/{self.total}] {self._title(task)} ...\n")

    def _expected(self, name: str) -> progress.Expected | None:
        """What a run or reference task is expected to take (its previous run, its LoadGen settings)."""
        if self._runs is None:
            try:
                plan = session.load_plan()
            except (SpecError, InputError):
                plan = None
            self._runs = {f"run:{cp.cell.id}": cp.run for cp in plan.cells} if plan else {}
            self._runs.update({f"reference:{ref.id}": ref.run for ref in plan.references} if plan else {})
        run = self._runs.get(name)
        return None if run is None else progress.expected(run, records.read_run(run).record)

    def _end(self, task: Any, outcome: str) -> None:
        self.ticker.stop(task.name)
        number, start = self.started.pop(task.name, (self.done, time.monotonic()))
        colour = GREEN if outcome == "ok" else RED
        took = time.monotonic() - start
        self.write(f"[{number}/{self.total}] {self._title(task)} ... {self._paint(outcome, colour)} {took:.1f} s")

    def _harness(self, task: Any, failed: bool) -> None:
        """What the task's harness printed that matters: new warnings, and its last lines when it failed."""
        meta = task.meta or {}
        # a run's log is its command's output; a verify task names the output of the run a retry may start
        output = meta.get("output") or (meta.get("log") if task.name.split(":")[0] in ("run", "reference") else None)
        if not output:
            return
        notes = progress.harness_notes(output, self.since.pop(task.name, 0.0), tail=failed)
        new = [w for w in notes.warnings if w not in self.warned]
        for warning in notes.warnings:
            self.warned[warning] = self.warned.get(warning, 0) + 1
        for warning in new:
            self.write(f"    {self._paint('warning', YELLOW)} ({self._title(task)}): {warning}\n")
        if new and notes.more_warnings:
            self.write(f"    ({notes.more_warnings} other warnings: {output})\n")
        if failed and notes.tail:
            self.write(f"    the last lines of {output}:\n" + "".join(f"    | {line}\n" for line in notes.tail))

    def add_success(self, task: Any) -> None:
        if not self._counted(task):
            return
        values = task.values or {}
        if values.get("outcome") == Verdict.FAIL:  # recorded for the next step of the cell to report
            self.failed += 1
            self._end(task, "FAILED")
            log = (task.meta or {}).get("log")
            self.write(f": {values.get('reason', '')}" + (f" (log: {log})\n" if log else "\n"))
            self._harness(task, failed=True)
            return
        self.ok += 1
        self._end(task, "ok")
        self.write("\n")
        self._harness(task, failed=False)

    def add_failure(self, task: Any, fail: Any) -> None:
        if not self._counted(task) and (task.meta or {}).get("verdict"):
            self.failures.append({"task": task, "exception": fail})
            return
        if task.name in self.started:
            self.failed += 1
            self._end(task, "FAILED")
            log = (task.meta or {}).get("log")
            self.write(_crash(fail) + (f" (log: {log})\n" if log else "\n"))
            self._harness(task, failed=True)
        else:  # never started: a dependency failed, or doit could not check it
            self.not_started += 1
            self.write(f"[-/{self.total}] {self._title(task)} ... not started: {fail.get_name()}\n")
        if fail.report:
            self.failures.append({"task": task, "exception": fail})

    def skip_uptodate(self, task: Any) -> None:
        if self._counted(task):
            self.done += 1

    def complete_run(self) -> None:
        self.ticker.end()
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
        repeated = {w: n for w, n in self.warned.items() if n > 1}
        for warning, runs in repeated.items():
            self.write(f"the same harness warning came from {runs} runs (shown once above): {warning}\n")
        self.write(self._summary_line())

    def _summary_line(self) -> str:
        """Where to read the results, with the counts of the compliance table."""
        try:
            found = status.rows(session.load_plan())
        except (SpecError, InputError):  # the table is a courtesy here; `doit summary` reports any problem
            return "compliance table: doit summary\n"
        return f"compliance table ({status.counts(found)}): doit summary\n"
