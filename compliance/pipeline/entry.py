"""The doit entry point of a project, packaged: what a project's ``dodo.py`` holds (the task generators and
``DOIT_CONFIG``), so that ``mlperf-compliance`` runs the pipeline in any project folder, with or without a dodo.py.

A project's dodo.py is two lines (``mlperf-compliance init`` writes them)::

    from compliance.pipeline.entry import dodo_namespace
    globals().update(dodo_namespace())

This module loads nothing heavy when imported: a Ctrl-C while the tasks' modules load and the specs are read (most
of doit's first second) ends with one line and exit status 130 (:func:`compliance.errors.exit_quietly_on_interrupt`
is installed first); what doit does before it reads dodo.py is doit's own.

Layer: the pipeline; doit's loader classes and :mod:`compliance.pipeline.tasks` are all it needs.
"""

from __future__ import annotations

import inspect
import sys
from typing import Any

from doit.cmd_base import NamespaceTaskLoader

from compliance import errors
from compliance.pipeline.steps import guard_tasks


def task_generators() -> dict[str, Any]:
    """Every ``task_*`` generator of :mod:`compliance.pipeline.tasks`, by name (what doit collects from a dodo), each
    task's actions run under :class:`compliance.pipeline.steps.Step` (the machine's refusals are one line)."""
    from compliance.pipeline import tasks  # here, not above: see the module's docstring

    return {
        name: guard_tasks(function)
        for name, function in vars(tasks).items()
        if name.startswith("task_") and inspect.isfunction(function) and function.__module__ == tasks.__name__
    }


def doit_config() -> dict[str, Any]:
    """``DOIT_CONFIG``. Making it loads the specs: invalid specs, and a build folder the machine will not let us
    make, end the process here with every problem listed and exit status 2."""
    errors.exit_quietly_on_interrupt()
    errors.closed_pipe_ends_process()
    from compliance.pipeline import tasks

    try:
        config = tasks.doit_config()
    except (errors.SpecError, errors.InputError) as exc:
        raise SystemExit(errors.report(exc, sys.stderr)) from None
    except OSError as exc:
        why = errors.os_problem(exc)
        if why is None:
            raise
        raise SystemExit(errors.report(errors.InputError(why), sys.stderr)) from None
    return config


def dodo_namespace() -> dict[str, Any]:
    """The names doit looks for in a dodo file: the task generators and ``DOIT_CONFIG`` (made now: a dodo.py is
    imported once doit has read the command line's variables)."""
    errors.exit_quietly_on_interrupt()  # before the tasks' modules load
    return {**task_generators(), "DOIT_CONFIG": doit_config()}


class PackagedTaskLoader(NamespaceTaskLoader):
    """doit's task loader for a project folder without a dodo.py: what its dodo.py would hold, ``DOIT_CONFIG`` made
    when doit asks for it (after it has read the command line's variables, as a dodo.py's import is)."""

    def __init__(self) -> None:
        super().__init__()
        self.namespace = task_generators()

    def load_doit_config(self) -> dict[str, Any]:
        return doit_config()
