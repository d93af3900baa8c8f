"""The doit entry point of a project, packaged: what a project's ``dodo.py`` holds (the task generators and
``DOIT_CONFIG``), so that ``mlperf-compliance`` runs the pipeline in any project folder, with or without a dodo.py.

A project's dodo.py is two lines (``mlperf-compliance init`` writes them)::

    from compliance.pipeline.entry import dodo_namespace
    globals().update(dodo_namespace())

Layer: the pipeline; doit's loader classes and :mod:`compliance.pipeline.tasks` are all it needs.
"""

from __future__ import annotations

import inspect
import sys
from typing import Any

from doit.cmd_base import NamespaceTaskLoader

from compliance import errors
from compliance.pipeline import tasks


def task_generators() -> dict[str, Any]:
    """Every ``task_*`` generator of :mod:`compliance.pipeline.tasks`, by name (what doit collects from a dodo)."""
    return {
        name: function
        for name, function in vars(tasks).items()
        if name.startswith("task_") and inspect.isfunction(function) and function.__module__ == tasks.__name__
    }


def doit_config() -> dict[str, Any]:
    """``DOIT_CONFIG``. Making it loads the specs: invalid specs end the process here with every problem listed and
    exit status 2; Ctrl-C and SIGTERM from here on end with one line (:mod:`compliance.errors`)."""
    try:
        config = tasks.doit_config()
    except (errors.SpecError, errors.InputError) as exc:
        raise SystemExit(errors.report(exc, sys.stderr)) from None
    errors.exit_quietly_on_interrupt()
    return config


def dodo_namespace() -> dict[str, Any]:
    """The names doit looks for in a dodo file: the task generators and ``DOIT_CONFIG`` (made now: a dodo.py is
    imported once doit has read the command line's variables)."""
    return {**task_generators(), "DOIT_CONFIG": doit_config()}


class PackagedTaskLoader(NamespaceTaskLoader):
    """doit's task loader for a project folder without a dodo.py: what its dodo.py would hold, ``DOIT_CONFIG`` made
    when doit asks for it (after it has read the command line's variables, as a dodo.py's import is)."""

    def __init__(self) -> None:
        super().__init__()
        self.namespace = task_generators()

    def load_doit_config(self) -> dict[str, Any]:
        return doit_config()
