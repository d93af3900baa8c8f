"""Every step's action, as doit runs it: a file the machine will not let it write ends the step with one line.

A full disk, a read-only folder or a path too long (:data:`compliance.errors.MACHINE_ERRNOS`) is no bug of the
tool: the step fails with ``<file>: <what the system said>`` on its progress line (:class:`StepFailed`, shown by
:mod:`compliance.pipeline.reporter`) and on stderr, the steps after it do not start (nothing is recorded for a
write that could not be made: the next ``doit`` does the step again), doit exits 2 as for any input the tool cannot
use (:mod:`compliance.errors`), and no traceback is printed. Any other exception is a bug and keeps its traceback.
:func:`compliance.pipeline.entry.task_generators` puts each task's actions under :class:`Step`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import wraps
from typing import Any

from doit.exceptions import TaskError

from compliance import errors


class StepFailed(TaskError):
    """A step the machine stopped; its message is the whole reason (no traceback). doit counts it as an error
    (exit status 2), as it counts the steps it then does not start."""


@dataclass(frozen=True)
class Step:
    """A step's action (a module-level function: picklable for ``doit -n``), run so that what the machine refuses
    fails the step with its reason."""

    function: Callable[..., Any]

    def __call__(self, *args: Any) -> Any:
        try:
            return self.function(*args)
        except OSError as exc:
            why = errors.os_problem(exc)
            if why is None:
                raise
            print(f"error: {why}", file=sys.stderr)  # at once, whatever doit's verbosity
            return StepFailed(why)


def _guarded(action: Any) -> Any:
    """An action of a task dict with its callable under :class:`Step` (shell commands and groups as they are)."""
    if isinstance(action, tuple) and action and callable(action[0]):
        return (Step(action[0]), *action[1:])
    if callable(action) and not isinstance(action, Step):
        return Step(action)
    return action


def guard_tasks(generator: Callable[[], Any]) -> Callable[[], Any]:
    """A doit task generator whose tasks' actions run under :class:`Step`."""

    def guarded(task: Any) -> Any:
        if isinstance(task, dict) and task.get("actions"):
            return {**task, "actions": [_guarded(a) for a in task["actions"]]}
        return task

    @wraps(generator)
    def tasks() -> Any:
        made = generator()
        if isinstance(made, dict):
            return guarded(made)
        return _each(made, guarded)

    return tasks


def _each(made: Iterator[Any], guarded: Callable[[Any], Any]) -> Iterator[Any]:
    for task in made:
        yield guarded(task)
